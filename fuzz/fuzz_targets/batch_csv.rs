//! Arbitrary bytes as CSV batch input, through the real reader and pipeline of
//! `carelevel batch` (`carelevel_batch`), with the small two-level fixture
//! ruleset (columns `id,risk,alone`). Asserts: no panic; a header that cannot be used
//! is an error with a message; otherwise every physical line is accounted for
//! (`header_lines + records + blank_lines == lines`, and `lines` is the number of
//! lines in the input); one output record per record, in line order; no record id
//! and no field holds a line break; the output does not depend on how the input is
//! cut into reads.
#![no_main]

use std::io::{self, Read};
use std::sync::OnceLock;

use carelevel::Ruleset;
use carelevel_batch::{
    for_each_record, run, Error, Fields, Input, Options, OutputFormat, RecordContent,
};
use libfuzzer_sys::fuzz_target;

const SMALL: &str = include_str!("../../tests/cli/fixtures/small.yaml");

fn ruleset() -> &'static Ruleset {
    static RS: OnceLock<Ruleset> = OnceLock::new();
    RS.get_or_init(|| Ruleset::from_yaml(SMALL).expect("the fixture compiles"))
}

/// A reader handing out 1 to 7 bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.step = self.step % 7 + 1;
        let n = self.step.min(buf.len()).min(self.data.len());
        let (now, rest) = self.data.split_at(n);
        buf[..n].copy_from_slice(now);
        self.data = rest;
        Ok(n)
    }
}

/// LF-terminated lines, plus a last line without a line end (after a BOM).
fn physical_lines(data: &[u8]) -> u64 {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(!data.is_empty() && !data.ends_with(b"\n"))
}

fn batch(rs: &Ruleset, data: &[u8], trickle: bool) -> Option<Vec<u8>> {
    let reader: Box<dyn Read + Send + '_> = if trickle {
        Box::new(Trickle { data, step: 0 })
    } else {
        Box::new(data)
    };
    let input = match Input::csv(reader, rs, Some("id")) {
        Ok((input, _)) => input,
        Err(Error::Header(message)) => {
            assert!(!message.is_empty());
            return None;
        }
        Err(e) => panic!("unexpected error: {e}"),
    };
    let options = Options {
        format: OutputFormat::Jsonl,
        fields: Fields::Compact,
        threads: 1,
    };
    let mut out = Vec::new();
    let tally = run(rs, input, &options, &mut out, None, &mut |_| {}).expect("in-memory batch");
    assert_eq!(tally.lines, physical_lines(data), "every line is read");
    assert_eq!(
        tally.header_lines + tally.records + tally.blank_lines,
        tally.lines,
        "every line is accounted for: {tally:?}"
    );
    assert_eq!(tally.assessed + tally.errors, tally.records);
    let text = std::str::from_utf8(&out).expect("JSON output is UTF-8");
    let (mut last, mut records) = (0, 0);
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("JSON records");
        let n = record["line"].as_u64().expect("a line number");
        assert!(n > last && n <= tally.lines, "in order, one per line: {line}");
        last = n;
        records += 1;
        if let Some(id) = record["id"].as_str() {
            assert!(!id.contains(['\n', '\r']), "a line break in an id: {line}");
        }
    }
    assert_eq!(records, tally.records);
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let rs = ruleset();
    let whole = batch(rs, data, false);
    assert_eq!(batch(rs, data, true), whole, "the output depends on read sizes");
    if let Ok((input, _)) = Input::csv(Box::new(data), rs, Some("id")) {
        let tally = for_each_record(input, |record| {
            if let RecordContent::Csv(fields) = record.content {
                for field in fields.iter() {
                    assert!(!field.contains(&b'\n') && !field.contains(&b'\r'));
                }
            }
            Ok::<(), ()>(())
        })
        .expect("in-memory input")
        .expect("no callback error");
        assert_eq!(tally.lines, physical_lines(data));
        assert_eq!(tally.header_lines + tally.records + tally.blank_lines, tally.lines);
    }
});
