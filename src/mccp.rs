//! MCCP2 (MUD Client Compression Protocol v2): the server's output to one
//! client as a zlib stream, sans-IO.
//!
//! The session starts a [`Compressor`] right after writing `IAC SB MCCP2 IAC
//! SE` (everything after that marker is compressed) and passes every later
//! byte through [`Compressor::compress`]. Each call ends with a sync flush, so
//! a chat line is on the wire when it is written, never held back in the
//! compressor waiting for more. When the client says `IAC DONT MCCP2`,
//! [`Compressor::finish`] ends the stream (the client sees the zlib end and
//! reads plain bytes again). The compression itself is flate2's; tavern only
//! frames it.

use bytes::{BufMut, BytesMut};
use flate2::{Compress, Compression, FlushCompress, Status};

/// The MCCP2 telnet option (COMPRESS2, 86).
pub use nectar::constants::MCCP2;

/// One client's compression stream. See the module docs.
pub struct Compressor {
    stream: Compress,
    /// Output of one call, before it is appended to the caller's buffer.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("total_in", &self.stream.total_in())
            .field("total_out", &self.stream.total_out())
            .finish()
    }
}

impl Default for Compressor {
    fn default() -> Self {
        Compressor::new()
    }
}

impl Compressor {
    /// A zlib stream (MCCP2 uses zlib framing, header and all) at the default
    /// level: chat lines are short, and the higher levels buy almost nothing
    /// on them.
    pub fn new() -> Compressor {
        Compressor {
            stream: Compress::new(Compression::default(), true),
            scratch: Vec::new(),
        }
    }

    /// Compresses `input` and sync-flushes, appending to `out`.
    pub fn compress(&mut self, input: &[u8], out: &mut BytesMut) {
        self.run(input, FlushCompress::Sync, out);
    }

    /// Ends the stream (zlib trailer), appending to `out`.
    pub fn finish(mut self, out: &mut BytesMut) {
        self.run(&[], FlushCompress::Finish, out);
    }

    /// Bytes given and bytes produced so far, for `/client` and the logs.
    pub fn totals(&self) -> (u64, u64) {
        (self.stream.total_in(), self.stream.total_out())
    }

    fn run(&mut self, mut input: &[u8], flush: FlushCompress, out: &mut BytesMut) {
        // Each round either consumes input or fills the scratch space; the
        // bound only guards against a compressor that does neither.
        for _ in 0..1024 {
            self.scratch.clear();
            self.scratch.reserve(input.len() / 2 + 64);
            let before = self.stream.total_in();
            let status = self.stream.compress_vec(input, &mut self.scratch, flush);
            let consumed = usize::try_from(self.stream.total_in() - before).unwrap_or(input.len());
            input = &input[consumed.min(input.len())..];
            out.put_slice(&self.scratch);
            let full = self.scratch.len() == self.scratch.capacity();
            match status {
                Ok(Status::StreamEnd) => return,
                Ok(Status::Ok | Status::BufError) if input.is_empty() && !full => {
                    if flush != FlushCompress::Finish {
                        return;
                    }
                }
                Ok(_) => {}
                // A compressor error cannot come from input bytes; the
                // stream is unusable, and the client will see it end.
                Err(_) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    fn inflate(stream: &mut Decompress, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len() * 8 + 1024);
        let mut input = input;
        loop {
            let before = stream.total_in();
            let status = stream
                .decompress_vec(input, &mut out, FlushDecompress::Sync)
                .expect("valid zlib");
            let consumed = (stream.total_in() - before) as usize;
            input = &input[consumed..];
            if input.is_empty() || status == flate2::Status::StreamEnd {
                return out;
            }
            out.reserve(4096);
        }
    }

    #[test]
    fn every_chunk_is_readable_as_soon_as_it_is_flushed() {
        let mut compressor = Compressor::new();
        let mut reader = Decompress::new(true);
        for line in ["ann: hello\r\n", "bob: hi there\r\n", "ann: hello\r\n"] {
            let mut out = BytesMut::new();
            compressor.compress(line.as_bytes(), &mut out);
            assert_eq!(inflate(&mut reader, &out), line.as_bytes());
        }
    }

    #[test]
    fn a_large_burst_round_trips() {
        let text: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut compressor = Compressor::new();
        let mut out = BytesMut::new();
        compressor.compress(&text, &mut out);
        let mut reader = Decompress::new(true);
        assert_eq!(inflate(&mut reader, &out), text);
        assert_eq!(compressor.totals().0, text.len() as u64);
    }

    #[test]
    fn finish_ends_the_stream() {
        let mut compressor = Compressor::new();
        let mut out = BytesMut::new();
        compressor.compress(b"last words\r\n", &mut out);
        compressor.finish(&mut out);
        let mut reader = Decompress::new(true);
        let mut plain = Vec::with_capacity(1024);
        let status = reader
            .decompress_vec(&out, &mut plain, FlushDecompress::Finish)
            .expect("valid zlib");
        assert_eq!(status, flate2::Status::StreamEnd);
        assert_eq!(plain, b"last words\r\n");
        assert_eq!(
            reader.total_in() as usize,
            out.len(),
            "nothing after the end"
        );
    }
}
