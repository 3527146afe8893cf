//! The byte-level state machine of RFC 854: it splits what a client sends into
//! text, line ends, IAC commands, option requests and subnegotiations.
//!
//! It owns no policy: it never answers anything and never decides what an
//! option means; [`super::Telnet`] does. A read can end anywhere, inside an
//! IAC sequence, between CR and LF, inside a subnegotiation: whatever is
//! incomplete is kept as state, never reported as an error. Fed any split of
//! the same input, it yields the same events (adjacent `Data` joined).

use bytes::{Bytes, BytesMut};
use nectar::constants::{CR, DO, DONT, IAC, LF, NULL, SB, SE, WILL, WONT};

use super::consts::{AO, AYT, BRK, DM, EC, EL, GA, IP, NOP};

/// A two-byte `IAC <cmd>` command that is not negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Nop,
    DataMark,
    Break,
    InterruptProcess,
    AbortOutput,
    AreYouThere,
    EraseCharacter,
    EraseLine,
    GoAhead,
}

impl Command {
    fn from_byte(byte: u8) -> Option<Command> {
        Some(match byte {
            NOP => Command::Nop,
            DM => Command::DataMark,
            BRK => Command::Break,
            IP => Command::InterruptProcess,
            AO => Command::AbortOutput,
            AYT => Command::AreYouThere,
            EC => Command::EraseCharacter,
            EL => Command::EraseLine,
            GA => Command::GoAhead,
            _ => return None,
        })
    }
}

/// One of the four option verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Will,
    Wont,
    Do,
    Dont,
}

/// Why the parser threw input away; reported so the session can log it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// A subnegotiation longer than the limit; its payload was discarded.
    OversizeSubnegotiation { option: u8 },
    /// `IAC SB` with no option byte, or ended by `IAC <byte>` other than SE.
    MalformedSubnegotiation,
    /// `IAC SE` outside a subnegotiation.
    StraySe,
    /// `IAC` followed by a byte that names no command.
    UnknownCommand(u8),
}

/// As an admin reads it in the log: `oversize subnegotiation (option 24)`.
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dropped::OversizeSubnegotiation { option } => {
                write!(f, "oversize subnegotiation (option {option})")
            }
            Dropped::MalformedSubnegotiation => f.write_str("malformed subnegotiation"),
            Dropped::StraySe => f.write_str("stray SE"),
            Dropped::UnknownCommand(byte) => write!(f, "unknown command {byte}"),
        }
    }
}

/// What the parser found in the input, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Text bytes, with `IAC IAC` already turned into 255 and line ends removed.
    Data(Bytes),
    /// The end of one line: CR LF, CR NUL, a bare CR or a bare LF.
    EndOfLine,
    Command(Command),
    Negotiate(Verb, u8),
    Subnegotiation {
        option: u8,
        data: Bytes,
    },
    Dropped(Dropped),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Iac,
    Verb(Verb),
    /// After `IAC SB`, waiting for the option byte.
    SbOption,
    /// Inside a subnegotiation's payload.
    SbData,
    /// Inside a payload, after an IAC.
    SbIac,
    /// Inside a subnegotiation that outgrew the limit: bytes are counted, not kept.
    SbDiscard,
    SbDiscardIac,
}

/// The RFC 854 input state machine. See the module docs.
#[derive(Debug)]
pub struct Parser {
    state: State,
    /// A CR ended a line: a following LF or NUL belongs to that same line end.
    /// Kept across reads, so a CR and its LF may arrive apart.
    after_cr: bool,
    /// The option of the subnegotiation being read.
    sb_option: u8,
    /// The payload read so far; never longer than `max_subnegotiation`.
    sb_data: BytesMut,
    /// Bound on a subnegotiation payload, so a never-ending one costs no memory.
    max_subnegotiation: usize,
}

impl Parser {
    pub fn new(max_subnegotiation: usize) -> Parser {
        Parser {
            state: State::Data,
            after_cr: false,
            sb_option: 0,
            sb_data: BytesMut::new(),
            max_subnegotiation,
        }
    }

    /// Parses `input`, pushing what it finds onto `out`. Never fails: incomplete
    /// sequences are kept for the next call.
    pub fn parse(&mut self, input: &[u8], out: &mut impl Extend<Parsed>) {
        // Text is gathered into runs so a line typed in one read is one event.
        let mut run = BytesMut::new();
        let mut emit = |p: Parsed| out.extend(std::iter::once(p));
        for &byte in input {
            self.step(byte, &mut run, &mut emit);
        }
        flush(&mut run, &mut emit);
    }

    /// One byte. `run` holds text not yet emitted; anything else emitted is
    /// preceded by that text.
    fn step(&mut self, byte: u8, run: &mut BytesMut, emit: &mut dyn FnMut(Parsed)) {
        match self.state {
            State::Data => match byte {
                IAC => self.state = State::Iac,
                CR => {
                    flush(run, emit);
                    emit(Parsed::EndOfLine);
                    self.after_cr = true;
                }
                LF | NULL if self.after_cr => self.after_cr = false,
                LF => {
                    flush(run, emit);
                    emit(Parsed::EndOfLine);
                }
                _ => {
                    self.after_cr = false;
                    run.extend_from_slice(&[byte]);
                }
            },
            State::Iac => {
                self.state = State::Data;
                match byte {
                    IAC => {
                        self.after_cr = false;
                        run.extend_from_slice(&[IAC]);
                    }
                    WILL => self.state = State::Verb(Verb::Will),
                    WONT => self.state = State::Verb(Verb::Wont),
                    DO => self.state = State::Verb(Verb::Do),
                    DONT => self.state = State::Verb(Verb::Dont),
                    SB => self.state = State::SbOption,
                    SE => {
                        flush(run, emit);
                        emit(Parsed::Dropped(Dropped::StraySe));
                    }
                    other => {
                        flush(run, emit);
                        emit(match Command::from_byte(other) {
                            Some(command) => Parsed::Command(command),
                            None => Parsed::Dropped(Dropped::UnknownCommand(other)),
                        });
                    }
                }
            }
            State::Verb(verb) => {
                flush(run, emit);
                emit(Parsed::Negotiate(verb, byte));
                self.state = State::Data;
            }
            State::SbOption => {
                if byte == IAC {
                    // `IAC SB IAC ...`: no option byte; treat the IAC as the
                    // start of whatever command follows.
                    flush(run, emit);
                    emit(Parsed::Dropped(Dropped::MalformedSubnegotiation));
                    self.state = State::Iac;
                } else {
                    self.sb_option = byte;
                    self.sb_data.clear();
                    self.state = State::SbData;
                }
            }
            State::SbData => {
                if byte == IAC {
                    self.state = State::SbIac;
                } else {
                    self.push_sb_byte(byte);
                }
            }
            State::SbIac => match byte {
                IAC => {
                    self.state = State::SbData;
                    self.push_sb_byte(IAC);
                }
                SE => {
                    flush(run, emit);
                    emit(Parsed::Subnegotiation {
                        option: self.sb_option,
                        data: self.sb_data.split().freeze(),
                    });
                    self.release_sb_buffer();
                    self.state = State::Data;
                }
                _ => {
                    // A subnegotiation cut short by a command: drop it and
                    // read the command, as a client that lost the SE meant.
                    flush(run, emit);
                    emit(Parsed::Dropped(Dropped::MalformedSubnegotiation));
                    self.release_sb_buffer();
                    self.state = State::Iac;
                    self.step(byte, run, emit);
                }
            },
            State::SbDiscard => {
                if byte == IAC {
                    self.state = State::SbDiscardIac;
                }
            }
            State::SbDiscardIac => {
                if byte == IAC {
                    self.state = State::SbDiscard;
                    return;
                }
                flush(run, emit);
                emit(Parsed::Dropped(Dropped::OversizeSubnegotiation {
                    option: self.sb_option,
                }));
                self.state = State::Data;
                if byte != SE {
                    // Cut short by a command, as above.
                    self.state = State::Iac;
                    self.step(byte, run, emit);
                }
            }
        }
    }

    fn push_sb_byte(&mut self, byte: u8) {
        if self.sb_data.len() >= self.max_subnegotiation {
            self.release_sb_buffer();
            self.state = State::SbDiscard;
        } else {
            self.sb_data.extend_from_slice(&[byte]);
        }
    }

    /// Memory held for subnegotiation payloads, for the tests of that bound.
    #[cfg(test)]
    pub(super) fn subnegotiation_capacity(&self) -> usize {
        self.sb_data.capacity()
    }

    /// Frees a large subnegotiation buffer so one big payload does not pin
    /// memory for the rest of the connection.
    fn release_sb_buffer(&mut self) {
        if self.sb_data.capacity() > 256 {
            self.sb_data = BytesMut::new();
        } else {
            self.sb_data.clear();
        }
    }
}

/// Emits the text gathered so far, if any.
fn flush(run: &mut BytesMut, emit: &mut dyn FnMut(Parsed)) {
    if !run.is_empty() {
        emit(Parsed::Data(run.split().freeze()));
    }
}
