//! The bodies of the fuzz targets, with their invariants.
//!
//! Each module has `run(data)`: the same function is called by the
//! `cargo fuzz` binary in `fuzz_targets/` (under libFuzzer) and by
//! `tests/replay.rs`, which feeds it every file of `corpus/<target>/` on
//! stable without libFuzzer (`make check`). A broken invariant panics.
//!
//! Inputs are decoded with the small [`Input`] reader rather than the
//! `arbitrary` crate: the layouts are simple and this keeps the harness
//! free of one more dependency.

pub mod alloc;
pub mod auth;
pub mod chunked;
pub mod connection;
pub mod post_processor;
pub mod request_head;
pub mod tls_priorities;
pub mod unescape;

/// Every target, by its name (the corpus directory name).
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("request_head", request_head::run),
    ("chunked", chunked::run),
    ("post_processor", post_processor::run),
    ("auth", auth::run),
    ("unescape", unescape::run),
    ("tls_priorities", tls_priorities::run),
    ("connection", connection::run),
];

/// A cursor over the fuzz input; reading past the end yields zeros, so
/// every input decodes to something.
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, pos: 0 }
    }
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = (self.pos + 1).min(self.data.len());
        b
    }
    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }
    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }
    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let end = self.pos.saturating_add(n).min(self.data.len());
        let s = &self.data[self.pos..end];
        self.pos = end;
        s
    }
    /// A length-prefixed (one byte) piece.
    pub fn piece(&mut self) -> &'a [u8] {
        let n = self.u8() as usize;
        self.take(n)
    }
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(usize::MAX)
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// Cut points for `len` bytes chosen by `seed`: 0 to a few, sorted, within
/// `0..=len`. Fed to the incremental parsers to check that the result does
/// not depend on how the bytes arrive.
pub fn cuts(seed: &[u8], len: usize) -> Vec<usize> {
    let mut v: Vec<usize> = seed
        .chunks(2)
        .map(|c| {
            let x = usize::from(c[0]) | (usize::from(*c.get(1).unwrap_or(&0)) << 8);
            if len == 0 { 0 } else { x % (len + 1) }
        })
        .collect();
    v.sort_unstable();
    v
}
