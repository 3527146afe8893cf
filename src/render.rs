//! Turns chat lines and notices into the bytes that go on the wire.
//!
//! The room manager builds a [`Message`] once per line: a recipe (text parts
//! and nicks, a tone, whether it is a system line) shared by every recipient
//! as an `Arc`. Each recipient's session asks it for the rendering of its
//! capability [`Class`] (how many colors, whether a screen reader listens);
//! the first to ask renders it, and everyone in that class shares those
//! [`Bytes`]. The GMCP forms (`Comm.Channel.Text`, and the `Room.*` roster
//! news that goes with joins and leaves) are made the same way, once, and
//! only if some recipient speaks GMCP: the room manager says who came and
//! went, never in wire bytes.
//! What stays per recipient is only what its own capabilities require:
//! wrapping at its window width, and Latin-1 for clients without UTF-8.
//!
//! What a user typed can never look like a system line: system lines start
//! with `*** ` (`[server] ` for screen readers, who should not hear three
//! stars read out), and every line a user causes starts with their nick
//! (letters, digits, `_`, `-`) and `: `, with `* ` and a nick (emotes), or
//! with `[msg` (private messages). User text reaching this module is already
//! sanitized, so it holds no control characters; and output is UTF-8, which
//! never contains the byte 255, so no IAC escaping is needed here.

use std::sync::{Arc, OnceLock};

use bytes::{BufMut, Bytes, BytesMut};
use unicode_width::UnicodeWidthStr;

use crate::gmcp;
use crate::names::Nick;
use crate::nick_colors::nick_color;

/// How many colors a client shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColorDepth {
    /// No ANSI at all (the client said so, or the user turned colors off).
    None,
    /// The 16 ANSI colors: every telnet terminal and MUD client.
    Ansi16,
    /// xterm's 256-color palette.
    Ansi256,
    /// 24-bit color.
    TrueColor,
}

/// What decides how a line looks for one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    pub color: ColorDepth,
    /// No decorations: system lines marked by a word, not by `***`.
    pub screen_reader: bool,
}

impl Class {
    /// No colors, no screen reader: the text as GMCP and logs carry it.
    pub const PLAIN: Class = Class {
        color: ColorDepth::None,
        screen_reader: false,
    };
    /// The 16 colors: the default for terminals.
    #[cfg(test)]
    pub const ANSI: Class = Class {
        color: ColorDepth::Ansi16,
        screen_reader: false,
    };

    fn index(self) -> usize {
        self.color as usize * 2 + usize::from(self.screen_reader)
    }
}

const CLASSES: usize = 8;

/// What kind of line this is; decides the color of system lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Ordinary text.
    Plain,
    /// Someone arrived.
    Join,
    /// Someone left.
    Leave,
    /// Answers to commands, nick changes.
    Info,
    /// Something went wrong for the user.
    Error,
    /// Private messages.
    Private,
}

impl Tone {
    fn sgr(self) -> &'static str {
        match self {
            Tone::Plain => "",
            Tone::Join => "\x1b[32m",
            Tone::Leave => "\x1b[33m",
            Tone::Info => "\x1b[36m",
            Tone::Error => "\x1b[31m",
            Tone::Private => "\x1b[35m",
        }
    }
}

const RESET: &str = "\x1b[0m";

/// The mark of a system line.
const SYSTEM_MARK: &str = "*** ";
/// The mark of a system line for screen readers: a word, not decoration.
const SYSTEM_MARK_SPOKEN: &str = "[server] ";

/// Roster news that goes with a line (or alone), as names: the GMCP
/// `Room.*` frames are made from it once, when a recipient first needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Roster {
    /// Someone came into the room.
    Added(Nick),
    /// Someone left it.
    Removed(Nick),
    /// Someone in it changed nick.
    Renamed { old: Nick, new: Nick },
    /// Everyone in the room, for one who just came in.
    Players(Vec<Nick>),
    /// A big room's arrivals or departures of a window, gathered.
    Changed {
        added: Vec<Nick>,
        removed: Vec<Nick>,
    },
}

impl Roster {
    /// The GMCP frames for this news.
    fn gmcp(&self) -> Bytes {
        match self {
            Roster::Added(nick) => gmcp::room_add_player(nick.as_str()),
            Roster::Removed(nick) => gmcp::room_remove_player(nick.as_str()),
            Roster::Renamed { old, new } => {
                let removed = gmcp::room_remove_player(old.as_str());
                let added = gmcp::room_add_player(new.as_str());
                let mut both = BytesMut::with_capacity(removed.len() + added.len());
                both.put_slice(&removed);
                both.put_slice(&added);
                both.freeze()
            }
            Roster::Players(nicks) => gmcp::room_players(nicks.iter().map(Nick::as_str)),
            Roster::Changed { added, removed } => {
                let mut all = BytesMut::new();
                for nick in added {
                    all.put_slice(&gmcp::room_add_player(nick.as_str()));
                }
                for nick in removed {
                    all.put_slice(&gmcp::room_remove_player(nick.as_str()));
                }
                all.freeze()
            }
        }
    }
}

/// Where a line belongs, for GMCP `Comm.Channel.Text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// Said in, or announced to, a room.
    Room(String),
    /// A private message.
    Private,
    /// A notice to one user (answers to commands).
    System,
}

impl Channel {
    fn name(&self) -> &str {
        match self {
            Channel::Room(name) => name,
            Channel::Private => "private",
            Channel::System => "system",
        }
    }
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Nick(Nick),
}

/// One line (and what goes with it), built once, rendered once per class.
/// See the module docs.
#[derive(Debug)]
pub struct Message {
    tone: Tone,
    system: bool,
    parts: Vec<Part>,
    /// Columns after the system mark up to where the body starts;
    /// continuation rows of a wrapped line are indented to here.
    hang: usize,
    /// Columns of the whole line without the system mark.
    width: usize,
    channel: Channel,
    talker: Option<Nick>,
    /// Roster news that goes with this line (or alone); boxed, as most
    /// lines have none.
    roster: Option<Box<Roster>>,
    renders: [OnceLock<Bytes>; CLASSES],
    channel_text: OnceLock<Bytes>,
    /// `roster` as GMCP, made on first use.
    roster_gmcp: OnceLock<Bytes>,
}

impl Message {
    /// A message that is only a roster update (no text line).
    pub(crate) fn roster_only(roster: Roster) -> Arc<Message> {
        LineBuilder::new(Tone::Plain).roster(roster).finish()
    }

    /// Whether there is a text line at all.
    pub fn has_text(&self) -> bool {
        !self.parts.is_empty()
    }

    /// The line for `class`, ending in CR LF (empty if there is no text).
    pub fn render(&self, class: Class) -> &Bytes {
        self.renders[class.index()].get_or_init(|| self.build(class))
    }

    /// Display columns of the line for `class` (without CR LF).
    pub fn width(&self, class: Class) -> usize {
        self.width + self.mark(class).len() * usize::from(self.system)
    }

    /// The hanging indent for wrapped rows.
    pub fn hang(&self, class: Class) -> usize {
        self.hang + self.mark(class).len() * usize::from(self.system)
    }

    /// The GMCP `Comm.Channel.Text` form (None if there is no text).
    pub fn channel_text(&self) -> Option<&Bytes> {
        if !self.has_text() {
            return None;
        }
        Some(self.channel_text.get_or_init(|| {
            let plain = self.render(Class::PLAIN);
            let text = std::str::from_utf8(plain.strip_suffix(b"\r\n").unwrap_or(plain))
                .unwrap_or_default();
            gmcp::channel_text(
                self.channel.name(),
                self.talker.as_ref().map(Nick::as_str),
                text,
            )
        }))
    }

    /// The `Room.*` GMCP messages that go with this line, if any.
    pub fn roster(&self) -> Option<&Bytes> {
        let roster = self.roster.as_ref()?;
        Some(self.roster_gmcp.get_or_init(|| roster.gmcp()))
    }

    fn mark(&self, class: Class) -> &'static str {
        if class.screen_reader {
            SYSTEM_MARK_SPOKEN
        } else {
            SYSTEM_MARK
        }
    }

    fn build(&self, class: Class) -> Bytes {
        if self.parts.is_empty() {
            return Bytes::new();
        }
        let color = class.color != ColorDepth::None;
        let mut out = BytesMut::with_capacity(self.width + 32);
        if color {
            out.put_slice(self.tone.sgr().as_bytes());
        }
        if self.system {
            out.put_slice(self.mark(class).as_bytes());
        }
        for part in &self.parts {
            match part {
                Part::Text(text) => out.put_slice(text.as_bytes()),
                Part::Nick(nick) if color => {
                    out.put_slice(nick_color(nick, class.color).as_bytes());
                    out.put_slice(nick.as_str().as_bytes());
                    out.put_slice(RESET.as_bytes());
                    out.put_slice(self.tone.sgr().as_bytes());
                }
                Part::Nick(nick) => out.put_slice(nick.as_str().as_bytes()),
            }
        }
        if color && self.tone != Tone::Plain {
            out.put_slice(RESET.as_bytes());
        }
        out.put_slice(b"\r\n");
        out.freeze()
    }
}

/// Builds one [`Message`].
#[derive(Debug)]
pub struct LineBuilder {
    tone: Tone,
    system: bool,
    parts: Vec<Part>,
    width: usize,
    hang: Option<usize>,
    channel: Channel,
    talker: Option<Nick>,
    roster: Option<Box<Roster>>,
}

impl LineBuilder {
    /// A line that starts with nothing in particular (chat, emotes, private
    /// messages): the caller's first part is what marks it.
    pub fn new(tone: Tone) -> LineBuilder {
        LineBuilder {
            tone,
            system: false,
            parts: Vec::new(),
            width: 0,
            hang: None,
            channel: Channel::System,
            talker: None,
            roster: None,
        }
    }

    /// A system line: starts with the mark no user can produce.
    pub fn system(tone: Tone) -> LineBuilder {
        LineBuilder {
            system: true,
            hang: Some(0),
            ..LineBuilder::new(tone)
        }
    }

    /// Text in the line's tone.
    pub fn text(mut self, text: &str) -> LineBuilder {
        self.width += text.width();
        self.parts.push(Part::Text(text.to_owned()));
        self
    }

    /// A nick in its own color, then back to the line's tone.
    pub fn nick(mut self, nick: &Nick) -> LineBuilder {
        self.width += nick.as_str().width();
        self.parts.push(Part::Nick(nick.clone()));
        self
    }

    /// The body starts here: wrapped rows are indented to this column.
    pub fn hang(mut self) -> LineBuilder {
        self.hang = Some(self.width);
        self
    }

    /// Where the line belongs, for GMCP.
    pub fn channel(mut self, channel: Channel) -> LineBuilder {
        self.channel = channel;
        self
    }

    /// Who said it, for GMCP.
    pub fn talker(mut self, nick: &Nick) -> LineBuilder {
        self.talker = Some(nick.clone());
        self
    }

    /// Roster news to send (as GMCP `Room.*`) with the line.
    pub(crate) fn roster(mut self, roster: Roster) -> LineBuilder {
        self.roster = Some(Box::new(roster));
        self
    }

    fn build(self) -> Message {
        Message {
            tone: self.tone,
            system: self.system,
            hang: self.hang.unwrap_or(0),
            width: self.width,
            parts: self.parts,
            channel: self.channel,
            talker: self.talker,
            roster: self.roster,
            renders: Default::default(),
            channel_text: OnceLock::new(),
            roster_gmcp: OnceLock::new(),
        }
    }

    /// Ends the line.
    pub fn finish(self) -> Arc<Message> {
        Arc::new(self.build())
    }
}

/// Lines that went to one room in one batch of the room manager, shared by
/// every member, with their renders joined once per class. A recipient that
/// needs nothing of its own (no GMCP, no wrapping, UTF-8) takes the whole run
/// as one slice: under load that is most recipients, and per-line work per
/// recipient was what the profile showed once fan-out was batched.
#[derive(Debug)]
pub struct Run {
    messages: Box<[Arc<Message>]>,
    /// Per class: every line's render, in order, and the widest line's
    /// columns (to know whether any line needs wrapping).
    joined: [OnceLock<(Bytes, usize)>; CLASSES],
}

impl Run {
    pub fn new(messages: Vec<Arc<Message>>) -> Run {
        Run {
            messages: messages.into_boxed_slice(),
            joined: Default::default(),
        }
    }

    pub fn messages(&self) -> &[Arc<Message>] {
        &self.messages
    }

    /// The text lines rendered for `class`, joined (lines without text add
    /// nothing), and the display columns of the widest.
    pub fn joined(&self, class: Class) -> (&Bytes, usize) {
        let (bytes, widest) = self.joined[class.index()].get_or_init(|| {
            let size = self.messages.iter().map(|m| m.render(class).len()).sum();
            let mut out = BytesMut::with_capacity(size);
            let mut widest = 0;
            for message in self.messages.iter().filter(|m| m.has_text()) {
                out.put_slice(message.render(class));
                widest = widest.max(message.width(class));
            }
            (out.freeze(), widest)
        });
        (bytes, *widest)
    }
}

/// `nick: text`, the ordinary chat line.
pub fn chat(nick: &Nick, text: &str, room: &str) -> Arc<Message> {
    LineBuilder::new(Tone::Plain)
        .nick(nick)
        .text(": ")
        .hang()
        .text(text)
        .channel(Channel::Room(room.to_owned()))
        .talker(nick)
        .finish()
}

/// A one-part system line to one user.
pub fn notice(tone: Tone, text: &str) -> Arc<Message> {
    LineBuilder::system(tone).text(text).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(name: &str) -> Nick {
        Nick::parse(name, 16).unwrap()
    }

    fn sr(color: ColorDepth) -> Class {
        Class {
            color,
            screen_reader: true,
        }
    }

    #[test]
    fn a_chat_line_renders_with_and_without_color() {
        let line = chat(&nick("ann"), "hello", "lobby");
        assert_eq!(&line.render(Class::PLAIN)[..], b"ann: hello\r\n");
        let colored = String::from_utf8(line.render(Class::ANSI).to_vec()).unwrap();
        assert!(colored.contains("ann\x1b[0m: hello"), "{colored:?}");
        assert!(colored.ends_with("\r\n"));
        assert_eq!(line.width(Class::PLAIN), 10);
        assert_eq!(line.hang(Class::PLAIN), 5);
    }

    #[test]
    fn each_class_is_rendered_once_and_shared() {
        let line = chat(&nick("ann"), "hello", "lobby");
        let a = line.render(Class::ANSI).clone();
        let b = line.render(Class::ANSI).clone();
        assert_eq!(a.as_ptr(), b.as_ptr(), "the same bytes, not a copy");
    }

    #[test]
    fn system_lines_carry_the_mark_and_a_reset() {
        let line = LineBuilder::system(Tone::Join)
            .nick(&nick("bob"))
            .text(" has joined lobby")
            .finish();
        assert_eq!(
            &line.render(Class::PLAIN)[..],
            b"*** bob has joined lobby\r\n"
        );
        assert!(line.render(Class::ANSI).starts_with(b"\x1b[32m*** "));
        assert!(line.render(Class::ANSI).ends_with(b"\x1b[0m\r\n"));
        assert_eq!(line.hang(Class::PLAIN), 4);
    }

    #[test]
    fn screen_readers_hear_a_word_instead_of_stars() {
        let line = notice(Tone::Info, "Colors are on.");
        assert_eq!(
            &line.render(sr(ColorDepth::None))[..],
            b"[server] Colors are on.\r\n"
        );
        assert_eq!(line.hang(sr(ColorDepth::None)), 9);
        let chat = chat(&nick("ann"), "hi", "lobby");
        assert_eq!(&chat.render(sr(ColorDepth::None))[..], b"ann: hi\r\n");
    }

    #[test]
    fn gmcp_channel_text_is_the_plain_line() {
        let line = chat(&nick("ann"), "hello", "lobby");
        let gmcp = line.channel_text().unwrap();
        let text = String::from_utf8_lossy(gmcp);
        assert!(
            text.contains(
                r#"Comm.Channel.Text {"channel":"lobby","talker":"ann","text":"ann: hello"}"#
            ),
            "{text}"
        );
        let roster = Message::roster_only(Roster::Added(nick("bob")));
        assert!(roster.channel_text().is_none());
        assert!(roster.render(Class::ANSI).is_empty());
    }

    #[test]
    fn roster_news_becomes_gmcp_room_frames_once() {
        let frames = |roster: Roster| {
            let message = Message::roster_only(roster);
            let first = message.roster().expect("roster").clone();
            // Made once and shared: the same bytes, not a copy.
            assert_eq!(first.as_ptr(), message.roster().expect("roster").as_ptr());
            String::from_utf8_lossy(&first).into_owned()
        };
        let added = frames(Roster::Added(nick("bob")));
        assert!(
            added.contains(r#"Room.AddPlayer {"fullname":"bob","name":"bob"}"#),
            "{added}"
        );
        let removed = frames(Roster::Removed(nick("bob")));
        assert!(removed.contains(r#"Room.RemovePlayer "bob""#), "{removed}");
        let renamed = frames(Roster::Renamed {
            old: nick("bob"),
            new: nick("rob"),
        });
        let (gone, came) = (
            renamed.find(r#"Room.RemovePlayer "bob""#).expect("removal"),
            renamed
                .find(r#"Room.AddPlayer {"fullname":"rob","name":"rob"}"#)
                .expect("addition"),
        );
        assert!(gone < came, "the old name goes first: {renamed}");
        let gathered = frames(Roster::Changed {
            added: vec![nick("ann"), nick("bob")],
            removed: vec![nick("cy")],
        });
        assert_eq!(gathered.matches("Room.AddPlayer").count(), 2, "{gathered}");
        assert!(
            gathered.contains(r#"Room.AddPlayer {"fullname":"bob","name":"bob"}"#),
            "{gathered}"
        );
        assert!(gathered.contains(r#"Room.RemovePlayer "cy""#), "{gathered}");
        let players = frames(Roster::Players(vec![nick("ann"), nick("bob")]));
        assert!(
            players.contains(
                r#"Room.Players [{"fullname":"ann","name":"ann"},{"fullname":"bob","name":"bob"}]"#
            ),
            "{players}"
        );
        assert!(chat(&nick("ann"), "hi", "lobby").roster().is_none());
    }

    #[test]
    fn a_run_joins_its_text_lines_once_per_class_and_knows_the_widest() {
        let short = chat(&nick("ann"), "hi", "lobby");
        let long = notice(Tone::Info, "a somewhat longer line");
        let roster = Message::roster_only(Roster::Added(nick("bob")));
        let run = Run::new(vec![short.clone(), roster, long.clone()]);
        for class in [Class::PLAIN, Class::ANSI, sr(ColorDepth::None)] {
            let (joined, widest) = run.joined(class);
            let mut expected = short.render(class).to_vec();
            expected.extend_from_slice(long.render(class));
            assert_eq!(&joined[..], &expected[..]);
            assert_eq!(widest, short.width(class).max(long.width(class)));
        }
        assert_eq!(run.messages().len(), 3);
    }
}
