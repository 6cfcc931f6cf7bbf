/* test_quiesce: MHD_quiesce_daemon with requests in flight.
 *
 * - MHD_quiesce_daemon returns the listening socket (the one
 *   MHD_DAEMON_INFO_LISTEN_FD gave), and the daemon stops accepting: a new
 *   client's connect lands in the backlog and is never served;
 * - a request whose body is half sent when the daemon is quiesced
 *   completes normally, and a keep-alive connection accepted before keeps
 *   being served;
 * - the application owns the socket: it can accept the pending client
 *   itself; a second MHD_quiesce_daemon returns MHD_INVALID_SOCKET;
 * - MHD_stop_daemon leaves the quiesced socket open (still listening).
 * Daemons get MHD_USE_ITC, which 0.9.75 requires for quiesce with an
 * internal thread. */
#include "common.h"
#include <pthread.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>

static volatile int n_first;       /* first handler calls */
static volatile int n_completed;
static volatile int n_completed_ok;

struct ctx
{
  size_t got;
};

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  struct ctx *x = *con_cls;
  char body[128];
  (void) cls;
  (void) version;
  (void) upload;
  if (NULL == x)
  {
    x = calloc (1, sizeof (*x));
    if (NULL == x)
      abort ();
    *con_cls = x;
    ATOMIC_INC (&n_first);
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    x->got += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }
  snprintf (body, sizeof (body), "%s %s %zu", method, url, x->got);
  return test_reply (c, MHD_HTTP_OK, body);
}

static void
completed_cb (void *cls, struct MHD_Connection *c, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) c;
  free (*con_cls);
  *con_cls = NULL;
  if (MHD_REQUEST_TERMINATED_COMPLETED_OK == toe)
    ATOMIC_INC (&n_completed_ok);
  ATOMIC_INC (&n_completed);
}

static void
expect_body (int fd, struct buf *carry, const char *body, int line)
{
  struct http_resp r;
  if (1 != raw_read_response (fd, carry, 0, &r, RAW_TIMEOUT_MS, NULL))
  {
    test_fail (__FILE__, line, "no response (expected \"%s\")", body);
    return;
  }
  if ((200 != r.status) || (0 != strcmp (body, r.body.data)))
    test_fail (__FILE__, line, "got %d \"%s\", expected 200 \"%s\"",
               r.status, r.body.data, body);
  http_resp_free (&r);
}

static void
run (void)
{
  struct MHD_Daemon *d;
  const union MHD_DaemonInfo *di;
  uint16_t port;
  MHD_socket lfd, q, q2;
  int ka, half, late, acc;
  struct buf cka, chalf, clate;
  ssize_t n;

  n_first = n_completed = n_completed_ok = 0;
  d = START_DAEMON (MHD_USE_ITC, handler, NULL,
                    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_LISTEN_FD);
  SETUP_CHECK (NULL != di);
  lfd = di->listen_fd;
  buf_init (&cka);
  buf_init (&chalf);
  buf_init (&clate);

  /* a keep-alive connection with one finished request */
  ka = raw_connect (port);
  SETUP_CHECK (ka >= 0);
  raw_send_str (ka, "GET /ka1 HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_body (ka, &cka, "GET /ka1 0", __LINE__);
  /* a request in flight: headers and half of the body */
  half = raw_connect (port);
  SETUP_CHECK (half >= 0);
  raw_send_str (half, "POST /half HTTP/1.1\r\nHost: x\r\n"
                "Content-Length: 10\r\n\r\n01234");
  CHECK (test_wait_ge (&n_first, 2, 5000));
  CHECK (test_wait_connections (d, 2, 5000));

  q = MHD_quiesce_daemon (d);
  CHECK_INT (lfd, q);
  SETUP_CHECK (MHD_INVALID_SOCKET != q);

  /* no longer accepting: the client waits in the backlog, unserved */
  late = raw_connect (port);
  CHECK_MSG (late >= 0, "connect after quiesce failed (the socket must "
             "stay open, owned by the application)");
  if (late >= 0)
  {
    raw_send_str (late, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
    n = raw_read_some (late, &clate, 500);
    CHECK_MSG (-2 == n, "client connecting after quiesce got %zd (%s)", n,
               clate.len ? clate.data : "no data");
  }
  CHECK_INT (2, n_first);
  CHECK_INT (2, test_current_connections (d));

  /* the request in flight completes */
  raw_send_str (half, "56789");
  expect_body (half, &chalf, "POST /half 10", __LINE__);
  /* the keep-alive connection is still served */
  raw_send_str (ka, "GET /ka2 HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_body (ka, &cka, "GET /ka2 0", __LINE__);
  CHECK (test_wait_ge (&n_completed, 3, 5000));
  CHECK_INT (3, n_completed_ok);
  CHECK_INT (3, n_first);

  /* the application owns the socket: it accepts the waiting client */
  {
    int fl = fcntl (q, F_GETFL);
    uint64_t end = test_now_ms () + 2000;
    if (fl >= 0)
      fcntl (q, F_SETFL, fl | O_NONBLOCK);
    do
    {
      acc = accept (q, NULL, NULL);
      if (acc >= 0)
        break;
      test_sleep_ms (2);
    } while (((EAGAIN == errno) || (EWOULDBLOCK == errno)) &&
             (test_now_ms () < end));
    CHECK_MSG (acc >= 0, "accept on the quiesced socket: %s",
               strerror (errno));
    if (acc >= 0)
    {
      close (acc);
      if (late >= 0)
        CHECK (raw_wait_closed (late, NULL, RAW_TIMEOUT_MS));
    }
  }
  CHECK_INT (3, n_first);

  /* a second quiesce has no socket to give ("MHD_INVALID_SOCKET if the
     daemon was already not listening anymore") */
  q2 = MHD_quiesce_daemon (d);
  if (test_is_reference () && (q == q2))
    test_diff ("a second MHD_quiesce_daemon returns the old socket again, "
               "not MHD_INVALID_SOCKET");
  else
    CHECK_INT (MHD_INVALID_SOCKET, q2);

  close (ka);
  close (half);
  if (late >= 0)
    close (late);
  test_stop_daemon (d);
  CHECK_INT (3, n_completed);
  /* stop left the quiesced socket alone: still open and listening */
  CHECK_MSG (fcntl (q, F_GETFD) >= 0, "quiesced socket closed by "
             "MHD_stop_daemon");
  late = raw_connect (port);
  CHECK_MSG (late >= 0, "quiesced socket no longer listening after stop");
  if (late >= 0)
    close (late);
  close (q);
  buf_free (&cka);
  buf_free (&chalf);
  buf_free (&clate);
}

int
main (void)
{
  return test_run_modes ("test_quiesce", run);
}
