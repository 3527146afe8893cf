//! A typed line becomes an [`Input`] here, and only here: chat text, or one of
//! the commands, or an unknown command with a helpful answer. The table
//! [`COMMANDS`] is the single list of commands, used by `/help` and by usage
//! errors, so the two cannot drift apart.

/// One line from a signed-on user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Text for the room. `//text` arrives here as `/text`.
    Chat(String),
    Command(Command),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Nick(String),
    Who {
        all: bool,
    },
    Quit(Option<String>),
    Me(String),
    Msg {
        to: String,
        text: String,
    },
    Join(String),
    Rooms,
    Away(Option<String>),
    Color(bool),
    /// What tavern knows about the user's client.
    Client,
    Help,
    /// A known command with missing or wrong arguments: its usage line.
    Usage(&'static str),
    /// Not a command tavern knows; carries the name as typed.
    Unknown(String),
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
        "/client",
        "what tavern knows about your client (window, charset, colors...)",
    ),
    ("/quit [MESSAGE]", "leave, with an optional goodbye"),
    ("/help", "this list"),
    ("//TEXT", "send a line that starts with /"),
];

impl Input {
    /// Parses a sanitized line. Command names are case-insensitive.
    pub fn parse(line: &str) -> Input {
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
        let command = match name.to_lowercase().as_str() {
            "nick" if !args.is_empty() && !args.contains(' ') => Command::Nick(args.to_owned()),
            "nick" => Command::Usage(usage("/nick")),
            "who" | "names" => match args.to_lowercase().as_str() {
                "" => Command::Who { all: false },
                "all" => Command::Who { all: true },
                _ => Command::Usage(usage("/who")),
            },
            "quit" | "exit" => Command::Quit(optional(args)),
            "me" if !args.is_empty() => Command::Me(args.to_owned()),
            "me" => Command::Usage(usage("/me")),
            "msg" | "tell" => match args.split_once(' ') {
                Some((to, text)) if !text.trim().is_empty() => Command::Msg {
                    to: to.to_owned(),
                    text: text.trim().to_owned(),
                },
                _ => Command::Usage(usage("/msg")),
            },
            "join" if !args.is_empty() && !args.contains(' ') => Command::Join(args.to_owned()),
            "join" => Command::Usage(usage("/join")),
            "rooms" | "list" => Command::Rooms,
            "away" => Command::Away(optional(args)),
            "color" | "colour" => match args.to_lowercase().as_str() {
                "on" => Command::Color(true),
                "off" => Command::Color(false),
                _ => Command::Usage(usage("/color")),
            },
            "client" => Command::Client,
            "help" | "?" => Command::Help,
            _ => Command::Unknown(name.to_owned()),
        };
        Input::Command(command)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: Input) {
        assert_eq!(Input::parse(line), expected, "{line:?}");
    }

    fn cmd(command: Command) -> Input {
        Input::Command(command)
    }

    #[test]
    fn plain_text_and_double_slash_are_chat() {
        check("hello", Input::Chat("hello".into()));
        check("//shrug", Input::Chat("/shrug".into()));
    }

    #[test]
    fn commands_parse_case_insensitively_with_their_arguments() {
        check("/NICK bob", cmd(Command::Nick("bob".into())));
        check("/who", cmd(Command::Who { all: false }));
        check("/Who ALL", cmd(Command::Who { all: true }));
        check("/quit", cmd(Command::Quit(None)));
        check("/quit bye all", cmd(Command::Quit(Some("bye all".into()))));
        check("/me waves", cmd(Command::Me("waves".into())));
        check(
            "/msg ann hi there",
            cmd(Command::Msg {
                to: "ann".into(),
                text: "hi there".into(),
            }),
        );
        check("/join games", cmd(Command::Join("games".into())));
        check("/rooms", cmd(Command::Rooms));
        check("/away", cmd(Command::Away(None)));
        check("/away lunch", cmd(Command::Away(Some("lunch".into()))));
        check("/color off", cmd(Command::Color(false)));
        check("/help", cmd(Command::Help));
        check("/client", cmd(Command::Client));
    }

    #[test]
    fn missing_arguments_give_the_usage_line() {
        check("/nick", cmd(Command::Usage("/nick NEW")));
        check("/nick two words", cmd(Command::Usage("/nick NEW")));
        check("/me", cmd(Command::Usage("/me ACTION")));
        check("/msg ann", cmd(Command::Usage("/msg NICK TEXT")));
        check("/join", cmd(Command::Usage("/join ROOM")));
        check("/color blue", cmd(Command::Usage("/color on|off")));
        check("/who me", cmd(Command::Usage("/who [all]")));
    }

    #[test]
    fn unknown_commands_are_a_variant_not_chat() {
        check("/dance", cmd(Command::Unknown("dance".into())));
        check("/", cmd(Command::Unknown(String::new())));
    }
}
