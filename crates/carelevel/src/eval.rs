//! Evaluation of compiled conditions and levels.
//!
//! Two modes:
//! - complete answers: [`holds`] and [`Ruleset::level_of_codes`] walk the node arena with
//!   integer codes only; no strings, no allocation;
//! - partial answers: a [`Search`] finds the *exact* status of a condition, or the exact
//!   range of levels, over every value the missing answers could take. It branches on one
//!   class representative per distinguishable answer (see [`crate::Factor::classes`]) and
//!   prunes with three-valued logic, so it only branches where the outcome is undecided.

use crate::error::EvalError;
use crate::limits;
#[cfg(test)]
use crate::model::FactorKind;
use crate::model::{
    ConditionArena, Factor, FlagKind, LevelIndex, LevelTable, Node, NodeId, Ruleset, Scoring,
};

/// Three-valued truth: the condition holds, does not, or depends on missing answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    True,
    False,
    Unknown,
}

fn mask_has(mask: u64, code: i64) -> bool {
    u32::try_from(code)
        .ok()
        .and_then(|s| mask.checked_shr(s))
        .is_some_and(|m| m & 1 == 1)
}

fn children(arena: &ConditionArena, start: u32, len: u32) -> &[NodeId] {
    let (s, l) = (start as usize, len as usize);
    arena.children.get(s..s.saturating_add(l)).unwrap_or(&[])
}

fn in_ranges(arena: &ConditionArena, start: u32, len: u32, v: i64) -> bool {
    let (s, l) = (start as usize, len as usize);
    arena
        .ranges
        .get(s..s.saturating_add(l))
        .unwrap_or(&[])
        .iter()
        .any(|&(lo, hi)| lo <= v && v <= hi)
}

/// Whether `node` holds for complete answers `values` (value codes by factor index).
pub(crate) fn holds(arena: &ConditionArena, node: NodeId, values: &[i64]) -> bool {
    let value = |f: u32| values.get(f as usize).copied().unwrap_or(i64::MIN);
    match arena.nodes.get(node as usize) {
        Some(Node::Mask { factor, mask }) => mask_has(*mask, value(*factor)),
        Some(Node::Range { factor, lo, hi }) => {
            let v = value(*factor);
            *lo <= v && v <= *hi
        }
        Some(Node::All { start, len }) => children(arena, *start, *len)
            .iter()
            .all(|&c| holds(arena, c, values)),
        Some(Node::Any { start, len }) => children(arena, *start, *len)
            .iter()
            .any(|&c| holds(arena, c, values)),
        Some(Node::Not(inner)) => !holds(arena, *inner, values),
        Some(Node::Ranges { factor, start, len }) => in_ranges(arena, *start, *len, value(*factor)),
        Some(Node::Score { start, len }) => {
            in_ranges(arena, *start, *len, arena.score.total(values))
        }
        Some(Node::Const(b)) => *b,
        None => false,
    }
}

/// Three-valued status of a score condition: the totals still reachable lie in
/// `lo..=hi` (the known answers' points plus each unknown factor's least and most);
/// true when every one of them is in a single range of the condition, false when none
/// is in any, unknown otherwise (the search then branches on an unknown scored factor,
/// so the exact answer is found once every scored factor is known).
fn score3(arena: &ConditionArena, start: u32, len: u32, values: &[i64], known: &[bool]) -> Tri {
    let (mut lo, mut hi) = (0i64, 0i64);
    for f in 0..arena.score.points.len() {
        if !arena.score.scores(f) {
            continue;
        }
        if known.get(f).copied().unwrap_or(false) {
            let p = arena
                .score
                .points_of(f, values.get(f).copied().unwrap_or(i64::MIN));
            lo = lo.saturating_add(p);
            hi = hi.saturating_add(p);
        } else {
            let (a, b) = arena.score.range.get(f).copied().unwrap_or((0, 0));
            lo = lo.saturating_add(a);
            hi = hi.saturating_add(b);
        }
    }
    let (s, l) = (start as usize, len as usize);
    let ranges = arena.ranges.get(s..s.saturating_add(l)).unwrap_or(&[]);
    if ranges.iter().any(|&(a, b)| a <= lo && hi <= b) {
        Tri::True
    } else if ranges.iter().all(|&(a, b)| b < lo || hi < a) {
        Tri::False
    } else {
        Tri::Unknown
    }
}

/// Kleene evaluation: a leaf on a factor that is not `known` is `Unknown`. Adds the
/// number of nodes visited to `visits` (the unit of [`limits::MAX_MISSING_WORK`]).
pub(crate) fn holds3(
    arena: &ConditionArena,
    node: NodeId,
    values: &[i64],
    known: &[bool],
    visits: &mut u64,
) -> Tri {
    *visits += 1;
    let is_known = |f: u32| known.get(f as usize).copied().unwrap_or(false);
    let leaf = |f: u32, test: &dyn Fn(i64) -> bool| {
        if !is_known(f) {
            Tri::Unknown
        } else if test(values.get(f as usize).copied().unwrap_or(i64::MIN)) {
            Tri::True
        } else {
            Tri::False
        }
    };
    match arena.nodes.get(node as usize) {
        Some(Node::Mask { factor, mask }) => leaf(*factor, &|v| mask_has(*mask, v)),
        Some(Node::Range { factor, lo, hi }) => leaf(*factor, &|v| *lo <= v && v <= *hi),
        Some(Node::Ranges { factor, start, len }) => {
            leaf(*factor, &|v| in_ranges(arena, *start, *len, v))
        }
        Some(Node::Score { start, len }) => score3(arena, *start, *len, values, known),
        Some(Node::All { start, len }) => {
            let mut out = Tri::True;
            for &c in children(arena, *start, *len) {
                match holds3(arena, c, values, known, visits) {
                    Tri::False => return Tri::False,
                    Tri::Unknown => out = Tri::Unknown,
                    Tri::True => {}
                }
            }
            out
        }
        Some(Node::Any { start, len }) => {
            let mut out = Tri::False;
            for &c in children(arena, *start, *len) {
                match holds3(arena, c, values, known, visits) {
                    Tri::True => return Tri::True,
                    Tri::Unknown => out = Tri::Unknown,
                    Tri::False => {}
                }
            }
            out
        }
        Some(Node::Not(inner)) => match holds3(arena, *inner, values, known, visits) {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        },
        Some(Node::Const(true)) => Tri::True,
        Some(Node::Const(false)) | None => Tri::False,
    }
}

/// The first factor read by `node` that is not known (and is not `except`). Adds the
/// number of nodes visited to `visits`.
fn first_unknown(
    arena: &ConditionArena,
    node: NodeId,
    known: &[bool],
    except: Option<usize>,
    visits: &mut u64,
) -> Option<usize> {
    *visits += 1;
    let check = |f: u32| {
        let f = f as usize;
        (!known.get(f).copied().unwrap_or(true) && Some(f) != except).then_some(f)
    };
    match arena.nodes.get(node as usize)? {
        Node::Mask { factor, .. } | Node::Range { factor, .. } | Node::Ranges { factor, .. } => {
            check(*factor)
        }
        Node::All { start, len } | Node::Any { start, len } => children(arena, *start, *len)
            .iter()
            .find_map(|&c| first_unknown(arena, c, known, except, visits)),
        Node::Not(inner) => first_unknown(arena, *inner, known, except, visits),
        Node::Score { .. } => (0..known.len()).find(|&f| {
            arena.score.scores(f) && !known.get(f).copied().unwrap_or(true) && Some(f) != except
        }),
        Node::Const(_) => None,
    }
}

/// The work budget ran out (see [`limits::MAX_MISSING_WORK`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exhausted;

/// An exhaustive search over the classes of the factors that are not known.
pub(crate) struct Search<'a> {
    pub arena: &'a ConditionArena,
    pub factors: &'a [Factor],
    pub values: Vec<i64>,
    pub known: Vec<bool>,
    /// Condition nodes visited so far, the search steps counted as one node each.
    spent: u64,
    /// The work budget ([`limits::MAX_MISSING_WORK`] unless given).
    limit: u64,
}

impl<'a> Search<'a> {
    pub(crate) fn new(
        arena: &'a ConditionArena,
        factors: &'a [Factor],
        values: Vec<i64>,
        known: Vec<bool>,
    ) -> Self {
        Search::with_limit(arena, factors, values, known, limits::MAX_MISSING_WORK)
    }

    /// A search that may visit at most `limit` condition nodes.
    pub(crate) fn with_limit(
        arena: &'a ConditionArena,
        factors: &'a [Factor],
        values: Vec<i64>,
        known: Vec<bool>,
        limit: u64,
    ) -> Self {
        Search {
            arena,
            factors,
            values,
            known,
            spent: 0,
            limit,
        }
    }

    /// Condition nodes visited so far (search steps included).
    pub(crate) fn spent(&self) -> u64 {
        self.spent
    }

    /// Count one search step and refuse once the budget is spent. Node visits are
    /// added by [`Search::tri`] and [`Search::unknown_in`] as they happen; a step
    /// checks the total, so no step starts once the budget is over, and a step
    /// overshoots by at most one pass over the conditions.
    fn spend(&mut self) -> Result<(), Exhausted> {
        self.spent = self.spent.saturating_add(1);
        if self.spent > self.limit {
            Err(Exhausted)
        } else {
            Ok(())
        }
    }

    /// Three-valued status of `node` with the current answers, counted.
    fn tri(&mut self, node: NodeId) -> Tri {
        holds3(self.arena, node, &self.values, &self.known, &mut self.spent)
    }

    /// The first unknown factor `node` reads (other than `except`), counted.
    fn unknown_in(&mut self, node: NodeId, except: Option<usize>) -> Option<usize> {
        first_unknown(self.arena, node, &self.known, except, &mut self.spent)
    }

    fn classes(&self, f: usize) -> &'a [i64] {
        self.factors.get(f).map_or(&[], |x| x.classes.as_slice())
    }

    fn set(&mut self, f: usize, code: Option<i64>) {
        if let (Some(v), Some(k)) = (self.values.get_mut(f), self.known.get_mut(f)) {
            if let Some(code) = code {
                *v = code;
            }
            *k = code.is_some();
        }
    }

    /// Exact status of `node` over every completion of the unknown factors.
    pub(crate) fn status(&mut self, node: NodeId) -> Result<Tri, Exhausted> {
        self.spend()?;
        let t = self.tri(node);
        if t != Tri::Unknown {
            return Ok(t);
        }
        let Some(f) = self.unknown_in(node, None) else {
            return Ok(t);
        };
        let (mut seen_true, mut seen_false) = (false, false);
        for &code in self.classes(f) {
            self.set(f, Some(code));
            match self.status(node)? {
                Tri::True => seen_true = true,
                Tri::False => seen_false = true,
                Tri::Unknown => (seen_true, seen_false) = (true, true),
            }
            if seen_true && seen_false {
                break;
            }
        }
        self.set(f, None);
        Ok(match (seen_true, seen_false) {
            (true, false) => Tri::True,
            (false, true) => Tri::False,
            _ => Tri::Unknown,
        })
    }

    /// Bounds on the score band's level: (lowest, highest) over the unknown factors.
    fn score_bounds(&self, scoring: Option<&Scoring>) -> (LevelIndex, LevelIndex) {
        let Some(s) = scoring else { return (0, 0) };
        let (mut lo, mut hi) = (0i64, 0i64);
        for f in 0..self.factors.len() {
            if !s.scores(f) {
                continue;
            }
            if self.known.get(f).copied().unwrap_or(false) {
                let p = s.points_for(self.factors, f, self.values.get(f).copied().unwrap_or(0));
                lo = lo.saturating_add(p);
                hi = hi.saturating_add(p);
            } else {
                let (a, b) = s.points_range(f);
                lo = lo.saturating_add(a);
                hi = hi.saturating_add(b);
            }
        }
        let mut levels = s
            .bands
            .iter()
            .filter(|b| b.min.is_none_or(|m| m <= hi) && b.max.is_none_or(|m| m >= lo));
        let first = levels.next().map_or(0, |b| b.level);
        levels.fold((first, first), |(a, b), band| {
            (a.min(band.level), b.max(band.level))
        })
    }

    /// Sound bounds on the level from three-valued evaluation.
    fn bounds(&mut self, rs: &Ruleset) -> (LevelIndex, LevelIndex) {
        let (mut lo, mut hi) = self.score_bounds(rs.scoring.as_ref());
        for rule in &rs.rules {
            match self.tri(rule.when) {
                Tri::True => {
                    lo = lo.max(rule.level);
                    hi = hi.max(rule.level);
                }
                Tri::Unknown => hi = hi.max(rule.level),
                Tri::False => {}
            }
        }
        (lo, hi)
    }

    /// An unknown factor (other than `except`) whose value can still move the bounds.
    fn pick(&mut self, rs: &Ruleset, lo: LevelIndex, except: Option<usize>) -> Option<usize> {
        for rule in &rs.rules {
            if rule.level > lo && self.tri(rule.when) == Tri::Unknown {
                if let Some(f) = self.unknown_in(rule.when, except) {
                    return Some(f);
                }
            }
        }
        let scoring = rs.scoring.as_ref()?;
        let (a, b) = self.score_bounds(Some(scoring));
        if a == b {
            return None;
        }
        (0..self.factors.len()).find(|&f| {
            scoring.scores(f) && !self.known.get(f).copied().unwrap_or(true) && Some(f) != except
        })
    }

    /// The exact (lowest, highest) level over every completion of the unknown
    /// factors: read from the level diagram when the ruleset has one and the walk
    /// fits its own step budget ([`crate::diagram`]'s `MAX_RANGE_STEPS`, not charged
    /// to this search's), else by the search.
    pub(crate) fn level_range(
        &mut self,
        rs: &Ruleset,
    ) -> Result<(LevelIndex, LevelIndex), Exhausted> {
        if let Some(range) = rs
            .diagram
            .as_ref()
            .and_then(|d| d.level_range(self.factors, &self.values, &self.known))
        {
            self.spend()?;
            return Ok(range);
        }
        self.level_range_search(rs)
    }

    /// [`Search::level_range`] by the search alone: split on an unknown factor that
    /// can still move the bounds, until the bounds meet.
    pub(crate) fn level_range_search(
        &mut self,
        rs: &Ruleset,
    ) -> Result<(LevelIndex, LevelIndex), Exhausted> {
        self.spend()?;
        let (lo, hi) = self.bounds(rs);
        if lo == hi {
            return Ok((lo, hi));
        }
        let Some(f) = self.pick(rs, lo, None) else {
            return Ok((lo, hi));
        };
        let mut acc: Option<(LevelIndex, LevelIndex)> = None;
        for &code in self.classes(f) {
            self.set(f, Some(code));
            let (a, b) = self.level_range_search(rs)?;
            let merged = acc.map_or((a, b), |(x, y)| (x.min(a), y.max(b)));
            acc = Some(merged);
            if merged == (lo, hi) {
                break;
            }
        }
        self.set(f, None);
        Ok(acc.unwrap_or((lo, hi)))
    }

    /// Whether some completion of the unknown factors exists in which changing only
    /// factor `f` changes whether `node` holds.
    pub(crate) fn node_depends_on(&mut self, node: NodeId, f: usize) -> Result<bool, Exhausted> {
        self.spend()?;
        if self.tri(node) != Tri::Unknown {
            return Ok(false);
        }
        if let Some(g) = self.unknown_in(node, Some(f)) {
            for &code in self.classes(g) {
                self.set(g, Some(code));
                if self.node_depends_on(node, f)? {
                    self.set(g, None);
                    return Ok(true);
                }
            }
            self.set(g, None);
            return Ok(false);
        }
        // Every other factor `node` reads is known: compare the classes of `f`.
        let (mut seen_true, mut seen_false) = (false, false);
        for &code in self.classes(f) {
            self.set(f, Some(code));
            match self.tri(node) {
                Tri::True => seen_true = true,
                Tri::False => seen_false = true,
                Tri::Unknown => (seen_true, seen_false) = (true, true),
            }
        }
        self.set(f, None);
        Ok(seen_true && seen_false)
    }

    /// Whether some completion of the unknown factors exists in which changing only
    /// factor `f` changes the level.
    pub(crate) fn level_depends_on(&mut self, rs: &Ruleset, f: usize) -> Result<bool, Exhausted> {
        self.spend()?;
        let (lo, hi) = self.bounds(rs);
        if lo == hi {
            return Ok(false);
        }
        let Some(g) = self.pick(rs, lo, Some(f)) else {
            // Only `f` is left that can move the level here.
            let (a, b) = self.level_range_search(rs)?;
            return Ok(a != b);
        };
        for &code in self.classes(g) {
            self.set(g, Some(code));
            if self.level_depends_on(rs, f)? {
                self.set(g, None);
                return Ok(true);
            }
        }
        self.set(g, None);
        Ok(false)
    }
}

/// Decides, condition by condition, whether any answer set satisfies it.
///
/// Every condition of one ruleset goes through one search, and so shares one evaluation
/// budget ([`limits::MAX_MISSING_WORK`]): a ruleset made of many conditions that
/// are each costly to decide cannot make loading it take hours (with a budget per
/// condition, a 4 MiB ruleset of hard conditions took about half an hour). A condition
/// still undecided when the budget is spent counts as satisfiable, as a single condition
/// too large to decide always has.
pub(crate) struct Satisfiability<'a> {
    search: Search<'a>,
}

impl<'a> Satisfiability<'a> {
    pub(crate) fn new(arena: &'a ConditionArena, factors: &'a [Factor]) -> Self {
        Satisfiability {
            search: Search::new(
                arena,
                factors,
                vec![0; factors.len()],
                vec![false; factors.len()],
            ),
        }
    }

    /// Whether any answer set satisfies `node` (true when the budget is spent first).
    /// A search that completes leaves every factor unknown again, ready for the next
    /// condition; once the budget is spent, every later search stops at its first step.
    pub(crate) fn satisfiable(&mut self, node: NodeId) -> bool {
        !matches!(self.search.status(node), Ok(Tri::False))
    }
}

impl Ruleset {
    /// The level the score band gives complete answers (the lowest level without scoring).
    pub(crate) fn score_level(&self, values: &[i64]) -> LevelIndex {
        let Some(s) = &self.scoring else { return 0 };
        let total = self.score_total(s, values);
        s.band_for(total).map_or(0, |b| b.level)
    }

    pub(crate) fn score_total(&self, s: &Scoring, values: &[i64]) -> i64 {
        values.iter().enumerate().fold(0i64, |t, (f, &v)| {
            t.saturating_add(s.points_for(&self.factors, f, v))
        })
    }

    /// The level-table entry of complete answers given as value codes: from the
    /// flat table when the compiler built it, else from the level diagram when it
    /// built that.
    #[inline]
    fn table_entry(&self, values: &[i64]) -> Option<u8> {
        let Some(table) = self.table.as_ref() else {
            return self.diagram.as_ref()?.entry(&self.factors, values);
        };
        let index = self
            .factors
            .iter()
            .zip(values)
            .zip(&table.strides)
            .fold(0usize, |acc, ((f, &v), &stride)| {
                acc + f.class_of(v) * stride
            });
        table.levels.get(index).copied()
    }

    /// The level for complete answers given as value codes by factor index.
    /// No allocation, no string comparison: a table lookup when the compiler built the
    /// level table, else a path through the level diagram, else the rule walk.
    #[inline]
    pub(crate) fn level_of_codes(&self, values: &[i64]) -> LevelIndex {
        self.table_entry(values)
            .map_or_else(|| self.level_of_codes_walk(values), LevelTable::level)
    }

    /// The level, and whether a `refer` flag fires, for complete answers given as
    /// value codes: one table lookup when the compiler built the level table, else
    /// one path through the level diagram, else the rule walk and a pass over the
    /// refer flags.
    #[inline]
    pub(crate) fn level_and_refer_of_codes(&self, values: &[i64]) -> (LevelIndex, bool) {
        match self.table_entry(values) {
            Some(e) => (LevelTable::level(e), e & LevelTable::REFER != 0),
            None => (
                self.level_of_codes_walk(values),
                self.refer_of_codes_walk(values),
            ),
        }
    }

    /// Whether a `refer` flag fires for complete answers given as value codes, by
    /// evaluating the refer flags (what the level table's refer bit holds).
    pub(crate) fn refer_of_codes_walk(&self, values: &[i64]) -> bool {
        self.flags
            .iter()
            .any(|f| f.kind == FlagKind::Refer && holds(&self.conditions, f.when, values))
    }

    /// The rule walk: rules are tried most intensive first and the walk stops as soon
    /// as no remaining rule could raise the level.
    pub(crate) fn level_of_codes_walk(&self, values: &[i64]) -> LevelIndex {
        let mut best = self.score_level(values);
        let top = self.levels.len().saturating_sub(1);
        for &r in &self.rules_by_level_desc {
            let Some(rule) = self.rules.get(r) else {
                continue;
            };
            if rule.level <= best {
                break;
            }
            if holds(&self.conditions, rule.when, values) {
                best = rule.level;
                if best == top {
                    break;
                }
            }
        }
        best
    }

    pub(crate) fn too_many_missing(&self, known: &[bool]) -> EvalError {
        EvalError::TooManyMissing {
            factors: self
                .factors
                .iter()
                .zip(known)
                .filter(|(_, k)| !**k)
                .map(|(f, _)| f.id.clone())
                .collect(),
            limit: limits::MAX_MISSING_WORK,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compiled level table agrees with the rule walk on every class combination.
    #[test]
    fn level_table_equals_rule_walk_everywhere() {
        for text in [
            crate::DEFAULT_RULESET,
            include_str!("../../../examples/rulesets/six-levels.yaml"),
        ] {
            let rs = Ruleset::from_yaml(text).unwrap();
            let table = rs.table.as_ref().expect("small space gets a table");
            let counts: Vec<usize> = rs.factors.iter().map(|f| f.classes.len()).collect();
            assert_eq!(table.levels.len(), counts.iter().product::<usize>());
            let mut digits = vec![0usize; counts.len()];
            for _ in 0..table.levels.len() {
                let values: Vec<i64> = digits
                    .iter()
                    .zip(&rs.factors)
                    .map(|(&d, f)| f.classes[d])
                    .collect();
                assert_eq!(
                    rs.level_of_codes(&values),
                    rs.level_of_codes_walk(&values),
                    "{values:?}"
                );
                let refer_walk = rs
                    .flags
                    .iter()
                    .any(|f| f.kind == FlagKind::Refer && holds(&rs.conditions, f.when, &values));
                assert_eq!(rs.refer_of_codes_walk(&values), refer_walk, "{values:?}");
                assert_eq!(
                    rs.level_and_refer_of_codes(&values),
                    (rs.level_of_codes_walk(&values), refer_walk),
                    "{values:?}"
                );
                for f in (0..counts.len()).rev() {
                    digits[f] += 1;
                    if digits[f] < counts[f] {
                        break;
                    }
                    digits[f] = 0;
                }
            }
        }
    }

    /// One budget serves every satisfiability check of a ruleset: once it is spent,
    /// later conditions are no longer searched (they count as satisfiable), so the total
    /// work of loading a ruleset is bounded however many hard conditions it has.
    #[test]
    fn satisfiability_checks_share_one_budget() {
        let rs = Ruleset::from_yaml(
            "id: t\nversion: '1'\ntitle: T\ndescription: D\n\
             levels: [{id: l0, label: L, description: d}]\n\
             factors: [{id: a, kind: boolean, question: Q}]\n\
             rules: [{id: r0, when: {a: true}, level: l0, because: B}]\n",
        )
        .unwrap();
        // Two dead conditions: `all: [a, not a]` and `all: [not a, a]`.
        let arena = ConditionArena {
            nodes: vec![
                Node::Mask {
                    factor: 0,
                    mask: 0b10,
                },
                Node::Mask {
                    factor: 0,
                    mask: 0b01,
                },
                Node::All { start: 0, len: 2 },
                Node::All { start: 2, len: 2 },
            ],
            children: vec![0, 1, 1, 0],
            ranges: Vec::new(),
            score: Default::default(),
        };
        // The work each one costs alone: its search steps plus the nodes they visit.
        let cost = |node| {
            let mut sat = Satisfiability::new(&arena, &rs.factors);
            assert!(!sat.satisfiable(node));
            sat.search.spent()
        };
        let (first, second) = (cost(2), cost(3));
        // Root, then each of the two values of `a`: three steps, each visiting the
        // root and one or two leaves, plus the walk that picks `a`.
        assert!((9..=16).contains(&first), "{first}");
        let with_limit = |limit| {
            let mut sat = Satisfiability::new(&arena, &rs.factors);
            sat.search.limit = limit;
            (sat.satisfiable(2), sat.satisfiable(3))
        };
        assert_eq!(with_limit(limits::MAX_MISSING_WORK), (false, false));
        // Budget for one condition: the second is left undecided.
        assert_eq!(with_limit(first), (false, true));
        assert_eq!(with_limit(first + second), (false, false));
        assert_eq!(with_limit(1), (true, true));
    }

    /// Integer answers between class representatives land in the right class.
    #[test]
    fn integer_values_map_to_their_class() {
        let rs =
            Ruleset::from_yaml(include_str!("../../../examples/rulesets/six-levels.yaml")).unwrap();
        let f = rs.factor_index("ciwa_score").unwrap();
        let factor = &rs.factors[f];
        let mut values: Vec<i64> = rs.factors.iter().map(|x| x.classes[0]).collect();
        let FactorKind::Integer { min, max, .. } = factor.kind else {
            panic!()
        };
        for v in min..=max {
            values[f] = v;
            assert_eq!(
                rs.level_of_codes(&values),
                rs.level_of_codes_walk(&values),
                "ciwa {v}"
            );
        }
    }
}
