//! Stream sockets: the listening socket and accepted client sockets.

use super::syscall;
use std::io::{self, IoSlice};
use std::mem;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// A raw socket address as the kernel gave it, kept so that C can be handed
/// a `struct sockaddr *` (MHD_CONNECTION_INFO_CLIENT_ADDRESS).
#[derive(Clone, Copy)]
pub struct RawAddr {
    pub storage: libc::sockaddr_storage,
    pub len: libc::socklen_t,
}

impl RawAddr {
    pub fn empty() -> RawAddr {
        // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
        RawAddr { storage: unsafe { mem::zeroed() }, len: 0 }
    }

    pub fn from_std(addr: &SocketAddr) -> RawAddr {
        let mut raw = RawAddr::empty();
        match addr {
            SocketAddr::V4(a) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: a.port().to_be(),
                    sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
                unsafe { std::ptr::write((&mut raw.storage as *mut libc::sockaddr_storage).cast(), sin) };
                raw.len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            }
            SocketAddr::V6(a) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
                    sin6_scope_id: a.scope_id(),
                };
                // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
                unsafe { std::ptr::write((&mut raw.storage as *mut libc::sockaddr_storage).cast(), sin6) };
                raw.len = mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            }
        }
        raw
    }

    /// The address as a Rust value; `None` for families other than IPv4/IPv6.
    pub fn to_std(&self) -> Option<SocketAddr> {
        match self.storage.ss_family as i32 {
            libc::AF_INET if self.len as usize >= mem::size_of::<libc::sockaddr_in>() => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let sin: libc::sockaddr_in =
                    unsafe { std::ptr::read((&self.storage as *const libc::sockaddr_storage).cast()) };
                let ip = std::net::Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
            }
            libc::AF_INET6 if self.len as usize >= mem::size_of::<libc::sockaddr_in6>() => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let sin6: libc::sockaddr_in6 =
                    unsafe { std::ptr::read((&self.storage as *const libc::sockaddr_storage).cast()) };
                let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

/// Options for creating the listening socket.
pub struct ListenOptions {
    pub backlog: i32,
    /// `Some(true)`: SO_REUSEADDR + SO_REUSEPORT; `Some(false)`: SO_EXCLUSIVEADDRUSE
    /// does not exist on Linux, so nothing; `None`: SO_REUSEADDR only (the default).
    pub reuse: Option<bool>,
    /// For IPv6 sockets: `true` accepts IPv6 only, `false` accepts IPv4 too.
    pub v6_only: bool,
    /// TCP Fast Open with this queue length (MHD_USE_TCP_FASTOPEN).
    pub fastopen: Option<i32>,
}

fn set_int_opt(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    syscall!(setsockopt(
        fd,
        level,
        name,
        (&value as *const i32).cast(),
        mem::size_of::<i32>() as libc::socklen_t
    ))?;
    Ok(())
}

/// Creates, binds and listens; returns a non-blocking descriptor.
pub fn listen(addr: &SocketAddr, opts: &ListenOptions) -> io::Result<RawFd> {
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    let fd = syscall!(socket(family, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0))?;
    let setup = || -> io::Result<()> {
        match opts.reuse {
            None => set_int_opt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?,
            Some(true) => {
                set_int_opt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
                set_int_opt(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
            }
            Some(false) => {}
        }
        if family == libc::AF_INET6 {
            set_int_opt(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, opts.v6_only as i32)?;
        }
        if let Some(q) = opts.fastopen {
            // Where the kernel refuses it, the socket still works without it.
            let _ = set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_FASTOPEN, q);
        }
        let raw = RawAddr::from_std(addr);
        syscall!(bind(fd, (&raw.storage as *const libc::sockaddr_storage).cast(), raw.len))?;
        syscall!(listen(fd, opts.backlog))?;
        Ok(())
    };
    match setup() {
        Ok(()) => Ok(fd),
        Err(e) => {
            super::close(fd);
            Err(e)
        }
    }
}

/// The local address a socket is bound to.
pub fn local_addr(fd: RawFd) -> io::Result<RawAddr> {
    let mut raw = RawAddr::empty();
    raw.len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    syscall!(getsockname(fd, (&mut raw.storage as *mut libc::sockaddr_storage).cast(), &mut raw.len))?;
    Ok(raw)
}

/// The peer address of a connected socket.
pub fn peer_addr(fd: RawFd) -> io::Result<RawAddr> {
    let mut raw = RawAddr::empty();
    raw.len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    syscall!(getpeername(fd, (&mut raw.storage as *mut libc::sockaddr_storage).cast(), &mut raw.len))?;
    Ok(raw)
}

/// Accepts one connection as a non-blocking, close-on-exec socket.
/// `Ok(None)` when no connection is waiting.
pub fn accept(listen_fd: RawFd) -> io::Result<Option<(RawFd, RawAddr)>> {
    let mut raw = RawAddr::empty();
    raw.len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    loop {
        match syscall!(accept4(
            listen_fd,
            (&mut raw.storage as *mut libc::sockaddr_storage).cast(),
            &mut raw.len,
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC
        )) {
            Ok(fd) => return Ok(Some((fd, raw))),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

/// Makes a socket handed to us by the application non-blocking.
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    let flags = syscall!(fcntl(fd, libc::F_GETFL))?;
    syscall!(fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    Ok(())
}

// recv and send below make the system call through libc's `syscall`, not
// its `recv`/`send`: those are thread cancellation points, and switch
// asynchronous cancellation on and off around every call (60 of the 3,300
// user-space instructions of a keep-alive request, callgrind). No thread
// that runs these is ever cancelled: the library's own threads are not,
// and an application thread that calls in (MHD_run) and is cancelled
// there would leave the daemon's state half-changed whichever call it is.
// Arguments go as `c_long`, the width `syscall` reads them at.

/// Receives into `buf`; `Ok(0)` is end of stream.
pub fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    use libc::c_long as L;
    loop {
        match syscall!(syscall(libc::SYS_recvfrom, fd as L, buf.as_mut_ptr() as L, buf.len() as L, 0 as L, 0 as L, 0 as L)) {
            Ok(n) => return Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Gathers up to this size are copied into one buffer and sent with
/// `send`: `sendmsg` costs the kernel a msghdr and an iovec array to copy
/// in and check on every call, more than copying a small head and body.
const SEND_COALESCE_MAX: usize = 1024;

/// Sends the slices in one call (head and body of a response together).
pub fn sendv(fd: RawFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    if let [one] = bufs {
        return send(fd, one);
    }
    let total = bufs.iter().try_fold(0usize, |acc, b| acc.checked_add(b.len()).filter(|&t| t <= SEND_COALESCE_MAX));
    if let Some(total) = total {
        // Not zero-filled first: every byte sent is copied in below.
        let mut joined = mem::MaybeUninit::<[u8; SEND_COALESCE_MAX]>::uninit();
        let base: *mut u8 = joined.as_mut_ptr().cast();
        let mut at = 0;
        for b in bufs {
            // SAFETY: the lengths add up to `total` <= SEND_COALESCE_MAX, so
            // every copy stays inside `joined`; source and buffer are distinct.
            unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), base.add(at), b.len()) };
            at += b.len();
        }
        // SAFETY: the first `total` bytes were all written just above.
        let joined = unsafe { std::slice::from_raw_parts(base, total) };
        return send(fd, joined);
    }
    // SAFETY: msghdr is plain data; the iovec pointer and count come from a
    // live slice of IoSlice, which is ABI-compatible with struct iovec.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = bufs.len().min(libc::UIO_MAXIOV as usize);
    loop {
        match syscall!(sendmsg(fd, &msg, libc::MSG_NOSIGNAL)) {
            Ok(n) => return Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Sends one buffer.
pub fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    use libc::c_long as L;
    loop {
        match syscall!(syscall(libc::SYS_sendto, fd as L, buf.as_ptr() as L, buf.len() as L, libc::MSG_NOSIGNAL as L, 0 as L, 0 as L)) {
            Ok(n) => return Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Sends `count` bytes of file `file_fd` from `offset` straight from the page cache.
pub fn sendfile(sock: RawFd, file_fd: RawFd, offset: u64, count: usize) -> io::Result<usize> {
    let mut off = i64::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    loop {
        match syscall!(sendfile64(sock, file_fd, &mut off, count)) {
            Ok(n) => return Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if e.raw_os_error() == Some(libc::EPIPE) {
                    super::discard_pending_sigpipe();
                }
                return Err(e);
            }
        }
    }
}

pub fn set_nodelay(fd: RawFd, on: bool) -> io::Result<()> {
    set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, on as i32)
}

/// TCP_CORK: hold partial segments back until uncorked (or 200 ms).
pub fn set_cork(fd: RawFd, on: bool) -> io::Result<()> {
    set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_CORK, on as i32)
}

/// Shuts down the write side so the peer sees end of stream after our last byte.
pub fn shutdown_write(fd: RawFd) {
    let _ = syscall!(shutdown(fd, libc::SHUT_WR));
}

/// Whether `fd` is a listening stream socket (MHD_OPTION_LISTEN_SOCKET).
pub fn is_listening(fd: RawFd) -> bool {
    let mut v: i32 = 0;
    let mut len = mem::size_of::<i32>() as libc::socklen_t;
    syscall!(getsockopt(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN, (&mut v as *mut i32).cast(), &mut len))
        .map(|_| v != 0)
        .unwrap_or(false)
}
