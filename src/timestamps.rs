//! `/timestamps`: the `[HH:MM] ` put before each line shown to a user who
//! asked for it. Sans-IO: the time is a parameter.
//!
//! The stamp is a small segment of its own, put before the line by the
//! recipient's session; the line itself is still rendered once per class and
//! shared, so nobody else pays for it. Times are UTC: the server cannot know
//! each user's zone, and a configured zone would be wrong for most of them.

/// Display columns (and bytes: it is ASCII) of a stamp, space included.
pub(crate) const WIDTH: usize = 8;

/// `[HH:MM] `, ready to write.
pub(crate) type Stamp = [u8; WIDTH];

/// The stamp for `unix_secs` (seconds since 1970, UTC).
pub(crate) fn stamp(unix_secs: u64) -> Stamp {
    let minutes = unix_secs / 60 % (24 * 60);
    let (hours, minutes) = ((minutes / 60) as u8, (minutes % 60) as u8);
    let digit = |value: u8| b'0' + value;
    [
        b'[',
        digit(hours / 10),
        digit(hours % 10),
        b':',
        digit(minutes / 10),
        digit(minutes % 10),
        b']',
        b' ',
    ]
}

/// The stamp for now, by the system clock; a clock before 1970 reads as
/// midnight rather than failing.
pub(crate) fn now() -> Stamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    stamp(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(unix_secs: u64, expected: &str) {
        assert_eq!(&stamp(unix_secs), expected.as_bytes(), "{unix_secs}");
    }

    #[test]
    fn stamps_show_utc_hours_and_minutes() {
        check(0, "[00:00] ");
        check(59, "[00:00] ");
        check(60, "[00:01] ");
        check(13 * 3600 + 7 * 60 + 42, "[13:07] ");
        check(86_399, "[23:59] ");
        check(86_400, "[00:00] ");
        // 2026-12-02 17:13:37 UTC.
        check(1_796_231_617, "[17:13] ");
        check(u64::MAX, "[07:00] ");
        assert_eq!(WIDTH, stamp(0).len());
    }
}
