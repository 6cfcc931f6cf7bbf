//! Placeholder bodies for the exported API, one per C entry point, with the
//! exact C signatures. Each logs "not implemented yet" and returns the error
//! value. The runtime replaces them one by one: move a function to its home
//! module under src/ffi/, keep the signature and the `guard` around the body.
//!
//! Also the hidden `mhd_rs_*` functions the C shim (src/shim/variadics.c)
//! calls; they are not exported from the shared library (see build.rs).
#![allow(unused_variables)]

use core::ffi::c_void;
use core::ptr;

use super::abi::*;
use super::guard::{guard, not_implemented};

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_for_upgrade(upgrade_handler: MHD_UpgradeHandler, upgrade_handler_cls: *mut c_void) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_for_upgrade");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn mhd_rs_upgrade_action(
    urh: *mut MHD_UpgradeResponseHandle,
    action: MHD_UpgradeActionInt,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_upgrade_action");
        MHD_Result::MHD_NO
    })
}
