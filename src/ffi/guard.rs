//! The panic boundary: no Rust panic may unwind into C.
//!
//! Every exported function runs its body through [`guard`]. A caught panic is
//! reported to the callback installed with `MHD_set_panic_func` (or to stderr)
//! and the function returns its error value (`MHD_NO`, NULL, 0 ...).

use core::ffi::{c_uint, c_void};
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use super::abi::MHD_PanicCallback;

/// The application's panic callback and its closure.
#[derive(Clone, Copy)]
struct PanicHandler {
    cb: MHD_PanicCallback,
    cls: usize, // the closure pointer, stored as an address so the static is Sync
}

static PANIC_HANDLER: Mutex<PanicHandler> = Mutex::new(PanicHandler { cb: None, cls: 0 });

fn panic_handler() -> PanicHandler {
    match PANIC_HANDLER.lock() {
        Ok(h) => *h,
        Err(poisoned) => *poisoned.into_inner(),
    }
}

/// Run `f`; if it panics, report the panic and return `default`.
pub(crate) fn guard<R>(default: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = if let Some(s) = payload.downcast_ref::<&str>() {
                (*s).to_owned()
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.clone()
            } else {
                "unknown panic".to_owned()
            };
            report_panic(file!(), line!(), &msg);
            default
        }
    }
}

/// Report a fatal internal error: to the `MHD_set_panic_func` callback if
/// one is set, otherwise to stderr. Never panics itself.
pub(crate) fn report_panic(file: &str, line: u32, reason: &str) {
    let h = panic_handler();
    match h.cb {
        Some(cb) => {
            let file = CString::new(file.replace('\0', " ")).unwrap_or_default();
            let reason = CString::new(reason.replace('\0', " ")).unwrap_or_default();
            // A panic inside the application's callback must not escape either.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: the application registered `cb` with MHD_set_panic_func
                // for exactly this call; both strings live until it returns.
                unsafe { cb(h.cls as *mut c_void, file.as_ptr(), line as c_uint, reason.as_ptr()) }
            }));
        }
        None => {
            eprintln!("libmicrohttpd-rs: internal error at {file}:{line}: {reason}");
        }
    }
}

/// Install (or with NULL, remove) the panic callback. Safe to call at any time.
#[no_mangle]
pub extern "C" fn MHD_set_panic_func(cb: MHD_PanicCallback, cls: *mut c_void) {
    guard((), || {
        let mut h = match PANIC_HANDLER.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        *h = PanicHandler { cb, cls: cls as usize };
    })
}

/// Used by tests: the callback currently installed.
#[cfg(test)]
pub(crate) fn current_panic_callback() -> (MHD_PanicCallback, *mut c_void) {
    let h = panic_handler();
    (h.cb, h.cls as *mut c_void)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::c_char;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn on_panic(_cls: *mut c_void, _f: *const c_char, _l: c_uint, _r: *const c_char) {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn guard_returns_default_and_calls_panic_callback() {
        MHD_set_panic_func(Some(on_panic), core::ptr::null_mut());
        assert!(current_panic_callback().0.is_some());
        let r = guard(7, || -> i32 { panic!("boom") });
        assert_eq!(r, 7);
        assert_eq!(CALLS.load(Ordering::SeqCst), 1);
        assert_eq!(guard(0, || 5), 5);
        MHD_set_panic_func(None, core::ptr::null_mut());
        assert!(current_panic_callback().0.is_none());
    }
}
