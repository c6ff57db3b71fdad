//! The HTTP service of carelevel (`carelevel serve`): a JSON API and a CDS Hooks 2.0
//! service over the synchronous core, on axum and tokio (`docs/serve.md`).
//!
//! The core stays free of I/O; this crate owns the runtime glue: the configuration
//! ([`config`]), the served rulesets and their atomic reload ([`registry`]), bearer
//! token checks ([`auth`]), the routes ([`app`], [`api`], [`batch`], [`cds`]), the
//! decision log of every recommendation served ([`decisions`]), counters
//! ([`metrics`]), the connection loop with reload and shutdown ([`server`]) and the
//! clinician web form at `/` ([`web`]).

pub mod api;
pub mod app;
pub mod auth;
pub mod batch;
pub mod cds;
pub mod config;
pub mod decisions;
pub mod error;
pub mod metrics;
pub mod registry;
pub mod server;
pub mod web;

pub use server::{run, ServeError};
