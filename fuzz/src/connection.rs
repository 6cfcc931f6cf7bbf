//! The whole connection state machine, through the library's public C API:
//! a daemon in external mode with `MHD_USE_NO_LISTEN_SOCKET`, one end of an
//! AF_UNIX socketpair handed over with `MHD_add_connection`, arbitrary
//! client bytes written in arbitrary pieces between `MHD_run` calls, and
//! arbitrary application decisions: queue a response now or on a later
//! call (buffer, callback of known or unknown size, with or without
//! `Connection: close`), consume all, part or none of the upload, suspend
//! and resume later, fail, or upgrade (101) with random event masks and
//! random consumed/produced counts.
//!
//! Input: a config byte, a memory-limit byte, a u16 client length, the
//! client bytes, then the decision bytes (zeros once exhausted: the plain
//! path, so every input ends).
//!
//! Invariants checked:
//! - the server's output parses as HTTP/1.1 responses, each framed one way
//!   only (never Content-Length with Transfer-Encoding, never two lengths),
//!   with exactly the status and body the application queued (none for
//!   HEAD, 204, 304; a 101 has no framing fields);
//! - no request is answered twice: responses carry the id of the request
//!   they answer (`X-Fuzz-Id`), ids strictly increase, only requests the
//!   handler saw are answered, and at most one response without an id (an
//!   error the library sent itself: status >= 400, `Connection: close`,
//!   the last bytes of the stream); the handler sees at most as many
//!   requests as the client bytes contain blank lines;
//! - bytes after a `Connection: close` response are never processed: no
//!   later request reaches the handler and nothing follows it on the wire;
//! - every request the handler saw is completed exactly once
//!   (`MHD_OPTION_NOTIFY_COMPLETED`) by the time `MHD_stop_daemon` returns;
//! - consumed counts never exceed what was offered, and what is left
//!   unconsumed is offered again first (access handler upload data and
//!   upgrade handler `data_in`); upgraded input is part of the client's
//!   bytes, the output after the 101 is exactly what the upgrade handler
//!   produced, the handler is never called after it ended the connection,
//!   gets `data_in == NULL` at most once, and `*data_out_size > 0` on
//!   every normal call;
//! - memory: the heap the library holds while serving the connection
//!   (counted by the global allocator in `crate::alloc`) stays within
//!   [`MEM_FACTOR`] × `MHD_OPTION_CONNECTION_MEMORY_LIMIT` + [`MEM_FIXED`];
//! - the socket handed over is closed when the daemon stops.

use crate::{alloc, Input};
use core::ffi::{c_char, c_int, c_uint, c_void};
use libc::size_t;
use microhttpd::ffi::abi::*;
use microhttpd::ffi::connection::{MHD_queue_response, MHD_resume_connection, MHD_suspend_connection};
use microhttpd::ffi::daemon::{mhd_rs_start_daemon, MHD_add_connection, MHD_stop_daemon};
use microhttpd::ffi::external::MHD_run;
use microhttpd::ffi::response::{
    MHD_add_response_header, MHD_create_response_for_upgrade, MHD_create_response_from_buffer,
    MHD_create_response_from_callback, MHD_destroy_response,
};
use std::cell::RefCell;

/// Memory bound: live heap growth while the connection is served must stay
/// below `MEM_FACTOR * limit + MEM_FIXED` bytes.
pub const MEM_FACTOR: usize = 6;
pub const MEM_FIXED: usize = 64 * 1024;

const MAX_ROUNDS: usize = 400;
const MAX_UPGRADE_CALLS: usize = 64;
const OUT_CAP: usize = 512 * 1024;

/// One request as the access handler saw it.
#[derive(Default)]
struct Req {
    head: bool,
    /// Upload bytes offered and not consumed by the last call (offered again first).
    pending: Vec<u8>,
    /// What was queued: (status, body length, close asked by the app, upgrade).
    /// The body is `body_for(id, len)`: not kept, so the harness's own
    /// memory stays out of the library's measurement.
    queued: Option<(u32, usize, bool, bool)>,
    completions: u32,
}

#[derive(Default)]
struct Upgrade {
    active: bool,
    ended_by_handler: bool,
    final_calls: u32,
    calls: usize,
    /// Offered and not consumed by the last call.
    pending: Vec<u8>,
    consumed: usize,
    produced: Vec<u8>,
    external: bool,
}

#[derive(Default)]
struct State {
    dec: Vec<u8>,
    pos: usize,
    reqs: Vec<Req>,
    suspended: Vec<usize>,
    up: Upgrade,
    upload_consumed: usize,
    /// The client's bytes, and how far consumed upload data and upgraded
    /// input have been matched in them (see `advance`): no byte is
    /// delivered twice, nothing that the client did not send.
    client: Vec<u8>,
    cursor: usize,
    violations: Vec<String>,
    activity: usize,
}

impl State {
    fn next(&mut self) -> u8 {
        let b = self.dec.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    /// Everything consumed so far, in order, must be a subsequence of the
    /// client's bytes (a chunked body's payload skips its framing, so it
    /// is not a substring); greedy leftmost matching decides that exactly.
    fn advance(&mut self, piece: &[u8], what: &str) {
        for (k, &b) in piece.iter().enumerate() {
            match self.client[self.cursor..].iter().position(|&x| x == b) {
                Some(i) => self.cursor += i + 1,
                None => {
                    let msg = format!(
                        "{what}: consumed bytes are not in what the client sent (delivered twice?) at byte {k} of {:?}",
                        String::from_utf8_lossy(&piece[..piece.len().min(40)])
                    );
                    return self.violate(msg);
                }
            }
        }
    }
    fn violate(&mut self, msg: String) {
        if self.violations.len() < 8 {
            self.violations.push(msg);
        }
    }
}

thread_local! {
    static ST: RefCell<State> = RefCell::new(State::default());
}

/// FUZZ_TRACE=1: print what the application sees (for triage).
fn trace() -> bool {
    static T: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *T.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

fn body_for(id: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + ((id * 7 + i) % 26) as u8).collect()
}

/// A content reader's closure: the body and how it is handed out.
struct Reader {
    body: Vec<u8>,
    step: usize,
}

unsafe extern "C" fn reader(cls: *mut c_void, pos: u64, buf: *mut c_char, max: size_t) -> isize {
    // SAFETY: cls is the Box<Reader> given to MHD_create_response_from_callback.
    let r = unsafe { &*(cls as *const Reader) };
    let pos = pos as usize;
    if pos >= r.body.len() {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    let n = (r.body.len() - pos).min(max).min(r.step);
    // SAFETY: the library gives `max` writable bytes at buf.
    unsafe { std::ptr::copy_nonoverlapping(r.body[pos..].as_ptr(), buf.cast::<u8>(), n) };
    n as isize
}

unsafe extern "C" fn free_reader(cls: *mut c_void) {
    // SAFETY: the Box leaked in queue(); the library frees it once.
    drop(unsafe { Box::from_raw(cls as *mut Reader) });
}

fn add_header(r: *mut MHD_Response, n: &str, v: &str) {
    let (n, v) = (std::ffi::CString::new(n).expect("name"), std::ffi::CString::new(v).expect("value"));
    // SAFETY: a live response and NUL-terminated strings.
    unsafe { MHD_add_response_header(r, n.as_ptr(), v.as_ptr()) };
}

/// Queues a normal response for request `id`; returns the handler result.
fn queue(st: &mut State, conn: *mut MHD_Connection, id: usize) -> c_int {
    let kind = st.next() % 4;
    let status = [200u32, 200, 404, 500, 204, 304][usize::from(st.next()) % 6];
    let len = if status == 204 || status == 304 { 0 } else { usize::from(st.next()) * 3 };
    let close = st.next() & 1 == 1;
    let r = match kind {
        0 | 1 => {
            // SAFETY: MUST_COPY: the library copies the bytes now.
            let body = body_for(id, len);
            unsafe { MHD_create_response_from_buffer(len, body.as_ptr() as *mut c_void, MHD_ResponseMemoryMode::MHD_RESPMEM_MUST_COPY as c_int) }
        }
        _ => {
            let size = if kind == 2 { MHD_SIZE_UNKNOWN } else { len as u64 };
            let step = usize::from(st.next() % 64) * 8 + 1;
            let cls = Box::into_raw(Box::new(Reader { body: body_for(id, len), step }));
            // SAFETY: reader/free_reader follow the content reader contract.
            unsafe { MHD_create_response_from_callback(size, 256, Some(reader), cls.cast(), Some(free_reader)) }
        }
    };
    if r.is_null() {
        st.violate("response creation failed".into());
        return MHD_NO;
    }
    add_header(r, "X-Fuzz-Id", &id.to_string());
    if close {
        add_header(r, "Connection", "close");
    }
    // SAFETY: called from the access handler with its connection.
    let ok = unsafe { MHD_queue_response(conn, status, r) };
    // SAFETY: our reference; the library keeps its own.
    unsafe { MHD_destroy_response(r) };
    if ok == MHD_Result::MHD_YES {
        if st.reqs[id].queued.is_some() {
            st.violate(format!("request {id}: a second response was accepted"));
        }
        st.reqs[id].queued = Some((status, len, close, false));
        MHD_YES
    } else {
        // Refused (e.g. queued twice): nothing changes.
        MHD_YES
    }
}

/// Tries to switch protocols; falls back to a normal response when refused.
fn upgrade(st: &mut State, conn: *mut MHD_Connection, id: usize) -> c_int {
    // SAFETY: a valid handler; the closure is unused (state is thread-local).
    let r = unsafe { MHD_create_response_for_upgrade(Some(upgrade_handler), std::ptr::null_mut()) };
    if r.is_null() {
        st.violate("upgrade response creation failed".into());
        return MHD_NO;
    }
    add_header(r, "Upgrade", "fuzz");
    add_header(r, "X-Fuzz-Id", &id.to_string());
    // SAFETY: called from the access handler with its connection.
    let ok = unsafe { MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r) };
    // SAFETY: our reference.
    unsafe { MHD_destroy_response(r) };
    if ok == MHD_Result::MHD_YES {
        st.reqs[id].queued = Some((101, 0, false, true));
        MHD_YES
    } else {
        queue(st, conn, id)
    }
}

const MHD_YES: c_int = MHD_Result::MHD_YES as c_int;
const MHD_NO: c_int = MHD_Result::MHD_NO as c_int;

unsafe extern "C" fn handler(
    _cls: *mut c_void,
    conn: *mut MHD_Connection,
    _url: *const c_char,
    method: *const c_char,
    _version: *const c_char,
    upload: *const c_char,
    upload_size: *mut size_t,
    con_cls: *mut *mut c_void,
) -> c_int {
    ST.with(|st| {
        let st = &mut *st.borrow_mut();
        st.activity += 1;
        // SAFETY: the library passes valid pointers for the call's duration.
        let (cc, size) = unsafe { (*con_cls as usize, *upload_size) };
        if cc == 0 {
            // A new request.
            // SAFETY: method is a NUL-terminated string.
            let m = unsafe { std::ffi::CStr::from_ptr(method) }.to_bytes() == b"HEAD";
            let n = st.reqs.len();
            match st.reqs.last().map(|l| l.queued.map(|q| q.2)) {
                Some(Some(true)) => st.violate(format!("request {n} reached the handler after a Connection: close response")),
                Some(None) => st.violate(format!("request {n} began before request {} was answered", n - 1)),
                _ => {}
            }
            st.reqs.push(Req { head: m, ..Req::default() });
            let id = st.reqs.len() - 1;
            // SAFETY: con_cls storage is ours for this request.
            unsafe { *con_cls = (id + 1) as *mut c_void };
            if size != 0 {
                st.violate("upload data on the first call".into());
            }
            return match st.next() % 8 {
                4 => queue(st, conn, id),
                5 => {
                    // SAFETY: our connection, inside its handler.
                    unsafe { MHD_suspend_connection(conn) };
                    st.suspended.push(conn as usize);
                    MHD_YES
                }
                6 => MHD_NO,
                7 => upgrade(st, conn, id),
                _ => MHD_YES,
            };
        }
        let id = cc - 1;
        if id >= st.reqs.len() {
            st.violate(format!("unknown con_cls {cc}"));
            return MHD_NO;
        }
        if st.reqs[id].queued.is_some() {
            st.violate(format!("request {id}: handler called after its response was queued"));
        }
        if size > 0 {
            // SAFETY: `size` readable bytes at upload.
            let data = unsafe { std::slice::from_raw_parts(upload.cast::<u8>(), size) };
            if trace() {
                eprintln!("upload call: request {id}, {size} bytes: {:?}", String::from_utf8_lossy(data));
            }
            let pend = std::mem::take(&mut st.reqs[id].pending);
            if !data.starts_with(&pend) {
                st.violate(format!("request {id}: unconsumed upload bytes not offered again first"));
            }
            let d = st.next();
            let keep = match d % 8 {
                5 => size - usize::from(st.next()) % (size + 1),
                6 => return queue(st, conn, id),
                7 => {
                    // SAFETY: our connection, inside its handler.
                    unsafe { MHD_suspend_connection(conn) };
                    st.suspended.push(conn as usize);
                    0
                }
                _ => 0,
            };
            st.upload_consumed += size - keep;
            st.advance(&data[..size - keep], "upload");
            st.reqs[id].pending = data[size - keep..].to_vec();
            // SAFETY: the library's in/out count.
            unsafe { *upload_size = keep };
            return MHD_YES;
        }
        match st.next() % 8 {
            4 => MHD_YES, // answer on a later call
            5 => {
                // SAFETY: our connection, inside its handler.
                unsafe { MHD_suspend_connection(conn) };
                st.suspended.push(conn as usize);
                MHD_YES
            }
            6 => MHD_NO,
            7 => upgrade(st, conn, id),
            _ => queue(st, conn, id),
        }
    })
}

unsafe extern "C" fn upgrade_handler(
    _cls: *mut c_void,
    conn: *mut MHD_Connection,
    _con_cls: *mut *mut c_void,
    data_in_size: *mut size_t,
    data_in: *const c_char,
    data_out_size: *mut size_t,
    data_out: *mut c_char,
) -> c_uint {
    ST.with(|st| {
        let st = &mut *st.borrow_mut();
        st.activity += 1;
        let up = &mut st.up;
        if up.ended_by_handler {
            up.active = false;
            st.violate("upgrade handler called after it ended the connection".into());
            return 0;
        }
        up.active = true;
        up.calls += 1;
        // SAFETY: valid in/out counts for the call.
        let (in_size, out_size) = unsafe { (*data_in_size, *data_out_size) };
        if data_in.is_null() {
            st.up.final_calls += 1;
            if st.up.final_calls > 1 {
                st.violate("upgrade handler got data_in == NULL twice".into());
            }
            if in_size != 0 {
                st.violate("data_in == NULL with a size".into());
            }
            // SAFETY: the library's out count.
            unsafe { *data_out_size = 0 };
            return 0;
        }
        if st.up.final_calls > 0 {
            st.violate("upgrade handler called after its final call".into());
        }
        if out_size == 0 {
            st.violate("upgrade handler called with no output space".into());
        }
        // SAFETY: `in_size` readable bytes at data_in.
        let data = unsafe { std::slice::from_raw_parts(data_in.cast::<u8>(), in_size) };
        let pend = std::mem::take(&mut st.up.pending);
        if !data.starts_with(&pend) {
            st.violate("unconsumed upgrade input not offered again first".into());
        }
        let d = st.next();
        let take = if d & 1 == 0 { in_size } else { usize::from(st.next()) % (in_size + 1) };
        let give = (usize::from(st.next()) * 3).min(out_size);
        let mut mask = c_uint::from(st.next()) & 0xf;
        if st.up.calls >= MAX_UPGRADE_CALLS {
            mask = 0;
        }
        st.up.consumed += take;
        st.advance(&data[..take], "upgraded input");
        st.up.pending = data[take..].to_vec();
        let n = st.up.produced.len();
        let out: Vec<u8> = (0..give).map(|i| b'A' + ((n + i) % 26) as u8).collect();
        // SAFETY: `out_size` >= give writable bytes at data_out.
        unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), data_out.cast::<u8>(), give) };
        st.up.produced.extend_from_slice(&out);
        // SAFETY: the library's in/out counts.
        unsafe {
            *data_in_size = take;
            *data_out_size = give;
        }
        if mask & 7 == 0 {
            st.up.ended_by_handler = true;
        }
        st.up.external = mask & 4 != 0;
        if st.up.external {
            st.suspended.push(conn as usize | 1);
        }
        mask
    })
}

unsafe extern "C" fn completed(_cls: *mut c_void, c: *mut MHD_Connection, con_cls: *mut *mut c_void, _toe: MHD_RequestTerminationCode) {
    ST.with(|st| {
        let st = &mut *st.borrow_mut();
        st.activity += 1;
        // The connection may be freed after this: never resume it again.
        st.suspended.retain(|&x| x & !1 != c as usize);
        // SAFETY: the request's con_cls storage.
        let cc = unsafe { *con_cls } as usize;
        match cc.checked_sub(1).filter(|&i| i < st.reqs.len()) {
            Some(i) => st.reqs[i].completions += 1,
            None => st.violate(format!("completion for unknown con_cls {cc}")),
        }
    })
}

/// One parsed response.
#[derive(Debug)]
struct Resp {
    status: u32,
    id: Option<usize>,
    close: bool,
    body: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses the server's output. Returns the responses, the bytes after a
/// 101 (if any), and an error text for a framing violation. `complete`:
/// the exchange ended normally, so no response may be cut short.
fn parse_output(out: &[u8], reqs: &[Req], complete: bool) -> Result<(Vec<Resp>, Option<Vec<u8>>), String> {
    let mut resps = Vec::new();
    let mut p = 0;
    while p < out.len() {
        let rest = &out[p..];
        if !(rest.starts_with(b"HTTP/1.1 ") || rest.starts_with(b"HTTP/1.0 ")) {
            if !complete && b"HTTP/1.1 ".starts_with(&rest[..rest.len().min(9)]) {
                break;
            }
            return Err(format!("garbage where a response must start: {:?}", String::from_utf8_lossy(&rest[..rest.len().min(60)])));
        }
        let Some(he) = find(rest, b"\r\n\r\n") else {
            if complete {
                return Err("response head cut short".into());
            }
            break;
        };
        let head = &rest[..he];
        let status: u32 = std::str::from_utf8(&head[9..12.min(head.len())]).ok().and_then(|s| s.parse().ok()).ok_or("bad status")?;
        let mut cl: Vec<u64> = Vec::new();
        let mut te: Vec<Vec<u8>> = Vec::new();
        let mut close = false;
        let mut id = None;
        for line in rest[..he + 2].split(|&b| b == b'\n').skip(1) {
            if line.is_empty() {
                continue; // after the last line's LF
            }
            let line = line.strip_suffix(b"\r").ok_or("bare LF in a response head")?;
            let c = line.iter().position(|&b| b == b':').ok_or("header line without a colon")?;
            let (n, v) = (&line[..c], line[c + 1..].trim_ascii());
            if n.eq_ignore_ascii_case(b"content-length") {
                cl.push(std::str::from_utf8(v).ok().and_then(|s| s.parse().ok()).ok_or("bad Content-Length")?);
            } else if n.eq_ignore_ascii_case(b"transfer-encoding") {
                te.push(v.to_vec());
            } else if n.eq_ignore_ascii_case(b"connection") {
                close |= v.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
            } else if n.eq_ignore_ascii_case(b"x-fuzz-id") {
                if id.is_some() {
                    return Err("two X-Fuzz-Id fields".into());
                }
                id = std::str::from_utf8(v).ok().and_then(|s| s.parse::<usize>().ok());
            }
        }
        if !cl.is_empty() && !te.is_empty() {
            return Err(format!("status {status}: framed two ways (Content-Length and Transfer-Encoding)"));
        }
        if cl.len() > 1 || te.len() > 1 {
            return Err(format!("status {status}: framing field repeated"));
        }
        p += he + 4;
        if (100..200).contains(&status) {
            if status == 101 {
                if !cl.is_empty() || !te.is_empty() {
                    return Err("101 with framing fields".into());
                }
                resps.push(Resp { status, id, close, body: Vec::new() });
                return Ok((resps, Some(out[p..].to_vec())));
            }
            if id.is_some() {
                return Err(format!("interim {status} carries a request id"));
            }
            continue;
        }
        // The request answered: the one named by the id, or for an error
        // the library sent itself, the last one the handler saw if it is
        // still unanswered (a body error after the head was accepted).
        let answered = resps.iter().filter(|r: &&Resp| r.id.is_some()).count();
        let target = id.or_else(|| (reqs.len() > answered).then(|| reqs.len() - 1));
        let no_body = status == 204 || status == 304 || target.is_some_and(|i| reqs.get(i).is_some_and(|r| r.head));
        let body = if no_body {
            Vec::new()
        } else if let Some(&n) = cl.first() {
            let n = n as usize;
            if out.len() - p < n {
                if complete {
                    return Err(format!("status {status}: body cut short ({} of {n})", out.len() - p));
                }
                break;
            }
            p += n;
            out[p - n..p].to_vec()
        } else if let Some(t) = te.first() {
            if !t.eq_ignore_ascii_case(b"chunked") {
                return Err(format!("transfer coding {:?}", String::from_utf8_lossy(t)));
            }
            let mut body = Vec::new();
            loop {
                let Some(le) = find(&out[p..], b"\r\n") else {
                    if complete {
                        return Err("chunk size line cut short".into());
                    }
                    return Ok((resps, None));
                };
                let line = &out[p..p + le];
                let hex = line.split(|&b| b == b';').next().unwrap_or(b"");
                let n = usize::from_str_radix(std::str::from_utf8(hex).map_err(|_| "chunk size")?, 16).map_err(|_| format!("chunk size {:?}", String::from_utf8_lossy(line)))?;
                p += le + 2;
                if n == 0 {
                    // Trailer section up to the empty line.
                    let Some(te) = find(&out[p - 2..], b"\r\n\r\n") else {
                        if complete {
                            return Err("last chunk cut short".into());
                        }
                        return Ok((resps, None));
                    };
                    p = p - 2 + te + 4;
                    break;
                }
                if out.len() - p < n + 2 {
                    if complete {
                        return Err("chunk cut short".into());
                    }
                    return Ok((resps, None));
                }
                body.extend_from_slice(&out[p..p + n]);
                if &out[p + n..p + n + 2] != b"\r\n" {
                    return Err("chunk data not followed by CRLF".into());
                }
                p += n + 2;
            }
            body
        } else {
            // Delimited by the close.
            let b = out[p..].to_vec();
            p = out.len();
            if !close && !head.starts_with(b"HTTP/1.0") {
                return Err(format!("status {status}: close-delimited body without Connection: close"));
            }
            b
        };
        resps.push(Resp { status, id, close, body });
    }
    Ok((resps, None))
}

fn sockaddr() -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 4242u16.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from_be_bytes([127, 0, 0, 1]).to_be() },
        sin_zero: [0; 8],
    }
}

fn read_all(fd: c_int, out: &mut Vec<u8>) -> bool {
    let mut eof = false;
    loop {
        if out.len() >= OUT_CAP {
            break;
        }
        let room = (OUT_CAP - out.len()).min(65536);
        let old = out.len();
        // SAFETY: the Vec has `room` spare capacity (preallocated OUT_CAP).
        let n = unsafe {
            let r = libc::read(fd, out.as_mut_ptr().add(old).cast(), room);
            if r > 0 {
                out.set_len(old + r as usize);
            }
            r
        };
        if n == 0 {
            eof = true;
            break;
        }
        if n < 0 {
            break;
        }
        ST.with(|s| s.borrow_mut().activity += 1);
    }
    eof
}

fn check(ok: bool, msg: impl FnOnce() -> String) {
    if !ok {
        panic!("connection invariant: {}", msg());
    }
}

pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let cfg = inp.u8();
    let limit = 1024 + usize::from(inp.u8()) * 64;
    let n = usize::from(inp.u16());
    let client = inp.take(n);
    let dec = inp.rest();
    ST.with(|s| {
        *s.borrow_mut() = State { dec: dec.to_vec(), client: client.to_vec(), ..State::default() };
        let st = &mut *s.borrow_mut();
        st.reqs.reserve(client.len() / 16 + 8);
        st.up.produced.reserve(64 * 1024);
    });

    let mut flags = MHD_FLAG::MHD_USE_NO_LISTEN_SOCKET as c_uint;
    if cfg & 1 != 0 {
        flags |= MHD_FLAG::MHD_USE_EPOLL as c_uint;
    }
    if cfg & 2 != 0 {
        flags |= MHD_FLAG::MHD_USE_PEDANTIC_CHECKS as c_uint;
    }
    let completed_fn: unsafe extern "C" fn(*mut c_void, *mut MHD_Connection, *mut *mut c_void, MHD_RequestTerminationCode) = completed;
    let opts = [
        MHD_OptionItem { option: MHD_OPTION::MHD_OPTION_CONNECTION_MEMORY_LIMIT as c_int, value: limit as isize, ptr_value: std::ptr::null_mut() },
        MHD_OptionItem { option: MHD_OPTION::MHD_OPTION_NOTIFY_COMPLETED as c_int, value: completed_fn as usize as isize, ptr_value: std::ptr::null_mut() },
        MHD_OptionItem { option: MHD_OPTION::MHD_OPTION_END as c_int, value: 0, ptr_value: std::ptr::null_mut() },
    ];
    // SAFETY: a valid option array of 2 items plus END; handler has the
    // access handler's signature.
    let daemon = unsafe { mhd_rs_start_daemon(flags, 0, None, std::ptr::null_mut(), Some(handler), std::ptr::null_mut(), opts.as_ptr(), 2) };
    assert!(!daemon.is_null(), "MHD_start_daemon failed");

    let mut fds = [0 as c_int; 2];
    // SAFETY: fds has room for two descriptors.
    let rc = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "socketpair");
    let (srv, cli) = (fds[0], fds[1]);
    let mut out: Vec<u8> = Vec::with_capacity(OUT_CAP);

    let base = alloc::live();
    alloc::reset_peak();
    let addr = sockaddr();
    // SAFETY: a live daemon, a connected socket and a sockaddr_in.
    let added = unsafe { MHD_add_connection(daemon, srv, (&addr as *const libc::sockaddr_in).cast(), std::mem::size_of::<libc::sockaddr_in>() as u32) };
    assert_eq!(added, MHD_Result::MHD_YES, "MHD_add_connection");

    let mut sent = 0;
    let mut shut = false;
    let mut quiet = 0;
    let mut quiesced = false;
    let mut eof = false;
    for _ in 0..MAX_ROUNDS {
        let (d, r) = ST.with(|s| {
            let st = &mut *s.borrow_mut();
            (st.next(), st.next())
        });
        if sent < client.len() {
            let k = if d == 0 { client.len() - sent } else { (usize::from(d) * 5).min(client.len() - sent) };
            // SAFETY: k readable bytes of client data.
            // MSG_NOSIGNAL: the server may have closed; SIGPIPE stays at its
            // default so that one raised by the library kills the run.
            let w = unsafe { libc::send(cli, client[sent..].as_ptr().cast(), k, libc::MSG_NOSIGNAL) };
            if w > 0 {
                sent += w as usize;
            }
        } else if !shut && cfg & 4 != 0 {
            // SAFETY: our socket.
            unsafe { libc::shutdown(cli, libc::SHUT_WR) };
            shut = true;
        }
        if r & 1 == 0 {
            let list = ST.with(|s| std::mem::take(&mut s.borrow_mut().suspended));
            for c in list {
                // SAFETY: a connection this daemon handed to the handler, still alive
                // (the daemon is running; resuming a closed one is refused by handle checks).
                unsafe { MHD_resume_connection((c & !1) as *mut MHD_Connection) };
            }
        }
        let before = ST.with(|s| s.borrow().activity);
        // SAFETY: a live daemon in external mode.
        unsafe { MHD_run(daemon) };
        eof |= read_all(cli, &mut out);
        if let Some(v) = ST.with(|s| s.borrow().violations.first().cloned()) {
            panic!("connection invariant: {v}");
        }
        let after = ST.with(|s| s.borrow().activity);
        let suspended = ST.with(|s| !s.borrow().suspended.is_empty());
        if after == before && sent == client.len() && !suspended {
            quiet += 1;
            if quiet >= 3 {
                quiesced = true;
                break;
            }
        } else {
            quiet = 0;
        }
        if eof {
            quiesced = true;
            break;
        }
    }
    // Resume whatever is still suspended and let it finish (bounded).
    for _ in 0..20 {
        let list = ST.with(|s| std::mem::take(&mut s.borrow_mut().suspended));
        for c in &list {
            // SAFETY: as above.
            unsafe { MHD_resume_connection((c & !1) as *mut MHD_Connection) };
        }
        let before = ST.with(|s| s.borrow().activity);
        // SAFETY: a live daemon in external mode.
        unsafe { MHD_run(daemon) };
        eof |= read_all(cli, &mut out);
        if let Some(v) = ST.with(|s| s.borrow().violations.first().cloned()) {
            panic!("connection invariant: {v}");
        }
        if list.is_empty() && ST.with(|s| s.borrow().activity) == before {
            break;
        }
    }
    let _ = eof;
    let grown = alloc::peak().saturating_sub(base);
    check(grown <= MEM_FACTOR * limit + MEM_FIXED, || format!("{grown} heap bytes held for a {limit}-byte connection memory limit"));
    if std::env::var_os("FUZZ_MEM_DEBUG").is_some() {
        eprintln!("mem: limit {limit} grown {grown} ratio {:.2}", grown as f64 / limit as f64);
    }

    // SAFETY: the daemon from mhd_rs_start_daemon, stopped once.
    unsafe { MHD_stop_daemon(daemon) };
    read_all(cli, &mut out);
    // SAFETY: srv was handed to the daemon, which must have closed it.
    let still_open = unsafe { libc::fcntl(srv, libc::F_GETFD) } != -1;
    // SAFETY: our end.
    unsafe { libc::close(cli) };
    check(!still_open, || "the daemon left the client socket open".into());

    let st = ST.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if let Some(v) = st.violations.first() {
        panic!("connection invariant: {v}");
    }
    let terminators = client.windows(2).filter(|w| w == b"\n\n").count() + client.windows(3).filter(|w| w == b"\n\r\n").count();
    check(st.reqs.len() <= terminators, || format!("{} requests seen, the client sent at most {terminators}", st.reqs.len()));
    check(st.upload_consumed <= client.len(), || "more upload bytes consumed than the client sent".into());
    for (i, r) in st.reqs.iter().enumerate() {
        check(r.completions == 1, || format!("request {i} completed {} times", r.completions));
    }
    if out.len() >= OUT_CAP {
        return; // cut by our buffer: the framing checks would be unsound
    }
    let (resps, upgraded) = parse_output(&out, &st.reqs, quiesced).unwrap_or_else(|e| panic!("connection invariant: {e}\noutput: {:?}", String::from_utf8_lossy(&out[..out.len().min(2000)])));
    let mut last_id: Option<usize> = None;
    for (k, r) in resps.iter().enumerate() {
        let is_last = k + 1 == resps.len();
        match r.id {
            Some(id) => {
                check(last_id.map_or(true, |l| id > l), || format!("response for request {id} after one for {last_id:?}: answered twice or out of order"));
                last_id = Some(id);
                let q = st.reqs.get(id).and_then(|q| q.queued.as_ref());
                let Some(&(status, len, _, _)) = q else { panic!("connection invariant: a response for request {id}, which was never answered") };
                let body = body_for(id, len);
                let status = &status;
                let body = &body;
                check(r.status == *status, || format!("request {id}: status {} sent, {status} queued", r.status));
                let no_body = st.reqs[id].head || *status == 204 || *status == 304 || *status == 101;
                if !no_body && !(is_last && !quiesced) {
                    check(&r.body == body, || format!("request {id}: body of {} bytes sent, {} queued", r.body.len(), body.len()));
                }
                if r.close {
                    check(is_last, || format!("a response follows the Connection: close response to request {id}"));
                    check(st.reqs.len() == id + 1, || format!("request {} reached the handler after Connection: close", id + 1));
                }
            }
            None => {
                check(r.status >= 400, || format!("a response without id has status {}", r.status));
                check(r.close, || "an error response without Connection: close".into());
                check(is_last, || "a response follows an error response".into());
                let answered = resps.iter().filter(|x| x.id.is_some()).count();
                check(st.reqs.len() <= answered + 1, || format!("{} requests seen, {answered} answered before the error", st.reqs.len()));
            }
        }
    }
    check(resps.iter().filter(|r| r.status >= 200 || r.status == 101).count() <= st.reqs.len() + 1, || "more responses than requests".into());
    if let Some(after) = upgraded {
        let up = &st.up;
        check(up.produced.starts_with(&after), || format!("output after the 101 ({} bytes) is not what the handler produced ({} bytes)", after.len(), up.produced.len()));
        if up.ended_by_handler && quiesced {
            check(after == up.produced, || format!("handler ended the connection: {} of {} produced bytes sent", after.len(), up.produced.len()));
        }
    } else {
        check(st.up.calls == 0, || "upgrade handler called without a 101 on the wire".into());
    }
}
