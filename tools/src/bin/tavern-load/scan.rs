//! The receive path: one incremental scanner per connection that walks each
//! read once, answers telnet negotiation (telnet) or PING (irc), skips IAC
//! sequences and subnegotiations, and picks out tokens `~T<sender>.<seq>.<us>~`
//! wherever they are (ANSI escapes and other text around them are skipped by
//! the search itself). A read may end anywhere, even inside a token: all
//! state is in the scanner, no bytes are copied and nothing is allocated per
//! line. Plain data runs go to the sink only while it collects (sign-on).

use crate::Protocol;

pub const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WONT: u8 = 252;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;
const TTYPE: u8 = 24;
const TTYPE_IS: u8 = 0;
const TTYPE_SEND: u8 = 1;

/// Our answer to `SB TTYPE SEND`: not a MUD client name, so tavern offers
/// server-side echo, which we refuse (`DONT ECHO`), leaving client editing.
const TERMINAL_TYPE: &[u8] = b"TAVERN-LOAD";

/// Bytes kept of one subnegotiation (we only need `TTYPE SEND`).
const SB_KEEP: usize = 8;
/// Bytes kept of a PING argument (an IRC line is at most 512).
const PING_KEEP: usize = 510;

/// Where the scanner's output goes.
pub trait Sink {
    /// Whether `data` wants plain data runs (sign-on only).
    fn collecting(&self) -> bool;
    /// A run of plain data (telnet commands removed).
    fn data(&mut self, bytes: &[u8]);
    /// A complete token.
    fn token(&mut self, sender: u64, seq: u64, sent_us: u64);
    /// Bytes to send back to the server (negotiation answers, PONG).
    fn reply(&mut self, bytes: &[u8]);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Data,
    /// Saw IAC.
    Iac,
    /// Saw IAC and WILL/WONT/DO/DONT; the option byte is next.
    Verb(u8),
    /// Inside IAC SB ... IAC SE.
    Sub,
    /// Saw IAC inside a subnegotiation.
    SubIac,
    /// Saw `~`; `T` must follow.
    TokenT,
    /// Inside a token: which number (0 sender, 1 seq, 2 time) and its digits.
    Token {
        field: u8,
        digits: u8,
    },
    /// IRC: at the start of a line, `matched` bytes of "PING " matched.
    LineStart {
        matched: u8,
    },
    /// IRC: after "PING ", up to the end of the line.
    PingArg,
}

/// A 256-bit set, one bit per telnet option.
#[derive(Default, Clone, Copy)]
struct OptionSet([u64; 4]);

impl OptionSet {
    fn has(&self, option: u8) -> bool {
        self.0[usize::from(option >> 6)] & (1 << (option & 63)) != 0
    }
    fn set(&mut self, option: u8, on: bool) {
        let word = &mut self.0[usize::from(option >> 6)];
        if on {
            *word |= 1 << (option & 63);
        } else {
            *word &= !(1 << (option & 63));
        }
    }
}

/// Telnet option state, per option, so that no request is answered twice in a
/// row (RFC 1143's concern): options we enabled, and requests we refused and
/// have not seen withdrawn or repeated after a change.
#[derive(Default)]
struct Options {
    /// We said WILL and it stands (only TTYPE).
    local_on: OptionSet,
    /// We answered DO with WONT; a repeated DO is not answered again.
    refused_do: OptionSet,
    /// We answered WILL with DONT; a repeated WILL is not answered again.
    refused_will: OptionSet,
}

pub struct Scanner {
    protocol: Protocol,
    state: State,
    /// The second byte that stops a data run besides `~`.
    special: u8,
    numbers: [u64; 3],
    options: Options,
    sub: [u8; SB_KEEP],
    sub_len: u8,
    ping: Vec<u8>,
}

impl Scanner {
    pub fn new(protocol: Protocol) -> Scanner {
        let (special, state) = match protocol {
            Protocol::Telnet => (IAC, State::Data),
            Protocol::Irc => (b'\n', State::LineStart { matched: 0 }),
            Protocol::Raw => (b'~', State::Data),
        };
        Scanner {
            protocol,
            state,
            special,
            numbers: [0; 3],
            options: Options::default(),
            sub: [0; SB_KEEP],
            sub_len: 0,
            ping: Vec::new(),
        }
    }

    /// Processes one read.
    pub fn feed<S: Sink>(&mut self, buf: &[u8], sink: &mut S) {
        let mut i = 0;
        while i < buf.len() {
            match self.state {
                State::Data => {
                    let rest = &buf[i..];
                    let Some(at) = find2(rest, b'~', self.special) else {
                        if sink.collecting() {
                            sink.data(rest);
                        }
                        return;
                    };
                    if at > 0 && sink.collecting() {
                        sink.data(&rest[..at]);
                    }
                    i += at + 1;
                    let byte = rest[at];
                    self.state = if byte == b'~' {
                        State::TokenT
                    } else if byte == IAC && self.protocol == Protocol::Telnet {
                        State::Iac
                    } else {
                        // IRC end of line.
                        if sink.collecting() {
                            sink.data(b"\n");
                        }
                        State::LineStart { matched: 0 }
                    };
                }
                State::TokenT => {
                    if buf[i] == b'T' {
                        i += 1;
                        self.numbers = [0; 3];
                        self.state = State::Token {
                            field: 0,
                            digits: 0,
                        };
                    } else {
                        // Not a token: look at this byte again as data.
                        self.state = State::Data;
                    }
                }
                State::Token {
                    mut field,
                    mut digits,
                } => {
                    // Tight loop over the token's bytes.
                    let mut number = self.numbers[usize::from(field)];
                    loop {
                        let Some(&byte) = buf.get(i) else {
                            // The read ended inside the token.
                            self.numbers[usize::from(field)] = number;
                            self.state = State::Token { field, digits };
                            break;
                        };
                        if byte.is_ascii_digit() && digits < 19 {
                            number = number * 10 + u64::from(byte - b'0');
                            digits += 1;
                            i += 1;
                        } else if byte == b'.' && field < 2 && digits > 0 {
                            self.numbers[usize::from(field)] = number;
                            field += 1;
                            digits = 0;
                            number = 0;
                            i += 1;
                        } else if byte == b'~' && field == 2 && digits > 0 {
                            i += 1;
                            sink.token(self.numbers[0], self.numbers[1], number);
                            self.state = State::Data;
                            break;
                        } else {
                            // Malformed: this byte is looked at again as data.
                            self.state = State::Data;
                            break;
                        }
                    }
                }
                State::Iac => {
                    let byte = buf[i];
                    i += 1;
                    self.state = match byte {
                        WILL | WONT | DO | DONT => State::Verb(byte),
                        SB => {
                            self.sub_len = 0;
                            State::Sub
                        }
                        // IAC IAC is a data byte 255; tokens are ASCII.
                        _ => State::Data,
                    };
                }
                State::Verb(verb) => {
                    let option = buf[i];
                    i += 1;
                    self.negotiate(verb, option, sink);
                    self.state = State::Data;
                }
                State::Sub => {
                    let rest = &buf[i..];
                    let end = find2(rest, IAC, IAC).unwrap_or(rest.len());
                    for &byte in &rest[..end] {
                        self.keep_sub(byte);
                    }
                    i += end;
                    if end < rest.len() {
                        i += 1;
                        self.state = State::SubIac;
                    }
                }
                State::SubIac => {
                    let byte = buf[i];
                    i += 1;
                    match byte {
                        SE => {
                            self.subnegotiation(sink);
                            self.state = State::Data;
                        }
                        IAC => {
                            self.keep_sub(IAC);
                            self.state = State::Sub;
                        }
                        // Not allowed inside SB: give up on it.
                        _ => self.state = State::Data,
                    }
                }
                State::LineStart { matched } => {
                    const PING: &[u8] = b"PING ";
                    if buf[i] == PING[usize::from(matched)] {
                        i += 1;
                        if usize::from(matched) + 1 == PING.len() {
                            self.ping.clear();
                            self.state = State::PingArg;
                        } else {
                            self.state = State::LineStart {
                                matched: matched + 1,
                            };
                        }
                    } else {
                        if matched > 0 && sink.collecting() {
                            sink.data(&PING[..usize::from(matched)]);
                        }
                        self.state = State::Data;
                    }
                }
                State::PingArg => {
                    let rest = &buf[i..];
                    let end = find2(rest, b'\n', b'\n').unwrap_or(rest.len());
                    let room = PING_KEEP.saturating_sub(self.ping.len());
                    self.ping.extend_from_slice(&rest[..end.min(room)]);
                    i += end;
                    if end < rest.len() {
                        i += 1;
                        if self.ping.last() == Some(&b'\r') {
                            self.ping.pop();
                        }
                        sink.reply(b"PONG ");
                        sink.reply(&self.ping);
                        sink.reply(b"\r\n");
                        self.ping = Vec::new();
                        if sink.collecting() {
                            sink.data(b"\n");
                        }
                        self.state = State::LineStart { matched: 0 };
                    }
                }
            }
        }
    }

    fn keep_sub(&mut self, byte: u8) {
        if usize::from(self.sub_len) < SB_KEEP {
            self.sub[usize::from(self.sub_len)] = byte;
        }
        self.sub_len = self.sub_len.saturating_add(1);
    }

    fn subnegotiation<S: Sink>(&mut self, sink: &mut S) {
        let len = usize::from(self.sub_len).min(SB_KEEP);
        if self.sub[..len] == [TTYPE, TTYPE_SEND] && self.options.local_on.has(TTYPE) {
            sink.reply(&[IAC, SB, TTYPE, TTYPE_IS]);
            sink.reply(TERMINAL_TYPE);
            sink.reply(&[IAC, SE]);
        }
    }

    /// A minimal client: agrees to TTYPE only, refuses everything else, and
    /// never answers the same request twice in a row.
    fn negotiate<S: Sink>(&mut self, verb: u8, option: u8, sink: &mut S) {
        let o = &mut self.options;
        match verb {
            DO if option == TTYPE => {
                if !o.local_on.has(option) {
                    o.local_on.set(option, true);
                    sink.reply(&[IAC, WILL, option]);
                }
            }
            DO => {
                if !o.refused_do.has(option) {
                    o.refused_do.set(option, true);
                    sink.reply(&[IAC, WONT, option]);
                }
            }
            DONT => {
                if o.local_on.has(option) {
                    o.local_on.set(option, false);
                    sink.reply(&[IAC, WONT, option]);
                }
                // A DONT ends the refused request: a later DO is a new one.
                o.refused_do.set(option, false);
            }
            WILL => {
                if !o.refused_will.has(option) {
                    o.refused_will.set(option, true);
                    sink.reply(&[IAC, DONT, option]);
                }
            }
            // WONT: the server turned it off or acknowledged; nothing to say.
            _ => o.refused_will.set(option, false),
        }
    }
}

/// The index of the first byte equal to `a` or `b`: SWAR, eight bytes a step
/// (std has no memchr; `iter().position` goes a byte at a time).
#[inline]
pub fn find2(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pa = LO * u64::from(a);
    let pb = LO * u64::from(b);
    let mut i = 0;
    while i + 8 <= hay.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&hay[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let xa = w ^ pa;
        let xb = w ^ pb;
        let za = xa.wrapping_sub(LO) & !xa & HI;
        let zb = xb.wrapping_sub(LO) & !xb & HI;
        let z = za | zb;
        if z != 0 {
            // The lowest set flag is exact (borrows only run upwards).
            return Some(i + (z.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    hay[i..]
        .iter()
        .position(|&c| c == a || c == b)
        .map(|p| i + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Rec {
        collect: bool,
        data: Vec<u8>,
        tokens: Vec<(u64, u64, u64)>,
        out: Vec<u8>,
    }

    impl Sink for Rec {
        fn collecting(&self) -> bool {
            self.collect
        }
        fn data(&mut self, bytes: &[u8]) {
            self.data.extend_from_slice(bytes);
        }
        fn token(&mut self, sender: u64, seq: u64, sent_us: u64) {
            self.tokens.push((sender, seq, sent_us));
        }
        fn reply(&mut self, bytes: &[u8]) {
            self.out.extend_from_slice(bytes);
        }
    }

    fn run(protocol: Protocol, input: &[u8], chunk: usize) -> Rec {
        let mut scanner = Scanner::new(protocol);
        let mut rec = Rec {
            collect: true,
            ..Rec::default()
        };
        for part in input.chunks(chunk.max(1)) {
            scanner.feed(part, &mut rec);
        }
        rec
    }

    #[test]
    fn find2_matches_naive() {
        let hay: Vec<u8> = (0..300u32).map(|i| (i * 37 % 251) as u8).collect();
        for start in 0..40 {
            for (a, b) in [(0u8, 0u8), (b'~', 255), (7, 200), (128, 129), (255, 255)] {
                let h = &hay[start..];
                let naive = h.iter().position(|&c| c == a || c == b);
                assert_eq!(find2(h, a, b), naive, "{start} {a} {b}");
            }
        }
    }

    #[test]
    fn telnet_tokens_and_negotiation_in_any_chunking() {
        let mut input = Vec::new();
        input.extend_from_slice(&[IAC, DO, TTYPE, IAC, DO, 31, IAC, WILL, 1, IAC, WILL, 1]);
        input.extend_from_slice(&[IAC, SB, TTYPE, TTYPE_SEND, IAC, SE]);
        input.extend_from_slice(b"Nickname: \x1b[1m\x1b[31ml1\x1b[0m: ~T3.17.123456~ x~T~\r\n");
        input.extend_from_slice(b"~T1.2~ ~T~T4.5.6~ ~T7.8.9");
        input.extend_from_slice(&[IAC, WILL, 3]);
        input.extend_from_slice(b"~\r\n~T10.11.12~");
        for chunk in 1..input.len() {
            let rec = run(Protocol::Telnet, &input, chunk);
            assert_eq!(rec.tokens, vec![(3, 17, 123456), (4, 5, 6), (10, 11, 12)]);
            let mut want = vec![IAC, WILL, TTYPE, IAC, WONT, 31, IAC, DONT, 1];
            want.extend_from_slice(&[IAC, SB, TTYPE, TTYPE_IS]);
            want.extend_from_slice(TERMINAL_TYPE);
            want.extend_from_slice(&[IAC, SE, IAC, DONT, 3]);
            assert_eq!(rec.out, want, "chunk {chunk}");
            let text = String::from_utf8_lossy(&rec.data).into_owned();
            assert!(text.starts_with("Nickname: "), "{text:?}");
        }
    }

    #[test]
    fn echo_of_a_typed_line_holds_no_token() {
        // What we type is `~~ BS T1.2.3~`; a server echoing it erases the
        // second `~` on screen (BS SP BS) and clears the line at its end.
        let echo = b"~~\x08 \x08T1.2.3~\r\x1b[K~~\x08T4.5.6~\r\n";
        for chunk in 1..echo.len() {
            assert!(run(Protocol::Telnet, echo, chunk).tokens.is_empty());
        }
    }

    #[test]
    fn irc_ping_and_tokens() {
        let input = b":srv 001 l1 :hi\r\nPING :abc\r\n:l2!~l2@h PRIVMSG #load :~T2.3.4~\r\nPIN\r\nPING x\r\n";
        for chunk in 1..input.len() {
            let rec = run(Protocol::Irc, input, chunk);
            assert_eq!(rec.tokens, vec![(2, 3, 4)]);
            assert_eq!(rec.out, b"PONG :abc\r\nPONG x\r\n");
            let text = String::from_utf8_lossy(&rec.data).into_owned();
            assert!(text.starts_with(":srv 001 l1 :hi\r\n\n:l2!"), "{text:?}");
            assert!(text.contains("\nPIN\r\n"), "{text:?}");
        }
    }
}
