/* test_info: daemon info, connection info, SOCK_ADDR, connection limit,
 * connection timeout, accept policy, external logger, unknown option,
 * MHD_stop_daemon semantics. */
#include "common.h"
#include <pthread.h>
#include <unistd.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static struct MHD_Daemon *cur_daemon;
static volatile int n_completed;
static volatile int n_handler;
static volatile int last_toe;
static volatile int after_stop_calls;   /* callbacks after stop returned */
static volatile int stopped;

static void
completed_cb (void *cls, struct MHD_Connection *c, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) c;
  (void) con_cls;
  if (ATOMIC_GET (&stopped))
    ATOMIC_INC (&after_stop_calls);
  ATOMIC_SET (&last_toe, (int) toe);
  ATOMIC_INC (&n_completed);
}

static void
conn_cb (void *cls, struct MHD_Connection *c, void **socket_context,
         enum MHD_ConnectionNotificationCode toe)
{
  (void) cls;
  (void) c;
  (void) socket_context;
  (void) toe;
  if (ATOMIC_GET (&stopped))
    ATOMIC_INC (&after_stop_calls);
}

static enum MHD_Result
info_handler (void *cls, struct MHD_Connection *c, const char *url,
              const char *method, const char *version, const char *upload,
              size_t *upload_size, void **con_cls)
{
  static int marker;
  const union MHD_ConnectionInfo *ci;
  char body[256];
  unsigned int cport = 0;
  char caddr[64] = "?";
  size_t hsize = 0;
  (void) cls;
  (void) url;
  (void) method;
  (void) version;
  (void) upload;
  if (ATOMIC_GET (&stopped))
    ATOMIC_INC (&after_stop_calls);
  ATOMIC_INC (&n_handler);
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    /* consume nothing: the client of the timeout test sends a partial
       body; keep it simple and consume everything */
    *upload_size = 0;
    return MHD_YES;
  }
  ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  CHECK (NULL != ci);
  if ((NULL != ci) && (NULL != ci->client_addr))
  {
    const struct sockaddr_in *sin = (const struct sockaddr_in *) ci->client_addr;
    CHECK_INT (AF_INET, sin->sin_family);
    inet_ntop (AF_INET, &sin->sin_addr, caddr, sizeof (caddr));
    cport = ntohs (sin->sin_port);
  }
  ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_FD);
  CHECK (NULL != ci);
  if (NULL != ci)
  {
    struct sockaddr_in peer;
    socklen_t pl = sizeof (peer);
    CHECK_INT (0, getpeername (ci->connect_fd, (struct sockaddr *) &peer, &pl));
    CHECK_INT (cport, ntohs (peer.sin_port));
  }
  ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_DAEMON);
  CHECK (NULL != ci);
  if ((NULL != ci) && test_ref_pool () && (cur_daemon != ci->daemon) &&
      (NULL != ci->daemon))
    test_diff ("thread pool: MHD_CONNECTION_INFO_DAEMON gives a worker "
               "daemon, not the handle MHD_start_daemon returned");
  else if (NULL != ci)
    CHECK (cur_daemon == ci->daemon);
  ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_SUSPENDED);
  CHECK (NULL != ci);
  if (NULL != ci)
    CHECK_INT (MHD_NO, ci->suspended);
  ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  CHECK (NULL != ci);
  if (NULL != ci)
    hsize = ci->header_size;
  ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_TIMEOUT);
  CHECK (NULL != ci);
  if (NULL != ci)
    CHECK_INT (7, ci->connection_timeout);
  snprintf (body, sizeof (body), "%s %u %zu", caddr, cport, hsize);
  return test_reply (c, MHD_HTTP_OK, body);
}

static void
part_daemon_info (void)
{
  struct MHD_Daemon *d;
  const union MHD_DaemonInfo *di;
  uint16_t port;
  int fds[3];
  int i, fd;
  struct buf b;

  d = START_DAEMON (0, info_handler, NULL,
                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 7,
                    MHD_OPTION_END);
  cur_daemon = d;
  port = test_daemon_port (d);
  CHECK (0 != port);
  di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_LISTEN_FD);
  CHECK (NULL != di);
  if (NULL != di)
  {
    struct sockaddr_in sa;
    socklen_t sl = sizeof (sa);
    CHECK_INT (0, getsockname (di->listen_fd, (struct sockaddr *) &sa, &sl));
    CHECK_INT (port, ntohs (sa.sin_port));
  }
  di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_FLAGS);
  CHECK (NULL != di);
  if (NULL != di)
    CHECK_MSG ((di->flags & cur_mode->flags) == cur_mode->flags,
               "FLAGS 0x%x lacks mode flags 0x%x", (unsigned) di->flags,
               cur_mode->flags);
  di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
  CHECK (NULL != di);
  if (NULL != di)
    CHECK_INT (0, di->num_connections);

  for (i = 0; i < 3; i++)
  {
    fds[i] = raw_connect (port);
    SETUP_CHECK (fds[i] >= 0);
  }
  {
    uint64_t end = test_now_ms () + 5000;
    unsigned int n = 0;
    while (test_now_ms () < end)
    {
      di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
      n = (NULL != di) ? di->num_connections : 0;
      if (3 == n)
        break;
      test_sleep_ms (2);
    }
    CHECK_INT (3, n);
    for (i = 0; i < 3; i++)
      close (fds[i]);
    end = test_now_ms () + (test_ref_tpc () ? 1000 : 5000);
    while (test_now_ms () < end)
    {
      di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
      n = (NULL != di) ? di->num_connections : 99;
      if (0 == n)
        break;
      test_sleep_ms (2);
    }
    if (test_ref_tpc () && (0 != n))
      test_diff ("thread per connection: CURRENT_CONNECTIONS still %u 1 s "
                 "after the clients closed", n);
    else
      CHECK_INT (0, n);
  }

  /* connection info seen from the handler */
  {
    static const char req[] = "GET /info HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\r\n";
    struct buf carry;
    struct http_resp r;
    struct sockaddr_in me;
    socklen_t ml = sizeof (me);
    char exp[128];
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    getsockname (fd, (struct sockaddr *) &me, &ml);
    buf_init (&carry);
    raw_send_str (fd, req);
    if (1 == raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS, NULL))
    {
      snprintf (exp, sizeof (exp), "127.0.0.1 %u %zu",
                (unsigned) ntohs (me.sin_port), strlen (req));
      CHECK_STR (exp, r.body.data);
      http_resp_free (&r);
    }
    else
      test_fail (__FILE__, __LINE__, "no response to /info");
    close (fd);
    buf_free (&carry);
  }
  (void) b;
  test_stop_daemon (d);
  cur_daemon = NULL;
}

static void
part_sock_addr (void)
{
  int attempt;
  for (attempt = 0; attempt < 5; attempt++)
  {
    struct sockaddr_in sa;
    socklen_t sl = sizeof (sa);
    int s = socket (AF_INET, SOCK_STREAM, 0);
    uint16_t port;
    struct MHD_Daemon *d;
    struct curl_res rs;
    memset (&sa, 0, sizeof (sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    SETUP_CHECK (0 == bind (s, (struct sockaddr *) &sa, sizeof (sa)));
    getsockname (s, (struct sockaddr *) &sa, &sl);
    port = ntohs (sa.sin_port);
    close (s);
    d = test_start_daemon (0, test_ok_handler, NULL,
                           MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
                           MHD_OPTION_END);
    if (NULL == d)
      continue;   /* port taken meanwhile: try another */
    CHECK_INT (port, test_daemon_port (d));
    {
      const union MHD_DaemonInfo *di =
        MHD_get_daemon_info (d, MHD_DAEMON_INFO_LISTEN_FD);
      struct sockaddr_in la;
      socklen_t ll = sizeof (la);
      CHECK (NULL != di);
      if (NULL != di)
      {
        getsockname (di->listen_fd, (struct sockaddr *) &la, &ll);
        CHECK_INT (htonl (INADDR_LOOPBACK), la.sin_addr.s_addr);
      }
    }
    CHECK (curl_get (port, "/", &rs));
    CHECK_INT (200, rs.status);
    CHECK_STR ("ok", rs.body.data);
    curl_res_free (&rs);
    test_stop_daemon (d);
    return;
  }
  SETUP_FAIL ("could not start a daemon with MHD_OPTION_SOCK_ADDR");
}

static void
part_connection_limit (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int a, b, c;
  const union MHD_DaemonInfo *di;
  uint64_t end;
  struct buf carry;
  struct http_resp r;
  int closed = 0, rc;

  if (test_ref_pool ())
  {
    /* 0.9.75 divides the limit among the workers: a worker refuses at its
       share although the daemon is under the limit, and a select worker
       accepts over it.  test_limits covers the pool with a limit that is a
       multiple of the pool size. */
    test_diff ("thread pool: MHD_OPTION_CONNECTION_LIMIT 2 is split among "
               "the workers, not a daemon-wide limit");
    return;
  }
  d = START_DAEMON (0, test_ok_handler, NULL,
                    MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 2,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  a = raw_connect (port);
  b = raw_connect (port);
  SETUP_CHECK (a >= 0 && b >= 0);
  end = test_now_ms () + 5000;
  do
  {
    di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    if ((NULL != di) && (2 == di->num_connections))
      break;
    test_sleep_ms (2);
  } while (test_now_ms () < end);
  CHECK ((NULL != di) && (2 == di->num_connections));
  /* the third one gets no service while two are open */
  buf_init (&carry);
  c = raw_connect (port);
  if (c >= 0)
  {
    raw_send_str (c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    rc = raw_read_response (c, &carry, 0, &r, 500, &closed);
    CHECK_MSG (1 != rc, "third connection served despite limit 2");
    if (1 == rc)
      http_resp_free (&r);
    test_note ("connection limit: third connection %s",
               closed ? "closed" : "waiting (not accepted)");
    di = MHD_get_daemon_info (d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    CHECK ((NULL != di) && (di->num_connections <= 2));
    if (! closed)
    {
      /* once one slot frees up it is served */
      close (a);
      a = -1;
      rc = raw_read_response (c, &carry, 0, &r, RAW_TIMEOUT_MS, &closed);
      if (1 == rc)
      {
        CHECK_INT (200, r.status);
        http_resp_free (&r);
      }
      else
        CHECK_MSG (closed, "third connection neither served nor closed");
    }
    close (c);
  }
  buf_free (&carry);
  if (a >= 0)
    close (a);
  close (b);
  test_stop_daemon (d);
}

static void
part_timeout (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fd;
  struct buf carry;
  struct http_resp r;
  uint64_t t0;

  n_completed = 0;
  d = START_DAEMON (0, test_ok_handler, NULL,
                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 1,
                    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  buf_init (&carry);

  /* idle keep-alive connection closed after about 1 s */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_INT (1, raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS, NULL));
  http_resp_free (&r);
  t0 = test_now_ms ();
  CHECK (raw_wait_closed (fd, NULL, 5000));
  test_note ("idle keep-alive closed after %llu ms",
             (unsigned long long) (test_now_ms () - t0));
  CHECK_MSG (test_now_ms () - t0 >= 500, "closed too early (%llu ms)",
             (unsigned long long) (test_now_ms () - t0));
  close (fd);
  CHECK (test_wait_ge (&n_completed, 1, 2000));
  CHECK_INT (MHD_REQUEST_TERMINATED_COMPLETED_OK, last_toe);

  /* idle connection that never sent anything */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  CHECK (raw_wait_closed (fd, NULL, 5000));
  close (fd);

  /* half-sent body: completion with TIMEOUT_REACHED */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  t0 = test_now_ms ();
  CHECK (raw_wait_closed (fd, NULL, 5000));
  close (fd);
  CHECK (test_wait_ge (&n_completed, 2, 2000));
  CHECK_INT (MHD_REQUEST_TERMINATED_TIMEOUT_REACHED, last_toe);
  CHECK_INT (2, n_completed);

  /* half-sent headers: closed, no completion (handler never called) */
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd, "GET / HTTP/1.1\r\nHo");
  CHECK (raw_wait_closed (fd, NULL, 5000));
  close (fd);

  buf_free (&carry);
  test_stop_daemon (d);
  CHECK_INT (2, n_completed);
}

static volatile int n_apc;
static volatile int apc_addr_ok;
static enum MHD_Result
apc_reject (void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
  const struct sockaddr_in *sin = (const struct sockaddr_in *) addr;
  (void) cls;
  if ((addrlen >= (socklen_t) sizeof (*sin)) && (AF_INET == sin->sin_family) &&
      (htonl (INADDR_LOOPBACK) == sin->sin_addr.s_addr) && (0 != sin->sin_port))
    ATOMIC_SET (&apc_addr_ok, 1);
  ATOMIC_INC (&n_apc);
  return MHD_NO;
}

static enum MHD_Result
apc_accept (void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
  (void) cls;
  (void) addr;
  (void) addrlen;
  ATOMIC_INC (&n_apc);
  return MHD_YES;
}

static void
part_accept_policy (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  struct buf b;
  int fd;
  struct curl_res rs;

  n_apc = 0;
  n_handler = 0;
  apc_addr_ok = 0;
  d = test_start_daemon_apc (0, apc_reject, NULL, info_handler, NULL,
                             MHD_OPTION_END);
  SETUP_CHECK (NULL != d);
  port = test_daemon_port (d);
  buf_init (&b);
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  raw_send_str (fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK (raw_wait_closed (fd, &b, RAW_TIMEOUT_MS));
  CHECK_INT (0, b.len);
  close (fd);
  buf_free (&b);
  CHECK_INT (1, n_apc);
  CHECK (apc_addr_ok);
  CHECK_INT (0, n_handler);
  test_stop_daemon (d);

  n_apc = 0;
  d = test_start_daemon_apc (0, apc_accept, NULL, test_ok_handler, NULL,
                             MHD_OPTION_END);
  SETUP_CHECK (NULL != d);
  CHECK (curl_get (test_daemon_port (d), "/", &rs));
  CHECK_INT (200, rs.status);
  curl_res_free (&rs);
  CHECK_INT (1, n_apc);
  test_stop_daemon (d);
}

static volatile int n_log;
static char log_first[256];
static void
logger (void *cls, const char *fmt, va_list ap)
{
  CHECK (cls == (void *) &n_log);
  if (0 == ATOMIC_GET (&n_log))
    vsnprintf (log_first, sizeof (log_first), fmt, ap);
  ATOMIC_INC (&n_log);
}

static void
part_logger_and_options (void)
{
  struct MHD_Daemon *d1, *d2;
  struct sockaddr_in sa;
  /* second daemon on the same port: start fails and logs why */
  n_log = 0;
  d1 = START_DAEMON (0, test_ok_handler, NULL, MHD_OPTION_END);
  memset (&sa, 0, sizeof (sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  sa.sin_port = htons (test_daemon_port (d1));
  d2 = test_start_daemon (MHD_USE_ERROR_LOG, test_ok_handler, NULL,
                          MHD_OPTION_EXTERNAL_LOGGER, logger, (void *) &n_log,
                          MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
                          MHD_OPTION_END);
  CHECK (NULL == d2);
  if (NULL != d2)
    test_stop_daemon (d2);
  CHECK_MSG (n_log >= 1, "external logger got no message for a failed bind");
  test_note ("logger got %d message(s), first: %s", n_log, log_first);
  test_stop_daemon (d1);

  /* unknown option: start fails */
  d2 = MHD_start_daemon (cur_mode->flags, 0, NULL, NULL, test_ok_handler,
                         NULL, (enum MHD_OPTION) 9999, (intptr_t) 0,
                         MHD_OPTION_END);
  CHECK (NULL == d2);
  if (NULL != d2)
    MHD_stop_daemon (d2);
  /* NULL handler: start fails */
  d2 = MHD_start_daemon (cur_mode->flags, 0, NULL, NULL, NULL, NULL,
                         MHD_OPTION_END);
  CHECK (NULL == d2);
  if (NULL != d2)
    MHD_stop_daemon (d2);
}

static void
part_stop (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int ka, half;
  struct buf carry;
  struct http_resp r;
  uint64_t t0;

  n_completed = 0;
  n_handler = 0;
  stopped = 0;
  after_stop_calls = 0;
  d = START_DAEMON (0, info_handler, NULL,
                    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
                    MHD_OPTION_NOTIFY_CONNECTION, conn_cb, NULL,
                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 7,
                    MHD_OPTION_END);
  cur_daemon = d;
  port = test_daemon_port (d);
  buf_init (&carry);
  ka = raw_connect (port);
  half = raw_connect (port);
  SETUP_CHECK (ka >= 0 && half >= 0);
  raw_send_str (ka, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_INT (1, raw_read_response (ka, &carry, 0, &r, RAW_TIMEOUT_MS, NULL));
  http_resp_free (&r);
  raw_send_str (half, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
  CHECK (test_wait_ge (&n_handler, 4, 5000));  /* 2 for ka + >= 2 for half */
  CHECK (test_wait_ge (&n_completed, 1, 5000));
  t0 = test_now_ms ();
  test_stop_daemon (d);
  ATOMIC_SET (&stopped, 1);
  CHECK_MSG (test_now_ms () - t0 < 5000, "MHD_stop_daemon took %llu ms",
             (unsigned long long) (test_now_ms () - t0));
  /* the half-sent request was completed during stop */
  CHECK_INT (2, n_completed);
  if (test_ref_tpc () && (MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN != last_toe))
    test_diff ("thread per connection: a request cut short by "
               "MHD_stop_daemon completes with code %d, not DAEMON_SHUTDOWN",
               (int) last_toe);
  else
    CHECK_INT (MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN, last_toe);
  /* both sockets closed by the server */
  CHECK (raw_wait_closed (ka, NULL, 2000));
  raw_send_str (half, "cdefghij");
  CHECK (raw_wait_closed (half, NULL, 2000));
  /* nothing can reach a callback any more */
  CHECK (raw_connect (port) < 0);
  CHECK_INT (0, after_stop_calls);
  close (ka);
  close (half);
  buf_free (&carry);
  cur_daemon = NULL;
}

static void
run (void)
{
  part_daemon_info ();
  part_sock_addr ();
  part_connection_limit ();
  part_timeout ();
  part_accept_policy ();
  part_logger_and_options ();
  part_stop ();
}

int
main (void)
{
  return test_run_modes ("test_info", run);
}
