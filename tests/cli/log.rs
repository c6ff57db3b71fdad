//! `carelevel log query|export|replay`: on real logs written by the decision log's
//! own `LogWriter` (JSON Lines and SQLite) from real assessments of the default
//! ruleset, in a temporary directory that is the working directory of each run.

use std::path::Path;
use std::process::Stdio;

use carelevel::Ruleset;
use carelevel_decision_log::{
    Channel, CodedReason, DecisionMeta, DecisionRecord, FeedbackRecord, FieldMask, LogEntry,
    LogWriter, Masking, Outcome, Requester, SinkConfig, Source,
};

use crate::util::{command, root, snapshot, Run};

fn source() -> Source {
    Source {
        channel: Channel::CdsHooks,
        route: "/cds-services/carelevel".to_owned(),
        hook: Some("patient-view".to_owned()),
        hook_instance: Some("hi-1".to_owned()),
    }
}

fn decision(rs: &Ruleset, id: &str, time: &str, answers: &str, masking: &Masking) -> LogEntry {
    let answers = rs.answers_from_json(answers).unwrap();
    let assessment = rs.assess(&answers).unwrap();
    let meta = DecisionMeta {
        decision_id: id.to_owned(),
        time: time.to_owned(),
        source: source(),
        requester: Some(Requester {
            iss: "https://ehr.example".to_owned(),
            tenant: Some("clinic-a".to_owned()),
        }),
        card_uuid: Some(format!("card-{id}")),
    };
    LogEntry::Decision(DecisionRecord::new(meta, &answers, &assessment, masking).unwrap())
}

/// Moderate withdrawal with limited support: `iop` under 1.0.0, `residential` under
/// the proposed 1.1.0 (examples/policy-change/limited-support.yaml).
const LIMITED: &str = r#"{"severity": "moderate", "withdrawal_risk": "moderate",
    "medical": "none", "housing": "stable", "support": "limited",
    "harm_risk": "none", "mental_health": "mild"}"#;
/// `iop` under both.
const STRONG: &str = r#"{"severity": "moderate", "withdrawal_risk": "low",
    "medical": "none", "housing": "stable", "support": "strong",
    "harm_risk": "none", "mental_health": "mild"}"#;
/// `residential` under both.
const NONE: &str = r#"{"severity": "moderate", "withdrawal_risk": "moderate",
    "medical": "none", "housing": "stable", "support": "none",
    "harm_risk": "none", "mental_health": "mild"}"#;

fn entries() -> Vec<LogEntry> {
    let rs = Ruleset::default_ruleset().unwrap();
    let keep = Masking::keep_all();
    let mut hash = Masking {
        salt: b"test-salt".to_vec(),
        ..Masking::default()
    };
    hash.per_field
        .insert("severity".to_owned(), FieldMask::Hash);
    hash.per_field.insert("housing".to_owned(), FieldMask::Drop);
    vec![
        decision(&rs, "d-1", "2026-12-05T09:00:00Z", LIMITED, &keep),
        decision(&rs, "d-2", "2026-12-05T10:30:00.250Z", STRONG, &keep),
        decision(&rs, "d-3", "2026-12-05T11:00:00Z", LIMITED, &hash),
        LogEntry::Feedback(FeedbackRecord {
            time: "2026-12-05T11:15:00Z".to_owned(),
            decision_id: Some("d-1".to_owned()),
            card_uuid: Some("card-d-1".to_owned()),
            outcome: Outcome::Overridden,
            outcome_timestamp: Some("2026-12-05T10:15:00+01:00".to_owned()),
            override_reason: Some(CodedReason {
                system: Some("https://example.org/override".to_owned()),
                code: "clinical-judgement".to_owned(),
                display: Some("Clinical judgement, \"see notes\"".to_owned()),
            }),
            override_comment: Some("=lives alone, no car".to_owned()),
            chosen_level: Some("residential".to_owned()),
            source: Source {
                route: "/cds-services/carelevel/feedback".to_owned(),
                hook: None,
                hook_instance: None,
                ..source()
            },
            requester: None,
        }),
        decision(&rs, "d-4", "2026-12-06T08:00:00Z", NONE, &keep),
    ]
}

/// A temporary directory holding `log.jsonl`, `log.sqlite` (the same entries) and
/// `new.yaml` (the limited-support proposal).
fn logs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["log.jsonl", "log.sqlite"] {
        let w = LogWriter::open(&SinkConfig::from_path(&dir.path().join(name)).unwrap()).unwrap();
        for e in entries() {
            w.append(e).unwrap();
        }
        w.close().unwrap();
    }
    std::fs::copy(
        root().join("examples/policy-change/limited-support.yaml"),
        dir.path().join("new.yaml"),
    )
    .unwrap();
    dir
}

/// Run `carelevel` in `dir`.
fn run_in(dir: &Path, args: &[&str]) -> Run {
    let output = command(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// The snapshot text, with the compact JSON engine version replaced too.
fn shot(run: &Run) -> String {
    let version = env!("CARGO_PKG_VERSION");
    run.snapshot()
        .replace(
            &format!("\"engine_version\":\"{version}\""),
            "\"engine_version\":\"[VERSION]\"",
        )
        // The CSV `engine_version` cell, before `channel`.
        .replace(&format!(",{version},cds-hooks,"), ",[VERSION],cds-hooks,")
}

fn ids(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{}:{}",
                v["kind"].as_str().unwrap(),
                v["decision_id"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn query_prints_every_entry_and_both_formats_agree() {
    let dir = logs();
    let out = run_in(dir.path(), &["log", "query", "log.jsonl"]);
    out.expect_code(0);
    assert_eq!(out.stderr, "");
    // The JSON Lines log is printed as written.
    assert_eq!(
        out.stdout,
        std::fs::read_to_string(dir.path().join("log.jsonl")).unwrap()
    );
    snapshot!("log_query_all", shot(&out));
    let sqlite = run_in(dir.path(), &["log", "query", "log.sqlite"]);
    sqlite.expect_code(0);
    assert_eq!(sqlite.stdout, out.stdout);
}

#[test]
fn query_filters() {
    let dir = logs();
    for file in ["log.jsonl", "log.sqlite"] {
        let q = |extra: &[&str]| {
            let mut args = vec!["log", "query", file];
            args.extend_from_slice(extra);
            let out = run_in(dir.path(), &args);
            out.expect_code(0);
            ids(&out.stdout)
        };
        assert_eq!(
            q(&[
                "--since",
                "2026-12-05T10:30:00.250Z",
                "--until",
                "2026-12-06"
            ]),
            ["decision:d-2", "decision:d-3", "feedback:d-1"]
        );
        assert_eq!(q(&["--since", "2026-12-06"]), ["decision:d-4"]);
        assert_eq!(q(&["--decision", "d-1"]), ["decision:d-1", "feedback:d-1"]);
        assert_eq!(
            q(&["--level", "residential"]),
            ["feedback:d-1", "decision:d-4"]
        );
        assert_eq!(
            q(&["--ruleset", "default", "--level", "iop"]),
            ["decision:d-1", "decision:d-2", "decision:d-3"]
        );
        assert!(q(&["--ruleset", "six-levels"]).is_empty());
    }
}

#[test]
fn query_usage_errors_exit_2() {
    let dir = logs();
    let bad_time = run_in(
        dir.path(),
        &["log", "query", "log.jsonl", "--since", "yesterday"],
    );
    bad_time.expect_code(2);
    let missing = run_in(dir.path(), &["log", "query", "nope.jsonl"]);
    missing.expect_code(2);
    let format = run_in(dir.path(), &["log", "query", "new.yaml"]);
    format.expect_code(2);
    snapshot!(
        "log_query_usage_errors",
        format!(
            "{}\n{}\n{}",
            bad_time.snapshot(),
            missing.snapshot(),
            format.snapshot()
        )
    );
}

#[test]
fn bad_lines_and_a_torn_last_line_are_reported_and_exit_1() {
    let dir = logs();
    let path = dir.path().join("log.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Line 2 corrupted; a torn record after the last line (a crash mid-write).
    let corrupted = format!(
        "{}\n{{\"kind\":\"decision\"}}\n{}\n{{\"kind\":\"decision\",\"decisi",
        lines[0],
        lines[2..].join("\n")
    );
    text.clear();
    std::fs::write(&path, corrupted).unwrap();
    let out = run_in(dir.path(), &["log", "query", "log.jsonl"]);
    out.expect_code(1);
    assert_eq!(
        ids(&out.stdout),
        [
            "decision:d-1",
            "decision:d-3",
            "feedback:d-1",
            "decision:d-4"
        ]
    );
    snapshot!("log_query_bad_lines", out.stderr);
}

#[test]
fn export_csv_and_jsonl() {
    let dir = logs();
    let csv = run_in(
        dir.path(),
        &["log", "export", "log.sqlite", "--format", "csv"],
    );
    csv.expect_code(0);
    assert_eq!(csv.stderr, "");
    snapshot!("log_export_csv", shot(&csv));
    let jsonl = run_in(
        dir.path(),
        &[
            "log",
            "export",
            "log.jsonl",
            "--format",
            "jsonl",
            "--output",
            "out.jsonl",
            "--decision",
            "d-4",
        ],
    );
    jsonl.expect_code(0);
    assert_eq!(jsonl.stdout, "");
    let written = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(ids(&written), ["decision:d-4"]);
    // The output may not be the log itself.
    let same = run_in(
        dir.path(),
        &[
            "log",
            "export",
            "log.jsonl",
            "--format",
            "jsonl",
            "--output",
            "log.jsonl",
        ],
    );
    same.expect_code(2);
    assert_eq!(
        same.stderr,
        "carelevel: error: --output `log.jsonl` is the log file: write the results elsewhere\n"
    );
}

#[test]
fn replay_under_a_new_ruleset() {
    let dir = logs();
    let out = run_in(
        dir.path(),
        &["log", "replay", "log.jsonl", "--rules", "new.yaml"],
    );
    out.expect_code(0);
    snapshot!("log_replay_text", shot(&out));
    let json = run_in(
        dir.path(),
        &[
            "log",
            "replay",
            "log.sqlite",
            "--rules",
            "new.yaml",
            "--format",
            "json",
        ],
    );
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["decisions"], 4);
    assert_eq!(v["replayed"], 3);
    assert_eq!(v["changed_count"], 1);
    assert_eq!(v["escalations"], 1);
    assert_eq!(v["changed"][0]["decision_id"], "d-1");
    assert_eq!(v["changed"][0]["from"], "iop");
    assert_eq!(v["changed"][0]["to"], "residential");
    assert_eq!(v["not_replayable"], serde_json::json!(["d-3"]));
    assert_eq!(v["feedback_skipped"], 1);
    // `--format yaml` is the same report.
    let yaml = run_in(
        dir.path(),
        &[
            "log",
            "replay",
            "log.sqlite",
            "--rules",
            "new.yaml",
            "--format",
            "yaml",
        ],
    );
    yaml.expect_code(0);
    assert_eq!(yaml.stderr, json.stderr);
    let from_yaml: serde_json::Value = serde_yaml::from_str(&yaml.stdout).unwrap();
    assert_eq!(from_yaml, v);
    snapshot!("log_replay_yaml", shot(&yaml));
    // Under the ruleset that made them, nothing changes.
    let same = run_in(
        dir.path(),
        &[
            "log",
            "replay",
            "log.jsonl",
            "--rules",
            &root().join("rules/default.yaml").display().to_string(),
            "--format",
            "json",
        ],
    );
    same.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&same.stdout).unwrap();
    assert_eq!(v["changed_count"], 0);
    assert_eq!(v["replayed"], 3);
}

#[test]
fn replay_lists_decisions_the_new_ruleset_cannot_evaluate() {
    let dir = logs();
    // A ruleset whose `support` scale lacks `limited`: d-1 cannot be evaluated.
    let text = std::fs::read_to_string(dir.path().join("new.yaml"))
        .unwrap()
        .replace("values: [strong, limited, none]", "values: [strong, none]")
        .replace("{support: {at_least: limited}}", "{support: none}");
    std::fs::write(dir.path().join("narrow.yaml"), text).unwrap();
    let out = run_in(
        dir.path(),
        &["log", "replay", "log.jsonl", "--rules", "narrow.yaml"],
    );
    out.expect_code(1);
    snapshot!("log_replay_failed", shot(&out));
}

#[test]
fn assess_decision_log_writes_the_record_before_showing_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let answers: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(STRONG)
            .unwrap()
            .iter()
            .map(|(k, v)| format!("--answer={k}={}", v.as_str().unwrap()))
            .collect();
    let mut args: Vec<&str> = vec!["assess", "--format", "json", "--decision-log", "cli.sqlite"];
    args.extend(answers.iter().map(String::as_str));
    let out = run_in(dir.path(), &args);
    out.expect_code(0);
    let shown: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let logged = run_in(dir.path(), &["log", "query", "cli.sqlite"]);
    logged.expect_code(0);
    let entry: serde_json::Value = serde_json::from_str(logged.stdout.trim_end()).unwrap();
    assert_eq!(entry["kind"], "decision");
    assert_eq!(entry["result"]["level"], shown["level"]["id"]);
    assert_eq!(entry["source"]["channel"], "cli");
    assert_eq!(entry["source"]["route"], "assess");
    assert_eq!(entry["input"]["support"], "strong");
    assert!(entry["decision_id"].as_str().unwrap().starts_with("cli-"));

    // A masking that cannot be applied: nothing shown, nothing logged, exit 2.
    std::fs::write(
        dir.path().join("m.json"),
        r#"{"fields": {"housng": "drop"}}"#,
    )
    .unwrap();
    let mut args: Vec<&str> = vec![
        "assess",
        "--decision-log",
        "bad.jsonl",
        "--decision-log-masking",
        "m.json",
    ];
    args.extend(answers.iter().map(String::as_str));
    let out = run_in(dir.path(), &args);
    out.expect_code(2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("names no question of ruleset `default`")
            && out
                .stderr
                .ends_with("; the decision was not logged, so it is not shown\n"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("bad.jsonl").exists());
}

#[test]
fn batch_decision_log_records_every_result_before_writing_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = STRONG.replace('\n', " ");
    let input = format!("{good}\n{{\"severity\":\"catastrophic\"}}\n{good}\n");
    std::fs::write(dir.path().join("in.jsonl"), &input).unwrap();
    std::fs::write(
        dir.path().join("m.json"),
        r#"{"fields": {"housing": "drop"}}"#,
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &[
            "batch",
            "in.jsonl",
            "--output",
            "out.jsonl",
            "--decision-log",
            "b.jsonl",
            "--decision-log-masking",
            "m.json",
            "--threads",
            "2",
        ],
    );
    // One error record: exit 1, the two results written and logged.
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("carelevel: decision log `b.jsonl`: 2 records written"),
        "{}",
        out.stderr
    );
    let results = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(results.lines().count(), 3, "{results}");
    let logged = run_in(dir.path(), &["log", "query", "b.jsonl"]);
    logged.expect_code(0);
    let entries: Vec<serde_json::Value> = logged
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 2);
    let run = entries[0]["decision_id"]
        .as_str()
        .unwrap()
        .strip_suffix("-1")
        .unwrap()
        .to_owned();
    assert!(run.starts_with("cli-"), "{run}");
    assert_eq!(entries[1]["decision_id"], format!("{run}-3"));
    for e in &entries {
        assert_eq!(e["source"]["route"], "batch");
        assert_eq!(e["source"]["channel"], "cli");
        assert!(e["input"].get("housing").is_none());
        assert_eq!(e["masked"], serde_json::json!(["housing"]));
    }

    // A log that cannot be written: exit 2, no output file, and it says why.
    let out = run_in(
        dir.path(),
        &[
            "batch",
            "in.jsonl",
            "--output",
            "out2.jsonl",
            "--decision-log",
            "/dev/full",
        ],
    );
    out.expect_code(2);
    assert!(
        out.stderr.contains("unknown format"),
        "/dev/full has no log extension: {}",
        out.stderr
    );
    let full = dir.path().join("full.jsonl");
    std::os::unix::fs::symlink("/dev/full", &full).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "batch",
            "in.jsonl",
            "--output",
            "out2.jsonl",
            "--decision-log",
            "full.jsonl",
        ],
    );
    out.expect_code(2);
    assert!(
        out.stderr.contains("disk full")
            && out
                .stderr
                .contains("were not logged, so they are not written")
            && out.stderr.contains("no output file was written"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("out2.jsonl").exists());
}
