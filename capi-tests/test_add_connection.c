/* test_add_connection: MHD_add_connection with sockets the test accepted
 * itself.
 *
 * - a daemon with MHD_USE_NO_LISTEN_SOCKET serves connections it only got
 *   through MHD_add_connection; the handler sees the address that was
 *   passed in (not the socket's peer), NOTIFY_CONNECTION reports them;
 * - 20 connections added at once, requests sent afterwards, each answered
 *   (in pool modes they spread over the workers);
 * - MHD takes ownership: "Connection: close" and MHD_stop_daemon close the
 *   socket (the client sees EOF);
 * - the accept policy callback is asked about added connections, and a
 *   refusal gives MHD_NO and closes the socket;
 * - on a daemon with a listening socket, added and accepted connections
 *   are served side by side; over MHD_OPTION_CONNECTION_LIMIT
 *   MHD_add_connection returns MHD_NO and closes the socket.
 * In the external modes MHD_add_connection runs on the thread that drives
 * the daemon (test_in_driver). */
#include "common.h"
#include <pthread.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#define NCONN 20

static volatile int n_apc;

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  static int marker;
  const union MHD_ConnectionInfo *ci;
  char addr[64] = "?";
  char body[160];
  unsigned int port = 0;
  (void) cls;
  (void) method;
  (void) version;
  (void) upload;
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    *upload_size = 0;
    return MHD_YES;
  }
  ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if ((NULL != ci) && (NULL != ci->client_addr) &&
      (AF_INET == ci->client_addr->sa_family))
  {
    const struct sockaddr_in *sin =
      (const struct sockaddr_in *) ci->client_addr;
    inet_ntop (AF_INET, &sin->sin_addr, addr, sizeof (addr));
    port = ntohs (sin->sin_port);
  }
  snprintf (body, sizeof (body), "%s from %s:%u", url, addr, port);
  return test_reply (c, MHD_HTTP_OK, body);
}

/* refuses 192.0.2.99 */
static enum MHD_Result
apc (void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
  const struct sockaddr_in *sin = (const struct sockaddr_in *) addr;
  (void) cls;
  ATOMIC_INC (&n_apc);
  if ((addrlen >= (socklen_t) sizeof (*sin)) && (AF_INET == sin->sin_family)
      && (htonl (0xc0000263u) == sin->sin_addr.s_addr))
    return MHD_NO;
  return MHD_YES;
}

/* The test's own listening socket. */
static int
own_listener (uint16_t *port)
{
  struct sockaddr_in sa;
  socklen_t sl = sizeof (sa);
  int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SETUP_CHECK (s >= 0);
  memset (&sa, 0, sizeof (sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  SETUP_CHECK (0 == bind (s, (struct sockaddr *) &sa, sizeof (sa)));
  SETUP_CHECK (0 == listen (s, 64));
  SETUP_CHECK (0 == getsockname (s, (struct sockaddr *) &sa, &sl));
  *port = ntohs (sa.sin_port);
  return s;
}

/* Connect a client to the own listener; *server gets the accepted end. */
static int
pair (int lsock, uint16_t lport, int *server)
{
  int cl = raw_connect (lport);
  SETUP_CHECK (cl >= 0);
  *server = accept4 (lsock, NULL, NULL, SOCK_CLOEXEC);
  SETUP_CHECK (*server >= 0);
  return cl;
}

struct add_call
{
  struct MHD_Daemon *d;
  int fd;
  struct sockaddr_in addr;
  enum MHD_Result ret;
};

static void
do_add (void *arg)
{
  struct add_call *a = arg;
  a->ret = MHD_add_connection (a->d, a->fd, (const struct sockaddr *) &a->addr,
                               sizeof (a->addr));
}

/* MHD_add_connection on the driving thread; addr a.b.c.d:port. */
static enum MHD_Result
add (struct MHD_Daemon *d, int fd, uint32_t ip, uint16_t port)
{
  struct add_call a;
  memset (&a, 0, sizeof (a));
  a.d = d;
  a.fd = fd;
  a.addr.sin_family = AF_INET;
  a.addr.sin_addr.s_addr = htonl (ip);
  a.addr.sin_port = htons (port);
  a.ret = MHD_NO;
  test_in_driver (d, do_add, &a);
  return a.ret;
}

static void
expect_body (int fd, struct buf *carry, const char *body, int line)
{
  struct http_resp r;
  if (1 != raw_read_response (fd, carry, 0, &r, RAW_TIMEOUT_MS, NULL))
  {
    test_fail (__FILE__, line, "no response (expected \"%s\")", body);
    return;
  }
  if ((200 != r.status) || (0 != strcmp (body, r.body.data)))
    test_fail (__FILE__, line, "got %d \"%s\", expected 200 \"%s\"",
               r.status, r.body.data, body);
  http_resp_free (&r);
}

static void
part_no_listen (void)
{
  struct MHD_Daemon *d;
  uint16_t lport;
  int ls, i;
  int cl[NCONN];
  struct buf carry[NCONN];

  test_conns_started = test_conns_closed = n_apc = 0;
  d = test_start_daemon_apc (MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
                             apc, NULL, handler, NULL,
                             MHD_OPTION_NOTIFY_CONNECTION,
                             test_count_connections, NULL,
                             MHD_OPTION_END);
  SETUP_CHECK (NULL != d);
  {
    const union MHD_DaemonInfo *di =
      MHD_get_daemon_info (d, MHD_DAEMON_INFO_LISTEN_FD);
    /* 0.9.75 answers MHD_INVALID_SOCKET or NULL here: both mean none */
    CHECK ((NULL == di) || (MHD_INVALID_SOCKET == di->listen_fd));
  }
  ls = own_listener (&lport);

  /* one connection, with an address that is not its peer's */
  {
    int sfd;
    int c = pair (ls, lport, &sfd);
    struct buf b;
    buf_init (&b);
    CHECK_INT (MHD_YES, add (d, sfd, 0xc0000207u /* 192.0.2.7 */, 4321));
    CHECK_INT (1, n_apc);
    CHECK (test_wait_ge (&test_conns_started, 1, 5000));
    raw_send_str (c, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_body (c, &b, "/one from 192.0.2.7:4321", __LINE__);
    raw_send_str (c, "GET /two HTTP/1.1\r\nHost: x\r\n"
                  "Connection: close\r\n\r\n");
    expect_body (c, &b, "/two from 192.0.2.7:4321", __LINE__);
    CHECK_MSG (raw_wait_closed (c, NULL, RAW_TIMEOUT_MS),
               "added connection not closed after Connection: close");
    CHECK (test_wait_ge (&test_conns_closed, 1, 5000));
    close (c);
    buf_free (&b);
  }

  /* refused by the accept policy: MHD_NO, socket closed */
  {
    int sfd;
    int c = pair (ls, lport, &sfd);
    CHECK_INT (MHD_NO, add (d, sfd, 0xc0000263u /* 192.0.2.99 */, 1));
    CHECK_INT (2, n_apc);
    CHECK_MSG (raw_wait_closed (c, NULL, RAW_TIMEOUT_MS),
               "socket refused by the accept policy not closed");
    CHECK_INT (1, test_conns_started);
    close (c);
  }

  /* NCONN connections added before any request is sent */
  for (i = 0; i < NCONN; i++)
  {
    int sfd;
    cl[i] = pair (ls, lport, &sfd);
    buf_init (&carry[i]);
    CHECK_INT (MHD_YES, add (d, sfd, 0x0a000001u + (uint32_t) i,
                             (uint16_t) (1000 + i)));
  }
  CHECK (test_wait_ge (&test_conns_started, 1 + NCONN, 5000));
  CHECK (test_wait_connections (d, NCONN, 5000));
  for (i = 0; i < NCONN; i++)
  {
    char req[64];
    snprintf (req, sizeof (req), "GET /c%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
    raw_send_str (cl[i], req);
  }
  for (i = NCONN - 1; i >= 0; i--)
  {
    char exp[64];
    snprintf (exp, sizeof (exp), "/c%d from 10.0.0.%d:%d", i, i + 1, 1000 + i);
    expect_body (cl[i], &carry[i], exp, __LINE__);
  }
  /* MHD owns the sockets: stopping closes them */
  test_stop_daemon (d);
  for (i = 0; i < NCONN; i++)
  {
    CHECK_MSG (raw_wait_closed (cl[i], NULL, 2000),
               "added connection %d still open after MHD_stop_daemon", i);
    close (cl[i]);
    buf_free (&carry[i]);
  }
  if (test_ref_tpc () && (test_conns_closed != 1 + NCONN))
    test_diff ("thread per connection: %d CLOSED notifications for %d "
               "connections after MHD_stop_daemon", test_conns_closed,
               1 + NCONN);
  else
    CHECK_INT (1 + NCONN, test_conns_closed);
  close (ls);
}

static void
part_limit (void)
{
  struct MHD_Daemon *d;
  uint16_t lport, port;
  int ls, i;
  int cl[5], acc;
  struct buf carry[5], b;
  unsigned int limit = 4;

  if (test_ref_pool ())
  {
    /* 0.9.75 splits the limit among the workers (one each with a pool of
       4): whether a connection fits depends on the worker it lands on, and
       stopping the daemon afterwards can hang. */
    test_diff ("thread pool: MHD_OPTION_CONNECTION_LIMIT is split among "
               "the workers; MHD_add_connection over the limit not "
               "exercised");
    return;
  }
  test_conns_started = test_conns_closed = 0;
  d = START_DAEMON (MHD_USE_ITC, handler, NULL,
                    MHD_OPTION_NOTIFY_CONNECTION, test_count_connections, NULL,
                    MHD_OPTION_CONNECTION_LIMIT, limit,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  ls = own_listener (&lport);
  buf_init (&b);
  /* one accepted the usual way */
  acc = raw_connect (port);
  SETUP_CHECK (acc >= 0);
  raw_send_str (acc, "GET /accepted HTTP/1.1\r\nHost: x\r\n\r\n");
  {
    struct sockaddr_in me;
    socklen_t ml = sizeof (me);
    char exp[64];
    getsockname (acc, (struct sockaddr *) &me, &ml);
    snprintf (exp, sizeof (exp), "/accepted from 127.0.0.1:%u",
              (unsigned) ntohs (me.sin_port));
    expect_body (acc, &b, exp, __LINE__);
  }
  /* three added: the limit is reached */
  for (i = 0; i < 3; i++)
  {
    int sfd;
    cl[i] = pair (ls, lport, &sfd);
    buf_init (&carry[i]);
    CHECK_INT (MHD_YES, add (d, sfd, 0x7f000001u, (uint16_t) (2000 + i)));
  }
  CHECK (test_wait_connections (d, 4, 5000));
  /* one more: refused and closed */
  {
    int sfd;
    cl[3] = pair (ls, lport, &sfd);
    buf_init (&carry[3]);
    CHECK_INT (MHD_NO, add (d, sfd, 0x7f000001u, 2003));
    CHECK_MSG (raw_wait_closed (cl[3], NULL, RAW_TIMEOUT_MS),
               "socket over the connection limit not closed");
    close (cl[3]);
    buf_free (&carry[3]);
  }
  for (i = 0; i < 3; i++)
  {
    char req[64], exp[64];
    snprintf (req, sizeof (req), "GET /a%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
    snprintf (exp, sizeof (exp), "/a%d from 127.0.0.1:%d", i, 2000 + i);
    raw_send_str (cl[i], req);
    expect_body (cl[i], &carry[i], exp, __LINE__);
  }
  CHECK_INT (4, test_conns_started);
  for (i = 0; i < 3; i++)
  {
    close (cl[i]);
    buf_free (&carry[i]);
  }
  close (acc);
  buf_free (&b);
  test_stop_daemon (d);
  close (ls);
}

static void
run (void)
{
  part_no_listen ();
  part_limit ();
}

int
main (void)
{
  return test_run_modes ("test_add_connection", run);
}
