//! Binary operations on diagrams (apply, memoised): Shannon expansion on the first
//! variable either operand tests, the operation on terminals, and shortcuts where
//! one operand decides the result.

use super::manager::Manager;
use super::{Ref, TooLarge};
use crate::model::LevelTable;

/// An operation on two terminals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Conjunction of conditions (terminals 0 and 1).
    And,
    /// Disjunction of conditions.
    Or,
    /// Exclusive or of conditions (`Xor` with [`Ref::TRUE`] negates).
    Xor,
    /// Level-table entries combined: the higher level, the refer bit of either.
    /// `absorbing` is the entry nothing can raise (the top level, with the refer
    /// bit when the ruleset has refer flags).
    Max {
        /// The entry that `Max` with anything leaves unchanged.
        absorbing: u8,
    },
    /// The first operand (level-table entries) raised by this entry ([`max_entry`])
    /// where the second (a condition) holds, left as it is elsewhere.
    Raise(u8),
    /// Whether the first operand's level (level-table entries, the refer bit
    /// ignored) is below the second's: a condition (terminals 0 and 1).
    Below,
}

/// Two level-table entries combined: the higher level, the refer bit of either.
pub(crate) fn max_entry(a: u8, b: u8) -> u8 {
    let level = (a & !LevelTable::REFER).max(b & !LevelTable::REFER);
    level | ((a | b) & LevelTable::REFER)
}

impl Op {
    /// The operation on two terminals.
    fn terminal(self, a: u8, b: u8) -> u8 {
        match self {
            Op::And => a & b,
            Op::Or => a | b,
            Op::Xor => a ^ b,
            Op::Max { .. } => max_entry(a, b),
            Op::Raise(entry) => {
                if b != 0 {
                    max_entry(a, entry)
                } else {
                    a
                }
            }
            Op::Below => u8::from((a & !LevelTable::REFER) < (b & !LevelTable::REFER)),
        }
    }

    /// The result when one operand alone decides it.
    fn shortcut(self, a: Ref, b: Ref) -> Option<Ref> {
        match self {
            Op::And if a == Ref::FALSE || b == Ref::FALSE => Some(Ref::FALSE),
            Op::And if a == Ref::TRUE || a == b => Some(b),
            Op::And if b == Ref::TRUE => Some(a),
            Op::Or if a == Ref::TRUE || b == Ref::TRUE => Some(Ref::TRUE),
            Op::Or if a == Ref::FALSE || a == b => Some(b),
            Op::Or if b == Ref::FALSE => Some(a),
            Op::Xor if a == b => Some(Ref::FALSE),
            Op::Xor if a == Ref::FALSE => Some(b),
            Op::Xor if b == Ref::FALSE => Some(a),
            Op::Max { absorbing } if a == Ref::terminal(absorbing) || a == b => Some(a),
            Op::Max { absorbing } if b == Ref::terminal(absorbing) => Some(b),
            Op::Max { .. } if a == Ref::terminal(0) => Some(b),
            Op::Max { .. } if b == Ref::terminal(0) => Some(a),
            Op::Raise(_) if b == Ref::FALSE => Some(a),
            // Where the entry is already at least as high, the condition cannot matter:
            // most of the work saved when the most intensive rules come first.
            Op::Raise(entry) if a.value().is_some_and(|x| max_entry(x, entry) == x) => Some(a),
            Op::Below if a == b => Some(Ref::FALSE),
            _ => None,
        }
    }

    /// Whether `op(a, b) == op(b, a)`, so the memo can key on the ordered pair.
    fn commutes(self) -> bool {
        !matches!(self, Op::Raise(_) | Op::Below)
    }
}

impl Manager {
    /// `op` applied to `a` and `b` at every answer set, as a reduced diagram.
    pub(crate) fn apply(&mut self, op: Op, a: Ref, b: Ref) -> Result<Ref, TooLarge> {
        self.memo.clear();
        self.apply_rec(op, a, b)
    }

    /// The negation of condition `a`.
    pub(crate) fn not(&mut self, a: Ref) -> Result<Ref, TooLarge> {
        self.apply(Op::Xor, a, Ref::TRUE)
    }

    fn apply_rec(&mut self, op: Op, a: Ref, b: Ref) -> Result<Ref, TooLarge> {
        if let Some(r) = op.shortcut(a, b) {
            return Ok(r);
        }
        if let (Some(x), Some(y)) = (a.value(), b.value()) {
            return Ok(Ref::terminal(op.terminal(x, y)));
        }
        let key = if op.commutes() && b < a {
            (b, a)
        } else {
            (a, b)
        };
        if let Some(&r) = self.memo.get(&key) {
            return Ok(r);
        }
        self.spend(1)?;
        let var = self.nodes.var(a).min(self.nodes.var(b));
        let base = self.scratch.len();
        for class in 0..self.nodes.domain(var) {
            let x = self.nodes.cofactor(a, var, class);
            let y = self.nodes.cofactor(b, var, class);
            match self.apply_rec(op, x, y) {
                Ok(r) => self.scratch.push(r),
                Err(e) => {
                    self.scratch.truncate(base);
                    return Err(e);
                }
            }
        }
        let r = self.intern_scratch(var, base)?;
        self.memo.insert(key, r);
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every class combination of two variables of 3 and 2 classes.
    fn everywhere(m: &Manager, r: Ref) -> Vec<u8> {
        let mut out = Vec::new();
        for a in 0..3 {
            for b in 0..2 {
                out.push(m.evaluate(r, |v| if v == 0 { a } else { b }).unwrap());
            }
        }
        out
    }

    fn two_conditions(m: &mut Manager) -> (Ref, Ref) {
        let x = m.leaf(0, |c| u8::from(c >= 1)).unwrap();
        let y = m.leaf(1, |c| u8::from(c == 1)).unwrap();
        (x, y)
    }

    #[test]
    fn and_or_xor_not_agree_with_the_terminals_everywhere() {
        let mut m = Manager::new(vec![3, 2], 10_000);
        let (x, y) = two_conditions(&mut m);
        let (ex, ey) = (everywhere(&m, x), everywhere(&m, y));
        for (op, f) in [
            (Op::And, (|a, b| a & b) as fn(u8, u8) -> u8),
            (Op::Or, |a, b| a | b),
            (Op::Xor, |a, b| a ^ b),
        ] {
            let r = m.apply(op, x, y).unwrap();
            let want: Vec<u8> = ex.iter().zip(&ey).map(|(&a, &b)| f(a, b)).collect();
            assert_eq!(everywhere(&m, r), want, "{op:?}");
        }
        let nx = m.not(x).unwrap();
        assert_eq!(
            everywhere(&m, nx),
            ex.iter().map(|a| 1 - a).collect::<Vec<_>>()
        );
        // Canonical: x and not x is the false terminal, x or not x the true one.
        assert_eq!(m.apply(Op::And, x, nx).unwrap(), Ref::FALSE);
        assert_eq!(m.apply(Op::Or, x, nx).unwrap(), Ref::TRUE);
        assert_eq!(m.not(nx).unwrap(), x);
    }

    #[test]
    fn raise_and_max_build_level_entries() {
        let mut m = Manager::new(vec![3, 2], 10_000);
        let (x, y) = two_conditions(&mut m);
        let rx = m.apply(Op::Raise(2), Ref::terminal(0), x).unwrap();
        let ry = m
            .apply(Op::Raise(LevelTable::REFER | 1), Ref::terminal(0), y)
            .unwrap();
        let both = m
            .apply(
                Op::Max {
                    absorbing: LevelTable::REFER | 2,
                },
                rx,
                ry,
            )
            .unwrap();
        let (ex, ey) = (everywhere(&m, x), everywhere(&m, y));
        let want: Vec<u8> = ex
            .iter()
            .zip(&ey)
            .map(|(&a, &b)| max_entry(if a == 1 { 2 } else { 0 }, if b == 1 { 0x81 } else { 0 }))
            .collect();
        assert_eq!(everywhere(&m, both), want);
        assert_eq!(max_entry(0x81, 2), 0x82);
        // Raising where the entry is already higher changes nothing.
        let high = m.apply(Op::Raise(3), Ref::terminal(0), x).unwrap();
        let raised = m.apply(Op::Raise(1), high, y).unwrap();
        let want: Vec<u8> = ex
            .iter()
            .zip(&ey)
            .map(|(&a, &b)| if a == 1 { 3 } else { b })
            .collect();
        assert_eq!(everywhere(&m, raised), want);
        assert_eq!(m.apply(Op::Raise(1), high, Ref::FALSE).unwrap(), high);
        assert_eq!(m.apply(Op::Raise(3), high, x).unwrap(), high);
        assert_eq!(max_entry(3, 0x80), 0x83);
    }

    #[test]
    fn below_compares_levels_without_the_refer_bit() {
        let mut m = Manager::new(vec![3, 2], 10_000);
        let x = m.leaf(0, |c| c as u8).unwrap();
        let y = m
            .leaf(1, |c| if c == 1 { LevelTable::REFER | 1 } else { 2 })
            .unwrap();
        let r = m.apply(Op::Below, x, y).unwrap();
        for a in 0..3usize {
            for b in 0..2usize {
                let level_y = if b == 1 { 1 } else { 2 };
                let got = m.evaluate(r, |v| if v == 0 { a } else { b }).unwrap();
                assert_eq!(got, u8::from(a < level_y), "{a} {b}");
            }
        }
        assert_eq!(m.apply(Op::Below, x, x).unwrap(), Ref::FALSE);
        // Not symmetric: the memo must not share (a, b) with (b, a).
        let s = m.apply(Op::Below, y, x).unwrap();
        assert_ne!(r, s);
    }

    #[test]
    fn a_spent_budget_fails_the_operation_and_leaves_no_scratch() {
        let mut m = Manager::new(vec![3, 2], 10_000);
        let (x, y) = two_conditions(&mut m);
        let left = m.left();
        m.spend(usize::try_from(left).unwrap()).unwrap();
        assert_eq!(m.apply(Op::And, x, y), Err(TooLarge));
        assert!(m.scratch.is_empty());
    }
}
