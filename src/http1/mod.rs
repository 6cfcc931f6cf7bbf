//! Sans-I/O HTTP/1.1: bytes in, events out; a response head in, bytes out.
//!
//! No file descriptors, no libc, no `unsafe`. Every parser here works on
//! caller-owned buffers and reports *offsets* ([`Span`]) into them, so the
//! connection can hand pointers into its own read buffer to the application
//! without copying. Items refer to each other through `super::` paths only so
//! the module can be mounted anywhere (it is `crate::http1` in the library).
//!
//! Pieces:
//! - [`request`]: head scanning ([`HeadFinder`]) and parsing ([`RequestHead`]).
//! - [`chunked`]: the chunked request-body decoder ([`ChunkedDecoder`]).
//! - [`reply`]: response head encoding ([`encode_head`]) and chunk framing.
//! - [`date`]: IMF-fixdate formatting with a one-second cache.
//! - [`reason`]: reason phrases as libmicrohttpd 0.9.75 knows them.
//! - [`urlenc`]: `MHD_http_unescape`, URL path and GET-argument parsing.
//! - [`cookie`]: `Cookie:` header parsing the way 0.9.75 reports it.
//! - `bytes`: byte classes by table and the search for line ends.
//!
//! Deliberate differences from libmicrohttpd 0.9.75 are listed one per line at
//! the top of the file that makes them.
#![forbid(unsafe_code)]

mod bytes;
pub mod chunked;
pub mod cookie;
pub mod date;
pub mod fields;
pub mod reason;
pub mod reply;
pub mod request;
pub mod urlenc;

pub use self::chunked::{ChunkedDecoder, DecodeStep};
pub use self::cookie::{parse_cookies, Cookie};
pub use self::date::DateCache;
pub use self::reason::{reason_phrase, status_line_reason};
pub use self::reply::{
    encode_head, write_chunk_end, write_chunk_size, write_last_chunk, BodyFraming, BodySize, Compat,
    ReplyError, ReplyFraming, ReplyParams, CONTINUE_100,
};
pub use self::request::{
    head_overflow_error, parse_head, Framing, HeadBounds, HeadFinder, HeaderSpan, ParseOptions,
    RequestHead,
};
pub use self::urlenc::{
    parse_query_in_place, split_target, unescape_in_place, unescape_plus_in_place, QueryArg,
};

/// A half-open byte range `start..end` into a buffer the caller owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// `start..end`.
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    /// Number of bytes.
    pub const fn len(&self) -> usize {
        self.end - self.start
    }
    /// True when the span covers no byte.
    pub const fn is_empty(&self) -> bool {
        self.start == self.end
    }
    /// The bytes this span covers in `buf`.
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start..self.end]
    }
    /// The same span moved right by `by` bytes.
    pub const fn shift(&self, by: usize) -> Self {
        Span { start: self.start + by, end: self.end + by }
    }
}

/// HTTP version of a request, after RFC 9112 §2.3 folding: `HTTP/1.2`..`HTTP/1.9`
/// are handled as 1.1 (the original text stays available through
/// [`RequestHead::version_text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1 (and 1.2..1.9)
    Http11,
}

/// Request method. Unknown methods are [`Method::Other`]; their text is
/// [`RequestHead::method_span`] (libmicrohttpd passes any token through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// CONNECT
    Connect,
    /// OPTIONS
    Options,
    /// TRACE
    Trace,
    /// PATCH
    Patch,
    /// Any other token (method names are case-sensitive).
    Other,
}

impl Method {
    /// Classify a method token (case-sensitive, RFC 9110 §9.1).
    pub fn from_bytes(m: &[u8]) -> Method {
        match m {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"CONNECT" => Method::Connect,
            b"OPTIONS" => Method::Options,
            b"TRACE" => Method::Trace,
            b"PATCH" => Method::Patch,
            _ => Method::Other,
        }
    }
}

/// Why a request was refused. Every error means: answer with [`Error::status`]
/// (body [`Error::body`], `Connection: close`) and close the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Syntax error in the request line or a header field, bare CR, NUL or
    /// other control byte, obs-fold, whitespace before the colon. 400.
    Malformed,
    /// `HTTP/2.0` and up. 505.
    VersionNotSupported,
    /// `HTTP/0.x`. 505 (libmicrohttpd words the body differently).
    VersionTooOld,
    /// The head did not fit and the request line alone is incomplete. 414.
    UriTooLong,
    /// The head did not fit (or the trailer section is too large). 431.
    HeaderFieldsTooLarge,
    /// Invalid `Content-Length`, a list, or several differing ones. 400.
    BadContentLength,
    /// `Content-Length` beyond u64 (or the reserved `u64::MAX`). 413.
    ContentLengthTooLarge,
    /// Both `Content-Length` and `Transfer-Encoding`. 400.
    ContentLengthAndTransferEncoding,
    /// `Transfer-Encoding` whose final coding is not `chunked`, or `chunked`
    /// applied more than once, or an empty coding. 400 (RFC 9112 §6.3 item 4).
    BadTransferEncoding,
    /// A coding other than `chunked` before the final `chunked`
    /// (e.g. `gzip, chunked`): we decode none. 501 (RFC 9112 §6.1).
    UnsupportedTransferCoding,
    /// HTTP/1.1 request without `Host` (only when asked: pedantic mode). 400.
    MissingHost,
    /// Chunked body syntax error. 400.
    BadChunk,
    /// Chunk size beyond u64. 413 (as libmicrohttpd answers).
    ChunkSizeTooLarge,
}

impl Error {
    /// The status code the server answers with before closing.
    pub const fn status(self) -> u16 {
        match self {
            Error::Malformed
            | Error::BadContentLength
            | Error::ContentLengthAndTransferEncoding
            | Error::BadTransferEncoding
            | Error::MissingHost
            | Error::BadChunk => 400,
            Error::VersionNotSupported | Error::VersionTooOld => 505,
            Error::UriTooLong => 414,
            Error::HeaderFieldsTooLarge => 431,
            Error::ContentLengthTooLarge | Error::ChunkSizeTooLarge => 413,
            Error::UnsupportedTransferCoding => 501,
        }
    }

    /// The HTML body libmicrohttpd 0.9.75 sends with this error (byte-exact).
    pub const fn body(self) -> &'static str {
        match self {
            Error::Malformed | Error::ContentLengthAndTransferEncoding | Error::BadTransferEncoding => {
                "<html><head><title>Request malformed</title></head><body>Your HTTP request was syntactically incorrect.</body></html>"
            }
            Error::VersionNotSupported => {
                "<html><head><title>Requested HTTP version is not supported</title></head><body>Requested HTTP version is not supported.</body></html>"
            }
            Error::VersionTooOld => {
                "<html><head><title>Requested HTTP version is not supported</title></head><body>Requested HTTP version is too old and not supported.</body></html>"
            }
            Error::UriTooLong | Error::HeaderFieldsTooLarge => {
                "<html><head><title>Request too big</title></head><body>Your HTTP header was too big for the memory constraints of this webserver.</body></html>"
            }
            Error::BadContentLength => {
                "<html><head><title>Request malformed</title></head><body>Your HTTP request has wrong value for <b>Content-Length</b> header.</body></html>"
            }
            Error::ContentLengthTooLarge => {
                "<html><head><title>Request content too large</title></head><body>Your HTTP request has too large value for <b>Content-Length</b> header.</body></html>"
            }
            Error::UnsupportedTransferCoding => {
                "<html><head><title>Not Implemented</title></head><body>The transfer coding of your HTTP request is not supported.</body></html>"
            }
            Error::MissingHost => {
                "<html><head><title>&quot;Host:&quot; header required</title></head><body>In HTTP 1.1, requests must include a &quot;Host:&quot; header, and your HTTP 1.1 request lacked such a header.</body></html>"
            }
            Error::BadChunk => {
                "<html><head><title>Request malformed</title></head><body>Your HTTP chunked encoding was syntactically incorrect.</body></html>"
            }
            Error::ChunkSizeTooLarge => {
                "<html><head><title>Request content too large</title></head><body>The chunk size used in your HTTP chunked encoded request is too large.</body></html>"
            }
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?} (HTTP {})", self, self.status())
    }
}

impl std::error::Error for Error {}

/// ASCII case-insensitive equality.
pub(crate) fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Iterate the comma-separated elements of a field value, each trimmed of
/// SP/HTAB; empty elements are skipped (RFC 9110 §5.6.1).
pub(crate) fn list_items(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(trim_ows).filter(|t| !t.is_empty())
}

/// Trim SP and HTAB on both sides.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_and_trim() {
        let items: Vec<&[u8]> = list_items(b" a ,, b\t,c ").collect();
        assert_eq!(items, vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(trim_ows(b" \t x \t"), b"x");
        assert_eq!(trim_ows(b"   "), b"");
    }

    #[test]
    fn error_statuses() {
        assert_eq!(Error::Malformed.status(), 400);
        assert_eq!(Error::UriTooLong.status(), 414);
        assert_eq!(Error::HeaderFieldsTooLarge.status(), 431);
        assert_eq!(Error::VersionNotSupported.status(), 505);
        assert_eq!(Error::UnsupportedTransferCoding.status(), 501);
        assert_eq!(Error::Malformed.body().len(), 117);
        assert_eq!(Error::BadContentLength.body().len(), 138);
        assert_eq!(Error::UriTooLong.body().len(), 143);
        assert_eq!(Error::BadChunk.body().len(), 126);
        assert_eq!(Error::ChunkSizeTooLarge.body().len(), 149);
        assert_eq!(Error::ContentLengthTooLarge.body().len(), 150);
        assert_eq!(Error::VersionNotSupported.body().len(), 133);
        assert_eq!(Error::VersionTooOld.body().len(), 145);
        assert_eq!(Error::MissingHost.body().len(), 197);
    }
}
