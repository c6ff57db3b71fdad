//! The bundled test suites pass through the library's own runner.

use carelevel::testing::{CaseOutcome, TestSuite};
use carelevel::Ruleset;

fn run_suite(test_path: &str) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
    let text = std::fs::read_to_string(format!("{root}{test_path}")).unwrap();
    let suite = TestSuite::from_yaml(&text).unwrap();
    let dir = std::path::Path::new(test_path).parent().unwrap();
    let rules_text = std::fs::read_to_string(format!(
        "{root}{}",
        dir.join(suite.ruleset_path()).display()
    ))
    .unwrap();
    let ruleset = Ruleset::from_yaml(&rules_text).unwrap_or_else(|e| panic!("{e}"));
    let report = suite.run(&ruleset);
    let failures: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| match &r.outcome {
            CaseOutcome::Failed(m) => format!("{}: {m:?}", r.name),
            CaseOutcome::Error(e) => format!("{}: {e}", r.name),
            CaseOutcome::Passed => unreachable!(),
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(report.passed() >= 15);
}

#[test]
fn default_suite_passes() {
    run_suite("rules/default.test.yaml");
}

#[test]
fn six_level_suite_passes() {
    run_suite("examples/rulesets/six-levels.test.yaml");
}
