#![no_main]
// The body and its invariants live in src/ (replayed by `make check`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| microhttpd_fuzz::request_head::run(data));
