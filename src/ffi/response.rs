//! Entry points that create, inspect and destroy responses.

use super::abi::*;
use super::foreign::{ForeignBytes, Release};
use super::guard::guard;
use super::handles::{response_into_handle, response_ref, response_release};
use super::hooks::{ContentReader, FreeCallback, UpgradeHook};
use crate::response::{flags, Body, Response};
use core::ffi::{c_char, c_int, c_uint, c_void};
use core::ptr;
use std::ffi::CStr;

fn handle(body: Body) -> *mut MHD_Response {
    response_into_handle(Response::new(body))
}

/// # Safety
/// `buffer` must be readable for `size` bytes (for as long as `release` requires).
unsafe fn from_foreign(size: usize, buffer: *const c_void, release: Release) -> *mut MHD_Response {
    if buffer.is_null() && size > 0 {
        return ptr::null_mut();
    }
    // SAFETY: forwarded from the caller.
    handle(Body::Foreign(unsafe { ForeignBytes::new(buffer, size, release) }))
}

/// # Safety
/// `buffer` must be readable for `size` bytes.
unsafe fn copy_of(size: usize, buffer: *const c_void) -> Vec<u8> {
    if size == 0 || buffer.is_null() {
        return Vec::new();
    }
    // SAFETY: forwarded from the caller.
    unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), size) }.to_vec()
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_buffer(
    size: size_t,
    buffer: *mut c_void,
    mode: MHD_ResponseMemoryModeInt,
) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        use MHD_ResponseMemoryMode as M;
        if buffer.is_null() && size > 0 {
            return ptr::null_mut();
        }
        // SAFETY: the application gives `size` readable bytes; the mode says
        // who owns them (persistent: the application; must-free: us).
        unsafe {
            if mode == M::MHD_RESPMEM_PERSISTENT as c_int {
                from_foreign(size, buffer, Release::Nothing)
            } else if mode == M::MHD_RESPMEM_MUST_FREE as c_int {
                from_foreign(size, buffer, Release::Free)
            } else if mode == M::MHD_RESPMEM_MUST_COPY as c_int {
                handle(Body::Owned(copy_of(size, buffer)))
            } else {
                ptr::null_mut()
            }
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_buffer_with_free_callback(
    size: size_t,
    buffer: *mut c_void,
    crfc: MHD_ContentReaderFreeCallback,
) -> *mut MHD_Response {
    // SAFETY: same contract as the _cls variant, with the buffer as closure.
    unsafe { MHD_create_response_from_buffer_with_free_callback_cls(size, buffer, crfc, buffer) }
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_buffer_with_free_callback_cls(
    size: size_t,
    buffer: *mut c_void,
    crfc: MHD_ContentReaderFreeCallback,
    crfc_cls: *mut c_void,
) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        let release = match FreeCallback::new(crfc, crfc_cls) {
            Some(cb) => Release::Callback(cb),
            None => Release::Nothing,
        };
        // SAFETY: the buffer stays valid until the free callback runs.
        unsafe { from_foreign(size, buffer, release) }
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_data(
    size: size_t,
    data: *mut c_void,
    must_free: c_int,
    must_copy: c_int,
) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        if data.is_null() && size > 0 {
            return ptr::null_mut();
        }
        // SAFETY: the application gives `size` readable bytes.
        unsafe {
            if must_copy != 0 {
                let v = copy_of(size, data);
                if must_free != 0 {
                    libc::free(data);
                }
                handle(Body::Owned(v))
            } else if must_free != 0 {
                from_foreign(size, data, Release::Free)
            } else {
                from_foreign(size, data, Release::Nothing)
            }
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_callback(
    size: u64,
    block_size: size_t,
    crc: MHD_ContentReaderCallback,
    crc_cls: *mut c_void,
    crfc: MHD_ContentReaderFreeCallback,
) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        let Some(reader) = ContentReader::new(crc, crc_cls) else { return ptr::null_mut() };
        if block_size == 0 {
            return ptr::null_mut();
        }
        let free = FreeCallback::new(crfc, crc_cls);
        let size = (size != MHD_SIZE_UNKNOWN).then_some(size);
        handle(Body::Reader { reader, free, block_size: block_size.min(1 << 20), size })
    })
}

fn from_file(fd: c_int, offset: u64, size: u64) -> *mut MHD_Response {
    if fd < 0 || (offset as i64) < 0 || offset.checked_add(size).map_or(true, |e| e > i64::MAX as u64) {
        return ptr::null_mut();
    }
    handle(Body::File { fd, offset, size })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_fd(size: size_t, fd: c_int) -> *mut MHD_Response {
    guard(ptr::null_mut(), || from_file(fd, 0, size as u64))
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_fd64(size: u64, fd: c_int) -> *mut MHD_Response {
    guard(ptr::null_mut(), || from_file(fd, 0, size))
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_fd_at_offset(size: size_t, fd: c_int, offset: off_t) -> *mut MHD_Response {
    guard(ptr::null_mut(), || if offset < 0 { ptr::null_mut() } else { from_file(fd, offset as u64, size as u64) })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_fd_at_offset64(size: u64, fd: c_int, offset: u64) -> *mut MHD_Response {
    guard(ptr::null_mut(), || from_file(fd, offset, size))
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_pipe(fd: c_int) -> *mut MHD_Response {
    guard(ptr::null_mut(), || if fd < 0 { ptr::null_mut() } else { handle(Body::Pipe { fd }) })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_iovec(
    iov: *const MHD_IoVec,
    iovcnt: c_uint,
    free_cb: MHD_ContentReaderFreeCallback,
    cls: *mut c_void,
) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        if iov.is_null() && iovcnt > 0 {
            return ptr::null_mut();
        }
        // SAFETY: the application passes `iovcnt` elements; only the array
        // is copied, the buffers stay the application's until free_cb runs.
        let elems = if iovcnt == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(iov, iovcnt as usize) } };
        let mut parts = Vec::with_capacity(elems.len());
        let mut total: u64 = 0;
        for e in elems {
            if e.iov_base.is_null() && e.iov_len > 0 {
                return ptr::null_mut();
            }
            total = match total.checked_add(e.iov_len as u64) {
                Some(t) => t,
                None => return ptr::null_mut(),
            };
            // SAFETY: see above.
            parts.push(unsafe { ForeignBytes::new(e.iov_base, e.iov_len, Release::Nothing) });
        }
        let release = FreeCallback::new(free_cb, cls)
            // SAFETY: an empty range; only its release callback matters.
            .map(|cb| unsafe { ForeignBytes::new(ptr::null(), 0, Release::Callback(cb)) });
        handle(Body::Iovec { parts, size: total, release })
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_destroy_response(response: *mut MHD_Response) {
    // SAFETY: the application gives back the reference it holds.
    guard((), || unsafe { response_release(response) })
}

/// # Safety
/// Both pointers NULL or NUL-terminated strings.
unsafe fn field_args<'a>(name: *const c_char, value: *const c_char) -> Option<(&'a [u8], &'a [u8])> {
    if name.is_null() || value.is_null() {
        return None;
    }
    // SAFETY: forwarded from the caller.
    unsafe { Some((CStr::from_ptr(name).to_bytes(), CStr::from_ptr(value).to_bytes())) }
}

fn yes_if(ok: bool) -> MHD_Result {
    if ok {
        MHD_Result::MHD_YES
    } else {
        MHD_Result::MHD_NO
    }
}

#[no_mangle]
pub unsafe extern "C" fn MHD_add_response_header(response: *mut MHD_Response, header: *const c_char, content: *const c_char) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: handle and strings from the application.
        let (Some(r), Some((n, v))) = (unsafe { response_ref(response) }, unsafe { field_args(header, content) }) else {
            return MHD_Result::MHD_NO;
        };
        yes_if(r.add(false, n, v).is_ok())
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_add_response_footer(response: *mut MHD_Response, footer: *const c_char, content: *const c_char) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: handle and strings from the application.
        let (Some(r), Some((n, v))) = (unsafe { response_ref(response) }, unsafe { field_args(footer, content) }) else {
            return MHD_Result::MHD_NO;
        };
        yes_if(r.add(true, n, v).is_ok())
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_del_response_header(response: *mut MHD_Response, header: *const c_char, content: *const c_char) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: handle and strings from the application.
        let (Some(r), Some((n, v))) = (unsafe { response_ref(response) }, unsafe { field_args(header, content) }) else {
            return MHD_Result::MHD_NO;
        };
        yes_if(r.delete(false, n, v) || r.delete(true, n, v))
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_response_headers(
    response: *mut MHD_Response,
    iterator: MHD_KeyValueIterator,
    iterator_cls: *mut c_void,
) -> c_int {
    guard(-1, || {
        // SAFETY: handle from the application.
        let Some(r) = (unsafe { response_ref(response) }) else { return -1 };
        // Collect the addresses first: the iterator may call back into us.
        let items: Vec<(MHD_ValueKind, *const c_char, *const c_char)> = r.with_fields(|fs| {
            fs.iter()
                .map(|f| {
                    let k = if f.footer { MHD_ValueKind::MHD_FOOTER_KIND } else { MHD_ValueKind::MHD_HEADER_KIND };
                    (k, f.name_with_nul().as_ptr().cast(), f.value_with_nul().as_ptr().cast())
                })
                .collect()
        });
        let mut n = 0;
        for (k, name, value) in items {
            n += 1;
            if let Some(f) = iterator {
                // SAFETY: the strings live as long as the field, which the
                // application does not delete while iterating.
                if unsafe { f(iterator_cls, k, name, value) } != MHD_YES {
                    break;
                }
            }
        }
        n
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_response_header(response: *mut MHD_Response, key: *const c_char) -> *const c_char {
    guard(ptr::null(), || {
        // SAFETY: handle and string from the application.
        let Some(r) = (unsafe { response_ref(response) }) else { return ptr::null() };
        if key.is_null() {
            return ptr::null();
        }
        // SAFETY: key is NUL-terminated.
        let k = unsafe { CStr::from_ptr(key) }.to_bytes();
        r.with_fields(|fs| {
            fs.iter()
                .find(|f| !f.footer && f.name().eq_ignore_ascii_case(k))
                .map_or(ptr::null(), |f| f.value_with_nul().as_ptr().cast())
        })
    })
}

/// Hidden: called by the C shim's `MHD_set_response_options` with the
/// options it read (each `MHD_RO_*`, terminated by the shim at MHD_RO_END).
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_set_response_options(
    response: *mut MHD_Response,
    flags: MHD_ResponseFlagsInt,
    _opts: *const MHD_ResponseOptionsInt,
    n_opts: size_t,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: handle from the application.
        let Some(r) = (unsafe { response_ref(response) }) else { return MHD_Result::MHD_NO };
        let f = flags as u32;
        if f & !flags::ALL != 0 || n_opts != 0 {
            // No MHD_RO_* option other than MHD_RO_END exists in 0.9.75.
            return MHD_Result::MHD_NO;
        }
        r.set_flags(f);
        MHD_Result::MHD_YES
    })
}

/// The event-mask upgrade API of design/UPGRADE.md (not libmicrohttpd's
/// later socket-based API of the same name).
#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_for_upgrade(
    upgrade_handler: MHD_UpgradeHandler,
    upgrade_handler_cls: *mut c_void,
) -> *mut MHD_Response {
    guard(ptr::null_mut(), || match UpgradeHook::new(upgrade_handler, upgrade_handler_cls) {
        Some(h) => handle(Body::Upgrade(h)),
        None => ptr::null_mut(),
    })
}

/// Hidden: called by the C shim's `MHD_upgrade_action`. That function
/// belongs to libmicrohttpd's socket-based upgrade API, which this library
/// replaces with the event-mask API; it is exported so programs linked
/// against libmicrohttpd.so.12 load, and always answers MHD_NO.
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_upgrade_action(_urh: *mut MHD_UpgradeResponseHandle, _action: MHD_UpgradeActionInt) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        eprintln!("libmicrohttpd-rs: MHD_upgrade_action belongs to the socket-based upgrade API, which this library does not offer (see MHD_create_response_for_upgrade)");
        MHD_Result::MHD_NO
    })
}
