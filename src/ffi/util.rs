//! Stateless utilities: reason phrases, URL unescaping, feature queries.

use super::abi::*;
use super::guard::guard;
use crate::http1;
use core::ffi::{c_char, c_int, c_uint};
use std::ffi::{CStr, CString};
use std::sync::OnceLock;

#[no_mangle]
pub extern "C" fn MHD_get_reason_phrase_for(code: c_uint) -> *const c_char {
    guard(c"Unknown".as_ptr(), || reason_cstr(code).as_ptr())
}

#[no_mangle]
pub extern "C" fn MHD_get_reason_phrase_len_for(code: c_uint) -> size_t {
    // libmicrohttpd reports 0 for codes it does not know.
    guard(0, || match http1::reason_phrase(code) {
        "Unknown" => 0,
        p => p.len(),
    })
}

/// The reason phrase as a NUL-terminated string that lives forever
/// (the application may keep the pointer).
fn reason_cstr(code: c_uint) -> &'static CStr {
    static TABLE: OnceLock<Vec<CString>> = OnceLock::new();
    let t = TABLE.get_or_init(|| (0..1000).map(|c| CString::new(http1::reason_phrase(c)).unwrap_or_default()).collect());
    t.get(code as usize).map_or(c"Unknown", |c| c.as_c_str())
}

#[no_mangle]
pub unsafe extern "C" fn MHD_http_unescape(val: *mut c_char) -> size_t {
    guard(0, || {
        if val.is_null() {
            return 0;
        }
        // SAFETY: the application passes a writable NUL-terminated string.
        let len = unsafe { CStr::from_ptr(val) }.to_bytes().len();
        // SAFETY: `len + 1` bytes are writable (the string and its NUL).
        let buf = unsafe { std::slice::from_raw_parts_mut(val.cast::<u8>(), len + 1) };
        let n = http1::unescape_in_place(&mut buf[..len]);
        buf[n] = 0;
        n
    })
}

/// Whether a feature is present in this build. Answers change as the
/// features land; each answer is what the library really does today.
#[no_mangle]
pub extern "C" fn MHD_is_feature_supported(feature: MHD_FEATUREInt) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        use MHD_FEATURE as F;
        let yes = [
            F::MHD_FEATURE_MESSAGES,
            F::MHD_FEATURE_IPv6,
            F::MHD_FEATURE_IPv6_ONLY,
            F::MHD_FEATURE_POLL,
            F::MHD_FEATURE_EPOLL,
            F::MHD_FEATURE_LARGE_FILE,
            F::MHD_FEATURE_THREAD_NAMES,
            F::MHD_FEATURE_RESPONSES_SHARED_FD,
            F::MHD_FEATURE_AUTODETECT_BIND_PORT,
            F::MHD_FEATURE_AUTOSUPPRESS_SIGPIPE,
            F::MHD_FEATURE_SENDFILE,
            F::MHD_FEATURE_THREADS,
            F::MHD_FEATURE_BASIC_AUTH,
            F::MHD_FEATURE_DIGEST_AUTH,
            F::MHD_FEATURE_POSTPROCESSOR,
            // HTTPS through OpenSSL (MHD_USE_TLS, the MHD_OPTION_HTTPS_* options);
            // not HTTPS_CERT_CALLBACK(2), which take GnuTLS callbacks.
            F::MHD_FEATURE_TLS,
            F::MHD_FEATURE_HTTPS_KEY_PASSWORD,
        ];
        if yes.iter().any(|f| *f as c_int == feature) {
            MHD_Result::MHD_YES
        } else {
            MHD_Result::MHD_NO
        }
    })
}
