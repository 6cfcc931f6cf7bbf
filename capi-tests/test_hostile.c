/* test_hostile: the quick, deterministic parts of "hostile clients" (the
 * long slowloris / slow-read / 10,000-connection runs are `make
 * check-hostile`, bench/hostile.py).  test_limits covers the limits one
 * client at a time and test_timeouts one stalled reader; this program
 * floods them:
 *
 * - a burst of 40 connects, each sending a keep-alive request at once,
 *   against MHD_OPTION_CONNECTION_LIMIT 8: the number of live connections
 *   (counted in the MHD_OPTION_NOTIFY_CONNECTION callback, and
 *   MHD_DAEMON_INFO_CURRENT_CONNECTIONS) never exceeds 8, at most 8
 *   clients are served, the others are closed without a response or left
 *   unserved; when they all leave the count drops to 0, every socket the
 *   daemon accepted is closed (the process's /proc/self/fd count is back
 *   where it was after the start) and a new client is served;
 * - a burst of 30 connects from 127.0.0.1 against
 *   MHD_OPTION_PER_IP_CONNECTION_LIMIT 3: never more than 3 live
 *   connections from there, while a client from 127.0.0.2 is served;
 * - 16 clients that never read a 100 MiB response (half of them a callback
 *   response with 64 KiB blocks, half one shared MHD_RESPMEM_PERSISTENT
 *   buffer): once the server is blocked on their full sockets, the process
 *   RSS has grown by far less than one body (the server holds a bounded
 *   buffer per connection, not the body), the callback was not read far
 *   beyond what the sockets hold, another client is served meanwhile, and
 *   when they hang up every response is freed and every fd released. */
#include "common.h"
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#define BURST 40
#define LIMIT 8
#define IP_BURST 30
#define IP_LIMIT 3
#define NONREADERS 16
#define BODY_SIZE ((uint64_t) 100 * 1024 * 1024)

static volatile int n_live;
static volatile int n_peak;
static volatile int n_free;
static volatile int n_queued;
static volatile uint64_t produced;  /* bytes the callback responses made */
static char *body;                  /* BODY_SIZE bytes, touched */
static struct MHD_Response *buf_resp;

static void
conn_cb (void *cls, struct MHD_Connection *c, void **socket_context,
         enum MHD_ConnectionNotificationCode toe)
{
  (void) cls;
  (void) c;
  (void) socket_context;
  if (MHD_CONNECTION_NOTIFY_STARTED == toe)
  {
    int now = ATOMIC_INC (&n_live);
    int peak = ATOMIC_GET (&n_peak);
    while ((now > peak) &&
           ! __atomic_compare_exchange_n (&n_peak, &peak, now, 0,
                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      ;
  }
  else
    __atomic_sub_fetch (&n_live, 1, __ATOMIC_SEQ_CST);
}

static ssize_t
big_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  (void) cls;
  if (pos >= BODY_SIZE)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (max > BODY_SIZE - pos)
    max = (size_t) (BODY_SIZE - pos);
  memset (buf, 'y', max);
  __atomic_add_fetch (&produced, (uint64_t) max, __ATOMIC_SEQ_CST);
  return (ssize_t) max;
}

static void
big_free (void *cls)
{
  (void) cls;
  ATOMIC_INC (&n_free);
}

/* /cb: 100 MiB from a callback; /buf: the shared 100 MiB buffer; else
 * "ok". */
static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  static int marker;
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
  if (0 == strcmp (url, "/cb"))
  {
    struct MHD_Response *r;
    enum MHD_Result ret;
    r = MHD_create_response_from_callback (BODY_SIZE, 64 * 1024, big_reader,
                                           NULL, big_free);
    if (NULL == r)
      return MHD_NO;
    ret = MHD_queue_response (c, MHD_HTTP_OK, r);
    MHD_destroy_response (r);
    ATOMIC_INC (&n_queued);
    return ret;
  }
  if (0 == strcmp (url, "/buf"))
  {
    ATOMIC_INC (&n_queued);
    return MHD_queue_response (c, MHD_HTTP_OK, buf_resp);
  }
  return test_reply (c, MHD_HTTP_OK, "ok");
}

static long
rss_kib (void)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  long v = -1;
  if (NULL == f)
    return -1;
  while (NULL != fgets (line, sizeof (line), f))
    if (0 == strncmp (line, "VmRSS:", 6))
      v = atol (line + 6);
  fclose (f);
  return v;
}

/* A fresh client gets "ok". */
static int
served (uint16_t port, uint8_t from)
{
  int fd = raw_connect_from (port, from, 0);
  struct buf carry;
  struct http_resp r;
  int ok = 0;
  if (fd < 0)
    return 0;
  buf_init (&carry);
  raw_send_str (fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  if (1 == raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS, NULL))
  {
    ok = (200 == r.status) && (0 == strcmp ("ok", r.body.data));
    http_resp_free (&r);
  }
  buf_free (&carry);
  close (fd);
  return ok;
}

enum client_state { CS_WAITING = 0, CS_SERVED, CS_CLOSED, CS_BAD };

/* n clients, each already sent a keep-alive request: read until every one
 * is served or closed, or nothing changed for 1 s (the rest wait unserved,
 * as in Debian's poll and epoll modes), or wait_ms passed; counts per
 * state.  Checks the daemon's own count against the limit on every
 * round. */
static void
collect (struct MHD_Daemon *d, const int *fds, int n, int limit, int wait_ms,
         int counts[4])
{
  struct buf in[BURST];
  int st[BURST];
  struct pollfd p[BURST];
  uint64_t end = test_now_ms () + (uint64_t) wait_ms;
  uint64_t changed = 0; /* when the last bytes or close came, 0 = never */
  int i;
  for (i = 0; i < n; i++)
  {
    buf_init (&in[i]);
    st[i] = CS_WAITING;
  }
  do
  {
    int k = 0, cur;
    for (i = 0; i < n; i++)
      if (CS_WAITING == st[i])
      {
        p[k].fd = fds[i];
        p[k].events = POLLIN;
        p[k].revents = 0;
        k++;
      }
    if (0 == k)
      break;
    cur = test_current_connections (d);
    CHECK_MSG (cur <= limit, "MHD_DAEMON_INFO_CURRENT_CONNECTIONS %d over "
               "the limit %d", cur, limit);
    if ((0 != changed) && (test_now_ms () - changed >= 1000))
      break;
    if (poll (p, (nfds_t) k, 50) <= 0)
      continue;
    for (i = 0; i < n; i++)
    {
      char tmp[4096];
      ssize_t got;
      struct http_resp r;
      int j, ready = 0;
      if (CS_WAITING != st[i])
        continue;
      for (j = 0; j < k; j++)
        if ((p[j].fd == fds[i]) && (0 != p[j].revents))
          ready = 1;
      if (! ready)
        continue;
      got = recv (fds[i], tmp, sizeof (tmp), MSG_DONTWAIT);
      changed = test_now_ms ();
      if (got > 0)
        buf_append (&in[i], tmp, (size_t) got);
      else if ((0 == got) || ((EAGAIN != errno) && (EINTR != errno)))
      {
        st[i] = (0 == in[i].len) ? CS_CLOSED : CS_BAD;
        continue;
      }
      switch (http_parse_response (in[i].data, in[i].len, 0, 0, &r))
      {
      case 1:
        st[i] = ((200 == r.status) && (0 == strcmp ("ok", r.body.data)))
                ? CS_SERVED : CS_BAD;
        http_resp_free (&r);
        break;
      case -1:
        st[i] = CS_BAD;
        break;
      default:
        break;
      }
    }
  } while (test_now_ms () < end);
  memset (counts, 0, 4 * sizeof (int));
  for (i = 0; i < n; i++)
  {
    counts[st[i]]++;
    buf_free (&in[i]);
  }
}

/* The daemon closed every socket it accepted: the fd count is back to
 * the one after the start.  0 when the reference's thread per connection
 * had not noticed yet (reported as a difference; its slots are still
 * taken then). */
static int
check_fds_back (struct MHD_Daemon *d, int fds_daemon, const char *what)
{
  int now;
  if (test_ref_tpc () && ! test_wait_connections (d, 0, 1000))
  {
    test_diff ("thread per connection: the connection count does not drop "
               "within 1 s after the clients closed");
    return 0;
  }
  CHECK_MSG (test_wait_connections (d, 0, 5000), "%s: %d connections left "
             "after every client closed", what, test_current_connections (d));
  now = test_wait_fds (fds_daemon, 5000);
  CHECK_MSG (now <= fds_daemon, "%s: %d fds open after every client left, "
             "%d after the start (leak)", what, now, fds_daemon);
  CHECK_INT (0, ATOMIC_GET (&n_live));
  return 1;
}

/* Start a daemon with the connection limit limit_opt = limit and the
 * notify callback, note the process's fd count then (*fds_daemon), and
 * open n clients from 127.0.0.1 that each send a keep-alive request at
 * once (fds[0..n)). */
static struct MHD_Daemon *
start_burst (enum MHD_OPTION limit_opt, unsigned int limit, int *fds, int n,
             uint16_t *port, int *fds_daemon)
{
  struct MHD_Daemon *d;
  int i;

  n_live = n_peak = 0;
  d = START_DAEMON (0, handler, NULL,
                    limit_opt, limit,
                    MHD_OPTION_NOTIFY_CONNECTION, conn_cb, NULL,
                    MHD_OPTION_END);
  *port = test_daemon_port (d);
  *fds_daemon = test_count_fds ();
  for (i = 0; i < n; i++)
  {
    fds[i] = raw_connect_from (*port, 1, 0);
    SETUP_CHECK (fds[i] >= 0);
    raw_send_str (fds[i], "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  return d;
}

static void
part_connect_burst (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fds[BURST], counts[4], i, fds_daemon;

  d = start_burst (MHD_OPTION_CONNECTION_LIMIT, LIMIT, fds, BURST, &port,
                   &fds_daemon);
  collect (d, fds, BURST, LIMIT, 5000, counts);
  test_note ("burst of %d against a limit of %d: %d served, %d closed, %d "
             "unserved, %d bad; peak %d", BURST, LIMIT, counts[CS_SERVED],
             counts[CS_CLOSED], counts[CS_WAITING], counts[CS_BAD],
             n_peak);
  CHECK_MSG (ATOMIC_GET (&n_peak) <= LIMIT, "%d connections at once, "
             "limit %d", n_peak, LIMIT);
  CHECK_MSG (counts[CS_SERVED] <= LIMIT, "%d clients served at once, "
             "limit %d", counts[CS_SERVED], LIMIT);
  CHECK_INT (0, counts[CS_BAD]);
  if ((counts[CS_SERVED] < LIMIT) && test_ref_pool ())
    test_diff ("thread pool: fewer clients than the connection limit served "
               "at once (the limit is split among the workers)");
  else
    CHECK_MSG (LIMIT == counts[CS_SERVED], "only %d of %d slots served "
               "clients in a burst", counts[CS_SERVED], LIMIT);
  CHECK (test_current_connections (d) <= LIMIT);
  for (i = 0; i < BURST; i++)
    close (fds[i]);
  if (check_fds_back (d, fds_daemon, "connect burst"))
    CHECK_MSG (served (port, 1), "no service after the burst");
  test_stop_daemon (d);
}

static void
part_per_ip_burst (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fds[IP_BURST], counts[4], i, fds_daemon;

  d = start_burst (MHD_OPTION_PER_IP_CONNECTION_LIMIT, IP_LIMIT, fds,
                   IP_BURST, &port, &fds_daemon);
  collect (d, fds, IP_BURST, IP_LIMIT, 5000, counts);
  test_note ("burst of %d from one address, per-IP limit %d: %d served, %d "
             "closed, %d unserved; peak %d", IP_BURST, IP_LIMIT,
             counts[CS_SERVED], counts[CS_CLOSED], counts[CS_WAITING],
             n_peak);
  CHECK_MSG (ATOMIC_GET (&n_peak) <= IP_LIMIT, "%d connections at once "
             "from 127.0.0.1, per-IP limit %d", n_peak, IP_LIMIT);
  CHECK_INT (IP_LIMIT, counts[CS_SERVED]);
  CHECK_INT (0, counts[CS_BAD]);
  /* the over-limit clients are closed, not kept waiting */
  CHECK_INT (IP_BURST - IP_LIMIT, counts[CS_CLOSED]);
  {
    int probe = raw_connect_from (port, 2, 0);
    if (probe < 0)
      test_note ("cannot bind 127.0.0.2: other-address case skipped");
    else
    {
      close (probe);
      CHECK_MSG (served (port, 2), "a client from 127.0.0.2 refused while "
                 "127.0.0.1 floods");
    }
  }
  for (i = 0; i < IP_BURST; i++)
    close (fds[i]);
  if (check_fds_back (d, fds_daemon, "per-IP burst"))
    CHECK_MSG (served (port, 1), "no service from 127.0.0.1 after the "
               "burst");
  test_stop_daemon (d);
}

/* Wait until the callback responses stop producing (the server is blocked
 * on full sockets): produced unchanged for 300 ms, 8 s at most. */
static uint64_t
wait_stalled (void)
{
  uint64_t end = test_now_ms () + 8000, last = (uint64_t) -1,
           since = test_now_ms ();
  for (;;)
  {
    uint64_t now = __atomic_load_n (&produced, __ATOMIC_SEQ_CST);
    if (now != last)
    {
      last = now;
      since = test_now_ms ();
    }
    else if (test_now_ms () - since >= 300)
      return now;
    if (test_now_ms () >= end)
      return now;
    test_sleep_ms (20);
  }
}

static void
part_never_read (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fds[NONREADERS], i, fds_daemon;
  long rss0, rss1, grown, bound;
  uint64_t made;

  n_live = n_peak = n_free = n_queued = 0;
  produced = 0;
  d = START_DAEMON (0, handler, NULL,
                    MHD_OPTION_NOTIFY_CONNECTION, conn_cb, NULL,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  /* one request first, so that lazily made per-daemon state counts in
     the baseline */
  CHECK (served (port, 1));
  CHECK (test_wait_connections (d, 0, 5000) || test_ref_tpc ());
  fds_daemon = test_count_fds ();
  rss0 = rss_kib ();
  for (i = 0; i < NONREADERS; i++)
  {
    fds[i] = raw_connect_from (port, 1, 4096);
    SETUP_CHECK (fds[i] >= 0);
    raw_send_str (fds[i], (i & 1) ? "GET /buf HTTP/1.1\r\nHost: x\r\n\r\n"
                                  : "GET /cb HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  CHECK_MSG (test_wait_ge (&n_queued, NONREADERS, 5000), "only %d of %d "
             "large responses queued", n_queued, NONREADERS);
  made = wait_stalled ();
  rss1 = rss_kib ();
  grown = rss1 - rss0;
  /* per connection: the memory pool (32 KiB by default), a 64 KiB block,
     the TLS-less write path's buffers and a thread's stack in thread per
     connection; 1 MiB each is generous, one body would be 100 MiB */
  bound = 4 * 1024 + NONREADERS * 1024;
  test_note ("%d non-reading clients of 100 MiB responses: RSS %ld -> %ld "
             "KiB (+%ld KiB, bound %ld), callbacks produced %llu KiB",
             NONREADERS, rss0, rss1, grown, bound,
             (unsigned long long) (made / 1024));
  CHECK_MSG (grown <= bound, "RSS grew by %ld KiB with %d clients not "
             "reading (bound %ld KiB)", grown, NONREADERS, bound);
  /* the callback was read no further than the sockets can hold (kernel
     buffers: a few MiB each at most) */
  CHECK_MSG (made <= (uint64_t) (NONREADERS / 2) * 16 * 1024 * 1024,
             "the callbacks produced %llu MiB for %d stalled clients",
             (unsigned long long) (made >> 20), NONREADERS / 2);
  CHECK_MSG (served (port, 1), "no service while %d clients do not read",
             NONREADERS);
  for (i = 0; i < NONREADERS; i++)
    close (fds[i]);
  CHECK_MSG (test_wait_ge (&n_free, NONREADERS / 2, 5000),
             "%d of %d callback responses freed after the clients left",
             n_free, NONREADERS / 2);
  if (check_fds_back (d, fds_daemon, "non-reading clients"))
    CHECK (served (port, 1));
  test_note ("RSS after they left: %ld KiB", rss_kib ());
  test_stop_daemon (d);
}

static void
run (void)
{
  part_connect_burst ();
  part_per_ip_burst ();
  part_never_read ();
}

int
main (void)
{
  int rc;
  body = malloc ((size_t) BODY_SIZE);
  SETUP_CHECK (NULL != body);
  memset (body, 'z', (size_t) BODY_SIZE); /* resident before any baseline */
  buf_resp = MHD_create_response_from_buffer ((size_t) BODY_SIZE, body,
                                              MHD_RESPMEM_PERSISTENT);
  SETUP_CHECK (NULL != buf_resp);
  rc = test_run_modes ("test_hostile", run);
  MHD_destroy_response (buf_resp);
  free (body);
  return rc;
}
