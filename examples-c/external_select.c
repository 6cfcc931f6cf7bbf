/* external_select: an application that owns its event loop and lets
 * libmicrohttpd 0.9.75 serve HTTP from inside it: no thread is started by
 * the library, every callback runs on the main thread, so the
 * application's state needs no lock.
 *
 *   external_select [-p PORT] [-t IDLE_SECONDS]
 *
 *   -p PORT     port on 127.0.0.1 (default 8080; 0 picks a free one)
 *   -t SECONDS  close connections idle this long (default 30)
 *
 *   GET  /         an HTML page with the visit counter (each GET adds one)
 *   GET  /counter  the counter alone, as text
 *   POST /counter  adds the number in the body ("5" or "-2") to the counter
 *
 * The same select() loop reads commands on stdin, one per line:
 *   stats   prints "counter=N requests=N ticks=N wakeups=N" on stdout
 *           (wakeups: returns from select(), to spot a busy loop)
 *   quit    stops the server and exits 0
 * (end of input only stops watching stdin), runs a timer of its own (a
 * tick every second), and learns of SIGTERM and SIGINT through a pipe.
 * The listening port is printed on stdout once the daemon runs.
 */
#define _POSIX_C_SOURCE 200809L /* getopt, sigaction, pipe, O_CLOEXEC */
#include <microhttpd.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 1000
#define MAX_BODY 32 /* POST /counter: a number, not a document */

/* The application's state, touched only by the main thread. */
static long long counter;
static unsigned long long requests;
static unsigned long long ticks;
static unsigned long long wakeups;

/* Written to by the signal handler, read by the loop (self-pipe). */
static int signal_pipe[2] = { -1, -1 };

/* Per-request state of POST /counter: the body collected so far. */
struct post_body
{
  size_t len;
  int too_long;
  char data[MAX_BODY + 1];
};

/* Marks GET requests whose first call has been seen. */
static int get_marker;

static void
on_signal (int sig)
{
  int saved = errno;
  unsigned char b = (unsigned char) sig;

  if (write (signal_pipe[1], &b, 1) < 0)
  {
    /* the pipe is full: a stop is pending already */
  }
  errno = saved;
}

static unsigned long long
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (unsigned long long) ts.tv_sec * 1000u
         + (unsigned long long) ts.tv_nsec / 1000000u;
}

static enum MHD_Result
reply (struct MHD_Connection *c, unsigned int status, const char *type,
       const char *body)
{
  struct MHD_Response *r;
  enum MHD_Result ret;

  /* MUST_COPY: the bodies below are built in local buffers. */
  r = MHD_create_response_from_buffer (strlen (body), (void *) body,
                                       MHD_RESPMEM_MUST_COPY);
  if (NULL == r)
    return MHD_NO;
  MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  /* The counter changes: no cache may answer for us. */
  MHD_add_response_header (r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (MHD_HTTP_METHOD_NOT_ALLOWED == status)
    MHD_add_response_header (r, MHD_HTTP_HEADER_ALLOW, "GET, POST");
  ret = MHD_queue_response (c, status, r);
  MHD_destroy_response (r);
  return ret;
}

static enum MHD_Result
handle (void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  char body[512];
  int is_get = (0 == strcmp (method, MHD_HTTP_METHOD_GET));
  int is_post = (0 == strcmp (method, MHD_HTTP_METHOD_POST));

  (void) cls;
  (void) version;
  if (NULL == *con_cls)
  {
    /* First call: only the header is in. */
    requests++;
    if ( (0 != strcmp (url, "/")) && (0 != strcmp (url, "/counter")) )
      return reply (c, MHD_HTTP_NOT_FOUND, "text/plain", "Not Found\n");
    if (is_get)
      *con_cls = &get_marker;
    else if (is_post && (0 == strcmp (url, "/counter")))
    {
      struct post_body *pb = calloc (1, sizeof (*pb));
      if (NULL == pb)
        return MHD_NO;
      *con_cls = pb;
    }
    else
      return reply (c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
                    "Method Not Allowed\n");
    /* Returning without a response lets the library read the body (and
     * send "100 Continue" first if the client asked for it). */
    return MHD_YES;
  }
  if (&get_marker == *con_cls)
  {
    if (0 != *upload_data_size)
    {
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (0 == strcmp (url, "/counter"))
    {
      snprintf (body, sizeof (body), "%lld\n", counter);
      return reply (c, MHD_HTTP_OK, "text/plain", body);
    }
    counter++;
    snprintf (body, sizeof (body),
              "<!DOCTYPE html>\n<html><head><title>counter</title></head>\n"
              "<body><p>You are visitor number %lld.</p>\n"
              "<form method=\"post\" action=\"/counter\">"
              "<input name=\"n\" value=\"10\"><button>Add</button></form>\n"
              "</body></html>\n", counter);
    return reply (c, MHD_HTTP_OK, "text/html; charset=utf-8", body);
  }
  else
  {
    struct post_body *pb = *con_cls;
    long long n;
    char *end;

    if (0 != *upload_data_size)
    {
      if (pb->len + *upload_data_size > MAX_BODY)
        pb->too_long = 1; /* keep reading, answer at the end */
      else
      {
        memcpy (pb->data + pb->len, upload_data, *upload_data_size);
        pb->len += *upload_data_size;
      }
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (pb->too_long)
      return reply (c, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain",
                    "Body too large\n");
    pb->data[pb->len] = '\0';
    if (0 == strncmp (pb->data, "n=", 2)) /* what the HTML form sends */
      memmove (pb->data, pb->data + 2, pb->len - 1);
    errno = 0;
    n = strtoll (pb->data, &end, 10);
    while ( ('\r' == *end) || ('\n' == *end) )
      end++;
    if ( (end == pb->data) || ('\0' != *end) || (0 != errno) ||
         (n > 1000000) || (n < -1000000) )
      return reply (c, MHD_HTTP_BAD_REQUEST, "text/plain",
                    "Send a number between -1000000 and 1000000\n");
    counter += n;
    snprintf (body, sizeof (body), "%lld\n", counter);
    return reply (c, MHD_HTTP_OK, "text/plain", body);
  }
}

static void
completed (void *cls, struct MHD_Connection *c, void **con_cls,
           enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) c;
  (void) toe;
  if ( (NULL != *con_cls) && (&get_marker != *con_cls) )
    free (*con_cls);
  *con_cls = NULL;
}

/* Handles one line typed on stdin; returns 1 for "quit". */
static int
command (const char *line)
{
  if (0 == strcmp (line, "quit"))
    return 1;
  if (0 == strcmp (line, "stats"))
    printf ("counter=%lld requests=%llu ticks=%llu wakeups=%llu\n", counter,
            requests, ticks, wakeups);
  else if ('\0' != line[0])
    printf ("unknown command: %s (try stats or quit)\n", line);
  fflush (stdout);
  return 0;
}

static void
usage (const char *argv0)
{
  fprintf (stderr, "usage: %s [-p PORT] [-t IDLE_SECONDS]\n", argv0);
  exit (2);
}

int
main (int argc, char **argv)
{
  unsigned int port = 8080;
  unsigned int idle = 30;
  struct sockaddr_in addr;
  struct sigaction sa;
  struct MHD_Daemon *d;
  const union MHD_DaemonInfo *info;
  char line[256];
  size_t line_len = 0;
  int stdin_open = 1;
  int running = 1;
  unsigned long long next_tick;
  int opt;

  while (-1 != (opt = getopt (argc, argv, "p:t:")))
  {
    switch (opt)
    {
    case 'p':
      port = (unsigned int) strtoul (optarg, NULL, 10);
      break;
    case 't':
      idle = (unsigned int) strtoul (optarg, NULL, 10);
      break;
    default:
      usage (argv[0]);
    }
  }
  if ( (optind != argc) || (port > 65535) )
    usage (argv[0]);

  /* Signals only write a byte into a pipe that select() watches: the
   * loop then stops at a point where MHD is not in the middle of work. */
  if ( (0 != pipe (signal_pipe)) ||
       (0 != fcntl (signal_pipe[1], F_SETFL, O_NONBLOCK)) )
  {
    perror ("pipe");
    return 1;
  }
  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = &on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  /* A client that goes away while we write must not kill the process. */
  sa.sa_handler = SIG_IGN;
  sigaction (SIGPIPE, &sa, NULL);

  memset (&addr, 0, sizeof (addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons ((uint16_t) port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  /* No MHD_USE_INTERNAL_POLLING_THREAD: the loop below drives the daemon. */
  d = MHD_start_daemon (MHD_USE_ERROR_LOG, (uint16_t) port, NULL, NULL,
                        &handle, NULL,
                        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                        MHD_OPTION_NOTIFY_COMPLETED, &completed, NULL,
                        MHD_OPTION_CONNECTION_TIMEOUT, idle,
                        MHD_OPTION_END);
  if (NULL == d)
  {
    fprintf (stderr, "external_select: cannot start the daemon on port %u\n",
             port);
    return 1;
  }
  info = MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT);
  printf ("external_select: http://127.0.0.1:%u/ (commands: stats, quit)\n",
          (unsigned int) info->port);
  fflush (stdout);

  next_tick = now_ms () + TICK_MS;
  while (running)
  {
    fd_set rs, ws, es;
    MHD_socket max_fd = -1;
    MHD_UNSIGNED_LONG_LONG mhd_timeout;
    unsigned long long now, wait_ms;
    struct timeval tv;
    int n;

    FD_ZERO (&rs);
    FD_ZERO (&ws);
    FD_ZERO (&es);
    if (MHD_YES != MHD_get_fdset (d, &rs, &ws, &es, &max_fd))
    {
      fprintf (stderr, "external_select: MHD_get_fdset failed\n");
      break;
    }
    FD_SET (signal_pipe[0], &rs);
    if (signal_pipe[0] > max_fd)
      max_fd = signal_pipe[0];
    if (stdin_open)
    {
      FD_SET (STDIN_FILENO, &rs);
      if (STDIN_FILENO > max_fd)
        max_fd = STDIN_FILENO;
    }

    /* Sleep until our next tick, or sooner if MHD has something to do by
     * then (a connection timeout, data it already holds): MHD_YES means
     * MHD_run_from_select() must be called within that many ms. */
    now = now_ms ();
    wait_ms = (next_tick > now) ? next_tick - now : 0;
    if ( (MHD_YES == MHD_get_timeout (d, &mhd_timeout)) &&
         (mhd_timeout < wait_ms) )
      wait_ms = mhd_timeout;
    tv.tv_sec = (time_t) (wait_ms / 1000);
    tv.tv_usec = (suseconds_t) ((wait_ms % 1000) * 1000);

    n = select (max_fd + 1, &rs, &ws, &es, &tv);
    wakeups++;
    if (n < 0)
    {
      if (EINTR == errno)
        continue; /* the sets are undefined now; the pipe has the signal */
      perror ("select");
      break;
    }
    /* Called after every select(), ready sockets or not: MHD also
     * accepts, reads, writes and closes timed-out connections here. */
    MHD_run_from_select (d, &rs, &ws, &es);

    if (FD_ISSET (signal_pipe[0], &rs))
    {
      unsigned char sig;

      if (1 == read (signal_pipe[0], &sig, 1))
      {
        printf ("external_select: signal %d, stopping\n", sig);
        running = 0;
      }
    }
    if (stdin_open && FD_ISSET (STDIN_FILENO, &rs))
    {
      /* Read what is there; handle complete lines, keep the rest. */
      ssize_t got = read (STDIN_FILENO, line + line_len,
                          sizeof (line) - 1 - line_len);
      char *nl;

      if (got <= 0)
        stdin_open = 0; /* end of input: keep serving */
      else
      {
        line_len += (size_t) got;
        line[line_len] = '\0';
        while (running && (NULL != (nl = strchr (line, '\n'))))
        {
          *nl = '\0';
          if (command (line))
            running = 0;
          line_len -= (size_t) (nl + 1 - line);
          memmove (line, nl + 1, line_len + 1);
        }
        if (line_len == sizeof (line) - 1)
          line_len = 0; /* an overlong line: drop it */
      }
    }
    now = now_ms ();
    if (now >= next_tick)
    {
      ticks++;
      next_tick = now + TICK_MS;
    }
  }
  MHD_stop_daemon (d);
  printf ("external_select: stopped after %llu requests\n", requests);
  return 0;
}
