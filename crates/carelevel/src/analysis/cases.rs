//! Real cases under two rulesets: who moves, whose flags and review change.
//!
//! The whole-space [`diff`](super::diff) counts answer-set classes; a corpus of real
//! cases says how many people each transition moves, and which ones. [`CaseTally`]
//! assesses one case at a time under OLD and NEW and keeps only what a report needs:
//! the count per (OLD level, NEW level) pair, at most [`MAX_LISTED_ERRORS`] case
//! errors, and the id (or line) of every case whose level, flags or review status
//! changes — lists that grow with the number of people who move, not with the number
//! of cases. Reading the cases (files, Python iterables) is the caller's job; the CLI
//! and the Python binding feed the same tally, so they report the same thing.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use super::diff::{DiffReport, Direction};
use crate::text::Shown;
use crate::{EvalError, Ruleset};

/// The most case errors listed in a report; the rest are counted.
pub const MAX_LISTED_ERRORS: usize = 1000;

/// The level id a case gets when a required answer is missing and the ruleset
/// refuses to recommend.
pub const REFUSED: &str = "refused";

/// A case that could not be assessed under one of the rulesets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseError {
    /// Its line (JSON Lines, CSV) or position (a list), 1-based.
    pub line: u64,
    /// Its id, when it has one.
    pub id: Option<String>,
    /// Why it could not be assessed, prefixed by the ruleset (`OLD: ` or `NEW: `).
    #[serde(rename = "error")]
    pub message: String,
}

/// A case as reports name it: its id, or its line when it has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRef {
    /// Its line (JSON Lines, CSV) or position (a list), 1-based.
    pub line: u64,
    /// Its id (the id field or column), when it has one.
    pub id: Option<String>,
}

impl fmt::Display for CaseRef {
    /// The id (escaped and capped: it comes from the cases), or `line N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{}", Shown::excerpt(id)),
            None => write!(f, "line {}", self.line),
        }
    }
}

/// The cases that move from one level to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MovedCases {
    /// Escalation, de-escalation or not comparable.
    pub direction: Direction,
    /// The cases, in input order.
    pub cases: Vec<CaseRef>,
}

/// The cases whose flag (or review status) changes under NEW.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct FlagCases {
    /// Cases the flag newly fires for (newly need review).
    pub gained: Vec<CaseRef>,
    /// Cases the flag no longer fires for (no longer need review).
    pub lost: Vec<CaseRef>,
}

/// The direction of a move from level `from` to level `to` (ids, or [`REFUSED`]), as
/// the whole-space diff orders them: by NEW's levels when NEW has both, else by OLD's.
pub fn direction(old: &Ruleset, new: &Ruleset, from: &str, to: &str) -> Direction {
    match (
        new.level_index(from),
        new.level_index(to),
        old.level_index(from),
        old.level_index(to),
    ) {
        (Some(x), Some(y), _, _) | (_, _, Some(x), Some(y)) => {
            if y > x {
                Direction::Escalation
            } else {
                Direction::DeEscalation
            }
        }
        _ => Direction::Incomparable,
    }
}

/// What a corpus of cases came to under OLD and NEW.
#[derive(Debug, Default, Clone)]
pub struct CaseTally {
    /// The field or column holding each case's id.
    pub id_field: String,
    /// Cases per (OLD level, NEW level); [`REFUSED`] for a missing required answer.
    pub pairs: BTreeMap<(String, String), u64>,
    /// The cases that change level, per (OLD level, NEW level), in input order.
    pub moved: BTreeMap<(String, String), MovedCases>,
    /// The cases whose flags change, per flag id (flags are matched by id).
    pub flags: BTreeMap<String, FlagCases>,
    /// The cases that newly need review / no longer need review.
    pub review: FlagCases,
    /// The first [`MAX_LISTED_ERRORS`] cases that could not be assessed.
    pub errors: Vec<CaseError>,
    /// Cases that could not be assessed beyond those listed.
    pub unlisted_errors: u64,
    /// Answers to questions only the other ruleset asks, ignored by OLD and by NEW.
    pub ignored: [u64; 2],
}

/// One case under one ruleset: its level id (or [`REFUSED`]), the flags that fire
/// and whether it needs review. A refused case fires no flag and needs no review, as
/// in the whole-space diff.
struct Outcome {
    level: String,
    flags: Vec<String>,
    review: bool,
}

impl CaseTally {
    /// No case yet, each to be named by the field `id_field`.
    pub fn new(id_field: &str) -> CaseTally {
        CaseTally {
            id_field: id_field.to_owned(),
            ..CaseTally::default()
        }
    }

    /// Every case that could not be assessed, listed or not.
    pub fn error_count(&self) -> u64 {
        self.errors.len() as u64 + self.unlisted_errors
    }

    /// Record a case that could not be read or assessed (listed while fewer than
    /// [`MAX_LISTED_ERRORS`] are, else counted).
    pub fn add_error(&mut self, error: CaseError) {
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(error);
        } else {
            self.unlisted_errors += 1;
        }
    }

    /// Assess one case (at `line`: its line or 1-based position) under both rulesets.
    /// Each ruleset reads the questions it asks and answers to questions neither asks
    /// (so that they are reported as errors); answers to questions only the other
    /// ruleset asks are counted in [`ignored`](Self::ignored), never silently dropped.
    pub fn add(&mut self, old: &Ruleset, new: &Ruleset, line: u64, record: &Map<String, Value>) {
        let id = record.get(&self.id_field).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let mut outcomes = Vec::with_capacity(2);
        for (r, rs) in [old, new].into_iter().enumerate() {
            let mut own = Map::new();
            for (k, v) in record {
                if *k == self.id_field {
                    continue;
                }
                if rs.factor_index(k).is_some()
                    || old.factor_index(k).is_none() && new.factor_index(k).is_none()
                {
                    own.insert(k.clone(), v.clone());
                } else if let Some(n) = self.ignored.get_mut(r) {
                    *n += 1;
                }
            }
            match outcome(rs, &Value::Object(own).to_string()) {
                Ok(o) => outcomes.push(o),
                Err(e) => {
                    let which = if r == 0 { "OLD" } else { "NEW" };
                    self.add_error(CaseError {
                        line,
                        id,
                        message: format!("{which}: {e}"),
                    });
                    return;
                }
            }
        }
        let [a, b] = outcomes.as_slice() else {
            return;
        };
        self.count(old, new, CaseRef { line, id }, a, b);
    }

    /// Count one assessed case and list it where it changes.
    fn count(&mut self, old: &Ruleset, new: &Ruleset, case: CaseRef, a: &Outcome, b: &Outcome) {
        let pair = (a.level.clone(), b.level.clone());
        if a.level != b.level {
            self.moved
                .entry(pair.clone())
                .or_insert_with(|| MovedCases {
                    direction: direction(old, new, &a.level, &b.level),
                    cases: Vec::new(),
                })
                .cases
                .push(case.clone());
        }
        *self.pairs.entry(pair).or_default() += 1;
        for f in b.flags.iter().filter(|f| !a.flags.contains(f)) {
            let entry = self.flags.entry(f.clone()).or_default();
            entry.gained.push(case.clone());
        }
        for f in a.flags.iter().filter(|f| !b.flags.contains(f)) {
            let entry = self.flags.entry(f.clone()).or_default();
            entry.lost.push(case.clone());
        }
        match (a.review, b.review) {
            (false, true) => self.review.gained.push(case),
            (true, false) => self.review.lost.push(case),
            _ => {}
        }
    }

    /// Add the tally to a whole-space report: a note per ruleset that ignored answers
    /// to questions only the other asks, and the `case_matrix` of assessed cases.
    pub fn apply_to(&self, report: &mut DiffReport) {
        for (r, n) in self.ignored.iter().enumerate() {
            if *n > 0 {
                report.notes.push(format!(
                    "{n} answers in the cases are to questions only {} asks; {} ignores them",
                    if r == 0 { "NEW" } else { "OLD" },
                    if r == 0 { "OLD" } else { "NEW" }
                ));
            }
        }
        report.add_cases(self.pairs.iter().flat_map(|((a, b), &n)| {
            std::iter::repeat_n(
                (a.as_str(), b.as_str()),
                usize::try_from(n).unwrap_or(usize::MAX),
            )
        }));
    }

    /// The moved cases in `report`'s order of levels (OLD level, then NEW level).
    pub fn moved_in_order<'c>(
        &'c self,
        report: &DiffReport,
    ) -> Vec<(&'c (String, String), &'c MovedCases)> {
        let rank = |id: &str| {
            report
                .levels
                .iter()
                .position(|l| l.id == id)
                .unwrap_or(usize::MAX)
        };
        let mut moved: Vec<_> = self.moved.iter().collect();
        moved.sort_by_key(|((from, to), _)| (rank(from), rank(to)));
        moved
    }

    /// Every changed case, uncapped: `{id_field, moved, flags, review}`, the
    /// `case_changes` member of `carelevel diff --cases --format json`.
    pub fn changes_json(&self, report: &DiffReport) -> Value {
        let moved: Vec<Value> = self
            .moved_in_order(report)
            .into_iter()
            .map(|((from, to), m)| {
                serde_json::json!({"from": from, "to": to, "direction": m.direction, "cases": m.cases})
            })
            .collect();
        let flags: Vec<Value> = self
            .flags
            .iter()
            .map(|(flag, f)| serde_json::json!({"flag": flag, "gained": f.gained, "lost": f.lost}))
            .collect();
        serde_json::json!({
            "id_field": self.id_field,
            "moved": moved,
            "flags": flags,
            "review": {"gained": self.review.gained, "lost": self.review.lost},
        })
    }
}

/// The JSON document of `carelevel diff --format json` (and `carelevel.diff` in
/// Python): the report, `case_errors` (always, empty without cases),
/// `case_errors_unlisted` when more errors were counted than listed, `case_changes`
/// when cases were given, and the `summary` line.
pub fn diff_json(report: &DiffReport, cases: Option<&CaseTally>) -> Result<Value, String> {
    let mut value =
        serde_json::to_value(report).map_err(|e| format!("cannot serialize the report: {e}"))?;
    if let Some(obj) = value.as_object_mut() {
        let errors = cases.map(|c| c.errors.as_slice()).unwrap_or_default();
        let errors = serde_json::to_value(errors)
            .map_err(|e| format!("cannot serialize case errors: {e}"))?;
        obj.insert("case_errors".to_owned(), errors);
        if let Some(c) = cases {
            if c.unlisted_errors > 0 {
                obj.insert(
                    "case_errors_unlisted".to_owned(),
                    Value::from(c.unlisted_errors),
                );
            }
            obj.insert("case_changes".to_owned(), c.changes_json(report));
        }
        obj.insert("summary".to_owned(), Value::String(report.summary()));
    }
    Ok(value)
}

/// One case's outcome under `rs`, from its answers as a JSON object.
fn outcome(rs: &Ruleset, json: &str) -> Result<Outcome, String> {
    let answers = rs.answers_from_json(json).map_err(|e| e.to_string())?;
    match rs.assess(&answers) {
        Ok(x) => Ok(Outcome {
            level: x.level.id.into_owned(),
            flags: x.flags.into_iter().map(|f| f.id.into_owned()).collect(),
            review: x.needs_review,
        }),
        Err(EvalError::MissingRequired { .. }) => Ok(Outcome {
            level: REFUSED.to_owned(),
            flags: Vec::new(),
            review: false,
        }),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_rules() -> Ruleset {
        let text = include_str!("../../../../rules/default.yaml");
        match Ruleset::from_yaml(text) {
            Ok(r) => r,
            Err(e) => unreachable!("the default ruleset compiles: {e}"),
        }
    }

    fn record(json: &str) -> Map<String, Value> {
        match serde_json::from_str(json) {
            Ok(Value::Object(m)) => m,
            other => unreachable!("a test record is an object: {other:?}"),
        }
    }

    #[test]
    fn an_unchanged_case_is_counted_but_not_listed() {
        let rs = default_rules();
        let mut t = CaseTally::new("id");
        let case = r#"{"id": "p001", "severity": "none", "withdrawal_risk": "none",
            "medical": "stable", "housing": "stable", "support": "limited",
            "harm_risk": "none", "mental_health": "none", "readiness": "ambivalent",
            "step_down_from_inpatient": true}"#;
        t.add(&rs, &rs, 1, &record(case));
        assert!(t.moved.is_empty() && t.flags.is_empty(), "{t:?}");
        assert_eq!(
            (t.pairs.values().sum::<u64>(), t.error_count()),
            (1, 0),
            "{t:?}"
        );
    }

    #[test]
    fn an_unknown_question_is_a_case_error_naming_the_line_and_id() {
        let rs = default_rules();
        let mut t = CaseTally::new("id");
        t.add(&rs, &rs, 7, &record(r#"{"id": 42, "no_such_question": 1}"#));
        let [e] = t.errors.as_slice() else {
            unreachable!("one error: {t:?}")
        };
        assert_eq!((e.line, e.id.as_deref()), (7, Some("42")));
        assert!(e.message.starts_with("OLD: "), "{}", e.message);
        assert!(t.pairs.is_empty());
    }

    #[test]
    fn errors_beyond_the_cap_are_counted() {
        let mut t = CaseTally::new("id");
        for line in 0..(MAX_LISTED_ERRORS as u64 + 3) {
            t.add_error(CaseError {
                line,
                id: None,
                message: String::new(),
            });
        }
        assert_eq!(t.errors.len(), MAX_LISTED_ERRORS);
        assert_eq!((t.unlisted_errors, t.error_count()), (3, 1003));
    }
}
