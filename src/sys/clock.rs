//! The coarse clocks the connection timeouts and the `Date` header read.
//!
//! Both need seconds, not nanoseconds, and are read for every request:
//! `CLOCK_MONOTONIC_COARSE` and `CLOCK_REALTIME_COARSE` are a load from
//! the vDSO page, where the precise clocks read and scale the TSC (about
//! 1% of the server's CPU per request when they were used here). They lag
//! the precise clocks by at most one kernel tick ([`resolution`]).

use std::ops::Add;
use std::sync::OnceLock;
use std::time::Duration;

/// A point on the coarse monotonic clock (time since boot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tick(Duration);

fn to_duration(ts: &libc::timespec) -> Duration {
    Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec.clamp(0, 999_999_999) as u32)
}

fn read(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the
    // call; the clock ids used here exist on every Linux since 2.6.32.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    to_duration(&ts)
}

impl Tick {
    /// Now, to the kernel tick.
    pub fn now() -> Tick {
        Tick(read(libc::CLOCK_MONOTONIC_COARSE))
    }

    /// How long after `earlier` this is; zero if it is not later.
    pub fn saturating_duration_since(self, earlier: Tick) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Tick {
    type Output = Tick;
    fn add(self, d: Duration) -> Tick {
        Tick(self.0.saturating_add(d))
    }
}

/// How far the coarse clocks may lag: one kernel tick (1–10 ms). A wait
/// for a deadline adds it, so that the clock has reached the deadline
/// when the wait ends instead of the loop spinning through the lag.
pub fn resolution() -> Duration {
    static RES: OnceLock<Duration> = OnceLock::new();
    *RES.get_or_init(|| {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: as in `read`: a valid timespec, an existing clock id.
        let rc = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
        let res = if rc == 0 { to_duration(&ts) } else { Duration::ZERO };
        // At least 1 ms: waits are in milliseconds.
        res.clamp(Duration::from_millis(1), Duration::from_millis(20))
    })
}

/// Seconds since the Unix epoch, for the `Date` header.
pub fn wall_secs() -> u64 {
    read(libc::CLOCK_REALTIME_COARSE).as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_follows_the_precise_clock_within_its_resolution() {
        // The coarse readings bracket the precise ones, so however the
        // thread is scheduled the coarse span is at least the precise one,
        // less the lag.
        let t0 = Tick::now();
        let i0 = std::time::Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        let precise = i0.elapsed();
        let coarse = Tick::now().saturating_duration_since(t0);
        assert!(coarse + resolution() >= precise, "coarse {coarse:?} precise {precise:?}");
        assert_eq!(t0.saturating_duration_since(Tick::now()), Duration::ZERO);
        assert_eq!(t0 + Duration::from_secs(1), Tick(t0.0 + Duration::from_secs(1)));
    }

    #[test]
    fn wall_secs_matches_system_time() {
        let sys = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let ours = wall_secs();
        assert!(ours + 1 >= sys && ours <= sys + 1, "{ours} vs {sys}");
    }
}
