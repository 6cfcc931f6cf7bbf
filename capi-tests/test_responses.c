/* test_responses: every way to create a response, response headers and
 * footers, framing (Content-Length, chunked, close-delimited), HEAD, and
 * one response shared by many connections. */
#include "common.h"
#include <pthread.h>
#include <unistd.h>
#include <fcntl.h>

#define FILE_SIZE (3 * 1024 * 1024 + 17)
#define CB_SIZE 200000
#define PIPE_SIZE 300000

static char tmp_path[64];
static unsigned char *file_data;     /* contents of the temp file */

static unsigned char
pattern (uint64_t i)
{
  return (unsigned char) ((i * 7u + i / 251u) & 0xffu);
}

/* ---- per-request context: the path and the completion code ---- */
struct req
{
  char path[64];
};
#define MAX_DONE 64
static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static struct
{
  char path[64];
  int toe;
} done_tab[MAX_DONE];
static volatile int n_done;

static void
completed_cb (void *cls, struct MHD_Connection *c, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  struct req *rq = *con_cls;
  (void) cls;
  (void) c;
  if (NULL == rq)
    return;
  pthread_mutex_lock (&lk);
  if (n_done < MAX_DONE)
  {
    snprintf (done_tab[n_done].path, sizeof (done_tab[n_done].path), "%s",
              rq->path);
    done_tab[n_done].toe = (int) toe;
  }
  pthread_mutex_unlock (&lk);
  free (rq);
  *con_cls = NULL;
  ATOMIC_INC (&n_done);
}

/* toe of the most recent completed request for path, -1 if none */
static int
toe_of (const char *path)
{
  int i, t = -1;
  pthread_mutex_lock (&lk);
  for (i = 0; i < n_done && i < MAX_DONE; i++)
    if (0 == strcmp (done_tab[i].path, path))
      t = done_tab[i].toe;
  pthread_mutex_unlock (&lk);
  return t;
}

/* ---- free callbacks ---- */
static volatile int n_freecb;
static volatile int freecb_done_at_call;  /* n_done when the free cb ran */
static void *freecb_ptr;
static char freecb_buf[] = "with free callback";

static void
free_cb (void *p)
{
  freecb_ptr = p;
  ATOMIC_SET (&freecb_done_at_call, ATOMIC_GET (&n_done));
  ATOMIC_INC (&n_freecb);
}

static volatile int n_freecb_cls;
static void *freecb_cls_arg;
static char freecb_cls_buf[] = "free callback with cls";
static void
free_cb_cls (void *cls)
{
  freecb_cls_arg = cls;
  ATOMIC_INC (&n_freecb_cls);
}

static volatile int n_iov_free;
static void
iov_free (void *cls)
{
  CHECK (cls == (void *) &n_iov_free);
  ATOMIC_INC (&n_iov_free);
}

/* ---- content reader callbacks ---- */
struct reader
{
  int kind;           /* 0 pattern, 1 pieces, 2 error at 1000 */
  uint64_t size;
  int calls;
};
static volatile int n_reader_free;

static ssize_t
reader_cb (void *cls, uint64_t pos, char *buf, size_t max)
{
  struct reader *rd = cls;
  static const char *const pieces[] = { "first-", "second-", "third" };
  size_t i, n;
  rd->calls++;
  switch (rd->kind)
  {
  case 0:
    if (pos >= rd->size)
    {
      test_fail (__FILE__, __LINE__, "reader called at pos %llu >= size",
                 (unsigned long long) pos);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    n = (size_t) (rd->size - pos);
    if (n > max)
      n = max;
    if (n > 3000)
      n = 3000;   /* several calls */
    for (i = 0; i < n; i++)
      buf[i] = (char) pattern (pos + i);
    return (ssize_t) n;
  case 1:
    {
      uint64_t off = 0;
      for (i = 0; i < 3; i++)
      {
        size_t l = strlen (pieces[i]);
        if (pos == off)
        {
          CHECK (max >= l);
          memcpy (buf, pieces[i], l);
          return (ssize_t) l;
        }
        off += l;
      }
      if (pos == off)
        return MHD_CONTENT_READER_END_OF_STREAM;
      test_fail (__FILE__, __LINE__, "reader: unexpected pos %llu",
                 (unsigned long long) pos);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
  default:
    if (pos < 1000)
    {
      n = 1000 - (size_t) pos;
      if (n > max)
        n = max;
      memset (buf, 'e', n);
      return (ssize_t) n;
    }
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
}

static void
reader_free (void *cls)
{
  free (cls);
  ATOMIC_INC (&n_reader_free);
}

/* ---- pipe writer ---- */
static void *
pipe_writer (void *arg)
{
  int fd = (int) (intptr_t) arg;
  unsigned char blk[4096];
  size_t off = 0;
  while (off < PIPE_SIZE)
  {
    size_t n = PIPE_SIZE - off;
    size_t i;
    ssize_t w;
    if (n > sizeof (blk))
      n = sizeof (blk);
    for (i = 0; i < n; i++)
      blk[i] = pattern (off + i);
    w = write (fd, blk, n);
    if (w <= 0)
      break;
    off += (size_t) w;
  }
  close (fd);
  return NULL;
}

/* ---- headers iteration ---- */
struct hlist
{
  int n;
  char names[16][32];
  char values[16][32];
};
static enum MHD_Result
hdr_iter (void *cls, enum MHD_ValueKind kind, const char *key,
          const char *value)
{
  struct hlist *h = cls;
  CHECK_INT (MHD_HEADER_KIND, kind);
  if (h->n < 16)
  {
    snprintf (h->names[h->n], 32, "%s", key);
    snprintf (h->values[h->n], 32, "%s", value);
  }
  h->n++;
  return MHD_YES;
}

static struct MHD_Response *shared_resp;
static pthread_t pipe_thread;
static volatile int pipe_thread_started;

static struct MHD_Response *
make_response (const char *url)
{
  struct MHD_Response *r = NULL;
  if (0 == strcmp (url, "/persistent"))
  {
    static const char b[] = "persistent body";
    r = MHD_create_response_from_buffer (strlen (b), (void *) b,
                                         MHD_RESPMEM_PERSISTENT);
  }
  else if (0 == strcmp (url, "/copy"))
  {
    char b[32];
    strcpy (b, "copied body");
    r = MHD_create_response_from_buffer (strlen (b), b,
                                         MHD_RESPMEM_MUST_COPY);
    memset (b, 'X', sizeof (b));   /* must not affect the response */
  }
  else if (0 == strcmp (url, "/free"))
  {
    char *b = strdup ("malloced body");
    r = MHD_create_response_from_buffer (strlen (b), b,
                                         MHD_RESPMEM_MUST_FREE);
  }
  else if (0 == strcmp (url, "/empty"))
  {
    r = MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT);
  }
  else if (0 == strcmp (url, "/freecb"))
  {
    r = MHD_create_response_from_buffer_with_free_callback (
      strlen (freecb_buf), freecb_buf, free_cb);
  }
  else if (0 == strcmp (url, "/freecb-cls"))
  {
    r = MHD_create_response_from_buffer_with_free_callback_cls (
      strlen (freecb_cls_buf), freecb_cls_buf, free_cb_cls, (void *) &n_freecb_cls);
  }
  else if (0 == strcmp (url, "/data-copy"))
  {
    char b[16];
    strcpy (b, "data copy");
    r = MHD_create_response_from_data (strlen (b), b, MHD_NO, MHD_YES);
    memset (b, 'X', sizeof (b));
  }
  else if (0 == strcmp (url, "/data-free"))
  {
    char *b = strdup ("data free");
    r = MHD_create_response_from_data (strlen (b), b, MHD_YES, MHD_NO);
  }
  else if (0 == strcmp (url, "/cb-known"))
  {
    struct reader *rd = calloc (1, sizeof (*rd));
    rd->kind = 0;
    rd->size = CB_SIZE;
    r = MHD_create_response_from_callback (CB_SIZE, 4096, reader_cb, rd,
                                           reader_free);
  }
  else if (0 == strcmp (url, "/cb-unknown"))
  {
    struct reader *rd = calloc (1, sizeof (*rd));
    rd->kind = 1;
    r = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 1024, reader_cb,
                                           rd, reader_free);
  }
  else if (0 == strcmp (url, "/cb-footer"))
  {
    struct reader *rd = calloc (1, sizeof (*rd));
    rd->kind = 1;
    r = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 1024, reader_cb,
                                           rd, reader_free);
    CHECK_INT (MHD_YES, MHD_add_response_footer (r, "X-Foot", "bar"));
    CHECK_INT (MHD_YES, MHD_add_response_footer (r, "X-Foot2", "baz"));
  }
  else if ((0 == strcmp (url, "/cb-error")) ||
           (0 == strcmp (url, "/cb-error-unknown")))
  {
    struct reader *rd = calloc (1, sizeof (*rd));
    rd->kind = 2;
    r = MHD_create_response_from_callback (
      (0 == strcmp (url, "/cb-error")) ? 10000 : MHD_SIZE_UNKNOWN, 1024,
      reader_cb, rd, reader_free);
  }
  else if ((0 == strcmp (url, "/fd")) || (0 == strcmp (url, "/fd64")) ||
           (0 == strcmp (url, "/fd-offset")) ||
           (0 == strcmp (url, "/fd-offset64")))
  {
    int fd = open (tmp_path, O_RDONLY | O_CLOEXEC);
    CHECK (fd >= 0);
    if (fd < 0)
      return NULL;
    if (0 == strcmp (url, "/fd"))
      r = MHD_create_response_from_fd (FILE_SIZE, fd);
    else if (0 == strcmp (url, "/fd64"))
      r = MHD_create_response_from_fd64 (FILE_SIZE - 1000, fd);
    else if (0 == strcmp (url, "/fd-offset"))
      r = MHD_create_response_from_fd_at_offset (1000000, fd, 12345);
    else
      r = MHD_create_response_from_fd_at_offset64 (FILE_SIZE - 2000000, fd,
                                                   2000000);
  }
  else if (0 == strcmp (url, "/pipe"))
  {
    int p[2];
    CHECK (0 == pipe (p));
    r = MHD_create_response_from_pipe (p[0]);
    CHECK (0 == pthread_create (&pipe_thread, NULL, pipe_writer,
                                (void *) (intptr_t) p[1]));
    ATOMIC_SET (&pipe_thread_started, 1);
  }
  else if (0 == strcmp (url, "/iovec"))
  {
    static const char a[] = "iov-one|";
    static const char b[] = "iov-two|";
    static const char c[] = "iov-three";
    struct MHD_IoVec iov[4];
    iov[0].iov_base = a;
    iov[0].iov_len = strlen (a);
    iov[1].iov_base = b;
    iov[1].iov_len = 0;            /* empty element */
    iov[2].iov_base = b;
    iov[2].iov_len = strlen (b);
    iov[3].iov_base = c;
    iov[3].iov_len = strlen (c);
    r = MHD_create_response_from_iovec (iov, 4, iov_free, (void *) &n_iov_free);
  }
  else if (0 == strcmp (url, "/headers"))
  {
    static const char b[] = "headers";
    struct hlist h;
    r = MHD_create_response_from_buffer (strlen (b), (void *) b,
                                         MHD_RESPMEM_PERSISTENT);
    CHECK_INT (MHD_YES, MHD_add_response_header (r, "X-A", "1"));
    CHECK_INT (MHD_YES, MHD_add_response_header (r, "X-B", "2"));
    CHECK_INT (MHD_YES, MHD_add_response_header (r, "X-A", "3"));
    CHECK_INT (MHD_YES, MHD_add_response_header (r, "X-C", "c"));
    CHECK_STR ("1", MHD_get_response_header (r, "x-a"));
    CHECK_STR ("2", MHD_get_response_header (r, "X-B"));
    CHECK_STR (NULL, MHD_get_response_header (r, "X-None"));
    memset (&h, 0, sizeof (h));
    CHECK_INT (4, MHD_get_response_headers (r, hdr_iter, &h));
    CHECK_INT (4, h.n);
    CHECK_STR ("X-A", h.names[0]);
    CHECK_STR ("1", h.values[0]);
    CHECK_STR ("X-B", h.names[1]);
    CHECK_STR ("X-A", h.names[2]);
    CHECK_STR ("3", h.values[2]);
    CHECK_INT (MHD_YES, MHD_del_response_header (r, "X-B", "2"));
    CHECK_INT (MHD_NO, MHD_del_response_header (r, "X-B", "2"));
    CHECK_INT (MHD_NO, MHD_del_response_header (r, "X-C", "other"));
    CHECK_STR (NULL, MHD_get_response_header (r, "X-B"));
    CHECK_INT (3, MHD_get_response_headers (r, NULL, NULL));
    /* del removes only the matching (name, value) pair */
    CHECK_INT (MHD_YES, MHD_del_response_header (r, "X-A", "1"));
    CHECK_STR ("3", MHD_get_response_header (r, "X-A"));
    CHECK_INT (MHD_YES, MHD_add_response_header (r, "X-A", "4"));
  }
  else if (0 == strcmp (url, "/shared"))
  {
    r = shared_resp;
  }
  return r;
}

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  struct MHD_Response *r;
  struct req *rq;
  enum MHD_Result ret;
  (void) cls;
  (void) method;
  (void) version;
  (void) upload;
  (void) upload_size;
  if (NULL == *con_cls)
  {
    rq = calloc (1, sizeof (*rq));
    snprintf (rq->path, sizeof (rq->path), "%s", url);
    *con_cls = rq;
    return MHD_YES;
  }
  r = make_response (url);
  if (NULL == r)
    return test_reply (c, MHD_HTTP_NOT_FOUND, "not found");
  ret = MHD_queue_response (c, MHD_HTTP_OK, r);
  CHECK_INT (MHD_YES, ret);
  if (r != shared_resp)
    MHD_destroy_response (r);
  return ret;
}

/* ---- client helpers ---- */

static int
raw_get (uint16_t port, const char *path, int http10, int head,
         struct http_resp *r, int *closed)
{
  char req[512];
  snprintf (req, sizeof (req), "%s %s HTTP/1.%d\r\nHost: x\r\n\r\n",
            head ? "HEAD" : "GET", path, http10 ? 0 : 1);
  return raw_request (port, req, strlen (req), head, r, closed,
                      http10 ? 2000 : 0);
}

static void
check_simple (uint16_t port, const char *path, const char *body)
{
  struct curl_res rs;
  char v[64];
  char cl[32];
  CHECK_MSG (curl_get (port, path, &rs), "%s: curl error %d", path,
             (int) rs.code);
  CHECK_INT (200, rs.status);
  CHECK_STR (body, rs.body.data);
  snprintf (cl, sizeof (cl), "%zu", strlen (body));
  CHECK_MSG (curl_res_header (&rs, "Content-Length", v, sizeof (v)),
             "%s: no Content-Length", path);
  CHECK_STR (cl, v);
  curl_res_free (&rs);
}

static void
check_file_body (const char *path, const struct buf *b, size_t off,
                 size_t size)
{
  CHECK_MSG (b->len == size, "%s: body %zu bytes, expected %zu", path,
             b->len, size);
  if (b->len == size)
    CHECK_MSG (0 == memcmp (b->data, file_data + off, size),
               "%s: body content differs from file", path);
}

static int
done_ge (int n)
{
  return test_wait_ge (&n_done, n, 5000);
}

struct multi_ctx
{
  uint16_t port;
};

static void
test_shared (uint16_t port)
{
  /* one response object queued on 20 connections concurrently */
  enum { N = 20 };
  CURLM *m = curl_multi_init ();
  CURL *h[N];
  struct curl_res rs[N];
  struct curl_req rq;
  int i, running = 0;
  uint64_t end = test_now_ms () + 20000;
  memset (&rq, 0, sizeof (rq));
  rq.url_path = "/shared";
  for (i = 0; i < N; i++)
  {
    h[i] = curl_setup (port, &rq, &rs[i]);
    curl_multi_add_handle (m, h[i]);
  }
  do
  {
    curl_multi_perform (m, &running);
    if (running)
      curl_multi_poll (m, NULL, 0, 100, NULL);
  } while (running && test_now_ms () < end);
  CHECK_INT (0, running);
  for (i = 0; i < N; i++)
  {
    long st = 0;
    curl_easy_getinfo (h[i], CURLINFO_RESPONSE_CODE, &st);
    CHECK_INT (200, st);
    CHECK_INT (65536, rs[i].body.len);
    if (65536 == rs[i].body.len)
      CHECK_MSG (0 == memcmp (rs[i].body.data, file_data, 65536),
                 "shared response body differs (client %d)", i);
    curl_multi_remove_handle (m, h[i]);
    curl_teardown (h[i]);
    curl_res_free (&rs[i]);
  }
  curl_multi_cleanup (m);
}

static void
run (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  struct http_resp r;
  struct curl_res rs;
  int closed;
  int base;

  n_done = 0;
  n_freecb = n_freecb_cls = n_iov_free = n_reader_free = 0;
  memset (done_tab, 0, sizeof (done_tab));
  shared_resp = MHD_create_response_from_buffer_with_free_callback (
    65536, file_data, free_cb);
  SETUP_CHECK (NULL != shared_resp);
  MHD_add_response_header (shared_resp, "X-Shared", "yes");

  d = START_DAEMON (0, handler, NULL,
                    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                    MHD_OPTION_END);
  port = test_daemon_port (d);

  /* buffers */
  check_simple (port, "/persistent", "persistent body");
  check_simple (port, "/copy", "copied body");
  check_simple (port, "/free", "malloced body");
  check_simple (port, "/empty", "");
  check_simple (port, "/data-copy", "data copy");
  check_simple (port, "/data-free", "data free");
  check_simple (port, "/iovec", "iov-one|iov-two|iov-three");
  CHECK (done_ge (7));
  CHECK (test_wait_ge (&n_iov_free, 1, 5000));
  CHECK_INT (1, n_iov_free);

  /* free callback: once, after the request completed */
  base = n_done;
  check_simple (port, "/freecb", "with free callback");
  CHECK (test_wait_ge (&n_freecb, 1, 5000));
  CHECK_INT (1, n_freecb);
  CHECK (freecb_ptr == (void *) freecb_buf);
  CHECK_MSG (freecb_done_at_call >= base + 1,
             "free callback ran before the request completed (%d < %d)",
             freecb_done_at_call, base + 1);
  check_simple (port, "/freecb-cls", "free callback with cls");
  CHECK (test_wait_ge (&n_freecb_cls, 1, 5000));
  CHECK_INT (1, n_freecb_cls);
  CHECK (freecb_cls_arg == (void *) &n_freecb_cls);

  /* callback with known size */
  base = n_reader_free;
  CHECK (curl_get (port, "/cb-known", &rs));
  CHECK_INT (200, rs.status);
  CHECK_INT (CB_SIZE, rs.body.len);
  if (CB_SIZE == rs.body.len)
  {
    size_t i;
    for (i = 0; i < CB_SIZE; i++)
      if ((unsigned char) rs.body.data[i] != pattern (i))
        break;
    CHECK_MSG (i == CB_SIZE, "/cb-known: byte %zu wrong", i);
  }
  curl_res_free (&rs);
  CHECK (test_wait_ge (&n_reader_free, base + 1, 5000));

  /* unknown size, HTTP/1.1: chunked */
  if (raw_get (port, "/cb-unknown", 0, 0, &r, &closed))
  {
    CHECK_INT (200, r.status);
    CHECK (r.chunked);
    CHECK_STR ("chunked", http_resp_header (&r, "Transfer-Encoding"));
    CHECK_STR (NULL, http_resp_header (&r, "Content-Length"));
    CHECK_STR ("first-second-third", r.body.data);
    CHECK_INT (3, r.nchunks);
    CHECK_INT (0, closed);   /* keep-alive kept */
    http_resp_free (&r);
  }
  else
    test_fail (__FILE__, __LINE__, "/cb-unknown HTTP/1.1: no response");

  /* unknown size, HTTP/1.0: close-delimited */
  if (raw_get (port, "/cb-unknown", 1, 0, &r, &closed))
  {
    CHECK_INT (200, r.status);
    CHECK (! r.chunked);
    CHECK (r.close_delimited);
    CHECK_STR (NULL, http_resp_header (&r, "Content-Length"));
    CHECK_STR (NULL, http_resp_header (&r, "Transfer-Encoding"));
    CHECK_STR ("first-second-third", r.body.data);
    CHECK_INT (1, closed);
    http_resp_free (&r);
  }
  else
    test_fail (__FILE__, __LINE__, "/cb-unknown HTTP/1.0: no response");

  /* footers with chunked */
  if (raw_get (port, "/cb-footer", 0, 0, &r, &closed))
  {
    CHECK (r.chunked);
    CHECK_STR ("first-second-third", r.body.data);
    CHECK_STR ("bar", http_resp_trailer (&r, "X-Foot"));
    CHECK_STR ("baz", http_resp_trailer (&r, "X-Foot2"));
    CHECK_STR (NULL, http_resp_header (&r, "X-Foot"));
    http_resp_free (&r);
  }
  else
    test_fail (__FILE__, __LINE__, "/cb-footer: no response");

  /* error mid-body: connection closed early, completion WITH_ERROR */
  {
    const char *paths[] = { "/cb-error", "/cb-error-unknown" };
    int k;
    for (k = 0; k < 2; k++)
    {
      char req[128];
      struct buf b;
      int fd = raw_connect (port);
      const char *body;
      SETUP_CHECK (fd >= 0);
      buf_init (&b);
      base = n_done;
      snprintf (req, sizeof (req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
                paths[k]);
      raw_send_str (fd, req);
      CHECK (raw_wait_closed (fd, &b, RAW_TIMEOUT_MS));
      body = (NULL != b.data) ? strstr (b.data, "\r\n\r\n") : NULL;
      test_note ("%s: got %zu bytes before close, body %zd bytes", paths[k],
                 b.len, body ? (ssize_t) (b.len - (size_t) (body + 4 - b.data)) : (ssize_t) -1);
      if (NULL != body)
      {
        size_t bl = b.len - (size_t) (body + 4 - b.data);
        CHECK_MSG (bl < 10000, "%s: full body despite error", paths[k]);
        if (k == 1)
          CHECK_MSG (NULL == strstr (body, "\r\n0\r\n"),
                     "%s: terminating chunk sent despite error", paths[k]);
      }
      close (fd);
      buf_free (&b);
      CHECK (done_ge (base + 1));
      CHECK_INT (MHD_REQUEST_TERMINATED_WITH_ERROR, toe_of (paths[k]));
    }
  }

  /* files */
  CHECK (curl_get (port, "/fd", &rs));
  check_file_body ("/fd", &rs.body, 0, FILE_SIZE);
  curl_res_free (&rs);
  CHECK (curl_get (port, "/fd64", &rs));
  check_file_body ("/fd64", &rs.body, 0, FILE_SIZE - 1000);
  curl_res_free (&rs);
  CHECK (curl_get (port, "/fd-offset", &rs));
  check_file_body ("/fd-offset", &rs.body, 12345, 1000000);
  curl_res_free (&rs);
  CHECK (curl_get (port, "/fd-offset64", &rs));
  check_file_body ("/fd-offset64", &rs.body, 2000000, FILE_SIZE - 2000000);
  curl_res_free (&rs);
  /* a file over HTTP/1.0 and raw: exact Content-Length */
  if (raw_get (port, "/fd-offset", 1, 0, &r, &closed))
  {
    CHECK_STR ("1000000", http_resp_header (&r, "Content-Length"));
    check_file_body ("/fd-offset raw", &r.body, 12345, 1000000);
    http_resp_free (&r);
  }
  else
    test_fail (__FILE__, __LINE__, "/fd-offset raw: no response");

  /* pipe */
  ATOMIC_SET (&pipe_thread_started, 0);
  if (raw_get (port, "/pipe", 0, 0, &r, &closed))
  {
    size_t i;
    CHECK_INT (200, r.status);
    CHECK (r.chunked);
    CHECK_INT (PIPE_SIZE, r.body.len);
    for (i = 0; i < r.body.len && i < PIPE_SIZE; i++)
      if ((unsigned char) r.body.data[i] != pattern (i))
        break;
    CHECK_MSG (i == PIPE_SIZE, "/pipe: byte %zu wrong", i);
    http_resp_free (&r);
  }
  else
    test_fail (__FILE__, __LINE__, "/pipe: no response");
  if (ATOMIC_GET (&pipe_thread_started))
    pthread_join (pipe_thread, NULL);

  /* headers */
  if (raw_get (port, "/headers", 0, 0, &r, &closed))
  {
    size_t i, na = 0;
    CHECK_STR ("headers", r.body.data);
    CHECK_INT (2, http_resp_header_count (&r, "X-A"));
    CHECK_INT (0, http_resp_header_count (&r, "X-B"));
    CHECK_STR ("c", http_resp_header (&r, "X-C"));
    for (i = 0; i < r.nhdrs; i++)
      if (0 == strcmp (r.hdrs[i].name, "X-A"))
      {
        CHECK_STR (na == 0 ? "3" : "4", r.hdrs[i].value);
        na++;
      }
    http_resp_free (&r);
  }
  else
    test_fail (__FILE__, __LINE__, "/headers: no response");

  /* HEAD: same headers as GET (Content-Length too), no body.  A GET
   * pipelined after the HEAD must parse right after the HEAD's headers. */
  {
    const char *paths[] = { "/persistent", "/cb-known", "/fd-offset" };
    const char *lens[] = { "15", "200000", "1000000" };
    int k;
    for (k = 0; k < 3; k++)
    {
      char req[256];
      struct buf carry;
      int fd = raw_connect (port);
      SETUP_CHECK (fd >= 0);
      buf_init (&carry);
      snprintf (req, sizeof (req),
                "HEAD %s HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /copy HTTP/1.1\r\nHost: x\r\n\r\n", paths[k]);
      raw_send_str (fd, req);
      if (1 == raw_read_response (fd, &carry, 1, &r, RAW_TIMEOUT_MS, NULL))
      {
        CHECK_INT (200, r.status);
        CHECK_STR (lens[k], http_resp_header (&r, "Content-Length"));
        http_resp_free (&r);
        if (1 == raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS, NULL))
        {
          CHECK_INT (200, r.status);
          CHECK_STR ("copied body", r.body.data);
          http_resp_free (&r);
        }
        else
          test_fail (__FILE__, __LINE__,
                     "HEAD %s: no GET response after it (body sent?)",
                     paths[k]);
        CHECK_INT (0, carry.len);
      }
      else
        test_fail (__FILE__, __LINE__, "HEAD %s: no response", paths[k]);
      close (fd);
      buf_free (&carry);
    }
  }
  {
    /* HEAD via curl */
    struct curl_req rq;
    char v[32];
    memset (&rq, 0, sizeof (rq));
    rq.url_path = "/persistent";
    rq.head = 1;
    CHECK (curl_do (port, &rq, &rs));
    CHECK_INT (200, rs.status);
    CHECK_INT (0, rs.body.len);
    CHECK (curl_res_header (&rs, "Content-Length", v, sizeof (v)));
    CHECK_STR ("15", v);
    curl_res_free (&rs);
  }

  /* one response on many connections; free callback only after destroy */
  test_shared (port);
  CHECK_INT (0, n_freecb - 1);  /* only the /freecb one so far */
  MHD_destroy_response (shared_resp);
  CHECK (test_wait_ge (&n_freecb, 2, 5000));
  CHECK_INT (2, n_freecb);
  CHECK (freecb_ptr == (void *) file_data);

  test_stop_daemon (d);
  CHECK_INT (2, n_freecb);
  CHECK_INT (1, n_freecb_cls);
}

int
main (void)
{
  int fd;
  size_t i;
  int rc;
  snprintf (tmp_path, sizeof (tmp_path), "/tmp/mhd-capi-XXXXXX");
  fd = mkstemp (tmp_path);
  if (fd < 0)
    return TEST_EXIT_ERROR;
  file_data = malloc (FILE_SIZE);
  for (i = 0; i < FILE_SIZE; i++)
    file_data[i] = pattern (i) ^ (unsigned char) (i >> 16);
  if ((ssize_t) FILE_SIZE != write (fd, file_data, FILE_SIZE))
    return TEST_EXIT_ERROR;
  close (fd);
  rc = test_run_modes ("test_responses", run);
  unlink (tmp_path);
  free (file_data);
  return rc;
}
