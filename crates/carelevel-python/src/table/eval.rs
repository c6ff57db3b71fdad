//! Row evaluation: the slots of a row form a mixed-radix key, and results are memoized
//! per key, so each distinct answer combination is evaluated once by the core
//! (`decide`, or `assess` when answers are missing) and every other row with that key
//! is a table lookup.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use carelevel::Ruleset;

use super::decode::{column_slots, Encoder, Slots};
use super::Plan;

/// Largest memo kept as a dense table (entries of 4 bytes).
const DENSE_MEMO_MAX: u64 = 1 << 22;

/// A memo entry not evaluated yet.
const UNKNOWN: u32 = u32::MAX;

/// The result index of a bad row.
pub(super) const ERROR_ROW: u32 = u32::MAX;

/// The result of one distinct answer combination.
pub(super) struct Outcome {
    pub(super) level: i32,
    pub(super) lowest: i32,
    pub(super) highest: i32,
    pub(super) refer: bool,
    pub(super) needs_review: bool,
    pub(super) deciding: Vec<i32>,
    pub(super) flags: Vec<i32>,
}

/// An outcome, or the message of the error that evaluating it gave.
pub(super) type RowResult = Result<Outcome, Arc<str>>;

/// Memoized evaluation over mixed-radix keys of slots.
pub(super) struct Evaluator<'r> {
    pub(super) rs: &'r Ruleset,
    /// Per factor: the weight of its slot in the key (`None`: the key space overflows
    /// `u64`, rows are evaluated one by one).
    strides: Option<Vec<u64>>,
    /// Per factor: the number of slot values (`1 + classes`).
    radix: Vec<u64>,
    dense: Vec<u32>,
    sparse: HashMap<u64, u32>,
    /// Every distinct result, in the order first seen.
    pub(super) results: Vec<RowResult>,
    /// Per result: whether it is an error (kept apart: rows test it without touching
    /// the results themselves).
    failed: Vec<bool>,
    /// Whether any entry of `failed` is true.
    any_failed: bool,
    rule_ids: HashMap<&'r str, i32>,
    flag_ids: HashMap<&'r str, i32>,
    answers: carelevel::Answers<'r>,
    /// Scratch: the slots of the combination being evaluated.
    scratch: Vec<u32>,
}

impl<'r> Evaluator<'r> {
    pub(super) fn new(rs: &'r Ruleset) -> Evaluator<'r> {
        let mut strides = Vec::new();
        let mut radix = Vec::new();
        let mut total: Option<u64> = Some(1);
        for f in rs.factors() {
            strides.push(total.unwrap_or(0));
            let r = u64::try_from(f.classes().len() + 1).ok();
            radix.push(r.unwrap_or(u64::MAX));
            total = total.zip(r).and_then(|(t, r)| t.checked_mul(r));
        }
        let dense = match total {
            Some(t) if t <= DENSE_MEMO_MAX => vec![UNKNOWN; usize::try_from(t).unwrap_or(0)],
            _ => Vec::new(),
        };
        let index = |ids: Vec<&'r str>| -> HashMap<&'r str, i32> {
            ids.into_iter()
                .enumerate()
                .map(|(i, id)| (id, i32::try_from(i).unwrap_or(i32::MAX)))
                .collect()
        };
        Evaluator {
            rs,
            strides: total.map(|_| strides),
            radix,
            dense,
            sparse: HashMap::new(),
            results: Vec::new(),
            failed: Vec::new(),
            any_failed: false,
            rule_ids: index(rs.rules().iter().map(|r| r.id.as_str()).collect()),
            flag_ids: index(rs.flags().iter().map(|f| f.id.as_str()).collect()),
            answers: rs.new_answers(),
            scratch: vec![0; rs.factors().len()],
        }
    }

    /// Evaluate one combination of slots (one per factor) with the core.
    fn evaluate(&mut self, slots: &[u32]) -> RowResult {
        let rs = self.rs;
        for (i, (f, &s)) in rs.factors().iter().zip(slots).enumerate() {
            match s.checked_sub(1).and_then(|c| f.classes().get(c as usize)) {
                None => {
                    self.answers.clear_index(i);
                }
                Some(&code) => {
                    self.answers
                        .set_code(i, code)
                        .map_err(|e| Arc::<str>::from(e.to_string()))?;
                }
            }
        }
        let complete = rs
            .factors()
            .iter()
            .zip(slots)
            .all(|(f, &s)| s != 0 || matches!(f.missing, carelevel::MissingPolicy::Assume(_)));
        let rank = |id: &str| {
            rs.level_index(id)
                .map_or(-1, |i| i32::try_from(i).unwrap_or(-1))
        };
        let ids = |map: &HashMap<&str, i32>, names: &mut dyn Iterator<Item = &str>| -> Vec<i32> {
            names.filter_map(|n| map.get(n).copied()).collect()
        };
        if complete {
            let d = rs
                .decide(&self.answers)
                .map_err(|e| Arc::<str>::from(e.to_string()))?;
            let level = rank(d.level);
            return Ok(Outcome {
                level,
                lowest: level,
                highest: level,
                refer: d.refer,
                needs_review: d.needs_review,
                deciding: ids(&self.rule_ids, &mut d.deciding_rules.iter().copied()),
                flags: ids(&self.flag_ids, &mut d.flags.iter().copied()),
            });
        }
        let a = rs
            .assess(&self.answers)
            .map_err(|e| Arc::<str>::from(e.to_string()))?;
        let as_i32 = |r: usize| i32::try_from(r).unwrap_or(-1);
        Ok(Outcome {
            level: as_i32(a.level.rank),
            lowest: as_i32(a.level_range.lowest.rank),
            highest: as_i32(a.level_range.highest.rank),
            refer: a.refer,
            needs_review: a.needs_review,
            deciding: ids(
                &self.rule_ids,
                &mut a.deciding_rules.iter().map(|r| r.as_ref()),
            ),
            flags: ids(&self.flag_ids, &mut a.flags.iter().map(|f| f.id.as_ref())),
        })
    }

    /// Evaluate a combination and keep its result: its index.
    fn add(&mut self, slots: &[u32]) -> u32 {
        let result = self.evaluate(slots);
        let index = u32::try_from(self.results.len()).unwrap_or(UNKNOWN - 1);
        self.failed.push(result.is_err());
        self.any_failed |= result.is_err();
        self.results.push(result);
        index
    }

    /// The result index of the combination with this key, evaluating on first sight.
    /// Only called when keys are used (`strides` is `Some`).
    #[inline]
    fn by_key(&mut self, key: u64) -> u32 {
        match usize::try_from(key).ok().and_then(|k| self.dense.get(k)) {
            Some(&c) if c != UNKNOWN => c,
            _ => self.by_key_slow(key),
        }
    }

    /// [`Evaluator::by_key`] past the dense memo, or on first sight.
    fn by_key_slow(&mut self, key: u64) -> u32 {
        let cached = match usize::try_from(key).ok().and_then(|k| self.dense.get(k)) {
            Some(&c) => c,
            None if self.dense.is_empty() => self.sparse.get(&key).copied().unwrap_or(UNKNOWN),
            None => UNKNOWN,
        };
        if cached != UNKNOWN {
            return cached;
        }
        // The slots back from the key: digit `f` in the mixed radix of `strides`.
        let mut slots = std::mem::take(&mut self.scratch);
        if let Some(strides) = &self.strides {
            for ((s, &st), &r) in slots.iter_mut().zip(strides).zip(&self.radix) {
                *s = u32::try_from((key / st.max(1)) % r.max(1)).unwrap_or(u32::MAX);
            }
        }
        let index = self.add(&slots);
        self.scratch = slots;
        match usize::try_from(key)
            .ok()
            .and_then(|k| self.dense.get_mut(k))
        {
            Some(c) => *c = index,
            None => {
                self.sparse.insert(key, index);
            }
        }
        index
    }

    /// The result index for a row's slots, evaluating on first sight.
    #[cfg(test)]
    pub(super) fn lookup(&mut self, slots: &[u32]) -> u32 {
        match &self.strides {
            Some(strides) => {
                let key = slots
                    .iter()
                    .zip(strides)
                    .map(|(&s, &st)| u64::from(s) * st)
                    .sum::<u64>();
                self.by_key(key)
            }
            None => self.add(slots),
        }
    }
}

/// The rows of one batch: each row's result index (`ERROR_ROW` for a bad row) and the
/// messages of the bad rows, in row order.
pub(super) struct BatchRows {
    pub(super) index: Vec<u32>,
    pub(super) errors: Vec<(usize, Arc<str>)>,
}

/// Evaluate one batch: the result index (or error message) of every row.
pub(super) fn evaluate_batch(
    ev: &mut Evaluator<'_>,
    encoders: &mut [Encoder<'_>],
    plan: &Plan,
    batch: &RecordBatch,
) -> BatchRows {
    let n = batch.num_rows();
    let nf = ev.rs.factors().len();
    let keyed = ev.strides.is_some();
    // Keys are built column by column (a factor without a column is unanswered: slot 0).
    // Without keys (a key space past `u64`), each factor's slots are kept instead.
    let mut keys = if keyed { vec![0u64; n] } else { Vec::new() };
    let mut columns: Vec<Option<Vec<u32>>> = (0..nf).map(|_| None).collect();
    let mut bad = vec![false; n];
    let mut messages: Vec<(usize, usize, Arc<str>)> = Vec::new();
    let mut buf = Slots::default();
    for (order, &(c, f)) in plan.columns.iter().enumerate() {
        let (Some(array), Some(enc)) = (batch.columns().get(c), encoders.get_mut(f)) else {
            continue;
        };
        column_slots(enc, array.as_ref(), &mut buf);
        for (row, m) in buf.bad.drain(..) {
            if let Some(b) = bad.get_mut(row) {
                *b = true;
            }
            messages.push((row, order, m));
        }
        match &ev.strides {
            Some(strides) => {
                // A bad row's slot (`BAD`) spoils its key, which is never read.
                let stride = strides.get(f).copied().unwrap_or(0);
                for (k, &s) in keys.iter_mut().zip(&buf.slots) {
                    *k = k.wrapping_add(u64::from(s).wrapping_mul(stride));
                }
            }
            None => {
                if let Some(col) = columns.get_mut(f) {
                    *col = Some(buf.slots.clone());
                }
            }
        }
    }
    // Problems of one row in column order, as assess() lists the keys of a row dict.
    messages.sort_by_key(|(row, order, _)| (*row, *order));
    let mut errors = messages.into_iter().peekable();
    let mut out = BatchRows {
        index: Vec::with_capacity(n),
        errors: Vec::new(),
    };
    let mut row_slots = vec![0u32; nf];
    for (row, &is_bad) in bad.iter().enumerate() {
        if is_bad {
            let mut texts: Vec<Arc<str>> = Vec::new();
            while let Some((_, _, m)) = errors.next_if(|(r, _, _)| *r == row) {
                texts.push(m);
            }
            let texts: Vec<&str> = texts.iter().map(|m| m.as_ref()).collect();
            out.index.push(ERROR_ROW);
            out.errors.push((row, Arc::from(texts.join("; "))));
            continue;
        }
        let index = if keyed {
            ev.by_key(keys.get(row).copied().unwrap_or(0))
        } else {
            for (dst, col) in row_slots.iter_mut().zip(&columns) {
                *dst = col.as_ref().and_then(|s| s.get(row).copied()).unwrap_or(0);
            }
            ev.add(&row_slots)
        };
        // Error results are rare: rows look them up only once one exists.
        if ev.any_failed && ev.failed.get(index as usize).copied().unwrap_or(false) {
            if let Some(Err(m)) = ev.results.get(index as usize) {
                out.errors.push((row, Arc::clone(m)));
            }
            out.index.push(ERROR_ROW);
        } else {
            out.index.push(index);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)] // reason: test code
mod tests {
    use super::*;

    #[test]
    fn memo_evaluates_each_combination_once() {
        let rs = Ruleset::default_ruleset().unwrap();
        let mut ev = Evaluator::new(&rs);
        let slots = vec![3, 1, 1, 1, 1, 1, 1, 1, 1];
        let a = ev.lookup(&slots);
        let b = ev.lookup(&slots);
        assert_eq!(a, b);
        assert_eq!(ev.results.len(), 1);
        let o = ev.results[a as usize].as_ref().unwrap();
        assert_eq!(rs.levels()[o.level as usize].id, "iop");
        // Unanswered questions: the range is open.
        let open = ev.lookup(&[3, 0, 1, 1, 1, 0, 1, 1, 1]);
        let o = ev.results[open as usize].as_ref().unwrap();
        assert!(o.lowest < o.highest && o.needs_review);
    }

    #[test]
    fn slots_come_back_from_keys() {
        // Every slot value of every factor, through a key and back, evaluates as the
        // slots themselves do (the memoized result is the one of those slots).
        let rs = Ruleset::default_ruleset().unwrap();
        let nf = rs.factors().len();
        let mut keyed = Evaluator::new(&rs);
        let mut direct = Evaluator::new(&rs);
        for f in 0..nf {
            let radix = rs.factors()[f].classes().len() + 1;
            for s in 0..radix {
                let mut slots: Vec<u32> = (0..nf)
                    .map(|g| {
                        u32::try_from((g * 7 + f) % (rs.factors()[g].classes().len() + 1)).unwrap()
                    })
                    .collect();
                slots[f] = u32::try_from(s).unwrap();
                let a = keyed.lookup(&slots);
                let b = direct.add(&slots);
                let (a, b) = (&keyed.results[a as usize], &direct.results[b as usize]);
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(
                            (a.level, a.lowest, a.highest, a.refer, a.needs_review),
                            (b.level, b.lowest, b.highest, b.refer, b.needs_review),
                            "{slots:?}"
                        );
                        assert_eq!((&a.deciding, &a.flags), (&b.deciding, &b.flags));
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    _ => panic!("{slots:?}: one failed, the other did not"),
                }
            }
        }
    }
}
