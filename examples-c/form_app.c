/* form_app: a small form-processing application on libmicrohttpd 0.9.75,
 * behind HTTP digest authentication.
 *
 *   form_app [-p PORT] [-a sha256|md5] [-n NONCE_SECONDS] [-u USER:PASSWORD]
 *
 *   -p PORT     port on 127.0.0.1 (default 8080; 0 picks a free one)
 *   -a ALGO     digest algorithm (default sha256)
 *   -n SECONDS  how long a server nonce stays valid (default 300)
 *   -u U:P      the one account (default alice:wonderland)
 *
 *   GET  /        the HTML form
 *   POST /submit  the form, application/x-www-form-urlencoded or
 *                 multipart/form-data with file uploads; the answer lists
 *                 every field and, for each file, its name, type, size
 *                 and CRC-32, computed while the upload streams in: files
 *                 are never held in memory
 *
 * Every request needs the account's credentials (401 otherwise, with
 * stale=true when the client used an expired or unknown nonce, so that it
 * retries with the new one without asking the user again).  The listening
 * port is printed on stdout; SIGTERM or SIGINT stops the program (exit 0).
 */
#define _POSIX_C_SOURCE 200809L /* getopt, sigwait, O_CLOEXEC under -std=c99 */
#include <microhttpd.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REALM "form_app@example.org"
/* Sent with every challenge and returned unchanged by clients; constant
 * because this application keeps no session state in it. */
#define OPAQUE "5ccc069c403ebaf9f0171e9517f40e41"

#define MAX_FIELDS 16
#define MAX_FILES 4
#define MAX_FIELD_BYTES (64 * 1024) /* all field values of one request */
#define POST_BUFFER_SIZE 4096

static const char form_page[] =
  "<!DOCTYPE html>\n"
  "<html><head><meta charset=\"utf-8\"><title>form_app</title></head>\n"
  "<body>\n"
  "<h1>Send us something</h1>\n"
  "<form method=\"post\" action=\"/submit\" enctype=\"multipart/form-data\">\n"
  "<p><label>Name <input name=\"name\"></label></p>\n"
  "<p><label>Comment <textarea name=\"comment\"></textarea></label></p>\n"
  "<p><label>File <input type=\"file\" name=\"upload\"></label></p>\n"
  "<p><button>Send</button></p>\n"
  "</form>\n"
  "</body></html>\n";

static const char *user = "alice";
static const char *password = "wonderland";
static enum MHD_DigestAuthAlgorithm algorithm = MHD_DIGEST_ALG_SHA256;
static unsigned int nonce_timeout = 300;

struct field
{
  char name[64];
  char *value;
  size_t len;
};

struct upload
{
  char name[64];
  char filename[128];
  char content_type[96];
  uint64_t size;
  uint32_t crc;
};

/* Per-request state of POST /submit, kept in *con_cls. */
struct submission
{
  struct MHD_PostProcessor *pp;
  struct field fields[MAX_FIELDS];
  unsigned int nfields;
  struct upload files[MAX_FILES];
  unsigned int nfiles;
  size_t field_bytes;
  int rejected;     /* too many fields or bytes: answer 413 at the end */
  int malformed;    /* the post processor gave up: answer 400 at the end */
};

/* Marks GET requests whose first call has been seen. */
static int get_marker;

/* CRC-32 (IEEE 802.3, as zlib's crc32()), bitwise: small, and fast enough
 * for a demo; the running value is kept inverted between pieces. */
static uint32_t
crc32_update (uint32_t crc, const char *data, size_t len)
{
  size_t i;
  int k;

  crc = ~crc;
  for (i = 0; i < len; i++)
  {
    crc ^= (unsigned char) data[i];
    for (k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

static void
copy_str (char *dst, size_t size, const char *src)
{
  snprintf (dst, size, "%s", (NULL != src) ? src : "");
}

/* The post processor calls this for every piece of every value: a field
 * or file may arrive in several calls, with OFF the offset of DATA in the
 * value; OFF == 0 starts a new value. */
static enum MHD_Result
iterate_post (void *cls, enum MHD_ValueKind kind, const char *key,
              const char *filename, const char *content_type,
              const char *transfer_encoding, const char *data, uint64_t off,
              size_t size)
{
  struct submission *s = cls;

  (void) kind;
  (void) transfer_encoding;
  if (NULL != filename)
  {
    struct upload *u;

    if (0 == off)
    {
      if (MAX_FILES == s->nfiles)
      {
        s->rejected = 1;
        return MHD_NO; /* stops the post processor */
      }
      u = &s->files[s->nfiles++];
      copy_str (u->name, sizeof (u->name), key);
      copy_str (u->filename, sizeof (u->filename), filename);
      copy_str (u->content_type, sizeof (u->content_type), content_type);
      u->size = 0;
      u->crc = 0;
    }
    else if (0 == s->nfiles)
      return MHD_NO;
    u = &s->files[s->nfiles - 1];
    u->crc = crc32_update (u->crc, data, size);
    u->size += size;
    return MHD_YES;
  }
  else
  {
    struct field *f;
    char *grown;

    if (0 == off)
    {
      if (MAX_FIELDS == s->nfields)
      {
        s->rejected = 1;
        return MHD_NO;
      }
      f = &s->fields[s->nfields++];
      copy_str (f->name, sizeof (f->name), key);
    }
    else if (0 == s->nfields)
      return MHD_NO;
    f = &s->fields[s->nfields - 1];
    if (0 == size)
      return MHD_YES;
    if (s->field_bytes + size > MAX_FIELD_BYTES)
    {
      s->rejected = 1;
      return MHD_NO;
    }
    grown = realloc (f->value, f->len + size + 1);
    if (NULL == grown)
      return MHD_NO;
    memcpy (grown + f->len, data, size);
    f->value = grown;
    f->len += size;
    f->value[f->len] = '\0';
    s->field_bytes += size;
    return MHD_YES;
  }
}

static void
free_submission (struct submission *s)
{
  unsigned int i;

  if (NULL != s->pp)
    MHD_destroy_post_processor (s->pp);
  for (i = 0; i < s->nfields; i++)
    free (s->fields[i].value);
  free (s);
}

/* Request ended (answered, or the client went away): release its state. */
static void
completed (void *cls, struct MHD_Connection *c, void **con_cls,
           enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) c;
  (void) toe;
  if ( (NULL != *con_cls) && (&get_marker != *con_cls) )
    free_submission (*con_cls);
  *con_cls = NULL;
}

static enum MHD_Result
reply (struct MHD_Connection *c, unsigned int status, const char *type,
       const char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
  struct MHD_Response *r;
  enum MHD_Result ret;

  r = MHD_create_response_from_buffer (len, (void *) body, mode);
  if (NULL == r)
    return MHD_NO;
  MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (MHD_HTTP_METHOD_NOT_ALLOWED == status)
    MHD_add_response_header (r, MHD_HTTP_HEADER_ALLOW,
                             MHD_HTTP_METHOD_GET ", " MHD_HTTP_METHOD_POST);
  ret = MHD_queue_response (c, status, r);
  MHD_destroy_response (r);
  return ret;
}

static enum MHD_Result
reply_text (struct MHD_Connection *c, unsigned int status, const char *text)
{
  return reply (c, status, "text/plain; charset=utf-8", text, strlen (text),
                MHD_RESPMEM_PERSISTENT);
}

/* Checks the request's credentials.  Returns 1 when they are good;
 * otherwise queues the 401 challenge, stores the result of queueing it in
 * *ret and returns 0. */
static int
authenticate (struct MHD_Connection *c, enum MHD_Result *ret)
{
  static const char denied[] = "Authentication required\n";
  struct MHD_Response *r;
  char *name;
  int ok = MHD_NO;

  name = MHD_digest_auth_get_username (c);
  if (NULL != name)
  {
    if (0 == strcmp (name, user))
      ok = MHD_digest_auth_check2 (c, REALM, user, password, nonce_timeout,
                                   algorithm);
    MHD_free (name);
  }
  if (MHD_YES == ok)
    return 1;
  r = MHD_create_response_from_buffer (strlen (denied), (void *) denied,
                                       MHD_RESPMEM_PERSISTENT);
  if (NULL == r)
  {
    *ret = MHD_NO;
    return 0;
  }
  MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE,
                           "text/plain; charset=utf-8");
  /* An expired or unknown nonce with otherwise well-formed credentials is
   * not a wrong password: stale=true tells the client to retry at once
   * with the fresh nonce of this challenge. */
  *ret = MHD_queue_auth_fail_response2 (c, REALM, OPAQUE, r,
                                        (MHD_INVALID_NONCE == ok)
                                        ? MHD_YES : MHD_NO,
                                        algorithm);
  MHD_destroy_response (r);
  return 0;
}

/* Appends VALUE to the buffer with bytes outside printable ASCII written
 * as \xHH, so that every value stays on its line. */
static void
append_escaped (char **buf, size_t *len, size_t *cap, const char *value,
                size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
  {
    unsigned char ch = (unsigned char) value[i];

    if (*len + 5 > *cap)
    {
      char *grown = realloc (*buf, *cap * 2);
      if (NULL == grown)
        return;
      *buf = grown;
      *cap *= 2;
    }
    if ( (ch >= 0x20) && (ch < 0x7f) && ('\\' != ch) )
      (*buf)[(*len)++] = (char) ch;
    else
      *len += (size_t) snprintf (*buf + *len, 5, "\\x%02x", ch);
  }
}

static void
append_text (char **buf, size_t *len, size_t *cap, const char *text)
{
  size_t n = strlen (text);

  while (*len + n + 1 > *cap)
  {
    char *grown = realloc (*buf, *cap * 2);
    if (NULL == grown)
      return;
    *buf = grown;
    *cap *= 2;
  }
  memcpy (*buf + *len, text, n + 1);
  *len += n;
}

/* The answer to a complete submission: what was received, one line per
 * field or file.  The buffer is handed to the library (MUST_FREE). */
static enum MHD_Result
reply_submission (struct MHD_Connection *c, const struct submission *s)
{
  size_t cap = 256, len = 0;
  char *buf = malloc (cap);
  char line[512];
  unsigned int i;
  struct MHD_Response *r;
  enum MHD_Result ret;

  if (NULL == buf)
    return MHD_NO;
  buf[0] = '\0';
  snprintf (line, sizeof (line), "Received from %s: %u field%s, %u file%s\n",
            user, s->nfields, (1 == s->nfields) ? "" : "s",
            s->nfiles, (1 == s->nfiles) ? "" : "s");
  append_text (&buf, &len, &cap, line);
  for (i = 0; i < s->nfields; i++)
  {
    snprintf (line, sizeof (line), "field %s (%zu bytes): ",
              s->fields[i].name, s->fields[i].len);
    append_text (&buf, &len, &cap, line);
    append_escaped (&buf, &len, &cap, s->fields[i].value, s->fields[i].len);
    append_text (&buf, &len, &cap, "\n");
  }
  for (i = 0; i < s->nfiles; i++)
  {
    snprintf (line, sizeof (line),
              "file %s \"%s\" %s: %" PRIu64 " bytes, crc32 %08" PRIx32 "\n",
              s->files[i].name, s->files[i].filename,
              ('\0' != s->files[i].content_type[0])
              ? s->files[i].content_type : "(no type)",
              s->files[i].size, s->files[i].crc);
    append_text (&buf, &len, &cap, line);
  }
  r = MHD_create_response_from_buffer (len, buf, MHD_RESPMEM_MUST_FREE);
  if (NULL == r)
  {
    free (buf);
    return MHD_NO;
  }
  MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE,
                           "text/plain; charset=utf-8");
  ret = MHD_queue_response (c, MHD_HTTP_OK, r);
  MHD_destroy_response (r);
  return ret;
}

static enum MHD_Result
handle (void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  struct submission *s = *con_cls;
  enum MHD_Result ret;

  (void) cls;
  (void) version;
  if (NULL == *con_cls)
  {
    /* First call, the header is complete and no body has been read.
     * Checking the credentials now means the body of a request that is
     * refused is never read or parsed: the library answers at once and
     * closes the connection afterwards. */
    if (! authenticate (c, &ret))
      return ret;
    if (0 == strcmp (url, "/"))
    {
      if ( (0 != strcmp (method, MHD_HTTP_METHOD_GET)) &&
           (0 != strcmp (method, MHD_HTTP_METHOD_HEAD)) )
        return reply_text (c, MHD_HTTP_METHOD_NOT_ALLOWED,
                           "Method Not Allowed\n");
      *con_cls = &get_marker;
      return MHD_YES;
    }
    if (0 != strcmp (url, "/submit"))
      return reply_text (c, MHD_HTTP_NOT_FOUND, "Not Found\n");
    if (0 != strcmp (method, MHD_HTTP_METHOD_POST))
      return reply_text (c, MHD_HTTP_METHOD_NOT_ALLOWED,
                         "Method Not Allowed\n");
    s = calloc (1, sizeof (*s));
    if (NULL == s)
      return MHD_NO;
    /* NULL unless the body is url-encoded or multipart/form-data. */
    s->pp = MHD_create_post_processor (c, POST_BUFFER_SIZE, &iterate_post, s);
    if (NULL == s->pp)
    {
      free (s);
      return reply_text (c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                         "Send application/x-www-form-urlencoded or "
                         "multipart/form-data\n");
    }
    *con_cls = s;
    return MHD_YES;
  }
  if (&get_marker == *con_cls)
  {
    if (0 != *upload_data_size)
    { /* a GET with a body: drop it */
      *upload_data_size = 0;
      return MHD_YES;
    }
    return reply (c, MHD_HTTP_OK, "text/html; charset=utf-8", form_page,
                  sizeof (form_page) - 1, MHD_RESPMEM_PERSISTENT);
  }
  if (0 != *upload_data_size)
  {
    /* A piece of the body: the post processor calls iterate_post() for
     * what it completes and keeps the rest for the next piece.  After a
     * failure the rest of the body is read and dropped, so that the
     * answer can still be sent on this connection. */
    if ( (! s->rejected) && (! s->malformed) &&
         (MHD_YES != MHD_post_process (s->pp, upload_data, *upload_data_size)) )
    {
      if (! s->rejected)
        s->malformed = 1;
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  /* Final call: the body is complete.  Destroying the post processor
   * delivers a trailing url-encoded value that had no '&' after it. */
  if (MHD_YES != MHD_destroy_post_processor (s->pp))
    s->malformed = 1;
  s->pp = NULL;
  if (s->rejected)
    return reply_text (c, MHD_HTTP_CONTENT_TOO_LARGE, "Too much data\n");
  if (s->malformed)
    return reply_text (c, MHD_HTTP_BAD_REQUEST, "Malformed form data\n");
  return reply_submission (c, s);
}

static void
usage (const char *argv0)
{
  fprintf (stderr, "usage: %s [-p PORT] [-a sha256|md5] [-n NONCE_SECONDS] "
           "[-u USER:PASSWORD]\n", argv0);
  exit (2);
}

int
main (int argc, char **argv)
{
  unsigned int port = 8080;
  struct sockaddr_in addr;
  struct MHD_Daemon *d;
  const union MHD_DaemonInfo *info;
  /* Static: the library keeps using this buffer, it does not copy it. */
  static char rnd[32];
  char *colon;
  sigset_t stop_signals;
  int fd;
  int sig;
  int opt;

  while (-1 != (opt = getopt (argc, argv, "p:a:n:u:")))
  {
    switch (opt)
    {
    case 'p':
      port = (unsigned int) strtoul (optarg, NULL, 10);
      break;
    case 'a':
      if (0 == strcmp (optarg, "md5"))
        algorithm = MHD_DIGEST_ALG_MD5;
      else if (0 == strcmp (optarg, "sha256"))
        algorithm = MHD_DIGEST_ALG_SHA256;
      else
        usage (argv[0]);
      break;
    case 'n':
      nonce_timeout = (unsigned int) strtoul (optarg, NULL, 10);
      break;
    case 'u':
      colon = strchr (optarg, ':');
      if (NULL == colon)
        usage (argv[0]);
      *colon = '\0';
      user = optarg;
      password = colon + 1;
      break;
    default:
      usage (argv[0]);
    }
  }
  if ( (optind != argc) || (port > 65535) || (0 == nonce_timeout) )
    usage (argv[0]);

  /* The nonces are derived from this secret: without it they could be
   * forged by anyone who knows the algorithm. */
  fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if ( (-1 == fd) || (sizeof (rnd) != (size_t) read (fd, rnd, sizeof (rnd))) )
  {
    fprintf (stderr, "form_app: cannot read /dev/urandom\n");
    return 1;
  }
  close (fd);

  sigemptyset (&stop_signals);
  sigaddset (&stop_signals, SIGTERM);
  sigaddset (&stop_signals, SIGINT);
  pthread_sigmask (SIG_BLOCK, &stop_signals, NULL);

  memset (&addr, 0, sizeof (addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons ((uint16_t) port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  d = MHD_start_daemon (MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
                        (uint16_t) port, NULL, NULL, &handle, NULL,
                        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                        MHD_OPTION_NOTIFY_COMPLETED, &completed, NULL,
                        MHD_OPTION_DIGEST_AUTH_RANDOM, sizeof (rnd), rnd,
                        /* remembers the nonce counts of this many nonces,
                         * which defeats replayed requests */
                        MHD_OPTION_NONCE_NC_SIZE, (unsigned int) 128,
                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 30,
                        MHD_OPTION_END);
  if (NULL == d)
  {
    fprintf (stderr, "form_app: cannot start the daemon on port %u\n", port);
    return 1;
  }
  info = MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT);
  printf ("form_app: http://127.0.0.1:%u/ (user %s, digest %s)\n",
          (unsigned int) info->port, user,
          (MHD_DIGEST_ALG_MD5 == algorithm) ? "MD5" : "SHA-256");
  fflush (stdout);

  do
    sig = 0;
  while ( (0 != sigwait (&stop_signals, &sig)) || (0 == sig) );
  MHD_stop_daemon (d);
  printf ("form_app: stopped (signal %d)\n", sig);
  return 0;
}
