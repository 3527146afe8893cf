//! What tavern knows about one connection's client, and what follows from it:
//! who edits lines, how many colors, which charset, whether a screen reader
//! listens. Sans-IO: the session feeds it what the client said in telnet
//! (TTYPE answers, NAWS, CHARSET, GMCP `Core.Hello`) and asks it questions.
//!
//! TTYPE with MTTS (the MUD Terminal Type Standard): tavern asks `SEND` up to
//! three times. A MUD client answers its name, then its terminal type, then
//! `MTTS <bits>`; a plain telnet client repeats one terminal type, and a
//! repeat ends the cycle. The MTTS bits say what the client can show.

use crate::charset::Charset;
use crate::render::{Class, ColorDepth};

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

/// MUD clients (a subset of [`MUD_CLIENTS`]) whose own command prefix is
/// `/`: a typed `/who` runs the client's command and never reaches tavern,
/// so tavern's hints show them the `.who` form. TinyFugue 5 answers TTYPE
/// with its name; Debian's TinyFugue 4 refuses TTYPE and is known by its
/// answers instead (see [`ClientInfo::mud_by_its_answers`]).
const SLASH_CLIENTS: &[&str] = &["TINYFUGUE", "TF"];

/// How many times tavern sends TTYPE SEND: name, terminal type, MTTS.
pub const MAX_TTYPE_ASKS: usize = 3;

/// MTTS bits (<https://tintin.mudhalla.net/protocols/mtts/>).
pub mod mtts {
    pub const ANSI: u32 = 1;
    pub const VT100: u32 = 2;
    pub const UTF8: u32 = 4;
    pub const COLORS_256: u32 = 8;
    pub const MOUSE_TRACKING: u32 = 16;
    pub const OSC_COLOR_PALETTE: u32 = 32;
    pub const SCREEN_READER: u32 = 64;
    pub const PROXY: u32 = 128;
    pub const TRUECOLOR: u32 = 256;
    pub const MNES: u32 = 512;
    pub const MSLP: u32 = 1024;
    pub const SSL: u32 = 2048;

    /// Names of the bits, for `/client`.
    pub const NAMES: [(u32, &str); 12] = [
        (ANSI, "ANSI"),
        (VT100, "VT100"),
        (UTF8, "UTF-8"),
        (COLORS_256, "256 colors"),
        (MOUSE_TRACKING, "mouse tracking"),
        (OSC_COLOR_PALETTE, "OSC color palette"),
        (SCREEN_READER, "screen reader"),
        (PROXY, "proxy"),
        (TRUECOLOR, "truecolor"),
        (MNES, "MNES"),
        (MSLP, "MSLP"),
        (SSL, "TLS"),
    ];
}

/// What the next step of the TTYPE cycle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtypeNext {
    /// Send `IAC SB TTYPE SEND IAC SE` again.
    AskAgain,
    /// The cycle is over.
    Done,
}

/// How the charset was settled, for `/client` and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    /// Nothing said yet: the configured fallback.
    Fallback,
    /// The client accepted it in a CHARSET subnegotiation.
    Agreed,
    /// The client declared UTF-8 in its MTTS bits.
    Mtts,
    /// The client declared MTTS without UTF-8 and did not agree to UTF-8.
    MttsWithoutUtf8,
    /// The client refused UTF-8 (CHARSET refused or rejected) and declared
    /// nothing.
    Refused,
    /// The client's own bytes: valid multi-byte UTF-8, or bytes that cannot
    /// be UTF-8.
    Input,
}

/// Everything known about one client. See the module docs.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// TTYPE answers in order, at most [`MAX_TTYPE_ASKS`].
    ttype_answers: Vec<String>,
    ttype_done: bool,
    /// The client refused TTYPE.
    ttype_refused: bool,
    /// For a client that refused TTYPE, once its other answers are in:
    /// whether it agreed to a MUD protocol (EOR, MCCP2, GMCP). See
    /// [`ClientInfo::mud_by_its_answers`].
    mud_by_answers: Option<bool>,
    /// The MTTS bits, when the client sent `MTTS <n>`.
    pub mtts: Option<u32>,
    /// The client's window in columns and rows (NAWS); 0 means unknown.
    pub window: (u16, u16),
    pub charset: Charset,
    pub charset_source: CharsetSource,
    /// CHARSET negotiation is over (agreed, rejected or refused).
    pub charset_settled: bool,
    /// GMCP `Core.Hello`: client name and version.
    pub gmcp_hello: Option<(String, Option<String>)>,
    /// Colors on or off by the user's choice (`/color`).
    pub colors_wanted: bool,
    /// The colors the terminal type's name promises, worked out when the
    /// answers come: `class()` is asked for every line delivered, and must
    /// not search strings each time.
    terminal_colors: ColorDepth,
    /// The start of a UTF-8 sequence cut by the end of a read (at most 3
    /// bytes), for [`ClientInfo::input_evidence`].
    evidence_tail: Vec<u8>,
}

impl ClientInfo {
    pub fn new(fallback: Charset) -> ClientInfo {
        ClientInfo {
            ttype_answers: Vec::new(),
            ttype_done: false,
            ttype_refused: false,
            mud_by_answers: None,
            mtts: None,
            window: (0, 0),
            charset: fallback,
            charset_source: CharsetSource::Fallback,
            charset_settled: false,
            gmcp_hello: None,
            colors_wanted: true,
            terminal_colors: ColorDepth::Ansi16,
            evidence_tail: Vec::new(),
        }
    }

    /// One `TTYPE IS` answer (already sanitized).
    pub fn ttype_answer(&mut self, name: String) -> TtypeNext {
        if self.ttype_done {
            return TtypeNext::Done;
        }
        let repeated = self
            .ttype_answers
            .last()
            .is_some_and(|last| last.eq_ignore_ascii_case(&name));
        if let Some(bits) = parse_mtts(&name) {
            self.mtts = Some(bits);
            if !matches!(
                self.charset_source,
                CharsetSource::Agreed | CharsetSource::Input
            ) {
                if bits & mtts::UTF8 != 0 {
                    self.set_charset(Charset::Utf8, CharsetSource::Mtts);
                } else if self.charset_settled {
                    self.set_charset(Charset::Latin1, CharsetSource::MttsWithoutUtf8);
                }
            }
        }
        if !repeated {
            self.ttype_answers.push(name);
            self.terminal_colors = colors_of_terminal(self.terminal());
        }
        if repeated || self.ttype_answers.len() >= MAX_TTYPE_ASKS || self.mtts.is_some() {
            self.ttype_done = true;
            TtypeNext::Done
        } else {
            TtypeNext::AskAgain
        }
    }

    /// The client will not do TTYPE (or stopped).
    pub fn ttype_refused(&mut self) {
        self.ttype_refused = self.ttype_answers.is_empty();
        self.ttype_done = true;
    }

    /// Whether the client refused TTYPE before giving any answer.
    pub fn refused_ttype(&self) -> bool {
        self.ttype_refused
    }

    /// For a client that refused TTYPE: whether it `agreed` to a MUD
    /// protocol, which makes it a MUD client with no name to go by. The
    /// first word stands (the negotiation says it once, when it decides
    /// line editing), so hints and editing never disagree; for a client
    /// that gave a terminal type it changes nothing.
    ///
    /// Debian's TinyFugue (4.0s1) is one: asked `DO TTYPE, DO NAWS, WILL
    /// EOR, WILL CHARSET, WILL MSSP, WILL GMCP, WILL MCCP2`, it answers
    /// `DO MCCP2, WILL NAWS, WONT TTYPE, WILL NAWS, SB NAWS, DO EOR, DONT
    /// CHARSET, DONT MSSP, DONT GMCP`. The telnet terminals measured
    /// (netkit, inetutils, busybox, PuTTY) answer TTYPE and refuse every MUD
    /// option. The only MUD client known to refuse TTYPE is TinyFugue 4,
    /// whose own prefix is `/`; the dot form works in any client, so such a
    /// client is told `.who` as [`SLASH_CLIENTS`] are.
    pub fn mud_by_its_answers(&mut self, agreed: bool) {
        if self.ttype_refused && self.mud_by_answers.is_none() {
            self.mud_by_answers = Some(agreed);
        }
    }

    /// Whether [`ClientInfo::mud_by_its_answers`] has been said.
    pub fn answers_read(&self) -> bool {
        self.mud_by_answers.is_some()
    }

    /// TTYPE has told all it will.
    pub fn ttype_settled(&self) -> bool {
        self.ttype_done
    }

    /// The first TTYPE answer: a MUD client's name, or a terminal's type.
    pub fn first_ttype(&self) -> Option<&str> {
        self.ttype_answers.first().map(String::as_str)
    }

    /// The client program's name, when it gave one: GMCP `Core.Hello`, or the
    /// first TTYPE answer of a client that cycles (MTTS).
    pub fn name(&self) -> Option<&str> {
        if let Some((name, _)) = &self.gmcp_hello {
            return Some(name);
        }
        if self.ttype_answers.len() > 1 || self.is_mud_client() {
            return self.first_ttype();
        }
        None
    }

    /// The terminal type: the second answer of a cycling client, else the
    /// only one.
    pub fn terminal(&self) -> Option<&str> {
        match self.ttype_answers.as_slice() {
            [] => None,
            [only] => Some(only),
            [_, terminal, ..] => Some(terminal),
        }
    }

    /// The client is a MUD client, which edits its own lines: a known name,
    /// or no name but MUD answers ([`ClientInfo::mud_by_its_answers`]).
    pub fn is_mud_client(&self) -> bool {
        self.mud_by_answers == Some(true)
            || self
                .first_ttype()
                .is_some_and(|t| MUD_CLIENTS.iter().any(|m| m.eq_ignore_ascii_case(t)))
    }

    /// The client takes a typed `/` for its own commands (see
    /// [`SLASH_CLIENTS`]), or may (a MUD client with no name): hints name
    /// tavern's commands as `.who`.
    pub fn slash_prefix_client(&self) -> bool {
        self.mud_by_answers == Some(true)
            || self
                .first_ttype()
                .is_some_and(|t| SLASH_CLIENTS.iter().any(|m| m.eq_ignore_ascii_case(t)))
    }

    pub fn screen_reader(&self) -> bool {
        self.mtts
            .is_some_and(|bits| bits & mtts::SCREEN_READER != 0)
    }

    /// The colors this client can show, from what it declared: MTTS when it
    /// sent it, else its terminal type's name (`xterm-256color`), else the
    /// 16 ANSI colors every telnet terminal and MUD client shows.
    pub fn detected_colors(&self) -> ColorDepth {
        if let Some(bits) = self.mtts {
            return if bits & mtts::ANSI == 0 {
                ColorDepth::None
            } else if bits & mtts::TRUECOLOR != 0 {
                ColorDepth::TrueColor
            } else if bits & mtts::COLORS_256 != 0 {
                ColorDepth::Ansi256
            } else {
                ColorDepth::Ansi16
            };
        }
        self.terminal_colors
    }

    /// The colors lines are rendered with: what the client can show, unless
    /// the user turned colors off.
    pub fn colors(&self) -> ColorDepth {
        if self.colors_wanted {
            self.detected_colors()
        } else {
            ColorDepth::None
        }
    }

    /// The rendering class of lines for this client.
    pub fn class(&self) -> Class {
        Class {
            color: self.colors(),
            screen_reader: self.screen_reader(),
        }
    }

    /// The client accepted a charset in CHARSET.
    pub fn charset_agreed(&mut self, charset: Charset) {
        self.charset_settled = true;
        self.set_charset(charset, CharsetSource::Agreed);
    }

    /// The client refused CHARSET, or rejected every charset offered: UTF-8
    /// only if MTTS declared it; Latin-1 if MTTS was sent without it; when the
    /// client declared nothing, the configured fallback stays, and its own
    /// bytes may settle it later (see [`ClientInfo::input_evidence`]).
    pub fn charset_refused(&mut self) {
        self.charset_settled = true;
        match self.mtts {
            Some(bits) if bits & mtts::UTF8 != 0 => {
                self.set_charset(Charset::Utf8, CharsetSource::Mtts);
            }
            Some(_) => self.set_charset(Charset::Latin1, CharsetSource::MttsWithoutUtf8),
            None if self.charset_source == CharsetSource::Fallback => {
                self.charset_source = CharsetSource::Refused;
            }
            None => {}
        }
    }

    /// Text bytes the client sent. When nothing declared a charset, the bytes
    /// themselves can: a valid multi-byte UTF-8 sequence means UTF-8, a byte
    /// that can start no UTF-8 sequence means an 8-bit charset (Latin-1, or
    /// Windows-1252 if a byte is from 0x80 to 0x9F). A Latin-1 client however
    /// settled that types such a byte is Windows-1252 too: a true Latin-1
    /// terminal never types C1 controls, and only to a client that showed it
    /// does tavern send those bytes (see `charset.rs`).
    /// Returns whether the charset changed.
    pub fn input_evidence(&mut self, bytes: &[u8]) -> bool {
        let undecided = matches!(
            self.charset_source,
            CharsetSource::Fallback | CharsetSource::Refused
        );
        if !undecided {
            if self.charset == Charset::Latin1 && bytes.iter().any(|b| (0x80..=0x9F).contains(b)) {
                self.set_charset(Charset::Windows1252, CharsetSource::Input);
                return true;
            }
            return false;
        }
        if self.evidence_tail.is_empty() && bytes.is_ascii() {
            return false;
        }
        // A sequence cut by the end of a read is judged with the next read.
        let mut joined = std::mem::take(&mut self.evidence_tail);
        joined.extend_from_slice(bytes);
        let charset = match std::str::from_utf8(&joined) {
            Ok(_) => Charset::Utf8,
            Err(e) if e.error_len().is_some() => {
                let windows = joined
                    .utf8_chunks()
                    .any(|chunk| chunk.invalid().iter().any(|b| (0x80..=0x9F).contains(b)));
                if windows {
                    Charset::Windows1252
                } else {
                    Charset::Latin1
                }
            }
            Err(e) => {
                let (complete, tail) = joined.split_at(e.valid_up_to());
                if complete.is_ascii() {
                    self.evidence_tail = tail.to_vec();
                    return false;
                }
                Charset::Utf8
            }
        };
        let changed = charset != self.charset;
        self.set_charset(charset, CharsetSource::Input);
        changed
    }

    /// A line ended: a UTF-8 start held from the end of the last read was
    /// not completed, so the byte was from an 8-bit charset (`é` in Latin-1
    /// is a UTF-8 lead byte). Returns whether the charset changed.
    pub fn line_ended(&mut self) -> bool {
        if self.evidence_tail.is_empty() {
            return false;
        }
        self.evidence_tail.clear();
        let changed = self.charset != Charset::Latin1;
        self.set_charset(Charset::Latin1, CharsetSource::Input);
        changed
    }

    fn set_charset(&mut self, charset: Charset, source: CharsetSource) {
        self.charset = charset;
        self.charset_source = source;
    }

    /// Lines for `/client`.
    pub fn describe(&self, editing: &str, compression: &str, extras: &[String]) -> Vec<String> {
        let mut lines = Vec::new();
        let name = match (&self.gmcp_hello, self.name()) {
            (Some((name, Some(version))), _) => format!("{name} {version}"),
            (_, Some(name)) => name.to_owned(),
            (_, None) if self.mud_by_answers == Some(true) => {
                "not given (a MUD client by its telnet answers: TinyFugue 4?)".to_owned()
            }
            (_, None) => "not given".to_owned(),
        };
        lines.push(format!("client: {name}"));
        lines.push(format!(
            "terminal type: {}",
            self.terminal().unwrap_or(if self.ttype_refused {
                "not given (TTYPE refused)"
            } else {
                "not given"
            })
        ));
        if let Some(bits) = self.mtts {
            let names: Vec<&str> = mtts::NAMES
                .iter()
                .filter(|(bit, _)| bits & bit != 0)
                .map(|(_, name)| *name)
                .collect();
            lines.push(format!("MTTS: {bits} ({})", names.join(", ")));
        }
        lines.push(match self.window {
            (0, _) => format!(
                "window: size not reported (lines wrap at {})",
                crate::wrap::ASSUMED_WIDTH
            ),
            (columns, 0) => format!("window: {columns} columns"),
            (columns, rows) => format!("window: {columns}x{rows} (lines wrap at {columns})"),
        });
        let how = match self.charset_source {
            CharsetSource::Fallback => "tavern's default; nothing was declared",
            CharsetSource::Agreed => "agreed by CHARSET",
            CharsetSource::Mtts => "declared in MTTS",
            CharsetSource::MttsWithoutUtf8 => "MTTS did not declare UTF-8",
            CharsetSource::Refused => "CHARSET refused, nothing declared; tavern's default",
            CharsetSource::Input => "from the bytes you typed",
        };
        lines.push(format!("charset: {} ({how})", self.charset));
        let colors = match self.colors() {
            ColorDepth::None if !self.colors_wanted => "off (/color on to turn them on)",
            ColorDepth::None => "none (the client has no ANSI)",
            ColorDepth::Ansi16 => "16 colors",
            ColorDepth::Ansi256 => "256 colors",
            ColorDepth::TrueColor => "truecolor (24-bit)",
        };
        lines.push(format!("colors: {colors}"));
        if self.screen_reader() {
            lines.push("screen reader: yes (no decorations)".to_owned());
        }
        lines.push(format!("compression: {compression}"));
        lines.push(format!("editing: {editing}"));
        lines.extend(extras.iter().cloned());
        lines
    }
}

/// The colors a terminal type's name promises (`xterm-256color`).
fn colors_of_terminal(terminal: Option<&str>) -> ColorDepth {
    let Some(terminal) = terminal else {
        return ColorDepth::Ansi16;
    };
    let terminal = terminal.to_ascii_lowercase();
    if ["truecolor", "24bit", "direct"]
        .iter()
        .any(|t| terminal.contains(t))
    {
        ColorDepth::TrueColor
    } else if terminal.contains("256") {
        ColorDepth::Ansi256
    } else if terminal == "dumb" {
        ColorDepth::None
    } else {
        ColorDepth::Ansi16
    }
}

/// `MTTS 271` → 271.
fn parse_mtts(answer: &str) -> Option<u32> {
    let rest = answer
        .strip_prefix("MTTS ")
        .or_else(|| answer.strip_prefix("mtts "))?;
    rest.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle(answers: &[&str]) -> (ClientInfo, Vec<TtypeNext>) {
        let mut info = ClientInfo::new(Charset::Utf8);
        let steps = answers
            .iter()
            .map(|a| info.ttype_answer((*a).to_owned()))
            .collect();
        (info, steps)
    }

    #[test]
    fn tintin_cycles_name_terminal_mtts() {
        let (info, steps) = cycle(&["TINTIN++", "tmux-256color", "MTTS 271"]);
        assert_eq!(
            steps,
            [TtypeNext::AskAgain, TtypeNext::AskAgain, TtypeNext::Done]
        );
        assert_eq!(info.name(), Some("TINTIN++"));
        assert_eq!(info.terminal(), Some("tmux-256color"));
        assert_eq!(info.mtts, Some(271));
        assert!(info.is_mud_client());
        assert_eq!(info.detected_colors(), ColorDepth::TrueColor);
        assert_eq!(info.charset, Charset::Utf8);
        assert_eq!(info.charset_source, CharsetSource::Mtts);
        assert!(!info.screen_reader());
    }

    #[test]
    fn tinyfugue_is_known_as_a_client_whose_own_prefix_is_slash() {
        for name in ["TinyFugue", "TF"] {
            let (info, _) = cycle(&[name, "xterm"]);
            assert!(info.is_mud_client(), "{name}");
            assert!(info.slash_prefix_client(), "{name}");
        }
        // KBtin's own prefix is `#`, as TinTin++'s is: `/who` reaches tavern.
        for answers in [
            &["KBtin", "hardcopy", "unknown"][..],
            &["TINTIN++"],
            &["xterm"],
        ] {
            let (info, _) = cycle(answers);
            assert!(!info.slash_prefix_client(), "{answers:?}");
        }
        let mut refused = ClientInfo::new(Charset::Utf8);
        refused.ttype_refused();
        assert!(!refused.slash_prefix_client());
        assert!(!refused.is_mud_client());
        let mut terminal = refused.clone();
        // TinyFugue 4: TTYPE refused, a MUD option agreed.
        refused.mud_by_its_answers(true);
        assert!(refused.is_mud_client());
        assert!(refused.slash_prefix_client());
        assert_eq!(refused.name(), None);
        // The first word stands.
        refused.mud_by_its_answers(false);
        assert!(refused.is_mud_client());
        terminal.mud_by_its_answers(false);
        terminal.mud_by_its_answers(true);
        assert!(!terminal.is_mud_client() && !terminal.slash_prefix_client());
        // A client that gave a terminal type is known by it.
        let (mut xterm, _) = cycle(&["xterm"]);
        xterm.mud_by_its_answers(true);
        assert!(!xterm.is_mud_client());
    }

    #[test]
    fn a_terminal_that_repeats_itself_ends_the_cycle() {
        let (info, steps) = cycle(&["tmux-256color", "tmux-256color"]);
        assert_eq!(steps, [TtypeNext::AskAgain, TtypeNext::Done]);
        assert_eq!(info.name(), None);
        assert_eq!(info.terminal(), Some("tmux-256color"));
        assert_eq!(info.detected_colors(), ColorDepth::Ansi256);
        assert!(!info.is_mud_client());
    }

    #[test]
    fn mtts_bits_decide_colors_and_screen_reader() {
        let (info, _) = cycle(&["MUDLET", "ANSI", "MTTS 64"]);
        assert_eq!(info.detected_colors(), ColorDepth::None, "no ANSI bit");
        assert!(info.screen_reader());
        let (info, _) = cycle(&["X", "ANSI", "MTTS 13"]);
        assert_eq!(info.detected_colors(), ColorDepth::Ansi256);
        let (info, _) = cycle(&["X", "ANSI", "MTTS 3"]);
        assert_eq!(info.detected_colors(), ColorDepth::Ansi16);
    }

    #[test]
    fn charset_refused_without_utf8_in_mtts_is_latin1() {
        let (mut info, _) = cycle(&["OLDCLIENT", "ANSI", "MTTS 1"]);
        info.charset_refused();
        assert_eq!(info.charset, Charset::Latin1);
        let (mut info, _) = cycle(&["NEWCLIENT", "ANSI", "MTTS 5"]);
        info.charset_refused();
        assert_eq!(info.charset, Charset::Utf8);
    }

    #[test]
    fn agreement_beats_mtts() {
        let (mut info, _) = cycle(&["X", "ANSI"]);
        info.charset_agreed(Charset::Latin1);
        info.ttype_answer("MTTS 5".to_owned());
        assert_eq!(info.charset, Charset::Latin1);
    }

    #[test]
    fn with_nothing_declared_the_bytes_decide() {
        let mut info = ClientInfo::new(Charset::Utf8);
        info.charset_refused();
        assert!(!info.input_evidence(b"hello"), "ASCII says nothing");
        assert!(info.input_evidence(b"caf\xe9 ok"));
        assert_eq!(info.charset, Charset::Latin1);
        let mut info = ClientInfo::new(Charset::Utf8);
        assert!(
            !info.input_evidence(b"caf\xe9"),
            "could be a cut UTF-8 sequence"
        );
        assert!(info.line_ended(), "the line ended without completing it");
        assert_eq!(info.charset, Charset::Latin1);
        let mut info = ClientInfo::new(Charset::Utf8);
        assert!(
            !info.input_evidence("caf\u{e9}".as_bytes()),
            "UTF-8 already"
        );
        assert_eq!(info.charset_source, CharsetSource::Input);
        let mut info = ClientInfo::new(Charset::Latin1);
        assert!(info.input_evidence("你".as_bytes()));
        assert_eq!(info.charset, Charset::Utf8);
        assert!(
            !info.input_evidence(b"\xe4\xbd"),
            "settled: no more changes"
        );
    }

    #[test]
    fn a_byte_from_0x80_to_0x9f_makes_an_8bit_client_windows_1252() {
        let mut info = ClientInfo::new(Charset::Utf8);
        assert!(info.input_evidence(b"\x9fes!"));
        assert_eq!(info.charset, Charset::Windows1252);
        assert!(!info.input_evidence(b"\xe9"), "settled by its bytes");
        // Latin-1 by CHARSET, then a Windows-1252 byte typed.
        let mut info = ClientInfo::new(Charset::Utf8);
        info.charset_agreed(Charset::Latin1);
        assert!(!info.input_evidence(b"caf\xe9"));
        assert_eq!(info.charset, Charset::Latin1, "true Latin-1 so far");
        assert!(info.input_evidence(b"Ru\x9ei\xe8ka"));
        assert_eq!(info.charset, Charset::Windows1252);
        assert_eq!(info.charset_source, CharsetSource::Input);
        // UTF-8 agreed: its bytes change nothing.
        let mut info = ClientInfo::new(Charset::Utf8);
        info.charset_agreed(Charset::Utf8);
        assert!(!info.input_evidence(b"\x9f"));
        assert_eq!(info.charset, Charset::Utf8);
        // Latin-1 by default, then valid UTF-8 with such continuation bytes.
        let mut info = ClientInfo::new(Charset::Latin1);
        assert!(info.input_evidence("€".as_bytes()));
        assert_eq!(info.charset, Charset::Utf8);
    }

    #[test]
    fn a_split_utf8_sequence_says_nothing_yet() {
        let mut info = ClientInfo::new(Charset::Latin1);
        assert!(!info.input_evidence(b"\xe4\xbd"));
        assert_eq!(info.charset_source, CharsetSource::Fallback);
        assert!(info.input_evidence(b"\xa0!"), "completed by the next read");
        assert_eq!(info.charset, Charset::Utf8);
    }

    #[test]
    fn user_color_choice_overrides_detection() {
        let (mut info, _) = cycle(&["tmux-256color", "tmux-256color"]);
        info.colors_wanted = false;
        assert_eq!(info.colors(), ColorDepth::None);
    }
}
