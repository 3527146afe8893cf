//! The room commands, answered by the room manager: `/who`, `/me`, `/msg`,
//! `/reply`, `/whois`, `/join`, `/part`, `/rooms`, `/away`. Their names
//! arrive validated; what is left is looking them up in the one room state.

use std::time::{Duration, Instant};

use unicode_width::UnicodeWidthStr;

use crate::command::{RoomCommand, nobody_online};
use crate::names::{Nick, RoomName};
use crate::render::{Channel, LineBuilder, Tone};

use super::listing::Listing;
use super::{Member, MemberId, Room, Rooms, people, room_name};

/// People a `/who` lists one per line, with idle time and away reason; a
/// longer listing gives names only, several to a line.
const WHO_DETAILED: usize = 50;

impl Rooms {
    pub(super) fn command(&mut self, id: MemberId, command: RoomCommand, now: Instant) {
        // `/away REASON` is activity, but must not first end the away it
        // sets; `/away` alone while away ends it as any line would.
        let sets_away = match &command {
            RoomCommand::Away(Some(_)) => true,
            RoomCommand::Away(None) => self.members.get(&id).is_some_and(|m| m.away.is_none()),
            _ => false,
        };
        let member = if sets_away {
            self.members.get_mut(&id).map(|member| {
                member.last_active = now;
                &*member
            })
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
            RoomCommand::Msg { to, text } => match self.holder(&to) {
                Some(target) => self.private(id, &nick, target, &text),
                None => self.tell(id, Tone::Error, &nobody_online(to.as_str())),
            },
            RoomCommand::Reply(text) => self.reply_to_last(id, &nick, &text),
            RoomCommand::Whois(nick) => self.whois(id, &nick, now),
            RoomCommand::Join(name) => self.move_to(id, &nick, &room, name),
            RoomCommand::Part => {
                if room == self.default_room.key() {
                    let text = format!(
                        "You are already in {}, the default room.",
                        self.default_room
                    );
                    self.tell(id, Tone::Info, &text);
                } else {
                    let target = self.default_room.clone();
                    self.move_to(id, &nick, &room, target);
                }
            }
            RoomCommand::Rooms => self.list_rooms(id),
            // `/away` alone while away: `active` above brought them back.
            RoomCommand::Away(_) if !sets_away => {}
            RoomCommand::Away(reason) => {
                let reason = reason.unwrap_or_default();
                let text = format!(" is away{}", away_suffix(&reason));
                if let Some(member) = self.members.get_mut(&id) {
                    member.away = Some(reason);
                }
                let notice = LineBuilder::system(Tone::Info)
                    .nick(&nick)
                    .text(&text)
                    .channel(Channel::Room(self.room_name(&room)))
                    .finish();
                self.broadcast(&room, &notice);
            }
        }
    }

    /// `/reply`: a private message to whoever sent member `id` the last
    /// one, under whatever nick they have now.
    fn reply_to_last(&mut self, id: MemberId, nick: &Nick, text: &str) {
        let last = self.members.get(&id).and_then(|m| m.last_from.clone());
        match last {
            None => {
                let hint = self.hint_for(
                    id,
                    "Nobody has sent you a private message yet: /msg NICK TEXT starts one."
                        .to_owned(),
                );
                self.tell(id, Tone::Error, &hint);
            }
            Some((from, _)) if self.members.contains_key(&from) => {
                self.private(id, nick, from, text);
            }
            Some((_, gone)) => self.tell(id, Tone::Error, &nobody_online(gone.as_str())),
        }
    }

    /// `/whois`: where someone is, how long idle, why away, their client
    /// and when they signed on; one reply.
    fn whois(&mut self, id: MemberId, nick: &Nick, now: Instant) {
        let Some(member) = self
            .holder(nick)
            .and_then(|target| self.members.get(&target))
        else {
            self.tell(id, Tone::Error, &nobody_online(nick.as_str()));
            return;
        };
        let idle = idle_time(now.saturating_duration_since(member.last_active));
        let room = room_name(&self.rooms, &member.room);
        let head = format!(" is in {room}, idle {idle}.");
        let mut bytes = member.nick.as_str().len() + head.len();
        let mut lines = vec![
            LineBuilder::system(Tone::Info)
                .nick(&member.nick)
                .text(&head)
                .finish(),
        ];
        let mut details = Vec::new();
        if let Some(reason) = &member.away {
            details.push(match reason.as_str() {
                "" => "  away".to_owned(),
                reason => format!("  away: {reason}"),
            });
        }
        details.push(format!(
            "  client: {}",
            member.outbox.client.as_deref().unwrap_or("not given")
        ));
        details.push(format!(
            "  connected since {}",
            crate::utc::format(member.outbox.signed_on)
        ));
        for text in details {
            bytes += text.len();
            lines.push(LineBuilder::system(Tone::Info).text(&text).finish());
        }
        self.reply(id, (lines, bytes));
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
                    let away = match reason.as_str() {
                        "" => "  away".to_owned(),
                        reason => format!("  away: {reason}"),
                    };
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

    /// A private message from member `id` (called `from`) to member
    /// `target`, who can `/reply` to it.
    fn private(&mut self, id: MemberId, from: &Nick, target: MemberId, text: &str) {
        let Some(member) = self.members.get_mut(&target) else {
            return;
        };
        member.last_from = Some((id, from.clone()));
        let (to_nick, away) = (member.nick.clone(), member.away.clone());
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
                .text(&format!(" is away{}", away_suffix(&reason)))
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
        self.exit_room(id, nick, from);
        self.announce_departure(from, id, nick, format!(" has left for {target}"));
        let key = target.key().to_owned();
        if !self.rooms.contains_key(&key) {
            self.room_looks
                .insert(target.look().to_owned(), key.clone());
            self.rooms.insert(key.clone(), Room::new(target.clone()));
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

/// How an away reason ends "ann is away": a full stop when there is none.
fn away_suffix(reason: &str) -> String {
    match reason {
        "" => ".".to_owned(),
        reason => format!(": {reason}"),
    }
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
