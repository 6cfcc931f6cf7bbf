/* test_response_flags: what a response's own settings do to the reply, over
 * raw sockets in every mode:
 *  - the flags of MHD_set_response_options (MHD_RF_HTTP_1_0_COMPATIBLE_STRICT,
 *    MHD_RF_HTTP_1_0_SERVER, MHD_RF_SEND_KEEP_ALIVE_HEADER) against HTTP/1.1
 *    and HTTP/1.0 clients with and without Connection tokens: the status
 *    line's version, the Connection header, whether the connection stays;
 *  - a "Transfer-Encoding: chunked" header the application adds to a
 *    response of known size (buffer, empty buffer, iovec, file): the body
 *    goes out chunked with the footers as trailers;
 *  - a reply head larger than MHD_OPTION_CONNECTION_MEMORY_LIMIT: the
 *    connection closes without a reply, as libmicrohttpd's (which builds
 *    the head in the connection's memory pool);
 *  - the Connection header as MHD_add/del_response_header keep it: one
 *    field, first, tokens joined by ", ", "close" first, "keep-alive"
 *    dropped, deletion by token; a second Date replaces the first. */
#include "common.h"
#include <unistd.h>

static const char *const part_body = "0123456789abcdefghij";
static char tmp_path[64];
static int file_fd = -1;

static ssize_t
unknown_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  const size_t len = strlen (part_body);
  (void) cls;
  if (pos >= len)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (max > len - pos)
    max = len - (size_t) pos;
  memcpy (buf, part_body + pos, max);
  return (ssize_t) max;
}

/* The response a path asks for:
 *   /flags/N          "hello" with response flags N
 *   /flags-unknown/N  part_body from a reader of unknown size, flags N
 *   /chunk/buf, /chunk/empty, /chunk/iov, /chunk/fd
 *                     part_body (or nothing) with the application's own
 *                     "Transfer-Encoding: chunked" and a footer
 *   /big/N            "big" with a header whose value is N bytes */
static struct MHD_Response *
make_response (const char *url)
{
  struct MHD_Response *r = NULL;
  if (0 == strncmp (url, "/flags/", 7))
  {
    r = MHD_create_response_from_buffer (5, (void *) "hello",
                                         MHD_RESPMEM_PERSISTENT);
    CHECK_INT (MHD_YES, MHD_set_response_options (
                 r, (enum MHD_ResponseFlags) atoi (url + 7), MHD_RO_END));
  }
  else if (0 == strncmp (url, "/flags-unknown/", 15))
  {
    r = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 64,
                                           &unknown_reader, NULL, NULL);
    CHECK_INT (MHD_YES, MHD_set_response_options (
                 r, (enum MHD_ResponseFlags) atoi (url + 15), MHD_RO_END));
  }
  else if (0 == strncmp (url, "/chunk/", 7))
  {
    const char *kind = url + 7;
    if (0 == strcmp (kind, "buf"))
      r = MHD_create_response_from_buffer (strlen (part_body),
                                           (void *) part_body,
                                           MHD_RESPMEM_PERSISTENT);
    else if (0 == strcmp (kind, "empty"))
      r = MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT);
    else if (0 == strcmp (kind, "iov"))
    {
      struct MHD_IoVec iov[3];
      iov[0].iov_base = part_body;
      iov[0].iov_len = 7;
      iov[1].iov_base = part_body + 7;
      iov[1].iov_len = 0;
      iov[2].iov_base = part_body + 7;
      iov[2].iov_len = strlen (part_body) - 7;
      r = MHD_create_response_from_iovec (iov, 3, NULL, NULL);
    }
    else if (0 == strcmp (kind, "fd"))
    {
      /* The file holds "xx" + part_body + "yy": offset 2, the body's size. */
      int fd = dup (file_fd);
      SETUP_CHECK (fd >= 0);
      r = MHD_create_response_from_fd_at_offset64 (strlen (part_body), fd, 2);
    }
    if (NULL == r)
      return NULL;
    CHECK_INT (MHD_YES, MHD_add_response_header (r, "Transfer-Encoding",
                                                 "chunked"));
    CHECK_INT (MHD_YES, MHD_add_response_footer (r, "X-Foot", "yes"));
  }
  else if (0 == strcmp (url, "/conn-tokens"))
  {
    r = MHD_create_response_from_buffer (5, (void *) "hello",
                                         MHD_RESPMEM_PERSISTENT);
    CHECK_INT (MHD_YES, MHD_add_response_header (r, "X-A", "1"));
    CHECK_INT (MHD_YES, MHD_add_response_header (r, "Connection", "x-token"));
    CHECK_INT (MHD_YES, MHD_add_response_header (r, "Connection", "close"));
  }
  else if (0 == strncmp (url, "/big/", 5))
  {
    size_t n = (size_t) atoi (url + 5);
    char *v = malloc (n + 1);
    SETUP_CHECK (NULL != v);
    memset (v, 'v', n);
    v[n] = 0;
    r = MHD_create_response_from_buffer (3, (void *) "big",
                                         MHD_RESPMEM_PERSISTENT);
    CHECK_INT (MHD_YES, MHD_add_response_header (r, "X-Big", v));
    free (v);
  }
  return r;
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
  return test_queue_and_destroy (c, MHD_HTTP_OK, make_response (url));
}

/* One request on a fresh connection and a check of what follows it: the
 * connection stays (a second request on it is answered) or closes. */
struct exchange
{
  const char *what;
  const char *path;
  int http10;
  const char *conn_hdr;  /* the request's Connection value, or NULL */
  /* expected */
  const char *version;   /* status line version */
  const char *conn;      /* the reply's Connection value, or NULL */
  int stays;
};

static void
check_exchange (uint16_t port, const struct exchange *x)
{
  char req[512];
  struct buf carry;
  struct http_resp r;
  int fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  buf_init (&carry);
  snprintf (req, sizeof (req), "GET %s HTTP/1.%d\r\nHost: x\r\n%s%s%s\r\n",
            x->path, x->http10 ? 0 : 1,
            x->conn_hdr ? "Connection: " : "",
            x->conn_hdr ? x->conn_hdr : "", x->conn_hdr ? "\r\n" : "");
  raw_send_str (fd, req);
  if (1 != raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS, NULL))
  {
    test_fail (__FILE__, __LINE__, "%s: no response", x->what);
    close (fd);
    buf_free (&carry);
    return;
  }
  CHECK_INT (200, r.status);
  CHECK_MSG (0 == strcmp (x->version, r.version), "%s: status line says %s, "
             "expected %s", x->what, r.version, x->version);
  if (NULL == x->conn)
    CHECK_MSG (NULL == http_resp_header (&r, "Connection"),
               "%s: Connection: %s, expected none", x->what,
               http_resp_header (&r, "Connection"));
  else
    CHECK_MSG ((NULL != http_resp_header (&r, "Connection"))
               && (0 == strcasecmp (x->conn,
                                    http_resp_header (&r, "Connection"))),
               "%s: Connection: %s, expected %s", x->what,
               http_resp_header (&r, "Connection")
               ? http_resp_header (&r, "Connection") : "(none)", x->conn);
  CHECK_MSG (0 == strcmp ("hello", r.body.data), "%s: body %s", x->what,
             r.body.data);
  http_resp_free (&r);
  if (x->stays)
  {
    /* the same connection answers again */
    snprintf (req, sizeof (req), "GET %s HTTP/1.%d\r\nHost: x\r\n%s%s%s\r\n",
              x->path, x->http10 ? 0 : 1,
              x->conn_hdr ? "Connection: " : "",
              x->conn_hdr ? x->conn_hdr : "", x->conn_hdr ? "\r\n" : "");
    raw_send_str (fd, req);
    CHECK_MSG (1 == raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS,
                                       NULL),
               "%s: the connection did not serve a second request", x->what);
    http_resp_free (&r);
  }
  else
    CHECK_MSG (raw_wait_closed (fd, NULL, RAW_TIMEOUT_MS),
               "%s: the connection was not closed", x->what);
  close (fd);
  buf_free (&carry);
}

static void
part_flags (uint16_t port)
{
  /* flags: 1 STRICT (HTTP/1.0 compatible), 2 HTTP/1.0 server,
   * 8 send Keep-Alive header */
  static const unsigned flag_sets[] = { 0, 1, 2, 8, 2 | 8, 1 | 8, 1 | 2 };
  static const struct
  {
    int http10;
    const char *hdr;
  } clients[] = {
    { 0, NULL }, { 0, "close" }, { 0, "keep-alive" },
    { 1, NULL }, { 1, "Keep-Alive" }, { 1, "close" },
  };
  size_t i, j;
  for (i = 0; i < sizeof (flag_sets) / sizeof (flag_sets[0]); i++)
    for (j = 0; j < sizeof (clients) / sizeof (clients[0]); j++)
    {
      const unsigned f = flag_sets[i];
      const int v11 = ! clients[j].http10;
      const int close_tok = (NULL != clients[j].hdr)
                            && (0 == strcasecmp ("close", clients[j].hdr));
      const int ka_tok = (NULL != clients[j].hdr) && ! close_tok;
      const int client_ka = ! close_tok && (v11 || ka_tok);
      const int stays = client_ka && ! (f & MHD_RF_HTTP_1_0_COMPATIBLE_STRICT)
                        && (! (f & MHD_RF_HTTP_1_0_SERVER) || ka_tok);
      char path[32], what[128];
      struct exchange x;
      snprintf (path, sizeof (path), "/flags/%u", f);
      snprintf (what, sizeof (what), "flags %u, HTTP/1.%d, Connection: %s",
                f, v11, clients[j].hdr ? clients[j].hdr : "-");
      x.what = what;
      x.path = path;
      x.http10 = clients[j].http10;
      x.conn_hdr = clients[j].hdr;
      x.version = (f & MHD_RF_HTTP_1_0_SERVER) ? "HTTP/1.0" : "HTTP/1.1";
      if (! stays)
        x.conn = "close";
      else if (! v11 || (f & (MHD_RF_HTTP_1_0_SERVER
                              | MHD_RF_SEND_KEEP_ALIVE_HEADER)))
        x.conn = "Keep-Alive";
      else
        x.conn = NULL;
      x.stays = stays;
      check_exchange (port, &x);
    }
}

static void
part_unknown_size (uint16_t port)
{
  /* An HTTP/1.1 client gets chunks unless a flag asks for HTTP/1.0 ways:
   * then the body ends with the connection. */
  static const unsigned flag_sets[] = { 0, 1, 2 };
  size_t i;
  for (i = 0; i < sizeof (flag_sets) / sizeof (flag_sets[0]); i++)
  {
    char req[128];
    struct http_resp r;
    int closed = 0;
    snprintf (req, sizeof (req),
              "GET /flags-unknown/%u HTTP/1.1\r\nHost: x\r\n\r\n",
              flag_sets[i]);
    if (! raw_request (port, req, strlen (req), 0, &r, &closed, 2000))
    {
      test_fail (__FILE__, __LINE__, "unknown size, flags %u: no response",
                 flag_sets[i]);
      continue;
    }
    CHECK_INT (200, r.status);
    CHECK_STR (part_body, r.body.data);
    if (0 == flag_sets[i])
    {
      CHECK_MSG (r.chunked, "unknown size, no flags: not chunked");
      CHECK_INT (0, closed);
    }
    else
    {
      CHECK_MSG (! r.chunked && r.close_delimited,
                 "unknown size, flags %u: chunked %d, close-delimited %d",
                 flag_sets[i], r.chunked, r.close_delimited);
      CHECK_STR ("close", http_resp_header (&r, "Connection"));
      CHECK_INT (1, closed);
    }
    http_resp_free (&r);
  }
}

static void
part_forced_chunked (uint16_t port)
{
  static const char *const kinds[] = { "buf", "empty", "iov", "fd" };
  size_t i;
  for (i = 0; i < sizeof (kinds) / sizeof (kinds[0]); i++)
  {
    const char *expect = (0 == strcmp ("empty", kinds[i])) ? "" : part_body;
    char req[256];
    struct buf carry;
    struct http_resp r;
    int k;
    int fd;
    if (test_is_reference () && (0 == strcmp ("iov", kinds[i])))
    {
      test_diff ("an iovec response with the application's "
                 "Transfer-Encoding: chunked aborts the process "
                 "(response.c: \"Failed to destroy mutex\")");
      continue;
    }
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    buf_init (&carry);
    /* twice on one connection: the chunked body must end where it says */
    snprintf (req, sizeof (req), "GET /chunk/%s HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /chunk/%s HTTP/1.1\r\nHost: x\r\n\r\n", kinds[i], kinds[i]);
    raw_send_str (fd, req);
    for (k = 0; k < 2; k++)
    {
      if (1 != raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS, NULL))
      {
        test_fail (__FILE__, __LINE__, "/chunk/%s: no response %d", kinds[i],
                   k + 1);
        break;
      }
      CHECK_INT (200, r.status);
      CHECK_MSG (r.chunked, "/chunk/%s: not chunked", kinds[i]);
      CHECK_INT (0, http_resp_header_count (&r, "Content-Length"));
      CHECK_INT (1, http_resp_header_count (&r, "Transfer-Encoding"));
      CHECK_MSG (0 == strcmp (expect, r.body.data), "/chunk/%s: body '%s'",
                 kinds[i], r.body.data);
      CHECK_STR ("yes", http_resp_trailer (&r, "X-Foot"));
      http_resp_free (&r);
    }
    close (fd);
    buf_free (&carry);
  }
  {
    /* An HTTP/1.0 client cannot take chunks: the length is sent. */
    struct http_resp r;
    int closed = 0;
    const char *req = "GET /chunk/buf HTTP/1.0\r\n\r\n";
    if (raw_request (port, req, strlen (req), 0, &r, &closed, 2000))
    {
      CHECK_MSG (! r.chunked, "HTTP/1.0 client got chunks");
      CHECK_STR ("20", http_resp_header (&r, "Content-Length"));
      CHECK_STR (part_body, r.body.data);
      http_resp_free (&r);
    }
    else
      test_fail (__FILE__, __LINE__, "/chunk/buf over HTTP/1.0: no response");
  }
}

static void
part_head_limit (void)
{
  /* 1024 bytes of connection memory: a 300-byte header fits, a 2000-byte
   * one does not, and that connection closes without a reply. */
  struct MHD_Daemon *d = START_DAEMON (0, &handler, NULL,
                                       MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                       (size_t) 1024, MHD_OPTION_END);
  uint16_t port = test_daemon_port (d);
  struct http_resp r;
  int closed = 0;
  const char *small = "GET /big/300 HTTP/1.1\r\nHost: x\r\n\r\n";
  const char *large = "GET /big/2000 HTTP/1.1\r\nHost: x\r\n\r\n";
  int fd;
  struct buf b;
  if (raw_request (port, small, strlen (small), 0, &r, &closed, 0))
  {
    CHECK_INT (200, r.status);
    CHECK_INT (300, strlen (http_resp_header (&r, "X-Big")
                            ? http_resp_header (&r, "X-Big") : ""));
    CHECK_STR ("big", r.body.data);
    http_resp_free (&r);
  }
  else
    test_fail (__FILE__, __LINE__, "300-byte header: no response");
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  buf_init (&b);
  raw_send_str (fd, large);
  CHECK_MSG (raw_wait_closed (fd, &b, RAW_TIMEOUT_MS),
             "2000-byte header, 1024-byte limit: connection not closed");
  CHECK_MSG (0 == b.len, "2000-byte header, 1024-byte limit: %zu bytes "
             "sent", b.len);
  buf_free (&b);
  close (fd);
  test_stop_daemon (d);
}

static enum MHD_Result
first_header (void *cls, enum MHD_ValueKind kind, const char *key,
              const char *value)
{
  (void) kind;
  (void) value;
  snprintf ((char *) cls, 64, "%s", key);
  return MHD_NO; /* the first one only */
}

static void
check_connection_value (struct MHD_Response *r, const char *expect, int line)
{
  const char *v = MHD_get_response_header (r, "Connection");
  if ((NULL == expect) != (NULL == v)
      || ((NULL != v) && (0 != strcmp (expect, v))))
    test_fail (__FILE__, line, "Connection: \"%s\", expected \"%s\"",
               v ? v : "(none)", expect ? expect : "(none)");
}

static void
part_connection_header (uint16_t port)
{
  struct MHD_Response *r = MHD_create_response_from_buffer (
    0, (void *) "", MHD_RESPMEM_PERSISTENT);
  char first[64] = "";
  struct http_resp hr;
  int closed = 0;
  const char *req = "GET /conn-tokens HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK_INT (MHD_YES, MHD_add_response_header (r, "X-Before", "1"));
  CHECK_INT (MHD_YES, MHD_add_response_header (r, "Connection", "a,b ,  c"));
  check_connection_value (r, "a, b, c", __LINE__);
  CHECK_INT (MHD_YES, MHD_add_response_header (r, "connection",
                                               "d, close, keep-alive"));
  check_connection_value (r, "close, a, b, c, d", __LINE__);
  CHECK_INT (MHD_YES, MHD_add_response_header (r, "Connection", "CLOSE"));
  check_connection_value (r, "close, a, b, c, d", __LINE__);
  /* the one Connection field comes first */
  CHECK_INT (1, MHD_get_response_headers (r, &first_header, first));
  CHECK_STR ("Connection", first);
  /* nothing but keep-alive, or nothing at all: refused, unchanged */
  CHECK_INT (MHD_NO, MHD_add_response_header (r, "Connection", "keep-alive"));
  CHECK_INT (MHD_NO, MHD_add_response_header (r, "Connection", " , ,"));
  check_connection_value (r, "close, a, b, c, d", __LINE__);
  /* deletion by token, case-insensitive; unknown tokens only: MHD_NO */
  CHECK_INT (MHD_YES, MHD_del_response_header (r, "Connection", "B,Close"));
  check_connection_value (r, "a, c, d", __LINE__);
  CHECK_INT (MHD_NO, MHD_del_response_header (r, "Connection", "zz, yy"));
  check_connection_value (r, "a, c, d", __LINE__);
  CHECK_INT (MHD_YES, MHD_del_response_header (r, "Connection", "d,a,c,zz"));
  check_connection_value (r, NULL, __LINE__);
  /* a second Date replaces the first */
  CHECK_INT (MHD_YES, MHD_add_response_header (r, "Date", "one"));
  CHECK_INT (MHD_YES, MHD_add_response_header (r, "Date", "two"));
  CHECK_STR ("two", MHD_get_response_header (r, "Date"));
  CHECK_INT (MHD_NO, MHD_del_response_header (r, "Date", "one"));
  MHD_destroy_response (r);

  /* on the wire: the merged tokens, and the connection closes */
  if (raw_request (port, req, strlen (req), 0, &hr, &closed, 2000))
  {
    CHECK_INT (200, hr.status);
    CHECK_STR ("close, x-token", http_resp_header (&hr, "Connection"));
    CHECK_INT (1, http_resp_header_count (&hr, "Connection"));
    CHECK_STR ("1", http_resp_header (&hr, "X-A"));
    CHECK_INT (1, closed);
    http_resp_free (&hr);
  }
  else
    test_fail (__FILE__, __LINE__, "/conn-tokens: no response");
}

static void
run (void)
{
  struct MHD_Daemon *d = START_DAEMON (0, &handler, NULL, MHD_OPTION_END);
  uint16_t port = test_daemon_port (d);
  part_flags (port);
  part_unknown_size (port);
  part_forced_chunked (port);
  part_connection_header (port);
  test_stop_daemon (d);
  part_head_limit ();
}

int
main (void)
{
  int rc;
  snprintf (tmp_path, sizeof (tmp_path), "/tmp/mhd-flags-XXXXXX");
  file_fd = mkstemp (tmp_path);
  if (file_fd < 0)
    return TEST_EXIT_ERROR;
  unlink (tmp_path);
  if (24 != write (file_fd, "xx0123456789abcdefghijyy", 24))
    return TEST_EXIT_ERROR;
  rc = test_run_modes ("test_response_flags", run);
  close (file_fd);
  return rc;
}
