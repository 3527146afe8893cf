//! One task per connection: negotiation, the banner, sign-on, then chat.
//!
//! The session owns its socket, its [`Telnet`] state (inside the codec), its
//! [`Editor`] and what it knows of the client ([`ClientInfo`]); nothing else
//! touches them. It runs one `select!` loop over the socket's input, the
//! member's queue of messages from the room manager, the pending write, a
//! deadline and shutdown. Writes go through one queue ([`Outgoing`]) drained
//! with partial writes, so a client that stops reading never blocks the
//! loop: the room manager's queue for it fills, and the manager cancels
//! `kill`.
//!
//! Output passes three stages, each per connection only where the client's
//! capabilities require it: the room manager's [`Message`] is rendered for
//! the client's class (shared with everyone in that class), wrapped at its
//! window width and re-encoded for Latin-1 if needed, and compressed (MCCP2)
//! if the client agreed. `pending` holds bytes the session makes for this
//! client, as they go on the wire before compression; `outgoing` holds what
//! the socket has yet to take, as segments. A room's lines that need nothing
//! of this client's own go into `outgoing` as the shared bytes themselves,
//! so a recipient under load neither copies nor allocates for them.
//!
//! Negotiation at connect (the table in ARCHITECTURE.md): tavern asks for
//! TTYPE (cycled for MTTS) and NAWS, offers EOR, CHARSET, MSSP, GMCP and
//! MCCP2, and waits up to `negotiation_wait` for TTYPE and CHARSET to settle
//! before the banner, which depends on them (screen reader, charset, colors).

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use nectar::constants::{
    CHARSET, CHARSET_ACCEPTED, CHARSET_REJECTED, CHARSET_REQUEST, ECHO, EOR, GA, IAC, NAWS, SB, SE,
    SGA, TELOPT_EOR,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::banner::{self, BannerVars};
use crate::charset::Charset;
use crate::client::{ClientInfo, MAX_TTYPE_ASKS, TtypeNext};
use crate::command::{Command, Input};
use crate::config::{Config, LineEditing};
use crate::editor::{Editor, Line, Mode};
use crate::gmcp::{self, GMCP, Supports};
use crate::limits::{Permit, TokenBucket};
use crate::mailbox::{Delivery, Mailbox, mailbox};
use crate::mccp::{Compressor, MCCP2};
use crate::mssp::{self, MSSP};
use crate::names::Nick;
use crate::outgoing::Outgoing;
use crate::render::{self, Class, ColorDepth, Message, Tone};
use crate::rooms::{LeaveReason, MemberId, Outbox, Request, RoomsHandle};
use crate::sanitize::{self, Limits};
use crate::telnet::codec::{TelnetCodec, TelnetInput};
use crate::telnet::consts::{TTYPE, TTYPE_IS, TTYPE_SEND};
use crate::telnet::{Change, Command as TelnetCommand, Event, Policy, Side, Telnet};
use crate::wrap;

/// What every session shares.
#[derive(Debug)]
pub struct Context {
    pub config: Config,
    pub rooms: RoomsHandle,
    /// Unix time the server started, for MSSP `UPTIME`.
    pub started: u64,
}

/// Bytes waiting to be written past which the session stops taking more work
/// (input and queued lines) until the client reads; the room manager's queue
/// then fills and it drops the client.
const MAX_PENDING_WRITE: usize = 256 * 1024;

/// Segments waiting to be written past which the session takes no more
/// work either: a client whose GMCP or per-line rendering gives many small
/// segments gets them in a few `writev`s, not in hundreds.
const MAX_SEGMENTS: usize = 256;

/// Lines typed before the banner was shown, kept for sign-on (a raw client can
/// send its nick and first lines before negotiation ends).
const MAX_EARLY_LINES: usize = 16;

/// How long a goodbye may take to write at shutdown or /quit.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);

/// Input read and thrown away after a goodbye, at most, while waiting for the
/// client to close (see `finish`).
const LINGER_BYTES: usize = 1024 * 1024;

/// How long a client may send nothing before that wait ends.
const LINGER_QUIET: Duration = Duration::from_millis(50);

/// The charsets tavern offers in its CHARSET REQUEST, best first.
const CHARSET_OFFER: &[u8] = b";UTF-8;ISO-8859-1";

/// The line a telnet-less MSSP crawler sends instead of `IAC DO MSSP`.
const MSSP_REQUEST: &str = "MSSP-REQUEST";

/// The nick prompt.
const NICK_PROMPT: &str = "Nickname: ";

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

/// One connection. See the module docs.
struct Session {
    ctx: Arc<Context>,
    phase: Phase,
    input: TelnetInput,
    output: OwnedWriteHalf,
    /// Output this session made, in wire form (charset, IAC escapes),
    /// before compression.
    pending: BytesMut,
    /// What the socket has yet to take (compressed, with MCCP2); drained by
    /// partial vectored writes so the loop never blocks.
    outgoing: Outgoing,
    /// MCCP2, once the client agreed.
    compressor: Option<Box<Compressor>>,
    editor: Editor,
    /// Messages from the room manager, once signed on.
    lines: Option<Mailbox>,
    /// Cancelled by the room manager when this client stopped reading.
    kill: CancellationToken,
    deadline: Option<Instant>,
    /// Everything the client told about itself.
    info: ClientInfo,
    /// TTYPE SENDs made so far.
    ttype_asks: usize,
    /// Line editing has been decided (from TTYPE or DO ECHO).
    editing_decided: bool,
    /// The client answered some telnet negotiation: it speaks telnet.
    speaks_telnet: bool,
    early_lines: Vec<Line>,
    /// The banner and the nick prompt have been shown.
    greeted: bool,
    /// GMCP packages the client wants.
    gmcp: Supports,
    /// The client asked for MSSP; answered once the loop can await stats.
    mssp_wanted: bool,
    /// The port the client connected to, for MSSP.
    port: u16,
    /// Flood control for typed lines.
    flood: TokenBucket,
    /// A line over the flood limit, waiting for its turn; input is not read
    /// meanwhile, so nothing more piles up.
    delayed: Option<Box<(Line, Instant)>>,
    /// The user has been told their lines are delayed (once per burst).
    flood_told: bool,
    /// Telnet negotiations received, against `max_negotiations`.
    negotiations: usize,
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
pub fn run(
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
        let policy = Policy {
            echo: config.line_editing != LineEditing::Client,
            compression: config.compression,
        };
        let telnet = Telnet::new(policy, config.max_subnegotiation);
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
            output: write,
            pending: BytesMut::new(),
            outgoing: Outgoing::default(),
            compressor: None,
            editor,
            lines: None,
            // A child of `shutdown`: one signal for both ways of being
            // stopped from outside, so the loop polls one future, not two.
            kill: shutdown.child_token(),
            deadline: Some(Instant::now() + config.negotiation_wait()),
            info: ClientInfo::new(config.fallback_charset),
            ttype_asks: 0,
            editing_decided: false,
            speaks_telnet: false,
            early_lines: Vec::new(),
            greeted: false,
            gmcp: Supports::default(),
            mssp_wanted: false,
            port,
            flood: TokenBucket::new(
                config.flood_lines_per_sec,
                config.flood_burst,
                Instant::now().into_std(),
            ),
            delayed: None,
            flood_told: false,
            negotiations: 0,
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
        self.start_negotiation();
        // Made once: a fresh `cancelled()` each time round the loop would
        // lock the token's mutex to register and again to unregister, for
        // every batch of lines on every connection.
        let stopped = self.kill.clone().cancelled_owned();
        tokio::pin!(stopped);
        loop {
            self.collect_transmit();
            self.flush_pending();
            let can_take_work =
                self.outgoing.len() < MAX_PENDING_WRITE && self.outgoing.segments() < MAX_SEGMENTS;
            let delayed = self.delayed.as_ref().map(|delayed| delayed.1);
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
                written = self.outgoing.write_to(&mut self.output), if !self.outgoing.is_empty() => {
                    if matches!(written, Ok(0) | Err(_)) {
                        return End::ConnectionLost;
                    }
                    if self.outgoing.is_empty() {
                        // Written out: an idle connection keeps no buffer
                        // (the sign-on's banner and join notices would
                        // otherwise leave kilobytes on every connection).
                        self.pending = BytesMut::new();
                    }
                }
                line = recv_line(&mut self.lines), if can_take_work => {
                    match line {
                        Some(line) => self.show_messages(line),
                        // The room manager dropped us: for not reading (kill
                        // is cancelled too) or at shutdown.
                        None => return End::NotReading,
                    }
                }
                event = self.input.next(), if can_take_work && self.delayed.is_none() => {
                    match event {
                        Some(Ok(event)) => {
                            // Boxed: the sign-on and command paths hold
                            // several awaits' state, which would otherwise
                            // sit in every idle connection's task.
                            if let Some(end) = Box::pin(self.on_event(event)).await {
                                return end;
                            }
                            if self.mssp_wanted {
                                self.mssp_wanted = false;
                                Box::pin(self.send_mssp()).await;
                            }
                            if let Some(end) = Box::pin(self.greet_once_negotiated()).await {
                                return end;
                            }
                        }
                        Some(Err(_)) => return End::ConnectionLost,
                        None => {
                            // The client closed its side. A script that
                            // pipes its lines and hangs up (`printf .. | nc
                            // -N`) sent them during negotiation: handle them
                            // before leaving.
                            if self.phase == Phase::Negotiating {
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
                    if self.delayed.as_ref().is_some_and(|delayed| delayed.1 <= now)
                        && let Some(delayed) = self.delayed.take()
                        && let Some(end) = Box::pin(self.on_line(delayed.0)).await
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

    fn telnet(&mut self) -> &mut Telnet {
        self.input.decoder_mut().telnet()
    }

    fn start_negotiation(&mut self) {
        let compression = self.ctx.config.compression;
        let telnet = self.telnet();
        telnet.enable(Side::Remote, TTYPE);
        telnet.enable(Side::Remote, NAWS);
        telnet.enable(Side::Local, TELOPT_EOR);
        telnet.enable(Side::Local, CHARSET);
        telnet.enable(Side::Local, MSSP);
        telnet.enable(Side::Local, GMCP);
        if compression {
            telnet.enable(Side::Local, MCCP2);
        }
        if self.ctx.config.line_editing == LineEditing::Server {
            self.editing_decided = true;
            self.use_server_editing();
        }
    }

    /// Moves negotiation bytes from the telnet state to the write buffer.
    fn collect_transmit(&mut self) {
        while let Some(bytes) = self.input.decoder_mut().telnet().poll_transmit() {
            self.pending.extend_from_slice(&bytes);
        }
    }

    /// Moves `pending` to `outgoing`, through the compressor when MCCP2 is on.
    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        match &mut self.compressor {
            Some(compressor) => {
                let mut compressed = BytesMut::new();
                compressor.compress(&self.pending, &mut compressed);
                self.pending.clear();
                self.outgoing.push(compressed.freeze());
            }
            // Copied out at their size, and `pending` kept for the rest of
            // the burst: handing the buffer itself over would cost a new
            // one each time, and a shared-ownership header besides.
            None => {
                self.outgoing.push(Bytes::copy_from_slice(&self.pending));
                self.pending.clear();
            }
        }
    }

    /// Queues bytes shared with other recipients: as they are, unless they
    /// must pass through this client's compressor.
    fn put_shared(&mut self, bytes: &Bytes) {
        if self.compressor.is_some() {
            self.pending.put_slice(bytes);
            return;
        }
        // What this session wrote before them goes first.
        self.flush_pending();
        self.outgoing.push(bytes.clone());
    }

    fn use_server_editing(&mut self) {
        let telnet = self.telnet();
        telnet.enable(Side::Local, ECHO);
        telnet.enable(Side::Local, SGA);
        self.editor.set_mode(Mode::Server, &mut self.pending);
    }

    async fn on_event(&mut self, event: Event) -> Option<End> {
        if matches!(
            event,
            Event::Option(_) | Event::Refused { .. } | Event::Subnegotiation { .. }
        ) {
            self.negotiations += 1;
            if self.negotiations > self.ctx.config.max_negotiations {
                warn!(
                    max = self.ctx.config.max_negotiations,
                    "too many telnet negotiations, closing"
                );
                return Some(End::NegotiationFlood);
            }
        }
        match event {
            Event::Data(bytes) => {
                if self.info.input_evidence(&bytes) {
                    debug!(charset = %self.info.charset, "charset from the client's bytes");
                    self.editor.set_charset(self.info.charset);
                }
                self.editor.input(&bytes, &mut self.pending);
            }
            Event::EndOfLine => {
                if self.info.line_ended() {
                    debug!(charset = %self.info.charset, "charset from the client's bytes");
                    self.editor.set_charset(self.info.charset);
                }
                let line = self.editor.end_of_line(&mut self.pending);
                if let Phase::Chatting(_) = self.phase {
                    let now = Instant::now();
                    match self.flood.take(now.into_std()) {
                        None => self.flood_told = false,
                        Some(wait) => {
                            if !std::mem::replace(&mut self.flood_told, true) {
                                info!(
                                    wait_ms = wait.as_millis() as u64,
                                    "flood control: delaying lines"
                                );
                                let rate = self.ctx.config.flood_lines_per_sec;
                                self.notice(
                                    Tone::Error,
                                    &format!("You are sending lines faster than {rate} a second; they are delayed, not lost."),
                                );
                            }
                            self.delayed = Some(Box::new((line, now + wait)));
                            return None;
                        }
                    }
                }
                return self.on_line(line).await;
            }
            Event::Command(command) => match command {
                TelnetCommand::EraseCharacter => self.editor.erase_char(&mut self.pending),
                TelnetCommand::EraseLine
                | TelnetCommand::InterruptProcess
                | TelnetCommand::Break => self.editor.erase_line(&mut self.pending),
                TelnetCommand::AreYouThere => {
                    let name = self.ctx.config.server_name.clone();
                    self.notice(Tone::Info, &format!("[{name}: yes, I am here]"));
                }
                TelnetCommand::Nop
                | TelnetCommand::DataMark
                | TelnetCommand::AbortOutput
                | TelnetCommand::GoAhead => {}
            },
            Event::Subnegotiation { option, data } => self.on_subnegotiation(option, &data),
            Event::Option(change) => self.on_option(change),
            Event::Refused { side, option } => {
                self.speaks_telnet = true;
                debug!(?side, option, "refused option");
            }
            Event::Dropped(dropped) => warn!(?dropped, "dropped telnet input"),
        }
        self.settle_negotiation();
        None
    }

    fn on_subnegotiation(&mut self, option: u8, data: &[u8]) {
        match option {
            TTYPE => {
                if let Some((&TTYPE_IS, name)) = data.split_first() {
                    let name = sanitize::sanitize(&sanitize::decode(name), &Limits::default()).text;
                    debug!(terminal = %name, "terminal type");
                    let next = self.info.ttype_answer(name);
                    if next == TtypeNext::AskAgain && self.ttype_asks < MAX_TTYPE_ASKS {
                        self.ttype_asks += 1;
                        self.telnet().send_subnegotiation(TTYPE, &[TTYPE_SEND]);
                    }
                    self.decide_editing();
                }
            }
            NAWS => {
                if let [w1, w2, h1, h2] = data {
                    let columns = u16::from_be_bytes([*w1, *w2]);
                    let rows = u16::from_be_bytes([*h1, *h2]);
                    debug!(columns, rows, "window size");
                    self.info.window = (columns, rows);
                    self.editor.set_width(columns);
                }
            }
            CHARSET => self.on_charset(data),
            GMCP => {
                let message = gmcp::parse(data);
                match &message {
                    gmcp::Incoming::Hello { client, version } => {
                        let clean = |s: &str| sanitize::sanitize(s, &Limits::default()).text;
                        debug!(client = %client, "GMCP Core.Hello");
                        self.info.gmcp_hello = Some((clean(client), version.as_deref().map(clean)));
                    }
                    gmcp::Incoming::Malformed => debug!("malformed GMCP message ignored"),
                    _ => {}
                }
                self.gmcp.apply(&message);
            }
            _ => debug!(option, "ignored subnegotiation"),
        }
    }

    /// RFC 2066: the client's answer to tavern's REQUEST, or its own REQUEST.
    fn on_charset(&mut self, data: &[u8]) {
        let Some((&verb, rest)) = data.split_first() else {
            return;
        };
        match verb {
            CHARSET_ACCEPTED => match Charset::from_name(&String::from_utf8_lossy(rest)) {
                Some(charset) => self.set_charset(charset, true),
                None => {
                    // It accepted a charset tavern did not offer.
                    warn!("client accepted a charset that was not offered");
                    self.info.charset_refused();
                    self.editor.set_charset(self.info.charset);
                }
            },
            CHARSET_REJECTED => {
                self.info.charset_refused();
                self.editor.set_charset(self.info.charset);
            }
            CHARSET_REQUEST => {
                // "[TTABLE]" and its version byte may precede the list.
                let list = rest
                    .strip_prefix(b"[TTABLE]".as_slice())
                    .and_then(|r| r.get(1..))
                    .unwrap_or(rest);
                match choose_charset(list) {
                    Some(name) => {
                        let mut reply = vec![CHARSET_ACCEPTED];
                        reply.extend_from_slice(&name);
                        self.telnet().send_subnegotiation(CHARSET, &reply);
                        if let Some(charset) = Charset::from_name(&String::from_utf8_lossy(&name)) {
                            self.set_charset(charset, true);
                        }
                    }
                    None => {
                        self.telnet()
                            .send_subnegotiation(CHARSET, &[CHARSET_REJECTED]);
                        self.info.charset_refused();
                        self.editor.set_charset(self.info.charset);
                    }
                }
            }
            _ => debug!(verb, "ignored CHARSET subnegotiation"),
        }
    }

    fn set_charset(&mut self, charset: Charset, agreed: bool) {
        if agreed {
            self.info.charset_agreed(charset);
        }
        debug!(%charset, "charset");
        self.editor.set_charset(self.info.charset);
    }

    fn on_option(&mut self, change: Change) {
        self.speaks_telnet = true;
        match (change.side, change.option, change.enabled) {
            (Side::Remote, TTYPE, true) if self.ttype_asks == 0 => {
                self.ttype_asks = 1;
                self.telnet().send_subnegotiation(TTYPE, &[TTYPE_SEND]);
            }
            (Side::Remote, TTYPE, false) => {
                self.info.ttype_refused();
                self.decide_editing();
            }
            // The client asked tavern to echo (PuTTY does at once): it is a
            // terminal that wants server-side editing.
            (Side::Local, ECHO, true) => {
                if self.editor.mode() == Mode::Client {
                    self.use_server_editing();
                }
                self.editing_decided = true;
            }
            // The client will not let tavern echo: it echoes itself.
            (Side::Local, ECHO, false) => self.editor.set_mode(Mode::Client, &mut self.pending),
            (Side::Local, CHARSET, true) => {
                let mut request = vec![CHARSET_REQUEST];
                request.extend_from_slice(CHARSET_OFFER);
                self.telnet().send_subnegotiation(CHARSET, &request);
            }
            (Side::Local, CHARSET, false) | (Side::Remote, CHARSET, false) => {
                let telnet = self.telnet();
                let either = telnet.is_enabled(Side::Local, CHARSET)
                    || telnet.is_enabled(Side::Remote, CHARSET)
                    || telnet.is_pending(Side::Local, CHARSET);
                if !either && !self.info.charset_settled {
                    self.info.charset_refused();
                    self.editor.set_charset(self.info.charset);
                }
            }
            (Side::Local, MSSP, true) => self.mssp_wanted = true,
            (Side::Local, MCCP2, true) => self.start_compression(),
            (Side::Local, MCCP2, false) => self.stop_compression(),
            (Side::Local, GMCP, enabled) => debug!(enabled, "GMCP"),
            _ => {}
        }
    }

    /// Everything written so far goes plain, then `IAC SB MCCP2 IAC SE`, and
    /// everything after it compressed.
    fn start_compression(&mut self) {
        if self.compressor.is_some() {
            return;
        }
        self.collect_transmit();
        self.pending.put_slice(&[IAC, SB, MCCP2, IAC, SE]);
        self.flush_pending();
        self.compressor = Some(Box::new(Compressor::new()));
        debug!("MCCP2 compression on");
    }

    /// The client said DONT MCCP2: end the zlib stream, then go on plain.
    fn stop_compression(&mut self) {
        self.flush_pending();
        if let Some(compressor) = self.compressor.take() {
            let mut end = BytesMut::new();
            compressor.finish(&mut end);
            self.outgoing.push(end.freeze());
            debug!("MCCP2 compression off");
        }
    }

    /// Decides who edits lines once the client's first terminal type is
    /// known (or refused), or it asked tavern to echo.
    fn decide_editing(&mut self) {
        if self.editing_decided {
            return;
        }
        let echo_on = self.telnet().is_enabled(Side::Local, ECHO);
        if self.info.first_ttype().is_none() && !self.info.ttype_settled() && !echo_on {
            return;
        }
        self.editing_decided = true;
        if self.ctx.config.line_editing == LineEditing::Auto
            && !echo_on
            && !self.info.is_mud_client()
        {
            self.use_server_editing();
        }
    }

    /// Moves on to sign-on once TTYPE and CHARSET, which the banner depends
    /// on, have settled.
    fn settle_negotiation(&mut self) {
        if self.phase != Phase::Negotiating {
            return;
        }
        let telnet = self.telnet();
        let ttype_settled = !telnet.is_pending(Side::Remote, TTYPE)
            && !telnet.is_enabled(Side::Remote, TTYPE)
            || self.info.ttype_settled();
        let telnet = self.telnet();
        let charset_open = telnet.is_pending(Side::Local, CHARSET)
            || telnet.is_enabled(Side::Local, CHARSET)
            || telnet.is_pending(Side::Remote, CHARSET);
        let charset_settled = self.info.charset_settled || !charset_open;
        if ttype_settled && charset_settled {
            self.decide_editing();
            self.phase = Phase::SigningOn;
            self.deadline = None;
        }
    }

    fn on_deadline(&mut self) -> Option<End> {
        match self.phase {
            Phase::Negotiating => {
                // No (complete) answer: a raw TCP client, or a slow one. A
                // client that gave its terminal type was classified on it.
                debug!(speaks_telnet = self.speaks_telnet, "negotiation wait over");
                self.phase = Phase::SigningOn;
                self.deadline = None;
                None
            }
            Phase::SigningOn => Some(End::SignOnTimeout),
            Phase::Chatting(_) => Some(End::Idle),
        }
    }

    /// Once negotiation has settled: shows the banner and the nick prompt,
    /// then handles lines typed before.
    async fn greet_once_negotiated(&mut self) -> Option<End> {
        if self.phase != Phase::SigningOn || self.greeted {
            return None;
        }
        self.greeted = true;
        info!(
            mode = ?self.editor.mode(),
            client = ?self.info.name(),
            terminal = ?self.info.terminal(),
            mtts = ?self.info.mtts,
            charset = %self.info.charset,
            width = self.info.window.0,
            "negotiated"
        );
        self.deadline = Some(Instant::now() + self.ctx.config.signon_timeout());
        let stats = self.ctx.rooms.stats().await.unwrap_or_default();
        let template = banner::load(&self.ctx.config.banner);
        let template = banner::select_art(&template, self.info.screen_reader());
        let vars = BannerVars {
            server_name: &self.ctx.config.server_name,
            online: stats.online,
            rooms: stats.rooms,
        };
        let text = banner::render(&template, &vars, self.info.colors() != ColorDepth::None);
        self.show_text(&text);
        self.prompt(NICK_PROMPT);
        for line in std::mem::take(&mut self.early_lines) {
            if let Some(end) = self.on_line(line).await {
                return Some(end);
            }
        }
        None
    }

    /// Shows a prompt, marked as one for clients that want to know (EOR where
    /// agreed, else GA unless the client suppressed it).
    fn prompt(&mut self, text: &str) {
        self.editor.set_prompt(text, &mut self.pending);
        if text.is_empty() {
            return;
        }
        let telnet = self.input.decoder_mut().telnet();
        if telnet.is_enabled(Side::Local, TELOPT_EOR) {
            self.pending.put_slice(&[IAC, EOR]);
        } else if self.speaks_telnet && !telnet.is_enabled(Side::Local, SGA) {
            self.pending.put_slice(&[IAC, GA]);
        }
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

    async fn sign_on(&mut self, line: Line) -> Option<End> {
        let text = line.text.trim();
        // Enter alone is ignored (some clients send an empty line on
        // connect). A name that cleaning left empty (escape codes, bidi
        // controls) goes on to `Nick::parse`, which says a nickname cannot
        // be empty: silence would look like a hang.
        if text.is_empty() && !line.emptied {
            return None;
        }
        if text == MSSP_REQUEST {
            let vars = self.mssp_variables().await;
            self.show_text(&mssp::encode_text(&vars));
            self.reprompt();
            return None;
        }
        if matches!(Input::parse(text), Input::Command(Command::Quit(_))) {
            return Some(End::Quit(None));
        }
        let nick = match Nick::parse(text, self.ctx.config.max_nick_length) {
            Ok(nick) => nick,
            Err(error) => {
                self.notice(Tone::Error, &format!("{error}."));
                self.reprompt();
                return None;
            }
        };
        let (lines, incoming) = mailbox(self.ctx.config.outbound_queue);
        let outbox = Outbox {
            lines,
            kill: self.kill.clone(),
            roster: self.form().roster,
        };
        match self.ctx.rooms.join(nick.clone(), outbox).await {
            Ok(Ok(id)) => {
                tracing::Span::current().record("nick", tracing::field::display(&nick));
                self.phase = Phase::Chatting(id);
                self.deadline = self
                    .ctx
                    .config
                    .idle_timeout()
                    .map(|idle| Instant::now() + idle);
                self.lines = Some(incoming);
                self.editor.set_prompt("", &mut self.pending);
                None
            }
            Ok(Err(taken)) => {
                self.notice(Tone::Error, &format!("Sorry, {taken}."));
                self.reprompt();
                None
            }
            Err(_) => Some(End::Shutdown),
        }
    }

    async fn chat(&mut self, id: MemberId, line: Line) -> Option<End> {
        if let Some(idle) = self.ctx.config.idle_timeout() {
            self.deadline = Some(Instant::now() + idle);
        }
        if line.truncated {
            let max = self.ctx.config.max_line_length;
            info!(max, "line cut to the length limit");
            self.notice(
                Tone::Error,
                &format!("Your line was too long and was cut to {max} characters."),
            );
        }
        let text = line.text.trim();
        if text.is_empty() {
            return None;
        }
        let request = match Input::parse(text) {
            Input::Chat(text) => Request::Say { id, text },
            Input::Command(Command::Quit(message)) => return Some(End::Quit(message)),
            Input::Command(Command::Nick(name)) => {
                self.rename(id, &name).await;
                return None;
            }
            Input::Command(Command::Color(on)) => {
                self.set_colors(on);
                return None;
            }
            Input::Command(Command::Client) => {
                self.describe_client();
                return None;
            }
            Input::Command(command) => Request::Command { id, command },
        };
        match self.ctx.rooms.send(request).await {
            Ok(()) => None,
            Err(_) => Some(End::Shutdown),
        }
    }

    fn set_colors(&mut self, on: bool) {
        self.info.colors_wanted = on;
        let text = match (on, self.info.detected_colors()) {
            (false, _) => "Colors are off.",
            (true, ColorDepth::None) => {
                "Colors are on, but your client said it shows none, so you will not see them."
            }
            (true, _) => "Colors are on.",
        };
        self.notice(Tone::Info, text);
    }

    /// `/client`: what tavern knows about this client.
    fn describe_client(&mut self) {
        let editing = match self.editor.mode() {
            Mode::Server => "tavern echoes and edits your line (character at a time)",
            Mode::Client => "your client edits its own lines",
        };
        let compression = match &self.compressor {
            Some(compressor) => {
                let (plain, packed) = compressor.totals();
                let percent = packed.saturating_mul(100).checked_div(plain).unwrap_or(0);
                format!("MCCP2 on ({plain} bytes sent as {packed}, {percent}%)")
            }
            None => "off".to_owned(),
        };
        let telnet = self.input.decoder_mut().telnet();
        let gmcp = if telnet.is_enabled(Side::Local, GMCP) {
            match self.gmcp.listed() {
                Some(modules) => format!(
                    "GMCP: on (packages: {})",
                    modules.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                None => "GMCP: on (all packages)".to_owned(),
            }
        } else {
            "GMCP: off".to_owned()
        };
        let marks = if telnet.is_enabled(Side::Local, TELOPT_EOR) {
            "prompts end with: IAC EOR"
        } else if telnet.is_enabled(Side::Local, SGA) {
            "prompts end with: nothing (go-ahead suppressed)"
        } else if self.speaks_telnet {
            "prompts end with: IAC GA"
        } else {
            "prompts end with: nothing (no telnet)"
        };
        let extras = [gmcp, marks.to_owned()];
        let lines = self.info.describe(editing, &compression, &extras);
        self.notice(Tone::Info, "Your client, as tavern sees it:");
        for line in lines {
            self.notice(Tone::Info, &format!("  {line}"));
        }
    }

    async fn rename(&mut self, id: MemberId, name: &str) {
        let nick = match Nick::parse(name, self.ctx.config.max_nick_length) {
            Ok(nick) => nick,
            Err(error) => {
                self.notice(Tone::Error, &format!("{error}."));
                return;
            }
        };
        match self.ctx.rooms.rename(id, nick.clone()).await {
            Ok(Ok(())) => {
                tracing::Span::current().record("nick", tracing::field::display(&nick));
            }
            Ok(Err(taken)) => self.notice(Tone::Error, &format!("Sorry, {taken}.")),
            Err(_) => {}
        }
    }

    fn reprompt(&mut self) {
        if self.editor.mode() == Mode::Client {
            self.prompt(NICK_PROMPT);
        }
    }

    async fn mssp_variables(&self) -> Vec<(&'static str, String)> {
        let stats = self.ctx.rooms.stats().await.unwrap_or_default();
        let live = mssp::Live {
            players: stats.online,
            started: self.ctx.started,
            port: self.port,
        };
        mssp::variables(&self.ctx.config, live)
    }

    /// Answers `DO MSSP` with the live variables.
    async fn send_mssp(&mut self) {
        let vars = self.mssp_variables().await;
        info!("MSSP request answered");
        self.pending.put_slice(&mssp::encode_telnet(&vars));
    }

    /// A system line to this user only.
    fn notice(&mut self, tone: Tone, text: &str) {
        self.show_messages(Delivery::One(render::notice(tone, text)));
    }

    /// Writes text tavern made (the banner) in the client's charset, around
    /// what is being typed.
    fn show_text(&mut self, text: &str) {
        self.editor.begin_output(&mut self.pending);
        self.info.charset.encode(text, &mut self.pending);
        self.editor.end_output(&mut self.pending);
    }

    /// Writes messages without mangling what is being typed, taking along
    /// whatever else the room manager has queued already.
    fn show_messages(&mut self, first: Delivery) {
        let mut text_started = false;
        let form = self.form();
        self.put_delivery(&first, form, &mut text_started);
        if let Some(mut lines) = self.lines.take() {
            while self.pending.len() + self.outgoing.len() < MAX_PENDING_WRITE
                && self.outgoing.segments() < MAX_SEGMENTS
            {
                match lines.try_recv() {
                    Some(delivery) => self.put_delivery(&delivery, form, &mut text_started),
                    None => break,
                }
            }
            self.lines = Some(lines);
        }
        if text_started {
            self.editor.end_output(&mut self.pending);
        }
    }

    /// How this client takes messages, worked out once per batch: asked per
    /// message to each of thousands of recipients, even an option lookup
    /// shows in the profile.
    fn form(&mut self) -> Form {
        let gmcp = self.telnet().is_enabled(Side::Local, GMCP);
        Form {
            class: self.info.class(),
            channel_text: gmcp && self.gmcp.allows("Comm.Channel.Text"),
            roster: gmcp && self.gmcp.allows("Room.Players"),
            width: usize::from(self.info.window.0),
        }
    }

    fn put_delivery(&mut self, delivery: &Delivery, form: Form, text_started: &mut bool) {
        if let Delivery::Run(run) = delivery
            && !form.channel_text
            && !form.roster
            && self.info.charset == Charset::Utf8
        {
            let (joined, widest) = run.joined(form.class);
            if form.width == 0 || widest <= form.width {
                if !joined.is_empty() {
                    if !*text_started {
                        *text_started = true;
                        self.editor.begin_output(&mut self.pending);
                    }
                    self.put_shared(joined);
                }
                return;
            }
        }
        if self.compressor.is_some() || self.info.charset != Charset::Utf8 {
            // Every line is copied: room for the whole delivery at once, as
            // growing the buffer by doubling would copy it again and again.
            // Otherwise lines go out shared and `pending` takes only what
            // this client needs of its own (an allocation saved per
            // recipient: the room's single lines come this way).
            let size: usize = delivery
                .messages()
                .iter()
                .map(|m| m.render(form.class).len())
                .sum();
            self.pending.reserve(size + 64);
        }
        for message in delivery.messages() {
            self.put_message(message, form, text_started);
        }
    }

    /// One message in this client's form: GMCP if it speaks it, then the line
    /// rendered for its class, wrapped at its width, in its charset.
    fn put_message(&mut self, message: &Message, form: Form, text_started: &mut bool) {
        if form.channel_text
            && let Some(text) = message.channel_text()
        {
            self.put_shared(text);
        }
        if form.roster
            && let Some(roster) = message.roster()
        {
            self.put_shared(roster);
        }
        if !message.has_text() {
            return;
        }
        if !*text_started {
            *text_started = true;
            self.editor.begin_output(&mut self.pending);
        }
        let class = form.class;
        let rendered = message.render(class);
        let wraps = form.width > 0 && message.width(class) > form.width;
        if !wraps {
            match self.info.charset {
                Charset::Utf8 => self.put_shared(rendered),
                Charset::Latin1 => self.info.charset.encode_bytes(rendered, &mut self.pending),
            }
            return;
        }
        let line = rendered.strip_suffix(b"\r\n").unwrap_or(rendered);
        let line = String::from_utf8_lossy(line);
        let mut wrapped = String::with_capacity(line.len() + line.len() / 4);
        wrap::wrap(&line, form.width, message.hang(class), &mut wrapped);
        wrapped.push_str("\r\n");
        self.info.charset.encode(&wrapped, &mut self.pending);
    }

    /// Requests sent before the Leave may still wait in the room manager's
    /// queue: their answers, and the room's lines until then, belong to this
    /// user, and a queue closed before the manager handled them would read as
    /// a lost connection. The manager drops its end of the queue once it has
    /// handled the Leave, which ends this wait.
    async fn drain_until_left(&mut self, keep: bool) {
        let Some(mut lines) = self.lines.take() else {
            return;
        };
        let mut text_started = false;
        let drain = async {
            let mut kept = Vec::new();
            let mut kept_lines = 0;
            while let Some(delivery) = lines.recv().await {
                if keep && kept_lines < 4096 {
                    kept_lines += delivery.len();
                    kept.push(delivery);
                }
            }
            kept
        };
        let kept = timeout(GOODBYE_TIMEOUT, drain).await.unwrap_or_default();
        let form = self.form();
        for message in kept.iter().flat_map(Delivery::messages) {
            if self.pending.len() + self.outgoing.len() >= MAX_PENDING_WRITE {
                break;
            }
            self.put_message(message, form, &mut text_started);
        }
    }

    /// Tells the room and the client, flushes, and closes.
    async fn finish(mut self: Box<Self>, end: End) {
        info!(reason = ?end, "disconnected");
        let reason = match &end {
            End::Quit(message) => Some(LeaveReason::Quit(message.clone())),
            End::ConnectionLost => Some(LeaveReason::ConnectionLost),
            End::NotReading => Some(LeaveReason::NotReading),
            End::Shutdown => Some(LeaveReason::Shutdown),
            End::Idle => Some(LeaveReason::Idle),
            End::NegotiationFlood => Some(LeaveReason::ConnectionLost),
            End::SignOnTimeout => None,
        };
        if let (Phase::Chatting(id), Some(reason)) = (self.phase, reason) {
            let keep = matches!(end, End::Quit(_) | End::Shutdown);
            if matches!(end, End::ConnectionLost | End::NotReading) {
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
        if let Some(goodbye) = goodbye {
            let tone = if end == End::Shutdown {
                Tone::Leave
            } else {
                Tone::Info
            };
            self.notice(tone, &goodbye);
            self.collect_transmit();
            // End the zlib stream so the client sees a clean end.
            self.flush_pending();
            if let Some(compressor) = self.compressor.take() {
                let mut end = BytesMut::new();
                compressor.finish(&mut end);
                self.outgoing.push(end.freeze());
            }
            let flush = async {
                while !self.outgoing.is_empty() {
                    if self.outgoing.write_to(&mut self.output).await.unwrap_or(0) == 0 {
                        break;
                    }
                }
                let _ = self.output.shutdown().await;
            };
            let _ = timeout(GOODBYE_TIMEOUT, flush).await;
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
}

/// How a client takes messages (see [`Session::form`]).
#[derive(Debug, Clone, Copy)]
struct Form {
    class: Class,
    /// GMCP is on and `Comm.Channel` was not removed.
    channel_text: bool,
    /// GMCP is on and `Room` was not removed.
    roster: bool,
    /// Columns to wrap at; 0 for none.
    width: usize,
}

/// Receives from the member's queue; pending forever before sign-on.
async fn recv_line(lines: &mut Option<Mailbox>) -> Option<Delivery> {
    match lines {
        Some(lines) => lines.recv().await,
        None => std::future::pending().await,
    }
}

/// From a CHARSET REQUEST list (`<sep>name<sep>name…`), the name to accept:
/// UTF-8 if offered, else Latin-1, as the client spelled it.
fn choose_charset(list: &[u8]) -> Option<Vec<u8>> {
    let (&separator, names) = list.split_first()?;
    let names: Vec<&[u8]> = names.split(|&b| b == separator).collect();
    [Charset::Utf8, Charset::Latin1]
        .into_iter()
        .find_map(|wanted| {
            names
                .iter()
                .find(|name| Charset::from_name(&String::from_utf8_lossy(name)) == Some(wanted))
        })
        .map(|name| name.to_vec())
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
            let (rooms, _task) = crate::rooms::spawn(room);
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
