//! Per-connection and per-address limits that are not a buffer size: flood
//! control for typed lines (a token bucket, and [`FloodControl`], which holds
//! the one line waiting its turn), and the count of connections per IP
//! address. Sans-IO where it can be: flood control takes the time as a
//! parameter.
//!
//! The connection count is the one piece of state shared across sessions
//! outside the room manager; it changes only when a connection opens or
//! closes (never per line), so one small mutex in one place is simpler than a
//! task of its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Flood control: a burst of lines goes through at once, then lines are let
/// through at `rate` per second; a line over the limit waits (it is never
/// dropped) until the bucket has a token again.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    /// Lines per second refilled; 0 turns flood control off.
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: u32, burst: u32, now: Instant) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate: f64::from(rate),
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes a token for one line at `now`: `None` if the line may go now,
    /// else how long it must wait. A line that waits has its token reserved,
    /// so lines are let through in order, one per token.
    pub fn take(&mut self, now: Instant) -> Option<Duration> {
        if self.rate <= 0.0 {
            return None;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            None
        } else {
            Some(Duration::from_secs_f64(-self.tokens / self.rate))
        }
    }
}

/// Flood control for one connection's typed lines: the bucket, the one line
/// waiting for its token, and whether the user has been told. The session
/// reads no input while a line waits, so nothing more piles up: one line is
/// all it ever holds.
#[derive(Debug)]
pub(crate) struct FloodControl<T> {
    bucket: TokenBucket,
    /// A line over the limit and when it may go; boxed, as it is rare and
    /// the session's state is in every idle connection.
    waiting: Option<Box<(T, Instant)>>,
    /// The user was told lines are delayed, in this burst (reset by the
    /// first line that goes through at once).
    told: bool,
}

/// What became of a line offered to [`FloodControl`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Offered<T> {
    /// Within the limit: handle it now.
    Now(T),
    /// Over the limit: it waits `wait`; `tell` is true for the first line
    /// of a burst, whose user should be told (once, not per line).
    Delayed { wait: Duration, tell: bool },
}

impl<T> FloodControl<T> {
    /// `rate` lines a second after a burst of `burst`; rate 0 is no limit.
    pub(crate) fn new(rate: u32, burst: u32, now: Instant) -> FloodControl<T> {
        FloodControl {
            bucket: TokenBucket::new(rate, burst, now),
            waiting: None,
            told: false,
        }
    }

    /// Offers a line typed at `now`. A line may be offered only while none
    /// waits (the caller stops reading meanwhile); one offered anyway
    /// replaces nothing and goes through at once, as losing it would be
    /// worse than letting it past.
    pub(crate) fn offer(&mut self, line: T, now: Instant) -> Offered<T> {
        if self.waiting.is_some() {
            return Offered::Now(line);
        }
        match self.bucket.take(now) {
            None => {
                self.told = false;
                Offered::Now(line)
            }
            Some(wait) => {
                let tell = !std::mem::replace(&mut self.told, true);
                self.waiting = Some(Box::new((line, now + wait)));
                Offered::Delayed { wait, tell }
            }
        }
    }

    /// When the waiting line may go, if one waits.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.waiting.as_ref().map(|waiting| waiting.1)
    }

    /// Whether a line waits (input is not read meanwhile).
    pub(crate) fn is_holding(&self) -> bool {
        self.waiting.is_some()
    }

    /// The waiting line, if its time has come by `now`.
    pub(crate) fn take_due(&mut self, now: Instant) -> Option<T> {
        if self.due()? > now {
            return None;
        }
        self.waiting.take().map(|waiting| waiting.0)
    }
}

/// Why a connection was refused before its session started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The server holds `max_connections` already.
    Full(usize),
    /// This address holds `max_connections_per_ip` already.
    PerAddress(usize),
}

impl Refusal {
    /// The one line the client sees before the server closes.
    pub fn message(self, server_name: &str) -> String {
        match self {
            Refusal::Full(max) => format!(
                "*** {server_name} is full ({max} connections). Please try again later.\r\n"
            ),
            Refusal::PerAddress(max) => format!(
                "*** Too many connections from your address (at most {max}). Close one and try again.\r\n"
            ),
        }
    }
}

/// Open connections, in all and per address.
#[derive(Debug)]
pub struct Connections {
    max_total: usize,
    max_per_address: usize,
    open: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

impl Connections {
    pub fn new(max_total: usize, max_per_address: usize) -> Arc<Connections> {
        Arc::new(Connections {
            max_total,
            max_per_address,
            open: Mutex::new(Counts::default()),
        })
    }

    /// Counts a new connection from `address`, or says why it is refused.
    /// The count drops when the returned permit is dropped.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Permit, Refusal> {
        // A poisoned lock only means a panic elsewhere while counting; the
        // counts themselves are still whole numbers worth using.
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            return Err(Refusal::Full(self.max_total));
        }
        let from_address = open.per_address.entry(address).or_insert(0);
        if *from_address >= self.max_per_address {
            return Err(Refusal::PerAddress(self.max_per_address));
        }
        *from_address += 1;
        open.total += 1;
        Ok(Permit {
            connections: Arc::clone(self),
            address,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct Permit {
    connections: Arc<Connections>,
    address: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.per_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.per_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_goes_through_then_lines_wait_their_turn() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2, 3, start);
        for _ in 0..3 {
            assert_eq!(bucket.take(start), None);
        }
        assert_eq!(bucket.take(start), Some(Duration::from_millis(500)));
        assert_eq!(bucket.take(start), Some(Duration::from_millis(1000)));
        // After waiting its turn, the next line after that is due later still.
        let later = start + Duration::from_secs(1);
        assert_eq!(bucket.take(later), Some(Duration::from_millis(500)));
        // A quiet spell refills up to the burst, not beyond.
        let much_later = later + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(bucket.take(much_later), None);
        }
        assert!(bucket.take(much_later).is_some());
    }

    #[test]
    fn rate_zero_turns_flood_control_off() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(0, 1, now);
        for _ in 0..1000 {
            assert_eq!(bucket.take(now), None);
        }
    }

    #[test]
    fn flood_control_holds_one_line_and_tells_once_per_burst() {
        let start = Instant::now();
        let mut flood = FloodControl::new(2, 2, start);
        assert_eq!(flood.offer("a", start), Offered::Now("a"));
        assert_eq!(flood.offer("b", start), Offered::Now("b"));
        assert!(!flood.is_holding());
        assert_eq!(flood.due(), None);
        let wait = Duration::from_millis(500);
        assert_eq!(
            flood.offer("c", start),
            Offered::Delayed { wait, tell: true }
        );
        assert!(flood.is_holding());
        assert_eq!(flood.due(), Some(start + wait));
        // Not yet due: it stays.
        assert_eq!(flood.take_due(start + wait / 2), None);
        assert!(flood.is_holding());
        assert_eq!(flood.take_due(start + wait), Some("c"));
        assert!(!flood.is_holding());
        // Still in the same burst: delayed again, but not told again.
        let now = start + wait;
        assert!(matches!(
            flood.offer("d", now),
            Offered::Delayed { tell: false, .. }
        ));
        let due = flood.due().unwrap();
        assert_eq!(flood.take_due(due), Some("d"));
        // A quiet spell: the next line goes at once and a later burst is
        // told again.
        let later = due + Duration::from_secs(10);
        assert_eq!(flood.offer("e", later), Offered::Now("e"));
        assert_eq!(flood.offer("f", later), Offered::Now("f"));
        assert!(matches!(
            flood.offer("g", later),
            Offered::Delayed { tell: true, .. }
        ));
    }

    #[test]
    fn a_line_offered_while_one_waits_is_not_lost() {
        let start = Instant::now();
        let mut flood = FloodControl::new(1, 1, start);
        assert_eq!(flood.offer(1, start), Offered::Now(1));
        assert!(matches!(flood.offer(2, start), Offered::Delayed { .. }));
        assert_eq!(flood.offer(3, start), Offered::Now(3));
        assert_eq!(flood.take_due(start + Duration::from_secs(5)), Some(2));
    }

    #[test]
    fn flood_control_off_never_holds() {
        let now = Instant::now();
        let mut flood = FloodControl::new(0, 1, now);
        for line in 0..100 {
            assert_eq!(flood.offer(line, now), Offered::Now(line));
        }
        assert_eq!(flood.take_due(now), None);
    }

    #[test]
    fn connections_are_counted_per_address_and_freed_on_drop() {
        let connections = Connections::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = connections.admit(a).unwrap();
        let _second = connections.admit(a).unwrap();
        assert_eq!(connections.admit(a).unwrap_err(), Refusal::PerAddress(2));
        let _third = connections.admit(b).unwrap();
        assert_eq!(connections.admit(b).unwrap_err(), Refusal::Full(3));
        drop(first);
        assert_eq!(connections.open(), 2);
        assert!(connections.admit(a).is_ok());
    }

    #[test]
    fn refusals_are_one_line() {
        for refusal in [Refusal::Full(10), Refusal::PerAddress(2)] {
            let message = refusal.message("tavern");
            assert!(message.starts_with("*** ") && message.ends_with("\r\n"));
            assert_eq!(message.matches("\r\n").count(), 1);
        }
    }
}
