//! `MHD_create_post_processor`, `MHD_post_process`,
//! `MHD_destroy_post_processor`: the C face of `crate::post`.

use super::abi::*;
use super::guard::guard;
use super::handles::{conn_ref, post_from_handle, post_into_handle, post_mut};
use crate::conn::values::kind;
use crate::post::{PostEvent, PostProcessor, PostSink};
use core::ffi::{c_char, c_void};
use core::ptr;
use std::ffi::CStr;

/// What `struct MHD_PostProcessor *` points to.
pub struct PostHandle {
    pp: PostProcessor,
    iter: unsafe extern "C" fn(
        *mut c_void,
        MHD_ValueKind,
        *const c_char,
        *const c_char,
        *const c_char,
        *const c_char,
        *const c_char,
        u64,
        size_t,
    ) -> MHD_ResultInt,
    cls: *mut c_void,
    /// The current piece, NUL-terminated for applications that treat it
    /// as a string.
    scratch: Vec<u8>,
}

fn opt_ptr(s: Option<&CStr>) -> *const c_char {
    s.map_or(ptr::null(), |s| s.as_ptr())
}

impl PostHandle {
    /// Runs `f` with the processor and a sink that calls the application.
    fn with_sink<R>(&mut self, f: impl FnOnce(&mut PostProcessor, &mut dyn PostSink) -> R) -> R {
        let (iter, cls, scratch) = (self.iter, self.cls, &mut self.scratch);
        let mut sink = |ev: &PostEvent<'_>| -> bool {
            scratch.clear();
            scratch.extend_from_slice(ev.data);
            scratch.push(0);
            // SAFETY: the application registered `iter` for exactly these
            // calls; every string is NUL-terminated and lives until it returns.
            let r = unsafe {
                iter(
                    cls,
                    MHD_ValueKind::MHD_POSTDATA_KIND,
                    opt_ptr(ev.key),
                    opt_ptr(ev.filename),
                    opt_ptr(ev.content_type),
                    opt_ptr(ev.transfer_encoding),
                    scratch.as_ptr().cast(),
                    ev.off,
                    ev.data.len(),
                )
            };
            r != MHD_NO
        };
        f(&mut self.pp, &mut sink)
    }
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_post_processor(
    connection: *mut MHD_Connection,
    buffer_size: size_t,
    iter: MHD_PostDataIterator,
    iter_cls: *mut c_void,
) -> *mut MHD_PostProcessor {
    guard(ptr::null_mut(), || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return ptr::null_mut() };
        let Some(iter) = iter else { return ptr::null_mut() };
        let content_type: Option<Vec<u8>> = {
            let Ok(v) = c.values.try_borrow() else { return ptr::null_mut() };
            v.lookup(kind::HEADER, Some(b"Content-Type")).and_then(|e| e.value.map(|s| v.bytes(&s).to_vec()))
        };
        match PostProcessor::new(content_type.as_deref(), buffer_size) {
            Ok(pp) => post_into_handle(PostHandle { pp, iter, cls: iter_cls, scratch: Vec::new() }),
            Err(_) => ptr::null_mut(),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_post_process(
    pp: *mut MHD_PostProcessor,
    post_data: *const c_char,
    post_data_len: size_t,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        if post_data_len == 0 {
            return MHD_Result::MHD_YES;
        }
        // SAFETY: a handle from MHD_create_post_processor, not yet destroyed.
        let Some(h) = (unsafe { post_mut(pp) }) else { return MHD_Result::MHD_NO };
        if post_data.is_null() {
            return MHD_Result::MHD_NO;
        }
        // SAFETY: the application passes post_data_len readable bytes.
        let data = unsafe { std::slice::from_raw_parts(post_data.cast::<u8>(), post_data_len) };
        MHD_Result::from_bool(h.with_sink(|p, sink| p.process(data, sink)))
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_destroy_post_processor(pp: *mut MHD_PostProcessor) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: the application gives the handle back, once.
        let Some(mut h) = (unsafe { post_from_handle(pp) }) else { return MHD_Result::MHD_YES };
        MHD_Result::from_bool(h.with_sink(|p, sink| p.finish(sink)))
    })
}
