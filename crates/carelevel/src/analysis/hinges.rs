//! `hinges`: the nearest answers that move one person's level.

use serde::Serialize;

use crate::answers::{Answers, Value};
use crate::error::EvalError;
use crate::limits;
use crate::model::{FactorKind, MissingPolicy};

/// The nearest answers to one factor that would move the level, for `assess --explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hinge {
    /// Factor id.
    pub factor: String,
    /// The current answer (`None`: unanswered).
    pub current: Option<Value>,
    /// The nearest higher-risk answer that raises the level, and the level it gives.
    pub up: Option<(Value, String)>,
    /// The nearest lower-risk answer that lowers the level, and the level it gives.
    pub down: Option<(Value, String)>,
}

/// For each answered (or assumed) factor, the nearest answer up and down its scale that
/// changes the recommended level, everything else unchanged. Exact: integer factors are
/// searched by class, and the nearest value of the class is reported.
///
/// Every level worked out here shares one work budget ([`limits::MAX_MISSING_WORK`]):
/// past it the result is [`EvalError::ExplanationTooCostly`], not a partial answer.
pub fn hinges(answers: &Answers<'_>) -> Result<Vec<Hinge>, EvalError> {
    let rs = answers.ruleset;
    let mut budget = limits::MAX_MISSING_WORK;
    let too_costly = || EvalError::ExplanationTooCostly {
        limit: limits::MAX_MISSING_WORK,
    };
    let base = rs
        .level_within(answers, &mut budget)?
        .ok_or_else(too_costly)?;
    let level_name = |l: usize| rs.levels.get(l).map(|x| x.id.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for (f, factor) in rs.factors.iter().enumerate() {
        let answered = answers.answered.get(f).copied().unwrap_or(false);
        let assumed = matches!(factor.missing, MissingPolicy::Assume(_));
        if !answered && !assumed {
            continue;
        }
        let current = answers.values.get(f).copied().unwrap_or(0);
        let here = factor.class_of(current);
        let classes = factor.classes();
        let mut probe = answers.clone();
        let mut level_with = |code: i64| -> Result<usize, EvalError> {
            if let (Some(v), Some(a)) = (probe.values.get_mut(f), probe.answered.get_mut(f)) {
                *v = code;
                *a = true;
            }
            rs.level_within(&probe, &mut budget)?.ok_or_else(too_costly)
        };
        let mut up = None;
        for &code in classes.iter().skip(here + 1) {
            let l = level_with(code)?;
            if l != base {
                up = Some((factor.value_of(code), level_name(l)));
                break;
            }
        }
        let mut down = None;
        for (k, &code) in classes.iter().enumerate().take(here).rev() {
            // Nearest value below: the top of that class.
            let top = match factor.kind {
                FactorKind::Integer { .. } => classes.get(k + 1).map_or(code, |n| n - 1),
                _ => code,
            };
            let l = level_with(top)?;
            if l != base {
                down = Some((factor.value_of(top), level_name(l)));
                break;
            }
        }
        out.push(Hinge {
            factor: factor.id.clone(),
            current: answered.then(|| factor.value_of(current)),
            up,
            down,
        });
    }
    Ok(out)
}

/// What answering one missing question would do to the level, for `assess --explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingHinge {
    /// Factor id.
    pub factor: String,
    /// Every answer to it, least risk first, grouped into runs that lead to the same
    /// level, each with the level recommended when only this question is answered so
    /// (the other missing answers still unknown, handled by their policy).
    pub answers: Vec<MissingOutcome>,
}

/// One run of answers to a missing question that lead to the same level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingOutcome {
    /// The answers in the run: ordinal and boolean values one by one; for an integer
    /// factor the first and last value of the interval (equal when it is one value).
    pub values: Vec<Value>,
    /// The level recommended with one of these answers.
    pub level: String,
    /// Whether that level differs from the current recommendation.
    pub changes_level: bool,
}

impl MissingHinge {
    /// Whether some answer to the question, given alone, changes the level.
    pub fn changes_level(&self) -> bool {
        self.answers.iter().any(|a| a.changes_level)
    }
}

/// For each unanswered question whose policy is `ask`, in declaration order: the level
/// each answer to it would lead to, the other missing answers still unknown. Exact, by
/// the same missing-answer search as [`Ruleset::assess`](crate::Ruleset::assess);
/// integer factors are searched by class and reported as intervals.
///
/// Every level worked out here shares one work budget ([`limits::MAX_MISSING_WORK`]):
/// past it the result is [`EvalError::ExplanationTooCostly`], not a partial answer.
pub fn missing_hinges(answers: &Answers<'_>) -> Result<Vec<MissingHinge>, EvalError> {
    let rs = answers.ruleset;
    let mut budget = limits::MAX_MISSING_WORK;
    let too_costly = || EvalError::ExplanationTooCostly {
        limit: limits::MAX_MISSING_WORK,
    };
    let base = rs
        .level_within(answers, &mut budget)?
        .ok_or_else(too_costly)?;
    let level_name = |l: usize| rs.levels.get(l).map(|x| x.id.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for (f, factor) in rs.factors.iter().enumerate() {
        let answered = answers.answered.get(f).copied().unwrap_or(false);
        if answered || factor.missing != MissingPolicy::Ask {
            continue;
        }
        let classes = factor.classes();
        let mut probe = answers.clone();
        let mut runs: Vec<(usize, Vec<Value>)> = Vec::new();
        for (k, &code) in classes.iter().enumerate() {
            if let (Some(v), Some(a)) = (probe.values.get_mut(f), probe.answered.get_mut(f)) {
                *v = code;
                *a = true;
            }
            let level = rs
                .level_within(&probe, &mut budget)?
                .ok_or_else(too_costly)?;
            let values = match factor.kind {
                FactorKind::Integer { max, .. } => {
                    let last = classes.get(k + 1).map_or(max, |n| n - 1);
                    vec![factor.value_of(code), factor.value_of(last)]
                }
                _ => vec![factor.value_of(code)],
            };
            match runs.last_mut() {
                Some((l, run)) if *l == level => match factor.kind {
                    // An interval grows at its end.
                    FactorKind::Integer { .. } => {
                        if let (Some(end), Some(new_end)) = (run.last_mut(), values.last()) {
                            end.clone_from(new_end);
                        }
                    }
                    _ => run.extend(values),
                },
                _ => runs.push((level, values)),
            }
        }
        out.push(MissingHinge {
            factor: factor.id.clone(),
            answers: runs
                .into_iter()
                .map(|(level, values)| MissingOutcome {
                    values,
                    level: level_name(level),
                    changes_level: level != base,
                })
                .collect(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;
    use crate::Ruleset;

    const RULES: &str = r#"
id: t
version: "1"
title: t
description: "A test ruleset."
levels:
  - {id: low, label: Low, description: "Low."}
  - {id: mid, label: Mid, description: "Mid."}
  - {id: high, label: High, description: "High."}
factors:
  - {id: risk, question: "Risk?", kind: ordinal, values: [none, some, high]}
  - {id: score, question: "Score?", kind: integer, min: 0, max: 30}
  - {id: alone, question: "Alone?", kind: boolean, missing: {assume: false}}
rules:
  - {id: some_risk, when: {risk: {at_least: some}}, level: mid, because: "b"}
  - {id: high_risk, when: {risk: high}, level: high, because: "b"}
  - {id: high_score, when: {score: {at_least: 20}}, level: high, because: "b"}
"#;

    #[test]
    fn each_missing_question_lists_the_level_of_each_answer() {
        let rs = Ruleset::from_yaml(RULES).unwrap();
        // risk answered `some`: score missing decides between mid and high.
        let answers = rs.answers_from_yaml("{risk: some}").unwrap();
        let got = missing_hinges(&answers).unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].factor, "score");
        assert_eq!(
            got[0].answers,
            vec![
                MissingOutcome {
                    values: vec![Value::Integer(0), Value::Integer(19)],
                    level: "mid".into(),
                    changes_level: true,
                },
                MissingOutcome {
                    values: vec![Value::Integer(20), Value::Integer(30)],
                    level: "high".into(),
                    changes_level: false,
                },
            ]
        );
        // Nothing answered: risk alone cannot lower the level while score is unknown,
        // and score alone cannot while risk is unknown; the assumed `alone` is not listed.
        let none = missing_hinges(&rs.new_answers()).unwrap();
        assert_eq!(none.len(), 2);
        assert!(none.iter().all(|h| !h.changes_level()), "{none:?}");
        assert_eq!(
            none[0].answers,
            vec![MissingOutcome {
                values: ["none", "some", "high"]
                    .map(|v| Value::Text(v.into()))
                    .to_vec(),
                level: "high".into(),
                changes_level: false,
            }]
        );
    }
}
