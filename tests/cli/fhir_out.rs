//! FHIR out: `assess` and `batch --format guidance-response|cds-card`, R4 and R5, on
//! the files in `examples/answers/`, `examples/fhir/` and `tests/cli/fixtures/fhir/`.

use serde_json::Value;

use crate::util::{run, snapshot};

const OCCURRENCE: &str = "2026-12-05T16:00:00Z";
const UUID: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const EXAMPLES: [&str; 5] = ["iop", "missing", "outpatient", "refer", "residential"];

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The run as a snapshot, with the engine version in FHIR and markdown text replaced.
fn shot(out: &crate::util::Run) -> String {
    let version = env!("CARGO_PKG_VERSION");
    out.snapshot()
        .replace(&format!("carelevel {version}"), "carelevel [VERSION]")
        .replace(
            &format!("carelevel {}", version.replace('.', "\\\\.")),
            "carelevel [VERSION]",
        )
}

fn assess(args: &[&str]) -> crate::util::Run {
    let mut all = vec!["assess"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--occurrence", OCCURRENCE, "--card-uuid", UUID]);
    run(&all)
}

#[test]
fn guidance_response_r4_from_a_fhir_response_with_missing_answers() {
    let out = assess(&[
        "examples/fhir/missing.json",
        "--input-format",
        "fhir",
        "--format",
        "guidance-response",
    ]);
    out.expect_code(0);
    let g = json(&out.stdout);
    assert_eq!(g["status"], "data-required");
    assert_eq!(g["id"], "missing");
    assert_eq!(
        g["reasonReference"][0]["reference"],
        "QuestionnaireResponse/missing"
    );
    snapshot!("fhir_out_assess_gr_r4_missing", shot(&out));
}

#[test]
fn guidance_response_r5_from_an_answers_file_with_a_refer_flag() {
    let out = assess(&[
        "examples/answers/refer.yaml",
        "--format",
        "guidance-response",
        "--fhir",
        "r5",
    ]);
    out.expect_code(0);
    let g = json(&out.stdout);
    assert_eq!(g["status"], "success");
    // From a file: the id is its stem, the request identifier its name, no reason.
    assert_eq!(g["id"], "refer");
    assert_eq!(g["requestIdentifier"]["value"], "refer.yaml");
    assert!(g.get("reason").is_none() && g.get("reasonReference").is_none());
    snapshot!("fhir_out_assess_gr_r5_refer", shot(&out));
}

#[test]
fn r4_and_r5_differ_only_in_the_reason() {
    for name in EXAMPLES {
        let file = format!("examples/fhir/{name}.json");
        let args = |r: &'static str| {
            assess(&[
                &file,
                "--input-format",
                "fhir",
                "--format",
                "guidance-response",
                "--fhir",
                r,
            ])
        };
        let (mut r4, mut r5) = (json(&args("r4").stdout), json(&args("r5").stdout));
        let reason4 = r4
            .as_object_mut()
            .unwrap()
            .remove("reasonReference")
            .unwrap();
        let reason5 = r5.as_object_mut().unwrap().remove("reason").unwrap();
        assert_eq!(reason5[0]["reference"], reason4[0], "{name}");
        assert_eq!(r4, r5, "{name}");
    }
}

#[test]
fn cds_cards_of_the_examples() {
    let out = assess(&[
        "examples/fhir/missing.json",
        "--input-format",
        "fhir",
        "--format",
        "cds-card",
    ]);
    out.expect_code(0);
    snapshot!("fhir_out_assess_card_missing", shot(&out));
    for (name, indicator) in [
        ("iop", "info"),
        ("missing", "warning"),
        ("refer", "critical"),
    ] {
        let out = assess(&[
            &format!("examples/answers/{name}.yaml"),
            "--format",
            "cds-card",
        ]);
        out.expect_code(0);
        let c = json(&out.stdout);
        assert_eq!(c["indicator"], indicator, "{name}");
        assert_eq!(c["uuid"], UUID);
        assert!(c["summary"].as_str().unwrap().chars().count() < 140);
    }
}

#[test]
fn defaults_are_now_and_a_fresh_random_uuid() {
    let card = |_| {
        let out = run(&[
            "assess",
            "examples/answers/iop.yaml",
            "--format",
            "cds-card",
        ]);
        out.expect_code(0);
        json(&out.stdout)["uuid"].as_str().unwrap().to_owned()
    };
    let (a, b) = (card(0), card(1));
    assert_ne!(a, b);
    assert_eq!(a.len(), 36);
    assert_eq!(&a[14..15], "4", "version 4: {a}");
    let out = run(&[
        "assess",
        "examples/answers/iop.yaml",
        "--format",
        "guidance-response",
    ]);
    out.expect_code(0);
    let when = json(&out.stdout)["occurrenceDateTime"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(carelevel_fhir::primitive::is_date_time(&when), "{when}");
    assert!(when.ends_with('Z') && when.len() == 20, "{when}");
}

#[test]
fn bad_options_are_usage_errors() {
    for (args, message) in [
        (
            vec!["--occurrence", "2026-12-05T16:00:00"],
            "is not a FHIR dateTime",
        ),
        (vec!["--card-uuid", "abc"], "is not a UUID"),
        (vec!["--explain"], "`--explain` works with"),
    ] {
        for format in ["guidance-response", "cds-card"] {
            let mut all = vec!["assess", "examples/answers/iop.yaml", "--format", format];
            all.extend_from_slice(&args);
            let out = run(&all);
            // An unchecked option of the other format is not an error.
            let applies = match args[0] {
                "--occurrence" => format == "guidance-response",
                "--card-uuid" => format == "cds-card",
                _ => true,
            };
            if applies {
                out.expect_code(2);
                assert!(out.stderr.contains(message), "{}", out.stderr);
                assert_eq!(out.stdout, "");
            } else {
                out.expect_code(0);
            }
        }
    }
    for args in [
        ["--format", "guidance-response", "--occurrence", "soon"],
        ["--format", "cds-card", "--card-uuid", "x"],
    ] {
        let mut all = vec![
            "batch",
            "examples/fhir/responses.ndjson",
            "--input-format",
            "fhir-ndjson",
        ];
        all.extend_from_slice(&args);
        let out = run(&all);
        out.expect_code(2);
        assert_eq!(out.stdout, "");
    }
}

fn batch(args: &[&str]) -> crate::util::Run {
    let mut all = vec!["batch"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--occurrence", OCCURRENCE, "--card-uuid", UUID]);
    run(&all)
}

#[test]
fn batch_guidance_responses_are_the_assess_ones_in_order_in_both_releases() {
    for release in ["r4", "r5"] {
        let out = batch(&[
            "examples/fhir/responses.ndjson",
            "--input-format",
            "fhir-ndjson",
            "--format",
            "guidance-response",
            "--fhir",
            release,
        ]);
        out.expect_code(0);
        let lines: Vec<Value> = out.stdout.lines().map(json).collect();
        assert_eq!(lines.len(), EXAMPLES.len());
        for (line, name) in lines.iter().zip(EXAMPLES) {
            let one = assess(&[
                &format!("examples/fhir/{name}.json"),
                "--input-format",
                "fhir",
                "--format",
                "guidance-response",
                "--fhir",
                release,
            ]);
            assert_eq!(line, &json(&one.stdout), "{release} {name}");
        }
        assert_eq!(lines[1]["status"], "data-required");
    }
}

#[test]
fn batch_cards_keep_order_with_error_records_and_derived_uuids() {
    let out = batch(&[
        "tests/cli/fixtures/fhir/mixed.ndjson",
        "--input-format",
        "fhir-ndjson",
        "--format",
        "cds-card",
    ]);
    out.expect_code(1);
    let lines: Vec<Value> = out.stdout.lines().map(json).collect();
    let kinds: Vec<String> = lines
        .iter()
        .map(|l| match l.get("uuid") {
            Some(u) => format!("card {}", u.as_str().unwrap()),
            None => format!("error line {}", l["line"]),
        })
        .collect();
    // Line N's uuid is the base with N added to its last 12 hex digits.
    assert_eq!(
        kinds,
        [
            "card 3f2504e0-4f89-41d3-9a0c-0305e82c3302",
            "error line 2",
            "error line 4",
            "error line 5",
            "card 3f2504e0-4f89-41d3-9a0c-0305e82c3307",
        ]
    );
    let summary: String = out
        .stderr
        .lines()
        .filter(|l| !l.starts_with("  time: "))
        .map(|l| format!("{l}\n"))
        .collect();
    let version = env!("CARGO_PKG_VERSION").replace('.', "\\\\.");
    snapshot!(
        "fhir_out_batch_cards_mixed",
        crate::util::normalize(&format!("{}{summary}", out.stdout))
            .replace(&format!("carelevel {version}"), "carelevel [VERSION]")
    );
}

#[test]
fn batch_from_json_lines_uses_record_ids_and_lines_for_ids() {
    let out = batch(&[
        "tests/cli/fixtures/batch-errors.jsonl",
        "--format",
        "guidance-response",
        "--errors",
        "/dev/null",
    ]);
    let lines: Vec<Value> = out.stdout.lines().map(json).collect();
    assert!(!lines.is_empty());
    for l in &lines {
        assert_eq!(l["resourceType"], "GuidanceResponse");
        let id = l["id"].as_str().unwrap();
        let request = l["requestIdentifier"]["value"].as_str();
        match request {
            Some(r) if carelevel_fhir::primitive::is_id(r) => assert_eq!(id, r),
            _ => assert!(id.starts_with("line-"), "{id}"),
        }
        assert!(l.get("reasonReference").is_none());
    }
}
