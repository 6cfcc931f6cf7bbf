//! Basic and Digest `Authorization` parsing (src/auth).
//!
//! Input: a mode byte, then pieces. Invariants:
//! - any header: `basic_credentials` gives a user without `:` and no NUL
//!   in either part; `param` gives a non-empty value no longer than
//!   `size - 1` that occurs in the header; `check` on a fuzzed header
//!   against a registered nonce never answers Yes unless the header names
//!   the right user;
//! - a Basic header built from a user and password decodes back to them;
//! - a Digest header computed as a client does (RFC 2617 with qop=auth)
//!   for a nonce the server issued is accepted once, refused when its
//!   nonce count is replayed, and refused when the response, user, URI
//!   or realm is changed.

use crate::Input;
use microhttpd::auth::{self, Algorithm, DigestRequest, DigestServer, NonceTable, Outcome, Secret};

fn b64(src: &[u8]) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for g in src.chunks(3) {
        let n = (u32::from(g[0]) << 16) | (u32::from(*g.get(1).unwrap_or(&0)) << 8) | u32::from(*g.get(2).unwrap_or(&0));
        out.push(A[(n >> 18) as usize & 63]);
        out.push(A[(n >> 12) as usize & 63]);
        out.push(if g.len() > 1 { A[(n >> 6) as usize & 63] } else { b'=' });
        out.push(if g.len() > 2 { A[n as usize & 63] } else { b'=' });
    }
    out
}

fn safe(s: &[u8], max: usize) -> Vec<u8> {
    const T: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";
    s.iter().take(max).map(|&b| T[b as usize % T.len()]).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn unescape(v: &mut Vec<u8>, plus: bool) {
    if plus {
        microhttpd::http1::unescape_plus_in_place(v);
    }
    let n = microhttpd::http1::unescape_in_place(v);
    v.truncate(n);
}

const KEYS: &[&[u8]] = &[b"username", b"realm", b"nonce", b"uri", b"response", b"cnonce", b"nc", b"qop", b"opaque", b""];

fn any_header(inp: &mut Input<'_>) {
    let size = usize::from(inp.u8());
    let key = KEYS[usize::from(inp.u8()) % KEYS.len()];
    let h = inp.rest();
    if let Some((u, p)) = auth::basic_credentials(h) {
        assert!(!u.contains(&b':') && !u.contains(&0) && !p.contains(&0), "{u:?} {p:?}");
    }
    let _ = auth::base64_decode(h);
    let params = h.strip_prefix(b"Digest ").unwrap_or(h);
    if let Some(v) = auth::param(params, key, size) {
        assert!(!v.is_empty() && v.len() < size.max(1), "param of {} bytes for size {size}", v.len());
        assert!(contains(params, &v), "value not from the header");
    }
    // A full check against a server that issued one nonce.
    let table = NonceTable::new(4);
    let nonce = auth::calculate_nonce(7, b"GET", b"rnd", b"/p", b"realm", Algorithm::Md5);
    assert!(table.check(nonce.as_bytes(), 0));
    let srv = DigestServer { random: b"rnd", nonces: &table, now: 7 };
    let req = DigestRequest { header: h, method: b"GET", url: b"/p", args: &[] };
    let r = auth::check(&srv, &req, b"realm", b"user", Secret::Password(b"pw"), 300, Algorithm::Md5, &mut unescape);
    if r == Outcome::Yes {
        assert_eq!(auth::param(params, b"username", 128).as_deref(), Some(&b"user"[..]));
    }
}

fn basic_roundtrip(inp: &mut Input<'_>) {
    let user: Vec<u8> = inp.piece().iter().copied().filter(|&b| b != b':' && b != 0).collect();
    let pass: Vec<u8> = inp.piece().iter().copied().filter(|&b| b != 0).collect();
    let mut plain = user.clone();
    plain.push(b':');
    plain.extend_from_slice(&pass);
    let mut h = b"Basic ".to_vec();
    h.extend_from_slice(&b64(&plain));
    assert_eq!(auth::basic_credentials(&h), Some((user, pass)));
}

fn digest_roundtrip(inp: &mut Input<'_>) {
    let f = inp.u8();
    let algo = if f & 1 == 0 { Algorithm::Md5 } else { Algorithm::Sha256 };
    let user = safe(inp.piece(), 100);
    let realm = safe(inp.piece(), 200);
    let password = inp.piece().to_vec();
    let cnonce = safe(inp.piece(), 100);
    let path = {
        let mut p = b"/".to_vec();
        p.extend(safe(inp.piece(), 60));
        p
    };
    let arg = safe(inp.piece(), 20);
    let nc_val = inp.u32().max(1);
    // Below 2^31: a timestamp whose timeout overflows u32 is stale (as in 0.9.75).
    let ts = inp.u32() >> 1;
    let timeout = u32::from(inp.u16()) + 1;
    let slots = usize::from(inp.u8() % 8) + 1;
    if user.is_empty() || realm.is_empty() || cnonce.is_empty() {
        return;
    }
    let (uri, args): (Vec<u8>, Vec<(Vec<u8>, Option<Vec<u8>>)>) = if arg.is_empty() {
        (path.clone(), Vec::new())
    } else {
        let mut u = path.clone();
        u.extend_from_slice(b"?k=");
        u.extend_from_slice(&arg);
        (u, vec![(b"k".to_vec(), Some(arg.clone()))])
    };
    let table = NonceTable::new(slots);
    let nonce = auth::calculate_nonce(ts, b"POST", b"server-random", &path, &realm, algo);
    assert!(table.check(nonce.as_bytes(), 0), "registering a fresh nonce");
    let nc = format!("{nc_val:08x}");
    let ha1 = algo.hex(&[&user, b":", &realm, b":", &password]);
    let response = auth::request_digest(algo, &ha1, nonce.as_bytes(), nc.as_bytes(), &cnonce, b"auth", b"POST", &uri);
    let header = |user: &[u8], realm: &[u8], uri: &[u8], response: &str| -> Vec<u8> {
        let mut h = b"Digest username=\"".to_vec();
        h.extend_from_slice(user);
        h.extend_from_slice(b"\", realm=\"");
        h.extend_from_slice(realm);
        h.extend_from_slice(b"\", nonce=\"");
        h.extend_from_slice(nonce.as_bytes());
        h.extend_from_slice(b"\", uri=\"");
        h.extend_from_slice(uri);
        h.extend_from_slice(b"\", algorithm=");
        h.extend_from_slice(algo.name().as_bytes());
        h.extend_from_slice(b", response=\"");
        h.extend_from_slice(response.as_bytes());
        h.extend_from_slice(b"\", qop=auth, nc=");
        h.extend_from_slice(nc.as_bytes());
        h.extend_from_slice(b", cnonce=\"");
        h.extend_from_slice(&cnonce);
        h.extend_from_slice(b"\"");
        h
    };
    let srv = DigestServer { random: b"server-random", nonces: &table, now: ts.saturating_add(timeout - 1).max(ts) };
    let check = |h: &[u8], secret: Secret<'_>| {
        let req = DigestRequest { header: h, method: b"POST", url: &path, args: &args };
        auth::check(&srv, &req, &realm, &user, secret, timeout, algo, &mut unescape)
    };
    let good = header(&user, &realm, &uri, &response);
    // Wrong parts first: they must not use up the nonce count.
    let mut bad_resp = response.clone().into_bytes();
    bad_resp[0] = if bad_resp[0] == b'0' { b'1' } else { b'0' };
    let bad_resp = String::from_utf8(bad_resp).expect("hex");
    assert_ne!(check(&header(&user, &realm, &uri, &bad_resp), Secret::Password(&password)), Outcome::Yes, "wrong response accepted");
    let mut other_user = user.clone();
    other_user.push(b'x');
    assert_ne!(check(&header(&other_user, &realm, &uri, &response), Secret::Password(&password)), Outcome::Yes, "wrong user accepted");
    let mut other_uri = uri.clone();
    other_uri.insert(1, b'z');
    assert_ne!(check(&header(&user, &realm, &other_uri, &response), Secret::Password(&password)), Outcome::Yes, "wrong uri accepted");
    // A wrong response may have consumed the count (0.9.75 records it
    // before comparing): use a fresh table for the good one.
    let table2 = NonceTable::new(slots);
    assert!(table2.check(nonce.as_bytes(), 0));
    let srv2 = DigestServer { random: b"server-random", nonces: &table2, now: srv.now };
    let req = DigestRequest { header: &good, method: b"POST", url: &path, args: &args };
    let secret_digest = algo.hash(&[&user, b":", &realm, b":", &password]);
    let secret = if f & 2 == 0 { Secret::Password(&password) } else { Secret::Digest(&secret_digest) };
    assert_eq!(auth::check(&srv2, &req, &realm, &user, secret, timeout, algo, &mut unescape), Outcome::Yes, "good credentials refused: {}", String::from_utf8_lossy(&good));
    let secret = if f & 2 == 0 { Secret::Password(&password) } else { Secret::Digest(&secret_digest) };
    assert_eq!(auth::check(&srv2, &req, &realm, &user, secret, timeout, algo, &mut unescape), Outcome::No, "replayed nonce count accepted");
    // Past the timeout the nonce is stale.
    if let Some(late) = ts.checked_add(timeout).and_then(|t| t.checked_add(1)) {
        let srv3 = DigestServer { random: b"server-random", nonces: &table2, now: late };
        assert_eq!(auth::check(&srv3, &req, &realm, &user, Secret::Password(&password), timeout, algo, &mut unescape), Outcome::InvalidNonce);
    }
}

pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    match inp.u8() % 3 {
        0 => any_header(&mut inp),
        1 => basic_roundtrip(&mut inp),
        _ => digest_roundtrip(&mut inp),
    }
}
