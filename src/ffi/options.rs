//! Typed decoding of the `MHD_OptionItem` array the C shim builds from
//! `MHD_start_daemon`'s variable arguments (and `MHD_OPTION_ARRAY`s, which
//! the shim expands in place).
//!
//! Encoding (the one libmicrohttpd uses for `MHD_OPTION_ARRAY`):
//! - integer arguments (`size_t`, `unsigned int`, `int`, `MHD_socket`) in `value`;
//! - a single pointer argument in `ptr_value`;
//! - a (function, closure) pair: the function in `value` (cast to
//!   `intptr_t`), the closure in `ptr_value`;
//! - `MHD_OPTION_DIGEST_AUTH_RANDOM`: the size in `value`, the buffer in `ptr_value`.
//!
//! Function pointers are transmuted from `value` here, in one place.

use core::ffi::{c_char, c_int, c_uint, c_void};

use super::abi::*;

/// One daemon option with its arguments, typed.
#[derive(Clone, Copy, Debug)]
pub enum DaemonOption {
    ConnectionMemoryLimit(usize),
    ConnectionLimit(c_uint),
    ConnectionTimeout(c_uint),
    NotifyCompleted(MHD_RequestCompletedCallback, *mut c_void),
    PerIpConnectionLimit(c_uint),
    SockAddr(*const sockaddr),
    UriLogCallback(MHD_UriLogCallback, *mut c_void),
    HttpsMemKey(*const c_char),
    HttpsMemCert(*const c_char),
    HttpsCredType(c_int),
    HttpsPriorities(*const c_char),
    ListenSocket(MHD_socket),
    ExternalLogger(MHD_LogCallback, *mut c_void),
    ThreadPoolSize(c_uint),
    UnescapeCallback(MHD_UnescapeCallback, *mut c_void),
    DigestAuthRandom(usize, *const c_void),
    NonceNcSize(c_uint),
    ThreadStackSize(usize),
    HttpsMemTrust(*const c_char),
    ConnectionMemoryIncrement(usize),
    /// GnuTLS `gnutls_certificate_retrieve_function2 *` (opaque here).
    HttpsCertCallback(*mut c_void),
    TcpFastopenQueueSize(c_uint),
    HttpsMemDhparams(*const c_char),
    ListeningAddressReuse(c_uint),
    HttpsKeyPassword(*const c_char),
    NotifyConnection(MHD_NotifyConnectionCallback, *mut c_void),
    ListenBacklogSize(c_uint),
    StrictForClient(c_int),
    GnutlsPskCredHandler(MHD_PskServerCredentialsCallback, *mut c_void),
    /// GnuTLS `gnutls_certificate_retrieve_function3 *` (opaque here).
    HttpsCertCallback2(*mut c_void),
    ServerInsanity(c_uint),
    SigpipeHandledByApp(c_int),
    TlsNoAlpn(c_int),
}

impl DaemonOption {
    /// The HTTPS options, which only mean something with MHD_USE_TLS.
    pub fn is_tls_only(&self) -> bool {
        matches!(
            self,
            DaemonOption::HttpsMemKey(_)
                | DaemonOption::HttpsMemCert(_)
                | DaemonOption::HttpsKeyPassword(_)
                | DaemonOption::HttpsCredType(_)
                | DaemonOption::HttpsPriorities(_)
                | DaemonOption::HttpsMemTrust(_)
                | DaemonOption::HttpsMemDhparams(_)
                | DaemonOption::GnutlsPskCredHandler(..)
                | DaemonOption::HttpsCertCallback(_)
                | DaemonOption::HttpsCertCallback2(_)
                | DaemonOption::TlsNoAlpn(_)
        )
    }
}

/// View the shim's array as a slice.
///
/// # Safety
/// `opts` must point to `n` initialized items valid for `'a`, or `n` must be 0.
pub unsafe fn items<'a>(opts: *const MHD_OptionItem, n: usize) -> &'a [MHD_OptionItem] {
    if opts.is_null() || n == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { core::slice::from_raw_parts(opts, n) }
    }
}

/// Turn an `intptr_t` holding a function address into an optional C function pointer.
macro_rules! fn_from_value {
    ($v:expr, $t:ty) => {{
        let v: intptr_t = $v;
        if v == 0 {
            None
        } else {
            // SAFETY: the application passed a function of this option's
            // documented type; the shim stored its address in `value`.
            // Option<fn> has the layout of a nullable pointer.
            unsafe { core::mem::transmute::<intptr_t, $t>(v) }
        }
    }};
}

impl TryFrom<&MHD_OptionItem> for DaemonOption {
    type Error = String;

    fn try_from(it: &MHD_OptionItem) -> Result<Self, String> {
        use DaemonOption as D;
        let v = it.value;
        let p = it.ptr_value;
        const O: fn(MHD_OPTION) -> c_int = |o| o as c_int;
        let o = it.option;
        Ok(match o {
            x if x == O(MHD_OPTION::MHD_OPTION_CONNECTION_MEMORY_LIMIT) => D::ConnectionMemoryLimit(v as usize),
            x if x == O(MHD_OPTION::MHD_OPTION_CONNECTION_LIMIT) => D::ConnectionLimit(v as c_uint),
            x if x == O(MHD_OPTION::MHD_OPTION_CONNECTION_TIMEOUT) => D::ConnectionTimeout(v as c_uint),
            x if x == O(MHD_OPTION::MHD_OPTION_NOTIFY_COMPLETED) => {
                D::NotifyCompleted(fn_from_value!(v, MHD_RequestCompletedCallback), p)
            }
            x if x == O(MHD_OPTION::MHD_OPTION_PER_IP_CONNECTION_LIMIT) => D::PerIpConnectionLimit(v as c_uint),
            x if x == O(MHD_OPTION::MHD_OPTION_SOCK_ADDR) => D::SockAddr(p as *const sockaddr),
            x if x == O(MHD_OPTION::MHD_OPTION_URI_LOG_CALLBACK) => {
                D::UriLogCallback(fn_from_value!(v, MHD_UriLogCallback), p)
            }
            x if x == O(MHD_OPTION::MHD_OPTION_HTTPS_MEM_KEY) => D::HttpsMemKey(p as *const c_char),
            x if x == O(MHD_OPTION::MHD_OPTION_HTTPS_MEM_CERT) => D::HttpsMemCert(p as *const c_char),
            x if x == O(MHD_OPTION::MHD_OPTION_HTTPS_CRED_TYPE) => D::HttpsCredType(v as c_int),
            x if x == O(MHD_OPTION::MHD_OPTION_HTTPS_PRIORITIES) => D::HttpsPriorities(p as *const c_char),
            x if x == O(MHD_OPTION::MHD_OPTION_LISTEN_SOCKET) => D::ListenSocket(v as MHD_socket),
            x if x == O(MHD_OPTION::MHD_OPTION_EXTERNAL_LOGGER) => {
                D::ExternalLogger(fn_from_value!(v, MHD_LogCallback), p)
            }
            x if x == O(MHD_OPTION::MHD_OPTION_THREAD_POOL_SIZE) => D::ThreadPoolSize(v as c_uint),
            x if x == O(MHD_OPTION::MHD_OPTION_UNESCAPE_CALLBACK) => {
                D::UnescapeCallback(fn_from_value!(v, MHD_UnescapeCallback), p)
            }
            x if x == O(MHD_OPTION::MHD_OPTION_DIGEST_AUTH_RANDOM) => D::DigestAuthRandom(v as usize, p),
            x if x == O(MHD_OPTION::MHD_OPTION_NONCE_NC_SIZE) => D::NonceNcSize(v as c_uint),
            x if x == O(MHD_OPTION::MHD_OPTION_THREAD_STACK_SIZE) => D::ThreadStackSize(v as usize),
            x if x == O(MHD_OPTION::MHD_OPTION_HTTPS_MEM_TRUST) => D::HttpsMemTrust(p as *const c_char),
            x if x == O(MHD_OPTION::MHD_OPTION_CONNECTION_MEMORY_INCREMENT) => {
                D::ConnectionMemoryIncrement(v as usize)
            }
            x if x == O(MHD_OPTION::MHD_OPTION_HTTPS_CERT_CALLBACK) => D::HttpsCertCallback(p),
            x if x == O(MHD_OPTION::MHD_OPTION_TCP_FASTOPEN_QUEUE_SIZE) => D::TcpFastopenQueueSize(v as c_uint),
            x if x == O(MHD_OPTION::MHD_OPTION_HTTPS_MEM_DHPARAMS) => D::HttpsMemDhparams(p as *const c_char),
            x if x == O(MHD_OPTION::MHD_OPTION_LISTENING_ADDRESS_REUSE) => D::ListeningAddressReuse(v as c_uint),
            x if x == O(MHD_OPTION::MHD_OPTION_HTTPS_KEY_PASSWORD) => D::HttpsKeyPassword(p as *const c_char),
            x if x == O(MHD_OPTION::MHD_OPTION_NOTIFY_CONNECTION) => {
                D::NotifyConnection(fn_from_value!(v, MHD_NotifyConnectionCallback), p)
            }
            x if x == O(MHD_OPTION::MHD_OPTION_LISTEN_BACKLOG_SIZE) => D::ListenBacklogSize(v as c_uint),
            x if x == O(MHD_OPTION::MHD_OPTION_STRICT_FOR_CLIENT) => D::StrictForClient(v as c_int),
            x if x == O(MHD_OPTION::MHD_OPTION_GNUTLS_PSK_CRED_HANDLER) => {
                D::GnutlsPskCredHandler(fn_from_value!(v, MHD_PskServerCredentialsCallback), p)
            }
            x if x == O(MHD_OPTION::MHD_OPTION_HTTPS_CERT_CALLBACK2) => D::HttpsCertCallback2(p),
            x if x == O(MHD_OPTION::MHD_OPTION_SERVER_INSANITY) => D::ServerInsanity(v as c_uint),
            x if x == O(MHD_OPTION::MHD_OPTION_SIGPIPE_HANDLED_BY_APP) => D::SigpipeHandledByApp(v as c_int),
            x if x == O(MHD_OPTION::MHD_OPTION_TLS_NO_ALPN) => D::TlsNoAlpn(v as c_int),
            // END and ARRAY never reach Rust (the shim consumes them).
            other => return Err(format!("unknown option {other}")),
        })
    }
}

/// Decode every item; the first unknown option number is an error
/// ("unknown option N"), which must fail the daemon start.
pub fn decode_all(items: &[MHD_OptionItem]) -> Result<Vec<DaemonOption>, String> {
    items.iter().map(DaemonOption::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" fn completed(
        _c: *mut c_void,
        _conn: *mut MHD_Connection,
        _cc: *mut *mut c_void,
        _t: MHD_RequestTerminationCode,
    ) {
    }

    #[test]
    fn decodes_values_pairs_and_unknown() {
        let f: unsafe extern "C" fn(_, _, _, _) = completed;
        let items = [
            MHD_OptionItem { option: 2, value: 100, ptr_value: core::ptr::null_mut() },
            MHD_OptionItem { option: 4, value: f as usize as intptr_t, ptr_value: 8 as *mut c_void },
        ];
        let d = decode_all(&items).unwrap();
        assert!(matches!(d[0], DaemonOption::ConnectionLimit(100)));
        match d[1] {
            DaemonOption::NotifyCompleted(Some(g), cls) => {
                assert_eq!(g as usize, f as usize);
                assert_eq!(cls as usize, 8);
            }
            _ => panic!("bad decode"),
        }
        let bad = [MHD_OptionItem { option: 999, value: 0, ptr_value: core::ptr::null_mut() }];
        assert_eq!(decode_all(&bad).unwrap_err(), "unknown option 999");
    }
}
