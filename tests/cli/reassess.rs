//! `carelevel reassess`: worked cases (examples/reassess/), JSON, version mismatch and
//! bad input.

use serde_json::Value;

use crate::util::{run, run_with_stdin, snapshot};

const ADMISSION: &str = "examples/reassess/admission.yaml";
const WEEK_2: &str = "examples/reassess/week-2.yaml";
const WEEK_4: &str = "examples/reassess/week-4.yaml";
const OUTPATIENT: &str = "examples/reassess/outpatient.yaml";
const RELAPSE: &str = "examples/reassess/relapse.yaml";
const STORED_WITH_ANSWERS: &str = "examples/reassess/admission-1.0.0-with-answers.json";
const STORED_ONLY: &str = "examples/reassess/admission-1.0.0-stored.json";

/// The JSON report of `reassess PREVIOUS CURRENT`.
fn json(previous: &str, current: &str) -> Value {
    let out = run(&["reassess", previous, current, "--format", "json"]);
    out.expect_code(0);
    assert_eq!(out.stderr, "");
    serde_json::from_str(&out.stdout).unwrap()
}

fn changed(doc: &Value) -> Vec<&str> {
    doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["factor"].as_str().unwrap())
        .collect()
}

#[test]
fn step_down_after_residential() {
    let out = run(&["reassess", ADMISSION, WEEK_4]);
    out.expect_code(0);
    assert!(out
        .stdout
        .starts_with("Reassessment: step-down by 1 level: residential → iop\n"));
    snapshot!("reassess_step_down", out.snapshot());

    let doc = json(ADMISSION, WEEK_4);
    assert_eq!(doc["movement"]["kind"], "step_down", "{}", doc["movement"]);
    assert_eq!(doc["movement"]["levels"], 1);
    assert_eq!(doc["movement"]["from"]["id"], "residential");
    assert_eq!(doc["movement"]["to"]["id"], "iop");
    assert_eq!(doc["current"]["level"]["id"], "iop");
    assert_eq!(
        changed(&doc),
        [
            "severity",
            "withdrawal_risk",
            "housing",
            "harm_risk",
            "mental_health",
            "readiness"
        ]
    );
    // No single change is pivotal; two together are enough (worked out in the example's
    // comment and in the core's unit test).
    assert!(doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["pivotal"] == false));
    assert_eq!(
        doc["drivers"],
        serde_json::json!({"status": "minimal", "changes": ["severity", "withdrawal_risk"], "equally_small": 1})
    );
    assert_eq!(doc["ruleset"]["same"], true);
    assert_eq!(doc["previous"]["source"], "answers");
    // `current` is the assessment `assess` gives for the current answers.
    let assessed = run(&["assess", WEEK_4, "--format", "json"]);
    let assessed: Value = serde_json::from_str(&assessed.stdout).unwrap();
    assert_eq!(doc["current"], assessed);
}

#[test]
fn json_snapshot_of_a_step_down() {
    let out = run(&["reassess", ADMISSION, WEEK_4, "--format", "json"]);
    out.expect_code(0);
    snapshot!("reassess_step_down_json", out.snapshot());
}

#[test]
fn continued_stay() {
    let out = run(&["reassess", ADMISSION, WEEK_2]);
    out.expect_code(0);
    assert!(out
        .stdout
        .starts_with("Reassessment: continued stay: residential\n"));
    snapshot!("reassess_continued_stay", out.snapshot());
    let doc = json(ADMISSION, WEEK_2);
    assert_eq!(
        doc["movement"],
        serde_json::json!({"kind": "continued_stay",
            "from": doc["current"]["level"], "to": doc["current"]["level"]})
    );
    assert_eq!(changed(&doc), ["harm_risk", "readiness"]);
    assert_eq!(doc["drivers"]["changes"], serde_json::json!([]));
}

#[test]
fn step_up_by_two_levels() {
    let out = run(&["reassess", OUTPATIENT, RELAPSE]);
    out.expect_code(0);
    snapshot!("reassess_step_up", out.snapshot());
    let doc = json(OUTPATIENT, RELAPSE);
    assert_eq!(doc["movement"]["kind"], "step_up");
    assert_eq!(doc["movement"]["levels"], 2);
    // harm_risk low -> high alone raises outpatient to residential (harm_high_residential);
    // reverted alone, the other changes still give iop (severity_moderate_iop).
    let harm = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["factor"] == "harm_risk")
        .unwrap();
    assert_eq!(harm["pivotal"], true);
    assert_eq!(harm["if_reverted"]["level"]["id"], "iop");
    assert_eq!(
        doc["drivers"],
        serde_json::json!({"status": "minimal", "changes": ["harm_risk"], "equally_small": 0})
    );
    assert_eq!(
        doc["flags"]["raised"],
        serde_json::json!(["review_high_harm"])
    );
}

/// The reverse of a step-up is a step-down by as many levels.
#[test]
fn reversed_the_movement_is_the_opposite() {
    let doc = json(RELAPSE, OUTPATIENT);
    assert_eq!(doc["movement"]["kind"], "step_down");
    assert_eq!(doc["movement"]["levels"], 2);
}

#[test]
fn a_stored_assessment_from_another_ruleset_version_shows_both_hashes() {
    let old = carelevel::Ruleset::from_yaml(
        &std::fs::read_to_string(
            crate::util::root().join("examples/policy-change/default-1.0.0.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    let new = carelevel::Ruleset::default_ruleset().unwrap();
    assert_ne!(old.sha256(), new.sha256());
    for (stored, name) in [
        (
            STORED_WITH_ANSWERS,
            "reassess_version_mismatch_with_answers",
        ),
        (STORED_ONLY, "reassess_version_mismatch_stored_only"),
    ] {
        let out = run(&["reassess", stored, WEEK_4]);
        out.expect_code(0);
        // Both full hashes are shown (the snapshot replaces hashes with placeholders).
        assert!(
            out.stdout.contains(&format!(
                "  previous: default 1.0.0 (sha256 {})\n  current:  default 1.1.0 (sha256 {})\n",
                old.sha256(),
                new.sha256()
            )),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("RULESET DIFFERS"), "{}", out.stdout);
        snapshot!(name, out.snapshot());
        let doc = json(stored, WEEK_4);
        assert_eq!(doc["ruleset"]["same"], false);
        assert_eq!(doc["ruleset"]["previous"]["ruleset_sha256"], old.sha256());
        assert_eq!(doc["ruleset"]["current"]["ruleset_sha256"], new.sha256());
        assert_eq!(doc["previous"]["source"], "stored_assessment");
        assert_eq!(doc["previous"]["stored"]["level"]["id"], "residential");
        assert_eq!(doc["movement"]["kind"], "step_down");
    }
    // With answers: re-assessed, changes and drivers known; without: neither.
    let doc = json(STORED_WITH_ANSWERS, WEEK_4);
    assert_eq!(doc["previous"]["answers_known"], true);
    assert_eq!(changed(&doc).len(), 6);
    let doc = json(STORED_ONLY, WEEK_4);
    assert_eq!(doc["previous"]["answers_known"], false);
    assert_eq!(doc["changes"], Value::Null);
    assert_eq!(doc["drivers"], Value::Null);
}

/// A stored result whose ruleset's rules differ for this person: the movement is
/// measured from the re-assessed level, and the stored level is shown beside it.
#[test]
fn a_ruleset_change_that_moves_the_previous_answers_is_said() {
    // The limited-support policy change sends `support: limited` with moderate
    // withdrawal to residential; the default ruleset does not.
    let previous = r#"{"severity": "moderate", "withdrawal_risk": "moderate", "medical": "none",
        "housing": "stable", "support": "limited", "harm_risk": "none",
        "mental_health": "mild", "readiness": "ready"}"#;
    let stored = run_with_stdin(
        &[
            "assess",
            "--rules",
            "examples/policy-change/limited-support.yaml",
            "--format",
            "json",
            "-",
        ],
        Some(previous),
    );
    stored.expect_code(0);
    let mut doc: Value = serde_json::from_str(&stored.stdout).unwrap();
    assert_eq!(doc["level"]["id"], "residential", "{}", stored.stdout);
    doc["answers"] = serde_json::from_str(previous).unwrap();
    let out = run_with_stdin(
        &["reassess", "-", WEEK_4, "--format", "json"],
        Some(&doc.to_string()),
    );
    out.expect_code(0);
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["previous"]["stored"]["level"]["id"], "residential");
    assert_eq!(r["previous"]["level"]["id"], "iop");
    assert_eq!(r["movement"]["kind"], "continued_stay");
    let notes = r["notes"].as_array().unwrap();
    assert!(
        notes[0]
            .as_str()
            .unwrap()
            .starts_with("the change of ruleset alone moves the previous answers from residential (stored) to iop"),
        "{notes:?}"
    );
}

/// `assess --format json` piped into `reassess -`: detected as a stored assessment.
#[test]
fn a_stored_assessment_from_stdin_is_detected_by_shape() {
    let stored = run(&["assess", ADMISSION, "--format", "json"]);
    stored.expect_code(0);
    let out = run_with_stdin(&["reassess", "-", WEEK_4], Some(&stored.stdout));
    out.expect_code(0);
    assert!(out
        .stdout
        .starts_with("Reassessment: step-down by 1 level: residential → iop\n"));
    assert!(out
        .stdout
        .contains("Changed answers: not known (the previous result holds no answers)\n"));
    assert!(out
        .stdout
        .contains("Ruleset: default 1.1.0 for both results"));
    // The `--explain` form is read too.
    let explained = run(&["assess", ADMISSION, "--format", "json", "--explain"]);
    let again = run_with_stdin(&["reassess", "-", WEEK_4], Some(&explained.stdout));
    again.expect_code(0);
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn the_current_recommendation_carries_the_decision_support_line() {
    let out = run(&["reassess", ADMISSION, WEEK_4]);
    assert!(out.stdout.contains("Current assessment\n------------------\nRecommended level: Intensive outpatient program (IOP) (iop)\n"));
    assert!(out
        .stdout
        .trim_end()
        .ends_with("A qualified\nprofessional makes the final placement."));
}

#[test]
fn bad_input_names_the_file_and_line() {
    for (args, name) in [
        (
            vec![
                "reassess",
                "tests/cli/fixtures/reassess/bad-rank.json",
                WEEK_4,
            ],
            "reassess_bad_rank",
        ),
        (
            vec![
                "reassess",
                "tests/cli/fixtures/reassess/no-sha256.json",
                WEEK_4,
            ],
            "reassess_no_sha256",
        ),
        (
            vec![
                "reassess",
                "tests/cli/fixtures/reassess/broken.json",
                WEEK_4,
            ],
            "reassess_broken_json",
        ),
        (
            vec![
                "reassess",
                ADMISSION,
                "tests/cli/fixtures/reassess/bad-current.yaml",
            ],
            "reassess_bad_current",
        ),
        (
            vec!["reassess", "tests/cli/fixtures/bad-answers.yaml", WEEK_4],
            "reassess_bad_previous_answers",
        ),
        (
            vec!["reassess", "examples/reassess/no-such-file.yaml", WEEK_4],
            "reassess_missing_file",
        ),
        (vec!["reassess", "-", "-"], "reassess_both_stdin"),
    ] {
        let out = run(&args);
        out.expect_code(2);
        assert_eq!(out.stdout, "", "{name}");
        snapshot!(name, out.snapshot());
    }
}

#[test]
fn a_stored_level_the_ruleset_does_not_have_is_refused() {
    let stored = std::fs::read_to_string(crate::util::root().join(STORED_ONLY)).unwrap();
    let stored = stored.replace("\"id\": \"residential\"", "\"id\": \"hospital\"");
    let out = run_with_stdin(&["reassess", "-", WEEK_4], Some(&stored));
    out.expect_code(2);
    assert_eq!(
        out.stderr,
        "carelevel: error: cannot reassess (previous: <stdin>): the stored level `hospital` is \
         not a level of ruleset `default` (its levels: outpatient, iop, residential), and the \
         earlier result holds no answers to re-assess: the movement cannot be measured\n"
    );
}

/// Answers stored with an earlier result are read with the current ruleset: one that no
/// longer fits is an error naming the question, never dropped.
#[test]
fn stored_answers_that_do_not_fit_the_ruleset_are_refused() {
    let stored = std::fs::read_to_string(crate::util::root().join(STORED_WITH_ANSWERS)).unwrap();
    let mut doc: Value = serde_json::from_str(&stored).unwrap();
    doc["answers"]["medical"] = Value::from("acute-ish");
    let out = run_with_stdin(&["reassess", "-", WEEK_4], Some(&doc.to_string()));
    out.expect_code(2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "carelevel: error: cannot reassess (previous: <stdin>): the answers stored in the \
         earlier result (`answers`) do not fit the current ruleset: `medical`: `acute-ish` is \
         not one of none, stable, unstable, acute\n"
    );
}
