/* file_server: serves the files under one directory with libmicrohttpd
 * 0.9.75, handing the library open file descriptors so that it can send
 * them with sendfile() instead of copying them through user space.
 *
 *   file_server [-p PORT] [-m pool|epoll] [-t THREADS] ROOT
 *
 *   -p PORT     port on 127.0.0.1 (default 8080; 0 picks a free one)
 *   -m pool     a pool of THREADS select() threads (default), or
 *   -m epoll    one epoll thread
 *   -t THREADS  size of the pool (default 4)
 *
 * GET and HEAD (405 otherwise).  One byte range per request
 * ("bytes=a-b", "bytes=a-", "bytes=-n") answers 206 with Content-Range,
 * or 416 when it lies beyond the end; several ranges get the whole file,
 * which RFC 9110 allows.  Content-Type by file extension; Last-Modified,
 * and 304 for a matching If-Modified-Since.  A directory without the
 * trailing slash is redirected (301), with it its index.html is served.
 * 403 for dot files (and so "..") and for what cannot be opened, 404 for
 * what does not exist.
 *
 * The listening port is printed on stdout once the daemon runs.  SIGTERM
 * or SIGINT stops the daemon and the program exits 0.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <microhttpd.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *root;  /* the served directory, without trailing slash */

/* Marks the first call of the access handler for a request (see handle). */
static int first_call_marker;

static const struct
{
  const char *ext;
  const char *type;
} mime_types[] = {
  { "html", "text/html; charset=utf-8" },
  { "htm", "text/html; charset=utf-8" },
  { "txt", "text/plain; charset=utf-8" },
  { "css", "text/css" },
  { "js", "text/javascript" },
  { "json", "application/json" },
  { "png", "image/png" },
  { "jpg", "image/jpeg" },
  { "jpeg", "image/jpeg" },
  { "gif", "image/gif" },
  { "svg", "image/svg+xml" },
  { "pdf", "application/pdf" },
};

static const char *
mime_type (const char *path)
{
  const char *slash = strrchr (path, '/');
  const char *dot = strrchr (path, '.');
  size_t i;

  if ( (NULL != dot) && ( (NULL == slash) || (dot > slash) ) )
    for (i = 0; i < sizeof (mime_types) / sizeof (mime_types[0]); i++)
      if (0 == strcasecmp (dot + 1, mime_types[i].ext))
        return mime_types[i].type;
  return "application/octet-stream";
}

/* A short plain-text answer for the error cases.  The text is a string
 * literal, so the library may use it in place (PERSISTENT). */
static enum MHD_Result
reply_text (struct MHD_Connection *c, unsigned int status, const char *text)
{
  struct MHD_Response *r;
  enum MHD_Result ret;

  r = MHD_create_response_from_buffer (strlen (text), (void *) text,
                                       MHD_RESPMEM_PERSISTENT);
  if (NULL == r)
    return MHD_NO;
  MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE,
                           "text/plain; charset=utf-8");
  if (MHD_HTTP_METHOD_NOT_ALLOWED == status)
    MHD_add_response_header (r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  ret = MHD_queue_response (c, status, r);
  MHD_destroy_response (r);
  return ret;
}

/* Refuses any path segment starting with '.': hidden files, and with them
 * "." and "..", so that no URL can leave ROOT.  The URL has already been
 * percent-decoded by the library, so "%2e%2e" is caught here as well. */
static int
path_is_safe (const char *url)
{
  const char *p;

  if ('/' != url[0])
    return 0;
  for (p = url; NULL != p; p = strchr (p + 1, '/'))
    if ('.' == p[1])
      return 0;
  return 1;
}

static void
http_date (time_t t, char *buf, size_t len)
{
  struct tm tm;

  gmtime_r (&t, &tm);
  strftime (buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* 1 when the client's copy (If-Modified-Since) is still current. */
static int
not_modified (struct MHD_Connection *c, time_t mtime)
{
  const char *ims;
  struct tm tm;
  const char *end;

  ims = MHD_lookup_connection_value (c, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
  if (NULL == ims)
    return 0;
  memset (&tm, 0, sizeof (tm));
  end = strptime (ims, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if ( (NULL == end) || ('\0' != *end) )
    return 0; /* unparsable dates are ignored (RFC 9110, 13.1.3) */
  return mtime <= timegm (&tm);
}

/* Reads a decimal number of at most 19 digits; NULL if there is none. */
static const char *
parse_u64 (const char *s, uint64_t *v)
{
  const char *p = s;

  *v = 0;
  while ( (*p >= '0') && (*p <= '9') && (p - s < 19) )
    *v = *v * 10 + (uint64_t) (*p++ - '0');
  return (p == s || (*p >= '0' && *p <= '9')) ? NULL : p;
}

/* Interprets a Range header for a file of SIZE bytes.
 * Returns 1 and sets [*first, *last] for one satisfiable range; 0 when
 * the header is to be ignored (absent, malformed, another unit or
 * several ranges: the whole file is then served); -1 when the range is
 * unsatisfiable (416). */
static int
parse_range (const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
  uint64_t a, b;
  const char *p;

  if ( (NULL == h) || (0 != strncmp (h, "bytes=", 6)) )
    return 0;
  p = h + 6;
  if ('-' == *p)
  { /* a suffix: the last B bytes */
    p = parse_u64 (p + 1, &b);
    if ( (NULL == p) || ('\0' != *p) )
      return 0;
    if ( (0 == b) || (0 == size) )
      return -1;
    *first = (b >= size) ? 0 : size - b;
    *last = size - 1;
    return 1;
  }
  p = parse_u64 (p, &a);
  if ( (NULL == p) || ('-' != *p) )
    return 0;
  p++;
  if ('\0' == *p)
    b = UINT64_MAX;
  else
  {
    p = parse_u64 (p, &b);
    if ( (NULL == p) || ('\0' != *p) || (b < a) )
      return 0;
  }
  if (a >= size)
    return -1;
  *first = a;
  *last = (b >= size) ? size - 1 : b;
  return 1;
}

static enum MHD_Result
serve_file (struct MHD_Connection *c, const char *url, const char *path,
            int fd, const struct stat *st)
{
  struct MHD_Response *r;
  enum MHD_Result ret;
  uint64_t size = (uint64_t) st->st_size;
  uint64_t first = 0, last = 0;
  unsigned int status = MHD_HTTP_OK;
  char date[64];
  char content_range[96];
  int range;

  (void) url;
  http_date (st->st_mtime, date, sizeof (date));
  if (not_modified (c, st->st_mtime))
  {
    close (fd);
    r = MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT);
    if (NULL == r)
      return MHD_NO;
    MHD_add_response_header (r, MHD_HTTP_HEADER_LAST_MODIFIED, date);
    ret = MHD_queue_response (c, MHD_HTTP_NOT_MODIFIED, r);
    MHD_destroy_response (r);
    return ret;
  }
  range = parse_range (MHD_lookup_connection_value (c, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_RANGE),
                       size, &first, &last);
  if (-1 == range)
  {
    close (fd);
    snprintf (content_range, sizeof (content_range), "bytes */%" PRIu64,
              size);
    r = MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT);
    if (NULL == r)
      return MHD_NO;
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
    ret = MHD_queue_response (c, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
    MHD_destroy_response (r);
    return ret;
  }
  /* From here on the response owns the descriptor: the library closes it
   * when the response is destroyed, which may be long after this handler
   * returned (the last connection using it finishes). */
  if (1 == range)
  {
    r = MHD_create_response_from_fd_at_offset64 (last - first + 1, fd, first);
    snprintf (content_range, sizeof (content_range),
              "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
    status = MHD_HTTP_PARTIAL_CONTENT;
  }
  else
    r = MHD_create_response_from_fd64 (size, fd);
  if (NULL == r)
  {
    close (fd); /* not taken over on failure */
    return MHD_NO;
  }
  MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, mime_type (path));
  MHD_add_response_header (r, MHD_HTTP_HEADER_LAST_MODIFIED, date);
  MHD_add_response_header (r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
  if (1 == range)
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
  /* For HEAD the library sends the same header with the file's length
   * and leaves the body out. */
  ret = MHD_queue_response (c, status, r);
  MHD_destroy_response (r);
  return ret;
}

static enum MHD_Result
handle (void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  char path[PATH_MAX];
  struct stat st;
  int fd;
  size_t n;

  (void) cls;
  (void) version;
  (void) upload_data;
  if ( (0 != strcmp (method, MHD_HTTP_METHOD_GET)) &&
       (0 != strcmp (method, MHD_HTTP_METHOD_HEAD)) )
    return reply_text (c, MHD_HTTP_METHOD_NOT_ALLOWED,
                       "Method Not Allowed\n");
  /* The first call only announces the request; answering on the second
   * call is the documented pattern and lets a body (which GET should not
   * have) arrive and be dropped first. */
  if (&first_call_marker != *con_cls)
  {
    *con_cls = &first_call_marker;
    return MHD_YES;
  }
  if (0 != *upload_data_size)
  {
    *upload_data_size = 0;
    return MHD_YES;
  }
  *con_cls = NULL;

  if (! path_is_safe (url))
    return reply_text (c, MHD_HTTP_FORBIDDEN, "Forbidden\n");
  n = (size_t) snprintf (path, sizeof (path), "%s%s", root, url);
  if (n >= sizeof (path) - sizeof ("index.html"))
    return reply_text (c, MHD_HTTP_URI_TOO_LONG, "URI Too Long\n");
  if ('/' == path[n - 1])
    strcpy (path + n, "index.html");
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (-1 == fd)
  {
    if ( (ENOENT == errno) || (ENOTDIR == errno) )
      return reply_text (c, MHD_HTTP_NOT_FOUND, "Not Found\n");
    return reply_text (c, MHD_HTTP_FORBIDDEN, "Forbidden\n");
  }
  if (0 != fstat (fd, &st))
  {
    close (fd);
    return reply_text (c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Error\n");
  }
  if (S_ISDIR (st.st_mode) && ('/' != url[strlen (url) - 1]))
  { /* "/dir" -> "/dir/", so that relative links in its index work */
    struct MHD_Response *r;
    enum MHD_Result ret;
    char location[PATH_MAX + 1];

    close (fd);
    snprintf (location, sizeof (location), "%s/", url);
    r = MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT);
    if (NULL == r)
      return MHD_NO;
    MHD_add_response_header (r, MHD_HTTP_HEADER_LOCATION, location);
    ret = MHD_queue_response (c, MHD_HTTP_MOVED_PERMANENTLY, r);
    MHD_destroy_response (r);
    return ret;
  }
  if (! S_ISREG (st.st_mode))
  { /* no devices, fifos or listings */
    close (fd);
    return reply_text (c, MHD_HTTP_FORBIDDEN, "Forbidden\n");
  }
  return serve_file (c, url, path, fd, &st);
}

static void
usage (const char *argv0)
{
  fprintf (stderr, "usage: %s [-p PORT] [-m pool|epoll] [-t THREADS] ROOT\n",
           argv0);
  exit (2);
}

int
main (int argc, char **argv)
{
  unsigned int port = 8080;
  unsigned int threads = 4;
  const char *mode = "pool";
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  struct sockaddr_in addr;
  struct MHD_Daemon *d;
  const union MHD_DaemonInfo *info;
  sigset_t stop_signals;
  int sig;
  int opt;

  while (-1 != (opt = getopt (argc, argv, "p:m:t:")))
  {
    switch (opt)
    {
    case 'p':
      port = (unsigned int) strtoul (optarg, NULL, 10);
      break;
    case 'm':
      mode = optarg;
      break;
    case 't':
      threads = (unsigned int) strtoul (optarg, NULL, 10);
      break;
    default:
      usage (argv[0]);
    }
  }
  if ( (optind + 1 != argc) || (port > 65535) || (0 == threads) )
    usage (argv[0]);
  root = argv[optind];
  if ( (strlen (root) > 1) && ('/' == root[strlen (root) - 1]) )
    argv[optind][strlen (root) - 1] = '\0';
  if (0 == strcmp (mode, "epoll"))
  {
    flags |= MHD_USE_EPOLL;
    threads = 1;
  }
  else if (0 != strcmp (mode, "pool"))
    usage (argv[0]);

  /* Block the stop signals before the library starts its threads, which
   * inherit the mask: then only sigwait() below ever sees them. */
  sigemptyset (&stop_signals);
  sigaddset (&stop_signals, SIGTERM);
  sigaddset (&stop_signals, SIGINT);
  pthread_sigmask (SIG_BLOCK, &stop_signals, NULL);

  /* Loopback only: this is a demo, not a server for the network. */
  memset (&addr, 0, sizeof (addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons ((uint16_t) port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  d = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, &handle, NULL,
                        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                        MHD_OPTION_THREAD_POOL_SIZE,
                        (unsigned int) (threads > 1 ? threads : 0),
                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 30,
                        MHD_OPTION_END);
  if (NULL == d)
  {
    fprintf (stderr, "file_server: cannot start the daemon on port %u\n",
             port);
    return 1;
  }
  info = MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT);
  printf ("file_server: serving %s on http://127.0.0.1:%u/ (%s, %u thread%s)\n",
          root, (unsigned int) info->port, mode, threads,
          threads > 1 ? "s" : "");
  fflush (stdout);

  do
    sig = 0;
  while ( (0 != sigwait (&stop_signals, &sig)) || (0 == sig) );
  MHD_stop_daemon (d);
  printf ("file_server: stopped (signal %d)\n", sig);
  return 0;
}
