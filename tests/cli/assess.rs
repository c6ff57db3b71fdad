//! `carelevel assess`: reports in every format, overrides, stdin and bad answers.

use serde_json::Value;

use crate::util::{run, run_with_stdin, snapshot};

/// Every example answers file, with the level and flags its comments promise.
const EXAMPLES: &[(&str, &str, bool, bool)] = &[
    // (file, level, refer, needs_review)
    (
        "examples/answers/outpatient.yaml",
        "outpatient",
        false,
        false,
    ),
    ("examples/answers/iop.yaml", "iop", false, false),
    ("examples/answers/iop.json", "iop", false, false),
    ("examples/answers/iop-step-down.yaml", "iop", false, false),
    (
        "examples/answers/residential.yaml",
        "residential",
        false,
        false,
    ),
    ("examples/answers/missing.yaml", "residential", false, true),
    ("examples/answers/refer.yaml", "residential", true, false),
];

/// Snapshot name for an example file: `outpatient.yaml` -> `outpatient_yaml`.
fn stem(file: &str) -> String {
    file.rsplit('/').next().unwrap().replace(['.', '-'], "_")
}

#[test]
fn text_report_of_every_example() {
    for (file, level, _, _) in EXAMPLES {
        let out = run(&["assess", file]);
        out.expect_code(0);
        assert!(
            out.stdout.contains(&format!("({level})\n")),
            "{file}: expected {level}:\n{}",
            out.stdout
        );
        snapshot!(format!("assess_text_{}", stem(file)), out.snapshot());
    }
}

#[test]
fn json_of_every_example_is_the_assessment() {
    for (file, level, refer, needs_review) in EXAMPLES {
        let out = run(&["assess", file, "--format", "json"]);
        out.expect_code(0);
        assert_eq!(out.stderr, "");
        let doc: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(doc["level"]["id"], *level, "{file}");
        assert_eq!(doc["refer"], *refer, "{file}");
        assert_eq!(doc["needs_review"], *needs_review, "{file}");
        assert_eq!(doc["provenance"]["ruleset_id"], "default", "{file}");
    }
}

#[test]
fn yaml_of_every_example_matches_the_json() {
    for (file, ..) in EXAMPLES {
        let json = run(&["assess", file, "--format", "json"]);
        let yaml = run(&["assess", file, "--format", "yaml"]);
        yaml.expect_code(0);
        let from_json: Value = serde_json::from_str(&json.stdout).unwrap();
        let from_yaml: serde_yaml::Value = serde_yaml::from_str(&yaml.stdout).unwrap();
        assert_eq!(
            serde_json::to_value(from_yaml).unwrap(),
            from_json,
            "{file}"
        );
    }
}

#[test]
fn json_and_yaml_snapshots() {
    for (file, format) in [
        ("examples/answers/missing.yaml", "json"),
        ("examples/answers/refer.yaml", "json"),
        ("examples/answers/missing.yaml", "yaml"),
        ("examples/answers/residential.yaml", "yaml"),
    ] {
        let out = run(&["assess", file, "--format", format]);
        out.expect_code(0);
        snapshot!(format!("assess_{format}_{}", stem(file)), out.snapshot());
    }
}

/// The CLI's JSON is the library's assessment: the same document `assess_json` embeds.
#[test]
fn json_matches_the_library() {
    let answers =
        std::fs::read_to_string(crate::util::root().join("examples/answers/iop.json")).unwrap();
    let ruleset = carelevel::Ruleset::default_ruleset().unwrap();
    let library: Value =
        serde_json::from_str(&carelevel::json::assess_json(&ruleset, &answers)).unwrap();
    let out = run(&["assess", "examples/answers/iop.json", "--format", "json"]);
    let cli: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(library["ok"], true);
    assert_eq!(library["assessment"], cli);
}

#[test]
fn answer_flags_override_the_file() {
    let out = run(&[
        "assess",
        "examples/answers/outpatient.yaml",
        "--answer",
        "harm_risk=high",
        "-a",
        "readiness=resistant",
    ]);
    out.expect_code(0);
    assert!(out
        .stdout
        .starts_with("Recommended level: Residential (residential)\n"));
    snapshot!("assess_answer_overrides", out.snapshot());
}

#[test]
fn answer_flags_alone_with_another_ruleset() {
    let complete = run(&[
        "assess",
        "--rules",
        "examples/rulesets/six-levels.yaml",
        "-a",
        "use_severity=moderate",
        "-a",
        "ciwa_score=12",
        "-a",
        "complicated_withdrawal_history=false",
        "-a",
        "psychiatric=mild",
        "-a",
        "environment=mixed",
    ]);
    complete.expect_code(0);
    snapshot!("assess_six_levels_scored", complete.snapshot());

    let partial = run(&[
        "assess",
        "--rules",
        "examples/rulesets/six-levels.yaml",
        "-a",
        "use_severity=moderate",
        "-a",
        "ciwa_score=12",
        "-a",
        "psychiatric=mild",
    ]);
    partial.expect_code(0);
    snapshot!("assess_six_levels_missing", partial.snapshot());
}

#[test]
fn stdin_json_and_yaml() {
    let file = run(&["assess", "examples/answers/iop.json"]);
    file.expect_code(0);
    let json =
        std::fs::read_to_string(crate::util::root().join("examples/answers/iop.json")).unwrap();
    let from_json = run_with_stdin(&["assess", "-"], Some(&json));
    from_json.expect_code(0);
    assert_eq!(from_json.stdout, file.stdout);

    let yaml =
        std::fs::read_to_string(crate::util::root().join("examples/answers/iop.yaml")).unwrap();
    let from_yaml = run_with_stdin(&["assess", "-"], Some(&yaml));
    from_yaml.expect_code(0);
    assert_eq!(from_yaml.stdout, file.stdout);

    let with_override = run_with_stdin(&["assess", "-", "-a", "medical=unstable"], Some(&yaml));
    with_override.expect_code(0);
    assert!(with_override.stdout.contains("(residential)\n"));
}

#[test]
fn bad_answers_file_reports_every_problem() {
    let out = run(&["assess", "tests/cli/fixtures/bad-answers.yaml"]);
    out.expect_code(2);
    assert_eq!(out.stdout, "");
    // Unknown question with a suggestion, value outside the scale, wrong type.
    assert!(out.stderr.contains("did you mean `severity`?"));
    assert!(out
        .stderr
        .contains("`extreme` is not one of none, low, moderate, high, severe"));
    assert!(out.stderr.contains("expected true or false, got `maybe`"));
    snapshot!("assess_bad_answers_file", out.snapshot());
}

#[test]
fn bad_answer_flags_report_every_problem() {
    let out = run(&[
        "assess",
        "examples/answers/iop.yaml",
        "-a",
        "withdrawl_risk=low",
        "-a",
        "housing=castle",
        "-a",
        "step_down_from_inpatient=maybe",
    ]);
    out.expect_code(2);
    snapshot!("assess_bad_answer_flags", out.snapshot());
}

#[test]
fn bad_stdin_json() {
    let out = run_with_stdin(
        &["assess", "-"],
        Some(r#"{"severity": 3, "harm_risk": ["low"], "medical": null}"#),
    );
    out.expect_code(2);
    snapshot!("assess_bad_stdin_json", out.snapshot());
    let garbage = run_with_stdin(&["assess", "-"], Some("{\"severity\": "));
    garbage.expect_code(2);
    assert!(garbage
        .stderr
        .starts_with("carelevel: error: invalid answers"));
}

#[test]
fn usage_errors() {
    let no_answers = run(&["assess"]);
    no_answers.expect_code(2);
    assert!(no_answers
        .stderr
        .starts_with("carelevel: error: no answers given"));

    let malformed = run(&["assess", "-a", "severity"]);
    malformed.expect_code(2);
    snapshot!("assess_malformed_answer_flag", malformed.snapshot());

    let missing_file = run(&["assess", "examples/answers/nobody.yaml"]);
    missing_file.expect_code(2);
    snapshot!("assess_unreadable_file", missing_file.snapshot());

    let missing_rules = run(&["assess", "--rules", "nowhere.yaml", "-a", "severity=mild"]);
    missing_rules.expect_code(2);
    assert_eq!(
        missing_rules.stderr,
        "carelevel: error: cannot read ruleset `nowhere.yaml`: no such file\n"
    );
}

#[test]
fn invalid_rules_is_an_input_error() {
    let out = run(&[
        "assess",
        "--rules",
        "tests/cli/fixtures/semantic-errors.yaml",
        "-a",
        "housing=stable",
    ]);
    out.expect_code(2);
    assert_eq!(out.stdout, "");
    snapshot!("assess_invalid_rules", out.snapshot());
}

#[test]
fn required_answer_missing_is_an_input_error() {
    let out = run(&[
        "assess",
        "--rules",
        "tests/cli/fixtures/small.yaml",
        "-a",
        "risk=some",
    ]);
    out.expect_code(2);
    assert_eq!(
        out.stderr,
        "carelevel: error: cannot assess these answers: required answers are missing: alone\n"
    );
}

/// `.yml` is YAML; other extensions are sniffed: JSON when the text starts with `{`.
#[test]
fn answers_format_by_extension_and_content() {
    let expected = run(&["assess", "examples/answers/iop.json"]);
    for file in [
        "tests/cli/fixtures/iop-answers.yml",
        "tests/cli/fixtures/iop-answers.txt",
    ] {
        let out = run(&["assess", file]);
        out.expect_code(0);
        assert_eq!(out.stdout, expected.stdout, "{file}");
    }
}

/// On a terminal the refer banner is red; `NO_COLOR` and redirected output are plain.
#[cfg(unix)]
mod pty {
    use rexpect::session::spawn_command;

    use crate::util::{command, run};

    fn terminal_output(no_color: bool) -> String {
        let mut cmd = command(&["assess", "examples/answers/refer.yaml"]);
        cmd.env_remove("NO_COLOR").env("TERM", "xterm");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let mut p = spawn_command(cmd, Some(30_000)).unwrap();
        p.exp_eof().unwrap()
    }

    #[test]
    fn the_refer_banner_is_red_on_a_terminal() {
        let text = terminal_output(false);
        assert!(
            text.starts_with(&format!("\x1b[1;31m{}\x1b[0m", "=".repeat(80))),
            "{text:?}"
        );
        assert!(
            text.contains("\x1b[1;31mREFER FIRST: refer_severe_withdrawal"),
            "{text:?}"
        );
    }

    #[test]
    fn no_color_and_a_pipe_give_plain_text() {
        let text = terminal_output(true);
        assert!(!text.contains('\x1b'), "{text:?}");
        assert!(text.starts_with(&"=".repeat(80)), "{text:?}");
        let piped = run(&["assess", "examples/answers/refer.yaml"]);
        assert!(!piped.stdout.contains('\x1b'), "{:?}", piped.stdout);
        // The terminal turns line ends into CR LF.
        assert_eq!(text.replace("\r\n", "\n"), piped.stdout);
    }
}
