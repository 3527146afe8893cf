//! Fuzzes the sans-IO telnet layer: any bytes, fed whole and fed in chunks,
//! must give the same events (adjacent `Data` joined) and the same bytes to
//! transmit, and nothing may panic.
//!
//! Input layout: `[control, seed, input...]`.
//! - `control & 0x80`: the policy's `echo`;
//! - `control & 0x40`: tavern makes its usual requests before the input;
//! - `control & 0x3f`: `max_subnegotiation` (kept small so the oversize path
//!   is reached);
//! - `seed`: how `input` is cut: 0 is one byte per read, anything else seeds a
//!   generator of read lengths between 0 and `(seed & 0x1f) + 1`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tavern::telnet::consts::TTYPE;
use tavern::telnet::{Event, Policy, Side, Telnet};

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const IAC: u8 = 255;

fuzz_target!(|data: &[u8]| {
    let [control, seed, input @ ..] = data else {
        return;
    };
    let policy = Policy {
        echo: control & 0x80 != 0,
        compression: true,
    };
    let requests = control & 0x40 != 0;
    let max_subnegotiation = usize::from(control & 0x3f);

    let whole = run(policy, requests, max_subnegotiation, &[input]);
    let chunks = split(input, *seed);
    let chunked = run(policy, requests, max_subnegotiation, &chunks);
    assert_eq!(whole, chunked, "split into {:?}", chunk_lengths(&chunks));

    let (events, transmit) = whole;
    let mut data_len = 0;
    for event in &events {
        match event {
            Event::Data(bytes) => {
                assert!(!bytes.is_empty(), "empty Data event");
                assert!(
                    !bytes.contains(&CR) && !bytes.contains(&LF),
                    "line end in Data: {bytes:?}"
                );
                data_len += bytes.len();
            }
            Event::Subnegotiation { data, .. } => {
                assert!(
                    data.len() <= max_subnegotiation,
                    "subnegotiation over the limit"
                );
            }
            _ => {}
        }
    }
    assert!(data_len <= input.len(), "more data out than bytes in");
    // Tavern only ever transmits three-byte negotiation commands here.
    assert_eq!(transmit.len() % 3, 0, "transmit {transmit:?}");
    for command in transmit.chunks(3) {
        assert_eq!(command[0], IAC);
        assert!((251..=254).contains(&command[1]), "transmit {transmit:?}");
    }
});

/// Feeds `chunks` one read at a time, draining events and transmit bytes after
/// each read as a session does. Returns the events (adjacent `Data` joined)
/// and every byte transmitted, requests first.
fn run(
    policy: Policy,
    requests: bool,
    max_subnegotiation: usize,
    chunks: &[&[u8]],
) -> (Vec<Event>, Vec<u8>) {
    let mut telnet = Telnet::new(policy, max_subnegotiation);
    if requests {
        telnet.enable(Side::Remote, TTYPE);
        telnet.enable(Side::Remote, 31); // NAWS
        telnet.enable(Side::Local, 3); // SGA
        telnet.enable(Side::Local, 1); // ECHO
        telnet.disable(Side::Local, 1); // and changed our mind: WANTYES OPPOSITE
    }
    let mut events: Vec<Event> = Vec::new();
    let mut transmit = Vec::new();
    drain(&mut telnet, &mut events, &mut transmit);
    for chunk in chunks {
        telnet.handle_input(chunk);
        drain(&mut telnet, &mut events, &mut transmit);
    }
    (events, transmit)
}

fn drain(telnet: &mut Telnet, events: &mut Vec<Event>, transmit: &mut Vec<u8>) {
    while let Some(event) = telnet.poll_event() {
        push_joined(events, event);
    }
    while let Some(bytes) = telnet.poll_transmit() {
        assert!(!bytes.is_empty(), "empty transmit");
        transmit.extend_from_slice(&bytes);
    }
}

fn push_joined(events: &mut Vec<Event>, event: Event) {
    if let (Some(Event::Data(last)), Event::Data(more)) = (events.last_mut(), &event) {
        let mut joined = last.to_vec();
        joined.extend_from_slice(more);
        *last = joined.into();
    } else {
        events.push(event);
    }
}

/// Cuts `input` into reads whose lengths `seed` decides (empty reads included).
fn split(input: &[u8], seed: u8) -> Vec<&[u8]> {
    if seed == 0 {
        return input.chunks(1).collect();
    }
    let max_len = u32::from(seed & 0x1f) + 1;
    let mut state = u32::from(seed).wrapping_mul(0x9E37_79B9) | 1;
    let mut chunks = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        // xorshift32
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let len = (state % (max_len + 1)) as usize;
        let (chunk, tail) = rest.split_at(len.min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

fn chunk_lengths(chunks: &[&[u8]]) -> Vec<usize> {
    chunks.iter().map(|c| c.len()).collect()
}
