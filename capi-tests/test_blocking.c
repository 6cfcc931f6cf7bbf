/* test_blocking: thread per connection lets callbacks block.
 *
 * What an application chooses MHD_USE_THREAD_PER_CONNECTION for: its
 * access handler and content readers may block (a slow query, a long
 * poll) without holding up the other clients.  Checked in the
 * thread-per-connection modes only (the others must not block):
 *  parallel    16 clients whose handler sleeps 400 ms are answered
 *              together (in under 3 s; one after the other is 6.4 s), the
 *              sleeps overlap, and a quick request on a 17th connection
 *              is answered while they sleep
 *  compute     a handler that computes for 500 ms (never sleeps) does not
 *              hold up a quick request on another connection until it ends
 *  rendezvous  a content reader that waits for another client's request
 *              (a long poll) gets it: /wait blocks until /notify arrives
 *              on another connection
 *  stop        MHD_stop_daemon while a handler blocks returns only after
 *              the handler returned and its request completed, once, with
 *              DAEMON_SHUTDOWN or OK
 *  after       once handlers have blocked, 100 quick keep-alive requests
 *              on 10 connections are all answered, and the connection
 *              count returns to 0
 */
#include "common.h"
#include <pthread.h>
#include <unistd.h>

#define SLEEPERS 16
#define SLEEP_MS 400

static volatile int in_sleep;     /* handlers sleeping now */
static volatile int max_in_sleep; /* the most at once */
static volatile int sleeps_done;
static volatile int n_completed;
static volatile int completed_code;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int notified;

static volatile int spinning;
static volatile int spins_done;

static void
spin_in_handler (int ms)
{
  uint64_t end = test_now_ms () + (uint64_t) ms;
  volatile unsigned long x = 0;
  ATOMIC_INC (&spinning);
  while (test_now_ms () < end)
    x++;
  ATOMIC_INC (&spins_done);
}

static void
sleep_in_handler (int ms)
{
  int now = ATOMIC_INC (&in_sleep);
  int m;
  while ((m = ATOMIC_GET (&max_in_sleep)) < now)
    __atomic_compare_exchange_n (&max_in_sleep, &m, now, 0, __ATOMIC_SEQ_CST,
                                 __ATOMIC_SEQ_CST);
  usleep ((useconds_t) ms * 1000);
  __atomic_sub_fetch (&in_sleep, 1, __ATOMIC_SEQ_CST);
  ATOMIC_INC (&sleeps_done);
}

/* Content reader of /wait: blocks until /notify (5 s at most). */
static ssize_t
wait_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  struct timespec until;
  int got;
  (void) cls;
  if (pos > 0)
    return MHD_CONTENT_READER_END_OF_STREAM;
  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  pthread_mutex_lock (&lock);
  while (! notified)
    if (0 != pthread_cond_timedwait (&cond, &lock, &until))
      break;
  got = notified;
  pthread_mutex_unlock (&lock);
  if (max < 7)
    return 0;
  memcpy (buf, got ? "woken\n" : "late!\n", 6);
  return 6;
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
  if (0 == strcmp (url, "/sleep"))
  {
    sleep_in_handler (SLEEP_MS);
    return test_reply (c, MHD_HTTP_OK, "slept");
  }
  if (0 == strcmp (url, "/spin"))
  {
    spin_in_handler (500);
    return test_reply (c, MHD_HTTP_OK, "spun");
  }
  if (0 == strcmp (url, "/wait"))
    return test_queue_and_destroy (
      c, MHD_HTTP_OK,
      MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 64, &wait_reader,
                                         NULL, NULL));
  if (0 == strcmp (url, "/notify"))
  {
    pthread_mutex_lock (&lock);
    notified = 1;
    pthread_cond_broadcast (&cond);
    pthread_mutex_unlock (&lock);
    return test_reply (c, MHD_HTTP_OK, "notified");
  }
  return test_reply (c, MHD_HTTP_OK, "quick");
}

static void
completed_cb (void *cls, struct MHD_Connection *c, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) c;
  (void) con_cls;
  ATOMIC_SET (&completed_code, (int) toe);
  ATOMIC_INC (&n_completed);
}

static struct MHD_Daemon *
start (void)
{
  return START_DAEMON (0, &handler, NULL,
                       MHD_OPTION_NOTIFY_COMPLETED, &completed_cb, NULL,
                       MHD_OPTION_END);
}

/* Reads one response on fd and checks its status and body. */
static void
expect_reply (int fd, struct buf *carry, const char *body, const char *what)
{
  struct http_resp r;
  int closed = 0;
  memset (&r, 0, sizeof (r));
  if (1 != raw_read_response (fd, carry, 0, &r, RAW_TIMEOUT_MS, &closed))
  {
    CHECK_MSG (0, "%s: no response", what);
    return;
  }
  CHECK_INT (200, r.status);
  CHECK_MEM (body, strlen (body), r.body.data, r.body.len);
  http_resp_free (&r);
}

static void
case_parallel (void)
{
  struct MHD_Daemon *d = start ();
  uint16_t port = test_daemon_port (d);
  int fds[SLEEPERS], q, i;
  struct buf carry[SLEEPERS], qc;
  uint64_t t0, tq;
  ATOMIC_SET (&in_sleep, 0);
  ATOMIC_SET (&max_in_sleep, 0);
  ATOMIC_SET (&sleeps_done, 0);
  for (i = 0; i < SLEEPERS; i++)
  {
    fds[i] = raw_connect (port);
    SETUP_CHECK (fds[i] >= 0);
    buf_init (&carry[i]);
  }
  q = raw_connect (port);
  SETUP_CHECK (q >= 0);
  buf_init (&qc);
  t0 = test_now_ms ();
  for (i = 0; i < SLEEPERS; i++)
    CHECK (0 == raw_send_str (fds[i], "GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n"));
  /* a quick request while they sleep */
  CHECK (test_wait_ge (&in_sleep, 1, 2000));
  CHECK (0 == raw_send_str (q, "GET /quick HTTP/1.1\r\nHost: x\r\n\r\n"));
  expect_reply (q, &qc, "quick", "parallel: quick request");
  tq = test_now_ms () - t0;
  CHECK_MSG (ATOMIC_GET (&sleeps_done) < SLEEPERS,
             "parallel: the quick request waited for every sleeper (%llu ms)",
             (unsigned long long) tq);
  for (i = 0; i < SLEEPERS; i++)
    expect_reply (fds[i], &carry[i], "slept", "parallel: sleeper");
  test_note ("parallel: quick answer after %llu ms, all after %llu ms, "
             "%d sleeping at once", (unsigned long long) tq,
             (unsigned long long) (test_now_ms () - t0),
             ATOMIC_GET (&max_in_sleep));
  CHECK_MSG (test_now_ms () - t0 < 3000,
             "parallel: %d sleeps of %d ms took %llu ms", SLEEPERS, SLEEP_MS,
             (unsigned long long) (test_now_ms () - t0));
  CHECK_MSG (ATOMIC_GET (&max_in_sleep) >= SLEEPERS / 2,
             "parallel: at most %d handlers slept at once",
             ATOMIC_GET (&max_in_sleep));
  for (i = 0; i < SLEEPERS; i++)
  {
    close (fds[i]);
    buf_free (&carry[i]);
  }
  close (q);
  buf_free (&qc);
  CHECK (test_wait_connections (d, 0, 5000));
  test_stop_daemon (d);
}

/* Two client connections with their read buffers. */
struct two
{
  int a, b;
  struct buf ca, cb;
};

static void
two_open (struct two *t, uint16_t port)
{
  t->a = raw_connect (port);
  t->b = raw_connect (port);
  SETUP_CHECK ((t->a >= 0) && (t->b >= 0));
  buf_init (&t->ca);
  buf_init (&t->cb);
}

static void
two_close (struct two *t)
{
  close (t->a);
  close (t->b);
  buf_free (&t->ca);
  buf_free (&t->cb);
}

static void
case_compute (void)
{
  struct MHD_Daemon *d = start ();
  struct two t;
  two_open (&t, test_daemon_port (d));
  ATOMIC_SET (&spinning, 0);
  ATOMIC_SET (&spins_done, 0);
  CHECK (0 == raw_send_str (t.a, "GET /spin HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK (test_wait_ge (&spinning, 1, 2000));
  CHECK (0 == raw_send_str (t.b, "GET /quick HTTP/1.1\r\nHost: x\r\n\r\n"));
  expect_reply (t.b, &t.cb, "quick", "compute: quick request");
  CHECK_MSG (0 == ATOMIC_GET (&spins_done),
             "compute: the quick request waited for the computing handler");
  expect_reply (t.a, &t.ca, "spun", "compute: computing handler");
  two_close (&t);
  test_stop_daemon (d);
}

static void
case_rendezvous (void)
{
  struct MHD_Daemon *d = start ();
  struct two t;
  pthread_mutex_lock (&lock);
  notified = 0;
  pthread_mutex_unlock (&lock);
  two_open (&t, test_daemon_port (d));
  CHECK (0 == raw_send_str (t.a, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  /* client pacing: /notify usually comes while the reader waits (if it
   * comes first, the reader finds it at once: the same answer) */
  test_sleep_ms (50);
  CHECK (0 == raw_send_str (t.b, "GET /notify HTTP/1.1\r\nHost: x\r\n\r\n"));
  expect_reply (t.b, &t.cb, "notified", "rendezvous: /notify");
  expect_reply (t.a, &t.ca, "woken\n", "rendezvous: /wait");
  two_close (&t);
  test_stop_daemon (d);
}

static void
case_stop (void)
{
  struct MHD_Daemon *d = start ();
  uint16_t port = test_daemon_port (d);
  int fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  ATOMIC_SET (&in_sleep, 0);
  ATOMIC_SET (&sleeps_done, 0);
  ATOMIC_SET (&n_completed, 0);
  CHECK (0 == raw_send_str (fd, "GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK (test_wait_ge (&in_sleep, 1, 2000));
  /* long enough for the connection to have been handed a thread */
  test_sleep_ms (50);
  test_stop_daemon (d);
  CHECK_INT (1, ATOMIC_GET (&sleeps_done));
  CHECK_INT (1, ATOMIC_GET (&n_completed));
  CHECK_MSG ((MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN
              == ATOMIC_GET (&completed_code)) ||
             (MHD_REQUEST_TERMINATED_COMPLETED_OK
              == ATOMIC_GET (&completed_code)) || test_ref_tpc (),
             "stop: completion code %d", ATOMIC_GET (&completed_code));
  close (fd);
}

static void
case_after (void)
{
  struct MHD_Daemon *d = start ();
  uint16_t port = test_daemon_port (d);
  int fds[10], s[3], i, k;
  struct buf carry[10], sc[3];
  for (i = 0; i < 3; i++)
  {
    s[i] = raw_connect (port);
    SETUP_CHECK (s[i] >= 0);
    buf_init (&sc[i]);
    CHECK (0 == raw_send_str (s[i], "GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  for (i = 0; i < 3; i++)
    expect_reply (s[i], &sc[i], "slept", "after: sleeper");
  for (i = 0; i < 10; i++)
  {
    fds[i] = raw_connect (port);
    SETUP_CHECK (fds[i] >= 0);
    buf_init (&carry[i]);
  }
  for (k = 0; k < 10; k++)
  {
    for (i = 0; i < 10; i++)
      CHECK (0 == raw_send_str (fds[i],
                                "GET /quick HTTP/1.1\r\nHost: x\r\n\r\n"));
    for (i = 0; i < 10; i++)
      expect_reply (fds[i], &carry[i], "quick", "after: quick request");
  }
  /* the sleepers' connections still serve too */
  for (i = 0; i < 3; i++)
  {
    CHECK (0 == raw_send_str (s[i], "GET /quick HTTP/1.1\r\nHost: x\r\n\r\n"));
    expect_reply (s[i], &sc[i], "quick", "after: former sleeper");
    close (s[i]);
    buf_free (&sc[i]);
  }
  for (i = 0; i < 10; i++)
  {
    close (fds[i]);
    buf_free (&carry[i]);
  }
  CHECK_MSG (test_wait_connections (d, 0, 5000) || test_ref_tpc (),
             "after: %d connections still counted",
             test_current_connections (d));
  test_stop_daemon (d);
}

static void
run (void)
{
  if (! test_mode_tpc ())
    return;
  case_parallel ();
  case_compute ();
  case_rendezvous ();
  case_stop ();
  case_after ();
}

int
main (void)
{
  return test_run_modes ("test_blocking", run);
}
