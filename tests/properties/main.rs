//! Properties of the core library, checked over whole answer spaces and by proptest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    missing_docs,
    reason = "test code: a panic is a failed test"
)]

mod analysis;
mod bundled;
mod default_space;
mod differential;
mod dimensions;
mod fuzz_smoke;
mod parsing;
mod reference;
mod rulegen;
mod support;
mod text;
