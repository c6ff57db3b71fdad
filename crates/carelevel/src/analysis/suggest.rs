//! `suggest_case`: answers that exercise a rule, flag or level.

use serde::Serialize;

use super::*;
use crate::eval::holds;
use crate::model::{LevelIndex, Ruleset};

/// What to exercise in [`suggest_case`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A rule, by index: fire it where it decides the level (or at least fires).
    Rule(usize),
    /// A flag, by index.
    Flag(usize),
    /// A level, by index: an answer set recommended that level.
    Level(LevelIndex),
}

/// A suggested test case: answers that exercise a target, and what they give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuggestedCase {
    /// The answers (complete).
    pub answers: AnswerSet,
    /// The level they get.
    pub level: String,
    /// The rules that fire.
    pub rules: Vec<String>,
    /// The flags that fire.
    pub flags: Vec<String>,
}

/// The first answer set, least risk first, that exercises `target`: for a rule, one where it
/// decides the level if there is one, else one where it fires. See [`suggest_cases`].
pub fn suggest_case(rs: &Ruleset, target: Target) -> Result<Option<SuggestedCase>, AnalysisError> {
    Ok(suggest_cases(rs, &[target])?.into_iter().next().flatten())
}

/// A key that orders answer sets least risk first: the sum of class positions, then the
/// enumeration index.
type Mildness = (usize, usize);

/// [`suggest_case`] for many targets in one pass over the answer space, so the work
/// does not grow with the number of targets (it is checked once against
/// [`MAX_ANALYSIS_WORK`]). One result per target, in order.
pub fn suggest_cases(
    rs: &Ruleset,
    targets: &[Target],
) -> Result<Vec<Option<SuggestedCase>>, AnalysisError> {
    let space = Space::new(&[rs], false)?;
    let total = space.enumerable(false)?;
    // Each class: its evaluation, then every target's condition (distinct rules and
    // flags are distinct nodes, so together at most every node) and a step per target.
    let per_class = space::class_cost(rs).saturating_add(
        u64::try_from(rs.conditions.nodes.len() + targets.len()).unwrap_or(u64::MAX),
    );
    space.within_work("finding cases", total, per_class)?;
    let strides = space.strides(false);
    let n = space.factors.len();
    // Per target: the mildest answer set where it is fully exercised, and the mildest
    // where a rule at least fires (the fallback).
    let best = parallel(
        total,
        || vec![(None::<Mildness>, None::<Mildness>); targets.len()],
        |best, range| {
            let mut digits = vec![0usize; n];
            let mut values = vec![0i64; rs.factors.len()];
            for index in range {
                decode(index, &strides, &mut digits);
                space.values_for(0, &digits, &mut values);
                let key = (digits.iter().sum::<usize>(), index);
                let level = rs.level_of_codes(&values);
                for (target, (found, fallback)) in targets.iter().zip(best.iter_mut()) {
                    let slot = match hit(rs, *target, &values, level) {
                        Some(true) => found,
                        Some(false) => fallback,
                        None => continue,
                    };
                    if slot.is_none_or(|k| key < k) {
                        *slot = Some(key);
                    }
                }
            }
        },
    );
    let mut merged = vec![(None::<Mildness>, None::<Mildness>); targets.len()];
    for chunk in best {
        for ((found, fallback), (f, b)) in merged.iter_mut().zip(chunk) {
            for (into, from) in [(found, f), (fallback, b)] {
                if let Some(k) = from {
                    if into.is_none_or(|x| k < x) {
                        *into = Some(k);
                    }
                }
            }
        }
    }
    Ok(merged
        .into_iter()
        .map(|(found, fallback)| {
            found
                .or(fallback)
                .map(|(_, index)| case_at(rs, &space, &strides, index))
        })
        .collect())
}

/// Whether complete answers `values` (at `level`) exercise `target`: `Some(true)` fully,
/// `Some(false)` a rule that fires without deciding, `None` not at all.
fn hit(rs: &Ruleset, target: Target, values: &[i64], level: LevelIndex) -> Option<bool> {
    match target {
        Target::Rule(r) => rs.rules.get(r).and_then(|rule| {
            holds(&rs.conditions, rule.when, values).then_some(rule.level == level)
        }),
        Target::Flag(f) => rs
            .flags
            .get(f)
            .and_then(|flag| holds(&rs.conditions, flag.when, values).then_some(true)),
        Target::Level(l) => (l == level).then_some(true),
    }
}

/// The suggested case at enumeration index `index`.
fn case_at(rs: &Ruleset, space: &Space, strides: &[usize], index: usize) -> SuggestedCase {
    let mut digits = vec![0usize; space.factors.len()];
    decode(index, strides, &mut digits);
    let mut values = vec![0i64; rs.factors.len()];
    space.values_for(0, &digits, &mut values);
    let level = rs.level_of_codes(&values);
    SuggestedCase {
        answers: space.answer_set(&digits),
        level: rs
            .levels
            .get(level)
            .map(|l| l.id.clone())
            .unwrap_or_default(),
        rules: rs
            .rules
            .iter()
            .filter(|r| holds(&rs.conditions, r.when, &values))
            .map(|r| r.id.clone())
            .collect(),
        flags: rs
            .flags
            .iter()
            .filter(|f| holds(&rs.conditions, f.when, &values))
            .map(|f| f.id.clone())
            .collect(),
    }
}
