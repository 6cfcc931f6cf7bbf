/* test_request_data: headers, GET arguments, cookies, _n variants,
 * lookups and MHD_set_connection_value. */
#include "common.h"
#include <pthread.h>
#include <unistd.h>

/* RFC 9110 5.5: OWS around a field value is not part of the value.  The
 * reference keeps trailing whitespace. */
#define CUSTOM_VAL RFC_OR_REF ("Custom Value", "Custom Value  ")
#define CUSTOM_LEN RFC_OR_REF (12, 14)

#define MAXKV 64
struct kv
{
  int kind;
  char key[64];
  char value[64];
  int value_null;
  size_t key_size;
  size_t value_size;
};
struct kvlist
{
  struct kv e[MAXKV];
  int n;
  int stop_after;   /* iterator returns MHD_NO after this many (0 = never) */
};

static volatile int handled;

static enum MHD_Result
iter (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  struct kvlist *l = cls;
  if (l->n < MAXKV)
  {
    struct kv *k = &l->e[l->n];
    k->kind = (int) kind;
    snprintf (k->key, sizeof (k->key), "%s", key);
    k->value_null = (NULL == value);
    snprintf (k->value, sizeof (k->value), "%s", value ? value : "");
    k->key_size = strlen (key);
    k->value_size = value ? strlen (value) : 0;
  }
  l->n++;
  if (l->stop_after && (l->n >= l->stop_after))
    return MHD_NO;
  return MHD_YES;
}

static enum MHD_Result
iter_n (void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
        const char *value, size_t value_size)
{
  struct kvlist *l = cls;
  if (l->n < MAXKV)
  {
    struct kv *k = &l->e[l->n];
    k->kind = (int) kind;
    memcpy (k->key, key, key_size < 63 ? key_size : 63);
    k->key[key_size < 63 ? key_size : 63] = '\0';
    k->value_null = (NULL == value);
    if (NULL != value)
    {
      memcpy (k->value, value, value_size < 63 ? value_size : 63);
      k->value[value_size < 63 ? value_size : 63] = '\0';
    }
    k->key_size = key_size;
    k->value_size = value_size;
  }
  l->n++;
  return MHD_YES;
}

static const struct kv *
find (const struct kvlist *l, const char *key, int nth)
{
  int i;
  for (i = 0; i < l->n && i < MAXKV; i++)
    if (0 == strcmp (l->e[i].key, key))
      if (0 == nth--)
        return &l->e[i];
  return NULL;
}

#define CHECK_KV(l, key, nth, expval) do {                                  \
    const struct kv *k_ = find ((l), (key), (nth));                         \
    if (NULL == k_) test_fail (__FILE__, __LINE__, "key %s[%d] missing", (key), (nth)); \
    else if (NULL == (expval)) CHECK_MSG (k_->value_null,                   \
                                          "key %s: expected NULL value, got \"%s\"", (key), k_->value); \
    else { CHECK_MSG (! k_->value_null, "key %s: value is NULL", (key));   \
           CHECK_STR ((const char *) (expval), k_->value); } } while (0)

static void
check_request (struct MHD_Connection *c)
{
  struct kvlist l;
  const char *v;
  size_t vs;
  int n;

  /* headers, in order of arrival */
  memset (&l, 0, sizeof (l));
  n = MHD_get_connection_values (c, MHD_HEADER_KIND, iter, &l);
  CHECK_INT (5, n);
  CHECK_INT (5, l.n);
  if (l.n >= 5)
  {
    CHECK_STR ("Host", l.e[0].key);
    CHECK_STR ("example.com", l.e[0].value);
    CHECK_STR ("X-Custom", l.e[1].key);
    CHECK_STR (CUSTOM_VAL, l.e[1].value);
    CHECK_STR ("X-Multi", l.e[2].key);
    CHECK_STR ("one", l.e[2].value);
    CHECK_STR ("X-Multi", l.e[3].key);
    CHECK_STR ("two", l.e[3].value);
    CHECK_STR ("Cookie", l.e[4].key);
    CHECK_INT (MHD_HEADER_KIND, l.e[0].kind);
  }
  /* iterator stopping early: return value counts the calls made */
  memset (&l, 0, sizeof (l));
  l.stop_after = 2;
  n = MHD_get_connection_values (c, MHD_HEADER_KIND, iter, &l);
  CHECK_INT (2, l.n);
  CHECK_INT (2, n);
  /* NULL iterator: just count */
  CHECK_INT (5, MHD_get_connection_values (c, MHD_HEADER_KIND, NULL, NULL));

  /* GET arguments */
  memset (&l, 0, sizeof (l));
  n = MHD_get_connection_values (c, MHD_GET_ARGUMENT_KIND, iter, &l);
  CHECK_INT (9, n);
  CHECK_KV (&l, "a", 0, "1");
  CHECK_KV (&l, "a", 1, "2");
  CHECK_KV (&l, "plus", 0, "hello world");
  CHECK_KV (&l, "hex", 0, "AB/");
  CHECK_KV (&l, "empty", 0, "");
  CHECK_KV (&l, "novalue", 0, NULL);
  CHECK_KV (&l, "sp ace", 0, "x&y");
  CHECK_KV (&l, "z", 0, "a");    /* strlen view stops at the NUL */
  CHECK_KV (&l, "utf", 0, "\xc3\xa9");
  if (l.n >= 1)
    CHECK_INT (MHD_GET_ARGUMENT_KIND, l.e[0].kind);

  /* _n variant: value lengths include an embedded NUL */
  memset (&l, 0, sizeof (l));
  n = MHD_get_connection_values_n (c, MHD_GET_ARGUMENT_KIND, iter_n, &l);
  CHECK_INT (9, n);
  {
    const struct kv *k = find (&l, "z", 0);
    CHECK (NULL != k);
    if (NULL != k)
    {
      CHECK_INT (1, k->key_size);
      CHECK_INT (3, k->value_size);
      CHECK_MEM ("a\0b", 3, k->value, k->value_size);
    }
    k = find (&l, "novalue", 0);
    CHECK (NULL != k);
    if (NULL != k)
    {
      CHECK (k->value_null);
      CHECK_INT (0, k->value_size);
    }
    k = find (&l, "sp ace", 0);
    CHECK (NULL != k);
    if (NULL != k)
      CHECK_INT (6, k->key_size);
  }

  /* cookies */
  memset (&l, 0, sizeof (l));
  n = MHD_get_connection_values (c, MHD_COOKIE_KIND, iter, &l);
  CHECK_INT (3, n);
  CHECK_KV (&l, "c1", 0, "v1");
  CHECK_KV (&l, "c2", 0, "two");
  CHECK_KV (&l, "c3", 0, "quoted");
  if (l.n >= 1)
    CHECK_INT (MHD_COOKIE_KIND, l.e[0].kind);

  /* several kinds at once */
  CHECK_INT (5 + 9 + 3,
             MHD_get_connection_values (c, MHD_HEADER_KIND
                                        | MHD_GET_ARGUMENT_KIND
                                        | MHD_COOKIE_KIND, NULL, NULL));
  CHECK_INT (0, MHD_get_connection_values (c, MHD_FOOTER_KIND, NULL, NULL));

  /* lookups: header names are case-insensitive */
  CHECK_STR (CUSTOM_VAL, MHD_lookup_connection_value (c, MHD_HEADER_KIND,
                                                          "x-custom"));
  CHECK_STR (CUSTOM_VAL, MHD_lookup_connection_value (c, MHD_HEADER_KIND,
                                                          "X-CUSTOM"));
  CHECK_STR ("one", MHD_lookup_connection_value (c, MHD_HEADER_KIND,
                                                 "x-multi"));
  CHECK_STR (NULL, MHD_lookup_connection_value (c, MHD_HEADER_KIND,
                                                "X-Absent"));
  CHECK_STR ("1", MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND,
                                               "a"));
  CHECK_STR (NULL, MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND,
                                                "novalue"));
  CHECK_STR ("two", MHD_lookup_connection_value (c, MHD_COOKIE_KIND, "c2"));
  CHECK_STR (NULL, MHD_lookup_connection_value (c, MHD_HEADER_KIND, "c2"));

  /* lookup_n */
  v = NULL;
  vs = 99;
  CHECK_INT (MHD_YES, MHD_lookup_connection_value_n (c, MHD_GET_ARGUMENT_KIND,
                                                     "z", 1, &v, &vs));
  CHECK_INT (3, vs);
  if (NULL != v)
    CHECK_MEM ("a\0b", 3, v, vs);
  v = NULL;
  vs = 99;
  CHECK_INT (MHD_YES, MHD_lookup_connection_value_n (c, MHD_HEADER_KIND,
                                                     "x-custom", 8, &v, &vs));
  CHECK_STR (CUSTOM_VAL, v);
  CHECK_INT (CUSTOM_LEN, vs);
  /* key_size counts: "X-Customzzz" with length 8 is "X-Custom" */
  v = NULL;
  CHECK_INT (MHD_YES, MHD_lookup_connection_value_n (c, MHD_HEADER_KIND,
                                                     "X-Customzzz", 8, &v,
                                                     &vs));
  CHECK_STR (CUSTOM_VAL, v);
  CHECK_INT (MHD_NO, MHD_lookup_connection_value_n (c, MHD_HEADER_KIND,
                                                    "X-Absent", 8, &v, &vs));
  /* key without value: found, value NULL */
  v = "x";
  vs = 99;
  CHECK_INT (MHD_YES, MHD_lookup_connection_value_n (c, MHD_GET_ARGUMENT_KIND,
                                                     "novalue", 7, &v, &vs));
  CHECK (NULL == v);
  CHECK_INT (0, vs);

  /* set_connection_value then lookup */
  CHECK_INT (MHD_YES, MHD_set_connection_value (c, MHD_HEADER_KIND,
                                                "X-Added", "added"));
  CHECK_STR ("added", MHD_lookup_connection_value (c, MHD_HEADER_KIND,
                                                   "x-added"));
  CHECK_INT (6, MHD_get_connection_values (c, MHD_HEADER_KIND, NULL, NULL));
  CHECK_INT (MHD_YES, MHD_set_connection_value_n (c, MHD_GET_ARGUMENT_KIND,
                                                  "k\0x", 3, "v\0w", 3));
  v = NULL;
  CHECK_INT (MHD_YES, MHD_lookup_connection_value_n (c, MHD_GET_ARGUMENT_KIND,
                                                     "k\0x", 3, &v, &vs));
  CHECK_INT (3, vs);
  if (NULL != v)
    CHECK_MEM ("v\0w", 3, v, vs);
  /* a value set by the application for a new kind */
  CHECK_INT (MHD_YES, MHD_set_connection_value (c, MHD_POSTDATA_KIND, "p",
                                                "q"));
  CHECK_STR ("q", MHD_lookup_connection_value (c, MHD_POSTDATA_KIND, "p"));
}

/* A request with nothing but Host and Connection, served right after a
 * connection that had headers, arguments, cookies and values set by the
 * application: none of those may show. */
static void
check_plain (struct MHD_Connection *c)
{
  struct kvlist l;
  int n;
  memset (&l, 0, sizeof (l));
  n = MHD_get_connection_values (c, MHD_HEADER_KIND | MHD_COOKIE_KIND
                                 | MHD_GET_ARGUMENT_KIND | MHD_POSTDATA_KIND
                                 | MHD_FOOTER_KIND, iter, &l);
  CHECK_INT (2, n);
  if (2 == l.n)
  {
    CHECK_INT (MHD_HEADER_KIND, l.e[0].kind);
    CHECK_STR ("Host", l.e[0].key);
    CHECK_STR ("plain.example", l.e[0].value);
    CHECK_STR ("Connection", l.e[1].key);
    CHECK_STR ("close", l.e[1].value);
  }
  CHECK (NULL == MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "a"));
  CHECK (NULL == MHD_lookup_connection_value (c, MHD_POSTDATA_KIND, "p"));
  CHECK (NULL == MHD_lookup_connection_value (c, MHD_COOKIE_KIND, "c1"));
}

static enum MHD_Result
handler (void *cls, struct MHD_Connection *c, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **con_cls)
{
  static int marker;
  (void) cls;
  (void) method;
  (void) version;
  (void) upload;
  (void) upload_size;
  if (0 == strcmp (url, "/plain"))
  { /* a new connection after one that carried many values */
    if (NULL == *con_cls)
    {
      *con_cls = &marker;
      return MHD_YES;
    }
    check_plain (c);
    ATOMIC_INC (&handled);
    return test_reply (c, MHD_HTTP_OK, "plain");
  }
  if (NULL == *con_cls)
  {
    *con_cls = &marker;
    CHECK_STR ("/data path", url);
    /* values are already available on the first call */
    CHECK_STR (CUSTOM_VAL, MHD_lookup_connection_value (c,
                                                            MHD_HEADER_KIND,
                                                            "X-Custom"));
    return MHD_YES;
  }
  check_request (c);
  ATOMIC_INC (&handled);
  return test_reply (c, MHD_HTTP_OK, "done");
}

/* Until the daemon has closed n connections.  Not with the reference in
 * thread per connection, which notices a client's close late (common.h). */
static void
wait_closed (int n)
{
  if (! test_ref_tpc ())
    CHECK (test_wait_ge (&test_conns_closed, n, 5000));
}

static void
run (void)
{
  struct MHD_Daemon *d;
  struct http_resp r;
  static const char req[] =
    "GET /data%20path?a=1&plus=hello+world&hex=%41%42%2f&empty=&novalue"
    "&sp%20ace=x%26y&z=a%00b&a=2&utf=%C3%A9 HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "X-Custom:   Custom Value  \r\n"
    "X-Multi: one\r\n"
    "X-Multi: two\r\n"
    "Cookie: c1=v1; c2=two; c3=\"quoted\"\r\n"
    "\r\n";
  static const char plain[] =
    "GET /plain HTTP/1.1\r\nHost: plain.example\r\nConnection: close\r\n\r\n";
  int i;

  handled = test_conns_started = test_conns_closed = 0;
  test_diff ("header value trailing whitespace is kept (\"X-Custom:   Custom Value  \" -> \"Custom Value  \"); RFC 9110 5.5 excludes OWS");
  d = START_DAEMON (0, handler, NULL, MHD_OPTION_NOTIFY_CONNECTION,
                    test_count_connections, NULL, MHD_OPTION_END);
  /* One connection after the other, each gone before the next: a new
   * connection may reuse the buffers of the last (src/conn, Spare). */
  for (i = 0; i < 3; i++)
  {
    CHECK (raw_request (test_daemon_port (d), req, strlen (req), 0, &r, NULL,
                        0));
    CHECK_INT (200, r.status);
    CHECK_STR ("done", r.body.data);
    http_resp_free (&r);
    wait_closed (2 * i + 1);
    CHECK (raw_request (test_daemon_port (d), plain, strlen (plain), 0, &r,
                        NULL, 0));
    CHECK_INT (200, r.status);
    CHECK_STR ("plain", r.body.data);
    http_resp_free (&r);
    wait_closed (2 * i + 2);
  }
  CHECK_INT (6, handled);
  test_stop_daemon (d);
}

int
main (void)
{
  return test_run_modes ("test_request_data", run);
}
