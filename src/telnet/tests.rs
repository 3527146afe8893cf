//! Tests of the telnet layer through its public API only: bytes in through
//! [`Telnet::handle_input`], events out through [`Telnet::poll_event`], answers
//! out through [`Telnet::poll_transmit`].
//!
//! Most tests are tables fed to [`check`], which joins adjacent `Data` events
//! so a test states what a client meant, not how the reads happened to fall.
//! The property tests at the end say the same thing for generated input: any
//! split of the same bytes gives the same events and the same answers.

use bytes::{Bytes, BytesMut};
use nectar::constants::{DO, DONT, ECHO, IAC, LINEMODE, MCCP2, NAWS, SB, SE, SGA, WILL, WONT};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

use super::codec::{TelnetCodec, TelnetInput};
use super::consts::{AO, AYT, BRK, DM, EC, EL, GA, IP, NOP, TSPEED, TTYPE, TTYPE_IS};
use super::{Change, Command, Dropped, Event, Policy, Side, Telnet, encode_text};

/// NEW-ENVIRON (RFC 1572), which PuTTY offers; tavern does not name it.
const NEW_ENVIRON: u8 = 39;
/// An option number no one has assigned.
const UNKNOWN: u8 = 200;
/// The subnegotiation limit used unless a test says otherwise.
const MAX_SB: usize = 1024;

// ---------------------------------------------------------------------------
// Helpers

/// tavern's policy, with or without server-side echo (compression on).
fn policy(echo: bool) -> Policy {
    Policy {
        echo,
        compression: true,
    }
}

/// Tavern as deployed with server-side echo allowed.
fn tavern() -> Telnet {
    Telnet::new(policy(true), MAX_SB)
}

/// Feeds each chunk as one read, draining events and transmit bytes after
/// every read as a session does. Returns the events with adjacent `Data`
/// joined, and every byte transmitted, in order.
fn feed(telnet: &mut Telnet, chunks: &[&[u8]]) -> (Vec<Event>, Vec<u8>) {
    let mut events = Vec::new();
    let mut transmit = Vec::new();
    drain(telnet, &mut events, &mut transmit);
    for chunk in chunks {
        telnet.handle_input(chunk);
        drain(telnet, &mut events, &mut transmit);
    }
    (events, transmit)
}

fn drain(telnet: &mut Telnet, events: &mut Vec<Event>, transmit: &mut Vec<u8>) {
    while let Some(event) = telnet.poll_event() {
        push_joined(events, event);
    }
    while let Some(bytes) = telnet.poll_transmit() {
        assert!(!bytes.is_empty(), "poll_transmit returned an empty buffer");
        transmit.extend_from_slice(&bytes);
    }
}

/// Appends `event`, merging it into the previous one when both are `Data`.
fn push_joined(events: &mut Vec<Event>, event: Event) {
    if let (Some(Event::Data(last)), Event::Data(more)) = (events.last_mut(), &event) {
        let mut joined = last.to_vec();
        joined.extend_from_slice(more);
        *last = Bytes::from(joined);
    } else {
        events.push(event);
    }
}

/// Feeds `chunks` to a fresh tavern and returns events and transmit bytes.
fn run(chunks: &[&[u8]]) -> (Vec<Event>, Vec<u8>) {
    feed(&mut tavern(), chunks)
}

/// Feeds `chunks` to a fresh tavern and compares the events (adjacent `Data`
/// joined) with `expected`.
#[track_caller]
fn check(chunks: &[&[u8]], expected: &[Event]) {
    let (events, _) = run(chunks);
    assert_eq!(events, expected, "input {chunks:?}");
}

fn data(text: &[u8]) -> Event {
    Event::Data(Bytes::copy_from_slice(text))
}

const EOL: Event = Event::EndOfLine;

const NO_EVENTS: [Event; 0] = [];

fn on(side: Side, option: u8) -> Event {
    Event::Option(Change {
        side,
        option,
        enabled: true,
    })
}

fn off(side: Side, option: u8) -> Event {
    Event::Option(Change {
        side,
        option,
        enabled: false,
    })
}

fn subneg(option: u8, payload: &[u8]) -> Event {
    Event::Subnegotiation {
        option,
        data: Bytes::copy_from_slice(payload),
    }
}

/// Every byte of `input` in its own read.
fn bytewise(input: &[u8]) -> Vec<&[u8]> {
    input.chunks(1).collect()
}

/// The text of all `Data` events, concatenated.
fn text_of(events: &[Event]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Data(bytes) => Some(bytes.to_vec()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Splits `input` at each of `cuts` (sorted, deduplicated, clamped).
fn cut_at<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts {
        chunks.push(&input[start..cut]);
        start = cut;
    }
    chunks.push(&input[start..]);
    chunks
}

fn encoded(text: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_text(text, &mut out);
    out.to_vec()
}

// ---------------------------------------------------------------------------
// The five ways nectar 0.4's decoder failed

#[test]
fn a_line_split_across_reads_arrives_once() {
    check(&[b"hel", b"lo\r\n"], &[data(b"hello"), EOL]);
}

#[test]
fn a_line_typed_one_character_per_read_arrives_once() {
    check(&bytewise(b"hello\r\n"), &[data(b"hello"), EOL]);
}

#[test]
fn a_bare_lf_ends_a_line() {
    check(
        &[b"hello\nworld\n"],
        &[data(b"hello"), EOL, data(b"world"), EOL],
    );
}

#[test]
fn cr_nul_ends_a_line() {
    check(
        &[b"hello\r\0world\r\0"],
        &[data(b"hello"), EOL, data(b"world"), EOL],
    );
}

#[test]
fn interrupt_and_are_you_there_inside_text_are_commands_not_data() {
    check(
        &[b"ab\xff\xf4cd\xff\xf6ef\r\n"],
        &[
            data(b"ab"),
            Event::Command(Command::InterruptProcess),
            data(b"cd"),
            Event::Command(Command::AreYouThere),
            data(b"ef"),
            EOL,
        ],
    );
}

#[test]
fn a_partial_subnegotiation_waits_for_the_rest_and_then_completes() {
    let mut telnet = tavern();
    let (events, transmit) = feed(&mut telnet, &[&[IAC, SB, TTYPE, TTYPE_IS, b'x']]);
    assert_eq!(events, NO_EVENTS);
    assert_eq!(transmit, b"");
    let (events, _) = feed(&mut telnet, &[b"term", &[IAC, SE], b"hi\r\n"]);
    assert_eq!(
        events,
        [subneg(TTYPE, b"\0xterm"), data(b"hi"), EOL],
        "the subnegotiation completes when the rest arrives"
    );
}

#[test]
fn a_subnegotiation_never_finished_does_not_panic_and_yields_nothing() {
    check(&[&[IAC, SB, TTYPE, TTYPE_IS, b'x']], &[]);
    check(&[&[IAC, SB, TTYPE]], &[]);
    check(&[&[IAC, SB]], &[]);
    check(&[&[IAC, SB, TTYPE, b'x', IAC]], &[]);
}

// ---------------------------------------------------------------------------
// IAC: escapes, commands, subnegotiations

#[test]
fn iac_iac_is_the_data_byte_255() {
    check(&[b"a\xff\xffb\r\n"], &[data(b"a\xffb"), EOL]);
}

#[test]
fn iac_iac_split_between_reads_is_still_one_data_byte() {
    check(&[b"a\xff", b"\xffb"], &[data(b"a\xffb")]);
    check(&[b"\xff", b"\xff"], &[data(b"\xff")]);
    check(&[b"\xff", b"", b"\xff"], &[data(b"\xff")]);
}

#[test]
fn every_two_byte_command_is_a_command_event_and_never_text() {
    let table = [
        (NOP, Command::Nop),
        (DM, Command::DataMark),
        (BRK, Command::Break),
        (IP, Command::InterruptProcess),
        (AO, Command::AbortOutput),
        (AYT, Command::AreYouThere),
        (EC, Command::EraseCharacter),
        (EL, Command::EraseLine),
        (GA, Command::GoAhead),
    ];
    for (byte, command) in table {
        let input = [b'a', IAC, byte, b'b'];
        let expected = [data(b"a"), Event::Command(command), data(b"b")];
        check(&[&input], &expected);
        check(&bytewise(&input), &expected);
        check(&[&[IAC, byte]], &[Event::Command(command)]);
    }
}

#[test]
fn a_subnegotiation_unescapes_iac_iac_in_its_payload() {
    check(
        &[&[IAC, SB, 201, b'a', IAC, IAC, b'b', IAC, IAC, IAC, SE]],
        &[subneg(201, b"a\xffb\xff")],
    );
}

#[test]
fn an_empty_subnegotiation_is_reported_with_no_data() {
    check(&[&[IAC, SB, NAWS, IAC, SE]], &[subneg(NAWS, b"")]);
}

#[test]
fn a_subnegotiation_payload_of_exactly_the_limit_is_kept() {
    let mut telnet = Telnet::new(policy(true), 4);
    let (events, _) = feed(&mut telnet, &[&[IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE]]);
    assert_eq!(events, [subneg(NAWS, &[0, 80, 0, 24])]);
}

#[test]
fn an_oversize_subnegotiation_is_dropped_and_what_follows_is_parsed() {
    let mut input = vec![IAC, SB, TTYPE, TTYPE_IS];
    input.extend_from_slice(b"far-too-long-a-terminal-name");
    input.extend_from_slice(&[IAC, IAC, b'z', IAC, SE]);
    input.extend_from_slice(b"hi\xff\xff\r\n");
    input.extend_from_slice(&[IAC, AYT]);
    let expected = [
        Event::Dropped(Dropped::OversizeSubnegotiation { option: TTYPE }),
        data(b"hi\xff"),
        EOL,
        Event::Command(Command::AreYouThere),
    ];
    for limit in [0, 1, 8, 28] {
        let mut telnet = Telnet::new(policy(true), limit);
        assert_eq!(feed(&mut telnet, &[&input]).0, expected, "limit {limit}");
        let mut telnet = Telnet::new(policy(true), limit);
        assert_eq!(
            feed(&mut telnet, &bytewise(&input)).0,
            expected,
            "limit {limit}"
        );
    }
}

#[test]
fn an_oversize_subnegotiation_cut_short_by_a_command_reads_the_command() {
    let mut telnet = Telnet::new(policy(true), 2);
    let (events, transmit) = feed(&mut telnet, &[&[IAC, SB, TTYPE, 1, 2, 3, IAC, WILL, NAWS]]);
    assert_eq!(
        events,
        [
            Event::Dropped(Dropped::OversizeSubnegotiation { option: TTYPE }),
            on(Side::Remote, NAWS),
        ]
    );
    assert_eq!(transmit, [IAC, DO, NAWS]);
}

#[test]
fn a_never_ending_subnegotiation_of_megabytes_is_not_kept() {
    // Memory cannot be measured here; what can be: nothing of it is reported,
    // and the parser is still sane when it finally ends.
    let mut telnet = tavern();
    let (events, transmit) = feed(&mut telnet, &[&[IAC, SB, TTYPE, TTYPE_IS]]);
    assert_eq!((events, transmit), (vec![], vec![]));
    let mut block = vec![b'x'; 64 * 1024];
    block[100] = IAC; // an escaped IAC in the middle: still inside
    block[101] = IAC;
    block[5000] = b'\r';
    block[5001] = b'\n';
    for _ in 0..(8 * 1024 * 1024 / block.len()) {
        telnet.handle_input(&block);
        assert_eq!(telnet.poll_event(), None);
        assert_eq!(telnet.poll_transmit(), None);
    }
    let (events, transmit) = feed(&mut telnet, &[&[IAC, SE], b"hello\r\n"]);
    assert_eq!(
        events,
        [
            Event::Dropped(Dropped::OversizeSubnegotiation { option: TTYPE }),
            data(b"hello"),
            EOL,
        ]
    );
    assert_eq!(transmit, b"");
    // And the next subnegotiation is read normally.
    let (events, _) = feed(&mut telnet, &[&[IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE]]);
    assert_eq!(events, [subneg(NAWS, &[0, 80, 0, 24])]);
}

#[test]
fn a_large_subnegotiation_leaves_no_buffer_behind() {
    let mut telnet = Telnet::new(policy(true), 64 * 1024);
    let payload = vec![b'x'; 20_000];
    let mut input = vec![IAC, SB, TTYPE];
    input.extend_from_slice(&payload);
    input.extend_from_slice(&[IAC, SE]);
    let (events, _) = feed(&mut telnet, &[&input]);
    assert_eq!(events, [subneg(TTYPE, &payload)]);
    assert!(telnet.parser.subnegotiation_capacity() <= 256);
    // Nor does one dropped for outgrowing the limit, cut short or not.
    let mut telnet = Telnet::new(policy(true), 8 * 1024);
    for end in [&[IAC, SE][..], &[IAC, NOP]] {
        let mut input = vec![IAC, SB, TTYPE];
        input.extend_from_slice(&payload);
        telnet.handle_input(&input);
        assert!(telnet.parser.subnegotiation_capacity() <= 256);
        telnet.handle_input(end);
        assert!(telnet.parser.subnegotiation_capacity() <= 256);
    }
    let (events, _) = feed(&mut telnet, &[]);
    assert_eq!(
        events,
        [
            Event::Dropped(Dropped::OversizeSubnegotiation { option: TTYPE }),
            Event::Dropped(Dropped::OversizeSubnegotiation { option: TTYPE }),
            Event::Command(Command::Nop),
        ]
    );
}

#[test]
fn a_stray_se_is_dropped_and_leaves_no_data() {
    check(
        &[b"ab\xff\xf0cd"],
        &[data(b"ab"), Event::Dropped(Dropped::StraySe), data(b"cd")],
    );
    check(&[&[IAC, SE]], &[Event::Dropped(Dropped::StraySe)]);
}

#[test]
fn an_unknown_command_is_dropped_and_leaves_no_data() {
    check(
        &[b"ab\xff\x10cd"],
        &[
            data(b"ab"),
            Event::Dropped(Dropped::UnknownCommand(0x10)),
            data(b"cd"),
        ],
    );
    // Every byte below SE names no command, CR and LF included: after an IAC
    // they are neither text nor a line end.
    for byte in 0..SE {
        check(
            &[&[b'a', IAC], &[byte, b'b']],
            &[
                data(b"a"),
                Event::Dropped(Dropped::UnknownCommand(byte)),
                data(b"b"),
            ],
        );
    }
}

#[test]
fn a_subnegotiation_cut_short_by_a_command_is_dropped_and_the_command_read() {
    check(
        &[&[IAC, SB, TTYPE, b'a', IAC, AYT], b"ok"],
        &[
            Event::Dropped(Dropped::MalformedSubnegotiation),
            Event::Command(Command::AreYouThere),
            data(b"ok"),
        ],
    );
    let (events, transmit) = run(&[&[IAC, SB, TTYPE, b'a', IAC, WILL, TTYPE]]);
    assert_eq!(
        events,
        [
            Event::Dropped(Dropped::MalformedSubnegotiation),
            on(Side::Remote, TTYPE),
        ]
    );
    assert_eq!(transmit, [IAC, DO, TTYPE]);
}

#[test]
fn a_subnegotiation_cut_short_by_another_starts_the_new_one() {
    check(
        &[&[IAC, SB, TTYPE, b'a', IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE]],
        &[
            Event::Dropped(Dropped::MalformedSubnegotiation),
            subneg(NAWS, &[0, 80, 0, 24]),
        ],
    );
    // The same from inside an oversize one.
    let mut telnet = Telnet::new(policy(true), 2);
    let (events, _) = feed(
        &mut telnet,
        &[&[IAC, SB, TTYPE, 1, 2, 3, IAC, SB, 201, 7, IAC, SE]],
    );
    assert_eq!(
        events,
        [
            Event::Dropped(Dropped::OversizeSubnegotiation { option: TTYPE }),
            subneg(201, &[7]),
        ]
    );
}

#[test]
fn a_subnegotiation_with_no_option_byte_is_dropped() {
    check(
        &[&[IAC, SB, IAC, NOP], b"x"],
        &[
            Event::Dropped(Dropped::MalformedSubnegotiation),
            Event::Command(Command::Nop),
            data(b"x"),
        ],
    );
}

/// Text, every kind of line end, IAC IAC, commands, negotiation and a
/// subnegotiation with an escaped IAC, in one sequence.
const BUSY: &[u8] = b"hi\r\nyo\r\0a\rb\nc\xff\xffd\r\r\n\
\xff\xf1\xff\xf2\xff\xf3\xff\xf4\xff\xf5\xff\xf6\xff\xf7\xff\xf8\xff\xf9\
\xff\xfb\x18\xff\xfd\x01\xff\xfb\xc8\xff\xfe\x03\
\xff\xfa\x18\x00x\xff\xffy\xff\xf0\
\xff\xf0\xff\x10end\r";

fn busy_expected() -> (Vec<Event>, Vec<u8>) {
    let events = vec![
        data(b"hi"),
        EOL,
        data(b"yo"),
        EOL,
        data(b"a"),
        EOL,
        data(b"b"),
        EOL,
        data(b"c\xffd"),
        EOL,
        EOL,
        Event::Command(Command::Nop),
        Event::Command(Command::DataMark),
        Event::Command(Command::Break),
        Event::Command(Command::InterruptProcess),
        Event::Command(Command::AbortOutput),
        Event::Command(Command::AreYouThere),
        Event::Command(Command::EraseCharacter),
        Event::Command(Command::EraseLine),
        Event::Command(Command::GoAhead),
        on(Side::Remote, TTYPE),
        on(Side::Local, ECHO),
        Event::Refused {
            side: Side::Remote,
            option: UNKNOWN,
        },
        subneg(TTYPE, b"\0x\xffy"),
        Event::Dropped(Dropped::StraySe),
        Event::Dropped(Dropped::UnknownCommand(0x10)),
        data(b"end"),
        EOL,
    ];
    // DONT SGA while SGA is off needs no answer.
    let transmit = vec![IAC, DO, TTYPE, IAC, WILL, ECHO, IAC, DONT, UNKNOWN];
    (events, transmit)
}

#[test]
fn the_busy_sequence_fed_whole_gives_the_expected_events_and_answers() {
    assert_eq!(run(&[BUSY]), busy_expected());
}

#[test]
fn every_split_point_of_a_busy_sequence_gives_the_same_events() {
    let expected = busy_expected();
    for i in 0..=BUSY.len() {
        assert_eq!(run(&cut_at(BUSY, &[i])), expected, "split at {i}");
    }
    for i in 0..=BUSY.len() {
        for j in i..=BUSY.len() {
            assert_eq!(run(&cut_at(BUSY, &[i, j])), expected, "split at {i}, {j}");
        }
    }
    assert_eq!(run(&bytewise(BUSY)), expected, "one byte per read");
}

// ---------------------------------------------------------------------------
// Line endings

#[test]
fn each_line_ending_ends_exactly_one_line() {
    for ending in [&b"\r\n"[..], b"\r\0", b"\n", b"\r"] {
        let input = [&b"one"[..], ending, b"two"].concat();
        let expected = [data(b"one"), EOL, data(b"two")];
        check(&[&input], &expected);
        check(&bytewise(&input), &expected);
    }
}

#[test]
fn a_cr_and_what_follows_in_different_reads_end_one_line() {
    check(&[b"one\r", b"\ntwo"], &[data(b"one"), EOL, data(b"two")]);
    check(&[b"one\r", b"\0two"], &[data(b"one"), EOL, data(b"two")]);
    check(&[b"one\r", b"two"], &[data(b"one"), EOL, data(b"two")]);
    check(&[b"one\r", b"", b"\n"], &[data(b"one"), EOL]);
    check(&[b"one\r", b"\r", b"\n"], &[data(b"one"), EOL, EOL]);
}

#[test]
fn a_line_end_split_by_negotiation_is_still_one_line_end() {
    // CR, then a whole negotiation, then the LF that belongs to the CR.
    let (events, transmit) = run(&[b"one\r", &[IAC, WILL, NAWS], b"\ntwo"]);
    assert_eq!(
        events,
        [data(b"one"), EOL, on(Side::Remote, NAWS), data(b"two")]
    );
    assert_eq!(transmit, [IAC, DO, NAWS]);
}

#[test]
fn cr_cr_lf_is_two_line_ends() {
    check(&[b"a\r\r\nb\n"], &[data(b"a"), EOL, EOL, data(b"b"), EOL]);
    check(
        &bytewise(b"a\r\r\nb\n"),
        &[data(b"a"), EOL, EOL, data(b"b"), EOL],
    );
}

#[test]
fn mixed_crlf_and_lf_lines_end_one_line_each() {
    check(
        &[b"one\r\ntwo\nthree\r\n\nfive\n\r\nseven\n\n"],
        &[
            data(b"one"),
            EOL,
            data(b"two"),
            EOL,
            data(b"three"),
            EOL,
            EOL,
            data(b"five"),
            EOL,
            EOL,
            data(b"seven"),
            EOL,
            EOL,
        ],
    );
    // LF CR is two line ends (a bare LF, then a bare CR), not one.
    check(&[b"a\n\rb"], &[data(b"a"), EOL, EOL, data(b"b")]);
}

#[test]
fn a_cr_followed_by_an_escaped_255_is_a_bare_cr() {
    // IAC IAC is a data byte: the LF after it is a line end of its own.
    check(&[b"a\r\xff\xff\n"], &[data(b"a"), EOL, data(b"\xff"), EOL]);
    check(
        &[b"a\r\xff", b"\xff\n"],
        &[data(b"a"), EOL, data(b"\xff"), EOL],
    );
}

#[test]
fn a_nul_that_follows_no_cr_is_text() {
    check(&[b"a\0b\n"], &[data(b"a\0b"), EOL]);
}

// ---------------------------------------------------------------------------
// Option negotiation (RFC 1143), checked by the exact bytes answered

#[test]
fn a_clients_will_ttype_is_answered_do_ttype_once() {
    let mut telnet = tavern();
    let (events, transmit) = feed(&mut telnet, &[&[IAC, WILL, TTYPE]]);
    assert_eq!(events, [on(Side::Remote, TTYPE)]);
    assert_eq!(transmit, [IAC, DO, TTYPE]);
    assert!(telnet.is_enabled(Side::Remote, TTYPE));
    assert!(!telnet.is_enabled(Side::Local, TTYPE));
}

#[test]
fn a_repeated_will_ttype_is_not_answered() {
    let mut telnet = tavern();
    feed(&mut telnet, &[&[IAC, WILL, TTYPE]]);
    let (events, transmit) = feed(&mut telnet, &[&[IAC, WILL, TTYPE], &[IAC, WILL, TTYPE]]);
    assert_eq!(events, NO_EVENTS);
    assert_eq!(transmit, b"");
    assert!(telnet.is_enabled(Side::Remote, TTYPE));
}

#[test]
fn a_will_that_acknowledges_our_do_is_not_answered() {
    let mut telnet = tavern();
    telnet.enable(Side::Remote, TTYPE);
    assert_eq!(
        telnet.poll_transmit().as_deref(),
        Some(&[IAC, DO, TTYPE][..])
    );
    assert!(telnet.is_pending(Side::Remote, TTYPE));
    assert!(!telnet.is_enabled(Side::Remote, TTYPE));
    let (events, transmit) = feed(&mut telnet, &[&[IAC, WILL, TTYPE]]);
    assert_eq!(events, [on(Side::Remote, TTYPE)]);
    assert_eq!(transmit, b"");
    assert!(telnet.is_enabled(Side::Remote, TTYPE));
    assert!(!telnet.is_pending(Side::Remote, TTYPE));
}

#[test]
fn a_wont_that_answers_our_do_turns_the_option_off_unanswered() {
    let mut telnet = tavern();
    telnet.enable(Side::Remote, TTYPE);
    assert_eq!(
        telnet.poll_transmit().as_deref(),
        Some(&[IAC, DO, TTYPE][..])
    );
    let (events, transmit) = feed(&mut telnet, &[&[IAC, WONT, TTYPE]]);
    assert_eq!(events, [off(Side::Remote, TTYPE)]);
    assert_eq!(transmit, b"");
    assert!(!telnet.is_enabled(Side::Remote, TTYPE));
    assert!(!telnet.is_pending(Side::Remote, TTYPE));
}

#[test]
fn a_wont_for_an_option_that_is_on_is_acknowledged_with_dont() {
    let mut telnet = tavern();
    feed(&mut telnet, &[&[IAC, WILL, NAWS]]);
    let (events, transmit) = feed(&mut telnet, &[&[IAC, WONT, NAWS]]);
    assert_eq!(events, [off(Side::Remote, NAWS)]);
    assert_eq!(transmit, [IAC, DONT, NAWS]);
    // The same again is already in force: no answer.
    let (events, transmit) = feed(&mut telnet, &[&[IAC, WONT, NAWS]]);
    assert_eq!((events, transmit), (vec![], vec![]));
}

#[test]
fn a_dont_for_an_option_we_do_is_acknowledged_with_wont() {
    let mut telnet = tavern();
    let (_, transmit) = feed(&mut telnet, &[&[IAC, DO, SGA]]);
    assert_eq!(transmit, [IAC, WILL, SGA]);
    let (events, transmit) = feed(&mut telnet, &[&[IAC, DONT, SGA]]);
    assert_eq!(events, [off(Side::Local, SGA)]);
    assert_eq!(transmit, [IAC, WONT, SGA]);
    assert!(!telnet.is_enabled(Side::Local, SGA));
}

#[test]
fn an_unknown_option_is_refused() {
    let (events, transmit) = run(&[&[IAC, WILL, UNKNOWN]]);
    assert_eq!(
        events,
        [Event::Refused {
            side: Side::Remote,
            option: UNKNOWN
        }]
    );
    assert_eq!(transmit, [IAC, DONT, UNKNOWN]);
    let (events, transmit) = run(&[&[IAC, DO, UNKNOWN]]);
    assert_eq!(
        events,
        [Event::Refused {
            side: Side::Local,
            option: UNKNOWN
        }]
    );
    assert_eq!(transmit, [IAC, WONT, UNKNOWN]);
}

#[test]
fn an_unknown_option_asked_ten_times_gets_one_refusal_per_request_and_no_more() {
    let will = [IAC, WILL, UNKNOWN];
    let (events, transmit) = run(&[&will.repeat(10)]);
    assert_eq!(transmit, [IAC, DONT, UNKNOWN].repeat(10));
    let refused = Event::Refused {
        side: Side::Remote,
        option: UNKNOWN,
    };
    let expected = vec![refused; 10];
    assert_eq!(events, expected);
    // Same when the requests come one read at a time.
    let reads: Vec<&[u8]> = (0..10).map(|_| &will[..]).collect();
    assert_eq!(run(&reads), (expected, [IAC, DONT, UNKNOWN].repeat(10)));
}

#[test]
fn do_echo_is_accepted_when_tavern_echoes() {
    let mut telnet = Telnet::new(policy(true), MAX_SB);
    let (events, transmit) = feed(&mut telnet, &[&[IAC, DO, ECHO]]);
    assert_eq!(events, [on(Side::Local, ECHO)]);
    assert_eq!(transmit, [IAC, WILL, ECHO]);
    assert!(telnet.is_enabled(Side::Local, ECHO));
}

#[test]
fn do_echo_is_refused_when_tavern_does_not_echo() {
    let mut telnet = Telnet::new(policy(false), MAX_SB);
    let (events, transmit) = feed(&mut telnet, &[&[IAC, DO, ECHO]]);
    assert_eq!(
        events,
        [Event::Refused {
            side: Side::Local,
            option: ECHO
        }]
    );
    assert_eq!(transmit, [IAC, WONT, ECHO]);
    assert!(!telnet.is_enabled(Side::Local, ECHO));
}

#[test]
fn do_mccp2_is_accepted_only_when_compression_is_configured() {
    for compression in [true, false] {
        let mut telnet = Telnet::new(
            Policy {
                echo: true,
                compression,
            },
            MAX_SB,
        );
        let (events, transmit) = feed(&mut telnet, &[&[IAC, DO, MCCP2]]);
        if compression {
            assert_eq!(events, [on(Side::Local, MCCP2)]);
            assert_eq!(transmit, [IAC, WILL, MCCP2]);
        } else {
            let refused = Event::Refused {
                side: Side::Local,
                option: MCCP2,
            };
            assert_eq!(events, [refused]);
            assert_eq!(transmit, [IAC, WONT, MCCP2]);
        }
        assert_eq!(telnet.is_enabled(Side::Local, MCCP2), compression);
    }
}

#[test]
fn will_linemode_is_refused_with_dont_linemode() {
    let (events, transmit) = run(&[&[IAC, WILL, LINEMODE]]);
    assert_eq!(
        events,
        [Event::Refused {
            side: Side::Remote,
            option: LINEMODE
        }]
    );
    assert_eq!(transmit, [IAC, DONT, LINEMODE]);
}

#[test]
fn enabling_twice_sends_one_request() {
    let mut telnet = tavern();
    telnet.enable(Side::Remote, TTYPE);
    telnet.enable(Side::Remote, TTYPE);
    telnet.enable(Side::Local, ECHO);
    telnet.enable(Side::Local, ECHO);
    let (_, transmit) = feed(&mut telnet, &[]);
    assert_eq!(transmit, [IAC, DO, TTYPE, IAC, WILL, ECHO]);
}

#[test]
fn enabling_an_option_already_on_or_disabling_one_off_sends_nothing() {
    let mut telnet = tavern();
    telnet.disable(Side::Remote, TTYPE);
    telnet.disable(Side::Local, ECHO);
    assert_eq!(telnet.poll_transmit(), None);
    feed(&mut telnet, &[&[IAC, WILL, TTYPE]]);
    telnet.enable(Side::Remote, TTYPE);
    assert_eq!(telnet.poll_transmit(), None);
}

#[test]
fn enable_then_disable_before_the_answer_sends_dont_once_the_will_arrives() {
    // RFC 1143 WANTYES OPPOSITE: the DONT waits for the answer to the DO.
    let mut telnet = tavern();
    telnet.enable(Side::Remote, TTYPE);
    telnet.disable(Side::Remote, TTYPE);
    let (_, transmit) = feed(&mut telnet, &[]);
    assert_eq!(transmit, [IAC, DO, TTYPE], "only the DO before the answer");
    let (_, transmit) = feed(&mut telnet, &[&[IAC, WILL, TTYPE]]);
    assert_eq!(transmit, [IAC, DONT, TTYPE]);
    assert!(!telnet.is_enabled(Side::Remote, TTYPE));
    assert!(telnet.is_pending(Side::Remote, TTYPE));
    let (events, transmit) = feed(&mut telnet, &[&[IAC, WONT, TTYPE]]);
    assert_eq!(events, [off(Side::Remote, TTYPE)]);
    assert_eq!(transmit, b"");
    assert!(!telnet.is_enabled(Side::Remote, TTYPE));
    assert!(!telnet.is_pending(Side::Remote, TTYPE));
}

#[test]
fn enable_disable_enable_before_the_answer_leaves_one_request_and_the_option_on() {
    let mut telnet = tavern();
    telnet.enable(Side::Remote, TTYPE);
    telnet.disable(Side::Remote, TTYPE);
    telnet.enable(Side::Remote, TTYPE);
    let (_, transmit) = feed(&mut telnet, &[]);
    assert_eq!(transmit, [IAC, DO, TTYPE]);
    let (events, transmit) = feed(&mut telnet, &[&[IAC, WILL, TTYPE]]);
    assert_eq!(events, [on(Side::Remote, TTYPE)]);
    assert_eq!(transmit, b"", "the queued DONT was cancelled");
    assert!(telnet.is_enabled(Side::Remote, TTYPE));
}

#[test]
fn disable_enable_disable_before_the_answer_leaves_one_request_and_the_option_off() {
    let mut telnet = tavern();
    feed(&mut telnet, &[&[IAC, DO, SGA]]);
    telnet.disable(Side::Local, SGA);
    telnet.enable(Side::Local, SGA);
    telnet.disable(Side::Local, SGA);
    let (_, transmit) = feed(&mut telnet, &[]);
    assert_eq!(transmit, [IAC, WONT, SGA]);
    let (events, transmit) = feed(&mut telnet, &[&[IAC, DONT, SGA]]);
    assert_eq!(events, [off(Side::Local, SGA)]);
    assert_eq!(transmit, b"", "the queued WILL was cancelled");
    assert!(!telnet.is_enabled(Side::Local, SGA));
}

#[test]
fn enable_then_disable_answered_by_a_refusal_sends_nothing_more() {
    let mut telnet = tavern();
    telnet.enable(Side::Local, SGA);
    telnet.disable(Side::Local, SGA);
    let (_, transmit) = feed(&mut telnet, &[]);
    assert_eq!(transmit, [IAC, WILL, SGA]);
    let (events, transmit) = feed(&mut telnet, &[&[IAC, DONT, SGA]]);
    assert_eq!(events, [off(Side::Local, SGA)]);
    assert_eq!(transmit, b"");
}

#[test]
fn disable_then_enable_before_the_answer_asks_again_once_the_wont_arrives() {
    // RFC 1143 WANTNO OPPOSITE.
    let mut telnet = tavern();
    feed(&mut telnet, &[&[IAC, WILL, NAWS]]);
    telnet.disable(Side::Remote, NAWS);
    telnet.enable(Side::Remote, NAWS);
    let (_, transmit) = feed(&mut telnet, &[]);
    assert_eq!(transmit, [IAC, DONT, NAWS]);
    let (_, transmit) = feed(&mut telnet, &[&[IAC, WONT, NAWS]]);
    assert_eq!(transmit, [IAC, DO, NAWS]);
    let (events, transmit) = feed(&mut telnet, &[&[IAC, WILL, NAWS]]);
    assert_eq!(events, [on(Side::Remote, NAWS)]);
    assert_eq!(transmit, b"");
    assert!(telnet.is_enabled(Side::Remote, NAWS));
}

/// Moves everything `from` has to transmit into `to`; returns how many
/// three-byte commands went across.
fn pass(from: &mut Telnet, to: &mut Telnet) -> usize {
    let mut sent = 0;
    while let Some(bytes) = from.poll_transmit() {
        sent += bytes.len() / 3;
        to.handle_input(&bytes);
    }
    while to.poll_event().is_some() {}
    sent
}

/// Runs two connected instances until neither has anything to send; returns
/// the number of rounds it took (a round: each side sends what it has).
fn exchange_until_quiet(a: &mut Telnet, b: &mut Telnet) -> usize {
    for round in 0..100 {
        let sent = pass(a, b) + pass(b, a);
        if sent == 0 {
            return round;
        }
    }
    panic!("still negotiating after 100 rounds");
}

/// Both ends of a connection agree on every option in `options`.
#[track_caller]
fn assert_agree(a: &Telnet, b: &Telnet, options: &[u8]) {
    for &option in options {
        assert_eq!(
            a.is_enabled(Side::Local, option),
            b.is_enabled(Side::Remote, option),
            "option {option}, a local"
        );
        assert_eq!(
            a.is_enabled(Side::Remote, option),
            b.is_enabled(Side::Local, option),
            "option {option}, a remote"
        );
    }
}

const TRIED: [u8; 8] = [
    ECHO,
    SGA,
    TTYPE,
    NAWS,
    LINEMODE,
    UNKNOWN,
    NEW_ENVIRON,
    TSPEED,
];

#[test]
fn a_tavern_asking_everything_of_a_refusing_tavern_goes_quiet() {
    let mut a = Telnet::new(policy(true), MAX_SB);
    // The far side only answers, and refuses all it can: no echo either way,
    // nothing it does not know.
    let mut b = Telnet::new(policy(false), MAX_SB);
    for option in TRIED {
        a.enable(Side::Remote, option);
        a.enable(Side::Local, option);
    }
    a.disable(Side::Remote, NAWS); // a change of mind while the DO is in flight
    let rounds = exchange_until_quiet(&mut a, &mut b);
    assert!(rounds <= 2, "took {rounds} rounds");
    assert_agree(&a, &b, &TRIED);
    let on_at_a = |side| {
        TRIED
            .into_iter()
            .filter(|&option| a.is_enabled(side, option))
            .collect::<Vec<u8>>()
    };
    // b performs only SGA (ECHO is off in its policy); it lets a perform
    // what its policy accepts from a client: SGA, TTYPE and NAWS.
    assert_eq!(on_at_a(Side::Remote), [SGA]);
    assert_eq!(on_at_a(Side::Local), [SGA, TTYPE, NAWS]);
    for option in TRIED {
        assert!(!a.is_pending(Side::Local, option) && !a.is_pending(Side::Remote, option));
    }
}

#[test]
fn two_taverns_asking_everything_of_each_other_at_once_go_quiet_and_agree() {
    let mut a = Telnet::new(policy(true), MAX_SB);
    let mut b = Telnet::new(policy(false), MAX_SB);
    for option in TRIED {
        a.enable(Side::Remote, option);
        a.enable(Side::Local, option);
        b.enable(Side::Remote, option);
        b.enable(Side::Local, option);
    }
    // Changes of mind on both sides while the requests are in flight.
    a.disable(Side::Remote, TTYPE);
    b.disable(Side::Local, SGA);
    let rounds = exchange_until_quiet(&mut a, &mut b);
    assert!(rounds <= 3, "took {rounds} rounds");
    assert_agree(&a, &b, &TRIED);
    for option in TRIED {
        for side in [Side::Local, Side::Remote] {
            assert!(!a.is_pending(side, option) && !b.is_pending(side, option));
        }
    }
}

/// Found by `two_taverns_making_any_requests_go_quiet_and_agree` when tavern
/// stopped answering a peer's repeated requests after a few refusals: the
/// unanswered request left the peer waiting, and tavern's own later WILL then
/// read as the answer, so the client believed tavern echoed while tavern did
/// not. Every request is answered now; this is the plain case.
#[test]
fn repeated_refused_requests_then_our_own_request_leave_both_sides_agreeing() {
    let mut tavern = Telnet::new(policy(false), MAX_SB);
    let mut client = Telnet::new(policy(false), MAX_SB);
    for _ in 0..4 {
        client.enable(Side::Remote, ECHO);
        exchange_until_quiet(&mut client, &mut tavern);
    }
    tavern.enable(Side::Local, ECHO);
    exchange_until_quiet(&mut tavern, &mut client);
    assert_agree(&tavern, &client, &[ECHO]);
}

/// A peer that answers every WILL/WONT/DO/DONT with its opposite, for ever.
fn contrary(commands: &[u8]) -> Vec<u8> {
    assert_eq!(commands.len() % 3, 0);
    commands
        .chunks(3)
        .flat_map(|c| {
            let verb = match c[1] {
                WILL => DONT,
                WONT => DO,
                DO => WONT,
                DONT => WILL,
                other => panic!("tavern sent {other}"),
            };
            [IAC, verb, c[2]]
        })
        .collect()
}

#[test]
fn a_contrary_peer_gets_at_most_one_reply_per_message() {
    let mut telnet = tavern();
    telnet.enable(Side::Remote, TTYPE);
    telnet.enable(Side::Remote, NAWS);
    telnet.enable(Side::Local, SGA);
    let (_, mut from_tavern) = feed(&mut telnet, &[]);
    // The peer opens with requests of its own, for options tavern accepts,
    // refuses and does not know.
    let mut to_tavern = vec![
        IAC, DO, ECHO, IAC, WILL, SGA, IAC, WILL, UNKNOWN, IAC, DO, LINEMODE,
    ];
    to_tavern.extend(contrary(&from_tavern));
    for round in 0..100 {
        let messages = to_tavern.len() / 3;
        (_, from_tavern) = feed(&mut telnet, &[&to_tavern]);
        assert!(
            from_tavern.len() / 3 <= messages,
            "round {round}: {messages} messages in, {} out",
            from_tavern.len() / 3
        );
        to_tavern = contrary(&from_tavern);
    }
}

#[test]
fn tavern_requests_answered_by_a_contrary_peer_settle_at_once() {
    let mut telnet = tavern();
    feed(&mut telnet, &[&[IAC, WILL, NAWS]]);
    telnet.enable(Side::Remote, TTYPE);
    telnet.enable(Side::Local, ECHO);
    telnet.disable(Side::Remote, NAWS);
    let (_, request) = feed(&mut telnet, &[]);
    assert_eq!(request, [IAC, DO, TTYPE, IAC, WILL, ECHO, IAC, DONT, NAWS]);
    let (events, transmit) = feed(&mut telnet, &[&contrary(&request)]);
    assert_eq!(transmit, b"", "nothing more to say");
    assert_eq!(
        events,
        [
            off(Side::Remote, TTYPE),
            off(Side::Local, ECHO),
            off(Side::Remote, NAWS)
        ]
    );
    for (side, option) in [
        (Side::Remote, TTYPE),
        (Side::Local, ECHO),
        (Side::Remote, NAWS),
    ] {
        assert!(!telnet.is_enabled(side, option));
        assert!(!telnet.is_pending(side, option));
    }
}

// ---------------------------------------------------------------------------
// Real clients' bytes

/// PuTTY's first packet: WILL NAWS, WILL TSPEED, WILL TTYPE, WILL NEW-ENVIRON,
/// DO ECHO, WILL SGA, DO SGA.
const PUTTY_OPENING: &[u8] = &[
    0xff, 0xfb, 0x1f, 0xff, 0xfb, 0x20, 0xff, 0xfb, 0x18, 0xff, 0xfb, 0x27, 0xff, 0xfd, 0x01, 0xff,
    0xfb, 0x03, 0xff, 0xfd, 0x03,
];

#[test]
fn puttys_opening_negotiation_gets_the_expected_answers() {
    let mut telnet = Telnet::new(policy(true), MAX_SB);
    let (events, transmit) = feed(&mut telnet, &[PUTTY_OPENING]);
    assert_eq!(
        transmit,
        [
            IAC,
            DO,
            NAWS, //
            IAC,
            DONT,
            TSPEED, //
            IAC,
            DO,
            TTYPE, //
            IAC,
            DONT,
            NEW_ENVIRON, //
            IAC,
            WILL,
            ECHO, //
            IAC,
            DO,
            SGA, //
            IAC,
            WILL,
            SGA,
        ]
    );
    assert_eq!(
        events,
        [
            on(Side::Remote, NAWS),
            Event::Refused {
                side: Side::Remote,
                option: TSPEED
            },
            on(Side::Remote, TTYPE),
            Event::Refused {
                side: Side::Remote,
                option: NEW_ENVIRON
            },
            on(Side::Local, ECHO),
            on(Side::Remote, SGA),
            on(Side::Local, SGA),
        ]
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Data(_) | Event::EndOfLine))
    );
    // PuTTY then reports its window: 100 columns, 30 rows.
    let (events, transmit) = feed(
        &mut telnet,
        &[&[0xff, 0xfa, 0x1f, 0x00, 0x64, 0x00, 0x1e, 0xff, 0xf0]],
    );
    assert_eq!(events, [subneg(NAWS, &[0, 100, 0, 30])]);
    assert_eq!(transmit, b"");
}

#[test]
fn puttys_opening_one_byte_per_read_gets_the_same_answers() {
    assert_eq!(run(&bytewise(PUTTY_OPENING)), run(&[PUTTY_OPENING]));
}

#[test]
fn tintins_terminal_type_answer_is_one_subnegotiation() {
    let mut input = vec![0xff, 0xfa, 0x18, 0x00];
    input.extend_from_slice(b"TINTIN++");
    input.extend_from_slice(&[0xff, 0xf0]);
    check(&[&input], &[subneg(TTYPE, b"\0TINTIN++")]);
    check(&bytewise(&input), &[subneg(TTYPE, b"\0TINTIN++")]);
}

#[test]
fn a_name_typed_between_negotiation_replies_arrives_intact() {
    let will_ttype: &[u8] = &[0xff, 0xfb, 0x18];
    let ttype: &[u8] = b"\xff\xfa\x18\x00xterm-256color\xff\xf0";
    let naws: &[u8] = &[0xff, 0xfa, 0x1f, 0x00, 0x50, 0x00, 0x18, 0xff, 0xf0];
    let reads: Vec<&[u8]> = vec![
        b"a", will_ttype, b"l", ttype, b"i", naws, b"c", b"e", b"\r", b"\n",
    ];
    let expected = vec![
        data(b"a"),
        on(Side::Remote, TTYPE),
        data(b"l"),
        subneg(TTYPE, b"\0xterm-256color"),
        data(b"i"),
        subneg(NAWS, &[0, 80, 0, 24]),
        data(b"ce"),
        EOL,
    ];
    let (events, transmit) = run(&reads);
    assert_eq!(events, expected);
    assert_eq!(text_of(&events), b"alice");
    assert_eq!(transmit, [IAC, DO, TTYPE]);
    // And the same when every byte of it, replies included, is its own read.
    let all = reads.concat();
    assert_eq!(run(&bytewise(&all)), (expected, vec![IAC, DO, TTYPE]));
}

// ---------------------------------------------------------------------------
// Output

#[test]
fn encode_text_sends_lf_as_crlf() {
    assert_eq!(encoded(b"a\nb"), b"a\r\nb");
    assert_eq!(encoded(b"\n\n"), b"\r\n\r\n");
}

#[test]
fn encode_text_keeps_crlf_as_one_crlf() {
    assert_eq!(encoded(b"a\r\nb"), b"a\r\nb");
    assert_eq!(encoded(b"a\r\r\nb"), b"a\r\0\r\nb");
}

#[test]
fn encode_text_sends_a_lone_cr_as_cr_nul() {
    assert_eq!(encoded(b"a\rb"), b"a\r\0b");
    assert_eq!(encoded(b"a\r"), b"a\r\0");
}

#[test]
fn encode_text_doubles_iac() {
    assert_eq!(encoded(b"a\xffb"), b"a\xff\xffb");
    assert_eq!(encoded(b"\xff\xff"), b"\xff\xff\xff\xff");
    assert_eq!(encoded("é".as_bytes()), "é".as_bytes());
}

#[test]
fn encode_text_appends_to_what_is_already_in_the_buffer() {
    let mut out = BytesMut::from(&b"> "[..]);
    encode_text(b"hi\n", &mut out);
    assert_eq!(&out[..], b"> hi\r\n");
}

#[test]
fn encoded_text_reads_back_as_the_same_lines() {
    let text = b"one\ntwo\r\nthree\rfour\xff\n";
    check(
        &[&encoded(text)],
        &[
            data(b"one"),
            EOL,
            data(b"two"),
            EOL,
            data(b"three"),
            EOL,
            data(b"four\xff"),
            EOL,
        ],
    );
}

#[test]
fn send_subnegotiation_doubles_iac_in_the_payload() {
    let mut telnet = tavern();
    telnet.send_subnegotiation(TTYPE, &[1]);
    telnet.send_subnegotiation(201, b"a\xffb");
    let (_, transmit) = feed(&mut telnet, &[]);
    assert_eq!(
        transmit,
        [
            IAC, SB, TTYPE, 1, IAC, SE, //
            IAC, SB, 201, b'a', IAC, IAC, b'b', IAC, SE,
        ]
    );
    // And another tavern reads it back as sent.
    let mut other = tavern();
    let (events, _) = feed(&mut other, &[&transmit]);
    assert_eq!(events, [subneg(TTYPE, &[1]), subneg(201, b"a\xffb")]);
}

// ---------------------------------------------------------------------------
// The tokio codec

#[test]
fn the_codec_decodes_pieces_into_the_same_events_and_consumes_its_buffer() {
    let mut codec = TelnetCodec::new(tavern());
    let mut buffer = BytesMut::new();
    let mut events = Vec::new();
    for piece in bytewise(BUSY).chunks(7) {
        buffer.extend_from_slice(&piece.concat());
        while let Some(event) = codec.decode(&mut buffer).expect("decode never fails") {
            assert!(buffer.is_empty(), "the source buffer is consumed");
            push_joined(&mut events, event);
        }
        assert!(buffer.is_empty());
    }
    assert_eq!(
        codec.decode_eof(&mut buffer).expect("no error at eof"),
        None
    );
    let (expected_events, expected_transmit) = busy_expected();
    assert_eq!(events, expected_events);
    let mut transmit = Vec::new();
    while let Some(bytes) = codec.telnet().poll_transmit() {
        transmit.extend_from_slice(&bytes);
    }
    assert_eq!(transmit, expected_transmit);
}

#[test]
fn the_codec_encodes_text_for_the_wire() {
    let mut codec = TelnetCodec::new(tavern());
    let mut out = BytesMut::new();
    codec
        .encode("a\nb\r\u{ff}", &mut out)
        .expect("encode never fails");
    // U+00FF is two UTF-8 bytes, neither of them IAC.
    assert_eq!(&out[..], "a\r\nb\r\0\u{ff}".as_bytes());
}

#[tokio::test]
async fn the_socket_reader_yields_events_as_bytes_arrive_then_none_at_close() {
    // A reader that loses bytes would wait forever: fail instead.
    tokio::time::timeout(std::time::Duration::from_secs(10), socket_reader())
        .await
        .expect("the reader stalled");
}

async fn socket_reader() {
    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let mut client = TcpStream::connect(address).await.expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    let (read, _write) = server.into_split();
    let mut input = TelnetInput::new(read, TelnetCodec::new(tavern()));

    client.write_all(b"hi\r\n").await.expect("write");
    let mut events = Vec::new();
    while events.last() != Some(&EOL) {
        match input.next().await {
            Some(Ok(event)) => push_joined(&mut events, event),
            other => panic!("{other:?} before the line was read"),
        }
    }
    assert_eq!(events, [data(b"hi"), EOL]);
    // What arrives with the close is still read before the end is reported.
    client
        .write_all(&[b'b', b'y', b'e', IAC, WILL, NAWS])
        .await
        .expect("write");
    drop(client);
    let mut events = Vec::new();
    while let Some(event) = input.next().await {
        push_joined(&mut events, event.expect("no read error"));
    }
    assert_eq!(events, [data(b"bye"), on(Side::Remote, NAWS)]);
    assert!(input.next().await.is_none(), "the end is reported again");
    let answer = input.decoder_mut().telnet().poll_transmit();
    assert_eq!(answer.as_deref(), Some(&[IAC, DO, NAWS][..]));
}

// ---------------------------------------------------------------------------
// Property tests

/// Option numbers that mean something to tavern or to its clients, plus any.
fn option_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        prop::sample::select(vec![
            ECHO,
            SGA,
            TTYPE,
            NAWS,
            TSPEED,
            LINEMODE,
            NEW_ENVIRON,
            UNKNOWN,
            IAC
        ]),
        any::<u8>(),
    ]
}

/// A subnegotiation payload as sent: IAC doubled.
fn escaped_payload() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![any::<u8>(), Just(IAC), Just(SE)], 0..12).prop_map(
        |payload| {
            payload
                .into_iter()
                .flat_map(|b| if b == IAC { vec![IAC, IAC] } else { vec![b] })
                .collect()
        },
    )
}

/// One piece of what a client might send, well-formed or not.
fn segment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Plain ASCII text.
        "[ -~]{1,12}".prop_map(String::into_bytes),
        // UTF-8 text, some of whose bytes are >= 0xF0.
        "\\PC{1,6}".prop_map(String::into_bytes),
        // Line-end soup.
        prop::collection::vec(prop::sample::select(vec![b'\r', b'\n', 0, b'x']), 1..6),
        Just(vec![IAC, IAC]),
        // Two-byte commands, SE and an unknown one included.
        prop::sample::select(vec![NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, SE, 0x10, b'\r'])
            .prop_map(|c| vec![IAC, c]),
        // Negotiation.
        (
            prop::sample::select(vec![WILL, WONT, DO, DONT]),
            option_byte()
        )
            .prop_map(|(verb, option)| vec![IAC, verb, option]),
        // A well-formed subnegotiation.
        (option_byte(), escaped_payload()).prop_map(|(option, payload)| {
            let mut bytes = vec![IAC, SB, option];
            bytes.extend(payload);
            bytes.extend([IAC, SE]);
            bytes
        }),
        // A subnegotiation cut anywhere (what follows may end or break it).
        (
            option_byte(),
            escaped_payload(),
            any::<prop::sample::Index>()
        )
            .prop_map(|(option, payload, cut)| {
                let mut bytes = vec![IAC, SB, option];
                bytes.extend(payload);
                bytes.extend([IAC, SE]);
                let keep = cut.index(bytes.len() - 1);
                bytes.truncate(keep.max(1));
                bytes
            }),
        // Anything at all.
        prop::collection::vec(any::<u8>(), 1..8),
    ]
}

fn client_input() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(segment(), 0..24).prop_map(|segments| segments.concat())
}

/// Input, a set of cut points into it, a policy and a subnegotiation limit.
fn split_input() -> impl Strategy<Value = (Vec<u8>, Vec<usize>, bool, usize)> {
    client_input().prop_flat_map(|input| {
        let len = input.len();
        (
            Just(input),
            prop::collection::vec(0..=len, 0..10),
            any::<bool>(),
            prop_oneof![0..16usize, Just(MAX_SB)],
        )
    })
}

fn run_with(echo: bool, max_sb: usize, chunks: &[&[u8]]) -> (Vec<Event>, Vec<u8>) {
    feed(&mut Telnet::new(policy(echo), max_sb), chunks)
}

/// 256 cases, a few seconds; `PROPTEST_CASES=N` runs more.
fn proptest_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Any split of the input, one byte per read included, gives the same
    /// events and the same answers as the whole input in one read.
    #[test]
    fn any_split_of_any_input_gives_the_same_events_and_answers(
        (input, cuts, echo, max_sb) in split_input()
    ) {
        let whole = run_with(echo, max_sb, &[&input]);
        let chunks = cut_at(&input, &cuts);
        prop_assert_eq!(&run_with(echo, max_sb, &chunks), &whole, "cuts {:?}", cuts);
        prop_assert_eq!(&run_with(echo, max_sb, &bytewise(&input)), &whole, "one byte per read");
    }

    /// Data never grows, never holds a line end, is never empty; subnegotiations
    /// respect the limit; tavern only ever answers with three-byte negotiation.
    #[test]
    fn events_stay_within_the_input_and_hold_no_line_ends(
        (input, cuts, echo, max_sb) in split_input()
    ) {
        let (events, transmit) = run_with(echo, max_sb, &cut_at(&input, &cuts));
        let mut data_len = 0;
        for event in &events {
            match event {
                Event::Data(bytes) => {
                    prop_assert!(!bytes.is_empty());
                    prop_assert!(!bytes.contains(&b'\r') && !bytes.contains(&b'\n'), "{:?}", bytes);
                    data_len += bytes.len();
                }
                Event::Subnegotiation { data, .. } => prop_assert!(data.len() <= max_sb),
                _ => {}
            }
        }
        prop_assert!(data_len <= input.len());
        prop_assert_eq!(transmit.len() % 3, 0);
        for command in transmit.chunks(3) {
            prop_assert_eq!(command[0], IAC);
            prop_assert!([WILL, WONT, DO, DONT].contains(&command[1]));
        }
        // No more answers than negotiation commands received.
        prop_assert!(transmit.len() <= input.len());
    }

    /// Whatever text tavern encodes, a telnet reader gets its lines back:
    /// each CR LF, lone CR and lone LF is one line end; all else is data.
    #[test]
    fn encoded_text_reads_back_as_its_lines(
        text in prop::collection::vec(
            prop_oneof![any::<u8>(), Just(b'\r'), Just(b'\n'), Just(IAC)], 0..64)
    ) {
        let (events, transmit) = run(&[&encoded(&text)]);
        prop_assert_eq!(transmit, Vec::<u8>::new());
        let mut expected = Vec::new();
        let mut line = Vec::new();
        let mut bytes = text.iter().copied().peekable();
        while let Some(byte) = bytes.next() {
            match byte {
                b'\r' | b'\n' => {
                    if byte == b'\r' && bytes.peek() == Some(&b'\n') {
                        bytes.next();
                    }
                    if !line.is_empty() {
                        expected.push(data(&line));
                        line.clear();
                    }
                    expected.push(EOL);
                }
                other => line.push(other),
            }
        }
        if !line.is_empty() {
            expected.push(data(&line));
        }
        prop_assert_eq!(events, expected);
    }

    /// Two instances making any requests of each other, and changing their
    /// minds, stop negotiating within a few rounds and agree on every option.
    #[test]
    fn two_taverns_making_any_requests_go_quiet_and_agree(
        ops in prop::collection::vec(
            (any::<bool>(), any::<bool>(), any::<bool>(), option_byte(), 0..3usize), 0..40),
        echo_a in any::<bool>(),
        echo_b in any::<bool>(),
    ) {
        let mut a = Telnet::new(policy(echo_a), MAX_SB);
        let mut b = Telnet::new(policy(echo_b), MAX_SB);
        let mut options = Vec::new();
        for (on_a, local, enable, option, rounds) in ops {
            options.push(option);
            let who = if on_a { &mut a } else { &mut b };
            let side = if local { Side::Local } else { Side::Remote };
            if enable { who.enable(side, option) } else { who.disable(side, option) }
            // Let some answers cross before the next request.
            for _ in 0..rounds {
                pass(&mut a, &mut b);
                pass(&mut b, &mut a);
            }
        }
        let rounds = exchange_until_quiet(&mut a, &mut b);
        prop_assert!(rounds <= 4, "took {} rounds", rounds);
        assert_agree(&a, &b, &options);
        for option in options {
            for side in [Side::Local, Side::Remote] {
                prop_assert!(!a.is_pending(side, option), "a pending {:?} {}", side, option);
                prop_assert!(!b.is_pending(side, option), "b pending {:?} {}", side, option);
            }
        }
    }
}

#[test]
fn an_answer_is_released_only_after_the_event_it_answers_is_polled() {
    // A line and a refusal in one read: a session that changes its output on
    // the refusal (MCCP2 ending on DONT) must see the event before the answer.
    let mut telnet = tavern();
    telnet.handle_input(&[IAC, WILL, UNKNOWN, b'a', b'\r', b'\n', IAC, DO, UNKNOWN]);
    assert_eq!(telnet.poll_transmit(), None, "nothing before its event");
    assert!(matches!(telnet.poll_event(), Some(Event::Refused { .. })));
    assert_eq!(
        telnet.poll_transmit().as_deref(),
        Some(&[IAC, DONT, UNKNOWN][..])
    );
    assert_eq!(
        telnet.poll_event(),
        Some(Event::Data(Bytes::from_static(b"a")))
    );
    assert_eq!(telnet.poll_event(), Some(Event::EndOfLine));
    assert_eq!(
        telnet.poll_transmit(),
        None,
        "the second answer waits for its event"
    );
    assert!(matches!(telnet.poll_event(), Some(Event::Refused { .. })));
    assert_eq!(
        telnet.poll_transmit().as_deref(),
        Some(&[IAC, WONT, UNKNOWN][..])
    );
}

#[test]
fn a_drained_connection_keeps_no_queues() {
    // Thousands of idle connections are the common case: once everything is
    // polled, neither the event queue nor the held answers keep memory.
    let mut telnet = tavern();
    let mut input = Vec::new();
    for option in 100..140 {
        input.extend_from_slice(&[IAC, WILL, option]);
        input.extend_from_slice(b"text\r\n");
    }
    telnet.handle_input(&input);
    assert!(telnet.events.capacity() > 0 && telnet.held.capacity() > 0);
    let (events, transmit) = feed(&mut telnet, &[]);
    assert_eq!(events.len(), 40 * 3);
    assert_eq!(transmit.len(), 40 * 3);
    assert_eq!(telnet.events.capacity(), 0, "event queue kept");
    assert_eq!(telnet.held.capacity(), 0, "answer queue kept");
    // And a drained connection still works.
    let (events, transmit) = feed(&mut telnet, &[&[IAC, WILL, UNKNOWN], b"x\r\n"]);
    assert_eq!(
        events,
        [
            Event::Refused {
                side: Side::Remote,
                option: UNKNOWN
            },
            data(b"x"),
            EOL
        ]
    );
    assert_eq!(transmit, [IAC, DONT, UNKNOWN]);
}
