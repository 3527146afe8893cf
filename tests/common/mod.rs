//! Test harness: a real tavern on 127.0.0.1:0 in its own runtime thread, with
//! a shutdown the test controls, and a raw TCP client that waits for what it
//! expects with a deadline (never a fixed sleep). [`telnet`] holds the
//! telnet codes and the one parser every test reads tavern's bytes with;
//! [`process`] the one way to run the tavern binary as a child process.
#![allow(dead_code)] // each test file uses a different part of the harness

pub mod process;
pub mod telnet;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tavern::Config;
use tokio_util::sync::CancellationToken;

/// How long any expectation may take before the test fails. Generous: CI
/// machines are small and shared.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// A configuration for tests: loopback, port 0, short negotiation wait; every
/// test client comes from 127.0.0.1 and types as fast as it can, so the
/// per-address limits (count and connection rate) are high and flood
/// control off (tests/limits.rs turns them on).
pub fn test_config() -> Config {
    Config {
        listen: vec!["127.0.0.1:0".parse().expect("literal address")],
        negotiation_wait_ms: 300,
        max_connections_per_ip: 10_000,
        connect_rate_per_ip_per_minute: 0,
        flood_lines_per_sec: 0,
        ..Config::default()
    }
}

/// A tavern served from a thread of its own.
pub struct TestServer {
    /// The first address it listens on.
    pub addr: SocketAddr,
    /// Every address it listens on, in `listen`'s order.
    pub addrs: Vec<SocketAddr>,
    shutdown: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::with_config(test_config())
    }

    pub fn with_config(config: Config) -> TestServer {
        let shutdown = CancellationToken::new();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let token = shutdown.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("test runtime");
            runtime.block_on(async move {
                let listeners = tavern::bind(&config.listen).expect("bind 127.0.0.1:0");
                let addrs = listeners
                    .iter()
                    .map(|l| l.local_addr().expect("local addr"))
                    .collect::<Vec<_>>();
                addr_tx.send(addrs).expect("send addr");
                tavern::run(listeners, config, token)
                    .await
                    .expect("server run");
            });
        });
        let addrs: Vec<SocketAddr> = addr_rx.recv_timeout(DEADLINE).expect("server started");
        TestServer {
            addr: addrs[0],
            addrs,
            shutdown,
            thread: Some(thread),
        }
    }

    /// Signals shutdown and waits for the server to finish.
    pub fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(thread) = self.thread.take() {
            thread.join().expect("server thread");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A scripted client speaking raw bytes.
pub struct Client {
    stream: TcpStream,
    /// Everything received, raw.
    pub raw: Vec<u8>,
    /// Where in the visible text the next `expect` starts looking.
    cursor: usize,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .expect("read timeout");
        stream.set_nodelay(true).expect("nodelay");
        Client {
            stream,
            raw: Vec::new(),
            cursor: 0,
        }
    }

    /// Connects as a raw client (answers no negotiation) and signs on.
    pub fn sign_on(addr: SocketAddr, nick: &str) -> Client {
        let mut client = Client::connect(addr);
        client.expect("Nickname:");
        client.send_line(nick);
        client.expect(&format!("Welcome, {nick}!"));
        client
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    pub fn send_line(&mut self, line: &str) {
        self.send(format!("{line}\r\n").as_bytes());
    }

    /// Reads what is there now; false when the server closed the connection.
    pub fn pump(&mut self) -> bool {
        let mut buf = [0u8; 16384];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => self.raw.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return true;
                }
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return false,
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Everything received so far with telnet commands and ANSI escapes
    /// removed, and CR dropped.
    pub fn visible(&self) -> String {
        visible(&self.raw)
    }

    /// Waits until `needle` appears in the visible text after the previous
    /// match; returns the text from the cursor up to and including it.
    pub fn expect(&mut self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let text = self.visible();
            if let Some(pos) = text[self.cursor.min(text.len())..].find(needle) {
                let from = self.cursor;
                self.cursor += pos + needle.len();
                return text[from..self.cursor].to_owned();
            }
            let open = self.pump();
            if !open && !self.visible()[self.cursor.min(text.len())..].contains(needle) {
                panic!(
                    "connection closed while waiting for {needle:?}; after cursor: {:?}",
                    &self.visible()[self.cursor.min(text.len())..]
                );
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "timed out waiting for {needle:?}; after cursor: {:?}",
                    &text[self.cursor.min(text.len())..]
                );
            }
        }
    }

    /// Waits until the server closes the connection.
    pub fn expect_closed(&mut self) {
        let start = Instant::now();
        while self.pump() {
            assert!(start.elapsed() < DEADLINE, "connection still open");
        }
    }

    /// Visible text after the cursor, without waiting.
    pub fn rest(&mut self) -> String {
        self.pump();
        let text = self.visible();
        text[self.cursor.min(text.len())..].to_owned()
    }

    /// Closes abruptly with an RST (SO_LINGER 0), as a crashed client would.
    pub fn reset(self) {
        let _ = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
        drop(self.stream);
    }

    pub fn close(self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Reports a window `columns` wide (NAWS), as a terminal would, and waits
    /// until tavern has read it. Without it tavern wraps at 80 columns.
    pub fn report_width(&mut self, columns: u16) {
        use telnet::{IAC, NAWS, WILL, sb};
        let [high, low] = columns.to_be_bytes();
        self.send(&[IAC, WILL, NAWS]);
        self.send(&sb(NAWS, &[high, low, 0, 24]));
        // Input is handled in order: the answer comes after the width.
        self.send_line("/rooms");
        self.expect("*** Rooms: ");
    }
}

/// Signs on every nick, one connection each, overlapping the negotiation
/// waits; returns them in order once all are welcomed.
pub fn sign_on_all<const N: usize>(server: &TestServer, nicks: [&str; N]) -> [Client; N] {
    let mut clients = nicks.map(|_| Client::connect(server.addr));
    for (client, nick) in clients.iter_mut().zip(nicks) {
        client.expect("Nickname:");
        client.send_line(nick);
    }
    for (client, nick) in clients.iter_mut().zip(nicks) {
        client.expect(&format!("Welcome, {nick}!"));
    }
    clients
}

/// The text in `raw`: telnet items, ANSI escape sequences, CR and NUL
/// removed.
pub fn visible(raw: &[u8]) -> String {
    String::from_utf8_lossy(&telnet::strip_ansi(&telnet::Reader::parse(raw).text)).into_owned()
}

/// Pause between a bulk reader's reads when nothing arrived: short, as a
/// round of bulk lines is many reads.
const BULK_POLL: Duration = Duration::from_micros(200);

/// Reads ann's and bob's numbered lines (megabytes of them) from a client's
/// socket without keeping a transcript (`Client::expect` scans everything
/// received, too slow for that), checking that each sender's lines arrive
/// in order and unchanged. Its `who` is also the sender it writes for.
pub struct BulkReader<'a> {
    client: &'a mut Client,
    pub who: &'static str,
    /// The text of line `counter` from `sender`, as sent.
    line_for: fn(&str, usize) -> String,
    /// What every such line starts with before `<sender> <counter> `.
    marker: &'static str,
    partial: Vec<u8>,
    /// Next counter expected from ann and from bob.
    pub next: [usize; 2],
    /// Lines that were not numbered lines.
    pub other: Vec<String>,
}

impl<'a> BulkReader<'a> {
    /// `line_for(sender, counter)` must start with
    /// `{marker}{sender} {counter} `.
    pub fn new(
        client: &'a mut Client,
        who: &'static str,
        line_for: fn(&str, usize) -> String,
        marker: &'static str,
    ) -> BulkReader<'a> {
        // Numbered lines are checked whole: a window wide enough for them.
        client.report_width(4096);
        // Non-blocking: a read timeout is rounded up to the kernel's tick
        // (4 ms), which would dominate the time of a test reading megabytes.
        client.stream().set_nonblocking(true).expect("non-blocking");
        BulkReader {
            client,
            who,
            line_for,
            marker,
            partial: Vec::new(),
            next: [0, 0],
            other: Vec::new(),
        }
    }

    /// Sends this reader's own numbered lines `counters`, in one write.
    pub fn send_lines(&mut self, counters: std::ops::Range<usize>, start: Instant) {
        let mut text = String::new();
        for counter in counters {
            text.push_str(&(self.line_for)(self.who, counter));
            text.push_str("\r\n");
        }
        self.send(text.as_bytes(), start);
    }

    /// Writes to the same socket, reading meanwhile when it is full so
    /// neither side waits on the other.
    pub fn send(&mut self, mut bytes: &[u8], start: Instant) {
        while !bytes.is_empty() {
            match self.client.stream().write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    assert!(start.elapsed() < DEADLINE, "{}: write stuck", self.who);
                    if !self.pump() {
                        std::thread::sleep(BULK_POLL);
                    }
                }
                Err(e) => panic!("{}: write: {e}", self.who),
            }
        }
    }

    /// Reads what is there and checks each complete line; false when
    /// nothing arrived.
    fn pump(&mut self) -> bool {
        let mut buf = [0u8; 65536];
        let mut got = false;
        loop {
            match self.client.stream().read(&mut buf) {
                Ok(0) => panic!("{}: the server closed the connection", self.who),
                Ok(n) => {
                    got = true;
                    self.partial.extend_from_slice(&buf[..n]);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) => panic!("{}: read: {e}", self.who),
            }
        }
        if let Some(end) = self.partial.windows(2).rposition(|w| w == b"\r\n") {
            let complete: Vec<u8> = self.partial.drain(..end + 2).collect();
            for line in visible(&complete).split('\n') {
                self.line(line);
            }
        }
        got
    }

    fn line(&mut self, line: &str) {
        if line.is_empty() {
            return;
        }
        for (i, sender) in ["ann", "bob"].into_iter().enumerate() {
            let prefix = format!("{sender}: {}{sender} ", self.marker);
            if let Some(rest) = line.strip_prefix(&prefix) {
                let counter: usize = rest
                    .split(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("{}: garbled line {line:?}", self.who));
                assert_eq!(
                    counter, self.next[i],
                    "{}: {sender}'s lines out of order or lost",
                    self.who
                );
                assert_eq!(
                    line,
                    format!("{sender}: {}", (self.line_for)(sender, counter)),
                    "{}: a numbered line arrived changed",
                    self.who
                );
                self.next[i] += 1;
                return;
            }
        }
        self.other.push(line.to_owned());
    }

    /// How many of the other lines are `line`.
    pub fn count(&self, line: &str) -> usize {
        self.other.iter().filter(|l| *l == line).count()
    }

    /// Reads until both senders' lines up to `sent` (exclusive) arrived.
    pub fn catch_up(&mut self, sent: usize, start: Instant) {
        while self.next != [sent, sent] {
            assert!(
                start.elapsed() < DEADLINE,
                "{}: stuck at {:?} of {sent}",
                self.who,
                self.next
            );
            if !self.pump() {
                std::thread::sleep(BULK_POLL);
            }
        }
    }

    /// Reads until `needle` is in one of the other lines.
    pub fn wait_other(&mut self, needle: &str, start: Instant) {
        while !self.other.iter().any(|l| l.contains(needle)) {
            assert!(start.elapsed() < DEADLINE, "{}: no {needle:?}", self.who);
            if !self.pump() {
                std::thread::sleep(BULK_POLL);
            }
        }
    }

    /// Back to the `Client`'s own reading: what was read past the last
    /// complete line goes back to it. Returns the other lines.
    pub fn finish(self) -> Vec<String> {
        self.client
            .stream()
            .set_nonblocking(false)
            .expect("blocking again");
        self.client.raw.extend_from_slice(&self.partial);
        self.other
    }
}

/// Polls until a tavern process started by a test exits, at most `DEADLINE`.
pub fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) => {}
            Err(e) => panic!("try_wait: {e}"),
        }
        assert!(
            start.elapsed() < DEADLINE,
            "tavern (pid {}) did not exit in time",
            child.id()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM to a process this test started, by its PID.
pub fn sigterm(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed: {status}");
}
