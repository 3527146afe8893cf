//! A typed line becomes an [`Input`] here, and only here: chat text, a
//! command for its one owner, or a mistake with its answer. Names in
//! commands come out validated ([`Nick`], [`RoomName`]), so nothing
//! downstream parses them again. The table [`COMMANDS`] is the single list of
//! commands, used by `/help` and by usage errors, so the two cannot drift
//! apart.
//!
//! The second prefix: `.who` is `/who`. A MUD client whose own command
//! prefix is `/` (TinyFugue) runs `/who` itself, so tavern also takes `.`
//! followed by a command name it knows ([`dotted`]); any other line starting
//! with `.` (`...`, `.5 is half`, `.hello`) stays chat.
//!
//! Who answers what: the session answers what concerns its own connection or
//! needs no room state ([`SessionCommand`], and every [`Mistake`]); the room
//! manager answers what reads or changes rooms ([`RoomCommand`]).

use unicode_width::UnicodeWidthStr;

use crate::names::{NameError, Nick, RoomName};

/// One line from a signed-on user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// Text for the room. `//text` arrives here as `/text`.
    Chat(String),
    /// A command the session answers itself.
    Session(SessionCommand),
    /// A command for the room manager.
    Room(RoomCommand),
    /// Not a command tavern can carry out; the session says why.
    Mistake(Mistake),
}

/// Commands about the user's own connection, answered by the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionCommand {
    /// `/nick`: the session asks the room manager, and keeps its log span's
    /// nick in step.
    Nick(Nick),
    Quit(Option<String>),
    /// `/color on|off`; without an argument, whether colours are on.
    Color(Option<bool>),
    /// What tavern knows about the user's client.
    Client,
    /// `/timestamps on|off`, or without an argument (`None`): which it is.
    Timestamps(Option<bool>),
    /// `/help`, or `/help CMD` for one command (the name as typed, without
    /// its `/`).
    Help(Option<String>),
    /// `/motd`: the banner again.
    Motd,
    /// `/time`: the server's clock, in UTC.
    Time,
}

/// Commands about rooms and other members, answered by the room manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoomCommand {
    Who {
        all: bool,
    },
    Me(String),
    Msg {
        to: Nick,
        text: String,
    },
    Join(RoomName),
    Rooms,
    /// `/away [REASON]`; without a reason while away, back.
    Away(Option<String>),
    /// `/reply TEXT`: a private message to whoever sent the last one.
    Reply(String),
    /// `/part`: back to the default room.
    Part,
    /// `/whois NICK`: what is known of one person.
    Whois(Nick),
}

/// A line that starts like a command but is not one tavern can carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mistake {
    /// A known command with missing or wrong arguments: its usage line.
    Usage(&'static str),
    /// Not a command tavern knows; carries the name as typed.
    Unknown(String),
    /// A nickname or room name that breaks the rules.
    BadName(NameError),
    /// `/msg` or `/whois` to a name nobody could have.
    Nobody(String),
    /// `/join` with a room name of several words; carries what is wrong
    /// besides the spaces, if anything.
    RoomWithSpaces {
        /// The words joined by `-`, if that is a good room name.
        suggestion: Option<String>,
        /// What else is wrong with the name, if the joined form is not good.
        also: Option<NameError>,
    },
    /// `/help` about a command tavern does not know.
    NoHelp(String),
}

impl Mistake {
    /// The answer the user sees.
    pub(crate) fn message(&self) -> String {
        match self {
            Mistake::Usage(usage) => format!("Usage: {usage}"),
            Mistake::Unknown(name) => format!("Unknown command /{name}. Type /help for the list."),
            Mistake::BadName(error) => format!("{error}."),
            Mistake::Nobody(name) => nobody_online(name),
            Mistake::RoomWithSpaces { suggestion, also } => match (suggestion, also) {
                (Some(room), _) => {
                    format!("A room name cannot contain spaces: try /join {room}.")
                }
                (None, Some(error)) => format!("A room name cannot contain spaces, and {error}."),
                (None, None) => "A room name cannot contain spaces.".to_owned(),
            },
            Mistake::NoHelp(name) => {
                format!("There is no command /{name}. Type /help for the list.")
            }
        }
    }
}

/// What `/msg`, `/reply` and `/whois` say of a nick nobody has: the room
/// manager looks in every room, so it is nobody online at all.
pub(crate) fn nobody_online(name: &str) -> String {
    format!("Nobody called {name} is online.")
}

/// Every command: usage and what it does. `/help` prints this table.
pub const COMMANDS: &[(&str, &str)] = &[
    ("/nick NEW", "change your nickname"),
    (
        "/who [all]",
        "who is in this room (or in every room), with idle time",
    ),
    ("/me ACTION", "say what you are doing (an emote)"),
    ("/msg NICK TEXT", "a private message to one person"),
    (
        "/reply TEXT",
        "answer the last private message you received",
    ),
    (
        "/whois NICK",
        "someone's room, idle time, away reason and client name",
    ),
    ("/join ROOM", "go to a room, creating it if needed"),
    ("/part", "go back to the default room"),
    ("/rooms", "list the rooms and how many are in each"),
    (
        "/away [REASON]",
        "mark yourself away (alone while away: back)",
    ),
    ("/color [on|off]", "turn colors on or off, or say which"),
    ("/motd", "show the welcome banner again"),
    ("/time", "the server's time (UTC)"),
    (
        "/timestamps [on|off]",
        "put the time (UTC) before each line you are shown",
    ),
    (
        "/client",
        "what tavern knows about your client (window, charset, colors...)",
    ),
    ("/quit [MESSAGE]", "leave, with an optional goodbye"),
    ("/help [COMMAND]", "this list, or one command"),
    ("//TEXT", "send a line that starts with /"),
];

/// Other names that work, and the command each stands for (usage as in
/// [`COMMANDS`]). `/help` lists them; `/join #room` is a form, not a name.
pub const ALIASES: &[(&str, &str)] = &[
    ("/names", "/who"),
    ("/tell", "/msg"),
    ("/r", "/reply"),
    ("/leave", "/part"),
    ("/list", "/rooms"),
    ("/colour", "/color"),
    ("/exit", "/quit"),
    ("/?", "/help"),
];

impl Input {
    /// Parses a sanitized line. Command names are case-insensitive;
    /// `max_nick` is the configured nickname length, in characters.
    pub(crate) fn parse(line: &str, max_nick: usize) -> Input {
        let Some(rest) = line.strip_prefix('/').or_else(|| dotted(line)) else {
            return Input::Chat(line.to_owned());
        };
        if rest.starts_with('/') {
            return Input::Chat(rest.to_owned());
        }
        let (name, args) = match rest.split_once(' ') {
            Some((name, args)) => (name, args.trim()),
            None => (rest, ""),
        };
        let optional = |args: &str| (!args.is_empty()).then(|| args.to_owned());
        let one_word = !args.is_empty() && !args.contains(' ');
        let usage_of = |command| Input::Mistake(Mistake::Usage(usage(command)));
        match name.to_lowercase().as_str() {
            "nick" if one_word => match Nick::parse(args, max_nick) {
                Ok(nick) => Input::Session(SessionCommand::Nick(nick)),
                Err(error) => Input::Mistake(Mistake::BadName(error)),
            },
            "nick" => usage_of("/nick"),
            "who" | "names" => match args.to_lowercase().as_str() {
                "" => Input::Room(RoomCommand::Who { all: false }),
                "all" => Input::Room(RoomCommand::Who { all: true }),
                _ => usage_of("/who"),
            },
            "quit" | "exit" => Input::Session(SessionCommand::Quit(optional(args))),
            "me" if !args.is_empty() => Input::Room(RoomCommand::Me(args.to_owned())),
            "me" => usage_of("/me"),
            "msg" | "tell" => match args.split_once(' ') {
                // `args` is trimmed, so a text after the first space is
                // never blank.
                Some((to, text)) => {
                    // Any length: the target's nick may predate a lower
                    // configured maximum.
                    match Nick::parse(to, usize::MAX) {
                        Ok(to) => Input::Room(RoomCommand::Msg {
                            to,
                            text: text.trim().to_owned(),
                        }),
                        Err(_) => Input::Mistake(Mistake::Nobody(to.to_owned())),
                    }
                }
                _ => usage_of("/msg"),
            },
            "reply" | "r" if !args.is_empty() => Input::Room(RoomCommand::Reply(args.to_owned())),
            "reply" | "r" => usage_of("/reply"),
            "whois" if one_word => match Nick::parse(args, usize::MAX) {
                Ok(nick) => Input::Room(RoomCommand::Whois(nick)),
                Err(_) => Input::Mistake(Mistake::Nobody(args.to_owned())),
            },
            "whois" => usage_of("/whois"),
            "join" if one_word => match RoomName::parse(args) {
                Ok(room) => Input::Room(RoomCommand::Join(room)),
                Err(error) => Input::Mistake(Mistake::BadName(error)),
            },
            "join" if !args.is_empty() => Input::Mistake(room_with_spaces(args)),
            "join" => usage_of("/join"),
            "part" | "leave" if args.is_empty() => Input::Room(RoomCommand::Part),
            "part" | "leave" => usage_of("/part"),
            "rooms" | "list" => Input::Room(RoomCommand::Rooms),
            "away" => Input::Room(RoomCommand::Away(optional(args))),
            "color" | "colour" => match args.to_lowercase().as_str() {
                "on" => Input::Session(SessionCommand::Color(Some(true))),
                "off" => Input::Session(SessionCommand::Color(Some(false))),
                "" => Input::Session(SessionCommand::Color(None)),
                _ => usage_of("/color"),
            },
            "client" => Input::Session(SessionCommand::Client),
            "timestamps" => match args.to_lowercase().as_str() {
                "" => Input::Session(SessionCommand::Timestamps(None)),
                "on" => Input::Session(SessionCommand::Timestamps(Some(true))),
                "off" => Input::Session(SessionCommand::Timestamps(Some(false))),
                _ => usage_of("/timestamps"),
            },
            "help" | "?" if !args.contains(' ') => {
                Input::Session(SessionCommand::Help(optional(args.trim_start_matches('/'))))
            }
            "help" | "?" => usage_of("/help"),
            "motd" => Input::Session(SessionCommand::Motd),
            "time" => Input::Session(SessionCommand::Time),
            _ => Input::Mistake(Mistake::Unknown(name.to_owned())),
        }
    }
}

/// The line after its `.` when it is a command in the second prefix's
/// form: `.` and a command name from [`COMMANDS`] or [`ALIASES`] (any case),
/// alone or followed by a space. Only letters count as a name, so `.?` and
/// `..` are chat; the name is at most a word long, so this costs at most
/// one pass over the tables, whatever the line.
fn dotted(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('.')?;
    let name = rest.split(' ').next().unwrap_or(rest);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let known = COMMANDS
        .iter()
        .map(|(usage, _)| *usage)
        .chain(ALIASES.iter().map(|(alias, _)| *alias))
        .filter_map(|usage| usage.split(' ').next()?.strip_prefix('/'))
        .any(|known| known.eq_ignore_ascii_case(name));
    known.then_some(rest)
}

/// Tab after `/` at the start of a line: the command names (from
/// [`COMMANDS`], with their `/`) that start with `word` in any case, in
/// order. Aliases are left out: they would only lengthen the cycle.
pub(crate) fn complete_name(word: &str) -> Vec<String> {
    let mut names: Vec<String> = COMMANDS
        .iter()
        .filter_map(|(usage, _)| usage.split(' ').next())
        .filter(|name| {
            name.len() > 1
                && !name.starts_with("//")
                && name
                    .get(..word.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(word))
        })
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// A hint (`/help`, a usage line, an error) in the form a client whose
/// own prefix is `/` can type: every `/name` of a known command becomes
/// `.name`. `//TEXT` and anything else stay as they are.
pub(crate) fn dotted_hint(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('/') {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let starts_word = out.is_empty() || out.ends_with([' ', '(', '"', '\'', '`', ',']);
        let name_end = from[1..]
            .find(|c: char| !c.is_ascii_alphabetic())
            .map_or(from.len(), |end| end + 1);
        let candidate = format!(".{}", &from[1..name_end]);
        if starts_word && name_end > 1 && dotted(&candidate).is_some() {
            out.push_str(&candidate);
            rest = &from[name_end..];
        } else {
            out.push('/');
            rest = &from[1..];
        }
    }
    out.push_str(rest);
    out
}

/// `/join` with several words: what to type instead, or everything that
/// is wrong with the name.
fn room_with_spaces(args: &str) -> Mistake {
    let joined = args.split_whitespace().collect::<Vec<_>>().join("-");
    match RoomName::parse(&joined) {
        Ok(room) => Mistake::RoomWithSpaces {
            suggestion: Some(room.to_string()),
            also: None,
        },
        Err(error) => Mistake::RoomWithSpaces {
            suggestion: None,
            also: Some(error),
        },
    }
}

/// The usage line of the command whose usage starts with `name`.
fn usage(name: &str) -> &'static str {
    COMMANDS
        .iter()
        .find(|(usage, _)| usage.split(' ').next() == Some(name))
        .map(|(usage, _)| *usage)
        .unwrap_or("/help")
}

/// `/help`: a heading, then each command's usage and what it does, the
/// descriptions lined up in one column.
pub(crate) fn help_lines() -> Vec<String> {
    let width = COMMANDS.iter().map(|(u, _)| u.width()).max().unwrap_or(0);
    let mut lines = vec!["Commands:".to_owned()];
    for (usage, what) in COMMANDS {
        let pad = " ".repeat(width - usage.width());
        lines.push(format!("  {usage}{pad}  {what}"));
    }
    let aliases: Vec<String> = ALIASES
        .iter()
        .map(|(alias, name)| format!("{alias} = {name}"))
        .collect();
    lines.push(format!(
        "Also: {}, and /join #room. /help COMMAND for one.",
        aliases.join(", ")
    ));
    lines
}

/// `/help CMD`: the command's usage and what it does, and its other names;
/// `None` if tavern has no such command. `name` may be an alias, with or
/// without its `/`.
pub(crate) fn help_for(name: &str) -> Option<Vec<String>> {
    let wanted = format!("/{}", name.trim_start_matches('/').to_lowercase());
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == wanted)
        .map_or(wanted.as_str(), |(_, name)| *name);
    let (usage, what) = COMMANDS
        .iter()
        .find(|(usage, _)| usage.split(' ').next() == Some(name))?;
    let mut lines = vec![format!("{usage}  {what}")];
    let aliases: Vec<&str> = ALIASES
        .iter()
        .filter(|(_, command)| *command == name)
        .map(|(alias, _)| *alias)
        .collect();
    if !aliases.is_empty() {
        lines.push(format!("  also: {}", aliases.join(", ")));
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_NICK: usize = 16;

    fn check(line: &str, expected: Input) {
        assert_eq!(Input::parse(line, MAX_NICK), expected, "{line:?}");
    }

    fn nick(name: &str) -> Nick {
        Nick::parse(name, MAX_NICK).expect("a valid nick")
    }

    fn session(command: SessionCommand) -> Input {
        Input::Session(command)
    }

    fn room(command: RoomCommand) -> Input {
        Input::Room(command)
    }

    fn mistake(mistake: Mistake) -> Input {
        Input::Mistake(mistake)
    }

    #[test]
    fn plain_text_and_double_slash_are_chat() {
        check("hello", Input::Chat("hello".into()));
        check("//shrug", Input::Chat("/shrug".into()));
        check("hello /nick", Input::Chat("hello /nick".into()));
    }

    #[test]
    fn session_commands_parse_case_insensitively_with_their_arguments() {
        check("/NICK bob", session(SessionCommand::Nick(nick("bob"))));
        check("/quit", session(SessionCommand::Quit(None)));
        check("/exit", session(SessionCommand::Quit(None)));
        check(
            "/quit bye all",
            session(SessionCommand::Quit(Some("bye all".into()))),
        );
        check("/color off", session(SessionCommand::Color(Some(false))));
        check("/Colour ON", session(SessionCommand::Color(Some(true))));
        check("/color", session(SessionCommand::Color(None)));
        check("/help", session(SessionCommand::Help(None)));
        check("/?", session(SessionCommand::Help(None)));
        check(
            "/help msg",
            session(SessionCommand::Help(Some("msg".into()))),
        );
        check(
            "/help /msg",
            session(SessionCommand::Help(Some("msg".into()))),
        );
        check("/motd", session(SessionCommand::Motd));
        check("/TIME", session(SessionCommand::Time));
        check("/client", session(SessionCommand::Client));
    }

    #[test]
    fn room_commands_parse_case_insensitively_with_their_arguments() {
        check("/who", room(RoomCommand::Who { all: false }));
        check("/names", room(RoomCommand::Who { all: false }));
        check("/Who ALL", room(RoomCommand::Who { all: true }));
        check("/me waves", room(RoomCommand::Me("waves".into())));
        check(
            "/msg ann hi there",
            room(RoomCommand::Msg {
                to: nick("ann"),
                text: "hi there".into(),
            }),
        );
        check(
            "/tell ann  hi ",
            room(RoomCommand::Msg {
                to: nick("ann"),
                text: "hi".into(),
            }),
        );
        check(
            "/join games",
            room(RoomCommand::Join(RoomName::parse("games").expect("room"))),
        );
        check("/rooms", room(RoomCommand::Rooms));
        check("/list", room(RoomCommand::Rooms));
        check("/away", room(RoomCommand::Away(None)));
        check("/away lunch", room(RoomCommand::Away(Some("lunch".into()))));
        check(
            "/reply hi there",
            room(RoomCommand::Reply("hi there".into())),
        );
        check("/R  hi ", room(RoomCommand::Reply("hi".into())));
        check("/part", room(RoomCommand::Part));
        check("/leave", room(RoomCommand::Part));
        check("/whois Ann", room(RoomCommand::Whois(nick("Ann"))));
        check("/whois a☃", mistake(Mistake::Nobody("a☃".into())));
    }

    #[test]
    fn names_come_out_validated_or_as_the_reason_they_are_not() {
        check(
            "/nick a☃",
            mistake(Mistake::BadName(
                Nick::parse("a☃", MAX_NICK).expect_err("not a nick"),
            )),
        );
        let too_long = "x".repeat(MAX_NICK + 1);
        assert!(matches!(
            Input::parse(&format!("/nick {too_long}"), MAX_NICK),
            Input::Mistake(Mistake::BadName(NameError::TooLong { max: MAX_NICK, .. }))
        ));
        check(
            "/join bad☃",
            mistake(Mistake::BadName(
                RoomName::parse("bad☃").expect_err("not a room"),
            )),
        );
        check("/msg a☃ hi", mistake(Mistake::Nobody("a☃".into())));
        // A /msg target may be longer than new nicks may be.
        let long = "y".repeat(MAX_NICK + 4);
        assert!(matches!(
            Input::parse(&format!("/msg {long} hi"), MAX_NICK),
            Input::Room(RoomCommand::Msg { .. })
        ));
    }

    #[test]
    fn missing_arguments_give_the_usage_line() {
        let usage = |text| mistake(Mistake::Usage(text));
        check("/nick", usage("/nick NEW"));
        check("/nick two words", usage("/nick NEW"));
        check("/me", usage("/me ACTION"));
        check("/msg ann", usage("/msg NICK TEXT"));
        check("/msg ann   ", usage("/msg NICK TEXT"));
        check("/join", usage("/join ROOM"));
        check("/color blue", usage("/color [on|off]"));
        check("/reply", usage("/reply TEXT"));
        check("/r   ", usage("/reply TEXT"));
        check("/whois", usage("/whois NICK"));
        check("/whois two words", usage("/whois NICK"));
        check("/part now", usage("/part"));
        check("/help two words", usage("/help [COMMAND]"));
        check("/who me", usage("/who [all]"));
    }

    #[test]
    fn a_room_name_of_several_words_is_told_what_is_wrong_and_what_would_work() {
        let message = |line: &str| match Input::parse(line, MAX_NICK) {
            Input::Mistake(mistake) => mistake.message(),
            other => panic!("{line:?} gave {other:?}"),
        };
        assert_eq!(
            message("/join two rooms"),
            "A room name cannot contain spaces: try /join two-rooms."
        );
        assert_eq!(
            message("/join bad room!"),
            "A room name cannot contain spaces, and '!' is not allowed in a room name: \
             use letters, digits, _ and -."
        );
        assert_eq!(
            message(&format!("/join {} b", "a".repeat(24))),
            "A room name cannot contain spaces, and a room name can be at most 24 \
             characters long."
        );
    }

    #[test]
    fn help_for_one_command_takes_its_name_or_an_alias() {
        assert_eq!(
            help_for("msg").expect("msg"),
            [
                "/msg NICK TEXT  a private message to one person",
                "  also: /tell"
            ]
        );
        assert_eq!(help_for("/TELL"), help_for("msg"));
        assert_eq!(
            help_for("motd").expect("motd"),
            ["/motd  show the welcome banner again"]
        );
        assert_eq!(help_for("dance"), None);
        // Every alias stands for a command in the table, and works.
        for (alias, name) in ALIASES {
            assert!(
                usage(name) != "/help" || *name == "/help",
                "{alias} → {name}"
            );
            let parsed = Input::parse(alias, MAX_NICK);
            assert!(
                !matches!(parsed, Input::Mistake(Mistake::Unknown(_))),
                "{alias}: {parsed:?}"
            );
        }
    }

    #[test]
    fn a_dot_and_a_known_command_name_is_that_command() {
        check(".who", room(RoomCommand::Who { all: false }));
        check(".WHO all", room(RoomCommand::Who { all: true }));
        check(".nick bob", session(SessionCommand::Nick(nick("bob"))));
        check(
            ".quit bye",
            session(SessionCommand::Quit(Some("bye".into()))),
        );
        check(".tell ann hi", {
            room(RoomCommand::Msg {
                to: nick("ann"),
                text: "hi".into(),
            })
        });
        check(
            ".help who",
            session(SessionCommand::Help(Some("who".into()))),
        );
        check(".me", mistake(Mistake::Usage("/me ACTION")));
    }

    #[test]
    fn chat_that_starts_with_a_dot_stays_chat() {
        for line in [
            ".",
            "...",
            "... and then",
            ".5 is half",
            ".hello",
            ".whom",
            ". who",
            ".?",
            "..who",
            ".who's there",
            ".né",
        ] {
            check(line, Input::Chat(line.into()));
        }
    }

    #[test]
    fn hints_for_a_slash_client_name_commands_with_a_dot() {
        assert_eq!(dotted_hint("Usage: /join ROOM"), "Usage: .join ROOM");
        assert_eq!(
            dotted_hint("Unknown command /dance. Type /help for the list."),
            "Unknown command /dance. Type .help for the list."
        );
        assert_eq!(
            dotted_hint("  //TEXT  send a line that starts with /"),
            "  //TEXT  send a line that starts with /"
        );
        assert_eq!(
            dotted_hint("Also: /names = /who, and /join #room."),
            "Also: .names = .who, and .join #room."
        );
        assert_eq!(dotted_hint("a/who b /whom"), "a/who b /whom");
        assert_eq!(dotted_hint("type /help."), "type .help.");
    }

    #[test]
    fn unknown_commands_are_a_mistake_not_chat() {
        check("/dance", mistake(Mistake::Unknown("dance".into())));
        check("/", mistake(Mistake::Unknown(String::new())));
    }

    #[test]
    fn mistakes_say_what_to_do() {
        assert_eq!(Mistake::Usage("/join ROOM").message(), "Usage: /join ROOM");
        assert_eq!(
            Mistake::Unknown("dance".into()).message(),
            "Unknown command /dance. Type /help for the list."
        );
        assert_eq!(
            Mistake::Nobody("zed".into()).message(),
            "Nobody called zed is online."
        );
        assert_eq!(
            Mistake::NoHelp("dance".into()).message(),
            "There is no command /dance. Type /help for the list."
        );
        let error = RoomName::parse("").expect_err("empty");
        assert_eq!(
            Mistake::BadName(error).message(),
            "a room name cannot be empty."
        );
    }

    #[test]
    fn every_usage_line_is_found_and_help_lines_up_the_table() {
        for (line, _) in COMMANDS {
            let name = line.split(' ').next().expect("a name");
            assert_eq!(usage(name), *line);
        }
        assert_eq!(usage("/nonesuch"), "/help");
        let lines = help_lines();
        assert_eq!(lines[0], "Commands:");
        assert_eq!(lines.len(), COMMANDS.len() + 2);
        let aliases = lines.last().expect("the aliases");
        for (alias, name) in ALIASES {
            assert!(aliases.contains(&format!("{alias} = {name}")), "{aliases}");
        }
        assert!(aliases.contains("/join #room"), "{aliases}");
        let column = |line: &str, what: &str| line.find(what).expect("description");
        let first = column(&lines[1], COMMANDS[0].1);
        for (line, (usage, what)) in lines[1..=COMMANDS.len()].iter().zip(COMMANDS) {
            assert!(line.starts_with(&format!("  {usage}")), "{line}");
            assert_eq!(column(line, what), first, "{line}");
        }
    }

    #[test]
    fn tab_after_a_slash_completes_command_names_in_order() {
        assert_eq!(complete_name("/w"), ["/who", "/whois"]);
        assert_eq!(complete_name("/TI"), ["/time", "/timestamps"]);
        assert_eq!(complete_name("/quit"), ["/quit"]);
        assert!(complete_name("/zz").is_empty());
        assert!(complete_name("//").is_empty());
        let all = complete_name("/");
        assert_eq!(all.len(), COMMANDS.len() - 1, "every name but //TEXT");
        assert!(all.is_sorted());
    }
}
