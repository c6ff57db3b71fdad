//! Safe display of text that came from outside: answers, record ids, ruleset and test
//! files. This is the one place that decides how such text is shown to a person.
//!
//! Text shown in a terminal, a text report or a CSV cell must not be able to act on the
//! terminal or hide what it says. [`Shown`] (and [`escape_for_display`]) write every
//! character for which [`needs_escape`] is true as a visible escape:
//!
//! - newline, carriage return and tab as `\n`, `\r` and `\t`;
//! - every other one as `\u{HEX}`, the code point in lowercase hexadecimal, e.g. ESC as
//!   `\u{1b}`, NUL as `\u{0}`, a right-to-left override as `\u{202e}`.
//!
//! Those characters are the C0 and C1 controls and DEL, the bidirectional embeddings,
//! overrides and isolates (U+202A–U+202E, U+2066–U+2069) and marks (U+200E, U+200F,
//! U+061C), and the other invisible format characters (zero-width spaces and joiners
//! U+200B–U+200D, U+2060–U+2064, U+206A–U+206F, U+FEFF, U+00AD, U+180E, the line and
//! paragraph separators U+2028 and U+2029, U+FFF9–U+FFFB, and the tag characters
//! U+E0000–U+E007F). Every other character, letters of any script, digits, punctuation
//! and the backslash, is shown as it is, so ordinary text is unchanged. (A backslash is
//! not escaped: a text that already spells `\u{1b}` looks the same as an escaped ESC.
//! Display is for reading; JSON output keeps the exact text.)
//!
//! An excerpt (a key, value or line echoed in a message) is capped: once the escaped
//! text would pass the cap, it is cut at a character boundary and ends with `…` and the
//! original length, e.g. `… (1048576 bytes)`.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use crate::limits::MAX_EXCERPT_BYTES;

/// Longest suffix a cut excerpt gets: `… (` + 20 digits + ` bytes)`.
pub const CUT_SUFFIX_MAX_BYTES: usize = 32;

/// Whether `c` is shown as an escape rather than as itself (see the [module](self) docs).
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{061c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// Text to display: escaped and, for an excerpt, capped. Its `Display` writes the
/// escaped form; build it with [`Shown::excerpt`] or [`Shown::full`].
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    text: &'a str,
    cap: Option<usize>,
}

impl<'a> Shown<'a> {
    /// An excerpt of input (a key, a value, an id in a message): escaped and capped at
    /// [`MAX_EXCERPT_BYTES`].
    pub fn excerpt(text: &'a str) -> Self {
        Shown {
            text,
            cap: Some(MAX_EXCERPT_BYTES),
        }
    }

    /// Text shown in full (a ruleset's `because`, a label, a whole message): escaped,
    /// never cut.
    pub fn full(text: &'a str) -> Self {
        Shown { text, cap: None }
    }

    /// An excerpt capped at `cap` bytes of escaped text (plus the cut suffix).
    pub fn capped(text: &'a str, cap: usize) -> Self {
        Shown {
            text,
            cap: Some(cap),
        }
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cap = self.cap.unwrap_or(usize::MAX);
        let mut written = 0usize;
        let mut escape = String::new();
        for c in self.text.chars() {
            escape.clear();
            push_escaped(&mut escape, c);
            if written.saturating_add(escape.len()) > cap {
                return write!(f, "… ({} bytes)", self.text.len());
            }
            written += escape.len();
            f.write_str(&escape)?;
        }
        Ok(())
    }
}

/// Append `c` to `out`, escaped when [`needs_escape`] says so.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// `text` made safe to display: escaped, and cut at `cap` bytes of escaped text (with
/// the `… (N bytes)` suffix) when a cap is given. Borrowed when nothing changes.
pub fn escape_for_display(text: &str, cap: Option<usize>) -> Cow<'_, str> {
    let fits = cap.is_none_or(|cap| text.len() <= cap);
    // Printable ASCII never needs an escape: the common case (ids, numbers) is a byte scan.
    let plain = text.bytes().all(|b| (0x20..0x7f).contains(&b)) || !text.chars().any(needs_escape);
    if fits && plain {
        return Cow::Borrowed(text);
    }
    let shown = Shown { text, cap };
    Cow::Owned(shown.to_string())
}

/// `excerpt` of input as a message quotes it: escaped, capped at [`MAX_EXCERPT_BYTES`].
pub(crate) fn excerpt(text: &str) -> String {
    Shown::excerpt(text).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped() {
        assert_eq!(
            escape_for_display("a\u{1b}[2Jb\0c\u{7f}\u{85}", None),
            "a\\u{1b}[2Jb\\u{0}c\\u{7f}\\u{85}"
        );
        assert_eq!(escape_for_display("x\ny\tz\r", None), "x\\ny\\tz\\r");
        assert_eq!(
            escape_for_display("\u{202e}abc\u{2066}\u{2069}\u{200b}\u{feff}", None),
            "\\u{202e}abc\\u{2066}\\u{2069}\\u{200b}\\u{feff}"
        );
    }

    #[test]
    fn the_documented_characters_and_only_those_are_escaped() {
        // Every range the module documentation lists, at both ends.
        for c in [
            '\u{0}',
            '\u{1f}',
            '\u{7f}',
            '\u{80}',
            '\u{9f}',
            '\u{ad}',
            '\u{61c}',
            '\u{180e}',
            '\u{200b}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{202a}',
            '\u{202e}',
            '\u{2060}',
            '\u{2064}',
            '\u{2066}',
            '\u{2069}',
            '\u{206a}',
            '\u{206f}',
            '\u{feff}',
            '\u{fff9}',
            '\u{fffb}',
            '\u{e0000}',
            '\u{e007f}',
        ] {
            assert!(needs_escape(c), "{c:?}");
        }
        // Their neighbours and ordinary characters are not.
        for c in [
            ' ',
            '~',
            '\u{a0}',
            '\u{ac}',
            '\u{ae}',
            '\u{200a}',
            '\u{2010}',
            '\u{2027}',
            '\u{202f}',
            '\u{205f}',
            '\u{2070}',
            '\u{fefe}',
            '\u{fffc}',
            '\u{e0080}',
            'é',
            'ü',
            '中',
            '\\',
            '…',
        ] {
            assert!(!needs_escape(c), "{c:?}");
        }
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        let text = "moderate; Grüße, café, 中文, `x` \\ \"q\" (1-2) é ü";
        assert!(matches!(
            escape_for_display(text, Some(200)),
            Cow::Borrowed(t) if t == text
        ));
    }

    #[test]
    fn a_long_excerpt_is_cut_at_a_char_boundary_with_its_length() {
        let text = "é".repeat(600); // 1,200 bytes
        let shown = escape_for_display(&text, Some(11));
        assert_eq!(shown, "ééééé… (1200 bytes)");
        let key = "k".repeat(1 << 20);
        let shown = Shown::excerpt(&key).to_string();
        assert_eq!(
            shown,
            format!("{}… (1048576 bytes)", "k".repeat(MAX_EXCERPT_BYTES))
        );
    }

    #[test]
    fn an_escape_is_never_split_by_the_cut() {
        // `ab` (2) + `\u{1b}` (6) would be 8 > 7: the escape goes whole or not at all.
        assert_eq!(escape_for_display("ab\u{1b}", Some(7)), "ab… (3 bytes)");
        assert_eq!(escape_for_display("ab\u{1b}", Some(8)), "ab\\u{1b}");
    }
}
