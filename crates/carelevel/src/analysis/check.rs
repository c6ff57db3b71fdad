//! `check`: one ruleset over every complete answer set. The findings and their
//! wording are here; the facts they state come from the decision diagrams
//! ([`super::check_symbolic`]) or, as the reference and the fallback, from
//! enumerating every class ([`super::check_enum`]).

use serde::Serialize;

use super::check_symbolic::MAX_CHECK_DIAGRAM_WORK;
use super::*;
use crate::error::{Location, Severity};
use crate::eval::holds;
use crate::model::{FlagKind, Ruleset};

/// What a whole-space finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Answer sets that get the lowest level only because nothing fires.
    LowestByDefault,
    /// Raising one answer lowers the level.
    NotMonotone,
    /// A rule that never decides any answer set.
    RuleNeverDecides,
    /// A level no answer set gets.
    LevelUnreachable,
    /// A flag no answer set raises.
    FlagUnreachable,
    /// An invariant fails.
    InvariantFails,
    /// An invariant holds over the whole space.
    InvariantHolds,
    /// A question, rule or flag that names no dimension, in a ruleset that declares
    /// dimensions: it appears under none of them in the per-dimension justification.
    NoDimension,
}

/// One result of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Note, warning or error.
    pub severity: Severity,
    /// What it is about.
    pub kind: FindingKind,
    /// The rule, flag, level, factor or invariant concerned.
    pub subject: String,
    /// What was found, in words.
    pub message: String,
    /// Where the subject is declared.
    pub location: Option<Location>,
    /// A concrete answer set showing it.
    pub example: Option<AnswerSet>,
}

/// A number of answer sets: exact, or, past `u128::MAX`, only known to be more.
///
/// In JSON a count is a number when exact and at most `u64::MAX` (what every JSON
/// reader takes), else a string: its decimal digits, or `more than N` when past
/// `u128::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// The count, or `u128::MAX` when it is more than that.
    pub value: u128,
    /// Whether the count is exactly `value` (false: more than `value`).
    pub exact: bool,
}

impl Count {
    /// Exactly `value`.
    pub fn exact(value: u128) -> Count {
        Count { value, exact: true }
    }

    /// `Some(n)`: exactly `n`; `None` (an overflow): more than `u128::MAX`.
    pub fn from_checked(value: Option<u128>) -> Count {
        value.map_or(
            Count {
                value: u128::MAX,
                exact: false,
            },
            Count::exact,
        )
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.exact {
            write!(f, "{}", self.value)
        } else {
            write!(f, "more than {}", self.value)
        }
    }
}

impl Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match u64::try_from(self.value) {
            Ok(v) if self.exact => s.serialize_u64(v),
            _ => s.serialize_str(&self.to_string()),
        }
    }
}

/// How [`check`] computed its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckMethod {
    /// On decision diagrams, within [`MAX_CHECK_DIAGRAM_WORK`] (the default).
    Diagram,
    /// By evaluating every answer-set class (when the diagrams outgrew their budget
    /// and the space is within [`super::MAX_CLASSES`] and [`super::MAX_ANALYSIS_WORK`]).
    Enumeration,
}

/// The result of analysing one ruleset over its whole answer space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Number of complete answer-set classes (each integer class counted once).
    pub classes: Count,
    /// Number of complete answer combinations (each integer class counted by its
    /// number of values; ordinal and boolean answers are one class each).
    pub combinations: Count,
    /// How the report was computed.
    pub method: CheckMethod,
    /// Findings in a stable order: errors first, then warnings, then notes.
    pub findings: Vec<Finding>,
}

/// The answer sets at the lowest level only because no rule fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Defaulted {
    /// How many classes.
    pub(crate) classes: Count,
    /// How many complete answer combinations.
    pub(crate) combinations: Count,
    /// The first (class per factor, index order).
    pub(crate) first: Vec<usize>,
}

/// What `check` reports, computed by either method: every example is the first
/// class (class per factor, index order) in enumeration order with the property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Facts {
    pub(crate) method: CheckMethod,
    pub(crate) classes: Count,
    pub(crate) combinations: Count,
    /// Per level: whether some answer set gets it.
    pub(crate) level_reached: Vec<bool>,
    /// Per rule: whether it decides some answer set (fires, and the level is its own).
    pub(crate) rule_decides: Vec<bool>,
    /// Per rule that never decides: the first answer set where it fires (`None` for
    /// the others, whose finding has no example; the enumeration fills them anyway).
    pub(crate) rule_first_fires: Vec<Option<Vec<usize>>>,
    /// Per flag: whether it fires somewhere.
    pub(crate) flag_fires: Vec<bool>,
    /// The answer sets at the lowest level because nothing fires (never with scoring).
    pub(crate) default: Option<Defaulted>,
    /// Per invariant: the first answer set where it fails.
    pub(crate) first_violation: Vec<Option<Vec<usize>>>,
    /// Per factor: the first answer set where raising it by one class lowers the level.
    pub(crate) first_drop: Vec<Option<Vec<usize>>>,
}

/// Per factor of `space`, per class: its number of values (1 for ordinal and
/// boolean classes, the width of an integer class's interval).
pub(crate) fn widths(space: &Space) -> Vec<Vec<u128>> {
    space
        .factors
        .iter()
        .map(|f| {
            f.classes
                .iter()
                .map(|c| {
                    c.interval.map_or(1, |(lo, hi)| {
                        u128::try_from(i128::from(hi) - i128::from(lo) + 1).unwrap_or(0)
                    })
                })
                .collect()
        })
        .collect()
}

/// The number of complete answer-set classes of `space` and of complete answer
/// combinations.
pub(crate) fn totals(space: &Space) -> (Count, Count) {
    let classes = space
        .factors
        .iter()
        .try_fold(1u128, |acc, f| acc.checked_mul(f.classes.len() as u128));
    let combinations = widths(space).iter().try_fold(1u128, |acc, w| {
        acc.checked_mul(w.iter().try_fold(0u128, |a, &x| a.checked_add(x))?)
    });
    (
        Count::from_checked(classes),
        Count::from_checked(combinations),
    )
}

/// Analyse one ruleset over every complete answer set: completeness, monotonicity,
/// rules that never decide, unreachable levels and flags, and its invariants.
///
/// Computed on decision diagrams ([`CheckMethod::Diagram`]), exact whatever the
/// number of classes, within [`MAX_CHECK_DIAGRAM_WORK`]; past it by enumeration when
/// the space is small enough ([`CheckMethod::Enumeration`]), else refused with
/// [`AnalysisError::DiagramTooLarge`], which names the diagram that grew. Both
/// methods give the same findings and examples (a differential test keeps this true).
///
/// `strict` makes every warning an error: non-monotone rules, rules that never decide,
/// unreachable levels and unreachable flags. Notes (invariants proved, answer sets at
/// the lowest level only because nothing fires) stay notes.
pub fn check(rs: &Ruleset, strict: bool) -> Result<CheckReport, AnalysisError> {
    check_by(rs, strict, None, MAX_CHECK_DIAGRAM_WORK)
}

/// [`check`] by one method (`None`: diagrams, else enumeration past `budget`).
pub(crate) fn check_by(
    rs: &Ruleset,
    strict: bool,
    only: Option<CheckMethod>,
    budget: u64,
) -> Result<CheckReport, AnalysisError> {
    let space = Space::new(&[rs], false)?;
    let facts = match only {
        Some(CheckMethod::Enumeration) => check_enum::facts(rs, &space)?,
        Some(CheckMethod::Diagram) | None => match check_symbolic::facts(rs, &space, budget) {
            Ok(facts) => facts,
            Err(grew) if only.is_none() => {
                check_enum::facts(rs, &space).map_err(|e| AnalysisError::DiagramTooLarge {
                    what: grew.what.clone(),
                    limit: budget,
                    enumeration: e.to_string(),
                })?
            }
            Err(grew) => {
                return Err(AnalysisError::DiagramTooLarge {
                    what: grew.what,
                    limit: budget,
                    enumeration: "not tried".to_owned(),
                })
            }
        },
    };
    Ok(report(rs, &space, facts, strict))
}

/// The report of `facts`, each finding worded and located, in a stable order.
fn report(rs: &Ruleset, space: &Space, facts: Facts, strict: bool) -> CheckReport {
    let mut findings = Vec::new();
    for (f, first) in facts.first_drop.iter().enumerate() {
        if let (Some(digits), Some(sf)) = (first, space.factors.get(f)) {
            findings.push(not_monotone(rs, space, f, sf, digits));
        }
    }
    let all = format!(
        "{} answer-set classes ({} complete answer combinations)",
        facts.classes, facts.combinations
    );
    for (i, inv) in rs.invariants.iter().enumerate() {
        findings.push(match facts.first_violation.get(i).cloned().flatten() {
            Some(digits) => invariant_fails(rs, space, inv, &digits),
            None => Finding {
                severity: Severity::Note,
                kind: FindingKind::InvariantHolds,
                subject: inv.id.clone(),
                message: format!("invariant `{}` holds over all {all}", inv.id),
                location: inv.location,
                example: None,
            },
        });
    }
    for (r, rule) in rs.rules.iter().enumerate() {
        if !facts.rule_decides.get(r).copied().unwrap_or(false) {
            let fires = facts.rule_first_fires.get(r).cloned().flatten();
            findings.push(Finding {
                severity: Severity::Warning,
                kind: FindingKind::RuleNeverDecides,
                subject: rule.id.clone(),
                message: format!(
                    "rule `{}` never decides any answer set: whenever it fires, other rules demand more than {}",
                    rule.id,
                    rs.levels.get(rule.level).map_or("?", |l| l.id.as_str())
                ),
                location: rule.location,
                example: fires.map(|d| space.answer_set(&d)),
            });
        }
    }
    for (l, level) in rs.levels.iter().enumerate() {
        if !facts.level_reached.get(l).copied().unwrap_or(false) {
            findings.push(Finding {
                severity: Severity::Warning,
                kind: FindingKind::LevelUnreachable,
                subject: level.id.clone(),
                message: format!(
                    "level `{}` is never recommended for any answer set",
                    level.id
                ),
                location: None,
                example: None,
            });
        }
    }
    for (f, flag) in rs.flags.iter().enumerate() {
        if !facts.flag_fires.get(f).copied().unwrap_or(false) {
            findings.push(Finding {
                severity: Severity::Warning,
                kind: FindingKind::FlagUnreachable,
                subject: flag.id.clone(),
                message: format!("flag `{}` never fires for any answer set", flag.id),
                location: flag.location,
                example: None,
            });
        }
    }
    untagged(rs, &mut findings);
    if let Some(d) = &facts.default {
        let lowest = rs.levels.first().map_or("?", |l| l.id.as_str());
        findings.push(Finding {
            severity: Severity::Note,
            kind: FindingKind::LowestByDefault,
            subject: lowest.to_owned(),
            message: format!(
                "{} of {} answer-set classes ({} of {} complete answer combinations) get `{lowest}` only because no rule fires; check that this region is intended",
                d.classes, facts.classes, d.combinations, facts.combinations
            ),
            location: None,
            example: Some(space.answer_set(&d.first)),
        });
    }
    if strict {
        for f in &mut findings {
            if f.severity == Severity::Warning {
                f.severity = Severity::Error;
            }
        }
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    CheckReport {
        classes: facts.classes,
        combinations: facts.combinations,
        method: facts.method,
        findings,
    }
}

/// The level of the class at `digits` and whether a refer flag fires there.
fn level_at(rs: &Ruleset, space: &Space, digits: &[usize]) -> (usize, Vec<i64>) {
    let mut values = vec![0i64; rs.factors.len()];
    space.values_for(0, digits, &mut values);
    (rs.level_of_codes(&values), values)
}

/// The finding that raising factor `f` from the class at `digits` lowers the level.
fn not_monotone(
    rs: &Ruleset,
    space: &Space,
    f: usize,
    sf: &space::SpaceFactor,
    digits: &[usize],
) -> Finding {
    let class = |up: usize| {
        digits
            .get(f)
            .and_then(|&d| sf.classes.get(d + up))
            .and_then(|c| c.value.clone())
    };
    let (from, to) = (class(0), class(1));
    let (before, values) = level_at(rs, space, digits);
    let mut raised = digits.to_vec();
    if let Some(d) = raised.get_mut(f) {
        *d += 1;
    }
    let (after, _) = level_at(rs, space, &raised);
    let name = |l: usize| rs.levels.get(l).map_or("?", |x| x.id.as_str()).to_owned();
    // Point at the rule that stops deciding when the answer rises.
    let lost = rs
        .rules
        .iter()
        .find(|r| r.level == before && holds(&rs.conditions, r.when, &values));
    Finding {
        // An error under `strict`, like every warning.
        severity: Severity::Warning,
        kind: FindingKind::NotMonotone,
        subject: sf.id.clone(),
        message: format!(
            "not monotone: raising `{}` from {} to {} lowers the level from {} to {}{}",
            sf.id,
            from.map_or_else(String::new, |v| v.to_string()),
            to.map_or_else(String::new, |v| v.to_string()),
            name(before),
            name(after),
            lost.map_or_else(String::new, |r| format!(" (rule `{}` stops firing)", r.id))
        ),
        location: lost.and_then(|r| r.location).or_else(|| {
            sf.in_ruleset
                .first()
                .copied()
                .flatten()
                .and_then(|fi| rs.factors.get(fi))
                .and_then(|x| x.location)
        }),
        example: Some(space.answer_set(digits)),
    }
}

/// The finding that invariant `inv` fails at the class at `digits`.
fn invariant_fails(
    rs: &Ruleset,
    space: &Space,
    inv: &crate::model::Invariant,
    digits: &[usize],
) -> Finding {
    let (level, values) = level_at(rs, space, digits);
    let refer = rs
        .flags
        .iter()
        .any(|f| f.kind == FlagKind::Refer && holds(&rs.conditions, f.when, &values));
    Finding {
        severity: Severity::Error,
        kind: FindingKind::InvariantFails,
        subject: inv.id.clone(),
        message: format!(
            "invariant `{}` fails: this answer set gets level {} with refer {}{}",
            inv.id,
            rs.levels.get(level).map_or("?", |l| l.id.as_str()),
            refer,
            expectation_text(rs, inv)
        ),
        location: inv.location,
        example: Some(space.answer_set(digits)),
    }
}

/// A note for every question, rule and flag without a dimension, when the ruleset
/// declares dimensions.
fn untagged(rs: &Ruleset, findings: &mut Vec<Finding>) {
    if rs.dimensions.is_empty() {
        return;
    }
    let untagged = rs
        .factors
        .iter()
        .filter(|f| f.dimension.is_none())
        .map(|f| ("question", &f.id, f.location, "its answer"))
        .chain(
            rs.rules
                .iter()
                .filter(|r| r.dimension.is_none())
                .map(|r| ("rule", &r.id, r.location, "when it fires, it")),
        )
        .chain(
            rs.flags
                .iter()
                .filter(|f| f.dimension.is_none())
                .map(|f| ("flag", &f.id, f.location, "when it fires, it")),
        );
    for (what, id, location, it) in untagged {
        findings.push(Finding {
            severity: Severity::Note,
            kind: FindingKind::NoDimension,
            subject: id.clone(),
            message: format!(
                "{what} `{id}` names no dimension: {it} appears under none of the \
                 declared dimensions in the per-dimension justification (add `dimension:`)"
            ),
            location,
            example: None,
        });
    }
}

fn expectation_text(rs: &Ruleset, inv: &crate::model::Invariant) -> String {
    let name = |l: usize| rs.levels.get(l).map_or("?", |x| x.id.as_str());
    let mut parts = Vec::new();
    if let Some((lo, hi)) = inv.level_bounds {
        parts.push(if lo == hi {
            format!("level {}", name(lo))
        } else if hi + 1 == rs.levels.len() {
            format!("level at least {}", name(lo))
        } else {
            format!("level at most {}", name(hi))
        });
    }
    if let Some(r) = inv.refer {
        parts.push(format!("refer {r}"));
    }
    format!(" (expected {})", parts.join(" and "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    fn untagged(rs: &Ruleset) -> Vec<(String, Option<usize>)> {
        check(rs, true)
            .unwrap()
            .findings
            .into_iter()
            .filter(|f| f.kind == FindingKind::NoDimension)
            .inspect(|f| assert_eq!(f.severity, Severity::Note))
            .map(|f| (f.subject, f.location.map(|l| l.line)))
            .collect()
    }

    #[test]
    fn items_without_a_dimension_are_noted_only_when_dimensions_are_declared() {
        let text = "id: t\nversion: '1'\ntitle: T\ndescription: D
dimensions: [{id: d, label: D, description: d}]
levels: [{id: low, label: L, description: l}, {id: high, label: H, description: h}]
factors:
  - {id: a, kind: boolean, question: Q, dimension: d}
  - {id: b, kind: boolean, question: Q}
rules:
  - {id: ra, when: {a: true}, level: high, because: B, dimension: d}
  - {id: rb, when: {b: true}, level: high, because: B}
flags:
  - {id: fb, kind: info, when: {b: true}, message: M}
";
        let rs = Ruleset::from_yaml(text).unwrap();
        assert_eq!(
            untagged(&rs),
            [
                ("b".to_owned(), Some(9)),
                ("rb".to_owned(), Some(12)),
                ("fb".to_owned(), Some(14)),
            ]
        );
        // The bundled ruleset tags everything; a ruleset without dimensions is not asked to.
        assert!(untagged(&Ruleset::default_ruleset().unwrap()).is_empty());
        let plain = text
            .replace("dimensions: [{id: d, label: D, description: d}]\n", "")
            .replace(", dimension: d}", "}");
        assert!(untagged(&Ruleset::from_yaml(&plain).unwrap()).is_empty());
    }
}
