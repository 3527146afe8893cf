//! One task per connection: the driver. It owns the socket, the telnet
//! state (inside the codec), the [`Editor`] and the [`Negotiation`], and runs
//! one `select!` loop over the socket's input, the member's queue of messages
//! from the room manager, the pending write, a deadline and shutdown, until
//! the connection ends; then it says goodbye.
//!
//! Its other jobs live beside it, each in its own file, as methods on the
//! one [`Session`] (they share its state, which every idle connection
//! holds, so it stays one struct):
//! - [`negotiation`]: the options' content and the line-editing decision,
//!   sans-IO (events in, [`Effects`] out);
//! - [`writer`]: pending bytes, MCCP2, the segments the socket has yet to
//!   take, and the write budget; it never blocks the loop: a client that
//!   stops reading fills the room manager's queue for it, and the manager
//!   cancels `kill`;
//! - [`signon`]: the banner, the nick prompt, lines typed early, MSSP;
//! - [`commands`]: what a signed-on user typed, and the commands the
//!   session answers itself;
//! - [`delivery`]: the room manager's messages in this client's form
//!   (class, GMCP, width, charset), around what is being typed.
//!
//! Negotiation at connect (the table in ARCHITECTURE.md): tavern asks for
//! TTYPE (cycled for MTTS) and NAWS, offers EOR, CHARSET, MSSP, GMCP and
//! MCCP2, and waits up to `negotiation_wait` for TTYPE and CHARSET to settle
//! before the banner, which depends on them (screen reader, charset, colors).

mod commands;
mod delivery;
mod negotiation;
mod signon;
mod writer;

use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::config::Config;
use crate::editor::{Editor, Line, Mode};
use crate::limits::{FloodControl, Offered, Permit};
use crate::logsummary::LogSummary;
use crate::mailbox::Mailbox;
use crate::render::Tone;
use crate::rooms::{LeaveReason, MemberId, Request, RoomsHandle};
use crate::sanitize::Limits;
use crate::telnet::codec::{TelnetCodec, TelnetInput};
use crate::telnet::{Command as TelnetCommand, Event, Telnet};
use negotiation::{Effects, Negotiation, NegotiationFlood};
use writer::Writer;

/// What every session shares.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) config: Config,
    pub(crate) rooms: RoomsHandle,
    /// Unix time the server started, for MSSP `UPTIME`.
    pub(crate) started: u64,
}

/// Lines typed before the banner was shown, kept for sign-on (a raw client can
/// send its nick and first lines before negotiation ends).
const MAX_EARLY_LINES: usize = 16;

/// Input events of one read handled per unit of tokio's cooperative budget
/// (128 units a poll, spent by socket reads too): a session yields its
/// worker after at most 16 × 128 events of one client's input, each O(1)
/// (the editor's work per byte is bounded). A unit per event made the
/// senders of a busy room yield between the lines of one read, which split
/// the room manager's batches: 15% less peak fan-out and 15% more CPU per
/// delivery at 1,000 clients (bench, issue 14 note); a read of a few lines
/// now spends none.
const EVENTS_PER_BUDGET_UNIT: u8 = 16;

/// How long a goodbye may take to write at shutdown or /quit.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);

/// Input read and thrown away after a goodbye, at most, while waiting for the
/// client to close (see `finish`).
const LINGER_BYTES: usize = 1024 * 1024;

/// How long a client may send nothing before that wait ends.
const LINGER_QUIET: Duration = Duration::from_millis(50);

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the client's telnet answers, to pick the line editing mode.
    Negotiating,
    SigningOn,
    Chatting(MemberId),
}

/// Why the session ends.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Quit(Option<String>),
    ConnectionLost,
    NotReading,
    Shutdown,
    SignOnTimeout,
    /// Silent past the idle timeout.
    Idle,
    /// More telnet negotiations than any real client sends.
    NegotiationFlood,
}

/// As an admin reads it in the log: `quit: see you`, `sign-on timeout`.
impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Quit(None) => f.write_str("quit"),
            End::Quit(Some(message)) => write!(f, "quit: {message}"),
            End::ConnectionLost => f.write_str("connection lost"),
            End::NotReading => f.write_str("not reading"),
            End::Shutdown => f.write_str("server shutdown"),
            End::SignOnTimeout => f.write_str("sign-on timeout"),
            End::Idle => f.write_str("idle"),
            End::NegotiationFlood => f.write_str("telnet negotiation flood"),
        }
    }
}

/// What a client can make happen again and again that the log tells of:
/// the first time as it happens, then a count at the end ([`LogSummary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeated {
    FloodDelayed,
    LineCut,
    MsspAnswered,
}

impl std::fmt::Display for Repeated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Repeated::FloodDelayed => "lines delayed by flood control",
            Repeated::LineCut => "lines cut to the length limit",
            Repeated::MsspAnswered => "MSSP requests answered",
        })
    }
}

/// One connection. See the module docs.
struct Session {
    ctx: Arc<Context>,
    phase: Phase,
    input: TelnetInput,
    writer: Writer,
    editor: Editor,
    negotiation: Negotiation,
    /// Messages from the room manager, once signed on.
    lines: Option<Mailbox>,
    /// Cancelled by the room manager when this client stopped reading.
    kill: CancellationToken,
    deadline: Option<Instant>,
    early_lines: Vec<Line>,
    /// The banner and the nick prompt have been shown.
    greeted: bool,
    /// The client asked for MSSP; answered once the loop can await stats.
    mssp_wanted: bool,
    /// What the room manager was last told of the client's wish for GMCP
    /// roster news.
    roster_wish: bool,
    /// The port the client connected to, for MSSP.
    port: u16,
    /// Flood control for typed lines; while its queue is full, input is not
    /// read.
    flood: FloodControl<Line>,
    /// The user asked for `[HH:MM] ` before each line (`/timestamps`).
    timestamps: bool,
    /// Input events of the current read since the last unit of cooperative
    /// budget was spent (see [`EVENTS_PER_BUDGET_UNIT`]).
    events_unspent: u8,
    /// Flood delays, cut lines and MSSP answers: logged the first time,
    /// then counted, and summed up when the connection ends.
    repeated: LogSummary<Repeated>,
    /// This connection's place under the connection limits, freed on drop.
    _permit: Option<Permit>,
}

/// Runs one connection to its end. Never panics on client input; every way
/// out is logged with its reason.
/// The caller's span carries the peer address.
/// `permit` (the connection's place under the limits) is held to the end.
///
/// The session is built before the future, and boxed: a future keeps what
/// it captured and what it moved that into side by side (rust-lang/rust
/// #62958), so building the session inside an `async fn`, or taking it by
/// value, stored it twice: 900 bytes more on every idle connection.
pub(crate) fn run(
    stream: TcpStream,
    ctx: Arc<Context>,
    shutdown: CancellationToken,
    permit: Option<Permit>,
) -> impl Future<Output = ()> + Send + 'static {
    Box::new(Session::new(stream, ctx, &shutdown, permit)).run(shutdown)
}

impl Session {
    fn new(
        stream: TcpStream,
        ctx: Arc<Context>,
        shutdown: &CancellationToken,
        permit: Option<Permit>,
    ) -> Session {
        let config = &ctx.config;
        let telnet = Telnet::new(Negotiation::policy(config), config.max_subnegotiation);
        let limits = Limits {
            max_chars: config.max_line_length,
            max_marks_per_grapheme: config.max_combining_marks,
        };
        let port = stream.local_addr().map(|a| a.port()).unwrap_or(0);
        let (read, write) = stream.into_split();
        let mut editor = Editor::new(Mode::Client, limits);
        editor.set_charset(config.fallback_charset);
        Session {
            phase: Phase::Negotiating,
            input: TelnetInput::new(read, TelnetCodec::new(telnet)),
            writer: Writer::new(write),
            editor,
            negotiation: Negotiation::new(config),
            lines: None,
            // A child of `shutdown`: one signal for both ways of being
            // stopped from outside, so the loop polls one future, not two.
            kill: shutdown.child_token(),
            deadline: Some(Instant::now() + config.negotiation_wait()),
            early_lines: Vec::new(),
            greeted: false,
            mssp_wanted: false,
            roster_wish: false,
            timestamps: false,
            port,
            events_unspent: 0,
            repeated: LogSummary::default(),
            flood: FloodControl::new(
                config.flood_lines_per_sec,
                config.flood_burst,
                Instant::now().into_std(),
            ),
            _permit: permit,
            ctx,
        }
    }

    async fn run(mut self: Box<Self>, shutdown: CancellationToken) {
        info!("connected");
        let end = self.drive(&shutdown).await;
        // The goodbye's state (and its read buffer) lives on the heap only
        // while it runs: every idle connection's task stays small.
        Box::pin(self.finish(end)).await;
    }

    async fn drive(&mut self, shutdown: &CancellationToken) -> End {
        let effects = self.negotiation.start(self.input.decoder_mut().telnet());
        self.apply(effects);
        // Made once: a fresh `cancelled()` each time round the loop would
        // lock the token's mutex to register and again to unregister, for
        // every batch of lines on every connection.
        let stopped = self.kill.clone().cancelled_owned();
        tokio::pin!(stopped);
        loop {
            // A read's events are handled one turn each, and what they
            // make waits in `pending` (within the budget) until the last of
            // them: the line they edited is drawn once, and the socket gets
            // one write, not one per keystroke.
            let batching =
                self.input.has_events() && self.writer.can_take_work() && !self.flood.is_full();
            if !batching {
                self.editor.flush(self.writer.pending());
            }
            self.writer.take_transmit(self.input.decoder_mut().telnet());
            if !batching {
                self.writer.flush_pending();
            }
            let can_take_work = self.writer.can_take_work();
            let delayed = self.flood.due().map(Instant::from_std);
            let timer = match (self.deadline, delayed) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tokio::select! {
                biased;
                _ = &mut stopped => {
                    return if shutdown.is_cancelled() {
                        End::Shutdown
                    } else {
                        End::NotReading
                    };
                }
                written = self.writer.write(), if self.writer.has_output() => {
                    if matches!(written, Ok(0) | Err(_)) {
                        return End::ConnectionLost;
                    }
                }
                line = delivery::recv_line(&mut self.lines), if can_take_work => {
                    match line {
                        Some(line) => self.show_messages(line),
                        // The room manager dropped us: for not reading (kill
                        // is cancelled too) or at shutdown.
                        None => return End::NotReading,
                    }
                }
                event = self.input.next(), if can_take_work && !self.flood.is_full() => {
                    match event {
                        Some(Ok(event)) => {
                            // Boxed: the sign-on and command paths hold
                            // several awaits' state, which would otherwise
                            // sit in every idle connection's task. Typing
                            // and editing, the events there are most of,
                            // need none of it.
                            if let Err(event) = self.on_edit(event)
                                && let Some(end) = Box::pin(self.on_event(event)).await
                            {
                                return end;
                            }
                            if let Some(ask) = self.editor.take_completion() {
                                Box::pin(self.complete(ask)).await;
                            }
                            if self.mssp_wanted {
                                self.mssp_wanted = false;
                                Box::pin(self.send_mssp()).await;
                            }
                            if !self.greeted
                                && let Some(end) = Box::pin(self.greet_once_negotiated()).await
                            {
                                return end;
                            }
                            // One read can hold thousands of events: the
                            // runtime's other tasks get their turn between
                            // them. Every EVENTS_PER_BUDGET_UNIT events of
                            // one read spend one unit of the task's
                            // cooperative budget, which yields once it is
                            // spent (the socket's reads spend it too).
                            if self.input.has_events() {
                                self.events_unspent += 1;
                                if self.events_unspent >= EVENTS_PER_BUDGET_UNIT {
                                    self.events_unspent = 0;
                                    tokio::task::consume_budget().await;
                                }
                            } else {
                                self.events_unspent = 0;
                            }
                        }
                        Some(Err(_)) => return End::ConnectionLost,
                        None => {
                            // The client closed its side. A script that
                            // pipes its lines and hangs up (`printf .. | nc
                            // -N`) sent them during negotiation: handle them
                            // before leaving.
                            if self.phase == Phase::Negotiating {
                                let telnet = self.input.decoder_mut().telnet();
                                let effects = self.negotiation.stop_waiting(telnet);
                                self.apply(effects);
                                self.phase = Phase::SigningOn;
                                if let Some(end) = Box::pin(self.greet_once_negotiated()).await {
                                    return end;
                                }
                            }
                            return End::ConnectionLost;
                        }
                    }
                }
                // One timer for the deadline and a flood-delayed line: each
                // `Sleep` in this loop is in every connection's task.
                _ = sleep_until(timer.unwrap_or_else(Instant::now)), if timer.is_some() => {
                    let now = Instant::now();
                    if let Some(line) = self.flood.take_due(now.into_std())
                        && let Some(end) = Box::pin(self.on_line(line)).await
                    {
                        return end;
                    }
                    if self.deadline.is_some_and(|at| at <= now) {
                        if let Some(end) = self.on_deadline() {
                            return end;
                        }
                        if let Some(end) = Box::pin(self.greet_once_negotiated()).await {
                            return end;
                        }
                    }
                }
            }
        }
    }

    /// Typed text and the telnet editing commands, which need no await;
    /// any other event is given back.
    fn on_edit(&mut self, event: Event) -> Result<(), Event> {
        match event {
            Event::Data(bytes) => {
                if let Some(charset) = self.negotiation.on_data(&bytes) {
                    self.editor.set_charset(charset);
                }
                self.editor.input(&bytes, self.writer.pending());
            }
            // Typing, like DEL and ^U: not in the negotiation budget.
            Event::Command(TelnetCommand::EraseCharacter) => {
                self.editor.erase_char(self.writer.pending());
            }
            Event::Command(TelnetCommand::EraseLine) => {
                self.editor.erase_line(self.writer.pending());
            }
            // ^C as a telnet client sends it with `localchars` on.
            Event::Command(TelnetCommand::InterruptProcess | TelnetCommand::Break) => {
                self.editor.interrupt(self.writer.pending());
            }
            event => return Err(event),
        }
        Ok(())
    }

    async fn on_event(&mut self, event: Event) -> Option<End> {
        let Err(event) = self.on_edit(event) else {
            return None;
        };
        match event {
            Event::EndOfLine => {
                if let Some(charset) = self.negotiation.on_line_end() {
                    self.editor.set_charset(charset);
                }
                let line = self.editor.end_of_line(self.writer.pending());
                return self.on_typed_line(line).await;
            }
            Event::Command(command) => {
                // Every other command counts against the negotiation
                // budget (the editing ones went to `on_edit`).
                let telnet = self.input.decoder_mut().telnet();
                let Ok(effects) = self.negotiation.on_event(telnet, &event, StdInstant::now())
                else {
                    return Some(End::NegotiationFlood);
                };
                match command {
                    TelnetCommand::AreYouThere if effects.are_you_there => {
                        let name = self.ctx.config.server_name.clone();
                        self.notice(Tone::Info, &format!("[{name}: yes, I am here]"));
                    }
                    TelnetCommand::EraseCharacter
                    | TelnetCommand::EraseLine
                    | TelnetCommand::InterruptProcess
                    | TelnetCommand::Break
                    | TelnetCommand::AreYouThere
                    | TelnetCommand::Nop
                    | TelnetCommand::DataMark
                    | TelnetCommand::AbortOutput
                    | TelnetCommand::GoAhead => {}
                }
            }
            // Typed text went to `on_edit`.
            Event::Data(_) => {}
            Event::Option(_)
            | Event::Refused { .. }
            | Event::Subnegotiation { .. }
            | Event::Dropped(_) => {
                let telnet = self.input.decoder_mut().telnet();
                match self.negotiation.on_event(telnet, &event, StdInstant::now()) {
                    Ok(effects) => {
                        self.apply(effects);
                        if effects.gmcp {
                            return self.update_roster_wish().await;
                        }
                    }
                    Err(NegotiationFlood) => return Some(End::NegotiationFlood),
                }
            }
        }
        None
    }

    /// Carries out what negotiation decided.
    fn apply(&mut self, effects: Effects) {
        // The charset first: a change of editing mode decodes what was
        // typed so far in it.
        if let Some(charset) = effects.charset {
            self.editor.set_charset(charset);
        }
        if let Some(mode) = effects.editing {
            self.editor.set_mode(mode, self.writer.pending());
        }
        if let Some(columns) = effects.width {
            self.editor.set_width(columns, self.writer.pending());
        }
        match effects.compression {
            Some(true) => {
                // Negotiation bytes made so far go before the stream starts.
                self.writer.take_transmit(self.input.decoder_mut().telnet());
                self.writer.start_compression();
            }
            Some(false) => self.writer.end_compression(),
            None => {}
        }
        self.mssp_wanted |= effects.mssp;
        if effects.settled && self.phase == Phase::Negotiating {
            self.phase = Phase::SigningOn;
            self.deadline = None;
        }
    }

    /// A line the user finished: through flood control once signed on.
    async fn on_typed_line(&mut self, line: Line) -> Option<End> {
        let line = match self.phase {
            Phase::Chatting(_) => match self.flood.offer(line, Instant::now().into_std()) {
                Offered::Now(line) => line,
                Offered::Delayed { wait, tell } => {
                    if tell {
                        if self.repeated.record(Repeated::FloodDelayed) {
                            info!(
                                wait_ms = wait.as_millis() as u64,
                                "flood control: delaying lines (the first time; later ones are counted)"
                            );
                        }
                        let rate = self.ctx.config.flood_lines_per_sec;
                        self.notice(
                            Tone::Error,
                            &format!("You are sending lines faster than {rate} a second; they are delayed, not lost."),
                        );
                    }
                    return None;
                }
                // Only once the connection is ending (see `hand_over`).
                Offered::Dropped => return None,
            },
            Phase::Negotiating | Phase::SigningOn => line,
        };
        self.on_line(line).await
    }

    async fn on_line(&mut self, line: Line) -> Option<End> {
        match self.phase {
            Phase::Negotiating => {
                if self.early_lines.len() < MAX_EARLY_LINES {
                    self.early_lines.push(line);
                }
                None
            }
            Phase::SigningOn => self.sign_on(line).await,
            Phase::Chatting(id) => self.chat(id, line).await,
        }
    }

    fn on_deadline(&mut self) -> Option<End> {
        match self.phase {
            Phase::Negotiating => {
                // No (complete) answer: a raw TCP client, or a slow one. A
                // client that gave its terminal type was classified on it;
                // one that refused it is, now, on what else it answered.
                let telnet = self.input.decoder_mut().telnet();
                let effects = self.negotiation.stop_waiting(telnet);
                self.apply(effects);
                self.phase = Phase::SigningOn;
                self.deadline = None;
                None
            }
            Phase::SigningOn => Some(End::SignOnTimeout),
            Phase::Chatting(_) => Some(End::Idle),
        }
    }

    /// Tells the room and the client, flushes, and closes.
    async fn finish(mut self: Box<Self>, end: End) {
        self.negotiation.log_summary();
        if !self.repeated.is_empty() {
            info!(counts = %self.repeated, "repeated during the connection");
        }
        info!(reason = %end, "disconnected");
        let reason = match &end {
            End::Quit(message) => Some(LeaveReason::Quit(message.clone())),
            End::ConnectionLost => Some(LeaveReason::ConnectionLost),
            End::NotReading => Some(LeaveReason::NotReading),
            End::Shutdown => Some(LeaveReason::Shutdown),
            End::Idle => Some(LeaveReason::Idle),
            End::NegotiationFlood => Some(LeaveReason::ConnectionLost),
            End::SignOnTimeout => None,
        };
        if let (Phase::Chatting(id), Some(mut reason)) = (self.phase, reason) {
            let keep = matches!(end, End::Quit(_) | End::Shutdown);
            // Lines read and not yet handled were promised ("delayed, not
            // lost"): they go to the room before the leave. Not after /quit
            // (what was typed after it is not sent), nor once the room
            // manager has dropped this member (not reading).
            let mut handed_over = 0;
            if !matches!(end, End::Quit(_) | End::NotReading) {
                let (lines, quit) = self.hand_over().await;
                handed_over = lines;
                if let Some(End::Quit(message)) = quit {
                    reason = LeaveReason::Quit(message);
                }
            }
            if matches!(end, End::ConnectionLost | End::NotReading) && handed_over == 0 {
                // Nobody will read what is still coming: close the queue at
                // once, so the room manager's deliveries fail fast (and the
                // member goes) instead of filling it while this session
                // waits to hand over its Leave.
                self.lines = None;
            }
            if self
                .ctx
                .rooms
                .send(Request::Leave { id, reason })
                .await
                .is_ok()
            {
                self.drain_until_left(keep).await;
            }
        }
        let goodbye = match end {
            End::Quit(_) => Some("Goodbye!".to_owned()),
            End::Shutdown => Some(format!(
                "{} is shutting down. Goodbye!",
                self.ctx.config.server_name
            )),
            End::SignOnTimeout => Some("You took too long to sign on. Goodbye!".to_owned()),
            End::Idle => Some(format!(
                "You were idle for {} seconds. Goodbye!",
                self.ctx.config.idle_timeout_secs
            )),
            End::NegotiationFlood => {
                Some("Too many telnet negotiations from your client. Goodbye!".to_owned())
            }
            End::ConnectionLost | End::NotReading => None,
        };
        let Some(goodbye) = goodbye else {
            return;
        };
        let tone = if end == End::Shutdown {
            Tone::Leave
        } else {
            Tone::Info
        };
        self.notice(tone, &goodbye);
        self.writer.take_transmit(self.input.decoder_mut().telnet());
        self.writer.end_compression();
        let _ = timeout(GOODBYE_TIMEOUT, self.writer.write_all_and_shutdown()).await;
        // Closing a socket with unread input makes the kernel send RST,
        // and the client's kernel then throws away the goodbye before
        // it is read. Read and discard what the client is still sending
        // (bounded in time and bytes) until it closes or goes quiet, so
        // the last line is seen; a quiet client costs one short wait.
        let input = self.input.get_mut();
        let linger = async {
            let mut scratch = vec![0u8; 4096];
            let mut left = LINGER_BYTES;
            while left > 0 {
                match timeout(LINGER_QUIET, input.read(&mut scratch)).await {
                    Ok(Ok(0) | Err(_)) | Err(_) => break,
                    Ok(Ok(n)) => left = left.saturating_sub(n),
                }
            }
        };
        let _ = timeout(GOODBYE_TIMEOUT, linger).await;
    }
}

#[cfg(test)]
mod tests {
    /// Every idle connection holds its session's future; issue 5's budget is
    /// 4 KiB of memory per idle connection in all, so the future itself must
    /// stay well under it (rare paths are boxed for this).
    #[test]
    fn an_idle_session_task_stays_small() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let _client = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let (stream, _) = listener.accept().await.expect("accept");
            let room = crate::names::RoomName::parse("lobby").expect("room");
            let (rooms, _task) = crate::rooms::spawn(room, 100);
            let ctx = std::sync::Arc::new(super::Context {
                config: crate::Config::default(),
                rooms,
                started: 0,
            });
            // What the server spawns, not just `run`: a wrapper can double it.
            let session = crate::server::connection(
                stream,
                ctx,
                tokio_util::sync::CancellationToken::new(),
                None,
            );
            // The future holds the session boxed: both count.
            let future = std::mem::size_of_val(&session);
            let state = std::mem::size_of::<super::Session>();
            assert!(
                future + state <= 1792,
                "a session is {future} bytes of future and {state} of state"
            );
        });
    }
}
