//! `check`: one ruleset over every complete answer set.

use serde::Serialize;

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

/// The result of analysing one ruleset over its whole answer space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Number of complete answer-set classes enumerated.
    pub classes: u64,
    /// Findings in a stable order: errors first, then warnings, then notes.
    pub findings: Vec<Finding>,
}

#[derive(Default)]
struct CheckAcc {
    /// The level of every class of the chunk, in order (chunks are contiguous).
    levels: Vec<u8>,
    first_decides: Vec<Option<usize>>,
    first_fires: Vec<Option<usize>>,
    first_flag: Vec<Option<usize>>,
    first_level: Vec<Option<usize>>,
    default_count: u64,
    first_default: Option<usize>,
    first_violation: Vec<Option<usize>>,
}

impl CheckAcc {
    /// An empty accumulator with one slot per rule, flag, level and invariant of `rs`.
    fn for_ruleset(rs: &Ruleset) -> CheckAcc {
        CheckAcc {
            first_decides: vec![None; rs.rules.len()],
            first_fires: vec![None; rs.rules.len()],
            first_flag: vec![None; rs.flags.len()],
            first_level: vec![None; rs.levels.len()],
            first_violation: vec![None; rs.invariants.len()],
            ..CheckAcc::default()
        }
    }
}

/// Analyse one ruleset over every complete answer set: completeness, monotonicity,
/// rules that never decide, unreachable levels and flags, and its invariants.
///
/// `strict` makes every warning an error: non-monotone rules, rules that never decide,
/// unreachable levels and unreachable flags. Notes (invariants proved, answer sets at
/// the lowest level only because nothing fires) stay notes.
pub fn check(rs: &Ruleset, strict: bool) -> Result<CheckReport, AnalysisError> {
    let space = Space::new(&[rs], false)?;
    let total = space.enumerable(false)?;
    // Each class: its evaluation, then the monotonicity pass (a step per factor).
    let per_class = space::class_cost(rs)
        .saturating_add(u64::try_from(space.factors.len()).unwrap_or(u64::MAX));
    space.within_work("checking every answer set", total, per_class)?;
    let strides = space.strides(false);
    let n = space.factors.len();
    let accs = parallel(
        total,
        || CheckAcc::for_ruleset(rs),
        |acc, range| {
            let mut digits = vec![0usize; n];
            let mut values = vec![0i64; rs.factors.len()];
            acc.levels.reserve(range.len());
            for index in range {
                decode(index, &strides, &mut digits);
                space.values_for(0, &digits, &mut values);
                let level = rs.level_of_codes(&values);
                acc.levels.push(u8::try_from(level).unwrap_or(u8::MAX));
                keep_first(acc.first_level.get_mut(level), index);
                let mut any_fired = false;
                for (r, rule) in rs.rules.iter().enumerate() {
                    if holds(&rs.conditions, rule.when, &values) {
                        any_fired = true;
                        keep_first(acc.first_fires.get_mut(r), index);
                        if rule.level == level {
                            keep_first(acc.first_decides.get_mut(r), index);
                        }
                    }
                }
                let mut refer = false;
                for (f, flag) in rs.flags.iter().enumerate() {
                    if holds(&rs.conditions, flag.when, &values) {
                        refer |= flag.kind == FlagKind::Refer;
                        keep_first(acc.first_flag.get_mut(f), index);
                    }
                }
                if !any_fired && rs.scoring.is_none() && level == 0 {
                    acc.default_count += 1;
                    if acc.first_default.is_none() {
                        acc.first_default = Some(index);
                    }
                }
                for (i, inv) in rs.invariants.iter().enumerate() {
                    let applies = inv.when.is_none_or(|w| holds(&rs.conditions, w, &values));
                    let level_ok = inv
                        .level_bounds
                        .is_none_or(|(lo, hi)| lo <= level && level <= hi);
                    let refer_ok = inv.refer.is_none_or(|want| want == refer);
                    if applies && !(level_ok && refer_ok) {
                        keep_first(acc.first_violation.get_mut(i), index);
                    }
                }
            }
        },
    );

    // Merge. Chunks come back in order and cover `0..total` contiguously, so their levels
    // concatenate into the level of every class by index.
    let mut levels: Vec<u8> = Vec::with_capacity(total);
    let mut merged = CheckAcc::for_ruleset(rs);
    for acc in accs {
        levels.extend_from_slice(&acc.levels);
        let pairs = [
            (&mut merged.first_decides, acc.first_decides),
            (&mut merged.first_fires, acc.first_fires),
            (&mut merged.first_flag, acc.first_flag),
            (&mut merged.first_level, acc.first_level),
            (&mut merged.first_violation, acc.first_violation),
        ];
        for (into, from) in pairs {
            for (slot, v) in into.iter_mut().zip(from) {
                if let Some(v) = v {
                    keep_first(Some(slot), v);
                }
            }
        }
        merged.default_count += acc.default_count;
        if let Some(d) = acc.first_default {
            keep_first(Some(&mut merged.first_default), d);
        }
    }

    let example = |index: usize| space.answer_set_at(index, &strides);
    let mut findings = Vec::new();

    // Monotonicity: raising one factor by one class never lowers the level.
    let radices: Vec<usize> = (0..n).map(|f| space.radix(f, false)).collect();
    let mono = parallel(
        total,
        || vec![None::<usize>; n],
        |first, range| {
            let mut digits = vec![0usize; n];
            for index in range {
                decode(index, &strides, &mut digits);
                let here = levels.get(index).copied().unwrap_or(0);
                for f in 0..n {
                    let (Some(&d), Some(&r), Some(&s)) =
                        (digits.get(f), radices.get(f), strides.get(f))
                    else {
                        continue;
                    };
                    if d + 1 < r && levels.get(index + s).copied().unwrap_or(u8::MAX) < here {
                        keep_first(first.get_mut(f), index);
                    }
                }
            }
        },
    );
    let mut first_drop = vec![None::<usize>; n];
    for chunk in mono {
        for (slot, v) in first_drop.iter_mut().zip(chunk) {
            if let Some(v) = v {
                keep_first(Some(slot), v);
            }
        }
    }
    for (f, first) in first_drop.iter().enumerate() {
        let (Some(index), Some(sf)) = (first, space.factors.get(f)) else {
            continue;
        };
        let mut digits = vec![0usize; n];
        decode(*index, &strides, &mut digits);
        let from = digits
            .get(f)
            .and_then(|&d| sf.classes.get(d))
            .and_then(|c| c.value.clone());
        let to = digits
            .get(f)
            .and_then(|&d| sf.classes.get(d + 1))
            .and_then(|c| c.value.clone());
        let stride = strides.get(f).copied().unwrap_or(1);
        let (before, after) = (
            levels.get(*index).copied().unwrap_or(0),
            levels.get(index + stride).copied().unwrap_or(0),
        );
        let name = |l: u8| {
            rs.levels
                .get(usize::from(l))
                .map_or("?", |x| x.id.as_str())
                .to_owned()
        };
        // Point at the rule that stops deciding when the answer rises.
        let mut values = vec![0i64; rs.factors.len()];
        space.values_for(0, &digits, &mut values);
        let lost = rs
            .rules
            .iter()
            .find(|r| r.level == usize::from(before) && holds(&rs.conditions, r.when, &values));
        findings.push(Finding {
            // An error under `strict`, like every warning (below).
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
            example: Some(space.answer_set(&digits)),
        });
    }

    for (i, inv) in rs.invariants.iter().enumerate() {
        match merged.first_violation.get(i).copied().flatten() {
            Some(index) => {
                let mut digits = vec![0usize; n];
                decode(index, &strides, &mut digits);
                let mut values = vec![0i64; rs.factors.len()];
                space.values_for(0, &digits, &mut values);
                let level = rs.level_of_codes(&values);
                let refer = rs
                    .flags
                    .iter()
                    .any(|f| f.kind == FlagKind::Refer && holds(&rs.conditions, f.when, &values));
                findings.push(Finding {
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
                    example: Some(example(index)),
                });
            }
            None => findings.push(Finding {
                severity: Severity::Note,
                kind: FindingKind::InvariantHolds,
                subject: inv.id.clone(),
                message: format!(
                    "invariant `{}` holds over all {total} answer-set classes",
                    inv.id
                ),
                location: inv.location,
                example: None,
            }),
        }
    }

    for (r, rule) in rs.rules.iter().enumerate() {
        if merged.first_decides.get(r).copied().flatten().is_none() {
            let fires = merged.first_fires.get(r).copied().flatten();
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
                example: fires.map(example),
            });
        }
    }
    for (l, level) in rs.levels.iter().enumerate() {
        if merged.first_level.get(l).copied().flatten().is_none() {
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
        if merged.first_flag.get(f).copied().flatten().is_none() {
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
    if !rs.dimensions.is_empty() {
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
    if let Some(index) = merged.first_default {
        let lowest = rs.levels.first().map_or("?", |l| l.id.as_str());
        findings.push(Finding {
            severity: Severity::Note,
            kind: FindingKind::LowestByDefault,
            subject: lowest.to_owned(),
            message: format!(
                "{} of {total} answer-set classes get `{lowest}` only because no rule fires; check that this region is intended",
                merged.default_count
            ),
            location: None,
            example: Some(example(index)),
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
    Ok(CheckReport {
        classes: total as u64,
        findings,
    })
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
