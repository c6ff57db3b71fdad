#![doc = include_str!("../README.md")]

// The property tests' ruleset generator (`tests/properties/rulegen.rs`) is shared by
// the core's unit tests, and names the crate `carelevel`.
#[cfg(test)]
extern crate self as carelevel;

pub mod analysis;
mod answers;
mod assessment;
mod budget;
mod compile;
mod diagram;
mod dimensions;
mod error;
mod eval;
mod flat_record;
pub mod interview;
pub mod json;
pub mod limits;
mod lookup;
mod model;
mod record;
pub mod schema;
#[cfg(test)]
mod score_conditions;
mod syntax;
pub mod testing;
pub mod text;
mod triage;
mod words;

pub use answers::{Answers, RecordId, Value};
pub use assessment::{
    Assessment, AssumedAnswer, Basis, Decision, FiredFlag, FiredRule, LevelRange, LevelRef,
    MissingAnswer, Provenance, Score, ScoreItem,
};
pub use dimensions::{DimensionAnswer, DimensionReport};
pub use error::{
    AnswerProblem, AnswersError, AssessError, Diagnostic, EvalError, Location, RulesetError,
    Severity,
};
pub use model::{
    Band, Dimension, DimensionIndex, Factor, FactorIndex, FactorKind, Flag, FlagKind, Invariant,
    Level, LevelEvaluation, LevelIndex, Metadata, MissingPolicy, Rule, Ruleset, ScoreBand,
    SourceCitation,
};
pub use triage::{FlagSet, Triage};

/// The bundled default ruleset (`rules/default.yaml`), as source text.
pub const DEFAULT_RULESET: &str = include_str!("../../../rules/default.yaml");

impl Ruleset {
    /// Parse and compile a ruleset from YAML text. Every semantic problem is
    /// reported at once, each with its path and line.
    pub fn from_yaml(text: &str) -> Result<Ruleset, RulesetError> {
        compile::compile(text)
    }

    /// The bundled default ruleset.
    pub fn default_ruleset() -> Result<Ruleset, RulesetError> {
        Ruleset::from_yaml(DEFAULT_RULESET)
    }
}

// A compiled ruleset is shared across threads by reference.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Ruleset>();
};
