//! The level diagram of a ruleset: at every complete answer set, the level-table
//! entry the rule walk computes (the highest of the score band's level and the level
//! of every rule that holds, with [`LevelTable::REFER`] when a `refer` flag holds),
//! frozen into [`LevelDiagram`] for evaluation, and painted into the flat
//! [`LevelTable`] when the answer space is small.

use std::collections::HashMap;

use super::condition::Conditions;
use super::hash::FxBuild;
use super::manager::Manager;
use super::{score, Op, Ref, TooLarge};
use crate::limits;
use crate::model::{Factor, FlagKind, LevelTable, Ruleset, Scoring};

/// A level diagram, frozen: only the nodes the root reaches, in flat arrays, read
/// without allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LevelDiagram {
    /// The root, as a [`Ref`] number: below 256 a terminal (the entry), else node
    /// `root - 256`.
    root: u32,
    /// Per node: the factor it tests and where its children start in `edges`.
    nodes: Vec<(u32, u32)>,
    /// The children of every node, one per class of its factor, as `root` is written.
    edges: Vec<u32>,
}

/// How many refs stand for terminals (see [`Ref`]).
const TERMINALS: u32 = 256;

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
            let &(var, start) = self.nodes.get(i as usize)?;
            let factor = factors.get(var as usize)?;
            let class = factor.class_of(*values.get(var as usize)?);
            if class >= factor.classes.len() {
                return None;
            }
            r = *self.edges.get(start as usize + class)?;
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
        self.nodes.len()
    }

    /// The flat table of every class combination (factor 0 varies slowest), when the
    /// answer space has at most [`limits::MAX_LEVEL_TABLE`] combinations: one write
    /// per entry, a whole block at once below a terminal.
    pub(crate) fn table(&self, factors: &[Factor]) -> Option<LevelTable> {
        let counts: Vec<usize> = factors.iter().map(|f| f.classes.len()).collect();
        let size = counts.iter().try_fold(1usize, |acc, &n| {
            acc.checked_mul(n).filter(|&s| s <= limits::MAX_LEVEL_TABLE)
        })?;
        // blocks[f]: how many entries the factors from f on span.
        let mut blocks = vec![1usize; counts.len() + 1];
        for f in (0..counts.len()).rev() {
            let below = blocks.get(f + 1).copied().unwrap_or(1);
            if let Some(b) = blocks.get_mut(f) {
                *b = below * counts.get(f).copied().unwrap_or(1);
            }
        }
        let mut levels = vec![0u8; size];
        self.paint(self.root, 0, 0, &blocks, &mut levels)?;
        Some(LevelTable {
            strides: blocks.get(1..).unwrap_or(&[]).to_vec(),
            levels,
        })
    }

    /// Write the entries of `r` for the factors from `f` on, starting at `base`.
    fn paint(&self, r: u32, f: usize, base: usize, blocks: &[usize], out: &mut [u8]) -> Option<()> {
        let block = *blocks.get(f)?;
        let Some(i) = r.checked_sub(TERMINALS) else {
            out.get_mut(base..base + block)?.fill(u8::try_from(r).ok()?);
            return Some(());
        };
        let &(var, start) = self.nodes.get(i as usize)?;
        let stride = *blocks.get(f + 1)?;
        let classes = block / stride.max(1);
        for c in 0..classes {
            let child = if var as usize == f {
                *self.edges.get(start as usize + c)?
            } else {
                r
            };
            self.paint(child, f + 1, base + c * stride, blocks, out)?;
        }
        Some(())
    }

    /// The nodes `root` reaches in `m`, renumbered into flat arrays.
    fn freeze(m: &Manager, root: Ref) -> Option<LevelDiagram> {
        let mut ids: HashMap<Ref, u32, FxBuild> = HashMap::default();
        let mut order = Vec::new();
        let mut stack = vec![root];
        while let Some(r) = stack.pop() {
            if r.node().is_none() || ids.contains_key(&r) {
                continue;
            }
            ids.insert(r, u32::try_from(order.len()).ok()?.checked_add(TERMINALS)?);
            order.push(r);
            stack.extend_from_slice(m.nodes.children(r));
        }
        let number = |r: Ref| match r.value() {
            Some(v) => Some(u32::from(v)),
            None => ids.get(&r).copied(),
        };
        let mut nodes = Vec::with_capacity(order.len());
        let mut edges = Vec::new();
        for &r in &order {
            let var = u32::try_from(m.nodes.var(r)).ok()?;
            nodes.push((var, u32::try_from(edges.len()).ok()?));
            for &c in m.nodes.children(r) {
                edges.push(number(c)?);
            }
        }
        Some(LevelDiagram {
            root: number(root)?,
            nodes,
            edges,
        })
    }
}

/// The diagram of the score band's level (the terminal 0 without scoring).
fn band_diagram(
    m: &mut Manager,
    factors: &[Factor],
    scoring: Option<&Scoring>,
) -> Result<Ref, TooLarge> {
    let Some(s) = scoring else {
        return Ok(Ref::terminal(0));
    };
    let layers = score::layers(
        factors,
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
/// [`limits::MAX_DIAGRAM_WORK`]): the band diagram and one diagram per rule (its
/// level where it holds) and per `refer` flag (the refer bit), combined by
/// [`Op::Max`] pairwise, as a balanced tree, so no intermediate result is combined
/// with every other.
pub(crate) fn build(rs: &Ruleset, budget: u64) -> Result<LevelDiagram, TooLarge> {
    let domains = rs.factors.iter().map(|f| f.classes.len()).collect();
    let mut m = Manager::new(domains, budget);
    let mut conditions = Conditions::new(&rs.conditions, &rs.factors);
    let mut parts = vec![band_diagram(&mut m, &rs.factors, rs.scoring.as_ref())?];
    for rule in &rs.rules {
        let entry = entry_of(rule.level)?;
        if entry == 0 {
            continue;
        }
        let c = conditions.build(&mut m, rule.when)?;
        parts.push(m.apply(Op::Then(entry), c, Ref::FALSE)?);
    }
    let mut refer = false;
    for flag in rs.flags.iter().filter(|f| f.kind == FlagKind::Refer) {
        let c = conditions.build(&mut m, flag.when)?;
        parts.push(m.apply(Op::Then(LevelTable::REFER), c, Ref::FALSE)?);
        refer = true;
    }
    let top = entry_of(rs.levels.len().saturating_sub(1))?;
    let op = Op::Max {
        absorbing: if refer { top | LevelTable::REFER } else { top },
    };
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        for pair in parts.chunks(2) {
            next.push(match *pair {
                [a, b] => m.apply(op, a, b)?,
                [a] => a,
                _ => Ref::terminal(0),
            });
        }
        parts = next;
    }
    let root = parts.first().copied().unwrap_or(Ref::terminal(0));
    LevelDiagram::freeze(&m, root).ok_or(TooLarge)
}
