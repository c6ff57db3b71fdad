//! Row evaluation: the slots of a row form a mixed-radix key, and results are memoized
//! per key, so each distinct answer combination is evaluated once by the core
//! (`decide`, or `assess` when answers are missing) and every other row with that key
//! is a table lookup.
//!
//! The memo ([`Memo`]) owns nothing of the ruleset, so it outlives one call: the
//! `Ruleset` object keeps it between `assess_table` calls (see `super::MemoSlot`), and
//! later batches of the same ruleset (Spark's `mapInArrow`, Polars' `map_batches`)
//! look up the combinations earlier ones evaluated. Each result's rule and flag lists
//! are kept flattened in the memo, so building a batch's output never walks all results.

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

/// The scalar fields of one result (all zero / false for an error result).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct Scalars {
    pub(super) level: i32,
    pub(super) lowest: i32,
    pub(super) highest: i32,
    pub(super) refer: bool,
    pub(super) needs_review: bool,
}

/// Where one result's items start in a flattened list, and how many there are.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: u32,
    pub(super) len: u32,
}

/// Every result's items of one list column (deciding rules or flags), flattened.
#[derive(Default)]
pub(super) struct FlatLists {
    /// The items, result after result, followed by `LIST_PAD` zeros so that a fixed
    /// `LIST_PAD`-item window from any start is in bounds.
    pub(super) items: Vec<i32>,
    /// Per result: its items.
    pub(super) spans: Vec<Span>,
    /// The longest list of any result.
    pub(super) longest: u32,
}

/// The padding after the items of [`FlatLists`]: lists at most this long are copied
/// as one fixed-size block.
pub(super) const LIST_PAD: usize = 8;

impl FlatLists {
    fn push(&mut self, list: impl Iterator<Item = i32>) {
        self.items
            .truncate(self.items.len().saturating_sub(LIST_PAD));
        let start = self.items.len();
        self.items.extend(list);
        let len = self.items.len() - start;
        self.items.resize(self.items.len() + LIST_PAD, 0);
        // A result lists each rule or flag at most once, and the items of all results
        // stay far below `u32::MAX` (the memo is dropped past `MEMO_KEEP_MAX` results).
        let span = Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(0),
        };
        self.longest = self.longest.max(span.len);
        self.spans.push(span);
    }

    /// The items of result `index` (none for an error row).
    #[cfg(test)]
    pub(super) fn of(&self, index: u32) -> &[i32] {
        let s = self.spans.get(index as usize).copied().unwrap_or_default();
        let start = s.start as usize;
        self.items.get(start..start + s.len as usize).unwrap_or(&[])
    }
}

/// One result packed in 24 bytes, so that output building reads one record per row:
/// the rule and flag lists as bit masks over `Ruleset::rules` / `Ruleset::flags`
/// (their items are in ruleset order, lowest bit first), the levels as `u8`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct Packed {
    pub(super) deciding: u64,
    pub(super) flags: u64,
    pub(super) level: u8,
    pub(super) lowest: u8,
    pub(super) highest: u8,
    /// `REFER` and `NEEDS_REVIEW`.
    pub(super) bits: u8,
}

/// [`Packed::bits`]: a refer flag fired.
pub(super) const REFER: u8 = 1;
/// [`Packed::bits`]: the result needs review.
pub(super) const NEEDS_REVIEW: u8 = 2;

impl Packed {
    /// The packed form of a result, if it has one: levels below 256, rule and flag
    /// indices below 64, each list in ascending order (as the core lists them).
    fn of(s: Scalars, deciding: &[i32], flags: &[i32]) -> Option<Packed> {
        fn mask(items: &[i32]) -> Option<u64> {
            let mut m = 0u64;
            for &i in items {
                let bit = 1u64.checked_shl(u32::try_from(i).ok()?)?;
                // Ascending order only: a bit at or below the highest so far is refused.
                if m >= bit {
                    return None;
                }
                m |= bit;
            }
            Some(m)
        }
        Some(Packed {
            deciding: mask(deciding)?,
            flags: mask(flags)?,
            level: u8::try_from(s.level).ok()?,
            lowest: u8::try_from(s.lowest).ok()?,
            highest: u8::try_from(s.highest).ok()?,
            bits: if s.refer { REFER } else { 0 } | if s.needs_review { NEEDS_REVIEW } else { 0 },
        })
    }
}

/// Memoized results over mixed-radix keys of slots, for one ruleset. It holds no
/// reference to the ruleset; only an [`Evaluator`] of the same ruleset may use it.
pub(crate) struct Memo {
    /// Per factor: the weight of its slot in the key (`None`: the key space overflows
    /// `u64`, rows are evaluated one by one).
    strides: Option<Vec<u64>>,
    /// Per factor: the number of slot values (`1 + classes`).
    radix: Vec<u64>,
    dense: Vec<u32>,
    sparse: HashMap<u64, u32>,
    /// Per result: its scalar fields.
    pub(super) scalars: Vec<Scalars>,
    /// Per result: the message of the error evaluating it gave, if any.
    pub(super) errors: Vec<Option<Arc<str>>>,
    /// Whether any result is an error.
    any_failed: bool,
    /// Whether any result has a level range wider than its level.
    pub(super) any_ranged: bool,
    /// Per result: deciding rules (indices into `Ruleset::rules`); only once `packed`
    /// is `None`.
    pub(super) deciding: FlatLists,
    /// Per result: fired flags (indices into `Ruleset::flags`); only once `packed` is
    /// `None`.
    pub(super) flags: FlatLists,
    /// Per result: its scalars and lists in one record (error results: all zero),
    /// while every result has a packed form; `None` once one has not.
    pub(super) packed: Option<Vec<Packed>>,
}

/// A memo holding more results than this is not kept after the call that grew it.
pub(crate) const MEMO_KEEP_MAX: usize = 1 << 20;

impl Memo {
    /// An empty memo for `rs`.
    pub(crate) fn new(rs: &Ruleset) -> Memo {
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
        Memo {
            strides: total.map(|_| strides),
            radix,
            dense,
            sparse: HashMap::new(),
            scalars: Vec::new(),
            errors: Vec::new(),
            any_failed: false,
            any_ranged: false,
            deciding: FlatLists {
                items: vec![0; LIST_PAD],
                ..FlatLists::default()
            },
            flags: FlatLists {
                items: vec![0; LIST_PAD],
                ..FlatLists::default()
            },
            packed: Some(Vec::new()),
        }
    }

    /// The number of distinct results held.
    pub(crate) fn len(&self) -> usize {
        self.scalars.len()
    }

    /// Stop packing (a result has no packed form): lay out the lists of every result
    /// so far in `deciding` and `flags`, from their packed masks.
    pub(super) fn unpack(&mut self) {
        let bits = |m: u64| (0..64).filter(move |b| (m >> b) & 1 == 1);
        if let Some(packed) = self.packed.take() {
            for p in &packed {
                self.deciding.push(bits(p.deciding));
                self.flags.push(bits(p.flags));
            }
        }
    }

    /// The deciding rules and the flags of result `index`, from either layout.
    #[cfg(test)]
    pub(super) fn lists_of(&self, index: u32) -> (Vec<i32>, Vec<i32>) {
        let bits = |m: u64| (0..64).filter(|b| (m >> b) & 1 == 1).collect();
        match &self.packed {
            Some(p) => {
                let p = p.get(index as usize).copied().unwrap_or_default();
                (bits(p.deciding), bits(p.flags))
            }
            None => (
                self.deciding.of(index).to_vec(),
                self.flags.of(index).to_vec(),
            ),
        }
    }
}

/// The position of `id` among `ids`: by address first (the core hands out its own
/// strings), by text otherwise.
fn position<'a>(mut ids: impl Iterator<Item = &'a str> + Clone, id: &str) -> Option<i32> {
    let at = ids
        .clone()
        .position(|x| std::ptr::eq(x, id))
        .or_else(|| ids.position(|x| x == id))?;
    i32::try_from(at).ok()
}

/// The positions of `found` among `ids`, when `found` lists ids in the order of
/// `ids` (as the core lists fired rules and flags: in declaration order): one walk
/// over `ids` by address, not a search per id. An id not found that way (never for
/// the core's own strings) is looked up by text.
fn positions<'a, I>(ids: I, found: &'a [&'a str]) -> impl Iterator<Item = i32> + 'a
where
    I: Iterator<Item = &'a str> + Clone + 'a,
{
    let mut walk = ids.clone().enumerate();
    found.iter().filter_map(move |&id| {
        walk.by_ref()
            .find(|(_, x)| std::ptr::eq(*x, id))
            .and_then(|(i, _)| i32::try_from(i).ok())
            .or_else(|| position(ids.clone(), id))
    })
}

/// Evaluation of rows with the core, through a [`Memo`].
pub(super) struct Evaluator<'r> {
    pub(super) rs: &'r Ruleset,
    pub(super) memo: Memo,
    answers: carelevel::Answers<'r>,
    /// Scratch: the decision of a complete combination (its lists reused).
    decision: carelevel::Decision<'r>,
    /// Scratch: the slots of the combination being evaluated.
    scratch: Vec<u32>,
    /// Scratch: the deciding rules and flags of the combination being evaluated.
    deciding: Vec<i32>,
    flags: Vec<i32>,
}

impl<'r> Evaluator<'r> {
    /// An evaluator with an empty memo.
    #[cfg(test)]
    pub(super) fn new(rs: &'r Ruleset) -> Evaluator<'r> {
        Evaluator::with_memo(rs, Memo::new(rs))
    }

    /// An evaluator continuing `memo`, which must have been made for `rs`.
    pub(super) fn with_memo(rs: &'r Ruleset, memo: Memo) -> Evaluator<'r> {
        Evaluator {
            rs,
            memo,
            answers: rs.new_answers(),
            decision: carelevel::Decision::empty(),
            scratch: vec![0; rs.factors().len()],
            deciding: Vec::new(),
            flags: Vec::new(),
        }
    }

    /// The memo, for the next call.
    pub(super) fn into_memo(self) -> Memo {
        self.memo
    }

    /// Evaluate one combination of slots (one per factor) with the core: its scalar
    /// fields, its deciding rules and flags into `self.deciding` and `self.flags`.
    fn evaluate(&mut self, slots: &[u32]) -> Result<Scalars, Arc<str>> {
        self.deciding.clear();
        self.flags.clear();
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
        let rules = || rs.rules().iter().map(|r| r.id.as_str());
        let flags = || rs.flags().iter().map(|f| f.id.as_str());
        if complete {
            let d = &mut self.decision;
            rs.decide_into(&self.answers, d)
                .map_err(|e| Arc::<str>::from(e.to_string()))?;
            let level = rs
                .level_index(d.level)
                .map_or(-1, |i| i32::try_from(i).unwrap_or(-1));
            self.deciding.extend(positions(rules(), &d.deciding_rules));
            self.flags.extend(positions(flags(), &d.flags));
            return Ok(Scalars {
                level,
                lowest: level,
                highest: level,
                refer: d.refer,
                needs_review: d.needs_review,
            });
        }
        let a = rs
            .assess(&self.answers)
            .map_err(|e| Arc::<str>::from(e.to_string()))?;
        let as_i32 = |r: usize| i32::try_from(r).unwrap_or(-1);
        self.deciding
            .extend(a.deciding_rules.iter().filter_map(|r| position(rules(), r)));
        self.flags
            .extend(a.flags.iter().filter_map(|f| position(flags(), &f.id)));
        Ok(Scalars {
            level: as_i32(a.level.rank),
            lowest: as_i32(a.level_range.lowest.rank),
            highest: as_i32(a.level_range.highest.rank),
            refer: a.refer,
            needs_review: a.needs_review,
        })
    }

    /// Evaluate a combination and keep its result: its index.
    fn add(&mut self, slots: &[u32]) -> u32 {
        let result = self.evaluate(slots);
        let m = &mut self.memo;
        let index = u32::try_from(m.scalars.len()).unwrap_or(UNKNOWN - 1);
        let (s, message) = match result {
            Ok(s) => (s, None),
            Err(message) => {
                // An error result lists nothing (and its row is null).
                self.deciding.clear();
                self.flags.clear();
                (Scalars::default(), Some(message))
            }
        };
        if m.packed.is_some() {
            let p = match message {
                None => Packed::of(s, &self.deciding, &self.flags),
                Some(_) => Some(Packed::default()),
            };
            match (p, &mut m.packed) {
                (Some(p), Some(packed)) => packed.push(p),
                _ => m.unpack(),
            }
        }
        if m.packed.is_none() {
            m.deciding.push(self.deciding.iter().copied());
            m.flags.push(self.flags.iter().copied());
        }
        m.any_failed |= message.is_some();
        m.any_ranged |= s.lowest != s.level || s.highest != s.level;
        m.scalars.push(s);
        m.errors.push(message);
        index
    }

    /// The result index of the combination with this key, evaluating on first sight.
    /// Only called when keys are used (`strides` is `Some`).
    #[inline]
    fn by_key(&mut self, key: u64) -> u32 {
        match usize::try_from(key)
            .ok()
            .and_then(|k| self.memo.dense.get(k))
        {
            Some(&c) if c != UNKNOWN => c,
            _ => self.by_key_slow(key),
        }
    }

    /// [`Evaluator::by_key`] past the dense memo, or on first sight.
    fn by_key_slow(&mut self, key: u64) -> u32 {
        let m = &self.memo;
        let cached = match usize::try_from(key).ok().and_then(|k| m.dense.get(k)) {
            Some(&c) => c,
            None if m.dense.is_empty() => m.sparse.get(&key).copied().unwrap_or(UNKNOWN),
            None => UNKNOWN,
        };
        if cached != UNKNOWN {
            return cached;
        }
        // The slots back from the key: digit `f` in the mixed radix of `strides`.
        let mut slots = std::mem::take(&mut self.scratch);
        if let Some(strides) = &m.strides {
            for ((s, &st), &r) in slots.iter_mut().zip(strides).zip(&m.radix) {
                *s = u32::try_from((key / st.max(1)) % r.max(1)).unwrap_or(u32::MAX);
            }
        }
        let index = self.add(&slots);
        self.scratch = slots;
        match usize::try_from(key)
            .ok()
            .and_then(|k| self.memo.dense.get_mut(k))
        {
            Some(c) => *c = index,
            None => {
                self.memo.sparse.insert(key, index);
            }
        }
        index
    }

    /// The result index for a row's slots, evaluating on first sight.
    #[cfg(test)]
    pub(super) fn lookup(&mut self, slots: &[u32]) -> u32 {
        match &self.memo.strides {
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
#[derive(Default)]
pub(super) struct BatchRows {
    pub(super) index: Vec<u32>,
    pub(super) errors: Vec<(usize, Arc<str>)>,
    /// Scratch of the output: the rows' packed results.
    pub(super) gathered: Vec<Packed>,
}

/// Buffers reused from one batch to the next.
#[derive(Default)]
pub(super) struct Scratch {
    keys: Vec<u64>,
    bad: Vec<bool>,
    slots: Slots,
    messages: Vec<(usize, usize, Arc<str>)>,
}

/// Evaluate one batch: the result index (or error message) of every row, into `out`.
pub(super) fn evaluate_batch(
    ev: &mut Evaluator<'_>,
    encoders: &mut [Encoder<'_>],
    plan: &Plan,
    batch: &RecordBatch,
    scratch: &mut Scratch,
    out: &mut BatchRows,
) {
    let n = batch.num_rows();
    let nf = ev.rs.factors().len();
    let keyed = ev.memo.strides.is_some();
    // Keys are built column by column (a factor without a column is unanswered: slot 0).
    // Without keys (a key space past `u64`), each factor's slots are kept instead.
    let Scratch {
        keys,
        bad,
        slots: buf,
        messages,
    } = scratch;
    keys.clear();
    if keyed {
        keys.resize(n, 0);
    }
    bad.clear();
    bad.resize(n, false);
    messages.clear();
    let mut columns: Vec<Option<Vec<u32>>> = Vec::new();
    if !keyed {
        columns.resize_with(nf, || None);
    }
    for (order, &(c, f)) in plan.columns.iter().enumerate() {
        let (Some(array), Some(enc)) = (batch.columns().get(c), encoders.get_mut(f)) else {
            continue;
        };
        column_slots(enc, array.as_ref(), buf);
        for (row, m) in buf.bad.drain(..) {
            if let Some(b) = bad.get_mut(row) {
                *b = true;
            }
            messages.push((row, order, m));
        }
        match &ev.memo.strides {
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
    let mut errors = messages.drain(..).peekable();
    out.index.clear();
    out.index.reserve(n);
    out.errors.clear();
    let any_bad = errors.peek().is_some();
    if keyed && !any_bad && !ev.memo.any_failed {
        // The common case: every row is a memo lookup.
        for &key in keys.iter() {
            let index = ev.by_key(key);
            out.index.push(index);
        }
        if !ev.memo.any_failed {
            return;
        }
        // An evaluation failed on the way: mark the rows of failed results.
        for (row, index) in out.index.iter_mut().enumerate() {
            if let Some(Some(m)) = ev.memo.errors.get(*index as usize) {
                out.errors.push((row, Arc::clone(m)));
                *index = ERROR_ROW;
            }
        }
        return;
    }
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
        match ev.memo.errors.get(index as usize) {
            Some(Some(m)) if ev.memo.any_failed => {
                out.errors.push((row, Arc::clone(m)));
                out.index.push(ERROR_ROW);
            }
            _ => out.index.push(index),
        }
    }
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
        assert_eq!(ev.memo.len(), 1);
        let o = ev.memo.scalars[a as usize];
        assert_eq!(rs.levels()[o.level as usize].id, "iop");
        assert!(!ev.memo.any_ranged);
        // Unanswered questions: the range is open.
        let open = ev.lookup(&[3, 0, 1, 1, 1, 0, 1, 1, 1]);
        let o = ev.memo.scalars[open as usize];
        assert!(o.lowest < o.highest && o.needs_review);
        assert!(ev.memo.any_ranged);
        // The memo goes on in a later evaluator: no combination is evaluated twice.
        let memo = ev.into_memo();
        let mut later = Evaluator::with_memo(&rs, memo);
        assert_eq!(later.lookup(&slots), a);
        assert_eq!(later.memo.len(), 2);
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
                let (k, d) = (&keyed.memo, &direct.memo);
                assert_eq!(k.scalars[a as usize], d.scalars[b as usize], "{slots:?}");
                assert_eq!(k.errors[a as usize], d.errors[b as usize], "{slots:?}");
                assert_eq!(k.lists_of(a), d.lists_of(b), "{slots:?}");
            }
        }
    }

    #[test]
    fn packed_records_refuse_what_they_cannot_hold() {
        let s = Scalars {
            level: 2,
            lowest: 1,
            highest: 2,
            refer: true,
            needs_review: false,
        };
        let p = Packed::of(s, &[0, 3, 63], &[1]).unwrap();
        assert_eq!((p.deciding, p.flags), (1 | 8 | (1 << 63), 2));
        assert_eq!((p.level, p.lowest, p.highest, p.bits), (2, 1, 2, REFER));
        assert_eq!(Packed::of(s, &[64], &[]), None);
        assert_eq!(Packed::of(s, &[3, 1], &[]), None);
        assert_eq!(Packed::of(s, &[1, 1], &[]), None);
        assert_eq!(Packed::of(Scalars { level: 256, ..s }, &[], &[]), None);
        assert_eq!(Packed::of(Scalars { level: -1, ..s }, &[], &[]), None);
    }

    #[test]
    fn memo_lists_are_the_core_decision() {
        // A complete combination: the memo's rules and flags are the core's, by id.
        let rs = Ruleset::default_ruleset().unwrap();
        let mut ev = Evaluator::new(&rs);
        let slots = vec![4, 4, 3, 3, 3, 4, 4, 3, 2];
        let i = ev.lookup(&slots);
        let mut answers = rs.new_answers();
        for (f, &s) in slots.iter().enumerate() {
            answers
                .set_code(f, rs.factors()[f].classes()[s as usize - 1])
                .unwrap();
        }
        let d = rs.decide(&answers).unwrap();
        let names = |items: &[i32], ids: &dyn Fn(usize) -> String| -> Vec<String> {
            items.iter().map(|&x| ids(x as usize)).collect()
        };
        let (deciding, fired) = ev.memo.lists_of(i);
        let rules = names(&deciding, &|x| rs.rules()[x].id.clone());
        let flags = names(&fired, &|x| rs.flags()[x].id.clone());
        assert_eq!(rules, d.deciding_rules);
        assert_eq!(flags, d.flags);
        assert!(!rules.is_empty() && !flags.is_empty());
        let p = ev.memo.packed.as_ref().unwrap()[i as usize];
        assert_eq!(p.deciding.count_ones() as usize, rules.len());
        assert_eq!(p.bits & REFER != 0, d.refer);
        // Unpacked (as when a later result has no packed form), the lists are the same.
        ev.memo.unpack();
        assert!(ev.memo.packed.is_none());
        assert_eq!(ev.memo.lists_of(i), (deciding, fired));
        assert_eq!(ev.memo.deciding.spans.len(), ev.memo.len());
    }
}
