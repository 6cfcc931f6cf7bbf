//! One event-loop thread: accepts, waits for readiness with select, poll or
//! epoll, and drives each connection's state machine. Every backend shares
//! the same dispatch: record readiness, `Connection::run`, ask `interest`.

use super::config::Poller;
use super::Ctx;
use crate::conn::{Connection, Termination};
use crate::sys;
use crate::sys::epoll::{self, Epoll};
use crate::sys::poll::{self, PollSet};
use crate::sys::select::{self as sel, FdSet};
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const TOKEN_LISTEN: u64 = 0;
const TOKEN_WAKE: u64 = 1;
const TOKEN_BASE: u64 = 2;
/// Connections accepted per loop round, so a connect flood cannot starve
/// the clients already being served.
const ACCEPT_BATCH: usize = 64;

pub fn spawn(ctx: Arc<Ctx>, stack_size: usize) -> io::Result<JoinHandle<()>> {
    let mut b = std::thread::Builder::new().name("MHD-worker".into());
    if stack_size > 0 {
        b = b.stack_size(stack_size);
    }
    let backend = Backend::new(&ctx)?;
    b.spawn(move || {
        sys::block_sigpipe_in_this_thread();
        let mut w = Worker { ctx, conns: Vec::new(), free: Vec::new(), backend, busy: Vec::new() };
        w.run();
    })
}

enum Backend {
    Select,
    Poll(PollSet, Vec<usize>),
    Epoll(Epoll),
}

impl Backend {
    fn new(ctx: &Ctx) -> io::Result<Backend> {
        Ok(match ctx.cfg.poller {
            Poller::Select => Backend::Select,
            Poller::Poll => Backend::Poll(PollSet::default(), Vec::new()),
            Poller::Epoll => {
                let ep = Epoll::new(256)?;
                if let Some(fd) = ctx.listen_fd {
                    ep.add(fd, epoll::READ, TOKEN_LISTEN)?;
                }
                ep.add(ctx.wake.fd(), epoll::READ, TOKEN_WAKE)?;
                Backend::Epoll(ep)
            }
        })
    }
}

struct Worker {
    ctx: Arc<Ctx>,
    conns: Vec<Option<Connection>>,
    free: Vec<usize>,
    backend: Backend,
    /// Slots to run this round regardless of readiness (epoll only).
    busy: Vec<usize>,
}

impl Worker {
    fn run(&mut self) {
        let mut next_timeout_scan = Instant::now();
        while !self.ctx.is_shutting_down() {
            let timeout = self.wait_timeout();
            let (listen_ready, ran) = match self.wait(timeout) {
                Ok(r) => r,
                Err(e) => {
                    self.ctx.log(&format!("Event loop wait failed: {e}"));
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            let _ = ran;
            if self.ctx.is_shutting_down() {
                break;
            }
            if listen_ready {
                self.accept();
            }
            let now = Instant::now();
            if now >= next_timeout_scan {
                // Timeouts have one-second resolution; scanning every
                // connection more often would only cost CPU.
                next_timeout_scan = now + Duration::from_millis(250);
                for i in 0..self.conns.len() {
                    if let Some(c) = self.conns[i].as_mut() {
                        c.check_timeout(now);
                        if c.is_closed() {
                            self.reap(i);
                        }
                    }
                }
            }
        }
        for i in 0..self.conns.len() {
            if let Some(c) = self.conns[i].as_mut() {
                c.abort(Termination::DaemonShutdown);
                self.reap(i);
            }
        }
    }

    /// How long the next wait may block: until the nearest connection
    /// deadline, or not at all when a connection has work without I/O.
    fn wait_timeout(&self) -> i32 {
        let mut nearest: Option<Instant> = None;
        for c in self.conns.iter().flatten() {
            if c.interest().busy {
                return 0;
            }
            if let Some(d) = c.deadline() {
                nearest = Some(nearest.map_or(d, |n: Instant| n.min(d)));
            }
        }
        match nearest {
            None => -1,
            Some(d) => {
                let ms = d.saturating_duration_since(Instant::now()).as_millis();
                (ms.min(i32::MAX as u128) as i32).saturating_add(1)
            }
        }
    }

    /// Waits for readiness and runs every connection that can progress.
    /// Returns whether the listening socket is readable.
    fn wait(&mut self, timeout_ms: i32) -> io::Result<(bool, usize)> {
        match &mut self.backend {
            Backend::Select => self.wait_select(timeout_ms),
            Backend::Poll(..) => self.wait_poll(timeout_ms),
            Backend::Epoll(_) => self.wait_epoll(timeout_ms),
        }
    }

    fn wait_select(&mut self, timeout_ms: i32) -> io::Result<(bool, usize)> {
        let mut r = FdSet::default();
        let mut w = FdSet::default();
        let mut e = FdSet::default();
        let mut max = self.ctx.wake.fd();
        r.insert(self.ctx.wake.fd());
        if let Some(fd) = self.ctx.listen_fd {
            r.insert(fd);
            max = max.max(fd);
        }
        for c in self.conns.iter().flatten() {
            let i = c.interest();
            if i.read {
                r.insert(c.fd());
            }
            if i.write {
                w.insert(c.fd());
            }
            e.insert(c.fd());
            max = max.max(c.fd());
        }
        sel::select(max + 1, &mut r, &mut w, &mut e, timeout_ms as i64)?;
        if r.contains(self.ctx.wake.fd()) {
            self.ctx.wake.drain();
        }
        let mut ran = 0;
        for i in 0..self.conns.len() {
            let Some(c) = self.conns[i].as_mut() else { continue };
            let fd = c.fd();
            let (rd, wr) = (r.contains(fd) || e.contains(fd), w.contains(fd));
            if rd || wr || c.interest().busy {
                c.set_ready(rd, wr);
                c.run(&self.ctx);
                ran += 1;
                if c.is_closed() {
                    self.reap(i);
                }
            }
        }
        Ok((self.ctx.listen_fd.map_or(false, |fd| r.contains(fd)), ran))
    }

    fn wait_poll(&mut self, timeout_ms: i32) -> io::Result<(bool, usize)> {
        let Backend::Poll(set, slots) = &mut self.backend else { unreachable!() };
        set.clear();
        slots.clear();
        set.push(self.ctx.wake.fd(), poll::READ);
        let listen_idx = self.ctx.listen_fd.map(|fd| set.push(fd, poll::READ));
        for (slot, c) in self.conns.iter().enumerate() {
            let Some(c) = c else { continue };
            let i = c.interest();
            let mut ev = 0;
            if i.read {
                ev |= poll::READ;
            }
            if i.write {
                ev |= poll::WRITE;
            }
            set.push(c.fd(), ev);
            slots.push(slot);
        }
        set.wait(timeout_ms)?;
        if set.revents(0) != 0 {
            self.ctx.wake.drain();
        }
        let listen_ready = listen_idx.map_or(false, |i| set.revents(i) & poll::READ != 0);
        let first = 1 + listen_idx.is_some() as usize;
        let mut ran = 0;
        for k in 0..slots.len() {
            let Backend::Poll(set, slots) = &self.backend else { unreachable!() };
            let (slot, rev) = (slots[k], set.revents(first + k));
            let Some(c) = self.conns[slot].as_mut() else { continue };
            let rd = rev & (poll::READ | poll::HUP) != 0;
            let wr = rev & poll::WRITE != 0;
            if rd || wr || c.interest().busy {
                c.set_ready(rd, wr);
                c.run(&self.ctx);
                ran += 1;
                if c.is_closed() {
                    self.reap(slot);
                }
            }
        }
        Ok((listen_ready, ran))
    }

    fn wait_epoll(&mut self, timeout_ms: i32) -> io::Result<(bool, usize)> {
        let Backend::Epoll(ep) = &mut self.backend else { unreachable!() };
        let mut listen_ready = false;
        let mut ready: Vec<(usize, bool, bool)> = std::mem::take(&mut self.busy).into_iter().map(|s| (s, false, false)).collect();
        for (token, ev) in ep.wait(timeout_ms)? {
            match token {
                TOKEN_LISTEN => listen_ready = true,
                TOKEN_WAKE => self.ctx.wake.drain(),
                t => {
                    let rd = ev & (epoll::READ | epoll::HUP) != 0;
                    let wr = ev & epoll::WRITE != 0;
                    ready.push(((t - TOKEN_BASE) as usize, rd, wr));
                }
            }
        }
        let mut ran = 0;
        for (slot, rd, wr) in ready {
            let Some(c) = self.conns.get_mut(slot).and_then(|c| c.as_mut()) else { continue };
            c.set_ready(rd, wr);
            c.run(&self.ctx);
            ran += 1;
            if c.is_closed() {
                self.reap(slot);
            } else if c.interest().busy && !self.busy.contains(&slot) {
                self.busy.push(slot);
            }
        }
        Ok((listen_ready, ran))
    }

    fn accept(&mut self) {
        let Some(lfd) = self.ctx.listen_fd else { return };
        for _ in 0..ACCEPT_BATCH {
            match sys::socket::accept(lfd) {
                Ok(Some((fd, addr))) => self.add(fd, addr),
                Ok(None) => return,
                Err(e) => {
                    // EMFILE and friends: log and retry next round.
                    self.ctx.log(&format!("Error accepting connection: {e}"));
                    return;
                }
            }
        }
    }

    fn add(&mut self, fd: std::os::fd::RawFd, addr: sys::socket::RawAddr) {
        if matches!(self.backend, Backend::Select) && fd >= sel::FD_SETSIZE {
            self.ctx.log("Socket descriptor larger than FD_SETSIZE; closing connection.");
            sys::close(fd);
            return;
        }
        if !self.ctx.admit(&addr) {
            sys::close(fd);
            return;
        }
        let conn = Connection::new(fd, addr, self.ctx.c_handle, &self.ctx);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.conns.push(None);
                self.conns.len() - 1
            }
        };
        if let Backend::Epoll(ep) = &self.backend {
            let ev = epoll::READ | epoll::WRITE | epoll::HUP | epoll::EDGE;
            if let Err(e) = ep.add(fd, ev, slot as u64 + TOKEN_BASE) {
                self.ctx.log(&format!("Failed to add connection to epoll: {e}"));
                self.ctx.release(&addr);
                sys::close(fd);
                self.free.push(slot);
                return;
            }
        }
        if let Some(n) = self.ctx.cfg.notify_connection {
            n.call(conn.shared.c_ptr(), conn.shared.socket_context_ptr(), true);
        }
        self.conns[slot] = Some(conn);
        // Data often arrives with the connection: serve it without waiting.
        if let Some(c) = self.conns[slot].as_mut() {
            c.run(&self.ctx);
            if c.is_closed() {
                self.reap(slot);
            }
        }
    }

    /// Finalizes and frees a closed connection.
    fn reap(&mut self, slot: usize) {
        let Some(mut c) = self.conns[slot].take() else { return };
        c.finalize(&self.ctx);
        if let Some(n) = self.ctx.cfg.notify_connection {
            n.call(c.shared.c_ptr(), c.shared.socket_context_ptr(), false);
        }
        if let Backend::Epoll(ep) = &self.backend {
            ep.delete(c.fd());
        }
        self.busy.retain(|&s| s != slot);
        self.ctx.release(&c.shared.addr);
        sys::close(c.fd());
        self.free.push(slot);
    }
}
