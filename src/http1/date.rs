//! IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`,
//! formatted without allocation; [`DateCache`] reformats only when the second
//! changes. libmicrohttpd 0.9.75 sends exactly this form in `Date:`.
//!
//! No deliberate differences.

/// Length of an IMF-fixdate.
pub const IMF_FIXDATE_LEN: usize = 29;

const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Write the IMF-fixdate of `unix_secs` (seconds since 1970, UTC) into `out`.
/// Years past 9999 are clamped to 9999-12-31 23:59:59.
pub fn format_imf_fixdate(unix_secs: u64, out: &mut [u8; IMF_FIXDATE_LEN]) {
    const MAX: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let t = unix_secs.min(MAX);
    let days = t / 86_400;
    let rem = t % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let (y, mo, d) = civil_from_days(days);
    let wd = DAYS[(days % 7) as usize];
    out[0..3].copy_from_slice(wd);
    out[3..5].copy_from_slice(b", ");
    two(&mut out[5..7], d);
    out[7] = b' ';
    out[8..11].copy_from_slice(MONTHS[(mo - 1) as usize]);
    out[11] = b' ';
    two(&mut out[12..14], y / 100);
    two(&mut out[14..16], y % 100);
    out[16] = b' ';
    two(&mut out[17..19], h);
    out[19] = b':';
    two(&mut out[20..22], m);
    out[22] = b':';
    two(&mut out[23..25], s);
    out[25..29].copy_from_slice(b" GMT");
}

fn two(out: &mut [u8], v: u64) {
    out[0] = b'0' + (v / 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31); Howard
/// Hinnant's `civil_from_days`, for non-negative day counts.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// A formatted date, redone only when the second changes.
#[derive(Debug, Clone)]
pub struct DateCache {
    secs: Option<u64>,
    buf: [u8; IMF_FIXDATE_LEN],
}

impl Default for DateCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DateCache {
    /// An empty cache.
    pub const fn new() -> Self {
        DateCache { secs: None, buf: [0; IMF_FIXDATE_LEN] }
    }

    /// The IMF-fixdate of `unix_secs`.
    pub fn get(&mut self, unix_secs: u64) -> &[u8; IMF_FIXDATE_LEN] {
        if self.secs != Some(unix_secs) {
            format_imf_fixdate(unix_secs, &mut self.buf);
            self.secs = Some(unix_secs);
        }
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(t: u64) -> String {
        let mut b = [0; IMF_FIXDATE_LEN];
        format_imf_fixdate(t, &mut b);
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn known_dates() {
        assert_eq!(f(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(f(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(f(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(f(1_795_625_966), "Wed, 25 Nov 2026 16:59:26 GMT");
        assert_eq!(f(4_102_444_800), "Fri, 01 Jan 2100 00:00:00 GMT");
        assert_eq!(f(u64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn cache() {
        let mut c = DateCache::new();
        assert_eq!(&c.get(0)[..], b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&c.get(1)[..], b"Thu, 01 Jan 1970 00:00:01 GMT");
        assert_eq!(&c.get(1)[..], b"Thu, 01 Jan 1970 00:00:01 GMT");
    }
}
