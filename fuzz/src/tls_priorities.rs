//! GnuTLS priority string → OpenSSL settings (src/tls/priorities.rs).
//!
//! Input: a mode byte; then either the raw string (mode even) or bytes
//! that pick keywords with a prefix each (mode odd), so the fuzzer reaches
//! the deep cases quickly. Invariants:
//! - parsing is deterministic; an accepted string offers TLS 1.2 or 1.3
//!   (never anything older), and OpenSSL accepts every list it maps to
//!   (TLS 1.3 suites, groups; the TLS 1.2 cipher list may match no cipher
//!   OpenSSL has, which makes the daemon start fail, but is never invalid);
//! - a refusal quotes the string and says what to write instead;
//! - appending an empty element or `%SERVER_PRECEDENCE` changes nothing.

use crate::Input;
use microhttpd::tls::priorities::parse;
use openssl::ssl::{SslContextBuilder, SslMethod};

const BASES: &[&str] = &["NORMAL", "PERFORMANCE", "SECURE128", "SECURE192", "SECURE256", "PFS", "NONE", "SYSTEM", "@SYSTEM", "LEGACY", ""];
const WORDS: &[&str] = &[
    "VERS-TLS1.2", "VERS-TLS1.3", "VERS-ALL", "VERS-TLS-ALL", "VERS-TLS1.0", "VERS-TLS1.1", "VERS-SSL3.0", "VERS-DTLS1.2",
    "CIPHER-ALL", "AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305", "AES-128-CCM", "AES-256-CCM", "AES-128-CBC", "AES-256-CBC",
    "3DES-CBC", "ARCFOUR-128", "CAMELLIA-128-GCM", "AES-128-CCM-8", "NULL",
    "KX-ALL", "RSA", "DHE-RSA", "ECDHE-RSA", "ECDHE-ECDSA", "PSK", "DHE-PSK", "ECDHE-PSK", "RSA-PSK", "ANON-DH", "SRP",
    "MAC-ALL", "SHA1", "SHA256", "SHA384", "AEAD", "MD5", "UMAC-96",
    "GROUP-ALL", "CURVE-ALL", "GROUP-X25519", "GROUP-SECP256R1", "GROUP-SECP384R1", "GROUP-SECP521R1", "GROUP-X448",
    "GROUP-FFDHE2048", "GROUP-FFDHE3072", "GROUP-FFDHE4096", "GROUP-FFDHE8192", "CURVE-X25519", "GROUP-FOO",
    "COMP-NULL", "COMP-ALL", "COMP-DEFLATE", "CTYPE-X509", "CTYPE-OPENPGP", "SIGN-RSA-SHA256", "SIGN-ALL",
    "%SERVER_PRECEDENCE", "%COMPAT", "%NO_TICKETS", "%NO_TICKETS_TLS12", "%UNSAFE_RENEGOTIATION", "%NO_ETM", "%FOO", "",
];
const PREFIX: &[&str] = &["+", "-", "!", "", " +", "+ "];

fn build(inp: &mut Input<'_>) -> String {
    let mut s = BASES[usize::from(inp.u8()) % BASES.len()].to_string();
    while !inp.is_empty() {
        let w = WORDS[usize::from(inp.u8()) % WORDS.len()];
        let p = if w.starts_with('%') { "" } else { PREFIX[usize::from(inp.u8()) % PREFIX.len()] };
        s.push(':');
        s.push_str(p);
        s.push_str(w);
    }
    s
}

pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let mode = inp.u8();
    let psk = mode & 2 != 0;
    let s = if mode & 1 == 0 {
        String::from_utf8_lossy(inp.rest()).into_owned()
    } else {
        build(&mut inp)
    };
    let r = parse(&s, psk);
    assert_eq!(r, parse(&s, psk), "not deterministic");
    match &r {
        Err(msg) => {
            assert!(msg.contains(&format!("\"{s}\"")), "refusal does not quote the string: {msg}");
            assert!(msg.contains("; "), "refusal says no remedy: {msg}");
        }
        Ok(set) => {
            assert!(set.tls12 || set.tls13, "{s}: neither TLS 1.2 nor 1.3");
            let mut b = SslContextBuilder::new(SslMethod::tls_server()).expect("OpenSSL context");
            if set.tls12 {
                assert!(!set.cipher_list.is_empty(), "{s}: TLS 1.2 without ciphers");
                // A combination may match no cipher OpenSSL has (PSK with
                // AES-256-CBC and SHA256, say): then MHD_start_daemon fails
                // with "OpenSSL refused the translation". Anything else
                // (a syntax error in the list) is a mapping bug.
                if let Err(e) = b.set_cipher_list(&set.cipher_list) {
                    assert!(e.to_string().contains("no cipher match"), "{s}: OpenSSL refuses {:?}: {e}", set.cipher_list);
                }
            }
            if set.tls13 {
                assert!(!set.ciphersuites.is_empty(), "{s}: TLS 1.3 without suites");
                b.set_ciphersuites(&set.ciphersuites).unwrap_or_else(|e| panic!("{s}: OpenSSL refuses {:?}: {e}", set.ciphersuites));
            }
            if let Some(g) = &set.groups {
                assert!(!g.is_empty(), "{s}: empty group list");
                b.set_groups_list(g).unwrap_or_else(|e| panic!("{s}: OpenSSL refuses groups {g:?}: {e}"));
            }
            // Metamorphic: no-op additions change nothing.
            assert_eq!(parse(&format!("{s}:"), psk), r, "{s}: trailing ':' changed the result");
            assert_eq!(parse(&format!("{s}:%SERVER_PRECEDENCE"), psk), r, "{s}: %SERVER_PRECEDENCE changed the result");
        }
    }
}
