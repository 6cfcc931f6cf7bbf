//! GnuTLS priority strings (MHD_OPTION_HTTPS_PRIORITIES) translated into
//! OpenSSL settings: protocol versions, the TLS 1.2 cipher list, the TLS 1.3
//! ciphersuites and the key-exchange groups.
//!
//! A priority string is a base keyword followed by `:`-separated
//! modifiers (`+NAME` adds, `-NAME`/`!NAME` removes, `%FLAG` sets a flag).
//! What we cannot honour is an error whose text says what to write instead;
//! the daemon start fails with it. The table is in src/tls/README.md.

#![forbid(unsafe_code)]

/// Bulk ciphers, in GnuTLS's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cipher {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20,
    Aes128Ccm,
    Aes256Ccm,
    Aes128Cbc,
    Aes256Cbc,
}

const ALL_CIPHERS: [Cipher; 7] = [
    Cipher::Aes256Gcm,
    Cipher::Chacha20,
    Cipher::Aes128Gcm,
    Cipher::Aes256Ccm,
    Cipher::Aes128Ccm,
    Cipher::Aes256Cbc,
    Cipher::Aes128Cbc,
];

impl Cipher {
    fn parse(s: &str) -> Option<Cipher> {
        Some(match s {
            "AES-128-GCM" => Cipher::Aes128Gcm,
            "AES-256-GCM" => Cipher::Aes256Gcm,
            "CHACHA20-POLY1305" => Cipher::Chacha20,
            "AES-128-CCM" => Cipher::Aes128Ccm,
            "AES-256-CCM" => Cipher::Aes256Ccm,
            "AES-128-CBC" => Cipher::Aes128Cbc,
            "AES-256-CBC" => Cipher::Aes256Cbc,
            _ => return None,
        })
    }
    fn aead(self) -> bool {
        !matches!(self, Cipher::Aes128Cbc | Cipher::Aes256Cbc)
    }
    /// OpenSSL cipher-string alias (intersected with a MAC for CBC).
    fn alias(self) -> &'static str {
        match self {
            Cipher::Aes128Gcm => "AES128+AESGCM",
            Cipher::Aes256Gcm => "AES256+AESGCM",
            Cipher::Chacha20 => "CHACHA20",
            Cipher::Aes128Ccm => "AES128+AESCCM",
            Cipher::Aes256Ccm => "AES256+AESCCM",
            Cipher::Aes128Cbc => "AES128",
            Cipher::Aes256Cbc => "AES256",
        }
    }
    /// The TLS 1.3 suite using this cipher, if there is one.
    fn tls13(self) -> Option<&'static str> {
        match self {
            Cipher::Aes128Gcm => Some("TLS_AES_128_GCM_SHA256"),
            Cipher::Aes256Gcm => Some("TLS_AES_256_GCM_SHA384"),
            Cipher::Chacha20 => Some("TLS_CHACHA20_POLY1305_SHA256"),
            Cipher::Aes128Ccm => Some("TLS_AES_128_CCM_SHA256"),
            _ => None,
        }
    }
}

/// Key exchanges, in GnuTLS's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kx {
    EcdheEcdsa,
    EcdheRsa,
    DheRsa,
    Rsa,
    Psk,
    EcdhePsk,
    DhePsk,
    RsaPsk,
}

const CERT_KX: [Kx; 4] = [Kx::EcdheEcdsa, Kx::EcdheRsa, Kx::Rsa, Kx::DheRsa];
const PSK_KX: [Kx; 3] = [Kx::EcdhePsk, Kx::DhePsk, Kx::Psk];

impl Kx {
    fn parse(s: &str) -> Option<Kx> {
        Some(match s {
            "ECDHE-ECDSA" => Kx::EcdheEcdsa,
            "ECDHE-RSA" => Kx::EcdheRsa,
            "DHE-RSA" => Kx::DheRsa,
            "RSA" => Kx::Rsa,
            "PSK" => Kx::Psk,
            "ECDHE-PSK" => Kx::EcdhePsk,
            "DHE-PSK" => Kx::DhePsk,
            "RSA-PSK" => Kx::RsaPsk,
            _ => return None,
        })
    }
    fn alias(self) -> &'static str {
        match self {
            Kx::EcdheEcdsa => "kECDHE+aECDSA",
            Kx::EcdheRsa => "kECDHE+aRSA",
            Kx::DheRsa => "kDHE+aRSA",
            Kx::Rsa => "kRSA+aRSA",
            Kx::Psk => "kPSK",
            Kx::EcdhePsk => "kECDHEPSK",
            Kx::DhePsk => "kDHEPSK",
            Kx::RsaPsk => "kRSAPSK",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mac {
    Aead,
    Sha1,
    Sha256,
    Sha384,
}

const ALL_MACS: [Mac; 4] = [Mac::Aead, Mac::Sha1, Mac::Sha256, Mac::Sha384];

impl Mac {
    fn parse(s: &str) -> Option<Mac> {
        Some(match s {
            "AEAD" => Mac::Aead,
            "SHA1" => Mac::Sha1,
            "SHA256" => Mac::Sha256,
            "SHA384" => Mac::Sha384,
            _ => return None,
        })
    }
    fn alias(self) -> &'static str {
        match self {
            Mac::Aead => "",
            Mac::Sha1 => "SHA1",
            Mac::Sha256 => "SHA256",
            Mac::Sha384 => "SHA384",
        }
    }
}

/// Key-exchange groups: GnuTLS name, OpenSSL name.
const GROUPS: [(&str, &str); 9] = [
    ("X25519", "X25519"),
    ("SECP256R1", "P-256"),
    ("SECP384R1", "P-384"),
    ("SECP521R1", "P-521"),
    ("X448", "X448"),
    ("FFDHE2048", "ffdhe2048"),
    ("FFDHE3072", "ffdhe3072"),
    ("FFDHE4096", "ffdhe4096"),
    ("FFDHE8192", "ffdhe8192"),
];

/// The OpenSSL settings a priority string stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub tls12: bool,
    pub tls13: bool,
    /// `SSL_CTX_set_cipher_list` (TLS 1.2).
    pub cipher_list: String,
    /// The part of `cipher_list` with the RSA key exchange: all that a
    /// certificate whose key may not sign can serve (`TlsContext::new`).
    pub rsa_kx_list: String,
    /// `SSL_CTX_set_ciphersuites` (TLS 1.3).
    pub ciphersuites: String,
    /// `SSL_CTX_set1_groups_list`, when the string restricts groups.
    pub groups: Option<String>,
    /// `%NO_TICKETS`.
    pub no_tickets: bool,
}

fn toggle<T: PartialEq + Copy>(v: &mut Vec<T>, x: T, on: bool) {
    v.retain(|y| *y != x);
    if on {
        v.push(x);
    }
}

/// What a daemon gets without `MHD_OPTION_HTTPS_PRIORITIES`: TLS 1.2 and
/// 1.3 with forward-secret key exchanges (ECDHE, DHE with
/// `MHD_OPTION_HTTPS_MEM_DHPARAMS`; ECDHE-PSK and DHE-PSK for PSK
/// credentials) and AEAD ciphers only. GnuTLS's NORMAL (0.9.75's default)
/// also has the RSA key exchange and CBC suites, which testssl.sh reports
/// (no forward secrecy, LUCKY13); an application that needs them for old
/// clients writes `NORMAL` explicitly.
pub const DEFAULT: &str = "PFS:-AES-128-CBC:-AES-256-CBC";

/// The default for a certificate whose key may not sign (its key usage
/// lacks digitalSignature): no forward-secret exchange can use it, so what
/// GnuTLS's NORMAL (0.9.75's default) offers with it: the RSA key
/// exchange, CBC suites included (clients limited to those are why such
/// certificates still exist).
pub const DEFAULT_NO_SIGNATURE: &str = "NORMAL";

/// Parses a GnuTLS priority string. `psk`: the daemon uses PSK
/// credentials (MHD_OPTION_HTTPS_CRED_TYPE = GNUTLS_CRD_PSK), so the
/// PSK key exchanges are on by default.
pub fn parse(s: &str, psk: bool) -> Result<Settings, String> {
    let mut parts = s.split(':').map(str::trim);
    let base = parts.next().unwrap_or("");
    let mut ciphers: Vec<Cipher> = ALL_CIPHERS.to_vec();
    let mut kx: Vec<Kx> = if psk { PSK_KX.to_vec() } else { CERT_KX.to_vec() };
    let mut macs: Vec<Mac> = ALL_MACS.to_vec();
    let mut groups: Option<Vec<&'static str>> = None;
    let (mut v12, mut v13) = (true, true);
    let mut no_tickets = false;
    let refuse = |what: &str, instead: &str| Err(format!("MHD_OPTION_HTTPS_PRIORITIES \"{s}\": {what}; {instead}"));
    match base {
        "NORMAL" | "SECURE128" | "SECURE" => {}
        "PERFORMANCE" => {
            ciphers = vec![
                Cipher::Aes128Gcm,
                Cipher::Chacha20,
                Cipher::Aes256Gcm,
                Cipher::Aes128Ccm,
                Cipher::Aes256Ccm,
                Cipher::Aes128Cbc,
                Cipher::Aes256Cbc,
            ]
        }
        "SECURE192" | "SECURE256" => {
            ciphers = vec![Cipher::Aes256Gcm, Cipher::Chacha20, Cipher::Aes256Ccm, Cipher::Aes256Cbc];
            macs = vec![Mac::Aead, Mac::Sha384, Mac::Sha256];
        }
        "PFS" => kx.retain(|k| !matches!(k, Kx::Rsa | Kx::Psk | Kx::RsaPsk)),
        "NONE" => {
            ciphers.clear();
            kx.clear();
            macs.clear();
            v12 = false;
            v13 = false;
        }
        "" => return refuse("the string is empty", "write NORMAL (the default)"),
        other if other.starts_with('@') || other == "SYSTEM" => {
            return refuse(
                "system-wide GnuTLS priority files are not read by this OpenSSL-based library",
                "write NORMAL (OpenSSL's system configuration still applies)",
            )
        }
        other => {
            return refuse(
                &format!("the keyword {other} has no OpenSSL equivalent here"),
                "start with NORMAL, PERFORMANCE, PFS, SECURE128, SECURE192 or SECURE256",
            )
        }
    }
    for m in parts {
        if m.is_empty() {
            continue;
        }
        if let Some(flag) = m.strip_prefix('%') {
            match flag {
                // We always prefer the server's order; the rest only
                // concern GnuTLS's own record layer.
                "SERVER_PRECEDENCE" | "COMPAT" | "LATEST_RECORD_VERSION" | "SSL3_RECORD_VERSION"
                | "SAFE_RENEGOTIATION" | "PARTIAL_RENEGOTIATION" | "STATELESS_COMPRESSION" | "NO_ETM"
                | "FORCE_ETM" | "DUMBFW" | "NO_SESSION_HASH" => {}
                "NO_TICKETS" | "NO_TICKETS_TLS12" => no_tickets = true,
                "UNSAFE_RENEGOTIATION" | "INITIAL_SAFE_RENEGOTIATION" | "DISABLE_SAFE_RENEGOTIATION" => {
                    return refuse(&format!("%{flag}: renegotiation is never offered"), &format!("remove %{flag}"))
                }
                _ => return refuse(&format!("the flag %{flag} is not supported"), &format!("remove %{flag}")),
            }
            continue;
        }
        let (on, name) = match m.as_bytes()[0] {
            b'+' => (true, &m[1..]),
            b'-' | b'!' => (false, &m[1..]),
            _ => return refuse(&format!("\"{m}\" lacks a + or - prefix"), &format!("write +{m} or -{m}")),
        };
        if let Some(v) = name.strip_prefix("VERS-") {
            match v {
                "TLS1.2" => v12 = on,
                "TLS1.3" => v13 = on,
                "ALL" | "TLS-ALL" => {
                    v12 = on;
                    v13 = on;
                }
                "SSL3.0" | "TLS1.0" | "TLS1.1" | "DTLS0.9" | "DTLS1.0" | "DTLS1.2" | "DTLS-ALL" if !on => {}
                _ => return refuse(&format!("{m}: only TLS 1.2 and TLS 1.3 are offered"), &format!("remove {m}")),
            }
        } else if name == "CIPHER-ALL" {
            ciphers = if on { ALL_CIPHERS.to_vec() } else { Vec::new() };
        } else if let Some(c) = Cipher::parse(name) {
            toggle(&mut ciphers, c, on);
        } else if matches!(
            name,
            "3DES-CBC" | "ARCFOUR-128" | "ARCFOUR-40" | "CAMELLIA-128-CBC" | "CAMELLIA-256-CBC" | "CAMELLIA-128-GCM"
                | "CAMELLIA-256-GCM" | "AES-192-CBC" | "AES-128-CCM-8" | "AES-256-CCM-8" | "GOST28147-TC26Z-CNT" | "NULL"
        ) {
            if on {
                return refuse(
                    &format!("{m}: this cipher is not offered"),
                    "use AES-128-GCM, AES-256-GCM, CHACHA20-POLY1305, AES-128-CCM, AES-256-CCM, AES-128-CBC or AES-256-CBC",
                );
            }
        } else if name == "KX-ALL" {
            kx = if on { if psk { PSK_KX.to_vec() } else { CERT_KX.to_vec() } } else { Vec::new() };
        } else if let Some(k) = Kx::parse(name) {
            toggle(&mut kx, k, on);
        } else if matches!(name, "ANON-DH" | "ANON-ECDH" | "SRP" | "SRP-RSA" | "SRP-DSS" | "DHE-DSS" | "VKO-GOST-12") {
            if on {
                return refuse(&format!("{m}: this key exchange is not offered"), &format!("remove {m}"));
            }
        } else if name == "MAC-ALL" {
            macs = if on { ALL_MACS.to_vec() } else { Vec::new() };
        } else if let Some(x) = Mac::parse(name) {
            toggle(&mut macs, x, on);
        } else if matches!(name, "MD5" | "SHA224" | "SHA512" | "UMAC-96" | "UMAC-128" | "GOST28147-TC26Z-IMIT") {
            if on {
                return refuse(&format!("{m}: this MAC is not offered"), "use SHA1, SHA256, SHA384 or AEAD");
            }
        } else if name == "GROUP-ALL" || name == "CURVE-ALL" {
            groups = if on { None } else { Some(Vec::new()) };
        } else if let Some(g) = name.strip_prefix("GROUP-").or_else(|| name.strip_prefix("CURVE-")) {
            let Some(&(_, ossl)) = GROUPS.iter().find(|(n, _)| *n == g) else {
                return refuse(
                    &format!("{m}: unknown group"),
                    "use GROUP-X25519, GROUP-SECP256R1, GROUP-SECP384R1, GROUP-SECP521R1, GROUP-X448 or GROUP-FFDHE2048/3072/4096/8192",
                );
            };
            let list = groups.get_or_insert_with(|| GROUPS.iter().map(|(_, o)| *o).collect());
            toggle(list, ossl, on);
        } else if name.starts_with("COMP-") {
            if on && name != "COMP-NULL" {
                return refuse(&format!("{m}: TLS compression is never used"), &format!("remove {m}"));
            }
        } else if name.starts_with("CTYPE-") {
            if on && !matches!(name, "CTYPE-X509" | "CTYPE-ALL" | "CTYPE-SRV-X509" | "CTYPE-CLI-X509") {
                return refuse(&format!("{m}: only X.509 certificates are supported"), &format!("remove {m}"));
            }
        } else if name.starts_with("SIGN-") {
            return refuse(
                &format!("{m}: signature algorithms cannot be chosen through this option"),
                &format!("remove {m} (OpenSSL negotiates the signature algorithm from the certificate)"),
            );
        } else {
            return refuse(&format!("\"{m}\" is not understood"), &format!("remove {m}"));
        }
    }
    // TLS 1.2 cipher list: every (key exchange, cipher, MAC) the string allows.
    let mut list = Vec::new();
    let mut rsa_kx_list = Vec::new();
    for c in &ciphers {
        for k in &kx {
            let start = list.len();
            if c.aead() {
                if macs.contains(&Mac::Aead) {
                    list.push(format!("{}+{}", k.alias(), c.alias()));
                }
            } else {
                for m in macs.iter().filter(|m| **m != Mac::Aead) {
                    list.push(format!("{}+{}+{}", k.alias(), c.alias(), m.alias()));
                }
            }
            if *k == Kx::Rsa {
                rsa_kx_list.extend_from_slice(&list[start..]);
            }
        }
    }
    let suites: Vec<&str> = if macs.contains(&Mac::Aead) { ciphers.iter().filter_map(|c| c.tls13()).collect() } else { Vec::new() };
    let tls12 = v12 && !list.is_empty();
    let tls13 = v13 && !suites.is_empty() && kx.iter().any(|k| !matches!(k, Kx::Rsa | Kx::RsaPsk));
    if !tls12 && !tls13 {
        return refuse(
            "it leaves no TLS 1.2 or TLS 1.3 cipher suite",
            "start from NORMAL and remove less (for example NORMAL:-VERS-TLS1.2)",
        );
    }
    if let Some(g) = &groups {
        if g.is_empty() {
            return refuse("it removes every key-exchange group", "keep at least one GROUP-...");
        }
    }
    Ok(Settings {
        tls12,
        tls13,
        cipher_list: list.join(":"),
        rsa_kx_list: rsa_kx_list.join(":"),
        ciphersuites: suites.join(":"),
        groups: groups.map(|g| g.join(":")),
        no_tickets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_offers_both_versions() {
        let s = parse("NORMAL", false).unwrap();
        assert!(s.tls12 && s.tls13);
        assert!(s.cipher_list.starts_with("kECDHE+aECDSA+AES256+AESGCM"));
        assert!(s.ciphersuites.starts_with("TLS_AES_256_GCM_SHA384"));
        assert_eq!(s.groups, None);
    }

    #[test]
    fn rsa_key_exchange_part() {
        assert_eq!(parse(DEFAULT, false).unwrap().rsa_kx_list, "");
        let s = parse(DEFAULT_NO_SIGNATURE, false).unwrap();
        let rsa: Vec<&str> = s.rsa_kx_list.split(':').collect();
        assert!(rsa.iter().all(|c| c.starts_with("kRSA+aRSA+") && s.cipher_list.split(':').any(|x| x == *c)));
        // AES256-SHA, what libmicrohttpd's own tests ask for.
        assert!(rsa.contains(&"kRSA+aRSA+AES256+SHA1"));
        assert!(rsa.contains(&"kRSA+aRSA+AES256+AESGCM"));
    }

    #[test]
    fn modifiers() {
        let s = parse("NORMAL:-VERS-TLS1.3", false).unwrap();
        assert!(s.tls12 && !s.tls13);
        let s = parse("NORMAL:-VERS-ALL:+VERS-TLS1.3", false).unwrap();
        assert!(!s.tls12 && s.tls13);
        let s = parse("NONE:+VERS-TLS1.2:+AES-128-GCM:+ECDHE-RSA:+AEAD", false).unwrap();
        assert_eq!(s.cipher_list, "kECDHE+aRSA+AES128+AESGCM");
        let s = parse("SECURE256:-CIPHER-ALL:+AES-256-CBC:-MAC-ALL:+SHA384", false).unwrap();
        assert!(s.tls12 && !s.tls13);
        assert!(s.cipher_list.contains("kECDHE+aRSA+AES256+SHA384"));
        let s = parse("NORMAL:+PSK:+ECDHE-PSK:%SERVER_PRECEDENCE", false).unwrap();
        assert!(s.cipher_list.contains("kPSK+AES128+AESGCM"));
        let s = parse("NORMAL:-GROUP-ALL:+GROUP-X25519:%NO_TICKETS", false).unwrap();
        assert_eq!(s.groups.as_deref(), Some("X25519"));
        assert!(s.no_tickets);
        let s = parse("PERFORMANCE:-3DES-CBC:-ARCFOUR-128:-VERS-TLS1.0:-COMP-ALL", false).unwrap();
        assert!(s.cipher_list.starts_with("kECDHE+aECDSA+AES128+AESGCM"));
        assert!(!parse("PFS", false).unwrap().cipher_list.contains("kRSA"));
        assert!(parse("NORMAL", true).unwrap().cipher_list.starts_with("kECDHEPSK"));
    }

    #[test]
    fn default_is_forward_secret_aead_only() {
        for psk in [false, true] {
            let s = parse(DEFAULT, psk).unwrap();
            assert!(s.tls12 && s.tls13);
            for entry in s.cipher_list.split(':') {
                assert!(
                    entry.starts_with("kECDHE") || entry.starts_with("kDHE"),
                    "{entry}: not forward secret (psk {psk})"
                );
                assert!(
                    entry.ends_with("AESGCM") || entry.ends_with("CHACHA20") || entry.ends_with("AESCCM"),
                    "{entry}: not AEAD (psk {psk})"
                );
            }
            assert!(!s.cipher_list.is_empty() && !s.ciphersuites.is_empty());
        }
        // an explicit NORMAL keeps GnuTLS's wider set
        assert!(parse("NORMAL", false).unwrap().cipher_list.contains("kRSA"));
    }

    #[test]
    fn refusals_say_what_to_write() {
        for (s, hint) in [
            ("NORMAL:+VERS-TLS1.0", "remove +VERS-TLS1.0"),
            ("LEGACY", "start with NORMAL"),
            ("NORMAL:+3DES-CBC", "use AES-128-GCM"),
            ("NORMAL:-CIPHER-ALL", "start from NORMAL"),
            ("NORMAL:%UNSAFE_RENEGOTIATION", "remove %UNSAFE_RENEGOTIATION"),
            ("NORMAL:+SIGN-RSA-SHA256", "remove +SIGN-RSA-SHA256"),
            ("NORMAL:FOO", "write +FOO or -FOO"),
            ("@SYSTEM", "write NORMAL"),
            ("NORMAL:+COMP-DEFLATE", "remove +COMP-DEFLATE"),
        ] {
            let e = parse(s, false).unwrap_err();
            assert!(e.contains(hint), "{s}: {e}");
        }
    }
}
