//! Per-connection and per-address limits that are not a buffer size: flood
//! control for typed lines (a token bucket, and [`FloodControl`], which holds
//! the lines waiting their turn, at most a burst of them), and admission: the
//! count of connections in all and per address, and the rate at which one
//! address may open new ones ([`ConnectRates`]). Addresses are counted by
//! [`AddressGroup`] (an IPv6 /64 is one address). Sans-IO where it can be:
//! flood control and the connection rate take the time as a parameter.
//!
//! The connection count is the one piece of state shared across sessions
//! outside the room manager; it changes only when a connection opens or
//! closes (never per line), so one small mutex in one place is simpler than a
//! task of its own.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::address::AddressGroup;

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

/// Most lines flood control holds for one connection, whatever
/// `flood_burst` says: with lines of up to 4 × `max_line_length` bytes, a
/// few hundred KiB at most.
pub(crate) const MAX_FLOOD_QUEUE: usize = 64;

/// Flood control for one connection's typed lines: the bucket, the queue of
/// lines waiting for their tokens, and whether the user has been told.
///
/// The queue holds at most `flood_burst` lines (and never more than
/// [`MAX_FLOOD_QUEUE`]); the session reads no input while it is full, so
/// nothing more piles up. When the connection ends (the client closed, or
/// the server is stopping), what waits here was promised ("delayed, not
/// lost"): [`FloodControl::close`] stops the pacing, the lines already read
/// join the queue while there is room, and [`FloodControl::take_all`] hands
/// them over at once. That is at most one burst more, which flood control
/// lets through at once after any quiet spell anyway.
#[derive(Debug)]
pub(crate) struct FloodControl<T> {
    bucket: TokenBucket,
    /// Lines over the limit, in order, each with when it may go. Emptied
    /// storage is given back (see `take_due`): the session's state is in
    /// every idle connection.
    waiting: VecDeque<(T, Instant)>,
    /// Most lines `waiting` holds (see the type's docs).
    capacity: u16,
    /// The user was told lines are delayed, in this burst (reset by the
    /// first line that goes through at once).
    told: bool,
    /// The connection is ending: lines offered now wait without pacing, to
    /// be handed over, or are dropped (and counted) once the queue is full.
    closing: bool,
    /// Lines dropped while closing, for the one log line that says so.
    dropped: u32,
}

/// What became of a line offered to [`FloodControl`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Offered<T> {
    /// Within the limit: handle it now.
    Now(T),
    /// Over the limit: it waits `wait`; `tell` is true for the first line
    /// of a burst, whose user should be told (once, not per line).
    Delayed { wait: Duration, tell: bool },
    /// The connection is ending and the queue is full: the line is dropped
    /// (counted in [`FloodControl::dropped`]).
    Dropped,
}

impl<T> FloodControl<T> {
    /// `rate` lines a second after a burst of `burst`, with up to `burst`
    /// lines waiting; rate 0 is no limit.
    pub(crate) fn new(rate: u32, burst: u32, now: Instant) -> FloodControl<T> {
        let capacity = usize::try_from(burst)
            .unwrap_or(MAX_FLOOD_QUEUE)
            .clamp(1, MAX_FLOOD_QUEUE);
        FloodControl {
            bucket: TokenBucket::new(rate, burst, now),
            waiting: VecDeque::new(),
            capacity: u16::try_from(capacity).unwrap_or(u16::MAX),
            told: false,
            closing: false,
            dropped: 0,
        }
    }

    /// Offers a line typed at `now`. While lines wait, a new one waits
    /// behind them, so lines keep their order. The caller offers none while
    /// the queue [is full](FloodControl::is_full); one offered anyway still
    /// waits its turn (losing it would be worse than passing the bound by
    /// one).
    pub(crate) fn offer(&mut self, line: T, now: Instant) -> Offered<T> {
        if self.closing {
            if self.is_full() {
                self.dropped = self.dropped.saturating_add(1);
                return Offered::Dropped;
            }
            self.waiting.push_back((line, now));
            return Offered::Delayed {
                wait: Duration::ZERO,
                tell: false,
            };
        }
        let wait = self.bucket.take(now);
        let last_due = self.waiting.back().map(|waiting| waiting.1);
        let due = match (wait, last_due) {
            (None, None) => {
                self.told = false;
                return Offered::Now(line);
            }
            // Never before the line ahead of it.
            (wait, last) => (now + wait.unwrap_or_default()).max(last.unwrap_or(now)),
        };
        let tell = !std::mem::replace(&mut self.told, true);
        self.waiting.push_back((line, due));
        Offered::Delayed {
            wait: due.saturating_duration_since(now),
            tell,
        }
    }

    /// When the first waiting line may go, if one waits.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.waiting.front().map(|waiting| waiting.1)
    }

    /// Whether the queue is full (input is not read meanwhile).
    pub(crate) fn is_full(&self) -> bool {
        self.waiting.len() >= usize::from(self.capacity)
    }

    /// The first waiting line, if its time has come by `now`.
    pub(crate) fn take_due(&mut self, now: Instant) -> Option<T> {
        if self.due()? > now {
            return None;
        }
        let line = self.waiting.pop_front().map(|waiting| waiting.0);
        if self.waiting.is_empty() {
            self.waiting = VecDeque::new();
        }
        line
    }

    /// The connection is ending: from now on lines wait without pacing
    /// until the queue is full, and are dropped (counted) after that.
    pub(crate) fn close(&mut self) {
        self.closing = true;
    }

    /// Every waiting line, in order, at once (the connection is ending).
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = T> + use<T> {
        std::mem::take(&mut self.waiting)
            .into_iter()
            .map(|waiting| waiting.0)
    }

    /// Lines dropped while closing because the queue was full.
    pub(crate) fn dropped(&self) -> u32 {
        self.dropped
    }
}

/// Why a connection was refused before its session started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The server holds `max_connections` already.
    Full(usize),
    /// This address holds `max_connections_per_ip` already.
    PerAddress(usize),
    /// This address opened its `connect_burst_per_ip` and then more than
    /// `connect_rate_per_ip_per_minute` (the number held here) new
    /// connections.
    TooFast(u32),
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
            Refusal::TooFast(per_minute) => format!(
                "*** Too many new connections from your address (at most {per_minute} a minute). Please wait a minute and try again.\r\n"
            ),
        }
    }
}

/// For the log, as an admin reads it.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Full(max) => write!(f, "server full ({max} connections)"),
            Refusal::PerAddress(max) => write!(f, "address holds {max} connections already"),
            Refusal::TooFast(per_minute) => {
                write!(
                    f,
                    "address opens more than {per_minute} connections a minute"
                )
            }
        }
    }
}

/// Addresses whose connection rate is remembered at once. Past it, the
/// address closest to a full burst (the one the table's loss favours least)
/// is forgotten, so an attacker rotating through IPv6 /64s or spoofed
/// sources cannot grow the table: 4096 entries are about 300 KiB at most.
pub(crate) const RATE_TABLE_ENTRIES: usize = 4096;

/// Open connections, in all and per address, and the rate of new ones per
/// address.
#[derive(Debug)]
pub struct Connections {
    /// `max_connections`.
    max_total: usize,
    /// `max_connections_per_ip`.
    max_per_address: usize,
    /// The counts and the rates; one lock, taken on connect and disconnect.
    open: Mutex<Counts>,
}

#[derive(Debug)]
struct Counts {
    /// Connections open now.
    total: usize,
    /// Connections open now per address; an entry exists only while its
    /// address holds one, so this is bounded by `max_connections`.
    per_address: HashMap<AddressGroup, usize>,
    /// New connections per address per minute.
    rates: ConnectRates,
}

impl Connections {
    /// At most `max_total` connections, `max_per_address` from one address,
    /// which may open `burst` at once and then `per_minute` a minute (0: no
    /// rate limit).
    pub fn new(
        max_total: usize,
        max_per_address: usize,
        per_minute: u32,
        burst: u32,
    ) -> Arc<Connections> {
        Arc::new(Connections {
            max_total,
            max_per_address,
            open: Mutex::new(Counts {
                total: 0,
                per_address: HashMap::new(),
                rates: ConnectRates::new(per_minute, burst, RATE_TABLE_ENTRIES),
            }),
        })
    }

    /// Counts a new connection from `address` at `now`, or says why it is
    /// refused. The count drops when the returned permit is dropped. An
    /// attempt refused for the address's count still used one of its
    /// connections per minute, so a reconnect loop slows down either way.
    pub fn admit(self: &Arc<Self>, address: IpAddr, now: Instant) -> Result<Permit, Refusal> {
        let group = AddressGroup::of(address);
        // A poisoned lock only means a panic elsewhere while counting; the
        // counts themselves are still whole numbers worth using.
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            return Err(Refusal::Full(self.max_total));
        }
        if !open.rates.take(group, now) {
            return Err(Refusal::TooFast(open.rates.per_minute));
        }
        let from_address = open.per_address.entry(group).or_insert(0);
        if *from_address >= self.max_per_address {
            return Err(Refusal::PerAddress(self.max_per_address));
        }
        *from_address += 1;
        open.total += 1;
        Ok(Permit {
            connections: Arc::clone(self),
            group,
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
    /// Where the place is given back.
    connections: Arc<Connections>,
    /// The address group the place was counted for.
    group: AddressGroup,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.per_address.get_mut(&self.group) {
            *count -= 1;
            if *count == 0 {
                open.per_address.remove(&self.group);
            }
        }
    }
}

/// New connections per address: a token bucket per [`AddressGroup`]
/// (`burst` at once, then `per_minute`), in a table of bounded size. Unlike
/// flood control's bucket, a refused connection leaves no debt: it is
/// refused, not delayed. An address whose bucket has refilled to the burst
/// is the same as one never seen, so such entries are the first forgotten.
#[derive(Debug)]
pub(crate) struct ConnectRates {
    /// Connections a minute once the burst is used; 0 turns the limit off.
    per_minute: u32,
    /// Connections at once.
    burst: f64,
    /// Most addresses remembered.
    capacity: usize,
    /// Each address's tokens and when they were counted.
    buckets: HashMap<AddressGroup, (f64, Instant)>,
}

impl ConnectRates {
    pub(crate) fn new(per_minute: u32, burst: u32, capacity: usize) -> ConnectRates {
        ConnectRates {
            per_minute,
            burst: f64::from(burst.max(1)),
            capacity: capacity.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Takes a token for a new connection from `group` at `now`: false if
    /// it has none left.
    pub(crate) fn take(&mut self, group: AddressGroup, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let tokens = match self.buckets.get(&group) {
            Some(&(tokens, last)) => self.refilled(tokens, last, now),
            None => {
                if self.buckets.len() >= self.capacity {
                    self.make_room(now);
                }
                self.burst
            }
        };
        if tokens < 1.0 {
            self.buckets.insert(group, (tokens, now));
            return false;
        }
        self.buckets.insert(group, (tokens - 1.0, now));
        true
    }

    /// Addresses remembered now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.len()
    }

    fn refilled(&self, tokens: f64, last: Instant, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        (tokens + elapsed * f64::from(self.per_minute) / 60.0).min(self.burst)
    }

    /// Forgets every address back to a full burst; if none is, the one
    /// nearest to it. Runs only with the table full, and a full table of
    /// busy addresses means more addresses than `capacity` opened
    /// connections within one burst's refill time.
    fn make_room(&mut self, now: Instant) {
        let burst = self.burst;
        let per_minute = f64::from(self.per_minute);
        let refilled = |&(tokens, last): &(f64, Instant)| {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            (tokens + elapsed * per_minute / 60.0).min(burst)
        };
        self.buckets.retain(|_, bucket| refilled(bucket) < burst);
        if self.buckets.len() < self.capacity {
            return;
        }
        let fullest = self
            .buckets
            .iter()
            .max_by(|a, b| refilled(a.1).total_cmp(&refilled(b.1)))
            .map(|(group, _)| *group);
        if let Some(group) = fullest {
            self.buckets.remove(&group);
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
    fn flood_control_queues_lines_in_order_and_tells_once_per_burst() {
        let start = Instant::now();
        let mut flood = FloodControl::new(2, 2, start);
        assert_eq!(flood.offer("a", start), Offered::Now("a"));
        assert_eq!(flood.offer("b", start), Offered::Now("b"));
        assert!(!flood.is_full());
        assert_eq!(flood.due(), None);
        let wait = Duration::from_millis(500);
        assert_eq!(
            flood.offer("c", start),
            Offered::Delayed { wait, tell: true }
        );
        assert!(!flood.is_full());
        assert_eq!(flood.due(), Some(start + wait));
        // A second waits behind it, not told again; the queue (the burst,
        // 2) is then full.
        assert_eq!(
            flood.offer("d", start),
            Offered::Delayed {
                wait: wait * 2,
                tell: false
            }
        );
        assert!(flood.is_full());
        // Not yet due: it stays.
        assert_eq!(flood.take_due(start + wait / 2), None);
        assert_eq!(flood.take_due(start + wait), Some("c"));
        assert!(!flood.is_full());
        assert_eq!(flood.take_due(start + wait), None);
        assert_eq!(flood.take_due(start + wait * 2), Some("d"));
        assert_eq!(flood.due(), None);
        // A quiet spell: the next line goes at once and a later burst is
        // told again.
        let later = start + Duration::from_secs(10);
        assert_eq!(flood.offer("e", later), Offered::Now("e"));
        assert_eq!(flood.offer("f", later), Offered::Now("f"));
        assert!(matches!(
            flood.offer("g", later),
            Offered::Delayed { tell: true, .. }
        ));
    }

    #[test]
    fn a_line_never_overtakes_one_that_waits() {
        let start = Instant::now();
        let mut flood = FloodControl::new(1, 3, start);
        for line in 0..3 {
            assert_eq!(flood.offer(line, start), Offered::Now(line));
        }
        assert!(matches!(flood.offer(3, start), Offered::Delayed { .. }));
        // Much later the bucket is full again, but 3 has not been taken:
        // 4 waits behind it rather than going first.
        let later = start + Duration::from_secs(60);
        assert!(matches!(flood.offer(4, later), Offered::Delayed { .. }));
        assert_eq!(flood.take_due(later), Some(3));
        assert_eq!(flood.take_due(later), Some(4));
        // One offered while full still waits its turn.
        let mut flood = FloodControl::new(1, 1, start);
        assert_eq!(flood.offer(1, start), Offered::Now(1));
        assert!(matches!(flood.offer(2, start), Offered::Delayed { .. }));
        assert!(flood.is_full());
        assert!(matches!(flood.offer(3, start), Offered::Delayed { .. }));
        let end = start + Duration::from_secs(5);
        assert_eq!(flood.take_due(end), Some(2));
        assert_eq!(flood.take_due(end), Some(3));
    }

    #[test]
    fn at_the_end_lines_wait_unpaced_up_to_the_bound_and_are_handed_over_in_order() {
        let start = Instant::now();
        let mut flood = FloodControl::new(1, 3, start);
        for line in 0..3 {
            assert_eq!(flood.offer(line, start), Offered::Now(line));
        }
        assert!(matches!(flood.offer(3, start), Offered::Delayed { .. }));
        flood.close();
        assert!(matches!(
            flood.offer(4, start),
            Offered::Delayed { tell: false, .. }
        ));
        assert!(matches!(flood.offer(5, start), Offered::Delayed { .. }));
        // The queue (the burst, 3) is full: the rest is dropped and counted.
        assert_eq!(flood.offer(6, start), Offered::Dropped);
        assert_eq!(flood.offer(7, start), Offered::Dropped);
        assert_eq!(flood.dropped(), 2);
        assert_eq!(flood.take_all().collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(flood.take_all().count(), 0);
    }

    #[test]
    fn the_queue_is_the_burst_but_never_more_than_its_bound() {
        let now = Instant::now();
        for (burst, capacity) in [
            (0, 1),
            (1, 1),
            (10, 10),
            (64, 64),
            (100_000, MAX_FLOOD_QUEUE),
        ] {
            let mut flood = FloodControl::new(1, burst, now);
            flood.close();
            let held = (0..100_000)
                .take_while(|&line| flood.offer(line, now) != Offered::Dropped)
                .count();
            assert_eq!(held, capacity, "burst {burst}");
        }
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
        let connections = Connections::new(3, 2, 0, 1);
        let now = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = connections.admit(a, now).unwrap();
        let _second = connections.admit(a, now).unwrap();
        assert_eq!(
            connections.admit(a, now).unwrap_err(),
            Refusal::PerAddress(2)
        );
        let _third = connections.admit(b, now).unwrap();
        assert_eq!(connections.admit(b, now).unwrap_err(), Refusal::Full(3));
        drop(first);
        assert_eq!(connections.open(), 2);
        assert!(connections.admit(a, now).is_ok());
    }

    #[test]
    fn addresses_in_one_ipv6_slash_64_share_the_count() {
        let connections = Connections::new(100, 2, 0, 1);
        let now = Instant::now();
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let _a = connections.admit(ip("2001:db8:0:1::1"), now).unwrap();
        let _b = connections.admit(ip("2001:db8:0:1::2"), now).unwrap();
        assert_eq!(
            connections
                .admit(ip("2001:db8:0:1:ffff::3"), now)
                .unwrap_err(),
            Refusal::PerAddress(2)
        );
        // The next /64 is another address.
        assert!(connections.admit(ip("2001:db8:0:2::1"), now).is_ok());
        // An IPv4 peer over a dual-stack listener is its IPv4 address.
        let _c = connections.admit(ip("192.0.2.9"), now).unwrap();
        let _d = connections.admit(ip("::ffff:192.0.2.9"), now).unwrap();
        assert_eq!(
            connections.admit(ip("192.0.2.9"), now).unwrap_err(),
            Refusal::PerAddress(2)
        );
    }

    #[test]
    fn new_connections_over_the_rate_are_refused_until_the_bucket_refills() {
        let connections = Connections::new(1000, 1000, 60, 3);
        let start = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(connections.admit(a, start).unwrap());
        }
        assert_eq!(
            connections.admit(a, start).unwrap_err(),
            Refusal::TooFast(60)
        );
        // Refused attempts leave no debt: one second later (60 a minute),
        // one more gets in, and not two.
        for _ in 0..100 {
            assert!(connections.admit(a, start).is_err());
        }
        let later = start + Duration::from_secs(1);
        held.push(connections.admit(a, later).unwrap());
        assert!(connections.admit(a, later).is_err());
        // Another address has its own burst.
        assert!(connections.admit(b, start).is_ok());
        // Closing connections does not give back the rate.
        held.clear();
        assert!(connections.admit(a, later).is_err());
    }

    #[test]
    fn a_rate_of_zero_is_no_rate_limit() {
        let mut rates = ConnectRates::new(0, 1, 4);
        let now = Instant::now();
        for i in 0..1000u32 {
            let group = AddressGroup::of(IpAddr::from([10, 0, (i >> 8) as u8, i as u8]));
            assert!(rates.take(group, now));
        }
        assert_eq!(rates.len(), 0);
    }

    #[test]
    fn the_rate_table_stays_bounded_against_rotating_addresses() {
        let capacity = 64;
        let mut rates = ConnectRates::new(30, 2, capacity);
        let start = Instant::now();
        // 100,000 different /64s in one instant: the table keeps at most
        // `capacity`, and each new one still gets its burst.
        for i in 0..100_000u128 {
            let address = std::net::Ipv6Addr::from_bits((0x2001_0db8_u128 << 96) | (i << 64));
            let group = AddressGroup::of(IpAddr::V6(address));
            assert!(rates.take(group, start));
            assert!(rates.len() <= capacity);
        }
        // Ten minutes on, everyone is back to a full burst: the next
        // newcomer's sweep forgets them all.
        let busy = AddressGroup::of("192.0.2.1".parse().unwrap());
        let later = start + Duration::from_secs(600);
        assert!(rates.take(busy, later));
        assert_eq!(rates.len(), 1);
        assert!(rates.take(busy, later));
        assert!(!rates.take(busy, later));
        // Newcomers that fill the table evict the fullest of them, never the
        // address that used its burst: it is still refused.
        for i in 0..(4 * capacity as u16) {
            let other = AddressGroup::of(IpAddr::from([198, 51, (i >> 8) as u8, i as u8]));
            assert!(rates.take(other, later));
            assert!(rates.len() <= capacity);
        }
        assert!(!rates.take(busy, later));
    }

    #[test]
    fn refusals_are_one_line() {
        for refusal in [
            Refusal::Full(10),
            Refusal::PerAddress(2),
            Refusal::TooFast(30),
        ] {
            let message = refusal.message("tavern");
            assert!(message.starts_with("*** ") && message.ends_with("\r\n"));
            assert_eq!(message.matches("\r\n").count(), 1);
        }
    }
}
