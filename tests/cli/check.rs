//! `carelevel check`: valid rulesets, syntax errors, many semantic errors at once.

use crate::util::{run, snapshot};

#[test]
fn bundled_and_example_rulesets_are_ok() {
    let out = run(&[
        "check",
        "rules/default.yaml",
        "examples/rulesets/six-levels.yaml",
    ]);
    out.expect_code(0);
    assert_eq!(out.stderr, "");
    snapshot!("check_ok", out.snapshot());
}

#[test]
fn yaml_syntax_error_has_line_and_column() {
    let out = run(&["check", "tests/cli/fixtures/syntax-error.yaml"]);
    out.expect_code(1);
    assert!(out
        .stdout
        .starts_with("tests/cli/fixtures/syntax-error.yaml:11:1: error: "));
    snapshot!("check_syntax_error", out.snapshot());
}

#[test]
fn every_semantic_error_with_a_caret() {
    let out = run(&["check", "tests/cli/fixtures/semantic-errors.yaml"]);
    out.expect_code(1);
    for needle in [
        "unknown factor `withdrawal`",
        "undeclared level `inpatient`",
        "duplicate rule id `homeless_residential`",
        "gap: values 10 to 18 are in no band",
        "did you mean `homeless`?",
        "  28 |         - housing: {is: homelss}\n     |                     ^\n",
    ] {
        assert!(
            out.stdout.contains(needle),
            "missing {needle:?}:\n{}",
            out.stdout
        );
    }
    snapshot!("check_semantic_errors", out.snapshot());
}

#[test]
fn unreadable_file_wins_over_errors() {
    let out = run(&[
        "check",
        "rules/default.yaml",
        "tests/cli/fixtures/semantic-errors.yaml",
        "tests/cli/fixtures/no-such-file.yaml",
    ]);
    out.expect_code(2);
    assert_eq!(
        out.stderr,
        "carelevel: error: cannot read ruleset `tests/cli/fixtures/no-such-file.yaml`: no such file\n"
    );
    // The whole-space notes for the default come first, then its `ok` line.
    assert!(
        out.stdout.contains("\nrules/default.yaml: ok ("),
        "{}",
        out.stdout
    );
}

#[test]
fn a_url_that_is_not_an_absolute_uri_is_an_error_at_its_line() {
    let out = run(&["check", "tests/cli/fixtures/bad-url.yaml"]);
    out.expect_code(1);
    assert!(
        out.stdout
            .starts_with("tests/cli/fixtures/bad-url.yaml:6:1: error: url: `example.org/rules|2` is not an absolute URI: it has no scheme"),
        "{}",
        out.stdout
    );
    snapshot!("check_bad_url", out.snapshot());
}

/// 4 integer factors cut into 41 classes each by 250 two-factor rules (issue 8,
/// item 6): 2.8 M classes, a file of about 30 KB within every size limit.
fn integer_grid_ruleset() -> String {
    let mut text = String::from(
        "id: grid\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  \
         - {id: low, label: L, description: d}\n  - {id: mid, label: M, description: d}\n  \
         - {id: high, label: H, description: d}\nfactors:\n",
    );
    for f in 0..4 {
        text.push_str(&format!(
            "  - {{id: f{f}, kind: integer, min: 0, max: 1000, question: q}}\n"
        ));
    }
    text.push_str("rules:\n");
    for r in 0..250 {
        let (a, b) = (r % 4, (r + 1 + r / 7 % 3) % 4);
        // Thresholds 1..=40 of 41 per factor: each factor gets 41 classes.
        let (ta, tb) = (1 + (r / 4) % 40, 1 + (r * 7) % 40);
        let level = if r % 2 == 0 { "mid" } else { "high" };
        text.push_str(&format!(
            "  - {{id: r{r}, level: {level}, because: b, when: {{all: [{{f{a}: {{at_least: {}}}}}, {{f{b}: {{at_least: {}}}}}]}}}}\n",
            ta * 24,
            tb * 24
        ));
    }
    text
}

#[test]
fn an_analysis_past_its_work_budget_is_refused_up_front_with_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grid.yaml");
    std::fs::write(&path, integer_grid_ruleset()).unwrap();
    let file = path.to_str().unwrap();
    // `diff` enumerates, and cannot compare (2).
    let out = run(&["diff", file, file]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("comparing every answer set would take up to "),
        "{all}"
    );
    assert!(all.contains("above the limit of 2000000000"), "{all}");
    assert!(all.contains("(41 classes)"), "{all}");
    assert!(
        all.contains("Fewer distinct integer thresholds"),
        "says what makes it smaller: {all}"
    );
    out.expect_code(2);
}

#[test]
fn check_takes_on_decision_diagrams_what_the_enumeration_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grid.yaml");
    std::fs::write(&path, integer_grid_ruleset()).unwrap();
    let file = path.to_str().unwrap();
    // 41^4 classes, 1001^4 complete answers: both counted, each named.
    let out = run(&["check", file]);
    assert!(
        out.stdout.contains(
            "2825761 answer-set classes, 1004006004001 complete answer combinations checked"
        ),
        "{}",
        out.stdout
    );
    let out = run(&["check", "--format", "json", file]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let f = &json["files"][0];
    assert_eq!(f["classes"], 2_825_761);
    assert_eq!(f["combinations"], 1_004_006_004_001u64);
    assert_eq!(f["method"], "diagram");
}

#[test]
fn json_format_gives_every_file_its_status_and_findings() {
    let out = crate::util::run(&[
        "check",
        "--format",
        "json",
        "tests/cli/fixtures/small.yaml",
        "tests/cli/fixtures/semantic-errors.yaml",
        "tests/cli/fixtures/no-such.yaml",
    ]);
    out.expect_code(2);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let statuses: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ok", "failed", "unreadable"]);
    assert_eq!(v["files"][1]["errors"], 5);
    crate::util::snapshot!("check_json", out.snapshot());
}

/// A copy of the bundled default with an edit but the same `version:`: `check` warns
/// (against the bundled default, and between two files given), `--strict` fails, and
/// `diff` warns, notes it and shows both hashes in its header.
#[test]
fn a_changed_ruleset_with_an_unchanged_version_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let edited = dir.path().join("edited.yaml");
    let default = std::fs::read_to_string(crate::util::root().join("rules/default.yaml")).unwrap();
    std::fs::write(&edited, format!("{default}# an edit\n")).unwrap();
    let edited = edited.to_str().unwrap();

    let out = run(&["check", edited]);
    out.expect_code(0);
    assert!(
        out.stdout.starts_with(&format!(
            "{edited}: warning: version: `default 1.1.0` is also the id and version of the bundled default ruleset, but the content differs (sha256 "
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("9 invariants proved, 1 warning)"),
        "{}",
        out.stdout
    );
    // The unchanged bundled file is the bundled default: no warning for it alone.
    let same = run(&["check", "rules/default.yaml"]);
    assert!(!same.stdout.contains("warning"), "{}", same.stdout);
    // Two files given: the second is warned about against the first.
    let both = run(&["check", edited, "rules/default.yaml"]);
    assert!(
        both.stdout.contains(&format!(
            "rules/default.yaml: warning: version: `default 1.1.0` is also the id and version of `{edited}`"
        )),
        "{}",
        both.stdout
    );
    let strict = run(&["check", "--strict", edited]);
    strict.expect_code(1);
    assert!(
        strict
            .stdout
            .starts_with(&format!("{edited}: error: version: ")),
        "{}",
        strict.stdout
    );

    let diff = run(&["diff", "rules/default.yaml", edited]);
    diff.expect_code(0);
    assert!(
        diff.stderr.starts_with(
            "carelevel: warning: OLD and NEW are both `default 1.1.0` but their content differs (sha256 "
        ),
        "{}",
        diff.stderr
    );
    let header = diff.stdout.lines().next().unwrap();
    let hashes: Vec<&str> = header
        .split("(sha256 ")
        .skip(1)
        .map(|h| h.split(')').next().unwrap())
        .collect();
    assert_eq!(hashes.len(), 2, "{header}");
    assert_ne!(hashes[0], hashes[1], "{header}");
    assert!(
        diff.stdout.contains(
            "Note: OLD and NEW both say they are `default 1.1.0` but their content differs"
        ),
        "{}",
        diff.stdout
    );
}

/// `--strict` turns every warning into an error, not only monotonicity: here a rule
/// that never decides. Notes stay notes.
#[test]
fn strict_makes_every_warning_an_error() {
    let file = "tests/cli/fixtures/never-decides.yaml";
    let plain = run(&["check", file]);
    plain.expect_code(0);
    assert!(
        plain.stdout.starts_with(&format!(
            "{file}:22:5: warning: rule `high_risk_mid` never decides"
        )),
        "{}",
        plain.stdout
    );
    let strict = run(&["check", "--strict", file]);
    strict.expect_code(1);
    snapshot!("check_strict_never_decides", strict.snapshot());
    assert!(
        strict.stdout.contains(": note: 1 of 3"),
        "{}",
        strict.stdout
    );
    let json = run(&["check", "--strict", "--format", "json", file]);
    json.expect_code(1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["files"][0]["status"], "failed");
    assert_eq!(v["files"][0]["errors"], 1);
    assert_eq!(v["files"][0]["warnings"], 0);
}
