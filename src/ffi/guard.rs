//! The panic boundary: no Rust panic may unwind into C.
//!
//! A panic is a bug of ours. Every exported function runs its body through
//! [`guard`], and every thread the library starts runs its loop through
//! [`catch`] (the entry points in src/daemon); so does the work the loops do
//! for each connection. A caught panic is reported exactly once, with the
//! file and line of the `panic!` and its message:
//!
//! - to the function installed with `MHD_set_panic_func`, if any. When it
//!   returns, the library goes on: the exported function returns its error
//!   value (`MHD_NO`, NULL, 0 ...), a connection whose processing panicked
//!   is closed at once (its client sees the connection end without a
//!   response; if the access handler had seen the request, the completion
//!   callback gets `MHD_REQUEST_TERMINATED_WITH_ERROR`), a loop thread
//!   resumes its loop.
//! - otherwise, as libmicrohttpd 0.9.75 does for its internal errors ("The
//!   default implementation that is used if no panic function is set simply
//!   prints an error message and calls `abort()`", microhttpd.h): the message
//!   goes to stderr and the process aborts. `MHD_set_panic_func(NULL, NULL)`
//!   restores this default, as in 0.9.75.

use core::ffi::{c_uint, c_void};
use std::any::Any;
use std::cell::RefCell;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, Once, TryLockError};

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

thread_local! {
    /// Where the last panic on this thread was raised (set by our hook,
    /// taken by the code that caught it).
    static LAST_PANIC: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs (once) a panic hook that records the panic's location for the
/// report. The standard message on stderr is kept only when no panic
/// function is installed (the process then aborts); with one, reporting is
/// the application's business.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let loc = info.location().map(|l| (l.file().to_owned(), l.line()));
            let _ = LAST_PANIC.try_with(|last| {
                if let Ok(mut last) = last.try_borrow_mut() {
                    *last = loc;
                }
            });
            // try_lock: never block (or deadlock) inside the hook.
            let has_cb = match PANIC_HANDLER.try_lock() {
                Ok(h) => h.cb.is_some(),
                Err(TryLockError::Poisoned(p)) => p.into_inner().cb.is_some(),
                Err(TryLockError::WouldBlock) => true,
            };
            if !has_cb {
                previous(info);
            }
        }));
    });
}

/// Run `f`; if it panics, report the panic and return `default`.
pub(crate) fn guard<R>(default: R, f: impl FnOnce() -> R) -> R {
    catch(f).unwrap_or(default)
}

/// Run `f`; if it panics, report the panic (see the module comment) and
/// return None.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Option<R> {
    install_hook();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(payload) => {
            report_caught(payload);
            None
        }
    }
}

/// Reports a caught panic with the location our hook recorded.
fn report_caught(payload: Box<dyn Any + Send>) {
    let msg = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::new()
    };
    // Dropping a payload runs foreign code in theory (a panic_any value):
    // keep that behind the boundary too.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    let msg = if msg.is_empty() { "panic without a message".to_owned() } else { msg };
    let loc = LAST_PANIC.try_with(|l| l.try_borrow_mut().ok().and_then(|mut l| l.take())).ok().flatten();
    match loc {
        Some((file, line)) => report_panic(&file, line, &msg),
        None => report_panic(file!(), line!(), &msg),
    }
}

/// Report a fatal internal error: to the `MHD_set_panic_func` callback if
/// one is set (and return), otherwise print it and abort. Never panics.
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
            let _ = catch_unwind(|| eprintln!("Fatal error in libmicrohttpd {file}:{line}: {reason}"));
            std::process::abort();
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
    use core::ffi::{c_char, CStr};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static CALLS: AtomicUsize = AtomicUsize::new(0);
    static LAST: Mutex<(String, u32, String)> = Mutex::new((String::new(), 0, String::new()));

    unsafe extern "C" fn on_panic(_cls: *mut c_void, f: *const c_char, l: c_uint, r: *const c_char) {
        CALLS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the library passes two NUL-terminated strings.
        let (f, r) = unsafe { (CStr::from_ptr(f), CStr::from_ptr(r)) };
        *LAST.lock().unwrap() = (f.to_string_lossy().into_owned(), l, r.to_string_lossy().into_owned());
    }

    #[test]
    fn guard_returns_default_and_reports_where_it_panicked() {
        MHD_set_panic_func(Some(on_panic), core::ptr::null_mut());
        assert!(current_panic_callback().0.is_some());
        let line = line!() + 1;
        let r = guard(7, || -> i32 { panic!("boom {}", 42) });
        assert_eq!(r, 7);
        assert_eq!(CALLS.load(Ordering::SeqCst), 1);
        assert_eq!(*LAST.lock().unwrap(), ("src/ffi/guard.rs".to_owned(), line, "boom 42".to_owned()));
        assert_eq!(guard(0, || 5), 5);
        assert_eq!(catch(|| -> () { std::panic::panic_any(3u8) }), None);
        assert_eq!(CALLS.load(Ordering::SeqCst), 2);
        assert_eq!(LAST.lock().unwrap().2, "panic without a message");
        MHD_set_panic_func(None, core::ptr::null_mut());
        assert!(current_panic_callback().0.is_none());
    }

    /// The audit of the boundary, kept true: every `extern "C"` function
    /// defined in src/ffi runs its body through `guard`, except the few
    /// that only forward their arguments to one that does (listed here,
    /// each checked to contain nothing that can panic).
    #[test]
    fn every_exported_function_goes_through_guard() {
        const FORWARDERS: &[&str] = &[
            "MHD_digest_auth_check",
            "MHD_digest_auth_check_digest",
            "MHD_queue_auth_fail_response",
            "MHD_get_fdset",
            "MHD_run_wait",
            "MHD_create_response_from_buffer_with_free_callback",
        ];
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ffi");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().map_or(true, |e| e != "rs") {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            // Test modules define callbacks of their own.
            let src = src.split("#[cfg(test)]\nmod tests").next().unwrap();
            for (name, body) in extern_c_bodies(src) {
                checked += 1;
                let code: String = body.lines().map(str::trim).filter(|l| !l.starts_with("//")).collect();
                if FORWARDERS.contains(&name.as_str()) {
                    // Nothing that can panic: no unwrap/expect/indexing/division.
                    let can_panic = ["panic", "unwrap", "expect", "[", "/", "%"].iter().any(|p| code.contains(p));
                    assert!(!can_panic && code.contains("MHD_"), "{name}: not a plain forwarder: {code}");
                    continue;
                }
                assert!(code.starts_with("guard("), "{}: {name} does not run its body through guard()", path.display());
            }
        }
        assert!(checked >= 60, "only {checked} extern \"C\" functions found");
    }

    /// (name, body) of every `extern "C" fn` with a body in `src`.
    fn extern_c_bodies(src: &str) -> Vec<(String, String)> {
        let b = src.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(i) = src[at..].find("extern \"C\" fn ") {
            let start = at + i + "extern \"C\" fn ".len();
            at = start;
            let name: String = src[start..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if name.is_empty() {
                continue; // a function pointer type
            }
            // Skip the signature (balanced parentheses), then see whether a
            // body or a `;` follows.
            let Some(open) = src[start..].find('(').map(|o| start + o) else { break };
            let (mut depth, mut k) = (0i32, open);
            loop {
                match b[k] {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
                k += 1;
                if depth == 0 {
                    break;
                }
            }
            let Some(j) = src[k..].find(['{', ';']).map(|j| k + j) else { break };
            if b[j] == b';' {
                continue;
            }
            let (mut depth, mut e) = (0i32, j);
            loop {
                match b[e] {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    _ => {}
                }
                e += 1;
                if depth == 0 {
                    break;
                }
            }
            out.push((name, src[j + 1..e - 1].to_owned()));
            at = e;
        }
        out
    }
}
