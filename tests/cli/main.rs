//! End-to-end tests of the `carelevel` binary (one test binary, ripgrep style).
//!
//! Every test runs the real binary with the workspace root as its working directory
//! and relative paths, so snapshots (in `tests/cli/snapshots/`) hold no machine paths.
//! Fixtures for error cases are in `tests/cli/fixtures/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code: a panic is a failed test"
)]

mod util;

mod assess;
mod batch;
mod batch_csv;
mod bom;
mod check;
mod completions;
mod corpus;
mod describe;
mod diff;
mod dimensions;
mod fhir;
mod fhir_out;
mod formats;
mod input_limits;
mod interview;
mod log;
mod output_files;
mod reassess;
mod safe_text;
mod schema;
mod serve;
mod test_cmd;
mod usage;
