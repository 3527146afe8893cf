//! What a signed-on user typed: chat and room commands go to the room
//! manager; the session answers its own commands (`/nick`, `/quit`,
//! `/color`, `/client`, `/help`, `/motd`, `/time`) and every mistake
//! itself, and tells the room manager the user was active. The parse that
//! decides which is which is [`Input::parse`], in one place.

use tokio::time::Instant;

use crate::command::{self, Input, Mistake, SessionCommand};
use crate::editor::{Completion, Line, Mode};
use crate::gmcp::GMCP;
use crate::names::Nick;
use crate::render::{ColorDepth, Tone};
use crate::rooms::{MemberId, Request};
use crate::telnet::Side;

use super::negotiation::PromptEnd;
use super::{End, Phase, Repeated, Session};

/// Most telnet events taken from the parser when a connection ends: they
/// are what one read (8 KiB) made, so far fewer; the bound only keeps the
/// loop's count explicit.
const MAX_EVENTS_AT_END: usize = 16 * 1024;

impl Session {
    /// The connection is ending: the lines its client sent that were read
    /// but not yet handled (waiting in flood control, or still in the
    /// telnet parser from the last read) go to the room now, in order, at
    /// most a flood queue of them (`flood_burst`, at most 64); the rest is
    /// counted and logged once. Returns how many were handed over, and the
    /// end one of them brought (a `/quit`), which stops the rest.
    pub(super) async fn hand_over(&mut self) -> (usize, Option<End>) {
        self.flood.close();
        for _ in 0..MAX_EVENTS_AT_END {
            let Some(event) = self.input.decoder_mut().telnet().poll_event() else {
                break;
            };
            // Lines join flood control's queue, unpaced; anything else an
            // event could end (a negotiation flood) is ending anyway.
            let _ = Box::pin(self.on_event(event)).await;
        }
        let dropped = self.flood.dropped();
        if dropped > 0 {
            tracing::info!(
                dropped,
                "lines read past the flood queue at disconnect were not sent"
            );
        }
        let lines: Vec<Line> = self.flood.take_all().collect();
        let mut handed = 0;
        for line in lines {
            handed += 1;
            if let Some(end) = self.on_line(line).await {
                return (handed, Some(end));
            }
        }
        (handed, None)
    }

    /// Tab in the line editor: command names after `/` at the line's
    /// start, from the session's own table; otherwise the nicks of the
    /// room, from the room manager (one request per Tab: its index answers
    /// in O(log members), see `rooms/completion.rs`). Nothing before
    /// sign-on, nor for an empty word: the editor rings the bell.
    pub(super) async fn complete(&mut self, ask: Completion) {
        let candidates = match self.phase {
            _ if ask.word.is_empty() => Vec::new(),
            _ if ask.is_command() => command::complete_name(&ask.word),
            Phase::Chatting(id) => self
                .ctx
                .rooms
                .complete(id, ask.word)
                .await
                .unwrap_or_default(),
            Phase::Negotiating | Phase::SigningOn => Vec::new(),
        };
        self.editor.complete(candidates, self.writer.pending());
    }

    pub(super) async fn chat(&mut self, id: MemberId, line: Line) -> Option<End> {
        if let Some(idle) = self.ctx.config.idle_timeout() {
            self.deadline = Some(Instant::now() + idle);
        }
        if line.truncated {
            let max = self.ctx.config.max_line_length;
            if self.repeated.record(Repeated::LineCut) {
                tracing::info!(
                    max,
                    "line cut to the length limit (the first time; later ones are counted)"
                );
            }
            self.notice(
                Tone::Error,
                &format!("Your line was too long and was cut to {max} characters."),
            );
        }
        let text = line.text.trim();
        if text.is_empty() {
            return None;
        }
        let request = match Input::parse(text, self.ctx.config.max_nick_length) {
            Input::Chat(text) => Request::Say { id, text },
            Input::Room(command) => Request::Command { id, command },
            // `/quit` ends the connection; `/nick` reaches the manager,
            // which counts it.
            Input::Session(command @ (SessionCommand::Quit(_) | SessionCommand::Nick(_))) => {
                return self.answer(id, command).await;
            }
            Input::Session(command) => {
                if let Some(end) = self.answer(id, command).await {
                    return Some(end);
                }
                Request::Active { id }
            }
            Input::Mistake(mistake) => {
                self.hint(Tone::Error, &mistake.message());
                Request::Active { id }
            }
        };
        match self.ctx.rooms.send(request).await {
            Ok(()) => None,
            Err(_) => Some(End::Shutdown),
        }
    }

    /// A command the session answers itself.
    async fn answer(&mut self, id: MemberId, command: SessionCommand) -> Option<End> {
        match command {
            SessionCommand::Quit(message) => return Some(End::Quit(message)),
            SessionCommand::Nick(nick) => self.rename(id, nick).await,
            SessionCommand::Color(on) => self.set_colors(on),
            SessionCommand::Client => self.describe_client(),
            SessionCommand::Timestamps(on) => self.set_timestamps(on),
            SessionCommand::Help(None) => {
                for line in command::help_lines() {
                    self.hint(Tone::Info, &line);
                }
            }
            SessionCommand::Help(Some(name)) => match command::help_for(&name) {
                Some(lines) => {
                    for line in lines {
                        self.hint(Tone::Info, &line);
                    }
                }
                None => self.hint(Tone::Error, &Mistake::NoHelp(name).message()),
            },
            SessionCommand::Motd => {
                let text = self.banner_text(false).await;
                self.show_text(&text);
            }
            SessionCommand::Time => {
                let now = crate::utc::format(std::time::SystemTime::now());
                self.notice(Tone::Info, &format!("The server's time is {now}."));
            }
        }
        None
    }

    /// A notice that names commands (`/help`, usage, mistakes), in the form
    /// this client can type: `.who` for a client that runs `/who` itself.
    pub(super) fn hint(&mut self, tone: Tone, text: &str) {
        if self.negotiation.client().slash_prefix_client() {
            self.notice(tone, &command::dotted_hint(text));
        } else {
            self.notice(tone, text);
        }
    }

    async fn rename(&mut self, id: MemberId, nick: Nick) {
        match self.ctx.rooms.rename(id, nick.clone()).await {
            // The connection's span keeps the nick signed on with: a span
            // field recorded again is appended (`nick=ann nick=anna`), not
            // replaced. The room manager logs the change, peer included.
            Ok(Ok(())) => {}
            Ok(Err(taken)) => self.notice(Tone::Error, &format!("Sorry, {taken}.")),
            Err(_) => {}
        }
    }

    /// `/color on|off`, or without an argument, which it is.
    fn set_colors(&mut self, on: Option<bool>) {
        let client = self.negotiation.client_mut();
        if let Some(on) = on {
            client.colors_wanted = on;
        }
        let on = client.colors_wanted;
        let text = match (on, client.detected_colors()) {
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
        let compression = match self.writer.compression_totals() {
            Some((plain, packed)) => {
                let percent = packed.saturating_mul(100).checked_div(plain).unwrap_or(0);
                format!("MCCP2 on ({plain} bytes sent as {packed}, {percent}%)")
            }
            None => "off".to_owned(),
        };
        let telnet = self.input.decoder_mut().telnet();
        let gmcp = if telnet.is_enabled(Side::Local, GMCP) {
            match self.negotiation.gmcp().listed() {
                Some(modules) => format!(
                    "GMCP: on (packages: {})",
                    modules.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                None => "GMCP: on (all packages)".to_owned(),
            }
        } else {
            "GMCP: off".to_owned()
        };
        let marks = match self.negotiation.prompt_end(telnet) {
            PromptEnd::EndOfRecord => "prompts end with: IAC EOR",
            PromptEnd::Suppressed => "prompts end with: nothing (go-ahead suppressed)",
            PromptEnd::GoAhead => "prompts end with: IAC GA",
            PromptEnd::NoTelnet => "prompts end with: nothing (no telnet)",
        };
        let extras = [gmcp, marks.to_owned()];
        let lines = self
            .negotiation
            .client()
            .describe(editing, &compression, &extras);
        self.notice(Tone::Info, "Your client, as tavern sees it:");
        for line in lines {
            self.notice(Tone::Info, &format!("  {line}"));
        }
    }

    /// After GMCP changed: tells the room manager if the client's wish for
    /// roster news changed, so joins and leaves reach it as it now wants.
    pub(super) async fn update_roster_wish(&mut self) -> Option<End> {
        let Phase::Chatting(id) = self.phase else {
            return None;
        };
        let wanted = self.form().roster;
        if wanted == self.roster_wish {
            return None;
        }
        self.roster_wish = wanted;
        match self.ctx.rooms.send(Request::Roster { id, wanted }).await {
            Ok(()) => None,
            Err(_) => Some(End::Shutdown),
        }
    }
}
