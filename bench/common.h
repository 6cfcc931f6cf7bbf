/* Shared helpers of the benchmark's C programs: a non-blocking byte stream
 * over a plain socket or an OpenSSL session, time, and loopback-only
 * connect/listen. Header-only (static functions) to keep the build trivial.
 *
 * Everything here talks to 127.0.0.1 only.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef BENCH_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

static inline double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static inline int
set_nonblock (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  return fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

static inline void
set_nodelay (int fd)
{
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
}

/* Non-blocking connect to 127.0.0.1:port. Returns the fd or -1. */
static inline int
connect_loopback (int port)
{
  struct sockaddr_in sa;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  memset (&sa, 0, sizeof (sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons ((uint16_t) port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0
      && errno != EINPROGRESS)
  {
    close (fd);
    return -1;
  }
  set_nodelay (fd);
  return fd;
}

/* Listening socket on 127.0.0.1:port. */
static inline int
listen_loopback (int port)
{
  struct sockaddr_in sa;
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
  memset (&sa, 0, sizeof (sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons ((uint16_t) port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (bind (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0
      || listen (fd, 4096) < 0)
  {
    close (fd);
    return -1;
  }
  return fd;
}

/* ------------------------------------------------------------------ */
/* A stream: plain fd, or an OpenSSL session on it.                    */

struct stream
{
  int fd;
#ifdef BENCH_TLS
  SSL *ssl;
  int handshake_done;
#endif
};

enum { IO_AGAIN = 0, IO_CLOSED = -1 };

#ifdef BENCH_TLS
static SSL_CTX *tls_client_ctx;

static inline SSL_CTX *
tls_client_init (void)
{
  if (NULL == tls_client_ctx)
  {
    tls_client_ctx = SSL_CTX_new (TLS_client_method ());
    if (NULL == tls_client_ctx)
      return NULL;
    SSL_CTX_set_verify (tls_client_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode (tls_client_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                      | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  return tls_client_ctx;
}

static inline SSL_CTX *
tls_server_init (const char *cert, const char *key)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_server_method ());
  if (NULL == ctx)
    return NULL;
  SSL_CTX_set_mode (ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                    | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file (ctx, cert) != 1
      || SSL_CTX_use_PrivateKey_file (ctx, key, SSL_FILETYPE_PEM) != 1)
  {
    ERR_print_errors_fp (stderr);
    SSL_CTX_free (ctx);
    return NULL;
  }
  return ctx;
}

/* Drive the handshake. 1 done, 0 again, -1 failed. */
static inline int
stream_handshake (struct stream *s)
{
  int r;
  if (NULL == s->ssl || s->handshake_done)
    return 1;
  r = SSL_do_handshake (s->ssl);
  if (1 == r)
  {
    s->handshake_done = 1;
    return 1;
  }
  r = SSL_get_error (s->ssl, r);
  if (SSL_ERROR_WANT_READ == r || SSL_ERROR_WANT_WRITE == r)
    return 0;
  return -1;
}
#endif

static inline void
stream_init (struct stream *s, int fd, void *ssl_ctx, int server)
{
  s->fd = fd;
#ifdef BENCH_TLS
  s->ssl = NULL;
  s->handshake_done = 0;
  if (NULL != ssl_ctx)
  {
    s->ssl = SSL_new ((SSL_CTX *) ssl_ctx);
    SSL_set_fd (s->ssl, fd);
    if (server)
      SSL_set_accept_state (s->ssl);
    else
      SSL_set_connect_state (s->ssl);
  }
#else
  (void) ssl_ctx;
  (void) server;
#endif
}

static inline void
stream_close (struct stream *s)
{
#ifdef BENCH_TLS
  if (NULL != s->ssl)
  {
    SSL_free (s->ssl);
    s->ssl = NULL;
  }
#endif
  if (s->fd >= 0)
    close (s->fd);
  s->fd = -1;
}

/* >0 bytes read, IO_AGAIN, IO_CLOSED (EOF or error). */
static inline ssize_t
stream_read (struct stream *s, void *buf, size_t len)
{
#ifdef BENCH_TLS
  if (NULL != s->ssl)
  {
    int r;
    int h = stream_handshake (s);
    if (h <= 0)
      return h < 0 ? IO_CLOSED : IO_AGAIN;
    r = SSL_read (s->ssl, buf, (int) len);
    if (r > 0)
      return r;
    r = SSL_get_error (s->ssl, r);
    if (SSL_ERROR_WANT_READ == r || SSL_ERROR_WANT_WRITE == r)
      return IO_AGAIN;
    return IO_CLOSED;
  }
#endif
  {
    ssize_t r = recv (s->fd, buf, len, 0);
    if (r > 0)
      return r;
    if (r < 0 && (EAGAIN == errno || EWOULDBLOCK == errno || EINTR == errno))
      return IO_AGAIN;
    return IO_CLOSED;
  }
}

/* >0 bytes written, IO_AGAIN, IO_CLOSED. */
static inline ssize_t
stream_write (struct stream *s, const void *buf, size_t len)
{
#ifdef BENCH_TLS
  if (NULL != s->ssl)
  {
    int r;
    int h = stream_handshake (s);
    if (h <= 0)
      return h < 0 ? IO_CLOSED : IO_AGAIN;
    if (len > (1u << 30))
      len = 1u << 30;
    r = SSL_write (s->ssl, buf, (int) len);
    if (r > 0)
      return r;
    r = SSL_get_error (s->ssl, r);
    if (SSL_ERROR_WANT_READ == r || SSL_ERROR_WANT_WRITE == r)
      return IO_AGAIN;
    return IO_CLOSED;
  }
#endif
  {
    ssize_t r = send (s->fd, buf, len, MSG_NOSIGNAL);
    if (r > 0)
      return r;
    if (r < 0 && (EAGAIN == errno || EWOULDBLOCK == errno || EINTR == errno))
      return IO_AGAIN;
    return IO_CLOSED;
  }
}

/* Bytes the TLS layer already holds decrypted (0 for plain). */
static inline int
stream_pending (struct stream *s)
{
#ifdef BENCH_TLS
  if (NULL != s->ssl)
    return SSL_pending (s->ssl);
#endif
  (void) s;
  return 0;
}

/* Find "\r\n\r\n" in buf[0..len); returns the offset after it or 0. */
static inline size_t
find_header_end (const char *buf, size_t len)
{
  size_t i;
  for (i = 3; i < len; i++)
    if ('\n' == buf[i] && '\r' == buf[i - 1] && '\n' == buf[i - 2]
        && '\r' == buf[i - 3])
      return i + 1;
  return 0;
}

/* Content-Length of a response header block, or -1. */
static inline long long
header_content_length (const char *hdr, size_t len)
{
  size_t i;
  for (i = 0; i + 16 < len; i++)
  {
    if (('\n' == hdr[i]) && 0 == strncasecmp (hdr + i + 1, "content-length:",
                                              15))
      return strtoll (hdr + i + 16, NULL, 10);
  }
  return -1;
}

#endif
