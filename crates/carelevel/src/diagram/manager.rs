//! The manager: one node store with the work budget every construction spends, the
//! memo of the operation under way and the scratch stack children are gathered on.

use std::collections::HashMap;

use super::hash::FxBuild;
use super::nodes::Nodes;
use super::{Ref, TooLarge};

/// Builds diagrams over one variable order within a work budget.
#[derive(Debug)]
pub(crate) struct Manager {
    /// Every node built so far.
    pub(crate) nodes: Nodes,
    /// Memo of the operation under way ([`Manager::apply`]), cleared per operation.
    pub(crate) memo: HashMap<(Ref, Ref), Ref, FxBuild>,
    /// Children being gathered, for nested constructions one above the other.
    pub(crate) scratch: Vec<Ref>,
    /// Work left: one unit per operation step and per child of every node made.
    left: u64,
}

impl Manager {
    /// A manager for variables with these class counts that may do `budget` units of work.
    pub(crate) fn new(domains: Vec<usize>, budget: u64) -> Manager {
        Manager {
            nodes: Nodes::new(domains),
            memo: HashMap::default(),
            scratch: Vec::new(),
            left: budget,
        }
    }

    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "diagram package API for the symbolic check and diff (issue 13 part 3); used by the tests"
        )
    )]
    /// Work left of the budget.
    pub(crate) fn left(&self) -> u64 {
        self.left
    }

    /// Take `units` off the budget, or fail once it is spent.
    pub(crate) fn spend(&mut self, units: usize) -> Result<(), TooLarge> {
        let units = u64::try_from(units).map_err(|_| TooLarge)?;
        self.left = self.left.checked_sub(units).ok_or(TooLarge)?;
        Ok(())
    }

    /// The node on `var` whose children are the scratch stack from `base` up (then
    /// popped), reduced and shared (see [`Nodes::intern`]).
    pub(crate) fn intern_scratch(&mut self, var: usize, base: usize) -> Result<Ref, TooLarge> {
        let children = self.scratch.get(base..).unwrap_or(&[]);
        let made = match self.left.checked_sub(children.len() as u64) {
            Some(left) => {
                self.left = left;
                self.nodes.intern(var, children).ok_or(TooLarge)
            }
            None => Err(TooLarge),
        };
        self.scratch.truncate(base);
        made
    }

    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "diagram package API for the symbolic check and diff (issue 13 part 3); used by the tests"
        )
    )]
    /// The diagram on one variable: class `c` of `var` leads to the terminal `value(c)`.
    pub(crate) fn leaf(
        &mut self,
        var: usize,
        value: impl Fn(usize) -> u8,
    ) -> Result<Ref, TooLarge> {
        let base = self.scratch.len();
        for class in 0..self.nodes.domain(var) {
            self.scratch.push(Ref::terminal(value(class)));
        }
        self.intern_scratch(var, base)
    }

    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "diagram package API for the symbolic check and diff (issue 13 part 3); used by the tests"
        )
    )]
    /// The terminal reached from `r` by following, on every node, the child of the
    /// class `class_of(var)` gives.
    pub(crate) fn evaluate(&self, mut r: Ref, class_of: impl Fn(usize) -> usize) -> Option<u8> {
        loop {
            if let Some(v) = r.value() {
                return Some(v);
            }
            let var = self.nodes.var(r);
            r = *self.nodes.children(r).get(class_of(var))?;
        }
    }

    /// The share of class combinations (each class counted alike) where condition `r`
    /// holds, from 0 to 1: a heuristic for the order of construction, never a result.
    pub(crate) fn density(&self, r: Ref) -> f64 {
        let mut memo: HashMap<Ref, f64, FxBuild> = HashMap::default();
        self.density_memo(r, &mut memo)
    }

    fn density_memo(&self, r: Ref, memo: &mut HashMap<Ref, f64, FxBuild>) -> f64 {
        if let Some(v) = r.value() {
            return if v == 0 { 0.0 } else { 1.0 };
        }
        if let Some(&d) = memo.get(&r) {
            return d;
        }
        let children = self.nodes.children(r);
        let sum: f64 = children.iter().map(|&c| self.density_memo(c, memo)).sum();
        let d = sum / children.len().max(1) as f64;
        memo.insert(r, d);
        d
    }

    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "diagram package API for the symbolic check and diff (issue 13 part 3); used by the tests"
        )
    )]
    /// How many nodes `r` reaches (itself included when it is a node).
    pub(crate) fn size(&self, r: Ref) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![r];
        while let Some(x) = stack.pop() {
            if x.node().is_some() && seen.insert(x) {
                stack.extend_from_slice(self.nodes.children(x));
            }
        }
        seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_reduced_and_evaluate_by_class() {
        let mut m = Manager::new(vec![3, 2], 1_000);
        assert_eq!(m.leaf(0, |_| 4).unwrap(), Ref::terminal(4));
        let r = m.leaf(0, |c| u8::from(c == 2)).unwrap();
        assert_eq!(m.evaluate(r, |_| 2), Some(1));
        assert_eq!(m.evaluate(r, |_| 0), Some(0));
        assert_eq!(m.evaluate(r, |_| 9), None);
        assert_eq!(m.size(r), 1);
        assert!(m.scratch.is_empty());
    }

    #[test]
    fn density_is_the_share_of_class_combinations_that_hold() {
        let mut m = Manager::new(vec![4, 2], 1_000);
        let x = m.leaf(0, |c| u8::from(c >= 1)).unwrap();
        let y = m.leaf(1, |c| u8::from(c == 1)).unwrap();
        let both = m.apply(crate::diagram::Op::And, x, y).unwrap();
        assert_eq!(m.density(x), 0.75);
        assert_eq!(m.density(both), 0.375);
        assert_eq!(m.density(Ref::TRUE), 1.0);
        assert_eq!(m.density(Ref::FALSE), 0.0);
    }

    #[test]
    fn the_budget_refuses_once_spent() {
        let mut m = Manager::new(vec![3], 5);
        assert!(m.leaf(0, |c| c as u8).is_ok());
        assert_eq!(m.left(), 2);
        assert_eq!(m.leaf(0, |c| c as u8 + 1), Err(TooLarge));
        assert!(m.scratch.is_empty());
        assert_eq!(m.spend(3), Err(TooLarge));
    }
}
