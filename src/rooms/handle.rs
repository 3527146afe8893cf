//! How sessions reach the room manager: the [`Request`]s it handles, the
//! [`RoomsHandle`] sessions hold, and [`spawn`], the one task that owns the
//! [`Rooms`] and takes requests in batches.

use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::command::RoomCommand;
use crate::names::{Nick, RoomName};

use super::{BATCH_REQUESTS, LeaveReason, MemberId, Outbox, Rooms, Stats, Taken};

/// Everything the room manager does, each handled in [`Rooms::handle`].
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
        command: RoomCommand,
    },
    /// The member typed something the room manager does not otherwise
    /// hear of (a command its session answered, a mistake): it counts as
    /// activity for idle times, and ends /away, as any line does.
    Active {
        id: MemberId,
    },
    /// The member's wish for GMCP roster news changed (GMCP turned on or
    /// off, `Room` added or removed); turned on, it gets the room's roster.
    Roster {
        id: MemberId,
        wanted: bool,
    },
    Leave {
        id: MemberId,
        reason: LeaveReason,
    },
    Stats {
        reply: oneshot::Sender<Stats>,
    },
    /// Tab in the line editor: the nicks in the member's room that start
    /// with `prefix` (any case), its own left out, at most
    /// [`MAX_COMPLETIONS`](super::completion::MAX_COMPLETIONS), in order.
    Complete {
        id: MemberId,
        prefix: String,
        reply: oneshot::Sender<Vec<String>>,
    },
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

    pub async fn complete(&self, id: MemberId, prefix: String) -> Result<Vec<String>, Gone> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Complete { id, prefix, reply }).await?;
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
/// `big_room`: see [`Rooms::new`].
pub fn spawn(
    default_room: RoomName,
    big_room: usize,
) -> (RoomsHandle, tokio::task::JoinHandle<()>) {
    let (requests, mut incoming) = mpsc::channel(REQUEST_QUEUE);
    let mut rooms = Rooms::new(default_room, big_room);
    let task = tokio::spawn(async move {
        // One timer, armed while a window of gathered notices is open.
        let window = tokio::time::sleep(std::time::Duration::ZERO);
        tokio::pin!(window);
        let mut armed = None;
        loop {
            let due = rooms.next_window();
            if due != armed
                && let Some(due) = due
            {
                window.as_mut().reset(due.into());
            }
            armed = due;
            let request = tokio::select! {
                request = incoming.recv() => request,
                () = &mut window, if armed.is_some() => {
                    rooms.tick(Instant::now());
                    rooms.flush();
                    continue;
                }
            };
            let Some(request) = request else {
                break;
            };
            let now = Instant::now();
            rooms.tick(now);
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
