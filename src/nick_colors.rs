//! Nick colors: which color a nick is shown in, at each color depth.
//!
//! A nick's color comes from a fixed palette per depth, picked by a hash of
//! the nick's key: the same for everyone, every time, whatever the
//! capitalization. It used to be a hue computed from the hash (FNV-1a, whose
//! low bits barely move when the last letter changes), so `ann1` and `ann2`
//! came out a few degrees apart: neighbours in a room looked alike. Now:
//!
//! - the hash is FNV-1a followed by murmur3's finalizer, so one letter
//!   changed moves every bit, and the entry is taken from the high bits;
//! - each palette's entries are far apart: in 256 colors and truecolor at
//!   least 28 / 25 from each other (CIE76 ΔE, where about 2.3 is "just
//!   noticeable" and over 20 reads as another color); in 16 colors the 12 foreground colors that are neither
//!   black, white nor grey (the terminal's theme decides their RGB, so no
//!   distance can be promised there);
//! - every 256-color and truecolor entry has a relative luminance between
//!   0.12 and 0.28, so it contrasts at least 3.2:1 with both a black and a
//!   white background (WCAG asks 3:1 for bold text, and nicks are bold).
//!
//! The palettes were chosen greedily (each next entry the candidate farthest
//! from those already chosen) among the xterm cube's colors, or a 15-step RGB
//! grid, inside that luminance band. Two nicks that differ by one letter get
//! different entries about as often as chance allows (1 − 1/entries): the
//! unit tests measure it over 10,000 pairs.

use crate::names::Nick;
use crate::render::ColorDepth;

/// 16 colors: the foreground colors that read on dark and light backgrounds.
const ANSI16: [&str; 12] = [
    "31", "32", "33", "34", "35", "36", "91", "92", "93", "94", "95", "96",
];

/// 256 colors: indices into xterm's 6×6×6 cube (see the module docs).
const ANSI256: [u8; 16] = [
    160, 93, 28, 60, 199, 94, 33, 65, 168, 134, 197, 164, 27, 95, 166, 31,
];

/// The least CIE76 distance between two [`ANSI256`] entries (measured: 28.9).
#[cfg(test)]
const MIN_DELTA_E_256: f64 = 28.0;

/// Truecolor: 24 colors (see the module docs).
const TRUECOLOR: [(u8, u8, u8); 24] = [
    (0, 75, 255),
    (0, 165, 0),
    (255, 0, 45),
    (15, 120, 150),
    (255, 0, 180),
    (180, 135, 60),
    (165, 75, 105),
    (120, 135, 240),
    (0, 150, 105),
    (210, 0, 255),
    (225, 105, 0),
    (150, 60, 195),
    (255, 60, 120),
    (90, 120, 0),
    (180, 60, 45),
    (150, 120, 105),
    (150, 135, 180),
    (210, 90, 180),
    (105, 150, 135),
    (30, 150, 225),
    (0, 90, 225),
    (135, 150, 90),
    (120, 30, 255),
    (0, 135, 45),
];

/// The least CIE76 distance between two [`TRUECOLOR`] entries (measured:
/// 25.5).
#[cfg(test)]
const MIN_DELTA_E_TRUECOLOR: f64 = 25.0;

/// A nick's hash, from its key: FNV-1a (stable across runs and platforms,
/// unlike std's hasher), then murmur3's 32-bit finalizer, without which a
/// change in the last byte only reaches the hash's low bits.
fn nick_hash(nick: &Nick) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in nick.key().bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash ^= hash >> 16;
    hash = hash.wrapping_mul(0x85eb_ca6b);
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(0xc2b2_ae35);
    hash ^ (hash >> 16)
}

/// The palette entry for `hash` among `len`: from the high bits, which
/// multiply-shift spreads evenly.
fn entry(hash: u32, len: usize) -> usize {
    ((u64::from(hash) * len as u64) >> 32) as usize
}

/// The SGR sequence that shows a nick at `depth`: bold, in its color, as one
/// sequence (`ESC [1;31m`, not `ESC [1m ESC [31m`: nicks are on every chat
/// line, and the three bytes saved are a tenth of a short one). Empty for no
/// color.
pub fn nick_color(nick: &Nick, depth: ColorDepth) -> String {
    let hash = nick_hash(nick);
    match depth {
        ColorDepth::None => String::new(),
        ColorDepth::Ansi16 => format!("\x1b[1;{}m", ANSI16[entry(hash, ANSI16.len())]),
        ColorDepth::Ansi256 => format!("\x1b[1;38;5;{}m", ANSI256[entry(hash, ANSI256.len())]),
        ColorDepth::TrueColor => {
            let (r, g, b) = TRUECOLOR[entry(hash, TRUECOLOR.len())];
            format!("\x1b[1;38;2;{r};{g};{b}m")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(name: &str) -> Nick {
        Nick::parse(name, 16).unwrap()
    }

    /// sRGB channel to linear light.
    fn linear(channel: u8) -> f64 {
        let c = f64::from(channel) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }

    fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    /// sRGB (D65) to CIELAB.
    fn lab((r, g, b): (u8, u8, u8)) -> [f64; 3] {
        let (r, g, b) = (linear(r), linear(g), linear(b));
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        let (fx, fy, fz) = (f(x), f(y), f(z));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }

    fn delta_e(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
        let (a, b) = (lab(a), lab(b));
        (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
    }

    fn cube_rgb(index: u8) -> (u8, u8, u8) {
        const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
        let cube = usize::from(index - 16);
        (LEVELS[cube / 36], LEVELS[(cube / 6) % 6], LEVELS[cube % 6])
    }

    fn least_distance(colors: &[(u8, u8, u8)]) -> f64 {
        let mut least = f64::MAX;
        for (i, &a) in colors.iter().enumerate() {
            for &b in &colors[i + 1..] {
                least = least.min(delta_e(a, b));
            }
        }
        least
    }

    #[test]
    fn palette_entries_are_pairwise_far_apart() {
        let cube: Vec<_> = ANSI256.iter().map(|&i| cube_rgb(i)).collect();
        assert!(ANSI256.iter().all(|&i| (16..232).contains(&i)), "no greys");
        assert!(least_distance(&cube) >= MIN_DELTA_E_256);
        assert!(least_distance(&TRUECOLOR) >= MIN_DELTA_E_TRUECOLOR);
        let mut ansi16 = ANSI16.to_vec();
        ansi16.sort_unstable();
        ansi16.dedup();
        assert_eq!(ansi16.len(), ANSI16.len());
    }

    #[test]
    fn palette_entries_contrast_with_black_and_white() {
        for rgb in ANSI256.iter().map(|&i| cube_rgb(i)).chain(TRUECOLOR) {
            let l = luminance(rgb);
            let on_black = (l + 0.05) / 0.05;
            let on_white = 1.05 / (l + 0.05);
            assert!(on_black >= 3.2 && on_white >= 3.2, "{rgb:?}: {l}");
        }
    }

    #[test]
    fn nick_colors_are_stable_ignore_case_and_follow_the_depth() {
        for depth in [
            ColorDepth::Ansi16,
            ColorDepth::Ansi256,
            ColorDepth::TrueColor,
        ] {
            assert_eq!(
                nick_color(&nick("Ann"), depth),
                nick_color(&nick("ANN"), depth)
            );
        }
        assert!(nick_color(&nick("ann"), ColorDepth::Ansi256).starts_with("\x1b[1;38;5;"));
        assert!(nick_color(&nick("ann"), ColorDepth::TrueColor).starts_with("\x1b[1;38;2;"));
        assert_eq!(nick_color(&nick("ann"), ColorDepth::None), "");
    }

    #[test]
    fn the_nicks_of_the_issue_now_look_different() {
        // `95;221;204` and `95;221;198` before.
        for depth in [
            ColorDepth::Ansi16,
            ColorDepth::Ansi256,
            ColorDepth::TrueColor,
        ] {
            assert_ne!(
                nick_color(&nick("ann1"), depth),
                nick_color(&nick("ann2"), depth)
            );
        }
    }

    /// Over 10,000 pairs of nicks that differ by one letter (a random nick
    /// of 3 to 10 letters, one letter at a random place changed to another),
    /// how many get different palette entries. Measured: 16 colors 91.2%,
    /// 256 colors 93.6%, truecolor 95.6% (chance: 91.7%, 93.8%, 95.8%).
    #[test]
    fn nicks_that_differ_by_one_letter_mostly_get_different_colors() {
        // A small xorshift, seeded: the same pairs every run.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        let letters = b"abcdefghijklmnopqrstuvwxyz";
        let mut differ = [0usize; 3];
        let depths = [
            ColorDepth::Ansi16,
            ColorDepth::Ansi256,
            ColorDepth::TrueColor,
        ];
        const PAIRS: usize = 10_000;
        for _ in 0..PAIRS {
            let len = 3 + next(8);
            let a: Vec<u8> = (0..len).map(|_| letters[next(26)]).collect();
            let mut b = a.clone();
            let at = next(len);
            b[at] = letters[(usize::from(a[at] - b'a') + 1 + next(25)) % 26];
            let (a, b) = (
                nick(std::str::from_utf8(&a).unwrap()),
                nick(std::str::from_utf8(&b).unwrap()),
            );
            for (count, depth) in differ.iter_mut().zip(depths) {
                *count += usize::from(nick_color(&a, depth) != nick_color(&b, depth));
            }
        }
        let rates: Vec<f64> = differ.iter().map(|&d| d as f64 / PAIRS as f64).collect();
        eprintln!("different entries: {rates:?}");
        assert!(rates[0] >= 0.89, "{rates:?}");
        assert!(rates[1] >= 0.92, "{rates:?}");
        assert!(rates[2] >= 0.94, "{rates:?}");
    }
}
