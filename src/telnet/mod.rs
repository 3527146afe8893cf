//! The telnet protocol, sans-IO: bytes in, events out; requests in, bytes out.
//!
//! Nothing in this module (but [`codec`]) knows about Tokio, sockets or
//! clocks, so every behaviour is testable byte by byte and fuzzable. nectar
//! provides the vocabulary (constants, option names); the parsing and the
//! negotiation state are tavern's own, because nectar 0.4's decoder garbles
//! split lines and panics on partial subnegotiations.
//!
//! Calling order, for one connection:
//! 1. [`Telnet::handle_input`] with each read from the socket;
//! 2. [`Telnet::poll_event`] until `None`, acting on each event;
//! 3. [`Telnet::poll_transmit`] and write what it returns (answers to the
//!    client's negotiation, and requests made with [`Telnet::enable`] and
//!    friends) before or together with any other output. An answer is
//!    released only once the event it belongs to has been polled, so output
//!    the caller writes in reaction to earlier events comes before it.
//!
//! Output text is encoded with [`encode_text`]: IAC doubled, `\n` as CR LF.

pub mod codec;
pub mod consts;
pub mod options;
pub mod parser;

use std::collections::VecDeque;

use bytes::{BufMut, Bytes, BytesMut};
use nectar::constants::{CR, IAC, LF, SB, SE};

use options::Options;
pub use options::{Change, Negotiated, Policy, Side};
pub use parser::{Command, Dropped, Verb};
use parser::{Parsed, Parser};

/// What the client did, as the rest of tavern needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Text bytes (not yet decoded: UTF-8 or Latin-1, the line editor decides).
    Data(Bytes),
    /// One line end: CR LF, CR NUL, bare CR or bare LF.
    EndOfLine,
    /// A two-byte command: AYT, EC, EL, IP, BRK, AO, NOP, DM, GA.
    Command(Command),
    /// A complete subnegotiation, `IAC IAC` already unescaped.
    Subnegotiation { option: u8, data: Bytes },
    /// An option settled (turned on, off, or our request refused).
    Option(Change),
    /// The client asked for an option tavern does not do; it was refused.
    Refused { side: Side, option: u8 },
    /// Input thrown away; for the log.
    Dropped(Dropped),
}

/// One connection's telnet state. See the module docs for the calling order.
#[derive(Debug)]
pub struct Telnet {
    parser: Parser,
    options: Options,
    /// Events parsed but not yet polled.
    events: VecDeque<Event>,
    /// Bytes to send now: our requests, and answers already released.
    transmit: BytesMut,
    /// Answers to the client's negotiation, each with the count of polled
    /// events at which it is released: the events before it and the one it
    /// belongs to. The caller thus sees an answer only after the event it
    /// answers, and can change how it writes on that event first (MCCP2 ends
    /// on `DONT MCCP2`: the `WONT` must follow the end of the zlib stream,
    /// even when a line and the DONT came in one read).
    held: VecDeque<(u64, Bytes)>,
    /// Where `options` writes an answer or a request before it is queued.
    answer: BytesMut,
    /// Events queued and polled since the start.
    queued: u64,
    polled: u64,
}

impl Telnet {
    /// `max_subnegotiation` bounds one subnegotiation's payload in bytes.
    pub fn new(policy: Policy, max_subnegotiation: usize) -> Telnet {
        Telnet {
            parser: Parser::new(max_subnegotiation),
            options: Options::new(policy),
            events: VecDeque::new(),
            transmit: BytesMut::new(),
            held: VecDeque::new(),
            answer: BytesMut::new(),
            queued: 0,
            polled: 0,
        }
    }

    /// Takes bytes read from the client. Never fails; partial sequences wait
    /// for the next call.
    pub fn handle_input(&mut self, input: &[u8]) {
        // The parser's output lives for this call only: an idle connection
        // holds no scratch space (thousands of idle connections are the
        // common case).
        let mut parsed = Vec::new();
        self.parser.parse(input, &mut parsed);
        for item in parsed {
            let event = match item {
                Parsed::Data(bytes) => Event::Data(bytes),
                Parsed::EndOfLine => Event::EndOfLine,
                Parsed::Command(command) => Event::Command(command),
                Parsed::Subnegotiation { option, data } => Event::Subnegotiation { option, data },
                Parsed::Dropped(dropped) => Event::Dropped(dropped),
                Parsed::Negotiate(verb, option) => {
                    let event = match self.options.receive(verb, option, &mut self.answer) {
                        Negotiated::Changed(change) => Some(Event::Option(change)),
                        Negotiated::Refused { side, option } => {
                            Some(Event::Refused { side, option })
                        }
                        Negotiated::Nothing => None,
                    };
                    if !self.answer.is_empty() {
                        let release = self.queued + u64::from(event.is_some());
                        self.held.push_back((release, self.answer.split().freeze()));
                    }
                    match event {
                        Some(event) => event,
                        None => continue,
                    }
                }
            };
            self.queued += 1;
            self.events.push_back(event);
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if event.is_some() {
            self.polled += 1;
        }
        if event.is_none() {
            // Drained: an idle connection keeps no queue (`new` allocates
            // nothing, so this costs nothing when there was none).
            self.events = VecDeque::new();
        }
        event
    }

    /// Bytes that must go to the client now, if any: requests made so far,
    /// and answers to the client's negotiation up to the last event polled.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        while let Some((release, _)) = self.held.front()
            && *release <= self.polled
        {
            if let Some((_, answer)) = self.held.pop_front() {
                self.transmit.put_slice(&answer);
            }
        }
        if self.held.is_empty() {
            self.held = VecDeque::new();
        }
        if self.transmit.is_empty() {
            None
        } else {
            Some(self.transmit.split().freeze())
        }
    }

    /// Asks for `option` on `side` (RFC 1143: only if not on or asked already).
    pub fn enable(&mut self, side: Side, option: u8) {
        self.options.enable(side, option, &mut self.answer);
        self.queue_request();
    }

    /// Asks for `option` on `side` to be turned off.
    pub fn disable(&mut self, side: Side, option: u8) {
        self.options.disable(side, option, &mut self.answer);
        self.queue_request();
    }

    /// A request of ours goes out at once, but never ahead of an answer
    /// generated before it: the option state already counts that answer as
    /// sent, and the peer must see the two in that order.
    fn queue_request(&mut self) {
        if self.answer.is_empty() {
            return;
        }
        let request = self.answer.split().freeze();
        if self.held.is_empty() {
            self.transmit.put_slice(&request);
        } else {
            self.held.push_back((self.polled, request));
        }
    }

    /// Whether `option` is on for `side`.
    pub fn is_enabled(&self, side: Side, option: u8) -> bool {
        self.options.is_enabled(side, option)
    }

    /// Whether a request of ours for `option` still awaits an answer.
    pub fn is_pending(&self, side: Side, option: u8) -> bool {
        self.options.is_pending(side, option)
    }

    /// Queues `IAC SB option payload IAC SE`, doubling any IAC in the payload.
    pub fn send_subnegotiation(&mut self, option: u8, payload: &[u8]) {
        self.answer.put_slice(&[IAC, SB, option]);
        escape_iac(payload, &mut self.answer);
        self.answer.put_slice(&[IAC, SE]);
        self.queue_request();
    }
}

/// Encodes text for the wire: every `\n` becomes CR LF (a `\r\n` in the input
/// stays one CR LF), a CR not followed by LF becomes CR NUL as RFC 854 asks,
/// and IAC is doubled so no byte of text can be read as a command.
pub fn encode_text(text: &[u8], out: &mut BytesMut) {
    out.reserve(text.len() + 2);
    let mut iter = text.iter().copied().peekable();
    while let Some(byte) = iter.next() {
        match byte {
            LF => out.put_slice(b"\r\n"),
            CR if iter.peek() == Some(&LF) => {}
            CR => out.put_slice(b"\r\0"),
            IAC => out.put_slice(&[IAC, IAC]),
            other => out.put_u8(other),
        }
    }
}

fn escape_iac(payload: &[u8], out: &mut BytesMut) {
    for &byte in payload {
        if byte == IAC {
            out.put_slice(&[IAC, IAC]);
        } else {
            out.put_u8(byte);
        }
    }
}

#[cfg(test)]
mod tests;
