//! Storage for the info unions whose address `MHD_get_connection_info`
//! returns; it must live as long as the connection.

use super::abi::MHD_ConnectionInfo;
use std::cell::UnsafeCell;

pub struct InfoSlot(UnsafeCell<MHD_ConnectionInfo>);

impl Default for InfoSlot {
    fn default() -> Self {
        InfoSlot(UnsafeCell::new(MHD_ConnectionInfo { connection_timeout: 0 }))
    }
}

// SAFETY: the slot is written only by the thread that serves the connection
// (inside MHD_get_connection_info called from its callbacks), like the rest
// of the connection; it holds plain values and pointers we never dereference.
unsafe impl Send for InfoSlot {}

impl InfoSlot {
    /// Stores `v` and returns the address C may read it from.
    pub fn set(&self, v: MHD_ConnectionInfo) -> *const MHD_ConnectionInfo {
        // SAFETY: single-threaded access as explained above; no reference to
        // the contents is held across this write.
        unsafe { *self.0.get() = v };
        self.0.get()
    }
}
