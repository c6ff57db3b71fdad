//! Conditions in plain words, for people who review a ruleset without reading YAML:
//! "severity is moderate or worse, and housing is unstable or homeless".
//!
//! Scales are declared least risk first, so a set of values from one value to the top
//! of the scale reads "X or worse", and one from the bottom "X or better", when at
//! least two values are in the set and two out of it; otherwise the values are named
//! ("unstable or homeless" on a three-value scale). Integer
//! tests read "at least", "at most" or "N to M", naming a band when they cover exactly
//! one. Groups inside groups are put in parentheses. The words are built from ruleset
//! text (ids, values) and are not escaped: each renderer escapes them for its format.

use crate::model::{ConditionArena, Factor, FactorKind, Node, NodeId, Ruleset};

impl Ruleset {
    /// The condition of rule `index` (declaration order) in words, if there is such a rule.
    pub fn rule_condition_words(&self, index: usize) -> Option<String> {
        self.rules.get(index).map(|r| self.words(r.when))
    }

    /// The condition of flag `index` in words.
    pub fn flag_condition_words(&self, index: usize) -> Option<String> {
        self.flags.get(index).map(|f| self.words(f.when))
    }

    /// The `when` of invariant `index` in words (`None` when there is no such
    /// invariant or it speaks about every answer set).
    pub fn invariant_condition_words(&self, index: usize) -> Option<String> {
        self.invariants
            .get(index)
            .and_then(|i| i.when)
            .map(|n| self.words(n))
    }

    /// The tests of the total score in condition `node` that hold with the answers
    /// `values` (codes by factor) of which `known` are known, in words without the
    /// subject ("at least 20"; "not at most 9" for a test under an odd number of
    /// `not`s that fails). A test counts only when it holds for every value the
    /// unknown answers could take. Used to explain a rule that fired on the total.
    pub(crate) fn score_tests_holding(
        &self,
        node: NodeId,
        values: &[i64],
        known: &[bool],
    ) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_score_tests(node, false, values, known, &mut out);
        out
    }

    fn collect_score_tests(
        &self,
        node: NodeId,
        negated: bool,
        values: &[i64],
        known: &[bool],
        out: &mut Vec<String>,
    ) {
        let arena = &self.conditions;
        match arena.nodes.get(node as usize) {
            Some(Node::All { start, len } | Node::Any { start, len }) => {
                let (s, l) = (*start as usize, *len as usize);
                for &c in arena.children.get(s..s.saturating_add(l)).unwrap_or(&[]) {
                    self.collect_score_tests(c, negated, values, known, out);
                }
            }
            Some(Node::Not(inner)) => {
                self.collect_score_tests(*inner, !negated, values, known, out);
            }
            Some(Node::Score { start, len }) => {
                let mut visits = 0;
                let t = crate::eval::holds3(arena, node, values, known, &mut visits);
                let wanted = if negated {
                    crate::eval::Tri::False
                } else {
                    crate::eval::Tri::True
                };
                if t == wanted {
                    let (s, l) = (*start as usize, *len as usize);
                    let ranges = arena.ranges.get(s..s.saturating_add(l)).unwrap_or(&[]);
                    let words = Words {
                        arena,
                        factors: &self.factors,
                    }
                    .score_spans(ranges);
                    out.push(if negated {
                        format!("not {words}")
                    } else {
                        words
                    });
                }
            }
            _ => {}
        }
    }

    fn words(&self, node: NodeId) -> String {
        Words {
            arena: &self.conditions,
            factors: &self.factors,
        }
        .node(node, false)
    }
}

struct Words<'a> {
    arena: &'a ConditionArena,
    factors: &'a [Factor],
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

impl Words<'_> {
    fn children(&self, start: u32, len: u32) -> &[NodeId] {
        let (s, l) = (start as usize, len as usize);
        self.arena
            .children
            .get(s..s.saturating_add(l))
            .unwrap_or(&[])
    }

    /// `node` in words; `nested` puts a group in parentheses.
    fn node(&self, node: NodeId, nested: bool) -> String {
        let group = |text: String| {
            if nested {
                format!("({text})")
            } else {
                text
            }
        };
        match self.arena.nodes.get(node as usize) {
            Some(Node::Const(true)) => "always".to_owned(),
            Some(Node::Const(false)) => "never".to_owned(),
            Some(Node::All { start, len }) => {
                let parts: Vec<String> = self
                    .children(*start, *len)
                    .iter()
                    .map(|&c| self.node(c, true))
                    .collect();
                group(parts.join(", and "))
            }
            Some(Node::Any { start, len }) => {
                let parts: Vec<String> = self
                    .children(*start, *len)
                    .iter()
                    .map(|&c| self.node(c, true))
                    .collect();
                group(format!("either {}", parts.join(", or ")))
            }
            Some(Node::Not(inner)) => format!("not {}", self.node(*inner, true)),
            Some(Node::Mask { factor, mask }) => self.mask(*factor as usize, *mask),
            Some(Node::Range { factor, lo, hi }) => self.ranges(*factor as usize, &[(*lo, *hi)]),
            Some(Node::Ranges { factor, start, len }) => {
                let (s, l) = (*start as usize, *len as usize);
                let ranges = self.arena.ranges.get(s..s.saturating_add(l)).unwrap_or(&[]);
                self.ranges(*factor as usize, ranges)
            }
            Some(Node::Score { start, len }) => {
                let (s, l) = (*start as usize, *len as usize);
                let ranges = self.arena.ranges.get(s..s.saturating_add(l)).unwrap_or(&[]);
                self.score(ranges)
            }
            None => "never".to_owned(),
        }
    }

    /// A test of the total score: "the total score is at least 20".
    fn score(&self, ranges: &[(i64, i64)]) -> String {
        format!("the total score is {}", self.score_spans(ranges))
    }

    /// The totals a score test accepts: "at least 20", "3 or 5".
    fn score_spans(&self, ranges: &[(i64, i64)]) -> String {
        let (min, max) = self
            .arena
            .score
            .range
            .iter()
            .fold((0i64, 0i64), |(a, b), &(lo, hi)| {
                (a.saturating_add(lo), b.saturating_add(hi))
            });
        let parts: Vec<String> = ranges
            .iter()
            .map(|&(lo, hi)| span(lo, hi, min, max))
            .collect();
        or_list(&parts)
    }

    fn mask(&self, factor: usize, mask: u64) -> String {
        let Some(f) = self.factors.get(factor) else {
            return "never".to_owned();
        };
        let id = &f.id;
        let values: Vec<String> = match &f.kind {
            FactorKind::Ordinal { values } => values.clone(),
            FactorKind::Boolean => vec!["false".to_owned(), "true".to_owned()],
            FactorKind::Integer { .. } => Vec::new(),
        };
        let set: Vec<usize> = (0..values.len())
            .filter(|&i| {
                u32::try_from(i).is_ok_and(|s| mask.checked_shr(s).is_some_and(|m| m & 1 == 1))
            })
            .collect();
        let n = values.len();
        let name = |i: usize| values.get(i).cloned().unwrap_or_default();
        match set.as_slice() {
            [] => "never".to_owned(),
            s if s.len() == n => format!("{id} is answered"),
            [one] => format!("{id} is {}", name(*one)),
            s if matches!(f.kind, FactorKind::Ordinal { .. })
                && s.len() >= 2
                && n - s.len() >= 2
                && s.last() == Some(&(n - 1))
                && s.windows(2).all(|w| matches!(w, [a, b] if a + 1 == *b)) =>
            {
                format!("{id} is {} or worse", name(s.first().copied().unwrap_or(0)))
            }
            s if matches!(f.kind, FactorKind::Ordinal { .. })
                && s.len() >= 2
                && n - s.len() >= 2
                && s.first() == Some(&0)
                && s.windows(2).all(|w| matches!(w, [a, b] if a + 1 == *b)) =>
            {
                format!("{id} is {} or better", name(s.last().copied().unwrap_or(0)))
            }
            s => {
                let names: Vec<String> = s.iter().map(|&i| name(i)).collect();
                format!("{id} is {}", or_list(&names))
            }
        }
    }

    fn ranges(&self, factor: usize, ranges: &[(i64, i64)]) -> String {
        let Some(f) = self.factors.get(factor) else {
            return "never".to_owned();
        };
        let (min, max, bands) = match &f.kind {
            FactorKind::Integer { min, max, bands } => (*min, *max, bands.as_slice()),
            _ => (i64::MIN, i64::MAX, &[][..]),
        };
        let one = |&(lo, hi): &(i64, i64)| {
            let band = bands.iter().find(|b| b.min == lo && b.max == hi);
            let span = span(lo, hi, min, max);
            match band {
                Some(b) => format!("{} ({span})", b.id),
                None => span,
            }
        };
        let parts: Vec<String> = ranges.iter().map(one).collect();
        format!("{} is {}", f.id, or_list(&parts))
    }
}

/// `lo..=hi` out of `min..=max` in words: "at least 10", "at most 9", "3 to 5", "7".
fn span(lo: i64, hi: i64, min: i64, max: i64) -> String {
    if lo <= min && hi >= max {
        "any number".to_owned()
    } else if lo <= min {
        format!("at most {hi}")
    } else if hi >= max {
        format!("at least {lo}")
    } else if lo == hi {
        lo.to_string()
    } else {
        format!("{lo} to {hi}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use super::*;

    fn words_of(yaml_when: &str) -> String {
        let rs = Ruleset::from_yaml(&format!(
            r#"
id: t
version: "1"
title: t
description: t
levels:
  - {{id: low, label: Low, description: l}}
  - {{id: high, label: High, description: h}}
factors:
  - {{id: severity, kind: ordinal, question: "S?", values: [none, mild, moderate, severe]}}
  - {{id: housing, kind: ordinal, question: "H?", values: [stable, unstable, homeless]}}
  - {{id: alone, kind: boolean, question: "A?"}}
  - id: score
    kind: integer
    question: "N?"
    min: 0
    max: 20
    bands:
      - {{id: lowish, min: 0, max: 9}}
      - {{id: highish, min: 10, max: 20}}
rules:
  - id: r
    when: {yaml_when}
    level: high
    because: "x"
"#
        ))
        .unwrap();
        rs.rule_condition_words(0).unwrap()
    }

    #[test]
    fn the_issue_example_reads_as_written() {
        assert_eq!(
            words_of("{all: [{severity: {at_least: moderate}}, {housing: {at_least: unstable}}]}"),
            "severity is moderate or worse, and housing is unstable or homeless"
        );
    }

    #[test]
    fn values_booleans_and_numbers() {
        assert_eq!(words_of("{severity: mild}"), "severity is mild");
        assert_eq!(
            words_of("{severity: {at_most: mild}}"),
            "severity is mild or better"
        );
        assert_eq!(
            words_of("{severity: {at_most: moderate}}"),
            "severity is none, mild or moderate"
        );
        assert_eq!(
            words_of("{severity: {at_least: mild}}"),
            "severity is mild, moderate or severe"
        );
        assert_eq!(
            words_of("{severity: {in: [none, moderate]}}"),
            "severity is none or moderate"
        );
        assert_eq!(words_of("{alone: true}"), "alone is true");
        assert_eq!(
            words_of("{score: highish}"),
            "score is highish (at least 10)"
        );
        assert_eq!(words_of("{score: {at_least: 5}}"), "score is at least 5");
        assert_eq!(
            words_of("{any: [{alone: true}, {all: [{severity: severe}, {score: lowish}]}]}"),
            "either alone is true, or (severity is severe, and score is lowish (at most 9))"
        );
        assert_eq!(
            words_of("{not: {housing: stable}}"),
            "not housing is stable"
        );
    }
}
