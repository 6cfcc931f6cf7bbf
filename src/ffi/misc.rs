//! Small entry points that need no runtime: version string and `MHD_free`.

use core::ffi::{c_char, c_void};

use super::guard::guard;

/// The version string of the API implemented ("0.9.75").
#[no_mangle]
pub extern "C" fn MHD_get_version() -> *const c_char {
    guard(c"0.9.75".as_ptr(), || c"0.9.75".as_ptr())
}

/// Free memory the library handed to the application (e.g. the strings of
/// `MHD_basic_auth_get_username_password`).
// Runtime note: such memory must therefore come from `libc::malloc`.
#[no_mangle]
pub unsafe extern "C" fn MHD_free(ptr: *mut c_void) {
    guard((), || {
        // SAFETY: by the API contract `ptr` is NULL or came from the library,
        // which allocates everything it hands out for MHD_free with malloc.
        unsafe { libc::free(ptr) }
    })
}
