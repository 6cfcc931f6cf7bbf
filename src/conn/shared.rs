//! The part of a connection the application can reach through its
//! `struct MHD_Connection *`: request data, `con_cls`, the queued response.
//!
//! Callbacks re-enter the library with that pointer while the state machine
//! is in the middle of a step, so everything here is behind `Cell`/`RefCell`
//! and the state machine only ever holds a shared reference to it. Calls
//! made from inside a callback (such as `MHD_queue_response`) only record
//! intent; the state machine acts on it when the callback has returned.

use super::values::Values;
use crate::ffi::hooks::CPtr;
use crate::ffi::info::InfoSlot;
use crate::response::Response;
use crate::sys::socket::RawAddr;
use crate::tls::TlsInfo;
use std::cell::{Cell, OnceCell, RefCell};
use crate::daemon::worker::WorkerShared;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

pub struct ConnShared {
    pub fd: RawFd,
    pub addr: RawAddr,
    /// The daemon's C handle, for MHD_CONNECTION_INFO_DAEMON.
    pub daemon_handle: CPtr,
    pub values: RefCell<Values>,
    /// `*con_cls` of the access handler and completion callback.
    pub con_cls: Cell<CPtr>,
    /// `*socket_context` of the connection-notify callback.
    pub socket_context: Cell<CPtr>,
    /// Set by MHD_queue_response from inside the access handler.
    pub queued: RefCell<Option<(Arc<Response>, u32)>>,
    /// Set by MHD_queue_response outside the access handler
    /// (`accepts_late_response`), from any thread; `has_late` tells.
    pub late: Mutex<Option<(Arc<Response>, u32)>>,
    pub has_late: AtomicBool,
    /// True only while the access handler runs.
    pub in_handler: AtomicBool,
    /// The handler's final call returned without a response.
    pub awaiting: AtomicBool,
    /// The daemon has no internal thread: the application's loop runs
    /// the connection, and may queue its response between two MHD_run.
    pub external: bool,
    /// Status of the response being sent, for MHD_CONNECTION_INFO_HTTP_STATUS.
    pub http_status: AtomicU32,
    /// Size of the request head, for MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE.
    pub header_size: Cell<usize>,
    /// Inactivity timeout in seconds (0: none); MHD_set_connection_option may change it.
    pub timeout: Cell<u32>,
    /// Set when the timeout changed, so the state machine recomputes its deadline.
    pub timeout_changed: Cell<bool>,
    /// A callback runs inside the serving loop, which looks at the
    /// connection again when it returns (`Connection::run`, the start
    /// notification): what the callback changes needs no other notice.
    pub running: Cell<bool>,
    /// Storage for the union that MHD_get_connection_info returns a pointer to.
    pub info: InfoSlot,
    /// MHD_suspend_connection was called; acted on after the callback returns.
    pub suspend_requested: Cell<bool>,
    /// The connection is suspended (read by any thread).
    pub suspended: AtomicBool,
    /// MHD_resume_connection was called (from any thread).
    pub resume_requested: AtomicBool,
    /// The loop that serves this connection, to wake it on resume. It
    /// changes when a thread-per-connection daemon gives the connection a
    /// thread of its own (src/daemon/elastic.rs).
    waker: Mutex<Arc<WorkerShared>>,
    /// The current request is HTTP/1.1 (an upgrade needs it).
    pub http11: Cell<bool>,
    /// The connection speaks the application's protocol (design/UPGRADE.md).
    pub upgraded: AtomicBool,
    /// TLS facts for MHD_get_connection_info, set once the handshake is
    /// done (by `Transport::handshake`); empty on plain connections.
    pub tls: OnceCell<TlsInfo>,
}

impl ConnShared {
    pub fn new(fd: RawFd, addr: RawAddr, daemon_handle: CPtr, timeout: u32, external: bool, waker: Arc<WorkerShared>) -> ConnShared {
        ConnShared {
            fd,
            addr,
            daemon_handle,
            values: RefCell::new(Values::default()),
            con_cls: Cell::new(CPtr::NULL),
            socket_context: Cell::new(CPtr::NULL),
            queued: RefCell::new(None),
            late: Mutex::new(None),
            has_late: AtomicBool::new(false),
            in_handler: AtomicBool::new(false),
            awaiting: AtomicBool::new(false),
            external,
            http_status: AtomicU32::new(0),
            header_size: Cell::new(0),
            timeout: Cell::new(timeout),
            timeout_changed: Cell::new(false),
            running: Cell::new(false),
            info: InfoSlot::default(),
            suspend_requested: Cell::new(false),
            suspended: AtomicBool::new(false),
            resume_requested: AtomicBool::new(false),
            waker: Mutex::new(waker),
            http11: Cell::new(false),
            upgraded: AtomicBool::new(false),
            tls: OnceCell::new(),
        }
    }

    /// Whether MHD_queue_response may be called outside the access
    /// handler, as 0.9.75 lets it: for a suspended connection from any
    /// thread (the response goes out after the resume), and for a request
    /// whose final call returned without a response (the handler is then
    /// called again each round) from the application's loop in a daemon
    /// without an internal thread (OLA answers that way once its own work
    /// is done), or else from the thread serving the connection: a
    /// callback of another request of the same loop (0.9.75 checks the
    /// thread; a thread per connection has no other request on it).
    pub fn accepts_late_response(&self) -> bool {
        if self.suspended.load(Ordering::Acquire) {
            return true;
        }
        self.awaiting.load(Ordering::Acquire)
            && (self.external || crate::daemon::worker::serves_here(&self.waker.lock().unwrap_or_else(|e| e.into_inner())))
    }

    /// Takes the response queued for this request, if any.
    #[inline]
    pub fn take_queued(&self) -> Option<(Arc<Response>, u32)> {
        let queued = self.queued.borrow_mut().take();
        if queued.is_some() || !self.has_late.load(Ordering::Acquire) {
            return queued;
        }
        self.has_late.store(false, Ordering::Relaxed);
        self.late.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// MHD_queue_response outside the access handler: false if the
    /// request has a response already.
    pub fn queue_late(&self, resp: Arc<Response>, status: u32) -> bool {
        let mut late = self.late.lock().unwrap_or_else(|e| e.into_inner());
        if late.is_some() || self.http_status.load(Ordering::Relaxed) != 0 {
            return false;
        }
        *late = Some((resp, status));
        self.has_late.store(true, Ordering::Release);
        true
    }

    /// MHD_resume_connection: thread-safe; wakes the serving loop.
    /// Returns false if the connection is not suspended.
    pub fn request_resume(&self) -> bool {
        // An upgraded connection may be woken without being suspended.
        if !self.suspended.load(Ordering::Acquire) && !self.upgraded.load(Ordering::Acquire) {
            return false;
        }
        self.resume_requested.store(true, Ordering::Release);
        self.waker.lock().unwrap_or_else(|e| e.into_inner()).wake.wake();
        true
    }

    /// MHD_set_connection_option's timeout: the state machine restarts
    /// the clock. Called outside `running` (from the application's own
    /// loop, say), the serving loop is told that a deadline moved.
    pub fn set_timeout(&self, seconds: u32) {
        self.timeout.set(seconds);
        self.timeout_changed.set(true);
        if !self.running.get() {
            self.waker.lock().unwrap_or_else(|e| e.into_inner()).deadlines_moved.store(true, Ordering::Relaxed);
        }
    }

    /// Moves resume wake-ups to another loop. The caller checks the resume
    /// flag afterwards: a resume that woke the old loop is not lost.
    pub fn set_waker(&self, waker: Arc<WorkerShared>) {
        *self.waker.lock().unwrap_or_else(|e| e.into_inner()) = waker;
    }

    /// The pointer C sees as `struct MHD_Connection *`.
    pub fn c_ptr(&self) -> *mut crate::ffi::abi::MHD_Connection {
        self as *const ConnShared as *mut crate::ffi::abi::MHD_Connection
    }

    /// `void **con_cls` for callbacks: the address of our cell.
    pub fn con_cls_ptr(&self) -> *mut *mut std::os::raw::c_void {
        self.con_cls.as_ptr().cast()
    }

    pub fn socket_context_ptr(&self) -> *mut *mut std::os::raw::c_void {
        self.socket_context.as_ptr().cast()
    }
}
