//! Percent-decoding (`MHD_http_unescape`), request-target splitting and GET
//! argument parsing, matching libmicrohttpd 0.9.75 as observed:
//!
//! - `%XX` (either hex case) becomes the byte; `%zz`, `%4`, `%`, `%G1` stay as
//!   they are; `%00` becomes a NUL byte (C callers then see a shorter string);
//!   `+` is left alone by `MHD_http_unescape`.
//! - The `url` given to the access handler is the request-target up to the
//!   first `?`, percent-decoded, `+` kept (`/a%20b+c` → `/a b+c`; `%2f` → `/`).
//!   Absolute-form (`http://h/p`) and `*` pass through unchanged.
//! - GET arguments: the part after the first `?`, split on `&`; each piece is
//!   `key=value` split at its first `=` (`f=x=y` → `f`, `x=y`), or a key with a
//!   NULL value when it has no `=`; key and value get `+` → space, then
//!   percent-decoding (so `%26`/`%3D` never split). Empty pieces between `&&`
//!   or at the start report key `""` with NULL value; an empty piece at the
//!   very end is not reported (`?` → none, `?&` → one `""`/NULL, `?=` →
//!   `""`/`""`). Repeated keys are all reported, in order.
//!
//! No deliberate differences.

use super::Span;

fn hexval(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decode `%XX` escapes in place, `MHD_http_unescape` style; returns the new
/// length (the bytes after it are left over).
pub fn unescape_in_place(buf: &mut [u8]) -> usize {
    let mut r = 0;
    let mut w = 0;
    while r < buf.len() {
        if buf[r] == b'%' && r + 2 < buf.len() {
            if let (Some(h), Some(l)) = (hexval(buf[r + 1]), hexval(buf[r + 2])) {
                buf[w] = (h << 4) | l;
                w += 1;
                r += 3;
                continue;
            }
        }
        buf[w] = buf[r];
        w += 1;
        r += 1;
    }
    w
}

/// `+` → space, in place (done before unescaping GET arguments).
pub fn unescape_plus_in_place(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        if *b == b'+' {
            *b = b' ';
        }
    }
}

/// Split a request-target at its first `?`: (path, query without the `?`),
/// as spans into `target`.
pub fn split_target(target: &[u8]) -> (Span, Option<Span>) {
    match target.iter().position(|&b| b == b'?') {
        Some(q) => (Span::new(0, q), Some(Span::new(q + 1, target.len()))),
        None => (Span::new(0, target.len()), None),
    }
}

/// One GET argument: spans into the query slice; `value: None` is C's NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryArg {
    /// Key.
    pub key: Span,
    /// Value, or `None` when the piece had no `=`.
    pub value: Option<Span>,
}

/// Split `query` into raw (undecoded) arguments, appended to `out`. Use this
/// with an application-provided unescape callback (apply
/// [`unescape_plus_in_place`] first, as libmicrohttpd does).
pub fn parse_query_raw(query: &[u8], out: &mut Vec<QueryArg>) {
    let mut pos = 0;
    while pos < query.len() {
        let amp = query[pos..].iter().position(|&b| b == b'&').map_or(query.len(), |i| pos + i);
        let piece = &query[pos..amp];
        match piece.iter().position(|&b| b == b'=') {
            None => out.push(QueryArg { key: Span::new(pos, amp), value: None }),
            Some(e) => out.push(QueryArg {
                key: Span::new(pos, pos + e),
                value: Some(Span::new(pos + e + 1, amp)),
            }),
        }
        if amp == query.len() {
            break;
        }
        pos = amp + 1;
    }
}

/// Split and decode `query` in place (`+` → space, then `%XX`); the
/// resulting spans (into `query`) hold the decoded bytes. Appends to `out`.
/// Each decoded key/value ends where an unused byte (`=`, `&` or a shrunk
/// escape) or the slice end follows, so a caller may NUL-terminate in place
/// except for the final one when it reaches the end.
pub fn parse_query_in_place(query: &mut [u8], out: &mut Vec<QueryArg>) {
    let first = out.len();
    parse_query_raw(query, out);
    for a in &mut out[first..] {
        a.key = decode_span(query, a.key);
        if let Some(v) = a.value {
            a.value = Some(decode_span(query, v));
        }
    }
}

fn decode_span(buf: &mut [u8], s: Span) -> Span {
    let part = &mut buf[s.start..s.end];
    unescape_plus_in_place(part);
    let n = unescape_in_place(part);
    Span::new(s.start, s.start + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn un(s: &[u8]) -> Vec<u8> {
        let mut v = s.to_vec();
        let n = unescape_in_place(&mut v);
        v.truncate(n);
        v
    }

    #[test]
    fn oracle_unescape() {
        // (input, MHD_http_unescape output) from Debian's 0.9.75
        let table: &[(&[u8], &[u8])] = &[
            (b"%zz", b"%zz"),
            (b"%4", b"%4"),
            (b"%00", b"\0"),
            (b"+", b"+"),
            (b"a%41b", b"aAb"),
            (b"%4%41", b"%4A"),
            (b"%%41", b"%A"),
            (b"%", b"%"),
            (b"%a", b"%a"),
            (b"%fF", b"\xff"),
            (b"%41%", b"A%"),
            (b"a+b%2B", b"a+b+"),
            (b"%G1", b"%G1"),
            (b"%1G", b"%1G"),
            (b"", b""),
        ];
        for (i, o) in table {
            assert_eq!(un(i), *o, "{:?}", String::from_utf8_lossy(i));
            // incremental independence: decoding a prefix never reads past it
            for cut in 0..=i.len() {
                let _ = un(&i[..cut]);
            }
        }
    }

    fn args(q: &str) -> Vec<(String, Option<String>)> {
        let mut buf = q.as_bytes().to_vec();
        let mut out = Vec::new();
        parse_query_in_place(&mut buf, &mut out);
        out.iter()
            .map(|a| {
                (
                    String::from_utf8_lossy(a.key.get(&buf)).into_owned(),
                    a.value.map(|v| String::from_utf8_lossy(v.get(&buf)).into_owned()),
                )
            })
            .collect()
    }

    fn kv(k: &str, v: Option<&str>) -> (String, Option<String>) {
        (k.to_string(), v.map(str::to_string))
    }

    #[test]
    fn oracle_get_arguments() {
        assert_eq!(
            args("a=1&b&c=&=d&&e=%41+%zz%4&a=2&f=x=y"),
            vec![
                kv("a", Some("1")),
                kv("b", None),
                kv("c", Some("")),
                kv("", Some("d")),
                kv("", None),
                kv("e", Some("A %zz%4")),
                kv("a", Some("2")),
                kv("f", Some("x=y")),
            ]
        );
        assert_eq!(args("%61%3d=b%26"), vec![kv("a=", Some("b&"))]);
        assert_eq!(args("a=%00b"), vec![kv("a", Some("\0b"))]);
        assert_eq!(args(""), vec![]);
        assert_eq!(args("&"), vec![kv("", None)]);
        assert_eq!(args("="), vec![kv("", Some(""))]);
        assert_eq!(args("a"), vec![kv("a", None)]);
        assert_eq!(args("a&b=1"), vec![kv("a", None), kv("b", Some("1"))]);
        assert_eq!(args("x+y=1+2"), vec![kv("x y", Some("1 2"))]);
    }

    #[test]
    fn oracle_path() {
        let t = b"/a%20b%zz%4%41+c?x=1";
        let (p, q) = split_target(t);
        let mut path = p.get(t).to_vec();
        let n = unescape_in_place(&mut path);
        assert_eq!(&path[..n], b"/a b%zz%4A+c");
        assert_eq!(q.map(|q| q.get(t)), Some(&b"x=1"[..]));
        let t = b"/a%2fb%3Fq?x";
        let (p, q) = split_target(t);
        let mut path = p.get(t).to_vec();
        let n = unescape_in_place(&mut path);
        assert_eq!(&path[..n], b"/a/b?q");
        assert_eq!(q.map(|q| q.get(t)), Some(&b"x"[..]));
        assert_eq!(split_target(b"*"), (Span::new(0, 1), None));
        assert_eq!(split_target(b"/p?"), (Span::new(0, 2), Some(Span::new(3, 3))));
    }
}
