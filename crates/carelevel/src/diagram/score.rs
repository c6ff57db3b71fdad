//! Diagrams of functions of the score total, built layer by layer over intervals.
//!
//! The total is the sum of every scored factor's points, factor after factor in the
//! variable order (the sum never saturates: see [`super::order`]). A *layer* is one
//! scored factor; at layer `i` the partial sum `s`
//! of the factors before it is known, and the rest of the diagram depends on `s`
//! only. Many partial sums share the same rest: the construction finds, with each
//! sub-diagram, the whole interval of partial sums that lead to it (the preimages of
//! the children's intervals, intersected), and memoises each layer as sorted
//! intervals. So a diagram has one node per distinct rest, not per reachable sum,
//! and stays exact: the last layer's intervals are cut where the function of the
//! total can change (the condition's ranges, the score bands).

use std::collections::BTreeMap;

use super::manager::Manager;
use super::order::Order;
use super::{Ref, TooLarge};
use crate::model::Factor;

/// One scored factor: its variable and the points of each of its classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layer {
    /// The factor's position in the variable order.
    pub(crate) var: usize,
    /// Points per class (those of the class's representative answer, which every
    /// answer of the class earns).
    pub(crate) points: Vec<i64>,
}

/// The layers of the factors for which `scores` holds, in the variable order.
pub(crate) fn layers(
    factors: &[Factor],
    order: &Order,
    scores: impl Fn(usize) -> bool,
    points: impl Fn(usize, i64) -> i64,
) -> Vec<Layer> {
    let mut layers: Vec<Layer> = factors
        .iter()
        .enumerate()
        .filter(|&(f, _)| scores(f))
        .map(|(f, factor)| Layer {
            var: order.position_of(f),
            points: factor.classes.iter().map(|&code| points(f, code)).collect(),
        })
        .collect();
    layers.sort_by_key(|l| l.var);
    layers
}

/// The totals where membership of any of `intervals` (inclusive) can change: each
/// interval's first total and the one after its last, sorted, once each.
pub(crate) fn cuts(intervals: impl Iterator<Item = (i64, i64)>) -> Vec<i64> {
    let mut cuts: Vec<i64> = intervals
        .flat_map(|(lo, hi)| [lo, hi.saturating_add(1)])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// The interval between two cuts that holds `s`.
fn cell(cuts: &[i64], s: i64) -> (i64, i64) {
    let at = cuts.partition_point(|&c| c <= s);
    let lo = at
        .checked_sub(1)
        .and_then(|i| cuts.get(i))
        .copied()
        .unwrap_or(i64::MIN);
    let hi = cuts.get(at).map_or(i64::MAX, |&c| c.saturating_sub(1));
    (lo, hi)
}

/// The partial sums `s` with `s.saturating_add(p)` in `lo..=hi` (an interval, as
/// the saturating sum is monotone).
fn preimage(lo: i64, hi: i64, p: i64) -> (i64, i64) {
    let clamp = |x: i128| i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX });
    let from = if lo == i64::MIN {
        i64::MIN
    } else {
        clamp(i128::from(lo) - i128::from(p))
    };
    let to = if hi == i64::MAX {
        i64::MAX
    } else {
        clamp(i128::from(hi) - i128::from(p))
    };
    (from, to)
}

/// The construction under way: the layers, the cuts, the function and each layer's memo.
struct Build<'a, F> {
    layers: &'a [Layer],
    cuts: &'a [i64],
    leaf: F,
    /// Per layer (and one for the totals): first partial sum → (last, diagram).
    memo: Vec<BTreeMap<i64, (i64, Ref)>>,
}

impl<F: Fn(i64) -> u8> Build<'_, F> {
    /// The diagram of the layers from `i` on for the partial sum `s`, with the
    /// interval of partial sums that have the same one.
    fn rest(&mut self, m: &mut Manager, i: usize, s: i64) -> Result<(i64, i64, Ref), TooLarge> {
        let memo = self.memo.get(i).ok_or(TooLarge)?;
        if let Some((&lo, &(hi, r))) = memo.range(..=s).next_back() {
            if s <= hi {
                return Ok((lo, hi, r));
            }
        }
        m.spend(1)?;
        let (lo, hi, r) = match self.layers.get(i) {
            None => {
                let (lo, hi) = cell(self.cuts, s);
                (lo, hi, Ref::terminal((self.leaf)(s)))
            }
            Some(layer) => {
                let (mut lo, mut hi) = (i64::MIN, i64::MAX);
                let base = m.scratch.len();
                for &p in &layer.points {
                    match self.rest(m, i + 1, s.saturating_add(p)) {
                        Ok((a, b, r)) => {
                            let (a, b) = preimage(a, b, p);
                            (lo, hi) = (lo.max(a), hi.min(b));
                            m.scratch.push(r);
                        }
                        Err(e) => {
                            m.scratch.truncate(base);
                            return Err(e);
                        }
                    }
                }
                (lo, hi, m.intern_scratch(layer.var, base)?)
            }
        };
        if let Some(memo) = self.memo.get_mut(i) {
            memo.insert(lo, (hi, r));
        }
        Ok((lo, hi, r))
    }
}

/// The diagram of `leaf(total)`, where `leaf` is constant between consecutive `cuts`.
pub(crate) fn build(
    m: &mut Manager,
    layers: &[Layer],
    cuts: &[i64],
    leaf: impl Fn(i64) -> u8,
) -> Result<Ref, TooLarge> {
    let mut b = Build {
        layers,
        cuts,
        leaf,
        memo: vec![BTreeMap::new(); layers.len() + 1],
    };
    b.rest(m, 0, 0).map(|(_, _, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_preimages_are_exact_at_the_edges() {
        let c = cuts([(3, 5), (10, i64::MAX)].into_iter());
        assert_eq!(c, vec![3, 6, 10, i64::MAX]);
        assert_eq!(cell(&c, 0), (i64::MIN, 2));
        assert_eq!(cell(&c, 4), (3, 5));
        assert_eq!(cell(&c, 6), (6, 9));
        assert_eq!(cell(&c, i64::MAX), (i64::MAX, i64::MAX));
        assert_eq!(preimage(3, 5, 2), (1, 3));
        assert_eq!(preimage(i64::MIN, 5, 2), (i64::MIN, 3));
        // Saturation: every sum from MAX - 2 up lands on MAX.
        assert_eq!(preimage(i64::MAX, i64::MAX, 2), (i64::MAX - 2, i64::MAX));
        // s + MIN lands in -5..=5 for s from MAX - 4 (it cannot reach 0..=5).
        assert_eq!(preimage(-5, 5, i64::MIN), (i64::MAX - 4, i64::MAX));
    }

    /// Brute force over every class combination of three layers equals the diagram,
    /// and sums that share their rest share one node.
    #[test]
    fn the_diagram_of_a_threshold_on_the_total_is_exact_and_small() {
        let layers = vec![
            Layer {
                var: 0,
                points: vec![0, 1, 2, 3],
            },
            Layer {
                var: 1,
                points: vec![0, 5],
            },
            Layer {
                var: 2,
                points: vec![-2, 0, 2],
            },
        ];
        let mut m = Manager::new(vec![4, 2, 3], 100_000);
        let ranges = [(4i64, 6i64)];
        let c = cuts(ranges.iter().copied());
        let leaf = |t: i64| u8::from((4..=6).contains(&t));
        let r = build(&mut m, &layers, &c, leaf).unwrap();
        for a in 0..4 {
            for b in 0..2 {
                for d in 0..3 {
                    let total = layers[0].points[a] + layers[1].points[b] + layers[2].points[d];
                    let got = m.evaluate(r, |v| [a, b, d][v]).unwrap();
                    assert_eq!(got, leaf(total), "{a} {b} {d}");
                }
            }
        }
        // One node per distinct rest: 5 on `var 2` (partial sums 2 and 3 share
        // theirs, 0 and 1 lead to false, 7 and 8 share), at most 4 on `var 1`, the
        // root; a tree would have 1 + 4 + 8.
        assert!(m.nodes.len() <= 10, "{}", m.nodes.len());
        assert_eq!(m.size(r), m.nodes.len());
    }

    #[test]
    fn no_scored_factor_gives_a_terminal() {
        let mut m = Manager::new(vec![2], 100);
        let r = build(&mut m, &[], &cuts([(0, 0)].into_iter()), |t| {
            u8::from(t == 0)
        })
        .unwrap();
        assert_eq!(r, Ref::TRUE);
    }
}
