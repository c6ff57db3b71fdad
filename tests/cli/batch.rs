//! `carelevel batch`: formats, error records, files, stdin, exit codes, and the
//! pipeline under faults (order, completeness, determinism) and under SIGKILL.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use carelevel::Ruleset;
use serde_json::Value;

use crate::util::{command, root, run, run_with_stdin, snapshot, Run};

/// The snapshot of a batch run: the elapsed time and rate vary, so the summary's
/// `time:` line is replaced; so is the engine version in compact JSON.
fn batch_snapshot(run: &Run) -> String {
    let version = format!("\"engine_version\":\"{}\"", env!("CARGO_PKG_VERSION"));
    run.snapshot()
        .replace(&version, "\"engine_version\":\"[VERSION]\"")
        .lines()
        .map(|l| {
            if l.starts_with("  time: ") {
                "  time: [TIME]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The output as JSON values, one per line.
pub(crate) fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Run `carelevel` with raw bytes on stdin.
pub(crate) fn run_with_stdin_bytes(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The child may stop reading early on an error; that is its business.
        let _ = pipe.write_all(&data);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        output.status.code().expect("killed by a signal"),
        output.stdout,
        String::from_utf8(output.stderr).unwrap(),
    )
}

// ---------------------------------------------------------------------------
// The example corpus
// ---------------------------------------------------------------------------

#[test]
fn compact_jsonl_of_the_example_corpus() {
    let out = run(&["batch", "examples/cases/people.jsonl"]);
    out.expect_code(0);
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 40);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["line"], i + 1);
        assert_eq!(r["id"], format!("p{:03}", i + 1));
    }
    snapshot!("batch_compact_jsonl_people", batch_snapshot(&out));
}

#[test]
fn compact_csv_of_the_example_corpus() {
    let out = run(&["batch", "examples/cases/people.csv", "--format", "csv"]);
    out.expect_code(0);
    snapshot!("batch_compact_csv_people", batch_snapshot(&out));
}

/// The CSV corpus and the JSON Lines corpus hold the same people: the same results,
/// with CSV line numbers one more (the header).
#[test]
fn csv_and_jsonl_inputs_agree() {
    let from_jsonl = json_lines(&run(&["batch", "examples/cases/people.jsonl"]).stdout);
    let from_csv = json_lines(&run(&["batch", "examples/cases/people.csv"]).stdout);
    assert_eq!(from_jsonl.len(), from_csv.len());
    for (mut j, mut c) in from_jsonl.into_iter().zip(from_csv) {
        assert_eq!(c["line"].as_u64().unwrap(), j["line"].as_u64().unwrap() + 1);
        j["line"] = Value::Null;
        c["line"] = Value::Null;
        assert_eq!(j, c);
    }
}

/// `--fields full` carries exactly the library's `Assessment` of every record.
#[test]
fn full_jsonl_is_the_library_assessment() {
    let out = run(&["batch", "examples/cases/people.jsonl", "--fields", "full"]);
    out.expect_code(0);
    let ruleset = Ruleset::default_ruleset().unwrap();
    let input = std::fs::read_to_string(root().join("examples/cases/people.jsonl")).unwrap();
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), input.lines().count());
    for (line, (text, record)) in input.lines().zip(&records).enumerate() {
        let (answers, id) = ruleset.answers_from_json_record(text, Some("id")).unwrap();
        let expected = serde_json::to_value(ruleset.assess(&answers).unwrap()).unwrap();
        assert_eq!(record["assessment"], expected, "line {}", line + 1);
        assert_eq!(record["line"], line + 1);
        assert_eq!(record["id"], serde_json::to_value(id).unwrap());
    }
}

/// A few people in full, JSON and CSV, for review by eye: complete answers, a refer
/// flag, and a person with harm_risk unanswered.
#[test]
fn full_output_snapshots() {
    let input = std::fs::read_to_string(root().join("examples/cases/people.jsonl")).unwrap();
    let missing = input
        .lines()
        .find(|l| !l.contains("harm_risk"))
        .expect("a person with harm_risk unanswered");
    let refer = input
        .lines()
        .find(|l| l.contains("\"imminent\""))
        .expect("a person with a refer flag");
    let few = format!("{}\n{refer}\n{missing}\n", input.lines().next().unwrap());
    let json = run_with_stdin(&["batch", "-", "--fields", "full"], Some(&few));
    json.expect_code(0);
    snapshot!("batch_full_jsonl_three", batch_snapshot(&json));
    let csv = run_with_stdin(
        &["batch", "-", "--fields", "full", "--format", "csv"],
        Some(&few),
    );
    csv.expect_code(0);
    snapshot!("batch_full_csv_three", batch_snapshot(&csv));
}

#[test]
fn full_csv_of_the_example_corpus() {
    let out = run(&[
        "batch",
        "examples/cases/people.csv",
        "--fields",
        "full",
        "--format",
        "csv",
    ]);
    out.expect_code(0);
    assert_eq!(out.stdout.lines().count(), 41);
    snapshot!("batch_full_csv_people", batch_snapshot(&out));
}

/// Integer answers from CSV and the score column, with the scored six-level ruleset.
#[test]
fn six_levels_csv_with_scores() {
    let csv = "\
id,use_severity,ciwa_score,complicated_withdrawal_history,psychiatric,environment
s1,moderate,12,false,mild,mixed
s2,severe,30,true,severe,unsupportive
s3,mild,,,none,supportive
s4,mild,99,false,none,supportive
";
    let out = run_with_stdin(
        &[
            "batch",
            "--rules",
            "examples/rulesets/six-levels.yaml",
            "-",
            "--input-format",
            "csv",
            "--format",
            "csv",
            "--fields",
            "full",
        ],
        Some(csv),
    );
    out.expect_code(1);
    assert!(out.stdout.contains("ciwa_score"), "{}", out.stdout);
    snapshot!("batch_six_levels_csv", batch_snapshot(&out));
}

// ---------------------------------------------------------------------------
// Bad records, spreadsheets, files, stdin, exit codes
// ---------------------------------------------------------------------------

#[test]
fn jsonl_error_records_with_line_numbers() {
    let out = run(&["batch", "tests/cli/fixtures/batch-errors.jsonl"]);
    out.expect_code(1);
    let records = json_lines(&out.stdout);
    let lines: Vec<u64> = records
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    // Lines 5 and 10 are blank: skipped and counted, no record.
    assert_eq!(lines, [1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14]);
    let errors: Vec<u64> = records
        .iter()
        .filter(|r| r.get("error").is_some())
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(errors, [2, 3, 4, 6, 7, 11, 12, 14]);
    assert!(
        out.stderr.starts_with(
            "carelevel batch: 14 lines read: 12 records (4 assessed, 8 errors), 2 blank lines"
        ),
        "{}",
        out.stderr
    );
    snapshot!("batch_errors_jsonl", batch_snapshot(&out));
}

#[test]
fn csv_error_records_with_line_numbers() {
    let out = run(&["batch", "tests/cli/fixtures/batch-errors.csv"]);
    out.expect_code(1);
    let records = json_lines(&out.stdout);
    let lines: Vec<u64> = records
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    // Line 6 is blank. Line 8 opens a quote that only line 9 closes: a record is one
    // line, so both lines are error records of their own.
    assert_eq!(lines, [2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13]);
    let error = |line: u64| {
        records
            .iter()
            .find(|r| r["line"] == line)
            .and_then(|r| r["error"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        error(8).contains("it would run over lines 8 to 9"),
        "{}",
        error(8)
    );
    assert!(
        error(9).contains("inside an unquoted value"),
        "{}",
        error(9)
    );
    snapshot!("batch_errors_csv", batch_snapshot(&out));

    let csv = run(&[
        "batch",
        "tests/cli/fixtures/batch-errors.csv",
        "--format",
        "csv",
    ]);
    csv.expect_code(1);
    snapshot!("batch_errors_csv_to_csv", batch_snapshot(&csv));
}

#[test]
fn csv_output_escapes_formulas() {
    let out = run(&[
        "batch",
        "tests/cli/fixtures/batch-formula.csv",
        "--format",
        "csv",
    ]);
    out.expect_code(1);
    for line in out.stdout.lines().skip(1) {
        let first = line.trim_start_matches('"').chars().next().unwrap();
        assert!(
            !"=+-@\t\r".contains(first),
            "unescaped formula cell: {line}"
        );
    }
    assert!(out
        .stdout
        .contains("\"'=HYPERLINK(\"\"http://example.invalid/\"\",\"\"open me\"\")\","));
    snapshot!("batch_formula_csv", batch_snapshot(&out));

    // JSON Lines ids are not trimmed: a tab or carriage return first is written as the
    // visible escape `\t` / `\r` (no cell holds a control character), which no
    // spreadsheet reads as a formula.
    let jsonl = "{\"id\": \"\\tTAB\"}\n{\"id\": \"\\r=CR\"}\n{\"id\": \"-5\"}\n{\"id\": -5}\n";
    let out = run_with_stdin(&["batch", "-", "--format", "csv"], Some(jsonl));
    let ids: Vec<String> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    // A number id is a number, not text: it is written as is.
    assert_eq!(ids, ["\\tTAB", "\\r=CR", "'-5", "-5"]);
}

#[test]
fn errors_file_takes_the_error_records() {
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("rejected.jsonl");
    let errors_arg = errors.to_str().unwrap();
    let out = run(&[
        "batch",
        "tests/cli/fixtures/batch-errors.jsonl",
        "--errors",
        errors_arg,
    ]);
    out.expect_code(1);
    let good = json_lines(&out.stdout);
    assert_eq!(good.len(), 4);
    assert!(good.iter().all(|r| r.get("error").is_none()));
    let bad = json_lines(&std::fs::read_to_string(&errors).unwrap());
    assert_eq!(bad.len(), 8);
    assert!(bad.iter().all(|r| r.get("error").is_some()));
    let snap = batch_snapshot(&out).replace(errors_arg, "[TMP]/rejected.jsonl");
    snapshot!("batch_errors_file", snap);

    // CSV: the errors file has `line,id,error`.
    let errors_csv = dir.path().join("rejected.csv");
    let out = run(&[
        "batch",
        "tests/cli/fixtures/batch-errors.csv",
        "--format",
        "csv",
        "--errors",
        errors_csv.to_str().unwrap(),
    ]);
    out.expect_code(1);
    let text = std::fs::read_to_string(&errors_csv).unwrap();
    assert!(
        text.starts_with("line,id,error\n3,,the record has 9 fields"),
        "{text}"
    );
    // The header and 6 error records (lines 3, 4, 5, 8, 9 and 10).
    assert_eq!(text.lines().count(), 7);
    // The header and 5 assessed records.
    assert_eq!(out.stdout.lines().count(), 6);
}

#[test]
fn stdin_jsonl_and_csv() {
    let jsonl = std::fs::read_to_string(root().join("examples/cases/people.jsonl")).unwrap();
    let csv = std::fs::read_to_string(root().join("examples/cases/people.csv")).unwrap();
    let file = run(&["batch", "examples/cases/people.jsonl"]);
    let piped = run_with_stdin(&["batch", "-"], Some(&jsonl));
    piped.expect_code(0);
    assert_eq!(piped.stdout, file.stdout);
    let piped_csv = run_with_stdin(&["batch", "-", "--input-format", "csv"], Some(&csv));
    piped_csv.expect_code(0);
    assert_eq!(
        piped_csv.stdout,
        run(&["batch", "examples/cases/people.csv"]).stdout
    );
}

#[test]
fn required_answer_missing_is_an_error_record() {
    let jsonl =
        "{\"id\": 1, \"risk\": \"lots\", \"alone\": false}\n{\"id\": 2, \"risk\": \"lots\"}\n";
    let out = run_with_stdin(
        &["batch", "--rules", "tests/cli/fixtures/small.yaml", "-"],
        Some(jsonl),
    );
    out.expect_code(1);
    let records = json_lines(&out.stdout);
    assert_eq!(records[0]["level"], "high");
    assert_eq!(records[1]["line"], 2);
    assert_eq!(records[1]["id"], 2);
    assert_eq!(records[1]["error"], "required answers are missing: alone");
}

#[test]
fn input_details_bom_crlf_blank_and_long_lines() {
    let good = r#"{"id":"a","severity":"mild"}"#;
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend_from_slice(good.as_bytes());
    input.extend_from_slice(b"\r\n\r\n  \t\n");
    input.extend_from_slice(b"{\"id\":\"bad\xFF\"}\n");
    input.extend_from_slice(&vec![b' '; 2 << 20]);
    input.extend_from_slice(b"{}\n");
    input.extend_from_slice(good.replace("\"a\"", "\"last\"").as_bytes());
    let (code, stdout, stderr) = run_with_stdin_bytes(&["batch", "-"], &input);
    assert_eq!(code, 1, "{stderr}");
    let records = json_lines(&String::from_utf8(stdout).unwrap());
    assert_eq!(records.len(), 4);
    assert_eq!(
        (&records[0]["id"], &records[0]["line"]),
        (&"a".into(), &1.into())
    );
    assert_eq!(records[1]["line"], 4);
    assert_eq!(
        records[1]["error"],
        "the record is not valid UTF-8 text (at byte 11)"
    );
    assert_eq!(records[2]["line"], 5);
    assert_eq!(
        records[2]["error"],
        "the record is longer than 1048576 bytes; it was not read"
    );
    assert_eq!(
        (&records[3]["id"], &records[3]["line"]),
        (&"last".into(), &6.into())
    );
    assert!(stderr.contains("2 blank lines skipped"), "{stderr}");

    // CSV: BOM, CRLF, a blank CRLF line, a quoted field with a comma.
    let csv = b"\xEF\xBB\xBFid,severity\r\n\"a,1\",mild\r\n\r\nb,moderate";
    let (code, stdout, stderr) =
        run_with_stdin_bytes(&["batch", "-", "--input-format", "csv"], csv);
    assert_eq!(code, 0, "{stderr}");
    let records = json_lines(&String::from_utf8(stdout).unwrap());
    assert_eq!(
        (&records[0]["id"], &records[0]["line"]),
        (&"a,1".into(), &2.into())
    );
    assert_eq!(
        (&records[1]["id"], &records[1]["line"]),
        (&"b".into(), &4.into())
    );
    assert!(stderr.contains("1 blank line skipped"), "{stderr}");
    assert!(stderr.contains("warning: `<stdin>` has no column for withdrawal_risk"));
}

#[test]
fn usage_and_input_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().to_str().unwrap();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "batch_missing_input",
            &["batch", "no/such/file.jsonl"],
            "cannot read input `no/such/file.jsonl`: no such file",
        ),
        (
            "batch_unknown_extension",
            &["batch", "rules/default.yaml"],
            "cannot tell the format",
        ),
        (
            "batch_bad_csv_header",
            &[
                "batch",
                "tests/cli/fixtures/batch-formula.csv",
                "--id-field",
                "key",
            ],
            "column 1 `id` is neither a question",
        ),
        (
            "batch_id_field_is_a_question",
            &[
                "batch",
                "examples/cases/people.jsonl",
                "--id-field",
                "severity",
            ],
            "names a question of the ruleset",
        ),
        (
            "batch_invalid_ruleset",
            &[
                "batch",
                "--rules",
                "tests/cli/fixtures/semantic-errors.yaml",
                "examples/cases/people.jsonl",
            ],
            "cannot be used",
        ),
        (
            "batch_output_is_input",
            &[
                "batch",
                "examples/cases/people.jsonl",
                "--output",
                "examples/cases/people.jsonl",
            ],
            "is the input file",
        ),
    ];
    for (name, args, message) in cases {
        let out = run(args);
        out.expect_code(2);
        assert_eq!(out.stdout, "", "{name}");
        assert!(out.stderr.contains(message), "{name}: {}", out.stderr);
        snapshot!(*name, batch_snapshot(&out));
    }
    // An output in a directory that does not exist.
    let missing_dir = format!("{tmp}/no/such/dir/out.jsonl");
    let out = run(&["batch", "examples/cases/people.jsonl", "-o", &missing_dir]);
    out.expect_code(2);
    assert!(out.stderr.contains("cannot create"), "{}", out.stderr);
    // An empty CSV input.
    let out = run_with_stdin(&["batch", "-", "--input-format", "csv"], Some(""));
    out.expect_code(2);
    assert!(
        out.stderr.contains("it needs a header row"),
        "{}",
        out.stderr
    );
    // Nothing was left behind in the temporary directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn output_file_appears_complete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let out = run(&[
        "batch",
        "examples/cases/people.jsonl",
        "--output",
        path.to_str().unwrap(),
    ]);
    out.expect_code(0);
    assert_eq!(out.stdout, "");
    // CSV from the name; same records as on stdout.
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        written,
        run(&["batch", "examples/cases/people.jsonl", "--format", "csv"]).stdout
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["out.csv"]);
}

/// An input that fails while being read (Linux: reading `/proc/self/mem` at offset 0
/// fails with EIO) is a handled error after the output file was started: exit 2, and
/// neither the output nor its temporary file is left.
#[cfg(target_os = "linux")]
#[test]
fn input_read_error_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let out = run(&[
        "batch",
        "/proc/self/mem",
        "--input-format",
        "jsonl",
        "--output",
        path.to_str().unwrap(),
    ]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("cannot read input `/proc/self/mem` at line 1"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("no output file was written"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------
// Under faults and kills
// ---------------------------------------------------------------------------

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, items: &'a [String]) -> &'a str {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// What a generated line should produce.
#[derive(Debug, PartialEq)]
enum Expect {
    /// An assessed record with this id.
    Good(String),
    /// An error record whose message contains this.
    Bad(&'static str),
    /// A blank line: no record.
    Blank,
}

/// `n` lines of JSON Lines for the default ruleset: mostly complete records, one in
/// ten with an answer left out, and a bad record every 97 lines cycling through every
/// kind of fault.
fn faulty_input(ruleset: &Ruleset, n: usize) -> (Vec<u8>, Vec<Expect>) {
    let mut rng = Rng(7);
    let factors: Vec<(String, Vec<String>)> = ruleset
        .factors()
        .iter()
        .map(|f| {
            let values = match &f.kind {
                carelevel::FactorKind::Ordinal { values } => {
                    values.iter().map(|v| format!("\"{v}\"")).collect()
                }
                carelevel::FactorKind::Boolean => vec!["true".into(), "false".into()],
                carelevel::FactorKind::Integer { min, max, .. } => {
                    vec![min.to_string(), max.to_string()]
                }
            };
            (f.id.clone(), values)
        })
        .collect();
    let mut data = Vec::new();
    let mut expect = Vec::new();
    for i in 1..=n {
        let id = format!("r{i}");
        let faulty = i % 97 == 0;
        let mut fields = vec![format!("\"id\":\"{id}\"")];
        let skip =
            (!faulty && rng.next() % 10 == 0).then(|| (rng.next() % factors.len() as u64) as usize);
        for (k, (name, values)) in factors.iter().enumerate() {
            if Some(k) != skip {
                fields.push(format!("\"{name}\":{}", rng.pick(values)));
            }
        }
        let good = format!("{{{}}}", fields.join(","));
        let (line, e): (Vec<u8>, Expect) = if faulty {
            match (i / 97) % 8 {
                0 => (good[..good.len() / 2].into(), Expect::Bad("invalid JSON")),
                1 => (
                    good.replace("\"severity\"", "\"sevrity\"").into(),
                    Expect::Bad("unknown question"),
                ),
                2 => (
                    good.replacen("\"severity\":\"", "\"severity\":\"extreme", 1)
                        .into(),
                    Expect::Bad("is not one of"),
                ),
                3 => (b"[]".to_vec(), Expect::Bad("expected a JSON object")),
                4 => (
                    [&good.as_bytes()[..5], b"\xC3\x28", &good.as_bytes()[5..]].concat(),
                    Expect::Bad("not valid UTF-8"),
                ),
                5 => (Vec::new(), Expect::Blank),
                6 => (
                    good.replace(
                        "\"step_down_from_inpatient\":false",
                        "\"step_down_from_inpatient\":\"no\"",
                    )
                    .replace(
                        "\"step_down_from_inpatient\":true",
                        "\"step_down_from_inpatient\":\"yes\"",
                    )
                    .into(),
                    Expect::Bad("expected true or false"),
                ),
                _ => (
                    format!("{good} {good}").into(),
                    Expect::Bad("trailing characters"),
                ),
            }
        } else {
            (good.into_bytes(), Expect::Good(id))
        };
        data.extend_from_slice(&line);
        data.push(b'\n');
        expect.push(e);
    }
    (data, expect)
}

/// ~100k records with faults at known lines: every good record is assessed exactly
/// as `Ruleset::decide` decides it, every bad one is reported once with its line,
/// nothing is lost, the order is the input order, and the output is byte-for-byte
/// the same across runs and thread counts.
#[test]
fn large_input_with_faults() {
    let ruleset = Ruleset::default_ruleset().unwrap();
    let n = 100_000;
    let (data, expect) = faulty_input(&ruleset, n);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("faulty.jsonl");
    std::fs::write(&input, &data).unwrap();
    let input_arg = input.to_str().unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_carelevel"))
        .args(["batch", input_arg])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();

    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let mut records = stdout.lines();
    let (mut good, mut bad, mut blank) = (0, 0, 0);
    for (i, e) in expect.iter().enumerate() {
        let line = i + 1;
        if *e == Expect::Blank {
            blank += 1;
            continue;
        }
        let record: Value =
            serde_json::from_str(records.next().expect("a record per line")).unwrap();
        assert_eq!(record["line"], line, "order");
        match e {
            Expect::Good(id) => {
                good += 1;
                assert_eq!(record["id"], id.as_str());
                let text = std::str::from_utf8(lines[i]).unwrap();
                let (answers, _) = ruleset.answers_from_json_record(text, Some("id")).unwrap();
                let d = ruleset.decide(&answers).unwrap();
                assert_eq!(record["level"], d.level, "line {line}");
                assert_eq!(
                    record["deciding_rules"],
                    serde_json::json!(d.deciding_rules)
                );
                assert_eq!(record["flags"], serde_json::json!(d.flags));
                assert_eq!(record["refer"], d.refer);
                assert_eq!(record["needs_review"], d.needs_review);
            }
            Expect::Bad(message) => {
                bad += 1;
                let error = record["error"]
                    .as_str()
                    .unwrap_or_else(|| panic!("line {line}: {record}"));
                assert!(error.contains(message), "line {line}: {error}");
            }
            Expect::Blank => unreachable!(),
        }
    }
    assert!(records.next().is_none(), "no extra records");
    assert!(bad > 900 && blank > 100, "{bad} {blank}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "carelevel batch: {n} lines read: {} records ({good} assessed, {bad} errors), \
             {blank} blank lines skipped",
            good + bad
        )),
        "{stderr}"
    );

    // Byte-for-byte the same: again, on one thread, and in full.
    for threads in ["2", "1"] {
        let again = Command::new(env!("CARGO_BIN_EXE_carelevel"))
            .args(["batch", input_arg, "--threads", threads])
            .output()
            .unwrap();
        assert!(
            again.stdout == out.stdout,
            "output differs with --threads {threads}"
        );
    }
}

/// The same for CSV, with quoted commas and quotes, and stray quotes that cost only
/// their own line.
#[test]
fn large_csv_input_with_faults() {
    let ruleset = Ruleset::default_ruleset().unwrap();
    let mut rng = Rng(11);
    let factors: Vec<(String, Vec<String>)> = ruleset
        .factors()
        .iter()
        .map(|f| match &f.kind {
            carelevel::FactorKind::Ordinal { values } => (f.id.clone(), values.clone()),
            _ => (f.id.clone(), vec!["true".into(), "false".into()]),
        })
        .collect();
    let header: Vec<&str> = factors.iter().map(|(n, _)| n.as_str()).collect();
    let mut data = format!("id,{}\n", header.join(","));
    let mut expect = Vec::new(); // (line, whether it is an error record)
    for (line, i) in (2..).zip(1..=20_000) {
        let cells: Vec<&str> = factors.iter().map(|(_, v)| rng.pick(v)).collect();
        let id = if i % 10 == 0 {
            format!("\"r{i}, \"\"quoted\"\"\"")
        } else {
            format!("r{i}")
        };
        let row = match i % 101 {
            0 => format!("{id},{}", cells[1..].join(",")),
            50 => format!("{id},extreme,{}", cells[1..].join(",")),
            70 => format!("\"r{i},{}", cells.join(",")),
            80 => format!("r{i}\",{}", cells.join(",")),
            _ => format!("{id},{}", cells.join(",")),
        };
        expect.push((line, [0, 50, 70, 80].contains(&(i % 101))));
        data.push_str(&row);
        data.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("faulty.csv");
    std::fs::write(&input, &data).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_carelevel"))
        .args(["batch", input.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let records = json_lines(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(records.len(), expect.len());
    for (i, (record, (line, bad))) in (1..).zip(records.iter().zip(&expect)) {
        assert_eq!(record["line"], *line);
        assert_eq!(record.get("error").is_some(), *bad, "{record}");
        if !bad {
            let id = if i % 10 == 0 {
                format!("r{i}, \"quoted\"")
            } else {
                format!("r{i}")
            };
            assert_eq!(record["id"], id.as_str());
        }
    }
    let bad = expect.iter().filter(|(_, bad)| *bad).count();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "carelevel batch: 20001 lines read: 1 header line, 20000 records ({} assessed, \
             {bad} errors), 0 blank lines skipped",
            20_000 - bad
        )),
        "{stderr}"
    );
}

/// SIGKILL in the middle of a batch never leaves a file under the output's name.
/// Standard input is held open, so the batch is certainly running when killed.
#[test]
fn kill_mid_run_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let mut child = command(&["batch", "-", "--output", path.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ruleset = Ruleset::default_ruleset().unwrap();
    let (data, _) = faulty_input(&ruleset, 30_000);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&data).unwrap();
    stdin.flush().unwrap();

    // Wait until results are being written to the temporary file.
    let started = Instant::now();
    let temp_written = || {
        std::fs::read_dir(dir.path()).unwrap().any(|e| {
            let e = e.unwrap();
            e.file_name() != "out.jsonl" && e.metadata().unwrap().len() > 0
        })
    };
    while !temp_written() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no output started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    drop(stdin);
    assert!(status.code().is_none(), "killed by a signal");
    assert!(!path.exists(), "a partial output file under the final name");
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let name = entry.unwrap().file_name();
        assert_ne!(name, "out.jsonl");
        let name = name.to_string_lossy().into_owned();
        assert!(
            name.starts_with(".out.jsonl.") && name.ends_with(".tmp"),
            "{name}"
        );
    }
    assert!(!Path::new(&path).exists());
}

#[test]
fn output_dash_is_stdout_and_a_missing_id_column_is_said() {
    let plain = run(&["batch", "examples/cases/people.jsonl"]);
    let dash = run(&["batch", "examples/cases/people.jsonl", "--output", "-"]);
    dash.expect_code(0);
    assert_eq!(dash.stdout, plain.stdout);
    assert!(!root().join("-").exists());

    let csv = "severity,harm_risk\nmild,none\n";
    let out = run_with_stdin(&["batch", "-", "--input-format", "csv"], Some(csv));
    out.expect_code(0);
    assert!(
        out.stdout.starts_with("{\"id\":null,\"line\":2,"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(
            "warning: `<stdin>` has no id column `id`: records are identified by their line only"
        ),
        "{}",
        out.stderr
    );
}
