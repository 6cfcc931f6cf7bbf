//! The cross-thread wake-up channel (an eventfd): resume, quiesce and stop
//! all wake an event loop through it.

use super::syscall;
use std::io;
use std::os::fd::RawFd;

pub struct WakeFd {
    fd: RawFd,
}

impl WakeFd {
    pub fn new() -> io::Result<WakeFd> {
        let fd = syscall!(eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC))?;
        Ok(WakeFd { fd })
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Makes the descriptor readable; safe to call from any thread.
    pub fn wake(&self) {
        let one: u64 = 1;
        // An EAGAIN means the counter is already non-zero: the loop will wake.
        let _ = syscall!(write(self.fd, (&one as *const u64).cast(), 8));
    }

    /// Resets the descriptor to not readable.
    pub fn drain(&self) {
        super::drain_counter(self.fd);
    }
}

impl Drop for WakeFd {
    fn drop(&mut self) {
        super::close(self.fd);
    }
}
