/* upgrade_echo_theirs: an echo server over GNU libmicrohttpd's socket-based
 * upgrade API (0.9.52 and later), built against Debian's
 * /usr/include/microhttpd.h and run only with Debian's libmicrohttpd12.
 *
 *   upgrade_echo_theirs PORT [--tls CERT KEY]
 *
 * A request carrying "Upgrade:" gets 101 with "Upgrade: echo"; the upgrade
 * handler then gives the socket to a thread of its own that echoes every
 * byte with blocking I/O until EOF (the usual way to use this API; with
 * HTTPS, libmicrohttpd's event loop relays the bytes through a socketpair).
 */
#include <microhttpd.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include "upgrade_common.h"

struct echo
{
  MHD_socket sock;
  struct MHD_UpgradeResponseHandle *urh;
  char *extra;
  size_t extra_len;
};

static int
write_all (int fd, const char *p, size_t n)
{
  while (n > 0)
  {
    ssize_t w = send (fd, p, n, MSG_NOSIGNAL);
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t) w;
  }
  return 0;
}

static void *
echo_thread (void *arg)
{
  struct echo *e = arg;
  static __thread char buf[65536];
  int fl = fcntl (e->sock, F_GETFL);
  fcntl (e->sock, F_SETFL, fl & ~O_NONBLOCK);
  if (e->extra_len == 0 || 0 == write_all (e->sock, e->extra, e->extra_len))
  {
    for (;;)
    {
      ssize_t n = recv (e->sock, buf, sizeof (buf), 0);
      if (n <= 0 || 0 != write_all (e->sock, buf, (size_t) n))
        break;
    }
  }
  MHD_upgrade_action (e->urh, MHD_UPGRADE_ACTION_CLOSE);
  free (e->extra);
  free (e);
  return NULL;
}

static void
upgraded (void *cls, struct MHD_Connection *connection, void *con_cls,
          const char *extra_in, size_t extra_in_size, MHD_socket sock,
          struct MHD_UpgradeResponseHandle *urh)
{
  struct echo *e = calloc (1, sizeof (*e));
  pthread_t t;
  (void) cls;
  (void) connection;
  (void) con_cls;
  if (NULL == e)
  {
    MHD_upgrade_action (urh, MHD_UPGRADE_ACTION_CLOSE);
    return;
  }
  e->sock = sock;
  e->urh = urh;
  if (extra_in_size > 0)
  {
    e->extra = malloc (extra_in_size);
    memcpy (e->extra, extra_in, extra_in_size);
    e->extra_len = extra_in_size;
  }
  if (0 != pthread_create (&t, NULL, &echo_thread, e))
  {
    MHD_upgrade_action (urh, MHD_UPGRADE_ACTION_CLOSE);
    free (e->extra);
    free (e);
    return;
  }
  pthread_detach (t);
}

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
  if (NULL == MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Upgrade"))
  {
    r = MHD_create_response_from_buffer (0, (void *) "",
                                         MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response (c, MHD_HTTP_BAD_REQUEST, r);
    MHD_destroy_response (r);
    return ret;
  }
  r = MHD_create_response_for_upgrade (&upgraded, NULL);
  if (NULL == r)
    return MHD_NO;
  MHD_add_response_header (r, MHD_HTTP_HEADER_UPGRADE, "echo");
  ret = MHD_queue_response (c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  MHD_destroy_response (r);
  return ret;
}

int
main (int argc, char **argv)
{
  struct MHD_Daemon *d;
  char *cert, *key;
  int port;
  unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_UPGRADE;
  parse_args (argc, argv, &port, &cert, &key);
  if (NULL != cert)
    flags |= MHD_USE_TLS;
  d = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, &handle, NULL,
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
