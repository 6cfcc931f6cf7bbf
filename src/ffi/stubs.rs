//! Placeholder bodies for the exported API, one per C entry point, with the
//! exact C signatures. Each logs "not implemented yet" and returns the error
//! value. The runtime replaces them one by one: move a function to its home
//! module under src/ffi/, keep the signature and the `guard` around the body.
//!
//! Also the hidden `mhd_rs_*` functions the C shim (src/shim/variadics.c)
//! calls; they are not exported from the shared library (see build.rs).
#![allow(unused_variables)]

use core::ffi::{c_char, c_int, c_uint, c_void};
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
pub unsafe extern "C" fn MHD_digest_auth_get_username(connection: *mut MHD_Connection) -> *mut c_char {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_digest_auth_get_username");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_digest_auth_check2(connection: *mut MHD_Connection, realm: *const c_char, username: *const c_char, password: *const c_char, nonce_timeout: c_uint, algo: MHD_DigestAuthAlgorithmInt) -> c_int {
    guard(MHD_NO, || {
        not_implemented("MHD_digest_auth_check2");
        MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_digest_auth_check(connection: *mut MHD_Connection, realm: *const c_char, username: *const c_char, password: *const c_char, nonce_timeout: c_uint) -> c_int {
    guard(MHD_NO, || {
        not_implemented("MHD_digest_auth_check");
        MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_digest_auth_check_digest2(connection: *mut MHD_Connection, realm: *const c_char, username: *const c_char, digest: *const u8, digest_size: size_t, nonce_timeout: c_uint, algo: MHD_DigestAuthAlgorithmInt) -> c_int {
    guard(MHD_NO, || {
        not_implemented("MHD_digest_auth_check_digest2");
        MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_digest_auth_check_digest(connection: *mut MHD_Connection, realm: *const c_char, username: *const c_char, digest: *const u8, nonce_timeout: c_uint) -> c_int {
    guard(MHD_NO, || {
        not_implemented("MHD_digest_auth_check_digest");
        MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_queue_auth_fail_response2(connection: *mut MHD_Connection, realm: *const c_char, opaque: *const c_char, response: *mut MHD_Response, signal_stale: c_int, algo: MHD_DigestAuthAlgorithmInt) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_queue_auth_fail_response2");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_queue_auth_fail_response(connection: *mut MHD_Connection, realm: *const c_char, opaque: *const c_char, response: *mut MHD_Response, signal_stale: c_int) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_queue_auth_fail_response");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_basic_auth_get_username_password(connection: *mut MHD_Connection, password: *mut *mut c_char) -> *mut c_char {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_basic_auth_get_username_password");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_queue_basic_auth_fail_response(connection: *mut MHD_Connection, realm: *const c_char, response: *mut MHD_Response) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_queue_basic_auth_fail_response");
        MHD_Result::MHD_NO
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
