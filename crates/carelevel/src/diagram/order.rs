//! The variable order: which factor each level of the diagrams tests.
//!
//! Unscored factors first, then the scored ones, each group in index order. The
//! score total depends on the scored factors only through their sum, so with them
//! together at the bottom a diagram carries "which rules can still hold" across them,
//! never a partial sum across the rules' questions (interleaved, the two multiply:
//! 26,644 nodes against a few hundred for a generated ruleset of 10 rules over 30
//! questions, 8 of them scored). Reordering the sum is exact because it cannot
//! saturate: every answer earns at most [`crate::limits::MAX_POINTS`] in absolute
//! value and there are at most [`crate::limits::MAX_FACTORS`] factors; were the
//! bound ever to reach `i64`, the order falls back to index order, the order in which
//! [`crate::model::ScoreTable::total`] adds.

use crate::model::Ruleset;

/// Factor index ↔ position in the variable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    /// Per position: the factor tested there.
    factor_at: Vec<usize>,
    /// Per factor: its position.
    position_of: Vec<usize>,
}

impl Order {
    /// Index order for `n` factors.
    pub(crate) fn identity(n: usize) -> Order {
        Order {
            factor_at: (0..n).collect(),
            position_of: (0..n).collect(),
        }
    }

    /// The order for `rs`: unscored factors, then scored ones (see the module).
    pub(crate) fn of(rs: &Ruleset) -> Order {
        let n = rs.factors.len();
        let scored = |f: usize| {
            rs.scoring.as_ref().is_some_and(|s| s.scores(f)) || rs.conditions.score.scores(f)
        };
        let bound = (0..n).try_fold(0i64, |acc, f| {
            let band = rs.scoring.as_ref().map_or((0, 0), |s| s.points_range(f));
            let cond = rs.conditions.score.range.get(f).copied().unwrap_or((0, 0));
            let most = [band.0, band.1, cond.0, cond.1]
                .iter()
                .map(|p| p.checked_abs())
                .try_fold(0i64, |m, p| p.map(|p| m.max(p)))?;
            acc.checked_add(most)
        });
        if bound.is_none_or(|b| b > i64::MAX / 2) {
            return Order::identity(n);
        }
        let factor_at: Vec<usize> = (0..n)
            .filter(|&f| !scored(f))
            .chain((0..n).filter(|&f| scored(f)))
            .collect();
        let mut position_of = vec![0; n];
        for (p, &f) in factor_at.iter().enumerate() {
            if let Some(slot) = position_of.get_mut(f) {
                *slot = p;
            }
        }
        Order {
            factor_at,
            position_of,
        }
    }

    /// The factor tested at position `p`.
    pub(crate) fn factor_at(&self, p: usize) -> Option<usize> {
        self.factor_at.get(p).copied()
    }

    /// The position of factor `f` (`usize::MAX` for an unknown factor, after every
    /// variable, so a node on it is refused).
    pub(crate) fn position_of(&self, f: usize) -> usize {
        self.position_of.get(f).copied().unwrap_or(usize::MAX)
    }

    /// Per position: the factor tested there.
    pub(crate) fn factors(&self) -> &[usize] {
        &self.factor_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scored_factors_go_last_in_index_order() {
        let rs = Ruleset::from_yaml(include_str!(
            "../../../../examples/rulesets/six-levels.yaml"
        ))
        .unwrap();
        let order = Order::of(&rs);
        let s = rs.scoring.as_ref().unwrap();
        let at: Vec<usize> = (0..rs.factors.len())
            .map(|p| order.factor_at(p).unwrap())
            .collect();
        let first_scored = at.iter().position(|&f| s.scores(f)).unwrap();
        assert!(at[first_scored..].iter().all(|&f| s.scores(f)), "{at:?}");
        assert!(at[..first_scored].windows(2).all(|w| w[0] < w[1]));
        assert!(at[first_scored..].windows(2).all(|w| w[0] < w[1]));
        for (p, &f) in at.iter().enumerate() {
            assert_eq!(order.position_of(f), p);
        }
        assert_eq!(order.position_of(99), usize::MAX);
        assert_eq!(Order::identity(3).factors(), &[0, 1, 2]);
    }
}
