//! Resource limits. Input beyond them is refused with an error that names the limit.
//!
//! Every limit is documented in `docs/rules.md` ("Limits").

/// Largest ruleset, test or answers text accepted, in bytes (4 MiB).
pub const MAX_SOURCE_BYTES: usize = 4 * 1024 * 1024;
/// Longest excerpt of input (a key, a value, a record id, a line of a file) that a
/// message or a text report quotes, in bytes of escaped text (`carelevel::text`). A
/// longer one is cut at a character boundary and ends with `… (N bytes)`, its length.
pub const MAX_EXCERPT_BYTES: usize = 200;
/// Longest message (or item path) of one diagnostic or answer problem, in bytes of
/// escaped text. Every excerpt a message quotes is capped at [`MAX_EXCERPT_BYTES`]; this
/// second cap holds even if a message were to quote something uncapped.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// Longest item path (`rules[3].when.any[1].housing`) a diagnostic shows, in bytes of
/// escaped text. The deepest path a valid ruleset can have (rule 9,999, conditions
/// nested [`MAX_CONDITION_DEPTH`] deep, a 64-byte factor id) takes about 400; a longer
/// one quotes a key that is itself input, and is cut like an excerpt.
pub const MAX_PATH_BYTES: usize = 512;
/// Deepest nesting of YAML lists and mappings in any input file (as `serde_yaml` allows).
pub const MAX_YAML_DEPTH: usize = 128;
/// Most nodes (scalars, lists and mappings) a YAML document may hold once its aliases
/// are expanded, each alias counting as a full copy of its anchor's node (4 Mi, one
/// per byte of [`MAX_SOURCE_BYTES`]: a file without aliases never reaches it). This is
/// the "billion laughs" guard: it is checked while the file is read, before anything
/// is built, and the refusal names the alias that crossed it. The bundled default
/// ruleset holds 804 nodes (5,216 times fewer) and its test file 1,792.
pub const MAX_YAML_NODES: u64 = 4 * 1024 * 1024;
/// Most levels a ruleset may declare.
pub const MAX_LEVELS: usize = 64;
/// Most dimensions a ruleset may declare.
pub const MAX_DIMENSIONS: usize = 64;
/// Most factors a ruleset may declare.
pub const MAX_FACTORS: usize = 512;
/// Most values an ordinal factor may list (values are held in a 64-bit mask).
pub const MAX_ORDINAL_VALUES: usize = 64;
/// Most bands an integer factor may declare.
pub const MAX_BANDS: usize = 64;
/// Most values (`max - min + 1`) of an integer question scored `per_unit`: each value
/// is a class of its own (its points differ from its neighbours'), so this bounds the
/// classes such a question adds to the answer space.
pub const MAX_PER_UNIT_VALUES: i64 = 1_001;
/// Most rules plus flags a ruleset may declare.
pub const MAX_RULES: usize = 10_000;
/// Deepest nesting of `all`/`any`/`not` in one condition.
pub const MAX_CONDITION_DEPTH: usize = 32;
/// Most nodes (comparisons, `all`/`any`/`not`) the compiled conditions of one ruleset
/// may hold, every alias counted as a copy (256 Ki). The bundled default ruleset
/// compiles to 64 nodes (4,096 times fewer); a 4 MiB ruleset written without aliases holds about 140,000
/// comparisons. Analysis and the level table visit these nodes once per answer class.
pub const MAX_CONDITION_NODES: usize = 1 << 18;
/// Largest absolute value of points for one answer in `scoring`.
pub const MAX_POINTS: i64 = 1_000_000;
/// Largest absolute integer bound (factor min/max, bands, thresholds, answers).
pub const MAX_INTEGER: i64 = 1_000_000_000_000;
/// Most work, in condition nodes visited (each search step counting as one more),
/// spent on one assessment's missing answers: the exact level range they leave open,
/// the status of every rule and flag, and which answers could change the level (128 Mi).
/// The same budget bounds the check, when a ruleset is loaded, that every condition
/// can be true (one budget for all of them). On the CI machine kind, loading the
/// random 3-CNF ruleset of `analysis/worst_shapes.rs` and having its assessment with
/// every answer missing refused took 0.9 s of CPU in all (measured before the level
/// diagram, whose budget that ruleset also spends, was added to loading); the bundled default ruleset
/// with every answer missing needs under 10,000 (that test keeps this true).
pub const MAX_MISSING_WORK: u64 = 1 << 27;
/// Largest answer space (product of every factor's number of classes) for which the
/// compiler tabulates the level of every combination (one byte each), making the
/// level-only fast path a table lookup.
pub const MAX_LEVEL_TABLE: usize = 1 << 18;
/// Most work, in condition nodes visited, spent building the level table by the rule
/// walk when a ruleset is loaded (64 Mi, a few tens of milliseconds). Only a ruleset
/// whose level diagram is over [`MAX_DIAGRAM_WORK`] has its table built this way (the
/// diagram paints it otherwise); past this limit too, levels come from the rule walk,
/// with the same results.
pub const MAX_LEVEL_TABLE_WORK: u64 = 1 << 26;
/// Most work spent building the level diagram when a ruleset is loaded (4 Mi units:
/// one per step of a diagram operation and one per child of every node made). The
/// bundled rulesets need under 2 Ki (a test keeps this true); every generated ruleset
/// of the benchmark sweep (`benches/sweep.rs`, up to 10,000 rules over 30 questions)
/// gets its diagram (the bench prints the form each got). A ruleset whose diagram would cost more is
/// evaluated by the level table built by the rule walk (small answer spaces) or by
/// the rule walk itself, with the same results.
pub const MAX_DIAGRAM_WORK: u64 = 1 << 22;
