/* test_post: the POST processor (MHD_create_post_processor,
 * MHD_post_process, MHD_destroy_post_processor) through real requests
 * (url-encoded and multipart, small and large) and called directly with
 * every split of a body.  Every iterator argument is checked.
 *
 * How a value is cut into pieces depends on how the body arrives, so the
 * request tests compare values reassembled from their pieces (offsets must
 * be contiguous); the direct tests also check exact call sequences. */
#include "common.h"
#include <pthread.h>

#define MAXEV 4096
struct ev
{
  int kind;
  char *key, *fn, *ct, *te;   /* NULL when the library passed NULL */
  char *data;
  uint64_t off;
  size_t size;
};
struct evlist
{
  struct ev e[MAXEV];
  int n;
  int stop_after;             /* iterator returns MHD_NO after this many (0 = never) */
};

static char *
dup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

static enum MHD_Result
iter (void *cls, enum MHD_ValueKind kind, const char *key,
      const char *filename, const char *content_type,
      const char *transfer_encoding, const char *data, uint64_t off,
      size_t size)
{
  struct evlist *l = cls;
  if (l->n < MAXEV)
  {
    struct ev *e = &l->e[l->n];
    e->kind = (int) kind;
    e->key = dup_or_null (key);
    e->fn = dup_or_null (filename);
    e->ct = dup_or_null (content_type);
    e->te = dup_or_null (transfer_encoding);
    e->data = malloc (size + 1);
    if (size > 0)
      memcpy (e->data, data, size);
    e->data[size] = '\0';
    e->off = off;
    e->size = size;
  }
  l->n++;
  if (l->stop_after && l->n >= l->stop_after)
    return MHD_NO;
  return MHD_YES;
}

static void
evlist_clear (struct evlist *l)
{
  int i;
  for (i = 0; i < l->n && i < MAXEV; i++)
  {
    free (l->e[i].key);
    free (l->e[i].fn);
    free (l->e[i].ct);
    free (l->e[i].te);
    free (l->e[i].data);
  }
  l->n = 0;
  l->stop_after = 0;
}

/* One expected value: its fields and all of its bytes. */
struct val
{
  const char *key, *fn, *ct, *te;
  const char *data;
  size_t len;
};

static int
same_str (const char *a, const char *b)
{
  if ((NULL == a) || (NULL == b))
    return a == b;
  return 0 == strcmp (a, b);
}

/* Reassembles the pieces of l and compares them with want[0..nwant). */
static void
check_values (const char *what, const struct evlist *l,
              const struct val *want, int nwant)
{
  int i = 0;
  int v = -1;
  struct buf acc;
  buf_init (&acc);
  CHECK_MSG (l->n <= MAXEV, "%s: too many events", what);
  for (i = 0; i < l->n && i < MAXEV; i++)
  {
    const struct ev *e = &l->e[i];
    CHECK_INT (MHD_POSTDATA_KIND, e->kind);
    /* A new value starts at offset 0 (after a value with bytes, or when
     * the fields change). */
    if ((v < 0) || ((0 == e->off) && (acc.len > 0))
        || ! same_str (e->key, want[v].key))
    {
      if (v >= 0)
        CHECK_MEM (want[v].data, want[v].len, acc.data, acc.len);
      v++;
      acc.len = 0;
      if (v >= nwant)
      {
        test_fail (__FILE__, __LINE__, "%s: unexpected extra value for key %s",
                   what, e->key ? e->key : "(NULL)");
        break;
      }
      CHECK_INT (0, e->off);
    }
    CHECK_MSG (e->off == acc.len, "%s: key %s: piece at offset %llu, expected %zu",
               what, e->key ? e->key : "(NULL)", (unsigned long long) e->off,
               acc.len);
    CHECK_MSG (same_str (want[v].key, e->key), "%s: key %s, expected %s", what,
               e->key ? e->key : "(NULL)", want[v].key ? want[v].key : "(NULL)");
    CHECK_MSG (same_str (want[v].fn, e->fn), "%s: filename %s, expected %s", what,
               e->fn ? e->fn : "(NULL)", want[v].fn ? want[v].fn : "(NULL)");
    CHECK_MSG (same_str (want[v].ct, e->ct), "%s: content type %s, expected %s", what,
               e->ct ? e->ct : "(NULL)", want[v].ct ? want[v].ct : "(NULL)");
    CHECK_MSG (same_str (want[v].te, e->te), "%s: encoding %s, expected %s", what,
               e->te ? e->te : "(NULL)", want[v].te ? want[v].te : "(NULL)");
    buf_append (&acc, e->data, e->size);
  }
  if (v >= 0 && v < nwant)
    CHECK_MEM (want[v].data, want[v].len, acc.data, acc.len);
  CHECK_MSG (v + 1 == nwant, "%s: %d values, expected %d", what, v + 1, nwant);
  buf_free (&acc);
}

/* ------------------------------------------------------------------ */
/* Through requests                                                    */
/* ------------------------------------------------------------------ */

struct reqstate
{
  struct MHD_PostProcessor *pp;
  int process_failures;
};

struct scenario
{
  size_t buffer_size;
  struct evlist events;
  volatile int destroyed;        /* destroy result + 1 */
  volatile int process_failed;
  volatile int created;          /* 1 created, 2 NULL */
};

static enum MHD_Result
post_handler (void *cls, struct MHD_Connection *c, const char *url,
              const char *method, const char *version, const char *upload,
              size_t *upload_size, void **con_cls)
{
  struct scenario *s = cls;
  struct reqstate *rs = *con_cls;
  (void) url;
  (void) method;
  (void) version;
  if (NULL == rs)
  {
    rs = calloc (1, sizeof (*rs));
    rs->pp = MHD_create_post_processor (c, s->buffer_size, iter, &s->events);
    ATOMIC_SET (&s->created, rs->pp ? 1 : 2);
    *con_cls = rs;
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    if (NULL != rs->pp)
      if (MHD_YES != MHD_post_process (rs->pp, upload, *upload_size))
        rs->process_failures++;
    *upload_size = 0;
    return MHD_YES;
  }
  if (NULL != rs->pp)
  {
    int d = (MHD_YES == MHD_destroy_post_processor (rs->pp)) ? 2 : 1;
    ATOMIC_SET (&s->process_failed, rs->process_failures);
    ATOMIC_SET (&s->destroyed, d);
  }
  free (rs);
  *con_cls = NULL;
  return test_reply (c, MHD_HTTP_OK, "ok");
}

static void
post_request (struct scenario *s, uint16_t port, const char *ctype,
              const void *body, size_t len, curl_mime *mime)
{
  struct curl_req rq;
  struct curl_res res;
  char hdr[256];
  const char *hdrs[3] = { NULL, "Expect:", NULL };
  CURL *c;
  (void) s;
  memset (&rq, 0, sizeof (rq));
  rq.url_path = "/post";
  rq.method = "POST";
  if (NULL != ctype)
  {
    snprintf (hdr, sizeof (hdr), "Content-Type: %s", ctype);
    hdrs[0] = hdr;
    rq.headers = hdrs;
  }
  else
    rq.headers = hdrs + 1;
  if (NULL == mime)
  {
    rq.body = body;
    rq.body_len = len;
  }
  c = curl_setup (port, &rq, &res);
  SETUP_CHECK (NULL != c);
  if (NULL != mime)
    curl_easy_setopt (c, CURLOPT_MIMEPOST, mime);
  res.code = curl_easy_perform (c);
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &res.status);
  curl_teardown (c);
  CHECK_INT (CURLE_OK, res.code);
  CHECK_INT (200, res.status);
  curl_res_free (&res);
}

static void
scenario_reset (struct scenario *s, size_t bs)
{
  evlist_clear (&s->events);
  s->buffer_size = bs;
  s->destroyed = 0;
  s->process_failed = 0;
  s->created = 0;
}

static char *
random_bytes (size_t n, unsigned int seed, int text)
{
  char *p = malloc (n + 1);
  size_t i;
  for (i = 0; i < n; i++)
  {
    seed = seed * 1103515245u + 12345u;
    p[i] = text ? "abcdefghijklmnopqrstuvwxyz0123456789"[(seed >> 16) % 36]
           : (char) (seed >> 16);
    /* now and then something that looks like a boundary */
    if (! text && (0 == (seed >> 8) % 997) && (i + 4 < n))
    {
      memcpy (p + i, "\r\n--", 4);
      i += 3;
    }
  }
  p[n] = '\0';
  return p;
}

static void
run_requests (struct MHD_Daemon *d, struct scenario *s)
{
  uint16_t port = test_daemon_port (d);
  CURL *ch = curl_easy_init ();

  /* url-encoded, small */
  {
    static const char body[] = "name=John+Doe&city=New%20York&empty=&flag&x=%41%42";
    static const struct val want[] = {
      { "name", NULL, NULL, NULL, "John Doe", 8 },
      { "city", NULL, NULL, NULL, "New York", 8 },
      { "empty", NULL, NULL, NULL, "", 0 },
      { "flag", NULL, NULL, NULL, "", 0 },
      { "x", NULL, NULL, NULL, "AB", 2 },
    };
    scenario_reset (s, 1024);
    post_request (s, port, "application/x-www-form-urlencoded", body,
                  strlen (body), NULL);
    CHECK_INT (1, s->created);
    CHECK_INT (0, s->process_failed);
    CHECK_INT (2, s->destroyed);
    check_values ("urlencoded small", &s->events, want, 5);
  }
  /* url-encoded, large (a 200 KB value, escapes included) */
  {
    size_t n = 200 * 1024;
    char *v = random_bytes (n, 7, 1);
    struct buf body;
    struct val want[2] = {
      { "big", NULL, NULL, NULL, NULL, 0 },
      { "after", NULL, NULL, NULL, "1 2", 3 },
    };
    size_t i;
    buf_init (&body);
    buf_append (&body, "big=", 4);
    for (i = 0; i < n; i += 1000)
    {
      /* every 1000 bytes: the next byte percent-encoded */
      char esc[4];
      buf_append (&body, v + i, (n - i < 999) ? n - i : 999);
      if (i + 999 < n)
      {
        snprintf (esc, sizeof (esc), "%%%02X", (unsigned char) v[i + 999]);
        buf_append (&body, esc, 3);
      }
    }
    buf_append (&body, "&after=1+2", 10);
    want[0].data = v;
    want[0].len = n;
    scenario_reset (s, 512);
    post_request (s, port, "application/x-www-form-urlencoded", body.data,
                  body.len, NULL);
    CHECK_INT (0, s->process_failed);
    CHECK_INT (2, s->destroyed);
    check_values ("urlencoded large", &s->events, want, 2);
    buf_free (&body);
    free (v);
  }
  /* multipart through curl's MIME API, small */
  {
    curl_mime *m = curl_mime_init (ch);
    curl_mimepart *p = curl_mime_addpart (m);
    static const struct val want[] = {
      { "field", NULL, NULL, NULL, "value 1", 7 },
      { "upload", "hello.txt", "text/plain", NULL, "line one\r\nline two\n", 19 },
    };
    curl_mime_name (p, "field");
    curl_mime_data (p, "value 1", CURL_ZERO_TERMINATED);
    p = curl_mime_addpart (m);
    curl_mime_name (p, "upload");
    curl_mime_filename (p, "hello.txt");
    curl_mime_type (p, "text/plain");
    curl_mime_data (p, "line one\r\nline two\n", CURL_ZERO_TERMINATED);
    scenario_reset (s, 1024);
    post_request (s, port, NULL, NULL, 0, m);
    curl_mime_free (m);
    CHECK_INT (1, s->created);
    CHECK_INT (0, s->process_failed);
    CHECK_INT (2, s->destroyed);
    check_values ("multipart small", &s->events, want, 2);
  }
  /* multipart, large binary file (300 KB) with a small buffer */
  {
    size_t n = 300 * 1024;
    char *f = random_bytes (n, 11, 0);
    curl_mime *m = curl_mime_init (ch);
    curl_mimepart *p = curl_mime_addpart (m);
    struct val want[2] = {
      { "file", "data.bin", "application/octet-stream", NULL, NULL, 0 },
      { "tail", NULL, NULL, NULL, "end", 3 },
    };
    want[0].data = f;
    want[0].len = n;
    curl_mime_name (p, "file");
    curl_mime_filename (p, "data.bin");
    curl_mime_type (p, "application/octet-stream");
    curl_mime_data (p, f, n);
    p = curl_mime_addpart (m);
    curl_mime_name (p, "tail");
    curl_mime_data (p, "end", 3);
    scenario_reset (s, 300);
    post_request (s, port, NULL, NULL, 0, m);
    curl_mime_free (m);
    CHECK_INT (0, s->process_failed);
    CHECK_INT (2, s->destroyed);
    check_values ("multipart large", &s->events, want, 2);
    for (int i = 0; i < s->events.n && i < MAXEV; i++)
      CHECK_MSG (s->events.e[i].size <= 300 + 4,
                 "a piece of %zu bytes from a 300-byte buffer",
                 s->events.e[i].size);
    free (f);
  }
  /* multipart/mixed nested in a form, sent as a raw body */
  {
    static const char body[] =
      "--AaB03x\r\nContent-Disposition: form-data; name=\"submit-name\"\r\n\r\nLarry\r\n"
      "--AaB03x\r\nContent-Disposition: form-data; name=\"files\"\r\n"
      "Content-Type: multipart/mixed; boundary=BbC04y\r\n\r\n"
      "--BbC04y\r\nContent-Disposition: file; filename=\"file1.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\n... contents of file1.txt ...\r\n"
      "--BbC04y\r\nContent-Disposition: file; filename=\"file2.gif\"\r\n"
      "Content-Type: image/gif\r\nContent-Transfer-Encoding: binary\r\n\r\n"
      "...contents of file2.gif...\r\n--BbC04y--\r\n--AaB03x--\r\n";
    static const struct val want[] = {
      { "submit-name", NULL, NULL, NULL, "Larry", 5 },
      { "files", "file1.txt", "text/plain", NULL, "... contents of file1.txt ...", 29 },
      { "files", "file2.gif", "image/gif", "binary", "...contents of file2.gif...", 27 },
    };
    scenario_reset (s, 256);
    post_request (s, port, "multipart/form-data; boundary=AaB03x", body,
                  strlen (body), NULL);
    CHECK_INT (0, s->process_failed);
    CHECK_INT (2, s->destroyed);
    check_values ("multipart nested", &s->events, want, 3);
  }
  /* unsupported types: no processor */
  scenario_reset (s, 1024);
  post_request (s, port, "text/plain", "a=b", 3, NULL);
  CHECK_INT (2, s->created);
  scenario_reset (s, 1024);
  post_request (s, port, "multipart/form-data", "a=b", 3, NULL);
  CHECK_INT (2, s->created);
  scenario_reset (s, 1024);
  post_request (s, port, "multipart/form-data; boundary=", "a=b", 3, NULL);
  CHECK_INT (2, s->created);
  /* a truncated multipart body: processing succeeds, destroy says no */
  {
    static const char body[] =
      "--xy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunfinished";
    scenario_reset (s, 1024);
    post_request (s, port, "multipart/form-data; boundary=xy", body,
                  strlen (body), NULL);
    CHECK_INT (0, s->process_failed);
    CHECK_INT (1, s->destroyed);
  }
  scenario_reset (s, 1024);
  curl_easy_cleanup (ch);
}

/* ------------------------------------------------------------------ */
/* Direct calls, every split                                           */
/* ------------------------------------------------------------------ */

struct direct_case
{
  const char *ctype;
  const char *body;
  size_t len;
  int ok;                      /* every call and destroy say MHD_YES */
  const struct val *want;
  int nwant;
};

static const struct val w_url[] = {
  { "a", NULL, NULL, NULL, "b c", 3 },
  { "d e", NULL, NULL, NULL, "f", 1 },
  { "x", NULL, NULL, NULL, "", 0 },
  { "k", NULL, NULL, NULL, "\xc3\xa9!", 3 },
};
static const struct val w_mp[] = {
  { "a", NULL, NULL, NULL, "val", 3 },
  { "f", "a.txt", "text/plain", "binary", "line1\r\nline2\r\n-- not\r\n--x", 25 },
};
static const struct val w_lf[] = {
  { "a", NULL, NULL, NULL, "v\r\n-", 4 },
};

#define BODY(s) s, sizeof (s) - 1
static const struct direct_case direct_cases[] = {
  { "application/x-www-form-urlencoded",
    BODY ("a=b+c&d+e=f&x&k=%C3%A9%21"), 1, w_url, 4 },
  { "multipart/form-data; boundary=xy",
    BODY ("preamble\r\n--xy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
          "val\r\n--xy\r\ncontent-disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
          "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\n"
          "line1\r\nline2\r\n-- not\r\n--x\r\n--xy--\r\n"), 1, w_mp, 2 },
  { "multipart/form-data; boundary=\"xy\"",
    BODY ("--xy\nContent-Disposition: form-data; name=\"a\"\n\nv\r\n-\r\n--xy--"),
    1, w_lf, 1 },
};

struct direct_run
{
  struct evlist l;
  int ok;
};

static void
feed (struct MHD_Connection *c, const char *body, size_t len,
      const size_t *cuts, size_t ncuts, struct direct_run *r)
{
  struct MHD_PostProcessor *pp;
  size_t prev = 0;
  size_t i;
  evlist_clear (&r->l);
  r->ok = 1;
  pp = MHD_create_post_processor (c, 256, iter, &r->l);
  CHECK (NULL != pp);
  if (NULL == pp)
    return;
  for (i = 0; i <= ncuts; i++)
  {
    size_t end = (i < ncuts) ? cuts[i] : len;
    if (MHD_YES != MHD_post_process (pp, body + prev, end - prev))
      r->ok = 0;
    prev = end;
  }
  if (MHD_YES != MHD_destroy_post_processor (pp))
    r->ok = 0;
}

static void
check_exact (const struct evlist *l, int i, const char *key, const char *data,
             uint64_t off)
{
  CHECK_MSG (i < l->n, "event %d missing", i);
  if (i >= l->n)
    return;
  CHECK_INT (MHD_POSTDATA_KIND, l->e[i].kind);
  CHECK_STR (key, l->e[i].key);
  CHECK (NULL == l->e[i].fn);
  CHECK (NULL == l->e[i].ct);
  CHECK (NULL == l->e[i].te);
  CHECK_MEM (data, strlen (data), l->e[i].data, l->e[i].size);
  CHECK_INT (off, l->e[i].off);
}

static void
run_direct (struct MHD_Connection *c)
{
  static struct direct_run r;
  size_t k;
  const char *ct = MHD_lookup_connection_value (c, MHD_HEADER_KIND,
                                                "X-Case");
  if (NULL == ct)
    return;
  k = ((ct[0] >= '0') && (ct[0] <= '9')) ? (size_t) atoi (ct) : (size_t) -1;
  if (k < sizeof (direct_cases) / sizeof (direct_cases[0]))
  {
    const struct direct_case *dc = &direct_cases[k];
    size_t s;
    size_t *cuts = malloc (sizeof (size_t) * (dc->len + 1));
    char what[64];
    /* whole, then every 2-way split, then byte by byte */
    feed (c, dc->body, dc->len, NULL, 0, &r);
    CHECK_INT (dc->ok, r.ok);
    check_values ("direct whole", &r.l, dc->want, dc->nwant);
    for (s = 0; s <= dc->len; s++)
    {
      cuts[0] = s;
      feed (c, dc->body, dc->len, cuts, 1, &r);
      snprintf (what, sizeof (what), "case %zu split %zu", k, s);
      CHECK_MSG (dc->ok == r.ok, "%s: result %d", what, r.ok);
      check_values (what, &r.l, dc->want, dc->nwant);
    }
    for (s = 0; s < dc->len; s++)
      cuts[s] = s + 1;
    feed (c, dc->body, dc->len, cuts, dc->len - 1, &r);
    CHECK_INT (dc->ok, r.ok);
    check_values ("bytewise", &r.l, dc->want, dc->nwant);
    free (cuts);
    return;
  }
  /* exact call sequences (the same on libmicrohttpd 0.9.75) */
  if (0 == strcmp (ct, "url-exact"))
  {
    static const size_t cuts[] = { 3, 5 };
    feed (c, "a=xy%41z", 8, cuts, 2, &r);
    CHECK_INT (1, r.ok);
    CHECK_INT (3, r.l.n);
    check_exact (&r.l, 0, "a", "x", 0);
    check_exact (&r.l, 1, "a", "y", 1);
    check_exact (&r.l, 2, "a", "Az", 2);
    /* empty values get one call with size 0 */
    feed (c, "k&v=", 4, NULL, 0, &r);
    CHECK_INT (2, r.l.n);
    check_exact (&r.l, 0, "k", "", 0);
    check_exact (&r.l, 1, "v", "", 0);
    /* a value longer than 512 bytes comes in pieces of 512 */
    {
      char big[1 + 1 + 1200 + 1];
      memset (big, 'q', sizeof (big));
      memcpy (big, "b=", 2);
      feed (c, big, 2 + 1200, NULL, 0, &r);
      CHECK_INT (3, r.l.n);
      if (3 == r.l.n)
      {
        CHECK_INT (512, r.l.e[0].size);
        CHECK_INT (512, r.l.e[1].off);
        CHECK_INT (1200 - 1024, r.l.e[2].size);
      }
    }
    /* the iterator saying MHD_NO stops processing */
    evlist_clear (&r.l);
    r.l.stop_after = 1;
    {
      struct MHD_PostProcessor *pp = MHD_create_post_processor (c, 256, iter,
                                                                &r.l);
      CHECK (NULL != pp);
      if (NULL != pp)
      {
        CHECK_INT (MHD_NO, MHD_post_process (pp, "a=1&b=2&c=3", 11));
        CHECK_INT (1, r.l.n);
        CHECK_INT (MHD_NO, MHD_post_process (pp, "&d=4", 4));
        CHECK_INT (MHD_NO, MHD_destroy_post_processor (pp));
      }
    }
    /* bad bodies */
    feed (c, "=x", 2, NULL, 0, &r);
    CHECK_INT (0, r.ok);
    feed (c, "a==b", 4, NULL, 0, &r);
    CHECK_INT (0, r.ok);
    feed (c, "a=1\r\nb=2", 8, NULL, 0, &r);
    CHECK_INT (0, r.ok);
    {
      /* a key longer than the buffer */
      char huge[600];
      memset (huge, 'k', sizeof (huge));
      huge[598] = '=';
      huge[599] = 'v';
      feed (c, huge, sizeof (huge), NULL, 0, &r);
      CHECK_INT (0, r.ok);
      CHECK_INT (0, r.l.n);
    }
    /* zero bytes and NULL */
    CHECK_INT (MHD_YES, MHD_post_process (NULL, "", 0));
    CHECK_INT (MHD_NO, MHD_post_process (NULL, "a", 1));
    CHECK_INT (MHD_YES, MHD_destroy_post_processor (NULL));
    evlist_clear (&r.l);
    return;
  }
  if (0 == strcmp (ct, "mp-bad"))
  {
    /* garbage where a boundary must be, data after the end, a part header
     * longer than the buffer: all fail, without reading out of bounds */
    static const char *bad[] = {
      "--xy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--xz\r\n",
      "--xy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--xy--\r\nepilogue",
      "--xyz\r\n",
    };
    size_t i;
    char longhdr[700];
    for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      feed (c, bad[i], strlen (bad[i]), NULL, 0, &r);
      CHECK_MSG (0 == r.ok, "bad multipart body %zu accepted", i);
    }
    snprintf (longhdr, sizeof (longhdr),
              "--xy\r\nContent-Disposition: form-data; name=\"%0500d\"\r\n\r\nv\r\n--xy--\r\n",
              0);
    feed (c, longhdr, strlen (longhdr), NULL, 0, &r);
    CHECK_INT (0, r.ok);
    evlist_clear (&r.l);
    return;
  }
}

static enum MHD_Result
direct_handler (void *cls, struct MHD_Connection *c, const char *url,
                const char *method, const char *version, const char *upload,
                size_t *upload_size, void **con_cls)
{
  static int marker;
  (void) cls;
  (void) method;
  (void) version;
  (void) upload;
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    *upload_size = 0;
    return MHD_YES;
  }
  if (0 == strcmp (url, "/direct"))
    run_direct (c);
  return test_reply (c, MHD_HTTP_OK, "ok");
}

static void
direct_request (uint16_t port, const char *ctype, const char *caseid)
{
  struct curl_req rq;
  struct curl_res res;
  char h1[256], h2[64];
  const char *hdrs[3];
  snprintf (h1, sizeof (h1), "Content-Type: %s", ctype);
  snprintf (h2, sizeof (h2), "X-Case: %s", caseid);
  hdrs[0] = h1;
  hdrs[1] = h2;
  hdrs[2] = NULL;
  memset (&rq, 0, sizeof (rq));
  rq.url_path = "/direct";
  rq.headers = hdrs;
  CHECK (curl_do (port, &rq, &res));
  CHECK_INT (200, res.status);
  curl_res_free (&res);
}

static struct scenario scen;

static void
run (void)
{
  struct MHD_Daemon *d;
  size_t k;
  uint16_t port;

  CHECK_INT (MHD_YES, MHD_is_feature_supported (MHD_FEATURE_POSTPROCESSOR));
  d = START_DAEMON (0, post_handler, &scen, MHD_OPTION_END);
  run_requests (d, &scen);
  test_stop_daemon (d);

  d = START_DAEMON (0, direct_handler, NULL, MHD_OPTION_END);
  port = test_daemon_port (d);
  for (k = 0; k < sizeof (direct_cases) / sizeof (direct_cases[0]); k++)
  {
    char id[16];
    snprintf (id, sizeof (id), "%zu", k);
    direct_request (port, direct_cases[k].ctype, id);
  }
  direct_request (port, "application/x-www-form-urlencoded", "url-exact");
  direct_request (port, "multipart/form-data; boundary=xy", "mp-bad");
  test_stop_daemon (d);
}

int
main (void)
{
  return test_run_modes ("test_post", run);
}
