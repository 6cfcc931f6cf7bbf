/* soak_server: the program bench/soak.py keeps busy for half an hour.
 * Built against our include/microhttpd.h (it uses the event-mask upgrade
 * API) and run with our library.
 *
 *   soak_server MODE CERT KEY FILE
 *   MODE: epoll | thread | pool | select | poll
 *
 * One process runs two daemons in the same threading mode: plain HTTP and
 * HTTPS (so the harness samples one RSS and one fd table). Both serve:
 *
 *   GET  /small           13 bytes "Hello, world!" (one shared response)
 *   GET  /file            the whole of FILE (MHD_create_response_from_fd64,
 *                         a new fd per request: sendfile on plain sockets)
 *   GET  /part            65536 bytes of FILE from offset 4096
 *                         (MHD_create_response_from_fd_at_offset64)
 *   GET  /chunked         20000 bytes, unknown size: a callback response,
 *                         sent chunked; byte i is 'a' + i % 26
 *   POST /upload          answers "<sha256 hex> <length>\n" of the body it
 *                         received (streamed through the hash, never stored)
 *   GET  with Upgrade:    101 "Upgrade: echo", then every byte comes back
 *                         (event-mask handler, as bench/upgrade_echo_ours.c)
 *
 * Prints "READY <plain port> <tls port>" once both listen (ports chosen by
 * the kernel). Stops on SIGTERM/SIGINT, and by itself after two hours.
 */
#define BENCH_EVENT_MASK_UPGRADE 1
#include "mhd_common.h"
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNKED_SIZE 20000
#define PART_OFFSET 4096
#define PART_SIZE 65536

static struct MHD_Response *small_resp;
static const char *file_path;
static int marker; /* con_cls of a request without upload state */

struct upload
{
  EVP_MD_CTX *md;
  unsigned long long length;
};

/* The /chunked body: byte i is 'a' + i % 26, CHUNKED_SIZE bytes, handed
 * out in pieces of at most 3000 bytes so several chunks go out. */
static ssize_t
chunked_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  size_t i, n;
  (void) cls;
  if (pos >= CHUNKED_SIZE)
    return MHD_CONTENT_READER_END_OF_STREAM;
  n = CHUNKED_SIZE - (size_t) pos;
  if (n > max)
    n = max;
  if (n > 3000)
    n = 3000;
  for (i = 0; i < n; i++)
    buf[i] = (char) ('a' + (pos + i) % 26);
  return (ssize_t) n;
}

static enum MHD_Result
queue_and_destroy (struct MHD_Connection *c, unsigned int status,
                   struct MHD_Response *r)
{
  enum MHD_Result ret;
  if (NULL == r)
    return MHD_NO;
  ret = MHD_queue_response (c, status, r);
  MHD_destroy_response (r);
  return ret;
}

static enum MHD_Result
serve_file (struct MHD_Connection *c, int part)
{
  struct MHD_Response *r;
  struct stat st;
  int fd = open (file_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return MHD_NO;
  if (0 != fstat (fd, &st) || st.st_size < PART_OFFSET + PART_SIZE)
  {
    close (fd);
    return MHD_NO;
  }
  if (part)
    r = MHD_create_response_from_fd_at_offset64 (PART_SIZE, fd, PART_OFFSET);
  else
    r = MHD_create_response_from_fd64 ((uint64_t) st.st_size, fd);
  if (NULL == r)
  {
    close (fd);
    return MHD_NO;
  }
  return queue_and_destroy (c, MHD_HTTP_OK, r);
}

static enum MHD_Result
serve_upload (struct MHD_Connection *c, const char *upload_data,
              size_t *upload_data_size, void **con_cls)
{
  struct upload *u = *con_cls;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  char answer[2 * EVP_MAX_MD_SIZE + 32];
  unsigned int i;
  size_t off = 0;
  if (0 != *upload_data_size)
  {
    EVP_DigestUpdate (u->md, upload_data, *upload_data_size);
    u->length += *upload_data_size;
    *upload_data_size = 0;
    return MHD_YES;
  }
  EVP_DigestFinal_ex (u->md, digest, &dlen);
  for (i = 0; i < dlen; i++)
    off += (size_t) snprintf (answer + off, sizeof (answer) - off, "%02x",
                              digest[i]);
  snprintf (answer + off, sizeof (answer) - off, " %llu\n", u->length);
  return queue_and_destroy (
    c, MHD_HTTP_OK,
    MHD_create_response_from_buffer (strlen (answer), answer,
                                     MHD_RESPMEM_MUST_COPY));
}

static enum MHD_Result
handle (void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  (void) cls;
  (void) version;
  if (NULL == *con_cls)
  { /* First call: headers only. An upload gets its hash state here. */
    if (0 == strcmp (method, MHD_HTTP_METHOD_POST))
    {
      struct upload *u = calloc (1, sizeof (*u));
      if (NULL == u)
        return MHD_NO;
      u->md = EVP_MD_CTX_new ();
      if (NULL == u->md || 1 != EVP_DigestInit_ex (u->md, EVP_sha256 (), NULL))
      {
        EVP_MD_CTX_free (u->md);
        free (u);
        return MHD_NO;
      }
      *con_cls = u;
    }
    else
      *con_cls = &marker;
    return MHD_YES;
  }
  if (0 == strcmp (method, MHD_HTTP_METHOD_POST)
      && 0 == strcmp (url, "/upload"))
    return serve_upload (c, upload_data, upload_data_size, con_cls);
  if (0 != *upload_data_size)
    return MHD_NO; /* no other endpoint takes a body */
  if (NULL != MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Upgrade"))
  {
    struct MHD_Response *r = MHD_create_response_for_upgrade (&echo, NULL);
    if (NULL == r)
      return MHD_NO;
    MHD_add_response_header (r, MHD_HTTP_HEADER_UPGRADE, "echo");
    return queue_and_destroy (c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  }
  if (0 == strcmp (url, "/small"))
    return MHD_queue_response (c, MHD_HTTP_OK, small_resp);
  if (0 == strcmp (url, "/file"))
    return serve_file (c, 0);
  if (0 == strcmp (url, "/part"))
    return serve_file (c, 1);
  if (0 == strcmp (url, "/chunked"))
    return queue_and_destroy (
      c, MHD_HTTP_OK,
      MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 4096,
                                         &chunked_reader, NULL, NULL));
  return queue_and_destroy (
    c, MHD_HTTP_NOT_FOUND,
    MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT));
}

/* Frees an upload's hash state however the request ended (completed,
 * client gone, timeout, daemon stopping). */
static void
completed (void *cls, struct MHD_Connection *c, void **con_cls,
           enum MHD_RequestTerminationCode toe)
{
  struct upload *u;
  (void) cls;
  (void) c;
  (void) toe;
  if (NULL == *con_cls || &marker == *con_cls)
    return;
  u = *con_cls;
  EVP_MD_CTX_free (u->md);
  free (u);
  *con_cls = NULL;
}

int
main (int argc, char **argv)
{
  unsigned int flags;
  unsigned int pool = 0;
  const char *mode;
  char *cert, *key;
  struct MHD_Daemon *plain, *tls;
  const union MHD_DaemonInfo *ip, *it;

  if (argc != 5)
  {
    fprintf (stderr, "usage: %s MODE CERT KEY FILE\n", argv[0]);
    return 2;
  }
  mode = argv[1];
  cert = slurp (argv[2]);
  key = slurp (argv[3]);
  file_path = argv[4];
  if (NULL == cert || NULL == key)
  {
    fprintf (stderr, "cannot read %s / %s\n", argv[2], argv[3]);
    return 2;
  }
  if (0 != parse_mode (mode, 0, &flags, &pool, NULL))
    return 2;
  flags |= MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG;

  small_resp = MHD_create_response_from_buffer (13, (void *) "Hello, world!",
                                                MHD_RESPMEM_PERSISTENT);
  if (NULL == small_resp)
    return 1;
  signal (SIGPIPE, SIG_IGN);
  signal (SIGTERM, on_signal);
  signal (SIGINT, on_signal);

  plain = MHD_start_daemon (flags, 0, NULL, NULL, &handle, NULL,
                            MHD_OPTION_THREAD_POOL_SIZE, pool,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 256,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 60,
                            MHD_OPTION_NOTIFY_COMPLETED, &completed, NULL,
                            MHD_OPTION_END);
  tls = MHD_start_daemon (flags | MHD_USE_TLS, 0, NULL, NULL, &handle, NULL,
                          MHD_OPTION_THREAD_POOL_SIZE, pool,
                          MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 256,
                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 60,
                          MHD_OPTION_NOTIFY_COMPLETED, &completed, NULL,
                          MHD_OPTION_HTTPS_MEM_CERT, cert,
                          MHD_OPTION_HTTPS_MEM_KEY, key,
                          MHD_OPTION_END);
  if (NULL == plain || NULL == tls)
  {
    printf ("REFUSED\n");
    fflush (stdout);
    return 3;
  }
  ip = MHD_get_daemon_info (plain, MHD_DAEMON_INFO_BIND_PORT);
  it = MHD_get_daemon_info (tls, MHD_DAEMON_INFO_BIND_PORT);
  if (NULL == ip || NULL == it)
    return 1;
  printf ("READY %u %u\n", (unsigned int) ip->port, (unsigned int) it->port);
  fflush (stdout);
  alarm (7200);
  while (! stop)
    pause ();
  MHD_stop_daemon (tls);
  MHD_stop_daemon (plain);
  MHD_destroy_response (small_resp);
  free (cert);
  free (key);
  return 0;
}
