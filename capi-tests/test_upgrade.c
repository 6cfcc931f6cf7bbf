/*
 * capi-tests/test_upgrade.c -- the event-mask HTTP UPGRADE API
 * (shared/design/UPGRADE.md), every rule, in every mode, over HTTP and
 * HTTPS, with raw-socket and OpenSSL clients.
 *
 * The same table runs over plain TCP (test_upgrade) and over TLS
 * (test_upgrade_tls.c includes this file): the handler code is identical
 * and can only tell the two apart through MHD_get_connection_info.
 * UPGRADE_TRANSPORT=http|https|both overrides; UPGRADE_CASES=a,b picks
 * cases by name.
 *
 * Debian's libmicrohttpd has the socket-based upgrade API of 0.9.52+
 * under the same function name, so this program cannot run against it:
 * built against a header without enum MHD_UpgradeEventMask (the Makefile
 * passes -DCAPI_EVENT_MASK_UPGRADE when the header has it), or run as the
 * reference run, it skips (exit 77) and says why.
 *
 * Cases (each one per mode and per transport; see the table at the end):
 *  refusal     MHD_queue_response says NO for a non-101 status, a request
 *              without Upgrade, an HTTP/1.0 request; the handler queues a
 *              403 in the same call; the upgrade handler never runs.
 *  head        the 101 head (status line, Connection: Upgrade exactly once,
 *              or the application's own Connection header, no
 *              Content-Length/Transfer-Encoding); the first call happens
 *              only once the whole head is at the client; pipelined bytes
 *              sent in the same write/record are in the first data_in;
 *              the first call offers >= 4096 bytes of output space; con_cls
 *              identity from the access handler through the completion
 *              callback; request data readable in every call; the TLS info
 *              visible only over HTTPS; EOF -> one final call with
 *              data_in == NULL that may still answer -> CLIENT_ABORT.
 *  partial     partial consumption: leftovers come again first, without new
 *              input, after a call that consumed some; after a call that
 *              consumed none they wait for new bytes; an over-reported
 *              consumption is clamped and logged.
 *  flow        WRITE producer paced by the socket: no call while the output
 *              buffer is full (input arriving meanwhile waits and is offered
 *              once space frees), never a 0-byte output space; 1 MB intact;
 *              TERMINATE after the stream flushes then closes.
 *  end         TERMINATE and CORK alone: the whole output is flushed to a
 *              slow reader, then the connection closes (TLS: close_notify),
 *              the handler is never called again, COMPLETED_OK.
 *  eof         EOF (HTTP half-close; TLS with and without close_notify):
 *              one final call, may write; reset -> final call with no
 *              output space, WITH_ERROR; the stall rule (full input, nothing
 *              consumed, READ only) -> logged, final call, WITH_ERROR.
 *  cork        CORK pushes the output out: with TCP_CORK on the socket, an
 *              answer without CORK is held by the kernel (>= 100 ms), one
 *              with CORK arrives at once (TCP and TLS).
 *  bidi        multi-megabyte streams both ways at once (READ|WRITE), both
 *              directions checked byte by byte, then TERMINATE.
 *  shared      one response object queued on 20 connections, destroyed by
 *              the application while they are live; one handler run per
 *              connection, no mix-up.
 *  many        200 concurrent upgraded connections, each echoing its own
 *              stream, no mix-up; then 200 CLIENT_ABORT completions.
 *  resume      MHD_resume_connection from another thread wakes an idle
 *              upgraded connection (mask READ, EXTERNAL or both) without
 *              MHD_ALLOW_SUSPEND_RESUME; the handler runs on the thread that
 *              serves the connection, never concurrently with itself.
 *  idle        no timeout after the upgrade (a 1 s connection timeout closes
 *              a plain connection, not the upgraded ones); READ is not called
 *              without input; EXTERNAL does not spin.
 *  memory      a 4 KiB MHD_OPTION_CONNECTION_MEMORY_LIMIT still gives 4 KiB
 *              each way: >= 4096 bytes of output space, 4096 unconsumed
 *              input bytes kept and offered together.
 *  block       thread per connection only: a handler that blocks does not
 *              hold up another connection.
 *  extloop     external modes only, the test itself drives MHD: MHD_get_fdset
 *              follows the mask (READ -> read set, pending output -> write
 *              set, EXTERNAL -> no fd), EXTERNAL calls the handler once per
 *              MHD_run, MHD_get_timeout is not 0 because of it, and a resume
 *              from another thread wakes the application's select / epoll
 *              wait (MHD_USE_ITC) so the next MHD_run* calls the handler.
 *  stop        MHD_stop_daemon with live upgraded connections (one of them
 *              with a full output buffer towards a peer that does not read):
 *              returns at once, one final call each with no output space,
 *              DAEMON_SHUTDOWN.
 */
#include "common.h"

#ifndef CAPI_EVENT_MASK_UPGRADE

int
main (void)
{
  printf ("SKIP: test_upgrade needs the event-mask upgrade API "
          "(enum MHD_UpgradeEventMask, design/UPGRADE.md); this "
          "<microhttpd.h> has libmicrohttpd's socket-based API instead\n");
  return TEST_EXIT_SKIP;
}

#else /* CAPI_EVENT_MASK_UPGRADE */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <openssl/ssl.h>
#include <openssl/err.h>

#ifndef CAPI_TLS_DIR
#define CAPI_TLS_DIR "tls"
#endif

#define T_MS 5000           /* bound of every wait */

static int use_tls;
static const char *cur_case = "";
static char *pem_chain, *pem_key;
static char path_ca[512];
static SSL_CTX *cli_ctx;

/* Properties of the current mode (only the fields every version of
 * common.h has). */
static int
mode_external (void)
{
  return TD_INTERNAL != cur_mode->drive;
}

static int
mode_internal (void)
{
  return TD_INTERNAL == cur_mode->drive;
}

static int
mode_tpc (void)
{
  return 0 != (cur_mode->flags & MHD_USE_THREAD_PER_CONNECTION);
}

/* The multi-megabyte and 200-client cases run at full size in a
 * representative subset of modes (MHD_TEST_HEAVY=all: everywhere). */
static int
mode_heavy (void)
{
  static const char *const heavy[] = {
    "select", "epoll", "thread-per-connection", "pool4-poll",
    "external-select", NULL
  };
  const char *e = getenv ("MHD_TEST_HEAVY");
  size_t i;
  if ((NULL != e) && (0 == strcmp (e, "all")))
    return 1;
  if ((NULL != e) && (0 == strcmp (e, "none")))
    return 0;
  for (i = 0; NULL != heavy[i]; i++)
    if (0 == strcmp (heavy[i], cur_mode->name))
      return 1;
  return 0;
}

/* MHD_OPTION_EXTERNAL_LOGGER: counts messages. */
static volatile int log_count;

static void
ulogger (void *cls, const char *fmt, va_list ap)
{
  char msg[512];
  (void) cls;
  vsnprintf (msg, sizeof (msg), fmt, ap);
  ATOMIC_INC (&log_count);
  test_note ("log: %s", msg);
}

/* Client-to-server streams start at big_a + offset, server-to-client at
 * big_b + offset; both are deterministic pseudo-random bytes. */
#define BIG_MAX (8u * 1024 * 1024 + 256 * 1024)
static unsigned char *big_a, *big_b;

static void
fill_pattern (unsigned char *p, size_t n, uint64_t seed)
{
  uint64_t x = seed;
  size_t i;
  for (i = 0; i < n; i++)
  {
    if (0 == (i & 7))
    { /* splitmix64 */
      uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      seed = z ^ (z >> 31);
    }
    p[i] = (unsigned char) (seed >> ((i & 7) * 8));
  }
}

/* Copies n bytes of the server-to-client stream from position pos
 * (wrapping every BIG_WRAP bytes, so producers may run for ever). */
#define BIG_WRAP BIG_MAX
static void
stream_copy (char *dst, size_t pos, size_t n)
{
  while (n > 0)
  {
    size_t at = pos % BIG_WRAP;
    size_t k = BIG_WRAP - at < n ? BIG_WRAP - at : n;
    memcpy (dst, big_b + at, k);
    dst += k;
    pos += k;
    n -= k;
  }
}

/* ------------------------------------------------------------------ */
/* Client: plain TCP or OpenSSL over a non-blocking socket             */
/* ------------------------------------------------------------------ */

struct cli
{
  int fd;
  SSL *ssl;
  struct buf in;        /* received, not yet looked at */
  char head[2048];      /* the response head (after cli_upgrade) */
  int status;
  int eof;              /* orderly end of stream */
  int close_notify;     /* TLS: it came with close_notify */
  int reset;            /* error / reset */
  int want_write;       /* TLS wants the socket writable */
};

static int
set_nonblock (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  return fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

/* Connects (rcvbuf > 0: SO_RCVBUF before connecting, so the window stays
 * small) and, over TLS, completes the handshake.  0 on success. */
static int
cli_connect (struct cli *c, uint16_t port, int rcvbuf)
{
  struct sockaddr_in sa;
  int one = 1;
  memset (c, 0, sizeof (*c));
  buf_init (&c->in);
  c->fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return -1;
  if (rcvbuf > 0)
    setsockopt (c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof (rcvbuf));
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
  memset (&sa, 0, sizeof (sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons (port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (0 != connect (c->fd, (struct sockaddr *) &sa, sizeof (sa)))
  {
    close (c->fd);
    c->fd = -1;
    return -1;
  }
  set_nonblock (c->fd);
  if (use_tls)
  {
    uint64_t end = test_now_ms () + T_MS;
    c->ssl = SSL_new (cli_ctx);
    SSL_set_fd (c->ssl, c->fd);
    SSL_set_tlsext_host_name (c->ssl, "localhost");
    SSL_set_mode (c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE
                  | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    for (;;)
    {
      int r = SSL_connect (c->ssl);
      struct pollfd p;
      if (1 == r)
        break;
      p.fd = c->fd;
      p.revents = 0;
      switch (SSL_get_error (c->ssl, r))
      {
      case SSL_ERROR_WANT_READ:
        p.events = POLLIN;
        break;
      case SSL_ERROR_WANT_WRITE:
        p.events = POLLOUT;
        break;
      default:
        ERR_clear_error ();
        return -1;
      }
      if (test_now_ms () >= end)
        return -1;
      (void) poll (&p, 1, 50);
    }
  }
  return 0;
}

static void
cli_close (struct cli *c)
{
  if (NULL != c->ssl)
    SSL_free (c->ssl);
  c->ssl = NULL;
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  buf_free (&c->in);
}

/* One non-blocking write attempt; returns bytes written (0: would block),
 * -1 on error. */
static ssize_t
cli_try_write (struct cli *c, const void *p, size_t n)
{
  if (0 == n)
    return 0;
  if (NULL == c->ssl)
  {
    ssize_t w = send (c->fd, p, n, MSG_NOSIGNAL);
    if (w >= 0)
      return w;
    if ((EAGAIN == errno) || (EWOULDBLOCK == errno) || (EINTR == errno))
      return 0;
    c->reset = 1;
    return -1;
  }
  else
  {
    int len = (int) (n > 16384 ? 16384 : n);
    int r = SSL_write (c->ssl, p, len);
    c->want_write = 0;
    if (r > 0)
      return r;
    switch (SSL_get_error (c->ssl, r))
    {
    case SSL_ERROR_WANT_WRITE:
      c->want_write = 1;
      return 0;
    case SSL_ERROR_WANT_READ:
      return 0;
    default:
      ERR_clear_error ();
      c->reset = 1;
      return -1;
    }
  }
}

/* Reads what is available into c->in (non-blocking), at most about
 * 128 KiB per call so that a fast producer cannot keep us here. */
static void
cli_try_read (struct cli *c)
{
  char tmp[65536];
  size_t start = c->in.len;
  while (! c->eof && ! c->reset && (c->in.len - start < 128 * 1024))
  {
    if (NULL == c->ssl)
    {
      ssize_t r = recv (c->fd, tmp, sizeof (tmp), 0);
      if (r > 0)
      {
        buf_append (&c->in, tmp, (size_t) r);
        continue;
      }
      if (0 == r)
        c->eof = 1;
      else if ((EAGAIN != errno) && (EWOULDBLOCK != errno) && (EINTR != errno))
        c->reset = 1;
      return;
    }
    else
    {
      int r = SSL_read (c->ssl, tmp, sizeof (tmp));
      unsigned long e;
      if (r > 0)
      {
        buf_append (&c->in, tmp, (size_t) r);
        continue;
      }
      switch (SSL_get_error (c->ssl, r))
      {
      case SSL_ERROR_WANT_READ:
        return;
      case SSL_ERROR_WANT_WRITE:
        c->want_write = 1;
        return;
      case SSL_ERROR_ZERO_RETURN:
        c->eof = 1;
        c->close_notify = 1;
        return;
      case SSL_ERROR_SYSCALL:
        ERR_clear_error ();
        if ((0 == errno) || (0 == r))
          c->eof = 1;
        else
          c->reset = 1;
        return;
      default:
        e = ERR_peek_last_error ();
        ERR_clear_error ();
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
        if (ERR_GET_REASON (e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        {
          c->eof = 1;
          return;
        }
#endif
        (void) e;
        c->reset = 1;
        return;
      }
    }
  }
}

/* Sends out[0..outlen) while reading, until everything is sent and c->in
 * holds at least want bytes.  RAW_OK, RAW_EOF (closed before), RAW_RESET,
 * RAW_TIMEOUT. */
static int
cli_io (struct cli *c, const void *out, size_t outlen, size_t want,
        int timeout_ms)
{
  size_t off = 0;
  uint64_t end = test_now_ms () + (uint64_t) timeout_ms;
  for (;;)
  {
    struct pollfd p;
    uint64_t now;
    while (off < outlen)
    {
      ssize_t w = cli_try_write (c, (const char *) out + off, outlen - off);
      if (w < 0)
        return RAW_RESET;
      if (0 == w)
        break;
      off += (size_t) w;
    }
    cli_try_read (c);
    if ((off == outlen) && (c->in.len >= want))
      return RAW_OK;
    if (c->reset)
      return RAW_RESET;
    if (c->eof && (off == outlen))
      return RAW_EOF;
    now = test_now_ms ();
    if (now >= end)
      return RAW_TIMEOUT;
    p.fd = c->fd;
    p.events = (short) ((c->eof ? 0 : POLLIN)
                        | ((off < outlen) || c->want_write ? POLLOUT : 0));
    p.revents = 0;
    (void) poll (&p, 1, (int) (end - now > 50 ? 50 : end - now));
  }
}

static int
cli_send (struct cli *c, const void *p, size_t n)
{
  return cli_io (c, p, n, 0, T_MS);
}

/* Sends without reading anything (a peer that does not read). */
static int
cli_send_only (struct cli *c, const void *p, size_t n)
{
  size_t off = 0;
  uint64_t end = test_now_ms () + T_MS;
  while (off < n)
  {
    struct pollfd pf;
    ssize_t w = cli_try_write (c, (const char *) p + off, n - off);
    if (w < 0)
      return RAW_RESET;
    off += (size_t) w;
    if (off == n)
      break;
    if (test_now_ms () > end)
      return RAW_TIMEOUT;
    pf.fd = c->fd;
    pf.events = POLLOUT;
    pf.revents = 0;
    (void) poll (&pf, 1, 50);
  }
  return RAW_OK;
}

static int
cli_send_str (struct cli *c, const char *s)
{
  return cli_send (c, s, strlen (s));
}

static int
cli_read_n (struct cli *c, size_t n, int timeout_ms)
{
  return cli_io (c, NULL, 0, n, timeout_ms);
}

/* Reads until the peer closes; RAW_EOF on an orderly close. */
static int
cli_read_close (struct cli *c, int timeout_ms)
{
  return cli_io (c, NULL, 0, SIZE_MAX, timeout_ms);
}

/* Our sending side ends: HTTP: TCP half-close; TLS: close_notify (and the
 * TCP stays open) or, tcp_only, a bare TCP half-close. */
static void
cli_end_sending (struct cli *c, int tcp_only)
{
  if ((NULL != c->ssl) && ! tcp_only)
  {
    (void) SSL_shutdown (c->ssl);
    ERR_clear_error ();
    return;
  }
  shutdown (c->fd, SHUT_WR);
}

/* Abortive close: RST. */
static void
cli_reset (struct cli *c)
{
  struct linger l = { 1, 0 };
  setsockopt (c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof (l));
  cli_close (c);
}

/* Case-insensitive header count and value in c->head. */
static int
head_count (const char *head, const char *name, char *val, size_t vlen)
{
  const char *p = strstr (head, "\r\n");
  size_t nl = strlen (name);
  int n = 0;
  while ((NULL != p) && (0 != strncmp (p, "\r\n\r\n", 4)))
  {
    const char *line = p + 2;
    const char *eol = strstr (line, "\r\n");
    if (NULL == eol)
      break;
    if ((0 == strncasecmp (line, name, nl)) && (':' == line[nl]))
    {
      const char *v = line + nl + 1;
      n++;
      while (' ' == *v)
        v++;
      if (NULL != val)
        snprintf (val, vlen, "%.*s", (int) (eol - v), v);
    }
    p = eol;
  }
  return n;
}

/* ------------------------------------------------------------------ */
/* Server side: one state per connection, found by the id in the URL    */
/* ------------------------------------------------------------------ */

enum beh
{
  B_GEN = 0,   /* echo input, then mail, then produce; mask = next_mask */
  B_SLOW,      /* consume (and echo) at most chunk bytes per call */
  B_RECORD,    /* consume nothing until rec bytes are there */
  B_BIDI,      /* check tin bytes of input, produce tout bytes, TERMINATE */
  B_END,       /* first call: fill the output space, return mask */
  B_STALL,     /* consume nothing, READ only */
  B_PRODUCE,   /* produce tout bytes while counting input, then TERMINATE */
  B_CORK       /* TCP_CORK on the socket; 'a' -> plain answer, 'b' -> CORK */
};

#define UMAGIC 0x55504731u
#define AMAGIC 0x414c5431u
#define MAX_CONN 512

struct uconn;
struct alt
{
  unsigned int magic;
  struct uconn *u;
};

struct uconn
{
  unsigned int magic;
  struct alt alt;           /* what the upgrade handler stores in *con_cls */
  int id;
  enum beh beh;
  char tag[32];
  struct MHD_Connection *conn;
  volatile int fd;
  /* parameters (from the query string) */
  size_t chunk, rec;
  size_t tin, tout;
  size_t in_off, out_off;   /* offsets into big_a / big_b */
  volatile unsigned int next_mask;
  int eof_answer;
  int block;                /* sleep 600 ms on an 's' */
  /* observations */
  volatile int queue_ret;
  volatile int calls;       /* every call, final included */
  volatile int normal_calls;
  volatile int final_calls;
  volatile int calls_after_end;
  volatile int concurrent;
  volatile int in_call;
  volatile int ended;       /* returned a mask without a wake bit */
  pthread_t thr;
  volatile int thr_set;
  volatile int thr_changed;
  pthread_t final_thr;
  size_t first_in;
  char first_data[256];
  size_t first_out;
  size_t min_out;
  volatile int head_at_client;  /* head probe: 1 yes, 0 no, -1 not probed */
  volatile int con_cls_bad;
  volatile int reqdata_bad;
  volatile int tls_info;
  size_t final_in_size, final_out_size;
  volatile size_t in_total, out_total, in_bad;
  volatile int calls_with_input;
  volatile size_t last_in_size;
  volatile uint64_t t_ret_ms;
  volatile int comp_calls;
  volatile int comp_code;
  volatile int comp_saw_alt;
  volatile uint64_t t_last_call;
  pthread_mutex_t mail_lock;
  char mail[256];
  size_t mail_len;
  volatile size_t produce_left;
};

static struct uconn *reg[MAX_CONN];
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int unknown_con_cls;   /* handler/completion got garbage */
static struct cli *volatile head_probe; /* drained in the first call */
static struct MHD_Response *volatile shared_resp;
static volatile int shared_queued;

static struct uconn *
U (int id)
{
  struct uconn *u;
  pthread_mutex_lock (&reg_lock);
  u = ((id >= 0) && (id < MAX_CONN)) ? reg[id] : NULL;
  pthread_mutex_unlock (&reg_lock);
  return u;
}

static void
reg_reset (void)
{
  int i;
  pthread_mutex_lock (&reg_lock);
  for (i = 0; i < MAX_CONN; i++)
  {
    if (NULL != reg[i])
    {
      pthread_mutex_destroy (&reg[i]->mail_lock);
      free (reg[i]);
    }
    reg[i] = NULL;
  }
  pthread_mutex_unlock (&reg_lock);
  ATOMIC_SET (&unknown_con_cls, 0);
  ATOMIC_SET (&log_count, 0);
}

/* The uconn behind *con_cls; *is_alt tells which pointer it was. */
static struct uconn *
from_con_cls (void *p, int *is_alt)
{
  struct alt *a = p;
  struct uconn *u = p;
  *is_alt = 0;
  if (NULL == p)
    return NULL;
  if (AMAGIC == a->magic)
  {
    *is_alt = 1;
    return a->u;
  }
  if (UMAGIC == u->magic)
    return u;
  return NULL;
}

static size_t
qsize (struct MHD_Connection *c, const char *k, size_t dflt)
{
  const char *v = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, k);
  return (NULL == v) ? dflt : (size_t) strtoull (v, NULL, 10);
}

static size_t
min3 (size_t a, size_t b, size_t c)
{
  size_t m = a < b ? a : b;
  return m < c ? m : c;
}

static void
cli_drain (struct cli *c)
{
  cli_try_read (c);
}

static enum MHD_UpgradeEventMask
up_handler (void *cls, struct MHD_Connection *c, void **con_cls,
            size_t *in_size, const char *in, size_t *out_size, char *out)
{
  int is_alt;
  struct uconn *u = from_con_cls (*con_cls, &is_alt);
  unsigned int mask = MHD_UPGRADE_EVENT_READ;
  size_t given_in = *in_size;
  size_t room = *out_size;
  size_t used = 0;
  size_t consumed = 0;
  (void) cls;
  if (NULL == u)
  {
    ATOMIC_INC (&unknown_con_cls);
    *in_size = 0;
    *out_size = 0;
    return MHD_UPGRADE_EVENT_TERMINATE;
  }
  if (1 != ATOMIC_INC (&u->in_call))
    ATOMIC_INC (&u->concurrent);
  if (u->ended || (u->final_calls > 0) || (u->comp_calls > 0))
    ATOMIC_INC (&u->calls_after_end);
  /* con_cls: the access handler's pointer on the first call, ours later */
  if ((0 == u->calls) ? is_alt : ! is_alt)
    ATOMIC_INC (&u->con_cls_bad);
  *con_cls = &u->alt;
  ATOMIC_INC (&u->calls);
  u->t_last_call = test_now_ms ();
  /* the request is still readable */
  {
    const char *t = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "X-Tag");
    const char *id = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND,
                                                  "id");
    if ((NULL == t) || (0 != strcmp (t, u->tag)) || (NULL == id) ||
        (atoi (id) != u->id) || (c != u->conn))
      ATOMIC_INC (&u->reqdata_bad);
  }
  if (NULL == in)
  { /* the final call */
    ATOMIC_INC (&u->final_calls);
    u->final_thr = pthread_self ();
    u->final_in_size = *in_size;
    u->final_out_size = *out_size;
    *in_size = 0;
    if (u->eof_answer && (*out_size >= 3))
    {
      memcpy (out, "BYE", 3);
      *out_size = 3;
    }
    else
      *out_size = 0;
    ATOMIC_SET (&u->in_call, 0);
    /* ignored: the connection ends whatever the handler returns */
    return (enum MHD_UpgradeEventMask) (MHD_UPGRADE_EVENT_READ
                                        | MHD_UPGRADE_EVENT_WRITE);
  }
  if (! u->thr_set)
  {
    u->thr = pthread_self ();
    u->thr_set = 1;
  }
  else if (! pthread_equal (u->thr, pthread_self ()))
    ATOMIC_INC (&u->thr_changed);
  ATOMIC_INC (&u->normal_calls);
  if (room < u->min_out)
    u->min_out = room;
  if (given_in > 0)
    ATOMIC_INC (&u->calls_with_input);
  u->last_in_size = given_in;
  if (1 == u->normal_calls)
  {
    const union MHD_ConnectionInfo *ci;
    u->first_in = given_in;
    memcpy (u->first_data, in, given_in < sizeof (u->first_data)
            ? given_in : sizeof (u->first_data));
    u->first_out = room;
    ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_PROTOCOL);
    u->tls_info = (NULL != ci);
    ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_FD);
    u->fd = (NULL == ci) ? -1 : ci->connect_fd;
    if (NULL != head_probe)
    {
      /* The whole 101 head must already be with the OS.  While this call
       * runs the library sends nothing on this connection, so whatever
       * reaches the client now was handed to the kernel before the call.
       * TCP_NODELAY pushes out what Nagle's algorithm may hold back. */
      struct cli *pc = head_probe;
      int one = 1;
      uint64_t end = test_now_ms () + 500;
      if (u->fd >= 0)
        setsockopt (u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
      for (;;)
      {
        struct pollfd pf;
        cli_drain (pc);
        u->head_at_client =
          (NULL != memmem (pc->in.data ? pc->in.data : "", pc->in.len,
                           "\r\n\r\n", 4));
        if (u->head_at_client || pc->eof || pc->reset ||
            (test_now_ms () > end))
          break;
        pf.fd = pc->fd;
        pf.events = POLLIN;
        pf.revents = 0;
        (void) poll (&pf, 1, 10);
      }
      head_probe = NULL;
    }
  }

  switch (u->beh)
  {
  case B_GEN:
    {
      size_t n = given_in < room ? given_in : room;
      if (u->block && (n > 0) && (NULL != memchr (in, 's', n)))
        usleep (600 * 1000);
      memcpy (out, in, n);
      consumed = n;
      used = n;
      u->in_total += n;
      pthread_mutex_lock (&u->mail_lock);
      if ((u->mail_len > 0) && (u->mail_len <= room - used))
      {
        memcpy (out + used, u->mail, u->mail_len);
        used += u->mail_len;
        u->mail_len = 0;
      }
      pthread_mutex_unlock (&u->mail_lock);
      if (u->produce_left > 0)
      {
        size_t k = u->produce_left < room - used ? u->produce_left
                   : room - used;
        stream_copy (out + used, u->out_off + u->out_total, k);
        used += k;
        u->out_total += k;
        u->produce_left -= k;
      }
      mask = u->next_mask;
      if (u->produce_left > 0)
        mask |= MHD_UPGRADE_EVENT_WRITE;
      break;
    }
  case B_SLOW:
    {
      size_t n = min3 (given_in, room, u->chunk);
      memcpy (out, in, n);
      consumed = used = n;
      mask = MHD_UPGRADE_EVENT_READ;
      break;
    }
  case B_RECORD:
    if (given_in >= u->rec)
    {
      unsigned int sum = 0;
      size_t i;
      for (i = 0; i < u->rec; i++)
        sum = sum * 31 + (unsigned char) in[i];
      used = (size_t) snprintf (out, room, "R%zu:%08x;", u->rec, sum);
      consumed = u->rec;
      if (0 == memcmp (in, "CLAMP", 5))
        consumed = given_in + 100; /* over-reported: clamped and logged */
    }
    mask = MHD_UPGRADE_EVENT_READ;
    break;
  case B_BIDI:
    {
      size_t n = given_in;
      size_t k;
      if (u->in_total + n > u->tin)
        n = u->tin - u->in_total;
      if (0 != memcmp (in, big_a + u->in_off + u->in_total, n))
        u->in_bad++;
      u->in_total += n;
      consumed = given_in; /* anything beyond tin is dropped */
      k = u->tout - u->out_total;
      if (k > room)
        k = room;
      memcpy (out, big_b + u->out_off + u->out_total, k);
      u->out_total += k;
      used = k;
      mask = 0;
      if (u->in_total < u->tin)
        mask |= MHD_UPGRADE_EVENT_READ;
      if (u->out_total < u->tout)
        mask |= MHD_UPGRADE_EVENT_WRITE;
      break;
    }
  case B_END:
    if (1 == u->normal_calls)
    {
      memcpy (out, big_b + u->out_off, room);
      used = room;
      u->out_total = room;
    }
    mask = u->next_mask;
    break;
  case B_STALL:
    mask = MHD_UPGRADE_EVENT_READ;
    break;
  case B_PRODUCE:
    {
      size_t k = u->tout - u->out_total;
      u->in_total += given_in;
      consumed = given_in;
      if (k > room)
        k = room;
      stream_copy (out, u->out_off + u->out_total, k);
      u->out_total += k;
      used = k;
      if (u->out_total < u->tout)
        mask = MHD_UPGRADE_EVENT_READ | MHD_UPGRADE_EVENT_WRITE;
      else if (u->in_total < u->tin)
        mask = MHD_UPGRADE_EVENT_READ;
      else
        mask = MHD_UPGRADE_EVENT_TERMINATE;
      break;
    }
  case B_CORK:
    if (1 == u->normal_calls)
    {
      int one = 1;
      /* hold partial segments in the kernel, as a corking server would */
      if ((u->fd < 0) ||
          (0 != setsockopt (u->fd, IPPROTO_TCP, TCP_CORK, &one, sizeof (one))))
        u->fd = -2;
    }
    mask = MHD_UPGRADE_EVENT_READ;
    consumed = given_in;
    if (given_in > 0)
    {
      if ('b' == in[given_in - 1])
      {
        used = (size_t) snprintf (out, room, "corked answer");
        mask |= MHD_UPGRADE_EVENT_CORK;
      }
      else
        used = (size_t) snprintf (out, room, "plain answer");
    }
    break;
  }
  *in_size = consumed;
  *out_size = used;
  if (0 == (mask & (MHD_UPGRADE_EVENT_READ | MHD_UPGRADE_EVENT_WRITE
                    | MHD_UPGRADE_EVENT_EXTERNAL)))
    u->ended = 1;
  u->t_ret_ms = test_now_ms ();
  ATOMIC_SET (&u->in_call, 0);
  return (enum MHD_UpgradeEventMask) mask;
}

static void
completed (void *cls, struct MHD_Connection *c, void **con_cls,
           enum MHD_RequestTerminationCode code)
{
  int is_alt;
  struct uconn *u = from_con_cls (*con_cls, &is_alt);
  (void) cls;
  (void) c;
  if (NULL == u)
  {
    if (NULL != *con_cls)
      ATOMIC_INC (&unknown_con_cls);
    return;
  }
  u->comp_code = (int) code;
  u->comp_saw_alt = is_alt;
  ATOMIC_INC (&u->comp_calls);
}

static enum MHD_Result
ah (void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size,
    void **con_cls)
{
  struct uconn *u = *con_cls;
  struct MHD_Response *r;
  unsigned int status;
  (void) cls; (void) method; (void) version; (void) upload;
  if (NULL == u)
  {
    int id = (int) qsize (c, "id", MAX_CONN);
    if (id >= MAX_CONN)
      return MHD_NO;
    u = calloc (1, sizeof (*u));
    if (NULL == u)
      return MHD_NO;
    u->magic = UMAGIC;
    u->alt.magic = AMAGIC;
    u->alt.u = u;
    u->id = id;
    u->conn = c;
    u->fd = -1;
    u->min_out = SIZE_MAX;
    u->head_at_client = -1;
    u->queue_ret = -1;
    pthread_mutex_init (&u->mail_lock, NULL);
    snprintf (u->tag, sizeof (u->tag), "tag-%d", id);
    pthread_mutex_lock (&reg_lock);
    if (NULL != reg[id])
    {
      pthread_mutex_unlock (&reg_lock);
      free (u);
      return MHD_NO;
    }
    reg[id] = u;
    pthread_mutex_unlock (&reg_lock);
    *con_cls = u;
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    *upload_size = 0;
    return MHD_YES;
  }
  if (0 == strcmp (url, "/slow"))
    u->beh = B_SLOW;
  else if (0 == strcmp (url, "/record"))
    u->beh = B_RECORD;
  else if (0 == strcmp (url, "/bidi"))
    u->beh = B_BIDI;
  else if (0 == strcmp (url, "/end"))
    u->beh = B_END;
  else if (0 == strcmp (url, "/stall"))
    u->beh = B_STALL;
  else if (0 == strcmp (url, "/produce"))
    u->beh = B_PRODUCE;
  else if (0 == strcmp (url, "/cork"))
    u->beh = B_CORK;
  else
    u->beh = B_GEN;
  u->chunk = qsize (c, "chunk", 1);
  u->rec = qsize (c, "rec", 10);
  u->tin = qsize (c, "tin", 0);
  u->tout = qsize (c, "tout", 0);
  u->in_off = qsize (c, "ioff", 0);
  u->out_off = qsize (c, "ooff", 0);
  u->next_mask = (unsigned int) qsize (c, "mask", MHD_UPGRADE_EVENT_READ);
  u->eof_answer = (int) qsize (c, "eofans", 0);
  u->block = (int) qsize (c, "block", 0);
  u->produce_left = qsize (c, "produce", 0);
  status = (unsigned int) qsize (c, "status", MHD_HTTP_SWITCHING_PROTOCOLS);
  if (qsize (c, "shared", 0))
  {
    r = shared_resp;
    u->queue_ret = MHD_queue_response (c, status, r);
    ATOMIC_INC (&shared_queued);
  }
  else
  {
    r = MHD_create_response_for_upgrade (&up_handler, NULL);
    if (NULL == r)
      return MHD_NO;
    MHD_add_response_header (r, MHD_HTTP_HEADER_UPGRADE, "test-proto");
    if (qsize (c, "conn", 0))
      MHD_add_response_header (r, MHD_HTTP_HEADER_CONNECTION, "upgrade");
    u->queue_ret = MHD_queue_response (c, status, r);
    /* destroyed right after queueing: the connection keeps what it needs */
    MHD_destroy_response (r);
  }
  if (MHD_YES == u->queue_ret)
    return MHD_YES;
  /* refused: the connection is as it was, another response may go out */
  return test_reply (c, MHD_HTTP_FORBIDDEN, "refused");
}

/* ------------------------------------------------------------------ */
/* Daemon and upgrade helpers                                          */
/* ------------------------------------------------------------------ */

struct opts
{
  unsigned int timeout;     /* MHD_OPTION_CONNECTION_TIMEOUT, 0 = none */
  size_t mem_limit;         /* MHD_OPTION_CONNECTION_MEMORY_LIMIT, 0 = default */
};

static int
build_items (struct MHD_OptionItem *it, const struct opts *o)
{
  int n = 0;
  memset (it, 0, sizeof (*it) * 12);
  it[n].option = MHD_OPTION_NOTIFY_COMPLETED;
  it[n].value = (intptr_t) &completed;
  n++;
  it[n].option = MHD_OPTION_EXTERNAL_LOGGER;
  it[n].value = (intptr_t) &ulogger;
  n++;
  it[n].option = MHD_OPTION_CONNECTION_LIMIT;
  it[n].value = 1000;
  n++;
  if (use_tls)
  {
    it[n].option = MHD_OPTION_HTTPS_MEM_CERT;
    it[n].ptr_value = pem_chain;
    n++;
    it[n].option = MHD_OPTION_HTTPS_MEM_KEY;
    it[n].ptr_value = pem_key;
    n++;
  }
  if ((NULL != o) && (0 != o->timeout))
  {
    it[n].option = MHD_OPTION_CONNECTION_TIMEOUT;
    it[n].value = (intptr_t) o->timeout;
    n++;
  }
  if ((NULL != o) && (0 != o->mem_limit))
  {
    it[n].option = MHD_OPTION_CONNECTION_MEMORY_LIMIT;
    it[n].value = (intptr_t) o->mem_limit;
    n++;
  }
  it[n].option = MHD_OPTION_END;
  return n;
}

static struct MHD_OptionItem items[12];

static struct MHD_Daemon *
start (const struct opts *o)
{
  reg_reset ();
  build_items (items, o);
  return START_DAEMON (MHD_USE_ERROR_LOG | (use_tls ? MHD_USE_TLS : 0),
                       &ah, NULL, MHD_OPTION_ARRAY, items, MHD_OPTION_END);
}

/* Connects and sends an upgrade request for path?id=ID&query (with
 * pipelined bytes in the same write / TLS record).  kind: 0 normal,
 * 1 HTTP/1.0, 2 no Upgrade header.  0 on success. */
static int
cli_upgrade_start (struct cli *c, uint16_t port, int rcvbuf, int id,
                   const char *path, const char *query, int kind,
                   const void *pipelined, size_t plen)
{
  char req[1024];
  struct buf all;
  int n;
  int rc;
  if (0 != cli_connect (c, port, rcvbuf))
    return -1;
  n = snprintf (req, sizeof (req),
                "GET %s?id=%d%s%s HTTP/1.%d\r\nHost: localhost\r\n%s"
                "X-Tag: tag-%d\r\n\r\n",
                path, id, (NULL != query) ? "&" : "",
                (NULL != query) ? query : "", (1 == kind) ? 0 : 1,
                (2 == kind) ? "" : "Connection: Upgrade\r\nUpgrade: test-proto\r\n",
                id);
  buf_init (&all);
  buf_append (&all, req, (size_t) n);
  if (plen > 0)
    buf_append (&all, pipelined, plen);
  /* one write (one TLS record): the request and the pipelined bytes */
  rc = (NULL != head_probe) ? cli_send_only (c, all.data, all.len)
       : cli_send (c, all.data, all.len);
  buf_free (&all);
  return (RAW_OK == rc) ? 0 : -1;
}

/* If c->in holds a whole response head: moves it to c->head, sets
 * c->status and returns 1. */
static int
cli_take_head (struct cli *c)
{
  char *e = memmem (c->in.data ? c->in.data : "", c->in.len, "\r\n\r\n", 4);
  int n;
  if (NULL == e)
    return 0;
  n = (int) (e + 4 - c->in.data);
  snprintf (c->head, sizeof (c->head), "%.*s", n, c->in.data);
  buf_consume (&c->in, (size_t) n);
  c->status = -1;
  if (0 == strncmp (c->head, "HTTP/1.", 7))
    c->status = atoi (c->head + 9);
  return 1;
}

/* Reads the response head; returns the status, -1 on failure. */
static int
cli_upgrade_finish (struct cli *c, int id)
{
  uint64_t end = test_now_ms () + T_MS;
  if (NULL != head_probe)
  {
    /* the first call drains the client socket: keep off it until that
     * call's probe is over (it clears head_probe; `calls` counts the call
     * as soon as it starts, before the probe has read anything) */
    (void) id;
    while (NULL != head_probe)
    {
      if (test_now_ms () > end)
        return -1;
      test_sleep_ms (1);
    }
  }
  for (;;)
  {
    if (cli_take_head (c))
      return c->status;
    if ((test_now_ms () > end) || c->eof || c->reset)
      return -1;
    (void) cli_read_n (c, c->in.len + 1, 100);
  }
}

static int
cli_upgrade_ex (struct cli *c, uint16_t port, int rcvbuf, int id,
                const char *path, const char *query, int kind,
                const void *pipelined, size_t plen)
{
  if (0 != cli_upgrade_start (c, port, rcvbuf, id, path, query, kind,
                              pipelined, plen))
    return -1;
  return cli_upgrade_finish (c, id);
}

/* Upgrades n clients at once (requests first, then all the heads), so
 * per-connection latencies overlap.  Returns how many got a 101. */
static int
upgrade_all (struct cli *cs, int n, uint16_t port, const char *path,
             const char *query, const int *ids)
{
  struct pollfd *p = calloc ((size_t) n, sizeof (*p));
  uint64_t end = test_now_ms () + 2 * T_MS;
  int ok = 0, done = 0;
  int i;
  for (i = 0; i < n; i++)
  {
    cs[i].status = 0;
    if (0 != cli_upgrade_start (&cs[i], port, 0, ids[i], path, query, 0,
                                NULL, 0))
    {
      cs[i].status = -1;
      CHECK_MSG (0, "client %d: connect/request failed", ids[i]);
    }
  }
  while (done < n && test_now_ms () < end)
  {
    done = 0;
    for (i = 0; i < n; i++)
    {
      p[i].fd = -1;
      if (0 != cs[i].status)
      {
        done++;
        continue;
      }
      cli_try_read (&cs[i]);
      if (cli_take_head (&cs[i]))
      {
        done++;
        continue;
      }
      if (cs[i].eof || cs[i].reset)
      {
        cs[i].status = -1;
        done++;
        continue;
      }
      p[i].fd = cs[i].fd;
      p[i].events = POLLIN;
      p[i].revents = 0;
    }
    if (done < n)
      (void) poll (p, (nfds_t) n, 20);
  }
  for (i = 0; i < n; i++)
    if (101 == cs[i].status)
      ok++;
  free (p);
  return ok;
}

static int
cli_upgrade (struct cli *c, uint16_t port, int id, const char *path,
             const char *query)
{
  return cli_upgrade_ex (c, port, 0, id, path, query, 0, NULL, 0);
}

static int
wait_cond (int (*f)(void *), void *arg, int ms)
{
  return test_wait_pred (f, arg, ms);
}

static int
pred_comp (void *arg)
{
  struct uconn *u = arg;
  return ATOMIC_GET (&u->comp_calls) > 0;
}

/* Waits for the completion callback of u. */
static int
wait_done (struct uconn *u)
{
  return (NULL != u) && wait_cond (pred_comp, u, T_MS);
}

/* Checks that apply to every connection that was upgraded. */
static void
check_common (struct uconn *u, const char *what)
{
  CHECK_MSG (NULL != u, "%s: no connection state", what);
  if (NULL == u)
    return;
  CHECK_MSG (0 == u->concurrent, "%s: handler ran concurrently with itself",
             what);
  CHECK_MSG (0 == u->calls_after_end,
             "%s: handler called after its last call (%d times)", what,
             u->calls_after_end);
  CHECK_MSG (0 == u->con_cls_bad, "%s: con_cls storage not kept (%d)", what,
             u->con_cls_bad);
  CHECK_MSG (0 == u->reqdata_bad,
             "%s: request data not readable in the handler (%d)", what,
             u->reqdata_bad);
  CHECK_MSG (0 == u->thr_changed,
             "%s: handler called from %d other thread(s)", what,
             u->thr_changed);
  CHECK_MSG ((SIZE_MAX == u->min_out) || (u->min_out > 0),
             "%s: a normal call offered no output space", what);
  CHECK_MSG (u->comp_calls <= 1, "%s: %d completion calls", what,
             u->comp_calls);
  if (u->comp_calls > 0)
    CHECK_MSG (u->comp_saw_alt,
               "%s: completion did not see the handler's con_cls", what);
  CHECK_MSG (u->final_calls <= 1, "%s: %d final calls", what,
             u->final_calls);
  if (u->final_calls > 0)
    CHECK_MSG (0 == u->final_in_size, "%s: final call with data_in_size %zu",
               what, u->final_in_size);
  CHECK_MSG (use_tls == u->tls_info,
             "%s: MHD_CONNECTION_INFO_PROTOCOL %s over %s", what,
             u->tls_info ? "set" : "NULL", use_tls ? "HTTPS" : "HTTP");
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

static void
case_refusal (void)
{
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  static const struct
  {
    const char *query;
    int kind;
    const char *why;
  } rows[] = {
    { "status=200", 0, "status 200" },
    { "status=426", 0, "status 426" },
    { NULL, 1, "HTTP/1.0 request" },
    { NULL, 2, "no Upgrade header" },
  };
  size_t i;
  for (i = 0; i < sizeof (rows) / sizeof (rows[0]); i++)
  {
    struct cli c;
    int st = cli_upgrade_ex (&c, port, 0, (int) i, "/echo", rows[i].query,
                             rows[i].kind, NULL, 0);
    struct uconn *u = U ((int) i);
    CHECK_MSG (403 == st, "%s: status %d, expected the handler's 403",
               rows[i].why, st);
    CHECK_MSG ((NULL != u) && (MHD_NO == u->queue_ret),
               "%s: MHD_queue_response did not refuse", rows[i].why);
    cli_close (&c);
    if (wait_done (u))
    {
      CHECK_MSG (0 == u->calls, "%s: upgrade handler called", rows[i].why);
      CHECK_MSG (MHD_REQUEST_TERMINATED_COMPLETED_OK == u->comp_code,
                 "%s: completion code %d", rows[i].why, u->comp_code);
    }
    else
      CHECK_MSG (0, "%s: no completion", rows[i].why);
  }
  test_stop_daemon (d);
}

static void
case_head (void)
{
  static const char pipelined[] = "PIPELINED:hello-after-the-head";
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  struct cli c;
  struct uconn *u;
  char v[256];
  int st;
  int rc;
  /* 1: library's Connection header, pipelined bytes, head probe, EOF */
  head_probe = &c;
  st = cli_upgrade_ex (&c, port, 0, 1, "/echo", "eofans=1", 0,
                       pipelined, sizeof (pipelined) - 1);
  head_probe = NULL;
  u = U (1);
  CHECK_INT (101, st);
  CHECK (0 == strncmp (c.head, "HTTP/1.1 101 Switching Protocols\r\n", 34));
  CHECK_INT (1, head_count (c.head, "Connection", v, sizeof (v)));
  CHECK (0 == strcasecmp (v, "Upgrade"));
  CHECK_INT (1, head_count (c.head, "Upgrade", v, sizeof (v)));
  CHECK_STR ("test-proto", v);
  CHECK_INT (0, head_count (c.head, "Content-Length", NULL, 0));
  CHECK_INT (0, head_count (c.head, "Transfer-Encoding", NULL, 0));
  if (NULL != u)
  {
    CHECK_MSG (1 == u->head_at_client,
               "first call before the whole 101 head reached the client");
    CHECK_MSG ((u->first_in == sizeof (pipelined) - 1) &&
               (0 == memcmp (u->first_data, pipelined, u->first_in)),
               "first call: pipelined bytes not in data_in (%zu bytes)",
               u->first_in);
    CHECK_MSG (u->first_out >= 4096, "first call offered %zu output bytes",
               u->first_out);
  }
  /* the echo of the pipelined bytes, then a round trip */
  rc = cli_read_n (&c, sizeof (pipelined) - 1, T_MS);
  CHECK_MSG (RAW_OK == rc, "pipelined echo: %s", raw_rc_name (rc));
  CHECK_MEM (pipelined, sizeof (pipelined) - 1, c.in.data, c.in.len);
  buf_consume (&c.in, c.in.len);
  cli_send_str (&c, "ping");
  CHECK_INT (RAW_OK, cli_read_n (&c, 4, T_MS));
  CHECK_MEM ("ping", 4, c.in.data, c.in.len);
  buf_consume (&c.in, c.in.len);
  /* EOF: one final call that may still answer; then the close */
  cli_end_sending (&c, 0);
  rc = cli_read_close (&c, T_MS);
  CHECK_MSG (RAW_EOF == rc, "after EOF: %s", raw_rc_name (rc));
  CHECK_MEM ("BYE", 3, c.in.data, c.in.len);
  if (use_tls)
    CHECK_MSG (c.close_notify, "no close_notify after the final answer");
  cli_close (&c);
  if (wait_done (u))
  {
    check_common (u, "head");
    CHECK_INT (1, u->final_calls);
    CHECK_MSG (u->final_out_size > 0,
               "final call after EOF offered no output space");
    CHECK_INT (MHD_REQUEST_TERMINATED_CLIENT_ABORT, u->comp_code);
  }
  else
    CHECK_MSG (0, "head: no completion");

  /* 2: the application's own Connection header goes out alone */
  st = cli_upgrade (&c, port, 2, "/echo", "conn=1");
  CHECK_INT (101, st);
  CHECK_INT (1, head_count (c.head, "Connection", v, sizeof (v)));
  CHECK_STR ("upgrade", v);
  cli_close (&c);
  if (wait_done (U (2)))
    check_common (U (2), "head/conn");
  test_stop_daemon (d);
}

static void
case_partial (void)
{
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  struct cli c;
  struct uconn *u;
  int calls;
  char exp[64];
  unsigned int sum;
  size_t i;
  /* consumed some: the rest comes again at once, without new input */
  CHECK_INT (101, cli_upgrade (&c, port, 1, "/slow", "chunk=7"));
  CHECK_INT (RAW_OK, cli_send (&c, big_a, 1000));
  CHECK_INT (RAW_OK, cli_read_n (&c, 1000, T_MS));
  CHECK_MEM (big_a, 1000, c.in.data, c.in.len);
  u = U (1);
  if (NULL != u)
    CHECK_MSG (u->normal_calls >= 1 + 1000 / 7,
               "slow consumer called only %d times", u->normal_calls);
  cli_close (&c);
  if (wait_done (u))
    check_common (u, "partial/slow");

  /* consumed none: the rest waits for new bytes */
  CHECK_INT (101, cli_upgrade (&c, port, 2, "/record", "rec=10"));
  u = U (2);
  CHECK_INT (RAW_OK, cli_send (&c, "012", 3));
  {
    uint64_t end = test_now_ms () + T_MS;
    while ((NULL != u) && (ATOMIC_GET (&u->calls_with_input) < 1) &&
           (test_now_ms () < end))
      test_sleep_ms (1);
  }
  calls = (NULL != u) ? ATOMIC_GET (&u->calls) : 0;
  test_sleep_ms (150);
  if (NULL != u)
  {
    CHECK_MSG (calls == ATOMIC_GET (&u->calls),
               "leftover offered again without new bytes (%d -> %d calls)",
               calls, u->calls);
    CHECK_INT (3, u->last_in_size);
  }
  CHECK_INT (RAW_OK, cli_send (&c, "3456789", 7));
  for (sum = 0, i = 0; i < 10; i++)
    sum = sum * 31 + (unsigned char) "0123456789"[i];
  snprintf (exp, sizeof (exp), "R10:%08x;", sum);
  CHECK_INT (RAW_OK, cli_read_n (&c, strlen (exp), T_MS));
  CHECK_MEM (exp, strlen (exp), c.in.data, c.in.len);
  buf_consume (&c.in, c.in.len);
  if (NULL != u)
    CHECK_MSG (10 == u->last_in_size || 0 == u->last_in_size,
               "record call got %zu bytes", u->last_in_size);

  /* an over-reported consumption is clamped (and logged) */
  CHECK_INT (RAW_OK, cli_send (&c, "CLAMP56789", 10));
  for (sum = 0, i = 0; i < 10; i++)
    sum = sum * 31 + (unsigned char) "CLAMP56789"[i];
  snprintf (exp, sizeof (exp), "R10:%08x;", sum);
  CHECK_INT (RAW_OK, cli_read_n (&c, strlen (exp), T_MS));
  CHECK_MEM (exp, strlen (exp), c.in.data, c.in.len);
  buf_consume (&c.in, c.in.len);
  CHECK_MSG (ATOMIC_GET (&log_count) > 0,
             "over-reported consumption not logged");
  /* and the stream continues intact */
  CHECK_INT (RAW_OK, cli_send (&c, "abcdefghij", 10));
  for (sum = 0, i = 0; i < 10; i++)
    sum = sum * 31 + (unsigned char) "abcdefghij"[i];
  snprintf (exp, sizeof (exp), "R10:%08x;", sum);
  CHECK_INT (RAW_OK, cli_read_n (&c, strlen (exp), T_MS));
  CHECK_MEM (exp, strlen (exp), c.in.data, c.in.len);
  cli_close (&c);
  if (wait_done (u))
    check_common (u, "partial/record");
  test_stop_daemon (d);
}

static int
pred_calls_settle (void *arg)
{
  /* calls unchanged for 200 ms */
  struct uconn *u = arg;
  int a = ATOMIC_GET (&u->calls);
  test_sleep_ms (200);
  return a == ATOMIC_GET (&u->calls);
}

static void
case_flow (void)
{
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  struct cli c;
  struct uconn *u;
  /* more than the kernel's socket buffers take (tcp_wmem max: 4 MB) */
  const size_t total = 8u * 1024 * 1024;
  char q[128];
  int calls;
  int rc;
  snprintf (q, sizeof (q), "tout=%zu&tin=4&ooff=3", total);
  CHECK_INT (101, cli_upgrade_ex (&c, port, 4096, 1, "/produce", q, 0,
                                  NULL, 0));
  u = U (1);
  if (NULL == u)
  {
    cli_close (&c);
    test_stop_daemon (d);
    return;
  }
  /* the client does not read: the producer stops being called */
  CHECK_MSG (test_wait_pred (pred_calls_settle, u, T_MS),
             "WRITE producer kept being called with nobody reading");
  test_note ("flow: producer stopped after %zu bytes", u->out_total);
  CHECK_MSG (u->out_total < total, "all %zu bytes produced at once",
             u->out_total);
  calls = ATOMIC_GET (&u->calls);
  /* input arriving while the output buffer is full waits */
  CHECK_INT (RAW_OK, cli_send_only (&c, "wxyz", 4));
  test_sleep_ms (150);
  CHECK_MSG (calls == ATOMIC_GET (&u->calls),
             "handler called while its output buffer was full (%d -> %d)",
             calls, u->calls);
  CHECK_INT (0, u->in_total);
  /* read everything: the producer resumes, the input is offered, then
   * TERMINATE flushes and closes */
  rc = cli_read_close (&c, 3 * T_MS);
  CHECK_MSG (RAW_EOF == rc, "stream end: %s", raw_rc_name (rc));
  CHECK_MEM (big_b + 3, total, c.in.data, c.in.len);
  if (use_tls)
    CHECK_MSG (c.close_notify, "no close_notify after TERMINATE");
  cli_close (&c);
  if (wait_done (u))
  {
    check_common (u, "flow");
    CHECK_INT (4, u->in_total);
    CHECK_INT (0, u->final_calls);
    CHECK_INT (MHD_REQUEST_TERMINATED_COMPLETED_OK, u->comp_code);
  }
  else
    CHECK_MSG (0, "flow: no completion");
  test_stop_daemon (d);
}

static void
case_end (void)
{
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  int k;
  for (k = 0; k < 2; k++)
  {
    /* k = 0: TERMINATE (0); k = 1: CORK alone (8) */
    struct cli c;
    struct uconn *u;
    char q[64];
    int rc;
    snprintf (q, sizeof (q), "mask=%d&ooff=%d", k ? 8 : 0, 100 + k);
    CHECK_INT (101, cli_upgrade_ex (&c, port, 4096, k, "/end", q, 0, NULL,
                                    0));
    u = U (k);
    /* a slow reader: the output waits in our buffer meanwhile */
    test_sleep_ms (100);
    rc = cli_read_close (&c, T_MS);
    CHECK_MSG (RAW_EOF == rc, "%s: %s", k ? "CORK" : "TERMINATE",
               raw_rc_name (rc));
    if (NULL != u)
    {
      CHECK_MSG (c.in.len == u->out_total,
                 "%s: %zu of %zu bytes arrived", k ? "CORK" : "TERMINATE",
                 c.in.len, u->out_total);
      CHECK_MEM (big_b + 100 + k, u->out_total, c.in.data, c.in.len);
    }
    if (use_tls)
      CHECK_MSG (c.close_notify, "%s: no close_notify",
                 k ? "CORK" : "TERMINATE");
    cli_close (&c);
    if (wait_done (u))
    {
      check_common (u, k ? "end/cork" : "end/terminate");
      CHECK_INT (1, u->calls);
      CHECK_INT (0, u->final_calls);
      CHECK_INT (MHD_REQUEST_TERMINATED_COMPLETED_OK, u->comp_code);
    }
    else
      CHECK_MSG (0, "end: no completion");
  }
  test_stop_daemon (d);
}

static void
case_eof (void)
{
  struct opts o = { 0, 0 };
  struct MHD_Daemon *d = start (&o);
  uint16_t port = test_daemon_port (d);
  struct cli c;
  struct uconn *u;
  int rc;
  int k;
  /* EOF (TLS: k=0 close_notify, k=1 a bare TCP half-close) */
  for (k = 0; k < (use_tls ? 2 : 1); k++)
  {
    CHECK_INT (101, cli_upgrade (&c, port, 1 + k, "/echo", "eofans=1"));
    u = U (1 + k);
    cli_end_sending (&c, k);
    rc = cli_read_close (&c, T_MS);
    CHECK_MSG (RAW_EOF == rc, "EOF%s: %s", k ? " without close_notify" : "",
               raw_rc_name (rc));
    CHECK_MEM ("BYE", 3, c.in.data, c.in.len);
    cli_close (&c);
    if (wait_done (u))
    {
      check_common (u, "eof");
      CHECK_INT (1, u->final_calls);
      CHECK_MSG (u->final_out_size > 0, "final call after EOF%s: no space",
                 k ? " without close_notify" : "");
      CHECK_MSG (MHD_REQUEST_TERMINATED_CLIENT_ABORT == u->comp_code,
                 "EOF%s: completion code %d, expected CLIENT_ABORT",
                 k ? " without close_notify" : "", u->comp_code);
    }
    else
      CHECK_MSG (0, "eof: no completion");
  }
  /* reset */
  CHECK_INT (101, cli_upgrade (&c, port, 3, "/echo", "eofans=1"));
  u = U (3);
  cli_send_str (&c, "x");
  cli_read_n (&c, 1, T_MS);
  cli_reset (&c);
  if (wait_done (u))
  {
    check_common (u, "reset");
    CHECK_INT (1, u->final_calls);
    CHECK_MSG (0 == u->final_out_size,
               "final call after an error offered %zu output bytes",
               u->final_out_size);
    CHECK_MSG (MHD_REQUEST_TERMINATED_WITH_ERROR == u->comp_code,
               "reset: completion code %d, expected WITH_ERROR",
               u->comp_code);
  }
  else
    CHECK_MSG (0, "reset: no completion");
  /* the stall: input full, nothing consumed, READ only */
  ATOMIC_SET (&log_count, 0);
  CHECK_INT (101, cli_upgrade (&c, port, 4, "/stall", NULL));
  u = U (4);
  (void) cli_send (&c, big_a, 256 * 1024);
  rc = cli_read_close (&c, T_MS);
  CHECK_MSG ((RAW_EOF == rc) || (RAW_RESET == rc), "stall: %s",
             raw_rc_name (rc));
  cli_close (&c);
  if (wait_done (u))
  {
    check_common (u, "stall");
    CHECK_INT (1, u->final_calls);
    CHECK_INT (0, u->final_out_size);
    CHECK_INT (MHD_REQUEST_TERMINATED_WITH_ERROR, u->comp_code);
    CHECK_MSG (ATOMIC_GET (&log_count) > 0, "stall not logged");
  }
  else
    CHECK_MSG (0, "stall: no completion");
  test_stop_daemon (d);
}

static void
case_cork (void)
{
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  struct cli c;
  struct uconn *u;
  uint64_t t0;
  int rc;
  CHECK_INT (101, cli_upgrade (&c, port, 1, "/cork", NULL));
  u = U (1);
  if (NULL != u)
  {
    (void) test_wait_ge (&u->normal_calls, 1, T_MS);
    /* the first call counts itself before it records the socket and
       corks it */
    (void) test_wait_ge (&u->fd, 0, T_MS);
  }
  if ((NULL == u) || (u->fd < 0))
  {
    CHECK_MSG (0, "cork: no socket to cork (fd %d)", u ? u->fd : -1);
    cli_close (&c);
    test_stop_daemon (d);
    return;
  }
  /* without CORK the kernel holds the small answer (TCP_CORK: 200 ms) */
  t0 = test_now_ms ();
  cli_send_str (&c, "a");
  rc = cli_read_n (&c, 12, 100);
  CHECK_MSG (RAW_TIMEOUT == rc,
             "control: the answer without CORK was not held back (%s)",
             raw_rc_name (rc));
  CHECK_INT (RAW_OK, cli_read_n (&c, 12, T_MS));
  CHECK_MEM ("plain answer", 12, c.in.data, c.in.len);
  buf_consume (&c.in, c.in.len);
  test_note ("answer without CORK after %llu ms",
             (unsigned long long) (test_now_ms () - t0));
  /* with CORK it is pushed out at once */
  cli_send_str (&c, "b");
  rc = cli_read_n (&c, 13, T_MS);
  CHECK_INT (RAW_OK, rc);
  CHECK_MEM ("corked answer", 13, c.in.data, c.in.len);
  {
    uint64_t lag = test_now_ms () - u->t_ret_ms;
    test_note ("answer with CORK %llu ms after the handler returned",
               (unsigned long long) lag);
    CHECK_MSG (lag < 180, "CORK did not push the answer out (%llu ms)",
               (unsigned long long) lag);
  }
  cli_close (&c);
  if (wait_done (u))
    check_common (u, "cork");
  test_stop_daemon (d);
}

static void
case_bidi (void)
{
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  size_t total = mode_heavy () ? 8u * 1024 * 1024 : 2u * 1024 * 1024;
  struct cli c;
  struct uconn *u;
  char q[128];
  size_t sent = 0, got = 0;
  int bad = 0;
  uint64_t end = test_now_ms () + 6 * T_MS;
  snprintf (q, sizeof (q), "tin=%zu&tout=%zu&ioff=11&ooff=13", total, total);
  CHECK_INT (101, cli_upgrade (&c, port, 1, "/bidi", q));
  u = U (1);
  while ((got < total || ! c.eof) && ! c.reset && test_now_ms () < end)
  {
    struct pollfd p;
    if (sent < total)
    {
      ssize_t w = cli_try_write (&c, big_a + 11 + sent, total - sent);
      if (w > 0)
        sent += (size_t) w;
    }
    cli_try_read (&c);
    if (c.in.len > 0)
    {
      size_t n = c.in.len;
      if (got + n > total)
      {
        bad = 1;
        n = total - got;
      }
      if (0 != memcmp (c.in.data, big_b + 13 + got, n))
        bad = 1;
      got += n;
      buf_consume (&c.in, c.in.len);
    }
    if (c.eof)
      break;
    p.fd = c.fd;
    p.events = (short) (POLLIN | ((sent < total || c.want_write) ? POLLOUT : 0));
    p.revents = 0;
    (void) poll (&p, 1, 50);
  }
  CHECK_MSG (sent == total, "sent %zu of %zu", sent, total);
  CHECK_MSG (got == total, "received %zu of %zu", got, total);
  CHECK_MSG (! bad, "server-to-client stream corrupted");
  CHECK_MSG (c.eof, "no close after TERMINATE");
  if (use_tls)
    CHECK_MSG (c.close_notify, "no close_notify after TERMINATE");
  cli_close (&c);
  if (wait_done (u))
  {
    check_common (u, "bidi");
    CHECK_INT (total, u->in_total);
    CHECK_INT (0, u->in_bad);
    CHECK_INT (MHD_REQUEST_TERMINATED_COMPLETED_OK, u->comp_code);
  }
  else
    CHECK_MSG (0, "bidi: no completion");
  test_stop_daemon (d);
}

/* Many clients echoing their own streams at once (poll over all). */
static void
pump_echo (struct cli *cs, int n, size_t each, const int *ids)
{
  size_t *sent = calloc ((size_t) n, sizeof (size_t));
  size_t *got = calloc ((size_t) n, sizeof (size_t));
  struct pollfd *p = calloc ((size_t) n, sizeof (*p));
  int *bad = calloc ((size_t) n, sizeof (int));
  uint64_t end = test_now_ms () + 8 * T_MS;
  int done = 0;
  int i;
  while (done < n && test_now_ms () < end)
  {
    done = 0;
    for (i = 0; i < n; i++)
    {
      struct cli *c = &cs[i];
      const unsigned char *src = big_a + (size_t) ids[i] * 4099;
      if (c->reset || c->eof || (got[i] == each))
      {
        done++;
        p[i].fd = -1;
        continue;
      }
      if (sent[i] < each)
      {
        ssize_t w = cli_try_write (c, src + sent[i], each - sent[i]);
        if (w > 0)
          sent[i] += (size_t) w;
      }
      cli_try_read (c);
      if (c->in.len > 0)
      {
        size_t k = c->in.len;
        if (got[i] + k > each)
        {
          bad[i] = 1;
          k = each - got[i];
        }
        if (0 != memcmp (c->in.data, src + got[i], k))
          bad[i] = 1;
        got[i] += k;
        buf_consume (&c->in, c->in.len);
      }
      p[i].fd = c->fd;
      p[i].events = (short) (POLLIN | ((sent[i] < each || c->want_write)
                                       ? POLLOUT : 0));
      p[i].revents = 0;
    }
    if (done < n)
      (void) poll (p, (nfds_t) n, 20);
  }
  for (i = 0; i < n; i++)
  {
    CHECK_MSG (got[i] == each && ! bad[i],
               "client %d: %zu/%zu bytes echoed, %s", ids[i], got[i], each,
               bad[i] ? "MIXED UP / corrupted" : "intact");
    if (test_failures > 20)
      break;
  }
  free (sent);
  free (got);
  free (p);
  free (bad);
}

static void
case_shared (void)
{
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  struct cli cs[20];
  int ids[20];
  int i;
  shared_resp = MHD_create_response_for_upgrade (&up_handler, NULL);
  SETUP_CHECK (NULL != shared_resp);
  MHD_add_response_header (shared_resp, MHD_HTTP_HEADER_UPGRADE,
                           "test-proto");
  ATOMIC_SET (&shared_queued, 0);
  for (i = 0; i < 20; i++)
    ids[i] = i;
  CHECK_INT (20, upgrade_all (cs, 20, port, "/echo", "shared=1", ids));
  /* destroyed by the application while the connections are live */
  MHD_destroy_response (shared_resp);
  shared_resp = NULL;
  CHECK_INT (20, ATOMIC_GET (&shared_queued));
  pump_echo (cs, 20, 100 * 1024, ids);
  for (i = 0; i < 20; i++)
    cli_close (&cs[i]);
  for (i = 0; i < 20; i++)
  {
    struct uconn *u = U (i);
    if (wait_done (u))
    {
      check_common (u, "shared");
      CHECK_MSG (u->normal_calls >= 1, "shared: handler not run on %d", i);
      CHECK_INT (100 * 1024, u->in_total);
    }
    else
      CHECK_MSG (0, "shared: connection %d did not complete", i);
  }
  test_stop_daemon (d);
}

static void
case_many (void)
{
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  int n = 200;
  size_t each = mode_heavy () ? 64 * 1024 : 16 * 1024;
  struct cli *cs = calloc ((size_t) n, sizeof (*cs));
  int *ids = calloc ((size_t) n, sizeof (int));
  int ok = 0;
  int i;
  for (i = 0; i < n; i++)
    ids[i] = i;
  ok = upgrade_all (cs, n, port, "/echo", NULL, ids);
  CHECK_INT (n, ok);
  if (ok == n)
    pump_echo (cs, n, each, ids);
  for (i = 0; i < n; i++)
    cli_close (&cs[i]);
  for (i = 0; i < n; i++)
  {
    struct uconn *u = U (i);
    if (wait_done (u))
    {
      check_common (u, "many");
      CHECK_INT (MHD_REQUEST_TERMINATED_CLIENT_ABORT, u->comp_code);
    }
    else
      CHECK_MSG (0, "many: connection %d did not complete", i);
    if (test_failures > 20)
      break;
  }
  test_stop_daemon (d);
  free (cs);
  free (ids);
}

struct resumer
{
  struct uconn *u;
  const char *msg;
  int delay_ms;
  pthread_t self;
};

static void *
resumer_main (void *arg)
{
  struct resumer *r = arg;
  test_sleep_ms (r->delay_ms);
  pthread_mutex_lock (&r->u->mail_lock);
  r->u->mail_len = strlen (r->msg);
  memcpy (r->u->mail, r->msg, r->u->mail_len);
  pthread_mutex_unlock (&r->u->mail_lock);
  MHD_resume_connection (r->u->conn);
  return NULL;
}

static void
case_resume (void)
{
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  static const unsigned int masks[] = {
    MHD_UPGRADE_EVENT_READ, MHD_UPGRADE_EVENT_EXTERNAL,
    MHD_UPGRADE_EVENT_READ | MHD_UPGRADE_EVENT_EXTERNAL
  };
  size_t k;
  for (k = 0; k < sizeof (masks) / sizeof (masks[0]); k++)
  {
    struct cli c;
    struct uconn *u;
    char q[32];
    int round;
    snprintf (q, sizeof (q), "mask=%u", masks[k]);
    CHECK_INT (101, cli_upgrade (&c, port, (int) k, "/echo", q));
    u = U ((int) k);
    if (NULL == u)
    {
      cli_close (&c);
      continue;
    }
    for (round = 0; round < 3; round++)
    {
      struct resumer r;
      char msg[32];
      uint64_t t0;
      int rc;
      snprintf (msg, sizeof (msg), "mail-%zu-%d", k, round);
      r.u = u;
      r.msg = msg;
      r.delay_ms = 30;
      t0 = test_now_ms ();
      SETUP_CHECK (0 == pthread_create (&r.self, NULL, resumer_main, &r));
      rc = cli_read_n (&c, strlen (msg), T_MS);
      pthread_join (r.self, NULL);
      CHECK_MSG (RAW_OK == rc, "mask %u: resume did not wake the handler (%s)",
                 masks[k], raw_rc_name (rc));
      CHECK_MEM (msg, strlen (msg), c.in.data, c.in.len);
      buf_consume (&c.in, c.in.len);
      test_note ("mask %u: woken after %llu ms", masks[k],
                 (unsigned long long) (test_now_ms () - t0));
      CHECK_MSG (! pthread_equal (u->thr, r.self),
                 "handler ran on the resuming thread");
    }
    /* the connection still echoes */
    if (masks[k] & MHD_UPGRADE_EVENT_READ)
    {
      cli_send_str (&c, "echo?");
      CHECK_INT (RAW_OK, cli_read_n (&c, 5, T_MS));
      CHECK_MEM ("echo?", 5, c.in.data, c.in.len);
    }
    if (mode_internal ())
      CHECK_MSG (! pthread_equal (u->thr, pthread_self ()),
                 "internal mode: handler ran on the application's thread");
    cli_close (&c);
    /* EXTERNAL alone does not watch the socket: the close is noticed at
     * the daemon's stop */
    if ((masks[k] & MHD_UPGRADE_EVENT_READ) && wait_done (u))
      check_common (u, "resume");
  }
  test_stop_daemon (d);
  for (k = 0; k < sizeof (masks) / sizeof (masks[0]); k++)
    if (NULL != U ((int) k))
    {
      check_common (U ((int) k), "resume");
      CHECK_INT (1, U ((int) k)->comp_calls);
    }
}

static void
case_idle (void)
{
  struct opts o = { 1, 0 };
  struct MHD_Daemon *d = start (&o);
  uint16_t port = test_daemon_port (d);
  struct cli a, b, plain;
  struct uconn *ua, *ub;
  int ca, cb;
  int rc;
  char q[32];
  uint64_t t0;
  CHECK_INT (101, cli_upgrade (&a, port, 1, "/echo", NULL));
  snprintf (q, sizeof (q), "mask=%d", MHD_UPGRADE_EVENT_EXTERNAL);
  CHECK_INT (101, cli_upgrade (&b, port, 2, "/echo", q));
  ua = U (1);
  ub = U (2);
  /* a plain connection with half a request: the timeout applies to it */
  SETUP_CHECK (0 == cli_connect (&plain, port, 0));
  cli_send_str (&plain, "GET / HTTP/1.1\r\nHost: x\r\n");
  t0 = test_now_ms ();
  if ((NULL == ua) || (NULL == ub))
  {
    CHECK (0);
    goto out;
  }
  /* The first calls come once the 101 head is with the OS, which can be
   * after the client read it: count only what follows them. */
  CHECK (test_wait_ge (&ua->calls, 1, T_MS));
  CHECK (test_wait_ge (&ub->calls, 1, T_MS));
  ca = ATOMIC_GET (&ua->calls);
  cb = ATOMIC_GET (&ub->calls);
  rc = cli_read_close (&plain, 3000);
  CHECK_MSG ((RAW_EOF == rc) || (RAW_RESET == rc),
             "control: the plain connection did not time out (%s)",
             raw_rc_name (rc));
  {
    /* EXTERNAL: once per loop round, and the bit never wakes the loop,
     * neither while another connection has a deadline (window 1: the
     * plain connection until it timed out) nor after (window 2). */
    int limit = mode_external () ? 300 : 20;
    int w1 = ATOMIC_GET (&ub->calls) - cb;
    uint64_t t1 = test_now_ms ();
    int w2;
    test_sleep_ms (300);   /* the next timeout scan forgets the deadline */
    cb = ATOMIC_GET (&ub->calls);
    ca = ATOMIC_GET (&ua->calls) - ca;
    test_sleep_ms (300);
    w2 = ATOMIC_GET (&ub->calls) - cb;
    test_note ("idle: EXTERNAL %d calls in %llu ms with a deadline, %d in "
               "300 ms without", w1, (unsigned long long) (t1 - t0), w2);
    CHECK_MSG (w1 < limit, "EXTERNAL handler spins while another connection "
               "has a deadline: %d calls in %llu ms", w1,
               (unsigned long long) (t1 - t0));
    CHECK_MSG (w2 < limit, "EXTERNAL handler spins: %d calls in 300 ms", w2);
    CHECK_MSG (0 == ca, "READ handler called %d times without input", ca);
  }
  CHECK_INT (0, ua->final_calls);
  CHECK_INT (0, ub->final_calls);
  CHECK_INT (0, ua->comp_calls);
  CHECK_INT (0, ub->comp_calls);
  /* still alive after the timeout */
  cli_send_str (&a, "still-here");
  CHECK_INT (RAW_OK, cli_read_n (&a, 10, T_MS));
  CHECK_MEM ("still-here", 10, a.in.data, a.in.len);
out:
  cli_close (&a);
  cli_close (&b);
  cli_close (&plain);
  if (wait_done (ua))
    check_common (ua, "idle/READ");
  test_stop_daemon (d);
  if (NULL != ub)
  {
    check_common (ub, "idle/EXTERNAL");
    /* EXTERNAL does not watch the socket: the close may only be noticed
     * at daemon stop */
    CHECK_INT (1, ub->comp_calls);
  }
}

static void
case_memory (void)
{
  /* A budget below 4 KiB (1 KiB): each direction still gets 4 KiB once
   * upgraded. (A budget this small once made the first read panic.) */
  struct opts o = { 0, 1024 };
  struct MHD_Daemon *d = start (&o);
  uint16_t port = test_daemon_port (d);
  struct cli c;
  struct uconn *u;
  char exp[64];
  unsigned int sum = 0;
  size_t i;
  CHECK_INT (101, cli_upgrade (&c, port, 1, "/record", "rec=4096"));
  u = U (1);
  for (i = 0; i < 4; i++)
  {
    CHECK_INT (RAW_OK, cli_send (&c, big_a + 1024 * i, 1024));
    test_sleep_ms (5);
  }
  for (i = 0; i < 4096; i++)
    sum = sum * 31 + big_a[i];
  snprintf (exp, sizeof (exp), "R4096:%08x;", sum);
  CHECK_INT (RAW_OK, cli_read_n (&c, strlen (exp), T_MS));
  CHECK_MEM (exp, strlen (exp), c.in.data, c.in.len);
  if (NULL != u)
    CHECK_MSG (u->first_out >= 4096,
               "%zu-byte budget: first call offered %zu output bytes",
               o.mem_limit, u->first_out);
  cli_close (&c);
  if (wait_done (u))
  {
    check_common (u, "memory");
    CHECK_INT (MHD_REQUEST_TERMINATED_CLIENT_ABORT, u->comp_code);
  }
  test_stop_daemon (d);
}

static void
case_block (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  struct cli a, b;
  uint64_t t0;
  if (! mode_tpc ())
    return;
  d = start (NULL);
  port = test_daemon_port (d);
  CHECK_INT (101, cli_upgrade (&a, port, 1, "/echo", "block=1"));
  CHECK_INT (101, cli_upgrade (&b, port, 2, "/echo", NULL));
  t0 = test_now_ms ();
  cli_send_str (&a, "s");
  test_sleep_ms (50);
  cli_send_str (&b, "quick");
  CHECK_INT (RAW_OK, cli_read_n (&b, 5, T_MS));
  CHECK_MSG (test_now_ms () - t0 < 450,
             "a blocking handler held up another connection (%llu ms)",
             (unsigned long long) (test_now_ms () - t0));
  CHECK_INT (RAW_OK, cli_read_n (&a, 1, T_MS));
  CHECK_MSG (test_now_ms () - t0 >= 590, "the blocking handler did not block");
  cli_close (&a);
  cli_close (&b);
  if (wait_done (U (1)))
    check_common (U (1), "block");
  if (wait_done (U (2)))
    check_common (U (2), "block");
  test_stop_daemon (d);
}

/* ---- external loop driven by the test itself ---------------------- */

struct ext_op
{
  void (*fn)(struct ext_op *);
  struct cli *c;
  uint16_t port;
  int rc;
  size_t n;
  volatile int done;
};

static void *
ext_op_main (void *arg)
{
  struct ext_op *op = arg;
  op->fn (op);
  ATOMIC_SET (&op->done, 1);
  return NULL;
}

/* One round of the application's loop: wait up to ms, then run. */
static int
ext_turn (struct MHD_Daemon *d, int ms)
{
  if (TD_EXTERNAL_SELECT == cur_mode->drive)
  {
    fd_set rs, ws, es;
    MHD_socket maxfd = 0;
    struct timeval tv;
    FD_ZERO (&rs);
    FD_ZERO (&ws);
    FD_ZERO (&es);
    if (MHD_YES != MHD_get_fdset (d, &rs, &ws, &es, &maxfd))
      return -1;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    if (select (maxfd + 1, &rs, &ws, &es, &tv) < 0)
      return -1;
    return (MHD_YES == MHD_run_from_select (d, &rs, &ws, &es)) ? 0 : -1;
  }
  else
  {
    struct pollfd p;
    p.fd = MHD_get_daemon_info (d, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
    p.events = POLLIN;
    p.revents = 0;
    (void) poll (&p, 1, ms);
    return (MHD_YES == MHD_run (d)) ? 0 : -1;
  }
}

/* Runs op on a helper thread while this thread drives MHD. */
static void
ext_client (struct MHD_Daemon *d, struct ext_op *op)
{
  pthread_t t;
  uint64_t end = test_now_ms () + 2 * T_MS;
  op->done = 0;
  SETUP_CHECK (0 == pthread_create (&t, NULL, ext_op_main, op));
  while (! ATOMIC_GET (&op->done) && test_now_ms () < end)
    ext_turn (d, 5);
  if (! ATOMIC_GET (&op->done))
    CHECK_MSG (0, "extloop: client step did not finish");
  pthread_join (t, NULL);
}

static void
op_upgrade (struct ext_op *op)
{
  op->rc = cli_upgrade_ex (op->c, op->port, 4096, 1, "/echo", NULL, 0,
                           NULL, 0);
}

static void
op_echo (struct ext_op *op)
{
  op->rc = cli_send_str (op->c, "x");
  if (RAW_OK == op->rc)
    op->rc = cli_read_n (op->c, 1, T_MS);
}

static void
op_read_n (struct ext_op *op)
{
  op->rc = cli_read_n (op->c, op->n, 2 * T_MS);
}

static void
op_close (struct ext_op *op)
{
  cli_close (op->c);
}

static int
popcount_set (const fd_set *s, int maxfd)
{
  int i, n = 0;
  for (i = 0; i <= maxfd; i++)
    if (FD_ISSET (i, s))
      n++;
  return n;
}

static void
case_extloop (void)
{
  struct MHD_Daemon *d;
  struct cli c;
  struct ext_op op;
  struct uconn *u;
  int sel = (TD_EXTERNAL_SELECT == cur_mode->drive);
  int listen_fd;
  int i;
  if (! mode_external ())
    return;
  reg_reset ();
  build_items (items, NULL);
  d = MHD_start_daemon (cur_mode->flags | MHD_USE_ITC | MHD_USE_ERROR_LOG
                        | (use_tls ? MHD_USE_TLS : 0), 0, NULL, NULL, &ah,
                        NULL, MHD_OPTION_ARRAY, items, MHD_OPTION_END);
  SETUP_CHECK (NULL != d);
  listen_fd = MHD_get_daemon_info (d, MHD_DAEMON_INFO_LISTEN_FD)->listen_fd;
  memset (&op, 0, sizeof (op));
  op.c = &c;
  op.port = test_daemon_port (d);
  op.fn = op_upgrade;
  ext_client (d, &op);
  CHECK_INT (101, op.rc);
  u = U (1);
  if ((NULL == u) || (101 != op.rc))
    goto out;
  for (i = 0; i < 5 && u->calls < 1; i++)
    ext_turn (d, 5);
  CHECK_MSG (u->calls >= 1, "extloop: first call did not happen");
  /* READ, nothing pending: the socket in the read set only */
  if (sel)
  {
    fd_set rs, ws, es;
    MHD_socket maxfd = 0;
    FD_ZERO (&rs);
    FD_ZERO (&ws);
    FD_ZERO (&es);
    CHECK (MHD_YES == MHD_get_fdset (d, &rs, &ws, &es, &maxfd));
    CHECK_MSG (FD_ISSET (u->fd, &rs), "READ: socket not in the read set");
    CHECK_MSG (! FD_ISSET (u->fd, &ws), "READ: socket in the write set");
    /* listening socket, connection, wake-up descriptor */
    CHECK_MSG (3 == popcount_set (&rs, maxfd) && FD_ISSET (listen_fd, &rs),
               "READ: read set holds %d descriptors, expected listen + "
               "connection + wake-up", popcount_set (&rs, maxfd));
  }
  /* EXTERNAL: no descriptor; once per MHD_run; no zero timeout */
  u->next_mask = MHD_UPGRADE_EVENT_EXTERNAL;
  op.fn = op_echo;
  ext_client (d, &op);
  CHECK_INT (RAW_OK, op.rc);
  buf_consume (&c.in, c.in.len);
  for (i = 0; i < 3; i++)
    MHD_run (d);
  {
    int before = ATOMIC_GET (&u->calls);
    MHD_UNSIGNED_LONG_LONG to = 12345;
    for (i = 0; i < 5; i++)
      MHD_run (d);
    CHECK_MSG (ATOMIC_GET (&u->calls) - before == 5,
               "EXTERNAL: %d handler calls in 5 MHD_run calls",
               ATOMIC_GET (&u->calls) - before);
    if (MHD_YES == MHD_get_timeout (d, &to))
      CHECK_MSG (to > 0, "EXTERNAL made MHD_get_timeout return 0");
  }
  if (sel)
  {
    fd_set rs, ws, es;
    MHD_socket maxfd = 0;
    FD_ZERO (&rs);
    FD_ZERO (&ws);
    FD_ZERO (&es);
    CHECK (MHD_YES == MHD_get_fdset (d, &rs, &ws, &es, &maxfd));
    CHECK_MSG (! FD_ISSET (u->fd, &rs) && ! FD_ISSET (u->fd, &ws),
               "EXTERNAL: the socket is in the fd sets");
  }
  /* a resume from another thread wakes the application's wait */
  {
    struct resumer r;
    uint64_t t0;
    int woke = 0;
    int before;
    u->next_mask = MHD_UPGRADE_EVENT_READ;
    MHD_run (d);
    MHD_run (d);
    before = ATOMIC_GET (&u->calls);
    r.u = u;
    r.msg = "woken";
    r.delay_ms = 100;
    t0 = test_now_ms ();
    SETUP_CHECK (0 == pthread_create (&r.self, NULL, resumer_main, &r));
    if (sel)
    {
      fd_set rs, ws, es;
      MHD_socket maxfd = 0;
      struct timeval tv = { 3, 0 };
      FD_ZERO (&rs);
      FD_ZERO (&ws);
      FD_ZERO (&es);
      MHD_get_fdset (d, &rs, &ws, &es, &maxfd);
      woke = select (maxfd + 1, &rs, &ws, &es, &tv) > 0;
      CHECK_MSG (! FD_ISSET (u->fd, &rs), "resume: woken by the socket");
      MHD_run_from_select (d, &rs, &ws, &es);
    }
    else
    {
      struct pollfd p;
      p.fd = MHD_get_daemon_info (d, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
      p.events = POLLIN;
      p.revents = 0;
      woke = poll (&p, 1, 3000) > 0;
      MHD_run (d);
    }
    pthread_join (r.self, NULL);
    test_note ("extloop: resume woke the wait after %llu ms",
               (unsigned long long) (test_now_ms () - t0));
    CHECK_MSG (woke && test_now_ms () - t0 < 2000,
               "resume did not wake the application's wait");
    CHECK_MSG (ATOMIC_GET (&u->calls) > before,
               "resume: handler not called by the next MHD_run*");
    op.fn = op_read_n;
    op.n = 5;
    ext_client (d, &op);
    CHECK_INT (RAW_OK, op.rc);
    CHECK_MEM ("woken", 5, c.in.data, c.in.len);
    buf_consume (&c.in, c.in.len);
  }
  /* pending output towards a peer that does not read: the write set */
  {
    const size_t total = 8u * 1024 * 1024; /* more than the socket takes */
    int prev = -1;
    u->out_total = 0;
    u->out_off = 0;
    u->produce_left = total;
    /* a call is needed to start producing: wake the handler (from this
     * thread, which is allowed as from any other) */
    MHD_resume_connection (u->conn);
    for (i = 0; i < 1000 && prev != ATOMIC_GET (&u->calls); i++)
    {
      prev = ATOMIC_GET (&u->calls);
      ext_turn (d, 2);
      ext_turn (d, 2);
    }
    CHECK_MSG (u->produce_left > 0, "peer not reading, yet all was sent");
    if (sel)
    {
      fd_set rs, ws, es;
      MHD_socket maxfd = 0;
      FD_ZERO (&rs);
      FD_ZERO (&ws);
      FD_ZERO (&es);
      CHECK (MHD_YES == MHD_get_fdset (d, &rs, &ws, &es, &maxfd));
      CHECK_MSG (FD_ISSET (u->fd, &ws),
                 "output pending: socket not in the write set");
    }
    op.fn = op_read_n;
    op.n = total;
    ext_client (d, &op);
    CHECK_INT (RAW_OK, op.rc);
    CHECK_MEM (big_b, total, c.in.data, c.in.len);
    buf_consume (&c.in, c.in.len);
    if (sel)
    {
      fd_set rs, ws, es;
      MHD_socket maxfd = 0;
      ext_turn (d, 2);
      FD_ZERO (&rs);
      FD_ZERO (&ws);
      FD_ZERO (&es);
      CHECK (MHD_YES == MHD_get_fdset (d, &rs, &ws, &es, &maxfd));
      CHECK_MSG (! FD_ISSET (u->fd, &ws) && FD_ISSET (u->fd, &rs),
                 "all sent, READ: socket %s the write set, %s the read set",
                 FD_ISSET (u->fd, &ws) ? "in" : "not in",
                 FD_ISSET (u->fd, &rs) ? "in" : "not in");
    }
  }
out:
  /* stop from this thread: the final call may come from here */
  MHD_stop_daemon (d);
  if (NULL != u)
  {
    check_common (u, "extloop");
    CHECK_INT (1, u->final_calls);
    CHECK_INT (MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN, u->comp_code);
  }
  op.fn = op_close;
  op_close (&op);
}

static void
case_stop (void)
{
  struct MHD_Daemon *d = start (NULL);
  uint16_t port = test_daemon_port (d);
  struct cli cs[6];
  uint64_t t0, took;
  pthread_t main_thr = pthread_self ();
  int i;
  for (i = 0; i < 5; i++)
  {
    CHECK_INT (101, cli_upgrade (&cs[i], port, i, "/echo", NULL));
    cli_send_str (&cs[i], "hi");
    CHECK_INT (RAW_OK, cli_read_n (&cs[i], 2, T_MS));
  }
  /* a peer that does not read, with our output buffer full */
  CHECK_INT (101, cli_upgrade_ex (&cs[5], port, 4096, 5, "/produce",
                                  "tout=100000000", 0, NULL, 0));
  if (NULL != U (5))
    CHECK (test_wait_pred (pred_calls_settle, U (5), T_MS));
  t0 = test_now_ms ();
  test_stop_daemon (d);
  took = test_now_ms () - t0;
  CHECK_MSG (took < 2000, "MHD_stop_daemon took %llu ms",
             (unsigned long long) took);
  for (i = 0; i < 6; i++)
  {
    struct uconn *u = U (i);
    int rc = cli_read_close (&cs[i], T_MS);
    CHECK_MSG ((RAW_EOF == rc) || (RAW_RESET == rc),
               "stop: client %d not closed (%s)", i, raw_rc_name (rc));
    cli_close (&cs[i]);
    if (NULL == u)
      continue;
    check_common (u, "stop");
    CHECK_MSG ((1 == u->final_calls) && (0 == u->final_out_size),
               "stop: connection %d: %d final calls (output space %zu)", i,
               u->final_calls, u->final_out_size);
    CHECK_MSG ((1 == u->comp_calls) &&
               (MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN == u->comp_code),
               "stop: connection %d: %d completions, code %d", i,
               u->comp_calls, u->comp_code);
    if (u->final_calls && u->thr_set)
      CHECK_MSG (pthread_equal (u->final_thr, u->thr) ||
                 (mode_external () &&
                  pthread_equal (u->final_thr, main_thr)),
                 "stop: final call from another thread");
  }
}

/* ------------------------------------------------------------------ */

static const struct
{
  const char *name;
  void (*fn)(void);
} cases[] = {
  { "refusal", case_refusal },
  { "head", case_head },
  { "partial", case_partial },
  { "flow", case_flow },
  { "end", case_end },
  { "eof", case_eof },
  { "cork", case_cork },
  { "bidi", case_bidi },
  { "shared", case_shared },
  { "many", case_many },
  { "resume", case_resume },
  { "idle", case_idle },
  { "memory", case_memory },
  { "block", case_block },
  { "extloop", case_extloop },
  { "stop", case_stop },
};

static int
case_selected (const char *name)
{
  const char *e = getenv ("UPGRADE_CASES");
  char list[512];
  char *tok, *save = NULL;
  if ((NULL == e) || ('\0' == *e))
    return 1;
  snprintf (list, sizeof (list), "%s", e);
  for (tok = strtok_r (list, ",", &save); NULL != tok;
       tok = strtok_r (NULL, ",", &save))
    if (0 == strcmp (tok, name))
      return 1;
  return 0;
}

/* test_upgrade runs the table over HTTP, test_upgrade_tls (this file with
 * UPGRADE_DEFAULT_TRANSPORT "https") over HTTPS; UPGRADE_TRANSPORT=http,
 * https or both overrides. */
#ifndef UPGRADE_DEFAULT_TRANSPORT
#define UPGRADE_DEFAULT_TRANSPORT "http"
#define UPGRADE_TEST_NAME "test_upgrade"
#endif

static void
per_mode (void)
{
  const char *tr = getenv ("UPGRADE_TRANSPORT");
  int t;
  if ((NULL == tr) || ('\0' == *tr))
    tr = UPGRADE_DEFAULT_TRANSPORT;
  for (t = 0; t < 2; t++)
  {
    size_t k;
    if ((0 != strcmp (tr, "both")) && (0 != strcmp (tr, t ? "https" : "http")))
      continue;
    use_tls = t;
    for (k = 0; k < sizeof (cases) / sizeof (cases[0]); k++)
    {
      int before = test_failures;
      uint64_t t0 = test_now_ms ();
      if (! case_selected (cases[k].name))
        continue;
      cur_case = cases[k].name;
      cases[k].fn ();
      test_note ("%s over %s: %llu ms", cur_case, t ? "HTTPS" : "HTTP",
                 (unsigned long long) (test_now_ms () - t0));
      if (test_failures != before)
        fprintf (stderr, "FAIL context: the failures above are from case "
                 "'%s' over %s [%s]\n", cur_case, t ? "HTTPS" : "HTTP",
                 cur_mode->name);
    }
  }
}

int
main (void)
{
  if (test_is_reference ())
  {
    printf ("SKIP: the reference (Debian's libmicrohttpd) exports the "
            "socket-based MHD_create_response_for_upgrade of 0.9.52+, not "
            "the event-mask API of design/UPGRADE.md\n");
    return TEST_EXIT_SKIP;
  }
  if (MHD_YES != MHD_is_feature_supported (MHD_FEATURE_TLS))
  {
    printf ("SKIP: the library has no TLS support\n");
    return TEST_EXIT_SKIP;
  }
  pem_chain = test_slurp (CAPI_TLS_DIR, "server-chain.pem");
  pem_key = test_slurp (CAPI_TLS_DIR, "server.key");
  snprintf (path_ca, sizeof (path_ca), "%s/ca.pem", CAPI_TLS_DIR);
  cli_ctx = SSL_CTX_new (TLS_client_method ());
  SETUP_CHECK (NULL != cli_ctx);
  SETUP_CHECK (1 == SSL_CTX_load_verify_locations (cli_ctx, path_ca, NULL));
  SSL_CTX_set_verify (cli_ctx, SSL_VERIFY_PEER, NULL);
  big_a = malloc (BIG_MAX);
  big_b = malloc (BIG_MAX);
  SETUP_CHECK ((NULL != big_a) && (NULL != big_b));
  fill_pattern (big_a, BIG_MAX, 1);
  fill_pattern (big_b, BIG_MAX, 2);
  /* every mode unless MHD_TEST_MODES says otherwise */
  setenv ("MHD_TEST_MODES", "all", 0);
  return test_run_modes (UPGRADE_TEST_NAME, per_mode);
}

#endif /* CAPI_EVENT_MASK_UPGRADE */
