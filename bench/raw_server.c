/* raw_server: the ceilings. A minimal single-threaded epoll server, plain or
 * OpenSSL, with no HTTP parsing beyond finding the blank line.
 *
 *   raw_server PORT MODE [--tls CERT KEY] [--size N]
 *   MODE: http  read to the blank line, write a fixed 13-byte reply (close
 *               after it when the request said "Connection: close")
 *         blob  read to the blank line, write an N-byte body from memory
 *               (the raw loopback byte pump)
 *         echo  read to the blank line, answer 101, then echo every byte
 *
 * Prints "READY <port>"; stops on SIGTERM/SIGINT or after an hour.
 */
#include "common.h"
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>

#define INBUF 16384
#define ECHOBUF 65536

static const char reply_ka[] =
  "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\n"
  "Hello, world!";
static const char reply_close[] =
  "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 13\r\n"
  "Content-Type: text/plain\r\n\r\nHello, world!";
static const char reply_101[] =
  "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
  "Upgrade: echo\r\n\r\n";

enum mode { M_HTTP, M_BLOB, M_ECHO };

struct conn
{
  struct stream s;
  char in[ECHOBUF];
  size_t in_len;
  /* pending output: either a pointer into a static reply/blob, or in[] */
  const char *out;
  size_t out_len;
  size_t blob_left; /* blob body bytes still to send */
  int close_after;
  int upgraded;
  int echoing;
  uint32_t events;
};

static volatile sig_atomic_t stop;
static enum mode mode;
static char *blob;
static size_t blob_size;
static char blob_hdr[128];
static size_t blob_hdr_len;
static int epfd;

static void
on_signal (int sig)
{
  (void) sig;
  stop = 1;
}

static void
conn_free (struct conn *c)
{
  epoll_ctl (epfd, EPOLL_CTL_DEL, c->s.fd, NULL);
  stream_close (&c->s);
  free (c);
}

static void
want (struct conn *c, uint32_t ev)
{
  if (ev != c->events)
  {
    struct epoll_event e;
    e.events = ev;
    e.data.ptr = c;
    epoll_ctl (epfd, EPOLL_CTL_MOD, c->s.fd, &e);
    c->events = ev;
  }
}

/* Write what is pending. 1 all done, 0 blocked, -1 closed. */
static int
flush_out (struct conn *c)
{
  for (;;)
  {
    ssize_t n;
    if (0 == c->out_len)
    {
      if (c->blob_left > 0)
      {
        size_t off = blob_size - c->blob_left;
        size_t chunk = c->blob_left;
        if (chunk > 1024 * 1024)
          chunk = 1024 * 1024;
        c->out = blob + off;
        c->out_len = chunk;
        c->blob_left -= chunk;
      }
      else
        return 1;
    }
    n = stream_write (&c->s, c->out, c->out_len);
    if (n == IO_AGAIN)
      return 0;
    if (n < 0)
      return -1;
    c->out += n;
    c->out_len -= (size_t) n;
  }
}

/* Handle complete requests in c->in (HTTP and blob modes, and the
 * upgrade request in echo mode). Returns -1 to close. */
static int
process_requests (struct conn *c)
{
  for (;;)
  {
    size_t end;
    if (c->out_len > 0 || c->blob_left > 0)
      return 0; /* one response in flight at a time */
    end = find_header_end (c->in, c->in_len);
    if (0 == end)
      return c->in_len >= INBUF ? -1 : 0;
    if (M_ECHO == mode)
    {
      c->out = reply_101;
      c->out_len = sizeof (reply_101) - 1;
      c->upgraded = 1;
      /* the bytes after the header are echo data: keep them */
      memmove (c->in, c->in + end, c->in_len - end);
      c->in_len -= end;
      return 0;
    }
    if (M_BLOB == mode)
    {
      c->out = blob_hdr;
      c->out_len = blob_hdr_len;
      c->blob_left = blob_size;
    }
    else
    {
      /* "Connection: close" anywhere in the header (good enough here) */
      c->in[end - 1] = '\0';
      if (NULL != strcasestr (c->in, "\nconnection: close"))
      {
        c->close_after = 1;
        c->out = reply_close;
        c->out_len = sizeof (reply_close) - 1;
      }
      else
      {
        c->out = reply_ka;
        c->out_len = sizeof (reply_ka) - 1;
      }
    }
    memmove (c->in, c->in + end, c->in_len - end);
    c->in_len -= end;
  }
}

static void
on_event (struct conn *c)
{
  int guard;
  for (guard = 0; guard < 64; guard++)
  {
    int progress = 0;
    int f;
    size_t room;
    ssize_t n;
    /* write first: pending output blocks further reading */
    f = flush_out (c);
    if (f < 0)
      goto close;
    if (0 == f)
      break;
    if (c->close_after)
    {
      shutdown (c->s.fd, SHUT_WR);
      goto close;
    }
    if (c->echoing)
    { /* echoed everything that was in in[] */
      c->echoing = 0;
      c->in_len = 0;
    }
    if (c->upgraded && c->in_len > 0)
    {
      c->out = c->in;
      c->out_len = c->in_len;
      c->echoing = 1;
      continue;
    }
    if (! c->upgraded && c->in_len > 0)
    {
      if (process_requests (c) < 0)
        goto close;
      if (c->out_len > 0)
        continue;
    }
    room = (c->upgraded ? ECHOBUF : INBUF) - c->in_len;
    if (0 == room)
      goto close;
    n = stream_read (&c->s, c->in + c->in_len, room);
    if (n < 0)
      goto close;
    if (n > 0)
    {
      c->in_len += (size_t) n;
      progress = 1;
    }
    if (! progress && 0 == stream_pending (&c->s))
      break;
  }
  /* while output is blocked, do not read (and do not spin on EPOLLIN) */
  want (c, (c->out_len > 0 || c->blob_left > 0) ? EPOLLOUT : EPOLLIN);
  return;
close:
  conn_free (c);
}

int
main (int argc, char **argv)
{
  void *ctx = NULL;
  int lfd, port, i;
  struct epoll_event e, evs[256];

  if (argc < 3)
  {
    fprintf (stderr, "usage: %s PORT http|blob|echo [--tls CERT KEY] "
             "[--size N]\n", argv[0]);
    return 2;
  }
  port = atoi (argv[1]);
  if (0 == strcmp (argv[2], "http"))
    mode = M_HTTP;
  else if (0 == strcmp (argv[2], "blob"))
    mode = M_BLOB;
  else if (0 == strcmp (argv[2], "echo"))
    mode = M_ECHO;
  else
    return 2;
  blob_size = 1024 * 1024;
  for (i = 3; i < argc; i++)
  {
    if (0 == strcmp (argv[i], "--tls") && i + 2 < argc)
    {
#ifdef BENCH_TLS
      ctx = tls_server_init (argv[i + 1], argv[i + 2]);
      if (NULL == ctx)
        return 2;
#else
      fprintf (stderr, "built without TLS\n");
      return 2;
#endif
      i += 2;
    }
    else if (0 == strcmp (argv[i], "--size") && i + 1 < argc)
      blob_size = (size_t) strtoull (argv[++i], NULL, 10);
    else
      return 2;
  }
  if (M_BLOB == mode)
  {
    blob = malloc (blob_size ? blob_size : 1);
    if (NULL == blob)
      return 1;
    memset (blob, 'x', blob_size);
    blob_hdr_len = (size_t) snprintf (blob_hdr, sizeof (blob_hdr),
                                      "HTTP/1.1 200 OK\r\nContent-Length: "
                                      "%zu\r\n\r\n", blob_size);
  }
  signal (SIGPIPE, SIG_IGN);
  signal (SIGTERM, on_signal);
  signal (SIGINT, on_signal);
  lfd = listen_loopback (port);
  if (lfd < 0)
  {
    perror ("listen");
    return 1;
  }
  epfd = epoll_create1 (EPOLL_CLOEXEC);
  e.events = EPOLLIN;
  e.data.ptr = NULL;
  epoll_ctl (epfd, EPOLL_CTL_ADD, lfd, &e);
  printf ("READY %d\n", port);
  fflush (stdout);
  alarm (3600);
  while (! stop)
  {
    int n = epoll_wait (epfd, evs, 256, 500);
    for (i = 0; i < n; i++)
    {
      if (NULL == evs[i].data.ptr)
      {
        int k;
        for (k = 0; k < 256; k++)
        {
          struct conn *c;
          int fd = accept4 (lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0)
            break;
          set_nodelay (fd);
          c = malloc (sizeof (*c));
          if (NULL == c)
          {
            close (fd);
            continue;
          }
          c->in_len = 0;
          c->echoing = 0;
          c->out = NULL;
          c->out_len = 0;
          c->blob_left = 0;
          c->close_after = 0;
          c->upgraded = 0;
          stream_init (&c->s, fd, ctx, 1);
          c->events = EPOLLIN;
          e.events = EPOLLIN;
          e.data.ptr = c;
          epoll_ctl (epfd, EPOLL_CTL_ADD, fd, &e);
          on_event (c); /* TLS: start the handshake */
        }
      }
      else
        on_event ((struct conn *) evs[i].data.ptr);
    }
  }
  return 0;
}
