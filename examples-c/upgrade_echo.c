/* upgrade_echo: an echo protocol over the event-mask HTTP UPGRADE API
 * (shared/design/UPGRADE.md), over HTTP or HTTPS, in any threading mode.
 *
 *   upgrade_echo [PORT] [MODE] [CERT.pem KEY.pem]
 *     MODE: select | poll | epoll | thread-per-connection | pool
 *     with a certificate and key the server speaks HTTPS.
 *
 * A client sends
 *     GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n
 * gets "HTTP/1.1 101 Switching Protocols", then every byte it sends comes
 * back. The handler never sees the socket: it consumes input from our
 * buffer and writes into our output buffer, and the same code runs over
 * TLS. Try it:
 *     make demo      (prints the commands)
 */
#define _POSIX_C_SOURCE 200809L /* sigwait, pthread_sigmask under -std=c99 */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Copies as much input as fits into the output buffer. */
static enum MHD_UpgradeEventMask
echo (void *cls, struct MHD_Connection *connection, void **con_cls,
      size_t *data_in_size, const char *data_in,
      size_t *data_out_size, char *data_out)
{
  size_t n;
  (void) cls;
  (void) connection;
  (void) con_cls;
  if (NULL == data_in)
  { /* Last call: the peer is gone (or the daemon stops). */
    *data_out_size = 0;
    return MHD_UPGRADE_EVENT_TERMINATE;
  }
  n = (*data_in_size < *data_out_size) ? *data_in_size : *data_out_size;
  memcpy (data_out, data_in, n);
  *data_in_size = n;
  *data_out_size = n;
  /* Ask for more input; push replies out at once (interactive protocol). */
  return (enum MHD_UpgradeEventMask) (MHD_UPGRADE_EVENT_READ
                                      | MHD_UPGRADE_EVENT_CORK);
}

static enum MHD_Result
handle (void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  struct MHD_Response *r = cls;
  enum MHD_Result ret;
  (void) url;
  (void) version;
  (void) upload_data;
  (void) con_cls;
  if (0 != *upload_data_size)
    return MHD_NO; /* the echo endpoint takes no body */
  if (0 != strcmp (method, MHD_HTTP_METHOD_GET))
    return MHD_NO;
  ret = MHD_queue_response (c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  if (MHD_YES == ret)
    return MHD_YES;
  /* Not an upgrade request: say how to use this server. */
  {
    static const char msg[] = "send an upgrade request (Upgrade: echo)\n";
    struct MHD_Response *e =
      MHD_create_response_from_buffer (sizeof (msg) - 1, (void *) msg,
                                       MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response (c, MHD_HTTP_UPGRADE_REQUIRED, e);
    MHD_destroy_response (e);
  }
  return ret;
}

static char *
slurp (const char *path)
{
  FILE *f = fopen (path, "rb");
  char *buf;
  long n;
  if (NULL == f)
    return NULL;
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  buf = malloc ((size_t) n + 1);
  if ((NULL != buf) && (fread (buf, 1, (size_t) n, f) != (size_t) n))
  {
    free (buf);
    buf = NULL;
  }
  if (NULL != buf)
    buf[n] = '\0';
  fclose (f);
  return buf;
}

int
main (int argc, char **argv)
{
  unsigned int port = (argc > 1) ? (unsigned int) atoi (argv[1]) : 8081;
  const char *mode = (argc > 2) ? argv[2] : "epoll";
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  unsigned int pool = 0;
  char *cert = NULL;
  char *key = NULL;
  struct MHD_Response *upgrade;
  struct MHD_Daemon *d;
  sigset_t stop_signals;
  int sig;

  if (0 == strcmp (mode, "poll"))
    flags |= MHD_USE_POLL;
  else if (0 == strcmp (mode, "epoll"))
    flags |= MHD_USE_EPOLL;
  else if (0 == strcmp (mode, "thread-per-connection"))
    flags |= MHD_USE_THREAD_PER_CONNECTION;
  else if (0 == strcmp (mode, "pool"))
  {
    flags |= MHD_USE_EPOLL;
    pool = 2;
  }
  else if (0 != strcmp (mode, "select"))
  {
    fprintf (stderr, "usage: %s [PORT] [select|poll|epoll|thread-per-connection|pool] [CERT KEY]\n",
             argv[0]);
    return 2;
  }
  if (argc > 4)
  {
    cert = slurp (argv[3]);
    key = slurp (argv[4]);
    if ((NULL == cert) || (NULL == key))
    {
      fprintf (stderr, "cannot read %s or %s\n", argv[3], argv[4]);
      return 1;
    }
    flags |= MHD_USE_TLS;
  }
  upgrade = MHD_create_response_for_upgrade (&echo, NULL);
  if (NULL == upgrade)
  {
    fprintf (stderr, "MHD_create_response_for_upgrade failed\n");
    return 1;
  }
  MHD_add_response_header (upgrade, MHD_HTTP_HEADER_UPGRADE, "echo");
  /* Block the stop signals before the library starts its threads, which
   * inherit the mask: then only sigwait() below sees them (a handler could
   * run on a library thread and never wake a pause() here). */
  sigemptyset (&stop_signals);
  sigaddset (&stop_signals, SIGTERM);
  sigaddset (&stop_signals, SIGINT);
  pthread_sigmask (SIG_BLOCK, &stop_signals, NULL);
  if (NULL != cert)
    d = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, &handle, upgrade,
                          MHD_OPTION_HTTPS_MEM_CERT, cert,
                          MHD_OPTION_HTTPS_MEM_KEY, key,
                          MHD_OPTION_THREAD_POOL_SIZE, pool,
                          MHD_OPTION_END);
  else
    d = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, &handle, upgrade,
                          MHD_OPTION_THREAD_POOL_SIZE, pool,
                          MHD_OPTION_END);
  if (NULL == d)
  {
    fprintf (stderr, "failed to start the daemon on port %u\n", port);
    return 1;
  }
  printf ("upgrade_echo: %s on port %u (%s)\n", cert ? "HTTPS" : "HTTP",
          (unsigned int) MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT)->port,
          mode);
  fflush (stdout);
  do
    sig = 0;
  while ( (0 != sigwait (&stop_signals, &sig)) || (0 == sig) );
  MHD_stop_daemon (d);
  MHD_destroy_response (upgrade);
  free (cert);
  free (key);
  return 0;
}
