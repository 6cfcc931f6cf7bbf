//! epoll: the Linux readiness API, edge-triggered interest per connection.

use super::syscall;
use std::io;
use std::os::fd::RawFd;

pub const READ: u32 = libc::EPOLLIN as u32;
pub const WRITE: u32 = libc::EPOLLOUT as u32;
pub const HUP: u32 = (libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLRDHUP) as u32;
pub const EDGE: u32 = libc::EPOLLET as u32;

pub struct Epoll {
    fd: RawFd,
    events: Vec<libc::epoll_event>,
}

impl Epoll {
    pub fn new(capacity: usize) -> io::Result<Epoll> {
        let fd = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
        Ok(Epoll { fd, events: vec![libc::epoll_event { events: 0, u64: 0 }; capacity.max(16)] })
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    pub fn add(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        syscall!(epoll_ctl(self.fd, libc::EPOLL_CTL_ADD, fd, &mut ev))?;
        Ok(())
    }

    pub fn modify(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        syscall!(epoll_ctl(self.fd, libc::EPOLL_CTL_MOD, fd, &mut ev))?;
        Ok(())
    }

    pub fn delete(&self, fd: RawFd) {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        let _ = syscall!(epoll_ctl(self.fd, libc::EPOLL_CTL_DEL, fd, &mut ev));
    }

    /// Waits up to `timeout_ms` (-1: forever) and returns (token, events) pairs.
    pub fn wait(&mut self, timeout_ms: i32) -> io::Result<impl Iterator<Item = (u64, u32)> + '_> {
        let n = match syscall!(epoll_wait(
            self.fd,
            self.events.as_mut_ptr(),
            self.events.len() as i32,
            timeout_ms
        )) {
            Ok(n) => n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        Ok(self.events[..n].iter().map(|ev| {
            let token = ev.u64;
            (token, ev.events)
        }))
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        super::close(self.fd);
    }
}

/// Removes `fd` from the epoll set `epfd` (from any thread).
pub fn delete_from(epfd: RawFd, fd: RawFd) {
    let mut ev = libc::epoll_event { events: 0, u64: 0 };
    let _ = syscall!(epoll_ctl(epfd, libc::EPOLL_CTL_DEL, fd, &mut ev));
}
