/* upgrade_echo_ours: the same echo over libmicrohttpd-rs's event-mask
 * upgrade API (/work/shared/design/UPGRADE.md), built against our
 * include/microhttpd.h and run only with our library.
 *
 *   upgrade_echo_ours PORT [--tls CERT KEY]
 *
 * A request carrying "Upgrade:" gets 101 with "Upgrade: echo"; the handler
 * copies what it is offered to the output buffer, as much as fits, and asks
 * for READ (+ CORK: push each echo out at once). No thread of its own: the
 * library's event loop calls it.
 *
 * Until the API lands, MHD_create_response_for_upgrade returns NULL: the
 * program then prints "NOUPGRADE" and exits 4 (the benchmark skips the row).
 */
#define BENCH_EVENT_MASK_UPGRADE 1
#include "upgrade_common.h"

static enum MHD_Result
handle (void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  static int marker;
  struct MHD_Response *r;
  enum MHD_Result ret;
  (void) cls;
  (void) url;
  (void) method;
  (void) version;
  (void) upload_data;
  (void) upload_data_size;
  if (&marker != *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  r = NULL;
  if (NULL != MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Upgrade"))
    r = MHD_create_response_for_upgrade (&echo, NULL);
  if (NULL == r)
  { /* no Upgrade header, or no upgrade API yet: a plain 501 */
    r = MHD_create_response_from_buffer (0, (void *) "",
                                         MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response (c, MHD_HTTP_NOT_IMPLEMENTED, r);
    MHD_destroy_response (r);
    return ret;
  }
  MHD_add_response_header (r, MHD_HTTP_HEADER_UPGRADE, "echo");
  ret = MHD_queue_response (c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  MHD_destroy_response (r);
  return ret;
}

int
main (int argc, char **argv)
{
  struct MHD_Daemon *d;
  struct MHD_Response *probe;
  char *cert, *key;
  int port;
  unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_UPGRADE;
  parse_args (argc, argv, &port, &cert, &key);
  probe = MHD_create_response_for_upgrade (&echo, NULL);
  if (NULL == probe)
  {
    printf ("NOUPGRADE\n");
    fflush (stdout);
    return 4;
  }
  MHD_destroy_response (probe);
  if (NULL != cert)
    flags |= MHD_USE_TLS;
  /* 128 KiB per connection: 64 KiB buffers each way, the size the
   * socket-based echo (upgrade_echo_theirs.c) and the raw echo use. */
  d = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, &handle, NULL,
                        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                        (size_t) (128 * 1024),
                        NULL != cert ? MHD_OPTION_HTTPS_MEM_CERT
                        : MHD_OPTION_END, cert,
                        MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
  if (NULL == d)
  {
    printf ("REFUSED\n");
    fflush (stdout);
    return 3;
  }
  serve_until_signal ();
  MHD_stop_daemon (d);
  return 0;
}
