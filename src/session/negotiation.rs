//! What tavern and one client agree on, and what tavern learns of the
//! client, sans-IO: the options' content (the TTYPE/MTTS cycle, CHARSET,
//! NAWS, GMCP, MSSP, MCCP2 start and stop) and the line-editing decision.
//!
//! [`Negotiation`] takes the telnet [`Event`]s about options, asks and
//! answers through [`Telnet`] (whose bytes the session writes), and returns
//! [`Effects`]: what the session must change in how it reads and writes
//! (who edits lines, the charset, the width, compression, an MSSP answer,
//! the banner's turn). It owns the [`ClientInfo`] and the GMCP wishes; it
//! never touches a socket or a clock, so ARCHITECTURE.md's table of how a
//! client is classified is tested here, event by event.
//!
//! It also holds the one budget for what a client sends outside its text:
//! every negotiation, subnegotiation, two-byte command (AYT, NOP, GA, AO,
//! DM, unknown ones) and dropped sequence counts, at most `max_negotiations`
//! between two lines the user typed or within [`BUDGET_WINDOW`]; past that
//! the session ends with [`NegotiationFlood`]. The editing commands (EC, EL,
//! IP, BRK) are typing, not negotiation: like DEL they cost what the editor
//! does per byte, which is bounded there. Input thrown away or ignored is
//! logged once per kind and summed up at the end ([`LogSummary`]), never a
//! log line per sequence. What a client controls is acted on only while its
//! option is on (a GMCP message with GMCP off is ignored), and MCCP2, whose
//! zlib state is the largest thing a connection can hold, starts only once
//! the user has signed on.

use std::fmt;
use std::time::{Duration, Instant};

use nectar::constants::{BINARY, CHARSET, ECHO, NAWS, SGA, TELOPT_EOR};
use tracing::{debug, warn};

use crate::charset::{self, Charset, CharsetMessage};
use crate::client::{ClientInfo, TtypeNext};
use crate::config::{Config, LineEditing};
use crate::editor::Mode;
use crate::gmcp::{self, GMCP, Supports};
use crate::logsummary::LogSummary;
use crate::mccp::MCCP2;
use crate::mssp::MSSP;
use crate::sanitize::{self, Limits};
use crate::telnet::consts::{TTYPE, TTYPE_IS, TTYPE_SEND};
use crate::telnet::{Change, Command, Dropped, Event, Policy, Side, Telnet};

/// Most characters kept of a name a client gives itself (a TTYPE answer,
/// GMCP `Core.Hello`'s client and version): RFC 1091 allows 40 for a
/// terminal type, and the longest real one seen is 14; a connection holds
/// at most five such names.
const MAX_CLIENT_NAME: usize = 64;

/// How a name a client gives itself is cleaned and cut.
const CLIENT_NAME: Limits = Limits {
    max_chars: MAX_CLIENT_NAME,
    max_marks_per_grapheme: 4,
};

/// How long a budget of `max_negotiations` lasts when no line is typed: a
/// client that spends it more slowly than this is never cut off.
pub(crate) const BUDGET_WINDOW: Duration = Duration::from_secs(60);

/// One connection's negotiation. See the module docs.
#[derive(Debug)]
pub(crate) struct Negotiation {
    client: ClientInfo,
    /// GMCP packages the client wants.
    gmcp: Supports,
    line_editing: LineEditing,
    compression: bool,
    max_negotiations: usize,
    /// Who edits lines now.
    editing: Mode,
    /// The TTYPE cycle has begun. `ClientInfo` ends it after at most
    /// `MAX_TTYPE_ASKS` answers, so it bounds the asks too.
    ttype_asked: bool,
    /// Line editing has been decided (from TTYPE, DO ECHO or the config).
    editing_decided: bool,
    /// The client answered some telnet negotiation: it speaks telnet.
    speaks_telnet: bool,
    /// Telnet commands of any kind (negotiations, subnegotiations, two-byte
    /// commands, dropped sequences) since the last line the user typed,
    /// against `max_negotiations`. A typed line starts the count afresh, so
    /// a long session's window resizes or keep-alive NOPs never add up.
    negotiations: usize,
    /// When the count last started afresh with time, not a typed line: a
    /// user who only reads (keep-alive NOPs, window resizes) gets a new
    /// budget every [`BUDGET_WINDOW`]. Unset until the first command.
    budget_since: Option<Instant>,
    /// Text arrived since the last line end: the next line end is a typed
    /// line, which renews the budget and the AYT answer.
    typed: bool,
    /// An AYT was answered since the last typed line: later ones are not,
    /// so a flood of AYTs gets one answer, not one per two bytes.
    ayt_answered: bool,
    /// DO BINARY has been sent (once: a client that refused is not asked
    /// again).
    binary_asked: bool,
    /// The client agreed to MCCP2; compression starts at sign-on.
    compression_wanted: bool,
    /// The user has signed on: MCCP2 may start.
    signed_on: bool,
    /// Still waiting for TTYPE and CHARSET before the banner.
    waiting: bool,
    /// Input dropped or ignored: the first of each kind is logged, the rest
    /// counted for one line at the end.
    stray: LogSummary<Stray>,
}

/// Input from the client that tavern threw away or did not act on, as the
/// log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stray {
    /// The telnet parser dropped a sequence.
    Dropped(Dropped),
    /// A subnegotiation for an option that is not on.
    OptionOff(u8),
    /// GMCP that is not UTF-8, or bad JSON.
    MalformedGmcp,
    /// CHARSET ACCEPTED naming a charset tavern did not offer.
    CharsetNotOffered,
}

impl fmt::Display for Stray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stray::Dropped(dropped) => write!(f, "{dropped}"),
            Stray::OptionOff(option) => {
                write!(f, "subnegotiation for option {option}, which is off")
            }
            Stray::MalformedGmcp => f.write_str("malformed GMCP message"),
            Stray::CharsetNotOffered => f.write_str("CHARSET ACCEPTED of a charset not offered"),
        }
    }
}

/// What the session must do after an event. Empty for most events.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Effects {
    /// Who edits lines, when it may have changed.
    pub(crate) editing: Option<Mode>,
    /// The charset to read and write in, when it may have changed.
    pub(crate) charset: Option<Charset>,
    /// The window's width in columns (NAWS).
    pub(crate) width: Option<u16>,
    /// Start (`true`) or end (`false`) MCCP2 compression.
    pub(crate) compression: Option<bool>,
    /// Answer MSSP with the live variables.
    pub(crate) mssp: bool,
    /// TTYPE and CHARSET have settled: the banner can go out. Set once.
    pub(crate) settled: bool,
    /// GMCP was turned on or off, or the client changed what it wants:
    /// how it takes messages may have changed.
    pub(crate) gmcp: bool,
    /// Answer the client's AYT (the first since the last typed line).
    pub(crate) are_you_there: bool,
}

impl Effects {
    /// `later`'s effects on top of these (a later change wins).
    #[cfg(test)]
    pub(crate) fn then(self, later: Effects) -> Effects {
        Effects {
            editing: later.editing.or(self.editing),
            charset: later.charset.or(self.charset),
            width: later.width.or(self.width),
            compression: later.compression.or(self.compression),
            mssp: self.mssp || later.mssp,
            settled: self.settled || later.settled,
            gmcp: self.gmcp || later.gmcp,
            are_you_there: self.are_you_there || later.are_you_there,
        }
    }
}

/// More telnet commands between two typed lines than any real client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NegotiationFlood;

/// How a prompt is marked as one, for clients that want to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PromptEnd {
    /// `IAC EOR`: the client agreed to EOR.
    EndOfRecord,
    /// `IAC GA`: a telnet client that did not suppress go-ahead.
    GoAhead,
    /// Nothing: go-ahead suppressed.
    Suppressed,
    /// Nothing: the client does not speak telnet.
    NoTelnet,
}

impl Negotiation {
    /// The options tavern accepts when the client asks, from the config.
    pub(crate) fn policy(config: &Config) -> Policy {
        Policy {
            echo: config.line_editing != LineEditing::Client,
            compression: config.compression,
        }
    }

    pub(crate) fn new(config: &Config) -> Negotiation {
        Negotiation {
            client: ClientInfo::new(config.fallback_charset),
            gmcp: Supports::default(),
            line_editing: config.line_editing,
            compression: config.compression,
            max_negotiations: config.max_negotiations,
            editing: Mode::Client,
            ttype_asked: false,
            editing_decided: false,
            speaks_telnet: false,
            negotiations: 0,
            budget_since: None,
            typed: false,
            ayt_answered: false,
            binary_asked: false,
            compression_wanted: false,
            signed_on: false,
            waiting: true,
            stray: LogSummary::default(),
        }
    }

    /// Opens negotiation: asks for TTYPE and NAWS, offers EOR, CHARSET,
    /// MSSP, GMCP and MCCP2; server editing at once if the config says so.
    pub(crate) fn start(&mut self, telnet: &mut Telnet) -> Effects {
        telnet.enable(Side::Remote, TTYPE);
        telnet.enable(Side::Remote, NAWS);
        telnet.enable(Side::Local, TELOPT_EOR);
        telnet.enable(Side::Local, CHARSET);
        telnet.enable(Side::Local, MSSP);
        telnet.enable(Side::Local, GMCP);
        if self.compression {
            telnet.enable(Side::Local, MCCP2);
        }
        let mut effects = Effects::default();
        if self.line_editing == LineEditing::Server {
            self.editing_decided = true;
            self.use_server_editing(telnet, &mut effects);
        }
        effects
    }

    /// One event from the client, at `now`. Text and line ends go to
    /// [`on_data`] and [`on_line_end`]; the editing commands are typing and
    /// cost nothing here; everything else counts against the budget. A
    /// two-byte command is the session's to carry out, but for AYT, which
    /// is answered only when [`Effects::are_you_there`] says so.
    ///
    /// [`on_data`]: Negotiation::on_data
    /// [`on_line_end`]: Negotiation::on_line_end
    pub(crate) fn on_event(
        &mut self,
        telnet: &mut Telnet,
        event: &Event,
        now: Instant,
    ) -> Result<Effects, NegotiationFlood> {
        let mut effects = Effects::default();
        match event {
            Event::Option(change) => self.on_option(telnet, *change, &mut effects),
            Event::Refused { side, option } => {
                self.speaks_telnet = true;
                debug!(%side, option, "refused option");
            }
            Event::Subnegotiation { option, data } => {
                self.on_subnegotiation(telnet, *option, data, &mut effects);
            }
            Event::Command(Command::AreYouThere) => {
                effects.are_you_there = !self.ayt_answered;
                self.ayt_answered = true;
            }
            Event::Command(
                Command::EraseCharacter
                | Command::EraseLine
                | Command::InterruptProcess
                | Command::Break,
            )
            | Event::Data(_)
            | Event::EndOfLine => return Ok(effects),
            Event::Command(_) => {}
            Event::Dropped(dropped) => self.stray(Stray::Dropped(*dropped)),
        }
        self.negotiations += 1;
        let since = *self.budget_since.get_or_insert(now);
        if self.negotiations > self.max_negotiations
            && now.saturating_duration_since(since) >= BUDGET_WINDOW
        {
            // Spent slowly, over a window or more: a reader's keep-alives
            // and resizes, not a flood. A fresh budget from now.
            self.negotiations = 1;
            self.budget_since = Some(now);
        }
        if self.negotiations > self.max_negotiations {
            warn!(
                max = self.max_negotiations,
                "too many telnet negotiations, closing"
            );
            return Err(NegotiationFlood);
        }
        self.settle(telnet, &mut effects);
        Ok(effects)
    }

    /// Text the client typed: its bytes may say which charset it uses.
    pub(crate) fn on_data(&mut self, bytes: &[u8]) -> Option<Charset> {
        self.typed |= !bytes.is_empty();
        self.client.input_evidence(bytes).then(|| {
            debug!(charset = %self.client.charset, "charset from the client's bytes");
            self.client.charset
        })
    }

    /// A line ended: a UTF-8 start left incomplete was Latin-1. A line with
    /// text renews the budget of telnet commands and the AYT answer.
    pub(crate) fn on_line_end(&mut self) -> Option<Charset> {
        if self.typed {
            self.typed = false;
            self.negotiations = 0;
            self.budget_since = None;
            self.ayt_answered = false;
        }
        self.client.line_ended().then(|| {
            debug!(charset = %self.client.charset, "charset from the client's bytes");
            self.client.charset
        })
    }

    /// The wait for answers is over (no answer, or not all of them): the
    /// banner goes out now, and a late answer no longer settles anything.
    /// A client that refused TTYPE and left EOR unanswered is decided on
    /// what it did answer.
    pub(crate) fn stop_waiting(&mut self, telnet: &mut Telnet) -> Effects {
        let mut effects = Effects::default();
        if self.waiting {
            debug!(speaks_telnet = self.speaks_telnet, "negotiation wait over");
            self.waiting = false;
            self.decide_editing(telnet, &mut effects);
        }
        effects
    }

    /// The user has signed on: MCCP2 starts now if the client agreed to it
    /// (before sign-on a connection holds no zlib state: ~163 KiB each).
    pub(crate) fn signed_on(&mut self, telnet: &Telnet) -> Effects {
        self.signed_on = true;
        let start = self.compression_wanted && telnet.is_enabled(Side::Local, MCCP2);
        Effects {
            compression: start.then_some(true),
            ..Effects::default()
        }
    }

    /// Logs, once, what the client sent that was dropped or ignored, kind by
    /// kind with counts; nothing if nothing was. For the end of a
    /// connection.
    pub(crate) fn log_summary(&self) {
        if !self.stray.is_empty() {
            warn!(
                total = self.stray.total(),
                dropped = %self.stray,
                "telnet input dropped or ignored"
            );
        }
    }

    /// Counts a stray sequence; the first of its kind is logged.
    fn stray(&mut self, kind: Stray) {
        if self.stray.record(kind) {
            warn!(
                kind = %kind,
                "telnet input dropped or ignored (first of its kind; more are counted)"
            );
        }
    }

    /// Everything the client told about itself.
    pub(crate) fn client(&self) -> &ClientInfo {
        &self.client
    }

    /// The client's settings the user changes (`/color`).
    pub(crate) fn client_mut(&mut self) -> &mut ClientInfo {
        &mut self.client
    }

    /// GMCP packages the client wants.
    pub(crate) fn gmcp(&self) -> &Supports {
        &self.gmcp
    }

    /// Who edits lines now.
    #[cfg(test)]
    pub(crate) fn editing(&self) -> Mode {
        self.editing
    }

    /// Whether the client gets GMCP `package` messages.
    pub(crate) fn wants_gmcp(&self, telnet: &Telnet, package: &str) -> bool {
        telnet.is_enabled(Side::Local, GMCP) && self.gmcp.allows(package)
    }

    /// How prompts end for this client.
    pub(crate) fn prompt_end(&self, telnet: &Telnet) -> PromptEnd {
        if telnet.is_enabled(Side::Local, TELOPT_EOR) {
            PromptEnd::EndOfRecord
        } else if telnet.is_enabled(Side::Local, SGA) {
            PromptEnd::Suppressed
        } else if self.speaks_telnet {
            PromptEnd::GoAhead
        } else {
            PromptEnd::NoTelnet
        }
    }

    fn on_option(&mut self, telnet: &mut Telnet, change: Change, effects: &mut Effects) {
        self.speaks_telnet = true;
        match (change.side, change.option, change.enabled) {
            (Side::Remote, TTYPE, true) if !self.ttype_asked => {
                self.ttype_asked = true;
                telnet.send_subnegotiation(TTYPE, &[TTYPE_SEND]);
            }
            (Side::Remote, TTYPE, false) => {
                self.client.ttype_refused();
                self.decide_editing(telnet, effects);
            }
            // Tells a client that refused TTYPE apart (see `decide_editing`).
            (Side::Local, TELOPT_EOR, _) => self.decide_editing(telnet, effects),
            // The client asked tavern to echo (PuTTY does at once): it is a
            // terminal that wants server-side editing.
            (Side::Local, ECHO, true) => {
                if self.editing == Mode::Client {
                    self.use_server_editing(telnet, effects);
                }
                self.editing_decided = true;
            }
            // The client will not let tavern echo: it echoes itself.
            (Side::Local, ECHO, false) => {
                self.editing = Mode::Client;
                effects.editing = Some(Mode::Client);
            }
            (Side::Local, CHARSET, true) => {
                telnet.send_subnegotiation(CHARSET, &charset::request());
            }
            (Side::Local, CHARSET, false) | (Side::Remote, CHARSET, false) => {
                let either = telnet.is_enabled(Side::Local, CHARSET)
                    || telnet.is_enabled(Side::Remote, CHARSET)
                    || telnet.is_pending(Side::Local, CHARSET);
                if !either && !self.client.charset_settled {
                    self.charset_refused(effects);
                }
            }
            (Side::Local, MSSP, true) => effects.mssp = true,
            // Started at sign-on (see `signed_on`), ended at once.
            (Side::Local, MCCP2, true) => {
                self.compression_wanted = true;
                if self.signed_on {
                    effects.compression = Some(true);
                }
            }
            (Side::Local, MCCP2, false) => {
                self.compression_wanted = false;
                effects.compression = Some(false);
            }
            (Side::Local, GMCP, enabled) => {
                debug!(enabled, "GMCP");
                effects.gmcp = true;
            }
            _ => {}
        }
    }

    fn on_subnegotiation(
        &mut self,
        telnet: &mut Telnet,
        option: u8,
        data: &[u8],
        effects: &mut Effects,
    ) {
        // What a client sends for an option that is off is not acted on:
        // agreement is what makes it the client's to set.
        let on = match option {
            TTYPE | NAWS => telnet.is_enabled(Side::Remote, option),
            CHARSET => {
                telnet.is_enabled(Side::Local, CHARSET) || telnet.is_enabled(Side::Remote, CHARSET)
            }
            GMCP => telnet.is_enabled(Side::Local, GMCP),
            _ => false,
        };
        if !on {
            self.stray(Stray::OptionOff(option));
            return;
        }
        match option {
            TTYPE => {
                if let Some((&TTYPE_IS, name)) = data.split_first() {
                    let name = sanitize::sanitize(&sanitize::decode(name), &CLIENT_NAME).text;
                    debug!(terminal = %name, "terminal type");
                    let before = self.client.charset;
                    let next = self.client.ttype_answer(name);
                    if next == TtypeNext::AskAgain {
                        telnet.send_subnegotiation(TTYPE, &[TTYPE_SEND]);
                    }
                    // MTTS may have declared the charset: the editor reads
                    // in it from now on.
                    if self.client.charset != before {
                        effects.charset = Some(self.client.charset);
                    }
                    self.decide_editing(telnet, effects);
                }
            }
            NAWS => {
                if let [w1, w2, h1, h2] = data {
                    let columns = u16::from_be_bytes([*w1, *w2]);
                    let rows = u16::from_be_bytes([*h1, *h2]);
                    debug!(columns, rows, "window size");
                    self.client.window = (columns, rows);
                    effects.width = Some(columns);
                }
            }
            CHARSET => self.on_charset(telnet, data, effects),
            GMCP => {
                let message = gmcp::parse(data);
                match &message {
                    gmcp::Incoming::Hello { client, version } => {
                        let clean = |s: &str| sanitize::sanitize(s, &CLIENT_NAME).text;
                        debug!(client = %client, "GMCP Core.Hello");
                        self.client.gmcp_hello =
                            Some((clean(client), version.as_deref().map(clean)));
                    }
                    gmcp::Incoming::Malformed => self.stray(Stray::MalformedGmcp),
                    _ => {}
                }
                self.gmcp.apply(&message);
                effects.gmcp = true;
            }
            _ => {}
        }
    }

    /// RFC 2066: the client's answer to tavern's REQUEST, or its own REQUEST.
    fn on_charset(&mut self, telnet: &mut Telnet, data: &[u8], effects: &mut Effects) {
        match CharsetMessage::parse(data) {
            CharsetMessage::Accepted(Some(charset)) => self.charset_agreed(charset, effects),
            CharsetMessage::Accepted(None) => {
                self.stray(Stray::CharsetNotOffered);
                self.charset_refused(effects);
            }
            CharsetMessage::Rejected => self.charset_refused(effects),
            CharsetMessage::Request(chosen) => {
                let name = chosen.as_ref().map(|(name, _)| name.as_slice());
                telnet.send_subnegotiation(CHARSET, &charset::reply(name));
                match chosen {
                    Some((_, charset)) => self.charset_agreed(charset, effects),
                    None => self.charset_refused(effects),
                }
            }
            CharsetMessage::Other => debug!("ignored CHARSET subnegotiation"),
        }
    }

    fn charset_agreed(&mut self, charset: Charset, effects: &mut Effects) {
        self.client.charset_agreed(charset);
        debug!(%charset, "charset");
        effects.charset = Some(self.client.charset);
    }

    /// CHARSET refused or failed: what the client declared otherwise, or
    /// the fallback (see [`ClientInfo::charset_refused`]).
    fn charset_refused(&mut self, effects: &mut Effects) {
        self.client.charset_refused();
        effects.charset = Some(self.client.charset);
    }

    fn use_server_editing(&mut self, telnet: &mut Telnet, effects: &mut Effects) {
        telnet.enable(Side::Local, ECHO);
        telnet.enable(Side::Local, SGA);
        self.ask_binary(telnet);
        self.editing = Mode::Server;
        effects.editing = Some(Mode::Server);
    }

    /// Asks a terminal to send in binary (RFC 856), once. inetutils telnet
    /// (like the BSD telnet it comes from) compares each typed byte, its
    /// top bit cleared unless it transmits in binary, with its escape key
    /// `^]` (0x1D): the UTF-8 byte 0x9D (in 李, ŝ, Н) would throw the user
    /// into its `telnet>` prompt. (netkit telnet clears the bit whatever is
    /// agreed; only its `-E` helps it.) Only the
    /// client's direction is asked: what tavern sends reaches every such
    /// client's screen 8-bit clean already. MUD clients are not asked: they
    /// send 8-bit text as it is, and none of them does BINARY.
    fn ask_binary(&mut self, telnet: &mut Telnet) {
        if !self.binary_asked {
            self.binary_asked = true;
            telnet.enable(Side::Remote, BINARY);
        }
    }

    /// Decides who edits lines once the client's first terminal type is
    /// known (or refused). A client that asked tavern to echo, or a config
    /// that says who edits, decided already (tavern echoing implies that).
    ///
    /// A client that refused TTYPE is a MUD client if it agreed to a MUD
    /// protocol (EOR, MCCP2, GMCP), as Debian's TinyFugue 4 does and no
    /// telnet terminal does; else a terminal. Its answer to EOR, which tavern
    /// always offers, may come after the refusal (tf writes each answer
    /// apart): while the negotiation waits, the decision waits for it.
    ///
    /// The client is told apart even when the config decided editing: the
    /// hints' form depends on it too.
    fn decide_editing(&mut self, telnet: &mut Telnet, effects: &mut Effects) {
        if self.client.first_ttype().is_none() && !self.client.ttype_settled() {
            return;
        }
        if self.client.refused_ttype() && !self.client.answers_read() {
            if self.waiting && telnet.is_pending(Side::Local, TELOPT_EOR) {
                return;
            }
            let agreed = [TELOPT_EOR, MCCP2, GMCP]
                .into_iter()
                .any(|option| telnet.is_enabled(Side::Local, option));
            self.client.mud_by_its_answers(agreed);
        }
        if self.editing_decided {
            return;
        }
        self.editing_decided = true;
        if self.client.is_mud_client() {
            return;
        }
        if self.line_editing == LineEditing::Auto {
            self.use_server_editing(telnet, effects);
        } else {
            // A terminal editing its own lines checks each byte for its
            // escape key as well.
            self.ask_binary(telnet);
        }
    }

    /// Once TTYPE and CHARSET, which the banner depends on, have settled:
    /// editing is decided (if it can be) and the banner may go out.
    fn settle(&mut self, telnet: &mut Telnet, effects: &mut Effects) {
        if !self.waiting {
            return;
        }
        // From the events handled, not `telnet`'s state: `Telnet` takes a
        // whole read's negotiations before its events are handed out, so
        // its state runs ahead, and a refusal later in the read would not
        // have been handled yet (tf 4's `WONT TTYPE` comes after `DO MCCP2`
        // and `WILL NAWS`). A refusal settles the cycle as an answer does.
        let ttype_settled = self.client.ttype_settled();
        // Only tavern's own offer is waited for: tavern never asks the
        // client to do CHARSET, and a client that offers it may send its
        // REQUEST whenever it likes.
        let charset_open =
            telnet.is_pending(Side::Local, CHARSET) || telnet.is_enabled(Side::Local, CHARSET);
        let charset_settled = self.client.charset_settled || !charset_open;
        // A client that refused TTYPE is told apart by its answer to EOR
        // (see `decide_editing`), and the banner's hints depend on it.
        let eor_settled =
            !self.client.refused_ttype() || !telnet.is_pending(Side::Local, TELOPT_EOR);
        if ttype_settled && charset_settled && eor_settled {
            self.decide_editing(telnet, effects);
            self.waiting = false;
            effects.settled = true;
        }
    }
}

#[cfg(test)]
#[path = "negotiation_tests.rs"]
mod tests;
