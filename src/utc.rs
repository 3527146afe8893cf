//! The server's clock as people read it: `2026-12-02 17:13:37 UTC`, for
//! `/time` and `/whois`, and the `[HH:MM] ` stamp `/timestamps` puts before
//! each line a user is shown (a small segment of its own, put before the
//! shared render by the recipient's session, so renders stay once per
//! class). UTC always, so no time zone database is needed and
//! everyone sees the same text; the calendar arithmetic is Howard Hinnant's
//! `civil_from_days`, which holds for every date a `SystemTime` can be.

use std::time::{SystemTime, UNIX_EPOCH};

/// `time` as `YYYY-MM-DD HH:MM:SS UTC`; a time before 1970 (a clock set
/// wrong) shows as the epoch.
pub(crate) fn format(time: SystemTime) -> String {
    let secs = unix_secs(time);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Seconds since 1970 at `time`; a time before (a clock set wrong) reads
/// as the epoch rather than failing.
fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// Display columns (and bytes: it is ASCII) of a stamp, space included.
pub(crate) const STAMP_WIDTH: usize = 8;

/// `[HH:MM] `, ready to write.
pub(crate) type Stamp = [u8; STAMP_WIDTH];

/// The stamp for `time`.
pub(crate) fn stamp(time: SystemTime) -> Stamp {
    let minutes = unix_secs(time) / 60 % (24 * 60);
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

/// Year, month (1–12) and day (1–31) of the day `days` after 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shifted so eras of 400 years start on 0000-03-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> String {
        format(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn known_instants_format_as_utc() {
        assert_eq!(at(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(at(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(at(1_709_251_199), "2024-02-29 23:59:59 UTC");
        assert_eq!(at(1_796_230_417), "2026-12-02 16:53:37 UTC");
        assert_eq!(at(4_102_444_800), "2100-01-01 00:00:00 UTC");
    }

    #[test]
    fn a_time_before_the_epoch_shows_the_epoch() {
        let before = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(format(before), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn stamps_show_utc_hours_and_minutes() {
        let check = |secs: u64, expected: &str| {
            let time = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(&stamp(time), expected.as_bytes(), "{secs}");
        };
        check(0, "[00:00] ");
        check(59, "[00:00] ");
        check(60, "[00:01] ");
        check(13 * 3600 + 7 * 60 + 42, "[13:07] ");
        check(86_399, "[23:59] ");
        check(86_400, "[00:00] ");
        // 2026-12-02 17:13:37 UTC.
        check(1_796_231_617, "[17:13] ");
        assert_eq!(&stamp(UNIX_EPOCH - Duration::from_secs(5)), b"[00:00] ");
        assert_eq!(STAMP_WIDTH, stamp(UNIX_EPOCH).len());
    }
}
