/* Shared by the benchmark's libmicrohttpd servers (mhd_server.c,
 * hostile_server.c, soak_server.c, and upgrade_echo_ours.c /
 * upgrade_echo_theirs.c through upgrade_common.h): the stop flag and its
 * signal handler, the PEM loader, the MODE argument, the external select
 * loop and the event-mask echo.  Header-only (static inline: a program
 * that does not use a helper gets no unused-function warning).
 *
 * Only the public libmicrohttpd 0.9.75 API, so upgrade_echo_theirs.c can
 * include it with Debian's <microhttpd.h>; the echo handler uses our
 * event-mask upgrade API and is there only when the program defines
 * BENCH_EVENT_MASK_UPGRADE before including this header. */
#ifndef BENCH_MHD_COMMON_H
#define BENCH_MHD_COMMON_H

#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

/* SIGTERM/SIGINT: leave the serving loop. */
static inline void
on_signal (int sig)
{
  (void) sig;
  stop = 1;
}

/* The whole file as a NUL-terminated malloc'ed string, NULL on error. */
static inline char *
slurp (const char *path)
{
  FILE *f = fopen (path, "rb");
  char *buf;
  long n;
  if (NULL == f)
    return NULL;
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  buf = malloc ((size_t) n + 1);
  if (NULL == buf || fread (buf, 1, (size_t) n, f) != (size_t) n)
  {
    fclose (f);
    free (buf);
    return NULL;
  }
  buf[n] = '\0';
  fclose (f);
  return buf;
}

/* MODE: select | poll | epoll | pool | thread, and external when
 * allow_external (then *external = 1 and *flags = 0).  Sets *flags and
 * *pool (2 for pool, else left alone); 0, or -1 after printing "unknown
 * mode". */
static inline int
parse_mode (const char *mode, int allow_external, unsigned int *flags,
            unsigned int *pool, int *external)
{
  if (0 == strcmp (mode, "select"))
    *flags = MHD_USE_INTERNAL_POLLING_THREAD;
  else if (0 == strcmp (mode, "poll"))
    *flags = MHD_USE_POLL_INTERNAL_THREAD;
  else if (0 == strcmp (mode, "epoll"))
    *flags = MHD_USE_EPOLL_INTERNAL_THREAD;
  else if (0 == strcmp (mode, "pool"))
  {
    *flags = MHD_USE_EPOLL_INTERNAL_THREAD;
    *pool = 2;
  }
  else if (0 == strcmp (mode, "thread"))
    *flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
  else if (allow_external && (0 == strcmp (mode, "external")))
  {
    *flags = 0;
    *external = 1;
  }
  else
  {
    fprintf (stderr, "unknown mode %s\n", mode);
    return -1;
  }
  return 0;
}

/* Drive d with MHD_get_fdset + select + MHD_run_from_select until stop;
 * select wakes at least every tick_ms to notice a signal, and each (may be
 * NULL) runs once per round.  1 when MHD_get_fdset fails, else 0. */
static inline int
run_external (struct MHD_Daemon *d, int tick_ms, void (*each)(void))
{
  while (! stop)
  {
    fd_set rs, ws, es;
    MHD_socket max = 0;
    MHD_UNSIGNED_LONG_LONG to;
    struct timeval tv = { 0, (long) tick_ms * 1000 };
    if (NULL != each)
      each ();
    FD_ZERO (&rs);
    FD_ZERO (&ws);
    FD_ZERO (&es);
    if (MHD_YES != MHD_get_fdset (d, &rs, &ws, &es, &max))
      return 1;
    if (MHD_YES == MHD_get_timeout (d, &to) && to < (unsigned) tick_ms)
    {
      tv.tv_sec = 0;
      tv.tv_usec = (long) to * 1000;
    }
    if (select ((int) max + 1, &rs, &ws, &es, &tv) < 0)
      continue;
    MHD_run_from_select (d, &rs, &ws, &es);
  }
  return 0;
}

#ifdef BENCH_EVENT_MASK_UPGRADE
/* Event-mask upgrade handler: copies what it is offered to the output
 * buffer, as much as fits, and asks for READ (+ CORK: push each echo out
 * at once). */
static inline enum MHD_UpgradeEventMask
echo (void *cls, struct MHD_Connection *connection, void **con_cls,
      size_t *data_in_size, const char *data_in,
      size_t *data_out_size, char *data_out)
{
  size_t n;
  (void) cls;
  (void) connection;
  (void) con_cls;
  if (NULL == data_in)
  { /* the peer is gone (or the daemon stops): nothing to release */
    *data_out_size = 0;
    return MHD_UPGRADE_EVENT_TERMINATE;
  }
  n = *data_in_size < *data_out_size ? *data_in_size : *data_out_size;
  memcpy (data_out, data_in, n);
  *data_in_size = n;
  *data_out_size = n;
  return (enum MHD_UpgradeEventMask) (MHD_UPGRADE_EVENT_READ
                                      | MHD_UPGRADE_EVENT_CORK);
}
#endif

#endif
