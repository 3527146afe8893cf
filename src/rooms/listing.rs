//! Replies that list many things (`/who`, `/who all`, `/rooms`), bounded.
//!
//! A reply goes to its asker as one unit (a
//! [`Delivery::Reply`](crate::mailbox::Delivery), which counts by its size,
//! not its lines, against the asker's queue), and its size is bounded here: a room of 10,000 listed one per
//! line would be 10,000 lines and hundreds of KiB for a five-byte command.
//! Long lists are packed, IRC `NAMES` style, several items to a line with
//! commas between them (a screen reader pauses at each comma and reads one
//! line at a time), and cut at [`MAX_REPLY_BYTES`] with a last line saying
//! how many were left out. Sans-IO and clock-free, like the rest of `Rooms`.

use std::sync::Arc;

use unicode_width::UnicodeWidthStr;

use crate::render::{LineBuilder, Message, Tone};

/// Most bytes of text in one listing reply; what does not fit is counted in
/// its last line. 2,000 people of 16-character nicks fit; 10,000 do not.
pub(super) const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Columns of a packed line: under an 80-column terminal with the system
/// mark, so only a narrower window wraps it.
pub(super) const LINE_COLUMNS: usize = 72;

/// What begins each packed line after the first of a group.
const INDENT: &str = "  ";

/// A listing being built. See the module docs.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// The finished lines.
    lines: Vec<Arc<Message>>,
    /// The packed line being filled, if any, and its width in columns.
    current: Option<(String, usize)>,
    /// Whether `current` holds an item yet (the first item has no comma).
    current_has_items: bool,
    /// Bytes of text taken so far (finished lines and `current`).
    bytes: usize,
    /// Set once something did not fit: everything after it is left out,
    /// so the listing never has holes.
    full: bool,
    /// Items left out.
    left_out: usize,
}

impl Listing {
    pub(super) fn new() -> Listing {
        Listing::default()
    }

    /// A line of its own (a heading, or one person in a short listing);
    /// dropped if the listing is full.
    pub(super) fn line(&mut self, line: LineBuilder, text_bytes: usize) {
        self.end_packed();
        if self.full || !self.fits(text_bytes) {
            self.full = true;
            return;
        }
        self.bytes += text_bytes;
        self.lines.push(line.finish());
    }

    /// Starts a group of packed items; its first line begins with `prefix`.
    pub(super) fn group(&mut self, prefix: &str) {
        self.end_packed();
        if self.full || !self.fits(prefix.len()) {
            self.full = true;
            return;
        }
        self.bytes += prefix.len();
        self.current = Some((prefix.to_owned(), prefix.width()));
        self.current_has_items = false;
    }

    /// One item of the current group: on the current line if it fits in
    /// [`LINE_COLUMNS`], else on a new one. Counted as left out if the
    /// listing is full.
    pub(super) fn item(&mut self, text: &str) {
        if self.full {
            self.left_out += 1;
            return;
        }
        let width = text.width();
        let mut need = text.len() + 2;
        let wraps = match &self.current {
            Some((_, columns)) => self.current_has_items && columns + 2 + width > LINE_COLUMNS,
            None => true,
        };
        if wraps {
            need += INDENT.len();
        }
        if !self.fits(need) {
            self.full = true;
            self.left_out += 1;
            return;
        }
        if wraps {
            self.end_packed();
            self.current = Some((INDENT.to_owned(), INDENT.len()));
        }
        if let Some((line, columns)) = &mut self.current {
            if self.current_has_items {
                line.push_str(", ");
                *columns += 2;
            }
            line.push_str(text);
            *columns += width;
        }
        self.current_has_items = true;
        self.bytes += need;
    }

    /// The lines, ending with how many `what` were left out, if any, and
    /// about how many bytes of text they hold.
    pub(super) fn finish(mut self, what: &str) -> (Vec<Arc<Message>>, usize) {
        self.end_packed();
        if self.left_out > 0 {
            let text = format!("{INDENT}and {} more {what}, not listed.", self.left_out);
            self.bytes += text.len();
            self.lines
                .push(LineBuilder::system(Tone::Info).text(&text).finish());
        }
        (self.lines, self.bytes)
    }

    /// Whether `bytes` more would stay within [`MAX_REPLY_BYTES`].
    fn fits(&self, bytes: usize) -> bool {
        self.bytes + bytes <= MAX_REPLY_BYTES
    }

    fn end_packed(&mut self) {
        if let Some((line, _)) = self.current.take() {
            self.lines
                .push(LineBuilder::system(Tone::Info).text(&line).finish());
        }
        self.current_has_items = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Class;

    fn text(lines: &[Arc<Message>]) -> Vec<String> {
        lines
            .iter()
            .map(|line| {
                String::from_utf8_lossy(line.render(Class::PLAIN))
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn items_are_packed_with_commas_and_wrapped_under_the_line_width() {
        let mut listing = Listing::new();
        listing.line(
            LineBuilder::system(Tone::Info).text("In lobby: 30 people"),
            19,
        );
        listing.group(INDENT);
        for i in 0..30 {
            listing.item(&format!("user{i:02}"));
        }
        let lines = text(&listing.finish("people").0);
        assert_eq!(lines[0], "*** In lobby: 30 people");
        assert!(lines[1].starts_with("***   user00, user01, "), "{lines:?}");
        for line in &lines[1..] {
            assert!(line.width() <= LINE_COLUMNS + 4, "{line:?}");
            assert!(!line.ends_with(','), "{line:?}");
        }
        let listed: Vec<&str> = lines[1..]
            .iter()
            .flat_map(|l| l.trim_start_matches("*** ").split(", "))
            .map(str::trim)
            .collect();
        let expected: Vec<String> = (0..30).map(|i| format!("user{i:02}")).collect();
        assert_eq!(listed, expected);
    }

    #[test]
    fn a_group_prefix_starts_the_first_line_only() {
        let mut listing = Listing::new();
        listing.group("Rooms: ");
        for name in ["games (2)", "lobby (1)"] {
            listing.item(name);
        }
        assert_eq!(
            text(&listing.finish("rooms").0),
            ["*** Rooms: games (2), lobby (1)"]
        );
    }

    #[test]
    fn a_long_listing_is_cut_at_the_byte_bound_and_says_how_many_were_left_out() {
        let mut listing = Listing::new();
        listing.group(INDENT);
        let items = MAX_REPLY_BYTES; // far more than fit
        for i in 0..items {
            listing.item(&format!("n{i:015}"));
        }
        let (lines, _) = listing.finish("people");
        let bytes: usize = lines.iter().map(|l| l.render(Class::PLAIN).len()).sum();
        // The text, plus the system mark and CR LF of each line.
        assert!(
            bytes <= MAX_REPLY_BYTES + lines.len() * 6,
            "{bytes} bytes in {} lines",
            lines.len()
        );
        let all = text(&lines);
        let (last, packed) = all.split_last().unwrap();
        let listed: usize = packed.iter().map(|l| l.matches(", ").count() + 1).sum();
        assert_eq!(
            last,
            &format!("***   and {} more people, not listed.", items - listed)
        );
    }

    #[test]
    fn once_full_nothing_after_is_listed_so_there_are_no_holes() {
        let mut listing = Listing::new();
        listing.group(INDENT);
        listing.item(&"x".repeat(MAX_REPLY_BYTES - 10));
        listing.item("too-long-to-fit");
        listing.item("a");
        listing.line(
            LineBuilder::system(Tone::Info).text("In games: 1 person"),
            18,
        );
        let lines = text(&listing.finish("people").0);
        assert_eq!(
            lines.len(),
            2,
            "{:?}",
            lines.iter().map(|l| l.len()).collect::<Vec<_>>()
        );
        assert_eq!(lines[1], "***   and 2 more people, not listed.");
    }
}
