//! The limits a user can run into, each seen from the user's side: what they
//! are told, and that everyone else carries on.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::telnet::{DO, DONT, IAC, Reader, WILL, WONT};
use common::{Client, TestServer, test_config};
use tavern::Config;

fn server(config: Config) -> TestServer {
    TestServer::with_config(config)
}

#[test]
fn lines_over_the_flood_limit_are_delayed_in_order_and_none_is_lost() {
    let server = server(Config {
        flood_lines_per_sec: 20,
        flood_burst: 3,
        ..test_config()
    });
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut fast = Client::sign_on(server.addr, "fast");
    let paste: String = (0..12).map(|i| format!("line {i:02}\r\n")).collect();
    fast.send(paste.as_bytes());
    fast.expect("they are delayed, not lost");
    for i in 0..12 {
        watcher.expect(&format!("fast: line {i:02}"));
    }
    let told = fast.rest();
    assert_eq!(
        told.matches("they are delayed").count(),
        0,
        "told once per burst, not per line: {told}"
    );
    // Others are not held up meanwhile.
    watcher.send_line("still here");
    fast.expect("watcher: still here");
    server.stop();
}

#[test]
fn connections_over_the_per_address_limit_get_one_line_and_are_closed() {
    let server = server(Config {
        max_connections_per_ip: 2,
        ..test_config()
    });
    let mut first = Client::sign_on(server.addr, "first");
    let second = Client::connect(server.addr);
    let mut third = Client::connect(server.addr);
    third.expect("Too many connections from your address (at most 2)");
    third.expect_closed();
    assert!(
        !third.visible().contains("Nickname"),
        "refused before any negotiation or banner"
    );
    // The others carry on, and a place freed is a place again.
    first.send_line("/who");
    first.expect("In lobby");
    second.close();
    // The server frees the place when it sees the close; until then a new
    // connection may still be refused.
    let start = std::time::Instant::now();
    let mut again = None;
    while again.is_none() && start.elapsed() < common::DEADLINE {
        let mut client = Client::connect(server.addr);
        while client.pump() && !client.visible().contains("Nickname:") {
            assert!(start.elapsed() < common::DEADLINE, "no answer");
        }
        if client.visible().contains("Nickname:") {
            again = Some(client);
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    assert!(again.is_some(), "the freed place was never given back");
    server.stop();
}

#[test]
fn connections_over_the_total_limit_are_told_the_server_is_full() {
    let server = server(Config {
        max_connections: 1,
        server_name: "Pony".into(),
        ..test_config()
    });
    let mut only = Client::sign_on(server.addr, "only");
    let mut extra = Client::connect(server.addr);
    extra.expect("Pony is full (1 connections)");
    extra.expect_closed();
    only.send_line("hello");
    only.expect("only: hello");
    server.stop();
}

#[test]
fn an_idle_user_is_disconnected_and_the_room_told() {
    let server = server(Config {
        idle_timeout_secs: 1,
        ..test_config()
    });
    let mut sleepy = Client::sign_on(server.addr, "sleepy");
    let mut watcher = Client::connect(server.addr);
    watcher.expect("Nickname:");
    watcher.send_line("watcher");
    watcher.expect("Welcome");
    sleepy.expect("You were idle for 1 seconds. Goodbye!");
    sleepy.expect_closed();
    watcher.expect("sleepy was disconnected (idle)");
    server.stop();
}

#[test]
fn a_negotiation_flood_is_cut_off_with_bounded_answers() {
    let server = server(Config {
        max_negotiations: 50,
        ..test_config()
    });
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut flooder = Client::connect(server.addr);
    // 10,000 requests for options tavern does not do, in one write.
    let flood: Vec<u8> = (0..10_000u32)
        .flat_map(|i| {
            [
                IAC,
                if i % 2 == 0 { WILL } else { DO },
                100 + (i % 50) as u8,
            ]
        })
        .collect();
    flooder.send(&flood);
    flooder.expect("Too many telnet negotiations from your client. Goodbye!");
    flooder.expect_closed();
    let answers = Reader::parse(&flooder.raw)
        .negotiations()
        .iter()
        .filter(|(verb, _)| [WONT, DONT].contains(verb))
        .count();
    assert!(answers <= 60, "{answers} refusals sent for a budget of 50");
    watcher.send_line("fine here");
    watcher.expect("watcher: fine here");
    server.stop();
}

/// A reconnect loop from one address: its burst gets in, the next
/// connection gets one line before any negotiation, and once the bucket
/// refills (120 a minute: half a second) it is let in again.
#[test]
fn connections_over_the_rate_get_one_line_and_are_let_in_again_after_the_window() {
    let server = server(Config {
        connect_rate_per_ip_per_minute: 120,
        connect_burst_per_ip: 3,
        ..test_config()
    });
    // Connected at once, before any banner: a token refills every 500 ms,
    // and the four connects take well under that.
    let burst: Vec<Client> = (0..3).map(|_| Client::connect(server.addr)).collect();
    let refused_at = std::time::Instant::now();
    let mut refused = Client::connect(server.addr);
    for mut client in burst {
        client.expect("Nickname:");
        client.close();
    }
    refused.expect("Too many new connections from your address (at most 120 a minute)");
    refused.expect_closed();
    assert!(
        !refused.visible().contains("Nickname"),
        "refused before any negotiation or banner"
    );
    // Refused attempts leave no debt: trying again every 50 ms, one is let
    // in within the deadline, and not before a token has refilled.
    let mut attempts = 0;
    let admitted = loop {
        assert!(
            refused_at.elapsed() < common::DEADLINE,
            "never let in again"
        );
        attempts += 1;
        let mut client = Client::connect(server.addr);
        while client.pump() && !client.visible().contains("Nickname:") {
            assert!(refused_at.elapsed() < common::DEADLINE, "no answer");
        }
        if client.visible().contains("Nickname:") {
            break client;
        }
        assert!(client.visible().contains("Too many new connections"));
        std::thread::sleep(Duration::from_millis(50));
    };
    let waited = refused_at.elapsed();
    assert!(
        waited >= Duration::from_millis(400),
        "let in after {waited:?} and {attempts} attempts, before the bucket refilled"
    );
    drop(admitted);
    server.stop();
}

/// Over IPv6 (loopback has only ::1, so the /64 grouping itself is unit
/// tested in src/address.rs and src/limits.rs): the per-address count holds
/// for an IPv6 peer, and IPv4 and IPv6 peers are counted apart.
#[test]
fn the_per_address_limit_holds_over_ipv6_and_apart_from_ipv4() {
    let server = server(Config {
        listen: vec!["127.0.0.1:0".parse().unwrap(), "[::1]:0".parse().unwrap()],
        max_connections_per_ip: 2,
        ..test_config()
    });
    let (v4, v6) = (server.addrs[0], server.addrs[1]);
    let _a = Client::sign_on(v6, "a");
    let _b = Client::sign_on(v6, "b");
    let mut third = Client::connect(v6);
    third.expect("Too many connections from your address (at most 2)");
    third.expect_closed();
    let mut ipv4 = Client::sign_on(v4, "c");
    ipv4.send_line("/who");
    ipv4.expect("In lobby");
    server.stop();
}
