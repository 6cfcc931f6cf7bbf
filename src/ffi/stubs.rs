//! Placeholder bodies for the exported API, one per C entry point, with the
//! exact C signatures. Each logs "not implemented yet" and returns the error
//! value. The runtime replaces them one by one: move a function to its home
//! module under src/ffi/, keep the signature and the `guard` around the body.
//!
//! Also the hidden `mhd_rs_*` functions the C shim (src/shim/variadics.c)
//! calls; they are not exported from the shared library (see build.rs).
#![allow(unused_variables)]

use core::ffi::{c_char, c_int, c_uint, c_ulonglong, c_void};
use core::ptr;

use super::abi::*;
use super::guard::{guard, not_implemented};

#[no_mangle]
pub unsafe extern "C" fn MHD_quiesce_daemon(daemon: *mut MHD_Daemon) -> MHD_socket {
    guard(MHD_INVALID_SOCKET, || {
        not_implemented("MHD_quiesce_daemon");
        MHD_INVALID_SOCKET
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_stop_daemon(daemon: *mut MHD_Daemon) {
    guard((), || {
        not_implemented("MHD_stop_daemon");
        ()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_add_connection(daemon: *mut MHD_Daemon, client_socket: MHD_socket, addr: *const sockaddr, addrlen: socklen_t) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_add_connection");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_fdset(daemon: *mut MHD_Daemon, read_fd_set: *mut fd_set, write_fd_set: *mut fd_set, except_fd_set: *mut fd_set, max_fd: *mut MHD_socket) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_get_fdset");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_fdset2(daemon: *mut MHD_Daemon, read_fd_set: *mut fd_set, write_fd_set: *mut fd_set, except_fd_set: *mut fd_set, max_fd: *mut MHD_socket, fd_setsize: c_uint) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_get_fdset2");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_timeout(daemon: *mut MHD_Daemon, timeout: *mut c_ulonglong) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_get_timeout");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_run(daemon: *mut MHD_Daemon) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_run");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_run_wait(daemon: *mut MHD_Daemon, millisec: i32) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_run_wait");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_run_from_select(daemon: *mut MHD_Daemon, read_fd_set: *const fd_set, write_fd_set: *const fd_set, except_fd_set: *const fd_set) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_run_from_select");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_connection_values(connection: *mut MHD_Connection, kind: MHD_ValueKindInt, iterator: MHD_KeyValueIterator, iterator_cls: *mut c_void) -> c_int {
    guard(0, || {
        not_implemented("MHD_get_connection_values");
        0
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_connection_values_n(connection: *mut MHD_Connection, kind: MHD_ValueKindInt, iterator: MHD_KeyValueIteratorN, iterator_cls: *mut c_void) -> c_int {
    guard(0, || {
        not_implemented("MHD_get_connection_values_n");
        0
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_set_connection_value(connection: *mut MHD_Connection, kind: MHD_ValueKindInt, key: *const c_char, value: *const c_char) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_set_connection_value");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_set_connection_value_n(connection: *mut MHD_Connection, kind: MHD_ValueKindInt, key: *const c_char, key_size: size_t, value: *const c_char, value_size: size_t) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_set_connection_value_n");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_http_unescape(val: *mut c_char) -> size_t {
    guard(0, || {
        not_implemented("MHD_http_unescape");
        0
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_lookup_connection_value(connection: *mut MHD_Connection, kind: MHD_ValueKindInt, key: *const c_char) -> *const c_char {
    guard(ptr::null(), || {
        not_implemented("MHD_lookup_connection_value");
        ptr::null()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_lookup_connection_value_n(connection: *mut MHD_Connection, kind: MHD_ValueKindInt, key: *const c_char, key_size: size_t, value_ptr: *mut *const c_char, value_size_ptr: *mut size_t) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_lookup_connection_value_n");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_queue_response(connection: *mut MHD_Connection, status_code: c_uint, response: *mut MHD_Response) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_queue_response");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_suspend_connection(connection: *mut MHD_Connection) {
    guard((), || {
        not_implemented("MHD_suspend_connection");
        ()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_resume_connection(connection: *mut MHD_Connection) {
    guard((), || {
        not_implemented("MHD_resume_connection");
        ()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_callback(size: u64, block_size: size_t, crc: MHD_ContentReaderCallback, crc_cls: *mut c_void, crfc: MHD_ContentReaderFreeCallback) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_callback");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_data(size: size_t, data: *mut c_void, must_free: c_int, must_copy: c_int) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_data");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_buffer(size: size_t, buffer: *mut c_void, mode: MHD_ResponseMemoryModeInt) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_buffer");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_buffer_with_free_callback(size: size_t, buffer: *mut c_void, crfc: MHD_ContentReaderFreeCallback) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_buffer_with_free_callback");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_buffer_with_free_callback_cls(size: size_t, buffer: *mut c_void, crfc: MHD_ContentReaderFreeCallback, crfc_cls: *mut c_void) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_buffer_with_free_callback_cls");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_fd(size: size_t, fd: c_int) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_fd");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_pipe(fd: c_int) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_pipe");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_fd64(size: u64, fd: c_int) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_fd64");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_fd_at_offset(size: size_t, fd: c_int, offset: off_t) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_fd_at_offset");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_fd_at_offset64(size: u64, fd: c_int, offset: u64) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_fd_at_offset64");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_from_iovec(iov: *const MHD_IoVec, iovcnt: c_uint, free_cb: MHD_ContentReaderFreeCallback, cls: *mut c_void) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_from_iovec");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_response_for_upgrade(upgrade_handler: MHD_UpgradeHandler, upgrade_handler_cls: *mut c_void) -> *mut MHD_Response {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_response_for_upgrade");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_destroy_response(response: *mut MHD_Response) {
    guard((), || {
        not_implemented("MHD_destroy_response");
        ()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_add_response_header(response: *mut MHD_Response, header: *const c_char, content: *const c_char) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_add_response_header");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_add_response_footer(response: *mut MHD_Response, footer: *const c_char, content: *const c_char) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_add_response_footer");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_del_response_header(response: *mut MHD_Response, header: *const c_char, content: *const c_char) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_del_response_header");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_response_headers(response: *mut MHD_Response, iterator: MHD_KeyValueIterator, iterator_cls: *mut c_void) -> c_int {
    guard(0, || {
        not_implemented("MHD_get_response_headers");
        0
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_response_header(response: *mut MHD_Response, key: *const c_char) -> *const c_char {
    guard(ptr::null(), || {
        not_implemented("MHD_get_response_header");
        ptr::null()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_create_post_processor(connection: *mut MHD_Connection, buffer_size: size_t, iter: MHD_PostDataIterator, iter_cls: *mut c_void) -> *mut MHD_PostProcessor {
    guard(ptr::null_mut(), || {
        not_implemented("MHD_create_post_processor");
        ptr::null_mut()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_post_process(pp: *mut MHD_PostProcessor, post_data: *const c_char, post_data_len: size_t) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_post_process");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_destroy_post_processor(pp: *mut MHD_PostProcessor) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_destroy_post_processor");
        MHD_Result::MHD_NO
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
pub unsafe extern "C" fn MHD_is_feature_supported(feature: MHD_FEATUREInt) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_is_feature_supported");
        MHD_Result::MHD_NO
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_reason_phrase_for(code: c_uint) -> *const c_char {
    guard(c"Unknown".as_ptr(), || {
        not_implemented("MHD_get_reason_phrase_for");
        c"Unknown".as_ptr()
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_reason_phrase_len_for(code: c_uint) -> size_t {
    guard(0, || {
        not_implemented("MHD_get_reason_phrase_len_for");
        0
    })
}

// ---------------------------------------------------------------------------
// Hidden entry points called by the C shim (src/shim/variadics.c).

/// Start a daemon from the options the shim read (see `ffi::options`).
/// `opts` holds `n_opts` items in the caller's order, without the
/// terminating `MHD_OPTION_END`, except that an option number the shim does
/// not know ends the array as its last item (then the start must fail).
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_start_daemon(
    flags: c_uint,
    port: u16,
    apc: MHD_AcceptPolicyCallback,
    apc_cls: *mut c_void,
    dh: MHD_AccessHandlerCallback,
    dh_cls: *mut c_void,
    opts: *const MHD_OptionItem,
    n_opts: size_t,
) -> *mut MHD_Daemon {
    guard(ptr::null_mut(), || {
        // SAFETY: the shim passes an array of `n_opts` items (or NULL when 0)
        // that stays valid for this call.
        let items = unsafe { super::options::items(opts, n_opts) };
        if let Err(e) = super::options::decode_all(items) {
            eprintln!("libmicrohttpd-rs: {e}");
            return ptr::null_mut();
        }
        not_implemented("MHD_start_daemon");
        ptr::null_mut()
    })
}

/// `MHD_get_connection_info`; `arg` is always NULL in 0.9.75 (no query
/// takes an extra argument).
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_get_connection_info(
    connection: *mut MHD_Connection,
    info_type: MHD_ConnectionInfoTypeInt,
    arg: *const c_void,
) -> *const MHD_ConnectionInfo {
    guard(ptr::null(), || {
        not_implemented("MHD_get_connection_info");
        ptr::null()
    })
}

/// `MHD_get_daemon_info` (no query reads an extra argument).
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_get_daemon_info(
    daemon: *mut MHD_Daemon,
    info_type: MHD_DaemonInfoTypeInt,
) -> *const MHD_DaemonInfo {
    guard(ptr::null(), || {
        not_implemented("MHD_get_daemon_info");
        ptr::null()
    })
}

/// `MHD_set_connection_option`; `timeout` is the `unsigned int` read for
/// `MHD_CONNECTION_OPTION_TIMEOUT`, 0 for any other option (nothing read).
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_set_connection_option(
    connection: *mut MHD_Connection,
    option: MHD_CONNECTION_OPTIONInt,
    timeout: c_uint,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_set_connection_option");
        MHD_Result::MHD_NO
    })
}

/// `MHD_set_response_options`: `opts` holds the `n_opts` option numbers read
/// before `MHD_RO_END` (not included). 0.9.75 defines no option besides
/// `MHD_RO_END`, so the shim stops after the first one; any entry means
/// "unknown option" and the call must return `MHD_NO`.
#[no_mangle]
pub unsafe extern "C" fn mhd_rs_set_response_options(
    response: *mut MHD_Response,
    flags: MHD_ResponseFlagsInt,
    opts: *const MHD_ResponseOptionsInt,
    n_opts: size_t,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        not_implemented("MHD_set_response_options");
        MHD_Result::MHD_NO
    })
}

/// `MHD_upgrade_action` of the socket-based upgrade API. This library has
/// no `MHD_UpgradeResponseHandle`s, so the final version returns `MHD_NO`.
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
