//! HTTP authentication as libmicrohttpd 0.9.75 does it: Basic (RFC 7617)
//! credentials and challenge, and Digest (RFC 2617 / RFC 7616 with MD5 or
//! SHA-256, `qop=auth` only): parsing of the `Authorization` header, the
//! server nonce, the nonce-count table, and the response check.
//!
//! Sans-I/O: the C layer hands in the header, the request's method, URL and
//! GET arguments, the daemon's random bytes and clock; nothing here touches
//! a connection.
//!
//! Behaviour kept from 0.9.75 (observed with Debian's library):
//! - `Basic ` and `Digest ` prefixes are case-sensitive and take exactly one
//!   space; Basic credentials must be base64 of a length that is a multiple
//!   of 4 (other bytes are not rejected, see [`base64_decode`]) and contain
//!   a `:`; the user name may be empty.
//! - Digest parameters: `name=value` or `name="value"` (no backslash
//!   escapes), names caseless; a value is cut to the buffer 0.9.75 uses
//!   (user name 127 bytes, realm 255, nonce and cnonce 128, nc 19, qop 14,
//!   response 255); an empty value counts as missing.
//! - The nonce is hex(H(timestamp ":" method ":" random ":" url ":" realm))
//!   followed by the 32-bit timestamp (seconds of a monotonic clock) in 8 hex
//!   digits. A nonce older than the timeout, or one the server did not make
//!   (for this method, URL, realm and algorithm), is `InvalidNonce`; a
//!   replayed or evicted nonce count is `No`.
//! - The nonce-count table has `MHD_OPTION_NONCE_NC_SIZE` slots (default
//!   4), chosen by a hash of the nonce; a newer nonce in the same slot
//!   evicts the older. Counts may arrive out of order within 64.
//! - The `uri` parameter must name the request's URL (after unescaping) and
//!   carry exactly the request's GET arguments.
#![forbid(unsafe_code)]

use openssl::hash::{Hasher, MessageDigest};
use std::sync::Mutex;

#[cfg(test)]
mod tests;

/// Seconds of the monotonic clock that stamps nonces (counted from the
/// first use, as 0.9.75 counts from the library's start).
pub fn monotonic_secs() -> u32 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs() as u32
}

// ---------------------------------------------------------------------------
// Basic

/// Decodes base64 the way 0.9.75 does: the length must be a multiple of 4;
/// `=` at the third or fourth place of a group ends the data; any other
/// byte outside the alphabet counts as `A` (0), and a misplaced `=` as the
/// bit pattern of its marker (all ones). The result is what C sees: up to
/// the first NUL.
pub fn base64_decode(src: &[u8]) -> Option<Vec<u8>> {
    const PAD: u8 = 0xff;
    fn val(c: u8) -> u8 {
        match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => PAD,
            _ => 0,
        }
    }
    if src.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    for g in src.chunks(4) {
        let (a, b, c, d) = (val(g[0]), val(g[1]), val(g[2]), val(g[3]));
        out.push((a << 2) | ((b & 0x30) >> 4));
        if c == PAD {
            break;
        }
        out.push(((b & 0x0f) << 4) | ((c & 0x3c) >> 2));
        if d == PAD {
            break;
        }
        out.push(((c & 0x03) << 6) | d);
    }
    if let Some(n) = out.iter().position(|&x| x == 0) {
        out.truncate(n);
    }
    Some(out)
}

/// User name and password of an `Authorization: Basic ...` header value.
pub fn basic_credentials(header: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let b64 = header.strip_prefix(b"Basic ")?;
    let decoded = base64_decode(c_view(b64))?;
    let colon = decoded.iter().position(|&c| c == b':')?;
    Some((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}

/// The `WWW-Authenticate` value asking for Basic credentials.
pub fn basic_challenge(realm: &[u8]) -> Vec<u8> {
    let mut v = b"Basic realm=\"".to_vec();
    v.extend_from_slice(realm);
    v.push(b'"');
    v
}

// ---------------------------------------------------------------------------
// Digest

/// Hash algorithm of digest authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    /// Size of the binary digest.
    pub fn digest_size(self) -> usize {
        match self {
            Algorithm::Md5 => 16,
            Algorithm::Sha256 => 32,
        }
    }

    /// The name in the challenge's `algorithm=` parameter.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha256 => "sha-256",
        }
    }

    /// The binary hash of the concatenation of `parts`.
    pub fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        let md = match self {
            Algorithm::Md5 => MessageDigest::md5(),
            Algorithm::Sha256 => MessageDigest::sha256(),
        };
        let run = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
            let mut h = Hasher::new(md)?;
            for p in parts {
                h.update(p)?;
            }
            Ok(h.finish()?.to_vec())
        };
        // OpenSSL only fails here when out of memory or with a broken build.
        run().expect("OpenSSL digest")
    }

    /// The lowercase hex hash of the concatenation of `parts`.
    pub fn hex(self, parts: &[&[u8]]) -> String {
        to_hex(&self.hash(parts))
    }
}

pub fn to_hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(D[(x >> 4) as usize] as char);
        s.push(D[(x & 15) as usize] as char);
    }
    s
}

/// The part of `s` before its first NUL (what C's string functions see).
fn c_view(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

/// Largest nonce the nonce-count table stores (0.9.75's MAX_NONCE_LENGTH 129, with NUL).
pub const MAX_NONCE_LENGTH: usize = 129;
const MAX_USERNAME_LENGTH: usize = 128;
const MAX_REALM_LENGTH: usize = 256;
const MAX_AUTH_RESPONSE_LENGTH: usize = 256;

/// The value of parameter `key` in the parameters of a Digest header,
/// cut to `size - 1` bytes; `None` when missing or empty.
pub fn param(data: &[u8], key: &[u8], size: usize) -> Option<Vec<u8>> {
    let data = c_view(data);
    let find = |from: usize, c: u8| data[from..].iter().position(|&x| x == c).map(|i| i + from);
    let mut ptr = 0usize;
    while ptr < data.len() {
        let eq = find(ptr, b'=')?;
        let mut q1 = eq + 1;
        while data.get(q1) == Some(&b' ') {
            q1 += 1;
        }
        let (q2, qn) = if data.get(q1) != Some(&b'"') {
            let q2 = find(q1, b',');
            (q2, q2)
        } else {
            q1 += 1;
            let q2 = find(q1, b'"')?;
            (Some(q2), Some(q2 + 1))
        };
        let name_matches = data.len() - ptr >= key.len() && data[ptr..ptr + key.len()].eq_ignore_ascii_case(key) && eq == ptr + key.len();
        if name_matches {
            let end = q2.unwrap_or(data.len());
            let v = &data[q1..end];
            let v = &v[..v.len().min(size.saturating_sub(1))];
            return if v.is_empty() { None } else { Some(v.to_vec()) };
        }
        let qn = qn?;
        ptr = find(qn, b',')? + 1;
        while data.get(ptr) == Some(&b' ') {
            ptr += 1;
        }
    }
    None
}

/// The server nonce for `timestamp`.
pub fn calculate_nonce(timestamp: u32, method: &[u8], random: &[u8], url: &[u8], realm: &[u8], algo: Algorithm) -> String {
    let ts = timestamp.to_be_bytes();
    let mut n = algo.hex(&[&ts, b":", method, b":", random, b":", url, b":", realm]);
    n.push_str(&to_hex(&ts));
    n
}

/// The `WWW-Authenticate` value of a Digest challenge.
pub fn digest_challenge(realm: &[u8], nonce: &str, opaque: &[u8], algo: Algorithm, stale: bool) -> Vec<u8> {
    let mut v = b"Digest realm=\"".to_vec();
    v.extend_from_slice(realm);
    v.extend_from_slice(b"\",qop=\"auth\",nonce=\"");
    v.extend_from_slice(nonce.as_bytes());
    v.extend_from_slice(b"\",opaque=\"");
    v.extend_from_slice(opaque);
    v.extend_from_slice(b"\",algorithm=");
    v.extend_from_slice(algo.name().as_bytes());
    if stale {
        v.extend_from_slice(b",stale=\"true\"");
    }
    v
}

#[derive(Clone, Default)]
struct NonceSlot {
    nonce: Vec<u8>,
    nc: u64,
    /// Bit i: count `nc - i - 1` was seen.
    nmask: u64,
}

/// The nonce-count table (`MHD_OPTION_NONCE_NC_SIZE` slots).
pub struct NonceTable {
    slots: Mutex<Vec<NonceSlot>>,
}

impl NonceTable {
    /// A table of `size` slots (none, and so no digest auth, if that much
    /// memory cannot be had).
    pub fn new(size: usize) -> NonceTable {
        let mut v = Vec::new();
        if v.try_reserve_exact(size).is_ok() {
            v.resize(size, NonceSlot::default());
        }
        NonceTable { slots: Mutex::new(v) }
    }

    fn slot_of(nonce: &[u8], size: usize) -> usize {
        let mut off: u32 = 0;
        for &c in nonce {
            // C's `char` is signed here.
            let c = c as i8 as i32 as u32;
            off = (off << 8) | (c ^ (off >> 24));
        }
        (off % size as u32) as usize
    }

    /// Registers a fresh nonce (`nc == 0`) or checks and records a count.
    /// False: no table, a replayed count, or a nonce no longer in the table.
    pub fn check(&self, nonce: &[u8], nc: u64) -> bool {
        if nonce.len() >= MAX_NONCE_LENGTH {
            return false;
        }
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let size = slots.len();
        if size == 0 {
            return false;
        }
        let nn = &mut slots[Self::slot_of(nonce, size)];
        if nc == 0 {
            nn.nonce = nonce.to_vec();
            nn.nc = 0;
            nn.nmask = 0;
            return true;
        }
        if nc < nn.nc && nc.checked_add(64).is_some_and(|x| x >= nn.nc) {
            let bit = 1u64 << (nn.nc - nc - 1);
            if nn.nmask & bit == 0 {
                nn.nmask |= bit;
                return true;
            }
        }
        if nc <= nn.nc || nn.nonce != nonce {
            return false;
        }
        let jump = nc - nn.nc;
        nn.nmask = if jump < 64 { nn.nmask << jump } else { 0 };
        nn.nc = nc;
        true
    }
}

/// The result of a digest check (`MHD_YES`, `MHD_NO`, `MHD_INVALID_NONCE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Yes,
    No,
    InvalidNonce,
}

/// What the check knows of the server side.
pub struct DigestServer<'a> {
    pub random: &'a [u8],
    pub nonces: &'a NonceTable,
    /// Seconds of the monotonic clock nonces are stamped with.
    pub now: u32,
}

/// What the check knows of the request.
pub struct DigestRequest<'a> {
    /// The `Authorization` header value.
    pub header: &'a [u8],
    pub method: &'a [u8],
    /// The request's URL path, unescaped.
    pub url: &'a [u8],
    /// The request's GET arguments (key, value), as stored for the application.
    pub args: &'a [(Vec<u8>, Option<Vec<u8>>)],
}

/// How the password is known: in clear, or as H(user:realm:password).
pub enum Secret<'a> {
    Password(&'a [u8]),
    Digest(&'a [u8]),
}

fn parse_hex_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    // Leading zeros are fine; a value that overflows is a format error.
    s.iter().try_fold(0u64, |v, &c| {
        let d = (c as char).to_digit(16)?;
        v.checked_mul(16)?.checked_add(d as u64)
    })
}

/// Checks the digest credentials of a request. `unescape` decodes a URL
/// (or query argument) in place the way the daemon does and returns its
/// new length; `plus` asks for `+` → space first (query arguments).
#[allow(clippy::too_many_arguments)]
pub fn check(
    srv: &DigestServer<'_>,
    req: &DigestRequest<'_>,
    realm: &[u8],
    username: &[u8],
    secret: Secret<'_>,
    nonce_timeout: u32,
    algo: Algorithm,
    unescape: &mut dyn FnMut(&mut Vec<u8>, bool),
) -> Outcome {
    use Outcome::*;
    let Some(h) = c_view(req.header).strip_prefix(b"Digest ") else { return No };
    let mut left = h.len();
    let Some(un) = param(h, b"username", MAX_USERNAME_LENGTH) else { return No };
    if un != username {
        return No;
    }
    left = left.saturating_sub(b"username".len() + un.len());
    let Some(r) = param(h, b"realm", MAX_REALM_LENGTH) else { return No };
    if r != realm {
        return No;
    }
    left = left.saturating_sub(b"realm".len() + r.len());
    let Some(nonce) = param(h, b"nonce", MAX_NONCE_LENGTH) else { return No };
    left = left.saturating_sub(b"nonce".len() + nonce.len());
    if left > 32 * 1024 {
        return No;
    }
    // The last 8 characters are the timestamp, in hex.
    if nonce.len() < 8 {
        return No;
    }
    let ts_hex = &nonce[nonce.len() - 8..];
    let Some(nonce_time) = parse_hex_u64(ts_hex).map(|v| v as u32) else { return No };
    match nonce_time.checked_add(nonce_timeout) {
        Some(limit) if srv.now <= limit => {}
        _ => return InvalidNonce,
    }
    let expect = calculate_nonce(nonce_time, req.method, srv.random, req.url, realm, algo);
    if nonce != expect.as_bytes() {
        return InvalidNonce;
    }
    let (Some(cnonce), Some(qop), Some(nc), Some(response)) = (
        param(h, b"cnonce", MAX_NONCE_LENGTH),
        param(h, b"qop", 15),
        param(h, b"nc", 20),
        param(h, b"response", MAX_AUTH_RESPONSE_LENGTH),
    ) else {
        return No;
    };
    if qop != b"auth" {
        return No;
    }
    let Some(nci) = parse_hex_u64(&nc) else { return No };
    if !srv.nonces.check(&nonce, nci) {
        return No;
    }
    let Some(uri) = param(h, b"uri", left + 1) else { return No };
    let ha1 = match secret {
        Secret::Password(p) => algo.hex(&[username, b":", realm, b":", p]),
        Secret::Digest(d) => to_hex(d),
    };
    let expected = request_digest(algo, &ha1, &nonce, &nc, &cnonce, &qop, req.method, &uri);
    // The uri must be the request's URL with exactly its GET arguments.
    let (path, query) = match uri.iter().position(|&c| c == b'?') {
        Some(q) => (&uri[..q], &uri[q + 1..]),
        None => (&uri[..], &b""[..]),
    };
    let mut p = path.to_vec();
    unescape(&mut p, false);
    if c_view(&p) != c_view(req.url) {
        return No;
    }
    if !arguments_match(query, req.args, unescape) {
        return No;
    }
    if response == expected.as_bytes() {
        Yes
    } else {
        No
    }
}

/// The `response` a client computes (RFC 2617 3.2.2.1 with `qop`), given
/// hex H(A1).
#[allow(clippy::too_many_arguments)]
pub fn request_digest(algo: Algorithm, ha1_hex: &str, nonce: &[u8], nc: &[u8], cnonce: &[u8], qop: &[u8], method: &[u8], uri: &[u8]) -> String {
    let ha2 = algo.hex(&[method, b":", uri]);
    algo.hex(&[ha1_hex.as_bytes(), b":", nonce, b":", nc, b":", cnonce, b":", qop, b":", ha2.as_bytes()])
}

fn arguments_match(query: &[u8], have: &[(Vec<u8>, Option<Vec<u8>>)], unescape: &mut dyn FnMut(&mut Vec<u8>, bool)) -> bool {
    let mut spans = Vec::new();
    crate::http1::urlenc::parse_query_raw(query, &mut spans);
    for a in &spans {
        let mut k = a.key.get(query).to_vec();
        unescape(&mut k, true);
        let v = a.value.map(|v| {
            let mut v = v.get(query).to_vec();
            unescape(&mut v, true);
            v
        });
        let found = have.iter().any(|(hk, hv)| {
            c_view(hk) == c_view(&k)
                && match (hv, &v) {
                    (None, None) => true,
                    (Some(x), Some(y)) => x == y,
                    _ => false,
                }
        });
        if !found {
            return false;
        }
    }
    spans.len() == have.len()
}
