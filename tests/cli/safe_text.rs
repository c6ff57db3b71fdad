//! Text from input never acts on a terminal or hides in a CSV cell, and excerpts are
//! capped (issue 8, item 10); a test file's `ruleset:` cannot print another file
//! (item 11). Every human-facing output is scanned for the characters that
//! `carelevel::text` escapes: none may be left but the line breaks of the output.

use std::path::Path;

use carelevel::text::needs_escape;

use crate::util::{root, run, run_with_stdin};

/// ESC, NUL, DEL, a C1 control, a right-to-left override and an isolate.
const NASTY: &str = "\u{1b}[2J\u{1b}]0;owned\u{7}x\u{0}y\u{7f}\u{9b}\u{202e}\u{2066}";
/// `NASTY` as JSON string escapes.
const NASTY_JSON: &str = r"\u001b[2J\u001b]0;owned\u0007x\u0000y\u007f\u009b\u202e\u2066";
/// `NASTY` as `carelevel::text` shows it.
const NASTY_SHOWN: &str = r"\u{1b}[2J\u{1b}]0;owned\u{7}x\u{0}y\u{7f}\u{9b}\u{202e}\u{2066}";

/// Panic unless `text` is free of every character `carelevel::text` escapes, line
/// breaks (`\n`, and `\r\n` in CSV) aside.
fn assert_clean(what: &str, text: &str) {
    let bad: Vec<(usize, char)> = text
        .replace("\r\n", "\n")
        .chars()
        .enumerate()
        .filter(|&(_, c)| c != '\n' && needs_escape(c))
        .collect();
    assert!(bad.is_empty(), "{what}: raw characters {bad:?} in:\n{text}");
}

/// The small fixture ruleset with `NASTY` in a label, a `because`, a flag message, a
/// question and the title (YAML double-quoted escapes).
fn nasty_ruleset(dir: &Path) -> String {
    let text = std::fs::read_to_string(root().join("tests/cli/fixtures/small.yaml")).unwrap();
    let yaml_nasty = r"\e[2J\e]0;owned\ax\0y\x7f\x9b\u202e\u2066";
    let text = text
        .replace(
            "\"Lots of risk needs high care.\"",
            &format!("\"Lots {yaml_nasty} of risk.\""),
        )
        .replace(
            "label: \"High care\"",
            &format!("label: \"High {yaml_nasty}\""),
        )
        .replace("\"Lives alone.\"", &format!("\"Alone {yaml_nasty}\""))
        .replace(
            "\"How high is the risk?\"",
            &format!("\"Risk {yaml_nasty}?\""),
        )
        .replace(
            "title: \"Small\"",
            &format!("title: \"Small {yaml_nasty}\""),
        );
    assert_eq!(text.matches(yaml_nasty).count(), 5, "fixture changed");
    let path = dir.join("nasty.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn ruleset_texts_are_escaped_in_the_report_describe_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let rules = nasty_ruleset(dir.path());
    let out = run_with_stdin(
        &["assess", "--rules", &rules, "-"],
        Some(r#"{"risk": "lots", "alone": true}"#),
    );
    out.expect_code(0);
    assert_clean("assess", &out.stdout);
    // Each text is shown, escaped: nothing is dropped.
    assert_eq!(out.stdout.matches(NASTY_SHOWN).count(), 3, "{}", out.stdout);
    assert!(out
        .stdout
        .contains(&format!("Recommended level: High {NASTY_SHOWN} (high)")));

    let out = run(&["describe", "--rules", &rules]);
    out.expect_code(0);
    assert_clean("describe", &out.stdout);
    assert!(out.stdout.contains(&format!("Small {NASTY_SHOWN}")));
    assert!(out.stdout.contains(&format!("2. high: High {NASTY_SHOWN}")));
    assert!(out.stdout.contains(&format!("Risk {NASTY_SHOWN}?")));

    // JSON keeps the exact text (control characters escaped the JSON way).
    let out = run(&["describe", "--rules", &rules, "--format", "json"]);
    out.expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["levels"][1]["label"], format!("High {NASTY}"));
}

#[test]
fn test_case_names_and_errors_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/cli/fixtures/small.yaml"),
        dir.path().join("small.yaml"),
    )
    .unwrap();
    let yaml_nasty = r"\e[2J\0\u202e";
    let test = format!(
        "ruleset: small.yaml\ncases:\n  - name: \"case {yaml_nasty}\"\n    answers: {{risk: none, alone: false}}\n    expect: {{level: \"high{yaml_nasty}\"}}\n"
    );
    let path = dir.path().join("nasty.test.yaml");
    std::fs::write(&path, test).unwrap();
    let out = run(&["test", path.to_str().unwrap()]);
    out.expect_code(1);
    assert_clean("test", &out.stdout);
    assert_clean("test stderr", &out.stderr);
    assert!(
        out.stdout.contains(r"FAIL  case \u{1b}[2J\u{0}\u{202e}"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(r"expect.level: `high\u{1b}[2J\u{0}\u{202e}` is not a level"),
        "{}",
        out.stdout
    );
}

#[test]
fn answer_keys_and_values_are_escaped_in_error_messages() {
    let answers = format!(r#"{{"sev{NASTY_JSON}": "x", "severity": "mod{NASTY_JSON}"}}"#);
    let out = run_with_stdin(&["assess", "-"], Some(&answers));
    out.expect_code(2);
    assert_clean("assess stderr", &out.stderr);
    assert!(
        out.stderr
            .contains(&format!("`sev{NASTY_SHOWN}`: unknown question")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("`mod{NASTY_SHOWN}` is not one of")),
        "{}",
        out.stderr
    );
    // The same answers as YAML (double-quoted escapes) and on the command line.
    let yaml = "\"sev\\e[2J\": x\nseverity: \"mod\\0\\u202e\"\n";
    let out = run_with_stdin(&["assess", "-"], Some(yaml));
    out.expect_code(2);
    assert_clean("assess yaml stderr", &out.stderr);
    assert!(out.stderr.contains(r"`sev\u{1b}[2J`"), "{}", out.stderr);
    assert!(out.stderr.contains(r"`mod\u{0}\u{202e}`"), "{}", out.stderr);
    // (An argument cannot hold NUL.)
    let out = run(&["assess", "--answer", "severity=m\u{1b}[2J\u{202e}"]);
    out.expect_code(2);
    assert_clean("assess --answer stderr", &out.stderr);
    assert!(
        out.stderr.contains(r"`m\u{1b}[2J\u{202e}`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_one_mebibyte_unknown_key_is_quoted_in_part_with_its_length() {
    let key = "k".repeat(1 << 20);
    let out = run_with_stdin(&["assess", "-"], Some(&format!(r#"{{"{key}": 1}}"#)));
    out.expect_code(2);
    assert!(
        out.stderr.contains("… (1048576 bytes)`: unknown question"),
        "{}",
        &out.stderr[..400]
    );
    // 200 bytes of the key, the message and the list of questions: a few hundred bytes.
    assert!(
        out.stderr.len() < 2_000,
        "{} bytes echoed",
        out.stderr.len()
    );

    // As a YAML key of a ruleset: the message and the quoted source line are capped.
    let ruleset = std::fs::read_to_string(root().join("tests/cli/fixtures/small.yaml"))
        .unwrap()
        .replace("when: {risk: lots}", &format!("when: {{{key}: lots}}"));
    let out = run_with_stdin(&["check", "-"], Some(&ruleset));
    out.expect_code(1);
    // The item path quotes the key: it is cut on its own, and what is wrong follows.
    assert!(
        out.stdout.contains(" bytes): invalid type:"),
        "{}",
        &out.stdout[..400]
    );
    assert!(
        out.stdout.len() < 2_000,
        "{} bytes echoed",
        out.stdout.len()
    );
}

#[test]
fn a_ruleset_error_quoting_control_characters_is_escaped() {
    // An unknown factor named with ESC, and an invalid identifier with a bidi override.
    let ruleset = std::fs::read_to_string(root().join("tests/cli/fixtures/small.yaml"))
        .unwrap()
        .replace("when: {risk: lots}", "when: {\"ri\\esk\": lots}")
        .replace("id: risk_alone_high", "id: \"risk\\u202Ealone\"");
    let out = run_with_stdin(&["check", "-"], Some(&ruleset));
    out.expect_code(1);
    assert_clean("check", &out.stdout);
    assert!(
        out.stdout.contains(r"unknown factor `ri\u{1b}sk`"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(r"`risk\u{202e}alone` is not a valid identifier"),
        "{}",
        out.stdout
    );
    // The quoted source line keeps its caret under the column, escapes counted.
    let raw = "id: small\nversion: \"1\x1b[2J\x07\"\n\tbad";
    let out = run_with_stdin(&["check", "-"], Some(raw));
    out.expect_code(1);
    assert_clean("check raw", &out.stdout);
}

#[test]
fn batch_ids_and_errors_are_escaped_in_csv_and_text_but_exact_in_json() {
    let records = format!(
        "{{\"id\": \"p{NASTY_JSON}\", \"severity\": \"moderate\"}}\n\
         {{\"id\": \"q{NASTY_JSON}\", \"sev{NASTY_JSON}\": 1}}\n"
    );
    for fields in ["compact", "full"] {
        let out = run_with_stdin(
            &["batch", "-", "--format", "csv", "--fields", fields],
            Some(&records),
        );
        out.expect_code(1);
        assert_clean("batch csv", &out.stdout);
        assert_clean("batch stderr", &out.stderr);
        assert!(
            out.stdout.contains(&format!("p{NASTY_SHOWN},1,")),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains(&format!("q{NASTY_SHOWN},2,")),
            "{}",
            out.stdout
        );
        assert!(out
            .stdout
            .contains(&format!("`sev{NASTY_SHOWN}`: unknown question")));
    }
    let out = run_with_stdin(&["batch", "-"], Some(&records));
    out.expect_code(1);
    let first: serde_json::Value =
        serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], format!("p{NASTY}"), "JSON keeps the exact id");

    // A CSV input cell holding ESC and NUL.
    let csv = format!("id,severity\nc{NASTY},moderate\n");
    let out = run_with_stdin(
        &["batch", "-", "--input-format", "csv", "--format", "csv"],
        Some(&csv),
    );
    assert_clean("batch csv from csv", &out.stdout);
    assert!(
        out.stdout.contains(&format!("c{NASTY_SHOWN},")),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn diff_cases_errors_are_escaped() {
    let cases = format!("{{\"id\": \"d{NASTY_JSON}\", \"sev{NASTY_JSON}\": 1}}\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.jsonl");
    std::fs::write(&path, cases).unwrap();
    let default = root().join("rules/default.yaml");
    let default = default.to_str().unwrap();
    for format in ["text", "markdown"] {
        let out = run(&[
            "diff",
            default,
            default,
            "--cases",
            path.to_str().unwrap(),
            "--format",
            format,
        ]);
        assert_clean("diff", &out.stdout);
        assert!(
            out.stdout.contains(&format!("`sev{NASTY_SHOWN}`")),
            "{}",
            out.stdout
        );
    }
}

// ---------------------------------------------------------------------------
// Item 11: `ruleset:` in a test file
// ---------------------------------------------------------------------------

/// A test file in `dir` whose `ruleset:` is `target`.
fn test_file(dir: &Path, target: &str) -> String {
    let path = dir.join("probe.test.yaml");
    std::fs::write(
        &path,
        format!(
            "ruleset: {target}\ncases:\n  - name: a\n    answers: {{}}\n    expect: {{level: low}}\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_test_file_pointing_at_a_secret_file_echoes_one_capped_line_at_most() {
    let dir = tempfile::tempdir().unwrap();
    // passwd-shaped: YAML reads the whole file as one plain string.
    let secret = dir.path().join("secret");
    std::fs::write(
        &secret,
        "root:x:0:0:FIRST-LINE\nsecret-line-2:x:1:1:TOPSECRET-2\nsecret-3:x:2:2:TOPSECRET-3\n",
    )
    .unwrap();
    let out = run(&["test", &test_file(dir.path(), secret.to_str().unwrap())]);
    out.expect_code(1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(!all.contains("TOPSECRET"), "{all}");
    assert!(!all.contains("secret-line-2"), "{all}");
    assert!(
        all.contains("the whole file reads as one YAML string, not shown here"),
        "{all}"
    );
    // The one line shown is the diagnostic's source line.
    assert_eq!(all.matches("FIRST-LINE").count(), 1, "{all}");

    // One long line with control characters: capped and escaped.
    let long = dir.path().join("long");
    std::fs::write(
        &long,
        format!("{}\u{1b}[2J{}\n", "a".repeat(40), "S".repeat(10_000)),
    )
    .unwrap();
    let out = run(&["test", &test_file(dir.path(), "long")]);
    out.expect_code(1);
    assert_clean("test of long", &out.stdout);
    assert!(
        out.stdout.len() < 1_500,
        "{} bytes echoed:\n{}",
        out.stdout.len(),
        out.stdout
    );

    // A YAML mapping of another shape: one unknown key is named, no values.
    let other = dir.path().join("other.yaml");
    std::fs::write(&other, "apiVersion: v1\npassword: TOPSECRET-VALUE\n").unwrap();
    let out = run(&["test", &test_file(dir.path(), "other.yaml")]);
    out.expect_code(1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(!all.contains("TOPSECRET"), "{all}");
    assert!(all.contains("unknown key `apiVersion`"), "{all}");
}

#[test]
fn a_test_files_ruleset_is_resolved_against_its_own_directory() {
    // Relative to the test file, not to the working directory; `..` and absolute paths
    // are allowed (docs/rules.md, test files).
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(
        root().join("tests/cli/fixtures/small.yaml"),
        dir.path().join("small.yaml"),
    )
    .unwrap();
    let write = |target: &str| {
        let path = sub.join("t.test.yaml");
        std::fs::write(
            &path,
            format!(
                "ruleset: {target}\ncases:\n  - name: low\n    answers: {{risk: none, alone: false}}\n    expect: {{level: low}}\n"
            ),
        )
        .unwrap();
        path.to_str().unwrap().to_owned()
    };
    let out = run(&["test", &write("../small.yaml")]);
    out.expect_code(0);
    let absolute = dir.path().join("small.yaml");
    let out = run(&["test", &write(absolute.to_str().unwrap())]);
    out.expect_code(0);
    let out = run(&["test", &write("small.yaml")]);
    out.expect_code(2);
    assert!(out.stderr.contains("no such file"), "{}", out.stderr);
}

#[test]
fn file_names_with_control_characters_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r\u{1b}[2J\u{202e}.yaml");
    std::fs::write(&rules, "id: x\nversion: [\n").unwrap();
    let out = run(&["check", rules.to_str().unwrap()]);
    out.expect_code(1);
    assert_clean("check of a strange name", &out.stdout);
    assert!(
        out.stdout.contains(r"r\u{1b}[2J\u{202e}.yaml"),
        "{}",
        out.stdout
    );
    let missing = dir.path().join("gone\u{1b}.yaml");
    for args in [
        vec!["check", missing.to_str().unwrap()],
        vec!["test", missing.to_str().unwrap()],
    ] {
        let out = run(&args);
        assert_clean("stdout", &out.stdout);
        assert_clean("stderr", &out.stderr);
        assert!(out.stderr.contains(r"gone\u{1b}.yaml"), "{}", out.stderr);
    }
}

#[test]
fn a_ruleset_version_is_escaped_in_check_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("tests/cli/fixtures/small.yaml"))
        .unwrap()
        .replace("version: \"2\"", "version: \"2\\e[2J\\u202e\"");
    let path = dir.path().join("v.yaml");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    let out = run(&["check", path]);
    out.expect_code(0);
    assert_clean("check", &out.stdout);
    assert!(
        out.stdout.contains(r"ruleset small 2\u{1b}[2J\u{202e}:"),
        "{}",
        out.stdout
    );
    for format in ["text", "markdown"] {
        let out = run(&["diff", path, path, "--format", format]);
        out.expect_code(0);
        assert_clean("diff", &out.stdout);
        assert!(out.stdout.contains(r"2\u{1b}[2J\u{202e}"), "{}", out.stdout);
    }
}

/// A stored assessment's texts (flag ids, level label, ruleset id and version) are shown
/// escaped by `reassess`.
#[test]
fn stored_assessment_texts_are_escaped_by_reassess() {
    let stored =
        std::fs::read_to_string(root().join("examples/reassess/admission-1.0.0-stored.json"))
            .unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let nasty: String = serde_json::from_str(&format!("\"{NASTY_JSON}\"")).unwrap();
    doc["flags"] = serde_json::json!([{"id": nasty.clone()}]);
    doc["level"]["label"] = serde_json::json!(nasty.clone());
    doc["provenance"]["ruleset_id"] = serde_json::json!(nasty.clone());
    doc["provenance"]["ruleset_version"] = serde_json::json!(nasty);
    let out = run_with_stdin(
        &["reassess", "-", "examples/reassess/week-4.yaml"],
        Some(&doc.to_string()),
    );
    out.expect_code(0);
    assert_clean("reassess", &out.stdout);
    assert!(
        out.stdout
            .contains(&format!("Flags cleared: {NASTY_SHOWN}\n")),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains(&format!("  previous: {NASTY_SHOWN} {NASTY_SHOWN} (sha256 ")));
}
