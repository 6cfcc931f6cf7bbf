//! The daemon's settings, decoded from `MHD_start_daemon`'s flags and options.

use crate::ffi::hooks::*;
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// Daemon flags (`enum MHD_FLAG`).
pub mod flag {
    pub const ERROR_LOG: u32 = 1;
    pub const TLS: u32 = 2;
    pub const THREAD_PER_CONNECTION: u32 = 4;
    pub const INTERNAL_POLLING_THREAD: u32 = 8;
    pub const IPV6: u32 = 16;
    pub const PEDANTIC_CHECKS: u32 = 32;
    pub const POLL: u32 = 64;
    pub const SUPPRESS_DATE_NO_CLOCK: u32 = 128;
    pub const NO_LISTEN_SOCKET: u32 = 256;
    pub const EPOLL: u32 = 512;
    pub const ITC: u32 = 1024;
    pub const DUAL_STACK: u32 = 2048 | IPV6;
    pub const TURBO: u32 = 4096;
    pub const ALLOW_SUSPEND_RESUME: u32 = 8192 | ITC;
    pub const TCP_FASTOPEN: u32 = 16384;
    pub const ALLOW_UPGRADE: u32 = 32768;
    pub const AUTO: u32 = 65536;
    pub const POST_HANDSHAKE_AUTH_SUPPORT: u32 = 131072;
    pub const INSECURE_TLS_EARLY_DATA: u32 = 262144;
    /// Every bit libmicrohttpd 0.9.75 defines.
    pub const KNOWN: u32 = (INSECURE_TLS_EARLY_DATA << 1) - 1;
}

/// Which readiness API a polling thread uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poller {
    Select,
    Poll,
    Epoll,
}

pub struct Config {
    pub flags: u32,
    pub port: u16,
    pub poller: Poller,
    pub accept_policy: Option<AcceptPolicy>,
    /// NULL is refused by `daemon::start` (with a log line).
    pub handler: Option<AccessHandler>,
    pub memory_limit: usize,
    pub connection_limit: usize,
    pub per_ip_limit: usize,
    /// Seconds of inactivity before a connection is closed; 0 means never.
    pub timeout: u32,
    pub completed: Option<Completed>,
    pub notify_connection: Option<ConnectionNotify>,
    pub uri_log: Option<UriLogger>,
    pub logger: Option<Logger>,
    pub unescaper: Option<Unescaper>,
    pub sock_addr: Option<SocketAddr>,
    pub listen_fd: Option<RawFd>,
    pub listen_backlog: i32,
    pub address_reuse: Option<bool>,
    pub thread_pool_size: usize,
    pub thread_stack_size: usize,
    /// MHD_OPTION_TCP_FASTOPEN_QUEUE_SIZE (used with MHD_USE_TCP_FASTOPEN).
    pub fastopen_queue: u32,
    /// MHD_OPTION_STRICT_FOR_CLIENT: > 0 strict, < 0 lenient, 0 default.
    pub strictness: i32,
    /// The HTTPS options (used with MHD_USE_TLS).
    pub tls: crate::tls::TlsOptions,
    /// MHD_OPTION_DIGEST_AUTH_RANDOM: bytes mixed into digest-auth nonces.
    pub digest_random: Vec<u8>,
    /// MHD_OPTION_NONCE_NC_SIZE: slots of the digest-auth nonce table.
    pub nonce_nc_size: usize,
}

impl Config {
    pub fn new(flags: u32, port: u16, handler: Option<AccessHandler>) -> Config {
        Config {
            flags,
            port,
            poller: Poller::Select,
            accept_policy: None,
            handler,
            memory_limit: 32 * 1024,
            connection_limit: (crate::sys::select::FD_SETSIZE - 4) as usize,
            per_ip_limit: 0,
            timeout: 0,
            completed: None,
            notify_connection: None,
            uri_log: None,
            logger: None,
            unescaper: None,
            sock_addr: None,
            listen_fd: None,
            listen_backlog: libc::SOMAXCONN,
            address_reuse: None,
            thread_pool_size: 0,
            thread_stack_size: 0,
            fastopen_queue: 10,
            strictness: 0,
            digest_random: Vec::new(),
            nonce_nc_size: 4,
            tls: Default::default(),
        }
    }

    pub fn has(&self, f: u32) -> bool {
        self.flags & f == f
    }
}
