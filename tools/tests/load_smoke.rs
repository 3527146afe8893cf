//! The load generator against a real tavern: 100 clients sign on, 10 of them
//! send 500 lines a second for 2 seconds, and every line reaches every
//! client exactly once. Only counts are asserted, never timings.

// The server's test harness, shared rather than copied: the test server
// starts the same way as in the server's own tests.
#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestServer;

/// The generator bounds itself (sign-on, send, drain, collect); this is only
/// the backstop for a hung child.
const CHILD_DEADLINE: Duration = Duration::from_secs(120);

/// The unsigned integer after `"key":` in the JSON line.
fn field(json: &str, key: &str) -> u64 {
    let pattern = format!("\"{key}\":");
    let at = json
        .find(&pattern)
        .unwrap_or_else(|| panic!("no {key} in {json}"))
        + pattern.len();
    let digits: String = json[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a count in {json}"))
}

#[test]
fn hundred_clients_every_line_delivered_once() {
    let server = TestServer::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tavern-load"))
        .args(["--addr", &server.addr.to_string()])
        .args([
            "--protocol",
            "telnet",
            "--clients",
            "100",
            "--senders",
            "10",
        ])
        .args(["--rate", "500", "--duration", "2", "--drain", "10"])
        .args(["--signon-timeout", "30", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tavern-load");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for tavern-load") {
            break status;
        }
        if start.elapsed() > CHILD_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tavern-load did not finish within {CHILD_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    assert!(
        status.success(),
        "tavern-load exited with {status}: {stdout}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one JSON line: {stdout:?}");
    let json = lines[0];
    assert!(json.starts_with('{') && json.ends_with('}'), "{json}");

    assert_eq!(field(json, "signed_on"), 100, "{json}");
    assert_eq!(field(json, "disconnected"), 0, "{json}");
    let sent = field(json, "sent");
    assert!(sent > 0, "{json}");
    // tavern echoes to the sender: every line reaches all 100.
    assert_eq!(field(json, "expected"), sent * 100, "{json}");
    assert_eq!(field(json, "seen"), field(json, "expected"), "{json}");
    assert_eq!(field(json, "lost"), 0, "{json}");
    assert_eq!(field(json, "duplicates"), 0, "{json}");
    assert_eq!(field(json, "errors"), 0, "{json}");
    server.stop();
}
