//! Shutting the in-process server down: everyone is told, every connection
//! closes, and `stop` returns.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::mpsc;

use common::{Client, DEADLINE, TestServer};
use tavern::Config;

/// Stops the server on a thread of its own; the receiver gets a message
/// when `stop` has returned.
fn stop_in_background(server: TestServer) -> mpsc::Receiver<()> {
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        server.stop();
        let _ = done_tx.send(());
    });
    done
}

#[test]
fn stopping_the_server_tells_everyone_and_closes_every_connection() {
    let server = TestServer::with_config(Config {
        server_name: "Testhaven".to_owned(),
        ..common::test_config()
    });
    let mut ann = Client::sign_on(server.addr, "ann");
    let mut bob = Client::sign_on(server.addr, "bob");
    ann.expect("*** bob has joined lobby");

    let stopped = stop_in_background(server);
    for client in [&mut ann, &mut bob] {
        let goodbye = client.expect("*** Testhaven is shutting down. Goodbye!");
        // No leave notices for each other: everyone is going.
        assert!(!goodbye.contains("has quit"), "{goodbye:?}");
        assert!(!goodbye.contains("lost their connection"), "{goodbye:?}");
        client.expect_closed();
    }
    stopped
        .recv_timeout(DEADLINE)
        .expect("stop() did not return in time");
}

#[test]
fn stopping_the_server_also_tells_someone_still_at_the_nickname_prompt() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    let mut newcomer = Client::connect(server.addr);
    newcomer.expect("Nickname:");

    let stopped = stop_in_background(server);
    newcomer.expect("tavern is shutting down. Goodbye!");
    newcomer.expect_closed();
    ann.expect("tavern is shutting down. Goodbye!");
    ann.expect_closed();
    stopped
        .recv_timeout(DEADLINE)
        .expect("stop() did not return in time");
}
