/* test_many_clients: 500 concurrent keep-alive clients.
 *
 * The clients run in a child process (forked before the daemon starts, so
 * no thread is forked): the daemon's own sockets stay below FD_SETSIZE in
 * the select modes.  They are non-blocking raw sockets under one poll()
 * loop:
 * 1. all 500 connect and send their first request together; every
 *    response is checked (status, a body specific to client and request);
 * 2. with all 500 connections open and idle, the daemon reports 500
 *    current connections and 500 STARTED notifications;
 * 3. every client sends 2 more requests on the same connection,
 *    concurrently; each response checked, no connection closed;
 * 4. the clients close: the connection count returns to 0.
 * MHD_TEST_MANY_CLIENTS overrides the number of clients. */
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define DEFAULT_CLIENTS 500
#define REQS 3

static volatile int n_requests;

static void
make_body (unsigned int client, unsigned int req, struct buf *b)
{
  char line[64];
  unsigned int i, n = 3 + (client * 7 + req * 13) % 40;
  for (i = 0; i < n; i++)
  {
    snprintf (line, sizeof (line), "client %u request %u line %u\n", client,
              req, i);
    buf_append (b, line, strlen (line));
  }
}

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  static int marker;
  unsigned int client, req;
  struct buf b;
  struct MHD_Response *r;
  enum MHD_Result ret;
  (void) cls;
  (void) method;
  (void) version;
  (void) upload;
  (void) upload_size;
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (2 != sscanf (url, "/c%u/r%u", &client, &req))
    return test_reply (c, MHD_HTTP_NOT_FOUND, "bad url");
  buf_init (&b);
  make_body (client, req, &b);
  r = MHD_create_response_from_buffer (b.len, b.data, MHD_RESPMEM_MUST_FREE);
  ret = MHD_queue_response (c, MHD_HTTP_OK, r);
  MHD_destroy_response (r);
  ATOMIC_INC (&n_requests);
  return ret;
}

/* ------------------------------------------------------------------ */
/* The client process                                                  */
/* ------------------------------------------------------------------ */

struct cl
{
  int fd;
  int connecting;
  unsigned int req;        /* request in progress */
  char out[96];
  size_t outlen, outoff;
  struct buf in;
  int waiting;             /* a response is expected */
  int failed;
};

/* Clients closed by the server before any byte of their first response. */
static unsigned int refused;

static void
queue_request (struct cl *c, unsigned int idx)
{
  snprintf (c->out, sizeof (c->out),
            "GET /c%u/r%u HTTP/1.1\r\nHost: x\r\n\r\n", idx, c->req);
  c->outlen = strlen (c->out);
  c->outoff = 0;
  c->waiting = 1;
}

/* Debian's 0.9.75 epoll loop can stall for good with hundreds of busy
 * connections (seen in bench/ too): against it a keep-alive round that
 * times out is a DIFF the parent reports, not a failure. */
static int
reference_may_stall (void)
{
  return test_is_reference () && (0 != (cur_mode->flags & MHD_USE_EPOLL));
}

/* Runs the clients until every one has finished request `upto - 1`.
 * Returns the number of clients that failed; a timeout counts them but
 * is only reported as a failure when `stall_ok` is 0. */
static int
drive (struct cl *cls, unsigned int n, unsigned int upto, int timeout_ms,
       int stall_ok)
{
  struct pollfd *pfd = calloc (n, sizeof (*pfd));
  unsigned int *map = calloc (n, sizeof (*map));
  uint64_t end = test_now_ms () + (uint64_t) timeout_ms;
  int failed = 0;
  SETUP_CHECK ((NULL != pfd) && (NULL != map));
  for (;;)
  {
    unsigned int i, np = 0;
    int pr;
    for (i = 0; i < n; i++)
    {
      struct cl *c = &cls[i];
      if (c->failed || ! c->waiting)
        continue;
      pfd[np].fd = c->fd;
      pfd[np].events = POLLIN;
      if (c->connecting || (c->outoff < c->outlen))
        pfd[np].events |= POLLOUT;
      pfd[np].revents = 0;
      map[np++] = i;
    }
    if (0 == np)
      break;
    if (test_now_ms () >= end)
    {
      if (stall_ok)
        test_note ("%u clients still waiting for request %u after %d ms",
                   np, upto - 1, timeout_ms);
      else
        test_fail (__FILE__, __LINE__, "%u clients still waiting for "
                   "request %u after %d ms", np, upto - 1, timeout_ms);
      failed += (int) np;
      break;
    }
    pr = poll (pfd, np, 100);
    if (pr < 0)
    {
      if (EINTR == errno)
        continue;
      SETUP_FAIL ("poll: %s", strerror (errno));
    }
    for (i = 0; i < np; i++)
    {
      struct cl *c = &cls[map[i]];
      unsigned int idx = map[i];
      if (0 == pfd[i].revents)
        continue;
      if (c->connecting && (pfd[i].revents & (POLLOUT | POLLERR | POLLHUP)))
      {
        int err = 0;
        socklen_t el = sizeof (err);
        getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (0 != err)
        {
          test_fail (__FILE__, __LINE__, "client %u: connect: %s", idx,
                     strerror (err));
          c->failed = 1;
          failed++;
          continue;
        }
        c->connecting = 0;
      }
      if ((pfd[i].revents & POLLOUT) && (c->outoff < c->outlen))
      {
        ssize_t s = send (c->fd, c->out + c->outoff, c->outlen - c->outoff,
                          MSG_NOSIGNAL);
        if (s > 0)
          c->outoff += (size_t) s;
        else if ((s < 0) && (EAGAIN != errno) && (EINTR != errno))
        {
          test_fail (__FILE__, __LINE__, "client %u request %u: send: %s",
                     idx, c->req, strerror (errno));
          c->failed = 1;
          failed++;
          continue;
        }
      }
      if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
      {
        char tmp[8192];
        ssize_t got = recv (c->fd, tmp, sizeof (tmp), 0);
        struct http_resp r;
        int rc;
        if ((got < 0) && ((EAGAIN == errno) || (EINTR == errno)))
          continue;
        if (got <= 0)
        {
          if ((0 == c->req) && (0 == c->in.len))
            refused++;   /* turned away: the parent judges */
          else
            test_fail (__FILE__, __LINE__, "client %u request %u: "
                       "connection %s by the server", idx, c->req,
                       (0 == got) ? "closed" : "reset");
          c->failed = 1;
          failed++;
          continue;
        }
        buf_append (&c->in, tmp, (size_t) got);
        rc = http_parse_response (c->in.data, c->in.len, 0, 0, &r);
        if (-1 == rc)
        {
          test_fail (__FILE__, __LINE__, "client %u: malformed response",
                     idx);
          c->failed = 1;
          failed++;
          continue;
        }
        if (1 == rc)
        {
          struct buf exp;
          buf_init (&exp);
          make_body (idx, c->req, &exp);
          if ((200 != r.status) || (exp.len != r.body.len) ||
              (0 != memcmp (exp.data, r.body.data, exp.len)))
          {
            test_fail (__FILE__, __LINE__, "client %u request %u: status "
                       "%d, %zu body bytes (expected %zu)", idx, c->req,
                       r.status, r.body.len, exp.len);
            c->failed = 1;
            failed++;
          }
          buf_free (&exp);
          buf_consume (&c->in, r.consumed);
          http_resp_free (&r);
          if (c->failed)
            continue;
          c->req++;
          if (c->req < upto)
            queue_request (c, idx);
          else
            c->waiting = 0;
        }
      }
    }
  }
  free (pfd);
  free (map);
  return failed;
}

static int
client_main (int rd, int wr, unsigned int n)
{
  struct cl *cls = calloc (n, sizeof (*cls));
  unsigned int i;
  int port_hi, port_lo, go, stalled;
  uint16_t port;
  unsigned char b;
  SETUP_CHECK (NULL != cls);
  test_failures = 0;   /* inherited from the parent */
  refused = 0;
  port_hi = raw_read_byte (rd, 30000);
  port_lo = raw_read_byte (rd, 1000);
  if ((port_hi < 0) || (port_lo < 0))
    return TEST_EXIT_ERROR;
  port = (uint16_t) ((port_hi << 8) | port_lo);
  for (i = 0; i < n; i++)
  {
    struct sockaddr_in sa;
    int one = 1;
    struct cl *c = &cls[i];
    c->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    SETUP_CHECK (c->fd >= 0);
    setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
    memset (&sa, 0, sizeof (sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons (port);
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (0 != connect (c->fd, (struct sockaddr *) &sa, sizeof (sa)))
    {
      if (EINPROGRESS != errno)
        SETUP_FAIL ("connect: %s", strerror (errno));
      c->connecting = 1;
    }
    buf_init (&c->in);
    queue_request (c, i);
  }
  /* 1: first request on every connection */
  stalled = drive (cls, n, 1, 60000, reference_may_stall ());
  if (0 != test_failures)
    b = 'F';
  else if (0 != refused)
    b = 'R';
  else if (stalled > 0)
    b = 'S';   /* only where reference_may_stall () */
  else
    b = 'A';
  (void) ! write (wr, &b, 1);
  if ('R' == b)
  {
    unsigned char cnt[2];
    cnt[0] = (unsigned char) (refused >> 8);
    cnt[1] = (unsigned char) (refused & 0xff);
    (void) ! write (wr, cnt, 2);
  }
  go = raw_read_byte (rd, 60000);
  if ('G' != go)
  {
    /* 'C': the parent ends it here */
    for (i = 0; i < n; i++)
    {
      close (cls[i].fd);
      buf_free (&cls[i].in);
    }
    free (cls);
    if ('C' != go)
      return TEST_EXIT_ERROR;
    return (0 == test_failures) ? TEST_EXIT_PASS : TEST_EXIT_FAIL;
  }
  /* 3: the rest, all at once, on the same connections */
  for (i = 0; i < n; i++)
    if (! cls[i].failed)
      queue_request (&cls[i], i);
  stalled = drive (cls, n, REQS, 60000, reference_may_stall ());
  b = ((0 == test_failures) && (0 == stalled)) ? 'B' : 'F';
  (void) ! write (wr, &b, 1);
  /* 4: close after the parent looked */
  (void) raw_read_byte (rd, 60000);
  for (i = 0; i < n; i++)
  {
    close (cls[i].fd);
    buf_free (&cls[i].in);
  }
  free (cls);
  return (0 == test_failures) ? TEST_EXIT_PASS : TEST_EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* The daemon side                                                     */
/* ------------------------------------------------------------------ */

static unsigned int
nclients (void)
{
  const char *e = getenv ("MHD_TEST_MANY_CLIENTS");
  if ((NULL != e) && (atoi (e) > 0))
    return (unsigned int) atoi (e);
  return DEFAULT_CLIENTS;
}

static int
wait_child (pid_t pid, int timeout_ms)
{
  uint64_t end = test_now_ms () + (uint64_t) timeout_ms;
  int st;
  for (;;)
  {
    pid_t r = waitpid (pid, &st, WNOHANG);
    if (r == pid)
      return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
    if (test_now_ms () >= end)
    {
      kill (pid, SIGKILL);
      waitpid (pid, &st, 0);
      return -1;
    }
    test_sleep_ms (5);
  }
}

static void
run (void)
{
  unsigned int n = nclients ();
  int to_child[2], from_child[2];
  pid_t pid;
  struct MHD_Daemon *d;
  uint16_t port;
  unsigned char b[2];
  int ch, rc;
  int ref_stalled = 0;
  uint64_t t0 = test_now_ms ();

  test_conns_started = test_conns_closed = n_requests = 0;
  SETUP_CHECK (0 == pipe (to_child) && 0 == pipe (from_child));
  fflush (stderr);
  pid = fork ();
  SETUP_CHECK (pid >= 0);
  if (0 == pid)
  {
    close (to_child[1]);
    close (from_child[0]);
    _exit (client_main (to_child[0], from_child[1], n));
  }
  close (to_child[0]);
  close (from_child[1]);

  d = START_DAEMON (0, handler, NULL,
                    MHD_OPTION_NOTIFY_CONNECTION, test_count_connections, NULL,
                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
                    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 1024,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  b[0] = (unsigned char) (port >> 8);
  b[1] = (unsigned char) (port & 0xff);
  SETUP_CHECK (2 == write (to_child[1], b, 2));

  ch = raw_read_byte (from_child[0], 90000);
  if ('R' == ch)
  {
    int hi = raw_read_byte (from_child[0], 1000);
    int lo = raw_read_byte (from_child[0], 1000);
    int cnt = ((hi < 0) || (lo < 0)) ? -1 : ((hi << 8) | lo);
    if (test_ref_pool ())
      test_diff ("thread pool: %s clients of %u turned away although the "
                 "daemon is far under its connection limit (the limit is "
                 "split among the workers)", (cnt > 10) ? "over 10" : "some",
                 n);
    else
      test_fail (__FILE__, __LINE__, "%d of %u clients closed by the "
                 "server before their first response", cnt, n);
  }
  else if (('S' == ch) && reference_may_stall ())
  {
    ref_stalled = 1;
    test_diff ("epoll: clients left waiting for their first response "
               "(the reference's epoll loop stalls with many connections)");
  }
  else
    CHECK_MSG ('A' == ch, "clients: first round %s",
               ('F' == ch) ? "failed" : "did not finish");
  if ('A' == ch)
  {
    /* 500 open, idle connections */
    CHECK_MSG (test_wait_connections (d, (int) n, 5000),
               "%d current connections, expected %u",
               test_current_connections (d), n);
    CHECK_INT (n, test_conns_started);
    CHECK_INT (n, n_requests);
    CHECK_INT (0, test_conns_closed);
    b[0] = 'G';
    SETUP_CHECK (1 == write (to_child[1], b, 1));
    ch = raw_read_byte (from_child[0], 90000);
    if (('B' != ch) && reference_may_stall ())
    {
      ref_stalled = 1;
      test_diff ("epoll: clients left waiting in the keep-alive rounds "
                 "(the reference's epoll loop stalls with many connections)");
    }
    else
    {
      CHECK_MSG ('B' == ch, "clients: keep-alive rounds %s",
                 ('F' == ch) ? "failed" : "did not finish");
      /* keep-alive: no new connection for the later requests */
      CHECK_INT (n, test_conns_started);
      CHECK_INT (n * REQS, n_requests);
      CHECK_INT (0, test_conns_closed);
    }
  }
  b[0] = 'C';
  (void) ! write (to_child[1], b, 1);
  rc = wait_child (pid, 30000);
  CHECK_MSG ((0 == rc) || ref_stalled, "client process exit status %d", rc);
  close (to_child[1]);
  close (from_child[0]);
  if (test_ref_tpc () && ! test_wait_connections (d, 0, 1000))
    test_diff ("thread per connection: the connection count does not drop "
               "within 1 s after the clients closed");
  else if (ref_stalled && ! test_wait_connections (d, 0, 1000))
    test_diff ("epoll: the stalled connections stay open after the clients "
               "closed");
  else if (reference_may_stall () && ! test_wait_connections (d, 0, 10000))
    /* Seen once in CI: every client got all its answers, yet 128 of the
     * closed connections were never noticed by the reference's epoll
     * loop. */
    test_diff ("epoll: %d connections stay open 10 s after the clients "
               "closed (the reference's epoll loop stalls with many "
               "connections)", test_current_connections (d));
  else
    CHECK_MSG (test_wait_connections (d, 0, 10000),
               "%d connections left after the clients closed",
               test_current_connections (d));
  test_stop_daemon (d);
  test_note ("%u clients x %d requests in %llu ms", n, REQS,
             (unsigned long long) (test_now_ms () - t0));
}

int
main (void)
{
  return test_run_modes ("test_many_clients", run);
}
