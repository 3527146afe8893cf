//! "Log once, then count": one connection's record of something a client
//! can make happen over and over (a malformed telnet sequence, a refusal, a
//! flood notice), so the log gets one line for the first occurrence of each
//! kind and one summary line at the end, never a line per occurrence.
//!
//! Sans-IO and clock-free: [`LogSummary::record`] says whether this is the
//! first of its kind (the caller logs that one, with whatever detail it has),
//! and [`LogSummary`]'s `Display` is the summary the caller logs once, when
//! the connection ends. Its memory is bounded: at most [`MAX_KINDS`] kinds
//! are told apart; occurrences of further kinds are counted together. A
//! connection that never records anything allocates nothing.

use std::fmt;

/// Kinds told apart per connection; later kinds are counted as "other".
/// Every kind's first occurrence is a log line, so this also bounds those.
pub const MAX_KINDS: usize = 16;

/// One connection's counts. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSummary<K> {
    /// Each kind seen, in the order first seen, with how often.
    kinds: Vec<(K, u64)>,
    /// Occurrences of kinds beyond [`MAX_KINDS`], which are not told apart.
    other: u64,
}

impl<K> Default for LogSummary<K> {
    fn default() -> Self {
        LogSummary {
            kinds: Vec::new(),
            other: 0,
        }
    }
}

impl<K: PartialEq> LogSummary<K> {
    /// Counts one occurrence of `kind`. True when it is the first of its
    /// kind and the kind is told apart: the caller logs this one.
    pub fn record(&mut self, kind: K) -> bool {
        if let Some((_, count)) = self.kinds.iter_mut().find(|(k, _)| *k == kind) {
            *count = count.saturating_add(1);
            return false;
        }
        if self.kinds.len() < MAX_KINDS {
            self.kinds.push((kind, 1));
            true
        } else {
            self.other = self.other.saturating_add(1);
            false
        }
    }

    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty() && self.other == 0
    }

    /// Occurrences recorded in all.
    pub fn total(&self) -> u64 {
        self.kinds
            .iter()
            .fold(self.other, |sum, (_, count)| sum.saturating_add(*count))
    }
}

/// `3,412 × stray SE, 1 × unknown command 200`, most frequent first, and
/// `…, 7 × other kinds` for those not told apart.
impl<K: fmt::Display> fmt::Display for LogSummary<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut order: Vec<&(K, u64)> = self.kinds.iter().collect();
        // Stable: ties keep the order first seen.
        order.sort_by_key(|entry| std::cmp::Reverse(entry.1));
        let mut first = true;
        for (kind, count) in order {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{} × {kind}", Thousands(*count))?;
        }
        if self.other > 0 {
            if !first {
                f.write_str(", ")?;
            }
            write!(f, "{} × other kinds", Thousands(self.other))?;
        }
        Ok(())
    }
}

/// A count with thousands separators, as an admin reads it (`3,412`).
struct Thousands(u64);

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                f.write_str(",")?;
            }
            write!(f, "{digit}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_of_each_kind_is_to_be_logged() {
        let mut summary = LogSummary::default();
        assert!(summary.is_empty());
        assert!(summary.record("stray SE"));
        assert!(!summary.record("stray SE"));
        assert!(summary.record("unknown command 200"));
        assert!(!summary.record("stray SE"));
        assert_eq!(summary.total(), 4);
        assert_eq!(summary.to_string(), "3 × stray SE, 1 × unknown command 200");
    }

    #[test]
    fn kinds_past_the_cap_are_counted_together_and_never_logged() {
        let mut summary = LogSummary::default();
        let logged = (0..1000u32).filter(|i| summary.record(i % 100)).count();
        assert_eq!(logged, MAX_KINDS, "one log line per kind told apart");
        assert_eq!(summary.total(), 1000);
        let text = summary.to_string();
        assert!(text.ends_with(", 840 × other kinds"), "{text}");
        assert_eq!(text.matches(" × ").count(), MAX_KINDS + 1, "{text}");
    }

    #[test]
    fn counts_read_with_thousands_separators_most_frequent_first() {
        let mut summary = LogSummary::default();
        summary.record("rare");
        for _ in 0..3412 {
            summary.record("common");
        }
        assert_eq!(summary.to_string(), "3,412 × common, 1 × rare");
        assert_eq!(Thousands(0).to_string(), "0");
        assert_eq!(Thousands(999).to_string(), "999");
        assert_eq!(Thousands(1000).to_string(), "1,000");
        assert_eq!(Thousands(1_234_567).to_string(), "1,234,567");
    }
}
