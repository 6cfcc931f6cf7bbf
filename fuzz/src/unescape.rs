//! URL unescaping: `MHD_http_unescape` (src/ffi/util.rs) over
//! `unescape_in_place`, and GET-argument splitting (src/http1/urlenc.rs).
//!
//! Invariants:
//! - `MHD_http_unescape` through the C API, `unescape_in_place` and an
//!   independent model give the same bytes and length, the length never
//!   grows, and the C string stays NUL-terminated at the returned length;
//! - where Debian's libmicrohttpd 0.9.75 is installed (the oracle; it is
//!   loaded with dlopen, so nothing links against it), its
//!   `MHD_http_unescape` gives the same string and length;
//! - `parse_query_in_place` gives, per argument, what splitting the raw
//!   query on `&` and the first `=` and then decoding (`+` first) gives.

use microhttpd::http1::{parse_query_in_place, unescape_in_place, urlenc::parse_query_raw};
use std::ffi::c_char;
use std::sync::OnceLock;

type Unescape = unsafe extern "C" fn(*mut c_char) -> usize;

/// Debian's `MHD_http_unescape`, if its library is installed.
fn oracle() -> Option<Unescape> {
    static F: OnceLock<Option<usize>> = OnceLock::new();
    let addr = *F.get_or_init(|| {
        let path = c"/usr/lib/x86_64-linux-gnu/libmicrohttpd.so.12";
        // SAFETY: dlopen/dlsym with valid NUL-terminated names; RTLD_LOCAL
        // keeps Debian's symbols from interposing on ours.
        unsafe {
            let h = libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            if h.is_null() {
                return None;
            }
            let f = libc::dlsym(h, c"MHD_http_unescape".as_ptr());
            (!f.is_null()).then_some(f as usize)
        }
    });
    // SAFETY: the address is Debian's `size_t MHD_http_unescape(char *)`.
    addr.map(|a| unsafe { std::mem::transmute::<usize, Unescape>(a) })
}

fn model(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() && s[i + 1].is_ascii_hexdigit() && s[i + 2].is_ascii_hexdigit() {
            let hex = std::str::from_utf8(&s[i + 1..i + 3]).expect("hex digits");
            out.push(u8::from_str_radix(hex, 16).expect("hex digits"));
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Calls a C `MHD_http_unescape` on a copy of `s` (no NUL inside).
fn c_unescape(f: Unescape, s: &[u8]) -> (Vec<u8>, usize) {
    let mut buf = s.to_vec();
    buf.push(0);
    // SAFETY: a writable NUL-terminated string.
    let n = unsafe { f(buf.as_mut_ptr().cast()) };
    assert!(n <= s.len(), "unescape grew the string");
    assert_eq!(buf[n], 0, "not NUL-terminated at the returned length");
    buf.truncate(n);
    (buf, n)
}

pub fn run(data: &[u8]) {
    // unescape_in_place on arbitrary bytes (NUL included).
    let want = model(data);
    let mut v = data.to_vec();
    let n = unescape_in_place(&mut v);
    assert!(n <= data.len());
    assert_eq!(&v[..n], &want[..], "unescape_in_place differs from the model");

    // The C API sees the string up to its first NUL.
    let s = &data[..data.iter().position(|&b| b == 0).unwrap_or(data.len())];
    let (ours, n) = c_unescape(microhttpd::ffi::util::MHD_http_unescape, s);
    assert_eq!(ours, model(s), "MHD_http_unescape differs from the model");
    if let Some(deb) = oracle() {
        let (theirs, m) = c_unescape(deb, s);
        // A decoded %00 ends the C string: compare what C sees, and the length.
        assert_eq!(n, m, "length differs from libmicrohttpd 0.9.75 for {s:?}");
        let cview = |v: &[u8]| v[..v.iter().position(|&b| b == 0).unwrap_or(v.len())].to_vec();
        assert_eq!(cview(&ours), cview(&theirs), "differs from libmicrohttpd 0.9.75 for {s:?}");
    }

    // GET arguments.
    let mut q = data.to_vec();
    let mut args = Vec::new();
    parse_query_in_place(&mut q, &mut args);
    let mut raw = Vec::new();
    parse_query_raw(data, &mut raw);
    assert_eq!(args.len(), raw.len());
    let pieces: Vec<&[u8]> = if data.is_empty() {
        Vec::new()
    } else {
        let mut p: Vec<&[u8]> = data.split(|&b| b == b'&').collect();
        if p.last().is_some_and(|l| l.is_empty()) {
            p.pop(); // an empty piece at the very end is not reported
        }
        p
    };
    assert_eq!(args.len(), pieces.len(), "argument count for {data:?}");
    let decode = |s: &[u8]| model(&s.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect::<Vec<u8>>());
    for (a, piece) in args.iter().zip(&pieces) {
        let (k, v) = match piece.iter().position(|&b| b == b'=') {
            Some(e) => (&piece[..e], Some(&piece[e + 1..])),
            None => (&piece[..], None),
        };
        assert_eq!(a.key.get(&q), &decode(k)[..]);
        assert_eq!(a.value.map(|s| s.get(&q).to_vec()), v.map(decode));
    }
}
