//! Answers to a ruleset's questions, checked against the ruleset as they are set.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::compile::{did_you_mean, encode_answer};
use crate::error::{AnswerProblem, AnswersError, Location};
use crate::model::{FactorIndex, FactorKind, MissingPolicy, Ruleset};
use crate::syntax::{self, OrderedMap, RawAnswer, RawScalar};

/// One answer as a person or program gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A boolean answer.
    Boolean(bool),
    /// A whole-number answer.
    Integer(i64),
    /// A value of an ordinal scale, e.g. `moderate`.
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Text(t) => f.write_str(t),
        }
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}

impl From<&Value> for RawScalar {
    fn from(v: &Value) -> Self {
        match v {
            Value::Boolean(b) => RawScalar::Boolean(*b),
            Value::Integer(i) => RawScalar::Integer(*i),
            Value::Text(t) => RawScalar::Text(t.clone()),
        }
    }
}

/// Answers for one person, bound to the ruleset that checked them.
///
/// Values are stored as integer codes by factor index; a factor whose policy is
/// `assume` starts out holding its assumed value (reported as assumed until answered).
#[derive(Debug, Clone)]
pub struct Answers<'r> {
    pub(crate) ruleset: &'r Ruleset,
    pub(crate) values: Vec<i64>,
    pub(crate) answered: Vec<bool>,
}

impl<'r> Answers<'r> {
    /// No answers yet.
    pub fn new(ruleset: &'r Ruleset) -> Self {
        Answers {
            ruleset,
            values: ruleset.initial_values.clone(),
            answered: vec![false; ruleset.factors.len()],
        }
    }

    /// The ruleset these answers belong to.
    pub fn ruleset(&self) -> &'r Ruleset {
        self.ruleset
    }

    fn index(&self, factor: &str) -> Result<FactorIndex, AnswersError> {
        self.ruleset.factor_index(factor).ok_or_else(|| {
            AnswersError::one(Some(factor), unknown_factor_message(self.ruleset, factor))
        })
    }

    /// Set one answer, checked against the factor's kind and scale.
    pub fn set(
        &mut self,
        factor: &str,
        value: impl Into<Value>,
    ) -> Result<&mut Self, AnswersError> {
        let index = self.index(factor)?;
        let value = value.into();
        if let Value::Text(text) = &value {
            if let Some(code) = self.ruleset.ordinal_code(index, text) {
                self.put(index, code);
                return Ok(self);
            }
        }
        self.set_raw(index, &RawScalar::from(&value))
            .map_err(|message| AnswersError::one(Some(factor), message))?;
        Ok(self)
    }

    /// Set one answer given as text (`moderate`, `12`, `true`), as on a command line or
    /// in a CSV cell. A boolean answer may be written in any case as `true`/`false`,
    /// `yes`/`no` or `1`/`0` (spreadsheets export `TRUE`/`FALSE`).
    ///
    /// A valid answer is set without allocating or copying: the factor and an ordinal
    /// value are each found in a hash table built when the ruleset was compiled (the
    /// `no_alloc` test keeps this true). Only a problem's message allocates.
    #[inline]
    pub fn set_text(&mut self, factor: &str, text: &str) -> Result<&mut Self, AnswersError> {
        if let Some((index, code)) = self.ruleset.answer_code(factor, text) {
            self.put(index, code);
            return Ok(self);
        }
        if let Some(index) = self.ruleset.factor_index(factor) {
            if let Some(code) = self.ruleset.code_of_text(index, text) {
                self.put(index, code);
                return Ok(self);
            }
        }
        self.set_text_slow(factor, text)
    }

    /// [`Answers::set_text`] for a text that is not a valid answer as written (a
    /// boolean in another spelling, an unknown question or value): the checked path,
    /// with the messages of [`Answers::set`].
    #[cold]
    fn set_text_slow(&mut self, factor: &str, text: &str) -> Result<&mut Self, AnswersError> {
        let index = self.index(factor)?;
        let Some(f) = self.ruleset.factors.get(index) else {
            return Err(AnswersError::one(
                Some(factor),
                format!("no factor #{index}"),
            ));
        };
        let raw = match &f.kind {
            FactorKind::Integer { .. } => match text.trim().parse::<i64>() {
                Ok(i) => RawScalar::Integer(i),
                Err(_) => RawScalar::Text(text.to_owned()),
            },
            FactorKind::Boolean => match boolean_from_text(text) {
                Some(b) => RawScalar::Boolean(b),
                None => RawScalar::Text(text.to_owned()),
            },
            FactorKind::Ordinal { .. } => RawScalar::Text(text.to_owned()),
        };
        self.set_raw(index, &raw)
            .map_err(|message| AnswersError::one(Some(factor), message))?;
        Ok(self)
    }

    /// Forget one answer: it becomes missing again.
    pub fn clear(&mut self, factor: &str) -> Result<&mut Self, AnswersError> {
        let index = self.index(factor)?;
        if let (Some(a), Some(v), Some(f)) = (
            self.answered.get_mut(index),
            self.values.get_mut(index),
            self.ruleset.factors.get(index),
        ) {
            *a = false;
            *v = match f.missing {
                MissingPolicy::Assume(code) => code,
                _ => 0,
            };
        }
        Ok(self)
    }

    /// Forget every answer, keeping the storage: the answers are as new, and can be
    /// filled again without allocating (one [`Answers`] per thread, reused per record).
    pub fn reset(&mut self) -> &mut Self {
        let initial = &self.ruleset.initial_values;
        if self.values.len() == initial.len() {
            self.values.copy_from_slice(initial);
        }
        self.answered.fill(false);
        self
    }

    /// Store a checked value code for the factor at `index`.
    #[inline]
    pub(crate) fn put(&mut self, index: FactorIndex, code: i64) {
        if let (Some(v), Some(a)) = (self.values.get_mut(index), self.answered.get_mut(index)) {
            *v = code;
            *a = true;
        }
    }

    pub(crate) fn set_raw(&mut self, index: FactorIndex, raw: &RawScalar) -> Result<(), String> {
        let factor = self
            .ruleset
            .factors
            .get(index)
            .ok_or_else(|| format!("no factor #{index}"))?;
        let code = encode_answer(factor, raw)?;
        if let (Some(v), Some(a)) = (self.values.get_mut(index), self.answered.get_mut(index)) {
            *v = code;
            *a = true;
        }
        Ok(())
    }

    /// Set the answer of the factor at `index` to a value code from
    /// [`Factor::encode`](crate::Factor::encode): the columnar entry point, where a
    /// column's distinct values are encoded once and rows are then set by code.
    /// A code outside the factor's scale is refused with the same message as the value.
    pub fn set_code(&mut self, index: FactorIndex, code: i64) -> Result<&mut Self, AnswersError> {
        let factor = self.ruleset.factors.get(index).ok_or_else(|| {
            AnswersError::one(None, format!("no question #{index} in this ruleset"))
        })?;
        let valid = match &factor.kind {
            FactorKind::Ordinal { values } => usize::try_from(code).is_ok_and(|i| i < values.len()),
            FactorKind::Integer { min, max, .. } => (*min..=*max).contains(&code),
            FactorKind::Boolean => code == 0 || code == 1,
        };
        if !valid {
            return Err(AnswersError::one(
                Some(&factor.id),
                format!("{code} is not a value code of this question"),
            ));
        }
        if let (Some(v), Some(a)) = (self.values.get_mut(index), self.answered.get_mut(index)) {
            *v = code;
            *a = true;
        }
        Ok(self)
    }

    /// Forget the answer of the factor at `index` (see [`Answers::clear`]).
    pub fn clear_index(&mut self, index: FactorIndex) -> &mut Self {
        if let (Some(a), Some(v), Some(f)) = (
            self.answered.get_mut(index),
            self.values.get_mut(index),
            self.ruleset.factors.get(index),
        ) {
            *a = false;
            *v = match f.missing {
                MissingPolicy::Assume(code) => code,
                _ => 0,
            };
        }
        self
    }

    /// Set the answer of the factor at `index` (for the analysis, which works by index).
    pub(crate) fn set_index(&mut self, index: FactorIndex, value: &Value) -> Result<(), String> {
        self.set_raw(index, &RawScalar::from(value))
    }

    /// The answer given for `factor`, if any (assumed values are not answers).
    pub fn get(&self, factor: &str) -> Option<Value> {
        let index = self.ruleset.factor_index(factor)?;
        if !self.answered.get(index).copied().unwrap_or(false) {
            return None;
        }
        let f = self.ruleset.factors.get(index)?;
        let code = self.values.get(index).copied()?;
        Some(f.value_of(code))
    }

    /// Whether `factor` was answered.
    pub fn is_answered(&self, factor: &str) -> bool {
        self.ruleset
            .factor_index(factor)
            .and_then(|i| self.answered.get(i).copied())
            .unwrap_or(false)
    }

    /// Set every answer of a parsed map, collecting every problem.
    pub(crate) fn from_raw_map(
        ruleset: &'r Ruleset,
        map: OrderedMap<String, RawAnswer>,
    ) -> Result<Self, AnswersError> {
        Self::from_raw_map_located(ruleset, map, &|_| None)
    }

    /// [`Answers::from_raw_map`], each problem placed at `locate(key)` in its file.
    pub(crate) fn from_raw_map_located(
        ruleset: &'r Ruleset,
        map: OrderedMap<String, RawAnswer>,
        locate: &dyn Fn(&str) -> Option<Location>,
    ) -> Result<Self, AnswersError> {
        let mut answers = Answers::new(ruleset);
        let mut problems = Vec::new();
        for (key, raw) in map.0 {
            let before = problems.len();
            Self::set_entry(&mut answers, &mut problems, &key, raw);
            if problems.len() > before {
                let location = locate(&key);
                for p in problems.iter_mut().skip(before) {
                    p.location = location;
                }
            }
        }
        if problems.is_empty() {
            Ok(answers)
        } else {
            Err(AnswersError { problems })
        }
    }

    /// Set one answer of a parsed map, or push its problem.
    fn set_entry(
        answers: &mut Answers<'r>,
        problems: &mut Vec<AnswerProblem>,
        key: &str,
        raw: RawAnswer,
    ) {
        let ruleset = answers.ruleset;
        let Some(index) = ruleset.factor_index(key) else {
            problems.push(AnswerProblem::new(
                Some(key),
                unknown_factor_message(ruleset, key),
            ));
            return;
        };
        match raw {
            RawAnswer::Null => {}
            RawAnswer::Scalar(s) => {
                if let Err(message) = answers.set_raw(index, &s) {
                    problems.push(AnswerProblem::new(Some(key), message));
                }
            }
            RawAnswer::Invalid(what) => {
                let allowed = ruleset
                    .factors
                    .get(index)
                    .map(|f| f.allowed_answers())
                    .unwrap_or_default();
                problems.push(AnswerProblem::new(
                    Some(key),
                    format!("expected one value ({allowed}), got {what}"),
                ));
            }
        }
    }
}

impl crate::model::Factor {
    /// The value code of one answer, checked as [`Answers::set`] checks it (same
    /// messages, without the factor's name).
    pub fn encode(&self, value: &Value) -> Result<i64, String> {
        encode_answer(self, &RawScalar::from(value))
    }
}

pub(crate) fn unknown_factor_message(ruleset: &Ruleset, factor: &str) -> String {
    let names: Vec<&str> = ruleset.factors.iter().map(|f| f.id.as_str()).collect();
    format!(
        "unknown question{}; this ruleset asks: {}",
        did_you_mean(factor, &names),
        names.join(", ")
    )
}

impl Ruleset {
    /// The value code of `text` as an answer to the factor at `index`, when it is a
    /// valid answer as written: an ordinal value exactly, a whole number in range
    /// (surrounding spaces allowed), a boolean as `true`/`false`, `yes`/`no` or
    /// `1`/`0` in any case. `None` sends the caller to the checked path.
    #[inline]
    pub(crate) fn code_of_text(&self, index: FactorIndex, text: &str) -> Option<i64> {
        match &self.factors.get(index)?.kind {
            FactorKind::Ordinal { .. } => self.ordinal_code(index, text),
            FactorKind::Integer { min, max, .. } => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|i| (*min..=*max).contains(i)),
            FactorKind::Boolean => boolean_from_text(text).map(i64::from),
        }
    }

    /// An empty set of answers for this ruleset.
    pub fn new_answers(&self) -> Answers<'_> {
        Answers::new(self)
    }

    /// Read answers from a JSON object such as `{"severity": "moderate", "ciwa": 12}`.
    /// `null` means "not answered". Every problem is reported, each naming its factor.
    /// Each problem with one answer carries the line and column of its key.
    pub fn answers_from_json(&self, text: &str) -> Result<Answers<'_>, AnswersError> {
        let map = syntax::parse_answers_json(text).map_err(|m| AnswersError::one(None, m))?;
        // Indexed once: a file of 100,000 unknown keys must stay fast.
        let mut keys = std::collections::HashMap::new();
        for (key, location) in syntax::json_key_locations(text) {
            keys.entry(key).or_insert(location);
        }
        Answers::from_raw_map_located(self, map, &|key| keys.get(key).copied())
    }

    /// Read answers from a YAML mapping (same rules as [`Ruleset::answers_from_json`]).
    pub fn answers_from_yaml(&self, text: &str) -> Result<Answers<'_>, AnswersError> {
        let map = syntax::parse_answers_yaml(text).map_err(|m| AnswersError::one(None, m))?;
        let locator = syntax::Locator::new(text);
        Answers::from_raw_map_located(self, map, &|key| locator.get(key))
    }

    /// Build answers from `(factor, value)` pairs, reporting every problem.
    pub fn answers_from_pairs<'a, I, V>(&self, pairs: I) -> Result<Answers<'_>, AnswersError>
    where
        I: IntoIterator<Item = (&'a str, V)>,
        V: Into<Value>,
    {
        let mut answers = Answers::new(self);
        let mut problems = Vec::new();
        for (factor, value) in pairs {
            if let Err(e) = answers.set(factor, value) {
                problems.extend(e.problems);
            }
        }
        if problems.is_empty() {
            Ok(answers)
        } else {
            Err(AnswersError { problems })
        }
    }
}

/// Spellings of a boolean answer found by one lookup as written, with their codes:
/// the ones spreadsheets and forms export. Every other spelling
/// [`boolean_from_text`] accepts still works, on the checked path.
pub(crate) const BOOLEAN_SPELLINGS: [(&str, u64); 14] = [
    ("true", 1),
    ("false", 0),
    ("True", 1),
    ("False", 0),
    ("TRUE", 1),
    ("FALSE", 0),
    ("yes", 1),
    ("no", 0),
    ("Yes", 1),
    ("No", 0),
    ("YES", 1),
    ("NO", 0),
    ("1", 1),
    ("0", 0),
];

/// The boolean a text answer spells, case-insensitively: `true`/`false`, `yes`/`no`,
/// `1`/`0` (surrounding spaces ignored). Anything else is not a boolean.
fn boolean_from_text(text: &str) -> Option<bool> {
    let t = text.trim();
    let is = |word: &str| t.eq_ignore_ascii_case(word);
    if is("true") || is("yes") || t == "1" {
        Some(true)
    } else if is("false") || is("no") || t == "0" {
        Some(false)
    } else {
        None
    }
}

/// A record identifier carried from input to output (`id` field or column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordId {
    /// A numeric id.
    Integer(i64),
    /// A textual id.
    Text(String),
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordId::Integer(i) => write!(f, "{i}"),
            RecordId::Text(t) => f.write_str(t),
        }
    }
}

#[cfg(test)]
mod message_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use crate::{Ruleset, Value};

    fn ruleset() -> Ruleset {
        Ruleset::from_yaml(
            "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n  - {id: n, question: q, kind: integer, min: 0, max: 100}\nrules:\n  - {id: r, level: high, because: b, when: {n: {at_least: 5}}}\n",
        )
        .unwrap()
    }

    #[test]
    fn problems_in_answer_files_carry_the_line_and_column_of_their_key() {
        use crate::error::Location;
        let rs = ruleset();
        let at = |line, column| Some(Location { line, column });
        let e = rs
            .answers_from_yaml("# comment\nn: 500\nzz: 1\n")
            .unwrap_err();
        let places: Vec<_> = e.problems.iter().map(|p| p.location).collect();
        assert_eq!(places, [at(2, 1), at(3, 1)]);
        let e = rs
            .answers_from_json("{\n  \"zz\": 1,\n  \"n\": \"x\"\n}")
            .unwrap_err();
        let places: Vec<_> = e.problems.iter().map(|p| p.location).collect();
        assert_eq!(places, [at(2, 3), at(3, 3)]);
        // The display is unchanged; the JSON form has the location.
        assert!(e.problems[0]
            .to_string()
            .starts_with("`zz`: unknown question"));
        let json = serde_json::to_value(&e.problems[0]).unwrap();
        assert_eq!(
            json["location"],
            serde_json::json!({"line": 2, "column": 3})
        );
        // Answers not from a file have none.
        let mut answers = rs.new_answers();
        let e = answers.set_text("zz", "1").unwrap_err();
        assert_eq!(e.problems[0].location, None);
        assert!(serde_json::to_value(&e.problems[0])
            .unwrap()
            .get("location")
            .is_none());
    }

    fn file_error(text: &str) -> String {
        ruleset().answers_from_json(text).unwrap_err().to_string()
    }

    fn record_error(text: &str) -> String {
        let rs = ruleset();
        let (e, _) = rs.answers_from_json_record(text, Some("id")).unwrap_err();
        e.to_string()
    }

    #[test]
    fn json_minus_zero_is_the_whole_number_zero() {
        let rs = ruleset();
        let a = rs.answers_from_json(r#"{"n": -0}"#).unwrap();
        assert_eq!(a.get("n"), Some(Value::Integer(0)));
        let (a, _) = rs.answers_from_json_record(r#"{"n": -0}"#, None).unwrap();
        assert_eq!(a.get("n"), Some(Value::Integer(0)));
        // Other decimals are still refused.
        assert!(file_error(r#"{"n": 0.0}"#).contains("without a decimal point"));
    }

    #[test]
    fn a_quoted_number_is_called_text_with_the_fix() {
        let e = file_error(r#"{"n": "12"}"#);
        assert!(
            e.contains(r#"got the text "12" (write 12 without quotes)"#),
            "{e}"
        );
        let e = record_error(r#"{"n": "12"}"#);
        assert!(e.contains(r#"got the text "12""#), "{e}");
        // Text that is not a number is quoted as before.
        assert!(file_error(r#"{"n": "twelve"}"#).contains("got `twelve`"));
    }

    #[test]
    fn integers_beyond_i64_are_too_large_not_fractions() {
        let e = record_error(r#"{"id": 9223372036854775808, "n": 1}"#);
        assert!(
            e.contains("a record id number is too large: at most 9223372036854775807"),
            "{e}"
        );
        let e = record_error(r#"{"id": 99999999999999999999, "n": 1}"#);
        assert!(e.contains("too large: at most 9223372036854775807"), "{e}");
        let e = record_error(r#"{"id": 1.5, "n": 1}"#);
        assert!(
            e.contains("must be text or a whole number, got the number 1.5"),
            "{e}"
        );
        // Answers given as text (CSV, `key=value`) beyond 64 bits.
        let rs = ruleset();
        let e = rs
            .answers_from_pairs([("n", "99999999999999999999")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large: at most 9223372036854775807"), "{e}");
        assert!(!e.contains("whole number, got `"), "{e}");
    }

    #[test]
    fn json_top_level_type_errors_name_the_first_character_counted_from_1() {
        // serde_json places these before `[` / `{` but after a scalar; both are 1-based here.
        for (text, column) in [("[1]", 1), ("   [1]", 4), ("true", 1), ("  12345", 3)] {
            let e = record_error(text);
            assert!(
                e.contains(&format!("at line 1 column {column}")),
                "{text}: {e}"
            );
        }
        assert!(record_error("[1]").contains("got an array"));
        // The other messages were already 1-based: `}` is the 10th character.
        assert!(record_error(r#"{"n": tru}"#).contains("column 10"));
        assert!(file_error(r#"{"n": tru}"#).contains("column 10"));
        assert!(file_error("{\"n\": 1,\n  \"x\": tru}").contains("line 2, column 11"));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The spellings looked up as written mean what the checked path reads them as.
    #[test]
    fn boolean_spellings_agree_with_boolean_from_text() {
        for (text, code) in BOOLEAN_SPELLINGS {
            assert_eq!(boolean_from_text(text).map(u64::from), Some(code), "{text}");
        }
        let rs = Ruleset::default_ruleset().unwrap();
        for text in ["tRuE", " yes", "no ", "y", "t", "2", ""] {
            let mut a = rs.new_answers();
            let fast = a.set_text("step_down_from_inpatient", text).is_ok();
            assert_eq!(fast, boolean_from_text(text).is_some(), "{text:?}");
        }
    }

    #[test]
    fn boolean_text_answers_accept_the_common_spellings_in_any_case() {
        let rs = Ruleset::default_ruleset().unwrap();
        let q = "step_down_from_inpatient";
        for (text, want) in [
            ("true", true),
            ("TRUE", true),
            (" True ", true),
            ("yes", true),
            ("YES", true),
            ("1", true),
            ("false", false),
            ("FALSE", false),
            ("No", false),
            ("0", false),
        ] {
            let mut a = rs.new_answers();
            a.set_text(q, text).unwrap();
            assert_eq!(a.get(q), Some(Value::Boolean(want)), "{text:?}");
        }
        for text in ["maybe", "y", "2", "", "truee"] {
            let e = rs.new_answers().set_text(q, text).unwrap_err().to_string();
            assert!(e.contains("expected true or false"), "{text:?}: {e}");
        }
    }

    #[test]
    fn encode_and_set_code_agree_with_set() {
        let rs = Ruleset::default_ruleset().unwrap();
        let i = rs.factor_index("harm_risk").unwrap();
        let f = &rs.factors()[i];
        let code = f.encode(&Value::from("high")).unwrap();
        let mut by_code = rs.new_answers();
        by_code.set_code(i, code).unwrap();
        let mut by_value = rs.new_answers();
        by_value.set("harm_risk", "high").unwrap();
        assert_eq!(by_code.values, by_value.values);
        assert_eq!(by_code.answered, by_value.answered);
        // Same message as `set`, without the factor prefix.
        let e = f.encode(&Value::from("extreme")).unwrap_err();
        let set_err = rs.new_answers().set("harm_risk", "extreme").unwrap_err();
        assert_eq!(set_err.problems[0].message, e);
        // Codes outside the scale are refused; clear_index forgets the answer.
        assert!(by_code.set_code(i, 5).is_err());
        assert!(by_code.set_code(i, -1).is_err());
        assert!(by_code.set_code(99, 0).is_err());
        by_code.clear_index(i);
        assert!(!by_code.is_answered("harm_risk"));
        let b = rs.factor_index("step_down_from_inpatient").unwrap();
        assert!(by_code.set_code(b, 2).is_err());
        by_code.set_code(b, 1).unwrap();
        assert_eq!(
            by_code.get("step_down_from_inpatient"),
            Some(Value::Boolean(true))
        );
        by_code.clear_index(b);
        assert_eq!(by_code.get("step_down_from_inpatient"), None);
    }
}
