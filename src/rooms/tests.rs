//! `Rooms` driven directly, without a runtime: time is a parameter, and each
//! member's queue is read with `try_recv`.

use std::time::Duration;

use tokio::sync::oneshot;

use super::*;
use crate::command::RoomCommand;
use crate::mailbox::Delivery;

struct Member {
    id: MemberId,
    lines: crate::mailbox::Mailbox,
    kill: CancellationToken,
}

fn rooms() -> Rooms {
    Rooms::new(RoomName::parse("lobby").unwrap(), 0)
}

fn join(rooms: &mut Rooms, nick: &str, queue: usize, now: Instant) -> Result<Member, Taken> {
    let member = join_in_batch(rooms, nick, queue, now);
    rooms.flush();
    member
}

/// A Join handled as one request of a batch: nothing is flushed.
fn join_in_batch(
    rooms: &mut Rooms,
    nick: &str,
    queue: usize,
    now: Instant,
) -> Result<Member, Taken> {
    let (lines, incoming) = crate::mailbox::mailbox(queue);
    let kill = CancellationToken::new();
    let (reply, mut answer) = oneshot::channel();
    rooms.handle(
        Request::Join {
            nick: Nick::parse(nick, 16).unwrap(),
            outbox: Outbox {
                lines,
                kill: kill.clone(),
                roster: true,
                peer: "127.0.0.1:4000".parse().unwrap(),
                client: Some("TestClient".to_owned()),
                dot_commands: nick.starts_with("tf"),
                signed_on: std::time::UNIX_EPOCH + Duration::from_secs(1_796_230_417),
            },
            reply,
        },
        now,
    );
    answer.try_recv().unwrap().map(|id| Member {
        id,
        lines: incoming,
        kill,
    })
}

/// Everything queued for `member`, as text.
fn drain(member: &mut Member) -> String {
    let mut text = String::new();
    while let Some(delivery) = member.lines.try_recv() {
        for line in delivery.messages() {
            text.push_str(&String::from_utf8_lossy(line.render(render::Class::PLAIN)));
        }
    }
    text
}

fn command(rooms: &mut Rooms, member: &Member, command: RoomCommand, now: Instant) {
    rooms.apply(
        Request::Command {
            id: member.id,
            command,
        },
        now,
    );
}

#[test]
fn a_nick_is_taken_under_case_folding() {
    let now = Instant::now();
    let mut rooms = rooms();
    let _ann = join(&mut rooms, "Ann", 8, now).unwrap();
    assert_eq!(
        join(&mut rooms, "ANN", 8, now).err(),
        Some(Taken("ANN".into()))
    );
}

fn rename(rooms: &mut Rooms, member: &Member, nick: &str, now: Instant) -> Result<(), Taken> {
    let (reply, mut answer) = oneshot::channel();
    rooms.apply(
        Request::Rename {
            id: member.id,
            nick: Nick::parse(nick, 16).unwrap(),
            reply,
        },
        now,
    );
    answer.try_recv().unwrap()
}

#[test]
fn a_look_alike_through_a_capital_i_is_taken_at_sign_on_and_rename() {
    let now = Instant::now();
    let mut rooms = rooms();
    let bill = join(&mut rooms, "bill", 8, now).unwrap();
    let ian = join(&mut rooms, "Ian", 8, now).unwrap();
    for (nick, taken) in [
        ("biII", true),
        ("lan", true),
        ("BILL", true),
        ("ball", false),
    ] {
        let joined = join(&mut rooms, nick, 8, now);
        assert_eq!(joined.is_err(), taken, "{nick}");
    }
    // Renames: to a look-alike of someone else, refused; to another case of
    // one's own nick, or a look-alike of it, allowed.
    assert_eq!(
        rename(&mut rooms, &ian, "bilI", now),
        Err(Taken("bilI".into()))
    );
    assert_eq!(rename(&mut rooms, &bill, "Bill", now), Ok(()));
    assert_eq!(rename(&mut rooms, &bill, "BiII", now), Ok(()));
    // The old nick's hold is gone with it: "Bill"'s look no longer blocks.
    assert_eq!(
        rename(&mut rooms, &ian, "Bill", now),
        Err(Taken("Bill".into()))
    );
    assert_eq!(rename(&mut rooms, &bill, "william", now), Ok(()));
    assert_eq!(rename(&mut rooms, &ian, "bilI", now), Ok(()));
}

#[test]
fn joining_a_look_alike_of_a_room_joins_that_room() {
    let now = Instant::now();
    let mut rooms = rooms();
    let mut ann = join(&mut rooms, "ann", 64, now).unwrap();
    command(
        &mut rooms,
        &ann,
        RoomCommand::Join(RoomName::parse("Iobby").unwrap()),
        now,
    );
    assert!(drain(&mut ann).contains("You are already in lobby."));
    command(
        &mut rooms,
        &ann,
        RoomCommand::Join(RoomName::parse("paypal").unwrap()),
        now,
    );
    let bob = join(&mut rooms, "bob", 64, now).unwrap();
    command(
        &mut rooms,
        &bob,
        RoomCommand::Join(RoomName::parse("paypaI").unwrap()),
        now,
    );
    assert!(drain(&mut ann).contains("bob has joined paypal"));
    assert_eq!(rooms.stats().rooms, 1);
    // Gone with its last member, look and all.
    for member in [&ann, &bob] {
        rooms.apply(
            Request::Leave {
                id: member.id,
                reason: LeaveReason::Quit(None),
            },
            now,
        );
    }
    assert!(rooms.rooms.len() == 1 && rooms.room_looks.len() == 1);
}

#[test]
fn who_in_a_room_bigger_than_the_askers_queue_is_one_reply_and_keeps_the_asker() {
    let now = Instant::now();
    let mut rooms = rooms();
    // The asker's queue holds 8 lines, read as the crowd arrives (the
    // crowd's hold all the join notices and are never read).
    let mut asker = join(&mut rooms, "asker", 8, now).unwrap();
    let mut crowd = Vec::new();
    for i in 0..2000 {
        crowd.push(join(&mut rooms, &format!("u{i:04}"), 4096, now).unwrap());
        while asker.lines.try_recv().is_some() {}
    }
    // Each answer, however long, is one unit in that queue.
    for all in [false, true] {
        command(&mut rooms, &asker, RoomCommand::Who { all }, now);
        let delivery = asker.lines.try_recv().expect("an answer");
        assert!(matches!(delivery, Delivery::Reply(_)), "{delivery:?}");
        let text: String = delivery
            .messages()
            .iter()
            .map(|m| String::from_utf8_lossy(m.render(render::Class::PLAIN)).into_owned())
            .collect();
        assert!(text.starts_with("*** In lobby: 2001 people\r\n"), "{text}");
        for member in ["asker", "u0000", "u0999", "u1999"] {
            assert!(text.contains(member), "{member} missing");
        }
        assert!(!text.contains("more people"), "cut: {text}");
    }
    command(&mut rooms, &asker, RoomCommand::Rooms, now);
    assert!(drain(&mut asker).starts_with("*** Rooms: lobby (2001)"));
    assert_eq!(rooms.stats().online, 2001);
    assert!(!asker.kill.is_cancelled());
    drop(crowd);
}

#[test]
fn at_shutdown_everyone_stays_until_all_have_handed_over_their_last_lines() {
    let now = Instant::now();
    let mut rooms = rooms();
    let mut ann = join(&mut rooms, "ann", 64, now).unwrap();
    let mut bob = join(&mut rooms, "bob", 64, now).unwrap();
    let cy = join(&mut rooms, "cy", 64, now).unwrap();
    drain(&mut ann);
    drain(&mut bob);
    let leave = |rooms: &mut Rooms, member: &Member| {
        rooms.apply(
            Request::Leave {
                id: member.id,
                reason: LeaveReason::Shutdown,
            },
            now,
        );
    };
    // ann's session stopped first; bob's last lines come after.
    leave(&mut rooms, &ann);
    rooms.apply(
        Request::Say {
            id: bob.id,
            text: "last words".into(),
        },
        now,
    );
    leave(&mut rooms, &bob);
    assert_eq!(rooms.stats().online, 3);
    assert!(drain(&mut ann).contains("bob: last words"));
    // cy goes another way meanwhile: the rest still wait for nobody else.
    rooms.apply(
        Request::Leave {
            id: cy.id,
            reason: LeaveReason::ConnectionLost,
        },
        now,
    );
    assert_eq!(rooms.stats().online, 0);
    // No notices for each other; each queue is closed after its lines.
    assert_eq!(
        drain(&mut bob),
        "bob: last words\r\n*** cy lost their connection\r\n"
    );
    assert_eq!(drain(&mut ann), "*** cy lost their connection\r\n");
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    assert!(matches!(
        std::pin::pin!(ann.lines.recv()).poll(&mut cx),
        std::task::Poll::Ready(None)
    ));
}

#[test]
fn chat_reaches_the_sender_and_the_room_but_not_other_rooms() {
    let now = Instant::now();
    let mut rooms = rooms();
    let mut ann = join(&mut rooms, "ann", 8, now).unwrap();
    let mut bob = join(&mut rooms, "bob", 8, now).unwrap();
    let mut cy = join(&mut rooms, "cy", 8, now).unwrap();
    command(
        &mut rooms,
        &cy,
        RoomCommand::Join(RoomName::parse("games").unwrap()),
        now,
    );
    drain(&mut ann);
    drain(&mut bob);
    drain(&mut cy);
    rooms.apply(
        Request::Say {
            id: ann.id,
            text: "hi".into(),
        },
        now,
    );
    assert_eq!(drain(&mut ann), "ann: hi\r\n");
    assert_eq!(drain(&mut bob), "ann: hi\r\n");
    assert_eq!(drain(&mut cy), "");
}

#[test]
fn a_member_that_stops_reading_is_dropped_once_and_the_room_told() {
    let now = Instant::now();
    let mut rooms = rooms();
    let mut ann = join(&mut rooms, "ann", 64, now).unwrap();
    let slow = join(&mut rooms, "slow", 2, now).unwrap();
    drain(&mut ann);
    for i in 0..5 {
        rooms.apply(
            Request::Say {
                id: ann.id,
                text: format!("line {i}"),
            },
            now,
        );
    }
    assert!(slow.kill.is_cancelled());
    let seen = drain(&mut ann);
    assert_eq!(
        seen.matches("slow was disconnected (not reading)").count(),
        1,
        "{seen}"
    );
    // The session's own Leave arriving afterwards adds no second notice.
    rooms.apply(
        Request::Leave {
            id: slow.id,
            reason: LeaveReason::ConnectionLost,
        },
        now,
    );
    assert_eq!(drain(&mut ann), "");
    assert_eq!(rooms.stats().online, 1);
}

#[test]
fn who_shows_idle_time_and_away_reason() {
    let start = Instant::now();
    let mut rooms = rooms();
    let mut ann = join(&mut rooms, "ann", 64, start).unwrap();
    let bob = join(&mut rooms, "bob", 64, start).unwrap();
    command(
        &mut rooms,
        &bob,
        RoomCommand::Away(Some("lunch".into())),
        start,
    );
    drain(&mut ann);
    command(
        &mut rooms,
        &ann,
        RoomCommand::Who { all: false },
        start + Duration::from_secs(125),
    );
    let who = drain(&mut ann);
    assert!(who.contains("In lobby: 2 people"), "{who}");
    assert!(who.contains("ann  idle 0s"), "{who}");
    assert!(who.contains("bob  idle 2m  away: lunch"), "{who}");
}

#[test]
fn an_empty_room_other_than_the_default_disappears() {
    let now = Instant::now();
    let mut rooms = rooms();
    let ann = join(&mut rooms, "ann", 64, now).unwrap();
    command(
        &mut rooms,
        &ann,
        RoomCommand::Join(RoomName::parse("games").unwrap()),
        now,
    );
    assert_eq!(rooms.stats().rooms, 1);
    command(
        &mut rooms,
        &ann,
        RoomCommand::Join(RoomName::parse("lobby").unwrap()),
        now,
    );
    assert!(!rooms.rooms.contains_key("games"));
    assert!(rooms.rooms.contains_key("lobby"));
}

/// Everything queued for `member` as GMCP roster payloads ("Room.AddPlayer
/// {...}"), without the IAC framing.
fn drain_roster(member: &mut Member) -> Vec<String> {
    let mut roster = Vec::new();
    let messages = std::iter::from_fn(|| member.lines.try_recv())
        .flat_map(|delivery| delivery.messages().to_vec())
        .collect::<Vec<_>>();
    for message in messages {
        if let Some(bytes) = message.roster() {
            for frame in bytes.split(|&b| b == 0xff) {
                if let Some(payload) = frame.strip_prefix(&[0xfa, 0xc9][..]) {
                    roster.push(String::from_utf8_lossy(payload).into_owned());
                }
            }
        }
    }
    roster
}

#[test]
fn the_roster_follows_arrivals_renames_moves_and_departures() {
    let now = Instant::now();
    let mut rooms = rooms();
    let mut ann = join(&mut rooms, "ann", 64, now).unwrap();
    assert_eq!(
        drain_roster(&mut ann),
        [r#"Room.Players [{"fullname":"ann","name":"ann"}]"#]
    );
    let mut bob = join(&mut rooms, "bob", 64, now).unwrap();
    assert_eq!(
        drain_roster(&mut bob),
        [r#"Room.Players [{"fullname":"ann","name":"ann"},{"fullname":"bob","name":"bob"}]"#]
    );
    assert_eq!(
        drain_roster(&mut ann),
        [r#"Room.AddPlayer {"fullname":"bob","name":"bob"}"#]
    );
    let (reply, _answer) = oneshot::channel();
    rooms.apply(
        Request::Rename {
            id: bob.id,
            nick: Nick::parse("rob", 16).unwrap(),
            reply,
        },
        now,
    );
    assert_eq!(
        drain_roster(&mut ann),
        [
            r#"Room.RemovePlayer "bob""#,
            r#"Room.AddPlayer {"fullname":"rob","name":"rob"}"#
        ]
    );
    command(
        &mut rooms,
        &bob,
        RoomCommand::Join(RoomName::parse("games").unwrap()),
        now,
    );
    assert_eq!(drain_roster(&mut ann), [r#"Room.RemovePlayer "rob""#]);
    assert_eq!(
        drain_roster(&mut bob),
        [
            r#"Room.RemovePlayer "bob""#,
            r#"Room.AddPlayer {"fullname":"rob","name":"rob"}"#,
            r#"Room.Players [{"fullname":"rob","name":"rob"}]"#
        ]
    );
    rooms.apply(
        Request::Leave {
            id: ann.id,
            reason: LeaveReason::Quit(None),
        },
        now,
    );
    assert!(drain_roster(&mut bob).is_empty(), "ann was in another room");
}

/// The full roster is built only for members who want it; the news on
/// each line goes to all, and each session keeps or drops it.
#[test]
fn the_roster_wish_is_kept_current_after_sign_on() {
    let now = Instant::now();
    let mut rooms = rooms();
    let mut ann = join(&mut rooms, "ann", 64, now).unwrap();
    let _bob = join(&mut rooms, "bob", 64, now).unwrap();
    let roster = |rooms: &mut Rooms, member: &Member, wanted| {
        rooms.apply(
            Request::Roster {
                id: member.id,
                wanted,
            },
            now,
        );
    };
    let players = |news: Vec<String>| {
        news.into_iter()
            .filter(|n| n.starts_with("Room.Players"))
            .collect::<Vec<_>>()
    };
    // GMCP's Room package removed: no full roster on entering a room.
    roster(&mut rooms, &ann, false);
    drain_roster(&mut ann);
    command(
        &mut rooms,
        &ann,
        RoomCommand::Join(RoomName::parse("games").unwrap()),
        now,
    );
    assert!(players(drain_roster(&mut ann)).is_empty());
    // Added back: the room as it is now, at once.
    roster(&mut rooms, &ann, true);
    assert_eq!(
        drain_roster(&mut ann),
        [r#"Room.Players [{"fullname":"ann","name":"ann"}]"#]
    );
    roster(&mut rooms, &ann, true);
    assert!(
        drain_roster(&mut ann).is_empty(),
        "a wish repeated is not news"
    );
    command(
        &mut rooms,
        &ann,
        RoomCommand::Join(RoomName::parse("lobby").unwrap()),
        now,
    );
    assert_eq!(
        players(drain_roster(&mut ann)),
        [r#"Room.Players [{"fullname":"bob","name":"bob"},{"fullname":"ann","name":"ann"}]"#]
    );
    // A member already gone is no error.
    rooms.apply(
        Request::Roster {
            id: 999,
            wanted: true,
        },
        now,
    );
}

/// A lobby with ann and bob in it, their sign-on lines read.
fn ann_and_bob(now: Instant) -> (Rooms, Member, Member) {
    let mut rooms = rooms();
    let mut ann = join(&mut rooms, "ann", 64, now).unwrap();
    let mut bob = join(&mut rooms, "bob", 64, now).unwrap();
    drain(&mut ann);
    drain(&mut bob);
    (rooms, ann, bob)
}

fn say(rooms: &mut Rooms, member: &Member, text: &str, now: Instant) {
    rooms.handle(
        Request::Say {
            id: member.id,
            text: text.into(),
        },
        now,
    );
}

#[test]
fn a_batch_of_room_lines_is_one_delivery_per_member() {
    let now = Instant::now();
    let (mut rooms, mut ann, mut bob) = ann_and_bob(now);
    for text in ["one", "two", "three"] {
        say(&mut rooms, &ann, text, now);
    }
    // Nothing is pushed until the batch is flushed.
    assert!(bob.lines.try_recv().is_none());
    rooms.flush();
    let delivery = bob.lines.try_recv().expect("one delivery");
    assert_eq!(delivery.len(), 3);
    assert!(bob.lines.try_recv().is_none());
    assert_eq!(drain(&mut ann), "ann: one\r\nann: two\r\nann: three\r\n");
}

#[test]
fn a_private_line_in_a_batch_keeps_its_place_among_the_room_lines() {
    let now = Instant::now();
    let (mut rooms, mut ann, mut bob) = ann_and_bob(now);
    say(&mut rooms, &ann, "before", now);
    rooms.handle(
        Request::Command {
            id: ann.id,
            command: RoomCommand::Msg {
                to: Nick::parse("bob", 16).unwrap(),
                text: "psst".into(),
            },
        },
        now,
    );
    say(&mut rooms, &ann, "after", now);
    rooms.flush();
    assert_eq!(
        drain(&mut bob),
        "ann: before\r\n[msg from ann] psst\r\nann: after\r\n"
    );
    assert_eq!(
        drain(&mut ann),
        "ann: before\r\n[msg to bob] psst\r\nann: after\r\n"
    );
}

#[test]
fn whoever_joins_or_leaves_mid_batch_gets_exactly_the_lines_of_their_time() {
    let now = Instant::now();
    let (mut rooms, mut ann, mut bob) = ann_and_bob(now);
    say(&mut rooms, &ann, "before cy", now);
    let mut cy = join_in_batch(&mut rooms, "cy", 64, now).unwrap();
    say(&mut rooms, &ann, "with cy", now);
    rooms.handle(
        Request::Leave {
            id: bob.id,
            reason: LeaveReason::Quit(None),
        },
        now,
    );
    say(&mut rooms, &ann, "after bob", now);
    rooms.flush();
    let seen = drain(&mut cy);
    assert!(!seen.contains("before cy"), "{seen}");
    assert!(seen.contains("ann: with cy\r\n"), "{seen}");
    assert!(seen.contains("*** bob has quit\r\n"), "{seen}");
    assert!(seen.ends_with("ann: after bob\r\n"), "{seen}");
    assert_eq!(
        drain(&mut bob),
        "ann: before cy\r\n*** cy has joined lobby\r\nann: with cy\r\n"
    );
    assert_eq!(
        drain(&mut ann),
        "ann: before cy\r\n*** cy has joined lobby\r\nann: with cy\r\n\
         *** bob has quit\r\nann: after bob\r\n"
    );
}

fn nick(name: &str) -> Nick {
    Nick::parse(name, 16).unwrap()
}

#[test]
fn reply_answers_the_last_sender_under_their_new_nick_and_says_when_they_are_gone() {
    let now = Instant::now();
    let (mut rooms, mut ann, mut bob) = ann_and_bob(now);
    let reply = |text: &str| RoomCommand::Reply(text.into());
    command(&mut rooms, &bob, reply("anyone?"), now);
    assert!(
        drain(&mut bob).contains("Nobody has sent you a private message yet"),
        "no sender yet"
    );
    let msg = RoomCommand::Msg {
        to: nick("bob"),
        text: "psst".into(),
    };
    command(&mut rooms, &ann, msg, now);
    drain(&mut ann);
    drain(&mut bob);
    rename(&mut rooms, &ann, "anna", now).unwrap();
    drain(&mut ann);
    drain(&mut bob);
    command(&mut rooms, &bob, reply("what?"), now);
    rooms.flush();
    assert!(drain(&mut ann).contains("[msg from bob] what?"));
    assert!(drain(&mut bob).contains("[msg to anna] what?"));
    // ann replies to bob in turn: the last sender is per member.
    command(&mut rooms, &ann, reply("this"), now);
    assert!(drain(&mut bob).contains("[msg from anna] this"));
    rooms.handle(
        Request::Leave {
            id: ann.id,
            reason: LeaveReason::Quit(None),
        },
        now,
    );
    rooms.flush();
    drain(&mut bob);
    command(&mut rooms, &bob, reply("hello?"), now);
    // Named as they were when they wrote last.
    assert_eq!(drain(&mut bob), "*** Nobody called anna is online.\r\n");
}

#[test]
fn msg_to_an_unknown_nick_says_nobody_by_that_name_is_online() {
    let now = Instant::now();
    let (mut rooms, mut ann, _bob) = ann_and_bob(now);
    let msg = RoomCommand::Msg {
        to: nick("zed"),
        text: "hi".into(),
    };
    command(&mut rooms, &ann, msg, now);
    assert_eq!(drain(&mut ann), "*** Nobody called zed is online.\r\n");
}

#[test]
fn away_alone_while_away_comes_back_and_without_a_reason_reads_as_a_sentence() {
    let now = Instant::now();
    let (mut rooms, mut ann, mut bob) = ann_and_bob(now);
    command(&mut rooms, &ann, RoomCommand::Away(None), now);
    rooms.flush();
    assert_eq!(drain(&mut bob), "*** ann is away.\r\n");
    let msg = RoomCommand::Msg {
        to: nick("ann"),
        text: "there?".into(),
    };
    command(&mut rooms, &bob, msg, now);
    assert!(drain(&mut bob).contains("*** ann is away.\r\n"));
    command(&mut rooms, &bob, RoomCommand::Who { all: false }, now);
    assert!(drain(&mut bob).contains("ann  idle 0s  away\r\n"));
    command(&mut rooms, &ann, RoomCommand::Away(None), now);
    rooms.flush();
    assert_eq!(drain(&mut bob), "*** ann is back\r\n");
    drain(&mut ann);
    command(&mut rooms, &ann, RoomCommand::Away(Some("tea".into())), now);
    rooms.flush();
    assert_eq!(drain(&mut bob), "*** ann is away: tea\r\n");
}

#[test]
fn idle_time_counts_from_the_last_command_too() {
    let start = Instant::now();
    let (mut rooms, ann, mut bob) = ann_and_bob(start);
    // A command the session answered, a minute in.
    rooms.handle(
        Request::Active { id: ann.id },
        start + Duration::from_secs(60),
    );
    // Setting away is activity too.
    command(
        &mut rooms,
        &bob,
        RoomCommand::Away(Some("out".into())),
        start + Duration::from_secs(120),
    );
    rooms.flush();
    drain(&mut bob);
    rooms.handle(
        Request::Active { id: ann.id },
        start + Duration::from_secs(150),
    );
    let later = start + Duration::from_secs(200);
    command(&mut rooms, &bob, RoomCommand::Who { all: false }, later);
    let who = drain(&mut bob);
    assert!(who.contains("ann  idle 50s"), "{who}");
    assert!(who.contains("bob  idle 0s"), "{who}");
}

#[test]
fn part_goes_back_to_the_default_room_or_says_you_are_there() {
    let now = Instant::now();
    let (mut rooms, mut ann, mut bob) = ann_and_bob(now);
    command(&mut rooms, &ann, RoomCommand::Part, now);
    assert_eq!(
        drain(&mut ann),
        "*** You are already in lobby, the default room.\r\n"
    );
    let games = RoomName::parse("games").unwrap();
    command(&mut rooms, &ann, RoomCommand::Join(games), now);
    rooms.flush();
    drain(&mut ann);
    drain(&mut bob);
    command(&mut rooms, &ann, RoomCommand::Part, now);
    rooms.flush();
    assert!(drain(&mut ann).contains("You are now in lobby with 1 other."));
    assert!(drain(&mut bob).contains("ann has joined lobby"));
}

#[test]
fn whois_tells_room_idle_away_client_and_sign_on_time() {
    let start = Instant::now();
    let (mut rooms, mut ann, bob) = ann_and_bob(start);
    command(
        &mut rooms,
        &bob,
        RoomCommand::Away(Some("lunch".into())),
        start,
    );
    rooms.flush();
    drain(&mut ann);
    let later = start + Duration::from_secs(90);
    command(&mut rooms, &ann, RoomCommand::Whois(nick("BOB")), later);
    assert_eq!(
        drain(&mut ann),
        "*** bob is in lobby, idle 1m.\r\n\
         ***   away: lunch\r\n\
         ***   client: TestClient\r\n\
         ***   connected since 2026-12-02 16:53:37 UTC\r\n"
    );
    command(&mut rooms, &ann, RoomCommand::Whois(nick("zed")), later);
    assert_eq!(drain(&mut ann), "*** Nobody called zed is online.\r\n");
}

/// What a Tab in member `asker`'s editor is offered for `prefix`.
fn complete(rooms: &mut Rooms, asker: &Member, prefix: &str, now: Instant) -> Vec<String> {
    let (reply, mut answer) = oneshot::channel();
    rooms.apply(
        Request::Complete {
            id: asker.id,
            prefix: prefix.to_owned(),
            reply,
        },
        now,
    );
    answer.try_recv().unwrap()
}

#[test]
fn completion_offers_the_room_s_nicks_as_they_are_now() {
    let now = Instant::now();
    let mut rooms = rooms();
    let ann = join(&mut rooms, "ann", 64, now).unwrap();
    let annie = join(&mut rooms, "Annie", 64, now).unwrap();
    let _anton = join(&mut rooms, "anton", 64, now).unwrap();
    let bob = join(&mut rooms, "bob", 64, now).unwrap();
    assert_eq!(
        complete(&mut rooms, &bob, "AN", now),
        ["ann", "Annie", "anton"]
    );
    // Not one's own nick.
    assert_eq!(complete(&mut rooms, &ann, "an", now), ["Annie", "anton"]);
    // A new nick is found under it, the old one is not.
    rename(&mut rooms, &annie, "zoe", now).unwrap();
    assert_eq!(complete(&mut rooms, &bob, "an", now), ["ann", "anton"]);
    assert_eq!(complete(&mut rooms, &bob, "z", now), ["zoe"]);
    // Someone in another room is not offered; in that room, only them.
    command(
        &mut rooms,
        &ann,
        RoomCommand::Join(RoomName::parse("cellar").unwrap()),
        now,
    );
    assert_eq!(complete(&mut rooms, &bob, "an", now), ["anton"]);
    command(
        &mut rooms,
        &bob,
        RoomCommand::Join(RoomName::parse("cellar").unwrap()),
        now,
    );
    assert_eq!(complete(&mut rooms, &bob, "", now), ["ann"]);
    // Gone: no longer offered.
    rooms.apply(
        Request::Leave {
            id: ann.id,
            reason: LeaveReason::Quit(None),
        },
        now,
    );
    assert!(complete(&mut rooms, &bob, "an", now).is_empty());
}

#[test]
fn a_client_that_takes_slash_for_itself_is_hinted_with_dots() {
    let now = Instant::now();
    let mut rooms = rooms();
    let mut tf = join(&mut rooms, "tfuser", 64, now).unwrap();
    let mut ann = join(&mut rooms, "ann", 64, now).unwrap();
    assert!(drain(&mut tf).contains("Type .help for commands."));
    assert!(drain(&mut ann).contains("Type /help for commands."));
    command(&mut rooms, &tf, RoomCommand::Reply("hi".into()), now);
    assert!(drain(&mut tf).contains(".msg NICK TEXT starts one"));
}

/// Rooms whose notices are gathered from 3 members on.
fn big_rooms() -> Rooms {
    Rooms::new(RoomName::parse("lobby").unwrap(), 3)
}

fn leave(rooms: &mut Rooms, member: &Member, reason: LeaveReason, now: Instant) {
    rooms.apply(
        Request::Leave {
            id: member.id,
            reason,
        },
        now,
    );
}

/// The window's close, as the task handles it.
fn tick(rooms: &mut Rooms, now: Instant) {
    rooms.tick(now);
    rooms.flush();
}

#[test]
fn in_a_big_room_arrivals_are_one_line_a_window_and_nobody_is_told_twice() {
    let start = Instant::now();
    let mut rooms = big_rooms();
    // Two members: a small room, notices as ever.
    let mut ann = join(&mut rooms, "ann", 64, start).unwrap();
    let _bob = join(&mut rooms, "bob", 64, start).unwrap();
    let _carl = join(&mut rooms, "carl", 64, start).unwrap();
    let told = drain(&mut ann);
    assert!(told.contains("*** bob has joined lobby"), "{told}");
    assert!(told.contains("*** carl has joined lobby"), "{told}");
    // Into three or more, arrivals wait for the window.
    let names = ["dave", "eve", "fay", "gus", "hal", "ida", "jim"];
    let mut newcomers = Vec::new();
    for (i, nick) in names.iter().enumerate() {
        let at = start + Duration::from_millis(100 * i as u64);
        newcomers.push(join(&mut rooms, nick, 64, at).unwrap());
    }
    let told = drain(&mut ann);
    assert!(!told.contains("joined"), "{told}");
    assert_eq!(
        rooms.next_window(),
        Some(start + super::gathering::GATHER_WINDOW)
    );
    tick(&mut rooms, start + Duration::from_millis(999));
    assert!(!drain(&mut ann).contains("joined"));
    tick(&mut rooms, start + Duration::from_secs(1));
    let told = drain(&mut ann);
    assert_eq!(
        told.matches("joined").count(),
        1,
        "one line for all seven: {told}"
    );
    assert!(
        told.contains("*** 7 joined lobby: dave, eve, fay, gus, hal and 2 more"),
        "{told}"
    );
    // The first newcomer hears of those after it, in the same line.
    assert!(drain(&mut newcomers[0]).contains("7 joined lobby"));
    assert_eq!(rooms.next_window(), None);
    // Nothing more is owed: another tick tells nobody anything.
    tick(&mut rooms, start + Duration::from_secs(5));
    assert_eq!(drain(&mut ann), "");
}

#[test]
fn in_a_big_room_departures_are_gathered_and_a_visit_inside_a_window_is_not_told() {
    let start = Instant::now();
    let mut rooms = big_rooms();
    let mut ann = join(&mut rooms, "ann", 64, start).unwrap();
    let bob = join(&mut rooms, "bob", 64, start).unwrap();
    let carl = join(&mut rooms, "carl", 64, start).unwrap();
    let dave = join(&mut rooms, "dave", 64, start).unwrap();
    tick(&mut rooms, start + Duration::from_secs(1));
    drain(&mut ann);
    let later = start + Duration::from_secs(2);
    // eve comes and goes inside one window; bob and carl leave, dave quits.
    let eve = join(&mut rooms, "eve", 64, later).unwrap();
    leave(&mut rooms, &eve, LeaveReason::Quit(None), later);
    leave(&mut rooms, &bob, LeaveReason::ConnectionLost, later);
    leave(
        &mut rooms,
        &carl,
        LeaveReason::Quit(Some("bye".into())),
        later,
    );
    assert!(!drain(&mut ann).contains("left"));
    tick(&mut rooms, later + Duration::from_secs(1));
    let told = drain(&mut ann);
    assert!(told.contains("*** 2 left lobby: bob and carl"), "{told}");
    assert!(!told.contains("eve"), "{told}");
    // A room back under the size: each notice at once, as in a small room.
    leave(
        &mut rooms,
        &dave,
        LeaveReason::Quit(Some("bye".into())),
        later,
    );
    assert!(drain(&mut ann).contains("*** dave has quit (bye)"));
}

#[test]
fn a_window_with_one_arrival_reads_as_the_per_person_notice() {
    let start = Instant::now();
    let mut rooms = big_rooms();
    let mut ann = join(&mut rooms, "ann", 64, start).unwrap();
    let _bob = join(&mut rooms, "bob", 64, start).unwrap();
    let _carl = join(&mut rooms, "carl", 64, start).unwrap();
    let dave = join(&mut rooms, "dave", 64, start).unwrap();
    tick(&mut rooms, start + Duration::from_secs(1));
    drain(&mut ann);
    // dave, renamed inside his window, is announced under the new name.
    let mut rooms2 = big_rooms();
    let mut a = join(&mut rooms2, "ann", 64, start).unwrap();
    let _b = join(&mut rooms2, "bob", 64, start).unwrap();
    let _c = join(&mut rooms2, "carl", 64, start).unwrap();
    let d = join(&mut rooms2, "dave", 64, start).unwrap();
    rename(&mut rooms2, &d, "dan", start).unwrap();
    tick(&mut rooms2, start + Duration::from_secs(1));
    let told = drain(&mut a);
    assert!(told.contains("*** dan has joined lobby"), "{told}");
    // And one departure keeps its reason.
    leave(
        &mut rooms,
        &dave,
        LeaveReason::Quit(Some("see you".into())),
        start,
    );
    tick(&mut rooms, start + Duration::from_secs(3));
    assert!(drain(&mut ann).contains("*** dave has quit (see you)"));
}
