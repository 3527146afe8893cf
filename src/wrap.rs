//! Wrapping a rendered line to one recipient's window width.
//!
//! Clients report their window width over telnet NAWS, and a chat line wider
//! than the window would be wrapped by the terminal at whatever column it
//! reaches, splitting words and putting continuation text under the nick. So
//! the session wraps such lines itself: at spaces, by display columns (grapheme
//! clusters, wide CJK and emoji, not bytes or chars), with a hanging indent
//! that keeps continuation rows under the text.
//!
//! Widths differ per recipient while [`crate::render`] produces one rendering
//! shared by everyone, so this is per-recipient work: the session calls
//! [`wrap`] only when a line is wider than that recipient's window, writing
//! into its own buffer. The shared rendered bytes are never changed, and
//! recipients whose window is wide enough (nearly all lines) get them as they
//! are.
//!
//! Rendered lines carry color escapes. They take no columns, so they are not
//! counted, and they are copied through whole and in order, because a split
//! or lost escape leaves the terminal in the wrong color.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

const ESC: u8 = 0x1b;

/// Columns assumed for a client that never reported its window (no NAWS).
/// Left unwrapped, a line padded to the terminal's edge would make the
/// terminal start a row with the user's next words, at column 0 where only
/// system lines start (`*** admin has joined lobby`). Wrapped here, every
/// continuation row starts at the hanging indent instead. 80 is the width
/// terminals and MUD clients open with; a client that wraps wider (Mudlet's
/// default is 100) only sees lines break a little early.
pub const ASSUMED_WIDTH: usize = 80;

/// Display columns of `line`, skipping SGR/CSI escape sequences (ESC '[' params final-byte) and treating each grapheme cluster by unicode-width.
pub fn display_width(line: &str) -> usize {
    let mut width = 0;
    scan(line, |_, item| width += item.width());
    width
}

/// Appends `line` to `out` wrapped to rows of at most `width` columns.
/// `line` is one rendered line WITHOUT its trailing CR LF; it may contain ANSI CSI escape sequences (ESC [ ... final byte in 0x40..=0x7e), which take no columns and are copied through unchanged, in order, never split.
/// Rows are separated by "\r\n" followed by `indent` spaces (the hanging indent), where the effective indent is min(indent, width / 2) so a long prefix never leaves no room. No trailing "\r\n" is added after the last row.
/// If display_width(line) <= width, or width == 0, `line` is appended unchanged.
///
/// Rows break at spaces; the whole run of spaces at a break is dropped, so no
/// row starts or ends with the spaces it was broken at. A word wider than a
/// whole continuation row is broken between grapheme clusters, starting on
/// the row it begins on. Escapes go with the text
/// after them, so a color change at a break starts the next row.
pub fn wrap(line: &str, width: usize, indent: usize, out: &mut String) {
    // Width 0 means the client never told us (or told us nonsense): the
    // terminal's own wrapping is then the best there is.
    if width == 0 || display_width(line) <= width {
        out.push_str(line);
        return;
    }
    let mut items = Vec::new();
    scan(line, |_, item| items.push(item));

    // The caller sizes `out` (it knows the rest of what goes in it); a
    // narrow window's extra rows cost at most a reallocation.
    let indent = indent.min(width / 2);
    let mut rows = Rows {
        out,
        width,
        indent,
        limit: width,
        used: 0,
        filled: false,
        pending: String::new(),
    };

    // Leading spaces are not a break opportunity (there is nothing before them
    // to keep on a row), so they belong to the first word and are kept.
    let first = match items.iter().position(Item::is_glyph) {
        Some(start) => start + word_len(&items[start..]),
        None => items
            .iter()
            .rposition(|item| matches!(item, Item::Space))
            .map_or(0, |last| last + 1),
    };
    rows.fill(&items[..first]);

    let mut rest = &items[first..];
    while !rest.is_empty() {
        let gap_len = rest.iter().position(Item::is_glyph).unwrap_or(rest.len());
        let (gap, after) = rest.split_at(gap_len);
        let spaces = gap
            .iter()
            .filter(|item| matches!(item, Item::Space))
            .count();
        if after.is_empty() {
            // Trailing spaces that do not fit would only make an empty row.
            if rows.used + spaces <= rows.limit {
                rows.fill(gap);
            } else {
                rows.escapes(gap);
            }
            break;
        }
        let (word, next) = after.split_at(word_len(after));
        let word_width: usize = word.iter().map(|item| item.width()).sum();
        // A word wider than any continuation row is split wherever it
        // starts; moving it to a new row first would only leave this row
        // short for nothing (`ann: ` and then a 200-character URL).
        let splits_anyway = word_width > width - indent;
        let room_here = rows.used + spaces < rows.limit;
        if rows.used + spaces + word_width <= rows.limit || (splits_anyway && room_here) {
            rows.fill(gap);
        } else {
            rows.escapes(gap);
            if rows.filled {
                rows.break_row();
            }
        }
        rows.fill(word);
        rest = next;
    }
    rows.finish();
}

/// One piece of a line as wrapping sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item<'a> {
    /// A CSI escape sequence: no columns, never split.
    Escape(&'a str),
    /// A grapheme cluster that is exactly U+0020: where rows may break.
    Space,
    /// Any other grapheme cluster, with its display columns.
    Glyph(&'a str, usize),
}

impl<'a> Item<'a> {
    fn width(&self) -> usize {
        match self {
            Item::Escape(_) => 0,
            Item::Space => 1,
            Item::Glyph(_, width) => *width,
        }
    }

    fn text(&self) -> &'a str {
        match self {
            Item::Escape(text) | Item::Glyph(text, _) => text,
            Item::Space => " ",
        }
    }

    fn is_glyph(&self) -> bool {
        matches!(self, Item::Glyph(..))
    }
}

/// Length of the word at the start of `items` (which starts with a glyph):
/// up to its last glyph before a space. Escapes after that glyph are left out
/// so that they go with the text after the break, not before it.
fn word_len(items: &[Item<'_>]) -> usize {
    let mut len = 0;
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Space => break,
            Item::Glyph(..) => len = i + 1,
            Item::Escape(_) => {}
        }
    }
    len
}

/// Calls `f` with the byte offset and item of every piece of `line`, in order.
///
/// Grapheme clusters are found within the text between escapes only: a
/// combining mark after an escape must not be joined to the escape's final
/// byte, which would hide part of the escape inside a cluster.
fn scan<'a>(line: &'a str, mut f: impl FnMut(usize, Item<'a>)) {
    let bytes = line.as_bytes();
    let mut text_start = 0;
    let mut at = 0;
    while let Some(found) = bytes[at..].iter().position(|&b| b == ESC) {
        let esc = at + found;
        match csi_len(&bytes[esc..]) {
            Some(len) => {
                graphemes(line, text_start, esc, &mut f);
                f(esc, Item::Escape(&line[esc..esc + len]));
                at = esc + len;
                text_start = at;
            }
            // A lone or broken ESC is shown by the terminal somehow; counting
            // it as text keeps the width an upper bound rather than a guess.
            None => at = esc + 1,
        }
    }
    graphemes(line, text_start, line.len(), &mut f);
}

fn graphemes<'a>(line: &'a str, start: usize, end: usize, f: &mut impl FnMut(usize, Item<'a>)) {
    for (offset, cluster) in line[start..end].grapheme_indices(true) {
        let item = if cluster == " " {
            Item::Space
        } else {
            Item::Glyph(cluster, cluster.width())
        };
        f(start + offset, item);
    }
}

/// Byte length of the CSI sequence that `bytes` starts with, if it starts with
/// a complete one: ESC '[', parameter and intermediate bytes (0x20..=0x3f),
/// one final byte (0x40..=0x7e).
///
/// The scan stops at the first byte that does not belong, and ESC never
/// belongs, so scans of successive escapes never overlap: the whole line is
/// looked at a bounded number of times.
fn csi_len(bytes: &[u8]) -> Option<usize> {
    let body = bytes.strip_prefix(b"\x1b[")?;
    let params = body
        .iter()
        .take_while(|&&b| (0x20..=0x3f).contains(&b))
        .count();
    match body.get(params) {
        Some(0x40..=0x7e) => Some(2 + params + 1),
        _ => None,
    }
}

/// The row being filled, written straight into the output.
struct Rows<'o> {
    out: &'o mut String,
    width: usize,
    indent: usize,
    /// Columns this row may hold: `width` on the first row, less the indent
    /// after.
    limit: usize,
    /// Columns taken on this row; above `limit` only when one grapheme is
    /// wider than the whole row.
    used: usize,
    /// Whether any grapheme is on this row yet. A row is never broken before
    /// it holds one, which is what makes every row consume input.
    filled: bool,
    /// Escapes read but not yet written: they are written just before the
    /// next grapheme, so that a break between them and it puts them on the
    /// row where that grapheme is.
    pending: String,
}

impl Rows<'_> {
    /// Places `items` from the current position, breaking between graphemes
    /// where the next one does not fit.
    fn fill(&mut self, items: &[Item<'_>]) {
        for item in items {
            match item {
                Item::Escape(text) => self.pending.push_str(text),
                Item::Space | Item::Glyph(..) => {
                    let width = item.width();
                    // Zero-width graphemes never need room, so they never
                    // start a row on their own.
                    if self.filled && width > 0 && self.used + width > self.limit {
                        self.break_row();
                    }
                    self.out.push_str(&self.pending);
                    self.pending.clear();
                    self.out.push_str(item.text());
                    self.used += width;
                    self.filled = true;
                }
            }
        }
    }

    /// Keeps the escapes of `items` and drops the rest (spaces at a break).
    fn escapes(&mut self, items: &[Item<'_>]) {
        for item in items {
            if let Item::Escape(text) = item {
                self.pending.push_str(text);
            }
        }
    }

    fn break_row(&mut self) {
        self.out.push_str("\r\n");
        self.out.extend(std::iter::repeat_n(' ', self.indent));
        self.limit = self.width - self.indent;
        self.used = 0;
        self.filled = false;
    }

    /// Escapes with no text after them stay at the end of the last row.
    fn finish(self) {
        self.out.push_str(&self.pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::ops::Range;

    fn wrapped(line: &str, width: usize, indent: usize) -> String {
        let mut out = String::new();
        wrap(line, width, indent, &mut out);
        out
    }

    fn items(line: &str) -> Vec<(usize, Item<'_>)> {
        let mut items = Vec::new();
        scan(line, |at, item| items.push((at, item)));
        items
    }

    fn escapes(line: &str) -> Vec<&str> {
        items(line)
            .into_iter()
            .filter_map(|(_, item)| match item {
                Item::Escape(text) => Some(text),
                _ => None,
            })
            .collect()
    }

    fn strip_escapes(line: &str) -> String {
        items(line)
            .into_iter()
            .filter(|(_, item)| !matches!(item, Item::Escape(_)))
            .map(|(_, item)| item.text())
            .collect()
    }

    #[test]
    fn display_width_counts_columns_not_bytes_or_escapes() {
        assert_eq!(display_width(""), 0);
        assert_eq!(display_width("hello"), 5);
        assert_eq!(display_width("\x1b[1;31mred\x1b[0m"), 3);
        assert_eq!(display_width("你好"), 4);
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(display_width("👨\u{200d}👩\u{200d}👧"), 2);
        // Not a complete CSI: the characters are shown, so they are counted.
        assert_eq!(display_width("\x1b[31"), 4);
        assert_eq!(display_width("\x1bx"), 2);
    }

    #[test]
    fn plain_text_breaks_at_spaces_under_a_hanging_indent() {
        assert_eq!(
            wrapped("ann: the quick brown fox jumps over the lazy dog", 20, 5),
            "ann: the quick brown\r\n     fox jumps over\r\n     the lazy dog"
        );
    }

    #[test]
    fn short_lines_and_width_zero_are_unchanged() {
        let line = "ann: hi \x1b[31mthere\x1b[0m";
        assert_eq!(wrapped(line, 0, 5), line);
        assert_eq!(wrapped(line, 80, 5), line);
        // Exactly as wide as the window still fits.
        assert_eq!(wrapped("abcde", 5, 2), "abcde");
        assert_eq!(wrapped("", 1, 0), "");
    }

    #[test]
    fn wrap_appends_to_what_is_in_out() {
        let mut out = String::from("> ");
        wrap("aaa bbb", 3, 0, &mut out);
        assert_eq!(out, "> aaa\r\nbbb");
    }

    #[test]
    fn spaces_inside_a_row_are_kept_and_dropped_at_a_break() {
        assert_eq!(wrapped("a  b   c dddddd", 8, 0), "a  b   c\r\ndddddd");
        assert_eq!(wrapped("hello   world", 7, 0), "hello\r\nworld");
        assert_eq!(wrapped("abc      ", 5, 0), "abc");
        assert_eq!(wrapped("abc  \x1b[0m   ", 5, 0), "abc\x1b[0m");
    }

    #[test]
    fn wide_characters_never_straddle_a_row() {
        assert_eq!(wrapped("你好世界你好世界", 10, 0), "你好世界你\r\n好世界");
        // 9 columns hold four characters and one spare column; the fifth
        // goes to the next row, which holds 9 - 2 = 7.
        assert_eq!(
            wrapped("你好世界你好世界", 9, 2),
            "你好世界\r\n  你好世\r\n  界"
        );
    }

    #[test]
    fn a_grapheme_wider_than_the_row_gets_a_row_of_its_own() {
        assert_eq!(wrapped("你好", 1, 0), "你\r\n好");
        assert_eq!(wrapped("a你b", 1, 3), "a\r\n你\r\nb");
    }

    #[test]
    fn emoji_sequences_and_combining_marks_stay_whole() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let line = format!("ok {family}{family}{family}");
        assert_eq!(
            wrapped(&line, 5, 0),
            format!("ok {family}\r\n{family}{family}")
        );
        let accented = "e\u{301}".repeat(7);
        assert_eq!(
            wrapped(&accented, 3, 0),
            [
                "e\u{301}".repeat(3),
                "e\u{301}".repeat(3),
                "e\u{301}".into()
            ]
            .join("\r\n")
        );
    }

    #[test]
    fn colors_survive_and_do_not_count() {
        assert_eq!(
            wrapped("\x1b[32m*** ann has joined the room\x1b[0m", 16, 4),
            "\x1b[32m*** ann has\r\n    joined the\r\n    room\x1b[0m"
        );
        assert_eq!(
            wrapped("\x1b[1m\x1b[35mann\x1b[0m: one two three", 10, 5),
            "\x1b[1m\x1b[35mann\x1b[0m: one\r\n     two\r\n     three"
        );
    }

    #[test]
    fn an_escape_before_a_break_moves_to_the_text_after_it() {
        assert_eq!(wrapped("ann: \x1b[31mred", 6, 2), "ann:\r\n  \x1b[31mred");
        assert_eq!(
            wrapped("ann: \x1b[31mred\x1b[0m words here", 8, 2),
            "ann: \x1b[31mred\r\n  \x1b[0mwords\r\n  here"
        );
        // Inside a hard-broken word too.
        assert_eq!(wrapped("abc\x1b[1mdef", 3, 0), "abc\r\n\x1b[1mdef");
    }

    #[test]
    fn a_word_longer_than_a_row_is_broken() {
        let word = "w".repeat(100);
        // It starts where it is: no short row is left before it.
        let expected = format!(
            "x: {}\r\n   {}\r\n   {}\r\n   {}",
            "w".repeat(27),
            "w".repeat(27),
            "w".repeat(27),
            "w".repeat(19)
        );
        assert_eq!(wrapped(&format!("x: {word}"), 30, 3), expected);
        // Only the long word is broken; the words around it are not.
        assert_eq!(wrapped("ab cdefgh ij", 4, 0), "ab c\r\ndefg\r\nh ij");
        // A word that fits a continuation row moves there whole.
        assert_eq!(wrapped("ab cdef", 5, 1), "ab\r\n cdef");
    }

    #[test]
    fn an_indent_wider_than_half_the_window_is_cut_to_half() {
        assert_eq!(
            wrapped("aaa bbb ccc ddd", 6, 10),
            "aaa\r\n   bbb\r\n   ccc\r\n   ddd"
        );
        assert_eq!(wrapped("ab cd", 3, 50), "ab\r\n cd");
    }

    #[test]
    fn leading_spaces_are_kept_as_part_of_the_first_word() {
        assert_eq!(wrapped("  ab cd", 4, 0), "  ab\r\ncd");
        assert_eq!(wrapped("      ab", 4, 0), "    \r\n  ab");
    }

    #[test]
    fn a_zero_width_character_never_starts_a_row() {
        // Even after a character already too wide for its row, a soft
        // hyphen (no columns) stays with it rather than take a row alone.
        assert_eq!(wrapped("你\u{ad}好", 1, 0), "你\u{ad}\r\n好");
        assert_eq!(wrapped("ab\u{ad}cd", 2, 0), "ab\u{ad}\r\ncd");
    }

    #[test]
    fn a_line_of_only_spaces_keeps_them_all() {
        // No glyph, so every space is a leading space: none is a break.
        assert_eq!(wrapped("      ", 4, 0), "    \r\n  ");
        assert_eq!(wrapped("     ", 4, 0), "    \r\n ");
        assert_eq!(
            wrapped("\x1b[7m      \x1b[0m", 4, 1),
            "\x1b[7m    \r\n   \x1b[0m"
        );
    }

    #[test]
    fn a_word_too_wide_for_a_continuation_row_starts_where_it_is() {
        // Continuation rows hold 6 columns: the 8-column word would be
        // split anyway, so it starts on the first row, not on a new one.
        assert_eq!(wrapped("ab cdefghij", 10, 4), "ab cdefghi\r\n    j");
    }

    #[test]
    fn no_row_ends_with_the_spaces_it_was_broken_at() {
        // The space exactly fills the first row: it is dropped, not left
        // at the end of that row before the long word moves on.
        assert_eq!(
            wrapped("abcdefghi wwwwwwwwwwww", 10, 0),
            "abcdefghi\r\nwwwwwwwwww\r\nww"
        );
        assert_eq!(
            wrapped("abcdefghi   wwwwwwwwwwww", 12, 2),
            "abcdefghi\r\n  wwwwwwwwww\r\n  ww"
        );
    }

    /// Words, spaces, wide and zero-width clusters, escapes, broken escapes
    /// and any other character except CR and LF (which would fake row
    /// breaks).
    fn piece(with_escapes: bool) -> BoxedStrategy<String> {
        let text = prop_oneof![
            4 => "[a-z]{1,12}",
            3 => Just(" ".to_owned()),
            1 => Just("   ".to_owned()),
            2 => proptest::sample::select(vec![
                "你", "好世界", "👨\u{200d}👩\u{200d}👧", "e\u{301}", "\u{301}", "🇫🇷",
                "\u{2764}\u{fe0f}", "\u{200b}", "\t", "\u{17d8}", "\u{1100}\u{1161}",
                "ab\u{301}c", " \u{301}",
            ])
            .prop_map(str::to_owned),
            1 => any::<char>()
                .prop_filter("no row breaks or escapes", |c| !matches!(c, '\r' | '\n' | '\x1b'))
                .prop_map(String::from),
        ];
        if !with_escapes {
            return text.boxed();
        }
        let escape = proptest::sample::select(vec![
            "\x1b[31m",
            "\x1b[0m",
            "\x1b[1;32m",
            "\x1b[ q",
            "\x1b[?25h",
            "\x1b",
            "\x1b[",
            "\x1b[31",
            "[",
            "m",
        ])
        .prop_map(str::to_owned);
        prop_oneof![6 => text, 1 => escape].boxed()
    }

    fn line(with_escapes: bool) -> impl Strategy<Value = String> {
        proptest::collection::vec(piece(with_escapes), 0..40).prop_map(|pieces| pieces.concat())
    }

    /// Matches the rows of `out` against the escape-free text of `line`: each
    /// continuation row must start with the indent, and the rows with indent
    /// and escapes removed must be that text in order, with nothing missing
    /// between them but runs of spaces (at word breaks) and with only spaces
    /// after the last. Returns the text and each row's range in it.
    fn locate_rows(
        line: &str,
        out: &str,
        width: usize,
        indent: usize,
    ) -> Result<(String, Vec<Range<usize>>), String> {
        let text = strip_escapes(line);
        let pad = " ".repeat(indent.min(width / 2));
        let mut at = 0;
        let mut ranges = Vec::new();
        for (i, row) in out.split("\r\n").enumerate() {
            let row = if i == 0 {
                row
            } else {
                row.strip_prefix(pad.as_str())
                    .ok_or_else(|| format!("row {i} {row:?} lacks the indent"))?
            };
            let row = strip_escapes(row);
            // Spaces before the first glyph are never a break, so nothing
            // is dropped among them.
            if i > 0 && text[..at].bytes().any(|b| b != b' ') {
                let spaces = |s: &str| s.bytes().take_while(|&b| b == b' ').count();
                let (have, want) = (spaces(&text[at..]), spaces(&row));
                if have < want {
                    return Err(format!(
                        "row {i} {row:?} starts with spaces not in the text"
                    ));
                }
                at += have - want;
            }
            if !text[at..].starts_with(&row) {
                return Err(format!("row {i} {row:?} is not next in {:?}", &text[at..]));
            }
            ranges.push(at..at + row.len());
            at += row.len();
        }
        if text[at..].bytes().any(|b| b != b' ') {
            return Err(format!("{:?} left out at the end", &text[at..]));
        }
        Ok((text, ranges))
    }

    proptest! {
        #[test]
        fn rows_fit_the_window(line in line(true), width in 1usize..40, indent in 0usize..30) {
            let out = wrapped(&line, width, indent);
            if display_width(&line) <= width {
                prop_assert_eq!(&out, &line);
                return Ok(());
            }
            let indent = indent.min(width / 2);
            let widest = items(&line).iter().map(|(_, item)| item.width()).max().unwrap_or(0);
            let pad = " ".repeat(indent);
            for (i, row) in out.split("\r\n").enumerate() {
                let (content, limit) = match i {
                    0 => (row, width),
                    _ => (row.strip_prefix(pad.as_str()).unwrap_or(row), width - indent),
                };
                let row_items = items(content);
                prop_assert!(row_items.iter().any(|(_, item)| !matches!(item, Item::Escape(_))),
                    "row {} of {:?} is empty", i, out);
                // Over the limit only for one grapheme too wide for any row.
                let wide = row_items.iter().filter(|(_, item)| item.width() > 0).count();
                prop_assert!(display_width(content) <= limit || wide == 1,
                    "row {} {:?} too wide in {:?}", i, row, out);
                if widest <= width - indent {
                    prop_assert!(display_width(row) <= width, "row {} {:?} too wide", i, row);
                }
            }
        }

        #[test]
        fn text_is_kept_in_order_less_the_spaces_at_breaks(
            line in line(true), width in 1usize..40, indent in 0usize..30,
        ) {
            let out = wrapped(&line, width, indent);
            if let Err(why) = locate_rows(&line, &out, width, indent) {
                return Err(TestCaseError::fail(format!("{why}: {line:?} -> {out:?}")));
            }
        }

        #[test]
        fn escapes_are_kept_whole_and_in_order(
            line in line(true), width in 0usize..40, indent in 0usize..30,
        ) {
            let out = wrapped(&line, width, indent);
            prop_assert_eq!(escapes(&out), escapes(&line));
        }

        /// Without escapes, the text is exactly the line, so every break can
        /// be checked against the items `wrap` saw.
        #[test]
        fn rows_take_as_many_words_as_fit_and_only_long_words_are_split(
            line in line(false), width in 1usize..40, indent in 0usize..30,
        ) {
            let out = wrapped(&line, width, indent);
            let (text, rows) = match locate_rows(&line, &out, width, indent) {
                Ok(found) => found,
                Err(why) => return Err(TestCaseError::fail(format!("{why}: {line:?} -> {out:?}"))),
            };
            prop_assert_eq!(&text, &line);
            let indent = indent.min(width / 2);
            let all = items(&line);
            let index_at = |at: usize| all.iter().position(|(offset, _)| *offset == at);
            let width_of = |range: &Range<usize>| -> usize {
                all.iter().filter(|(at, _)| range.contains(at)).map(|(_, item)| item.width()).sum()
            };
            for (i, pair) in rows.windows(2).enumerate() {
                let (row, next) = (&pair[0], &pair[1]);
                let limit = if i == 0 { width } else { width - indent };
                let used = width_of(row);
                let Some(start) = index_at(next.start) else {
                    return Err(TestCaseError::fail(format!("row {} starts inside a cluster", i + 1)));
                };
                let spaces = next.start - row.end;
                if spaces > 0 {
                    // A word break: the next word did not fit on this row.
                    let word: usize = all[start..].iter()
                        .take_while(|(_, item)| !matches!(item, Item::Space))
                        .map(|(_, item)| item.width()).sum();
                    prop_assert!(used + spaces + word > limit,
                        "row {} {:?} had room for the next word", i, &line[row.clone()]);
                } else {
                    // A break inside a word: the row was full, and the word
                    // was too long for a row of its own.
                    prop_assert!(used + all[start].1.width() > limit, "row {} not full", i);
                    let before = all[..start].iter()
                        .rposition(|(_, item)| matches!(item, Item::Space));
                    let first = match before {
                        Some(space) if all[..space].iter().any(|(_, item)| item.is_glyph()) => space + 1,
                        _ => 0,
                    };
                    // Leading spaces are part of the first word, so the
                    // word ends at the first space after a glyph.
                    let glyph = all[first..].iter().position(|(_, item)| item.is_glyph());
                    let last = glyph.map_or(all.len(), |g| {
                        all[first + g..].iter()
                            .position(|(_, item)| matches!(item, Item::Space))
                            .map_or(all.len(), |len| first + g + len)
                    });
                    let word: usize = all[first..last].iter().map(|(_, item)| item.width()).sum();
                    let room = if first == 0 { width } else { width - indent };
                    prop_assert!(word > room, "row {} split a word that fits a row", i);
                }
            }
        }

        #[test]
        fn wrap_never_panics(line in any::<String>(), width in 0usize..300, indent in 0usize..300) {
            let mut out = String::from("kept");
            wrap(&line, width, indent, &mut out);
            prop_assert!(out.starts_with("kept"));
            if width == 0 || display_width(&line) <= width {
                prop_assert_eq!(&out["kept".len()..], line.as_str());
            }
        }
    }
}
