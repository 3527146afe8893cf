//! Server configuration: what can be tuned, its defaults, and where it comes
//! from.
//!
//! Settings are layered with figment: the defaults compiled in here, then a
//! TOML file (`tavern.toml` unless another path is given), then `TAVERN_*`
//! environment variables, so a container can override one value without
//! shipping a file. The merged result is range-checked once, at startup, so
//! the rest of the server can trust every number it reads from [`Config`].
//! Every error names the offending key, because an admin fixing a config
//! needs to know which line to look at.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use serde::{Deserialize, Serialize};

use crate::charset::Charset;
use crate::names::RoomName;

/// Prefix of the environment variables that set config keys.
pub const ENV_PREFIX: &str = "TAVERN_";

/// The config file read when no path is given, if it exists in the current
/// directory.
pub const DEFAULT_FILE: &str = "tavern.toml";

/// Name of the environment provider; errors use it to recognise values that
/// came from the environment.
const ENV_SOURCE_NAME: &str = "`TAVERN_` environment variable(s)";

/// Who echoes and edits the line being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEditing {
    /// Decided per connection from the client's telnet negotiation.
    Auto,
    /// Tavern echoes and edits: for raw terminals (`telnet` in char mode).
    Server,
    /// The client edits its own lines and sends them whole (MUD clients).
    Client,
}

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line per event for people: colored only when standard error is a
    /// terminal.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Everything an admin can tune. See `tavern.toml` keys of the same names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Addresses and ports to accept telnet connections on: a list, or one
    /// address as a string. The default, `0.0.0.0:4000` and `[::]:4000`,
    /// serves IPv4 and IPv6 alike (see `server::bind`).
    #[serde(deserialize_with = "one_or_many_addresses")]
    pub listen: Vec<SocketAddr>,
    /// Name shown in the banner and server notices, so users know where they
    /// are when they run several clients.
    pub server_name: String,
    /// Banner template file; read on every connection so edits show without
    /// a restart.
    pub banner: PathBuf,
    /// Room every user joins after signing on, so nobody starts out alone in
    /// nowhere.
    pub default_room: String,
    /// Who echoes and edits typed lines; `auto` suits almost everyone.
    pub line_editing: LineEditing,
    /// Characters kept of one typed line; bounds memory per connection and
    /// the size of what one user can make everyone else receive.
    pub max_line_length: usize,
    /// Grapheme clusters (and display columns) a nick may have, so nicks fit
    /// the column they are printed in.
    pub max_nick_length: usize,
    /// Seconds a new connection may take to choose a nick before it is
    /// dropped, so idle sockets cannot pile up unauthenticated.
    pub signon_timeout_secs: u64,
    /// Messages queued to one connection before it counts as not reading; a
    /// stalled client must not make the server buffer without bound.
    pub outbound_queue: usize,
    /// Members from which a room's join and leave notices are gathered
    /// into one line a second (0: never): in a big room, N sign-ons must
    /// not cost N²/2 notices, nor a reconnect storm drop early arrivals.
    pub big_room_members: usize,
    /// Milliseconds to wait for a client's telnet answers before deciding its
    /// line mode; clients that never answer must still get a prompt.
    pub negotiation_wait_ms: u64,
    /// Bytes of one IAC SB .. IAC SE payload kept; longer subnegotiations are
    /// a memory attack, not a real client.
    pub max_subnegotiation: usize,
    /// Combining marks kept per grapheme cluster; enough for every script,
    /// too few for "Zalgo" text that smears over neighbouring lines.
    pub max_combining_marks: usize,
    /// Connections held at once; more are refused with a one-line message
    /// before any negotiation, so a flood of sockets cannot exhaust the
    /// process's file descriptors.
    pub max_connections: usize,
    /// Connections held at once from one IP address (an IPv6 /64 counts as
    /// one address), so one host cannot take every place.
    pub max_connections_per_ip: usize,
    /// New connections one IP address (or IPv6 /64) may open per minute once
    /// its burst is used; more are refused with one line. A connection signs
    /// on at most once, so this bounds sign-ons (and the join and leave lines
    /// the room sees) from one address too. 0 turns the limit off.
    pub connect_rate_per_ip_per_minute: u32,
    /// New connections one address may open at once before the per-minute
    /// rate applies: a classroom behind one NAT signing on together.
    pub connect_burst_per_ip: u32,
    /// Lines per second a user may send once the burst is used up; lines
    /// over it wait their turn (never dropped). 0 turns flood control off.
    pub flood_lines_per_sec: u32,
    /// Lines a user may send at once before flood control delays them.
    pub flood_burst: u32,
    /// Seconds a signed-on user may send nothing before being disconnected;
    /// 0 (the default) never disconnects idle users.
    pub idle_timeout_secs: u64,
    /// Telnet negotiations (WILL/WONT/DO/DONT and subnegotiations) one
    /// connection may send; a real client sends a few dozen, so a connection
    /// past this is abusing the answers it gets and is closed.
    pub max_negotiations: usize,
    /// Offer MCCP2 compression to MUD clients; it saves their bandwidth at the
    /// cost of server CPU per compressed connection.
    pub compression: bool,
    /// The charset for a client that neither agrees to one by CHARSET nor
    /// declares UTF-8 in MTTS, and never sent a byte that settles it (see
    /// ARCHITECTURE.md); `latin-1` suits a user base on old systems, and
    /// `windows-1252` one on old Windows clients (it sends bytes 0x80–0x9F,
    /// which a true Latin-1 terminal would obey as controls).
    pub fallback_charset: Charset,
    /// MSSP `CONTACT`: who to write to about this server; empty leaves it out.
    pub mssp_contact: String,
    /// MSSP `WEBSITE`.
    pub mssp_website: String,
    /// MSSP `HOSTNAME`: the name crawlers should list.
    pub mssp_hostname: String,
    /// MSSP `LOCATION`: the country the server is in.
    pub mssp_location: String,
    /// MSSP `LANGUAGE`: the language spoken here.
    pub mssp_language: String,
    /// MSSP `CREATED`: the year the server opened.
    pub mssp_created: String,
    /// `text` for people, `json` (one object per line) for log shippers.
    /// Logs go to standard error either way.
    pub log_format: LogFormat,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: vec![
                SocketAddr::from((Ipv4Addr::UNSPECIFIED, 4000)),
                SocketAddr::from((Ipv6Addr::UNSPECIFIED, 4000)),
            ],
            server_name: "tavern".to_owned(),
            banner: PathBuf::from("assets/banner.txt"),
            default_room: "lobby".to_owned(),
            line_editing: LineEditing::Auto,
            max_line_length: 1000,
            max_nick_length: 16,
            signon_timeout_secs: 120,
            outbound_queue: 1024,
            big_room_members: 100,
            negotiation_wait_ms: 1000,
            max_subnegotiation: 8192,
            max_combining_marks: 4,
            max_connections: 10_000,
            max_connections_per_ip: 20,
            connect_rate_per_ip_per_minute: 30,
            connect_burst_per_ip: 20,
            flood_lines_per_sec: 4,
            flood_burst: 10,
            idle_timeout_secs: 0,
            max_negotiations: 500,
            compression: true,
            fallback_charset: Charset::Utf8,
            mssp_contact: String::new(),
            mssp_website: String::new(),
            mssp_hostname: String::new(),
            mssp_location: String::new(),
            mssp_language: "English".to_owned(),
            mssp_created: String::new(),
            log_format: LogFormat::Text,
        }
    }
}

/// Why the configuration could not be used. Every message names the file or
/// key to fix, and where a value came from when that is known.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A config file was named explicitly but is not there; silently running
    /// on defaults would hide a typo in the path.
    #[error("config file `{}` does not exist", .path.display())]
    FileNotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// The config file exists but cannot be read as text.
    #[error("config file `{}` cannot be read: {source}", .path.display())]
    FileUnreadable {
        /// The path as given.
        path: PathBuf,
        /// What the OS (or the UTF-8 check) said.
        source: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("config file `{}` is not valid TOML: {reason}", .path.display())]
    Syntax {
        /// The file that failed to parse.
        path: PathBuf,
        /// The TOML parser's message, with line and column.
        reason: String,
    },
    /// A key that tavern does not know, usually a typo.
    #[error("config key `{key}`: not a known setting{}", origin_suffix(.origin.as_deref()))]
    UnknownKey {
        /// The key as written (lower-cased for environment variables).
        key: String,
        /// Where it was set, e.g. "in tavern.toml".
        origin: Option<String>,
    },
    /// A known key with a value of the wrong type, syntax or range.
    #[error("config key `{key}`: {reason}{}", origin_suffix(.origin.as_deref()))]
    Invalid {
        /// The key whose value is wrong.
        key: String,
        /// What is wrong with it, e.g. "must be at least 1".
        reason: String,
        /// Where it was set, e.g. "from environment variable TAVERN_LISTEN".
        origin: Option<String>,
    },
    /// A problem figment reported without a key; kept rather than lost.
    #[error("config: {reason}")]
    Other {
        /// Figment's own message.
        reason: String,
    },
}

impl ConfigError {
    /// The config key at fault, when the error is about one key.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::UnknownKey { key, .. } | ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

fn origin_suffix(origin: Option<&str>) -> String {
    origin.map(|o| format!(" ({o})")).unwrap_or_default()
}

impl Config {
    /// Embedded defaults, then the TOML file at `path` if given (a missing
    /// file given explicitly is an error; when `path` is None, `tavern.toml`
    /// in the current directory is read if it exists), then `TAVERN_*`
    /// environment variables (TAVERN_LISTEN sets `listen`,
    /// TAVERN_MAX_LINE_LENGTH sets `max_line_length`, ...).
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        // `std::env::vars` panics on a non-UTF-8 variable anywhere in the
        // environment; a stray one must not stop the server from starting.
        let env = std::env::vars_os().map(|(name, value)| {
            (
                name.to_string_lossy().into_owned(),
                value.to_string_lossy().into_owned(),
            )
        });
        Config::load_from(path, env)
    }

    /// Same as [`Config::load`], with the environment given explicitly as
    /// (name, value) pairs, so tests never touch the process environment.
    /// Pairs whose name does not start with `TAVERN_` are ignored; one that
    /// does but names no config key is an error, to catch typos.
    pub fn load_from(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = config_file(path)? {
            figment = figment.merge(Toml::file_exact(file));
        }
        let figment = figment.merge(EnvPairs::new(env));

        let config: Config = figment.extract().map_err(from_figment)?;
        config.validate().map_err(|err| match err {
            ConfigError::Invalid {
                key,
                reason,
                origin: None,
            } => {
                let origin = describe_origin(figment.find_metadata(&key), &[key.as_str()]);
                ConfigError::Invalid {
                    key,
                    reason,
                    origin,
                }
            }
            other => other,
        })?;
        Ok(config)
    }

    /// Checks that every number is in a range the server can act on (so no
    /// duration or count overflows later, at a connection's expense) and
    /// every string is usable. The ranges are in [`LIMITS`]; besides them:
    /// `listen` has 1 to 16 addresses, none twice; `server_name` is not
    /// blank; `default_room` passes [`RoomName::parse`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in self.numbers() {
            let range = LIMITS
                .iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, min, max)| (*min, *max));
            if let Some((min, max)) = range {
                in_range(key, value, min, max)?;
            }
        }
        in_range("listen", self.listen.len() as u64, 1, MAX_LISTEN as u64)?;
        for (i, addr) in self.listen.iter().enumerate() {
            if self.listen[..i].contains(addr) {
                return Err(invalid("listen", &format!("lists {addr} twice")));
            }
        }
        if self.server_name.trim().is_empty() {
            return Err(invalid("server_name", "must not be empty"));
        }
        for (key, text) in self.texts() {
            let chars = text.chars().count() as u64;
            if chars > MAX_TEXT_CHARS as u64 {
                return Err(invalid(
                    key,
                    &format!("must be at most {MAX_TEXT_CHARS} characters (found {chars})"),
                ));
            }
        }
        if self.default_room.trim().is_empty() {
            return Err(invalid("default_room", "must not be empty"));
        }
        if let Err(e) = RoomName::parse(&self.default_room) {
            return Err(invalid("default_room", &e.to_string()));
        }
        Ok(())
    }

    /// Every number in the config by key, so [`Config::validate`] checks
    /// each against [`LIMITS`] and a unit test sees that none is missing.
    fn numbers(&self) -> [(&'static str, u64); 16] {
        let n = |v: usize| v as u64;
        [
            ("max_line_length", n(self.max_line_length)),
            ("max_nick_length", n(self.max_nick_length)),
            ("signon_timeout_secs", self.signon_timeout_secs),
            ("outbound_queue", n(self.outbound_queue)),
            ("big_room_members", n(self.big_room_members)),
            ("negotiation_wait_ms", self.negotiation_wait_ms),
            ("max_subnegotiation", n(self.max_subnegotiation)),
            ("max_combining_marks", n(self.max_combining_marks)),
            ("max_connections", n(self.max_connections)),
            ("max_connections_per_ip", n(self.max_connections_per_ip)),
            (
                "connect_rate_per_ip_per_minute",
                u64::from(self.connect_rate_per_ip_per_minute),
            ),
            ("connect_burst_per_ip", u64::from(self.connect_burst_per_ip)),
            ("flood_lines_per_sec", u64::from(self.flood_lines_per_sec)),
            ("flood_burst", u64::from(self.flood_burst)),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("max_negotiations", n(self.max_negotiations)),
        ]
    }

    /// The free-text settings, each shown to users or crawlers.
    fn texts(&self) -> [(&'static str, &str); 7] {
        [
            ("server_name", &self.server_name),
            ("mssp_contact", &self.mssp_contact),
            ("mssp_website", &self.mssp_website),
            ("mssp_hostname", &self.mssp_hostname),
            ("mssp_location", &self.mssp_location),
            ("mssp_language", &self.mssp_language),
            ("mssp_created", &self.mssp_created),
        ]
    }

    /// How long a new connection may take to sign on.
    pub fn signon_timeout(&self) -> Duration {
        Duration::from_secs(self.signon_timeout_secs)
    }

    /// How long a signed-on user may be idle, if there is a limit.
    pub fn idle_timeout(&self) -> Option<Duration> {
        (self.idle_timeout_secs > 0).then(|| Duration::from_secs(self.idle_timeout_secs))
    }

    /// How long to wait for a client's telnet answers.
    pub fn negotiation_wait(&self) -> Duration {
        Duration::from_millis(self.negotiation_wait_ms)
    }
}

fn invalid(key: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.to_owned(),
        origin: None,
    }
}

/// The accepted range of every number in the config: (key, least, most).
/// Durations stop well short of what would overflow a deadline (a day to
/// sign on, thirty days idle); counts stop where memory per connection or a
/// reply would grow past reason.
pub const LIMITS: [(&str, u64, u64); 16] = [
    ("max_line_length", 1, 65_536),
    ("max_nick_length", 1, 64),
    ("signon_timeout_secs", 1, 86_400),
    ("outbound_queue", 1, 1_000_000),
    ("big_room_members", 0, 1_000_000),
    ("negotiation_wait_ms", 0, 60_000),
    ("max_subnegotiation", 64, 1_048_576),
    ("max_combining_marks", 0, 32),
    ("max_connections", 1, 1_000_000),
    ("max_connections_per_ip", 1, 1_000_000),
    ("connect_rate_per_ip_per_minute", 0, 1_000_000),
    ("connect_burst_per_ip", 1, 1_000_000),
    ("flood_lines_per_sec", 0, 10_000),
    ("flood_burst", 1, 10_000),
    ("idle_timeout_secs", 0, 30 * 86_400),
    ("max_negotiations", 16, 1_000_000),
];

/// Most addresses `listen` may name.
const MAX_LISTEN: usize = 16;

/// Most characters of a free-text setting (server name, MSSP fields): each
/// is shown in banners, notices or MSSP answers.
const MAX_TEXT_CHARS: usize = 256;

fn in_range(key: &str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            key,
            &format!("must be from {min} to {max} (found {value})"),
        ))
    }
}

/// `listen` as one address (`"0.0.0.0:4000"`) or a list of them.
fn one_or_many_addresses<'de, D>(deserializer: D) -> Result<Vec<SocketAddr>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Addresses;

    impl<'de> serde::de::Visitor<'de> for Addresses {
        type Value = Vec<SocketAddr>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an address like \"0.0.0.0:4000\" or a list of them")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            parse_address(text).map(|addr| vec![addr])
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut addrs = Vec::new();
            while let Some(text) = seq.next_element::<String>()? {
                // Checked here, not only in `validate`, so a huge list is
                // never collected.
                if addrs.len() == MAX_LISTEN {
                    return Err(serde::de::Error::custom(format!(
                        "at most {MAX_LISTEN} addresses"
                    )));
                }
                addrs.push(parse_address(&text)?);
            }
            Ok(addrs)
        }
    }

    deserializer.deserialize_any(Addresses)
}

fn parse_address<E: serde::de::Error>(text: &str) -> Result<SocketAddr, E> {
    text.trim().parse().map_err(|_| {
        E::custom(format!(
            "invalid socket address syntax: `{text}` (write 0.0.0.0:4000 or [::]:4000)"
        ))
    })
}

/// Which file to read, if any. Existence and readability are checked here,
/// not left to figment, because figment treats a missing file as empty and
/// reports a read error as if it were a syntax error.
fn config_file(path: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    let (path, explicit) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_FILE), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(_) => Ok(Some(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if explicit {
                Err(ConfigError::FileNotFound { path })
            } else {
                Ok(None)
            }
        }
        Err(source) => Err(ConfigError::FileUnreadable { path, source }),
    }
}

/// Maps figment's error to one that names the key in words an admin reads.
fn from_figment(err: figment::Error) -> ConfigError {
    use figment::error::Kind;

    let origin = describe_origin(err.metadata.as_ref(), &err.path);
    let key = err.path.join(".");
    match err.kind {
        Kind::UnknownField(found, _) => ConfigError::UnknownKey {
            key: if key.is_empty() { found } else { key },
            origin,
        },
        // Without a key the error is about the file as a whole: TOML syntax.
        Kind::Message(reason) if key.is_empty() => match err.metadata.and_then(|m| m.source) {
            Some(Source::File(path)) => ConfigError::Syntax {
                path,
                reason: reason.trim_end().to_owned(),
            },
            _ => ConfigError::Other { reason },
        },
        kind if key.is_empty() => ConfigError::Other {
            reason: kind.to_string(),
        },
        Kind::UnknownVariant(found, expected) => ConfigError::Invalid {
            key,
            reason: format!("must be one of {} (found `{found}`)", expected.join(", ")),
            origin,
        },
        kind => ConfigError::Invalid {
            key,
            reason: kind.to_string(),
            origin,
        },
    }
}

/// `in FILE` or `from environment variable TAVERN_X`; `None` for defaults,
/// which an admin did not write and cannot fix.
fn describe_origin<K: AsRef<str>>(metadata: Option<&Metadata>, path: &[K]) -> Option<String> {
    let metadata = metadata?;
    match &metadata.source {
        Some(Source::File(file)) => Some(format!("in {}", file.display())),
        _ if metadata.name == ENV_SOURCE_NAME => Some(format!(
            "from environment variable {}",
            metadata.interpolate(&Profile::Default, path)
        )),
        _ => None,
    }
}

/// The `TAVERN_*` pairs of an explicit environment, as a figment provider.
///
/// figment's own `Env` can only read the process environment, which tests
/// must not mutate; this applies the same rules to any list of pairs.
struct EnvPairs {
    /// Config keys (lower-cased, prefix removed) to parsed values.
    dict: Dict,
}

impl EnvPairs {
    fn new(env: impl IntoIterator<Item = (String, String)>) -> Self {
        let string_keys = string_keys();
        let mut dict = Dict::new();
        for (name, raw) in env {
            let name = name.trim();
            let Some(rest) = strip_prefix_ignore_ascii_case(name, ENV_PREFIX) else {
                continue;
            };
            if rest.is_empty() {
                continue;
            }
            let key = rest.to_ascii_lowercase();
            // Same parsing as figment's Env: "4000" is a number, "[1, 2]" an
            // array, "0.0.0.0:4000" a string.
            let parsed = match raw.parse::<Value>() {
                Ok(value) => value,
                Err(never) => match never {},
            };
            // Unlike figment's Env, a key whose type is a string keeps the
            // text as written, so TAVERN_SERVER_NAME=1984 is a name, not a
            // type error.
            let value = match parsed {
                Value::String(..) => parsed,
                _ if string_keys.contains(key.as_str()) => Value::from(raw.trim().to_owned()),
                _ => parsed,
            };
            dict.insert(key, value);
        }
        EnvPairs { dict }
    }
}

impl Provider for EnvPairs {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENV_SOURCE_NAME).interpolater(|_: &Profile, keys: &[&str]| {
            format!("{ENV_PREFIX}{}", keys.join(".").to_ascii_uppercase())
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// Keys whose values are strings, found from the defaults so the list cannot
/// drift from the struct.
fn string_keys() -> BTreeSet<String> {
    Value::serialize(Config::default())
        .ok()
        .and_then(|v| v.into_dict())
        .map(|dict| {
            dict.into_iter()
                .filter(|(_, v)| matches!(v, Value::String(..)))
                .map(|(k, _)| k)
                .collect()
        })
        .unwrap_or_default()
}

fn strip_prefix_ignore_ascii_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A TOML file in the temp dir, removed when dropped.
    struct TempToml(PathBuf);

    impl TempToml {
        fn new(contents: &str) -> TempToml {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "tavern-config-test-{}-{}.toml",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            if let Err(e) = std::fs::write(&path, contents) {
                panic!("cannot write {}: {e}", path.display());
            }
            TempToml(path)
        }
    }

    impl Drop for TempToml {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    // Tests always name a file: with `None`, a `tavern.toml` that happens to
    // sit in the crate root would leak into them.
    fn load(file: &TempToml, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load_from(Some(&file.0), env(pairs))
    }

    fn loaded(file: &TempToml, pairs: &[(&str, &str)]) -> Config {
        load(file, pairs).unwrap_or_else(|e| panic!("config should load: {e}"))
    }

    fn load_err(file: &TempToml, pairs: &[(&str, &str)]) -> ConfigError {
        match load(file, pairs) {
            Ok(c) => panic!("config should not load: {c:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn the_default_config_validates() {
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn defaults_are_used_when_nothing_is_set() {
        let file = TempToml::new("");
        assert_eq!(loaded(&file, &[]), Config::default());
    }

    #[test]
    fn toml_values_override_defaults() {
        let file = TempToml::new(
            "listen = \"127.0.0.1:5000\"\nserver_name = \"The Prancing Pony\"\n\
             line_editing = \"client\"\nmax_line_length = 500\n",
        );
        let config = loaded(&file, &[]);
        assert_eq!(config.listen, [SocketAddr::from(([127, 0, 0, 1], 5000))]);
        assert_eq!(config.server_name, "The Prancing Pony");
        assert_eq!(config.line_editing, LineEditing::Client);
        assert_eq!(config.max_line_length, 500);
        assert_eq!(config.max_nick_length, 16);
    }

    #[test]
    fn environment_overrides_toml() {
        let file = TempToml::new("max_line_length = 500\nserver_name = \"from file\"\n");
        let config = loaded(
            &file,
            &[
                ("TAVERN_MAX_LINE_LENGTH", "700"),
                ("TAVERN_LISTEN", "127.0.0.1:4100"),
                ("HOME", "/root"),
            ],
        );
        assert_eq!(config.max_line_length, 700);
        assert_eq!(config.listen, [SocketAddr::from(([127, 0, 0, 1], 4100))]);
        assert_eq!(config.server_name, "from file");
    }

    #[test]
    fn a_numeric_environment_value_for_a_string_key_stays_a_string() {
        let config = loaded(&TempToml::new(""), &[("TAVERN_SERVER_NAME", "1984")]);
        assert_eq!(config.server_name, "1984");
    }

    #[test]
    fn an_unknown_key_in_the_toml_is_an_error_naming_it() {
        let file = TempToml::new("max_line_lenght = 10\n");
        let err = load_err(&file, &[]);
        assert_eq!(err.key(), Some("max_line_lenght"));
        let message = err.to_string();
        assert!(
            message.starts_with("config key `max_line_lenght`: not a known setting"),
            "{message}"
        );
        assert!(message.contains(&file.0.display().to_string()), "{message}");
    }

    #[test]
    fn an_unknown_tavern_environment_variable_is_an_error_naming_it() {
        let err = load_err(&TempToml::new(""), &[("TAVERN_COLOUR", "yes")]);
        assert_eq!(err.key(), Some("colour"));
        assert!(err.to_string().contains("TAVERN_COLOUR"), "{err}");
    }

    #[test]
    fn a_bad_listen_value_in_the_environment_is_an_error_naming_listen() {
        let err = load_err(&TempToml::new(""), &[("TAVERN_LISTEN", "nonsense")]);
        assert_eq!(err.key(), Some("listen"));
        assert_eq!(
            err.to_string(),
            "config key `listen`: invalid socket address syntax: `nonsense` \
             (write 0.0.0.0:4000 or [::]:4000) (from environment variable TAVERN_LISTEN)"
        );
    }

    #[test]
    fn a_zero_max_line_length_in_the_environment_is_an_error_naming_it() {
        let err = load_err(&TempToml::new(""), &[("TAVERN_MAX_LINE_LENGTH", "0")]);
        assert_eq!(err.key(), Some("max_line_length"));
        assert_eq!(
            err.to_string(),
            "config key `max_line_length`: must be from 1 to 65536 (found 0) \
             (from environment variable TAVERN_MAX_LINE_LENGTH)"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_the_key() {
        let empty = TempToml::new("");
        let err = load_err(&empty, &[("TAVERN_OUTBOUND_QUEUE", "lots")]);
        assert_eq!(err.key(), Some("outbound_queue"));
        let file = TempToml::new("signon_timeout_secs = -5\n");
        let err = load_err(&file, &[]);
        assert_eq!(err.key(), Some("signon_timeout_secs"));
    }

    #[test]
    fn an_unknown_line_editing_mode_lists_the_known_ones() {
        let err = load_err(&TempToml::new(""), &[("TAVERN_LINE_EDITING", "telepathy")]);
        assert_eq!(
            err.to_string(),
            "config key `line_editing`: must be one of auto, server, client \
             (found `telepathy`) (from environment variable TAVERN_LINE_EDITING)"
        );
    }

    #[test]
    fn invalid_toml_names_the_file() {
        let file = TempToml::new("max_line_length = [\n");
        match load_err(&file, &[]) {
            ConfigError::Syntax { path, .. } => assert_eq!(path, file.0),
            other => panic!("expected a syntax error, got {other}"),
        }
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let path = std::env::temp_dir().join("tavern-config-test-does-not-exist.toml");
        let err = match Config::load_from(Some(&path), Vec::new()) {
            Ok(c) => panic!("loaded {c:?}"),
            Err(e) => e,
        };
        assert!(matches!(err, ConfigError::FileNotFound { .. }), "{err}");
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_refused_with_the_key_named() {
        let cases: [(&str, Config); 9] = [
            (
                "max_line_length",
                Config {
                    max_line_length: 65_537,
                    ..Config::default()
                },
            ),
            (
                "max_nick_length",
                Config {
                    max_nick_length: 0,
                    ..Config::default()
                },
            ),
            (
                "max_nick_length",
                Config {
                    max_nick_length: 65,
                    ..Config::default()
                },
            ),
            (
                "signon_timeout_secs",
                Config {
                    signon_timeout_secs: 0,
                    ..Config::default()
                },
            ),
            (
                "outbound_queue",
                Config {
                    outbound_queue: 0,
                    ..Config::default()
                },
            ),
            (
                "negotiation_wait_ms",
                Config {
                    negotiation_wait_ms: 60_001,
                    ..Config::default()
                },
            ),
            (
                "max_subnegotiation",
                Config {
                    max_subnegotiation: 63,
                    ..Config::default()
                },
            ),
            (
                "max_combining_marks",
                Config {
                    max_combining_marks: 33,
                    ..Config::default()
                },
            ),
            (
                "server_name",
                Config {
                    server_name: "  ".into(),
                    ..Config::default()
                },
            ),
        ];
        for (key, config) in cases {
            let err = match config.validate() {
                Ok(()) => panic!("{key} should be refused"),
                Err(e) => e,
            };
            assert_eq!(err.key(), Some(key), "{err}");
            assert!(
                err.to_string()
                    .starts_with(&format!("config key `{key}`: ")),
                "{err}"
            );
        }
    }

    #[test]
    fn the_default_room_must_be_a_valid_room_name() {
        let config = Config {
            default_room: "the lobby".into(),
            ..Config::default()
        };
        let err = config.validate().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("config key `default_room`: a room name cannot contain spaces")
        );
        let empty = Config {
            default_room: String::new(),
            ..Config::default()
        };
        assert!(empty.validate().is_err());
        let hashed = Config {
            default_room: "#lobby".into(),
            ..Config::default()
        };
        assert!(hashed.validate().is_ok());
    }

    #[test]
    fn boundary_values_are_accepted() {
        let config = Config {
            max_line_length: 65_536,
            max_nick_length: 64,
            outbound_queue: 1_000_000,
            negotiation_wait_ms: 0,
            max_subnegotiation: 64,
            max_combining_marks: 0,
            ..Config::default()
        };
        assert!(config.validate().is_ok());
    }

    #[test]
    fn durations_follow_their_settings() {
        let config = Config {
            signon_timeout_secs: 7,
            negotiation_wait_ms: 250,
            ..Config::default()
        };
        assert_eq!(config.signon_timeout(), Duration::from_secs(7));
        assert_eq!(config.negotiation_wait(), Duration::from_millis(250));
    }

    #[test]
    fn listen_takes_one_address_or_a_list_from_the_file_and_the_environment() {
        let v4: SocketAddr = "0.0.0.0:4000".parse().unwrap();
        let v6: SocketAddr = "[::]:4000".parse().unwrap();
        let list = TempToml::new("listen = [\"0.0.0.0:4000\", \"[::]:4000\"]\n");
        assert_eq!(loaded(&list, &[]).listen, [v4, v6]);
        let one = TempToml::new("listen = \"[::]:4000\"\n");
        assert_eq!(loaded(&one, &[]).listen, [v6]);
        let empty = TempToml::new("");
        assert_eq!(
            loaded(&empty, &[("TAVERN_LISTEN", "[::]:4000")]).listen,
            [v6]
        );
        assert_eq!(
            loaded(
                &empty,
                &[("TAVERN_LISTEN", "[\"0.0.0.0:4000\", \"[::]:4000\"]")]
            )
            .listen,
            [v4, v6]
        );
        assert_eq!(Config::default().listen, [v4, v6]);
    }

    #[test]
    fn listen_must_name_an_address_and_none_twice() {
        let none = TempToml::new("listen = []\n");
        let err = load_err(&none, &[]);
        assert_eq!(err.key(), Some("listen"), "{err}");
        let twice = TempToml::new("listen = [\"127.0.0.1:4000\", \"127.0.0.1:4000\"]\n");
        let err = load_err(&twice, &[]);
        assert_eq!(err.key(), Some("listen"), "{err}");
        assert!(err.to_string().contains("twice"), "{err}");
        let many: Vec<String> = (0..17)
            .map(|i| format!("\"127.0.0.1:{}\"", 4000 + i))
            .collect();
        let many = TempToml::new(&format!("listen = [{}]\n", many.join(", ")));
        assert_eq!(load_err(&many, &[]).key(), Some("listen"));
    }

    #[test]
    fn log_format_is_text_or_json() {
        let empty = TempToml::new("");
        assert_eq!(loaded(&empty, &[]).log_format, LogFormat::Text);
        let json = loaded(&empty, &[("TAVERN_LOG_FORMAT", "json")]);
        assert_eq!(json.log_format, LogFormat::Json);
        let err = load_err(&empty, &[("TAVERN_LOG_FORMAT", "xml")]);
        assert_eq!(err.key(), Some("log_format"));
    }

    /// The example: a timeout that overflowed every deadline.
    #[test]
    fn a_timeout_past_any_deadline_is_refused_at_load_naming_key_and_range() {
        let empty = TempToml::new("");
        for key in [
            "idle_timeout_secs",
            "signon_timeout_secs",
            "negotiation_wait_ms",
        ] {
            let var = format!("TAVERN_{}", key.to_ascii_uppercase());
            let err = load_err(&empty, &[(&var, "18446744073709551615")]);
            assert_eq!(err.key(), Some(key), "{err}");
            let message = err.to_string();
            assert!(message.contains("must be from"), "{message}");
            assert!(message.contains(&var), "{message}");
        }
    }

    /// Every number in the config has a range, and every range is tested at
    /// both ends: the least and most load, one past either is refused with
    /// the key and the range in the message.
    #[test]
    fn every_number_is_bounded_at_load_and_its_range_named() {
        let numeric: BTreeSet<String> = Value::serialize(Config::default())
            .ok()
            .and_then(|v| v.into_dict())
            .unwrap()
            .into_iter()
            .filter(|(_, v)| matches!(v, Value::Num(..)))
            .map(|(k, _)| k)
            .collect();
        let ranged: BTreeSet<String> = LIMITS.iter().map(|(k, _, _)| (*k).to_owned()).collect();
        let checked: BTreeSet<String> = Config::default()
            .numbers()
            .iter()
            .map(|(k, _)| (*k).to_owned())
            .collect();
        assert_eq!(numeric, ranged, "a number without a range in LIMITS");
        assert_eq!(checked, ranged, "a number `validate` does not check");
        let empty = TempToml::new("");
        for (key, min, max) in LIMITS {
            let var = format!("TAVERN_{}", key.to_ascii_uppercase());
            for ok in [min, max] {
                assert!(
                    load(&empty, &[(&var, &ok.to_string())]).is_ok(),
                    "{key}={ok}"
                );
            }
            let mut bad = vec![max + 1];
            if min > 0 {
                bad.push(min - 1);
            }
            for value in bad {
                let err = load_err(&empty, &[(&var, &value.to_string())]);
                assert_eq!(err.key(), Some(key), "{err}");
                assert_eq!(
                    err.to_string(),
                    format!(
                        "config key `{key}`: must be from {min} to {max} (found {value}) \
                         (from environment variable {var})"
                    )
                );
            }
        }
    }

    #[test]
    fn free_text_settings_are_bounded() {
        let long = "x".repeat(257);
        let empty = TempToml::new("");
        for key in ["server_name", "mssp_contact", "mssp_language"] {
            let var = format!("TAVERN_{}", key.to_ascii_uppercase());
            assert_eq!(load_err(&empty, &[(&var, &long)]).key(), Some(key));
            assert!(load(&empty, &[(&var, &long[..256])]).is_ok(), "{key}");
        }
    }
}
