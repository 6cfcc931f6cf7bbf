//! The Transport: what the connection reads from and writes to. Plain
//! sockets are read and written directly; TLS goes through OpenSSL, whose
//! record layer may need to read while we want to write (and the reverse)
//! and may hold decrypted bytes the socket no longer signals.

use crate::conn::shared::ConnShared;
use crate::ffi::hooks::CPtr;
use crate::sys::socket;
use crate::tls::TlsInfo;
use openssl::ssl::{ErrorCode, Ssl, SslStream};
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::RawFd;

/// A non-blocking socket as OpenSSL's byte stream.
pub struct FdStream {
    fd: RawFd,
    /// Some bytes went out: during the handshake, the server's flight
    /// (the costly step, with its signature) is behind us.
    wrote: bool,
}

impl Read for FdStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        socket::recv(self.fd, buf)
    }
}

impl Write for FdStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = socket::send(self.fd, buf)?;
        self.wrote |= n > 0;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a TLS operation needs before it can go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Wants {
    pub read: bool,
    pub write: bool,
}

pub struct Transport {
    fd: RawFd,
    tls: Option<Box<SslStream<FdStream>>>,
    handshake_done: bool,
    /// The session knows its connection (for the PSK callback).
    conn_attached: bool,
    /// Set when the last TLS operation stopped for socket I/O in the other
    /// direction (the readiness the loop must wait for).
    pub wants: Wants,
    /// Where small slices are joined into one TLS record.
    scratch: Vec<u8>,
    /// OpenSSL's record buffers (about 34 KiB) may be allocated: a read or
    /// write happened since `release_buffers`. Never set where the session
    /// gives them back itself after every record (`TlsContext::new`).
    buffers_held: bool,
    /// This libssl lets us free the buffers of an idle session.
    release_idle: bool,
}

/// Slices are joined into one record up to this size (a TLS record holds 16 KiB).
const COALESCE: usize = 16 * 1024;

/// Outcome of a handshake step.
pub enum Handshake {
    Done,
    Pending,
    Failed(String),
}

impl Transport {
    pub fn plain(fd: RawFd) -> Transport {
        Transport {
            fd,
            tls: None,
            handshake_done: true,
            conn_attached: true,
            wants: Wants::default(),
            scratch: Vec::new(),
            buffers_held: false,
            release_idle: false,
        }
    }

    pub fn tls(fd: RawFd, mut ssl: Ssl) -> io::Result<Transport> {
        // The connection's C handle is filled in at the first handshake step.
        let idx = crate::tls::conn_index().map_err(io::Error::other)?;
        ssl.set_ex_data(idx, std::sync::OnceLock::new());
        let s = SslStream::new(ssl, FdStream { fd, wrote: false }).map_err(io::Error::other)?;
        Ok(Transport {
            fd,
            tls: Some(Box::new(s)),
            handshake_done: false,
            conn_attached: false,
            wants: Wants { read: true, write: false },
            scratch: Vec::new(),
            buffers_held: false,
            release_idle: crate::sys::ssl::free_buffers_is_safe(),
        })
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub fn handshake_done(&self) -> bool {
        self.handshake_done
    }

    /// The handshake has not yet answered the ClientHello (plain: false).
    pub fn handshake_flight_pending(&self) -> bool {
        self.tls.as_ref().map_or(false, |s| !self.handshake_done && !s.get_ref().wrote)
    }

    pub fn ssl(&self) -> Option<&openssl::ssl::SslRef> {
        self.tls.as_ref().map(|s| s.ssl())
    }

    /// Turns an OpenSSL error into WouldBlock (recording what is wanted),
    /// end of stream, or a real error.
    fn map_err(&mut self, e: openssl::ssl::Error) -> io::Result<usize> {
        match e.code() {
            ErrorCode::WANT_READ => {
                self.wants = Wants { read: true, write: false };
                Err(io::ErrorKind::WouldBlock.into())
            }
            ErrorCode::WANT_WRITE => {
                self.wants = Wants { read: false, write: true };
                Err(io::ErrorKind::WouldBlock.into())
            }
            ErrorCode::ZERO_RETURN => Ok(0),
            ErrorCode::SYSCALL if e.io_error().is_none() => Ok(0), // EOF without close_notify
            _ => Err(e.into_io_error().unwrap_or_else(io::Error::other)),
        }
    }

    /// Advances the TLS handshake. The connection's public part is where
    /// the PSK callback finds the `struct MHD_Connection *` it passes to the
    /// application, and where the session facts for MHD_get_connection_info
    /// are stored once the handshake is done.
    pub fn handshake(&mut self, shared: &ConnShared) -> Handshake {
        let Some(s) = self.tls.as_mut() else { return Handshake::Done };
        self.buffers_held = self.release_idle;
        if !self.conn_attached {
            self.conn_attached = true;
            if let Some(cell) = crate::tls::conn_index().ok().and_then(|idx| s.ssl().ex_data(idx)) {
                let _ = cell.set(CPtr(shared.c_ptr().cast()));
            }
        }
        match s.accept() {
            Ok(()) => {
                self.handshake_done = true;
                self.wants = Wants::default();
                let _ = shared.tls.set(TlsInfo::of(s.ssl()));
                Handshake::Done
            }
            Err(e) => match e.code() {
                ErrorCode::WANT_READ => {
                    self.wants = Wants { read: true, write: false };
                    Handshake::Pending
                }
                ErrorCode::WANT_WRITE => {
                    self.wants = Wants { read: false, write: true };
                    Handshake::Pending
                }
                _ => Handshake::Failed(e.to_string()),
            },
        }
    }

    /// Reads plaintext; `Ok(0)` is end of stream.
    pub fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(s) = self.tls.as_mut() else { return socket::recv(self.fd, buf) };
        self.buffers_held = self.release_idle;
        match s.ssl_read(buf) {
            Ok(n) => {
                self.wants = Wants::default();
                Ok(n)
            }
            Err(e) => self.map_err(e),
        }
    }

    /// Decrypted bytes OpenSSL holds that the socket will not signal again.
    pub fn pending(&self) -> bool {
        self.tls.as_ref().map_or(false, |s| s.ssl().pending() > 0)
    }

    /// Writes from the slices in order; returns how many bytes went out.
    /// Over TLS each call writes one record from the first non-empty slice.
    pub fn sendv(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self.tls.as_mut() {
            None => socket::sendv(self.fd, bufs),
            Some(s) => {
                let Some(i) = bufs.iter().position(|b| !b.is_empty()) else { return Ok(0) };
                // A small head and the start of the body go out as one TLS
                // record (one packet) rather than two.
                let first: &[u8] = if bufs[i].len() < COALESCE && bufs.len() > i + 1 {
                    self.scratch.clear();
                    for b in &bufs[i..] {
                        let room = COALESCE - self.scratch.len();
                        if room == 0 {
                            break;
                        }
                        self.scratch.extend_from_slice(&b[..b.len().min(room)]);
                    }
                    &self.scratch
                } else {
                    &bufs[i]
                };
                self.buffers_held = self.release_idle;
                match s.ssl_write(first) {
                    Ok(n) => {
                        self.wants = Wants::default();
                        Ok(n)
                    }
                    Err(e) => match self.map_err(e) {
                        Ok(_) => Err(io::ErrorKind::BrokenPipe.into()),
                        other => other,
                    },
                }
            }
        }
    }

    /// OpenSSL may hold record buffers that `release_buffers` would free.
    pub fn holds_buffers(&self) -> bool {
        self.buffers_held
    }

    /// Gives an idle session's record buffers back. They are kept while
    /// the connection is busy (allocating and freeing 34 KiB per request
    /// cost about 6 % of the server's CPU per HTTPS request); OpenSSL
    /// refuses while they hold unprocessed or unsent bytes, and the next
    /// `release_buffers` tries again.
    pub fn release_buffers(&mut self) {
        if let Some(s) = self.tls.as_ref().filter(|_| self.buffers_held && self.handshake_done) {
            self.buffers_held = !crate::sys::ssl::free_buffers(s.ssl());
        }
    }

    /// Whether body bytes may go straight from a file to the socket.
    pub fn can_sendfile(&self) -> bool {
        self.tls.is_none()
    }

    /// Orderly close of our sending side: close_notify over TLS (best
    /// effort, never blocking), then a TCP half-close.
    pub fn shutdown(&mut self) {
        if let Some(s) = self.tls.as_mut() {
            if self.handshake_done {
                self.buffers_held = self.release_idle;
                let _ = s.shutdown();
            }
        }
        socket::shutdown_write(self.fd);
    }
}
