//! The line editor over real TCP (issue 15, parts 1, 3 and 4): what a
//! terminal in character mode sees for ^C, a refused nickname, Up and a
//! window resize mid-line, and that a client editing its own lines gets
//! none of it.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Instant;

use common::telnet::{DO, ECHO, IAC, IP, NAWS, Reader, SGA, TTYPE, WILL, WONT};
use common::{Client, DEADLINE, TestServer};

/// A server that edits for every client that lets it (no wait for a
/// terminal type).
fn server() -> TestServer {
    TestServer::with_config(tavern::Config {
        line_editing: tavern::config::LineEditing::Server,
        ..common::test_config()
    })
}

/// A terminal in character mode, at the nickname prompt: it agrees to
/// tavern's echo and SGA, as netkit and inetutils telnet do.
fn terminal(server: &TestServer) -> Client {
    let mut client = Client::connect(server.addr);
    let start = Instant::now();
    while !Reader::parse(&client.raw)
        .negotiations()
        .contains(&(WILL, ECHO))
    {
        assert!(client.pump(), "closed while waiting for WILL ECHO");
        assert!(start.elapsed() < DEADLINE, "no WILL ECHO");
    }
    client.send(&[
        IAC, DO, ECHO, IAC, DO, SGA, IAC, WONT, TTYPE, IAC, WONT, NAWS,
    ]);
    client.expect("Nickname: ");
    client
}

/// The text tavern sent (telnet items removed, escapes and CR kept).
fn screen_bytes(client: &Client) -> String {
    String::from_utf8_lossy(&Reader::parse(&client.raw).text).into_owned()
}

#[test]
fn a_refused_nickname_stays_on_screen_with_its_error_under_it() {
    let server = server();
    let mut client = terminal(&server);
    client.send(b"two words\r\0");
    client.expect("*** a nickname cannot contain spaces.");
    client.expect("Nickname: ");
    // The name as typed, a line end, then the reason: nothing lifted it.
    let visible = client.visible();
    assert!(
        visible.contains("Nickname: two words\n*** a nickname cannot contain spaces.\nNickname: "),
        "{visible:?}"
    );
    client.send(b"ann\r\0");
    client.expect("Welcome, ann!");
    assert!(client.visible().contains("Nickname: ann\n"));
    server.stop();
}

#[test]
fn ctrl_c_shows_caret_c_and_a_fresh_line_and_nothing_reaches_the_room() {
    let server = server();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut client = terminal(&server);
    client.send(b"srv\r\0");
    watcher.expect("srv has joined lobby");
    client.send(b"secret");
    client.expect("secret");
    client.send(b"\x03");
    client.expect("^C");
    // telnet IP, as a client with `localchars` sends ^C, does the same.
    client.send(b"more");
    client.expect("more");
    client.send(&[IAC, IP]);
    client.expect("^C");
    client.send(b"ok\r\0");
    watcher.expect("srv: ok");
    client.expect("srv: ok");
    let screen = screen_bytes(&client);
    assert!(screen.contains("secret^C\r\n"), "{screen:?}");
    assert!(screen.contains("more^C\r\n"), "{screen:?}");
    assert!(!watcher.visible().contains("secret"));
    assert!(!watcher.visible().contains("more"));
    server.stop();
}

#[test]
fn up_recalls_the_previous_line_and_down_returns_to_the_one_being_typed() {
    let server = server();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut client = terminal(&server);
    client.send(b"srv\r\0");
    watcher.expect("srv has joined lobby");
    client.send(b"first line\r\0");
    watcher.expect("srv: first line");
    client.send(b"second\r\0");
    watcher.expect("srv: second");
    // Up twice (normal and application cursor keys), then edit and send.
    client.send(b"\x1b[A");
    client.send(b"\x1bOA");
    client.send(b"\x7f\x7f\x7f\x7fLINE\r\0");
    watcher.expect("srv: first LINE");
    // A draft survives a trip through the history.
    client.send(b"draft\x1b[A\x1b[B!\r\0");
    watcher.expect("srv: draft!");
    server.stop();
}

#[test]
fn a_client_that_edits_its_own_lines_gets_no_caret_c_and_no_recall() {
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    // Answers no negotiation: it edits and echoes its own lines.
    let mut mud = Client::sign_on(server.addr, "mud");
    mud.send_line("one");
    watcher.expect("mud: one");
    mud.send(b"half");
    mud.send(&[IAC, IP]);
    mud.send(b"\x1b[A\x03two\r\n");
    watcher.expect("mud: two");
    mud.expect("mud: two");
    let screen = screen_bytes(&mud);
    assert!(!screen.contains("^C"), "{screen:?}");
    assert!(!watcher.visible().contains("one\nmud: one"));
    assert!(!watcher.visible().contains("half"));
    server.stop();
}

#[test]
fn left_right_home_end_and_delete_edit_inside_the_line() {
    let server = server();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut client = terminal(&server);
    client.send(b"srv\r\0");
    watcher.expect("srv has joined lobby");
    // "hllo", Left ×3 to after the h, "e"; End, "!"; Home, Delete, "H".
    for read in [
        &b"hllo"[..],
        b"\x1b[D\x1b[D\x1b[D",
        b"e",
        b"\x1b[F!",
        b"\x1b[H",
        b"\x1b[3~H",
        b"\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C",
        b"\r\0",
    ] {
        client.send(read);
    }
    watcher.expect("srv: Hello!");
    client.expect("srv: Hello!");
    server.stop();
}

/// Tab (issue 15, part 2): a nick of the room from its prefix, any case,
/// `: ` after it at the line's start, a second Tab the next one; a
/// command name after `/`; a space after a nick inside the line. Each
/// Tab is sent once the previous one's answer is on screen: two Tabs in
/// one read are a pasted tab and a Tab.
#[test]
fn tab_completes_nicks_of_the_room_and_command_names() {
    let server = server();
    let [mut annie, _anton, _bob] = common::sign_on_all(&server, ["annie", "Anton", "bob"]);
    let mut elsewhere = Client::sign_on(server.addr, "andy");
    elsewhere.send_line("/join cellar");
    elsewhere.expect("You are now in cellar");
    let mut client = terminal(&server);
    client.send(b"srv\r\0");
    annie.expect("srv has joined lobby");

    client.send(b"AN");
    client.send(b"\t");
    client.expect("annie: ");
    client.send(b"\t");
    client.expect("Anton: ");
    client.send(b"hello\r\0");
    annie.expect("srv: Anton: hello");

    client.send(b"see you, B");
    client.send(b"\t");
    client.expect("see you, bob ");
    client.send(b"!\r\0");
    annie.expect("srv: see you, bob !");

    client.send(b"/whoi");
    client.send(b"\t");
    client.expect("/whois ");
    client.send(b"ann");
    client.send(b"\t");
    client.expect("/whois annie ");
    client.send(b"\r\0");
    client.expect("annie is in lobby");

    // andy is in another room: not offered; nothing is, so a bell.
    let before = client.raw.len();
    client.send(b"and");
    client.send(b"\t");
    let start = Instant::now();
    while !client.raw[before..].contains(&0x07) {
        assert!(client.pump(), "closed while waiting for the bell");
        assert!(start.elapsed() < DEADLINE, "no bell");
    }
    client.send(b"y\r\0");
    annie.expect("srv: andy");
    server.stop();
}

/// Waits until the text tavern sent (escapes kept) holds `needle`.
fn wait_for_screen_bytes(client: &mut Client, needle: &str) {
    let start = Instant::now();
    while !screen_bytes(client).contains(needle) {
        assert!(client.pump(), "closed while waiting for {needle:?}");
        assert!(
            start.elapsed() < DEADLINE,
            "no {needle:?} in {:?}",
            screen_bytes(client)
        );
    }
}

#[test]
fn a_window_resize_mid_line_draws_the_line_again_for_the_new_width() {
    let server = server();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut client = terminal(&server);
    client.send(b"srv\r\0");
    watcher.expect("srv has joined lobby");
    // A window 10 columns wide (handled in order, before what is typed).
    let [high, low] = 10u16.to_be_bytes();
    client.send(&[IAC, WILL, NAWS]);
    client.send(&common::telnet::sb(NAWS, &[high, low, 0, 24]));
    // Nine letters, then a wide character that does not fit in the last
    // column of the 10-column window: it starts the second row.
    client.send("abcdefghi李".as_bytes());
    client.expect("abcdefghi李");
    // Twenty columns: the line fits the first row now. It is lifted from
    // the row the cursor is on (a terminal that does not reflow left the
    // rows as they were; one that does has it on one row) and drawn again.
    let [high, low] = 20u16.to_be_bytes();
    client.send(&common::telnet::sb(NAWS, &[high, low, 0, 24]));
    wait_for_screen_bytes(&mut client, "\r\x1b[Jabcdefghi李");
    // The cursor moves by the new width's columns: on 李, at column 9 of
    // the same row (at 10 columns it was at the next row's start).
    client.send(b"\x1b[D");
    wait_for_screen_bytes(&mut client, "\r\x1b[Jabcdefghi李\r\x1b[9C");
    client.send(b"\x1b[F!\r\0");
    watcher.expect("srv: abcdefghi李!");
    server.stop();
}
