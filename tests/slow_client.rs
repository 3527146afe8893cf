//! A client that stops reading is dropped, once, with a notice, and the
//! people who do read lose nothing meanwhile.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Client, DEADLINE, TestServer};
use tavern::Config;

/// Lines each active client sends per round. Each member's queue holds
/// `QUEUE` lines; a round puts 2 × `BATCH` lines (its own and the other's) in
/// the queue of a reader who then reads them all, so readers never come near
/// the limit.
const BATCH: usize = 16;
const QUEUE: usize = 64;
/// Upper bound on lines sent by each active client.
const MAX_LINES: usize = 10_000;
/// Characters per chat line (the default line limit is 1000).
const LINE_CHARS: usize = 990;

/// Pause between reads when nothing arrived.
const POLL: Duration = Duration::from_micros(200);

const NOTICE: &str = "*** slow was disconnected (not reading)";

/// Reads complete lines from a client's socket without keeping a transcript,
/// checking that each sender's counters arrive in order.
struct Reader<'a> {
    stream: &'a TcpStream,
    who: &'static str,
    partial: Vec<u8>,
    /// Next counter expected from ann and from bob.
    next: [usize; 2],
    notices: usize,
    /// Lines that were neither chat nor the slow client's notice.
    other: Vec<String>,
}

impl<'a> Reader<'a> {
    fn new(client: &'a Client, who: &'static str) -> Reader<'a> {
        let stream = client.stream();
        // Non-blocking: a read timeout is rounded up to the kernel's tick
        // (4 ms), which would dominate this test's time.
        stream.set_nonblocking(true).expect("non-blocking");
        Reader {
            stream,
            who,
            partial: Vec::new(),
            next: [0, 0],
            notices: 0,
            other: Vec::new(),
        }
    }

    /// Writes to the same socket (the `Client` is borrowed while reading).
    /// Reads meanwhile when the socket is full, so neither side waits on
    /// the other.
    fn send(&mut self, mut bytes: &[u8], start: Instant) {
        while !bytes.is_empty() {
            match (&mut &*self.stream).write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    assert!(start.elapsed() < DEADLINE, "{}: write stuck", self.who);
                    if !self.pump() {
                        std::thread::sleep(POLL);
                    }
                }
                Err(e) => panic!("{}: write: {e}", self.who),
            }
        }
    }

    /// Reads what is there and checks each complete line; false when
    /// nothing had arrived.
    fn pump(&mut self) -> bool {
        let mut buf = [0u8; 65536];
        let mut got = false;
        loop {
            match (&mut &*self.stream).read(&mut buf) {
                Ok(0) => panic!("{}: connection closed", self.who),
                Ok(n) => {
                    got = true;
                    self.partial.extend_from_slice(&buf[..n]);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) => panic!("{}: read: {e}", self.who),
            }
        }
        if let Some(end) = self.partial.windows(2).rposition(|w| w == b"\r\n") {
            let complete: Vec<u8> = self.partial.drain(..end + 2).collect();
            for line in common::visible(&complete).split('\n') {
                self.line(line);
            }
        }
        got
    }

    fn line(&mut self, line: &str) {
        if line.is_empty() {
            return;
        }
        for (i, sender) in ["ann", "bob"].into_iter().enumerate() {
            if let Some(rest) = line.strip_prefix(&format!("{sender}: {sender} ")) {
                let counter: usize = rest
                    .split(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("{}: garbled line {line:?}", self.who));
                assert_eq!(
                    counter, self.next[i],
                    "{}: {sender}'s lines out of order or lost",
                    self.who
                );
                assert_eq!(line.len(), sender.len() + 2 + LINE_CHARS, "{line:?}");
                self.next[i] += 1;
                return;
            }
        }
        if line == NOTICE {
            self.notices += 1;
        } else {
            self.other.push(line.to_owned());
        }
    }

    /// Reads until both senders' lines up to `sent` (exclusive) arrived.
    fn catch_up(&mut self, sent: usize, start: Instant) {
        while self.next != [sent, sent] {
            assert!(
                start.elapsed() < DEADLINE,
                "{}: stuck at {:?} of {sent}",
                self.who,
                self.next
            );
            if !self.pump() {
                std::thread::sleep(POLL);
            }
        }
    }

    /// Reads until `needle` is among the other lines.
    fn wait_other(&mut self, needle: &str, start: Instant) {
        while !self.other.iter().any(|l| l.contains(needle)) {
            assert!(start.elapsed() < DEADLINE, "{}: no {needle:?}", self.who);
            if !self.pump() {
                std::thread::sleep(POLL);
            }
        }
    }
}

fn chat_line(sender: &str, counter: usize) -> String {
    let head = format!("{sender} {counter} ");
    format!("{head}{}", "x".repeat(LINE_CHARS - head.len()))
}

#[test]
fn a_client_that_stops_reading_is_dropped_once_and_the_others_lose_nothing() {
    let server = TestServer::with_config(Config {
        outbound_queue: QUEUE,
        ..common::test_config()
    });
    // Connected together so that their negotiation waits overlap.
    let mut ann = Client::connect(server.addr);
    let mut bob = Client::connect(server.addr);
    let mut slow = Client::connect(server.addr);
    for (client, nick) in [(&mut ann, "ann"), (&mut bob, "bob")] {
        client.expect("Nickname:");
        client.send_line(nick);
        client.expect(&format!("Welcome, {nick}!"));
    }
    // Signs on, then never reads again.
    slow.expect("Nickname:");
    slow.send_line("slow");
    slow.expect("Welcome, slow!");
    ann.expect("*** slow has joined lobby");
    bob.expect("*** slow has joined lobby");

    let start = Instant::now();
    let mut ann_in = Reader::new(&ann, "ann");
    let mut bob_in = Reader::new(&bob, "bob");
    // What arrived during sign-on stays in the `Client`s; the readers see
    // only what comes next.
    let mut sent = 0;
    // Rounds go on until both saw the notice, plus a few more to catch a
    // second notice.
    let mut rounds_after_notice = 0;
    while rounds_after_notice < 3 {
        assert!(
            sent < MAX_LINES,
            "no notice after {sent} lines from each of ann and bob"
        );
        assert!(
            start.elapsed() < DEADLINE,
            "no notice after {sent} lines within the deadline"
        );
        let mut ann_batch = String::new();
        let mut bob_batch = String::new();
        for i in sent..sent + BATCH {
            ann_batch.push_str(&chat_line("ann", i));
            ann_batch.push_str("\r\n");
            bob_batch.push_str(&chat_line("bob", i));
            bob_batch.push_str("\r\n");
        }
        ann_in.send(ann_batch.as_bytes(), start);
        bob_in.send(bob_batch.as_bytes(), start);
        sent += BATCH;
        ann_in.catch_up(sent, start);
        bob_in.catch_up(sent, start);
        if ann_in.notices > 0 && bob_in.notices > 0 {
            rounds_after_notice += 1;
        }
    }

    // Barrier: a /who answer comes after anything already sent.
    ann_in.send(b"/who\r\n", start);
    ann_in.wait_other("***   bob  idle", start);
    bob_in.send(b"/who\r\n", start);
    bob_in.wait_other("***   bob  idle", start);
    for reader in [&ann_in, &bob_in] {
        assert_eq!(reader.notices, 1, "{}: notices", reader.who);
        assert!(
            reader.other.iter().any(|l| l == "*** In lobby: 2 people"),
            "{}: {:?}",
            reader.who,
            reader.other
        );
        assert!(
            !reader.other.iter().any(|l| l.contains("slow")),
            "{}: {:?}",
            reader.who,
            reader.other
        );
    }
    eprintln!("slow client dropped after {sent} lines from each sender");
    drop(ann_in);
    drop(bob_in);

    // The slow client's connection was closed by the server.
    slow.expect_closed();
    server.stop();
}
