//! Fuzzes the line discipline: any bytes typed, in either editing mode and
//! either charset, fed whole and in chunks, must finish the same lines and
//! draw the same screen, every finished line must be clean and within its
//! cap, and nothing may panic.
//!
//! Input layout: `[control, width, seed, input...]`.
//! - `control & 1`: server mode (echo and edit) or client mode;
//! - `control & 2`: Latin-1 or UTF-8;
//! - `control & 4`: output from the room arrives between chunks (begin/end
//!   output around a fixed line), which must redraw without changing lines;
//! - `control >> 3`: `max_chars` (small, so the cap is reached);
//! - `width`: the window width (0: never reported);
//! - `seed`: how `input` is cut: 0 is one byte per read, else read lengths
//!   from a generator seeded with it.
//!
//! In `input`, LF ends a line (the telnet layer reports line ends as events,
//! so the editor never sees CR or LF as data), and 0xFF is telnet EC (erase
//! a character).

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tavern::charset::Charset;
use tavern::editor::{Editor, Line, Mode};
use tavern::sanitize::{Limits, is_forbidden};

fuzz_target!(|data: &[u8]| {
    let [control, width, seed, input @ ..] = data else {
        return;
    };
    let limits = Limits {
        max_chars: usize::from(control >> 3).max(1),
        max_marks_per_grapheme: 4,
    };
    let mode = if control & 1 != 0 {
        Mode::Server
    } else {
        Mode::Client
    };
    let charset = if control & 2 != 0 {
        Charset::Latin1
    } else {
        Charset::Utf8
    };
    let interleave = control & 4 != 0;

    let whole = run(mode, charset, *width, limits, false, &[input]);
    let chunks = split(input, *seed);
    let chunked = run(mode, charset, *width, limits, false, &chunks);
    assert_eq!(whole.0, chunked.0, "lines depend on how the input was cut");
    assert_eq!(
        whole.1, chunked.1,
        "the screen depends on how the input was cut"
    );
    if interleave {
        let with_output = run(mode, charset, *width, limits, true, &chunks);
        assert_eq!(
            whole.0, with_output.0,
            "output from the room changed a line"
        );
    }
    for line in &whole.0 {
        assert!(line.text.chars().all(|c| !is_forbidden(c) && c != '\u{1b}'));
        assert!(line.text.chars().count() <= limits.max_chars);
    }
});

/// Feeds `chunks`; returns the finished lines and everything drawn.
fn run(
    mode: Mode,
    charset: Charset,
    width: u8,
    limits: Limits,
    interleave: bool,
    chunks: &[&[u8]],
) -> (Vec<Line>, Vec<u8>) {
    let mut editor = Editor::new(Mode::Client, limits);
    let mut screen = BytesMut::new();
    editor.set_charset(charset);
    editor.set_mode(mode, &mut screen);
    editor.set_width(u16::from(width), &mut screen);
    editor.set_prompt("> ", &mut screen);
    let mut lines = Vec::new();
    for chunk in chunks {
        let mut run_start = 0;
        for (i, &byte) in chunk.iter().enumerate() {
            if byte == b'\n' || byte == 0xff {
                editor.input(&chunk[run_start..i], &mut screen);
                if byte == b'\n' {
                    lines.push(editor.end_of_line(&mut screen));
                } else {
                    editor.erase_char(&mut screen);
                }
                run_start = i + 1;
            }
        }
        editor.input(&chunk[run_start..], &mut screen);
        if interleave {
            editor.begin_output(&mut screen);
            screen.extend_from_slice(b"bob: hi\r\n");
            editor.end_output(&mut screen);
        }
    }
    // The line as last edited, drawn once (the session does this after each
    // read; here once at the end, so the bytes do not depend on the cuts).
    editor.flush(&mut screen);
    (lines, screen.to_vec())
}

/// Cuts `input` into reads: one byte each for seed 0, else pseudo-random
/// lengths (xorshift) between 0 and 16.
fn split(input: &[u8], seed: u8) -> Vec<&[u8]> {
    if seed == 0 {
        return input.chunks(1).collect();
    }
    let mut state = u32::from(seed) | 0x100;
    let mut chunks = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let len = (state % 17) as usize;
        let (head, tail) = rest.split_at(len.min(rest.len()));
        chunks.push(head);
        rest = tail;
    }
    chunks
}
