//! The library part of the `carelevel` command-line tool: the streaming batch
//! engine behind `carelevel batch`, kept here so that `cargo bench` and the
//! benchmark examples can drive it on in-memory input.
//!
//! The subcommands themselves (arguments, files, exit codes) live in the binary. The
//! core crate `carelevel` stays free of I/O; this crate reads and writes streams.

pub mod pipeline;
