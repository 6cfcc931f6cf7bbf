/* test_auth: Basic and Digest authentication.
 *  - Basic: curl with CURLAUTH_BASIC; the challenge header's exact form.
 *  - Digest: curl with CURLAUTH_DIGEST (MD5); a raw client computing the
 *    response itself (OpenSSL's libcrypto) for SHA-256 through
 *    MHD_digest_auth_check2 / MHD_digest_auth_check_digest2 and MD5 through
 *    MHD_digest_auth_check_digest; wrong password, replayed nonce count,
 *    stale nonces (tampered, other URL, other daemon random, timed out)
 *    answered with stale="true"; MHD_OPTION_NONCE_NC_SIZE (eviction, 0). */
#include "common.h"
#include <openssl/evp.h>

#define REALM "Test Realm"
#define OPAQUE "0paque"

static volatile int last_rc;         /* result of the last check */
static volatile int last_queue;      /* result of the last fail response */
static char last_user[256];          /* MHD_digest_auth_get_username */

static void
hexhash (const EVP_MD *md, const char *s, char *out)
{
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  unsigned int i;
  EVP_Digest (s, strlen (s), d, &n, md, NULL);
  for (i = 0; i < n; i++)
    sprintf (out + 2 * i, "%02x", d[i]);
  out[2 * n] = '\0';
}

static void
binhash (const EVP_MD *md, const char *s, unsigned char *out)
{
  unsigned int n = 0;
  EVP_Digest (s, strlen (s), out, &n, md, NULL);
}

static enum MHD_Result
reply_rc (struct MHD_Connection *c, int rc, int sha, int fail_ok)
{
  struct MHD_Response *r;
  enum MHD_Result q;
  char body[32];
  ATOMIC_SET (&last_rc, rc);
  snprintf (body, sizeof (body), "rc=%d", rc);
  if ((MHD_YES == rc) || fail_ok)
    return test_reply (c, MHD_HTTP_OK, body);
  r = MHD_create_response_from_buffer (strlen (body), body,
                                       MHD_RESPMEM_MUST_COPY);
  if (sha)
    q = MHD_queue_auth_fail_response2 (c, REALM, OPAQUE, r,
                                       (MHD_INVALID_NONCE == rc) ? MHD_YES : MHD_NO,
                                       MHD_DIGEST_ALG_SHA256);
  else
    q = MHD_queue_auth_fail_response (c, REALM, OPAQUE, r,
                                      (MHD_INVALID_NONCE == rc) ? MHD_YES : MHD_NO);
  ATOMIC_SET (&last_queue, (int) q);
  MHD_destroy_response (r);
  return q;
}

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  static int marker;
  (void) cls;
  (void) method;
  (void) version;
  (void) upload;
  (void) upload_size;
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (0 == strcmp (url, "/basic"))
  {
    char *pw = NULL;
    char *u = MHD_basic_auth_get_username_password (c, &pw);
    int ok = (NULL != u) && (NULL != pw) && (0 == strcmp (u, "user"))
             && (0 == strcmp (pw, "pass"));
    if (NULL != u)
      MHD_free (u);
    if (NULL != pw)
      MHD_free (pw);
    if (ok)
      return test_reply (c, MHD_HTTP_OK, "welcome");
    {
      struct MHD_Response *r = MHD_create_response_from_buffer (6, "denied",
                                                                MHD_RESPMEM_PERSISTENT);
      enum MHD_Result q = MHD_queue_basic_auth_fail_response (c, REALM, r);
      MHD_destroy_response (r);
      return q;
    }
  }
  if (0 == strcmp (url, "/basic-user"))
  {
    char *u = MHD_basic_auth_get_username_password (c, NULL);
    enum MHD_Result q = test_reply (c, MHD_HTTP_OK, u ? u : "(none)");
    if (NULL != u)
      MHD_free (u);
    return q;
  }
  {
    char *u = MHD_digest_auth_get_username (c);
    snprintf (last_user, sizeof (last_user), "%s", u ? u : "(none)");
    if (NULL != u)
      MHD_free (u);
  }
  if (0 == strncmp (url, "/md5d", 5))
  {
    unsigned char d[16];
    binhash (EVP_md5 (), "user:" REALM ":pass", d);
    return reply_rc (c, MHD_digest_auth_check_digest (c, REALM, "user", d, 300),
                     0, 0);
  }
  if (0 == strncmp (url, "/shad", 5))
  {
    unsigned char d[32];
    binhash (EVP_sha256 (), "user:" REALM ":pass", d);
    return reply_rc (c, MHD_digest_auth_check_digest2 (c, REALM, "user", d, 32,
                                                       300, MHD_DIGEST_ALG_SHA256),
                     1, 0);
  }
  if (0 == strncmp (url, "/sha", 4))
    return reply_rc (c, MHD_digest_auth_check2 (c, REALM, "user", "pass", 300,
                                                MHD_DIGEST_ALG_SHA256), 1, 0);
  if (0 == strncmp (url, "/timeout", 8))
    return reply_rc (c, MHD_digest_auth_check (c, REALM, "user", "pass", 1), 0,
                     0);
  /* MD5 with MHD_digest_auth_check (the deprecated default) */
  return reply_rc (c, MHD_digest_auth_check (c, REALM, "user", "pass", 300), 0,
                   0);
}

/* ------------------------------------------------------------------ */

static void
test_basic (uint16_t port)
{
  struct curl_req rq;
  struct curl_res rs;
  char v[256];
  CURL *c;
  static const char *lower[] = { "Authorization: basic dXNlcjpwYXNz", NULL };
  static const char *nocolon[] = { "Authorization: Basic dXNlcg==", NULL };
  static const char *emptyuser[] = { "Authorization: Basic OnB3", NULL };

  memset (&rq, 0, sizeof (rq));
  rq.url_path = "/basic";
  /* no credentials: 401 and the challenge */
  CHECK (curl_do (port, &rq, &rs));
  CHECK_INT (401, rs.status);
  CHECK (curl_res_header (&rs, "WWW-Authenticate", v, sizeof (v)));
  CHECK_STR ("Basic realm=\"" REALM "\"", v);
  CHECK_STR ("denied", rs.body.data);
  curl_res_free (&rs);
  /* right and wrong password through curl */
  c = curl_setup (port, &rq, &rs);
  SETUP_CHECK (NULL != c);
  curl_easy_setopt (c, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
  curl_easy_setopt (c, CURLOPT_USERPWD, "user:pass");
  CHECK_INT (CURLE_OK, curl_easy_perform (c));
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &rs.status);
  curl_teardown (c);
  CHECK_INT (200, rs.status);
  CHECK_STR ("welcome", rs.body.data);
  curl_res_free (&rs);
  c = curl_setup (port, &rq, &rs);
  SETUP_CHECK (NULL != c);
  curl_easy_setopt (c, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
  curl_easy_setopt (c, CURLOPT_USERPWD, "user:wrong");
  CHECK_INT (CURLE_OK, curl_easy_perform (c));
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &rs.status);
  curl_teardown (c);
  CHECK_INT (401, rs.status);
  curl_res_free (&rs);
  /* the scheme name is case-sensitive; a ':' is needed */
  rq.headers = lower;
  CHECK (curl_do (port, &rq, &rs));
  CHECK_INT (401, rs.status);
  curl_res_free (&rs);
  rq.url_path = "/basic-user";
  rq.headers = nocolon;
  CHECK (curl_do (port, &rq, &rs));
  CHECK_STR ("(none)", rs.body.data);
  curl_res_free (&rs);
  rq.headers = emptyuser;
  CHECK (curl_do (port, &rq, &rs));
  CHECK_STR ("", rs.body.data);
  curl_res_free (&rs);
  rq.headers = NULL;
  c = curl_setup (port, &rq, &rs);
  SETUP_CHECK (NULL != c);
  curl_easy_setopt (c, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
  curl_easy_setopt (c, CURLOPT_USERPWD, "some one:p:w");
  CHECK_INT (CURLE_OK, curl_easy_perform (c));
  curl_teardown (c);
  CHECK_STR ("some one", rs.body.data);
  curl_res_free (&rs);
}

static long
curl_digest (uint16_t port, const char *path, const char *userpwd)
{
  struct curl_req rq;
  struct curl_res rs;
  long status = 0;
  CURL *c;
  memset (&rq, 0, sizeof (rq));
  rq.url_path = path;
  c = curl_setup (port, &rq, &rs);
  SETUP_CHECK (NULL != c);
  curl_easy_setopt (c, CURLOPT_HTTPAUTH, (long) CURLAUTH_DIGEST);
  curl_easy_setopt (c, CURLOPT_USERPWD, userpwd);
  CHECK_INT (CURLE_OK, curl_easy_perform (c));
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  curl_teardown (c);
  curl_res_free (&rs);
  return status;
}

/* One raw GET; returns the status, copies WWW-Authenticate (or "") into www. */
static int
raw_get (uint16_t port, const char *path, const char *authz, char *www,
         size_t wwwlen)
{
  char req[2048];
  struct http_resp r;
  int status = -1;
  snprintf (req, sizeof (req),
            "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s%s%s\r\n",
            path, authz ? "Authorization: " : "", authz ? authz : "",
            authz ? "\r\n" : "");
  if (NULL != www)
    www[0] = '\0';
  if (raw_request (port, req, strlen (req), 0, &r, NULL, 0))
  {
    const char *h = http_resp_header (&r, "WWW-Authenticate");
    status = r.status;
    if ((NULL != h) && (NULL != www))
      snprintf (www, wwwlen, "%s", h);
    http_resp_free (&r);
  }
  return status;
}

/* The nonce of a challenge (empty if none). */
static void
get_nonce (const char *www, char *nonce, size_t len)
{
  const char *p = strstr (www, "nonce=\"");
  const char *e;
  nonce[0] = '\0';
  if (NULL == p)
    return;
  p += 7;
  e = strchr (p, '"');
  if ((NULL == e) || ((size_t) (e - p) >= len))
    return;
  memcpy (nonce, p, (size_t) (e - p));
  nonce[e - p] = '\0';
}

static void
authz (const EVP_MD *md, const char *nonce, const char *uri, const char *nc,
       const char *pw, char *out, size_t outlen)
{
  char a1[512], ha1[129], a2[512], ha2[129], all[1024], resp[129];
  snprintf (a1, sizeof (a1), "user:" REALM ":%s", pw);
  hexhash (md, a1, ha1);
  snprintf (a2, sizeof (a2), "GET:%s", uri);
  hexhash (md, a2, ha2);
  snprintf (all, sizeof (all), "%s:%s:%s:c0ffee:auth:%s", ha1, nonce, nc, ha2);
  hexhash (md, all, resp);
  snprintf (out, outlen,
            "Digest username=\"user\", realm=\"" REALM "\", nonce=\"%s\", uri=\"%s\", "
            "cnonce=\"c0ffee\", nc=%s, qop=auth, response=\"%s\", opaque=\"" OPAQUE "\", "
            "algorithm=%s",
            nonce, uri, nc, resp, (md == EVP_md5 ()) ? "MD5" : "SHA-256");
}

static void
test_digest_curl (uint16_t port)
{
  char www[512];
  char nonce[256];
  CHECK_INT (200, curl_digest (port, "/md5", "user:pass"));
  CHECK_STR ("user", last_user);
  CHECK_INT (MHD_YES, last_rc);
  CHECK_INT (401, curl_digest (port, "/md5", "user:wrong"));
  CHECK_INT (MHD_NO, last_rc);
  CHECK_INT (401, curl_digest (port, "/md5", "other:pass"));
  CHECK_STR ("other", last_user);
  /* with GET arguments in the URI */
  CHECK_INT (200, curl_digest (port, "/md5/dir?a=b&c=d%20e&f", "user:pass"));
  /* the challenge, exactly */
  CHECK_INT (401, raw_get (port, "/md5", NULL, www, sizeof (www)));
  get_nonce (www, nonce, sizeof (nonce));
  CHECK_INT (40, strlen (nonce));
  {
    char exp[512];
    snprintf (exp, sizeof (exp),
              "Digest realm=\"" REALM "\",qop=\"auth\",nonce=\"%s\",opaque=\"" OPAQUE
              "\",algorithm=md5", nonce);
    CHECK_STR (exp, www);
  }
  CHECK_STR ("(none)", last_user);
}

static void
test_digest_raw (uint16_t port, struct MHD_Daemon *other, int slow)
{
  char www[512], nonce[256], n2[256], a[1024];
  char exp[512];
  /* SHA-256 challenge */
  CHECK_INT (401, raw_get (port, "/sha", NULL, www, sizeof (www)));
  get_nonce (www, nonce, sizeof (nonce));
  CHECK_INT (72, strlen (nonce));
  snprintf (exp, sizeof (exp),
            "Digest realm=\"" REALM "\",qop=\"auth\",nonce=\"%s\",opaque=\"" OPAQUE
            "\",algorithm=sha-256", nonce);
  CHECK_STR (exp, www);
  authz (EVP_sha256 (), nonce, "/sha", "00000001", "pass", a, sizeof (a));
  CHECK_INT (200, raw_get (port, "/sha", a, NULL, 0));
  CHECK_INT (MHD_YES, last_rc);
  /* replayed nonce count: refused, not stale */
  CHECK_INT (401, raw_get (port, "/sha", a, www, sizeof (www)));
  CHECK_INT (MHD_NO, last_rc);
  CHECK (NULL == strstr (www, "stale"));
  authz (EVP_sha256 (), nonce, "/sha", "00000002", "pass", a, sizeof (a));
  CHECK_INT (200, raw_get (port, "/sha", a, NULL, 0));
  authz (EVP_sha256 (), nonce, "/sha", "00000003", "bad", a, sizeof (a));
  CHECK_INT (401, raw_get (port, "/sha", a, NULL, 0));
  CHECK_INT (MHD_NO, last_rc);
  /* the application chose SHA-256: an MD5 response is simply wrong */
  authz (EVP_md5 (), nonce, "/sha", "00000004", "pass", a, sizeof (a));
  CHECK_INT (401, raw_get (port, "/sha", a, NULL, 0));
  CHECK_INT (MHD_NO, last_rc);
  /* a SHA-256 nonce where MD5 is checked was not made by the server */
  authz (EVP_md5 (), nonce, "/md5", "00000001", "pass", a, sizeof (a));
  CHECK_INT (401, raw_get (port, "/md5", a, NULL, 0));
  CHECK_INT (MHD_INVALID_NONCE, last_rc);
  /* tampered nonce: stale="true" in the new challenge */
  snprintf (n2, sizeof (n2), "%s", nonce);
  n2[0] = (n2[0] == '0') ? '1' : '0';
  authz (EVP_sha256 (), n2, "/sha", "00000005", "pass", a, sizeof (a));
  CHECK_INT (401, raw_get (port, "/sha", a, www, sizeof (www)));
  CHECK_INT (MHD_INVALID_NONCE, last_rc);
  CHECK (NULL != strstr (www, ",stale=\"true\""));
  CHECK (NULL != strstr (www, "algorithm=sha-256"));
  /* a nonce made for another URL */
  authz (EVP_sha256 (), nonce, "/sha/other", "00000006", "pass", a, sizeof (a));
  CHECK_INT (401, raw_get (port, "/sha/other", a, NULL, 0));
  CHECK_INT (MHD_INVALID_NONCE, last_rc);
  /* the uri parameter must be the request's */
  authz (EVP_sha256 (), nonce, "/sha/other", "00000007", "pass", a, sizeof (a));
  CHECK_INT (401, raw_get (port, "/sha", a, NULL, 0));
  CHECK_INT (MHD_NO, last_rc);
  /* precomputed H(user:realm:pass), SHA-256 and MD5 */
  CHECK_INT (401, raw_get (port, "/shad", NULL, www, sizeof (www)));
  get_nonce (www, nonce, sizeof (nonce));
  authz (EVP_sha256 (), nonce, "/shad", "00000001", "pass", a, sizeof (a));
  CHECK_INT (200, raw_get (port, "/shad", a, NULL, 0));
  CHECK_INT (401, raw_get (port, "/md5d", NULL, www, sizeof (www)));
  get_nonce (www, nonce, sizeof (nonce));
  authz (EVP_md5 (), nonce, "/md5d", "00000001", "pass", a, sizeof (a));
  CHECK_INT (200, raw_get (port, "/md5d", a, NULL, 0));
  /* another daemon (other MHD_OPTION_DIGEST_AUTH_RANDOM) did not make it */
  if (NULL != other)
  {
    authz (EVP_md5 (), nonce, "/md5d", "00000002", "pass", a, sizeof (a));
    CHECK_INT (401, raw_get (test_daemon_port (other), "/md5d", a, www,
                             sizeof (www)));
    CHECK_INT (MHD_INVALID_NONCE, last_rc);
    CHECK (NULL != strstr (www, "stale=\"true\""));
  }
  /* a nonce older than the timeout */
  if (slow)
  {
    CHECK_INT (401, raw_get (port, "/timeout", NULL, www, sizeof (www)));
    get_nonce (www, nonce, sizeof (nonce));
    authz (EVP_md5 (), nonce, "/timeout", "00000001", "pass", a, sizeof (a));
    CHECK_INT (200, raw_get (port, "/timeout", a, NULL, 0));
    test_sleep_ms (2100);
    authz (EVP_md5 (), nonce, "/timeout", "00000002", "pass", a, sizeof (a));
    CHECK_INT (401, raw_get (port, "/timeout", a, www, sizeof (www)));
    CHECK_INT (MHD_INVALID_NONCE, last_rc);
    CHECK (NULL != strstr (www, "stale=\"true\""));
  }
}

static void
test_nonce_table (void)
{
  struct MHD_Daemon *d;
  char www[512], n1[256], n2[256], a[1024];
  uint16_t port;
  /* one slot: a second nonce evicts the first (and every challenge
   * registers a new nonce) */
  d = START_DAEMON (0, handler, NULL, MHD_OPTION_NONCE_NC_SIZE, 1,
                    MHD_OPTION_DIGEST_AUTH_RANDOM, (size_t) 6, "random",
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  CHECK_INT (401, raw_get (port, "/sha/1", NULL, www, sizeof (www)));
  get_nonce (www, n1, sizeof (n1));
  CHECK_INT (401, raw_get (port, "/sha/2", NULL, www, sizeof (www)));
  get_nonce (www, n2, sizeof (n2));
  authz (EVP_sha256 (), n2, "/sha/2", "00000001", "pass", a, sizeof (a));
  CHECK_INT (200, raw_get (port, "/sha/2", a, NULL, 0));
  authz (EVP_sha256 (), n1, "/sha/1", "00000001", "pass", a, sizeof (a));
  CHECK_INT (401, raw_get (port, "/sha/1", a, www, sizeof (www)));
  CHECK_INT (MHD_NO, last_rc);
  CHECK (NULL == strstr (www, "stale"));
  test_stop_daemon (d);
  /* no slots: no challenge can be made */
  d = START_DAEMON (0, handler, NULL, MHD_OPTION_NONCE_NC_SIZE, 0,
                    MHD_OPTION_END);
  ATOMIC_SET (&last_queue, 99);
  CHECK_INT (-1, raw_get (test_daemon_port (d), "/md5", NULL, NULL, 0));
  CHECK_INT (MHD_NO, last_queue);
  test_stop_daemon (d);
}

static void
run (void)
{
  struct MHD_Daemon *d, *d2;
  static int first = 1;
  CHECK_INT (MHD_YES, MHD_is_feature_supported (MHD_FEATURE_BASIC_AUTH));
  CHECK_INT (MHD_YES, MHD_is_feature_supported (MHD_FEATURE_DIGEST_AUTH));
  d = START_DAEMON (0, handler, NULL, MHD_OPTION_DIGEST_AUTH_RANDOM,
                    (size_t) 4, "abcd", MHD_OPTION_NONCE_NC_SIZE, 100,
                    MHD_OPTION_END);
  d2 = START_DAEMON (0, handler, NULL, MHD_OPTION_DIGEST_AUTH_RANDOM,
                     (size_t) 4, "wxyz", MHD_OPTION_END);
  test_basic (test_daemon_port (d));
  test_digest_curl (test_daemon_port (d));
  /* the 2-second timeout check runs in the first mode only */
  test_digest_raw (test_daemon_port (d), d2, first);
  first = 0;
  test_stop_daemon (d2);
  test_stop_daemon (d);
  test_nonce_table ();
}

int
main (void)
{
  return test_run_modes ("test_auth", run);
}
