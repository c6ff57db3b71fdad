//! A diagram's terminals rewritten by a function of their byte, memoised: the level
//! diagram read as a condition ("the level is `l`", "the invariant's expectation
//! holds") for the symbolic `check`.

use std::collections::HashMap;

use super::hash::FxBuild;
use super::manager::Manager;
use super::{Ref, TooLarge};

impl Manager {
    /// The diagram of `f(r(x))` at every answer set `x`, reduced.
    pub(crate) fn map_terminals(&mut self, r: Ref, f: impl Fn(u8) -> u8) -> Result<Ref, TooLarge> {
        let mut memo: HashMap<Ref, Ref, FxBuild> = HashMap::default();
        self.map_rec(r, &f, &mut memo)
    }

    fn map_rec(
        &mut self,
        r: Ref,
        f: &impl Fn(u8) -> u8,
        memo: &mut HashMap<Ref, Ref, FxBuild>,
    ) -> Result<Ref, TooLarge> {
        if let Some(v) = r.value() {
            return Ok(Ref::terminal(f(v)));
        }
        if let Some(&done) = memo.get(&r) {
            return Ok(done);
        }
        self.spend(1)?;
        let var = self.nodes.var(r);
        let base = self.scratch.len();
        for class in 0..self.nodes.domain(var) {
            let child = self.nodes.cofactor(r, var, class);
            match self.map_rec(child, f, memo) {
                Ok(x) => self.scratch.push(x),
                Err(e) => {
                    self.scratch.truncate(base);
                    return Err(e);
                }
            }
        }
        let made = self.intern_scratch(var, base)?;
        memo.insert(r, made);
        Ok(made)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_rewrites_every_terminal_and_reduces() {
        let mut m = Manager::new(vec![3, 2], 10_000);
        let x = m.leaf(0, |c| c as u8).unwrap();
        let y = m.leaf(1, |c| c as u8).unwrap();
        let both = m
            .apply(crate::diagram::Op::Max { absorbing: 9 }, x, y)
            .unwrap();
        let high = m.map_terminals(both, |e| u8::from(e >= 2)).unwrap();
        for a in 0..3 {
            for b in 0..2 {
                let got = m.evaluate(high, |v| if v == 0 { a } else { b }).unwrap();
                assert_eq!(got, u8::from(a.max(b) >= 2), "{a} {b}");
            }
        }
        // "at least 2" depends on the first variable only: one node.
        assert_eq!(m.size(high), 1);
        assert_eq!(m.map_terminals(both, |_| 1).unwrap(), Ref::TRUE);
    }
}
