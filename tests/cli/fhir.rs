//! FHIR in: `carelevel fhir questionnaire|response`, `assess --input-format fhir`
//! and `batch --input-format fhir-ndjson`, on the files in `examples/fhir/` and
//! `tests/cli/fixtures/fhir/`.

use std::fmt::Write as _;

use carelevel::Ruleset;
use carelevel_fhir::Release;
use serde_json::Value;

use crate::util::{root, run, run_with_stdin, snapshot};

const EXAMPLES: [&str; 5] = ["iop", "missing", "outpatient", "refer", "residential"];

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn questionnaire_is_the_library_mapping_in_r4_and_r5() {
    let default = Ruleset::default_ruleset().unwrap();
    let six_text =
        std::fs::read_to_string(root().join("examples/rulesets/six-levels.yaml")).unwrap();
    let six = Ruleset::from_yaml(&six_text).unwrap();
    for (args, rules, release) in [
        (vec!["fhir", "questionnaire"], &default, Release::R4),
        (
            vec!["fhir", "questionnaire", "--fhir", "r5"],
            &default,
            Release::R5,
        ),
        (
            vec![
                "fhir",
                "questionnaire",
                "--rules",
                "examples/rulesets/six-levels.yaml",
                "--fhir",
                "r4",
            ],
            &six,
            Release::R4,
        ),
    ] {
        let out = run(&args);
        out.expect_code(0);
        assert_eq!(out.stderr, "");
        assert_eq!(
            json(&out.stdout),
            carelevel_fhir::questionnaire::questionnaire(rules, release),
            "{args:?}"
        );
    }
    let out = run(&["fhir", "questionnaire", "--fhir", "r4b"]);
    out.expect_code(2);
    assert!(out.stderr.contains("invalid value 'r4b'"), "{}", out.stderr);
}

#[test]
fn example_responses_are_current_and_assess_like_their_answer_files() {
    for name in EXAMPLES {
        let answers = format!("examples/answers/{name}.yaml");
        let fhir = format!("examples/fhir/{name}.json");
        // The example file is what `fhir response` writes today.
        let written = run(&["fhir", "response", "--id", name, &answers]);
        written.expect_code(0);
        let committed = std::fs::read_to_string(root().join(&fhir)).unwrap();
        assert_eq!(written.stdout, committed, "{fhir} is stale");
        // And it assesses exactly like the answers it came from.
        let direct = run(&["assess", &answers, "--format", "json"]);
        let via = run(&[
            "assess",
            "--input-format",
            "fhir",
            &fhir,
            "--format",
            "json",
        ]);
        direct.expect_code(0);
        via.expect_code(0);
        assert_eq!(via.stderr, "");
        assert_eq!(direct.stdout, via.stdout, "{name}");
    }
}

#[test]
fn the_example_ndjson_holds_the_example_responses_and_batches_like_them() {
    let ndjson = std::fs::read_to_string(root().join("examples/fhir/responses.ndjson")).unwrap();
    let lines: Vec<Value> = ndjson.lines().map(json).collect();
    let files: Vec<Value> = EXAMPLES
        .iter()
        .map(|n| {
            json(&std::fs::read_to_string(root().join(format!("examples/fhir/{n}.json"))).unwrap())
        })
        .collect();
    assert_eq!(lines, files);
    let out = run(&[
        "batch",
        "--input-format",
        "fhir-ndjson",
        "examples/fhir/responses.ndjson",
    ]);
    out.expect_code(0);
    for (record, name) in out.stdout.lines().map(json).zip(EXAMPLES) {
        let direct = run(&[
            "assess",
            &format!("examples/answers/{name}.yaml"),
            "--format",
            "json",
        ]);
        let direct = json(&direct.stdout);
        assert_eq!(record["id"], name);
        assert_eq!(record["level"], direct["level"]["id"], "{name}");
        assert_eq!(record["needs_review"], direct["needs_review"], "{name}");
    }
}

#[test]
fn a_response_on_stdin_and_in_r5_mode_is_read() {
    let text = std::fs::read_to_string(root().join("examples/fhir/refer.json")).unwrap();
    let out = run_with_stdin(
        &[
            "assess",
            "--input-format",
            "fhir",
            "--fhir",
            "r5",
            "-",
            "--format",
            "json",
        ],
        Some(&text),
    );
    out.expect_code(0);
    let direct = run(&["assess", "examples/answers/refer.yaml", "--format", "json"]);
    assert_eq!(out.stdout, direct.stdout);
}

#[test]
fn nested_items_are_found() {
    let out = run(&[
        "assess",
        "--input-format",
        "fhir",
        "tests/cli/fixtures/fhir/nested.json",
    ]);
    out.expect_code(0);
    snapshot!("fhir_nested", out.snapshot());
}

#[test]
fn every_problem_is_reported_with_its_path_and_link_id() {
    let out = run(&[
        "assess",
        "--input-format",
        "fhir",
        "tests/cli/fixtures/fhir/bad-answers.json",
    ]);
    out.expect_code(2);
    assert_eq!(out.stdout, "");
    snapshot!("fhir_bad_answers", out.snapshot());
}

#[test]
fn another_ruleset_and_another_version_are_refused() {
    let mut all = String::new();
    for file in ["other-ruleset", "other-version"] {
        let path = format!("tests/cli/fixtures/fhir/{file}.json");
        let out = run(&["assess", "--input-format", "fhir", &path]);
        out.expect_code(2);
        write!(all, "{}", out.snapshot()).unwrap();
    }
    // Another version may be read on request, with a warning.
    let out = run(&[
        "assess",
        "--input-format",
        "fhir",
        "--fhir-other-version",
        "warn",
        "tests/cli/fixtures/fhir/other-version.json",
    ]);
    out.expect_code(0);
    assert!(out.stderr.contains("warning"), "{}", out.stderr);
    write!(all, "{}", out.snapshot()).unwrap();
    snapshot!("fhir_other_questionnaire", all);
}

#[test]
fn in_progress_forces_review_with_a_warning() {
    let out = run(&[
        "assess",
        "--input-format",
        "fhir",
        "tests/cli/fixtures/fhir/in-progress.json",
    ]);
    out.expect_code(0);
    let json_out = run(&[
        "assess",
        "--input-format",
        "fhir",
        "tests/cli/fixtures/fhir/in-progress.json",
        "--format",
        "json",
    ]);
    assert_eq!(json(&json_out.stdout)["needs_review"], Value::Bool(true));
    snapshot!("fhir_in_progress", out.snapshot());
}

#[test]
fn matching_through_a_form_and_the_lenient_mode() {
    let strict = run(&[
        "assess",
        "--input-format",
        "fhir",
        "--fhir-form",
        "tests/cli/fixtures/fhir/form.json",
        "tests/cli/fixtures/fhir/by-code.json",
    ]);
    strict.expect_code(0);
    assert_eq!(strict.stderr, "");
    assert!(
        strict.stdout.contains("refer_imminent_harm"),
        "{}",
        strict.stdout
    );
    // Without the form the linkIds are unknown; `warn` ignores them, loudly.
    let unknown = run(&[
        "assess",
        "--input-format",
        "fhir",
        "tests/cli/fixtures/fhir/by-code.json",
    ]);
    unknown.expect_code(2);
    let lenient = run(&[
        "assess",
        "--input-format",
        "fhir",
        "--fhir-unknown-items",
        "warn",
        "tests/cli/fixtures/fhir/by-code.json",
    ]);
    lenient.expect_code(0);
    snapshot!(
        "fhir_matching",
        format!(
            "{}{}{}",
            strict.snapshot(),
            unknown.snapshot(),
            lenient.snapshot()
        )
    );
}

#[test]
fn batch_reads_fhir_ndjson_with_error_records_and_line_numbers() {
    let out = run(&[
        "batch",
        "--input-format",
        "fhir-ndjson",
        "tests/cli/fixtures/fhir/mixed.ndjson",
    ]);
    out.expect_code(1);
    let lines: Vec<Value> = out.stdout.lines().map(json).collect();
    let ids: Vec<(u64, &str)> = lines
        .iter()
        .map(|l| (l["line"].as_u64().unwrap(), l["id"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(
        ids,
        [(1, "iop"), (2, "-"), (4, "bad"), (5, "iop"), (6, "partial")]
    );
    assert_eq!(lines[4]["needs_review"], Value::Bool(true));
    let summary: String = out
        .stderr
        .lines()
        .filter(|l| !l.starts_with("  time: "))
        .map(|l| format!("{l}\n"))
        .collect();
    snapshot!("fhir_batch_mixed", format!("{}{summary}", out.stdout));
}

#[test]
fn batch_of_many_responses_keeps_order_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let rules = Ruleset::default_ruleset().unwrap();
    let mut text = String::new();
    let mut expected = Vec::new();
    for i in 0..3000 {
        let name = EXAMPLES[i % EXAMPLES.len()];
        let answers_text =
            std::fs::read_to_string(root().join(format!("examples/answers/{name}.yaml"))).unwrap();
        let answers = rules.answers_from_yaml(&answers_text).unwrap();
        let options = carelevel_fhir::response::ResponseOptions {
            id: Some(format!("r{i}")),
            ..Default::default()
        };
        let qr = carelevel_fhir::response::questionnaire_response(&answers, Release::R4, &options);
        writeln!(text, "{qr}").unwrap();
        expected.push((format!("r{i}"), rules.level(&answers).unwrap().id.clone()));
    }
    let input = dir.path().join("many.ndjson");
    std::fs::write(&input, text).unwrap();
    let input = input.to_str().unwrap();
    let two = run(&[
        "batch",
        "--input-format",
        "fhir-ndjson",
        "--threads",
        "2",
        input,
    ]);
    two.expect_code(0);
    let one = run(&[
        "batch",
        "--input-format",
        "fhir-ndjson",
        "--threads",
        "1",
        input,
    ]);
    assert_eq!(one.stdout, two.stdout);
    let got: Vec<(String, String)> = two
        .stdout
        .lines()
        .map(json)
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_owned(),
                l["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn batch_full_results_carry_the_reading_warnings_as_review_reasons() {
    let text =
        std::fs::read_to_string(root().join("tests/cli/fixtures/fhir/in-progress.json")).unwrap();
    let line = json(&text).to_string();
    let out = run_with_stdin(
        &[
            "batch",
            "--input-format",
            "fhir-ndjson",
            "--fields",
            "full",
            "-",
        ],
        Some(&format!("{line}\n")),
    );
    out.expect_code(0);
    let record = json(out.stdout.lines().next().unwrap());
    assert_eq!(record["id"], "partial");
    assert_eq!(record["assessment"]["needs_review"], Value::Bool(true));
    let reasons = record["assessment"]["review_reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r.as_str().unwrap().contains("status is `in-progress`")),
        "{reasons:?}"
    );
}
