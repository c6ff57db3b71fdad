//! Speed of the `carelevel batch` pipeline on in-memory input (no file I/O): the
//! example corpus (`examples/cases/people.*`, 40 people, 4 of them with an answer
//! missing) repeated 1,000 times, plus one bad record per 1,000, through the whole
//! pipeline (reader, workers, in-order writer) into a sink.
//!
//! `cargo bench -p carelevel-cli --bench batch`. Targets on the 2-core machine:
//! compact >= 1,000,000 records/s, full >= 300,000 records/s. The file-based numbers
//! (with the serde_json parse-only ceiling) come from `scripts/bench-batch.sh`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark code"
)]

use std::io;
use std::sync::OnceLock;

use carelevel::Ruleset;
use carelevel_batch::{self as pipeline, Ceiling, Fields, Input, Options, OutputFormat};
use divan::counter::ItemsCount;
use divan::Bencher;

fn main() {
    divan::main();
}

const REPEAT: usize = 1000;

fn ruleset() -> &'static Ruleset {
    static RULESET: OnceLock<Ruleset> = OnceLock::new();
    RULESET.get_or_init(|| Ruleset::default_ruleset().unwrap())
}

/// The corpus repeated, with a bad record (an answer outside its scale) every 1,000
/// records. Returns the bytes and the number of records.
fn corpus(csv: bool) -> &'static (Vec<u8>, u64) {
    static JSONL: OnceLock<(Vec<u8>, u64)> = OnceLock::new();
    static CSV: OnceLock<(Vec<u8>, u64)> = OnceLock::new();
    let (cell, file) = if csv {
        (&CSV, "people.csv")
    } else {
        (&JSONL, "people.jsonl")
    };
    cell.get_or_init(|| {
        let path = format!("{}/../../examples/cases/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let header = if csv { lines.next() } else { None };
        let records: Vec<&str> = lines.collect();
        let mut out = String::new();
        if let Some(h) = header {
            out.push_str(h);
            out.push('\n');
        }
        let mut n = 0u64;
        for _ in 0..REPEAT {
            for r in &records {
                n += 1;
                let bad = n % 1000 == 0;
                if bad && csv {
                    out.push_str(&r.replacen(",none,", ",extreme,", 1));
                } else if bad {
                    out.push_str(&r.replacen("\"none\"", "\"extreme\"", 1));
                } else {
                    out.push_str(r);
                }
                out.push('\n');
            }
        }
        (out.into_bytes(), n)
    })
}

fn run(bencher: Bencher, threads: usize, csv: bool, format: OutputFormat, fields: Fields) {
    let (data, n) = corpus(csv);
    let rs = ruleset();
    let options = Options {
        format,
        fields,
        threads,
    };
    bencher.counter(ItemsCount::new(*n)).bench(|| {
        let reader = Box::new(io::Cursor::new(data.as_slice()));
        let input = if csv {
            Input::csv(reader, rs, Some("id")).unwrap().0
        } else {
            Input::jsonl(reader, Some("id"))
        };
        let tally = pipeline::run(rs, input, &options, &mut io::sink(), None, &mut |_| {}).unwrap();
        assert_eq!(tally.records, *n);
    });
}

#[divan::bench(args = [1, 2])]
fn compact_jsonl(bencher: Bencher, threads: usize) {
    run(
        bencher,
        threads,
        false,
        OutputFormat::Jsonl,
        Fields::Compact,
    );
}

#[divan::bench(args = [1, 2])]
fn full_jsonl(bencher: Bencher, threads: usize) {
    run(bencher, threads, false, OutputFormat::Jsonl, Fields::Full);
}

#[divan::bench(args = [2])]
fn compact_csv_in_csv_out(bencher: Bencher, threads: usize) {
    run(bencher, threads, true, OutputFormat::Csv, Fields::Compact);
}

#[divan::bench(args = [2])]
fn full_csv_out(bencher: Bencher, threads: usize) {
    run(bencher, threads, false, OutputFormat::Csv, Fields::Full);
}

/// The ceiling: serde_json parsing each line into `IgnoredAny`, same pipeline.
#[divan::bench(args = [1, 2])]
fn parse_only_ignored_any(bencher: Bencher, threads: usize) {
    let (data, n) = corpus(false);
    bencher.counter(ItemsCount::new(*n)).bench(|| {
        let input = Input::jsonl(Box::new(io::Cursor::new(data.as_slice())), None);
        let tally = pipeline::parse_only(input, threads, Ceiling::IgnoredAny).unwrap();
        assert_eq!(tally.records, *n);
    });
}

/// serde_json parsing each line into a `serde_json::Value`, same pipeline.
#[divan::bench(args = [2])]
fn parse_only_value(bencher: Bencher, threads: usize) {
    let (data, n) = corpus(false);
    bencher.counter(ItemsCount::new(*n)).bench(|| {
        let input = Input::jsonl(Box::new(io::Cursor::new(data.as_slice())), None);
        let tally = pipeline::parse_only(input, threads, Ceiling::Value).unwrap();
        assert_eq!(tally.records, *n);
    });
}
