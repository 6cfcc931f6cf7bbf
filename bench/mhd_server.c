/* mhd_server: the benchmark's libmicrohttpd program. Built once against
 * include/microhttpd.h and run unchanged with Debian's libmicrohttpd12 and
 * with ours (LD_LIBRARY_PATH picks the library).
 *
 *   mhd_server PORT MODE [--tls CERT KEY] [--file PATH] [--limit N]
 *   MODE: select | poll | epoll | pool | thread | external
 *
 *   GET /      -> 13-byte body "Hello, world!" (one shared response)
 *   GET /buf   -> 1 MiB body from a persistent buffer
 *   GET /file  -> the whole of PATH through MHD_create_response_from_fd
 *
 * Prints "READY <port>" once listening, or "REFUSED" and exits 3 when
 * MHD_start_daemon returns NULL (e.g. MHD_USE_TLS on a library without TLS).
 * Stops on SIGTERM/SIGINT, and by itself after an hour at most.
 */
#include "mhd_common.h"
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIG_SIZE (1024 * 1024)

static struct MHD_Response *small_resp;
static struct MHD_Response *buf_resp;
static const char *file_path;

static enum MHD_Result
handle (void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  static int marker;
  (void) cls;
  (void) method;
  (void) version;
  (void) upload_data;
  (void) upload_data_size;
  if (&marker != *con_cls)
  { /* First call: headers only (the usual libmicrohttpd idiom). */
    *con_cls = &marker;
    return MHD_YES;
  }
  *con_cls = NULL;
  if (0 == strcmp (url, "/buf"))
    return MHD_queue_response (c, MHD_HTTP_OK, buf_resp);
  if (0 == strcmp (url, "/file") && NULL != file_path)
  {
    struct MHD_Response *r;
    enum MHD_Result ret;
    struct stat st;
    int fd = open (file_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return MHD_NO;
    if (0 != fstat (fd, &st))
    {
      close (fd);
      return MHD_NO;
    }
    r = MHD_create_response_from_fd64 ((uint64_t) st.st_size, fd);
    if (NULL == r)
    {
      close (fd);
      return MHD_NO;
    }
    ret = MHD_queue_response (c, MHD_HTTP_OK, r);
    MHD_destroy_response (r);
    return ret;
  }
  return MHD_queue_response (c, MHD_HTTP_OK, small_resp);
}

int
main (int argc, char **argv)
{
  static char big[BIG_SIZE];
  unsigned int flags = 0;
  unsigned int pool = 0;
  unsigned int limit = 0;
  const char *mode;
  char *cert = NULL, *key = NULL;
  struct MHD_Daemon *d;
  int port;
  int i;
  int external = 0;

  if (argc < 3)
  {
    fprintf (stderr, "usage: %s PORT MODE [--tls CERT KEY] [--file PATH] "
             "[--limit N]\n", argv[0]);
    return 2;
  }
  port = atoi (argv[1]);
  mode = argv[2];
  for (i = 3; i < argc; i++)
  {
    if (0 == strcmp (argv[i], "--tls") && i + 2 < argc)
    {
      cert = slurp (argv[i + 1]);
      key = slurp (argv[i + 2]);
      if (NULL == cert || NULL == key)
      {
        fprintf (stderr, "cannot read %s / %s\n", argv[i + 1], argv[i + 2]);
        return 2;
      }
      i += 2;
    }
    else if (0 == strcmp (argv[i], "--file") && i + 1 < argc)
      file_path = argv[++i];
    else if (0 == strcmp (argv[i], "--limit") && i + 1 < argc)
      limit = (unsigned int) atoi (argv[++i]);
    else
    {
      fprintf (stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }

  if (0 != parse_mode (mode, 1, &flags, &pool, &external))
    return 2;
  if (NULL != cert)
    flags |= MHD_USE_TLS;

  memset (big, 'x', sizeof (big));
  small_resp = MHD_create_response_from_buffer (13, (void *) "Hello, world!",
                                                MHD_RESPMEM_PERSISTENT);
  buf_resp = MHD_create_response_from_buffer (sizeof (big), big,
                                              MHD_RESPMEM_PERSISTENT);
  if (NULL == small_resp || NULL == buf_resp)
  {
    fprintf (stderr, "cannot create responses\n");
    return 1;
  }
  MHD_add_response_header (small_resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                           "text/plain");

  signal (SIGPIPE, SIG_IGN);
  signal (SIGTERM, on_signal);
  signal (SIGINT, on_signal);

  d = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, &handle, NULL,
                        MHD_OPTION_THREAD_POOL_SIZE, pool,
                        MHD_OPTION_CONNECTION_LIMIT,
                        limit ? limit : (unsigned int) (FD_SETSIZE - 4),
                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
                        NULL != cert ? MHD_OPTION_HTTPS_MEM_CERT
                        : MHD_OPTION_END, cert,
                        MHD_OPTION_HTTPS_MEM_KEY, key,
                        MHD_OPTION_END);
  if (NULL == d)
  {
    printf ("REFUSED\n");
    fflush (stdout);
    return 3;
  }
  printf ("READY %d\n", port);
  fflush (stdout);
  alarm (3600);
  if (external)
  {
    if (0 != run_external (d, 200, NULL))
      fprintf (stderr, "MHD_get_fdset failed\n");
  }
  else
  {
    while (! stop)
      pause ();
  }
  MHD_stop_daemon (d);
  MHD_destroy_response (small_resp);
  MHD_destroy_response (buf_resp);
  return 0;
}
