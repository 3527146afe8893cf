//! The only Tokio-facing part of the telnet layer: a `tokio_util` codec that
//! hands reads to [`Telnet`] and yields its events. Everything it does is a
//! call into the sans-IO core; it adds no behaviour of its own.

use bytes::{Buf, BytesMut};
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
