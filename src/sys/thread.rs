//! What the kernel says about one of our threads (the thread-per-connection
//! monitor asks whether a long run is blocked or still computing).

/// The calling thread's kernel id.
pub fn current_tid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Whether thread `tid` of this process is running or waiting for a CPU
/// (`Some(false)`: it sleeps, in a blocking call); `None` if unknown.
pub fn is_runnable(tid: i32) -> Option<bool> {
    let stat = std::fs::read(format!("/proc/self/task/{tid}/stat")).ok()?;
    state_of(&stat).map(|s| s == b'R')
}

/// The state letter of a /proc stat line: the field after the command
/// name, which is in parentheses and may itself hold ") ".
fn state_of(stat: &[u8]) -> Option<u8> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    stat.get(close + 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_letter_after_the_last_parenthesis() {
        assert_eq!(state_of(b"12 (MHD-worker) S 1 2 3"), Some(b'S'));
        assert_eq!(state_of(b"12 (a) b) R 1"), Some(b'R'));
        assert_eq!(state_of(b"12 (x"), None);
    }

    #[test]
    fn this_thread_is_running() {
        assert_eq!(is_runnable(current_tid()), Some(true));
    }
}
