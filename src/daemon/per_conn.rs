//! Thread per connection: each client gets a thread that polls only its
//! socket and its own wake-up descriptor (resume, upgrade wake-ups, and
//! the daemon's stop, which wakes every connection thread through it) and
//! drives the same connection state machine. No descriptor is shared by
//! all threads: 1,000 threads polling one would queue 1,000 waiters on it.

use super::worker::WorkerShared;
use super::Ctx;
use crate::conn::{Connection, Termination};
use crate::sys;
use crate::sys::poll::{self, PollSet};
use crate::sys::socket::RawAddr;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Instant;

/// Starts a thread for an admitted connection. On failure the connection is
/// closed and its admission released.
pub fn spawn(ctx: Arc<Ctx>, fd: RawFd, addr: RawAddr) {
    let shared = match WorkerShared::new() {
        Ok(s) => s,
        Err(e) => {
            ctx.log(&format!("Failed to create a wake-up descriptor for a connection thread: {e}"));
            ctx.release(&addr);
            sys::close(fd);
            return;
        }
    };
    let mut b = std::thread::Builder::new().name("MHD-connection".into());
    if ctx.cfg.thread_stack_size > 0 {
        b = b.stack_size(ctx.cfg.thread_stack_size);
    }
    let ctx2 = ctx.clone();
    let shared2 = shared.clone();
    match b.spawn(move || serve(ctx2, shared2, fd, addr)) {
        Ok(h) => ctx.track_thread(h, shared),
        Err(e) => {
            ctx.log(&format!("Failed to create a thread for the connection: {e}"));
            ctx.release(&addr);
            sys::close(fd);
        }
    }
}

fn serve(ctx: Arc<Ctx>, shared: Arc<WorkerShared>, fd: RawFd, addr: RawAddr) {
    // SIGPIPE is already blocked: a thread inherits its creator's signal
    // mask, and connection threads are created only by the daemon's
    // internal thread (thread per connection implies one), which blocked
    // it when it started. One rt_sigprocmask less per connection.
    let mut conn = Connection::new(fd, addr, ctx.c_handle, shared.clone(), &ctx);
    if let Some(n) = ctx.cfg.notify_connection {
        n.call(conn.shared.c_ptr(), conn.shared.socket_context_ptr(), true);
    }
    let mut set = PollSet::default();
    loop {
        if ctx.is_shutting_down() {
            conn.abort(Termination::DaemonShutdown);
        }
        if conn.is_suspended() && conn.take_resume() {
            // Resumed: fall through and run.
        }
        if !conn.is_suspended() {
            super::worker::run_guarded(&mut conn, &ctx);
        }
        if conn.is_closed() {
            break;
        }
        let i = conn.interest();
        let timeout = if i.busy {
            0
        } else {
            conn.deadline().map_or(-1, |d| {
                (d.saturating_duration_since(Instant::now()).as_millis().min(i32::MAX as u128 - 1) + 1) as i32
            })
        };
        set.clear();
        let mut ev = 0;
        if i.read {
            ev |= poll::READ;
        }
        if i.write {
            ev |= poll::WRITE;
        }
        set.push(fd, ev);
        set.push(shared.wake.fd(), poll::READ);
        if let Err(e) = set.wait(timeout) {
            ctx.log(&format!("poll failed in a connection thread: {e}"));
            conn.abort(Termination::WithError);
            continue;
        }
        if set.revents(1) != 0 {
            shared.wake.drain();
        }
        let rev = set.revents(0);
        conn.set_ready(rev & (poll::READ | poll::HUP) != 0, rev & poll::WRITE != 0);
        conn.check_timeout(Instant::now());
        conn.end_round(&ctx);
    }
    conn.finalize(&ctx);
    if let Some(n) = ctx.cfg.notify_connection {
        n.call(conn.shared.c_ptr(), conn.shared.socket_context_ptr(), false);
    }
    ctx.release(&addr);
    sys::close(fd);
}
