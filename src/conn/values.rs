//! The request's key/value pairs (headers, GET arguments, cookies, footers)
//! as C sees them: NUL-terminated strings that stay put for the whole request.
//!
//! Strings parsed from the request are copied into an arena that is filled
//! once per phase and never grows while the application holds pointers into
//! it: one arena for the head (built before the first handler call) and one
//! for the footers (built before the final call). Both keep their capacity
//! across requests, so a keep-alive connection allocates nothing per request.

use crate::ffi::foreign::ForeignStr;

/// Value kinds, as the bits of `enum MHD_ValueKind`.
pub mod kind {
    pub const HEADER: u32 = 1;
    pub const COOKIE: u32 = 2;
    pub const POSTDATA: u32 = 4;
    pub const GET_ARGUMENT: u32 = 8;
    pub const FOOTER: u32 = 16;
}

/// Which arena a string lives in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arena {
    Head,
    Footer,
}

#[derive(Clone, Copy)]
pub enum Str {
    /// Offset and length (without the NUL) in one of our arenas.
    Own { arena: Arena, off: u32, len: u32 },
    /// Set by the application with MHD_set_connection_value.
    Foreign(ForeignStr),
}

#[derive(Clone, Copy)]
pub struct Entry {
    pub kind: u32,
    pub key: Str,
    pub value: Option<Str>,
}

#[derive(Default)]
pub struct Values {
    head: Vec<u8>,
    footer: Vec<u8>,
    entries: Vec<Entry>,
}

/// A string resolved to a pointer C can use, with its length.
#[derive(Clone, Copy)]
pub struct CStrRef {
    pub ptr: *const std::os::raw::c_char,
    pub len: usize,
}

impl Values {
    pub fn clear(&mut self) {
        self.head.clear();
        self.footer.clear();
        self.entries.clear();
    }

    /// Bytes held (arenas and entries), used or not.
    pub fn capacity(&self) -> usize {
        self.head.capacity() + self.footer.capacity() + self.entries.capacity() * std::mem::size_of::<Entry>()
    }

    /// Appends a NUL-terminated copy of `s` to an arena.
    pub fn intern(&mut self, arena: Arena, s: &[u8]) -> Str {
        let buf = match arena {
            Arena::Head => &mut self.head,
            Arena::Footer => &mut self.footer,
        };
        let off = buf.len() as u32;
        buf.extend_from_slice(s);
        buf.push(0);
        Str::Own { arena, off, len: s.len() as u32 }
    }

    /// Copies a request head into the head arena in one piece, for
    /// [`Values::head_part`]; returns the offset it starts at.
    pub fn intern_head(&mut self, head: &[u8]) -> u32 {
        let off = self.head.len() as u32;
        self.head.extend_from_slice(head);
        off
    }

    /// The `len` bytes at `off` in the head arena (inside a head copied by
    /// [`Values::intern_head`]) as a string: a NUL is written over the byte
    /// after them. That byte must belong to no other string: it is the
    /// space, colon, CR, LF or trailing blank after a part of the head.
    pub fn head_part(&mut self, off: u32, len: u32) -> Str {
        let off = (off as usize).min(self.head.len());
        let end = (off + len as usize).min(self.head.len());
        match self.head.get_mut(end) {
            Some(b) => *b = 0,
            None => self.head.push(0),
        }
        Str::Own { arena: Arena::Head, off: off as u32, len: (end - off) as u32 }
    }

    /// The bytes of an interned string, writable (for in-place unescaping).
    /// Includes the terminating NUL.
    pub fn own_bytes_mut(&mut self, s: Str) -> Option<&mut [u8]> {
        match s {
            Str::Own { arena, off, len } => {
                let buf = match arena {
                    Arena::Head => &mut self.head,
                    Arena::Footer => &mut self.footer,
                };
                Some(&mut buf[off as usize..off as usize + len as usize + 1])
            }
            Str::Foreign(_) => None,
        }
    }

    /// Shortens an interned string after in-place unescaping to `new_len`.
    pub fn truncated(&mut self, s: Str, new_len: usize) -> Str {
        match s {
            Str::Own { arena, off, len } => {
                let new_len = new_len.min(len as usize);
                if let Some(b) = self.own_bytes_mut(s) {
                    b[new_len] = 0;
                }
                Str::Own { arena, off, len: new_len as u32 }
            }
            other => other,
        }
    }

    pub fn push(&mut self, kind: u32, key: Str, value: Option<Str>) {
        self.entries.push(Entry { kind, key, value });
    }

    /// Replaces the strings of entry `i` (after unescaping shortened them).
    pub fn set(&mut self, i: usize, key: Str, value: Option<Str>) {
        if let Some(e) = self.entries.get_mut(i) {
            e.key = key;
            e.value = value;
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn entry(&self, i: usize) -> Option<Entry> {
        self.entries.get(i).copied()
    }

    pub fn bytes<'a>(&'a self, s: &'a Str) -> &'a [u8] {
        match *s {
            Str::Own { arena, off, len } => {
                let buf = match arena {
                    Arena::Head => &self.head,
                    Arena::Footer => &self.footer,
                };
                &buf[off as usize..off as usize + len as usize]
            }
            Str::Foreign(ref f) => f.as_bytes(),
        }
    }

    pub fn c_str(&self, s: &Str) -> CStrRef {
        match *s {
            Str::Own { arena, off, len } => {
                let buf = match arena {
                    Arena::Head => &self.head,
                    Arena::Footer => &self.footer,
                };
                CStrRef { ptr: buf[off as usize..].as_ptr().cast(), len: len as usize }
            }
            Str::Foreign(f) => CStrRef { ptr: f.ptr(), len: f.len() },
        }
    }

    /// First entry of `kinds` whose key matches (headers and footers
    /// case-insensitively, as HTTP field names are; other kinds exactly).
    pub fn lookup(&self, kinds: u32, key: Option<&[u8]>) -> Option<Entry> {
        self.entries.iter().copied().find(|e| {
            if e.kind & kinds == 0 {
                return false;
            }
            let k = self.bytes(&e.key);
            match key {
                None => false,
                Some(want) if e.kind & (kind::HEADER | kind::FOOTER) != 0 => k.eq_ignore_ascii_case(want),
                Some(want) => k == want,
            }
        })
    }

    /// Total bytes held, for the connection's memory budget.
    pub fn memory(&self) -> usize {
        self.head.capacity() + self.footer.capacity() + self.entries.capacity() * std::mem::size_of::<Entry>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_strings_are_nul_terminated_and_found() {
        let mut v = Values::default();
        let k = v.intern(Arena::Head, b"Host");
        let val = v.intern(Arena::Head, b"example");
        v.push(kind::HEADER, k, Some(val));
        let e = v.lookup(kind::HEADER, Some(b"host")).unwrap();
        assert_eq!(v.bytes(&e.value.unwrap()), b"example");
        assert!(v.lookup(kind::GET_ARGUMENT, Some(b"Host")).is_none());
        let s = v.own_bytes_mut(k).unwrap();
        assert_eq!(s, b"Host\0");
    }

    #[test]
    fn head_parts_are_terminated_in_place() {
        let mut v = Values::default();
        let _ = v.intern(Arena::Head, b"before");
        let base = v.intern_head(b"GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n");
        let method = v.head_part(base, 3);
        let host = v.head_part(base + 16, 4);
        let a = v.head_part(base + 22, 1);
        let empty = v.head_part(base + 26, 0);
        assert_eq!(v.own_bytes_mut(method).unwrap(), b"GET\0");
        assert_eq!(v.own_bytes_mut(host).unwrap(), b"Host\0");
        assert_eq!(v.own_bytes_mut(a).unwrap(), b"a\0");
        assert_eq!(v.own_bytes_mut(empty).unwrap(), b"\0");
        // A part that reaches the end of the arena gets a NUL appended; one
        // beyond it is cut at the end.
        let last = v.head_part(base + 30, 5);
        assert_eq!(v.bytes(&last), b"\n");
        assert_eq!(v.own_bytes_mut(last).unwrap(), b"\n\0");
    }

    #[test]
    fn truncation_moves_the_terminator() {
        let mut v = Values::default();
        let s = v.intern(Arena::Head, b"a%20b");
        let s = v.truncated(s, 3);
        assert_eq!(v.bytes(&s), b"a%2");
        assert_eq!(v.own_bytes_mut(s).unwrap(), b"a%2\0");
    }
}
