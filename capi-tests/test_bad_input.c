/* test_bad_input: malformed, hostile and request-smuggling inputs over raw
 * sockets, one table row per case.
 *
 * Each row has two expectation columns: what RFC 9112/9110 ask for (our
 * library's target) and what the reference (Debian's libmicrohttpd 0.9.75)
 * does.  With MHD_TEST_REFERENCE=1 the reference column is used and every
 * row where the columns differ is printed as a DIFF line.
 *
 * An expectation is { wire, close, seen }:
 *  wire   the status codes of every response on the connection, in order,
 *         space-separated ("" = none at all); "junk" for bytes that are not
 *         a response (0.9.75 sends some error heads twice);
 *  close  1 = the server closes the connection (EOF within 1.5 s of the last
 *         response), 0 = it keeps it open (no close and no other bytes for
 *         at least 100 ms), -1 = no response and no close for at least
 *         500 ms (the server waits for more).  The last two are checked in
 *         batches (flush_pending) so their windows overlap.  -2 (set for
 *         F_REF_EPOLL_WAITS rows only): either a close or none;
 *  seen   what the access handler saw, one line per request:
 *         "METHOD URL|body bytes|done" ("|done" only when the handler got
 *         its final call; footers follow as "[name=value]").
 * A hang (no response and no close) always fails; the daemon must still
 * serve a normal request after all rows.
 */
#include "common.h"
#include <pthread.h>
#include <unistd.h>

#define MEM_LIMIT 16384
#define BIG 20000

enum gen
{
  G_NONE = 0,
  G_LONG_URL,        /* GET /aaaa...(BIG) HTTP/1.1 */
  G_BIG_HEADER,      /* X-Big: (BIG bytes) */
  G_MANY_HEADERS,    /* 2000 small headers */
  G_BIG_TRAILER,     /* a chunked body with a BIG-byte trailer field */
  G_LONG_CHUNK_EXT   /* a chunk extension of 5000 bytes */
};

/* flags */
#define F_SHUT 1         /* shutdown (SHUT_WR) after sending the request */
#define F_REF_EPOLL_WAITS 2 /* reference in an epoll mode: Debian's epoll
                               loop may not notice the client's EOF and
                               wait (with a pool it varies from run to run):
                               either a close or no close is accepted */

struct expect
{
  const char *wire;
  int close;
  const char *seen;
};

struct bad_case
{
  const char *name;
  const char *req;
  size_t len;            /* 0: strlen (req) */
  enum gen gen;
  int flags;
  struct expect rfc;
  struct expect ref;
  const char *why;       /* RFC reference / note */
};

#define R(s) s, sizeof (s) - 1
#define H "Host: x\r\n"
#define E(w, c, s) { w, c, s }
/* Both libraries answer alike. */
#define SAME(w, c, s) E (w, c, s), E (w, c, s)
#define POST_CHUNKED "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"
#define GET_OK "GET /||done"
#define POST_NONE "POST /|"

static const struct bad_case cases[] = {
  /* ---- request line ---- */
  { "no-spaces", R ("GARBAGE\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("", 1, ""),
    "RFC 9112 3: invalid request-line -> 400" },
  { "no-version", R ("GET /\r\n" H "\r\n"), G_NONE, 0, SAME ("400", 1, ""),
    "RFC 9112 3: HTTP/0.9 style request line" },
  { "double-space", R ("GET  / HTTP/1.1\r\n" H "\r\n"), G_NONE, 0,
    SAME ("200", 0, GET_OK),
    "RFC 9112 3: exactly one SP between parts (MAY be lenient)" },
  { "tabs-in-request-line", R ("GET\t/\tHTTP/1.1\r\n" H "\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("", 1, ""),
    "RFC 9112 3: SP separators; whitespace leniency MAY, smuggling risk" },
  { "trailing-token", R ("GET / HTTP/1.1 extra\r\n" H "\r\n"), G_NONE, 0,
    SAME ("400", 1, ""), "RFC 9112 3: invalid request-line" },
  { "bad-method-char", R ("G(T / HTTP/1.1\r\n" H "\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, "G(T /||done"),
    "RFC 9110 9.1: method is a token" },
  { "lowercase-version", R ("GET / http/1.1\r\n" H "\r\n"), G_NONE, 0,
    SAME ("400", 1, ""), "RFC 9112 2.3: HTTP-name is case-sensitive" },
  { "version-HTTP/1", R ("GET / HTTP/1\r\n" H "\r\n"), G_NONE, 0,
    SAME ("400", 1, ""),
    "RFC 9112 2.3: HTTP-version = HTTP-name / DIGIT . DIGIT" },
  { "version-HTTP/2.0", R ("GET / HTTP/2.0\r\n" H "\r\n"), G_NONE, 0,
    SAME ("505", 1, ""), "RFC 9110 15.6.6" },
  { "version-HTTP/3.0", R ("GET / HTTP/3.0\r\n" H "\r\n"), G_NONE, 0,
    SAME ("505", 1, ""), "RFC 9110 15.6.6" },
  { "version-HTTP/1.2", R ("GET / HTTP/1.2\r\n" H "\r\n"), G_NONE, 0,
    SAME ("200", 0, GET_OK),
    "RFC 9110 6.2: higher minor version is served as 1.1" },
  { "version-HTTP/0.9", R ("GET / HTTP/0.9\r\n" H "\r\n"), G_NONE, 0,
    SAME ("505", 1, ""), "RFC 9110 15.6.6: major 0 not supported" },
  { "leading-empty-line", R ("\r\nGET / HTTP/1.1\r\n" H "\r\n"), G_NONE, 0,
    SAME ("200", 0, GET_OK),
    "RFC 9112 2.2: SHOULD ignore an empty line before request" },
  { "request-line-bare-LF", R ("GET / HTTP/1.1\n" H "\r\n"), G_NONE, 0,
    SAME ("200", 0, GET_OK),
    "RFC 9112 2.2: MAY accept LF as line terminator" },
  { "long-url", NULL, 0, G_LONG_URL, 0, SAME ("414", 1, ""),
    "RFC 9112 3: URI longer than the server will parse MUST get 414" },
  { "absolute-form-host-mismatch",
    R ("GET http://a/p HTTP/1.1\r\nHost: b\r\n\r\n"), G_NONE, 0,
    SAME ("200", 0, "GET http://a/p||done"),
    "RFC 9112 3.2.2: absolute-form wins over Host (not an error)" },
  /* ---- header section ---- */
  { "header-no-colon", R ("GET / HTTP/1.1\r\n" H "NoColonHere\r\n\r\n"),
    G_NONE, 0, SAME ("400", 1, ""), "RFC 9112 5: field-line = name : value" },
  { "space-before-colon", R ("GET / HTTP/1.1\r\n" H "X-A : b\r\n\r\n"),
    G_NONE, 0, E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9112 5.1: MUST reject with 400" },
  { "empty-header-name", R ("GET / HTTP/1.1\r\n" H ": v\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9110 5.1: field-name = token (non-empty)" },
  { "name-paren", R ("GET / HTTP/1.1\r\n" H "X-A(b): v\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9110 5.1: field-name = token; '(' is a delimiter" },
  { "name-at", R ("GET / HTTP/1.1\r\n" H "X@Y: v\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9110 5.1: field-name = token; '@' is a delimiter" },
  { "name-utf8", R ("GET / HTTP/1.1\r\n" H "X-\xc3\xa9: v\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9110 5.1: field-name = token (ASCII)" },
  { "ws-before-first-header", R ("GET / HTTP/1.1\r\n X-A: b\r\n" H "\r\n"),
    G_NONE, 0, E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9112 2.2: reject (or ignore the line)" },
  { "obs-fold", R ("GET / HTTP/1.1\r\n" H "X-A: a\r\n  b\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9112 5.2: reject with 400 or replace by SP" },
  { "missing-host", R ("GET / HTTP/1.1\r\nX-A: b\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9112 3.2: MUST respond 400 to HTTP/1.1 without Host" },
  { "two-hosts", R ("GET / HTTP/1.1\r\n" H H "\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9112 3.2: MUST respond 400 to more than one Host" },
  { "host-space", R ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9112 3.2: MUST respond 400 to an invalid Host value" },
  { "host-slash", R ("GET / HTTP/1.1\r\nHost: x/y\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9112 3.2: MUST respond 400 to an invalid Host value" },
  { "host-userinfo", R ("GET / HTTP/1.1\r\nHost: u@x\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9112 3.2: Host = uri-host [ : port ], no userinfo" },
  { "host-bad-port", R ("GET / HTTP/1.1\r\nHost: x:8a\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9112 3.2: port = *DIGIT" },
  { "host-ipv6-port", R ("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"),
    G_NONE, 0, SAME ("200", 0, GET_OK), "RFC 3986 3.2.2: IP-literal (valid)" },
  { "host-empty", R ("GET / HTTP/1.1\r\nHost:\r\n\r\n"), G_NONE, 0,
    SAME ("200", 0, GET_OK), "RFC 9110 7.2: an empty Host is valid" },
  { "bare-CR-line-end", R ("GET / HTTP/1.1\r" H "\r\n"), G_NONE, 0,
    SAME ("400", 1, ""),
    "RFC 9112 2.2: bare CR MUST be rejected or replaced by SP" },
  { "bare-CR-in-value", R ("GET / HTTP/1.1\r\n" H "X-A: a\rb\r\n\r\n"), G_NONE,
    0, E ("400", 1, ""), E ("200", 0, GET_OK), "RFC 9112 2.2: bare CR" },
  { "bare-LF-line-ends", R ("GET / HTTP/1.1\nHost: x\n\n"), G_NONE, 0,
    SAME ("200", 0, GET_OK),
    "RFC 9112 2.2: MAY accept LF as line terminator" },
  { "NUL-in-value", R ("GET / HTTP/1.1\r\n" H "X-A: a\0b\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, GET_OK),
    "RFC 9110 5.5: NUL MUST be rejected or replaced by SP" },
  { "NUL-in-url", R ("GET /a\0b HTTP/1.1\r\n" H "\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, "GET /a||done"),
    "RFC 9112 3: NUL is not allowed in request-target" },
  { "NUL-in-name", R ("GET / HTTP/1.1\r\n" H "X-\0A: b\r\n\r\n"), G_NONE, 0,
    SAME ("400", 1, ""), "RFC 9110 5.1: field-name = token" },
  { "big-header", NULL, 0, G_BIG_HEADER, 0, SAME ("431", 1, ""),
    "RFC 9112 5: field line larger than the server processes -> 4xx" },
  { "many-headers", NULL, 0, G_MANY_HEADERS, 0, SAME ("431", 1, ""),
    "RFC 6585 5: header fields too large" },
  /* ---- Transfer-Encoding and Content-Length ---- */
  { "CL-and-TE",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\n"
       "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, "POST /|hello|done"),
    "RFC 9112 6.1: MAY reject; MUST close the connection after responding" },
  { "TE-and-CL",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n"
       "Content-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, "POST /|hello|done"),
    "RFC 9112 6.1: MAY reject; MUST close the connection after responding" },
  { "CL-TE-smuggle",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 44\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
       "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200 200", 0, "POST /||done\nGET /smuggled||done"),
    "RFC 9112 6.3: CL+TE may be smuggling: an error, then close" },
  { "TE-chunked-chunked",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("", -1, "POST /|3\r\nabc\r\n0\r\n\r\n"),
    "RFC 9112 6.1: chunked MUST NOT be applied more than once" },
  { "TE-chunked-twice-2-lines",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n"
       "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, "POST /|abc|done"),
    "RFC 9112 6.1: chunked MUST NOT be applied more than once" },
  { "TE-xchunked",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: xchunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("", -1, "POST /|3\r\nabc\r\n0\r\n\r\n"),
    "RFC 9112 6.3: chunked not final -> 400 and close" },
  { "TE-identity",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: identity\r\n\r\nabc"),
    G_NONE, 0, E ("400", 1, ""), E ("", -1, "POST /|abc"),
    "RFC 9112 6.3: chunked not final -> 400 and close" },
  { "TE-not-chunked",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\nabc"), G_NONE,
    0, E ("400", 1, ""), E ("", -1, "POST /|abc"),
    "RFC 9112 6.3: chunked not final -> 400 and close" },
  { "TE-chunked-then-gzip",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0, E ("400", 1, ""),
    E ("", -1, "POST /|3\r\nabc\r\n0\r\n\r\n"), "RFC 9112 6.3: chunked not final -> 400 and close" },
  { "TE-chunked-then-identity-2-lines",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n"
       "Transfer-Encoding: identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, "POST /|abc|done"),
    "RFC 9112 6.3: the field lines combine; chunked not final -> 400" },
  { "TE-gzip-then-chunked-2-lines",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n"
       "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("501", 1, ""), E ("", -1, "POST /|3\r\nabc\r\n0\r\n\r\n"),
    "RFC 9112 6.1: a coding we do not implement SHOULD get 501" },
  { "TE-trailing-space",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked  \r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0, E ("200", 0, "POST /|abc|done"),
    E ("", -1, "POST /|3\r\nabc\r\n0\r\n\r\n"),
    "RFC 9112 5: OWS around the value is not part of it" },
  { "TE-tab",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding:\tchunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0, SAME ("200", 0, "POST /|abc|done"),
    "RFC 9112 5: OWS includes HTAB" },
  { "TE-uppercase",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: CHUNKED\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0, SAME ("200", 0, "POST /|abc|done"),
    "RFC 9112 7: coding names are case-insensitive" },
  { "TE-VT",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: \x0b" "chunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("", -1, "POST /|3\r\nabc\r\n0\r\n\r\n"),
    "RFC 9110 5.5: VT is a CTL, not OWS" },
  { "TE-obs-fold",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n chunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 1, "POST /||done"),
    "RFC 9112 5.2: obs-fold -> 400" },
  { "TE-space-before-colon",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding : chunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 1, "POST /||done"),
    "RFC 9112 5.1: MUST reject whitespace before the colon" },
  { "TE-empty",
    R ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: \r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("", -1, POST_NONE),
    "RFC 9112 6.3: chunked not final -> 400" },
  { "TE-in-HTTP/1.0",
    R ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 1, "POST /|abc|done"),
    "RFC 9112 6.1: TE in HTTP/1.0 -> treat framing as faulty and close" },
  { "TE-and-CL-in-HTTP/1.0",
    R ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n"
       "\r\n3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 1, "POST /|abc|done"),
    "RFC 9112 6.1: TE in HTTP/1.0 is faulty framing, even with CL" },
  { "duplicate-CL-differ",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"
       "hello!"), G_NONE, 0,
    E ("400", 1, ""), E ("200", 0, "POST /|hello|done"),
    "RFC 9112 6.3: invalid CL -> 400" },
  { "duplicate-CL-same",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"
       "hello"), G_NONE, 0, SAME ("200", 0, "POST /|hello|done"),
    "RFC 9110 8.6: MAY accept identical repeated values" },
  { "CL-list-same",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\nhello"), G_NONE, 0,
    E ("400", 1, ""), E ("400 junk", 1, ""),
    "RFC 9110 8.6: a list of one repeated value MAY be rejected" },
  { "CL-list-differ",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5, 6\r\n\r\nhello!"), G_NONE,
    0, E ("400", 1, ""), E ("400 junk", 1, ""), "RFC 9112 6.3: invalid CL -> 400" },
  { "CL-not-number",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: abc\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("400 junk", 1, ""), "RFC 9112 6.3: invalid CL -> 400" },
  { "CL-negative",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n"), G_NONE, 0,
    E ("400", 1, ""), E ("400 junk", 1, ""), "RFC 9112 6.3: invalid CL -> 400" },
  { "CL-plus-sign",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\nhello"), G_NONE, 0,
    E ("400", 1, ""), E ("400 junk", 1, ""), "RFC 9110 8.6: Content-Length = 1*DIGIT" },
  { "CL-hex",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 0x5\r\n\r\nhello"), G_NONE, 0,
    E ("400", 1, ""), E ("400 junk", 1, ""), "RFC 9110 8.6: Content-Length = 1*DIGIT" },
  { "CL-inner-space",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5 5\r\n\r\nhello"), G_NONE, 0,
    E ("400", 1, ""), E ("400 junk", 1, ""), "RFC 9110 8.6: Content-Length = 1*DIGIT" },
  { "CL-empty",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: \r\n\r\nhello"), G_NONE, 0,
    E ("400", 1, ""), E ("400 junk", 1, ""), "RFC 9110 8.6: Content-Length = 1*DIGIT" },
  { "CL-leading-zeros",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 005\r\n\r\nhello"), G_NONE, 0,
    SAME ("200", 0, "POST /|hello|done"),
    "RFC 9110 8.6: 1*DIGIT allows leading zeros" },
  { "CL-trailing-ws",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5 \t\r\n\r\nhello"), G_NONE, 0,
    E ("200", 0, "POST /|hello|done"),
    E ("400 junk", 1, ""),
    "RFC 9112 5: OWS after the value is not part of it" },
  { "CL-overflow",
    R ("POST / HTTP/1.1\r\n" H
       "Content-Length: 99999999999999999999999\r\n\r\n"), G_NONE, 0,
    E ("413", 1, ""), E ("413 junk", 1, ""), "RFC 9112 6.3: invalid CL -> 400 (413 also fits)" },
  { "CL-short-then-request",
    R ("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello"
       "GET /next HTTP/1.1\r\n" H "\r\n"), G_NONE, 0,
    SAME ("200 200", 0, "POST /|hello|done\nGET /next||done"),
    "RFC 9112 6.3: clean framing: the bytes after the body are a request" },
  { "close-then-pipelined",
    R ("POST / HTTP/1.1\r\n" H "Connection: close\r\nContent-Length: 5\r\n\r\n"
       "helloGET /never HTTP/1.1\r\n" H "\r\n"), G_NONE, 0,
    SAME ("200", 1, "POST /|hello|done"),
    "RFC 9112 9.6: nothing after a request with Connection: close" },
  { "HTTP/1.0-keep-alive-body",
    R ("POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\n"
       "helloGET /next HTTP/1.0\r\n\r\n"), G_NONE, 0,
    SAME ("200 200", 1, "POST /|hello|done\nGET /next||done"),
    "RFC 9112 9.3: HTTP/1.0 keep-alive; the second request closes" },
  { "GET-with-body",
    R ("GET / HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello"), G_NONE, 0,
    SAME ("200", 0, "GET /|hello|done"),
    "RFC 9110 9.3.1: a body on GET is framed like any other" },
  /* ---- chunked bodies ---- */
  { "bad-chunk-size", R (POST_CHUNKED "zz\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    SAME ("400", 1, POST_NONE), "RFC 9112 7.1: chunk-size = 1*HEXDIG" },
  { "chunk-size-leading-space", R (POST_CHUNKED " 3\r\nabc\r\n0\r\n\r\n"),
    G_NONE, 0, SAME ("400", 1, POST_NONE),
    "RFC 9112 7.1: chunk-size = 1*HEXDIG" },
  { "chunk-size-trailing-space", R (POST_CHUNKED "3 \r\nabc\r\n0\r\n\r\n"),
    G_NONE, 0, SAME ("400", 1, POST_NONE),
    "RFC 9112 7.1: BWS only before ';'" },
  { "chunk-size-0x", R (POST_CHUNKED "0x3\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    SAME ("400", 1, POST_NONE), "RFC 9112 7.1: chunk-size = 1*HEXDIG" },
  { "chunk-size-negative", R (POST_CHUNKED "-3\r\nabc\r\n0\r\n\r\n"), G_NONE,
    0, SAME ("400", 1, POST_NONE), "RFC 9112 7.1: chunk-size = 1*HEXDIG" },
  { "chunk-size-overflow",
    R (POST_CHUNKED "fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    SAME ("413", 1, POST_NONE),
    "RFC 9112 7.1: MUST prevent integer overflow" },
  { "chunk-size-2^64", R (POST_CHUNKED "10000000000000000\r\nabc\r\n0\r\n\r\n"),
    G_NONE, 0, SAME ("413", 1, POST_NONE),
    "RFC 9112 7.1: MUST prevent integer overflow" },
  { "chunk-size-leading-zeros",
    R (POST_CHUNKED "0000000000000000000003\r\nabc\r\n000\r\n\r\n"), G_NONE, 0,
    SAME ("200", 0, "POST /|abc|done"),
    "RFC 9112 7.1: 1*HEXDIG allows leading zeros" },
  { "chunk-data-too-long", R (POST_CHUNKED "3\r\nabcdef\r\n0\r\n\r\n"), G_NONE,
    0, SAME ("400", 1, "POST /|abc"),
    "RFC 9112 7.1: chunk-data must be followed by CRLF" },
  { "chunk-data-bare-LF", R (POST_CHUNKED "3\r\nabc\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, "POST /|abc"), E ("200", 0, "POST /|abc|done"),
    "RFC 9112 7.1: CRLF after chunk-data (2.2's LF leniency is for fields)" },
  { "chunk-size-bare-LF", R (POST_CHUNKED "3\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, POST_NONE), E ("200", 0, "POST /|abc|done"),
    "RFC 9112 7.1: chunk-size line ends in CRLF" },
  { "chunk-ext-quoted",
    R (POST_CHUNKED "3;name=\"va;l\\\"ue\"\r\nabc\r\n0;x=y\r\n\r\n"), G_NONE, 0,
    SAME ("200", 0, "POST /|abc|done"),
    "RFC 9112 7.1.1: chunk-ext-val = token / quoted-string; ignored" },
  { "chunk-ext-bws", R (POST_CHUNKED "3 ; a = b ;c\r\nabc\r\n0\r\n\r\n"),
    G_NONE, 0, E ("200", 0, "POST /|abc|done"),
    E ("400", 1, POST_NONE),
    "RFC 9112 7.1.1: BWS around ';' and '='" },
  { "chunk-ext-no-name", R (POST_CHUNKED "3;\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, POST_NONE), E ("200", 0, "POST /|abc|done"),
    "RFC 9112 7.1.1: chunk-ext-name = token" },
  { "chunk-ext-bad-value", R (POST_CHUNKED "3;a=b c\r\nabc\r\n0\r\n\r\n"),
    G_NONE, 0, E ("400", 1, POST_NONE), E ("200", 0, "POST /|abc|done"),
    "RFC 9112 7.1.1: chunk-ext-val = token / quoted-string" },
  { "chunk-ext-open-quote",
    R (POST_CHUNKED "3;a=\"x\r\nabc\r\n0\r\n\r\n"), G_NONE, 0,
    E ("400", 1, POST_NONE), E ("200", 0, "POST /|abc|done"),
    "RFC 9112 7.1.1: an unterminated quoted-string cannot end the line" },
  { "chunk-ext-long", NULL, 0, G_LONG_CHUNK_EXT, 0,
    E ("400", 1, POST_NONE), E ("200", 0, "POST /|x|done"),
    "RFC 9112 7.1.1: SHOULD limit chunk extensions, 4xx beyond" },
  { "trailer-smuggles-CL-TE",
    R (POST_CHUNKED "3\r\nabc\r\n0\r\nContent-Length: 10\r\n"
       "Transfer-Encoding: chunked\r\n\r\nGET /next HTTP/1.1\r\n" H "\r\n"),
    G_NONE, 0,
    SAME ("200 200", 0, "POST /|abc|done[Content-Length=10]"
          "[Transfer-Encoding=chunked]\nGET /next||done"),
    "RFC 9110 6.5.1: trailer fields cannot change the framing" },
  { "trailer-obs-fold",
    R (POST_CHUNKED "3\r\nabc\r\n0\r\nX-T: a\r\n b\r\n\r\n"), G_NONE, 0,
    E ("400", 1, "POST /|abc"), E ("200", 0, "POST /|abc|done[X-Tb=a]"),
    "RFC 9112 5.2: obs-fold -> 400 (trailers are field lines too)" },
  { "big-trailer", NULL, 0, G_BIG_TRAILER, 0, SAME ("431", 1, "POST /|abc"),
    "RFC 9112 5: field line larger than the server processes -> 4xx" },
  { "last-chunk-no-CRLF", R (POST_CHUNKED "3\r\nabc\r\n0\r\n"), G_NONE, 0,
    SAME ("", -1, "POST /|abc"),
    "RFC 9112 7.1: the body is not complete before the final CRLF" },
  { "last-chunk-no-CRLF-then-EOF", R (POST_CHUNKED "3\r\nabc\r\n0\r\n"),
    G_NONE, F_SHUT | F_REF_EPOLL_WAITS, SAME ("", 1, "POST /|abc"),
    "RFC 9112 8: an incomplete message is never handled as complete" },
  /* ---- valid requests that must keep working ---- */
  { "valid-get", R ("GET / HTTP/1.1\r\n" H "\r\n"), G_NONE, 0,
    SAME ("200", 0, GET_OK), "control" },
  { "valid-absolute-form", R ("GET http://x/ HTTP/1.1\r\n" H "\r\n"), G_NONE,
    0, SAME ("200", 0, "GET http://x/||done"),
    "RFC 9112 3.2.2: absolute-form MUST be accepted" },
};

/* ---- what the access handler saw ---- */

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct buf seen;
static int seen_marker;

static void
seen_append (const void *p, size_t n)
{
  pthread_mutex_lock (&seen_lock);
  buf_append (&seen, p, n);
  pthread_mutex_unlock (&seen_lock);
}

static void
seen_str (const char *s)
{
  seen_append (s, strlen (s));
}

static enum MHD_Result
log_footer (void *cls, enum MHD_ValueKind kind, const char *key,
            const char *value)
{
  (void) cls;
  (void) kind;
  seen_str ("[");
  seen_str (key);
  seen_str ("=");
  seen_str (NULL != value ? value : "(null)");
  seen_str ("]");
  return MHD_YES;
}

/* Logs "METHOD URL|" on the first call, the body bytes as they come and
 * "|done" (plus footers) on the final call, then answers 200 "ok". */
static enum MHD_Result
logging_handler (void *cls, struct MHD_Connection *c, const char *url,
                 const char *method, const char *version, const char *upload,
                 size_t *upload_size, void **con_cls)
{
  (void) cls;
  (void) version;
  if (NULL == *con_cls)
  {
    *con_cls = &seen_marker;
    pthread_mutex_lock (&seen_lock);
    if (seen.len > 0)
      buf_append (&seen, "\n", 1);
    buf_append (&seen, method, strlen (method));
    buf_append (&seen, " ", 1);
    buf_append (&seen, url, strlen (url));
    buf_append (&seen, "|", 1);
    pthread_mutex_unlock (&seen_lock);
    return MHD_YES;
  }
  if (0 != *upload_size)
  {
    seen_append (upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  seen_str ("|done");
  MHD_get_connection_values (c, MHD_FOOTER_KIND, &log_footer, NULL);
  return test_reply (c, MHD_HTTP_OK, "ok");
}

static void
seen_reset (void)
{
  pthread_mutex_lock (&seen_lock);
  buf_free (&seen);
  buf_init (&seen);
  pthread_mutex_unlock (&seen_lock);
}

/* A printable copy of the log ("\n" for newlines) for messages. */
static void
seen_copy (char *out, size_t outlen)
{
  size_t i, o = 0;
  pthread_mutex_lock (&seen_lock);
  for (i = 0; i < seen.len && o + 5 < outlen; i++)
  {
    unsigned char ch = (unsigned char) seen.data[i];
    if ('\n' == ch)
      o += (size_t) snprintf (out + o, outlen - o, "\\n");
    else if (ch < 0x20 || ch >= 0x7f)
      o += (size_t) snprintf (out + o, outlen - o, "\\x%02x", ch);
    else
      out[o++] = (char) ch;
  }
  out[o] = '\0';
  pthread_mutex_unlock (&seen_lock);
}

static int
seen_equals (const char *exp)
{
  int eq;
  pthread_mutex_lock (&seen_lock);
  eq = (seen.len == strlen (exp))
       && (0 == memcmp (NULL != seen.data ? seen.data : "", exp, seen.len));
  pthread_mutex_unlock (&seen_lock);
  return eq;
}

static void
escape (const char *s, char *out, size_t outlen)
{
  size_t o = 0;
  for (; '\0' != *s && o + 5 < outlen; s++)
  {
    if ('\n' == *s)
      o += (size_t) snprintf (out + o, outlen - o, "\\n");
    else
      out[o++] = *s;
  }
  out[o] = '\0';
}

static void
append_str (struct buf *b, const char *s)
{
  buf_append (b, s, strlen (s));
}

static char *
gen_request (enum gen g, size_t *len)
{
  struct buf b;
  int i;
  buf_init (&b);
  switch (g)
  {
  case G_LONG_URL:
    append_str (&b, "GET /");
    for (i = 0; i < BIG; i++)
      buf_append (&b, "a", 1);
    append_str (&b, " HTTP/1.1\r\n" H "\r\n");
    break;
  case G_BIG_HEADER:
    append_str (&b, "GET / HTTP/1.1\r\n" H "X-Big: ");
    for (i = 0; i < BIG; i++)
      buf_append (&b, "b", 1);
    append_str (&b, "\r\n\r\n");
    break;
  case G_MANY_HEADERS:
    append_str (&b, "GET / HTTP/1.1\r\n" H);
    for (i = 0; i < 2000; i++)
    {
      char l[32];
      snprintf (l, sizeof (l), "X-%d: v\r\n", i);
      append_str (&b, l);
    }
    append_str (&b, "\r\n");
    break;
  case G_BIG_TRAILER:
    append_str (&b, POST_CHUNKED "3\r\nabc\r\n0\r\nX-Big: ");
    for (i = 0; i < BIG; i++)
      buf_append (&b, "t", 1);
    append_str (&b, "\r\n\r\n");
    break;
  case G_LONG_CHUNK_EXT:
    append_str (&b, POST_CHUNKED "1;e=");
    for (i = 0; i < 5000; i++)
      buf_append (&b, "e", 1);
    append_str (&b, "\r\nx\r\n0\r\n\r\n");
    break;
  default:
    break;
  }
  *len = b.len;
  return b.data;
}

/* Reads every response the server sends on fd (into wire, e.g. "200 400")
 * until it closes or is quiet: after `expected` responses we wait
 * quiet_ms for more bytes or a close.  Bytes that are not a response end
 * the wire with the word "junk" (0.9.75 sends some error heads twice).
 * Returns 1 if the server closed the connection, 0 if not. */
static int
read_wire (int fd, size_t expected, int quiet_ms, char *wire, size_t wirelen,
           struct buf *carry)
{
  size_t got = 0;
  wire[0] = '\0';
  for (;;)
  {
    struct http_resp r;
    int closed = 0;
    int rc = raw_read_response (fd, carry, 0, &r,
                                (got < expected) ? 3000 : quiet_ms, &closed);
    size_t o = strlen (wire);
    if (1 == rc)
    {
      snprintf (wire + o, wirelen - o, "%s%d", got ? " " : "", r.status);
      got++;
      http_resp_free (&r);
      if (closed)
        return 1;
      continue;
    }
    if ((-1 == rc) || (0 != carry->len))
    {
      snprintf (wire + o, wirelen - o, "%sjunk", got ? " " : "");
      return closed || raw_wait_closed (fd, NULL, quiet_ms);
    }
    return closed;
  }
}

static size_t
count_words (const char *s)
{
  size_t n = 0;
  int in = 0;
  for (; '\0' != *s; s++)
  {
    if (' ' == *s)
      in = 0;
    else if (! in)
    {
      in = 1;
      n++;
    }
  }
  return n;
}

/* Connections expected to stay open (or, reference only, unanswered): the
 * check that nothing arrives on them for at least `quiet_ms` after the
 * request is done in batches, so the quiet windows overlap. */
#define MAX_PENDING 16
struct pending
{
  int fd;
  uint64_t sent;
  int quiet_ms;
  const char *name;
  int waits;                /* -1 row: no response expected at all */
};
static struct pending pending[MAX_PENDING];
static size_t npending;

static void
flush_pending (void)
{
  size_t i;
  for (i = 0; i < npending; i++)
  {
    struct pending *p = &pending[i];
    uint64_t due = p->sent + (uint64_t) p->quiet_ms;
    uint64_t now = test_now_ms ();
    struct buf b;
    ssize_t n;
    if (now < due)
      test_sleep_ms ((int) (due - now)); /* a client-side window, bounded */
    buf_init (&b);
    n = raw_read_some (p->fd, &b, 0);
    if (0 == n || -1 == n)
      test_fail (__FILE__, __LINE__, "%s: the server closed the connection "
                 "within %d ms; expected it %s", p->name, p->quiet_ms,
                 p->waits ? "waiting for more" : "kept open");
    else if (n > 0)
      test_fail (__FILE__, __LINE__, "%s: unexpected bytes after the "
                 "expected responses: %.40s", p->name, b.data);
    buf_free (&b);
    close (p->fd);
  }
  npending = 0;
}

static void
one_case (uint16_t port, const struct bad_case *k)
{
  int ref = test_is_reference ();
  const struct expect *x = ref ? &k->ref : &k->rfc;
  struct expect ref_epoll;
  const char *req = k->req;
  size_t len = k->len;
  char *gen = NULL;
  int fd;
  struct buf carry;
  char wire[128];
  char got_seen[1024];
  char exp_seen[1024];
  int closed;
  int quiet;
  uint64_t t0;

  if ((0 != strcmp (k->rfc.wire, k->ref.wire)) || (k->rfc.close != k->ref.close)
      || (0 != strcmp (k->rfc.seen, k->ref.seen)))
    test_diff ("%-32s RFC [%s]%s, reference [%s]%s  (%s)", k->name,
               k->rfc.wire, k->rfc.close ? " close" : "",
               k->ref.wire, 1 == k->ref.close ? " close"
               : (-1 == k->ref.close ? " waits" : ""), k->why);
  if ((k->flags & F_REF_EPOLL_WAITS) && ref
      && (0 != (cur_mode->flags & MHD_USE_EPOLL)))
  {
    test_diff ("%-32s RFC closed, reference in epoll modes may wait (%s)",
               k->name, k->why);
    ref_epoll = *x;
    ref_epoll.close = -2; /* either */
    x = &ref_epoll;
  }
  if (G_NONE != k->gen)
    req = gen = gen_request (k->gen, &len);
  seen_reset ();
  t0 = test_now_ms ();
  fd = raw_connect (port);
  SETUP_CHECK (fd >= 0);
  buf_init (&carry);
  (void) raw_send (fd, req, len);  /* may fail when the server closes early */
  if (k->flags & F_SHUT)
    shutdown (fd, SHUT_WR);
  /* A close must come within 1.5 s; "kept open" and "waits" are checked
   * later (flush_pending), so read only what is there now. */
  quiet = (1 == x->close) ? 1500 : (-2 == x->close ? 500 : 0);
  closed = read_wire (fd, count_words (x->wire), quiet, wire, sizeof (wire),
                      &carry);
  /* The handler runs before the server answers or closes, so its log is
   * complete now; a short bounded wait covers a late final write. */
  {
    uint64_t end = test_now_ms () + 500;
    while (! seen_equals (x->seen) && test_now_ms () < end)
      test_sleep_ms (10);
  }
  seen_copy (got_seen, sizeof (got_seen));
  escape (x->seen, exp_seen, sizeof (exp_seen));
  test_note ("%-32s -> [%s] %s, seen \"%s\" (%llu ms)", k->name, wire,
             closed ? "closed" : "kept open",
             got_seen, (unsigned long long) (test_now_ms () - t0));
  if (('\0' == wire[0]) && (0 == closed) && (x->close >= 0))
    test_fail (__FILE__, __LINE__,
               "%s: no response and no close (hang); expected [%s]",
               k->name, x->wire);
  else
  {
    if (0 != strcmp (wire, x->wire))
      test_fail (__FILE__, __LINE__, "%s: responses [%s], expected [%s] (%s)",
                 k->name, wire, x->wire, k->why);
    if ((-2 != x->close) && (closed != (1 == x->close)))
      test_fail (__FILE__, __LINE__,
                 "%s: expected the connection %s, it was %s", k->name,
                 1 == x->close ? "closed" : "kept open",
                 closed ? "closed" : "kept open");
  }
  if (! seen_equals (x->seen))
    test_fail (__FILE__, __LINE__, "%s: the handler saw \"%s\", expected \"%s\"",
               k->name, got_seen, exp_seen);
  if ((0 == x->close || -1 == x->close) && ! closed)
  {
    struct pending *p = &pending[npending++];
    p->fd = fd;
    p->sent = t0;
    p->quiet_ms = (-1 == x->close) ? 500 : 100;
    p->name = k->name;
    p->waits = (-1 == x->close);
    if (MAX_PENDING == npending)
      flush_pending ();
  }
  else
    close (fd);
  buf_free (&carry);
  free (gen);
}

static void
run (void)
{
  struct MHD_Daemon *d;
  uint16_t port;
  size_t i;
  struct http_resp r;
  static const char ok_req[] = "GET /after HTTP/1.1\r\nHost: x\r\n\r\n";

  d = START_DAEMON (0, logging_handler, NULL,
                    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) MEM_LIMIT,
                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
                    MHD_OPTION_END);
  port = test_daemon_port (d);
  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
  {
    const char *only = getenv ("BAD_CASE");
    if ((NULL != only) && (0 != strcmp (only, cases[i].name)))
      continue;
    one_case (port, &cases[i]);
  }
  flush_pending ();
  /* still alive and serving */
  seen_reset ();
  CHECK (raw_request (port, ok_req, strlen (ok_req), 0, &r, NULL, 0));
  CHECK_INT (200, r.status);
  CHECK_STR ("ok", r.body.data);
  http_resp_free (&r);
  test_stop_daemon (d);
}

int
main (void)
{
  return test_run_modes ("test_bad_input", run);
}
