/*
 * Variadic entry points of the libmicrohttpd 0.9.75 API. Rust (stable)
 * cannot define C variadic functions, so these read their arguments and
 * call hidden Rust functions (src/ffi/stubs.rs and successors).
 *
 * Option encoding in the MHD_OptionItem array handed to mhd_rs_start_daemon
 * (the same one libmicrohttpd uses inside MHD_OPTION_ARRAY):
 *   integer argument          -> value
 *   single pointer argument   -> ptr_value
 *   (function, closure) pair  -> value = (intptr_t) function, ptr_value = closure
 *   DIGEST_AUTH_RANDOM        -> value = size, ptr_value = buffer
 * MHD_OPTION_ARRAY is expanded in place (recursively); MHD_OPTION_END is not
 * passed. An option number unknown here ends the array as its last item, and
 * Rust fails the start with "unknown option N".
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "microhttpd.h"

#define HIDDEN __attribute__((visibility("hidden")))

/* Rust side. The hidden declarations make the (Rust-defined) symbols local
 * to the shared library: the most restrictive visibility wins at link time. */
extern HIDDEN struct MHD_Daemon *
mhd_rs_start_daemon(unsigned int flags, uint16_t port,
                    MHD_AcceptPolicyCallback apc, void *apc_cls,
                    MHD_AccessHandlerCallback dh, void *dh_cls,
                    const struct MHD_OptionItem *opts, size_t n_opts);
extern HIDDEN const union MHD_ConnectionInfo *
mhd_rs_get_connection_info(struct MHD_Connection *connection, int info_type,
                           const void *arg);
extern HIDDEN const union MHD_DaemonInfo *
mhd_rs_get_daemon_info(struct MHD_Daemon *daemon, int info_type);
extern HIDDEN enum MHD_Result
mhd_rs_set_connection_option(struct MHD_Connection *connection, int option,
                             unsigned int timeout);
extern HIDDEN enum MHD_Result
mhd_rs_set_response_options(struct MHD_Response *response, unsigned int flags,
                            const int *opts, size_t n_opts);
extern HIDDEN enum MHD_Result
mhd_rs_upgrade_action(struct MHD_UpgradeResponseHandle *urh, int action);

/* Called from Rust to hand one message to an external logger. */
HIDDEN void mhd_rs_call_logger(MHD_LogCallback cb, void *cls,
                               const char *fmt, ...);

/* Nesting limit for MHD_OPTION_ARRAY inside MHD_OPTION_ARRAY. */
#define MAX_ARRAY_DEPTH 16

struct opt_vec
{
  struct MHD_OptionItem *items;
  size_t len;
  size_t cap;
  int failed;       /* out of memory or nesting too deep */
};

static void
push (struct opt_vec *v, int option, intptr_t value, void *ptr_value)
{
  if (v->failed)
    return;
  if (v->len == v->cap)
  {
    size_t ncap = v->cap ? v->cap * 2 : 16;
    struct MHD_OptionItem *n = realloc (v->items, ncap * sizeof (*n));
    if (NULL == n)
    {
      v->failed = 1;
      return;
    }
    v->items = n;
    v->cap = ncap;
  }
  v->items[v->len].option = (enum MHD_OPTION) option;
  v->items[v->len].value = value;
  v->items[v->len].ptr_value = ptr_value;
  v->len++;
}

/* Copy an MHD_OPTION_ARRAY (already in item form), expanding nested arrays.
 * Returns 0 to go on, -1 to stop (unknown option or failure pushed). */
static int
expand_array (struct opt_vec *v, const struct MHD_OptionItem *oa, int depth)
{
  size_t i;

  if (depth > MAX_ARRAY_DEPTH)
  {
    v->failed = 1;
    return -1;
  }
  if (NULL == oa)
    return 0;
  for (i = 0; MHD_OPTION_END != (int) oa[i].option; i++)
  {
    if (MHD_OPTION_ARRAY == (int) oa[i].option)
    {
      if (0 != expand_array (v, (const struct MHD_OptionItem *) oa[i].ptr_value,
                             depth + 1))
        return -1;
      continue;
    }
    /* Items are already encoded; Rust validates the option numbers. */
    push (v, (int) oa[i].option, oa[i].value, oa[i].ptr_value);
  }
  return v->failed ? -1 : 0;
}

/* Read options from ap until MHD_OPTION_END. */
static void
read_options (struct opt_vec *v, va_list ap)
{
  for (;;)
  {
    int opt = va_arg (ap, int);   /* enum MHD_OPTION is promoted to int */
    switch (opt)
    {
    case MHD_OPTION_END:
      return;
    /* size_t */
    case MHD_OPTION_CONNECTION_MEMORY_LIMIT:
    case MHD_OPTION_CONNECTION_MEMORY_INCREMENT:
    case MHD_OPTION_THREAD_STACK_SIZE:
      push (v, opt, (intptr_t) va_arg (ap, size_t), NULL);
      break;
    /* unsigned int */
    case MHD_OPTION_CONNECTION_LIMIT:
    case MHD_OPTION_CONNECTION_TIMEOUT:
    case MHD_OPTION_PER_IP_CONNECTION_LIMIT:
    case MHD_OPTION_THREAD_POOL_SIZE:
    case MHD_OPTION_NONCE_NC_SIZE:
    case MHD_OPTION_TCP_FASTOPEN_QUEUE_SIZE:
    case MHD_OPTION_LISTENING_ADDRESS_REUSE:
    case MHD_OPTION_LISTEN_BACKLOG_SIZE:
    case MHD_OPTION_SERVER_INSANITY:
      push (v, opt, (intptr_t) va_arg (ap, unsigned int), NULL);
      break;
    /* int (HTTPS_CRED_TYPE is an enum, promoted to int) */
    case MHD_OPTION_HTTPS_CRED_TYPE:
    case MHD_OPTION_STRICT_FOR_CLIENT:
    case MHD_OPTION_SIGPIPE_HANDLED_BY_APP:
    case MHD_OPTION_TLS_NO_ALPN:
      push (v, opt, (intptr_t) va_arg (ap, int), NULL);
      break;
    /* MHD_socket */
    case MHD_OPTION_LISTEN_SOCKET:
      push (v, opt, (intptr_t) va_arg (ap, MHD_socket), NULL);
      break;
    /* one pointer */
    case MHD_OPTION_SOCK_ADDR:
    case MHD_OPTION_HTTPS_MEM_KEY:
    case MHD_OPTION_HTTPS_MEM_CERT:
    case MHD_OPTION_HTTPS_PRIORITIES:
    case MHD_OPTION_HTTPS_MEM_TRUST:
    case MHD_OPTION_HTTPS_CERT_CALLBACK:
    case MHD_OPTION_HTTPS_MEM_DHPARAMS:
    case MHD_OPTION_HTTPS_KEY_PASSWORD:
    case MHD_OPTION_HTTPS_CERT_CALLBACK2:
      push (v, opt, 0, va_arg (ap, void *));
      break;
    /* function + closure */
    case MHD_OPTION_NOTIFY_COMPLETED:
    case MHD_OPTION_URI_LOG_CALLBACK:
    case MHD_OPTION_EXTERNAL_LOGGER:
    case MHD_OPTION_UNESCAPE_CALLBACK:
    case MHD_OPTION_NOTIFY_CONNECTION:
    case MHD_OPTION_GNUTLS_PSK_CRED_HANDLER:
      {
        /* All function pointers have the same representation here. */
        void (*fn)(void) = va_arg (ap, void (*)(void));
        void *cls = va_arg (ap, void *);
        push (v, opt, (intptr_t) fn, cls);
      }
      break;
    /* size_t + pointer */
    case MHD_OPTION_DIGEST_AUTH_RANDOM:
      {
        size_t size = va_arg (ap, size_t);
        void *buf = va_arg (ap, void *);
        push (v, opt, (intptr_t) size, buf);
      }
      break;
    case MHD_OPTION_ARRAY:
      if (0 != expand_array (v, va_arg (ap, const struct MHD_OptionItem *), 1))
        return;
      break;
    default:
      /* Unknown: its arguments cannot be skipped. Rust reports it. */
      push (v, opt, 0, NULL);
      return;
    }
    if (v->failed)
      return;
  }
}

struct MHD_Daemon *
MHD_start_daemon_va (unsigned int flags,
                     uint16_t port,
                     MHD_AcceptPolicyCallback apc,
                     void *apc_cls,
                     MHD_AccessHandlerCallback dh,
                     void *dh_cls,
                     va_list ap)
{
  struct opt_vec v = { NULL, 0, 0, 0 };
  struct MHD_Daemon *d;
  va_list aq;

  va_copy (aq, ap);
  read_options (&v, aq);
  va_end (aq);
  if (v.failed)
  {
    fprintf (stderr, "libmicrohttpd-rs: cannot read daemon options\n");
    free (v.items);
    return NULL;
  }
  d = mhd_rs_start_daemon (flags, port, apc, apc_cls, dh, dh_cls,
                           v.items, v.len);
  free (v.items);
  return d;
}

struct MHD_Daemon *
MHD_start_daemon (unsigned int flags,
                  uint16_t port,
                  MHD_AcceptPolicyCallback apc,
                  void *apc_cls,
                  MHD_AccessHandlerCallback dh,
                  void *dh_cls,
                  ...)
{
  struct MHD_Daemon *d;
  va_list ap;

  va_start (ap, dh_cls);
  d = MHD_start_daemon_va (flags, port, apc, apc_cls, dh, dh_cls, ap);
  va_end (ap);
  return d;
}

const union MHD_ConnectionInfo *
MHD_get_connection_info (struct MHD_Connection *connection,
                         enum MHD_ConnectionInfoType info_type,
                         ...)
{
  /* No query of 0.9.75 takes an extra argument. */
  return mhd_rs_get_connection_info (connection, (int) info_type, NULL);
}

const union MHD_DaemonInfo *
MHD_get_daemon_info (struct MHD_Daemon *daemon,
                     enum MHD_DaemonInfoType info_type,
                     ...)
{
  return mhd_rs_get_daemon_info (daemon, (int) info_type);
}

enum MHD_Result
MHD_set_connection_option (struct MHD_Connection *connection,
                           enum MHD_CONNECTION_OPTION option,
                           ...)
{
  unsigned int timeout = 0;
  va_list ap;

  if (MHD_CONNECTION_OPTION_TIMEOUT == (int) option)
  {
    va_start (ap, option);
    timeout = va_arg (ap, unsigned int);
    va_end (ap);
  }
  return mhd_rs_set_connection_option (connection, (int) option, timeout);
}

enum MHD_Result
MHD_set_response_options (struct MHD_Response *response,
                          enum MHD_ResponseFlags flags,
                          ...)
{
  /* 0.9.75 defines no option but MHD_RO_END, so at most one is read. */
  int opts[1];
  size_t n = 0;
  va_list ap;
  int ro;

  va_start (ap, flags);
  ro = va_arg (ap, int);
  va_end (ap);
  if (MHD_RO_END != ro)
    opts[n++] = ro;
  return mhd_rs_set_response_options (response, (unsigned int) flags, opts, n);
}

enum MHD_Result
MHD_upgrade_action (struct MHD_UpgradeResponseHandle *urh,
                    enum MHD_UpgradeAction action,
                    ...)
{
  return mhd_rs_upgrade_action (urh, (int) action);
}

void
mhd_rs_call_logger (MHD_LogCallback cb, void *cls, const char *fmt, ...)
{
  va_list ap;

  if (NULL == cb)
    return;
  va_start (ap, fmt);
  cb (cls, fmt, ap);
  va_end (ap);
}
