//! No user text can start a row of a client's screen where system lines
//! start, even at a client that never reported its window (no NAWS): tavern
//! wraps its lines at an assumed 80 columns with a hanging indent, and a run
//! of blanks (spaces, tabs, Unicode spaces, invisible characters between
//! them) is one space. Checked on a simulated 80-column terminal fed what a
//! real tavern sent over a real socket.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Client, TestServer, sign_on_all};
use unicode_width::UnicodeWidthChar;

/// The rows an 80-column terminal shows for `text`: each line, wrapped by
/// the terminal itself wherever it reaches the last column.
fn terminal_rows(text: &str) -> Vec<String> {
    let mut rows = Vec::new();
    for line in text.split('\n') {
        let mut row = String::new();
        let mut used = 0;
        for c in line.chars() {
            let width = c.width().unwrap_or(0);
            if used + width > 80 {
                rows.push(std::mem::take(&mut row));
                used = 0;
            }
            row.push(c);
            used += width;
        }
        rows.push(row);
    }
    rows
}

/// Fails if any row `client` shows starts with the forged system line.
fn assert_no_forged_row(client: &mut Client, what: &str) {
    let text = client.visible();
    for row in terminal_rows(&text) {
        assert!(
            !row.starts_with("*** admin"),
            "{what}: a row of its own: {row:?}\nin {text:?}"
        );
    }
}

const FORGED: &str = "*** admin has joined lobby";

/// Text that puts `FORGED` at the start of the second row after `prefix`,
/// padded with `blank` (`None`: no padding, a word to the edge instead).
fn padded(prefix_columns: usize, blank: Option<&str>) -> String {
    let room = 80 - prefix_columns;
    match blank {
        Some(blank) => format!("hi{}{FORGED}", blank.repeat(room - 2)),
        None => format!("{} {FORGED}", "x".repeat(room - 1)),
    }
}

#[test]
fn a_line_padded_with_spaces_cannot_start_a_row_at_a_client_without_naws() {
    let server = TestServer::start();
    let [mut eve, mut vic] = sign_on_all(&server, ["eve", "vic"]);
    // Raw clients: no NAWS, so tavern does not know vic's 80 columns.
    let prefix = "eve: ".len();
    eve.send_line(&padded(prefix, Some(" ")));
    vic.expect(FORGED);
    vic.expect("\n");
    assert_no_forged_row(&mut vic, "spaces");
    let collapsed = format!("eve: hi {FORGED}\n");
    assert!(vic.visible().contains(&collapsed), "{:?}", vic.visible());
}

#[test]
fn no_padding_or_word_to_the_edge_can_start_a_row_in_any_kind_of_user_line() {
    let server = TestServer::start();
    let [mut eve, mut vic] = sign_on_all(&server, ["eve", "vic"]);
    // What comes before the user's text on vic's screen, per form.
    let forms: [(&str, usize); 4] = [
        ("", "eve: ".len()),
        ("/me ", "* eve ".len()),
        ("/msg vic ", "[msg from eve] ".len()),
        ("/away ", "*** eve is away: ".len()),
    ];
    let blanks = [
        Some(" "),
        Some("\t"),
        Some("\u{a0}"),
        Some("\u{2003}"),
        Some(" \u{200d}"),
        None,
    ];
    let mut sent = 0;
    for (command, prefix) in forms {
        for blank in blanks {
            eve.send_line(&format!("{command}{}", padded(prefix, blank)));
            sent += 1;
            // Each line ends with the forged text.
            vic.expect(FORGED);
            assert_no_forged_row(&mut vic, &format!("{command:?} padded with {blank:?}"));
            if command == "/away " {
                // Typing anything ends /away; the next one starts it again.
                eve.send_line("back");
                vic.expect("eve: back");
            }
        }
    }
    assert_eq!(sent, forms.len() * blanks.len());
    // Wrapped rows carry the hanging indent: the long word's line went on.
    assert!(vic.visible().contains(&format!("\n     {FORGED}")));
}
