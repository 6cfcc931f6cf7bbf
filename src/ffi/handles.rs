//! Casts between the opaque C handles and our Rust objects, in one place.
//!
//! - `struct MHD_Daemon *` is a `Box<DaemonHandle>`.
//! - `struct MHD_Connection *` is the address of the connection's `ConnShared`
//!   (boxed, so it never moves while the connection lives).
//! - `struct MHD_Response *` is an `Arc<Response>` turned into a raw pointer;
//!   the application's reference is one count, each queued use another.

use super::abi::{MHD_Connection, MHD_Daemon, MHD_Response};
use crate::conn::shared::ConnShared;
use crate::response::Response;
use std::sync::Arc;

/// # Safety
/// `p` must be NULL or a connection handle whose connection is still alive
/// (C may only use it between connection start and the completion callback).
pub unsafe fn conn_ref<'a>(p: *mut MHD_Connection) -> Option<&'a ConnShared> {
    // SAFETY: per the contract, a non-NULL handle points at a live ConnShared.
    unsafe { (p as *const ConnShared).as_ref() }
}

pub fn response_into_handle(r: Response) -> *mut MHD_Response {
    Arc::into_raw(Arc::new(r)) as *mut MHD_Response
}

/// A new counted reference to the response behind a handle.
///
/// # Safety
/// `p` must be NULL or a handle from `response_into_handle` not yet destroyed.
pub unsafe fn response_arc(p: *mut MHD_Response) -> Option<Arc<Response>> {
    if p.is_null() {
        return None;
    }
    let p = p as *const Response;
    // SAFETY: p came from Arc::into_raw and the application still holds its count.
    unsafe {
        Arc::increment_strong_count(p);
        Some(Arc::from_raw(p))
    }
}

/// Borrows the response behind a handle.
///
/// # Safety
/// As for `response_arc`; the borrow must end before the handle is destroyed.
pub unsafe fn response_ref<'a>(p: *mut MHD_Response) -> Option<&'a Response> {
    // SAFETY: per the contract, a non-NULL handle points at a live Response.
    unsafe { (p as *const Response).as_ref() }
}

/// Drops the application's reference.
///
/// # Safety
/// `p` must be a handle from `response_into_handle`, destroyed only once.
pub unsafe fn response_release(p: *mut MHD_Response) {
    if !p.is_null() {
        // SAFETY: gives back the count the application held.
        drop(unsafe { Arc::from_raw(p as *const Response) });
    }
}

/// # Safety
/// `p` must be NULL or a live daemon handle.
pub unsafe fn daemon_ref<'a>(p: *mut MHD_Daemon) -> Option<&'a super::daemon::DaemonHandle> {
    // SAFETY: per the contract, a non-NULL handle points at a live DaemonHandle.
    unsafe { (p as *const super::daemon::DaemonHandle).as_ref() }
}

// `struct MHD_PostProcessor *` is a `Box<PostHandle>`.

pub fn post_into_handle(h: super::post::PostHandle) -> *mut super::abi::MHD_PostProcessor {
    Box::into_raw(Box::new(h)).cast()
}

/// # Safety
/// `p` must be NULL or a live handle from `post_into_handle`, not used
/// elsewhere for the duration of the borrow.
pub unsafe fn post_mut<'a>(p: *mut super::abi::MHD_PostProcessor) -> Option<&'a mut super::post::PostHandle> {
    // SAFETY: per the contract, a non-NULL handle points at a live PostHandle.
    unsafe { (p as *mut super::post::PostHandle).as_mut() }
}

/// # Safety
/// `p` must be NULL or a handle from `post_into_handle`, given back once.
pub unsafe fn post_from_handle(p: *mut super::abi::MHD_PostProcessor) -> Option<Box<super::post::PostHandle>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: p came from Box::into_raw in post_into_handle.
    Some(unsafe { Box::from_raw(p as *mut super::post::PostHandle) })
}
