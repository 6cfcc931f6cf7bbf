/* test_ipv6: MHD_USE_IPv6 and MHD_USE_DUAL_STACK on ::1 (skips with 77
 * when the host has no IPv6 loopback). */
#include "common.h"
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  static int marker;
  const union MHD_ConnectionInfo *ci;
  char body[128] = "?";
  (void) cls;
  (void) url;
  (void) method;
  (void) version;
  (void) upload;
  (void) upload_size;
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    return MHD_YES;
  }
  ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if ((NULL != ci) && (NULL != ci->client_addr))
  {
    const struct sockaddr_in6 *s6 =
      (const struct sockaddr_in6 *) ci->client_addr;
    char a[INET6_ADDRSTRLEN];
    if (AF_INET6 == s6->sin6_family)
    {
      inet_ntop (AF_INET6, &s6->sin6_addr, a, sizeof (a));
      snprintf (body, sizeof (body), "v6 %s %u", a,
                (unsigned) ntohs (s6->sin6_port));
    }
    else
      snprintf (body, sizeof (body), "family %d",
                (int) ci->client_addr->sa_family);
  }
  return test_reply (c, MHD_HTTP_OK, body);
}

static int
have_ipv6 (void)
{
  struct sockaddr_in6 sa;
  int s = socket (AF_INET6, SOCK_STREAM, 0);
  int ok;
  if (s < 0)
    return 0;
  memset (&sa, 0, sizeof (sa));
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  ok = (0 == bind (s, (struct sockaddr *) &sa, sizeof (sa)));
  close (s);
  return ok && (MHD_YES == MHD_is_feature_supported (MHD_FEATURE_IPv6));
}

static void
check_v6 (uint16_t port)
{
  int fd = raw_connect6 (port);
  struct buf carry;
  struct http_resp r;
  struct sockaddr_in6 me;
  socklen_t ml = sizeof (me);
  char exp[128];
  CHECK (fd >= 0);
  if (fd < 0)
    return;
  getsockname (fd, (struct sockaddr *) &me, &ml);
  buf_init (&carry);
  raw_send_str (fd, "GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n");
  if (1 == raw_read_response (fd, &carry, 0, &r, RAW_TIMEOUT_MS, NULL))
  {
    snprintf (exp, sizeof (exp), "v6 ::1 %u", (unsigned) ntohs (me.sin6_port));
    CHECK_INT (200, r.status);
    CHECK_STR (exp, r.body.data);
    http_resp_free (&r);
  }
  else
    test_fail (__FILE__, __LINE__, "no response over ::1");
  close (fd);
  buf_free (&carry);
}

static void
run (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  struct curl_res rs;
  struct curl_req rq;

  if (! have_ipv6 ())
  {
    test_skip ("no IPv6 loopback");
    return;
  }
  /* IPv6 only */
  d = START_DAEMON (MHD_USE_IPv6, handler, NULL, MHD_OPTION_END);
  port = test_daemon_port (d);
  check_v6 (port);
  memset (&rq, 0, sizeof (rq));
  rq.ipv6 = 1;
  CHECK (curl_do (port, &rq, &rs));
  CHECK_INT (200, rs.status);
  CHECK (0 == strncmp (rs.body.data, "v6 ::1 ", 7));
  curl_res_free (&rs);
  test_stop_daemon (d);

  /* dual stack: ::1 and 127.0.0.1 (seen as v4-mapped) */
  d = START_DAEMON (MHD_USE_DUAL_STACK, handler, NULL, MHD_OPTION_END);
  port = test_daemon_port (d);
  check_v6 (port);
  CHECK (curl_get (port, "/", &rs));
  CHECK_INT (200, rs.status);
  CHECK_MSG (0 == strncmp (rs.body.data, "v6 ::ffff:127.0.0.1 ", 20),
             "dual stack IPv4 client seen as \"%s\"", rs.body.data);
  curl_res_free (&rs);
  test_stop_daemon (d);
}

int
main (void)
{
  return test_run_modes ("test_ipv6", run);
}
