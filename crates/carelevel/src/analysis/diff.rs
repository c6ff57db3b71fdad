//! `diff`: the exact impact of replacing one ruleset with another.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::*;
use crate::answers::Value;
use crate::eval::holds;
use crate::model::{FlagKind, MissingPolicy, Ruleset};

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
                        (Some(_), Some((lo, hi))) if lo != hi => format!("{lo} to {hi}"),
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

/// How many answer-set classes of a one-sided population get one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelCount {
    /// Level id (or `refused`: a required answer is missing).
    pub level: String,
    /// Number of answer-set classes.
    pub classes: u64,
}

/// Answer-set classes that only one of the two rulesets can express, because that
/// ruleset's scale of some question has values the other's lacks (values added at the
/// top of a scale). These people did not exist in the other ruleset's answer space:
/// they are reported here, not counted as moved and not compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OneSided {
    /// Per question, the answers only this side accepts.
    pub answers: Vec<PatternItem>,
    /// Number of answer-set classes that give at least one of those answers.
    pub classes: u64,
    /// Their levels under the ruleset that accepts them, in its level order (only
    /// levels some class gets).
    pub levels: Vec<LevelCount>,
    /// Classes where a refer flag fires whatever the unanswered questions turn out to be.
    pub refer: u64,
    /// Classes that need review under that ruleset (level or refer flag depends on a
    /// missing answer).
    pub needs_review: u64,
}

/// The note of a diff between two rulesets with the same `id` and `version:` but
/// different content ([`Ruleset::same_version_other_content`]).
fn same_version_note(old: &Ruleset, new: &Ruleset) -> Option<String> {
    old.same_version_other_content(new).then(|| {
        format!(
            "OLD and NEW both say they are `{} {}` but their content differs (sha256 {} vs {}): give the changed ruleset a new `version:` so that decisions made under each can be told apart",
            old.meta.id,
            crate::text::Shown::full(&old.meta.version),
            old.short_sha256(),
            new.short_sha256()
        )
    })
}

/// The exact impact of replacing one ruleset with another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    /// `id version` of OLD.
    pub old: String,
    /// `id version` of NEW.
    pub new: String,
    /// SHA-256 of OLD's source text.
    pub old_sha256: String,
    /// SHA-256 of NEW's source text.
    pub new_sha256: String,
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
    /// Number of answer-set classes enumerated (the matrix counts those both rulesets
    /// can express; the rest are in `new_population`, `removed_population` and
    /// `in_neither`).
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
    /// Classes only NEW can express (an answer added to a scale), when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_population: Option<OneSided>,
    /// Classes only OLD can express (an answer removed from a scale), when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_population: Option<OneSided>,
    /// Classes that give an answer only OLD accepts and another only NEW accepts, so
    /// neither ruleset can assess them (left out when zero).
    #[serde(skip_serializing_if = "is_zero")]
    pub in_neither: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl DiffReport {
    /// Whether anything at all changed (levels, flags or review).
    pub fn has_changes(&self) -> bool {
        self.changed > 0
            || !self.flag_changes.is_empty()
            || self.review_gained > 0
            || self.review_lost > 0
            || self.new_population.is_some()
            || self.removed_population.is_some()
            || self.in_neither > 0
    }

    /// The one-line summary, with every count's noun in the singular for one.
    pub fn summary(&self) -> String {
        fn n(count: u64, one: &str, many: &str) -> String {
            format!("{count} {}", if count == 1 { one } else { many })
        }
        let mut one_sided = String::new();
        for (p, who) in [
            (&self.new_population, "only NEW accepts (a new population"),
            (
                &self.removed_population,
                "only OLD accepts (a removed population",
            ),
        ] {
            if let Some(p) = p {
                let verb = if p.classes == 1 { "gives" } else { "give" };
                one_sided.push_str(&format!(
                    "; {} {verb} an answer {who}, not compared)",
                    n(p.classes, "class", "classes")
                ));
            }
        }
        if self.in_neither > 0 {
            one_sided.push_str(&format!(
                "; {} neither ruleset can assess",
                n(self.in_neither, "class", "classes")
            ));
        }
        let flags = u64::try_from(self.flag_changes.len()).unwrap_or(u64::MAX);
        format!(
            "{} of {} change level ({}, {}, {} other); {}; review needed for {} more and {} fewer {}",
            self.changed,
            n(self.classes, "answer-set class", "answer-set classes"),
            n(self.escalations, "escalation", "escalations"),
            n(self.de_escalations, "de-escalation", "de-escalations"),
            self.changed - self.escalations - self.de_escalations,
            if flags == 1 { "1 flag changes".to_owned() } else { format!("{flags} flags change") },
            self.review_gained,
            self.review_lost,
            if self.review_lost == 1 { "class" } else { "classes" }
        ) + &one_sided
    }

    /// Count real cases into the matrix: each pair is (level under OLD, level under NEW),
    /// as level ids (or `refused`). A level no answer-set class reaches (`refused`, when
    /// no class of the space is refused) is added as a row and column with no classes,
    /// so that every case is counted.
    pub fn add_cases<'a>(&mut self, cases: impl IntoIterator<Item = (&'a str, &'a str)>) {
        // Counted per pair first: bounded by the number of levels, not of cases.
        let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for pair in cases {
            *counts.entry(pair).or_default() += 1;
        }
        for &(from, to) in counts.keys() {
            for id in [from, to] {
                if !self.levels.iter().any(|l| l.id == id) {
                    self.levels.push(DiffLevel {
                        id: id.to_owned(),
                        in_old: true,
                        in_new: true,
                    });
                    for row in &mut self.matrix {
                        row.push(0);
                    }
                    self.matrix.push(vec![0; self.levels.len()]);
                }
            }
        }
        let n = self.levels.len();
        let mut m = vec![vec![0u64; n]; n];
        for ((from, to), count) in counts {
            let (Some(i), Some(j)) = (
                self.levels.iter().position(|l| l.id == from),
                self.levels.iter().position(|l| l.id == to),
            ) else {
                continue;
            };
            if let Some(cell) = m.get_mut(i).and_then(|row| row.get_mut(j)) {
                *cell += count;
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
    /// Per side (0: only OLD can express it, 1: only NEW): classes per level row,
    /// refer count, review count.
    one_sided: [OneSidedAcc; 2],
    in_neither: u64,
}

#[derive(Default)]
struct OneSidedAcc {
    rows: BTreeMap<usize, u64>,
    classes: u64,
    refer: u64,
    review: u64,
}

impl OneSidedAcc {
    fn merge(&mut self, other: OneSidedAcc) {
        for (k, v) in other.rows {
            *self.rows.entry(k).or_default() += v;
        }
        self.classes += other.classes;
        self.refer += other.refer;
        self.review += other.review;
    }
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
    if let Some(warning) = same_version_note(old, new) {
        notes.push(warning);
    }
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
    // Each class: both rulesets' outcomes, the flag comparison, and with missing
    // answers one dynamic-programming step per missing factor (a decode and a fold).
    let missing_factors = space.factors.iter().filter(|f| f.missing).count();
    let widest = (0..space.factors.len())
        .map(|f| space.radix(f, with_missing))
        .max()
        .unwrap_or(1);
    let dp = if with_missing {
        (space.factors.len() + widest) * missing_factors
    } else {
        0
    };
    let per_class = space::class_cost(old)
        .saturating_add(space::class_cost(new))
        .saturating_add(u64::try_from(space.factors.len() + dp).unwrap_or(u64::MAX));
    space.within_work("comparing every answer set", total, per_class)?;
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
    let one_sided_values = space.has_one_sided_values();
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
            one_sided: Default::default(),
            in_neither: 0,
        },
        |acc, range| {
            let mut digits = vec![0usize; n];
            let mut values = Vec::new();
            for index in range {
                decode(index, &strides, &mut digits);
                if one_sided_values {
                    let (in_old, in_new) =
                        (space.valid_for(0, &digits), space.valid_for(1, &digits));
                    if !in_old || !in_new {
                        let r = match (in_old, in_new) {
                            (true, false) => 0,
                            (false, true) => 1,
                            _ => {
                                acc.in_neither += 1;
                                continue;
                            }
                        };
                        let o = outcome_at(r, index, &digits, &mut values);
                        let (map, refer) = if r == 0 {
                            (&old_map, old_refer)
                        } else {
                            (&new_map, new_refer)
                        };
                        if let Some(side) = acc.one_sided.get_mut(r) {
                            *side.rows.entry(row(map, o.hi)).or_default() += 1;
                            side.classes += 1;
                            if o.hi != REFUSED && o.all & refer != 0 {
                                side.refer += 1;
                            }
                            if o.needs_review(refer) {
                                side.review += 1;
                            }
                        }
                        continue;
                    }
                }
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
    let mut one_sided: [OneSidedAcc; 2] = Default::default();
    let mut in_neither = 0u64;
    for acc in accs {
        for (into, from) in one_sided.iter_mut().zip(acc.one_sided) {
            into.merge(from);
        }
        in_neither += acc.in_neither;
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
        super::cases::direction(old, new, &a.id, &b.id)
    };

    let cell_of = |digits: &[usize]| -> (usize, usize) {
        if one_sided_values && !(space.valid_for(0, digits) && space.valid_for(1, digits)) {
            // Not in both answer spaces: in no cell of the matrix.
            return (usize::MAX, usize::MAX);
        }
        let mut values = Vec::new();
        let index = digits.iter().zip(&strides).map(|(d, s)| d * s).sum();
        let a = outcome_at(0, index, digits, &mut values);
        let b = outcome_at(1, index, digits, &mut values);
        (row(&old_map, a.hi), row(&new_map, b.hi))
    };
    let mut cells = Vec::new();
    let (mut changed, mut escalations, mut de_escalations) = (0u64, 0u64, 0u64);
    // One budget for minimising every example; a probe is one cell lookup.
    let probe_cost = if stored.is_some() {
        u64::try_from(n).unwrap_or(u64::MAX).max(1)
    } else {
        per_class
    };
    let mut example_work = ExampleWork {
        left: MAX_EXAMPLE_WORK,
        probe_cost,
        ran_out: false,
    };
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
            let sets = minimise(
                &space,
                &digits,
                (i, j),
                &cell_of,
                with_missing,
                &mut example_work,
            );
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

    if example_work.ran_out {
        notes.push(format!(
            "some examples are shown less minimal than they could be: making them minimal would take more than {MAX_EXAMPLE_WORK} steps; each one is still an answer set of its change"
        ));
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

    let population = |r: usize, acc: &OneSidedAcc| -> Option<OneSided> {
        if acc.classes == 0 {
            return None;
        }
        let answers = space
            .factors
            .iter()
            .filter_map(|f| {
                let values: Vec<Option<Value>> = f
                    .classes
                    .iter()
                    .filter(|c| c.only_in == Some(r))
                    .map(|c| c.value.clone())
                    .collect();
                (!values.is_empty()).then(|| PatternItem {
                    factor: f.id.clone(),
                    ranges: vec![None; values.len()],
                    values,
                })
            })
            .collect();
        Some(OneSided {
            answers,
            classes: acc.classes,
            levels: acc
                .rows
                .iter()
                .map(|(&row, &classes)| LevelCount {
                    level: levels.get(row).map(|l| l.id.clone()).unwrap_or_default(),
                    classes,
                })
                .collect(),
            refer: acc.refer,
            needs_review: acc.review,
        })
    };
    let [old_side, new_side] = &one_sided;
    let (removed_population, new_population) = (population(0, old_side), population(1, new_side));

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
        old_sha256: old.sha256.clone(),
        new_sha256: new.sha256.clone(),
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
        new_population,
        removed_population,
        in_neither,
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
            // An answer this ruleset's scale lacks: not its answer set (left default).
            if complete && space.valid_for(r, &digits) {
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
                // Only the values on this ruleset's own scale complete a missing answer.
                Some(MissingPolicy::Ask) => (0..m)
                    .filter(|&v| {
                        sf.classes
                            .get(v)
                            .and_then(|c| c.only_in)
                            .is_none_or(|only| only == r)
                    })
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

/// The budget ([`MAX_EXAMPLE_WORK`]) shared by the minimisation of every example.
struct ExampleWork {
    left: u64,
    /// What one probe (the cell of one answer set) can cost.
    probe_cost: u64,
    /// Whether a probe was refused: some example is less minimal than it could be.
    ran_out: bool,
}

impl ExampleWork {
    /// Pay for one probe; `false` (and nothing spent) once the budget cannot.
    fn spend(&mut self) -> bool {
        if self.left < self.probe_cost {
            self.ran_out = true;
            return false;
        }
        self.left -= self.probe_cost;
        true
    }
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
    work: &mut ExampleWork,
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
                if !work.spend() || cell_of(&probe) != cell {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    fn ruleset(rules: &str) -> Ruleset {
        let text = format!(
            "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {{id: low, label: Low, description: l}}\n  - {{id: high, label: High, description: h}}\nfactors:\n  - {{id: f0, question: q, kind: boolean, missing: {{assume: false}}}}\n{rules}"
        );
        Ruleset::from_yaml(&text).unwrap()
    }

    #[test]
    fn the_summary_says_one_escalation_and_one_flag_in_the_singular() {
        let old = ruleset("rules: []\n");
        let new = ruleset(
            "rules:\n  - {id: r, level: high, because: b, when: {f0: true}}\nflags:\n  - {id: i, kind: info, when: {f0: true}, message: m}\n",
        );
        let report = diff(&old, &new).unwrap();
        assert_eq!(
            report.summary(),
            "1 of 2 answer-set classes change level (1 escalation, 0 de-escalations, 0 other); \
             1 flag changes; review needed for 0 more and 0 fewer classes"
        );
    }
}
