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
/// decides the level if there is one, else one where it fires.
pub fn suggest_case(rs: &Ruleset, target: Target) -> Result<Option<SuggestedCase>, AnalysisError> {
    let space = Space::new(&[rs], false)?;
    let total = space.enumerable(false)?;
    let strides = space.strides(false);
    let n = space.factors.len();
    let mut values = vec![0i64; rs.factors.len()];
    let mut digits = vec![0usize; n];
    let mut fallback = None;
    let mut found = None;
    // Walk in order of total risk (sum of class positions), so the suggestion is as mild as possible.
    let mut order: Vec<usize> = (0..total).collect();
    order.sort_by_key(|&i| {
        let mut d = vec![0usize; n];
        decode(i, &strides, &mut d);
        (d.iter().sum::<usize>(), i)
    });
    for index in order {
        decode(index, &strides, &mut digits);
        space.values_for(0, &digits, &mut values);
        let level = rs.level_of_codes(&values);
        let hit = match target {
            Target::Rule(r) => rs.rules.get(r).and_then(|rule| {
                holds(&rs.conditions, rule.when, &values).then_some(rule.level == level)
            }),
            Target::Flag(f) => rs
                .flags
                .get(f)
                .and_then(|flag| holds(&rs.conditions, flag.when, &values).then_some(true)),
            Target::Level(l) => (l == level).then_some(true),
        };
        match hit {
            Some(true) => {
                found = Some(index);
                break;
            }
            Some(false) if fallback.is_none() => fallback = Some(index),
            _ => {}
        }
    }
    let Some(index) = found.or(fallback) else {
        return Ok(None);
    };
    decode(index, &strides, &mut digits);
    space.values_for(0, &digits, &mut values);
    let level = rs.level_of_codes(&values);
    Ok(Some(SuggestedCase {
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
    }))
}
