//! Telnet for the tests: the codes (RFC 854 and the options tavern speaks),
//! one parser that splits what tavern sends into text and telnet items, and
//! builders for what a client sends. The tests' own, not tavern's
//! `telnet::consts`: a test that read the wire with the code under test would
//! agree with its mistakes.

use std::fmt;

// Telnet commands (RFC 854; EOR is RFC 885).
pub const IAC: u8 = 255;
pub const DONT: u8 = 254;
pub const DO: u8 = 253;
pub const WONT: u8 = 252;
pub const WILL: u8 = 251;
pub const SB: u8 = 250;
pub const GA: u8 = 249;
pub const EL: u8 = 248;
pub const EC: u8 = 247;
pub const AYT: u8 = 246;
pub const AO: u8 = 245;
pub const IP: u8 = 244;
pub const BRK: u8 = 243;
pub const DM: u8 = 242;
pub const NOP: u8 = 241;
pub const SE: u8 = 240;
/// The command that ends a prompt; the option that enables it is
/// [`TELOPT_EOR`].
pub const EOR: u8 = 239;

// Telnet options.
pub const BINARY: u8 = 0;
pub const ECHO: u8 = 1;
pub const SGA: u8 = 3;
pub const TTYPE: u8 = 24;
pub const TELOPT_EOR: u8 = 25;
pub const NAWS: u8 = 31;
pub const TSPEED: u8 = 32;
pub const LINEMODE: u8 = 34;
pub const NEW_ENVIRON: u8 = 39;
pub const CHARSET: u8 = 42;
pub const MSSP: u8 = 70;
pub const MCCP2: u8 = 86;
pub const GMCP: u8 = 201;

// Subnegotiation codes.
pub const TTYPE_IS: u8 = 0;
pub const TTYPE_SEND: u8 = 1;
pub const CHARSET_REQUEST: u8 = 1;
pub const CHARSET_ACCEPTED: u8 = 2;
pub const CHARSET_REJECTED: u8 = 3;
pub const MSSP_VAR: u8 = 1;
pub const MSSP_VAL: u8 = 2;

/// One telnet command or subnegotiation (text is kept apart).
#[derive(Clone, PartialEq, Eq)]
pub enum Item {
    /// `IAC WILL/WONT/DO/DONT option`.
    Neg(u8, u8),
    /// `IAC SB option data IAC SE`, with IAC IAC in the data undone.
    Sb(u8, Vec<u8>),
    /// Any other `IAC command` (EOR, GA, NOP, ...).
    Cmd(u8),
}

fn option_name(option: u8) -> String {
    match option {
        BINARY => "BINARY".into(),
        ECHO => "ECHO".into(),
        SGA => "SGA".into(),
        TTYPE => "TTYPE".into(),
        TELOPT_EOR => "EOR".into(),
        NAWS => "NAWS".into(),
        CHARSET => "CHARSET".into(),
        MSSP => "MSSP".into(),
        MCCP2 => "MCCP2".into(),
        GMCP => "GMCP".into(),
        other => other.to_string(),
    }
}

fn quoted(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes.escape_ascii())
}

/// Items print as a person would write them (`DO TTYPE`, `SB TTYPE SEND`),
/// which is also how tests compare whole negotiations.
impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Neg(verb, option) => {
                let verb = match *verb {
                    WILL => "WILL",
                    WONT => "WONT",
                    DO => "DO",
                    _ => "DONT",
                };
                write!(f, "{verb} {}", option_name(*option))
            }
            Item::Sb(option, data) => {
                let body = match (*option, data.as_slice()) {
                    (TTYPE, [TTYPE_SEND]) => "SEND".to_owned(),
                    (TTYPE, [TTYPE_IS, name @ ..]) => format!("IS {}", quoted(name)),
                    (CHARSET, [CHARSET_REQUEST, list @ ..]) => format!("REQUEST {}", quoted(list)),
                    (CHARSET, [CHARSET_ACCEPTED, name @ ..]) => {
                        format!("ACCEPTED {}", quoted(name))
                    }
                    (CHARSET, [CHARSET_REJECTED]) => "REJECTED".to_owned(),
                    (NAWS, [w1, w2, h1, h2]) => format!(
                        "{}x{}",
                        u16::from_be_bytes([*w1, *w2]),
                        u16::from_be_bytes([*h1, *h2])
                    ),
                    (MCCP2, []) => "(compression starts)".to_owned(),
                    _ => quoted(data),
                };
                write!(f, "SB {} {body}", option_name(*option))
            }
            Item::Cmd(EOR) => write!(f, "EOR"),
            Item::Cmd(GA) => write!(f, "GA"),
            Item::Cmd(other) => write!(f, "IAC {other}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Iac,
    Verb(u8),
    Sb,
    SbIac,
}

/// RFC 854 parsing of what tavern sends: text apart from telnet items, each
/// item with the length of the text before it. Byte by byte, so a stream
/// can be fed as it arrives (and switched to zlib after MCCP2's marker); a
/// sequence cut off at the end is held, never taken for text. Strict where
/// tavern must be: an unescaped IAC inside a subnegotiation panics.
pub struct Reader {
    state: State,
    /// The subnegotiation being read: option byte first, then data.
    sb: Vec<u8>,
    /// Text bytes (IAC IAC read as one 0xff), CR and all.
    pub text: Vec<u8>,
    pub items: Vec<(usize, Item)>,
}

impl Reader {
    pub fn new() -> Reader {
        Reader {
            state: State::Data,
            sb: Vec::new(),
            text: Vec::new(),
            items: Vec::new(),
        }
    }

    /// All of `raw`, from its start.
    pub fn parse(raw: &[u8]) -> Reader {
        let mut reader = Reader::new();
        for &byte in raw {
            reader.push(byte);
        }
        reader
    }

    /// Takes one byte; returns the item it completed, if it did.
    pub fn push(&mut self, byte: u8) -> Option<&Item> {
        match self.state {
            State::Data if byte == IAC => self.state = State::Iac,
            State::Data => self.text.push(byte),
            State::Iac => {
                self.state = State::Data;
                match byte {
                    IAC => self.text.push(IAC),
                    WILL..=DONT => self.state = State::Verb(byte),
                    SB => {
                        self.sb.clear();
                        self.state = State::Sb;
                    }
                    command => return self.item(Item::Cmd(command)),
                }
            }
            State::Verb(verb) => {
                self.state = State::Data;
                return self.item(Item::Neg(verb, byte));
            }
            State::Sb if byte == IAC => self.state = State::SbIac,
            State::Sb => self.sb.push(byte),
            State::SbIac if byte == SE => {
                self.state = State::Data;
                let (option, data) = self.sb.split_first().unwrap_or((&0, &[]));
                return self.item(Item::Sb(*option, data.to_vec()));
            }
            State::SbIac if byte == IAC => {
                self.sb.push(IAC);
                self.state = State::Sb;
            }
            // Inside a subnegotiation IAC is only ever doubled or the end
            // (RFC 854). Anything else is tavern's mistake, and reading on
            // would hide what follows (a WILL ECHO, say) from the tests
            // that look for it; so it fails the test here.
            State::SbIac => panic!(
                "tavern sent IAC {byte} inside a subnegotiation of option {:?}",
                self.sb.first()
            ),
        }
        None
    }

    fn item(&mut self, item: Item) -> Option<&Item> {
        self.items.push((self.text.len(), item));
        self.items.last().map(|(_, item)| item)
    }

    /// The IAC WILL/WONT/DO/DONT commands, in order, as (verb, option).
    pub fn negotiations(&self) -> Vec<(u8, u8)> {
        self.items
            .iter()
            .filter_map(|(_, item)| match item {
                Item::Neg(verb, option) => Some((*verb, *option)),
                _ => None,
            })
            .collect()
    }

    /// Whether `item` was among the items.
    pub fn contains(&self, item: &Item) -> bool {
        self.items.iter().any(|(_, seen)| seen == item)
    }
}

/// `bytes` without ANSI escape sequences (an ESC and the byte after it, or a
/// whole CSI sequence), CR and NUL.
pub fn strip_ansi(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x1b => {
                i += 1;
                if bytes.get(i) == Some(&b'[') {
                    i += 1;
                    while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                        i += 1;
                    }
                }
                i += 1;
            }
            b'\r' | 0 => i += 1,
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// `IAC verb option`.
pub fn neg(verb: u8, option: u8) -> Vec<u8> {
    vec![IAC, verb, option]
}

/// `IAC SB option payload IAC SE`, IAC doubled in the payload.
pub fn sb(option: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![IAC, SB, option];
    for &byte in payload {
        if byte == IAC {
            out.push(IAC);
        }
        out.push(byte);
    }
    out.extend_from_slice(&[IAC, SE]);
    out
}
