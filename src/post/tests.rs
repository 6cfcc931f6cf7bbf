//! Expected events were recorded from Debian's libmicrohttpd 0.9.75-6.
use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Ev {
    key: Option<String>,
    filename: Option<String>,
    content_type: Option<String>,
    transfer_encoding: Option<String>,
    data: Vec<u8>,
    off: u64,
}

fn s(c: Option<&CStr>) -> Option<String> {
    c.map(|c| c.to_string_lossy().into_owned())
}

/// Feeds `body` cut at `cuts`; returns events, each `process` result and the `finish` result.
fn run(ct: &str, bs: usize, body: &[u8], cuts: &[usize], stop_after: Option<usize>) -> (Vec<Ev>, Vec<bool>, bool) {
    let mut pp = PostProcessor::new(Some(ct.as_bytes()), bs).expect("create");
    let mut evs = Vec::new();
    let mut sink = |e: &PostEvent<'_>| {
        evs.push(Ev {
            key: s(e.key),
            filename: s(e.filename),
            content_type: s(e.content_type),
            transfer_encoding: s(e.transfer_encoding),
            data: e.data.to_vec(),
            off: e.off,
        });
        stop_after.map_or(true, |n| evs.len() <= n)
    };
    let mut results = Vec::new();
    let mut prev = 0;
    for &c in cuts.iter().chain(std::iter::once(&body.len())) {
        results.push(pp.process(&body[prev..c], &mut sink));
        prev = c;
    }
    let fin = pp.finish(&mut sink);
    (evs, results, fin)
}

fn ev(key: &str, data: &str, off: u64) -> Ev {
    Ev { key: Some(key.into()), filename: None, content_type: None, transfer_encoding: None, data: data.as_bytes().to_vec(), off }
}

/// Values reassembled from their pieces: (key, filename, type, encoding, bytes).
fn values(evs: &[Ev]) -> Vec<(Option<String>, Option<String>, Option<String>, Option<String>, Vec<u8>)> {
    let mut out: Vec<(Option<String>, Option<String>, Option<String>, Option<String>, Vec<u8>)> = Vec::new();
    for e in evs {
        match out.last_mut() {
            Some(last) if last.0 == e.key && (e.off != 0 || last.4.is_empty()) => {
                assert_eq!(e.off, last.4.len() as u64, "pieces must be contiguous: {evs:?}");
                assert_eq!((&last.1, &last.2, &last.3), (&e.filename, &e.content_type, &e.transfer_encoding));
                last.4.extend_from_slice(&e.data);
            }
            _ => {
                assert_eq!(e.off, 0, "a value starts at offset 0: {evs:?}");
                out.push((e.key.clone(), e.filename.clone(), e.content_type.clone(), e.transfer_encoding.clone(), e.data.clone()));
            }
        }
    }
    out
}

/// Every 2-way split and byte-by-byte feeding give the same values and
/// the same overall result as feeding the body at once.
fn check_every_split(ct: &str, body: &[u8]) {
    let (whole, r, fin) = run(ct, 256, body, &[], None);
    let want = values(&whole);
    let ok = r.iter().all(|&x| x) && fin;
    for cut in 0..=body.len() {
        let (evs, r, fin) = run(ct, 256, body, &[cut], None);
        assert_eq!(values(&evs), want, "split at {cut}");
        assert_eq!(r.iter().all(|&x| x) && fin, ok, "split at {cut}");
    }
    let cuts: Vec<usize> = (1..body.len()).collect();
    let (evs, r, fin) = run(ct, 256, body, &cuts, None);
    assert_eq!(values(&evs), want, "bytewise");
    assert_eq!(r.iter().all(|&x| x) && fin, ok, "bytewise");
}

const URL: &str = "application/x-www-form-urlencoded";
const MP: &str = "multipart/form-data; boundary=xy";

#[test]
fn create_checks_encoding_boundary_and_size() {
    assert!(PostProcessor::new(Some(b"application/x-www-form-urlencoded"), 256).is_ok());
    assert!(PostProcessor::new(Some(b"APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8"), 256).is_ok());
    assert_eq!(PostProcessor::new(Some(b"text/plain"), 256).err(), Some(CreateError::UnsupportedEncoding));
    assert_eq!(PostProcessor::new(None, 256).err(), Some(CreateError::UnsupportedEncoding));
    assert_eq!(PostProcessor::new(Some(URL.as_bytes()), 255).err(), Some(CreateError::BufferTooSmall));
    for bad in ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=x", "multipart/form-data; boundary=\""] {
        assert_eq!(PostProcessor::new(Some(bad.as_bytes()), 256).err(), Some(CreateError::BadBoundary), "{bad}");
    }
    // "" is accepted (an empty boundary after removing the quotes).
    assert!(PostProcessor::new(Some(b"multipart/form-data; boundary=\"\""), 256).is_ok());
    // The boundary must fit twice (plus 2) into the buffer.
    let long = format!("multipart/form-data; boundary={}", "b".repeat(127));
    assert!(PostProcessor::new(Some(long.as_bytes()), 256).is_ok());
    let long = format!("multipart/form-data; boundary={}", "b".repeat(128));
    assert!(PostProcessor::new(Some(long.as_bytes()), 256).is_err());
}

#[test]
fn urlencoded_exact_events() {
    let (e, r, f) = run(URL, 256, b"a=b%20c&d+e=f&x&y=", &[], None);
    assert_eq!(e, vec![ev("a", "b c", 0), ev("d e", "f", 0), ev("x", "", 0), ev("y", "", 0)]);
    assert_eq!((r, f), (vec![true], true));
    // A value is reported as it arrives; an escape cut by the chunk end waits.
    let (e, _, f) = run(URL, 256, b"a=xy%41z", &[3, 5], None);
    assert_eq!(e, vec![ev("a", "x", 0), ev("a", "y", 1), ev("a", "Az", 2)]);
    assert!(f);
    // Empty key, doubled '=', data after the line end: errors.
    assert_eq!(run(URL, 256, b"=z", &[], None).1, vec![false]);
    assert_eq!(run(URL, 256, b"a==b", &[], None).1, vec![false]);
    assert_eq!(run(URL, 256, b"a=1\r\nb=2", &[], None).1, vec![false]);
    // The iterator saying no stops the processing.
    let (e, r, f) = run(URL, 256, b"a=1&b=2&c=3", &[], Some(1));
    assert_eq!(e.len(), 2);
    assert_eq!((r, f), (vec![false], false));
}

#[test]
fn urlencoded_long_values_come_in_512_byte_pieces() {
    let body = format!("k={}", "abcdefghij".repeat(300));
    let (e, _, f) = run(URL, 256, body.as_bytes(), &[], None);
    assert!(f);
    assert_eq!(e.iter().map(|e| (e.off, e.data.len())).collect::<Vec<_>>(), vec![(0, 512), (512, 512), (1024, 512), (1536, 512), (2048, 512), (2560, 440)]);
}

#[test]
fn urlencoded_key_longer_than_the_buffer_fails() {
    let ok = format!("{}=v", "k".repeat(258));
    assert_eq!(run(URL, 256, ok.as_bytes(), &[], None).1, vec![true]);
    let bad = format!("{}=v", "k".repeat(260));
    assert_eq!(run(URL, 256, bad.as_bytes(), &[], None).1, vec![false]);
}

#[test]
fn urlencoded_every_split() {
    for body in [&b"a=b&c=d"[..], b"k%41y=v%41l%2Fue&k2=%zz&k3=x", b"&&a=1&b=2+3&c=%41%42", b"a=1\r\n", b"key=value\n"] {
        check_every_split(URL, body);
    }
    let big = format!("k={}&z=1", "0123456789".repeat(120));
    check_every_split(URL, big.as_bytes());
}

const FORM: &[u8] = b"preamble\r\n--xy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nval\r\n--xy\r\n\
content-disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\
Content-Transfer-Encoding: binary\r\n\r\nline1\r\nline2\r\n-- not\r\n--x\r\n--xy--\r\n";

#[test]
fn multipart_exact_events() {
    let (e, r, f) = run(MP, 256, FORM, &[], None);
    let file = Ev {
        key: Some("f".into()),
        filename: Some("a.txt".into()),
        content_type: Some("text/plain".into()),
        transfer_encoding: Some("binary".into()),
        data: b"line1\r\nline2\r\n-- not\r\n--x".to_vec(),
        off: 0,
    };
    assert_eq!(e, vec![ev("a", "val", 0), file]);
    assert_eq!((r, f), (vec![true], true));
}

#[test]
fn multipart_nested_mixed() {
    let body = b"--AaB03x\r\nContent-Disposition: form-data; name=\"files\"\r\n\
Content-Type: multipart/mixed; boundary=BbC04y\r\n\r\n--BbC04y\r\nContent-Disposition: file; filename=\"file1.txt\"\r\n\
Content-Type: text/plain\r\n\r\none\r\n--BbC04y\r\nContent-Disposition: file; filename=\"file2.gif\"\r\n\
Content-Type: image/gif\r\nContent-Transfer-Encoding: binary\r\n\r\ntwo\r\n--BbC04y--\r\n--AaB03x--\r\n";
    let ct = "multipart/form-data; boundary=AaB03x";
    let (e, r, f) = run(ct, 256, body, &[], None);
    assert_eq!((r, f), (vec![true], true));
    let got: Vec<_> = e.iter().map(|e| (e.key.as_deref(), e.filename.as_deref(), e.content_type.as_deref(), e.transfer_encoding.as_deref(), e.data.as_slice())).collect();
    assert_eq!(
        got,
        vec![
            (Some("files"), Some("file1.txt"), Some("text/plain"), None, &b"one"[..]),
            (Some("files"), Some("file2.gif"), Some("image/gif"), Some("binary"), &b"two"[..]),
        ]
    );
    check_every_split(ct, body);
}

#[test]
fn multipart_large_part_is_cut_to_the_buffer() {
    let mut body = b"--xy\r\nContent-Disposition: form-data; name=\"big\"; filename=\"b.bin\"\r\n\r\n".to_vec();
    body.extend(std::iter::repeat(&b"0123456789"[..]).take(600).flatten());
    body.extend_from_slice(b"\r\n--xy--\r\n");
    let (e, r, f) = run(MP, 256, &body, &[], None);
    assert_eq!((r, f), (vec![true], true));
    assert!(e.iter().all(|e| e.data.len() <= 260));
    assert_eq!(values(&e)[0].4.len(), 6000);
    check_every_split(MP, &body);
}

#[test]
fn multipart_every_split() {
    check_every_split(MP, FORM);
    check_every_split(MP, b"--xy\nContent-Disposition: form-data; name=\"a\"\n\nval\r\n--xy--\n");
    check_every_split(MP, b"--xy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n-\r\n--\r\n--xy--");
}

#[test]
fn multipart_bad_bodies_fail() {
    for body in [
        &b"--xy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nval\r\n--xy--\r\nepilogue"[..],
        b"--xy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nval\r\n--xz\r\n",
        b"--xyz\r\n",
    ] {
        let (_, r, f) = run(MP, 256, body, &[], None);
        assert!(!(r.iter().all(|&x| x) && f), "{:?}", String::from_utf8_lossy(body));
    }
    // Truncated: processing is fine so far, but the end is not reached.
    let (e, r, f) = run(MP, 256, b"--xy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nval", &[], None);
    assert_eq!((r, f), (vec![true], false));
    assert!(e.iter().all(|e| e.key.as_deref() == Some("a")));
    // A header line longer than the buffer.
    let long = format!("--xy\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\nv\r\n--xy--\r\n", "h".repeat(300));
    assert_eq!(run(MP, 256, long.as_bytes(), &[], None).1, vec![false]);
    // Errors are sticky.
    let mut pp = PostProcessor::new(Some(MP.as_bytes()), 256).unwrap();
    let mut sink = |_: &PostEvent<'_>| true;
    assert!(!pp.process(b"--xyz\r\n", &mut sink));
    assert!(!pp.process(b"--xy\r\n", &mut sink));
}

#[test]
fn random_bodies_never_panic() {
    // A small deterministic generator over the interesting bytes.
    let mut seed = 0x2545F4914F6CDD1Du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"ab%=&+\r\n-xy\"0F ";
    for ct in [URL, MP, "multipart/form-data; boundary=\"\""] {
        for _ in 0..300 {
            let n = (next() % 80) as usize;
            let body: Vec<u8> = (0..n).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let cut = if n == 0 { 0 } else { (next() % n as u64) as usize };
            let _ = run(ct, 256, &body, &[cut], None);
        }
    }
}
