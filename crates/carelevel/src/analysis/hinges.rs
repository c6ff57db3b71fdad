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
