/* test_limits: MHD_OPTION_CONNECTION_LIMIT and
 * MHD_OPTION_PER_IP_CONNECTION_LIMIT on real sockets.
 *
 * Connection limit 4 (a multiple of every pool size):
 * - four keep-alive clients are served and counted; a fifth gets no
 *   service while they stay open (it is either refused with a close or
 *   left waiting in the backlog);
 * - once one of the four leaves, the slot is usable again: the waiting
 *   client is served, or (if it was refused) a new client is.
 * Per-IP limit 2:
 * - two clients from 127.0.0.1 are served, a third from 127.0.0.1 is closed
 *   without a response ("immediately rejected");
 * - meanwhile a client from 127.0.0.2 is served;
 * - once a 127.0.0.1 client leaves, a new one from 127.0.0.1 is served. */
#include "common.h"
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

/* Send a GET and read the answer: 1 served (200 "ok"), 0 closed without
 * a response, -1 nothing within wait_ms. */
static int
try_request (int fd, int wait_ms)
{
  struct buf carry;
  struct http_resp r;
  int closed = 0;
  int rc;
  buf_init (&carry);
  raw_send_str (fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  rc = raw_read_response (fd, &carry, 0, &r, wait_ms, &closed);
  buf_free (&carry);
  if (1 == rc)
  {
    int ok = (200 == r.status) && (0 == strcmp ("ok", r.body.data));
    http_resp_free (&r);
    return ok ? 1 : -2;
  }
  return closed ? 0 : -1;
}

/* Read once more on a client that sent a request already. */
static int
await_response (int fd, int wait_ms)
{
  struct buf carry;
  struct http_resp r;
  int closed = 0;
  int rc;
  buf_init (&carry);
  rc = raw_read_response (fd, &carry, 0, &r, wait_ms, &closed);
  buf_free (&carry);
  if (1 == rc)
  {
    int ok = (200 == r.status);
    http_resp_free (&r);
    return ok ? 1 : -2;
  }
  return closed ? 0 : -1;
}

static void
part_connection_limit (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int fds[4], extra, i, rc;

  test_conns_started = test_conns_closed = 0;
  d = START_DAEMON (0, test_ok_handler, NULL,
                    MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 4,
                    MHD_OPTION_NOTIFY_CONNECTION, test_count_connections, NULL,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  for (i = 0; i < 4; i++)
  {
    fds[i] = raw_connect (port);
    SETUP_CHECK (fds[i] >= 0);
    rc = try_request (fds[i], RAW_TIMEOUT_MS);
    if ((1 != rc) && test_ref_pool ())
    {
      /* 0.9.75 splits the limit among the workers */
      test_diff ("thread pool: a client under the connection limit of 4 "
                 "%s", (0 == rc) ? "refused" : "not served");
      for (; i >= 0; i--)
        close (fds[i]);
      test_stop_daemon (d);
      return;
    }
    CHECK_MSG (1 == rc, "client %d of 4 (limit 4): %d", i, rc);
  }
  CHECK (test_wait_connections (d, 4, 5000));
  CHECK_INT (4, test_conns_started);

  /* a fifth: no service while the four stay */
  extra = raw_connect (port);
  if (extra >= 0)
  {
    rc = try_request (extra, 500);
    CHECK_MSG (1 != rc, "fifth client served despite the limit of 4");
    test_note ("fifth client over the limit: %s",
               (0 == rc) ? "closed" : "waiting in the backlog");
    CHECK (test_current_connections (d) <= 4);
    CHECK_INT (4, test_conns_started);
  }
  else
    rc = 0;

  /* one leaves: the slot can be used again */
  close (fds[0]);
  if (test_ref_tpc () &&
      ! test_wait_connections (d, (0 == rc) ? 3 : 4, 1000))
  {
    test_diff ("thread per connection: the connection count does not drop "
               "within 1 s after a client closed");
  }
  else if (-1 == rc)
  {
    CHECK_MSG (1 == await_response (extra, RAW_TIMEOUT_MS),
               "waiting client not served after a slot freed up");
  }
  else
  {
    int again;
    CHECK (test_wait_connections (d, 3, 5000));
    again = raw_connect (port);
    SETUP_CHECK (again >= 0);
    rc = try_request (again, RAW_TIMEOUT_MS);
    if ((1 != rc) && test_ref_pool ())
      test_diff ("thread pool: a new client refused after a slot freed up "
                 "(the slot belongs to another worker)");
    else
      CHECK_MSG (1 == rc, "new client not served after a slot freed up");
    close (again);
  }
  if (extra >= 0)
    close (extra);
  for (i = 1; i < 4; i++)
    close (fds[i]);
  test_stop_daemon (d);
}

static void
part_per_ip (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  int a, b, c, other, again;
  struct buf got;

  test_conns_started = test_conns_closed = 0;
  d = START_DAEMON (0, test_ok_handler, NULL,
                    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) 2,
                    MHD_OPTION_NOTIFY_CONNECTION, test_count_connections, NULL,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  a = raw_connect_from (port, 1, 0);
  b = raw_connect_from (port, 1, 0);
  SETUP_CHECK (a >= 0 && b >= 0);
  CHECK_MSG (1 == try_request (a, RAW_TIMEOUT_MS), "first client refused");
  CHECK_MSG (1 == try_request (b, RAW_TIMEOUT_MS), "second client refused");

  /* a third from the same address: closed at once, no response */
  c = raw_connect_from (port, 1, 0);
  SETUP_CHECK (c >= 0);
  buf_init (&got);
  raw_send_str (c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_MSG (raw_wait_closed (c, &got, RAW_TIMEOUT_MS),
             "third client from 127.0.0.1 not closed (per-IP limit 2)");
  CHECK_MSG (0 == got.len, "third client from 127.0.0.1 got %zu bytes: %s",
             got.len, got.data);
  buf_free (&got);
  close (c);

  /* another address is not affected */
  other = raw_connect_from (port, 2, 0);
  if (other < 0)
    test_note ("cannot bind 127.0.0.2: other-address case skipped");
  else
    CHECK_MSG (1 == try_request (other, RAW_TIMEOUT_MS),
               "client from 127.0.0.2 refused while 127.0.0.1 is at its "
               "limit");

  /* one from 127.0.0.1 leaves: a new one from there is served */
  close (a);
  if (test_ref_tpc () &&
      ! test_wait_connections (d, (other >= 0) ? 2 : 1, 1000))
    test_diff ("thread per connection: the connection count does not drop "
               "within 1 s after a client closed");
  else
  {
    CHECK (test_wait_connections (d, (other >= 0) ? 2 : 1, 5000));
    again = raw_connect_from (port, 1, 0);
    SETUP_CHECK (again >= 0);
    CHECK_MSG (1 == try_request (again, RAW_TIMEOUT_MS),
               "client from 127.0.0.1 refused after one of its two left");
    close (again);
  }
  close (b);
  if (other >= 0)
    close (other);
  test_stop_daemon (d);
}

/* A tiny MHD_OPTION_CONNECTION_MEMORY_LIMIT: small requests are served, a
 * head that does not fit gets 431 and the connection closed. */
static void
part_small_memory (void)
{
  struct MHD_Daemon *d = START_DAEMON (0, test_ok_handler, NULL,
                                       MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                       (size_t) 1024,
                                       MHD_OPTION_END);
  uint16_t port = test_daemon_port (d);
  struct buf b;
  char big[2048];
  int fd;
  int i;
  for (i = 0; i < 3; i++)
  {
    fd = raw_connect (port);
    SETUP_CHECK (fd >= 0);
    buf_init (&b);
    raw_send_str (fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK_INT (RAW_EOF, raw_read_until_close (fd, &b, RAW_TIMEOUT_MS));
    CHECK_MSG ((b.len > 12) && (0 == strncmp (b.data, "HTTP/1.1 200 ", 13)),
               "1 KiB memory limit: small request not served");
    buf_free (&b);
    close (fd);
  }
  memset (big, 'a', sizeof (big));
  memcpy (big, "X-Big: ", 7);
  big[sizeof (big) - 1] = '\0';
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  buf_init (&b);
  raw_send_str (fd, "GET / HTTP/1.1\r\nHost: x\r\n");
  raw_send_str (fd, big);
  raw_send_str (fd, "\r\n\r\n");
  raw_read_until_close (fd, &b, RAW_TIMEOUT_MS);
  CHECK_MSG ((b.len > 12) && (0 == strncmp (b.data, "HTTP/1.1 431 ", 13)),
             "1 KiB memory limit: a 2 KiB header did not get 431");
  buf_free (&b);
  close (fd);
  test_stop_daemon (d);
}

static void
run (void)
{
  part_connection_limit ();
  part_per_ip ();
  part_small_memory ();
}

int
main (void)
{
  return test_run_modes ("test_limits", run);
}
