//! Rust side of helpers that live in the C shim (src/shim/variadics.c).

use core::ffi::{c_char, c_void};
use std::ffi::CString;

use super::abi::MHD_LogCallback;

extern "C" {
    /// Calls `cb(cls, fmt, ap)` with a `va_list` built from the variadic
    /// arguments (Rust cannot build a `va_list`). Hidden in the .so.
    fn mhd_rs_call_logger(cb: MHD_LogCallback, cls: *mut c_void, fmt: *const c_char, ...);
}

/// Send one message to an `MHD_OPTION_EXTERNAL_LOGGER` callback, as
/// libmicrohttpd does (a printf format plus `va_list`; we pass "%s").
/// Interior NUL bytes are replaced. Does nothing when `cb` is `None`.
pub fn call_logger(cb: MHD_LogCallback, cls: *mut c_void, msg: &str) {
    if cb.is_none() {
        return;
    }
    let msg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: `cb` is the application's logger with its closure; the format
    // "%s" consumes exactly the one `char *` argument, valid during the call.
    unsafe { mhd_rs_call_logger(cb, cls, c"%s".as_ptr(), msg.as_ptr()) }
}
