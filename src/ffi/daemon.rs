//! Entry points on `struct MHD_Daemon *`: start, stop, info.

use super::abi::*;
use super::guard::guard;
use super::handles::daemon_ref;
use super::hooks::*;
use super::options::{self, DaemonOption};
use crate::daemon::config::{flag, Config};
use crate::daemon::{self, Daemon};
use crate::sys::socket::RawAddr;
use core::ffi::{c_int, c_uint, c_void};
use core::ptr;
use std::cell::UnsafeCell;
use std::sync::OnceLock;

/// What `struct MHD_Daemon *` points to.
pub struct DaemonHandle {
    /// Set once right after start; never locked, so callbacks may call
    /// back into the daemon from inside `MHD_run`.
    daemon: OnceLock<Daemon>,
    /// Storage for the union MHD_get_daemon_info returns the address of;
    /// one slot per info type so concurrent callers asking different
    /// questions do not overwrite each other's answer.
    info: [InfoCell; 8],
}

struct InfoCell(UnsafeCell<MHD_DaemonInfo>);
// SAFETY: each slot holds plain integers; a racing write of the same value
// (two threads asking the same question) is what libmicrohttpd does too.
unsafe impl Sync for InfoCell {}

impl DaemonHandle {
    pub fn with_daemon<R>(&self, f: impl FnOnce(&Daemon) -> R) -> Option<R> {
        self.daemon.get().map(f)
    }
}

/// Copies a NUL-terminated option string (PEM text, a password) out of
/// the application's memory.
fn c_string_bytes(p: *const core::ffi::c_char) -> Option<Vec<u8>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the application passes a NUL-terminated string for these options.
    Some(unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes().to_vec())
}

/// Turns the decoded options into a configuration; unsupported ones fail
/// the start with a log line, as libmicrohttpd does.
fn configure(cfg: &mut Config, opts: &[DaemonOption]) -> Result<(), String> {
    use DaemonOption as D;
    for o in opts {
        match *o {
            D::ConnectionMemoryLimit(n) => cfg.memory_limit = n.max(1024),
            D::ConnectionMemoryIncrement(_) => {}
            D::ConnectionLimit(n) => cfg.connection_limit = n as usize,
            D::ConnectionTimeout(n) => cfg.timeout = n,
            D::NotifyCompleted(f, cls) => cfg.completed = Completed::new(f, cls),
            D::NotifyConnection(f, cls) => cfg.notify_connection = ConnectionNotify::new(f, cls),
            D::PerIpConnectionLimit(n) => cfg.per_ip_limit = n as usize,
            D::SockAddr(sa) => {
                if sa.is_null() {
                    return Err("MHD_OPTION_SOCK_ADDR with a NULL address".into());
                }
                // SAFETY: the application passes a sockaddr of the family it
                // declares; we read only as much as that family needs.
                let fam = unsafe { (*sa).sa_family } as c_int;
                let len = match fam {
                    libc::AF_INET => std::mem::size_of::<libc::sockaddr_in>(),
                    libc::AF_INET6 => std::mem::size_of::<libc::sockaddr_in6>(),
                    _ => return Err(format!("MHD_OPTION_SOCK_ADDR: unsupported address family {fam}")),
                };
                let mut raw = RawAddr::empty();
                // SAFETY: copies `len` bytes (the family's size) into storage large enough.
                unsafe { ptr::copy_nonoverlapping(sa.cast::<u8>(), (&mut raw.storage as *mut libc::sockaddr_storage).cast(), len) };
                raw.len = len as libc::socklen_t;
                cfg.sock_addr = raw.to_std();
            }
            D::UriLogCallback(f, cls) => cfg.uri_log = UriLogger::new(f, cls),
            D::ListenSocket(fd) => cfg.listen_fd = Some(fd),
            D::ExternalLogger(f, cls) => cfg.logger = Logger::new(f, cls),
            D::ThreadPoolSize(n) => cfg.thread_pool_size = n as usize,
            D::UnescapeCallback(f, cls) => cfg.unescaper = Unescaper::new(f, cls),
            D::ThreadStackSize(n) => cfg.thread_stack_size = n,
            D::ListeningAddressReuse(n) => cfg.address_reuse = Some(n != 0),
            D::ListenBacklogSize(n) => cfg.listen_backlog = n.min(i32::MAX as u32) as i32,
            D::StrictForClient(n) => cfg.strictness = n,
            D::TcpFastopenQueueSize(n) => cfg.fastopen_queue = n,
            // Accepted without effect: we never raise SIGPIPE (MSG_NOSIGNAL,
            // and it is blocked in our threads), and have no insane modes.
            D::ServerInsanity(_) | D::SigpipeHandledByApp(_) => {}
            D::DigestAuthRandom(n, p) => {
                // SAFETY: the application passes `n` readable bytes at `p`.
                cfg.digest_random = if p.is_null() { Vec::new() } else { unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) }.to_vec() };
            }
            D::NonceNcSize(n) => cfg.nonce_nc_size = n as usize,
            // libmicrohttpd ignores (with a log line) the TLS options below
            // when MHD_USE_TLS is not set.
            _ if cfg.flags & flag::TLS == 0 && o.is_tls_only() => {
                daemon::log_with(cfg, "MHD HTTPS option passed to MHD but MHD_USE_TLS not set.");
            }
            D::HttpsMemKey(p) => cfg.tls.key_pem = c_string_bytes(p),
            D::HttpsMemCert(p) => cfg.tls.cert_pem = c_string_bytes(p),
            D::HttpsKeyPassword(p) => cfg.tls.key_password = c_string_bytes(p),
            D::TlsNoAlpn(v) => cfg.tls.no_alpn = v != 0,
            D::HttpsCredType(n) => cfg.tls.cred_type = n,
            D::HttpsPriorities(p) => {
                cfg.tls.priorities = c_string_bytes(p).map(|b| String::from_utf8_lossy(&b).into_owned());
            }
            D::HttpsMemTrust(p) => cfg.tls.trust_pem = c_string_bytes(p),
            D::HttpsMemDhparams(p) => cfg.tls.dhparams_pem = c_string_bytes(p),
            D::GnutlsPskCredHandler(f, cls) => cfg.tls.psk = PskCredentials::new(f, cls),
            D::HttpsCertCallback(_) | D::HttpsCertCallback2(_) => {
                return Err("MHD_OPTION_HTTPS_CERT_CALLBACK and MHD_OPTION_HTTPS_CERT_CALLBACK2 take GnuTLS callbacks, \
                            which this OpenSSL-based library cannot call; give one certificate with \
                            MHD_OPTION_HTTPS_MEM_CERT and MHD_OPTION_HTTPS_MEM_KEY instead (no per-name (SNI) selection is offered)"
                    .into());
            }
        }
    }
    Ok(())
}

/// Hidden: called by the C shim's `MHD_start_daemon_va` with the options it read.
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_start_daemon(
    flags: c_uint,
    port: u16,
    apc: MHD_AcceptPolicyCallback,
    apc_cls: *mut c_void,
    dh: MHD_AccessHandlerCallback,
    dh_cls: *mut c_void,
    opts: *const MHD_OptionItem,
    n_opts: size_t,
) -> *mut MHD_Daemon {
    guard(ptr::null_mut(), || {
        // SAFETY: the shim passes an array of n_opts items.
        let items = unsafe { options::items(opts, n_opts) };
        let mut cfg = Config::new(flags, port, AccessHandler::new(dh, dh_cls));
        cfg.accept_policy = AcceptPolicy::new(apc, apc_cls);
        let decoded = options::decode_all(items);
        // Options are applied in order up to the first bad one, so an
        // external logger given earlier still receives the message.
        let result = match &decoded {
            Ok(d) => configure(&mut cfg, d),
            Err(e) => {
                let good: Vec<DaemonOption> = items.iter().map_while(|i| DaemonOption::try_from(i).ok()).collect();
                let _ = configure(&mut cfg, &good);
                Err(e.clone())
            }
        };
        if let Err(msg) = result {
            daemon::log_with(&cfg, &format!("MHD_start_daemon: {msg}"));
            return ptr::null_mut();
        }
        let handle = Box::into_raw(Box::new(DaemonHandle {
            daemon: OnceLock::new(),
            info: Default::default(),
        }));
        match daemon::start(cfg, CPtr(handle.cast())) {
            Ok(d) => {
                // SAFETY: `handle` is the box we just made and nobody else has it yet.
                let h = unsafe { &*handle };
                let _ = h.daemon.set(d);
                handle.cast()
            }
            Err(()) => {
                // SAFETY: reclaims the box made above, never shared.
                drop(unsafe { Box::from_raw(handle) });
                ptr::null_mut()
            }
        }
    })
}

impl Default for InfoCell {
    fn default() -> Self {
        InfoCell(UnsafeCell::new(MHD_DaemonInfo { flags: 0 }))
    }
}

#[no_mangle]
pub unsafe extern "C" fn MHD_stop_daemon(daemon: *mut MHD_Daemon) {
    guard((), || {
        if daemon.is_null() {
            return;
        }
        // SAFETY: the application gives back the handle from MHD_start_daemon,
        // once. Callbacks still running during the stop may use the handle,
        // so it is only shared-borrowed until every thread has ended.
        if let Some(d) = unsafe { daemon_ref(daemon) }.and_then(|h| h.daemon.get()) {
            d.stop();
        }
        // SAFETY: no thread of the daemon runs any more; the box is ours.
        drop(unsafe { Box::from_raw(daemon as *mut DaemonHandle) });
    })
}

/// Hidden: called by the C shim's `MHD_get_daemon_info`.
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_get_daemon_info(daemon: *mut MHD_Daemon, info_type: MHD_DaemonInfoTypeInt) -> *const MHD_DaemonInfo {
    guard(ptr::null(), || {
        // SAFETY: a live handle from MHD_start_daemon.
        let Some(h) = (unsafe { daemon_ref(daemon) }) else { return ptr::null() };
        use MHD_DaemonInfoType as T;
        let t = info_type;
        let (slot, v) = match h.with_daemon(|d| {
            let ctx = &d.ctx;
            if t == T::MHD_DAEMON_INFO_LISTEN_FD as c_int {
                ctx.listen_fd().map(|fd| (0, MHD_DaemonInfo { listen_fd: fd }))
            } else if t == T::MHD_DAEMON_INFO_BIND_PORT as c_int {
                (ctx.port != 0).then_some((1, MHD_DaemonInfo { port: ctx.port }))
            } else if t == T::MHD_DAEMON_INFO_CURRENT_CONNECTIONS as c_int {
                Some((2, MHD_DaemonInfo { num_connections: ctx.connection_count() as c_uint }))
            } else if t == T::MHD_DAEMON_INFO_FLAGS as c_int {
                Some((3, MHD_DaemonInfo { flags: ctx.effective_flags() }))
            } else if t == T::MHD_DAEMON_INFO_EPOLL_FD_LINUX_ONLY as c_int {
                d.with_external(|w| w.epoll_fd()).ok().flatten().map(|fd| (4, MHD_DaemonInfo { epoll_fd: fd }))
            } else {
                // KEY_SIZE/MAC_KEY_SIZE are obsolete in 0.9.75 too.
                None
            }
        }) {
            Some(Some(x)) => x,
            _ => return ptr::null(),
        };
        let cell = &h.info[slot];
        // SAFETY: see InfoCell; the slot is only ever written with plain values.
        unsafe { *cell.0.get() = v };
        cell.0.get()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_quiesce_daemon(daemon: *mut MHD_Daemon) -> MHD_socket {
    guard(MHD_INVALID_SOCKET, || {
        // SAFETY: a live handle from MHD_start_daemon.
        let Some(h) = (unsafe { daemon_ref(daemon) }) else { return MHD_INVALID_SOCKET };
        h.with_daemon(|d| {
            d.quiesce().unwrap_or_else(|| {
                d.ctx.log("MHD_quiesce_daemon: the daemon has no listening socket (or was quiesced already).");
                MHD_INVALID_SOCKET
            })
        })
        .unwrap_or(MHD_INVALID_SOCKET)
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_add_connection(
    daemon: *mut MHD_Daemon,
    client_socket: MHD_socket,
    addr: *const sockaddr,
    addrlen: socklen_t,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: a live handle from MHD_start_daemon.
        let Some(h) = (unsafe { daemon_ref(daemon) }) else { return MHD_Result::MHD_NO };
        let Some(d) = h.daemon.get() else { return MHD_Result::MHD_NO };
        if client_socket < 0 {
            d.ctx.log("MHD_add_connection: invalid socket.");
            return MHD_Result::MHD_NO;
        }
        let mut raw = RawAddr::empty();
        let len = (addrlen as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
        if !addr.is_null() && len > 0 {
            // SAFETY: the application passes `addrlen` readable bytes of address.
            unsafe { ptr::copy_nonoverlapping(addr.cast::<u8>(), (&mut raw.storage as *mut libc::sockaddr_storage).cast(), len) };
            raw.len = len as libc::socklen_t;
        } else if let Ok(peer) = crate::sys::socket::peer_addr(client_socket) {
            raw = peer;
        }
        if d.add_connection(client_socket, raw) {
            MHD_Result::MHD_YES
        } else {
            // libmicrohttpd closes the socket when it cannot take it.
            crate::sys::close(client_socket);
            MHD_Result::MHD_NO
        }
    })
}
