//! `carelevel diff`: what decided each example (rules, the score band, the lowest
//! level, unanswered questions), and the patterns of a moved population: every one,
//! or as many as are listed and how many classes the rest hold.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::{run, snapshot};

const SCORE_OLD: &str = "tests/cli/fixtures/score-conditions-old.yaml";
const SCORE_NEW: &str = "tests/cli/fixtures/score-conditions.yaml";
const DIAGONAL_OLD: &str = "tests/cli/fixtures/diagonal-old.yaml";
const DIAGONAL_NEW: &str = "tests/cli/fixtures/diagonal.yaml";

/// The moves of the score-conditions fixtures are mid -> high for risk moderate
/// where the band (not a rule) gave mid under OLD: the text says so.
#[test]
fn diff_text_names_the_score_band_that_decided() {
    let out = run(&["diff", SCORE_OLD, SCORE_NEW]);
    out.expect_code(0);
    assert!(
        !out.stdout.contains("no rule: lowest level"),
        "{}",
        out.stdout
    );
    snapshot!("diff_text_score_band_basis", out.snapshot());
}

/// The answer sets a pattern stands for, as (risk, function, support) indexes with
/// support 3 for unanswered; a question the pattern leaves out takes any answer.
fn expand(pattern: &Value) -> BTreeSet<(usize, usize, usize)> {
    let scales: [(&str, &[&str]); 3] = [
        ("risk", &["none", "low", "moderate", "high"]),
        ("function", &["good", "fair", "poor"]),
        ("support", &["strong", "some", "none"]),
    ];
    let allowed: Vec<Vec<usize>> = scales
        .iter()
        .map(|(id, values)| {
            let unanswered = usize::from(*id == "support");
            match pattern
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["factor"] == *id)
            {
                None => (0..values.len() + unanswered).collect(),
                Some(item) => item["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| match v.as_str() {
                        Some(s) => values.iter().position(|x| *x == s).unwrap(),
                        None => values.len(),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut out = BTreeSet::new();
    for &r in &allowed[0] {
        for &f in &allowed[1] {
            for &s in &allowed[2] {
                out.insert((r, f, s));
            }
        }
    }
    out
}

#[test]
fn diff_json_says_what_decided_and_its_patterns_cover_the_moved_classes() {
    let out = run(&["diff", SCORE_OLD, SCORE_NEW, "--format", "json"]);
    out.expect_code(0);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let cell = &v["cells"][0];
    assert_eq!(cell["more_classes"], 0);
    // By hand (tests/cli/score_conditions.rs counts them by brute force): risk
    // moderate (index 2) with function + support adding 2 or 3, or support unanswered
    // (3) with function good or fair.
    let moved: BTreeSet<(usize, usize, usize)> = [
        (2, 0, 2),
        (2, 1, 1),
        (2, 2, 0),
        (2, 1, 2),
        (2, 2, 1),
        (2, 0, 3),
        (2, 1, 3),
    ]
    .into();
    let mut union = BTreeSet::new();
    for e in cell["examples"].as_array().unwrap() {
        let classes = expand(&e["pattern"]);
        assert!(classes.is_subset(&moved), "{e}");
        assert_eq!(e["covers"].as_u64(), Some(classes.len() as u64));
        union.extend(classes);
        // OLD: the band gives mid (4 or 5 points, or 2..=4 with support unanswered:
        // only when it is settled can the band decide; otherwise the top of the range).
        let old = &e["old_decided"];
        assert!(
            (old["basis"] == "score" && old["score"]["level"] == "mid")
                || old["basis"] == "missing_answers",
            "{old}"
        );
        assert_eq!(e["new_decided"]["basis"], "rules");
        assert_eq!(
            e["new_decided"]["rules"],
            serde_json::json!(["total_and_risk_high"])
        );
        assert_eq!(
            e["new_deciding"],
            serde_json::json!(["total_and_risk_high"])
        );
    }
    assert_eq!(union, moved);
    let first = &cell["examples"][0];
    assert_eq!(
        first["old_decided"],
        serde_json::json!({"basis": "score", "rules": [], "score": {"level": "mid", "lowest_total": 4, "highest_total": 4}})
    );
}

#[test]
fn diff_lists_at_most_ten_patterns_and_counts_the_classes_of_the_rest() {
    let out = run(&["diff", DIAGONAL_OLD, DIAGONAL_NEW]);
    out.expect_code(0);
    // Twelve moved classes, none mergeable with another: ten listed, two more.
    assert!(out.stdout.contains(
        "    when a=9, b=9 (1 class)\n      OLD decided by: (no rule: lowest level)\n      NEW decided by: same_9\n    and 2 more classes in patterns not listed (at most 10 patterns are listed per change)\n"
    ), "{}", out.stdout);
    assert!(!out.stdout.contains("a=10"), "{}", out.stdout);
    snapshot!("diff_text_diagonal_more_classes", out.snapshot());

    let json = run(&["diff", DIAGONAL_OLD, DIAGONAL_NEW, "--format", "json"]);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    let cell = &v["cells"][0];
    assert_eq!(
        (cell["classes"].as_u64(), cell["more_classes"].as_u64()),
        (Some(12), Some(2))
    );
    let examples = cell["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 10);
    for (i, e) in examples.iter().enumerate() {
        assert_eq!(
            e["pattern"],
            serde_json::json!([
                {"factor": "a", "values": [i], "ranges": [[i, i]]},
                {"factor": "b", "values": [i], "ranges": [[i, i]]}
            ])
        );
        assert_eq!(e["old_decided"]["basis"], "lowest_level");
        assert_eq!(
            e["new_decided"]["rules"],
            serde_json::json!([format!("same_{i}")])
        );
    }

    let md = run(&["diff", DIAGONAL_OLD, DIAGONAL_NEW, "--format", "markdown"]);
    assert!(md.stdout.contains(
        "  - when `a=9, b=9 (1 class)`: old decided by no rule (lowest level), new decided by `same_9`\n  - and 2 more classes in patterns not listed (at most 10 patterns are listed per change)\n"
    ), "{}", md.stdout);
    let html = run(&["diff", DIAGONAL_OLD, DIAGONAL_NEW, "--format", "html"]);
    assert!(html.stdout.contains(
        "<tr><td colspan=\"3\">and 2 more classes in patterns not listed (at most 10 patterns are listed per change)</td></tr>"
    ), "{}", html.stdout);
}
