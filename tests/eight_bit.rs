//! Text from and to 8-bit clients, over real sockets: a client on the
//! Latin-1 fallback, or one that agreed ISO-8859-1 by CHARSET, types
//! Windows-1252 (`Ÿ` is 0x9F, `ž` 0x9E) and a UTF-8 user reads it whole;
//! UTF-8 text goes back to it in the bytes it can show.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Instant;

use common::telnet::{self, CHARSET, CHARSET_REQUEST, DO, IAC, SB, WILL, sb};
use common::{Client, DEADLINE, TestServer, sign_on_all};

/// Waits until `needle` is in the text `client` received, as bytes with
/// telnet commands, escapes and CR removed (an 8-bit client's text is not
/// UTF-8, so `Client::expect` cannot see it).
fn expect_bytes(client: &mut Client, needle: &[u8]) {
    let text = |raw: &[u8]| telnet::strip_ansi(&telnet::Reader::parse(raw).text);
    wait_until(client, needle, text);
}

/// Waits until `needle` is in the raw bytes `client` received.
fn expect_raw(client: &mut Client, needle: &[u8]) {
    wait_until(client, needle, <[u8]>::to_vec);
}

fn wait_until(client: &mut Client, needle: &[u8], view: impl Fn(&[u8]) -> Vec<u8>) {
    let start = Instant::now();
    while !view(&client.raw).windows(needle.len()).any(|w| w == needle) {
        assert!(
            client.pump(),
            "connection closed waiting for {:?}",
            String::from_utf8_lossy(needle)
        );
        assert!(
            start.elapsed() < DEADLINE,
            "timed out waiting for {needle:x?}; received {:?}",
            String::from_utf8_lossy(&client.raw)
        );
    }
}

/// The bytes a Windows-1252 client types for `Ÿes!` and `Ružièka`.
const YES: &[u8] = b"\x9fes!";
const RUZIECKA: &[u8] = b"Ru\x9ei\xe8ka";

#[test]
fn a_client_on_the_latin1_fallback_sends_windows_1252_and_gets_it_back() {
    let server = TestServer::start();
    let [mut bob, mut zoe] = sign_on_all(&server, ["bob", "zoe"]);
    zoe.send(&[YES, b"\r\n"].concat());
    zoe.send(&[RUZIECKA, b"\r\n"].concat());
    bob.expect("zoe: Ÿes!\n");
    bob.expect("zoe: Ružièka\n");
    // Her own lines come back in the bytes she typed.
    expect_bytes(&mut zoe, &[b"zoe: ", YES, b"\n"].concat());
    expect_bytes(&mut zoe, &[b"zoe: ", RUZIECKA, b"\n"].concat());

    bob.send_line("Ÿes! Ružièka “quoted” €5 – done… ok");
    expect_bytes(
        &mut zoe,
        b"bob: \x9fes! Ru\x9ei\xe8ka \x93quoted\x94 \x805 \x96 done\x85 ok\n",
    );
    bob.send_line("/me says 你好 ™");
    expect_bytes(&mut zoe, b"* bob says ?? \x99\n");
}

#[test]
fn a_client_that_agreed_latin1_by_charset_gets_windows_1252_once_it_types_it() {
    let server = TestServer::start();
    let mut bob = Client::sign_on(server.addr, "bob");
    let mut zoe = Client::connect(server.addr);
    expect_raw(&mut zoe, &[IAC, WILL, CHARSET]);
    zoe.send(&[IAC, DO, CHARSET]);
    expect_raw(&mut zoe, &[IAC, SB, CHARSET, CHARSET_REQUEST]);
    zoe.send(&sb(CHARSET, b"\x02ISO-8859-1"));
    zoe.expect("Nickname:");
    zoe.send_line("zoe");
    zoe.expect("Welcome, zoe!");
    bob.expect("*** zoe has joined lobby");

    // Agreed ISO-8859-1 and nothing more: it may be a terminal that obeys
    // 0x80-0x9F as C1 controls (0x9B is CSI), so those are `?`.
    bob.send_line("Ÿes › café");
    expect_bytes(&mut zoe, b"bob: ?es ? caf\xe9\n");

    zoe.send(&[YES, b"\r\n"].concat());
    zoe.send(&[RUZIECKA, b"\r\n"].concat());
    bob.expect("zoe: Ÿes!\n");
    bob.expect("zoe: Ružièka\n");
    // It typed Windows-1252: it is sent Windows-1252 from now on.
    bob.send_line("Ÿes! Ružièka");
    expect_bytes(&mut zoe, b"bob: \x9fes! Ru\x9ei\xe8ka\n");
}

#[test]
fn invalid_utf8_from_a_utf8_client_is_read_as_windows_1252_and_nothing_is_cut() {
    let server = TestServer::start();
    let [mut bob, mut zoe] = sign_on_all(&server, ["bob", "zoe"]);
    // Declared UTF-8 by what it typed first, then stray 8-bit bytes.
    zoe.send_line("héllo");
    bob.expect("zoe: héllo\n");
    zoe.send(b"a\x9fb \x81 \x9d c\x9b31m d\r\n");
    bob.expect("zoe: aŸb \u{fffd} \u{fffd} c›31m d\n");
}
