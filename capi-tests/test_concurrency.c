/* test_concurrency: 200 concurrent keep-alive clients (curl multi), each
 * doing several requests; every body checked. */
#include "common.h"
#include <pthread.h>

#define CLIENTS 200
#define REQS 3

static volatile int n_conn_started;
static volatile int n_requests;

static void
make_body (unsigned int client, unsigned int req, struct buf *b)
{
  char line[64];
  unsigned int i, n = 20 + (client * 37 + req * 11) % 200;
  for (i = 0; i < n; i++)
  {
    snprintf (line, sizeof (line), "c%u r%u l%u\n", client, req, i);
    buf_append (b, line, strlen (line));
  }
}

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  static int marker;
  unsigned int client, req;
  struct buf b;
  struct MHD_Response *r;
  enum MHD_Result ret;
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
  if (2 != sscanf (url, "/c%u/r%u", &client, &req))
    return test_reply (c, MHD_HTTP_NOT_FOUND, "bad url");
  buf_init (&b);
  make_body (client, req, &b);
  r = MHD_create_response_from_buffer (b.len, b.data, MHD_RESPMEM_MUST_FREE);
  ret = MHD_queue_response (c, MHD_HTTP_OK, r);
  MHD_destroy_response (r);
  ATOMIC_INC (&n_requests);
  return ret;
}

static void
conn_cb (void *cls, struct MHD_Connection *c, void **socket_context,
         enum MHD_ConnectionNotificationCode toe)
{
  (void) cls;
  (void) c;
  (void) socket_context;
  if (MHD_CONNECTION_NOTIFY_STARTED == toe)
    ATOMIC_INC (&n_conn_started);
}

struct client
{
  CURL *h;
  struct curl_res rs;
  unsigned int idx;
  unsigned int req;
  int done;
};

static void
start_req (CURLM *m, uint16_t port, struct client *cl)
{
  char path[64];
  struct curl_req rq;
  snprintf (path, sizeof (path), "/c%u/r%u", cl->idx, cl->req);
  memset (&rq, 0, sizeof (rq));
  rq.url_path = path;
  rq.timeout_s = 30;
  if (NULL == cl->h)
  {
    cl->h = curl_setup (port, &rq, &cl->rs);
    SETUP_CHECK (NULL != cl->h);
    curl_easy_setopt (cl->h, CURLOPT_PRIVATE, cl);
  }
  else
  {
    char url[128];
    snprintf (url, sizeof (url), "http://127.0.0.1:%u%s", (unsigned) port,
              path);
    curl_easy_setopt (cl->h, CURLOPT_URL, url);
    cl->rs.body.len = 0;
    cl->rs.headers.len = 0;
  }
  curl_multi_add_handle (m, cl->h);
}

static void
run (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  CURLM *m;
  static struct client cls[CLIENTS];
  unsigned int i;
  int running = 0, finished = 0, reused = 0;
  uint64_t end;

  n_conn_started = n_requests = 0;
  d = START_DAEMON (0, handler, NULL,
                    MHD_OPTION_NOTIFY_CONNECTION, conn_cb, NULL,
                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 60,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  m = curl_multi_init ();
  curl_multi_setopt (m, CURLMOPT_MAXCONNECTS, (long) (CLIENTS * 2));
  memset (cls, 0, sizeof (cls));
  for (i = 0; i < CLIENTS; i++)
  {
    cls[i].idx = i;
    start_req (m, port, &cls[i]);
  }
  end = test_now_ms () + 60000;
  while (finished < CLIENTS && test_now_ms () < end)
  {
    CURLMsg *msg;
    int left;
    curl_multi_perform (m, &running);
    while (NULL != (msg = curl_multi_info_read (m, &left)))
    {
      struct client *cl = NULL;
      long status = 0, nconn = 0;
      struct buf exp;
      if (CURLMSG_DONE != msg->msg)
        continue;
      curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &cl);
      curl_easy_getinfo (msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo (msg->easy_handle, CURLINFO_NUM_CONNECTS, &nconn);
      curl_multi_remove_handle (m, msg->easy_handle);
      CHECK_MSG (CURLE_OK == msg->data.result, "client %u req %u: %s",
                 cl->idx, cl->req, curl_easy_strerror (msg->data.result));
      CHECK_INT (200, status);
      buf_init (&exp);
      make_body (cl->idx, cl->req, &exp);
      if ((exp.len != cl->rs.body.len) ||
          (0 != memcmp (exp.data, cl->rs.body.data, exp.len)))
        test_fail (__FILE__, __LINE__, "client %u req %u: wrong body (%zu bytes, expected %zu)",
                   cl->idx, cl->req, cl->rs.body.len, exp.len);
      buf_free (&exp);
      if ((cl->req > 0) && (0 == nconn))
        reused++;
      cl->req++;
      if (cl->req < REQS)
        start_req (m, port, cl);
      else
      {
        cl->done = 1;
        finished++;
      }
    }
    if (finished < CLIENTS)
      curl_multi_poll (m, NULL, 0, 100, NULL);
  }
  CHECK_INT (CLIENTS, finished);
  CHECK_INT (CLIENTS * REQS, n_requests);
  test_note ("%d of %d follow-up requests reused a connection; %d connections",
             reused, CLIENTS * (REQS - 1), n_conn_started);
  /* keep-alive: the follow-up requests reuse connections */
  CHECK_MSG (reused >= CLIENTS * (REQS - 1) * 9 / 10,
             "only %d of %d follow-up requests reused a connection", reused,
             CLIENTS * (REQS - 1));
  CHECK_MSG (n_conn_started <= CLIENTS + CLIENTS / 10,
             "%d connections for %d clients", n_conn_started, CLIENTS);
  for (i = 0; i < CLIENTS; i++)
  {
    if (NULL != cls[i].h)
    {
      if (! cls[i].done)
        curl_multi_remove_handle (m, cls[i].h);
      curl_easy_cleanup (cls[i].h);
    }
    curl_res_free (&cls[i].rs);
  }
  curl_multi_cleanup (m);
  test_stop_daemon (d);
}

int
main (void)
{
  return test_run_modes ("test_concurrency", run);
}
