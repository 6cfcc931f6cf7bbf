//! The external event loop API: the application waits, we serve.
//! `MHD_get_fdset(2)`, `MHD_get_timeout`, `MHD_run`, `MHD_run_wait`,
//! `MHD_run_from_select`.

use super::abi::*;
use super::daemon::DaemonHandle;
use super::guard::guard;
use super::handles::daemon_ref;
use crate::daemon::worker::{self, Worker};
use crate::daemon::{Daemon, ExternalError};
use crate::sys::select::{self as sel, FdSet};
use core::ffi::{c_int, c_uint, c_ulonglong};
use std::time::Duration;

/// Runs `f` on the external loop of the daemon behind `daemon`, logging
/// misuse (a daemon with internal threads, or a call from inside one of its
/// own callbacks).
fn on_loop<R>(daemon: *mut MHD_Daemon, what: &str, f: impl FnOnce(&Daemon, &mut Worker) -> R) -> Option<R> {
    // SAFETY: a live handle from MHD_start_daemon.
    let h: &DaemonHandle = unsafe { daemon_ref(daemon) }?;
    h.with_daemon(|d| match d.with_external(|w| f(d, w)) {
        Ok(r) => Some(r),
        Err(ExternalError::NotExternal) => {
            d.ctx.log(&format!("{what} called for a daemon that runs its own threads."));
            None
        }
        Err(ExternalError::Busy) => {
            d.ctx.log(&format!("{what} called from inside a callback of the same daemon."));
            None
        }
    })
    .flatten()
}

fn result(ok: bool) -> MHD_Result {
    if ok {
        MHD_Result::MHD_YES
    } else {
        MHD_Result::MHD_NO
    }
}

/// # Safety
/// Each pointer must be NULL or point to a writable `fd_set`.
unsafe fn set_mut<'a>(p: *mut fd_set) -> Option<&'a mut FdSet> {
    // SAFETY: FdSet is repr(transparent) over fd_set.
    unsafe { (p as *mut FdSet).as_mut() }
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_fdset2(
    daemon: *mut MHD_Daemon,
    read_fd_set: *mut fd_set,
    write_fd_set: *mut fd_set,
    except_fd_set: *mut fd_set,
    max_fd: *mut MHD_socket,
    fd_setsize: c_uint,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        // SAFETY: the application passes writable sets (the except set may be NULL).
        let (Some(r), Some(w)) = (unsafe { set_mut(read_fd_set) }, unsafe { set_mut(write_fd_set) }) else {
            return MHD_Result::MHD_NO;
        };
        let mut spare = FdSet::default();
        // SAFETY: as above.
        let e = unsafe { set_mut(except_fd_set) }.unwrap_or(&mut spare);
        let limit = (fd_setsize.min(c_int::MAX as c_uint) as c_int).min(sel::FD_SETSIZE);
        let ok = on_loop(daemon, "MHD_get_fdset", |d, wk| {
            let with_wake = d.ctx.cfg.has(crate::daemon::config::flag::ITC);
            let (max, fits) = wk.fill_sets(r, w, e, limit, with_wake);
            if !max_fd.is_null() {
                // SAFETY: max_fd is writable when given.
                unsafe { *max_fd = (*max_fd).max(max) };
            }
            if !fits {
                d.ctx.log("MHD_get_fdset: a descriptor does not fit the application's fd_set.");
            }
            fits
        });
        result(ok == Some(true))
    })
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_fdset(
    daemon: *mut MHD_Daemon,
    read_fd_set: *mut fd_set,
    write_fd_set: *mut fd_set,
    except_fd_set: *mut fd_set,
    max_fd: *mut MHD_socket,
) -> MHD_Result {
    // SAFETY: forwarded with this program's FD_SETSIZE, as libmicrohttpd's macro does.
    unsafe { MHD_get_fdset2(daemon, read_fd_set, write_fd_set, except_fd_set, max_fd, sel::FD_SETSIZE as c_uint) }
}

#[no_mangle]
pub unsafe extern "C" fn MHD_get_timeout(daemon: *mut MHD_Daemon, timeout: *mut c_ulonglong) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        if timeout.is_null() {
            return MHD_Result::MHD_NO;
        }
        let t = on_loop(daemon, "MHD_get_timeout", |_, w| w.wait_timeout()).flatten();
        match t {
            Some(d) => {
                // SAFETY: checked non-NULL above.
                unsafe { *timeout = d.as_millis().min(c_ulonglong::MAX as u128) as c_ulonglong };
                MHD_Result::MHD_YES
            }
            None => MHD_Result::MHD_NO,
        }
    })
}

/// One round of the external loop, waiting at most `wait`.
fn run_round(daemon: *mut MHD_Daemon, what: &str, wait: Option<Duration>) -> MHD_Result {
    let ok = on_loop(daemon, what, |d, w| {
        // Never wait past the nearest connection deadline.
        let t = worker::earliest(wait, w.own_wait_timeout());
        let ms = t.map_or(-1, worker::millis);
        match w.round(ms) {
            Ok(()) => true,
            Err(e) => {
                d.ctx.log(&format!("{what}: waiting failed: {e}"));
                false
            }
        }
    });
    result(ok == Some(true))
}

#[no_mangle]
pub unsafe extern "C" fn MHD_run(daemon: *mut MHD_Daemon) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || run_round(daemon, "MHD_run", Some(Duration::ZERO)))
}

#[no_mangle]
pub unsafe extern "C" fn MHD_run_wait(daemon: *mut MHD_Daemon, millisec: i32) -> MHD_Result {
    // A negative value waits without limit (until something happens).
    let wait = (millisec >= 0).then(|| Duration::from_millis(millisec as u64));
    guard(MHD_Result::MHD_NO, || run_round(daemon, "MHD_run_wait", wait))
}

#[no_mangle]
pub unsafe extern "C" fn MHD_run_from_select(
    daemon: *mut MHD_Daemon,
    read_fd_set: *const fd_set,
    write_fd_set: *const fd_set,
    except_fd_set: *const fd_set,
) -> MHD_Result {
    guard(MHD_Result::MHD_NO, || {
        if read_fd_set.is_null() || write_fd_set.is_null() {
            // SAFETY: a live handle from MHD_start_daemon (or NULL).
            if let Some(h) = unsafe { daemon_ref(daemon) } {
                h.with_daemon(|d| d.ctx.log("MHD_run_from_select: the read and write sets must not be NULL."));
            }
            return MHD_Result::MHD_NO;
        }
        let empty = FdSet::default();
        // SAFETY: the sets are the application's, read only; NULL means empty.
        let (r, w, e) = unsafe {
            (
                (read_fd_set as *const FdSet).as_ref().unwrap_or(&empty),
                (write_fd_set as *const FdSet).as_ref().unwrap_or(&empty),
                (except_fd_set as *const FdSet).as_ref().unwrap_or(&empty),
            )
        };
        let ok = on_loop(daemon, "MHD_run_from_select", |d, wk| match wk.run_from_sets(r, w, e) {
            Ok(()) => true,
            Err(err) => {
                d.ctx.log(&format!("MHD_run_from_select: {err}"));
                false
            }
        });
        result(ok == Some(true))
    })
}
