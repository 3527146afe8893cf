//! `Negotiation` driven by a real `Telnet` state and the bytes real clients
//! send, with no socket: the line-editing table of ARCHITECTURE.md row by
//! row, the CHARSET outcomes, compression, and the rest of the options.

use nectar::constants::{
    BINARY, CHARSET, DO, DONT, ECHO, IAC, NAWS, SB, SE, SGA, TELOPT_EOR, WILL, WONT,
};

use super::*;
use std::time::Instant;

use crate::telnet::consts::{AYT, BRK, EC, EL, GA, IP, NOP, TTYPE};

/// A client on the other end of one `Negotiation`.
struct Peer {
    telnet: Telnet,
    negotiation: Negotiation,
    /// Every effect so far, folded.
    effects: Effects,
    /// What tavern sent, not yet looked at.
    sent: Vec<u8>,
    /// The time the client's sends arrive at.
    now: Instant,
}

impl Peer {
    fn connect(config: &Config) -> Peer {
        let mut telnet = Telnet::new(Negotiation::policy(config), 4096);
        let mut negotiation = Negotiation::new(config);
        let effects = negotiation.start(&mut telnet);
        let mut peer = Peer {
            telnet,
            negotiation,
            effects,
            sent: Vec::new(),
            now: Instant::now(),
        };
        peer.collect();
        peer
    }

    fn auto() -> Peer {
        Peer::connect(&Config::default())
    }

    fn collect(&mut self) {
        while let Some(bytes) = self.telnet.poll_transmit() {
            self.sent.extend_from_slice(&bytes);
        }
    }

    /// The client sends `bytes`; the effects of this send alone.
    fn sends(&mut self, bytes: &[u8]) -> Effects {
        self.try_sends(bytes)
            .expect("within the negotiation budget")
    }

    fn try_sends(&mut self, bytes: &[u8]) -> Result<Effects, NegotiationFlood> {
        self.telnet.handle_input(bytes);
        let mut effects = Effects::default();
        while let Some(event) = self.telnet.poll_event() {
            let more = match &event {
                Event::Data(text) => Effects {
                    charset: self.negotiation.on_data(text),
                    ..Effects::default()
                },
                Event::EndOfLine => Effects {
                    charset: self.negotiation.on_line_end(),
                    ..Effects::default()
                },
                _ => self
                    .negotiation
                    .on_event(&mut self.telnet, &event, self.now)?,
            };
            effects = effects.then(more);
        }
        self.effects = self.effects.then(effects);
        self.collect();
        Ok(effects)
    }

    /// The session's deadline for the negotiation has passed.
    fn stop_waiting(&mut self) -> Effects {
        let effects = self.negotiation.stop_waiting(&mut self.telnet);
        self.effects = self.effects.then(effects);
        self.collect();
        effects
    }

    /// Whether tavern sent `bytes` since the last look; forgets what it sent.
    fn sent(&mut self, bytes: &[u8]) -> bool {
        let found = self.sent.windows(bytes.len()).any(|w| w == bytes);
        self.sent.clear();
        found
    }
}

fn option(verb: u8, option: u8) -> Vec<u8> {
    vec![IAC, verb, option]
}

fn subnegotiation(option: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![IAC, SB, option];
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(&[IAC, SE]);
    bytes
}

/// `IAC SB TTYPE IS name IAC SE`.
fn ttype_is(name: &str) -> Vec<u8> {
    let mut payload = vec![TTYPE_IS];
    payload.extend_from_slice(name.as_bytes());
    subnegotiation(TTYPE, &payload)
}

/// WILL TTYPE, then the answers given in turn.
fn ttype(names: &[&str]) -> Vec<u8> {
    let mut bytes = option(WILL, TTYPE);
    for name in names {
        bytes.extend(ttype_is(name));
    }
    bytes
}

/// Debian's TinyFugue 4.0s1 (package `tf`), answering tavern's opening
/// offers (`DO TTYPE, DO NAWS, WILL EOR, WILL CHARSET, WILL MSSP, WILL GMCP,
/// WILL MCCP2`) in a 100x30 tmux window, as captured: `DO MCCP2` first,
/// then `WILL NAWS, WONT TTYPE, WILL NAWS`, its window less its status rows
/// (100x26), `DO EOR`, and `DONT` to CHARSET, MSSP and GMCP. Each answer is
/// a write of its own, so they may arrive in separate reads. (Told to, it
/// then answers `WILL ECHO, WILL SGA, DO BINARY` with `DO ECHO, DONT SGA,
/// WILL BINARY`; tavern no longer tells it to.) Lines end with a bare LF.
fn tf4_answers() -> Vec<Vec<u8>> {
    vec![
        option(DO, MCCP2),
        option(WILL, NAWS),
        option(WONT, TTYPE),
        option(WILL, NAWS),
        subnegotiation(NAWS, &[0, 100, 0, 26]),
        option(DO, TELOPT_EOR),
        option(DONT, CHARSET),
        option(DONT, MSSP),
        option(DONT, GMCP),
    ]
}

/// A client that refuses TTYPE and every MUD offer: a terminal.
fn refuses_all() -> Vec<u8> {
    [
        option(WONT, TTYPE),
        option(DONT, TELOPT_EOR),
        option(DONT, CHARSET),
        option(DONT, MSSP),
        option(DONT, GMCP),
        option(DONT, MCCP2),
    ]
    .concat()
}

fn config(line_editing: LineEditing) -> Config {
    Config {
        line_editing,
        ..Config::default()
    }
}

/// ARCHITECTURE.md's table: what the client did, who edits lines. Each
/// case is the client's sends in turn, each after tavern's answers to the
/// one before, as on the wire.
#[test]
fn line_editing_follows_the_decision_table() {
    use LineEditing::{Auto, Client, Server};
    let tf4 = tf4_answers();
    let tf4_apart: Vec<&[u8]> = tf4.iter().map(Vec::as_slice).collect();
    #[rustfmt::skip]
    let cases: &[(&str, LineEditing, &[&[u8]], Mode)] = &[
        ("admin: server",   Server, &[], Mode::Server),
        ("admin: client",   Client, &[&option(DO, ECHO), &ttype(&["XTERM"])], Mode::Client),
        ("DO ECHO (PuTTY)", Auto,   &[&option(DO, ECHO)], Mode::Server),
        ("DO ECHO, then XTERM", Auto, &[&option(DO, ECHO), &ttype(&["XTERM"])], Mode::Server),
        ("DO ECHO, then a MUD name", Auto, &[&option(DO, ECHO), &ttype(&["MUDLET"])], Mode::Server),
        ("MUD client",      Auto,   &[&ttype(&["MUDLET"])], Mode::Client),
        ("TinTin++",        Auto,   &[&ttype(&["TINTIN++"])], Mode::Client),
        ("MUSHclient",      Auto,   &[&ttype(&["mushclient"])], Mode::Client),
        ("xterm",           Auto,   &[&ttype(&["XTERM"])], Mode::Server),
        ("tmux",            Auto,   &[&ttype(&["tmux-256color"])], Mode::Server),
        ("ANSI",            Auto,   &[&ttype(&["ANSI"])], Mode::Server),
        ("WONT TTYPE, DONT all the MUD options", Auto, &[&refuses_all()], Mode::Server),
        ("tf 4, one read",  Auto,   &[&tf4.concat()], Mode::Client),
        ("tf 4, a read per answer", Auto, &tf4_apart, Mode::Client),
        ("WONT TTYPE, DO EOR", Auto, &[&option(WONT, TTYPE), &option(DO, TELOPT_EOR)], Mode::Client),
        ("WONT TTYPE, DONT EOR, DO GMCP", Auto, &[&option(WONT, TTYPE), &option(DO, GMCP), &option(DONT, TELOPT_EOR)], Mode::Client),
        ("tf 4, admin: client", Client, &[&tf4.concat()], Mode::Client),
        ("tf 4, admin: server", Server, &[&tf4.concat()], Mode::Server),
        ("no answer (nc)",  Auto,   &[b"hello\n"], Mode::Client),
        ("later DONT ECHO", Auto,   &[&ttype(&["XTERM"]), &option(DONT, ECHO)], Mode::Client),
    ];
    for (what, line_editing, sends, mode) in cases {
        let mut peer = Peer::connect(&config(*line_editing));
        for bytes in *sends {
            peer.sends(bytes);
        }
        assert_eq!(peer.negotiation.editing(), *mode, "{what}");
        let told = peer.effects.editing.unwrap_or(Mode::Client);
        assert_eq!(told, *mode, "{what}: the session was told");
    }
}

#[test]
fn server_editing_asks_to_echo_and_suppress_go_ahead() {
    let mut peer = Peer::connect(&config(LineEditing::Server));
    assert!(peer.sent(&option(WILL, ECHO)));
    let mut peer = Peer::auto();
    peer.sends(&ttype(&["XTERM"]));
    let sent = peer.sent.clone();
    assert!(peer.sent(&option(WILL, ECHO)), "{sent:?}");
    let mut peer = Peer::auto();
    peer.sends(&ttype(&["XTERM"]));
    assert!(peer.sent(&option(WILL, SGA)));
    // A MUD client reads WILL ECHO as "hide what I type": none is sent.
    let mut peer = Peer::auto();
    peer.sends(&ttype(&["MUDLET"]));
    assert!(!peer.sent(&option(WILL, ECHO)));
}

#[test]
fn admin_client_editing_refuses_to_echo() {
    let mut peer = Peer::connect(&config(LineEditing::Client));
    peer.sends(&option(DO, ECHO));
    assert!(peer.sent(&option(WONT, ECHO)));
    assert_eq!(peer.negotiation.editing(), Mode::Client);
}

#[test]
fn editing_waits_for_the_first_terminal_type() {
    let mut peer = Peer::auto();
    let effects = peer.sends(&option(WILL, TTYPE));
    assert_eq!(effects.editing, None, "nothing known yet");
    assert!(peer.sent(&subnegotiation(TTYPE, &[TTYPE_SEND])));
    let effects = peer.sends(&ttype_is("XTERM"));
    assert_eq!(effects.editing, Some(Mode::Server));
    // Decided once: a later DO ECHO changes nothing.
    let effects = peer.sends(&option(DO, ECHO));
    assert_eq!(effects.editing, None);
    assert_eq!(peer.negotiation.editing(), Mode::Server);
}

#[test]
fn the_ttype_cycle_asks_at_most_three_times() {
    let mut peer = Peer::auto();
    peer.sends(&option(WILL, TTYPE));
    let mut asks = usize::from(peer.sent(&subnegotiation(TTYPE, &[TTYPE_SEND])));
    for name in ["ONE", "TWO", "THREE", "FOUR", "FIVE"] {
        peer.sends(&ttype_is(name));
        asks += usize::from(peer.sent(&subnegotiation(TTYPE, &[TTYPE_SEND])));
    }
    assert_eq!(asks, crate::client::MAX_TTYPE_ASKS);
    assert_eq!(peer.negotiation.client().first_ttype(), Some("ONE"));
    // A repeat ends the cycle at once.
    let mut peer = Peer::auto();
    peer.sends(&ttype(&["XTERM"]));
    peer.sent.clear();
    peer.sends(&ttype_is("XTERM"));
    assert!(!peer.sent(&subnegotiation(TTYPE, &[TTYPE_SEND])));
    assert!(peer.negotiation.client().ttype_settled());
}

/// A client that settles TTYPE (one repeated answer) and CHARSET (`charset`
/// bytes after DO CHARSET).
fn settle_with(peer: &mut Peer, charset: &[u8]) -> Effects {
    let mut bytes = ttype(&["XTERM", "XTERM"]);
    bytes.extend(option(DO, CHARSET));
    bytes.extend_from_slice(charset);
    peer.sends(&bytes)
}

#[test]
fn charset_outcomes() {
    let accepted = |name: &str| {
        let mut payload = vec![2];
        payload.extend_from_slice(name.as_bytes());
        subnegotiation(CHARSET, &payload)
    };
    let mut peer = Peer::auto();
    let effects = settle_with(&mut peer, &accepted("UTF-8"));
    assert_eq!(effects.charset, Some(Charset::Utf8));
    assert!(peer.negotiation.client().charset_settled);

    let mut peer = Peer::auto();
    let effects = settle_with(&mut peer, &accepted("ISO-8859-1"));
    assert_eq!(effects.charset, Some(Charset::Latin1));

    // Accepting what was not offered counts as refusing: the fallback.
    let mut peer = Peer::connect(&Config {
        fallback_charset: Charset::Latin1,
        ..Config::default()
    });
    let effects = settle_with(&mut peer, &accepted("KOI8-R"));
    assert_eq!(effects.charset, Some(Charset::Latin1));

    // REJECTED after MTTS declared UTF-8: UTF-8; without it: Latin-1.
    for (bits, expected) in [("MTTS 5", Charset::Utf8), ("MTTS 1", Charset::Latin1)] {
        let mut peer = Peer::auto();
        let mut bytes = ttype(&["MUDLET", "ANSI", bits]);
        bytes.extend(option(DO, CHARSET));
        bytes.extend(subnegotiation(CHARSET, &[3]));
        peer.sends(&bytes);
        assert_eq!(peer.negotiation.client().charset, expected, "{bits}");
        assert_eq!(peer.effects.charset, Some(expected), "{bits}");
    }

    // DONT CHARSET: refused, the fallback stays.
    let mut peer = Peer::auto();
    let effects = settle_with(&mut peer, &[]);
    assert_eq!(effects.charset, None, "still waiting for an answer");
    let effects = peer.sends(&option(DONT, CHARSET));
    assert_eq!(effects.charset, Some(Charset::Utf8));
    assert!(peer.negotiation.client().charset_settled);
}

#[test]
fn a_client_s_own_charset_request_is_answered() {
    let mut peer = Peer::auto();
    peer.sends(&option(WILL, CHARSET));
    assert!(peer.sent(&option(DO, CHARSET)));
    let effects = peer.sends(&subnegotiation(CHARSET, b"\x01;KOI8-R;latin1"));
    assert!(peer.sent(&subnegotiation(CHARSET, b"\x02latin1")));
    assert_eq!(effects.charset, Some(Charset::Latin1));
    let mut peer = Peer::auto();
    peer.sends(&option(WILL, CHARSET));
    let effects = peer.sends(&subnegotiation(CHARSET, b"\x01;KOI8-R"));
    assert!(peer.sent(&subnegotiation(CHARSET, b"\x03")));
    assert_eq!(
        effects.charset,
        Some(Charset::Utf8),
        "refused: the fallback"
    );
}

#[test]
fn mtts_utf8_reaches_the_session_at_once() {
    let mut peer = Peer::connect(&Config {
        fallback_charset: Charset::Latin1,
        ..Config::default()
    });
    let effects = peer.sends(&ttype(&["MUDLET", "ANSI", "MTTS 5"]));
    assert_eq!(effects.charset, Some(Charset::Utf8));
}

#[test]
fn the_banner_waits_for_ttype_and_charset_then_goes_once() {
    let mut peer = Peer::auto();
    let effects = peer.sends(&ttype(&["XTERM", "XTERM"]));
    assert!(!effects.settled, "CHARSET is still open");
    let effects = peer.sends(&option(DONT, CHARSET));
    assert!(effects.settled);
    let effects = peer.sends(&option(WILL, NAWS));
    assert!(!effects.settled, "settled once");
    // A charset accepted settles CHARSET though the option stays on.
    let mut peer = Peer::auto();
    peer.sends(&ttype(&["XTERM", "XTERM"]));
    peer.sends(&option(DO, CHARSET));
    assert!(peer.sends(&subnegotiation(CHARSET, b"\x02UTF-8")).settled);
    // A client that refuses both (and EOR, which tells one that refuses
    // TTYPE apart) settles at once.
    let mut peer = Peer::auto();
    let mut refuses = option(WONT, TTYPE);
    refuses.extend(option(DONT, CHARSET));
    refuses.extend(option(DONT, TELOPT_EOR));
    assert!(peer.sends(&refuses).settled);
    // Either left open keeps it waiting: TTYPE not answered, or agreed and
    // its cycle not done; CHARSET not answered, or agreed and no charset
    // accepted yet.
    let cases: &[(&str, &[&[u8]])] = &[
        ("TTYPE unanswered", &[&option(DONT, CHARSET)]),
        (
            "TTYPE cycle going",
            &[&option(WILL, TTYPE), &option(DONT, CHARSET)],
        ),
        ("CHARSET unanswered", &[&option(WONT, TTYPE)]),
        (
            "CHARSET agreed",
            &[&option(WONT, TTYPE), &option(DO, CHARSET)],
        ),
        (
            "TTYPE refused, EOR unanswered",
            &[&option(WONT, TTYPE), &option(DONT, CHARSET)],
        ),
    ];
    for (what, sends) in cases {
        let mut peer = Peer::auto();
        for bytes in *sends {
            assert!(!peer.sends(bytes).settled, "{what}");
        }
    }
    // One that says nothing never does; the session's deadline ends the wait.
    let mut peer = Peer::auto();
    assert!(!peer.sends(b"ann\r\n").settled);
    peer.stop_waiting();
    assert!(!peer.sends(&refuses).settled, "the wait is over");
}

#[test]
fn compression_starts_and_stops_as_the_client_says() {
    let mut peer = Peer::auto();
    assert!(peer.sent(&option(WILL, MCCP2)), "offered");
    // Agreed before sign-on: the zlib state waits for the user's nick.
    assert_eq!(peer.sends(&option(DO, MCCP2)).compression, None);
    assert_eq!(
        peer.negotiation.signed_on(&peer.telnet).compression,
        Some(true)
    );
    assert_eq!(peer.sends(&option(DONT, MCCP2)).compression, Some(false));
    // Asked for again, or first, after sign-on: at once.
    assert_eq!(peer.sends(&option(DO, MCCP2)).compression, Some(true));
    let mut peer = Peer::auto();
    peer.negotiation.signed_on(&peer.telnet);
    assert_eq!(peer.sends(&option(DO, MCCP2)).compression, Some(true));
    // Agreed, then refused, before sign-on: nothing starts.
    let mut peer = Peer::auto();
    peer.sends(&option(DO, MCCP2));
    peer.sends(&option(DONT, MCCP2));
    assert_eq!(peer.negotiation.signed_on(&peer.telnet).compression, None);
    // Off in the config: not offered, and refused when asked.
    let mut peer = Peer::connect(&Config {
        compression: false,
        ..Config::default()
    });
    assert!(!peer.sent(&option(WILL, MCCP2)));
    assert_eq!(peer.sends(&option(DO, MCCP2)).compression, None);
    assert!(peer.sent(&option(WONT, MCCP2)));
}

#[test]
fn window_size_mssp_and_gmcp() {
    let mut peer = Peer::auto();
    peer.sends(&option(WILL, NAWS));
    let effects = peer.sends(&subnegotiation(NAWS, &[0, 100, 0, 40]));
    assert_eq!(effects.width, Some(100));
    assert_eq!(peer.negotiation.client().window, (100, 40));
    // A short NAWS payload is ignored.
    assert_eq!(peer.sends(&subnegotiation(NAWS, &[0, 90])).width, None);

    assert!(peer.sends(&option(DO, MSSP)).mssp);

    assert!(!peer.negotiation.wants_gmcp(&peer.telnet, "Room.Players"));
    assert!(peer.sends(&option(DO, GMCP)).gmcp);
    assert!(peer.negotiation.wants_gmcp(&peer.telnet, "Room.Players"));
    let remove = subnegotiation(GMCP, br#"Core.Supports.Remove ["Room"]"#);
    assert!(peer.sends(&remove).gmcp);
    assert!(!peer.negotiation.wants_gmcp(&peer.telnet, "Room.Players"));
    assert!(
        peer.negotiation
            .wants_gmcp(&peer.telnet, "Comm.Channel.Text")
    );
    let hello = subnegotiation(
        GMCP,
        br#"Core.Hello {"client":"Mudlet\u001b[31m","version":"4.17"}"#,
    );
    peer.sends(&hello);
    let (name, version) = peer.negotiation.client().gmcp_hello.clone().expect("hello");
    assert_eq!(
        (name.as_str(), version.as_deref()),
        ("Mudlet", Some("4.17"))
    );

    assert!(peer.sends(&option(DONT, GMCP)).gmcp);
    assert!(
        !peer
            .negotiation
            .wants_gmcp(&peer.telnet, "Comm.Channel.Text")
    );
    // GMCP off: what the client sends in it is not acted on.
    let listed = peer.negotiation.gmcp().clone();
    let effects = peer.sends(&subnegotiation(GMCP, br#"Core.Supports.Set ["Huge 1"]"#));
    assert!(!effects.gmcp);
    assert_eq!(peer.negotiation.gmcp(), &listed);
    let other = subnegotiation(GMCP, br#"Core.Hello {"client":"Other"}"#);
    peer.sends(&other);
    assert_eq!(
        peer.negotiation
            .client()
            .gmcp_hello
            .as_ref()
            .map(|h| h.0.as_str()),
        Some("Mudlet")
    );
}

#[test]
fn subnegotiations_for_options_that_are_off_are_ignored() {
    // Never agreed: NAWS and TTYPE answers, GMCP, CHARSET.
    let mut peer = Peer::auto();
    assert_eq!(
        peer.sends(&subnegotiation(NAWS, &[0, 100, 0, 40])).width,
        None
    );
    assert_eq!(peer.negotiation.client().window, (0, 0));
    peer.sends(&ttype_is("XTERM"));
    assert_eq!(peer.negotiation.client().first_ttype(), None);
    assert_eq!(peer.negotiation.editing(), Mode::Client);
    let hello = subnegotiation(GMCP, br#"Core.Hello {"client":"Mudlet"}"#);
    assert!(!peer.sends(&hello).gmcp);
    assert_eq!(peer.negotiation.client().gmcp_hello, None);
    let request = subnegotiation(CHARSET, b"\x01;UTF-8");
    assert_eq!(peer.sends(&request).charset, None);
    assert!(!peer.sent(&[IAC, SB, CHARSET]));
    // Names a client gives itself are cut to a bound.
    let mut peer = Peer::auto();
    peer.sends(&ttype(&[&"X".repeat(3000)]));
    let first = peer.negotiation.client().first_ttype().expect("answered");
    assert_eq!(first.len(), MAX_CLIENT_NAME);
}

#[test]
fn prompts_end_as_the_client_agreed() {
    let mut peer = Peer::auto();
    assert_eq!(
        peer.negotiation.prompt_end(&peer.telnet),
        PromptEnd::NoTelnet
    );
    peer.sends(&option(WONT, TTYPE));
    assert_eq!(
        peer.negotiation.prompt_end(&peer.telnet),
        PromptEnd::GoAhead
    );
    peer.sends(&option(DO, SGA));
    assert_eq!(
        peer.negotiation.prompt_end(&peer.telnet),
        PromptEnd::Suppressed
    );
    peer.sends(&option(DO, TELOPT_EOR));
    assert_eq!(
        peer.negotiation.prompt_end(&peer.telnet),
        PromptEnd::EndOfRecord
    );
}

#[test]
fn typed_bytes_settle_an_undeclared_charset() {
    let mut peer = Peer::auto();
    assert_eq!(peer.sends(b"caf\xe9 ").charset, Some(Charset::Latin1));
    let mut peer = Peer::connect(&Config {
        fallback_charset: Charset::Latin1,
        ..Config::default()
    });
    assert_eq!(peer.sends("café ".as_bytes()).charset, Some(Charset::Utf8));
    // A UTF-8 lead byte left alone at the end of a line was Latin-1.
    let mut peer = Peer::auto();
    assert_eq!(peer.sends(b"caf\xc3").charset, None);
    assert_eq!(peer.sends(b"\r\n").charset, Some(Charset::Latin1));
}

#[test]
fn too_many_negotiations_end_the_connection() {
    let config = Config {
        max_negotiations: 16,
        ..Config::default()
    };
    let mut peer = Peer::connect(&config);
    // Each is refused: an event every time, unlike a repeated WILL of an
    // option already on.
    for _ in 0..16 {
        peer.sends(&option(WILL, 99));
    }
    assert_eq!(peer.try_sends(&option(WILL, 99)), Err(NegotiationFlood));
    // Every other telnet command counts too: two-byte commands, dropped
    // sequences, subnegotiations for options that are off.
    for flood in [
        vec![IAC, NOP],
        vec![IAC, AYT],
        vec![IAC, GA],
        vec![IAC, 200],
        vec![IAC, SE],
        subnegotiation(GMCP, b"Core.Ping"),
    ] {
        let mut peer = Peer::connect(&config);
        for _ in 0..16 {
            peer.sends(&flood);
        }
        assert_eq!(peer.try_sends(&flood), Err(NegotiationFlood), "{flood:?}");
    }
    // A line the user typed renews the budget; text alone costs nothing.
    let mut peer = Peer::connect(&config);
    for _ in 0..100 {
        peer.sends(b"text\r\n");
        for _ in 0..16 {
            peer.sends(&[IAC, NOP]);
        }
    }
    // An empty line is no line typed.
    assert_eq!(
        peer.try_sends(&[b"\r\n" as &[u8], &[IAC, NOP]].concat()),
        Err(NegotiationFlood)
    );
    // The editing commands are typing: they cost nothing here.
    let mut peer = Peer::connect(&config);
    for _ in 0..1000 {
        peer.sends(&[IAC, EC, IAC, EL, IAC, IP, IAC, BRK]);
    }
    // A reader who never types but spends the budget more slowly than one
    // window (keep-alive NOPs, window resizes) is never cut off...
    let mut peer = Peer::connect(&config);
    for _ in 0..10 {
        for _ in 0..16 {
            peer.sends(&[IAC, NOP]);
            peer.now += BUDGET_WINDOW / 16;
        }
    }
    // ... and one that spends it within a window is.
    for _ in 0..16 {
        let _ = peer.try_sends(&[IAC, NOP]);
    }
    assert_eq!(peer.try_sends(&[IAC, NOP]), Err(NegotiationFlood));
}

#[test]
fn a_flood_of_ayt_gets_one_answer_per_typed_line() {
    let mut peer = Peer::auto();
    let ayts = [IAC, AYT].repeat(10);
    assert!(peer.sends(&ayts).are_you_there);
    assert!(!peer.sends(&ayts).are_you_there);
    assert!(
        !peer
            .sends(&[b"\r\n" as &[u8], &ayts].concat())
            .are_you_there
    );
    assert!(
        peer.sends(&[b"x\r\n" as &[u8], &ayts].concat())
            .are_you_there
    );
}

#[test]
fn terminals_are_asked_to_send_in_binary_and_mud_clients_are_not() {
    let do_binary = option(DO, BINARY);
    // A terminal type: server editing, and DO BINARY with it.
    let mut peer = Peer::auto();
    peer.sends(&ttype(&["XTERM"]));
    assert!(peer.sent(&do_binary));
    // It agrees (inetutils), or refuses (busybox) and is not asked again.
    assert!(peer.sends(&option(WILL, BINARY)).editing.is_none());
    assert!(peer.telnet.is_enabled(Side::Remote, BINARY));
    let mut peer = Peer::auto();
    peer.sends(&ttype(&["XTERM"]));
    assert!(peer.sent(&do_binary));
    peer.sends(&option(WONT, BINARY));
    peer.sends(&option(DO, ECHO));
    assert!(!peer.sent(&do_binary), "asked once");
    assert_eq!(peer.negotiation.editing(), Mode::Server);
    // PuTTY asks tavern to echo before its terminal type.
    let mut peer = Peer::auto();
    peer.sends(&option(DO, ECHO));
    assert!(peer.sent(&do_binary));
    // A terminal that edits its own lines checks its escape key too.
    let mut peer = Peer::connect(&config(LineEditing::Client));
    peer.sends(&ttype(&["XTERM"]));
    assert!(peer.sent(&do_binary));
    // MUD clients, and clients that speak no telnet, are not asked.
    for client in ["MUDLET", "TINTIN++", "MUSHCLIENT"] {
        let mut peer = Peer::auto();
        peer.sends(&ttype(&[client]));
        assert!(!peer.sent(&do_binary), "{client}");
    }
    let mut peer = Peer::auto();
    peer.sends(b"ann\r\n");
    peer.stop_waiting();
    assert!(!peer.sent(&do_binary));
    // Tavern's own output stays NVT: DO BINARY from a client is refused.
    let mut peer = Peer::auto();
    peer.sends(&option(DO, BINARY));
    assert!(peer.sent(&option(WONT, BINARY)));
}

#[test]
fn tavern_offers_its_charsets_once_the_client_agrees() {
    let mut peer = Peer::auto();
    peer.sends(&option(DO, CHARSET));
    assert!(peer.sent(&subnegotiation(CHARSET, b"\x01;UTF-8;ISO-8859-1")));
}

#[test]
fn charset_is_refused_only_when_neither_side_will_do_it() {
    // The client offers CHARSET itself and refuses tavern's: its own
    // REQUEST may still come.
    let mut peer = Peer::auto();
    peer.sends(&option(WILL, CHARSET));
    peer.sends(&option(DONT, CHARSET));
    assert!(!peer.negotiation.client().charset_settled);
    peer.sends(&option(WONT, CHARSET));
    assert!(
        peer.negotiation.client().charset_settled,
        "now neither will"
    );
    // It withdraws its own offer while tavern's still waits for an answer.
    let mut peer = Peer::auto();
    peer.sends(&option(WILL, CHARSET));
    peer.sends(&option(WONT, CHARSET));
    assert!(!peer.negotiation.client().charset_settled);
    // Once agreed, a later DONT changes nothing.
    let mut peer = Peer::auto();
    peer.sends(&option(DO, CHARSET));
    peer.sends(&subnegotiation(CHARSET, b"\x02ISO-8859-1"));
    assert_eq!(peer.sends(&option(DONT, CHARSET)).charset, None);
    assert_eq!(peer.negotiation.client().charset, Charset::Latin1);
}

#[test]
fn a_client_toggling_ttype_is_not_asked_again() {
    let mut peer = Peer::auto();
    let send = subnegotiation(TTYPE, &[TTYPE_SEND]);
    peer.sends(&option(WILL, TTYPE));
    assert!(peer.sent(&send));
    peer.sends(&option(WONT, TTYPE));
    peer.sends(&option(WILL, TTYPE));
    assert!(!peer.sent(&send));
}

#[test]
fn the_gmcp_packages_a_client_lists_are_kept_for_client() {
    let mut peer = Peer::auto();
    peer.sends(&option(DO, GMCP));
    peer.sends(&subnegotiation(
        GMCP,
        br#"Core.Supports.Set ["Room 1", "Char 1"]"#,
    ));
    let listed: Vec<&str> = peer
        .negotiation
        .gmcp()
        .listed()
        .expect("a list")
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(listed, ["char", "room"]);
}

/// A client that refused TTYPE is told apart by its answer to EOR, which may
/// come in a later read: editing and the banner wait for it, within the
/// negotiation's wait.
#[test]
fn a_client_that_refuses_ttype_is_decided_on_its_answer_to_eor() {
    let mut peer = Peer::auto();
    peer.sends(&option(DONT, CHARSET));
    let effects = peer.sends(&option(WONT, TTYPE));
    assert_eq!(effects.editing, None, "EOR not answered yet");
    assert!(!effects.settled, "the banner's hints depend on it");
    let effects = peer.sends(&option(DO, TELOPT_EOR));
    assert!(effects.settled);
    assert_eq!(peer.negotiation.editing(), Mode::Client);
    let client = peer.negotiation.client();
    assert!(client.is_mud_client() && client.slash_prefix_client());
    assert!(!peer.sent(&option(WILL, ECHO)), "no echo for a MUD client");

    // EOR never answered: at the end of the wait, a terminal.
    let mut peer = Peer::auto();
    peer.sends(&option(WONT, TTYPE));
    peer.sent.clear();
    assert_eq!(peer.stop_waiting().editing, Some(Mode::Server));
    assert!(peer.sent(&option(WILL, ECHO)));
    assert!(!peer.negotiation.client().slash_prefix_client());
    // A late DO EOR changes nothing.
    assert_eq!(peer.sends(&option(DO, TELOPT_EOR)).editing, None);
    assert_eq!(peer.negotiation.editing(), Mode::Server);
    assert!(!peer.negotiation.client().is_mud_client());

    // Refusing TTYPE and every MUD offer: a terminal, told at once.
    let mut peer = Peer::auto();
    let effects = peer.sends(&refuses_all());
    assert_eq!(effects.editing, Some(Mode::Server));
    assert!(effects.settled);
    assert!(!peer.negotiation.client().slash_prefix_client());
}

/// Debian's tf as captured gets client editing and the dot form, with
/// compression on or off (then it is not offered MCCP2, and does not agree
/// to it).
#[test]
fn tinyfugue_4_is_a_mud_client_whose_prefix_is_slash() {
    let do_binary = option(DO, BINARY);
    for compression in [true, false] {
        let mut peer = Peer::connect(&Config {
            compression,
            ..Config::default()
        });
        peer.sent.clear();
        let mut effects = Effects::default();
        for answer in tf4_answers() {
            if answer == option(DO, MCCP2) && !compression {
                continue;
            }
            effects = effects.then(peer.sends(&answer));
        }
        assert!(effects.settled, "compression {compression}");
        assert_eq!(peer.negotiation.editing(), Mode::Client);
        let client = peer.negotiation.client();
        assert!(client.is_mud_client() && client.slash_prefix_client());
        assert_eq!(client.window, (100, 26));
        let sent = peer.sent.clone();
        assert!(!peer.sent(&option(WILL, ECHO)), "{sent:?}");
        peer.sent = sent;
        assert!(!peer.sent(&do_binary), "MUD clients are not asked BINARY");
    }
    // The admin's choice of editing leaves the hints to what tf is.
    for line_editing in [LineEditing::Server, LineEditing::Client] {
        let mut peer = Peer::connect(&config(line_editing));
        peer.sends(&tf4_answers().concat());
        assert!(peer.negotiation.client().slash_prefix_client());
    }
}

/// `Telnet` reads a whole read's negotiations before its events are handed
/// out one by one, so its option states run ahead of the events: the banner
/// must not go out on an early event of a read that also holds the TTYPE
/// refusal, before the client is known (tf's answers in one read begin with
/// `DO MCCP2` and `WILL NAWS`).
#[test]
fn the_banner_waits_for_the_events_of_a_read_not_the_telnet_state() {
    let mut peer = Peer::auto();
    peer.telnet.handle_input(&tf4_answers().concat());
    let mut settled = 0;
    while let Some(event) = peer.telnet.poll_event() {
        let effects = peer
            .negotiation
            .on_event(&mut peer.telnet, &event, peer.now)
            .expect("within the budget");
        if effects.settled {
            settled += 1;
            let client = peer.negotiation.client();
            assert!(
                client.slash_prefix_client(),
                "settled at {event:?}, before tf was known"
            );
        }
    }
    assert_eq!(settled, 1);
    assert_eq!(peer.negotiation.editing(), Mode::Client);
}
