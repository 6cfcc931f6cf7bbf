/* loadclient: the benchmark's own load generator for what wrk cannot do.
 * One thread, epoll, plain or TLS (--tls), 127.0.0.1 only. Every loop is
 * bounded in count and in time; the whole program stops itself (alarm).
 *
 *   loadclient get    PORT PATH CONNS SECONDS [--tls]
 *       keep-alive GETs of PATH on CONNS connections for SECONDS;
 *       prints "responses=N bytes=B seconds=S errors=E"
 *   loadclient upbulk PORT CONNS SECONDS [--tls]
 *       upgrade each connection (GET with Upgrade: echo, expect 101), then
 *       stream bytes and read the echo back, at most 1 MiB in flight per
 *       connection; checks every echoed byte;
 *       prints "upgraded=N bytes=B seconds=S errors=E"
 *   loadclient uprtt  PORT SECONDS [--tls] [--size N]
 *       one upgraded connection, N-byte (64) messages, one at a time;
 *       prints "upgraded=1 roundtrips=N seconds=S p50_us=X p99_us=Y errors=E"
 *   loadclient hold   PORT CONNS [--tls]
 *       open CONNS keep-alive connections, one GET / on each, keep them
 *       open; prints "READY connected=N answered=A"; waits for a line on
 *       stdin (60 s at most), sends a second GET on each, prints
 *       "DONE answered=A2 errors=E" and closes everything.
 */
#include "common.h"
#include <signal.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#define RBUF 262144
#define INFLIGHT (1024 * 1024)
#define MAX_RTT 4000000

enum phase { P_CONNECTING, P_UPGRADING, P_RUNNING, P_IDLE, P_DEAD };

struct cl
{
  struct stream s;
  enum phase phase;
  char hdr[4096];
  size_t hdr_len;
  long long body_left;   /* get/hold: body bytes of the current response */
  int in_body;
  const char *req;       /* request being written */
  size_t req_len;
  size_t req_off;
  uint64_t sent, rcvd;   /* upgrade streams */
  int answered;
  uint32_t cur_ev;
};

static int epfd;
static void *ctx;
static int port;
static char rbuf[RBUF];
static char pattern[INFLIGHT + 256];
static long long total_bytes, total_responses, errors;

static void
die_alarm (int sig)
{
  (void) sig;
  static const char m[] = "loadclient: time limit reached\n";
  (void) write (2, m, sizeof (m) - 1);
  _exit (5);
}

static void
watch (struct cl *c, uint32_t ev, int op)
{
  struct epoll_event e;
  if (EPOLL_CTL_MOD == op && ev == c->cur_ev)
    return;
  e.events = ev;
  e.data.ptr = c;
  epoll_ctl (epfd, op, c->s.fd, &e);
  c->cur_ev = ev;
}

static int
open_conn (struct cl *c)
{
  int fd = connect_loopback (port);
  memset (c, 0, sizeof (*c));
  if (fd < 0)
  {
    c->phase = P_DEAD;
    c->s.fd = -1;
    return -1;
  }
  stream_init (&c->s, fd, ctx, 0);
  c->phase = P_CONNECTING;
  watch (c, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
  return 0;
}

static void
kill_conn (struct cl *c)
{
  if (c->s.fd >= 0)
  {
    epoll_ctl (epfd, EPOLL_CTL_DEL, c->s.fd, NULL);
    stream_close (&c->s);
  }
  c->phase = P_DEAD;
}

/* Write the pending request. 1 done, 0 again, -1 error. */
static int
push_req (struct cl *c)
{
  while (c->req_off < c->req_len)
  {
    ssize_t n = stream_write (&c->s, c->req + c->req_off,
                              c->req_len - c->req_off);
    if (IO_AGAIN == n)
      return 0;
    if (n < 0)
      return -1;
    c->req_off += (size_t) n;
  }
  return 1;
}

static void
start_req (struct cl *c, const char *req)
{
  c->req = req;
  c->req_len = strlen (req);
  c->req_off = 0;
  c->hdr_len = 0;
  c->in_body = 0;
}

/* Feed response bytes (get/hold). Returns the number of responses
 * completed, or -1 on a protocol error. Leftover bytes past a response
 * are ignored (we never pipeline). */
static int
feed_http (struct cl *c, const char *p, size_t n)
{
  int done = 0;
  while (n > 0)
  {
    if (! c->in_body)
    {
      size_t take = sizeof (c->hdr) - c->hdr_len;
      size_t end;
      if (take > n)
        take = n;
      memcpy (c->hdr + c->hdr_len, p, take);
      c->hdr_len += take;
      end = find_header_end (c->hdr, c->hdr_len);
      if (0 == end)
      {
        if (c->hdr_len == sizeof (c->hdr))
          return -1;
        return done;
      }
      if (0 != strncmp (c->hdr, "HTTP/1.1 200", 12))
        return -1;
      c->body_left = header_content_length (c->hdr, end);
      if (c->body_left < 0)
        return -1;
      /* bytes of this chunk after the header */
      {
        size_t used = take - (c->hdr_len - end);
        p += used;
        n -= used;
      }
      c->in_body = 1;
    }
    {
      size_t take = n;
      if ((long long) take > c->body_left)
        take = (size_t) c->body_left;
      c->body_left -= (long long) take;
      total_bytes += (long long) take;
      p += take;
      n -= take;
      if (0 == c->body_left)
      {
        c->in_body = 0;
        c->hdr_len = 0;
        done++;
        total_responses++;
        return done; /* one request outstanding at a time */
      }
    }
  }
  return done;
}

/* ---------------------------------------------------------------- */
/* get                                                                */

static char get_req[512];

static int
cmd_get (const char *path, int conns, double secs)
{
  struct cl *cs = calloc ((size_t) conns, sizeof (*cs));
  struct epoll_event evs[64];
  double t0, t1, tend;
  int i;
  snprintf (get_req, sizeof (get_req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1"
            "\r\n\r\n", path);
  for (i = 0; i < conns; i++)
  {
    if (open_conn (&cs[i]) == 0)
      start_req (&cs[i], get_req);
    else
      errors++;
  }
  t0 = now_s ();
  tend = t0 + secs;
  while ((t1 = now_s ()) < tend)
  {
    int n = epoll_wait (epfd, evs, 64, 100);
    for (i = 0; i < n; i++)
    {
      struct cl *c = evs[i].data.ptr;
      int r = push_req (c);
      int k;
      if (r < 0)
        goto bad;
      if (0 == r)
        continue;
      watch (c, EPOLLIN, EPOLL_CTL_MOD);
      for (k = 0; k < 1024; k++)
      {
        ssize_t m = stream_read (&c->s, rbuf, sizeof (rbuf));
        int d;
        if (IO_AGAIN == m)
          break;
        if (m < 0)
          goto bad;
        d = feed_http (c, rbuf, (size_t) m);
        if (d < 0)
          goto bad;
        if (d > 0)
        {
          start_req (c, get_req);
          if (push_req (c) < 0)
            goto bad;
          if (c->req_off < c->req_len)
            watch (c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
        }
      }
      continue;
bad:
      errors++;
      kill_conn (c);
    }
  }
  t1 = now_s ();
  printf ("responses=%lld bytes=%lld seconds=%.4f errors=%lld\n",
          total_responses, total_bytes, t1 - t0, errors);
  return 0;
}

/* ---------------------------------------------------------------- */
/* upgrade: handshake then echo                                       */

static const char up_req[] =
  "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
  "Upgrade: echo\r\n\r\n";

/* Progress the upgrade handshake. 1 upgraded, 0 again, -1 refused. */
static int
upgrade_step (struct cl *c)
{
  int r = push_req (c);
  if (r <= 0)
    return r;
  for (;;)
  {
    ssize_t m = stream_read (&c->s, c->hdr + c->hdr_len,
                             sizeof (c->hdr) - c->hdr_len);
    size_t end;
    if (IO_AGAIN == m)
      return 0;
    if (m < 0)
      return -1;
    c->hdr_len += (size_t) m;
    end = find_header_end (c->hdr, c->hdr_len);
    if (0 == end)
    {
      if (c->hdr_len == sizeof (c->hdr))
        return -1;
      continue;
    }
    if (0 != strncmp (c->hdr, "HTTP/1.1 101", 12))
      return -1;
    /* anything after the 101 header would be echo data: none expected */
    if (c->hdr_len != end)
      return -1;
    c->phase = P_RUNNING;
    return 1;
  }
}

/* Upgrade all connections, bounded by 10 s. Returns how many upgraded. */
static int
upgrade_all (struct cl *cs, int conns)
{
  struct epoll_event evs[64];
  double tend = now_s () + 10.0;
  int up = 0, dead = 0, i;
  for (i = 0; i < conns; i++)
  {
    if (open_conn (&cs[i]) == 0)
    {
      start_req (&cs[i], up_req);
      cs[i].phase = P_UPGRADING;
    }
    else
      dead++;
  }
  while (up + dead < conns && now_s () < tend)
  {
    int n = epoll_wait (epfd, evs, 64, 100);
    for (i = 0; i < n; i++)
    {
      struct cl *c = evs[i].data.ptr;
      int r;
      if (P_UPGRADING != c->phase)
        continue;
      r = upgrade_step (c);
      if (r < 0)
      {
        kill_conn (c);
        dead++;
      }
      else if (r > 0)
      {
        up++;
        watch (c, EPOLLIN, EPOLL_CTL_MOD);
      }
      else if (c->req_off == c->req_len)
        watch (c, EPOLLIN, EPOLL_CTL_MOD);
    }
  }
  return up;
}

static int
cmd_upbulk (int conns, double secs)
{
  struct cl *cs = calloc ((size_t) conns, sizeof (*cs));
  struct epoll_event evs[64];
  double t0, tend;
  int up, i;
  up = upgrade_all (cs, conns);
  if (up < conns)
  {
    printf ("upgraded=%d bytes=0 seconds=0 errors=%d\n", up, conns - up);
    return 0;
  }
  for (i = 0; i < conns; i++)
    watch (&cs[i], EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
  t0 = now_s ();
  tend = t0 + secs;
  while (now_s () < tend)
  {
    int n = epoll_wait (epfd, evs, 64, 100);
    for (i = 0; i < n; i++)
    {
      struct cl *c = evs[i].data.ptr;
      int k;
      if (P_RUNNING != c->phase)
        continue;
      for (k = 0; k < 64; k++)
      {
        int progress = 0;
        uint64_t inflight = c->sent - c->rcvd;
        if (inflight < INFLIGHT)
        {
          size_t off = (size_t) (c->sent % 251);
          size_t len = INFLIGHT - inflight;
          ssize_t m;
          if (len > 65536)
            len = 65536;
          m = stream_write (&c->s, pattern + off, len);
          if (m < 0)
            goto bad;
          if (m > 0)
          {
            c->sent += (uint64_t) m;
            progress = 1;
          }
        }
        {
          ssize_t m = stream_read (&c->s, rbuf, 65536);
          if (m < 0)
            goto bad;
          if (m > 0)
          {
            size_t off = (size_t) (c->rcvd % 251);
            if ((uint64_t) m > c->sent - c->rcvd
                || 0 != memcmp (rbuf, pattern + off, (size_t) m))
              goto bad; /* echo corrupted */
            c->rcvd += (uint64_t) m;
            total_bytes += m;
            progress = 1;
          }
        }
        if (! progress)
          break;
      }
      watch (c, (c->sent - c->rcvd < INFLIGHT) ? EPOLLIN | EPOLLOUT
             : EPOLLIN, EPOLL_CTL_MOD);
      continue;
bad:
      errors++;
      kill_conn (c);
    }
  }
  printf ("upgraded=%d bytes=%lld seconds=%.4f errors=%lld\n", up,
          total_bytes, now_s () - t0, errors);
  return 0;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static int
cmd_uprtt (double secs, size_t size)
{
  struct cl *c = calloc (1, sizeof (*c));
  double *lat = malloc (sizeof (double) * MAX_RTT);
  double t0, tend, p50 = 0, p99 = 0;
  long n = 0;
  char msg[4096];
  if (size > sizeof (msg))
    size = sizeof (msg);
  memcpy (msg, pattern, size);
  if (upgrade_all (c, 1) < 1)
  {
    printf ("upgraded=0 roundtrips=0 seconds=0 p50_us=0 p99_us=0 "
            "errors=1\n");
    return 0;
  }
  t0 = now_s ();
  tend = t0 + secs;
  while (n < MAX_RTT)
  {
    double ts = now_s ();
    size_t w = 0, r = 0;
    if (ts >= tend)
      break;
    while ((w < size || r < size) && now_s () < tend + 2.0)
    {
      ssize_t m;
      if (w < size)
      {
        m = stream_write (&c->s, msg + w, size - w);
        if (m < 0)
          goto bad;
        if (m > 0)
          w += (size_t) m;
      }
      m = stream_read (&c->s, rbuf + r, size - r);
      if (m < 0)
        goto bad;
      if (m > 0)
      {
        r += (size_t) m;
        continue;
      }
      if (0 == stream_pending (&c->s))
      {
        struct pollfd pf = { c->s.fd, POLLIN | (w < size ? POLLOUT : 0), 0 };
        poll (&pf, 1, 100);
      }
    }
    if (r < size || 0 != memcmp (rbuf, msg, size))
      goto bad;
    lat[n++] = (now_s () - ts) * 1e6;
  }
  {
    double el = now_s () - t0;
    if (n > 0)
    {
      qsort (lat, (size_t) n, sizeof (double), cmp_double);
      p50 = lat[n / 2];
      p99 = lat[(size_t) ((double) n * 0.99)];
    }
    printf ("upgraded=1 roundtrips=%ld seconds=%.4f p50_us=%.1f "
            "p99_us=%.1f errors=%lld\n", n, el, p50, p99, errors);
  }
  return 0;
bad:
  printf ("upgraded=1 roundtrips=%ld seconds=%.4f p50_us=0 p99_us=0 "
          "errors=1\n", n, now_s () - t0);
  return 0;
}

/* ---------------------------------------------------------------- */
/* hold                                                               */

static const char hold_req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/* Open (if needed) and run one request on every live connection,
 * at most `batch` connects in flight at once, 30 s at most.
 * Returns the number answered. */
static int
hold_round (struct cl *cs, int conns, int open_new)
{
  struct epoll_event evs[256];
  double tend = now_s () + 30.0;
  int next = 0, pending = 0, finished = 0, answered = 0, i;
  /* at most 64 connects in flight: Debian's 0.9.75 in epoll mode was seen to
   * stall for good when ~256 connections with requests arrive at once */
  const int batch = 64;
  if (! open_new)
  {
    for (i = 0; i < conns; i++)
    {
      if (P_IDLE == cs[i].phase)
      {
        start_req (&cs[i], hold_req);
        cs[i].phase = P_RUNNING;
        watch (&cs[i], EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
        pending++;
      }
      else
        finished++;
    }
    next = conns;
  }
  while (finished < conns && now_s () < tend)
  {
    int n;
    while (open_new && next < conns && pending < batch)
    {
      if (open_conn (&cs[next]) == 0)
      {
        start_req (&cs[next], hold_req);
        cs[next].phase = P_RUNNING;
        pending++;
      }
      else
      {
        errors++;
        finished++;
      }
      next++;
    }
    n = epoll_wait (epfd, evs, 256, 100);
    for (i = 0; i < n; i++)
    {
      struct cl *c = evs[i].data.ptr;
      int r;
      if (P_RUNNING != c->phase)
        continue;
      r = push_req (c);
      if (r < 0)
        goto bad;
      if (0 == r)
        continue;
      for (;;)
      {
        ssize_t m = stream_read (&c->s, rbuf, sizeof (rbuf));
        int d;
        if (IO_AGAIN == m)
        {
          watch (c, EPOLLIN, EPOLL_CTL_MOD);
          break;
        }
        if (m < 0)
          goto bad;
        d = feed_http (c, rbuf, (size_t) m);
        if (d < 0)
          goto bad;
        if (d > 0)
        {
          c->phase = P_IDLE;
          watch (c, 0, EPOLL_CTL_MOD);
          answered++;
          pending--;
          finished++;
          break;
        }
      }
      continue;
bad:
      errors++;
      kill_conn (c);
      pending--;
      finished++;
    }
  }
  return answered;
}

static int
cmd_hold (int conns)
{
  struct cl *cs = calloc ((size_t) conns, sizeof (*cs));
  char line[64];
  struct pollfd pf = { 0, POLLIN, 0 };
  int a1, a2, live = 0, i;
  a1 = hold_round (cs, conns, 1);
  for (i = 0; i < conns; i++)
    if (P_IDLE == cs[i].phase)
      live++;
  printf ("READY connected=%d answered=%d errors=%lld\n", live, a1, errors);
  fflush (stdout);
  if (poll (&pf, 1, 60000) > 0)
    (void) fgets (line, sizeof (line), stdin);
  a2 = hold_round (cs, conns, 0);
  printf ("DONE answered=%d errors=%lld\n", a2, errors);
  fflush (stdout);
  for (i = 0; i < conns; i++)
    if (P_DEAD != cs[i].phase)
      kill_conn (&cs[i]);
  return 0;
}

int
main (int argc, char **argv)
{
  int tls = 0, i;
  size_t size = 64;
  struct rlimit rl;
  const char *cmd;
  int nargs = 0;
  char *args[8];

  for (i = 1; i < argc; i++)
  {
    if (0 == strcmp (argv[i], "--tls"))
      tls = 1;
    else if (0 == strcmp (argv[i], "--size") && i + 1 < argc)
      size = (size_t) atoi (argv[++i]);
    else if (nargs < 8)
      args[nargs++] = argv[i];
  }
  if (nargs < 2)
  {
    fprintf (stderr, "usage: see the comment at the top of loadclient.c\n");
    return 2;
  }
  cmd = args[0];
  port = atoi (args[1]);
  signal (SIGPIPE, SIG_IGN);
  signal (SIGALRM, die_alarm);
  alarm (180);
  if (0 == getrlimit (RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max)
  {
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
  }
  for (i = 0; i < (int) sizeof (pattern); i++)
    pattern[i] = (char) (i % 251);
  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (tls)
  {
#ifdef BENCH_TLS
    ctx = tls_client_init ();
#else
    fprintf (stderr, "built without TLS\n");
    return 2;
#endif
  }
  if (0 == strcmp (cmd, "get") && nargs >= 5)
    return cmd_get (args[2], atoi (args[3]), atof (args[4]));
  if (0 == strcmp (cmd, "upbulk") && nargs >= 4)
    return cmd_upbulk (atoi (args[2]), atof (args[3]));
  if (0 == strcmp (cmd, "uprtt") && nargs >= 3)
    return cmd_uprtt (atof (args[2]), size);
  if (0 == strcmp (cmd, "hold") && nargs >= 3)
    return cmd_hold (atoi (args[2]));
  fprintf (stderr, "bad arguments\n");
  return 2;
}
