//! Reason phrases, byte-identical to what libmicrohttpd 0.9.75's
//! `MHD_get_reason_phrase_for` returns (dumped from Debian's library for
//! 0..=1000), and the phrase its status line uses.
//!
//! No deliberate differences.

/// `MHD_get_reason_phrase_for(code)`: the phrase, or `"Unknown"`.
pub const fn reason_phrase(code: u32) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        306 => "Switch Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        449 => "Reply With",
        450 => "Blocked by Windows Parental Controls",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        509 => "Bandwidth Limit Exceeded",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "Unknown",
    }
}

/// The phrase libmicrohttpd 0.9.75 writes in a status line: like
/// [`reason_phrase`] but `"Non-Standard Status"` for unknown codes
/// (e.g. `HTTP/1.1 299 Non-Standard Status`).
pub const fn status_line_reason(code: u32) -> &'static str {
    if code_is_unknown(code) {
        "Non-Standard Status"
    } else {
        reason_phrase(code)
    }
}

const fn code_is_unknown(code: u32) -> bool {
    let r = reason_phrase(code).as_bytes();
    // "Unknown" is the only 7-byte phrase starting with 'U'.
    r.len() == 7 && r[0] == b'U'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases() {
        assert_eq!(reason_phrase(200), "OK");
        assert_eq!(reason_phrase(413), "Content Too Large");
        assert_eq!(reason_phrase(422), "Unprocessable Content");
        assert_eq!(reason_phrase(450), "Blocked by Windows Parental Controls");
        assert_eq!(reason_phrase(306), "Switch Proxy");
        assert_eq!(reason_phrase(0), "Unknown");
        assert_eq!(reason_phrase(299), "Unknown");
        assert_eq!(reason_phrase(600), "Unknown");
        assert_eq!(status_line_reason(299), "Non-Standard Status");
        assert_eq!(status_line_reason(999), "Non-Standard Status");
        assert_eq!(status_line_reason(404), "Not Found");
        let known = (0..=1000).filter(|&c| reason_phrase(c) != "Unknown").count();
        assert_eq!(known, 65);
    }
}
