/* test_fd_setsize: a connection whose descriptor is >= FD_SETSIZE.
 *
 * The process holds more than FD_SETSIZE descriptors (the daemon was
 * started before, so its own sockets are below), and a client connects:
 * the server's socket for it is above FD_SETSIZE.
 *  - select modes (neither MHD_USE_POLL nor MHD_USE_EPOLL; thread per
 *    connection and pools included): 0.9.75 cannot watch it and closes
 *    the connection without an answer; ours keeps that limit (it waits
 *    with epoll inside, but honours what select mode promises), and the
 *    next connection below the limit is served again;
 *  - poll and epoll modes: served.
 * External modes are not run: the application's own select could not
 * watch the socket either way.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#define FILLER (FD_SETSIZE + 16)

static int fillers[FILLER];
static int n_fillers;

static void
fill_fds (void)
{
  int fd = open ("/dev/null", O_RDONLY);
  SETUP_CHECK (fd >= 0);
  n_fillers = 0;
  while (n_fillers < FILLER)
  {
    int d = dup (fd);
    SETUP_CHECK (d >= 0);
    fillers[n_fillers++] = d;
    if (d > FD_SETSIZE + 8)
      break;
  }
  close (fd);
}

static void
free_fds (void)
{
  int i;
  for (i = 0; i < n_fillers; i++)
    close (fillers[i]);
  n_fillers = 0;
}

static int
select_mode (void)
{
  return 0 == (cur_mode->flags & (MHD_USE_POLL | MHD_USE_EPOLL));
}

static void
run (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  struct http_resp r;
  int closed = 0, got;
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  if (! test_mode_internal ())
    return;
  d = START_DAEMON (0, &test_ok_handler, NULL, MHD_OPTION_END);
  port = test_daemon_port (d);
  fill_fds ();
  memset (&r, 0, sizeof (r));
  got = raw_request (port, req, strlen (req), 0, &r, &closed, 0);
  if (select_mode ())
    CHECK_MSG (! got, "select mode answered a connection at fd >= "
               "FD_SETSIZE (status %d)", r.status);
  else
  {
    CHECK_MSG (got, "a connection at fd >= FD_SETSIZE was not answered");
    if (got)
      CHECK_INT (200, r.status);
  }
  http_resp_free (&r);
  free_fds ();
  /* below the limit again: served in every mode */
  memset (&r, 0, sizeof (r));
  got = raw_request (port, req, strlen (req), 0, &r, &closed, 0);
  CHECK_MSG (got, "no answer once the descriptors are below FD_SETSIZE");
  if (got)
    CHECK_INT (200, r.status);
  http_resp_free (&r);
  test_stop_daemon (d);
}

int
main (void)
{
  struct rlimit rl;
  if ((0 != getrlimit (RLIMIT_NOFILE, &rl)) || (rl.rlim_max < FILLER + 256))
  {
    fprintf (stderr, "SKIP test_fd_setsize: RLIMIT_NOFILE below %d\n",
             FILLER + 256);
    return TEST_EXIT_SKIP;
  }
  if (rl.rlim_cur < FILLER + 256)
  {
    rl.rlim_cur = FILLER + 256;
    if (0 != setrlimit (RLIMIT_NOFILE, &rl))
    {
      fprintf (stderr, "SKIP test_fd_setsize: cannot raise RLIMIT_NOFILE\n");
      return TEST_EXIT_SKIP;
    }
  }
  return test_run_modes ("test_fd_setsize", run);
}
