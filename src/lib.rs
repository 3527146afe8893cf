//! tavern: a telnet chat host.
//!
//! The crate in reading order, from the wire inwards:
//! - [`telnet`]: sans-IO telnet protocol (IAC parsing, RFC 1143 option
//!   negotiation, output encoding) and the thin `tokio_util` codec around it.
//! - [`editor`]: the line discipline: server-side echo and editing for terminal
//!   clients, pass-through for clients that edit their own lines.
//! - [`sanitize`]: what a user may send: decoding, and removal of escapes,
//!   controls and bidi overrides, before anything else sees a line.
//! - [`names`]: validated nicknames and room names.
//! - [`command`]: a line becomes a typed [`command::Input`] in one place.
//! - [`rooms`]: all room state, owned by one task and reached through a handle;
//!   it reaches each member through a [`mailbox`], bounded in lines.
//! - [`client`]: what a client told about itself (TTYPE/MTTS, NAWS, CHARSET)
//!   and what follows: editing, colors, screen reader, charset.
//! - [`render`]: a line built once as a `Message`, rendered once per
//!   capability class to shared `Bytes`.
//! - [`wrap`], [`charset`]: the per-recipient steps, only where a client's
//!   window or charset needs them.
//! - [`gmcp`], [`mssp`], [`mccp`]: the MUD protocols, sans-IO.
//! - [`banner`]: the welcome banner admins edit on disk.
//! - [`session`]: one task per connection, tying the above together.
//! - [`server`]: the accept loop, connection limits ([`limits`]) and shutdown.
//! - [`config`]: figment configuration: defaults, `tavern.toml`, `TAVERN_*`.

pub mod banner;
pub mod charset;
pub mod client;
pub mod command;
pub mod config;
pub mod editor;
pub mod gmcp;
pub mod limits;
pub mod mailbox;
pub mod mccp;
pub mod mssp;
pub mod names;
pub mod outgoing;
pub mod render;
pub mod rooms;
pub mod sanitize;
pub mod server;
pub mod session;
pub mod telnet;
pub mod wrap;

pub use config::Config;
pub use server::run;
