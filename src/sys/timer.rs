//! A periodic timer as a descriptor (timerfd): a loop that waits on it in
//! its epoll set can wait without a timeout. A wait with a timeout arms
//! and cancels a kernel timer every time it sleeps; with one keep-alive
//! client that was about 2.5 % of the server's CPU here (bench/RESULTS.md
//! notes).

use super::syscall;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

pub struct TimerFd {
    fd: RawFd,
}

impl TimerFd {
    pub fn new() -> io::Result<TimerFd> {
        let fd = syscall!(timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC))?;
        Ok(TimerFd { fd })
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Fires every `period`, the first time `period` from now;
    /// `Duration::ZERO` stops it.
    pub fn set_period(&self, period: Duration) -> io::Result<()> {
        let ts = libc::timespec {
            tv_sec: period.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
            tv_nsec: period.subsec_nanos() as libc::c_long,
        };
        let spec = libc::itimerspec { it_interval: ts, it_value: ts };
        syscall!(timerfd_settime(self.fd, 0, &spec, std::ptr::null_mut()))?;
        Ok(())
    }

    /// Takes the expirations so far: the descriptor is no longer readable.
    pub fn drain(&self) {
        super::drain_counter(self.fd);
    }
}

impl Drop for TimerFd {
    fn drop(&mut self) {
        super::close(self.fd);
    }
}
