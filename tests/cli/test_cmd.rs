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

/// One XML element: depth, name and attributes.
type Element = (usize, String, Vec<(String, String)>);

/// Every element of a JUnit XML document, as (depth, name, attributes), after checking
/// it is well-formed.
fn junit_elements(text: &str) -> Vec<Element> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0;
    let mut elements = Vec::new();
    loop {
        let event = reader.read_event().expect("well-formed XML");
        let mut element = |e: &quick_xml::events::BytesStart<'_>, depth: usize| {
            let attrs = e
                .attributes()
                .map(|a| {
                    let a = a.unwrap();
                    (
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.normalized_value(quick_xml::XmlVersion::default())
                            .unwrap()
                            .into_owned(),
                    )
                })
                .collect();
            elements.push((
                depth,
                String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                attrs,
            ));
        };
        match event {
            Event::Start(e) => {
                element(&e, depth);
                depth += 1;
            }
            Event::Empty(e) => element(&e, depth),
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
    elements
}

#[test]
fn junit_xml_is_well_formed_with_one_testcase_per_case() {
    let out = run(&[
        "test",
        "--format",
        "junit",
        "tests/cli/fixtures/failing.test.yaml",
        "tests/cli/fixtures/broken-ruleset.test.yaml",
        "tests/cli/fixtures/no-such.test.yaml",
    ]);
    out.expect_code(2);
    let elements = junit_elements(&out.stdout);
    let names: Vec<(usize, &str)> = elements.iter().map(|(d, n, _)| (*d, n.as_str())).collect();
    assert_eq!(
        names,
        [
            (0, "testsuites"),
            (1, "testsuite"),
            (2, "testcase"),
            (2, "testcase"),
            (3, "failure"),
            (2, "testcase"),
            (3, "error"),
            (2, "testcase"),
            (3, "error"),
            (1, "testsuite"),
            (2, "testcase"),
            (3, "error"),
            (1, "testsuite"),
            (2, "testcase"),
            (3, "error"),
        ]
    );
    let attr = |i: usize, key: &str| {
        elements[i]
            .2
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        (attr(0, "tests"), attr(0, "failures"), attr(0, "errors")),
        ("6".to_owned(), "1".to_owned(), "4".to_owned())
    );
    assert!(attr(4, "message").starts_with("level: expected low, got high"));
    snapshot!("test_junit", out.snapshot());
}

#[test]
fn json_report_has_every_case_and_the_totals() {
    let out = run(&[
        "test",
        "--format",
        "json",
        "--coverage",
        "tests/cli/fixtures/failing.test.yaml",
    ]);
    out.expect_code(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(1), Some(3))
    );
    let statuses: Vec<&str> = v["files"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["passed", "failed", "error", "error"]);
    snapshot!("test_json", out.snapshot());
}

#[test]
fn fail_under_fails_a_build_whose_coverage_is_too_low() {
    let partial = "tests/cli/fixtures/partial.test.yaml";
    // 1 of 2 levels, 0 of 2 rules, 0 of 1 flag: 20%.
    let low = run(&["test", "--coverage", "--fail-under", "90", partial]);
    low.expect_code(1);
    assert_eq!(
        low.stderr,
        "carelevel: error: coverage of tests/cli/fixtures/small.yaml is 20.0%, under --fail-under 90%\n"
    );
    run(&["test", "--coverage", "--fail-under", "20", partial]).expect_code(0);
    let bad = run(&["test", "--coverage", "--fail-under", "101", partial]);
    bad.expect_code(2);
    assert!(
        bad.stderr.contains("not a percentage from 0 to 100"),
        "{}",
        bad.stderr
    );
    let without = run(&["test", "--fail-under", "50", partial]);
    without.expect_code(2);
    assert!(without.stderr.contains("--coverage"), "{}", without.stderr);
}
