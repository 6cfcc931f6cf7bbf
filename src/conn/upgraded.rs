//! The upgraded state of the connection (design/UPGRADE.md): after the 101
//! head has been handed to the OS, the application's event-mask handler
//! speaks its own protocol through our buffers, over the same Transport, so
//! HTTP and HTTPS behave alike.

use super::{Connection, Interest, State, Termination, MAX_PASSES};
use crate::daemon::Ctx;
use crate::ffi::hooks::{UpgradeArgs, UpgradeHook};
use crate::sys::socket;
use crate::upgrade::{Mask, UpgradeState, MIN_BUFFER};
use std::io::{self, IoSlice};
use std::sync::atomic::Ordering;
use crate::sys::clock::Tick;

/// What kind of last call the handler gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Final {
    /// The peer will send nothing more; the handler may still write.
    Eof,
    /// Error, stall or shutdown: nothing more can be sent.
    NoOutput,
}

impl Connection {
    /// The 101 head is with the OS: hand the connection to the handler.
    pub(super) fn enter_upgraded(&mut self, ctx: &Ctx, hook: UpgradeHook) {
        // The connection's memory budget is split between the directions,
        // each getting at least 4 KiB. The input buffer takes its full size
        // now: a stream is read in as large pieces as the budget allows.
        let half = (ctx.cfg.memory_limit / 2).max(MIN_BUFFER);
        let unread = self.rend - self.rstart;
        self.read_max = half.max(unread);
        if self.rbuf.len() < self.read_max {
            self.rbuf.resize(self.read_max, 0);
        }
        let mut up = UpgradeState::new(hook, half);
        // Connections run with TCP_NODELAY (see Connection::new); the first
        // output of a call without CORK turns coalescing back on.
        up.nodelay = true;
        self.up = Some(Box::new(up));
        self.state = State::Upgraded;
        self.shared.upgraded.store(true, Ordering::Release);
        // Pipelined bytes that came with the request count as new input.
        if let Some(up) = self.up.as_mut() {
            up.new_input = self.rend > self.rstart;
        }
    }

    pub fn is_upgraded(&self) -> bool {
        self.state == State::Upgraded
    }

    pub(super) fn upgraded_interest(&self) -> Interest {
        let Some(up) = self.up.as_ref() else { return Interest::default() };
        let avail = self.rend - self.rstart;
        let read = up.wants_input() && !self.peer_closed && avail < self.read_max;
        let write = up.has_output();
        let eof_pending = self.peer_closed && !up.finished;
        Interest {
            read,
            write,
            busy: up.busy(avail) || eof_pending || (read && self.read_ready) || (write && self.write_ready),
        }
    }

    /// The event loop finished a round: EXTERNAL and resume wake-ups run
    /// the handler now, as the last act of the round.
    pub fn end_round(&mut self, ctx: &Ctx) {
        if self.state != State::Upgraded {
            return;
        }
        let resumed = self.shared.resume_requested.swap(false, Ordering::AcqRel);
        let due = match self.up.as_mut() {
            Some(up) => {
                up.round_completed(resumed);
                up.due
            }
            None => false,
        };
        if due {
            self.run_upgraded(ctx);
            if let Some(up) = self.up.as_mut() {
                up.arm_external();
            }
        }
    }

    pub(super) fn run_upgraded(&mut self, ctx: &Ctx) {
        for _ in 0..MAX_PASSES {
            let mut progress = false;
            let Some(up) = self.up.as_ref() else { return };
            if up.wants_input() && self.read_ready && !self.peer_closed {
                match self.read_more() {
                    Ok(true) => {
                        if let Some(up) = self.up.as_mut() {
                            up.new_input = true;
                        }
                        progress = true;
                    }
                    Ok(false) => {}
                    Err(_) => return self.end_upgraded(ctx, Termination::WithError),
                }
            }
            let Some(up) = self.up.as_ref() else { return };
            if self.peer_closed && !up.finished {
                self.call_upgrade(ctx, Some(Final::Eof));
                if let Some(up) = self.up.as_mut() {
                    up.ending = Some(Termination::ClientAbort);
                }
                progress = true;
            }
            let avail = self.rend - self.rstart;
            if self.up.as_ref().map_or(false, |up| up.should_call(avail)) {
                self.call_upgrade(ctx, None);
                progress = true;
                if self.stalled() {
                    ctx.log("Upgrade handler consumed nothing from a full input buffer and asked only to read: ending the connection.");
                    return self.end_upgraded(ctx, Termination::WithError);
                }
            }
            if self.write_ready && self.up.as_ref().map_or(false, |u| u.has_output()) {
                match self.send_upgraded() {
                    Ok(true) => progress = true,
                    Ok(false) => {}
                    Err(_) => return self.end_upgraded(ctx, Termination::WithError),
                }
            }
            let Some(up) = self.up.as_mut() else { return };
            if up.push_after_flush && !up.has_output() {
                // CORK: push what was handed to the OS out now. Our TLS
                // records are written to the socket as they are made, so
                // only the TCP layer holds bytes back. Setting TCP_NODELAY
                // pushes; it stays set while every call asks for CORK (no
                // later byte would be held back either) and is cleared by
                // the first send of a call that does not.
                up.push_after_flush = false;
                if !up.nodelay {
                    let _ = socket::set_nodelay(self.fd, true);
                    up.nodelay = true;
                }
            }
            if let Some(code) = up.ending {
                if !up.has_output() {
                    if matches!(code, Termination::CompletedOk | Termination::ClientAbort) {
                        self.transport.shutdown();
                    }
                    self.state = State::Closed(code);
                    return;
                }
            }
            if !progress {
                return;
            }
        }
        self.unfinished = true;
    }

    /// True when the input buffer is full, the last call consumed nothing
    /// and asked only for READ: no progress is possible.
    fn stalled(&self) -> bool {
        let Some(up) = self.up.as_ref() else { return false };
        !up.finished && up.consumed_none && up.mask == Mask::READ && self.rend - self.rstart >= self.read_max
    }

    /// Reads into the input buffer. Ok(true): bytes arrived.
    fn read_more(&mut self) -> io::Result<bool> {
        if !self.make_read_room() {
            return Ok(false);
        }
        let room = self.rbuf.len() - self.rend;
        match self.transport.recv(&mut self.rbuf[self.rend..]) {
            Ok(0) => {
                self.peer_closed = true;
                self.read_ready = false;
                Ok(false)
            }
            Ok(n) => {
                self.rend += n;
                if !self.may_hold_more(n, room) {
                    self.read_ready = false;
                }
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.read_ready = false;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    fn send_upgraded(&mut self) -> io::Result<bool> {
        let Some(up) = self.up.as_mut() else { return Ok(false) };
        if up.nodelay && !up.push_after_flush {
            // Output of a call without CORK: the usual coalescing again.
            let _ = socket::set_nodelay(self.fd, false);
            up.nodelay = false;
        }
        match self.transport.sendv(&[IoSlice::new(up.pending_output())]) {
            Ok(n) => {
                up.sent(n);
                Ok(n > 0)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.write_ready = false;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Calls the handler: a normal call, or the last one (`data_in == NULL`).
    fn call_upgrade(&mut self, ctx: &Ctx, last: Option<Final>) {
        let Some(up) = self.up.as_mut() else { return };
        let hook = up.hook;
        let room = up.make_room(self.rbuf[self.rstart..].as_ptr() as usize);
        let avail = self.rend - self.rstart;
        let mut in_size = if last.is_some() { 0 } else { avail };
        let mut out_size = if last == Some(Final::NoOutput) { 0 } else { room };
        let out_ptr = up.out[up.out_end..].as_mut_ptr().cast();
        let in_ptr = if last.is_some() { std::ptr::null() } else { self.rbuf[self.rstart..].as_ptr().cast() };
        let args = UpgradeArgs {
            connection: self.shared.c_ptr(),
            con_cls: self.shared.con_cls_ptr(),
            data_in_size: &mut in_size,
            data_in: in_ptr,
            data_out_size: &mut out_size,
            data_out: out_ptr,
        };
        let bits = hook.call(&args);
        let given_out = if last == Some(Final::NoOutput) { 0 } else { room };
        if in_size > avail || (last.is_some() && in_size > 0) {
            ctx.log(&format!("Upgrade handler reported {in_size} bytes consumed of {avail}; clamped."));
            in_size = if last.is_some() { 0 } else { avail };
        }
        if out_size > given_out {
            ctx.log(&format!("Upgrade handler reported {out_size} bytes written into {given_out} bytes of space; clamped."));
            out_size = given_out;
        }
        let Some(up) = self.up.as_mut() else { return };
        up.out_end += out_size;
        self.rstart += in_size;
        if last.is_some() {
            up.finished = true;
            if out_size > 0 && Mask::from_bits_truncate(bits).contains(Mask::CORK) {
                up.push_after_flush = true;
            }
        } else {
            up.after_call(in_size, Mask::from_bits_truncate(bits));
        }
        self.last_activity = Tick::now();
    }

    /// Ends the connection after a final call that may not write.
    fn end_upgraded(&mut self, ctx: &Ctx, code: Termination) {
        if self.up.as_ref().map_or(false, |u| !u.finished) {
            self.call_upgrade(ctx, Some(Final::NoOutput));
        }
        self.state = State::Closed(code);
    }

    /// Daemon stop or another ending decided outside: the last call, then
    /// whatever the socket takes at once.
    pub(super) fn finalize_upgraded(&mut self, ctx: &Ctx) {
        if self.up.as_ref().map_or(true, |u| u.finished) {
            return;
        }
        self.call_upgrade(ctx, Some(Final::NoOutput));
        let _ = self.send_upgraded();
    }
}
