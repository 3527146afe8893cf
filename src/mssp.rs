//! MSSP (MUD Server Status Protocol, telnet option 70): what MUD listing
//! crawlers read about the server, from live state and the config.
//!
//! A crawler connects, sees `IAC WILL MSSP`, answers `IAC DO MSSP`, and gets
//! one `IAC SB MSSP (MSSP_VAR name MSSP_VAL value)… IAC SE`. Crawlers that do
//! not speak telnet send the line `MSSP-REQUEST` instead and get the same
//! variables as text between `MSSP-REPLY-START` and `MSSP-REPLY-END`, one
//! `NAME<TAB>VALUE` per line. `PLAYERS` is who is signed on now, `UPTIME` the
//! Unix time the server started, as the spec defines them.

use bytes::{BufMut, Bytes, BytesMut};
use nectar::constants::{IAC, SB, SE};

use crate::config::Config;

/// The MSSP telnet option (70).
pub use nectar::constants::MSSP;
/// Precedes a variable name.
pub const MSSP_VAR: u8 = 1;
/// Precedes a value.
pub const MSSP_VAL: u8 = 2;

/// The live figures MSSP reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Live {
    /// People signed on now.
    pub players: usize,
    /// Unix time (seconds) the server started.
    pub started: u64,
    /// The port the crawler connected to.
    pub port: u16,
}

/// The variables, in the order the spec lists them. Empty optional values
/// from the config are left out rather than sent as empty strings.
pub fn variables(config: &Config, live: Live) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("NAME", config.server_name.clone()),
        ("PLAYERS", live.players.to_string()),
        ("UPTIME", live.started.to_string()),
        (
            "CODEBASE",
            format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        ),
        ("PORT", live.port.to_string()),
        ("CRAWL DELAY", "-1".to_owned()),
    ];
    let optional = [
        ("CONTACT", &config.mssp_contact),
        ("WEBSITE", &config.mssp_website),
        ("HOSTNAME", &config.mssp_hostname),
        ("LOCATION", &config.mssp_location),
        ("LANGUAGE", &config.mssp_language),
        ("CREATED", &config.mssp_created),
    ];
    vars.extend(
        optional
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (name, value.clone())),
    );
    vars.extend(
        [
            ("FAMILY", "Custom"),
            ("GENRE", "None"),
            ("GAMEPLAY", "Social"),
            ("STATUS", "Live"),
            ("GAMESYSTEM", "None"),
            ("MINIMUM AGE", "0"),
            ("ANSI", "1"),
            ("UTF-8", "1"),
            ("VT100", "1"),
            ("XTERM 256 COLORS", "1"),
            ("XTERM TRUE COLORS", "1"),
            ("GMCP", "1"),
            ("MCCP", if config.compression { "1" } else { "0" }),
            ("MSDP", "0"),
            ("MSP", "0"),
            ("MXP", "0"),
            ("PUEBLO", "0"),
            ("SSL", "0"),
            ("PAY TO PLAY", "0"),
            ("PAY FOR PERKS", "0"),
        ]
        .map(|(name, value)| (name, value.to_owned())),
    );
    vars
}

/// The telnet form: `IAC SB MSSP (VAR name VAL value)… IAC SE`.
pub fn encode_telnet(vars: &[(&str, String)]) -> Bytes {
    let mut out = BytesMut::with_capacity(512);
    out.put_slice(&[IAC, SB, MSSP]);
    for (name, value) in vars {
        out.put_u8(MSSP_VAR);
        put_clean(name, &mut out);
        out.put_u8(MSSP_VAL);
        put_clean(value, &mut out);
    }
    out.put_slice(&[IAC, SE]);
    out.freeze()
}

/// The plain-text form, for crawlers that sent `MSSP-REQUEST`.
pub fn encode_text(vars: &[(&str, String)]) -> String {
    let mut out = String::from("\r\nMSSP-REPLY-START\r\n");
    for (name, value) in vars {
        let value: String = value.chars().filter(|c| !c.is_control()).collect();
        out.push_str(&format!("{name}\t{value}\r\n"));
    }
    out.push_str("MSSP-REPLY-END\r\n");
    out
}

/// A value without the bytes that would break the framing (IAC, VAR, VAL,
/// NUL); config values are the admin's text, but a stray control character
/// must not turn into a new variable.
fn put_clean(text: &str, out: &mut BytesMut) {
    for c in text.chars().filter(|c| !c.is_control()) {
        let mut utf8 = [0u8; 4];
        out.put_slice(c.encode_utf8(&mut utf8).as_bytes());
    }
}

/// Reads the telnet form back (for tests and the curious): name → value.
#[cfg(test)]
pub fn decode_telnet(payload: &[u8]) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let mut fields = payload.split(|&b| b == MSSP_VAR).skip(1);
    for field in fields.by_ref() {
        let mut parts = field.split(|&b| b == MSSP_VAL);
        let name = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        for value in parts {
            vars.push((name.clone(), String::from_utf8_lossy(value).into_owned()));
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Live {
        Live {
            players: 3,
            started: 1_790_000_000,
            port: 4000,
        }
    }

    #[test]
    fn telnet_form_round_trips_with_the_live_figures() {
        let config = Config {
            mssp_contact: "admin@example.org".into(),
            ..Config::default()
        };
        let bytes = encode_telnet(&variables(&config, live()));
        assert_eq!(&bytes[..3], &[IAC, SB, MSSP]);
        assert_eq!(&bytes[bytes.len() - 2..], &[IAC, SE]);
        let vars = decode_telnet(&bytes[3..bytes.len() - 2]);
        let get = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        assert_eq!(get("NAME").as_deref(), Some("tavern"));
        assert_eq!(get("PLAYERS").as_deref(), Some("3"));
        assert_eq!(get("UPTIME").as_deref(), Some("1790000000"));
        assert_eq!(get("PORT").as_deref(), Some("4000"));
        assert_eq!(get("CONTACT").as_deref(), Some("admin@example.org"));
        assert!(get("CODEBASE").is_some_and(|c| c.starts_with("tavern ")));
        assert_eq!(get("WEBSITE"), None, "empty optional values are left out");
    }

    #[test]
    fn control_characters_in_config_values_cannot_break_the_framing() {
        let config = Config {
            server_name: "evil\u{1}NAME\u{2}x".into(),
            ..Config::default()
        };
        let bytes = encode_telnet(&variables(&config, live()));
        let vars = decode_telnet(&bytes[3..bytes.len() - 2]);
        assert_eq!(vars[0], ("NAME".to_owned(), "evilNAMEx".to_owned()));
        assert_eq!(vars.iter().filter(|(n, _)| n == "NAME").count(), 1);
    }

    #[test]
    fn text_form_is_tab_separated_between_markers() {
        let text = encode_text(&variables(&Config::default(), live()));
        assert!(text.starts_with("\r\nMSSP-REPLY-START\r\nNAME\ttavern\r\nPLAYERS\t3\r\n"));
        assert!(text.ends_with("MSSP-REPLY-END\r\n"));
    }
}
