//! Exact analysis of the whole answer space.
//!
//! Every factor has finitely many distinguishable answers ("classes"): ordinal and
//! boolean factors by value, integer factors by the intervals cut by every threshold
//! in the rulesets involved. The answer space is the product of the classes, plus a
//! "missing" class for each factor whose policy is `ask`. It is enumerated exactly:
//! complete answer sets by evaluation (in parallel), answer sets with missing
//! answers by dynamic programming over the complete ones (the `ask` policy recommends
//! the top of the range over every completion, so each missing slot is the max/min/
//! and/or of the slots it stands for).
//!
//! On top of it: [`check`] (completeness, monotonicity, rules that never decide,
//! unreachable levels and flags, invariants), [`diff`] (exact impact of a change),
//! [`suggest_case`] (answers that exercise a rule or flag) and [`hinges`] (the nearest
//! answers that move one person's level), and [`reassess`] (a later assessment against an
//! earlier one: movement, changed answers, the changes that drove it).

mod cases;
mod check;
mod check_enum;
mod check_symbolic;
mod diff;
mod diff_examples;
mod hinges;
mod parallel;
mod reassess;
mod space;
mod suggest;

pub use cases::{
    diff_json, direction, CaseError, CaseRef, CaseTally, FlagCases, MovedCases, MAX_LISTED_ERRORS,
    REFUSED,
};
pub use check::{check, CheckMethod, CheckReport, Count, Finding, FindingKind};
pub use check_symbolic::MAX_CHECK_DIAGRAM_WORK;
pub use diff::{
    diff, ChangedCell, Decided, DecidedBasis, DecidingBand, DiffExample, DiffLevel, DiffReport,
    Direction, FlagChange, LevelCount, OneSided, Pattern, PatternItem, MAX_PATTERNS_PER_CELL,
};
pub use hinges::{hinges, missing_hinges, Hinge, MissingHinge, MissingOutcome};
pub use reassess::{
    is_stored_assessment, reassess, AnswerChange, BeforeAfter, Drivers, EarlierResult,
    EarlierResultError, FlagChanges, LevelMove, Movement, Previous, PreviousError, PreviousResult,
    PreviousSource, ReassessError, Reassessment, Reverted, RulesetComparison, RulesetId, Side,
    StoredLevel,
};
pub use space::{AnswerItem, AnswerSet};
pub use suggest::{suggest_case, suggest_cases, SuggestedCase, Target};

use thiserror::Error;

use parallel::parallel;
use space::{decode, Space};

/// Most answer-set classes an analysis enumerates.
pub const MAX_CLASSES: u128 = 50_000_000;
/// Most classes (with missing answers) whose outcomes are stored for exact
/// missing-answer analysis; beyond it only complete answer sets are enumerated.
pub const MAX_STORED_CLASSES: usize = 2_000_000;
/// Most work one analysis ([`check`], [`diff`], [`suggest_case`]) may take, counted
/// before it starts as an upper bound: answer-set classes × the condition nodes (plus
/// per-factor and per-rule steps) one class can cost. About two seconds on the CI
/// machine kind; a ruleset above it is refused at once with the estimate.
pub const MAX_ANALYSIS_WORK: u64 = 2_000_000_000;
/// Most work, counted as it is spent, that [`diff`] puts into making its examples
/// minimal. Past it the remaining examples are shown as found, each still a correct
/// example of its change, and the report says so in its notes.
pub const MAX_EXAMPLE_WORK: u64 = 1 << 28;
/// Most flags a ruleset may have for whole-space analysis (flags are held in a 64-bit set).
pub const MAX_ANALYSED_FLAGS: usize = 64;

/// Why an analysis could not run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnalysisError {
    /// The answer space is too large to enumerate.
    #[error(
        "the answer space has {count} classes, above the limit of {limit}; the largest factors: {}",
        .largest.iter().map(|(f, n)| format!("{f} ({n} classes)")).collect::<Vec<_>>().join(", ")
    )]
    TooLarge {
        /// Number of classes, or `u128::MAX` when there are more than that.
        classes: u128,
        /// The number of classes in words: exact up to `u128::MAX`, else its order of
        /// magnitude (`about 1.3e154 (more than 2^128)`).
        count: String,
        /// The limit.
        limit: u128,
        /// The factors with the most classes, largest first.
        largest: Vec<(String, usize)>,
    },
    /// The analysis would take more work than [`MAX_ANALYSIS_WORK`].
    #[error(
        "{task} would take up to {work} steps ({classes} answer-set classes × up to {per_class} \
         condition nodes and steps each), above the limit of {limit}; the largest factors: {}. \
         Fewer distinct integer thresholds, or fewer or smaller conditions, make it smaller",
        .largest.iter().map(|(f, n)| format!("{f} ({n} classes)")).collect::<Vec<_>>().join(", ")
    )]
    TooMuchWork {
        /// What was asked (`checking every answer set`, ...).
        task: &'static str,
        /// Answer-set classes to enumerate.
        classes: u64,
        /// The most work one class can cost.
        per_class: u64,
        /// `classes × per_class`, saturating.
        work: u64,
        /// The limit ([`MAX_ANALYSIS_WORK`]).
        limit: u64,
        /// The factors with the most classes, largest first.
        largest: Vec<(String, usize)>,
    },
    /// The two rulesets cannot be compared answer for answer.
    #[error("the rulesets cannot be compared: {}", .reasons.join("; "))]
    NotComparable {
        /// What differs.
        reasons: Vec<String>,
    },
    /// The symbolic `check` outgrew [`MAX_CHECK_DIAGRAM_WORK`] and the space could
    /// not be enumerated instead.
    #[error(
        "checking on decision diagrams took more than {limit} units of work while building \
         {what}, and enumerating instead is impossible: {enumeration}"
    )]
    DiagramTooLarge {
        /// The diagram being built when the budget ran out (`the condition of rule `r``, ...).
        what: String,
        /// The budget ([`MAX_CHECK_DIAGRAM_WORK`]).
        limit: u64,
        /// Why the enumeration could not run instead.
        enumeration: String,
    },
    /// A ruleset has more flags than the analysis can track.
    #[error("ruleset `{ruleset}` has {count} flags; whole-space analysis handles at most {MAX_ANALYSED_FLAGS}")]
    TooManyFlags {
        /// Ruleset id.
        ruleset: String,
        /// Number of flags.
        count: usize,
    },
}

pub(crate) fn keep_first(slot: Option<&mut Option<usize>>, index: usize) {
    if let Some(s) = slot {
        if s.is_none_or(|x| index < x) {
            *s = Some(index);
        }
    }
}

#[cfg(test)]
mod class_count_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Ruleset;

    fn booleans(n: usize) -> Ruleset {
        let mut text = String::from(
            "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n",
        );
        for i in 0..n {
            text.push_str(&format!("  - {{id: f{i}, question: q, kind: boolean}}\n"));
        }
        text.push_str("rules:\n  - {id: r, level: high, because: b, when: {f0: true}}\n");
        Ruleset::from_yaml(&text).unwrap()
    }

    #[test]
    fn class_counts_beyond_u128_are_reported_as_their_magnitude_not_as_2_pow_128_minus_1() {
        let rs = booleans(512);
        let e = diff(&rs, &rs).unwrap_err();
        let text = e.to_string();
        // 2^512 = 1.34e154.
        assert!(
            text.contains("the answer space has about 1.3e154 (more than 2^128) classes"),
            "{text}"
        );
        assert!(!text.contains(&u128::MAX.to_string()), "{text}");
        // Below the saturation the count is exact.
        let rs = booleans(100);
        let e = diff(&rs, &rs).unwrap_err().to_string();
        assert!(e.contains(&format!("has {} classes", 1u128 << 100)), "{e}");
    }

    #[test]
    fn check_counts_past_u128_as_more_than_and_below_it_exactly() {
        let report = check(&booleans(512), false).unwrap();
        assert_eq!(report.classes, Count::from_checked(None));
        assert_eq!(
            report.classes.to_string(),
            format!("more than {}", u128::MAX)
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["classes"], format!("more than {}", u128::MAX));
        let report = check(&booleans(100), false).unwrap();
        assert_eq!(report.classes, Count::exact(1 << 100));
        assert_eq!(report.combinations, Count::exact(1 << 100));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["classes"], (1u128 << 100).to_string());
        let json = serde_json::to_value(check(&booleans(3), false).unwrap()).unwrap();
        assert_eq!(json["classes"], 8);
        assert_eq!(json["method"], "diagram");
        // `f0` true raises the level: the other half is at the lowest by default.
        let default = report
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::LowestByDefault)
            .unwrap();
        let half = 1u128 << 99;
        assert!(
            default.message.starts_with(&format!(
                "{half} of {} answer-set classes ({half} of {} complete answer combinations)",
                1u128 << 100,
                1u128 << 100
            )),
            "{}",
            default.message
        );
    }
}

#[cfg(test)]
mod worst_shapes;

#[cfg(test)]
mod check_differential;
