/* A typical libmicrohttpd 0.9.75 program. `make check` compiles it with
 * -Wall -Wextra -Werror (as C and C++) and links it against our library;
 * it is not run. It uses the API the way applications do. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>

#define PAGE "<html><body>Hello</body></html>"

struct request_state
{
  size_t uploaded;
  struct MHD_PostProcessor *pp;
};

static enum MHD_Result
on_header (void *cls, enum MHD_ValueKind kind, const char *key,
           const char *value)
{
  (void) cls;
  printf ("%d %s: %s\n", (int) kind, key, value);
  return MHD_YES;
}

static enum MHD_Result
on_post (void *cls, enum MHD_ValueKind kind, const char *key,
         const char *filename, const char *content_type,
         const char *transfer_encoding, const char *data, uint64_t off,
         size_t size)
{
  (void) cls; (void) kind; (void) filename; (void) content_type;
  (void) transfer_encoding; (void) data;
  printf ("%s@%" PRIu64 ": %zu bytes\n", key, off, size);
  return MHD_YES;
}

static ssize_t
reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  (void) cls;
  if (pos > 0)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (max < 2)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  memcpy (buf, "ok", 2);
  return 2;
}

static enum MHD_Result
answer (void *cls, struct MHD_Connection *connection, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  struct request_state *st = (struct request_state *) *con_cls;
  struct MHD_Response *response;
  const union MHD_ConnectionInfo *ci;
  const char *name;
  enum MHD_Result ret;
  (void) cls; (void) version;

  if (NULL == st)
  {
    st = (struct request_state *) calloc (1, sizeof (*st));
    if (NULL == st)
      return MHD_NO;
    if (0 == strcmp (method, MHD_HTTP_METHOD_POST))
      st->pp = MHD_create_post_processor (connection, 1024, &on_post, NULL);
    *con_cls = st;
    return MHD_YES;
  }
  if (0 != *upload_data_size)
  {
    if (NULL != st->pp)
      MHD_post_process (st->pp, upload_data, *upload_data_size);
    st->uploaded += *upload_data_size;
    *upload_data_size = 0;
    return MHD_YES;
  }
  MHD_get_connection_values (connection, MHD_HEADER_KIND, &on_header, NULL);
  name = MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "name");
  ci = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if ( (NULL != ci) && (AF_INET == ci->client_addr->sa_family) )
  {
    char ip[INET_ADDRSTRLEN];
    const struct sockaddr_in *sin = (const struct sockaddr_in *) ci->client_addr;
    inet_ntop (AF_INET, &sin->sin_addr, ip, sizeof (ip));
    printf ("client %s asks %s (name=%s)\n", ip, url, name ? name : "-");
  }
  if (0 == strcmp (url, "/stream"))
    response = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 1024,
                                                  &reader, NULL, NULL);
  else
    response = MHD_create_response_from_buffer (strlen (PAGE), (void *) PAGE,
                                                MHD_RESPMEM_PERSISTENT);
  if (NULL == response)
    return MHD_NO;
  MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html");
  ret = MHD_queue_response (connection, MHD_HTTP_OK, response);
  MHD_destroy_response (response);
  return ret;
}

static void
completed (void *cls, struct MHD_Connection *connection, void **con_cls,
           enum MHD_RequestTerminationCode toe)
{
  struct request_state *st = (struct request_state *) *con_cls;
  (void) cls; (void) connection;
  if (MHD_REQUEST_TERMINATED_COMPLETED_OK != toe)
    fprintf (stderr, "request ended with %d\n", (int) toe);
  if (NULL == st)
    return;
  if (NULL != st->pp)
    MHD_destroy_post_processor (st->pp);
  free (st);
  *con_cls = NULL;
}

static enum MHD_Result
accept_policy (void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
  (void) cls; (void) addr; (void) addrlen;
  return MHD_YES;
}

static void
logger (void *cls, const char *fm, va_list ap)
{
  (void) cls;
  vfprintf (stderr, fm, ap);
}

int
main (int argc, char *const *argv)
{
  struct MHD_Daemon *d;
  struct MHD_OptionItem ops[] = {
    { MHD_OPTION_CONNECTION_LIMIT, 100, NULL },
    { MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL },
    { MHD_OPTION_END, 0, NULL }
  };
  const union MHD_DaemonInfo *di;
  unsigned int port = (argc > 1) ? (unsigned int) atoi (argv[1]) : 8080;

  d = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG
                        | MHD_USE_SELECT_INTERNALLY,
                        (uint16_t) port,
                        &accept_policy, NULL,
                        &answer, NULL,
                        MHD_OPTION_NOTIFY_COMPLETED, &completed, NULL,
                        MHD_OPTION_EXTERNAL_LOGGER, &logger, NULL,
                        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 65536,
                        MHD_OPTION_ARRAY, ops,
                        MHD_OPTION_END);
  if (NULL == d)
    return 1;
  di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT);
  if (NULL != di)
    printf ("listening on %u\n", (unsigned int) di->port);
  if (MHD_YES == MHD_is_feature_supported (MHD_FEATURE_EPOLL))
    printf ("epoll available (%s)\n", MHD_get_version ());
  (void) getchar ();
  MHD_stop_daemon (d);
  return 0;
}
