//! The property of the `batch_csv` fuzz target (`fuzz/fuzz_targets/batch_csv.rs`) as a
//! proptest, run with the ordinary tests: any bytes as CSV batch input go through
//! the real reader and pipeline without a panic, every physical line is accounted
//! for, and no record id or answer holds a line break.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::io::Read;

use carelevel::Ruleset;
use proptest::prelude::*;
use serde_json::Value;

use super::tests::Trickle;
use super::{for_each_record, run, Error, Fields, Input, Options, OutputFormat, RecordContent};

const SMALL: &str = include_str!("../../../tests/cli/fixtures/small.yaml");

/// Physical lines of `data`: LF-terminated lines, plus a last one without a line end.
fn physical_lines(data: &[u8]) -> u64 {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let newlines = memchr::memchr_iter(b'\n', data).count() as u64;
    newlines + u64::from(!data.is_empty() && !data.ends_with(b"\n"))
}

/// Run the batch over `data` and check the property; returns the output.
fn batch(rs: &Ruleset, data: &[u8], trickle: bool, threads: usize) -> Option<Vec<u8>> {
    let reader: Box<dyn Read + Send + '_> = if trickle {
        Box::new(Trickle { data, step: 0 })
    } else {
        Box::new(data)
    };
    let input = match Input::csv(reader, rs, Some("id")) {
        Ok((input, _)) => input,
        // A header that cannot be used is an input error (exit code 2), said before
        // any record is read.
        Err(Error::Header(message)) => {
            assert!(!message.is_empty());
            return None;
        }
        Err(e) => panic!("{e}"),
    };
    let options = Options {
        format: OutputFormat::Jsonl,
        fields: Fields::Compact,
        threads,
    };
    let mut out = Vec::new();
    let tally = run(rs, input, &options, &mut out, None, &mut |_| {}).unwrap();
    assert_eq!(tally.lines, physical_lines(data), "every line is read");
    assert_eq!(
        tally.header_lines + tally.records + tally.blank_lines,
        tally.lines,
        "every line is accounted for: {tally:?}"
    );
    assert_eq!(tally.header_lines, 1);
    assert_eq!(tally.assessed + tally.errors, tally.records);
    let text = std::str::from_utf8(&out).unwrap();
    let mut last = 0;
    let mut records = 0;
    for line in text.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        let n = record["line"].as_u64().unwrap();
        assert!(
            n > last && n <= tally.lines,
            "in order, one per line: {line}"
        );
        last = n;
        records += 1;
        if let Some(id) = record["id"].as_str() {
            assert!(!id.contains(['\n', '\r']), "a line break in an id: {line}");
        }
    }
    assert_eq!(records, tally.records);
    Some(out)
}

/// The same input through the sequential record reader: no field holds a line
/// break, and the counts agree with the pipeline's.
fn fields(rs: &Ruleset, data: &[u8]) {
    let Ok((input, _)) = Input::csv(Box::new(data), rs, Some("id")) else {
        return;
    };
    let tally = for_each_record(input, |record| {
        if let RecordContent::Csv(fields) = record.content {
            for field in fields.iter() {
                assert!(!field.contains(&b'\n') && !field.contains(&b'\r'));
            }
            assert!(fields.len() <= super::MAX_CSV_FIELDS);
        }
        Ok::<(), ()>(())
    })
    .unwrap()
    .unwrap();
    assert_eq!(tally.lines, physical_lines(data));
    assert_eq!(
        tally.header_lines + tally.records + tally.blank_lines,
        tally.lines
    );
}

/// The whole property, as the fuzz target checks it.
fn check(data: &[u8]) {
    let rs = Ruleset::from_yaml(SMALL).unwrap();
    let whole = batch(&rs, data, false, 2);
    assert_eq!(
        batch(&rs, data, true, 1),
        whole,
        "independent of read sizes"
    );
    fields(&rs, data);
}

/// CSV-ish text: a header (mostly valid), then tokens that matter to the dialect.
fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    let header = prop::sample::select(vec![
        "id,risk,alone\n",
        "\u{feff}id,risk,alone\r\n",
        "risk,alone\n",
        "\n\nid,risk\n",
        "",
    ]);
    let token = prop::sample::select(vec![
        "\"", "\"\"", ",", "\n", "\r\n", "\r", "a", "lots", "none", "some", "true", "false", " ",
        "x\"y", "\u{feff}", "\u{e9}", "id",
    ]);
    (header, prop::collection::vec(token, 0..120))
        .prop_map(|(h, tokens)| [h.as_bytes(), tokens.concat().as_bytes()].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn csv_batch_text(data in csv_text()) {
        check(&data);
    }

    #[test]
    fn csv_batch_bytes(data in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut with_header = b"id,risk,alone\n".to_vec();
        with_header.extend_from_slice(&data);
        check(&with_header);
        check(&data);
    }
}

/// Shapes the generators may miss: a quote opened on the header's next line and
/// closed far later, a line of only a CR, a last line of only a quote.
#[test]
fn csv_batch_edge_cases() {
    for data in [
        &b"id,risk,alone\n\"a,lots,true\nb,none,false\nc\",lots,true\n"[..],
        b"id,risk,alone\n\r\n\r\r\n\"",
        b"\xEF\xBB\xBF",
        b"id\n\"\"\"\n\"\"\"\n",
        b"id,risk,alone",
    ] {
        check(data);
    }
}
