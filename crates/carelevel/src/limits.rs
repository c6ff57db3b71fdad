//! Resource limits. Input beyond them is refused with an error that names the limit.
//!
//! Every limit is documented in `docs/rules.md` ("Limits").

/// Largest ruleset, test or answers text accepted, in bytes (4 MiB).
pub const MAX_SOURCE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of YAML lists and mappings in any input file (as `serde_yaml` allows).
pub const MAX_YAML_DEPTH: usize = 128;
/// Most levels a ruleset may declare.
pub const MAX_LEVELS: usize = 64;
/// Most factors a ruleset may declare.
pub const MAX_FACTORS: usize = 512;
/// Most values an ordinal factor may list (values are held in a 64-bit mask).
pub const MAX_ORDINAL_VALUES: usize = 64;
/// Most bands an integer factor may declare.
pub const MAX_BANDS: usize = 64;
/// Most rules plus flags a ruleset may declare.
pub const MAX_RULES: usize = 10_000;
/// Deepest nesting of `all`/`any`/`not` in one condition.
pub const MAX_CONDITION_DEPTH: usize = 32;
/// Largest absolute value of points for one answer in `scoring`.
pub const MAX_POINTS: i64 = 1_000_000;
/// Largest absolute integer bound (factor min/max, bands, thresholds, answers).
pub const MAX_INTEGER: i64 = 1_000_000_000_000;
/// Most evaluations spent working out the exact level range left open by missing answers.
pub const MAX_MISSING_EVALUATIONS: u64 = 2_000_000;
/// Largest answer space (product of every factor's number of classes) for which the
/// compiler tabulates the level of every combination (one byte each), making the
/// level-only fast path a table lookup.
pub const MAX_LEVEL_TABLE: usize = 1 << 18;
