//! Thread per connection without a thread switch per request.
//!
//! A thread for every connection makes every request wake that thread:
//! with 1,000 connections on one core, that is a context switch per
//! request, and the scheduler serves 1,000 runnable threads in no useful
//! order (bench/RESULTS.md: p99 of hundreds of ms, the same in
//! libmicrohttpd). What the mode promises the application is that a
//! callback may block without holding up other connections. So:
//!
//! - One thread at a time holds the worker (an epoll loop in job mode,
//!   src/daemon/worker.rs) and runs the ready connections one by one,
//!   with the worker released while each runs.
//! - A monitor thread looks every `TICK`: if the same run is still going
//!   and its thread sleeps, a callback is blocking (one that computes, or
//!   waits for a CPU on a busy machine, gets `BUSY_TICKS`). The monitor
//!   marks that run abandoned and starts a new thread, which takes the
//!   worker over. The blocked thread keeps its
//!   connection and, once the callback returns, serves it alone until it
//!   ends (src/daemon/per_conn.rs). A connection that blocked once thus
//!   keeps the thread it blocked on.
//! - An upgraded connection gets a thread of its own before its handler
//!   is first called (design/UPGRADE.md: the handler runs on that
//!   connection's own thread and may block).
//!
//! A blocking callback holds up the other connections for one to two
//! ticks. The monitor parks while the loop is idle and is woken by the
//! next run. Not covered: the callbacks the worker makes while it is held
//! (the connection notification at accept, the completion of a connection
//! that timed out or is closed at stop); a blocking one of those holds up
//! the loop until it returns, as in the other internal modes.

use super::per_conn;
use super::worker::{close_connection, run_guarded, Worker, WorkerShared};
use super::Ctx;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How often the monitor looks; a run still going at two looks in a row
/// has lasted at least this long.
const TICK: Duration = Duration::from_millis(1);
/// Looks without any run before the monitor parks.
const PARK_AFTER: u32 = 100;
/// Looks a run may go on while its thread is runnable (computing, or
/// preempted) before the others move to a new thread anyway: a busy
/// machine should not turn every connection into a thread of its own.
const BUSY_TICKS: u32 = 20;

/// The worker of a thread-per-connection daemon and what its threads and
/// its monitor share.
pub struct Loop {
    worker: Mutex<Worker>,
    shared: Arc<WorkerShared>,
    /// (run number << 1) | 1 while a run is going, (run number << 1) after
    /// it (or once the monitor abandoned it). Only the thread holding the
    /// worker starts runs; ending one is a compare-and-swap that loses to
    /// the monitor's abandoning it, and the other way round.
    status: AtomicU64,
    /// The kernel id of the thread holding the worker (set before its
    /// first run, so a run seen in `status` is that thread's).
    holder: AtomicI32,
    parked: AtomicBool,
    park_lock: Mutex<()>,
    park_cv: Condvar,
}

impl Loop {
    pub fn new(worker: Worker) -> Arc<Loop> {
        let shared = worker.shared.clone();
        Arc::new(Loop {
            worker: Mutex::new(worker),
            shared,
            status: AtomicU64::new(0),
            holder: AtomicI32::new(0),
            parked: AtomicBool::new(false),
            park_lock: Mutex::new(()),
            park_cv: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Worker> {
        self.worker.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn begin_run(&self) -> u64 {
        let run = ((self.status.load(Ordering::Relaxed) >> 1) + 1) << 1 | 1;
        // SeqCst pairs with the monitor's park: either it sees this run,
        // or this sees it parked and wakes it.
        self.status.store(run, Ordering::SeqCst);
        if self.parked.load(Ordering::SeqCst) {
            self.unpark();
        }
        run
    }

    /// False if the monitor abandoned the run: another thread holds the
    /// worker now.
    fn end_run(&self, run: u64) -> bool {
        self.status.compare_exchange(run, run & !1, Ordering::AcqRel, Ordering::Relaxed).is_ok()
    }

    fn unpark(&self) {
        let _g = self.park_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.parked.store(false, Ordering::SeqCst);
        self.park_cv.notify_all();
    }

    /// Wakes the monitor for the daemon's stop.
    pub fn wake_monitor(&self) {
        self.unpark();
    }
}

/// The loop of a thread holding the worker: rounds and jobs until the
/// daemon stops, or until this thread's run is abandoned (then it serves
/// that connection alone).
pub fn run_loop(ctx: &Ctx, lp: &Loop) {
    let mut w = lp.lock();
    lp.holder.store(crate::sys::thread::current_tid(), Ordering::Release);
    loop {
        if ctx.is_shutting_down() {
            w.close_all();
            return;
        }
        let Some(mut job) = w.take_job() else {
            let timeout = w.internal_wait_timeout().map_or(-1, super::worker::millis);
            if let Err(e) = w.round(timeout) {
                ctx.log(&format!("Event loop wait failed: {e}"));
                drop(w);
                std::thread::sleep(Duration::from_millis(10));
                w = lp.lock();
            }
            continue;
        };
        drop(w);
        let run = lp.begin_run();
        run_guarded(&mut job.conn, ctx);
        if job.conn.is_closed() {
            // The completion callbacks run here too, outside the worker.
            lp.shared.unwatch(job.conn.fd());
            close_connection(ctx, &mut job.conn);
            job.done = true;
        }
        if !lp.end_run(run) {
            // A callback blocked and another thread holds the worker now.
            lp.shared.release_slot(job.slot());
            if !job.done {
                lp.shared.unwatch(job.conn.fd());
                per_conn::serve_here(ctx, job.conn);
            }
            return;
        }
        w = lp.lock();
        w.finish_job(job);
    }
}

/// Starts a thread that takes the worker (the first one, and each one
/// after a blocked run). A thread that cannot be made is logged; the
/// calling thread then runs the loop itself (the monitor: blocked
/// callbacks then hold up the others until they return).
pub fn start_loop_thread(ctx: &Arc<Ctx>, lp: &Arc<Loop>) -> Result<std::thread::JoinHandle<()>, std::io::Error> {
    let (ctx2, lp2) = (ctx.clone(), lp.clone());
    ctx.thread_builder("MHD-worker".into()).spawn(move || {
        crate::sys::block_sigpipe_in_this_thread();
        // A panic outside any one connection's work (a bug of ours) is
        // reported once (src/ffi/guard.rs) and the loop goes on.
        while crate::ffi::guard::catch(|| run_loop(&ctx2, &lp2)).is_none() {}
    })
}

/// The monitor: hands the worker to a new thread when a run lasts more
/// than a tick.
pub fn monitor(ctx: &Arc<Ctx>, lp: &Arc<Loop>) {
    crate::sys::block_sigpipe_in_this_thread();
    let mut last = 0u64;
    let mut quiet = 0u32;
    let mut busy = 0u32;
    loop {
        {
            let g = lp.park_lock.lock().unwrap_or_else(|e| e.into_inner());
            let _ = lp.park_cv.wait_timeout(g, TICK);
        }
        if ctx.is_shutting_down() {
            return;
        }
        let s = lp.status.load(Ordering::SeqCst);
        if s & 1 == 1 && s == last {
            busy += 1;
            let runnable = crate::sys::thread::is_runnable(lp.holder.load(Ordering::Acquire));
            if busy < BUSY_TICKS && runnable == Some(true) {
                continue;
            }
            busy = 0;
            if lp.status.compare_exchange(s, s & !1, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                match start_loop_thread(ctx, lp) {
                    Ok(h) => ctx.track_thread(h, lp.shared.clone()),
                    Err(e) => {
                        ctx.log(&format!("Failed to create a thread to serve the other connections: {e}"));
                        while crate::ffi::guard::catch(|| run_loop(ctx, lp)).is_none() {}
                        return;
                    }
                }
            }
            last = 0;
            quiet = 0;
            continue;
        }
        busy = 0;
        quiet = if s == last { quiet + 1 } else { 0 };
        last = s;
        if quiet >= PARK_AFTER {
            quiet = 0;
            lp.parked.store(true, Ordering::SeqCst);
            if lp.status.load(Ordering::SeqCst) != s {
                lp.parked.store(false, Ordering::SeqCst);
                continue;
            }
            let mut g = lp.park_lock.lock().unwrap_or_else(|e| e.into_inner());
            while lp.parked.load(Ordering::SeqCst) && !ctx.is_shutting_down() {
                g = lp.park_cv.wait(g).unwrap_or_else(|e| e.into_inner());
            }
        }
    }
}
