//! Deliberate panics, for the tests of the panic boundary
//! (capi-tests/test_panic.c). Compiled only with `--features
//! fault-injection` (`make fault`: build/fault/, never the shipped
//! library). A request asks for one with the header `X-MHD-Fault`:
//!
//! - `panic-in-handler-path`: the connection state machine panics right
//!   after parsing the request head (before the access handler);
//! - `panic-in-ffi`: `MHD_queue_response` panics when the application
//!   calls it for this request (a callback into C and back);
//! - `panic-in-event-loop`: the loop serving the connection panics after
//!   this round of the connection's work, outside its state machine (in a
//!   polling or pool thread, the accept thread, a connection's own thread,
//!   or the application's `MHD_run` in the external modes).

use std::cell::Cell;

/// The request header that carries the trigger.
pub const HEADER: &[u8] = b"x-mhd-fault";

thread_local! {
    static LOOP_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// Called with the `X-MHD-Fault` value once a request head is parsed.
pub fn on_request_head(value: Option<&[u8]>) {
    match value {
        Some(b"panic-in-handler-path") => panic!("fault injection: X-MHD-Fault: panic-in-handler-path"),
        Some(b"panic-in-event-loop") => LOOP_PANIC.with(|p| p.set(true)),
        _ => {}
    }
}

/// Called by the event loops between two rounds of connection work.
pub fn in_event_loop() {
    if LOOP_PANIC.with(|p| p.replace(false)) {
        panic!("fault injection: X-MHD-Fault: panic-in-event-loop");
    }
}

/// Called by `MHD_queue_response` with the request's `X-MHD-Fault` value.
pub fn in_queue_response(value: Option<&[u8]>) {
    if value == Some(b"panic-in-ffi") {
        panic!("fault injection: X-MHD-Fault: panic-in-ffi");
    }
}
