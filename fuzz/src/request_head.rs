//! Request head: `HeadFinder` + `parse_head` (src/http1/request.rs).
//!
//! Input: one option byte, a cut seed (length-prefixed), then the bytes a
//! client sent. Invariants:
//! - the head's end is found at the same place however the bytes arrive
//!   (the whole buffer, at the seed's cut points, byte by byte), and the
//!   parse result is the same;
//! - bounds and every span lie inside the head; names are tokens, values
//!   hold no CR, LF or NUL and are trimmed;
//! - the framing agrees with the fields (`Content-Length` value, chunked
//!   only as the last coding, never both) and keep-alive with `Connection`;
//! - parsing into a reused `RequestHead` gives what a fresh one gives;
//! - when no head is found, the overflow error is 414 or 431;
//! - with a memory budget, an accepted head and `FIELD_COST` per field fit;
//! - the reader of common-shape fields (`http1::fields`), given the head as
//!   field lines, answers as httparse does whenever it answers.

use crate::{cuts, Input};
use microhttpd::http1::fields::{common_fields, from_httparse, MAX_COMMON};
use microhttpd::http1::request::FIELD_COST;
use microhttpd::http1::{head_overflow_error, parse_head, Framing, HeadBounds, HeadFinder, ParseOptions, RequestHead};

fn find_with_cuts(buf: &[u8], cuts: &[usize]) -> Option<HeadBounds> {
    let mut f = HeadFinder::new();
    for &c in cuts.iter().chain(std::iter::once(&buf.len())) {
        if let Some(b) = f.find(&buf[..c]) {
            return Some(b);
        }
    }
    None
}

fn is_tchar(b: u8) -> bool {
    b"!#$%&'*+-.^_`|~".contains(&b) || b.is_ascii_alphanumeric()
}

fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `common_fields` on `head[p..]` gives httparse's fields whenever it
/// accepts them.
fn common_fields_agree(head: &[u8], p: usize) {
    let mut ours = Vec::new();
    if !common_fields(head, p, &mut ours) {
        return;
    }
    let mut hs = [httparse::EMPTY_HEADER; MAX_COMMON];
    match httparse::parse_headers(&head[p..], &mut hs) {
        Ok(httparse::Status::Complete((n, parsed))) if p + n == head.len() => {
            let mut theirs = Vec::new();
            from_httparse(head, parsed, &mut theirs);
            assert_eq!(ours, theirs, "common_fields and httparse differ");
        }
        other => panic!("common_fields accepted fields httparse answers with {other:?}"),
    }
}

pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let flags = inp.u8();
    let seed = inp.piece();
    let buf = inp.rest();
    // Bit 1: a memory budget of 1..16 KiB (bits 2-5).
    let budget = (flags & 2 != 0).then(|| 1024 * (usize::from(flags >> 2 & 15) + 1));
    let opts = ParseOptions { require_host: flags & 1 != 0, memory_budget: budget };

    let whole = find_with_cuts(buf, &[]);
    let c = cuts(seed, buf.len());
    assert_eq!(find_with_cuts(buf, &c), whole, "cut at {c:?}");
    if buf.len() <= 2048 {
        let bytewise: Vec<usize> = (0..buf.len()).collect();
        assert_eq!(find_with_cuts(buf, &bytewise), whole, "byte by byte");
    }

    let Some(b) = whole else {
        let mut f = HeadFinder::new();
        let _ = f.find(buf);
        let st = head_overflow_error(buf, &f).status();
        assert!(st == 414 || st == 431, "overflow status {st}");
        // Dropping the leading empty lines the finder reports keeps it consistent.
        let skip = f.leading_empty();
        assert!(skip <= buf.len());
        f.consume(skip);
        assert_eq!(f.find(&buf[skip..]), None);
        return;
    };
    assert!(b.start <= b.end && b.end <= buf.len(), "{b:?}");
    assert!(buf[..b.start].iter().all(|&x| x == b'\r' || x == b'\n'), "only empty lines before the head");
    assert!(buf[..b.end].ends_with(b"\n\n") || buf[..b.end].ends_with(b"\n\r\n"));

    common_fields_agree(&buf[..b.end], b.start);

    let mut fresh = RequestHead::default();
    let res = parse_head(buf, b, opts, &mut fresh);
    // A RequestHead dirtied by another parse must give the same result.
    let mut reused = RequestHead::default();
    let _ = parse_head(b"GET /x?y HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: upgrade\r\nUpgrade: z\r\n\r\n", HeadBounds { start: 0, end: 82 }, opts, &mut reused);
    let res2 = parse_head(buf, b, opts, &mut reused);
    assert_eq!(res, res2);
    if res.is_ok() {
        assert_eq!(fresh, reused, "reused RequestHead differs");
    }
    let Ok(()) = res else {
        let st = res.unwrap_err().status();
        assert!(matches!(st, 400 | 413 | 414 | 431 | 501 | 505), "status {st}");
        return;
    };
    let h = &fresh;
    assert_eq!(h.head_end, b.end);
    if let Some(budget) = budget {
        // Accepted: the head and its fields' bookkeeping fit the budget.
        let fields = h.headers.len();
        assert!(b.end - b.start + fields * FIELD_COST <= budget, "{} bytes, {fields} fields accepted for a {budget}-byte budget", b.end - b.start);
    }
    let in_head = |s: microhttpd::http1::Span| s.start <= s.end && s.start >= b.start && s.end <= b.end;
    assert!(in_head(h.method_span) && in_head(h.target) && in_head(h.version_text));
    assert!(!h.method_span.get(buf).is_empty() && h.method_span.get(buf).iter().all(|&x| is_tchar(x)));
    assert!(!h.target.get(buf).is_empty() && h.target.get(buf).iter().all(|&x| x > 0x20 && x != 0x7f));
    assert!(h.version_text.get(buf).starts_with(b"HTTP/"));

    let mut lengths = Vec::new();
    let mut te = Vec::new();
    let mut close = false;
    let mut hosts = 0;
    for f in &h.headers {
        assert!(in_head(f.name) && in_head(f.value));
        let (n, v) = (f.name.get(buf), f.value.get(buf));
        assert!(!n.is_empty() && n.iter().all(|&x| is_tchar(x)), "name {n:?}");
        assert!(v.iter().all(|&x| x != b'\r' && x != b'\n' && x != 0), "value {v:?}");
        assert!(!v.starts_with(b" ") && !v.ends_with(b" ") && !v.starts_with(b"\t") && !v.ends_with(b"\t"), "untrimmed {v:?}");
        if eq_ic(n, b"content-length") {
            lengths.push(v);
        }
        if eq_ic(n, b"transfer-encoding") {
            te.push(v);
        }
        if eq_ic(n, b"connection") && v.split(|&x| x == b',').any(|t| eq_ic(t.trim_ascii(), b"close")) {
            close = true;
        }
        if eq_ic(n, b"host") {
            hosts += 1;
        }
    }
    assert!(hosts <= 1, "two Host fields accepted");
    if opts.require_host && h.version == microhttpd::http1::Version::Http11 {
        assert_eq!(hosts, 1, "HTTP/1.1 without Host accepted");
    }
    assert!(lengths.is_empty() || te.is_empty(), "Content-Length and Transfer-Encoding both accepted");
    match h.framing {
        Framing::None => {
            assert!(te.is_empty(), "Transfer-Encoding yet no body");
            // `Content-Length: 0` is no body.
            for l in &lengths {
                assert!(!l.is_empty() && l.iter().all(|&x| x == b'0'), "Content-Length {l:?} framed as none");
            }
        }
        Framing::Length(n) => {
            assert!(!lengths.is_empty());
            for l in &lengths {
                let s = std::str::from_utf8(l).expect("digits");
                assert_eq!(s.parse::<u64>().ok(), Some(n), "Content-Length {s:?} framed as {n}");
            }
        }
        Framing::Chunked => {
            let last = te.last().expect("chunked without Transfer-Encoding");
            let coding = last.rsplit(|&x| x == b',').next().unwrap_or(b"").trim_ascii();
            assert!(eq_ic(coding, b"chunked"), "chunked framing, last coding {coding:?}");
        }
    }
    if close {
        assert!(!h.keep_alive, "Connection: close yet keep-alive");
    }
}
