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
//! - [`session`]: one task per connection, tying the above together: the
//!   driver, negotiation (sans-IO), the writer, sign-on, the session's own
//!   commands and per-recipient delivery, a file each.
//! - [`server`]: the listeners, the accept loop, connection limits
//!   ([`limits`], by [`address`] group; refusals logged in summary by
//!   [`refusals`]) and shutdown.
//! - [`config`]: figment configuration: defaults, `tavern.toml`, `TAVERN_*`.

#![forbid(unsafe_code)]
// The docs are for tavern's developers and built with private items
// (`.ci/run`): the crate map above links the internal modules.
#![allow(rustdoc::private_intra_doc_links)]

// Public: what the integration tests and the fuzz targets drive directly
// (the sans-IO layers, and the configuration).
pub mod charset;
pub mod command;
pub mod config;
pub mod editor;
pub mod sanitize;
pub mod telnet;

// Internal: rustc reports what nothing uses.
pub(crate) mod address;
pub(crate) mod banner;
pub(crate) mod client;
pub(crate) mod gmcp;
pub(crate) mod limits;
pub(crate) mod logsummary;
pub(crate) mod mailbox;
pub(crate) mod mccp;
pub(crate) mod mssp;
pub(crate) mod names;
pub(crate) mod nick_colors;
pub(crate) mod outgoing;
pub(crate) mod refusals;
pub(crate) mod render;
pub(crate) mod rooms;
pub(crate) mod server;
pub(crate) mod session;
pub(crate) mod utc;
pub(crate) mod wrap;

pub use config::Config;
pub use server::{Listeners, bind, run};
