//! Connections with a thread of their own (thread per connection): an
//! upgraded connection, and one whose callback blocked the shared loop
//! (src/daemon/elastic.rs). The thread polls only the connection's socket
//! and its own wake-up descriptor (resume, upgrade wake-ups, and the
//! daemon's stop) and drives the same connection state machine until the
//! connection ends.

use super::worker::{close_connection, WorkerShared};
use super::Ctx;
use crate::conn::{Connection, Termination, TLS_IDLE};
use crate::sys::poll::{self, PollSet};
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex};
use crate::sys::clock::Tick;

/// Moves a connection to a new thread. If no thread can be made, the
/// connection is closed (WITH_ERROR).
pub fn spawn(ctx: Arc<Ctx>, mut conn: Box<Connection>) {
    let shared = match WorkerShared::new() {
        Ok(s) => s,
        Err(e) => {
            ctx.log(&format!("Failed to create a wake-up descriptor for a connection thread: {e}"));
            conn.abort(Termination::WithError);
            return close_connection(&ctx, &mut conn);
        }
    };
    // The connection travels through a cell, so that it can be closed
    // here if the thread is never made (spawn drops the closure then).
    let cell = Arc::new(Mutex::new(Some(conn)));
    let (ctx2, shared2, cell2) = (ctx.clone(), shared.clone(), cell.clone());
    let spawned = ctx.thread_builder("MHD-connection".into()).spawn(move || {
        let conn = cell2.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(conn) = conn {
            serve(&ctx2, &shared2, conn);
        }
    });
    match spawned {
        Ok(h) => ctx.track_thread(h, shared),
        Err(e) => {
            ctx.log(&format!("Failed to create a thread for the connection: {e}"));
            if let Some(mut conn) = cell.lock().unwrap_or_else(|e| e.into_inner()).take() {
                conn.abort(Termination::WithError);
                close_connection(&ctx, &mut conn);
            }
        }
    }
}

/// Serves a connection on the calling thread until it ends.
pub fn serve_here(ctx: &Ctx, mut conn: Box<Connection>) {
    match WorkerShared::new() {
        Ok(shared) => {
            ctx.track_waker(&shared);
            serve(ctx, &shared, conn);
        }
        Err(e) => {
            ctx.log(&format!("Failed to create a wake-up descriptor for a connection thread: {e}"));
            conn.abort(Termination::WithError);
            close_connection(ctx, &mut conn);
        }
    }
}

/// A panic outside the connection's own work (that is guarded in
/// `run_guarded`) is caught here too: reported once through the panic
/// function (src/ffi/guard.rs), the connection is closed (WITH_ERROR).
fn serve(ctx: &Ctx, shared: &Arc<WorkerShared>, mut conn: Box<Connection>) {
    // SIGPIPE is already blocked: a thread inherits its creator's signal
    // mask, and these threads are made by the daemon's threads, which
    // blocked it when they started.
    conn.shared.set_waker(shared.clone());
    // A resume that woke the previous loop just before the move is seen
    // by the first round here.
    shared.wake.wake();
    conn.set_hold_upgraded(false);
    let fd = conn.fd();
    if crate::ffi::guard::catch(|| serve_loop(ctx, shared, &mut conn, fd)).is_none() {
        conn.abort(Termination::WithError);
    }
    close_connection(ctx, &mut conn);
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
        let mut timeout = if i.busy {
            0
        } else {
            conn.deadline().map_or(-1, |d| {
                // Rounded up by the clock's lag (see Worker::wait_timeout).
                super::worker::millis(d.saturating_duration_since(Tick::now()) + crate::sys::clock::resolution())
            })
        };
        let release_due = conn.holds_tls_buffers() && !i.busy;
        if release_due {
            // Wake once the connection has idled long enough to give
            // OpenSSL's buffers back (no worker scan runs here).
            let idle = (TLS_IDLE + crate::sys::clock::resolution()).as_millis() as i32;
            timeout = if timeout < 0 { idle } else { timeout.min(idle) };
        }
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
        conn.check_timeout(Tick::now());
        if release_due && rev == 0 {
            conn.release_idle_tls_buffers(Tick::now());
        }
        conn.end_round(ctx);
    }
}
