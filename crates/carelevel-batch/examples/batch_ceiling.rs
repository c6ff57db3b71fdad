//! The speed ceiling for `carelevel batch` on a JSON Lines file: the same reader,
//! chunks, threads and ordering as the batch pipeline, but every line is only parsed
//! by serde_json (into `IgnoredAny`, or `serde_json::Value` with `--value`); nothing
//! is evaluated or written.
//!
//! ```sh
//! cargo run --release -p carelevel-cli --example batch_ceiling -- /tmp/people.jsonl [--value] [--threads N]
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs,
    reason = "a benchmark driver"
)]

use std::time::Instant;

use carelevel_batch::{self as pipeline, Ceiling, Input};

fn main() {
    let mut path = None;
    let mut into = Ceiling::IgnoredAny;
    let mut threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--value" => into = Ceiling::Value,
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--threads N")
            }
            _ => path = Some(arg),
        }
    }
    let path = path.expect("a JSON Lines file");
    let started = Instant::now();
    let file = std::fs::File::open(&path).unwrap();
    let tally = pipeline::parse_only(Input::jsonl(Box::new(file), None), threads, into).unwrap();
    let secs = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss, reason = "a rate for display")]
    let rate = tally.records as f64 / secs;
    println!(
        "parse-only ({into:?}, {threads} threads): {} records ({} not JSON) in {secs:.3} s: {rate:.0} records/s",
        tally.records, tally.errors
    );
}
