//! The streaming reader of one JSON answers record (a JSON Lines line): keys and
//! values are matched where they lie in the input, decoded straight to value codes.
//!
//! A key or a text value without escapes is borrowed from the input
//! (`visit_borrowed_str`); one with escapes is unescaped by serde_json into its own
//! scratch buffer and matched there. Either way nothing is copied unless the record
//! has a problem (whose message quotes the key or value) or a text record id (kept in
//! the caller's reusable [`RecordId`]). The `no_alloc` test binary keeps this true.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use crate::answers::{unknown_factor_message, Answers, RecordId};
use crate::compile::encode_answer;
use crate::error::{AnswerProblem, AnswersError};
use crate::model::{Factor, FactorIndex, Ruleset};
use crate::syntax::{RawAnswer, RawAnswerVisitor, RawScalar};

/// One bit per factor: which keys a record has given (512 factors at most).
struct Seen([u64; crate::limits::MAX_FACTORS / 64]);

impl Seen {
    /// Mark factor `i` seen; whether it was seen before.
    fn insert(&mut self, i: FactorIndex) -> bool {
        let bit = 1u64 << (i % 64);
        match self.0.get_mut(i / 64) {
            Some(word) => {
                let before = *word & bit != 0;
                *word |= bit;
                before
            }
            None => false,
        }
    }
}

/// What a key of the record is.
enum Key {
    /// The record id field.
    Id,
    /// The question at this index.
    Factor(FactorIndex),
    /// Neither: the key as written, for the message.
    Unknown(String),
}

/// Matches one key against the id field and the factor ids without copying it.
struct KeySeed<'a> {
    ruleset: &'a Ruleset,
    id_field: Option<&'a str>,
}

impl KeySeed<'_> {
    fn classify(&self, key: &str) -> Key {
        if Some(key) == self.id_field {
            Key::Id
        } else if let Some(i) = self.ruleset.factor_index(key) {
            Key::Factor(i)
        } else {
            Key::Unknown(key.to_owned())
        }
    }
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a question id")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(self.classify(v))
    }
}

/// The value of one question, decoded.
enum Decoded {
    /// `null`: not answered.
    Null,
    /// A valid answer's value code.
    Code(i64),
    /// What is wrong with the value (the message of the problem).
    Problem(String),
}

/// Decodes the value of one question: a text value of an ordinal question is looked
/// up in its scale where it lies; everything else goes through [`RawAnswer`], so the
/// messages are those of the other readers.
struct ValueSeed<'a> {
    ruleset: &'a Ruleset,
    index: FactorIndex,
    factor: &'a Factor,
}

impl ValueSeed<'_> {
    fn decode(&self, raw: RawAnswer) -> Decoded {
        match raw {
            RawAnswer::Null => Decoded::Null,
            RawAnswer::Scalar(s) => match encode_answer(self.factor, &s) {
                Ok(code) => Decoded::Code(code),
                Err(message) => Decoded::Problem(message),
            },
            RawAnswer::Invalid(what) => Decoded::Problem(format!(
                "expected one value ({}), got {what}",
                self.factor.allowed_answers()
            )),
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Decoded;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Decoded, D::Error> {
        d.deserialize_any(self)
    }
}

/// Every visit but `visit_str` hands the value to [`RawAnswerVisitor`].
macro_rules! via_raw_answer {
    ($($name:ident($t:ty)),*) => {$(
        fn $name<E: de::Error>(self, v: $t) -> Result<Decoded, E> {
            RawAnswerVisitor.$name(v).map(|raw| self.decode(raw))
        }
    )*};
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Decoded;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an answer")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decoded, E> {
        if let Some(code) = self.ruleset.ordinal_code(self.index, v) {
            return Ok(Decoded::Code(code));
        }
        RawAnswerVisitor.visit_str(v).map(|raw| self.decode(raw))
    }
    via_raw_answer!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64)
    );
    fn visit_unit<E: de::Error>(self) -> Result<Decoded, E> {
        Ok(Decoded::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Decoded, E> {
        Ok(Decoded::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Decoded, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Decoded, A::Error> {
        RawAnswerVisitor.visit_seq(seq).map(|raw| self.decode(raw))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Decoded, A::Error> {
        RawAnswerVisitor.visit_map(map).map(|raw| self.decode(raw))
    }
}

/// Reads the record id into the caller's slot; a text id reuses the slot's string.
struct IdSeed<'a> {
    slot: &'a mut Option<RecordId>,
}

impl<'de> DeserializeSeed<'de> for IdSeed<'_> {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
}

/// The message for a record id that is neither text nor a whole number.
fn bad_id_message(raw: RawAnswer) -> String {
    match raw {
        RawAnswer::Invalid(what) if what.contains("too large") => format!(
            "a record id number is too large: at most {} (write a longer id as text, in \
             double quotes)",
            i64::MAX
        ),
        RawAnswer::Invalid(what) => {
            format!("a record id must be text or a whole number, got {what}")
        }
        _ => "a record id must be text or a whole number, got true or false".to_owned(),
    }
}

impl IdSeed<'_> {
    /// Keep `raw` as the id; `Some(message)` when it cannot be one.
    fn take(self, raw: RawAnswer) -> Option<String> {
        match raw {
            RawAnswer::Scalar(RawScalar::Text(t)) => {
                *self.slot = Some(RecordId::Text(t));
                None
            }
            RawAnswer::Scalar(RawScalar::Integer(i)) => {
                *self.slot = Some(RecordId::Integer(i));
                None
            }
            RawAnswer::Null => {
                *self.slot = None;
                None
            }
            other => {
                *self.slot = None;
                Some(bad_id_message(other))
            }
        }
    }
}

macro_rules! id_via_raw_answer {
    ($($name:ident($t:ty)),*) => {$(
        fn $name<E: de::Error>(self, v: $t) -> Result<Option<String>, E> {
            RawAnswerVisitor.$name(v).map(|raw| self.take(raw))
        }
    )*};
}

impl<'de> Visitor<'de> for IdSeed<'_> {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record id")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<String>, E> {
        match self.slot {
            Some(RecordId::Text(t)) => {
                t.clear();
                t.push_str(v);
            }
            slot => *slot = Some(RecordId::Text(v.to_owned())),
        }
        Ok(None)
    }
    id_via_raw_answer!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64)
    );
    fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(self.take(RawAnswer::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(self.take(RawAnswer::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Option<String>, A::Error> {
        RawAnswerVisitor.visit_seq(seq).map(|raw| self.take(raw))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<String>, A::Error> {
        RawAnswerVisitor.visit_map(map).map(|raw| self.take(raw))
    }
}

/// Streaming JSON reader of one answers object: keys are matched against factor ids
/// without copying them, values are decoded straight to codes, every problem is kept.
struct AnswersSeed<'r, 'o> {
    answers: &'o mut Answers<'r>,
    id_field: Option<&'o str>,
    id: &'o mut Option<RecordId>,
    /// Whether the record had its id field.
    id_set: &'o mut bool,
    problems: &'o mut Vec<AnswerProblem>,
}

impl<'de> DeserializeSeed<'de> for AnswersSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

fn duplicate<E: de::Error>(key: &str) -> E {
    E::custom(format_args!(
        "duplicate key `{}`",
        crate::text::Shown::excerpt(key)
    ))
}

impl<'de> Visitor<'de> for AnswersSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of answers (factor: value)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let rs = self.answers.ruleset;
        let mut seen = Seen([0; crate::limits::MAX_FACTORS / 64]);
        let mut seen_id = false;
        let id_field = self.id_field;
        while let Some(key) = map.next_key_seed(KeySeed {
            ruleset: rs,
            id_field,
        })? {
            match key {
                Key::Id => {
                    let name = id_field.unwrap_or("");
                    if seen_id {
                        return Err(duplicate(name));
                    }
                    seen_id = true;
                    *self.id_set = true;
                    if let Some(message) = map.next_value_seed(IdSeed {
                        slot: &mut *self.id,
                    })? {
                        self.problems.push(AnswerProblem::new(Some(name), message));
                    }
                }
                Key::Unknown(name) => {
                    map.next_value::<de::IgnoredAny>()?;
                    self.problems.push(AnswerProblem::new(
                        Some(&name),
                        unknown_factor_message(rs, &name),
                    ));
                }
                Key::Factor(index) => {
                    let Some(factor) = rs.factors.get(index) else {
                        map.next_value::<de::IgnoredAny>()?;
                        continue;
                    };
                    if seen.insert(index) {
                        return Err(duplicate(&factor.id));
                    }
                    match map.next_value_seed(ValueSeed {
                        ruleset: rs,
                        index,
                        factor,
                    })? {
                        Decoded::Null => {}
                        Decoded::Code(code) => self.answers.put(index, code),
                        Decoded::Problem(message) => self
                            .problems
                            .push(AnswerProblem::new(Some(&factor.id), message)),
                    }
                }
            }
        }
        Ok(())
    }
}

impl<'r> Answers<'r> {
    /// Read one JSON answers record (a JSON Lines line) into these answers, which are
    /// [reset](Answers::reset) first; `id_field` (when given) is taken as the record id
    /// into `id` instead of a question. With valid answers and a numeric or no id this
    /// does not allocate; a text id is copied into `id`'s string, reused from the last
    /// record. Same answers, ids and messages as [`Ruleset::answers_from_json_record`].
    pub fn read_json_record(
        &mut self,
        text: &str,
        id_field: Option<&str>,
        id: &mut Option<RecordId>,
    ) -> Result<(), AnswersError> {
        self.reset();
        let mut id_set = false;
        let mut problems = Vec::new();
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = {
            // `id` still holds the last record's id: a text id's string is reused.
            let seed = AnswersSeed {
                answers: self,
                id_field,
                id: &mut *id,
                id_set: &mut id_set,
                problems: &mut problems,
            };
            DeserializeSeed::deserialize(seed, &mut de).and_then(|()| de.end())
        };
        if !id_set {
            *id = None;
        }
        if let Err(e) = parsed {
            let message = if e.is_data() && e.to_string().starts_with("invalid type") {
                // Only the top-level value can have the wrong type (answers take any
                // value). serde_json places this error before an array or object but
                // after a scalar: point at the value's first character instead, from 1.
                let (line, column) = crate::syntax::first_value_position(text);
                format!(
                    "expected a JSON object of answers (factor: value), got {} at line {line} column {column}",
                    crate::syntax::json_type_in_words(&e.to_string())
                )
            } else {
                format!("invalid JSON: {e}")
            };
            return Err(AnswersError::one(None, message));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(AnswersError { problems })
        }
    }
}

impl Ruleset {
    /// Read one JSON answers record, e.g. a JSON Lines line, taking `id_field`
    /// (when given) as the record id instead of a question. Faster than
    /// [`Ruleset::answers_from_json`]: keys and values are matched without copying.
    /// To read many records without allocating, reuse one [`Answers`] with
    /// [`Answers::read_json_record`].
    pub fn answers_from_json_record(
        &self,
        text: &str,
        id_field: Option<&str>,
    ) -> Result<(Answers<'_>, Option<RecordId>), (AnswersError, Option<RecordId>)> {
        let mut answers = Answers::new(self);
        let mut id = None;
        match answers.read_json_record(text, id_field, &mut id) {
            Ok(()) => Ok((answers, id)),
            Err(e) => Err((e, id)),
        }
    }
}
