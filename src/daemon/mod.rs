//! The daemon: listening socket, limits, and the threads that serve connections.

#![forbid(unsafe_code)]

pub mod config;
mod elastic;
mod per_conn;
pub mod worker;

use crate::ffi::hooks::CPtr;
use crate::sys;
use crate::sys::socket::{ListenOptions, RawAddr};
use worker::{Worker, WorkerShared};
use config::{flag, Config, Poller};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::thread::JoinHandle;

/// What every thread of one daemon shares.
pub struct Ctx {
    pub cfg: Config,
    /// The C handle (`struct MHD_Daemon *`), for MHD_CONNECTION_INFO_DAEMON.
    pub c_handle: CPtr,
    shutdown: AtomicBool,
    /// The listening socket; -1 when there is none or after quiesce.
    listen_fd: AtomicI32,
    /// Held for reading while a worker accepts, for writing by quiesce:
    /// once MHD_quiesce_daemon has returned, no worker is between reading
    /// `listen_fd` and calling accept on it, so no client that connects
    /// afterwards is served.
    pub accept_gate: RwLock<()>,
    /// Whether the application gave us the listening socket.
    pub port: u16,
    conn_count: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Every worker's wake-up handle (for stop, quiesce, add_connection).
    workers: Mutex<Vec<Arc<WorkerShared>>>,
    next_worker: AtomicUsize,
    /// Connection threads of thread-per-connection mode with their wake-up
    /// handles (woken at stop, then joined), and the length at which the
    /// list is next swept of finished ones. The handles are weak: a thread
    /// that ends drops the last strong one, which closes its eventfd at
    /// once instead of at the next sweep.
    conn_threads: Mutex<(Vec<(JoinHandle<()>, Weak<WorkerShared>)>, usize)>,
    /// Wake-up handles of threads that took a connection of their own
    /// while running it (src/daemon/elastic.rs): already tracked for the
    /// join, their new handle is woken at stop.
    own_wakers: Mutex<Vec<Weak<WorkerShared>>>,
    /// The OpenSSL server context (MHD_USE_TLS).
    pub tls: Option<crate::tls::TlsContext>,
    /// Digest-auth nonce counts (MHD_OPTION_NONCE_NC_SIZE slots).
    pub nonces: crate::auth::NonceTable,
}

impl Ctx {
    /// Writes a message through the application's logger (MHD_USE_ERROR_LOG).
    pub fn log(&self, msg: &str) {
        log_with(&self.cfg, msg);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// The flags as MHD_DAEMON_INFO_FLAGS reports them: what was asked,
    /// with MHD_USE_AUTO resolved to the readiness API in use.
    pub fn effective_flags(&self) -> u32 {
        let mut f = self.cfg.flags & !flag::AUTO;
        match self.cfg.poller {
            Poller::Epoll => f |= flag::EPOLL,
            Poller::Poll => f |= flag::POLL,
            Poller::Select => {}
        }
        f
    }

    pub fn listen_fd(&self) -> Option<RawFd> {
        let fd = self.listen_fd.load(Ordering::Acquire);
        (fd >= 0).then_some(fd)
    }


    /// A builder for one of the daemon's threads, with the stack size of
    /// MHD_OPTION_THREAD_STACK_SIZE (0: the default).
    pub fn thread_builder(&self, name: String) -> std::thread::Builder {
        let b = std::thread::Builder::new().name(name);
        if self.cfg.thread_stack_size > 0 {
            b.stack_size(self.cfg.thread_stack_size)
        } else {
            b
        }
    }

    pub fn thread_per_connection(&self) -> bool {
        self.cfg.has(flag::THREAD_PER_CONNECTION)
    }

    /// Keeps a connection thread's handle for the join at stop; joins the
    /// ones that have finished so the list does not grow without bound.
    /// The list is swept when it has doubled since the last sweep, so
    /// 1,000 live threads do not cost 1,000 checks per new one.
    pub fn track_thread(&self, h: JoinHandle<()>, shared: Arc<WorkerShared>) {
        let mut guard = self.conn_threads.lock().unwrap_or_else(|e| e.into_inner());
        let (v, sweep_at) = &mut *guard;
        if v.len() >= *sweep_at {
            let mut i = 0;
            while i < v.len() {
                if v[i].0.is_finished() {
                    let _ = v.swap_remove(i).0.join();
                } else {
                    i += 1;
                }
            }
            *sweep_at = (v.len() * 2).max(64);
        }
        // A stop that began before this push has already woken the listed
        // threads (it set the flag before taking this lock): wake this one.
        if self.is_shutting_down() {
            shared.wake.wake();
        }
        let shared = Arc::downgrade(&shared);
        v.push((h, shared));
    }

    /// Keeps the wake-up handle of a thread that now serves one
    /// connection (see `own_wakers`); forgets the ones whose thread ended.
    pub fn track_waker(&self, shared: &Arc<WorkerShared>) {
        let mut v = self.own_wakers.lock().unwrap_or_else(|e| e.into_inner());
        if v.len() >= 64 && v.len().is_power_of_two() {
            v.retain(|w| w.strong_count() > 0);
        }
        v.push(Arc::downgrade(shared));
        drop(v);
        if self.is_shutting_down() {
            shared.wake.wake();
        }
    }

    pub fn connection_count(&self) -> usize {
        self.conn_count.load(Ordering::Relaxed)
    }


    /// Admits a new client against the connection and per-IP limits and the
    /// accept policy; on success the caller owns one slot, returned by `release`.
    ///
    /// The counter never goes past the limit, not even for a moment, and a
    /// client refused by the per-IP limit never takes a slot: otherwise
    /// `MHD_DAEMON_INFO_CURRENT_CONNECTIONS` could read limit + 1 during a
    /// connect flood, and a pool worker could refuse a client under the
    /// limit because another worker was admitting one that ends up refused.
    pub fn admit(&self, addr: &RawAddr) -> bool {
        let ip = if self.cfg.per_ip_limit > 0 { addr.to_std().map(|a| a.ip()) } else { None };
        if let Some(ip) = ip {
            let mut m = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
            let n = m.entry(ip).or_insert(0);
            if *n >= self.cfg.per_ip_limit {
                drop(m);
                self.log("Connection rejected: too many connections from this address.");
                return false;
            }
            *n += 1;
        }
        let limit = self.cfg.connection_limit;
        if self.conn_count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1)).is_err() {
            if let Some(ip) = ip {
                self.release_ip(ip);
            }
            self.log("Server reached connection limit. Closing inbound connection.");
            return false;
        }
        if let Some(policy) = self.cfg.accept_policy {
            if !policy.allows(addr) {
                self.release(addr);
                return false;
            }
        }
        true
    }

    pub fn release(&self, addr: &RawAddr) {
        self.conn_count.fetch_sub(1, Ordering::AcqRel);
        if self.cfg.per_ip_limit > 0 {
            if let Some(ip) = addr.to_std().map(|a| a.ip()) {
                self.release_ip(ip);
            }
        }
    }

    fn release_ip(&self, ip: IpAddr) {
        let mut m = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&ip);
            }
        }
    }
}

pub fn log_with(cfg: &Config, msg: &str) {
    if cfg.flags & flag::ERROR_LOG == 0 {
        return;
    }
    match cfg.logger {
        Some(l) => l.log(&format!("{msg}\n")),
        None => eprintln!("{msg}"),
    }
}

/// How the daemon's event loops run.
enum Loops {
    /// Internal threads: one polling thread, a pool, or an accept thread
    /// for thread-per-connection (taken out and joined at stop).
    Threads(Mutex<Vec<JoinHandle<()>>>),
    /// The application drives the one loop through `MHD_run*`.
    External(Mutex<Worker>),
}

/// A running daemon.
pub struct Daemon {
    pub ctx: Arc<Ctx>,
    loops: Loops,
    /// Thread per connection: the shared worker and its monitor.
    elastic: Option<Arc<elastic::Loop>>,
}

/// Picks the readiness API from the flags (MHD_USE_AUTO: epoll on Linux,
/// poll for thread per connection, where epoll is not offered).
fn choose_poller(flags: u32) -> Poller {
    if flags & flag::EPOLL != 0 {
        Poller::Epoll
    } else if flags & flag::POLL != 0 {
        Poller::Poll
    } else if flags & flag::AUTO != 0 {
        if flags & flag::THREAD_PER_CONNECTION != 0 {
            Poller::Poll
        } else {
            Poller::Epoll
        }
    } else {
        Poller::Select
    }
}

fn bind_address(cfg: &Config) -> SocketAddr {
    if let Some(a) = cfg.sock_addr {
        return a;
    }
    if cfg.flags & flag::IPV6 != 0 {
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), cfg.port)
    } else {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), cfg.port)
    }
}

/// Refuses flag and option combinations libmicrohttpd refuses.
fn validate(cfg: &mut Config) -> Result<(), String> {
    if cfg.flags & !flag::KNOWN != 0 {
        return Err("Unknown daemon flags were given.".into());
    }
    if cfg.handler.is_none() {
        return Err("MHD_start_daemon: the access handler is NULL.".into());
    }
    if cfg.has(flag::THREAD_PER_CONNECTION) {
        // Thread per connection implies an internal (accepting) thread.
        cfg.flags |= flag::INTERNAL_POLLING_THREAD;
        if cfg.flags & flag::EPOLL != 0 {
            return Err("Combining MHD_USE_THREAD_PER_CONNECTION and MHD_USE_EPOLL is not supported.".into());
        }
        if cfg.thread_pool_size > 1 {
            return Err("MHD_OPTION_THREAD_POOL_SIZE cannot be used with MHD_USE_THREAD_PER_CONNECTION.".into());
        }
    }
    if cfg.thread_pool_size > 1 && !cfg.has(flag::INTERNAL_POLLING_THREAD) {
        return Err("MHD_OPTION_THREAD_POOL_SIZE requires MHD_USE_INTERNAL_POLLING_THREAD.".into());
    }
    if cfg.flags & flag::POLL != 0 && cfg.flags & flag::EPOLL != 0 {
        return Err("MHD_USE_POLL and MHD_USE_EPOLL cannot be combined.".into());
    }
    if cfg.flags & flag::POLL != 0 && !cfg.has(flag::INTERNAL_POLLING_THREAD) {
        return Err("MHD_USE_POLL requires MHD_USE_INTERNAL_POLLING_THREAD (use MHD_get_fdset or MHD_USE_EPOLL for external loops).".into());
    }
    Ok(())
}

/// Opens (or adopts) the listening socket. Returns (fd, port).
fn open_listen(cfg: &Config) -> Result<(Option<RawFd>, u16), String> {
    let port_of = |fd| sys::socket::local_addr(fd).ok().and_then(|a| a.to_std()).map_or(0, |a| a.port());
    if cfg.has(flag::NO_LISTEN_SOCKET) {
        return Ok((None, 0));
    }
    if let Some(fd) = cfg.listen_fd {
        if !sys::socket::is_listening(fd) {
            return Err(format!("MHD_OPTION_LISTEN_SOCKET: descriptor {fd} is not a listening socket."));
        }
        sys::socket::set_nonblocking(fd).map_err(|e| format!("Failed to make the listen socket non-blocking: {e}"))?;
        return Ok((Some(fd), port_of(fd)));
    }
    let addr = bind_address(cfg);
    let opts = ListenOptions {
        backlog: cfg.listen_backlog,
        reuse: cfg.address_reuse,
        v6_only: addr.is_ipv6() && cfg.flags & flag::DUAL_STACK != flag::DUAL_STACK,
        fastopen: cfg.has(flag::TCP_FASTOPEN).then(|| cfg.fastopen_queue.min(i32::MAX as u32) as i32),
    };
    let fd = sys::socket::listen(&addr, &opts).map_err(|e| format!("Failed to bind to port {}: {e}", addr.port()))?;
    if cfg.poller == Poller::Select && fd >= sys::select::FD_SETSIZE {
        sys::close(fd);
        return Err("Listen socket descriptor is too high for select().".into());
    }
    Ok((Some(fd), port_of(fd)))
}

/// Validates the configuration, opens the listening socket and starts the
/// serving threads (or prepares the external loop). Errors are logged
/// through the application's logger.
pub fn start(mut cfg: Config, c_handle: CPtr) -> Result<Daemon, ()> {
    if let Err(msg) = validate(&mut cfg) {
        log_with(&cfg, &msg);
        return Err(());
    }
    cfg.poller = choose_poller(cfg.flags);
    let tls = if cfg.has(flag::TLS) {
        match crate::tls::TlsContext::new(&cfg.tls, &mut |m| log_with(&cfg, m)) {
            Ok(t) => Some(t),
            Err(msg) => {
                log_with(&cfg, &msg);
                return Err(());
            }
        }
    } else {
        None
    };
    let (listen_fd, port) = match open_listen(&cfg) {
        Ok(x) => x,
        Err(msg) => {
            log_with(&cfg, &msg);
            return Err(());
        }
    };
    let internal = cfg.has(flag::INTERNAL_POLLING_THREAD);
    let n_workers = if cfg.thread_pool_size > 1 { cfg.thread_pool_size } else { 1 };
    let ctx = Arc::new(Ctx {
        nonces: crate::auth::NonceTable::new(cfg.nonce_nc_size),
        cfg,
        c_handle,
        shutdown: AtomicBool::new(false),
        listen_fd: AtomicI32::new(listen_fd.unwrap_or(-1)),
        accept_gate: RwLock::new(()),
        port,
        conn_count: AtomicUsize::new(0),
        per_ip: Mutex::new(HashMap::new()),
        workers: Mutex::new(Vec::new()),
        next_worker: AtomicUsize::new(0),
        conn_threads: Mutex::new((Vec::new(), 64)),
        own_wakers: Mutex::new(Vec::new()),
        tls,
    });
    let fail = |ctx: &Arc<Ctx>, msg: String, threads: Vec<JoinHandle<()>>| {
        ctx.log(&msg);
        ctx.shutdown.store(true, Ordering::Release);
        ctx.wake_all();
        for t in threads {
            let _ = t.join();
        }
        if let Some(fd) = ctx.listen_fd() {
            sys::close(fd);
        }
        Err(())
    };
    if !internal {
        let shared = match WorkerShared::new() {
            Ok(s) => s,
            Err(e) => return fail(&ctx, format!("Failed to create the wake-up descriptor: {e}"), Vec::new()),
        };
        ctx.workers.lock().unwrap_or_else(|e| e.into_inner()).push(shared.clone());
        return match Worker::new(ctx.clone(), shared, true) {
            Ok(mut w) => {
                w.set_external();
                Ok(Daemon { ctx, loops: Loops::External(Mutex::new(w)), elastic: None })
            }
            Err(e) => fail(&ctx, format!("Failed to set up the event loop: {e}"), Vec::new()),
        };
    }
    if ctx.thread_per_connection() {
        return start_elastic(ctx, fail);
    }
    let mut threads = Vec::new();
    for i in 0..n_workers {
        let shared = match WorkerShared::new() {
            Ok(s) => s,
            Err(e) => return fail(&ctx, format!("Failed to create the wake-up descriptor: {e}"), threads),
        };
        let mut w = match Worker::new(ctx.clone(), shared.clone(), true) {
            Ok(w) => w,
            Err(e) => return fail(&ctx, format!("Failed to set up the event loop: {e}"), threads),
        };
        ctx.workers.lock().unwrap_or_else(|e| e.into_inner()).push(shared);
        match ctx.thread_builder(format!("MHD-worker-{i}")).spawn(move || {
            sys::block_sigpipe_in_this_thread();
            // A panic that escapes a round (a bug of ours, outside any one
            // connection's work) is reported once through the panic
            // function (src/ffi/guard.rs) and the loop goes on: the thread
            // must not end while the daemon runs.
            while crate::ffi::guard::catch(|| w.run_until_stopped()).is_none() {}
        }) {
            Ok(t) => threads.push(t),
            Err(e) => return fail(&ctx, format!("Failed to create a polling thread: {e}"), threads),
        }
    }
    Ok(Daemon { ctx, loops: Loops::Threads(Mutex::new(threads)), elastic: None })
}

/// Thread per connection (src/daemon/elastic.rs): a thread holding the
/// worker, and the monitor that hands it on when a callback blocks.
fn start_elastic(
    ctx: Arc<Ctx>,
    fail: impl Fn(&Arc<Ctx>, String, Vec<JoinHandle<()>>) -> Result<Daemon, ()>,
) -> Result<Daemon, ()> {
    let shared = match WorkerShared::new() {
        Ok(s) => s,
        Err(e) => return fail(&ctx, format!("Failed to create the wake-up descriptor: {e}"), Vec::new()),
    };
    let w = match Worker::new(ctx.clone(), shared.clone(), true) {
        Ok(w) => w,
        Err(e) => return fail(&ctx, format!("Failed to set up the event loop: {e}"), Vec::new()),
    };
    ctx.workers.lock().unwrap_or_else(|e| e.into_inner()).push(shared);
    let lp = elastic::Loop::new(w);
    let mut threads = Vec::new();
    match elastic::start_loop_thread(&ctx, &lp) {
        Ok(t) => threads.push(t),
        Err(e) => return fail(&ctx, format!("Failed to create a polling thread: {e}"), threads),
    }
    let (ctx2, lp2) = (ctx.clone(), lp.clone());
    // The stack size applies here too: if no loop thread can be made, the
    // monitor runs the loop (and the application's callbacks) itself.
    match ctx.thread_builder("MHD-monitor".into()).spawn(move || elastic::monitor(&ctx2, &lp2)) {
        Ok(t) => threads.push(t),
        Err(e) => {
            lp.wake_monitor();
            return fail(&ctx, format!("Failed to create the monitor thread: {e}"), threads);
        }
    }
    Ok(Daemon { ctx, loops: Loops::Threads(Mutex::new(threads)), elastic: Some(lp) })
}

impl Ctx {
    fn wake_all(&self) {
        for (_, shared) in self.conn_threads.lock().unwrap_or_else(|e| e.into_inner()).0.iter() {
            if let Some(shared) = shared.upgrade() {
                shared.wake.wake();
            }
        }
        for w in self.own_wakers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            if let Some(w) = w.upgrade() {
                w.wake.wake();
            }
        }
        for w in self.workers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            w.wake.wake();
        }
    }
}

/// Why an external-loop call was refused.
#[derive(Debug)]
pub enum ExternalError {
    /// The daemon runs its own threads.
    NotExternal,
    /// Called from inside a callback of the same loop.
    Busy,
}

impl Daemon {
    /// Stops every thread; returns when no callback can run any more.
    /// Takes `&self` so the daemon stays in place (callbacks running during
    /// the stop may still reach it through its C handle).
    pub fn stop(&self) {
        self.ctx.shutdown.store(true, Ordering::Release);
        self.ctx.wake_all();
        if let Some(lp) = &self.elastic {
            lp.wake_monitor();
        }
        match &self.loops {
            Loops::Threads(threads) => {
                let threads = std::mem::take(&mut *threads.lock().unwrap_or_else(|e| e.into_inner()));
                for t in threads {
                    let _ = t.join();
                }
            }
            Loops::External(w) => w.lock().unwrap_or_else(|e| e.into_inner()).close_all(),
        }
        // Threads that end may start others (a loop thread moving an
        // upgraded connection to its own): join until none is left.
        loop {
            let threads = std::mem::take(&mut self.ctx.conn_threads.lock().unwrap_or_else(|e| e.into_inner()).0);
            if threads.is_empty() {
                break;
            }
            for (t, _) in threads {
                let _ = t.join();
            }
        }
        if let Some(fd) = self.ctx.listen_fd() {
            sys::close(fd);
        }
    }

    /// Stops accepting; returns the listening socket, now the application's.
    pub fn quiesce(&self) -> Option<RawFd> {
        let fd = {
            let _gate = self.ctx.accept_gate.write().unwrap_or_else(|e| e.into_inner());
            self.ctx.listen_fd.swap(-1, Ordering::AcqRel)
        };
        if fd < 0 {
            return None;
        }
        for w in self.ctx.workers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            w.forget_listen_fd(fd);
        }
        Some(fd)
    }

    /// Serves a socket the application accepted itself. The limits and the
    /// accept policy are applied here, so the caller learns the outcome.
    pub fn add_connection(&self, fd: RawFd, addr: RawAddr) -> bool {
        if self.ctx.is_shutting_down() {
            return false;
        }
        if let Err(e) = sys::socket::set_nonblocking(fd) {
            self.ctx.log(&format!("MHD_add_connection: cannot make the socket non-blocking: {e}"));
            return false;
        }
        if !self.ctx.admit(&addr) {
            return false;
        }
        match &self.loops {
            Loops::External(w) => match w.try_lock() {
                Ok(mut w) => {
                    w.add_admitted(fd, addr);
                    true
                }
                Err(_) => {
                    // Called from a callback of this loop: queue it for the next round.
                    let workers = self.ctx.workers.lock().unwrap_or_else(|e| e.into_inner());
                    workers[0].hand_over(fd, addr);
                    true
                }
            },
            Loops::Threads(_) => {
                let workers = self.ctx.workers.lock().unwrap_or_else(|e| e.into_inner());
                let i = self.ctx.next_worker.fetch_add(1, Ordering::Relaxed) % workers.len().max(1);
                match workers.get(i) {
                    Some(w) => {
                        w.hand_over(fd, addr);
                        true
                    }
                    None => {
                        self.ctx.release(&addr);
                        false
                    }
                }
            }
        }
    }

    /// Runs `f` on the external loop (MHD_run and friends).
    pub fn with_external<R>(&self, f: impl FnOnce(&mut Worker) -> R) -> Result<R, ExternalError> {
        match &self.loops {
            Loops::Threads(_) => Err(ExternalError::NotExternal),
            Loops::External(w) => match w.try_lock() {
                Ok(mut w) => Ok(f(&mut w)),
                Err(std::sync::TryLockError::Poisoned(p)) => Ok(f(&mut p.into_inner())),
                Err(std::sync::TryLockError::WouldBlock) => Err(ExternalError::Busy),
            },
        }
    }
}
