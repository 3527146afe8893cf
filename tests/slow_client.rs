//! A client that stops reading is dropped, once, with a notice, and the
//! people who do read lose nothing meanwhile.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Instant;

use common::{BulkReader, Client, DEADLINE, TestServer};
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

const NOTICE: &str = "*** slow was disconnected (not reading)";

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
    let mut ann_in = BulkReader::new(&mut ann, "ann", chat_line, "");
    let mut bob_in = BulkReader::new(&mut bob, "bob", chat_line, "");
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
        ann_in.send_lines(sent..sent + BATCH, start);
        bob_in.send_lines(sent..sent + BATCH, start);
        sent += BATCH;
        ann_in.catch_up(sent, start);
        bob_in.catch_up(sent, start);
        if ann_in.count(NOTICE) > 0 && bob_in.count(NOTICE) > 0 {
            rounds_after_notice += 1;
        }
    }

    // Barrier: a /who answer comes after anything already sent.
    ann_in.send(b"/who\r\n", start);
    ann_in.wait_other("***   bob  idle", start);
    bob_in.send(b"/who\r\n", start);
    bob_in.wait_other("***   bob  idle", start);
    for reader in [&ann_in, &bob_in] {
        assert_eq!(reader.count(NOTICE), 1, "{}: notices", reader.who);
        assert!(
            reader.other.iter().any(|l| l == "*** In lobby: 2 people"),
            "{}: {:?}",
            reader.who,
            reader.other
        );
        assert!(
            !reader
                .other
                .iter()
                .any(|l| l.contains("slow") && l != NOTICE),
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
