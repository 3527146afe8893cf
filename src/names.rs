//! Validated nicknames and room names.
//!
//! Every other module takes a [`Nick`] or a [`RoomName`] rather than a
//! `String`, so a name that reached them has already passed the rules below:
//! the proof travels with the value and no code path can forget to check.
//! The rules aim at names that any user can read and type back: letters and
//! digits of any script, `_` and `-`, with their combining marks, and nothing
//! invisible, spacing or look-alike-by-emptiness (fillers, zero-width
//! characters, bidi controls) that would let two users look the same.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Most grapheme clusters (and display columns) a room name may have.
pub const MAX_ROOM_GRAPHEMES: usize = 24;

/// Most combining marks one grapheme cluster of a name may carry.
///
/// The configured, usually tighter, limit (`max_combining_marks`) is applied
/// to every input line by `crate::sanitize` before a name is parsed; this is
/// only a backstop so that a name built some other way still cannot stack
/// marks without bound. It equals the highest value the config accepts, so it
/// never rejects a name that the configuration allows.
pub const MAX_MARKS_PER_GRAPHEME: usize = 32;

/// Which kind of name a rule was applied to, so an error can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// A user's nickname.
    Nick,
    /// A room's name.
    Room,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Nick => "nickname",
            NameKind::Room => "room name",
        })
    }
}

/// Why a name was refused. The `Display` text is written for the user who
/// typed the name, so it says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing left after trimming surrounding whitespace.
    #[error("a {kind} cannot be empty")]
    Empty {
        /// Which kind of name was refused.
        kind: NameKind,
    },
    /// A space or other whitespace inside the name: it would make the name
    /// ambiguous in commands that take it as one word.
    #[error("a {kind} cannot contain spaces")]
    ContainsSpace {
        /// Which kind of name was refused.
        kind: NameKind,
    },
    /// A character outside the allowed set.
    #[error(
        "{} is not allowed in a {kind}: use letters, digits, _ and -",
        describe_char(*.ch)
    )]
    NotAllowed {
        /// Which kind of name was refused.
        kind: NameKind,
        /// The first offending character, kept so the message can show it.
        ch: char,
    },
    /// The name starts with a combining mark, which has no letter to sit on
    /// and would attach to whatever is printed before the name.
    #[error("a {kind} cannot start with an accent or other combining mark")]
    StartsWithMark {
        /// Which kind of name was refused.
        kind: NameKind,
    },
    /// One character carries more combining marks than any script needs.
    #[error("a {kind} can have at most {max} accents or marks on one character")]
    TooManyMarks {
        /// Which kind of name was refused.
        kind: NameKind,
        /// The limit, so the user knows what would be accepted.
        max: usize,
    },
    /// More grapheme clusters (user-perceived characters) than allowed.
    #[error("a {kind} can be at most {max} characters long")]
    TooLong {
        /// Which kind of name was refused.
        kind: NameKind,
        /// The limit, so the user knows what would be accepted.
        max: usize,
    },
    /// Wider on screen than allowed, e.g. many double-width CJK characters.
    #[error("a {kind} can be at most {max} columns wide")]
    TooWide {
        /// Which kind of name was refused.
        kind: NameKind,
        /// The limit, so the user knows what would be accepted.
        max: usize,
    },
}

impl NameError {
    /// Which kind of name was refused.
    #[cfg(test)]
    pub fn kind(&self) -> NameKind {
        match self {
            NameError::Empty { kind }
            | NameError::ContainsSpace { kind }
            | NameError::NotAllowed { kind, .. }
            | NameError::StartsWithMark { kind }
            | NameError::TooManyMarks { kind, .. }
            | NameError::TooLong { kind, .. }
            | NameError::TooWide { kind, .. } => *kind,
        }
    }
}

/// A nickname that passed the rules. `key` and `look` are what uniqueness
/// is decided on: two nicks clash if either is the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nick {
    /// The name as shown to others: the user's input, trimmed and
    /// NFC-normalized so that equal-looking input is stored the same way.
    display: String,
    /// The case-folded form that decides whether two nicks clash.
    key: String,
    /// The confusable skeleton of the name as typed: it keeps what case
    /// folding loses (`I` looks like `l`, `i` does not).
    look: String,
}

impl Nick {
    /// Checks `input` against the nickname rules; `max_graphemes` limits both
    /// the grapheme clusters and the display columns (see
    /// `Config::max_nick_length`).
    pub fn parse(input: &str, max_graphemes: usize) -> Result<Nick, NameError> {
        let (display, key, look) = parse_name(input.trim(), NameKind::Nick, max_graphemes)?;
        Ok(Nick { display, key, look })
    }

    /// The nickname as shown (NFC-normalized input).
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The form uniqueness is decided on: "Ann", "ANN" and "Аnn" with a
    /// Cyrillic А share one.
    ///
    /// Full Unicode case folding, the UTS #39 confusable skeleton, case
    /// folding again, NFC: names a reader cannot tell apart are one name.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The skeleton of the name as typed: "biII" and "bill" share one,
    /// though their keys differ ("biii", "bill"). Two nicks whose keys or
    /// looks are the same may not be held at once (the room manager keeps a
    /// map of each).
    pub fn look(&self) -> &str {
        &self.look
    }

    /// Whether the two may not be held at once: the same key (case, look-alike
    /// letters of either case) or the same skeleton as typed (`I` and `l`).
    #[cfg(test)]
    pub fn looks_like(&self, other: &Nick) -> bool {
        self.key == other.key || self.look == other.look
    }
}

impl fmt::Display for Nick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// A room name: same character rules as a nick, at most 24 grapheme clusters;
/// an optional leading '#' is accepted and stripped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomName {
    /// The name as shown, without the '#': callers that want IRC-style
    /// "#lobby" add it when rendering, so it is never stored twice.
    display: String,
    /// The case-folded form that decides whether two rooms are the same room.
    key: String,
    /// The skeleton of the name as typed, as for [`Nick::look`]: "Iobby"
    /// is "lobby".
    look: String,
}

impl RoomName {
    /// Checks `input` against the room name rules; a single leading '#' (after
    /// trimming) is accepted and stripped, since users type "/join #lobby".
    pub fn parse(input: &str) -> Result<RoomName, NameError> {
        let trimmed = input.trim();
        let bare = trimmed.strip_prefix('#').unwrap_or(trimmed);
        let (display, key, look) = parse_name(bare, NameKind::Room, MAX_ROOM_GRAPHEMES)?;
        Ok(RoomName { display, key, look })
    }

    /// The room name as shown, without a leading '#'.
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The form room identity is decided on; same folding as [`Nick::key`].
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The skeleton of the name as typed; a room whose look is another's
    /// is that room, as for [`Nick::look`].
    pub fn look(&self) -> &str {
        &self.look
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// The shared rules, applied to input the caller has already trimmed (so that
/// a room's "# lobby" keeps the space it must be refused for); returns the
/// display form, the key and the look.
fn parse_name(
    input: &str,
    kind: NameKind,
    max: usize,
) -> Result<(String, String, String), NameError> {
    let display: String = input.nfc().collect();
    if display.is_empty() {
        return Err(NameError::Empty { kind });
    }

    let mut graphemes = 0usize;
    for cluster in display.graphemes(true) {
        graphemes += 1;
        check_cluster(cluster, kind)?;
    }
    // Characters are checked before length so that "John Smith" is told about
    // the space rather than about a length it may well be within.
    if graphemes > max {
        return Err(NameError::TooLong { kind, max });
    }
    if display.width() > max {
        return Err(NameError::TooWide { kind, max });
    }

    // The key makes names that look alike clash, as names that differ only
    // in case do: the UTS #39 confusable skeleton (`аdmin` with a Cyrillic а
    // is `admin`, `rn` is `m`), between two case foldings, because the
    // skeleton's prototypes are of either case (`0` becomes `O`, which must
    // then meet `o`).
    let folded = caseless::default_case_fold_str(&display);
    let skeleton: String = unicode_security::skeleton(&folded).collect();
    let key = caseless::default_case_fold_str(&skeleton).nfc().collect();
    // Folding first loses likenesses that depend on case: `I` (capital i)
    // looks like `l`, but folds to `i`, which does not. The skeleton of the
    // name as typed keeps them; it is not folded afterwards, or `BILL` would
    // meet `BIII` through `l`. A name clashes if its key or its look does.
    let look = unicode_security::skeleton(&display).nfc().collect();
    Ok((display, key, look))
}

/// One grapheme cluster must start with a letter, digit, `_` or `-`, and the
/// rest of it may only be combining marks or further letters and digits.
///
/// The letters-and-digits allowance inside a cluster is what lets real names
/// through: since Unicode 15.1 a Devanagari conjunct such as "क्ष" is a single
/// cluster (consonant, virama, consonant), and Thai "น้ำ" ends in SARA AM, a
/// letter that clusters as a spacing mark. Emoji sequences, ZWJ and variation
/// selectors are still refused because they are neither.
fn check_cluster(cluster: &str, kind: NameKind) -> Result<(), NameError> {
    let mut chars = cluster.chars();
    let Some(first) = chars.next() else {
        return Ok(());
    };
    check_char(first, kind)?;
    if is_combining_mark(first) {
        return Err(NameError::StartsWithMark { kind });
    }
    let mut marks = 0usize;
    for c in chars {
        // Past this, `c` is a combining mark or a letter, digit, `_` or `-`.
        check_char(c, kind)?;
        if is_combining_mark(c) {
            marks += 1;
            if marks > MAX_MARKS_PER_GRAPHEME {
                return Err(NameError::TooManyMarks {
                    kind,
                    max: MAX_MARKS_PER_GRAPHEME,
                });
            }
        }
    }
    Ok(())
}

/// Rules that hold for every character wherever it stands in a cluster.
fn check_char(c: char, kind: NameKind) -> Result<(), NameError> {
    // Tabs and newlines are controls too, but to the user they are spaces.
    if c.is_whitespace() {
        return Err(NameError::ContainsSpace { kind });
    }
    // Hangul fillers are letters to `is_alphanumeric`, and some variation
    // selectors are combining marks, yet all of them render as nothing: they
    // must be refused before the letter and mark checks would accept them.
    if c.is_control() || is_default_ignorable(c) {
        return Err(NameError::NotAllowed { kind, ch: c });
    }
    if c.is_alphanumeric() || c == '_' || c == '-' || is_combining_mark(c) {
        Ok(())
    } else {
        Err(NameError::NotAllowed { kind, ch: c })
    }
}

/// Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt,
/// Unicode 15/16): characters that render as nothing when unsupported. It
/// covers zero-width characters, bidi controls, the BOM, Hangul fillers and
/// variation selectors.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// How a refused character is named in an error: quoted when it is visible,
/// as `U+XXXX` when printing it would show nothing, move the cursor or
/// reorder the user's screen.
fn describe_char(c: char) -> String {
    let invisible = c.is_control()
        || c.is_whitespace()
        || is_default_ignorable(c)
        || is_combining_mark(c)
        || unicode_width::UnicodeWidthChar::width(c).is_none_or(|w| w == 0);
    if invisible {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("'{c}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: usize = 16;

    fn nick_err(input: &str) -> NameError {
        match Nick::parse(input, MAX) {
            Ok(nick) => panic!("{input:?} was accepted as {nick:?}"),
            Err(e) => e,
        }
    }

    fn nick_ok(input: &str) -> Nick {
        match Nick::parse(input, MAX) {
            Ok(nick) => nick,
            Err(e) => panic!("{input:?} was refused: {e}"),
        }
    }

    fn not_allowed(ch: char) -> NameError {
        NameError::NotAllowed {
            kind: NameKind::Nick,
            ch,
        }
    }

    #[test]
    fn ascii_letters_digits_underscore_and_dash_are_valid() {
        for input in ["ann", "Ann_99", "-x-", "_", "a1b2c3d4e5f6g7h8", "007"] {
            assert_eq!(nick_ok(input).as_str(), input);
        }
    }

    #[test]
    fn cyrillic_cjk_and_devanagari_names_are_valid() {
        for input in ["Иван", "小明", "अनु", "लक्ष्मी", "น้ำ", "Zoë", "Ngọc"]
        {
            assert_eq!(nick_ok(input).as_str(), input);
        }
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(nick_ok("  ann\t").as_str(), "ann");
    }

    #[test]
    fn names_differing_only_in_case_share_a_key() {
        assert_eq!(nick_ok("Ann").key(), nick_ok("ANN").key());
        assert_eq!(nick_ok("Straße").key(), nick_ok("STRASSE").key());
        assert_ne!(nick_ok("Ann").as_str(), nick_ok("ANN").as_str());
    }

    #[test]
    fn composed_and_decomposed_accents_give_the_same_display_and_key() {
        let composed = nick_ok("Ren\u{e9}");
        let decomposed = nick_ok("Rene\u{301}");
        assert_eq!(composed.as_str(), decomposed.as_str());
        assert_eq!(composed.key(), decomposed.key());
        assert_eq!(composed, decomposed);
    }

    #[test]
    fn a_nick_is_shown_trimmed_and_composed() {
        assert_eq!(nick_ok("  Rene\u{301} ").to_string(), "Ren\u{e9}");
        assert_eq!(format!("<{}>", nick_ok("ann")), "<ann>");
    }

    #[test]
    fn an_empty_or_blank_nick_is_refused() {
        let empty = NameError::Empty {
            kind: NameKind::Nick,
        };
        assert_eq!(nick_err(""), empty);
        assert_eq!(nick_err("   "), empty);
        assert_eq!(empty.to_string(), "a nickname cannot be empty");
    }

    #[test]
    fn spaces_inside_a_nick_are_refused() {
        let space = NameError::ContainsSpace {
            kind: NameKind::Nick,
        };
        for input in ["ann smith", "ann\tsmith", "ann\u{a0}smith", "小\u{3000}明"] {
            assert_eq!(nick_err(input), space, "{input:?}");
        }
        assert_eq!(space.to_string(), "a nickname cannot contain spaces");
    }

    #[test]
    fn emoji_and_punctuation_are_refused_and_named_in_the_message() {
        assert_eq!(nick_err("snow☃"), not_allowed('☃'));
        assert_eq!(
            not_allowed('☃').to_string(),
            "'☃' is not allowed in a nickname: use letters, digits, _ and -"
        );
        assert_eq!(nick_err("ann😀"), not_allowed('😀'));
        assert_eq!(nick_err("a.b"), not_allowed('.'));
        assert_eq!(nick_err("<ann>"), not_allowed('<'));
    }

    #[test]
    fn emoji_sequences_inside_one_cluster_are_refused() {
        // Woman + ZWJ + laptop: the ZWJ is caught before the laptop.
        assert_eq!(
            nick_err("a\u{1F469}\u{200D}\u{1F4BB}"),
            not_allowed('\u{1F469}')
        );
        // A letter followed by an emoji presentation selector is one cluster.
        assert_eq!(nick_err("a\u{FE0F}"), not_allowed('\u{FE0F}'));
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(nick_err("ann\u{7}"), not_allowed('\u{7}'));
        assert_eq!(nick_err("a\u{1b}[31mb"), not_allowed('\u{1b}'));
        assert_eq!(
            nick_err("a\u{85}b"),
            NameError::ContainsSpace {
                kind: NameKind::Nick
            }
        );
        assert_eq!(nick_err("a\u{9b}b"), not_allowed('\u{9b}'));
    }

    #[test]
    fn invisible_characters_are_refused() {
        for c in [
            '\u{200B}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{3164}',
            '\u{115F}',
            '\u{1160}',
            '\u{FFA0}',
            '\u{AD}',
            '\u{34F}',
            '\u{E0041}',
        ] {
            assert_eq!(
                nick_err(&format!("an{c}n")),
                not_allowed(c),
                "U+{:04X}",
                u32::from(c)
            );
        }
        // A filler alone would be a nick that looks empty.
        assert_eq!(nick_err("\u{3164}"), not_allowed('\u{3164}'));
    }

    #[test]
    fn invisible_characters_are_shown_by_code_point_in_the_message() {
        assert_eq!(
            not_allowed('\u{200B}').to_string(),
            "U+200B is not allowed in a nickname: use letters, digits, _ and -"
        );
    }

    #[test]
    fn characters_that_would_print_as_nothing_are_named_by_code_point() {
        // Reached through parsing: a wide Hangul filler (two blank columns)
        // and a zero-width format character.
        assert_eq!(nick_err("an\u{115F}"), not_allowed('\u{115F}'));
        assert_eq!(nick_err("an\u{70F}"), not_allowed('\u{70F}'));
        // And any error built for a space, a mark or a control.
        for (c, code) in [
            ('\u{115F}', "U+115F"),
            ('\u{70F}', "U+070F"),
            ('\u{3000}', "U+3000"),
            ('\u{A0}', "U+00A0"),
            ('\u{903}', "U+0903"),
            ('\u{1b}', "U+001B"),
        ] {
            assert_eq!(
                not_allowed(c).to_string(),
                format!("{code} is not allowed in a nickname: use letters, digits, _ and -")
            );
        }
    }

    #[test]
    fn underscore_and_dash_are_allowed_inside_a_cluster() {
        // MALAYALAM LETTER DOT REPH is a prepended letter: it forms one
        // cluster with whatever follows, here `-` or `_`.
        for input in ["a\u{D4E}-b", "a\u{D4E}_b"] {
            assert_eq!(nick_ok(input).as_str(), input);
        }
    }

    #[test]
    fn bidi_overrides_are_refused() {
        assert_eq!(nick_err("ann\u{202E}nna"), not_allowed('\u{202E}'));
        assert_eq!(nick_err("\u{2067}ann"), not_allowed('\u{2067}'));
        assert_eq!(nick_err("a\u{200F}"), not_allowed('\u{200F}'));
    }

    #[test]
    fn a_leading_combining_mark_is_refused() {
        assert_eq!(
            nick_err("\u{301}ann"),
            NameError::StartsWithMark {
                kind: NameKind::Nick
            }
        );
    }

    #[test]
    fn a_cluster_with_too_many_marks_is_refused() {
        // U+0336 has no precomposed form, so NFC leaves every one of them.
        let zalgo = format!("a{}", "\u{336}".repeat(MAX_MARKS_PER_GRAPHEME + 1));
        assert!(Nick::parse(&zalgo[..zalgo.len() - 2], MAX).is_ok());
        assert_eq!(
            nick_err(&zalgo),
            NameError::TooManyMarks {
                kind: NameKind::Nick,
                max: MAX_MARKS_PER_GRAPHEME
            }
        );
    }

    #[test]
    fn seventeen_characters_are_too_long_for_sixteen() {
        assert!(Nick::parse(&"a".repeat(16), MAX).is_ok());
        let err = nick_err(&"a".repeat(17));
        assert_eq!(
            err,
            NameError::TooLong {
                kind: NameKind::Nick,
                max: 16
            }
        );
        assert_eq!(
            err.to_string(),
            "a nickname can be at most 16 characters long"
        );
    }

    #[test]
    fn length_counts_grapheme_clusters_not_code_points() {
        // Sixteen decomposed "é": 32 code points, 16 clusters, 16 columns.
        assert!(Nick::parse(&"e\u{301}".repeat(16), MAX).is_ok());
    }

    #[test]
    fn nine_cjk_characters_are_too_wide_for_sixteen_columns() {
        assert!(Nick::parse(&"明".repeat(8), MAX).is_ok());
        let err = nick_err(&"明".repeat(9));
        assert_eq!(
            err,
            NameError::TooWide {
                kind: NameKind::Nick,
                max: 16
            }
        );
        assert_eq!(err.to_string(), "a nickname can be at most 16 columns wide");
    }

    #[test]
    fn a_room_name_may_have_a_leading_hash_which_is_stripped() {
        let room = RoomName::parse("#Lobby").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(room.as_str(), "Lobby");
        assert_eq!(room.to_string(), "Lobby");
        let plain = RoomName::parse(" lobby ").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(room.key(), plain.key());
    }

    #[test]
    fn room_names_differing_only_in_case_are_one_room_and_others_are_not() {
        let room = |name: &str| RoomName::parse(name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(room("Lobby").key(), room("LOBBY").key());
        assert_eq!(room("Lobby").key(), room("#lobby").key());
        assert_ne!(room("lobby").key(), room("games").key());
        assert_ne!(room("Lobby").as_str(), room("LOBBY").as_str());
    }

    #[test]
    fn a_room_name_is_refused_with_room_wording() {
        assert_eq!(
            RoomName::parse("#").map_err(|e| e.to_string()),
            Err("a room name cannot be empty".to_owned())
        );
        assert_eq!(
            RoomName::parse("##x").map_err(|e| e.to_string()),
            Err("'#' is not allowed in a room name: use letters, digits, _ and -".to_owned())
        );
        assert_eq!(
            RoomName::parse("# lobby").map_err(|e| e.to_string()),
            Err("a room name cannot contain spaces".to_owned())
        );
    }

    #[test]
    fn a_room_name_can_have_twenty_four_characters_but_not_more() {
        assert!(RoomName::parse(&"r".repeat(24)).is_ok());
        assert_eq!(
            RoomName::parse(&"r".repeat(25)),
            Err(NameError::TooLong {
                kind: NameKind::Room,
                max: 24
            })
        );
    }

    #[test]
    fn every_error_reports_its_kind() {
        assert_eq!(nick_err("").kind(), NameKind::Nick);
        assert_eq!(
            RoomName::parse("").map_err(|e| e.kind()),
            Err(NameKind::Room)
        );
    }

    /// Characters a user might plausibly type, plus awkward ones, so that
    /// generated strings are accepted often enough to test the accepted side.
    fn name_char() -> impl Strategy<Value = char> {
        prop_oneof![
            4 => prop::sample::select(
                "abcXYZ019_-éßİıΣσςИвн小明अनुक्षน้ำ".chars().collect::<Vec<_>>()
            ),
            2 => prop::sample::select(vec![
                '\u{301}', '\u{308}', '\u{94d}', '\u{93f}', '\u{e33}', 'ﬁ', 'Å', 'Å',
            ]),
            1 => prop::sample::select(vec![
                ' ', '\t', '\u{200B}', '\u{200D}', '\u{3164}', '\u{202E}', '\u{FE0F}', '\u{1b}',
                '😀', '.', '#',
            ]),
            1 => any::<char>(),
        ]
    }

    proptest! {
        #[test]
        fn any_accepted_nick_is_within_limits_and_round_trips(
            chars in prop::collection::vec(name_char(), 0..24),
            max in 1usize..=24,
        ) {
            let input: String = chars.into_iter().collect();
            if let Ok(nick) = Nick::parse(&input, max) {
                let shown = nick.as_str();
                let clusters = shown.graphemes(true).count();
                prop_assert!((1..=max).contains(&clusters));
                prop_assert!(shown.width() <= max);
                prop_assert!(!shown.chars().any(|c| c.is_control() || c.is_whitespace()));
                prop_assert!(!shown.chars().any(is_default_ignorable));
                let again = Nick::parse(shown, max);
                prop_assert_eq!(again.as_ref().map(Nick::key), Ok(nick.key()));
                prop_assert_eq!(again.as_ref().map(Nick::as_str), Ok(shown));
            }
        }

        #[test]
        fn parsing_never_panics_on_arbitrary_input(input in any::<String>(), max in 0usize..=64) {
            let _ = Nick::parse(&input, max);
            let _ = RoomName::parse(&input);
        }
    }
}

#[cfg(test)]
mod confusable_tests {
    use super::*;

    fn same_key(a: &str, b: &str) -> bool {
        Nick::parse(a, 16).unwrap().key() == Nick::parse(b, 16).unwrap().key()
    }

    #[test]
    fn look_alike_nicks_share_a_key() {
        assert!(same_key("admin", "\u{430}dmin"), "Cyrillic а");
        assert!(same_key("admin", "ADMIN"));
        assert!(same_key("paypal", "p\u{430}yp\u{430}l"));
        assert!(same_key("Straße", "STRASSE"));
        assert!(same_key("modern", "rnodern"), "rn looks like m");
        assert!(same_key("bob0", "bobO"), "zero and O");
        assert!(same_key("bill", "bi1l"), "one and l");
    }

    /// Two nicks that may not be held at once: the same key, or the same
    /// skeleton of the names as typed.
    fn collide(a: &str, b: &str) -> bool {
        Nick::parse(a, 16)
            .unwrap()
            .looks_like(&Nick::parse(b, 16).unwrap())
    }

    #[test]
    fn a_capital_i_looks_like_a_small_l() {
        // Lowercasing first turns `I` into `i`, which no longer looks like
        // `l`: the skeleton of the name as typed keeps the likeness.
        assert!(collide("bill", "biII"));
        assert!(collide("biII", "bill"));
        assert!(collide("Ian", "lan"));
        assert!(collide("paypal", "paypaI"));
        assert!(collide("lobby", "Iobby"));
    }

    #[test]
    fn case_alone_still_collides_and_unlike_names_do_not() {
        assert!(collide("bill", "Bill"));
        assert!(collide("ANN", "ann"));
        assert!(collide("admin", "\u{430}dmin"));
        assert!(!collide("bill", "ball"));
        assert!(!collide("Ian", "Ivan"));
        // Capital L is not a capital I.
        assert!(!collide("BILL", "BIII"));
    }

    #[test]
    fn room_names_compare_the_same_way() {
        let room = |name: &str| RoomName::parse(name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(room("lobby").look(), room("Iobby").look());
        assert_ne!(room("lobby").key(), room("Iobby").key());
        assert_eq!(room("#Games").look(), room("Games").look());
    }

    #[test]
    fn different_names_stay_different() {
        assert!(!same_key("ann", "anna"));
        assert!(!same_key("bob", "rob"));
        assert!(!same_key("日本", "中国"));
        assert!(!same_key("Ωmega", "omega"));
    }
}
