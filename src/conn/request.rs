//! One request's parsed head and body progress, and how its strings are
//! stored for the application.

use super::values::{kind, Arena, Str, Values};
use crate::daemon::config::flag;
use crate::daemon::Ctx;
use crate::http1::{self, ChunkedDecoder, Framing, HeadFinder, ParseOptions, RequestHead, Version};
use std::os::raw::c_char;

/// How the rest of the request body arrives.
#[derive(Default)]
pub enum BodyIn {
    #[default]
    None,
    /// Bytes still to deliver to the application.
    Length(u64),
    /// `pending`: decoded payload bytes at the front of the unread buffer
    /// that the application has not consumed yet.
    Chunked { decoder: Box<ChunkedDecoder>, pending: usize, done: bool },
}

impl BodyIn {
    /// More body bytes are expected from the client.
    pub fn expects_data(&self) -> bool {
        match self {
            BodyIn::None => false,
            BodyIn::Length(n) => *n > 0,
            BodyIn::Chunked { done, .. } => !done,
        }
    }

    /// Everything was received and delivered.
    pub fn is_complete(&self) -> bool {
        match self {
            BodyIn::None => true,
            BodyIn::Length(n) => *n == 0,
            BodyIn::Chunked { pending, done, .. } => *done && *pending == 0,
        }
    }
}

#[derive(Default)]
pub struct Request {
    pub finder: HeadFinder,
    head: RequestHead,
    pub version: Option<Version>,
    pub is_head: bool,
    pub keep_alive: bool,
    /// The client sent a `keep-alive` token (see `http1::Compat`).
    pub keep_alive_token: bool,
    pub expect_continue: bool,
    pub wants_upgrade: bool,
    pub body: BodyIn,
    method: Option<Str>,
    url: Option<Str>,
    raw_uri: Option<Str>,
    version_str: Option<Str>,
    /// Entry indexes of the GET arguments (unescaped after the URI log call).
    args: std::ops::Range<usize>,
    /// Upload bytes the application consumed in the last handler call.
    pub last_consumed: usize,
    /// A chunked decoder kept across requests for its buffers.
    spare_decoder: Option<Box<ChunkedDecoder>>,
    /// Reused parse results, so a request allocates nothing once warm.
    scratch_args: Vec<http1::QueryArg>,
    scratch_cookies: Vec<http1::Cookie>,
}

impl Request {
    /// Forgets the finished request (keeps allocations).
    pub fn reset(&mut self) {
        if let BodyIn::Chunked { decoder, .. } = std::mem::take(&mut self.body) {
            self.spare_decoder = Some(decoder);
        }
        self.finder.reset();
        self.version = None;
        self.is_head = false;
        self.keep_alive = false;
        self.keep_alive_token = false;
        self.expect_continue = false;
        self.wants_upgrade = false;
        self.method = None;
        self.url = None;
        self.raw_uri = None;
        self.version_str = None;
        self.args = 0..0;
        self.last_consumed = 0;
    }

    /// Bytes held by the reused parse results.
    pub fn capacity(&self) -> usize {
        use std::mem::size_of;
        self.head.headers.capacity() * size_of::<http1::HeaderSpan>()
            + self.scratch_args.capacity() * size_of::<http1::QueryArg>()
            + self.scratch_cookies.capacity() * size_of::<http1::Cookie>()
    }

    /// Parses the head in `buf` (bounds from the finder) and stores its
    /// strings in `values`. On error returns the status to answer.
    pub fn parse(&mut self, buf: &[u8], bounds: http1::HeadBounds, values: &mut Values, ctx: &Ctx) -> Result<(), http1::Error> {
        // RFC 9112 requires Host on HTTP/1.1; only MHD_OPTION_STRICT_FOR_CLIENT < 0
        // ("be lenient") accepts requests without it, as 0.9.75 did by default.
        // The memory budget is the read buffer's size (conn/mod.rs read_max).
        let budget = ctx.cfg.memory_limit.max(1024);
        let opts = ParseOptions {
            require_host: ctx.cfg.strictness >= 0 || ctx.cfg.flags & flag::PEDANTIC_CHECKS != 0,
            memory_budget: Some(budget),
        };
        http1::parse_head(buf, bounds, opts, &mut self.head)?;
        let h = &self.head;
        self.version = Some(h.version);
        self.is_head = h.is_head();
        self.keep_alive = h.keep_alive;
        self.keep_alive_token = h.keep_alive_token;
        self.expect_continue = h.expect_continue;
        self.wants_upgrade = h.wants_upgrade();
        self.body = match h.framing {
            Framing::None => BodyIn::None,
            Framing::Length(n) => BodyIn::Length(n),
            Framing::Chunked => {
                let limit = budget.min(http1::chunked::DEFAULT_TRAILER_LIMIT);
                let mut d = self.spare_decoder.take().unwrap_or_else(|| Box::new(ChunkedDecoder::new(limit)));
                d.reset();
                BodyIn::Chunked { decoder: d, pending: 0, done: false }
            }
        };
        // The head goes into the arena in one copy, each part of it
        // terminated in place (one copy per string cost more than parsing
        // the head's fields). The URL gets a copy of its own: it is
        // unescaped in place, and the raw URI keeps the bytes as sent.
        let base = values.intern_head(&buf[bounds.start..h.head_end]);
        let part = |values: &mut Values, s: http1::Span| values.head_part(base + (s.start - bounds.start) as u32, s.len() as u32);
        self.method = Some(part(values, h.method_span));
        self.raw_uri = Some(part(values, h.target));
        self.version_str = Some(part(values, h.version_text));
        let target = h.target.get(buf);
        let (path, query) = http1::split_target(target);
        self.url = Some(values.intern(Arena::Head, path.get(target)));
        for f in &h.headers {
            let k = part(values, f.name);
            let v = part(values, f.value);
            values.push(kind::HEADER, k, Some(v));
        }
        let first_arg = values.len();
        if let Some(q) = query {
            let q = q.get(target);
            self.scratch_args.clear();
            http1::urlenc::parse_query_raw(q, &mut self.scratch_args);
            for a in &self.scratch_args {
                let k = values.intern(Arena::Head, a.key.get(q));
                let v = a.value.map(|v| values.intern(Arena::Head, v.get(q)));
                values.push(kind::GET_ARGUMENT, k, v);
            }
        }
        self.args = first_arg..values.len();
        // libmicrohttpd reads only the first Cookie field.
        if let Some(c) = h.find(buf, b"cookie") {
            let c = c.get(buf);
            self.scratch_cookies.clear();
            http1::parse_cookies(c, &mut self.scratch_cookies);
            for ck in &self.scratch_cookies {
                let k = values.intern(Arena::Head, ck.name.get(c));
                let v = values.intern(Arena::Head, ck.value.get(c));
                values.push(kind::COOKIE, k, Some(v));
            }
        }
        #[cfg(feature = "fault-injection")]
        crate::ffi::fault::on_request_head(h.find(buf, crate::ffi::fault::HEADER).map(|v| v.get(buf)));
        Ok(())
    }

    /// Unescapes the URL path and the GET arguments in place, with the
    /// application's unescape callback if it set one.
    pub fn unescape_url(&mut self, values: &mut Values, ctx: &Ctx, conn: *mut crate::ffi::abi::MHD_Connection) {
        let unescape = |values: &mut Values, s: Str, plus: bool| -> Str {
            let Some(bytes) = values.own_bytes_mut(s) else { return s };
            if plus {
                // '+' means space in a query string only.
                let n = bytes.len() - 1;
                bytes[..n].iter_mut().filter(|b| **b == b'+').for_each(|b| *b = b' ');
            }
            let n = match ctx.cfg.unescaper {
                Some(u) => u.call(conn, bytes),
                None => {
                    let n = bytes.len() - 1;
                    http1::unescape_in_place(&mut bytes[..n])
                }
            };
            values.truncated(s, n)
        };
        if let Some(u) = self.url {
            self.url = Some(unescape(values, u, false));
        }
        for i in self.args.clone() {
            let Some(e) = values.entry(i) else { continue };
            let k = unescape(values, e.key, true);
            let v = e.value.map(|v| unescape(values, v, true));
            values.set(i, k, v);
        }
    }

    fn ptr(values: &Values, s: Option<Str>) -> *const c_char {
        s.map_or(std::ptr::null(), |s| values.c_str(&s).ptr)
    }

    pub fn url_ptr(&self, values: &Values) -> *const c_char {
        Self::ptr(values, self.url)
    }
    pub fn method_ptr(&self, values: &Values) -> *const c_char {
        Self::ptr(values, self.method)
    }
    pub fn version_ptr(&self, values: &Values) -> *const c_char {
        Self::ptr(values, self.version_str)
    }
    pub fn raw_uri_ptr(&self, values: &Values) -> *const c_char {
        Self::ptr(values, self.raw_uri)
    }
}

/// Stores a chunked body's trailer fields as MHD_FOOTER_KIND values.
pub fn store_trailers(decoder: &ChunkedDecoder, values: &mut Values) {
    for (n, v) in decoder.trailers() {
        let k = values.intern(Arena::Footer, n);
        let v = values.intern(Arena::Footer, v);
        values.push(kind::FOOTER, k, Some(v));
    }
}
