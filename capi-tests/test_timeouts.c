/* test_timeouts: MHD_OPTION_CONNECTION_TIMEOUT against clients that stall.
 *
 * - half a request (headers cut off; body cut off): the connection is
 *   closed after about the timeout (not before 0.5 s, within 4 s), a
 *   request whose handler ran completes with TIMEOUT_REACHED;
 * - a client that never reads its (64 MiB) response: the stalled
 *   connection is dropped after the timeout with TIMEOUT_REACHED, the
 *   response's free callback runs, the connection count drops, and other
 *   clients are served all the while;
 * - MHD_set_connection_option (MHD_CONNECTION_OPTION_TIMEOUT) on one
 *   connection of a daemon without a timeout: that one is closed when
 *   idle, another stays open; MHD_CONNECTION_INFO_CONNECTION_TIMEOUT
 *   reports the new value;
 * - MHD_get_timeout (external modes, the test drives the daemon itself):
 *   MHD_NO with no timeout to wait for, then the real remaining time of a
 *   connection, decreasing as time passes; MHD_run_wait honours its
 *   limit; a timeout set from the application's loop between rounds
 *   counts at once. */
#include "common.h"
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <netinet/in.h>

#define BIG_SIZE (64u * 1024 * 1024)

static volatile int n_completed;
static volatile int last_toe;
static volatile int n_free;
static volatile int n_first;

static void
completed_cb (void *cls, struct MHD_Connection *c, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) c;
  (void) con_cls;
  ATOMIC_SET (&last_toe, (int) toe);
  ATOMIC_INC (&n_completed);
}

static ssize_t
big_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  (void) cls;
  if (pos >= BIG_SIZE)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (max > BIG_SIZE - pos)
    max = (size_t) (BIG_SIZE - pos);
  memset (buf, 'x', max);
  return (ssize_t) max;
}

static void
big_free (void *cls)
{
  (void) cls;
  ATOMIC_INC (&n_free);
}

/* /big: 64 MiB; /timeout1: sets the connection's timeout to 1 s; else
 * "ok". */
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
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    ATOMIC_INC (&n_first);
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    *upload_size = 0;
    return MHD_YES;
  }
  if (0 == strcmp (url, "/big"))
    return test_queue_and_destroy (
      c, MHD_HTTP_OK,
      MHD_create_response_from_callback (BIG_SIZE, 64 * 1024, big_reader,
                                         NULL, big_free));
  if (0 == strcmp (url, "/timeout1"))
  {
    const union MHD_ConnectionInfo *ci;
    CHECK_INT (MHD_YES, MHD_set_connection_option (c,
                                                   MHD_CONNECTION_OPTION_TIMEOUT,
                                                   (unsigned int) 1));
    ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_TIMEOUT);
    CHECK (NULL != ci);
    if (NULL != ci)
      CHECK_INT (1, ci->connection_timeout);
  }
  return test_reply (c, MHD_HTTP_OK, "ok");
}

static struct MHD_Daemon *
start (unsigned int timeout)
{
  n_completed = n_free = n_first = 0;
  last_toe = -1;
  return START_DAEMON (0, handler, NULL,
                       MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                       MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                       MHD_OPTION_END);
}

static int
served (uint16_t port)
{
  struct http_resp r;
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  int ok;
  if (! raw_request (port, req, strlen (req), 0, &r, NULL, 0))
    return 0;
  ok = (200 == r.status) && (0 == strcmp ("ok", r.body.data));
  http_resp_free (&r);
  return ok;
}

/* Sends req, then expects the server to close within [min_ms, max_ms].
 * Bytes the server sends before closing (a 408, say) are reported. */
static void
expect_timeout_close (uint16_t port, const char *what, const char *req)
{
  int fd = raw_connect (port);
  struct buf got;
  uint64_t t0, dt;
  int closed;
  SETUP_CHECK (fd >= 0);
  buf_init (&got);
  raw_send_str (fd, req);
  t0 = test_now_ms ();
  closed = raw_wait_closed (fd, &got, 4000);
  dt = test_now_ms () - t0;
  CHECK_MSG (closed, "%s: not closed within 4 s (timeout 1 s)", what);
  CHECK_MSG (dt >= 500, "%s: closed after %llu ms, before the timeout of "
             "1 s", what, (unsigned long long) dt);
  if (got.len > 0)
    CHECK_MSG (0 == strncmp (got.data, "HTTP/1.1 408", 12),
               "%s: server sent %zu bytes before closing: %.60s", what,
               got.len, got.data);
  test_note ("%s: closed after %llu ms, %zu bytes sent first", what,
             (unsigned long long) dt, got.len);
  buf_free (&got);
  close (fd);
}

static void
part_half_request (void)
{
  struct MHD_Daemon *d = start (1);
  uint16_t port = test_daemon_port (d);

  expect_timeout_close (port, "headers cut off",
                        "GET / HTTP/1.1\r\nHost: x\r\nX-Half: ");
  CHECK_INT (0, n_first);
  CHECK_INT (0, n_completed);
  expect_timeout_close (port, "body cut off",
                        "POST / HTTP/1.1\r\nHost: x\r\n"
                        "Content-Length: 100\r\n\r\nonly a part");
  CHECK (test_wait_ge (&n_completed, 1, 2000));
  CHECK_INT (MHD_REQUEST_TERMINATED_TIMEOUT_REACHED, last_toe);
  CHECK_INT (1, n_completed);
  /* the daemon still serves */
  CHECK (served (port));
  test_stop_daemon (d);
}

static void
part_never_reads (void)
{
  struct MHD_Daemon *d = start (1);
  uint16_t port = test_daemon_port (d);
  struct sockaddr_in sa;
  int fd, small = 4096;
  struct buf got;
  uint64_t t0;

  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SETUP_CHECK (fd >= 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof (small));
  memset (&sa, 0, sizeof (sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons (port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  SETUP_CHECK (0 == connect (fd, (struct sockaddr *) &sa, sizeof (sa)));
  raw_send_str (fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  t0 = test_now_ms ();
  /* while that connection is stuck writing, others are served */
  CHECK_MSG (served (port), "no service while a client does not read");
  CHECK_MSG (test_wait_ge (&n_completed, 2, 8000),
             "stalled 64 MiB response not dropped within 8 s (timeout 1 s)");
  test_note ("stalled reader dropped after %llu ms",
             (unsigned long long) (test_now_ms () - t0));
  CHECK_INT (MHD_REQUEST_TERMINATED_TIMEOUT_REACHED, last_toe);
  CHECK (test_wait_ge (&n_free, 1, 2000));
  if (test_ref_tpc () && ! test_wait_connections (d, 0, 1000))
    test_diff ("thread per connection: the connection count does not drop "
               "within 1 s after a timeout");
  else
    CHECK (test_wait_connections (d, 0, 5000));
  /* the client finds its connection closed, far short of 64 MiB */
  buf_init (&got);
  {
    uint64_t total = 0, end = test_now_ms () + 10000;
    ssize_t n = 1;
    while ((n > 0) && (test_now_ms () < end))
    {
      n = raw_read_some (fd, &got, 2000);
      if (n > 0)
        total += (uint64_t) n;
      got.len = 0;
    }
    CHECK_MSG ((0 == n) || (-1 == n),
               "client not at EOF after the server dropped it (%zd)", n);
    CHECK (total < BIG_SIZE);
    test_note ("the client had %llu bytes to read before EOF",
               (unsigned long long) total);
  }
  buf_free (&got);
  close (fd);
  CHECK (served (port));
  test_stop_daemon (d);
}

static void
part_connection_option (void)
{
  struct MHD_Daemon *d = start (0);
  uint16_t port = test_daemon_port (d);
  struct buf c1, c2;
  struct http_resp r;
  int a, b;
  uint64_t t0, dt;

  buf_init (&c1);
  buf_init (&c2);
  a = raw_connect (port);
  b = raw_connect (port);
  SETUP_CHECK (a >= 0 && b >= 0);
  raw_send_str (b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_INT (1, raw_read_response (b, &c2, 0, &r, RAW_TIMEOUT_MS, NULL));
  http_resp_free (&r);
  raw_send_str (a, "GET /timeout1 HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_INT (1, raw_read_response (a, &c1, 0, &r, RAW_TIMEOUT_MS, NULL));
  http_resp_free (&r);
  t0 = test_now_ms ();
  CHECK_MSG (raw_wait_closed (a, NULL, 4000), "connection with a 1 s "
             "timeout set by MHD_set_connection_option still open after 4 s");
  dt = test_now_ms () - t0;
  CHECK_MSG (dt >= 500, "closed after %llu ms", (unsigned long long) dt);
  /* the other connection has no timeout */
  {
    ssize_t n = raw_read_some (b, &c2, 10);
    CHECK_MSG (-2 == n, "connection without a timeout closed (%zd)", n);
  }
  close (a);
  close (b);
  buf_free (&c1);
  buf_free (&c2);
  test_stop_daemon (d);
}

/* External modes only: the test is the event loop. */
static void
part_get_timeout (void)
{
  struct MHD_Daemon *d;
  MHD_UNSIGNED_LONG_LONG to = 0;
  uint16_t port;
  int fd, i;
  uint64_t t0, dt;
  unsigned long long first;

  /* no connection timeout configured: nothing to wait for */
  d = MHD_start_daemon (cur_mode->flags, 0, NULL, NULL, handler, NULL,
                        MHD_OPTION_END);
  SETUP_CHECK (NULL != d);
  CHECK_INT (MHD_NO, MHD_get_timeout (d, &to));
  fd = raw_connect (test_daemon_port (d));
  SETUP_CHECK (fd >= 0);
  for (i = 0; i < 100 && 1 != test_current_connections (d); i++)
    MHD_run_wait (d, 10);
  CHECK_INT (1, test_current_connections (d));
  CHECK_INT (MHD_NO, MHD_get_timeout (d, &to));
  /* MHD_run_wait blocks no longer than asked when nothing happens */
  t0 = test_now_ms ();
  CHECK_INT (MHD_YES, MHD_run_wait (d, 200));
  dt = test_now_ms () - t0;
  CHECK_MSG (dt < 1000, "MHD_run_wait (200) took %llu ms",
             (unsigned long long) dt);
  close (fd);
  MHD_stop_daemon (d);

  /* timeout 2 s: none while idle, then the remaining time of the one
     connection */
  d = MHD_start_daemon (cur_mode->flags, 0, NULL, NULL, handler, NULL,
                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 2,
                        MHD_OPTION_END);
  SETUP_CHECK (NULL != d);
  port = test_daemon_port (d);
  CHECK_INT (MHD_NO, MHD_get_timeout (d, &to));
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  for (i = 0; i < 100 && 1 != test_current_connections (d); i++)
    MHD_run_wait (d, 10);
  CHECK_INT (1, test_current_connections (d));
  CHECK_INT (MHD_YES, MHD_get_timeout (d, &to));
  first = (unsigned long long) to;
  test_note ("MHD_get_timeout right after accept: %llu ms", first);
  CHECK_MSG ((first > 1000) && (first <= 2000),
             "remaining time %llu ms right after accepting (timeout 2 s)",
             first);
  /* the client paces itself: 600 ms later the remaining time is shorter */
  test_sleep_ms (600);
  MHD_run_wait (d, 0);
  CHECK_INT (MHD_YES, MHD_get_timeout (d, &to));
  test_note ("MHD_get_timeout 600 ms later: %llu ms",
             (unsigned long long) to);
  CHECK_MSG ((unsigned long long) to + 400 <= first,
             "remaining time went from %llu to %llu ms in 600 ms", first,
             (unsigned long long) to);
  /* when it has elapsed, MHD_run closes the connection */
  t0 = test_now_ms ();
  while ((1 == test_current_connections (d)) && (test_now_ms () - t0 < 5000))
  {
    if ((MHD_YES == MHD_get_timeout (d, &to)) && (to > 1000))
      to = 1000;
    MHD_run_wait (d, (int32_t) to);
  }
  CHECK_INT (0, test_current_connections (d));
  CHECK (raw_wait_closed (fd, NULL, 1000));
  CHECK_INT (MHD_NO, MHD_get_timeout (d, &to));
  close (fd);
  MHD_stop_daemon (d);
}

static struct MHD_Connection *noted;

static void
note_connection (void *cls, struct MHD_Connection *c, void **socket_context,
                 enum MHD_ConnectionNotificationCode toe)
{
  (void) cls;
  (void) socket_context;
  noted = (MHD_CONNECTION_NOTIFY_STARTED == toe) ? c : NULL;
}

/* External modes: the application's own loop, between two rounds, sets a
 * timeout on an idle keep-alive connection of a daemon that has none.
 * MHD_get_timeout counts with it at once, and the loop closes the
 * connection once it has passed. */
static void
part_option_from_loop (void)
{
  struct MHD_Daemon *d;
  MHD_UNSIGNED_LONG_LONG to = 0;
  struct buf b;
  struct pollfd p;
  int fd, i;
  uint64_t t0;

  noted = NULL;
  buf_init (&b);
  d = MHD_start_daemon (cur_mode->flags, 0, NULL, NULL, handler, NULL,
                        MHD_OPTION_NOTIFY_CONNECTION, note_connection, NULL,
                        MHD_OPTION_END);
  SETUP_CHECK (NULL != d);
  fd = raw_connect (test_daemon_port (d));
  SETUP_CHECK (fd >= 0);
  SETUP_CHECK (0 == raw_send_str (fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  p.fd = fd;
  p.events = POLLIN;
  for (i = 0; i < 200 && 1 != poll (&p, 1, 0); i++)
    MHD_run_wait (d, 10);
  CHECK_INT (RAW_OK, raw_read_headers (fd, &b, 1000));
  CHECK (NULL != b.data && 0 == strncmp (b.data, "HTTP/1.1 200", 12));
  buf_free (&b);
  CHECK (NULL != noted);
  CHECK_INT (MHD_NO, MHD_get_timeout (d, &to));
  if (NULL != noted)
  {
    CHECK_INT (MHD_YES, MHD_set_connection_option (noted,
                                                   MHD_CONNECTION_OPTION_TIMEOUT,
                                                   (unsigned int) 1));
    CHECK_INT (MHD_YES, MHD_get_timeout (d, &to));
    CHECK_MSG (to <= 1000, "remaining time %llu ms of a 1 s timeout",
               (unsigned long long) to);
  }
  t0 = test_now_ms ();
  while ((1 == test_current_connections (d)) && (test_now_ms () - t0 < 5000))
  {
    if ((MHD_YES != MHD_get_timeout (d, &to)) || (to > 1000))
      to = 1000;
    MHD_run_wait (d, (int32_t) to);
  }
  CHECK_MSG (test_now_ms () - t0 >= 500, "closed %llu ms after a 1 s timeout",
             (unsigned long long) (test_now_ms () - t0));
  CHECK_INT (0, test_current_connections (d));
  CHECK (raw_wait_closed (fd, NULL, 1000));
  close (fd);
  MHD_stop_daemon (d);
}

static void
run (void)
{
  part_half_request ();
  part_never_reads ();
  part_connection_option ();
  if (test_mode_external ())
  {
    part_get_timeout ();
    part_option_from_loop ();
  }
}

int
main (void)
{
  return test_run_modes ("test_timeouts", run);
}
