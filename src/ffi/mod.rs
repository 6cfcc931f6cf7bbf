//! The C ABI: the only home (with `sys`) of `extern "C"`, raw C pointers and
//! `unsafe`. Every `unsafe` block carries a `// SAFETY:` comment.
//!
//! - `abi`: `repr(C)` types and numeric constants (source of the header)
//! - `names`: string constants (header names, methods, ...)
//! - `guard`: the panic boundary, `MHD_set_panic_func`
//! - `fault`: deliberate panics for tests (feature `fault-injection` only)
//! - `options`: typed decoding of daemon options
//! - `shim`: Rust side of the C shim helpers (external logger calls)
//! - `misc`: `MHD_get_version`, `MHD_free`
#![allow(unsafe_code)]
#![allow(non_snake_case)]

pub mod abi;
pub mod auth;
pub mod connection;
pub mod daemon;
pub mod external;
/// cbindgen:ignore
#[cfg(feature = "fault-injection")]
pub mod fault;
/// cbindgen:ignore
pub mod foreign;
/// cbindgen:ignore
pub mod handles;
/// cbindgen:ignore
pub mod hooks;
/// cbindgen:ignore
pub mod info;
pub mod response;
pub mod guard;
pub mod misc;
/// cbindgen:ignore
pub mod names;
/// cbindgen:ignore
pub mod options;
pub mod post;
pub mod shim;
pub mod util;
