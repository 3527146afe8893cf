//! Turns chat lines and notices into the bytes that go on the wire, once per
//! message for each capability class (color or not), shared by every
//! recipient as [`Bytes`].
//!
//! What a user typed can never look like a system line: system lines start
//! with `*** `, and every line a user causes starts with their nick (letters,
//! digits, `_`, `-`), with `* ` and a nick (emotes), or with `[msg` (private
//! messages). User text reaching this module is already sanitized, so it holds
//! no control characters; and output is UTF-8, which never contains the byte
//! 255, so no IAC escaping is needed here.

use bytes::{BufMut, Bytes, BytesMut};

use crate::names::Nick;

/// The two renderings of one message.
#[derive(Debug, Clone)]
pub struct Rendered {
    color: Bytes,
    plain: Bytes,
}

impl Rendered {
    /// The rendering for a recipient who has colors on (`true`) or off.
    pub fn for_color(&self, color: bool) -> &Bytes {
        if color { &self.color } else { &self.plain }
    }
}

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

/// Nick colors: the 12 foreground colors that read well on dark and light
/// backgrounds (no black, white or grey).
const NICK_COLORS: [&str; 12] = [
    "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m", "\x1b[91m", "\x1b[92m",
    "\x1b[93m", "\x1b[94m", "\x1b[95m", "\x1b[96m",
];

/// The color of a nick: derived from its key, so it is the same for everyone,
/// every time, and does not change with capitalization.
pub fn nick_color(nick: &Nick) -> &'static str {
    // FNV-1a: stable across runs and platforms, unlike std's hasher.
    let mut hash: u32 = 0x811c_9dc5;
    for byte in nick.key().bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    NICK_COLORS[hash as usize % NICK_COLORS.len()]
}

/// Builds one line in both renderings at once.
#[derive(Debug)]
pub struct LineBuilder {
    color: BytesMut,
    plain: BytesMut,
    tone: Tone,
}

impl LineBuilder {
    /// A line that starts with nothing in particular (chat, emotes, private
    /// messages): the caller's first part is what marks it.
    pub fn new(tone: Tone) -> LineBuilder {
        let mut line = LineBuilder {
            color: BytesMut::with_capacity(64),
            plain: BytesMut::with_capacity(48),
            tone,
        };
        line.color.put_slice(tone.sgr().as_bytes());
        line
    }

    /// A system line: starts with the `*** ` mark no user can produce.
    pub fn system(tone: Tone) -> LineBuilder {
        LineBuilder::new(tone).text("*** ")
    }

    /// Text in the line's tone.
    pub fn text(mut self, text: &str) -> LineBuilder {
        self.color.put_slice(text.as_bytes());
        self.plain.put_slice(text.as_bytes());
        self
    }

    /// A nick in its own color, then back to the line's tone.
    pub fn nick(mut self, nick: &Nick) -> LineBuilder {
        self.color.put_slice(b"\x1b[1m");
        self.color.put_slice(nick_color(nick).as_bytes());
        self.color.put_slice(nick.as_str().as_bytes());
        self.color.put_slice(RESET.as_bytes());
        self.color.put_slice(self.tone.sgr().as_bytes());
        self.plain.put_slice(nick.as_str().as_bytes());
        self
    }

    /// Ends the line (reset, CR LF).
    pub fn finish(mut self) -> Rendered {
        if self.tone != Tone::Plain {
            self.color.put_slice(RESET.as_bytes());
        }
        self.color.put_slice(b"\r\n");
        self.plain.put_slice(b"\r\n");
        Rendered {
            color: self.color.freeze(),
            plain: self.plain.freeze(),
        }
    }
}

/// `nick: text`, the ordinary chat line.
pub fn chat(nick: &Nick, text: &str) -> Rendered {
    LineBuilder::new(Tone::Plain)
        .nick(nick)
        .text(": ")
        .text(text)
        .finish()
}

/// A one-part system line.
pub fn notice(tone: Tone, text: &str) -> Rendered {
    LineBuilder::system(tone).text(text).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(name: &str) -> Nick {
        Nick::parse(name, 16).unwrap()
    }

    #[test]
    fn a_chat_line_renders_with_and_without_color() {
        let line = chat(&nick("ann"), "hello");
        assert_eq!(&line.for_color(false)[..], b"ann: hello\r\n");
        let colored = String::from_utf8(line.for_color(true).to_vec()).unwrap();
        assert!(colored.contains("ann\x1b[0m: hello"), "{colored:?}");
        assert!(colored.ends_with("\r\n"));
    }

    #[test]
    fn nick_colors_are_stable_and_ignore_case() {
        assert_eq!(nick_color(&nick("Ann")), nick_color(&nick("ANN")));
    }

    #[test]
    fn system_lines_carry_the_mark_and_a_reset() {
        let line = LineBuilder::system(Tone::Join)
            .nick(&nick("bob"))
            .text(" has joined lobby")
            .finish();
        assert_eq!(&line.for_color(false)[..], b"*** bob has joined lobby\r\n");
        assert!(line.for_color(true).starts_with(b"\x1b[32m*** "));
        assert!(line.for_color(true).ends_with(b"\x1b[0m\r\n"));
    }
}
