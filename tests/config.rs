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
    let addr: SocketAddr = loop {
        let left = DEADLINE.saturating_sub(start.elapsed());
        let line = lines
            .recv_timeout(left)
            .expect("no `tavern listening on` line");
        if let Some(addr) = line.strip_prefix("tavern listening on ") {
            break addr.trim().parse().expect("listening address");
        }
    };
    // Keep draining stdout so logging never blocks the server.
    std::thread::spawn(move || while lines.recv().is_ok() {});
    (running, addr)
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
