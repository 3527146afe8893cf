//! Recorded traffic of real clients, replayed byte by byte over real TCP.
//!
//! The byte sequences come from captures of each client talking to a test
//! server on Debian 12 (see shared/research/real-clients.md): what the client
//! sends on connect, its answers to negotiation, and what it sends for typed
//! text in line mode and in character mode. Each test checks what tavern
//! answers on the wire and what the room sees.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Instant;

use common::telnet::{
    AO, AYT, BINARY, BRK, CHARSET, DM, DO, DONT, EC, ECHO, EL, GA, GMCP, IAC, IP, Item, LINEMODE,
    MCCP2, MSSP, NAWS, NEW_ENVIRON, NOP, Reader, SB, SE, SGA, TELOPT_EOR, TSPEED, TTYPE, TTYPE_IS,
    TTYPE_SEND, WILL, WONT, sb,
};
use common::{Client, DEADLINE, TestServer};

/// The IAC WILL/WONT/DO/DONT commands in `raw`, in order.
fn negotiation(raw: &[u8]) -> Vec<(u8, u8)> {
    Reader::parse(raw).negotiations()
}

/// Waits until tavern has sent `verb option`.
fn expect_negotiation(client: &mut Client, verb: u8, option: u8) {
    let start = Instant::now();
    while !negotiation(&client.raw).contains(&(verb, option)) {
        assert!(
            client.pump(),
            "closed while waiting for IAC {verb} {option}"
        );
        assert!(
            start.elapsed() < DEADLINE,
            "no IAC {verb} {option}; got {:?}",
            negotiation(&client.raw)
        );
    }
}

/// Waits until tavern has sent `IAC SB TTYPE SEND IAC SE`.
fn expect_ttype_send(client: &mut Client) {
    let wanted = Item::Sb(TTYPE, vec![TTYPE_SEND]);
    let start = Instant::now();
    while !Reader::parse(&client.raw).contains(&wanted) {
        assert!(client.pump(), "closed while waiting for TTYPE SEND");
        assert!(start.elapsed() < DEADLINE, "no TTYPE SEND");
    }
}

fn ttype_is(name: &str) -> Vec<u8> {
    sb(TTYPE, &[&[TTYPE_IS], name.as_bytes()].concat())
}

/// netkit telnet (netkit-telnet-ssl 0.17.41) answering tavern's DO TTYPE and
/// DO NAWS, in a 100x30 tmux window: WILL TTYPE, WILL NAWS, NAWS 100x30, then
/// TTYPE IS tmux-256color once asked.
fn netkit_handshake(client: &mut Client) {
    expect_negotiation(client, DO, TTYPE);
    client.send(&[IAC, WILL, TTYPE, IAC, WILL, NAWS]);
    client.send(&[IAC, SB, NAWS, 0, 100, 0, 30, IAC, SE]);
    expect_ttype_send(client);
    client.send(&ttype_is("tmux-256color"));
}

#[test]
fn netkit_in_character_mode_gets_echo_and_its_edited_line_arrives_exactly() {
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut netkit = Client::connect(server.addr);
    netkit_handshake(&mut netkit);
    // A terminal: tavern takes over echo and asks for character mode.
    expect_negotiation(&mut netkit, WILL, ECHO);
    expect_negotiation(&mut netkit, WILL, SGA);
    netkit.send(&[IAC, DO, ECHO, IAC, DO, SGA]);
    netkit.expect("Nickname: ");
    // Character mode: what netkit read from its pty, chunk by chunk; the line
    // ends with CR NUL.
    for chunk in [&b"n"[..], b"k", b"6649", b"\r\0"] {
        netkit.send(chunk);
    }
    watcher.expect("nk6649 has joined lobby");
    for chunk in [&b"helx"[..], b"\x7f", b"lo m51732", b"\r\0"] {
        netkit.send(chunk);
    }
    watcher.expect("nk6649: hello m51732");
    netkit.expect("nk6649: hello m51732");
    // The echo: the typed text once, the erase as BS SP BS.
    let raw = String::from_utf8_lossy(&netkit.raw).into_owned();
    assert!(raw.contains("helx\x08 \x08lo m51732"), "{raw:?}");
    assert!(!watcher.visible().contains("helx"));
}

#[test]
fn netkit_in_line_mode_sends_whole_lines_and_gets_no_echo() {
    // With line_editing = client tavern never offers to echo; netkit keeps its
    // local line editing and sends each line whole with CR LF.
    let server = TestServer::with_config(tavern::Config {
        line_editing: tavern::config::LineEditing::Client,
        ..common::test_config()
    });
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut netkit = Client::connect(server.addr);
    netkit_handshake(&mut netkit);
    netkit.expect("Nickname: ");
    netkit.send(b"nk36962\r\n");
    netkit.expect("Welcome, nk36962!");
    netkit.send(b"hello m36962\r\n");
    watcher.expect("nk36962: hello m36962");
    netkit.expect("nk36962: hello m36962");
    assert!(!negotiation(&netkit.raw).contains(&(WILL, ECHO)));
}

#[test]
fn line_editing_server_offers_echo_at_once_and_edits_for_the_client() {
    // The admin's override: no waiting for a terminal type, tavern echoes
    // and edits for every client that lets it.
    let server = TestServer::with_config(tavern::Config {
        line_editing: tavern::config::LineEditing::Server,
        ..common::test_config()
    });
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut client = Client::connect(server.addr);
    expect_negotiation(&mut client, WILL, ECHO);
    expect_negotiation(&mut client, WILL, SGA);
    client.send(&[
        IAC, DO, ECHO, IAC, DO, SGA, IAC, WONT, TTYPE, IAC, WONT, NAWS,
    ]);
    client.expect("Nickname: ");
    client.send(b"srv\r\0");
    watcher.expect("srv has joined lobby");
    client.send(b"ab\x7fc\r\0");
    watcher.expect("srv: ac");
    client.expect("srv: ac");
    let raw = String::from_utf8_lossy(&client.raw).into_owned();
    assert!(raw.contains("ab\x08 \x08c"), "no server-side echo: {raw:?}");
}

#[test]
fn putty_opening_offers_get_exact_answers_and_never_reach_the_room() {
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut putty = Client::connect(server.addr);
    // plink 0.78 speaks first, 21 bytes at once: WILL NAWS, WILL TSPEED,
    // WILL TTYPE, WILL NEW-ENVIRON, DO ECHO, WILL SGA, DO SGA.
    putty.send(&[
        0xff, 0xfb, 0x1f, 0xff, 0xfb, 0x20, 0xff, 0xfb, 0x18, 0xff, 0xfb, 0x27, 0xff, 0xfd, 0x01,
        0xff, 0xfb, 0x03, 0xff, 0xfd, 0x03,
    ]);
    expect_ttype_send(&mut putty);
    putty.send(&[IAC, SB, NAWS, 0, 100, 0, 30, IAC, SE]);
    putty.send(&ttype_is("XTERM"));
    putty.expect("Nickname: ");
    let answers = negotiation(&putty.raw);
    // tavern opened with DO TTYPE, DO NAWS and its MUD offers (EOR,
    // CHARSET, MSSP, GMCP, MCCP2); PuTTY's WILL for TTYPE and NAWS are
    // acknowledgements and get no answer. The rest are answered once each.
    assert_eq!(
        answers,
        vec![
            (DO, TTYPE),
            (DO, NAWS),
            (WILL, TELOPT_EOR),
            (WILL, CHARSET),
            (WILL, MSSP),
            (WILL, GMCP),
            (WILL, MCCP2),
            (DONT, TSPEED),
            (DONT, NEW_ENVIRON),
            (WILL, ECHO),
            (DO, SGA),
            (WILL, SGA),
            // A terminal (it asked tavern to echo): asked to send in binary
            // (RFC 856), so no typed byte reads as its escape key.
            (DO, BINARY),
        ],
    );
    for chunk in [&b"pl6197"[..], b"\r\0"] {
        putty.send(chunk);
    }
    let joined = watcher.expect("has joined lobby");
    assert!(joined.ends_with("pl6197 has joined lobby"), "{joined:?}");
    assert!(!joined.contains('\u{fffd}') && !joined.contains('ÿ'));
}

#[test]
fn tintin_is_recognised_by_its_terminal_type_and_keeps_its_own_echo() {
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut tintin = Client::connect(server.addr);
    // TinTin++ 2.02.20: WILL TTYPE, WILL NAWS and its window size at once,
    // then TINTIN++ as the first terminal type of its MTTS cycle.
    expect_negotiation(&mut tintin, DO, TTYPE);
    tintin.send(&[IAC, WILL, TTYPE]);
    tintin.send(&[IAC, WILL, NAWS, IAC, SB, NAWS, 0, 100, 0, 30, IAC, SE]);
    expect_ttype_send(&mut tintin);
    tintin.send(&ttype_is("TINTIN++"));
    tintin.expect("Nickname: ");
    tintin.send(b"tt52737\r\n");
    tintin.expect("Welcome, tt52737!");
    tintin.send(b"hello m52737\r\n");
    watcher.expect("tt52737: hello m52737");
    tintin.expect("tt52737: hello m52737");
    // A MUD client reads WILL ECHO as "hide input": tavern must not send it.
    assert!(!negotiation(&tintin.raw).contains(&(WILL, ECHO)));
    // Nor echo the typed text back (only the room's line has it).
    assert_eq!(tintin.visible().matches("hello m52737").count(), 1);
}

#[test]
fn a_name_typed_one_byte_per_write_with_negotiation_in_between_arrives_exactly() {
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut client = Client::connect(server.addr);
    expect_negotiation(&mut client, DO, TTYPE);
    // Character mode from the start (the client asks tavern to echo), then
    // the name one byte per write, with its other answers arriving between
    // the bytes as a slow client's would.
    client.send(&[IAC, DO, ECHO]);
    client.expect("Nickname: ");
    let interleaved: [&[u8]; 4] = [
        &[IAC, WILL, TTYPE],
        &[
            IAC, SB, TTYPE, TTYPE_IS, b'X', b'T', b'E', b'R', b'M', IAC, SE,
        ],
        &[IAC, WILL, NAWS, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE],
        &[IAC, NOP],
    ];
    for (i, byte) in "Zoë_9".bytes().enumerate() {
        client.send(&[byte]);
        if let Some(extra) = interleaved.get(i) {
            client.send(extra);
        }
    }
    client.send(b"\r\n");
    watcher.expect("Zoë_9 has joined lobby");
    client.expect("Welcome, Zoë_9!");
}

#[test]
fn plink_line_mode_ends_lines_with_a_bare_lf() {
    // plink with local line editing and no answer to its DO ECHO sends
    // "hello m02668\n". Here a client that refuses tavern's echo does the same.
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut plink = Client::connect(server.addr);
    expect_negotiation(&mut plink, DO, TTYPE);
    plink.send(&[IAC, WONT, TTYPE, IAC, WONT, NAWS]);
    expect_negotiation(&mut plink, WILL, ECHO);
    plink.send(&[IAC, DONT, ECHO, IAC, DONT, SGA]);
    plink.expect("Nickname: ");
    plink.send(b"pl02668\n");
    plink.expect("Welcome, pl02668!");
    plink.send(b"hello m02668\n");
    watcher.expect("pl02668: hello m02668");
}

#[test]
fn a_raw_tcp_client_that_answers_nothing_still_chats_with_bare_lf() {
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut raw = Client::connect(server.addr);
    raw.expect("Nickname: ");
    raw.send(b"nc_user\nhi from nc\n");
    watcher.expect("nc_user: hi from nc");
}

#[test]
fn lines_sent_before_negotiation_ends_are_kept_for_sign_on() {
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut raw = Client::connect(server.addr);
    // At once, before tavern's negotiation wait is over (as `printf | nc` does).
    raw.send(b"early\nfirst words\n");
    watcher.expect("early: first words");
}

#[test]
fn a_script_that_sends_its_lines_and_hangs_up_at_once_is_still_heard() {
    // `printf 'piper\nhello and bye\n' | nc -N HOST PORT`: everything, then
    // FIN, all before tavern's negotiation wait is over.
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut piper = Client::connect(server.addr);
    piper.send(b"piper\nhello and bye\n");
    piper
        .stream()
        .shutdown(std::net::Shutdown::Write)
        .expect("half close");
    watcher.expect("piper: hello and bye");
    watcher.expect("piper lost their connection");
}

#[test]
fn iac_commands_mid_line_act_on_the_line_and_never_reach_the_room() {
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut client = Client::sign_on(server.addr, "cmds");
    // EC erases one character, EL the whole line, IP clears it too; none
    // of their bytes reach the text.
    client.send(&[b'a', b'b', b'x', IAC, EC, b'c', b'\r', b'\n']);
    watcher.expect("cmds: abc");
    client.send(&[
        b'g', b'o', b'n', b'e', IAC, EL, b'k', b'e', b'p', b't', b'\r', b'\n',
    ]);
    watcher.expect("cmds: kept");
    client.send(&[b'n', b'o', IAC, IP, b'y', b'e', b's', b'\r', b'\n']);
    watcher.expect("cmds: yes");
    // BRK clears the line as IP does.
    client.send(&[b'z', b'a', b'p', IAC, BRK, b'b', b'r', b'k', b'\r', b'\n']);
    watcher.expect("cmds: brk");
    // AYT gets a visible answer to the asker only.
    client.send(&[IAC, AYT]);
    client.expect("yes, I am here");
    // DM, NOP, AO and GA mid-line leave the line alone.
    client.send(&[
        b'o', IAC, DM, b'k', IAC, NOP, IAC, AO, IAC, GA, b'!', b'\r', b'\n',
    ]);
    let seen = watcher.expect("cmds: ok!");
    assert!(!seen.contains("gone") && !seen.contains("no") && !seen.contains('ÿ'));
}

#[test]
fn a_client_offering_linemode_is_refused_cleanly_and_does_not_hang() {
    let server = TestServer::start();
    let mut client = Client::connect(server.addr);
    client.send(&[IAC, WILL, LINEMODE]);
    expect_negotiation(&mut client, DONT, LINEMODE);
    client.expect("Nickname: ");
    client.send(b"lm_user\r\n");
    client.expect("Welcome, lm_user!");
}

#[test]
fn a_subnegotiation_split_across_writes_and_an_oversize_one_do_not_disturb_chat() {
    let server = TestServer::with_config(tavern::Config {
        max_subnegotiation: 64,
        ..common::test_config()
    });
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut client = Client::sign_on(server.addr, "sb_user");
    client.send(&[IAC, SB, NAWS, 0]);
    client.send(&[120, 0]);
    client.send(&[40, IAC]);
    client.send(&[SE, b'h', b'i', b'\r', b'\n']);
    watcher.expect("sb_user: hi");
    let mut big = vec![IAC, SB, 200];
    big.extend(std::iter::repeat_n(b'x', 10_000));
    big.extend_from_slice(&[IAC, SE]);
    big.extend_from_slice(b"still here\r\n");
    client.send(&big);
    let seen = watcher.expect("sb_user: still here");
    assert!(!seen.contains("xxx"));
}
