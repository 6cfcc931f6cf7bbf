//! Byte-level helpers of the parsers, written for speed: one table lookup
//! per byte class, and the line-end search eight bytes at a time (a request
//! head is scanned for every request).

const TCHAR: u8 = 1;
const HOST: u8 = 2;
const TEXT: u8 = 4;

/// The classes of every byte value, built at compile time.
const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let alnum = b.is_ascii_alphanumeric();
        // RFC 9110 5.6.2 tchar.
        if alnum || matches!(b, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~') {
            t[i] |= TCHAR;
        }
        // RFC 3986 unreserved / sub-delims: the bytes of a reg-name.
        if alnum || matches!(b, b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=') {
            t[i] |= HOST;
        }
        // RFC 5234 VCHAR (visible US-ASCII), SP and HTAB.
        if (b >= 0x21 && b <= 0x7e) || b == b' ' || b == b'\t' {
            t[i] |= TEXT;
        }
        i += 1;
    }
    t
}

static CLASSES: [u8; 256] = classes();

/// A token character (RFC 9110 5.6.2).
pub fn is_tchar(b: u8) -> bool {
    CLASSES[b as usize] & TCHAR != 0
}

/// Unreserved or a sub-delim (RFC 3986 2.2, 2.3).
pub fn is_unreserved_or_sub_delim(b: u8) -> bool {
    CLASSES[b as usize] & HOST != 0
}

/// VCHAR, SP or HTAB: the bytes of a field value without obs-text.
pub fn is_text(b: u8) -> bool {
    CLASSES[b as usize] & TEXT != 0
}

/// Offset of the first LF in `s`. Words of eight bytes: XOR with LF makes
/// an LF byte zero, and `(w - 0x01..) & !w & 0x80..` marks the lowest zero
/// byte exactly (a borrow can only mark bytes above it).
pub fn find_lf(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = s.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        let w = u64::from_le_bytes(word) ^ (ONES * b'\n' as u64);
        let zero = w.wrapping_sub(ONES) & !w & HIGHS;
        if zero != 0 {
            return Some(base + (zero.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks.remainder().iter().position(|&b| b == b'\n').map(|p| base + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_match_the_rfc_sets() {
        for b in 0..=255u8 {
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_tchar(b), tchar, "tchar {b:#x}");
            let host = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b);
            assert_eq!(is_unreserved_or_sub_delim(b), host, "host {b:#x}");
            assert_eq!(is_text(b), (0x21..=0x7e).contains(&b) || b == b' ' || b == b'\t', "text {b:#x}");
        }
    }

    #[test]
    fn find_lf_agrees_with_a_byte_loop() {
        // Every length up to three words, LF at every place, with bytes
        // around it that trip a naive word test (0x0b = LF + 1, 0x8a, 0x09).
        for len in 0..24 {
            for at in 0..=len {
                let mut s: Vec<u8> = (0..len).map(|i| [b'a', 0x0b, 0x8a, 0x09, 0x00, 0xff][i % 6]).collect();
                if at < len {
                    s[at] = b'\n';
                    if at + 1 < len {
                        s[at + 1] = b'\n';
                    }
                }
                assert_eq!(find_lf(&s), s.iter().position(|&b| b == b'\n'), "len {len} at {at}");
            }
        }
    }
}
