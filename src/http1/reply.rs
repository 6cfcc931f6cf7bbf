//! Response head encoding and chunk framing, as libmicrohttpd 0.9.75 writes
//! them (observed byte for byte on Debian's library).
//!
//! [`encode_head`] is a pure function of ([`ReplyParams`], the application's
//! headers) → bytes appended to a caller's `Vec`, plus the [`ReplyFraming`] the
//! connection must then follow. Layout:
//!
//! ```text
//! HTTP/1.1 <code> <reason>           1.1 also to 1.0 clients; 1.0 with MHD_RF_HTTP_1_0_SERVER
//! Date: <IMF-fixdate>                unless suppressed or the app set Date
//! Connection: <close|Keep-Alive>[, app tokens]   see below
//! <app headers in order>             minus Connection / Transfer-Encoding / Content-Length
//! Content-Length: <n> | Transfer-Encoding: chunked   per framing
//! ```
//!
//! `Connection:` is `close` when the connection will close, `Keep-Alive` when
//! an HTTP/1.0 connection stays open (or the response's flags ask for it:
//! [`Compat`]), nothing on a persistent 1.1 connection;
//! the app's own `Connection` tokens (minus `keep-alive`, with `close` moved
//! first) are appended after `, ` — or form the whole value.
//!
//! Deliberate differences from libmicrohttpd 0.9.75:
//! - HEAD with unknown size on 1.1: we send the `Transfer-Encoding: chunked` head but no body; 0.9.75 also sends `0\r\n\r\n` (RFC 9110 §9.3.2: no content in a HEAD response).
//! - 304 with unknown size on 1.1: same, no `0\r\n\r\n` body (RFC 9110 §15.4.5).
//! - the app's `Content-Length` header is dropped here (0.9.75 refuses it in `MHD_add_response_header`; the framing is ours).

use super::reason::status_line_reason;
use super::{eq_ic, list_items, Version};

/// What libmicrohttpd sends for `Expect: 100-continue` (no Date).
pub const CONTINUE_100: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Size of the response body as the application declared it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodySize {
    /// Exactly this many bytes.
    Known(u64),
    /// `MHD_SIZE_UNKNOWN`: the callback ends it.
    Unknown,
}

/// Inputs of [`encode_head`] besides the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyParams<'a> {
    /// Status code, 100..=999.
    pub status: u32,
    /// The request's version (after folding; 1.x>1 is 1.1).
    pub version: Version,
    /// The request was HEAD: same head, no body.
    pub head_request: bool,
    /// The connection may persist: the client's intent and the server's
    /// (false on errors, shutdown, …). The result may still be false.
    pub keep_alive: bool,
    /// Body size.
    pub body: BodySize,
    /// The IMF-fixdate to send as `Date`, or `None` to send none
    /// (`MHD_USE_SUPPRESS_DATE_NO_CLOCK`).
    pub date: Option<&'a [u8]>,
    /// What the response's flags (`MHD_set_response_options`) ask of the head.
    pub compat: Compat,
}

/// The response flags that change the head (`enum MHD_ResponseFlags`).
/// The keep-alive decision they imply is the caller's (it knows the
/// request's `Connection` tokens): see [`Compat::keep_alive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compat {
    /// `MHD_RF_HTTP_1_0_COMPATIBLE_STRICT`: no chunked encoding, no 1xx,
    /// and the connection closes after the reply.
    pub strict_http10: bool,
    /// `MHD_RF_HTTP_1_0_SERVER`: the status line says `HTTP/1.0`, no
    /// chunked encoding, no 1xx, and the connection persists only when the
    /// client asked with a `keep-alive` token (then the head says so).
    pub http10_server: bool,
    /// `MHD_RF_SEND_KEEP_ALIVE_HEADER`: a persistent connection says
    /// `Connection: Keep-Alive` also to HTTP/1.1 clients.
    pub keep_alive_header: bool,
}

impl Compat {
    /// Whether the connection may persist under these flags, given the
    /// client's intent (`RequestHead::keep_alive`) and whether it sent a
    /// `keep-alive` token: an HTTP/1.0 server keeps only connections whose
    /// client asked with that token, as HTTP/1.0 clients must.
    pub fn keep_alive(&self, client: bool, keep_alive_token: bool) -> bool {
        client && !self.strict_http10 && (!self.http10_server || keep_alive_token)
    }

    fn no_chunked(&self) -> bool {
        self.strict_http10 || self.http10_server
    }
}

/// How the body bytes that follow the head must be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// Write no body at all (HEAD, 1xx, 204, 304).
    None,
    /// Write exactly this many bytes.
    Length(u64),
    /// Write chunks ([`write_chunk_size`] …) and a last chunk.
    Chunked,
    /// Write raw bytes, then close: the end of the body is the close.
    CloseDelimited,
}

/// The decision [`encode_head`] made; the connection must follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyFraming {
    /// Body framing.
    pub body: BodyFraming,
    /// Keep the connection open after this response.
    pub keep_alive: bool,
}

/// Responses libmicrohttpd refuses to queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyError {
    /// Status below 100 or above 999 ("HTTP requires three digits").
    BadStatus,
    /// 1xx to an HTTP/1.0 client, or with an HTTP/1.0 response flag.
    InformationalToHttp10,
}

/// Append the response head to `out`. `headers` are the application's, in
/// order (iterated twice). Nothing is allocated beyond `out`'s growth.
pub fn encode_head<'h, I>(
    p: &ReplyParams<'_>,
    headers: I,
    out: &mut Vec<u8>,
) -> Result<ReplyFraming, ReplyError>
where
    I: IntoIterator<Item = (&'h [u8], &'h [u8])>,
    I::IntoIter: Clone,
{
    if !(100..=999).contains(&p.status) {
        return Err(ReplyError::BadStatus);
    }
    let informational = p.status < 200;
    if informational && (p.version == Version::Http10 || p.compat.no_chunked()) {
        return Err(ReplyError::InformationalToHttp10);
    }
    let headers = headers.into_iter();

    // Pass 1: what the application's headers say.
    let mut app_date = false;
    let mut app_close = false;
    let mut app_tokens = false;
    let mut app_chunked = false;
    for (n, v) in headers.clone() {
        if eq_ic(n, b"date") {
            app_date = true;
        } else if eq_ic(n, b"connection") {
            for t in list_items(v) {
                if eq_ic(t, b"close") {
                    app_close = true;
                } else if !eq_ic(t, b"keep-alive") {
                    app_tokens = true;
                }
            }
        } else if eq_ic(n, b"transfer-encoding") && list_items(v).any(|t| eq_ic(t, b"chunked")) {
            app_chunked = true;
        }
    }

    // Framing decision.
    let no_body_status = informational || p.status == 204;
    let v11 = p.version == Version::Http11;
    let may_chunk = v11 && !p.compat.no_chunked();
    let (wire, mut keep_alive) = if no_body_status {
        (Wire::Nothing, p.keep_alive)
    } else {
        match p.body {
            BodySize::Known(n) if !(app_chunked && may_chunk) => (Wire::Length(n), p.keep_alive),
            _ if may_chunk => (Wire::Chunked, p.keep_alive),
            _ => (Wire::Close, false),
        }
    };
    if app_close {
        keep_alive = false;
    }

    // Status line.
    out.extend_from_slice(if p.compat.http10_server { b"HTTP/1.0 " } else { b"HTTP/1.1 " });
    push_u64(out, u64::from(p.status));
    out.push(b' ');
    out.extend_from_slice(status_line_reason(p.status).as_bytes());
    out.extend_from_slice(b"\r\n");

    if let (Some(d), false) = (p.date, app_date) {
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(d);
        out.extend_from_slice(b"\r\n");
    }

    // Connection.
    let lib: &[u8] = if !keep_alive {
        b"close"
    } else if !v11 || p.compat.http10_server || p.compat.keep_alive_header {
        b"Keep-Alive"
    } else {
        b""
    };
    if !lib.is_empty() || app_tokens {
        out.extend_from_slice(b"Connection: ");
        out.extend_from_slice(lib);
        let mut first = lib.is_empty();
        for (n, v) in headers.clone() {
            if !eq_ic(n, b"connection") {
                continue;
            }
            for t in list_items(v) {
                if eq_ic(t, b"close") || eq_ic(t, b"keep-alive") {
                    continue;
                }
                if !first {
                    out.extend_from_slice(b", ");
                }
                first = false;
                out.extend_from_slice(t);
            }
        }
        out.extend_from_slice(b"\r\n");
    }

    // Application headers.
    for (n, v) in headers {
        if eq_ic(n, b"connection") || eq_ic(n, b"transfer-encoding") || eq_ic(n, b"content-length") {
            continue;
        }
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }

    // Framing headers.
    match wire {
        Wire::Length(n) => {
            out.extend_from_slice(b"Content-Length: ");
            push_u64(out, n);
            out.extend_from_slice(b"\r\n");
        }
        Wire::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        Wire::Nothing | Wire::Close => {}
    }
    out.extend_from_slice(b"\r\n");

    let body = if p.head_request || p.status == 304 {
        BodyFraming::None
    } else {
        match wire {
            Wire::Nothing => BodyFraming::None,
            Wire::Length(n) => BodyFraming::Length(n),
            Wire::Chunked => BodyFraming::Chunked,
            Wire::Close => BodyFraming::CloseDelimited,
        }
    };
    Ok(ReplyFraming { body, keep_alive })
}

#[derive(Clone, Copy)]
enum Wire {
    Nothing,
    Length(u64),
    Chunked,
    Close,
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Append a chunk-size line: upper-case hex (as libmicrohttpd) and CRLF.
/// `len` must be non-zero (zero is the last chunk: [`write_last_chunk`]).
pub fn write_chunk_size(out: &mut Vec<u8>, len: u64) {
    debug_assert!(len != 0);
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    let mut n = len;
    loop {
        i -= 1;
        tmp[i] = b"0123456789ABCDEF"[(n & 15) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
    out.extend_from_slice(b"\r\n");
}

/// Append the CRLF that ends a chunk's data.
pub fn write_chunk_end(out: &mut Vec<u8>) {
    out.extend_from_slice(b"\r\n");
}

/// Append the last chunk, the footers (`MHD_add_response_footer`) and the
/// final empty line: `0\r\n` `Name: value\r\n`… `\r\n`.
pub fn write_last_chunk<'h, I>(out: &mut Vec<u8>, footers: I)
where
    I: IntoIterator<Item = (&'h [u8], &'h [u8])>,
{
    out.extend_from_slice(b"0\r\n");
    for (n, v) in footers {
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &[u8] = b"Wed, 25 Nov 2026 16:59:26 GMT";

    fn enc(
        status: u32,
        version: Version,
        head: bool,
        ka: bool,
        body: BodySize,
        hs: &[(&str, &str)],
    ) -> (String, ReplyFraming) {
        encoded(ReplyParams { status, version, head_request: head, keep_alive: ka, body, date: Some(DATE), compat: Compat::default() }, hs)
    }

    fn encoded(p: ReplyParams<'_>, hs: &[(&str, &str)]) -> (String, ReplyFraming) {
        let mut out = Vec::new();
        let f = encode_head(&p, hs.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())), &mut out).unwrap();
        (String::from_utf8(out).unwrap(), f)
    }

    const D: &str = "Date: Wed, 25 Nov 2026 16:59:26 GMT\r\n";
    use BodySize::{Known, Unknown};
    use Version::{Http10, Http11};

    fn fr(body: BodyFraming, keep_alive: bool) -> ReplyFraming {
        ReplyFraming { body, keep_alive }
    }

    // Each expectation below is the head Debian's libmicrohttpd 0.9.75 sent.
    #[test]
    fn oracle_basic() {
        assert_eq!(
            enc(200, Http11, false, true, Known(5), &[]),
            (format!("HTTP/1.1 200 OK\r\n{D}Content-Length: 5\r\n\r\n"), fr(BodyFraming::Length(5), true))
        );
        assert_eq!(
            enc(200, Http10, false, false, Known(5), &[]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Connection: close\r\nContent-Length: 5\r\n\r\n")
        );
        assert_eq!(
            enc(200, Http10, false, true, Known(5), &[]),
            (
                format!("HTTP/1.1 200 OK\r\n{D}Connection: Keep-Alive\r\nContent-Length: 5\r\n\r\n"),
                fr(BodyFraming::Length(5), true)
            )
        );
        assert_eq!(
            enc(200, Http11, false, false, Known(5), &[("X-B", "2"), ("X-A", "1"), ("Content-Type", "text/plain")]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Connection: close\r\nX-B: 2\r\nX-A: 1\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n")
        );
    }

    #[test]
    fn oracle_unknown_size() {
        assert_eq!(
            enc(200, Http11, false, true, Unknown, &[]),
            (format!("HTTP/1.1 200 OK\r\n{D}Transfer-Encoding: chunked\r\n\r\n"), fr(BodyFraming::Chunked, true))
        );
        assert_eq!(
            enc(200, Http11, false, false, Unknown, &[]),
            (
                format!("HTTP/1.1 200 OK\r\n{D}Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"),
                fr(BodyFraming::Chunked, false)
            )
        );
        assert_eq!(
            enc(200, Http10, false, true, Unknown, &[]),
            (format!("HTTP/1.1 200 OK\r\n{D}Connection: close\r\n\r\n"), fr(BodyFraming::CloseDelimited, false))
        );
        // HEAD: same head, no body (0.9.75 also wrote "0\r\n\r\n": deliberate difference)
        assert_eq!(
            enc(200, Http11, true, true, Unknown, &[]),
            (format!("HTTP/1.1 200 OK\r\n{D}Transfer-Encoding: chunked\r\n\r\n"), fr(BodyFraming::None, true))
        );
        assert_eq!(
            enc(200, Http10, true, true, Unknown, &[]),
            (format!("HTTP/1.1 200 OK\r\n{D}Connection: close\r\n\r\n"), fr(BodyFraming::None, false))
        );
        assert_eq!(
            enc(200, Http11, true, true, Known(5), &[]),
            (format!("HTTP/1.1 200 OK\r\n{D}Content-Length: 5\r\n\r\n"), fr(BodyFraming::None, true))
        );
    }

    #[test]
    fn oracle_no_body_statuses() {
        for (code, reason) in [(204, "No Content"), (101, "Switching Protocols"), (100, "Continue"), (199, "Non-Standard Status")] {
            assert_eq!(
                enc(code, Http11, false, true, Known(5), &[]),
                (format!("HTTP/1.1 {code} {reason}\r\n{D}\r\n"), fr(BodyFraming::None, true))
            );
            assert_eq!(enc(code, Http11, false, true, Unknown, &[]).0, format!("HTTP/1.1 {code} {reason}\r\n{D}\r\n"));
        }
        assert_eq!(enc(204, Http11, false, false, Known(0), &[]).0, format!("HTTP/1.1 204 No Content\r\n{D}Connection: close\r\n\r\n"));
        assert_eq!(enc(204, Http10, false, true, Unknown, &[]).0, format!("HTTP/1.1 204 No Content\r\n{D}Connection: Keep-Alive\r\n\r\n"));
        assert_eq!(
            enc(304, Http11, false, true, Known(5), &[]),
            (format!("HTTP/1.1 304 Not Modified\r\n{D}Content-Length: 5\r\n\r\n"), fr(BodyFraming::None, true))
        );
        assert_eq!(enc(304, Http11, false, true, Known(0), &[]).0, format!("HTTP/1.1 304 Not Modified\r\n{D}Content-Length: 0\r\n\r\n"));
        assert_eq!(
            enc(304, Http10, false, true, Unknown, &[]),
            (format!("HTTP/1.1 304 Not Modified\r\n{D}Connection: close\r\n\r\n"), fr(BodyFraming::None, false))
        );
        assert_eq!(
            enc(101, Http11, false, true, Known(0), &[("Connection", "Upgrade"), ("Upgrade", "foo")]).0,
            format!("HTTP/1.1 101 Switching Protocols\r\n{D}Connection: Upgrade\r\nUpgrade: foo\r\n\r\n")
        );
        assert_eq!(enc(999, Http11, false, true, Known(5), &[]).0, format!("HTTP/1.1 999 Non-Standard Status\r\n{D}Content-Length: 5\r\n\r\n"));
    }

    #[test]
    fn oracle_app_headers() {
        // App Date replaces ours, in the app's position.
        assert_eq!(
            enc(200, Http11, false, true, Known(5), &[("X-B", "2"), ("Date", "X")]).0,
            "HTTP/1.1 200 OK\r\nX-B: 2\r\nDate: X\r\nContent-Length: 5\r\n\r\n"
        );
        // App Connection tokens move to the library's slot; close first; keep-alive dropped.
        assert_eq!(
            enc(200, Http11, false, true, Known(5), &[("X-B", "2"), ("Connection", "close")]),
            (format!("HTTP/1.1 200 OK\r\n{D}Connection: close\r\nX-B: 2\r\nContent-Length: 5\r\n\r\n"), fr(BodyFraming::Length(5), false))
        );
        assert_eq!(
            enc(200, Http11, false, true, Known(5), &[("X-B", "2"), ("Connection", "foo, close")]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Connection: close, foo\r\nX-B: 2\r\nContent-Length: 5\r\n\r\n")
        );
        assert_eq!(
            enc(200, Http11, false, true, Known(5), &[("Connection", "foo")]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Connection: foo\r\nContent-Length: 5\r\n\r\n")
        );
        assert_eq!(
            enc(200, Http10, false, false, Known(5), &[("Connection", "foo")]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Connection: close, foo\r\nContent-Length: 5\r\n\r\n")
        );
        assert_eq!(
            enc(200, Http10, false, true, Known(5), &[("Connection", "foo")]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Connection: Keep-Alive, foo\r\nContent-Length: 5\r\n\r\n")
        );
        assert_eq!(
            enc(200, Http11, false, false, Known(5), &[("Connection", "a"), ("Connection", "b")]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Connection: close, a, b\r\nContent-Length: 5\r\n\r\n")
        );
        assert_eq!(
            enc(200, Http11, false, true, Known(5), &[("Connection", "keep-alive, foo")]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Connection: foo\r\nContent-Length: 5\r\n\r\n")
        );
        // App Transfer-Encoding: chunked forces chunked on 1.1 even with a known size.
        assert_eq!(
            enc(200, Http11, false, true, Known(5), &[("X-B", "2"), ("Transfer-Encoding", "chunked")]),
            (format!("HTTP/1.1 200 OK\r\n{D}X-B: 2\r\nTransfer-Encoding: chunked\r\n\r\n"), fr(BodyFraming::Chunked, true))
        );
        assert_eq!(
            enc(200, Http10, false, true, Known(5), &[("Transfer-Encoding", "chunked")]),
            (format!("HTTP/1.1 200 OK\r\n{D}Connection: Keep-Alive\r\nContent-Length: 5\r\n\r\n"), fr(BodyFraming::Length(5), true))
        );
        assert_eq!(
            enc(200, Http10, false, false, Unknown, &[("Transfer-Encoding", "chunked")]),
            (format!("HTTP/1.1 200 OK\r\n{D}Connection: close\r\n\r\n"), fr(BodyFraming::CloseDelimited, false))
        );
        // App Content-Length is never ours to send twice.
        assert_eq!(
            enc(200, Http11, false, true, Known(5), &[("Content-Length", "7")]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Content-Length: 5\r\n\r\n")
        );
    }

    #[test]
    fn refusals_and_no_date() {
        let p = ReplyParams { status: 99, version: Http11, head_request: false, keep_alive: true, body: Known(0), date: None, compat: Compat::default() };
        let mut out = Vec::new();
        assert_eq!(encode_head(&p, core::iter::empty(), &mut out), Err(ReplyError::BadStatus));
        let p = ReplyParams { status: 1000, ..p };
        assert_eq!(encode_head(&p, core::iter::empty(), &mut out), Err(ReplyError::BadStatus));
        let p = ReplyParams { status: 101, version: Http10, ..p };
        assert_eq!(encode_head(&p, core::iter::empty(), &mut out), Err(ReplyError::InformationalToHttp10));
        assert!(out.is_empty());
        let p = ReplyParams { status: 200, version: Http11, ..p };
        encode_head(&p, core::iter::empty(), &mut out).unwrap();
        assert_eq!(out, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        let p = ReplyParams { status: 400, keep_alive: false, body: Known(117), ..p };
        out.clear();
        encode_head(&p, core::iter::empty(), &mut out).unwrap();
        assert_eq!(out, b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 117\r\n\r\n");
    }

    fn enc_with(c: Compat, version: Version, ka: bool, body: BodySize, hs: &[(&str, &str)]) -> (String, ReplyFraming) {
        encoded(ReplyParams { status: 200, version, head_request: false, keep_alive: ka, body, date: Some(DATE), compat: c }, hs)
    }

    // The response flags, as Debian's 0.9.75 answered (capi-tests/test_response_flags.c).
    #[test]
    fn response_flags() {
        let strict = Compat { strict_http10: true, ..Compat::default() };
        let server10 = Compat { http10_server: true, ..Compat::default() };
        let ka_hdr = Compat { keep_alive_header: true, ..Compat::default() };
        // Who keeps the connection: (client intent, keep-alive token).
        assert!(Compat::default().keep_alive(true, false));
        assert!(!strict.keep_alive(true, true));
        assert!(!server10.keep_alive(true, false), "1.1 client without the token");
        assert!(server10.keep_alive(true, true));
        assert!(!server10.keep_alive(false, true), "the token with close");
        assert!(ka_hdr.keep_alive(true, false));
        // The head.
        assert_eq!(
            enc_with(server10, Http11, true, Known(5), &[]),
            (format!("HTTP/1.0 200 OK\r\n{D}Connection: Keep-Alive\r\nContent-Length: 5\r\n\r\n"), fr(BodyFraming::Length(5), true))
        );
        assert_eq!(
            enc_with(ka_hdr, Http11, true, Known(5), &[]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Connection: Keep-Alive\r\nContent-Length: 5\r\n\r\n")
        );
        assert_eq!(
            enc_with(strict, Http11, false, Known(5), &[]).0,
            format!("HTTP/1.1 200 OK\r\n{D}Connection: close\r\nContent-Length: 5\r\n\r\n")
        );
        // No chunks under either HTTP/1.0 flag: an unknown size ends with the close,
        // the application's chunked header yields to the length.
        for c in [strict, server10] {
            assert_eq!(enc_with(c, Http11, true, Unknown, &[]).1, fr(BodyFraming::CloseDelimited, false));
            assert_eq!(enc_with(c, Http11, true, Known(5), &[("Transfer-Encoding", "chunked")]).1, fr(BodyFraming::Length(5), true));
            let p = ReplyParams { status: 100, version: Http11, head_request: false, keep_alive: true, body: Known(0), date: None, compat: c };
            assert_eq!(encode_head(&p, core::iter::empty(), &mut Vec::new()), Err(ReplyError::InformationalToHttp10));
        }
    }

    #[test]
    fn chunk_framing() {
        let mut out = Vec::new();
        write_chunk_size(&mut out, 300);
        out.extend_from_slice(b"x");
        write_chunk_end(&mut out);
        write_chunk_size(&mut out, 3);
        write_chunk_size(&mut out, u64::MAX);
        write_last_chunk(&mut out, [(&b"X-Foot"[..], &b"f"[..])]);
        assert_eq!(out, b"12C\r\nx\r\n3\r\nFFFFFFFFFFFFFFFF\r\n0\r\nX-Foot: f\r\n\r\n");
        out.clear();
        write_last_chunk(&mut out, core::iter::empty());
        assert_eq!(out, b"0\r\n\r\n");
        out.clear();
        push_u64(&mut out, 0);
        push_u64(&mut out, u64::MAX);
        assert_eq!(out, b"018446744073709551615");
    }
}
