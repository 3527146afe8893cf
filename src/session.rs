//! One task per connection: negotiation, the banner, sign-on, then chat.
//!
//! The session owns its socket, its [`Telnet`] state (inside the codec) and
//! its [`Editor`]; nothing else touches them. It runs one `select!` loop over
//! the socket's input, the member's queue of lines from the room manager, the
//! pending write, a deadline and shutdown. Writes go through one buffer drained
//! with partial writes, so a client that stops reading never blocks the loop:
//! the room manager's queue for it fills, and the manager cancels `kill`.
//!
//! How a connection's line editing is chosen (the table in ARCHITECTURE.md):
//! tavern asks for TTYPE and NAWS, and waits up to `negotiation_wait` for the
//! terminal type. A known MUD client name, or no telnet answer at all (a raw
//! TCP client), means the client edits its own lines. Any other terminal type,
//! a refusal of TTYPE by a client that speaks telnet, or a client that asks
//! tavern to echo (DO ECHO), means tavern echoes and edits (WILL ECHO, WILL
//! SGA). `line_editing = server | client` in the config skips the guess.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::StreamExt;
use nectar::constants::{ECHO, NAWS, SGA};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::banner::{self, BannerVars};
use crate::command::{Command, Input};
use crate::config::{Config, LineEditing};
use crate::editor::{Editor, Line, Mode};
use crate::names::Nick;
use crate::render::{self, Tone};
use crate::rooms::{LeaveReason, MemberId, Outbox, Request, RoomsHandle};
use crate::sanitize::{self, Limits};
use crate::telnet::codec::TelnetCodec;
use crate::telnet::consts::{TTYPE, TTYPE_IS, TTYPE_SEND};
use crate::telnet::{Change, Command as TelnetCommand, Event, Policy, Side, Telnet};

/// What every session shares.
#[derive(Debug)]
pub struct Context {
    pub config: Config,
    pub rooms: RoomsHandle,
}

/// Terminal types of MUD clients, which edit their own input line and read
/// WILL ECHO as "hide what I type". Matched case-insensitively on the first
/// TTYPE answer (MTTS clients send their name first).
const MUD_CLIENTS: &[&str] = &[
    "TINTIN++",
    "MUDLET",
    "MUSHCLIENT",
    "BLIGHTMUD",
    "CMUD",
    "ZMUD",
    "TINYFUGUE",
    "TF",
    "POTATO",
    "ATLANTIS",
    "BEIP",
    "KBTIN",
    "MUDRAMMER",
    "AXMUD",
    "GNOME-MUD",
    "LYNTIN",
    "SIMPLEMU",
    "PUEBLO",
];

/// Bytes waiting to be written past which the session stops taking more work
/// (input and queued lines) until the client reads; the room manager's queue
/// then fills and it drops the client.
const MAX_PENDING_WRITE: usize = 256 * 1024;

/// Lines typed before the banner was shown, kept for sign-on (a raw client can
/// send its nick and first lines before negotiation ends).
const MAX_EARLY_LINES: usize = 16;

/// How long a goodbye may take to write at shutdown or /quit.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);

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
}

/// One connection. See the module docs.
struct Session {
    ctx: Arc<Context>,
    phase: Phase,
    input: FramedRead<tokio::net::tcp::OwnedReadHalf, TelnetCodec>,
    output: OwnedWriteHalf,
    /// Bytes to write; drained by partial writes so the loop never blocks.
    pending: BytesMut,
    editor: Editor,
    /// Lines from the room manager, once signed on.
    lines: Option<mpsc::Receiver<Bytes>>,
    /// Cancelled by the room manager when this client stopped reading.
    kill: CancellationToken,
    deadline: Option<Instant>,
    /// The first terminal type the client gave (TTYPE IS).
    terminal: Option<String>,
    /// The client answered some telnet negotiation: it speaks telnet.
    speaks_telnet: bool,
    early_lines: Vec<Line>,
    /// The banner and the nick prompt have been shown.
    greeted: bool,
    /// Colors on for this user (`/color`); the room manager keeps its own
    /// copy for the lines it renders.
    color: bool,
}

/// Runs one connection to its end. Never panics on client input; every way
/// out is logged with its reason.
/// The caller's span carries the peer address.
pub async fn run(stream: TcpStream, ctx: Arc<Context>, shutdown: CancellationToken) {
    let config = &ctx.config;
    let policy = Policy {
        echo: config.line_editing != LineEditing::Client,
    };
    let telnet = Telnet::new(policy, config.max_subnegotiation);
    let limits = Limits {
        max_chars: config.max_line_length,
        max_marks_per_grapheme: config.max_combining_marks,
    };
    let (read, write) = stream.into_split();
    let mut session = Session {
        phase: Phase::Negotiating,
        input: FramedRead::with_capacity(read, TelnetCodec::new(telnet), 512),
        output: write,
        pending: BytesMut::new(),
        editor: Editor::new(Mode::Client, limits),
        lines: None,
        kill: CancellationToken::new(),
        deadline: Some(Instant::now() + config.negotiation_wait()),
        terminal: None,
        speaks_telnet: false,
        early_lines: Vec::new(),
        greeted: false,
        color: true,
        ctx: ctx.clone(),
    };
    info!("connected");
    let end = session.drive(&shutdown).await;
    session.finish(end).await;
}

impl Session {
    async fn drive(&mut self, shutdown: &CancellationToken) -> End {
        self.start_negotiation();
        loop {
            self.collect_transmit();
            let can_take_work = self.pending.len() < MAX_PENDING_WRITE;
            let deadline = self.deadline;
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => return End::Shutdown,
                _ = self.kill.cancelled() => return End::NotReading,
                written = self.output.write_buf(&mut self.pending), if !self.pending.is_empty() => {
                    match written {
                        Ok(0) | Err(_) => return End::ConnectionLost,
                        Ok(_) => {
                            if self.pending.is_empty() && self.pending.capacity() > 16 * 1024 {
                                // A burst is over; idle connections stay small.
                                self.pending = BytesMut::new();
                            }
                        }
                    }
                }
                line = recv_line(&mut self.lines), if can_take_work => {
                    match line {
                        Some(line) => self.show_lines(line),
                        // The room manager dropped us: for not reading (kill
                        // is cancelled too) or at shutdown.
                        None => return End::NotReading,
                    }
                }
                event = self.input.next(), if can_take_work => {
                    match event {
                        Some(Ok(event)) => {
                            if let Some(end) = self.on_event(event).await {
                                return end;
                            }
                            if let Some(end) = self.greet_once_negotiated().await {
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
                                if let Some(end) = self.greet_once_negotiated().await {
                                    return end;
                                }
                            }
                            return End::ConnectionLost;
                        }
                    }
                }
                _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    if let Some(end) = self.on_deadline() {
                        return end;
                    }
                    if let Some(end) = self.greet_once_negotiated().await {
                        return end;
                    }
                }
            }
        }
    }

    fn start_negotiation(&mut self) {
        let telnet = self.input.decoder_mut().telnet();
        telnet.enable(Side::Remote, TTYPE);
        telnet.enable(Side::Remote, NAWS);
        if self.ctx.config.line_editing == LineEditing::Server {
            self.use_server_editing();
        }
    }

    /// Moves negotiation bytes from the telnet state to the write buffer.
    fn collect_transmit(&mut self) {
        while let Some(bytes) = self.input.decoder_mut().telnet().poll_transmit() {
            self.pending.extend_from_slice(&bytes);
        }
    }

    fn use_server_editing(&mut self) {
        let telnet = self.input.decoder_mut().telnet();
        telnet.enable(Side::Local, ECHO);
        telnet.enable(Side::Local, SGA);
        self.editor.set_mode(Mode::Server, &mut self.pending);
    }

    async fn on_event(&mut self, event: Event) -> Option<End> {
        match event {
            Event::Data(bytes) => self.editor.input(&bytes, &mut self.pending),
            Event::EndOfLine => {
                let line = self.editor.end_of_line(&mut self.pending);
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
        None
    }

    fn on_subnegotiation(&mut self, option: u8, data: &[u8]) {
        match option {
            TTYPE => {
                if let Some((&TTYPE_IS, name)) = data.split_first() {
                    let name = sanitize::sanitize(&sanitize::decode(name), &Limits::default()).text;
                    debug!(terminal = %name, "terminal type");
                    if self.terminal.is_none() {
                        self.terminal = Some(name);
                        self.maybe_classify();
                    }
                }
            }
            NAWS => {
                if let [w1, w2, _, _] = data {
                    self.editor.set_width(u16::from_be_bytes([*w1, *w2]));
                }
            }
            _ => debug!(option, "ignored subnegotiation"),
        }
    }

    fn on_option(&mut self, change: Change) {
        self.speaks_telnet = true;
        match (change.side, change.option, change.enabled) {
            (Side::Remote, TTYPE, true) => {
                self.input
                    .decoder_mut()
                    .telnet()
                    .send_subnegotiation(TTYPE, &[TTYPE_SEND]);
            }
            (Side::Remote, TTYPE, false) => self.maybe_classify(),
            // The client asked tavern to echo (PuTTY does at once): it is a
            // terminal that wants server-side editing.
            (Side::Local, ECHO, true) => {
                if self.editor.mode() == Mode::Client {
                    self.use_server_editing();
                }
                self.maybe_classify();
            }
            // The client will not let tavern echo: it echoes itself.
            (Side::Local, ECHO, false) => self.editor.set_mode(Mode::Client, &mut self.pending),
            _ => {}
        }
    }

    /// Decides the editing mode once the client's terminal type is known or
    /// refused, and then moves on to sign-on.
    fn maybe_classify(&mut self) {
        if self.phase != Phase::Negotiating {
            return;
        }
        let telnet = self.input.decoder_mut().telnet();
        let ttype_settled = self.terminal.is_some() || !telnet.is_pending(Side::Remote, TTYPE);
        let echo_on = telnet.is_enabled(Side::Local, ECHO);
        if !ttype_settled && !echo_on {
            return;
        }
        if self.ctx.config.line_editing == LineEditing::Auto && !echo_on {
            let mud = self
                .terminal
                .as_deref()
                .is_some_and(|t| MUD_CLIENTS.iter().any(|m| m.eq_ignore_ascii_case(t)));
            if !mud {
                self.use_server_editing();
            }
        }
        self.phase = Phase::SigningOn;
        self.deadline = None;
    }

    fn on_deadline(&mut self) -> Option<End> {
        match self.phase {
            Phase::Negotiating => {
                // No (complete) answer: a raw TCP client, or a slow one. It
                // keeps its own line editing.
                debug!(speaks_telnet = self.speaks_telnet, "negotiation wait over");
                self.phase = Phase::SigningOn;
                self.deadline = None;
                None
            }
            Phase::SigningOn => Some(End::SignOnTimeout),
            Phase::Chatting(_) => None,
        }
    }

    /// Once negotiation has settled: shows the banner and the nick prompt,
    /// then handles lines typed before.
    async fn greet_once_negotiated(&mut self) -> Option<End> {
        if self.phase != Phase::SigningOn || self.greeted {
            return None;
        }
        self.greeted = true;
        info!(mode = ?self.editor.mode(), terminal = ?self.terminal, "negotiated");
        self.deadline = Some(Instant::now() + self.ctx.config.signon_timeout());
        let stats = self.ctx.rooms.stats().await.unwrap_or_default();
        let template = banner::load(&self.ctx.config.banner).await;
        let vars = BannerVars {
            server_name: &self.ctx.config.server_name,
            online: stats.online,
            rooms: stats.rooms,
        };
        let text = banner::render(&template, &vars, self.color);
        self.show_lines(Bytes::from(text));
        self.editor.set_prompt("Nickname: ", &mut self.pending);
        for line in std::mem::take(&mut self.early_lines) {
            if let Some(end) = self.on_line(line).await {
                return Some(end);
            }
        }
        None
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
        if text.is_empty() {
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
        let (lines, incoming) = mpsc::channel(self.ctx.config.outbound_queue);
        let outbox = Outbox {
            lines,
            kill: self.kill.clone(),
        };
        match self.ctx.rooms.join(nick.clone(), self.color, outbox).await {
            Ok(Ok(id)) => {
                tracing::Span::current().record("nick", tracing::field::display(&nick));
                self.phase = Phase::Chatting(id);
                self.deadline = None;
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
        if line.truncated {
            let max = self.ctx.config.max_line_length;
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
            Input::Command(command) => {
                if let Command::Color(on) = command {
                    self.color = on;
                }
                Request::Command { id, command }
            }
        };
        match self.ctx.rooms.send(request).await {
            Ok(()) => None,
            Err(_) => Some(End::Shutdown),
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
            self.editor.set_prompt("Nickname: ", &mut self.pending);
        }
    }

    /// A system line to this user only.
    fn notice(&mut self, tone: Tone, text: &str) {
        let line = render::notice(tone, text);
        self.show_lines(line.for_color(self.color).clone());
    }

    /// Writes lines (ending in CR LF) without mangling what is being typed,
    /// taking along whatever else the room manager has queued already.
    fn show_lines(&mut self, first: Bytes) {
        self.editor.begin_output(&mut self.pending);
        self.pending.extend_from_slice(&first);
        if let Some(lines) = &mut self.lines {
            while self.pending.len() < MAX_PENDING_WRITE {
                match lines.try_recv() {
                    Ok(line) => self.pending.extend_from_slice(&line),
                    Err(_) => break,
                }
            }
        }
        self.editor.end_output(&mut self.pending);
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
        self.editor.begin_output(&mut self.pending);
        let pending = &mut self.pending;
        let drain = async {
            while let Some(line) = lines.recv().await {
                if keep && pending.len() < MAX_PENDING_WRITE {
                    pending.extend_from_slice(&line);
                }
            }
        };
        let _ = timeout(GOODBYE_TIMEOUT, drain).await;
    }

    /// Tells the room and the client, flushes, and closes.
    async fn finish(mut self, end: End) {
        info!(reason = ?end, "disconnected");
        let reason = match &end {
            End::Quit(message) => Some(LeaveReason::Quit(message.clone())),
            End::ConnectionLost => Some(LeaveReason::ConnectionLost),
            End::NotReading => Some(LeaveReason::NotReading),
            End::Shutdown => Some(LeaveReason::Shutdown),
            End::SignOnTimeout => None,
        };
        if let (Phase::Chatting(id), Some(reason)) = (self.phase, reason) {
            let keep = matches!(end, End::Quit(_) | End::Shutdown);
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
            End::ConnectionLost | End::NotReading => None,
        };
        if let Some(goodbye) = goodbye {
            let tone = if end == End::Shutdown {
                Tone::Leave
            } else {
                Tone::Info
            };
            self.notice(tone, &goodbye);
            let flush = async {
                while self.pending.has_remaining() {
                    if self.output.write_buf(&mut self.pending).await.unwrap_or(0) == 0 {
                        break;
                    }
                }
                let _ = self.output.shutdown().await;
            };
            let _ = timeout(GOODBYE_TIMEOUT, flush).await;
        }
    }
}

/// Receives from the member's queue; pending forever before sign-on.
async fn recv_line(lines: &mut Option<mpsc::Receiver<Bytes>>) -> Option<Bytes> {
    match lines {
        Some(lines) => lines.recv().await,
        None => std::future::pending().await,
    }
}
