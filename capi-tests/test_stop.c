/* test_stop: MHD_stop_daemon while clients are mid-request.
 *
 * At the moment of the stop the daemon has: a client that sent nothing,
 * one with half its headers, one with half its body (handler called),
 * 16 more with half their bodies, one receiving a 64 MiB response it does
 * not read, an idle keep-alive connection, and one whose handler is
 * running (it returns once the stop has begun).  Then:
 * - MHD_stop_daemon returns within 5 s (a watchdog fails the test rather
 *   than hanging);
 * - every request the handler saw completes exactly once: with
 *   DAEMON_SHUTDOWN when cut short (COMPLETED_OK allowed for the one whose
 *   handler was running and whose short reply may have gone out), none for
 *   the clients whose headers never arrived;
 * - the 64 MiB response is destroyed (its free callback runs);
 * - every STARTED connection gets its CLOSED notification; no callback
 *   runs after MHD_stop_daemon returned;
 * - every client sees its connection closed; the port refuses new
 *   connections, and a new daemon can bind the same port at once.
 * Our library only (0.9.75 calls it an API violation and panics): a
 * daemon stopped with a suspended connection completes that request with
 * DAEMON_SHUTDOWN and closes it. */
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <netinet/in.h>

#define BIG_SIZE (64u * 1024 * 1024)
#define NHALF 16

static volatile int n_first;
static volatile int n_completed;
static volatile int n_shutdown;
static volatile int n_ok;
static volatile int n_other;
static volatile int other_code;
static volatile int n_started;
static volatile int n_closed;
static volatile int n_free;
static volatile int after_stop;
static volatile int stopped;
static volatile int blocker_in;      /* the /block handler is running */
static volatile int release_blocker; /* set right before MHD_stop_daemon */
static volatile int n_suspended;

static void
count_after_stop (void)
{
  if (ATOMIC_GET (&stopped))
    ATOMIC_INC (&after_stop);
}

static ssize_t
big_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  (void) cls;
  if (pos >= BIG_SIZE)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (max > BIG_SIZE - pos)
    max = (size_t) (BIG_SIZE - pos);
  memset (buf, 'y', max);
  return (ssize_t) max;
}

static void
big_free (void *cls)
{
  (void) cls;
  count_after_stop ();
  ATOMIC_INC (&n_free);
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
  count_after_stop ();
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
  if (0 == strcmp (url, "/block"))
  {
    ATOMIC_SET (&blocker_in, 1);
    /* bounded: the main thread releases us when it starts the stop */
    test_wait_ge (&release_blocker, 1, 5000);
  }
  if (0 == strcmp (url, "/suspend"))
  {
    MHD_suspend_connection (c);
    ATOMIC_INC (&n_suspended);
    return MHD_YES;
  }
  return test_reply (c, MHD_HTTP_OK, "ok");
}

static void
completed_cb (void *cls, struct MHD_Connection *c, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) c;
  (void) con_cls;
  count_after_stop ();
  if (MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN == toe)
    ATOMIC_INC (&n_shutdown);
  else if (MHD_REQUEST_TERMINATED_COMPLETED_OK == toe)
    ATOMIC_INC (&n_ok);
  else
  {
    ATOMIC_SET (&other_code, (int) toe);
    ATOMIC_INC (&n_other);
  }
  ATOMIC_INC (&n_completed);
}

static void
conn_cb (void *cls, struct MHD_Connection *c, void **socket_context,
         enum MHD_ConnectionNotificationCode toe)
{
  (void) cls;
  (void) c;
  (void) socket_context;
  count_after_stop ();
  if (MHD_CONNECTION_NOTIFY_STARTED == toe)
    ATOMIC_INC (&n_started);
  else
    ATOMIC_INC (&n_closed);
}

static void
watchdog (int sig)
{
  static const char msg[] =
    "FAIL test_stop.c: MHD_stop_daemon did not return within 10 s\n";
  (void) sig;
  (void) ! write (2, msg, sizeof (msg) - 1);
  _exit (TEST_EXIT_FAIL);
}

/* Stop with a watchdog; returns the time it took in ms. */
static uint64_t
stop_bounded (struct MHD_Daemon *d)
{
  uint64_t t0 = test_now_ms ();
  signal (SIGALRM, watchdog);
  alarm (10);
  test_stop_daemon (d);
  alarm (0);
  ATOMIC_SET (&stopped, 1);
  return test_now_ms () - t0;
}

static void
reset (void)
{
  n_first = n_completed = n_shutdown = n_ok = n_other = 0;
  n_started = n_closed = n_free = after_stop = stopped = 0;
  blocker_in = release_blocker = n_suspended = 0;
  other_code = -1;
}

static struct MHD_Daemon *
start (unsigned int extra, struct sockaddr_in *sa)
{
  if (NULL != sa)
    return test_start_daemon (extra, handler, NULL,
                              MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                              MHD_OPTION_NOTIFY_CONNECTION, conn_cb, NULL,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *) sa,
                              MHD_OPTION_END);
  return START_DAEMON (extra, handler, NULL,
                       MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                       MHD_OPTION_NOTIFY_CONNECTION, conn_cb, NULL,
                       MHD_OPTION_END);
}

static int
connect_small_rcvbuf (uint16_t port)
{
  struct sockaddr_in sa;
  int small = 4096;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SETUP_CHECK (fd >= 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof (small));
  memset (&sa, 0, sizeof (sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons (port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  SETUP_CHECK (0 == connect (fd, (struct sockaddr *) &sa, sizeof (sa)));
  return fd;
}

/* Read until EOF/reset within ms, discarding data. */
static int
drained_to_close (int fd, int ms)
{
  struct buf b;
  uint64_t end = test_now_ms () + (uint64_t) ms;
  buf_init (&b);
  while (test_now_ms () < end)
  {
    ssize_t n = raw_read_some (fd, &b, (int) (end - test_now_ms ()));
    b.len = 0;
    if ((0 == n) || (-1 == n))
    {
      buf_free (&b);
      return 1;
    }
    if (-2 == n)
      break;
  }
  buf_free (&b);
  return 0;
}

static void
part_mid_request (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int idle, half_hdr, half_body, big, ka, block;
  int halves[NHALF];
  int i, expect_first;
  struct buf carry;
  struct http_resp r;
  uint64_t took;

  reset ();
  d = start (0, NULL);
  port = test_daemon_port (d);
  buf_init (&carry);

  idle = raw_connect (port);
  half_hdr = raw_connect (port);
  half_body = raw_connect (port);
  ka = raw_connect (port);
  block = raw_connect (port);
  SETUP_CHECK (idle >= 0 && half_hdr >= 0 && half_body >= 0 && ka >= 0 &&
               block >= 0);
  big = connect_small_rcvbuf (port);
  raw_send_str (half_hdr, "GET / HTTP/1.1\r\nHost: x\r\nX-Cut: ");
  raw_send_str (half_body, "POST / HTTP/1.1\r\nHost: x\r\n"
                "Content-Length: 1000\r\n\r\nsome of it");
  for (i = 0; i < NHALF; i++)
  {
    halves[i] = raw_connect (port);
    SETUP_CHECK (halves[i] >= 0);
    raw_send_str (halves[i], "PUT /h HTTP/1.1\r\nHost: x\r\n"
                  "Content-Length: 50\r\n\r\n0123456789");
  }
  raw_send_str (big, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  raw_send_str (ka, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_INT (1, raw_read_response (ka, &carry, 0, &r, RAW_TIMEOUT_MS, NULL));
  http_resp_free (&r);
  /* the handler has seen: half_body, NHALF halves, big, ka */
  expect_first = 1 + NHALF + 1 + 1;
  CHECK_MSG (test_wait_ge (&n_first, expect_first, 5000),
             "handler saw %d of %d requests", n_first, expect_first);
  CHECK (test_wait_ge (&n_completed, 1, 5000));   /* ka's request */
  raw_send_str (block, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK (test_wait_ge (&blocker_in, 1, 5000));
  expect_first++;
  CHECK_INT (expect_first, n_first);
  CHECK_INT (1, n_completed);
  CHECK_INT (0, n_free);

  ATOMIC_SET (&release_blocker, 1);
  took = stop_bounded (d);
  test_note ("MHD_stop_daemon took %llu ms", (unsigned long long) took);
  CHECK_MSG (took < 5000, "MHD_stop_daemon took %llu ms",
             (unsigned long long) took);

  /* every request the handler saw completed exactly once */
  CHECK_INT (expect_first, n_completed);
  CHECK_INT (expect_first, n_first);
  if (test_ref_tpc () && (n_other > 0))
    test_diff ("thread per connection: requests cut short by "
               "MHD_stop_daemon complete with code %d, not DAEMON_SHUTDOWN",
               other_code);
  else
  {
    CHECK_MSG (0 == n_other, "%d completions with code %d", n_other,
               other_code);
    /* ka: OK; block: OK or SHUTDOWN; the rest: SHUTDOWN */
    CHECK_MSG ((n_ok >= 1) && (n_ok <= 2),
               "%d requests completed OK (expected ka's, maybe block's)",
               n_ok);
    CHECK_INT (expect_first - n_ok, n_shutdown);
  }
  CHECK_INT (1, n_free);
  if (test_ref_tpc () && (n_closed != n_started))
    test_diff ("thread per connection: %d CLOSED notifications for %d "
               "STARTED after MHD_stop_daemon", n_closed, n_started);
  else
    CHECK_INT (n_started, n_closed);
  CHECK_MSG (n_started >= 6 + NHALF - 1,
             "only %d connections started", n_started);

  /* all clients see the close */
  CHECK_MSG (raw_wait_closed (idle, NULL, 2000), "idle client not closed");
  CHECK_MSG (raw_wait_closed (half_hdr, NULL, 2000),
             "half-headers client not closed");
  CHECK_MSG (raw_wait_closed (half_body, NULL, 2000),
             "half-body client not closed");
  CHECK_MSG (raw_wait_closed (ka, NULL, 2000), "keep-alive client not closed");
  CHECK_MSG (drained_to_close (block, 2000), "blocked client not closed");
  CHECK_MSG (drained_to_close (big, 10000), "64 MiB client not closed");
  for (i = 0; i < NHALF; i++)
  {
    CHECK_MSG (raw_wait_closed (halves[i], NULL, 2000),
               "half-body client %d not closed", i);
    close (halves[i]);
  }
  close (idle);
  close (half_hdr);
  close (half_body);
  close (ka);
  close (block);
  close (big);
  CHECK_INT (0, after_stop);

  /* the port is free: refused now, and a new daemon can take it */
  CHECK (raw_connect (port) < 0);
  {
    struct sockaddr_in sa;
    struct MHD_Daemon *d2;
    memset (&sa, 0, sizeof (sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons (port);
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    reset ();
    d2 = start (0, &sa);
    CHECK_MSG (NULL != d2, "cannot bind port %u again after the stop",
               (unsigned) port);
    if (NULL != d2)
    {
      int fd = raw_connect (port);
      CHECK (fd >= 0);
      if (fd >= 0)
      {
        raw_send_str (fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK_INT (1, raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS,
                                         NULL));
        if (200 != r.status)
          test_fail (__FILE__, __LINE__, "restarted daemon: %d", r.status);
        http_resp_free (&r);
        close (fd);
      }
      stop_bounded (d2);
    }
  }
  buf_free (&carry);
}

static void
part_suspended (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fd;
  if (test_is_reference ())
  {
    test_diff ("MHD_stop_daemon with a suspended connection: an API "
               "violation in 0.9.75 (it panics), not exercised");
    return;
  }
  reset ();
  d = start (MHD_ALLOW_SUSPEND_RESUME, NULL);
  port = test_daemon_port (d);
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd, "GET /suspend HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK (test_wait_ge (&n_suspended, 1, 5000));
  stop_bounded (d);
  CHECK_INT (1, n_completed);
  CHECK_INT (1, n_shutdown);
  CHECK_INT (n_started, n_closed);
  CHECK_MSG (raw_wait_closed (fd, NULL, 2000),
             "suspended connection not closed by MHD_stop_daemon");
  CHECK_INT (0, after_stop);
  close (fd);
}

static void
run (void)
{
  part_mid_request ();
  part_suspended ();
}

int
main (void)
{
  return test_run_modes ("test_stop", run);
}
