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
