//! HTTPS through OpenSSL: the server context built from libmicrohttpd's TLS
//! options, and the transport every connection reads and writes through.

#![forbid(unsafe_code)]

pub mod transport;

use openssl::pkey::PKey;
use openssl::ssl::{AlpnError, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslVersion};
use openssl::x509::X509;

/// The TLS options of `MHD_start_daemon`, copied out of the application's memory.
#[derive(Default, Clone)]
pub struct TlsOptions {
    /// MHD_OPTION_HTTPS_MEM_KEY (PEM).
    pub key_pem: Option<Vec<u8>>,
    /// MHD_OPTION_HTTPS_MEM_CERT (PEM, leaf first, then the chain).
    pub cert_pem: Option<Vec<u8>>,
    /// MHD_OPTION_HTTPS_KEY_PASSWORD.
    pub key_password: Option<Vec<u8>>,
    /// MHD_OPTION_TLS_NO_ALPN.
    pub no_alpn: bool,
}

/// A server context shared by all connections of a daemon.
pub struct TlsContext {
    ctx: SslContext,
}

impl TlsContext {
    pub fn new(o: &TlsOptions) -> Result<TlsContext, String> {
        let mut b = SslContextBuilder::new(SslMethod::tls_server()).map_err(|e| format!("TLS context: {e}"))?;
        b.set_min_proto_version(Some(SslVersion::TLS1_2)).map_err(|e| format!("TLS context: {e}"))?;
        b.set_options(SslOptions::NO_COMPRESSION | SslOptions::NO_RENEGOTIATION | SslOptions::CIPHER_SERVER_PREFERENCE);
        let (Some(key_pem), Some(cert_pem)) = (&o.key_pem, &o.cert_pem) else {
            return Err("MHD_USE_TLS needs MHD_OPTION_HTTPS_MEM_KEY and MHD_OPTION_HTTPS_MEM_CERT".into());
        };
        let key = match &o.key_password {
            Some(p) => PKey::private_key_from_pem_passphrase(key_pem, p),
            None => PKey::private_key_from_pem(key_pem),
        }
        .map_err(|e| format!("MHD_OPTION_HTTPS_MEM_KEY: cannot load the private key: {e}"))?;
        let certs = X509::stack_from_pem(cert_pem).map_err(|e| format!("MHD_OPTION_HTTPS_MEM_CERT: {e}"))?;
        let Some((leaf, chain)) = certs.split_first() else {
            return Err("MHD_OPTION_HTTPS_MEM_CERT holds no certificate".into());
        };
        b.set_certificate(leaf).map_err(|e| format!("MHD_OPTION_HTTPS_MEM_CERT: {e}"))?;
        for c in chain {
            b.add_extra_chain_cert(c.clone()).map_err(|e| format!("MHD_OPTION_HTTPS_MEM_CERT chain: {e}"))?;
        }
        b.set_private_key(&key).map_err(|e| format!("MHD_OPTION_HTTPS_MEM_KEY: {e}"))?;
        b.check_private_key().map_err(|e| format!("the key does not match the certificate: {e}"))?;
        if !o.no_alpn {
            b.set_alpn_select_callback(|_, client| {
                openssl::ssl::select_next_proto(b"\x08http/1.1", client).ok_or(AlpnError::NOACK)
            });
        }
        Ok(TlsContext { ctx: b.build() })
    }

    /// A new session for one connection.
    pub fn session(&self) -> Result<Ssl, String> {
        Ssl::new(&self.ctx).map_err(|e| format!("TLS session: {e}"))
    }
}
