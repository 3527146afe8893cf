//! tavern-load: a load generator for tavern and other line-broadcast chat
//! servers (IRC, raw TCP broadcasters). See `--help` ([`USAGE`]).
//!
//! Phases, each with a deadline so the process always ends by itself:
//! connect (ramped at `--ramp` per second, `--connect-timeout` each), sign on
//! (`--signon-timeout` each, all of it over by the global sign-on deadline:
//! ramp + connect timeout + sign-on timeout), wait `--settle` seconds for
//! the server's sign-on backlog to clear, send for `--duration` seconds,
//! drain for at most `--drain` seconds, then collect every task's counts and
//! histogram (5 s at most) and print one JSON line. A watchdog thread ends
//! the process (exit 3, a JSON line with `"error":"watchdog"`) if all of
//! that overruns its bound. Failures are counted, never panics.
//!
//! Protocols. `telnet` answers negotiation as a minimal client (WILL TTYPE
//! and `TAVERN-LOAD` as the terminal type; WONT/DONT to everything else,
//! ECHO included, so tavern leaves line editing to us), waits for
//! `Nickname:`, sends `l<index>`, and is signed on at `Welcome,`. `irc`
//! sends NICK/USER, JOINs the channel after 001, is signed on at its JOIN
//! echo or 366, and answers PING. `raw` is signed on once connected (or once
//! `--ready-marker` arrives).
//!
//! Expected deliveries, per protocol: tavern and raw broadcasters send a
//! line back to its sender too, IRC servers do not. So a line's expected
//! deliveries are the members signed on (and not disconnected) when it is
//! sent, less one for irc ([`Protocol::echoes_sender`]). `lost` counts, for
//! each client still connected at the end, the lines it should have got and
//! did not (within the drain: when `drain_s` equals `--drain`, lines still
//! in flight count as lost). A token seen twice by one client counts once,
//! the rest in `duplicates`; tokens from another run in `foreign`.
//!
//! The window (`--window`, for `--rate 0`): without a bound, senders fill
//! the server's queues and every latency is just queueing. With it, the
//! senders together never have more than W lines out that some connected
//! member has not received yet: a pacer task computes, each millisecond, the
//! fewest lines any member has accounted for (per-client counters stored
//! once per read), and senders reserve lines against it. So no client's
//! backlog in the server exceeds W lines: keep W below the server's
//! per-client buffer (tavern's `outbound_queue` is 1024 lines; ngircd's is
//! 32 KiB of output) and nothing is dropped for not reading; deliveries/s
//! with `lost` 0 is then the server's throughput. Throughput rises with W
//! until the server is saturated; the default 256 is well inside both. With
//! `--rate R` there is no window by default (open loop, as users would send).
//!
//! Latency is the receive time (right after the `read` that got it) minus the
//! send time in the token (taken when the batch holding it was written),
//! both on one clock. Each task keeps a log-linear histogram ([`hist`]),
//! merged at the end. Throughput is deliveries seen over the send phase (or
//! up to the last delivery, when later).

mod conn;
mod hist;
mod scan;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::{Instant, sleep, sleep_until, timeout_at};

use conn::{ConnResult, FAILED, GONE, PENDING, SIGNED_ON, Shared};
use hist::Merged;

const USAGE: &str = "\
tavern-load: load generator for tavern (telnet), IRC servers and raw line broadcasters

usage: tavern-load [OPTIONS]

  --addr HOST:PORT        server address (default 127.0.0.1:4000)
  --protocol P            telnet | irc | raw (default telnet)
  --mode M                chat | idle (default chat)
  --clients N             connections (default 100)
  --senders S             the first S clients send (default 10; at most N)
  --rate R                total lines per second across senders; 0 = as fast as
                          the window allows (default 0)
  --duration D            seconds of sending (default 10)
  --window W              lines the senders together may have out that some
                          connected member has not received yet; keep it below the
                          server's per-client queue in lines (tavern: outbound_queue,
                          1024); 0 = no limit (default: 256 with --rate 0, else 0)
  --line-length L         pad each line's payload to L bytes (default: token only)
  --ramp C                connections opened per second (default 2000)
  --connect-timeout T     seconds per connect (default 10)
  --signon-timeout T      seconds per sign-on after connecting (default 30)
  --settle T              seconds between the end of sign-on and sending, for the
                          server's backlog of join notices to clear (default 1)
  --drain T               seconds to wait after sending for deliveries (default 5)
  --hold T                idle mode: seconds to hold the connections (default 60)
  --hold-stdin            idle mode: also stop holding when stdin reaches EOF
  --stop-file PATH        idle mode: also stop holding when PATH exists
  --nick-prefix P         nicks are P<index> (default l)
  --channel C             IRC channel (default #load)
  --ready-marker TEXT     raw: a connection is ready once TEXT arrives
  --threads T             runtime worker threads (default: CPUs)
  --json-extra KEY=VALUE  copied into the JSON line (repeatable)
  --quiet                 no progress on stderr
  --help                  this text

Prints one JSON line on stdout; progress and diagnostics go to stderr.
Each line carries a token ~T<sender>.<seq>.<send_us>~. Expected deliveries of a
line = members signed on at send time, less the sender for irc (IRC servers do not
echo PRIVMSG to its sender; tavern and raw broadcasters do). lost = lines that a
client still connected at the end never saw. Raise `ulimit -n` above N first.
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Telnet,
    Irc,
    Raw,
}

impl Protocol {
    /// Whether the server sends a line back to its sender too. This decides
    /// the expected deliveries per line (members, or members - 1) and who
    /// paces a sender's window (itself, or the next client).
    pub fn echoes_sender(self) -> bool {
        self != Protocol::Irc
    }

    fn name(self) -> &'static str {
        match self {
            Protocol::Telnet => "telnet",
            Protocol::Irc => "irc",
            Protocol::Raw => "raw",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Chat,
    Idle,
}

#[derive(Clone, Debug)]
pub struct Opts {
    pub addr: SocketAddr,
    pub protocol: Protocol,
    pub mode: Mode,
    pub clients: usize,
    pub senders: usize,
    pub rate: f64,
    pub duration: Duration,
    pub window: u64,
    pub line_length: usize,
    pub ramp: f64,
    pub connect_timeout: Duration,
    pub signon_timeout: Duration,
    pub settle: Duration,
    pub drain: Duration,
    pub hold: Duration,
    pub hold_stdin: bool,
    pub stop_file: Option<PathBuf>,
    pub nick_prefix: String,
    pub channel: String,
    pub ready_marker: Option<String>,
    pub threads: usize,
    pub extra: Vec<(String, String)>,
    pub quiet: bool,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Opts>, String> {
    let mut addr = "127.0.0.1:4000".to_owned();
    let mut opts = Opts {
        addr: SocketAddr::from(([127, 0, 0, 1], 4000)),
        protocol: Protocol::Telnet,
        mode: Mode::Chat,
        clients: 100,
        senders: 10,
        rate: 0.0,
        duration: Duration::from_secs(10),
        window: 0,
        line_length: 0,
        ramp: 2000.0,
        connect_timeout: Duration::from_secs(10),
        signon_timeout: Duration::from_secs(30),
        settle: Duration::from_secs(1),
        drain: Duration::from_secs(5),
        hold: Duration::from_secs(60),
        hold_stdin: false,
        stop_file: None,
        nick_prefix: "l".to_owned(),
        channel: "#load".to_owned(),
        ready_marker: None,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        extra: Vec::new(),
        quiet: false,
    };
    let mut window = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        match name.as_str() {
            "--help" | "-h" => return Ok(None),
            "--hold-stdin" => {
                opts.hold_stdin = true;
                continue;
            }
            "--quiet" => {
                opts.quiet = true;
                continue;
            }
            _ => {}
        }
        const TAKES_VALUE: &[&str] = &[
            "--addr",
            "--protocol",
            "--mode",
            "--clients",
            "--senders",
            "--rate",
            "--duration",
            "--window",
            "--line-length",
            "--ramp",
            "--connect-timeout",
            "--signon-timeout",
            "--settle",
            "--drain",
            "--hold",
            "--stop-file",
            "--nick-prefix",
            "--channel",
            "--ready-marker",
            "--threads",
            "--json-extra",
        ];
        if !TAKES_VALUE.contains(&name.as_str()) {
            return Err(format!("unknown option {name} (see --help)"));
        }
        let value = match inline {
            Some(v) => v,
            None => args.next().ok_or_else(|| format!("{name} needs a value"))?,
        };
        let bad = |what: &str| format!("{name}: {what}, got {value:?}");
        let number = |v: &str| v.parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0);
        let seconds = |v: &str| {
            number(v)
                .filter(|&x| x <= 1e7)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| bad("expected seconds (a number >= 0)"))
        };
        let count = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| bad("expected a whole number"))
        };
        match name.as_str() {
            "--addr" => addr = value.clone(),
            "--protocol" => {
                opts.protocol = match value.as_str() {
                    "telnet" => Protocol::Telnet,
                    "irc" => Protocol::Irc,
                    "raw" => Protocol::Raw,
                    _ => return Err(bad("expected telnet, irc or raw")),
                }
            }
            "--mode" => {
                opts.mode = match value.as_str() {
                    "chat" => Mode::Chat,
                    "idle" => Mode::Idle,
                    _ => return Err(bad("expected chat or idle")),
                }
            }
            "--clients" => opts.clients = count(&value)?,
            "--senders" => opts.senders = count(&value)?,
            "--rate" => opts.rate = number(&value).ok_or_else(|| bad("expected a number >= 0"))?,
            "--duration" => opts.duration = seconds(&value)?,
            "--window" => window = Some(count(&value)? as u64),
            "--line-length" => opts.line_length = count(&value)?.min(400),
            "--ramp" => {
                opts.ramp = number(&value)
                    .filter(|&r| r > 0.0)
                    .ok_or_else(|| bad("expected connections per second > 0"))?
            }
            "--connect-timeout" => opts.connect_timeout = seconds(&value)?,
            "--signon-timeout" => opts.signon_timeout = seconds(&value)?,
            "--settle" => opts.settle = seconds(&value)?,
            "--drain" => opts.drain = seconds(&value)?,
            "--hold" => opts.hold = seconds(&value)?,
            "--stop-file" => opts.stop_file = Some(PathBuf::from(value)),
            "--nick-prefix" => opts.nick_prefix = value,
            "--channel" => opts.channel = value,
            "--ready-marker" => opts.ready_marker = Some(value),
            "--threads" => opts.threads = count(&value)?.max(1),
            "--json-extra" => {
                let (k, v) = value
                    .split_once('=')
                    .ok_or_else(|| bad("expected KEY=VALUE"))?;
                opts.extra.push((k.to_owned(), v.to_owned()));
            }
            _ => return Err(format!("unknown option {name} (see --help)")),
        }
    }
    if opts.clients > 1_000_000 {
        return Err("--clients: at most 1000000".into());
    }
    opts.senders = opts.senders.min(opts.clients);
    if opts.mode == Mode::Idle {
        opts.senders = 0;
    }
    opts.window = window.unwrap_or(if opts.rate == 0.0 { 256 } else { 0 });
    opts.addr = addr
        .to_socket_addrs()
        .map_err(|e| format!("--addr {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("--addr {addr}: no address"))?;
    Ok(Some(opts))
}

/// Set once the JSON line is out, so the watchdog never prints a second.
static PRINTED: AtomicBool = AtomicBool::new(false);

fn print_json(line: &str) {
    if !PRINTED.swap(true, SeqCst) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("tavern-load: {e}");
            return ExitCode::from(2);
        }
    };
    let ramp = Duration::from_secs_f64(opts.clients as f64 / opts.ramp);
    let signon_phase = ramp + opts.connect_timeout + opts.signon_timeout;
    let rest = match opts.mode {
        Mode::Chat => opts.settle + opts.duration + opts.drain,
        Mode::Idle => opts.hold,
    };
    // Collecting results takes at most COLLECT; then some slack.
    let bound = signon_phase + rest + COLLECT + Duration::from_secs(10);
    let protocol = opts.protocol;
    std::thread::spawn(move || {
        std::thread::sleep(bound);
        eprintln!("tavern-load: watchdog: the run overran its bound of {bound:?}; exiting");
        print_json(&format!(
            "{{\"protocol\":\"{}\",\"error\":\"watchdog\"}}",
            protocol.name()
        ));
        std::process::exit(3);
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tavern-load: runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run(opts, signon_phase));
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

/// How long collecting the tasks' results may take after the stop.
const COLLECT: Duration = Duration::from_secs(5);

async fn run(opts: Opts, signon_phase: Duration) -> ExitCode {
    let shared = Arc::new(Shared::new(opts, Instant::now() + signon_phase));
    let opts = &shared.opts;
    let progress = (!opts.quiet).then(|| tokio::spawn(progress(shared.clone())));

    // Connect, ramped; sign-on overlaps.
    let mut handles = Vec::with_capacity(opts.clients);
    let per = Duration::from_secs_f64(1.0 / opts.ramp);
    for index in 0..opts.clients {
        let at = shared.start + per.mul_f64(index as f64);
        if at > Instant::now() {
            sleep_until(at).await;
        }
        handles.push(tokio::spawn(conn::client(shared.clone(), index)));
    }
    // Wait for every sign-on to be over, either way.
    while shared.resolved.load(SeqCst) < opts.clients && Instant::now() < shared.signon_deadline {
        let _ = timeout_at(
            shared
                .signon_deadline
                .min(Instant::now() + Duration::from_millis(200)),
            shared.resolved_notify.notified(),
        )
        .await;
    }
    // From here on nobody else becomes a member.
    for status in &shared.status {
        let _ = status.compare_exchange(PENDING, FAILED, SeqCst, SeqCst);
    }
    let signon_s = shared.last_signon_us.load(SeqCst) as f64 / 1e6;

    let code = match opts.mode {
        Mode::Chat => chat(&shared, handles, signon_s).await,
        Mode::Idle => idle(&shared, handles, signon_s).await,
    };
    if let Some(progress) = progress {
        progress.abort();
    }
    code
}

/// Senders that are members at the start of the send phase.
fn active_senders(shared: &Shared) -> usize {
    (0..shared.opts.senders)
        .filter(|&s| shared.status[s].load(SeqCst) == SIGNED_ON)
        .count()
}

async fn chat(
    shared: &Arc<Shared>,
    handles: Vec<tokio::task::JoinHandle<ConnResult>>,
    signon_s: f64,
) -> ExitCode {
    let opts = &shared.opts;
    let active_senders = active_senders(shared);
    if opts.window > 0 {
        tokio::spawn(conn::pacer(shared.clone()));
    }
    // A moment for the writers to be waiting when the phase begins, and for
    // the server to finish what sign-on set off (join notices to everyone).
    let send_start_us = shared.micros() + opts.settle.as_micros() as u64 + 20_000;
    let send_end_us = send_start_us + opts.duration.as_micros() as u64;
    shared.send_start_us.store(send_start_us, SeqCst);
    shared.send_end_us.store(send_end_us, SeqCst);
    if !opts.quiet {
        eprintln!(
            "tavern-load: {} signed on, {} senders; sending for {:?}",
            shared.signed_on.load(SeqCst),
            active_senders,
            opts.duration
        );
    }
    shared.go.cancel();
    let send_end = shared.at_micros(send_end_us);
    // Nobody to send to or from: no send phase.
    if shared.signed_on.load(SeqCst) > 0 {
        sleep_until(send_end).await;
    }
    let drain_end = send_end + opts.drain;
    loop {
        let senders_done = shared.senders_done.load(SeqCst) >= active_senders;
        let all_seen = shared.seen_so_far() >= shared.expected_total.load(SeqCst);
        if (senders_done && all_seen) || Instant::now() >= drain_end {
            break;
        }
        sleep(Duration::from_millis(5)).await;
    }
    let drained_s = (shared.micros().saturating_sub(send_end_us)) as f64 / 1e6;
    shared.stop_all();

    let collected = collect(handles).await;
    let sent: Vec<u64> = shared.sent.iter().map(|s| s.load(SeqCst)).collect();
    let sent_total: u64 = sent.iter().sum();
    let mut lost = 0u64;
    for r in &collected.results {
        if r.signed_on && r.open_at_end {
            let own = if !opts.protocol.echoes_sender() && r.index < opts.senders {
                sent[r.index]
            } else {
                0
            };
            lost += (sent_total - own).saturating_sub(r.seen);
        }
    }
    let duration_s = opts.duration.as_secs_f64();
    let span_s = (collected.last_rx_us.saturating_sub(send_start_us) as f64 / 1e6).max(duration_s);
    let per_s = |n: u64| if span_s > 0.0 { n as f64 / span_s } else { 0.0 };
    let ms = |us: u64| format!("{:.3}", us as f64 / 1000.0);
    let h = &collected.hist;
    let mut json = format!(
        "{{\"mode\":\"chat\",\"protocol\":\"{}\",\"addr\":\"{}\",\"clients\":{},\"senders\":{},\
         \"rate\":{},\"duration_s\":{},\"settle_s\":{},\"window\":{},\"line_length\":{},\
         \"connected\":{},\"connect_failed\":{},\"signed_on\":{},\"signon_failed\":{},\
         \"signon_s\":{:.3},\"active_senders\":{},\"sent\":{},\"lines_per_s\":{:.1},\
         \"expected\":{},\"seen\":{},\"lost\":{},\"duplicates\":{},\"foreign\":{},\
         \"deliveries_per_s\":{:.0},\"drain_s\":{:.3},\
         \"latency_ms\":{{\"p50\":{},\"p90\":{},\"p99\":{},\"p999\":{},\"max\":{}}},\
         \"disconnected\":{},\"errors\":{}",
        opts.protocol.name(),
        opts.addr,
        opts.clients,
        opts.senders,
        number(opts.rate),
        number(duration_s),
        number(opts.settle.as_secs_f64()),
        opts.window,
        opts.line_length,
        shared.connected.load(SeqCst),
        shared.connect_failed.load(SeqCst),
        shared.signed_on.load(SeqCst),
        shared.signon_failed.load(SeqCst),
        signon_s,
        active_senders,
        sent_total,
        if duration_s > 0.0 {
            sent_total as f64 / duration_s
        } else {
            0.0
        },
        shared.expected_total.load(SeqCst),
        collected.seen,
        lost,
        collected.duplicates,
        collected.foreign,
        per_s(collected.seen),
        drained_s,
        ms(h.quantile(0.50)),
        ms(h.quantile(0.90)),
        ms(h.quantile(0.99)),
        ms(h.quantile(0.999)),
        ms(h.max()),
        shared.disconnected.load(SeqCst),
        shared.errors.load(SeqCst) + collected.task_errors,
    );
    push_extra(&mut json, &opts.extra);
    json.push('}');
    print_json(&json);
    ExitCode::SUCCESS
}

async fn idle(
    shared: &Arc<Shared>,
    handles: Vec<tokio::task::JoinHandle<ConnResult>>,
    signon_s: f64,
) -> ExitCode {
    let opts = &shared.opts;
    let signed_on = shared.signed_on.load(SeqCst);
    let mut json = format!(
        "{{\"mode\":\"idle\",\"protocol\":\"{}\",\"addr\":\"{}\",\"clients\":{},\"connected\":{},\
         \"signed_on\":{},\"failed\":{},\"connect_failed\":{},\"signon_failed\":{},\
         \"signon_s\":{:.3},\"hold_s\":{}",
        opts.protocol.name(),
        opts.addr,
        opts.clients,
        shared.connected.load(SeqCst),
        signed_on,
        opts.clients as u64 - signed_on,
        shared.connect_failed.load(SeqCst),
        shared.signon_failed.load(SeqCst),
        signon_s,
        number(opts.hold.as_secs_f64()),
    );
    push_extra(&mut json, &opts.extra);
    json.push('}');
    print_json(&json);
    if !opts.quiet {
        eprintln!(
            "tavern-load: holding {signed_on} connections for at most {:?}",
            opts.hold
        );
    }
    let hold_end = Instant::now() + opts.hold;
    let stdin_closed = async {
        if !opts.hold_stdin {
            return std::future::pending().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 1024];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let stop_file = async {
        let Some(path) = &opts.stop_file else {
            return std::future::pending().await;
        };
        while !path.exists() {
            sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::select! {
        _ = sleep_until(hold_end) => {}
        _ = stdin_closed => {}
        _ = stop_file => {}
    }
    shared.stop_all();
    let collected = collect(handles).await;
    let open = collected.results.iter().filter(|r| r.open_at_end).count();
    eprintln!(
        "tavern-load: idle done: {open} of {signed_on} still connected, {} disconnected, {} errors",
        shared.disconnected.load(SeqCst),
        shared.errors.load(SeqCst) + collected.task_errors
    );
    ExitCode::SUCCESS
}

struct Collected {
    results: Vec<ConnResult>,
    hist: Merged,
    seen: u64,
    duplicates: u64,
    foreign: u64,
    last_rx_us: u64,
    task_errors: u64,
}

/// Waits (bounded) for every connection task and merges what they measured.
async fn collect(handles: Vec<tokio::task::JoinHandle<ConnResult>>) -> Collected {
    let deadline = Instant::now() + COLLECT;
    let mut c = Collected {
        results: Vec::with_capacity(handles.len()),
        hist: Merged::new(),
        seen: 0,
        duplicates: 0,
        foreign: 0,
        last_rx_us: 0,
        task_errors: 0,
    };
    for mut handle in handles {
        match timeout_at(deadline, &mut handle).await {
            Ok(Ok(mut r)) => {
                if let Some(h) = r.hist.take() {
                    c.hist.add(&h, r.max_latency_us);
                }
                c.seen += r.seen;
                c.duplicates += r.duplicates;
                c.foreign += r.foreign;
                c.last_rx_us = c.last_rx_us.max(r.last_rx_us);
                c.results.push(r);
            }
            Ok(Err(_)) => c.task_errors += 1,
            Err(_) => {
                handle.abort();
                c.task_errors += 1;
            }
        }
    }
    if c.task_errors > 0 {
        eprintln!(
            "tavern-load: {} connection tasks failed or did not stop in time",
            c.task_errors
        );
    }
    c
}

/// One line on stderr a second.
async fn progress(shared: Arc<Shared>) {
    let mut last_seen = 0;
    loop {
        sleep(Duration::from_secs(1)).await;
        let seen = shared.seen_so_far();
        let gone = shared
            .status
            .iter()
            .filter(|s| s.load(Relaxed) == GONE)
            .count();
        eprintln!(
            "tavern-load: t={:.1}s connected {} signed_on {} failed {} gone {} | sent {} expected {} seen {} (+{}/s)",
            shared.micros() as f64 / 1e6,
            shared.connected.load(Relaxed),
            shared.signed_on.load(Relaxed),
            shared.connect_failed.load(Relaxed) + shared.signon_failed.load(Relaxed),
            gone,
            shared.sent.iter().map(|s| s.load(Relaxed)).sum::<u64>(),
            shared.expected_total.load(Relaxed),
            seen,
            seen - last_seen,
        );
        last_seen = seen;
    }
}

/// A number for JSON: integral values without a fraction.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `--json-extra` pairs: numbers as numbers, the rest as strings.
fn push_extra(json: &mut String, extra: &[(String, String)]) {
    for (key, value) in extra {
        let is_number = value.parse::<f64>().is_ok_and(f64::is_finite)
            && value
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == '-');
        let value = if is_number {
            value.clone()
        } else {
            json_string(value)
        };
        json.push(',');
        json.push_str(&json_string(key));
        json.push(':');
        json.push_str(&value);
    }
}
