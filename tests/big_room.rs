//! A room of thousands, against the real binary: answers to commands that
//! list people or rooms are bounded, and never the reason their asker is
//! dropped.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::Client;
use common::process::Tavern;

/// People in the room besides the asker: more than the asker's queue
/// (`outbound_queue`, 1024 lines) would hold one line each.
const CROWD: usize = 2000;

/// How long the crowd may take to sign on: thousands of sign-ons, each
/// announced to everyone there, on a small shared machine.
const CROWD_DEADLINE: Duration = Duration::from_secs(90);

/// Connections opened before the crowd's replies are read again, so the
/// listen backlog never overflows.
const WAVE: usize = 100;

/// Raw TCP clients that each send a nick at once (the server keeps lines
/// typed during negotiation) and afterwards read and discard what comes.
struct Crowd {
    members: Vec<Member>,
}

struct Member {
    stream: TcpStream,
    nick: String,
    /// What arrived before the welcome, searched for it.
    before: Vec<u8>,
    welcomed: bool,
}

impl Crowd {
    fn sign_on(addr: SocketAddr, count: usize) -> Crowd {
        let start = Instant::now();
        let mut crowd = Crowd {
            members: Vec::with_capacity(count),
        };
        for i in 0..count {
            let mut stream = TcpStream::connect(addr).expect("connect");
            let nick = format!("u{i:04}");
            stream
                .write_all(format!("{nick}\r\n").as_bytes())
                .expect("send nick");
            stream.set_nonblocking(true).expect("non-blocking");
            crowd.members.push(Member {
                stream,
                nick,
                before: Vec::new(),
                welcomed: false,
            });
            if i % WAVE == WAVE - 1 {
                // The wave is welcomed before the next one comes: each
                // sign-on is announced to everyone, and a join storm (a
                // thousand notices before the members' sessions run) is
                // another issue's subject, not this test's.
                crowd.wait_welcomed(start);
            }
        }
        crowd.wait_welcomed(start);
        eprintln!("{count} signed on in {:?}", start.elapsed());
        crowd
    }

    /// Reads until every member so far is welcomed, within
    /// [`CROWD_DEADLINE`] from `start`.
    fn wait_welcomed(&mut self, start: Instant) {
        while self.members.iter().any(|m| !m.welcomed) {
            let waiting = self.members.iter().filter(|m| !m.welcomed).count();
            assert!(
                start.elapsed() < CROWD_DEADLINE,
                "{waiting} of {} not welcomed in time",
                self.members.len()
            );
            if !self.pump() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    /// Reads what every member has; false if nothing arrived.
    fn pump(&mut self) -> bool {
        let mut buf = [0u8; 65536];
        let mut got = false;
        for member in &mut self.members {
            loop {
                match member.stream.read(&mut buf) {
                    Ok(0) => panic!("{} was disconnected", member.nick),
                    Ok(n) => {
                        got = true;
                        if !member.welcomed {
                            member.before.extend_from_slice(&buf[..n]);
                            let welcome = format!("Welcome, {}!", member.nick);
                            if common::visible(&member.before).contains(&welcome) {
                                member.welcomed = true;
                                member.before = Vec::new();
                            }
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{}: read: {e}", member.nick),
                }
            }
        }
        got
    }

    fn nicks(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| m.nick.as_str())
    }
}

/// The names in a listing: every word that is a crowd nick or the asker.
fn names_in(listing: &str) -> BTreeSet<String> {
    listing
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|word| {
            *word == "asker"
                || (word.len() == 5 && word.starts_with('u') && word[1..].parse::<u32>().is_ok())
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn who_in_a_room_of_two_thousand_lists_everyone_and_keeps_the_asker() {
    let server = Tavern::builder()
        .env("TAVERN_MAX_CONNECTIONS", "10000")
        .env("TAVERN_NEGOTIATION_WAIT_MS", "50")
        .start();
    let mut crowd = Crowd::sign_on(server.addr, CROWD);
    let mut asker = Client::sign_on(server.addr, "asker");
    crowd.pump();
    let everyone: BTreeSet<String> = crowd.nicks().chain(["asker"]).map(str::to_owned).collect();
    for (command, heading) in [
        ("/who", format!("In lobby: {} people", CROWD + 1)),
        ("/who all", format!("In lobby: {} people", CROWD + 1)),
    ] {
        // A line of the asker's own after the command: it comes back after
        // the whole answer, so everything before it is the answer.
        asker.send_line(command);
        asker.send_line("answered");
        asker.expect(&heading);
        let listing = asker.expect("asker: answered");
        let listed = names_in(&listing);
        let missing: Vec<&String> = everyone.difference(&listed).take(5).collect();
        assert!(
            listed == everyone,
            "{command}: {} of {} listed; missing e.g. {missing:?}",
            listed.len(),
            everyone.len()
        );
        let lines = listing.lines().count();
        eprintln!("{command}: {} bytes in {lines} lines", listing.len());
        crowd.pump();
    }
    asker.send_line("/rooms");
    asker.expect(&format!("Rooms: lobby ({})", CROWD + 1));
    // Still connected, and the room still hears the asker.
    asker.send_line("still here");
    asker.expect("asker: still here");
    let log = server.log();
    assert!(
        !log.contains("outbound queue full"),
        "someone was dropped for not reading:\n{log}"
    );
}
