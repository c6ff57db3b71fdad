//! `carelevel test`: the bundled test file passes; failures show expected vs actual.

use crate::util::{run, snapshot};

#[test]
fn bundled_test_file_passes() {
    let out = run(&["test", "rules/default.test.yaml"]);
    out.expect_code(0);
    assert_eq!(out.stderr, "");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "rules/default.test.yaml: {} cases against rules/default.yaml",
            lines.len() - 2
        )
    );
    for line in &lines[1..lines.len() - 1] {
        assert!(line.starts_with("PASS  "), "{line}");
    }
    let summary = lines[lines.len() - 1];
    assert_eq!(summary, format!("{} passed, 0 failed", lines.len() - 2));
}

#[test]
fn example_test_file_passes_too() {
    let out = run(&[
        "test",
        "examples/rulesets/six-levels.test.yaml",
        "rules/default.test.yaml",
    ]);
    out.expect_code(0);
    assert!(out.stdout.ends_with(" 0 failed\n"));
}

#[test]
fn failing_cases_show_expected_and_actual() {
    let out = run(&["test", "tests/cli/fixtures/failing.test.yaml"]);
    out.expect_code(1);
    assert!(out.stdout.contains("      level: expected low, got high\n"));
    assert!(out.stdout.ends_with("\n1 passed, 3 failed\n"));
    snapshot!("test_failing", out.snapshot());
}

#[test]
fn ruleset_that_does_not_compile_fails_its_cases() {
    let out = run(&[
        "test",
        "tests/cli/fixtures/broken-ruleset.test.yaml",
        "tests/cli/fixtures/failing.test.yaml",
    ]);
    out.expect_code(1);
    assert!(out.stdout.ends_with("\n1 passed, 4 failed\n"));
    snapshot!("test_broken_ruleset", out.snapshot());
}

#[test]
fn invalid_test_file_is_rendered_like_check() {
    // A ruleset is not a test file: `cases` is missing.
    let out = run(&["test", "tests/cli/fixtures/small.yaml"]);
    out.expect_code(1);
    assert!(out.stdout.ends_with("\n0 passed, 1 failed\n"));
    snapshot!("test_invalid_test_file", out.snapshot());
}

#[test]
fn unreadable_test_file_is_an_input_error() {
    let out = run(&["test", "tests/cli/fixtures/nothing.test.yaml"]);
    out.expect_code(2);
    assert_eq!(
        out.stdout,
        "FAIL  tests/cli/fixtures/nothing.test.yaml: cannot be read\n0 passed, 1 failed\n"
    );
    assert_eq!(
        out.stderr,
        "carelevel: error: cannot read test file `tests/cli/fixtures/nothing.test.yaml`: no such file\n"
    );
}

/// With one unreadable file among good ones, the summary counts it as failed (it said
/// "57 passed, 0 failed" while exiting 2).
#[test]
fn an_unreadable_file_among_good_ones_is_counted_as_failed() {
    let out = run(&[
        "test",
        "rules/default.test.yaml",
        "tests/cli/fixtures/nothing.test.yaml",
    ]);
    out.expect_code(2);
    let last = out.stdout.lines().last().unwrap();
    assert!(last.ends_with(" passed, 1 failed"), "{}", out.stdout);
    assert!(!last.starts_with("0 "), "{}", out.stdout);
}
