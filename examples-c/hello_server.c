/* hello_server: a small libmicrohttpd program, unchanged from what one
 * would write for GNU libmicrohttpd 0.9.75.
 *
 *   hello_server [PORT] [select|poll|epoll]
 *
 *   GET  /hello?name=you   -> "Hello, you!"
 *   POST /echo             -> the request body, echoed back
 *   anything else          -> 404
 *
 * Stops on Ctrl-C (SIGINT) or SIGTERM.
 */
#define _POSIX_C_SOURCE 200809L /* sigwait, pthread_sigmask under -std=c99 */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ECHO (1024 * 1024)

/* Per-request state for POST /echo: the body collected so far. */
struct echo_state
{
  char *data;
  size_t len;
};

static enum MHD_Result
reply (struct MHD_Connection *c, unsigned int status, const char *body)
{
  struct MHD_Response *r;
  enum MHD_Result ret;

  r = MHD_create_response_from_buffer (strlen (body), (void *) body,
                                       MHD_RESPMEM_MUST_COPY);
  if (NULL == r)
    return MHD_NO;
  MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
  ret = MHD_queue_response (c, status, r);
  MHD_destroy_response (r);
  return ret;
}

static enum MHD_Result
handle (void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  (void) cls;
  (void) version;
  if (0 == strcmp (url, "/hello") && 0 == strcmp (method, MHD_HTTP_METHOD_GET))
  {
    char body[256];
    const char *name = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND,
                                                    "name");
    snprintf (body, sizeof (body), "Hello, %s!\n", name ? name : "world");
    return reply (c, MHD_HTTP_OK, body);
  }
  if (0 == strcmp (url, "/echo") && 0 == strcmp (method, MHD_HTTP_METHOD_POST))
  {
    struct echo_state *st = *con_cls;
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (NULL == st)
    { /* First call: the headers are in, the body follows. */
      st = calloc (1, sizeof (*st));
      if (NULL == st)
        return MHD_NO;
      *con_cls = st;
      return MHD_YES;
    }
    if (0 != *upload_data_size)
    { /* A piece of the body. */
      char *grown;
      if (st->len + *upload_data_size > MAX_ECHO)
        return reply (c, MHD_HTTP_CONTENT_TOO_LARGE, "too large\n");
      grown = realloc (st->data, st->len + *upload_data_size);
      if (NULL == grown)
        return MHD_NO;
      st->data = grown;
      memcpy (st->data + st->len, upload_data, *upload_data_size);
      st->len += *upload_data_size;
      *upload_data_size = 0;
      return MHD_YES;
    }
    /* Final call: the whole body is in. */
    r = MHD_create_response_from_buffer (st->len, st->data,
                                         MHD_RESPMEM_MUST_COPY);
    if (NULL == r)
      return MHD_NO;
    ret = MHD_queue_response (c, MHD_HTTP_OK, r);
    MHD_destroy_response (r);
    return ret;
  }
  return reply (c, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void
completed (void *cls, struct MHD_Connection *c, void **con_cls,
           enum MHD_RequestTerminationCode toe)
{
  struct echo_state *st = *con_cls;
  (void) cls;
  (void) c;
  (void) toe;
  if (NULL != st)
  {
    free (st->data);
    free (st);
    *con_cls = NULL;
  }
}

int
main (int argc, char **argv)
{
  unsigned int port = (argc > 1) ? (unsigned int) atoi (argv[1]) : 8080;
  const char *mode = (argc > 2) ? argv[2] : "epoll";
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  struct MHD_Daemon *d;
  sigset_t stop_signals;
  int sig;

  if (0 == strcmp (mode, "poll"))
    flags |= MHD_USE_POLL;
  else if (0 == strcmp (mode, "epoll"))
    flags |= MHD_USE_EPOLL;
  else if (0 != strcmp (mode, "select"))
  {
    fprintf (stderr, "usage: %s [PORT] [select|poll|epoll]\n", argv[0]);
    return 2;
  }
  /* Block the stop signals before the library starts its threads, which
   * inherit the mask: then only sigwait() below sees them (a handler could
   * run on a library thread and never wake a pause() here). */
  sigemptyset (&stop_signals);
  sigaddset (&stop_signals, SIGTERM);
  sigaddset (&stop_signals, SIGINT);
  pthread_sigmask (SIG_BLOCK, &stop_signals, NULL);
  d = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, &handle, NULL,
                        MHD_OPTION_NOTIFY_COMPLETED, &completed, NULL,
                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 30,
                        MHD_OPTION_END);
  if (NULL == d)
  {
    fprintf (stderr, "failed to start the daemon on port %u\n", port);
    return 1;
  }
  printf ("hello_server: listening on port %u (%s)\n",
          (unsigned int) MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT)->port,
          mode);
  fflush (stdout);
  do
    sig = 0;
  while ( (0 != sigwait (&stop_signals, &sig)) || (0 == sig) );
  MHD_stop_daemon (d);
  return 0;
}
