/* test_suspend_resume: MHD_suspend_connection from the handler's final
 * call, MHD_resume_connection from another thread.
 *
 * - the call sequence: headers, upload, final call (suspends), and after
 *   the resume one more final call that queues the response;
 * - nothing reaches the client while suspended; the connection still
 *   counts in MHD_DAEMON_INFO_CURRENT_CONNECTIONS;
 * - MHD_CONNECTION_INFO_CONNECTION_SUSPENDED: NO inside the handler before
 *   suspending and after the resume, YES seen from the resumer thread;
 * - a second request on the same keep-alive connection suspends again;
 * - a suspended connection does not time out (CONNECTION_TIMEOUT 1 s,
 *   held for more than 2 s), but times out normally after the resume;
 * - 20 connections suspended at once, resumed in reverse order, each gets
 *   its own response;
 * - a response queued in the same call that suspends (Janus's pattern: a
 *   content callback with nothing to give until another thread has the
 *   answer and resumes) is held, head included, until the resume; also
 *   when the resume comes before the handler has returned;
 * - a response queued outside the handler: for a suspended connection from
 *   another thread (then resumed), and in the external modes from the
 *   application's loop between two MHD_run for a request whose final call
 *   returned without one (OLA's pattern); the handler is not called again;
 * - a content reader that suspends the connection while it has no data
 *   (0.9.75 allows MHD_suspend_connection there): not called again until
 *   resumed, and the body is whole after the resume.
 * Daemons are started with MHD_ALLOW_SUSPEND_RESUME (0.9.75 panics
 * without it).  0.9.75 does not support suspend/resume with a thread per
 * connection (documented): skipped there in the reference run. */
#include "common.h"
#include <pthread.h>
#include <unistd.h>

#define MAXC 20
#define CTX_MAGIC 0x5005e4d0u

struct req
{
  unsigned int magic;
  int id;                     /* from the URL: /r<id> */
  int calls;
  int suspended;              /* times suspended */
  volatile int resumed;       /* set by the resumer before resuming */
  char seq[32];               /* H headers, U upload, S suspend, R reply */
};

/* The suspended connections, published by the handler. */
static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static struct MHD_Connection *susp_conn[MAXC];
static struct req *susp_req[MAXC];
static volatile int n_suspended;   /* suspensions so far */
static volatile int n_completed;
static volatile int n_completed_ok;
static volatile int n_bad;
static char last_seq[32];

static void
seq_add (struct req *r, char ch)
{
  size_t l = strlen (r->seq);
  if (l + 1 < sizeof (r->seq))
  {
    r->seq[l] = ch;
    r->seq[l + 1] = '\0';
  }
}

static int
suspended_info (struct MHD_Connection *c)
{
  const union MHD_ConnectionInfo *ci =
    MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_SUSPENDED);
  if (NULL == ci)
    return -1;
  return (int) ci->suspended;
}

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  struct req *r = *con_cls;
  char body[64];
  (void) cls;
  (void) method;
  (void) version;
  if (NULL == r)
  {
    r = calloc (1, sizeof (*r));
    if (NULL == r)
      abort ();
    r->magic = CTX_MAGIC;
    if (1 != sscanf (url, "/r%d", &r->id) || (r->id < 0) || (r->id >= MAXC))
      r->id = 0;
    r->calls = 1;
    seq_add (r, 'H');
    *con_cls = r;
    return MHD_YES;
  }
  if (CTX_MAGIC != r->magic)
  {
    ATOMIC_INC (&n_bad);
    return MHD_NO;
  }
  r->calls++;
  if (0 != *upload_size)
  {
    CHECK_MEM ("abc", 3, upload, *upload_size);
    seq_add (r, 'U');
    *upload_size = 0;
    return MHD_YES;
  }
  if ((r->suspended > 0) && ! ATOMIC_GET (&r->resumed))
  {
    /* called again while suspended and not resumed: never allowed */
    test_fail (__FILE__, __LINE__, "handler called for a suspended "
               "connection (request %d, sequence %s)", r->id, r->seq);
    ATOMIC_INC (&n_bad);
  }
  if (0 == r->suspended)
  {
    /* the final call: suspend */
    CHECK_INT (MHD_NO, suspended_info (c));
    seq_add (r, 'S');
    r->suspended = 1;
    MHD_suspend_connection (c);
    pthread_mutex_lock (&lk);
    susp_conn[r->id] = c;
    susp_req[r->id] = r;
    pthread_mutex_unlock (&lk);
    ATOMIC_INC (&n_suspended);
    return MHD_YES;
  }
  /* called again after the resume: reply */
  CHECK_MSG (ATOMIC_GET (&r->resumed), "request %d: handler called again "
             "before MHD_resume_connection", r->id);
  CHECK_INT (MHD_NO, suspended_info (c));
  seq_add (r, 'R');
  snprintf (body, sizeof (body), "resumed %d", r->id);
  return test_reply (c, MHD_HTTP_OK, body);
}

static void
completed_cb (void *cls, struct MHD_Connection *c, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  struct req *r = *con_cls;
  (void) cls;
  (void) c;
  if (NULL != r)
  {
    CHECK_INT (CTX_MAGIC, r->magic);
    pthread_mutex_lock (&lk);
    snprintf (last_seq, sizeof (last_seq), "%s", r->seq);
    if (susp_req[r->id] == r)
    {
      susp_req[r->id] = NULL;
      susp_conn[r->id] = NULL;
    }
    pthread_mutex_unlock (&lk);
    r->magic = 0;
    free (r);
    *con_cls = NULL;
  }
  if (MHD_REQUEST_TERMINATED_COMPLETED_OK == toe)
    ATOMIC_INC (&n_completed_ok);
  ATOMIC_INC (&n_completed);
}

/* The resumer thread: waits (bounded) until `want` suspensions happened
 * and the main thread says go, then resumes ids [0, count) in reverse
 * order, checking CONNECTION_SUSPENDED first. */
struct resumer
{
  pthread_t th;
  int want;            /* n_suspended to wait for */
  int count;           /* connections to resume */
  volatile int go;     /* set by the main thread */
  volatile int done;   /* resumes issued */
  int ok;              /* 1 if everything was found suspended */
};

static void *
resumer_main (void *arg)
{
  struct resumer *rs = arg;
  int i;
  rs->ok = 1;
  if (! test_wait_ge (&n_suspended, rs->want, 5000) ||
      ! test_wait_ge (&rs->go, 1, 10000))
  {
    rs->ok = 0;
    ATOMIC_SET (&rs->done, -1);
    return NULL;
  }
  for (i = rs->count - 1; i >= 0; i--)
  {
    struct MHD_Connection *c;
    struct req *r;
    pthread_mutex_lock (&lk);
    c = susp_conn[i];
    r = susp_req[i];
    pthread_mutex_unlock (&lk);
    if ((NULL == c) || (NULL == r))
    {
      test_fail (__FILE__, __LINE__, "request %d was not suspended", i);
      rs->ok = 0;
      continue;
    }
    CHECK_INT (MHD_YES, suspended_info (c));
    ATOMIC_SET (&r->resumed, 1);
    MHD_resume_connection (c);
  }
  ATOMIC_SET (&rs->done, 1);
  return NULL;
}

static void
start_resumer (struct resumer *rs, int want, int count)
{
  memset (rs, 0, sizeof (*rs));
  rs->want = want;
  rs->count = count;
  if (0 != pthread_create (&rs->th, NULL, resumer_main, rs))
    SETUP_FAIL ("pthread_create");
}

static void
reset (void)
{
  memset (susp_conn, 0, sizeof (susp_conn));
  memset (susp_req, 0, sizeof (susp_req));
  n_suspended = n_completed = n_completed_ok = n_bad = 0;
  last_seq[0] = '\0';
}

static struct MHD_Daemon *
start (unsigned int timeout)
{
  return START_DAEMON (MHD_ALLOW_SUSPEND_RESUME, handler, NULL,
                       MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                       MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                       MHD_OPTION_END);
}

/* 1 if nothing (no data, no close) arrives on fd within ms. */
static int
quiet_for (int fd, int ms)
{
  struct buf b;
  ssize_t n;
  buf_init (&b);
  n = raw_read_some (fd, &b, ms);
  buf_free (&b);
  return -2 == n;
}

/* The next response on fd: 200 with this body; `what` names it. */
static void
expect_body (int fd, struct buf *carry, const char *body, const char *what,
             int line)
{
  struct http_resp r;
  if (1 != raw_read_response (fd, carry, 0, &r, RAW_TIMEOUT_MS, NULL))
  {
    test_fail (__FILE__, line, "%s: no response", what);
    return;
  }
  if (200 != r.status)
    test_fail (__FILE__, line, "%s: status %d", what, r.status);
  if (0 != strcmp (body, r.body.data))
    test_fail (__FILE__, line, "%s: body \"%s\"", what, r.body.data);
  http_resp_free (&r);
}

static void
expect_reply (int fd, struct buf *carry, int id, int line)
{
  char exp[64];
  char what[64];
  snprintf (exp, sizeof (exp), "resumed %d", id);
  snprintf (what, sizeof (what), "request %d, resumed", id);
  expect_body (fd, carry, exp, what, line);
}

/* One POST suspended on its final call, then a GET on the same
 * connection, each resumed by another thread. */
static void
part_sequence (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fd;
  struct buf carry;
  struct resumer rs;
  int round;

  reset ();
  d = start (0);
  port = test_daemon_port (d);
  buf_init (&carry);
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  for (round = 0; round < 2; round++)
  {
    start_resumer (&rs, round + 1, 1);
    if (0 == round)
      raw_send_str (fd, "POST /r0 HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: 3\r\n\r\nabc");
    else
      raw_send_str (fd, "GET /r0 HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_MSG (test_wait_ge (&n_suspended, round + 1, 5000),
               "round %d: the handler did not suspend", round);
    /* suspended: no response, connection kept and counted */
    CHECK_MSG (quiet_for (fd, 300), "round %d: data or close while "
               "suspended", round);
    CHECK_INT (1, test_current_connections (d));
    CHECK_INT (round, n_completed);
    ATOMIC_SET (&rs.go, 1);
    pthread_join (rs.th, NULL);
    CHECK_INT (1, rs.done);
    expect_reply (fd, &carry, 0, __LINE__);
    CHECK (test_wait_ge (&n_completed, round + 1, 5000));
    pthread_mutex_lock (&lk);
    CHECK_STR ((0 == round) ? "HUSR" : "HSR", last_seq);
    pthread_mutex_unlock (&lk);
  }
  CHECK_INT (2, n_completed_ok);
  CHECK_INT (0, n_bad);
  close (fd);
  buf_free (&carry);
  test_stop_daemon (d);
}

/* A suspended connection does not time out. */
static void
part_no_timeout (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fd;
  struct buf carry;
  struct resumer rs;
  uint64_t t0;

  reset ();
  d = start (1);
  port = test_daemon_port (d);
  buf_init (&carry);
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  start_resumer (&rs, 1, 1);
  raw_send_str (fd, "GET /r0 HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK (test_wait_ge (&n_suspended, 1, 5000));
  /* more than twice the timeout (which has a granularity of 1 s) */
  CHECK_MSG (quiet_for (fd, 2300),
             "suspended connection closed (timed out?) or got data");
  CHECK_INT (0, n_completed);
  ATOMIC_SET (&rs.go, 1);
  pthread_join (rs.th, NULL);
  expect_reply (fd, &carry, 0, __LINE__);
  CHECK (test_wait_ge (&n_completed, 1, 5000));
  CHECK_INT (1, n_completed_ok);
  /* and after the resume the idle timeout applies again */
  t0 = test_now_ms ();
  CHECK_MSG (raw_wait_closed (fd, NULL, 4000),
             "idle connection not closed 4 s after the resumed reply");
  test_note ("resumed connection idle-closed after %llu ms",
             (unsigned long long) (test_now_ms () - t0));
  close (fd);
  buf_free (&carry);
  test_stop_daemon (d);
}

/* MAXC connections suspended at once, resumed in reverse order. */
static void
part_many (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fds[MAXC];
  struct buf carry[MAXC];
  struct resumer rs;
  int i;

  reset ();
  d = start (0);
  port = test_daemon_port (d);
  start_resumer (&rs, MAXC, MAXC);
  for (i = 0; i < MAXC; i++)
  {
    char req[64];
    fds[i] = raw_connect (port);
    SETUP_CHECK (fds[i] >= 0);
    buf_init (&carry[i]);
    snprintf (req, sizeof (req), "GET /r%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
    raw_send_str (fds[i], req);
  }
  CHECK_MSG (test_wait_ge (&n_suspended, MAXC, 5000),
             "only %d of %d requests suspended", n_suspended, MAXC);
  CHECK (quiet_for (fds[0], 100));
  CHECK (quiet_for (fds[MAXC - 1], 100));
  CHECK_INT (MAXC, test_current_connections (d));
  ATOMIC_SET (&rs.go, 1);
  pthread_join (rs.th, NULL);
  CHECK (rs.ok);
  for (i = MAXC - 1; i >= 0; i--)
    expect_reply (fds[i], &carry[i], i, __LINE__);
  CHECK (test_wait_ge (&n_completed, MAXC, 5000));
  CHECK_INT (MAXC, n_completed_ok);
  CHECK_INT (0, n_bad);
  for (i = 0; i < MAXC; i++)
  {
    close (fds[i]);
    buf_free (&carry[i]);
  }
  test_stop_daemon (d);
}

/* The queued-then-held reply: its answer, set before resuming. */
static char held_answer[MAXC][32];
static volatile int held_reader_early;

static ssize_t
held_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  const char *answer = cls;
  size_t len;
  if ('\0' == answer[0])
  {
    /* called before the answer exists: the reply would be cut */
    ATOMIC_INC (&held_reader_early);
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  len = strlen (answer);
  if (pos >= len)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (max > len - pos)
    max = len - pos;
  memcpy (buf, answer + pos, max);
  return (ssize_t) max;
}

/* /h<id>: suspends, then queues a reply whose content comes later;
 * /i<id> also resumes at once, before returning (a fast answer). */
static enum MHD_Result
held_handler (void *cls, struct MHD_Connection *c, const char *url,
              const char *method, const char *version, const char *upload,
              size_t *upload_size, void **con_cls)
{
  static int marker;
  struct MHD_Response *resp;
  enum MHD_Result ret;
  int id = 0;
  char kind = 'h';
  (void) cls;
  (void) method;
  (void) version;
  (void) upload;
  if (&marker != *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    *upload_size = 0;
    return MHD_YES;
  }
  if ((2 != sscanf (url, "/%c%d", &kind, &id)) || (id < 0) || (id >= MAXC))
    id = 0;
  held_answer[id][0] = '\0';
  resp = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 500,
                                            held_reader, held_answer[id],
                                            NULL);
  SETUP_CHECK (NULL != resp);
  MHD_suspend_connection (c);
  ret = test_queue_and_destroy (c, MHD_HTTP_OK, resp);
  CHECK_INT (MHD_YES, ret);
  if ('i' == kind)
  {
    snprintf (held_answer[id], sizeof (held_answer[id]), "answer %d", id);
    MHD_resume_connection (c);
    return ret;
  }
  pthread_mutex_lock (&lk);
  susp_conn[id] = c;
  pthread_mutex_unlock (&lk);
  ATOMIC_INC (&n_suspended);
  return ret;
}

static void
held_completed (void *cls, struct MHD_Connection *c, void **con_cls,
                enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) c;
  *con_cls = NULL;
  if (MHD_REQUEST_TERMINATED_COMPLETED_OK == toe)
    ATOMIC_INC (&n_completed_ok);
  ATOMIC_INC (&n_completed);
}

/* A daemon for the parts below: `h` answers, held_completed counts. */
static struct MHD_Daemon *
start_counted (MHD_AccessHandlerCallback h)
{
  return START_DAEMON (MHD_ALLOW_SUSPEND_RESUME, h, NULL,
                       MHD_OPTION_NOTIFY_COMPLETED, held_completed, NULL,
                       MHD_OPTION_END);
}

static void *
held_resumer (void *arg)
{
  int count = *(int *) arg;
  int i;
  if (! test_wait_ge (&n_suspended, count, 5000))
    return NULL;
  for (i = count - 1; i >= 0; i--)
  {
    struct MHD_Connection *c;
    pthread_mutex_lock (&lk);
    c = susp_conn[i];
    pthread_mutex_unlock (&lk);
    snprintf (held_answer[i], sizeof (held_answer[i]), "answer %d", i);
    MHD_resume_connection (c);
  }
  return NULL;
}

static void
part_queued_then_suspended (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fds[MAXC];
  struct buf carry[MAXC];
  pthread_t th;
  int count = 5;
  int i;

  reset ();
  held_reader_early = 0;
  d = start_counted (held_handler);
  port = test_daemon_port (d);
  for (i = 0; i < count; i++)
  {
    char req[96];
    fds[i] = raw_connect (port);
    SETUP_CHECK (fds[i] >= 0);
    buf_init (&carry[i]);
    snprintf (req, sizeof (req), "POST /h%d HTTP/1.1\r\nHost: x\r\n"
              "Content-Length: 3\r\n\r\nabc", i);
    raw_send_str (fds[i], req);
  }
  CHECK_MSG (test_wait_ge (&n_suspended, count, 5000),
             "only %d of %d requests suspended", n_suspended, count);
  /* held: not even the status line goes out before the resume */
  CHECK_MSG (quiet_for (fds[0], 300), "data or close while suspended with "
             "a queued response");
  if (0 != pthread_create (&th, NULL, held_resumer, &count))
    SETUP_FAIL ("pthread_create");
  pthread_join (th, NULL);
  for (i = count - 1; i >= 0; i--)
  {
    char exp[32];
    snprintf (exp, sizeof (exp), "answer %d", i);
    expect_body (fds[i], &carry[i], exp, "held reply, resumed", __LINE__);
  }
  /* the fast answer: resumed before the handler returned */
  raw_send_str (fds[0], "GET /i7 HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_body (fds[0], &carry[0], "answer 7", "held reply, resumed at once",
               __LINE__);
  CHECK (test_wait_ge (&n_completed_ok, count + 1, 5000));
  CHECK_INT (0, held_reader_early);
  for (i = 0; i < count; i++)
  {
    close (fds[i]);
    buf_free (&carry[i]);
  }
  test_stop_daemon (d);
}

/* Late responses: /s suspends on its final call, /l (external modes)
 * returns without a response; either is answered from outside. */
static struct MHD_Connection *late_conn;
static volatile int late_final_calls;   /* final calls seen */
static volatile int late_queued;        /* set once the response is queued */
static volatile int late_calls_after;   /* handler calls after that */

static enum MHD_Result
late_handler (void *cls, struct MHD_Connection *c, const char *url,
              const char *method, const char *version, const char *upload,
              size_t *upload_size, void **con_cls)
{
  static int marker;
  (void) cls;
  (void) method;
  (void) version;
  (void) upload;
  if (&marker != *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (ATOMIC_GET (&late_queued))
    ATOMIC_INC (&late_calls_after);
  if (0 != *upload_size)
  {
    *upload_size = 0;
    return MHD_YES;
  }
  pthread_mutex_lock (&lk);
  late_conn = c;
  pthread_mutex_unlock (&lk);
  if (('/' == url[0]) && ('s' == url[1]) && (0 == ATOMIC_GET (&late_final_calls)))
    MHD_suspend_connection (c);
  ATOMIC_INC (&late_final_calls);
  return MHD_YES;
}

static void
late_queue (void *arg)
{
  struct MHD_Response *resp;
  struct MHD_Connection *c;
  (void) arg;
  pthread_mutex_lock (&lk);
  c = late_conn;
  pthread_mutex_unlock (&lk);
  resp = MHD_create_response_from_buffer (strlen ("late answer"),
                                          (void *) "late answer",
                                          MHD_RESPMEM_PERSISTENT);
  SETUP_CHECK (NULL != resp);
  ATOMIC_SET (&late_queued, 1);
  CHECK_INT (MHD_YES, MHD_queue_response (c, MHD_HTTP_OK, resp));
  /* a second response for the same request is refused */
  CHECK_INT (MHD_NO, MHD_queue_response (c, MHD_HTTP_OK, resp));
  MHD_destroy_response (resp);
}

static void
part_late_response (const char *path)
{
  struct MHD_Daemon *d;
  int fd;
  struct buf carry;
  char req[96];
  int suspend = ('s' == path[1]);

  reset ();
  late_conn = NULL;
  late_final_calls = late_queued = late_calls_after = 0;
  d = start_counted (late_handler);
  fd = raw_connect (test_daemon_port (d));
  SETUP_CHECK (fd >= 0);
  buf_init (&carry);
  snprintf (req, sizeof (req), "POST %s HTTP/1.1\r\nHost: x\r\n"
            "Content-Length: 3\r\n\r\nabc", path);
  raw_send_str (fd, req);
  CHECK_MSG (test_wait_ge (&late_final_calls, 1, 5000), "%s: no final call",
             path);
  if (suspend)
  {
    /* from this thread, while suspended; then resumed */
    CHECK_MSG (quiet_for (fd, 200), "%s: data or close while suspended",
               path);
    late_queue (NULL);
    MHD_resume_connection (late_conn);
  }
  else
    SETUP_CHECK (test_in_driver (d, late_queue, NULL));
  expect_body (fd, &carry, "late answer", path, __LINE__);
  CHECK (test_wait_ge (&n_completed_ok, 1, 5000));
  CHECK_MSG (0 == late_calls_after, "%s: handler called %d times after the "
             "response was queued", path, late_calls_after);
  close (fd);
  buf_free (&carry);
  test_stop_daemon (d);
}

/* Answered by another request: /w's final call returns without a
 * response (libmicrohttpd calls it again each round); /r, on a second
 * connection, queues /w's response from its own handler, on the thread
 * that serves both (0.9.75 accepts that there, refuses it from other
 * threads), then its own. */
static struct MHD_Connection *waiting_conn;
static volatile int waiting_calls;      /* final calls of /w */
static volatile int waiting_answered;   /* /r queued /w's response */
static volatile int waiting_calls_after;
static volatile int other_result;       /* what MHD_queue_response said */

static enum MHD_Result
other_handler (void *cls, struct MHD_Connection *c, const char *url,
               const char *method, const char *version, const char *upload,
               size_t *upload_size, void **con_cls)
{
  static int marker;
  struct MHD_Connection *w;
  (void) cls;
  (void) method;
  (void) version;
  (void) upload;
  (void) upload_size;
  if (&marker != *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (0 == strcmp (url, "/w"))
  {
    if (ATOMIC_GET (&waiting_answered))
      ATOMIC_INC (&waiting_calls_after);
    pthread_mutex_lock (&lk);
    waiting_conn = c;
    pthread_mutex_unlock (&lk);
    ATOMIC_INC (&waiting_calls);
    return MHD_YES;
  }
  pthread_mutex_lock (&lk);
  w = waiting_conn;
  pthread_mutex_unlock (&lk);
  ATOMIC_SET (&other_result, (int) test_reply (w, MHD_HTTP_OK,
                                               "answered by /r"));
  ATOMIC_SET (&waiting_answered, 1);
  return test_reply (c, MHD_HTTP_OK, "ok");
}

static void
part_answered_by_other (void)
{
  struct MHD_Daemon *d;
  int fd_w, fd_r;
  struct buf carry_w, carry_r;

  reset ();
  waiting_conn = NULL;
  waiting_calls = waiting_answered = waiting_calls_after = 0;
  other_result = -1;
  d = start_counted (other_handler);
  fd_w = raw_connect (test_daemon_port (d));
  SETUP_CHECK (fd_w >= 0);
  buf_init (&carry_w);
  buf_init (&carry_r);
  raw_send_str (fd_w, "GET /w HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_MSG (test_wait_ge (&waiting_calls, 1, 5000), "/w: no final call");
  fd_r = raw_connect (test_daemon_port (d));
  SETUP_CHECK (fd_r >= 0);
  raw_send_str (fd_r, "GET /r HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_body (fd_r, &carry_r, "ok", "/r", __LINE__);
  CHECK_INT (MHD_YES, ATOMIC_GET (&other_result));
  expect_body (fd_w, &carry_w, "answered by /r", "/w", __LINE__);
  CHECK (test_wait_ge (&n_completed_ok, 2, 5000));
  CHECK_MSG (0 == waiting_calls_after, "/w: handler called %d times after "
             "its response was queued", waiting_calls_after);
  close (fd_w);
  close (fd_r);
  buf_free (&carry_w);
  buf_free (&carry_r);
  test_stop_daemon (d);
}

/* A reader that gives "first ", then suspends until "second" is there. */
static struct MHD_Connection *stream_conn;
static volatile int stream_suspended;   /* the reader has suspended */
static volatile int stream_ready;       /* "second" may be given */
static volatile int stream_early_calls; /* calls while suspended */

static ssize_t
stream_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  (void) cls;
  if (ATOMIC_GET (&stream_suspended) && ! ATOMIC_GET (&stream_ready))
    ATOMIC_INC (&stream_early_calls);
  if (0 == pos)
  {
    SETUP_CHECK (max >= 6);
    memcpy (buf, "first ", 6);
    return 6;
  }
  if (6 == pos)
  {
    if (! ATOMIC_GET (&stream_ready))
    {
      if (! ATOMIC_GET (&stream_suspended))
      {
        MHD_suspend_connection (stream_conn);
        ATOMIC_SET (&stream_suspended, 1);
      }
      return 0;
    }
    SETUP_CHECK (max >= 6);
    memcpy (buf, "second", 6);
    return 6;
  }
  return MHD_CONTENT_READER_END_OF_STREAM;
}

static enum MHD_Result
stream_handler (void *cls, struct MHD_Connection *c, const char *url,
                const char *method, const char *version, const char *upload,
                size_t *upload_size, void **con_cls)
{
  static int marker;
  struct MHD_Response *resp;
  (void) cls;
  (void) url;
  (void) method;
  (void) version;
  (void) upload;
  (void) upload_size;
  if (&marker != *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  stream_conn = c;
  resp = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 64,
                                            stream_reader, NULL, NULL);
  SETUP_CHECK (NULL != resp);
  return test_queue_and_destroy (c, MHD_HTTP_OK, resp);
}

static void
part_reader_suspends (void)
{
  struct MHD_Daemon *d;
  int fd;
  struct buf carry;

  reset ();
  stream_conn = NULL;
  stream_suspended = stream_ready = stream_early_calls = 0;
  d = start_counted (stream_handler);
  fd = raw_connect (test_daemon_port (d));
  SETUP_CHECK (fd >= 0);
  buf_init (&carry);
  raw_send_str (fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_MSG (test_wait_ge (&stream_suspended, 1, 5000),
             "the reader was not asked for more than its first part");
  /* suspended: the reader must not be called (a loop would call it
     again and again at once); 300 ms for it to show */
  CHECK_MSG (! test_wait_ge (&stream_early_calls, 1, 300), "reader called "
             "%d times while suspended", stream_early_calls);
  ATOMIC_SET (&stream_ready, 1);
  MHD_resume_connection (stream_conn);
  expect_body (fd, &carry, "first second", "reader resumed", __LINE__);
  CHECK (test_wait_ge (&n_completed_ok, 1, 5000));
  close (fd);
  buf_free (&carry);
  test_stop_daemon (d);
}

static void
run (void)
{
  if (test_ref_tpc ())
  {
    /* "not applicable to thread-per-connection!" (microhttpd.h 0.9.75):
       the resumed request never gets its response and MHD_stop_daemon
       then spins.  Our library supports it in every mode. */
    test_diff ("thread per connection: suspend/resume not supported "
               "(a resumed connection is never served)");
    return;
  }
  part_sequence ();
  part_no_timeout ();
  part_many ();
  part_queued_then_suspended ();
  part_late_response ("/s");
  if (test_mode_external ())
    part_late_response ("/l");
  /* One thread serves both requests (in a pool they may be on two). */
  if (! test_mode_pool () && ! test_mode_tpc ())
    part_answered_by_other ();
  part_reader_suspends ();
}

int
main (void)
{
  return test_run_modes ("test_suspend_resume", run);
}
