//! The heaviest rulesets within the documented limits (issue 8, item 6): every
//! operation on them finishes or is refused by a work budget, and the budget's own
//! counters (not the clock) show the work stays within it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::eval::Search;
use crate::{limits, EvalError, Ruleset};

/// A deterministic pseudo-random sequence (xorshift), so the shapes are fixed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

const HEADER: &str = "version: '1'\ntitle: T\ndescription: D\n";

/// `factors` integer questions cut into `cuts + 1` classes each by `rules` rules of
/// two `at_least` comparisons.
fn integer_grid(factors: usize, cuts: usize, rules: usize) -> Ruleset {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut text = format!(
        "id: grid\n{HEADER}levels:\n  - {{id: low, label: L, description: d}}\n  - {{id: mid, label: M, description: d}}\n  - {{id: high, label: H, description: d}}\nfactors:\n"
    );
    for f in 0..factors {
        text.push_str(&format!(
            "  - {{id: f{f}, kind: integer, min: 0, max: 1000, question: q}}\n"
        ));
    }
    text.push_str("rules:\n");
    // Every threshold of every factor is used once first, so each has `cuts + 1` classes.
    for r in 0..rules {
        let (a, b) = (r % factors, (r + 1 + rng.below(factors - 1)) % factors);
        let ta = 1 + (r / factors) % cuts;
        let tb = 1 + rng.below(cuts);
        let level = if r % 2 == 0 { "mid" } else { "high" };
        text.push_str(&format!(
            "  - {{id: r{r}, level: {level}, because: b, when: {{all: [{{f{a}: {{at_least: {}}}}}, {{f{b}: {{at_least: {}}}}}]}}}}\n",
            ta * 1000 / (cuts + 1),
            tb * 1000 / (cuts + 1)
        ));
    }
    Ruleset::from_yaml(&text).unwrap()
}

/// `booleans` questions (`missing: ask`) and `rules` rules, each a random 3-CNF of
/// `clauses` clauses.
fn random_cnf(booleans: usize, rules: usize, clauses: usize) -> Ruleset {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut text = format!(
        "id: cnf\n{HEADER}levels:\n  - {{id: low, label: L, description: d}}\n  - {{id: high, label: H, description: d}}\nfactors:\n"
    );
    for f in 0..booleans {
        text.push_str(&format!(
            "  - {{id: b{f}, kind: boolean, question: q, missing: ask}}\n"
        ));
    }
    text.push_str("rules:\n");
    for r in 0..rules {
        let cnf: Vec<String> = (0..clauses)
            .map(|_| {
                let lits: Vec<String> = (0..3)
                    .map(|_| format!("{{b{}: {}}}", rng.below(booleans), rng.below(2) == 0))
                    .collect();
                format!("{{any: [{}]}}", lits.join(", "))
            })
            .collect();
        text.push_str(&format!(
            "  - {{id: r{r}, level: high, because: b, when: {{all: [{}]}}}}\n",
            cnf.join(", ")
        ));
    }
    Ruleset::from_yaml(&text).unwrap()
}

#[test]
fn a_grid_of_integer_thresholds_and_many_rules_is_refused_before_any_work() {
    // 4 factors × 41 classes = 2.8 M classes, 250 rules: minutes of work before.
    let rs = integer_grid(4, 40, 250);
    let enumerated = check::check_by(&rs, false, Some(CheckMethod::Enumeration), 0);
    for (task, e) in [
        ("checking every answer set", enumerated.unwrap_err()),
        ("comparing every answer set", diff(&rs, &rs).unwrap_err()),
        (
            "finding cases",
            suggest_cases(&rs, &[Target::Rule(0)]).unwrap_err(),
        ),
    ] {
        let AnalysisError::TooMuchWork {
            task: t,
            classes,
            per_class,
            work,
            limit,
            ..
        } = &e
        else {
            panic!("{e}")
        };
        assert_eq!(*t, task);
        assert_eq!(*classes, 41u64.pow(4));
        assert_eq!(*work, classes * per_class);
        assert!(*work > *limit && *limit == MAX_ANALYSIS_WORK);
        let text = e.to_string();
        assert!(text.contains("above the limit of 2000000000"), "{text}");
        assert!(text.contains("f0 (41 classes)"), "{text}");
    }
}

#[test]
fn the_grid_too_large_to_enumerate_is_checked_on_diagrams() {
    let rs = integer_grid(4, 40, 250);
    let report = check(&rs, false).unwrap();
    assert_eq!(report.method, CheckMethod::Diagram);
    assert_eq!(report.classes, Count::exact(41u128.pow(4)));
    assert_eq!(report.combinations, Count::exact(1001u128.pow(4)));
}

#[test]
fn a_diagram_over_the_check_budget_falls_back_to_enumeration_or_names_what_grew() {
    // 16 booleans: 64 Ki classes, within the enumeration's limits.
    let small = random_cnf(16, 20, 8);
    let within = check(&small, false).unwrap();
    assert_eq!(within.method, CheckMethod::Diagram);
    let fallback = check::check_by(&small, false, None, 10).unwrap();
    assert_eq!(fallback.method, CheckMethod::Enumeration);
    assert_eq!(fallback.findings, within.findings);
    // 40 booleans: too many classes to enumerate, so the refusal names the diagram.
    let large = random_cnf(40, 20, 8);
    let e = check::check_by(&large, false, None, 10).unwrap_err();
    let AnalysisError::DiagramTooLarge { what, limit, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!((what.as_str(), *limit), ("the condition of rule `r0`", 10));
    let text = e.to_string();
    assert!(
        text.contains("more than 10 units of work while building the condition of rule `r0`"),
        "{text}"
    );
    assert!(
        text.contains("the answer space has 1099511627776 classes, above the limit"),
        "{text}"
    );
}

#[test]
fn the_same_grid_with_few_rules_is_analysed_within_the_budget() {
    let rs = integer_grid(4, 10, 40);
    let report = check(&rs, false).unwrap();
    assert_eq!(report.classes.value, 11u128.pow(4));
    // The diagrams give the enumeration's findings, examples included.
    let enumerated = check::check_by(&rs, false, Some(CheckMethod::Enumeration), 0).unwrap();
    assert!(!report.findings.is_empty());
    assert_eq!(enumerated.findings, report.findings);
    // The refusal is an upper bound: what passes it is bounded by it.
    let space = Space::new(&[&rs], false).unwrap();
    let total = space.enumerable(false).unwrap() as u64;
    assert!(total * space::class_cost(&rs) <= MAX_ANALYSIS_WORK);
    assert!(suggest_cases(&rs, &[Target::Rule(3), Target::Level(2)])
        .unwrap()
        .iter()
        .all(Option::is_some));
}

#[test]
fn many_missing_answers_on_hard_conditions_are_refused_after_the_budget_and_no_more() {
    // 60 unanswered booleans, 20 rules of 250-clause random 3-CNF (about the hardest
    // ratio of clauses to variables): 37 s before, for a refusal.
    let rs = random_cnf(60, 20, 250);
    let answers = rs.new_answers();
    let e = rs.assess(&answers).unwrap_err();
    assert!(
        matches!(&e, EvalError::TooManyMissing { factors, limit }
            if factors.len() == 60 && *limit == limits::MAX_MISSING_WORK),
        "{e}"
    );
    assert!(e.to_string().contains("condition nodes visited"), "{e}");
    // The search stops within one pass over the conditions of the budget.
    let mut search = Search::new(
        &rs.conditions,
        &rs.factors,
        vec![0; rs.factors.len()],
        vec![false; rs.factors.len()],
    );
    // The same work as the assessment: the level range, then each rule's status.
    let ran_out =
        search.level_range(&rs).is_err() || rs.rules.iter().any(|r| search.status(r.when).is_err());
    assert!(ran_out);
    let one_pass = 2 * rs.conditions.nodes.len() as u64 + 1;
    assert!(search.spent() > limits::MAX_MISSING_WORK);
    assert!(search.spent() <= limits::MAX_MISSING_WORK + one_pass);
}

#[test]
fn the_default_ruleset_with_every_answer_missing_needs_a_small_part_of_the_budget() {
    let rs = Ruleset::default_ruleset().unwrap();
    let n = rs.factors.len();
    let mut search = Search::new(&rs.conditions, &rs.factors, vec![0; n], vec![false; n]);
    search.level_range(&rs).unwrap();
    let spent = search.spent();
    // Documented on `limits::MAX_MISSING_WORK`: keep the two in step.
    assert!(spent < 10_000, "{spent}");
    assert!(spent * 10_000 < limits::MAX_MISSING_WORK);
}

#[test]
fn explaining_many_missing_answers_on_hard_conditions_is_refused_by_the_budget() {
    let rs = random_cnf(60, 20, 250);
    let mut answers = rs.new_answers();
    answers.set("b0", crate::Value::Boolean(true)).unwrap();
    let e = hinges(&answers).unwrap_err();
    assert_eq!(
        e,
        EvalError::ExplanationTooCostly {
            limit: limits::MAX_MISSING_WORK
        }
    );
}

#[test]
fn levels_worked_out_within_one_budget_share_it() {
    // `hinges` works out many levels through `level_within`: each takes what it spent
    // off the one budget, so two searches that each fit it alone do not fit together.
    let rs = Ruleset::default_ruleset().unwrap();
    let answers = rs.new_answers();
    let mut budget = limits::MAX_MISSING_WORK;
    let level = rs.level_within(&answers, &mut budget).unwrap();
    assert_eq!(level, Some(rs.level_for(&answers).unwrap()));
    let cost = limits::MAX_MISSING_WORK - budget;
    assert!(cost > 0);
    let mut budget = cost + cost / 2;
    assert_eq!(rs.level_within(&answers, &mut budget).unwrap(), level);
    assert_eq!(rs.level_within(&answers, &mut budget).unwrap(), None);
    // A complete answer set is charged its bound, and refused when it does not fit.
    let complete = rs
        .answers_from_json(include_str!("../../../../examples/answers/iop.json"))
        .unwrap();
    let mut budget = rs.complete_evaluation_cost();
    assert!(rs.level_within(&complete, &mut budget).unwrap().is_some());
    assert_eq!(budget, 0);
    assert_eq!(rs.level_within(&complete, &mut budget).unwrap(), None);
}

#[test]
fn suggest_cases_in_one_pass_equals_one_search_per_target() {
    for rs in [
        Ruleset::default_ruleset().unwrap(),
        Ruleset::from_yaml(include_str!(
            "../../../../examples/rulesets/six-levels.yaml"
        ))
        .unwrap(),
    ] {
        let targets: Vec<Target> = (0..rs.rules.len())
            .map(Target::Rule)
            .chain((0..rs.flags.len()).map(Target::Flag))
            .chain((0..rs.levels.len()).map(Target::Level))
            .collect();
        let together = suggest_cases(&rs, &targets).unwrap();
        for (t, case) in targets.iter().zip(&together) {
            assert_eq!(&suggest_case(&rs, *t).unwrap(), case, "{t:?}");
        }
        assert!(together.iter().filter(|c| c.is_some()).count() >= rs.levels.len());
    }
}

#[test]
fn a_level_table_too_costly_for_the_rule_walk_is_painted_from_the_diagram() {
    // 4 × 11 classes = 14,641 entries × 30,000 nodes: above MAX_LEVEL_TABLE_WORK for
    // the rule walk (the table used to be left out), but the level diagram fits its
    // budget and paints the table.
    let big = integer_grid(4, 10, 10_000);
    let work = 14_641u64 * big.conditions.nodes.len() as u64;
    assert!(work > limits::MAX_LEVEL_TABLE_WORK);
    assert!(big.diagram.is_some());
    assert!(big.table.is_some());
    let mut values = vec![0i64; 4];
    for v in [0, 100, 455, 999] {
        values[0] = v;
        values[3] = 1000 - v;
        assert_eq!(
            big.level_of_codes(&values),
            big.level_of_codes_walk(&values)
        );
    }
}

#[test]
fn a_diagram_over_its_budget_leaves_levels_to_the_rule_walk() {
    // 60 booleans, 20 rules of 250-clause random 3-CNF: no table (2^60 classes) and a
    // diagram over MAX_DIAGRAM_WORK.
    let rs = random_cnf(60, 20, 250);
    assert!(rs.diagram.is_none());
    assert!(rs.table.is_none());
    let mut rng = Rng(7);
    for _ in 0..200 {
        let values: Vec<i64> = (0..60).map(|_| rng.below(2) as i64).collect();
        assert_eq!(rs.level_of_codes(&values), rs.level_of_codes_walk(&values));
        assert_eq!(
            rs.level_and_refer_of_codes(&values),
            (rs.level_of_codes_walk(&values), false)
        );
    }
}
