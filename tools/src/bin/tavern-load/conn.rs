//! One connection: connect, sign on, then read everything until the run
//! stops; the first `senders` connections also get a writer task that sends
//! the timed lines. The reader waits for readiness and then reads into a
//! 64 KiB buffer owned by the worker thread (not by the connection), so
//! 19,000 idle connections cost no buffer memory; each read is scanned once
//! by the connection's [`Scanner`] and its counts and latencies stay in the
//! task until the end (one atomic add per read for progress, none per line).

use std::cell::RefCell;
use std::io::{ErrorKind, Write as _};
use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize};
use std::time::Duration;

use std::pin::Pin;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Notify, mpsc};
use tokio::time::{Instant, sleep_until, timeout_at};
use tokio_util::sync::CancellationToken;

use crate::hist::Hist;
use crate::scan::{Scanner, Sink};
use crate::{Mode, Opts, Protocol};

/// Per-client status, decided once by compare-and-swap so that the main task
/// and a client signing on at the last moment agree on who is a member.
pub const PENDING: u8 = 0;
pub const SIGNED_ON: u8 = 1;
pub const FAILED: u8 = 2;
/// Signed on, then lost the connection.
pub const GONE: u8 = 3;

/// Size of each worker thread's read buffer.
const READ_BUF: usize = 64 * 1024;
/// Lines a sender writes with one write call at most.
const MAX_BATCH: u64 = 256;
/// A sender waiting on the window looks again at least this often (the
/// pacer wakes it sooner when the window moves).
const WINDOW_POLL: Duration = Duration::from_millis(5);
/// Sign-on text: what is kept between reads (enough for a needle split
/// across two reads), and the most ever held (one read is at most
/// `READ_BUF`, and the text is looked at after every read; only an IRC line
/// without an end could reach it).
const TEXT_TAIL: usize = 64;
const TEXT_MAX: usize = 4 * READ_BUF;
/// Failures described on stderr (the rest are only counted).
const FAILURES_SHOWN: usize = 5;

thread_local! {
    static READ_BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_BUF]);
}

/// What all tasks share: options, phase signals, counters.
pub struct Shared {
    pub opts: Opts,
    /// Time zero of the run; tokens carry microseconds since it.
    pub start: Instant,
    /// Everything stops (end of drain, or end of hold). Each task waits on a
    /// child token of its own: polling one shared token takes one shared
    /// lock, which every read of every connection would contend for.
    pub stop: CancellationToken,
    /// Set just before `stop` is cancelled; checked after each read or write
    /// (a task that never waits never polls its token).
    pub stopping: AtomicBool,
    /// The send phase begins (`send_start_us`, `send_end_us` are set).
    pub go: CancellationToken,
    pub send_start_us: AtomicU64,
    pub send_end_us: AtomicU64,
    /// Sign-on must be over by then for every connection.
    pub signon_deadline: Instant,
    pub connected: AtomicU64,
    pub connect_failed: AtomicU64,
    pub signed_on: AtomicU64,
    pub signon_failed: AtomicU64,
    /// Signed on and not (yet) disconnected: the members a line goes to.
    pub live: AtomicU64,
    pub disconnected: AtomicU64,
    pub errors: AtomicU64,
    /// Connections whose sign-on is over, either way.
    pub resolved: AtomicUsize,
    pub resolved_notify: Notify,
    pub last_signon_us: AtomicU64,
    /// Deliveries expected so far (for progress and the end of the drain;
    /// the final figures come from the tasks).
    pub expected_total: AtomicU64,
    /// Per sender: lines sent, and the wake-up for a sender waiting on the
    /// window.
    pub sent: Vec<AtomicU64>,
    pub wake: Vec<Notify>,
    /// Lines sent by all senders together (the window's reservations).
    pub lines_total: AtomicU64,
    /// Lines the slowest member still connected has accounted for (seen, or
    /// sent itself when the server does not echo): the window's lower edge,
    /// computed by the pacer.
    pub floor: AtomicU64,
    /// Per client: unique lines seen so far (stored once per read).
    pub progress: Vec<AtomicU64>,
    pub status: Vec<AtomicU8>,
    /// Senders whose send phase is over (or that are gone).
    pub senders_done: AtomicUsize,
    pub warned_emfile: AtomicBool,
    pub failures_shown: AtomicUsize,
}

impl Shared {
    pub fn new(opts: Opts, signon_deadline: Instant) -> Shared {
        let senders = opts.senders;
        let clients = opts.clients;
        let atomics = |n: usize, v: u64| (0..n).map(|_| AtomicU64::new(v)).collect();
        Shared {
            start: Instant::now(),
            stop: CancellationToken::new(),
            stopping: AtomicBool::new(false),
            go: CancellationToken::new(),
            send_start_us: AtomicU64::new(0),
            send_end_us: AtomicU64::new(0),
            signon_deadline,
            connected: AtomicU64::new(0),
            connect_failed: AtomicU64::new(0),
            signed_on: AtomicU64::new(0),
            signon_failed: AtomicU64::new(0),
            live: AtomicU64::new(0),
            disconnected: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            resolved: AtomicUsize::new(0),
            resolved_notify: Notify::new(),
            last_signon_us: AtomicU64::new(0),
            expected_total: AtomicU64::new(0),
            sent: atomics(senders, 0),
            wake: (0..senders).map(|_| Notify::new()).collect(),
            lines_total: AtomicU64::new(0),
            floor: AtomicU64::new(0),
            progress: atomics(clients, 0),
            status: (0..clients).map(|_| AtomicU8::new(PENDING)).collect(),
            senders_done: AtomicUsize::new(0),
            warned_emfile: AtomicBool::new(false),
            failures_shown: AtomicUsize::new(0),
            opts,
        }
    }

    /// Unique deliveries so far, summed over the clients' counters (no
    /// counter shared by all readers).
    pub fn seen_so_far(&self) -> u64 {
        self.progress.iter().map(|p| p.load(Relaxed)).sum()
    }

    /// Microseconds since the start of the run.
    pub fn micros(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// Ends every task's wait.
    pub fn stop_all(&self) {
        self.stopping.store(true, SeqCst);
        self.stop.cancel();
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Relaxed)
    }

    pub fn at_micros(&self, micros: u64) -> Instant {
        self.start + Duration::from_micros(micros)
    }

    fn resolve(&self) {
        self.resolved.fetch_add(1, SeqCst);
        self.resolved_notify.notify_one();
    }

    fn show_failure(&self, index: usize, what: &str) {
        if self.failures_shown.fetch_add(1, Relaxed) < FAILURES_SHOWN {
            eprintln!("tavern-load: client {index}: {what}");
        }
    }

    fn connect_error(&self, index: usize, error: &std::io::Error) {
        match error.raw_os_error() {
            // EMFILE, ENFILE
            Some(24) | Some(23) => {
                self.errors.fetch_add(1, Relaxed);
                if !self.warned_emfile.swap(true, Relaxed) {
                    eprintln!(
                        "tavern-load: out of file descriptors ({error}): raise the limit \
                         before running, e.g. `ulimit -n 65536` (up to the hard limit, \
                         `ulimit -Hn`); tavern-load cannot raise it itself"
                    );
                }
            }
            // EADDRNOTAVAIL: out of ephemeral ports.
            Some(99) => {
                self.errors.fetch_add(1, Relaxed);
                self.show_failure(index, &format!("connect: {error} (out of local ports?)"));
            }
            _ => self.show_failure(index, &format!("connect: {error}")),
        }
    }
}

/// What one connection hands back at the end.
pub struct ConnResult {
    pub index: usize,
    pub signed_on: bool,
    /// Still connected when the run stopped.
    pub open_at_end: bool,
    pub seen: u64,
    pub duplicates: u64,
    pub foreign: u64,
    pub hist: Option<Hist>,
    pub max_latency_us: u64,
    pub last_rx_us: u64,
}

/// Duplicate detection per (receiver, sender): the highest seq seen + 1 and
/// a bit for each of the 32 seqs below it. Servers deliver one sender's
/// lines in order, so the window only has to absorb small reorderings; a
/// seq more than 32 below the highest counts as a duplicate.
#[derive(Clone, Copy, Default)]
struct Track {
    high: u32,
    mask: u32,
}

impl Track {
    /// True when `seq` is new.
    fn record(&mut self, seq: u32) -> bool {
        if seq >= self.high {
            let shift = seq - self.high + 1;
            self.mask = if shift >= 32 { 0 } else { self.mask << shift };
            self.mask |= 1;
            self.high = seq + 1;
            return true;
        }
        let back = self.high - 1 - seq;
        if back >= 32 || self.mask & (1 << back) != 0 {
            return false;
        }
        self.mask |= 1 << back;
        true
    }
}

/// The receiving side of a connection: the scanner's sink.
struct Rx {
    /// Sign-on: keep the visible text (ANSI escapes and CR removed).
    collect: bool,
    text: Vec<u8>,
    escape: u8,
    /// Bytes to send back (negotiation answers, PONG).
    out: Vec<u8>,
    now_us: u64,
    senders: u64,
    tracks: Vec<Track>,
    seen: u64,
    fresh: u64,
    duplicates: u64,
    foreign: u64,
    hist: Option<Hist>,
    max_latency_us: u64,
    last_rx_us: u64,
}

impl Rx {
    fn new(senders: usize) -> Rx {
        Rx {
            collect: true,
            text: Vec::new(),
            escape: 0,
            out: Vec::new(),
            now_us: 0,
            senders: senders as u64,
            tracks: Vec::new(),
            seen: 0,
            fresh: 0,
            duplicates: 0,
            foreign: 0,
            hist: None,
            max_latency_us: 0,
            last_rx_us: 0,
        }
    }

    fn find(&self, needle: &[u8]) -> Option<usize> {
        self.text.windows(needle.len()).position(|w| w == needle)
    }

    /// Forgets the sign-on text already looked at, but for a tail that may
    /// hold the start of a needle.
    fn keep_tail(&mut self) {
        if self.text.len() > TEXT_TAIL {
            self.text.drain(..self.text.len() - TEXT_TAIL);
        }
    }
}

impl Sink for Rx {
    fn collecting(&self) -> bool {
        self.collect
    }

    fn data(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            match self.escape {
                0 => match byte {
                    0x1b => self.escape = 1,
                    b'\r' | 0 => {}
                    _ => self.text.push(byte),
                },
                1 => self.escape = if byte == b'[' { 2 } else { 0 },
                _ => {
                    if (0x40..=0x7e).contains(&byte) {
                        self.escape = 0;
                    }
                }
            }
        }
        if self.text.len() > TEXT_MAX {
            self.text.drain(..self.text.len() - TEXT_TAIL);
        }
    }

    #[inline]
    fn token(&mut self, sender: u64, seq: u64, sent_us: u64) {
        if sender >= self.senders || seq >= u64::from(u32::MAX) {
            self.foreign += 1;
            return;
        }
        if self.tracks.is_empty() {
            self.tracks = vec![Track::default(); self.senders as usize];
        }
        if !self.tracks[sender as usize].record(seq as u32) {
            self.duplicates += 1;
            return;
        }
        self.seen += 1;
        self.fresh += 1;
        let latency = self.now_us.saturating_sub(sent_us);
        self.hist.get_or_insert_with(Hist::new).record(latency);
        self.max_latency_us = self.max_latency_us.max(latency);
        self.last_rx_us = self.now_us;
    }

    fn reply(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }
}

/// Waits for data, reads it into the worker thread's buffer and scans it
/// there, within one poll (the buffer is never held across an await). It
/// goes through `AsyncRead::poll_read`, which takes a short read as proof
/// that the socket is drained (epoll is edge-triggered), where `readable` +
/// `try_read` would spend a second `read` on each wake-up just to hear
/// EWOULDBLOCK. The receive time is taken right after the read.
async fn read_scan(
    shared: &Shared,
    read: &mut OwnedReadHalf,
    scanner: &mut Scanner,
    rx: &mut Rx,
) -> std::io::Result<usize> {
    std::future::poll_fn(|cx| {
        READ_BUFFER.with_borrow_mut(|buf| {
            let mut filled = ReadBuf::new(buf);
            match Pin::new(&mut *read).poll_read(cx, &mut filled) {
                Poll::Ready(Ok(())) => {
                    let data = filled.filled();
                    rx.now_us = shared.micros();
                    scanner.feed(data, rx);
                    Poll::Ready(Ok(data.len()))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
    })
    .await
}

/// One client, from connect to the end of the run.
pub async fn client(shared: Arc<Shared>, index: usize) -> ConnResult {
    let mut result = ConnResult {
        index,
        signed_on: false,
        open_at_end: false,
        seen: 0,
        duplicates: 0,
        foreign: 0,
        hist: None,
        max_latency_us: 0,
        last_rx_us: 0,
    };
    let opts = &shared.opts;
    let stop = shared.stop.child_token();
    let connect_deadline = (Instant::now() + opts.connect_timeout).min(shared.signon_deadline);
    let connected = tokio::select! {
        biased;
        _ = stop.cancelled() => None,
        r = timeout_at(connect_deadline, TcpStream::connect(opts.addr)) => Some(r),
    };
    let stream = match connected {
        Some(Ok(Ok(stream))) => stream,
        other => {
            match other {
                Some(Ok(Err(e))) => shared.connect_error(index, &e),
                Some(Err(_)) => shared.show_failure(index, "connect timed out"),
                _ => {}
            }
            shared.connect_failed.fetch_add(1, Relaxed);
            shared.status[index].store(FAILED, SeqCst);
            shared.resolve();
            return result;
        }
    };
    shared.connected.fetch_add(1, Relaxed);
    let _ = stream.set_nodelay(true);
    let (mut read, mut write) = stream.into_split();
    let mut scanner = Scanner::new(opts.protocol);
    let mut rx = Rx::new(opts.senders);
    let deadline = (Instant::now() + opts.signon_timeout).min(shared.signon_deadline);
    let signed = sign_on(
        &shared,
        &stop,
        index,
        &mut read,
        &mut write,
        &mut scanner,
        &mut rx,
        deadline,
    )
    .await;
    let signed = signed.and_then(|()| {
        // Lose the race against the start of the send phase: too late.
        shared.status[index]
            .compare_exchange(PENDING, SIGNED_ON, SeqCst, SeqCst)
            .map(|_| ())
            .map_err(|_| "signed on after the send phase began".to_owned())
    });
    if let Err(why) = signed {
        shared.show_failure(index, &why);
        shared.signon_failed.fetch_add(1, Relaxed);
        shared.status[index].store(FAILED, SeqCst);
        shared.resolve();
        return result;
    }
    result.signed_on = true;
    shared.signed_on.fetch_add(1, Relaxed);
    shared.live.fetch_add(1, SeqCst);
    shared.last_signon_us.fetch_max(shared.micros(), Relaxed);
    shared.resolve();
    rx.collect = false;
    rx.text = Vec::new();

    // The first `senders` clients send, from a task of their own so that
    // reading never waits for writing (a server that stops reading while its
    // writes to us block would otherwise deadlock with us).
    let mut replies = None;
    let mut inline_write = None;
    if opts.mode == Mode::Chat && index < opts.senders {
        let (tx, ctrl) = mpsc::channel(64);
        replies = Some(tx);
        tokio::spawn(sender(
            shared.clone(),
            stop.child_token(),
            index,
            write,
            ctrl,
        ));
    } else {
        inline_write = Some(write);
    }

    let open = read_loop(
        &shared,
        &stop,
        index,
        &mut read,
        &mut scanner,
        &mut rx,
        replies,
        inline_write,
    )
    .await;
    if !open {
        shared.disconnected.fetch_add(1, Relaxed);
        shared.live.fetch_sub(1, SeqCst);
        shared.status[index].store(GONE, SeqCst);
    }
    result.open_at_end = open;
    result.seen = rx.seen;
    result.duplicates = rx.duplicates;
    result.foreign = rx.foreign;
    result.hist = rx.hist;
    result.max_latency_us = rx.max_latency_us;
    result.last_rx_us = rx.last_rx_us;
    result
}

/// Reads until the run stops (true) or the connection is lost (false).
#[allow(clippy::too_many_arguments)]
async fn read_loop(
    shared: &Shared,
    stop: &CancellationToken,
    index: usize,
    read: &mut OwnedReadHalf,
    scanner: &mut Scanner,
    rx: &mut Rx,
    replies: Option<mpsc::Sender<Vec<u8>>>,
    mut inline_write: Option<OwnedWriteHalf>,
) -> bool {
    loop {
        if shared.stopping() {
            return true;
        }
        // Reading first: while data keeps coming the stop token is not
        // even polled (the flag above ends the loop then).
        let got = tokio::select! {
            biased;
            r = read_scan(shared, read, scanner, rx) => r,
            _ = stop.cancelled() => return true,
        };
        match got {
            Ok(0) => {
                shared.show_failure(index, "connection closed by the server");
                return false;
            }
            Ok(_) => {}
            Err(e) => {
                shared.show_failure(index, &format!("read: {e}"));
                if e.kind() != ErrorKind::ConnectionReset {
                    shared.errors.fetch_add(1, Relaxed);
                }
                return false;
            }
        }
        if rx.fresh > 0 {
            shared.progress[index].store(rx.seen, Release);
            rx.fresh = 0;
        }
        if !rx.out.is_empty() {
            let out = std::mem::take(&mut rx.out);
            if let Some(write) = &mut inline_write {
                let written = tokio::select! {
                    biased;
                    r = write.write_all(&out) => r,
                    _ = stop.cancelled() => return true,
                };
                if written.is_err() {
                    return false;
                }
            } else if let Some(replies) = &replies {
                // The writer is gone only when the connection is.
                let _ = replies.try_send(out);
            }
        }
    }
}

/// Connect-time handshake for each protocol; an error says why it failed.
#[allow(clippy::too_many_arguments)]
async fn sign_on(
    shared: &Shared,
    stop: &CancellationToken,
    index: usize,
    read: &mut OwnedReadHalf,
    write: &mut OwnedWriteHalf,
    scanner: &mut Scanner,
    rx: &mut Rx,
    deadline: Instant,
) -> Result<(), String> {
    let opts = &shared.opts;
    let nick = format!("{}{}", opts.nick_prefix, index);
    if opts.protocol == Protocol::Irc {
        rx.out = format!("NICK {nick}\r\nUSER {nick} 0 * :load\r\n").into_bytes();
    }
    let mut step = 0u8;
    loop {
        let done = match opts.protocol {
            Protocol::Telnet => telnet_step(rx, &mut step, &nick)?,
            Protocol::Irc => irc_step(rx, &mut step, &nick, &opts.channel)?,
            Protocol::Raw => match &opts.ready_marker {
                None => true,
                Some(marker) => {
                    let found = rx.find(marker.as_bytes()).is_some();
                    if rx.text.len() > marker.len() + TEXT_TAIL {
                        rx.text.drain(..rx.text.len() - marker.len());
                    }
                    found
                }
            },
        };
        if !rx.out.is_empty() {
            let out = std::mem::take(&mut rx.out);
            tokio::select! {
                biased;
                _ = stop.cancelled() => return Err("stopped".into()),
                _ = sleep_until(deadline) => return Err("sign-on timed out (writing)".into()),
                r = write.write_all(&out) => r.map_err(|e| format!("write during sign-on: {e}"))?,
            }
        }
        if done {
            return Ok(());
        }
        let got = tokio::select! {
            biased;
            _ = stop.cancelled() => return Err("stopped".into()),
            _ = sleep_until(deadline) => {
                let tail = String::from_utf8_lossy(&rx.text[rx.text.len().saturating_sub(80)..]).into_owned();
                return Err(format!("sign-on timed out at step {step}; last text {tail:?}"));
            }
            r = read_scan(shared, read, scanner, rx) => r,
        };
        match got {
            Ok(0) => {
                let tail = String::from_utf8_lossy(&rx.text[rx.text.len().saturating_sub(200)..])
                    .into_owned();
                return Err(format!(
                    "closed during sign-on at step {step}; last text {tail:?}"
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(format!("read during sign-on: {e}")),
        }
    }
}

/// tavern: the nick prompt, then the welcome.
fn telnet_step(rx: &mut Rx, step: &mut u8, nick: &str) -> Result<bool, String> {
    if *step == 0
        && let Some(at) = rx.find(b"Nickname:")
    {
        rx.text.drain(..at + b"Nickname:".len());
        rx.out.extend_from_slice(nick.as_bytes());
        rx.out.extend_from_slice(b"\r\n");
        *step = 1;
    }
    if *step == 1 {
        if rx.find(b"Welcome,").is_some() {
            return Ok(true);
        }
        if let Some(at) = rx.find(b"Sorry,") {
            let why = String::from_utf8_lossy(&rx.text[at..]).into_owned();
            return Err(format!("nick {nick} refused: {why:?}"));
        }
        if rx.find(b"Goodbye").is_some() {
            return Err("the server said goodbye during sign-on".into());
        }
    }
    rx.keep_tail();
    Ok(false)
}

/// IRC: 001, then JOIN, then our JOIN echo or 366 (end of NAMES).
fn irc_step(rx: &mut Rx, step: &mut u8, nick: &str, channel: &str) -> Result<bool, String> {
    while let Some(end) = rx.text.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = rx.text.drain(..=end).collect();
        let line = String::from_utf8_lossy(&line);
        let mut words = line.split_ascii_whitespace();
        let mut first = words.next().unwrap_or("");
        let mut prefix = "";
        if let Some(p) = first.strip_prefix(':') {
            prefix = p;
            first = words.next().unwrap_or("");
        }
        match first {
            "001" if *step == 0 => {
                rx.out
                    .extend_from_slice(format!("JOIN {channel}\r\n").as_bytes());
                *step = 1;
            }
            "366" if *step == 1 => return Ok(true),
            "JOIN" if *step == 1 => {
                let who = prefix.split('!').next().unwrap_or("");
                if who.eq_ignore_ascii_case(nick) {
                    return Ok(true);
                }
            }
            "ERROR" | "432" | "433" | "436" | "437" | "465" | "403" | "405" | "471" | "473"
            | "474" | "475" => {
                return Err(format!("IRC sign-on refused: {}", line.trim_end()));
            }
            _ => {}
        }
    }
    Ok(false)
}

/// Moves the window's lower edge during the send phase: the fewest lines
/// any member still connected has accounted for. One pass over a counter
/// per client every millisecond (19,000 clients: about 20 µs); senders
/// waiting on the window are woken when it moves.
pub async fn pacer(shared: Arc<Shared>) {
    let opts = &shared.opts;
    let own_lines_count = !opts.protocol.echoes_sender();
    let mut last = 0;
    loop {
        tokio::select! {
            biased;
            _ = shared.stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(1)) => {}
        }
        let total = shared.lines_total.load(Acquire);
        let mut floor = u64::MAX;
        for (i, status) in shared.status.iter().enumerate() {
            if status.load(Relaxed) != SIGNED_ON {
                continue;
            }
            let mut accounted = shared.progress[i].load(Acquire);
            if own_lines_count && i < opts.senders {
                accounted += shared.sent[i].load(Acquire);
            }
            floor = floor.min(accounted);
        }
        // Nobody left to wait for: no limit.
        let floor = if floor == u64::MAX { total } else { floor };
        if floor > last {
            last = floor;
            shared.floor.store(floor, Release);
            for wake in &shared.wake {
                wake.notify_one();
            }
        }
    }
}

/// Counts the sender done when its send phase ends, however it ends.
struct DoneGuard<'a>(&'a Shared);

impl Drop for DoneGuard<'_> {
    fn drop(&mut self) {
        self.0.senders_done.fetch_add(1, SeqCst);
    }
}

/// The writing half of a sending client: waits for the send phase, sends,
/// then only forwards the reader's replies until the run stops.
async fn sender(
    shared: Arc<Shared>,
    stop: CancellationToken,
    index: usize,
    mut write: OwnedWriteHalf,
    mut replies: mpsc::Receiver<Vec<u8>>,
) {
    let done = DoneGuard(&shared);
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            _ = shared.go.cancelled() => break,
            reply = replies.recv() => match reply {
                Some(bytes) => if write.write_all(&bytes).await.is_err() { return },
                None => return,
            },
        }
    }
    let open = send_phase(&shared, &stop, index, &mut write, &mut replies).await;
    drop(done);
    if !open {
        return;
    }
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            reply = replies.recv() => match reply {
                Some(bytes) => if write.write_all(&bytes).await.is_err() { return },
                None => return,
            },
        }
    }
}

/// Takes up to `n` lines from the window (all of them when there is none):
/// the senders together never have more than `window` lines out that some
/// member still connected has not yet received.
fn reserve(shared: &Shared, n: u64, window: u64) -> u64 {
    if window == 0 {
        shared.lines_total.fetch_add(n, Relaxed);
        return n;
    }
    let mut total = shared.lines_total.load(Acquire);
    loop {
        let floor = shared.floor.load(Acquire);
        let take = n.min((floor + window).saturating_sub(total));
        if take == 0 {
            return 0;
        }
        match shared
            .lines_total
            .compare_exchange_weak(total, total + take, AcqRel, Acquire)
        {
            Ok(_) => return take,
            Err(now) => total = now,
        }
    }
}

/// Appends one line: the token, padding, the protocol's framing.
///
/// Telnet lines start `~~BS`: tavern applies BS/DEL to every line it takes
/// (client editing too), so the room gets `~T…~`, but should a server echo
/// what we type (server-side editing), the echo reads `~~`, an erase, then
/// `T…~`, which holds no token: an echo is never counted as a delivery.
fn push_line(buf: &mut Vec<u8>, opts: &Opts, sender: usize, seq: u64, sent_us: u64) {
    match opts.protocol {
        Protocol::Irc => {
            buf.extend_from_slice(b"PRIVMSG ");
            buf.extend_from_slice(opts.channel.as_bytes());
            buf.extend_from_slice(b" :");
        }
        Protocol::Telnet => buf.extend_from_slice(b"~\x08"),
        Protocol::Raw => {}
    }
    let payload_start = buf.len();
    let _ = write!(buf, "~T{sender}.{seq}.{sent_us}~");
    let len = buf.len() - payload_start;
    if opts.line_length > len {
        buf.push(b' ');
        buf.resize(buf.len() + opts.line_length - len - 1, b'x');
    }
    match opts.protocol {
        Protocol::Raw => buf.push(b'\n'),
        _ => buf.extend_from_slice(b"\r\n"),
    }
}

/// Sends lines until the send phase ends: at the sender's share of the rate
/// (0: as fast as the window allows), batching what is due into one write.
/// False when the connection failed.
async fn send_phase(
    shared: &Shared,
    stop: &CancellationToken,
    index: usize,
    write: &mut OwnedWriteHalf,
    replies: &mut mpsc::Receiver<Vec<u8>>,
) -> bool {
    let opts = &shared.opts;
    let send_start = shared.at_micros(shared.send_start_us.load(SeqCst));
    let send_end = shared.at_micros(shared.send_end_us.load(SeqCst));
    let senders = opts.senders as f64;
    let rate = opts.rate / senders;
    // Spread the senders' lines evenly over each period.
    let phase = index as f64 / senders;
    let window = opts.window;
    // Each sender takes at most its share of the window at a time, so that
    // all of them get turns.
    let share = if window > 0 {
        window.div_ceil(opts.senders as u64).max(1)
    } else {
        MAX_BATCH
    };
    let others_only = u64::from(!opts.protocol.echoes_sender());
    let mut seq: u64 = 0;
    let mut buf = Vec::with_capacity(4096);
    tokio::select! {
        biased;
        _ = stop.cancelled() => return true,
        _ = sleep_until(send_start) => {}
    }
    loop {
        let now = Instant::now();
        if shared.stopping() {
            return true;
        }
        // Past the end only lines due before it are still sent (the timer
        // may wake a little late for the last one).
        let ended = now >= send_end;
        let mut n = MAX_BATCH;
        let mut wake = send_end;
        if rate > 0.0 {
            // Line k is due at (k + phase) / rate after the start.
            let at = now.min(send_end - Duration::from_micros(1));
            let due = ((at - send_start).as_secs_f64() * rate - phase + 1.0).max(0.0) as u64;
            if due <= seq {
                n = 0;
                wake = send_start + Duration::from_secs_f64((seq as f64 + phase) / rate);
            } else {
                n = n.min(due - seq);
            }
        } else if ended {
            return true;
        }
        if n > 0 {
            n = reserve(shared, n.min(share), window);
        }
        if n == 0 {
            if ended {
                return true;
            }
            tokio::select! {
                biased;
                _ = stop.cancelled() => return true,
                reply = replies.recv() => match reply {
                    Some(bytes) => if write.write_all(&bytes).await.is_err() { return false },
                    None => return false,
                },
                _ = shared.wake[index].notified(), if window > 0 => {}
                _ = sleep_until(wake.min(send_end).min(now + WINDOW_POLL)) => {}
            }
            continue;
        }
        buf.clear();
        let sent_us = shared.micros();
        for k in 0..n {
            push_line(&mut buf, opts, index, seq + k, sent_us);
        }
        let members = shared.live.load(Relaxed).saturating_sub(others_only);
        shared.expected_total.fetch_add(n * members, Relaxed);
        seq += n;
        // Counted as sent before the write: a write cut off by the end of
        // the drain counts its lines as sent (and lost).
        shared.sent[index].store(seq, Relaxed);
        let written = tokio::select! {
            biased;
            r = write.write_all(&buf) => r,
            _ = stop.cancelled() => return true,
        };
        if written.is_err() {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Track;

    #[test]
    fn track_counts_each_seq_once() {
        let mut t = Track::default();
        assert!(t.record(0));
        assert!(!t.record(0));
        assert!(t.record(2));
        assert!(t.record(1));
        assert!(!t.record(1));
        assert!(!t.record(2));
        assert!(t.record(100));
        assert!(!t.record(60)); // too far back: counted as a duplicate
        assert!(t.record(90));
        assert!(!t.record(90));
    }
}
