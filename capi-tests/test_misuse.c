/* test_misuse: calls that do not fit the daemon get MHD_NO (or NULL, or
 * MHD_INVALID_SOCKET) and a line through MHD_OPTION_EXTERNAL_LOGGER, and
 * never a crash; the daemon keeps serving afterwards.
 *
 * - internal modes: MHD_run, MHD_run_wait, MHD_get_fdset, MHD_get_fdset2,
 *   MHD_run_from_select, MHD_get_timeout all answer MHD_NO (the fd sets
 *   stay untouched); MHD_quiesce_daemon without MHD_USE_ITC answers
 *   MHD_INVALID_SOCKET (documented for 0.9.75) and the daemon keeps
 *   listening;
 * - external modes: MHD_get_fdset2 with an fd_setsize too small for the
 *   daemon's socket answers MHD_NO and sets no bit at or above it, with
 *   FD_SETSIZE it answers MHD_YES with the socket set; NULL fd sets give
 *   MHD_NO;
 * - refused combinations: thread per connection with epoll, a thread pool
 *   with thread per connection, a thread pool without an internal thread,
 *   poll together with epoll: MHD_start_daemon returns NULL and logs why;
 * - MHD_resume_connection on a connection that is not suspended: a log
 *   line, and the request is answered as usual (our library only: 0.9.75
 *   documents it as undefined behaviour).
 * The log lines are required from our library; where the reference stays
 * silent that is printed as a DIFF. */
#include "common.h"
#include <unistd.h>
#include <netinet/in.h>

static struct test_log lg;

/* A log line appeared since `before` (count). */
static void
expect_log (int before, const char *what, int line)
{
  char last[512];
  if (ATOMIC_GET (&lg.count) > before)
  {
    test_log_last (&lg, last, sizeof (last));
    test_note ("%s logged: %s", what, last);
    return;
  }
  if (test_is_reference ())
    test_diff ("no log line for %s", what);
  else
    test_fail (__FILE__, line, "%s: no line through the external logger",
               what);
}

static int
fdset_empty (const fd_set *s)
{
  int i;
  for (i = 0; i < FD_SETSIZE; i++)
    if (FD_ISSET (i, s))
      return 0;
  return 1;
}

static void
check_serves (uint16_t port, int line)
{
  struct http_resp r;
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  if (! raw_request (port, req, strlen (req), 0, &r, NULL, 0))
  {
    test_fail (__FILE__, line, "daemon no longer serves after misuse");
    return;
  }
  if (200 != r.status)
    test_fail (__FILE__, line, "status %d after misuse", r.status);
  http_resp_free (&r);
}

static void
part_internal (void)
{
  struct MHD_Daemon *d;
  fd_set rs, ws, es;
  MHD_socket maxfd = MHD_INVALID_SOCKET;
  MHD_UNSIGNED_LONG_LONG to = 12345;
  int before;

  test_log_reset (&lg);
  d = START_DAEMON (MHD_USE_ERROR_LOG, test_ok_handler, NULL,
                    MHD_OPTION_EXTERNAL_LOGGER, test_logger, &lg,
                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
                    MHD_OPTION_END);

  before = ATOMIC_GET (&lg.count);
  CHECK_INT (MHD_NO, MHD_run (d));
  expect_log (before, "MHD_run with an internal thread", __LINE__);

  before = ATOMIC_GET (&lg.count);
  CHECK_INT (MHD_NO, MHD_run_wait (d, 0));
  expect_log (before, "MHD_run_wait with an internal thread", __LINE__);

  FD_ZERO (&rs);
  FD_ZERO (&ws);
  FD_ZERO (&es);
  before = ATOMIC_GET (&lg.count);
  CHECK_INT (MHD_NO, MHD_get_fdset (d, &rs, &ws, &es, &maxfd));
  expect_log (before, "MHD_get_fdset with an internal thread", __LINE__);
  CHECK (fdset_empty (&rs) && fdset_empty (&ws) && fdset_empty (&es));
  CHECK_INT (MHD_INVALID_SOCKET, maxfd);
  CHECK_INT (MHD_NO, MHD_get_fdset2 (d, &rs, &ws, &es, &maxfd, FD_SETSIZE));
  CHECK (fdset_empty (&rs) && fdset_empty (&ws) && fdset_empty (&es));

  before = ATOMIC_GET (&lg.count);
  CHECK_INT (MHD_NO, MHD_run_from_select (d, &rs, &ws, &es));
  expect_log (before, "MHD_run_from_select with an internal thread",
              __LINE__);

  CHECK_INT (MHD_NO, MHD_get_timeout (d, &to));

  check_serves (test_daemon_port (d), __LINE__);
  test_stop_daemon (d);

  /* MHD_quiesce_daemon without MHD_USE_ITC in a mode with an internal
     thread: 0.9.75 refuses (documented).  Our library always has its
     wakeup channel and may quiesce anyway; then it must really stop
     accepting and hand over the socket. */
  test_log_reset (&lg);
  d = START_DAEMON (MHD_USE_ERROR_LOG, test_ok_handler, NULL,
                    MHD_OPTION_EXTERNAL_LOGGER, test_logger, &lg,
                    MHD_OPTION_END);
  {
    uint16_t port = test_daemon_port (d);
    MHD_socket q;
    before = ATOMIC_GET (&lg.count);
    q = MHD_quiesce_daemon (d);
    if (test_is_reference () || (MHD_INVALID_SOCKET == q))
    {
      CHECK_INT (MHD_INVALID_SOCKET, q);
      expect_log (before, "MHD_quiesce_daemon without MHD_USE_ITC",
                  __LINE__);
      check_serves (port, __LINE__);
      test_stop_daemon (d);
    }
    else
    {
      int fd = raw_connect (port);
      struct buf b;
      test_note ("MHD_quiesce_daemon without MHD_USE_ITC quiesced");
      buf_init (&b);
      CHECK (fd >= 0);
      if (fd >= 0)
      {
        raw_send_str (fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK_MSG (-2 == raw_read_some (fd, &b, 300),
                   "served after MHD_quiesce_daemon");
        close (fd);
      }
      buf_free (&b);
      test_stop_daemon (d);
      close (q);
    }
  }
}

/* External modes: the test drives (no driver thread here). */
static void
part_external (void)
{
  struct MHD_Daemon *d;
  const union MHD_DaemonInfo *di;
  fd_set rs, ws, es;
  MHD_socket maxfd = MHD_INVALID_SOCKET;
  MHD_socket sock;
  int i, before;

  test_log_reset (&lg);
  d = MHD_start_daemon (cur_mode->flags | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                        test_ok_handler, NULL,
                        MHD_OPTION_EXTERNAL_LOGGER, test_logger, &lg,
                        MHD_OPTION_END);
  SETUP_CHECK (NULL != d);
  if (TD_EXTERNAL_EPOLL == cur_mode->drive)
  {
    di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_EPOLL_FD);
    SETUP_CHECK (NULL != di);
    sock = di->epoll_fd;
  }
  else
  {
    di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_LISTEN_FD);
    SETUP_CHECK (NULL != di);
    sock = di->listen_fd;
  }
  SETUP_CHECK (sock > 0);

  /* fd_setsize that cannot hold the socket */
  FD_ZERO (&rs);
  FD_ZERO (&ws);
  FD_ZERO (&es);
  maxfd = MHD_INVALID_SOCKET;
  before = ATOMIC_GET (&lg.count);
  CHECK_INT (MHD_NO, MHD_get_fdset2 (d, &rs, &ws, &es, &maxfd,
                                     (unsigned int) sock));
  for (i = (int) sock; i < FD_SETSIZE; i++)
    CHECK_MSG (! FD_ISSET (i, &rs) && ! FD_ISSET (i, &ws) &&
               ! FD_ISSET (i, &es),
               "MHD_get_fdset2 (fd_setsize %d) set fd %d", (int) sock, i);
  if (ATOMIC_GET (&lg.count) == before)
  {
    if (test_is_reference ())
      test_diff ("no log line when an fd does not fit fd_setsize");
    else
      test_fail (__FILE__, __LINE__, "no log line when fd %d does not fit "
                 "fd_setsize %d", (int) sock, (int) sock);
  }
  /* room enough */
  FD_ZERO (&rs);
  FD_ZERO (&ws);
  FD_ZERO (&es);
  maxfd = MHD_INVALID_SOCKET;
  CHECK_INT (MHD_YES, MHD_get_fdset2 (d, &rs, &ws, &es, &maxfd, FD_SETSIZE));
  CHECK (FD_ISSET (sock, &rs));
  CHECK ((MHD_INVALID_SOCKET != maxfd) && (maxfd >= sock));
  /* fd_setsize just one more than the socket */
  FD_ZERO (&rs);
  FD_ZERO (&ws);
  FD_ZERO (&es);
  maxfd = MHD_INVALID_SOCKET;
  CHECK_INT (MHD_YES, MHD_get_fdset2 (d, &rs, &ws, &es, &maxfd,
                                      (unsigned int) sock + 1));
  CHECK (FD_ISSET (sock, &rs));

  /* NULL sets */
  CHECK_INT (MHD_NO, MHD_get_fdset (d, NULL, &ws, &es, &maxfd));
  if (TD_EXTERNAL_SELECT == cur_mode->drive)
    CHECK_INT (MHD_NO, MHD_run_from_select (d, NULL, NULL, NULL));

  /* still works when driven properly */
  {
    uint16_t port = test_daemon_port (d);
    int fd = raw_connect (port);
    struct buf carry;
    struct http_resp r;
    uint64_t end = test_now_ms () + 5000;
    int got = 0;
    SETUP_CHECK (fd >= 0);
    buf_init (&carry);
    raw_send_str (fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    while (! got && test_now_ms () < end)
    {
      MHD_run_wait (d, 10);
      if (1 == raw_read_response (fd, &carry, 0, &r, 1, NULL))
      {
        got = 1;
        CHECK_INT (200, r.status);
        http_resp_free (&r);
      }
    }
    CHECK_MSG (got, "no response from the externally driven daemon");
    buf_free (&carry);
    close (fd);
  }
  MHD_stop_daemon (d);
}

static void
expect_refused (unsigned int flags, unsigned int pool, const char *what,
                int line)
{
  struct MHD_Daemon *d;
  int before;
  before = ATOMIC_GET (&lg.count);
  if (pool)
    d = MHD_start_daemon (flags | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                          test_ok_handler, NULL,
                          MHD_OPTION_EXTERNAL_LOGGER, test_logger, &lg,
                          MHD_OPTION_THREAD_POOL_SIZE, pool,
                          MHD_OPTION_END);
  else
    d = MHD_start_daemon (flags | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                          test_ok_handler, NULL,
                          MHD_OPTION_EXTERNAL_LOGGER, test_logger, &lg,
                          MHD_OPTION_END);
  if (NULL != d)
  {
    test_fail (__FILE__, line, "%s: MHD_start_daemon did not refuse", what);
    MHD_stop_daemon (d);
    return;
  }
  expect_log (before, what, line);
}

static void
part_refused (void)
{
  const unsigned int tpc = MHD_USE_INTERNAL_POLLING_THREAD
                           | MHD_USE_THREAD_PER_CONNECTION;
  test_log_reset (&lg);
  if (MHD_YES == MHD_is_feature_supported (MHD_FEATURE_EPOLL))
  {
    expect_refused (tpc | MHD_USE_EPOLL, 0,
                    "thread per connection with epoll", __LINE__);
    expect_refused (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL
                    | MHD_USE_EPOLL, 0, "poll together with epoll",
                    __LINE__);
  }
  expect_refused (tpc, 2, "a thread pool with thread per connection",
                  __LINE__);
  expect_refused (0, 2, "a thread pool without an internal thread",
                  __LINE__);
}

/* Handler that calls MHD_resume_connection on its own, not suspended,
 * connection before answering. */
static volatile int n_resumed_calls;
static enum MHD_Result
resume_handler (void *cls, struct MHD_Connection *c, const char *url,
                const char *method, const char *version, const char *upload,
                size_t *upload_size, void **con_cls)
{
  static int marker;
  (void) cls;
  (void) url;
  (void) method;
  (void) version;
  (void) upload;
  (void) upload_size;
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  MHD_resume_connection (c);
  ATOMIC_INC (&n_resumed_calls);
  return test_reply (c, MHD_HTTP_OK, "ok");
}

static void
part_resume_not_suspended (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int before, i;
  if (test_is_reference ())
  {
    test_diff ("MHD_resume_connection on a connection that is not "
               "suspended: undefined behaviour in 0.9.75, not exercised");
    return;
  }
  test_log_reset (&lg);
  n_resumed_calls = 0;
  d = START_DAEMON (MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
                    resume_handler, NULL,
                    MHD_OPTION_EXTERNAL_LOGGER, test_logger, &lg,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  before = ATOMIC_GET (&lg.count);
  for (i = 0; i < 3; i++)
    check_serves (port, __LINE__);
  CHECK_INT (3, n_resumed_calls);
  expect_log (before, "MHD_resume_connection on a connection that is not "
              "suspended", __LINE__);
  test_stop_daemon (d);
}

static void
run (void)
{
  if (test_mode_internal ())
    part_internal ();
  else
    part_external ();
  part_refused ();
  part_resume_not_suspended ();
}

int
main (void)
{
  return test_run_modes ("test_misuse", run);
}
