//! A diagram with one variable fixed to one class (its cofactor), wherever that
//! variable lies in the order: nodes above it are rebuilt over the restricted
//! children, nodes on it are replaced by the chosen child, nodes below it are kept.

use std::collections::HashMap;

use super::hash::FxBuild;
use super::manager::Manager;
use super::{Ref, TooLarge};

impl Manager {
    /// The diagram of `r` with variable `var` fixed to class `class`: it no longer
    /// tests `var`.
    pub(crate) fn restrict(&mut self, r: Ref, var: usize, class: usize) -> Result<Ref, TooLarge> {
        let mut memo: HashMap<Ref, Ref, FxBuild> = HashMap::default();
        self.restrict_rec(r, var, class, &mut memo)
    }

    fn restrict_rec(
        &mut self,
        r: Ref,
        var: usize,
        class: usize,
        memo: &mut HashMap<Ref, Ref, FxBuild>,
    ) -> Result<Ref, TooLarge> {
        let here = self.nodes.var(r);
        if here > var {
            return Ok(r);
        }
        if here == var {
            return Ok(self.nodes.cofactor(r, var, class));
        }
        if let Some(&done) = memo.get(&r) {
            return Ok(done);
        }
        self.spend(1)?;
        let base = self.scratch.len();
        for c in 0..self.nodes.domain(here) {
            let child = self.nodes.cofactor(r, here, c);
            match self.restrict_rec(child, var, class, memo) {
                Ok(x) => self.scratch.push(x),
                Err(e) => {
                    self.scratch.truncate(base);
                    return Err(e);
                }
            }
        }
        let made = self.intern_scratch(here, base)?;
        memo.insert(r, made);
        Ok(made)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::Op;

    #[test]
    fn restriction_fixes_one_variable_anywhere_in_the_order() {
        let mut m = Manager::new(vec![2, 3, 2], 10_000);
        let x = m.leaf(0, |c| c as u8).unwrap();
        let y = m.leaf(1, |c| c as u8).unwrap();
        let z = m.leaf(2, |c| 2 * c as u8).unwrap();
        let xy = m.apply(Op::Max { absorbing: 9 }, x, y).unwrap();
        let all = m.apply(Op::Max { absorbing: 9 }, xy, z).unwrap();
        let f = |a: usize, b: usize, c: usize| a.max(b).max(2 * c) as u8;
        for fixed in 0..3 {
            let classes = [2, 3, 2][fixed];
            for class in 0..classes {
                let r = m.restrict(all, fixed, class).unwrap();
                for a in 0..2 {
                    for b in 0..3 {
                        for c in 0..2 {
                            let mut at = [a, b, c];
                            let got = m.evaluate(r, |v| at[v]).unwrap();
                            at[fixed] = class;
                            assert_eq!(got, f(at[0], at[1], at[2]));
                        }
                    }
                }
                // The result does not test the fixed variable.
                let mut stack = vec![r];
                while let Some(n) = stack.pop() {
                    assert_ne!(m.nodes.var(n), fixed);
                    stack.extend_from_slice(m.nodes.children(n));
                }
            }
        }
    }
}
