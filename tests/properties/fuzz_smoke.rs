//! A proptest smoke version of the cargo-fuzz targets in `fuzz/` (which need nightly
//! and libFuzzer), small enough to run in CI on every change:
//!
//! - `ruleset`: ruleset text (edited bundled rulesets, generated rulesets, arbitrary
//!   text) compiles or reports located errors; a compiled ruleset survives the
//!   whole-space check, a self-diff and an all-missing assessment;
//! - `answers`: answer text in JSON and YAML for the default ruleset;
//! - `evaluate`: generated valid rulesets with answers (some missing, some invalid),
//!   asserting the assessment invariants.

use std::collections::BTreeSet;

use carelevel::analysis::{self, check, diff};
use carelevel::testing::TestSuite;
use carelevel::{json, Answers, EvalError, FlagKind, Ruleset, DEFAULT_RULESET};
use proptest::prelude::*;

use crate::rulegen::{answers_yaml, ruleset_gen, valid_case};

const SIX_LEVELS: &str = include_str!("../../examples/rulesets/six-levels.yaml");

/// Product of the factors' class counts: the size of the space the analysis walks.
fn space_size(rs: &Ruleset) -> u128 {
    rs.factors().iter().fold(1u128, |acc, f| {
        acc.saturating_mul(f.classes().len() as u128)
    })
}

/// What must hold for any ruleset and answers (the same checks as the fuzz targets):
/// `level_for` agrees with `assess`, the level is a level of the ruleset, no fired rule
/// demands more, the range is ordered and topped by the level, and `needs_review` is
/// set exactly when the range is open or a refer flag is possible.
pub fn check_invariants(rs: &Ruleset, answers: &Answers<'_>) {
    let fast = rs.level_for(answers);
    let full = rs.assess(answers);
    match (&fast, &full) {
        (Ok(level), Ok(a)) => {
            assert_eq!(*level, a.level.rank);
            assert!(*level < rs.levels().len());
            assert!(a.level_range.lowest.rank <= a.level_range.highest.rank);
            assert_eq!(a.level_range.highest.rank, a.level.rank);
            for r in &a.fired_rules {
                assert!(
                    rs.level_index(&r.level).unwrap() <= a.level.rank,
                    "{}",
                    r.id
                );
            }
            let fired: BTreeSet<&str> = a.fired_rules.iter().map(|r| r.id.as_ref()).collect();
            assert!(a.deciding_rules.iter().all(|d| fired.contains(d.as_ref())));
            let refer_possible = a.possible_flags.iter().any(|f| f.kind == FlagKind::Refer);
            let open = a.level_range.lowest.rank != a.level_range.highest.rank;
            assert_eq!(a.needs_review, open || refer_possible);
            assert_eq!(a.refer, a.flags.iter().any(|f| f.kind == FlagKind::Refer));
            if a.missing.is_empty() {
                assert!(!open && a.possible_flags.is_empty());
            }
        }
        (Err(e1), Err(e2)) => assert_eq!(e1, e2),
        (Ok(_), Err(EvalError::TooManyMissing { .. })) => {}
        (f, a) => panic!(
            "level_for {f:?} but assess {:?}",
            a.as_ref().map(|x| &x.level)
        ),
    }
}

/// The body of the `ruleset` fuzz target.
fn ruleset_target(text: &str) {
    let _ = TestSuite::from_yaml(text);
    let rs = match Ruleset::from_yaml(text) {
        Ok(rs) => rs,
        Err(e) => {
            assert!(!e.diagnostics.is_empty());
            return;
        }
    };
    let size = space_size(&rs);
    if size <= 20_000 {
        if let Ok(report) = check(&rs, false) {
            assert_eq!(report.classes.value, size);
        }
        if size <= 2_000 {
            if let Ok(d) = diff(&rs, &rs) {
                assert!(!d.has_changes(), "{}", d.summary());
            }
        }
    }
    check_invariants(&rs, &rs.new_answers());
}

/// Small character-level edits of `base`.
fn edited(base: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(
        (any::<prop::sample::Index>(), 0usize..3, any::<char>()),
        1..5,
    )
    .prop_map(move |edits| {
        let mut text: Vec<char> = base.chars().collect();
        for (at, op, c) in edits {
            let i = at.index(text.len().max(1));
            match op {
                0 if !text.is_empty() => {
                    text.remove(i.min(text.len() - 1));
                }
                1 => text.insert(i.min(text.len()), c),
                _ if !text.is_empty() => {
                    let j = i.min(text.len() - 1);
                    text[j] = c;
                }
                _ => {}
            }
        }
        text.into_iter().collect()
    })
}

/// A generated ruleset with a few token-level edits (keys, numbers, operators).
fn mangled_generated() -> impl Strategy<Value = String> {
    const TOKENS: [&str; 16] = [
        "not: ",
        "all: []",
        "-9223372036854775808",
        "9223372036854775807",
        "1000000000001",
        "between: [",
        "above: ",
        "below: ",
        "missing: error",
        "{assume: 99}",
        "points: {}",
        "bands: []",
        "~",
        "*a",
        "&a ",
        "level: l9",
    ];
    (
        ruleset_gen(2),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                prop::sample::select(&TOKENS[..]),
            ),
            0..3,
        ),
    )
        .prop_map(|(g, edits)| {
            let mut text = g.render();
            for (at, token) in edits {
                let mut i = at.index(text.len().max(1));
                while !text.is_char_boundary(i) {
                    i -= 1;
                }
                text.insert_str(i, token);
            }
            text
        })
}

/// Answer text for the default ruleset: JSON or YAML mappings of known and unknown
/// questions to valid, invalid and oddly typed values.
fn answer_text() -> impl Strategy<Value = String> {
    let keys = prop::sample::select(vec![
        "severity",
        "withdrawal_risk",
        "medical",
        "housing",
        "support",
        "harm_risk",
        "mental_health",
        "readiness",
        "step_down_from_inpatient",
        "sevrity",
        "",
    ]);
    let values = prop::sample::select(vec![
        "\"none\"",
        "\"mild\"",
        "\"moderate\"",
        "\"severe\"",
        "\"high\"",
        "\"imminent\"",
        "\"stable\"",
        "\"unstable\"",
        "\"homeless\"",
        "\"strong\"",
        "\"limited\"",
        "\"ready\"",
        "true",
        "false",
        "null",
        "0",
        "-1",
        "1.5",
        "18446744073709551616",
        "[1, 2]",
        "{\"a\": 1}",
        "\"\"",
    ]);
    (
        prop::collection::vec((keys, values), 0..10),
        any::<bool>(),
        any::<String>(),
        0u8..8,
    )
        .prop_map(|(pairs, as_json, junk, mode)| {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| {
                    if as_json {
                        format!("\"{k}\": {v}")
                    } else {
                        format!("{k}: {v}")
                    }
                })
                .collect();
            let text = if as_json {
                format!("{{{}}}", body.join(", "))
            } else {
                body.join("\n")
            };
            match mode {
                0 => junk,
                1 => format!("{text}{junk}"),
                _ => text,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::rulegen::cases(256)))]

    #[test]
    fn fuzz_ruleset_edited_bundled(text in prop_oneof![edited(DEFAULT_RULESET), edited(SIX_LEVELS)]) {
        ruleset_target(&text);
    }

    #[test]
    fn fuzz_ruleset_generated(text in prop_oneof![mangled_generated(), any::<String>()]) {
        ruleset_target(&text);
    }

    #[test]
    fn fuzz_answers(text in answer_text()) {
        let rs = Ruleset::default_ruleset().unwrap();
        for parsed in [rs.answers_from_json(&text), rs.answers_from_yaml(&text)] {
            match parsed {
                Ok(answers) => {
                    check_invariants(&rs, &answers);
                    let _ = analysis::hinges(&answers);
                }
                Err(e) => prop_assert!(!e.problems.is_empty()),
            }
        }
        let doc = json::assess_json(&rs, &text);
        prop_assert!(doc.starts_with("{\"ok\":"), "{}", doc);
    }

    #[test]
    fn fuzz_evaluate((g, text, drawn) in valid_case(0), invalid in prop::collection::vec(any::<bool>(), 4)) {
        let rs = Ruleset::from_yaml(&text).unwrap();
        prop_assert_eq!(rs.levels().len(), g.levels);
        let pairs = g.answers(&drawn);
        let mut answers = rs.answers_from_yaml(&answers_yaml(&pairs)).unwrap();
        // Invalid answers are refused and leave the answer unset.
        for (i, bad) in invalid.iter().enumerate() {
            let id = format!("f{i}");
            if *bad && i < g.factors.len() && !answers.is_answered(&id) {
                prop_assert!(answers.set(&id, "no-such-value").is_err());
                prop_assert!(answers.set(&id, 1_000_000i64).is_err());
                prop_assert!(!answers.is_answered(&id));
            }
        }
        check_invariants(&rs, &answers);
        // The analysis runs on every generated ruleset (the spaces are small).
        let report = check(&rs, false).unwrap();
        prop_assert_eq!(report.classes.value, space_size(&rs));
        let _ = analysis::hinges(&answers);
    }
}

/// The shapes of the `shapes` fuzz target (issue 8), small enough for CI: one anchored
/// `any` of `leaves` comparisons reused by `rules - 1` rules, and heavy-but-valid
/// rulesets of integer factors with many bands and many two-factor rules.
fn fan_out_text(leaves: usize, rules: usize) -> String {
    let mut s = String::from(
        "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n",
    );
    for i in 0..4 {
        s.push_str(&format!("  - {{id: f{i}, question: q, kind: boolean}}\n"));
    }
    let list: Vec<String> = (0..leaves)
        .map(|j| format!("{{f{}: true}}", j % 4))
        .collect();
    s.push_str(&format!(
        "rules:\n  - {{id: r0, level: high, because: b, when: &b {{any: [{}]}}}}\n",
        list.join(", ")
    ));
    for r in 1..rules {
        s.push_str(&format!(
            "  - {{id: r{r}, level: high, because: b, when: *b}}\n"
        ));
    }
    s
}

fn heavy_text(factors: usize, bands: usize, rules: &[(usize, usize, usize, usize)]) -> String {
    let mut s = String::from(
        "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n",
    );
    for i in 0..factors {
        s.push_str(&format!(
            "  - id: n{i}\n    question: q\n    kind: integer\n    min: 0\n    max: {}\n    bands:\n",
            bands * 10 - 1
        ));
        for b in 0..bands {
            s.push_str(&format!(
                "      - {{id: b{b}, min: {}, max: {}}}\n",
                b * 10,
                b * 10 + 9
            ));
        }
    }
    s.push_str("rules:\n");
    for (r, (i, j, x, b)) in rules.iter().enumerate() {
        let (i, j, x, b) = (i % factors, j % factors, x % (bands * 10), b % bands);
        s.push_str(&format!(
            "  - {{id: r{r}, level: high, because: b, when: {{all: [{{n{i}: {{at_least: {x}}}}}, {{n{j}: b{b}}}]}}}}\n"
        ));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::rulegen::cases(32)))]

    #[test]
    fn fuzz_shapes_small_fan_out_compiles_like_the_written_out_ruleset(leaves in 1usize..40, rules in 1usize..40) {
        let rs = Ruleset::from_yaml(&fan_out_text(leaves, rules)).unwrap();
        prop_assert_eq!(rs.rules().len(), rules);
        ruleset_target(&fan_out_text(leaves, rules));
    }

    #[test]
    fn fuzz_shapes_heavy_but_valid_rulesets(
        factors in 1usize..4,
        bands in 1usize..12,
        rules in prop::collection::vec((0usize..4, 0usize..4, 0usize..1000, 0usize..64), 1..60),
    ) {
        let text = heavy_text(factors, bands, &rules);
        match Ruleset::from_yaml(&text) {
            Ok(rs) => check_invariants(&rs, &rs.new_answers()),
            // Only a condition that can never be true (e.g. `at_least` above a band
            // of the same factor) is refused, and it is located.
            Err(e) => prop_assert!(e.diagnostics.iter().all(|d| d.location.is_some()
                && d.message.contains("can never be true")), "{:?}", e.diagnostics),
        }
    }
}

#[test]
fn fuzz_shapes_fan_out_past_the_node_budget_is_refused_at_an_alias() {
    // 2,000 leaves (6,003 nodes a copy) reused by 800 rules: 4.8 M nodes.
    let e = Ruleset::from_yaml(&fan_out_text(2_000, 800)).unwrap_err();
    assert_eq!(e.diagnostics.len(), 1);
    assert!(e.diagnostics[0]
        .message
        .contains("the alias `*b` stands for a copy of 6003 nodes"));
    assert!(e.diagnostics[0].location.is_some());
}
