//! Differential tests: every diagram equals the rule walk (and every condition's
//! diagram equals `holds`) on every class combination of the bundled rulesets and of
//! random rulesets from the property tests' generator, and on random complete answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[allow(
    dead_code,
    reason = "the generator's other strategies serve the property tests"
)]
#[path = "../../../../tests/properties/rulegen.rs"]
pub(crate) mod rulegen;

use proptest::prelude::*;
use proptest::sample::Index;

use super::condition::Conditions;
use super::level;
use super::manager::Manager;
use super::order::Order;
use crate::eval::holds;
use crate::limits;
use crate::model::{FactorKind, LevelTable, Ruleset};

/// The entry the rule walk gives: the level, with the refer bit when a refer flag holds.
fn walk_entry(rs: &Ruleset, values: &[i64]) -> u8 {
    let level = u8::try_from(rs.level_of_codes_walk(values)).unwrap();
    if rs.refer_of_codes_walk(values) {
        level | LevelTable::REFER
    } else {
        level
    }
}

/// Calls `visit` with the representative codes of every class combination.
fn every_class(rs: &Ruleset, mut visit: impl FnMut(&[i64])) {
    let counts: Vec<usize> = rs.factors.iter().map(|f| f.classes.len()).collect();
    let mut digits = vec![0usize; counts.len()];
    loop {
        let values: Vec<i64> = digits
            .iter()
            .zip(&rs.factors)
            .map(|(&d, f)| f.classes[d])
            .collect();
        visit(&values);
        let mut f = counts.len();
        loop {
            if f == 0 {
                return;
            }
            f -= 1;
            digits[f] += 1;
            if digits[f] < counts[f] {
                break;
            }
            digits[f] = 0;
        }
    }
}

/// The diagram of `rs` equals the walk at every class combination, each condition's
/// diagram equals `holds`, and the table painted from the diagram equals the table the
/// rule walk builds.
fn check_everywhere(rs: &Ruleset) {
    let d = rs.diagram.as_ref().expect("the diagram fits its budget");
    let order = Order::of(rs);
    let mut m = Manager::new(
        order
            .factors()
            .iter()
            .map(|&f| rs.factors[f].classes.len())
            .collect(),
        limits::MAX_DIAGRAM_WORK,
    );
    let mut conditions = Conditions::new(&rs.conditions, &rs.factors, &order);
    let whens: Vec<_> = rs
        .rules
        .iter()
        .map(|r| r.when)
        .chain(rs.flags.iter().map(|f| f.when))
        .map(|w| (w, conditions.build(&mut m, w).unwrap()))
        .collect();
    every_class(rs, |values| {
        assert_eq!(
            d.entry(&rs.factors, values),
            Some(walk_entry(rs, values)),
            "{values:?}"
        );
        for &(when, r) in &whens {
            let classes: Vec<usize> = rs
                .factors
                .iter()
                .zip(values)
                .map(|(f, &v)| f.class_of(v))
                .collect();
            let got = m
                .evaluate(r, |p| classes[order.factor_at(p).unwrap()])
                .unwrap();
            assert_eq!(got == 1, holds(&rs.conditions, when, values), "{values:?}");
        }
    });
    assert_eq!(d.table(&rs.factors), crate::compile::build_level_table(rs));
}

#[test]
fn the_bundled_rulesets_diagrams_equal_the_walk_everywhere() {
    for text in [
        crate::DEFAULT_RULESET,
        include_str!("../../../../examples/rulesets/six-levels.yaml"),
    ] {
        let rs = Ruleset::from_yaml(text).unwrap();
        check_everywhere(&rs);
        // Small: far fewer nodes than class combinations.
        let d = rs.diagram.as_ref().unwrap();
        let space: usize = rs.factors.iter().map(|f| f.classes.len()).product();
        assert!(d.node_count() * 10 < space, "{} of {space}", d.node_count());
        // `limits::MAX_DIAGRAM_WORK` says the bundled rulesets need under 2 Ki units.
        assert!(level::build(&rs, 2048).is_ok());
    }
}

/// A complete answer set drawn anywhere in each factor's domain (not only at class
/// representatives).
fn draw(rs: &Ruleset, picks: &[Index]) -> Vec<i64> {
    rs.factors
        .iter()
        .zip(picks.iter().cycle())
        .map(|(f, p)| match &f.kind {
            FactorKind::Ordinal { values } => p.index(values.len()) as i64,
            FactorKind::Boolean => p.index(2) as i64,
            FactorKind::Integer { min, max, .. } => min + p.index((max - min + 1) as usize) as i64,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(rulegen::cases(512)))]

    /// Random rulesets (every operator, nesting, scoring with bands, refer flags):
    /// diagram == walk at every class combination and at random answers between
    /// class representatives; the level paths agree too.
    #[test]
    fn random_rulesets_diagrams_equal_the_walk(
        (_g, text, _answers) in rulegen::valid_case(0),
        picks in prop::collection::vec(any::<Index>(), 1..8),
    ) {
        let rs = Ruleset::from_yaml(&text).unwrap();
        check_everywhere(&rs);
        let values = draw(&rs, &picks);
        let d = rs.diagram.as_ref().unwrap();
        prop_assert_eq!(d.entry(&rs.factors, &values), Some(walk_entry(&rs, &values)), "{}", text);
        prop_assert_eq!(
            rs.level_and_refer_of_codes(&values),
            (rs.level_of_codes_walk(&values), rs.refer_of_codes_walk(&values))
        );
    }
}

/// A ruleset of `n` boolean questions and rules on pairs of them, some scored.
fn many_booleans(n: usize, rules: usize) -> Ruleset {
    let mut text = String::from(
        "id: wide\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: l0, label: L, description: d}\n  - {id: l1, label: L, description: d}\n  - {id: l2, label: L, description: d}\nfactors:\n",
    );
    for f in 0..n {
        text.push_str(&format!("  - {{id: b{f}, kind: boolean, question: q}}\n"));
    }
    text.push_str("rules:\n");
    for r in 0..rules {
        let (a, b) = (r % n, (r * 7 + 3) % n);
        let b = if a == b { (b + 1) % n } else { b };
        text.push_str(&format!(
            "  - {{id: r{r}, level: l{}, because: x, when: {{all: [{{b{a}: true}}, {{b{b}: {}}}]}}}}\n",
            1 + r % 2,
            r % 3 == 0
        ));
    }
    text.push_str(
        "flags:\n  - {id: f, kind: refer, message: m, when: {all: [{b0: true}, {b1: true}]}}\n",
    );
    text.push_str("scoring:\n  points:\n");
    for f in 0..n.min(6) {
        text.push_str(&format!("    b{f}: {{true: {}, false: 0}}\n", f + 1));
    }
    text.push_str("  bands:\n    - {max: 9, level: l0}\n    - {min: 10, max: 14, level: l1}\n    - {min: 15, level: l2}\n");
    Ruleset::from_yaml(&text).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Past the table's size (2^30 classes): no table, the diagram answers, and it
    /// equals the walk.
    #[test]
    fn a_space_too_large_for_the_table_is_evaluated_by_the_diagram(
        bits in prop::collection::vec(any::<bool>(), 30),
    ) {
        let rs = many_booleans(30, 60);
        prop_assert!(rs.table.is_none());
        prop_assert!(rs.diagram.is_some());
        let values: Vec<i64> = bits.iter().map(|&b| i64::from(b)).collect();
        let d = rs.diagram.as_ref().unwrap();
        prop_assert_eq!(d.entry(&rs.factors, &values), Some(walk_entry(&rs, &values)));
        prop_assert_eq!(rs.level_of_codes(&values), rs.level_of_codes_walk(&values));
    }
}

#[test]
fn a_diagram_over_its_budget_is_refused() {
    let rs = many_booleans(30, 60);
    assert!(level::build(&rs, 10).is_err());
    assert_eq!(
        level::build(&rs, limits::MAX_DIAGRAM_WORK).ok().as_ref(),
        rs.diagram.as_ref()
    );
}

#[test]
fn a_code_outside_the_classes_is_not_evaluated_by_the_diagram() {
    let rs = Ruleset::default_ruleset().unwrap();
    let d = rs.diagram.as_ref().unwrap();
    let mut values: Vec<i64> = rs.factors.iter().map(|f| f.classes[0]).collect();
    assert!(d.entry(&rs.factors, &values).is_some());
    values[0] = 99;
    assert_eq!(d.entry(&rs.factors, &values), None);
    assert_eq!(d.entry(&rs.factors, &[]), None);
}

/// The range the diagram gives over the completions of partly known answers equals
/// the search's, for every pattern of known factors drawn by `mask` (bit f: factor f
/// known), at answers `values`.
fn check_range(rs: &Ruleset, values: &[i64], mask: u64) {
    let known: Vec<bool> = (0..rs.factors.len())
        .map(|f| mask >> (f % 64) & 1 == 1)
        .collect();
    let d = rs.diagram.as_ref().unwrap();
    let from_diagram = d.level_range(&rs.factors, values, &known);
    let mut search =
        crate::eval::Search::new(&rs.conditions, &rs.factors, values.to_vec(), known.clone());
    let from_search = search.level_range_search(rs).unwrap();
    assert_eq!(
        from_diagram,
        Some(from_search),
        "known {known:?} at {values:?}"
    );
    // And through the search's entry point, which reads the diagram.
    let mut search = crate::eval::Search::new(&rs.conditions, &rs.factors, values.to_vec(), known);
    assert_eq!(search.level_range(rs).unwrap(), from_search);
}

#[test]
fn the_bundled_rulesets_level_ranges_equal_the_search() {
    for text in [
        crate::DEFAULT_RULESET,
        include_str!("../../../../examples/rulesets/six-levels.yaml"),
    ] {
        let rs = Ruleset::from_yaml(text).unwrap();
        let n = rs.factors.len();
        // Every pattern of known factors, at the lowest and at the highest classes
        // and at a mix.
        let rows: [Vec<i64>; 3] = [
            rs.factors.iter().map(|f| f.classes[0]).collect(),
            rs.factors
                .iter()
                .map(|f| *f.classes.last().unwrap())
                .collect(),
            rs.factors
                .iter()
                .enumerate()
                .map(|(i, f)| f.classes[i % f.classes.len()])
                .collect(),
        ];
        for values in &rows {
            for mask in 0..(1u64 << n) {
                check_range(&rs, values, mask);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(rulegen::cases(512)))]

    /// Random rulesets, random answers, random known factors: diagram range ==
    /// search range.
    #[test]
    fn random_rulesets_level_ranges_equal_the_search(
        (_g, text, _answers) in rulegen::valid_case(0),
        picks in prop::collection::vec(any::<Index>(), 1..8),
        mask in any::<u64>(),
    ) {
        let rs = Ruleset::from_yaml(&text).unwrap();
        let values = draw(&rs, &picks);
        check_range(&rs, &values, mask);
    }
}
