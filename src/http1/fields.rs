//! The header fields of a request head, as spans.
//!
//! Nearly every client sends fields of one shape: a token, `:`, optional
//! blanks, visible ASCII with blanks inside, CRLF. [`common_fields`] reads
//! that shape in one pass of table lookups. On anything else (obs-text, a
//! control byte, a bare LF, a blank before the colon, a folded line, more
//! than [`MAX_COMMON`] fields) it gives up, and `parse_head` asks httparse,
//! whose answer then decides. For the heads it accepts, both give the same
//! spans: the differential test below, and the `request_head` fuzz target.
//!
//! Why not httparse alone: its vectored scans pay a set-up per line that
//! short lines never earn back. For `Host: 127.0.0.1:8080`, the one field of
//! a `wrk` request, httparse ran 320 instructions and the copy of its result
//! 30 more (callgrind), this about 210, blank line included; the head's
//! parse is a quarter of the library's work per keep-alive request.

use super::bytes::{is_tchar, is_text};
use super::{HeaderSpan, Span};

/// Most fields [`common_fields`] reads; more go to httparse, whose
/// too-many-fields path checks the memory budget before allocating.
pub const MAX_COMMON: usize = 32;

/// Reads the fields at `head[p..]` through the blank line, which must end
/// `head`, appending each field's name and value (blanks trimmed) as spans
/// into `head`. An empty value is the empty span at the end of the name (as
/// [`from_httparse`] makes it). Returns false, with `out` partly filled, when
/// the fields are not all of the common shape; the caller then clears `out`
/// and asks httparse.
pub fn common_fields(head: &[u8], mut p: usize, out: &mut Vec<HeaderSpan>) -> bool {
    loop {
        match head.get(p) {
            Some(b'\r') => return head.get(p + 1) == Some(&b'\n') && p + 2 == head.len(),
            None => return false,
            Some(_) if out.len() == MAX_COMMON => return false,
            Some(_) => {}
        }
        let name = Span::new(p, p + head[p..].iter().position(|&b| !is_tchar(b)).unwrap_or(head.len() - p));
        p = name.end;
        if name.is_empty() || head.get(p) != Some(&b':') {
            return false;
        }
        p += 1 + head[p + 1..].iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(head.len() - p - 1);
        let first = p;
        p += head[p..].iter().position(|&b| !is_text(b)).unwrap_or(head.len() - p);
        if head.get(p) != Some(&b'\r') || head.get(p + 1) != Some(&b'\n') {
            return false;
        }
        // Trailing blanks are not the value's.
        let last = head[first..p].iter().rposition(|&b| b != b' ' && b != b'\t').map_or(first, |i| first + i + 1);
        p += 2;
        let value = if last == first { Span::new(name.end, name.end) } else { Span::new(first, last) };
        out.push(HeaderSpan { name, value });
    }
}

/// httparse's fields as spans into `buf`, which holds them.
pub fn from_httparse(buf: &[u8], hs: &[httparse::Header<'_>], out: &mut Vec<HeaderSpan>) {
    let base = buf.as_ptr() as usize;
    out.reserve(hs.len());
    for h in hs {
        let n = h.name.as_ptr() as usize - base;
        // httparse gives an empty value a dangling-but-valid slice; compute
        // from its pointer only when non-empty.
        let v = if h.value.is_empty() {
            n + h.name.len()
        } else {
            h.value.as_ptr() as usize - base
        };
        out.push(HeaderSpan {
            name: Span::new(n, n + h.name.len()),
            value: Span::new(v, v + h.value.len()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields httparse finds in `head[p..]` when they end exactly at
    /// the end of `head`, else None.
    fn by_httparse(head: &[u8], p: usize) -> Option<Vec<HeaderSpan>> {
        let mut hs = [httparse::EMPTY_HEADER; MAX_COMMON];
        match httparse::parse_headers(&head[p..], &mut hs) {
            Ok(httparse::Status::Complete((n, parsed))) if p + n == head.len() => {
                let mut v = Vec::new();
                from_httparse(head, parsed, &mut v);
                Some(v)
            }
            _ => None,
        }
    }

    fn common(head: &[u8], p: usize) -> Option<Vec<HeaderSpan>> {
        let mut v = Vec::new();
        common_fields(head, p, &mut v).then_some(v)
    }

    fn check(head: &[u8], p: usize) {
        if let Some(ours) = common(head, p) {
            assert_eq!(Some(ours), by_httparse(head, p), "{:?}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn common_shapes() {
        let head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Empty:\r\nX-Blank: \t \r\nA:b c\t \r\n\r\n";
        let v = common(head, 16).expect("common shape");
        let text: Vec<(&[u8], &[u8])> = v.iter().map(|f| (f.name.get(head), f.value.get(head))).collect();
        let want: Vec<(&[u8], &[u8])> = vec![(b"Host", b"127.0.0.1:8080"), (b"X-Empty", b""), (b"X-Blank", b""), (b"A", b"b c")];
        assert_eq!(text, want);
        assert_eq!(Some(v), by_httparse(head, 16));
        assert_eq!(common(b"\r\n", 0), Some(vec![]), "no fields");
    }

    #[test]
    fn gives_up_on_other_shapes() {
        for head in [
            &b"Host: a\n\r\n"[..],            // bare LF
            b"Host : a\r\n\r\n",              // blank before the colon
            b": a\r\n\r\n",                   // empty name
            b"Host: a\r\n b\r\n\r\n",         // folded line
            b"Host: \xc3\xa9\r\n\r\n",        // obs-text
            b"Host: a\x7fb\r\n\r\n",          // DEL
            b"Host: a\0\r\n\r\n",             // NUL
            b"Host: a\rb\r\n\r\n",            // bare CR
            b"Host: a\r\n\r\nX: b\r\n\r\n",   // blank line before the end
            b"Host: a\r\n",                   // no blank line
            b"Host: a\r\n\r",                 // half a blank line
        ] {
            assert_eq!(common(head, 0), None, "{:?}", String::from_utf8_lossy(head));
        }
        let mut many = Vec::new();
        for i in 0..=MAX_COMMON {
            many.extend_from_slice(format!("X{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(common(&many, 0), None, "more than MAX_COMMON fields");
        let last = many.len() - b"X32: v\r\n\r\n".len();
        many.drain(last..last + b"X32: v\r\n".len());
        assert_eq!(common(&many, 0).map(|v| v.len()), Some(MAX_COMMON), "MAX_COMMON fields");
    }

    #[test]
    fn agrees_with_httparse_on_random_heads() {
        // Lines built from the bytes where the two could disagree, with a
        // fixed seed so a failure repeats.
        const ALPHABET: &[u8] = b"Ab-9:: \t\t\r\n\r\n\x7f\x80\0(,~!\"\\";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let mut accepted = 0;
        for _ in 0..60_000 {
            let mut head = b"GET / HTTP/1.1\r\n".to_vec();
            for _ in 0..next(4) {
                // Mostly well-formed lines with one random edit, so that
                // both the accepting and the refusing paths are reached.
                let mut line = b"Name-1: va l\t ue \r\n".to_vec();
                for _ in 0..next(3) {
                    let at = next(line.len());
                    line[at] = ALPHABET[next(ALPHABET.len())];
                }
                head.extend_from_slice(&line);
            }
            head.extend_from_slice(b"\r\n");
            check(&head, 16);
            accepted += usize::from(common(&head, 16).is_some());
        }
        // Both paths are reached.
        assert!((5_000..55_000).contains(&accepted), "{accepted} of 60000 heads took the common path");
    }
}
