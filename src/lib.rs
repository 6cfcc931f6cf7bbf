//! A Rust reimplementation of GNU libmicrohttpd 0.9.75 behind its C ABI.
//!
//! `unsafe` is confined to `ffi` (the C entry points and C-visible types) and
//! `sys` (operating-system calls, and one libssl call the `openssl` crate
//! does not wrap); every other module forbids it.
#![deny(unsafe_code)]
#![allow(clippy::missing_safety_doc)]

#[allow(unsafe_code)]
pub mod ffi;

pub mod auth;
pub mod conn;
pub mod daemon;
pub mod http1;
pub mod post;
pub mod response;
pub mod tls;
pub mod upgrade;
#[allow(unsafe_code)]
pub mod sys;
