//! The room commands, answered by the room manager: `/who`, `/me`, `/msg`,
//! `/join`, `/rooms`, `/away`. Their names arrive validated; what is left
//! is looking them up in the one room state.

use std::time::{Duration, Instant};

use unicode_width::UnicodeWidthStr;

use crate::command::RoomCommand;
use crate::names::{Nick, RoomName};
use crate::render::{Channel, LineBuilder, Roster, Tone};

use super::listing::Listing;
use super::{Member, MemberId, Room, Rooms, people};

/// People a `/who` lists one per line, with idle time and away reason; a
/// longer listing gives names only, several to a line.
const WHO_DETAILED: usize = 50;

impl Rooms {
    pub(super) fn command(&mut self, id: MemberId, command: RoomCommand, now: Instant) {
        let away_command = matches!(command, RoomCommand::Away(_));
        let member = if away_command {
            self.members.get(&id)
        } else {
            self.active(id, now)
        };
        let Some(member) = member else {
            return;
        };
        let nick = member.nick.clone();
        let room = member.room.clone();
        match command {
            RoomCommand::Who { all } => self.who(id, all, now),
            RoomCommand::Me(action) => {
                let line = LineBuilder::new(Tone::Plain)
                    .text("* ")
                    .hang()
                    .nick(&nick)
                    .text(" ")
                    .text(&action)
                    .channel(Channel::Room(self.room_name(&room)))
                    .talker(&nick)
                    .finish();
                self.broadcast(&room, &line);
            }
            RoomCommand::Msg { to, text } => self.private(id, &nick, &to, &text),
            RoomCommand::Join(name) => self.move_to(id, &nick, &room, name),
            RoomCommand::Rooms => self.list_rooms(id),
            RoomCommand::Away(reason) => {
                let reason = reason.unwrap_or_else(|| "away".to_owned());
                if let Some(member) = self.members.get_mut(&id) {
                    member.away = Some(reason.clone());
                }
                let notice = LineBuilder::system(Tone::Info)
                    .nick(&nick)
                    .text(&format!(" is away: {reason}"))
                    .channel(Channel::Room(self.room_name(&room)))
                    .finish();
                self.broadcast(&room, &notice);
            }
        }
    }

    /// `/who` (or `/who all`): the people in the asker's room (or every
    /// room), one reply. Up to [`WHO_DETAILED`] people are listed one per
    /// line with idle time and away reason; more are listed by name, packed
    /// several to a line, and the reply is bounded ([`Listing`]).
    fn who(&mut self, id: MemberId, all: bool, now: Instant) {
        let Some(own_room) = self.members.get(&id).map(|m| m.room.clone()) else {
            return;
        };
        let mut rooms: Vec<&Room> = if all {
            self.rooms
                .values()
                .filter(|r| !r.members.is_empty())
                .collect()
        } else {
            self.rooms.get(&own_room).into_iter().collect()
        };
        rooms.sort_by_cached_key(|r| sort_key(&r.name.to_string()));
        let listed: usize = rooms.iter().map(|r| r.members.len()).sum();
        let detailed = listed <= WHO_DETAILED;
        let mut listing = Listing::new();
        for room in rooms {
            let mut members: Vec<&Member> = room
                .members
                .iter()
                .filter_map(|m| self.members.get(m))
                .collect();
            members.sort_by_cached_key(|m| sort_key(m.nick.as_str()));
            let heading = format!("In {}: {}", room.name, headcount(members.len()));
            let bytes = heading.len();
            listing.line(LineBuilder::system(Tone::Info).text(&heading), bytes);
            if !detailed {
                listing.group("  ");
                for member in members {
                    match member.away {
                        Some(_) => listing.item(&format!("{} (away)", member.nick)),
                        None => listing.item(member.nick.as_str()),
                    }
                }
                continue;
            }
            let width = members
                .iter()
                .map(|m| m.nick.as_str().width())
                .max()
                .unwrap_or(0);
            for member in members {
                let pad = " ".repeat(width - member.nick.as_str().width());
                let idle = idle_time(now.saturating_duration_since(member.last_active));
                let rest = format!("{pad}  idle {idle}");
                let mut bytes = 2 + member.nick.as_str().len() + rest.len();
                let mut line = LineBuilder::system(Tone::Info)
                    .text("  ")
                    .nick(&member.nick)
                    .text(&rest);
                if let Some(reason) = &member.away {
                    let away = format!("  away: {reason}");
                    bytes += away.len();
                    line = line.text(&away);
                }
                listing.line(line, bytes);
            }
        }
        self.reply(id, listing.finish("people"));
    }

    /// `/rooms`: every room and how many are in it, packed, bounded.
    fn list_rooms(&mut self, id: MemberId) {
        let mut rooms: Vec<&Room> = self.rooms.values().collect();
        rooms.sort_by_cached_key(|r| sort_key(&r.name.to_string()));
        let mut listing = Listing::new();
        listing.group("Rooms: ");
        for room in rooms {
            listing.item(&format!("{} ({})", room.name, room.members.len()));
        }
        self.reply(id, listing.finish("rooms"));
    }

    fn private(&mut self, id: MemberId, from: &Nick, to: &Nick, text: &str) {
        let Some(target) = self.holder(to) else {
            self.tell(
                id,
                Tone::Error,
                &format!("There is nobody called {to} here."),
            );
            return;
        };
        let Some((to_nick, away)) = self
            .members
            .get(&target)
            .map(|m| (m.nick.clone(), m.away.clone()))
        else {
            return;
        };
        // "[msg from ann] text" to the target, "[msg to bob] text" back.
        let line = |label: &str, nick: &Nick| {
            LineBuilder::new(Tone::Private)
                .text(label)
                .nick(nick)
                .text("] ")
                .hang()
                .text(text)
                .channel(Channel::Private)
                .talker(from)
                .finish()
        };
        let incoming = line("[msg from ", from);
        let outgoing = line("[msg to ", &to_nick);
        self.send(target, &incoming);
        self.send(id, &outgoing);
        if let Some(reason) = away {
            let notice = LineBuilder::system(Tone::Info)
                .nick(&to_nick)
                .text(&format!(" is away: {reason}"))
                .finish();
            self.send(id, &notice);
        }
    }

    fn move_to(&mut self, id: MemberId, nick: &Nick, from: &str, target: RoomName) {
        // A room that exists is called by its own name, whatever case the
        // user typed; a look-alike of its name (`Iobby`) is that room too,
        // so nobody can open a room that passes for another.
        let target = self
            .rooms
            .get(target.key())
            .or_else(|| {
                let key = self.room_looks.get(target.look())?;
                self.rooms.get(key)
            })
            .map(|room| room.name.clone())
            .unwrap_or(target);
        if target.key() == from {
            self.tell(id, Tone::Info, &format!("You are already in {target}."));
            return;
        }
        // Named before leaving: an emptied room is removed.
        let from_name = self.room_name(from);
        self.exit_room(id, from);
        let notice = LineBuilder::system(Tone::Leave)
            .nick(nick)
            .text(&format!(" has left for {target}"))
            .channel(Channel::Room(self.room_name(from)))
            .roster(Roster::Removed(nick.clone()))
            .finish();
        self.broadcast(from, &notice);
        let key = target.key().to_owned();
        if !self.rooms.contains_key(&key) {
            self.room_looks
                .insert(target.look().to_owned(), key.clone());
            self.rooms.insert(
                key.clone(),
                Room {
                    name: target.clone(),
                    members: Vec::new(),
                },
            );
        }
        if let Some(member) = self.members.get_mut(&id) {
            member.room = key.clone();
            tracing::info!(
                peer = %member.outbox.peer,
                nick = %nick,
                from = %from_name,
                to = %target,
                "room change"
            );
        }
        let others = self.enter(&key, id);
        let shown = self
            .rooms
            .get(&key)
            .map(|r| r.name.to_string())
            .unwrap_or_default();
        self.tell(
            id,
            Tone::Join,
            &format!("You are now in {shown} with {}.", people(others)),
        );
        self.send_roster(id, &key);
    }
}

/// The order listings are in: as a reader sorts, by the name as shown,
/// ignoring case (the uniqueness key is a confusable skeleton, which
/// would put `u1` after `u2`, since 1 becomes l).
fn sort_key(name: &str) -> (String, String) {
    (caseless::default_case_fold_str(name), name.to_owned())
}

fn headcount(count: usize) -> String {
    match count {
        1 => "1 person".to_owned(),
        n => format!("{n} people"),
    }
}

/// An idle time as people read it: 5s, 3m, 2h, 4d.
fn idle_time(idle: Duration) -> String {
    let secs = idle.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}
