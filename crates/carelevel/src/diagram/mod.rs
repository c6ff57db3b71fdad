//! Reduced ordered multi-valued decision diagrams over answer classes.
//!
//! A diagram is a function of complete answers: variables are the factors, in the
//! order of [`order::Order`]; a node tests one factor and has one edge per answer class of that factor
//! ([`crate::Factor::classes`]); a terminal holds a byte. The level diagram's
//! terminals are level-table entries (the level, with [`crate::model::LevelTable::REFER`]
//! set when a `refer` flag fires); a condition's diagram has the terminals 0 (false)
//! and 1 (true).
//!
//! Every diagram is *reduced* (no node whose children are all equal, no two nodes
//! with the same variable and children: [`nodes::Nodes::intern`]) and *ordered*
//! (a node's children test later factors only), so two equal functions built in one
//! [`Manager`] are the same [`Ref`]. One module per concept:
//! - [`order`]: the variable order (which factor each level tests);
//! - [`nodes`]: the node store and its unique table (hash-consing);
//! - [`manager`]: the store with the work budget, the apply memo and scratch space;
//! - [`apply`]: the binary operations, memoised;
//! - [`condition`]: the diagram of a compiled condition;
//! - [`classes`]: an answer's class by one lookup, for evaluation;
//! - [`score`]: diagrams of functions of the score total, layer by layer over intervals;
//! - [`level`]: the level diagram of a ruleset, frozen into [`LevelDiagram`] for evaluation;
//! - [`range`]: the range of levels over the completions of partly known answers;
//! - [`map`]: a diagram's terminals rewritten (the level read as a condition);
//! - [`restrict`]: one variable fixed to one class, anywhere in the order;
//! - [`count`]: weighted counts of the answer sets where a condition holds (classes,
//!   complete answer combinations);
//! - [`witness`]: the first answer set where a condition holds, in another order.
//!
//! The symbolic `check` ([`crate::analysis`]) is built on these.

pub(crate) mod apply;
mod classes;
pub(crate) mod condition;
mod count;
mod hash;
pub(crate) mod level;
pub(crate) mod manager;
mod map;
pub(crate) mod nodes;
pub(crate) mod order;
mod range;
mod restrict;
pub(crate) mod score;
mod witness;

pub(crate) use apply::Op;
pub(crate) use level::LevelDiagram;

#[cfg(test)]
pub(crate) mod differential;

/// A diagram: a terminal (a byte) or a node of a [`nodes::Nodes`] store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Ref(u32);

impl Ref {
    /// How many refs stand for terminals: one per byte value.
    const TERMINALS: u32 = 256;
    /// The false condition.
    pub(crate) const FALSE: Ref = Ref(0);
    /// The true condition.
    pub(crate) const TRUE: Ref = Ref(1);

    /// The terminal holding `value`.
    pub(crate) const fn terminal(value: u8) -> Ref {
        Ref(value as u32)
    }

    /// The terminal's byte, or `None` for a node.
    pub(crate) fn value(self) -> Option<u8> {
        u8::try_from(self.0).ok()
    }

    /// The node's index in its store, or `None` for a terminal.
    pub(crate) fn node(self) -> Option<usize> {
        self.0
            .checked_sub(Self::TERMINALS)
            .and_then(|i| usize::try_from(i).ok())
    }

    /// The ref of the node at `index`, or `None` past `u32`.
    pub(crate) fn of_node(index: usize) -> Option<Ref> {
        u32::try_from(index)
            .ok()
            .and_then(|i| i.checked_add(Self::TERMINALS))
            .map(Ref)
    }

    /// The raw number (for hashing).
    pub(crate) fn raw(self) -> u32 {
        self.0
    }
}

/// The work budget ran out while a diagram was being built (see
/// [`crate::limits::MAX_DIAGRAM_WORK`]): the caller falls back to the rule walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_tell_terminals_from_nodes() {
        assert_eq!(Ref::terminal(7).value(), Some(7));
        assert_eq!(Ref::terminal(7).node(), None);
        let n = Ref::of_node(3).unwrap();
        assert_eq!(n.value(), None);
        assert_eq!(n.node(), Some(3));
        assert_eq!(Ref::TRUE.value(), Some(1));
        assert_eq!(Ref::FALSE.value(), Some(0));
        assert_eq!(Ref::of_node(u32::MAX as usize), None);
    }
}
