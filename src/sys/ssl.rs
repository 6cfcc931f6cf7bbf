//! The one OpenSSL call the `openssl` crate does not wrap: giving an idle
//! session's record buffers back (`SSL_free_buffers`, OpenSSL 1.1.0 on).

use openssl::ssl::SslRef;

extern "C" {
    fn SSL_free_buffers(ssl: *mut std::ffi::c_void) -> std::ffi::c_int;
}

/// Frees the session's read and write record buffers (OpenSSL allocates
/// them again at the next read or write). False, and nothing freed, while
/// they hold bytes not yet processed or not yet sent.
pub fn free_buffers(ssl: &SslRef) -> bool {
    // A `&SslRef` is the `SSL *` itself: the crate's references to foreign
    // types are the C pointers (foreign_types' `ForeignTypeRef::as_ptr` is
    // this same cast).
    let p = ssl as *const SslRef as *mut std::ffi::c_void;
    // SAFETY: `p` is a live SSL owned by the caller's stream, used by one
    // thread at a time; SSL_free_buffers only touches that session.
    unsafe { SSL_free_buffers(p) == 1 }
}

/// Whether this libssl may be asked to free buffers at any time. Before
/// the fix of CVE-2024-4741 (3.0.14, 3.1.6, 3.2.2, 3.3.1) SSL_free_buffers
/// could free a buffer holding a partly received record and use it later.
pub fn free_buffers_is_safe() -> bool {
    fixed_version(openssl::version::number() as u64)
}

/// `v` as OpenSSL 3 numbers its versions: 0xMNN00PP0L (major, minor, patch).
fn fixed_version(v: u64) -> bool {
    let (major, minor, patch) = (v >> 28, (v >> 20) & 0xff, (v >> 4) & 0xff);
    match (major, minor) {
        (0..=2, _) => false,
        (3, 0) => patch >= 14,
        (3, 1) => patch >= 6,
        (3, 2) => patch >= 2,
        (3, 3) => patch >= 1,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::fixed_version;

    #[test]
    fn versions_before_the_fix_are_refused() {
        assert!(!fixed_version(0x1010_117f)); // 1.1.1w
        assert!(!fixed_version(0x3000_00d0)); // 3.0.13
        assert!(fixed_version(0x3000_00e0)); // 3.0.14
        assert!(fixed_version(0x3000_0130)); // 3.0.19 (Debian 12)
        assert!(!fixed_version(0x3010_0050)); // 3.1.5
        assert!(fixed_version(0x3010_0060)); // 3.1.6
        assert!(!fixed_version(0x3030_0000)); // 3.3.0
        assert!(fixed_version(0x3040_0000)); // 3.4.0
    }
}
