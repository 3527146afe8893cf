//! What the real binary writes where: logs on standard error (no color
//! codes into a file or pipe, or one JSON object per line when asked),
//! nothing but the `listening on` lines on standard output, and a bounded
//! number of lines whatever a client repeats: refused reconnects are summed
//! up, an unknown banner placeholder is warned about once per file change.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;

use common::Client;
use common::process::{Tavern, TempDir};

/// Starts tavern for the test named `test`: in an empty directory of its
/// own, with the binary's own limits, `RUST_LOG=info`, a short negotiation
/// wait and `env` on top.
fn start(test: &str, env: &[(&str, &str)]) -> Tavern {
    Tavern::builder()
        .binary_limits()
        .env("RUST_LOG", "info")
        .env("TAVERN_NEGOTIATION_WAIT_MS", "100")
        .envs(env)
        .dir(&TempDir::new(&format!("logs-{test}")))
        .start()
}

/// A session's worth of logging: a sign-on, a line, a quit.
fn chat_a_little(addr: SocketAddr) {
    let mut ann = Client::sign_on(addr, "ann");
    ann.send_line("hello");
    ann.expect("ann: hello");
    ann.send_line("/quit");
    ann.expect_closed();
}

#[test]
fn logs_go_to_stderr_without_color_codes_and_stdout_has_only_the_listening_line() {
    let mut tavern = start("stderr", &[]);
    chat_a_little(tavern.addr);
    tavern.wait_log("disconnected", 1);
    tavern.stop();
    let stdout = tavern.stdout();
    assert!(
        stdout
            .iter()
            .all(|line| line.starts_with("tavern listening on ")),
        "stdout has more than the listening line: {stdout:?}"
    );
    let stderr = tavern.stderr();
    assert!(
        stderr.iter().any(|l| l.contains("listening")) && stderr.len() >= 3,
        "the logs are not on stderr: {stderr:?}"
    );
    let colored: Vec<&String> = stderr.iter().filter(|l| l.contains('\x1b')).collect();
    assert!(
        colored.is_empty(),
        "escape codes in a log that is no terminal: {colored:?}"
    );
}

#[test]
fn the_json_log_format_writes_one_json_object_per_line() {
    let mut tavern = start("json", &[("TAVERN_LOG_FORMAT", "json")]);
    chat_a_little(tavern.addr);
    tavern.wait_log("disconnected", 1);
    tavern.stop();
    let stderr = tavern.stderr();
    assert!(stderr.len() >= 3, "{stderr:?}");
    for line in &stderr {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
        assert!(value["level"].is_string(), "no level: {line}");
        assert!(value["fields"]["message"].is_string(), "no message: {line}");
    }
    // A connection's lines carry its span, peer included.
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("\"peer\"") && l.contains("127.0.0.1")),
        "{stderr:?}"
    );
}

/// A client reconnecting in a loop, refused each time (for its address's
/// count here, for its rate below): one log line, then a summary with the
/// count, not a line per attempt.
#[test]
fn refused_reconnects_are_logged_once_and_summed_up_not_a_line_each() {
    let mut tavern = start(
        "refusals",
        &[
            ("TAVERN_MAX_CONNECTIONS_PER_IP", "1"),
            ("TAVERN_CONNECT_RATE_PER_IP_PER_MINUTE", "0"),
        ],
    );
    let mut held = Client::connect(tavern.addr);
    held.expect("Nickname:");
    for _ in 0..200 {
        let mut refused = Client::connect(tavern.addr);
        refused.expect("Too many connections from your address");
        refused.expect_closed();
    }
    tavern.stop();
    assert_eq!(
        tavern.count_log("connection refused"),
        1,
        "{:?}",
        tavern.stderr()
    );
    let summary: Vec<String> = tavern
        .stderr()
        .into_iter()
        .filter(|l| l.contains("connections refused from one address"))
        .collect();
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert!(summary[0].contains("refused=200"), "{summary:?}");
    assert!(summary[0].contains("address=127.0.0.1"), "{summary:?}");
}

#[test]
fn connections_over_the_rate_are_refused_with_one_line_and_one_log_line() {
    let mut tavern = start(
        "rate",
        &[
            ("TAVERN_CONNECT_RATE_PER_IP_PER_MINUTE", "1"),
            ("TAVERN_CONNECT_BURST_PER_IP", "3"),
        ],
    );
    for _ in 0..3 {
        let mut client = Client::connect(tavern.addr);
        client.expect("Nickname:");
        client.close();
    }
    for _ in 0..100 {
        let mut refused = Client::connect(tavern.addr);
        refused.expect("Too many new connections from your address (at most 1 a minute)");
        refused.expect_closed();
        assert!(
            !refused.visible().contains("Nickname"),
            "refused before the banner"
        );
    }
    tavern.stop();
    assert_eq!(
        tavern.count_log("connection refused"),
        1,
        "{:?}",
        tavern.stderr()
    );
    assert_eq!(tavern.count_log("refused=100"), 1, "{:?}", tavern.stderr());
}

/// A banner with a typo'd placeholder: one warning naming it and the file
/// however many connect, and one more when the file changes.
#[test]
fn an_unknown_banner_placeholder_is_logged_once_per_file_change() {
    let dir = TempDir::new("logs-banner");
    let banner = dir.path().join("banner.txt");
    std::fs::write(&banner, "Welcome to {server_name}: {onlne} online\n").unwrap();
    let banner_arg = banner.display().to_string();
    let tavern = start("banner", &[("TAVERN_BANNER", &banner_arg)]);
    for _ in 0..5 {
        let mut client = Client::connect(tavern.addr);
        let greeting = client.expect("Nickname:");
        assert!(greeting.contains("{onlne} online"), "{greeting:?}");
    }
    tavern.wait_log("{onlne}", 1);
    let warning = tavern
        .stderr()
        .into_iter()
        .find(|l| l.contains("{onlne}"))
        .unwrap();
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains(&banner_arg), "{warning}");
    assert!(!warning.contains("server_name"), "{warning}");
    assert_eq!(tavern.count_log("placeholders tavern does not know"), 1);

    // An edit (another length, so another file whatever the clock's
    // granularity): warned about once more.
    std::fs::write(&banner, "Hi {sever_name}, {online} here\n").unwrap();
    for _ in 0..3 {
        let mut client = Client::connect(tavern.addr);
        client.expect("{sever_name}");
        client.expect("Nickname:");
    }
    tavern.wait_log("{sever_name}", 1);
    assert_eq!(
        tavern.count_log("placeholders tavern does not know"),
        2,
        "{:?}",
        tavern.stderr()
    );
}

#[test]
fn a_users_comings_and_goings_name_the_peer_and_nick_as_an_admin_reads_them() {
    let mut tavern = start(
        "peer",
        &[
            ("TAVERN_FLOOD_LINES_PER_SEC", "1"),
            ("TAVERN_FLOOD_BURST", "2"),
            ("TAVERN_MAX_LINE_LENGTH", "20"),
        ],
    );
    let mut ann = Client::sign_on(tavern.addr, "ann");
    let peer = ann.stream().local_addr().unwrap().to_string();
    ann.send_line("/nick anna");
    ann.expect("ann is now known as anna");
    ann.send_line("/join games");
    ann.expect("You are now in games");
    // Flood control and the length limit, three times each: logged once
    // each, then counted.
    for round in 0..3 {
        ann.send_line(&format!("{round} {}", "y".repeat(30)));
    }
    ann.expect("they are delayed, not lost");
    ann.expect(&format!("anna: 2 {}", "y".repeat(18)));
    ann.send_line("/quit see you");
    ann.expect_closed();
    tavern.wait_log("disconnected", 1);
    tavern.wait_log("signed off", 1);
    tavern.stop();
    let stderr = tavern.stderr();
    let lines =
        |needle: &str| -> Vec<&String> { stderr.iter().filter(|l| l.contains(needle)).collect() };
    for (event, nick) in [
        ("signed on", "ann"),
        ("nick change", "anna"),
        ("room change", "anna"),
        // The connection's span names the nick it signed on with.
        ("disconnected", "nick=ann}"),
        ("signed off", "anna"),
    ] {
        let found = lines(event);
        assert_eq!(found.len(), 1, "{event}: {stderr:#?}");
        assert!(
            found[0].contains(&peer) && found[0].contains(nick),
            "{event} does not name {peer} and {nick}: {}",
            found[0]
        );
    }
    assert!(lines("room change")[0].contains("to=games"), "{stderr:#?}");
    assert!(lines("nick change")[0].contains("old=ann new=anna"));
    assert!(lines("disconnected")[0].contains("reason=quit: see you"));
    assert!(lines("signed off")[0].contains("reason=quit: see you"));
    let negotiated = lines("negotiated");
    assert!(negotiated[0].contains("editing=client"), "{negotiated:?}");
    assert_eq!(lines("flood control: delaying").len(), 1, "{stderr:#?}");
    assert_eq!(
        lines("line cut to the length limit (").len(),
        1,
        "{stderr:#?}"
    );
    let summary = lines("repeated during the connection");
    assert_eq!(summary.len(), 1, "{stderr:#?}");
    assert!(
        summary[0].contains("3 × lines cut to the length limit")
            && summary[0].contains("× lines delayed by flood control"),
        "{}",
        summary[0]
    );
    // Values as an admin reads them, not Rust's Debug format.
    for line in &stderr {
        assert!(
            !line.contains("Some(")
                && !line.contains("None")
                && !line.contains("Quit(")
                && !line.contains("=\""),
            "Debug formatting in the log: {line}"
        );
    }
}
