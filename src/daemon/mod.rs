//! The daemon: listening socket, limits, and the threads that serve connections.

#![forbid(unsafe_code)]

pub mod config;
mod worker;

use crate::ffi::hooks::CPtr;
use crate::sys;
use crate::sys::socket::{ListenOptions, RawAddr};
use crate::sys::wake::WakeFd;
use config::{flag, Config, Poller};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What every thread of one daemon shares.
pub struct Ctx {
    pub cfg: Config,
    /// The C handle (`struct MHD_Daemon *`), for MHD_CONNECTION_INFO_DAEMON.
    pub c_handle: CPtr,
    shutdown: AtomicBool,
    pub wake: WakeFd,
    pub listen_fd: Option<RawFd>,
    pub port: u16,
    conn_count: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
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

    pub fn connection_count(&self) -> usize {
        self.conn_count.load(Ordering::Relaxed)
    }


    /// Admits a new client against the connection and per-IP limits and the
    /// accept policy; on success the caller owns one slot, returned by `release`.
    fn admit(&self, addr: &RawAddr) -> bool {
        if self.conn_count.fetch_add(1, Ordering::AcqRel) >= self.cfg.connection_limit {
            self.conn_count.fetch_sub(1, Ordering::AcqRel);
            self.log("Server reached connection limit. Closing inbound connection.");
            return false;
        }
        let ip = addr.to_std().map(|a| a.ip());
        if self.cfg.per_ip_limit > 0 {
            if let Some(ip) = ip {
                let mut m = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
                let n = m.entry(ip).or_insert(0);
                if *n >= self.cfg.per_ip_limit {
                    drop(m);
                    self.conn_count.fetch_sub(1, Ordering::AcqRel);
                    self.log("Connection rejected: too many connections from this address.");
                    return false;
                }
                *n += 1;
            }
        }
        if let Some(policy) = self.cfg.accept_policy {
            if !policy.allows(addr) {
                self.release(addr);
                return false;
            }
        }
        true
    }

    fn release(&self, addr: &RawAddr) {
        self.conn_count.fetch_sub(1, Ordering::AcqRel);
        if self.cfg.per_ip_limit > 0 {
            if let Some(ip) = addr.to_std().map(|a| a.ip()) {
                let mut m = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(n) = m.get_mut(&ip) {
                    *n -= 1;
                    if *n == 0 {
                        m.remove(&ip);
                    }
                }
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

/// A running daemon.
pub struct Daemon {
    pub ctx: Arc<Ctx>,
    threads: Vec<JoinHandle<()>>,
}

/// Picks the readiness API from the flags (MHD_USE_AUTO: epoll on Linux).
fn choose_poller(flags: u32) -> Poller {
    if flags & flag::EPOLL != 0 || flags & flag::AUTO != 0 && flags & flag::POLL == 0 {
        Poller::Epoll
    } else if flags & flag::POLL != 0 {
        Poller::Poll
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

/// Validates the configuration, opens the listening socket and starts the
/// serving thread. Errors are logged through the application's logger.
pub fn start(mut cfg: Config, c_handle: CPtr) -> Result<Daemon, ()> {
    let fail = |cfg: &Config, msg: &str| {
        log_with(cfg, msg);
    };
    if cfg.flags & !flag::KNOWN != 0 {
        fail(&cfg, "Unknown daemon flags were given.");
        return Err(());
    }
    if cfg.handler.is_none() {
        fail(&cfg, "MHD_start_daemon: the access handler is NULL.");
        return Err(());
    }
    if cfg.has(flag::TLS) {
        fail(&cfg, "HTTPS (MHD_USE_TLS) is not implemented yet.");
        return Err(());
    }
    if !cfg.has(flag::INTERNAL_POLLING_THREAD) {
        fail(&cfg, "External event loops (no MHD_USE_INTERNAL_POLLING_THREAD) are not implemented yet.");
        return Err(());
    }
    if cfg.has(flag::THREAD_PER_CONNECTION) || cfg.thread_pool_size > 1 {
        fail(&cfg, "Thread per connection and thread pools are not implemented yet.");
        return Err(());
    }
    cfg.poller = choose_poller(cfg.flags);

    let (listen_fd, port) = if cfg.has(flag::NO_LISTEN_SOCKET) {
        (None, 0)
    } else if let Some(fd) = cfg.listen_fd {
        if let Err(e) = sys::socket::set_nonblocking(fd) {
            fail(&cfg, &format!("Failed to make the listen socket non-blocking: {e}"));
            return Err(());
        }
        let port = sys::socket::local_addr(fd).ok().and_then(|a| a.to_std()).map_or(0, |a| a.port());
        (Some(fd), port)
    } else {
        let addr = bind_address(&cfg);
        let opts = ListenOptions {
            backlog: cfg.listen_backlog,
            reuse: cfg.address_reuse,
            v6_only: addr.is_ipv6() && cfg.flags & flag::DUAL_STACK != flag::DUAL_STACK,
        };
        match sys::socket::listen(&addr, &opts) {
            Ok(fd) => {
                let port = sys::socket::local_addr(fd).ok().and_then(|a| a.to_std()).map_or(0, |a| a.port());
                (Some(fd), port)
            }
            Err(e) => {
                fail(&cfg, &format!("Failed to bind to port {}: {e}", addr.port()));
                return Err(());
            }
        }
    };
    if cfg.poller == Poller::Select {
        if let Some(fd) = listen_fd {
            if fd >= sys::select::FD_SETSIZE {
                fail(&cfg, "Listen socket descriptor is too high for select().");
                if cfg.listen_fd.is_none() {
                    sys::close(fd);
                }
                return Err(());
            }
        }
    }
    let wake = match WakeFd::new() {
        Ok(w) => w,
        Err(e) => {
            fail(&cfg, &format!("Failed to create the wake-up descriptor: {e}"));
            if let Some(fd) = listen_fd {
                sys::close(fd);
            }
            return Err(());
        }
    };
    let stack = cfg.thread_stack_size;
    let ctx = Arc::new(Ctx {
        cfg,
        c_handle,
        shutdown: AtomicBool::new(false),
        wake,
        listen_fd,
        port,
        conn_count: AtomicUsize::new(0),
        per_ip: Mutex::new(HashMap::new()),
    });
    match worker::spawn(ctx.clone(), stack) {
        Ok(t) => Ok(Daemon { ctx, threads: vec![t] }),
        Err(e) => {
            ctx.log(&format!("Failed to create the polling thread: {e}"));
            if let Some(fd) = ctx.listen_fd {
                sys::close(fd);
            }
            Err(())
        }
    }
}

impl Daemon {
    /// Stops every thread; returns when no callback can run any more.
    pub fn stop(mut self) {
        self.ctx.shutdown.store(true, Ordering::Release);
        self.ctx.wake.wake();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(fd) = self.ctx.listen_fd {
            sys::close(fd);
        }
    }
}
