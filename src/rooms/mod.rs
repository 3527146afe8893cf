//! All room state, with one owner.
//!
//! [`Rooms`] is a plain struct holding every member, nick and room; it
//! changes only by [`Rooms::handle`] of a [`Request`], and is unit-tested
//! without a runtime (time is a parameter). [`spawn`] runs it in one task fed
//! by a bounded channel; sessions hold a [`RoomsHandle`], never a lock
//! (`handle.rs`). This file holds membership and delivery; `commands.rs`
//! the room commands (`/who`, `/me`, `/msg`, `/reply`, `/whois`, `/join`,
//! `/part`, `/rooms`, `/away`).
//! Lines are built here as [`Message`] recipes, roster news as names: no
//! wire bytes are made in the room manager.
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

mod commands;
mod completion;
mod gathering;
mod handle;
mod listing;

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::mailbox::{Delivery, MailboxSender, PushError};
use crate::names::{Nick, RoomName};
use crate::render::{self, Channel, LineBuilder, Message, Roster, Tone};
use gathering::{Departure, Gathered};

pub(crate) use handle::{Request, RoomsHandle, spawn};

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
    /// The client speaks GMCP and wants `Room.*`: it gets the room's full
    /// roster on entering one. Building that list is O(members), so it is
    /// built only for those who read it (10,000 sign-ons would otherwise
    /// cost 10,000²). The session keeps it current ([`Request::Roster`]).
    pub roster: bool,
    /// The client's address: every log line about the member names it
    /// (the room manager's lines are outside the connection's span).
    pub peer: std::net::SocketAddr,
    /// The client's name as it told it (TTYPE or GMCP), for `/whois`.
    pub client: Option<String>,
    /// The client takes `/` for its own commands (TinyFugue): the room
    /// manager's hints name tavern's commands in the `.who` form.
    pub dot_commands: bool,
    /// When the member signed on, by the wall clock, for `/whois` (its
    /// "connected since": the seconds of negotiation before are not worth
    /// a field in every session).
    pub signed_on: std::time::SystemTime,
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

/// As an admin reads it in the log: `quit: see you`, `connection lost`.
impl std::fmt::Display for LeaveReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeaveReason::Quit(None) => f.write_str("quit"),
            LeaveReason::Quit(Some(message)) => write!(f, "quit: {message}"),
            LeaveReason::ConnectionLost => f.write_str("connection lost"),
            LeaveReason::NotReading => f.write_str("not reading"),
            LeaveReason::Idle => f.write_str("idle"),
            LeaveReason::Shutdown => f.write_str("server shutdown"),
        }
    }
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
    /// Set by /away, with its reason (empty when none was given); any line
    /// the member types clears it, and so does `/away` alone.
    away: Option<String>,
    /// When the member last typed a line, command or not, for idle times
    /// in /who and /whois.
    last_active: Instant,
    /// Who sent the member's last private message, for `/reply`: the id
    /// finds them under a new nick; the nick names them once gone.
    last_from: Option<(MemberId, Nick)>,
    /// A delivery to this member failed during the current request: it is
    /// about to be removed, gets nothing more, and is logged once (a mass
    /// disconnect must not log, or retry, once per member per notice).
    failing: Cell<bool>,
    /// The server is stopping and this member's session has handed over
    /// its last lines and left; it stays, and hears the others' last lines,
    /// until every member has (see [`Rooms::flush`]).
    closing: bool,
}

#[derive(Debug)]
struct Room {
    name: RoomName,
    /// Members in order of arrival; fan-out walks this.
    members: Vec<MemberId>,
    /// The members' nicks, for Tab completion.
    nicks: completion::NickIndex,
    /// Arrivals and departures not yet announced (a big room's window is
    /// open; see `gathering.rs`).
    gathered: Option<Box<Gathered>>,
}

impl Room {
    fn new(name: RoomName) -> Room {
        Room {
            name,
            members: Vec::new(),
            nicks: completion::NickIndex::default(),
            gathered: None,
        }
    }
}

/// All room state. See the module docs.
#[derive(Debug)]
pub struct Rooms {
    default_room: RoomName,
    members: HashMap<MemberId, Member>,
    /// Nick key to member: uniqueness under case folding.
    by_nick: HashMap<String, MemberId>,
    /// Nick look (the skeleton as typed) to member: `biII` is taken while
    /// `bill` is, though their keys differ (see [`Nick::look`]).
    by_look: HashMap<String, MemberId>,
    /// Room key to room. The default room always exists; others while occupied.
    rooms: HashMap<String, Room>,
    /// Room look to room key: `/join Iobby` is the lobby.
    room_looks: HashMap<String, String>,
    next_id: MemberId,
    /// Members whose delivery failed, removed at the next flush (removal
    /// itself delivers notices, which may fail too).
    failed: Vec<(MemberId, LeaveReason)>,
    /// Lines for one room not yet pushed to its members (see the module
    /// docs): the room's key and the lines.
    run: Option<(String, Vec<Arc<Message>>)>,
    /// Members that left because the server is stopping and are kept until
    /// all have (their `closing` is set).
    closing: usize,
    /// Rooms of this many members or more gather their join and leave
    /// notices (`big_room_members`; 0: never).
    big_room: usize,
    /// When each open window closes, and its room's key, in order (every
    /// window is as long, so the first to open is the first to close).
    windows: VecDeque<(Instant, String)>,
    /// The time of the requests being handled (given to
    /// [`Rooms::handle`] and [`Rooms::tick`]).
    now: Instant,
}

/// Requests handled before the lines they made are pushed: bounds how long
/// a line may wait in a run.
pub const BATCH_REQUESTS: usize = 256;

/// Lines in one run at most; a member's queue must hold several runs.
const RUN_LINES: usize = 64;

impl Rooms {
    /// `big_room`: the size from which a room's join and leave notices are
    /// gathered (0: never).
    pub fn new(default_room: RoomName, big_room: usize) -> Rooms {
        let mut rooms = HashMap::new();
        let room_looks = HashMap::from([(
            default_room.look().to_owned(),
            default_room.key().to_owned(),
        )]);
        rooms.insert(
            default_room.key().to_owned(),
            Room::new(default_room.clone()),
        );
        Rooms {
            default_room,
            members: HashMap::new(),
            by_nick: HashMap::new(),
            by_look: HashMap::new(),
            rooms,
            room_looks,
            next_id: 1,
            failed: Vec::new(),
            run: None,
            closing: 0,
            big_room,
            windows: VecDeque::new(),
            now: Instant::now(),
        }
    }

    /// When the next window of gathered notices closes, if one is open:
    /// the task calls [`Rooms::tick`] then.
    pub fn next_window(&self) -> Option<Instant> {
        self.windows.front().map(|(due, _)| *due)
    }

    /// Announces the gathered arrivals and departures of every window that
    /// has closed by `now` (then [`Rooms::flush`] delivers them).
    pub fn tick(&mut self, now: Instant) {
        self.now = now;
        while let Some((due, _)) = self.windows.front()
            && *due <= now
        {
            let Some((_, key)) = self.windows.pop_front() else {
                break;
            };
            let Some(room) = self.rooms.get_mut(&key) else {
                continue;
            };
            let Some(gathered) = room.gathered.take() else {
                continue;
            };
            let name = room.name.to_string();
            let members = &self.members;
            let lines = gathered.lines(&name, |id| members.get(&id).map(|m| m.nick.clone()));
            for line in lines {
                self.broadcast(&key, &line);
            }
        }
    }

    /// Whether arrivals and departures in room `key` are gathered: it is
    /// big, or a window is open there already.
    fn gathering(&self, key: &str) -> bool {
        self.rooms.get(key).is_some_and(|room| {
            room.gathered.is_some() || (self.big_room > 0 && room.members.len() >= self.big_room)
        })
    }

    /// Room `key`'s gathered notices, opening a window if none is open.
    fn gathered(&mut self, key: &str) -> Option<&mut Gathered> {
        let room = self.rooms.get_mut(key)?;
        if room.gathered.is_none() {
            room.gathered = Some(Box::default());
            self.windows
                .push_back((self.now + gathering::GATHER_WINDOW, key.to_owned()));
        }
        room.gathered.as_deref_mut()
    }

    /// Someone left room `key`: told now, or gathered in a big room.
    fn announce_departure(&mut self, key: &str, id: MemberId, nick: &Nick, why: String) {
        if self.gathering(key) {
            if let Some(gathered) = self.gathered(key) {
                gathered.depart(
                    id,
                    Departure {
                        nick: nick.clone(),
                        why,
                    },
                );
            }
            return;
        }
        let notice = LineBuilder::system(Tone::Leave)
            .nick(nick)
            .text(&why)
            .channel(Channel::Room(self.room_name(key)))
            .roster(Roster::Removed(nick.clone()))
            .finish();
        self.broadcast(key, &notice);
    }

    /// Applies one request at time `now` and delivers what it made.
    #[cfg(test)]
    pub fn apply(&mut self, request: Request, now: Instant) {
        self.handle(request, now);
        self.flush();
    }

    /// Applies one request at time `now`; lines to a room may wait in the
    /// current run until [`Rooms::flush`].
    pub fn handle(&mut self, request: Request, now: Instant) {
        self.now = now;
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
            Request::Active { id } => {
                self.active(id, now);
            }
            Request::Roster { id, wanted } => {
                let Some(member) = self.members.get_mut(&id) else {
                    return;
                };
                let was = std::mem::replace(&mut member.outbox.roster, wanted);
                if wanted && !was {
                    let room = member.room.clone();
                    self.send_roster(id, &room);
                }
            }
            Request::Leave {
                id,
                reason: LeaveReason::Shutdown,
            } => self.leave_at_shutdown(id),
            Request::Leave { id, reason } => self.remove(id, reason),
            Request::Stats { reply } => {
                let _ = reply.send(self.stats());
            }
            Request::Complete { id, prefix, reply } => {
                let found = self
                    .members
                    .get(&id)
                    .and_then(|member| self.rooms.get(&member.room))
                    .map(|room| room.nicks.complete(&prefix, id))
                    .unwrap_or_default();
                let _ = reply.send(found);
            }
        }
    }

    /// Delivers the current run, then removes the members whose delivery
    /// failed (their leave notices go out too, and may fail in turn), and,
    /// once every member has left because the server is stopping, all of
    /// them.
    pub fn flush(&mut self) {
        loop {
            self.push_run();
            let Some((id, reason)) = self.failed.pop() else {
                break;
            };
            self.remove(id, reason);
        }
        if self.closing > 0 && self.closing >= self.members.len() {
            let ids: Vec<MemberId> = self.members.keys().copied().collect();
            for id in ids {
                self.remove(id, LeaveReason::Shutdown);
            }
        }
    }

    /// Member `id` leaves because the server is stopping, after handing over
    /// the lines it still held (flood control's). Sessions stop all at once,
    /// so another member's last lines may still be on their way: the member
    /// stays, hearing them, until every member has left this way (or gone
    /// otherwise), and then all go together, with no leave notices. A
    /// session that never says so delays the others by at most their own
    /// wait for the room manager (the goodbye's timeout).
    fn leave_at_shutdown(&mut self, id: MemberId) {
        if let Some(member) = self.members.get_mut(&id)
            && !std::mem::replace(&mut member.closing, true)
        {
            self.closing += 1;
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
        if self.holder(&nick).is_some() {
            return Err(Taken(nick.as_str().to_owned()));
        }
        let id = self.next_id;
        self.next_id += 1;
        let room_key = self.default_room.key().to_owned();
        info!(peer = %outbox.peer, nick = %nick, room = %self.default_room, "signed on");
        self.by_nick.insert(nick.key().to_owned(), id);
        self.by_look.insert(nick.look().to_owned(), id);
        self.members.insert(
            id,
            Member {
                nick: nick.clone(),
                room: room_key.clone(),
                outbox,
                away: None,
                last_active: now,
                last_from: None,
                failing: Cell::new(false),
                closing: false,
            },
        );
        let others = self.enter(&room_key, id);
        let rest = format!(
            "! You are in {} with {}. Type /help for commands.",
            self.default_room,
            people(others)
        );
        let welcome = LineBuilder::system(Tone::Info)
            .text("Welcome, ")
            .nick(&nick)
            .text(&self.hint_for(id, rest))
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
        if self.gathering(key) {
            if let Some(gathered) = self.gathered(key) {
                gathered.arrive(id);
            }
        } else {
            let notice = LineBuilder::system(Tone::Join)
                .nick(&nick)
                .text(&format!(" has joined {name}"))
                .channel(Channel::Room(name.to_string()))
                .roster(Roster::Added(nick.clone()))
                .finish();
            self.broadcast(key, &notice);
        }
        // The room's lines so far, the arrival last, go out before the
        // newcomer is a member: it gets none of them.
        self.push_run();
        if let Some(room) = self.rooms.get_mut(key) {
            room.members.push(id);
            room.nicks.insert(id, &nick);
            room.members.len() - 1
        } else {
            0
        }
    }

    /// Takes member `id` out of its room; removes the room if it is empty and
    /// not the default one.
    fn exit_room(&mut self, id: MemberId, nick: &Nick, key: &str) {
        self.push_run();
        if let Some(room) = self.rooms.get_mut(key) {
            room.members.retain(|&m| m != id);
            room.nicks.remove(id, nick);
            if room.members.is_empty()
                && key != self.default_room.key()
                && let Some(room) = self.rooms.remove(key)
            {
                self.room_looks.remove(room.name.look());
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
        if member.closing {
            self.closing -= 1;
        }
        self.forget_nick(id, &member.nick);
        self.exit_room(id, &member.nick, &member.room);
        if reason == LeaveReason::NotReading {
            member.outbox.kill.cancel();
        }
        info!(peer = %member.outbox.peer, nick = %member.nick, %reason, "signed off");
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
        self.announce_departure(&member.room, id, &member.nick, why);
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
        // A different case of one's own nick (bill → Bill) is one's own.
        let someone_else = |owner: Option<&MemberId>| owner.is_some_and(|&o| o != id);
        if someone_else(self.by_nick.get(nick.key())) || someone_else(self.by_look.get(nick.look()))
        {
            return Err(Taken(nick.as_str().to_owned()));
        }
        if old.as_str() == nick.as_str() {
            self.tell(id, Tone::Info, &format!("You are already called {nick}."));
            return Ok(());
        }
        self.forget_nick(id, &old);
        self.by_nick.insert(nick.key().to_owned(), id);
        self.by_look.insert(nick.look().to_owned(), id);
        if let Some(member) = self.members.get_mut(&id) {
            member.nick = nick.clone();
            info!(peer = %member.outbox.peer, old = %old, new = %nick, "nick change");
        }
        if let Some(room) = self.rooms.get_mut(&room) {
            room.nicks.remove(id, &old);
            room.nicks.insert(id, &nick);
        }
        let notice = LineBuilder::system(Tone::Info)
            .nick(&old)
            .text(" is now known as ")
            .nick(&nick)
            .channel(Channel::Room(self.room_name(&room)))
            .roster(Roster::Renamed {
                old: old.clone(),
                new: nick.clone(),
            })
            .finish();
        self.broadcast(&room, &notice);
        Ok(())
    }

    /// Who holds `nick` or a look-alike of it: the same key, or failing
    /// that the same look.
    fn holder(&self, nick: &Nick) -> Option<MemberId> {
        self.by_nick
            .get(nick.key())
            .or_else(|| self.by_look.get(nick.look()))
            .copied()
    }

    /// Frees member `id`'s hold on `nick` (its key and its look).
    fn forget_nick(&mut self, id: MemberId, nick: &Nick) {
        if self.by_nick.get(nick.key()) == Some(&id) {
            self.by_nick.remove(nick.key());
        }
        if self.by_look.get(nick.look()) == Some(&id) {
            self.by_look.remove(nick.look());
        }
    }

    /// A text that names commands, in the form member `id`'s client can
    /// type (`.help` for TinyFugue; see [`crate::command::dotted_hint`]).
    fn hint_for(&self, id: MemberId, text: String) -> String {
        match self.members.get(&id) {
            Some(member) if member.outbox.dot_commands => crate::command::dotted_hint(&text),
            _ => text,
        }
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
            .map(|m| m.nick.clone())
            .collect();
        let message = Message::roster_only(Roster::Players(names));
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

    /// A command's answer to member `id` (about `bytes` of text), as one
    /// unit counted by its size: a long answer (bounded by its builder, see
    /// `listing.rs`) is not why its asker is dropped.
    fn reply(&mut self, id: MemberId, (lines, bytes): (Vec<Arc<Message>>, usize)) {
        self.push_run();
        if lines.is_empty() {
            return;
        }
        let delivery = Delivery::reply(lines, bytes);
        if let Some(member) = self.members.get(&id) {
            deliver(id, member, &delivery, &mut self.failed);
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
            warn!(peer = %member.outbox.peer, nick = %member.nick, "outbound queue full, disconnecting");
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

#[cfg(test)]
mod tests;
