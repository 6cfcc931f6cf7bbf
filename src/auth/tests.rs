//! Cases marked "0.9.75" were observed with Debian's libmicrohttpd 0.9.75-6.
use super::*;

#[test]
fn base64_as_0_9_75_decodes() {
    assert_eq!(base64_decode(b"dXNlcjpwYXNz").unwrap(), b"user:pass");
    assert_eq!(base64_decode(b"YTpiOmM=").unwrap(), b"a:b:c");
    assert_eq!(base64_decode(b"dXNlcjo=").unwrap(), b"user:");
    assert!(base64_decode(b"dXNlcjpwYXN").is_none());
    assert!(base64_decode(b"dXNlcjpwYXNz=").is_none());
    // 0.9.75: bytes outside the alphabet count as 'A'.
    assert_eq!(base64_decode(b"dXNlcjpw!XNz").unwrap(), b"user:p\x01ss");
    // 0.9.75: '=' ends the data; a misplaced '=' is all ones.
    assert_eq!(base64_decode(b"dXNlcjpwYXNz====").unwrap(), b"user:pass\xff");
    assert_eq!(base64_decode(b"dXNlcjo=cGFz").unwrap(), b"user:");
    // C sees the string up to a NUL.
    assert_eq!(base64_decode(b"dXNlcgA6cGFzcw==").unwrap(), b"user");
}

#[test]
fn basic_credentials_as_0_9_75_reads_them() {
    assert_eq!(basic_credentials(b"Basic dXNlcjpwYXNz"), Some((b"user".to_vec(), b"pass".to_vec())));
    assert_eq!(basic_credentials(b"Basic OnB3"), Some((b"".to_vec(), b"pw".to_vec())));
    assert_eq!(basic_credentials(b"Basic YTpiOmM="), Some((b"a".to_vec(), b"b:c".to_vec())));
    for bad in [&b"basic dXNlcjpwYXNz"[..], b"Basic  dXNlcjpwYXNz", b"Basic dXNlcg==", b"Basic", b"Basic dXNlcjpwYXNz ", b"Digest x=y"] {
        assert_eq!(basic_credentials(bad), None, "{}", String::from_utf8_lossy(bad));
    }
    assert_eq!(basic_challenge(b"My \"Realm\""), b"Basic realm=\"My \"Realm\"\"");
}

#[test]
fn digest_parameters() {
    let h = b"username=\"bob\", realm=r, nonce=\"a,b\", uri=\"/x?y=1\", x=\"\"";
    assert_eq!(param(h, b"username", 128).unwrap(), b"bob");
    assert_eq!(param(h, b"realm", 128).unwrap(), b"r");
    assert_eq!(param(h, b"nonce", 128).unwrap(), b"a,b");
    assert_eq!(param(h, b"uri", 128).unwrap(), b"/x?y=1");
    assert_eq!(param(h, b"x", 128), None);
    assert_eq!(param(h, b"missing", 128), None);
    assert_eq!(param(b"realm=\"r\", USERNAME=\"bo,b\"", b"username", 128).unwrap(), b"bo,b");
    assert_eq!(param(b"a=b, username=\"z", b"username", 128), None);
    assert_eq!(param(b"username=  \"u\",realm=x", b"username", 128).unwrap(), b"u");
    // Values are cut to the buffer.
    let long = format!("username=\"{}\"", "u".repeat(200));
    assert_eq!(param(long.as_bytes(), b"username", 128).unwrap().len(), 127);
}

#[test]
fn nonce_and_challenge() {
    assert_eq!(calculate_nonce(5, b"GET", b"abcd", b"/p", b"realm", Algorithm::Md5), "83d3080a7096afb22f3721434bce746f00000005");
    assert_eq!(
        calculate_nonce(5, b"GET", b"", b"/p", b"realm", Algorithm::Sha256),
        "4937f29bffa67d8b2b4d540785328593efa13d256b284f533ea0535188256c9b00000005"
    );
    assert_eq!(
        digest_challenge(b"realm", "N", b"opq", Algorithm::Md5, false),
        b"Digest realm=\"realm\",qop=\"auth\",nonce=\"N\",opaque=\"opq\",algorithm=md5"
    );
    assert_eq!(
        digest_challenge(b"realm", "N", b"opq", Algorithm::Sha256, true),
        b"Digest realm=\"realm\",qop=\"auth\",nonce=\"N\",opaque=\"opq\",algorithm=sha-256,stale=\"true\""
    );
}

#[test]
fn rfc_test_vectors() {
    // RFC 2617 3.5
    let ha1 = Algorithm::Md5.hex(&[b"Mufasa:testrealm@host.com:Circle Of Life"]);
    let r = request_digest(Algorithm::Md5, &ha1, b"dcd98b7102dd2f0e8b11d0f600bfb0c093", b"00000001", b"0a4f113b", b"auth", b"GET", b"/dir/index.html");
    assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    // RFC 7616 3.9.1
    let (nonce, cnonce) = (&b"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"[..], &b"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"[..]);
    let ha1 = Algorithm::Sha256.hex(&[b"Mufasa:http-auth@example.org:Circle of Life"]);
    let r = request_digest(Algorithm::Sha256, &ha1, nonce, b"00000001", cnonce, b"auth", b"GET", b"/dir/index.html");
    assert_eq!(r, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    let ha1 = Algorithm::Md5.hex(&[b"Mufasa:http-auth@example.org:Circle of Life"]);
    let r = request_digest(Algorithm::Md5, &ha1, nonce, b"00000001", cnonce, b"auth", b"GET", b"/dir/index.html");
    assert_eq!(r, "8ca523f5e9506fed4657c9700eebdbec");
}

#[test]
fn nonce_counts() {
    let t = NonceTable::new(4);
    assert!(t.check(b"n1", 0));
    assert!(t.check(b"n1", 1));
    assert!(!t.check(b"n1", 1), "replay");
    assert!(t.check(b"n1", 3));
    assert!(t.check(b"n1", 2), "out of order within 64");
    assert!(!t.check(b"n1", 2), "out-of-order replay");
    assert!(t.check(b"n1", 0x100));
    assert!(!t.check(b"other", 0x101), "unknown nonce");
    // One slot: a newer nonce evicts the older.
    let t = NonceTable::new(1);
    assert!(t.check(b"a", 0));
    assert!(t.check(b"b", 0));
    assert!(!t.check(b"a", 1));
    assert!(t.check(b"b", 1));
    // No table: nothing can be registered.
    assert!(!NonceTable::new(0).check(b"a", 0));
    assert!(!NonceTable::new(4).check(&[b'a'; MAX_NONCE_LENGTH], 0));
}

fn header(algo: Algorithm, nonce: &str, uri: &str, nc: &str, pw: &str) -> Vec<u8> {
    let ha1 = algo.hex(&[b"user:realm:", pw.as_bytes()]);
    let resp = request_digest(algo, &ha1, nonce.as_bytes(), nc.as_bytes(), b"cn", b"auth", b"GET", uri.as_bytes());
    format!("Digest username=\"user\", realm=\"realm\", nonce=\"{nonce}\", uri=\"{uri}\", cnonce=\"cn\", nc={nc}, qop=auth, response=\"{resp}\"").into_bytes()
}

fn run(table: &NonceTable, now: u32, h: &[u8], url: &[u8], args: &[(Vec<u8>, Option<Vec<u8>>)], algo: Algorithm, timeout: u32) -> Outcome {
    let srv = DigestServer { random: b"rnd", nonces: table, now };
    let req = DigestRequest { header: h, method: b"GET", url, args };
    let mut unescape = |s: &mut Vec<u8>, plus: bool| {
        if plus {
            s.iter_mut().filter(|b| **b == b'+').for_each(|b| *b = b' ');
        }
        let n = crate::http1::unescape_in_place(s);
        s.truncate(n);
    };
    check(&srv, &req, b"realm", b"user", Secret::Password(b"pass"), timeout, algo, &mut unescape)
}

#[test]
fn digest_check_flow() {
    for algo in [Algorithm::Md5, Algorithm::Sha256] {
        let t = NonceTable::new(4);
        let nonce = calculate_nonce(100, b"GET", b"rnd", b"/p", b"realm", algo);
        assert!(t.check(nonce.as_bytes(), 0));
        let ok = header(algo, &nonce, "/p", "00000001", "pass");
        assert_eq!(run(&t, 100, &ok, b"/p", &[], algo, 300), Outcome::Yes);
        assert_eq!(run(&t, 100, &ok, b"/p", &[], algo, 300), Outcome::No, "replayed nc");
        let wrong = header(algo, &nonce, "/p", "00000002", "nope");
        assert_eq!(run(&t, 100, &wrong, b"/p", &[], algo, 300), Outcome::No);
        // Too old, or made for another URL: stale.
        let h = header(algo, &nonce, "/p", "00000003", "pass");
        assert_eq!(run(&t, 401, &h, b"/p", &[], algo, 300), Outcome::InvalidNonce);
        assert_eq!(run(&t, 100, &h, b"/q", &[], algo, 300), Outcome::InvalidNonce);
        // The uri must be the request's URL.
        let h = header(algo, &nonce, "/q", "00000004", "pass");
        assert_eq!(run(&t, 100, &h, b"/p", &[], algo, 300), Outcome::No);
        // GET arguments must match exactly (in any order).
        let args = vec![(b"x".to_vec(), Some(b"1".to_vec())), (b"y".to_vec(), None)];
        let h = header(algo, &nonce, "/p?y&x=%31", "00000005", "pass");
        assert_eq!(run(&t, 100, &h, b"/p", &args, algo, 300), Outcome::Yes);
        let h = header(algo, &nonce, "/p?x=1", "00000006", "pass");
        assert_eq!(run(&t, 100, &h, b"/p", &args, algo, 300), Outcome::No);
    }
    // A nonce of the other algorithm is not ours.
    let t = NonceTable::new(4);
    let nonce = calculate_nonce(100, b"GET", b"rnd", b"/p", b"realm", Algorithm::Md5);
    let h = header(Algorithm::Sha256, &nonce, "/p", "00000001", "pass");
    assert_eq!(run(&t, 100, &h, b"/p", &[], Algorithm::Sha256, 300), Outcome::InvalidNonce);
    // Malformed headers.
    for h in [&b"Basic dXNlcjpwYXNz"[..], b"Digest username=\"user\"", b"Digest username=\"user\", realm=\"realm\", nonce=\"abc\""] {
        assert_eq!(run(&t, 100, h, b"/p", &[], Algorithm::Md5, 300), Outcome::No);
    }
}
