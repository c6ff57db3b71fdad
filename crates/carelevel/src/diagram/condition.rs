//! The diagram of a compiled condition ([`crate::model::Node`]): a leaf on its
//! factor for a comparison (each class decided by its representative answer, which
//! every answer of the class shares), `all`/`any`/`not` by [`Op::And`], [`Op::Or`]
//! and negation, a score condition by [`super::score`].

use std::collections::HashMap;

use super::hash::FxBuild;
use super::manager::Manager;
use super::order::Order;
use super::score::{self, Layer};
use super::{Op, Ref, TooLarge};
use crate::eval;
use crate::model::{ConditionArena, Factor, Node, NodeId};

/// Builds the diagrams of the conditions of one arena, each node once.
pub(crate) struct Conditions<'a> {
    arena: &'a ConditionArena,
    factors: &'a [Factor],
    order: &'a Order,
    /// The layers of the score total (see [`score`]), made on first use.
    layers: Option<Vec<Layer>>,
    /// Diagrams already built, by condition node (shared sub-conditions, aliases).
    built: HashMap<NodeId, Ref, FxBuild>,
}

impl<'a> Conditions<'a> {
    /// A builder for the conditions of `arena` over `factors` in the variable order `order`.
    pub(crate) fn new(arena: &'a ConditionArena, factors: &'a [Factor], order: &'a Order) -> Self {
        Conditions {
            arena,
            factors,
            order,
            layers: None,
            built: HashMap::default(),
        }
    }

    /// The diagram of condition `node` (terminals 0 and 1).
    pub(crate) fn build(&mut self, m: &mut Manager, node: NodeId) -> Result<Ref, TooLarge> {
        if let Some(&r) = self.built.get(&node) {
            return Ok(r);
        }
        let r = match self.arena.nodes.get(node as usize).copied() {
            Some(Node::Const(b)) => Ref::terminal(u8::from(b)),
            Some(Node::All { start, len }) => self.fold(m, Op::And, start, len)?,
            Some(Node::Any { start, len }) => self.fold(m, Op::Or, start, len)?,
            Some(Node::Not(inner)) => {
                let r = self.build(m, inner)?;
                m.not(r)?
            }
            Some(Node::Mask { factor, .. })
            | Some(Node::Range { factor, .. })
            | Some(Node::Ranges { factor, .. }) => self.comparison(m, node, factor as usize)?,
            Some(Node::Score { start, len }) => self.score(m, start, len)?,
            None => Ref::FALSE,
        };
        self.built.insert(node, r);
        Ok(r)
    }

    fn fold(&mut self, m: &mut Manager, op: Op, start: u32, len: u32) -> Result<Ref, TooLarge> {
        let (s, l) = (start as usize, len as usize);
        let children = self
            .arena
            .children
            .get(s..s.saturating_add(l))
            .unwrap_or(&[]);
        let mut acc = Ref::terminal(u8::from(op == Op::And));
        for &c in children {
            let r = self.build(m, c)?;
            acc = m.apply(op, acc, r)?;
        }
        Ok(acc)
    }

    /// A comparison on one factor, decided class by class on each class's representative.
    fn comparison(
        &mut self,
        m: &mut Manager,
        node: NodeId,
        factor: usize,
    ) -> Result<Ref, TooLarge> {
        let classes = self
            .factors
            .get(factor)
            .map_or(&[][..], |f| f.classes.as_slice());
        let (arena, factors) = (self.arena, self.factors);
        let mut values: Vec<i64> = factors
            .iter()
            .map(|f| f.classes.first().copied().unwrap_or(0))
            .collect();
        let base = m.scratch.len();
        for &code in classes {
            if let Some(v) = values.get_mut(factor) {
                *v = code;
            }
            m.scratch
                .push(Ref::terminal(u8::from(eval::holds(arena, node, &values))));
        }
        m.intern_scratch(self.order.position_of(factor), base)
    }

    /// A score condition: the total is in one of `ranges[start..start + len]`.
    fn score(&mut self, m: &mut Manager, start: u32, len: u32) -> Result<Ref, TooLarge> {
        let (s, l) = (start as usize, len as usize);
        let ranges = self.arena.ranges.get(s..s.saturating_add(l)).unwrap_or(&[]);
        let cuts = score::cuts(ranges.iter().copied());
        let score = &self.arena.score;
        let (factors, order) = (self.factors, self.order);
        let layers = self.layers.get_or_insert_with(|| {
            score::layers(
                factors,
                order,
                |f| score.scores(f),
                |f, code| score.points_of(f, code),
            )
        });
        score::build(m, layers, &cuts, |total| {
            u8::from(ranges.iter().any(|&(lo, hi)| lo <= total && total <= hi))
        })
    }
}
