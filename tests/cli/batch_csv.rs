//! `carelevel batch` on CSV input: one record is one physical line. A stray quote, an
//! unclosed quoted field or a bare carriage return costs the record on its own line
//! and nothing else; every line is accounted for in the summary.

use serde_json::Value;

use crate::batch::{json_lines, run_with_stdin_bytes};

/// Run `batch` on CSV bytes from stdin (JSON Lines out): exit code, records, stderr.
fn csv_batch(input: &[u8], extra: &[&str]) -> (i32, Vec<Value>, String) {
    let mut args = vec!["batch", "-", "--input-format", "csv"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run_with_stdin_bytes(&args, input);
    let records = json_lines(&String::from_utf8(stdout).unwrap());
    (code, records, stderr)
}

/// The arguments for the small two-level ruleset (`risk`, `alone`).
const SMALL: &[&str] = &["--rules", "tests/cli/fixtures/small.yaml"];

/// The first line of the summary on stderr.
fn summary_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("carelevel batch: "))
        .unwrap_or_else(|| panic!("no summary in: {stderr}"))
}

/// `(line, id)` of an assessed record, `(line, error)` of an error record.
fn error_of(record: &Value) -> Option<&str> {
    record.get("error").and_then(Value::as_str)
}

/// The case of the issue: in a 100-line CSV, row 5 starts with `"p5,...` and row 50
/// has `p50",...`. Read as RFC 4180 multi-line CSV, rows p5 to p50 became one
/// assessed record whose id was 46 lines of CSV; now each of the two lines is an
/// error record and every other row is assessed on its own.
#[test]
fn a_stray_quote_costs_only_its_own_line() {
    let mut csv = String::from("id,risk,alone\n");
    for i in 1..=99 {
        match i {
            5 => csv.push_str("\"p5,lots,false\n"),
            50 => csv.push_str("p50\",lots,false\n"),
            _ => csv.push_str(&format!("p{i},{},false\n", ["none", "lots"][i % 2])),
        }
    }
    assert_eq!(csv.lines().count(), 100);
    let (code, records, stderr) = csv_batch(csv.as_bytes(), SMALL);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records.len(), 99);
    for (i, record) in (1..=99).zip(&records) {
        assert_eq!(record["line"], i + 1, "{record}");
        match i {
            5 | 50 => assert!(error_of(record).is_some(), "{record}"),
            _ => {
                assert_eq!(record["id"], format!("p{i}"));
                assert_eq!(record["level"], ["low", "high"][i % 2], "{record}");
            }
        }
    }
    assert_eq!(records[4]["id"], Value::Null);
    assert_eq!(
        error_of(&records[4]).unwrap(),
        "field 1 opens a quote that is not closed on this line (read as multi-line CSV, \
         it would run over lines 6 to 51); a record must be one line, so this line was \
         not read, and the lines after it are read as records of their own"
    );
    assert_eq!(
        error_of(&records[49]).unwrap(),
        "field 1 has a `\"` inside an unquoted value (at byte 4 of the line); a value \
         holding a quote must be quoted whole, with the quote doubled (\"a\"\"b\"); this \
         line was not read"
    );
    assert_eq!(
        summary_line(&stderr),
        "carelevel batch: 100 lines read: 1 header line, 99 records (97 assessed, \
         2 errors), 0 blank lines skipped"
    );
}

/// One stray quote in a large file: exactly one error record, every other row
/// assessed, every line accounted for (with several threads and chunks).
#[test]
fn one_stray_quote_in_a_large_file() {
    let rows = 30_000;
    let mut csv = String::from("id,severity,housing,support\n");
    for i in 1..=rows {
        if i == 12_345 {
            // Never closed: as multi-line CSV it would swallow the rest of the file.
            csv.push_str("\"p12345,severe,homeless,none\n");
        } else {
            csv.push_str(&format!("p{i},severe,homeless,none\n"));
        }
        if i % 1000 == 0 {
            csv.push('\n');
        }
    }
    let (code, records, stderr) = csv_batch(csv.as_bytes(), &["--threads", "3"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records.len(), rows);
    let errors: Vec<&Value> = records.iter().filter(|r| error_of(r).is_some()).collect();
    assert_eq!(errors.len(), 1);
    assert!(
        error_of(errors[0])
            .unwrap()
            .contains("(nor anywhere before the end of the input)"),
        "{}",
        errors[0]
    );
    let id = |r: &Value| r["id"].as_str().map(str::to_owned);
    for (i, record) in (1..=rows).zip(&records) {
        if i != 12_345 {
            assert_eq!(id(record), Some(format!("p{i}")));
            assert!(record.get("level").is_some(), "{record}");
        }
    }
    assert_eq!(
        summary_line(&stderr),
        "carelevel batch: 30031 lines read: 1 header line, 30000 records (29999 assessed, \
         1 error), 30 blank lines skipped"
    );
}

#[test]
fn an_unclosed_quote_on_the_last_line() {
    let (code, records, stderr) = csv_batch(b"id,severity\na,mild\nb,\"mild", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["id"], "a");
    assert_eq!(records[1]["line"], 3);
    assert_eq!(
        error_of(&records[1]).unwrap(),
        "field 2 opens a quote that is not closed on this line (nor anywhere before the \
         end of the input); a record must be one line, so this line was not read"
    );
    assert_eq!(
        summary_line(&stderr),
        "carelevel batch: 3 lines read: 1 header line, 2 records (1 assessed, 1 error), \
         0 blank lines skipped"
    );
}

#[test]
fn quotes_inside_unquoted_fields_and_after_closing_quotes() {
    let csv = "id,severity\na\"b,mild\nc,mi\"ld\n\"d\"x,mild\n\"e\" ,mild\nf,mild\n";
    let (code, records, _) = csv_batch(csv.as_bytes(), &[]);
    assert_eq!(code, 1);
    let errors: Vec<(u64, &str)> = records
        .iter()
        .filter_map(|r| Some((r["line"].as_u64().unwrap(), error_of(r)?)))
        .collect();
    assert_eq!(
        errors,
        [
            (
                2,
                "field 1 has a `\"` inside an unquoted value (at byte 2 of the line); a \
                 value holding a quote must be quoted whole, with the quote doubled \
                 (\"a\"\"b\"); this line was not read"
            ),
            (
                3,
                "field 2 has a `\"` inside an unquoted value (at byte 5 of the line); a \
                 value holding a quote must be quoted whole, with the quote doubled \
                 (\"a\"\"b\"); this line was not read"
            ),
            (
                4,
                "field 1: after its closing quote comes `x` (at byte 4 of the line) \
                 instead of a comma or the end of the line; this line was not read"
            ),
            (
                5,
                "field 1: after its closing quote comes ` ` (at byte 4 of the line) \
                 instead of a comma or the end of the line; this line was not read"
            ),
        ]
    );
    assert_eq!(records[4]["id"], "f");
}

#[test]
fn crlf_line_endings_work() {
    let csv =
        b"id,risk,alone\r\n\"a,1\",none,false\r\n\r\nb,\"lots\",false\r\n\"\",none,\"true\"\r\n";
    let (code, records, stderr) = csv_batch(csv, SMALL);
    assert_eq!(code, 0, "{stderr}");
    let got: Vec<(&Value, &Value, &Value)> = records
        .iter()
        .map(|r| (&r["line"], &r["id"], &r["level"]))
        .collect();
    assert_eq!(
        got,
        [
            (&2.into(), &"a,1".into(), &"low".into()),
            (&4.into(), &"b".into(), &"high".into()),
            (&5.into(), &Value::Null, &"low".into()),
        ]
    );
    assert_eq!(
        summary_line(&stderr),
        "carelevel batch: 5 lines read: 1 header line, 3 records (3 assessed, 0 errors), \
         1 blank line skipped"
    );
}

#[test]
fn a_bare_carriage_return_costs_its_line() {
    let csv = b"id,severity\r\na,mi\rld\r\n\"b\rc\",mild\r\nd,mild\r\r\ne,mild\r\n";
    let (code, records, stderr) = csv_batch(csv, &[]);
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<(u64, Option<&str>)> = records
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), error_of(r)))
        .collect();
    let cr = |byte: usize| {
        format!(
            "the line holds a carriage return (CR) that does not end it (at byte {byte} of \
             the line); lines must end in LF or CRLF; this line was not read"
        )
    };
    assert_eq!(
        lines,
        [
            (2, Some(cr(5).as_str())),
            (3, Some(cr(3).as_str())),
            (4, Some(cr(7).as_str())),
            (5, None),
        ]
    );
    // A file with old Mac line ends (CR only) is one line: its header cannot be read.
    let (code, records, stderr) = csv_batch(b"id,severity\ra,mild\rb,mild\r", &[]);
    assert_eq!(code, 2);
    assert!(records.is_empty());
    assert!(
        stderr.contains(
            "the CSV header row (line 1) cannot be read: the line holds a carriage return \
             (CR) that does not end it (at byte 12 of the line); lines must end in LF or CRLF"
        ),
        "{stderr}"
    );
}

#[test]
fn quoted_fields_empty_with_commas_and_doubled_quotes() {
    let csv = "\u{feff}id,risk,alone\n\"\",\"\",\"false\"\n\"a,\"\"1\"\"\",\"lots\",false\n\"\"\"\",,false\n";
    let (code, records, stderr) = csv_batch(csv.as_bytes(), SMALL);
    assert_eq!(code, 0, "{stderr}");
    let got: Vec<(&Value, &Value)> = records.iter().map(|r| (&r["line"], &r["id"])).collect();
    assert_eq!(
        got,
        [
            (&2.into(), &Value::Null),
            (&3.into(), &"a,\"1\"".into()),
            (&4.into(), &"\"".into()),
        ]
    );
    // An empty quoted cell is an unanswered question: `risk` could be `lots`.
    assert_eq!(records[0]["level"], "high");
    assert_eq!(records[0]["deciding_rules"], serde_json::json!([]));
    assert_eq!(records[0]["needs_review"], true);
    assert_eq!(records[1]["level"], "high");
    assert_eq!(records[2]["level"], "high");
    assert!(summary_line(&stderr)
        .starts_with("carelevel batch: 4 lines read: 1 header line, 3 records"));
}

#[test]
fn a_bad_header_line_is_an_input_error() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"\"id,severity\na,mild\n",
            "the CSV header row (line 1) cannot be read: field 1 opens a quote that is \
             not closed on this line",
        ),
        (
            b"id,sev\"erity\na,mild\n",
            "the CSV header row (line 1) cannot be read: field 2 has a `\"` inside an \
             unquoted value (at byte 7 of the line)",
        ),
    ];
    for (input, message) in cases {
        let (code, records, stderr) = csv_batch(input, &[]);
        assert_eq!(code, 2, "{stderr}");
        assert!(records.is_empty());
        assert!(stderr.contains(message), "{stderr}");
    }
}

/// A UTF-8 byte order mark before the header is skipped.
#[test]
fn a_bom_before_the_header_works() {
    let (code, records, stderr) = csv_batch(b"\xEF\xBB\xBFid,severity\nx,mild\n", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records[0]["id"], "x");
    assert!(!stderr.contains("has no id column"), "{stderr}");
}

/// A line over the per-line limit is one error record, read in bounded memory, and
/// the lines after it are read as usual.
#[test]
fn an_over_long_line_is_one_error_record() {
    let mut csv = b"id,severity\na,mild\n\"".to_vec();
    csv.extend(std::iter::repeat_n(b'x', 3 << 20));
    csv.extend_from_slice(b"\nb,mild\n");
    let (code, records, stderr) = csv_batch(&csv, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records.len(), 3);
    assert_eq!(records[1]["line"], 3);
    assert_eq!(
        error_of(&records[1]).unwrap(),
        "the line is longer than 1048576 bytes; it was not read"
    );
    assert_eq!(records[2]["id"], "b");
}

/// Spreadsheets export booleans as `TRUE`/`FALSE`: every common spelling, in any
/// case, is the boolean it spells; other text is an error record naming the field.
#[test]
fn spreadsheet_booleans_are_accepted_in_any_case() {
    // With `some` risk, living alone decides the level: true is high, false is low.
    let csv = "id,risk,alone\na,some,TRUE\nb,some,False\nc,some,yes\nd,some,NO\ne,some,1\nf,some,0\ng,some,maybe\n";
    let (code, records, stderr) = csv_batch(csv.as_bytes(), SMALL);
    assert_eq!(code, 1, "{stderr}");
    let ok: Vec<&Value> = records.iter().filter(|r| error_of(r).is_none()).collect();
    let levels: Vec<&str> = ok.iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(
        levels,
        ["high", "low", "high", "low", "high", "low"],
        "{records:?}"
    );
    let bad = error_of(&records[6]).unwrap();
    assert!(
        bad.contains("alone") && bad.contains("expected true or false"),
        "{bad}"
    );
}

/// `batch -` reads JSON Lines; CSV on stdin is refused with a hint (no output, exit 2),
/// and `--input-format csv` reads it.
#[test]
fn csv_on_stdin_without_input_format_is_refused_with_a_hint() {
    let csv =
        std::fs::read_to_string(crate::util::root().join("examples/cases/people.csv")).unwrap();
    let out = crate::util::run_with_stdin(&["batch", "-"], Some(&csv));
    out.expect_code(2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.starts_with("carelevel: error: standard input looks like CSV, not JSON Lines: its first line is `id,"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Pass `--input-format csv`"),
        "{}",
        out.stderr
    );
    let read = crate::util::run_with_stdin(&["batch", "-", "--input-format", "csv"], Some(&csv));
    read.expect_code(0);
    let file = crate::util::run(&["batch", "examples/cases/people.csv"]);
    assert_eq!(read.stdout, file.stdout);
    // JSON Lines on stdin still works, and is read whole.
    let jsonl =
        std::fs::read_to_string(crate::util::root().join("examples/cases/people.jsonl")).unwrap();
    let piped = crate::util::run_with_stdin(&["batch", "-"], Some(&jsonl));
    let named = crate::util::run(&["batch", "examples/cases/people.jsonl"]);
    assert_eq!(piped.code, named.code);
    assert_eq!(piped.stdout, named.stdout);
}
