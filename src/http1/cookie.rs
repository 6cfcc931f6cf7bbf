//! `Cookie:` parsing as libmicrohttpd 0.9.75 reports `MHD_COOKIE_KIND`
//! (observed on Debian's library):
//!
//! - only the *first* `Cookie` header field is parsed;
//! - pairs are separated by `;` or `,`; spaces (not tabs) before a name are
//!   skipped; spaces (not tabs) after a name are dropped (`d = 4` → `d`, ` 4`);
//! - the value runs to the next `;`/`,` outside double quotes; its spaces are
//!   kept (`c=3 ;` → `3 `); no percent-decoding (`%41` stays);
//! - a value that starts and ends with `"` (and is not a lone `"`) loses the
//!   two quotes (`"q v"` → `q v`, `""` → empty, `"1;b=2"` → `1;b=2`);
//!   an unbalanced quote runs to the end (`a="x; b=2` → `"x; b=2`);
//! - a name without `=` gets an empty value (`f` → `f`, ``); empty pieces
//!   (`;;`, leading `;`, trailing `;`, an empty header) report an empty name
//!   with an empty value.
//!
//! No deliberate differences.

use super::Span;

/// One cookie: spans into the header value given to [`parse_cookies`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookie {
    /// Name.
    pub name: Span,
    /// Value (quotes removed as described above).
    pub value: Span,
}

/// Parse one `Cookie` header value, appending pairs to `out`.
pub fn parse_cookies(v: &[u8], out: &mut Vec<Cookie>) {
    let mut pos = 0usize;
    loop {
        while v.get(pos) == Some(&b' ') {
            pos += 1;
        }
        let mut sce = pos;
        while sce < v.len() && !matches!(v[sce], b',' | b';' | b'=') {
            sce += 1;
        }
        let mut name_end = sce;
        while name_end > pos && v[name_end - 1] == b' ' {
            name_end -= 1;
        }
        let name = Span::new(pos, name_end);
        if v.get(sce) != Some(&b'=') {
            out.push(Cookie { name, value: Span::new(sce, sce) });
            if sce >= v.len() {
                return;
            }
            pos = sce + 1;
            continue;
        }
        let vstart = sce + 1;
        let mut end = vstart;
        let mut in_quotes = false;
        while end < v.len() && (in_quotes || !matches!(v[end], b';' | b',')) {
            if v[end] == b'"' {
                in_quotes = !in_quotes;
            }
            end += 1;
        }
        let mut value = Span::new(vstart, end);
        if value.len() >= 2 && v[vstart] == b'"' && v[end - 1] == b'"' {
            value = Span::new(vstart + 1, end - 1);
        }
        out.push(Cookie { name, value });
        if end >= v.len() {
            return;
        }
        pos = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        parse_cookies(v.as_bytes(), &mut out);
        out.iter()
            .map(|k| {
                (
                    String::from_utf8_lossy(k.name.get(v.as_bytes())).into_owned(),
                    String::from_utf8_lossy(k.value.get(v.as_bytes())).into_owned(),
                )
            })
            .collect()
    }

    fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    // Every expectation is what Debian's 0.9.75 reported.
    #[test]
    fn oracle_cookies() {
        assert_eq!(
            c(r#"a=1; b=2;c=3 ; d = 4; e="q v"; f; =g; h=; i=x=y;; j=k"#),
            p(&[("a", "1"), ("b", "2"), ("c", "3 "), ("d", " 4"), ("e", "q v"), ("f", ""), ("", "g"), ("h", ""), ("i", "x=y"), ("", ""), ("j", "k")])
        );
        assert_eq!(c("a=1,b=2"), p(&[("a", "1"), ("b", "2")]));
        assert_eq!(c(r#"a="1""#), p(&[("a", "1")]));
        assert_eq!(c(r#"a="1;b=2""#), p(&[("a", "1;b=2")]));
        assert_eq!(c("a=%41"), p(&[("a", "%41")]));
        assert_eq!(c(";a=1"), p(&[("", ""), ("a", "1")]));
        assert_eq!(c("a=1;"), p(&[("a", "1"), ("", "")]));
        assert_eq!(c(""), p(&[("", "")]));
        assert_eq!(c("a=1  ;  b=2"), p(&[("a", "1  "), ("b", "2")]));
        assert_eq!(c("a\tb=1"), p(&[("a\tb", "1")]));
        assert_eq!(c(r#"a="x; b=2"#), p(&[("a", "\"x; b=2")]));
        assert_eq!(c(r#"a=""; b="; c=" "#), p(&[("a", ""), ("b", "\"; c=\" ")]));
        assert_eq!(c("a=1 , b=2"), p(&[("a", "1 "), ("b", "2")]));
        assert_eq!(c("a =\t1\t;b\t=2"), p(&[("a", "\t1\t"), ("b\t", "2")]));
        assert_eq!(c(r#"a=""#), p(&[("a", "\"")]));
    }
}
