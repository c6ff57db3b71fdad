//! The budget on the size of a YAML document after its aliases are expanded.
//!
//! A YAML alias (`*name`) stands for a full copy of the node its anchor (`&name`)
//! names, and `serde_yaml` builds every copy. A small file can therefore stand for an
//! enormous document: one anchor on a condition of 5,000 leaves reused by 10,000
//! rules is a 614 KB file but 150 million nodes. [`Expansion`] counts the nodes of
//! the *expanded* document while the event stream is read once (before anything is
//! built), in constant memory per anchor, and refuses at the alias that crosses
//! [`limits::MAX_YAML_NODES`].
//!
//! This module knows nothing of a YAML library: `syntax.rs` translates its parser's
//! events into [`NodeEvent`]s.

use std::collections::HashMap;

use crate::limits;

/// One event of a YAML node stream, as far as counting needs it. Anchor ids are the
/// parser's: each anchor definition gets its own id, and 0 means "no anchor".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeEvent {
    /// A scalar, with its anchor id.
    Scalar { anchor: usize },
    /// The start of a list or mapping, with its anchor id.
    Start { anchor: usize },
    /// The end of the innermost open list or mapping.
    End,
    /// An alias of the anchor with this id.
    Alias { anchor: usize },
}

/// The budget was crossed by the node or alias just counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverBudget {
    /// How many nodes this alias stands for (1 for a node that is not an alias).
    pub copied: u64,
    /// Nodes of the expanded document counted before this event.
    pub before: u64,
    /// Of the nodes counted, how many are copies that aliases stand for.
    pub aliased: u64,
}

/// Counts the nodes of the expanded document, event by event.
#[derive(Debug, Default)]
pub(crate) struct Expansion {
    /// Nodes of the expanded document so far (a node is a scalar, a list or a mapping;
    /// an alias counts as every node of its anchor's copy).
    total: u64,
    /// Of `total`, the nodes that are copies made by aliases.
    aliased: u64,
    /// The expanded size of every anchored node that has ended.
    sizes: HashMap<usize, u64>,
    /// The open lists and mappings: anchor id and `total` before their start.
    open: Vec<(usize, u64)>,
}

impl Expansion {
    /// A counter at zero.
    pub(crate) fn new() -> Expansion {
        Expansion::default()
    }

    /// Nodes of the expanded document counted so far.
    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Count one event; refuse when the expanded document would exceed the budget.
    pub(crate) fn count(&mut self, event: NodeEvent) -> Result<(), OverBudget> {
        let copied = match event {
            NodeEvent::Scalar { anchor } => {
                if anchor != 0 {
                    self.sizes.insert(anchor, 1);
                }
                1
            }
            NodeEvent::Start { anchor } => {
                self.open.push((anchor, self.total));
                1
            }
            NodeEvent::End => {
                if let Some((anchor, start)) = self.open.pop() {
                    if anchor != 0 {
                        self.sizes.insert(anchor, self.total.saturating_sub(start));
                    }
                }
                0
            }
            // An alias of an anchor that is still open (a recursive alias, which the
            // typed parser refuses) or unknown (a syntax error reported later) counts
            // as one node.
            NodeEvent::Alias { anchor } => {
                let size = self.sizes.get(&anchor).copied().unwrap_or(1);
                self.aliased = self.aliased.saturating_add(size);
                size
            }
        };
        let before = self.total;
        self.total = self.total.saturating_add(copied);
        if self.total > limits::MAX_YAML_NODES {
            return Err(OverBudget {
                copied,
                before,
                aliased: self.aliased,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn aliases_count_as_copies_of_their_anchor_including_nested_aliases() {
        let mut e = Expansion::new();
        // [&a [x, y], &b [*a, *a], *b]
        for ev in [
            NodeEvent::Start { anchor: 0 },
            NodeEvent::Start { anchor: 1 },
            NodeEvent::Scalar { anchor: 0 },
            NodeEvent::Scalar { anchor: 0 },
            NodeEvent::End,
            NodeEvent::Start { anchor: 2 },
            NodeEvent::Alias { anchor: 1 },
            NodeEvent::Alias { anchor: 1 },
            NodeEvent::End,
            NodeEvent::Alias { anchor: 2 },
            NodeEvent::End,
        ] {
            e.count(ev).unwrap();
        }
        // outer 1 + a 3 + b (1 + 3 + 3) + copy of b 7 = 18.
        assert_eq!(e.total(), 18);
    }

    #[test]
    fn the_alias_that_crosses_the_budget_is_refused_and_nothing_before_it() {
        let mut e = Expansion::new();
        e.count(NodeEvent::Start { anchor: 0 }).unwrap();
        e.count(NodeEvent::Start { anchor: 1 }).unwrap();
        for _ in 0..999 {
            e.count(NodeEvent::Scalar { anchor: 0 }).unwrap();
        }
        e.count(NodeEvent::End).unwrap();
        let allowed = (limits::MAX_YAML_NODES - 1001) / 1000;
        for _ in 0..allowed {
            e.count(NodeEvent::Alias { anchor: 1 }).unwrap();
        }
        let over = e.count(NodeEvent::Alias { anchor: 1 }).unwrap_err();
        assert_eq!(over.copied, 1000);
        assert_eq!(over.before, 1001 + allowed * 1000);
        assert!(over.before + over.copied > limits::MAX_YAML_NODES);
    }

    /// A ruleset over ten booleans whose first rule anchors (`&b`) an `any` of `leaves`
    /// comparisons and whose other `rules - 1` rules reuse it with `when: *b`.
    fn fan_out(leaves: usize, rules: usize) -> String {
        let mut out = String::from(
            "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  \
             - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\n\
             factors:\n",
        );
        for i in 0..10 {
            out.push_str(&format!("  - {{id: f{i}, question: q, kind: boolean}}\n"));
        }
        let leaves: Vec<String> = (0..leaves)
            .map(|j| format!("{{f{}: true}}", j % 10))
            .collect();
        out.push_str(&format!(
            "rules:\n  - id: r0\n    level: high\n    because: b\n    when: &b {{any: [{}]}}\n",
            leaves.join(", ")
        ));
        for r in 1..rules {
            out.push_str(&format!(
                "  - id: r{r}\n    level: high\n    because: b\n    when: *b\n"
            ));
        }
        out
    }

    #[test]
    fn fan_out_of_one_large_anchor_is_refused_at_the_alias_that_crosses_the_budget() {
        // The reported case: 5,000 leaves reused by 10,000 rules, a 614 KB file
        // (within every size limit) that expands to 150 million nodes.
        let text = fan_out(5_000, 10_000);
        assert!(
            text.len() > 600_000 && text.len() < limits::MAX_SOURCE_BYTES,
            "{}",
            text.len()
        );
        let err = crate::Ruleset::from_yaml(&text).unwrap_err();
        assert_eq!(err.diagnostics.len(), 1);
        let d = &err.diagnostics[0];
        // The anchored condition is its `any` mapping, key and list (3 nodes) and 5,000
        // leaves of 3 nodes (mapping, key, value): every alias adds that many.
        let copy = 15_003u64;
        assert!(
            d.message
                .contains(&format!("the alias `*b` stands for a copy of {copy} nodes")),
            "{}",
            d.message
        );
        assert!(
            d.message
                .contains(&format!("more than {} nodes", limits::MAX_YAML_NODES)),
            "{}",
            d.message
        );
        // Which alias crosses follows from counting alone. Before the first rule: the
        // top mapping, 7 keys, 4 scalar values, the levels list and 2 levels of 7
        // nodes, the factors list and 10 factors of 7, the rules list: 99 nodes. Each
        // rule adds 8 nodes (mapping, 3 keys, 3 values, the `when` key) and its condition.
        let loc = d.location.unwrap();
        assert_eq!(text.lines().nth(loc.line - 1), Some("    when: *b"));
        assert_eq!(loc.column, 11);
        let rule = ((loc.line - 23) / 4) as u64; // rule r's `when` is on line 23 + 4r
        let before = 99 + rule * (8 + copy) + 8;
        assert!(
            d.message
                .contains(&format!("(the limit; {before} nodes before it)")),
            "{}",
            d.message
        );
        assert!(before + copy > limits::MAX_YAML_NODES);
        assert!(before - (8 + copy) + copy <= limits::MAX_YAML_NODES);
    }

    #[test]
    fn conditions_beyond_the_arena_budget_are_refused_once_at_the_rule_that_crosses_it() {
        // 5,001 compiled nodes per rule: 53 rules pass the 262,144-node arena while the
        // expanded YAML (about 800,000 nodes) stays within its budget.
        let text = fan_out(5_000, 60);
        let err = crate::Ruleset::from_yaml(&text).unwrap_err();
        assert_eq!(err.diagnostics.len(), 1, "{:?}", err.diagnostics);
        let d = &err.diagnostics[0];
        let crossing = limits::MAX_CONDITION_NODES / 5_001;
        assert!(
            d.path
                .as_deref()
                .unwrap_or("")
                .starts_with(&format!("rules[{crossing}].when")),
            "{:?}",
            d.path
        );
        assert!(
            d.message
                .contains(&format!("more than {} nodes", limits::MAX_CONDITION_NODES)),
            "{}",
            d.message
        );
        let loc = d.location.unwrap();
        assert_eq!(text.lines().nth(loc.line - 1), Some("    when: *b"));
    }

    #[test]
    fn moderate_use_of_anchors_still_compiles() {
        // A shared condition of 40 comparisons reused by 200 rules: 24,000 expanded
        // nodes, far below both budgets.
        let text = fan_out(40, 200);
        let rs = crate::Ruleset::from_yaml(&text).unwrap();
        assert_eq!(rs.rules().len(), 200);
    }

    #[test]
    fn an_alias_of_an_open_or_unknown_anchor_counts_as_one_node() {
        let mut e = Expansion::new();
        e.count(NodeEvent::Start { anchor: 1 }).unwrap();
        e.count(NodeEvent::Alias { anchor: 1 }).unwrap();
        e.count(NodeEvent::Alias { anchor: 9 }).unwrap();
        e.count(NodeEvent::End).unwrap();
        assert_eq!(e.total(), 3);
    }
}
