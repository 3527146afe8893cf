//! MUD clients against a real tavern over TCP: Mudlet, TinTin++ and
//! MUSHclient answering tavern's telnet offers byte for byte as their source
//! code does, and what tavern answers them: TTYPE with MTTS, CHARSET, EOR and
//! GA prompts, MSSP, GMCP, MCCP2, NAWS wrapping, colors and screen readers.
//!
//! Where the bytes come from (each script below cites file:line):
//! - Mudlet 4.18.5: github.com/Mudlet/Mudlet, tag `Mudlet-4.18.5`,
//!   `src/ctelnet.cpp` (defaults from `src/Host.h` and `src/Host.cpp`).
//! - TinTin++ 2.02.20 (Debian 12's `tintin++ 2.02.20-1`): github.com/scandum/tintin
//!   tag 2.02.20, `src/telopt_client.c` and `src/tables.c`, and the bytes it
//!   sent to a probe server from a 100x30 tmux pane with `LANG=C.UTF-8`.
//! - MUSHclient: github.com/nickgammon/mushclient @ 789c236,
//!   `telnet_phases.cpp` (defaults from `scriptingoptions.cpp`).
//!
//! Each client is a small [`Script`] that answers every telnet item tavern
//! sends, as the real client's code does. [`MudClient`] runs a script over a
//! real socket with the tests' telnet parser (`common::telnet`), switching
//! to zlib right after `IAC SB MCCP2 IAC SE`, as the clients do. Nothing
//! sleeps a fixed time: every wait polls the socket against
//! `common::DEADLINE`.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::telnet::{
    CHARSET, CHARSET_ACCEPTED, CHARSET_REJECTED, CHARSET_REQUEST, DO, DONT, ECHO, EOR, GA, GMCP,
    IAC, Item, MCCP2, MSSP, MSSP_VAL, MSSP_VAR, NAWS, Reader, SGA, TELOPT_EOR, TTYPE, TTYPE_IS,
    TTYPE_SEND, WILL, WONT, neg, sb, strip_ansi,
};
use common::{Client, DEADLINE, TestServer, sign_on_all, test_config};
use flate2::{Decompress, FlushDecompress, Status};
use serde_json::{Value, json};
use unicode_width::UnicodeWidthStr;

/// A piece of the decorative art in assets/banner.txt.
const BANNER_ART: &str = "|~~~~~~~~~|";

// ---------------------------------------------------------------------------
// Telnet items (common::telnet parses them)

/// The items as short strings for assertions; the MSSP table (whose values
/// are live figures) is named only; `mssp_reports_live_players_and_the_start_time` checks its
/// content.
fn summary(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item {
            Item::Sb(MSSP, _) => "SB MSSP (table)".to_owned(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// Everything received on one connection: raw, decompressed and parsed.
struct Incoming {
    reader: Reader,
    inflate: Option<Decompress>,
    /// Every byte read from the socket.
    wire: Vec<u8>,
    /// The telnet stream as parsed: `wire` with the zlib parts inflated.
    plain: Vec<u8>,
    /// Offsets in `wire` where a zlib stream starts (just after the marker).
    zlib_starts: Vec<usize>,
    /// Offsets in `wire` just after a zlib stream ended (flate2 StreamEnd).
    zlib_ends: Vec<usize>,
}

impl Incoming {
    fn new() -> Incoming {
        Incoming {
            reader: Reader::new(),
            inflate: None,
            wire: Vec::new(),
            plain: Vec::new(),
            zlib_starts: Vec::new(),
            zlib_ends: Vec::new(),
        }
    }

    fn feed(&mut self, input: &[u8]) {
        let base = self.wire.len();
        self.wire.extend_from_slice(input);
        let mut pos = 0;
        while pos < input.len() {
            match self.inflate.as_mut() {
                Some(inflate) => {
                    // Sync flush as the clients inflate: whatever complete
                    // data arrived is readable now.
                    let mut out = Vec::with_capacity(64 * 1024);
                    let before = inflate.total_in();
                    let status = inflate
                        .decompress_vec(&input[pos..], &mut out, FlushDecompress::Sync)
                        .unwrap_or_else(|e| panic!("tavern's zlib stream is corrupt: {e}"));
                    let used = usize::try_from(inflate.total_in() - before)
                        .expect("bytes consumed fit in usize");
                    pos += used;
                    for &byte in &out {
                        self.plain.push(byte);
                        self.reader.push(byte);
                    }
                    if status == Status::StreamEnd {
                        self.inflate = None;
                        self.zlib_ends.push(base + pos);
                    } else if used == 0 && out.len() < out.capacity() {
                        panic!("zlib made no progress on {} bytes", input.len() - pos);
                    }
                }
                None => {
                    let byte = input[pos];
                    pos += 1;
                    self.plain.push(byte);
                    if self.reader.push(byte) == Some(&Item::Sb(MCCP2, Vec::new())) {
                        self.inflate = Some(Decompress::new(true));
                        self.zlib_starts.push(base + pos);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// What each client sends

fn ttype_is(name: &str) -> Vec<u8> {
    let mut payload = vec![TTYPE_IS];
    payload.extend_from_slice(name.as_bytes());
    sb(TTYPE, &payload)
}

fn naws(columns: u16, rows: u16) -> Vec<u8> {
    let [w1, w2] = columns.to_be_bytes();
    let [h1, h2] = rows.to_be_bytes();
    sb(NAWS, &[w1, w2, h1, h2])
}

fn charset_accepted(name: &str) -> Vec<u8> {
    let mut payload = vec![CHARSET_ACCEPTED];
    payload.extend_from_slice(name.as_bytes());
    sb(CHARSET, &payload)
}

fn gmcp(message: &str) -> Vec<u8> {
    sb(GMCP, message.as_bytes())
}

/// The names in a CHARSET REQUEST payload (`<sep>name<sep>name…`).
fn charset_names(list: &[u8]) -> Vec<String> {
    match list.split_first() {
        Some((&separator, names)) => names
            .split(|&b| b == separator)
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect(),
        None => Vec::new(),
    }
}

/// A client's reactions: for each telnet item tavern sends, the writes the
/// real client makes in answer (one `Vec` per write).
trait Script {
    fn answer(&mut self, item: &Item) -> Vec<Vec<u8>>;

    /// The client reads text as ISO-8859-1 rather than UTF-8.
    fn latin1(&self) -> bool {
        false
    }

    /// What ends a typed line.
    fn line_end(&self) -> &'static [u8] {
        b"\r\n"
    }
}

/// Mudlet 4.18.5 with a new profile's defaults (`src/Host.h:447-451`:
/// mEnableGMCP, mEnableMSSP, mEnableMTTS true; `src/Host.cpp:224,317`:
/// compression and CHARSET not forced off; `:252` mWrapAt 100), a release
/// build with SSL support and no Discord library loaded. Line numbers are in
/// `src/ctelnet.cpp` at tag Mudlet-4.18.5.
struct Mudlet {
    /// mCycleCountMTTS.
    cycle: u8,
    /// The profile's encoding is UTF-8: a new profile has none (ASCII)
    /// until a CHARSET REQUEST is accepted (`setEncoding`, :2282-2297).
    utf8: bool,
}

impl Mudlet {
    fn new() -> Mudlet {
        Mudlet {
            cycle: 0,
            utf8: false,
        }
    }

    /// getNewEnvironMTTS (:1070-1090): ANSI, 256 COLORS, OSC COLOR PALETTE
    /// and TRUECOLOR always, UTF-8 with a UTF-8 encoding, SSL in SSL builds.
    fn mtts(&self) -> u32 {
        1 + 8 + 32 + 256 + 2048 + if self.utf8 { 4 } else { 0 }
    }
}

/// Mudlet 4.18.5 :1781, `Core.Hello` for a release build (mAppBuild empty):
/// a space after `{`, after each `:` and the `,`, none before `}`.
const MUDLET_HELLO: &str = r#"Core.Hello { "client": "Mudlet", "version": "4.18.5"}"#;
/// Mudlet 4.18.5 :1789.
const MUDLET_SUPPORTS: &str = r#"Core.Supports.Set [ "Char 1", "Char.Skills 1", "Char.Items 1", "Room 1", "IRE.Rift 1", "IRE.Composer 1", "External.Discord 1", "Client.Media 1", "Char.Login 1"]"#;

impl Script for Mudlet {
    fn answer(&mut self, item: &Item) -> Vec<Vec<u8>> {
        match item {
            // Mudlet 4.18.5 src/ctelnet.cpp:2104-2119 (TN_DO, OPT_TERMINAL_TYPE): WILL.
            Item::Neg(DO, TTYPE) => vec![neg(WILL, TTYPE)],
            // :2104-2136 (TN_DO, OPT_NAWS): WILL, then checkNAWS() (:733-746)
            // sends the size at once, sendNAWS (:749-780). Width is
            // min(screen width, mWrapAt 100); 40 rows is one window's height.
            Item::Neg(DO, NAWS) => vec![neg(WILL, NAWS), naws(100, 40)],
            // :1656-1660 (TN_WILL, OPT_EOR): DO EOR.
            Item::Neg(WILL, TELOPT_EOR) => vec![neg(DO, TELOPT_EOR)],
            // :1683-1700 (TN_WILL, OPT_CHARSET): DO CHARSET.
            Item::Neg(WILL, CHARSET) => vec![neg(DO, CHARSET)],
            // :1809-1817 (TN_WILL, OPT_MSSP): DO MSSP.
            Item::Neg(WILL, MSSP) => vec![neg(DO, MSSP)],
            // :1767-1806 (TN_WILL, OPT_GMCP): DO GMCP, then Core.Hello and
            // Core.Supports.Set, each its own socketOutRaw().
            Item::Neg(WILL, GMCP) => vec![neg(DO, GMCP), gmcp(MUDLET_HELLO), gmcp(MUDLET_SUPPORTS)],
            // :1870-1892 (TN_WILL, OPT_COMPRESS2; mFORCE_NO_COMPRESSION off): DO.
            Item::Neg(WILL, MCCP2) => vec![neg(DO, MCCP2)],
            // :1862-1866 (TN_WILL, OPT_ECHO): DO ECHO, and hides the input.
            Item::Neg(WILL, ECHO) => vec![neg(DO, ECHO)],
            // :1896-1899: any other WILL gets DONT.
            Item::Neg(WILL, option) => vec![neg(DONT, *option)],
            // :2119-2124: any other DO gets WONT.
            Item::Neg(DO, option) => vec![neg(WONT, *option)],
            // :2538-2588 (TN_SB, OPT_TERMINAL_TYPE, SEND): MUDLET,
            // ANSI-TRUECOLOR, MTTS <n> twice, then the cycle restarts.
            Item::Sb(TTYPE, data) if data.as_slice() == [TTYPE_SEND] => {
                let answer = match self.cycle {
                    0 => "MUDLET".to_owned(),
                    1 => "ANSI-TRUECOLOR".to_owned(),
                    _ => format!("MTTS {}", self.mtts()),
                };
                self.cycle = (self.cycle + 1) % 4;
                vec![ttype_is(&answer)]
            }
            // :2232-2307 (TN_SB, OPT_CHARSET, REQUEST): names split on the
            // separator and upper-cased; the first known one is accepted as
            // upper-cased, and becomes the profile's encoding.
            Item::Sb(CHARSET, data) if data.first() == Some(&CHARSET_REQUEST) => {
                let known = ["UTF-8", "ISO-8859-1"];
                match charset_names(&data[1..])
                    .into_iter()
                    .map(|name| name.to_uppercase())
                    .find(|name| known.contains(&name.as_str()))
                {
                    Some(name) => {
                        self.utf8 = name == "UTF-8";
                        vec![charset_accepted(&name)]
                    }
                    None => vec![sb(CHARSET, &[CHARSET_REJECTED])],
                }
            }
            _ => Vec::new(),
        }
    }
}

/// TinTin++ 2.02.20 with its defaults, in a tmux pane (`$TERM`
/// tmux-256color), `LANG=C.UTF-8`, no GnuTLS. The fields allow the variants
/// the tests need. Line numbers are in `src/telopt_client.c` at tag 2.02.20.
struct TinTin {
    /// `$TERM`, its second TTYPE answer, unchanged.
    term: &'static str,
    /// Its MTTS value (captured: 271 = ANSI, VT100, UTF-8, 256 COLORS,
    /// TRUECOLOR). The UTF-8 bit also decides its CHARSET answer.
    mtts: u32,
    /// The pane, as sent in NAWS.
    window: (u16, u16),
    /// `#event {IAC WILL GMCP} {#send {\xFF\xFD\xC9\}}` is defined.
    gmcp_event: bool,
    /// `#config {MCCP} {ON}` (the default).
    mccp: bool,
    /// TTYPE answers given so far.
    ttype_step: u8,
    /// `ses->telopt_flag`: options answered by the generic WILL/DO code.
    answered: Vec<u8>,
}

impl Default for TinTin {
    fn default() -> TinTin {
        TinTin {
            term: "tmux-256color",
            mtts: 271,
            window: (100, 30),
            gmcp_event: false,
            mccp: true,
            ttype_step: 0,
            answered: Vec::new(),
        }
    }
}

impl TinTin {
    /// The generic WILL/DO code (:341-383): once per option (the
    /// telopt_flag bit), DO/WILL if `telopt_table` wants it (tables.c:1211
    /// SGA, :1232 TERMINAL TYPE, :1233 EOR, :1239 NAWS, :1250 CHARSET are
    /// TEL_Y; :1278 MSSP and :1409 GMCP are TEL_N), DONT/WONT otherwise.
    fn generic(&mut self, verb: u8, option: u8) -> Vec<Vec<u8>> {
        if self.answered.contains(&option) {
            return Vec::new();
        }
        self.answered.push(option);
        let wanted = matches!(option, TTYPE | TELOPT_EOR | CHARSET | NAWS | SGA);
        let reply = match (verb, wanted) {
            (WILL, true) => DO,
            (WILL, false) => DONT,
            (_, true) => WILL,
            (_, false) => WONT,
        };
        vec![neg(reply, option)]
    }
}

impl Script for TinTin {
    fn answer(&mut self, item: &Item) -> Vec<Vec<u8>> {
        match item {
            // TinTin++ 2.02.20 src/telopt_client.c:674-695 client_recv_do_naws:
            // WILL NAWS once, then client_send_sb_naws (:697-737) every time.
            // Captured: ff fb 1f, then ff fa 1f 00 64 00 1e ff f0 (100x30).
            Item::Neg(DO, NAWS) => {
                let mut writes = Vec::new();
                if !self.answered.contains(&NAWS) {
                    self.answered.push(NAWS);
                    writes.push(neg(WILL, NAWS));
                }
                writes.push(naws(self.window.0, self.window.1));
                writes
            }
            // :882-894 client_recv_will_mssp: DO MSSP only in telnet debug
            // mode; by default nothing at all (captured: no answer).
            Item::Neg(WILL, MSSP) => Vec::new(),
            // :1954-1976 client_recv_will_mccp2: DO MCCP2 if #config MCCP is
            // on (the default), else DONT; every time.
            Item::Neg(WILL, MCCP2) => vec![neg(if self.mccp { DO } else { DONT }, MCCP2)],
            // :341-345: a user's #event {IAC WILL GMCP} replaces the
            // automatic answer; the event sends ff fd c9 (captured).
            Item::Neg(WILL, GMCP) if self.gmcp_event => vec![neg(DO, GMCP)],
            // :768-793 client_recv_will_echo: DO ECHO once.
            Item::Neg(WILL, ECHO) => {
                if self.answered.contains(&ECHO) {
                    return Vec::new();
                }
                self.answered.push(ECHO);
                vec![neg(DO, ECHO)]
            }
            Item::Neg(verb @ (WILL | DO), option) => self.generic(*verb, *option),
            // :385-392: WONT/DONT clear the flag, no answer.
            Item::Neg(_, option) => {
                self.answered.retain(|o| o != option);
                Vec::new()
            }
            // :602-648 client_recv_sb_ttype: TINTIN++, then $TERM, then
            // MTTS <n> forever. Captured: TINTIN++, tmux-256color, MTTS 271.
            Item::Sb(TTYPE, data) if data.as_slice() == [TTYPE_SEND] => {
                let answer = match self.ttype_step {
                    0 => "TINTIN++".to_owned(),
                    1 => self.term.to_owned(),
                    _ => format!("MTTS {}", self.mtts),
                };
                self.ttype_step = self.ttype_step.saturating_add(1);
                vec![ttype_is(&answer)]
            }
            // :1299-1420 client_recv_sb_charset: names upper-cased; UTF-8 is
            // accepted when the session charset is UTF-8, ISO-8859-1 only in
            // ISO1TOUTF8 mode; none: REJECTED. Captured: ACCEPTED "UTF-8".
            Item::Sb(CHARSET, data) if data.first() == Some(&CHARSET_REQUEST) => {
                let utf8 = self.mtts & 4 != 0;
                let accepted = charset_names(&data[1..])
                    .into_iter()
                    .map(|name| name.to_uppercase())
                    .find(|name| utf8 && name == "UTF-8");
                match accepted {
                    Some(name) => vec![charset_accepted(&name)],
                    None => vec![sb(CHARSET, &[CHARSET_REJECTED])],
                }
            }
            _ => Vec::new(),
        }
    }
}

/// MUSHclient with a new world's defaults (`scriptingoptions.cpp`: naws off
/// :151, convert_ga_to_newline off :72, utf_8 off :216,
/// disable_compression off :99, terminal_identification "mushclient"
/// :302), no plugins, no TLS. Line numbers are in `telnet_phases.cpp` @ 789c236.
#[derive(Default)]
struct MushClient {
    /// m_ttype_sequence.
    ttype_sequence: u8,
    /// The last of DO/DONT and of WILL/WONT sent per option: Send_IAC_*
    /// (:158-221) never repeats an answer already sent.
    last_sent: Vec<(u8, u8)>,
}

impl MushClient {
    fn send(&mut self, verb: u8, option: u8) -> Vec<Vec<u8>> {
        let pair = |v: u8| if matches!(v, DO | DONT) { 0 } else { 1 };
        if self.last_sent.contains(&(verb, option)) {
            return Vec::new();
        }
        self.last_sent
            .retain(|&(v, o)| !(o == option && pair(v) == pair(verb)));
        self.last_sent.push((verb, option));
        vec![neg(verb, option)]
    }
}

impl Script for MushClient {
    fn answer(&mut self, item: &Item) -> Vec<Vec<u8>> {
        match item {
            // MUSHclient telnet_phases.cpp:400-403 (Phase_DO, TERMINAL_TYPE):
            // the sequence restarts, WILL.
            Item::Neg(DO, TTYPE) => {
                self.ttype_sequence = 0;
                self.send(WILL, TTYPE)
            }
            // :405-415 (Phase_DO, NAWS): the naws option is off: WONT.
            Item::Neg(DO, NAWS) => self.send(WONT, NAWS),
            // :392-397 (Phase_DO, SGA/ECHO/CHARSET): WILL.
            Item::Neg(DO, option @ (SGA | ECHO | CHARSET)) => self.send(WILL, *option),
            // :428-436 (Phase_DO, default): no plugin wants it: WONT.
            Item::Neg(DO, option) => self.send(WONT, *option),
            // :243-277 (Phase_WILL, COMPRESS2): zlib initialised and
            // compression not disabled: DO.
            Item::Neg(WILL, MCCP2) => self.send(DO, MCCP2),
            // :314-320 (Phase_WILL, END_OF_RECORD): convert_ga_to_newline
            // is off: DONT.
            Item::Neg(WILL, TELOPT_EOR) => self.send(DONT, TELOPT_EOR),
            // :280-297 (SGA, ECHO) and :323-325 (CHARSET): DO.
            Item::Neg(WILL, option @ (SGA | ECHO | CHARSET)) => self.send(DO, *option),
            // :327-335 (Phase_WILL, default; MSSP, GMCP): no plugin: DONT.
            Item::Neg(WILL, option) => self.send(DONT, *option),
            // :344-370 (Phase_WONT): DONT.
            Item::Neg(WONT, option) => self.send(DONT, *option),
            // :443-449 (Phase_DONT): WONT.
            Item::Neg(_, option) => self.send(WONT, *option),
            // :733-827 Handle_TELOPT_TERMINAL_TYPE: mushclient, ANSI, then
            // MTTS 265 (ANSI, 256 COLORS, TRUECOLOR; no UTF-8, no TLS) for
            // good.
            Item::Sb(TTYPE, data) if data.as_slice() == [TTYPE_SEND] => {
                let answer = match self.ttype_sequence {
                    0 => "mushclient",
                    1 => "ANSI",
                    _ => "MTTS 265",
                };
                self.ttype_sequence = (self.ttype_sequence + 1).min(2);
                vec![ttype_is(answer)]
            }
            // :655-719 Handle_TELOPT_CHARSET: its one candidate is
            // "US-ASCII" (utf_8 off), compared exactly: REJECTED.
            Item::Sb(CHARSET, data) if data.first() == Some(&CHARSET_REQUEST) => {
                if charset_names(&data[1..]).iter().any(|n| n == "US-ASCII") {
                    vec![charset_accepted("US-ASCII")]
                } else {
                    vec![sb(CHARSET, &[CHARSET_REJECTED])]
                }
            }
            _ => Vec::new(),
        }
    }

    fn latin1(&self) -> bool {
        true
    }
}

/// A MUD-list crawler: asks for MSSP and refuses everything else.
struct Crawler;

impl Script for Crawler {
    fn answer(&mut self, item: &Item) -> Vec<Vec<u8>> {
        match item {
            Item::Neg(WILL, MSSP) => vec![neg(DO, MSSP)],
            Item::Neg(WILL, option) => vec![neg(DONT, *option)],
            Item::Neg(DO, option) => vec![neg(WONT, *option)],
            _ => Vec::new(),
        }
    }
}

/// netkit telnet (netkit-telnet-ssl 0.17.41) in a 100x30 tmux window, as
/// recorded in tests/telnet_traffic.rs `netkit_handshake`: WILL TTYPE, WILL
/// NAWS and the size, `tmux-256color` for every SEND, DO ECHO and DO SGA.
/// Options it does not know (tavern's MUD offers) get the RFC 854 refusal.
/// In character mode it ends lines with CR NUL.
struct Netkit;

impl Script for Netkit {
    fn answer(&mut self, item: &Item) -> Vec<Vec<u8>> {
        match item {
            Item::Neg(DO, TTYPE) => vec![neg(WILL, TTYPE)],
            Item::Neg(DO, NAWS) => vec![neg(WILL, NAWS), naws(100, 30)],
            Item::Neg(WILL, option @ (ECHO | SGA)) => vec![neg(DO, *option)],
            Item::Neg(WILL, option) => vec![neg(DONT, *option)],
            Item::Neg(DO, option) => vec![neg(WONT, *option)],
            Item::Sb(TTYPE, data) if data.as_slice() == [TTYPE_SEND] => {
                vec![ttype_is("tmux-256color")]
            }
            _ => Vec::new(),
        }
    }

    fn line_end(&self) -> &'static [u8] {
        b"\r\0"
    }
}

/// The recorded clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    Mudlet,
    TinTin,
    /// TinTin++ with the `#event {IAC WILL GMCP}` script of its GMCP setup
    /// (the probe's setup.tin), which makes it send DO GMCP.
    TinTinGmcp,
    MushClient,
}

impl Recorded {
    const ALL: [Recorded; 4] = [
        Recorded::Mudlet,
        Recorded::TinTin,
        Recorded::TinTinGmcp,
        Recorded::MushClient,
    ];

    fn script(self) -> Box<dyn Script> {
        match self {
            Recorded::Mudlet => Box::new(Mudlet::new()),
            Recorded::TinTin => Box::new(TinTin::default()),
            Recorded::TinTinGmcp => Box::new(TinTin {
                gmcp_event: true,
                ..TinTin::default()
            }),
            Recorded::MushClient => Box::new(MushClient::default()),
        }
    }
}

// ---------------------------------------------------------------------------
// The client over TCP

/// How the client's writes are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunking {
    /// One write per write the real client makes.
    AsTheClientWrites,
    /// Every byte its own write.
    OneByteAtATime,
    /// The answers to each read joined, then cut at pseudo-random points
    /// from this seed (cuts may fall inside any sequence).
    Seeded(u64),
}

/// splitmix64: a small, seeded, reproducible generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A scripted MUD client on a real socket. See the module docs.
struct MudClient {
    stream: TcpStream,
    script: Box<dyn Script>,
    chunking: Chunking,
    rng: Rng,
    incoming: Incoming,
    /// Items the script has answered.
    answered: usize,
    /// Everything the client wrote.
    sent: Vec<u8>,
    /// Where in the visible text the next `expect` starts looking.
    cursor: usize,
    /// Indices of the GMCP messages `expect_gmcp` has returned.
    gmcp_taken: Vec<usize>,
}

impl MudClient {
    fn connect(addr: SocketAddr, script: Box<dyn Script>, chunking: Chunking) -> MudClient {
        let stream = TcpStream::connect(addr).expect("connect to tavern");
        stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .expect("read timeout");
        stream.set_nodelay(true).expect("nodelay");
        let seed = match chunking {
            Chunking::Seeded(seed) => seed,
            _ => 0,
        };
        MudClient {
            stream,
            script,
            chunking,
            rng: Rng(seed),
            incoming: Incoming::new(),
            answered: 0,
            sent: Vec::new(),
            cursor: 0,
            gmcp_taken: Vec::new(),
        }
    }

    fn recorded(addr: SocketAddr, client: Recorded) -> MudClient {
        MudClient::connect(addr, client.script(), Chunking::AsTheClientWrites)
    }

    /// How long a read waits for more before the client looks again.
    fn poll_every(&mut self, every: Duration) {
        self.stream
            .set_read_timeout(Some(every))
            .expect("read timeout");
    }

    /// Reads what is there now and answers it; false once tavern closed.
    fn pump(&mut self) -> bool {
        let mut buf = [0u8; 16384];
        let open = loop {
            match self.stream.read(&mut buf) {
                Ok(0) => break false,
                Ok(n) => self.incoming.feed(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    break true;
                }
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break false,
                Err(e) => panic!("read: {e}"),
            }
        };
        let mut writes = Vec::new();
        while self.answered < self.incoming.reader.items.len() {
            let item = self.incoming.reader.items[self.answered].1.clone();
            writes.extend(self.script.answer(&item));
            self.answered += 1;
        }
        if !writes.is_empty() && open {
            self.write_all(writes);
        }
        open
    }

    /// Writes as the chunking says; each piece is one write (the socket has
    /// TCP_NODELAY, so each goes out as it is written).
    fn write_all(&mut self, writes: Vec<Vec<u8>>) {
        let pieces: Vec<Vec<u8>> = match self.chunking {
            Chunking::AsTheClientWrites => writes,
            Chunking::OneByteAtATime => writes.concat().into_iter().map(|b| vec![b]).collect(),
            Chunking::Seeded(_) => {
                let joined = writes.concat();
                let mut pieces = Vec::new();
                let mut start = 0;
                for end in 1..=joined.len() {
                    if end == joined.len() || self.rng.next().is_multiple_of(3) {
                        pieces.push(joined[start..end].to_vec());
                        start = end;
                    }
                }
                pieces
            }
        };
        for piece in pieces {
            self.stream.write_all(&piece).expect("write to tavern");
            self.stream.flush().expect("flush");
            self.sent.extend_from_slice(&piece);
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.write_all(vec![bytes.to_vec()]);
    }

    fn send_line(&mut self, line: &str) {
        let mut bytes = line.as_bytes().to_vec();
        bytes.extend_from_slice(self.script.line_end());
        self.send(&bytes);
    }

    /// Pumps until `done` holds; fails the test after `DEADLINE`.
    fn wait_until(&mut self, what: &str, mut done: impl FnMut(&MudClient) -> bool) {
        let start = Instant::now();
        while !done(self) {
            let open = self.pump();
            if done(self) {
                return;
            }
            assert!(
                open,
                "tavern closed the connection while waiting for {what}"
            );
            assert!(
                start.elapsed() < DEADLINE,
                "timed out waiting for {what}; items: {:?}; text after cursor: {:?}",
                self.items(),
                self.visible().get(self.cursor..).unwrap_or_default()
            );
        }
    }

    fn items(&self) -> Vec<Item> {
        self.incoming
            .reader
            .items
            .iter()
            .map(|(_, item)| item.clone())
            .collect()
    }

    /// The text as the client's screen shows it: ANSI escapes, CR and NUL
    /// removed, decoded in the client's charset.
    fn visible(&self) -> String {
        let text = strip_ansi(&self.incoming.reader.text);
        if self.script.latin1() {
            text.iter().map(|&b| char::from(b)).collect()
        } else {
            String::from_utf8_lossy(&text).into_owned()
        }
    }

    /// Waits until `needle` appears in the visible text after the previous
    /// match; returns the text from the cursor up to and including it.
    fn expect(&mut self, needle: &str) -> String {
        let cursor = self.cursor;
        self.wait_until(&format!("{needle:?}"), |c| {
            c.visible()
                .get(cursor..)
                .is_some_and(|rest| rest.contains(needle))
        });
        let text = self.visible();
        let found = cursor
            + text[cursor..]
                .find(needle)
                .expect("the needle was just seen");
        self.cursor = found + needle.len();
        text[cursor..self.cursor].to_owned()
    }

    /// As `expect`, then on to the end of the line the needle is on.
    fn expect_line(&mut self, needle: &str) -> String {
        let mut text = self.expect(needle);
        text.push_str(&self.expect("\n"));
        text
    }

    /// Indices in `items` of the marks (EOR or GA) that end a "Nickname: "
    /// prompt, in order.
    fn prompt_mark_indices(&self) -> Vec<usize> {
        let reader = &self.incoming.reader;
        (0..reader.items.len())
            .filter(|&i| {
                let (at, item) = &reader.items[i];
                matches!(item, Item::Cmd(EOR | GA)) && reader.text[..*at].ends_with(b"Nickname: ")
            })
            .collect()
    }

    /// Index in `items` of the first prompt's mark.
    fn prompt_mark(&self) -> Option<usize> {
        self.prompt_mark_indices().first().copied()
    }

    /// The marks of every prompt so far.
    fn prompt_marks(&self) -> Vec<Item> {
        let items = self.items();
        self.prompt_mark_indices()
            .into_iter()
            .map(|i| items[i].clone())
            .collect()
    }

    /// Waits for the nick prompt and its mark; returns the mark's item.
    fn expect_marked_prompt(&mut self) -> Item {
        self.wait_until("the Nickname: prompt with its EOR or GA", |c| {
            c.prompt_mark().is_some()
        });
        self.expect("Nickname: ");
        let mark = self.prompt_mark().expect("just seen");
        self.incoming.reader.items[mark].1.clone()
    }

    /// The items tavern sent up to and including the prompt's mark.
    fn opening(&self) -> Vec<Item> {
        let mark = self.prompt_mark().expect("the prompt was seen");
        self.items()[..=mark].to_vec()
    }

    fn sign_on(&mut self, nick: &str) {
        self.send_line(nick);
        self.expect(&format!("Welcome, {nick}!"));
    }

    /// GMCP messages received: package and JSON (Null when there is none).
    fn gmcp(&self) -> Vec<(String, Value)> {
        self.incoming
            .reader
            .items
            .iter()
            .filter_map(|(_, item)| match item {
                Item::Sb(GMCP, data) => Some(parse_gmcp(data)),
                _ => None,
            })
            .collect()
    }

    /// Waits for the oldest GMCP message of `package` not returned yet;
    /// returns its JSON. Messages of other packages stay for their own
    /// `expect_gmcp`, so the order between packages does not matter.
    fn expect_gmcp(&mut self, package: &str) -> Value {
        let next = |c: &MudClient| {
            c.gmcp()
                .iter()
                .enumerate()
                .position(|(i, (p, _))| p == package && !c.gmcp_taken.contains(&i))
        };
        self.wait_until(&format!("GMCP {package}"), |c| next(c).is_some());
        let index = next(self).expect("just seen");
        self.gmcp_taken.push(index);
        self.gmcp()[index].1.clone()
    }

    /// `/client`: the report lines without their system mark, wrapped rows
    /// joined back.
    fn client_report(&mut self) -> Vec<String> {
        self.send_line("/client");
        self.expect("Your client, as tavern sees it:");
        let text = self.expect_line("prompts end with:");
        let mut lines: Vec<String> = Vec::new();
        for row in text.lines().skip(1) {
            if let Some(line) = row.strip_prefix("***   ") {
                lines.push(line.to_owned());
            } else if let (Some(continued), Some(last)) =
                (row.strip_prefix("    "), lines.last_mut())
            {
                // A row tavern wrapped at the window width (hang 4).
                last.push(' ');
                last.push_str(continued.trim_start());
            } else if !row.is_empty() {
                panic!("unexpected row in /client: {row:?}");
            }
        }
        lines
    }
}

fn parse_gmcp(data: &[u8]) -> (String, Value) {
    let text = std::str::from_utf8(data).expect("GMCP is UTF-8");
    match text.split_once(' ') {
        Some((package, body)) => (
            package.to_owned(),
            serde_json::from_str(body)
                .unwrap_or_else(|e| panic!("GMCP {package} body is not JSON ({e}): {body:?}")),
        ),
        None => (text.to_owned(), Value::Null),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The MSSP table of a `SB MSSP` payload, in order.
fn mssp_table(payload: &[u8]) -> Vec<(String, String)> {
    let mut table = Vec::new();
    for field in payload.split(|&b| b == MSSP_VAR).skip(1) {
        let mut parts = field.split(|&b| b == MSSP_VAL);
        let name = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        for value in parts {
            table.push((name.clone(), String::from_utf8_lossy(value).into_owned()));
        }
    }
    table
}

fn lookup<'a>(table: &'a [(String, String)], name: &str) -> Option<&'a str> {
    table
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// The test configuration, but a negotiation wait far longer than any test:
/// a banner that comes at all came because the answers settled it.
fn answers_only_config() -> tavern::Config {
    tavern::Config {
        negotiation_wait_ms: 60_000,
        ..test_config()
    }
}

// ---------------------------------------------------------------------------
// 1. Each recorded client: tavern's exact answers, the prompt, /client

/// The seven offers tavern makes at connect, in order.
const OFFERS: [&str; 7] = [
    "DO TTYPE",
    "DO NAWS",
    "WILL EOR",
    "WILL CHARSET",
    "WILL MSSP",
    "WILL GMCP",
    "WILL MCCP2",
];

/// Connects `client`, checks the opening tavern sent against `expected`
/// (after the offers) and the prompt's mark, signs on as `nick` and returns
/// the client with its `/client` report.
fn recorded_session(
    server: &TestServer,
    client: Recorded,
    expected: &[&str],
    nick: &str,
) -> (MudClient, Vec<String>) {
    let mut mud = MudClient::recorded(server.addr, client);
    mud.expect_marked_prompt();
    let mut wanted: Vec<String> = OFFERS.iter().map(|s| (*s).to_owned()).collect();
    wanted.extend(expected.iter().map(|s| (*s).to_owned()));
    assert_eq!(
        summary(&mud.opening()),
        wanted,
        "{client:?}: tavern's opening"
    );
    // A nick tavern refuses: the prompt comes again, marked the same way.
    let mark = mud.opening().last().cloned();
    mud.send_line("no such nick!");
    mud.wait_until("the second prompt's mark", |c| c.prompt_marks().len() == 2);
    assert_eq!(
        mud.prompt_marks().last(),
        mark.as_ref(),
        "{client:?}: re-prompt"
    );
    mud.sign_on(nick);
    let report = mud.client_report();
    // A MUD client edits its own line: WILL ECHO would hide what it types.
    let items = mud.items();
    assert!(
        !items.contains(&Item::Neg(WILL, ECHO)),
        "{client:?} got WILL ECHO: {items:?}"
    );
    let after_prompt = &items[mud.prompt_mark().expect("prompt seen") + 1..];
    assert!(
        !after_prompt.iter().any(|i| matches!(i, Item::Neg(..))),
        "{client:?}: negotiation after the prompt: {after_prompt:?}"
    );
    (mud, report)
}

/// Checks a `/client` report: `expected` with `compression: MCCP2 on (…)`
/// standing for the line with the live byte counts.
fn assert_report(report: &[String], expected: &[&str]) {
    assert_eq!(report.len(), expected.len(), "{report:#?}");
    for (line, wanted) in report.iter().zip(expected) {
        if *wanted == "compression: MCCP2 on (…)" {
            let counts = line
                .strip_prefix("compression: MCCP2 on (")
                .and_then(|rest| rest.strip_suffix("%)"))
                .unwrap_or_else(|| panic!("compression line: {line:?}"));
            let words: Vec<&str> = counts.split_whitespace().collect();
            assert!(
                matches!(words.as_slice(), [plain, "bytes", "sent", "as", packed, _]
                    if plain.parse::<u64>().is_ok_and(|n| n > 0)
                        && packed.trim_end_matches(',').parse::<u64>().is_ok()),
                "compression line: {line:?}"
            );
        } else {
            assert_eq!(line, wanted);
        }
    }
}

/// What tavern sends Mudlet and TinTin++ between the offers and the prompt:
/// the first SEND (on WILL TTYPE), the REQUEST (on DO CHARSET), the MSSP
/// table to Mudlet (on DO MSSP), a SEND for each new terminal type, and EOR
/// after the prompt (on DO EOR). MCCP2, though agreed, starts only once the
/// user has signed on (a connection that never does holds no zlib state).
const MUDLET_OPENING: [&str; 6] = [
    "SB TTYPE SEND",
    "SB CHARSET REQUEST \";UTF-8;ISO-8859-1\"",
    "SB MSSP (table)",
    "SB TTYPE SEND",
    "SB TTYPE SEND",
    "EOR",
];

const TINTIN_OPENING: [&str; 5] = [
    "SB TTYPE SEND",
    "SB CHARSET REQUEST \";UTF-8;ISO-8859-1\"",
    "SB TTYPE SEND",
    "SB TTYPE SEND",
    "EOR",
];

#[test]
fn mudlet_gets_mtts_charset_mssp_gmcp_mccp2_and_eor_prompts() {
    let server = TestServer::with_config(answers_only_config());
    let (mudlet, report) = recorded_session(&server, Recorded::Mudlet, &MUDLET_OPENING, "mud");
    assert_report(
        &report,
        &[
            "client: Mudlet 4.18.5",
            "terminal type: ANSI-TRUECOLOR",
            // The third SEND came after Mudlet accepted UTF-8: 2345 + 4.
            "MTTS: 2349 (ANSI, UTF-8, 256 colors, OSC color palette, truecolor, TLS)",
            "window: 100x40 (lines wrap at 100)",
            "charset: UTF-8 (agreed by CHARSET)",
            "colors: truecolor (24-bit)",
            "compression: MCCP2 on (…)",
            "editing: your client edits its own lines",
            "GMCP: on (packages: char, char.items, char.login, char.skills, client.media, \
             external.discord, ire.composer, ire.rift, room)",
            "prompts end with: IAC EOR",
        ],
    );
    assert!(mudlet.incoming.zlib_starts.len() == 1 && mudlet.incoming.zlib_ends.is_empty());
}

#[test]
fn tintin_gets_mtts_charset_mccp2_and_eor_prompts_but_no_mssp_or_gmcp() {
    let server = TestServer::with_config(answers_only_config());
    let (tintin, report) = recorded_session(&server, Recorded::TinTin, &TINTIN_OPENING, "tt");
    assert_report(
        &report,
        &[
            "client: TINTIN++",
            "terminal type: tmux-256color",
            "MTTS: 271 (ANSI, VT100, UTF-8, 256 colors, truecolor)",
            "window: 100x30 (lines wrap at 100)",
            "charset: UTF-8 (agreed by CHARSET)",
            "colors: truecolor (24-bit)",
            "compression: MCCP2 on (…)",
            "editing: your client edits its own lines",
            "GMCP: off",
            "prompts end with: IAC EOR",
        ],
    );
    assert!(
        tintin.gmcp().is_empty(),
        "GMCP after DONT GMCP: {:?}",
        tintin.gmcp()
    );
}

#[test]
fn tintin_with_the_gmcp_event_gets_gmcp() {
    let server = TestServer::with_config(answers_only_config());
    let (mut tintin, report) =
        recorded_session(&server, Recorded::TinTinGmcp, &TINTIN_OPENING, "ttg");
    assert_eq!(report[8], "GMCP: on (all packages)", "{report:#?}");
    // The roster of the room it entered came with the sign-on.
    assert_eq!(
        tintin.expect_gmcp("Room.Players"),
        json!([{"name": "ttg", "fullname": "ttg"}])
    );
}

#[test]
fn mushclient_gets_latin1_ga_prompts_and_mccp2() {
    let server = TestServer::with_config(answers_only_config());
    let expected = [
        "SB TTYPE SEND",
        "SB CHARSET REQUEST \";UTF-8;ISO-8859-1\"",
        "SB TTYPE SEND",
        "SB TTYPE SEND",
        // It refused EOR and has not SGA: a telnet GA marks the prompt.
        "GA",
    ];
    let (_mush, report) = recorded_session(&server, Recorded::MushClient, &expected, "mush");
    assert_report(
        &report,
        &[
            "client: mushclient",
            "terminal type: ANSI",
            "MTTS: 265 (ANSI, 256 colors, truecolor)",
            "window: size not reported (lines wrap at 80)",
            "charset: ISO-8859-1 (MTTS did not declare UTF-8)",
            "colors: truecolor (24-bit)",
            "compression: MCCP2 on (…)",
            "editing: your client edits its own lines",
            "GMCP: off",
            "prompts end with: IAC GA",
        ],
    );
}

// ---------------------------------------------------------------------------
// 2. The same openings, cut into pieces

/// One opening: what tavern sent through the prompt, and what the client
/// sent before it.
fn opening(addr: SocketAddr, client: Recorded, chunking: Chunking) -> (Vec<Item>, Vec<u8>) {
    let mut mud = MudClient::connect(addr, client.script(), chunking);
    mud.expect_marked_prompt();
    (mud.opening(), mud.sent.clone())
}

#[test]
fn openings_cut_into_bytes_or_random_pieces_get_the_same_answers() {
    // One server, nobody signed on: the MSSP table (players, uptime, port)
    // is the same for every run, so the items compare byte for byte.
    let server = TestServer::with_config(answers_only_config());
    for client in Recorded::ALL {
        let (whole, sent) = opening(server.addr, client, Chunking::AsTheClientWrites);
        let runs = [Chunking::OneByteAtATime]
            .into_iter()
            .chain((1..=5).map(|seed| Chunking::Seeded(seed * 7919)));
        for chunking in runs {
            let (items, cut_sent) = opening(server.addr, client, chunking);
            assert_eq!(
                cut_sent, sent,
                "{client:?} {chunking:?}: the client sent other bytes"
            );
            assert_eq!(
                items, whole,
                "{client:?} {chunking:?}: tavern answered differently"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// 3. Latin-1 for MUSHclient

#[test]
fn mushclient_without_utf8_reads_and_writes_latin1() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    let mut mush = MudClient::recorded(server.addr, Recorded::MushClient);
    mush.expect_marked_prompt();
    mush.sign_on("mush");
    ann.send_line("café 你 ÿ");
    // é is one Latin-1 byte, 你 is not in Latin-1, ÿ is 255, doubled as IAC.
    mush.expect("ann: café ? ÿ");
    assert!(
        contains(&mush.incoming.plain, b"caf\xe9 ? \xff\xff\r\n"),
        "not Latin-1: {:?}",
        mush.incoming.plain.escape_ascii().to_string()
    );
    assert!(
        !contains(&mush.incoming.plain, "café".as_bytes()),
        "UTF-8 reached it"
    );
    // What it types is Latin-1 too.
    mush.send(b"caf\xe9 au lait\r\n");
    ann.expect("mush: café au lait");
}

// ---------------------------------------------------------------------------
// 4. MSSP

/// A crawler's visit: the MSSP table tavern sends on DO MSSP.
fn crawl(addr: SocketAddr) -> Vec<(String, String)> {
    let mut crawler = MudClient::connect(addr, Box::new(Crawler), Chunking::AsTheClientWrites);
    crawler.wait_until("SB MSSP", |c| {
        c.items().iter().any(|i| matches!(i, Item::Sb(MSSP, _)))
    });
    let items = crawler.items();
    let payload = items
        .iter()
        .find_map(|i| match i {
            Item::Sb(MSSP, payload) => Some(payload.clone()),
            _ => None,
        })
        .expect("just seen");
    mssp_table(&payload)
}

#[test]
fn mssp_reports_live_players_and_the_start_time() {
    let before_start = unix_now();
    let server = TestServer::start();
    let mut users = sign_on_all(&server, ["ann", "bob"]);
    let table = crawl(server.addr);
    let now = unix_now();
    assert_eq!(lookup(&table, "NAME"), Some("tavern"));
    assert_eq!(lookup(&table, "PLAYERS"), Some("2"), "{table:?}");
    let uptime: u64 = lookup(&table, "UPTIME")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("UPTIME is no unix time: {table:?}"));
    assert!(
        uptime >= before_start && uptime <= now,
        "UPTIME {uptime} is not when the server started (between {before_start} and {now})"
    );
    assert!(lookup(&table, "CODEBASE").is_some_and(|c| c.starts_with("tavern")));
    let port = server.addr.port().to_string();
    assert_eq!(lookup(&table, "PORT"), Some(port.as_str()));
    assert_eq!(lookup(&table, "CRAWL DELAY"), Some("-1"));

    let _cat = Client::sign_on(server.addr, "cat");
    let table = crawl(server.addr);
    assert_eq!(lookup(&table, "PLAYERS"), Some("3"), "{table:?}");
    assert_eq!(lookup(&table, "UPTIME"), Some(uptime.to_string().as_str()));

    // A crawler that does not speak telnet asks with a line instead.
    let mut plain = Client::connect(server.addr);
    plain.expect("Nickname: ");
    plain.send_line("MSSP-REQUEST");
    plain.expect("MSSP-REPLY-START\n");
    let body = plain.expect("MSSP-REPLY-END\n");
    let text_table: Vec<(String, String)> = body
        .lines()
        .take_while(|line| *line != "MSSP-REPLY-END")
        .map(|line| {
            let (name, value) = line
                .split_once('\t')
                .unwrap_or_else(|| panic!("not NAME<TAB>VALUE: {line:?}"));
            (name.to_owned(), value.to_owned())
        })
        .collect();
    assert_eq!(
        text_table, table,
        "the text form differs from the telnet form"
    );
    plain.expect("Nickname: ");
    for user in &mut users {
        user.pump();
    }
}

// ---------------------------------------------------------------------------
// 5. GMCP

#[test]
fn gmcp_carries_the_roster_and_every_line_with_its_channel() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    let mut mudlet = MudClient::recorded(server.addr, Recorded::Mudlet);
    mudlet.expect_marked_prompt();
    mudlet.sign_on("mud");
    let welcome = mudlet.expect_gmcp("Comm.Channel.Text");
    assert_eq!(welcome["channel"], "system");
    assert!(welcome.get("talker").is_none(), "{welcome}");
    assert!(
        welcome["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("*** Welcome, mud!")),
        "{welcome}"
    );
    assert_eq!(
        mudlet.expect_gmcp("Room.Players"),
        json!([{"name": "ann", "fullname": "ann"}, {"name": "mud", "fullname": "mud"}])
    );

    let mut bob = Client::sign_on(server.addr, "bob");
    assert_eq!(
        mudlet.expect_gmcp("Room.AddPlayer"),
        json!({"name": "bob", "fullname": "bob"})
    );
    assert_eq!(
        mudlet.expect_gmcp("Comm.Channel.Text"),
        json!({"channel": "lobby", "text": "*** bob has joined lobby"})
    );
    bob.send_line("hello");
    assert_eq!(
        mudlet.expect_gmcp("Comm.Channel.Text"),
        json!({"channel": "lobby", "talker": "bob", "text": "bob: hello"})
    );
    bob.send_line("/msg mud psst");
    assert_eq!(
        mudlet.expect_gmcp("Comm.Channel.Text"),
        json!({"channel": "private", "talker": "bob", "text": "[msg from bob] psst"})
    );
    bob.send_line("/nick robert");
    assert_eq!(mudlet.expect_gmcp("Room.RemovePlayer"), json!("bob"));
    assert_eq!(
        mudlet.expect_gmcp("Room.AddPlayer"),
        json!({"name": "robert", "fullname": "robert"})
    );
    assert_eq!(
        mudlet.expect_gmcp("Comm.Channel.Text"),
        json!({"channel": "lobby", "text": "*** bob is now known as robert"})
    );
    bob.send_line("/quit");
    assert_eq!(mudlet.expect_gmcp("Room.RemovePlayer"), json!("robert"));
    assert_eq!(
        mudlet.expect_gmcp("Comm.Channel.Text"),
        json!({"channel": "lobby", "text": "*** robert has quit"})
    );
    mudlet.expect("robert has quit");

    // Its own /join: the roster of the room it enters.
    mudlet.send_line("/join den");
    assert_eq!(
        mudlet.expect_gmcp("Room.Players"),
        json!([{"name": "mud", "fullname": "mud"}])
    );
    mudlet.send_line("/join lobby");
    assert_eq!(
        mudlet.expect_gmcp("Room.Players"),
        json!([{"name": "ann", "fullname": "ann"}, {"name": "mud", "fullname": "mud"}])
    );

    // Without Comm.Channel it still sees the lines, but no more GMCP text.
    // Its /client answer shows the Remove was read before ann speaks.
    mudlet.send(&gmcp(r#"Core.Supports.Remove ["Comm.Channel 1"]"#));
    mudlet.client_report();
    let texts_before = count_gmcp(&mudlet, "Comm.Channel.Text");
    ann.send_line("after the remove");
    mudlet.expect("ann: after the remove");
    assert_eq!(
        count_gmcp(&mudlet, "Comm.Channel.Text"),
        texts_before,
        "Comm.Channel.Text after Core.Supports.Remove: {:?}",
        mudlet.gmcp().last()
    );
}

/// The roster wish follows the client after sign-on: `Room` removed, no
/// roster on entering a room (nor any roster news); added back, the room's
/// roster at once, and on every room entered after.
#[test]
fn the_gmcp_roster_follows_core_supports_after_sign_on() {
    let server = TestServer::start();
    let _ann = Client::sign_on(server.addr, "ann");
    let mut mudlet = MudClient::recorded(server.addr, Recorded::Mudlet);
    mudlet.expect_marked_prompt();
    mudlet.sign_on("mud");
    mudlet.expect_gmcp("Room.Players");

    mudlet.send(&gmcp(r#"Core.Supports.Remove ["Room 1"]"#));
    mudlet.send_line("/join den");
    mudlet.expect("You are now in den");
    let _bob = Client::sign_on(server.addr, "bob");
    mudlet.send_line("/join lobby");
    mudlet.expect("You are now in lobby");
    mudlet.client_report();
    let rosters = |mudlet: &MudClient| {
        mudlet
            .gmcp()
            .iter()
            .filter(|(package, _)| package.starts_with("Room."))
            .count()
    };
    assert_eq!(
        rosters(&mudlet),
        1,
        "only the roster from before the Remove"
    );

    mudlet.send(&gmcp(r#"Core.Supports.Add ["Room 1"]"#));
    assert_eq!(
        mudlet.expect_gmcp("Room.Players"),
        json!([{"name": "ann", "fullname": "ann"}, {"name": "bob", "fullname": "bob"}, {"name": "mud", "fullname": "mud"}])
    );
    mudlet.send_line("/join den");
    assert_eq!(
        mudlet.expect_gmcp("Room.Players"),
        json!([{"name": "mud", "fullname": "mud"}])
    );
}

fn count_gmcp(client: &MudClient, package: &str) -> usize {
    client.gmcp().iter().filter(|(p, _)| p == package).count()
}

// ---------------------------------------------------------------------------
// 6. MCCP2

#[test]
fn mccp2_lines_inflate_as_they_arrive_and_dont_mccp2_ends_the_stream_cleanly() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    let mut tintin = MudClient::recorded(server.addr, Recorded::TinTin);
    tintin.expect_marked_prompt();
    tintin.sign_on("tt");
    // A zlib stream (RFC 1950 header: CM 8, FCHECK), not raw deflate.
    let start = tintin.incoming.zlib_starts[0];
    let header = &tintin.incoming.wire[start..start + 2];
    assert!(
        header[0] & 0x0f == 8 && (u16::from(header[0]) * 256 + u16::from(header[1])) % 31 == 0,
        "no zlib header after the MCCP2 start: {header:02x?}"
    );
    // Each line is readable on its own: the next one is only said once the
    // client has inflated this one.
    for i in 0..5 {
        ann.send_line(&format!("packed line {i}"));
        tintin.expect(&format!("ann: packed line {i}"));
    }
    assert!(
        !contains(&tintin.incoming.wire, b"packed line"),
        "sent in clear"
    );

    // TinTin++ 2.02.20 src/telopt_client.c:1978-1985 client_send_dont_mccp2
    // (sent after an inflate error; Mudlet's newest does the same).
    tintin.send(&neg(DONT, MCCP2));
    tintin.wait_until("the end of the zlib stream", |c| {
        !c.incoming.zlib_ends.is_empty()
    });
    let end = tintin.incoming.zlib_ends[0];
    tintin.wait_until("WONT MCCP2", |c| c.incoming.wire.len() >= end + 3);
    assert_eq!(
        &tintin.incoming.wire[end..end + 3],
        &[IAC, WONT, MCCP2],
        "tavern's answer should follow the stream's end, in clear"
    );
    ann.send_line("plain again");
    tintin.expect("ann: plain again");
    assert!(contains(&tintin.incoming.wire[end..], b": plain again\r\n"));
    assert_eq!(
        tintin.incoming.zlib_starts.len(),
        1,
        "compression restarted"
    );
}

#[test]
fn dont_mccp2_in_the_same_write_as_a_line_still_gets_its_wont_after_the_stream_end() {
    // Regression: when IAC DONT MCCP2 arrived in the same read as an earlier
    // event (here a typed line; an IAC NOP or a refused WILL did the same),
    // tavern's IAC WONT MCCP2 went out compressed, inside the zlib stream,
    // because the telnet layer answered the whole read before the session
    // saw the DONT. Answers are now released only after their own event.
    let server = TestServer::start();
    let mut tintin = MudClient::recorded(server.addr, Recorded::TinTin);
    tintin.expect_marked_prompt();
    tintin.sign_on("tt");
    // A typed line and TinTin++'s DONT MCCP2 (telopt_client.c:1978-1985)
    // coalesced into one TCP segment.
    let mut bytes = b"one more line\r\n".to_vec();
    bytes.extend_from_slice(&neg(DONT, MCCP2));
    tintin.send(&bytes);
    tintin.wait_until("the line, the WONT and the end of the zlib stream", |c| {
        !c.incoming.zlib_ends.is_empty()
            && c.items().contains(&Item::Neg(WONT, MCCP2))
            && c.visible().contains("tt: one more line")
    });
    let end = tintin.incoming.zlib_ends[0];
    assert!(
        contains(&tintin.incoming.wire[end..], &[IAC, WONT, MCCP2]),
        "WONT MCCP2 was sent inside the zlib stream; in clear after its end came only {:?}",
        tintin.incoming.wire[end..].escape_ascii().to_string()
    );
}

/// Words for chatter that does not repeat itself line for line.
const WORDS: &str = "the a innkeeper stew ale bard song horse door fire chair tonight \
    tomorrow road north rain coin dragon map seen heard is was who why and but never again \
    old warm cold good better lost found sword king village river bridge quest tale laugh \
    cheers friend stranger ?";

#[test]
fn mccp2_shrinks_a_busy_room() {
    const LINES: usize = 200;
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut rng = Rng(2024);
    let mut saying = move || {
        let count = 5 + rng.next() % 8;
        (0..count)
            .map(|_| words[(rng.next() % words.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let server = TestServer::start();
    let mut zipped = MudClient::recorded(server.addr, Recorded::TinTin);
    // TinTin++ with #config {MCCP} {OFF}: DONT MCCP2 (captured run e12).
    let no_mccp = TinTin {
        mccp: false,
        ..TinTin::default()
    };
    let mut plain = MudClient::connect(server.addr, Box::new(no_mccp), Chunking::AsTheClientWrites);
    for (client, nick) in [(&mut zipped, "zip"), (&mut plain, "pln")] {
        client.expect_marked_prompt();
        client.sign_on(nick);
        // Paced lines are waited for one by one: poll often.
        client.poll_every(Duration::from_millis(1));
    }
    let mut talkers = sign_on_all(&server, ["ann", "bob", "cat"]);
    for client in [&mut zipped, &mut plain] {
        client.expect("cat has joined lobby");
    }
    // The same lines twice: all at once (tavern packs what is queued into
    // one write), then one at a time (each line its own flushed write).
    let mut said = 0;
    for paced in [false, true] {
        let before = [zipped.incoming.wire.len(), plain.incoming.wire.len()];
        let first = said;
        for _ in 0..LINES {
            let tag = format!("msg {said:03}:");
            talkers[said % talkers.len()].send_line(&format!("{tag} {}", saying()));
            said += 1;
            if paced {
                for client in [&mut zipped, &mut plain] {
                    client.expect(&tag);
                }
            }
        }
        for client in [&mut zipped, &mut plain] {
            client.wait_until("all chat lines", |c| {
                let text = c.visible();
                (first..said).all(|i| text.contains(&format!("msg {i:03}:")))
            });
        }
        let chat = [
            zipped.incoming.wire.len() - before[0],
            plain.incoming.wire.len() - before[1],
        ];
        eprintln!(
            "MCCP2, {LINES} chat lines from 3 users sent {}: {} wire bytes plain, {} with \
             MCCP2 ({}%)",
            if paced { "one at a time" } else { "at once" },
            chat[1],
            chat[0],
            chat[0] * 100 / chat[1].max(1),
        );
        assert!(
            chat[0] < chat[1],
            "compressed {} >= plain {}",
            chat[0],
            chat[1]
        );
    }
    eprintln!(
        "MCCP2, whole sessions (negotiation, banner, sign-on, both chats): {} wire bytes \
         plain, {} with MCCP2",
        plain.incoming.wire.len(),
        zipped.incoming.wire.len(),
    );
    for talker in &mut talkers {
        talker.pump();
    }
    assert!(plain.incoming.zlib_starts.is_empty());
}

// ---------------------------------------------------------------------------
// 7. NAWS wrapping

/// The rows of the wrapped line from `first` to `last` (both words of it)
/// as the client shows them.
fn expect_rows(client: &mut MudClient, first: &str, last: &str) -> Vec<String> {
    let text = client.expect_line(last);
    let start = text
        .rfind(first)
        .unwrap_or_else(|| panic!("{first:?} not in {text:?}"));
    text[start..]
        .trim_end_matches('\n')
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Checks rows of `nick: said` wrapped at `width`: at spaces, greedily, each
/// row at most `width` columns, continuation rows under the text.
fn assert_wrapped(rows: &[String], nick: &str, said: &str, width: usize) {
    let prefix = format!("{nick}: ");
    let indent = " ".repeat(prefix.len());
    assert!(rows.len() > 1, "not wrapped at {width}: {rows:?}");
    assert!(rows[0].starts_with(&prefix), "{rows:?}");
    let mut words = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        assert!(
            row.width() <= width,
            "row {i} is {} columns: {rows:?}",
            row.width()
        );
        assert!(!row.ends_with(' '), "row {i} ends with a space: {rows:?}");
        let body = if i == 0 {
            &row[prefix.len()..]
        } else {
            let body = row
                .strip_prefix(&indent)
                .unwrap_or_else(|| panic!("row {i} not indented {}: {rows:?}", indent.len()));
            assert!(!body.starts_with(' '), "row {i} over-indented: {rows:?}");
            body
        };
        words.extend(body.split(' ').map(str::to_owned));
        if let Some(next) = rows.get(i + 1) {
            let next_word = next.trim_start().split(' ').next().unwrap_or_default();
            assert!(
                row.width() + 1 + next_word.width() > width,
                "{next_word:?} would have fit on row {i}: {rows:?}"
            );
        }
    }
    let said: Vec<&str> = said.split(' ').collect();
    assert_eq!(words, said, "words split or lost: {rows:?}");
}

#[test]
fn naws_width_wraps_chat_at_word_boundaries_and_a_new_size_applies_at_once() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    let narrow = TinTin {
        window: (40, 24),
        ..TinTin::default()
    };
    let mut tintin = MudClient::connect(server.addr, Box::new(narrow), Chunking::AsTheClientWrites);
    tintin.expect_marked_prompt();
    tintin.sign_on("tt");
    let said = "The quick brown fox jumps over the lazy dog while 你好世界 greets \
                everyone in the tavern and the fire crackles";
    ann.send_line(said);
    let rows = expect_rows(&mut tintin, "ann: The quick", "crackles");
    assert_wrapped(&rows, "ann", said, 40);

    // TinTin++ after a resize: the new size at once, no WILL (captured:
    // ff fa 1f 00 3c 00 14 ff f0 for 60x20).
    tintin.send(&naws(60, 20));
    assert!(
        tintin
            .client_report()
            .contains(&"window: 60x20 (lines wrap at 60)".to_owned())
    );
    let said = "Now the window is wider so these words should wrap at sixty columns \
                instead of forty and the rows get longer until the last word arrives";
    ann.send_line(said);
    let rows = expect_rows(&mut tintin, "ann: Now the", "arrives");
    assert_wrapped(&rows, "ann", said, 60);
    assert!(
        rows.iter().any(|row| row.width() > 40),
        "still 40 wide: {rows:?}"
    );

    // A size byte of 255 is sent doubled, as Mudlet 4.18.5 sendNAWS does
    // (src/ctelnet.cpp:759-775): ff fa 1f 00 ff ff 00 ff ff ff f0.
    tintin.send(&naws(255, 255));
    let report = tintin.client_report();
    assert!(
        report.contains(&"window: 255x255 (lines wrap at 255)".to_owned()),
        "{report:#?}"
    );
}

// ---------------------------------------------------------------------------
// 8. Screen readers and colors

/// A TinTin++ whose TTYPE cycle ends in `MTTS <mtts>` (its CHARSET answer
/// follows the UTF-8 bit, as TinTin++'s does), signed on as `nick`.
fn mtts_client(server: &TestServer, mtts: u32, nick: &str) -> MudClient {
    let script = TinTin {
        mtts,
        ..TinTin::default()
    };
    let mut client = MudClient::connect(server.addr, Box::new(script), Chunking::AsTheClientWrites);
    client.expect_marked_prompt();
    client.sign_on(nick);
    client
}

#[test]
fn a_screen_reader_gets_no_art_and_spoken_system_marks() {
    let server = TestServer::start();
    let sighted = mtts_client(&server, 271, "eyes");
    // ANSI + SCREEN READER.
    let mut reader = mtts_client(&server, 64 + 1, "ears");
    let sighted_banner = sighted.visible();
    let reader_banner = reader.visible();
    assert!(sighted_banner.contains(BANNER_ART), "{sighted_banner}");
    assert!(sighted_banner.contains("Welcome to"));
    assert!(!reader_banner.contains(BANNER_ART), "{reader_banner}");
    assert!(reader_banner.contains("Welcome to"), "{reader_banner}");
    reader.send_line("/who");
    reader.expect("[server] ");
    let text = reader.visible();
    assert!(text.contains("[server] Welcome, ears!"), "{text}");
    assert!(
        !text.lines().any(|line| line.starts_with("*** ")),
        "a *** line reached the screen reader: {text}"
    );
}

#[test]
fn mtts_without_ansi_gets_no_escape_codes_at_all() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    let mut bare = mtts_client(&server, 0, "bare");
    ann.send_line("hello bare");
    bare.expect("ann: hello bare");
    for command in ["/who", "/help", "/client"] {
        bare.send_line(command);
    }
    bare.expect("prompts end with");
    bare.send_line("/quit");
    bare.expect("Goodbye!");
    let plain = &bare.incoming.plain;
    assert!(
        !plain.contains(&0x1b),
        "ESC sent to a client without ANSI: {:?}",
        plain.escape_ascii().to_string()
    );
}

/// The raw text (escapes kept) of the first line containing `needle`.
fn raw_line(client: &MudClient, needle: &str) -> String {
    let text = String::from_utf8_lossy(&client.incoming.reader.text).into_owned();
    text.lines()
        .find(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}"))
        .to_owned()
}

#[test]
fn nick_colors_follow_the_declared_color_depth() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    let mut clients = vec![
        (mtts_client(&server, 1 + 256, "truecolor"), "\x1b[1;38;2;"),
        (mtts_client(&server, 1 + 8, "colors256"), "\x1b[1;38;5;"),
        (mtts_client(&server, 1, "colors16"), "\x1b[1;"),
    ];
    // A terminal without MTTS whose type says 256 colors.
    let mut netkit = MudClient::connect(server.addr, Box::new(Netkit), Chunking::AsTheClientWrites);
    netkit.expect("Nickname: ");
    netkit.sign_on("netkit");
    // It repeated its terminal type: the cycle ended after two SENDs.
    let sends = netkit
        .items()
        .iter()
        .filter(|i| matches!(i, Item::Sb(TTYPE, _)))
        .count();
    assert_eq!(sends, 2, "{:?}", netkit.items());
    // It refused CHARSET and declared nothing: tavern's default stays.
    let report = netkit.client_report();
    let fallback = "charset: UTF-8 (CHARSET refused, nothing declared; tavern's default)";
    assert!(report.contains(&fallback.to_owned()), "{report:#?}");
    assert!(
        report.contains(&"colors: 256 colors".to_owned()),
        "{report:#?}"
    );
    clients.push((netkit, "\x1b[1;38;5;"));
    ann.send_line("what color am I");
    for (client, wanted) in &mut clients {
        client.expect("ann: what color am I");
        let line = raw_line(client, "what color am I");
        assert!(line.contains(*wanted), "{wanted:?} not in {line:?}");
        if *wanted == "\x1b[1;" {
            assert!(!line.contains("38;"), "more than 16 colors: {line:?}");
        }
    }
}

/// Refuses all of tavern's offers, CHARSET included, so that only the
/// client's own CHARSET REQUEST is in play (none of the three recorded
/// clients ever sends one; RFC 2066 lets either side).
struct Refuser;

impl Script for Refuser {
    fn answer(&mut self, item: &Item) -> Vec<Vec<u8>> {
        match item {
            Item::Neg(WILL, option) => vec![neg(DONT, *option)],
            // Tavern's answer to its own WILL CHARSET: agreed.
            Item::Neg(DO, CHARSET) => Vec::new(),
            Item::Neg(DO, option) => vec![neg(WONT, *option)],
            _ => Vec::new(),
        }
    }
}

#[test]
fn a_clients_own_charset_request_is_answered_utf8_first() {
    let server = TestServer::start();
    let mut client =
        MudClient::connect(server.addr, Box::new(Refuser), Chunking::AsTheClientWrites);
    client.expect("Nickname: ");
    client.send(&neg(WILL, CHARSET));
    client.wait_until("DO CHARSET", |c| {
        c.items().contains(&Item::Neg(DO, CHARSET))
    });
    let cases: [(&[u8], &[u8]); 3] = [
        // UTF-8 is preferred wherever it stands in the list.
        (b" ISO-8859-1 utf-8", b"\x02utf-8"),
        // Latin-1 next, named as the client spelled it.
        (b";KOI8-R;latin1", b"\x02latin1"),
        (b";KOI8-R;CP1251", &[CHARSET_REJECTED]),
    ];
    for (list, answer) in cases {
        let mut request = vec![CHARSET_REQUEST];
        request.extend_from_slice(list);
        client.send(&sb(CHARSET, &request));
        let wanted = Item::Sb(CHARSET, answer.to_vec());
        client.wait_until(&format!("{wanted:?}"), |c| c.items().contains(&wanted));
    }
    client.sign_on("selfcs");
    let report = client.client_report();
    assert!(
        report.contains(&"charset: ISO-8859-1 (agreed by CHARSET)".to_owned()),
        "{report:#?}"
    );
}
