/*
 * capi-tests/common.h -- shared helpers for the C API test programs.
 *
 * Everything here uses only the public libmicrohttpd API (<microhttpd.h>),
 * libcurl and POSIX sockets, so the same sources run against Debian's
 * libmicrohttpd 0.9.75 (the reference) and against our drop-in library.
 *
 * Exit codes of every test program: 0 pass, 1 test failure, 77 skip,
 * 99 setup error.
 */
#ifndef CAPI_TESTS_COMMON_H
#define CAPI_TESTS_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#ifndef MHD_NO_DEPRECATION
#define MHD_NO_DEPRECATION 1 /* we test deprecated entry points too */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/select.h>
/* Deprecated entry points (MHD_create_response_from_data, ...) are tested
 * on purpose; do not let a header that marks them deprecated without
 * honouring MHD_NO_DEPRECATION break -Werror builds. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <microhttpd.h>
#include <curl/curl.h>

#define TEST_EXIT_PASS 0
#define TEST_EXIT_FAIL 1
#define TEST_EXIT_SKIP 77
#define TEST_EXIT_ERROR 99

/* ------------------------------------------------------------------ */
/* Modes                                                               */
/* ------------------------------------------------------------------ */

/* How the daemon is driven. */
enum test_drive
{
  TD_INTERNAL = 0,       /* MHD runs its own thread(s) */
  TD_EXTERNAL_SELECT,    /* a helper thread drives MHD_get_fdset + select + MHD_run_from_select */
  TD_EXTERNAL_EPOLL      /* a helper thread drives MHD_DAEMON_INFO_EPOLL_FD + MHD_run */
};

struct test_mode
{
  const char *name;
  unsigned int flags;          /* MHD_USE_* flags that select the mode */
  enum test_drive drive;
  int feature;                 /* MHD_FEATURE_* required, 0 = none */
  int default_on;              /* run without MHD_TEST_MODES set */
  unsigned int pool_size;      /* MHD_OPTION_THREAD_POOL_SIZE, 0 = none */
};

/* The one list of modes (common.c).  Select with MHD_TEST_MODES=all or a
 * comma-separated list of names; default: the modes with default_on. */
extern const struct test_mode test_modes[];
extern const size_t test_modes_count;
/* The mode being run now (valid inside the per-mode function). */
extern const struct test_mode *cur_mode;

/* Properties of the current mode. */
int test_mode_internal (void);   /* MHD runs its own thread(s) */
int test_mode_external (void);   /* the test drives MHD_run* */
int test_mode_tpc (void);        /* thread per connection */
int test_mode_pool (void);       /* thread pool */

/* Initialise (curl, SIGPIPE), run per_mode() for each selected mode and
 * return the process exit code.  Call from main(). */
int test_run_modes (const char *test_name, void (*per_mode)(void));

/* Mark the whole program as skipped (exit 77 unless something failed). */
void test_skip (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
/* Fatal setup error: print and exit(99) at once. */
void test_error_exit (const char *file, int line, const char *fmt, ...)
__attribute__((format (printf, 3, 4), noreturn));
#define SETUP_FAIL(...) test_error_exit (__FILE__, __LINE__, __VA_ARGS__)
#define SETUP_CHECK(c) do { if (! (c)) SETUP_FAIL ("setup: %s", #c); } while (0)

/* 1 when the runner told us we run against the reference library. */
int test_is_reference (void);
/* Where the reference library knowingly differs from the RFC: the value
 * the RFC asks for, or, when running against the reference, the reference
 * value.  Use test_diff() to report the difference (printed as one "DIFF"
 * line per distinct message, only in reference runs). */
#define RFC_OR_REF(rfc, ref) (test_is_reference () ? (ref) : (rfc))
void test_diff (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
/* Known weaknesses of the reference, to branch on with test_diff():
 * test_ref_tpc(): running against the reference in a thread-per-connection
 * mode, where Debian's library notices a client's close late (the
 * connection count and the CLOSED notification lag by more than 5 s) and
 * reports MHD_REQUEST_TERMINATED_READ_ERROR (or WITH_ERROR) instead of
 * DAEMON_SHUTDOWN for requests cut short by MHD_stop_daemon.
 * test_ref_pool(): running against the reference with a thread pool. */
int test_ref_tpc (void);
int test_ref_pool (void);
/* 1 when MHD_TEST_VERBOSE is set: print observations. */
int test_verbose (void);
void test_note (const char *fmt, ...) __attribute__((format (printf, 1, 2)));

/* Start a daemon in the current mode: flags are OR-ed with the mode's flags,
 * port 0 (or whatever MHD_OPTION_SOCK_ADDR says), options as for
 * MHD_start_daemon, terminated by MHD_OPTION_END.  Returns NULL on failure
 * (no message).  For external modes a driver thread is started too. */
struct MHD_Daemon *test_start_daemon (unsigned int extra_flags,
                                      MHD_AccessHandlerCallback dh,
                                      void *dh_cls, ...);
/* Same with an accept policy callback. */
struct MHD_Daemon *test_start_daemon_apc (unsigned int extra_flags,
                                          MHD_AcceptPolicyCallback apc,
                                          void *apc_cls,
                                          MHD_AccessHandlerCallback dh,
                                          void *dh_cls, ...);
/* Stop the daemon (and its driver thread). */
void test_stop_daemon (struct MHD_Daemon *d);
/* Run fn(arg) on the thread that drives d: for the external modes, the
 * driver thread between two MHD_run* calls (MHD's external modes are not
 * thread-safe: MHD_add_connection, MHD_get_timeout, ... belong to the
 * thread that runs the loop); for internal modes, at once on the calling
 * thread.  Waits (5 s at most) until it ran. */
int test_in_driver (struct MHD_Daemon *d, void (*fn)(void *), void *arg);
/* The port the daemon listens on (MHD_DAEMON_INFO_BIND_PORT). */
uint16_t test_daemon_port (struct MHD_Daemon *d);
/* MHD_DAEMON_INFO_CURRENT_CONNECTIONS, or -1 when the info is NULL. */
int test_current_connections (struct MHD_Daemon *d);
/* Wait until MHD_DAEMON_INFO_CURRENT_CONNECTIONS == n; 1 if reached. */
int test_wait_connections (struct MHD_Daemon *d, int n, int timeout_ms);
/* Convert the options of a va_list (terminated by MHD_OPTION_END) into an
 * MHD_OptionItem array, the way MHD_OPTION_ARRAY reads them.  Returns the
 * number of items written before the MHD_OPTION_END item (always written),
 * or -1 for an option unknown to this helper or when max is too small. */
int test_options_to_array (va_list ap, struct MHD_OptionItem *out,
                           size_t max);

/* A log sink for MHD_OPTION_EXTERNAL_LOGGER (pass test_logger and a
 * struct test_log *): counts messages and keeps the last one. */
struct test_log
{
  volatile int count;
  char last[512];
};
void test_logger (void *cls, const char *fmt, va_list ap);
void test_log_reset (struct test_log *l);
/* Thread-safe copy of the last message. */
void test_log_last (struct test_log *l, char *out, size_t outlen);

/* Convenience: start with the mode flags, SETUP_FAIL on NULL. */
#define START_DAEMON(extra, dh, cls, ...) \
  test_start_daemon_or_die (__FILE__, __LINE__, (extra), (dh), (cls), __VA_ARGS__)
struct MHD_Daemon *test_start_daemon_or_die (const char *file, int line,
                                             unsigned int extra_flags,
                                             MHD_AccessHandlerCallback dh,
                                             void *dh_cls, ...);

/* ------------------------------------------------------------------ */
/* Assertions: record, print, keep going                               */
/* ------------------------------------------------------------------ */

extern volatile int test_failures;
void test_fail (const char *file, int line, const char *fmt, ...)
__attribute__((format (printf, 3, 4)));

#define CHECK(c) do { if (! (c)) test_fail (__FILE__, __LINE__, \
                                             "check failed: %s", #c); } while (0)
#define CHECK_MSG(c, ...) do { if (! (c)) test_fail (__FILE__, __LINE__, \
                                                     __VA_ARGS__); } while (0)
#define CHECK_INT(exp, act) do { long long e_ = (long long) (exp);             \
                                 long long a_ = (long long) (act);             \
                                 if (e_ != a_) test_fail (__FILE__, __LINE__,  \
                                                          "%s: expected %lld, got %lld", \
                                                          #act, e_, a_); } while (0)
#define CHECK_STR(exp, act) test_check_str (__FILE__, __LINE__, #act, (exp), (act))
#define CHECK_MEM(exp, explen, act, actlen) \
  test_check_mem (__FILE__, __LINE__, #act, (exp), (explen), (act), (actlen))
void test_check_str (const char *file, int line, const char *what,
                     const char *exp, const char *act);
void test_check_mem (const char *file, int line, const char *what,
                     const void *exp, size_t explen,
                     const void *act, size_t actlen);

/* ------------------------------------------------------------------ */
/* Bounded waiting                                                     */
/* ------------------------------------------------------------------ */

/* Milliseconds of a monotonic clock. */
uint64_t test_now_ms (void);
/* Wait until *flag >= value (read atomically); 1 if reached, 0 on timeout. */
int test_wait_ge (volatile int *flag, int value, int timeout_ms);
/* An MHD_OPTION_NOTIFY_CONNECTION callback (cls unused) that counts the
 * connections started and closed into these two; set them to 0 before
 * starting the daemon. */
extern volatile int test_conns_started;
extern volatile int test_conns_closed;
void test_count_connections (void *cls, struct MHD_Connection *c,
                             void **socket_context,
                             enum MHD_ConnectionNotificationCode toe);
/* Wait until pred(arg) returns non-zero; 1 if it did, 0 on timeout. */
int test_wait_pred (int (*pred)(void *), void *arg, int timeout_ms);
/* Atomic helpers for counters shared with callbacks. */
#define ATOMIC_INC(p) __atomic_add_fetch ((p), 1, __ATOMIC_SEQ_CST)
#define ATOMIC_GET(p) __atomic_load_n ((p), __ATOMIC_SEQ_CST)
#define ATOMIC_SET(p, v) __atomic_store_n ((p), (v), __ATOMIC_SEQ_CST)
/* Short sleep, only used to let a *client* pace its sends (never to wait
 * for the server). */
void test_sleep_ms (int ms);

/* ------------------------------------------------------------------ */
/* Process resources                                                   */
/* ------------------------------------------------------------------ */

/* Number of open file descriptors of this process (/proc/self/fd, not
 * counting the one used to read it), -1 when it cannot be read. */
int test_count_fds (void);
/* Wait (bounded) until the process has at most n fds open; returns the
 * count at the end. */
int test_wait_fds (int n, int timeout_ms);
/* Read the whole file dir/name into a NUL-terminated malloc'ed string;
 * SETUP_FAIL when it cannot be read. */
char *test_slurp (const char *dir, const char *name);

/* ------------------------------------------------------------------ */
/* Growable buffer                                                     */
/* ------------------------------------------------------------------ */

struct buf
{
  char *data;   /* always NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
};
void buf_init (struct buf *b);
void buf_free (struct buf *b);
void buf_append (struct buf *b, const void *p, size_t n);
void buf_consume (struct buf *b, size_t n); /* drop n bytes from the front */

/* ------------------------------------------------------------------ */
/* Raw sockets                                                         */
/* ------------------------------------------------------------------ */

#define RAW_TIMEOUT_MS 5000

/* Connect to 127.0.0.1:port (or ::1 for raw_connect6); SO_RCVTIMEO and
 * SO_SNDTIMEO set.  Return fd or -1. */
int raw_connect (uint16_t port);
int raw_connect6 (uint16_t port);
/* Send everything (MSG_NOSIGNAL).  0 on success, -1 on error. */
int raw_send (int fd, const void *data, size_t len);
int raw_send_str (int fd, const char *s);
/* Result of the read helpers. */
enum raw_rc
{
  RAW_OK = 0,      /* condition met */
  RAW_EOF = 1,     /* orderly close by peer */
  RAW_RESET = 2,   /* ECONNRESET or other error */
  RAW_TIMEOUT = 3  /* nothing more within the timeout */
};
const char *raw_rc_name (int rc);
/* Read (append to b) until the peer closes, errors or times out. */
int raw_read_until_close (int fd, struct buf *b, int timeout_ms);
/* Read until b holds at least n bytes. */
int raw_read_n (int fd, struct buf *b, size_t n, int timeout_ms);
/* Read until b contains "\r\n\r\n". */
int raw_read_headers (int fd, struct buf *b, int timeout_ms);
/* Read once with a timeout (appends); returns bytes read, 0 on EOF,
 * -1 on error, -2 on timeout. */
ssize_t raw_read_some (int fd, struct buf *b, int timeout_ms);
/* Connect to 127.0.0.1:port from the loopback address 127.0.0.<last_octet>
 * (bound before the connect); SO_RCVTIMEO and SO_SNDTIMEO set as for
 * raw_connect, and SO_RCVBUF set to rcvbuf when rcvbuf > 0.  Return fd or
 * -1. */
int raw_connect_from (uint16_t port, uint8_t last_octet, int rcvbuf);
/* 1 if the peer has closed (EOF or reset) within timeout_ms; data
 * arriving meanwhile is appended to b (may be NULL). */
int raw_wait_closed (int fd, struct buf *b, int timeout_ms);
/* One byte from fd (a pipe between test processes) within timeout_ms:
 * the byte, or -1 on timeout, EOF or error. */
int raw_read_byte (int fd, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Minimal HTTP/1.x response parser                                    */
/* ------------------------------------------------------------------ */

#define HTTP_MAX_HDRS 64
struct http_hdr
{
  char *name;
  char *value;
};
struct http_resp
{
  char version[16];      /* "HTTP/1.1" */
  int status;
  char reason[128];
  struct http_hdr hdrs[HTTP_MAX_HDRS];
  size_t nhdrs;
  struct http_hdr trailers[HTTP_MAX_HDRS];
  size_t ntrailers;
  int chunked;           /* body was chunked */
  int close_delimited;   /* body was delimited by connection close */
  size_t nchunks;        /* number of data chunks seen (chunked only) */
  struct buf body;       /* decoded body */
  size_t consumed;       /* bytes of input this response used */
};
/* Parse one response from data[0..len).  head: the request was HEAD (no
 * body).  eof: the connection was closed after data (close-delimited bodies
 * complete).  Returns 1 complete, 0 need more data, -1 malformed. */
int http_parse_response (const char *data, size_t len, int head, int eof,
                         struct http_resp *r);
void http_resp_free (struct http_resp *r);
/* Header lookup (case-insensitive); NULL if absent.  nth: 0 = first. */
const char *http_resp_header (const struct http_resp *r, const char *name);
size_t http_resp_header_count (const struct http_resp *r, const char *name);
const char *http_resp_trailer (const struct http_resp *r, const char *name);
/* Read from fd until one full response is in carry (data left over for
 * the next response stays in carry).  Returns 1 got a response, 0 closed
 * or timed out before a full response, -1 malformed. *closed is set when
 * the peer closed. */
int raw_read_response (int fd, struct buf *carry, int head,
                       struct http_resp *r, int timeout_ms, int *closed);
/* One-shot: connect, send req, read one response; returns 1 on success.
 * closed_after set to 1 if the server closed the connection within
 * close_wait_ms after the response (0 = don't wait). */
int raw_request (uint16_t port, const char *req, size_t reqlen, int head,
                 struct http_resp *r, int *closed_after, int close_wait_ms);

/* ------------------------------------------------------------------ */
/* curl                                                                */
/* ------------------------------------------------------------------ */

struct curl_req
{
  const char *method;         /* NULL = GET (or POST when body set) */
  const char *url_path;       /* "/x?y" */
  const void *body;           /* request body or NULL */
  size_t body_len;
  const char *const *headers; /* NULL-terminated extra header lines */
  int http10;                 /* use HTTP/1.0 */
  int head;                   /* HEAD request (no body) */
  long timeout_s;             /* 0 = 10 */
  int ipv6;                   /* connect to [::1] */
};
struct curl_res
{
  CURLcode code;
  long status;
  struct buf body;
  struct buf headers;         /* all header lines as received */
};
/* Perform the request on a fresh easy handle. Returns code == CURLE_OK. */
int curl_do (uint16_t port, const struct curl_req *rq, struct curl_res *rs);
int curl_get (uint16_t port, const char *path, struct curl_res *rs);
void curl_res_free (struct curl_res *rs);
/* Look up a header in rs->headers (last response block). Copies the value
 * into out (trimmed).  Returns 1 if found. */
int curl_res_header (const struct curl_res *rs, const char *name,
                     char *out, size_t outlen);
/* Setup an easy handle (for multi use); rs receives the results. */
CURL *curl_setup (uint16_t port, const struct curl_req *rq,
                  struct curl_res *rs);
/* curl_easy_cleanup for a handle of curl_setup: also frees its header list
 * (kept in CURLOPT_PRIVATE; do not use when PRIVATE was overwritten). */
void curl_teardown (CURL *c);

/* ------------------------------------------------------------------ */
/* Small handlers used by several tests                                */
/* ------------------------------------------------------------------ */

/* Replies 200 with the body "ok" (MHD_RESPMEM_PERSISTENT) on the second
 * call (first call only sets *con_cls). */
enum MHD_Result test_ok_handler (void *cls, struct MHD_Connection *c,
                                 const char *url, const char *method,
                                 const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls);
/* Queue a buffer response with status; returns the MHD_queue_response
 * result. */
enum MHD_Result test_reply (struct MHD_Connection *c, unsigned int status,
                            const char *body);
/* Queue r (a response just created; NULL gives MHD_NO) with status and
 * drop the caller's reference; returns the MHD_queue_response result. */
enum MHD_Result test_queue_and_destroy (struct MHD_Connection *c,
                                        unsigned int status,
                                        struct MHD_Response *r);

#endif
