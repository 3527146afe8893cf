//! The real binary: a bad configuration stops it with a message naming the
//! key, and SIGTERM shuts it down cleanly.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::process::ExitStatus;
use std::time::Instant;

use common::process::{Tavern, TavernBuilder, TempDir};
use common::{Client, DEADLINE};

/// The tavern binary, run in `dir` (empty, so no `tavern.toml` is picked
/// up unless the test writes one) with no inherited `TAVERN_*` variables,
/// not even a listen address, the binary's own limits and `RUST_LOG=info`.
fn tavern(dir: &TempDir) -> TavernBuilder {
    Tavern::builder()
        .env_remove("TAVERN_LISTEN")
        .binary_limits()
        .env("RUST_LOG", "info")
        .dir(dir)
}

fn assert_refused(status: ExitStatus, stderr: &str, names: &str) {
    assert!(!status.success(), "exited with {status}; stderr: {stderr}");
    assert!(
        status.code().is_some(),
        "killed by a signal rather than exiting: {status}; stderr: {stderr}"
    );
    assert!(
        stderr.contains(names),
        "stderr does not name {names:?}: {stderr}"
    );
}

#[test]
fn an_unparsable_listen_address_stops_the_server_naming_listen() {
    let dir = TempDir::new("config-listen");
    let (status, stderr) = tavern(&dir).env("TAVERN_LISTEN", "nonsense").run_to_end();
    assert_refused(status, &stderr, "listen");
    assert!(stderr.contains("TAVERN_LISTEN"), "{stderr}");
}

#[test]
fn a_zero_max_line_length_stops_the_server_naming_the_key() {
    let dir = TempDir::new("config-linelen");
    let (status, stderr) = tavern(&dir)
        .env("TAVERN_LISTEN", "127.0.0.1:0")
        .env("TAVERN_MAX_LINE_LENGTH", "0")
        .run_to_end();
    assert_refused(status, &stderr, "max_line_length");
}

/// The issue's example: this value was accepted, and then every session
/// panicked on an overflowing deadline. Now the server does not start, and
/// says which key and what range.
#[test]
fn a_timeout_that_would_overflow_stops_the_server_naming_the_key_and_range() {
    for (key, var, range) in [
        (
            "idle_timeout_secs",
            "TAVERN_IDLE_TIMEOUT_SECS",
            "from 0 to 2592000",
        ),
        (
            "signon_timeout_secs",
            "TAVERN_SIGNON_TIMEOUT_SECS",
            "from 1 to 86400",
        ),
    ] {
        let dir = TempDir::new("config-overflow");
        let (status, stderr) = tavern(&dir)
            .env("TAVERN_LISTEN", "127.0.0.1:0")
            .env(var, "18446744073709551615")
            .run_to_end();
        assert_refused(status, &stderr, key);
        assert!(stderr.contains(range), "{stderr}");
        assert!(stderr.contains(var), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_count_out_of_range_in_the_config_file_stops_the_server_naming_it() {
    let dir = TempDir::new("config-count");
    let file = dir.path().join("tavern.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:0\"\nflood_burst = 4000000000\n",
    )
    .expect("write config");
    let (status, stderr) = tavern(&dir).run_to_end();
    assert_refused(status, &stderr, "flood_burst");
    assert!(stderr.contains("from 1 to 10000"), "{stderr}");
    assert!(stderr.contains("tavern.toml"), "{stderr}");
}

#[test]
fn an_unknown_environment_variable_stops_the_server_naming_it() {
    let dir = TempDir::new("config-envtypo");
    let (status, stderr) = tavern(&dir)
        .env("TAVERN_LISTEN", "127.0.0.1:0")
        .env("TAVERN_MAX_LINE_LENGHT", "80")
        .run_to_end();
    assert_refused(status, &stderr, "max_line_lenght");
}

#[test]
fn an_unknown_key_in_the_config_file_stops_the_server_naming_it() {
    let dir = TempDir::new("config-unknown");
    let file = dir.path().join("custom.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nserver_nmae = \"typo\"\n")
        .expect("write config");
    let (status, stderr) = tavern(&dir).arg("--config").arg(&file).run_to_end();
    assert_refused(status, &stderr, "server_nmae");
}

#[test]
fn a_missing_config_file_stops_the_server_with_a_message() {
    let dir = TempDir::new("config-missing");
    let file = dir.path().join("no-such-file.toml");
    let (status, stderr) = tavern(&dir)
        .env("TAVERN_LISTEN", "127.0.0.1:0")
        .arg("--config")
        .arg(&file)
        .run_to_end();
    assert_refused(status, &stderr, "no-such-file.toml");
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn an_unknown_argument_stops_the_server_with_usage() {
    let dir = TempDir::new("config-args");
    let (status, stderr) = tavern(&dir)
        .env("TAVERN_LISTEN", "127.0.0.1:0")
        .arg("--verbose")
        .run_to_end();
    assert_refused(status, &stderr, "--verbose");
    assert!(stderr.contains("usage"), "{stderr}");
}

#[test]
fn sigterm_tells_clients_and_exits_with_success() {
    let dir = TempDir::new("config-sigterm");
    let mut running = tavern(&dir).env("TAVERN_LISTEN", "127.0.0.1:0").start();
    let addr = running.addr;
    let mut ann = Client::sign_on(addr, "ann");
    running.terminate();
    ann.expect("is shutting down");
    ann.expect("Goodbye!");
    ann.expect_closed();
    let status = running.wait_exit();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// A restart: the server closed its connections first, so they sit in
/// TIME_WAIT on its port; the new process must bind that port at once (the
/// listener sets SO_REUSEADDR) and serve.
#[test]
fn a_restart_binds_the_same_port_at_once_and_serves() {
    let dir = TempDir::new("config-restart");
    let mut first = tavern(&dir).env("TAVERN_LISTEN", "127.0.0.1:0").start();
    let addr = first.addr;
    let mut ann = Client::sign_on(addr, "ann");
    ann.send_line("before the restart");
    ann.expect("ann: before the restart");
    first.terminate();
    ann.expect("Goodbye!");
    ann.expect_closed();
    let status = first.wait_exit();
    assert!(status.success(), "exit status after SIGTERM: {status}");

    let mut second = tavern(&dir).env("TAVERN_LISTEN", &addr.to_string()).start();
    let again = second.addr;
    assert_eq!(again, addr);
    let mut bob = Client::sign_on(addr, "bob");
    bob.send_line("after the restart");
    bob.expect("bob: after the restart");
    second.terminate();
    bob.expect("Goodbye!");
    let status = second.wait_exit();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// `listen` as a list: the binary listens on an IPv4 and an IPv6 address at
/// once, says so on stdout for each, and a line typed over IPv4 reaches a
/// user on IPv6 (and back). MSSP's PORT is the port each client reached.
#[test]
fn the_binary_listens_on_ipv4_and_ipv6_at_once_and_chat_crosses_between_them() {
    let dir = TempDir::new("config-dual");
    let mut running = tavern(&dir)
        .env("TAVERN_LISTEN", r#"["127.0.0.1:0", "[::1]:0"]"#)
        .listeners(2)
        .start();
    let addrs = running.addrs.clone();
    let v4 = *addrs.iter().find(|a| a.is_ipv4()).expect("an IPv4 address");
    let v6 = *addrs.iter().find(|a| a.is_ipv6()).expect("an IPv6 address");
    let mut ann = Client::sign_on(v4, "ann");
    let mut bob = Client::sign_on(v6, "bob");
    ann.send_line("hello from IPv4");
    bob.expect("ann: hello from IPv4");
    bob.send_line("hello from IPv6");
    ann.expect("bob: hello from IPv6");
    for addr in [v4, v6] {
        assert_eq!(mssp_port(addr), addr.port().to_string());
    }
    running.terminate();
    ann.expect("Goodbye!");
    bob.expect("Goodbye!");
    let status = running.wait_exit();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// Asks for MSSP at once (as a crawler does) and returns its PORT.
fn mssp_port(addr: SocketAddr) -> String {
    use common::telnet::{DO, IAC, Item, MSSP, MSSP_VAL, MSSP_VAR, Reader};
    let mut crawler = Client::connect(addr);
    crawler.send(&[IAC, DO, MSSP]);
    let start = Instant::now();
    loop {
        let found = Reader::parse(&crawler.raw)
            .items
            .iter()
            .find_map(|(_, item)| match item {
                Item::Sb(MSSP, payload) => Some(payload.clone()),
                _ => None,
            });
        if let Some(payload) = found {
            let port = payload
                .split(|&b| b == MSSP_VAR)
                .find_map(|field| field.strip_prefix(b"PORT".as_slice()))
                .and_then(|value| value.strip_prefix(&[MSSP_VAL]))
                .expect("PORT in the MSSP table");
            return String::from_utf8_lossy(port).into_owned();
        }
        assert!(start.elapsed() < DEADLINE, "no MSSP table");
        assert!(crawler.pump(), "closed before the MSSP table");
    }
}
