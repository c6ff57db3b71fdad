//! Exact analysis of the whole answer space.
//!
//! Every factor has finitely many distinguishable answers ("classes"): ordinal and
//! boolean factors by value, integer factors by the intervals cut by every threshold
//! in the rulesets involved. The answer space is the product of the classes, plus a
//! "missing" class for each factor whose policy is `ask`. It is enumerated exactly:
//! complete answer sets by evaluation (in parallel), answer sets with missing
//! answers by dynamic programming over the complete ones (the `ask` policy recommends
//! the top of the range over every completion, so each missing slot is the max/min/
//! and/or of the slots it stands for).
//!
//! On top of it: [`check`] (completeness, monotonicity, rules that never decide,
//! unreachable levels and flags, invariants), [`diff`] (exact impact of a change),
//! [`suggest_case`] (answers that exercise a rule or flag) and [`hinges`] (the nearest
//! answers that move one person's level).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use thiserror::Error;

use crate::answers::{Answers, Value};
use crate::compile::{classes_with_cuts, integer_cuts};
use crate::error::{EvalError, Location, Severity};
use crate::eval::holds;
use crate::model::{FactorKind, FlagKind, LevelIndex, MissingPolicy, Ruleset};

/// Most answer-set classes an analysis enumerates.
pub const MAX_CLASSES: u128 = 50_000_000;
/// Most classes (with missing answers) whose outcomes are stored for exact
/// missing-answer analysis; beyond it only complete answer sets are enumerated.
pub const MAX_STORED_CLASSES: usize = 2_000_000;
/// Most flags a ruleset may have for whole-space analysis (flags are held in a 64-bit set).
pub const MAX_ANALYSED_FLAGS: usize = 64;

/// Why an analysis could not run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnalysisError {
    /// The answer space is too large to enumerate.
    #[error(
        "the answer space has {count} classes, above the limit of {limit}; the largest factors: {}",
        .largest.iter().map(|(f, n)| format!("{f} ({n} classes)")).collect::<Vec<_>>().join(", ")
    )]
    TooLarge {
        /// Number of classes, or `u128::MAX` when there are more than that.
        classes: u128,
        /// The number of classes in words: exact up to `u128::MAX`, else its order of
        /// magnitude (`about 1.3e154 (more than 2^128)`).
        count: String,
        /// The limit.
        limit: u128,
        /// The factors with the most classes, largest first.
        largest: Vec<(String, usize)>,
    },
    /// The two rulesets cannot be compared answer for answer.
    #[error("the rulesets cannot be compared: {}", .reasons.join("; "))]
    NotComparable {
        /// What differs.
        reasons: Vec<String>,
    },
    /// A ruleset has more flags than the analysis can track.
    #[error("ruleset `{ruleset}` has {count} flags; whole-space analysis handles at most {MAX_ANALYSED_FLAGS}")]
    TooManyFlags {
        /// Ruleset id.
        ruleset: String,
        /// Number of flags.
        count: usize,
    },
}

/// One class of answers of one factor.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Class {
    /// Representative value code (the smallest value of the class).
    code: i64,
    /// The answer as written (`moderate`, `true`, `12`), or empty for "missing".
    value: Option<Value>,
    /// For integer classes, the interval, e.g. `10..=18`.
    interval: Option<(i64, i64)>,
}

#[derive(Debug, Clone)]
struct SpaceFactor {
    id: String,
    /// Complete classes, least risk first; a final "missing" class is implied when `missing`.
    classes: Vec<Class>,
    missing: bool,
    /// Index of this factor in each ruleset (None: the ruleset does not ask it).
    in_ruleset: Vec<Option<usize>>,
}

/// The answer space shared by one or two rulesets.
#[derive(Debug, Clone)]
struct Space {
    factors: Vec<SpaceFactor>,
}

impl Space {
    fn new(rulesets: &[&Ruleset], with_missing: bool) -> Result<Space, AnalysisError> {
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
                        if first.kind != f.kind && !same_scale(&first.kind, &f.kind) {
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
            let mut template = None;
            for (r, fi) in sf.in_ruleset.iter().enumerate() {
                let Some(fi) = fi else { continue };
                let (Some(rs), Some(c)) = (rulesets.get(r), cuts.get(r).and_then(|c| c.get(*fi)))
                else {
                    continue;
                };
                all_cuts.extend_from_slice(c);
                if let Some(f) = rs.factors.get(*fi) {
                    template.get_or_insert(f);
                    sf.missing |= with_missing && f.missing == MissingPolicy::Ask;
                }
            }
            let Some(f) = template else { continue };
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
                })
                .collect();
        }
        Ok(Space { factors })
    }

    /// Number of slots of factor `f`, including its missing slot.
    fn radix(&self, f: usize, with_missing: bool) -> usize {
        self.factors.get(f).map_or(1, |x| {
            x.classes.len() + usize::from(with_missing && x.missing)
        })
    }

    fn size(&self, with_missing: bool) -> u128 {
        (0..self.factors.len()).fold(1u128, |acc, f| {
            acc.saturating_mul(self.radix(f, with_missing) as u128)
        })
    }

    fn strides(&self, with_missing: bool) -> Vec<usize> {
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
    fn size_text(&self, with_missing: bool) -> String {
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

    fn too_large(&self, with_missing: bool) -> AnalysisError {
        let classes = self.size(with_missing);
        let mut largest: Vec<(String, usize)> = self
            .factors
            .iter()
            .map(|f| (f.id.clone(), f.classes.len() + usize::from(f.missing)))
            .collect();
        largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        largest.truncate(3);
        AnalysisError::TooLarge {
            classes,
            count: self.size_text(with_missing),
            limit: MAX_CLASSES,
            largest,
        }
    }

    /// Value codes for ruleset `r` from slot digits (complete slots only).
    fn values_for(&self, r: usize, digits: &[usize], out: &mut [i64]) {
        for (sf, &d) in self.factors.iter().zip(digits) {
            if let (Some(Some(fi)), Some(class)) = (sf.in_ruleset.get(r), sf.classes.get(d)) {
                if let Some(slot) = out.get_mut(*fi) {
                    *slot = class.code;
                }
            }
        }
    }

    /// The pattern of per-factor slot sets, leaving out factors free to take any slot.
    fn pattern(&self, sets: &[Vec<usize>], with_missing: bool) -> Pattern {
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

    /// The number of slot combinations to enumerate, or why there are too many.
    fn enumerable(&self, with_missing: bool) -> Result<usize, AnalysisError> {
        let size = self.size(with_missing);
        if size > MAX_CLASSES {
            return Err(self.too_large(with_missing));
        }
        usize::try_from(size).map_err(|_| self.too_large(with_missing))
    }

    /// The answer set at enumeration index `index`.
    fn answer_set_at(&self, index: usize, strides: &[usize]) -> AnswerSet {
        let mut digits = vec![0usize; self.factors.len()];
        decode(index, strides, &mut digits);
        self.answer_set(&digits)
    }

    /// The answer set at `digits`, as (factor, value) pairs; `None` means unanswered.
    fn answer_set(&self, digits: &[usize]) -> AnswerSet {
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

fn same_scale(a: &FactorKind, b: &FactorKind) -> bool {
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

fn decode(mut index: usize, strides: &[usize], digits: &mut [usize]) {
    for (d, &s) in digits.iter_mut().zip(strides) {
        *d = index / s.max(1);
        index %= s.max(1);
    }
}

/// Run `work` over `0..total` split into contiguous chunks on every core; each chunk
/// gets its own state, returned in chunk order (so merging is deterministic).
fn parallel<S: Send>(
    total: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, std::ops::Range<usize>) + Sync,
) -> Vec<S> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(total.div_ceil(4096).max(1));
    let chunk = total.div_ceil(threads.max(1)).max(1);
    let ranges: Vec<std::ops::Range<usize>> = (0..threads)
        .map(|t| (t * chunk).min(total)..((t + 1) * chunk).min(total))
        .collect();
    if ranges.len() <= 1 {
        let mut s = init();
        work(&mut s, 0..total);
        return vec![s];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|range| {
                let (init, work) = (&init, &work);
                scope.spawn(move || {
                    let mut s = init();
                    work(&mut s, range);
                    s
                })
            })
            .collect();
        // A worker can only fail by panicking, which the library never does from input;
        // a lost chunk would be visible as a wrong total, so it is dropped, not hidden.
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    })
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
                (Some(v), Some((lo, hi))) if lo != hi => format!("{}={v} ({lo}..={hi})", a.factor),
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

// ---------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------

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
    levels: Vec<(usize, u8)>,
    first_decides: Vec<Option<usize>>,
    first_fires: Vec<Option<usize>>,
    first_flag: Vec<Option<usize>>,
    first_level: Vec<Option<usize>>,
    default_count: u64,
    first_default: Option<usize>,
    first_violation: Vec<Option<usize>>,
}

fn keep_first(slot: Option<&mut Option<usize>>, index: usize) {
    if let Some(s) = slot {
        if s.is_none_or(|x| index < x) {
            *s = Some(index);
        }
    }
}

/// Analyse one ruleset over every complete answer set: completeness, monotonicity,
/// rules that never decide, unreachable levels and flags, and its invariants.
pub fn check(rs: &Ruleset, strict: bool) -> Result<CheckReport, AnalysisError> {
    let space = Space::new(&[rs], false)?;
    let total = space.enumerable(false)?;
    let strides = space.strides(false);
    let n = space.factors.len();
    let accs = parallel(
        total,
        || CheckAcc {
            first_decides: vec![None; rs.rules.len()],
            first_fires: vec![None; rs.rules.len()],
            first_flag: vec![None; rs.flags.len()],
            first_level: vec![None; rs.levels.len()],
            first_violation: vec![None; rs.invariants.len()],
            ..CheckAcc::default()
        },
        |acc, range| {
            let mut digits = vec![0usize; n];
            let mut values = vec![0i64; rs.factors.len()];
            acc.levels.reserve(range.len());
            for index in range {
                decode(index, &strides, &mut digits);
                space.values_for(0, &digits, &mut values);
                let level = rs.level_of_codes(&values);
                acc.levels
                    .push((index, u8::try_from(level).unwrap_or(u8::MAX)));
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

    // Merge (chunks are in index order).
    let mut levels = vec![0u8; total];
    let mut merged = CheckAcc {
        first_decides: vec![None; rs.rules.len()],
        first_fires: vec![None; rs.rules.len()],
        first_flag: vec![None; rs.flags.len()],
        first_level: vec![None; rs.levels.len()],
        first_violation: vec![None; rs.invariants.len()],
        ..CheckAcc::default()
    };
    for acc in accs {
        for (i, l) in acc.levels {
            if let Some(slot) = levels.get_mut(i) {
                *slot = l;
            }
        }
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
            severity: if strict {
                Severity::Error
            } else {
                Severity::Warning
            },
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

// ---------------------------------------------------------------------------
// diff
// ---------------------------------------------------------------------------

/// Outcome of one ruleset on one answer-set class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Outcome {
    /// Lowest and highest level over the missing answers (equal when complete);
    /// `REFUSED` when a required answer is missing.
    lo: u8,
    hi: u8,
    /// Flags that fire for every completion / for some completion.
    all: u64,
    any: u64,
}

const REFUSED: u8 = u8::MAX;

impl Outcome {
    fn needs_review(self, refer_mask: u64) -> bool {
        self.lo != self.hi || (self.any & !self.all & refer_mask) != 0
    }
}

fn outcome_complete(rs: &Ruleset, values: &[i64]) -> Outcome {
    let level = u8::try_from(rs.level_of_codes(values)).unwrap_or(REFUSED);
    let mut bits = 0u64;
    for (i, flag) in rs.flags.iter().enumerate() {
        if holds(&rs.conditions, flag.when, values) {
            bits |= 1u64
                .checked_shl(u32::try_from(i).unwrap_or(64))
                .unwrap_or(0);
        }
    }
    Outcome {
        lo: level,
        hi: level,
        all: bits,
        any: bits,
    }
}

/// A level in a diff: its id in either ruleset, or `refused`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLevel {
    /// Level id (or `refused`: a required answer is missing).
    pub id: String,
    /// Whether OLD declares it.
    pub in_old: bool,
    /// Whether NEW declares it.
    pub in_new: bool,
}

/// Direction of a change of level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// To a more intensive level.
    Escalation,
    /// To a less intensive level.
    DeEscalation,
    /// The levels cannot be ordered against each other (one ruleset lacks one of them).
    Incomparable,
}

/// A set of answer sets: for each factor that matters, the answers it may take
/// (factors whose answer does not matter are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pattern(pub Vec<PatternItem>);

/// The answers one factor may take in a [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatternItem {
    /// Factor id.
    pub factor: String,
    /// The answers it may take; `None` is "unanswered". Integer answers stand for their
    /// class (see `ranges`).
    pub values: Vec<Option<Value>>,
    /// For integer factors, the interval each value stands for.
    pub ranges: Vec<Option<(i64, i64)>>,
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("any answers");
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|item| {
                let shown: Vec<String> = item
                    .values
                    .iter()
                    .zip(&item.ranges)
                    .map(|(v, r)| match (v, r) {
                        (Some(_), Some((lo, hi))) if lo != hi => format!("{lo}..={hi}"),
                        (Some(v), _) => v.to_string(),
                        (None, _) => "(unanswered)".to_owned(),
                    })
                    .collect();
                match shown.as_slice() {
                    [one] => format!("{}={one}", item.factor),
                    many => format!("{} in {{{}}}", item.factor, many.join(", ")),
                }
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// An example of a change, shown minimally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffExample {
    /// The answers that matter: every answer set matching it moves the same way.
    pub pattern: Pattern,
    /// How many answer-set classes the pattern covers.
    pub covers: u64,
    /// One concrete answer set matching the pattern.
    pub answers: AnswerSet,
    /// Rules that decided under OLD.
    pub old_deciding: Vec<String>,
    /// Rules that decided under NEW.
    pub new_deciding: Vec<String>,
}

/// One changed cell of the transition matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedCell {
    /// Level under OLD.
    pub from: String,
    /// Level under NEW.
    pub to: String,
    /// Escalation, de-escalation or incomparable.
    pub direction: Direction,
    /// Number of answer-set classes that move this way.
    pub classes: u64,
    /// Number of corpus cases that move this way (when a corpus was given).
    pub cases: Option<u64>,
    /// A few examples.
    pub examples: Vec<DiffExample>,
}

/// How one flag's firing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagChange {
    /// Flag id.
    pub flag: String,
    /// Classes where it fires under NEW but not under OLD.
    pub gained: u64,
    /// Classes where it fires under OLD but not under NEW.
    pub lost: u64,
    /// An answer set where it was gained, if any.
    pub gained_example: Option<AnswerSet>,
    /// An answer set where it was lost, if any.
    pub lost_example: Option<AnswerSet>,
}

/// The exact impact of replacing one ruleset with another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    /// `id version` of OLD.
    pub old: String,
    /// `id version` of NEW.
    pub new: String,
    /// What differs in shape (levels or factors in only one ruleset) and how it was handled.
    pub notes: Vec<String>,
    /// Whether answer sets with missing answers were enumerated too.
    pub includes_missing_answers: bool,
    /// Row and column labels of the matrix (OLD rows, NEW columns).
    pub levels: Vec<DiffLevel>,
    /// `matrix[old][new]`: answer-set classes per transition.
    pub matrix: Vec<Vec<u64>>,
    /// `case_matrix[old][new]`: corpus cases per transition, when a corpus was given.
    pub case_matrix: Option<Vec<Vec<u64>>>,
    /// Number of answer-set classes enumerated.
    pub classes: u64,
    /// Classes whose level changes.
    pub changed: u64,
    /// Classes moved to a more intensive level.
    pub escalations: u64,
    /// Classes moved to a less intensive level.
    pub de_escalations: u64,
    /// Every changed cell, with examples.
    pub cells: Vec<ChangedCell>,
    /// Flags whose firing changed.
    pub flag_changes: Vec<FlagChange>,
    /// Classes that newly need review / no longer need review.
    pub review_gained: u64,
    /// Classes that no longer need review.
    pub review_lost: u64,
}

impl DiffReport {
    /// Whether anything at all changed (levels, flags or review).
    pub fn has_changes(&self) -> bool {
        self.changed > 0
            || !self.flag_changes.is_empty()
            || self.review_gained > 0
            || self.review_lost > 0
    }

    /// The one-line summary.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} answer-set classes change level ({} escalations, {} de-escalations, {} other); {} flags change; review needed for {} more and {} fewer classes",
            self.changed,
            self.classes,
            self.escalations,
            self.de_escalations,
            self.changed - self.escalations - self.de_escalations,
            self.flag_changes.len(),
            self.review_gained,
            self.review_lost
        )
    }

    /// Count real cases into the matrix: each pair is (level under OLD, level under NEW),
    /// as level ids (or `refused`).
    pub fn add_cases<'a>(&mut self, cases: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let n = self.levels.len();
        let mut m = vec![vec![0u64; n]; n];
        for (from, to) in cases {
            let (Some(i), Some(j)) = (
                self.levels.iter().position(|l| l.id == from),
                self.levels.iter().position(|l| l.id == to),
            ) else {
                continue;
            };
            if let Some(cell) = m.get_mut(i).and_then(|row| row.get_mut(j)) {
                *cell += 1;
            }
        }
        for cell in &mut self.cells {
            let i = self.levels.iter().position(|l| l.id == cell.from);
            let j = self.levels.iter().position(|l| l.id == cell.to);
            cell.cases = match (i, j) {
                (Some(i), Some(j)) => m.get(i).and_then(|row| row.get(j)).copied(),
                _ => Some(0),
            };
        }
        self.case_matrix = Some(m);
    }
}

struct DiffAcc {
    matrix: Vec<Vec<u64>>,
    first_in_cell: BTreeMap<(usize, usize), Vec<usize>>,
    flag_gained: Vec<(u64, Option<usize>)>,
    flag_lost: Vec<(u64, Option<usize>)>,
    review_gained: u64,
    review_lost: u64,
}

/// Examples kept per changed cell per chunk, before minimisation picks a few.
const EXAMPLE_CANDIDATES: usize = 64;
/// Examples shown per changed cell.
const EXAMPLES_PER_CELL: usize = 3;

/// The exact impact of replacing `old` with `new`, over every answer-set class
/// (including unanswered questions where the `ask` policy allows them and the space is
/// small enough to store).
pub fn diff(old: &Ruleset, new: &Ruleset) -> Result<DiffReport, AnalysisError> {
    for rs in [old, new] {
        if rs.flags.len() > MAX_ANALYSED_FLAGS {
            return Err(AnalysisError::TooManyFlags {
                ruleset: rs.meta.id.clone(),
                count: rs.flags.len(),
            });
        }
    }
    let rulesets = [old, new];
    let mut space = Space::new(&rulesets, true)?;
    let mut with_missing = space.factors.iter().any(|f| f.missing);
    let mut notes = Vec::new();
    if with_missing && space.size(true) > MAX_STORED_CLASSES as u128 {
        notes.push(format!(
            "answer sets with unanswered questions were not enumerated: with them the space has {} classes, above the {} that can be stored; only complete answer sets are counted",
            space.size_text(true),
            MAX_STORED_CLASSES
        ));
        with_missing = false;
        for f in &mut space.factors {
            f.missing = false;
        }
    }
    let total = space.enumerable(with_missing)?;
    for f in &space.factors {
        match (
            f.in_ruleset.first().copied().flatten(),
            f.in_ruleset.get(1).copied().flatten(),
        ) {
            (Some(_), None) => notes.push(format!(
                "factor `{}` is asked only by OLD; NEW ignores its answer",
                f.id
            )),
            (None, Some(_)) => notes.push(format!(
                "factor `{}` is asked only by NEW; OLD ignores its answer",
                f.id
            )),
            _ => {}
        }
    }

    // Levels: NEW's order, then OLD-only levels, then `refused` if needed.
    let mut levels: Vec<DiffLevel> = new
        .levels
        .iter()
        .map(|l| DiffLevel {
            id: l.id.clone(),
            in_old: old.level_index(&l.id).is_some(),
            in_new: true,
        })
        .collect();
    for l in &old.levels {
        if new.level_index(&l.id).is_none() {
            notes.push(format!("level `{}` exists only in OLD", l.id));
            levels.push(DiffLevel {
                id: l.id.clone(),
                in_old: true,
                in_new: false,
            });
        }
    }
    for l in &new.levels {
        if old.level_index(&l.id).is_none() {
            notes.push(format!("level `{}` exists only in NEW", l.id));
        }
    }
    let refused_row = levels.len();
    levels.push(DiffLevel {
        id: "refused".to_owned(),
        in_old: true,
        in_new: true,
    });
    // Map each ruleset's level index (and REFUSED) to a row/column.
    let map_levels = |rs: &Ruleset| -> Vec<usize> {
        rs.levels
            .iter()
            .map(|l| {
                levels
                    .iter()
                    .position(|d| d.id == l.id)
                    .unwrap_or(refused_row)
            })
            .collect()
    };
    let (old_map, new_map) = (map_levels(old), map_levels(new));
    let row = |map: &[usize], l: u8| -> usize {
        if l == REFUSED {
            refused_row
        } else {
            map.get(usize::from(l)).copied().unwrap_or(refused_row)
        }
    };

    let strides = space.strides(with_missing);
    let n = space.factors.len();
    // Stored outcomes (with missing answers) or evaluation on the fly.
    let stored: Option<[Vec<Outcome>; 2]> = with_missing.then(|| {
        [0usize, 1].map(|r| {
            rulesets.get(r).map_or_else(Vec::new, |rs| {
                stored_outcomes(&space, rs, r, &strides, total)
            })
        })
    });
    let outcome_at = |r: usize, index: usize, digits: &[usize], values: &mut Vec<i64>| -> Outcome {
        match &stored {
            Some(s) => s
                .get(r)
                .and_then(|v| v.get(index))
                .copied()
                .unwrap_or_default(),
            None => {
                let Some(rs) = rulesets.get(r) else {
                    return Outcome::default();
                };
                values.clear();
                values.resize(rs.factors.len(), 0);
                space.values_for(r, digits, values);
                outcome_complete(rs, values)
            }
        }
    };
    let rows = levels.len();
    let flag_pairs: Vec<(String, Option<usize>, Option<usize>)> = {
        let mut ids: Vec<String> = old.flags.iter().map(|f| f.id.clone()).collect();
        for f in &new.flags {
            if !ids.contains(&f.id) {
                ids.push(f.id.clone());
            }
        }
        ids.into_iter()
            .map(|id| {
                let a = old.flags.iter().position(|f| f.id == id);
                let b = new.flags.iter().position(|f| f.id == id);
                (id, a, b)
            })
            .collect()
    };
    let refer_mask = |rs: &Ruleset| {
        rs.flags.iter().enumerate().fold(0u64, |m, (i, f)| {
            if f.kind == FlagKind::Refer {
                m | 1u64
                    .checked_shl(u32::try_from(i).unwrap_or(64))
                    .unwrap_or(0)
            } else {
                m
            }
        })
    };
    let (old_refer, new_refer) = (refer_mask(old), refer_mask(new));
    let bit = |word: u64, i: Option<usize>| {
        i.and_then(|i| u32::try_from(i).ok())
            .and_then(|i| word.checked_shr(i))
            .is_some_and(|w| w & 1 == 1)
    };

    let accs = parallel(
        total,
        || DiffAcc {
            matrix: vec![vec![0; rows]; rows],
            first_in_cell: BTreeMap::new(),
            flag_gained: vec![(0, None); flag_pairs.len()],
            flag_lost: vec![(0, None); flag_pairs.len()],
            review_gained: 0,
            review_lost: 0,
        },
        |acc, range| {
            let mut digits = vec![0usize; n];
            let mut values = Vec::new();
            for index in range {
                decode(index, &strides, &mut digits);
                let a = outcome_at(0, index, &digits, &mut values);
                let b = outcome_at(1, index, &digits, &mut values);
                let (i, j) = (row(&old_map, a.hi), row(&new_map, b.hi));
                if let Some(cell) = acc.matrix.get_mut(i).and_then(|r| r.get_mut(j)) {
                    *cell += 1;
                }
                if i != j {
                    let list = acc.first_in_cell.entry((i, j)).or_default();
                    if list.len() < EXAMPLE_CANDIDATES {
                        list.push(index);
                    }
                }
                for (k, (_, fa, fb)) in flag_pairs.iter().enumerate() {
                    let (x, y) = (bit(a.all, *fa), bit(b.all, *fb));
                    let slot = match (x, y) {
                        (false, true) => acc.flag_gained.get_mut(k),
                        (true, false) => acc.flag_lost.get_mut(k),
                        _ => None,
                    };
                    if let Some((count, first)) = slot {
                        *count += 1;
                        first.get_or_insert(index);
                    }
                }
                match (a.needs_review(old_refer), b.needs_review(new_refer)) {
                    (false, true) => acc.review_gained += 1,
                    (true, false) => acc.review_lost += 1,
                    _ => {}
                }
            }
        },
    );

    let mut matrix = vec![vec![0u64; rows]; rows];
    let mut candidates: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    let mut flag_gained = vec![(0u64, None::<usize>); flag_pairs.len()];
    let mut flag_lost = vec![(0u64, None::<usize>); flag_pairs.len()];
    let (mut review_gained, mut review_lost) = (0, 0);
    for acc in accs {
        for (mrow, arow) in matrix.iter_mut().zip(acc.matrix) {
            for (m, a) in mrow.iter_mut().zip(arow) {
                *m += a;
            }
        }
        for (k, v) in acc.first_in_cell {
            candidates.entry(k).or_default().extend(v);
        }
        for (into, from) in [
            (&mut flag_gained, acc.flag_gained),
            (&mut flag_lost, acc.flag_lost),
        ] {
            for ((c, f), (c2, f2)) in into.iter_mut().zip(from) {
                *c += c2;
                if let Some(f2) = f2 {
                    keep_first(Some(f), f2);
                }
            }
        }
        review_gained += acc.review_gained;
        review_lost += acc.review_lost;
    }

    let direction = |i: usize, j: usize| -> Direction {
        let (Some(a), Some(b)) = (levels.get(i), levels.get(j)) else {
            return Direction::Incomparable;
        };
        if i == refused_row || j == refused_row {
            return Direction::Incomparable;
        }
        let rank = |rs: &Ruleset, id: &str| rs.level_index(id);
        match (
            rank(new, &a.id),
            rank(new, &b.id),
            rank(old, &a.id),
            rank(old, &b.id),
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
    };

    let cell_of = |digits: &[usize]| -> (usize, usize) {
        let mut values = Vec::new();
        let index = digits.iter().zip(&strides).map(|(d, s)| d * s).sum();
        let a = outcome_at(0, index, digits, &mut values);
        let b = outcome_at(1, index, digits, &mut values);
        (row(&old_map, a.hi), row(&new_map, b.hi))
    };
    let mut cells = Vec::new();
    let (mut changed, mut escalations, mut de_escalations) = (0u64, 0u64, 0u64);
    for ((i, j), mut list) in candidates {
        list.sort_unstable();
        let count = matrix.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
        let dir = direction(i, j);
        changed += count;
        match dir {
            Direction::Escalation => escalations += count,
            Direction::DeEscalation => de_escalations += count,
            Direction::Incomparable => {}
        }
        let mut examples: Vec<DiffExample> = Vec::new();
        let mut cubes: Vec<Vec<Vec<usize>>> = Vec::new();
        for index in list {
            if examples.len() >= EXAMPLES_PER_CELL {
                break;
            }
            let mut digits = vec![0usize; n];
            decode(index, &strides, &mut digits);
            if cubes
                .iter()
                .any(|sets: &Vec<Vec<usize>>| sets.iter().zip(&digits).all(|(s, d)| s.contains(d)))
            {
                continue;
            }
            let sets = minimise(&space, &digits, (i, j), &cell_of, with_missing);
            let pattern = space.pattern(&sets, with_missing);
            let covers = sets.iter().map(|s| s.len() as u64).product();
            let deciding = |r: usize| deciding_rules(rulesets.get(r).copied(), r, &space, &digits);
            examples.push(DiffExample {
                pattern,
                covers,
                answers: space.answer_set(&digits),
                old_deciding: deciding(0),
                new_deciding: deciding(1),
            });
            cubes.push(sets);
        }
        cells.push(ChangedCell {
            from: levels.get(i).map(|l| l.id.clone()).unwrap_or_default(),
            to: levels.get(j).map(|l| l.id.clone()).unwrap_or_default(),
            direction: dir,
            classes: count,
            cases: None,
            examples,
        });
    }

    let example_at = |index: usize| space.answer_set_at(index, &strides);
    let flag_changes = flag_pairs
        .iter()
        .zip(flag_gained.iter().zip(&flag_lost))
        .filter(|(_, (g, l))| g.0 > 0 || l.0 > 0)
        .map(|((id, _, _), (g, l))| FlagChange {
            flag: id.clone(),
            gained: g.0,
            lost: l.0,
            gained_example: g.1.map(example_at),
            lost_example: l.1.map(example_at),
        })
        .collect();

    // Drop the `refused` row/column when nothing was refused.
    let refused_used = matrix
        .get(refused_row)
        .is_some_and(|r| r.iter().any(|&c| c > 0))
        || matrix
            .iter()
            .any(|r| r.get(refused_row).is_some_and(|&c| c > 0));
    if !refused_used {
        levels.truncate(refused_row);
        matrix.truncate(refused_row);
        for r in &mut matrix {
            r.truncate(refused_row);
        }
    }
    Ok(DiffReport {
        old: format!("{} {}", old.meta.id, old.meta.version),
        new: format!("{} {}", new.meta.id, new.meta.version),
        notes,
        includes_missing_answers: with_missing,
        levels,
        matrix,
        case_matrix: None,
        classes: total as u64,
        changed,
        escalations,
        de_escalations,
        cells,
        flag_changes,
        review_gained,
        review_lost,
    })
}

/// Outcomes of ruleset `r` for every slot combination, with missing slots filled by
/// dynamic programming over the slots they stand for.
fn stored_outcomes(
    space: &Space,
    rs: &Ruleset,
    r: usize,
    strides: &[usize],
    total: usize,
) -> Vec<Outcome> {
    let n = space.factors.len();
    let mut out = vec![Outcome::default(); total];
    // Complete slots, in parallel.
    let chunks = parallel(total, Vec::new, |acc: &mut Vec<(usize, Outcome)>, range| {
        let mut digits = vec![0usize; n];
        let mut values = vec![0i64; rs.factors.len()];
        for index in range {
            decode(index, strides, &mut digits);
            let complete = space
                .factors
                .iter()
                .zip(&digits)
                .all(|(f, &d)| d < f.classes.len());
            if complete {
                space.values_for(r, &digits, &mut values);
                acc.push((index, outcome_complete(rs, &values)));
            }
        }
    });
    for chunk in chunks {
        for (i, o) in chunk {
            if let Some(slot) = out.get_mut(i) {
                *slot = o;
            }
        }
    }
    // Missing slots, one factor at a time (earlier factors' missing slots are final
    // before a later factor combines over them).
    let mut digits = vec![0usize; n];
    for (f, sf) in space.factors.iter().enumerate() {
        if !sf.missing {
            continue;
        }
        let m = sf.classes.len();
        let stride = strides.get(f).copied().unwrap_or(1);
        let policy = sf
            .in_ruleset
            .get(r)
            .copied()
            .flatten()
            .and_then(|fi| rs.factors.get(fi))
            .map(|x| x.missing.clone());
        for index in 0..total {
            decode(index, strides, &mut digits);
            if digits.get(f) != Some(&m) {
                continue;
            }
            let base = index - m * stride;
            let slot = |v: usize| out.get(base + v * stride).copied().unwrap_or_default();
            let combined = match &policy {
                // Not asked by this ruleset: every value behaves the same.
                None => slot(0),
                Some(MissingPolicy::Assume(code)) => slot(
                    sf.classes
                        .iter()
                        .rposition(|c| c.code <= *code)
                        .unwrap_or(0),
                ),
                Some(MissingPolicy::Error) => Outcome {
                    lo: REFUSED,
                    hi: REFUSED,
                    all: 0,
                    any: 0,
                },
                Some(MissingPolicy::Ask) => (0..m)
                    .map(slot)
                    .fold(None, |acc: Option<Outcome>, o| {
                        Some(match acc {
                            None => o,
                            Some(a) if a.hi == REFUSED || o.hi == REFUSED => Outcome {
                                lo: REFUSED,
                                hi: REFUSED,
                                all: 0,
                                any: 0,
                            },
                            Some(a) => Outcome {
                                lo: a.lo.min(o.lo),
                                hi: a.hi.max(o.hi),
                                all: a.all & o.all,
                                any: a.any | o.any,
                            },
                        })
                    })
                    .unwrap_or_default(),
            };
            if let Some(s) = out.get_mut(index) {
                *s = combined;
            }
        }
    }
    out
}

/// Grow, factor by factor, the set of answers each factor may take while every
/// answer set in the product of the sets stays in the same cell. Returns the sets
/// (slot indices per factor); a factor whose set holds every slot does not matter.
fn minimise(
    space: &Space,
    digits: &[usize],
    cell: (usize, usize),
    cell_of: &dyn Fn(&[usize]) -> (usize, usize),
    with_missing: bool,
) -> Vec<Vec<usize>> {
    const MAX_CUBE: usize = 1 << 16;
    let n = space.factors.len();
    let mut sets: Vec<Vec<usize>> = digits.iter().map(|&d| vec![d]).collect();
    let mut probe = digits.to_vec();
    for f in 0..n {
        for v in 0..space.radix(f, with_missing) {
            if sets.get(f).is_some_and(|s| s.contains(&v)) {
                continue;
            }
            // The new slab: factor f takes v, every other factor ranges over its set.
            let lens: Vec<usize> = (0..n)
                .map(|g| {
                    if g == f {
                        1
                    } else {
                        sets.get(g).map_or(1, Vec::len)
                    }
                })
                .collect();
            let slab: usize = lens.iter().product();
            let cube = slab.saturating_mul(sets.get(f).map_or(1, Vec::len) + 1);
            if cube > MAX_CUBE {
                continue;
            }
            let mut ok = true;
            for k in 0..slab {
                let mut rest = k;
                for g in (0..n).rev() {
                    let len = lens.get(g).copied().unwrap_or(1);
                    let slot = if g == f {
                        v
                    } else {
                        sets.get(g)
                            .and_then(|s| s.get(rest % len))
                            .copied()
                            .unwrap_or(0)
                    };
                    if let Some(p) = probe.get_mut(g) {
                        *p = slot;
                    }
                    rest /= len;
                }
                if cell_of(&probe) != cell {
                    ok = false;
                    break;
                }
            }
            if ok {
                if let Some(s) = sets.get_mut(f) {
                    s.push(v);
                }
            }
        }
        if let Some(s) = sets.get_mut(f) {
            s.sort_unstable();
        }
    }
    sets
}

fn deciding_rules(rs: Option<&Ruleset>, r: usize, space: &Space, digits: &[usize]) -> Vec<String> {
    let Some(rs) = rs else { return Vec::new() };
    let mut answers = rs.new_answers();
    for (sf, &d) in space.factors.iter().zip(digits) {
        if let (Some(Some(fi)), Some(class)) = (sf.in_ruleset.get(r), sf.classes.get(d)) {
            if let Some(v) = &class.value {
                // The value comes from the ruleset's own scale, so it is always accepted.
                if answers.set_index(*fi, v).is_err() {
                    return vec![format!("(answer `{v}` for `{}` was refused)", sf.id)];
                }
            }
        }
    }
    match rs.assess(&answers) {
        Ok(a) => a.deciding_rules.iter().map(ToString::to_string).collect(),
        Err(e) => vec![format!("({e})")],
    }
}

// ---------------------------------------------------------------------------
// coverage suggestions and hinges
// ---------------------------------------------------------------------------

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
pub fn hinges(answers: &Answers<'_>) -> Result<Vec<Hinge>, EvalError> {
    let rs = answers.ruleset;
    let base = rs.level_for(answers)?;
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
            rs.level_for(&probe)
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

#[cfg(test)]
mod class_count_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn booleans(n: usize) -> Ruleset {
        let mut text = String::from(
            "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n",
        );
        for i in 0..n {
            text.push_str(&format!("  - {{id: f{i}, question: q, kind: boolean}}\n"));
        }
        text.push_str("rules:\n  - {id: r, level: high, because: b, when: {f0: true}}\n");
        Ruleset::from_yaml(&text).unwrap()
    }

    #[test]
    fn class_counts_beyond_u128_are_reported_as_their_magnitude_not_as_2_pow_128_minus_1() {
        let e = check(&booleans(512), false).unwrap_err();
        let text = e.to_string();
        // 2^512 = 1.34e154.
        assert!(
            text.contains("the answer space has about 1.3e154 (more than 2^128) classes"),
            "{text}"
        );
        assert!(!text.contains(&u128::MAX.to_string()), "{text}");
        // Below the saturation the count is exact.
        let e = check(&booleans(100), false).unwrap_err().to_string();
        assert!(e.contains(&format!("has {} classes", 1u128 << 100)), "{e}");
    }
}
