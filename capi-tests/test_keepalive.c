/* test_keepalive: HTTP/1.1 connection semantics over raw sockets:
 * keep-alive, HTTP/1.0 close, HTTP/1.0 keep-alive, pipelining,
 * Connection: close, Date header. */
#include "common.h"
#include <pthread.h>
#include <unistd.h>
#include <ctype.h>

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  static int marker;
  char body[128];
  (void) cls;
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
  snprintf (body, sizeof (body), "%s %s", method, url);
  return test_reply (c, MHD_HTTP_OK, body);
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int
is_imf_date (const char *d)
{
  static const char *days = "MonTueWedThuFriSatSun";
  static const char *months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  char day[4], mon[4];
  if ((NULL == d) || (29 != strlen (d)))
    return 0;
  memcpy (day, d, 3);
  day[3] = 0;
  memcpy (mon, d + 8, 3);
  mon[3] = 0;
  return (NULL != strstr (days, day)) && (d[3] == ',') && (d[4] == ' ') &&
         isdigit ((unsigned char) d[5]) && isdigit ((unsigned char) d[6]) &&
         (d[7] == ' ') && (NULL != strstr (months, mon)) && (d[11] == ' ') &&
         isdigit ((unsigned char) d[12]) && (d[16] == ' ') &&
         (d[19] == ':') && (d[22] == ':') && (0 == strcmp (d + 25, " GMT"));
}

static void
expect_response (int fd, struct buf *carry, const char *body,
                 const char *connection_hdr, int line)
{
  struct http_resp r;
  int rc = raw_read_response (fd, carry, 0, &r, RAW_TIMEOUT_MS, NULL);
  if (1 != rc)
  {
    test_fail (__FILE__, line, "no response (expected body \"%s\"), rc %d",
               body, rc);
    return;
  }
  if (0 != strcmp (r.version, "HTTP/1.1"))
    test_fail (__FILE__, line, "status line version %s", r.version);
  if (200 != r.status)
    test_fail (__FILE__, line, "status %d", r.status);
  if (0 != strcmp (r.reason, "OK"))
    test_fail (__FILE__, line, "reason \"%s\"", r.reason);
  if (0 != strcmp (body, r.body.data))
    test_fail (__FILE__, line, "body \"%s\", expected \"%s\"", r.body.data,
               body);
  if (! is_imf_date (http_resp_header (&r, "Date")))
    test_fail (__FILE__, line, "bad Date header \"%s\"",
               http_resp_header (&r, "Date") ? http_resp_header (&r, "Date") :
               "(none)");
  if (1 != http_resp_header_count (&r, "Date"))
    test_fail (__FILE__, line, "%zu Date headers",
               http_resp_header_count (&r, "Date"));
  {
    const char *cv = http_resp_header (&r, "Connection");
    if ((NULL == connection_hdr) != (NULL == cv) ||
        ((NULL != cv) && (0 != strcasecmp (cv, connection_hdr))))
      test_fail (__FILE__, line, "Connection header \"%s\", expected \"%s\"",
                 cv ? cv : "(none)", connection_hdr ? connection_hdr : "(none)");
  }
  http_resp_free (&r);
}

/* 1 if the socket is still open (nothing, no EOF, within ms). */
static int
still_open (int fd, int ms)
{
  struct buf b;
  ssize_t n;
  buf_init (&b);
  n = raw_read_some (fd, &b, ms);
  buf_free (&b);
  return -2 == n;
}

static void
run (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fd;
  struct buf carry;

  test_conns_started = test_conns_closed = 0;
  d = START_DAEMON (0, handler, NULL,
                    MHD_OPTION_NOTIFY_CONNECTION, test_count_connections, NULL,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  buf_init (&carry);

  /* keep-alive: two requests, one socket */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_response (fd, &carry, "GET /one", NULL, __LINE__);
  raw_send_str (fd, "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  expect_response (fd, &carry, "POST /two", NULL, __LINE__);
  CHECK (still_open (fd, 200));
  raw_send_str (fd, "GET /three HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_response (fd, &carry, "GET /three", NULL, __LINE__);
  close (fd);
  if (test_ref_tpc ())
  {
    if (! test_wait_ge (&test_conns_closed, 1, 1000))
      test_diff ("thread per connection: no CLOSED notification 1 s after "
                 "the client closed");
  }
  else
    CHECK (test_wait_ge (&test_conns_closed, 1, 5000));
  CHECK_INT (1, test_conns_started);
  CHECK_INT (0, carry.len);

  /* HTTP/1.0 without keep-alive: response then close */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd, "GET /ten HTTP/1.0\r\n\r\n");
  expect_response (fd, &carry, "GET /ten", "close", __LINE__);
  CHECK (raw_wait_closed (fd, NULL, RAW_TIMEOUT_MS));
  close (fd);
  buf_consume (&carry, carry.len);

  /* HTTP/1.0 with Connection: keep-alive: kept open */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd, "GET /ka1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  expect_response (fd, &carry, "GET /ka1", "Keep-Alive", __LINE__);
  CHECK (still_open (fd, 200));
  raw_send_str (fd, "GET /ka2 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  expect_response (fd, &carry, "GET /ka2", "Keep-Alive", __LINE__);
  /* then a plain HTTP/1.0 request on the same connection closes it */
  raw_send_str (fd, "GET /ka3 HTTP/1.0\r\n\r\n");
  expect_response (fd, &carry, "GET /ka3", "close", __LINE__);
  CHECK (raw_wait_closed (fd, NULL, RAW_TIMEOUT_MS));
  close (fd);
  buf_consume (&carry, carry.len);

  /* pipelining: three requests in one send, responses in order */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd,
                "GET /p1 HTTP/1.1\r\nHost: x\r\n\r\n"
                "POST /p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                "GET /p3 HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_response (fd, &carry, "GET /p1", NULL, __LINE__);
  expect_response (fd, &carry, "POST /p2", NULL, __LINE__);
  expect_response (fd, &carry, "GET /p3", NULL, __LINE__);
  CHECK (still_open (fd, 100));
  close (fd);
  CHECK_INT (0, carry.len);

  /* pipelining with the last request asking to close */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd,
                "GET /q1 HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /q2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  expect_response (fd, &carry, "GET /q1", NULL, __LINE__);
  expect_response (fd, &carry, "GET /q2", "close", __LINE__);
  CHECK (raw_wait_closed (fd, NULL, RAW_TIMEOUT_MS));
  close (fd);
  CHECK_INT (0, carry.len);
  buf_consume (&carry, carry.len);

  /* Connection: close on HTTP/1.1 */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd, "GET /close HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  expect_response (fd, &carry, "GET /close", "close", __LINE__);
  CHECK (raw_wait_closed (fd, NULL, RAW_TIMEOUT_MS));
  close (fd);
  buf_consume (&carry, carry.len);

  /* Connection header with several tokens, close among them */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd, "GET /close2 HTTP/1.1\r\nHost: x\r\n"
                "Connection: TE, close\r\nTE: trailers\r\n\r\n");
  expect_response (fd, &carry, "GET /close2", "close", __LINE__);
  CHECK (raw_wait_closed (fd, NULL, RAW_TIMEOUT_MS));
  close (fd);
  buf_consume (&carry, carry.len);

  /* Request split across many small sends (byte by byte headers) */
  {
    const char *req = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Y: z\r\n\r\n";
    size_t i;
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    for (i = 0; req[i]; i++)
      raw_send (fd, req + i, 1);
    expect_response (fd, &carry, "GET /slow", NULL, __LINE__);
    close (fd);
    buf_consume (&carry, carry.len);
  }

  /* many requests on one connection */
  {
    int i;
    char req[64], body[64];
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    for (i = 0; i < 50; i++)
    {
      snprintf (req, sizeof (req), "GET /n%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
      snprintf (body, sizeof (body), "GET /n%d", i);
      raw_send_str (fd, req);
      expect_response (fd, &carry, body, NULL, __LINE__);
    }
    close (fd);
    buf_consume (&carry, carry.len);
  }

  buf_free (&carry);
  test_stop_daemon (d);
}

int
main (void)
{
  return test_run_modes ("test_keepalive", run);
}
