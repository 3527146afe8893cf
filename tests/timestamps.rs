//! `/timestamps`: `[HH:MM] ` (UTC) before each line shown to the user who
//! asked, and to nobody else; wrapped lines keep their hanging indent.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{Client, TestServer, sign_on_all};

/// Minutes since the epoch, UTC, now.
fn minute_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60
}

/// Every stamp a line shown between the two minutes could carry.
fn stamps(from: u64, to: u64) -> Vec<String> {
    (from..=to)
        .map(|minute| {
            let minute = minute % (24 * 60);
            format!("[{:02}:{:02}] ", minute / 60, minute % 60)
        })
        .collect()
}

/// Waits for `needle` and returns the visible row it ends, up to the
/// needle.
fn line_with(client: &mut Client, needle: &str) -> String {
    client.expect(needle);
    let text = client.visible();
    let end = text.rfind(needle).unwrap() + needle.len();
    let start = text[..end].rfind('\n').map_or(0, |p| p + 1);
    text[start..end].to_owned()
}

fn assert_stamped(line: &str, from: u64) {
    let allowed = stamps(from, minute_now());
    assert!(
        allowed.iter().any(|stamp| line.starts_with(stamp.as_str())),
        "{line:?} should start with one of {allowed:?}"
    );
}

#[test]
fn timestamps_are_off_until_asked_and_then_start_every_line_that_user_sees() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/timestamps");
    let line = line_with(&mut ann, "Timestamps are off");
    assert!(line.starts_with("*** "), "{line:?}");

    let from = minute_now();
    ann.send_line("/timestamps on");
    let line = line_with(&mut ann, "Timestamps are on");
    assert_stamped(&line, from);
    assert!(line.contains("] *** Timestamps are on"), "{line:?}");

    bob.send_line("hello ann");
    assert_stamped(&line_with(&mut ann, "bob: hello ann"), from);
    // Only ann asked: bob's own copy of the line has no stamp.
    assert_eq!(line_with(&mut bob, "bob: hello ann"), "bob: hello ann");

    // A run of lines (one batch of the room manager) is stamped line by line.
    bob.send_line("one");
    bob.send_line("two");
    bob.send_line("/me waves");
    assert_stamped(&line_with(&mut ann, "bob: one"), from);
    assert_stamped(&line_with(&mut ann, "bob: two"), from);
    assert_stamped(&line_with(&mut ann, "* bob waves"), from);

    ann.send_line("/timestamps");
    assert_stamped(&line_with(&mut ann, "Timestamps are on"), from);
    ann.send_line("/timestamps off");
    assert_eq!(
        line_with(
            &mut ann,
            "Timestamps are off (/timestamps on to turn them on)."
        ),
        "*** Timestamps are off (/timestamps on to turn them on)."
    );
    bob.send_line("bye");
    assert_eq!(line_with(&mut ann, "bob: bye"), "bob: bye");
    server.stop();
}

#[test]
fn a_wrapped_line_keeps_its_hanging_indent_after_the_stamp() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.report_width(40);
    let from = minute_now();
    ann.send_line("/timestamps on");
    ann.expect("Timestamps are on");
    let words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";
    bob.send_line(words);
    ann.expect("lambda mu");
    let text = ann.visible();
    let start = text.rfind("bob: alpha").unwrap();
    let start = text[..start].rfind('\n').map_or(0, |p| p + 1);
    let line = &text[start..text.rfind("lambda mu").unwrap() + "lambda mu".len()];
    let rows: Vec<&str> = line.split('\n').collect();
    assert!(rows.len() >= 3, "wrapped at 40 columns: {rows:?}");
    assert_stamped(rows[0], from);
    assert!(rows[0][8..].starts_with("bob: alpha"), "{rows:?}");
    // The stamp (8 columns) and `bob: ` (5): text continues at column 13.
    let indent = " ".repeat(13);
    for row in &rows[1..] {
        assert!(row.starts_with(&indent), "{rows:?}");
        assert!(!row[13..].starts_with(' '), "{rows:?}");
    }
    for row in &rows {
        assert!(row.chars().count() <= 40, "{row:?} is wider than 40");
    }
    let rejoined: Vec<&str> = rows.iter().flat_map(|r| r.split_whitespace()).collect();
    assert_eq!(rejoined[2..].join(" "), words);
    server.stop();
}

#[test]
fn timestamps_with_another_word_show_the_usage() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send_line("/timestamps maybe");
    ann.expect("Usage: /timestamps [on|off]");
    ann.send_line("/help");
    ann.expect("/timestamps [on|off]");
    server.stop();
}
