//! Chunked body decoder with trailers (src/http1/chunked.rs).
//!
//! Input: a mode byte, a trailer-limit byte, a cut seed, then either the
//! raw body (mode even) or a recipe of chunks and trailers that is encoded
//! correctly first (mode odd). Invariants:
//! - each step consumes at most what was offered, a payload span lies
//!   inside the input and ends at `consumed`; `payload_total` counts it;
//! - the payload, trailers, end position and error are the same however
//!   the bytes arrive (whole, at the seed's cuts, byte by byte);
//! - a correctly encoded body decodes to exactly its payload and trailers,
//!   and the decoder stops right after its last line; its trailers are
//!   refused (431) exactly when their bytes plus `FIELD_COST` per line
//!   exceed the limit.

use crate::{cuts, Input};
use microhttpd::http1::chunked::FIELD_COST;
use microhttpd::http1::{ChunkedDecoder, Error};

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    payload: Vec<u8>,
    /// Bytes of the input used up to the end of the body (None: not done).
    end: Option<usize>,
    trailers: Vec<(Vec<u8>, Vec<u8>)>,
    error: Option<Error>,
}

/// Feeds `body` as the connection does: the unread bytes grow at each cut;
/// decode is called until it needs more input.
fn decode(limit: usize, body: &[u8], cuts: &[usize]) -> Outcome {
    let mut d = ChunkedDecoder::new(limit);
    let mut payload = Vec::new();
    let mut pos = 0;
    for &avail in cuts.iter().chain(std::iter::once(&body.len())) {
        loop {
            let input = &body[pos..avail.max(pos)];
            let step = match d.decode(input) {
                Ok(s) => s,
                Err(e) => return Outcome { payload, end: None, trailers: Vec::new(), error: Some(e) },
            };
            assert!(step.consumed <= input.len(), "consumed {} of {}", step.consumed, input.len());
            assert!(step.data.start <= step.data.end && step.data.end <= input.len());
            if !step.data.is_empty() {
                assert_eq!(step.data.end, step.consumed, "payload must end at consumed");
                assert!(!step.done);
            }
            payload.extend_from_slice(step.data.get(input));
            assert_eq!(d.payload_total(), payload.len() as u64);
            pos += step.consumed;
            if step.done {
                assert!(d.is_done());
                let trailers: Vec<_> = d.trailers().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
                assert_eq!(trailers.len(), d.trailer_count());
                // After the end nothing more is taken.
                assert_eq!(d.decode(b"1\r\nx\r\n").map(|s| s.consumed), Ok(0));
                return Outcome { payload, end: Some(pos), trailers, error: None };
            }
            if step.consumed == 0 {
                break;
            }
        }
    }
    Outcome { payload, end: None, trailers: Vec::new(), error: None }
}

fn tchar(b: u8) -> u8 {
    const T: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
    T[b as usize % T.len()]
}

fn vchar(b: u8) -> u8 {
    // Visible ASCII and obs-text; never CR, LF, NUL or other CTLs.
    match b {
        0x21..=0x7e | 0x80..=0xff => b,
        _ => b'v',
    }
}

/// Encodes the recipe; returns (body, payload, trailers).
fn encode(inp: &mut Input<'_>) -> (Vec<u8>, Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>) {
    let mut body = Vec::new();
    let mut payload = Vec::new();
    let n = inp.u8() % 8;
    for _ in 0..n {
        let f = inp.u8();
        let data = inp.piece();
        if data.is_empty() {
            continue; // a zero size would end the body
        }
        let zeros = (f & 3) as usize;
        body.extend(std::iter::repeat(b'0').take(zeros));
        if f & 4 != 0 {
            body.extend_from_slice(format!("{:X}", data.len()).as_bytes());
        } else {
            body.extend_from_slice(format!("{:x}", data.len()).as_bytes());
        }
        if f & 8 != 0 {
            body.extend_from_slice(b" ;ext=\"v\"");
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
        payload.extend_from_slice(data);
    }
    body.extend_from_slice(b"0\r\n");
    let mut trailers = Vec::new();
    for _ in 0..inp.u8() % 4 {
        let name: Vec<u8> = inp.piece().iter().map(|&b| tchar(b)).collect();
        let value: Vec<u8> = inp.piece().iter().map(|&b| vchar(b)).collect();
        if name.is_empty() {
            continue;
        }
        body.extend_from_slice(&name);
        body.extend_from_slice(b": ");
        body.extend_from_slice(&value);
        body.extend_from_slice(b"\r\n");
        trailers.push((name, value));
    }
    body.extend_from_slice(b"\r\n");
    (body, payload, trailers)
}

pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let mode = inp.u8();
    let limit = usize::from(inp.u8()) * 64;
    let seed = inp.piece();
    if mode & 1 == 0 {
        let body = inp.rest();
        let whole = decode(limit, body, &[]);
        assert!(whole.payload.len() <= body.len());
        let c = cuts(seed, body.len());
        assert_eq!(decode(limit, body, &c), whole, "cuts {c:?}");
        if body.len() <= 4096 {
            let bytewise: Vec<usize> = (0..body.len()).collect();
            assert_eq!(decode(limit, body, &bytewise), whole, "byte by byte");
        }
    } else {
        let (mut body, payload, trailers) = encode(&mut inp);
        let end = body.len();
        body.extend_from_slice(inp.rest()); // the next request
        // Each line's bytes plus FIELD_COST for it count against the limit.
        let raw_trailers: usize = trailers.iter().map(|(n, v)| n.len() + v.len() + 4 + FIELD_COST).sum();
        let c = cuts(seed, body.len());
        let out = decode(limit.max(1), &body, &c);
        if raw_trailers > limit.max(1) {
            assert_eq!(out.error, Some(Error::HeaderFieldsTooLarge), "trailers over the limit");
            return;
        }
        assert_eq!(out, Outcome { payload, end: Some(end), trailers, error: None });
    }
}
