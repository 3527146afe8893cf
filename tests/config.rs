//! The real binary: a bad configuration stops it with a message naming the
//! key, and SIGTERM shuts it down cleanly.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use common::{Client, DEADLINE};

/// The child process, killed (by its PID, through `Child::kill`) and reaped
/// when dropped, so a failing test does not leave it running.
struct Running {
    child: Child,
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_exit(&mut self) -> ExitStatus {
        common::wait_exit(&mut self.child)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The tavern binary, run in an empty temp directory (so no `tavern.toml`
/// is picked up) with no inherited `TAVERN_*` variables.
fn tavern(dir: &TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tavern"));
    command.current_dir(&dir.0);
    for (name, _) in std::env::vars_os() {
        if name
            .to_string_lossy()
            .to_ascii_uppercase()
            .starts_with("TAVERN_")
        {
            command.env_remove(name);
        }
    }
    command
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Reads a pipe to its end on a thread of its own, so a chatty child never
/// blocks on a full pipe.
fn drain(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(pipe).read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx
}

/// Runs the command to its end (at most `DEADLINE`); returns the status and
/// what it wrote to stderr.
fn run_to_end(mut command: Command) -> (ExitStatus, String) {
    let child = command.spawn().expect("spawn tavern");
    let mut running = Running { child };
    let stdout = drain(running.child.stdout.take().expect("stdout"));
    let stderr = drain(running.child.stderr.take().expect("stderr"));
    let status = running.wait_exit();
    let _ = stdout.recv_timeout(DEADLINE);
    let stderr = stderr.recv_timeout(DEADLINE).expect("stderr read");
    (status, stderr)
}

/// An empty directory of its own, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tavern-it-config-{test}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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
    let dir = TempDir::new("listen");
    let mut command = tavern(&dir);
    command.env("TAVERN_LISTEN", "nonsense");
    let (status, stderr) = run_to_end(command);
    assert_refused(status, &stderr, "listen");
    assert!(stderr.contains("TAVERN_LISTEN"), "{stderr}");
}

#[test]
fn a_zero_max_line_length_stops_the_server_naming_the_key() {
    let dir = TempDir::new("linelen");
    let mut command = tavern(&dir);
    command
        .env("TAVERN_LISTEN", "127.0.0.1:0")
        .env("TAVERN_MAX_LINE_LENGTH", "0");
    let (status, stderr) = run_to_end(command);
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
        let dir = TempDir::new("overflow");
        let mut command = tavern(&dir);
        command
            .env("TAVERN_LISTEN", "127.0.0.1:0")
            .env(var, "18446744073709551615");
        let (status, stderr) = run_to_end(command);
        assert_refused(status, &stderr, key);
        assert!(stderr.contains(range), "{stderr}");
        assert!(stderr.contains(var), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_count_out_of_range_in_the_config_file_stops_the_server_naming_it() {
    let dir = TempDir::new("count");
    let file = dir.0.join("tavern.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:0\"\nflood_burst = 4000000000\n",
    )
    .expect("write config");
    let (status, stderr) = run_to_end(tavern(&dir));
    assert_refused(status, &stderr, "flood_burst");
    assert!(stderr.contains("from 1 to 10000"), "{stderr}");
    assert!(stderr.contains("tavern.toml"), "{stderr}");
}

#[test]
fn an_unknown_environment_variable_stops_the_server_naming_it() {
    let dir = TempDir::new("envtypo");
    let mut command = tavern(&dir);
    command
        .env("TAVERN_LISTEN", "127.0.0.1:0")
        .env("TAVERN_MAX_LINE_LENGHT", "80");
    let (status, stderr) = run_to_end(command);
    assert_refused(status, &stderr, "max_line_lenght");
}

#[test]
fn an_unknown_key_in_the_config_file_stops_the_server_naming_it() {
    let dir = TempDir::new("unknown");
    let file = dir.0.join("custom.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nserver_nmae = \"typo\"\n")
        .expect("write config");
    let mut command = tavern(&dir);
    command.arg("--config").arg(&file);
    let (status, stderr) = run_to_end(command);
    assert_refused(status, &stderr, "server_nmae");
}

#[test]
fn a_missing_config_file_stops_the_server_with_a_message() {
    let dir = TempDir::new("missing");
    let file = dir.0.join("no-such-file.toml");
    let mut command = tavern(&dir);
    command
        .env("TAVERN_LISTEN", "127.0.0.1:0")
        .arg("--config")
        .arg(&file);
    let (status, stderr) = run_to_end(command);
    assert_refused(status, &stderr, "no-such-file.toml");
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn an_unknown_argument_stops_the_server_with_usage() {
    let dir = TempDir::new("args");
    let mut command = tavern(&dir);
    command.env("TAVERN_LISTEN", "127.0.0.1:0").arg("--verbose");
    let (status, stderr) = run_to_end(command);
    assert_refused(status, &stderr, "--verbose");
    assert!(stderr.contains("usage"), "{stderr}");
}

/// Starts tavern on `listen` and returns it with the address it reports
/// (`tavern listening on …`); its output is drained so logging never blocks.
fn start_listening(dir: &TempDir, listen: &str) -> (Running, SocketAddr) {
    let (running, addrs) = start_listening_on(dir, listen, 1);
    (running, addrs[0])
}

/// Starts tavern on `listen` and returns it with the first `count`
/// addresses it reports, one `tavern listening on …` line each.
fn start_listening_on(dir: &TempDir, listen: &str, count: usize) -> (Running, Vec<SocketAddr>) {
    let mut command = tavern(dir);
    command.env("TAVERN_LISTEN", listen);
    let mut running = Running {
        child: command.spawn().expect("spawn tavern"),
    };
    let _stderr = drain(running.child.stderr.take().expect("stderr"));

    // Every stdout line to a channel; the address comes from the first
    // `tavern listening on` line.
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stdout = running.child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut addrs: Vec<SocketAddr> = Vec::new();
    while addrs.len() < count {
        let left = DEADLINE.saturating_sub(start.elapsed());
        let line = lines
            .recv_timeout(left)
            .expect("no `tavern listening on` line");
        if let Some(addr) = line.strip_prefix("tavern listening on ") {
            addrs.push(addr.trim().parse().expect("listening address"));
        }
    }
    // Keep draining stdout so nothing written there blocks the server.
    std::thread::spawn(move || while lines.recv().is_ok() {});
    (running, addrs)
}

fn sigterm(running: &Running) {
    common::sigterm(running.pid());
}

#[test]
fn sigterm_tells_clients_and_exits_with_success() {
    let dir = TempDir::new("sigterm");
    let (mut running, addr) = start_listening(&dir, "127.0.0.1:0");
    let mut ann = Client::sign_on(addr, "ann");
    sigterm(&running);
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
    let dir = TempDir::new("restart");
    let (mut first, addr) = start_listening(&dir, "127.0.0.1:0");
    let mut ann = Client::sign_on(addr, "ann");
    ann.send_line("before the restart");
    ann.expect("ann: before the restart");
    sigterm(&first);
    ann.expect("Goodbye!");
    ann.expect_closed();
    let status = first.wait_exit();
    assert!(status.success(), "exit status after SIGTERM: {status}");

    let (mut second, again) = start_listening(&dir, &addr.to_string());
    assert_eq!(again, addr);
    let mut bob = Client::sign_on(addr, "bob");
    bob.send_line("after the restart");
    bob.expect("bob: after the restart");
    sigterm(&second);
    bob.expect("Goodbye!");
    let status = second.wait_exit();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// `listen` as a list: the binary listens on an IPv4 and an IPv6 address at
/// once, says so on stdout for each, and a line typed over IPv4 reaches a
/// user on IPv6 (and back). MSSP's PORT is the port each client reached.
#[test]
fn the_binary_listens_on_ipv4_and_ipv6_at_once_and_chat_crosses_between_them() {
    let dir = TempDir::new("dual");
    let (mut running, addrs) = start_listening_on(&dir, r#"["127.0.0.1:0", "[::1]:0"]"#, 2);
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
    sigterm(&running);
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
