//! GMCP (Generic MUD Communication Protocol, telnet option 201): JSON
//! messages beside the text, so a MUD client can route chat into its own
//! window and show who is in the room.
//!
//! A GMCP message is `IAC SB GMCP <Package.Message> [<json>] IAC SE`. tavern
//! reads the client's `Core.Hello` (its name and version) and
//! `Core.Supports.Set/Add/Remove` (which packages it wants), and sends:
//!
//! - `Comm.Channel.Text {"channel", "talker", "text"}` for every line a user
//!   sees: chat, emotes, private messages and notices;
//! - `Room.Players [{"name","fullname"}…]` on entering a room, then
//!   `Room.AddPlayer {"name","fullname"}` and `Room.RemovePlayer "name"` as
//!   people come and go (the IRE shapes Mudlet's scripts know).
//!
//! Encoding is done once per message (the room manager's `Message` caches it)
//! and shared by every GMCP client in the room; which of them get it is the
//! session's question, answered by [`Supports`].

use std::collections::BTreeSet;

use bytes::{BufMut, Bytes, BytesMut};
use nectar::constants::{IAC, SB, SE};
use serde_json::{Value, json};

/// The GMCP telnet option (201).
pub use nectar::constants::GMCP;

/// Frames one GMCP message: `IAC SB GMCP package SP json IAC SE`.
pub fn frame(package: &str, data: &Value) -> Bytes {
    let json = data.to_string();
    let mut out = BytesMut::with_capacity(package.len() + json.len() + 6);
    out.put_slice(&[IAC, SB, GMCP]);
    // JSON from serde_json is UTF-8, which never holds the byte 255; the
    // escape is kept so framing never depends on that.
    for &byte in package.as_bytes().iter().chain(b" ").chain(json.as_bytes()) {
        if byte == IAC {
            out.put_u8(IAC);
        }
        out.put_u8(byte);
    }
    out.put_slice(&[IAC, SE]);
    out.freeze()
}

/// `Comm.Channel.Text`: one line as the user sees it, without colors.
pub fn channel_text(channel: &str, talker: Option<&str>, text: &str) -> Bytes {
    let mut data = json!({ "channel": channel, "text": text });
    if let (Some(talker), Some(map)) = (talker, data.as_object_mut()) {
        map.insert("talker".to_owned(), Value::from(talker));
    }
    frame("Comm.Channel.Text", &data)
}

/// `Room.Players`: everyone in the room just entered.
pub fn room_players<'a>(names: impl IntoIterator<Item = &'a str>) -> Bytes {
    let players: Vec<Value> = names.into_iter().map(player).collect();
    frame("Room.Players", &Value::Array(players))
}

/// `Room.AddPlayer`: someone came in.
pub fn room_add_player(name: &str) -> Bytes {
    frame("Room.AddPlayer", &player(name))
}

/// `Room.RemovePlayer`: someone left (a bare name, as IRE sends it).
pub fn room_remove_player(name: &str) -> Bytes {
    frame("Room.RemovePlayer", &Value::from(name))
}

fn player(name: &str) -> Value {
    json!({ "name": name, "fullname": name })
}

/// A message a client sent, as far as tavern cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// `Core.Hello {"client": .., "version": ..}`.
    Hello {
        client: String,
        version: Option<String>,
    },
    /// `Core.Supports.Set [..]`: replaces the list.
    SupportsSet(Vec<String>),
    /// `Core.Supports.Add [..]`.
    SupportsAdd(Vec<String>),
    /// `Core.Supports.Remove [..]`.
    SupportsRemove(Vec<String>),
    /// Anything else (`Core.Ping`, a package tavern does not speak).
    Other(String),
    /// Not GMCP as the spec has it (not UTF-8, bad JSON); logged, ignored.
    Malformed,
}

/// Reads one GMCP subnegotiation payload.
pub fn parse(payload: &[u8]) -> Incoming {
    let Ok(text) = std::str::from_utf8(payload) else {
        return Incoming::Malformed;
    };
    let (package, json) = match text.split_once([' ', '\n', '\t']) {
        Some((package, json)) => (package, json.trim()),
        None => (text, ""),
    };
    let data = if json.is_empty() {
        Value::Null
    } else {
        match serde_json::from_str::<Value>(json) {
            Ok(data) => data,
            Err(_) => return Incoming::Malformed,
        }
    };
    match package.to_ascii_lowercase().as_str() {
        "core.hello" => match data.get("client").and_then(Value::as_str) {
            Some(client) => Incoming::Hello {
                client: client.to_owned(),
                version: data
                    .get("version")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            None => Incoming::Malformed,
        },
        "core.supports.set" => Incoming::SupportsSet(modules(&data)),
        "core.supports.add" => Incoming::SupportsAdd(modules(&data)),
        "core.supports.remove" => Incoming::SupportsRemove(modules(&data)),
        _ => Incoming::Other(package.to_owned()),
    }
}

/// `["Char 1", "Comm.Channel 1"]` → `["char", "comm.channel"]`. A name
/// longer than [`MAX_MODULE_NAME`] is no module tavern or any MUD knows,
/// and is left out (not cut, which could make it another module's name);
/// at most [`MAX_MODULES`] names are taken from one message.
fn modules(data: &Value) -> Vec<String> {
    data.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|item| item.split_whitespace().next())
                .filter(|name| name.len() <= MAX_MODULE_NAME)
                .take(MAX_MODULES)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

/// Most modules one client may list; a longer list is cut, so a client
/// cannot grow these sets without bound.
const MAX_MODULES: usize = 64;

/// Longest module name kept, in bytes: the longest in Mudlet's and IRE's
/// lists (`External.Discord`) is 16. With [`MAX_MODULES`] this bounds what
/// a client's lists hold to 2 × 64 × 64 bytes.
const MAX_MODULE_NAME: usize = 64;

/// Which packages a client gets. tavern sends only `Comm.Channel.*` and
/// `Room.*`, and sends them to every client that agreed to GMCP unless it
/// removed them (`Core.Supports.Remove`): Mudlet's default
/// `Core.Supports.Set` does not list `Comm.Channel`, and a chat server that
/// kept its chat from Mudlet's chat window would defeat the point. What a
/// client listed is kept for `/client`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Supports {
    listed: Option<BTreeSet<String>>,
    removed: BTreeSet<String>,
}

impl Supports {
    pub fn apply(&mut self, message: &Incoming) {
        match message {
            Incoming::SupportsSet(list) => {
                self.listed = Some(list.iter().take(MAX_MODULES).cloned().collect());
                self.removed.retain(|m| !list.contains(m));
            }
            Incoming::SupportsAdd(list) => {
                let listed = self.listed.get_or_insert_with(BTreeSet::new);
                for module in list {
                    self.removed.remove(module);
                    if listed.len() < MAX_MODULES {
                        listed.insert(module.clone());
                    }
                }
            }
            Incoming::SupportsRemove(list) => {
                for module in list {
                    if let Some(listed) = &mut self.listed {
                        listed.remove(module);
                    }
                    if self.removed.len() < MAX_MODULES {
                        self.removed.insert(module.clone());
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether messages of `package` (e.g. `Comm.Channel.Text`) may be sent:
    /// neither the package nor a parent of it was removed.
    pub fn allows(&self, package: &str) -> bool {
        let package = package.to_ascii_lowercase();
        let mut prefix = package.as_str();
        loop {
            if self.removed.contains(prefix) {
                return false;
            }
            match prefix.rsplit_once('.') {
                Some((parent, _)) => prefix = parent,
                None => return true,
            }
        }
    }

    /// The listed modules, for `/client`; None when the client sent no list.
    pub fn listed(&self) -> Option<&BTreeSet<String>> {
        self.listed.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_a_message_with_a_space_between_package_and_json() {
        let bytes = channel_text("lobby", Some("ann"), "ann: hi");
        assert_eq!(
            &bytes[..],
            b"\xff\xfa\xc9Comm.Channel.Text {\"channel\":\"lobby\",\"talker\":\"ann\",\"text\":\"ann: hi\"}\xff\xf0"
        );
    }

    #[test]
    fn json_escapes_what_json_must() {
        let bytes = channel_text("lobby", None, "say \"hi\" \\ o/");
        let text = std::str::from_utf8(&bytes[3..bytes.len() - 2]).unwrap();
        let (_, json) = text.split_once(' ').unwrap();
        let value: Value = serde_json::from_str(json).unwrap();
        assert_eq!(value["text"], "say \"hi\" \\ o/");
        assert!(value.get("talker").is_none());
    }

    #[test]
    fn roster_messages_have_the_ire_shapes() {
        assert_eq!(
            &room_players(["ann", "bob"])[3..],
            b"Room.Players [{\"fullname\":\"ann\",\"name\":\"ann\"},{\"fullname\":\"bob\",\"name\":\"bob\"}]\xff\xf0"
        );
        assert_eq!(
            &room_remove_player("ann")[3..],
            b"Room.RemovePlayer \"ann\"\xff\xf0"
        );
    }

    #[test]
    fn reads_hello_and_supports() {
        assert_eq!(
            parse(br#"Core.Hello { "client": "Mudlet", "version": "4.18.5"}"#),
            Incoming::Hello {
                client: "Mudlet".into(),
                version: Some("4.18.5".into())
            }
        );
        let mut supports = Supports::default();
        assert!(supports.allows("Comm.Channel.Text"), "no list: everything");
        // Mudlet 4.18.5's default list (src/ctelnet.cpp), without Comm.Channel.
        supports.apply(&parse(
            br#"Core.Supports.Set [ "Char 1", "Char.Skills 1", "Char.Items 1", "Room 1", "IRE.Rift 1", "IRE.Composer 1", "Client.Media 1", "Char.Login 2"]"#,
        ));
        assert!(supports.allows("Comm.Channel.Text"), "chat is not withheld");
        assert!(supports.allows("Room.AddPlayer"));
        assert!(supports.listed().is_some_and(|l| l.contains("room")));
        supports.apply(&parse(br#"Core.Supports.Remove ["Room 1"]"#));
        assert!(!supports.allows("Room.Players"));
        assert!(supports.allows("Comm.Channel.Text"));
        supports.apply(&parse(br#"Core.Supports.Add ["Room 1"]"#));
        assert!(supports.allows("Room.Players"));
        supports.apply(&parse(br#"Core.Supports.Remove ["Comm 1"]"#));
        assert!(!supports.allows("Comm.Channel.Text"), "a parent removed");
    }

    #[test]
    fn module_names_past_the_cap_are_left_out_and_lists_are_bounded() {
        let long = "x".repeat(MAX_MODULE_NAME + 1);
        let longest = "y".repeat(MAX_MODULE_NAME);
        let message = format!(r#"Core.Supports.Set ["{long} 1", "{longest} 1", "Room 1"]"#);
        let mut supports = Supports::default();
        supports.apply(&parse(message.as_bytes()));
        let listed = supports.listed().expect("a list");
        assert_eq!(
            listed.iter().map(String::as_str).collect::<Vec<_>>(),
            ["room", longest.as_str()]
        );
        // A megabyte-sized name, added and removed, is held nowhere.
        let huge = "z".repeat(1 << 20);
        supports.apply(&parse(
            format!(r#"Core.Supports.Add ["{huge}"]"#).as_bytes(),
        ));
        supports.apply(&parse(
            format!(r#"Core.Supports.Remove ["{huge}"]"#).as_bytes(),
        ));
        assert_eq!(supports.listed().map(BTreeSet::len), Some(2));
        assert!(supports.removed.is_empty());
        // Thousands of names: at most MAX_MODULES kept in each set.
        let many: Vec<String> = (0..5000).map(|i| format!("\"m{i} 1\"")).collect();
        let many = many.join(",");
        supports.apply(&parse(format!("Core.Supports.Add [{many}]").as_bytes()));
        supports.apply(&parse(format!("Core.Supports.Remove [{many}]").as_bytes()));
        assert!(supports.listed().map_or(0, BTreeSet::len) <= MAX_MODULES);
        assert!(supports.removed.len() <= MAX_MODULES);
        let held: usize = supports
            .listed()
            .into_iter()
            .flatten()
            .chain(&supports.removed)
            .map(String::len)
            .sum();
        assert!(
            held <= 2 * MAX_MODULES * MAX_MODULE_NAME,
            "{held} bytes held"
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        assert_eq!(parse(b"\xff\xfe"), Incoming::Malformed);
        assert_eq!(parse(b"Core.Hello {not json"), Incoming::Malformed);
        assert_eq!(parse(b"Core.Hello 5"), Incoming::Malformed);
        assert_eq!(parse(b"Core.Ping"), Incoming::Other("Core.Ping".into()));
        assert_eq!(parse(b""), Incoming::Other(String::new()));
    }
}
