//! Join and leave notices in a big room, gathered: at most one line of
//! arrivals and one of departures per room per [`GATHER_WINDOW`], so N
//! sign-ons into a room cost about N deliveries a second per member, not
//! N²/2 in all (a restart's reconnect storm once owed each early arrival
//! thousands of notices at once, and dropped them as "not reading").
//!
//! Sans-IO like the rest of the room manager: it records who came and
//! went, by member id, and [`Gathered::lines`] makes the lines when the
//! window closes; the room manager keeps the clock. Someone who comes and
//! goes inside one window is not announced at all; a window with one
//! arrival or one departure reads exactly as the per-person notice would
//! (`ann has quit (bye)`), only up to a window later.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::names::Nick;
use crate::render::{Channel, LineBuilder, Message, Roster, Tone};

use super::MemberId;

/// How long a big room's arrivals and departures are gathered before
/// they are announced, from the first of them.
pub const GATHER_WINDOW: Duration = Duration::from_secs(1);

/// Nicks named in a gathered line; the rest are counted (`and 32 more`).
pub const NAMES_SHOWN: usize = 5;

/// One departure: the nick, and the rest of the per-person notice
/// (` has quit (bye)`), used when it is the window's only one.
#[derive(Debug)]
pub(super) struct Departure {
    pub(super) nick: Nick,
    pub(super) why: String,
}

/// A room's arrivals and departures in the current window.
#[derive(Debug, Default)]
pub(super) struct Gathered {
    /// Arrivals in order, by id (their nick is looked up when announced,
    /// so a rename inside the window shows the new one). An id whose
    /// member left again is no longer in `arrived`, and is skipped.
    order: Vec<MemberId>,
    arrived: HashSet<MemberId>,
    departed: Vec<Departure>,
}

impl Gathered {
    pub(super) fn arrive(&mut self, id: MemberId) {
        if self.arrived.insert(id) {
            self.order.push(id);
        }
    }

    /// A departure is announced unless the member arrived in this window
    /// (its arrival never was).
    pub(super) fn depart(&mut self, id: MemberId, departure: Departure) {
        if !self.arrived.remove(&id) {
            self.departed.push(departure);
        }
    }

    /// The window's lines for room `room`: arrivals, then departures, each
    /// one line (with its GMCP roster news) or none. `nick_of` finds an
    /// arrival's nick now.
    pub(super) fn lines(
        self,
        room: &str,
        nick_of: impl Fn(MemberId) -> Option<Nick>,
    ) -> Vec<Arc<Message>> {
        let arrived: Vec<Nick> = self
            .order
            .iter()
            .filter(|id| self.arrived.contains(id))
            .filter_map(|&id| nick_of(id))
            .collect();
        let mut lines = Vec::new();
        match arrived.as_slice() {
            [] => {}
            [one] => lines.push(
                LineBuilder::system(Tone::Join)
                    .nick(one)
                    .text(&format!(" has joined {room}"))
                    .channel(Channel::Room(room.to_owned()))
                    .roster(Roster::Added(one.clone()))
                    .finish(),
            ),
            _ => {
                let line = named(
                    LineBuilder::system(Tone::Join)
                        .text(&format!("{} joined {room}: ", arrived.len())),
                    &arrived,
                );
                lines.push(
                    line.channel(Channel::Room(room.to_owned()))
                        .roster(Roster::Changed {
                            added: arrived,
                            removed: Vec::new(),
                        })
                        .finish(),
                );
            }
        }
        let mut departed = self.departed;
        match departed.len() {
            0 => {}
            1 => {
                let Departure { nick, why } = departed.remove(0);
                lines.push(
                    LineBuilder::system(Tone::Leave)
                        .nick(&nick)
                        .text(&why)
                        .channel(Channel::Room(room.to_owned()))
                        .roster(Roster::Removed(nick))
                        .finish(),
                );
            }
            count => {
                let nicks: Vec<Nick> = departed.into_iter().map(|d| d.nick).collect();
                let line = named(
                    LineBuilder::system(Tone::Leave).text(&format!("{count} left {room}: ")),
                    &nicks,
                );
                lines.push(
                    line.channel(Channel::Room(room.to_owned()))
                        .roster(Roster::Changed {
                            added: Vec::new(),
                            removed: nicks,
                        })
                        .finish(),
                );
            }
        }
        lines
    }
}

/// `ann, bob, carl, dave, eve and 32 more` (or `ann and bob`).
fn named(mut line: LineBuilder, nicks: &[Nick]) -> LineBuilder {
    let shown = nicks.len().min(NAMES_SHOWN);
    for (i, nick) in nicks[..shown].iter().enumerate() {
        if i > 0 {
            let last = i + 1 == shown && shown == nicks.len();
            line = line.text(if last { " and " } else { ", " });
        }
        line = line.nick(nick);
    }
    if nicks.len() > shown {
        line = line.text(&format!(" and {} more", nicks.len() - shown));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Class;

    fn nick(text: &str) -> Nick {
        Nick::parse(text, 24).expect("a valid nick")
    }

    fn texts(lines: &[Arc<Message>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                String::from_utf8_lossy(l.render(Class::PLAIN))
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }

    const NICKS: [&str; 8] = ["ann", "bob", "carl", "dave", "eve", "fay", "gus", "hal"];

    fn nick_of(id: MemberId) -> Option<Nick> {
        NICKS.get(usize::try_from(id).ok()?).map(|n| nick(n))
    }

    #[test]
    fn many_arrivals_are_one_line_naming_five_and_counting_the_rest() {
        let mut gathered = Gathered::default();
        for id in 0..8 {
            gathered.arrive(id);
        }
        assert_eq!(
            texts(&gathered.lines("lobby", nick_of)),
            ["*** 8 joined lobby: ann, bob, carl, dave, eve and 3 more"]
        );
        let mut gathered = Gathered::default();
        gathered.arrive(0);
        gathered.arrive(1);
        assert_eq!(
            texts(&gathered.lines("lobby", nick_of)),
            ["*** 2 joined lobby: ann and bob"]
        );
    }

    #[test]
    fn one_arrival_or_departure_reads_as_the_per_person_notice() {
        let mut gathered = Gathered::default();
        gathered.arrive(2);
        gathered.depart(
            7,
            Departure {
                nick: nick("hal"),
                why: " has quit (bye)".to_owned(),
            },
        );
        assert_eq!(
            texts(&gathered.lines("lobby", nick_of)),
            ["*** carl has joined lobby", "*** hal has quit (bye)"]
        );
    }

    #[test]
    fn who_comes_and_goes_inside_the_window_is_not_announced() {
        let mut gathered = Gathered::default();
        gathered.arrive(0);
        gathered.arrive(1);
        gathered.depart(
            0,
            Departure {
                nick: nick("ann"),
                why: " has quit".to_owned(),
            },
        );
        for id in 5..8 {
            gathered.depart(
                id,
                Departure {
                    nick: nick_of(id).unwrap(),
                    why: " lost their connection".to_owned(),
                },
            );
        }
        assert_eq!(
            texts(&gathered.lines("lobby", nick_of)),
            [
                "*** bob has joined lobby",
                "*** 3 left lobby: fay, gus and hal"
            ]
        );
    }
}
