//! The one place that decides what a user may send.
//!
//! Bytes from a client become text here ([`TextDecoder`], [`decode`]), and
//! that text is cleaned here ([`sanitize`]) of anything that could garble or
//! forge another user's screen: terminal escape sequences, control
//! characters, bidi overrides, invisible characters and "Zalgo" stacks of
//! combining marks. Everything a user types passes through `sanitize` before
//! any other code sees it, so no other module has to think about hostile text.
//!
//! Nothing is cut silently: an escape sequence is removed only when it is
//! whole within the line, so a stray introducer (a C1 byte, a lone ESC) loses
//! only itself and never the rest of the line; only the length cap cuts, and
//! the caller tells the user. Blank space is one space: runs of spaces, tabs,
//! Unicode spaces and the invisible characters between them become a single
//! space, so no user can pad a line to push words onto a row of their own
//! (where they could pass for a system line).

use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

use crate::charset::decode_8bit;

/// Streaming decoder: UTF-8 where the bytes are valid UTF-8; every byte of an
/// invalid or truncated sequence is taken as one 8-bit character (old clients
/// send Latin-1, or Windows-1252: [`decode_8bit`]), so nothing is dropped. Fed
/// one byte at a time it yields exactly what `decode` yields for the whole
/// input.
#[derive(Debug, Default, Clone)]
pub struct TextDecoder {
    /// Lead byte and continuation bytes received so far. Every byte held is a
    /// valid prefix of some scalar value, which is why, when the sequence
    /// breaks, all of them can be given out as 8-bit characters at once: none of them
    /// could start a sequence of its own.
    pending: [u8; 3],
    /// How many bytes of `pending` are in use (0 when idle).
    len: u8,
    /// Length of the whole sequence that the lead byte announced.
    need: u8,
}

impl TextDecoder {
    /// A decoder holding no bytes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one byte; calls `out` for each character completed (0, 1 or several, e.g. when a pending sequence turns out invalid, its bytes come out as 8-bit chars followed by the decode of this byte).
    pub fn push(&mut self, byte: u8, out: &mut impl FnMut(char)) {
        if self.len > 0 {
            if continues(self.pending[0], self.len, byte) {
                let len = usize::from(self.len);
                if len + 1 < usize::from(self.need) {
                    self.pending[len] = byte;
                    self.len += 1;
                } else {
                    self.len = 0;
                    self.complete(byte, out);
                }
                return;
            }
            // The byte that broke the sequence may well start a new one.
            self.finish(out);
        }
        match byte {
            0xC2..=0xDF => self.hold(byte, 2),
            0xE0..=0xEF => self.hold(byte, 3),
            0xF0..=0xF4 => self.hold(byte, 4),
            // ASCII is the same character in UTF-8 and Latin-1; stray
            // continuation bytes, overlong leads (C0, C1) and leads beyond
            // U+10FFFF (F5..FF) can never begin valid UTF-8, so are 8-bit.
            _ => out(decode_8bit(byte)),
        }
    }

    /// End of input: any pending bytes come out as 8-bit characters.
    pub fn finish(&mut self, out: &mut impl FnMut(char)) {
        let len = usize::from(self.len);
        self.len = 0;
        for &b in &self.pending[..len] {
            out(decode_8bit(b));
        }
    }

    /// True when bytes of an incomplete sequence are held.
    pub fn is_pending(&self) -> bool {
        self.len > 0
    }

    fn hold(&mut self, lead: u8, need: u8) {
        self.pending[0] = lead;
        self.len = 1;
        self.need = need;
    }

    /// Gives out the character whose last byte is `last` and whose other
    /// bytes are held.
    fn complete(&self, last: u8, out: &mut impl FnMut(char)) {
        let held = &self.pending[..usize::from(self.need) - 1];
        let lead_bits = match self.need {
            2 => 0x1F,
            3 => 0x0F,
            _ => 0x07,
        };
        let value = held[1..]
            .iter()
            .chain(std::iter::once(&last))
            .fold(u32::from(held[0] & lead_bits), |v, &b| {
                (v << 6) | u32::from(b & 0x3F)
            });
        match char::from_u32(value) {
            Some(c) => out(c),
            // `continues` already rejected overlongs, surrogates and values
            // past U+10FFFF, so this cannot happen; if it did, still lose no byte.
            None => {
                for &b in held.iter().chain(std::iter::once(&last)) {
                    out(decode_8bit(b));
                }
            }
        }
    }
}

/// Whether `byte` may follow `held` bytes of a sequence that began with
/// `lead`. The narrowed second-byte ranges are what make overlong forms,
/// UTF-16 surrogates and values past U+10FFFF invalid (RFC 3629).
fn continues(lead: u8, held: u8, byte: u8) -> bool {
    let range = match (held, lead) {
        (1, 0xE0) => 0xA0..=0xBF,
        (1, 0xED) => 0x80..=0x9F,
        (1, 0xF0) => 0x90..=0xBF,
        (1, 0xF4) => 0x80..=0x8F,
        _ => 0x80..=0xBF,
    };
    range.contains(&byte)
}

/// Decodes a whole byte string with the same rules as `TextDecoder`.
pub fn decode(bytes: &[u8]) -> String {
    // The standard library splits invalid input into "maximal subparts",
    // the same rule `TextDecoder` follows; having two implementations lets
    // the tests check one against the other.
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        text.extend(chunk.invalid().iter().map(|&b| decode_8bit(b)));
    }
    text
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most characters (Unicode scalar values) a sanitized line may keep; a longer line is cut at a grapheme boundary at or below this.
    pub max_chars: usize,
    /// Most combining marks kept per grapheme cluster; further marks in the same cluster are removed (stops "Zalgo" text that covers other lines).
    pub max_marks_per_grapheme: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_chars: 1000,
            max_marks_per_grapheme: 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    pub text: String,
    /// True when the line was cut at `max_chars` (the caller tells the user).
    pub truncated: bool,
}

/// Returns what may be shown to other users of `input`.
pub fn sanitize(input: &str, limits: &Limits) -> Sanitized {
    let mut text = strip_controls(input);
    collapse_blanks(&mut text);
    let max_marks = limits.max_marks_per_grapheme;
    let marks_removed = match limit_marks(&text, max_marks) {
        Some(fewer) => {
            text = fewer;
            true
        }
        None => false,
    };
    let truncated = cut_at_grapheme(&mut text, limits.max_chars);
    if marks_removed {
        // Removing a mark can join two clusters into one (a ZWJ or a virama
        // that no longer sits before a mark now links to what follows), and
        // the joined cluster may again carry too many marks; it can also
        // leave two blanks side by side. Repeating until nothing changes
        // makes `sanitize` idempotent. This runs after the cut so that it
        // costs at most `max_chars` per round, and each round that changes
        // something makes the line shorter.
        loop {
            let fewer = limit_marks(&text, max_marks);
            let changed = fewer.is_some();
            if let Some(fewer) = fewer {
                text = fewer;
            }
            if !(collapse_blanks(&mut text) | changed) {
                break;
            }
        }
    }
    Sanitized { text, truncated }
}

/// True for a character that `sanitize` always removes on its own (controls, bidi controls, ...); used by the line editor to not echo such a character. (A tab is not "forbidden": sanitize turns it into a space.)
pub fn is_forbidden(c: char) -> bool {
    matches!(
        c,
        // C0 controls (a tab becomes a space instead), DEL and C1 controls:
        // they move the cursor, clear lines or start escape sequences.
        '\u{0}'..='\u{8}'
            | '\u{a}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            // Bidi marks, embeddings, overrides and isolates reorder what
            // follows, so a user could make text appear to be someone else's.
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            // Line and paragraph separators break lines on some terminals.
            | '\u{2028}'
            | '\u{2029}'
            // Invisible characters that let two different lines or names look
            // the same.
            | '\u{200b}'
            | '\u{2060}'..='\u{2064}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

/// Where an escape sequence being removed has got to.
#[derive(Clone, Copy)]
enum Escape {
    /// Not in a sequence: characters are text.
    None,
    /// After ESC.
    Esc,
    /// After ESC and one or more intermediate bytes (e.g. `ESC (`), which
    /// start at byte `from` of the input.
    Intermediate { from: usize },
    /// Inside a control sequence (CSI), waiting for its final byte; its
    /// parameters start at byte `from` of the input.
    Csi { from: usize },
    /// Inside a control string (OSC, DCS, SOS, PM, APC), waiting for ST;
    /// BEL also ends an OSC, as xterm accepts. Entered only when the line
    /// holds a terminator further on.
    String { bel_ends: bool },
}

/// Where the last control-string terminators of a line are, so that a string
/// is taken as one only when something ends it within the line.
struct Terminators {
    /// The last ESC or ST (ESC ends a string too: what follows it is a new
    /// sequence).
    last_st: Option<usize>,
    /// The last BEL, which ends an OSC.
    last_bel: Option<usize>,
}

impl Terminators {
    fn of(input: &str) -> Terminators {
        Terminators {
            last_st: input.rfind(['\u{1b}', '\u{9c}']),
            last_bel: input.rfind('\u{7}'),
        }
    }

    /// The state after a string introducer at byte `at`: the string, if it
    /// ends within the line; otherwise the introducer alone is dropped and
    /// the rest of the line stays text (a stray C1 byte once took it all).
    fn string(&self, at: usize, bel_ends: bool) -> Escape {
        let after = |end: Option<usize>| end.is_some_and(|end| end > at);
        if after(self.last_st) || (bel_ends && after(self.last_bel)) {
            Escape::String { bel_ends }
        } else {
            Escape::None
        }
    }
}

/// Steps 1 to 3: removes escape sequences whole, turns tabs into spaces and
/// removes every forbidden character. Only a whole sequence is removed: one
/// that the line breaks off or leaves unfinished loses its introducer (and
/// intermediates), and its parameters stay as the text they are, so that
/// nothing after a stray introducer is lost.
fn strip_controls(input: &str) -> String {
    let mut text = String::with_capacity(input.len());
    let ends = Terminators::of(input);
    let mut state = Escape::None;
    for (at, c) in input.char_indices() {
        let next = at + c.len_utf8();
        state = match state {
            Escape::None => plain(c, at, &ends, &mut text),
            Escape::Esc => match c {
                '[' => Escape::Csi { from: next },
                ']' => ends.string(at, true),
                'P' | 'X' | '^' | '_' => ends.string(at, false),
                ' '..='/' => Escape::Intermediate { from: at },
                // A final byte: a whole two-character sequence (`ESC c`).
                '0'..='~' => Escape::None,
                // Anything else is no sequence: a second ESC or a C1
                // introducer starts over, so that "ESC ESC [ A" (Esc then
                // an arrow key) does not leave "[A"; other text stays.
                _ => plain(c, at, &ends, &mut text),
            },
            Escape::Intermediate { from } => match c {
                ' '..='/' => state,
                '0'..='~' => Escape::None,
                _ => {
                    text.push_str(&input[from..at]);
                    plain(c, at, &ends, &mut text)
                }
            },
            Escape::Csi { from } => match c {
                // Parameter and intermediate bytes; taken in any order since
                // terminals swallow a malformed sequence up to its final byte.
                ' '..='?' => state,
                '@'..='~' => Escape::None,
                // Broken: what it held is plain text again, and so is `c`.
                _ => {
                    text.push_str(&input[from..at]);
                    plain(c, at, &ends, &mut text)
                }
            },
            Escape::String { bel_ends } => match c {
                '\u{7}' if bel_ends => Escape::None,
                '\u{9c}' => Escape::None,
                // Terminals end the string at any ESC and read what follows
                // as a new sequence; "ESC \" (ST) is then one such sequence.
                '\u{1b}' => Escape::Esc,
                _ => state,
            },
        };
    }
    // A sequence the line left unfinished gives back what it held (only
    // printable ASCII). A string cannot be open here: it was entered only
    // with a terminator ahead. A lone ESC at the end has nothing to give.
    if let Escape::Csi { from } | Escape::Intermediate { from } = state {
        text.push_str(&input[from..]);
    }
    text
}

/// Handles `c`, at byte `at` of the input, outside any escape sequence.
fn plain(c: char, at: usize, ends: &Terminators, text: &mut String) -> Escape {
    match c {
        '\u{1b}' => Escape::Esc,
        '\u{9b}' => Escape::Csi {
            from: at + c.len_utf8(),
        },
        '\u{9d}' => ends.string(at, true),
        '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => ends.string(at, false),
        '\t' => {
            text.push(' ');
            Escape::None
        }
        c if is_forbidden(c) => Escape::None,
        c => {
            text.push(c);
            Escape::None
        }
    }
}

/// Blank space a user could pad a line with: the space (a tab is one by
/// now), Unicode's other space separators (no-break, en to hair, narrow,
/// medium, ideographic, ogham), and characters that show as nothing but take
/// columns (the braille blank, the Hangul fillers).
fn is_blank(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{2800}'
                | '\u{115f}'
                | '\u{3164}'
                | '\u{ffa0}'
    )
}

/// Characters that show nothing and take no column, which `is_forbidden`
/// keeps because text needs them elsewhere (joiners in emoji and Persian,
/// the soft hyphen, variation selectors): between blanks they would split
/// a run of padding into runs of one.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180e}'
            | '\u{200c}'
            | '\u{200d}'
            | '\u{fe00}'..='\u{fe0f}'
    )
}

/// Step 3b: every run of blank and invisible characters that holds at least
/// one blank becomes one ASCII space (a lone no-break or ideographic space
/// included: one kind of space is simpler to reason about, and tavern does
/// its own wrapping). Returns whether anything changed.
fn collapse_blanks(text: &mut String) -> bool {
    if text.is_ascii() && !text.contains("  ") {
        return false;
    }
    let mut out = String::with_capacity(text.len());
    // The run being read: where it started, and whether it has a blank.
    let mut run: Option<(usize, bool)> = None;
    let end_run = |run: &mut Option<(usize, bool)>, at: usize, out: &mut String| match run.take() {
        Some((_, true)) => out.push(' '),
        Some((start, false)) => out.push_str(&text[start..at]),
        None => {}
    };
    for (at, c) in text.char_indices() {
        let blank = is_blank(c);
        if blank || is_invisible(c) {
            let (_, has_blank) = run.get_or_insert((at, false));
            *has_blank |= blank;
        } else {
            end_run(&mut run, at, &mut out);
            out.push(c);
        }
    }
    end_run(&mut run, text.len(), &mut out);
    let changed = out != *text;
    *text = out;
    changed
}

/// Step 4: keeps at most `max` combining marks in each grapheme cluster.
/// Returns `None` when nothing had to be removed.
fn limit_marks(text: &str, max: usize) -> Option<String> {
    // If the whole line has no more than `max` marks, no cluster can have
    // more, and segmenting the line would be wasted work.
    if text.is_ascii()
        || text
            .chars()
            .filter(|&c| is_combining_mark(c))
            .nth(max)
            .is_none()
    {
        return None;
    }
    // Allocated only once the first cluster with too many marks is found.
    let mut limited: Option<String> = None;
    for (start, cluster) in text.grapheme_indices(true) {
        let marks = cluster.chars().filter(|&c| is_combining_mark(c)).count();
        if marks <= max {
            if let Some(out) = limited.as_mut() {
                out.push_str(cluster);
            }
            continue;
        }
        let out = limited.get_or_insert_with(|| {
            let mut out = String::with_capacity(text.len());
            out.push_str(&text[..start]);
            out
        });
        let mut seen = 0;
        for c in cluster.chars() {
            if is_combining_mark(c) {
                seen += 1;
                if seen > max {
                    continue;
                }
            }
            out.push(c);
        }
    }
    limited
}

/// Step 5: cuts `text` at the last grapheme boundary at or below `max_chars`
/// characters, so that no cluster is split (a base letter without its marks,
/// half a flag). Returns whether anything was cut.
fn cut_at_grapheme(text: &mut String, max_chars: usize) -> bool {
    // A byte count at or below the limit bounds the character count too.
    if text.len() <= max_chars || text.chars().count() <= max_chars {
        return false;
    }
    let mut kept_chars = 0;
    let mut end = 0;
    for (start, cluster) in text.grapheme_indices(true) {
        let chars = cluster.chars().count();
        if kept_chars + chars > max_chars {
            break;
        }
        kept_chars += chars;
        end = start + cluster.len();
    }
    text.truncate(end);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expected: &str) {
        let out = sanitize(input, &Limits::default());
        assert_eq!(out.text, expected, "sanitize({input:?})");
        assert!(!out.truncated, "sanitize({input:?}) should not truncate");
    }

    fn check_all(cases: &[(&str, &str)]) {
        for (input, expected) in cases {
            check(input, expected);
        }
    }

    #[test]
    fn plain_text_passes_and_a_tab_becomes_a_space() {
        check_all(&[
            ("hello", "hello"),
            ("a\tb", "a b"),
            (" one space stays ", " one space stays "),
        ]);
    }

    #[test]
    fn escape_sequences_are_removed_whole() {
        check_all(&[
            ("\x1b[31mred\x1b[0m", "red"),
            ("\x1b]0;title\x07text", "text"),
            ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
            ("\x1bPqdata\x1b\\after", "after"),
            ("\u{9b}31mx", "x"),
            ("\u{9d}0;title\u{9c}x", "x"),
            ("a\x1bcb", "ab"),
            ("\x1b[A\x1b[B", ""),
            ("\x1b(Bx", "x"),
            ("x\x1b", "x"),
            ("\x1b[12", "12"),
            ("\x1b]0;never ends", "0;never ends"),
            ("\x1b\x1b[Ax", "x"),
        ]);
    }

    #[test]
    fn a_broken_sequence_drops_only_its_introducer() {
        check_all(&[
            ("\x1b[12é", "12é"),
            ("\x1b[1\rok", "1ok"),
            ("\x1b(é", "(é"),
            ("\x1b é", " é"),
            ("\x1bé", "é"),
            ("a\x1b[1;2", "a1;2"),
            ("\u{9b}12 é", "12 é"),
            ("\u{9b}12 ok", "k"),
            ("\u{9b}12", "12"),
        ]);
    }

    /// `Ružièka` read as Latin-1 held U+009E (PM), which opened a control
    /// string no terminator closed, and everything after it was dropped.
    /// Each C1 or ESC string introducer, with no terminator in the rest of
    /// the line, now loses only itself.
    #[test]
    fn an_unterminated_control_string_never_takes_the_rest_of_the_line() {
        for introducer in [
            "\u{90}", "\u{98}", "\u{9d}", "\u{9e}", "\u{9f}", "\x1bP", "\x1bX", "\x1b]", "\x1b^",
            "\x1b_",
        ] {
            check(&format!("Ru{introducer}ièka"), "Ruièka");
            check(&format!("{introducer}es!"), "es!");
            // A BEL ends only an OSC; for the others it is no terminator.
            let osc = introducer == "\u{9d}" || introducer == "\x1b]";
            let expected = if osc { "after" } else { "titleafter" };
            check(&format!("{introducer}title\x07after"), expected);
            // With a terminator ahead it is a string, removed whole.
            check(&format!("a{introducer}hidden\u{9c}b"), "ab");
            check(&format!("a{introducer}hidden\x1b\\b"), "ab");
        }
    }

    #[test]
    fn runs_of_blanks_become_one_space() {
        check_all(&[
            ("a  b", "a b"),
            ("   lead and trail   ", " lead and trail "),
            ("a\t\t b", "a b"),
            ("x\u{a0}\u{a0}\u{a0}y", "x y"),
            ("x\u{a0}y", "x y"),
            ("x\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}y", "x y"),
            ("x\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}y", "x y"),
            ("x\u{3000}\u{3000}y", "x y"),
            ("x\u{202f}\u{205f}\u{1680}y", "x y"),
            ("x\u{2800}\u{2800}\u{3164}\u{ffa0}\u{115f}y", "x y"),
            // Invisible characters between blanks do not split the run.
            ("x \u{200b} \u{200b} y", "x y"),
            (
                "x \u{200d} \u{200c} \u{ad} \u{fe0f} \u{34f} \u{180e} y",
                "x y",
            ),
            ("x \u{2060} \u{feff} y", "x y"),
            // Without a blank they are left to what they join.
            ("👨\u{200d}👩", "👨\u{200d}👩"),
            ("می\u{200c}خواهم", "می\u{200c}خواهم"),
            // A space a removed escape or control leaves beside another.
            ("a \x1b[1m b", "a b"),
            ("a \u{7} b", "a b"),
        ]);
        let padded = format!("hi{}*** admin has joined lobby", " ".repeat(75));
        check(&padded, "hi *** admin has joined lobby");
    }

    #[test]
    fn controls_are_removed_so_nothing_overwrites_a_line() {
        check_all(&[
            ("ab\rcd", "abcd"),
            ("a\nb", "ab"),
            ("x\u{7f}y", "xy"),
            ("\u{0}\u{1}\u{85}z", "z"),
            ("bell\u{7}", "bell"),
        ]);
    }

    #[test]
    fn bidi_controls_and_invisible_characters_are_removed() {
        check_all(&[
            ("\u{202e}evil\u{202c}", "evil"),
            ("a\u{2066}b\u{2069}", "ab"),
            ("\u{200b}x\u{feff}", "x"),
            ("a\u{200e}\u{200f}\u{61c}b", "ab"),
            ("a\u{2028}b\u{2029}c", "abc"),
            ("x\u{e0041}\u{e007f}", "x"),
        ]);
    }

    #[test]
    fn joiners_and_other_scripts_are_kept() {
        check_all(&[
            ("👨\u{200d}👩", "👨\u{200d}👩"),
            ("می\u{200c}خواهم", "می\u{200c}خواهم"),
            ("你好", "你好"),
            ("🇫🇷 👍🏽", "🇫🇷 👍🏽"),
            ("café", "café"),
        ]);
    }

    #[test]
    fn marks_beyond_the_limit_are_removed_from_each_cluster() {
        let zalgo = format!("e{}", "\u{301}".repeat(500));
        check(&zalgo, &format!("e{}", "\u{301}".repeat(4)));
        let leading = "\u{301}".repeat(9);
        check(&leading, &"\u{301}".repeat(4));
        let two = format!("a{0}b{0}", "\u{300}".repeat(6));
        check(&two, &format!("a{0}b{0}", "\u{300}".repeat(4)));
    }

    #[test]
    fn marks_stay_limited_when_a_removal_joins_two_clusters() {
        let marks = "\u{301}".repeat(4);
        // The fifth mark keeps the ZWJ away from the second emoji; once it is
        // removed, the ZWJ joins both emoji into one cluster with 8 marks.
        let input = format!("😀{marks}\u{200d}\u{301}😀{marks}");
        let out = sanitize(&input, &Limits::default()).text;
        assert_eq!(out, format!("😀{marks}\u{200d}😀"));
        assert_eq!(sanitize(&out, &Limits::default()).text, out);
    }

    #[test]
    fn a_long_line_is_cut_at_max_chars() {
        let out = sanitize(&"a".repeat(1500), &Limits::default());
        assert_eq!(out.text, "a".repeat(1000));
        assert!(out.truncated);
    }

    #[test]
    fn a_cut_never_splits_a_grapheme() {
        let limits = Limits {
            max_chars: 5,
            ..Limits::default()
        };
        let out = sanitize(&"e\u{301}".repeat(10), &limits);
        assert_eq!(out.text, "e\u{301}".repeat(2));
        assert!(out.truncated);
    }

    #[test]
    fn a_line_at_exactly_max_chars_is_not_truncated() {
        let limits = Limits {
            max_chars: 3,
            ..Limits::default()
        };
        let out = sanitize("你好吗", &limits);
        assert_eq!(out.text, "你好吗");
        assert!(!out.truncated);
    }

    #[test]
    fn forbidden_means_removed_on_its_own_but_not_tab() {
        assert!(!is_forbidden('\t'));
        assert!(!is_forbidden(' '));
        assert!(!is_forbidden('\u{200d}'));
        assert!(!is_forbidden('\u{200c}'));
        // Escape introducers are forbidden too, though in a line they also
        // take what follows them.
        assert!(is_forbidden('\u{1b}'));
        assert!(is_forbidden('\u{9b}'));
        for c in [
            '\r', '\n', '\u{0}', '\u{7f}', '\u{85}', '\u{202e}', '\u{feff}',
        ] {
            assert!(is_forbidden(c), "{c:?}");
            assert_eq!(sanitize(&format!("a{c}b"), &Limits::default()).text, "ab");
        }
    }

    fn check_decode(input: &[u8], expected: &str) {
        assert_eq!(decode(input), expected, "decode({input:?})");
        assert_eq!(decode_bytewise(input), expected, "push({input:?})");
    }

    fn decode_bytewise(bytes: &[u8]) -> String {
        let mut decoder = TextDecoder::new();
        let mut text = String::new();
        let mut out = |c| text.push(c);
        for &b in bytes {
            decoder.push(b, &mut out);
        }
        decoder.finish(&mut out);
        assert!(!decoder.is_pending());
        text
    }

    #[test]
    fn decode_takes_utf8_and_falls_back_to_latin1_per_byte() {
        check_decode(b"caf\xe9", "café");
        check_decode(b"\xe4\xbd\xa0", "你");
        check_decode(b"\xe4\xbd", "\u{e4}\u{bd}");
        check_decode(b"\xe4x", "\u{e4}x");
        check_decode(b"\xe4\xe4\xbd\xa0", "\u{e4}你");
        check_decode(b"\xc0\xaf", "\u{c0}\u{af}");
        check_decode(b"\xed\xa0\x80", "\u{ed}\u{a0}€");
        check_decode(b"\xf4\x90\x80\x80", "\u{f4}\u{fffd}€€");
        check_decode("😀".as_bytes(), "😀");
    }

    /// Each byte from 0x80 to 0x9F that is not UTF-8 is Windows-1252, what
    /// 8-bit clients send, never a C1 control (which would be removed, or
    /// would take the rest of the line with it).
    #[test]
    fn bytes_0x80_to_0x9f_outside_utf8_are_windows_1252() {
        let table = "€\u{fffd}‚ƒ„…†‡ˆ‰Š‹Œ\u{fffd}Ž\u{fffd}\u{fffd}‘’“”•–—˜™š›œ\u{fffd}žŸ";
        for (byte, expected) in (0x80u8..=0x9F).zip(table.chars()) {
            check_decode(&[b'a', byte, b'b'], &format!("a{expected}b"));
            let typed = decode(&[b'a', byte, b'b']);
            check(&typed, &format!("a{expected}b"));
        }
        check_decode(b"\x9fes!", "Ÿes!");
        check_decode(b"Ru\x9ei\xe8ka", "Ružièka");
        check(&decode(b"Ru\x9ei\xe8ka"), "Ružièka");
        // Inside valid UTF-8 the same bytes are continuation bytes.
        check_decode("€ž".as_bytes(), "€ž");
    }

    #[test]
    fn the_decoder_reports_pending_bytes() {
        let mut decoder = TextDecoder::new();
        let mut seen = Vec::new();
        decoder.push(0xE4, &mut |c| seen.push(c));
        assert!(decoder.is_pending());
        decoder.push(0xBD, &mut |c| seen.push(c));
        assert!(decoder.is_pending());
        decoder.push(0xA0, &mut |c| seen.push(c));
        assert!(!decoder.is_pending());
        assert_eq!(seen, ['你']);
    }

    #[test]
    fn overlong_surrogate_and_out_of_range_sequences_stay_latin1() {
        // Overlong forms of '/' and NUL must never decode to that character.
        check_decode(b"\xe0\x80\xaf", "\u{e0}€\u{af}");
        check_decode(b"\xf0\x80\x80\xaf", "\u{f0}€€\u{af}");
        check_decode(b"\xe0\x80\x80", "\u{e0}€€");
        // An encoded UTF-16 surrogate and a value past U+10FFFF.
        check_decode(b"\xed\xbf\xbfok", "\u{ed}\u{bf}\u{bf}ok");
        check_decode(b"\xf4\x90\x80\x80", "\u{f4}\u{fffd}€€");
        // The highest valid values just below those limits decode.
        check_decode(b"\xed\x9f\xbf", "\u{d7ff}");
        check_decode(b"\xf4\x8f\xbf\xbf", "\u{10ffff}");
        check_decode(b"\xe0\xa0\x80", "\u{800}");
        check_decode(b"\xf0\x90\x80\x80", "\u{10000}");
    }

    #[test]
    fn the_decoder_gives_out_a_byte_as_soon_as_no_character_can_follow() {
        // Each pair is a lead byte and a second byte no valid sequence has
        // after it: what cannot be UTF-8 is Latin-1 at once, so the line
        // editor echoes it right away instead of holding it for bytes that
        // cannot help.
        for pair in [
            [0xE0, 0x9F],
            [0xED, 0xA0],
            [0xF0, 0x8F],
            [0xF4, 0x90],
            [0xC3, 0xC3],
        ] {
            let mut decoder = TextDecoder::new();
            let mut seen = Vec::new();
            decoder.push(pair[0], &mut |c| seen.push(c));
            assert!(decoder.is_pending(), "{pair:x?}");
            decoder.push(pair[1], &mut |c| seen.push(c));
            if pair[1] < 0xC0 {
                assert_eq!(seen, pair.map(decode_8bit), "{pair:x?}");
                assert!(!decoder.is_pending(), "{pair:x?}");
            } else {
                // A lead byte breaks the sequence and starts its own.
                assert_eq!(seen, [decode_8bit(pair[0])], "{pair:x?}");
                assert!(decoder.is_pending(), "{pair:x?}");
            }
        }
    }

    #[test]
    fn an_escape_with_several_intermediate_bytes_is_removed_whole() {
        check_all(&[
            // Designate a multibyte set to G0 (ECMA-35): two intermediates.
            ("\x1b$(Bx", "x"),
            ("a\x1b$)Cb", "ab"),
            ("\x1b ! #0ok", "ok"),
        ]);
    }

    #[test]
    fn only_an_osc_ends_at_bel_other_control_strings_run_to_st() {
        check_all(&[
            // DCS, APC, PM and SOS: a BEL is part of the string.
            ("\x1bPq\x07hidden\x1b\\shown", "shown"),
            ("\x1b_app\x07hidden\x1b\\shown", "shown"),
            ("\x1b^pm\x07hidden\u{9c}shown", "shown"),
            ("\u{90}dcs\x07hidden\u{9c}shown", "shown"),
            // OSC: either ends it.
            ("\x1b]2;t\x07shown", "shown"),
            ("\u{9d}2;t\x1b\\shown", "shown"),
        ]);
    }

    const TRICKY: &str = "\x1b[]\\(P^_X;09ma \t\r\n\x07\x7f\u{85}\u{90}\u{9b}\u{9c}\u{9d}\
        \u{300}\u{301}\u{94d}\u{fe0f}ke\u{915}\u{1f600}\u{1f1eb}\
        \u{200c}\u{200d}\u{202e}\u{2066}\u{feff}\u{e0041}\u{a0}\u{3000}\u{2800}\u{ad}\u{fe0f}";

    /// Characters that exercise the escape parser, the filters and the
    /// grapheme rules far more often than arbitrary strings would.
    fn tricky_char() -> impl Strategy<Value = char> {
        prop_oneof![
            any::<char>(),
            proptest::sample::select(TRICKY.chars().collect::<Vec<_>>()),
        ]
    }

    /// Bytes biased toward UTF-8 lead and continuation bytes.
    fn tricky_bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![any::<u8>(), 0x80u8..=0xBF, 0xC0u8..=0xF5, 0x00u8..=0x7F],
            0..64,
        )
    }

    proptest! {
        #[test]
        fn sanitized_text_is_clean_short_and_stable(
            chars in proptest::collection::vec(tricky_char(), 0..120),
            max_chars in 0usize..60,
            max_marks in 0usize..5,
        ) {
            let input: String = chars.into_iter().collect();
            let limits = Limits { max_chars, max_marks_per_grapheme: max_marks };
            let out = sanitize(&input, &limits);
            for c in out.text.chars() {
                prop_assert!(!is_forbidden(c), "{c:?} in {:?}", out.text);
                prop_assert!(!c.is_control(), "{c:?} in {:?}", out.text);
            }
            prop_assert!(out.text.chars().count() <= max_chars);
            let mut chars = out.text.chars().filter(|&c| !is_invisible(c));
            let mut previous_blank = false;
            for c in chars.by_ref() {
                prop_assert!(!(previous_blank && is_blank(c)), "a run of blanks in {:?}", out.text);
                previous_blank = is_blank(c);
            }
            for cluster in out.text.graphemes(true) {
                let marks = cluster.chars().filter(|&c| is_combining_mark(c)).count();
                prop_assert!(marks <= max_marks, "{cluster:?}");
            }
            let again = sanitize(&out.text, &limits);
            prop_assert_eq!(&again.text, &out.text);
            prop_assert!(!again.truncated);
        }

        #[test]
        fn sanitize_changes_nothing_in_arbitrary_clean_text(input in "( ?[a-zA-Z0-9.,!?éü你好]{1,8}){0,10} ?") {
            prop_assert_eq!(sanitize(&input, &Limits::default()).text, input);
        }

        #[test]
        fn the_decoder_fed_bytewise_equals_decode(bytes in tricky_bytes()) {
            prop_assert_eq!(decode_bytewise(&bytes), decode(&bytes));
        }

        #[test]
        fn decode_of_valid_utf8_is_that_text(text in any::<String>()) {
            prop_assert_eq!(decode(text.as_bytes()), text.clone());
            prop_assert_eq!(decode_bytewise(text.as_bytes()), text);
        }

        #[test]
        fn decode_of_8bit_text_maps_each_byte_to_its_char(
            bytes in proptest::collection::vec(prop_oneof![0x00u8..=0x7F, 0x80u8..=0xC1, 0xF5u8..=0xFF], 0..64),
        ) {
            // None of these bytes can start a multi-byte sequence, so each
            // one stands for itself.
            let expected: String = bytes.iter().map(|&b| decode_8bit(b)).collect();
            prop_assert_eq!(decode(&bytes), expected.clone());
            prop_assert_eq!(decode_bytewise(&bytes), expected);
        }

        #[test]
        fn decode_loses_no_byte_between_valid_text(
            parts in proptest::collection::vec(
                prop_oneof![
                    any::<String>().prop_map(Ok),
                    prop_oneof![0x80u8..=0xC1, 0xF5u8..=0xFF].prop_map(Err),
                ],
                0..12,
            ),
        ) {
            let mut bytes = Vec::new();
            let mut expected = String::new();
            for part in &parts {
                match part {
                    Ok(text) => {
                        bytes.extend_from_slice(text.as_bytes());
                        expected.push_str(text);
                    }
                    Err(b) => {
                        bytes.push(*b);
                        expected.push(decode_8bit(*b));
                    }
                }
            }
            prop_assert_eq!(decode(&bytes), expected.clone());
            prop_assert_eq!(decode_bytewise(&bytes), expected);
        }
    }
}
