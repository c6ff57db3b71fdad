//! The HTTP service of carelevel (`carelevel serve`): a JSON API and a CDS Hooks 2.0
//! service over the synchronous core, on axum and tokio.
//!
//! The core stays free of I/O; this crate owns the runtime glue: the configuration
//! ([`config`]), the served rulesets and their atomic reload ([`registry`]).

pub mod config;
pub mod error;
pub mod registry;
