//! Option negotiation by the Q method of RFC 1143, and the one table of what
//! tavern offers and accepts.
//!
//! Each option has a state for each side: "us" (are we doing it: our WILL, the
//! peer's DO) and "him" (is the peer doing it: its WILL, our DO). The Q method
//! guarantees no negotiation loop whatever the peer sends: an acknowledgement
//! is never answered, and a request we already made is never repeated, so
//! tavern sends at most one reply per message received. Every request gets
//! its answer: an ignored request would leave the peer waiting, and a later
//! request of ours for the same option would read as that answer, leaving the
//! two sides disagreeing. (Abuse is bounded per connection by the session.)
//!
//! The rest of tavern asks this state ("is ECHO on for us?") through
//! [`Options::is_enabled`]; no other code tracks option state.

use bytes::{BufMut, BytesMut};
use nectar::constants::{
    BINARY, CHARSET, DO, DONT, ECHO, GMCP, IAC, MCCP2, MSSP, NAWS, SGA, TELOPT_EOR, WILL, WONT,
};

use super::consts::TTYPE;
use super::parser::Verb;

/// Which side of an option: tavern's, or the client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Tavern performs the option (we say WILL, the client says DO).
    Local,
    /// The client performs the option (it says WILL, we say DO).
    Remote,
}

/// As an admin reads it in the log: whose side of the option.
impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Local => "tavern's",
            Side::Remote => "the client's",
        })
    }
}

/// What tavern agrees to when the client asks, and nothing else. This is the
/// only place that says which options tavern speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Whether tavern agrees to echo (DO ECHO from the client). Off when the
    /// configuration says clients always edit their own lines.
    pub echo: bool,
    /// Whether tavern compresses its output (MCCP2) for clients that ask.
    pub compression: bool,
}

impl Policy {
    /// Options tavern will perform when asked.
    pub fn accepts_local(&self, option: u8) -> bool {
        match option {
            ECHO => self.echo,
            MCCP2 => self.compression,
            // EOR marks prompts; CHARSET, MSSP and GMCP are the MUD
            // extensions tavern speaks (the session handles their content).
            SGA | TELOPT_EOR | CHARSET | MSSP | GMCP => true,
            // BINARY among them: tavern's output stays NVT text (a bare CR
            // as CR NUL), which every client shows 8-bit clean as it is.
            _ => false,
        }
    }

    /// Options tavern lets the client perform when it offers them.
    pub fn accepts_remote(&self, option: u8) -> bool {
        match option {
            // A client may offer CHARSET itself (WILL CHARSET) and then send
            // its own REQUEST, which the session answers. BINARY (RFC 856)
            // from the client: its bytes are read the same either way, and
            // classic telnets treat a typed byte whose low seven bits are
            // their escape key (0x1D, as in the UTF-8 of 李 or ŝ) as that
            // key unless they transmit in binary.
            TTYPE | NAWS | SGA | CHARSET | BINARY => true,
            // Everything else is refused, RFC 1184 LINEMODE included: tavern
            // edits lines itself or leaves it to the client entirely; a DONT
            // is a clean answer every client that offers LINEMODE handles.
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Q {
    #[default]
    No,
    Yes,
    /// We asked to disable and wait for the answer.
    WantNo,
    /// We asked to disable, then were asked to enable again once answered.
    WantNoOpposite,
    /// We asked to enable and wait for the answer.
    WantYes,
    /// We asked to enable, then were asked to disable again once answered.
    WantYesOpposite,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    option: u8,
    us: Q,
    him: Q,
}

/// A settled change of an option, reported to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub side: Side,
    pub option: u8,
    /// True: the option is now on. False: it is off, either turned off or our
    /// request for it was refused.
    pub enabled: bool,
}

/// What receiving one WILL/WONT/DO/DONT led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// The option settled (see [`Change`]).
    Changed(Change),
    /// The peer asked for something tavern does not do; refused.
    Refused { side: Side, option: u8 },
    /// Nothing to report (an acknowledgement, or a request for the state
    /// already in force).
    Nothing,
}

/// Per-connection option state. See the module docs.
#[derive(Debug)]
pub struct Options {
    /// The options touched so far; at most 256 entries, most connections a
    /// handful, so a short vector beats a 256-slot table for idle memory.
    entries: Vec<Entry>,
    policy: Policy,
}

impl Options {
    pub fn new(policy: Policy) -> Options {
        Options {
            entries: Vec::new(),
            policy,
        }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// True when `option` is on for `side`.
    pub fn is_enabled(&self, side: Side, option: u8) -> bool {
        self.find(option)
            .map(|e| match side {
                Side::Local => e.us == Q::Yes,
                Side::Remote => e.him == Q::Yes,
            })
            .unwrap_or(false)
    }

    /// True while a request of ours for `option` awaits its answer.
    pub fn is_pending(&self, side: Side, option: u8) -> bool {
        self.find(option)
            .map(|e| {
                let q = match side {
                    Side::Local => e.us,
                    Side::Remote => e.him,
                };
                !matches!(q, Q::No | Q::Yes)
            })
            .unwrap_or(false)
    }

    /// Asks for `option` on `side` to be enabled; writes the request to `out`
    /// if one is needed.
    pub fn enable(&mut self, side: Side, option: u8, out: &mut BytesMut) {
        let entry = self.entry(option);
        let q = entry.q_mut(side);
        match *q {
            Q::No => {
                *q = Q::WantYes;
                send(out, request_verb(side, true), option);
            }
            Q::WantNo => *q = Q::WantNoOpposite,
            Q::WantYesOpposite => *q = Q::WantYes,
            Q::Yes | Q::WantNoOpposite | Q::WantYes => {}
        }
    }

    /// Asks for `option` on `side` to be disabled.
    pub fn disable(&mut self, side: Side, option: u8, out: &mut BytesMut) {
        let entry = self.entry(option);
        let q = entry.q_mut(side);
        match *q {
            Q::Yes => {
                *q = Q::WantNo;
                send(out, request_verb(side, false), option);
            }
            Q::WantNoOpposite => *q = Q::WantNo,
            Q::WantYes => *q = Q::WantYesOpposite,
            Q::No | Q::WantNo | Q::WantYesOpposite => {}
        }
    }

    /// Handles one WILL/WONT/DO/DONT from the peer, writing any answer to `out`.
    pub fn receive(&mut self, verb: Verb, option: u8, out: &mut BytesMut) -> Negotiated {
        let (side, wants_on) = match verb {
            Verb::Will => (Side::Remote, true),
            Verb::Wont => (Side::Remote, false),
            Verb::Do => (Side::Local, true),
            Verb::Dont => (Side::Local, false),
        };
        let accept = match side {
            Side::Local => self.policy.accepts_local(option),
            Side::Remote => self.policy.accepts_remote(option),
        };
        let entry = self.entry(option);
        let changed = |enabled| {
            Negotiated::Changed(Change {
                side,
                option,
                enabled,
            })
        };
        if wants_on {
            let state = *entry.q_mut(side);
            match state {
                Q::No if accept => {
                    *entry.q_mut(side) = Q::Yes;
                    send(out, request_verb(side, true), option);
                    changed(true)
                }
                Q::No => {
                    send(out, request_verb(side, false), option);
                    Negotiated::Refused { side, option }
                }
                Q::Yes => Negotiated::Nothing,
                // The peer answered our "disable" with "enable": RFC 1143
                // calls this an error by the peer; the option stays off.
                Q::WantNo => {
                    *entry.q_mut(side) = Q::No;
                    changed(false)
                }
                Q::WantNoOpposite => {
                    *entry.q_mut(side) = Q::Yes;
                    changed(true)
                }
                Q::WantYes => {
                    *entry.q_mut(side) = Q::Yes;
                    changed(true)
                }
                // On for a moment, and already asked off again: the change
                // to report is the one that settles it.
                Q::WantYesOpposite => {
                    *entry.q_mut(side) = Q::WantNo;
                    send(out, request_verb(side, false), option);
                    Negotiated::Nothing
                }
            }
        } else {
            let state = *entry.q_mut(side);
            match state {
                Q::No => Negotiated::Nothing,
                Q::Yes => {
                    *entry.q_mut(side) = Q::No;
                    send(out, request_verb(side, false), option);
                    changed(false)
                }
                Q::WantNo => {
                    *entry.q_mut(side) = Q::No;
                    changed(false)
                }
                Q::WantNoOpposite => {
                    *entry.q_mut(side) = Q::WantYes;
                    send(out, request_verb(side, true), option);
                    Negotiated::Nothing
                }
                Q::WantYes | Q::WantYesOpposite => {
                    *entry.q_mut(side) = Q::No;
                    changed(false)
                }
            }
        }
    }

    fn find(&self, option: u8) -> Option<&Entry> {
        self.entries.iter().find(|e| e.option == option)
    }

    fn entry(&mut self, option: u8) -> &mut Entry {
        let index = match self.entries.iter().position(|e| e.option == option) {
            Some(index) => index,
            None => {
                self.entries.push(Entry {
                    option,
                    us: Q::No,
                    him: Q::No,
                });
                self.entries.len() - 1
            }
        };
        &mut self.entries[index]
    }
}

impl Entry {
    fn q_mut(&mut self, side: Side) -> &mut Q {
        match side {
            Side::Local => &mut self.us,
            Side::Remote => &mut self.him,
        }
    }
}

/// The verb that asks for (or answers with) `on` for `side`: telnet uses the
/// same verbs for requests and answers.
fn request_verb(side: Side, on: bool) -> u8 {
    match (side, on) {
        (Side::Local, true) => WILL,
        (Side::Local, false) => WONT,
        (Side::Remote, true) => DO,
        (Side::Remote, false) => DONT,
    }
}

fn send(out: &mut BytesMut, verb: u8, option: u8) {
    out.put_slice(&[IAC, verb, option]);
}
