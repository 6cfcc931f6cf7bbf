//! Request head: finding its end cheaply, then parsing it into spans.
//!
//! Use: keep one [`HeadFinder`] and one [`RequestHead`] per connection. After
//! each read call `finder.find(&buf)`; it resumes where it stopped, so a client
//! sending a byte at a time costs linear work. When it returns the bounds, call
//! [`parse_head`] once. If the buffer is full (the caller's limit) and `find`
//! still says `None`, answer [`head_overflow_error`] (414 or 431).
//!
//! Deliberate differences from libmicrohttpd 0.9.75 (RFC 9112 / 9110 say so):
//! - bare CR inside a line is rejected (400); 0.9.75 passes it into the value (RFC 9112 §2.2).
//! - NUL and other CTLs (except HTAB) in a field value are rejected (400); 0.9.75 truncates at NUL (RFC 9110 §5.5).
//! - obs-fold (a line starting with SP/HTAB) is rejected (400); 0.9.75 mangles it (RFC 9112 §5.2).
//! - whitespace between field name and colon is rejected (400); 0.9.75 keeps it in the name (RFC 9112 §5.1).
//! - an empty field name (`: x`) is rejected (400); 0.9.75 accepts it (RFC 9110 §5.1 token).
//! - a space inside the request-target is rejected (400); 0.9.75 keeps it in the URL (RFC 9112 §3.2).
//! - trailing whitespace of field values is trimmed; 0.9.75 keeps it (RFC 9110 §5.5 OWS).
//! - `Content-Length` + `Transfer-Encoding` is rejected (400); 0.9.75 uses chunked (RFC 9112 §6.3 item 3, smuggling).
//! - several differing `Content-Length` fields are rejected (400); 0.9.75 uses the first (RFC 9112 §6.3 item 5).
//! - `Transfer-Encoding` not ending in `chunked` is rejected (400) and `x, chunked` gets 501; 0.9.75 reads such a body until close (RFC 9112 §6.1, §6.3).
//! - an HTTP/1.0 request with `Transfer-Encoding` is rejected (400); 0.9.75 decodes it (RFC 9112 §6.1: framing is faulty).
//! - a second `Host` field is rejected (400); 0.9.75 accepts it (RFC 9112 §3.2).
//! - a `Host` value that is not `uri-host [ ":" port ]` (space, `/`, `@`, a non-digit port) is rejected (400); 0.9.75 accepts it (RFC 9112 §3.2 MUST).
//! - an HTTP/1.1 request without `Host` is rejected (400) unless the caller relaxes `require_host` (RFC 9112 §3.2 MUST).
//!
//! Kept like 0.9.75: bare LF line endings in the head (RFC 9112 §2.2 MAY);
//! several spaces between request-line words (RFC 9112 §3 MAY); leading empty
//! lines skipped; `HTTP/1.2`..`HTTP/1.9` served as 1.1; `HTTP/2+` and `HTTP/0.x`
//! get 505; `HTTP/1.10`, lower-case `http/` or a missing version get 400; repeated identical
//! `Content-Length` fields are accepted; a `Content-Length` beyond u64 gets 413.

use super::bytes::{find_lf, is_tchar, is_unreserved_or_sub_delim};
use super::fields::{common_fields, from_httparse, MAX_COMMON};
use super::{eq_ic, list_items, trim_ows, Error, Method, Span, Version};

/// Where a complete head lies in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadBounds {
    /// First byte of the request line (leading empty lines are skipped).
    pub start: usize,
    /// One past the blank line that ends the head: the body starts here.
    pub end: usize,
}

/// Incremental search for the end of a request head (an empty line), tolerant
/// of bare LF line endings and of empty lines before the request line.
///
/// The finder remembers how far it scanned, so repeated calls on a growing
/// buffer do linear total work. Call [`HeadFinder::reset`] (or `consume`) when
/// the caller drops bytes from the front of its buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadFinder {
    /// Next offset to examine.
    pos: usize,
    /// Offset of the request line once a non-empty line began.
    start: Option<usize>,
}

impl HeadFinder {
    /// A finder for a new request at offset 0.
    pub const fn new() -> Self {
        HeadFinder { pos: 0, start: None }
    }

    /// Forget all progress (the buffer now holds a new request at offset 0).
    pub fn reset(&mut self) {
        *self = HeadFinder::new();
    }

    /// The caller removed `n` bytes from the front of the buffer (only valid
    /// while no head was found, e.g. after discarding leading empty lines).
    pub fn consume(&mut self, n: usize) {
        self.pos = self.pos.saturating_sub(n);
        self.start = self.start.map(|s| s.saturating_sub(n));
    }

    /// Bytes at the front of the buffer that are only empty lines so far
    /// (the caller may drop them).
    pub fn leading_empty(&self) -> usize {
        match self.start {
            Some(s) => s,
            None => self.pos,
        }
    }

    /// Look for the end of the head in `buf` (the whole buffer, same origin as
    /// in earlier calls). `None`: not complete yet.
    pub fn find(&mut self, buf: &[u8]) -> Option<HeadBounds> {
        if self.pos > buf.len() {
            // The caller shrank the buffer without telling us: start over.
            self.reset();
        }
        let start = match self.start {
            Some(s) => s,
            None => {
                // Skip empty lines ("\r\n" or "\n") before the request line.
                let mut p = self.pos;
                loop {
                    match buf.get(p) {
                        Some(b'\n') => p += 1,
                        Some(b'\r') => match buf.get(p + 1) {
                            Some(b'\n') => p += 2,
                            None => {
                                self.pos = p;
                                return None;
                            }
                            Some(_) => break,
                        },
                        Some(_) => break,
                        None => {
                            self.pos = p;
                            return None;
                        }
                    }
                }
                self.start = Some(p);
                self.pos = p;
                p
            }
        };
        let mut i = self.pos;
        while let Some(off) = find_lf(&buf[i..]) {
            let lf = i + off;
            match (buf.get(lf + 1), buf.get(lf + 2)) {
                (Some(b'\n'), _) => return self.done(start, lf + 2),
                (Some(b'\r'), Some(b'\n')) => return self.done(start, lf + 3),
                (Some(b'\r'), None) | (None, _) => {
                    // Need more bytes to decide; re-examine this LF next time.
                    self.pos = lf;
                    return None;
                }
                _ => i = lf + 1,
            }
        }
        self.pos = buf.len();
        None
    }

    fn done(&mut self, start: usize, end: usize) -> Option<HeadBounds> {
        self.pos = end;
        Some(HeadBounds { start, end })
    }
}

/// The error to answer when the buffer limit is reached before the head is
/// complete: 414 if the request line itself has not ended, else 431
/// (as libmicrohttpd 0.9.75 answers).
pub fn head_overflow_error(buf: &[u8], finder: &HeadFinder) -> Error {
    let from = finder.leading_empty().min(buf.len());
    if buf[from..].contains(&b'\n') {
        Error::HeaderFieldsTooLarge
    } else {
        Error::UriTooLong
    }
}

/// One header field as spans into the buffer given to [`parse_head`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderSpan {
    /// Field name (case preserved).
    pub name: Span,
    /// Field value, OWS trimmed.
    pub value: Span,
}

/// How the request body is framed (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// No body.
    #[default]
    None,
    /// Exactly this many bytes follow.
    Length(u64),
    /// Chunked: feed the bytes after the head to a [`super::ChunkedDecoder`].
    Chunked,
}

/// What libmicrohttpd 0.9.75 takes from a connection's memory pool for each
/// header field, GET argument, cookie or footer besides its bytes (`struct
/// MHD_HTTP_Header`, 56 bytes on 64-bit). We charge the same against the
/// connection memory limit: our bookkeeping per field is of that size, so
/// without the charge a head of many tiny fields (`a:\n` is 3 bytes) made a
/// connection hold tens of times its limit.
pub const FIELD_COST: usize = 56;

/// Options that change what is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// Refuse an HTTP/1.1 request without `Host` (libmicrohttpd does so only
    /// with `MHD_USE_PEDANTIC_CHECKS`).
    pub require_host: bool,
    /// The connection memory limit: the head plus [`FIELD_COST`] for each
    /// header field, GET argument and cookie must fit in it, else 431 (as
    /// 0.9.75 answers when its pool runs out). `None`: no limit.
    pub memory_budget: Option<usize>,
}

/// A parsed request head: spans into the buffer passed to [`parse_head`].
/// Reuse one per connection: parsing clears it and keeps the header `Vec`'s
/// capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// Method token.
    pub method_span: Span,
    /// Request-target, as sent.
    pub target: Span,
    /// Version text as sent (e.g. `HTTP/1.2`; libmicrohttpd reports it so).
    pub version_text: Span,
    /// Header fields in order.
    pub headers: Vec<HeaderSpan>,
    /// Offset just after the head (first body byte).
    pub head_end: usize,
    /// Classified method.
    pub method: Method,
    /// Version (1.2..1.9 folded to 1.1).
    pub version: Version,
    /// How the body is framed.
    pub framing: Framing,
    /// The client's keep-alive intent after RFC 9112 §9.3 (`Connection`
    /// tokens) and §6.1 (HTTP/1.0 with Transfer-Encoding closes).
    pub keep_alive: bool,
    /// A `Connection` field carries the `keep-alive` token (what an
    /// HTTP/1.0 server needs to keep the connection: `Compat::keep_alive`).
    pub keep_alive_token: bool,
    /// `Expect: 100-continue` on HTTP/1.1.
    pub expect_continue: bool,
    /// An `Upgrade` field is present.
    pub has_upgrade: bool,
    /// A `Connection` field carries the `upgrade` token.
    pub connection_upgrade: bool,
    /// At least one `Host` field is present.
    pub has_host: bool,
}

impl Default for RequestHead {
    fn default() -> Self {
        RequestHead {
            method_span: Span::default(),
            target: Span::default(),
            version_text: Span::default(),
            headers: Vec::new(),
            head_end: 0,
            method: Method::Get,
            version: Version::Http11,
            framing: Framing::None,
            keep_alive: false,
            keep_alive_token: false,
            expect_continue: false,
            has_upgrade: false,
            connection_upgrade: false,
            has_host: false,
        }
    }
}

impl RequestHead {
    /// True for HEAD.
    pub fn is_head(&self) -> bool {
        self.method == Method::Head
    }
    /// `Upgrade` present and `Connection: upgrade`.
    pub fn wants_upgrade(&self) -> bool {
        self.has_upgrade && self.connection_upgrade
    }
    /// First field named `name` (ASCII case-insensitive), its value span.
    pub fn find(&self, buf: &[u8], name: &[u8]) -> Option<Span> {
        self.headers.iter().find(|h| eq_ic(h.name.get(buf), name)).map(|h| h.value)
    }
    fn clear(&mut self) {
        let mut headers = core::mem::take(&mut self.headers);
        headers.clear();
        *self = RequestHead { headers, ..RequestHead::default() };
    }
}

/// Parse the head `buf[bounds.start..bounds.end]` into `out` (spans are
/// offsets into `buf`). On error `out` is unspecified; answer
/// [`Error::status`] and close.
pub fn parse_head(
    buf: &[u8],
    bounds: HeadBounds,
    opts: ParseOptions,
    out: &mut RequestHead,
) -> Result<(), Error> {
    out.clear();
    let head = &buf[..bounds.end];
    let line_start = bounds.start;
    let rl_end = request_line(head, line_start, out)?;
    out.head_end = bounds.end;
    let head_len = bounds.end - bounds.start;
    let over_budget = |fields: usize| {
        opts.memory_budget.is_some_and(|b| head_len.saturating_add(fields.saturating_mul(FIELD_COST)) > b)
    };
    let args = query_pieces(out.target.get(buf));

    // Header fields: the common shape by hand, else httparse decides (on
    // the stack first, on the heap if there are more fields).
    if !common_fields(head, rl_end, &mut out.headers) {
        out.headers.clear();
        let fields = &head[rl_end..];
        let mut stack = [httparse::EMPTY_HEADER; MAX_COMMON];
        match httparse::parse_headers(fields, &mut stack) {
            Ok(httparse::Status::Complete((n, hs))) => {
                if rl_end + n != bounds.end {
                    return Err(Error::Malformed);
                }
                from_httparse(buf, hs, &mut out.headers);
            }
            Ok(httparse::Status::Partial) => return Err(Error::Malformed),
            Err(httparse::Error::TooManyHeaders) => {
                let lines = fields.iter().filter(|&&b| b == b'\n').count();
                // Refuse before allocating per-line bookkeeping (the last
                // line is the empty one that ends the head).
                if over_budget(lines.saturating_sub(1) + args) {
                    return Err(Error::HeaderFieldsTooLarge);
                }
                let mut heap = vec![httparse::EMPTY_HEADER; lines];
                match httparse::parse_headers(fields, &mut heap) {
                    Ok(httparse::Status::Complete((n, hs))) if rl_end + n == bounds.end => {
                        from_httparse(buf, hs, &mut out.headers)
                    }
                    _ => return Err(Error::Malformed),
                }
            }
            Err(_) => return Err(Error::Malformed),
        }
    }
    let cookies = out.find(buf, b"cookie").map_or(0, |c| c.get(buf).iter().filter(|&&b| b == b';').count() + 1);
    if over_budget(out.headers.len() + args + cookies) {
        return Err(Error::HeaderFieldsTooLarge);
    }
    semantics(buf, opts, out)
}

/// How many GET arguments the request-target carries (an upper bound:
/// pieces between `&` after the first `?`).
fn query_pieces(target: &[u8]) -> usize {
    match target.iter().position(|&b| b == b'?') {
        Some(q) if q + 1 < target.len() => target[q + 1..].iter().filter(|&&b| b == b'&').count() + 1,
        _ => 0,
    }
}

fn is_target_byte(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// Parse `method SP+ target SP+ HTTP/x.y (CR)LF` at `head[p..]`; returns the
/// offset after the line end.
fn request_line(head: &[u8], mut p: usize, out: &mut RequestHead) -> Result<usize, Error> {
    let m0 = p;
    while p < head.len() && is_tchar(head[p]) {
        p += 1;
    }
    if p == m0 || head.get(p) != Some(&b' ') {
        return Err(Error::Malformed);
    }
    out.method_span = Span::new(m0, p);
    out.method = Method::from_bytes(&head[m0..p]);
    while head.get(p) == Some(&b' ') {
        p += 1;
    }
    let t0 = p;
    while p < head.len() && is_target_byte(head[p]) {
        p += 1;
    }
    if p == t0 || head.get(p) != Some(&b' ') {
        return Err(Error::Malformed);
    }
    out.target = Span::new(t0, p);
    while head.get(p) == Some(&b' ') {
        p += 1;
    }
    let v0 = p;
    // Nearly every request line ends in exactly this: skip the scan.
    if head.get(p..p + 10) == Some(&b"HTTP/1.1\r\n"[..]) {
        out.version_text = Span::new(p, p + 8);
        out.version = Version::Http11;
        return Ok(p + 10);
    }
    while p < head.len() && !matches!(head[p], b'\r' | b'\n') {
        p += 1;
    }
    let vt = &head[v0..p];
    out.version_text = Span::new(v0, p);
    out.version = version(vt)?;
    match (head.get(p), head.get(p + 1)) {
        (Some(b'\n'), _) => Ok(p + 1),
        (Some(b'\r'), Some(b'\n')) => Ok(p + 2),
        _ => Err(Error::Malformed),
    }
}

fn version(v: &[u8]) -> Result<Version, Error> {
    match v {
        [b'H', b'T', b'T', b'P', b'/', maj, b'.', min] if maj.is_ascii_digit() && min.is_ascii_digit() => {
            match (maj - b'0', min - b'0') {
                (1, 0) => Ok(Version::Http10),
                (1, _) => Ok(Version::Http11),
                (0, _) => Err(Error::VersionTooOld),
                _ => Err(Error::VersionNotSupported),
            }
        }
        _ => Err(Error::Malformed),
    }
}

fn semantics(buf: &[u8], opts: ParseOptions, out: &mut RequestHead) -> Result<(), Error> {
    let v11 = out.version == Version::Http11;
    let mut close = false;
    let mut ka = false;
    let mut cl: Option<u64> = None;
    let mut te_seen = false;
    // Transfer-Encoding codings over all fields: last must be chunked.
    let mut te_last_chunked = false;
    let mut te_chunked_count = 0u32;
    let mut te_other = false;
    let mut te_empty_item = false;
    for h in &out.headers {
        let name = h.name.get(buf);
        let value = h.value.get(buf);
        if eq_ic(name, b"connection") {
            for t in list_items(value) {
                if eq_ic(t, b"close") {
                    close = true;
                } else if eq_ic(t, b"keep-alive") {
                    ka = true;
                } else if eq_ic(t, b"upgrade") {
                    out.connection_upgrade = true;
                }
            }
        } else if eq_ic(name, b"content-length") {
            let n = parse_content_length(value)?;
            match cl {
                Some(prev) if prev != n => return Err(Error::BadContentLength),
                _ => cl = Some(n),
            }
        } else if eq_ic(name, b"transfer-encoding") {
            te_seen = true;
            if value.split(|&b| b == b',').any(|t| trim_ows(t).is_empty()) {
                te_empty_item = true;
            }
            for t in list_items(value) {
                if eq_ic(t, b"chunked") {
                    te_chunked_count += 1;
                    te_last_chunked = true;
                } else {
                    te_last_chunked = false;
                    te_other = true;
                }
            }
        } else if eq_ic(name, b"expect") {
            if v11 && eq_ic(value, b"100-continue") {
                out.expect_continue = true;
            }
        } else if eq_ic(name, b"upgrade") {
            out.has_upgrade = true;
        } else if eq_ic(name, b"host") {
            // RFC 9112 §3.2: more than one Host, or an invalid one, is a 400.
            if out.has_host || !valid_host(value) {
                return Err(Error::Malformed);
            }
            out.has_host = true;
        }
    }
    if te_seen {
        if !v11 {
            // RFC 9112 §6.1: HTTP/1.0 with Transfer-Encoding has faulty framing.
            return Err(Error::BadTransferEncoding);
        }
        if cl.is_some() {
            return Err(Error::ContentLengthAndTransferEncoding);
        }
        if te_empty_item || !te_last_chunked || te_chunked_count != 1 {
            return Err(Error::BadTransferEncoding);
        }
        if te_other {
            return Err(Error::UnsupportedTransferCoding);
        }
        out.framing = Framing::Chunked;
    } else if let Some(n) = cl {
        out.framing = if n == 0 { Framing::None } else { Framing::Length(n) };
    }
    out.keep_alive_token = ka;
    out.keep_alive = if close {
        false
    } else if v11 {
        true
    } else {
        ka
    };
    if opts.require_host && v11 && !out.has_host {
        return Err(Error::MissingHost);
    }
    Ok(())
}

/// `Host = uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2): a
/// reg-name or IPv4 address (unreserved, pct-encoded, sub-delims), or an
/// IP-literal in brackets, then an optional `:` and digits. Empty is valid
/// (a target without authority). No userinfo, path, space or control byte.
fn valid_host(v: &[u8]) -> bool {
    let mut i;
    if v.first() == Some(&b'[') {
        // IP-literal: IPv6address (with an RFC 6874 zone, `%25eth0`) or
        // IPvFuture; their bytes are all unreserved, sub-delims, ':' or '%'.
        let Some(close) = v.iter().position(|&b| b == b']') else { return false };
        let inner = &v[1..close];
        if inner.is_empty() || !inner.iter().all(|&b| b == b':' || b == b'%' || is_unreserved_or_sub_delim(b)) {
            return false;
        }
        i = close + 1;
    } else {
        // The common run of plain host bytes first; '%', ':' and anything
        // else are for the loop.
        i = v.iter().position(|&b| !is_unreserved_or_sub_delim(b)).unwrap_or(v.len());
        while i < v.len() && v[i] != b':' {
            match v[i] {
                b'%' => {
                    if !(v.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && v.get(i + 2).is_some_and(u8::is_ascii_hexdigit)) {
                        return false;
                    }
                    i += 3;
                }
                b if is_unreserved_or_sub_delim(b) => i += 1,
                _ => return false,
            }
        }
    }
    match v.get(i) {
        None => true,
        Some(b':') => v[i + 1..].iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

/// `1*DIGIT`, no sign, no list. Beyond u64 (or equal to `u64::MAX`, which
/// libmicrohttpd reserves for "unknown") is 413.
fn parse_content_length(v: &[u8]) -> Result<u64, Error> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return Err(Error::BadContentLength);
    }
    let mut n: u64 = 0;
    for &d in v {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or(Error::ContentLengthTooLarge)?;
    }
    if n == u64::MAX {
        return Err(Error::ContentLengthTooLarge);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `input` in two pieces split at every offset (and byte by byte),
    /// return the parse result; all ways must agree.
    fn parse_all_ways(input: &[u8], opts: ParseOptions) -> Option<Result<RequestHead, Error>> {
        let whole = run(input, &[input.len()], opts);
        for split in 0..=input.len() {
            assert_eq!(run(input, &[split, input.len()], opts), whole, "split at {split}");
        }
        let bytes: Vec<usize> = (1..=input.len()).collect();
        assert_eq!(run(input, &bytes, opts), whole, "byte at a time");
        whole
    }

    fn run(input: &[u8], cuts: &[usize], opts: ParseOptions) -> Option<Result<RequestHead, Error>> {
        let mut f = HeadFinder::new();
        for &c in cuts {
            if let Some(b) = f.find(&input[..c]) {
                let mut h = RequestHead::default();
                return Some(parse_head(input, b, opts, &mut h).map(|_| h));
            }
        }
        None
    }

    fn ok(input: &[u8]) -> RequestHead {
        match parse_all_ways(input, ParseOptions::default()) {
            Some(Ok(h)) => h,
            other => panic!("{:?}: {:?}", String::from_utf8_lossy(input), other),
        }
    }

    fn err(input: &[u8]) -> Error {
        match parse_all_ways(input, ParseOptions::default()) {
            Some(Err(e)) => e,
            other => panic!("{:?}: expected error, got {:?}", String::from_utf8_lossy(input), other),
        }
    }

    fn s(buf: &[u8], sp: Span) -> &str {
        core::str::from_utf8(sp.get(buf)).unwrap()
    }

    #[test]
    fn simple_get() {
        let r = b"GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Y:  z  \r\n\r\nBODY";
        let h = ok(r);
        assert_eq!(s(r, h.method_span), "GET");
        assert_eq!(h.method, Method::Get);
        assert_eq!(s(r, h.target), "/a?b=c");
        assert_eq!(s(r, h.version_text), "HTTP/1.1");
        assert_eq!(h.version, Version::Http11);
        assert_eq!(h.headers.len(), 2);
        assert_eq!(s(r, h.headers[1].name), "X-Y");
        assert_eq!(s(r, h.headers[1].value), "z");
        assert_eq!(&r[h.head_end..], b"BODY");
        assert!(h.keep_alive && h.has_host && !h.expect_continue);
        assert_eq!(h.framing, Framing::None);
        assert_eq!(h.find(r, b"x-y").map(|v| s(r, v)), Some("z"));
    }

    #[test]
    fn empty_value_span() {
        let r = b"GET / HTTP/1.1\r\nA:\r\nB: \r\n\r\n";
        let h = ok(r);
        assert_eq!(s(r, h.headers[0].value), "");
        assert_eq!(s(r, h.headers[1].value), "");
    }

    #[test]
    fn bare_lf_and_leading_empty_lines() {
        let r = b"\r\n\nGET / HTTP/1.0\nA: b\n\n";
        let h = ok(r);
        assert_eq!(s(r, h.method_span), "GET");
        assert_eq!(h.version, Version::Http10);
        assert_eq!(h.head_end, r.len());
        let r = b"GET / HTTP/1.1\r\nA: b\r\n\n";
        assert_eq!(ok(r).head_end, r.len());
        let r = b"GET / HTTP/1.1\nA: b\n\r\n";
        assert_eq!(ok(r).head_end, r.len());
    }

    #[test]
    fn incomplete_is_none() {
        assert!(parse_all_ways(b"GET / HTTP/1.1\r\nHost: a\r\n", ParseOptions::default()).is_none());
        assert!(parse_all_ways(b"\r\n\r\n", ParseOptions::default()).is_none());
        assert!(parse_all_ways(b"GET / HTTP/1.1\r\n\r", ParseOptions::default()).is_none());
    }

    #[test]
    fn many_headers() {
        let mut r = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..500 {
            r.extend_from_slice(format!("X{i}: v{i}\r\n").as_bytes());
        }
        r.extend_from_slice(b"\r\n");
        let mut f = HeadFinder::new();
        let b = f.find(&r).unwrap();
        let mut h = RequestHead::default();
        parse_head(&r, b, ParseOptions::default(), &mut h).unwrap();
        assert_eq!(h.headers.len(), 500);
        assert_eq!(s(&r, h.headers[499].value), "v499");
        // Reuse keeps working.
        parse_head(&r, b, ParseOptions::default(), &mut h).unwrap();
        assert_eq!(h.headers.len(), 500);
    }

    #[test]
    fn versions() {
        assert_eq!(ok(b"GET / HTTP/1.2\r\n\r\n").version, Version::Http11);
        assert_eq!(ok(b"GET / HTTP/1.9\r\n\r\n").version, Version::Http11);
        assert_eq!(err(b"GET / HTTP/2.0\r\n\r\n"), Error::VersionNotSupported);
        assert_eq!(err(b"GET / HTTP/0.9\r\n\r\n"), Error::VersionTooOld);
        assert_eq!(err(b"GET / HTTP/1.10\r\n\r\n"), Error::Malformed);
        assert_eq!(err(b"GET / http/1.1\r\n\r\n"), Error::Malformed);
        assert_eq!(err(b"GET /\r\n\r\n"), Error::Malformed);
        assert_eq!(err(b"GET / HTTP/1.1 \r\n\r\n"), Error::Malformed);
        assert_eq!(err(b"GET / HTTP/1.1\rX\r\n\r\n"), Error::Malformed);
        assert_eq!(err(b"GET / HTTP/2.0\r\n\r\n").status(), 505);
    }

    #[test]
    fn request_line_shapes() {
        let r = b"GET  /x   HTTP/1.1\r\n\r\n";
        let h = ok(r);
        assert_eq!(s(r, h.target), "/x");
        let r = b"FOO * HTTP/1.1\r\n\r\n";
        let h = ok(r);
        assert_eq!(h.method, Method::Other);
        assert_eq!(s(r, h.method_span), "FOO");
        assert_eq!(ok(b"HEAD / HTTP/1.1\r\n\r\n").method, Method::Head);
        assert_eq!(err(b"GET /b uf HTTP/1.1\r\n\r\n"), Error::Malformed);
        assert_eq!(err(b" GET / HTTP/1.1\r\n\r\n"), Error::Malformed);
        assert_eq!(err(b"G(T / HTTP/1.1\r\n\r\n"), Error::Malformed);
        assert_eq!(err(b"GET /\x00 HTTP/1.1\r\n\r\n"), Error::Malformed);
    }

    #[test]
    fn keep_alive_rules() {
        assert!(ok(b"GET / HTTP/1.1\r\n\r\n").keep_alive);
        assert!(!ok(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!ok(b"GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n").keep_alive);
        assert!(!ok(b"GET / HTTP/1.1\r\nConnection: foo\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(ok(b"GET / HTTP/1.1\r\nConnection: closed\r\n\r\n").keep_alive);
        assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive, foo\r\n\r\n").keep_alive);
        assert!(!ok(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
        // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing.
        assert_eq!(
            err(b"POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Error::BadTransferEncoding
        );
        assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), Error::Malformed);
    }

    #[test]
    fn expect_upgrade_host() {
        assert!(ok(b"POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n").expect_continue);
        assert!(!ok(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n").expect_continue);
        assert!(!ok(b"POST / HTTP/1.1\r\nExpect: foo\r\n\r\n").expect_continue);
        let h = ok(b"GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n");
        assert!(h.wants_upgrade());
        assert!(!ok(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").wants_upgrade());
        let strict = ParseOptions { require_host: true, ..ParseOptions::default() };
        assert_eq!(parse_all_ways(b"GET / HTTP/1.1\r\n\r\n", strict), Some(Err(Error::MissingHost)));
        assert!(matches!(parse_all_ways(b"GET / HTTP/1.0\r\n\r\n", strict), Some(Ok(_))));
        assert!(matches!(parse_all_ways(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n", strict), Some(Ok(_))));
        assert!(ok(b"GET / HTTP/1.1\r\n\r\n").keep_alive);
    }

    #[test]
    fn framing() {
        assert_eq!(ok(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").framing, Framing::Length(5));
        assert_eq!(ok(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").framing, Framing::None);
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n").framing,
            Framing::Length(2)
        );
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\ncontent-length: 18446744073709551614\r\n\r\n").framing,
            Framing::Length(u64::MAX - 1)
        );
        assert_eq!(ok(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").framing, Framing::Chunked);
        assert_eq!(ok(b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n").framing, Framing::Chunked);
    }

    #[test]
    fn bad_input_table() {
        let table: &[(&[u8], Error)] = &[
            (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", Error::ContentLengthAndTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", Error::ContentLengthAndTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: ,chunked\r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Error::UnsupportedTransferCoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", Error::UnsupportedTransferCoding),
            (b"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", Error::BadContentLength),
            (b"POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", Error::BadContentLength),
            (b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", Error::BadContentLength),
            (b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", Error::BadContentLength),
            (b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", Error::BadContentLength),
            (b"POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", Error::BadContentLength),
            (b"POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", Error::BadContentLength),
            (b"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", Error::BadContentLength),
            (b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", Error::ContentLengthTooLarge),
            (b"POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", Error::ContentLengthTooLarge),
            (b"GET / HTTP/1.1\r\nX : a\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nX\t: a\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nX: a\r\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\n: empty\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\n\rX: a\r\n\r\n", Error::Malformed),
            (b"GET\x00 / HTTP/1.1\r\n\r\n", Error::Malformed),
        ];
        for (input, want) in table {
            assert_eq!(err(input), *want, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn host_values() {
        for good in [
            &b"x"[..],
            b"",
            b"example.com",
            b"example.com:8080",
            b"example.com:",
            b"127.0.0.1:80",
            b"[::1]",
            b"[::1]:8080",
            b"[v1.fe80::a+en1]",
            b"[fe80::1%25eth0]:80",
            b"under_score.ex-ample~",
            b"%41b",
            b"a!$&'()*+,;=b",
        ] {
            let mut r = b"GET / HTTP/1.1\r\nHost: ".to_vec();
            r.extend_from_slice(good);
            r.extend_from_slice(b"\r\n\r\n");
            assert!(ok(&r).has_host, "{:?}", String::from_utf8_lossy(good));
        }
        for bad in [
            &b"a b"[..],
            b"x/y",
            b"u@x",
            b"x:8a",
            b"x:80:80",
            b"[::1",
            b"[]",
            b"[::1]x",
            b"[::1/]",
            b"%4",
            b"%zz",
            b"x\"y",
            b"x?y",
            b"x#y",
            b"\xc3\xa9",
            b"x\\y",
        ] {
            let mut r = b"GET / HTTP/1.1\r\nHost: ".to_vec();
            r.extend_from_slice(bad);
            r.extend_from_slice(b"\r\n\r\n");
            assert_eq!(err(&r), Error::Malformed, "{:?}", String::from_utf8_lossy(bad));
        }
        // HTTP/1.0 too: an invalid Host is invalid whatever the version.
        assert_eq!(err(b"GET / HTTP/1.0\r\nHost: a b\r\n\r\n"), Error::Malformed);
        // absolute-form: the Host field is still checked, but need not match.
        assert!(ok(b"GET http://a/p HTTP/1.1\r\nHost: b\r\n\r\n").has_host);
    }

    #[test]
    fn smuggling_heads() {
        // Field names must be tokens; whitespace or obs-fold around
        // Transfer-Encoding/Content-Length must not hide them.
        let table: &[(&[u8], Error)] = &[
            (b"GET / HTTP/1.1\r\nX-A(b): v\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nX@Y: v\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nX-\xc3\xa9: v\r\n\r\n", Error::Malformed),
            (b"GET / HTTP/1.1\r\nX\"Y: v\r\n\r\n", Error::Malformed),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", Error::Malformed),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", Error::Malformed),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: \x0bchunked\r\n\r\n", Error::Malformed),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", Error::BadTransferEncoding),
            (b"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", Error::BadContentLength),
            (b"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", Error::BadContentLength),
            (b"GET\t/\tHTTP/1.1\r\n\r\n", Error::Malformed),
        ];
        for (input, want) in table {
            assert_eq!(err(input), *want, "{:?}", String::from_utf8_lossy(input));
        }
        // Accepted: OWS around values, case-insensitive codings, leading zeros.
        assert_eq!(ok(b"POST / HTTP/1.1\r\nTransfer-Encoding:\tchunked  \r\n\r\n").framing, Framing::Chunked);
        assert_eq!(ok(b"POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n").framing, Framing::Chunked);
        assert_eq!(ok(b"POST / HTTP/1.1\r\nContent-Length: 005 \t\r\n\r\n").framing, Framing::Length(5));
        // Bytes after a Content-Length body are the next request's.
        let r = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\n\r\n";
        let h = ok(r);
        assert_eq!(h.framing, Framing::Length(5));
        assert_eq!(&r[h.head_end + 5..], b"GET /next HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn overflow_status() {
        let mut f = HeadFinder::new();
        let b = b"GET /aaaaaaaaaaaa";
        assert!(f.find(b).is_none());
        assert_eq!(head_overflow_error(b, &f), Error::UriTooLong);
        let b = b"GET /a HTTP/1.1\r\nX: aaaaaaa";
        let mut f = HeadFinder::new();
        assert!(f.find(b).is_none());
        assert_eq!(head_overflow_error(b, &f), Error::HeaderFieldsTooLarge);
        let b = b"\r\n\r\nGET /aaaa";
        let mut f = HeadFinder::new();
        assert!(f.find(b).is_none());
        assert_eq!(head_overflow_error(b, &f), Error::UriTooLong);
    }

    #[test]
    fn finder_is_linear_and_consumable() {
        // Leading empty lines can be dropped by the caller.
        let mut f = HeadFinder::new();
        let mut buf = b"\r\n\r\n\r\n".to_vec();
        assert!(f.find(&buf).is_none());
        assert_eq!(f.leading_empty(), 6);
        let n = f.leading_empty();
        buf.drain(..n);
        f.consume(n);
        buf.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(f.find(&buf), Some(HeadBounds { start: 0, end: buf.len() }));
        // Byte-at-a-time scanning of a big head touches each byte O(1) times.
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        for _ in 0..2000 {
            big.extend_from_slice(b"X: y\r\n");
        }
        big.extend_from_slice(b"\r\n");
        let mut f = HeadFinder::new();
        for i in 1..big.len() {
            assert!(f.find(&big[..i]).is_none());
        }
        assert!(f.find(&big).is_some());
    }

    /// Deterministic pseudo-random heads: never panic, and every split of
    /// the input agrees with the whole (checked by `parse_all_ways`).
    #[test]
    fn random_heads_agree_across_splits() {
        const ALPHABET: &[u8] = b"GET /HTP1.0\r\n:; ,\tabcXY-=%?\x00\x7f\xff";
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let mut v = b"GET / HTTP/1.1\r\n".to_vec();
            let n = (next() % 40) as usize;
            for _ in 0..n {
                v.push(ALPHABET[(next() % ALPHABET.len() as u64) as usize]);
            }
            v.extend_from_slice(b"\r\n\r\n");
            let _ = parse_all_ways(&v, ParseOptions::default());
            let _ = parse_all_ways(&v[16..], ParseOptions::default());
        }
    }

    /// With a memory budget, the head plus FIELD_COST per header field,
    /// GET argument and cookie must fit (431), counted before the
    /// per-field bookkeeping is allocated.
    #[test]
    fn fields_are_charged_against_the_memory_budget() {
        let parse = |head: &[u8], budget: usize| {
            let mut f = HeadFinder::new();
            let b = f.find(head).expect("complete head");
            let mut h = RequestHead::default();
            parse_head(head, b, ParseOptions { memory_budget: Some(budget), ..ParseOptions::default() }, &mut h).map(|_| h.headers.len())
        };
        let with_fields = |n: usize| {
            let mut v = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
            for _ in 0..n {
                v.extend_from_slice(b"a:\n");
            }
            v.extend_from_slice(b"\r\n");
            v
        };
        // 100 tiny fields (the heap path): 327 bytes + 101 * 56 = 5983.
        let h = with_fields(100);
        assert_eq!(h.len(), 327);
        assert_eq!(parse(&h, 5983), Ok(101));
        assert_eq!(parse(&h, 5982), Err(Error::HeaderFieldsTooLarge));
        assert_eq!(parse(&h, usize::MAX), Ok(101));
        // A few fields (the stack path) too.
        let h = with_fields(3);
        assert_eq!(parse(&h, h.len() + 4 * FIELD_COST), Ok(4));
        assert_eq!(parse(&h, h.len() + 4 * FIELD_COST - 1), Err(Error::HeaderFieldsTooLarge));
        // GET arguments and cookies count as fields.
        let h = b"GET /?a&b&c HTTP/1.1\r\nHost: x\r\nCookie: x=1; y=2\r\n\r\n";
        assert_eq!(parse(h, h.len() + 7 * FIELD_COST), Ok(2));
        assert_eq!(parse(h, h.len() + 7 * FIELD_COST - 1), Err(Error::HeaderFieldsTooLarge));
        // No budget: no limit (the default).
        let mut f = HeadFinder::new();
        let big = with_fields(5000);
        let b = f.find(&big).expect("complete");
        assert!(parse_head(&big, b, ParseOptions::default(), &mut RequestHead::default()).is_ok());
    }
}
