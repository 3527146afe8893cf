//! Lines flood control holds ("delayed, not lost") reach the room when their
//! sender's connection ends: at client close and at SIGTERM, against the
//! real binary. Each test sends 20 lines at once with the default burst of
//! 10 and a rate of one a second, so 10 go at once and 10 are still held
//! when the connection ends.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Client;
use common::process::Tavern;

const LINES: usize = 20;

fn server() -> Tavern {
    Tavern::builder()
        .env("TAVERN_NEGOTIATION_WAIT_MS", "300")
        .env("TAVERN_FLOOD_LINES_PER_SEC", "1")
        .env("TAVERN_FLOOD_BURST", "10")
        .env("TAVERN_SERVER_NAME", "Testhaven")
        .start()
}

/// Signs on `watcher` and `fast`; `fast` sends the 20 lines in one write and
/// is told they are delayed; `watcher` has seen the first 10.
fn twenty_lines_over_the_limit(server: &Tavern) -> (Client, Client) {
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut fast = Client::sign_on(server.addr, "fast");
    watcher.expect("*** fast has joined lobby");
    let paste: String = (0..LINES).map(|i| format!("line {i:02}\r\n")).collect();
    fast.send(paste.as_bytes());
    fast.expect("they are delayed, not lost");
    for i in 0..10 {
        watcher.expect(&format!("fast: line {i:02}\n"));
    }
    (watcher, fast)
}

#[test]
fn held_lines_reach_the_room_in_order_before_the_leave_notice_when_the_sender_closes() {
    let server = server();
    let (mut watcher, fast) = twenty_lines_over_the_limit(&server);
    // Closed with replies unread: the kernel answers with a reset, and the
    // server's next write or read to it fails.
    fast.close();
    for i in 10..LINES {
        watcher.expect(&format!("fast: line {i:02}\n"));
    }
    let rest = watcher.expect("*** fast lost their connection");
    assert!(
        !rest.contains("fast: line"),
        "a line after the notice: {rest:?}"
    );
}

#[test]
fn held_lines_reach_the_room_in_order_before_the_shutdown_notice_at_sigterm() {
    let mut server = server();
    let (mut watcher, mut fast) = twenty_lines_over_the_limit(&server);
    server.terminate();
    for i in 10..LINES {
        watcher.expect(&format!("fast: line {i:02}\n"));
    }
    let rest = watcher.expect("*** Testhaven is shutting down. Goodbye!");
    assert!(!rest.contains("fast: line"), "{rest:?}");
    watcher.expect_closed();
    // The sender sees its own lines too, then the same goodbye.
    let own = fast.expect("*** Testhaven is shutting down. Goodbye!");
    assert!(
        own.contains(&format!("fast: line {:02}", LINES - 1)),
        "{own:?}"
    );
    assert!(server.wait_exit().success());
}
