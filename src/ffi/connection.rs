//! Entry points on `struct MHD_Connection *`: request data, queueing a
//! response, connection info and options.

use super::abi::*;
use super::foreign::ForeignStr;
use super::guard::guard;
use super::handles::{conn_ref, response_arc};
use crate::conn::shared::ConnShared;
use crate::conn::values::{kind, Str};
use core::ffi::{c_char, c_int, c_uint, c_void};
use core::ptr;
use std::ffi::CStr;
use std::sync::atomic::Ordering;

/// Every bit of `enum MHD_ValueKind` a request can hold.
const REQUEST_KINDS: u32 = kind::HEADER | kind::COOKIE | kind::POSTDATA | kind::GET_ARGUMENT | kind::FOOTER;

/// Calls `visit` for each entry whose kind matches, without holding a borrow
/// across the call (the application may add values from inside it).
fn for_each_value(c: &ConnShared, kinds: u32, mut visit: impl FnMut(u32, CStrPair) -> bool) -> c_int {
    let mut count = 0;
    let mut i = 0;
    loop {
        let item = {
            let v = c.values.borrow();
            match v.entry(i) {
                None => break,
                Some(e) => (e.kind, CStrPair { key: v.c_str(&e.key), value: e.value.map(|s| v.c_str(&s)) }),
            }
        };
        i += 1;
        if item.0 & kinds == 0 {
            continue;
        }
        count += 1;
        if !visit(item.0, item.1) {
            break;
        }
    }
    count
}

/// The C enum value for one kind bit (the bits come from our own entries).
pub(crate) fn value_kind(bit: u32) -> MHD_ValueKind {
    match bit {
        kind::HEADER => MHD_ValueKind::MHD_HEADER_KIND,
        kind::COOKIE => MHD_ValueKind::MHD_COOKIE_KIND,
        kind::POSTDATA => MHD_ValueKind::MHD_POSTDATA_KIND,
        kind::GET_ARGUMENT => MHD_ValueKind::MHD_GET_ARGUMENT_KIND,
        kind::FOOTER => MHD_ValueKind::MHD_FOOTER_KIND,
        _ => MHD_ValueKind::MHD_RESPONSE_HEADER_KIND,
    }
}

struct CStrPair {
    key: crate::conn::values::CStrRef,
    value: Option<crate::conn::values::CStrRef>,
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_connection_values(
    connection: *mut MHD_Connection,
    kind: MHD_ValueKindInt,
    iterator: MHD_KeyValueIterator,
    iterator_cls: *mut c_void,
) -> c_int {
    guard(-1, || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return -1 };
        for_each_value(c, kind as u32, |k, p| match iterator {
            None => true,
            // SAFETY: the strings live until the request completes.
            Some(f) => unsafe { f(iterator_cls, value_kind(k), p.key.ptr, p.value.map_or(ptr::null(), |v| v.ptr)) == MHD_YES },
        })
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_connection_values_n(
    connection: *mut MHD_Connection,
    kind: MHD_ValueKindInt,
    iterator: MHD_KeyValueIteratorN,
    iterator_cls: *mut c_void,
) -> c_int {
    guard(-1, || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return -1 };
        for_each_value(c, kind as u32, |k, p| match iterator {
            None => true,
            // SAFETY: the strings live until the request completes.
            Some(f) => unsafe {
                f(
                    iterator_cls,
                    value_kind(k),
                    p.key.ptr,
                    p.key.len,
                    p.value.map_or(ptr::null(), |v| v.ptr),
                    p.value.map_or(0, |v| v.len),
                ) == MHD_YES
            },
        })
    })
}

/// Adds a value that points at the application's memory (it must outlive the request).
fn set_value(c: &ConnShared, kind: c_int, key: ForeignStr, value: Option<ForeignStr>) -> MHD_Result {
    let k = kind as u32;
    if k == 0 || k & !REQUEST_KINDS != 0 || k.count_ones() != 1 {
        return MHD_Result::MHD_NO;
    }
    let Ok(mut v) = c.values.try_borrow_mut() else { return MHD_Result::MHD_NO };
    v.push(k, Str::Foreign(key), value.map(Str::Foreign));
    MHD_Result::MHD_YES
}

#[no_mangle]
pub unsafe extern "C" fn MHD_set_connection_value(
    connection: *mut MHD_Connection,
    kind: MHD_ValueKindInt,
    key: *const c_char,
    value: *const c_char,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return MHD_Result::MHD_NO };
        if key.is_null() {
            return MHD_Result::MHD_NO;
        }
        // SAFETY: key and value are NUL-terminated strings the application
        // keeps alive for the request (libmicrohttpd's contract).
        let k = unsafe { ForeignStr::new(key, CStr::from_ptr(key).to_bytes().len()) };
        let v = (!value.is_null()).then(|| unsafe { ForeignStr::new(value, CStr::from_ptr(value).to_bytes().len()) });
        set_value(c, kind, k, v)
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_set_connection_value_n(
    connection: *mut MHD_Connection,
    kind: MHD_ValueKindInt,
    key: *const c_char,
    key_size: size_t,
    value: *const c_char,
    value_size: size_t,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return MHD_Result::MHD_NO };
        if key.is_null() {
            return MHD_Result::MHD_NO;
        }
        // SAFETY: the application promises key_size (value_size) readable
        // bytes followed by a NUL, alive for the request.
        let k = unsafe { ForeignStr::new(key, key_size) };
        let v = (!value.is_null()).then(|| unsafe { ForeignStr::new(value, value_size) });
        set_value(c, kind, k, v)
    })
}

/// Finds the first value of `kind` named `key` (NULL key: an entry without key is never matched).
fn lookup(c: &ConnShared, kind: c_int, key: Option<&[u8]>) -> Option<Option<crate::conn::values::CStrRef>> {
    let v = c.values.try_borrow().ok()?;
    let e = v.lookup(kind as u32, key)?;
    Some(e.value.map(|s| v.c_str(&s)))
}

#[no_mangle]
pub unsafe extern "C" fn MHD_lookup_connection_value(
    connection: *mut MHD_Connection,
    kind: MHD_ValueKindInt,
    key: *const c_char,
) -> *const c_char {
    guard(ptr::null(), || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return ptr::null() };
        // SAFETY: key is a NUL-terminated string (or NULL).
        let k = (!key.is_null()).then(|| unsafe { CStr::from_ptr(key) }.to_bytes());
        match lookup(c, kind, k) {
            Some(Some(v)) => v.ptr,
            _ => ptr::null(),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_lookup_connection_value_n(
    connection: *mut MHD_Connection,
    kind: MHD_ValueKindInt,
    key: *const c_char,
    key_size: size_t,
    value_ptr: *mut *const c_char,
    value_size_ptr: *mut size_t,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return MHD_Result::MHD_NO };
        // SAFETY: key points at key_size readable bytes (or is NULL).
        let k = (!key.is_null()).then(|| unsafe { std::slice::from_raw_parts(key.cast::<u8>(), key_size) });
        match lookup(c, kind, k) {
            Some(v) => {
                // SAFETY: output pointers are optional and, when given, writable.
                unsafe {
                    if !value_ptr.is_null() {
                        *value_ptr = v.map_or(ptr::null(), |v| v.ptr);
                    }
                    if !value_size_ptr.is_null() {
                        *value_size_ptr = v.map_or(0, |v| v.len);
                    }
                }
                MHD_Result::MHD_YES
            }
            None => MHD_Result::MHD_NO,
        }
    })
}

/// Queues the response for the connection's current request; it goes
/// out once the access handler has returned. Outside the access handler
/// only for a suspended connection (from any thread; sent after the
/// resume) or for a request whose final handler call returned without a
/// response: in a daemon without an internal thread from the
/// application's loop, otherwise from a callback on the thread that
/// serves that connection (another request's handler, say). MHD_NO
/// otherwise, and for a second response to the same request.
#[no_mangle]
pub unsafe extern "C" fn MHD_queue_response(
    connection: *mut MHD_Connection,
    status_code: c_uint,
    response: *mut MHD_Response,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: the application passes handles we gave it.
        let (Some(c), Some(r)) = (unsafe { conn_ref(connection) }, unsafe { response_arc(response) }) else {
            return MHD_Result::MHD_NO;
        };
        let late = !c.in_handler.load(Ordering::Relaxed);
        if late && !c.accepts_late_response() {
            log_for(c, "MHD_queue_response refused: outside the access handler, for a connection neither suspended nor awaiting its response on this thread.");
            return MHD_Result::MHD_NO;
        }
        #[cfg(feature = "fault-injection")]
        if !late {
            super::fault::in_queue_response(match lookup(c, kind::HEADER as c_int, Some(super::fault::HEADER)) {
                // SAFETY: a value of the connection's table: len bytes at ptr.
                Some(Some(v)) => Some(unsafe { std::slice::from_raw_parts(v.ptr.cast::<u8>(), v.len) }),
                _ => None,
            });
        }
        // libmicrohttpd refuses codes outside 100..=999 (three digits).
        if !(100..=999).contains(&status_code) {
            return MHD_Result::MHD_NO;
        }
        // design/UPGRADE.md: an upgrade response goes out only as a 101 to
        // an HTTP/1.1 request that asked for an upgrade; a refusal leaves
        // the connection as it was.
        if r.upgrade_hook().is_some() {
            // From the handler only: the request's headers are read here.
            if late {
                return MHD_Result::MHD_NO;
            }
            let asked = c.values.try_borrow().map_or(false, |v| v.lookup(kind::HEADER, Some(b"Upgrade")).is_some());
            if status_code != 101 || !c.http11.get() || !asked {
                return MHD_Result::MHD_NO;
            }
        } else if status_code == 101 {
            return MHD_Result::MHD_NO;
        }
        if late {
            return if c.queue_late(r, status_code) { MHD_Result::MHD_YES } else { MHD_Result::MHD_NO };
        }
        let mut q = c.queued.borrow_mut();
        if q.is_some() || c.http_status.load(Ordering::Relaxed) != 0 {
            return MHD_Result::MHD_NO;
        }
        *q = Some((r, status_code));
        MHD_Result::MHD_YES
    })
}

/// Hidden: called by the C shim's `MHD_get_connection_info`.
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_get_connection_info(
    connection: *mut MHD_Connection,
    info_type: MHD_ConnectionInfoTypeInt,
    _arg: *const c_void,
) -> *const MHD_ConnectionInfo {
    guard(ptr::null(), || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return ptr::null() };
        let t = info_type;
        use MHD_ConnectionInfoType as T;
        let v = if t == T::MHD_CONNECTION_INFO_CLIENT_ADDRESS as c_int {
            MHD_ConnectionInfo { client_addr: (&c.addr.storage as *const libc::sockaddr_storage).cast_mut().cast() }
        } else if t == T::MHD_CONNECTION_INFO_DAEMON as c_int {
            MHD_ConnectionInfo { daemon: c.daemon_handle.0.cast() }
        } else if t == T::MHD_CONNECTION_INFO_CONNECTION_FD as c_int {
            MHD_ConnectionInfo { connect_fd: c.fd }
        } else if t == T::MHD_CONNECTION_INFO_SOCKET_CONTEXT as c_int {
            MHD_ConnectionInfo { socket_context: c.socket_context.get().0 }
        } else if t == T::MHD_CONNECTION_INFO_CONNECTION_SUSPENDED as c_int {
            let s = c.suspended.load(std::sync::atomic::Ordering::Acquire);
            MHD_ConnectionInfo { suspended: if s { MHD_YES } else { MHD_NO } }
        } else if t == T::MHD_CONNECTION_INFO_CONNECTION_TIMEOUT as c_int {
            MHD_ConnectionInfo { connection_timeout: c.timeout.get() }
        } else if t == T::MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE as c_int {
            let n = c.header_size.get();
            if n == 0 {
                return ptr::null();
            }
            MHD_ConnectionInfo { header_size: n }
        } else if t == T::MHD_CONNECTION_INFO_HTTP_STATUS as c_int {
            let s = c.http_status.load(Ordering::Relaxed);
            if s == 0 {
                return ptr::null();
            }
            MHD_ConnectionInfo { http_status: s }
        } else if t == T::MHD_CONNECTION_INFO_CIPHER_ALGO as c_int {
            // gnutls_cipher_algorithm_t values (see tls::TlsInfo).
            let Some(i) = c.tls.get() else { return ptr::null() };
            MHD_ConnectionInfo { cipher_algorithm: i.cipher }
        } else if t == T::MHD_CONNECTION_INFO_PROTOCOL as c_int {
            // gnutls_protocol_t values: GNUTLS_TLS1_2 = 4, GNUTLS_TLS1_3 = 5.
            let Some(i) = c.tls.get() else { return ptr::null() };
            MHD_ConnectionInfo { protocol: i.protocol }
        } else if t == T::MHD_CONNECTION_INFO_OPENSSL_SSL as c_int {
            let Some(i) = c.tls.get() else { return ptr::null() };
            MHD_ConnectionInfo { tls_session: i.ssl.0 }
        } else if t == T::MHD_CONNECTION_INFO_OPENSSL_PEER_CERT as c_int {
            let Some(i) = c.tls.get() else { return ptr::null() };
            let p = i.peer_cert_ptr();
            if p.is_null() {
                return ptr::null();
            }
            MHD_ConnectionInfo { client_cert: p }
        } else {
            // MHD_CONNECTION_INFO_GNUTLS_SESSION: there is no GnuTLS session
            // (an OpenSSL object handed to GnuTLS calls would crash them);
            // MHD_CONNECTION_INFO_GNUTLS_CLIENT_CERT: never implemented in
            // libmicrohttpd either. Both are NULL, as is any unknown type.
            return ptr::null();
        };
        c.info.set(v)
    })
}

/// Hidden: called by the C shim's `MHD_set_connection_option`.
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_set_connection_option(
    connection: *mut MHD_Connection,
    option: MHD_CONNECTION_OPTIONInt,
    timeout: c_uint,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return MHD_Result::MHD_NO };
        if option != MHD_CONNECTION_OPTION::MHD_CONNECTION_OPTION_TIMEOUT as c_int {
            return MHD_Result::MHD_NO;
        }
        c.set_timeout(timeout);
        MHD_Result::MHD_YES
    })
}

/// From the access handler or a content reader callback: the connection is
/// not served (nor timed out) until MHD_resume_connection, which any thread
/// may call, even before the callback returns. A response queued in the
/// same handler call is held, status line included, until the resume; what
/// a reader gave in the call that suspends goes out after it.
#[no_mangle]
pub unsafe extern "C" fn MHD_suspend_connection(connection: *mut MHD_Connection) {
    guard((), || {
        // SAFETY: the application passes a connection handle we gave it,
        // from the thread that runs its callbacks.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return };
        // The state machine acts when the running callback returns, but the
        // connection counts as suspended at once, so another thread may
        // resume it even before the callback has returned.
        c.suspend_requested.set(true);
        c.suspended.store(true, std::sync::atomic::Ordering::Release);
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_resume_connection(connection: *mut MHD_Connection) {
    guard((), || {
        // SAFETY: the application passes a live connection handle; from
        // another thread only the atomic flags and the waker are touched.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return };
        if !c.request_resume() {
            // Not suspended: nothing to do; say so through the application's logger.
            log_for(c, "MHD_resume_connection called for a connection that is not suspended.");
        }
    })
}

/// Logs through the logger of the connection's daemon.
fn log_for(c: &ConnShared, msg: &str) {
    // SAFETY: the connection's daemon handle stays valid while the connection lives.
    match unsafe { super::handles::daemon_ref(c.daemon_handle.0.cast()) }.and_then(|h| h.with_daemon(|d| d.ctx.log(msg))) {
        Some(()) => {}
        None => eprintln!("libmicrohttpd-rs: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    //! The connection state machine through the C API, on one end of a
    //! socketpair in external mode.
    use super::*;
    use crate::ffi::daemon::{mhd_rs_start_daemon, MHD_add_connection, MHD_stop_daemon};
    use crate::ffi::external::MHD_run;
    use crate::ffi::response::{MHD_create_response_from_buffer, MHD_destroy_response};
    use std::sync::Mutex;

    /// Upload bytes the handler saw (the test's own handler state).
    static SEEN: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    static SUSPENDED: Mutex<usize> = Mutex::new(0);

    unsafe extern "C" fn suspend_while_consuming(
        _cls: *mut c_void,
        conn: *mut MHD_Connection,
        _url: *const c_char,
        _method: *const c_char,
        _version: *const c_char,
        upload: *const c_char,
        size: *mut size_t,
        con_cls: *mut *mut c_void,
    ) -> MHD_ResultInt {
        // SAFETY: valid for the call, as the library passes them.
        unsafe {
            if (*con_cls).is_null() {
                *con_cls = 1 as *mut c_void;
                return MHD_Result::MHD_YES as MHD_ResultInt;
            }
            if *size > 0 {
                SEEN.lock().unwrap().extend_from_slice(std::slice::from_raw_parts(upload.cast::<u8>(), *size));
                *size = 0; // all consumed...
                MHD_suspend_connection(conn); // ...and suspended in the same call
                *SUSPENDED.lock().unwrap() = conn as usize;
                return MHD_Result::MHD_YES as MHD_ResultInt;
            }
            let r = MHD_create_response_from_buffer(2, b"ok".as_ptr() as *mut c_void, MHD_ResponseMemoryMode::MHD_RESPMEM_PERSISTENT as c_int);
            let q = MHD_queue_response(conn, 200, r);
            MHD_destroy_response(r);
            q as MHD_ResultInt
        }
    }

    /// Regression (found by fuzz/ connection target): bytes consumed in a
    /// call that also suspends were offered again after the resume.
    #[test]
    fn upload_consumed_while_suspending_is_not_offered_again() {
        let mut fds = [0 as c_int; 2];
        // SAFETY: plain libc calls on our own descriptors and memory; the
        // daemon is external, so every callback runs inside MHD_run here.
        unsafe {
            assert_eq!(libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0, fds.as_mut_ptr()), 0);
            let end = MHD_OptionItem { option: MHD_OPTION::MHD_OPTION_END as c_int, value: 0, ptr_value: ptr::null_mut() };
            let d = mhd_rs_start_daemon(MHD_FLAG::MHD_USE_NO_LISTEN_SOCKET as c_uint, 0, None, ptr::null_mut(), Some(suspend_while_consuming), ptr::null_mut(), &end, 0);
            assert!(!d.is_null());
            assert_eq!(MHD_add_connection(d, fds[0], ptr::null(), 0), MHD_Result::MHD_YES);
            let req = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789";
            assert_eq!(libc::write(fds[1], req.as_ptr().cast(), req.len()), req.len() as isize);
            let mut out = Vec::new();
            for _ in 0..50 {
                MHD_run(d);
                let c = std::mem::take(&mut *SUSPENDED.lock().unwrap());
                if c != 0 {
                    MHD_resume_connection(c as *mut MHD_Connection);
                }
                let mut buf = [0u8; 4096];
                let n = libc::read(fds[1], buf.as_mut_ptr().cast(), buf.len());
                if n > 0 {
                    out.extend_from_slice(&buf[..n as usize]);
                }
                if out.ends_with(b"\r\n\r\nok") {
                    break;
                }
            }
            MHD_stop_daemon(d);
            libc::close(fds[1]);
            assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n") && out.ends_with(b"\r\n\r\nok"), "{:?}", String::from_utf8_lossy(&out));
        }
        assert_eq!(&SEEN.lock().unwrap()[..], b"0123456789", "each upload byte is offered once");
    }
}
