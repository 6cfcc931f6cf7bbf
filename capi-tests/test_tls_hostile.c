/*
 * capi-tests/test_tls_hostile.c -- garbage and truncated TLS handshakes
 * leave an HTTPS daemon serving, in every mode.
 *
 * The daemon has MHD_OPTION_CONNECTION_TIMEOUT 1 s and counts its live
 * connections in the MHD_OPTION_NOTIFY_CONNECTION callback.  Cases (each
 * followed by a real OpenSSL client that must get "200 ok", the
 * connection count back to 0 and the process's fd count back to its value
 * after the start):
 * - random bytes instead of a ClientHello (several sizes, seeded; one of
 *   them behind a valid-looking TLS record header);
 * - a real ClientHello cut off halfway, then close;
 * - a real ClientHello cut off halfway, then silence: closed by the
 *   timeout;
 * - a whole ClientHello, then silence (the server's flight unread): closed
 *   by the timeout, and while it sits there another client is served;
 * - a plain HTTP request to the HTTPS port: no HTTP answer, closed;
 * - an OpenSSL client that reads the server's flight and then gives up
 *   (closes; or sends half of its second flight and goes silent);
 * - all of the above at once (six of each), then the real client;
 * - the default suites: a TLS 1.2 client offering only CBC suites, or only
 *   the RSA key exchange, fails the handshake (ours: forward-secret AEAD
 *   only; Debian's GnuTLS NORMAL accepts them, a DIFF).
 * test_tls.c has the basic cases (plain HTTP, a fixed garbage pattern,
 * nothing sent); this program is about their variants and their slots.
 */
#include "common.h"

#include <errno.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include <openssl/err.h>

#ifndef CAPI_TLS_DIR
#define CAPI_TLS_DIR "tls"
#endif

static char *pem_chain, *pem_key;
static char path_ca[512];
static volatile int n_calls;

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  static int marker;
  (void) cls; (void) url; (void) method; (void) version; (void) upload;
  (void) upload_size;
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    ATOMIC_INC (&n_calls);
    return MHD_YES;
  }
  return test_reply (c, MHD_HTTP_OK, "ok");
}

/* ------------------------------------------------------------------ */
/* Clients                                                             */
/* ------------------------------------------------------------------ */

static SSL_CTX *
client_ctx (void)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
  SETUP_CHECK (NULL != ctx);
  SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION);
  SETUP_CHECK (1 == SSL_CTX_load_verify_locations (ctx, path_ca, NULL));
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
  return ctx;
}

/* A real client: handshake (certificate verified), GET, read to the close;
 * 1 when the answer is 200 with the body "ok". */
static int
tls_get (uint16_t port)
{
  SSL_CTX *ctx = client_ctx ();
  SSL *ssl;
  struct buf b;
  char tmp[4096];
  int fd, ok = 0;
  static const char req[] =
    "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  ssl = SSL_new (ctx);
  SSL_set_fd (ssl, fd);
  SSL_set_tlsext_host_name (ssl, "localhost");
  buf_init (&b);
  if ((1 == SSL_connect (ssl)) &&
      ((int) strlen (req) == SSL_write (ssl, req, (int) strlen (req))))
  {
    int n;
    while ((n = SSL_read (ssl, tmp, sizeof (tmp))) > 0)
      buf_append (&b, tmp, (size_t) n);
    if (b.len > 0)
    {
      struct http_resp r;
      if (1 == http_parse_response (b.data, b.len, 0, 1, &r))
      {
        ok = (200 == r.status) && (0 == strcmp ("ok", r.body.data));
        http_resp_free (&r);
      }
    }
  }
  ERR_clear_error ();
  buf_free (&b);
  SSL_free (ssl);
  SSL_CTX_free (ctx);
  close (fd);
  return ok;
}

/* A TLS 1.2 client offering only the given cipher list: 1 when the
 * handshake succeeds. */
static int
tls12_handshake (uint16_t port, const char *ciphers)
{
  SSL_CTX *ctx = client_ctx ();
  SSL *ssl;
  int fd, ok;
  SSL_CTX_set_max_proto_version (ctx, TLS1_2_VERSION);
  SETUP_CHECK (1 == SSL_CTX_set_cipher_list (ctx, ciphers));
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  ssl = SSL_new (ctx);
  SSL_set_fd (ssl, fd);
  SSL_set_tlsext_host_name (ssl, "localhost");
  ok = (1 == SSL_connect (ssl));
  if (ok)
    SSL_shutdown (ssl);
  ERR_clear_error ();
  SSL_free (ssl);
  SSL_CTX_free (ctx);
  close (fd);
  return ok;
}

/* A client driven through memory BIOs, so that the test decides what of
 * its handshake reaches the socket. */
struct mb
{
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *rbio;   /* bytes from the server, for OpenSSL */
  BIO *wbio;   /* bytes OpenSSL wants sent */
};

static void
mb_init (struct mb *m)
{
  m->ctx = client_ctx ();
  m->ssl = SSL_new (m->ctx);
  m->rbio = BIO_new (BIO_s_mem ());
  m->wbio = BIO_new (BIO_s_mem ());
  SETUP_CHECK ((NULL != m->ssl) && (NULL != m->rbio) && (NULL != m->wbio));
  SSL_set_bio (m->ssl, m->rbio, m->wbio);
  SSL_set_tlsext_host_name (m->ssl, "localhost");
  SSL_set_connect_state (m->ssl);
}

static void
mb_free (struct mb *m)
{
  ERR_clear_error ();
  SSL_free (m->ssl);   /* frees both BIOs */
  SSL_CTX_free (m->ctx);
}

/* Run the handshake as far as it goes; what it wants sent goes to out. */
static void
mb_step (struct mb *m, struct buf *out)
{
  char tmp[16384];
  int n;
  SSL_do_handshake (m->ssl);
  while ((n = BIO_read (m->wbio, tmp, sizeof (tmp))) > 0)
    buf_append (out, tmp, (size_t) n);
}

/* A fresh, complete ClientHello. */
static void
client_hello (struct buf *out)
{
  struct mb m;
  mb_init (&m);
  buf_init (out);
  mb_step (&m, out);
  SETUP_CHECK (out->len > 40);
  mb_free (&m);
}

/* Read the server's first flight (TLS 1.3: up to Finished; TLS 1.2: up to
 * ServerHelloDone) into the client until the client has its answer. */
static int
mb_read_server_flight (struct mb *m, int fd, struct buf *answer)
{
  uint64_t end = test_now_ms () + RAW_TIMEOUT_MS;
  while ((0 == answer->len) && (test_now_ms () < end))
  {
    struct buf in;
    ssize_t n;
    buf_init (&in);
    n = raw_read_some (fd, &in, 1000);
    if ((0 == n) || (-1 == n))
    {
      buf_free (&in);
      return 0;
    }
    if (n > 0)
    {
      BIO_write (m->rbio, in.data, (int) in.len);
      mb_step (m, answer);
    }
    buf_free (&in);
  }
  return answer->len > 0;
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

static uint32_t rng_state = 0x9e3779b9u;

static uint32_t
rng (void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

struct ctx
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fds_start;
};

/* After a hostile client: a real client is served, no slot and no fd is
 * left behind. */
static void
after (struct ctx *c, const char *what)
{
  int now = -1;
  int live;
  CHECK_MSG (tls_get (c->port), "%s: a real TLS client was not served "
             "afterwards", what);
  if (test_ref_tpc () && ! test_wait_connections (c->d, 0, 1000))
  {
    test_diff ("thread per connection: the connection count does not drop "
               "within 1 s after a client closed");
    return;
  }
  CHECK_MSG (test_wait_connections (c->d, 0, 5000), "%s: %d connections "
             "left", what, test_current_connections (c->d));
  live = ATOMIC_GET (&test_conns_started) - ATOMIC_GET (&test_conns_closed);
  CHECK_MSG (0 == live, "%s: notify callback: %d live", what, live);
  now = test_wait_fds (c->fds_start, 5000);
  CHECK_MSG (now <= c->fds_start, "%s: %d fds open, %d after the start",
             what, now, c->fds_start);
}

/* Sends data on a new connection (then shuts the write side when
 * half_close); the fd. */
static int
hostile_send (struct ctx *c, const void *data, size_t len, int half_close)
{
  int fd = raw_connect (c->port);
  SETUP_CHECK (fd >= 0);
  if (len > 0)
    raw_send (fd, data, len);
  if (half_close)
    shutdown (fd, SHUT_WR);
  return fd;
}

/* Waits for the server to close fd (no HTTP answer), then closes it. */
static void
expect_closed_fd (int fd, const char *what)
{
  struct buf got;
  buf_init (&got);
  CHECK_MSG (raw_wait_closed (fd, &got, 5000), "%s: not closed within 5 s "
             "(timeout 1 s)", what);
  CHECK_MSG ((0 == got.len) || (NULL == strstr (got.data, "HTTP/1.")),
             "%s: an HTTP answer on the TLS port", what);
  buf_free (&got);
  close (fd);
}

static void
expect_closed (struct ctx *c, const char *what, const void *data, size_t len,
               int half_close)
{
  expect_closed_fd (hostile_send (c, data, len, half_close), what);
}

static void
case_random (struct ctx *c)
{
  static const size_t sizes[] = { 1, 5, 64, 517, 16384 + 5, 70000 };
  enum { N = sizeof (sizes) / sizeof (sizes[0]) };
  unsigned char *junk = malloc (70000);
  int fds[N + 1];
  size_t i, j;
  int before = ATOMIC_GET (&n_calls);
  SETUP_CHECK (NULL != junk);
  /* all at once, so that the ones the server waits on time out together */
  for (i = 0; i < N; i++)
  {
    for (j = 0; j < sizes[i]; j++)
      junk[j] = (unsigned char) rng ();
    fds[i] = hostile_send (c, junk, sizes[i], 0);
  }
  /* a handshake record header, then random bytes as its body */
  for (j = 0; j < 600; j++)
    junk[j] = (unsigned char) rng ();
  memcpy (junk, "\x16\x03\x01\x02\x50\x01\x00\x02\x4c\x03\x03", 11);
  fds[N] = hostile_send (c, junk, 600, 0);
  for (i = 0; i <= N; i++)
    expect_closed_fd (fds[i], (i < N) ? "random bytes"
                      : "random ClientHello body");
  free (junk);
  CHECK_INT (before, ATOMIC_GET (&n_calls));
  after (c, "random bytes");
}

static void
case_cut_hello (struct ctx *c)
{
  struct buf hello;
  uint64_t t0, dt;
  client_hello (&hello);
  /* cut halfway, then close: the server notices the close */
  {
    int fd = raw_connect (c->port);
    SETUP_CHECK (fd >= 0);
    raw_send (fd, hello.data, hello.len / 2);
    close (fd);
  }
  after (c, "half a ClientHello, then close");
  /* cut halfway, then silence: the timeout closes it; and half, then the
     write side shut: closed at once or by the timeout */
  {
    int silent = hostile_send (c, hello.data, hello.len / 2, 0);
    int fin = hostile_send (c, hello.data, hello.len / 2, 1);
    t0 = test_now_ms ();
    expect_closed_fd (silent, "half a ClientHello, then silence");
    dt = test_now_ms () - t0;
    CHECK_MSG (dt >= 500, "half a ClientHello: closed after %llu ms, "
               "before the timeout of 1 s", (unsigned long long) dt);
    expect_closed_fd (fin, "half a ClientHello, then FIN");
  }
  after (c, "half a ClientHello, then silence / FIN");
  buf_free (&hello);
}

static void
case_hello_silence (struct ctx *c)
{
  struct buf hello;
  int fd;
  uint64_t t0, dt;
  client_hello (&hello);
  fd = raw_connect (c->port);
  SETUP_CHECK (fd >= 0);
  raw_send (fd, hello.data, hello.len);
  t0 = test_now_ms ();
  /* while it holds its slot, another client is served */
  CHECK_MSG (tls_get (c->port), "no service while a handshake stalls");
  CHECK_MSG (raw_wait_closed (fd, NULL, 5000), "ClientHello then silence: "
             "not closed within 5 s (timeout 1 s)");
  dt = test_now_ms () - t0;
  CHECK_MSG (dt >= 500, "ClientHello then silence: closed after %llu ms",
             (unsigned long long) dt);
  test_note ("ClientHello then silence: closed after %llu ms",
             (unsigned long long) dt);
  close (fd);
  buf_free (&hello);
  after (c, "ClientHello then silence");
}

static void
case_plain_http (struct ctx *c)
{
  static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  static const char post[] = "POST / HTTP/1.1\r\nHost: localhost\r\n"
                             "Content-Length: 5\r\n\r\nhello";
  int before = ATOMIC_GET (&n_calls);
  expect_closed (c, "plain HTTP", req, strlen (req), 0);
  expect_closed (c, "plain HTTP POST", post, strlen (post), 0);
  CHECK_INT (before, ATOMIC_GET (&n_calls));
  after (c, "plain HTTP");
}

/* An OpenSSL client that reads the server's flight and then gives up. */
static void
case_abandoned (struct ctx *c, int how)
{
  struct mb m;
  struct buf out, answer;
  int fd = raw_connect (c->port);
  const char *what = (0 == how) ? "handshake abandoned (close)"
                                : "handshake abandoned (half of the second "
                                  "flight, silence)";
  SETUP_CHECK (fd >= 0);
  mb_init (&m);
  buf_init (&out);
  buf_init (&answer);
  mb_step (&m, &out);
  raw_send (fd, out.data, out.len);
  CHECK_MSG (mb_read_server_flight (&m, fd, &answer), "%s: no server "
             "flight", what);
  if (0 == how)
    close (fd);
  else
  {
    raw_send (fd, answer.data, answer.len / 2);
    CHECK_MSG (raw_wait_closed (fd, NULL, 5000), "%s: not closed within "
               "5 s (timeout 1 s)", what);
    close (fd);
  }
  buf_free (&out);
  buf_free (&answer);
  mb_free (&m);
  after (c, what);
}

/* Six of each at once, left to the server; then the real client. */
static void
case_all_at_once (struct ctx *c)
{
  enum { EACH = 6, KINDS = 4 };
  int fds[EACH * KINDS];
  struct buf hello;
  static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  unsigned char junk[256];
  int i, k = 0;
  client_hello (&hello);
  for (i = 0; i < (int) sizeof (junk); i++)
    junk[i] = (unsigned char) rng ();
  for (i = 0; i < EACH; i++)
  {
    int j;
    for (j = 0; j < KINDS; j++)
    {
      int fd = raw_connect (c->port);
      SETUP_CHECK (fd >= 0);
      switch (j)
      {
      case 0: raw_send (fd, junk, sizeof (junk)); break;
      case 1: raw_send (fd, hello.data, hello.len / 2); break;
      case 2: raw_send (fd, hello.data, hello.len); break;
      default: raw_send_str (fd, req); break;
      }
      fds[k++] = fd;
    }
  }
  CHECK_MSG (tls_get (c->port), "no service with %d hostile connections "
             "open", k);
  for (i = 0; i < k; i++)
  {
    CHECK_MSG (raw_wait_closed (fds[i], NULL, 5000), "hostile connection "
               "%d (kind %d) not closed within 5 s", i, i % KINDS);
    close (fds[i]);
  }
  buf_free (&hello);
  after (c, "all at once");
}

/* The default suites (no MHD_OPTION_HTTPS_PRIORITIES) are forward-secret
 * AEAD only: a TLS 1.2 client offering CBC suites or the RSA key exchange
 * fails the handshake, one offering ECDHE with AES-GCM succeeds.  0.9.75's
 * default (GnuTLS NORMAL) accepts all of them. */
static void
case_default_suites (struct ctx *c)
{
  CHECK_MSG (tls12_handshake (c->port, "ECDHE-RSA-AES128-GCM-SHA256"),
             "TLS 1.2 ECDHE-RSA-AES128-GCM refused by default");
  if (test_is_reference ())
  {
    if (tls12_handshake (c->port, "AES128-SHA:AES256-SHA256:"
                         "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384"))
      test_diff ("the default TLS suites include CBC (GnuTLS NORMAL)");
    if (tls12_handshake (c->port, "AES128-GCM-SHA256:AES256-GCM-SHA384"))
      test_diff ("the default TLS suites include the RSA key exchange "
                 "(no forward secrecy)");
  }
  else
  {
    CHECK_MSG (! tls12_handshake (c->port, "AES128-SHA:AES256-SHA256:"
                                  "ECDHE-RSA-AES128-SHA:"
                                  "ECDHE-RSA-AES256-SHA384"),
               "a CBC suite accepted by default");
    CHECK_MSG (! tls12_handshake (c->port, "AES128-GCM-SHA256:"
                                  "AES256-GCM-SHA384"),
               "the RSA key exchange (no forward secrecy) accepted by "
               "default");
  }
  after (c, "default suites");
}

static void
per_mode (void)
{
  struct ctx c;
  test_conns_started = test_conns_closed = 0;
  c.d = test_start_daemon (MHD_USE_TLS, handler, NULL,
                           MHD_OPTION_HTTPS_MEM_KEY, pem_key,
                           MHD_OPTION_HTTPS_MEM_CERT, pem_chain,
                           MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 1,
                           MHD_OPTION_NOTIFY_CONNECTION, test_count_connections, NULL,
                           MHD_OPTION_END);
  if (NULL == c.d)
    SETUP_FAIL ("HTTPS daemon did not start");
  c.port = test_daemon_port (c.d);
  c.fds_start = test_count_fds ();
  CHECK_MSG (tls_get (c.port), "a real TLS client was not served");
  case_random (&c);
  case_cut_hello (&c);
  case_hello_silence (&c);
  case_plain_http (&c);
  case_abandoned (&c, 0);
  case_abandoned (&c, 1);
  case_all_at_once (&c);
  case_default_suites (&c);
  test_stop_daemon (c.d);
}

int
main (void)
{
  if (MHD_YES != MHD_is_feature_supported (MHD_FEATURE_TLS))
  {
    fprintf (stderr, "SKIP: no TLS support in this library\n");
    return TEST_EXIT_SKIP;
  }
  pem_chain = test_slurp (CAPI_TLS_DIR, "server-chain.pem");
  pem_key = test_slurp (CAPI_TLS_DIR, "server.key");
  snprintf (path_ca, sizeof (path_ca), "%s/ca.pem", CAPI_TLS_DIR);
  return test_run_modes ("test_tls_hostile", per_mode);
}
