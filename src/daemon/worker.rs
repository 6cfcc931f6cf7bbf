//! An event loop: accepts, waits for readiness (epoll; select in the
//! application's own select loop), and drives each connection's state
//! machine. Every backend shares the same dispatch: record readiness,
//! `Connection::run`, ask `interest`.
//!
//! A worker runs either on its own thread (internal polling thread, one per
//! pool member), inside the application's `MHD_run*` calls (external
//! select and external epoll), or, for thread per connection, on whichever
//! thread holds it (`elastic`): there it only queues the connections that
//! are ready as jobs, which the holder runs without holding the worker.

use super::config::Poller;
use super::{per_conn, Ctx};
use crate::conn::{Connection, Interest, Termination};
use crate::sys;
use crate::sys::epoll::{self, Epoll};
use crate::sys::select::{self as sel, FdSet};
use crate::sys::socket::RawAddr;
use crate::sys::timer::TimerFd;
use crate::sys::wake::WakeFd;
use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use crate::sys::clock::{self, Tick};
use std::time::Duration;

/// What epoll reports for a connection (edge-triggered); EPOLLOUT is
/// added once it waits to write (`Worker::write_armed`).
const CONN_EVENTS: u32 = epoll::READ | epoll::HUP | epoll::EDGE;
const TOKEN_LISTEN: u64 = 0;
const TOKEN_WAKE: u64 = 1;
const TOKEN_SCAN: u64 = 2;
const TOKEN_BASE: u64 = 3;
/// How often an internal epoll thread scans its connections for timeouts
/// (they have one-second resolution).
const SCAN_PERIOD: Duration = Duration::from_millis(250);
/// Connections accepted per loop round, so a connect flood cannot starve
/// the clients already being served.
const ACCEPT_BATCH: usize = 64;
/// ClientHellos answered per loop round. Answering one costs an RSA
/// signature (about 0.3 ms here); 1,000 clients connecting at once would
/// otherwise hold every established connection's request for the whole
/// storm. The rest wait for the next round, which comes at once.
const HANDSHAKES_PER_ROUND: usize = 8;
/// Closed connections a worker keeps for reuse: enough for a burst of
/// short connections, a few dozen KiB at most.
const MAX_SPARES: usize = 8;

/// The part of a worker other threads reach: its wake-up descriptor and the
/// connections handed to it with `MHD_add_connection`.
pub struct WorkerShared {
    pub wake: WakeFd,
    inbox: Mutex<Vec<(RawFd, RawAddr)>>,
    /// The worker's epoll descriptor (-1 for the application's select
    /// loop), so `quiesce` can
    /// remove the listening socket at once.
    epoll_fd: AtomicI32,
    /// Slots whose connections left for a thread of their own while out of
    /// the worker (elastic thread per connection), to be reused.
    released: Mutex<Vec<usize>>,
    /// A connection's timeout changed outside a run of it
    /// (MHD_set_connection_option from the application's own loop): the
    /// deadlines in the select backend's `Watch` list are stale.
    pub deadlines_moved: AtomicBool,
}

std::thread_local! {
    /// The loop whose round this thread is in (null: none), for
    /// [`serves_here`].
    static SERVING: std::cell::Cell<*const WorkerShared> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// Marks this thread as running `shared`'s loop until dropped.
struct ServingScope(*const WorkerShared);

impl ServingScope {
    fn enter(shared: &Arc<WorkerShared>) -> ServingScope {
        ServingScope(SERVING.with(|s| s.replace(Arc::as_ptr(shared))))
    }
}

impl Drop for ServingScope {
    fn drop(&mut self) {
        SERVING.with(|s| s.set(self.0));
    }
}

/// Whether the calling thread is in a round of `shared`'s loop: a
/// callback of one of its connections runs on it, which may answer
/// another connection of the same loop (`ConnShared::accepts_late_response`).
pub fn serves_here(shared: &Arc<WorkerShared>) -> bool {
    SERVING.with(|s| s.get() == Arc::as_ptr(shared))
}

impl WorkerShared {
    pub fn new() -> io::Result<Arc<WorkerShared>> {
        Ok(Arc::new(WorkerShared {
            wake: WakeFd::new()?,
            inbox: Mutex::new(Vec::new()),
            epoll_fd: AtomicI32::new(-1),
            released: Mutex::new(Vec::new()),
            deadlines_moved: AtomicBool::new(false),
        }))
    }

    /// Queues an admitted socket for this worker and wakes it.
    pub fn hand_over(&self, fd: RawFd, addr: RawAddr) {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).push((fd, addr));
        self.wake.wake();
    }

    /// Stops watching the listening socket (quiesce), from any thread.
    pub fn forget_listen_fd(&self, fd: RawFd) {
        let ep = self.epoll_fd.load(Ordering::Acquire);
        if ep >= 0 {
            sys::epoll::delete_from(ep, fd);
        }
        self.wake.wake();
    }

    /// Stops watching a job's socket, from the thread running the job
    /// (before it closes the socket, whose number may come back at once).
    pub fn unwatch(&self, fd: RawFd) {
        let ep = self.epoll_fd.load(Ordering::Acquire);
        if ep >= 0 {
            sys::epoll::delete_from(ep, fd);
        }
    }

    /// A connection taken out of this worker as a job will not come back
    /// (its socket no longer watched): free its slot. Needs no access to
    /// the worker, which another thread may hold.
    pub fn release_slot(&self, slot: usize) {
        self.released.lock().unwrap_or_else(|e| e.into_inner()).push(slot);
        self.wake.wake();
    }
}

enum Backend {
    /// The application's select loop (MHD_get_fdset, MHD_run*).
    Select,
    Epoll(Epoll),
}

/// How the worker runs its connections.
enum Serving {
    /// In place, on the worker's thread.
    Inline,
    /// Thread per connection (`elastic`): queued as jobs, which the thread
    /// holding the worker runs without holding it; an upgraded connection
    /// moves to a thread of its own.
    Jobs,
}

/// A connection taken out of its worker to run (thread per connection).
pub struct Job {
    slot: usize,
    /// Whether the step may answer a ClientHello (see HANDSHAKES_PER_ROUND).
    first_flight: bool,
    pub conn: Box<Connection>,
    /// Finalized and closed by the runner: only the slot goes back.
    pub done: bool,
}

impl Job {
    pub fn slot(&self) -> usize {
        self.slot
    }
}

/// The timer of an internal epoll thread's periodic timeout scan.
struct ScanTimer {
    timer: TimerFd,
    /// Armed: some connection wanted the scan at the last look
    /// (`Worker::scan_wanted`).
    running: bool,
}

/// Whether a new plain connection is read at once, before the backend
/// reports input. With one client at a time, its request is there by the
/// time it is accepted, and waiting for the report costs a wait; with many
/// (wrk's `Connection: close` at 10 connections) 0.92 of these reads found
/// nothing yet, a syscall per connection for nothing. After a read that
/// found nothing, the next `SKIP_AFTER_MISS` connections wait for the
/// report; then one is read at once again.
#[derive(Default)]
struct FirstRead {
    skip: u32,
}

const SKIP_AFTER_MISS: u32 = 63;

impl FirstRead {
    fn now(&mut self) -> bool {
        if self.skip == 0 {
            return true;
        }
        self.skip -= 1;
        false
    }

    fn learn(&mut self, found_input: bool) {
        self.skip = if found_input { 0 } else { SKIP_AFTER_MISS };
    }
}

/// A wait in whole milliseconds, as epoll and select take it.
pub fn millis(d: Duration) -> i32 {
    d.as_millis().min(i32::MAX as u128) as i32
}

/// The earlier of two optional limits (None: no limit).
pub fn earliest<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What the passes of an application's select loop need of a connection
/// (`fill_sets`, `wait_until_deadline`, `dispatch_sets`), kept in a dense
/// list beside the boxed connections: with 1,000 connections idle, each
/// MHD_get_fdset, MHD_get_timeout and MHD_run_from_select then reads a few
/// cache lines instead of every connection's box (those misses were a
/// tenth of the loop's CPU). Refreshed whenever the worker has run or
/// checked the connection; the box stays the truth. Epoll backends visit
/// only the connections epoll reports and keep no such list.
#[derive(Clone, Copy)]
struct Watch {
    /// -1: no connection in this slot (or one out running as a job).
    fd: RawFd,
    interest: Interest,
    deadline: Option<Tick>,
    /// When the timeout scan next has something to do for it: the deadline,
    /// or the time its idle TLS buffers go back.
    due: Option<Tick>,
}

impl Watch {
    const EMPTY: Watch = Watch { fd: -1, interest: Interest { read: false, write: false, busy: false }, deadline: None, due: None };

    fn of(c: &Connection) -> Watch {
        let deadline = c.deadline();
        let due = earliest(deadline, c.tls_release_due());
        Watch { fd: c.fd(), interest: c.interest(), deadline, due }
    }
}

pub struct Worker {
    ctx: Arc<Ctx>,
    pub shared: Arc<WorkerShared>,
    /// Whether this worker polls the listening socket.
    accepts: bool,
    serving: Serving,
    conns: Vec<Option<Box<Connection>>>,
    /// Closed connections, emptied, whose boxes and buffers the next ones
    /// reuse (`Connection::reuse`).
    spares: Vec<Box<Connection>>,
    /// Sockets of one accept batch (kept for its capacity).
    accepted: Vec<(RawFd, RawAddr)>,
    /// Jobs to hand out (Serving::Jobs), and which slots are queued.
    jobs: VecDeque<usize>,
    queued: Vec<bool>,
    /// Epoll: which slots also watch for writability. A connection starts
    /// with reads only: a new socket is writable at once, and an
    /// edge-triggered EPOLLOUT then cost a wake-up per connection for
    /// nothing. Armed the first time a connection waits to write.
    write_armed: Vec<bool>,
    free: Vec<usize>,
    backend: Backend,
    /// The listening socket as registered with epoll (None once quiesced).
    epoll_listen: Option<RawFd>,
    /// Slots to run next round regardless of readiness (epoll only).
    busy: Vec<usize>,
    /// ClientHellos answered in this round (see HANDSHAKES_PER_ROUND).
    handshakes: usize,
    /// Connections whose handshake step waits for the next round.
    deferred: Vec<usize>,
    /// Reused list of (slot, readable, writable) for one epoll round.
    ready: Vec<(usize, bool, bool)>,
    /// Slots of suspended connections, checked for resumption when woken.
    suspended: Vec<usize>,
    /// Runs on a thread of its own (false: driven by the application's MHD_run*).
    internal: bool,
    /// Since the last timeout scan, some connection has had a deadline or
    /// held TLS buffers to give back when idle (`Connection::wants_scan`).
    scan_wanted: bool,
    /// Internal epoll threads: the timer that wakes the periodic timeout
    /// scan, so that their waits need no timeout (`internal_wait_timeout`).
    scan_timer: Option<ScanTimer>,
    first_read: FirstRead,
    /// Slots of upgraded connections, told when a round completes
    /// (EXTERNAL and resume wake-ups of design/UPGRADE.md).
    upgraded: Vec<usize>,
    next_timeout_scan: Tick,
    /// The scan timer fired: scan at the end of this round.
    scan_now: bool,
    /// Per slot, what the select backend's passes look at (`Watch`);
    /// empty entries with the epoll backend.
    watch: Vec<Watch>,
}

impl Worker {
    pub fn new(ctx: Arc<Ctx>, shared: Arc<WorkerShared>, accepts: bool) -> io::Result<Worker> {
        let jobs = ctx.thread_per_connection();
        // Internal threads wait with epoll whatever the flags say (select
        // and poll are there for portability; this library is Linux-only):
        // a wait then costs the same however many connections idle, where
        // select and poll pass and scan every descriptor each round
        // (bench/RESULTS.md). The FD_SETSIZE limit of select mode stays
        // (see `add_admitted`). Only the application's own select loop
        // (MHD_get_fdset and MHD_run*) works with fd sets.
        let internal_threads = ctx.cfg.has(super::config::flag::INTERNAL_POLLING_THREAD);
        let poller = if internal_threads { Poller::Epoll } else { ctx.cfg.poller };
        let mut scan_timer = None;
        let mut epoll_listen = None;
        let backend = match poller {
            // MHD_USE_POLL needs an internal thread (validate()).
            Poller::Select | Poller::Poll => Backend::Select,
            Poller::Epoll => {
                let ep = Epoll::new(256)?;
                if accepts {
                    if let Some(fd) = ctx.listen_fd() {
                        // In a pool every worker watches the listening socket,
                        // level-triggered and without EPOLLEXCLUSIVE (as
                        // 0.9.75 does): a worker that is running takes new
                        // clients at its next wait. EPOLLEXCLUSIVE hands each
                        // one to a sleeping worker instead, which costs a
                        // thread switch per connection when workers outnumber
                        // cores (bench/RESULTS.md, "Thread pool"). Idle
                        // workers all wake; those that lose see EAGAIN.
                        ep.add(fd, epoll::READ, TOKEN_LISTEN)?;
                        epoll_listen = Some(fd);
                    }
                }
                ep.add(shared.wake.fd(), epoll::READ, TOKEN_WAKE)?;
                shared.epoll_fd.store(ep.fd(), Ordering::Release);
                if internal_threads {
                    // Without it the thread's waits end at each scan instead.
                    match TimerFd::new().and_then(|t| ep.add(t.fd(), epoll::READ, TOKEN_SCAN).map(|()| t)) {
                        Ok(timer) => scan_timer = Some(ScanTimer { timer, running: false }),
                        Err(e) => ctx.log(&format!("No timer for the timeout scan: {e}")),
                    }
                }
                Backend::Epoll(ep)
            }
        };
        let serving = if jobs { Serving::Jobs } else { Serving::Inline };
        Ok(Worker {
            ctx,
            shared,
            accepts,
            serving,
            conns: Vec::new(),
            spares: Vec::new(),
            accepted: Vec::new(),
            jobs: VecDeque::new(),
            queued: Vec::new(),
            write_armed: Vec::new(),
            free: Vec::new(),
            backend,
            epoll_listen,
            busy: Vec::new(),
            handshakes: 0,
            deferred: Vec::new(),
            ready: Vec::new(),
            suspended: Vec::new(),
            upgraded: Vec::new(),
            scan_wanted: false,
            scan_timer,
            first_read: FirstRead::default(),
            internal: true,
            next_timeout_scan: Tick::now(),
            scan_now: false,
            watch: Vec::new(),
        })
    }

    /// Marks this worker as driven by the application (MHD_run and friends).
    pub fn set_external(&mut self) {
        self.internal = false;
    }

    /// The epoll descriptor an external event loop watches.
    pub fn epoll_fd(&self) -> Option<RawFd> {
        match &self.backend {
            Backend::Epoll(ep) => Some(ep.fd()),
            _ => None,
        }
    }

    fn listen_fd(&self) -> Option<RawFd> {
        if self.accepts {
            self.ctx.listen_fd()
        } else {
            None
        }
    }

    /// The loop of an internal thread: rounds until the daemon stops.
    pub fn run_until_stopped(&mut self) {
        while !self.ctx.is_shutting_down() {
            let timeout = self.internal_wait_timeout().map_or(-1, millis);
            if let Err(e) = self.round(timeout) {
                self.ctx.log(&format!("Event loop wait failed: {e}"));
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.close_all();
    }

    /// One round: wait up to `timeout_ms` (-1: until something happens),
    /// then serve everything that is ready.
    pub fn round(&mut self, timeout_ms: i32) -> io::Result<()> {
        let _serving = ServingScope::enter(&self.shared);
        self.start_round();
        let timeout_ms = if self.deferred.is_empty() && self.jobs.is_empty() { timeout_ms } else { 0 };
        let listen_ready = match &self.backend {
            Backend::Select => {
                let mut r = FdSet::default();
                let mut w = FdSet::default();
                let mut e = FdSet::default();
                let max = self.fill_sets(&mut r, &mut w, &mut e, sel::FD_SETSIZE, true).0;
                sel::select(max + 1, &mut r, &mut w, &mut e, timeout_ms as i64)?;
                self.dispatch_sets(&r, &w, &e)
            }
            Backend::Epoll(_) => self.wait_epoll(timeout_ms)?,
        };
        self.after_wait(listen_ready);
        Ok(())
    }

    /// Work that follows every wait: handed-over connections, resumed
    /// connections, accepting, timeouts.
    fn after_wait(&mut self, listen_ready: bool) {
        if self.ctx.is_shutting_down() {
            return;
        }
        let released: Vec<usize> = std::mem::take(&mut *self.shared.released.lock().unwrap_or_else(|e| e.into_inner()));
        for slot in released {
            self.forget_slot(slot);
        }
        let handed: Vec<(RawFd, RawAddr)> = std::mem::take(&mut *self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner()));
        for (fd, addr) in handed {
            self.add_admitted(fd, addr);
        }
        self.check_resumed();
        if listen_ready {
            self.accept();
        }
        self.complete_round();
        if let (Some(fd), Backend::Epoll(ep)) = (self.epoll_listen, &self.backend) {
            if self.listen_fd() != Some(fd) {
                ep.delete(fd);
                self.epoll_listen = None;
            }
        }
        let now = Tick::now();
        // An internal epoll thread scans for timeouts four times a second
        // (they have one-second resolution; visiting every connection more
        // often would only cost CPU), when its scan timer fires (or, without
        // one running, once SCAN_PERIOD has passed). The other loops wait
        // exactly until the nearest deadline, so they scan every round:
        // external epoll here, select in `dispatch_sets` (which visits
        // every connection anyway).
        let periodic = matches!(self.backend, Backend::Epoll(_)) && self.internal;
        let due = if self.watches() {
            false
        } else if !periodic {
            true
        } else if self.scan_timer.as_ref().is_some_and(|t| t.running) {
            std::mem::take(&mut self.scan_now)
        } else {
            now >= self.next_timeout_scan
        };
        if due {
            self.next_timeout_scan = now + SCAN_PERIOD;
            self.scan_wanted = false;
            for i in 0..self.conns.len() {
                self.scan_one(i, now);
            }
        }
    }

    /// The timeout scan's look at one slot: closes the connection if its
    /// deadline has passed, gives back idle TLS buffers.
    fn scan_one(&mut self, slot: usize, now: Tick) {
        let Some(c) = self.conns[slot].as_mut() else { return };
        guarded(c, |c| {
            c.check_timeout(now);
            c.release_idle_tls_buffers(now);
        });
        self.scan_wanted |= c.wants_scan();
        if c.is_closed() {
            self.reap(slot);
        } else {
            self.refresh(slot);
        }
    }

    /// The wait of an internal epoll thread, without visiting every
    /// connection: busy ones are listed, and deadlines are checked by the
    /// periodic timeout scan anyway, which the scan timer wakes while some
    /// connection wants it: the wait itself then needs no timeout.
    /// Other backends scan (they visit every connection to build their
    /// sets regardless).
    pub fn internal_wait_timeout(&mut self) -> Option<Duration> {
        if !matches!(self.backend, Backend::Epoll(_)) {
            return self.own_wait_timeout();
        }
        if !self.busy.is_empty() {
            return Some(Duration::ZERO);
        }
        if self.sync_scan_timer() {
            return None;
        }
        self.scan_wanted.then(|| self.next_timeout_scan.saturating_duration_since(Tick::now()) + clock::resolution())
    }

    /// Runs the scan timer while some connection wants the scan; false
    /// when there is no timer to rely on.
    fn sync_scan_timer(&mut self) -> bool {
        let Some(t) = self.scan_timer.as_mut() else { return false };
        if t.running != self.scan_wanted {
            let period = if self.scan_wanted { SCAN_PERIOD } else { Duration::ZERO };
            if let Err(e) = t.timer.set_period(period) {
                self.ctx.log(&format!("Failed to set the timeout scan timer: {e}"));
                self.scan_timer = None;
                return false;
            }
            t.running = self.scan_wanted;
        }
        true
    }

    /// How long the next wait may block: until the nearest connection
    /// deadline (`None`: no deadline), zero when a connection has work
    /// that needs no I/O. This is what `MHD_get_timeout` tells the
    /// application: the remaining time, rounded up to the millisecond.
    pub fn wait_timeout(&self) -> Option<Duration> {
        self.wait_until_deadline(|d| Duration::from_millis(d.as_nanos().div_ceil(1_000_000).min(u64::MAX as u128) as u64))
    }

    /// [`Worker::wait_timeout`] for a wait the library does itself:
    /// rounded up by the clock's lag, as a wait that ends before the
    /// coarse clock reaches the deadline would make the loop spin.
    pub fn own_wait_timeout(&self) -> Option<Duration> {
        self.wait_until_deadline(|d| d + clock::resolution())
    }

    /// The wait until the nearest deadline, `round_up` applied to it.
    fn wait_until_deadline(&self, round_up: impl Fn(Duration) -> Duration) -> Option<Duration> {
        if !self.deferred.is_empty() {
            return Some(Duration::ZERO);
        }
        let mut nearest: Option<Tick> = None;
        let mut note = |i: Interest, d: Option<Tick>| {
            nearest = earliest(nearest, d);
            i.busy
        };
        // The list is stale for a connection whose timeout the application
        // changed since the worker last looked (MHD_set_connection_option
        // outside a callback): then ask the connections themselves.
        let busy = if !self.watches() || self.shared.deadlines_moved.load(Ordering::Relaxed) {
            self.conns.iter().flatten().any(|c| note(c.interest(), c.deadline()))
        } else {
            self.watch.iter().any(|w| w.fd >= 0 && note(w.interest, w.deadline))
        };
        if busy {
            return Some(Duration::ZERO);
        }
        nearest.map(|d| round_up(d.saturating_duration_since(Tick::now())))
    }

    /// Adds what this worker waits for to the sets (limited to descriptors
    /// below `limit`). Returns the highest descriptor added and whether every
    /// descriptor fitted.
    pub fn fill_sets(&self, r: &mut FdSet, w: &mut FdSet, e: &mut FdSet, limit: RawFd, with_wake: bool) -> (RawFd, bool) {
        let mut max = -1;
        let mut fits = true;
        let mut add = |set: &mut FdSet, fd: RawFd, max: &mut RawFd| {
            if fd < limit && set.insert(fd) {
                *max = (*max).max(fd);
            } else {
                fits = false;
            }
        };
        if let Backend::Epoll(ep) = &self.backend {
            // External epoll: the application waits on our epoll descriptor
            // (which also watches the wake-up descriptor), as libmicrohttpd does.
            add(r, ep.fd(), &mut max);
            return (max, fits);
        }
        if with_wake {
            add(r, self.shared.wake.fd(), &mut max);
        }
        if let Some(fd) = self.listen_fd() {
            add(r, fd, &mut max);
        }
        for &Watch { fd, interest: i, .. } in self.watch.iter().filter(|w| w.fd >= 0) {
            if i.read {
                add(r, fd, &mut max);
            }
            if i.write {
                add(w, fd, &mut max);
            }
            if i.read || i.write {
                add(e, fd, &mut max);
            }
        }
        (max, fits)
    }

    /// Serves what the sets say is ready, and on the same pass runs the
    /// timeout scan for the connections whose `due` time has come (one
    /// pass instead of two); returns whether the listening socket is
    /// readable.
    fn dispatch_sets(&mut self, r: &FdSet, w: &FdSet, e: &FdSet) -> bool {
        if r.contains(self.shared.wake.fd()) {
            self.shared.wake.drain();
        }
        let now = Tick::now();
        if self.shared.deadlines_moved.swap(false, Ordering::Relaxed) {
            self.refresh_all();
        }
        for i in 0..self.watch.len() {
            let Watch { fd, interest, .. } = self.watch[i];
            if fd < 0 {
                continue;
            }
            let (rd, wr) = (r.contains(fd) || e.contains(fd), w.contains(fd));
            if rd || wr || interest.busy {
                let Some(c) = self.conns[i].as_mut() else { continue };
                c.set_ready(rd, wr);
                self.run_conn(i);
            }
            // A connection that has just run is not due; one that closed
            // is gone already.
            if self.watch[i].due.is_some_and(|d| now >= d) {
                self.scan_one(i, now);
            }
        }
        self.listen_fd().map_or(false, |fd| r.contains(fd))
    }

    /// Brings the list the select passes read up to date with every
    /// connection.
    fn refresh_all(&mut self) {
        for i in 0..self.conns.len() {
            self.refresh(i);
        }
    }

    fn refresh(&mut self, slot: usize) {
        if self.watches() {
            self.watch[slot] = self.conns[slot].as_deref().map_or(Watch::EMPTY, Watch::of);
        }
    }

    /// Whether this worker keeps its `Watch` list (the select backend).
    fn watches(&self) -> bool {
        matches!(self.backend, Backend::Select)
    }

    /// The application's `MHD_run_from_select`: dispatch, then the rest of a round.
    pub fn run_from_sets(&mut self, r: &FdSet, w: &FdSet, e: &FdSet) -> io::Result<()> {
        if let Backend::Epoll(ep) = &self.backend {
            // The sets held our epoll descriptor: one round without waiting.
            if r.contains(ep.fd()) || !self.deferred.is_empty() {
                return self.round(0);
            }
            self.after_wait(false);
            return Ok(());
        }
        self.start_round();
        let listen_ready = self.dispatch_sets(r, w, e);
        self.after_wait(listen_ready);
        Ok(())
    }

    fn wait_epoll(&mut self, timeout_ms: i32) -> io::Result<bool> {
        let Backend::Epoll(ep) = &mut self.backend else { unreachable!() };
        let mut listen_ready = false;
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        ready.extend(self.busy.drain(..).map(|s| (s, false, false)));
        let timeout_ms = if ready.is_empty() { timeout_ms } else { 0 };
        for (token, ev) in ep.wait(timeout_ms)? {
            match token {
                TOKEN_LISTEN => listen_ready = true,
                TOKEN_WAKE => self.shared.wake.drain(),
                TOKEN_SCAN => {
                    if let Some(t) = &self.scan_timer {
                        t.timer.drain();
                    }
                    self.scan_now = true;
                }
                t => {
                    let slot = (t - TOKEN_BASE) as usize;
                    if ev & epoll::HUP != 0 {
                        // This edge is the last the hang-up raises.
                        if let Some(c) = self.conns.get_mut(slot).and_then(|c| c.as_mut()) {
                            c.set_hangup();
                        }
                    }
                    let rd = ev & (epoll::READ | epoll::HUP) != 0;
                    let wr = ev & epoll::WRITE != 0;
                    ready.push((slot, rd, wr));
                }
            }
        }
        for &(slot, rd, wr) in &ready {
            let Some(c) = self.conns.get_mut(slot).and_then(|c| c.as_mut()) else { continue };
            c.set_ready(rd, wr);
            self.run_conn(slot);
        }
        self.ready = ready;
        Ok(listen_ready)
    }

    /// A new round: handshake steps deferred by the last one run first
    /// (their readiness was recorded; edge-triggered epoll will not report
    /// it again).
    fn start_round(&mut self) {
        self.handshakes = 0;
        for slot in std::mem::take(&mut self.deferred) {
            self.run_conn(slot);
        }
    }

    /// Runs one connection and files it by what it needs next (or, with
    /// Serving::Jobs, queues it for `take_job`).
    fn run_conn(&mut self, slot: usize) {
        if let Serving::Jobs = self.serving {
            if self.conns[slot].is_some() && !self.queued[slot] {
                self.queued[slot] = true;
                self.jobs.push_back(slot);
            }
            return;
        }
        let Some(first_flight) = self.before_run(slot) else { return };
        if let Some(c) = self.conns[slot].as_mut() {
            run_guarded(c, &self.ctx);
        }
        self.after_run(slot, first_flight);
    }

    /// Whether the connection in `slot` may run now; `Some(first_flight)`
    /// if so. Only steps that answer a ClientHello count and wait: the
    /// later, cheap step brings the client's Finished and its first request.
    fn before_run(&mut self, slot: usize) -> Option<bool> {
        let first_flight = self.conns[slot].as_ref()?.before_handshake_flight();
        if first_flight && self.handshakes >= HANDSHAKES_PER_ROUND {
            if !self.deferred.contains(&slot) {
                self.deferred.push(slot);
            }
            return None;
        }
        Some(first_flight)
    }

    /// The next connection to run, taken out of the worker (Serving::Jobs).
    pub fn take_job(&mut self) -> Option<Job> {
        while let Some(slot) = self.jobs.pop_front() {
            self.queued[slot] = false;
            let Some(first_flight) = self.before_run(slot) else { continue };
            let Some(conn) = self.conns[slot].take() else { continue };
            self.watch[slot] = Watch::EMPTY;
            return Some(Job { slot, first_flight, conn, done: false });
        }
        None
    }

    /// Puts a job's connection back and files it.
    pub fn finish_job(&mut self, job: Job) {
        if job.done {
            self.forget_slot(job.slot);
            self.keep_spare(job.conn);
            return;
        }
        self.conns[job.slot] = Some(job.conn);
        self.after_run(job.slot, job.first_flight);
    }

    /// Files a connection that has just run by what it needs next, and
    /// brings its `Watch` up to date (whichever way `file` went).
    fn after_run(&mut self, slot: usize, first_flight: bool) {
        self.file(slot, first_flight);
        self.refresh(slot);
    }

    fn file(&mut self, slot: usize, first_flight: bool) {
        let Some(c) = self.conns[slot].as_mut() else { return };
        if first_flight && !c.before_handshake_flight() {
            self.handshakes += 1;
        }
        #[cfg(feature = "fault-injection")]
        crate::ffi::fault::in_event_loop();
        if let Some(found) = c.take_first_read_result() {
            self.first_read.learn(found);
        }
        self.scan_wanted |= c.wants_scan();
        if c.is_closed() {
            self.reap(slot);
            return;
        }
        if c.is_suspended() {
            if !self.suspended.contains(&slot) {
                self.suspended.push(slot);
            }
            return;
        }
        if c.is_upgraded() {
            if let Serving::Jobs = self.serving {
                return self.move_to_own_thread(slot);
            }
            if !self.upgraded.contains(&slot) {
                self.upgraded.push(slot);
            }
        }
        self.file_for_next_wait(slot);
    }

    /// Thread per connection: an upgraded connection leaves the worker for
    /// a thread of its own before its handler is first called.
    fn move_to_own_thread(&mut self, slot: usize) {
        let Some(c) = self.conns[slot].take() else { return };
        if let Backend::Epoll(ep) = &self.backend {
            ep.delete(c.fd());
        }
        self.forget_slot(slot);
        per_conn::spawn(self.ctx.clone(), c);
    }

    /// Epoll: what a connection that has just run needs from the next
    /// wait. Edge-triggered epoll will not report again a connection that
    /// has work needing no I/O: list it for the next round. One that now
    /// waits to write gets EPOLLOUT armed.
    fn file_for_next_wait(&mut self, slot: usize) {
        let Backend::Epoll(ep) = &self.backend else { return };
        let Some(c) = self.conns[slot].as_ref() else { return };
        let i = c.interest();
        if i.write && !self.write_armed[slot] {
            // MOD re-checks readiness: a socket that became writable
            // since the write that blocked is reported at once.
            match ep.modify(c.fd(), CONN_EVENTS | epoll::WRITE, slot as u64 + TOKEN_BASE) {
                Ok(()) => self.write_armed[slot] = true,
                Err(e) => self.ctx.log(&format!("Failed to watch a connection for writing: {e}")),
            }
        }
        if i.busy && !self.busy.contains(&slot) {
            self.busy.push(slot);
        }
    }

    /// Tells every upgraded connection that a round is over, and runs
    /// those that became due.
    fn complete_round(&mut self) {
        let mut i = 0;
        while i < self.upgraded.len() {
            let slot = self.upgraded[i];
            match self.conns[slot].as_mut() {
                Some(c) if c.is_upgraded() => {
                    guarded(c, |c| c.end_round(&self.ctx));
                    if c.is_closed() {
                        self.reap(slot);
                        continue;
                    }
                    self.file_for_next_wait(slot);
                    self.refresh(slot);
                    i += 1;
                }
                _ => {
                    self.upgraded.swap_remove(i);
                }
            }
        }
    }

    fn check_resumed(&mut self) {
        let mut i = 0;
        while i < self.suspended.len() {
            let slot = self.suspended[i];
            let resumed = match self.conns[slot].as_mut() {
                Some(c) => c.take_resume(),
                None => {
                    self.suspended.swap_remove(i);
                    continue;
                }
            };
            if resumed {
                self.suspended.swap_remove(i);
                self.run_conn(slot);
            } else {
                i += 1;
            }
        }
    }

    fn accept(&mut self) {
        let mut batch = std::mem::take(&mut self.accepted);
        let mut failure = None;
        {
            // Accept under the gate that quiesce closes (Ctx::accept_gate),
            // but serve the sockets after leaving it: serving calls the
            // application, which may quiesce.
            let _gate = self.ctx.accept_gate.read().unwrap_or_else(|e| e.into_inner());
            if let Some(lfd) = self.listen_fd() {
                for _ in 0..ACCEPT_BATCH {
                    match sys::socket::accept(lfd) {
                        Ok(Some(conn)) => batch.push(conn),
                        Ok(None) => break,
                        Err(e) => {
                            // EMFILE and friends: log and retry next round.
                            failure = Some(e);
                            break;
                        }
                    }
                }
            }
        }
        if let Some(e) = failure {
            self.ctx.log(&format!("Error accepting connection: {e}"));
        }
        for (fd, addr) in batch.drain(..) {
            self.add(fd, addr);
        }
        self.accepted = batch;
    }

    /// Takes ownership of an accepted socket: admits it against the limits
    /// and the accept policy, then serves it.
    fn add(&mut self, fd: RawFd, addr: RawAddr) {
        if !self.ctx.admit(&addr) {
            sys::close(fd);
            return;
        }
        self.add_admitted(fd, addr);
    }

    /// Serves an admitted socket (here, or on a thread of its own).
    pub fn add_admitted(&mut self, fd: RawFd, addr: RawAddr) {
        // 0.9.75's select modes (thread per connection included) cannot
        // serve such a descriptor (microhttpd.h: MHD_USE_POLL lifts the
        // limit); nor does ours: internal threads wait with epoll, but an
        // application that asked for select gets its limits.
        if self.ctx.cfg.poller == Poller::Select && fd >= sel::FD_SETSIZE {
            self.ctx.log("Socket descriptor larger than FD_SETSIZE; closing connection.");
            self.ctx.release(&addr);
            sys::close(fd);
            return;
        }
        let waker = self.shared.clone();
        let mut conn = match self.spares.pop() {
            Some(spare) => spare.reuse(fd, addr, self.ctx.c_handle, waker, &self.ctx),
            None => Connection::new(fd, addr, self.ctx.c_handle, waker, &self.ctx),
        };
        conn.set_hold_upgraded(matches!(self.serving, Serving::Jobs));
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.conns.push(None);
                self.queued.push(false);
                self.write_armed.push(false);
                self.watch.push(Watch::EMPTY);
                self.conns.len() - 1
            }
        };
        self.write_armed[slot] = false;
        if let Backend::Epoll(ep) = &self.backend {
            if let Err(e) = ep.add(fd, CONN_EVENTS, slot as u64 + TOKEN_BASE) {
                self.ctx.log(&format!("Failed to add connection to epoll: {e}"));
                self.ctx.release(&addr);
                sys::close(fd);
                self.free.push(slot);
                return;
            }
        }
        if let Some(n) = self.ctx.cfg.notify_connection {
            // A timeout set in this callback is seen below (`refresh`).
            conn.shared.running.set(true);
            n.call(conn.shared.c_ptr(), conn.shared.socket_context_ptr(), true);
            conn.shared.running.set(false);
        }
        if conn.starts_waiting() {
            if !self.first_read.now() {
                // Served once its request arrives.
                self.scan_wanted |= conn.wants_scan();
                self.conns[slot] = Some(conn);
                self.refresh(slot);
                return;
            }
            conn.read_at_once();
        }
        self.conns[slot] = Some(conn);
        self.run_conn(slot);
    }

    /// Finalizes and frees a closed connection.
    fn reap(&mut self, slot: usize) {
        let Some(mut c) = self.conns[slot].take() else { return };
        if let Backend::Epoll(ep) = &self.backend {
            ep.delete(c.fd());
        }
        self.forget_slot(slot);
        close_connection(&self.ctx, &mut c);
        self.keep_spare(c);
    }

    /// Keeps a closed connection for the next one to reuse.
    fn keep_spare(&mut self, mut c: Box<Connection>) {
        if self.spares.len() < MAX_SPARES && c.recycle() {
            self.spares.push(c);
        }
    }

    /// Drops a slot from every list and frees it for reuse (its connection
    /// is already gone: closed, or moved to a thread of its own).
    fn forget_slot(&mut self, slot: usize) {
        self.watch[slot] = Watch::EMPTY;
        self.busy.retain(|&s| s != slot);
        self.deferred.retain(|&s| s != slot);
        self.suspended.retain(|&s| s != slot);
        self.upgraded.retain(|&s| s != slot);
        if self.queued[slot] {
            self.queued[slot] = false;
            self.jobs.retain(|&s| s != slot);
        }
        self.free.push(slot);
    }

    /// Daemon stop: every connection ends with DAEMON_SHUTDOWN.
    pub fn close_all(&mut self) {
        for (fd, addr) in std::mem::take(&mut *self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner())) {
            self.ctx.release(&addr);
            sys::close(fd);
        }
        for i in 0..self.conns.len() {
            if let Some(c) = self.conns[i].as_mut() {
                c.abort(Termination::DaemonShutdown);
                self.reap(i);
            }
        }
    }
}

/// The end of a closed connection (its socket no longer watched): the
/// completion and close notifications, its admission, its socket.
pub fn close_connection(ctx: &Ctx, c: &mut Connection) {
    guarded(c, |c| c.finalize(ctx));
    if let Some(n) = ctx.cfg.notify_connection {
        n.call(c.shared.c_ptr(), c.shared.socket_context_ptr(), false);
    }
    ctx.release(&c.shared.addr);
    sys::close(c.fd());
}

/// Runs a connection; a panic (a bug of ours) ends that connection only,
/// is reported like any internal error, and the loop goes on serving.
pub fn run_guarded(c: &mut Connection, ctx: &Ctx) {
    guarded(c, |c| c.run(ctx));
}

/// Does `f` for a connection behind the panic boundary (src/ffi/guard.rs):
/// a panic is reported once and closes that connection (WITH_ERROR).
pub fn guarded(c: &mut Connection, f: impl FnOnce(&mut Connection)) {
    if crate::ffi::guard::catch(|| f(c)).is_none() {
        c.abort(Termination::WithError);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shared.epoll_fd.store(-1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::{FirstRead, SKIP_AFTER_MISS};

    #[test]
    fn first_read_stays_eager_while_it_finds_input() {
        let mut f = FirstRead::default();
        for _ in 0..100 {
            assert!(f.now());
            f.learn(true);
        }
    }

    #[test]
    fn first_read_waits_after_a_miss_then_tries_again() {
        let mut f = FirstRead::default();
        assert!(f.now());
        f.learn(false);
        for _ in 0..SKIP_AFTER_MISS {
            assert!(!f.now());
        }
        assert!(f.now(), "one connection is read at once again after the skipped ones");
        f.learn(true);
        assert!(f.now());
    }
}
