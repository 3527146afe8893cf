//! The only Tokio-facing part of the telnet layer: a `tokio_util` codec that
//! hands reads to [`Telnet`] and yields its events, and [`TelnetInput`], the
//! reader the server uses. Everything they do is a call into the sans-IO
//! core; they add no behaviour of their own.

use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::tcp::OwnedReadHalf;
use tokio_util::codec::{Decoder, Encoder};

use super::{Event, Telnet, encode_text};

/// Decodes a client's bytes into [`Event`]s and encodes text for the wire.
#[derive(Debug)]
pub struct TelnetCodec {
    telnet: Telnet,
}

impl TelnetCodec {
    pub fn new(telnet: Telnet) -> TelnetCodec {
        TelnetCodec { telnet }
    }

    /// The protocol state, to make requests and collect what they transmit.
    pub fn telnet(&mut self) -> &mut Telnet {
        &mut self.telnet
    }
}

impl Decoder for TelnetCodec {
    type Item = Event;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Event>, Self::Error> {
        if !src.is_empty() {
            self.telnet.handle_input(src);
            src.advance(src.len());
        }
        Ok(self.telnet.poll_event())
    }
}

impl Encoder<&str> for TelnetCodec {
    type Error = std::io::Error;

    fn encode(&mut self, text: &str, dst: &mut BytesMut) -> Result<(), Self::Error> {
        encode_text(text.as_bytes(), dst);
        Ok(())
    }
}

/// A connection's input as telnet events: reads into a buffer on the stack
/// when the socket has something, and hands the bytes to the codec at once.
///
/// Not `FramedRead`: that keeps a read buffer (512 bytes here, 8 KB by
/// default) for the life of every connection, though [`Telnet`] consumes
/// every read whole and keeps what it needs itself. With 10,000 idle
/// connections the buffers were an eighth of the server's memory. And its
/// future is a `poll_fn` over a reference: waiting costs the session's task
/// no waiter node.
#[derive(Debug)]
pub struct TelnetInput {
    read: OwnedReadHalf,
    codec: TelnetCodec,
    eof: bool,
}

/// Bytes taken from the socket at once, on the stack of a synchronous poll.
const READ_CHUNK: usize = 8192;

impl TelnetInput {
    pub fn new(read: OwnedReadHalf, codec: TelnetCodec) -> TelnetInput {
        TelnetInput {
            read,
            codec,
            eof: false,
        }
    }

    pub fn decoder_mut(&mut self) -> &mut TelnetCodec {
        &mut self.codec
    }

    /// Whether events from a read are still waiting to be taken: the
    /// session draws the line being typed once they are all handled.
    pub fn has_events(&self) -> bool {
        !self.codec.telnet.events.is_empty()
    }

    /// The socket, for the goodbye's last reads.
    pub fn get_mut(&mut self) -> &mut OwnedReadHalf {
        &mut self.read
    }

    /// The next event; `None` once the client has closed and every event
    /// is taken. Cancel-safe: bytes read are in the codec before it returns.
    pub async fn next(&mut self) -> Option<io::Result<Event>> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Event>>> {
        loop {
            if let Some(event) = self.codec.telnet.poll_event() {
                return Poll::Ready(Some(Ok(event)));
            }
            if self.eof {
                return Poll::Ready(None);
            }
            let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut buf = ReadBuf::uninit(&mut chunk);
            match Pin::new(&mut self.read).poll_read(cx, &mut buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(Ok(())) if buf.filled().is_empty() => self.eof = true,
                Poll::Ready(Ok(())) => self.codec.telnet.handle_input(buf.filled()),
            }
        }
    }
}
