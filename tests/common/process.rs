//! The tavern binary as a child process, for tests that need the real
//! program (its signal handling, its exit codes, its defaults, what it writes
//! where). One way to start it: [`Tavern::builder`], an environment on top of
//! clean defaults, then [`TavernBuilder::start`] (waits for its `listening
//! on` lines) or [`TavernBuilder::run_to_end`] (for a start that must fail).
//! Its stdout and stderr are kept apart, line by line, by reader threads so
//! it never blocks on a full pipe; it is stopped by its PID on every path.
//! The in-process server (`TestServer`) is in `mod.rs`; this module is only
//! for what a separate process can show.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{DEADLINE, sigterm, wait_exit};

/// The binary under test. Cargo names it only for the tavern package's own
/// integration tests; tools/tests/load_smoke.rs shares this harness for its
/// in-process server and never starts the binary, so it must still compile.
const TAVERN_BIN: Option<&str> = option_env!("CARGO_BIN_EXE_tavern");

/// Pause between polls inside a deadline loop.
const POLL: Duration = Duration::from_millis(10);

/// What stdout starts a line with for each address tavern listens on.
const LISTENING: &str = "tavern listening on ";

/// The limits a test's clients would run into by being many, all from
/// 127.0.0.1, typing as fast as they can: lifted by default, as
/// `test_config` lifts them for the in-process server. Tests of the limits
/// themselves set their own values on top, or ask for the binary's own
/// defaults with [`TavernBuilder::binary_limits`].
const LIFTED_LIMITS: [(&str, &str); 3] = [
    ("TAVERN_MAX_CONNECTIONS_PER_IP", "10000"),
    ("TAVERN_CONNECT_RATE_PER_IP_PER_MINUTE", "0"),
    ("TAVERN_FLOOD_LINES_PER_SEC", "0"),
];

/// An empty directory of its own, removed when the last clone is dropped
/// (a test may keep one and give it to the processes it starts, which keep
/// it too).
#[derive(Clone)]
pub struct TempDir {
    /// The directory; shared so a restarted process can run in the same one.
    dir: Arc<RemovedOnDrop>,
}

/// The path that `TempDir`'s last clone removes.
struct RemovedOnDrop(PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TempDir {
    /// A new directory under the system's temporary one, its name made of
    /// `name`, this test process's PID and a counter, so tests running at
    /// once never share one.
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tavern-it-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir {
            dir: Arc::new(RemovedOnDrop(path)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir.0
    }
}

/// How to start tavern: built from [`Tavern::builder`], used once.
pub struct TavernBuilder {
    /// Variables set for the child. Every inherited `TAVERN_*` variable is
    /// removed first, so an unset key here means the binary's own default.
    env: BTreeMap<String, String>,
    /// Command-line arguments.
    args: Vec<OsString>,
    /// The working directory (so no stray `tavern.toml` is picked up); the
    /// test's own when none.
    dir: Option<TempDir>,
    /// With a limit, tavern runs under `ulimit -n` of it.
    fd_limit: Option<u32>,
    /// How many `listening on` lines `start` waits for.
    listeners: usize,
}

impl TavernBuilder {
    /// Sets `name` (over a default or an earlier value).
    pub fn env(mut self, name: &str, value: &str) -> TavernBuilder {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Sets each pair, in order.
    pub fn envs(self, env: &[(&str, &str)]) -> TavernBuilder {
        env.iter()
            .fold(self, |builder, (name, value)| builder.env(name, value))
    }

    /// Leaves `name` unset, e.g. `TAVERN_LISTEN` for a test whose config
    /// file says where to listen.
    pub fn env_remove(mut self, name: &str) -> TavernBuilder {
        self.env.remove(name);
        self
    }

    /// Drops the lifted limits: the binary's own defaults apply, unless the
    /// test sets them.
    pub fn binary_limits(mut self) -> TavernBuilder {
        for (name, _) in LIFTED_LIMITS {
            self.env.remove(name);
        }
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> TavernBuilder {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Runs in `dir`, which the process keeps until it is dropped.
    pub fn dir(mut self, dir: &TempDir) -> TavernBuilder {
        self.dir = Some(dir.clone());
        self
    }

    /// Runs under `ulimit -n limit`, set by `/bin/sh`, which then execs
    /// tavern, so the PID is tavern's.
    pub fn fd_limit(mut self, limit: u32) -> TavernBuilder {
        self.fd_limit = Some(limit);
        self
    }

    /// Waits for `count` `listening on` lines (one per listen address).
    pub fn listeners(mut self, count: usize) -> TavernBuilder {
        self.listeners = count;
        self
    }

    /// Starts tavern and waits (at most `DEADLINE`) until it says where it
    /// listens; fails the test with its stderr if it exits first.
    pub fn start(self) -> Tavern {
        let listeners = self.listeners;
        let mut tavern = self.spawn();
        let start = Instant::now();
        loop {
            let addrs: Vec<SocketAddr> = tavern
                .stdout()
                .iter()
                .filter_map(|line| line.strip_prefix(LISTENING))
                .map(|addr| addr.trim().parse().expect("listening address"))
                .collect();
            if addrs.len() >= listeners {
                tavern.addr = addrs[0];
                tavern.addrs = addrs;
                return tavern;
            }
            if let Ok(Some(status)) = tavern.child.try_wait() {
                panic!(
                    "tavern exited with {status} before listening; stderr:\n{}",
                    tavern.stderr().join("\n")
                );
            }
            assert!(
                start.elapsed() < DEADLINE,
                "tavern did not say where it listens; its output:\n{}",
                tavern.log()
            );
            std::thread::sleep(POLL);
        }
    }

    /// Runs tavern until it exits (at most `DEADLINE`), as for a start that
    /// must fail; returns its exit status and all it wrote to stderr.
    pub fn run_to_end(self) -> (ExitStatus, String) {
        let mut tavern = self.spawn();
        let status = tavern.wait_exit();
        let stderr = tavern.output().text(Some(Stream::Stderr));
        (status, stderr)
    }

    fn spawn(self) -> Tavern {
        let Some(bin) = TAVERN_BIN else {
            panic!("the tavern binary is built only for tavern's own integration tests");
        };
        let mut command = match self.fd_limit {
            None => Command::new(bin),
            Some(limit) => {
                let mut sh = Command::new("/bin/sh");
                sh.arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(bin);
                sh
            }
        };
        command.args(&self.args);
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
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = &self.dir {
            command.current_dir(dir.path());
        }
        let mut child = command.spawn().expect("spawn tavern");
        let output = Arc::new(Mutex::new(Output::default()));
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        keep_lines(stdout, Stream::Stdout, Arc::clone(&output));
        keep_lines(stderr, Stream::Stderr, Arc::clone(&output));
        Tavern {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            addrs: Vec::new(),
            output,
            _dir: self.dir,
        }
    }
}

/// Which pipe a line came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// What the process wrote, filled by the reader threads.
#[derive(Default)]
struct Output {
    /// Every line of both pipes in the order the readers took them (across
    /// the two pipes, only roughly the order they were written in), without
    /// the line end.
    lines: Vec<(Stream, String)>,
    /// Pipes read to their end; two once the process and its output ended.
    closed: usize,
}

impl Output {
    /// The lines of `stream` (of both when `None`), each ended by `\n`.
    fn text(&self, stream: Option<Stream>) -> String {
        let mut text = String::new();
        for line in self.of(stream) {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    fn of(&self, stream: Option<Stream>) -> impl Iterator<Item = &String> {
        self.lines
            .iter()
            .filter(move |(from, _)| stream.is_none_or(|s| s == *from))
            .map(|(_, line)| line)
    }
}

/// Reads `pipe` to its end on a thread of its own, appending each line to
/// `output`: the child never blocks on a full pipe. Lossy, so a stray byte
/// shows in an assertion rather than ending the reading.
fn keep_lines(pipe: impl Read + Send + 'static, stream: Stream, output: Arc<Mutex<Output>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).split(b'\n') {
            let Ok(mut line) = line else { break };
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line).into_owned();
            lock(&output).lines.push((stream, line));
        }
        lock(&output).closed += 1;
    });
}

/// A panicking reader thread has nothing half-written to protect.
fn lock(output: &Mutex<Output>) -> MutexGuard<'_, Output> {
    output.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A tavern process; killed by its PID and reaped when dropped if still
/// running.
pub struct Tavern {
    /// The process this test started (the only one it may stop).
    child: Child,
    /// The first address it listens on.
    pub addr: SocketAddr,
    /// Every address it said it listens on, in the order it said them.
    pub addrs: Vec<SocketAddr>,
    /// What it wrote, kept by the reader threads.
    output: Arc<Mutex<Output>>,
    /// Its working directory, kept until the process is gone.
    _dir: Option<TempDir>,
}

impl Tavern {
    /// A start with the defaults every test wants: no inherited `TAVERN_*`
    /// variable, listening on 127.0.0.1 port 0, the per-address and flood
    /// limits lifted, warnings only in the log.
    pub fn builder() -> TavernBuilder {
        let mut env = BTreeMap::new();
        env.insert("TAVERN_LISTEN".to_owned(), "127.0.0.1:0".to_owned());
        env.insert("RUST_LOG".to_owned(), "warn".to_owned());
        for (name, value) in LIFTED_LIMITS {
            env.insert(name.to_owned(), value.to_owned());
        }
        TavernBuilder {
            env,
            args: Vec::new(),
            dir: None,
            fd_limit: None,
            listeners: 1,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn output(&self) -> MutexGuard<'_, Output> {
        lock(&self.output)
    }

    /// Its stdout so far, a line each.
    pub fn stdout(&self) -> Vec<String> {
        self.output().of(Some(Stream::Stdout)).cloned().collect()
    }

    /// Its stderr (the log) so far, a line each.
    pub fn stderr(&self) -> Vec<String> {
        self.output().of(Some(Stream::Stderr)).cloned().collect()
    }

    /// Both streams so far as one text, each line ended by `\n`.
    pub fn log(&self) -> String {
        self.output().text(None)
    }

    /// How many stderr lines contain `needle`.
    pub fn count_log(&self, needle: &str) -> usize {
        self.output()
            .of(Some(Stream::Stderr))
            .filter(|line| line.contains(needle))
            .count()
    }

    /// Waits (at most `DEADLINE`) until `count` stderr lines contain
    /// `needle`.
    pub fn wait_log(&self, needle: &str, count: usize) {
        let start = Instant::now();
        while self.count_log(needle) < count {
            assert!(
                start.elapsed() < DEADLINE,
                "waited for {count} log lines with {needle:?}: {:?}",
                self.stderr()
            );
            std::thread::sleep(POLL);
        }
    }

    /// SIGTERM, as an admin stopping it would send.
    pub fn terminate(&self) {
        sigterm(self.pid());
    }

    /// Waits (at most `DEADLINE`) for the process to exit and for the
    /// readers to take its last lines.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let status = wait_exit(&mut self.child);
        // The pipes close with the process (bounded: the readers end at
        // end of file).
        let start = Instant::now();
        while self.output().closed < 2 {
            assert!(start.elapsed() < DEADLINE, "output readers did not finish");
            std::thread::sleep(POLL);
        }
        status
    }

    /// SIGTERM, then waits for it to exit with success and for its output
    /// to end.
    pub fn stop(&mut self) {
        self.terminate();
        let status = self.wait_exit();
        assert!(status.success(), "exit status after SIGTERM: {status}");
    }

    pub fn assert_running(&mut self) {
        assert!(
            matches!(self.child.try_wait(), Ok(None)),
            "the server exited; its log:\n{}",
            self.log()
        );
    }

    /// A line of `/proc/PID/status`, after `key`.
    fn status_field(&self, key: &str) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the server is still running");
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{key} in /proc/PID/status"))
    }

    /// Resident memory, in KiB.
    pub fn rss_kb(&self) -> u64 {
        self.status_field("VmRSS:")
            .split_whitespace()
            .next()
            .and_then(|kb| kb.parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// Asserts the RSS grew by at most `bound_kb` since `before`, and prints
    /// the growth (the figures the bounds' comments quote).
    pub fn assert_rss_growth(&self, before: u64, bound_kb: u64, what: &str) {
        let grown = self.rss_kb().saturating_sub(before);
        eprintln!("{what}: RSS grew by {grown} KiB");
        assert!(
            grown <= bound_kb,
            "{what}: RSS grew by {grown} KiB (bound {bound_kb} KiB)"
        );
    }

    pub fn threads(&self) -> u64 {
        self.status_field("Threads:")
            .trim()
            .parse()
            .expect("Threads in /proc/PID/status")
    }

    /// User plus system CPU time the server has used, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .expect("the server is still running");
        // Fields after the command name, which is in parentheses and may
        // hold spaces: state is field 3, utime 14, stime 15.
        let after_name = stat
            .rfind(')')
            .map(|end| &stat[end + 1..])
            .expect("/proc/PID/stat has a command name");
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let field = |n: usize| -> u64 {
            fields
                .get(n - 3)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("field {n} of /proc/PID/stat: {stat:?}"))
        };
        field(14) + field(15)
    }
}

impl Drop for Tavern {
    fn drop(&mut self) {
        // A failing test shows what the server logged (warnings by
        // default), so a CI failure can be read without a rerun.
        if std::thread::panicking() {
            eprintln!("--- the tavern process's output ---\n{}", self.log());
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
