//! The fast path of the JSON record reader: one flat object of valid answers, read
//! byte by byte with no parser state beyond a cursor.
//!
//! It takes only what it can decide exactly: an object whose keys are the id field
//! or question ids, without escapes, each once; whose values are `null`, `true`,
//! `false`, whole numbers (no fraction, no exponent, within `i64`, not `-0`) or text
//! without escapes and control characters; every value a valid answer as
//! [`encode_answer`](crate::compile::encode_answer) would take it (a text only for an
//! ordinal question, a whole number only for an integer one, `true`/`false` only for
//! a boolean one); JSON white space around the tokens and nothing after the object.
//! Anything else — an unknown key, an invalid or unusual value, a duplicate, an
//! escape, a syntax error — makes it give up, and the caller reads the record with
//! serde_json, which decides it and words every problem. So the fast path never
//! gives an answer, id or error of its own: it is the slow path's result or nothing
//! (the differential test in `record.rs` keeps this true).

use crate::answers::{Answers, RecordId};
use crate::model::FactorKind;

/// A cursor over the record's bytes.
struct Cursor<'t> {
    text: &'t str,
    at: usize,
}

/// A JSON value of the subset the fast path takes.
#[derive(Clone, Copy)]
enum Scalar<'t> {
    Null,
    Bool(bool),
    Integer(i64),
    Text(&'t str),
}

impl<'t> Cursor<'t> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Skip white space, then take `byte`.
    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string without escapes or control characters, after white space.
    fn string(&mut self) -> Option<&'t str> {
        self.eat(b'"')?;
        let start = self.at;
        let rest = self.text.as_bytes().get(start..)?;
        let len = first_special(rest)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.at = start + len + 1;
        // The quote is ASCII, so both ends are character boundaries.
        self.text.get(start..start + len)
    }

    /// Take `word` exactly.
    fn word(&mut self, word: &str) -> Option<()> {
        let end = self.at + word.len();
        (self.text.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A whole number in JSON's grammar, without fraction or exponent, within `i64`.
    fn integer(&mut self) -> Option<i64> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut end = start + usize::from(bytes.get(start) == Some(&b'-'));
        let digits = end;
        while bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        let literal = self.text.get(start..end)?;
        let first = bytes.get(digits).copied();
        let leading_zero = first == Some(b'0') && end > digits + 1;
        if end == digits
            || leading_zero
            || literal == "-0"
            || matches!(bytes.get(end), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        self.at = end;
        literal.parse().ok()
    }

    /// One value of the subset, after white space.
    fn scalar(&mut self) -> Option<Scalar<'t>> {
        self.skip_space();
        match self.peek()? {
            b'"' => self.string().map(Scalar::Text),
            b'n' => self.word("null").map(|()| Scalar::Null),
            b't' => self.word("true").map(|()| Scalar::Bool(true)),
            b'f' => self.word("false").map(|()| Scalar::Bool(false)),
            b'-' | b'0'..=b'9' => self.integer().map(Scalar::Integer),
            _ => None,
        }
    }
}

/// Read `text` into `answers` (already [reset](Answers::reset)) and `id`, when the
/// record is in the subset and every answer in it is valid: `Some(())`. `None` leaves
/// `answers` and `id` part-filled; the caller resets and reads with serde_json.
pub(crate) fn read(
    answers: &mut Answers<'_>,
    text: &str,
    id_field: Option<&str>,
    id: &mut Option<RecordId>,
) -> Option<()> {
    let rs = answers.ruleset;
    let mut cursor = Cursor { text, at: 0 };
    let mut seen = crate::record::Seen([0; crate::limits::MAX_FACTORS / 64]);
    let mut id_seen = false;
    cursor.eat(b'{')?;
    cursor.skip_space();
    if cursor.peek() == Some(b'}') {
        cursor.at += 1;
    } else {
        loop {
            let key = cursor.string()?;
            cursor.eat(b':')?;
            let value = cursor.scalar()?;
            if Some(key) == id_field {
                if id_seen {
                    return None;
                }
                id_seen = true;
                read_id(value, id)?;
            } else {
                let index = rs.factor_index(key)?;
                if seen.insert(index) {
                    return None;
                }
                let kind = &rs.factors.get(index)?.kind;
                let code = match (value, kind) {
                    (Scalar::Null, _) => None,
                    (Scalar::Text(t), FactorKind::Ordinal { .. }) => {
                        Some(rs.ordinal_code(index, t)?)
                    }
                    (Scalar::Integer(i), FactorKind::Integer { min, max, .. }) => {
                        Some(i).filter(|i| (*min..=*max).contains(i))
                    }
                    (Scalar::Bool(b), FactorKind::Boolean) => Some(i64::from(b)),
                    _ => return None,
                };
                if let Some(code) = code {
                    answers.put(index, code);
                } else if !matches!(value, Scalar::Null) {
                    return None;
                }
            }
            cursor.skip_space();
            match cursor.peek()? {
                b',' => cursor.at += 1,
                b'}' => {
                    cursor.at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    cursor.skip_space();
    if cursor.at != text.len() {
        return None;
    }
    if !id_seen {
        *id = None;
    }
    Some(())
}

/// The record id from its value: text (into the slot's string when it holds one),
/// a whole number, or `null` (no id). Anything else is left to the slow path.
fn read_id(value: Scalar<'_>, id: &mut Option<RecordId>) -> Option<()> {
    match value {
        Scalar::Text(t) => match id {
            Some(RecordId::Text(s)) => {
                s.clear();
                s.push_str(t);
            }
            slot => *slot = Some(RecordId::Text(t.to_owned())),
        },
        Scalar::Integer(i) => *id = Some(RecordId::Integer(i)),
        Scalar::Null => *id = None,
        Scalar::Bool(_) => return None,
    }
    Some(())
}

/// The position of the first quote, backslash or control character in `bytes`,
/// eight bytes at a time (the classic "has a zero byte" word tricks: the lowest
/// flagged byte is always a true match, so its position is exact).
fn first_special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let w = u64::from_le_bytes(*chunk);
        let found = below(w ^ (ONES * u64::from(b'"')), 1)
            | below(w ^ (ONES * u64::from(b'\\')), 1)
            | below(w, 0x20);
        if found != 0 {
            return Some(at + usize::try_from(found.trailing_zeros() / 8).ok()?);
        }
        at += 8;
    }
    let rest = bytes.get(at..)?;
    let i = rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    Some(at + i)
}

#[cfg(test)]
mod tests {
    use super::first_special;
    use proptest::prelude::*;

    proptest! {
        /// The word-at-a-time scan finds what a byte-at-a-time scan finds.
        #[test]
        fn first_special_equals_a_byte_scan(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            let want = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(first_special(&bytes), want);
        }

        /// The same on text-like input, where the special bytes are rare.
        #[test]
        fn first_special_on_text(text in "[a-z_ ]{0,30}[\"\\\\\t]?[a-z\"]{0,10}") {
            let bytes = text.as_bytes();
            let want = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(first_special(bytes), want);
        }
    }
}
