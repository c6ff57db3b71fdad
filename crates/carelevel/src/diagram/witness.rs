//! The first answer set where a condition holds, first in an order of the
//! variables that need not be the diagram's: the analysis enumerates factor 0
//! slowest, the diagram tests unscored factors first. Greedily, variable after
//! variable in that order, the smallest class that leaves the condition satisfiable
//! with the classes chosen so far; so the result is the lexicographically smallest
//! satisfying assignment in that order (the first the enumeration would meet).

use std::collections::HashMap;

use super::hash::FxBuild;
use super::manager::Manager;
use super::{Ref, TooLarge};

impl Manager {
    /// The lexicographically first assignment, in the order `visit` (positions of
    /// the variable order, each once, covering every variable), where condition `r`
    /// holds: the class of each variable of `visit`, in `visit`'s order. `None` when
    /// `r` is false everywhere. Each satisfiability test spends one unit per node.
    pub(crate) fn first_in_order(
        &mut self,
        r: Ref,
        visit: &[usize],
    ) -> Result<Option<Vec<usize>>, TooLarge> {
        if r == Ref::FALSE {
            return Ok(None);
        }
        let mut fixed: Vec<Option<usize>> = vec![None; self.nodes.variables()];
        let mut out = Vec::with_capacity(visit.len());
        for &var in visit {
            let domain = self.nodes.domain(var);
            let mut chosen = None;
            for class in 0..domain {
                if let Some(slot) = fixed.get_mut(var) {
                    *slot = Some(class);
                }
                // The last class needs no test: the condition is satisfiable with
                // the earlier choices, and no other class of `var` was.
                if class + 1 == domain || self.satisfiable(r, &fixed)? {
                    chosen = Some(class);
                    break;
                }
            }
            let Some(class) = chosen else {
                return Ok(None);
            };
            out.push(class);
        }
        Ok(Some(out))
    }

    /// Whether `r` holds somewhere with the classes of `fixed` (by position).
    fn satisfiable(&mut self, r: Ref, fixed: &[Option<usize>]) -> Result<bool, TooLarge> {
        let mut memo: HashMap<Ref, bool, FxBuild> = HashMap::default();
        let mut stack = vec![(r, false)];
        // Iterative depth-first search: a node is decided once all its allowed
        // children are (post-order), or at the first satisfiable one.
        while let Some((x, expanded)) = stack.pop() {
            if x.value().is_some() || memo.contains_key(&x) {
                continue;
            }
            let var = self.nodes.var(x);
            let allowed: Vec<Ref> = match fixed.get(var).copied().flatten() {
                Some(c) => self.nodes.children(x).get(c).copied().into_iter().collect(),
                None => self.nodes.children(x).to_vec(),
            };
            let known = |c: &Ref| c.value().map(|v| v != 0).or_else(|| memo.get(c).copied());
            if expanded {
                let sat = allowed.iter().any(|c| known(c) == Some(true));
                memo.insert(x, sat);
                continue;
            }
            self.spend(1)?;
            if allowed.iter().any(|c| known(c) == Some(true)) {
                memo.insert(x, true);
                continue;
            }
            stack.push((x, true));
            stack.extend(
                allowed
                    .iter()
                    .filter(|c| known(c).is_none())
                    .map(|&c| (c, false)),
            );
        }
        Ok(r.value()
            .map(|v| v != 0)
            .or_else(|| memo.get(&r).copied())
            .unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::Op;

    /// Brute force: the first assignment, in `visit` order, where `r` holds.
    fn brute(m: &Manager, r: Ref, domains: &[usize], visit: &[usize]) -> Option<Vec<usize>> {
        let total: usize = domains.iter().product();
        (0..total).find_map(|mut index| {
            let mut digits = vec![0; visit.len()];
            for (i, &var) in visit.iter().enumerate().rev() {
                digits[i] = index % domains[var];
                index /= domains[var];
            }
            let mut by_var = vec![0; domains.len()];
            for (i, &var) in visit.iter().enumerate() {
                by_var[var] = digits[i];
            }
            (m.evaluate(r, |v| by_var[v]) == Some(1)).then_some(digits)
        })
    }

    #[test]
    fn the_first_witness_is_the_brute_force_first_in_any_visiting_order() {
        let domains = vec![3, 2, 4];
        let mut m = Manager::new(domains.clone(), 100_000);
        let x = m.leaf(0, |c| u8::from(c == 1 || c == 2)).unwrap();
        let y = m.leaf(1, |c| u8::from(c == 1)).unwrap();
        let z = m.leaf(2, |c| u8::from(c >= 2)).unwrap();
        let nz = m.not(z).unwrap();
        let xy = m.apply(Op::And, x, y).unwrap();
        let a = m.apply(Op::Or, xy, nz).unwrap();
        let b = m.apply(Op::Xor, x, z).unwrap();
        let c = m.apply(Op::And, xy, z).unwrap();
        for r in [x, y, z, nz, xy, a, b, c, Ref::TRUE, Ref::FALSE] {
            for visit in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [2, 0, 1]] {
                assert_eq!(
                    m.first_in_order(r, &visit).unwrap(),
                    brute(&m, r, &domains, &visit),
                    "{visit:?}"
                );
            }
        }
    }

    #[test]
    fn a_spent_budget_refuses_the_search() {
        let mut m = Manager::new(vec![3, 2], 100);
        let x = m.leaf(0, |c| u8::from(c == 2)).unwrap();
        let y = m.leaf(1, |c| u8::from(c == 1)).unwrap();
        let xy = m.apply(Op::And, x, y).unwrap();
        let left = usize::try_from(m.left()).unwrap();
        m.spend(left).unwrap();
        assert_eq!(m.first_in_order(xy, &[1, 0]), Err(TooLarge));
    }
}
