//! select(2) with `fd_set`s; descriptors at or above FD_SETSIZE cannot be
//! watched and are refused by the caller.

use super::syscall;
use std::io;
use std::os::fd::RawFd;

pub const FD_SETSIZE: RawFd = libc::FD_SETSIZE as RawFd;

/// Transparent over `fd_set`, so the application's sets can be used in place.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct FdSet {
    set: libc::fd_set,
}

impl Default for FdSet {
    fn default() -> Self {
        // SAFETY: fd_set is plain data; FD_ZERO initialises it fully.
        let mut set: libc::fd_set = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid fd_set.
        unsafe { libc::FD_ZERO(&mut set) };
        FdSet { set }
    }
}

impl FdSet {
    /// Adds `fd`; false (and nothing added) if it does not fit an fd_set.
    pub fn insert(&mut self, fd: RawFd) -> bool {
        if !(0..FD_SETSIZE).contains(&fd) {
            return false;
        }
        // SAFETY: fd is within 0..FD_SETSIZE.
        unsafe { libc::FD_SET(fd, &mut self.set) };
        true
    }

    pub fn contains(&self, fd: RawFd) -> bool {
        if !(0..FD_SETSIZE).contains(&fd) {
            return false;
        }
        // SAFETY: fd is within 0..FD_SETSIZE.
        unsafe { libc::FD_ISSET(fd, &self.set) }
    }

    pub fn as_raw(&mut self) -> *mut libc::fd_set {
        &mut self.set
    }
}

/// Waits for readiness; `timeout_ms` < 0 waits forever.
pub fn select(nfds: RawFd, read: &mut FdSet, write: &mut FdSet, except: &mut FdSet, timeout_ms: i64) -> io::Result<usize> {
    let mut tv = libc::timeval { tv_sec: (timeout_ms / 1000) as libc::time_t, tv_usec: ((timeout_ms % 1000) * 1000) as libc::suseconds_t };
    let tvp = if timeout_ms < 0 { std::ptr::null_mut() } else { &mut tv as *mut libc::timeval };
    match syscall!(select(nfds, read.as_raw(), write.as_raw(), except.as_raw(), tvp)) {
        Ok(n) => Ok(n as usize),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(e) => Err(e),
    }
}
