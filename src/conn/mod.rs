//! The connection state machine: one client socket from accept to close.
//!
//! Every threading mode drives the same machine: a backend reports
//! readiness (`set_ready`), calls `run`, and asks `interest` what to wait for
//! next. The machine reads, parses with the sans-I/O `http1` module, calls
//! the application, and writes; it never blocks.

#![forbid(unsafe_code)]

pub mod shared;
pub mod values;
mod output;
mod request;
mod upgraded;

use crate::daemon::Ctx;
use crate::ffi::hooks::{AccessArgs, CPtr};
use crate::http1;
use crate::response::Response;
use crate::sys::socket::RawAddr;
use crate::tls::transport::{Handshake, Transport};
use output::Reply;
use request::{BodyIn, Request};
use shared::ConnShared;
use std::io;
use std::os::fd::RawFd;
use crate::daemon::worker::WorkerShared;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use crate::sys::clock::Tick;
use std::time::Duration;

/// Why a request or connection ended (`enum MHD_RequestTerminationCode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    CompletedOk = 0,
    WithError = 1,
    TimeoutReached = 2,
    DaemonShutdown = 3,
    ReadError = 4,
    ClientAbort = 5,
}

/// Named after libmicrohttpd's connection states, collapsed to what we need.
// repr(u8): a tag byte of its own. Without it the Closed payload shares
// one byte with the tag and every `match` on the state first decodes that
// byte (about 40 instructions per keep-alive request, callgrind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum State {
    /// The TLS handshake is in progress.
    TlsHandshake,
    /// Waiting for (the rest of) a request head.
    HeadersReceiving,
    /// The handler has seen the head; body bytes are delivered as they come.
    BodyReceiving,
    /// The final handler call returned without a response; it is asked again.
    AwaitingResponse,
    /// Sending the reply head and body.
    Replying,
    /// The application suspended the connection; nothing happens until it
    /// resumes it (the state to return to is kept in `resume_to`).
    Suspended,
    /// After a 101: the application's protocol, through the upgrade handler.
    Upgraded,
    /// Done; the owner finalizes and frees the connection.
    Closed(Termination),
}

/// What the connection waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Interest {
    pub read: bool,
    pub write: bool,
    /// Work is possible without any I/O event (run again at once).
    pub busy: bool,
}

const INITIAL_READ_BUFFER: usize = 4096;
/// A closed connection whose buffers hold more than this (a large request
/// or reply grew them) frees them instead of passing them on.
const SPARE_MAX_BYTES: usize = 64 * 1024;
/// Upper bound on passes through the machine per `run`, so one busy client
/// cannot starve the others served by the same thread.
const MAX_PASSES: usize = 32;
/// A TLS connection that moved no bytes for this long gives OpenSSL's
/// record buffers back at the next timeout scan (a scan period, so an idle
/// connection keeps them for at most about half a second).
pub const TLS_IDLE: Duration = Duration::from_millis(250);

pub struct Connection {
    pub shared: Box<ConnShared>,
    fd: RawFd,
    transport: Transport,
    state: State,
    /// Received bytes live in `rbuf[rstart..rend]`.
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    read_max: usize,
    read_ready: bool,
    write_ready: bool,
    /// The backend reported a hang-up (edge-triggered epoll): read until
    /// the socket says EOF or EAGAIN, as no further edge will announce it.
    hangup_seen: bool,
    peer_closed: bool,
    req: Request,
    reply: Option<Reply>,
    /// Bytes queued before the reply proper (an interim 100 Continue).
    interim: Vec<u8>,
    /// The output buffer between replies, kept for its capacity.
    out_spare: Vec<u8>,
    last_activity: Tick,
    /// Whether the application has been told about this request (handler called).
    client_aware: bool,
    completion_sent: bool,
    /// The state a suspended connection returns to.
    resume_to: State,
    /// The upgrade handler's state once upgraded.
    up: Option<Box<crate::upgrade::UpgradeState>>,
    /// The last `run` hit its pass limit with work left.
    unfinished: bool,
    /// This `run` moved bytes: `last_activity` is set when it ends.
    io_done: bool,
    /// The first read was asked for before any readiness report
    /// (`read_at_once`); its result is still to be taken.
    first_read_probe: bool,
    /// Stop before the first upgrade handler call, so that the owner can
    /// give the connection a thread of its own first (thread per
    /// connection: design/UPGRADE.md has the handler on that thread).
    hold_upgraded: bool,
}

impl Connection {
    /// A connection for an accepted socket.
    pub fn new(fd: RawFd, addr: RawAddr, daemon_handle: CPtr, waker: Arc<WorkerShared>, ctx: &Ctx) -> Box<Connection> {
        // Placeholders: `start` sets every per-connection field, for a new
        // box as for a reused one.
        let shared = Box::new(ConnShared::new(fd, addr, daemon_handle, 0, false, waker.clone()));
        let mut c = Box::new(Connection {
            shared,
            fd,
            transport: Transport::plain(fd),
            state: State::Closed(Termination::WithError),
            rbuf: Vec::new(),
            rstart: 0,
            rend: 0,
            read_max: 0,
            read_ready: false,
            write_ready: false,
            hangup_seen: false,
            peer_closed: false,
            req: Request::default(),
            reply: None,
            interim: Vec::new(),
            out_spare: Vec::new(),
            last_activity: Tick::now(),
            client_aware: false,
            completion_sent: false,
            resume_to: State::HeadersReceiving,
            up: None,
            unfinished: false,
            io_done: false,
            first_read_probe: false,
            hold_upgraded: false,
        });
        c.start(fd, addr, daemon_handle, waker, ctx);
        c
    }

    /// A connection for an accepted socket in the box of a closed one that
    /// `recycle` emptied, keeping its buffers (read buffer, output buffer,
    /// request and header lists) in the state they have between two
    /// requests of a keep-alive connection. Without them a client that
    /// closes after each request (`Connection: close`) costs a fresh set of
    /// allocations, and a zero-filled read buffer, per request.
    pub fn reuse(mut self: Box<Self>, fd: RawFd, addr: RawAddr, daemon_handle: CPtr, waker: Arc<WorkerShared>, ctx: &Ctx) -> Box<Connection> {
        self.start(fd, addr, daemon_handle, waker, ctx);
        self
    }

    /// Sets every per-connection field for a new socket, in place: the
    /// buffers (empty, as `recycle` left them) keep their capacity, and
    /// nothing of the whole connection is built elsewhere and moved in
    /// (that copy was a tenth of the user-space instructions of a
    /// `Connection: close` request).
    fn start(&mut self, fd: RawFd, addr: RawAddr, daemon_handle: CPtr, waker: Arc<WorkerShared>, ctx: &Ctx) {
        // Our writes are already whole (head and body in one call, chunks as
        // they come): Nagle's algorithm would only hold the next one back
        // until the peer's delayed ACK.
        let _ = crate::sys::socket::set_nodelay(fd, true);
        let (transport, state) = match &ctx.tls {
            None => (Transport::plain(fd), State::HeadersReceiving),
            Some(tls) => match tls.session().and_then(|ssl| Transport::tls(fd, ssl).map_err(|e| e.to_string())) {
                Ok(t) => (t, State::TlsHandshake),
                Err(msg) => {
                    ctx.log(&format!("Failed to set up TLS for a connection: {msg}"));
                    (Transport::plain(fd), State::Closed(Termination::WithError))
                }
            },
        };
        let values = std::mem::take(&mut *self.shared.values.borrow_mut());
        let external = !ctx.cfg.has(crate::daemon::config::flag::INTERNAL_POLLING_THREAD);
        *self.shared = ConnShared::new(fd, addr, daemon_handle, ctx.cfg.timeout, external, waker);
        *self.shared.values.borrow_mut() = values;
        self.fd = fd;
        self.transport = transport;
        self.state = state;
        self.rstart = 0;
        self.rend = 0;
        self.read_max = ctx.cfg.memory_limit.max(1024);
        // Nothing is read before the backend reports input, unless the
        // owner asks for a first read at once (`read_at_once`).
        self.read_ready = false;
        self.write_ready = true;
        self.hangup_seen = false;
        self.peer_closed = false;
        self.reply = None;
        self.last_activity = Tick::now();
        self.client_aware = false;
        self.completion_sent = false;
        self.resume_to = State::HeadersReceiving;
        self.up = None;
        self.unfinished = false;
        self.io_done = false;
        self.first_read_probe = false;
        self.hold_upgraded = false;
    }

    /// A new plain connection has nothing to do before its first bytes
    /// arrive, which every backend reports (edge-triggered epoll too: adding
    /// a socket that already holds input reports it). One that starts a
    /// TLS handshake, or failed to set it up, must run at once.
    pub fn starts_waiting(&self) -> bool {
        self.state == State::HeadersReceiving
    }

    /// Makes the next run read without a readiness report.
    pub fn read_at_once(&mut self) {
        self.read_ready = true;
        self.first_read_probe = true;
    }

    /// After the run that followed `read_at_once`: whether that read found
    /// input (a byte or the end of the stream). `None` at other times.
    pub fn take_first_read_result(&mut self) -> Option<bool> {
        if !std::mem::take(&mut self.first_read_probe) {
            return None;
        }
        Some(!(self.state == State::HeadersReceiving && self.rend == 0 && !self.peer_closed))
    }

    /// See `hold_upgraded`: `true` until the connection has its own thread.
    pub fn set_hold_upgraded(&mut self, hold: bool) {
        self.hold_upgraded = hold;
    }

    pub fn is_suspended(&self) -> bool {
        self.state == State::Suspended
    }

    /// The TLS handshake has not answered the ClientHello yet: the next
    /// step may be the costly one (the server's signature).
    pub fn before_handshake_flight(&self) -> bool {
        self.state == State::TlsHandshake && self.transport.handshake_flight_pending()
    }

    fn suspend(&mut self) {
        self.resume_to = self.state;
        self.state = State::Suspended;
        self.shared.suspended.store(true, Ordering::Release);
    }

    /// Leaves the suspended state if the application asked to; returns
    /// whether it did.
    pub fn take_resume(&mut self) -> bool {
        if self.state != State::Suspended || !self.shared.resume_requested.swap(false, Ordering::AcqRel) {
            return false;
        }
        self.state = self.resume_to;
        self.shared.suspended.store(false, Ordering::Release);
        // Time spent suspended does not count towards the timeout.
        self.last_activity = Tick::now();
        true
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Records readiness reported by the backend.
    pub fn set_ready(&mut self, readable: bool, writable: bool) {
        self.read_ready |= readable;
        self.write_ready |= writable;
        // A TLS read that waited for the socket to take bytes (or a write
        // that waited for bytes to arrive) is retried on that event.
        let w = self.transport.wants;
        self.read_ready |= w.write && writable;
        self.write_ready |= w.read && readable;
    }

    /// Records that the backend saw the peer hang up (EPOLLRDHUP/HUP/ERR).
    pub fn set_hangup(&mut self) {
        self.hangup_seen = true;
        self.read_ready = true;
    }

    /// After reading `n` bytes into `room` bytes of space: whether the
    /// socket may still hold input. A plain TCP socket that filled less
    /// than the space had nothing more queued at that instant, and any
    /// byte (or FIN) arriving later raises a new readiness event in every
    /// backend (poll and select are level-triggered; edge-triggered epoll
    /// reports each arrival), so the read that would only return EAGAIN
    /// is skipped: one recv per request instead of two. Not over TLS
    /// (OpenSSL reads records, not what the socket holds), and not after
    /// a hang-up report, whose edge has been consumed already.
    fn may_hold_more(&self, n: usize, room: usize) -> bool {
        n == room || self.transport.is_tls() || self.hangup_seen
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed(_))
    }

    pub fn interest(&self) -> Interest {
        let mut i = self.state_interest();
        // `run` stopped at its pass limit with work left (pipelined
        // requests already in the buffer): no event will announce it.
        i.busy |= self.unfinished && !matches!(self.state, State::Closed(_) | State::Suspended);
        // OpenSSL may need the other direction to finish what it started,
        // and may hold decrypted input the socket will not signal again.
        let w = self.transport.wants;
        i.read |= w.read && !self.peer_closed && !matches!(self.state, State::Closed(_) | State::Suspended);
        i.write |= w.write && !matches!(self.state, State::Closed(_) | State::Suspended);
        i
    }

    fn state_interest(&self) -> Interest {
        let room = self.rend - self.rstart < self.read_max;
        match self.state {
            State::Upgraded => self.upgraded_interest(),
            State::TlsHandshake => Interest { read: false, write: false, busy: false },
            State::HeadersReceiving | State::BodyReceiving => {
                let read = !self.peer_closed && room;
                let write = !self.interim.is_empty();
                Interest { read, write, busy: (read && self.read_ready) || (write && self.write_ready) }
            }
            State::AwaitingResponse => Interest { read: false, write: false, busy: true },
            State::Suspended => Interest::default(),
            State::Replying => {
                let r = self.reply.as_ref();
                let pending = !self.interim.is_empty() || r.map_or(false, |r| r.has_output());
                Interest { read: false, write: pending, busy: !pending || self.write_ready }
            }
            State::Closed(_) => Interest::default(),
        }
    }

    /// When the connection times out if nothing happens.
    pub fn deadline(&self) -> Option<Tick> {
        // Suspended connections wait for the application; upgraded ones
        // belong to the application's protocol, which owns liveness.
        if matches!(self.state, State::Suspended | State::Upgraded) {
            return None;
        }
        let t = self.shared.timeout.get();
        (t > 0).then(|| self.last_activity + Duration::from_secs(t as u64))
    }

    /// Closes the connection if its deadline has passed.
    pub fn check_timeout(&mut self, now: Tick) {
        if self.shared.timeout_changed.replace(false) {
            self.last_activity = now;
        }
        if let Some(d) = self.deadline() {
            if now >= d && !self.is_closed() {
                self.state = State::Closed(Termination::TimeoutReached);
            }
        }
    }

    /// The timeout scan has something to do here: a deadline to check or
    /// TLS buffers to give back once idle.
    pub fn wants_scan(&self) -> bool {
        self.deadline().is_some() || self.holds_tls_buffers()
    }

    /// OpenSSL may hold record buffers for this connection, to be given
    /// back once it idles (`release_idle_tls_buffers`).
    pub fn holds_tls_buffers(&self) -> bool {
        self.transport.holds_buffers()
    }

    /// Frees OpenSSL's record buffers (about 34 KiB) of a connection that
    /// has moved no bytes for `TLS_IDLE`: an idle keep-alive connection
    /// costs little memory, and a busy one does not allocate them anew
    /// for every request.
    pub fn release_idle_tls_buffers(&mut self, now: Tick) {
        if self.tls_release_due().is_some_and(|t| now >= t) {
            self.transport.release_buffers();
        }
    }

    /// When `release_idle_tls_buffers` will free this connection's TLS
    /// buffers if nothing moves (None: it holds none).
    pub fn tls_release_due(&self) -> Option<Tick> {
        self.holds_tls_buffers().then(|| self.last_activity + TLS_IDLE)
    }

    /// Does all the work possible now without blocking.
    pub fn run(&mut self, ctx: &Ctx) {
        self.shared.running.set(true);
        self.run_passes(ctx);
        self.shared.running.set(false);
        // One clock read per run for the timeout, however many reads and
        // writes it did (the deadline has one-second resolution).
        if std::mem::take(&mut self.io_done) {
            self.last_activity = Tick::now();
        }
    }

    fn run_passes(&mut self, ctx: &Ctx) {
        if self.state == State::TlsHandshake && !self.handshake(ctx) {
            return;
        }
        self.unfinished = false;
        if self.state == State::Upgraded {
            if self.hold_upgraded {
                return;
            }
            return self.run_upgraded(ctx);
        }
        for _ in 0..MAX_PASSES {
            if self.state == State::Suspended {
                return;
            }
            let mut progress = false;
            if self.wants_read() && self.read_ready {
                progress |= self.fill(ctx);
            }
            progress |= self.process(ctx);
            if self.is_closed() {
                return;
            }
            if self.write_ready && (!self.interim.is_empty() || self.state == State::Replying) {
                progress |= self.flush(ctx);
            }
            if self.state == State::Upgraded {
                if self.hold_upgraded {
                    return;
                }
                return self.run_upgraded(ctx);
            }
            if self.is_closed() || !progress {
                return;
            }
        }
        self.unfinished = true;
    }

    /// Advances the TLS handshake; true once it is complete.
    fn handshake(&mut self, ctx: &Ctx) -> bool {
        match self.transport.handshake(&self.shared) {
            Handshake::Done => {
                self.state = State::HeadersReceiving;
                self.last_activity = Tick::now();
                // OpenSSL may have read the first request along with the
                // handshake's last record (read-ahead): no socket event
                // will announce it.
                self.read_ready = true;
                true
            }
            Handshake::Pending => {
                // Wait for the direction OpenSSL asked for.
                self.read_ready = false;
                self.write_ready = false;
                false
            }
            Handshake::Failed(msg) => {
                ctx.log(&format!("TLS handshake failed: {msg}"));
                self.state = State::Closed(Termination::WithError);
                false
            }
        }
    }

    fn wants_read(&self) -> bool {
        matches!(self.state, State::HeadersReceiving | State::BodyReceiving) && !self.peer_closed
    }

    /// Makes room at the end of the read buffer: moves unread bytes to the
    /// front, or grows the buffer up to `read_max`. False when it is full.
    fn make_read_room(&mut self) -> bool {
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        }
        if self.rend == self.rbuf.len() {
            if self.rstart > 0 {
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
            } else if self.rbuf.len() < self.read_max {
                // Doubling, from a first size that never exceeds the budget.
                let new_len = (self.rbuf.len() * 2).max(INITIAL_READ_BUFFER).min(self.read_max);
                self.rbuf.resize(new_len, 0);
            } else {
                return false;
            }
        }
        true
    }

    /// Reads what the socket has into the read buffer.
    fn fill(&mut self, _ctx: &Ctx) -> bool {
        if !self.make_read_room() {
            return false; // full: the state machine decides what that means
        }
        let room = self.rbuf.len() - self.rend;
        match self.transport.recv(&mut self.rbuf[self.rend..]) {
            Ok(n) if n > 0 && self.transport.pending() => {
                // OpenSSL holds more decrypted bytes: no socket event will
                // announce them, so stay ready.
                self.rend += n;
                self.io_done = true;
                true
            }
            Ok(0) => {
                self.peer_closed = true;
                self.read_ready = false;
                true
            }
            Ok(n) => {
                self.rend += n;
                self.io_done = true;
                if !self.may_hold_more(n, room) {
                    self.read_ready = false;
                }
                true
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.read_ready = false;
                false
            }
            Err(_) => {
                self.peer_closed = true;
                self.read_ready = false;
                self.state = State::Closed(if self.client_aware { Termination::ReadError } else { Termination::WithError });
                true
            }
        }
    }

    /// Advances the state machine over the bytes already received.
    fn process(&mut self, ctx: &Ctx) -> bool {
        match self.state {
            State::HeadersReceiving => self.process_head(ctx),
            State::BodyReceiving => self.process_body(ctx),
            State::AwaitingResponse => {
                match self.shared.take_queued() {
                    // Queued outside the handler (`accepts_late_response`):
                    // sent without calling the handler again, as in 0.9.75.
                    Some((resp, status)) => self.start_reply(ctx, resp, status),
                    None => self.final_call(ctx),
                }
                !matches!(self.state, State::AwaitingResponse)
            }
            State::Replying => self.produce(ctx),
            State::TlsHandshake | State::Suspended | State::Upgraded | State::Closed(_) => false,
        }
    }

    fn process_head(&mut self, ctx: &Ctx) -> bool {
        if self.rstart == self.rend {
            if self.peer_closed {
                // An idle keep-alive connection closed by the client.
                self.state = State::Closed(Termination::CompletedOk);
                return true;
            }
            return false;
        }
        let Some(bounds) = self.req.finder.find(&self.rbuf[self.rstart..self.rend]) else {
            if self.peer_closed {
                self.state = State::Closed(Termination::WithError);
                return true;
            }
            if self.rend - self.rstart >= self.read_max {
                let err = http1::head_overflow_error(&self.rbuf[self.rstart..self.rend], &self.req.finder);
                self.fail(ctx, err);
                return true;
            }
            return false;
        };
        let parsed = {
            let mut values = self.shared.values.borrow_mut();
            values.clear();
            self.req.parse(&self.rbuf[self.rstart..self.rend], bounds, &mut values, ctx)
        };
        if let Err(e) = parsed {
            self.fail(ctx, e);
            return true;
        }
        self.rstart += bounds.end;
        self.shared.header_size.set(bounds.end - bounds.start);
        self.shared.http11.set(self.req.version == Some(http1::Version::Http11));
        self.begin_request(ctx);
        true
    }

    /// The head is parsed: tell the application.
    fn begin_request(&mut self, ctx: &Ctx) {
        self.client_aware = false;
        self.completion_sent = false;
        self.shared.con_cls.set(CPtr::NULL);
        if let Some(log) = ctx.cfg.uri_log {
            let uri = self.req.raw_uri_ptr(&self.shared.values.borrow());
            let v = log.call(uri, self.shared.c_ptr());
            self.shared.con_cls.set(CPtr(v));
        }
        self.req.unescape_url(&mut self.shared.values.borrow_mut(), ctx, self.shared.c_ptr());
        self.state = State::BodyReceiving;
        if !self.call_handler(ctx, None) {
            return;
        }
        if self.state == State::BodyReceiving
            && self.req.expect_continue
            && self.req.body.expects_data()
            && self.rstart == self.rend
        {
            self.interim.extend_from_slice(http1::CONTINUE_100);
        }
    }

    /// Calls the access handler with `upload` (None: no body data, size 0).
    /// Returns false if the call ended the request (a response was queued,
    /// or the handler failed).
    fn call_handler(&mut self, ctx: &Ctx, upload: Option<(usize, usize)>) -> bool {
        let (data_ptr, mut size) = match upload {
            Some((start, len)) => (self.rbuf[start..start + len].as_ptr().cast(), len),
            None => (std::ptr::null(), 0usize),
        };
        let given = size;
        let args = {
            let values = self.shared.values.borrow();
            AccessArgs {
                connection: self.shared.c_ptr(),
                url: self.req.url_ptr(&values),
                method: self.req.method_ptr(&values),
                version: self.req.version_ptr(&values),
                upload_data: data_ptr,
                upload_data_size: &mut size,
                con_cls: self.shared.con_cls_ptr(),
            }
        };
        self.client_aware = true;
        self.shared.in_handler.store(true, Ordering::Relaxed);
        let ok = ctx.cfg.handler.map_or(false, |h| h.call(&args));
        self.shared.in_handler.store(false, Ordering::Relaxed);
        let left = if size > given {
            ctx.log(&format!("Access handler claimed to leave {} of {} upload bytes; treating as {}", size, given, given));
            given
        } else {
            size
        };
        self.req.last_consumed = given - left;
        let queued = self.shared.take_queued();
        let suspend = self.shared.suspend_requested.replace(false);
        if let Some((resp, status)) = queued {
            self.start_reply(ctx, resp, status);
            if suspend && self.state == State::Replying {
                // As in 0.9.75, a suspension asked in the same call holds the
                // reply, head included, until MHD_resume_connection: Janus,
                // for one, queues a response whose content callback has
                // nothing to give until another thread has the answer and
                // resumes the connection.
                self.suspend();
            } else {
                self.shared.suspended.store(false, Ordering::Release);
                self.shared.resume_requested.store(false, Ordering::Release);
            }
            return false;
        }
        if !ok {
            self.state = State::Closed(Termination::WithError);
            return false;
        }
        if suspend {
            self.suspend();
            return false;
        }
        true
    }

    fn process_body(&mut self, ctx: &Ctx) -> bool {
        let mut progress = false;
        loop {
            // Offer the application what is available.
            let avail = match &self.req.body {
                BodyIn::None => {
                    self.final_call(ctx);
                    return true;
                }
                BodyIn::Length(n) => (*n).min((self.rend - self.rstart) as u64) as usize,
                BodyIn::Chunked { pending, .. } => *pending,
            };
            if avail > 0 {
                let go_on = self.call_handler(ctx, Some((self.rstart, avail)));
                // What the handler consumed is gone even when the call also
                // suspended the connection (or ended the request): a resumed
                // handler must not be offered those bytes again.
                let k = self.req.last_consumed;
                self.rstart += k;
                match &mut self.req.body {
                    BodyIn::Length(n) => *n -= k as u64,
                    BodyIn::Chunked { pending, .. } => *pending -= k,
                    BodyIn::None => {}
                }
                if !go_on {
                    return true;
                }
                if k > 0 {
                    progress = true;
                    continue;
                }
            }
            if self.req.body.is_complete() {
                if let BodyIn::Chunked { decoder, .. } = &self.req.body {
                    request::store_trailers(decoder, &mut self.shared.values.borrow_mut());
                }
                self.final_call(ctx);
                return true;
            }
            // Decode more chunked payload, if any arrived.
            if let BodyIn::Chunked { decoder, pending, done } = &mut self.req.body {
                if !*done {
                    let base = self.rstart + *pending;
                    match decoder.decode(&self.rbuf[base..self.rend]) {
                        Err(e) => {
                            self.fail(ctx, e);
                            return true;
                        }
                        Ok(step) => {
                            *done = step.done;
                            // Drop the framing so the payload stays contiguous
                            // with what the application has not consumed yet.
                            let (gap, payload) = if step.data.is_empty() {
                                (step.consumed, 0)
                            } else {
                                (step.data.start, step.data.len())
                            };
                            if gap > 0 {
                                self.rbuf.copy_within(base + gap..self.rend, base);
                                self.rend -= gap;
                            }
                            *pending += payload;
                            if step.consumed > 0 {
                                progress = true;
                                continue;
                            }
                        }
                    }
                }
            }
            // Nothing more can happen until more bytes arrive.
            if self.peer_closed {
                self.state = State::Closed(Termination::ClientAbort);
                return true;
            }
            if self.rend - self.rstart >= self.read_max && avail == self.rend - self.rstart {
                // The application leaves a full buffer unconsumed: it will
                // get more data only when it takes some (or the timeout ends it).
                ctx.log("Application did not consume upload data and the buffer is full.");
            }
            return progress;
        }
    }

    /// The request is complete: the final call with no upload data.
    fn final_call(&mut self, ctx: &Ctx) {
        self.state = State::AwaitingResponse;
        if self.call_handler(ctx, None) && self.state == State::AwaitingResponse {
            // No response yet: libmicrohttpd asks again on the next round,
            // unless the application queues one in between.
            self.shared.awaiting.store(true, Ordering::Release);
        }
    }

    /// Answers a request we could not parse, then closes.
    fn fail(&mut self, ctx: &Ctx, err: http1::Error) {
        self.req.keep_alive = false;
        self.req.body = BodyIn::None;
        let resp = Arc::new(Response::new(crate::response::Body::Foreign(crate::ffi::foreign::ForeignBytes::from_static(err.body().as_bytes()))));
        self.start_reply(ctx, resp, err.status() as u32);
        if let Some(r) = self.reply.as_mut() {
            r.keep_alive = false;
        }
    }

    fn start_reply(&mut self, ctx: &Ctx, resp: Arc<Response>, status: u32) {
        // A response queued before the body was read: the rest of the body
        // is never read, so the connection cannot be reused.
        let early = self.state == State::BodyReceiving && !self.req.body.is_complete();
        self.shared.awaiting.store(false, Ordering::Release);
        self.shared.http_status.store(status, Ordering::Relaxed);
        let sendfile = self.transport.can_sendfile();
        match Reply::start(ctx, &self.req, resp, status, early, sendfile, std::mem::take(&mut self.out_spare)) {
            Ok(reply) => {
                self.reply = Some(reply);
                self.state = State::Replying;
            }
            Err(buf) => {
                self.out_spare = buf;
                ctx.log("The queued response cannot be sent to this client.");
                self.state = State::Closed(Termination::WithError);
            }
        }
    }

    /// Generates body bytes that must be produced (callbacks, pipes, framing).
    fn produce(&mut self, ctx: &Ctx) -> bool {
        let Some(reply) = self.reply.as_mut() else { return false };
        let produced = reply.produce(ctx);
        // A content reader may suspend the connection (0.9.75 allows it
        // there and in the access handler): nothing more is produced or
        // sent until the resume, what it gave now included.
        if self.shared.suspend_requested.replace(false) {
            if produced.is_ok() {
                self.suspend();
                return true;
            }
            // The reader failed too: the connection closes instead.
            self.shared.suspended.store(false, Ordering::Release);
        }
        match produced {
            Ok(p) => {
                if reply.is_done() && self.interim.is_empty() {
                    self.finish_reply(ctx);
                    return true;
                }
                p
            }
            Err(()) => {
                self.state = State::Closed(Termination::WithError);
                true
            }
        }
    }

    fn flush(&mut self, ctx: &Ctx) -> bool {
        if !self.interim.is_empty() {
            match self.transport.sendv(&[io::IoSlice::new(&self.interim)]) {
                Ok(n) => {
                    self.interim.drain(..n);
                    self.io_done = true;
                    if !self.interim.is_empty() {
                        return true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.write_ready = false;
                    return false;
                }
                Err(_) => {
                    self.state = State::Closed(Termination::WithError);
                    return true;
                }
            }
        }
        let Some(reply) = self.reply.as_mut() else { return false };
        if self.state != State::Replying {
            return false;
        }
        match reply.write(&mut self.transport, self.fd) {
            Ok(output::Wrote::Some) => {
                self.io_done = true;
                if reply.is_done() {
                    self.finish_reply(ctx);
                }
                true
            }
            Ok(output::Wrote::Blocked) => {
                self.write_ready = false;
                false
            }
            Ok(output::Wrote::Nothing) => false,
            Err(_) => {
                self.state = State::Closed(Termination::WithError);
                true
            }
        }
    }

    /// The whole reply is with the OS: complete the request.
    fn finish_reply(&mut self, ctx: &Ctx) {
        if let Some(hook) = self.reply.as_ref().and_then(|r| r.upgrade_hook()) {
            // The whole 101 head is with the OS: the request completes only
            // when the upgraded connection ends.
            if let Some(r) = self.reply.take() {
                self.out_spare = r.into_buffer();
            }
            return self.enter_upgraded(ctx, hook);
        }
        let keep_alive = self.reply.as_ref().map_or(false, |r| r.keep_alive) && !ctx.is_shutting_down();
        // The completion callback runs while the response is still alive:
        // libmicrohttpd frees the response after notifying the application.
        self.notify_completed(ctx, Termination::CompletedOk);
        if let Some(r) = self.reply.take() {
            self.out_spare = r.into_buffer();
        }
        if keep_alive {
            self.req.reset();
            self.state = State::HeadersReceiving;
            // A second response, queued from another thread for the request
            // just answered, must not answer the next one.
            drop(self.shared.take_queued());
            self.shared.http_status.store(0, Ordering::Relaxed);
            self.client_aware = false;
        } else {
            self.transport.shutdown();
            self.state = State::Closed(Termination::CompletedOk);
        }
    }

    fn notify_completed(&mut self, ctx: &Ctx, code: Termination) {
        if self.client_aware && !self.completion_sent {
            self.completion_sent = true;
            if let Some(cb) = ctx.cfg.completed {
                cb.call(self.shared.c_ptr(), self.shared.con_cls_ptr(), code);
            }
            self.shared.con_cls.set(CPtr::NULL);
        }
    }

    /// Marks the connection closed for a reason decided outside (daemon stop).
    pub fn abort(&mut self, code: Termination) {
        if !self.is_closed() {
            self.state = State::Closed(code);
        }
    }

    /// Empties this closed and finalized connection's buffers for `reuse`
    /// by the next one; false when they are not worth keeping (upgraded,
    /// or grown past SPARE_MAX_BYTES): then drop it.
    pub fn recycle(&mut self) -> bool {
        if self.up.is_some() || self.shared.upgraded.load(Ordering::Acquire) {
            return false;
        }
        let mut values = self.shared.values.borrow_mut();
        if self.rbuf.len() + self.out_spare.capacity() + self.interim.capacity() + values.capacity() + self.req.capacity()
            > SPARE_MAX_BYTES
        {
            return false;
        }
        values.clear();
        drop(values);
        self.req.reset();
        self.out_spare.clear();
        self.interim.clear();
        // A TLS session is freed now, as it was when connections were dropped.
        self.transport = Transport::plain(self.fd);
        true
    }

    /// Runs the completion callback for a closed connection and frees what
    /// the request held. The owner closes the socket afterwards.
    pub fn finalize(&mut self, ctx: &Ctx) {
        let code = match self.state {
            State::Closed(c) => c,
            _ => Termination::WithError,
        };
        self.finalize_upgraded(ctx);
        self.notify_completed(ctx, code);
        self.reply = None;
        self.shared.awaiting.store(false, Ordering::Release);
        drop(self.shared.take_queued());
    }
}
