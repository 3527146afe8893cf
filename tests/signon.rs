//! Signing on: what a new connection sees between the banner and the welcome,
//! and every way a nickname can be refused.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Client, TestServer};
use tavern::Config;

/// Sends `nick` at the prompt, expects the refusal `reason` and a fresh
/// `Nickname:` prompt after it.
fn refused(client: &mut Client, nick: &str, reason: &str) {
    client.send_line(nick);
    let answer = client.expect(reason);
    assert!(
        !answer.contains("Welcome"),
        "{nick:?} was accepted: {answer:?}"
    );
    client.expect("Nickname:");
}

#[test]
fn a_valid_ascii_nick_is_welcomed_into_the_lobby() {
    let server = TestServer::start();
    let mut ann = Client::connect(server.addr);
    ann.expect("Nickname:");
    ann.send_line("ann");
    let welcome = ann.expect("Type /help for commands.");
    assert!(
        welcome.contains("*** Welcome, ann! You are in lobby with nobody else."),
        "{welcome:?}"
    );
    server.stop();
}

#[test]
fn cyrillic_and_chinese_nicks_are_welcomed_and_shown_to_others() {
    let server = TestServer::start();
    let mut ivan = Client::sign_on(server.addr, "Иван");
    let mut xiaoming = Client::sign_on(server.addr, "小明");
    ivan.expect("*** 小明 has joined lobby");
    xiaoming.send_line("你好");
    ivan.expect("小明: 你好");
    ivan.send_line("привет");
    xiaoming.expect("Иван: привет");
    server.stop();
}

#[test]
fn a_nick_typed_before_the_prompt_is_still_used() {
    let server = TestServer::start();
    let mut ann = Client::connect(server.addr);
    ann.send_line("early");
    ann.expect("Nickname:");
    ann.expect("Welcome, early!");
    server.stop();
}

#[test]
fn a_nick_taken_under_case_folding_is_refused_and_another_accepted() {
    let server = TestServer::start();
    let _ann = Client::sign_on(server.addr, "Ann");
    let mut other = Client::connect(server.addr);
    other.expect("Nickname:");
    other.send_line("ANN");
    let answer = other.expect("taken");
    assert!(!answer.contains("Welcome"), "{answer:?}");
    assert!(
        answer.contains("ANN"),
        "the refusal names the nick: {answer:?}"
    );
    other.expect("Nickname:");
    other.send_line("Ann2");
    other.expect("Welcome, Ann2!");
    server.stop();
}

#[test]
fn a_look_alike_of_a_nick_in_use_is_refused_as_taken_and_cannot_impersonate() {
    let server = TestServer::start();
    let mut admin = Client::sign_on(server.addr, "admin");
    let mut other = Client::connect(server.addr);
    other.expect("Nickname:");
    // A Cyrillic а (U+0430), capitals, and rn for m: each looks like
    // a nick in use, so each is taken.
    for lookalike in ["\u{430}dmin", "ADMIN", "adrnin"] {
        other.send_line(lookalike);
        let answer = other.expect("taken");
        assert!(answer.contains(lookalike), "{answer:?}");
        other.expect("Nickname:");
    }
    other.send_line("mallory");
    other.expect("Welcome, mallory!");
    // Nor can a renamed user take the look-alike later.
    other.send_line("/nick \u{430}dmin");
    other.expect("taken");
    // And /msg to the look-alike reaches the real admin, who is the only one.
    other.send_line("/msg \u{430}dmin hi");
    admin.expect("[msg from mallory] hi");
    server.stop();
}

#[test]
fn a_look_alike_through_a_capital_i_is_refused_at_sign_on_and_by_nick() {
    let server = TestServer::start();
    let [mut bill, mut ian, _paypal] = common::sign_on_all(&server, ["bill", "Ian", "paypal"]);
    let mut other = Client::connect(server.addr);
    other.expect("Nickname:");
    // Capital I looks like small l; lowercasing first would lose that.
    for lookalike in ["biII", "lan", "paypaI"] {
        other.send_line(lookalike);
        let answer = other.expect("taken");
        assert!(
            answer.contains(&format!("the nickname {lookalike} is taken")),
            "{answer:?}"
        );
        assert!(!answer.contains("Welcome"), "{answer:?}");
        other.expect("Nickname:");
    }
    other.send_line("mallory");
    other.expect("Welcome, mallory!");
    other.send_line("/nick biII");
    other.expect("the nickname biII is taken");
    // Another case of one's own nick is still one's own.
    bill.send_line("/nick Bill");
    bill.expect("*** bill is now known as Bill");
    ian.expect("*** bill is now known as Bill");
    // A room that passes for the lobby is the lobby.
    other.send_line("/join Iobby");
    other.expect("You are already in lobby.");
    server.stop();
}

#[test]
fn an_empty_line_at_the_prompt_is_ignored() {
    let server = TestServer::start();
    let mut ann = Client::connect(server.addr);
    ann.expect("Nickname:");
    ann.send_line("");
    ann.send_line("   ");
    ann.send_line("ann");
    let between = ann.expect("Welcome, ann!");
    assert!(!between.contains("empty"), "{between:?}");
    assert!(!between.contains("Nickname:"), "re-prompted: {between:?}");
    server.stop();
}

#[test]
fn a_nick_with_a_space_is_refused_with_a_reason() {
    let server = TestServer::start();
    let mut client = Client::connect(server.addr);
    client.expect("Nickname:");
    refused(
        &mut client,
        "two words",
        "*** a nickname cannot contain spaces.",
    );
    client.send_line("two_words");
    client.expect("Welcome, two_words!");
    server.stop();
}

#[test]
fn a_nick_with_a_snowman_is_refused_naming_the_character() {
    let server = TestServer::start();
    let mut client = Client::connect(server.addr);
    client.expect("Nickname:");
    refused(
        &mut client,
        "a☃",
        "*** '☃' is not allowed in a nickname: use letters, digits, _ and -.",
    );
    client.send_line("a");
    client.expect("Welcome, a!");
    server.stop();
}

#[test]
fn a_seventeen_character_nick_is_refused_as_too_long() {
    let server = TestServer::start();
    let mut client = Client::connect(server.addr);
    client.expect("Nickname:");
    refused(
        &mut client,
        &"x".repeat(17),
        "*** a nickname can be at most 16 characters long.",
    );
    let sixteen = "x".repeat(16);
    client.send_line(&sixteen);
    client.expect(&format!("Welcome, {sixteen}!"));
    server.stop();
}

#[test]
fn several_refusals_in_a_row_each_get_a_reason_and_a_prompt() {
    let server = TestServer::start();
    let mut client = Client::connect(server.addr);
    client.expect("Nickname:");
    refused(&mut client, "a.b", "'.' is not allowed in a nickname");
    refused(&mut client, "x y", "cannot contain spaces");
    refused(&mut client, "ann😀", "'😀' is not allowed in a nickname");
    refused(&mut client, &"明".repeat(9), "at most 16 columns wide");
    client.send_line("finally");
    client.expect("Welcome, finally!");
    server.stop();
}

#[test]
fn an_escape_sequence_in_a_nick_is_removed_before_the_nick_rules() {
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut client = Client::connect(server.addr);
    client.expect("Nickname:");
    client.send(b"\x1b[31mred\r\n");
    client.expect("Welcome, red!");
    watcher.expect("*** red has joined lobby");
    client.send_line("/who");
    let who = client.expect("watcher");
    assert!(who.contains("In lobby: 2 people"), "{who:?}");
    let raw = String::from_utf8_lossy(&watcher.raw).into_owned();
    assert!(
        !raw.contains("[31mred"),
        "the escape reached another user: {raw:?}"
    );
    server.stop();
}

#[test]
fn a_connection_that_does_not_sign_on_in_time_is_told_and_closed() {
    let server = TestServer::with_config(Config {
        signon_timeout_secs: 1,
        ..common::test_config()
    });
    let mut client = Client::connect(server.addr);
    client.expect("Nickname:");
    client.expect("You took too long to sign on. Goodbye!");
    client.expect_closed();
    // The server is still there for the next one.
    let _ann = Client::sign_on(server.addr, "ann");
    server.stop();
}

#[test]
fn quit_at_the_nickname_prompt_says_goodbye_and_closes() {
    let server = TestServer::start();
    let mut watcher = Client::sign_on(server.addr, "watcher");
    let mut client = Client::connect(server.addr);
    client.expect("Nickname:");
    client.send_line("/quit");
    client.expect("Goodbye!");
    client.expect_closed();
    // It never signed on, so the room hears nothing of it.
    watcher.send_line("/who");
    let who = watcher.expect("In lobby: 1 person");
    assert!(!who.contains("has quit"), "{who:?}");
    server.stop();
}
