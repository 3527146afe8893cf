//! The two character sets tavern speaks on the wire, and the one place text is
//! encoded into them.
//!
//! Inside tavern all text is UTF-8. A client that agreed to UTF-8 (CHARSET,
//! RFC 2066) or declared it (MTTS) gets it as is. A client that refused both
//! gets ISO-8859-1 (Latin-1): every character Latin-1 has is sent as its one
//! byte, and every other character as `?`, so the reader sees that something
//! was there rather than a mojibake sequence. In Latin-1 the byte 255 (`ÿ`) is
//! IAC, so it is doubled on the way out: text can never be read as a telnet
//! command. UTF-8 never contains the byte 255 and needs no escaping.

use bytes::{BufMut, BytesMut};
use nectar::constants::IAC;

/// A wire character set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Charset {
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "latin-1")]
    Latin1,
}

/// What a character outside Latin-1 becomes on a Latin-1 client's screen.
const REPLACEMENT: u8 = b'?';

impl Charset {
    /// The charset a CHARSET (RFC 2066) name stands for, if tavern speaks it.
    /// Names are IANA names and their common aliases, matched without regard
    /// to case.
    pub fn from_name(name: &str) -> Option<Charset> {
        let name = name.trim().to_ascii_uppercase();
        match name.as_str() {
            "UTF-8" | "UTF8" => Some(Charset::Utf8),
            "ISO-8859-1" | "ISO_8859-1" | "ISO8859-1" | "ISO_8859-1:1987" | "LATIN1"
            | "LATIN-1" | "L1" | "IBM819" | "CP819" => Some(Charset::Latin1),
            _ => None,
        }
    }

    /// The IANA name, as tavern offers it in a CHARSET REQUEST.
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "UTF-8",
            Charset::Latin1 => "ISO-8859-1",
        }
    }

    /// Appends `text` in this charset, IAC escaped.
    pub fn encode(self, text: &str, out: &mut BytesMut) {
        match self {
            Charset::Utf8 => out.put_slice(text.as_bytes()),
            Charset::Latin1 => {
                out.reserve(text.len());
                for c in text.chars() {
                    push_latin1(c, out);
                }
            }
        }
    }

    /// Appends one character in this charset, IAC escaped.
    pub fn encode_char(self, c: char, out: &mut BytesMut) {
        match self {
            Charset::Utf8 => {
                let mut utf8 = [0u8; 4];
                out.put_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
            Charset::Latin1 => push_latin1(c, out),
        }
    }

    /// Re-encodes UTF-8 bytes that tavern rendered (lines from the room
    /// manager) for this charset. Invalid UTF-8 cannot occur there; were it to,
    /// each bad byte becomes the replacement, never a raw byte.
    pub fn encode_bytes(self, utf8: &[u8], out: &mut BytesMut) {
        match self {
            Charset::Utf8 => out.put_slice(utf8),
            Charset::Latin1 => {
                for chunk in utf8.utf8_chunks() {
                    self.encode(chunk.valid(), out);
                    if !chunk.invalid().is_empty() {
                        out.put_u8(REPLACEMENT);
                    }
                }
            }
        }
    }
}

fn push_latin1(c: char, out: &mut BytesMut) {
    match u8::try_from(u32::from(c)) {
        Ok(IAC) => out.put_slice(&[IAC, IAC]),
        Ok(byte) => out.put_u8(byte),
        Err(_) => out.put_u8(REPLACEMENT),
    }
}

impl std::fmt::Display for Charset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latin1(text: &str) -> Vec<u8> {
        let mut out = BytesMut::new();
        Charset::Latin1.encode(text, &mut out);
        out.to_vec()
    }

    #[test]
    fn latin1_keeps_its_own_characters_and_replaces_the_rest_visibly() {
        assert_eq!(latin1("café"), b"caf\xe9");
        assert_eq!(latin1("a你b"), b"a?b");
        assert_eq!(latin1("€"), b"?", "the euro sign is not in ISO-8859-1");
        assert_eq!(latin1("👍🏽"), b"??", "one replacement per character");
    }

    #[test]
    fn latin1_y_diaeresis_is_doubled_so_it_is_not_iac() {
        assert_eq!(latin1("ÿes"), b"\xff\xffes");
        let mut out = BytesMut::new();
        Charset::Latin1.encode_char('ÿ', &mut out);
        assert_eq!(&out[..], b"\xff\xff");
    }

    #[test]
    fn utf8_passes_through() {
        let mut out = BytesMut::new();
        Charset::Utf8.encode("a你ÿ", &mut out);
        assert_eq!(&out[..], "a你ÿ".as_bytes());
    }

    #[test]
    fn rendered_bytes_are_re_encoded_with_escapes_kept() {
        let mut out = BytesMut::new();
        Charset::Latin1.encode_bytes("\x1b[32mJosé 你\x1b[0m\r\n".as_bytes(), &mut out);
        assert_eq!(&out[..], b"\x1b[32mJos\xe9 ?\x1b[0m\r\n");
        out.clear();
        Charset::Latin1.encode_bytes(b"a\xffb", &mut out);
        assert_eq!(&out[..], b"a?b", "a stray byte never reaches the wire raw");
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(Charset::from_name("utf-8"), Some(Charset::Utf8));
        assert_eq!(Charset::from_name(" UTF8 "), Some(Charset::Utf8));
        assert_eq!(Charset::from_name("iso-8859-1"), Some(Charset::Latin1));
        assert_eq!(Charset::from_name("Latin1"), Some(Charset::Latin1));
        assert_eq!(Charset::from_name("KOI8-R"), None);
    }
}
