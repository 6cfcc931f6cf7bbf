/* capi-tests/common.c -- see common.h */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <ctype.h>
#include <dirent.h>

/* ------------------------------------------------------------------ */
/* Modes: the one place to add a mode.                                 */
/* ------------------------------------------------------------------ */

#define IPT MHD_USE_INTERNAL_POLLING_THREAD
#define TPC (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION)
const struct test_mode test_modes[] = {
  /* name, flags, drive, feature, default_on, pool_size */
  { "select", IPT, TD_INTERNAL, 0, 1, 0 },
  { "poll", IPT | MHD_USE_POLL, TD_INTERNAL, MHD_FEATURE_POLL, 1, 0 },
  { "epoll", IPT | MHD_USE_EPOLL, TD_INTERNAL, MHD_FEATURE_EPOLL, 1, 0 },
  { "thread-per-connection", TPC, TD_INTERNAL, 0, 1, 0 },
  { "thread-per-connection-poll", TPC | MHD_USE_POLL, TD_INTERNAL,
    MHD_FEATURE_POLL, 1, 0 },
  { "pool2-select", IPT, TD_INTERNAL, 0, 1, 2 },
  { "pool2-poll", IPT | MHD_USE_POLL, TD_INTERNAL, MHD_FEATURE_POLL, 1, 2 },
  { "pool2-epoll", IPT | MHD_USE_EPOLL, TD_INTERNAL, MHD_FEATURE_EPOLL, 1, 2 },
  { "pool4-select", IPT, TD_INTERNAL, 0, 1, 4 },
  { "pool4-poll", IPT | MHD_USE_POLL, TD_INTERNAL, MHD_FEATURE_POLL, 1, 4 },
  { "pool4-epoll", IPT | MHD_USE_EPOLL, TD_INTERNAL, MHD_FEATURE_EPOLL, 1, 4 },
  { "external-select", 0, TD_EXTERNAL_SELECT, 0, 1, 0 },
  { "external-epoll", MHD_USE_EPOLL, TD_EXTERNAL_EPOLL, MHD_FEATURE_EPOLL, 1,
    0 },
};
#undef IPT
#undef TPC
const size_t test_modes_count = sizeof (test_modes) / sizeof (test_modes[0]);
const struct test_mode *cur_mode = &test_modes[0];

volatile int test_failures;
static int test_skipped;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *cur_test_name = "?";

int
test_is_reference (void)
{
  const char *e = getenv ("MHD_TEST_REFERENCE");
  return (NULL != e) && (0 != strcmp (e, "")) && (0 != strcmp (e, "0"));
}

int
test_ref_tpc (void)
{
  return test_is_reference () &&
         (0 != (cur_mode->flags & MHD_USE_THREAD_PER_CONNECTION));
}

int
test_ref_pool (void)
{
  return test_is_reference () && (0 != cur_mode->pool_size);
}

int
test_verbose (void)
{
  const char *e = getenv ("MHD_TEST_VERBOSE");
  return (NULL != e) && (0 != strcmp (e, "")) && (0 != strcmp (e, "0"));
}

void
test_note (const char *fmt, ...)
{
  va_list ap;
  if (! test_verbose ())
    return;
  pthread_mutex_lock (&print_lock);
  fprintf (stderr, "note [%s]: ", cur_mode->name);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  pthread_mutex_unlock (&print_lock);
}

void
test_diff (const char *fmt, ...)
{
  static char seen[64][200];
  static int nseen;
  char msg[200];
  int i;
  va_list ap;
  if (! test_is_reference ())
    return;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof (msg), fmt, ap);
  va_end (ap);
  pthread_mutex_lock (&print_lock);
  for (i = 0; i < nseen; i++)
    if (0 == strcmp (seen[i], msg))
      break;
  if (i == nseen)
  {
    if (nseen < 64)
      strcpy (seen[nseen++], msg);
    fprintf (stderr, "DIFF %s: %s\n", cur_test_name, msg);
  }
  pthread_mutex_unlock (&print_lock);
}

void
test_fail (const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  ATOMIC_INC (&test_failures);
  pthread_mutex_lock (&print_lock);
  fprintf (stderr, "FAIL %s:%d [%s %s]: ", file, line, cur_test_name,
           cur_mode->name);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  fflush (stderr);
  pthread_mutex_unlock (&print_lock);
}

void
test_skip (const char *fmt, ...)
{
  va_list ap;
  test_skipped = 1;
  fprintf (stderr, "SKIP [%s %s]: ", cur_test_name, cur_mode->name);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
}

void
test_error_exit (const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  fprintf (stderr, "ERROR %s:%d [%s %s]: ", file, line, cur_test_name,
           cur_mode->name);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  fflush (stderr);
  _exit (TEST_EXIT_ERROR);
}

static void
print_escaped (FILE *f, const void *p, size_t n)
{
  const unsigned char *s = p;
  size_t i;
  size_t lim = n > 300 ? 300 : n;
  fputc ('"', f);
  for (i = 0; i < lim; i++)
  {
    if (s[i] == '\r')
      fputs ("\\r", f);
    else if (s[i] == '\n')
      fputs ("\\n", f);
    else if ((s[i] < 32) || (s[i] >= 127) || (s[i] == '"') || (s[i] == '\\'))
      fprintf (f, "\\x%02x", s[i]);
    else
      fputc (s[i], f);
  }
  fputc ('"', f);
  if (lim < n)
    fprintf (f, "...(%zu bytes)", n);
}

void
test_check_str (const char *file, int line, const char *what,
                const char *exp, const char *act)
{
  if ((exp == act) || ((NULL != exp) && (NULL != act) && (0 == strcmp (exp,
                                                                       act))))
    return;
  ATOMIC_INC (&test_failures);
  pthread_mutex_lock (&print_lock);
  fprintf (stderr, "FAIL %s:%d [%s %s]: %s: expected ", file, line,
           cur_test_name, cur_mode->name, what);
  if (NULL == exp)
    fputs ("NULL", stderr);
  else
    print_escaped (stderr, exp, strlen (exp));
  fputs (", got ", stderr);
  if (NULL == act)
    fputs ("NULL", stderr);
  else
    print_escaped (stderr, act, strlen (act));
  fputc ('\n', stderr);
  pthread_mutex_unlock (&print_lock);
}

void
test_check_mem (const char *file, int line, const char *what,
                const void *exp, size_t explen,
                const void *act, size_t actlen)
{
  size_t i;
  if ((explen == actlen) && ((0 == explen) || (0 == memcmp (exp, act,
                                                            explen))))
    return;
  ATOMIC_INC (&test_failures);
  pthread_mutex_lock (&print_lock);
  fprintf (stderr, "FAIL %s:%d [%s %s]: %s: expected %zu bytes ", file, line,
           cur_test_name, cur_mode->name, what, explen);
  print_escaped (stderr, exp, explen);
  fprintf (stderr, ", got %zu bytes ", actlen);
  print_escaped (stderr, act, actlen);
  for (i = 0; i < explen && i < actlen; i++)
    if (((const char *) exp)[i] != ((const char *) act)[i])
      break;
  fprintf (stderr, " (first difference at offset %zu)\n", i);
  pthread_mutex_unlock (&print_lock);
}

int
test_mode_internal (void)
{
  return TD_INTERNAL == cur_mode->drive;
}

int
test_mode_external (void)
{
  return TD_INTERNAL != cur_mode->drive;
}

int
test_mode_tpc (void)
{
  return 0 != (cur_mode->flags & MHD_USE_THREAD_PER_CONNECTION);
}

int
test_mode_pool (void)
{
  return 0 != cur_mode->pool_size;
}

static int
mode_selected (const struct test_mode *m)
{
  const char *e = getenv ("MHD_TEST_MODES");
  const char *p;
  size_t n;
  if ((NULL == e) || ('\0' == *e))
    return m->default_on;
  if (0 == strcmp (e, "all"))
    return 1;
  n = strlen (m->name);
  for (p = e; NULL != (p = strstr (p, m->name)); p += n)
  {
    if (((p == e) || (p[-1] == ',')) && ((p[n] == '\0') || (p[n] == ',')))
      return 1;
  }
  return 0;
}

int
test_run_modes (const char *test_name, void (*per_mode)(void))
{
  size_t i;
  int ran = 0;
  cur_test_name = test_name;
  signal (SIGPIPE, SIG_IGN);
  if (0 != curl_global_init (CURL_GLOBAL_ALL))
    SETUP_FAIL ("curl_global_init failed");
  for (i = 0; i < test_modes_count; i++)
  {
    const struct test_mode *m = &test_modes[i];
    int before = test_failures;
    if (! mode_selected (m))
      continue;
    cur_mode = m;
    if ((0 != m->feature) &&
        (MHD_YES != MHD_is_feature_supported ((enum MHD_FEATURE) m->feature)))
    {
      fprintf (stderr, "mode %s not supported by this library, skipped\n",
               m->name);
      continue;
    }
    ran++;
    per_mode ();
    fprintf (stderr, "%s [%s]: %s\n", test_name, m->name,
             (test_failures == before) ? "ok" : "FAILED");
  }
  curl_global_cleanup ();
  if (0 != test_failures)
  {
    fprintf (stderr, "%s: %d check(s) failed\n", test_name, test_failures);
    return TEST_EXIT_FAIL;
  }
  if (test_skipped || (0 == ran))
    return TEST_EXIT_SKIP;
  return TEST_EXIT_PASS;
}

/* ------------------------------------------------------------------ */
/* Daemon start/stop, with driver threads for the external modes       */
/* ------------------------------------------------------------------ */

struct driver
{
  struct MHD_Daemon *d;
  pthread_t thread;
  volatile int stop;
  enum test_drive drive;
  struct driver *next;
  /* test_in_driver(): one call at a time, run between two MHD_run* */
  pthread_mutex_t call_lock;
  void (*call)(void *);
  void *call_arg;
  volatile int call_seq;    /* incremented by the caller */
  volatile int call_done;   /* set to call_seq by the driver */
};
static struct driver *drivers;
static pthread_mutex_t drivers_lock = PTHREAD_MUTEX_INITIALIZER;

static void *
driver_main (void *arg)
{
  struct driver *dr = arg;
  while (! ATOMIC_GET (&dr->stop))
  {
    int seq = ATOMIC_GET (&dr->call_seq);
    if (seq != ATOMIC_GET (&dr->call_done))
    {
      dr->call (dr->call_arg);
      ATOMIC_SET (&dr->call_done, seq);
    }
    MHD_UNSIGNED_LONG_LONG to = 0;
    int tmo_ms = 20;
    if ((MHD_YES == MHD_get_timeout (dr->d, &to)) && (to < (unsigned) tmo_ms))
      tmo_ms = (int) to;
    if (TD_EXTERNAL_SELECT == dr->drive)
    {
      fd_set rs, ws, es;
      MHD_socket maxfd = 0;
      struct timeval tv;
      FD_ZERO (&rs);
      FD_ZERO (&ws);
      FD_ZERO (&es);
      if (MHD_YES != MHD_get_fdset (dr->d, &rs, &ws, &es, &maxfd))
      {
        test_sleep_ms (1);
        continue;
      }
      tv.tv_sec = 0;
      tv.tv_usec = tmo_ms * 1000;
      if (select (maxfd + 1, &rs, &ws, &es, &tv) < 0)
      {
        if (EINTR != errno)
          test_sleep_ms (1);
        continue;
      }
      MHD_run_from_select (dr->d, &rs, &ws, &es);
    }
    else
    {
      const union MHD_DaemonInfo *di =
        MHD_get_daemon_info (dr->d, MHD_DAEMON_INFO_EPOLL_FD);
      struct pollfd pfd;
      if (NULL == di)
      {
        test_sleep_ms (1);
        continue;
      }
      pfd.fd = di->epoll_fd;
      pfd.events = POLLIN;
      pfd.revents = 0;
      (void) poll (&pfd, 1, tmo_ms);
      MHD_run (dr->d);
    }
  }
  return NULL;
}

/* How MHD_OPTION_ARRAY reads each option (0.9.75's parse_options_va). */
enum opt_kind
{
  OK_UNKNOWN = 0,
  OK_SIZE,        /* size_t in value */
  OK_UINT,        /* unsigned int in value */
  OK_INT,         /* int (or enum, or MHD_socket) in value */
  OK_PTR,         /* one pointer in ptr_value */
  OK_FN_CLS,      /* function pointer in value, closure in ptr_value */
  OK_SIZE_PTR     /* size_t in value, pointer in ptr_value */
};

static enum opt_kind
opt_kind (enum MHD_OPTION o)
{
  switch (o)
  {
  case MHD_OPTION_CONNECTION_MEMORY_LIMIT:
  case MHD_OPTION_CONNECTION_MEMORY_INCREMENT:
  case MHD_OPTION_THREAD_STACK_SIZE:
    return OK_SIZE;
  case MHD_OPTION_CONNECTION_LIMIT:
  case MHD_OPTION_CONNECTION_TIMEOUT:
  case MHD_OPTION_PER_IP_CONNECTION_LIMIT:
  case MHD_OPTION_THREAD_POOL_SIZE:
  case MHD_OPTION_NONCE_NC_SIZE:
  case MHD_OPTION_LISTEN_BACKLOG_SIZE:
  case MHD_OPTION_TCP_FASTOPEN_QUEUE_SIZE:
  case MHD_OPTION_LISTENING_ADDRESS_REUSE:
    return OK_UINT;
  case MHD_OPTION_HTTPS_CRED_TYPE:
  case MHD_OPTION_LISTEN_SOCKET:
  case MHD_OPTION_STRICT_FOR_CLIENT:
  case MHD_OPTION_SIGPIPE_HANDLED_BY_APP:
  case MHD_OPTION_TLS_NO_ALPN:
    return OK_INT;
  case MHD_OPTION_SOCK_ADDR:
  case MHD_OPTION_HTTPS_MEM_KEY:
  case MHD_OPTION_HTTPS_MEM_CERT:
  case MHD_OPTION_HTTPS_PRIORITIES:
  case MHD_OPTION_HTTPS_MEM_TRUST:
  case MHD_OPTION_HTTPS_MEM_DHPARAMS:
  case MHD_OPTION_HTTPS_KEY_PASSWORD:
  case MHD_OPTION_HTTPS_CERT_CALLBACK:
  case MHD_OPTION_HTTPS_CERT_CALLBACK2:
  case MHD_OPTION_ARRAY:
    return OK_PTR;
  case MHD_OPTION_NOTIFY_COMPLETED:
  case MHD_OPTION_NOTIFY_CONNECTION:
  case MHD_OPTION_URI_LOG_CALLBACK:
  case MHD_OPTION_EXTERNAL_LOGGER:
  case MHD_OPTION_UNESCAPE_CALLBACK:
  case MHD_OPTION_GNUTLS_PSK_CRED_HANDLER:
    return OK_FN_CLS;
  case MHD_OPTION_DIGEST_AUTH_RANDOM:
    return OK_SIZE_PTR;
  default:
    return OK_UNKNOWN;
  }
}

int
test_options_to_array (va_list ap, struct MHD_OptionItem *out, size_t max)
{
  size_t n = 0;
  for (;;)
  {
    enum MHD_OPTION o = (enum MHD_OPTION) va_arg (ap, int);
    struct MHD_OptionItem it;
    if (n + 1 > max)
      return -1;
    memset (&it, 0, sizeof (it));
    it.option = o;
    if (MHD_OPTION_END == o)
    {
      out[n] = it;
      return (int) n;
    }
    switch (opt_kind (o))
    {
    case OK_SIZE:
      it.value = (intptr_t) va_arg (ap, size_t);
      break;
    case OK_UINT:
      it.value = (intptr_t) va_arg (ap, unsigned int);
      break;
    case OK_INT:
      it.value = (intptr_t) va_arg (ap, int);
      break;
    case OK_PTR:
      it.ptr_value = va_arg (ap, void *);
      break;
    case OK_FN_CLS:
      {
        void (*fn)(void) = va_arg (ap, void (*)(void));
        it.value = (intptr_t) fn;
        it.ptr_value = va_arg (ap, void *);
      }
      break;
    case OK_SIZE_PTR:
      it.value = (intptr_t) va_arg (ap, size_t);
      it.ptr_value = va_arg (ap, void *);
      break;
    default:
      return -1;
    }
    out[n++] = it;
  }
}

static struct MHD_Daemon *
start_va (unsigned int extra_flags, MHD_AcceptPolicyCallback apc,
          void *apc_cls, MHD_AccessHandlerCallback dh,
          void *dh_cls, va_list ap)
{
  struct MHD_Daemon *d;
  unsigned int flags = cur_mode->flags | extra_flags;
  if (0 != cur_mode->pool_size)
  {
    /* MHD_OPTION_THREAD_POOL_SIZE first, then the caller's options through
     * MHD_OPTION_ARRAY */
    struct MHD_OptionItem items[64];
    va_list cp;
    int n;
    va_copy (cp, ap);
    n = test_options_to_array (cp, items, sizeof (items) / sizeof (items[0]));
    va_end (cp);
    if (n < 0)
      SETUP_FAIL ("test_options_to_array: unknown option or too many");
    d = MHD_start_daemon (flags, 0, apc, apc_cls, dh, dh_cls,
                          MHD_OPTION_THREAD_POOL_SIZE, cur_mode->pool_size,
                          MHD_OPTION_ARRAY, items,
                          MHD_OPTION_END);
  }
  else
    d = MHD_start_daemon_va (flags, 0, apc, apc_cls, dh, dh_cls, ap);
  if (NULL == d)
    return NULL;
  if (TD_INTERNAL != cur_mode->drive)
  {
    struct driver *dr = calloc (1, sizeof (*dr));
    if (NULL == dr)
      abort ();
    dr->d = d;
    dr->drive = cur_mode->drive;
    pthread_mutex_init (&dr->call_lock, NULL);
    if (0 != pthread_create (&dr->thread, NULL, driver_main, dr))
      SETUP_FAIL ("pthread_create");
    pthread_mutex_lock (&drivers_lock);
    dr->next = drivers;
    drivers = dr;
    pthread_mutex_unlock (&drivers_lock);
  }
  return d;
}

struct MHD_Daemon *
test_start_daemon (unsigned int extra_flags, MHD_AccessHandlerCallback dh,
                   void *dh_cls, ...)
{
  struct MHD_Daemon *d;
  va_list ap;
  va_start (ap, dh_cls);
  d = start_va (extra_flags, NULL, NULL, dh, dh_cls, ap);
  va_end (ap);
  return d;
}

struct MHD_Daemon *
test_start_daemon_apc (unsigned int extra_flags,
                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                       MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
  struct MHD_Daemon *d;
  va_list ap;
  va_start (ap, dh_cls);
  d = start_va (extra_flags, apc, apc_cls, dh, dh_cls, ap);
  va_end (ap);
  return d;
}

struct MHD_Daemon *
test_start_daemon_or_die (const char *file, int line,
                          unsigned int extra_flags,
                          MHD_AccessHandlerCallback dh,
                          void *dh_cls, ...)
{
  struct MHD_Daemon *d;
  va_list ap;
  va_start (ap, dh_cls);
  d = start_va (extra_flags, NULL, NULL, dh, dh_cls, ap);
  va_end (ap);
  if (NULL == d)
    test_error_exit (file, line, "MHD_start_daemon failed (flags 0x%x)",
                     cur_mode->flags | extra_flags);
  return d;
}

void
test_stop_daemon (struct MHD_Daemon *d)
{
  struct driver **pp;
  struct driver *dr = NULL;
  if (NULL == d)
    return;
  pthread_mutex_lock (&drivers_lock);
  for (pp = &drivers; NULL != *pp; pp = &(*pp)->next)
    if ((*pp)->d == d)
    {
      dr = *pp;
      *pp = dr->next;
      break;
    }
  pthread_mutex_unlock (&drivers_lock);
  if (NULL != dr)
  {
    ATOMIC_SET (&dr->stop, 1);
    pthread_join (dr->thread, NULL);
    pthread_mutex_destroy (&dr->call_lock);
    free (dr);
  }
  MHD_stop_daemon (d);
}

int
test_in_driver (struct MHD_Daemon *d, void (*fn)(void *), void *arg)
{
  struct driver *dr = NULL;
  struct driver *p;
  uint64_t end;
  int seq;
  int ok = 0;
  pthread_mutex_lock (&drivers_lock);
  for (p = drivers; NULL != p; p = p->next)
    if (p->d == d)
      dr = p;
  pthread_mutex_unlock (&drivers_lock);
  if (NULL == dr)
  {
    fn (arg);
    return 1;
  }
  pthread_mutex_lock (&dr->call_lock);
  dr->call = fn;
  dr->call_arg = arg;
  seq = ATOMIC_GET (&dr->call_seq) + 1;
  ATOMIC_SET (&dr->call_seq, seq);
  end = test_now_ms () + 5000;
  while (test_now_ms () < end)
  {
    if (ATOMIC_GET (&dr->call_done) == seq)
    {
      ok = 1;
      break;
    }
    test_sleep_ms (1);
  }
  pthread_mutex_unlock (&dr->call_lock);
  if (! ok)
    SETUP_FAIL ("the driver thread did not run the call within 5 s");
  return ok;
}

uint16_t
test_daemon_port (struct MHD_Daemon *d)
{
  const union MHD_DaemonInfo *di =
    MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT);
  if ((NULL == di) || (0 == di->port))
    SETUP_FAIL ("MHD_DAEMON_INFO_BIND_PORT gave no port");
  return di->port;
}

int
test_current_connections (struct MHD_Daemon *d)
{
  const union MHD_DaemonInfo *di =
    MHD_get_daemon_info (d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
  return (NULL == di) ? -1 : (int) di->num_connections;
}

int
test_wait_connections (struct MHD_Daemon *d, int n, int timeout_ms)
{
  uint64_t end = test_now_ms () + (uint64_t) timeout_ms;
  for (;;)
  {
    if (test_current_connections (d) == n)
      return 1;
    if (test_now_ms () >= end)
      return 0;
    test_sleep_ms (2);
  }
}

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
test_logger (void *cls, const char *fmt, va_list ap)
{
  struct test_log *l = cls;
  char msg[512];
  vsnprintf (msg, sizeof (msg), fmt, ap);
  {
    size_t l = strlen (msg);
    while ((l > 0) && (('\n' == msg[l - 1]) || ('\r' == msg[l - 1])))
      msg[--l] = '\0';
  }
  pthread_mutex_lock (&log_lock);
  snprintf (l->last, sizeof (l->last), "%s", msg);
  pthread_mutex_unlock (&log_lock);
  ATOMIC_INC (&l->count);
  test_note ("log: %s", msg);
}

void
test_log_reset (struct test_log *l)
{
  pthread_mutex_lock (&log_lock);
  l->last[0] = '\0';
  pthread_mutex_unlock (&log_lock);
  ATOMIC_SET (&l->count, 0);
}

void
test_log_last (struct test_log *l, char *out, size_t outlen)
{
  pthread_mutex_lock (&log_lock);
  snprintf (out, outlen, "%s", l->last);
  pthread_mutex_unlock (&log_lock);
}

/* ------------------------------------------------------------------ */
/* Waiting                                                             */
/* ------------------------------------------------------------------ */

uint64_t
test_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

void
test_sleep_ms (int ms)
{
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long) (ms % 1000) * 1000000L;
  while ((0 != nanosleep (&ts, &ts)) && (EINTR == errno))
    ;
}

int
test_wait_ge (volatile int *flag, int value, int timeout_ms)
{
  uint64_t end = test_now_ms () + (uint64_t) timeout_ms;
  for (;;)
  {
    if (ATOMIC_GET (flag) >= value)
      return 1;
    if (test_now_ms () >= end)
      return 0;
    test_sleep_ms (1);
  }
}

volatile int test_conns_started;
volatile int test_conns_closed;

void
test_count_connections (void *cls, struct MHD_Connection *c,
                        void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
  (void) cls;
  (void) c;
  (void) socket_context;
  if (MHD_CONNECTION_NOTIFY_STARTED == toe)
    ATOMIC_INC (&test_conns_started);
  else
    ATOMIC_INC (&test_conns_closed);
}

int
test_wait_pred (int (*pred)(void *), void *arg, int timeout_ms)
{
  uint64_t end = test_now_ms () + (uint64_t) timeout_ms;
  for (;;)
  {
    if (pred (arg))
      return 1;
    if (test_now_ms () >= end)
      return 0;
    test_sleep_ms (1);
  }
}

/* ------------------------------------------------------------------ */
/* Buffers                                                             */
/* ------------------------------------------------------------------ */

void
buf_init (struct buf *b)
{
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void
buf_free (struct buf *b)
{
  free (b->data);
  buf_init (b);
}

void
buf_append (struct buf *b, const void *p, size_t n)
{
  if (b->len + n + 1 > b->cap)
  {
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->len + n + 1)
      nc *= 2;
    b->data = realloc (b->data, nc);
    if (NULL == b->data)
      abort ();
    b->cap = nc;
  }
  if (n)
    memcpy (b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void
buf_consume (struct buf *b, size_t n)
{
  if (n >= b->len)
  {
    b->len = 0;
    if (b->data)
      b->data[0] = '\0';
    return;
  }
  memmove (b->data, b->data + n, b->len - n);
  b->len -= n;
  b->data[b->len] = '\0';
}

/* ------------------------------------------------------------------ */
/* Raw sockets                                                         */
/* ------------------------------------------------------------------ */

static void
set_timeouts (int fd)
{
  struct timeval tv;
  tv.tv_sec = RAW_TIMEOUT_MS / 1000;
  tv.tv_usec = 0;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof (tv));
}

int
raw_connect (uint16_t port)
{
  struct sockaddr_in sa;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0)
    return -1;
  set_timeouts (fd);
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
  memset (&sa, 0, sizeof (sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons (port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (0 != connect (fd, (struct sockaddr *) &sa, sizeof (sa)))
  {
    close (fd);
    return -1;
  }
  return fd;
}

int
raw_connect6 (uint16_t port)
{
  struct sockaddr_in6 sa;
  int fd = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  set_timeouts (fd);
  memset (&sa, 0, sizeof (sa));
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons (port);
  sa.sin6_addr = in6addr_loopback;
  if (0 != connect (fd, (struct sockaddr *) &sa, sizeof (sa)))
  {
    close (fd);
    return -1;
  }
  return fd;
}

int
raw_send (int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
  {
    ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
    if (n < 0)
    {
      if (EINTR == errno)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t) n;
  }
  return 0;
}

int
raw_send_str (int fd, const char *s)
{
  return raw_send (fd, s, strlen (s));
}

int
raw_read_byte (int fd, int timeout_ms)
{
  struct pollfd p;
  unsigned char ch;
  p.fd = fd;
  p.events = POLLIN;
  p.revents = 0;
  if ((poll (&p, 1, timeout_ms) <= 0) || (1 != read (fd, &ch, 1)))
    return -1;
  return ch;
}

const char *
raw_rc_name (int rc)
{
  switch (rc)
  {
  case RAW_OK: return "ok";
  case RAW_EOF: return "eof";
  case RAW_RESET: return "reset";
  case RAW_TIMEOUT: return "timeout";
  }
  return "?";
}

ssize_t
raw_read_some (int fd, struct buf *b, int timeout_ms)
{
  struct pollfd pfd;
  char tmp[16384];
  ssize_t n;
  int pr;
  pfd.fd = fd;
  pfd.events = POLLIN;
  pfd.revents = 0;
  do
    pr = poll (&pfd, 1, timeout_ms);
  while ((pr < 0) && (EINTR == errno));
  if (0 == pr)
    return -2;
  if (pr < 0)
    return -1;
  n = recv (fd, tmp, sizeof (tmp), 0);
  if (n < 0)
  {
    if ((EAGAIN == errno) || (EWOULDBLOCK == errno))
      return -2;
    return -1;
  }
  if ((n > 0) && (NULL != b))
    buf_append (b, tmp, (size_t) n);
  return n;
}

/* Generic loop: read until done(b) or close/timeout (overall deadline). */
static int
read_loop (int fd, struct buf *b, int timeout_ms,
           int (*done)(const struct buf *, size_t), size_t arg)
{
  uint64_t end = test_now_ms () + (uint64_t) timeout_ms;
  for (;;)
  {
    ssize_t n;
    uint64_t now;
    if ((NULL != done) && done (b, arg))
      return RAW_OK;
    now = test_now_ms ();
    if (now >= end)
      return RAW_TIMEOUT;
    n = raw_read_some (fd, b, (int) (end - now));
    if (0 == n)
      return ((NULL != done) && done (b, arg)) ? RAW_OK : RAW_EOF;
    if (-1 == n)
      return ((NULL != done) && done (b, arg)) ? RAW_OK : RAW_RESET;
    if (-2 == n)
      return RAW_TIMEOUT;
  }
}

int
raw_read_until_close (int fd, struct buf *b, int timeout_ms)
{
  return read_loop (fd, b, timeout_ms, NULL, 0);
}

static int
done_n (const struct buf *b, size_t n)
{
  return b->len >= n;
}

int
raw_read_n (int fd, struct buf *b, size_t n, int timeout_ms)
{
  return read_loop (fd, b, timeout_ms, done_n, n);
}

static int
done_hdrs (const struct buf *b, size_t n)
{
  (void) n;
  return (b->len >= 4) && (NULL != memmem (b->data, b->len, "\r\n\r\n", 4));
}

int
raw_read_headers (int fd, struct buf *b, int timeout_ms)
{
  return read_loop (fd, b, timeout_ms, done_hdrs, 0);
}

int
raw_wait_closed (int fd, struct buf *b, int timeout_ms)
{
  struct buf tmp;
  int rc;
  buf_init (&tmp);
  rc = raw_read_until_close (fd, (NULL != b) ? b : &tmp, timeout_ms);
  buf_free (&tmp);
  return (RAW_EOF == rc) || (RAW_RESET == rc);
}

/* ------------------------------------------------------------------ */
/* HTTP response parser                                                */
/* ------------------------------------------------------------------ */

void
http_resp_free (struct http_resp *r)
{
  size_t i;
  for (i = 0; i < r->nhdrs; i++)
  {
    free (r->hdrs[i].name);
    free (r->hdrs[i].value);
  }
  for (i = 0; i < r->ntrailers; i++)
  {
    free (r->trailers[i].name);
    free (r->trailers[i].value);
  }
  buf_free (&r->body);
  memset (r, 0, sizeof (*r));
}

static char *
dup_trim (const char *p, size_t n)
{
  char *s;
  while (n > 0 && (*p == ' ' || *p == '\t'))
  {
    p++;
    n--;
  }
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
    n--;
  s = malloc (n + 1);
  if (NULL == s)
    abort ();
  memcpy (s, p, n);
  s[n] = '\0';
  return s;
}

/* Parse "Name: value\r\n" lines until an empty line.  Returns offset after
 * the empty line, 0 if incomplete, -1 malformed. */
static long
parse_fields (const char *data, size_t len, size_t off,
              struct http_hdr *out, size_t *nout)
{
  for (;;)
  {
    const char *eol = memmem (data + off, len - off, "\r\n", 2);
    const char *colon;
    size_t ll;
    if (NULL == eol)
      return 0;
    ll = (size_t) (eol - (data + off));
    if (0 == ll)
      return (long) (off + 2);
    colon = memchr (data + off, ':', ll);
    if (NULL == colon)
      return -1;
    if (*nout < HTTP_MAX_HDRS)
    {
      out[*nout].name = dup_trim (data + off, (size_t) (colon - (data + off)));
      out[*nout].value = dup_trim (colon + 1,
                                   (size_t) (eol - colon - 1));
      (*nout)++;
    }
    off += ll + 2;
  }
}

static const char *
find_hdr (const struct http_hdr *h, size_t n, const char *name)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (0 == strcasecmp (h[i].name, name))
      return h[i].value;
  return NULL;
}

const char *
http_resp_header (const struct http_resp *r, const char *name)
{
  return find_hdr (r->hdrs, r->nhdrs, name);
}

const char *
http_resp_trailer (const struct http_resp *r, const char *name)
{
  return find_hdr (r->trailers, r->ntrailers, name);
}

size_t
http_resp_header_count (const struct http_resp *r, const char *name)
{
  size_t i, c = 0;
  for (i = 0; i < r->nhdrs; i++)
    if (0 == strcasecmp (r->hdrs[i].name, name))
      c++;
  return c;
}

static int
has_token (const char *v, const char *tok)
{
  size_t n = strlen (tok);
  const char *p;
  if (NULL == v)
    return 0;
  for (p = v; *p; p++)
    if ((0 == strncasecmp (p, tok, n)) &&
        ((p == v) || (p[-1] == ' ') || (p[-1] == ',')) &&
        ((p[n] == '\0') || (p[n] == ',') || (p[n] == ' ')))
      return 1;
  return 0;
}

int
http_parse_response (const char *data, size_t len, int head, int eof,
                     struct http_resp *r)
{
  const char *eol;
  const char *sp;
  long off;
  const char *te;
  const char *cl;
  memset (r, 0, sizeof (*r));
  eol = memmem (data, len, "\r\n", 2);
  if (NULL == eol)
    return 0;
  /* status line */
  sp = memchr (data, ' ', (size_t) (eol - data));
  if ((NULL == sp) || ((size_t) (sp - data) >= sizeof (r->version)) ||
      (eol - sp < 4))
    return -1;
  memcpy (r->version, data, (size_t) (sp - data));
  r->version[sp - data] = '\0';
  if (0 != strncmp (r->version, "HTTP/", 5))
    return -1;
  if (! isdigit ((unsigned char) sp[1]) || ! isdigit ((unsigned char) sp[2]) ||
      ! isdigit ((unsigned char) sp[3]))
    return -1;
  r->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
  if (eol - sp > 5)
  {
    size_t rl = (size_t) (eol - sp - 5);
    if (rl >= sizeof (r->reason))
      rl = sizeof (r->reason) - 1;
    memcpy (r->reason, sp + 5, rl);
    r->reason[rl] = '\0';
  }
  off = parse_fields (data, len, (size_t) (eol - data) + 2, r->hdrs,
                      &r->nhdrs);
  if (off <= 0)
  {
    int rc = (int) off;
    http_resp_free (r);
    return rc;
  }
  buf_init (&r->body);
  buf_append (&r->body, "", 0);
  if (head || (r->status / 100 == 1) || (204 == r->status) ||
      (304 == r->status))
  {
    r->consumed = (size_t) off;
    return 1;
  }
  te = http_resp_header (r, "Transfer-Encoding");
  cl = http_resp_header (r, "Content-Length");
  if (has_token (te, "chunked"))
  {
    size_t p = (size_t) off;
    r->chunked = 1;
    for (;;)
    {
      const char *e = memmem (data + p, len - p, "\r\n", 2);
      char *endp;
      unsigned long long sz;
      if (NULL == e)
        goto incomplete;
      sz = strtoull (data + p, &endp, 16);
      if (endp == data + p)
        goto malformed;
      p = (size_t) (e - data) + 2;
      if (0 == sz)
      {
        long t = parse_fields (data, len, p, r->trailers, &r->ntrailers);
        if (t < 0)
          goto malformed;
        if (0 == t)
          goto incomplete;
        r->consumed = (size_t) t;
        return 1;
      }
      if (len - p < sz + 2)
        goto incomplete;
      buf_append (&r->body, data + p, (size_t) sz);
      r->nchunks++;
      p += (size_t) sz;
      if (0 != memcmp (data + p, "\r\n", 2))
        goto malformed;
      p += 2;
    }
  }
  if (NULL != cl)
  {
    unsigned long long n = strtoull (cl, NULL, 10);
    if (len - (size_t) off < n)
      goto incomplete;
    buf_append (&r->body, data + off, (size_t) n);
    r->consumed = (size_t) off + (size_t) n;
    return 1;
  }
  /* close-delimited */
  r->close_delimited = 1;
  if (! eof)
    goto incomplete;
  buf_append (&r->body, data + off, len - (size_t) off);
  r->consumed = len;
  return 1;
incomplete:
  http_resp_free (r);
  return 0;
malformed:
  http_resp_free (r);
  return -1;
}

int
raw_read_response (int fd, struct buf *carry, int head,
                   struct http_resp *r, int timeout_ms, int *closed)
{
  uint64_t end = test_now_ms () + (uint64_t) timeout_ms;
  int eof = 0;
  if (NULL != closed)
    *closed = 0;
  for (;;)
  {
    int rc;
    ssize_t n;
    uint64_t now;
    if (carry->len > 0)
    {
      rc = http_parse_response (carry->data, carry->len, head, eof, r);
      if (1 == rc)
      {
        buf_consume (carry, r->consumed);
        return 1;
      }
      if (-1 == rc)
        return -1;
    }
    if (eof)
      return 0;
    now = test_now_ms ();
    if (now >= end)
      return 0;
    n = raw_read_some (fd, carry, (int) (end - now));
    if ((0 == n) || (-1 == n))
    {
      eof = 1;
      if (NULL != closed)
        *closed = 1;
      if (0 == carry->len)
        return 0;
    }
    else if (-2 == n)
      return 0;
  }
}

int
raw_request (uint16_t port, const char *req, size_t reqlen, int head,
             struct http_resp *r, int *closed_after, int close_wait_ms)
{
  int fd = raw_connect (port);
  struct buf carry;
  int closed = 0;
  int rc;
  if (fd < 0)
    return 0;
  buf_init (&carry);
  if (0 != raw_send (fd, req, reqlen))
  {
    close (fd);
    return 0;
  }
  rc = raw_read_response (fd, &carry, head, r, RAW_TIMEOUT_MS, &closed);
  if ((1 == rc) && (NULL != closed_after))
  {
    if (closed)
      *closed_after = 1;
    else if (close_wait_ms > 0)
      *closed_after = raw_wait_closed (fd, NULL, close_wait_ms);
    else
      *closed_after = 0;
  }
  buf_free (&carry);
  close (fd);
  return 1 == rc;
}

/* ------------------------------------------------------------------ */
/* curl                                                                */
/* ------------------------------------------------------------------ */

static size_t
curl_body_cb (char *p, size_t sz, size_t nm, void *ud)
{
  struct curl_res *rs = ud;
  buf_append (&rs->body, p, sz * nm);
  return sz * nm;
}

static size_t
curl_hdr_cb (char *p, size_t sz, size_t nm, void *ud)
{
  struct curl_res *rs = ud;
  /* a new status line starts a new header block (after 100 Continue) */
  if ((sz * nm >= 5) && (0 == strncmp (p, "HTTP/", 5)))
    rs->headers.len = 0;
  buf_append (&rs->headers, p, sz * nm);
  return sz * nm;
}

CURL *
curl_setup (uint16_t port, const struct curl_req *rq, struct curl_res *rs)
{
  CURL *c = curl_easy_init ();
  char url[4096];
  struct curl_slist *sl = NULL;
  if (NULL == c)
    return NULL;
  memset (rs, 0, sizeof (*rs));
  buf_init (&rs->body);
  buf_init (&rs->headers);
  buf_append (&rs->body, "", 0);
  buf_append (&rs->headers, "", 0);
  snprintf (url, sizeof (url), "http://%s:%u%s",
            rq->ipv6 ? "[::1]" : "127.0.0.1", (unsigned) port,
            rq->url_path ? rq->url_path : "/");
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_TIMEOUT, rq->timeout_s ? rq->timeout_s : 10L);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, curl_body_cb);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, rs);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, curl_hdr_cb);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, rs);
  curl_easy_setopt (c, CURLOPT_PROXY, "");
  if (rq->http10)
    curl_easy_setopt (c, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_0);
  else
    curl_easy_setopt (c, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
  if (NULL != rq->body)
  {
    curl_easy_setopt (c, CURLOPT_POSTFIELDS, rq->body);
    curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE,
                      (curl_off_t) rq->body_len);
  }
  if (rq->head)
    curl_easy_setopt (c, CURLOPT_NOBODY, 1L);
  if (NULL != rq->method)
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, rq->method);
  if (NULL != rq->headers)
  {
    const char *const *h;
    for (h = rq->headers; NULL != *h; h++)
      sl = curl_slist_append (sl, *h);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, sl);
    /* the slist must live as long as the handle: keep it in private */
    curl_easy_setopt (c, CURLOPT_PRIVATE, sl);
  }
  return c;
}

void
curl_teardown (CURL *c)
{
  struct curl_slist *sl = NULL;
  curl_easy_getinfo (c, CURLINFO_PRIVATE, (char **) &sl);
  curl_easy_cleanup (c);
  if (NULL != sl)
    curl_slist_free_all (sl);
}

int
curl_do (uint16_t port, const struct curl_req *rq, struct curl_res *rs)
{
  CURL *c = curl_setup (port, rq, rs);
  if (NULL == c)
    SETUP_FAIL ("curl_easy_init");
  rs->code = curl_easy_perform (c);
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &rs->status);
  curl_teardown (c);
  return CURLE_OK == rs->code;
}

int
curl_get (uint16_t port, const char *path, struct curl_res *rs)
{
  struct curl_req rq;
  memset (&rq, 0, sizeof (rq));
  rq.url_path = path;
  return curl_do (port, &rq, rs);
}

void
curl_res_free (struct curl_res *rs)
{
  buf_free (&rs->body);
  buf_free (&rs->headers);
}

int
curl_res_header (const struct curl_res *rs, const char *name,
                 char *out, size_t outlen)
{
  const char *p = rs->headers.data;
  size_t n = strlen (name);
  if (NULL == p)
    return 0;
  while (NULL != p && *p)
  {
    const char *eol = strstr (p, "\r\n");
    if (NULL == eol)
      eol = p + strlen (p);
    if ((0 == strncasecmp (p, name, n)) && (p[n] == ':'))
    {
      const char *v = p + n + 1;
      size_t l;
      while (*v == ' ' || *v == '\t')
        v++;
      l = (size_t) (eol - v);
      while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t'))
        l--;
      if (outlen > 0)
      {
        if (l >= outlen)
          l = outlen - 1;
        memcpy (out, v, l);
        out[l] = '\0';
      }
      return 1;
    }
    p = *eol ? eol + 2 : eol;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Handlers                                                            */
/* ------------------------------------------------------------------ */

enum MHD_Result
test_queue_and_destroy (struct MHD_Connection *c, unsigned int status,
                        struct MHD_Response *r)
{
  enum MHD_Result ret;
  if (NULL == r)
    return MHD_NO;
  ret = MHD_queue_response (c, status, r);
  MHD_destroy_response (r);
  return ret;
}

enum MHD_Result
test_reply (struct MHD_Connection *c, unsigned int status, const char *body)
{
  return test_queue_and_destroy (
    c, status, MHD_create_response_from_buffer (strlen (body), (void *) body,
                                                MHD_RESPMEM_MUST_COPY));
}

static int ok_marker;

enum MHD_Result
test_ok_handler (void *cls, struct MHD_Connection *c,
                 const char *url, const char *method,
                 const char *version, const char *upload,
                 size_t *upload_size, void **con_cls)
{
  (void) cls;
  (void) url;
  (void) method;
  (void) version;
  (void) upload;
  if (NULL == *con_cls)
  {
    *con_cls = &ok_marker;
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    *upload_size = 0;
    return MHD_YES;
  }
  return test_reply (c, MHD_HTTP_OK, "ok");
}

/* ------------------------------------------------------------------ */
/* Process resources                                                   */
/* ------------------------------------------------------------------ */

int
test_count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  int n = 0;
  if (NULL == d)
    return -1;
  while (NULL != (e = readdir (d)))
    if ('.' != e->d_name[0])
      n++;
  closedir (d);
  return n - 1; /* the directory's own descriptor */
}

int
test_wait_fds (int n, int timeout_ms)
{
  uint64_t end = test_now_ms () + (uint64_t) timeout_ms;
  int now;
  while (((now = test_count_fds ()) > n) && (test_now_ms () < end))
    test_sleep_ms (5);
  return now;
}

char *
test_slurp (const char *dir, const char *name)
{
  char p[512];
  FILE *f;
  long n;
  char *s;
  snprintf (p, sizeof (p), "%s/%s", dir, name);
  f = fopen (p, "rb");
  if (NULL == f)
    SETUP_FAIL ("cannot open %s", p);
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  s = malloc ((size_t) n + 1);
  if ((NULL == s) || (1 != fread (s, (size_t) n, 1, f)))
    SETUP_FAIL ("cannot read %s", p);
  s[n] = '\0';
  fclose (f);
  return s;
}

int
raw_connect_from (uint16_t port, uint8_t last_octet, int rcvbuf)
{
  struct sockaddr_in sa;
  struct timeval tv = { RAW_TIMEOUT_MS / 1000, 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof (tv));
  if (rcvbuf > 0)
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof (rcvbuf));
  memset (&sa, 0, sizeof (sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl (0x7f000000u | last_octet);
  if (0 != bind (fd, (struct sockaddr *) &sa, sizeof (sa)))
  {
    close (fd);
    return -1;
  }
  sa.sin_port = htons (port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (0 != connect (fd, (struct sockaddr *) &sa, sizeof (sa)))
  {
    close (fd);
    return -1;
  }
  return fd;
}
