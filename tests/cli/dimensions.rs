//! The justification per dimension: the text report's "By dimension" section, the
//! JSON `dimensions` section (only with declared dimensions), `describe`, and errors.

use serde_json::Value;

use crate::util::{run, snapshot};

const RULES: &str = "tests/cli/fixtures/dimensions.yaml";

#[test]
fn the_text_report_gives_each_dimension_a_summary() {
    let out = run(&["assess", "--rules", RULES, "--answer", "withdrawal=severe"]);
    out.expect_code(0);
    // `support` unanswered: the withdrawal dimension calls for mid care for sure, and
    // could rise to high care; the untagged rule is in no dimension.
    assert!(out.stdout.contains(
        "  - Withdrawal potential: withdrawal = severe; calls for Mid care because rule\n    \
         withdrawal_moderate_mid fired, or up to High care depending on unanswered\n    \
         questions; flag refer_severe raised\n"
    ));
    assert!(out.stdout.contains(
        "  - Recovery environment: not answered: support; calls for Low, the lowest level\n"
    ));
    snapshot!("dimensions_assess_text", out.snapshot());
}

#[test]
fn the_json_section_is_there_only_when_the_ruleset_declares_dimensions() {
    let out = run(&[
        "assess",
        "--rules",
        RULES,
        "--answer",
        "withdrawal=moderate",
        "--answer",
        "support=none",
        "--format",
        "json",
    ]);
    out.expect_code(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let dims = doc["dimensions"].as_array().unwrap();
    assert_eq!(dims.len(), 2);
    assert_eq!(dims[0]["id"], "withdrawal");
    assert_eq!(
        dims[0]["fired_rules"],
        serde_json::json!(["withdrawal_moderate_mid", "withdrawal_unsupported_high"])
    );
    assert_eq!(dims[0]["level"]["id"], "high");
    assert_eq!(dims[1]["level"]["id"], "mid");
    assert_eq!(dims[1]["answers"][0]["factor"], "support");
    assert_eq!(dims[1]["answers"][0]["value"], "none");
    assert_eq!(dims[1]["answers"][0]["assumed"], false);
    assert_eq!(doc["level"]["id"], "high");

    // A ruleset without dimensions: no section at all.
    let plain = [
        "assess",
        "--rules",
        "tests/cli/fixtures/small.yaml",
        "--answer",
        "risk=lots",
        "--answer",
        "alone=false",
    ];
    let out = run(&[&plain[..], &["--format", "json"]].concat());
    out.expect_code(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(doc.get("dimensions").is_none());
    assert_eq!(doc["level"]["id"], "high");
    let out = run(&plain);
    out.expect_code(0);
    assert!(!out.stdout.contains("By dimension"));
}

#[test]
fn describe_lists_dimensions_and_each_items_dimension() {
    let out = run(&["describe", "--rules", RULES]);
    out.expect_code(0);
    snapshot!("dimensions_describe_text", out.snapshot());
    let out = run(&["describe", "--rules", RULES, "--format", "markdown"]);
    out.expect_code(0);
    assert!(out
        .stdout
        .contains("- **Dimension:** Withdrawal potential (withdrawal)\n"));
    snapshot!("dimensions_describe_markdown", out.snapshot());
    let out = run(&["describe", "--rules", RULES, "--format", "json"]);
    out.expect_code(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        doc["dimensions"][0]["rules"],
        serde_json::json!(["withdrawal_moderate_mid", "withdrawal_unsupported_high"])
    );
    assert_eq!(doc["factors"][1]["dimension"], "environment");
    assert!(doc["factors"][2].get("dimension").is_none());
}

#[test]
fn an_unknown_dimension_is_an_error_at_its_line() {
    let out = run(&["check", "tests/cli/fixtures/dimensions-unknown.yaml"]);
    out.expect_code(1);
    snapshot!("dimensions_check_unknown", out.snapshot());
}

/// A dimension's label and description from the ruleset are escaped in every text
/// output (the summary carries the label), and kept exact in JSON.
#[test]
fn dimension_texts_cannot_act_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(crate::util::root().join(RULES)).unwrap();
    let nasty = r"\e[2J\u202e";
    let text = text
        .replace(
            "label: \"Withdrawal potential\"",
            &format!("label: \"Withdrawal {nasty}\""),
        )
        .replace(
            "\"How dangerous withdrawal would be.\"",
            &format!("\"Danger {nasty}\""),
        );
    assert_eq!(text.matches(nasty).count(), 2, "fixture changed");
    let path = dir.path().join("nasty.yaml");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    let shown = r"Withdrawal \u{1b}[2J\u{202e}";
    for args in [
        vec!["assess", "--rules", path, "--answer", "withdrawal=moderate"],
        vec!["describe", "--rules", path],
        vec!["describe", "--rules", path, "--format", "markdown"],
        vec!["describe", "--rules", path, "--format", "html"],
    ] {
        let out = run(&args);
        out.expect_code(0);
        assert!(
            !out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{202e}'),
            "{args:?}: {}",
            out.stdout
        );
        if args[0] == "assess" || args.len() == 3 {
            assert!(out.stdout.contains(shown), "{args:?}: {}", out.stdout);
        }
    }
    let out = run(&[
        "assess",
        "--rules",
        path,
        "--answer",
        "withdrawal=moderate",
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        doc["dimensions"][0]["label"],
        "Withdrawal \u{1b}[2J\u{202e}"
    );
}

/// `check` notes every question, rule and flag that names no dimension; notes never
/// fail it, even under `--strict`.
#[test]
fn check_notes_items_without_a_dimension() {
    let out = run(&["check", "--strict", RULES]);
    out.expect_code(0);
    assert!(out.stdout.contains(
        "tests/cli/fixtures/dimensions.yaml:22:5: note: question `other` names no dimension"
    ));
    assert!(out.stdout.contains(
        "tests/cli/fixtures/dimensions.yaml:27:5: note: rule `other_high` names no dimension"
    ));
    assert_eq!(out.stdout.matches("names no dimension").count(), 2);
    let out = run(&["check", "rules/default.yaml"]);
    out.expect_code(0);
    assert!(!out.stdout.contains("names no dimension"));
}
