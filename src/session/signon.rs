//! Sign-on: the banner once negotiation settles, the nick prompt, lines
//! typed before it, the nickname, and joining the room manager. Also MSSP,
//! which crawlers ask for before, or instead of, signing on.

use tokio::time::Instant;
use tracing::info;

use crate::banner::{self, BannerVars};
use crate::command::{Input, Mistake, SessionCommand};
use crate::editor::{Line, Mode};
use crate::mailbox::mailbox;
use crate::mssp;
use crate::names::Nick;
use crate::render::{ColorDepth, Tone};
use crate::rooms::Outbox;
use nectar::constants::{EOR, GA, IAC};

use super::negotiation::PromptEnd;
use super::{End, Phase, Repeated, Session};

/// The line a telnet-less MSSP crawler sends instead of `IAC DO MSSP`.
const MSSP_REQUEST: &str = "MSSP-REQUEST";

/// The nick prompt.
const NICK_PROMPT: &str = "Nickname: ";

impl Session {
    /// Once negotiation has settled: shows the banner and the nick prompt,
    /// then handles lines typed before.
    pub(super) async fn greet_once_negotiated(&mut self) -> Option<End> {
        if self.phase != Phase::SigningOn || self.greeted {
            return None;
        }
        self.greeted = true;
        let client = self.negotiation.client();
        info!(
            editing = %self.editor.mode(),
            client = %client.name().unwrap_or("-"),
            terminal = %client.terminal().unwrap_or("-"),
            mtts = %client.mtts.map_or_else(|| "-".to_owned(), |m| m.to_string()),
            charset = %client.charset,
            width = client.window.0,
            "negotiated"
        );
        self.deadline = Some(Instant::now() + self.ctx.config.signon_timeout());
        let text = self.banner_text(true).await;
        self.show_text(&text);
        // A nickname typed stays on screen (server mode), so the user sees
        // what a refusal under it is about.
        self.editor.keep_entered_lines(true);
        self.prompt(NICK_PROMPT);
        for line in std::mem::take(&mut self.early_lines) {
            if let Some(end) = self.on_line(line).await {
                return Some(end);
            }
        }
        None
    }

    /// The banner as this client should see it, read from its file now
    /// (at sign-on, and quietly, without logging the file's faults again,
    /// for `/motd`).
    pub(super) async fn banner_text(&mut self, log: bool) -> String {
        let stats = self.ctx.rooms.stats().await.unwrap_or_default();
        let template = if log {
            banner::load(&self.ctx.config.banner)
        } else {
            banner::load_quietly(&self.ctx.config.banner)
        };
        let client = self.negotiation.client();
        let template = banner::select_art(&template, client.screen_reader());
        let vars = BannerVars {
            server_name: &self.ctx.config.server_name,
            online: stats.online,
            rooms: stats.rooms,
        };
        let text = banner::render(&template, &vars, client.colors() != ColorDepth::None);
        // A client that runs `/help` itself is told the form that works.
        if client.slash_prefix_client() {
            crate::command::dotted_hint(&text)
        } else {
            text
        }
    }

    /// Shows a prompt, marked as one for clients that want to know (EOR where
    /// agreed, else GA unless the client suppressed it).
    pub(super) fn prompt(&mut self, text: &str) {
        self.editor.set_prompt(text, self.writer.pending());
        if text.is_empty() {
            return;
        }
        let telnet = self.input.decoder_mut().telnet();
        match self.negotiation.prompt_end(telnet) {
            PromptEnd::EndOfRecord => self.writer.pending().extend_from_slice(&[IAC, EOR]),
            PromptEnd::GoAhead => self.writer.pending().extend_from_slice(&[IAC, GA]),
            PromptEnd::Suppressed | PromptEnd::NoTelnet => {}
        }
    }

    pub(super) async fn sign_on(&mut self, line: Line) -> Option<End> {
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
        let max_nick = self.ctx.config.max_nick_length;
        if let Input::Session(SessionCommand::Quit(_)) = Input::parse(text, max_nick) {
            return Some(End::Quit(None));
        }
        let nick = self.valid_nick(text)?;
        let (lines, incoming) = mailbox(self.ctx.config.outbound_queue);
        self.roster_wish = self.form().roster;
        let outbox = Outbox {
            lines,
            kill: self.kill.clone(),
            roster: self.roster_wish,
            // Asked of the socket here, once: not a field of every session.
            peer: self
                .input
                .get_mut()
                .peer_addr()
                .unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0))),
            client: self.negotiation.client().name().map(str::to_owned),
            dot_commands: self.negotiation.client().slash_prefix_client(),
            signed_on: std::time::SystemTime::now(),
        };
        match self.ctx.rooms.join(nick.clone(), outbox).await {
            Ok(Ok(id)) => {
                tracing::Span::current().record("nick", tracing::field::display(&nick));
                self.phase = Phase::Chatting(id);
                // MCCP2 waits for sign-on (see `Negotiation::signed_on`).
                let telnet = self.input.decoder_mut().telnet();
                let effects = self.negotiation.signed_on(telnet);
                self.apply(effects);
                self.deadline = self
                    .ctx
                    .config
                    .idle_timeout()
                    .map(|idle| Instant::now() + idle);
                self.lines = Some(incoming);
                // From here the room echoes each line back.
                self.editor.keep_entered_lines(false);
                self.editor.set_prompt("", self.writer.pending());
                if self.negotiation.client().slash_prefix_client() {
                    self.notice(
                        Tone::Info,
                        "Your client runs /commands itself: type tavern's with a dot \
                         (.help, .who, .quit) or with //.",
                    );
                }
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

    /// The nickname typed at the prompt, or the reason it is refused, told
    /// to the user with the prompt again.
    fn valid_nick(&mut self, text: &str) -> Option<Nick> {
        match Nick::parse(text, self.ctx.config.max_nick_length) {
            Ok(nick) => Some(nick),
            Err(error) => {
                self.notice(Tone::Error, &Mistake::BadName(error).message());
                self.reprompt();
                None
            }
        }
    }

    /// The nick prompt again, for a client that edits its own lines; in
    /// server mode the editor redraws the prompt after any output itself.
    pub(super) fn reprompt(&mut self) {
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
    pub(super) async fn send_mssp(&mut self) {
        let vars = self.mssp_variables().await;
        if self.repeated.record(Repeated::MsspAnswered) {
            info!("MSSP request answered (the first time; later ones are counted)");
        }
        self.writer
            .pending()
            .extend_from_slice(&mssp::encode_telnet(&vars));
    }
}
