//! What a connection has yet to write: a queue of byte segments, written
//! with one vectored write (`writev`) per turn.
//!
//! Fan-out gives every recipient in a capability class the same bytes (a
//! room's run of lines, rendered once). Copying them into a buffer of each
//! recipient's own cost an allocation and a copy per recipient per burst;
//! queued here as shared [`Bytes`] they cost a reference count. Bytes a
//! connection makes for itself (negotiation, the line editor's redraws,
//! wrapped or Latin-1 or compressed text) come in as segments of their own,
//! in order.
//!
//! The queue's storage is kept between bursts, so a connection allocates
//! nothing to queue a room's lines once it has had a few. That storage is
//! small (four segments, 128 bytes; measured at 0.2 kB of RSS per idle
//! connection at 10,000), and a queue that grew past `KEEP_SEGMENTS` in a
//! burst gives its storage back once drained.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use tokio::io::AsyncWrite;

/// Segments handed to one `writev`. Linux takes up to 1,024; a burst rarely
/// has more than a handful, and the slices are built on the stack.
const MAX_SLICES: usize = 64;

/// Storage kept for this many segments once the queue drains (32 bytes
/// each); more than that was a burst, and is given back.
const KEEP_SEGMENTS: usize = 4;

/// Bytes waiting for the socket, in order. See the module docs.
#[derive(Debug, Default)]
pub struct Outgoing {
    segments: VecDeque<Bytes>,
    /// Bytes in `segments`.
    len: usize,
}

impl Outgoing {
    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Segments waiting (each one an entry in a `writev`).
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    /// Queues `bytes` after what is there; empty segments are dropped.
    pub fn push(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        self.len += bytes.len();
        self.segments.push_back(bytes);
    }

    /// Writes as much as the socket takes in one vectored write. `Ok(0)`
    /// means the peer is gone (nothing is written when the queue is empty,
    /// so callers check [`Outgoing::is_empty`] first).
    pub fn poll_write<W: AsyncWrite + Unpin>(
        &mut self,
        writer: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let mut count = 0;
        for (slot, segment) in slices.iter_mut().zip(&self.segments) {
            *slot = IoSlice::new(segment);
            count += 1;
        }
        // One segment (a line to one member, most of the time at a steady
        // rate): a plain write, which costs the kernel less than a writev
        // of one (no iovec to import).
        let written = if count == 1 {
            ready!(Pin::new(writer).poll_write(cx, &slices[0]))?
        } else {
            ready!(Pin::new(writer).poll_write_vectored(cx, &slices[..count]))?
        };
        self.advance(written);
        Poll::Ready(Ok(written))
    }

    /// One vectored write; see [`Outgoing::poll_write`].
    pub async fn write_to<W: AsyncWrite + Unpin>(&mut self, writer: &mut W) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(writer, cx)).await
    }

    /// Drops `written` bytes from the front.
    fn advance(&mut self, mut written: usize) {
        self.len -= written.min(self.len);
        while written > 0 {
            let Some(front) = self.segments.front_mut() else {
                break;
            };
            if written < front.len() {
                front.advance(written);
                break;
            }
            written -= front.len();
            self.segments.pop_front();
        }
        if self.segments.is_empty() && self.segments.capacity() > KEEP_SEGMENTS {
            self.segments = VecDeque::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `limit` bytes a call and records them,
    /// with how many slices each call was given.
    struct Partial {
        limit: usize,
        written: Vec<u8>,
        calls: Vec<usize>,
        /// Calls made through `poll_write`, not `poll_write_vectored`.
        plain: usize,
    }

    impl AsyncWrite for Partial {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.plain += 1;
            self.poll_write_vectored(cx, &[IoSlice::new(buf)])
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.calls.push(bufs.len());
            let mut taken = 0;
            for buf in bufs {
                let take = buf.len().min(self.limit - taken);
                self.written.extend_from_slice(&buf[..take]);
                taken += take;
                if taken == self.limit {
                    break;
                }
            }
            Poll::Ready(Ok(taken))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn drain(outgoing: &mut Outgoing, limit: usize) -> Partial {
        let mut writer = Partial {
            limit,
            written: Vec::new(),
            calls: Vec::new(),
            plain: 0,
        };
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        for _ in 0..10_000 {
            if outgoing.is_empty() {
                break;
            }
            match outgoing.poll_write(&mut writer, &mut cx) {
                Poll::Ready(Ok(n)) => assert!(n > 0),
                other => panic!("unexpected {other:?}"),
            }
        }
        writer
    }

    #[test]
    fn partial_writes_keep_order_across_segments() {
        let mut outgoing = Outgoing::default();
        let shared = Bytes::from_static(b"bob: hi\r\nann: yo\r\n");
        outgoing.push(Bytes::from_static(b"\r\x1b[J"));
        outgoing.push(shared.clone());
        outgoing.push(Bytes::new());
        outgoing.push(Bytes::from_static(b"> half"));
        assert_eq!(outgoing.len(), 4 + 18 + 6);
        assert_eq!(outgoing.segments(), 3);
        let writer = drain(&mut outgoing, 5);
        assert_eq!(writer.written, b"\r\x1b[Jbob: hi\r\nann: yo\r\n> half");
        assert!(outgoing.is_empty());
        assert_eq!(outgoing.segments(), 0);
        // The shared bytes were not consumed for anyone else.
        assert_eq!(&shared[..], b"bob: hi\r\nann: yo\r\n");
    }

    #[test]
    fn one_write_takes_every_segment() {
        let mut outgoing = Outgoing::default();
        for i in 0..5u8 {
            outgoing.push(Bytes::from(vec![b'a' + i; 3]));
        }
        let writer = drain(&mut outgoing, usize::MAX);
        assert_eq!(writer.calls, vec![5]);
        assert_eq!(writer.written, b"aaabbbcccdddeee");
    }

    #[test]
    fn more_segments_than_one_write_takes_go_out_in_several() {
        let mut outgoing = Outgoing::default();
        for i in 0..(MAX_SLICES + 10) {
            outgoing.push(Bytes::from(i.to_string()));
        }
        let expected: String = (0..(MAX_SLICES + 10)).map(|i| i.to_string()).collect();
        let writer = drain(&mut outgoing, usize::MAX);
        assert_eq!(writer.calls, vec![MAX_SLICES, 10]);
        assert_eq!(writer.written, expected.as_bytes());
    }

    #[test]
    fn storage_is_kept_for_small_bursts_and_given_back_after_big_ones() {
        let mut outgoing = Outgoing::default();
        outgoing.push(Bytes::from_static(b"one"));
        outgoing.push(Bytes::from_static(b"two"));
        drain(&mut outgoing, usize::MAX);
        let kept = outgoing.segments.capacity();
        assert!(kept > 0 && kept <= KEEP_SEGMENTS, "kept {kept}");
        for _ in 0..100 {
            outgoing.push(Bytes::from_static(b"x"));
        }
        drain(&mut outgoing, usize::MAX);
        assert_eq!(outgoing.segments.capacity(), 0);
    }

    #[test]
    fn a_segment_is_shared_not_copied() {
        // The queue holds the same allocation the caller pushed.
        let shared = Bytes::from(vec![7u8; 100]);
        let mut outgoing = Outgoing::default();
        outgoing.push(shared.clone());
        assert_eq!(
            outgoing.segments.front().map(|b| b.as_ptr()),
            Some(shared.as_ptr())
        );
    }

    #[test]
    fn one_segment_is_a_plain_write_and_several_one_writev() {
        let mut outgoing = Outgoing::default();
        outgoing.push(Bytes::from_static(b"one line\r\n"));
        let writer = drain(&mut outgoing, 1024);
        assert_eq!((writer.plain, writer.calls.len()), (1, 1));
        outgoing.push(Bytes::from_static(b"a\r\n"));
        outgoing.push(Bytes::from_static(b"b\r\n"));
        let writer = drain(&mut outgoing, 1024);
        assert_eq!((writer.plain, writer.calls.as_slice()), (0, &[2][..]));
        assert_eq!(writer.written, b"a\r\nb\r\n");
    }
}
