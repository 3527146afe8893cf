//! The character sets tavern speaks on the wire, the one place text is
//! encoded into them and 8-bit bytes are decoded from them, and the CHARSET
//! option's subnegotiation (RFC 2066) that agrees on one. Sans-IO.
//!
//! Inside tavern all text is UTF-8. A client that agreed to UTF-8 (CHARSET,
//! RFC 2066) or declared it (MTTS) gets it as is. A client that refused both
//! gets ISO-8859-1 (Latin-1): every character Latin-1 has is sent as its one
//! byte, and every other character as `?`, so the reader sees that something
//! was there rather than a mojibake sequence. In Latin-1 the byte 255 (`ÿ`) is
//! IAC, so it is doubled on the way out: text can never be read as a telnet
//! command. UTF-8 never contains the byte 255 and needs no escaping.
//!
//! Reading, the two 8-bit charsets are one: a byte from 0x80 to 0x9F is read
//! as Windows-1252 ([`decode_8bit`]), since that is what 8-bit clients send
//! (`Ÿ` is 0x9F, `ž` 0x9E, `“` 0x93), and a C1 control typed as text would be
//! removed anyway. The five bytes Windows-1252 leaves undefined (81 8D 8F 90
//! 9D) become U+FFFD, visibly, so no byte vanishes and none cuts the line.
//!
//! Writing, they differ: a terminal that really is ISO-8859-1 (xterm or the
//! Linux console in a Latin-1 locale) obeys the bytes 0x80 to 0x9F as C1
//! controls (0x9B is CSI, 0x85 a new line, 0x9F starts a string that hides
//! what follows), so sending Windows-1252's `›` or `…` there would let users
//! write escape sequences. [`Charset::Latin1`] therefore sends only true
//! Latin-1 and `?` for the rest; [`Charset::Windows1252`], for a client that
//! showed it is one (it typed such a byte, or named the charset), also sends
//! `€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ` as their bytes.

use bytes::{BufMut, BytesMut};
use nectar::constants::{CHARSET_ACCEPTED, CHARSET_REJECTED, CHARSET_REQUEST, IAC};

/// A wire character set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Charset {
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "latin-1")]
    Latin1,
    /// Latin-1 with Windows' printable characters in 0x80 to 0x9F.
    #[serde(rename = "windows-1252")]
    Windows1252,
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
            "WINDOWS-1252" | "CP1252" | "WIN-1252" | "X-CP1252" => Some(Charset::Windows1252),
            _ => None,
        }
    }

    /// The IANA name, as tavern offers it in a CHARSET REQUEST.
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "UTF-8",
            Charset::Latin1 => "ISO-8859-1",
            Charset::Windows1252 => "WINDOWS-1252",
        }
    }

    /// One byte per character: a client in this charset types bytes that
    /// [`decode_8bit`] reads, each on its own.
    pub fn is_8bit(self) -> bool {
        self != Charset::Utf8
    }

    /// Appends `text` in this charset, IAC escaped.
    pub fn encode(self, text: &str, out: &mut BytesMut) {
        match self {
            Charset::Utf8 => out.put_slice(text.as_bytes()),
            Charset::Latin1 | Charset::Windows1252 => {
                out.reserve(text.len());
                for c in text.chars() {
                    self.push_8bit(c, out);
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
            Charset::Latin1 | Charset::Windows1252 => self.push_8bit(c, out),
        }
    }

    /// Re-encodes UTF-8 bytes that tavern rendered (lines from the room
    /// manager) for this charset. Invalid UTF-8 cannot occur there; were it to,
    /// each bad byte becomes the replacement, never a raw byte.
    pub fn encode_bytes(self, utf8: &[u8], out: &mut BytesMut) {
        match self {
            Charset::Utf8 => out.put_slice(utf8),
            Charset::Latin1 | Charset::Windows1252 => {
                for chunk in utf8.utf8_chunks() {
                    self.encode(chunk.valid(), out);
                    if !chunk.invalid().is_empty() {
                        out.put_u8(REPLACEMENT);
                    }
                }
            }
        }
    }

    /// One character of an 8-bit charset, `?` if it has none, IAC doubled.
    fn push_8bit(self, c: char, out: &mut BytesMut) {
        let byte = match u8::try_from(u32::from(c)) {
            // C1 controls never reach here from users (sanitize removes
            // them); were one to, a terminal must not obey it.
            Ok(0x80..=0x9F) => None,
            Ok(byte) => Some(byte),
            Err(_) if self == Charset::Windows1252 => encode_windows_1252(c),
            Err(_) => None,
        };
        match byte {
            Some(IAC) => out.put_slice(&[IAC, IAC]),
            Some(byte) => out.put_u8(byte),
            None => out.put_u8(REPLACEMENT),
        }
    }
}

/// Windows-1252's characters for the bytes 0x80 to 0x9F, in order; U+FFFD
/// for the five it leaves undefined.
const WINDOWS_1252_HIGH: [char; 32] = [
    '€', '\u{fffd}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{fffd}', 'Ž',
    '\u{fffd}', '\u{fffd}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{fffd}',
    'ž', 'Ÿ',
];

/// A byte from an 8-bit client, as text: Latin-1, but 0x80 to 0x9F as
/// Windows-1252 (see the module docs), the undefined five as U+FFFD.
pub fn decode_8bit(byte: u8) -> char {
    match byte {
        0x80..=0x9F => WINDOWS_1252_HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// The byte [`decode_8bit`] reads as `c`, so that decoded typed text can go
/// back to the bytes it came from: U+FFFD gives 0x81, one of the undefined
/// bytes, which all read back as U+FFFD. `None` if no byte reads as `c`.
pub fn undecode_8bit(c: char) -> Option<u8> {
    match u8::try_from(u32::from(c)) {
        Ok(0x80..=0x9F) => None,
        Ok(byte) => Some(byte),
        Err(_) if c == '\u{fffd}' => Some(0x81),
        Err(_) => encode_windows_1252(c),
    }
}

/// The Windows-1252 byte in 0x80 to 0x9F for `c`, if it has one.
fn encode_windows_1252(c: char) -> Option<u8> {
    if c == '\u{fffd}' {
        return None;
    }
    let index = WINDOWS_1252_HIGH.iter().position(|&w| w == c)?;
    u8::try_from(index).ok().map(|i| i + 0x80)
}

/// The charsets tavern offers in its CHARSET REQUEST, best first, after the
/// separator RFC 2066 puts before each name.
const OFFER: &[u8] = b";UTF-8;ISO-8859-1";

/// What a client said in a CHARSET subnegotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CharsetMessage {
    /// ACCEPTED, answering tavern's REQUEST: the charset, or `None` for a
    /// name tavern did not offer.
    Accepted(Option<Charset>),
    /// REJECTED: none of what tavern offered.
    Rejected,
    /// The client's own REQUEST: what tavern accepts from its list (the
    /// name as the client spelled it, for the reply), or `None` to reject.
    Request(Option<(Vec<u8>, Charset)>),
    /// A verb tavern does not act on (the TTABLE ones), or nothing at all.
    Other,
}

impl CharsetMessage {
    /// Reads one CHARSET subnegotiation's payload.
    pub(crate) fn parse(data: &[u8]) -> CharsetMessage {
        let Some((&verb, rest)) = data.split_first() else {
            return CharsetMessage::Other;
        };
        match verb {
            CHARSET_ACCEPTED => CharsetMessage::Accepted(
                // Only a name tavern offered can be accepted.
                Charset::from_name(&String::from_utf8_lossy(rest))
                    .filter(|&charset| charset != Charset::Windows1252),
            ),
            CHARSET_REJECTED => CharsetMessage::Rejected,
            CHARSET_REQUEST => {
                // "[TTABLE]" and its version byte may precede the list.
                let list = rest
                    .strip_prefix(b"[TTABLE]".as_slice())
                    .and_then(|r| r.get(1..))
                    .unwrap_or(rest);
                CharsetMessage::Request(choose(list))
            }
            _ => CharsetMessage::Other,
        }
    }
}

/// From a REQUEST list (`<sep>name<sep>name…`), the name to accept: UTF-8 if
/// offered, else Windows-1252 (it has more characters than Latin-1, and a
/// client that names it shows them), else Latin-1, as the client spelled it.
fn choose(list: &[u8]) -> Option<(Vec<u8>, Charset)> {
    let (&separator, names) = list.split_first()?;
    let names: Vec<&[u8]> = names.split(|&b| b == separator).collect();
    [Charset::Utf8, Charset::Windows1252, Charset::Latin1]
        .into_iter()
        .find_map(|wanted| {
            names
                .iter()
                .find(|name| Charset::from_name(&String::from_utf8_lossy(name)) == Some(wanted))
                .map(|name| (name.to_vec(), wanted))
        })
}

/// tavern's REQUEST payload: its offer.
pub(crate) fn request() -> Vec<u8> {
    let mut request = vec![CHARSET_REQUEST];
    request.extend_from_slice(OFFER);
    request
}

/// The reply to a client's REQUEST: ACCEPTED with the name chosen, or
/// REJECTED.
pub(crate) fn reply(chosen: Option<&[u8]>) -> Vec<u8> {
    match chosen {
        Some(name) => {
            let mut reply = vec![CHARSET_ACCEPTED];
            reply.extend_from_slice(name);
            reply
        }
        None => vec![CHARSET_REJECTED],
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

    fn windows_1252(text: &str) -> Vec<u8> {
        let mut out = BytesMut::new();
        Charset::Windows1252.encode(text, &mut out);
        out.to_vec()
    }

    /// Every byte 0x80 to 0x9F, what it reads as, and the byte that goes
    /// back out (Windows-1252, then strict Latin-1).
    #[test]
    fn every_byte_read_as_a_character_names_the_byte_again() {
        for byte in 0u8..=0xFF {
            let c = decode_8bit(byte);
            let back = undecode_8bit(c).map(decode_8bit);
            assert_eq!(back, Some(c), "{byte:#x}");
        }
        assert_eq!(undecode_8bit('李'), None);
    }

    #[test]
    fn each_byte_from_0x80_to_0x9f_reads_as_windows_1252_and_goes_back_out() {
        let table = "€\u{fffd}‚ƒ„…†‡ˆ‰Š‹Œ\u{fffd}Ž\u{fffd}\u{fffd}‘’“”•–—˜™š›œ\u{fffd}žŸ";
        let undefined = [0x81, 0x8D, 0x8F, 0x90, 0x9D];
        for (byte, expected) in (0x80u8..=0x9F).zip(table.chars()) {
            let c = decode_8bit(byte);
            assert_eq!(c, expected, "{byte:#x}");
            assert!(!c.is_control(), "{byte:#x} is never a C1 control");
            let back = if undefined.contains(&byte) {
                b'?'
            } else {
                byte
            };
            assert_eq!(windows_1252(&c.to_string()), [back], "{byte:#x}");
            assert_eq!(latin1(&c.to_string()), b"?", "{byte:#x} in strict Latin-1");
        }
        for byte in (0u8..0x80).chain(0xA0..=0xFF) {
            assert_eq!(decode_8bit(byte), char::from(byte), "{byte:#x}");
        }
    }

    #[test]
    fn windows_1252_sends_its_characters_and_replaces_the_rest_visibly() {
        assert_eq!(windows_1252("Ÿes!"), b"\x9fes!");
        assert_eq!(windows_1252("Ružièka"), b"Ru\x9ei\xe8ka");
        assert_eq!(windows_1252("“€5” — ok…"), b"\x93\x805\x94 \x97 ok\x85");
        assert_eq!(windows_1252("a你\u{fffd}ÿ"), b"a??\xff\xff");
        let mut out = BytesMut::new();
        Charset::Windows1252.encode_char('™', &mut out);
        Charset::Windows1252.encode_bytes("\x1b[1m’\x1b[0m".as_bytes(), &mut out);
        assert_eq!(&out[..], b"\x99\x1b[1m\x92\x1b[0m");
    }

    #[test]
    fn a_c1_control_is_never_sent_as_its_byte() {
        for charset in [Charset::Latin1, Charset::Windows1252] {
            let mut out = BytesMut::new();
            charset.encode("\u{85}\u{9b}2J\u{9f}", &mut out);
            assert_eq!(&out[..], b"??2J?", "{charset}");
        }
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
    fn charset_answers_to_tavern_s_request() {
        assert_eq!(
            CharsetMessage::parse(b"\x02UTF-8"),
            CharsetMessage::Accepted(Some(Charset::Utf8))
        );
        assert_eq!(
            CharsetMessage::parse(b"\x02iso-8859-1"),
            CharsetMessage::Accepted(Some(Charset::Latin1))
        );
        assert_eq!(
            CharsetMessage::parse(b"\x02KOI8-R"),
            CharsetMessage::Accepted(None),
            "a name tavern did not offer"
        );
        assert_eq!(
            CharsetMessage::parse(b"\x02WINDOWS-1252"),
            CharsetMessage::Accepted(None),
            "tavern offers it to no one, so no one can accept it"
        );
        assert_eq!(CharsetMessage::parse(b"\x03"), CharsetMessage::Rejected);
        assert_eq!(CharsetMessage::parse(b""), CharsetMessage::Other);
        assert_eq!(CharsetMessage::parse(b"\x04x"), CharsetMessage::Other);
        assert_eq!(request(), b"\x01;UTF-8;ISO-8859-1");
    }

    #[test]
    fn a_client_request_gets_utf8_first_then_latin1_as_spelled() {
        let chosen = |payload: &[u8]| match CharsetMessage::parse(payload) {
            CharsetMessage::Request(chosen) => chosen,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            chosen(b"\x01 latin1 utf8"),
            Some((b"utf8".to_vec(), Charset::Utf8)),
            "UTF-8 wins wherever it is in the list"
        );
        assert_eq!(
            chosen(b"\x01,KOI8-R,Latin1"),
            Some((b"Latin1".to_vec(), Charset::Latin1))
        );
        assert_eq!(
            chosen(b"\x01;Latin1;CP1252"),
            Some((b"CP1252".to_vec(), Charset::Windows1252)),
            "Windows-1252 before Latin-1, its subset"
        );
        assert_eq!(chosen(b"\x01;KOI8-R;CP866"), None);
        assert_eq!(chosen(b"\x01"), None, "an empty list");
        assert_eq!(
            chosen(b"\x01[TTABLE]\x01;UTF-8"),
            Some((b"UTF-8".to_vec(), Charset::Utf8)),
            "the translation-table prefix and its version byte are skipped"
        );
        assert_eq!(reply(Some(b"utf8")), b"\x02utf8");
        assert_eq!(reply(None), b"\x03");
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(Charset::from_name("utf-8"), Some(Charset::Utf8));
        assert_eq!(Charset::from_name(" UTF8 "), Some(Charset::Utf8));
        assert_eq!(Charset::from_name("iso-8859-1"), Some(Charset::Latin1));
        assert_eq!(Charset::from_name("Latin1"), Some(Charset::Latin1));
        assert_eq!(Charset::from_name("cp1252"), Some(Charset::Windows1252));
        assert_eq!(Charset::from_name("KOI8-R"), None);
    }
}
