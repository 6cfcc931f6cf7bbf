//! Response objects: headers, footers and a body source, reference-counted
//! so one response can be queued on many connections in many threads.

#![forbid(unsafe_code)]

mod connection;

use crate::ffi::foreign::ForeignBytes;
use crate::ffi::hooks::{ContentReader, FreeCallback, UpgradeHook};
use std::os::fd::RawFd;
use crate::http1::{BodySize, Compat, ReplyFraming, Version};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

/// Response flags (`enum MHD_ResponseFlags`).
pub mod flags {
    pub const HTTP_VERSION_1_0_ONLY: u32 = 1;
    pub const HTTP_VERSION_1_0_RESPONSE: u32 = 2;
    pub const INSANITY_HEADER_CONTENT_LENGTH: u32 = 4;
    pub const SEND_KEEP_ALIVE_HEADER: u32 = 8;
    pub const ALL: u32 = 15;
}

/// One header or footer line; both strings NUL-terminated for C.
pub struct Field {
    pub footer: bool,
    name: Box<[u8]>,
    value: Box<[u8]>,
}

impl Field {
    pub fn name(&self) -> &[u8] {
        &self.name[..self.name.len() - 1]
    }
    pub fn value(&self) -> &[u8] {
        &self.value[..self.value.len() - 1]
    }
    pub fn name_with_nul(&self) -> &[u8] {
        &self.name
    }
    pub fn value_with_nul(&self) -> &[u8] {
        &self.value
    }
}

fn with_nul(s: &[u8]) -> Box<[u8]> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s);
    v.push(0);
    v.into_boxed_slice()
}

/// Where the body comes from.
pub enum Body {
    /// Bytes we copied (MHD_RESPMEM_MUST_COPY) or own.
    Owned(Vec<u8>),
    /// Bytes the application owns or gave us.
    Foreign(ForeignBytes),
    /// Produced on demand by the application's content reader.
    Reader { reader: ContentReader, free: Option<FreeCallback>, block_size: usize, size: Option<u64> },
    /// A range of a regular file (sent with sendfile on plain sockets).
    File { fd: RawFd, offset: u64, size: u64 },
    /// A pipe read until end of file.
    Pipe { fd: RawFd },
    /// Several application buffers sent in order.
    Iovec { parts: Vec<ForeignBytes>, size: u64, release: Option<ForeignBytes> },
    /// A 101 response after which the connection speaks the application's
    /// protocol through the event-mask upgrade handler (design/UPGRADE.md).
    Upgrade(UpgradeHook),
}

pub struct Response {
    fields: Mutex<Vec<Field>>,
    /// Bumped (under the `fields` lock) by every change of the fields, so
    /// a cached head knows whether it is still what they encode to.
    generation: AtomicU64,
    /// The last head encoded for this response (see `CachedHead`).
    head: Mutex<Option<CachedHead>>,
    pub body: Body,
    flags: AtomicU32,
}

/// What an encoded reply head depends on besides the response's fields.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HeadKey {
    pub status: u32,
    pub version: Version,
    pub head_request: bool,
    pub keep_alive: bool,
    pub size: BodySize,
    /// The library writes a Date header (its value is patched in per reply).
    pub date: bool,
    /// The response's flags as they were when the head was encoded.
    pub compat: Compat,
}

/// A response queued on many requests encodes to the same head every
/// time but for the Date value: the head is kept and copied, and the
/// date overwritten at `date_at`.
pub struct CachedHead {
    key: HeadKey,
    generation: u64,
    pub bytes: Vec<u8>,
    /// Where the library's Date value starts, if it wrote one.
    pub date_at: Option<usize>,
    pub framing: ReplyFraming,
}

/// Why a header was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum FieldError {
    Invalid,
}

fn valid_name(n: &[u8]) -> bool {
    !n.is_empty() && n.iter().all(|&b| b > b' ' && b < 0x7f && b != b':')
}

fn valid_value(v: &[u8]) -> bool {
    !v.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0)
}

impl Response {
    /// The upgrade handler, for a response made by MHD_create_response_for_upgrade.
    pub fn upgrade_hook(&self) -> Option<UpgradeHook> {
        match &self.body {
            Body::Upgrade(h) => Some(*h),
            _ => None,
        }
    }

    pub fn new(body: Body) -> Response {
        Response { fields: Mutex::new(Vec::new()), generation: AtomicU64::new(0), head: Mutex::new(None), body, flags: AtomicU32::new(0) }
    }

    /// Body length when known in advance.
    pub fn size(&self) -> Option<u64> {
        match &self.body {
            Body::Owned(v) => Some(v.len() as u64),
            Body::Foreign(f) => Some(f.as_slice().len() as u64),
            Body::Reader { size, .. } => *size,
            Body::File { size, .. } => Some(*size),
            Body::Pipe { .. } => None,
            Body::Iovec { size, .. } => Some(*size),
            Body::Upgrade(_) => Some(0),
        }
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// What the flags ask of the reply head.
    pub fn compat(&self) -> Compat {
        let f = self.flags();
        Compat {
            strict_http10: f & flags::HTTP_VERSION_1_0_ONLY != 0,
            http10_server: f & flags::HTTP_VERSION_1_0_RESPONSE != 0,
            keep_alive_header: f & flags::SEND_KEEP_ALIVE_HEADER != 0,
        }
    }

    pub fn set_flags(&self, f: u32) {
        self.flags.store(f, Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Field>> {
        // A panic while holding the lock leaves the list consistent (every
        // operation is a single push/remove), so poisoning is ignored.
        self.fields.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, footer: bool, name: &[u8], value: &[u8]) -> Result<(), FieldError> {
        // As libmicrohttpd 0.9.75: no empty values, no CR/LF (header
        // injection); a colon in a name would forge a header, so it is refused too.
        if !valid_name(name) || !valid_value(value) || value.is_empty() {
            return Err(FieldError::Invalid);
        }
        if !footer && !self.framing_header_allowed(name, value) {
            return Err(FieldError::Invalid);
        }
        let mut f = self.lock();
        if !footer {
            let is_named = |h: &Field, n: &[u8]| !h.footer && h.name().eq_ignore_ascii_case(n);
            if name.eq_ignore_ascii_case(b"connection") {
                // One normalised field, first among the headers (connection.rs).
                let at = f.iter().position(|h| is_named(h, b"connection"));
                let old = at.map(|i| f[i].value());
                let Some(v) = connection::after_add(old, value, self.upgrade_hook().is_some()).map_err(|()| FieldError::Invalid)? else {
                    return Ok(());
                };
                let field = Field { footer, name: with_nul(b"Connection"), value: with_nul(&v) };
                match at {
                    Some(i) => f[i] = field,
                    None => f.insert(0, field),
                }
                self.generation.fetch_add(1, Ordering::AcqRel);
                return Ok(());
            }
            // As 0.9.75: a second `chunked` is already there; a new Date
            // replaces the old one.
            if name.eq_ignore_ascii_case(b"transfer-encoding") && f.iter().any(|h| is_named(h, b"transfer-encoding")) {
                return Ok(());
            }
            if name.eq_ignore_ascii_case(b"date") {
                f.retain(|h| !is_named(h, b"date"));
            }
        }
        f.push(Field { footer, name: with_nul(name), value: with_nul(value) });
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// The library owns the framing: like 0.9.75 it refuses a
    /// Content-Length header (unless MHD_RF_INSANITY_HEADER_CONTENT_LENGTH)
    /// and any Transfer-Encoding but `chunked` (`Connection: keep-alive`:
    /// connection.rs).
    fn framing_header_allowed(&self, name: &[u8], value: &[u8]) -> bool {
        if name.eq_ignore_ascii_case(b"content-length") {
            return self.flags() & flags::INSANITY_HEADER_CONTENT_LENGTH != 0;
        }
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return value.eq_ignore_ascii_case(b"chunked");
        }
        true
    }

    /// Removes the first field with exactly this name and value; for the
    /// `Connection` header, the tokens `value` lists (connection.rs).
    pub fn delete(&self, footer: bool, name: &[u8], value: &[u8]) -> bool {
        let mut f = self.lock();
        if !footer && name.eq_ignore_ascii_case(b"connection") {
            let Some(i) = f.iter().position(|h| !h.footer && h.name().eq_ignore_ascii_case(name)) else { return false };
            let Some(v) = connection::after_delete(f[i].value(), value) else { return false };
            if v.is_empty() {
                f.remove(i);
            } else {
                f[i].value = with_nul(&v);
            }
            self.generation.fetch_add(1, Ordering::AcqRel);
            return true;
        }
        if let Some(i) = f.iter().position(|h| h.footer == footer && h.name().eq_ignore_ascii_case(name) && h.value() == value) {
            f.remove(i);
            self.generation.fetch_add(1, Ordering::AcqRel);
            true
        } else {
            false
        }
    }

    /// Calls `f` with each field in order while holding the lock; the
    /// strings' addresses stay valid after the lock is released.
    pub fn with_fields<R>(&self, f: impl FnOnce(&[Field]) -> R) -> R {
        f(&self.lock())
    }

    /// Runs `hit` on the cached head if it was encoded for `key` from the
    /// fields as they are now; None on a miss.
    pub fn with_cached_head<R>(&self, key: &HeadKey, hit: impl FnOnce(&CachedHead) -> R) -> Option<R> {
        let c = self.head.lock().unwrap_or_else(|e| e.into_inner());
        match c.as_ref() {
            Some(h) if h.key == *key && h.generation == self.generation.load(Ordering::Acquire) => Some(hit(h)),
            _ => None,
        }
    }

    /// Encodes the head with `encode` from the current fields (under their
    /// lock, so no change slips between the encoding and its generation)
    /// and keeps the result for the next reply with the same key.
    pub fn encode_and_cache<E>(
        &self,
        key: HeadKey,
        out: &mut Vec<u8>,
        encode: impl FnOnce(&[Field], &mut Vec<u8>) -> Result<(ReplyFraming, Option<usize>), E>,
    ) -> Result<ReplyFraming, E> {
        let start = out.len();
        let fields = self.lock();
        let generation = self.generation.load(Ordering::Acquire);
        let (framing, date_at) = encode(&fields, out)?;
        drop(fields);
        let bytes = out[start..].to_vec();
        *self.head.lock().unwrap_or_else(|e| e.into_inner()) = Some(CachedHead { key, generation, bytes, date_at, framing });
        Ok(framing)
    }
}

impl Drop for Response {
    fn drop(&mut self) {
        match &self.body {
            Body::Reader { free: Some(free), .. } => free.call(),
            Body::File { fd, .. } | Body::Pipe { fd } => crate::sys::close(*fd),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_headers_are_the_library_s() {
        let r = Response::new(Body::Owned(Vec::new()));
        assert!(r.add(false, b"Content-Length", b"5").is_err());
        assert!(r.add(false, b"Connection", b"Keep-Alive").is_err());
        assert!(r.add(false, b"Transfer-Encoding", b"gzip").is_err());
        assert!(r.add(false, b"Transfer-Encoding", b"chunked").is_ok());
        assert!(r.add(false, b"Connection", b"close").is_ok());
        assert!(r.add(false, b"X-A", b"").is_err());
        assert!(r.add(false, b"X-A", b"b\r\nInjected: yes").is_err());
        assert!(r.add(false, b"X:A", b"b").is_err());
        assert!(r.add(true, b"Content-Length", b"1").is_ok(), "footers are not framing");
        r.set_flags(flags::INSANITY_HEADER_CONTENT_LENGTH);
        assert!(r.add(false, b"Content-Length", b"5").is_ok());
    }

    #[test]
    fn cached_head_is_dropped_when_the_fields_change() {
        let r = Response::new(Body::Owned(b"hi".to_vec()));
        let key = HeadKey { status: 200, version: Version::Http11, head_request: false, keep_alive: true, size: BodySize::Known(2), date: false, compat: Compat::default() };
        let framing = ReplyFraming { body: crate::http1::BodyFraming::Length(2), keep_alive: true };
        let enc = |fs: &[Field], out: &mut Vec<u8>| -> Result<_, ()> {
            out.extend_from_slice(format!("HEAD {}", fs.len()).as_bytes());
            Ok((framing, None))
        };
        let mut out = Vec::new();
        assert!(r.with_cached_head(&key, |_| ()).is_none());
        r.encode_and_cache(key, &mut out, enc).unwrap();
        assert_eq!(r.with_cached_head(&key, |h| h.bytes.clone()), Some(b"HEAD 0".to_vec()));
        assert!(r.with_cached_head(&HeadKey { keep_alive: false, ..key }, |_| ()).is_none(), "another key misses");
        r.add(false, b"X-A", b"1").unwrap();
        assert!(r.with_cached_head(&key, |_| ()).is_none(), "a new header invalidates");
        out.clear();
        r.encode_and_cache(key, &mut out, enc).unwrap();
        assert_eq!(r.with_cached_head(&key, |h| h.bytes.clone()), Some(b"HEAD 1".to_vec()));
        assert!(r.delete(false, b"X-A", b"1"));
        assert!(r.with_cached_head(&key, |_| ()).is_none(), "a deleted header invalidates");
    }

    #[test]
    fn delete_matches_name_case_insensitively_and_value_exactly() {
        let r = Response::new(Body::Owned(Vec::new()));
        r.add(false, b"X-A", b"1").unwrap();
        assert!(!r.delete(false, b"x-a", b"2"));
        assert!(r.delete(false, b"x-a", b"1"));
        assert!(r.with_fields(|f| f.is_empty()));
    }
}
