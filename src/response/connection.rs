//! The `Connection` header of a response, kept as libmicrohttpd 0.9.75 keeps
//! it: one field, first among the headers, whose tokens are joined by ", ",
//! with `close` first and at most once and `keep-alive` left out (whether
//! the connection persists is the library's decision). Adding merges into
//! that field; deleting removes tokens from it.

#![forbid(unsafe_code)]

use crate::http1::list_items;

fn is(t: &[u8], token: &[u8]) -> bool {
    t.eq_ignore_ascii_case(token)
}

fn push_token(out: &mut Vec<u8>, t: &[u8]) {
    if !out.is_empty() {
        out.extend_from_slice(b", ");
    }
    out.extend_from_slice(t);
}

/// The field's value after `MHD_add_response_header(r, "Connection", add)`
/// on a response whose field is `old`. `Ok(None)`: nothing changes (`close`
/// again). `Err`: refused: `add` has no token but `keep-alive`, or it has
/// `close` and the response is an upgrade (which keeps the connection).
pub fn after_add(old: Option<&[u8]>, add: &[u8], upgrade: bool) -> Result<Option<Vec<u8>>, ()> {
    let close = list_items(add).any(|t| is(t, b"close"));
    if close && upgrade {
        return Err(());
    }
    let mut new = list_items(add).filter(|t| !is(t, b"close") && !is(t, b"keep-alive")).peekable();
    let had_close = old.is_some_and(|o| list_items(o).next().is_some_and(|t| is(t, b"close")));
    if new.peek().is_none() {
        if !close {
            return Err(());
        }
        if had_close {
            return Ok(None);
        }
    }
    let mut out = Vec::new();
    if close && !had_close {
        push_token(&mut out, b"close");
    }
    for t in old.into_iter().flat_map(list_items).chain(new) {
        push_token(&mut out, t);
    }
    Ok(Some(out))
}

/// The field's value after `MHD_del_response_header(r, "Connection", del)`:
/// every token of `old` that `del` lists (case-insensitively) removed.
/// `None` when `del` named none of them (the call fails); an empty value
/// means the field goes.
pub fn after_delete(old: &[u8], del: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut removed = false;
    for t in list_items(old) {
        if list_items(del).any(|d| is(d, t)) {
            removed = true;
        } else {
            push_token(&mut out, t);
        }
    }
    removed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{after_add, after_delete};

    /// Applies adds (`+value`) and deletes (`-value`) in turn as
    /// MHD_add/del_response_header would, checking each call's result and
    /// the value after it: the sequence of libmicrohttpd 0.9.75's
    /// test_response_entries.c, whose expectations Debian's library meets.
    fn run(steps: &[(&str, bool, Option<&str>)]) {
        let mut v: Option<Vec<u8>> = None;
        for (op, ok, expect) in steps {
            let (sign, arg) = op.split_at(1);
            let result = if sign == "+" {
                after_add(v.as_deref(), arg.as_bytes(), false).map(|n| {
                    if let Some(n) = n {
                        v = Some(n);
                    }
                })
            } else {
                match v.as_deref().and_then(|o| after_delete(o, arg.as_bytes())) {
                    Some(n) => {
                        v = (!n.is_empty()).then_some(n);
                        Ok(())
                    }
                    None => Err(()),
                }
            };
            assert_eq!(result.is_ok(), *ok, "{op}");
            assert_eq!(v.as_deref().map(|b| std::str::from_utf8(b).unwrap()), *expect, "after {op}");
        }
    }

    #[test]
    fn upstream_sequence() {
        run(&[
            ("+a,b,c,d,e", true, Some("a, b, c, d, e")),
            ("-e,b,c,d,a", true, None),
            ("+i,k,l,m,n,o,p,close", true, Some("close, i, k, l, m, n, o, p")),
            ("-i,k,l,m,n,o,p,close", true, None),
            ("+1,2,3,4,5,6,7,close", true, Some("close, 1, 2, 3, 4, 5, 6, 7")),
            ("+8,9,close", true, Some("close, 1, 2, 3, 4, 5, 6, 7, 8, 9")),
            ("-1,3,5,7,9", true, Some("close, 2, 4, 6, 8")),
            ("+10,12", true, Some("close, 2, 4, 6, 8, 10, 12")),
            ("-12  ,10  ,8  ,close", true, Some("2, 4, 6")),
            ("+close", true, Some("close, 2, 4, 6")),
            ("-4  ,5,6,7  8,", true, Some("close, 2")),
            ("+close", true, Some("close, 2")),
            ("-close, 10, 12, 22, nothing", true, Some("2")),
            ("-2", true, None),
            ("+close", true, Some("close")),
            ("+close", true, Some("close")),
            ("-close", true, None),
            ("+close,other-token", true, Some("close, other-token")),
            ("+close, new-token", true, Some("close, other-token, new-token")),
            ("-close, new-token", true, Some("other-token")),
            ("-other-token", true, None),
            ("+token-1,token-2", true, Some("token-1, token-2")),
            ("+token-3", true, Some("token-1, token-2, token-3")),
            ("+close", true, Some("close, token-1, token-2, token-3")),
            ("+close, token-4", true, Some("close, token-1, token-2, token-3, token-4")),
            ("-close", true, Some("token-1, token-2, token-3, token-4")),
            ("+close, token-5", true, Some("close, token-1, token-2, token-3, token-4, token-5")),
            ("-non-existing, token-9", false, Some("close, token-1, token-2, token-3, token-4, token-5")),
            ("+,,,,,,,,,,,,    ,\t\t\t, , , ", false, Some("close, token-1, token-2, token-3, token-4, token-5")),
            ("-close, token-1, token-2, token-3, token-4, token-5", true, None),
            ("+keep-alive", false, None),
            ("+Keep-Alive, x", true, Some("x")),
        ]);
    }

    #[test]
    fn close_refused_on_upgrade() {
        assert!(after_add(None, b"close", true).is_err());
        assert_eq!(after_add(None, b"upgrade", true), Ok(Some(b"upgrade".to_vec())));
    }
}
