//! Safe wrappers around the application's C callbacks.
//!
//! The connection state machine calls these instead of raw function
//! pointers. Every integer the application returns is checked here, so no
//! Rust enum is ever built from a value C handed us.

use super::abi::*;
use crate::conn::Termination;
use std::os::raw::{c_char, c_void};

/// An application pointer carried across threads. The application owns what
/// it points to; we only hand it back.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub struct CPtr(pub *mut c_void);
// SAFETY: we never dereference the pointer; libmicrohttpd's contract makes
// the application responsible for the thread-safety of its closures.
unsafe impl Send for CPtr {}
// SAFETY: as above.
unsafe impl Sync for CPtr {}

impl CPtr {
    pub const NULL: CPtr = CPtr(std::ptr::null_mut());
}

macro_rules! hook {
    ($name:ident, $ty:ty) => {
        /// A non-NULL application callback with its closure.
        #[derive(Clone, Copy)]
        pub struct $name {
            f: $ty,
            cls: CPtr,
        }
        impl $name {
            /// `None` when the application passed a NULL function.
            pub fn new(f: $ty, cls: *mut c_void) -> Option<$name> {
                f.map(|_| $name { f, cls: CPtr(cls) })
            }
        }
    };
}

hook!(AccessHandler, MHD_AccessHandlerCallback);
hook!(AcceptPolicy, MHD_AcceptPolicyCallback);
hook!(Completed, MHD_RequestCompletedCallback);
hook!(ConnectionNotify, MHD_NotifyConnectionCallback);
hook!(UriLogger, MHD_UriLogCallback);
hook!(Unescaper, MHD_UnescapeCallback);
hook!(Logger, MHD_LogCallback);
hook!(ContentReader, MHD_ContentReaderCallback);
hook!(FreeCallback, MHD_ContentReaderFreeCallback);
hook!(UpgradeHook, MHD_UpgradeHandler);
hook!(PskCredentials, MHD_PskServerCredentialsCallback);

/// Raw pointers for one upgrade-handler call; all point into the live
/// connection and stay valid for the call.
pub struct UpgradeArgs {
    pub connection: *mut MHD_Connection,
    pub con_cls: *mut *mut c_void,
    pub data_in_size: *mut usize,
    /// NULL for the final call.
    pub data_in: *const c_char,
    pub data_out_size: *mut usize,
    pub data_out: *mut c_char,
}

impl UpgradeHook {
    /// Calls the handler; returns its event mask as the raw bits.
    pub fn call(&self, a: &UpgradeArgs) -> u32 {
        let Some(f) = self.f else { return 0 };
        // SAFETY: every pointer points into connection storage that lives
        // for the call (see UpgradeArgs).
        unsafe { f(self.cls.0, a.connection, a.con_cls, a.data_in_size, a.data_in, a.data_out_size, a.data_out) }
    }
}

/// Raw pointers the state machine builds for one access-handler call; they
/// point into the connection's own storage and stay valid for the call.
pub struct AccessArgs {
    pub connection: *mut MHD_Connection,
    pub url: *const c_char,
    pub method: *const c_char,
    pub version: *const c_char,
    pub upload_data: *const c_char,
    pub upload_data_size: *mut usize,
    pub con_cls: *mut *mut c_void,
}

impl AccessHandler {
    /// Returns whether the application answered MHD_YES (any other value,
    /// including garbage, is treated as MHD_NO, as libmicrohttpd does).
    pub fn call(&self, a: &AccessArgs) -> bool {
        // SAFETY: all pointers come from live connection storage (see AccessArgs).
        let Some(f) = self.f else { return false };
        // The auth functions need the method and URL (see ffi::auth).
        let r = super::auth::in_request(a.connection, a.url, a.method, || unsafe {
            f(self.cls.0, a.connection, a.url, a.method, a.version, a.upload_data, a.upload_data_size, a.con_cls)
        });
        r == MHD_YES
    }
}

impl AcceptPolicy {
    pub fn allows(&self, addr: &crate::sys::socket::RawAddr) -> bool {
        // SAFETY: the address storage lives for the call.
        let Some(f) = self.f else { return true };
        let r = unsafe { f(self.cls.0, (&addr.storage as *const libc::sockaddr_storage).cast(), addr.len) };
        r == MHD_YES
    }
}

impl Completed {
    pub fn call(&self, connection: *mut MHD_Connection, con_cls: *mut *mut c_void, code: Termination) {
        use MHD_RequestTerminationCode as T;
        let toe = match code {
            Termination::CompletedOk => T::MHD_REQUEST_TERMINATED_COMPLETED_OK,
            Termination::WithError => T::MHD_REQUEST_TERMINATED_WITH_ERROR,
            Termination::TimeoutReached => T::MHD_REQUEST_TERMINATED_TIMEOUT_REACHED,
            Termination::DaemonShutdown => T::MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN,
            Termination::ReadError => T::MHD_REQUEST_TERMINATED_READ_ERROR,
            Termination::ClientAbort => T::MHD_REQUEST_TERMINATED_CLIENT_ABORT,
        };
        if let Some(f) = self.f {
            // SAFETY: connection and con_cls point into the live connection.
            unsafe { f(self.cls.0, connection, con_cls, toe) }
        }
    }
}

impl ConnectionNotify {
    /// `started`: MHD_CONNECTION_NOTIFY_STARTED, else MHD_CONNECTION_NOTIFY_CLOSED.
    pub fn call(&self, connection: *mut MHD_Connection, socket_context: *mut *mut c_void, started: bool) {
        let code = if started {
            MHD_ConnectionNotificationCode::MHD_CONNECTION_NOTIFY_STARTED
        } else {
            MHD_ConnectionNotificationCode::MHD_CONNECTION_NOTIFY_CLOSED
        };
        if let Some(f) = self.f {
            // SAFETY: connection and socket_context point into the live connection.
            unsafe { f(self.cls.0, connection, socket_context, code) }
        }
    }
}

impl UriLogger {
    pub fn call(&self, uri: *const c_char, connection: *mut MHD_Connection) -> *mut c_void {
        let Some(f) = self.f else { return std::ptr::null_mut() };
        // SAFETY: uri is NUL-terminated connection storage; connection is live.
        unsafe { f(self.cls.0, uri, connection) }
    }
}

impl Unescaper {
    /// Unescapes the NUL-terminated string at `s` in place; returns the new length.
    pub fn call(&self, connection: *mut MHD_Connection, s: &mut [u8]) -> usize {
        debug_assert_eq!(s.last(), Some(&0));
        let Some(f) = self.f else { return s.len().saturating_sub(1) };
        // SAFETY: `s` is a NUL-terminated, writable buffer the callback may shorten.
        let n = unsafe { f(self.cls.0, connection, s.as_mut_ptr().cast()) };
        n.min(s.len().saturating_sub(1))
    }
}

impl PskCredentials {
    /// MHD_OPTION_GNUTLS_PSK_CRED_HANDLER: asks the application for the key
    /// of `identity` and copies it into `out` (OpenSSL's buffer). Returns
    /// the key length, or None when the application refused or the key
    /// does not fit. The application's malloc()ed key is freed here, as
    /// libmicrohttpd does.
    pub fn call(&self, connection: *mut MHD_Connection, identity: &[u8], out: &mut [u8]) -> Option<usize> {
        let f = self.f?;
        let id = std::ffi::CString::new(identity).ok()?;
        let mut psk: *mut c_void = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: identity is NUL-terminated and lives for the call; the
        // out-pointers are our locals.
        let r = unsafe { f(self.cls.0, connection, id.as_ptr(), &mut psk, &mut size) };
        // On failure the key is not ours to free (libmicrohttpd's rule too).
        if r != 0 || psk.is_null() {
            return None;
        }
        let n = (size <= out.len()).then_some(size);
        if let Some(n) = n {
            // SAFETY: the application returned `size` readable bytes at `psk`.
            out[..n].copy_from_slice(unsafe { std::slice::from_raw_parts(psk.cast::<u8>(), n) });
        }
        // SAFETY: the callback contract: allocated with malloc(), freed by us.
        unsafe { libc::free(psk) };
        n
    }
}

impl Logger {
    pub fn log(&self, msg: &str) {
        super::shim::call_logger(self.f, self.cls.0, msg);
    }
}

/// What a content reader produced.
pub enum ReaderResult {
    Data(usize),
    /// Nothing now; ask again later (libmicrohttpd's return value 0).
    NotYet,
    EndOfStream,
    Error,
}

impl ContentReader {
    pub fn read(&self, pos: u64, buf: &mut [u8]) -> ReaderResult {
        let Some(f) = self.f else { return ReaderResult::Error };
        // SAFETY: `buf` is writable for its whole length.
        let r = unsafe { f(self.cls.0, pos, buf.as_mut_ptr().cast(), buf.len()) };
        match r {
            -1 => ReaderResult::EndOfStream,
            0 => ReaderResult::NotYet,
            n if n > 0 && (n as usize) <= buf.len() => ReaderResult::Data(n as usize),
            _ => ReaderResult::Error,
        }
    }
}

impl FreeCallback {
    pub fn call(&self) {
        if let Some(f) = self.f {
            // SAFETY: the application's free callback with its own closure.
            unsafe { f(self.cls.0) }
        }
    }
}
