//! Every command a signed-on user can type, and what goes wrong when it is
//! typed wrong.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{Client, DEADLINE, TestServer, sign_on_all};
use tavern::command::COMMANDS;

/// The raw bytes of the last line (up to its line end) containing `needle`.
fn raw_line<'a>(raw: &'a [u8], needle: &str) -> &'a [u8] {
    let end = raw_after(raw, needle);
    let start = raw[..end]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    &raw[start..end]
}

/// Position just past the last occurrence of `needle` in the raw bytes.
fn raw_after(raw: &[u8], needle: &str) -> usize {
    let needle = needle.as_bytes();
    raw.windows(needle.len())
        .rposition(|w| w == needle)
        .map(|p| p + needle.len())
        .unwrap_or_else(|| panic!("{:?} not in raw bytes", String::from_utf8_lossy(needle)))
}

#[test]
fn a_chat_line_reaches_everyone_in_the_room_including_the_sender() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("hello there");
    ann.expect("ann: hello there");
    bob.expect("ann: hello there");
    server.stop();
}

#[test]
fn nick_changes_the_nick_and_the_room_is_told() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/nick anna");
    ann.expect("*** ann is now known as anna");
    bob.expect("*** ann is now known as anna");
    ann.send_line("hi");
    bob.expect("anna: hi");
    // The old nick is free again, the new one is held.
    let _ann = Client::sign_on(server.addr, "ann");
    bob.send_line("/who");
    bob.expect("In lobby: 3 people\n");
    bob.expect("***   ann   idle");
    bob.expect("***   anna  idle");
    bob.expect("***   bob   idle");
    server.stop();
}

#[test]
fn nick_without_an_argument_shows_its_usage() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send_line("/nick");
    ann.expect("*** Usage: /nick NEW");
    ann.send_line("/nick two words");
    ann.expect("*** Usage: /nick NEW");
    server.stop();
}

#[test]
fn nick_to_a_taken_nick_is_refused_under_case_folding() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/nick BOB");
    let answer = ann.expect("taken");
    assert!(answer.contains("BOB"), "{answer:?}");
    // Still ann: the room hears her under her old nick.
    ann.send_line("still me");
    bob.expect("ann: still me");
    server.stop();
}

#[test]
fn nick_to_an_invalid_nick_is_refused_with_the_reason() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send_line("/nick a☃");
    ann.expect("'☃' is not allowed in a nickname");
    ann.send_line("/nick xxxxxxxxxxxxxxxxx");
    ann.expect("at most 16 characters long");
    ann.send_line("still me");
    ann.expect("ann: still me");
    server.stop();
}

#[test]
fn who_lists_the_people_in_the_room() {
    let server = TestServer::start();
    let [mut ann, _bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/who");
    ann.expect("*** In lobby: 2 people\n");
    ann.expect("***   ann  idle 0s\n");
    ann.expect("***   bob  idle ");
    server.stop();
}

#[test]
fn who_shows_how_long_someone_has_been_idle() {
    let server = TestServer::start();
    let [_ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    // ann types nothing; bob asks until her idle time has grown.
    let start = Instant::now();
    loop {
        bob.send_line("/who");
        bob.expect("In lobby: 2 people\n");
        bob.expect("***   ann  idle ");
        let idle = bob.expect("s\n");
        let seconds: u64 = idle
            .trim_end_matches("s\n")
            .parse()
            .unwrap_or_else(|_| panic!("idle time {idle:?}"));
        // bob has just typed.
        bob.expect("***   bob  idle 0s\n");
        if seconds >= 1 {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "ann never became idle");
        std::thread::sleep(Duration::from_millis(100));
    }
    server.stop();
}

#[test]
fn who_all_lists_every_room() {
    let server = TestServer::start();
    let [mut ann, mut bob, _cy] = sign_on_all(&server, ["ann", "bob", "cy"]);
    bob.send_line("/join games");
    bob.expect("You are now in games");
    ann.send_line("/who all");
    ann.expect("*** In games: 1 person");
    ann.expect("bob  idle");
    ann.expect("*** In lobby: 2 people");
    ann.expect("ann  idle");
    ann.expect("cy   idle");
    ann.send_line("/who");
    let who = ann.expect("In lobby: 2 people");
    assert!(!who.contains("games"), "{who:?}");
    server.stop();
}

#[test]
fn commands_are_case_insensitive() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send_line("/WHO");
    ann.expect("*** In lobby: 1 person");
    ann.send_line("/Me waves");
    ann.expect("* ann waves");
    ann.send_line("/JOIN Games");
    ann.expect("You are now in Games");
    server.stop();
}

#[test]
fn quit_with_a_message_tells_the_room_and_closes() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/quit see you all");
    ann.expect("Goodbye!");
    ann.expect_closed();
    bob.expect("*** ann has quit (see you all)");
    server.stop();
}

#[test]
fn quit_without_a_message_tells_the_room_and_closes() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/quit");
    ann.expect("Goodbye!");
    ann.expect_closed();
    let notice = bob.expect("*** ann has quit\n");
    assert!(!notice.contains("has quit ("), "{notice:?}");
    server.stop();
}

#[test]
fn answers_to_commands_typed_just_before_quit_arrive_before_the_goodbye() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send(b"/rooms\r\n/who\r\n/quit\r\n");
    let seen = ann.expect("Goodbye!");
    assert!(seen.contains("*** Rooms: lobby (1)"), "{seen:?}");
    assert!(seen.contains("*** In lobby: 1 person"), "{seen:?}");
    ann.expect_closed();
    server.stop();
}

#[test]
fn me_shows_an_action_to_the_room() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/me waves at everyone");
    ann.expect("* ann waves at everyone");
    bob.expect("* ann waves at everyone");
    ann.send_line("/me");
    ann.expect("*** Usage: /me ACTION");
    server.stop();
}

#[test]
fn msg_reaches_only_the_recipient_and_echoes_to_the_sender() {
    let server = TestServer::start();
    let [mut ann, mut bob, mut cy] = sign_on_all(&server, ["ann", "bob", "cy"]);
    ann.send_line("/msg BOB psst, a secret");
    bob.expect("[msg from ann] psst, a secret");
    ann.expect("[msg to bob] psst, a secret");
    // Barrier: cy's /rooms answer comes after anything the /msg sent her.
    cy.send_line("/rooms");
    let seen = cy.expect("Rooms: lobby (3)");
    assert!(!seen.contains("secret"), "{seen:?}");
    server.stop();
}

#[test]
fn msg_to_nobody_says_there_is_nobody_by_that_name() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send_line("/msg nobody hi");
    ann.expect("*** Nobody called nobody is online.");
    ann.send_line("/msg bob");
    ann.expect("*** Usage: /msg NICK TEXT");
    server.stop();
}

#[test]
fn join_moves_to_a_room_and_both_rooms_are_told() {
    let server = TestServer::start();
    let [mut ann, mut bob, mut cy] = sign_on_all(&server, ["ann", "bob", "cy"]);
    cy.send_line("/join games");
    cy.expect("*** You are now in games with nobody else.");
    ann.expect("*** cy has left for games");
    bob.expect("*** cy has left for games");
    bob.send_line("/join #games");
    bob.expect("*** You are now in games with 1 other.");
    cy.expect("*** bob has joined games");
    ann.expect("*** bob has left for games");
    // Chat now stays in each room.
    cy.send_line("in games");
    bob.expect("cy: in games");
    ann.send_line("/rooms");
    let seen = ann.expect("Rooms: games (2), lobby (1)");
    assert!(!seen.contains("in games"), "{seen:?}");
    server.stop();
}

#[test]
fn join_refuses_a_bad_room_name_with_the_reason() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send_line("/join bad☃");
    ann.expect("*** '☃' is not allowed in a room name: use letters, digits, _ and -");
    ann.send_line("/join #");
    ann.expect("*** a room name cannot be empty");
    ann.send_line(&format!("/join {}", "r".repeat(25)));
    ann.expect("*** a room name can be at most 24 characters long");
    ann.send_line("/join");
    ann.expect("*** Usage: /join ROOM");
    ann.send_line("/who");
    ann.expect("In lobby: 1 person");
    server.stop();
}

#[test]
fn join_to_the_room_you_are_in_says_so() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/join lobby");
    ann.expect("*** You are already in lobby.");
    ann.send_line("/join #lobby");
    ann.expect("*** You are already in lobby.");
    // Nobody saw ann leave or arrive.
    bob.send_line("/rooms");
    let seen = bob.expect("Rooms: lobby (2)");
    assert!(!seen.contains("ann has"), "{seen:?}");
    server.stop();
}

#[test]
fn a_room_typed_in_another_case_is_called_by_its_own_name() {
    let server = TestServer::start();
    let [mut ann, mut bob, mut cy] = sign_on_all(&server, ["ann", "bob", "cy"]);
    cy.send_line("/join games");
    cy.expect("*** You are now in games with nobody else.");
    ann.expect("*** cy has left for games");
    bob.send_line("/join GAMES");
    bob.expect("*** You are now in games with 1 other.");
    cy.expect("*** bob has joined games");
    ann.expect("*** bob has left for ");
    assert_eq!(
        ann.expect("\n"),
        "games\n",
        "the lobby is told another name"
    );
    ann.send_line("/join LOBBY");
    ann.expect("*** You are already in ");
    assert_eq!(
        ann.expect("\n"),
        "lobby.\n",
        "the room is called another name"
    );
    server.stop();
}

#[test]
fn rooms_lists_rooms_with_headcounts_and_drops_empty_ones() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    bob.send_line("/join games");
    bob.expect("You are now in games");
    ann.send_line("/rooms");
    ann.expect("*** Rooms: games (1), lobby (1)");
    bob.send_line("/join lobby");
    bob.expect("You are now in lobby with 1 other.");
    ann.send_line("/rooms");
    let rooms = ann.expect("*** Rooms: lobby (2)\n");
    assert!(!rooms.contains("games ("), "{rooms:?}");
    server.stop();
}

#[test]
fn away_is_announced_shown_in_who_and_told_to_a_msg_sender() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/away lunch");
    ann.expect("*** ann is away: lunch");
    bob.expect("*** ann is away: lunch");
    bob.send_line("/who");
    bob.expect("In lobby: 2 people");
    bob.expect("***   ann  idle ");
    // Her idle time runs on while she is away.
    let idle = bob.expect("s  away: lunch\n");
    assert!(
        idle.trim_end_matches("s  away: lunch\n")
            .parse::<u64>()
            .is_ok(),
        "{idle:?}"
    );
    bob.send_line("/msg ann are you there?");
    bob.expect("[msg to ann] are you there?");
    bob.expect("*** ann is away: lunch");
    ann.expect("[msg from bob] are you there?");
    server.stop();
}

#[test]
fn away_without_a_reason_says_away() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/away");
    bob.expect("*** ann is away.\n");
    server.stop();
}

#[test]
fn typing_anything_brings_an_away_user_back() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/away brb");
    bob.expect("*** ann is away: brb");
    ann.send_line("I am back");
    bob.expect("*** ann is back");
    bob.expect("ann: I am back");
    bob.send_line("/who");
    bob.expect("In lobby: 2 people");
    let listing = bob.expect("bob  idle");
    assert!(!listing.contains("away:"), "{listing:?}");
    // Back only once.
    ann.send_line("again");
    let seen = bob.expect("ann: again");
    assert!(!seen.contains("is back"), "{seen:?}");
    server.stop();
}

#[test]
fn color_off_sends_lines_without_escapes_and_color_on_brings_them_back() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    // Colors are on at first: bob's nick arrives colored.
    bob.send_line("first");
    ann.expect("bob: first");
    let line = raw_line(&ann.raw, ": first");
    assert!(line.contains(&0x1b), "no color at first: {line:?}");

    ann.send_line("/color off");
    ann.expect("*** Colors are off.");
    let off = raw_after(&ann.raw, "Colors are off.");
    bob.send_line("plain please");
    ann.expect("bob: plain please");
    bob.send_line("/me nods");
    ann.expect("* bob nods");
    ann.send_line("/who");
    ann.expect("bob  idle");
    let after = &ann.raw[off..];
    assert!(
        !after.contains(&0x1b),
        "escape after /color off: {:?}",
        String::from_utf8_lossy(after)
    );

    ann.send_line("/color on");
    ann.expect("*** Colors are on.");
    bob.send_line("colorful");
    ann.expect("bob: colorful");
    let line = raw_line(&ann.raw, ": colorful");
    assert!(line.contains(&0x1b), "no color after /color on: {line:?}");
    ann.send_line("/color blue");
    ann.expect("*** Usage: /color [on|off]");
    server.stop();
}

#[test]
fn with_colors_off_even_error_notices_carry_no_escape() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send_line("/color off");
    ann.expect("*** Colors are off.");
    let off = raw_after(&ann.raw, "Colors are off.");
    ann.send_line("/nick a☃");
    ann.expect("is not allowed in a nickname");
    ann.send_line(&"x".repeat(1200));
    ann.expect("Your line was too long");
    let after = &ann.raw[off..];
    assert!(
        !after.contains(&0x1b),
        "escape after /color off: {:?}",
        String::from_utf8_lossy(after)
    );
    server.stop();
}

#[test]
fn help_lists_every_command() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send_line("/help");
    ann.expect("*** Commands:");
    let last = COMMANDS.last().map(|(_, what)| *what).unwrap_or_default();
    // ann sent no window size: lines wider than 80 columns come wrapped,
    // their continuation rows indented. Joined again, each is one line.
    let listed = ann.expect(&last[..last.len().min(30)]);
    let mut lines: Vec<String> = Vec::new();
    for row in listed.lines() {
        match lines.last_mut() {
            Some(line) if row.starts_with(' ') => {
                line.push(' ');
                line.push_str(row.trim_start());
            }
            _ => lines.push(row.to_owned()),
        }
    }
    for (usage, what) in COMMANDS {
        let line = lines.iter().find(|line| line.contains(what));
        let line = line.unwrap_or_else(|| panic!("{what:?} missing from {lines:?}"));
        assert!(line.contains(usage), "{usage} missing from {line:?}");
    }
    ann.send_line("/?");
    ann.expect("*** Commands:");
    server.stop();
}

#[test]
fn an_unknown_command_is_answered_and_not_sent_to_the_room() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/foo bar");
    ann.expect("*** Unknown command /foo. Type /help for the list.");
    bob.send_line("/rooms");
    let seen = bob.expect("Rooms: lobby (2)");
    assert!(!seen.contains("foo"), "{seen:?}");
    server.stop();
}

#[test]
fn a_double_slash_sends_a_line_starting_with_a_slash() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("//shrug");
    ann.expect("ann: /shrug");
    bob.expect("ann: /shrug");
    server.stop();
}

#[test]
fn a_line_longer_than_the_limit_is_cut_and_the_sender_told() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    let long = "y".repeat(1500);
    ann.send_line(&long);
    ann.expect("*** Your line was too long and was cut to 1000 characters.");
    // bob sent no window size: the line comes wrapped at 80 columns.
    ann.send_line("end");
    let seen = bob.expect("ann: end");
    let from = seen.find("ann: y").unwrap_or_default();
    let ys = seen[from..].chars().filter(|&c| c == 'y').count();
    assert_eq!(ys, 1000, "{seen:?}");
    server.stop();
}

#[test]
fn msg_to_someone_in_another_room_reaches_them_and_to_nobody_says_nobody_is_online() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    bob.send_line("/join games");
    bob.expect("You are now in games");
    ann.send_line("/msg bob over there?");
    bob.expect("[msg from ann] over there?");
    ann.send_line("/tell zed hi");
    ann.expect("*** Nobody called zed is online.");
    server.stop();
}

#[test]
fn away_alone_while_away_comes_back() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/away lunch");
    bob.expect("*** ann is away: lunch");
    ann.send_line("/away");
    bob.expect("*** ann is back");
    ann.send_line("/away");
    bob.expect("*** ann is away.\n");
    server.stop();
}

#[test]
fn who_idle_time_counts_from_the_last_command_too() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    // Wait until ann has been idle a second, by bob's /who.
    let start = Instant::now();
    loop {
        bob.send_line("/who");
        bob.expect("***   ann  idle ");
        if bob.expect("s\n") != "0s\n" {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "ann never became idle");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A command the session answers itself (and a mistake) count as doing
    // something; the next /who shows ann idle 0s again.
    ann.send_line("/time");
    ann.expect("The server's time is ");
    ann.send_line("/nonesuch");
    ann.expect("Unknown command /nonesuch");
    bob.send_line("/who");
    bob.expect("***   ann  idle 0s\n");
    server.stop();
}

#[test]
fn part_goes_back_to_the_default_room() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/part");
    ann.expect("*** You are already in lobby, the default room.");
    ann.send_line("/join games");
    ann.expect("You are now in games");
    bob.expect("ann has left for games");
    ann.send_line("/leave");
    ann.expect("*** You are now in lobby with 1 other.");
    bob.expect("ann has joined lobby");
    server.stop();
}

#[test]
fn reply_answers_the_last_private_message() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    bob.send_line("/reply hello?");
    bob.expect("*** Nobody has sent you a private message yet");
    ann.send_line("/msg bob lunch?");
    bob.expect("[msg from ann] lunch?");
    bob.send_line("/r yes please");
    ann.expect("[msg from bob] yes please");
    bob.expect("[msg to ann] yes please");
    bob.send_line("/reply");
    bob.expect("*** Usage: /reply TEXT");
    ann.send_line("/quit");
    bob.expect("ann has quit");
    bob.send_line("/r still there?");
    bob.expect("*** Nobody called ann is online.");
    server.stop();
}

#[test]
fn whois_tells_room_idle_away_reason_client_and_since_when() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    bob.send_line("/join games");
    bob.expect("You are now in games");
    bob.send_line("/away tea");
    bob.expect("bob is away: tea");
    ann.send_line("/whois BOB");
    ann.expect("*** bob is in games, idle ");
    ann.expect("***   away: tea\n");
    // The test client answers no TTYPE.
    ann.expect("***   client: not given\n");
    let since = ann.expect(" UTC\n");
    assert!(since.contains("***   connected since 20"), "{since:?}");
    ann.send_line("/whois zed");
    ann.expect("*** Nobody called zed is online.");
    ann.send_line("/whois");
    ann.expect("*** Usage: /whois NICK");
    server.stop();
}

#[test]
fn motd_shows_the_banner_again_as_the_file_now_reads() {
    let path = std::env::temp_dir().join(format!("tavern-it-motd-{}.txt", std::process::id()));
    std::fs::write(&path, "Welcome to {server_name}, first edition\n").unwrap();
    let mut config = common::test_config();
    config.banner = path.clone();
    let server = TestServer::with_config(config);
    let mut ann = Client::sign_on(server.addr, "ann");
    std::fs::write(&path, "Welcome to {server_name}, second edition\n").unwrap();
    ann.send_line("/motd");
    ann.expect("Welcome to tavern, second edition");
    let _ = std::fs::remove_file(&path);
    server.stop();
}

#[test]
fn time_tells_the_servers_time_in_utc() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send_line("/time");
    ann.expect("*** The server's time is 20");
    let rest = ann.expect(" UTC.");
    // YYYY-MM-DD HH:MM:SS
    let stamp = rest.trim_end_matches(" UTC.");
    assert_eq!(stamp.len(), 17, "{rest:?}");
    server.stop();
}

#[test]
fn color_alone_says_whether_colors_are_on() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.send_line("/color off");
    ann.expect("*** Colors are off.");
    ann.send_line("/color");
    ann.expect("*** Colors are off.");
    ann.send_line("/colour on");
    ann.expect("Colors are on");
    ann.send_line("/color");
    ann.expect("Colors are on");
    server.stop();
}

#[test]
fn help_lists_aliases_and_help_for_one_command_shows_it() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    // Wide enough that the aliases' line is not wrapped.
    ann.report_width(200);
    ann.send_line("/help");
    let also = ann.expect("/help COMMAND for one.");
    for alias in [
        "/list = /rooms",
        "/names = /who",
        "/tell = /msg",
        "/exit = /quit",
    ] {
        assert!(also.contains(alias), "{alias} missing from {also:?}");
    }
    assert!(also.contains("/join #room"), "{also:?}");
    ann.send_line("/help tell");
    ann.expect("*** /msg NICK TEXT  a private message to one person\n");
    ann.expect("***   also: /tell\n");
    ann.send_line("/help /part");
    ann.expect("*** /part  go back to the default room\n");
    ann.send_line("/help dance");
    ann.expect("*** There is no command /dance. Type /help for the list.");
    server.stop();
}

#[test]
fn join_with_spaces_in_the_room_name_says_what_is_wrong() {
    let server = TestServer::start();
    let mut ann = Client::sign_on(server.addr, "ann");
    ann.report_width(200);
    ann.send_line("/join bad room!");
    ann.expect(
        "*** A room name cannot contain spaces, and '!' is not allowed in a room name: \
         use letters, digits, _ and -.",
    );
    ann.send_line("/join board games");
    ann.expect("*** A room name cannot contain spaces: try /join board-games.");
    ann.send_line("/join #board-games");
    ann.expect("You are now in board-games");
    server.stop();
}

#[test]
fn a_dot_and_a_command_name_is_the_command_and_other_lines_with_a_dot_are_chat() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line(".who");
    ann.expect("*** In lobby: 2 people");
    for line in ["...", ".5 is half", ".hello", "//who"] {
        ann.send_line(line);
        let shown = line.strip_prefix('/').unwrap_or(line);
        bob.expect(&format!("ann: {shown}\n"));
    }
    ann.send_line(".NICK annie");
    bob.expect("ann is now known as annie");
    ann.send_line(".quit bye");
    bob.expect("annie has quit (bye)");
    server.stop();
}

#[test]
fn a_client_that_runs_slash_commands_itself_is_shown_the_dot_form() {
    use common::telnet::{CHARSET, DONT, NAWS, TTYPE, TTYPE_IS, WILL, neg, sb};
    let server = TestServer::start();
    let mut bob = Client::sign_on(server.addr, "bob");
    let mut tf = Client::connect(server.addr);
    // TinyFugue 5 answers TTYPE with its name; a repeated answer ends the
    // cycle, and CHARSET refused leaves nothing for tavern to wait for.
    let mut hello = neg(WILL, TTYPE);
    for name in ["TinyFugue", "xterm", "xterm"] {
        hello.extend(sb(TTYPE, &[&[TTYPE_IS], name.as_bytes()].concat()));
    }
    hello.extend(neg(DONT, CHARSET));
    // Wide enough that no hint is wrapped.
    hello.extend(neg(WILL, NAWS));
    hello.extend(sb(NAWS, &[0, 200, 0, 24]));
    tf.send(&hello);
    tf.expect("type .help to list the commands");
    tf.expect("Nickname:");
    tf.send_line("tom");
    tf.expect("type tavern's with a dot (.help, .who, .quit) or with //.");
    tf.expect("Welcome, tom!");
    tf.expect("Type .help for commands.");
    tf.send_line(".help");
    tf.expect("***   .who [all]");
    let also = tf.expect("COMMAND for one.");
    assert!(also.contains(".names = .who"), "{also:?}");
    assert!(also.contains("//TEXT"), "{also:?}");
    tf.send_line(".help tell");
    tf.expect("*** .msg NICK TEXT  a private message to one person\n");
    tf.send_line(".msg bob");
    tf.expect("*** Usage: .msg NICK TEXT");
    tf.send_line("/dance");
    tf.expect("*** Unknown command /dance. Type .help for the list.");
    tf.send_line(".who");
    tf.expect("*** In lobby: 2 people");
    tf.send_line("hello");
    bob.expect("tom: hello");
    tf.send_line(".quit");
    bob.expect("tom has quit");
    server.stop();
}

/// Debian's TinyFugue 4 refuses TTYPE; its other answers, as captured (see
/// `tf4_answers` in src/session/negotiation_tests.rs; `DO MCCP2` left out,
/// with compression off, so the bytes read here are not zlib), tell it
/// apart: client editing (no `WILL ECHO`, so tavern echoes nothing) and
/// hints in the dot form.
#[test]
fn tinyfugue_4_is_known_by_its_answers_and_shown_the_dot_form() {
    use common::telnet::{
        CHARSET, DONT, ECHO, GMCP, MSSP, NAWS, Reader, TELOPT_EOR, TTYPE, WILL, WONT, neg, sb,
    };
    let server = TestServer::with_config(tavern::config::Config {
        compression: false,
        ..common::test_config()
    });
    let mut bob = Client::sign_on(server.addr, "bob");
    let mut tf = Client::connect(server.addr);
    // tf writes each answer apart, but they may well arrive in one read:
    // sent as one write here, the refusal after another answer, so
    // tavern must not take the banner's turn before it has handled it.
    tf.send(
        &[
            neg(WILL, NAWS),
            neg(WONT, TTYPE),
            neg(WILL, NAWS),
            sb(NAWS, &[0, 200, 0, 26]),
            neg(common::telnet::DO, TELOPT_EOR),
            neg(DONT, CHARSET),
            neg(DONT, MSSP),
            neg(DONT, GMCP),
        ]
        .concat(),
    );
    tf.expect("type .help to list the commands");
    tf.expect("Nickname:");
    // tf ends its lines with a bare LF.
    tf.send(b"tom\n");
    tf.expect("type tavern's with a dot (.help, .who, .quit) or with //.");
    tf.expect("Welcome, tom!");
    tf.expect("Type .help for commands.");
    tf.send(b"/dance\n");
    tf.expect("*** Unknown command /dance. Type .help for the list.");
    tf.send(b"hello\n");
    bob.expect("tom: hello");
    let line = tf.expect("tom: hello");
    assert!(
        !line.contains("hello\n"),
        "tavern echoed the line: {line:?}"
    );
    let sent = Reader::parse(&tf.raw).negotiations();
    assert!(!sent.contains(&(WILL, ECHO)), "{sent:?}");
    tf.send(b".quit\n");
    bob.expect("tom has quit");
    server.stop();
}
