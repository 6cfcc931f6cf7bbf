//! Basic and digest authentication entry points: the C face of `crate::auth`.
//!
//! The digest functions need the request's method and URL, which live in
//! the connection's state machine, not in the part of the connection the
//! application can reach. The access-handler call records them for its
//! thread ([`in_request`]), so these functions work where libmicrohttpd's
//! documentation has them called: inside the access handler.

use super::abi::*;
use super::guard::guard;
use super::handles::{conn_ref, daemon_ref, response_ref};
use crate::auth::{self, Algorithm, DigestRequest, DigestServer, Outcome, Secret};
use crate::conn::shared::ConnShared;
use crate::conn::values::kind;
use crate::daemon::Ctx;
use core::ffi::{c_char, c_int, c_uint};
use core::ptr;
use std::cell::Cell;
use std::ffi::CStr;

thread_local! {
    /// (connection, url, method) of the access-handler call running on this thread.
    static CURRENT: Cell<(usize, *const c_char, *const c_char)> = const { Cell::new((0, ptr::null(), ptr::null())) };
}

/// Runs an access-handler call `f`, recording its request for the auth functions.
pub(crate) fn in_request<R>(conn: *mut MHD_Connection, url: *const c_char, method: *const c_char, f: impl FnOnce() -> R) -> R {
    let prev = CURRENT.with(|c| c.replace((conn as usize, url, method)));
    let r = f();
    CURRENT.with(|c| c.set(prev));
    r
}

/// Method and URL of `conn`'s request, when called inside its access handler.
fn current_request(conn: *mut MHD_Connection) -> Option<(Vec<u8>, Vec<u8>)> {
    let (c, url, method) = CURRENT.with(|c| c.get());
    if c != conn as usize || c == 0 || url.is_null() || method.is_null() {
        return None;
    }
    // SAFETY: both strings belong to the request whose handler is running
    // on this thread (set by `in_request` for the duration of the call).
    unsafe { Some((CStr::from_ptr(method).to_bytes().to_vec(), CStr::from_ptr(url).to_bytes().to_vec())) }
}

fn with_ctx<R>(c: &ConnShared, f: impl FnOnce(&Ctx) -> R) -> Option<R> {
    // SAFETY: a live connection's daemon handle stays valid while the connection lives.
    let h = unsafe { daemon_ref(c.daemon_handle.0.cast()) }?;
    h.with_daemon(|d| f(&d.ctx))
}

fn header(c: &ConnShared, name: &[u8]) -> Option<Vec<u8>> {
    let v = c.values.try_borrow().ok()?;
    let e = v.lookup(kind::HEADER, Some(name))?;
    e.value.map(|s| v.bytes(&s).to_vec())
}

/// A malloc'd NUL-terminated copy, for the application to MHD_free.
fn malloc_str(s: &[u8]) -> *mut c_char {
    // SAFETY: allocates s.len() + 1 bytes and fills them all.
    unsafe {
        let p = libc::malloc(s.len() + 1).cast::<u8>();
        if p.is_null() {
            return ptr::null_mut();
        }
        ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        *p.add(s.len()) = 0;
        p.cast()
    }
}

/// # Safety
/// `s` NULL or a NUL-terminated string.
unsafe fn c_bytes<'a>(s: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: forwarded from the caller.
    (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_bytes())
}

fn algorithm(algo: MHD_DigestAuthAlgorithmInt) -> Option<Algorithm> {
    use MHD_DigestAuthAlgorithm as A;
    if algo == A::MHD_DIGEST_ALG_MD5 as c_int {
        Some(Algorithm::Md5)
    } else if algo == A::MHD_DIGEST_ALG_SHA256 as c_int || algo == A::MHD_DIGEST_ALG_AUTO as c_int {
        Some(Algorithm::Sha256)
    } else {
        None
    }
}

/// Adds `WWW-Authenticate: value` to the response and queues it with 401.
fn add_and_queue(connection: *mut MHD_Connection, response: *mut MHD_Response, value: &[u8]) -> MHD_Result {
    // SAFETY: a handle the application passed to us.
    let Some(r) = (unsafe { response_ref(response) }) else { return MHD_Result::MHD_NO };
    if r.add(false, b"WWW-Authenticate", value).is_err() {
        return MHD_Result::MHD_NO;
    }
    // SAFETY: the same handles, as the application gave them.
    unsafe { super::connection::MHD_queue_response(connection, MHD_HTTP_UNAUTHORIZED, response) }
}

#[no_mangle]
pub unsafe extern "C" fn MHD_basic_auth_get_username_password(connection: *mut MHD_Connection, password: *mut *mut c_char) -> *mut c_char {
    guard(ptr::null_mut(), || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return ptr::null_mut() };
        let Some((user, pass)) = header(c, b"Authorization").and_then(|h| auth::basic_credentials(&h)) else {
            return ptr::null_mut();
        };
        let u = malloc_str(&user);
        if u.is_null() {
            return ptr::null_mut();
        }
        if !password.is_null() {
            let p = malloc_str(&pass);
            if p.is_null() {
                // SAFETY: `u` came from malloc above.
                unsafe { libc::free(u.cast()) };
                return ptr::null_mut();
            }
            // SAFETY: the application passes a writable pointer (or NULL).
            unsafe { *password = p };
        }
        u
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_queue_basic_auth_fail_response(connection: *mut MHD_Connection, realm: *const c_char, response: *mut MHD_Response) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: realm is NULL or NUL-terminated.
        let Some(realm) = (unsafe { c_bytes(realm) }) else { return MHD_Result::MHD_NO };
        // SAFETY: the application passes a connection handle we gave it.
        if unsafe { conn_ref(connection) }.is_none() {
            return MHD_Result::MHD_NO;
        }
        add_and_queue(connection, response, &auth::basic_challenge(realm))
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_digest_auth_get_username(connection: *mut MHD_Connection) -> *mut c_char {
    guard(ptr::null_mut(), || {
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return ptr::null_mut() };
        let Some(h) = header(c, b"Authorization") else { return ptr::null_mut() };
        let Some(params) = h.strip_prefix(b"Digest ") else { return ptr::null_mut() };
        match auth::param(params, b"username", 128) {
            Some(u) => malloc_str(&u),
            None => ptr::null_mut(),
        }
    })
}

/// The common body of the four check functions.
fn digest_check(connection: *mut MHD_Connection, realm: *const c_char, username: *const c_char, secret: Secret<'_>, nonce_timeout: c_uint, algo: Algorithm) -> c_int {
    // SAFETY: the application passes a connection handle we gave it.
    let Some(c) = (unsafe { conn_ref(connection) }) else { return MHD_NO };
    // SAFETY: NULL or NUL-terminated strings from the application.
    let (Some(realm), Some(username)) = (unsafe { c_bytes(realm) }, unsafe { c_bytes(username) }) else { return MHD_NO };
    let Some(header) = header(c, b"Authorization") else { return MHD_NO };
    let Some((method, url)) = current_request(connection) else { return MHD_NO };
    let args: Vec<(Vec<u8>, Option<Vec<u8>>)> = {
        let Ok(v) = c.values.try_borrow() else { return MHD_NO };
        (0..v.len())
            .filter_map(|i| v.entry(i))
            .filter(|e| e.kind == kind::GET_ARGUMENT)
            .map(|e| (v.bytes(&e.key).to_vec(), e.value.map(|s| v.bytes(&s).to_vec())))
            .collect()
    };
    let r = with_ctx(c, |ctx| {
        let mut unescape = |s: &mut Vec<u8>, plus: bool| {
            if plus {
                s.iter_mut().filter(|b| **b == b'+').for_each(|b| *b = b' ');
            }
            let n = match ctx.cfg.unescaper {
                Some(u) => {
                    s.push(0);
                    u.call(connection, s)
                }
                None => crate::http1::unescape_in_place(s),
            };
            s.truncate(n);
        };
        let srv = DigestServer { random: &ctx.cfg.digest_random, nonces: &ctx.nonces, now: auth::monotonic_secs() };
        let req = DigestRequest { header: &header, method: &method, url: &url, args: &args };
        auth::check(&srv, &req, realm, username, secret, nonce_timeout, algo, &mut unescape)
    });
    match r {
        Some(Outcome::Yes) => MHD_YES,
        Some(Outcome::InvalidNonce) => MHD_INVALID_NONCE,
        Some(Outcome::No) | None => MHD_NO,
    }
}

#[no_mangle]
pub unsafe extern "C" fn MHD_digest_auth_check2(
    connection: *mut MHD_Connection,
    realm: *const c_char,
    username: *const c_char,
    password: *const c_char,
    nonce_timeout: c_uint,
    algo: MHD_DigestAuthAlgorithmInt,
) -> c_int {
    guard(MHD_NO, || {
        let Some(algo) = algorithm(algo) else { return MHD_NO };
        // SAFETY: NULL or a NUL-terminated string.
        let Some(password) = (unsafe { c_bytes(password) }) else { return MHD_NO };
        digest_check(connection, realm, username, Secret::Password(password), nonce_timeout, algo)
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_digest_auth_check(
    connection: *mut MHD_Connection,
    realm: *const c_char,
    username: *const c_char,
    password: *const c_char,
    nonce_timeout: c_uint,
) -> c_int {
    // SAFETY: same contract.
    unsafe { MHD_digest_auth_check2(connection, realm, username, password, nonce_timeout, MHD_DigestAuthAlgorithm::MHD_DIGEST_ALG_MD5 as c_int) }
}

#[no_mangle]
pub unsafe extern "C" fn MHD_digest_auth_check_digest2(
    connection: *mut MHD_Connection,
    realm: *const c_char,
    username: *const c_char,
    digest: *const u8,
    digest_size: size_t,
    nonce_timeout: c_uint,
    algo: MHD_DigestAuthAlgorithmInt,
) -> c_int {
    guard(MHD_NO, || {
        let Some(algo) = algorithm(algo) else { return MHD_NO };
        // libmicrohttpd panics on a size that does not fit the algorithm.
        if digest.is_null() || digest_size != algo.digest_size() {
            return MHD_NO;
        }
        // SAFETY: the application passes digest_size readable bytes.
        let d = unsafe { std::slice::from_raw_parts(digest, digest_size) };
        digest_check(connection, realm, username, Secret::Digest(d), nonce_timeout, algo)
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_digest_auth_check_digest(
    connection: *mut MHD_Connection,
    realm: *const c_char,
    username: *const c_char,
    digest: *const u8,
    nonce_timeout: c_uint,
) -> c_int {
    // SAFETY: same contract, with MD5's 16 bytes.
    unsafe {
        MHD_digest_auth_check_digest2(
            connection,
            realm,
            username,
            digest,
            MHD_MD5_DIGEST_SIZE as size_t,
            nonce_timeout,
            MHD_DigestAuthAlgorithm::MHD_DIGEST_ALG_MD5 as c_int,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn MHD_queue_auth_fail_response2(
    connection: *mut MHD_Connection,
    realm: *const c_char,
    opaque: *const c_char,
    response: *mut MHD_Response,
    signal_stale: c_int,
    algo: MHD_DigestAuthAlgorithmInt,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        let Some(algo) = algorithm(algo) else { return MHD_Result::MHD_NO };
        // SAFETY: the application passes a connection handle we gave it.
        let Some(c) = (unsafe { conn_ref(connection) }) else { return MHD_Result::MHD_NO };
        // SAFETY: NULL or NUL-terminated strings from the application.
        let Some(realm) = (unsafe { c_bytes(realm) }) else { return MHD_Result::MHD_NO };
        // glibc prints a NULL string as "(null)".
        // SAFETY: as above.
        let opaque = unsafe { c_bytes(opaque) }.unwrap_or(b"(null)");
        let Some((method, url)) = current_request(connection) else { return MHD_Result::MHD_NO };
        let nonce = with_ctx(c, |ctx| {
            let n = auth::calculate_nonce(auth::monotonic_secs(), &method, &ctx.cfg.digest_random, &url, realm, algo);
            ctx.nonces.check(n.as_bytes(), 0).then_some(n)
        });
        let Some(Some(nonce)) = nonce else {
            if let Some(Some(())) = with_ctx(c, |ctx| Some(ctx.log("Could not register nonce (is the nonce array size zero?)."))) {}
            return MHD_Result::MHD_NO;
        };
        add_and_queue(connection, response, &auth::digest_challenge(realm, &nonce, opaque, algo, signal_stale != 0))
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_queue_auth_fail_response(
    connection: *mut MHD_Connection,
    realm: *const c_char,
    opaque: *const c_char,
    response: *mut MHD_Response,
    signal_stale: c_int,
) -> MHD_Result {
    // SAFETY: same contract.
    unsafe {
        MHD_queue_auth_fail_response2(connection, realm, opaque, response, signal_stale, MHD_DigestAuthAlgorithm::MHD_DIGEST_ALG_MD5 as c_int)
    }
}
