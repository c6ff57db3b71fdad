//! The level diagram of a ruleset: at every complete answer set, the level-table
//! entry the rule walk computes (the highest of the score band's level and the level
//! of every rule that holds, with [`LevelTable::REFER`] when a `refer` flag holds),
//! frozen into [`LevelDiagram`] for evaluation, and painted into the flat
//! [`LevelTable`] when the answer space is small.

use std::collections::HashMap;

use super::classes::ClassMap;
use super::condition::Conditions;
use super::hash::FxBuild;
use super::manager::Manager;
use super::order::Order;
use super::{score, Op, Ref, TooLarge};
use crate::limits;
use crate::model::{Factor, FlagKind, LevelTable, Ruleset, Scoring};

/// A level diagram, frozen: only the nodes the root reaches, in one flat array read
/// without allocation, each node's factor next to its children (one cache line
/// for most steps of a path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LevelDiagram {
    /// The root: below 256 a terminal (the entry), else the node at `words[root - 256]`.
    pub(super) root: u32,
    /// Node after node: the factor it tests, then one child per class of that
    /// factor, each written as `root` is.
    pub(super) words: Vec<u32>,
    /// How many nodes `words` holds.
    nodes: usize,
    /// The class of each answer, by one lookup.
    pub(super) classes: ClassMap,
    /// Per position of the variable order, its factor (for [`LevelDiagram::table`]).
    order: Vec<usize>,
}

/// How many refs stand for terminals (see [`Ref`]).
pub(super) const TERMINALS: u32 = 256;

impl LevelDiagram {
    /// The level-table entry of complete answers `values` (value codes by factor
    /// index): one step per factor the path tests. `None` only for codes outside
    /// their factor's classes.
    #[inline]
    pub(crate) fn entry(&self, factors: &[Factor], values: &[i64]) -> Option<u8> {
        let mut r = self.root;
        loop {
            let Some(i) = r.checked_sub(TERMINALS) else {
                return u8::try_from(r).ok();
            };
            let at = i as usize;
            let var = *self.words.get(at)? as usize;
            let class = self.classes.class(factors, var, *values.get(var)?)?;
            r = *self.words.get(at + 1 + class)?;
        }
    }

    /// How many nodes the diagram has.
    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "diagram package API for the symbolic check and diff (issue 13 part 3); used by the tests"
        )
    )]
    pub(crate) fn node_count(&self) -> usize {
        self.nodes
    }

    /// The flat table of every class combination (factor 0 varies slowest), when the
    /// answer space has at most [`limits::MAX_LEVEL_TABLE`] combinations: one write
    /// per entry, a whole block at once below a terminal.
    pub(crate) fn table(&self, factors: &[Factor]) -> Option<LevelTable> {
        let counts: Vec<usize> = factors.iter().map(|f| f.classes.len()).collect();
        let size = counts.iter().try_fold(1usize, |acc, &n| {
            acc.checked_mul(n).filter(|&s| s <= limits::MAX_LEVEL_TABLE)
        })?;
        let mut strides = vec![1usize; counts.len()];
        for f in (0..counts.len().saturating_sub(1)).rev() {
            let next =
                strides.get(f + 1).copied().unwrap_or(1) * counts.get(f + 1).copied().unwrap_or(1);
            if let Some(s) = strides.get_mut(f) {
                *s = next;
            }
        }
        let mut levels = vec![0u8; size];
        let paint = Paint {
            diagram: self,
            counts: &counts,
            strides: &strides,
        };
        paint.run(self.root, 0, 0, &mut levels)?;
        Some(LevelTable { strides, levels })
    }

    /// The nodes `root` reaches in `m`, in depth-first order, laid out in one array.
    fn freeze(m: &Manager, root: Ref, factors: &[Factor], order: &Order) -> Option<LevelDiagram> {
        let mut at: HashMap<Ref, u32, FxBuild> = HashMap::default();
        let mut visit = Vec::new();
        let mut stack = vec![root];
        let mut words = 0usize;
        while let Some(r) = stack.pop() {
            if r.node().is_none() || at.contains_key(&r) {
                continue;
            }
            at.insert(r, u32::try_from(words).ok()?.checked_add(TERMINALS)?);
            visit.push(r);
            let children = m.nodes.children(r);
            words += 1 + children.len();
            stack.extend(children.iter().rev());
        }
        let number = |r: Ref| match r.value() {
            Some(v) => Some(u32::from(v)),
            None => at.get(&r).copied(),
        };
        let mut out = Vec::with_capacity(words);
        for &r in &visit {
            let factor = order.factor_at(m.nodes.var(r))?;
            out.push(u32::try_from(factor).ok()?);
            for &c in m.nodes.children(r) {
                out.push(number(c)?);
            }
        }
        Some(LevelDiagram {
            root: number(root)?,
            words: out,
            nodes: visit.len(),
            classes: ClassMap::new(factors),
            order: order.factors().to_vec(),
        })
    }
}

/// Painting a diagram into the flat table, position by position of the variable
/// order (the table's index is in factor order, so each position moves by its
/// factor's stride).
struct Paint<'a> {
    diagram: &'a LevelDiagram,
    counts: &'a [usize],
    strides: &'a [usize],
}

impl Paint<'_> {
    /// Write the entries of `r` for the positions from `p` on, at `base` plus their offsets.
    fn run(&self, r: u32, p: usize, base: usize, out: &mut [u8]) -> Option<()> {
        let Some(&f) = self.diagram.order.get(p) else {
            *out.get_mut(base)? = u8::try_from(r).ok()?;
            return Some(());
        };
        let (stride, count) = (*self.strides.get(f)?, *self.counts.get(f)?);
        let at = r.checked_sub(TERMINALS).map(|i| i as usize);
        let tests_f = match at {
            Some(at) => *self.diagram.words.get(at)? as usize == f,
            None => false,
        };
        for c in 0..count {
            let child = match at {
                Some(at) if tests_f => *self.diagram.words.get(at + 1 + c)?,
                _ => r,
            };
            self.run(child, p + 1, base + c * stride, out)?;
        }
        Some(())
    }
}

/// The diagram of the score band's level (the terminal 0 without scoring).
fn band_diagram(
    m: &mut Manager,
    factors: &[Factor],
    order: &Order,
    scoring: Option<&Scoring>,
) -> Result<Ref, TooLarge> {
    let Some(s) = scoring else {
        return Ok(Ref::terminal(0));
    };
    let layers = score::layers(
        factors,
        order,
        |f| s.scores(f),
        |f, code| s.points_for(factors, f, code),
    );
    let cuts = score::cuts(
        s.bands
            .iter()
            .map(|b| (b.min.unwrap_or(i64::MIN), b.max.unwrap_or(i64::MAX))),
    );
    score::build(m, &layers, &cuts, |total| {
        s.band_for(total)
            .and_then(|b| u8::try_from(b.level).ok())
            .unwrap_or(0)
    })
}

/// A level as an entry byte, refused when it would reach the refer bit.
fn entry_of(level: usize) -> Result<u8, TooLarge> {
    u8::try_from(level)
        .ok()
        .filter(|l| l & LevelTable::REFER == 0)
        .ok_or(TooLarge)
}

/// The level diagram of `rs`, within `budget` units of work (see
/// [`limits::MAX_DIAGRAM_WORK`]): from the terminal 0, each rule, most intensive
/// first and, within a level, the most widely holding first ([`Manager::density`]),
/// raises the entries where its condition holds to its level ([`Op::Raise`]);
/// then the score band's level ([`Op::Max`]); then each `refer` flag sets the refer
/// bit where it holds. Most intensive first, so the regions already at a rule's level
/// or above are never expanded again for it (the shortcut of [`Op::Raise`]), and
/// lower rules and the band only refine what is left below the top.
pub(crate) fn build(rs: &Ruleset, budget: u64) -> Result<LevelDiagram, TooLarge> {
    let order = Order::of(rs);
    let mut m = manager(rs, &order, budget);
    let mut conditions = Conditions::new(&rs.conditions, &rs.factors, &order);
    let acc = entries(rs, &mut m, &mut conditions, &order)?;
    LevelDiagram::freeze(&m, acc, &rs.factors, &order).ok_or(TooLarge)
}

/// A manager for the diagrams of `rs` in the variable order `order`, with `budget`
/// units of work.
pub(crate) fn manager(rs: &Ruleset, order: &Order, budget: u64) -> Manager {
    let domains = order
        .factors()
        .iter()
        .map(|&f| rs.factors.get(f).map_or(0, |x| x.classes.len()))
        .collect();
    Manager::new(domains, budget)
}

/// The diagram of the level-table entry of `rs` at every complete answer set, built
/// in `m` as [`build`] describes (the conditions through `conditions`, so a caller
/// that built some already reuses them).
pub(crate) fn entries(
    rs: &Ruleset,
    m: &mut Manager,
    conditions: &mut Conditions<'_>,
    order: &Order,
) -> Result<Ref, TooLarge> {
    let mut raises = Vec::with_capacity(rs.rules.len());
    for rule in &rs.rules {
        let entry = entry_of(rule.level)?;
        if entry != 0 {
            let c = conditions.build(m, rule.when)?;
            raises.push((entry, m.density(c), c));
        }
    }
    // Most intensive first; within a level, the conditions that hold most widely first.
    raises.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)));
    let mut acc = Ref::terminal(0);
    for &(entry, _, c) in &raises {
        acc = m.apply(Op::Raise(entry), acc, c)?;
    }
    // No entry has the refer bit yet: the top level absorbs the band's.
    let band = band_diagram(m, &rs.factors, order, rs.scoring.as_ref())?;
    let top = entry_of(rs.levels.len().saturating_sub(1))?;
    acc = m.apply(Op::Max { absorbing: top }, acc, band)?;
    for flag in rs.flags.iter().filter(|f| f.kind == FlagKind::Refer) {
        let c = conditions.build(m, flag.when)?;
        acc = m.apply(Op::Raise(LevelTable::REFER), acc, c)?;
    }
    Ok(acc)
}
