//! Nick completion: each room's nicks in an order that finds every nick
//! starting with a prefix in O(log members + found), for Tab in the line
//! editor (`Request::Complete`).
//!
//! A Tab costs one request; scanning a room of 10,000 for it would let
//! one client make the room manager, which every session shares, do
//! 10,000 comparisons per two bytes typed. The index costs one entry per
//! member, kept current on entering, leaving and renaming.

use std::collections::BTreeSet;
use std::ops::Bound;

use crate::names::Nick;

use super::MemberId;

/// Completions given for one Tab at most: a cycle of Tabs walks them.
pub const MAX_COMPLETIONS: usize = 16;

/// Characters of a prefix that are looked up at most: no nick is longer
/// (the editor asks with no more), and a longer one finds nothing.
pub const MAX_PREFIX_CHARS: usize = 64;

/// A room's nicks, folded for a case-insensitive prefix match.
#[derive(Debug, Default)]
pub(super) struct NickIndex {
    /// The folded nick, the member, and the nick as it is shown.
    entries: BTreeSet<(String, MemberId, String)>,
}

/// The form a prefix match compares: lower case, so `AN` finds `Ann`.
fn fold(text: &str) -> String {
    text.to_lowercase()
}

impl NickIndex {
    pub(super) fn insert(&mut self, id: MemberId, nick: &Nick) {
        self.entries
            .insert((fold(nick.as_str()), id, nick.as_str().to_owned()));
    }

    pub(super) fn remove(&mut self, id: MemberId, nick: &Nick) {
        self.entries
            .remove(&(fold(nick.as_str()), id, nick.as_str().to_owned()));
    }

    /// Nicks starting with `prefix` (any case), in order, without
    /// `asker`'s own: at most [`MAX_COMPLETIONS`].
    pub(super) fn complete(&self, prefix: &str, asker: MemberId) -> Vec<String> {
        if prefix.chars().count() > MAX_PREFIX_CHARS {
            return Vec::new();
        }
        let folded = fold(prefix);
        let from = (folded.clone(), 0, String::new());
        self.entries
            .range((Bound::Included(from), Bound::Unbounded))
            .take_while(|(key, _, _)| key.starts_with(&folded))
            .filter(|(_, id, _)| *id != asker)
            .take(MAX_COMPLETIONS)
            .map(|(_, _, nick)| nick.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(text: &str) -> Nick {
        Nick::parse(text, 24).expect("a valid nick")
    }

    fn index(nicks: &[&str]) -> NickIndex {
        let mut index = NickIndex::default();
        for (id, text) in nicks.iter().enumerate() {
            index.insert(id as MemberId + 1, &nick(text));
        }
        index
    }

    #[test]
    fn a_prefix_finds_the_nicks_it_starts_in_order_of_any_case() {
        let index = index(&["bob", "Ann", "annie", "ANTON", "zed", "李雷", "Ángel"]);
        assert_eq!(index.complete("an", 0), ["Ann", "annie", "ANTON"]);
        assert_eq!(index.complete("ANN", 0), ["Ann", "annie"]);
        assert_eq!(index.complete("李", 0), ["李雷"]);
        assert_eq!(index.complete("á", 0), ["Ángel"]);
        assert!(index.complete("x", 0).is_empty());
    }

    #[test]
    fn the_asker_is_left_out() {
        let index = index(&["ann", "annie"]);
        assert_eq!(index.complete("an", 1), ["annie"]);
    }

    #[test]
    fn a_removed_or_renamed_nick_is_gone_and_the_new_one_found() {
        let mut index = index(&["ann", "annie"]);
        index.remove(1, &nick("ann"));
        index.insert(1, &nick("Bea"));
        assert_eq!(index.complete("an", 0), ["annie"]);
        assert_eq!(index.complete("b", 0), ["Bea"]);
    }

    #[test]
    fn at_most_a_bounded_number_come_back() {
        let nicks: Vec<String> = (0..100).map(|i| format!("guest{i:03}")).collect();
        let refs: Vec<&str> = nicks.iter().map(String::as_str).collect();
        let index = index(&refs);
        let found = index.complete("guest", 0);
        assert_eq!(found.len(), MAX_COMPLETIONS);
        assert_eq!(found[0], "guest000");
        assert!(
            index
                .complete(&"g".repeat(MAX_PREFIX_CHARS + 1), 0)
                .is_empty()
        );
    }
}
