/* Unit test of src/shim/variadics.c alone: the shim is compiled into this
 * program with mock mhd_rs_* functions that record what they receive.
 * Built and run by `make shim-test`. Exit 0 pass, 99 error. */
#include "../src/shim/variadics.c"

static struct MHD_OptionItem got[64];
static size_t n_got;
static unsigned int got_flags;
static uint16_t got_port;

struct MHD_Daemon *
mhd_rs_start_daemon (unsigned int flags, uint16_t port,
                     MHD_AcceptPolicyCallback apc, void *apc_cls,
                     MHD_AccessHandlerCallback dh, void *dh_cls,
                     const struct MHD_OptionItem *opts, size_t n_opts)
{
  (void) apc; (void) apc_cls; (void) dh; (void) dh_cls;
  got_flags = flags;
  got_port = port;
  n_got = n_opts < 64 ? n_opts : 64;
  memcpy (got, opts, n_got * sizeof (*opts));
  return (struct MHD_Daemon *) &got;   /* any non-NULL value */
}

static int last_info_type = -1;
static const void *last_arg = (const void *) 1;
const union MHD_ConnectionInfo *
mhd_rs_get_connection_info (struct MHD_Connection *c, int t, const void *arg)
{
  (void) c;
  last_info_type = t;
  last_arg = arg;
  return NULL;
}

const union MHD_DaemonInfo *
mhd_rs_get_daemon_info (struct MHD_Daemon *d, int t)
{
  (void) d;
  last_info_type = t;
  return NULL;
}

static unsigned int last_timeout;
enum MHD_Result
mhd_rs_set_connection_option (struct MHD_Connection *c, int o, unsigned int t)
{
  (void) c; (void) o;
  last_timeout = t;
  return MHD_YES;
}

static size_t last_n_ro = 99;
enum MHD_Result
mhd_rs_set_response_options (struct MHD_Response *r, unsigned int flags,
                             const int *opts, size_t n)
{
  (void) r; (void) flags; (void) opts;
  last_n_ro = n;
  return MHD_YES;
}

enum MHD_Result
mhd_rs_upgrade_action (struct MHD_UpgradeResponseHandle *u, int a)
{
  (void) u;
  last_info_type = a;
  return MHD_NO;
}

static void
completed (void *cls, struct MHD_Connection *c, void **cc,
           enum MHD_RequestTerminationCode toe)
{
  (void) cls; (void) c; (void) cc; (void) toe;
}

static void
logger (void *cls, const char *fm, va_list ap)
{
  vsnprintf ((char *) cls, 64, fm, ap);
}

#define CHECK(c) do { if (! (c)) { fprintf (stderr, "shim_test: %s:%d: %s\n", \
                                               __FILE__, __LINE__, #c); return 99; } } while (0)

static int
expect (size_t i, int option, intptr_t value, void *ptr)
{
  if (i >= n_got || (int) got[i].option != option || got[i].value != value
      || got[i].ptr_value != ptr)
  {
    fprintf (stderr, "shim_test: item %zu: got {%d,%ld,%p} want {%d,%ld,%p}\n",
             i, i < n_got ? (int) got[i].option : -1,
             i < n_got ? (long) got[i].value : 0L,
             i < n_got ? got[i].ptr_value : NULL, option, (long) value, ptr);
    return 1;
  }
  return 0;
}

int
main (void)
{
  char key[] = "k", buf[64];
  int cls_marker;
  struct sockaddr sa;
  struct MHD_OptionItem inner[] = {
    { MHD_OPTION_THREAD_POOL_SIZE, 4, NULL },
    { MHD_OPTION_END, 0, NULL }
  };
  struct MHD_OptionItem outer[] = {
    { MHD_OPTION_CONNECTION_LIMIT, 100, NULL },
    { MHD_OPTION_ARRAY, 0, inner },
    { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) &completed, &cls_marker },
    { MHD_OPTION_END, 0, NULL }
  };
  int bad = 0;

  CHECK (NULL != MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD, 8080,
                                   NULL, NULL, NULL, NULL,
                                   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 123456789012ULL,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 7,
                                   MHD_OPTION_NOTIFY_COMPLETED, &completed, &cls_marker,
                                   MHD_OPTION_SOCK_ADDR, &sa,
                                   MHD_OPTION_EXTERNAL_LOGGER, &logger, buf,
                                   MHD_OPTION_LISTEN_SOCKET, (MHD_socket) 5,
                                   MHD_OPTION_DIGEST_AUTH_RANDOM, sizeof (key), key,
                                   MHD_OPTION_STRICT_FOR_CLIENT, -1,
                                   MHD_OPTION_HTTPS_MEM_KEY, "KEY",
                                   MHD_OPTION_ARRAY, outer,
                                   MHD_OPTION_THREAD_STACK_SIZE, (size_t) 65536,
                                   MHD_OPTION_END));
  CHECK (8 == got_flags && 8080 == got_port);
  bad |= expect (0, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t) 123456789012ULL, NULL);
  bad |= expect (1, MHD_OPTION_CONNECTION_TIMEOUT, 7, NULL);
  bad |= expect (2, MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) &completed, &cls_marker);
  bad |= expect (3, MHD_OPTION_SOCK_ADDR, 0, &sa);
  bad |= expect (4, MHD_OPTION_EXTERNAL_LOGGER, (intptr_t) &logger, buf);
  bad |= expect (5, MHD_OPTION_LISTEN_SOCKET, 5, NULL);
  bad |= expect (6, MHD_OPTION_DIGEST_AUTH_RANDOM, (intptr_t) sizeof (key), key);
  bad |= expect (7, MHD_OPTION_STRICT_FOR_CLIENT, -1, NULL);
  CHECK (8 < n_got && 0 == strcmp ((const char *) got[8].ptr_value, "KEY"));
  bad |= expect (9, MHD_OPTION_CONNECTION_LIMIT, 100, NULL);
  bad |= expect (10, MHD_OPTION_THREAD_POOL_SIZE, 4, NULL);
  bad |= expect (11, MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) &completed, &cls_marker);
  bad |= expect (12, MHD_OPTION_THREAD_STACK_SIZE, 65536, NULL);
  CHECK (0 == bad && 13 == n_got);

  /* Unknown option: reading stops, it is passed as the last item. */
  CHECK (NULL != MHD_start_daemon (0, 0, NULL, NULL, NULL, NULL,
                                   MHD_OPTION_CONNECTION_LIMIT, 3u,
                                   (enum MHD_OPTION) 4242, 1, 2, 3,
                                   MHD_OPTION_END));
  CHECK (2 == n_got);
  bad |= expect (1, 4242, 0, NULL);
  CHECK (0 == bad);

  /* No options at all. */
  CHECK (NULL != MHD_start_daemon (0, 0, NULL, NULL, NULL, NULL, MHD_OPTION_END));
  CHECK (0 == n_got);

  CHECK (NULL == MHD_get_connection_info (NULL, MHD_CONNECTION_INFO_CLIENT_ADDRESS));
  CHECK (MHD_CONNECTION_INFO_CLIENT_ADDRESS == last_info_type && NULL == last_arg);
  CHECK (NULL == MHD_get_daemon_info (NULL, MHD_DAEMON_INFO_BIND_PORT));
  CHECK (MHD_DAEMON_INFO_BIND_PORT == last_info_type);
  CHECK (MHD_YES == MHD_set_connection_option (NULL, MHD_CONNECTION_OPTION_TIMEOUT, 42u));
  CHECK (42 == last_timeout);
  CHECK (MHD_YES == MHD_set_response_options (NULL, MHD_RF_HTTP_1_0_SERVER, MHD_RO_END));
  CHECK (0 == last_n_ro);
  CHECK (MHD_YES == MHD_set_response_options (NULL, MHD_RF_NONE, (enum MHD_ResponseOptions) 5, MHD_RO_END));
  CHECK (1 == last_n_ro);
  CHECK (MHD_NO == MHD_upgrade_action (NULL, MHD_UPGRADE_ACTION_CORK_OFF));
  CHECK (MHD_UPGRADE_ACTION_CORK_OFF == last_info_type);

  /* The logger trampoline hands a working va_list to the application. */
  mhd_rs_call_logger (&logger, buf, "%s-%d", "x", 7);
  CHECK (0 == strcmp (buf, "x-7"));
  return 0;
}
