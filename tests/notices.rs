//! Join, leave, nick and move notices: who sees them, who does not, and that
//! each happens exactly once.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Instant;

use common::{Client, DEADLINE, TestServer, sign_on_all};

/// ann and bob in the lobby, cy alone in games.
fn lobby_pair_and_cy_in_games(server: &TestServer) -> (Client, Client, Client) {
    let [mut ann, mut bob, mut cy] = sign_on_all(server, ["ann", "bob", "cy"]);
    cy.send_line("/join games");
    cy.expect("You are now in games with nobody else.");
    ann.expect("*** cy has left for games");
    bob.expect("*** cy has left for games");
    (ann, bob, cy)
}

/// Barrier: `client` asks for /rooms and waits for the answer; returns what
/// arrived before it. The room manager handles requests in order and each
/// queue is FIFO, so anything sent to `client` by a request handled earlier
/// is in the returned text.
fn barrier(client: &mut Client) -> String {
    client.send_line("/rooms");
    client.expect("*** Rooms: ")
}

/// Waits until every needle has appeared in `client`'s visible text.
fn wait_for_all(client: &mut Client, needles: &[String]) {
    let start = Instant::now();
    loop {
        let text = client.visible();
        let missing: Vec<&String> = needles.iter().filter(|n| !text.contains(*n)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "never saw {missing:?}; got {text:?}"
        );
        assert!(client.pump(), "connection closed; got {text:?}");
    }
}

/// Each line appears in `text` after the one before it.
fn assert_in_order(text: &str, lines: &[String]) {
    let mut from = 0;
    for line in lines {
        match text[from..].find(line.as_str()) {
            Some(at) => from += at + line.len(),
            None => panic!("{line:?} missing or out of order in {text:?}"),
        }
    }
}

#[test]
fn a_newcomer_is_announced_to_the_room_but_not_to_another_room() {
    let server = TestServer::start();
    let (mut ann, mut bob, mut cy) = lobby_pair_and_cy_in_games(&server);
    let _dan = Client::sign_on(server.addr, "dan");
    ann.expect("*** dan has joined lobby");
    bob.expect("*** dan has joined lobby");
    let seen = barrier(&mut cy);
    assert!(!seen.contains("dan"), "{seen:?}");
    server.stop();
}

#[test]
fn a_quit_is_announced_to_the_room_but_not_to_another_room() {
    let server = TestServer::start();
    let (mut ann, mut bob, mut cy) = lobby_pair_and_cy_in_games(&server);
    ann.send_line("/quit off to bed");
    ann.expect_closed();
    bob.expect("*** ann has quit (off to bed)");
    let seen = barrier(&mut cy);
    assert!(!seen.contains("ann has"), "{seen:?}");
    server.stop();
}

#[test]
fn a_lost_connection_is_announced_to_the_room_but_not_to_another_room() {
    let server = TestServer::start();
    let (ann, mut bob, mut cy) = lobby_pair_and_cy_in_games(&server);
    ann.reset();
    bob.expect("*** ann lost their connection");
    let seen = barrier(&mut cy);
    assert!(!seen.contains("ann "), "{seen:?}");
    server.stop();
}

#[test]
fn a_nick_change_is_announced_to_the_room_but_not_to_another_room() {
    let server = TestServer::start();
    let (mut ann, mut bob, mut cy) = lobby_pair_and_cy_in_games(&server);
    ann.send_line("/nick annie");
    ann.expect("*** ann is now known as annie");
    bob.expect("*** ann is now known as annie");
    let seen = barrier(&mut cy);
    assert!(!seen.contains("annie"), "{seen:?}");
    server.stop();
}

#[test]
fn a_move_is_announced_to_both_rooms_but_not_to_a_third() {
    let server = TestServer::start();
    let (mut ann, mut bob, mut cy) = lobby_pair_and_cy_in_games(&server);
    let mut eve = Client::sign_on(server.addr, "eve");
    eve.send_line("/join music");
    eve.expect("You are now in music with nobody else.");
    ann.expect("*** eve has left for music");
    bob.expect("*** eve has left for music");
    cy.send_line("/rooms");
    cy.expect("Rooms: games (1), lobby (2), music (1)");

    ann.send_line("/join games");
    ann.expect("*** You are now in games with 1 other.");
    bob.expect("*** ann has left for games");
    cy.expect("*** ann has joined games");
    let seen = barrier(&mut eve);
    assert!(!seen.contains("ann has"), "{seen:?}");
    // The mover is not told of their own departure or arrival.
    let seen = barrier(&mut ann);
    assert!(!seen.contains("ann has"), "{seen:?}");
    server.stop();
}

#[test]
fn chat_stays_in_its_room() {
    let server = TestServer::start();
    let (mut ann, mut bob, mut cy) = lobby_pair_and_cy_in_games(&server);
    ann.send_line("lobby talk");
    bob.expect("ann: lobby talk");
    cy.send_line("games talk");
    cy.expect("cy: games talk");
    let seen = barrier(&mut cy);
    assert!(!seen.contains("lobby talk"), "{seen:?}");
    let seen = barrier(&mut bob);
    assert!(!seen.contains("games talk"), "{seen:?}");
    server.stop();
}

#[test]
fn a_quit_gives_exactly_one_leave_notice_and_leaves_no_ghost() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.send_line("/quit");
    ann.expect("Goodbye!");
    ann.expect_closed();
    bob.expect("*** ann has quit");
    bob.send_line("/who");
    let who = bob.expect("***   bob  idle");
    assert!(who.contains("In lobby: 1 person\n"), "{who:?}");
    assert!(!who.contains("ann"), "{who:?}");
    let all = bob.visible();
    assert_eq!(all.matches("ann has quit").count(), 1, "{all:?}");
    assert_eq!(all.matches("ann lost their connection").count(), 0);
    // The nick is free again.
    let _ann = Client::sign_on(server.addr, "ann");
    server.stop();
}

#[test]
fn an_abrupt_drop_gives_exactly_one_leave_notice_and_leaves_no_ghost() {
    let server = TestServer::start();
    let [ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    ann.reset();
    bob.expect("*** ann lost their connection");
    bob.send_line("/who");
    let who = bob.expect("***   bob  idle");
    assert!(who.contains("In lobby: 1 person\n"), "{who:?}");
    assert!(!who.contains("ann"), "{who:?}");
    let all = bob.visible();
    assert_eq!(
        all.matches("ann lost their connection").count(),
        1,
        "{all:?}"
    );
    assert_eq!(all.matches("ann has quit").count(), 0, "{all:?}");
    let _ann = Client::sign_on(server.addr, "ann");
    server.stop();
}

/// Waits until one of `needles` appears in `client`'s visible text after
/// the cursor; returns it.
fn wait_for_any<'a>(client: &mut Client, needles: &[&'a str]) -> &'a str {
    let start = Instant::now();
    loop {
        let rest = client.rest();
        if let Some(found) = needles.iter().find(|n| rest.contains(**n)) {
            client.expect(found);
            return found;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "none of {needles:?} arrived; got {rest:?}"
        );
    }
}

#[test]
fn a_quit_typed_right_after_other_commands_is_still_announced_as_a_quit() {
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    // One write: the answers to the /rooms are still on their way to ann
    // when her session reads /quit.
    let mut burst = "/rooms\r\n".repeat(20);
    burst.push_str("/quit see you\r\n");
    ann.send(burst.as_bytes());
    ann.expect("Goodbye!");
    ann.expect_closed();
    let leave = wait_for_any(
        &mut bob,
        &[
            "*** ann has quit (see you)",
            "*** ann lost their connection",
        ],
    );
    assert_eq!(leave, "*** ann has quit (see you)");
    server.stop();
}

#[test]
fn twenty_clients_dropping_abruptly_during_chat_each_leave_once_and_leave_no_ghosts() {
    const DROPPERS: usize = 20;
    let server = TestServer::start();
    let [mut ann, mut bob] = sign_on_all(&server, ["ann", "bob"]);
    let nicks: Vec<String> = (0..DROPPERS).map(|i| format!("drop{i:02}")).collect();

    // Connect all first, so their negotiation waits overlap; chat meanwhile.
    let mut droppers: Vec<Client> = nicks.iter().map(|_| Client::connect(server.addr)).collect();
    for (i, (client, nick)) in droppers.iter_mut().zip(&nicks).enumerate() {
        ann.send_line(&format!("ann says {i}"));
        bob.send_line(&format!("bob says {i}"));
        client.expect("Nickname:");
        client.send_line(nick);
    }
    for (client, nick) in droppers.iter_mut().zip(&nicks) {
        client.expect(&format!("Welcome, {nick}!"));
    }
    // Others drop before they finish signing on: the room never hears of
    // them.
    let ghosts: Vec<Client> = (0..5).map(|_| Client::connect(server.addr)).collect();
    for (i, mut ghost) in ghosts.into_iter().enumerate() {
        if i % 2 == 0 {
            ghost.expect("Nickname:");
        }
        ghost.send(format!("ghost{i}").as_bytes());
        ghost.reset();
    }
    // Drop them one by one, with chat in between.
    for (i, client) in droppers.into_iter().enumerate() {
        client.reset();
        ann.send_line(&format!("ann after {i}"));
        bob.send_line(&format!("bob after {i}"));
    }

    let leaves: Vec<String> = nicks
        .iter()
        .map(|n| format!("*** {n} lost their connection"))
        .collect();
    for observer in [&mut ann, &mut bob] {
        // Every chat line arrived, each sender's in order.
        for who in ["ann", "bob"] {
            let lines: Vec<String> = ["says", "after"]
                .iter()
                .flat_map(|phase| (0..DROPPERS).map(move |i| format!("{who}: {who} {phase} {i}\n")))
                .collect();
            wait_for_all(observer, &lines);
            assert_in_order(&observer.visible(), &lines);
        }
        wait_for_all(observer, &leaves);
        observer.send_line("/who");
        observer.expect("*** In lobby: 2 people\n");
        observer.expect("***   ann  idle");
        let listing = observer.expect("***   bob  idle");
        assert!(!listing.contains("drop"), "{listing:?}");
        let all = observer.visible();
        for nick in &nicks {
            assert_eq!(
                all.matches(&format!("{nick} lost their connection"))
                    .count(),
                1,
                "leave notices of {nick}: {all:?}"
            );
            assert_eq!(
                all.matches(&format!("{nick} has joined lobby")).count(),
                1,
                "join notices of {nick}"
            );
            assert!(!all.contains(&format!("{nick} has quit")), "{all:?}");
            assert!(
                !all.contains(&format!("{nick} was disconnected")),
                "{all:?}"
            );
        }
        assert!(!all.contains("ghost"), "{all:?}");
    }
    server.stop();
}

/// How `text` announced `nicks` arriving (`joined`) or leaving (`left`):
/// the people counted in gathered lines (`*** 6 joined lobby: …`) plus
/// the per-person notices of theirs (a window with one arrival reads as
/// `*** d1 has joined lobby`), and how many lines that took.
fn announced(text: &str, kind: &str, nicks: &[&str]) -> (usize, usize) {
    let (mut people, mut lines) = (0, 0);
    for line in text.lines().filter_map(|line| line.strip_prefix("*** ")) {
        if let Some((count, _)) = line.split_once(&format!(" {kind} lobby: ")) {
            people += count.parse::<usize>().unwrap();
            lines += 1;
        } else if nicks.iter().any(|nick| {
            let single = if kind == "joined" {
                " has joined lobby"
            } else {
                " has quit"
            };
            line.starts_with(&format!("{nick}{single}"))
        }) {
            people += 1;
            lines += 1;
        }
    }
    (people, lines)
}

/// A room of `big_room_members` or more gathers its join and leave
/// notices into a line a window (issue 16, part 2): each member hears of
/// a burst of arrivals once, in gathered lines, never a notice per
/// person. (Which window each lands in is timing; `rooms/tests.rs` shows
/// a window's exact line with time as a parameter.)
#[test]
fn a_big_room_announces_a_burst_of_arrivals_and_departures_in_gathered_lines_once() {
    let server = TestServer::with_config(tavern::Config {
        big_room_members: 3,
        ..common::test_config()
    });
    let [mut ann, _bob, _cy] = sign_on_all(&server, ["ann", "bob", "cy"]);
    ann.expect("*** cy has joined lobby");
    let nicks = ["d1", "d2", "d3", "d4", "d5", "d6"];
    let addr = server.addr;
    let mut newcomers: Vec<Client> = std::thread::scope(|scope| {
        let signing: Vec<_> = nicks
            .iter()
            .map(|nick| scope.spawn(move || Client::sign_on(addr, nick)))
            .collect();
        signing.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let start = Instant::now();
    while announced(&ann.visible(), "joined", &nicks).0 < nicks.len() {
        assert!(ann.pump(), "closed");
        assert!(start.elapsed() < DEADLINE, "{}", ann.visible());
    }
    let told = barrier(&mut ann);
    let (people, lines) = announced(&told, "joined", &nicks);
    assert_eq!(people, nicks.len(), "each announced once: {told}");
    assert!(lines < nicks.len(), "some gathered into one line: {told}");

    // Four quit at once.
    for client in &mut newcomers[..4] {
        client.send_line("/quit bye");
    }
    for client in &mut newcomers[..4] {
        client.expect("Goodbye!");
    }
    let quitters = &nicks[..4];
    let start = Instant::now();
    while announced(&ann.visible(), "left", quitters).0 < quitters.len() {
        assert!(ann.pump(), "closed");
        assert!(start.elapsed() < DEADLINE, "{}", ann.visible());
    }
    let told = barrier(&mut ann);
    let (people, lines) = announced(&told, "left", quitters);
    assert_eq!(people, quitters.len(), "each announced once: {told}");
    assert!(
        lines < quitters.len(),
        "some gathered into one line: {told}"
    );
    server.stop();
}
