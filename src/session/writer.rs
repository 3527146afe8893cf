//! One connection's way out: the bytes the session makes (`pending`), MCCP2
//! compression, the segments the socket has yet to take ([`Outgoing`]), and
//! the write budget past which the session takes no more work.
//!
//! `pending` holds bytes made for this client alone (echo, negotiation,
//! wrapped or Latin-1 lines), as they go on the wire before compression.
//! Lines shared with other recipients go into `outgoing` as the shared bytes
//! themselves, unless they must pass through this client's compressor, so a
//! recipient under load neither copies nor allocates for them.

use bytes::{BufMut, Bytes, BytesMut};
use nectar::constants::{IAC, SB, SE};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tracing::debug;

use crate::mccp::{Compressor, MCCP2};
use crate::outgoing::Outgoing;
use crate::telnet::Telnet;

/// Bytes waiting to be written (this client's own in `pending` and shared
/// ones in `outgoing`, together) past which the session stops taking more
/// work (input and queued lines) until the client reads; the room manager's
/// queue then fills and it drops the client.
const MAX_PENDING_WRITE: usize = 256 * 1024;

/// Segments waiting to be written past which the session takes no more
/// work either: a client whose GMCP or per-line rendering gives many small
/// segments gets them in a few `writev`s, not in hundreds.
const MAX_SEGMENTS: usize = 256;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Writer {
    output: OwnedWriteHalf,
    /// Output this session made, in wire form (charset, IAC escapes),
    /// before compression.
    pending: BytesMut,
    /// What the socket has yet to take (compressed, with MCCP2); drained by
    /// partial vectored writes so the loop never blocks.
    outgoing: Outgoing,
    /// MCCP2, once the client agreed.
    compressor: Option<Box<Compressor>>,
}

impl Writer {
    pub(crate) fn new(output: OwnedWriteHalf) -> Writer {
        Writer {
            output,
            pending: BytesMut::new(),
            outgoing: Outgoing::default(),
            compressor: None,
        }
    }

    /// Where the session puts bytes of this client's own.
    pub(crate) fn pending(&mut self) -> &mut BytesMut {
        &mut self.pending
    }

    /// Takes the telnet state's negotiation bytes into `pending`.
    pub(crate) fn take_transmit(&mut self, telnet: &mut Telnet) {
        while let Some(bytes) = telnet.poll_transmit() {
            self.pending.extend_from_slice(&bytes);
        }
    }

    /// Whether the session may take more work (input, queued lines): every
    /// byte queued for this client and not yet taken by the socket (its own
    /// in `pending`, shared ones in `outgoing`) is under budget. Asked
    /// before each event, so the most it can go past is one event's output
    /// (see RELIABILITY.md, "bytes waiting to be written").
    /// The same test decides how many queued lines one turn takes.
    pub(crate) fn can_take_work(&self) -> bool {
        self.has_byte_room() && self.outgoing.segments() < MAX_SEGMENTS
    }

    /// Whether more bytes fit, counting only bytes: the last lines before
    /// a goodbye, which is written out whatever its segments.
    pub(crate) fn has_byte_room(&self) -> bool {
        self.pending.len() + self.outgoing.len() < MAX_PENDING_WRITE
    }

    /// Whether the socket has something to take.
    pub(crate) fn has_output(&self) -> bool {
        !self.outgoing.is_empty()
    }

    /// Whether lines must be copied through `pending` (compression) rather
    /// than queued shared.
    pub(crate) fn is_compressing(&self) -> bool {
        self.compressor.is_some()
    }

    /// Bytes in and out of the compressor so far, if compressing.
    pub(crate) fn compression_totals(&self) -> Option<(u64, u64)> {
        self.compressor
            .as_ref()
            .map(|compressor| compressor.totals())
    }

    /// Moves `pending` to `outgoing`, through the compressor when MCCP2 is on.
    pub(crate) fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        match &mut self.compressor {
            Some(compressor) => {
                let mut compressed = BytesMut::new();
                compressor.compress(&self.pending, &mut compressed);
                self.pending.clear();
                self.outgoing.push(compressed.freeze());
            }
            // Copied out at their size, and `pending` kept for the rest of
            // the burst: handing the buffer itself over would cost a new
            // one each time, and a shared-ownership header besides.
            None => {
                self.outgoing.push(Bytes::copy_from_slice(&self.pending));
                self.pending.clear();
            }
        }
    }

    /// Queues bytes shared with other recipients: as they are, unless they
    /// must pass through this client's compressor.
    pub(crate) fn put_shared(&mut self, bytes: &Bytes) {
        if self.compressor.is_some() {
            self.pending.put_slice(bytes);
            return;
        }
        // What this session wrote before them goes first.
        self.flush_pending();
        self.outgoing.push(bytes.clone());
    }

    /// Everything written so far goes plain, then `IAC SB MCCP2 IAC SE`, and
    /// everything after it compressed. The caller takes the telnet state's
    /// bytes first: they were made before compression starts.
    pub(crate) fn start_compression(&mut self) {
        if self.compressor.is_some() {
            return;
        }
        self.pending.put_slice(&[IAC, SB, MCCP2, IAC, SE]);
        self.flush_pending();
        self.compressor = Some(Box::new(Compressor::new()));
        debug!("MCCP2 compression on");
    }

    /// Ends the zlib stream, if there is one, so the client sees a clean
    /// end (on `DONT MCCP2`, or before closing); then goes on plain.
    pub(crate) fn end_compression(&mut self) {
        self.flush_pending();
        if let Some(compressor) = self.compressor.take() {
            let mut end = BytesMut::new();
            compressor.finish(&mut end);
            self.outgoing.push(end.freeze());
            debug!("MCCP2 compression off");
        }
    }

    /// Writes what it can of `outgoing` without blocking the caller's loop
    /// for more than one write; `Ok(0)` is a closed connection.
    pub(crate) async fn write(&mut self) -> std::io::Result<usize> {
        let written = self.outgoing.write_to(&mut self.output).await;
        if self.outgoing.is_empty() {
            // Written out: an idle connection keeps no buffer (the
            // sign-on's banner and join notices would otherwise leave
            // kilobytes on every connection).
            self.pending = BytesMut::new();
        }
        written
    }

    /// Writes everything queued, then shuts the write side. The caller
    /// bounds how long this may take.
    pub(crate) async fn write_all_and_shutdown(&mut self) {
        self.flush_pending();
        while !self.outgoing.is_empty() {
            if self.outgoing.write_to(&mut self.output).await.unwrap_or(0) == 0 {
                break;
            }
        }
        let _ = self.output.shutdown().await;
    }
}
