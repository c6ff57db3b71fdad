//! The decision log of carelevel: one record per recommendation served (and one per
//! piece of feedback on it), masked per question, group-committed by one writer
//! thread to JSON Lines or SQLite, and read back for `carelevel log query`,
//! `export` and `replay`.
//!
//! Synchronous: [`LogWriter`] owns one thread; no async runtime. The record shape,
//! masking and the durability promise are documented in `docs/decision-log.md`.

pub mod mask;
pub mod read;
pub mod record;
pub mod sqlite;
pub mod time;
pub mod writer;

pub use mask::{FieldMask, MaskError, Masking};
pub use read::{
    read_jsonl, read_log, read_sqlite, BadEntry, Filter, Position, ReadEntry, ReadError,
};
pub use record::{
    Channel, CodedReason, DecisionMeta, DecisionRecord, DecisionResult, FeedbackRecord, LogEntry,
    Outcome, Requester, RulesetRef, Source,
};
pub use time::{TimeError, Timestamp};
pub use writer::{Done, LogError, LogFormat, LogStats, LogWriter, SinkConfig};
