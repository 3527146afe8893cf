//! Hostile clients against a real tavern process: while one client
//! misbehaves, two observers keep chatting and see each other's lines, the
//! server stays up, and its RSS (read from /proc) stays under a stated bound.
//!
//! The misbehaviour: endless input without a line end or subnegotiation end,
//! random bytes, connect/disconnect cycles, a client that never reads, 2,000
//! connections that never sign on, hostile nicknames, a nickname typed a byte
//! at a time between negotiation replies, running the server out of file
//! descriptors, a second SIGTERM during shutdown, megabytes of editing
//! controls (CPU per MB against plain text), and connections that never read
//! while they make the server echo and redraw.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::process::{Tavern, TavernBuilder};
use common::telnet::{
    AYT, CHARSET, CHARSET_REQUEST, DO, DONT, ECHO, GMCP, IAC, MCCP2, MSSP, NAWS, NOP, Reader, SB,
    SE, SGA, TELOPT_EOR, TTYPE, TTYPE_IS, TTYPE_SEND, WILL, sb,
};
use common::{BulkReader, Client, DEADLINE};

/// Most the server's RSS may grow while one client misbehaves. The limits
/// that bound it (a line's 4 × 1000 bytes, a subnegotiation's 8 KiB, a
/// session's 256 KiB of output) are far below this, and growth measured
/// here is under 200 KiB; a buffer that grew with the input (4 to 10 MB
/// sent) would pass it.
const RSS_GROWTH_BOUND_KB: u64 = 2 * 1024;

/// Negotiation wait for servers whose clients answer no negotiation (as the
/// in-process tests' `test_config`): each raw client is prompted sooner.
const FAST_NEGOTIATION_MS: &str = "300";

/// A tavern whose raw clients are prompted after `FAST_NEGOTIATION_MS`.
fn fast_negotiation() -> TavernBuilder {
    Tavern::builder().env("TAVERN_NEGOTIATION_WAIT_MS", FAST_NEGOTIATION_MS)
}

/// Pause between polls inside a deadline loop.
const POLL: Duration = Duration::from_millis(5);

/// Two signed-on observers that check they still hear each other.
struct Observers {
    ann: Client,
    bob: Client,
    round: usize,
}

impl Observers {
    fn new(server: &Tavern) -> Observers {
        let ann = Client::sign_on(server.addr, "ann");
        let bob = Client::sign_on(server.addr, "bob");
        Observers { ann, bob, round: 0 }
    }

    /// One exchange both ways; fails the test if either line is lost.
    fn chat(&mut self) {
        self.round += 1;
        let from_ann = format!("ann says {}", self.round);
        let from_bob = format!("bob says {}", self.round);
        self.ann.send_line(&from_ann);
        self.bob.send_line(&from_bob);
        self.bob.expect(&format!("ann: {from_ann}"));
        self.ann.expect(&format!("bob: {from_bob}"));
    }
}

/// Sends `bytes` in pieces, letting the observers chat between pieces.
fn send_while_chatting(hostile: &Client, bytes: &[u8], observers: &mut Observers) {
    let mut stream = hostile.stream();
    for piece in bytes.chunks(bytes.len().div_ceil(8).max(1)) {
        // The server may close the hostile connection part way; that is
        // allowed, so a write error ends the sending, not the test.
        if stream.write_all(piece).is_err() {
            break;
        }
        observers.chat();
    }
}

/// A deterministic stream of hostile bytes: invalid UTF-8, NULs, lone CRs,
/// escapes, IACs.
fn garbage(len: usize, mut seed: u32) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            match seed % 16 {
                0 => 0,
                1 => b'\r',
                2 => 0x1b,
                3 => 0xff,
                4 => 0xc3,
                _ => (seed >> 8) as u8,
            }
        })
        .collect()
}

fn scenario(name: &str, hostile_bytes: &[u8]) {
    let mut server = Tavern::builder().start();
    let mut observers = Observers::new(&server);
    observers.chat();
    let before = server.rss_kb();
    let hostile = Client::connect(server.addr);
    send_while_chatting(&hostile, hostile_bytes, &mut observers);
    observers.chat();
    server.assert_rss_growth(before, RSS_GROWTH_BOUND_KB, name);
    server.assert_running();
}

#[test]
fn ten_megabytes_without_a_newline() {
    scenario("10 MB, no newline", &vec![b'x'; 10 * 1024 * 1024]);
}

#[test]
fn a_subnegotiation_that_never_ends() {
    let mut bytes = vec![IAC, SB, TTYPE];
    bytes.extend(std::iter::repeat_n(b'y', 5 * 1024 * 1024));
    scenario("endless subnegotiation", &bytes);
}

#[test]
fn random_bytes_with_invalid_utf8_nuls_and_lone_crs() {
    scenario("garbage", &garbage(4 * 1024 * 1024, 0x1234_5678));
}

#[test]
fn a_thousand_connect_and_disconnect_cycles_leave_no_ghosts() {
    let server = Tavern::builder()
        .env("TAVERN_NEGOTIATION_WAIT_MS", "20")
        .start();
    let mut observers = Observers::new(&server);
    let addr = server.addr;
    let start = Instant::now();
    let threads: Vec<_> = (0..10)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..100 {
                    let mut client = Client::connect(addr);
                    // Half sign on and then vanish; half vanish at once.
                    if i % 2 == 0 {
                        client.send_line(&format!("g{t}x{i}"));
                        client.expect("Welcome");
                    }
                    if i % 4 < 2 {
                        client.reset();
                    } else {
                        client.close();
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a cycling thread panicked");
        observers.chat();
    }
    assert!(start.elapsed() < DEADLINE * 8, "cycles took too long");
    // Everyone gone is gone: /who settles on the two observers.
    let begin = Instant::now();
    loop {
        observers.ann.send_line("/who");
        let who = observers.ann.expect("idle");
        let _ = observers.ann.rest();
        if who.contains("In lobby: 2 people") {
            break;
        }
        assert!(begin.elapsed() < DEADLINE, "ghosts left in /who: {who}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    observers.chat();
}

impl Observers {
    /// The lines of ann's `/who`, up to a marker line of her own sent after
    /// it (the answer to `/who` comes before it).
    fn who(&mut self) -> Vec<String> {
        self.round += 1;
        let marker = format!("end of who {}", self.round);
        self.ann.send_line("/who");
        self.ann.send_line(&marker);
        let text = self.ann.expect(&format!("ann: {marker}"));
        let from = text
            .find("*** In lobby:")
            .unwrap_or_else(|| panic!("no /who answer in {text:?}"));
        text[from..]
            .lines()
            .take_while(|line| line.starts_with("*** "))
            .map(str::to_owned)
            .collect()
    }

    /// Nicks listed by `/who`, sorted as the server lists them.
    fn who_nicks(&mut self) -> Vec<String> {
        self.who()
            .iter()
            .skip(1)
            .map(|line| {
                line.trim_start_matches("*** ")
                    .split_whitespace()
                    .next()
                    .unwrap_or_else(|| panic!("/who line without a nick: {line:?}"))
                    .to_owned()
            })
            .collect()
    }
}

/// `raw` with telnet IAC sequences removed and everything else kept, so that
/// an escape or bidi control the server passed on is still there.
fn without_telnet(raw: &[u8]) -> Vec<u8> {
    Reader::parse(raw).text
}

/// Bidi controls that reorder what follows them on screen.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// Fails if any byte `who` received (past telnet commands) is ESC or part of
/// a bidi control.
fn assert_clean(who: &str, raw: &[u8]) {
    let text = without_telnet(raw);
    if let Some(at) = text.iter().position(|&b| b == 0x1b) {
        let from = at.saturating_sub(60);
        panic!(
            "{who} received an ESC byte: {:?}",
            String::from_utf8_lossy(&text[from..(at + 20).min(text.len())])
        );
    }
    let text = String::from_utf8_lossy(&text);
    if let Some(c) = text.chars().find(|&c| is_bidi_control(c)) {
        panic!("{who} received bidi control U+{:04X}", u32::from(c));
    }
}

/// Raises this process's soft limit on open files to the hard limit (a
/// child started afterwards inherits it); returns the new soft limit.
fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(got, 0, "getrlimit(RLIMIT_NOFILE)");
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: setrlimit only reads the struct it is given.
        let set = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
        assert_eq!(set, 0, "setrlimit(RLIMIT_NOFILE) to the hard limit");
    }
    limit.rlim_cur
}

// ---------------------------------------------------------------------------
// 1. A signed-on client that never reads while the observers exchange
//    megabytes.

/// Lines each observer sends per piece: 2 observers × 64 lines × 1 KB is
/// 128 KiB of chat a piece.
const BULK_LINES: usize = 64;
/// Most pieces sent (16 MiB). The stalled client is dropped once the
/// kernel's buffers for it (the server's send buffer grows to `tcp_wmem`'s
/// 4 MiB) and the server's queue and pending output for it are full: here
/// after about 5 MiB of chat (2,624 lines from each observer).
const BULK_MAX_PIECES: usize = 128;
/// Pieces sent after both observers saw the notice, to catch a second one.
const BULK_PIECES_AFTER_NOTICE: usize = 4;
/// Characters per bulk line (the line limit is 1000).
const BULK_CHARS: usize = 990;

/// Most the server's RSS may grow, at its peak, while a client that never
/// reads is sent megabytes. What bounds it is that client's queue
/// (`outbound_queue`, 1024 lines) and its 256 KiB of pending output.
/// Measured peak growth: 4.9 to 5.0 MiB with the system allocator, 5.6 to
/// 6.0 MiB with jemalloc (10.6 MiB with mimalloc); the observers' traffic
/// alone, without the stalled client, grows it by 1 MiB, so the stalled
/// client pins about 4 MiB, some 4 KB per queued line of 1 KB.
const STALLED_RSS_GROWTH_BOUND_KB: u64 = 16 * 1024;

const STALLED_NOTICE: &str = "*** sleepy was disconnected (not reading)";

fn bulk_line(sender: &str, counter: usize) -> String {
    let head = format!("bulk {sender} {counter} ");
    format!("{head}{}", "x".repeat(BULK_CHARS - head.len()))
}

#[test]
fn a_client_that_never_reads_is_dropped_while_observers_exchange_megabytes() {
    let mut server = fast_negotiation().start();
    let mut observers = Observers::new(&server);
    // Signs on, then never reads again.
    let mut sleepy = Client::sign_on(server.addr, "sleepy");
    observers.ann.expect("*** sleepy has joined lobby");
    observers.bob.expect("*** sleepy has joined lobby");
    observers.chat();
    let before = server.rss_kb();
    let mut peak = before;

    let start = Instant::now();
    let mut other = Vec::new();
    {
        let mut ann = BulkReader::new(&mut observers.ann, "ann", bulk_line, "bulk ");
        let mut bob = BulkReader::new(&mut observers.bob, "bob", bulk_line, "bulk ");
        let mut sent = 0;
        let mut pieces = 0;
        let mut pieces_after_notice = 0;
        while pieces_after_notice < BULK_PIECES_AFTER_NOTICE {
            assert!(
                pieces < BULK_MAX_PIECES,
                "no notice after {pieces} pieces ({sent} lines from each observer)"
            );
            // Each piece within `DEADLINE`.
            let at = Instant::now();
            ann.send_lines(sent..sent + BULK_LINES, at);
            bob.send_lines(sent..sent + BULK_LINES, at);
            sent += BULK_LINES;
            pieces += 1;
            // The round trip: each observer has every line of both before
            // the next piece.
            ann.catch_up(sent, at);
            bob.catch_up(sent, at);
            peak = peak.max(server.rss_kb());
            if ann.count(STALLED_NOTICE) > 0 && bob.count(STALLED_NOTICE) > 0 {
                pieces_after_notice += 1;
            }
        }
        eprintln!(
            "stalled: {sent} lines of {BULK_CHARS} characters from each observer ({} KiB in all) in {:?}",
            2 * sent * (BULK_CHARS + 2) / 1024,
            start.elapsed()
        );
        other.push(ann.finish());
        other.push(bob.finish());
    }
    for seen in &other {
        let notices = seen.iter().filter(|l| *l == STALLED_NOTICE).count();
        assert_eq!(notices, 1, "the notice, once: {seen:?}");
    }
    observers.chat();
    let who = observers.who_nicks();
    assert_eq!(
        who,
        ["ann", "bob"],
        "/who after the stalled client was dropped"
    );
    sleepy.expect_closed();
    let grown = peak.saturating_sub(before);
    eprintln!("stalled: RSS grew by at most {grown} KiB");
    assert!(
        grown <= STALLED_RSS_GROWTH_BOUND_KB,
        "RSS grew by {grown} KiB (bound {STALLED_RSS_GROWTH_BOUND_KB} KiB)"
    );
    let log = server.log();
    assert!(
        log.contains("outbound queue full, disconnecting"),
        "log: {log}"
    );
    server.assert_running();
}

// ---------------------------------------------------------------------------
// 2. Thousands of connections that never sign on.

/// Connections held at once that never send a byte.
const IDLE_CONNECTIONS: usize = 2000;

/// Connections opened at once, below the server's listen backlog.
const IDLE_BATCH: usize = 100;

/// Sign-on timeout for the idle-connections server: long enough that all of
/// them are connected and prompted (in 2 s here) before the first is timed
/// out on a machine a few times slower, short enough to wait for.
const IDLE_SIGNON_TIMEOUT_SECS: u64 = 8;

/// Most RSS one connection that has been greeted and waits for a nick may
/// cost the server, measured with all of them held. Measured: 2.9 KB with
/// the system allocator, 4.0 to 7.1 KB with jemalloc (6.7 KB with
/// mimalloc), over issue 5's budget of 4 KiB; part of it is the 70 to 110
/// threads tokio starts for the banner reads (`tokio::fs`) of a burst of
/// connections.
const IDLE_RSS_PER_CONNECTION_BOUND_BYTES: u64 = 16 * 1024;

/// A raw connection polled without blocking.
struct Held {
    stream: TcpStream,
    got: Vec<u8>,
    closed: bool,
}

impl Held {
    fn connect(addr: SocketAddr) -> Held {
        let stream = TcpStream::connect(addr).expect("connect an idle connection");
        stream.set_nonblocking(true).expect("non-blocking");
        Held {
            stream,
            got: Vec::new(),
            closed: false,
        }
    }

    /// Reads what is there; records the end of the connection.
    fn poll(&mut self) {
        let mut buf = [0u8; 4096];
        while !self.closed {
            match (&self.stream).read(&mut buf) {
                Ok(0) => self.closed = true,
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => self.closed = true,
                Err(e) => panic!("read from an idle connection: {e}"),
            }
        }
    }

    fn prompted(&self) -> bool {
        common::visible(&self.got).contains("Nickname:")
    }
}

/// Polls every connection until `done` holds for all of them, at most
/// `deadline`, letting the observers chat between sweeps; returns how many
/// do not satisfy `done` when the deadline passed (0 on success).
fn sweep_until(
    held: &mut [Held],
    done: impl Fn(&Held) -> bool,
    deadline: Duration,
    observers: &mut Observers,
) -> usize {
    let start = Instant::now();
    loop {
        for conn in held.iter_mut() {
            conn.poll();
        }
        let left = held.iter().filter(|c| !done(c)).count();
        if left == 0 || start.elapsed() > deadline {
            return left;
        }
        observers.chat();
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_thousand_connections_that_never_sign_on_are_held_then_timed_out() {
    let limit = raise_fd_limit();
    assert!(
        limit >= IDLE_CONNECTIONS as u64 + 200,
        "the hard limit on open files ({limit}) is too low for {IDLE_CONNECTIONS} connections"
    );
    let timeout = IDLE_SIGNON_TIMEOUT_SECS.to_string();
    let mut server = fast_negotiation()
        .env("TAVERN_SIGNON_TIMEOUT_SECS", &timeout)
        .start();
    let mut observers = Observers::new(&server);
    observers.chat();
    let before = server.rss_kb();

    let start = Instant::now();
    let mut held: Vec<Held> = Vec::with_capacity(IDLE_CONNECTIONS);
    // In batches under the listen backlog (128), each accepted (it has the
    // server's negotiation) before the next: a burst past the backlog has
    // SYNs dropped and retried a second later, which is the kernel's doing.
    while held.len() < IDLE_CONNECTIONS {
        let from = held.len();
        for _ in 0..IDLE_BATCH.min(IDLE_CONNECTIONS - from) {
            held.push(Held::connect(server.addr));
        }
        let unaccepted = sweep_until(
            &mut held[from..],
            |c| !c.got.is_empty(),
            DEADLINE,
            &mut observers,
        );
        assert_eq!(unaccepted, 0, "connections not accepted");
    }
    let connected = start.elapsed();
    // All greeted and waiting for a nick: the state they are held in.
    let unprompted = sweep_until(&mut held, Held::prompted, DEADLINE, &mut observers);
    assert_eq!(unprompted, 0, "connections never shown the nick prompt");
    let prompted = start.elapsed();
    let during = server.rss_kb();
    observers.chat();
    for conn in &mut held {
        conn.poll();
    }
    let early = held.iter().filter(|c| c.closed).count();
    assert_eq!(
        early, 0,
        "connections closed before the measurement ({connected:?} to connect, \
         {prompted:?} to be prompted): raise IDLE_SIGNON_TIMEOUT_SECS"
    );
    let per_connection = during.saturating_sub(before) * 1024 / IDLE_CONNECTIONS as u64;
    eprintln!(
        "idle: {IDLE_CONNECTIONS} connected in {connected:?}, prompted by {prompted:?}; \
         RSS grew by {} KiB, {per_connection} bytes per connection; {} threads",
        during.saturating_sub(before),
        server.threads()
    );
    assert!(
        per_connection <= IDLE_RSS_PER_CONNECTION_BOUND_BYTES,
        "{per_connection} bytes of RSS per idle connection (bound {IDLE_RSS_PER_CONNECTION_BOUND_BYTES})"
    );

    // The sign-on timeout closes every one of them, with the message.
    let deadline = Duration::from_secs(IDLE_SIGNON_TIMEOUT_SECS) + DEADLINE;
    let open = sweep_until(&mut held, |c| c.closed, deadline, &mut observers);
    assert_eq!(open, 0, "connections still open after the sign-on timeout");
    let untold = held
        .iter()
        .filter(|c| !common::visible(&c.got).contains("You took too long to sign on. Goodbye!"))
        .count();
    assert_eq!(untold, 0, "connections closed without the goodbye");
    eprintln!("idle: all closed by {:?}", start.elapsed());
    drop(held);
    assert_eq!(
        observers.who_nicks(),
        ["ann", "bob"],
        "/who after the timeouts"
    );
    observers.chat();
    server.assert_running();
}

// ---------------------------------------------------------------------------
// 3. Hostile nicknames.

/// Most the server's RSS may grow while the hostile nicknames are tried
/// (three of them stay signed on); measured: 50 to 280 KiB.
const NICKS_RSS_GROWTH_BOUND_KB: u64 = 1024;

/// What the server must make of a hostile nickname, worked out from
/// `sanitize` (every typed line is cleaned before sign-on sees it) and
/// `names` (the nickname rules).
enum Outcome {
    /// Accepted as this (sanitized, NFC) nick.
    Accepted(String),
    /// Refused with this notice, and prompted again.
    Refused(&'static str),
}

#[test]
fn hostile_nicknames_are_cleaned_or_refused_and_never_reach_the_observers() {
    let mut server = fast_negotiation().start();
    let mut observers = Observers::new(&server);
    observers.chat();
    // With colors off the server sends the observers no escape sequence of
    // its own (the banner before had some): from here on, any ESC would
    // have come from a hostile client.
    for observer in [&mut observers.ann, &mut observers.bob] {
        observer.send_line("/color off");
        observer.expect("Colors are off.");
    }
    let ann_from = observers.ann.raw.len();
    let bob_from = observers.bob.raw.len();
    let before = server.rss_kb();

    let marks = format!("z{}", "\u{301}".repeat(500));
    let long: String = (b'a'..=b'z')
        .cycle()
        .take(10 * 1024)
        .map(char::from)
        .collect();
    let cases: [(&str, String, Outcome); 4] = [
        (
            // Clear screen, home, set the window title, colors, blink:
            // `sanitize` removes every sequence whole, leaving the letters.
            "ANSI escapes",
            "\x1b[2J\x1b[H\x1b]0;owned\x07\x1b[1;31mansi\x1b[0m\x1b[5m\x1b(0".to_owned(),
            Outcome::Accepted("ansi".to_owned()),
        ),
        (
            // Right-to-left override, isolate and pop: `sanitize` removes
            // bidi controls, so `names` never sees them.
            "bidi overrides",
            "\u{202e}rtl\u{2067}name\u{2069}\u{202c}\u{200f}".to_owned(),
            Outcome::Accepted("rtlname".to_owned()),
        ),
        (
            // `max_combining_marks` (4) of the 500 are kept; NFC then
            // composes the first with the z.
            "500 combining marks",
            marks,
            Outcome::Accepted("\u{17a}\u{301}\u{301}\u{301}".to_owned()),
        ),
        (
            // Held to 4 × 1000 bytes, cut to 1000 characters by `sanitize`,
            // then over the 16-character nickname limit.
            "10 KB",
            long,
            Outcome::Refused("*** a nickname can be at most 16 characters long."),
        ),
    ];
    let mut accepted = vec!["ann".to_owned(), "bob".to_owned()];
    let mut signed_on = Vec::new();
    for (what, name, outcome) in &cases {
        let mut hostile = Client::connect(server.addr);
        hostile.expect("Nickname:");
        let mut line = name.clone().into_bytes();
        line.extend_from_slice(b"\r\n");
        hostile.send(&line);
        match outcome {
            Outcome::Accepted(nick) => {
                hostile.expect(&format!("Welcome, {nick}!"));
                for observer in [&mut observers.ann, &mut observers.bob] {
                    let seen = observer.expect(" has joined lobby");
                    let notice = seen.lines().last().unwrap_or_default();
                    assert_eq!(notice, format!("*** {nick} has joined lobby"), "{what}");
                }
                accepted.push(nick.clone());
                // Stays signed on: /who below lists it.
                signed_on.push(hostile);
            }
            Outcome::Refused(message) => {
                let told = hostile.expect(message);
                assert!(!told.contains("Welcome"), "{what}: {told:?}");
                hostile.expect("Nickname:");
                hostile.close();
            }
        }
        observers.chat();
    }
    let mut who = observers.who_nicks();
    who.sort();
    accepted.sort();
    assert_eq!(who, accepted, "/who after the hostile nicknames");
    observers.chat();
    assert_clean("ann", &observers.ann.raw[ann_from..]);
    assert_clean("bob", &observers.bob.raw[bob_from..]);
    server.assert_rss_growth(before, NICKS_RSS_GROWTH_BOUND_KB, "nicks");
    server.assert_running();
}

// ---------------------------------------------------------------------------
// 4. A nickname typed a byte at a time between telnet negotiation replies.

/// Most the server's RSS may grow in the scenarios with one more client
/// (typed nick, second SIGTERM); measured: 4 to 96 KiB.
const SMALL_RSS_GROWTH_BOUND_KB: u64 = 512;

/// How many times `pattern` occurs in `raw`.
fn occurrences(raw: &[u8], pattern: &[u8]) -> usize {
    raw.windows(pattern.len()).filter(|w| *w == pattern).count()
}

/// Reads until the client has received `pattern` at least `times` times.
fn wait_raw(client: &mut Client, pattern: &[u8], times: usize) {
    let start = Instant::now();
    while occurrences(&client.raw, pattern) < times {
        assert!(
            client.pump(),
            "connection closed while waiting for {pattern:?}"
        );
        assert!(
            start.elapsed() < DEADLINE,
            "timed out waiting for {pattern:?} ×{times}"
        );
    }
}

/// One write, then a pause so that the server reads it on its own rather
/// than coalesced with the next (pacing only; nothing waits on it).
fn write_alone(client: &mut Client, bytes: &[u8]) {
    client.send(bytes);
    std::thread::sleep(Duration::from_millis(3));
}

#[test]
fn a_nick_typed_a_byte_at_a_time_between_negotiation_replies_arrives_intact() {
    let mut server = Tavern::builder().start();
    let mut observers = Observers::new(&server);
    observers.chat();
    let before = server.rss_kb();
    let nick = "Zoë_42";
    let ttype_send = sb(TTYPE, &[TTYPE_SEND]);
    let ttype_is = |name: &str| {
        let mut data = vec![TTYPE_IS];
        data.extend_from_slice(name.as_bytes());
        sb(TTYPE, &data)
    };

    let mut zoe = Client::connect(server.addr);
    wait_raw(&mut zoe, &[IAC, DO, TTYPE], 1);
    let typed = nick.as_bytes();
    assert_eq!(typed.len(), 7, "Z o (two bytes of ë) _ 4 2");
    // Before the banner: the nick's first bytes (ë split in two) between
    // the replies a telnet client makes while it negotiates.
    write_alone(&mut zoe, &typed[0..1]);
    write_alone(&mut zoe, &[IAC, WILL, TTYPE]);
    write_alone(&mut zoe, &typed[1..2]);
    wait_raw(&mut zoe, &ttype_send, 1);
    write_alone(&mut zoe, &typed[2..3]);
    write_alone(&mut zoe, &[IAC, WILL, NAWS]);
    write_alone(&mut zoe, &typed[3..4]);
    write_alone(&mut zoe, &sb(NAWS, &[0, 80, 0, 24]));
    write_alone(&mut zoe, &[IAC, DONT, MCCP2]);
    write_alone(&mut zoe, &ttype_is("xterm"));
    wait_raw(&mut zoe, &ttype_send, 2);
    write_alone(&mut zoe, &typed[4..5]);
    write_alone(&mut zoe, &[IAC, DO, CHARSET]);
    wait_raw(&mut zoe, &[IAC, SB, CHARSET, CHARSET_REQUEST], 1);
    write_alone(&mut zoe, &[IAC, DONT, MSSP]);
    write_alone(&mut zoe, &[IAC, DONT, GMCP]);
    write_alone(&mut zoe, &[IAC, DO, TELOPT_EOR]);
    write_alone(&mut zoe, &sb(CHARSET, b"\x02UTF-8"));
    write_alone(&mut zoe, &typed[5..6]);
    write_alone(&mut zoe, &ttype_is("xterm-256color"));
    wait_raw(&mut zoe, &ttype_send, 3);
    // The same name again ends the cycle: negotiation is settled.
    write_alone(&mut zoe, &ttype_is("xterm-256color"));
    zoe.expect("Nickname:");
    // After the prompt: the rest, the line end split by a NAWS update.
    write_alone(&mut zoe, &[IAC, DO, ECHO]);
    write_alone(&mut zoe, &typed[6..7]);
    write_alone(&mut zoe, &[IAC, DO, SGA]);
    write_alone(&mut zoe, &[IAC, NOP]);
    write_alone(&mut zoe, b"\r");
    write_alone(&mut zoe, &sb(NAWS, &[0, 100, 0, 30]));
    write_alone(&mut zoe, b"\n");
    zoe.expect(&format!("Welcome, {nick}!"));

    for observer in [&mut observers.ann, &mut observers.bob] {
        let seen = observer.expect(" has joined lobby");
        let notice = seen.lines().last().unwrap_or_default();
        assert_eq!(notice, format!("*** {nick} has joined lobby"));
    }
    let who = observers.who_nicks();
    assert_eq!(who, ["ann", "bob", nick], "/who");
    zoe.send_line("typed by a telnet client");
    observers
        .ann
        .expect(&format!("{nick}: typed by a telnet client"));
    observers
        .bob
        .expect(&format!("{nick}: typed by a telnet client"));
    observers.chat();
    server.assert_rss_growth(before, SMALL_RSS_GROWTH_BOUND_KB, "typed nick");
    server.assert_running();
}

// ---------------------------------------------------------------------------
// 5. Accept errors (out of file descriptors) are survived.

/// The server's limit on open files in this scenario.
const ACCEPT_FD_LIMIT: u32 = 64;
/// Most connections opened to run the server out of descriptors.
const ACCEPT_MAX_EXTRA: usize = 256;
/// Most the server's RSS may grow while it runs out of descriptors (about 50
/// more connections held) and recovers; measured: 240 to 870 KiB.
const ACCEPT_RSS_GROWTH_BOUND_KB: u64 = 2 * 1024;
/// How long the failing state is watched.
const ACCEPT_WINDOW: Duration = Duration::from_secs(2);
/// Most CPU the server may use while accepts fail, as a share of one core
/// over the window: a loop retrying at once would use all of it; the
/// back-off (10 ms doubling to 1 s) uses next to none (measured: 30 to 60
/// ms of CPU in 2.1 s, under 3%).
const ACCEPT_CPU_BOUND_PERCENT: u64 = 50;

fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).expect("sysconf(_SC_CLK_TCK)")
}

#[test]
fn accept_errors_from_running_out_of_file_descriptors_are_survived() {
    let mut server = fast_negotiation().fd_limit(ACCEPT_FD_LIMIT).start();
    let mut observers = Observers::new(&server);
    observers.chat();
    let before = server.rss_kb();

    // Connections, each accepted (it gets the server's negotiation) before
    // the next, until one is not: the server has logged a failed accept.
    let mut extra: Vec<Held> = Vec::new();
    loop {
        assert!(
            extra.len() < ACCEPT_MAX_EXTRA,
            "accepts never failed with {} connections; log:\n{}",
            extra.len(),
            server.log()
        );
        let mut conn = Held::connect(server.addr);
        let start = Instant::now();
        let failing = loop {
            conn.poll();
            if server.log().contains("accept failed") {
                break true;
            }
            if !conn.got.is_empty() {
                break false;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "connection {} neither accepted nor failed; log:\n{}",
                extra.len(),
                server.log()
            );
            std::thread::sleep(POLL);
        };
        extra.push(conn);
        if failing {
            break;
        }
    }
    eprintln!("accept: failing after {} extra connections", extra.len());

    // The failing state: the server keeps trying (the log grows), neither
    // exits nor spins, and the observers, already accepted, chat on.
    let failures_before = server.log().matches("accept failed").count();
    let cpu_before = server.cpu_ticks();
    let start = Instant::now();
    while start.elapsed() < ACCEPT_WINDOW {
        observers.chat();
        std::thread::sleep(Duration::from_millis(100));
    }
    let window = start.elapsed();
    let used = server.cpu_ticks() - cpu_before;
    server.assert_running();
    let failures = server.log().matches("accept failed").count() - failures_before;
    let ticks = clock_ticks_per_second();
    let bound = window.as_millis() as u64 * ticks * ACCEPT_CPU_BOUND_PERCENT / 100 / 1000;
    eprintln!(
        "accept: {failures} more failed accepts, {used} CPU ticks (1/{ticks} s) in {window:?}"
    );
    assert!(failures >= 1, "no accept was retried in {window:?}");
    assert!(
        used <= bound,
        "the server used {used} ticks of CPU in {window:?} while accepts failed (bound {bound})"
    );

    // Descriptors back: a new client is accepted and signs on.
    drop(extra);
    let mut carol = Client::sign_on(server.addr, "carol");
    observers.ann.expect("*** carol has joined lobby");
    observers.bob.expect("*** carol has joined lobby");
    carol.send_line("I got in");
    observers.ann.expect("carol: I got in");
    observers.bob.expect("carol: I got in");
    observers.chat();
    server.assert_rss_growth(before, ACCEPT_RSS_GROWTH_BOUND_KB, "accept");
    server.assert_running();
}

// ---------------------------------------------------------------------------
// 6. A second SIGTERM while shutdown is in progress exits at once.

/// Longest a lingering client keeps sending.
const LINGER_SEND_MAX: Duration = Duration::from_secs(20);

#[test]
fn a_second_sigterm_during_shutdown_exits_at_once() {
    let mut server = fast_negotiation().start();
    let mut observers = Observers::new(&server);
    observers.chat();
    let before = server.rss_kb();

    // Keeps sending a byte every 10 ms, as a client pasting slowly would:
    // at shutdown its session, after the goodbye, reads what it still sends
    // until it goes quiet (at most 2 s), which holds the shutdown open.
    let lingerer = Client::sign_on(server.addr, "lingerer");
    observers.ann.expect("*** lingerer has joined lobby");
    observers.bob.expect("*** lingerer has joined lobby");
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let stop = Arc::clone(&stop);
        let stream = lingerer.stream().try_clone().expect("clone the stream");
        std::thread::spawn(move || {
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < LINGER_SEND_MAX {
                if (&stream).write_all(b"z").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    observers.chat();
    let grown = server.rss_kb().saturating_sub(before);

    server.terminate();
    observers.ann.expect("tavern is shutting down. Goodbye!");
    observers.bob.expect("tavern is shutting down. Goodbye!");
    // Shutdown is under way and not finished: the lingerer holds it.
    server.assert_running();
    server.terminate();
    let status = server.wait_exit();
    stop.store(true, Ordering::Relaxed);
    sender.join().expect("the sending thread panicked");
    let log = server.log();
    // A shutdown that finished would exit with success; the second signal
    // exits with failure at once, and says so.
    assert_eq!(status.code(), Some(1), "exit status {status}; log:\n{log}");
    assert!(
        log.contains("tavern: second signal, exiting now"),
        "log:\n{log}"
    );
    eprintln!("second signal: RSS grew by {grown} KiB");
    assert!(
        grown <= SMALL_RSS_GROWTH_BOUND_KB,
        "RSS grew by {grown} KiB (bound {SMALL_RSS_GROWTH_BOUND_KB} KiB)"
    );
}

/// Found by this suite: a nickname line that `sanitize` empties (only escape
/// sequences, or only bidi controls) was dropped at sign-on as if it were an
/// empty line: the client was neither told why nor prompted again, so the
/// user saw nothing happen. It now gets "a nickname cannot be empty" and the
/// prompt again.
#[test]
fn a_nickname_made_only_of_escape_codes_is_refused_with_a_message() {
    let mut server = fast_negotiation().start();
    let mut observers = Observers::new(&server);
    for observer in [&mut observers.ann, &mut observers.bob] {
        observer.send_line("/color off");
        observer.expect("Colors are off.");
    }
    let ann_from = observers.ann.raw.len();
    let bob_from = observers.bob.raw.len();
    let before = server.rss_kb();
    let mut hostile = Client::connect(server.addr);
    hostile.expect("Nickname:");
    hostile.send(b"\x1b[2J\x1b[H\x1b]0;owned\x07\x1b[1;31m\x1b[0m\r\n");
    observers.chat();
    // Told why, on a line of its own, then asked again.
    let told = hostile.expect("Nickname:");
    assert!(
        told.contains("*** a nickname cannot be empty."),
        "no message before the new prompt: {told:?}"
    );
    observers.chat();
    assert_eq!(observers.who_nicks(), ["ann", "bob"], "/who");
    assert_clean("ann", &observers.ann.raw[ann_from..]);
    assert_clean("bob", &observers.bob.raw[bob_from..]);
    server.assert_rss_growth(before, NICKS_RSS_GROWTH_BOUND_KB, "escape-code nickname");
    server.assert_running();
}

/// Most bytes tavern may send a connection that floods it with telnet
/// commands before sign-on: the banner and prompt (about 1 KB), its own
/// negotiation, one AYT answer, and the goodbye. An answer per AYT (the old
/// behaviour) would be about 20 bytes per 2 bytes sent.
const COMMAND_FLOOD_OUTPUT_BOUND: usize = 16 * 1024;

/// Writes `bytes` to `client`'s socket from a thread of its own, while the
/// caller reads; a write error (the server closed) ends the writing.
fn write_in_background(client: &Client, bytes: Vec<u8>) -> std::thread::JoinHandle<()> {
    let mut stream = client.stream().try_clone().expect("clone the socket");
    std::thread::spawn(move || {
        for piece in bytes.chunks(16 * 1024) {
            if stream.write_all(piece).is_err() {
                break;
            }
        }
    })
}

/// Issue 14 part 5: a megabyte of AYT, NOP and GMCP sent while GMCP is off,
/// before any nickname. Each counts against the negotiation budget (default
/// 500): the connection gets the existing goodbye and is closed, having
/// been sent a bounded amount; the observers chat throughout.
#[test]
fn a_megabyte_of_ayt_nop_and_gmcp_while_off_is_cut_off_with_bounded_output() {
    let mut server = fast_negotiation().start();
    let mut observers = Observers::new(&server);
    let mut unit = vec![IAC, AYT, IAC, NOP];
    unit.extend(sb(GMCP, br#"Core.Supports.Set ["Char 1", "Room 1"]"#));
    let flood: Vec<u8> = unit.iter().copied().cycle().take(1024 * 1024).collect();
    let mut hostile = Client::connect(server.addr);
    hostile.expect("Nickname:");
    let writer = write_in_background(&hostile, flood);
    let start = Instant::now();
    while hostile.pump() {
        assert!(
            start.elapsed() < DEADLINE,
            "still connected after {} bytes received",
            hostile.raw.len()
        );
        assert!(
            hostile.raw.len() <= COMMAND_FLOOD_OUTPUT_BOUND,
            "{} bytes sent to the flooder",
            hostile.raw.len()
        );
    }
    writer.join().expect("writer");
    eprintln!("command flood: {} bytes sent back", hostile.raw.len());
    assert!(hostile.raw.len() <= COMMAND_FLOOD_OUTPUT_BOUND);
    hostile.expect("Too many telnet negotiations from your client. Goodbye!");
    assert_eq!(
        hostile.visible().matches("yes, I am here").count(),
        1,
        "one AYT answer: {:?}",
        hostile.visible()
    );
    observers.chat();
    server.assert_running();
}

/// Most log bytes one hostile connection may cause, whatever it sends: a
/// line for the first of each kind of stray input (at most 16 kinds), one
/// summary at the end, and the connection's own lines (connected, signed
/// on, disconnected). RELIABILITY.md states it.
const LOG_BYTES_PER_CONNECTION_BOUND: usize = 8 * 1024;

/// One round of the hostile mix: stray commands, malformed and oversize
/// subnegotiations, unknown options, GMCP while off, an AYT flood, and a
/// line of text (which renews the negotiation budget, so the mix goes on
/// for as long as the client likes).
fn hostile_telnet_round(round: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for i in 0..20 {
        bytes.extend([IAC, AYT, IAC, NOP, IAC, 200 + (i % 8) as u8, IAC, SE]);
    }
    for i in 0..10 {
        bytes.extend([IAC, SB, IAC, NOP]);
        bytes.extend([IAC, WILL, 100 + ((round + i) % 50) as u8]);
        bytes.extend(sb(GMCP, br#"Core.Supports.Set ["Char 1"]"#));
    }
    if round.is_multiple_of(16) {
        // Past `max_subnegotiation` (8 KiB).
        bytes.extend(sb(TTYPE, &[b'y'; 9000]));
    }
    bytes.extend(b"x\r\n");
    bytes
}

/// The log lines that name `client`'s address (its connection's span).
fn log_bytes_of(server: &Tavern, client: &Client) -> (usize, Vec<String>) {
    let port = client.stream().local_addr().expect("local addr").port();
    let peer = format!("127.0.0.1:{port}");
    let lines: Vec<String> = server
        .log()
        .lines()
        .filter(|line| line.contains(&peer))
        .map(str::to_owned)
        .collect();
    (lines.iter().map(|l| l.len() + 1).sum(), lines)
}

/// Signs on, sends `rounds` of the hostile mix while reading, quits, and
/// returns the log bytes its connection caused, once its disconnection is
/// logged.
fn log_bytes_for_hostile_input(server: &Tavern, nick: &str, rounds: usize) -> (usize, usize) {
    let mut hostile = Client::sign_on(server.addr, nick);
    let mut input: Vec<u8> = (0..rounds).flat_map(hostile_telnet_round).collect();
    input.extend(b"/quit\r\n");
    let sent = input.len();
    let writer = write_in_background(&hostile, input);
    let start = Instant::now();
    while hostile.pump() {
        assert!(start.elapsed() < DEADLINE, "{nick}: still connected");
    }
    writer.join().expect("writer");
    hostile.expect("Goodbye!");
    let start = Instant::now();
    loop {
        let (bytes, lines) = log_bytes_of(server, &hostile);
        if lines.iter().any(|l| l.contains("disconnected")) {
            eprintln!(
                "{nick}: {sent} bytes of hostile input, {bytes} log bytes:\n{}",
                lines.join("\n")
            );
            return (sent, bytes);
        }
        assert!(start.elapsed() < DEADLINE, "{nick}: no disconnect logged");
        std::thread::sleep(POLL);
    }
}

/// Issue 14 part 6: a signed-on client sends stray commands, malformed and
/// oversize subnegotiations, unknown options, GMCP while off and AYT floods,
/// with a line now and then to renew its negotiation budget. The log it
/// causes is bounded whatever it sends: 100 KB and 1 MB of it cost the same
/// few lines, under `LOG_BYTES_PER_CONNECTION_BOUND`, at `info`.
#[test]
fn log_bytes_per_connection_are_bounded_whatever_it_sends() {
    let mut server = Tavern::builder().env("RUST_LOG", "info").start();
    let (small_in, small_log) = log_bytes_for_hostile_input(&server, "small", 250);
    let (large_in, large_log) = log_bytes_for_hostile_input(&server, "large", 2500);
    assert!(
        small_in >= 100_000 && large_in >= 1_000_000,
        "{small_in}, {large_in}"
    );
    for (sent, logged) in [(small_in, small_log), (large_in, large_log)] {
        assert!(
            logged <= LOG_BYTES_PER_CONNECTION_BOUND,
            "{logged} log bytes for {sent} bytes of input"
        );
    }
    // Not growing with the input: ten times the input, the same lines but
    // for the counts' digits.
    assert!(
        large_log <= small_log + 64,
        "log grew with the input: {small_log} then {large_log} bytes"
    );
    server.assert_running();
}

// ---------------------------------------------------------------------------
// Bounded work and output per input byte (issue 14, parts 3 and 4).

/// Bytes of each kind of input fed to the server in the CPU comparison.
const COST_BYTES: usize = 2 * 1024 * 1024;

/// Characters typed before the editing controls, so that each control
/// works on a long line (the line cap is 4 × 1000 bytes).
const LONG_LINE: usize = 3900;

/// Most CPU a megabyte of any kind of editing control may cost, as a
/// multiple of a megabyte of plain chat text, measured in the same run.
/// Measured (debug build): x + DEL 0.36, ^L 0.09, x + IAC EC 1.9; before
/// the editor kept its widths and drew once per read, 65 to 150.
const EDITING_CPU_RATIO_BOUND: f64 = 5.0;

/// Clock ticks added to the plain text's CPU before the ratio is taken:
/// `/proc/PID/stat` counts whole ticks, so a kind that costs next to
/// nothing must not fail on a tick of rounding.
const TICK_ROUNDING: u64 = 2;

/// Typed after each kind of input, after ^U, with the kind's number
/// between two of these: when its echo arrives, the server has handled
/// everything before it. (A marker of its own per kind: a redraw may show
/// one again.)
const MARKER: &[u8] = b"Qz7";

/// The marker typed after kind number `n` (under 10).
fn marker(n: usize) -> Vec<u8> {
    let mut bytes = MARKER.to_vec();
    bytes.push(b'0' + u8::try_from(n).expect("kind number"));
    bytes.extend_from_slice(MARKER);
    bytes
}

/// `len` bytes of one kind of input (after the long line where it edits
/// one), then ^U to clear the line.
fn cost_input(kind: &str, len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len + LONG_LINE + 16);
    let unit: &[u8] = match kind {
        "plain text" => b"the quick brown fox jumps over the lazy dog, again and again\r\n",
        "x + DEL" => b"x\x7f",
        "x + BS" => b"y\x08",
        "^L" => b"\x0c",
        "x + IAC EC" => &[b'x', IAC, common::telnet::EC],
        "^W + ^U" => b"one two three four five six seven eight \x17\x17\x17\x17\x15",
        // At the line's start (Home first, below): each edit moves the
        // whole line's bytes and measures.
        "Home, x + DEL" => b"x\x7f",
        "Left + Right" => b"\x1b[D\x1b[C",
        "Home + End" => b"\x1b[H\x1b[F",
        other => panic!("unknown kind {other}"),
    };
    if kind != "plain text" && kind != "^W + ^U" {
        bytes.extend(std::iter::repeat_n(b'x', LONG_LINE));
    }
    if kind == "Home, x + DEL" {
        bytes.extend_from_slice(b"\x1b[H");
    }
    while bytes.len() < len {
        bytes.extend_from_slice(unit);
    }
    bytes.push(0x15);
    bytes
}

/// What `count_markers` shares with the test: one more than the highest
/// kind number whose marker arrived, the bytes received, and a stop flag.
type Markers = (
    Arc<std::sync::atomic::AtomicUsize>,
    Arc<std::sync::atomic::AtomicUsize>,
    Arc<AtomicBool>,
);

/// Reads a connection on a thread of its own until told to stop, noting
/// the markers that arrive and the bytes received.
fn count_markers(stream: TcpStream) -> Markers {
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (count, bytes, done) = (Arc::clone(&seen), Arc::clone(&received), Arc::clone(&stop));
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("read timeout");
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        // The end of the previous read, for a marker split across reads.
        let mut tail: Vec<u8> = Vec::new();
        let whole = 2 * MARKER.len() + 1;
        while !done.load(Ordering::Relaxed) {
            match (&stream).read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    bytes.fetch_add(n, Ordering::Relaxed);
                    tail.extend_from_slice(&buf[..n]);
                    for window in tail.windows(whole) {
                        if window.starts_with(MARKER)
                            && window.ends_with(MARKER)
                            && window[MARKER.len()].is_ascii_digit()
                        {
                            let n = usize::from(window[MARKER.len()] - b'0');
                            count.fetch_max(n + 1, Ordering::Relaxed);
                        }
                    }
                    let drop = tail.len().saturating_sub(whole - 1);
                    tail.drain(..drop);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => break,
            }
        }
    });
    (seen, received, stop)
}

#[test]
fn editing_controls_cost_no_more_cpu_per_megabyte_than_five_times_plain_text() {
    let mut server = fast_negotiation()
        .env("TAVERN_LINE_EDITING", "server")
        .start();
    let client = Client::sign_on(server.addr, "typist");
    let (markers, received, stop) = count_markers(client.stream().try_clone().expect("clone"));
    let mut stream = client.stream().try_clone().expect("clone");
    let kinds = [
        "plain text",
        "x + DEL",
        "x + BS",
        "^L",
        "x + IAC EC",
        "^W + ^U",
        "Home, x + DEL",
        "Left + Right",
        "Home + End",
    ];
    let ticks_per_second = clock_ticks_per_second() as f64;
    let mut costs = Vec::new();
    for (done, kind) in kinds.iter().enumerate() {
        let input = cost_input(kind, COST_BYTES);
        let before = server.cpu_ticks();
        let output_before = received.load(Ordering::Relaxed);
        let start = Instant::now();
        stream.write_all(&input).expect("send the input");
        stream.write_all(&marker(done)).expect("send the marker");
        while markers.load(Ordering::Relaxed) <= done {
            assert!(
                start.elapsed() < 4 * DEADLINE,
                "{kind}: the server did not get through {} KiB in {:?}",
                input.len() / 1024,
                4 * DEADLINE
            );
            std::thread::sleep(POLL);
        }
        let ticks = server.cpu_ticks() - before;
        let megabytes = input.len() as f64 / (1024.0 * 1024.0);
        let output = received.load(Ordering::Relaxed) - output_before;
        eprintln!(
            "{kind}: {:.3} s of CPU per MB ({ticks} ticks for {megabytes:.2} MB, {:?}); \
             {:.2} bytes of output per byte",
            ticks as f64 / ticks_per_second / megabytes,
            start.elapsed(),
            output as f64 / input.len() as f64,
        );
        costs.push((kind, ticks as f64 / megabytes));
        // The next kind starts on an empty line.
        stream.write_all(b"\x15").expect("clear the line");
    }
    stop.store(true, Ordering::Relaxed);
    let plain = costs[0].1 + TICK_ROUNDING as f64;
    for (kind, cost) in &costs[1..] {
        let ratio = cost / plain;
        eprintln!("{kind}: {ratio:.2} × plain text");
        assert!(
            ratio <= EDITING_CPU_RATIO_BOUND,
            "{kind} costs {ratio:.1} times the CPU of plain text per MB (bound {EDITING_CPU_RATIO_BOUND})"
        );
    }
    server.assert_running();
}

/// Connections that never read, before sign-on and after, each sending one
/// kind of input that makes output.
const NON_READERS: [(&str, bool); 6] = [
    ("^L", false),
    ("x + DEL", false),
    ("nick lines", false),
    ("^L", true),
    ("x + IAC EC", true),
    ("/help", true),
];

/// Most a non-reading connection may send before the test gives up waiting
/// for the server to stop reading it.
const NON_READER_MAX_BYTES: usize = 32 * 1024 * 1024;

/// Most the server's RSS may grow per connection that never reads, whatever
/// it sends: the write budget (256 KiB, RELIABILITY.md) plus one event's
/// output past it, and the session's own buffers (the line typed, its
/// clusters, `pending`'s capacity). Measured: 364 to 411 KiB; before the
/// budget counted every byte queued and redraws were drawn once per read,
/// 11 MiB and growing (the issue measured 63 MiB).
const NON_READER_RSS_PER_CONNECTION_KB: u64 = 768;

/// One more piece of a non-reader's input.
fn non_reader_piece(kind: &str) -> Vec<u8> {
    let unit: &[u8] = match kind {
        "^L" => b"\x0c",
        "x + DEL" => b"x\x7f",
        "x + IAC EC" => &[b'x', IAC, common::telnet::EC],
        "nick lines" => b"this nickname is far too long to be accepted\r\n",
        "/help" => b"/help\r\n",
        other => panic!("unknown kind {other}"),
    };
    unit.repeat(8192 / unit.len())
}

/// A connection with a small receive buffer (so that the server's output
/// backs up into the server soon), signed on if `sign_on`, that from then
/// on never reads.
fn non_reader(addr: SocketAddr, nick: &str, sign_on: bool) -> TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(&addr.into()).expect("connect");
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(POLL)).expect("read timeout");
    let mut seen = Vec::new();
    let mut wait_for = |stream: &TcpStream, text: &str| {
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        while !common::visible(&seen).contains(text) {
            assert!(start.elapsed() < DEADLINE, "{nick}: no {text:?}");
            match (&*stream).read(&mut buf) {
                Ok(0) => panic!("{nick}: closed while waiting for {text:?}"),
                Ok(n) => seen.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("{nick}: {e}"),
            }
        }
    };
    wait_for(&stream, "Nickname:");
    if sign_on {
        (&stream)
            .write_all(format!("{nick}\r\n").as_bytes())
            .expect("nick");
        wait_for(&stream, &format!("Welcome, {nick}!"));
    }
    stream
}

#[test]
fn connections_that_never_read_hold_no_more_than_the_write_budget_whatever_they_send() {
    let mut server = fast_negotiation()
        .env("TAVERN_LINE_EDITING", "server")
        .start();
    let mut observers = Observers::new(&server);
    observers.chat();
    let streams: Vec<(&str, TcpStream)> = NON_READERS
        .iter()
        .enumerate()
        .map(|(i, (kind, sign_on))| {
            (
                *kind,
                non_reader(server.addr, &format!("quiet{i}"), *sign_on),
            )
        })
        .collect();
    observers.chat();
    let before = server.rss_kb();
    // Each sends until the server stops reading it (its writes then stay
    // blocked), in threads of their own.
    let senders: Vec<_> = streams
        .into_iter()
        .map(|(kind, stream)| {
            std::thread::spawn(move || {
                // Longer than the server takes to read what it will: a
                // write that waits this long is back-pressure.
                stream
                    .set_write_timeout(Some(Duration::from_secs(2)))
                    .expect("write timeout");
                let mut piece = Vec::new();
                if kind == "^L" || kind == "x + DEL" || kind == "x + IAC EC" {
                    piece.extend(std::iter::repeat_n(b'x', LONG_LINE));
                }
                let mut sent = 0;
                while sent < NON_READER_MAX_BYTES {
                    piece.extend(non_reader_piece(kind));
                    if (&stream).write_all(&piece).is_err() {
                        return (kind, sent, true, stream);
                    }
                    sent += piece.len();
                    piece.clear();
                }
                (kind, sent, false, stream)
            })
        })
        .collect();
    let mut held = Vec::new();
    for sender in senders {
        let (kind, sent, blocked, stream) = sender.join().expect("sender thread");
        eprintln!(
            "non-reader {kind}: {} KiB sent before the server stopped reading",
            sent / 1024
        );
        assert!(
            blocked,
            "{kind}: the server read all {sent} bytes of a client that never reads"
        );
        held.push(stream);
    }
    // The server is done with what it read once its CPU stands still;
    // its RSS is watched meanwhile.
    let start = Instant::now();
    let mut last = server.cpu_ticks();
    let mut still = 0;
    let mut peak = server.rss_kb();
    while still < 3 && start.elapsed() < DEADLINE {
        observers.chat();
        std::thread::sleep(Duration::from_millis(20));
        let now = server.cpu_ticks();
        still = if now == last { still + 1 } else { 0 };
        last = now;
        peak = peak.max(server.rss_kb());
    }
    let grown = peak.saturating_sub(before);
    let per_connection = grown / NON_READERS.len() as u64;
    eprintln!("non-readers: RSS grew by {grown} KiB, {per_connection} KiB per connection");
    assert!(
        per_connection <= NON_READER_RSS_PER_CONNECTION_KB,
        "{per_connection} KiB of RSS per connection that never reads (bound {NON_READER_RSS_PER_CONNECTION_KB} KiB)"
    );
    assert!(still >= 3, "the server kept working for {DEADLINE:?}");
    observers.chat();
    drop(held);
    server.assert_running();
}
