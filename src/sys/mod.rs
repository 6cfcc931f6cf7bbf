//! Operating-system calls: sockets, readiness APIs, eventfd, timerfd, signals;
//! and the one libssl call the `openssl` crate lacks (`ssl`).
//!
//! This is one of the two places (with `ffi`) where `unsafe` is allowed. Each
//! wrapper turns a raw call into an `io::Result` and owns its file
//! descriptors, so the rest of the crate never sees a raw syscall.

pub mod clock;
pub mod epoll;
pub mod poll;
pub mod select;
pub mod socket;
pub mod ssl;
pub mod thread;
pub mod timer;
pub mod wake;

use std::io;
use std::os::fd::RawFd;

/// Runs a libc call returning -1 on error and turns it into `io::Result`.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: every caller passes arguments that satisfy the call's
        // contract (valid fds and buffers that outlive the call).
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}
pub(crate) use syscall;

/// Closes a descriptor we own; errors are ignored because nothing can be
/// done about them at close time.
pub fn close(fd: RawFd) {
    // SAFETY: the caller owns `fd` and never uses it again.
    unsafe {
        libc::close(fd);
    }
}

/// Reads from a plain descriptor (pipe responses).
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match syscall!(read(fd, buf.as_mut_ptr().cast(), buf.len())) {
            Ok(n) => return Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Reads the 8-byte counter of an eventfd or timerfd, which makes it
/// unreadable until it counts again; nothing to read is fine.
pub fn drain_counter(fd: RawFd) {
    let mut n: u64 = 0;
    let _ = syscall!(read(fd, (&mut n as *mut u64).cast(), 8));
}

/// Reads from a descriptor at an absolute offset (file responses without sendfile).
pub fn pread(fd: RawFd, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let off = i64::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    loop {
        match syscall!(pread64(fd, buf.as_mut_ptr().cast(), buf.len(), off)) {
            Ok(n) => return Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Blocks SIGPIPE in the calling thread. Our sockets are written with
/// MSG_NOSIGNAL, but `sendfile` has no such flag; a library thread must never
/// let SIGPIPE kill the application.
pub fn block_sigpipe_in_this_thread() {
    // SAFETY: sigset_t is plain data initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Discards a SIGPIPE that a failed `sendfile` left pending on this thread,
/// so it is not delivered if the application later unblocks the signal.
pub fn discard_pending_sigpipe() {
    // SAFETY: plain data initialised before use; a zero timeout never blocks.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        while libc::sigtimedwait(&set, std::ptr::null_mut(), &ts) == libc::SIGPIPE {}
    }
}

/// Size of a regular file behind `fd`, if it is one.
pub fn file_size(fd: RawFd) -> io::Result<u64> {
    // SAFETY: `st` is plain data that fstat fills in.
    let mut st: libc::stat64 = unsafe { std::mem::zeroed() };
    syscall!(fstat64(fd, &mut st))?;
    Ok(st.st_size as u64)
}
