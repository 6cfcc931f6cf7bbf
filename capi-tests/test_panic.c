/* test_panic: the panic boundary (src/ffi/guard.rs), through the public API.
 *
 * A Rust panic inside the library is a bug; it must reach the application's
 * MHD_set_panic_func callback, never unwind into C.  Our library built with
 * the `fault-injection` feature (`make fault`, build/fault/) panics on
 * purpose when a request carries the header X-MHD-Fault (src/ffi/fault.rs).
 * In every mode, with a keep-alive connection B open and served before and
 * after each fault:
 *
 *  panic-in-handler-path  the state machine panics after the head is parsed:
 *                         the callback runs once (file, line, reason naming
 *                         the fault), the access handler never sees the
 *                         request (nor the completion callback), the client
 *                         sees its connection closed without a byte of
 *                         response (EOF);
 *  panic-in-ffi           MHD_queue_response panics when the handler calls
 *                         it: the callback runs once, MHD_queue_response
 *                         returns MHD_NO, the handler returns MHD_NO, so the
 *                         client sees EOF without a byte, and the completion
 *                         callback gets MHD_REQUEST_TERMINATED_WITH_ERROR;
 *  panic-in-event-loop    the loop serving the connection panics after the
 *                         connection's work (outside its state machine, in
 *                         the loop thread, the connection's own thread or
 *                         MHD_run): the callback runs once and the 200
 *                         response has been sent; the loop keeps running.
 *
 * After the faults B is served again on the same connection, a new client
 * is served, MHD_stop_daemon returns, and the callback ran exactly once per
 * fault.  Finally, without a panic function (MHD_set_panic_func (NULL,
 * NULL)), a forked child's panic must abort it (SIGABRT) after printing the
 * message to stderr, as 0.9.75's default panic function does.
 *
 * The trigger exists only in the fault build: against any other library
 * (Debian's, ours as shipped) the first fault request is answered normally
 * and the program skips (77), unless MHD_TEST_FAULT=1 (check-all.sh's fault
 * step), which makes that a failure.
 */
#include "common.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static volatile int n_panics;
static char panic_file[256];
static unsigned int panic_line;
static char panic_reason[512];
static volatile int n_handler_fault_calls;    /* handler saw an X-MHD-Fault request */
static volatile int n_queue_no;               /* MHD_queue_response said NO for one */
static volatile int n_completed_with_error;
static int panic_cls_marker;

static void
on_panic (void *cls, const char *file, unsigned int line, const char *reason)
{
  CHECK (cls == &panic_cls_marker);
  pthread_mutex_lock (&lk);
  snprintf (panic_file, sizeof (panic_file), "%s", file ? file : "");
  panic_line = line;
  snprintf (panic_reason, sizeof (panic_reason), "%s", reason ? reason : "");
  pthread_mutex_unlock (&lk);
  ATOMIC_INC (&n_panics);
}

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  static int first;
  static const char body[] = "ok";
  struct MHD_Response *r;
  enum MHD_Result ret;
  const char *fault;
  (void) cls;
  (void) url;
  (void) method;
  (void) version;
  (void) upload;
  if (NULL == *con_cls)
  {
    *con_cls = &first;
    return MHD_YES;
  }
  *upload_size = 0;
  fault = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "X-MHD-Fault");
  if (NULL != fault)
    ATOMIC_INC (&n_handler_fault_calls);
  r = MHD_create_response_from_buffer (strlen (body), (void *) body,
                                       MHD_RESPMEM_PERSISTENT);
  if (NULL == r)
    return MHD_NO;
  ret = MHD_queue_response (c, MHD_HTTP_OK, r);
  MHD_destroy_response (r);
  if ((MHD_NO == ret) && (NULL != fault))
    ATOMIC_INC (&n_queue_no);
  return ret;
}

static void
completed (void *cls, struct MHD_Connection *c, void **con_cls,
           enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) c;
  (void) con_cls;
  if (MHD_REQUEST_TERMINATED_WITH_ERROR == toe)
    ATOMIC_INC (&n_completed_with_error);
}

/* One GET with a 200 "ok" answer on fd (keep-alive). */
static int
get_ok (int fd, struct buf *carry, const char *path)
{
  char req[256];
  struct http_resp r;
  int closed = 0;
  int ok;
  snprintf (req, sizeof (req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
  if (0 != raw_send_str (fd, req))
    return 0;
  memset (&r, 0, sizeof (r));
  ok = (1 == raw_read_response (fd, carry, 0, &r, RAW_TIMEOUT_MS, &closed)) &&
       (200 == r.status) && (2 == r.body.len) &&
       (0 == memcmp (r.body.data, "ok", 2));
  http_resp_free (&r);
  return ok;
}

/* A fresh connection, one request: 1 if answered 200 "ok". */
static int
new_client_ok (uint16_t port, const char *path)
{
  struct buf carry;
  int fd = raw_connect (port);
  int ok;
  if (fd < 0)
    return 0;
  buf_init (&carry);
  ok = get_ok (fd, &carry, path);
  buf_free (&carry);
  close (fd);
  return ok;
}

/* Sends a request with the fault header on a new connection; returns the
 * fd, the bytes received until close (or timeout) in *got, rc of the read. */
static int
fault_request (uint16_t port, const char *fault, struct buf *got,
               int read_to_close)
{
  char req[256];
  int fd = raw_connect (port);
  if (fd < 0)
    SETUP_FAIL ("connect");
  /* reading to the close: ask for it, so that a library without the
   * trigger answers and closes at once (the skip costs no timeout) */
  snprintf (req, sizeof (req),
            "GET /fault HTTP/1.1\r\nHost: x\r\nX-MHD-Fault: %s\r\n%s\r\n",
            fault, read_to_close ? "Connection: close\r\n" : "");
  if (0 != raw_send_str (fd, req))
    SETUP_FAIL ("send");
  if (read_to_close)
    return raw_read_until_close (fd, got, RAW_TIMEOUT_MS);
  return fd;
}

static void
check_report (const char *fault, int expect)
{
  char file[256], reason[512];
  unsigned int line;
  CHECK_MSG (test_wait_ge (&n_panics, expect, 5000),
             "%s: panic function not called (%d calls)", fault,
             ATOMIC_GET (&n_panics));
  pthread_mutex_lock (&lk);
  snprintf (file, sizeof (file), "%s", panic_file);
  snprintf (reason, sizeof (reason), "%s", panic_reason);
  line = panic_line;
  pthread_mutex_unlock (&lk);
  CHECK_MSG ((strlen (file) > 3) && (0 == strcmp (file + strlen (file) - 3,
                                                   ".rs")),
             "%s: file \"%s\"", fault, file);
  CHECK_MSG (line > 0, "%s: line 0", fault);
  CHECK_MSG (NULL != strstr (reason, fault), "%s: reason \"%s\"", fault,
             reason);
  test_note ("%s: reported at %s:%u: %s", fault, file, line, reason);
}

static int skip_all;

static void
per_mode (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int b;
  struct buf bcarry, got;
  int rc, base, fd;
  if (skip_all)
    return;
  ATOMIC_SET (&n_panics, 0);
  ATOMIC_SET (&n_handler_fault_calls, 0);
  ATOMIC_SET (&n_queue_no, 0);
  ATOMIC_SET (&n_completed_with_error, 0);
  d = START_DAEMON (MHD_USE_ERROR_LOG, &handler, NULL,
                    MHD_OPTION_NOTIFY_COMPLETED, &completed, NULL,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  buf_init (&bcarry);
  b = raw_connect (port);
  SETUP_CHECK (b >= 0);
  CHECK_MSG (get_ok (b, &bcarry, "/b1"), "B: first request");

  /* 1: a panic in the connection's state machine */
  buf_init (&got);
  rc = fault_request (port, "panic-in-handler-path", &got, 1);
  if ((0 == ATOMIC_GET (&n_panics)) && (got.len > 0) &&
      (0 == strncmp (got.data, "HTTP/1.1 200", 12)))
  {
    /* answered normally: this library has no fault trigger */
    if (NULL != getenv ("MHD_TEST_FAULT"))
      CHECK_MSG (0, "MHD_TEST_FAULT set, but the library has no fault "
                 "trigger (not built with --features fault-injection)");
    else
      test_skip ("the library has no X-MHD-Fault trigger (only a build "
                 "with the fault-injection feature has: make fault)");
    skip_all = 1;
    buf_free (&got);
    close (b);
    buf_free (&bcarry);
    test_stop_daemon (d);
    return;
  }
  CHECK_MSG (RAW_EOF == rc, "handler path: client read ended with %s",
             raw_rc_name (rc));
  CHECK_MSG (0 == got.len, "handler path: %zu bytes before the close",
             got.len);
  check_report ("panic-in-handler-path", 1);
  CHECK_INT (0, ATOMIC_GET (&n_handler_fault_calls));
  /* the handler never saw it: no completion either (finalized before the
   * socket was closed, so the count is final at the client's EOF) */
  CHECK_INT (0, ATOMIC_GET (&n_completed_with_error));
  buf_free (&got);
  CHECK_MSG (get_ok (b, &bcarry, "/b2"), "B after the state-machine panic");
  CHECK_MSG (new_client_ok (port, "/c1"), "new client after the "
             "state-machine panic");

  /* 2: a panic inside an API call made from the access handler */
  buf_init (&got);
  base = ATOMIC_GET (&n_completed_with_error);
  rc = fault_request (port, "panic-in-ffi", &got, 1);
  CHECK_MSG (RAW_EOF == rc, "ffi: client read ended with %s",
             raw_rc_name (rc));
  CHECK_MSG (0 == got.len, "ffi: %zu bytes before the close", got.len);
  check_report ("panic-in-ffi", 2);
  CHECK_INT (1, ATOMIC_GET (&n_handler_fault_calls));
  CHECK_INT (1, ATOMIC_GET (&n_queue_no));
  CHECK_MSG (test_wait_ge (&n_completed_with_error, base + 1, 5000),
             "ffi: no WITH_ERROR completion");
  buf_free (&got);
  CHECK_MSG (get_ok (b, &bcarry, "/b3"), "B after the API-call panic");

  /* 3: a panic in the loop, outside the connection's state machine */
  {
    struct buf carry;
    struct http_resp r;
    int closed = 0;
    buf_init (&carry);
    memset (&r, 0, sizeof (r));
    fd = fault_request (port, "panic-in-event-loop", NULL, 0);
    CHECK_MSG ((1 == raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS,
                                        &closed)) && (200 == r.status),
               "event loop: no 200 before the panic (status %d)", r.status);
    http_resp_free (&r);
    check_report ("panic-in-event-loop", 3);
    close (fd);
    buf_free (&carry);
  }
  CHECK_MSG (get_ok (b, &bcarry, "/b4"), "B after the loop panic");
  CHECK_MSG (new_client_ok (port, "/c2"), "new client after the loop panic");
  close (b);
  buf_free (&bcarry);
  test_stop_daemon (d);
  /* exactly once per panic, nothing late */
  CHECK_INT (3, ATOMIC_GET (&n_panics));
}

/* Without a panic function a panic aborts the process after printing the
 * message (0.9.75's default: "prints an error message and calls abort()").
 * The child starts its own daemon in the current mode and faults it. */
static void
default_aborts (void)
{
  int pipefd[2];
  pid_t pid;
  int status = 0;
  uint64_t end;
  int eof;
  struct buf err;
  SETUP_CHECK (0 == socketpair (AF_UNIX, SOCK_STREAM, 0, pipefd));
  fflush (stderr);
  pid = fork ();
  SETUP_CHECK (pid >= 0);
  if (0 == pid)
  {
    struct MHD_Daemon *d;
    struct buf got;
    close (pipefd[0]);
    dup2 (pipefd[1], 2);
    MHD_set_panic_func (NULL, NULL);
    d = test_start_daemon (0, &handler, NULL, MHD_OPTION_END);
    if (NULL == d)
      _exit (98);
    buf_init (&got);
    (void) fault_request (test_daemon_port (d), "panic-in-handler-path", &got,
                          1);
    _exit (97); /* still alive: the panic did not abort */
  }
  close (pipefd[1]);
  buf_init (&err);
  end = test_now_ms () + 10000;
  eof = 0;
  for (;;)
  {
    pid_t w = waitpid (pid, &status, WNOHANG);
    if (w == pid)
      break;
    if (test_now_ms () > end)
    {
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      CHECK_MSG (0, "default panic: child did not end within 10 s");
      break;
    }
    if (eof)
      test_sleep_ms (1);
    else if (0 == raw_read_some (pipefd[0], &err, 20))
      eof = 1;
  }
  while ((! eof) && (raw_read_some (pipefd[0], &err, 100) > 0))
    ;
  close (pipefd[0]);
  CHECK_MSG (WIFSIGNALED (status) && (SIGABRT == WTERMSIG (status)),
             "default panic: child %s %d (expected SIGABRT)",
             WIFSIGNALED (status) ? "killed by signal" : "exited",
             WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status));
  CHECK_MSG ((NULL != err.data) &&
             (NULL != strstr (err.data, "panic-in-handler-path")),
             "default panic: stderr lacks the message: %s",
             err.data ? err.data : "(nothing)");
  buf_free (&err);
}

static void
per_mode_all (void)
{
  per_mode ();
  if (! skip_all)
  {
    default_aborts ();
    MHD_set_panic_func (&on_panic, &panic_cls_marker);
  }
}

int
main (void)
{
  MHD_set_panic_func (&on_panic, &panic_cls_marker);
  return test_run_modes ("test_panic", per_mode_all);
}
