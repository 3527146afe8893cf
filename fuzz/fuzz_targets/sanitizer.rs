//! Fuzzes what a user may send: any bytes, decoded (whole and one byte at a
//! time) and sanitized, must give text with no forbidden character, no
//! escape, no line break, within the caps, and sanitizing again must change
//! nothing.
//!
//! Input layout: `[max_chars, max_marks, input...]` (both kept small so the
//! caps are reached).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tavern::sanitize::{Limits, TextDecoder, decode, is_forbidden, sanitize};
use unicode_segmentation::UnicodeSegmentation;

fuzz_target!(|data: &[u8]| {
    let [max_chars, max_marks, input @ ..] = data else {
        return;
    };
    let limits = Limits {
        max_chars: usize::from(*max_chars),
        max_marks_per_grapheme: usize::from(*max_marks & 0x0f),
    };

    // The streaming decoder, fed byte by byte, agrees with the whole-input one.
    let whole = decode(input);
    let mut streamed = String::new();
    let mut decoder = TextDecoder::new();
    for &byte in input {
        decoder.push(byte, &mut |c| streamed.push(c));
    }
    decoder.finish(&mut |c| streamed.push(c));
    assert_eq!(streamed, whole, "streaming and whole decoding differ");
    assert!(
        whole.chars().count() <= input.len(),
        "decoding never makes more characters than bytes"
    );

    let clean = sanitize(&whole, &limits);
    for c in clean.text.chars() {
        assert!(!is_forbidden(c), "forbidden {c:?} left in {:?}", clean.text);
        assert!(c != '\u{1b}' && c != '\r' && c != '\n' && c != '\t');
    }
    assert!(
        clean.text.chars().count() <= limits.max_chars,
        "{} chars over the cap {}",
        clean.text.chars().count(),
        limits.max_chars
    );
    for cluster in clean.text.graphemes(true) {
        let marks = cluster
            .chars()
            .filter(|&c| unicode_normalization::char::is_combining_mark(c))
            .count();
        // The first char of a cluster may itself be a mark (a lone mark).
        assert!(
            marks <= limits.max_marks_per_grapheme + 1,
            "{marks} marks in {cluster:?}"
        );
    }
    let again = sanitize(&clean.text, &limits);
    assert_eq!(again.text, clean.text, "sanitize is not idempotent");
    assert!(!again.truncated, "a sanitized line is within its cap");
});
