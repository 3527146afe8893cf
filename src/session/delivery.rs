//! Per-recipient delivery: the room manager's messages, and the session's
//! own notices, in this client's form, around what is being typed.
//!
//! A line arrives built once ([`Message`]) and rendered once per class; here
//! it only gets what this one client needs of its own: GMCP beside it, the
//! render of its class, wrapping at its window width, Latin-1. A run of a
//! room's lines that needs none of that goes out as one shared slice.
//!
//! A user who asked for timestamps (`/timestamps on`) gets `[HH:MM] ` before
//! each line: a stamp made once per batch, copied with the shared render into
//! this client's own bytes (one segment, not two). The renders stay shared;
//! what it costs that user is the copy of its lines and the shared slice of a
//! whole run; it costs everyone else one test of a flag per batch.

use crate::charset::Charset;
use crate::mailbox::{Delivery, Mailbox};
use crate::render::{self, Class, Message, Tone};
use crate::utc::{self, Stamp};
use crate::wrap;

use super::{GOODBYE_TIMEOUT, Session};

/// How a client takes messages (see [`Session::form`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Form {
    class: Class,
    /// GMCP is on and `Comm.Channel` was not removed.
    channel_text: bool,
    /// GMCP is on and `Room` was not removed.
    pub(super) roster: bool,
    /// Columns to wrap at: the window's, or [`wrap::ASSUMED_WIDTH`] when the
    /// client never said (never 0: see there why).
    width: usize,
    /// What goes before each line, if the user asked for timestamps: the
    /// time of the batch, read once.
    stamp: Option<Stamp>,
}

/// Receives from the member's queue; pending forever before sign-on.
pub(super) async fn recv_line(lines: &mut Option<Mailbox>) -> Option<Delivery> {
    match lines {
        Some(lines) => lines.recv().await,
        None => std::future::pending().await,
    }
}

impl Session {
    /// `/timestamps on|off`, or which it is.
    pub(super) fn set_timestamps(&mut self, on: Option<bool>) {
        if let Some(on) = on {
            self.timestamps = on;
        }
        let text = if self.timestamps {
            "Timestamps are on: each line starts with the time it reached you, [HH:MM] in UTC."
        } else {
            "Timestamps are off (/timestamps on to turn them on)."
        };
        self.notice(Tone::Info, text);
    }

    /// A system line to this user only.
    pub(super) fn notice(&mut self, tone: Tone, text: &str) {
        self.show_messages(Delivery::One(render::notice(tone, text)));
    }

    /// Writes text tavern made (the banner) in the client's charset, around
    /// what is being typed.
    pub(super) fn show_text(&mut self, text: &str) {
        let charset = self.negotiation.client().charset;
        let pending = self.writer.pending();
        self.editor.begin_output(pending);
        charset.encode(text, pending);
        self.editor.end_output(pending);
    }

    /// Writes messages without mangling what is being typed, taking along
    /// whatever else the room manager has queued already.
    pub(super) fn show_messages(&mut self, first: Delivery) {
        let mut text_started = false;
        let form = self.form();
        self.put_delivery(&first, form, &mut text_started);
        if let Some(mut lines) = self.lines.take() {
            while self.writer.can_take_work() {
                match lines.try_recv() {
                    Some(delivery) => self.put_delivery(&delivery, form, &mut text_started),
                    None => break,
                }
            }
            self.lines = Some(lines);
        }
        if text_started {
            self.editor.end_output(self.writer.pending());
        }
    }

    /// How this client takes messages, worked out once per batch: asked per
    /// message to each of thousands of recipients, even an option lookup
    /// shows in the profile.
    pub(super) fn form(&mut self) -> Form {
        let telnet = self.input.decoder_mut().telnet();
        let client = self.negotiation.client();
        Form {
            class: client.class(),
            channel_text: self.negotiation.wants_gmcp(telnet, "Comm.Channel.Text"),
            roster: self.negotiation.wants_gmcp(telnet, "Room.Players"),
            width: match client.window.0 {
                0 => wrap::ASSUMED_WIDTH,
                columns => usize::from(columns),
            },
            stamp: self
                .timestamps
                .then(|| utc::stamp(std::time::SystemTime::now())),
        }
    }

    fn put_delivery(&mut self, delivery: &Delivery, form: Form, text_started: &mut bool) {
        let charset = self.negotiation.client().charset;
        if let Some(run) = delivery.run()
            && !form.channel_text
            && !form.roster
            && form.stamp.is_none()
            && charset == Charset::Utf8
        {
            let (joined, widest) = run.joined(form.class);
            if widest <= form.width {
                if !joined.is_empty() {
                    self.begin_text(text_started);
                    self.writer.put_shared(joined);
                }
                return;
            }
        }
        if self.writer.is_compressing() || charset != Charset::Utf8 {
            // Every line is copied: room for the whole delivery at once, as
            // growing the buffer by doubling would copy it again and again.
            // Otherwise lines go out shared and `pending` takes only what
            // this client needs of its own (an allocation saved per
            // recipient: the room's single lines come this way).
            let size: usize = delivery
                .messages()
                .iter()
                .map(|m| m.render(form.class).len())
                .sum();
            self.writer.pending().reserve(size + 64);
        }
        for message in delivery.messages() {
            self.put_message(message, form, text_started);
        }
    }

    /// Lifts the half-typed line off the screen before the first text of a
    /// batch.
    fn begin_text(&mut self, text_started: &mut bool) {
        if !*text_started {
            *text_started = true;
            self.editor.begin_output(self.writer.pending());
        }
    }

    /// One message in this client's form: GMCP if it speaks it, then the line
    /// rendered for its class, wrapped at its width, in its charset.
    fn put_message(&mut self, message: &Message, form: Form, text_started: &mut bool) {
        if form.channel_text
            && let Some(text) = message.channel_text()
        {
            self.writer.put_shared(text);
        }
        if form.roster
            && let Some(roster) = message.roster()
        {
            self.writer.put_shared(roster);
        }
        if !message.has_text() {
            return;
        }
        self.begin_text(text_started);
        let class = form.class;
        let charset = self.negotiation.client().charset;
        let rendered = message.render(class);
        let stamp_width = if form.stamp.is_some() {
            utc::STAMP_WIDTH
        } else {
            0
        };
        let wraps = message.width(class) + stamp_width > form.width;
        if !wraps {
            if let Some(stamp) = &form.stamp {
                // ASCII, the same in every charset.
                self.writer.pending().extend_from_slice(stamp);
            }
            match charset {
                Charset::Utf8 if form.stamp.is_some() => {
                    self.writer.pending().extend_from_slice(rendered);
                }
                Charset::Utf8 => self.writer.put_shared(rendered),
                Charset::Latin1 | Charset::Windows1252 => {
                    charset.encode_bytes(rendered, self.writer.pending());
                }
            }
            return;
        }
        let line = rendered.strip_suffix(b"\r\n").unwrap_or(rendered);
        let line = String::from_utf8_lossy(line);
        let line = match &form.stamp {
            Some(stamp) => {
                let mut stamped = String::with_capacity(stamp_width + line.len());
                stamped.extend(stamp.iter().map(|&byte| char::from(byte)));
                stamped.push_str(&line);
                std::borrow::Cow::Owned(stamped)
            }
            None => line,
        };
        let mut wrapped = String::with_capacity(line.len() + line.len() / 4);
        // The stamp widens the hanging indent by its own columns, so wrapped
        // rows stay under the text.
        wrap::wrap(
            &line,
            form.width,
            message.hang(class) + stamp_width,
            &mut wrapped,
        );
        wrapped.push_str("\r\n");
        charset.encode(&wrapped, self.writer.pending());
    }

    /// Requests sent before the Leave may still wait in the room manager's
    /// queue: their answers, and the room's lines until then, belong to this
    /// user, and a queue closed before the manager handled them would read as
    /// a lost connection. The manager drops its end of the queue once it has
    /// handled the Leave, which ends this wait.
    pub(super) async fn drain_until_left(&mut self, keep: bool) {
        let Some(mut lines) = self.lines.take() else {
            return;
        };
        let mut text_started = false;
        // Kept outside the wait: if it times out (at shutdown, members stay
        // until every session has handed over its last lines), what came is
        // still shown.
        let mut kept = Vec::new();
        let drain = async {
            let mut kept_lines = 0;
            while let Some(delivery) = lines.recv().await {
                if keep && kept_lines < 4096 {
                    kept_lines += delivery.len();
                    kept.push(delivery);
                }
            }
        };
        let _ = tokio::time::timeout(GOODBYE_TIMEOUT, drain).await;
        let form = self.form();
        for message in kept.iter().flat_map(Delivery::messages) {
            if !self.writer.has_byte_room() {
                break;
            }
            self.put_message(message, form, &mut text_started);
        }
    }
}
