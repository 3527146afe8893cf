//! All room state, with one owner.
//!
//! [`Rooms`] is a plain struct holding every member, nick and room; it
//! changes only by [`Rooms::apply`] of a [`Request`], and is unit-tested
//! without a runtime (time is a parameter). [`spawn`] runs it in one task fed
//! by a bounded channel; sessions hold a [`RoomsHandle`], never a lock.
//!
//! Delivery never waits on a session: each member has a queue bounded in
//! lines ([`Outbox`], a [`mailbox`](crate::mailbox)), pushed without waiting.
//! A full queue means the client stopped reading: it is dropped with a
//! reason, its session is told to close at once, and the room sees why. Each
//! member leaves exactly once, with exactly one leave notice, whichever way
//! it goes.
//!
//! Fan-out is batched. The manager takes every request already waiting (up
//! to [`BATCH_REQUESTS`]), and consecutive lines to one room become one
//! shared run, pushed once to each member: under load, one push per member
//! carries many lines, and the cost per recipient is paid per batch, not per
//! line. A run is delivered before anything that could reorder it for
//! someone (a line to one member, a line to another room, anyone entering or
//! leaving a room), so every member sees lines in the order they were made.

use std::cell::Cell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use std::sync::Arc;

use bytes::BytesMut;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use unicode_width::UnicodeWidthStr;

use crate::command::{COMMANDS, Command};
use crate::gmcp;
use crate::mailbox::{Delivery, MailboxSender, PushError};
use crate::names::{Nick, RoomName};
use crate::render::{self, Channel, LineBuilder, Message, Tone};

/// Identifies a signed-on member for the lifetime of its session.
pub type MemberId = u64;

/// How the room manager reaches one session.
#[derive(Debug)]
pub struct Outbox {
    /// Messages for the session to render and write, bounded in lines. One
    /// `Arc` per message (or per run of messages) is shared by every
    /// recipient.
    pub lines: MailboxSender,
    /// Cancelled when the manager drops the member for not reading, so the
    /// session closes the socket even while stuck in a write.
    pub kill: CancellationToken,
    /// The client speaks GMCP: it gets the room's full roster on entering
    /// one. Building that list is O(members), so it is built only for
    /// those who read it (10,000 sign-ons would otherwise cost 10,000²).
    pub roster: bool,
}

/// Why someone left; the room is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveReason {
    Quit(Option<String>),
    ConnectionLost,
    NotReading,
    /// Signed on but silent past `idle_timeout_secs`.
    Idle,
    Shutdown,
}

/// Everything the room manager does, each handled in [`Rooms::apply`].
#[derive(Debug)]
pub enum Request {
    Join {
        nick: Nick,
        outbox: Outbox,
        reply: oneshot::Sender<Result<MemberId, Taken>>,
    },
    Say {
        id: MemberId,
        text: String,
    },
    Rename {
        id: MemberId,
        nick: Nick,
        reply: oneshot::Sender<Result<(), Taken>>,
    },
    Command {
        id: MemberId,
        command: Command,
    },
    Leave {
        id: MemberId,
        reason: LeaveReason,
    },
    Stats {
        reply: oneshot::Sender<Stats>,
    },
}

/// The nick asked for is in use (under case folding).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the nickname {0} is taken, please pick another")]
pub struct Taken(pub String);

/// Counts for the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub online: usize,
    pub rooms: usize,
}

#[derive(Debug)]
struct Member {
    nick: Nick,
    /// Key of the room the member is in.
    room: String,
    outbox: Outbox,
    /// Set by /away; any line the member types clears it.
    away: Option<String>,
    /// When the member last typed a line, for idle times in /who.
    last_active: Instant,
    /// A delivery to this member failed during the current request: it is
    /// about to be removed, gets nothing more, and is logged once (a mass
    /// disconnect must not log, or retry, once per member per notice).
    failing: Cell<bool>,
}

#[derive(Debug)]
struct Room {
    name: RoomName,
    /// Members in order of arrival; fan-out walks this.
    members: Vec<MemberId>,
}

/// All room state. See the module docs.
#[derive(Debug)]
pub struct Rooms {
    default_room: RoomName,
    members: HashMap<MemberId, Member>,
    /// Nick key to member: uniqueness under case folding.
    by_nick: HashMap<String, MemberId>,
    /// Room key to room. The default room always exists; others while occupied.
    rooms: HashMap<String, Room>,
    next_id: MemberId,
    /// Members whose delivery failed, removed at the next flush (removal
    /// itself delivers notices, which may fail too).
    failed: Vec<(MemberId, LeaveReason)>,
    /// Lines for one room not yet pushed to its members (see the module
    /// docs): the room's key and the lines.
    run: Option<(String, Vec<Arc<Message>>)>,
}

/// Requests handled before the lines they made are pushed: bounds how long
/// a line may wait in a run.
pub const BATCH_REQUESTS: usize = 256;

/// Lines in one run at most; a member's queue must hold several runs.
const RUN_LINES: usize = 64;

impl Rooms {
    pub fn new(default_room: RoomName) -> Rooms {
        let mut rooms = HashMap::new();
        rooms.insert(
            default_room.key().to_owned(),
            Room {
                name: default_room.clone(),
                members: Vec::new(),
            },
        );
        Rooms {
            default_room,
            members: HashMap::new(),
            by_nick: HashMap::new(),
            rooms,
            next_id: 1,
            failed: Vec::new(),
            run: None,
        }
    }

    /// Applies one request at time `now` and delivers what it made.
    pub fn apply(&mut self, request: Request, now: Instant) {
        self.handle(request, now);
        self.flush();
    }

    /// Applies one request at time `now`; lines to a room may wait in the
    /// current run until [`Rooms::flush`].
    pub fn handle(&mut self, request: Request, now: Instant) {
        match request {
            Request::Join {
                nick,
                outbox,
                reply,
            } => {
                let result = self.join(nick, outbox, now);
                let _ = reply.send(result);
            }
            Request::Say { id, text } => {
                if let Some(member) = self.active(id, now) {
                    let room = member.room.clone();
                    let name = self.room_name(&room);
                    if let Some(member) = self.members.get(&id) {
                        let line = render::chat(&member.nick, &text, &name);
                        self.broadcast(&room, &line);
                    }
                }
            }
            Request::Rename { id, nick, reply } => {
                let _ = reply.send(self.rename(id, nick, now));
            }
            Request::Command { id, command } => self.command(id, command, now),
            Request::Leave { id, reason } => self.remove(id, reason),
            Request::Stats { reply } => {
                let _ = reply.send(self.stats());
            }
        }
    }

    /// Delivers the current run, then removes the members whose delivery
    /// failed (their leave notices go out too, and may fail in turn).
    pub fn flush(&mut self) {
        loop {
            self.push_run();
            let Some((id, reason)) = self.failed.pop() else {
                break;
            };
            self.remove(id, reason);
        }
    }

    /// Pushes the current run to every member of its room.
    fn push_run(&mut self) {
        let Some((key, mut lines)) = self.run.take() else {
            return;
        };
        let delivery = match lines.len() {
            0 => return,
            1 => Delivery::One(lines.swap_remove(0)),
            _ => Delivery::Run(Arc::new(render::Run::new(lines))),
        };
        if let Some(room) = self.rooms.get(&key) {
            for id in &room.members {
                if let Some(member) = self.members.get(id) {
                    deliver(*id, member, &delivery, &mut self.failed);
                }
            }
        }
    }

    pub fn stats(&self) -> Stats {
        Stats {
            online: self.members.len(),
            rooms: self
                .rooms
                .values()
                .filter(|r| !r.members.is_empty())
                .count(),
        }
    }

    fn join(&mut self, nick: Nick, outbox: Outbox, now: Instant) -> Result<MemberId, Taken> {
        if self.by_nick.contains_key(nick.key()) {
            return Err(Taken(nick.as_str().to_owned()));
        }
        let id = self.next_id;
        self.next_id += 1;
        let room_key = self.default_room.key().to_owned();
        info!(nick = %nick, room = %self.default_room, "signed on");
        self.by_nick.insert(nick.key().to_owned(), id);
        self.members.insert(
            id,
            Member {
                nick: nick.clone(),
                room: room_key.clone(),
                outbox,
                away: None,
                last_active: now,
                failing: Cell::new(false),
            },
        );
        let others = self.enter(&room_key, id);
        let welcome = LineBuilder::system(Tone::Info)
            .text("Welcome, ")
            .nick(&nick)
            .text(&format!(
                "! You are in {} with {}. Type /help for commands.",
                self.default_room,
                people(others)
            ))
            .finish();
        self.send(id, &welcome);
        self.send_roster(id, &room_key);
        Ok(id)
    }

    /// Puts member `id` into room `key` and announces it to the others there;
    /// returns how many others there are.
    fn enter(&mut self, key: &str, id: MemberId) -> usize {
        let Some(nick) = self.members.get(&id).map(|m| m.nick.clone()) else {
            return 0;
        };
        let Some(room) = self.rooms.get_mut(key) else {
            return 0;
        };
        let name = room.name.clone();
        let notice = LineBuilder::system(Tone::Join)
            .nick(&nick)
            .text(&format!(" has joined {name}"))
            .channel(Channel::Room(name.to_string()))
            .roster(gmcp::room_add_player(nick.as_str()))
            .finish();
        self.broadcast(key, &notice);
        // The room's lines so far, the arrival last, go out before the
        // newcomer is a member: it gets none of them.
        self.push_run();
        if let Some(room) = self.rooms.get_mut(key) {
            room.members.push(id);
            room.members.len() - 1
        } else {
            0
        }
    }

    /// Takes member `id` out of its room; removes the room if it is empty and
    /// not the default one.
    fn exit_room(&mut self, id: MemberId, key: &str) {
        self.push_run();
        if let Some(room) = self.rooms.get_mut(key) {
            room.members.retain(|&m| m != id);
            if room.members.is_empty() && key != self.default_room.key() {
                self.rooms.remove(key);
            }
        }
    }

    fn remove(&mut self, id: MemberId, reason: LeaveReason) {
        // Whoever leaves gets the lines made before it left.
        self.push_run();
        let Some(member) = self.members.remove(&id) else {
            // Already gone (e.g. dropped for not reading, then its session's
            // own Leave arrived): one leave notice only.
            return;
        };
        self.by_nick.remove(member.nick.key());
        self.exit_room(id, &member.room);
        if reason == LeaveReason::NotReading {
            member.outbox.kill.cancel();
        }
        info!(nick = %member.nick, reason = ?reason, "signed off");
        let why = match &reason {
            LeaveReason::Quit(None) => " has quit".to_owned(),
            LeaveReason::Quit(Some(message)) => format!(" has quit ({message})"),
            LeaveReason::ConnectionLost => " lost their connection".to_owned(),
            LeaveReason::NotReading => " was disconnected (not reading)".to_owned(),
            LeaveReason::Idle => " was disconnected (idle)".to_owned(),
            // Everyone is being told the server is going down; a leave notice
            // per member would be N² lines for nothing.
            LeaveReason::Shutdown => return,
        };
        let notice = LineBuilder::system(Tone::Leave)
            .nick(&member.nick)
            .text(&why)
            .channel(Channel::Room(self.room_name(&member.room)))
            .roster(gmcp::room_remove_player(member.nick.as_str()))
            .finish();
        self.broadcast(&member.room, &notice);
    }

    /// The member, after recording that it typed something (which also ends
    /// /away, announced to its room).
    fn active(&mut self, id: MemberId, now: Instant) -> Option<&Member> {
        let member = self.members.get_mut(&id)?;
        member.last_active = now;
        if member.away.take().is_some() {
            let room = member.room.clone();
            let notice = LineBuilder::system(Tone::Info)
                .nick(&member.nick)
                .text(" is back")
                .channel(Channel::Room(room_name(&self.rooms, &room)))
                .finish();
            self.broadcast(&room, &notice);
        }
        self.members.get(&id)
    }

    fn rename(&mut self, id: MemberId, nick: Nick, now: Instant) -> Result<(), Taken> {
        let Some(member) = self.active(id, now) else {
            return Ok(());
        };
        let old = member.nick.clone();
        let room = member.room.clone();
        match self.by_nick.get(nick.key()) {
            Some(&owner) if owner != id => return Err(Taken(nick.as_str().to_owned())),
            _ => {}
        }
        if old.as_str() == nick.as_str() {
            self.tell(id, Tone::Info, &format!("You are already called {nick}."));
            return Ok(());
        }
        self.by_nick.remove(old.key());
        self.by_nick.insert(nick.key().to_owned(), id);
        if let Some(member) = self.members.get_mut(&id) {
            member.nick = nick.clone();
        }
        info!(old = %old, new = %nick, "nick change");
        let mut roster = BytesMut::new();
        roster.extend_from_slice(&gmcp::room_remove_player(old.as_str()));
        roster.extend_from_slice(&gmcp::room_add_player(nick.as_str()));
        let notice = LineBuilder::system(Tone::Info)
            .nick(&old)
            .text(" is now known as ")
            .nick(&nick)
            .channel(Channel::Room(self.room_name(&room)))
            .roster(roster.freeze())
            .finish();
        self.broadcast(&room, &notice);
        Ok(())
    }

    fn command(&mut self, id: MemberId, command: Command, now: Instant) {
        let away_command = matches!(command, Command::Away(_));
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
            Command::Who { all } => self.who(id, all, now),
            Command::Me(action) => {
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
            Command::Msg { to, text } => self.private(id, &nick, &to, &text),
            Command::Join(name) => self.move_to(id, &nick, &room, &name),
            Command::Rooms => {
                let mut rooms: Vec<&Room> = self.rooms.values().collect();
                rooms.sort_by(|a, b| a.name.key().cmp(b.name.key()));
                let list: Vec<String> = rooms
                    .iter()
                    .map(|r| format!("{} ({})", r.name, r.members.len()))
                    .collect();
                self.tell(id, Tone::Info, &format!("Rooms: {}", list.join(", ")));
            }
            Command::Away(reason) => {
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
            Command::Help => {
                let width = COMMANDS.iter().map(|(u, _)| u.width()).max().unwrap_or(0);
                self.tell(id, Tone::Info, "Commands:");
                for (usage, what) in COMMANDS {
                    let pad = " ".repeat(width - usage.width());
                    self.tell(id, Tone::Info, &format!("  {usage}{pad}  {what}"));
                }
            }
            Command::Usage(usage) => self.tell(id, Tone::Error, &format!("Usage: {usage}")),
            Command::Unknown(name) => self.tell(
                id,
                Tone::Error,
                &format!("Unknown command /{name}. Type /help for the list."),
            ),
            // Sessions handle these (they need a reply, close the
            // connection, or concern only the session's own rendering);
            // arriving here they are no-ops.
            Command::Nick(_) | Command::Quit(_) | Command::Color(_) | Command::Client => {}
        }
    }

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
        rooms.sort_by(|a, b| a.name.key().cmp(b.name.key()));
        let mut lines = Vec::new();
        for room in rooms {
            let mut members: Vec<&Member> = room
                .members
                .iter()
                .filter_map(|m| self.members.get(m))
                .collect();
            members.sort_by(|a, b| a.nick.key().cmp(b.nick.key()));
            let width = members
                .iter()
                .map(|m| m.nick.as_str().width())
                .max()
                .unwrap_or(0);
            lines.push(
                LineBuilder::system(Tone::Info)
                    .text(&format!("In {}: {}", room.name, headcount(members.len())))
                    .finish(),
            );
            for member in members {
                let pad = " ".repeat(width - member.nick.as_str().width());
                let idle = idle_time(now.saturating_duration_since(member.last_active));
                let mut line = LineBuilder::system(Tone::Info)
                    .text("  ")
                    .nick(&member.nick)
                    .text(&format!("{pad}  idle {idle}"));
                if let Some(reason) = &member.away {
                    line = line.text(&format!("  away: {reason}"));
                }
                lines.push(line.finish());
            }
        }
        for line in &lines {
            self.send(id, line);
        }
    }

    fn private(&mut self, id: MemberId, from: &Nick, to: &str, text: &str) {
        let target = Nick::parse(to, usize::MAX)
            .ok()
            .and_then(|nick| self.by_nick.get(nick.key()).copied());
        let Some(target) = target else {
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
        let incoming = LineBuilder::new(Tone::Private)
            .text("[msg from ")
            .nick(from)
            .text("] ")
            .hang()
            .text(text)
            .channel(Channel::Private)
            .talker(from)
            .finish();
        self.send(target, &incoming);
        let outgoing = LineBuilder::new(Tone::Private)
            .text("[msg to ")
            .nick(&to_nick)
            .text("] ")
            .hang()
            .text(text)
            .channel(Channel::Private)
            .talker(from)
            .finish();
        self.send(id, &outgoing);
        if let Some(reason) = away {
            let notice = LineBuilder::system(Tone::Info)
                .nick(&to_nick)
                .text(&format!(" is away: {reason}"))
                .finish();
            self.send(id, &notice);
        }
    }

    fn move_to(&mut self, id: MemberId, nick: &Nick, from: &str, name: &str) {
        let target = match RoomName::parse(name) {
            Ok(target) => target,
            Err(error) => {
                self.tell(id, Tone::Error, &error.to_string());
                return;
            }
        };
        // A room that exists is called by its own name, whatever case the
        // user typed.
        let target = self
            .rooms
            .get(target.key())
            .map(|room| room.name.clone())
            .unwrap_or(target);
        if target.key() == from {
            self.tell(id, Tone::Info, &format!("You are already in {target}."));
            return;
        }
        self.exit_room(id, from);
        let notice = LineBuilder::system(Tone::Leave)
            .nick(nick)
            .text(&format!(" has left for {target}"))
            .channel(Channel::Room(self.room_name(from)))
            .roster(gmcp::room_remove_player(nick.as_str()))
            .finish();
        self.broadcast(from, &notice);
        let key = target.key().to_owned();
        self.rooms.entry(key.clone()).or_insert_with(|| Room {
            name: target.clone(),
            members: Vec::new(),
        });
        if let Some(member) = self.members.get_mut(&id) {
            member.room = key.clone();
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

    /// The display name of room `key` (the key itself if it is gone).
    fn room_name(&self, key: &str) -> String {
        room_name(&self.rooms, key)
    }

    /// GMCP `Room.Players` of room `key` to member `id`, who just came in.
    fn send_roster(&mut self, id: MemberId, key: &str) {
        if !self.members.get(&id).is_some_and(|m| m.outbox.roster) {
            return;
        }
        let Some(room) = self.rooms.get(key) else {
            return;
        };
        let names = room
            .members
            .iter()
            .filter_map(|m| self.members.get(m))
            .map(|m| m.nick.as_str());
        let message = Message::roster_only(gmcp::room_players(names));
        self.send(id, &message);
    }

    /// A system line to one member.
    fn tell(&mut self, id: MemberId, tone: Tone, text: &str) {
        self.send(id, &render::notice(tone, text));
    }

    fn send(&mut self, id: MemberId, line: &Arc<Message>) {
        // After the room's earlier lines, which this member may be due.
        self.push_run();
        if let Some(member) = self.members.get(&id) {
            deliver(
                id,
                member,
                &Delivery::One(Arc::clone(line)),
                &mut self.failed,
            );
        }
    }

    /// Delivers `line` to everyone in room `key`: appended to the current
    /// run if that is for the same room, else it starts a new one.
    fn broadcast(&mut self, key: &str, line: &Arc<Message>) {
        match &mut self.run {
            Some((run_key, lines)) if run_key == key && lines.len() < RUN_LINES => {
                lines.push(Arc::clone(line));
            }
            _ => {
                self.push_run();
                self.run = Some((key.to_owned(), vec![Arc::clone(line)]));
            }
        }
    }
}

fn deliver(
    id: MemberId,
    member: &Member,
    delivery: &Delivery,
    failed: &mut Vec<(MemberId, LeaveReason)>,
) {
    if member.failing.get() {
        return;
    }
    match member.outbox.lines.push(delivery.clone()) {
        Ok(()) => {}
        Err(PushError::Full) => {
            member.failing.set(true);
            warn!(nick = %member.nick, "outbound queue full, disconnecting");
            failed.push((id, LeaveReason::NotReading));
        }
        Err(PushError::Closed) => {
            member.failing.set(true);
            failed.push((id, LeaveReason::ConnectionLost));
        }
    }
}

/// The display name of room `key` (the key itself if it is gone).
fn room_name(rooms: &HashMap<String, Room>, key: &str) -> String {
    rooms
        .get(key)
        .map(|room| room.name.to_string())
        .unwrap_or_else(|| key.to_owned())
}

fn people(count: usize) -> String {
    match count {
        0 => "nobody else".to_owned(),
        1 => "1 other".to_owned(),
        n => format!("{n} others"),
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

/// The room manager is gone (only during shutdown).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the room manager has stopped")]
pub struct Gone;

/// How sessions reach the room manager.
#[derive(Debug, Clone)]
pub struct RoomsHandle {
    requests: mpsc::Sender<Request>,
}

impl RoomsHandle {
    pub async fn send(&self, request: Request) -> Result<(), Gone> {
        self.requests.send(request).await.map_err(|_| Gone)
    }

    pub async fn join(&self, nick: Nick, outbox: Outbox) -> Result<Result<MemberId, Taken>, Gone> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Join {
            nick,
            outbox,
            reply,
        })
        .await?;
        answer.await.map_err(|_| Gone)
    }

    pub async fn rename(&self, id: MemberId, nick: Nick) -> Result<Result<(), Taken>, Gone> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Rename { id, nick, reply }).await?;
        answer.await.map_err(|_| Gone)
    }

    pub async fn stats(&self) -> Result<Stats, Gone> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Stats { reply }).await?;
        answer.await.map_err(|_| Gone)
    }
}

/// How many requests may wait for the room manager before senders wait.
const REQUEST_QUEUE: usize = 4096;

/// Starts the room manager task. It ends when every handle is dropped.
pub fn spawn(default_room: RoomName) -> (RoomsHandle, tokio::task::JoinHandle<()>) {
    let (requests, mut incoming) = mpsc::channel(REQUEST_QUEUE);
    let mut rooms = Rooms::new(default_room);
    let task = tokio::spawn(async move {
        while let Some(request) = incoming.recv().await {
            let now = Instant::now();
            rooms.handle(request, now);
            for _ in 1..BATCH_REQUESTS {
                match incoming.try_recv() {
                    Ok(request) => rooms.handle(request, now),
                    Err(_) => break,
                }
            }
            rooms.flush();
            // A batch can be millions of pushes (256 sign-ons to a room of
            // 10,000). The sessions it woke share this worker thread: let
            // them write before the next batch, or a burst that the server
            // could carry fills their queues and reads as clients that
            // stopped reading. (tokio's own budget would only step in after
            // 128 batches.)
            tokio::task::yield_now().await;
        }
    });
    (RoomsHandle { requests }, task)
}

#[cfg(test)]
mod tests;
