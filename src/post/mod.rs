//! The POST body parser behind `MHD_create_post_processor`: sans-I/O, bytes
//! in, [`PostEvent`]s out, for `application/x-www-form-urlencoded` and
//! `multipart/form-data` (with nested `multipart/mixed`).
//!
//! libmicrohttpd's applications see exactly when and how a value is cut into
//! pieces, so this parser reproduces 0.9.75's observable behaviour rather
//! than an idealised one (checked against Debian's library with every split
//! of many bodies):
//!
//! - url-encoded: a value is reported piece by piece as bytes arrive (at the
//!   end of every `process` call, and in pieces of at most 512 undecoded
//!   bytes); a `%` escape cut by a chunk boundary is held back until it is
//!   complete. Every key gets at least one call (size 0 for `k`, `k=`).
//!   `+` and `%XX` are decoded in keys and values. `=v` (empty key), `k==`
//!   and data after a CR/LF fail. A key longer than the buffer fails. The
//!   value still open at the end is reported by [`PostProcessor::finish`].
//! - multipart: the part data is reported from a buffer of the size given
//!   at creation (plus 4), in pieces that end wherever the next boundary
//!   might begin; the first call of a part may have size 0. Part headers
//!   (`Content-Disposition` `name`/`filename`, `Content-Type`,
//!   `Content-Transfer-Encoding`) are reported with every piece. A part
//!   header line longer than the buffer, data that cannot move for lack of
//!   buffer space, garbage where a boundary must be, or data after the final
//!   boundary fail.
//! - errors are sticky: once `process` returned false it always does.
#![forbid(unsafe_code)]

use crate::http1::{unescape_in_place, unescape_plus_in_place};
use std::ffi::{CStr, CString};

/// What the application sees in one iterator call.
pub struct PostEvent<'a> {
    /// The field name (`NULL` in C when a multipart part has no name).
    pub key: Option<&'a CStr>,
    pub filename: Option<&'a CStr>,
    pub content_type: Option<&'a CStr>,
    pub transfer_encoding: Option<&'a CStr>,
    /// This piece of the value.
    pub data: &'a [u8],
    /// Offset of `data` within the whole value.
    pub off: u64,
}

/// Where a [`PostProcessor`] delivers values; `false` stops processing.
pub trait PostSink {
    fn value(&mut self, ev: &PostEvent<'_>) -> bool;
}

impl<F: FnMut(&PostEvent<'_>) -> bool> PostSink for F {
    fn value(&mut self, ev: &PostEvent<'_>) -> bool {
        self(ev)
    }
}

/// Why a processor could not be created (C: NULL).
#[derive(Debug, PartialEq, Eq)]
pub enum CreateError {
    /// Neither url-encoded nor multipart/form-data.
    UnsupportedEncoding,
    /// Multipart without a usable boundary, or one too long for the buffer.
    BadBoundary,
    /// `buffer_size` below 256.
    BufferTooSmall,
}

const FORM_URLENCODED: &[u8] = b"application/x-www-form-urlencoded";
const MULTIPART_FORMDATA: &[u8] = b"multipart/form-data";
/// Largest undecoded piece of a url-encoded value handed over at once.
const XBUF_SIZE: usize = 512;

fn starts_with_caseless(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The part of `s` before its first NUL (what C's string functions see).
fn c_view(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

fn cstring(s: &[u8]) -> CString {
    CString::new(c_view(s).to_vec()).unwrap_or_default()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Error,
    Done,
    Init,
    NextBoundary,
    // url-encoded
    ProcessKey,
    ProcessValue,
    Callback,
    // multipart
    ProcessEntryHeaders,
    PerformCheckMultipart,
    ProcessValueToBoundary,
    PerformCleanup,
    NestedInit,
    NestedPerformMarking,
    NestedProcessEntryHeaders,
    NestedProcessValueToBoundary,
    NestedPerformCleanup,
}

/// Line-end and dash skipping between multipart elements.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SkipRn {
    Inactive,
    /// After a CR: skip an optional LF.
    OptN,
    /// After a boundary: a "--" (end) or a line end.
    Dash,
    /// After the first '-' of "--".
    Dash2,
    /// A line end must follow.
    Full,
}

/// Which part header fields a nested part inherits from its enclosing part.
#[derive(Default, Clone, Copy)]
struct Have {
    name: bool,
    content_type: bool,
    filename: bool,
    transfer_encoding: bool,
}

#[derive(Default)]
struct PartFields {
    name: Option<CString>,
    filename: Option<CString>,
    content_type: Option<CString>,
    transfer_encoding: Option<CString>,
}

enum Kind {
    UrlEncoded,
    Multipart { boundary: Vec<u8> },
}

/// One POST body being parsed.
pub struct PostProcessor {
    kind: Kind,
    state: State,
    /// The application's buffer size plus 4.
    buffer_size: usize,
    /// url-encoded: the key so far (NUL-terminated when `key_ready`);
    /// multipart: buffered input.
    buf: Vec<u8>,
    // url-encoded
    must_unescape_key: bool,
    /// Up to 2 bytes of an escape sequence held back for the next call.
    xbuf: Vec<u8>,
    // both
    must_ikvi: bool,
    value_offset: u64,
    // multipart
    skip_rn: SkipRn,
    dash_state: State,
    fields: PartFields,
    have: Have,
    nested_boundary: Option<Vec<u8>>,
}

enum Bound {
    Outer,
    Nested,
}

impl PostProcessor {
    /// A processor for a request whose `Content-Type` is `content_type`
    /// (`None`: the request has none). `buffer_size` as given to
    /// `MHD_create_post_processor`.
    pub fn new(content_type: Option<&[u8]>, buffer_size: usize) -> Result<PostProcessor, CreateError> {
        if buffer_size < 256 {
            return Err(CreateError::BufferTooSmall);
        }
        let enc = c_view(content_type.ok_or(CreateError::UnsupportedEncoding)?);
        let kind = if starts_with_caseless(enc, FORM_URLENCODED) {
            Kind::UrlEncoded
        } else if starts_with_caseless(enc, MULTIPART_FORMDATA) {
            let rest = &enc[MULTIPART_FORMDATA.len()..];
            let at = find(rest, b"boundary=").ok_or(CreateError::BadBoundary)?;
            let mut b = &rest[at + b"boundary=".len()..];
            if b.len() < 2 || b.len() * 2 + 2 > buffer_size {
                return Err(CreateError::BadBoundary);
            }
            if b[0] == b'"' && b[b.len() - 1] == b'"' {
                b = &b[1..b.len() - 1];
            }
            Kind::Multipart { boundary: b.to_vec() }
        } else {
            return Err(CreateError::UnsupportedEncoding);
        };
        let buffer_size = buffer_size.saturating_add(4);
        Ok(PostProcessor {
            kind,
            state: State::Init,
            buffer_size,
            buf: Vec::new(),
            must_unescape_key: false,
            xbuf: Vec::with_capacity(2),
            must_ikvi: false,
            value_offset: 0,
            skip_rn: SkipRn::Inactive,
            dash_state: State::Init,
            fields: PartFields::default(),
            have: Have::default(),
            nested_boundary: None,
        })
    }

    /// Feeds the next piece of the body. `false`: the body is malformed or
    /// the sink asked to stop; every later call fails too.
    pub fn process(&mut self, data: &[u8], sink: &mut dyn PostSink) -> bool {
        if data.is_empty() {
            return true;
        }
        match self.kind {
            Kind::UrlEncoded => self.urlencoded(data, sink),
            Kind::Multipart { .. } => self.multipart(data, sink),
        }
    }

    /// The end of the body: reports a url-encoded value still open and
    /// says whether the body was complete and well-formed (C:
    /// `MHD_destroy_post_processor`'s result).
    pub fn finish(&mut self, sink: &mut dyn PostSink) -> bool {
        if self.state == State::ProcessValue {
            self.urlencoded(b"\n", sink);
        }
        self.xbuf.is_empty() && matches!(self.state, State::Done | State::Init)
    }

    // ------------------------------------------------------------------
    // application/x-www-form-urlencoded

    /// The key as C sees it (up to the first NUL after decoding).
    fn key_cstr(buf: &[u8]) -> Option<&CStr> {
        Some(CStr::from_bytes_until_nul(buf).unwrap_or(c""))
    }

    fn unescape_key(&mut self) {
        // The key buffer is NUL-terminated at its logical end; decoding
        // happens in place up to the first NUL, the rest is left as is.
        let end = self.buf.iter().position(|&b| b == 0).unwrap_or(self.buf.len());
        unescape_plus_in_place(&mut self.buf[..end]);
        let n = unescape_in_place(&mut self.buf[..end]);
        if n < end {
            self.buf[n] = 0;
        }
        self.must_unescape_key = false;
    }

    /// Appends raw key bytes; false if the key does not fit.
    fn push_key(&mut self, key: &[u8]) -> bool {
        // The buffer holds the key bytes plus a NUL.
        let pos = self.key_len();
        if pos + key.len() >= self.buffer_size {
            return false;
        }
        self.buf.truncate(pos);
        self.buf.extend_from_slice(key);
        self.buf.push(0);
        self.must_unescape_key = true;
        true
    }

    /// Bytes stored for the key so far (before decoding shrank it, as the
    /// original counts them).
    fn key_len(&self) -> usize {
        self.buf.len().saturating_sub(1)
    }

    fn reset_key(&mut self) {
        self.buf.clear();
    }

    /// Hands `[value]` (plus any escape held back before) to the sink in
    /// decoded pieces; `hold_from` marks an incomplete escape at the end to
    /// keep for the next call.
    fn process_value(&mut self, mut value: &[u8], hold_from: Option<usize>, sink: &mut dyn PostSink) {
        let mut x: Vec<u8> = Vec::with_capacity(XBUF_SIZE + 1);
        x.extend_from_slice(&self.xbuf);
        self.xbuf.clear();
        if let Some(h) = hold_from {
            if value.len() - h < 2 {
                self.xbuf.extend_from_slice(&value[h..]);
                value = &value[..h];
            }
        }
        while !value.is_empty() || self.must_ikvi || !x.is_empty() {
            let room = XBUF_SIZE - x.len();
            let take = value.len().min(room);
            x.extend_from_slice(&value[..take]);
            value = &value[take..];
            let full = x.len() == XBUF_SIZE;
            // An escape at the very end waits for more input, unless the
            // piece is full: then it is carried over to the next piece.
            let mut carry: Vec<u8> = Vec::new();
            let mut cut = false;
            let n = x.len();
            let esc = if n > 0 && x[n - 1] == b'%' {
                1
            } else if n > 1 && x[n - 2] == b'%' {
                2
            } else {
                0
            };
            if esc > 0 {
                carry.extend_from_slice(&x[n - esc..]);
                x.truncate(n - esc);
                if !full {
                    cut = true;
                    self.xbuf = carry.clone();
                    carry.clear();
                }
            }
            // Decoding stops at a NUL byte of the input, as in C.
            let end = x.iter().position(|&b| b == 0).unwrap_or(x.len());
            let len = if end != 0 {
                unescape_plus_in_place(&mut x[..end]);
                unescape_in_place(&mut x[..end])
            } else {
                0
            };
            if self.must_ikvi || len != 0 {
                self.must_ikvi = false;
                let ev = PostEvent {
                    key: Self::key_cstr(&self.buf),
                    filename: None,
                    content_type: None,
                    transfer_encoding: None,
                    data: &x[..len],
                    off: self.value_offset,
                };
                if !sink.value(&ev) {
                    self.state = State::Error;
                    return;
                }
            }
            self.value_offset += len as u64;
            if cut {
                break;
            }
            x.clear();
            x.extend_from_slice(&carry);
        }
    }

    fn urlencoded(&mut self, data: &[u8], sink: &mut dyn PostSink) -> bool {
        let len = data.len();
        let mut poff = 0usize;
        let mut start_key: Option<usize> = None;
        let mut end_key: Option<usize> = None;
        let mut start_value: Option<usize> = None;
        let mut end_value: Option<usize> = None;
        let mut last_escape: Option<usize> = None;
        while (poff < len || self.state == State::Callback) && self.state != State::Error {
            match self.state {
                State::Init => match data[poff] {
                    b'=' => self.state = State::Error,
                    b'&' => poff += 1,
                    b'\n' | b'\r' => {
                        self.state = State::Done;
                        poff += 1;
                    }
                    _ => {
                        self.state = State::ProcessKey;
                        start_key = Some(poff);
                        self.must_ikvi = true;
                        poff += 1;
                    }
                },
                State::ProcessKey => match data[poff] {
                    b'=' => {
                        if poff != 0 {
                            end_key = Some(poff);
                        }
                        poff += 1;
                        self.state = State::ProcessValue;
                    }
                    b'&' => {
                        if poff != 0 {
                            end_key = Some(poff);
                        }
                        poff += 1;
                        self.state = State::Callback;
                    }
                    b'\n' | b'\r' => {
                        if poff != 0 {
                            end_key = Some(poff);
                        }
                        self.state = State::Callback;
                    }
                    _ => {
                        if poff == 0 {
                            start_key = Some(0);
                        }
                        poff += 1;
                    }
                },
                State::ProcessValue => {
                    let sv = *start_value.get_or_insert(poff);
                    match data[poff] {
                        b'=' => self.state = State::Error,
                        b'&' => {
                            end_value = Some(poff);
                            poff += 1;
                            if self.must_ikvi || sv != poff - 1 {
                                self.state = State::Callback;
                            } else {
                                self.reset_key();
                                self.value_offset = 0;
                                self.state = State::Init;
                                start_value = None;
                                end_value = None;
                            }
                        }
                        b'\n' | b'\r' => {
                            end_value = Some(poff);
                            if self.must_ikvi || sv != poff {
                                self.state = State::Callback;
                            } else {
                                poff += 1;
                                self.state = State::Done;
                            }
                        }
                        b'%' => {
                            last_escape = Some(poff);
                            poff += 1;
                        }
                        b'0'..=b'9' => poff += 1,
                        _ => {
                            last_escape = None;
                            poff += 1;
                        }
                    }
                }
                State::Done => match data[poff] {
                    b'\n' | b'\r' => poff += 1,
                    _ => self.state = State::Error,
                },
                State::Callback => {
                    if let (Some(s), Some(e)) = (start_key, end_key) {
                        if e > s {
                            if !self.push_key(&data[s..e]) {
                                self.state = State::Error;
                                continue;
                            }
                            start_key = None;
                            end_key = None;
                        }
                    }
                    if self.must_unescape_key {
                        self.unescape_key();
                    }
                    let value = match (start_value, end_value) {
                        (Some(s), Some(e)) => &data[s..e],
                        _ => &data[0..0],
                    };
                    self.process_value(value, None, sink);
                    if self.state == State::Error {
                        continue;
                    }
                    self.value_offset = 0;
                    start_value = None;
                    end_value = None;
                    self.reset_key();
                    self.state = State::Init;
                }
                _ => self.state = State::Error,
            }
        }
        if self.state == State::Error {
            return false;
        }
        // Keep what this call saw of an unfinished key or value.
        if let Some(s) = start_key {
            let e = end_key.unwrap_or(poff);
            if !self.push_key(&data[s..e]) {
                self.state = State::Error;
                return false;
            }
        }
        if let (Some(s), State::ProcessValue) = (start_value, self.state) {
            if self.must_unescape_key {
                self.unescape_key();
            }
            let e = end_value.unwrap_or(poff);
            let hold = last_escape.filter(|&l| e - l <= 2).and_then(|l| l.checked_sub(s));
            self.process_value(&data[s..e], hold, sink);
            self.must_ikvi = false;
        }
        self.state != State::Error
    }

    // ------------------------------------------------------------------
    // multipart/form-data

    fn boundary(&self, which: &Bound) -> Option<Vec<u8>> {
        match which {
            Bound::Outer => match &self.kind {
                Kind::Multipart { boundary } => Some(boundary.clone()),
                Kind::UrlEncoded => None,
            },
            Bound::Nested => self.nested_boundary.clone(),
        }
    }

    /// Looks for "--boundary" at the start of the buffer.
    fn find_boundary(&mut self, which: Bound, ioff: &mut usize, next: State, next_dash: State) -> bool {
        let Some(b) = self.boundary(&which) else {
            self.state = State::Error;
            return false;
        };
        let pos = self.buf.len();
        if pos < 2 + b.len() {
            if pos == self.buffer_size {
                self.state = State::Error;
            }
            return false;
        }
        if &self.buf[..2] != b"--" || self.buf[2..2 + b.len()] != b[..] {
            if self.state != State::Init {
                self.state = State::Error;
            } else {
                // Skip a preamble (RFC 2046 5.1.1) up to a possible boundary.
                match self.buf.iter().position(|&c| c == b'-') {
                    None => *ioff += pos,
                    Some(0) => *ioff += 1,
                    Some(d) => *ioff += d,
                }
            }
            return false;
        }
        *ioff += 2 + b.len();
        self.skip_rn = SkipRn::Dash;
        self.state = next;
        self.dash_state = next_dash;
        true
    }

    /// `name="value"` in a Content-Disposition line (no escapes; the name
    /// must start the line or follow a space).
    fn quoted_param(line: &[u8], key: &[u8]) -> Option<CString> {
        let mut from = 0;
        while let Some(i) = find(&line[from..], key).map(|i| i + from) {
            let after = i + key.len();
            if line.get(after) != Some(&b'=') || (i != 0 && line[i - 1] != b' ') {
                from = i + 1;
                continue;
            }
            if line.get(after + 1) != Some(&b'"') {
                return None;
            }
            let v = &line[after + 2..];
            let q = v.iter().position(|&c| c == b'"')?;
            return Some(cstring(&v[..q]));
        }
        None
    }

    /// The rest of `line` after the first (caseless) occurrence of `prefix`.
    fn header_suffix(line: &[u8], prefix: &[u8]) -> Option<CString> {
        (0..line.len()).find(|&i| starts_with_caseless(&line[i..], prefix)).map(|i| cstring(&line[i + prefix.len()..]))
    }

    /// One header line of a part; false when more data is needed (or on error).
    fn process_headers(&mut self, ioff: &mut usize, next: State) -> bool {
        let pos = self.buf.len();
        let newline = self.buf.iter().position(|&c| c == b'\r' || c == b'\n').unwrap_or(pos);
        if newline == self.buffer_size {
            self.state = State::Error;
            return false;
        }
        if newline == pos {
            return false;
        }
        if newline == 0 {
            self.skip_rn = SkipRn::Full;
            self.state = next;
            return true;
        }
        if self.buf[newline] == b'\r' {
            self.skip_rn = SkipRn::OptN;
        }
        let line = c_view(&self.buf[..newline]).to_vec();
        const CD: &[u8] = b"Content-disposition: ";
        if starts_with_caseless(&line, CD) {
            let rest = &line[CD.len()..];
            if self.fields.name.is_none() {
                self.fields.name = Self::quoted_param(rest, b"name");
            }
            if self.fields.filename.is_none() {
                self.fields.filename = Self::quoted_param(rest, b"filename");
            }
        } else {
            if self.fields.content_type.is_none() {
                self.fields.content_type = Self::header_suffix(&line, b"Content-type: ");
            }
            if self.fields.transfer_encoding.is_none() {
                self.fields.transfer_encoding = Self::header_suffix(&line, b"Content-Transfer-Encoding: ");
            }
        }
        *ioff += newline + 1;
        true
    }

    /// Reports the part data up to the next "\r\n--boundary" (or as far as
    /// is surely not part of one).
    fn value_to_boundary(&mut self, which: Bound, ioff: &mut usize, next: State, next_dash: State, sink: &mut dyn PostSink) -> bool {
        let Some(b) = self.boundary(&which) else {
            self.state = State::Error;
            return false;
        };
        let blen = b.len();
        let pos = self.buf.len();
        let mut newline = 0usize;
        loop {
            while newline + 4 < pos {
                match self.buf[newline..pos - 4].iter().position(|&c| c == b'\r') {
                    None => {
                        newline = pos - 4;
                        break;
                    }
                    Some(r) => {
                        newline += r;
                        if &self.buf[newline..newline + 4] == b"\r\n--" {
                            break;
                        }
                        newline += 1;
                    }
                }
            }
            if newline + blen + 4 <= pos {
                if self.buf[newline + 4..newline + 4 + blen] != b[..] {
                    newline += 4;
                    continue;
                }
                self.skip_rn = SkipRn::Dash;
                self.state = next;
                self.dash_state = next_dash;
                *ioff += blen + 4;
                break;
            }
            if newline == 0 && pos == self.buffer_size {
                self.state = State::Error;
                return false;
            }
            break;
        }
        if self.must_ikvi || newline != 0 {
            let f = &self.fields;
            let ev = PostEvent {
                key: f.name.as_deref(),
                filename: f.filename.as_deref(),
                content_type: f.content_type.as_deref(),
                transfer_encoding: f.transfer_encoding.as_deref(),
                data: &self.buf[..newline],
                off: self.value_offset,
            };
            if !sink.value(&ev) {
                self.state = State::Error;
                return false;
            }
        }
        self.must_ikvi = false;
        self.value_offset += newline as u64;
        *ioff += newline;
        true
    }

    /// Forgets the part header fields not inherited from an enclosing part.
    fn free_unmarked(&mut self) {
        let h = self.have;
        if !h.name {
            self.fields.name = None;
        }
        if !h.content_type {
            self.fields.content_type = None;
        }
        if !h.filename {
            self.fields.filename = None;
        }
        if !h.transfer_encoding {
            self.fields.transfer_encoding = None;
        }
    }

    fn multipart(&mut self, data: &[u8], sink: &mut dyn PostSink) -> bool {
        let len = data.len();
        let mut ioff = 0usize;
        let mut poff = 0usize;
        let mut state_changed = true;
        'outer: while poff < len || (!self.buf.is_empty() && state_changed) {
            let max = (self.buffer_size - self.buf.len()).min(len - poff);
            self.buf.extend_from_slice(&data[poff..poff + max]);
            poff += max;
            if max == 0 && !state_changed && poff < len {
                self.state = State::Error;
                return false;
            }
            state_changed = false;

            // Line ends and dashes between elements.
            let Some(&first) = self.buf.first() else { break };
            let mut again = false;
            let mut rn = self.skip_rn;
            if rn == SkipRn::OptN {
                if first == b'\n' {
                    ioff += 1;
                    self.skip_rn = SkipRn::Inactive;
                    again = true;
                } else {
                    rn = SkipRn::Dash;
                }
            }
            if !again && rn == SkipRn::Dash {
                if first == b'-' {
                    ioff += 1;
                    self.skip_rn = SkipRn::Dash2;
                    again = true;
                } else {
                    self.skip_rn = SkipRn::Full;
                    rn = SkipRn::Full;
                }
            }
            if !again && rn == SkipRn::Full {
                if first == b'\r' {
                    if self.buf.len() > 1 && self.buf[1] == b'\n' {
                        self.skip_rn = SkipRn::Inactive;
                        ioff += 2;
                    } else {
                        self.skip_rn = SkipRn::OptN;
                        ioff += 1;
                    }
                    again = true;
                } else if first == b'\n' {
                    ioff += 1;
                    self.skip_rn = SkipRn::Inactive;
                    again = true;
                } else {
                    self.skip_rn = SkipRn::Inactive;
                    self.state = State::Error;
                    return false;
                }
            }
            if !again && rn == SkipRn::Dash2 {
                if first == b'-' {
                    ioff += 1;
                    self.skip_rn = SkipRn::Full;
                    self.state = self.dash_state;
                    again = true;
                } else {
                    self.state = State::Error;
                }
            }

            if !again {
                match self.state {
                    State::Error => return false,
                    State::Done => {
                        self.state = State::Error;
                        return false;
                    }
                    State::Init => {
                        self.find_boundary(Bound::Outer, &mut ioff, State::ProcessEntryHeaders, State::Done);
                    }
                    State::NextBoundary => {
                        if !self.find_boundary(Bound::Outer, &mut ioff, State::ProcessEntryHeaders, State::Done) {
                            if self.state == State::Error {
                                return false;
                            }
                            break 'outer;
                        }
                    }
                    State::ProcessEntryHeaders => {
                        self.must_ikvi = true;
                        if !self.process_headers(&mut ioff, State::PerformCheckMultipart) {
                            if self.state == State::Error {
                                return false;
                            }
                            break 'outer;
                        }
                        state_changed = true;
                    }
                    State::PerformCheckMultipart => {
                        let nested = self
                            .fields
                            .content_type
                            .as_ref()
                            .map(|ct| ct.to_bytes())
                            .filter(|ct| starts_with_caseless(ct, b"multipart/mixed"))
                            .map(|ct| find(ct, b"boundary=").map(|i| ct[i + b"boundary=".len()..].to_vec()));
                        match nested {
                            Some(None) => {
                                self.state = State::Error;
                                return false;
                            }
                            Some(Some(nb)) => {
                                self.nested_boundary = Some(nb);
                                self.fields.content_type = None;
                                self.state = State::NestedInit;
                            }
                            None => {
                                self.state = State::ProcessValueToBoundary;
                                self.value_offset = 0;
                            }
                        }
                        state_changed = true;
                    }
                    State::ProcessValueToBoundary => {
                        if !self.value_to_boundary(Bound::Outer, &mut ioff, State::PerformCleanup, State::Done, sink)
                            && self.state == State::Error
                        {
                            return false;
                        }
                    }
                    State::PerformCleanup => {
                        self.have = Have::default();
                        self.free_unmarked();
                        self.nested_boundary = None;
                        self.state = State::ProcessEntryHeaders;
                        state_changed = true;
                    }
                    State::NestedInit => {
                        if self.nested_boundary.is_none() {
                            self.state = State::Error;
                            return false;
                        }
                        if !self.find_boundary(Bound::Nested, &mut ioff, State::NestedPerformMarking, State::NextBoundary) {
                            if self.state == State::Error {
                                return false;
                            }
                            break 'outer;
                        }
                    }
                    State::NestedPerformMarking => {
                        let f = &self.fields;
                        self.have = Have {
                            name: f.name.is_some(),
                            content_type: f.content_type.is_some(),
                            filename: f.filename.is_some(),
                            transfer_encoding: f.transfer_encoding.is_some(),
                        };
                        self.state = State::NestedProcessEntryHeaders;
                        state_changed = true;
                    }
                    State::NestedProcessEntryHeaders => {
                        self.value_offset = 0;
                        if !self.process_headers(&mut ioff, State::NestedProcessValueToBoundary) {
                            if self.state == State::Error {
                                return false;
                            }
                            break 'outer;
                        }
                        state_changed = true;
                    }
                    State::NestedProcessValueToBoundary => {
                        if !self.value_to_boundary(
                            Bound::Nested,
                            &mut ioff,
                            State::NestedPerformCleanup,
                            State::NextBoundary,
                            sink,
                        ) && self.state == State::Error
                        {
                            return false;
                        }
                    }
                    State::NestedPerformCleanup => {
                        self.free_unmarked();
                        self.state = State::NestedProcessEntryHeaders;
                        state_changed = true;
                    }
                    State::ProcessKey | State::ProcessValue | State::Callback => {
                        self.state = State::Error;
                        return false;
                    }
                }
            }
            // AGAIN
            if ioff > 0 {
                self.buf.drain(..ioff);
                ioff = 0;
                state_changed = true;
            }
        }
        // END
        if ioff != 0 {
            self.buf.drain(..ioff);
        }
        if poff < len {
            self.state = State::Error;
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests;
