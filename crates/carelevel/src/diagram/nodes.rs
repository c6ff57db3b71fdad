//! The node store: each node (a variable and one child per class of it) is kept once,
//! found again through an open-addressing unique table, so equal sub-diagrams are one
//! [`Ref`] (hash-consing) and equality of diagrams is equality of refs.

use super::hash::mix;
use super::Ref;

/// Every node of a family of diagrams over one variable order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Nodes {
    /// Per variable (factor): how many classes, so how many children a node on it has.
    domains: Vec<usize>,
    /// Per node: its variable.
    vars: Vec<u32>,
    /// Per node: where its children start in `edges`.
    starts: Vec<usize>,
    /// The children of every node, node after node.
    edges: Vec<Ref>,
    /// Open addressing: 0 empty, else a node index + 1. Never more than half full.
    slots: Vec<u32>,
}

impl Nodes {
    /// An empty store for variables with these class counts.
    pub(crate) fn new(domains: Vec<usize>) -> Nodes {
        Nodes {
            domains,
            ..Nodes::default()
        }
    }

    /// How many nodes the store holds.
    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "diagram package API for the symbolic check and diff (issue 13 part 3); used by the tests"
        )
    )]
    pub(crate) fn len(&self) -> usize {
        self.vars.len()
    }

    /// How many variables there are.
    pub(crate) fn variables(&self) -> usize {
        self.domains.len()
    }

    /// How many classes variable `var` has (0 for an unknown variable).
    pub(crate) fn domain(&self, var: usize) -> usize {
        self.domains.get(var).copied().unwrap_or(0)
    }

    /// The variable `r` tests; `usize::MAX` for a terminal (it comes after every variable).
    pub(crate) fn var(&self, r: Ref) -> usize {
        r.node()
            .and_then(|i| self.vars.get(i))
            .map_or(usize::MAX, |&v| v as usize)
    }

    /// The children of `r` (none for a terminal).
    pub(crate) fn children(&self, r: Ref) -> &[Ref] {
        let Some(i) = r.node() else { return &[] };
        match (self.starts.get(i), self.vars.get(i)) {
            (Some(&s), Some(&v)) => self
                .edges
                .get(s..s.saturating_add(self.domain(v as usize)))
                .unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The cofactor of `r` for class `class` of variable `var`: its child when `r`
    /// tests `var`, else `r` itself (`r` does not depend on `var`).
    pub(crate) fn cofactor(&self, r: Ref, var: usize, class: usize) -> Ref {
        if self.var(r) == var {
            self.children(r).get(class).copied().unwrap_or(r)
        } else {
            r
        }
    }

    fn hash(var: usize, children: &[Ref]) -> u64 {
        children
            .iter()
            .fold(mix(0, var as u64), |h, c| mix(h, u64::from(c.raw())))
    }

    fn same(&self, node: usize, var: usize, children: &[Ref]) -> bool {
        self.vars.get(node).is_some_and(|&v| v as usize == var)
            && Ref::of_node(node).is_some_and(|r| self.children(r) == children)
    }

    /// The slot where (`var`, `children`) is or would go.
    fn probe(&self, var: usize, children: &[Ref]) -> usize {
        let mask = self.slots.len().saturating_sub(1);
        let mut at = (Self::hash(var, children) as usize) & mask;
        loop {
            match self.slots.get(at).copied() {
                Some(0) | None => return at,
                Some(s) if self.same(s as usize - 1, var, children) => return at,
                Some(_) => at = (at + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(64);
        self.slots = vec![0; capacity];
        for node in 0..self.vars.len() {
            let Some(r) = Ref::of_node(node) else {
                continue;
            };
            let var = self.var(r);
            let at = self.probe(var, self.children(r));
            if let (Some(slot), Ok(id)) = (self.slots.get_mut(at), u32::try_from(node + 1)) {
                *slot = id;
            }
        }
    }

    /// The node testing `var` with these children, made once: when every child is
    /// the same ref, that ref (the node would not depend on `var`); when an equal node
    /// exists, it. `None` when `children` is not one per class of `var`, a child does
    /// not come after `var` in the order, or the store is full (`u32` refs).
    pub(crate) fn intern(&mut self, var: usize, children: &[Ref]) -> Option<Ref> {
        let first = *children.first()?;
        if children.len() != self.domain(var) || var >= self.variables() {
            return None;
        }
        if children.iter().all(|&c| c == first) {
            return Some(first);
        }
        if children.iter().any(|&c| self.var(c) <= var) {
            return None;
        }
        if (self.vars.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let at = self.probe(var, children);
        match self.slots.get(at).copied() {
            Some(s) if s != 0 => Ref::of_node(s as usize - 1),
            _ => {
                let node = self.vars.len();
                let r = Ref::of_node(node)?;
                let id = u32::try_from(node + 1).ok()?;
                self.vars.push(u32::try_from(var).ok()?);
                self.starts.push(self.edges.len());
                self.edges.extend_from_slice(children);
                *self.slots.get_mut(at)? = id;
                Some(r)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ref = Ref::terminal(0);
    const B: Ref = Ref::terminal(1);
    const C: Ref = Ref::terminal(2);

    #[test]
    fn interning_reduces_and_shares() {
        let mut n = Nodes::new(vec![3, 2]);
        // All children equal: no node.
        assert_eq!(n.intern(0, &[A, A, A]), Some(A));
        assert_eq!(n.len(), 0);
        let x = n.intern(1, &[A, B]).unwrap();
        assert_eq!(n.intern(1, &[A, B]), Some(x));
        assert_eq!(n.len(), 1);
        let y = n.intern(0, &[x, C, x]).unwrap();
        assert_ne!(x, y);
        assert_eq!(n.var(y), 0);
        assert_eq!(n.children(y), &[x, C, x]);
        assert_eq!(n.cofactor(y, 0, 1), C);
        // `x` does not test variable 0: every cofactor on it is `x`.
        assert_eq!(n.cofactor(x, 0, 2), x);
        assert_eq!(n.var(A), usize::MAX);
    }

    #[test]
    fn interning_refuses_bad_nodes() {
        let mut n = Nodes::new(vec![2, 2]);
        let x = n.intern(1, &[A, B]).unwrap();
        // Wrong arity, unknown variable, child not below the node.
        assert_eq!(n.intern(0, &[A, B, C]), None);
        assert_eq!(n.intern(2, &[A, B]), None);
        assert_eq!(n.intern(1, &[x, A]), None);
        assert_eq!(n.intern(0, &[]), None);
    }

    #[test]
    fn many_nodes_survive_growth_of_the_table() {
        let mut n = Nodes::new(vec![2; 12]);
        let mut made = Vec::new();
        for v in 0..12 {
            for t in 0..200u8 {
                made.push((
                    v,
                    n.intern(v, &[Ref::terminal(t), Ref::terminal(t ^ 1)])
                        .unwrap(),
                ));
            }
        }
        assert_eq!(n.len(), 12 * 200);
        for (i, &(v, r)) in made.iter().enumerate() {
            let t = (i % 200) as u8;
            assert_eq!(
                n.intern(v, &[Ref::terminal(t), Ref::terminal(t ^ 1)]),
                Some(r)
            );
        }
        assert_eq!(n.len(), 12 * 200);
    }
}
