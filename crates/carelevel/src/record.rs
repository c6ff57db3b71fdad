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
pub(crate) struct Seen(pub(crate) [u64; crate::limits::MAX_FACTORS / 64]);

impl Seen {
    /// Mark factor `i` seen; whether it was seen before.
    pub(crate) fn insert(&mut self, i: FactorIndex) -> bool {
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
        if crate::flat_record::read(self, text, id_field, id).is_some() {
            return Ok(());
        }
        self.reset();
        self.read_json_record_with_serde(text, id_field, id)
    }

    /// [`Answers::read_json_record`] by serde_json alone (the fast path gave up, or a
    /// test compares the two): every record, every problem worded.
    fn read_json_record_with_serde(
        &mut self,
        text: &str,
        id_field: Option<&str>,
        id: &mut Option<RecordId>,
    ) -> Result<(), AnswersError> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::FactorKind;
    use proptest::prelude::*;

    const SIX_LEVELS: &str = include_str!("../../../examples/rulesets/six-levels.yaml");

    /// What one read gives: the answers (codes and answered marks), the id, and the
    /// result with every problem's message.
    type Outcome = (Vec<i64>, Vec<bool>, Option<RecordId>, Result<(), String>);

    fn read(rs: &Ruleset, text: &str, id_field: Option<&str>, serde_only: bool) -> Outcome {
        let mut answers = Answers::new(rs);
        // A text id in the slot from an earlier record, as batch leaves it.
        let mut id = Some(RecordId::Text("earlier".into()));
        let result = if serde_only {
            answers.reset();
            answers.read_json_record_with_serde(text, id_field, &mut id)
        } else {
            answers.read_json_record(text, id_field, &mut id)
        };
        let result = result.map_err(|e| format!("{e:?}"));
        (answers.values, answers.answered, id, result)
    }

    /// A member of a record: a key and a value as JSON text.
    fn member(rs: &Ruleset) -> impl Strategy<Value = (String, String)> {
        let mut keys: Vec<String> = rs.factors.iter().map(|f| format!("\"{}\"", f.id)).collect();
        keys.extend(
            [
                "\"id\"",
                "\"sevrity\"",
                "\"sever\\u0069ty\"",
                "\"\"",
                "\"id\\n\"",
            ]
            .map(String::from),
        );
        let mut values: Vec<String> = rs
            .factors
            .iter()
            .flat_map(|f| match &f.kind {
                FactorKind::Ordinal { values } => {
                    values.iter().map(|v| format!("\"{v}\"")).collect()
                }
                _ => Vec::new(),
            })
            .collect();
        values.extend(
            [
                "null",
                "true",
                "false",
                "0",
                "1",
                "7",
                "-3",
                "12",
                "40",
                "-0",
                "01",
                "1.5",
                "1e2",
                "99999999999999999999",
                "9223372036854775807",
                "\"\"",
                "\"moderat\"",
                "\"m\\u006fderate\"",
                "\"true\"",
                "\"12\"",
                "[]",
                "[\"mild\"]",
                "{}",
                "\"p-1\"",
                "tru",
                "nul",
                "-",
                "\"a\tb\"",
            ]
            .map(String::from),
        );
        (prop::sample::select(keys), prop::sample::select(values))
    }

    /// White space JSON allows, and some it does not.
    fn space() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", "", "", " ", "\t", "\r\n", "  ", "\u{a0}"])
    }

    fn record(rs: &Ruleset) -> impl Strategy<Value = String> {
        (
            prop::collection::vec((member(rs), space(), space()), 0..12),
            space(),
            prop::sample::select(vec!["", "", "", "", "x", "}", ",", "{}"]),
            any::<bool>(),
        )
            .prop_map(|(members, pad, tail, trailing_comma)| {
                let body: Vec<String> = members
                    .iter()
                    .map(|((k, v), a, b)| format!("{a}{k}{b}:{a}{v}{b}"))
                    .collect();
                let comma = if trailing_comma { "," } else { "" };
                format!("{pad}{{{}{comma}}}{pad}{tail}", body.join(","))
            })
    }

    /// A record of valid answers (or `null`) to a random subset of the questions, in
    /// random order with random white space, with an id of a random kind or none.
    fn valid_record(rs: &Ruleset) -> impl Strategy<Value = String> {
        let answers: Vec<BoxedStrategy<String>> = rs
            .factors
            .iter()
            .map(|f| {
                let id = f.id.clone();
                let value: BoxedStrategy<String> = match &f.kind {
                    FactorKind::Ordinal { values } => prop::sample::select(values.clone())
                        .prop_map(|v| format!("\"{v}\""))
                        .boxed(),
                    FactorKind::Integer { min, max, .. } => {
                        (*min..=*max).prop_map(|i| i.to_string()).boxed()
                    }
                    FactorKind::Boolean => any::<bool>().prop_map(|b| b.to_string()).boxed(),
                };
                let json_space = prop::sample::select(vec!["", " ", "\t", "\r\n "]);
                (
                    value,
                    prop::sample::select(vec![false, false, false, true]),
                    json_space,
                )
                    .prop_map(move |(v, null, s)| {
                        format!("{s}\"{id}\"{s}:{s}{}", if null { "null" } else { &v })
                    })
                    .boxed()
            })
            .collect();
        (
            answers,
            prop::sample::select(vec!["", "\"id\": \"p-7\"", "\"id\": 42", "\"id\": null"]),
            any::<u64>(),
            1usize..=20,
        )
            .prop_map(|(mut members, id, shuffle, keep)| {
                members.rotate_left(usize::try_from(shuffle % 7).unwrap());
                members.truncate(keep);
                if !id.is_empty() {
                    members.insert(
                        usize::try_from(shuffle % 3).unwrap().min(members.len()),
                        id.to_owned(),
                    );
                }
                format!("{{{}}}", members.join(","))
            })
    }

    /// A valid record with one member's value replaced by, or one member added with,
    /// a token from [`member`]'s pool: where the fast path must decide alone.
    fn almost_valid_record(rs: &Ruleset) -> impl Strategy<Value = String> {
        (valid_record(rs), member(rs), any::<bool>()).prop_map(|(text, (k, v), replace)| {
            let body = text.trim_start_matches('{').trim_end_matches('}');
            let mut members: Vec<String> = body.split(',').map(str::to_owned).collect();
            let odd = if replace {
                match members.first().and_then(|m| m.split_once(':')) {
                    Some((key, _)) => format!("{key}:{v}"),
                    None => format!("{k}:{v}"),
                }
            } else {
                format!("{k}:{v}")
            };
            if replace && !members.is_empty() {
                members.remove(0);
            }
            members.push(odd);
            format!("{{{}}}", members.join(","))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// One odd member in a valid record: the fast path agrees with serde_json.
        #[test]
        fn fast_path_equals_serde_on_one_odd_member(
            d in almost_valid_record(&Ruleset::default_ruleset().unwrap()),
            six in almost_valid_record(&Ruleset::from_yaml(SIX_LEVELS).unwrap()),
        ) {
            for (rs, text) in [
                (Ruleset::default_ruleset().unwrap(), &d),
                (Ruleset::from_yaml(SIX_LEVELS).unwrap(), &six),
            ] {
                for id_field in [Some("id"), None] {
                    prop_assert_eq!(read(&rs, text, id_field, false), read(&rs, text, id_field, true), "{}", text);
                }
            }
        }

        /// On records of valid answers the fast path is taken and agrees with serde_json.
        #[test]
        fn fast_path_takes_valid_records(
            d in valid_record(&Ruleset::default_ruleset().unwrap()),
            six in valid_record(&Ruleset::from_yaml(SIX_LEVELS).unwrap()),
        ) {
            for (rs, text) in [
                (Ruleset::default_ruleset().unwrap(), &d),
                (Ruleset::from_yaml(SIX_LEVELS).unwrap(), &six),
            ] {
                let mut answers = Answers::new(&rs);
                let mut id = None;
                prop_assert!(crate::flat_record::read(&mut answers, text, Some("id"), &mut id).is_some(), "{}", text);
                let fast = read(&rs, text, Some("id"), false);
                prop_assert_eq!(&fast, &read(&rs, text, Some("id"), true), "{}", text);
                prop_assert!(fast.3.is_ok());
            }
        }

        /// The fast path gives exactly what serde_json alone gives, on records valid
        /// and not, for a ruleset of ordinal and boolean questions and one with
        /// integer questions, with and without an id field.
        #[test]
        fn fast_path_equals_serde_default(text in record(&Ruleset::default_ruleset().unwrap())) {
            let rs = Ruleset::default_ruleset().unwrap();
            for id_field in [Some("id"), None] {
                prop_assert_eq!(read(&rs, &text, id_field, false), read(&rs, &text, id_field, true), "{}", text);
            }
        }

        #[test]
        fn fast_path_equals_serde_integers(text in record(&Ruleset::from_yaml(SIX_LEVELS).unwrap())) {
            let rs = Ruleset::from_yaml(SIX_LEVELS).unwrap();
            for id_field in [Some("id"), None] {
                prop_assert_eq!(read(&rs, &text, id_field, false), read(&rs, &text, id_field, true), "{}", text);
            }
        }
    }

    /// The fast path does take the ordinary record: every valid record of the example
    /// corpus, each with the result serde_json gives.
    #[test]
    fn fast_path_takes_the_example_records() {
        let rs = Ruleset::default_ruleset().unwrap();
        let mut taken = 0;
        for line in include_str!("../../../examples/cases/people.jsonl").lines() {
            let mut answers = Answers::new(&rs);
            let mut id = None;
            if crate::flat_record::read(&mut answers, line, Some("id"), &mut id).is_some() {
                taken += 1;
                let (values, answered, id_slow, result) = read(&rs, line, Some("id"), true);
                assert_eq!(result, Ok(()), "{line}");
                assert_eq!(
                    (answers.values, answers.answered, id),
                    (values, answered, id_slow)
                );
            }
        }
        assert!(taken >= 30, "{taken}");
    }
}
