//! poll(2) over a vector of descriptors rebuilt each round.

use super::syscall;
use std::io;
use std::os::fd::RawFd;

pub const READ: i16 = libc::POLLIN;
pub const WRITE: i16 = libc::POLLOUT;
pub const HUP: i16 = libc::POLLHUP | libc::POLLERR | libc::POLLNVAL;

#[derive(Default)]
pub struct PollSet {
    fds: Vec<libc::pollfd>,
}

impl PollSet {
    pub fn clear(&mut self) {
        self.fds.clear();
    }

    /// Adds a descriptor; returns its index for `revents`.
    pub fn push(&mut self, fd: RawFd, events: i16) -> usize {
        self.fds.push(libc::pollfd { fd, events, revents: 0 });
        self.fds.len() - 1
    }

    pub fn revents(&self, idx: usize) -> i16 {
        self.fds[idx].revents
    }

    pub fn wait(&mut self, timeout_ms: i32) -> io::Result<usize> {
        match syscall!(poll(self.fds.as_mut_ptr(), self.fds.len() as libc::nfds_t, timeout_ms)) {
            Ok(n) => Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}
