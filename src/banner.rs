//! The welcome banner that admins edit on disk.
//!
//! The template is read from disk on every connection, so an edit shows on
//! the next connection without a restart, and a missing or broken file falls
//! back to the copy compiled into the binary rather than failing a sign-on.
//! Rendering turns the admin's plain text into what is safe on the wire:
//! placeholders filled in, color markup turned into ANSI only for clients
//! that want it, CR LF line ends as telnet requires, and every control
//! character the admin did not mean (a stray ESC) removed. A placeholder
//! the renderer does not know (a typo such as `{onlne}`) is shown as
//! written and logged, once per change of the file.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use std::io::Read;
use tracing::warn;
use unicode_width::UnicodeWidthChar;

/// The banner compiled into the binary (the shipped assets/banner.txt), shown
/// when the file on disk is missing or unreadable.
pub const BUILTIN: &str = include_str!("../assets/banner.txt");

/// Most bytes read of a banner file; a larger file is cut there (at a char
/// boundary) and the cut is logged.
pub const MAX_BANNER_BYTES: usize = 64 * 1024;

/// Columns between tab stops when a tab in the template is expanded.
const TAB_WIDTH: usize = 8;

/// Unknown placeholders named in the one warning about a file; a file full
/// of braces must not make a line of 64 KiB.
const MAX_UNKNOWN_NAMED: usize = 16;

/// Banner files remembered for [`WARNED`]: a server reads one, a test
/// process a few.
const MAX_WARNED_FILES: usize = 16;

/// What a file looked like (modification time and length) when its unknown
/// placeholders were last looked for, per path: the scan runs, and the
/// warning is logged, only when the file has changed since. A static, not
/// a field of the server, as `load` is called from each session with only
/// the path.
static WARNED: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>> = Mutex::new(Vec::new());

/// The values a banner template can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BannerVars<'a> {
    /// Replaces `{server_name}`: tells users which server they reached.
    pub server_name: &'a str,
    /// Replaces `{online}`: how many users are signed on right now.
    pub online: usize,
    /// Replaces `{rooms}`: how many rooms exist right now.
    pub rooms: usize,
}

/// Why a banner file could not be used; only ever logged, since the caller
/// always gets a banner.
#[derive(Debug, thiserror::Error)]
enum BannerError {
    /// Missing, no permission, a directory's read error, ...
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A FIFO or device would block or never end; only regular files are read.
    #[error("not a regular file")]
    NotAFile,
    /// The bytes are not UTF-8; guessing an encoding would show garbage.
    #[error("not valid UTF-8: {0}")]
    NotUtf8(#[from] std::str::Utf8Error),
}

/// Reads the template from `path`. Missing, unreadable, or not valid UTF-8:
/// logged with tracing (warn) and BUILTIN is returned. Never fails.
///
/// Synchronous on purpose: a stat and a read of at most `MAX_BANNER_BYTES`
/// from the page cache take microseconds, while `tokio::fs` sends each call
/// to the blocking pool, which grew by a hundred threads (and their memory)
/// during a burst of sign-ons.
pub fn load(path: &Path) -> String {
    match read_capped(path, true) {
        Ok((text, metadata)) => {
            warn_unknown_once(path, &metadata, &text);
            text
        }
        Err(error) => {
            warn!(path = %path.display(), error = %error, "banner unreadable, using the built-in one");
            BUILTIN.to_owned()
        }
    }
}

/// [`load`] without its warnings: for `/motd`, which a user may repeat as
/// often as flood control lets them, while the log must not grow with it.
/// The connection's sign-on has logged whatever was wrong with the file.
pub fn load_quietly(path: &Path) -> String {
    match read_capped(path, false) {
        Ok((text, _)) => text,
        Err(_) => BUILTIN.to_owned(),
    }
}

/// Logs the template's unknown placeholders if the file changed since they
/// were last looked for (or was never looked at).
fn warn_unknown_once(path: &Path, metadata: &std::fs::Metadata, text: &str) {
    let seen = (metadata.modified().ok(), metadata.len());
    {
        // A poisoned lock only means a panic elsewhere while noting a file;
        // the list is still usable.
        let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
        match warned.iter_mut().find(|(p, _, _)| p == path) {
            Some(entry) if (entry.1, entry.2) == seen => return,
            Some(entry) => (entry.1, entry.2) = seen,
            None => {
                if warned.len() >= MAX_WARNED_FILES {
                    warned.remove(0);
                }
                warned.push((path.to_path_buf(), seen.0, seen.1));
            }
        }
    }
    let (unknown, total) = unknown_placeholders(text);
    if total > 0 {
        warn!(
            path = %path.display(),
            placeholders = %unknown.join(" "),
            count = total,
            "banner has placeholders tavern does not know; they are shown as written"
        );
    }
}

/// The distinct `{word}`s in a template that [`render`] will show as written
/// rather than replace (at most `MAX_UNKNOWN_NAMED` of them, each with its
/// braces), and how many distinct ones there are. Words of any ASCII case
/// count, as `{Online}` is a typo of `{online}` too; `{{` and `}}` are
/// escapes, and `{art}` and `{end_art}` on lines of their own are markers.
fn unknown_placeholders(template: &str) -> (Vec<String>, usize) {
    let template = select_art(template, false);
    let mut unknown: Vec<String> = Vec::new();
    let mut total = 0;
    let mut rest = template.as_str();
    while let Some(at) = rest.find(['{', '}']) {
        rest = &rest[at..];
        if rest.starts_with("{{") || rest.starts_with("}}") {
            rest = &rest[2..];
            continue;
        }
        let inner = &rest[1..];
        let end = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let name = &inner[..end];
        if !name.is_empty() && inner[end..].starts_with('}') && !is_known(name) {
            let written = format!("{{{name}}}");
            if !unknown.contains(&written) {
                total += 1;
                if unknown.len() < MAX_UNKNOWN_NAMED {
                    unknown.push(written);
                }
            }
        }
        rest = &rest[1..];
    }
    (unknown, total)
}

/// Whether [`render`] replaces `{name}`.
fn is_known(name: &str) -> bool {
    matches!(name, "server_name" | "online" | "rooms") || sgr_code(name).is_some()
}

/// The file's text, cut at [`MAX_BANNER_BYTES`] (with a warning if `warn`).
fn read_capped(path: &Path, warn: bool) -> Result<(String, std::fs::Metadata), BannerError> {
    // Checked before opening: opening a FIFO for reading blocks until some
    // writer appears, which would hang this connection's sign-on.
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(BannerError::NotAFile);
    }
    let file = std::fs::File::open(path)?;
    // One byte past the limit tells "exactly at the limit" from "cut".
    let limit = MAX_BANNER_BYTES as u64 + 1;
    let capacity = usize::try_from(metadata.len().min(limit)).unwrap_or(MAX_BANNER_BYTES);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit).read_to_end(&mut bytes)?;

    let cut = bytes.len() > MAX_BANNER_BYTES;
    if cut {
        bytes.truncate(MAX_BANNER_BYTES);
    }
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        // The limit may fall inside a multi-byte character: that incomplete
        // tail is the cut's doing, not a broken file, so drop only it.
        Err(e) if cut && e.error_len().is_none() => std::str::from_utf8(&bytes[..e.valid_up_to()])?,
        Err(e) => return Err(e.into()),
    };
    if cut && warn {
        warn!(
            path = %path.display(),
            limit = MAX_BANNER_BYTES,
            kept = text.len(),
            "banner file too large, showing only its beginning"
        );
    }
    Ok((text.to_owned(), metadata))
}

/// Renders a template to what goes on the wire: `{server_name}`, `{online}`,
/// `{rooms}` substituted; color markup `{black} {red} {green} {yellow} {blue}
/// {magenta} {cyan} {white}`, `{bright_black}` ... `{bright_white}`, `{bold}`,
/// `{dim}`, `{reset}` become ANSI SGR sequences when `color` is true and
/// nothing when false; `{{` is a literal `{` (and `}}` a literal `}`, so
/// format!-style escaping works both ways); an unknown `{word}` is left as
/// written; every line ends in "\r\n" (input may use \n, \r\n or a lone \r; a
/// missing final newline is added); control characters other than the ANSI
/// sequences tavern inserts are removed from the template text and from the
/// substituted values (tabs become spaces to the next multiple of 8 columns);
/// when color is true the output ends with a reset, after the last line.
pub fn render(template: &str, vars: &BannerVars<'_>, color: bool) -> String {
    // Editors on Windows like to start files with a byte order mark.
    let template = template.strip_prefix('\u{FEFF}').unwrap_or(template);
    let mut out = Output {
        text: String::with_capacity(template.len() + template.len() / 8 + 8),
        column: 0,
    };
    let mut rest = template;
    let mut ends_in_newline = true;
    while let Some(c) = rest.chars().next() {
        ends_in_newline = false;
        if let Some(after) = rest.strip_prefix("{{") {
            out.push_text("{");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("}}") {
            out.push_text("}");
            rest = after;
        } else if let Some((name, after)) = placeholder(rest) {
            match name {
                "server_name" => out.push_text(vars.server_name),
                "online" => out.push_text(&vars.online.to_string()),
                "rooms" => out.push_text(&vars.rooms.to_string()),
                _ => match sgr_code(name) {
                    Some(code) if color => out.push_sgr(code),
                    Some(_) => {}
                    None => {
                        // Not ours: show it as written, e.g. "{x}".
                        out.push_text("{");
                        rest = &rest[1..];
                        continue;
                    }
                },
            }
            rest = after;
        } else if let Some(after) = rest.strip_prefix("\r\n") {
            out.newline();
            rest = after;
            ends_in_newline = true;
        } else if c == '\n' || c == '\r' {
            out.newline();
            rest = &rest[c.len_utf8()..];
            ends_in_newline = true;
        } else {
            out.push_char(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if !ends_in_newline {
        out.newline();
    }
    if color {
        out.push_sgr(0);
    }
    out.text
}

/// The template for a client with (`screen_reader`) or without a screen
/// reader: lines between a line `{art}` and a line `{end_art}` are decorative
/// art, which a screen reader would read out character by character, so they
/// are left out for it; for everyone else only the two marker lines go.
pub fn select_art(template: &str, screen_reader: bool) -> String {
    let mut out = String::with_capacity(template.len());
    let mut in_art = false;
    for line in template.split_inclusive('\n') {
        match line.trim() {
            "{art}" => in_art = true,
            "{end_art}" => in_art = false,
            _ if in_art && screen_reader => {}
            _ => out.push_str(line),
        }
    }
    out
}

/// If `s` starts with `{name}` where name is lower-case ASCII, digits or `_`,
/// returns the name and what follows the `}`.
fn placeholder(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix('{')?;
    let end = inner.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))?;
    let (name, tail) = inner.split_at(end);
    let after = tail.strip_prefix('}')?;
    (!name.is_empty()).then_some((name, after))
}

/// The SGR parameter for a color or style word.
fn sgr_code(name: &str) -> Option<u8> {
    let code = match name {
        "reset" => 0,
        "bold" => 1,
        "dim" => 2,
        "black" => 30,
        "red" => 31,
        "green" => 32,
        "yellow" => 33,
        "blue" => 34,
        "magenta" => 35,
        "cyan" => 36,
        "white" => 37,
        "bright_black" => 90,
        "bright_red" => 91,
        "bright_green" => 92,
        "bright_yellow" => 93,
        "bright_blue" => 94,
        "bright_magenta" => 95,
        "bright_cyan" => 96,
        "bright_white" => 97,
        _ => return None,
    };
    Some(code)
}

/// The rendered banner under construction.
struct Output {
    /// What goes on the wire so far.
    text: String,
    /// Display column on the current line, so tabs can expand to tab stops.
    column: usize,
}

impl Output {
    fn push_text(&mut self, s: &str) {
        for c in s.chars() {
            self.push_char(c);
        }
    }

    /// Pushes one character of template or value text, dropping what could
    /// move the cursor, start an escape sequence or reorder the line.
    fn push_char(&mut self, c: char) {
        if c == '\t' {
            let spaces = TAB_WIDTH - self.column % TAB_WIDTH;
            self.text.extend(std::iter::repeat_n(' ', spaces));
            self.column += spaces;
        } else if !is_stripped(c) {
            self.text.push(c);
            self.column += c.width().unwrap_or(0);
        }
    }

    fn push_sgr(&mut self, code: u8) {
        self.text.push_str("\x1b[");
        self.text.push_str(&code.to_string());
        self.text.push('m');
    }

    fn newline(&mut self) {
        self.text.push_str("\r\n");
        self.column = 0;
    }
}

/// Characters never passed through from a template: C0 and C1 controls (ESC,
/// CSI, BEL, ...), bidi embedding and override controls, which would reorder
/// every following line on the client, the BOM, and the Unicode line and
/// paragraph separators, which terminals do not treat as line breaks.
fn is_stripped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const VARS: BannerVars<'static> = BannerVars {
        server_name: "Pony",
        online: 3,
        rooms: 2,
    };

    /// A file in the temp dir, removed when dropped, so a failing assert
    /// does not leave it behind.
    struct TempFile(PathBuf);

    impl TempFile {
        fn with_bytes(bytes: &[u8]) -> TempFile {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "tavern-banner-test-{}-{}.txt",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            write(&path, bytes);
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn write(path: &Path, bytes: &[u8]) {
        if let Err(e) = std::fs::write(path, bytes) {
            panic!("cannot write {}: {e}", path.display());
        }
    }

    #[test]
    fn placeholders_are_substituted() {
        assert_eq!(
            render(
                "{server_name}: {online} online in {rooms} rooms",
                &VARS,
                false
            ),
            "Pony: 3 online in 2 rooms\r\n"
        );
    }

    #[test]
    fn art_is_left_out_for_screen_readers_and_its_markers_for_everyone() {
        let template = "Welcome\n{art}\n  /\\_/\\\n ( o.o )\n{end_art}\nBe kind\n";
        assert_eq!(select_art(template, true), "Welcome\nBe kind\n");
        assert_eq!(
            select_art(template, false),
            "Welcome\n  /\\_/\\\n ( o.o )\nBe kind\n"
        );
        let shipped = select_art(BUILTIN, true);
        assert!(!shipped.contains("{art}") && !shipped.contains("{end_art}"));
        assert!(
            shipped.len() < select_art(BUILTIN, false).len(),
            "the shipped banner has art"
        );
    }

    #[test]
    fn color_markup_becomes_ansi_when_color_is_on() {
        assert_eq!(
            render("{bold}{cyan}hi{reset} {bright_white}x{dim}", &VARS, true),
            "\x1b[1m\x1b[36mhi\x1b[0m \x1b[97mx\x1b[2m\r\n\x1b[0m"
        );
    }

    #[test]
    fn color_markup_disappears_when_color_is_off() {
        assert_eq!(
            render("{bold}{cyan}hi{reset} {bright_white}x{dim}", &VARS, false),
            "hi x\r\n"
        );
    }

    #[test]
    fn every_color_word_has_a_code() {
        let names = [
            "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
        ];
        for (i, name) in names.into_iter().enumerate() {
            assert_eq!(sgr_code(name), Some(30 + i as u8));
            assert_eq!(sgr_code(&format!("bright_{name}")), Some(90 + i as u8));
        }
    }

    #[test]
    fn output_with_color_ends_with_a_reset() {
        assert!(render("{red}alert", &VARS, true).ends_with("alert\r\n\x1b[0m"));
        assert_eq!(render("", &VARS, true), "\x1b[0m");
        assert_eq!(render("", &VARS, false), "");
    }

    #[test]
    fn unknown_placeholders_are_kept_as_written() {
        assert_eq!(
            render("{x} {Online} {} {on line} {", &VARS, true),
            "{x} {Online} {} {on line} {\r\n\x1b[0m"
        );
    }

    #[test]
    fn doubled_braces_are_literal_braces() {
        assert_eq!(
            render("{{online}} is {online}; {{{online}}}", &VARS, false),
            "{online} is 3; {3}\r\n"
        );
    }

    #[test]
    fn bare_line_feeds_become_cr_lf() {
        assert_eq!(render("a\nb\n", &VARS, false), "a\r\nb\r\n");
        assert_eq!(render("a\r\nb\r\n", &VARS, false), "a\r\nb\r\n");
        assert_eq!(render("a\rb", &VARS, false), "a\r\nb\r\n");
        assert_eq!(render("a\n\n\nb", &VARS, false), "a\r\n\r\n\r\nb\r\n");
    }

    #[test]
    fn a_missing_final_newline_is_added() {
        assert_eq!(render("one\ntwo", &VARS, false), "one\r\ntwo\r\n");
    }

    #[test]
    fn escape_and_other_controls_in_the_template_are_removed() {
        assert_eq!(
            render("a\x1b[2Jb\x07c\x08d\x7fe\u{9b}f", &VARS, false),
            "a[2Jbcdef\r\n"
        );
        assert_eq!(render("\x1b", &VARS, true), "\r\n\x1b[0m");
    }

    #[test]
    fn bidi_overrides_and_a_byte_order_mark_are_removed() {
        assert_eq!(render("\u{FEFF}abc\u{202E}def", &VARS, false), "abcdef\r\n");
    }

    #[test]
    fn controls_in_substituted_values_are_removed() {
        let vars = BannerVars {
            server_name: "evil\x1b]0;owned\x07\nname",
            ..VARS
        };
        assert_eq!(
            render("{server_name}", &vars, false),
            "evil]0;ownedname\r\n"
        );
    }

    #[test]
    fn tabs_expand_to_the_next_tab_stop() {
        assert_eq!(
            render("ab\tc\t\td", &VARS, false),
            "ab      c               d\r\n"
        );
        assert_eq!(
            render("{red}ab{reset}\tc", &VARS, true),
            "\x1b[31mab\x1b[0m      c\r\n\x1b[0m"
        );
    }

    #[test]
    fn the_builtin_banner_is_short_plain_and_mentions_help() {
        let vars = BannerVars {
            server_name: "tavern",
            online: 1000,
            rooms: 100,
        };
        let spoken = render(&select_art(BUILTIN, true), &vars, false);
        assert!(spoken.split_terminator("\r\n").count() <= 10, "{spoken}");
        let plain = render(&select_art(BUILTIN, false), &vars, false);
        let lines: Vec<&str> = plain.split_terminator("\r\n").collect();
        assert!(lines.len() <= 16, "{} lines", lines.len());
        for line in &lines {
            let width = unicode_width::UnicodeWidthStr::width(*line);
            assert!(width < 70, "{line:?} is {width} columns");
        }
        assert!(plain.contains("/help"));
        assert!(plain.contains("nickname"));
        assert!(plain.contains("tavern"));
        assert!(!plain.contains('{'), "unknown markup left: {plain}");
        assert!(render(BUILTIN, &vars, true).contains("\x1b[1m\x1b[36mtavern\x1b[0m"));
    }

    #[test]
    fn unknown_placeholders_are_found_as_render_leaves_them() {
        let template = "{art}\n/\\_/\\\n{end_art}\nHi {onlne} {server_name} {Online} \
                        {{rooms}} {{x}} {bold}{x}{x} {} {a b} {rooms}\n";
        let (names, total) = unknown_placeholders(template);
        assert_eq!(names, ["{onlne}", "{Online}", "{x}"]);
        assert_eq!(total, 3);
        // Exactly what render shows as written.
        let shown = render(&select_art(template, false), &VARS, false);
        for name in &names {
            assert!(shown.contains(name.as_str()), "{shown}");
        }
        assert_eq!(unknown_placeholders(BUILTIN), (vec![], 0));
        // A line `{art}` inside text is no marker: shown, so reported.
        assert_eq!(unknown_placeholders("see {art} here").1, 1);
    }

    #[test]
    fn a_file_of_braces_names_a_bounded_number_of_placeholders() {
        let template: String = (0..5000).map(|i| format!("{{p{i}}}")).collect();
        let (names, total) = unknown_placeholders(&template);
        assert_eq!(names.len(), MAX_UNKNOWN_NAMED);
        assert_eq!(total, 5000);
    }

    #[tokio::test]
    async fn loading_a_missing_file_gives_the_builtin_banner() {
        let path = std::env::temp_dir().join("tavern-banner-test-no-such-file.txt");
        assert_eq!(load(&path), BUILTIN);
    }

    #[tokio::test]
    async fn loading_a_directory_gives_the_builtin_banner() {
        assert_eq!(load(&std::env::temp_dir()), BUILTIN);
    }

    #[tokio::test]
    async fn loading_a_file_gives_its_content() {
        let file = TempFile::with_bytes("Hello {server_name}\n".as_bytes());
        assert_eq!(load(&file.0), "Hello {server_name}\n");
    }

    #[tokio::test]
    async fn an_edit_between_two_loads_shows_on_the_second() {
        let file = TempFile::with_bytes(b"first\n");
        assert_eq!(load(&file.0), "first\n");
        write(&file.0, b"second\n");
        assert_eq!(load(&file.0), "second\n");
    }

    #[tokio::test]
    async fn a_file_over_the_limit_is_cut_at_the_limit() {
        let file = TempFile::with_bytes(&vec![b'a'; MAX_BANNER_BYTES + 100]);
        let text = load(&file.0);
        assert_eq!(text.len(), MAX_BANNER_BYTES);
        assert!(text.bytes().all(|b| b == b'a'));
    }

    #[tokio::test]
    async fn a_file_exactly_at_the_limit_is_kept_whole() {
        let file = TempFile::with_bytes(&vec![b'a'; MAX_BANNER_BYTES]);
        assert_eq!(load(&file.0).len(), MAX_BANNER_BYTES);
    }

    #[tokio::test]
    async fn a_cut_never_splits_a_character() {
        let mut bytes = vec![b'a'; MAX_BANNER_BYTES - 1];
        bytes.extend_from_slice("éééé".as_bytes());
        let file = TempFile::with_bytes(&bytes);
        let text = load(&file.0);
        assert_eq!(text.len(), MAX_BANNER_BYTES - 1);
        assert!(text.bytes().all(|b| b == b'a'));
    }

    #[tokio::test]
    async fn invalid_utf8_gives_the_builtin_banner() {
        let file = TempFile::with_bytes(b"caf\xe9 latin-1\n");
        assert_eq!(load(&file.0), BUILTIN);
    }
}
