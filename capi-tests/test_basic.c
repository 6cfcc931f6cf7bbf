/* test_basic: GET via curl; completion, connection and URI-log callbacks. */
#include "common.h"
#include <pthread.h>

#define CTX_MAGIC 0x5eed1234u

struct req_ctx
{
  unsigned int magic;
  char uri[256];
  int calls;
};

static volatile int n_uri_log;
static volatile int n_handler_first;
static volatile int n_completed;
static volatile int n_completed_ok;
static volatile int n_conn_started;
static volatile int n_conn_closed;
static volatile int n_bad;
static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static char last_uri[256];
static char last_url[256];
static char last_method[32];
static char last_version[32];
static void *last_completed_ctx;
static int socket_ctx_marker;

static void *
uri_log_cb (void *cls, const char *uri, struct MHD_Connection *c)
{
  struct req_ctx *ctx;
  CHECK (cls == (void *) &n_uri_log);
  CHECK (NULL != c);
  ctx = calloc (1, sizeof (*ctx));
  ctx->magic = CTX_MAGIC;
  snprintf (ctx->uri, sizeof (ctx->uri), "%s", uri);
  pthread_mutex_lock (&lk);
  snprintf (last_uri, sizeof (last_uri), "%s", uri);
  pthread_mutex_unlock (&lk);
  ATOMIC_INC (&n_uri_log);
  return ctx;
}

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  struct req_ctx *ctx = *con_cls;
  struct MHD_Response *r;
  enum MHD_Result ret;
  static const char body[] = "Hello, world!\n";
  (void) upload;
  CHECK (cls == (void *) &n_handler_first);
  if ((NULL == ctx) || (CTX_MAGIC != ctx->magic))
  {
    test_fail (__FILE__, __LINE__,
               "*con_cls is not the URI log callback's return value");
    ATOMIC_INC (&n_bad);
    return MHD_NO;
  }
  ctx->calls++;
  if (1 == ctx->calls)
  {
    ATOMIC_INC (&n_handler_first);
    CHECK_INT (0, *upload_size);
    pthread_mutex_lock (&lk);
    snprintf (last_url, sizeof (last_url), "%s", url);
    snprintf (last_method, sizeof (last_method), "%s", method);
    snprintf (last_version, sizeof (last_version), "%s", version);
    pthread_mutex_unlock (&lk);
    return MHD_YES;
  }
  r = MHD_create_response_from_buffer (strlen (body), (void *) body,
                                       MHD_RESPMEM_PERSISTENT);
  CHECK (NULL != r);
  if (NULL == r)
    return MHD_NO;
  CHECK_INT (MHD_YES, MHD_add_response_header (r, "X-Test", "value 1"));
  CHECK_INT (MHD_YES, MHD_add_response_header (r, "Content-Type",
                                               "text/plain"));
  ret = MHD_queue_response (c, MHD_HTTP_OK, r);
  CHECK_INT (MHD_YES, ret);
  MHD_destroy_response (r);
  return ret;
}

static void
completed_cb (void *cls, struct MHD_Connection *c, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  struct req_ctx *ctx = *con_cls;
  CHECK (cls == (void *) &n_completed);
  CHECK (NULL != c);
  CHECK_INT (MHD_REQUEST_TERMINATED_COMPLETED_OK, toe);
  if (MHD_REQUEST_TERMINATED_COMPLETED_OK == toe)
    ATOMIC_INC (&n_completed_ok);
  CHECK (NULL != ctx);
  if (NULL != ctx)
  {
    CHECK_INT (CTX_MAGIC, ctx->magic);
    CHECK_INT (2, ctx->calls);
    ctx->magic = 0;
    free (ctx);
  }
  pthread_mutex_lock (&lk);
  last_completed_ctx = ctx;
  pthread_mutex_unlock (&lk);
  *con_cls = NULL;
  ATOMIC_INC (&n_completed);
}

static void
conn_cb (void *cls, struct MHD_Connection *c, void **socket_context,
         enum MHD_ConnectionNotificationCode toe)
{
  CHECK (cls == (void *) &n_conn_started);
  CHECK (NULL != c);
  if (MHD_CONNECTION_NOTIFY_STARTED == toe)
  {
    CHECK (NULL == *socket_context);
    *socket_context = &socket_ctx_marker;
    ATOMIC_INC (&n_conn_started);
  }
  else if (MHD_CONNECTION_NOTIFY_CLOSED == toe)
  {
    CHECK (&socket_ctx_marker == *socket_context);
    ATOMIC_INC (&n_conn_closed);
  }
  else
    test_fail (__FILE__, __LINE__, "unknown connection notification %d",
               (int) toe);
}

static void
reset (void)
{
  n_uri_log = n_handler_first = n_completed = n_completed_ok = 0;
  n_conn_started = n_conn_closed = n_bad = 0;
}

static void
run (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  struct curl_res rs;
  char v[256];
  int i;

  reset ();
  d = START_DAEMON (0, handler, (void *) &n_handler_first,
                    MHD_OPTION_NOTIFY_COMPLETED, completed_cb,
                    (void *) &n_completed,
                    MHD_OPTION_NOTIFY_CONNECTION, conn_cb,
                    (void *) &n_conn_started,
                    MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb,
                    (void *) &n_uri_log,
                    MHD_OPTION_END);
  port = test_daemon_port (d);

  /* one request */
  CHECK (curl_get (port, "/hello%20world/x?a=b%20c&d", &rs));
  CHECK_INT (CURLE_OK, rs.code);
  CHECK_INT (200, rs.status);
  CHECK_STR ("Hello, world!\n", rs.body.data);
  CHECK_MSG (0 == strncmp (rs.headers.data, "HTTP/1.1 200 OK\r\n", 17),
             "status line: %.40s", rs.headers.data);
  CHECK (curl_res_header (&rs, "X-Test", v, sizeof (v)));
  CHECK_STR ("value 1", v);
  CHECK (curl_res_header (&rs, "Content-Type", v, sizeof (v)));
  CHECK_STR ("text/plain", v);
  CHECK (curl_res_header (&rs, "Content-Length", v, sizeof (v)));
  CHECK_STR ("14", v);
  CHECK (curl_res_header (&rs, "Date", v, sizeof (v)));
  curl_res_free (&rs);

  CHECK (test_wait_ge (&n_completed, 1, 5000));
  CHECK_INT (1, n_completed);
  CHECK_INT (1, n_completed_ok);
  CHECK_INT (1, n_uri_log);
  CHECK_INT (1, n_handler_first);
  CHECK_INT (1, n_conn_started);
  pthread_mutex_lock (&lk);
  CHECK_STR ("/hello%20world/x?a=b%20c&d", last_uri);
  CHECK_STR ("/hello world/x", last_url);
  CHECK_STR ("GET", last_method);
  CHECK_STR ("HTTP/1.1", last_version);
  CHECK (NULL != last_completed_ctx);
  pthread_mutex_unlock (&lk);
  /* curl_easy_cleanup closed the connection */
  CHECK (test_wait_ge (&n_conn_closed, 1, 5000));
  CHECK_INT (1, n_conn_closed);

  /* several sequential requests, each a new connection */
  for (i = 0; i < 5; i++)
  {
    CHECK (curl_get (port, "/again", &rs));
    CHECK_INT (200, rs.status);
    CHECK_STR ("Hello, world!\n", rs.body.data);
    curl_res_free (&rs);
  }
  CHECK (test_wait_ge (&n_completed, 6, 5000));
  CHECK (test_wait_ge (&n_conn_closed, 6, 5000));
  CHECK_INT (6, n_completed);
  CHECK_INT (6, n_uri_log);
  CHECK_INT (6, n_handler_first);
  CHECK_INT (6, n_conn_started);
  CHECK_INT (6, n_conn_closed);
  CHECK_INT (0, n_bad);

  /* HTTP/1.0 request through curl */
  {
    struct curl_req rq;
    memset (&rq, 0, sizeof (rq));
    rq.url_path = "/ten";
    rq.http10 = 1;
    CHECK (curl_do (port, &rq, &rs));
    CHECK_INT (200, rs.status);
    CHECK_STR ("Hello, world!\n", rs.body.data);
    CHECK_MSG (0 == strncmp (rs.headers.data, "HTTP/1.1 200 OK\r\n", 17),
               "HTTP/1.0 request: status line %.40s", rs.headers.data);
    curl_res_free (&rs);
    CHECK (test_wait_ge (&n_completed, 7, 5000));
    pthread_mutex_lock (&lk);
    CHECK_STR ("HTTP/1.0", last_version);
    pthread_mutex_unlock (&lk);
  }

  test_stop_daemon (d);
  /* the completion callback ran once per request, no more at stop */
  CHECK_INT (7, n_completed);
  CHECK_INT (7, n_conn_closed);
}

int
main (void)
{
  return test_run_modes ("test_basic", run);
}
