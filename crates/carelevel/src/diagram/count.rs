//! Counting the answer sets where a condition holds, each class weighted: weight 1
//! per class counts answer-set classes; an integer class's number of values counts
//! complete answer combinations. Exact in `u128`; `None` when the count overflows it.

use std::collections::HashMap;

use super::hash::FxBuild;
use super::manager::Manager;
use super::Ref;

/// A count under way: the weights, the product of the whole weights of every run of
/// positions, and each node's count.
struct Counting<'a> {
    /// Per position of the order: the weight of each class.
    weights: &'a [Vec<u128>],
    /// `skip[a][b - a]`: the product of the total weights of positions `a..b`.
    skip: Vec<Vec<Option<u128>>>,
    memo: HashMap<Ref, Option<u128>, FxBuild>,
}

impl Counting<'_> {
    /// The product of the total weights of positions `from..to` (`to` past the end
    /// stands for the end).
    fn skipped(&self, from: usize, to: usize) -> Option<u128> {
        let to = to.min(self.weights.len());
        self.skip
            .get(from)
            .and_then(|row| row.get(to.checked_sub(from)?))
            .copied()
            .flatten()
    }

    /// The weighted count of the assignments to the positions from `r`'s variable on
    /// where `r` holds (a non-zero terminal).
    fn node(&mut self, m: &Manager, r: Ref) -> Option<u128> {
        if let Some(v) = r.value() {
            return Some(u128::from(v != 0));
        }
        if let Some(&c) = self.memo.get(&r) {
            return c;
        }
        let var = m.nodes.var(r);
        let mut sum = Some(0u128);
        for (class, &child) in m.nodes.children(r).iter().enumerate() {
            let w = self.weights.get(var).and_then(|w| w.get(class)).copied()?;
            let below = self.node(m, child);
            let part = match below {
                Some(0) => Some(0),
                _ => self
                    .skipped(var + 1, m.nodes.var(child))
                    .and_then(|s| s.checked_mul(below?))
                    .and_then(|x| x.checked_mul(w)),
            };
            sum = sum.and_then(|s| s.checked_add(part?));
        }
        self.memo.insert(r, sum);
        sum
    }
}

impl Manager {
    /// The sum, over the answer sets where condition `r` holds, of the product of
    /// their classes' weights (`weights[p][c]`: class `c` of the variable at position
    /// `p`); `None` past `u128::MAX`.
    pub(crate) fn weighted_count(&self, r: Ref, weights: &[Vec<u128>]) -> Option<u128> {
        let n = weights.len();
        let totals: Vec<Option<u128>> = weights
            .iter()
            .map(|w| w.iter().try_fold(0u128, |a, &x| a.checked_add(x)))
            .collect();
        let skip = (0..=n)
            .map(|a| {
                let mut row = Vec::with_capacity(n + 1 - a);
                let mut acc = Some(1u128);
                row.push(acc);
                for t in totals.iter().skip(a) {
                    acc = acc.and_then(|x| x.checked_mul((*t)?));
                    row.push(acc);
                }
                row
            })
            .collect();
        let mut counting = Counting {
            weights,
            skip,
            memo: HashMap::default(),
        };
        let below = counting.node(self, r);
        match below {
            Some(0) => Some(0),
            _ => counting
                .skipped(0, self.nodes.var(r))
                .and_then(|s| s.checked_mul(below?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::Op;

    #[test]
    fn counts_weigh_each_class_and_skipped_variables() {
        let mut m = Manager::new(vec![3, 2, 4], 10_000);
        let x = m.leaf(0, |c| u8::from(c >= 1)).unwrap();
        let z = m.leaf(2, |c| u8::from(c == 3)).unwrap();
        let xz = m.apply(Op::And, x, z).unwrap();
        let ones: Vec<Vec<u128>> = vec![vec![1; 3], vec![1; 2], vec![1; 4]];
        // Brute force against the weights.
        let widths: Vec<Vec<u128>> = vec![vec![1, 10, 100], vec![7, 1], vec![1, 2, 3, 5]];
        for r in [x, z, xz, Ref::TRUE, Ref::FALSE] {
            for w in [&ones, &widths] {
                let mut want = 0u128;
                for a in 0..3 {
                    for b in 0..2 {
                        for c in 0..4 {
                            if m.evaluate(r, |v| [a, b, c][v]).unwrap() != 0 {
                                want += w[0][a] * w[1][b] * w[2][c];
                            }
                        }
                    }
                }
                assert_eq!(m.weighted_count(r, w), Some(want));
            }
        }
        assert_eq!(m.weighted_count(xz, &ones), Some(2 * 2));
    }

    #[test]
    fn counts_past_u128_are_none() {
        let m = Manager::new(vec![2; 130], 10);
        let ones = vec![vec![1u128; 2]; 130];
        assert_eq!(m.weighted_count(Ref::TRUE, &ones), None);
        assert_eq!(m.weighted_count(Ref::FALSE, &ones), Some(0));
        assert_eq!(m.weighted_count(Ref::TRUE, &ones[..127]), Some(1 << 127));
    }
}
