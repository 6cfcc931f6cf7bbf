/* test_bad_input: malformed and hostile requests over raw sockets.
 *
 * The expectation table below has two columns: what RFC 9112/9110 ask for
 * (our library's target) and what the reference (Debian's libmicrohttpd
 * 0.9.75) does.  With MHD_TEST_REFERENCE=1 the reference column is used and
 * every intentional difference is printed as a DIFF line.
 *
 * status: the HTTP status expected; 0 = connection closed without any
 * response; -1 = the server keeps waiting for more data (no response and
 * no close within 500 ms; reference column only).  close: 1 = the server must close the connection after the
 * response, 0 = it must keep it open.  A hang (no response and no close
 * within the timeout) always fails; the daemon must still serve normal
 * requests after all cases.
 */
#include "common.h"
#include <unistd.h>

#define MEM_LIMIT 16384
#define BIG 20000

enum gen
{
  G_NONE = 0,
  G_LONG_URL,        /* GET /aaaa...(BIG) HTTP/1.1 */
  G_BIG_HEADER,      /* X-Big: (BIG bytes) */
  G_MANY_HEADERS     /* 2000 small headers */
};

struct bad_case
{
  const char *name;
  const char *req;
  size_t len;            /* 0: strlen (req) */
  enum gen gen;
  int rfc_status;
  int rfc_close;
  int ref_status;
  int ref_close;
  const char *why;       /* RFC reference / note */
};

#define R(s) s, sizeof (s) - 1
#define H "Host: x\r\n"

static const struct bad_case cases[] = {
  /* ---- request line ---- */
  { "no-spaces", R ("GARBAGE\r\n\r\n"), G_NONE, 400, 1, 0, 1,
    "RFC 9112 3: invalid request-line -> 400" },
  { "no-version", R ("GET /\r\n" H "\r\n"), G_NONE, 400, 1, 400, 1,
    "RFC 9112 3: HTTP/0.9 style request line" },
  { "double-space", R ("GET  / HTTP/1.1\r\n" H "\r\n"), G_NONE, 200, 0, 200, 0,
    "RFC 9112 3: exactly one SP between parts (MAY be lenient)" },
  { "trailing-token", R ("GET / HTTP/1.1 extra\r\n" H "\r\n"), G_NONE, 400,
    1, 400, 1, "RFC 9112 3: invalid request-line" },
  { "bad-method-char", R ("G(T / HTTP/1.1\r\n" H "\r\n"), G_NONE, 400, 1, 200, 0,
    "RFC 9110 9.1: method is a token" },
  { "lowercase-version", R ("GET / http/1.1\r\n" H "\r\n"), G_NONE, 400, 1,
    400, 1, "RFC 9112 2.3: HTTP-name is case-sensitive" },
  { "version-HTTP/1", R ("GET / HTTP/1\r\n" H "\r\n"), G_NONE, 400, 1, 400, 1,
    "RFC 9112 2.3: HTTP-version = HTTP-name / DIGIT . DIGIT" },
  { "version-HTTP/2.0", R ("GET / HTTP/2.0\r\n" H "\r\n"), G_NONE, 505, 1,
    505, 1, "RFC 9110 15.6.6" },
  { "version-HTTP/3.0", R ("GET / HTTP/3.0\r\n" H "\r\n"), G_NONE, 505, 1,
    505, 1, "RFC 9110 15.6.6" },
  { "version-HTTP/1.2", R ("GET / HTTP/1.2\r\n" H "\r\n"), G_NONE, 200, 0,
    200, 0, "RFC 9110 6.2: higher minor version is served as 1.1" },
  { "version-HTTP/0.9", R ("GET / HTTP/0.9\r\n" H "\r\n"), G_NONE, 505, 1,
    505, 1, "RFC 9110 15.6.6: major 0 not supported" },
  { "leading-empty-line", R ("\r\nGET / HTTP/1.1\r\n" H "\r\n"), G_NONE, 200,
    0, 200, 0, "RFC 9112 2.2: SHOULD ignore an empty line before request" },
  { "long-url", NULL, 0, G_LONG_URL, 414, 1, 414, 1,
    "RFC 9110 15.5.15: URI longer than the server will interpret" },
  /* ---- header section ---- */
  { "header-no-colon", R ("GET / HTTP/1.1\r\n" H "NoColonHere\r\n\r\n"),
    G_NONE, 400, 1, 400, 1, "RFC 9112 5: field-line = name : value" },
  { "space-before-colon", R ("GET / HTTP/1.1\r\n" H "X-A : b\r\n\r\n"),
    G_NONE, 400, 1, 200, 0,
    "RFC 9112 5.1: MUST reject with 400" },
  { "empty-header-name", R ("GET / HTTP/1.1\r\n" H ": v\r\n\r\n"), G_NONE, 400, 1, 200, 0,
    "RFC 9110 5.1: field-name = token (non-empty)" },
  { "ws-before-first-header", R ("GET / HTTP/1.1\r\n X-A: b\r\n" H "\r\n"),
    G_NONE, 400, 1, 200, 0,
    "RFC 9112 2.2: reject (or ignore the line)" },
  { "obs-fold", R ("GET / HTTP/1.1\r\n" H "X-A: a\r\n  b\r\n\r\n"), G_NONE,
    400, 1, 200, 0,
    "RFC 9112 5.2: reject with 400 or replace by SP" },
  { "missing-host", R ("GET / HTTP/1.1\r\nX-A: b\r\n\r\n"), G_NONE, 400, 1, 200, 0,
    "RFC 9112 3.2: MUST respond 400 to HTTP/1.1 without Host" },
  { "two-hosts", R ("GET / HTTP/1.1\r\n" H H "\r\n"), G_NONE, 400, 1, 200, 0,
    "RFC 9112 3.2: MUST respond 400 to more than one Host" },
  { "bare-CR-line-end", R ("GET / HTTP/1.1\r" H "\r\n"), G_NONE, 400, 1, 400, 1,
    "RFC 9112 2.2: bare CR MUST be rejected or replaced by SP" },
  { "bare-CR-in-value", R ("GET / HTTP/1.1\r\n" H "X-A: a\rb\r\n\r\n"), G_NONE,
    400, 1, 200, 0,
    "RFC 9112 2.2: bare CR" },
  { "bare-LF-line-ends", R ("GET / HTTP/1.1\nHost: x\n\n"), G_NONE, 200, 0,
    200, 0, "RFC 9112 2.2: MAY accept LF as line terminator" },
  { "NUL-in-value", R ("GET / HTTP/1.1\r\n" H "X-A: a\0b\r\n\r\n"), G_NONE,
    400, 1, 200, 0,
    "RFC 9110 5.5: NUL MUST be rejected or replaced by SP" },
  { "NUL-in-url", R ("GET /a\0b HTTP/1.1\r\n" H "\r\n"), G_NONE, 400, 1, 200, 0,
    "RFC 9112 3: NUL is not allowed in request-target" },
  { "NUL-in-name", R ("GET / HTTP/1.1\r\n" H "X-\0A: b\r\n\r\n"), G_NONE, 400,
    1, 400, 1, "RFC 9110 5.1: field-name = token" },
  { "big-header", NULL, 0, G_BIG_HEADER, 431, 1, 431, 1,
    "RFC 6585 5: header fields too large" },
  { "many-headers", NULL, 0, G_MANY_HEADERS, 431, 1, 431, 1,
    "RFC 6585 5: header fields too large" },
  /* ---- body framing ---- */
  { "bad-chunk-size",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"
       "zz\r\nabc\r\n0\r\n\r\n"), G_NONE, 400, 1, 400, 1,
    "RFC 9112 7.1: chunk-size = 1*HEXDIG" },
  { "chunk-size-overflow",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"
       "fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"), G_NONE, 413, 1, 413, 1,
    "RFC 9112 7.1: chunk size must not overflow" },
  { "chunk-data-too-long",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"
       "3\r\nabcdef\r\n0\r\n\r\n"), G_NONE, 400, 1, 400, 1,
    "RFC 9112 7.1: chunk-data must be followed by CRLF" },
  { "CL-and-TE",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\n"
       "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), G_NONE,
    400, 1, 200, 0,
    "RFC 9112 6.1: MAY reject; MUST close the connection after responding" },
  { "TE-not-chunked",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\nabc"), G_NONE,
    400, 1, -1, 0,
    "RFC 9112 6.3: chunked not final -> 400 and close" },
  { "TE-chunked-then-gzip",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 400, 1, -1, 0,
    "RFC 9112 6.3: chunked not final -> 400 and close" },
  { "TE-in-HTTP/1.0",
    R ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 400, 1, 200, 1,
    "RFC 9112 6.1: TE in HTTP/1.0 -> treat framing as faulty and close" },
  { "duplicate-CL-differ",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"
       "hello!"), G_NONE, 400, 1, 200, 0,
    "RFC 9112 6.3: invalid CL -> 400" },
  { "CL-list-differ",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5, 6\r\n\r\nhello!"), G_NONE,
    400, 1, 400, 1, "RFC 9112 6.3: invalid CL -> 400" },
  { "CL-not-number",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: abc\r\n\r\n"), G_NONE, 400, 1,
    400, 1, "RFC 9112 6.3: invalid CL -> 400" },
  { "CL-negative",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n"), G_NONE, 400, 1,
    400, 1, "RFC 9112 6.3: invalid CL -> 400" },
  { "CL-plus-sign",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\nhello"), G_NONE, 400,
    1, 400, 1, "RFC 9110 8.6: Content-Length = 1*DIGIT" },
  { "CL-overflow",
    R ("POST / HTTP/1.1\r\n" H
       "Content-Length: 99999999999999999999999\r\n\r\n"), G_NONE, 413, 1, 413, 1,
    "RFC 9112 6.3: invalid CL -> 400 (413 also fits)" },
  /* ---- valid requests that must keep working ---- */
  { "valid-get", R ("GET / HTTP/1.1\r\n" H "\r\n"), G_NONE, 200, 0, 200, 0,
    "control" },
  { "valid-absolute-form", R ("GET http://x/ HTTP/1.1\r\n" H "\r\n"), G_NONE,
    200, 0, 200, 0, "RFC 9112 3.2.2: absolute-form MUST be accepted" },
  { "duplicate-CL-same",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"
       "hello"), G_NONE, 200, 0, 200, 0,
    "RFC 9110 8.6: MAY accept identical repeated values" },
};

static char *
gen_request (enum gen g, size_t *len)
{
  struct buf b;
  int i;
  buf_init (&b);
  switch (g)
  {
  case G_LONG_URL:
    buf_append (&b, "GET /", 5);
    for (i = 0; i < BIG; i++)
      buf_append (&b, "a", 1);
    buf_append (&b, " HTTP/1.1\r\n" H "\r\n", strlen (" HTTP/1.1\r\n" H "\r\n"));
    break;
  case G_BIG_HEADER:
    buf_append (&b, "GET / HTTP/1.1\r\n" H "X-Big: ",
                strlen ("GET / HTTP/1.1\r\n" H "X-Big: "));
    for (i = 0; i < BIG; i++)
      buf_append (&b, "b", 1);
    buf_append (&b, "\r\n\r\n", 4);
    break;
  case G_MANY_HEADERS:
    buf_append (&b, "GET / HTTP/1.1\r\n" H, strlen ("GET / HTTP/1.1\r\n" H));
    for (i = 0; i < 2000; i++)
    {
      char l[32];
      snprintf (l, sizeof (l), "X-%d: v\r\n", i);
      buf_append (&b, l, strlen (l));
    }
    buf_append (&b, "\r\n", 2);
    break;
  default:
    break;
  }
  *len = b.len;
  return b.data;
}

static void
one_case (uint16_t port, const struct bad_case *k)
{
  int ref = test_is_reference ();
  int exp_status = ref ? k->ref_status : k->rfc_status;
  int exp_close = ref ? k->ref_close : k->rfc_close;
  const char *req = k->req;
  size_t len = k->len;
  char *gen = NULL;
  int fd;
  struct buf carry;
  struct http_resp r;
  int rc, closed = 0;
  int status;

  if ((k->ref_status != k->rfc_status) || (k->ref_close != k->rfc_close))
    test_diff ("%-22s RFC %d%s, reference %d%s  (%s)", k->name,
               k->rfc_status, k->rfc_close ? "+close" : "",
               k->ref_status, k->ref_close ? "+close" : "", k->why);
  if (G_NONE != k->gen)
    req = gen = gen_request (k->gen, &len);
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  buf_init (&carry);
  (void) raw_send (fd, req, len);  /* may fail when the server closes early */
  rc = raw_read_response (fd, &carry, 0, &r, (-1 == exp_status) ? 500 : 3000,
                          &closed);
  if (1 == rc)
  {
    status = r.status;
    http_resp_free (&r);
    if (! closed)
      closed = raw_wait_closed (fd, NULL, exp_close ? 1500 : 100);
  }
  else if (closed)
    status = 0;
  else
    status = -1;
  if ((-1 == status) && (-1 != exp_status))
    test_fail (__FILE__, __LINE__,
               "%s: no response and no close within 3 s (hang); got %zu bytes",
               k->name, carry.len);
  test_note ("%-22s -> status %d, %s", k->name, status,
             closed ? "closed" : "kept open");
  if ((status >= 0) || (-1 == exp_status))
  {
    if (status != exp_status)
      test_fail (__FILE__, __LINE__, "%s: status expected %d, got %d (%s)",
                 k->name, exp_status, status, k->why);
    if ((0 < status) && (closed != exp_close))
      test_fail (__FILE__, __LINE__, "%s: expected the connection %s, it was %s",
                 k->name, exp_close ? "closed" : "kept open",
                 closed ? "closed" : "kept open");
  }
  close (fd);
  buf_free (&carry);
  free (gen);
}

static void
run (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  size_t i;
  struct http_resp r;
  static const char ok_req[] = "GET /after HTTP/1.1\r\nHost: x\r\n\r\n";

  d = START_DAEMON (0, test_ok_handler, NULL,
                    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) MEM_LIMIT,
                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
  {
    const char *only = getenv ("BAD_CASE");
    if ((NULL != only) && (0 != strcmp (only, cases[i].name)))
      continue;
    one_case (port, &cases[i]);
  }
  /* still alive and serving */
  CHECK (raw_request (port, ok_req, strlen (ok_req), 0, &r, NULL, 0));
  CHECK_INT (200, r.status);
  CHECK_STR ("ok", r.body.data);
  http_resp_free (&r);
  test_stop_daemon (d);
}

int
main (void)
{
  return test_run_modes ("test_bad_input", run);
}
