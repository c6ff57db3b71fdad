//! The answer space: classes per factor, enumeration order, example answer sets.

use std::fmt;

use serde::Serialize;

use super::*;
use crate::answers::Value;
use crate::compile::{classes_with_cuts, integer_cuts};
use crate::model::{FactorKind, MissingPolicy, Ruleset};

/// One class of answers of one factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Class {
    /// Representative value code (the smallest value of the class).
    pub(crate) code: i64,
    /// The answer as written (`moderate`, `true`, `12`), or empty for "missing".
    pub(crate) value: Option<Value>,
    /// For integer classes, the interval, e.g. `10..=18`.
    pub(crate) interval: Option<(i64, i64)>,
    /// The one ruleset whose scale has this value, when the other ruleset asks the
    /// factor with a shorter scale (a value added at the top); `None`: every ruleset
    /// that asks the factor accepts it.
    pub(crate) only_in: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct SpaceFactor {
    pub(crate) id: String,
    /// Complete classes, least risk first; a final "missing" class is implied when `missing`.
    pub(crate) classes: Vec<Class>,
    pub(crate) missing: bool,
    /// Index of this factor in each ruleset (None: the ruleset does not ask it).
    pub(crate) in_ruleset: Vec<Option<usize>>,
}

/// The answer space shared by one or two rulesets.
#[derive(Debug, Clone)]
pub(crate) struct Space {
    pub(crate) factors: Vec<SpaceFactor>,
}

impl Space {
    pub(crate) fn new(rulesets: &[&Ruleset], with_missing: bool) -> Result<Space, AnalysisError> {
        let mut factors: Vec<SpaceFactor> = Vec::new();
        let mut reasons = Vec::new();
        for (r, rs) in rulesets.iter().enumerate() {
            for (fi, f) in rs.factors.iter().enumerate() {
                if let Some(existing) = factors.iter_mut().find(|x| x.id == f.id) {
                    if let Some(first) = existing
                        .in_ruleset
                        .iter()
                        .flatten()
                        .next()
                        .and_then(|&i| rulesets.first().and_then(|r0| r0.factors.get(i)))
                    {
                        if first.kind != f.kind
                            && !same_scale(&first.kind, &f.kind)
                            && !extends(&first.kind, &f.kind)
                            && !extends(&f.kind, &first.kind)
                        {
                            reasons.push(format!(
                                "factor `{}` takes {} in OLD but {} in NEW",
                                f.id,
                                first.allowed_answers(),
                                f.allowed_answers()
                            ));
                        }
                    }
                    if let Some(slot) = existing.in_ruleset.get_mut(r) {
                        *slot = Some(fi);
                    }
                } else {
                    let mut in_ruleset = vec![None; rulesets.len()];
                    if let Some(slot) = in_ruleset.get_mut(r) {
                        *slot = Some(fi);
                    }
                    factors.push(SpaceFactor {
                        id: f.id.clone(),
                        classes: Vec::new(),
                        missing: false,
                        in_ruleset,
                    });
                }
            }
        }
        if !reasons.is_empty() {
            return Err(AnalysisError::NotComparable { reasons });
        }
        let cuts: Vec<Vec<Vec<i64>>> = rulesets
            .iter()
            .map(|rs| integer_cuts(&rs.factors, &rs.conditions))
            .collect();
        for sf in &mut factors {
            let mut all_cuts = Vec::new();
            // The template is the longest scale (ordinal scales may differ only by
            // values added at the top); `lengths` is each ruleset's scale length.
            let mut template: Option<(usize, &crate::model::Factor)> = None;
            let mut lengths: Vec<(usize, usize)> = Vec::new();
            for (r, fi) in sf.in_ruleset.iter().enumerate() {
                let Some(fi) = fi else { continue };
                let (Some(rs), Some(c)) = (rulesets.get(r), cuts.get(r).and_then(|c| c.get(*fi)))
                else {
                    continue;
                };
                all_cuts.extend_from_slice(c);
                if let Some(f) = rs.factors.get(*fi) {
                    let len = ordinal_len(&f.kind);
                    lengths.push((r, len));
                    if template.is_none_or(|(_, t)| len > ordinal_len(&t.kind)) {
                        template = Some((r, f));
                    }
                    sf.missing |= with_missing && f.missing == MissingPolicy::Ask;
                }
            }
            let Some((template_r, f)) = template else {
                continue;
            };
            let shortest = lengths.iter().map(|&(_, l)| l).min().unwrap_or(0);
            let reps = classes_with_cuts(f, &all_cuts);
            sf.classes = reps
                .iter()
                .enumerate()
                .map(|(i, &code)| Class {
                    code,
                    value: Some(f.value_of(code)),
                    interval: match f.kind {
                        FactorKind::Integer { max, .. } => {
                            let hi = reps.get(i + 1).map_or(max, |n| n.saturating_sub(1));
                            Some((code, hi))
                        }
                        _ => None,
                    },
                    only_in: (matches!(f.kind, FactorKind::Ordinal { .. })
                        && usize::try_from(code).is_ok_and(|c| c >= shortest))
                    .then_some(template_r),
                })
                .collect();
        }
        Ok(Space { factors })
    }

    /// Whether every complete answer in `digits` is on ruleset `r`'s scales (no value
    /// that only the other ruleset accepts). Missing slots are on every scale.
    pub(crate) fn valid_for(&self, r: usize, digits: &[usize]) -> bool {
        self.factors.iter().zip(digits).all(|(f, &d)| {
            f.classes
                .get(d)
                .and_then(|c| c.only_in)
                .is_none_or(|only| only == r)
        })
    }

    /// Whether any class of the space is on only one ruleset's scale.
    pub(crate) fn has_one_sided_values(&self) -> bool {
        self.factors
            .iter()
            .any(|f| f.classes.iter().any(|c| c.only_in.is_some()))
    }

    /// Number of slots of factor `f`, including its missing slot.
    pub(crate) fn radix(&self, f: usize, with_missing: bool) -> usize {
        self.factors.get(f).map_or(1, |x| {
            x.classes.len() + usize::from(with_missing && x.missing)
        })
    }

    pub(crate) fn size(&self, with_missing: bool) -> u128 {
        (0..self.factors.len()).fold(1u128, |acc, f| {
            acc.saturating_mul(self.radix(f, with_missing) as u128)
        })
    }

    pub(crate) fn strides(&self, with_missing: bool) -> Vec<usize> {
        let mut strides = vec![1usize; self.factors.len()];
        for f in (0..self.factors.len().saturating_sub(1)).rev() {
            let next = strides.get(f + 1).copied().unwrap_or(1) * self.radix(f + 1, with_missing);
            if let Some(s) = strides.get_mut(f) {
                *s = next;
            }
        }
        strides
    }

    /// [`Space::size`] in words, correct beyond `u128` (where `size` saturates).
    pub(crate) fn size_text(&self, with_missing: bool) -> String {
        let size = self.size(with_missing);
        if size < u128::MAX {
            return size.to_string();
        }
        let log10: f64 = (0..self.factors.len())
            .map(|f| (self.radix(f, with_missing) as f64).log10())
            .sum();
        let exponent = log10.floor();
        format!(
            "about {:.1}e{exponent} (more than 2^128)",
            10f64.powf(log10 - exponent)
        )
    }

    pub(crate) fn too_large(&self, with_missing: bool) -> AnalysisError {
        let classes = self.size(with_missing);
        let largest = self.largest();
        AnalysisError::TooLarge {
            classes,
            count: self.size_text(with_missing),
            limit: MAX_CLASSES,
            largest,
        }
    }

    /// Value codes for ruleset `r` from slot digits (complete slots only).
    pub(crate) fn values_for(&self, r: usize, digits: &[usize], out: &mut [i64]) {
        for (sf, &d) in self.factors.iter().zip(digits) {
            if let (Some(Some(fi)), Some(class)) = (sf.in_ruleset.get(r), sf.classes.get(d)) {
                if let Some(slot) = out.get_mut(*fi) {
                    *slot = class.code;
                }
            }
        }
    }

    /// The pattern of per-factor slot sets, leaving out factors free to take any slot.
    pub(crate) fn pattern(&self, sets: &[Vec<usize>], with_missing: bool) -> Pattern {
        Pattern(
            self.factors
                .iter()
                .enumerate()
                .zip(sets)
                .filter(|((f, _), set)| set.len() < self.radix(*f, with_missing))
                .map(|((_, sf), set)| PatternItem {
                    factor: sf.id.clone(),
                    values: set
                        .iter()
                        .map(|&d| sf.classes.get(d).and_then(|c| c.value.clone()))
                        .collect(),
                    ranges: set
                        .iter()
                        .map(|&d| sf.classes.get(d).and_then(|c| c.interval))
                        .collect(),
                })
                .collect(),
        )
    }

    /// The factors with the most slots, largest first (at most three), for messages.
    pub(crate) fn largest(&self) -> Vec<(String, usize)> {
        let mut largest: Vec<(String, usize)> = self
            .factors
            .iter()
            .map(|f| (f.id.clone(), f.classes.len() + usize::from(f.missing)))
            .collect();
        largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        largest.truncate(3);
        largest
    }

    /// Refuse, before any work, an analysis of `total` classes at up to `per_class`
    /// work each when that exceeds [`MAX_ANALYSIS_WORK`].
    pub(crate) fn within_work(
        &self,
        task: &'static str,
        total: usize,
        per_class: u64,
    ) -> Result<(), AnalysisError> {
        let classes = u64::try_from(total).unwrap_or(u64::MAX);
        let work = classes.saturating_mul(per_class);
        if work > MAX_ANALYSIS_WORK {
            return Err(AnalysisError::TooMuchWork {
                task,
                classes,
                per_class,
                work,
                limit: MAX_ANALYSIS_WORK,
                largest: self.largest(),
            });
        }
        Ok(())
    }

    /// The number of slot combinations to enumerate, or why there are too many.
    pub(crate) fn enumerable(&self, with_missing: bool) -> Result<usize, AnalysisError> {
        let size = self.size(with_missing);
        if size > MAX_CLASSES {
            return Err(self.too_large(with_missing));
        }
        usize::try_from(size).map_err(|_| self.too_large(with_missing))
    }

    /// The answer set at enumeration index `index`.
    pub(crate) fn answer_set_at(&self, index: usize, strides: &[usize]) -> AnswerSet {
        let mut digits = vec![0usize; self.factors.len()];
        decode(index, strides, &mut digits);
        self.answer_set(&digits)
    }

    /// The answer set at `digits`, as (factor, value) pairs; `None` means unanswered.
    pub(crate) fn answer_set(&self, digits: &[usize]) -> AnswerSet {
        AnswerSet(
            self.factors
                .iter()
                .zip(digits)
                .map(|(f, &d)| AnswerItem {
                    factor: f.id.clone(),
                    value: f.classes.get(d).and_then(|c| c.value.clone()),
                    range: f.classes.get(d).and_then(|c| c.interval),
                })
                .collect(),
        )
    }
}

pub(crate) fn same_scale(a: &FactorKind, b: &FactorKind) -> bool {
    match (a, b) {
        (FactorKind::Ordinal { values: x }, FactorKind::Ordinal { values: y }) => x == y,
        (FactorKind::Boolean, FactorKind::Boolean) => true,
        (
            FactorKind::Integer { min: a, max: b, .. },
            FactorKind::Integer { min: c, max: d, .. },
        ) => a == c && b == d,
        _ => false,
    }
}

/// Whether ordinal scale `longer` is `shorter` with values added at the top (same
/// values, same order, at least one more).
pub(crate) fn extends(longer: &FactorKind, shorter: &FactorKind) -> bool {
    match (longer, shorter) {
        (FactorKind::Ordinal { values: l }, FactorKind::Ordinal { values: s }) => {
            l.len() > s.len() && l.starts_with(s)
        }
        _ => false,
    }
}

/// Number of values of an ordinal scale (0 for other kinds).
fn ordinal_len(kind: &FactorKind) -> usize {
    match kind {
        FactorKind::Ordinal { values } => values.len(),
        _ => 0,
    }
}

pub(crate) fn decode(mut index: usize, strides: &[usize], digits: &mut [usize]) {
    for (d, &s) in digits.iter_mut().zip(strides) {
        *d = index / s.max(1);
        index %= s.max(1);
    }
}

/// One answer in an example answer set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerItem {
    /// Factor id.
    pub factor: String,
    /// The answer (the smallest of its class for integers); `None`: unanswered, or
    /// (in minimal patterns) "any answer".
    pub value: Option<Value>,
    /// For integer answers, the interval of answers that behave the same.
    pub range: Option<(i64, i64)>,
}

/// An example answer set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerSet(pub Vec<AnswerItem>);

impl fmt::Display for AnswerSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|a| match (&a.value, a.range) {
                (Some(v), Some((lo, hi))) if lo != hi => format!("{}={v} ({lo} to {hi})", a.factor),
                (Some(v), _) => format!("{}={v}", a.factor),
                (None, _) => format!("{}=(missing)", a.factor),
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

impl AnswerSet {
    /// The answers as a YAML flow mapping (unanswered factors left out), ready to paste.
    pub fn to_yaml_flow(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .filter_map(|a| a.value.as_ref().map(|v| format!("{}: {v}", a.factor)))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }
}

/// The most work evaluating one complete answer set in an analysis can cost in
/// ruleset `rs`: its level, every rule, flag and invariant condition once (at most
/// every condition node), and a step per factor and per rule, flag and invariant.
pub(crate) fn class_cost(rs: &Ruleset) -> u64 {
    let steps = rs.conditions.nodes.len()
        + rs.factors.len()
        + rs.rules.len()
        + rs.flags.len()
        + rs.invariants.len();
    u64::try_from(steps)
        .unwrap_or(u64::MAX)
        .saturating_add(rs.complete_evaluation_cost())
}
