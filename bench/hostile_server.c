/* hostile_server: the libmicrohttpd program `make check-hostile`
 * (bench/hostile.py) attacks.  Built against include/microhttpd.h; run
 * with ours (LD_LIBRARY_PATH picks the library).
 *
 *   hostile_server PORT MODE [--limit N] [--per-ip N] [--timeout S]
 *   MODE: select | poll | epoll | pool | thread | external
 *
 *   GET /      -> 13-byte body "Hello, world!"
 *   GET /big   -> 100 MiB from a callback (64 KiB blocks), for slow
 *                 readers and clients that never read
 *   POST any   -> the body is read and dropped, then "Hello, world!"
 *
 * The notify-connection callback counts live connections and their peak.
 * SIGUSR1 prints "STATS live=L peak=P started=S" on stdout and resets the
 * peak to the live count.  Prints "READY <port>" once listening.  Stops on
 * SIGTERM/SIGINT, and by itself after 30 minutes at most.
 */
#include "mhd_common.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#define BIG_SIZE ((uint64_t) 100 * 1024 * 1024)

static volatile sig_atomic_t want_stats;
static struct MHD_Response *small_resp;
static int live, peak, started;

static void
on_hostile_signal (int sig)
{
  if (SIGUSR1 == sig)
    want_stats = 1;
  else
    stop = 1;
}

static void
conn_cb (void *cls, struct MHD_Connection *c, void **socket_context,
         enum MHD_ConnectionNotificationCode toe)
{
  (void) cls;
  (void) c;
  (void) socket_context;
  if (MHD_CONNECTION_NOTIFY_STARTED == toe)
  {
    int now = __atomic_add_fetch (&live, 1, __ATOMIC_SEQ_CST);
    int p = __atomic_load_n (&peak, __ATOMIC_SEQ_CST);
    __atomic_add_fetch (&started, 1, __ATOMIC_SEQ_CST);
    while ((now > p) &&
           ! __atomic_compare_exchange_n (&peak, &p, now, 0, __ATOMIC_SEQ_CST,
                                          __ATOMIC_SEQ_CST))
      ;
  }
  else
    __atomic_sub_fetch (&live, 1, __ATOMIC_SEQ_CST);
}

static void
print_stats (void)
{
  int l = __atomic_load_n (&live, __ATOMIC_SEQ_CST);
  printf ("STATS live=%d peak=%d started=%d\n", l,
          __atomic_exchange_n (&peak, l, __ATOMIC_SEQ_CST),
          __atomic_load_n (&started, __ATOMIC_SEQ_CST));
  fflush (stdout);
}

/* Print the stats if SIGUSR1 asked for them since the last call. */
static void
stats_if_wanted (void)
{
  if (want_stats)
  {
    want_stats = 0;
    print_stats ();
  }
}

static ssize_t
big_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  (void) cls;
  if (pos >= BIG_SIZE)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (max > BIG_SIZE - pos)
    max = (size_t) (BIG_SIZE - pos);
  memset (buf, 'x', max);
  return (ssize_t) max;
}

static enum MHD_Result
handle (void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  static int marker;
  (void) cls;
  (void) method;
  (void) version;
  (void) upload_data;
  if (&marker != *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (0 != *upload_data_size)
  { /* slow bodies arrive here piece by piece */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (0 == strcmp (url, "/big"))
  {
    struct MHD_Response *r;
    enum MHD_Result ret;
    r = MHD_create_response_from_callback (BIG_SIZE, 64 * 1024, big_reader,
                                           NULL, NULL);
    if (NULL == r)
      return MHD_NO;
    ret = MHD_queue_response (c, MHD_HTTP_OK, r);
    MHD_destroy_response (r);
    return ret;
  }
  return MHD_queue_response (c, MHD_HTTP_OK, small_resp);
}

int
main (int argc, char **argv)
{
  unsigned int flags = 0, pool = 0, limit = 0, per_ip = 0, timeout = 5;
  const char *mode;
  struct MHD_Daemon *d;
  struct sigaction sa;
  int port, i, external = 0;

  if (argc < 3)
  {
    fprintf (stderr, "usage: %s PORT MODE [--limit N] [--per-ip N] "
             "[--timeout S]\n", argv[0]);
    return 2;
  }
  port = atoi (argv[1]);
  mode = argv[2];
  for (i = 3; i < argc; i++)
  {
    if ((0 == strcmp (argv[i], "--limit")) && (i + 1 < argc))
      limit = (unsigned int) atoi (argv[++i]);
    else if ((0 == strcmp (argv[i], "--per-ip")) && (i + 1 < argc))
      per_ip = (unsigned int) atoi (argv[++i]);
    else if ((0 == strcmp (argv[i], "--timeout")) && (i + 1 < argc))
      timeout = (unsigned int) atoi (argv[++i]);
    else
    {
      fprintf (stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (0 != parse_mode (mode, 1, &flags, &pool, &external))
    return 2;
  small_resp = MHD_create_response_from_buffer (13, (void *) "Hello, world!",
                                                MHD_RESPMEM_PERSISTENT);
  if (NULL == small_resp)
    return 1;
  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = on_hostile_signal; /* no SA_RESTART: wakes nanosleep */
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGUSR1, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);

  d = MHD_start_daemon (flags | MHD_USE_ERROR_LOG, (uint16_t) port, NULL,
                        NULL, &handle, NULL,
                        MHD_OPTION_THREAD_POOL_SIZE, pool,
                        MHD_OPTION_CONNECTION_LIMIT,
                        limit ? limit : (unsigned int) (FD_SETSIZE - 24),
                        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
                        MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                        MHD_OPTION_NOTIFY_CONNECTION, conn_cb, NULL,
                        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 4096,
                        MHD_OPTION_END);
  if (NULL == d)
  {
    printf ("REFUSED\n");
    fflush (stdout);
    return 3;
  }
  printf ("READY %d\n", port);
  fflush (stdout);
  alarm (1800);
  if (external)
  {
    if (0 != run_external (d, 100, stats_if_wanted))
      fprintf (stderr, "MHD_get_fdset failed\n");
  }
  else
  {
    while (! stop)
    {
      struct timespec ts = { 0, 100 * 1000 * 1000 };
      stats_if_wanted ();
      nanosleep (&ts, NULL);
    }
  }
  MHD_stop_daemon (d);
  MHD_destroy_response (small_resp);
  return 0;
}
