//! A member's outbound queue: the room manager pushes, the session drains.
//!
//! Fan-out is one push per member per batch of room lines, so this push is
//! the innermost loop of the server. tokio's mpsc did it with a semaphore
//! permit, a slot in a linked block list and a waker per message (a fifth of
//! the server's CPU at 1,000 clients), and allocated its first block of 32
//! slots for every connection, idle or not. This queue is a short critical
//! section around a `VecDeque` that holds nothing while drained, and it wakes
//! the session only when the session is waiting.
//!
//! It is bounded in lines, not in pushes: a [`Delivery::Run`] of 40 lines
//! shared by a room counts as 40 against the member's `outbound_queue`, so a
//! client that stops reading pins at most that many lines, as before. A
//! [`Delivery::Reply`], a command's answer to its asker alone, counts by its
//! size instead ([`REPLY_BYTES_PER_LINE`] bytes to a line, at least one): a
//! `/who` of 2,000 people in 200 lines counts as 4, so a long answer is not
//! what drops its asker, while a client that asks for listing after listing
//! and reads none still pins a bounded amount.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::render::{Message, Run};

/// What one push carries: a single line, or a run of lines that went to a
/// whole room in one batch (one `Arc` shared by every member of the room).
#[derive(Debug, Clone)]
pub enum Delivery {
    One(Arc<Message>),
    Run(Arc<Run>),
    /// A command's answer to one member (a `/who` listing), counted by its
    /// size, not its lines (see the module docs). Its builder bounds its
    /// size (`rooms/listing.rs`). Behind one pointer like the others, so a
    /// `Delivery` stays two words: every member's queue holds them, and a
    /// third word cost fan-out several percent (mailbox push and pop).
    Reply(Arc<Reply>),
}

/// The lines of a [`Delivery::Reply`] and what they count for.
#[derive(Debug)]
pub struct Reply {
    /// The answer's lines.
    run: Run,
    /// What it counts for against the queue's bound.
    weight: usize,
}

/// Bytes of a [`Delivery::Reply`] that count as one line against a
/// member's queue: about what the longest typed line takes (1,000
/// characters of up to 4 bytes), so a queue full of replies pins no more
/// than one full of chat lines.
pub const REPLY_BYTES_PER_LINE: usize = 4096;

impl Delivery {
    /// The lines in order.
    pub fn messages(&self) -> &[Arc<Message>] {
        match self {
            Delivery::One(message) => std::slice::from_ref(message),
            Delivery::Run(run) => run.messages(),
            Delivery::Reply(reply) => reply.run.messages(),
        }
    }

    /// The lines as a run, if more than one line can come in this delivery.
    pub fn run(&self) -> Option<&Run> {
        match self {
            Delivery::One(_) => None,
            Delivery::Run(run) => Some(run),
            Delivery::Reply(reply) => Some(&reply.run),
        }
    }

    /// How many lines this counts for against the queue's bound.
    pub fn len(&self) -> usize {
        match self {
            Delivery::One(_) => 1,
            Delivery::Run(run) => run.messages().len(),
            Delivery::Reply(reply) => reply.weight,
        }
    }

    /// An answer of `lines` holding about `bytes` of text.
    pub fn reply(lines: Vec<Arc<Message>>, bytes: usize) -> Delivery {
        Delivery::Reply(Arc::new(Reply {
            run: Run::new(lines),
            weight: 1 + bytes / REPLY_BYTES_PER_LINE,
        }))
    }
}

/// Why a push failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// The member has `outbound_queue` lines waiting: it is not reading.
    Full,
    /// The session has gone (its receiving end was dropped).
    Closed,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Delivery>,
    /// Lines in `queue`.
    lines: usize,
    /// The session, if it is waiting for a delivery.
    waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    capacity: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something ever did, the
        // state is still consistent (every update is a single field write).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The room manager's end.
#[derive(Debug)]
pub struct MailboxSender {
    shared: Arc<Shared>,
}

/// The session's end.
#[derive(Debug)]
pub struct Mailbox {
    shared: Arc<Shared>,
}

/// A queue bounded at `capacity` lines.
pub fn mailbox(capacity: usize) -> (MailboxSender, Mailbox) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        capacity,
    });
    (
        MailboxSender {
            shared: Arc::clone(&shared),
        },
        Mailbox { shared },
    )
}

impl MailboxSender {
    /// Queues `delivery` unless that would pass the bound or the session
    /// has gone. Never waits.
    pub fn push(&self, delivery: Delivery) -> Result<(), PushError> {
        let waker = {
            let mut state = self.shared.lock();
            if state.receiver_gone {
                return Err(PushError::Closed);
            }
            let lines = state.lines + delivery.len();
            if lines > self.shared.capacity {
                return Err(PushError::Full);
            }
            state.lines = lines;
            state.queue.push_back(delivery);
            state.waker.take()
        };
        // Woken outside the lock, so the session never finds it held.
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

impl Drop for MailboxSender {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.shared.lock();
            state.sender_gone = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Mailbox {
    /// The next delivery, if one is queued.
    pub fn try_recv(&mut self) -> Option<Delivery> {
        pop(&mut self.shared.lock())
    }

    /// The next delivery; `None` once the room manager has dropped its end
    /// and everything it queued has been taken.
    pub async fn recv(&mut self) -> Option<Delivery> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        let mut state = self.shared.lock();
        if let Some(delivery) = pop(&mut state) {
            return Poll::Ready(Some(delivery));
        }
        if state.sender_gone {
            return Poll::Ready(None);
        }
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_gone = true;
        // The lines are shared with other members; let them go now rather
        // than when the manager drops the member.
        state.queue = VecDeque::new();
        state.lines = 0;
        state.waker = None;
    }
}

fn pop(state: &mut State) -> Option<Delivery> {
    let delivery = state.queue.pop_front()?;
    state.lines -= delivery.len();
    if state.queue.is_empty() && state.queue.capacity() > 8 {
        // A burst is over: an idle member keeps no queue storage.
        state.queue = VecDeque::new();
    }
    Some(delivery)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;
    use crate::render::{LineBuilder, Tone};

    fn line(text: &str) -> Arc<Message> {
        LineBuilder::new(Tone::Plain).text(text).finish()
    }

    fn run(n: usize) -> Delivery {
        Delivery::Run(Arc::new(Run::new(
            (0..n).map(|i| line(&i.to_string())).collect(),
        )))
    }

    #[derive(Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_bound_counts_lines_not_pushes() {
        let (tx, mut rx) = mailbox(10);
        assert_eq!(tx.push(run(6)), Ok(()));
        assert_eq!(tx.push(run(5)), Err(PushError::Full));
        assert_eq!(tx.push(run(4)), Ok(()));
        assert_eq!(tx.push(Delivery::One(line("x"))), Err(PushError::Full));
        assert_eq!(rx.try_recv().map(|d| d.len()), Some(6));
        assert_eq!(tx.push(run(6)), Ok(()));
        assert_eq!(rx.try_recv().map(|d| d.len()), Some(4));
        assert_eq!(rx.try_recv().map(|d| d.len()), Some(6));
        assert!(rx.try_recv().is_none());
    }

    #[test]
    fn a_delivery_is_two_words() {
        assert_eq!(std::mem::size_of::<Delivery>(), 16);
    }

    #[test]
    fn a_reply_counts_by_its_size_not_its_lines() {
        let (tx, mut rx) = mailbox(8);
        // 500 short lines: 3,000 bytes, one line's worth.
        let short = || Delivery::reply((0..500).map(|_| line("x")).collect(), 3000);
        assert_eq!(short().len(), 1);
        assert_eq!(tx.push(run(6)), Ok(()));
        assert_eq!(tx.push(short()), Ok(()));
        assert_eq!(tx.push(short()), Ok(()));
        assert_eq!(tx.push(short()), Err(PushError::Full));
        assert_eq!(rx.try_recv().map(|d| d.len()), Some(6));
        assert_eq!(rx.try_recv().map(|d| d.messages().len()), Some(500));
        // 64 KiB of answer counts as 17 lines.
        let long = Delivery::reply(vec![line("x")], 64 * 1024);
        assert_eq!(long.len(), 17);
    }

    #[test]
    fn lines_come_out_in_order() {
        let (tx, mut rx) = mailbox(100);
        tx.push(Delivery::One(line("a"))).unwrap();
        tx.push(Delivery::Run(Arc::new(Run::new(vec![
            line("b"),
            line("c"),
        ]))))
        .unwrap();
        let mut seen = Vec::new();
        while let Some(delivery) = rx.try_recv() {
            for message in delivery.messages() {
                seen.push(
                    String::from_utf8_lossy(message.render(crate::render::Class::PLAIN))
                        .into_owned(),
                );
            }
        }
        assert_eq!(seen, ["a\r\n", "b\r\n", "c\r\n"]);
    }

    #[test]
    fn a_push_wakes_a_waiting_session_once() {
        let (tx, mut rx) = mailbox(100);
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending());
        tx.push(Delivery::One(line("a"))).unwrap();
        tx.push(Delivery::One(line("b"))).unwrap();
        // The session was woken by the first push; the second finds it
        // already on its way and costs no wake.
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(Some(_))));
        assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(Some(_))));
        assert!(rx.poll_recv(&mut cx).is_pending());
        drop(tx);
        assert_eq!(counter.0.load(Ordering::SeqCst), 2);
        assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(None)));
    }

    #[test]
    fn what_was_queued_is_read_before_the_end() {
        let (tx, mut rx) = mailbox(100);
        tx.push(Delivery::One(line("last words"))).unwrap();
        drop(tx);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(Some(_))));
        assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(None)));
    }

    #[test]
    fn a_push_to_a_gone_session_fails_and_holds_nothing() {
        let (tx, rx) = mailbox(100);
        let message = line("a");
        tx.push(Delivery::One(Arc::clone(&message))).unwrap();
        assert_eq!(Arc::strong_count(&message), 2);
        drop(rx);
        assert_eq!(Arc::strong_count(&message), 1);
        assert_eq!(tx.push(Delivery::One(message)), Err(PushError::Closed));
    }

    #[test]
    fn a_drained_queue_gives_back_its_storage() {
        let (tx, mut rx) = mailbox(1000);
        for _ in 0..100 {
            tx.push(Delivery::One(line("a"))).unwrap();
        }
        while rx.try_recv().is_some() {}
        assert_eq!(tx.shared.lock().queue.capacity(), 0);
    }
}
