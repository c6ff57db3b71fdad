//! `carelevel diff` and the whole-space side of `carelevel check`.

use crate::util::{run, snapshot};

const OLD: &str = "rules/default.yaml";
const NEW: &str = "examples/policy-change/default-1.1.yaml";

#[test]
fn diff_text_report_of_the_policy_change() {
    let out = run(&["diff", OLD, NEW]);
    out.expect_code(0);
    assert!(out.stdout.contains(
        "Summary: 432 of 460800 answer-set classes change level (432 escalations, 0 de-escalations, 0 other)"
    ));
    snapshot!("diff_text_policy_change", out.snapshot());
}

#[test]
fn diff_markdown_with_cases() {
    let out = run(&[
        "diff",
        OLD,
        NEW,
        "--format",
        "markdown",
        "--cases",
        "examples/cases/people.jsonl",
    ]);
    out.expect_code(0);
    snapshot!("diff_markdown_policy_change_cases", out.snapshot());
}

#[test]
fn diff_json_is_the_report_with_summary() {
    let out = run(&[
        "diff",
        OLD,
        NEW,
        "--format",
        "json",
        "--cases",
        "examples/cases/people.jsonl",
    ]);
    out.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["classes"], 460800);
    assert_eq!(v["escalations"], 432);
    assert_eq!(v["de_escalations"], 0);
    let total: u64 = v["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(total, 460800);
    let cases: u64 = v["case_matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(cases, 40, "every case is counted");
    assert_eq!(v["case_errors"], serde_json::json!([]));
    assert_eq!(v["cells"][0]["examples"][0]["covers"], 432);
}

#[test]
fn csv_and_jsonl_cases_count_the_same() {
    let json = |cases: &str| {
        let out = run(&["diff", OLD, NEW, "--format", "json", "--cases", cases]);
        out.expect_code(0);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        v["case_matrix"].clone()
    };
    assert_eq!(
        json("examples/cases/people.csv"),
        json("examples/cases/people.jsonl")
    );
}

#[test]
fn fail_on_gates_by_direction() {
    run(&["diff", OLD, NEW, "--fail-on", "escalation"]).expect_code(1);
    run(&["diff", OLD, NEW, "--fail-on", "any"]).expect_code(1);
    run(&["diff", OLD, NEW, "--fail-on", "de-escalation"]).expect_code(0);
    // Reversed, the escalations become de-escalations.
    run(&["diff", NEW, OLD, "--fail-on", "de-escalation"]).expect_code(1);
}

#[test]
fn diff_of_a_ruleset_with_itself_reports_no_change() {
    let out = run(&["diff", OLD, OLD, "--fail-on", "any"]);
    out.expect_code(0);
    assert!(out.stdout.contains("No answer set changes level."));
    assert!(out.stdout.contains("No flag changes."));
    assert!(out
        .stdout
        .contains("Summary: 0 of 460800 answer-set classes change level"));
}

#[test]
fn rulesets_of_different_shapes_are_compared_with_notes() {
    let out = run(&[
        "diff",
        "tests/cli/fixtures/small.yaml",
        "tests/cli/fixtures/small-reshaped.yaml",
    ]);
    out.expect_code(0);
    assert!(out
        .stdout
        .contains("Note: factor `alone` is asked only by OLD; NEW ignores its answer"));
    assert!(out.stdout.contains("Note: level `mid` exists only in NEW"));
    snapshot!("diff_different_shapes", out.snapshot());
}

#[test]
fn incomparable_rulesets_are_explained() {
    let out = run(&[
        "diff",
        "tests/cli/fixtures/small.yaml",
        "tests/cli/fixtures/small-rescaled.yaml",
    ]);
    out.expect_code(2);
    assert_eq!(
        out.stderr,
        "carelevel: error: the rulesets cannot be compared: factor `risk` takes none, some, lots in OLD but none, low, some, lots in NEW\n"
    );
}

#[test]
fn check_reports_whole_space_findings_with_examples() {
    let out = run(&["check", "tests/cli/fixtures/non-monotone.yaml"]);
    // The failed invariant is an error; monotonicity is a warning without --strict.
    out.expect_code(1);
    assert!(out
        .stdout
        .contains("warning: not monotone: raising `support` from limited to none"));
    snapshot!("check_non_monotone", out.snapshot());
    let strict = run(&["check", "--strict", "tests/cli/fixtures/non-monotone.yaml"]);
    strict.expect_code(1);
    assert!(strict.stdout.contains("error: not monotone"));
}

#[test]
fn coverage_lists_unexercised_rules_with_suggested_cases() {
    let out = run(&["test", "--coverage", "tests/cli/fixtures/partial.test.yaml"]);
    out.expect_code(0);
    assert!(out.stdout.contains("rules: 0 of 2 exercised"));
    assert!(out
        .stdout
        .contains("rule `lots_of_risk_high` (tests/cli/fixtures/small.yaml:14) is not exercised"));
    snapshot!("test_coverage_partial", out.snapshot());
    let full = run(&["test", "--coverage", "rules/default.test.yaml"]);
    full.expect_code(0);
    assert!(full.stdout.contains("rules: 17 of 17 exercised"));
    assert!(full.stdout.contains("flags: 8 of 8 exercised"));
    assert!(full.stdout.contains("levels: 3 of 3 exercised"));
}

#[test]
fn explain_shows_the_answers_the_level_hinges_on() {
    let out = run(&["assess", "--explain", "examples/answers/iop.yaml"]);
    out.expect_code(0);
    snapshot!("assess_explain_iop", out.snapshot());
    let json = run(&[
        "assess",
        "--explain",
        "--format",
        "json",
        "examples/answers/iop.yaml",
    ]);
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["assessment"]["level"]["id"], "iop");
    let severity = v["hinges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["factor"] == "severity")
        .unwrap();
    assert_eq!(severity["up"], serde_json::json!(["severe", "residential"]));
}
