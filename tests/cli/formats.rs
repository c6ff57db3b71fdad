//! One `--format` vocabulary across subcommands (README "Output formats"): every
//! subcommand offers only names from it, and `yaml` wherever one structured document
//! is printed, holding the same document as `json`.

use crate::util::{run, snapshot};

/// The vocabulary: a name always means the same thing in every subcommand.
const VOCABULARY: &[&str] = &[
    "text",
    "json",
    "jsonl",
    "yaml",
    "csv",
    "markdown",
    "html",
    "junit",
    "guidance-response",
    "cds-card",
];

/// The `[possible values: ...]` clap lists for `--format bogus` after `prefix`.
fn possible_formats(prefix: &[&str]) -> Vec<String> {
    let mut args = prefix.to_vec();
    args.extend(["--format", "bogus"]);
    let out = run(&args);
    out.expect_code(2);
    let list = out
        .stderr
        .split("[possible values: ")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("no possible values for {prefix:?}: {}", out.stderr));
    list.split(", ").map(str::to_owned).collect()
}

#[test]
fn every_subcommand_offers_only_names_from_the_vocabulary() {
    let expected: &[(&[&str], &[&str])] = &[
        (
            &["assess"],
            &["text", "json", "yaml", "guidance-response", "cds-card"],
        ),
        (
            &["interview"],
            &["text", "json", "yaml", "guidance-response", "cds-card"],
        ),
        (&["reassess", "a", "b"], &["text", "json", "yaml"]),
        (&["check", "a"], &["text", "json", "yaml"]),
        (&["test", "a"], &["text", "json", "yaml", "junit"]),
        (
            &["diff", "a", "b"],
            &["text", "json", "yaml", "markdown", "html"],
        ),
        (&["describe"], &["text", "json", "yaml", "markdown", "html"]),
        (
            &["batch", "a"],
            &["jsonl", "csv", "guidance-response", "cds-card"],
        ),
        (&["log", "export", "a"], &["jsonl", "csv"]),
        (
            &["log", "replay", "a", "--rules", "b"],
            &["text", "json", "yaml"],
        ),
    ];
    for (prefix, formats) in expected {
        let offered = possible_formats(prefix);
        for name in &offered {
            assert!(
                VOCABULARY.contains(&name.as_str()),
                "{prefix:?} offers `{name}`, not in the vocabulary"
            );
        }
        assert_eq!(&offered, formats, "{prefix:?}");
    }
}

/// Run `args` with `--format json` and `--format yaml`: same exit code, empty stderr
/// alike, and the YAML is the JSON document.
fn yaml_is_the_json_document(args: &[&str], code: i32) -> crate::util::Run {
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let mut yaml_args = args.to_vec();
    yaml_args.extend(["--format", "yaml"]);
    let json = run(&json_args);
    let yaml = run(&yaml_args);
    json.expect_code(code);
    yaml.expect_code(code);
    assert_eq!(json.stderr, yaml.stderr);
    let from_json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let from_yaml: serde_json::Value = serde_yaml::from_str(&yaml.stdout).unwrap();
    assert_eq!(from_yaml, from_json, "{args:?}");
    yaml
}

#[test]
fn reassess_yaml() {
    let out = yaml_is_the_json_document(
        &[
            "reassess",
            "examples/reassess/admission.yaml",
            "examples/reassess/week-4.yaml",
        ],
        0,
    );
    snapshot!("formats_reassess_yaml", out.snapshot());
}

#[test]
fn check_yaml() {
    let out = yaml_is_the_json_document(
        &[
            "check",
            "tests/cli/fixtures/small.yaml",
            "tests/cli/fixtures/no-such.yaml",
        ],
        2,
    );
    snapshot!("formats_check_yaml", out.snapshot());
}

#[test]
fn test_yaml() {
    let out = yaml_is_the_json_document(&["test", "tests/cli/fixtures/partial.test.yaml"], 0);
    snapshot!("formats_test_yaml", out.snapshot());
}

#[test]
fn diff_yaml() {
    let out = yaml_is_the_json_document(
        &[
            "diff",
            "tests/cli/fixtures/small.yaml",
            "tests/cli/fixtures/small-changed.yaml",
        ],
        0,
    );
    snapshot!("formats_diff_yaml", out.snapshot());
}

#[test]
fn describe_yaml() {
    let out =
        yaml_is_the_json_document(&["describe", "--rules", "tests/cli/fixtures/small.yaml"], 0);
    snapshot!("formats_describe_yaml", out.snapshot());
}
