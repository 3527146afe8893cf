//! What the log says about refused connections: the first refusal of an
//! address in a minute is logged as it happens, the rest only counted, and a
//! summary per address goes out when the minute is over. A client that
//! reconnects in a loop (or a thousand of them) therefore costs the log a
//! bounded number of lines a minute, not a line per attempt.
//!
//! Sans-IO: the caller passes the time and asks [`RefusalLog::poll_timeout`]
//! when to come back with [`RefusalLog::poll_summary`]; the accept loop
//! writes the lines.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::address::AddressGroup;
use crate::limits::Refusal;

/// How long refusals are counted before their summary is logged.
pub(crate) const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);

/// Addresses counted one by one in an interval; refusals from addresses
/// past these are counted together, so the log (and this table) stay
/// bounded when an attacker rotates addresses: at most 64 lines as they
/// happen and 65 in the summary per interval.
pub(crate) const SUMMARY_ADDRESSES: usize = 64;

/// Refusals of one interval, counted per address.
#[derive(Debug, Default)]
pub(crate) struct RefusalLog {
    /// When the interval being counted began (its first refusal); `None`
    /// while nothing has been refused since the last summary.
    since: Option<Instant>,
    /// Refusals per address this interval, and the latest reason.
    counts: HashMap<AddressGroup, (u64, Refusal)>,
    /// Refusals this interval from addresses past `SUMMARY_ADDRESSES`.
    others: u64,
}

/// What to log about one refusal now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Record {
    /// The address's first refusal this interval: log it.
    Log,
    /// Counted for the summary: log nothing now.
    Counted,
}

/// The summary of one interval.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Addresses refused more than once, with how often and the latest
    /// reason (once-only ones were logged whole already).
    pub(crate) repeated: Vec<(AddressGroup, u64, Refusal)>,
    /// Refusals from addresses not counted one by one.
    pub(crate) others: u64,
    /// The interval's length.
    pub(crate) interval: Duration,
}

impl RefusalLog {
    /// Counts a refusal from `group` at `now`, and says whether to log it.
    pub(crate) fn record(&mut self, group: AddressGroup, refusal: Refusal, now: Instant) -> Record {
        self.since.get_or_insert(now);
        if let Some((count, latest)) = self.counts.get_mut(&group) {
            *count += 1;
            *latest = refusal;
            return Record::Counted;
        }
        if self.counts.len() >= SUMMARY_ADDRESSES {
            self.others += 1;
            return Record::Counted;
        }
        self.counts.insert(group, (1, refusal));
        Record::Log
    }

    /// When the current interval's summary is due, if anything is counted.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.since.map(|since| since + SUMMARY_INTERVAL)
    }

    /// The summary, once the interval is over by `now`; starts a new one.
    /// `None` before then, or when there is nothing worth a line (every
    /// address refused once, each logged already).
    pub(crate) fn poll_summary(&mut self, now: Instant) -> Option<Summary> {
        if now < self.poll_timeout()? {
            return None;
        }
        self.take_summary(now)
    }

    /// The summary of what is counted so far, due or not (at shutdown);
    /// starts a new interval.
    pub(crate) fn take_summary(&mut self, now: Instant) -> Option<Summary> {
        let since = self.since.take()?;
        let mut repeated: Vec<(AddressGroup, u64, Refusal)> = self
            .counts
            .drain()
            .filter(|(_, (count, _))| *count > 1)
            .map(|(group, (count, refusal))| (group, count, refusal))
            .collect();
        // The worst first: what an admin reading the log looks for.
        repeated.sort_by_key(|&(_, count, _)| std::cmp::Reverse(count));
        let others = std::mem::take(&mut self.others);
        (!repeated.is_empty() || others > 0).then(|| Summary {
            repeated,
            others,
            interval: now.saturating_duration_since(since),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn group(i: u32) -> AddressGroup {
        AddressGroup::of(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)))
    }

    #[test]
    fn the_first_refusal_is_logged_and_the_rest_summed_up_after_the_interval() {
        let mut log = RefusalLog::default();
        let start = Instant::now();
        assert_eq!(log.poll_timeout(), None);
        assert_eq!(
            log.record(group(1), Refusal::TooFast(30), start),
            Record::Log
        );
        for _ in 0..20_000 {
            assert_eq!(
                log.record(group(1), Refusal::TooFast(30), start),
                Record::Counted
            );
        }
        assert_eq!(
            log.record(group(2), Refusal::PerAddress(20), start),
            Record::Log
        );
        assert_eq!(log.poll_timeout(), Some(start + SUMMARY_INTERVAL));
        assert_eq!(log.poll_summary(start + SUMMARY_INTERVAL / 2), None);
        let end = start + SUMMARY_INTERVAL;
        assert_eq!(
            log.poll_summary(end),
            Some(Summary {
                repeated: vec![(group(1), 20_001, Refusal::TooFast(30))],
                others: 0,
                interval: SUMMARY_INTERVAL,
            })
        );
        // A new interval: the next refusal is logged again.
        assert_eq!(log.poll_timeout(), None);
        assert_eq!(log.record(group(1), Refusal::TooFast(30), end), Record::Log);
        assert_eq!(log.poll_summary(end + SUMMARY_INTERVAL), None);
    }

    #[test]
    fn lines_and_memory_stay_bounded_against_many_addresses() {
        let mut log = RefusalLog::default();
        let start = Instant::now();
        let mut logged = 0;
        for i in 0..100_000 {
            if log.record(group(i), Refusal::TooFast(30), start) == Record::Log {
                logged += 1;
            }
            assert!(log.counts.len() <= SUMMARY_ADDRESSES);
        }
        assert_eq!(logged, SUMMARY_ADDRESSES);
        let summary = log
            .poll_summary(start + SUMMARY_INTERVAL)
            .expect("a summary");
        assert!(summary.repeated.is_empty());
        assert_eq!(summary.others, 100_000 - SUMMARY_ADDRESSES as u64);
    }
}
