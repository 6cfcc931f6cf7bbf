//! HTTPS through OpenSSL: the server context built from libmicrohttpd's TLS
//! options, and the transport every connection reads and writes through.

#![forbid(unsafe_code)]

pub mod priorities;
pub mod transport;

use crate::ffi::hooks::{CPtr, PskCredentials};
use openssl::dh::Dh;
use openssl::error::ErrorStack;
use openssl::pkey::PKey;
use openssl::ssl::{
    AlpnError, Ssl, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslRef, SslVerifyMode, SslVersion,
};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::pkey::Id;
use openssl::x509::{X509KeyUsage, X509Name, X509};
use std::sync::OnceLock;

/// GnuTLS's `gnutls_credentials_type_t` values (MHD_OPTION_HTTPS_CRED_TYPE).
pub const GNUTLS_CRD_CERTIFICATE: i32 = 1;
pub const GNUTLS_CRD_PSK: i32 = 4;

/// The TLS options of `MHD_start_daemon`, copied out of the application's memory.
#[derive(Clone)]
pub struct TlsOptions {
    /// MHD_OPTION_HTTPS_MEM_KEY (PEM).
    pub key_pem: Option<Vec<u8>>,
    /// MHD_OPTION_HTTPS_MEM_CERT (PEM, leaf first, then the chain).
    pub cert_pem: Option<Vec<u8>>,
    /// MHD_OPTION_HTTPS_KEY_PASSWORD.
    pub key_password: Option<Vec<u8>>,
    /// MHD_OPTION_HTTPS_MEM_TRUST (PEM CA certificates for client certificates).
    pub trust_pem: Option<Vec<u8>>,
    /// MHD_OPTION_HTTPS_MEM_DHPARAMS (PEM PKCS#3).
    pub dhparams_pem: Option<Vec<u8>>,
    /// MHD_OPTION_HTTPS_PRIORITIES (a GnuTLS priority string).
    pub priorities: Option<String>,
    /// MHD_OPTION_HTTPS_CRED_TYPE (a `gnutls_credentials_type_t`).
    pub cred_type: i32,
    /// MHD_OPTION_GNUTLS_PSK_CRED_HANDLER.
    pub psk: Option<PskCredentials>,
    /// MHD_OPTION_TLS_NO_ALPN.
    pub no_alpn: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            key_pem: None,
            cert_pem: None,
            key_password: None,
            trust_pem: None,
            dhparams_pem: None,
            priorities: None,
            cred_type: GNUTLS_CRD_CERTIFICATE,
            psk: None,
            no_alpn: false,
        }
    }
}

/// What MHD_get_connection_info reports about a TLS connection, taken once
/// right after the handshake.
pub struct TlsInfo {
    /// `gnutls_protocol_t`: GNUTLS_TLS1_2 = 4, GNUTLS_TLS1_3 = 5 (0 unknown).
    pub protocol: i32,
    /// `gnutls_cipher_algorithm_t` of the negotiated bulk cipher.
    pub cipher: i32,
    /// The OpenSSL `SSL *` (valid while the connection lives).
    pub ssl: CPtr,
    /// The client's certificate, verified against MHD_OPTION_HTTPS_MEM_TRUST
    /// (held here so the `X509 *` stays valid while the connection lives).
    pub peer_cert: Option<X509>,
}

impl TlsInfo {
    pub fn of(ssl: &SslRef) -> TlsInfo {
        // gnutls_protocol_t (gnutls/gnutls.h): GNUTLS_TLS1_2 = 4, GNUTLS_TLS1_3 = 5.
        let protocol = match ssl.version2() {
            Some(SslVersion::TLS1_3) => 5,
            Some(SslVersion::TLS1_2) => 4,
            _ => 0,
        };
        let cipher = ssl.current_cipher().and_then(|c| c.standard_name()).map_or(0, gnutls_cipher);
        // A `&SslRef` is the address of OpenSSL's SSL object (the
        // foreign-types convention), which is what C needs.
        let ptr = ssl as *const SslRef as *mut std::ffi::c_void;
        TlsInfo { protocol, cipher, ssl: CPtr(ptr), peer_cert: ssl.peer_certificate() }
    }

    /// The `X509 *` of the verified client certificate, or NULL.
    pub fn peer_cert_ptr(&self) -> *mut std::ffi::c_void {
        self.peer_cert.as_ref().map_or(std::ptr::null_mut(), |c| &**c as *const openssl::x509::X509Ref as *mut _)
    }
}

/// Maps an IANA cipher-suite name to GnuTLS's `gnutls_cipher_algorithm_t`
/// (values from gnutls/gnutls.h, 3.7).
fn gnutls_cipher(name: &str) -> i32 {
    const T: [(&str, i32); 13] = [
        ("AES_128_CCM_8", 21), // GNUTLS_CIPHER_AES_128_CCM_8
        ("AES_256_CCM_8", 22), // GNUTLS_CIPHER_AES_256_CCM_8
        ("AES_128_CCM", 19),   // GNUTLS_CIPHER_AES_128_CCM
        ("AES_256_CCM", 20),   // GNUTLS_CIPHER_AES_256_CCM
        ("AES_128_GCM", 10),   // GNUTLS_CIPHER_AES_128_GCM
        ("AES_256_GCM", 11),   // GNUTLS_CIPHER_AES_256_GCM
        ("CHACHA20_POLY1305", 23), // GNUTLS_CIPHER_CHACHA20_POLY1305
        ("AES_128_CBC", 4),    // GNUTLS_CIPHER_AES_128_CBC
        ("AES_256_CBC", 5),    // GNUTLS_CIPHER_AES_256_CBC
        ("CAMELLIA_128_CBC", 7), // GNUTLS_CIPHER_CAMELLIA_128_CBC
        ("CAMELLIA_256_CBC", 8), // GNUTLS_CIPHER_CAMELLIA_256_CBC
        ("3DES_EDE_CBC", 3),   // GNUTLS_CIPHER_3DES_CBC
        ("NULL", 1),           // GNUTLS_CIPHER_NULL
    ];
    T.iter().find(|(k, _)| name.contains(k)).map_or(0, |(_, v)| *v) // 0: GNUTLS_CIPHER_UNKNOWN
}

/// Where each session keeps the `struct MHD_Connection *` the PSK callback passes on.
pub fn conn_index() -> Result<openssl::ex_data::Index<Ssl, OnceLock<CPtr>>, String> {
    type Idx = openssl::ex_data::Index<Ssl, OnceLock<CPtr>>;
    static IDX: OnceLock<Result<Idx, String>> = OnceLock::new();
    IDX.get_or_init(|| Ssl::new_ex_index::<OnceLock<CPtr>>().map_err(|e| e.to_string())).clone()
}

/// A server context shared by all connections of a daemon.
pub struct TlsContext {
    ctx: SslContext,
}

fn e(what: &str) -> impl FnOnce(ErrorStack) -> String + '_ {
    move |err| format!("{what}: {err}")
}

impl TlsContext {
    /// The context for these options. `note` receives what the daemon's
    /// log should say about a setting that works but not as asked.
    pub fn new(o: &TlsOptions, note: &mut dyn FnMut(&str)) -> Result<TlsContext, String> {
        let psk_mode = match o.cred_type {
            GNUTLS_CRD_CERTIFICATE => false,
            GNUTLS_CRD_PSK => true,
            n => {
                return Err(format!(
                    "MHD_OPTION_HTTPS_CRED_TYPE {n}: only GNUTLS_CRD_CERTIFICATE (1) and GNUTLS_CRD_PSK (4) are supported"
                ))
            }
        };
        let prio = priorities::parse(o.priorities.as_deref().unwrap_or(priorities::DEFAULT), psk_mode)?;
        let mut b = SslContextBuilder::new(SslMethod::tls_server()).map_err(e("TLS context"))?;
        let min = if prio.tls12 { SslVersion::TLS1_2 } else { SslVersion::TLS1_3 };
        let max = if prio.tls13 { SslVersion::TLS1_3 } else { SslVersion::TLS1_2 };
        b.set_min_proto_version(Some(min)).map_err(e("TLS context"))?;
        b.set_max_proto_version(Some(max)).map_err(e("TLS context"))?;
        let mut opts = SslOptions::NO_COMPRESSION | SslOptions::NO_RENEGOTIATION | SslOptions::CIPHER_SERVER_PREFERENCE;
        if prio.no_tickets {
            opts |= SslOptions::NO_TICKET;
            b.set_num_tickets(0).map_err(e("TLS context"))?;
        }
        b.set_options(opts);
        // Idle connections give their record buffers back (see
        // src/tls/README.md): the worker's timeout scan frees them
        // (`Transport::release_buffers`) where this libssl can do that
        // safely, else OpenSSL frees them after every record.
        if !crate::sys::ssl::free_buffers_is_safe() {
            b.set_mode(SslMode::RELEASE_BUFFERS);
        }
        // A record comes in with one read of the socket, not a read of its
        // 5-byte header and another of its body: one syscall less per
        // request. What OpenSSL reads ahead the socket will not announce
        // again, so the connection reads on until OpenSSL wants more
        // (conn/mod.rs `may_hold_more`, and the read after the handshake).
        b.set_read_ahead(true);
        let bad_prio = |err: ErrorStack| format!("MHD_OPTION_HTTPS_PRIORITIES: OpenSSL refused the translation: {err}");
        if prio.tls12 {
            b.set_cipher_list(&prio.cipher_list).map_err(bad_prio)?;
        }
        if prio.tls13 {
            b.set_ciphersuites(&prio.ciphersuites).map_err(bad_prio)?;
        }
        if let Some(g) = &prio.groups {
            b.set_groups_list(g).map_err(bad_prio)?;
        }
        match (&o.key_pem, &o.cert_pem) {
            (Some(key_pem), Some(cert_pem)) => {
                let key = match &o.key_password {
                    Some(p) => PKey::private_key_from_pem_passphrase(key_pem, p),
                    None => PKey::private_key_from_pem(key_pem),
                }
                .map_err(e("MHD_OPTION_HTTPS_MEM_KEY: cannot load the private key (wrong MHD_OPTION_HTTPS_KEY_PASSWORD?)"))?;
                let certs = X509::stack_from_pem(cert_pem).map_err(e("MHD_OPTION_HTTPS_MEM_CERT"))?;
                let Some((leaf, chain)) = certs.split_first() else {
                    return Err("MHD_OPTION_HTTPS_MEM_CERT holds no certificate".into());
                };
                b.set_certificate(leaf).map_err(e("MHD_OPTION_HTTPS_MEM_CERT"))?;
                for c in chain {
                    b.add_extra_chain_cert(c.clone()).map_err(e("MHD_OPTION_HTTPS_MEM_CERT chain"))?;
                }
                b.set_private_key(&key).map_err(e("MHD_OPTION_HTTPS_MEM_KEY"))?;
                b.check_private_key().map_err(e("the key does not match the certificate"))?;
                let may_sign = leaf.key_usage().is_none_or(|u| u.contains(X509KeyUsage::DIGITAL_SIGNATURE));
                if !may_sign && key.id() == Id::RSA {
                    no_signature(&mut b, o, &prio, note)?;
                }
            }
            _ if psk_mode => {}
            _ => return Err("MHD_USE_TLS needs MHD_OPTION_HTTPS_MEM_KEY and MHD_OPTION_HTTPS_MEM_CERT".into()),
        }
        if let Some(trust) = &o.trust_pem {
            let cas = X509::stack_from_pem(trust).map_err(e("MHD_OPTION_HTTPS_MEM_TRUST"))?;
            if cas.is_empty() {
                return Err("MHD_OPTION_HTTPS_MEM_TRUST holds no certificate".into());
            }
            let mut store = X509StoreBuilder::new().map_err(e("MHD_OPTION_HTTPS_MEM_TRUST"))?;
            let mut names = Stack::<X509Name>::new().map_err(e("MHD_OPTION_HTTPS_MEM_TRUST"))?;
            for ca in &cas {
                store.add_cert(ca.clone()).map_err(e("MHD_OPTION_HTTPS_MEM_TRUST"))?;
                names.push(ca.subject_name().to_owned().map_err(e("MHD_OPTION_HTTPS_MEM_TRUST"))?).map_err(e("MHD_OPTION_HTTPS_MEM_TRUST"))?;
            }
            b.set_verify_cert_store(store.build()).map_err(e("MHD_OPTION_HTTPS_MEM_TRUST"))?;
            b.set_client_ca_list(names);
            // Ask for a certificate (as GnuTLS's GNUTLS_CERT_REQUEST): a client
            // may send none, but one it sends must verify.
            b.set_verify(SslVerifyMode::PEER);
            b.set_session_id_context(b"libmicrohttpd-rs").map_err(e("TLS context"))?;
        }
        if let Some(dh) = &o.dhparams_pem {
            let dh = Dh::params_from_pem(dh).map_err(e("MHD_OPTION_HTTPS_MEM_DHPARAMS"))?;
            b.set_tmp_dh(&dh).map_err(e("MHD_OPTION_HTTPS_MEM_DHPARAMS"))?;
        }
        if let Some(psk) = o.psk {
            let idx = conn_index()?;
            b.set_psk_server_callback(move |ssl, identity, out| {
                let conn = ssl.ex_data(idx).and_then(|c| c.get()).map_or(std::ptr::null_mut(), |c| c.0);
                psk.call(conn.cast(), identity.unwrap_or(b""), out).ok_or_else(ErrorStack::get)
            });
        }
        if !o.no_alpn {
            // What libmicrohttpd offers: http/1.1, then http/1.0.
            b.set_alpn_select_callback(|_, client| {
                openssl::ssl::select_next_proto(b"\x08http/1.1\x08http/1.0", client).ok_or(AlpnError::NOACK)
            });
        }
        Ok(TlsContext { ctx: b.build() })
    }
}

/// A certificate whose key usage lacks digitalSignature may not sign, and
/// clients that check (GnuTLS, recent browsers) refuse a server that signs
/// with it anyway, which every forward-secret exchange and TLS 1.3 need.
/// GnuTLS (libmicrohttpd's library) then serves such a certificate with
/// the RSA key exchange over TLS 1.2: so do we, when the priorities allow
/// it or none were given.
fn no_signature(b: &mut SslContextBuilder, o: &TlsOptions, prio: &priorities::Settings, note: &mut dyn FnMut(&str)) -> Result<(), String> {
    let rsa_only = match &o.priorities {
        None => priorities::parse(priorities::DEFAULT_NO_SIGNATURE, false)?.rsa_kx_list,
        Some(_) => prio.rsa_kx_list.clone(),
    };
    if rsa_only.is_empty() || !prio.tls12 && o.priorities.is_some() {
        note("MHD_OPTION_HTTPS_MEM_CERT: the certificate's key usage does not allow signatures, and MHD_OPTION_HTTPS_PRIORITIES leaves no TLS 1.2 RSA key exchange: clients that check key usage will refuse the handshake");
        return Ok(());
    }
    b.set_max_proto_version(Some(SslVersion::TLS1_2)).map_err(e("TLS context"))?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2)).map_err(e("TLS context"))?;
    b.set_cipher_list(&rsa_only).map_err(e("TLS context"))?;
    note("MHD_OPTION_HTTPS_MEM_CERT: the certificate's key usage does not allow signatures: only TLS 1.2 with the RSA key exchange (no forward secrecy) is offered; a certificate with digitalSignature allows TLS 1.3");
    Ok(())
}

impl TlsContext {
    /// A new session for one connection.
    pub fn session(&self) -> Result<Ssl, String> {
        Ssl::new(&self.ctx).map_err(|e| format!("TLS session: {e}"))
    }
}
