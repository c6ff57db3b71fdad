//! Helpers: enumerate a ruleset's answers as values.

use carelevel::{Answers, FactorKind, Ruleset, Value};

/// Every value a factor can take, least risk first (integers: class representatives).
pub fn values_of(ruleset: &Ruleset, factor: usize) -> Vec<Value> {
    let f = &ruleset.factors()[factor];
    match &f.kind {
        FactorKind::Ordinal { values } => values.iter().map(|v| Value::Text(v.clone())).collect(),
        FactorKind::Boolean => vec![Value::Boolean(false), Value::Boolean(true)],
        FactorKind::Integer { .. } => f.classes().iter().map(|&c| Value::Integer(c)).collect(),
    }
}

/// Answers from one value index per factor; `None` leaves the factor unanswered.
pub fn answers<'r>(ruleset: &'r Ruleset, choice: &[Option<usize>]) -> Answers<'r> {
    let mut a = ruleset.new_answers();
    for (f, c) in choice.iter().enumerate() {
        if let Some(i) = c {
            let v = values_of(ruleset, f)[*i].clone();
            a.set(&ruleset.factors()[f].id, v).unwrap();
        }
    }
    a
}

/// Every complete choice vector of the ruleset (the whole answer space).
pub fn all_choices(ruleset: &Ruleset) -> Vec<Vec<usize>> {
    let sizes: Vec<usize> = (0..ruleset.factors().len())
        .map(|f| values_of(ruleset, f).len())
        .collect();
    let mut out = vec![vec![]];
    for n in sizes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..n).map(move |i| {
                    let mut p = prefix.clone();
                    p.push(i);
                    p
                })
            })
            .collect();
    }
    out
}

/// Number of values of each factor.
pub fn sizes(ruleset: &Ruleset) -> Vec<usize> {
    (0..ruleset.factors().len())
        .map(|f| values_of(ruleset, f).len())
        .collect()
}
