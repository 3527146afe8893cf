//! The banner file: read on every connection, so an edit shows without a
//! restart; a missing file falls back to the built-in banner.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Client, TestServer};
use tavern::Config;

/// A banner file with a unique name in the temp dir, removed on drop so a
/// failing test leaves nothing behind.
struct TempBanner(PathBuf);

impl TempBanner {
    fn new(test: &str) -> TempBanner {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        TempBanner(std::env::temp_dir().join(format!(
            "tavern-it-banner-{test}-{}-{}.txt",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )))
    }

    fn write(&self, text: &str) {
        if let Err(e) = std::fs::write(&self.0, text) {
            panic!("cannot write {}: {e}", self.0.display());
        }
    }
}

impl Drop for TempBanner {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn an_edited_banner_shows_on_the_next_connection_without_a_restart() {
    let banner = TempBanner::new("edit");
    banner.write("Text A: the old banner\n");
    let server = TestServer::with_config(Config {
        banner: banner.0.clone(),
        server_name: "Testhaven".to_owned(),
        ..common::test_config()
    });

    let mut first = Client::connect(server.addr);
    let greeting = first.expect("Nickname:");
    assert!(greeting.contains("Text A: the old banner"), "{greeting:?}");
    assert!(!greeting.contains("Welcome to"), "{greeting:?}");
    first.send_line("first");
    first.expect("Welcome, first!");

    banner.write("Text B on {server_name}: {online} online\nsecond line\n");
    let mut second = Client::connect(server.addr);
    let greeting = second.expect("Nickname:");
    assert!(
        greeting.contains("Text B on Testhaven: 1 online\nsecond line\n"),
        "{greeting:?}"
    );
    assert!(!greeting.contains("Text A"), "{greeting:?}");
    assert!(!greeting.contains('{'), "{greeting:?}");
    second.send_line("second");
    second.expect("Welcome, second!");
    server.stop();
}

#[test]
fn a_missing_banner_file_shows_the_builtin_banner_and_the_server_keeps_working() {
    let banner = TempBanner::new("missing");
    let server = TestServer::with_config(Config {
        banner: banner.0.clone(),
        ..common::test_config()
    });
    let mut ann = Client::connect(server.addr);
    let greeting = ann.expect("Nickname:");
    assert!(greeting.contains("Welcome to tavern"), "{greeting:?}");
    assert!(!greeting.contains('{'), "{greeting:?}");
    ann.send_line("ann");
    ann.expect("Welcome, ann!");

    let mut bob = Client::connect(server.addr);
    let greeting = bob.expect("Nickname:");
    assert!(greeting.contains("People online now: 1"), "{greeting:?}");
    bob.send_line("bob");
    bob.expect("Welcome, bob!");
    bob.send_line("still here");
    ann.expect("bob: still here");
    server.stop();
}

#[test]
fn a_banner_file_that_appears_later_is_used_from_then_on() {
    let banner = TempBanner::new("appears");
    let server = TestServer::with_config(Config {
        banner: banner.0.clone(),
        ..common::test_config()
    });
    let mut first = Client::connect(server.addr);
    assert!(first.expect("Nickname:").contains("Welcome to tavern"));
    banner.write("{bold}Fresh{reset} banner\n");
    let mut second = Client::connect(server.addr);
    let greeting = second.expect("Nickname:");
    assert!(greeting.contains("Fresh banner"), "{greeting:?}");
    assert!(!greeting.contains("Welcome to tavern"), "{greeting:?}");
    server.stop();
}
