/* test_handler_calls: the exact sequence of access-handler calls. */
#include "common.h"
#include <pthread.h>
#include <unistd.h>

#define MAX_CALLS 64

struct call
{
  size_t size_in;           /* *upload_data_size on entry */
  int con_cls_state;        /* 0: *con_cls NULL on entry, 1: our marker */
  char url[64];
  char method[16];
  char version[16];
  char data[64];            /* upload data on entry (first 63 bytes) */
};

enum scenario
{
  SC_REPLY_ON_SECOND,       /* GET style: mark, then reply when size 0 */
  SC_CONSUME_ALL,           /* consume all upload data, reply when done */
  SC_CONSUME_TWO,           /* consume at most 2 bytes per call */
  SC_NO_ON_FIRST,           /* return MHD_NO on the first call */
  SC_NO_ON_DATA,            /* return MHD_NO when data arrives */
  SC_REPLY_ON_FIRST         /* queue a response on the very first call */
};

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static struct call calls[MAX_CALLS];
static volatile int ncalls;
static volatile int body_bytes;    /* upload bytes consumed so far */
static volatile int n_completed;
static volatile int last_toe;
static enum scenario sc;
static int marker;
static char footer_value[64];
static char body_seen[256];
static size_t body_seen_len;

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  struct call *k;
  size_t take;
  (void) cls;
  pthread_mutex_lock (&lk);
  if (ncalls < MAX_CALLS)
  {
    k = &calls[ncalls];
    memset (k, 0, sizeof (*k));
    k->size_in = *upload_size;
    k->con_cls_state = (NULL == *con_cls) ? 0 : ((&marker == *con_cls) ? 1 : 2);
    snprintf (k->url, sizeof (k->url), "%s", url);
    snprintf (k->method, sizeof (k->method), "%s", method);
    snprintf (k->version, sizeof (k->version), "%s", version);
    if ((NULL != upload) && (0 != *upload_size))
      memcpy (k->data, upload,
              *upload_size < sizeof (k->data) - 1 ? *upload_size :
              sizeof (k->data) - 1);
    ATOMIC_INC (&ncalls);
  }
  pthread_mutex_unlock (&lk);

  switch (sc)
  {
  case SC_NO_ON_FIRST:
    return MHD_NO;
  case SC_REPLY_ON_FIRST:
    *con_cls = &marker;
    if (0 != *upload_size)
    {
      test_fail (__FILE__, __LINE__, "data after reply queued on first call");
      *upload_size = 0;
      return MHD_YES;
    }
    return test_reply (c, MHD_HTTP_OK, "early");
  default:
    break;
  }
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    if (SC_NO_ON_DATA == sc)
      return MHD_NO;
    take = *upload_size;
    if ((SC_CONSUME_TWO == sc) && (take > 2) && (0 == body_bytes))
      take = 2;
    pthread_mutex_lock (&lk);
    if (body_seen_len + take < sizeof (body_seen))
    {
      memcpy (body_seen + body_seen_len, upload, take);
      body_seen_len += take;
      body_seen[body_seen_len] = '\0';
    }
    pthread_mutex_unlock (&lk);
    *upload_size -= take;
    __atomic_add_fetch (&body_bytes, (int) take, __ATOMIC_SEQ_CST);
    return MHD_YES;
  }
  {
    const char *f = MHD_lookup_connection_value (c, MHD_FOOTER_KIND,
                                                 "X-Trailer");
    char reply[300];
    pthread_mutex_lock (&lk);
    snprintf (footer_value, sizeof (footer_value), "%s", f ? f : "(null)");
    snprintf (reply, sizeof (reply), "got:%s", body_seen);
    pthread_mutex_unlock (&lk);
    return test_reply (c, MHD_HTTP_OK, reply);
  }
}

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

static void
reset (enum scenario s)
{
  pthread_mutex_lock (&lk);
  memset (calls, 0, sizeof (calls));
  ATOMIC_SET (&ncalls, 0);
  ATOMIC_SET (&body_bytes, 0);
  ATOMIC_SET (&n_completed, 0);
  ATOMIC_SET (&last_toe, -1);
  sc = s;
  footer_value[0] = '\0';
  body_seen[0] = '\0';
  body_seen_len = 0;
  pthread_mutex_unlock (&lk);
}

/* Expected call: size on entry, con_cls state, data (NULL = don't care). */
struct exp_call
{
  size_t size_in;
  int con_cls_state;
  const char *data;
};

static void
dump_calls (const char *what)
{
  int i;
  if (! test_verbose ())
    return;
  for (i = 0; i < ncalls; i++)
    test_note ("%s: call %d: size=%zu con_cls=%d %s %s %s data=\"%s\"", what, i,
               calls[i].size_in, calls[i].con_cls_state, calls[i].method,
               calls[i].url, calls[i].version, calls[i].data);
}

static void
check_calls (const char *file, int line, const char *what,
             const struct exp_call *e, int n)
{
  int i;
  pthread_mutex_lock (&lk);
  dump_calls (what);
  if (ncalls != n)
    test_fail (file, line, "%s: expected %d handler calls, got %d", what, n,
               ncalls);
  for (i = 0; i < n && i < ncalls; i++)
  {
    if (e[i].size_in != calls[i].size_in)
      test_fail (file, line, "%s: call %d: upload_data_size expected %zu, got %zu",
                 what, i, e[i].size_in, calls[i].size_in);
    if (e[i].con_cls_state != calls[i].con_cls_state)
      test_fail (file, line, "%s: call %d: *con_cls state expected %d, got %d",
                 what, i, e[i].con_cls_state, calls[i].con_cls_state);
    if ((NULL != e[i].data) && (0 != strcmp (e[i].data, calls[i].data)))
      test_fail (file, line, "%s: call %d: data expected \"%s\", got \"%s\"",
                 what, i, e[i].data, calls[i].data);
  }
  pthread_mutex_unlock (&lk);
}

#define CHECK_CALLS(what, arr) \
  check_calls (__FILE__, __LINE__, what, arr, (int) (sizeof (arr) / sizeof ((arr)[0])))

static void
read_reply (int fd, const char *expbody, int expect_close)
{
  struct buf carry;
  struct http_resp r;
  int closed = 0;
  buf_init (&carry);
  if (1 == raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS, &closed))
  {
    CHECK_INT (200, r.status);
    CHECK_STR (expbody, r.body.data);
    http_resp_free (&r);
  }
  else
    test_fail (__FILE__, __LINE__, "no complete response (expected body %s)",
               expbody);
  if (expect_close)
    CHECK (closed || raw_wait_closed (fd, NULL, 2000));
  buf_free (&carry);
}

static void
run (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fd;

  d = START_DAEMON (0, handler, NULL,
                    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                    MHD_OPTION_END);
  port = test_daemon_port (d);

  /* 1. GET: first call with NULL con_cls and size 0, second call with
   * our marker and size 0. */
  {
    static const struct exp_call e[] = { { 0, 0, "" }, { 0, 1, "" } };
    reset (SC_REPLY_ON_SECOND);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "GET /get?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    read_reply (fd, "got:", 0);
    close (fd);
    CHECK (test_wait_ge (&n_completed, 1, 5000));
    CHECK_CALLS ("GET", e);
    CHECK_STR ("/get", calls[0].url);
    CHECK_STR ("GET", calls[0].method);
    CHECK_STR ("HTTP/1.1", calls[0].version);
    CHECK_STR ("/get", calls[1].url);
    CHECK_INT (MHD_REQUEST_TERMINATED_COMPLETED_OK, last_toe);
  }

  /* 2. Reply queued on the first call: no second call. */
  {
    static const struct exp_call e[] = { { 0, 0, "" } };
    reset (SC_REPLY_ON_FIRST);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "GET /early HTTP/1.1\r\nHost: a\r\n\r\n");
    read_reply (fd, "early", 0);
    close (fd);
    CHECK (test_wait_ge (&n_completed, 1, 5000));
    CHECK_CALLS ("reply on first call", e);
  }

  /* 3. POST with Content-Length, body in three paced pieces. */
  {
    static const struct exp_call e[] = {
      { 0, 0, "" }, { 3, 1, "abc" }, { 4, 1, "defg" }, { 3, 1, "hij" },
      { 0, 1, "" }
    };
    reset (SC_CONSUME_ALL);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "POST /post HTTP/1.1\r\nHost: a\r\n"
                  "Content-Length: 10\r\n\r\n");
    CHECK (test_wait_ge (&ncalls, 1, 5000));
    raw_send_str (fd, "abc");
    CHECK (test_wait_ge (&body_bytes, 3, 5000));
    raw_send_str (fd, "defg");
    CHECK (test_wait_ge (&body_bytes, 7, 5000));
    raw_send_str (fd, "hij");
    read_reply (fd, "got:abcdefghij", 0);
    close (fd);
    CHECK (test_wait_ge (&n_completed, 1, 5000));
    CHECK_CALLS ("POST paced", e);
    CHECK_STR ("POST", calls[0].method);
  }

  /* 4. POST, body in the same packet as the headers. */
  {
    static const struct exp_call e[] = {
      { 0, 0, "" }, { 10, 1, "0123456789" }, { 0, 1, "" }
    };
    reset (SC_CONSUME_ALL);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "POST /post HTTP/1.1\r\nHost: a\r\n"
                  "Content-Length: 10\r\n\r\n0123456789");
    read_reply (fd, "got:0123456789", 0);
    close (fd);
    CHECK (test_wait_ge (&n_completed, 1, 5000));
    CHECK_CALLS ("POST one packet", e);
  }

  /* 5. Handler consumes only two bytes of the first data call: the
   * unconsumed bytes are presented again, first, together with the bytes
   * that arrive next.  (The reference does not call again by itself while
   * no new data arrives: a handler that leaves data unconsumed without
   * suspending the connection may hang it, as the manual warns.) */
  {
    static const struct exp_call e[] = {
      { 0, 0, "" }, { 5, 1, "abcde" }, { 5, 1, "cdefg" }, { 0, 1, "" }
    };
    reset (SC_CONSUME_TWO);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "POST /partial HTTP/1.1\r\nHost: a\r\n"
                  "Content-Length: 7\r\n\r\n");
    CHECK (test_wait_ge (&ncalls, 1, 5000));
    raw_send_str (fd, "abcde");
    CHECK (test_wait_ge (&body_bytes, 2, 5000));
    raw_send_str (fd, "fg");
    read_reply (fd, "got:abcdefg", 0);
    close (fd);
    CHECK (test_wait_ge (&n_completed, 1, 5000));
    /* select/poll: exactly e[]. epoll (reference) re-calls at once with the
     * leftover "cde" and then with "fg": accept both, nothing else. */
    if (5 == ncalls)
    {
      static const struct exp_call e2[] = {
        { 0, 0, "" }, { 5, 1, "abcde" }, { 3, 1, "cde" }, { 2, 1, "fg" },
        { 0, 1, "" }
      };
      test_note ("partial consumption: immediate re-call variant");
      CHECK_CALLS ("partial consumption (re-call)", e2);
    }
    else
      CHECK_CALLS ("partial consumption", e);
  }

  /* 6. Chunked body with trailers, chunks paced. */
  {
    static const struct exp_call e[] = {
      { 0, 0, "" }, { 5, 1, "hello" }, { 6, 1, " world" }, { 0, 1, "" }
    };
    reset (SC_CONSUME_ALL);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "POST /chunked HTTP/1.1\r\nHost: a\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n");
    CHECK (test_wait_ge (&ncalls, 1, 5000));
    raw_send_str (fd, "5\r\nhello\r\n");
    CHECK (test_wait_ge (&body_bytes, 5, 5000));
    raw_send_str (fd, "6\r\n world\r\n");
    CHECK (test_wait_ge (&body_bytes, 11, 5000));
    raw_send_str (fd, "0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n");
    read_reply (fd, "got:hello world", 0);
    close (fd);
    CHECK (test_wait_ge (&n_completed, 1, 5000));
    CHECK_CALLS ("chunked paced", e);
    CHECK_STR ("yes", footer_value);
  }

  /* 7. Chunked body all at once (chunk extension too). */
  {
    static const struct exp_call e[] = {
      { 0, 0, "" }, { 3, 1, "abc" }, { 2, 1, "de" }, { 0, 1, "" }
    };
    reset (SC_CONSUME_ALL);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "POST /chunked HTTP/1.1\r\nHost: a\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n"
                  "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t2\r\n\r\n");
    read_reply (fd, "got:abcde", 0);
    close (fd);
    CHECK (test_wait_ge (&n_completed, 1, 5000));
    CHECK_CALLS ("chunked one packet", e);
    CHECK_STR ("t2", footer_value);
  }

  /* 8. Expect: 100-continue: 100 Continue arrives before the body is sent. */
  {
    static const struct exp_call e[] = {
      { 0, 0, "" }, { 4, 1, "body" }, { 0, 1, "" }
    };
    struct buf b;
    const char *cont = "HTTP/1.1 100 Continue\r\n\r\n";
    reset (SC_CONSUME_ALL);
    buf_init (&b);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "POST /expect HTTP/1.1\r\nHost: a\r\n"
                  "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    CHECK_INT (RAW_OK, raw_read_headers (fd, &b, RAW_TIMEOUT_MS));
    CHECK_MEM (cont, strlen (cont), b.data, b.len);
    CHECK_INT (0, body_bytes);
    raw_send_str (fd, "body");
    read_reply (fd, "got:body", 0);
    close (fd);
    buf_free (&b);
    CHECK (test_wait_ge (&n_completed, 1, 5000));
    CHECK_CALLS ("expect 100-continue", e);
  }

  /* 9. Expect: 100-continue on HTTP/1.0 is ignored (no 100 sent). */
  {
    struct buf b;
    reset (SC_CONSUME_ALL);
    buf_init (&b);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "POST /expect HTTP/1.0\r\n"
                  "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    CHECK (test_wait_ge (&ncalls, 1, 5000));
    CHECK_INT (-2, raw_read_some (fd, &b, 200));
    raw_send_str (fd, "body");
    read_reply (fd, "got:body", 1);
    close (fd);
    buf_free (&b);
  }

  /* 10. Handler returns MHD_NO on the first call: connection closed without
   * a response; completion reports an error. */
  {
    static const struct exp_call e[] = { { 0, 0, "" } };
    struct buf b;
    reset (SC_NO_ON_FIRST);
    buf_init (&b);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "GET /no HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK (raw_wait_closed (fd, &b, RAW_TIMEOUT_MS));
    CHECK_INT (0, b.len);
    close (fd);
    buf_free (&b);
    CHECK (test_wait_ge (&n_completed, 1, 5000));
    CHECK_CALLS ("MHD_NO on first call", e);
    CHECK_INT (MHD_REQUEST_TERMINATED_WITH_ERROR, last_toe);
  }

  /* 11. Handler returns MHD_NO when upload data arrives. */
  {
    static const struct exp_call e[] = { { 0, 0, "" }, { 5, 1, "12345" } };
    struct buf b;
    reset (SC_NO_ON_DATA);
    buf_init (&b);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "POST /no HTTP/1.1\r\nHost: a\r\n"
                  "Content-Length: 5\r\n\r\n12345");
    CHECK (raw_wait_closed (fd, &b, RAW_TIMEOUT_MS));
    CHECK_INT (0, b.len);
    close (fd);
    buf_free (&b);
    CHECK (test_wait_ge (&n_completed, 1, 5000));
    CHECK_CALLS ("MHD_NO on data", e);
    CHECK_INT (MHD_REQUEST_TERMINATED_WITH_ERROR, last_toe);
  }

  /* 12. Two requests on one connection: each starts with NULL con_cls. */
  {
    static const struct exp_call e[] = {
      { 0, 0, "" }, { 0, 1, "" }, { 0, 0, "" }, { 0, 1, "" }
    };
    struct buf carry;
    struct http_resp r;
    reset (SC_REPLY_ON_SECOND);
    buf_init (&carry);
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    raw_send_str (fd, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_INT (1, raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS, NULL));
    http_resp_free (&r);
    raw_send_str (fd, "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_INT (1, raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS, NULL));
    http_resp_free (&r);
    close (fd);
    buf_free (&carry);
    CHECK (test_wait_ge (&n_completed, 2, 5000));
    CHECK_CALLS ("keep-alive", e);
    CHECK_STR ("/a", calls[0].url);
    CHECK_STR ("/b", calls[2].url);
  }

  test_stop_daemon (d);
}

int
main (void)
{
  return test_run_modes ("test_handler_calls", run);
}
