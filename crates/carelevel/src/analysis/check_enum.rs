//! `check` by enumeration: every complete answer-set class evaluated, in parallel,
//! then a monotonicity pass over the levels. The reference the symbolic `check`
//! ([`super::check_symbolic`]) is tested against, and its fallback when a diagram
//! outgrows its budget but the space is small enough to enumerate.

use super::check::{CheckMethod, Count, Defaulted, Facts};
use super::*;
use crate::eval::holds;
use crate::model::{FlagKind, Ruleset};

#[derive(Default)]
struct CheckAcc {
    /// The level of every class of the chunk, in order (chunks are contiguous).
    levels: Vec<u8>,
    first_decides: Vec<Option<usize>>,
    first_fires: Vec<Option<usize>>,
    first_flag: Vec<Option<usize>>,
    first_level: Vec<Option<usize>>,
    default_count: u64,
    /// Complete answer combinations of the default classes; `None` past `u128`.
    default_combinations: Option<u128>,
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
            default_combinations: Some(0),
            ..CheckAcc::default()
        }
    }

    /// Evaluate the class at `index` (its `digits`, its value codes `values`).
    fn visit(
        &mut self,
        rs: &Ruleset,
        widths: &[Vec<u128>],
        index: usize,
        digits: &[usize],
        values: &[i64],
    ) {
        let level = rs.level_of_codes(values);
        self.levels.push(u8::try_from(level).unwrap_or(u8::MAX));
        keep_first(self.first_level.get_mut(level), index);
        let mut any_fired = false;
        for (r, rule) in rs.rules.iter().enumerate() {
            if holds(&rs.conditions, rule.when, values) {
                any_fired = true;
                keep_first(self.first_fires.get_mut(r), index);
                if rule.level == level {
                    keep_first(self.first_decides.get_mut(r), index);
                }
            }
        }
        let mut refer = false;
        for (f, flag) in rs.flags.iter().enumerate() {
            if holds(&rs.conditions, flag.when, values) {
                refer |= flag.kind == FlagKind::Refer;
                keep_first(self.first_flag.get_mut(f), index);
            }
        }
        if !any_fired && rs.scoring.is_none() && level == 0 {
            self.default_count += 1;
            let weight = widths
                .iter()
                .zip(digits)
                .try_fold(1u128, |acc, (w, &d)| acc.checked_mul(*w.get(d)?));
            self.default_combinations = self
                .default_combinations
                .and_then(|c| c.checked_add(weight?));
            if self.first_default.is_none() {
                self.first_default = Some(index);
            }
        }
        for (i, inv) in rs.invariants.iter().enumerate() {
            let applies = inv.when.is_none_or(|w| holds(&rs.conditions, w, values));
            let level_ok = inv
                .level_bounds
                .is_none_or(|(lo, hi)| lo <= level && level <= hi);
            let refer_ok = inv.refer.is_none_or(|want| want == refer);
            if applies && !(level_ok && refer_ok) {
                keep_first(self.first_violation.get_mut(i), index);
            }
        }
    }

    /// Fold `other` (the next chunk) into `self`.
    fn merge(&mut self, other: CheckAcc) {
        let pairs = [
            (&mut self.first_decides, other.first_decides),
            (&mut self.first_fires, other.first_fires),
            (&mut self.first_flag, other.first_flag),
            (&mut self.first_level, other.first_level),
            (&mut self.first_violation, other.first_violation),
        ];
        for (into, from) in pairs {
            for (slot, v) in into.iter_mut().zip(from) {
                if let Some(v) = v {
                    keep_first(Some(slot), v);
                }
            }
        }
        self.default_count += other.default_count;
        self.default_combinations = self
            .default_combinations
            .and_then(|c| c.checked_add(other.default_combinations?));
        if let Some(d) = other.first_default {
            keep_first(Some(&mut self.first_default), d);
        }
    }
}

/// The facts of `check` by evaluating every complete answer-set class of `space`
/// (the space of `rs` alone), refused before any work when there are too many.
pub(crate) fn facts(rs: &Ruleset, space: &Space) -> Result<Facts, AnalysisError> {
    let total = space.enumerable(false)?;
    // Each class: its evaluation, then the monotonicity pass (a step per factor).
    let per_class = space::class_cost(rs)
        .saturating_add(u64::try_from(space.factors.len()).unwrap_or(u64::MAX));
    space.within_work("checking every answer set", total, per_class)?;
    let strides = space.strides(false);
    let n = space.factors.len();
    let widths = super::check::widths(space);
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
                acc.visit(rs, &widths, index, &digits, &values);
            }
        },
    );
    // Chunks come back in order and cover `0..total` contiguously, so their levels
    // concatenate into the level of every class by index.
    let mut levels: Vec<u8> = Vec::with_capacity(total);
    let mut merged = CheckAcc::for_ruleset(rs);
    for mut acc in accs {
        levels.append(&mut acc.levels);
        merged.merge(acc);
    }
    let first_drop = first_drops(space, &levels, &strides, total);
    let digits_at = |index: usize| {
        let mut digits = vec![0usize; n];
        decode(index, &strides, &mut digits);
        digits
    };
    let (classes, combinations) = super::check::totals(space);
    Ok(Facts {
        method: CheckMethod::Enumeration,
        classes,
        combinations,
        level_reached: merged.first_level.iter().map(Option::is_some).collect(),
        rule_decides: merged.first_decides.iter().map(Option::is_some).collect(),
        rule_first_fires: merged
            .first_fires
            .iter()
            .map(|f| f.map(digits_at))
            .collect(),
        flag_fires: merged.first_flag.iter().map(Option::is_some).collect(),
        default: merged.first_default.map(|first| Defaulted {
            classes: Count::exact(u128::from(merged.default_count)),
            combinations: Count::from_checked(merged.default_combinations),
            first: digits_at(first),
        }),
        first_violation: merged
            .first_violation
            .iter()
            .map(|f| f.map(digits_at))
            .collect(),
        first_drop: first_drop.iter().map(|f| f.map(digits_at)).collect(),
    })
}

/// Per factor, the first class (by index) where raising that factor by one class
/// lowers the level.
fn first_drops(
    space: &Space,
    levels: &[u8],
    strides: &[usize],
    total: usize,
) -> Vec<Option<usize>> {
    let n = space.factors.len();
    let radices: Vec<usize> = (0..n).map(|f| space.radix(f, false)).collect();
    let mono = parallel(
        total,
        || vec![None::<usize>; n],
        |first, range| {
            let mut digits = vec![0usize; n];
            for index in range {
                decode(index, strides, &mut digits);
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
    first_drop
}
