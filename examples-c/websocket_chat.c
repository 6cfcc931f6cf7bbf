/* websocket_chat: a WebSocket (RFC 6455) chat room on the event-mask HTTP
 * UPGRADE API (shared/design/UPGRADE.md), over ws:// or wss://, in any
 * threading mode.
 *
 *   websocket_chat [PORT] [MODE] [CERT.pem KEY.pem]
 *     MODE: select | poll | epoll | thread-per-connection | pool | external
 *     (external: this program runs the event loop itself with
 *     MHD_get_fdset / select / MHD_run_from_select)
 *     with a certificate and key the server speaks HTTPS and wss://.
 *
 * GET /            a small HTML page: open it in a browser to join
 * GET /chat?name=N the WebSocket endpoint
 *
 * Every text message a client sends is broadcast to every client as
 * "[N] message"; "* N joined" / "* N left" announce the others.  The
 * upgrade handler never sees a socket: it parses frames out of the input
 * buffer MHD hands it (unmasking, reassembling fragments, answering pings,
 * the close handshake) and writes frames into the output buffer.  A
 * message from one client is queued for all the others, who are woken
 * with MHD_resume_connection, thread-safe for upgraded connections: their
 * handlers run in their own event loop's next round and copy the queue
 * out.  The handshake uses OpenSSL's SHA-1 and base64.
 *
 * Close codes sent by the server: the client's own code echoed, 1002 on
 * a protocol error (unmasked frame, reserved bits, bad opcode or
 * fragmentation), 1003 for binary messages (this chat takes text), 1007
 * for text that is not UTF-8, 1009 for messages over 16 MiB, 1001 when
 * the server stops.
 */
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <unistd.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_MESSAGE (16u * 1024 * 1024)
/* Outgoing messages longer than this go out as several frames. */
#define OUT_FRAGMENT 16384
#define CLIENT_MAGIC 0x57534331u

static volatile sig_atomic_t stop;

static void
on_signal (int sig)
{
  (void) sig;
  stop = 1;
}

struct client
{
  unsigned int magic;
  struct MHD_Connection *conn;
  char name[64];
  struct client *next;      /* the room (room_lock) */
  int in_room;
  /* frames waiting to be handed to MHD (room_lock) */
  unsigned char *out;
  size_t out_len, out_off, out_cap;
  int closing;              /* a close frame is queued: end after it */
  /* the frame parser (only the connection's handler touches it) */
  unsigned char hdr[14];
  size_t hdr_len;
  int in_frame;
  int opcode, fin;
  uint64_t left;            /* payload bytes still to come */
  unsigned char key[4];
  size_t key_pos;
  unsigned char ctrl[125];
  size_t ctrl_len;
  unsigned char *msg;       /* the data message being reassembled */
  size_t msg_len, msg_cap;
  int msg_opcode;           /* 0: none in progress */
};

static pthread_mutex_t room_lock = PTHREAD_MUTEX_INITIALIZER;
static struct client *room;
static unsigned int guests;

/* ---- output queue ------------------------------------------------ */

/* Appends bytes to c's queue (room_lock held). */
static void
queue_bytes (struct client *c, const void *p, size_t n)
{
  if (c->out_off > 0 && c->out_off == c->out_len)
    c->out_off = c->out_len = 0;
  if (c->out_len + n > c->out_cap)
  {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    unsigned char *q;
    if (c->out_off > 0)
    { /* compact first */
      memmove (c->out, c->out + c->out_off, c->out_len - c->out_off);
      c->out_len -= c->out_off;
      c->out_off = 0;
    }
    while (cap < c->out_len + n)
      cap *= 2;
    q = realloc (c->out, cap);
    if (NULL == q)
      abort ();
    c->out = q;
    c->out_cap = cap;
  }
  memcpy (c->out + c->out_len, p, n);
  c->out_len += n;
}

/* One unmasked frame (room_lock held). */
static void
queue_frame (struct client *c, int fin, int opcode, const void *p, size_t n)
{
  unsigned char h[10];
  size_t hl;
  h[0] = (unsigned char) ((fin ? 0x80 : 0) | opcode);
  if (n < 126)
  {
    h[1] = (unsigned char) n;
    hl = 2;
  }
  else if (n < 65536)
  {
    h[1] = 126;
    h[2] = (unsigned char) (n >> 8);
    h[3] = (unsigned char) n;
    hl = 4;
  }
  else
  {
    int i;
    h[1] = 127;
    for (i = 0; i < 8; i++)
      h[2 + i] = (unsigned char) ((uint64_t) n >> (56 - 8 * i));
    hl = 10;
  }
  queue_bytes (c, h, hl);
  queue_bytes (c, p, n);
}

/* A text message, fragmented when long (room_lock held). */
static void
queue_text (struct client *c, const char *prefix, const void *p, size_t n)
{
  size_t plen = strlen (prefix);
  size_t total = plen + n;
  size_t off = 0;
  if (c->closing)
    return;
  if (total <= OUT_FRAGMENT)
  {
    unsigned char h[10];
    size_t hl;
    /* header, prefix and text without building the message */
    h[0] = 0x81;
    if (total < 126)
    {
      h[1] = (unsigned char) total;
      hl = 2;
    }
    else
    {
      h[1] = 126;
      h[2] = (unsigned char) (total >> 8);
      h[3] = (unsigned char) total;
      hl = 4;
    }
    queue_bytes (c, h, hl);
    queue_bytes (c, prefix, plen);
    queue_bytes (c, p, n);
    return;
  }
  /* first fragment: the prefix and the start of the text */
  {
    size_t k = OUT_FRAGMENT - plen;
    unsigned char h[4] = { 0x01, 126, (unsigned char) (OUT_FRAGMENT >> 8),
                           (unsigned char) OUT_FRAGMENT };
    queue_bytes (c, h, 4);
    queue_bytes (c, prefix, plen);
    queue_bytes (c, p, k);
    off = k;
  }
  while (off < n)
  {
    size_t k = n - off > OUT_FRAGMENT ? OUT_FRAGMENT : n - off;
    queue_frame (c, off + k == n, 0x0, (const char *) p + off, k);
    off += k;
  }
}

/* Queues a close frame and stops taking input (room_lock held). */
static void
queue_close (struct client *c, int code, const char *reason)
{
  unsigned char b[125];
  size_t n = 0;
  if (c->closing)
    return;
  if (code > 0)
  {
    b[0] = (unsigned char) (code >> 8);
    b[1] = (unsigned char) code;
    n = 2;
    if (NULL != reason)
    {
      size_t r = strlen (reason);
      if (r > sizeof (b) - 2)
        r = sizeof (b) - 2;
      memcpy (b + 2, reason, r);
      n += r;
    }
  }
  queue_frame (c, 1, 0x8, b, n);
  c->closing = 1;
}

/* Sends a text to everyone in the room and wakes them (room_lock held). */
static void
broadcast (const struct client *from, const char *prefix, const void *p,
           size_t n)
{
  struct client *c;
  for (c = room; NULL != c; c = c->next)
  {
    queue_text (c, prefix, p, n);
    if (c != from)
      MHD_resume_connection (c->conn); /* its handler runs next round */
  }
}

static void
announce (const struct client *from, const char *what)
{
  char line[128];
  snprintf (line, sizeof (line), "* %s %s", from->name, what);
  broadcast (from, "", line, strlen (line));
}

/* ---- input --------------------------------------------------------- */

static int
utf8_valid (const unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n)
  {
    unsigned char c = s[i];
    size_t k;
    uint32_t cp;
    if (c < 0x80)
    {
      i++;
      continue;
    }
    if ((c & 0xE0) == 0xC0)
    {
      k = 1;
      cp = c & 0x1F;
    }
    else if ((c & 0xF0) == 0xE0)
    {
      k = 2;
      cp = c & 0x0F;
    }
    else if ((c & 0xF8) == 0xF0)
    {
      k = 3;
      cp = c & 0x07;
    }
    else
      return 0;
    if (i + k >= n)
      return 0; /* truncated sequence */
    {
      size_t j;
      for (j = 1; j <= k; j++)
      {
        if ((s[i + j] & 0xC0) != 0x80)
          return 0;
        cp = (cp << 6) | (s[i + j] & 0x3F);
      }
    }
    if (((1 == k) && (cp < 0x80)) || ((2 == k) && (cp < 0x800)) ||
        ((3 == k) && (cp < 0x10000)) || (cp > 0x10FFFF) ||
        ((cp >= 0xD800) && (cp <= 0xDFFF)))
      return 0;
    i += k + 1;
  }
  return 1;
}

/* A whole frame has arrived (its payload unmasked into ctrl or msg). */
static void
frame_done (struct client *c)
{
  if (c->opcode & 0x8)
  {
    pthread_mutex_lock (&room_lock);
    if (0x9 == c->opcode)          /* ping: pong with the same payload */
      queue_frame (c, 1, 0xA, c->ctrl, c->ctrl_len);
    else if (0x8 == c->opcode)     /* close: answer with the same code */
    {
      if (c->ctrl_len >= 2)
      {
        int code = (c->ctrl[0] << 8) | c->ctrl[1];
        queue_close (c, code, NULL);
      }
      else if (1 == c->ctrl_len)
        queue_close (c, 1002, "bad close frame");
      else
        queue_close (c, 0, NULL);
    }
    /* pong: nothing to do */
    pthread_mutex_unlock (&room_lock);
    return;
  }
  if (! c->fin)
    return;
  /* a whole message */
  pthread_mutex_lock (&room_lock);
  if (0x2 == c->msg_opcode)
    queue_close (c, 1003, "text only");
  else if (! utf8_valid (c->msg, c->msg_len))
    queue_close (c, 1007, "not UTF-8");
  else
  {
    char prefix[80];
    snprintf (prefix, sizeof (prefix), "[%s] ", c->name);
    broadcast (c, prefix, c->msg, c->msg_len);
  }
  pthread_mutex_unlock (&room_lock);
  c->msg_len = 0;
  c->msg_opcode = 0;
}

static void
protocol_error (struct client *c, int code, const char *why)
{
  pthread_mutex_lock (&room_lock);
  queue_close (c, code, why);
  pthread_mutex_unlock (&room_lock);
}

/* Parses frames out of in[0..n); everything is consumed (partial headers
 * and payloads are kept in the client's state). */
static void
parse (struct client *c, const unsigned char *in, size_t n)
{
  size_t pos = 0;
  while ((pos < n) && ! c->closing)
  {
    if (! c->in_frame)
    {
      size_t need = 2;
      c->hdr[c->hdr_len++] = in[pos++];
      if (c->hdr_len >= 2)
      {
        int len7 = c->hdr[1] & 0x7F;
        need = 2 + (126 == len7 ? 2 : 127 == len7 ? 8 : 0)
               + ((c->hdr[1] & 0x80) ? 4 : 0);
      }
      if (c->hdr_len < need)
        continue;
      {
        int len7 = c->hdr[1] & 0x7F;
        size_t at = 2;
        uint64_t len = (uint64_t) len7;
        int i;
        c->fin = (c->hdr[0] & 0x80) != 0;
        c->opcode = c->hdr[0] & 0x0F;
        c->hdr_len = 0;
        if (c->hdr[0] & 0x70)
          {
            protocol_error (c, 1002, "reserved bits");
            return;
          }
        if (! (c->hdr[1] & 0x80))
          {
            protocol_error (c, 1002, "unmasked frame");
            return;
          }
        if (126 == len7)
        {
          len = ((uint64_t) c->hdr[2] << 8) | c->hdr[3];
          at = 4;
        }
        else if (127 == len7)
        {
          len = 0;
          for (i = 0; i < 8; i++)
            len = (len << 8) | c->hdr[2 + i];
          at = 10;
        }
        memcpy (c->key, c->hdr + at, 4);
        c->key_pos = 0;
        c->left = len;
        c->ctrl_len = 0;
        if (c->opcode & 0x8)
        {
          if ((c->opcode > 0xA) || (len > 125) || ! c->fin)
            {
            protocol_error (c, 1002, "bad control frame");
            return;
          }
        }
        else
        {
          if ((c->opcode > 0x2) ||
              ((0x0 == c->opcode) && (0 == c->msg_opcode)) ||
              ((0x0 != c->opcode) && (0 != c->msg_opcode)))
            {
            protocol_error (c, 1002, "bad fragmentation");
            return;
          }
          if (0 != c->opcode)
            c->msg_opcode = c->opcode;
          if (len > MAX_MESSAGE - c->msg_len)
            {
            protocol_error (c, 1009, "message too big");
            return;
          }
          if (c->msg_len + len > c->msg_cap)
          {
            size_t cap = c->msg_cap ? c->msg_cap : 4096;
            unsigned char *m;
            while (cap < c->msg_len + len)
              cap *= 2;
            m = realloc (c->msg, cap);
            if (NULL == m)
              {
            protocol_error (c, 1009, "out of memory");
            return;
          }
            c->msg = m;
            c->msg_cap = cap;
          }
        }
        c->in_frame = 1;
      }
    }
    else
    {
      size_t k = n - pos;
      unsigned char *dst;
      size_t i;
      if (k > c->left)
        k = (size_t) c->left;
      dst = (c->opcode & 0x8) ? c->ctrl + c->ctrl_len : c->msg + c->msg_len;
      for (i = 0; i < k; i++)
        dst[i] = in[pos + i] ^ c->key[(c->key_pos + i) & 3];
      c->key_pos += k;
      if (c->opcode & 0x8)
        c->ctrl_len += k;
      else
        c->msg_len += k;
      c->left -= k;
      pos += k;
    }
    if (c->in_frame && (0 == c->left))
    {
      c->in_frame = 0;
      frame_done (c);
    }
  }
}

/* ---- the upgrade handler ------------------------------------------- */

static enum MHD_UpgradeEventMask
ws_handler (void *cls, struct MHD_Connection *connection, void **con_cls,
            size_t *data_in_size, const char *data_in,
            size_t *data_out_size, char *data_out)
{
  struct client *c = *con_cls;
  unsigned int mask = MHD_UPGRADE_EVENT_READ | MHD_UPGRADE_EVENT_CORK;
  size_t n;
  (void) cls;
  (void) connection;
  if (NULL == data_in)
  { /* the peer is gone or the server stops: the completion callback
     * takes the client out of the room */
    *data_out_size = 0;
    return MHD_UPGRADE_EVENT_TERMINATE;
  }
  if (! c->in_room)
  { /* the first call: the 101 is out, the client is in */
    pthread_mutex_lock (&room_lock);
    c->next = room;
    room = c;
    c->in_room = 1;
    announce (c, "joined");
    pthread_mutex_unlock (&room_lock);
  }
  /* all input is consumed (after a close it is dropped): partial frames
   * live in the client's state */
  if (! c->closing)
    parse (c, (const unsigned char *) data_in, *data_in_size);
  pthread_mutex_lock (&room_lock);
  n = c->out_len - c->out_off;
  if (n > *data_out_size)
    n = *data_out_size;
  memcpy (data_out, c->out + c->out_off, n);
  c->out_off += n;
  *data_out_size = n;
  if (c->out_off < c->out_len)
    mask |= MHD_UPGRADE_EVENT_WRITE;   /* more queued: call again for space */
  else if (c->closing)
    mask = MHD_UPGRADE_EVENT_CORK;     /* CORK alone: flush, then close */
  pthread_mutex_unlock (&room_lock);
  return (enum MHD_UpgradeEventMask) mask;
}

static void
completed (void *cls, struct MHD_Connection *connection, void **con_cls,
           enum MHD_RequestTerminationCode toe)
{
  struct client *c = *con_cls;
  (void) cls;
  (void) connection;
  (void) toe;
  if ((NULL == c) || (CLIENT_MAGIC != c->magic))
    return;
  pthread_mutex_lock (&room_lock);
  if (c->in_room)
  {
    struct client **pp;
    for (pp = &room; NULL != *pp; pp = &(*pp)->next)
      if (*pp == c)
      {
        *pp = c->next;
        break;
      }
    announce (c, "left");
  }
  pthread_mutex_unlock (&room_lock);
  *con_cls = NULL;
  free (c->out);
  free (c->msg);
  free (c);
}

/* ---- HTTP ---------------------------------------------------------- */

static const char page[] =
  "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
  "<title>libmicrohttpd-rs WebSocket chat</title>\n<style>"
  "body{font-family:sans-serif;max-width:40em;margin:2em auto}"
  "#log{border:1px solid #ccc;height:20em;overflow-y:auto;padding:.5em;"
  "white-space:pre-wrap}input{margin:.3em 0}</style></head><body>\n"
  "<h1>WebSocket chat</h1>\n"
  "<p>Served by libmicrohttpd-rs through the event-mask upgrade API.</p>\n"
  "<form id=\"join\"><input id=\"name\" placeholder=\"your name\">"
  " <button>Join</button></form>\n<div id=\"log\"></div>\n"
  "<form id=\"say\"><input id=\"msg\" size=\"50\" autocomplete=\"off\" "
  "placeholder=\"message\" disabled> <button>Send</button></form>\n"
  "<script>\nlet ws = null;\nconst log = document.getElementById('log');\n"
  "function show(t){const d=document.createElement('div');d.textContent=t;"
  "log.appendChild(d);log.scrollTop=log.scrollHeight;}\n"
  "document.getElementById('join').onsubmit = e => {\n"
  "  e.preventDefault();\n  if (ws) ws.close(1000);\n"
  "  const name = document.getElementById('name').value || 'guest';\n"
  "  ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://')"
  " + location.host + '/chat?name=' + encodeURIComponent(name));\n"
  "  ws.onopen = () => { document.getElementById('msg').disabled = false;"
  " show('* connected'); };\n"
  "  ws.onmessage = m => show(m.data);\n"
  "  ws.onclose = c => { document.getElementById('msg').disabled = true;"
  " show('* closed (' + c.code + ')'); };\n};\n"
  "document.getElementById('say').onsubmit = e => {\n"
  "  e.preventDefault();\n  const m = document.getElementById('msg');\n"
  "  if (ws && m.value) { ws.send(m.value); m.value = ''; }\n};\n"
  "</script></body></html>\n";

static enum MHD_Result
reply (struct MHD_Connection *c, unsigned int status, const char *body,
       const char *type)
{
  struct MHD_Response *r =
    MHD_create_response_from_buffer (strlen (body), (void *) body,
                                     MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ret;
  if (NULL == r)
    return MHD_NO;
  MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (MHD_HTTP_UPGRADE_REQUIRED == status)
    MHD_add_response_header (r, "Sec-WebSocket-Version", "13");
  ret = MHD_queue_response (c, status, r);
  MHD_destroy_response (r);
  return ret;
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
        ((p == v) || (',' == p[-1]) || (' ' == p[-1])) &&
        (('\0' == p[n]) || (',' == p[n]) || (' ' == p[n])))
      return 1;
  return 0;
}

static enum MHD_Result
handle (void *cls, struct MHD_Connection *conn, const char *url,
        const char *method, const char *version, const char *upload_data,
        size_t *upload_data_size, void **con_cls)
{
  const char *key, *ver, *name;
  unsigned char digest[SHA_DIGEST_LENGTH];
  char accept[64];
  char buf[128];
  struct MHD_Response *r;
  struct client *c;
  enum MHD_Result ret;
  (void) cls;
  (void) version;
  (void) upload_data;
  if (0 != *upload_data_size)
    return MHD_NO;
  if (0 != strcmp (method, MHD_HTTP_METHOD_GET))
    return reply (conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n",
                  "text/plain");
  if (0 == strcmp (url, "/"))
    return reply (conn, MHD_HTTP_OK, page, "text/html; charset=utf-8");
  if (0 != strcmp (url, "/chat"))
    return reply (conn, MHD_HTTP_NOT_FOUND, "not found\n", "text/plain");
  /* RFC 6455 section 4.2.1 */
  key = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                     "Sec-WebSocket-Key");
  ver = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                     "Sec-WebSocket-Version");
  if (! has_token (MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_UPGRADE),
                   "websocket") ||
      (NULL == key) || (strlen (key) > 64))
    return reply (conn, MHD_HTTP_BAD_REQUEST, "a WebSocket handshake "
                  "is needed here\n", "text/plain");
  if ((NULL == ver) || (0 != strcmp (ver, "13")))
    return reply (conn, MHD_HTTP_UPGRADE_REQUIRED, "WebSocket version 13 "
                  "only\n", "text/plain");
  snprintf (buf, sizeof (buf), "%s%s", key, WS_GUID);
  SHA1 ((const unsigned char *) buf, strlen (buf), digest);
  EVP_EncodeBlock ((unsigned char *) accept, digest, SHA_DIGEST_LENGTH);

  c = calloc (1, sizeof (*c));
  if (NULL == c)
    return MHD_NO;
  c->magic = CLIENT_MAGIC;
  c->conn = conn;
  name = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "name");
  pthread_mutex_lock (&room_lock);
  if ((NULL != name) && ('\0' != *name))
    snprintf (c->name, sizeof (c->name), "%s", name);
  else
    snprintf (c->name, sizeof (c->name), "guest-%u", ++guests);
  pthread_mutex_unlock (&room_lock);

  r = MHD_create_response_for_upgrade (&ws_handler, NULL);
  if (NULL == r)
  {
    free (c);
    return MHD_NO;
  }
  MHD_add_response_header (r, MHD_HTTP_HEADER_UPGRADE, "websocket");
  MHD_add_response_header (r, "Sec-WebSocket-Accept", accept);
  /* MHD adds "Connection: Upgrade" */
  *con_cls = c;
  ret = MHD_queue_response (conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  MHD_destroy_response (r);
  if (MHD_YES != ret)
  { /* refused (an HTTP/1.0 request, say) */
    *con_cls = NULL;
    free (c);
    return reply (conn, MHD_HTTP_BAD_REQUEST, "upgrade refused\n",
                  "text/plain");
  }
  return MHD_YES;
}

static char *
slurp (const char *path)
{
  FILE *f = fopen (path, "rb");
  char *buf;
  long n;
  if (NULL == f)
    return NULL;
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  buf = malloc ((size_t) n + 1);
  if ((NULL != buf) && (fread (buf, 1, (size_t) n, f) != (size_t) n))
  {
    free (buf);
    buf = NULL;
  }
  if (NULL != buf)
    buf[n] = '\0';
  fclose (f);
  return buf;
}

/* The application's own event loop (MODE external): the wake-up
 * descriptor (MHD_USE_ITC) is in the read set, so a resume from another
 * connection's handler wakes this select. */
static void
external_loop (struct MHD_Daemon *d)
{
  while (! stop)
  {
    fd_set rs, ws, es;
    MHD_socket max = 0;
    MHD_UNSIGNED_LONG_LONG to;
    struct timeval tv, *tvp = NULL;
    FD_ZERO (&rs);
    FD_ZERO (&ws);
    FD_ZERO (&es);
    if (MHD_YES != MHD_get_fdset (d, &rs, &ws, &es, &max))
      break;
    if (MHD_YES == MHD_get_timeout (d, &to))
    {
      tv.tv_sec = (time_t) (to / 1000);
      tv.tv_usec = (suseconds_t) ((to % 1000) * 1000);
      tvp = &tv;
    }
    if ((select (max + 1, &rs, &ws, &es, tvp) < 0) && (EINTR != errno))
      break;
    MHD_run_from_select (d, &rs, &ws, &es);
  }
}

int
main (int argc, char **argv)
{
  unsigned int port = (argc > 1) ? (unsigned int) atoi (argv[1]) : 8082;
  const char *mode = (argc > 2) ? argv[2] : "epoll";
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  unsigned int pool = 0;
  char *cert = NULL;
  char *key = NULL;
  struct MHD_Daemon *d;
  struct sigaction sa;

  if (0 == strcmp (mode, "poll"))
    flags |= MHD_USE_POLL;
  else if (0 == strcmp (mode, "epoll"))
    flags |= MHD_USE_EPOLL;
  else if (0 == strcmp (mode, "thread-per-connection"))
    flags |= MHD_USE_THREAD_PER_CONNECTION;
  else if (0 == strcmp (mode, "pool"))
  {
    flags |= MHD_USE_EPOLL;
    pool = 4;
  }
  else if (0 == strcmp (mode, "external"))
    flags = MHD_USE_ITC | MHD_USE_ERROR_LOG;
  else if (0 != strcmp (mode, "select"))
  {
    fprintf (stderr, "usage: %s [PORT] [select|poll|epoll|"
             "thread-per-connection|pool|external] [CERT KEY]\n", argv[0]);
    return 2;
  }
  if (argc > 4)
  {
    cert = slurp (argv[3]);
    key = slurp (argv[4]);
    if ((NULL == cert) || (NULL == key))
    {
      fprintf (stderr, "cannot read %s or %s\n", argv[3], argv[4]);
      return 1;
    }
    flags |= MHD_USE_TLS;
  }
  if (NULL != cert)
    d = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, &handle, NULL,
                          MHD_OPTION_NOTIFY_COMPLETED, &completed, NULL,
                          MHD_OPTION_HTTPS_MEM_CERT, cert,
                          MHD_OPTION_HTTPS_MEM_KEY, key,
                          MHD_OPTION_THREAD_POOL_SIZE, pool,
                          MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                          MHD_OPTION_END);
  else
    d = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, &handle, NULL,
                          MHD_OPTION_NOTIFY_COMPLETED, &completed, NULL,
                          MHD_OPTION_THREAD_POOL_SIZE, pool,
                          MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                          MHD_OPTION_END);
  if (NULL == d)
  {
    fprintf (stderr, "failed to start the daemon on port %u\n", port);
    return 1;
  }
  printf ("websocket_chat: %s on port %u (%s): open %s://localhost:%u/\n",
          cert ? "HTTPS" : "HTTP",
          (unsigned int) MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT)->port,
          mode, cert ? "https" : "http",
          (unsigned int) MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT)->port);
  fflush (stdout);
  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = on_signal;   /* no SA_RESTART: select returns EINTR */
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  if (0 == strcmp (mode, "external"))
    external_loop (d);
  else
    while (! stop)
      pause ();
  /* Say goodbye (1001) to everyone; MHD_stop_daemon sends what the
   * sockets take at once and ends every connection. */
  {
    struct client *c;
    pthread_mutex_lock (&room_lock);
    for (c = room; NULL != c; c = c->next)
    {
      queue_close (c, 1001, "server stops");
      MHD_resume_connection (c->conn);
    }
    pthread_mutex_unlock (&room_lock);
    if (0 == strcmp (mode, "external"))
    {
      int i;
      for (i = 0; i < 5; i++)
        MHD_run (d);
    }
    else
      usleep (100 * 1000);
  }
  MHD_stop_daemon (d);
  free (cert);
  free (key);
  return 0;
}
