//! Memory the application owns or handed over to us: response buffers,
//! iovec arrays, and key/value strings set with `MHD_set_connection_value`.

use super::hooks::FreeCallback;
use std::os::raw::{c_char, c_void};

/// How a foreign buffer is released when the response that holds it dies.
pub enum Release {
    /// The application keeps it alive (MHD_RESPMEM_PERSISTENT).
    Nothing,
    /// `free()` it (MHD_RESPMEM_MUST_FREE).
    Free,
    /// Call the application's callback with its closure.
    Callback(FreeCallback),
}

/// A byte range in application memory, valid until released.
pub struct ForeignBytes {
    ptr: *const u8,
    len: usize,
    release: Release,
}

// SAFETY: the application promises the memory stays valid and unmodified
// while the response exists (libmicrohttpd's contract); we only read it.
unsafe impl Send for ForeignBytes {}
// SAFETY: as above; shared reads only.
unsafe impl Sync for ForeignBytes {}

impl ForeignBytes {
    /// # Safety
    /// `ptr` must be valid for reads of `len` bytes until `release` runs
    /// (or forever, for `Release::Nothing`); `ptr` may be NULL only if `len` is 0.
    pub unsafe fn new(ptr: *const c_void, len: usize, release: Release) -> ForeignBytes {
        ForeignBytes { ptr: ptr.cast(), len, release }
    }

    /// Bytes that live for the whole program (our own canned bodies).
    pub fn from_static(s: &'static [u8]) -> ForeignBytes {
        ForeignBytes { ptr: s.as_ptr(), len: s.len(), release: Release::Nothing }
    }

    pub fn as_slice(&self) -> &[u8] {
        if self.len == 0 || self.ptr.is_null() {
            return &[];
        }
        // SAFETY: guaranteed by the constructor's contract.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for ForeignBytes {
    fn drop(&mut self) {
        match &self.release {
            Release::Nothing => {}
            // SAFETY: MUST_FREE buffers were allocated with malloc by the application.
            Release::Free => unsafe { libc::free(self.ptr as *mut c_void) },
            Release::Callback(cb) => cb.call(),
        }
    }
}

/// A NUL-terminated string in application memory with a known length
/// (MHD_set_connection_value keeps the application's pointers, as libmicrohttpd does).
#[derive(Clone, Copy)]
pub struct ForeignStr {
    ptr: *const c_char,
    len: usize,
}

// SAFETY: the application promises the string outlives the request.
unsafe impl Send for ForeignStr {}

impl ForeignStr {
    /// # Safety
    /// `ptr` must be valid for reads of `len + 1` bytes for as long as the
    /// value is used (the application's promise for connection values).
    pub unsafe fn new(ptr: *const c_char, len: usize) -> ForeignStr {
        ForeignStr { ptr, len }
    }

    pub fn ptr(&self) -> *const c_char {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn as_bytes(&self) -> &[u8] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: guaranteed by the constructor's contract.
        unsafe { std::slice::from_raw_parts(self.ptr.cast(), self.len) }
    }
}
