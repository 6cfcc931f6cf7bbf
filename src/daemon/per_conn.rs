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

/// The thread of one connection. A panic outside the connection's own
/// work (that is guarded in `run_guarded`) is caught here too: reported
/// once through the panic function (src/ffi/guard.rs), the connection is
/// closed (WITH_ERROR) and the thread cleans up as after any close.
fn serve(ctx: Arc<Ctx>, shared: Arc<WorkerShared>, fd: RawFd, addr: RawAddr) {
    // SIGPIPE is already blocked: a thread inherits its creator's signal
    // mask, and connection threads are created only by the daemon's
    // internal thread (thread per connection implies one), which blocked
    // it when it started. One rt_sigprocmask less per connection.
    let conn = crate::ffi::guard::catch(|| Connection::new(fd, addr, ctx.c_handle, shared.clone(), &ctx));
    if let Some(mut conn) = conn {
        if let Some(n) = ctx.cfg.notify_connection {
            n.call(conn.shared.c_ptr(), conn.shared.socket_context_ptr(), true);
        }
        if crate::ffi::guard::catch(|| serve_loop(&ctx, &shared, &mut conn, fd)).is_none() {
            conn.abort(Termination::WithError);
        }
        super::worker::guarded(&mut conn, |c| c.finalize(&ctx));
        if let Some(n) = ctx.cfg.notify_connection {
            n.call(conn.shared.c_ptr(), conn.shared.socket_context_ptr(), false);
        }
    }
    ctx.release(&addr);
    sys::close(fd);
}

fn serve_loop(ctx: &Ctx, shared: &WorkerShared, conn: &mut Connection, fd: RawFd) {
    let mut set = PollSet::default();
    loop {
        if ctx.is_shutting_down() {
            conn.abort(Termination::DaemonShutdown);
        }
        if conn.is_suspended() && conn.take_resume() {
            // Resumed: fall through and run.
        }
        if !conn.is_suspended() {
            super::worker::run_guarded(conn, ctx);
        }
        if conn.is_closed() {
            break;
        }
        #[cfg(feature = "fault-injection")]
        crate::ffi::fault::in_event_loop();
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
        conn.end_round(ctx);
    }
}
