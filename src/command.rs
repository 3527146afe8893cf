//! A typed line becomes an [`Input`] here, and only here: chat text, a
//! command for its one owner, or a mistake with its answer. Names in
//! commands come out validated ([`Nick`], [`RoomName`]), so nothing
//! downstream parses them again. The table [`COMMANDS`] is the single list of
//! commands, used by `/help` and by usage errors, so the two cannot drift
//! apart.
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
    Color(bool),
    /// What tavern knows about the user's client.
    Client,
    /// `/timestamps on|off`, or without an argument (`None`): which it is.
    Timestamps(Option<bool>),
    Help,
}

/// Commands about rooms and other members, answered by the room manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoomCommand {
    Who { all: bool },
    Me(String),
    Msg { to: Nick, text: String },
    Join(RoomName),
    Rooms,
    Away(Option<String>),
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
    /// `/msg` to a name nobody could have.
    Nobody(String),
}

impl Mistake {
    /// The answer the user sees.
    pub(crate) fn message(&self) -> String {
        match self {
            Mistake::Usage(usage) => format!("Usage: {usage}"),
            Mistake::Unknown(name) => format!("Unknown command /{name}. Type /help for the list."),
            Mistake::BadName(error) => format!("{error}."),
            Mistake::Nobody(name) => format!("There is nobody called {name} here."),
        }
    }
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
    ("/join ROOM", "go to a room, creating it if needed"),
    ("/rooms", "list the rooms and how many are in each"),
    (
        "/away [REASON]",
        "mark yourself away; typing anything brings you back",
    ),
    ("/color on|off", "turn colors on or off"),
    (
        "/timestamps [on|off]",
        "put the time (UTC) before each line you are shown",
    ),
    (
        "/client",
        "what tavern knows about your client (window, charset, colors...)",
    ),
    ("/quit [MESSAGE]", "leave, with an optional goodbye"),
    ("/help", "this list"),
    ("//TEXT", "send a line that starts with /"),
];

impl Input {
    /// Parses a sanitized line. Command names are case-insensitive;
    /// `max_nick` is the configured nickname length, in characters.
    pub(crate) fn parse(line: &str, max_nick: usize) -> Input {
        let Some(rest) = line.strip_prefix('/') else {
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
            "join" if one_word => match RoomName::parse(args) {
                Ok(room) => Input::Room(RoomCommand::Join(room)),
                Err(error) => Input::Mistake(Mistake::BadName(error)),
            },
            "join" => usage_of("/join"),
            "rooms" | "list" => Input::Room(RoomCommand::Rooms),
            "away" => Input::Room(RoomCommand::Away(optional(args))),
            "color" | "colour" => match args.to_lowercase().as_str() {
                "on" => Input::Session(SessionCommand::Color(true)),
                "off" => Input::Session(SessionCommand::Color(false)),
                _ => usage_of("/color"),
            },
            "client" => Input::Session(SessionCommand::Client),
            "timestamps" => match args.to_lowercase().as_str() {
                "" => Input::Session(SessionCommand::Timestamps(None)),
                "on" => Input::Session(SessionCommand::Timestamps(Some(true))),
                "off" => Input::Session(SessionCommand::Timestamps(Some(false))),
                _ => usage_of("/timestamps"),
            },
            "help" | "?" => Input::Session(SessionCommand::Help),
            _ => Input::Mistake(Mistake::Unknown(name.to_owned())),
        }
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
    lines
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
        check("/color off", session(SessionCommand::Color(false)));
        check("/Colour ON", session(SessionCommand::Color(true)));
        check("/help", session(SessionCommand::Help));
        check("/?", session(SessionCommand::Help));
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
        check("/join two rooms", usage("/join ROOM"));
        check("/color blue", usage("/color on|off"));
        check("/who me", usage("/who [all]"));
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
            "There is nobody called zed here."
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
        assert_eq!(lines.len(), COMMANDS.len() + 1);
        let column = |line: &str, what: &str| line.find(what).expect("description");
        let first = column(&lines[1], COMMANDS[0].1);
        for (line, (usage, what)) in lines[1..].iter().zip(COMMANDS) {
            assert!(line.starts_with(&format!("  {usage}")), "{line}");
            assert_eq!(column(line, what), first, "{line}");
        }
    }
}
