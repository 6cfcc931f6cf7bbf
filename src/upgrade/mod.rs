//! The event-mask upgrade driver's bookkeeping (design/UPGRADE.md): which
//! events the handler asked for, when it is due again, and its output
//! buffer. The connection state machine does the I/O (`conn::upgraded`);
//! everything here is plain logic, tested without sockets.

#![forbid(unsafe_code)]

use crate::conn::Termination;
use crate::ffi::hooks::UpgradeHook;
use bitflags::bitflags;

bitflags! {
    /// The bits of `enum MHD_UpgradeEventMask`, decoded from the handler's
    /// return value (any combination is valid; unknown bits are ignored).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Mask: u32 {
        const READ = 1;
        const WRITE = 2;
        const EXTERNAL = 4;
        const CORK = 8;
    }
}

impl Mask {
    /// Whether the mask asks to be called again at all (CORK is not an event).
    pub fn wakes(self) -> bool {
        self.intersects(Mask::READ | Mask::WRITE | Mask::EXTERNAL)
    }
}

/// The smallest buffer each direction gets.
pub const MIN_BUFFER: usize = 4096;

/// Where the output window starts relative to the handler's input, modulo
/// 4 KiB (see `UpgradeState::make_room`).
const WINDOW_SKEW: usize = 2048;
const PAGE: usize = 4096;

pub struct UpgradeState {
    pub hook: UpgradeHook,
    /// Output not yet sent is `out[out_start..out_end]`, inside the window
    /// `out[base..base + cap]`; `out` has a page more than `cap` so that
    /// the window can move (`make_room`).
    pub out: Vec<u8>,
    pub out_start: usize,
    pub out_end: usize,
    base: usize,
    cap: usize,
    /// What the last call asked for.
    pub mask: Mask,
    /// The first call is still due.
    pub first: bool,
    /// The last call consumed no input: leftover input waits for new bytes.
    pub consumed_none: bool,
    /// Bytes arrived since the last call.
    pub new_input: bool,
    /// EXTERNAL: waiting for the end of the next loop round.
    ext_waiting: bool,
    ext_armed: bool,
    /// A call is due because of EXTERNAL or a resume.
    pub due: bool,
    /// CORK was asked: push the output out once it is handed to the OS.
    pub push_after_flush: bool,
    /// TCP_NODELAY is set on the socket (left by the last CORK push).
    pub nodelay: bool,
    /// The connection closes with this code once the output is flushed.
    pub ending: Option<Termination>,
    /// The handler has had its last call.
    pub finished: bool,
}

impl UpgradeState {
    pub fn new(hook: UpgradeHook, out_capacity: usize) -> UpgradeState {
        let cap = out_capacity.max(MIN_BUFFER);
        UpgradeState {
            hook,
            out: vec![0; cap + PAGE],
            out_start: 0,
            out_end: 0,
            base: 0,
            cap,
            mask: Mask::empty(),
            first: true,
            consumed_none: false,
            new_input: false,
            ext_waiting: false,
            ext_armed: false,
            due: false,
            push_after_flush: false,
            nodelay: false,
            ending: None,
            finished: false,
        }
    }

    pub fn pending_output(&self) -> &[u8] {
        &self.out[self.out_start..self.out_end]
    }

    pub fn has_output(&self) -> bool {
        self.out_end > self.out_start
    }

    /// Records that `n` output bytes went to the OS.
    pub fn sent(&mut self, n: usize) {
        self.out_start += n;
        if self.out_start == self.out_end {
            self.out_start = self.base;
            self.out_end = self.base;
        }
    }

    /// Before a handler call whose input starts at address `input`: moves
    /// pending output to the front of the window and returns the free
    /// space after it (at `out[out_end..]`).
    ///
    /// With no output pending, the window is first placed so that it
    /// starts `WINDOW_SKEW` bytes past the input modulo 4 KiB. A handler
    /// that copies `data_in` to `data_out` (an echo, a proxy) calls
    /// memcpy, which glibc runs with `rep movsb` for large sizes, and on
    /// AMD Zen CPUs that is many times slower when the destination lies a
    /// few bytes past the source modulo 4 KiB (glibc bug 30994): exactly
    /// where malloc puts the second of two equal buffers allocated in a
    /// row. Measured on this project's AMD EPYC machine for 64 KiB copies:
    /// 2.3 GB/s at a distance of 0x10, 42 GB/s from 0x20 to 0xc50; the
    /// upgrade echo ran at 49 % of a raw echo.
    pub fn make_room(&mut self, input: usize) -> usize {
        if self.out_start == self.out_end {
            let here = self.out.as_ptr() as usize;
            self.base = input.wrapping_add(WINDOW_SKEW).wrapping_sub(here) % PAGE;
            self.out_start = self.base;
            self.out_end = self.base;
        } else if self.out_start > self.base {
            self.out.copy_within(self.out_start..self.out_end, self.base);
            self.out_end -= self.out_start - self.base;
            self.out_start = self.base;
        }
        self.base + self.cap - self.out_end
    }

    pub fn free_space(&self) -> usize {
        self.cap - (self.out_end - self.out_start)
    }

    /// Whether the handler should be called now, given `avail` unconsumed
    /// input bytes. Never while the output buffer is full.
    pub fn should_call(&self, avail: usize) -> bool {
        if self.finished || self.ending.is_some() || self.free_space() == 0 {
            return false;
        }
        self.first
            || self.due
            || (self.mask.contains(Mask::READ) && avail > 0 && (self.new_input || !self.consumed_none))
            || self.mask.contains(Mask::WRITE)
    }

    /// Whether the connection should read from the socket now.
    pub fn wants_input(&self) -> bool {
        !self.finished && self.ending.is_none() && (self.first || self.mask.contains(Mask::READ))
    }

    /// Bookkeeping after a normal call that consumed `consumed` of `given`
    /// input bytes and returned `mask`.
    pub fn after_call(&mut self, consumed: usize, mask: Mask) {
        self.first = false;
        self.due = false;
        self.new_input = false;
        self.consumed_none = consumed == 0;
        self.mask = mask;
        self.ext_waiting = mask.contains(Mask::EXTERNAL);
        self.ext_armed = false;
        if mask.contains(Mask::CORK) {
            self.push_after_flush = true;
        }
        if !mask.wakes() {
            self.finished = true;
            self.ending = Some(Termination::CompletedOk);
        }
    }

    /// The event loop finished a round (`resumed`: the application called
    /// MHD_resume_connection). EXTERNAL makes the handler due at the end of
    /// the round after the one in which it asked.
    pub fn round_completed(&mut self, resumed: bool) {
        if self.finished {
            return;
        }
        if resumed {
            self.due = true;
        }
        if self.ext_waiting {
            if self.ext_armed {
                self.due = true;
                self.ext_waiting = false;
            } else {
                self.ext_armed = true;
            }
        }
    }

    /// A call made at the end of a round (from `round_completed`) asked for
    /// EXTERNAL again: that round is already over, so the next one counts.
    pub fn arm_external(&mut self) {
        if self.ext_waiting {
            self.ext_armed = true;
        }
    }

    /// Whether the state asks to be run again without any I/O event.
    pub fn busy(&self, avail: usize) -> bool {
        self.should_call(avail) || (self.ending.is_some() && !self.has_output())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" fn h(
        _: *mut std::os::raw::c_void,
        _: *mut crate::ffi::abi::MHD_Connection,
        _: *mut *mut std::os::raw::c_void,
        _: *mut usize,
        _: *const std::os::raw::c_char,
        _: *mut usize,
        _: *mut std::os::raw::c_char,
    ) -> u32 {
        0
    }

    fn state() -> UpgradeState {
        UpgradeState::new(UpgradeHook::new(Some(h), std::ptr::null_mut()).unwrap(), 16)
    }

    #[test]
    fn first_call_is_due_and_buffers_have_the_minimum() {
        let s = state();
        assert!(s.should_call(0));
        assert_eq!(s.free_space(), MIN_BUFFER);
    }

    #[test]
    fn read_waits_for_new_bytes_after_consuming_none() {
        let mut s = state();
        s.after_call(0, Mask::READ);
        assert!(!s.should_call(10), "leftover after a call that consumed none waits");
        s.new_input = true;
        assert!(s.should_call(10));
        s.after_call(4, Mask::READ);
        assert!(s.should_call(6), "leftover after a call that consumed some is offered again");
        assert!(!s.should_call(0));
    }

    #[test]
    fn write_is_due_while_there_is_room() {
        let mut s = state();
        s.after_call(0, Mask::WRITE);
        assert!(s.should_call(0));
        let room = s.make_room(0);
        s.out_end += room;
        assert!(!s.should_call(0), "never called while the output buffer is full");
        s.sent(1);
        assert!(s.should_call(0));
    }

    #[test]
    fn output_window_starts_half_a_page_past_the_input() {
        let mut s = state();
        let input = vec![0u8; 100];
        for at in [0usize, 1, 16, 4095] {
            let addr = input.as_ptr() as usize + at;
            let room = s.make_room(addr);
            assert_eq!(room, MIN_BUFFER, "the whole window is free");
            let dst = s.out[s.out_end..].as_ptr() as usize;
            assert_eq!(dst.wrapping_sub(addr) % PAGE, WINDOW_SKEW);
        }
    }

    #[test]
    fn pending_output_keeps_its_place_and_moves_to_the_window_front() {
        let mut s = state();
        let room = s.make_room(12345);
        let base = s.out_end;
        s.out[base..base + 3].copy_from_slice(b"abc");
        s.out_end += 3;
        s.sent(1);
        assert_eq!(s.free_space(), room - 2);
        // With output pending the window does not move, whatever the input.
        assert_eq!(s.make_room(999), room - 2);
        assert_eq!(s.pending_output(), b"bc");
        assert_eq!(s.out_start, base);
        s.sent(2);
        assert_eq!(s.free_space(), room);
        assert!(!s.has_output());
    }

    #[test]
    fn external_waits_for_the_next_round() {
        let mut s = state();
        s.after_call(0, Mask::EXTERNAL);
        assert!(!s.should_call(0));
        s.round_completed(false);
        assert!(!s.should_call(0), "the round in which it asked does not count");
        s.round_completed(false);
        assert!(s.should_call(0));
        // Called at the end of that round, it asks again: once per round.
        s.after_call(0, Mask::EXTERNAL);
        s.arm_external();
        assert!(!s.should_call(0));
        s.round_completed(false);
        assert!(s.should_call(0));
    }

    #[test]
    fn no_wake_bit_ends_and_cork_alone_ends_too() {
        let mut s = state();
        s.after_call(0, Mask::CORK);
        assert!(s.finished && s.push_after_flush);
        assert_eq!(s.ending, Some(Termination::CompletedOk));
        let mut s = state();
        s.after_call(0, Mask::READ | Mask::CORK);
        assert!(!s.finished && s.push_after_flush);
    }

    #[test]
    fn resume_makes_a_call_due() {
        let mut s = state();
        s.after_call(0, Mask::EXTERNAL);
        s.round_completed(true);
        assert!(s.should_call(0));
    }
}
