//! The line discipline: turns a connection's text bytes into finished lines,
//! and keeps what the user is typing intact on their screen.
//!
//! Two modes, chosen per connection by the session:
//! - [`Mode::Server`], for terminal clients in character mode: tavern echoes
//!   what is typed and edits the line itself. BS and DEL erase one grapheme
//!   cluster and as many columns as it took on screen; ^U clears the line; ^W
//!   erases a word; ^C abandons the line visibly (`^C`, a fresh prompt); ^L
//!   draws it again; Up/Down walk a history of the lines sent (this
//!   connection's own, bounded by [`HISTORY_LINES`] and [`HISTORY_BYTES`]);
//!   Left/Right, Home/End (^A/^E) and Delete move and edit inside the line
//!   (a move writes cursor escapes; an edit inside redraws at the flush);
//!   Tab asks the caller for completions of the word before the cursor
//!   ([`Editor::take_completion`], [`Editor::complete`]) and a second Tab
//!   cycles through them; other escape sequences are swallowed. Output
//!   that arrives while a line is half typed goes through
//!   [`Editor::begin_output`]/[`Editor::end_output`], which lift the prompt and
//!   the typed text off the screen and draw them again under the output.
//! - [`Mode::Client`], for MUD clients and line-mode telnet: the client edits
//!   and echoes; tavern only collects bytes up to the line end, and still
//!   applies any BS/DEL it finds in the line.
//!
//! Sans-IO like the telnet layer: it takes bytes and writes what the terminal
//! must show into a caller's buffer. Every finished line has been through
//! [`crate::sanitize::sanitize`].
//!
//! The screen as the editor pictures it (server mode): the prompt starts a
//! row, and the prompt and the line follow it column after column, wrapping
//! at the window width as the terminal wraps them; except that a terminal
//! (xterm, tmux, VTE) never starts a wide character in a row's last column:
//! it leaves that cell and starts the character on the next row. That
//! blank is a bit on the cluster after it (`Cluster::pad`), kept up to
//! date as text is typed at the end and the cursor moves (a step costs the
//! same as without it), and worked out for the whole line only where the
//! line is drawn whole anyway: at the flush, and when the window width
//! changes ([`Editor::set_width`], which also says what a resize does to a
//! line already on screen).
//!
//! Bounded work and output per byte typed: the line's grapheme clusters and
//! their widths are kept as they are typed (a cluster is judged within
//! itself, at most [`MAX_CLUSTER_BYTES`]), so an erase costs the size of
//! what it erases, never the length of the line. Edits that must draw the
//! line again (^L, ^U, ^W, an erase across a row start, the line end) only
//! lift it off the screen once and mark it; the caller calls
//! [`Editor::flush`] when it has handled a read's worth of input, and the
//! line is drawn once for all of them. In client mode, telnet EC is kept as
//! a DEL in the bytes and applied with the others at the line end.

use std::collections::VecDeque;

use bytes::{BufMut, BytesMut};
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::{GraphemeCursor, UnicodeSegmentation};
use unicode_width::UnicodeWidthStr;

use crate::charset::{self, Charset};
use crate::sanitize::{self, Limits, TextDecoder};

/// Who edits and echoes the line being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tavern echoes and edits (character-at-a-time terminals).
    Server,
    /// The client echoes and edits, and sends whole lines.
    Client,
}

/// As an admin reads it in the log: who edits.
impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Server => "server",
            Mode::Client => "client",
        })
    }
}

/// A finished line, sanitized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// The line was longer than allowed and was cut; the user should be told.
    pub truncated: bool,
    /// Something was typed, but cleaning left nothing (only escape sequences,
    /// controls or bidi overrides): unlike a bare Enter, worth an answer.
    pub emptied: bool,
}

/// What a Tab asks the caller for: completions of the word before the
/// cursor (see [`Editor::take_completion`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The word as typed: from the last space before the cursor to it.
    pub word: String,
    /// It starts the line: a nick completed there ends with `: ` (the
    /// chat form of addressing someone), and a word with `/` there is a
    /// command name.
    pub first: bool,
}

impl Completion {
    /// A command name to complete (`/wh`), not a nick.
    pub fn is_command(&self) -> bool {
        self.first && self.word.starts_with('/')
    }
}

/// Longest word, in bytes, a Tab completes: a nick is at most 64
/// characters (`max_nick_length`), and finding the word's start must not
/// cost the line's length per Tab.
const MAX_COMPLETED_WORD_BYTES: usize = 64 * 4;

/// Tabs that may ask the caller for completions per line typed (those
/// that cycle through an answer ask nothing). Each costs a request to the
/// room manager, which every session shares; lines are paced by flood
/// control, so this paces the asking too. Past it a Tab rings the bell.
pub const MAX_COMPLETION_ASKS_PER_LINE: u8 = 32;

/// Where a Tab is in its life (server mode).
#[derive(Debug)]
enum Tab {
    /// Pressed, and not yet taken by the caller. If more is typed in the
    /// same read (a pasted line with a tab in it), it was text after all,
    /// and becomes a space as it always did.
    Asked { start: usize },
    /// Taken by the caller, whose answer goes to [`Editor::complete`].
    Taken { start: usize },
    /// A completion was put in; Tab again puts in the next (and after the
    /// last, the first). Anything else ends the cycle.
    Cycling {
        start: usize,
        candidates: Vec<String>,
        next: usize,
        suffix: &'static str,
    },
}

/// Where the editor is inside an escape sequence the user's terminal sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// After ESC.
    Start,
    /// After `ESC [` (or C1 CSI): parameters until a final byte. The
    /// first parameter so far is kept (`ESC [ 3 ~` is Delete).
    Csi(u16),
    /// After `ESC O`: one more character (SS3, used by arrow keys in
    /// application mode).
    Ss3,
}

/// Column count assumed until the client reports its window size (NAWS).
const DEFAULT_WIDTH: usize = 80;

/// Longest grapheme cluster the editor keeps whole, in bytes. Real ones are
/// far shorter (a family emoji with skin tones is 41 bytes; combining marks
/// are capped); past it a character starts a cluster of its own, so that
/// judging where a cluster ends never costs more than this per character
/// (a run of Hangul leading jamo or of emoji joined by ZWJ is otherwise one
/// cluster as long as the line).
const MAX_CLUSTER_BYTES: usize = 64;

/// Input lines a connection's history keeps for Up/Down (server mode).
pub const HISTORY_LINES: usize = 50;

/// Bytes a connection's history may hold in all (the text, and two bytes a
/// cluster for its measures); the oldest lines go first past it.
pub const HISTORY_BYTES: usize = 16 * 1024;

/// A line sent earlier, kept with its measures so recalling it is a copy,
/// not a new segmentation.
#[derive(Debug, Clone)]
struct Recalled {
    /// The line as it was typed (it is cleaned again when sent).
    text: String,
    /// Its grapheme clusters, as `Editor::clusters`.
    clusters: Vec<Cluster>,
    /// The sum of their widths.
    width: usize,
}

impl Recalled {
    /// What it counts against `HISTORY_BYTES`.
    fn size(&self) -> usize {
        self.text.len() + 2 * self.clusters.len()
    }
}

/// One grapheme cluster of the line being typed (server mode): two bytes
/// per character typed, where its start offset would take sixteen (a
/// cluster starts where the ones after it begin, less their lengths).
#[derive(Debug, Clone, Copy)]
struct Cluster {
    /// Its length in bytes (at most `MAX_CLUSTER_BYTES` and one character).
    len: u8,
    /// Columns it takes on screen (at most two per character, so under
    /// 128), and in the top bit [`PAD`]. Read through `width()` and
    /// `pad()`.
    cols: u8,
}

/// `Cluster::cols`' top bit: the cluster starts a column later than the
/// one before it ends, on the next row, because it is wide and would have
/// started in a row's last column, which a terminal leaves blank (xterm,
/// tmux, VTE). Where pads fall depends on the prompt and the window width,
/// so the bits are worked out again wherever the line is drawn whole
/// (`Editor::lay_out`), and kept up to date when typing at the end.
const PAD: u8 = 0x80;

impl Cluster {
    /// A cluster of `text`, which is within the bounds above.
    fn of(text: &str) -> Cluster {
        Cluster {
            len: u8::try_from(text.len()).unwrap_or(u8::MAX),
            cols: u8::try_from(text.width()).map_or(!PAD, |width| width.min(!PAD)),
        }
    }

    /// Columns it takes on screen.
    fn width(self) -> usize {
        usize::from(self.cols & !PAD)
    }

    /// The blank column before it (1), if it has one (see [`PAD`]).
    fn pad(self) -> usize {
        usize::from(self.cols >> 7)
    }

    /// It, with or without the blank column before it.
    fn padded(self, pad: bool) -> Cluster {
        Cluster {
            len: self.len,
            cols: self.cols & !PAD | if pad { PAD } else { 0 },
        }
    }
}

/// Whether a cluster `width` columns wide that would start `pos` columns
/// after the prompt's start (which starts a row) starts on the next row
/// instead, a column later: it is wide and `pos` is a row's last column
/// (see [`PAD`]). On a window one column wide nothing is moved: a wide
/// character fits nowhere.
fn pads_at(pos: usize, width: usize, columns: usize) -> bool {
    width >= 2 && columns >= 2 && pos % columns == columns - 1
}

/// Where the cursor is when Left or Home moved it inside the line (server
/// mode): what is before it, counted four ways so that moving and
/// editing there cost what they touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Inside {
    /// Clusters before the cursor (fewer than the line has).
    cluster: usize,
    /// Their bytes.
    byte: usize,
    /// Their columns.
    col: usize,
    /// The blank columns before them and before the cluster after the
    /// cursor, which the cursor stands on (see [`PAD`]): on screen the
    /// cursor is `col + pads` after the prompt. An edit inside the line
    /// leaves this as it was, and the redraw it causes counts it again.
    pads: usize,
}

/// One connection's line discipline. See the module docs.
#[derive(Debug)]
pub struct Editor {
    mode: Mode,
    /// Shown before the typed text in server mode ("Nickname: " at sign-on).
    prompt: String,
    /// The line typed so far (server mode), decoded.
    line: String,
    /// `line`'s grapheme clusters, in order: where each starts and its
    /// width, so an erase finds what to erase without scanning the line.
    clusters: Vec<Cluster>,
    /// The sum of the clusters' widths: the typed text's columns.
    line_width: usize,
    /// The clusters' pads (see [`PAD`]): on screen the line takes
    /// `line_width + pads` columns. Exact while the line is on screen;
    /// after an edit that lifted it, counted again when it is drawn.
    pads: usize,
    /// The cursor, if it is not at the line's end (where typing appends,
    /// the common case, which stays as cheap as it was).
    inside: Option<Inside>,
    /// The prompt's columns on screen, measured when it or the window
    /// width is set (pads included, as for the line).
    prompt_width: usize,
    /// Server mode: the prompt and typed text were lifted off the screen and
    /// are drawn again by the next [`Editor::flush`] or
    /// [`Editor::end_output`]; until then edits write nothing.
    cleared: bool,
    /// The bytes received so far (client mode), decoded at the line end so a
    /// Latin-1 or UTF-8 line is judged whole.
    raw: Vec<u8>,
    /// Holds a UTF-8 sequence split across reads (server mode).
    decoder: TextDecoder,
    escape: Escape,
    /// Terminal width in columns, for redrawing a typed line that wraps.
    width: usize,
    /// Cap on the bytes held for one line, so a client that never sends a
    /// line end cannot grow memory; input past it is dropped and reported.
    max_line_bytes: usize,
    /// Input was dropped from the current line for being over the cap.
    truncated: bool,
    /// Client mode: the erasures (BS, DEL, telnet EC) in `raw`, applied at
    /// the line end. When `raw` is full and they are a quarter of it, they
    /// are applied at once to make room: the cost of that is paid for by the
    /// erasures received since the last time.
    raw_erasures: usize,
    /// Client mode: a prompt was written and the user has not ended a line
    /// since, so the cursor sits after the prompt; output must start on a new
    /// line. (Once the user sends a line, their client has moved down itself.)
    prompt_open: bool,
    limits: Limits,
    /// Server mode: lines sent, oldest first, for Up/Down. This connection's
    /// own, never shared or logged; at most `HISTORY_LINES` and
    /// `HISTORY_BYTES`.
    history: VecDeque<Recalled>,
    /// `history`'s size in `HISTORY_BYTES` terms.
    history_bytes: usize,
    /// The history line shown (Up was pressed), or none: the user's own.
    recalled: Option<usize>,
    /// The line being typed when Up was first pressed, given back by Down
    /// past the newest history line.
    draft: Option<Recalled>,
    /// Server mode: a finished line stays on screen, followed by a line
    /// end, instead of being lifted off (the nick prompt, where nothing
    /// echoes it back and a refused name must stay visible).
    keep_entered: bool,
    /// The client's charset: how typed bytes are read, and how the echo and
    /// redraws are written.
    charset: Charset,
    /// Server mode: a Tab waiting for its completions, or a cycle through
    /// them. Boxed: an idle connection holds a pointer, not the state.
    tab: Option<Box<Tab>>,
    /// Tabs that asked for completions since the last line ended (see
    /// [`MAX_COMPLETION_ASKS_PER_LINE`]).
    asks: u8,
}

impl Editor {
    pub fn new(mode: Mode, limits: Limits) -> Editor {
        Editor {
            mode,
            prompt: String::new(),
            line: String::new(),
            clusters: Vec::new(),
            line_width: 0,
            pads: 0,
            inside: None,
            prompt_width: 0,
            cleared: false,
            raw: Vec::new(),
            decoder: TextDecoder::new(),
            escape: Escape::None,
            width: DEFAULT_WIDTH,
            // Four bytes per character is the most UTF-8 needs; anything past
            // that is cut by the sanitizer anyway.
            max_line_bytes: limits.max_chars.saturating_mul(4).max(16),
            truncated: false,
            raw_erasures: 0,
            prompt_open: false,
            limits,
            history: VecDeque::new(),
            history_bytes: 0,
            recalled: None,
            draft: None,
            keep_entered: false,
            charset: Charset::Utf8,
            tab: None,
            asks: 0,
        }
    }

    /// The completion a Tab asked for, if the last thing typed was a Tab
    /// (server mode). The caller finds candidates and hands them to
    /// [`Editor::complete`] before giving the editor more input.
    pub fn take_completion(&mut self) -> Option<Completion> {
        let Tab::Asked { start } = **self.tab.as_ref()? else {
            return None;
        };
        let end = self.at().byte;
        self.tab = Some(Box::new(Tab::Taken { start }));
        Some(Completion {
            word: self.line[start..end].to_owned(),
            first: start == 0,
        })
    }

    /// The caller's answer to [`Editor::take_completion`]: the first
    /// candidate replaces the word (with `: ` after a nick at the line's
    /// start, a space otherwise), and a further Tab cycles through the
    /// rest. None, or one that would make the line too long: a bell.
    pub fn complete(&mut self, candidates: Vec<String>, out: &mut BytesMut) {
        let Some(Tab::Taken { start }) = self.tab.take().map(|tab| *tab) else {
            return;
        };
        let Some(first) = candidates.first() else {
            out.put_u8(0x07);
            return;
        };
        let end = self.at().byte;
        let word = &self.line[start..end];
        // No second space before one already there (Tab in mid-line).
        let spaced = self.line[end..].starts_with(' ');
        let suffix = match (start == 0 && !word.starts_with('/'), spaced) {
            (true, false) => ": ",
            (true, true) => ":",
            (false, false) => " ",
            (false, true) => "",
        };
        if !self.replace_word(start, &format!("{first}{suffix}"), out) {
            out.put_u8(0x07);
            return;
        }
        if candidates.len() > 1 {
            self.tab = Some(Box::new(Tab::Cycling {
                start,
                candidates,
                next: 1,
                suffix,
            }));
        }
    }

    /// Sets the client's charset. A UTF-8 sequence half read is finished
    /// first, so no byte is lost in the switch.
    pub fn set_charset(&mut self, charset: Charset) {
        if charset != self.charset && self.mode == Mode::Server {
            self.finish_decoder();
        }
        self.charset = charset;
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Switches mode, carrying over a line typed so far.
    pub fn set_mode(&mut self, mode: Mode, out: &mut BytesMut) {
        self.tab = None;
        if mode == self.mode {
            return;
        }
        match mode {
            Mode::Server => {
                let raw = std::mem::take(&mut self.raw);
                self.raw_erasures = 0;
                self.input_server(&raw, out);
            }
            Mode::Client => {
                // The screen as it would be had every edit drawn at once.
                self.flush(out);
                self.finish_decoder();
                self.raw = std::mem::take(&mut self.line).into_bytes();
                self.forget_line();
                self.escape = Escape::None;
            }
        }
        self.mode = mode;
    }

    /// Whether a finished line stays on screen (server mode; see
    /// `keep_entered`).
    pub fn keep_entered_lines(&mut self, keep: bool) {
        self.keep_entered = keep;
    }

    /// The client's window width in columns (from NAWS); 0 is ignored.
    ///
    /// In server mode a half-typed line on screen is lifted (into `out`)
    /// and drawn again at the next flush, laid out for the new width
    /// (rows break at other places, wide characters' pads move), unless
    /// it fits in the first row at both widths, where nothing moved. How
    /// far up the prompt now starts depends on the terminal: one that
    /// reflows (tmux, VTE, kitty, iTerm2, Windows Terminal) joined the
    /// line's rows and wrapped them again at the new width, moving the
    /// cursor with its text, so the prompt is as many rows up as a line
    /// drawn at the new width; one that does not (xterm, PuTTY, the Linux
    /// console) left every row where it was, cut or widened, so the prompt
    /// is as many rows up as before. Going up too far would erase lines of
    /// chat above the prompt; so the lift goes up the fewer of the two.
    /// That is exact on a reflowing terminal when the window widens and
    /// on the other kind when it narrows; otherwise the line's first rows
    /// stay above its new drawing, a stale copy, and nothing else is lost.
    pub fn set_width(&mut self, columns: u16, out: &mut BytesMut) {
        let columns = usize::from(columns);
        if columns == 0 || columns == self.width {
            return;
        }
        let shown = (self.mode == Mode::Server && !self.cleared).then(|| {
            let rows_up = self.row_of(self.cursor_pos(), self.inside.is_none());
            (self.shown_width(), rows_up)
        });
        let old = std::mem::replace(&mut self.width, columns);
        self.measure_prompt();
        let Some((shown, old_rows_up)) = shown else {
            // Not on screen: laid out when it is drawn.
            return;
        };
        if shown < old.min(columns) {
            // Within the first row, short of its end, at either width:
            // no row breaks and no pads, before or after.
            return;
        }
        self.lay_out();
        let new_rows_up = self.row_of(self.cursor_pos(), self.inside.is_none());
        self.cleared = true;
        lift(old_rows_up.min(new_rows_up), out);
    }

    /// Replaces the prompt and shows it. In client mode the prompt is written
    /// once as plain text: the client shows it on its own input line.
    pub fn set_prompt(&mut self, prompt: &str, out: &mut BytesMut) {
        match self.mode {
            Mode::Server => {
                // Drawn at once: the caller may mark the prompt's end (EOR,
                // GA) right after it.
                self.clear_input_area(out);
                self.prompt.clear();
                self.prompt.push_str(prompt);
                self.measure_prompt();
                self.flush(out);
            }
            Mode::Client => {
                self.prompt.clear();
                self.prompt.push_str(prompt);
                self.measure_prompt();
                self.charset.encode(prompt, out);
                self.prompt_open = !prompt.is_empty();
            }
        }
    }

    /// Takes text bytes from the client.
    pub fn input(&mut self, bytes: &[u8], out: &mut BytesMut) {
        match self.mode {
            Mode::Server => self.input_server(bytes, out),
            Mode::Client => {
                let mut room = self.max_line_bytes.saturating_sub(self.raw.len());
                if bytes.len() > room && self.compact_raw() {
                    room = self.max_line_bytes.saturating_sub(self.raw.len());
                }
                if bytes.len() > room {
                    self.truncated = true;
                }
                let taken = &bytes[..bytes.len().min(room)];
                self.raw_erasures += taken.iter().filter(|&&b| is_erasure(b)).count();
                self.raw.extend_from_slice(taken);
            }
        }
    }

    /// Server mode: draws the prompt and the typed text again if an edit
    /// lifted them off the screen. Call once a read's worth of input is
    /// handled, before waiting for more: however many edits it held, the
    /// line is drawn once.
    pub fn flush(&mut self, out: &mut BytesMut) {
        if std::mem::take(&mut self.cleared) {
            self.draw_input_area(out);
        }
    }

    /// The line end arrived: returns the finished line. In server mode the
    /// typed text is taken off the screen (what the room sends back shows it),
    /// and the prompt stays.
    pub fn end_of_line(&mut self, out: &mut BytesMut) -> Line {
        self.tab = None;
        self.asks = 0;
        let text = match self.mode {
            Mode::Server => {
                self.finish_decoder();
                self.escape = Escape::None;
                // A blank line is lifted as usual: nothing to keep in view.
                if self.keep_entered && !self.line.trim().is_empty() {
                    // Shown whole, then left above the next prompt.
                    self.flush(out);
                    if !self.cursor_to_end(out) {
                        out.put_slice(b"\r\n");
                    }
                    self.cleared = true;
                } else {
                    self.clear_input_area(out);
                }
                self.recalled = None;
                self.draft = None;
                let typed = self.take_typed();
                let clean = sanitize::sanitize(&typed.text, &self.limits);
                // Kept as typed (it is cleaned again if sent again).
                let emptied = !typed.text.trim().is_empty() && clean.text.trim().is_empty();
                self.remember(typed);
                let truncated = std::mem::take(&mut self.truncated) || clean.truncated;
                return Line {
                    text: clean.text,
                    truncated,
                    emptied,
                };
            }
            Mode::Client => {
                self.prompt_open = false;
                let raw = std::mem::take(&mut self.raw);
                self.raw_erasures = 0;
                apply_erasures(&self.decode(&raw))
            }
        };
        let clean = sanitize::sanitize(&text, &self.limits);
        let truncated = std::mem::take(&mut self.truncated) || clean.truncated;
        let emptied = !text.trim().is_empty() && clean.text.trim().is_empty();
        Line {
            text: clean.text,
            truncated,
            emptied,
        }
    }

    /// Telnet EC: erase the last character typed.
    pub fn erase_char(&mut self, out: &mut BytesMut) {
        self.tab = None;
        match self.mode {
            Mode::Server => self.erase_grapheme(out),
            // Kept as a DEL, which erases the same grapheme at the line
            // end: decoding the line here would cost its length per EC.
            Mode::Client => self.input(b"\x7f", out),
        }
    }

    /// Telnet EL, IP or BRK, or ^U: throw away the line being typed.
    pub fn erase_line(&mut self, out: &mut BytesMut) {
        self.tab = None;
        match self.mode {
            Mode::Server => {
                self.clear_input_area(out);
                self.line.clear();
                self.forget_line();
                self.decoder = TextDecoder::new();
            }
            Mode::Client => {
                self.raw.clear();
                self.raw_erasures = 0;
            }
        }
    }

    /// ^C or telnet IP: the line is abandoned, visibly, as shells do: `^C`
    /// after it, and the prompt again on a fresh row (server mode).
    pub fn interrupt(&mut self, out: &mut BytesMut) {
        self.tab = None;
        match self.mode {
            Mode::Server => {
                // Drawn first if an edit of this read lifted it.
                self.flush(out);
                self.cursor_to_end(out);
                out.put_slice(b"^C\r\n");
                // The old line stays above; nothing of the input area is on
                // screen now, and the next flush draws the prompt.
                self.cleared = true;
                self.line.clear();
                self.forget_line();
                self.decoder = TextDecoder::new();
                self.recalled = None;
                self.draft = None;
            }
            Mode::Client => self.erase_line(out),
        }
    }

    /// Call before writing output that is not an echo: lifts the prompt and
    /// the half-typed line off the screen (server mode).
    pub fn begin_output(&mut self, out: &mut BytesMut) {
        match self.mode {
            Mode::Server => self.clear_input_area(out),
            Mode::Client => {
                if std::mem::take(&mut self.prompt_open) {
                    out.put_slice(b"\r\n");
                }
            }
        }
    }

    /// Call after such output (which must end with a line end): draws the
    /// prompt and the half-typed line again.
    pub fn end_output(&mut self, out: &mut BytesMut) {
        if self.mode == Mode::Server {
            self.flush(out);
        }
    }

    /// Client mode, `raw` full: applies the erasures in it to make room, if
    /// they are a quarter of it (see `raw_erasures`). Returns whether it
    /// did.
    fn compact_raw(&mut self) -> bool {
        if self.raw_erasures == 0 || self.raw_erasures < self.max_line_bytes / 4 {
            return false;
        }
        let text = apply_erasures(&self.decode(&self.raw));
        self.raw = if self.charset.is_8bit() {
            // Every character here came from one byte, which it names.
            text.chars()
                .map(|c| charset::undecode_8bit(c).unwrap_or(b'?'))
                .collect()
        } else {
            text.into_bytes()
        };
        self.raw_erasures = 0;
        true
    }

    /// A UTF-8 sequence half typed goes into the line as it is (Latin-1),
    /// without an echo.
    fn finish_decoder(&mut self) {
        let mut decoder = std::mem::take(&mut self.decoder);
        decoder.finish(&mut |c| self.append(c));
        self.decoder = decoder;
    }

    /// Keeps a sent line for Up/Down, within `HISTORY_LINES` and
    /// `HISTORY_BYTES`. Blank lines and a repeat of the newest are not kept.
    fn remember(&mut self, line: Recalled) {
        if line.text.trim().is_empty()
            || self
                .history
                .back()
                .is_some_and(|last| last.text == line.text)
            || line.size() > HISTORY_BYTES
        {
            return;
        }
        self.history_bytes += line.size();
        self.history.push_back(line);
        while self.history.len() > HISTORY_LINES || self.history_bytes > HISTORY_BYTES {
            if let Some(old) = self.history.pop_front() {
                self.history_bytes -= old.size();
            }
        }
    }

    /// Up (`older`) or Down: shows the previous or next history line in
    /// place of the typed one, which Down past the newest gives back. The
    /// line is drawn at the next flush; the cost is a copy of it.
    fn recall(&mut self, older: bool, out: &mut BytesMut) {
        let next = match (self.recalled, older) {
            (None, true) => self.history.len().checked_sub(1),
            (None, false) => return,
            (Some(at), true) => at.checked_sub(1),
            (Some(at), false) => Some(at + 1),
        };
        let shown = match next {
            Some(at) if at < self.history.len() => {
                if self.recalled.is_none() {
                    self.draft = Some(self.take_typed());
                }
                self.recalled = Some(at);
                self.history[at].clone()
            }
            // Up at the oldest line: it stays.
            None => return,
            // Down past the newest: the user's own line again.
            Some(_) => {
                self.recalled = None;
                self.draft.take().unwrap_or(Recalled {
                    text: String::new(),
                    clusters: Vec::new(),
                    width: 0,
                })
            }
        };
        self.clear_input_area(out);
        self.finish_decoder();
        self.line = shown.text;
        self.clusters = shown.clusters;
        self.line_width = shown.width;
        // Its pads are counted when it is drawn, at the flush.
        self.pads = 0;
        self.inside = None;
    }

    /// The typed line and its measures, leaving it empty.
    fn take_typed(&mut self) -> Recalled {
        let taken = Recalled {
            text: std::mem::take(&mut self.line),
            clusters: std::mem::take(&mut self.clusters),
            width: self.line_width,
        };
        self.line_width = 0;
        self.pads = 0;
        self.inside = None;
        taken
    }

    /// The line was taken or thrown away: no clusters, no width.
    fn forget_line(&mut self) {
        // Given back rather than cleared: an idle connection keeps none.
        self.clusters = Vec::new();
        self.line_width = 0;
        self.pads = 0;
        self.inside = None;
    }

    /// Bytes the client sent, as text in its charset.
    fn decode(&self, raw: &[u8]) -> String {
        if self.charset.is_8bit() {
            raw.iter().map(|&b| charset::decode_8bit(b)).collect()
        } else {
            sanitize::decode(raw)
        }
    }

    fn input_server(&mut self, bytes: &[u8], out: &mut BytesMut) {
        if self.charset.is_8bit() {
            for &byte in bytes {
                self.typed(charset::decode_8bit(byte), out);
            }
            return;
        }
        let mut decoder = std::mem::take(&mut self.decoder);
        for &byte in bytes {
            decoder.push(byte, &mut |c| self.typed(c, out));
        }
        self.decoder = decoder;
    }

    /// One character typed in server mode.
    fn typed(&mut self, c: char, out: &mut BytesMut) {
        if c != '\t' && self.tab.is_some() {
            self.end_tab(out);
        }
        match self.escape {
            Escape::Start => {
                self.escape = match c {
                    '[' => Escape::Csi(0),
                    'O' => Escape::Ss3,
                    _ => Escape::None,
                };
                return;
            }
            Escape::Csi(param) => {
                // Parameters and intermediates continue the sequence; a final
                // byte (or anything unexpected) ends it.
                match c {
                    '0'..='9' if param & 0x8000 == 0 => {
                        let digit = u16::from(c as u8 - b'0');
                        self.escape = Escape::Csi(param.saturating_mul(10).saturating_add(digit));
                    }
                    // A second parameter (a modifier) ends the first's count.
                    ';' => self.escape = Escape::Csi(param | 0x8000),
                    '\x20'..='\x3f' => {}
                    _ => {
                        self.escape = Escape::None;
                        self.key(c, param & 0x7fff, out);
                    }
                }
                return;
            }
            Escape::Ss3 => {
                self.escape = Escape::None;
                self.key(c, 0, out);
                return;
            }
            Escape::None => {}
        }
        match c {
            '\x08' | '\x7f' => self.erase_grapheme(out),
            '\x15' => self.erase_line(out),
            '\x03' => self.interrupt(out),
            '\x17' => self.erase_word(out),
            // ^L: the screen may be garbled; draw the line again.
            '\x0c' => self.clear_input_area(out),
            '\x1b' => self.escape = Escape::Start,
            '\u{9b}' => self.escape = Escape::Csi(0),
            // ^A and ^E, as in readline.
            '\x01' => self.home(out),
            '\x05' => self.end(out),
            '\t' => self.tab(out),
            c if sanitize::is_forbidden(c) => {}
            c => self.push_char(c, out),
        }
    }

    /// Tab: the next completion of a cycle, or a request for completions
    /// of the word before the cursor (see [`Editor::take_completion`]).
    fn tab(&mut self, out: &mut BytesMut) {
        match self.tab.as_deref_mut() {
            Some(Tab::Cycling {
                start,
                candidates,
                next,
                suffix,
            }) => {
                let start = *start;
                let text = format!("{}{suffix}", candidates[*next]);
                *next = (*next + 1) % candidates.len();
                if !self.replace_word(start, &text, out) {
                    self.tab = None;
                    out.put_u8(0x07);
                }
                return;
            }
            // Two in one read: the first was text (see `Tab::Asked`).
            Some(_) => self.end_tab(out),
            None => {}
        }
        if self.asks >= MAX_COMPLETION_ASKS_PER_LINE {
            out.put_u8(0x07);
            return;
        }
        let end = self.at().byte;
        let mut from = end.saturating_sub(MAX_COMPLETED_WORD_BYTES);
        while !self.line.is_char_boundary(from) {
            from += 1;
        }
        let start = match self.line[from..end].rfind(' ') {
            Some(space) => from + space + 1,
            None if from == 0 => 0,
            // Longer than any nick: nothing to complete.
            None => {
                out.put_u8(0x07);
                return;
            }
        };
        self.asks += 1;
        self.tab = Some(Box::new(Tab::Asked { start }));
    }

    /// Something other than Tab was typed: a Tab not yet taken was text
    /// (a space, as a tab always was), and a cycle ends.
    fn end_tab(&mut self, out: &mut BytesMut) {
        if let Some(Tab::Asked { .. }) = self.tab.take().map(|tab| *tab) {
            self.push_char(' ', out);
        }
    }

    /// Puts `text` in place of the line from byte `start` (a cluster
    /// boundary before the cursor) to the cursor, which goes after it; the
    /// line is drawn again at the flush. Returns false, changing nothing,
    /// if the line would be too long or `start` is inside a cluster (a
    /// word that starts with a combining mark). Costs the word and `text`.
    fn replace_word(&mut self, start: usize, text: &str, out: &mut BytesMut) -> bool {
        let at = self.at();
        if self.line.len() - (at.byte - start) + text.len() > self.max_line_bytes {
            return false;
        }
        let (mut first, mut byte, mut col) = (at.cluster, at.byte, at.col);
        while byte > start {
            first -= 1;
            byte -= usize::from(self.clusters[first].len);
            col -= self.clusters[first].width();
        }
        if byte != start {
            return false;
        }
        self.clear_input_area(out);
        let new: Vec<Cluster> = text.graphemes(true).map(Cluster::of).collect();
        let added: usize = new.iter().map(|c| c.width()).sum();
        let count = new.len();
        self.clusters.splice(first..at.cluster, new);
        self.line.replace_range(start..at.byte, text);
        self.line_width = self.line_width - (at.col - col) + added;
        // Pads as they were: the redraw this causes counts them again.
        let cursor = Inside {
            cluster: first + count,
            byte: start + text.len(),
            col: col + added,
            pads: at.pads,
        };
        self.inside = (cursor.cluster < self.clusters.len()).then_some(cursor);
        self.join_at_cursor();
        true
    }

    /// The final byte of an escape sequence (`ESC [ A`, `ESC O A`) and its
    /// first parameter: the keys the editor knows; any other is swallowed.
    fn key(&mut self, last: char, param: u16, out: &mut BytesMut) {
        match (last, param) {
            ('A', _) => self.recall(true, out),
            ('B', _) => self.recall(false, out),
            ('C', _) => self.right(out),
            ('D', _) => self.left(out),
            ('H', _) | ('~', 1 | 7) => self.home(out),
            ('F', _) | ('~', 4 | 8) => self.end(out),
            ('~', 3) => self.delete_forward(out),
            _ => {}
        }
    }

    /// The cursor as an `Inside`, also at the line end.
    fn at(&self) -> Inside {
        self.inside.unwrap_or(Inside {
            cluster: self.clusters.len(),
            byte: self.line.len(),
            col: self.line_width,
            pads: self.pads,
        })
    }

    /// Left: one cluster back.
    fn left(&mut self, out: &mut BytesMut) {
        let at = self.at();
        let Some(before) = at.cluster.checked_sub(1).map(|i| self.clusters[i]) else {
            return;
        };
        // The cursor stood on the cluster after it, and that one's pad
        // is now after the cursor.
        let leaving = self.clusters.get(at.cluster).map_or(0, |c| c.pad());
        let to = Inside {
            cluster: at.cluster - 1,
            byte: at.byte - usize::from(before.len),
            col: at.col - before.width(),
            // Only off while the line is lifted, when it is counted again.
            pads: at.pads.saturating_sub(leaving),
        };
        self.set_cursor(Some(to), out);
    }

    /// Right: one cluster on.
    fn right(&mut self, out: &mut BytesMut) {
        let Some(at) = self.inside else {
            return;
        };
        let next = self.clusters[at.cluster];
        let to = Inside {
            cluster: at.cluster + 1,
            byte: at.byte + usize::from(next.len),
            col: at.col + next.width(),
            pads: at.pads + self.clusters.get(at.cluster + 1).map_or(0, |c| c.pad()),
        };
        self.set_cursor((to.cluster < self.clusters.len()).then_some(to), out);
    }

    /// Home (or ^A): the line's start.
    fn home(&mut self, out: &mut BytesMut) {
        let to = self.clusters.first().map(|first| Inside {
            cluster: 0,
            byte: 0,
            col: 0,
            pads: first.pad(),
        });
        self.set_cursor(to, out);
    }

    /// End (or ^E): the line's end.
    fn end(&mut self, out: &mut BytesMut) {
        self.set_cursor(None, out);
    }

    /// Moves the cursor, and the terminal's with a few bytes of escapes
    /// (nothing is drawn again), unless the line is off the screen.
    fn set_cursor(&mut self, to: Option<Inside>, out: &mut BytesMut) {
        if self.cleared {
            self.inside = to;
            return;
        }
        let from = self.cursor_pos();
        let target = to.map_or(self.shown_width(), |i| self.prompt_width + i.col + i.pads);
        if to.is_none() && target.is_multiple_of(self.width) && target > 0 {
            // The end of a full row, where a terminal's cursor waits after
            // drawing and no cursor movement can put it: drawn again.
            self.clear_input_area(out);
        } else if target != from {
            let from_row = self.row_of(from, self.inside.is_none());
            self.move_screen_cursor(from_row, target, out);
        }
        self.inside = to;
    }

    /// The terminal cursor's row (from the prompt's first row) when it is
    /// `pos` columns after the prompt's start, and got there by drawing
    /// (`drawn`) or by a move.
    fn row_of(&self, pos: usize, drawn: bool) -> usize {
        if drawn && pos > 0 && pos.is_multiple_of(self.width) {
            // Drawn up to the end of a full row: it waits there.
            pos / self.width - 1
        } else {
            pos / self.width
        }
    }

    /// Columns from the prompt's start to the cursor, on screen.
    fn cursor_pos(&self) -> usize {
        self.inside
            .map_or(self.shown_width(), |i| self.prompt_width + i.col + i.pads)
    }

    /// Writes the moves that take the terminal's cursor from row
    /// `from_row` to `to` (columns after the prompt's start; never the
    /// waiting end of a full row).
    fn move_screen_cursor(&self, from_row: usize, to: usize, out: &mut BytesMut) {
        let to_row = to / self.width;
        out.put_u8(b'\r');
        if from_row > to_row {
            out.put_slice(format!("\x1b[{}A", from_row - to_row).as_bytes());
        } else if to_row > from_row {
            out.put_slice(format!("\x1b[{}B", to_row - from_row).as_bytes());
        }
        let column = to % self.width;
        if column > 0 {
            out.put_slice(format!("\x1b[{column}C").as_bytes());
        }
    }

    /// Moves the terminal's cursor after the line's end, so that what is
    /// written next follows it; returns whether it is already on a fresh
    /// row (the line fills its last row).
    fn cursor_to_end(&mut self, out: &mut BytesMut) -> bool {
        let Some(at) = self.inside.take() else {
            return false;
        };
        let from_row = (self.prompt_width + at.col + at.pads) / self.width;
        let end = self.shown_width();
        if end > 0 && end.is_multiple_of(self.width) {
            self.move_screen_cursor(from_row, end - self.width, out);
            out.put_slice(b"\r\n");
            true
        } else {
            self.move_screen_cursor(from_row, end, out);
            false
        }
    }

    /// Typing with the cursor inside the line: `c` goes in at the cursor
    /// (the line is drawn again at the flush).
    fn insert_inside(&mut self, mut at: Inside, c: char) {
        self.line.insert(at.byte, c);
        let added = c.len_utf8();
        let joined = at.cluster.checked_sub(1).and_then(|i| {
            let before = self.clusters[i];
            let start = at.byte - usize::from(before.len);
            let text = &self.line[start..at.byte + added];
            let mut cursor = GraphemeCursor::new(usize::from(before.len), text.len(), true);
            (usize::from(before.len) < MAX_CLUSTER_BYTES
                && cursor.is_boundary(text, 0) == Ok(false))
            .then(|| (i, before, Cluster::of(text)))
        });
        if let Some((i, before, whole)) = joined {
            self.clusters[i] = whole;
            self.line_width = self.line_width - before.width() + whole.width();
            at.col = at.col - before.width() + whole.width();
        } else {
            let new = Cluster::of(&self.line[at.byte..at.byte + added]);
            self.clusters.insert(at.cluster, new);
            self.line_width += new.width();
            at.cluster += 1;
            at.col += new.width();
        }
        at.byte += added;
        self.inside = Some(at);
        self.join_at_cursor();
    }

    /// After an edit inside the line: if the clusters either side of the
    /// cursor now make one grapheme (a base typed before a combining mark,
    /// an erase between two halves of a flag), they become one, and the
    /// cursor goes after it. Costs the two clusters.
    fn join_at_cursor(&mut self) {
        let Some(mut at) = self.inside else {
            return;
        };
        if at.cluster == 0 || at.cluster >= self.clusters.len() {
            return;
        }
        let (before, after) = (self.clusters[at.cluster - 1], self.clusters[at.cluster]);
        let start = at.byte - usize::from(before.len);
        let text = &self.line[start..at.byte + usize::from(after.len)];
        let mut cursor = GraphemeCursor::new(usize::from(before.len), text.len(), true);
        if usize::from(before.len) >= MAX_CLUSTER_BYTES || cursor.is_boundary(text, 0) != Ok(false)
        {
            return;
        }
        let whole = Cluster::of(text);
        self.clusters[at.cluster - 1] = whole;
        self.clusters.remove(at.cluster);
        self.line_width = self.line_width + whole.width() - before.width() - after.width();
        at.byte += usize::from(after.len);
        at.col = at.col + whole.width() - before.width();
        self.inside = (at.cluster < self.clusters.len()).then_some(at);
    }

    /// Backspace with the cursor inside the line.
    fn backspace_inside(&mut self, at: Inside, out: &mut BytesMut) {
        let Some(i) = at.cluster.checked_sub(1) else {
            return;
        };
        self.clear_input_area(out);
        let gone = self.clusters.remove(i);
        let start = at.byte - usize::from(gone.len);
        self.line.replace_range(start..at.byte, "");
        self.line_width -= gone.width();
        self.inside = Some(Inside {
            cluster: i,
            byte: start,
            col: at.col - gone.width(),
            pads: at.pads,
        });
        self.join_at_cursor();
    }

    /// Delete: erases the cluster under the cursor.
    fn delete_forward(&mut self, out: &mut BytesMut) {
        let Some(at) = self.inside else {
            return;
        };
        self.clear_input_area(out);
        let gone = self.clusters.remove(at.cluster);
        self.line
            .replace_range(at.byte..at.byte + usize::from(gone.len), "");
        self.line_width -= gone.width();
        if at.cluster == self.clusters.len() {
            self.inside = None;
        } else {
            self.join_at_cursor();
        }
    }

    /// ^W with the cursor inside the line: the word before it.
    fn erase_word_inside(&mut self, at: Inside, out: &mut BytesMut) {
        let before = &self.line[..at.byte];
        let trimmed = before.trim_end_matches(' ').len();
        let keep = before[..trimmed].rfind(' ').map_or(0, |space| space + 1);
        if keep == at.byte {
            return;
        }
        self.clear_input_area(out);
        let (mut first, mut start, mut col) = (at.cluster, at.byte, at.col);
        while first > 0 && start - usize::from(self.clusters[first - 1].len) >= keep {
            first -= 1;
            let gone = self.clusters[first];
            start -= usize::from(gone.len);
            col -= gone.width();
            self.line_width -= gone.width();
        }
        self.clusters.drain(first..at.cluster);
        self.line.replace_range(keep..at.byte, "");
        if start > keep {
            // A space that a combining mark joined: the cluster loses the mark.
            let cut_from = self.clusters[first - 1];
            let from = start - usize::from(cut_from.len);
            let cut = Cluster::of(&self.line[from..keep]);
            self.clusters[first - 1] = cut;
            self.line_width = self.line_width - cut_from.width() + cut.width();
            col = col - cut_from.width() + cut.width();
        }
        self.inside = Some(Inside {
            cluster: first,
            byte: keep,
            col,
            pads: at.pads,
        });
        self.join_at_cursor();
    }

    fn push_char(&mut self, c: char, out: &mut BytesMut) {
        if self.line.len() + c.len_utf8() > self.max_line_bytes {
            self.truncated = true;
            out.put_u8(0x07); // BEL: the terminal's way to say "no more".
            return;
        }
        if is_combining_mark(c) && self.trailing_marks() >= self.limits.max_marks_per_grapheme {
            return;
        }
        if let Some(at) = self.inside {
            self.clear_input_area(out);
            self.insert_inside(at, c);
            return;
        }
        self.append(c);
        if !self.cleared {
            self.charset.encode_char(c, out);
        }
    }

    /// Adds `c` to the line and to its last cluster, or as a new one (at
    /// the cursor, if it is inside the line).
    fn append(&mut self, c: char) {
        if let Some(at) = self.inside {
            self.insert_inside(at, c);
            return;
        }
        // Where the line ends on screen: whether a wide cluster there
        // has a pad is known at once (exact while the line is shown).
        let end = self.shown_width();
        let at = self.line.len();
        self.line.push(c);
        if let Some(last) = self.clusters.last_mut()
            && usize::from(last.len) < MAX_CLUSTER_BYTES
        {
            // The cluster so far, as a text of its own, is all the context
            // the segmentation rules look at (regional indicator pairs,
            // emoji ZWJ sequences, conjuncts and jamo all lie within it).
            let start = at - usize::from(last.len);
            let text = &self.line[start..];
            let mut cursor = GraphemeCursor::new(usize::from(last.len), text.len(), true);
            if cursor.is_boundary(text, 0) == Ok(false) {
                let joined = Cluster::of(text);
                // Its width may change, and with it its pad: counted from
                // where it starts, as a redraw would.
                let from = end.saturating_sub(last.width() + last.pad());
                let pad = pads_at(from, joined.width(), self.width);
                self.pads = self.pads.saturating_sub(last.pad()) + usize::from(pad);
                self.line_width = self.line_width - last.width() + joined.width();
                *last = joined.padded(pad);
                return;
            }
        }
        let cluster = Cluster::of(&self.line[at..]);
        let pad = pads_at(end, cluster.width(), self.width);
        self.pads += usize::from(pad);
        self.line_width += cluster.width();
        self.clusters.push(cluster.padded(pad));
    }

    /// Combining marks at the end of the line, i.e. on the last grapheme
    /// (they never run longer than the limit, which bounds the count).
    fn trailing_marks(&self) -> usize {
        self.line[..self.at().byte]
            .chars()
            .rev()
            .take(self.limits.max_marks_per_grapheme + 1)
            .take_while(|&c| is_combining_mark(c))
            .count()
    }

    fn erase_grapheme(&mut self, out: &mut BytesMut) {
        if let Some(at) = self.inside {
            self.backspace_inside(at, out);
            return;
        }
        let Some(last) = self.clusters.pop() else {
            return;
        };
        let columns = last.width();
        let cursor = self.shown_width();
        if columns > 0 && cursor % self.width <= columns {
            // The erase would cross a row boundary, which backspace cannot do
            // on most terminals, or land exactly on a row start, where the
            // cursor would sit at column 0 of the lower row while a full row
            // leaves it pending at the end of the upper one: draw the line
            // again so the screen and the width model agree. A wide
            // cluster with a pad starts a row, so it always lands here.
            self.clear_input_area(out);
        }
        self.line.truncate(self.line.len() - usize::from(last.len));
        self.line_width -= columns;
        self.pads = self.pads.saturating_sub(last.pad());
        if self.cleared {
            return;
        }
        for _ in 0..columns {
            out.put_u8(0x08);
        }
        for _ in 0..columns {
            out.put_u8(b' ');
        }
        for _ in 0..columns {
            out.put_u8(0x08);
        }
    }

    /// ^W: erase back to the start of the previous word. What it scans is
    /// what it erases.
    fn erase_word(&mut self, out: &mut BytesMut) {
        if let Some(at) = self.inside {
            self.erase_word_inside(at, out);
            return;
        }
        let trimmed = self.line.trim_end_matches(' ').len();
        let keep = self.line[..trimmed]
            .rfind(' ')
            .map(|space| space + 1)
            .unwrap_or(0);
        if keep == self.line.len() {
            return;
        }
        self.clear_input_area(out);
        let mut end = self.line.len();
        while let Some(last) = self
            .clusters
            .pop_if(|last| end - usize::from(last.len) >= keep)
        {
            self.line_width -= last.width();
            end -= usize::from(last.len);
        }
        self.line.truncate(keep);
        // A space that a combining mark joined: the cluster loses the mark.
        if let Some(last) = self.clusters.last_mut()
            && end > keep
        {
            let start = end - usize::from(last.len);
            let cut = Cluster::of(&self.line[start..]);
            self.line_width = self.line_width - last.width() + cut.width();
            *last = cut;
        }
    }

    /// Columns taken on screen by the prompt and the typed text, pads
    /// included.
    fn shown_width(&self) -> usize {
        self.prompt_width + self.line_width + self.pads
    }

    /// Moves to the start of the prompt and erases to the end of the
    /// screen, unless that was done and nothing drawn since; the next
    /// `flush` draws them again.
    fn clear_input_area(&mut self, out: &mut BytesMut) {
        if std::mem::replace(&mut self.cleared, true) {
            return;
        }
        let shown = self.shown_width();
        if shown == 0 {
            return;
        }
        lift(self.row_of(self.cursor_pos(), self.inside.is_none()), out);
    }

    /// Where the line's rows break (its clusters' pads, see [`PAD`]) for
    /// the prompt and window width as they are now, and the cursor's
    /// count of them. Costs the line's length: done where the line is
    /// drawn whole anyway (once a flush), or the window width changed.
    fn lay_out(&mut self) {
        let mut pos = self.prompt_width;
        let mut pads = 0;
        let mut cursor_pads = 0;
        let cursor = self.inside.map(|at| at.cluster);
        for (i, cluster) in self.clusters.iter_mut().enumerate() {
            let pad = pads_at(pos, cluster.width(), self.width);
            *cluster = cluster.padded(pad);
            pads += usize::from(pad);
            pos += usize::from(pad) + cluster.width();
            if Some(i) == cursor {
                cursor_pads = pads;
            }
        }
        self.pads = pads;
        if let Some(at) = &mut self.inside {
            at.pads = cursor_pads;
        }
    }

    /// The prompt's columns on screen at the window width, by the same
    /// rule as the line's (a wide character does not start in the last
    /// column).
    fn measure_prompt(&mut self) {
        let mut pos = 0;
        for grapheme in self.prompt.graphemes(true) {
            let width = grapheme.width();
            pos += usize::from(pads_at(pos, width, self.width)) + width;
        }
        self.prompt_width = pos;
    }

    fn draw_input_area(&mut self, out: &mut BytesMut) {
        self.lay_out();
        self.charset.encode(&self.prompt, out);
        self.charset.encode(&self.line, out);
        if self.inside.is_some() {
            let end_row = self.row_of(self.shown_width(), true);
            self.move_screen_cursor(end_row, self.cursor_pos(), out);
        }
    }
}

/// Takes the terminal's cursor `rows_up` rows up to the start of a row and
/// erases from there to the end of the screen.
fn lift(rows_up: usize, out: &mut BytesMut) {
    out.put_u8(b'\r');
    if rows_up > 0 {
        out.put_slice(format!("\x1b[{rows_up}A").as_bytes());
    }
    out.put_slice(b"\x1b[J");
}

/// BS or DEL: an erasure in a line the client sends whole.
fn is_erasure(byte: u8) -> bool {
    byte == 0x08 || byte == 0x7f
}

/// Removes the last grapheme cluster of `text`.
fn pop_grapheme(text: &mut String) {
    if let Some((start, _)) = text.grapheme_indices(true).next_back() {
        text.truncate(start);
    }
}

/// Applies the BS and DEL characters found in a line sent whole by the client:
/// each erases the grapheme cluster before it.
fn apply_erasures(text: &str) -> String {
    if !text.contains(['\x08', '\x7f']) {
        return text.to_owned();
    }
    let mut result = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\x08' || c == '\x7f' {
            pop_grapheme(&mut result);
        } else {
            result.push(c);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        limits_of(100)
    }

    fn limits_of(max_chars: usize) -> Limits {
        Limits {
            max_chars,
            max_marks_per_grapheme: 4,
        }
    }

    /// Feeds `chunks` in server mode; returns the lines and the screen bytes.
    fn server(chunks: &[&[u8]]) -> (Vec<String>, String) {
        let mut editor = Editor::new(Mode::Server, limits());
        let mut out = BytesMut::new();
        let mut lines = Vec::new();
        for chunk in chunks {
            if *chunk == b"\n" {
                lines.push(editor.end_of_line(&mut out).text);
            } else {
                editor.input(chunk, &mut out);
            }
            // As the session does after each read.
            editor.flush(&mut out);
        }
        (lines, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn typed_text_is_echoed_once_and_backspace_erases_on_screen() {
        let (lines, screen) = server(&[b"helx", b"\x7f", b"lo", b"\n"]);
        assert_eq!(lines, ["hello"]);
        assert!(screen.starts_with("helx\x08 \x08lo"), "{screen:?}");
    }

    #[test]
    fn backspace_erases_a_whole_grapheme_and_both_columns_of_a_wide_one() {
        let (lines, screen) = server(&[
            "a你".as_bytes(),
            b"\x08",
            "e\u{301}".as_bytes(),
            b"\x7f",
            b"\n",
        ]);
        assert_eq!(lines, ["a"]);
        assert!(screen.contains("\x08\x08  \x08\x08"), "{screen:?}");
    }

    #[test]
    fn a_utf8_character_split_across_reads_is_echoed_whole() {
        let (lines, screen) = server(&[b"\xe4", b"\xbd", b"\xa0", b"\n"]);
        assert_eq!(lines, ["你"]);
        assert!(screen.starts_with("你"));
    }

    #[test]
    fn arrow_keys_and_other_escapes_are_swallowed() {
        let (lines, screen) = server(&[b"a\x1b[A\x1b[1;5Cb\x1bOBc", b"\n"]);
        assert_eq!(lines, ["abc"]);
        assert!(!screen.contains('\x1b') || screen.contains("\x1b[J"));
    }

    #[test]
    fn ctrl_u_clears_and_ctrl_w_erases_a_word() {
        assert_eq!(server(&[b"abc\x15xy", b"\n"]).0, ["xy"]);
        assert_eq!(server(&[b"one two  \x17three", b"\n"]).0, ["one three"]);
    }

    #[test]
    fn output_during_typing_redraws_prompt_and_half_typed_line() {
        let mut editor = Editor::new(Mode::Server, limits());
        let mut out = BytesMut::new();
        editor.set_prompt("> ", &mut out);
        editor.input(b"half", &mut out);
        out.clear();
        editor.begin_output(&mut out);
        out.put_slice(b"bob: hi\r\n");
        editor.end_output(&mut out);
        assert_eq!(&out[..], b"\r\x1b[Jbob: hi\r\n> half");
    }

    #[test]
    fn a_wrapped_line_is_cleared_from_its_first_row() {
        let mut editor = Editor::new(Mode::Server, limits());
        editor.set_width(10, &mut BytesMut::new());
        let mut out = BytesMut::new();
        editor.input(b"0123456789abcde", &mut out);
        out.clear();
        editor.begin_output(&mut out);
        assert_eq!(&out[..], b"\r\x1b[1A\x1b[J");
    }

    #[test]
    fn backspacing_onto_a_row_start_redraws_from_the_first_row() {
        let mut editor = Editor::new(Mode::Server, limits());
        editor.set_width(10, &mut BytesMut::new());
        let mut out = BytesMut::new();
        editor.input(b"0123456789a", &mut out);
        out.clear();
        // 11 columns: the cursor is on the second row; erasing the 'a' would
        // leave it at column 0 there, so the line is drawn again instead.
        editor.input(b"\x7f", &mut out);
        editor.flush(&mut out);
        assert_eq!(&out[..], b"\r\x1b[1A\x1b[J0123456789");
        out.clear();
        // 10 columns exactly fill the first row: the next erase starts there.
        editor.input(b"\x7f", &mut out);
        editor.flush(&mut out);
        assert_eq!(&out[..], b"\r\x1b[J012345678");
    }

    /// A server-mode editor with the prompt "> ", and the screen cleared.
    fn prompted(width: u16) -> (Editor, BytesMut) {
        prompted_with(width, "> ")
    }

    /// A server-mode editor `width` columns wide showing `prompt`, and the
    /// screen cleared.
    fn prompted_with(width: u16, prompt: &str) -> (Editor, BytesMut) {
        let mut editor = Editor::new(Mode::Server, limits());
        let mut out = BytesMut::new();
        editor.set_width(width, &mut out);
        editor.set_prompt(prompt, &mut out);
        out.clear();
        (editor, out)
    }

    /// Types `bytes` as one read, as the session does (input, then flush);
    /// returns what the screen was sent.
    fn read(editor: &mut Editor, bytes: &[u8]) -> String {
        let mut out = BytesMut::new();
        for piece in bytes.split_inclusive(|&b| b == b'\n') {
            match piece.split_last() {
                Some((b'\n', text)) => {
                    editor.input(text, &mut out);
                    editor.end_of_line(&mut out);
                }
                _ => editor.input(piece, &mut out),
            }
        }
        editor.flush(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn ctrl_c_leaves_the_line_visibly_abandoned_and_a_fresh_prompt_under_it() {
        let (mut editor, _) = prompted(80);
        assert_eq!(read(&mut editor, b"half"), "half");
        assert_eq!(read(&mut editor, b"\x03"), "^C\r\n> ");
        assert_eq!(read(&mut editor, b"ok"), "ok");
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "ok");
    }

    #[test]
    fn ctrl_c_after_a_redraw_in_the_same_read_shows_the_line_first() {
        let (mut editor, _) = prompted(80);
        read(&mut editor, b"ab");
        assert_eq!(read(&mut editor, b"\x0cc\x03"), "\r\x1b[J> abc^C\r\n> ");
    }

    #[test]
    fn telnet_ip_is_ctrl_c_in_server_mode_and_clears_the_line_in_client_mode() {
        let (mut editor, mut out) = prompted(80);
        editor.input(b"abc", &mut out);
        out.clear();
        editor.interrupt(&mut out);
        editor.flush(&mut out);
        assert_eq!(&out[..], b"^C\r\n> ");
        let mut editor = Editor::new(Mode::Client, limits());
        editor.input(b"abc", &mut out);
        out.clear();
        editor.interrupt(&mut out);
        editor.input(b"d", &mut out);
        assert!(out.is_empty());
        assert_eq!(editor.end_of_line(&mut out).text, "d");
    }

    #[test]
    fn ctrl_l_draws_the_prompt_and_the_line_again() {
        let (mut editor, _) = prompted(10);
        read(&mut editor, "ab你好cdef".as_bytes());
        // 12 columns on a 10-column screen: up one row, clear, draw.
        assert_eq!(read(&mut editor, b"\x0c"), "\r\x1b[1A\x1b[J> ab你好cdef");
    }

    #[test]
    fn a_kept_line_stays_on_screen_with_what_follows_under_it() {
        let (mut editor, _) = prompted(80);
        editor.keep_entered_lines(true);
        assert_eq!(read(&mut editor, b"bad name\n"), "bad name\r\n> ");
        // Output under it lifts only the new prompt.
        let mut out = BytesMut::new();
        editor.begin_output(&mut out);
        out.put_slice(b"*** no spaces\r\n");
        editor.end_output(&mut out);
        assert_eq!(&out[..], b"\r\x1b[J*** no spaces\r\n> ");
    }

    #[test]
    fn a_kept_line_that_an_edit_lifted_is_drawn_before_the_line_end() {
        let (mut editor, _) = prompted(80);
        editor.keep_entered_lines(true);
        assert_eq!(read(&mut editor, b"ab\x0c\n"), "ab\r\x1b[J> ab\r\n> ");
    }

    #[test]
    fn up_and_down_walk_the_history_and_down_gives_back_the_draft() {
        let (mut editor, _) = prompted(80);
        read(&mut editor, b"one\ntwo\ndr");
        assert_eq!(read(&mut editor, b"\x1b[A"), "\r\x1b[J> two");
        assert_eq!(read(&mut editor, b"\x1bOA"), "\r\x1b[J> one");
        // At the oldest line Up changes nothing.
        assert_eq!(read(&mut editor, b"\x1b[A"), "");
        assert_eq!(read(&mut editor, b"\x1b[B"), "\r\x1b[J> two");
        assert_eq!(read(&mut editor, b"\x1bOB"), "\r\x1b[J> dr");
        // Down below the draft changes nothing.
        assert_eq!(read(&mut editor, b"\x1b[B"), "");
        let mut out = BytesMut::new();
        assert_eq!(editor.end_of_line(&mut out).text, "dr");
    }

    #[test]
    fn a_recalled_line_can_be_edited_and_sent_and_is_kept_again() {
        let (mut editor, _) = prompted(80);
        read(&mut editor, "hi 你好\n".as_bytes());
        assert_eq!(read(&mut editor, b"\x1b[A\x7f"), "\r\x1b[J> hi 你");
        assert_eq!(read(&mut editor, b"!"), "!");
        let mut out = BytesMut::new();
        assert_eq!(editor.end_of_line(&mut out).text, "hi 你!");
        editor.flush(&mut out);
        assert_eq!(read(&mut editor, b"\x1b[A"), "\r\x1b[J> hi 你!");
        assert_eq!(read(&mut editor, b"\x1b[A"), "\r\x1b[J> hi 你好");
    }

    #[test]
    fn recalling_over_a_wrapped_line_clears_every_row_of_it() {
        let (mut editor, _) = prompted(10);
        read(&mut editor, "你好你好你好\nab\n".as_bytes());
        // "> " and 12 columns of wide characters: two rows.
        assert_eq!(read(&mut editor, b"\x1b[A\x1b[A"), "\r\x1b[J> 你好你好你好");
        assert_eq!(read(&mut editor, b"\x1b[B"), "\r\x1b[1A\x1b[J> ab");
    }

    #[test]
    fn many_recalls_in_one_read_draw_the_line_once() {
        let (mut editor, _) = prompted(80);
        read(&mut editor, b"one\ntwo\n");
        // Back to the (empty) draft: the prompt once.
        assert_eq!(
            read(&mut editor, &b"\x1b[A\x1b[B".repeat(1000)),
            "\r\x1b[J> "
        );
        assert_eq!(read(&mut editor, &b"\x1b[A".repeat(1000)), "\r\x1b[J> one");
    }

    #[test]
    fn history_keeps_the_last_fifty_lines_and_no_blank_or_repeated_ones() {
        let (mut editor, _) = prompted(80);
        for n in 0..60 {
            read(&mut editor, format!("line {n}\nline {n}\n \n\n").as_bytes());
        }
        assert_eq!(editor.history.len(), HISTORY_LINES);
        assert_eq!(editor.history[0].text, "line 10");
        read(&mut editor, &b"\x1b[A".repeat(60));
        assert_eq!(editor.line, "line 10");
    }

    #[test]
    fn history_is_bounded_in_bytes() {
        let mut editor = Editor::new(Mode::Server, limits_of(1000));
        let mut out = BytesMut::new();
        for n in 0..20 {
            editor.input(format!("{n:03}{}", "你".repeat(900)).as_bytes(), &mut out);
            editor.end_of_line(&mut out);
        }
        assert!(editor.history_bytes <= HISTORY_BYTES);
        let sizes: usize = editor.history.iter().map(Recalled::size).sum();
        assert_eq!(sizes, editor.history_bytes);
        assert_eq!(editor.history.len(), HISTORY_BYTES / (3 + 2700 + 2 * 903));
    }

    #[test]
    fn client_mode_keeps_no_history_and_passes_arrow_keys_to_the_sanitizer() {
        let mut editor = Editor::new(Mode::Client, limits());
        let mut out = BytesMut::new();
        editor.input(b"one", &mut out);
        editor.end_of_line(&mut out);
        editor.input(b"\x1b[A", &mut out);
        assert!(out.is_empty());
        assert_eq!(editor.end_of_line(&mut out).text, "");
        assert!(editor.history.is_empty());
    }

    #[test]
    fn client_mode_echoes_nothing_and_applies_erasures() {
        let mut editor = Editor::new(Mode::Client, limits());
        let mut out = BytesMut::new();
        editor.input(b"helx\x7flo", &mut out);
        assert!(out.is_empty());
        assert_eq!(editor.end_of_line(&mut out).text, "hello");
    }

    #[test]
    fn client_mode_decodes_latin1_and_strips_escapes() {
        let mut editor = Editor::new(Mode::Client, limits());
        let mut out = BytesMut::new();
        editor.input(b"caf\xe9 \x1b[31mred", &mut out);
        assert_eq!(editor.end_of_line(&mut out).text, "café red");
    }

    #[test]
    fn a_line_past_the_cap_is_cut_and_flagged_in_both_modes() {
        for mode in [Mode::Client, Mode::Server] {
            let mut editor = Editor::new(mode, limits());
            let mut out = BytesMut::new();
            editor.input(&[b'x'; 1000], &mut out);
            let line = editor.end_of_line(&mut out);
            assert!(line.truncated);
            assert_eq!(line.text.len(), 100);
        }
    }

    #[test]
    fn client_mode_output_after_an_unanswered_prompt_starts_a_new_line() {
        let mut editor = Editor::new(Mode::Client, limits());
        let mut out = BytesMut::new();
        editor.set_prompt("Nickname: ", &mut out);
        editor.begin_output(&mut out);
        assert_eq!(&out[..], b"Nickname: \r\n");
        out.clear();
        editor.set_prompt("Nickname: ", &mut out);
        editor.input(b"ann", &mut out);
        editor.end_of_line(&mut out);
        out.clear();
        editor.begin_output(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn switching_to_server_mode_keeps_what_was_typed() {
        let mut editor = Editor::new(Mode::Client, limits());
        let mut out = BytesMut::new();
        editor.input(b"ab", &mut out);
        editor.set_mode(Mode::Server, &mut out);
        editor.input(b"c", &mut out);
        assert_eq!(editor.end_of_line(&mut out).text, "abc");
    }

    /// A terminal, as far as the editor drives one (xterm's and tmux's
    /// behaviour, checked against tmux 3): characters by display width; a
    /// full row leaves the cursor waiting at its last column, and the next
    /// character wraps; a wide character that would start in the last
    /// column leaves that cell as it was (tmux does not blank it, so a
    /// stale character there would show) and goes to the start of the next
    /// row; overwriting half of a wide character blanks its other half;
    /// CR, LF, BS, `ESC [ n A/B/C`, `ESC [ J`. A resize either reflows the
    /// rows that wrapped (tmux, VTE) or cuts every row (xterm).
    struct Terminal {
        width: usize,
        /// Cells: `None` never written or erased; a wide character's
        /// second cell holds an empty string.
        rows: Vec<Vec<Option<String>>>,
        /// Per row: it wrapped onto the next one after this many cells (a
        /// wide character's early wrap leaves the last one out), as tmux
        /// records for reflowing.
        wraps: Vec<Option<usize>>,
        row: usize,
        col: usize,
        /// At the last column of a full row: the next character wraps.
        waiting: bool,
        /// Where the last character with a width was put.
        placed: (usize, usize),
    }

    impl Terminal {
        fn new(width: usize) -> Terminal {
            Terminal {
                width,
                rows: vec![vec![None; width]],
                wraps: vec![None],
                row: 0,
                col: 0,
                waiting: false,
                placed: (0, 0),
            }
        }

        fn cell(&mut self, row: usize, col: usize) -> &mut Option<String> {
            while self.rows.len() <= row {
                self.rows.push(vec![None; self.width]);
                self.wraps.push(None);
            }
            &mut self.rows[row][col]
        }

        fn feed(&mut self, bytes: &[u8]) {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let mut chars = text.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\r' => (self.col, self.waiting) = (0, false),
                    '\n' => {
                        // An explicit line feed: the row did not wrap.
                        self.cell(self.row, 0);
                        self.wraps[self.row] = None;
                        (self.row, self.waiting) = (self.row + 1, false);
                    }
                    '\x08' => (self.col, self.waiting) = (self.col.saturating_sub(1), false),
                    '\x07' => {}
                    '\x1b' => {
                        assert_eq!(chars.next(), Some('['));
                        let mut n = String::new();
                        while let Some(d) = chars.next_if(char::is_ascii_digit) {
                            n.push(d);
                        }
                        let n: usize = n.parse().unwrap_or(1);
                        self.waiting = false;
                        match chars.next() {
                            Some('A') => self.row = self.row.saturating_sub(n),
                            Some('B') => self.row += n,
                            Some('C') => self.col = (self.col + n).min(self.width - 1),
                            Some('J') => {
                                for col in self.col..self.width {
                                    *self.cell(self.row, col) = None;
                                }
                                self.rows.truncate(self.row + 1);
                                self.wraps.truncate(self.row + 1);
                                // tmux: the row no longer runs on, and
                                // erasing a whole row ends the one above's
                                // wrap into it too.
                                self.wraps[self.row] = None;
                                if self.col == 0 && self.row > 0 {
                                    self.wraps[self.row - 1] = None;
                                }
                            }
                            other => panic!("unexpected escape {other:?}"),
                        }
                    }
                    c => self.print(c),
                }
            }
        }

        fn print(&mut self, c: char) {
            let width = c.to_string().width();
            if width == 0 {
                // Joins the character before the cursor.
                let (row, col) = if self.waiting || self.col == 0 {
                    (self.row, self.col)
                } else {
                    (self.row, self.col - 1)
                };
                let (row, col) = match self.cell(row, col) {
                    Some(s) if s.is_empty() && col > 0 => (row, col - 1),
                    _ => (row, col),
                };
                self.cell(row, col).get_or_insert_default().push(c);
                return;
            }
            if self.waiting || self.col + width > self.width {
                let used = if self.waiting { self.width } else { self.col };
                self.cell(self.row, 0);
                self.wraps[self.row] = Some(used);
                (self.row, self.col, self.waiting) = (self.row + 1, 0, false);
            }
            let (row, col) = (self.row, self.col);
            // Half of a wide character overwritten: the other half blanks.
            if col > 0 && self.cell(row, col).as_deref() == Some("") {
                *self.cell(row, col - 1) = Some(" ".into());
            }
            if col + width < self.width && self.cell(row, col + width).as_deref() == Some("") {
                *self.cell(row, col + width) = Some(" ".into());
            }
            *self.cell(row, col) = Some(c.to_string());
            if width == 2 {
                *self.cell(row, col + 1) = Some(String::new());
            }
            self.placed = (row, col);
            if col + width >= self.width {
                (self.col, self.waiting) = (self.width - 1, true);
            } else {
                self.col += width;
            }
        }

        /// The text from `row` down, rows joined, unwritten cells left out.
        fn text_from(&self, row: usize) -> String {
            self.rows[row.min(self.rows.len())..]
                .iter()
                .flatten()
                .flatten()
                .map(String::as_str)
                .collect()
        }

        /// The rows from `row` down as they look: a blank for an erased
        /// or unwritten cell as for a space, blanks at a row's end and
        /// blank rows at the end left out.
        fn looks_from(&self, row: usize) -> Vec<String> {
            let mut looks: Vec<String> = self.rows[row.min(self.rows.len())..]
                .iter()
                .map(|cells| {
                    let text: String = cells
                        .iter()
                        .map(|cell| cell.as_deref().unwrap_or(" "))
                        .collect();
                    text.trim_end().to_owned()
                })
                .collect();
            while looks.last().is_some_and(String::is_empty) {
                looks.pop();
            }
            looks
        }

        /// The last row that starts with `>`: where the prompt is (typed
        /// text in these tests never holds a `>`).
        fn prompt_row(&self) -> Option<usize> {
            self.rows
                .iter()
                .rposition(|cells| cells[0].as_deref() == Some(">"))
        }

        /// The window became `width` columns wide. Reflowing (tmux, VTE,
        /// kitty): the rows that wrapped are joined into their lines again
        /// (less a wide character's blank cell) and wrapped at the new
        /// width, the cursor kept at its place in the text. Not reflowing
        /// (xterm, PuTTY): every row is cut or widened where it is, the
        /// cursor kept on its row.
        fn resize(&mut self, width: usize, reflow: bool) {
            if width == self.width {
                // The height changed, which these tests leave out.
                return;
            }
            let height = self.rows.len().max(self.row + 1);
            self.cell(height - 1, 0);
            if !reflow {
                for cells in &mut self.rows {
                    // A wide character cut in half goes.
                    if width < cells.len() && cells[width].as_deref() == Some("") {
                        cells[width - 1] = None;
                    }
                    cells.resize(width, None);
                }
                self.wraps.iter_mut().for_each(|wrap| *wrap = None);
                (self.width, self.col, self.waiting) = (width, self.col.min(width - 1), false);
                return;
            }
            // The lines as the text was written, and where the cursor is
            // in the one it is in.
            let mut lines: Vec<(Vec<Option<String>>, Option<usize>)> = Vec::new();
            let mut cells = Vec::new();
            let mut cursor = None;
            for row in 0..height {
                let used = self.wraps[row].unwrap_or_else(|| {
                    self.rows[row]
                        .iter()
                        .rposition(Option::is_some)
                        .map_or(0, |last| last + 1)
                });
                if row == self.row {
                    cursor = Some(cells.len() + self.col + usize::from(self.waiting));
                }
                cells.extend(self.rows[row][..used].iter().cloned());
                if self.wraps[row].is_none() {
                    lines.push((std::mem::take(&mut cells), cursor.take()));
                }
            }
            if !cells.is_empty() || cursor.is_some() {
                lines.push((cells, cursor));
            }
            let mut resized = Terminal::new(width);
            resized.rows.clear();
            resized.wraps.clear();
            for (mut cells, cursor) in lines {
                if let Some(at) = cursor {
                    cells.resize(cells.len().max(at), None);
                }
                let (mut row, mut col) = (resized.rows.len(), 0usize);
                resized.cell(row, 0);
                for (i, cell) in cells.iter().enumerate() {
                    if cell.as_deref() == Some("") {
                        if cursor == Some(i) {
                            (resized.row, resized.col) = (row, col.saturating_sub(1));
                        }
                        continue;
                    }
                    let wide = cells
                        .get(i + 1)
                        .is_some_and(|next| next.as_deref() == Some(""));
                    let cell_width = if wide { 2 } else { 1 };
                    if col + cell_width > width {
                        resized.wraps[row] = Some(col);
                        (row, col) = (row + 1, 0);
                    }
                    if cursor == Some(i) {
                        (resized.row, resized.col, resized.waiting) = (row, col, false);
                    }
                    *resized.cell(row, col) = cell.clone();
                    if wide {
                        *resized.cell(row, col + 1) = Some(String::new());
                    }
                    col += cell_width;
                }
                if cursor == Some(cells.len()) {
                    (resized.row, resized.col, resized.waiting) = if col == width {
                        (row, width - 1, true)
                    } else {
                        (row, col, false)
                    };
                }
            }
            *self = resized;
        }
    }

    /// Feeds reads to an editor with the prompt "> " and a terminal
    /// `width` wide; returns the terminal.
    fn terminal_after(width: u16, reads: &[&[u8]]) -> (Editor, Terminal) {
        let (mut editor, _) = prompted(width);
        let mut terminal = Terminal::new(usize::from(width));
        terminal.feed(b"> ");
        for bytes in reads {
            terminal.feed(read(&mut editor, bytes).as_bytes());
        }
        (editor, terminal)
    }

    #[test]
    fn left_then_typing_inserts_in_the_middle_and_the_screen_shows_it() {
        let (mut editor, terminal) = terminal_after(80, &[b"helo", b"\x1b[D", b"l"]);
        assert_eq!(terminal.text_from(0), "> hello");
        assert_eq!((terminal.row, terminal.col), (0, 6), "after the new l");
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "hello");
    }

    #[test]
    fn left_and_right_move_the_terminal_cursor_by_escapes_not_redraws() {
        let (mut editor, _) = prompted(80);
        read(&mut editor, "ab你".as_bytes());
        assert_eq!(read(&mut editor, b"\x1b[D"), "\r\x1b[4C");
        assert_eq!(read(&mut editor, b"\x1b[D\x1b[D"), "\r\x1b[3C\r\x1b[2C");
        // At the start Left does nothing; Right comes back.
        assert_eq!(read(&mut editor, b"\x1b[D"), "");
        assert_eq!(read(&mut editor, b"\x1bOC"), "\r\x1b[3C");
        assert_eq!(read(&mut editor, b"\x1b[F"), "\r\x1b[6C");
        assert_eq!(read(&mut editor, b"\x1b[C"), "", "Right at the end");
    }

    #[test]
    fn home_end_and_delete_in_all_their_forms() {
        for (home, end, delete) in [
            (&b"\x1b[H"[..], &b"\x1b[F"[..], &b"\x1b[3~"[..]),
            (b"\x1b[1~", b"\x1b[4~", b"\x1b[3~"),
            (b"\x1bOH", b"\x1bOF", b"\x1b[3;5~"),
            (b"\x01", b"\x05", b"\x1b[3~"),
        ] {
            let (mut editor, terminal) =
                terminal_after(80, &[b"xbc", home, delete, b"a", end, b"d"]);
            assert_eq!(terminal.text_from(0), "> abcd", "{home:?} {end:?}");
            assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "abcd");
        }
    }

    #[test]
    fn delete_at_the_end_and_backspace_at_the_start_do_nothing() {
        let (mut editor, terminal) = terminal_after(80, &[b"ab", b"\x1b[3~", b"\x1b[H\x7f"]);
        assert_eq!(terminal.text_from(0), "> ab");
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "ab");
    }

    #[test]
    fn editing_wide_characters_in_the_middle_keeps_the_screen_exact() {
        let (mut editor, terminal) = terminal_after(
            80,
            &[
                "你好世界".as_bytes(),
                b"\x1b[D\x1b[D",
                b"\x7f",
                "们".as_bytes(),
                b"\x1b[3~",
            ],
        );
        assert_eq!(terminal.text_from(0), "> 你们界");
        assert_eq!((terminal.row, terminal.col), (0, 6));
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "你们界");
    }

    #[test]
    fn moving_and_inserting_across_wrapped_rows_keeps_the_screen_exact() {
        // "> " and 16 letters on an 8-column screen: three rows.
        let (mut editor, mut terminal) =
            terminal_after(8, &[b"abcdefghijklmnop", b"\x01", b"\x1b[C\x1b[C"]);
        assert_eq!((terminal.row, terminal.col), (0, 4));
        terminal.feed(read(&mut editor, b"XY").as_bytes());
        assert_eq!(terminal.text_from(0), "> abXYcdefghijklmnop");
        assert_eq!((terminal.row, terminal.col), (0, 6));
        // Down the rows and back to the end, then typing appends.
        for _ in 0..10 {
            terminal.feed(read(&mut editor, b"\x1b[C").as_bytes());
        }
        assert_eq!((terminal.row, terminal.col), (2, 0));
        terminal.feed(read(&mut editor, b"\x05Z").as_bytes());
        assert_eq!(terminal.text_from(0), "> abXYcdefghijklmnopZ");
        assert_eq!((terminal.row, terminal.col), (2, 5));
        assert_eq!(
            editor.end_of_line(&mut BytesMut::new()).text,
            "abXYcdefghijklmnopZ"
        );
    }

    #[test]
    fn end_onto_the_end_of_a_full_row_draws_the_line_again() {
        // "> " and 6 letters fill an 8-column row.
        let (mut editor, mut terminal) = terminal_after(8, &[b"abcdef", b"\x1b[D"]);
        let sent = read(&mut editor, b"\x1b[F");
        assert_eq!(sent, "\r\x1b[J> abcdef");
        terminal.feed(sent.as_bytes());
        assert!(terminal.waiting);
        terminal.feed(read(&mut editor, b"g").as_bytes());
        assert_eq!(terminal.text_from(0), "> abcdefg");
    }

    #[test]
    fn output_arriving_with_the_cursor_inside_the_line_redraws_it_there() {
        let (mut editor, mut terminal) = terminal_after(10, &[b"0123456789ab", b"\x01\x1b[C"]);
        let mut out = BytesMut::new();
        editor.begin_output(&mut out);
        out.put_slice(b"bob: hi\r\n");
        editor.end_output(&mut out);
        terminal.feed(&out);
        assert_eq!(terminal.text_from(0), "bob: hi> 0123456789ab");
        assert_eq!((terminal.row, terminal.col), (1, 3));
        terminal.feed(read(&mut editor, b"-").as_bytes());
        assert_eq!(terminal.text_from(1), "> 0-123456789ab");
    }

    #[test]
    fn ctrl_c_and_a_kept_line_with_the_cursor_inside_go_below_the_whole_line() {
        let (mut editor, mut terminal) = terminal_after(10, &[b"0123456789ab", b"\x01"]);
        terminal.feed(read(&mut editor, b"\x03").as_bytes());
        assert_eq!(terminal.text_from(0), "> 0123456789ab^C> ");
        assert_eq!((terminal.row, terminal.col), (2, 2));
        let (mut editor, mut terminal) = terminal_after(10, &[b"01234567", b"\x01"]);
        editor.keep_entered_lines(true);
        terminal.feed(read(&mut editor, b"\n").as_bytes());
        // The line filled its row: the next prompt is right under it.
        assert_eq!(terminal.text_from(1), "> ");
        assert_eq!((terminal.row, terminal.col), (1, 2));
    }

    #[test]
    fn a_base_typed_before_a_combining_mark_joins_it() {
        let (mut editor, terminal) = terminal_after(80, &["\u{301}x".as_bytes(), b"\x01", b"e"]);
        assert_eq!(editor.clusters.len(), 2);
        assert_eq!(terminal.text_from(0), "> e\u{301}x");
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "e\u{301}x");
    }

    #[test]
    fn ctrl_w_inside_the_line_erases_the_word_before_the_cursor() {
        let (mut editor, terminal) = terminal_after(
            80,
            &[b"one two three", b"\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D", b"\x17"],
        );
        assert_eq!(terminal.text_from(0), "> one three");
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "one three");
    }

    #[test]
    fn up_with_the_cursor_inside_recalls_and_puts_the_cursor_at_the_end() {
        let (mut editor, terminal) = terminal_after(
            80,
            &[b"first\n", b"dra", b"\x01\x1b[A", b"!", b"\x1b[B", b"?"],
        );
        assert_eq!(terminal.text_from(0), "> dra?");
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "dra?");
        let (mut editor, _) = terminal_after(80, &[b"first\n", b"\x1b[A\x01X\n"]);
        editor.flush(&mut BytesMut::new());
        assert_eq!(
            editor.history.back().map(|r| r.text.as_str()),
            Some("Xfirst")
        );
    }

    /// How the terminal looks: its rows (see `Terminal::looks_from`) and
    /// where its cursor is.
    fn looks(terminal: &Terminal) -> (Vec<String>, (usize, usize)) {
        (terminal.looks_from(0), (terminal.row, terminal.col))
    }

    /// A line from the room arrives, and goes around the typed one.
    fn incoming(editor: &mut Editor, terminal: &mut Terminal, line: &str) {
        let mut out = BytesMut::new();
        editor.begin_output(&mut out);
        out.put_slice(line.as_bytes());
        out.put_slice(b"\r\n");
        editor.end_output(&mut out);
        terminal.feed(&out);
    }

    /// The window becomes `columns` wide: the terminal reflows its rows
    /// or not, then NAWS tells the editor, then the session flushes.
    fn resize(editor: &mut Editor, terminal: &mut Terminal, columns: u16, reflow: bool) {
        terminal.resize(usize::from(columns), reflow);
        let mut out = BytesMut::new();
        editor.set_width(columns, &mut out);
        editor.flush(&mut out);
        terminal.feed(&out);
    }

    // "> abc" takes five of six columns in the tests below: a wide
    // character typed next does not fit in the last one, which the
    // terminal leaves blank, and starts the next row.

    #[test]
    fn a_wide_character_that_would_start_in_a_rows_last_column_starts_the_next_row() {
        let (mut editor, mut terminal) = terminal_after(6, &[b"abc"]);
        // Only the echo: the terminal puts it on the next row itself.
        assert_eq!(read(&mut editor, "李".as_bytes()), "李");
        terminal.feed("李".as_bytes());
        assert_eq!(
            looks(&terminal),
            (vec!["> abc".into(), "李".into()], (1, 2))
        );
        // The row after it fills up, the next one starts: a redraw (^L)
        // lifts all three rows, from the prompt's.
        terminal.feed(read(&mut editor, b"defgh\x0c").as_bytes());
        assert_eq!(
            looks(&terminal),
            (vec!["> abc".into(), "李defg".into(), "h".into()], (2, 1))
        );
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "abc李defgh");
    }

    #[test]
    fn one_backspace_erases_a_wide_character_that_started_a_row_and_its_blank() {
        let (mut editor, mut terminal) = terminal_after(6, &["abc李defg".as_bytes()]);
        // "李defg" fills the second row: the cursor waits at its end.
        assert!(terminal.waiting);
        terminal.feed(read(&mut editor, b"\x7f").as_bytes());
        assert_eq!(
            looks(&terminal),
            (vec!["> abc".into(), "李def".into()], (1, 5))
        );
        terminal.feed(read(&mut editor, b"\x7f\x7f\x7f").as_bytes());
        assert_eq!(
            looks(&terminal),
            (vec!["> abc".into(), "李".into()], (1, 2))
        );
        // One more, and the wide character goes, with the blank column
        // before it: the cursor is back after the c.
        terminal.feed(read(&mut editor, b"\x7f").as_bytes());
        assert_eq!(looks(&terminal), (vec!["> abc".into()], (0, 5)));
        terminal.feed(read(&mut editor, "雷!".as_bytes()).as_bytes());
        assert_eq!(
            looks(&terminal),
            (vec!["> abc".into(), "雷!".into()], (1, 3))
        );
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "abc雷!");
    }

    #[test]
    fn left_right_home_and_end_step_over_a_wide_character_and_its_blank() {
        let (mut editor, mut terminal) = terminal_after(6, &["abc李d".as_bytes()]);
        let rows = vec!["> abc".to_string(), "李d".into()];
        // The cursor stands on the character after it: on the d, on 李
        // (at the next row's start, not on the blank), on the c.
        for (key, at) in [
            (&b"\x1b[D"[..], (1, 2)),
            (b"\x1b[D", (1, 0)),
            (b"\x1b[D", (0, 4)),
            (b"\x1b[C", (1, 0)),
            (b"\x1b[H", (0, 2)),
            (b"\x1b[F", (1, 3)),
            (b"\x01\x1b[C\x1b[C\x1b[C", (1, 0)),
        ] {
            terminal.feed(read(&mut editor, key).as_bytes());
            assert_eq!(looks(&terminal), (rows.clone(), at), "after {key:?}");
        }
        // Typing there: "> abcX" fills the row, so 李 needs no blank.
        terminal.feed(read(&mut editor, b"X").as_bytes());
        assert_eq!(
            looks(&terminal),
            (vec!["> abcX".into(), "李d".into()], (1, 0))
        );
        // And taken out again, it has one.
        terminal.feed(read(&mut editor, b"\x7f\x1b[C").as_bytes());
        assert_eq!(looks(&terminal), (rows, (1, 2)));
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "abc李d");
    }

    #[test]
    fn output_arriving_while_a_line_straddles_rows_lifts_all_of_it() {
        let (mut editor, mut terminal) = terminal_after(6, &["abc李defgh".as_bytes()]);
        incoming(&mut editor, &mut terminal, "*** hi");
        let rows = vec!["*** hi".into(), "> abc".into(), "李defg".into(), "h".into()];
        assert_eq!(looks(&terminal), (rows, (3, 1)));
        // With the cursor inside, on 李.
        terminal.feed(read(&mut editor, b"\x01\x1b[C\x1b[C\x1b[C").as_bytes());
        incoming(&mut editor, &mut terminal, "*** ho");
        let rows = vec![
            "*** hi".into(),
            "*** ho".into(),
            "> abc".into(),
            "李defg".into(),
            "h".into(),
        ];
        assert_eq!(looks(&terminal), (rows, (3, 0)));
    }

    #[test]
    fn up_recalls_a_line_that_straddles_rows_and_moves_in_it_exactly() {
        let (mut editor, mut terminal) = terminal_after(6, &["abc李de\n".as_bytes(), b"x"]);
        terminal.feed(read(&mut editor, b"\x1b[A").as_bytes());
        let rows = vec!["> abc".to_string(), "李de".into()];
        assert_eq!(looks(&terminal), (rows.clone(), (1, 4)));
        terminal.feed(read(&mut editor, b"\x1b[D").as_bytes());
        assert_eq!(looks(&terminal), (rows.clone(), (1, 3)), "on the e");
        terminal.feed(read(&mut editor, b"\x1b[D\x1b[D").as_bytes());
        assert_eq!(looks(&terminal), (rows, (1, 0)), "on 李");
        // Down gives back the draft, and every row of the recalled line
        // is lifted.
        terminal.feed(read(&mut editor, b"\x1b[B").as_bytes());
        assert_eq!(looks(&terminal), (vec!["> x".into()], (0, 3)));
    }

    #[test]
    fn a_width_change_mid_line_draws_the_line_again_for_the_new_width() {
        let line = "abc李defgh".as_bytes();
        let before = |columns: u16| {
            let (mut editor, mut terminal) = terminal_after(columns, &[b""]);
            incoming(&mut editor, &mut terminal, "*** hi");
            terminal.feed(read(&mut editor, line).as_bytes());
            (editor, terminal)
        };
        let at_6 = vec![
            "*** hi".to_string(),
            "> abc".into(),
            "李defg".into(),
            "h".into(),
        ];
        // Exact where the terminal allows it: narrower on a terminal that
        // cuts its rows (xterm), and wider on one that reflows them (tmux).
        let (mut editor, mut terminal) = before(12);
        resize(&mut editor, &mut terminal, 6, false);
        assert_eq!(looks(&terminal), (at_6.clone(), (3, 1)));
        let (mut editor, mut terminal) = before(6);
        resize(&mut editor, &mut terminal, 12, true);
        let at_12 = vec!["*** hi".to_string(), "> abc李defgh".into()];
        assert_eq!(looks(&terminal), (at_12, (1, 11)));
        assert!(terminal.waiting);
        // Otherwise the line's first rows stay above its new drawing (it
        // cannot know which kind of terminal it is, and lifting too far
        // would erase the chat above): the chat line is never lost.
        let (mut editor, mut terminal) = before(12);
        resize(&mut editor, &mut terminal, 6, true);
        let mut stale = at_6.clone();
        stale.splice(1..1, ["> abc".to_string(), "李defg".into()]);
        assert_eq!(looks(&terminal), (stale, (5, 1)));
        let (mut editor, mut terminal) = before(6);
        resize(&mut editor, &mut terminal, 12, false);
        let mut stale = at_6[..3].to_vec();
        stale.push("> abc李defgh".into());
        assert_eq!(looks(&terminal), (stale, (3, 11)));
        // Either way, the editor's picture is the new width's: moves and
        // erases land where they should.
        terminal.feed(read(&mut editor, b"\x7f\x01\x1b[C\x1b[C\x1b[C\x1b[3~").as_bytes());
        let rows = terminal.looks_from(3);
        assert_eq!(
            (rows, (terminal.row, terminal.col)),
            (vec!["> abcdefg".into()], (3, 5))
        );
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "abcdefg");
    }

    #[test]
    fn a_width_change_while_the_line_fits_the_first_row_at_both_widths_writes_nothing() {
        let (mut editor, _) = prompted(10);
        read(&mut editor, "ab李".as_bytes());
        let mut out = BytesMut::new();
        editor.set_width(7, &mut out);
        editor.set_width(40, &mut out);
        assert!(out.is_empty());
        assert_eq!(read(&mut editor, b"\x1b[D"), "\r\x1b[4C");
        // At 6 columns "> ab李" fills the row: drawn again, as a line that
        // reaches a row's end may have wrapped differently.
        editor.set_width(6, &mut out);
        editor.flush(&mut out);
        assert_eq!(&out[..], "\r\x1b[J> ab李\r\x1b[4C".as_bytes());
    }

    mod properties {
        use super::super::*;
        use super::{Terminal, prompted_with};
        use proptest::prelude::*;

        /// What happens to a connection between two flushes: a read of
        /// typed keys, a line from the room arriving, or the window
        /// resized (NAWS).
        #[derive(Debug, Clone)]
        enum Step {
            Read(Vec<u8>),
            Incoming,
            Resize(u16),
        }

        /// Keys: narrow and wide text (CJK, an emoji), combining marks on
        /// both, every editing key, line ends, incoming lines.
        fn steps() -> impl Strategy<Value = Vec<Step>> {
            let key = prop_oneof![
                3 => "[a-z ]{1,5}".prop_map(String::into_bytes),
                2 => prop::sample::select(vec!["李", "雷", "🎉", "李\u{301}", "e\u{301}", "a李b"])
                    .prop_map(|text| text.as_bytes().to_vec()),
                1 => Just(b"\x7f".to_vec()),
                1 => Just(b"\x15".to_vec()),
                1 => Just(b"\x17".to_vec()),
                1 => Just(b"\x03".to_vec()),
                1 => Just(b"\x0c".to_vec()),
                1 => Just(b"\x1b[A".to_vec()),
                1 => Just(b"\x1bOB".to_vec()),
                1 => Just(b"\x1b[C".to_vec()),
                2 => Just(b"\x1b[D".to_vec()),
                1 => Just(b"\x1b[H".to_vec()),
                1 => Just(b"\x05".to_vec()),
                1 => Just(b"\x1b[3~".to_vec()),
                1 => Just(b"\n".to_vec()),
                2 => Just(b"\t".to_vec()),
                1 => Just(b"/w".to_vec()),
            ];
            let step = prop_oneof![
                8 => prop::collection::vec(key, 1..4).prop_map(|k| Step::Read(k.concat())),
                2 => Just(Step::Incoming),
                1 => prop_oneof![5u16..13, 4u16..30].prop_map(Step::Resize),
            ];
            prop::collection::vec(step, 0..40)
        }

        /// One read as the session handles it: each piece up to a line end
        /// typed, a Tab's completions found (nicks with wide characters,
        /// or command names) and given, the line ended; then the flush.
        fn read_completing(editor: &mut Editor, bytes: &[u8]) -> Vec<u8> {
            let mut out = BytesMut::new();
            for piece in bytes.split_inclusive(|&b| b == b'\n') {
                let (text, end) = match piece.split_last() {
                    Some((b'\n', text)) => (text, true),
                    _ => (piece, false),
                };
                editor.input(text, &mut out);
                if let Some(ask) = editor.take_completion() {
                    let offered = if ask.is_command() {
                        crate::command::complete_name(&ask.word)
                    } else {
                        ["ann", "Annie", "李雷", "a李b", "abcdefghijk"]
                            .into_iter()
                            .filter(|n| {
                                !ask.word.is_empty()
                                    && n.to_lowercase().starts_with(&ask.word.to_lowercase())
                            })
                            .map(str::to_owned)
                            .collect()
                    };
                    editor.complete(offered, &mut out);
                }
                if end {
                    editor.end_of_line(&mut out);
                }
            }
            editor.flush(&mut out);
            out.to_vec()
        }

        /// Where a terminal's cursor is after it is sent `prompt` and the
        /// line with the cursor at byte `at` (or at the end) drawn from a
        /// row's start, found by drawing it on a terminal `width` wide: on
        /// the first character after the cursor, or after the last.
        fn drawn_cursor(
            width: usize,
            prompt: &str,
            line: &str,
            at: Option<usize>,
        ) -> (usize, usize, bool) {
            let mut terminal = Terminal::new(width);
            terminal.feed(prompt.as_bytes());
            let Some(at) = at else {
                terminal.feed(line.as_bytes());
                return (terminal.row, terminal.col, terminal.waiting);
            };
            terminal.feed(&line.as_bytes()[..at]);
            let first = line[at..]
                .chars()
                .next()
                .map(String::from)
                .unwrap_or_default();
            terminal.feed(first.as_bytes());
            (terminal.placed.0, terminal.placed.1, false)
        }

        /// Typed bytes: text, controls, escapes, Latin-1 and UTF-8 pieces,
        /// line ends (LF) and telnet EC (0xFF), as a terminal might send.
        fn typed() -> impl Strategy<Value = Vec<u8>> {
            let piece = prop_oneof![
                "[a-z ]{1,6}".prop_map(String::into_bytes),
                Just(b"\x7f".to_vec()),
                Just(b"\x08".to_vec()),
                Just(b"\x15".to_vec()),
                Just(b"\x17".to_vec()),
                Just(b"\x1b[D".to_vec()),
                Just(b"\x1b[C".to_vec()),
                Just(b"\x1b[H".to_vec()),
                Just(b"\x1b[3~".to_vec()),
                Just(b"\x1b[A".to_vec()),
                Just(b"\x1b[31m".to_vec()),
                Just(b"\t".to_vec()),
                Just("你é\u{301}👍🏽\u{202e}".as_bytes().to_vec()),
                Just(b"\xe9\xff".to_vec()),
                Just(b"\n".to_vec()),
                any::<u8>().prop_map(|b| vec![b]),
            ];
            prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
        }

        fn run(
            mode: Mode,
            charset: Charset,
            width: u16,
            cuts: &[usize],
            input: &[u8],
        ) -> (Vec<Line>, Vec<u8>) {
            let limits = Limits {
                max_chars: 12,
                max_marks_per_grapheme: 2,
            };
            let mut editor = Editor::new(Mode::Client, limits);
            let mut screen = BytesMut::new();
            editor.set_charset(charset);
            editor.set_mode(mode, &mut screen);
            editor.set_width(width, &mut screen);
            editor.set_prompt("> ", &mut screen);
            let mut lines = Vec::new();
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
            points.push(input.len());
            points.sort_unstable();
            let mut start = 0;
            for end in points {
                for piece in input[start..end].split_inclusive(|&b| b == b'\n' || b == 0xff) {
                    match piece.split_last() {
                        Some((b'\n', text)) => {
                            editor.input(text, &mut screen);
                            lines.push(editor.end_of_line(&mut screen));
                        }
                        Some((0xff, text)) => {
                            editor.input(text, &mut screen);
                            editor.erase_char(&mut screen);
                        }
                        _ => editor.input(piece, &mut screen),
                    }
                }
                start = end;
            }
            // Once, at the end: the screen's bytes then do not depend on
            // the cuts (flushing at each would draw at different points).
            editor.flush(&mut screen);
            (lines, screen.to_vec())
        }

        proptest! {
            /// Whatever is typed, moved, recalled or received, after each
            /// read the screen shows the prompt and exactly the line that
            /// will be sent, and nothing under it, with the terminal's
            /// cursor where the editor's is.
            #[test]
            fn the_screen_always_shows_exactly_the_line_being_typed(
                steps in steps(),
                width in prop_oneof![5u16..13, 4u16..30],
                prompt in prop::sample::select(vec!["> ", ">> ", ">雷 ", ">"]),
                keep in any::<bool>(),
                reflow in any::<bool>(),
            ) {
                let (mut editor, _) = prompted_with(width, prompt);
                editor.keep_entered_lines(keep);
                let mut columns = usize::from(width);
                let mut terminal = Terminal::new(columns);
                terminal.feed(prompt.as_bytes());
                let mut news = 0;
                for step in &steps {
                    match step {
                        Step::Read(bytes) => terminal.feed(&read_completing(&mut editor, bytes)),
                        Step::Incoming => {
                            let mut out = BytesMut::new();
                            editor.begin_output(&mut out);
                            out.put_slice(b"*** news\r\n");
                            editor.end_output(&mut out);
                            terminal.feed(&out);
                            news += 1;
                        }
                        Step::Resize(to) => {
                            columns = usize::from(*to);
                            terminal.resize(columns, reflow);
                            let mut out = BytesMut::new();
                            editor.set_width(*to, &mut out);
                            // As the session does after a read.
                            editor.flush(&mut out);
                            terminal.feed(&out);
                        }
                    }
                    // The screen from the prompt down looks as the prompt
                    // and the line drawn afresh, and nothing is under them.
                    let prompt_row = terminal.prompt_row();
                    prop_assert!(prompt_row.is_some(), "no prompt: {:?}", steps);
                    let prompt_row = prompt_row.unwrap_or_default();
                    let mut fresh = Terminal::new(columns);
                    fresh.feed(format!("{prompt}{}", editor.line).as_bytes());
                    prop_assert_eq!(terminal.looks_from(prompt_row), fresh.looks_from(0), "{:?}", steps);
                    // The terminal's cursor is on the character after the
                    // editor's, or after the line, as a fresh drawing puts it.
                    let at = editor.inside.map(|at| at.byte);
                    let (row, col, waiting) = drawn_cursor(columns, prompt, &editor.line, at);
                    prop_assert_eq!(
                        (terminal.row - prompt_row, terminal.col, terminal.waiting),
                        (row, col, waiting),
                        "{:?}", steps
                    );
                    // No line of chat was erased (a resize may leave a
                    // stale copy of the input's first rows above it).
                    let shown_news = terminal
                        .rows
                        .iter()
                        .filter(|cells| cells[0].as_deref() == Some("*"))
                        .count();
                    prop_assert_eq!(shown_news, news, "{:?}", steps);
                    // What was kept up to date as the line was typed and
                    // the cursor moved is what laying it out afresh finds.
                    prop_assert!(!editor.cleared);
                    let kept = (
                        editor.pads,
                        editor.inside,
                        editor.clusters.iter().map(|c| c.pad()).collect::<Vec<_>>(),
                    );
                    editor.lay_out();
                    let fresh = (
                        editor.pads,
                        editor.inside,
                        editor.clusters.iter().map(|c| c.pad()).collect::<Vec<_>>(),
                    );
                    prop_assert_eq!(kept, fresh, "{:?}", steps);
                }
            }

            /// The clusters kept as the line is typed and edited are the
            /// line's grapheme clusters, measured whole, and their widths
            /// add up to the width the editor draws with.
            #[test]
            fn kept_clusters_are_the_lines_graphemes(input in typed()) {
                let mut editor = Editor::new(Mode::Server, Limits {
                    max_chars: 1000,
                    max_marks_per_grapheme: 2,
                });
                let mut out = BytesMut::new();
                for piece in input.split_inclusive(|&b| b == b'\n' || b == 0xff) {
                    editor.input(piece, &mut out);
                    let kept: Vec<(usize, usize)> = editor
                        .clusters
                        .iter()
                        .map(|c| (usize::from(c.len), c.width()))
                        .collect();
                    let whole: Vec<(usize, usize)> = editor
                        .line
                        .graphemes(true)
                        .map(|g| (g.len(), g.width()))
                        .collect();
                    prop_assert_eq!(&kept, &whole, "{:?}", editor.line);
                    let sum: usize = whole.iter().map(|&(_, w)| w).sum();
                    prop_assert_eq!(editor.line_width, sum);
                    if piece.ends_with(b"\n") {
                        editor.end_of_line(&mut out);
                    } else if piece.ends_with(&[0xff]) {
                        editor.erase_char(&mut out);
                    }
                }
            }

            /// However the typing is cut into reads, the same lines finish
            /// and the same screen is drawn; every line is clean and within
            /// its cap.
            #[test]
            fn lines_and_screen_do_not_depend_on_how_input_is_cut(
                input in typed(),
                cuts in prop::collection::vec(any::<usize>(), 0..8),
                server in any::<bool>(),
                latin1 in any::<bool>(),
                width in prop_oneof![Just(0u16), 1u16..20, Just(80u16)],
            ) {
                let mode = if server { Mode::Server } else { Mode::Client };
                let charset = if latin1 { Charset::Latin1 } else { Charset::Utf8 };
                let whole = run(mode, charset, width, &[], &input);
                let cut = run(mode, charset, width, &cuts, &input);
                prop_assert_eq!(&whole.0, &cut.0);
                prop_assert_eq!(&whole.1, &cut.1);
                for line in &whole.0 {
                    prop_assert!(line.text.chars().count() <= 12, "{:?}", line.text);
                    prop_assert!(
                        line.text.chars().all(|c| !sanitize::is_forbidden(c) && c != '\u{1b}'),
                        "{:?}", line.text
                    );
                }
            }
        }
    }

    #[test]
    fn a_line_that_cleaning_empties_is_told_apart_from_a_bare_enter() {
        let mut editor = Editor::new(Mode::Client, limits());
        let mut out = BytesMut::new();
        editor.input("\x1b[2J\x1b[H\u{202e}".as_bytes(), &mut out);
        let line = editor.end_of_line(&mut out);
        assert_eq!(line.text, "");
        assert!(line.emptied);
        let line = editor.end_of_line(&mut out);
        assert!(!line.emptied);
        editor.input(b"  ", &mut out);
        assert!(!editor.end_of_line(&mut out).emptied);
    }

    #[test]
    fn telnet_ec_erases_the_last_character_in_both_modes() {
        let mut editor = Editor::new(Mode::Server, limits());
        let mut out = BytesMut::new();
        editor.input("ab你".as_bytes(), &mut out);
        out.clear();
        editor.erase_char(&mut out);
        // Both columns of the wide character are wiped on screen.
        assert_eq!(&out[..], b"\x08\x08  \x08\x08");
        assert_eq!(editor.end_of_line(&mut out).text, "ab");

        let mut editor = Editor::new(Mode::Client, limits());
        editor.input("abe\u{301}".as_bytes(), &mut out);
        editor.erase_char(&mut out);
        editor.input(b"c", &mut out);
        assert_eq!(editor.end_of_line(&mut out).text, "abc");
    }

    #[test]
    fn telnet_ec_in_client_mode_keeps_a_latin1_line_latin1() {
        let mut editor = Editor::new(Mode::Client, limits());
        editor.set_charset(Charset::Latin1);
        let mut out = BytesMut::new();
        // "\xc3\xa9" is "Ã©" in Latin-1; after one erase, "Ã" must remain,
        // not be re-read as the start of a UTF-8 "é".
        editor.input(b"\xe9t\xc3\xa9x", &mut out);
        editor.erase_char(&mut out);
        assert_eq!(editor.end_of_line(&mut out).text, "étÃ©");
        editor.input(b"\xe9\xe9", &mut out);
        editor.erase_char(&mut out);
        assert_eq!(editor.end_of_line(&mut out).text, "é");
    }

    #[test]
    fn a_latin1_terminal_is_echoed_and_read_in_latin1() {
        let mut editor = Editor::new(Mode::Server, limits());
        editor.set_charset(Charset::Latin1);
        let mut out = BytesMut::new();
        // Valid UTF-8 for "é", but from a Latin-1 terminal it is "Ã©".
        editor.input(b"caf\xc3\xa9", &mut out);
        assert_eq!(&out[..], b"caf\xc3\xa9");
        assert_eq!(editor.end_of_line(&mut out).text, "cafÃ©");
        editor.flush(&mut out);
        out.clear();
        editor.input(b"\xe9", &mut out);
        assert_eq!(&out[..], b"\xe9", "echoed as the one Latin-1 byte typed");
        assert_eq!(editor.end_of_line(&mut out).text, "é");
    }

    #[test]
    fn switching_charset_mid_character_keeps_every_byte_in_order() {
        let mut editor = Editor::new(Mode::Server, limits());
        let mut out = BytesMut::new();
        editor.input(b"a\xc3", &mut out);
        editor.set_charset(Charset::Latin1);
        editor.input(b"b\xa9", &mut out);
        // The held lead byte is read as Latin-1 at the switch, before "b".
        assert_eq!(editor.end_of_line(&mut out).text, "aÃb©");
    }

    #[test]
    fn setting_the_charset_already_in_use_keeps_a_half_typed_character() {
        let mut editor = Editor::new(Mode::Server, limits());
        let mut out = BytesMut::new();
        editor.input(b"\xe4\xbd", &mut out);
        editor.set_charset(Charset::Utf8);
        editor.input(b"\xa0", &mut out);
        assert_eq!(editor.end_of_line(&mut out).text, "你");
    }

    #[test]
    fn a_line_is_flagged_truncated_by_either_the_byte_cap_or_the_character_limit() {
        let mut out = BytesMut::new();
        // 150 one-byte characters: within the byte cap (400), over the
        // character limit (100).
        let mut editor = Editor::new(Mode::Client, limits());
        editor.input(&[b'x'; 150], &mut out);
        let line = editor.end_of_line(&mut out);
        assert_eq!((line.text.len(), line.truncated), (100, true));
        // 101 four-byte characters: the byte cap cuts the last one, and what
        // is left is within the character limit.
        editor.input("😀".repeat(101).as_bytes(), &mut out);
        let line = editor.end_of_line(&mut out);
        assert_eq!(line.text, "😀".repeat(100));
        assert!(line.truncated);
    }

    #[test]
    fn a_line_that_exactly_fills_the_byte_cap_is_not_truncated() {
        let mut out = BytesMut::new();
        let mut editor = Editor::new(Mode::Client, limits());
        let full = "😀".repeat(100);
        editor.input(&full.as_bytes()[..200], &mut out);
        editor.input(&full.as_bytes()[200..], &mut out);
        let line = editor.end_of_line(&mut out);
        assert_eq!(line.text, full);
        assert!(!line.truncated);
    }

    #[test]
    fn switching_modes_moves_the_echo_and_the_typed_text_along() {
        let mut out = BytesMut::new();
        let mut editor = Editor::new(Mode::Client, limits());
        editor.input(b"ab", &mut out);
        assert!(out.is_empty());
        editor.set_mode(Mode::Server, &mut out);
        assert_eq!(editor.mode(), Mode::Server);
        // What the client had typed is now on screen, and typing is echoed.
        editor.input(b"c", &mut out);
        assert_eq!(&out[..], b"abc");
        out.clear();
        editor.set_mode(Mode::Client, &mut out);
        assert_eq!(editor.mode(), Mode::Client);
        editor.input(b"d", &mut out);
        assert!(out.is_empty(), "the client echoes for itself: {out:?}");
        assert_eq!(editor.end_of_line(&mut out).text, "abcd");
    }

    #[test]
    fn setting_the_mode_already_in_force_keeps_what_was_typed() {
        for mode in [Mode::Client, Mode::Server] {
            let mut out = BytesMut::new();
            let mut editor = Editor::new(mode, limits());
            editor.input(b"ab\xe4", &mut out);
            let shown = out.len();
            editor.set_mode(mode, &mut out);
            assert_eq!(out.len(), shown, "nothing redrawn");
            editor.input(b"\xbd\xa0", &mut out);
            assert_eq!(editor.end_of_line(&mut out).text, "ab你", "{mode:?}");
        }
    }

    #[test]
    fn controls_and_bidi_overrides_typed_are_neither_echoed_nor_kept() {
        let (lines, screen) = server(&["a\x07\x0e\u{202e}\u{85}b".as_bytes(), b"\n"]);
        assert_eq!(lines, ["ab"]);
        assert_eq!(screen, "ab\r\x1b[J");
    }

    #[test]
    fn typing_past_the_byte_cap_rings_the_bell_and_echoes_nothing() {
        let mut editor = Editor::new(Mode::Server, limits());
        let mut out = BytesMut::new();
        // 100 four-byte characters exactly fill the 400-byte cap.
        let full = "😀".repeat(100);
        editor.input(full.as_bytes(), &mut out);
        assert_eq!(&out[..], full.as_bytes());
        out.clear();
        editor.input(b"x", &mut out);
        assert_eq!(&out[..], b"\x07");
        let line = editor.end_of_line(&mut out);
        assert_eq!(line.text, full);
        assert!(line.truncated);
    }

    #[test]
    fn combining_marks_past_the_limit_are_not_echoed_or_kept() {
        // The limit is 4 marks on one character; what follows is typed as usual.
        let (lines, screen) = server(&[
            format!("e{}x\u{301}", "\u{301}".repeat(6)).as_bytes(),
            b"\n",
        ]);
        let kept = format!("e{}x\u{301}", "\u{301}".repeat(4));
        assert_eq!(lines, [kept.as_str()]);
        assert!(screen.starts_with(&kept), "{screen:?}");
        assert!(!screen.contains(&"\u{301}".repeat(5)), "{screen:?}");
    }

    #[test]
    fn many_redraws_in_one_read_draw_the_line_once() {
        let mut editor = Editor::new(Mode::Server, limits_of(1000));
        let mut out = BytesMut::new();
        editor.input(&[b'x'; 3900], &mut out);
        editor.flush(&mut out);
        out.clear();
        // ^L, ^W and erases across row starts, a thousand times over.
        let mut read = Vec::new();
        for _ in 0..1000 {
            read.extend_from_slice(b"\x0c\x17ab cd\x7f\x7f\x7f\x7f\x0c");
        }
        editor.input(&read, &mut out);
        editor.flush(&mut out);
        // One clear from the 49th row up, and the line once: the first ^W
        // ate the x's, and each round leaves "a".
        assert_eq!(&out[..], b"\r\x1b[48A\x1b[Ja");
        out.clear();
        editor.input(b"ok", &mut out);
        assert_eq!(&out[..], b"ok", "typing is echoed again after the flush");
    }

    #[test]
    fn the_line_end_and_a_redraw_in_one_read_draw_the_prompt_once() {
        let mut editor = Editor::new(Mode::Server, limits());
        let mut out = BytesMut::new();
        editor.set_prompt("> ", &mut out);
        editor.input(b"hi", &mut out);
        out.clear();
        editor.end_of_line(&mut out);
        editor.input(b"\x0cyo\x0c", &mut out);
        editor.flush(&mut out);
        assert_eq!(&out[..], b"\r\x1b[J> yo");
    }

    #[test]
    fn a_flag_a_family_and_an_accented_letter_are_each_erased_whole() {
        let (lines, screen) = server(&[
            "a🇫🇷🇩🇪".as_bytes(),
            b"\x7f",
            "👨\u{200d}👩\u{200d}👧".as_bytes(),
            b"\x7f",
            "e\u{301}".as_bytes(),
            b"\x7f",
            b"\n",
        ]);
        assert_eq!(lines, ["a🇫🇷"]);
        assert!(screen.contains("\x08\x08  \x08\x08\u{1f468}"), "{screen:?}");
        assert!(screen.ends_with("\x08 \x08\r\x1b[J"), "{screen:?}");
    }

    #[test]
    fn a_cluster_longer_than_the_cap_is_erased_in_pieces() {
        // Hangul leading jamo join into one grapheme cluster however many
        // there are; the editor keeps at most 64 bytes as one.
        let jamo = "\u{1100}".repeat(30);
        let mut editor = Editor::new(Mode::Server, limits());
        let mut out = BytesMut::new();
        editor.input(jamo.as_bytes(), &mut out);
        assert!(editor.clusters.len() > 1);
        editor.input(b"\x7f", &mut out);
        assert!(!editor.line.is_empty());
        editor.input(b"\x15", &mut out);
        assert!(editor.clusters.is_empty() && editor.line_width == 0);
    }

    #[test]
    fn ctrl_w_back_to_a_space_with_a_mark_keeps_the_space() {
        let (lines, _) = server(&["ab \u{301}cd".as_bytes(), b"\x17x", b"\n"]);
        assert_eq!(lines, ["ab x"]);
    }

    #[test]
    fn telnet_ec_in_client_mode_keeps_working_however_many_are_sent() {
        let mut editor = Editor::new(Mode::Client, limits());
        let mut out = BytesMut::new();
        editor.input(b"keep ", &mut out);
        for _ in 0..10_000 {
            editor.input(b"x", &mut out);
            editor.erase_char(&mut out);
        }
        editor.input(b"this", &mut out);
        let line = editor.end_of_line(&mut out);
        assert_eq!((line.text.as_str(), line.truncated), ("keep this", false));
        assert!(out.is_empty());
    }

    #[test]
    fn telnet_ec_in_client_mode_keeps_windows_1252_text_when_compacting() {
        let mut editor = Editor::new(Mode::Client, limits());
        editor.set_charset(Charset::Windows1252);
        let mut out = BytesMut::new();
        // Ÿes! Ružièka, then enough erased x to make the editor compact.
        editor.input(b"\x9fes! Ru\x9ei\xe8ka \x81", &mut out);
        for _ in 0..10_000 {
            editor.input(b"x", &mut out);
            editor.erase_char(&mut out);
        }
        let line = editor.end_of_line(&mut out);
        assert_eq!(line.text, "Ÿes! Ružièka \u{fffd}");
    }

    #[test]
    fn erasing_a_character_that_takes_no_columns_writes_nothing() {
        let mut editor = Editor::new(Mode::Server, limits());
        editor.set_width(10, &mut BytesMut::new());
        let mut out = BytesMut::new();
        // A Syriac abbreviation mark ends the line as a grapheme of its own
        // and no width, with the cursor at the end of a full row.
        editor.input("0123456789\u{70f}".as_bytes(), &mut out);
        out.clear();
        editor.input(b"\x7f", &mut out);
        assert!(out.is_empty(), "{out:?}");
        // The next erase takes the '9' and goes back over the row start.
        editor.input(b"\x7f", &mut out);
        editor.flush(&mut out);
        assert_eq!(&out[..], b"\r\x1b[J012345678");
    }

    /// One read as the session handles it when a Tab asks for
    /// completions: input, the completions (from `offer`, given the word),
    /// then flush. Returns what the terminal was sent.
    fn read_tab(
        editor: &mut Editor,
        bytes: &[u8],
        offer: impl Fn(&Completion) -> Vec<String>,
    ) -> String {
        let mut out = BytesMut::new();
        editor.input(bytes, &mut out);
        if let Some(ask) = editor.take_completion() {
            editor.complete(offer(&ask), &mut out);
        }
        editor.flush(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// As the session answers: nothing for an empty word.
    fn nicks(ask: &Completion) -> Vec<String> {
        if ask.word.is_empty() {
            return Vec::new();
        }
        ["ann", "Annie", "bob", "李雷"]
            .into_iter()
            .filter(|n| n.to_lowercase().starts_with(&ask.word.to_lowercase()))
            .map(str::to_owned)
            .collect()
    }

    /// Types `reads` (each one read, Tabs answered by `nicks`) with the
    /// prompt "> " at `width`; returns the editor and the screen.
    fn tabbed(width: u16, reads: &[&[u8]]) -> (Editor, Terminal) {
        let (mut editor, _) = prompted(width);
        let mut terminal = Terminal::new(usize::from(width));
        terminal.feed(b"> ");
        for bytes in reads {
            terminal.feed(read_tab(&mut editor, bytes, nicks).as_bytes());
        }
        (editor, terminal)
    }

    #[test]
    fn tab_at_the_line_start_completes_a_nick_with_a_colon_and_cycles() {
        let (editor, terminal) = tabbed(80, &[b"AN", b"\t"]);
        assert_eq!(editor.line, "ann: ");
        assert_eq!(terminal.text_from(0), "> ann: ");
        let (mut editor, mut terminal) = tabbed(80, &[b"an", b"\t", b"\t"]);
        assert_eq!(editor.line, "Annie: ");
        // Past the last, the first again; then typing goes on after it.
        terminal.feed(read_tab(&mut editor, b"\t", nicks).as_bytes());
        terminal.feed(read_tab(&mut editor, b"hi", nicks).as_bytes());
        assert_eq!(terminal.text_from(0), "> ann: hi");
        // Any other key ended the cycle: a Tab now asks again, for "hi".
        editor.input(b"\t", &mut BytesMut::new());
        let ask = editor.take_completion().expect("a new ask");
        assert_eq!(ask.word, "hi");
        editor.complete(Vec::new(), &mut BytesMut::new());
        assert_eq!(editor.end_of_line(&mut BytesMut::new()).text, "ann: hi");
    }

    #[test]
    fn tab_after_a_word_in_the_line_completes_with_a_space() {
        let mut editor = prompted(80).0;
        editor.input(b"hello an", &mut BytesMut::new());
        editor.input(b"\t", &mut BytesMut::new());
        assert_eq!(
            editor.take_completion(),
            Some(Completion {
                word: "an".to_owned(),
                first: false
            })
        );
        editor.complete(vec!["ann".to_owned()], &mut BytesMut::new());
        assert_eq!(editor.line, "hello ann ");
        // One candidate: Tab again asks for the empty word after it, which
        // finds nothing.
        let (_, terminal) = tabbed(80, &[b"hello BO", b"\t", b"\t", b"!"]);
        assert_eq!(terminal.text_from(0), "> hello bob !");
    }

    #[test]
    fn tab_inside_the_line_completes_the_word_before_the_cursor() {
        // "say bo there", cursor after "bo" (six Lefts).
        let (editor, terminal) = tabbed(
            80,
            &[b"say bo there", b"\x1b[D".repeat(6).as_slice(), b"\t", b"!"],
        );
        assert_eq!(editor.line, "say bob! there");
        assert_eq!(terminal.text_from(0), "> say bob! there");
        let (editor, terminal) = tabbed(80, &[b"bo there", b"\x1b[D".repeat(6).as_slice(), b"\t"]);
        assert_eq!(editor.line, "bob: there");
        assert_eq!(terminal.text_from(0), "> bob: there");
    }

    #[test]
    fn tab_with_nothing_to_offer_rings_the_bell_and_changes_nothing() {
        let mut editor = prompted(80).0;
        editor.input(b"zed", &mut BytesMut::new());
        let screen = read_tab(&mut editor, b"\t", nicks);
        assert_eq!(screen, "\x07");
        assert_eq!(editor.line, "zed");
        // A word longer than any nick is not even asked about.
        let mut editor = prompted(80).0;
        editor.input("x".repeat(300).as_bytes(), &mut BytesMut::new());
        let mut out = BytesMut::new();
        editor.input(b"\t", &mut out);
        assert_eq!(&out[..], b"\x07");
        assert_eq!(editor.take_completion(), None);
    }

    #[test]
    fn a_tab_with_more_typed_after_it_in_one_read_is_a_space_as_before() {
        let (lines, _) = server(&[b"a\tb\t\tc", b"\n"]);
        assert_eq!(lines, ["a b c"]);
        let mut editor = prompted(80).0;
        editor.input(b"one\ttwo", &mut BytesMut::new());
        assert_eq!(editor.take_completion(), None);
        assert_eq!(editor.line, "one two");
    }

    #[test]
    fn tab_after_a_slash_at_the_start_asks_for_a_command_name() {
        let mut editor = prompted(80).0;
        editor.input(b"/wh\t", &mut BytesMut::new());
        let ask = editor.take_completion().expect("an ask");
        assert!(ask.is_command());
        editor.complete(
            vec!["/who".to_owned(), "/whois".to_owned()],
            &mut BytesMut::new(),
        );
        assert_eq!(editor.line, "/who ");
        editor.input(b"\t", &mut BytesMut::new());
        assert_eq!(editor.line, "/whois ");
        // Not at the start: an ordinary word.
        let mut editor = prompted(80).0;
        editor.input(b"see /wh\t", &mut BytesMut::new());
        assert!(!editor.take_completion().expect("an ask").is_command());
    }

    #[test]
    fn a_completion_that_wraps_the_line_is_drawn_exactly() {
        // 10 columns: "> hey 李" then Tab makes "> hey 李雷 " over two rows.
        let (editor, terminal) = tabbed(10, &["hey 李".as_bytes(), b"\t", b"ok"]);
        assert_eq!(editor.line, "hey 李雷 ok");
        assert_eq!(terminal.text_from(0), "> hey 李雷 ok");
    }

    #[test]
    fn tab_in_client_mode_is_left_to_the_client() {
        let mut editor = Editor::new(Mode::Client, limits());
        editor.input(b"an\t", &mut BytesMut::new());
        assert_eq!(editor.take_completion(), None);
    }

    #[test]
    fn tabs_that_ask_are_bounded_per_line_typed() {
        let mut editor = prompted(80).0;
        let mut asked = 0;
        for _ in 0..100 {
            read_tab(&mut editor, b"zz", nicks);
            let mut out = BytesMut::new();
            editor.input(b"\t", &mut out);
            if editor.take_completion().is_some() {
                asked += 1;
                editor.complete(Vec::new(), &mut out);
            }
        }
        assert_eq!(asked, usize::from(MAX_COMPLETION_ASKS_PER_LINE));
        editor.end_of_line(&mut BytesMut::new());
        editor.input(b"zz\t", &mut BytesMut::new());
        assert!(
            editor.take_completion().is_some(),
            "a new line may ask again"
        );
    }
}
