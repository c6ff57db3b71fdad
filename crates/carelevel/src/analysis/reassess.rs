//! `reassess`: a person assessed again during treatment, against an earlier result.
//!
//! Level of care is revisited during treatment: continued stay, step-down, step-up.
//! [`reassess`] takes the ruleset, the previous answers (or an [`EarlierResult`], a
//! stored [`Assessment`](crate::Assessment) JSON) and the current answers, and works
//! out exactly:
//!
//! - the current [`Assessment`], evaluated as usual;
//! - the [`Movement`] from the previous level to the current one, by level index in
//!   the ruleset's order; `refer`, `needs_review` and flag changes are reported beside
//!   it, never folded into it;
//! - the answers that changed (question, before, after; answered ↔ unanswered counts);
//! - for each change, the level (and refer) the current answers would give with that
//!   one answer reverted to its previous value, all other answers kept current. A
//!   change is **pivotal** when that level differs from the current level;
//! - the **drivers**: a smallest set of changes that, applied alone to the previous
//!   answers (every other answer left as it was), gives exactly the current level. Of
//!   the smallest sets, the first in question declaration order is reported, with the
//!   number of other sets of that size that also give it. A continued stay needs no
//!   change: its drivers are the empty set.
//!
//! Both are exact: every level is evaluated by the engine (with the `ask` policy for
//! unanswered questions, as in any assessment), under the current ruleset. The search
//! for the drivers shares one work budget ([`limits::MAX_MISSING_WORK`]); past it the
//! drivers are reported as [`Drivers::TooCostly`], never guessed.
//!
//! An earlier result made with another ruleset (a different `ruleset_sha256`) is never
//! silently mixed with this one: [`Reassessment::ruleset`] holds both identifications. When it holds the answers it was made from (an
//! `answers` member), they are re-assessed with the current ruleset and the movement
//! is measured from that re-assessed level, so both sides use the same rules; the
//! stored level is reported beside it. When it holds no answers, the movement is
//! measured from the stored level's id placed in the current ruleset's order, and the
//! report says so; changed answers and drivers cannot be worked out.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::answers::{Answers, Value};
use crate::assessment::{Assessment, LevelRef};
use crate::error::{AnswersError, EvalError};
use crate::limits;
use crate::model::{FlagKind, LevelIndex, Ruleset};

/// How the level moved between two assessments, by level index in the ruleset's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Movement {
    /// A less intensive level than before, by this many levels (at least 1).
    StepDown {
        /// Number of levels down.
        levels: usize,
    },
    /// The same level as before.
    ContinuedStay,
    /// A more intensive level than before, by this many levels (at least 1).
    StepUp {
        /// Number of levels up.
        levels: usize,
    },
}

impl Movement {
    /// The movement from level index `from` to level index `to`.
    pub fn between(from: LevelIndex, to: LevelIndex) -> Movement {
        match to.cmp(&from) {
            std::cmp::Ordering::Less => Movement::StepDown { levels: from - to },
            std::cmp::Ordering::Equal => Movement::ContinuedStay,
            std::cmp::Ordering::Greater => Movement::StepUp { levels: to - from },
        }
    }

    /// The signed number of levels moved: negative down, positive up, 0 for a stay.
    pub fn signed_levels(&self) -> i64 {
        let n = |l: &usize| i64::try_from(*l).unwrap_or(i64::MAX);
        match self {
            Movement::StepDown { levels } => -n(levels),
            Movement::ContinuedStay => 0,
            Movement::StepUp { levels } => n(levels),
        }
    }
}

/// The movement with the levels it goes between.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelMove<'r> {
    /// Step-down, continued stay or step-up.
    #[serde(flatten)]
    pub movement: Movement,
    /// The previous level (in the current ruleset's order).
    pub from: LevelRef<'r>,
    /// The current level.
    pub to: LevelRef<'r>,
}

/// A value before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BeforeAfter<T> {
    /// Previous value.
    pub before: T,
    /// Current value.
    pub after: T,
}

/// Flags that fire now and did not before, and the reverse.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FlagChanges {
    /// Ids of the flags that fire now but did not before, in declaration order.
    pub raised: Vec<String>,
    /// Ids of the flags that fired before but do not now (previous order).
    pub cleared: Vec<String>,
}

/// What the current answers would give with one answer reverted to its previous value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reverted<'r> {
    /// The recommended level.
    pub level: LevelRef<'r>,
    /// Whether a `refer` flag fires.
    pub refer: bool,
}

/// One answer that differs between the previous and the current answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerChange<'r> {
    /// Question (factor) id.
    pub factor: Cow<'r, str>,
    /// The previous answer (`None`: unanswered).
    pub before: Option<Value>,
    /// The current answer (`None`: unanswered).
    pub after: Option<Value>,
    /// The current answers with this one reverted to `before`, everything else current.
    pub if_reverted: Reverted<'r>,
    /// Whether reverting this change alone changes the current level.
    pub pivotal: bool,
}

/// The changes that drove the movement (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Drivers {
    /// A smallest set of changes that, applied alone to the previous answers, gives
    /// exactly the current level (empty for a continued stay).
    Minimal {
        /// Question ids of the set, in declaration order.
        changes: Vec<String>,
        /// How many other sets of the same size also give the current level.
        equally_small: usize,
    },
    /// The search would take more than `limit` steps: not worked out.
    TooCostly {
        /// The work budget ([`limits::MAX_MISSING_WORK`]).
        limit: u64,
    },
}

/// Where the previous result came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviousSource {
    /// Previous answers, assessed with the current ruleset.
    Answers,
    /// A stored assessment ([`EarlierResult`]).
    StoredAssessment,
}

/// Ruleset identification as stored in, or compared with, an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesetId {
    /// Ruleset id.
    pub ruleset_id: String,
    /// Ruleset version.
    pub ruleset_version: String,
    /// Hex SHA-256 of the ruleset source text.
    pub ruleset_sha256: String,
}

impl RulesetId {
    /// The identification of a compiled ruleset.
    pub fn of(ruleset: &Ruleset) -> RulesetId {
        RulesetId {
            ruleset_id: ruleset.meta.id.clone(),
            ruleset_version: ruleset.meta.version.clone(),
            ruleset_sha256: ruleset.sha256.clone(),
        }
    }
}

/// A level as stored in an earlier result: id, label and rank in *its* ruleset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLevel {
    /// Level id.
    pub id: String,
    /// Level label.
    pub label: String,
    /// Position in the ordering of the ruleset that made the result.
    pub rank: usize,
}

/// The fields of a stored assessment that a reassessment needs.
///
/// Read from an [`Assessment`](crate::Assessment) JSON (`carelevel assess --format
/// json`) or from `{"assessment": …}` (`assess --explain --format json`), each
/// optionally with an `answers` member beside it: the answers the result was made from.
/// Other fields are not read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EarlierResult {
    /// The recommended level.
    pub level: StoredLevel,
    /// Whether a `refer` flag fired.
    pub refer: bool,
    /// Whether the result needed review.
    pub needs_review: bool,
    /// Ids of the flags that fired.
    pub flags: Vec<String>,
    /// The ruleset that made it.
    pub provenance: RulesetId,
    /// The answers it was made from, when stored with it: a JSON object from question
    /// id to answer.
    pub answers: Option<serde_json::Value>,
}

/// Why a stored assessment could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EarlierResultError {
    /// The text is not JSON.
    #[error("line {line}, column {column}: not valid JSON: {message}")]
    Syntax {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        column: usize,
        /// What the JSON parser found.
        message: String,
    },
    /// The JSON is not a stored assessment: a field is missing or has the wrong type.
    #[error(
        "line {line}, column {column}: not a stored assessment ({message}); expected the JSON \
         of `carelevel assess --format json`: `level` {{id, label, rank}}, `refer`, \
         `needs_review`, `flags` and `provenance` {{ruleset_id, ruleset_version, \
         ruleset_sha256}}, optionally `answers`"
    )]
    Shape {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A field has the right type but a value that cannot be used.
    #[error("`{field}`: {message}")]
    Field {
        /// Path of the field (`answers`, `provenance.ruleset_sha256`).
        field: String,
        /// What is wrong and what was expected.
        message: String,
    },
}

impl EarlierResultError {
    /// Line and column (1-based) of the problem, when the text has a position for it.
    pub fn location(&self) -> Option<crate::Location> {
        match self {
            EarlierResultError::Syntax { line, column, .. }
            | EarlierResultError::Shape { line, column, .. } => Some(crate::Location {
                line: *line,
                column: *column,
            }),
            EarlierResultError::Field { .. } => None,
        }
    }

    /// The message without its `line L, column C: ` prefix (see [`Self::location`]).
    pub fn detail(&self) -> String {
        let text = self.to_string();
        match self.location() {
            Some(l) => {
                let prefix = format!("line {}, column {}: ", l.line, l.column);
                text.strip_prefix(&prefix).unwrap_or(&text).to_owned()
            }
            None => text,
        }
    }
}

#[derive(Deserialize)]
struct RawLevel {
    id: String,
    label: String,
    rank: usize,
}

#[derive(Deserialize)]
struct RawFlag {
    id: String,
}

#[derive(Deserialize)]
struct RawEarlier {
    level: RawLevel,
    refer: bool,
    needs_review: bool,
    flags: Vec<RawFlag>,
    provenance: RulesetId,
    #[serde(default)]
    answers: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawExplained {
    assessment: RawEarlier,
    #[serde(default)]
    answers: Option<serde_json::Value>,
}

/// Whether a parsed JSON document is a stored assessment rather than answers: an object
/// whose `provenance` or `assessment` member is an object. An answer is never an
/// object, so no answers file has that shape.
pub fn is_stored_assessment(doc: &serde_json::Value) -> bool {
    doc.as_object().is_some_and(|o| {
        o.get("provenance")
            .is_some_and(serde_json::Value::is_object)
            || o.get("assessment")
                .is_some_and(serde_json::Value::is_object)
    })
}

impl EarlierResult {
    /// Read a stored assessment from JSON text, with line and column on every problem.
    pub fn from_json(text: &str) -> Result<EarlierResult, EarlierResultError> {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| EarlierResultError::Syntax {
                line: e.line(),
                column: e.column(),
                message: strip_position(&e),
            })?;
        let shape = |e: serde_json::Error| EarlierResultError::Shape {
            line: e.line(),
            column: e.column(),
            // serde's type names mean nothing to a clinician or an integrator.
            message: strip_position(&e)
                .replace("expected usize", "expected a whole number, 0 or more")
                .replace("expected a boolean", "expected true or false"),
        };
        let explained = doc.as_object().is_some_and(|o| {
            o.get("assessment")
                .is_some_and(serde_json::Value::is_object)
        });
        // Parsed again from the text, not from `doc`, so errors keep their position.
        let raw = if explained {
            let wrapped: RawExplained = serde_json::from_str(text).map_err(shape)?;
            RawEarlier {
                answers: wrapped.answers.or(wrapped.assessment.answers),
                ..wrapped.assessment
            }
        } else {
            serde_json::from_str::<RawEarlier>(text).map_err(shape)?
        };
        if let Some(answers) = &raw.answers {
            if !(answers.is_object() || answers.is_null()) {
                return Err(EarlierResultError::Field {
                    field: "answers".to_owned(),
                    message: "expected an object from question id to answer".to_owned(),
                });
            }
        }
        let sha = &raw.provenance.ruleset_sha256;
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(EarlierResultError::Field {
                field: "provenance.ruleset_sha256".to_owned(),
                message: format!(
                    "expected 64 hexadecimal digits, got `{}`",
                    crate::text::Shown::excerpt(sha)
                ),
            });
        }
        Ok(EarlierResult {
            level: StoredLevel {
                id: raw.level.id,
                label: raw.level.label,
                rank: raw.level.rank,
            },
            refer: raw.refer,
            needs_review: raw.needs_review,
            flags: raw.flags.into_iter().map(|f| f.id).collect(),
            provenance: raw.provenance,
            answers: raw.answers.filter(|a| !a.is_null()),
        })
    }
}

/// A serde_json message without its ` at line N column M` suffix (given separately).
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// The previous side of a reassessment.
#[derive(Debug, Clone)]
pub enum Previous<'r> {
    /// Previous answers, for the current ruleset.
    Answers(Answers<'r>),
    /// A stored assessment.
    Earlier(EarlierResult),
}

/// Why previous input could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PreviousError {
    /// It is answers, and they are not valid for the ruleset.
    #[error(transparent)]
    Answers(#[from] AnswersError),
    /// It is a stored assessment that cannot be read.
    #[error(transparent)]
    Earlier(#[from] EarlierResultError),
}

impl<'r> Previous<'r> {
    /// Read previous input from JSON text: a stored assessment when
    /// [`is_stored_assessment`] says so, else answers for `ruleset`.
    pub fn from_json(ruleset: &'r Ruleset, text: &str) -> Result<Previous<'r>, PreviousError> {
        let stored = serde_json::from_str::<serde_json::Value>(text)
            .map(|doc| is_stored_assessment(&doc))
            .unwrap_or(false);
        if stored {
            Ok(Previous::Earlier(EarlierResult::from_json(text)?))
        } else {
            Ok(Previous::Answers(ruleset.answers_from_json(text)?))
        }
    }
}

/// Which side of a reassessment an evaluation error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The previous answers.
    Previous,
    /// The current answers.
    Current,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Previous => "previous",
            Side::Current => "current",
        })
    }
}

/// Why a reassessment could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReassessError {
    /// The previous or current answers could not be evaluated.
    #[error("cannot assess the {side} answers: {source}")]
    Eval {
        /// Which answers.
        side: Side,
        /// Why.
        source: EvalError,
    },
    /// The answers stored in the earlier result are not valid for the current ruleset.
    #[error(
        "the answers stored in the earlier result (`answers`) do not fit the current ruleset: {0}"
    )]
    EarlierAnswers(AnswersError),
    /// The stored level is not a level of the current ruleset, and the earlier result
    /// holds no answers to re-assess.
    #[error(
        "the stored level `{level}` is not a level of ruleset `{ruleset}` (its levels: {}), and \
         the earlier result holds no answers to re-assess: the movement cannot be measured",
        .levels.join(", ")
    )]
    UnknownStoredLevel {
        /// The stored level id.
        level: String,
        /// The current ruleset id.
        ruleset: String,
        /// The current ruleset's level ids, in order.
        levels: Vec<String>,
    },
    /// The earlier result names the current ruleset (same SHA-256) but a level it does
    /// not have at that rank: the stored result is not what this ruleset produces.
    #[error(
        "the earlier result names this ruleset (same sha256) but its level `{level}` at rank \
         {rank} is not this ruleset's level {expected}"
    )]
    InconsistentStoredLevel {
        /// The stored level id.
        level: String,
        /// The stored rank.
        rank: usize,
        /// What the ruleset has at that rank, or where the id is.
        expected: String,
    },
}

/// The previous side as measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviousResult<'r> {
    /// Where it came from.
    pub source: PreviousSource,
    /// Whether the previous answers are known (answers given, or stored with the result).
    pub answers_known: bool,
    /// The level the movement is measured from, in the current ruleset's order: the
    /// previous answers' level under the current ruleset when they are known, else the
    /// stored level.
    pub level: LevelRef<'r>,
    /// Whether a `refer` flag fired (same basis as `level`).
    pub refer: bool,
    /// Whether the result needed review (same basis as `level`).
    pub needs_review: bool,
    /// Ids of the flags that fired (same basis as `level`).
    pub flags: Vec<String>,
    /// The stored result as it was stored, for a [`PreviousSource::StoredAssessment`].
    pub stored: Option<EarlierResult>,
}

/// The two rulesets of a reassessment and whether they are the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulesetComparison {
    /// Whether the previous result was made with the current ruleset (same SHA-256).
    pub same: bool,
    /// The ruleset of the previous result.
    pub previous: RulesetId,
    /// The ruleset of this reassessment.
    pub current: RulesetId,
}

/// The result of [`reassess`]. Decision support: a qualified professional makes the
/// placement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reassessment<'r> {
    /// The current assessment, evaluated as usual.
    pub current: Assessment<'r>,
    /// The previous side.
    pub previous: PreviousResult<'r>,
    /// How the level moved.
    pub movement: LevelMove<'r>,
    /// `refer` before and after.
    pub refer: BeforeAfter<bool>,
    /// `needs_review` before and after.
    pub needs_review: BeforeAfter<bool>,
    /// Flags raised and cleared.
    pub flags: FlagChanges,
    /// The rulesets compared.
    pub ruleset: RulesetComparison,
    /// The changed answers, in declaration order (`None` when the previous answers are
    /// not known).
    pub changes: Option<Vec<AnswerChange<'r>>>,
    /// The changes that drove the movement (`None` when the previous answers are not
    /// known).
    pub drivers: Option<Drivers>,
    /// What the reader must know about how this was measured (other ruleset, stored
    /// level differing from its re-assessed answers, answers not known), in words.
    pub notes: Vec<String>,
}

/// Reassess: the current assessment, the movement since the previous result, the
/// changed answers and the changes that drove the movement (see the module
/// documentation for the exact definitions).
pub fn reassess<'r>(
    ruleset: &'r Ruleset,
    previous: &Previous<'r>,
    current: &Answers<'r>,
) -> Result<Reassessment<'r>, ReassessError> {
    let eval = |side| move |source| ReassessError::Eval { side, source };
    ruleset.check_owner(current).map_err(eval(Side::Current))?;
    let now = ruleset.assess(current).map_err(eval(Side::Current))?;
    let current_index = now.level.rank;
    let flag_ids = |a: &Assessment<'_>| a.flags.iter().map(|f| f.id.to_string()).collect();
    let mut notes = Vec::new();

    // The previous answers, when known, and the previous side as measured.
    let (before_answers, prev) = match previous {
        Previous::Answers(answers) => {
            ruleset.check_owner(answers).map_err(eval(Side::Previous))?;
            let a = ruleset.assess(answers).map_err(eval(Side::Previous))?;
            let prev = PreviousResult {
                source: PreviousSource::Answers,
                answers_known: true,
                level: a.level.clone(),
                refer: a.refer,
                needs_review: a.needs_review,
                flags: flag_ids(&a),
                stored: None,
            };
            (Some(answers.clone()), prev)
        }
        Previous::Earlier(earlier) => {
            let same = earlier.provenance.ruleset_sha256 == ruleset.sha256;
            let stored_index = ruleset.level_index(&earlier.level.id);
            if same && stored_index != Some(earlier.level.rank) {
                let expected = match ruleset.levels.get(earlier.level.rank) {
                    Some(l) => format!("`{}`", l.id),
                    None => format!("(it has {} levels)", ruleset.levels.len()),
                };
                return Err(ReassessError::InconsistentStoredLevel {
                    level: earlier.level.id.clone(),
                    rank: earlier.level.rank,
                    expected,
                });
            }
            match &earlier.answers {
                Some(doc) => {
                    let answers = ruleset
                        .answers_from_json(&doc.to_string())
                        .map_err(ReassessError::EarlierAnswers)?;
                    let a = ruleset.assess(&answers).map_err(eval(Side::Previous))?;
                    if a.level.id != earlier.level.id {
                        notes.push(if same {
                            format!(
                                "the stored level is {}, but the answers stored with it give {} \
                                 under the same ruleset; the movement is measured from {}",
                                earlier.level.id, a.level.id, a.level.id
                            )
                        } else {
                            format!(
                                "the change of ruleset alone moves the previous answers from {} \
                                 (stored) to {} (re-assessed with ruleset {} {}); the movement \
                                 is measured from {}, so both sides use the same rules",
                                earlier.level.id,
                                a.level.id,
                                ruleset.meta.id,
                                ruleset.meta.version,
                                a.level.id
                            )
                        });
                    } else if !same {
                        notes.push(format!(
                            "the previous answers were re-assessed with ruleset {} {}: they give \
                             {}, as stored",
                            ruleset.meta.id, ruleset.meta.version, a.level.id
                        ));
                    }
                    let prev = PreviousResult {
                        source: PreviousSource::StoredAssessment,
                        answers_known: true,
                        level: a.level.clone(),
                        refer: a.refer,
                        needs_review: a.needs_review,
                        flags: flag_ids(&a),
                        stored: Some(earlier.clone()),
                    };
                    (Some(answers), prev)
                }
                None => {
                    let Some(index) = stored_index else {
                        return Err(ReassessError::UnknownStoredLevel {
                            level: earlier.level.id.clone(),
                            ruleset: ruleset.meta.id.clone(),
                            levels: ruleset.levels.iter().map(|l| l.id.clone()).collect(),
                        });
                    };
                    if !same {
                        notes.push(format!(
                            "the earlier result holds no answers, so it cannot be re-assessed \
                             with ruleset {} {}: the movement is measured from the stored \
                             level {}, which ruleset {} {} recommended",
                            ruleset.meta.id,
                            ruleset.meta.version,
                            earlier.level.id,
                            earlier.provenance.ruleset_id,
                            earlier.provenance.ruleset_version
                        ));
                    }
                    notes.push(
                        "the earlier result holds no answers: the changed answers and the \
                         changes that drove the movement cannot be worked out"
                            .to_owned(),
                    );
                    let prev = PreviousResult {
                        source: PreviousSource::StoredAssessment,
                        answers_known: false,
                        level: ruleset.level_ref(index),
                        refer: earlier.refer,
                        needs_review: earlier.needs_review,
                        flags: earlier.flags.clone(),
                        stored: Some(earlier.clone()),
                    };
                    (None, prev)
                }
            }
        }
    };

    let ruleset_comparison = RulesetComparison {
        same: prev
            .stored
            .as_ref()
            .is_none_or(|s| s.provenance.ruleset_sha256 == ruleset.sha256),
        previous: prev
            .stored
            .as_ref()
            .map_or_else(|| RulesetId::of(ruleset), |s| s.provenance.clone()),
        current: RulesetId::of(ruleset),
    };
    let now_flags: Vec<String> = flag_ids(&now);
    let flags = FlagChanges {
        raised: now_flags
            .iter()
            .filter(|f| !prev.flags.contains(f))
            .cloned()
            .collect(),
        cleared: prev
            .flags
            .iter()
            .filter(|f| !now_flags.contains(f))
            .cloned()
            .collect(),
    };

    let (changes, drivers) = match &before_answers {
        Some(before) => {
            let changes = changes(ruleset, before, current, current_index)?;
            let drivers = drivers(ruleset, before, current, &changes, current_index)?;
            (Some(changes), Some(drivers))
        }
        None => (None, None),
    };

    Ok(Reassessment {
        movement: LevelMove {
            movement: Movement::between(prev.level.rank, current_index),
            from: prev.level.clone(),
            to: now.level.clone(),
        },
        refer: BeforeAfter {
            before: prev.refer,
            after: now.refer,
        },
        needs_review: BeforeAfter {
            before: prev.needs_review,
            after: now.needs_review,
        },
        flags,
        ruleset: ruleset_comparison,
        changes,
        drivers,
        notes,
        current: now,
        previous: prev,
    })
}

/// Whether factor `f` holds the same answer in both (answered or not, and the value).
fn same_answer(a: &Answers<'_>, b: &Answers<'_>, f: usize) -> bool {
    let answered = |x: &Answers<'_>| x.answered.get(f).copied().unwrap_or(false);
    let value = |x: &Answers<'_>| x.values.get(f).copied();
    answered(a) == answered(b) && (!answered(a) || value(a) == value(b))
}

/// Copy factor `f`'s answer (answered or not) from `from` into `into`.
fn copy_answer(into: &mut Answers<'_>, from: &Answers<'_>, f: usize) {
    if let (Some(v), Some(a), Some(&fv), Some(&fa)) = (
        into.values.get_mut(f),
        into.answered.get_mut(f),
        from.values.get(f),
        from.answered.get(f),
    ) {
        *v = fv;
        *a = fa;
    }
}

/// The answer of factor `f`, as reported.
fn answer_of(ruleset: &Ruleset, answers: &Answers<'_>, f: usize) -> Option<Value> {
    let factor = ruleset.factors.get(f)?;
    answers
        .answered
        .get(f)
        .copied()
        .unwrap_or(false)
        .then(|| answers.values.get(f).map(|&c| factor.value_of(c)))
        .flatten()
}

/// Every changed answer, with what reverting it alone gives.
fn changes<'r>(
    ruleset: &'r Ruleset,
    before: &Answers<'r>,
    current: &Answers<'r>,
    current_index: LevelIndex,
) -> Result<Vec<AnswerChange<'r>>, ReassessError> {
    let mut out = Vec::new();
    for (f, factor) in ruleset.factors.iter().enumerate() {
        if same_answer(before, current, f) {
            continue;
        }
        let mut reverted = current.clone();
        copy_answer(&mut reverted, before, f);
        // Each factor comes from one of two answer sets that both evaluate, so the mixture
        // does too; only the missing-answer work limit can refuse it.
        let a = ruleset
            .assess(&reverted)
            .map_err(|source| ReassessError::Eval {
                side: Side::Current,
                source,
            })?;
        out.push(AnswerChange {
            factor: Cow::Borrowed(&factor.id),
            before: answer_of(ruleset, before, f),
            after: answer_of(ruleset, current, f),
            pivotal: a.level.rank != current_index,
            if_reverted: Reverted {
                level: a.level,
                refer: a.flags.iter().any(|fl| fl.kind == FlagKind::Refer),
            },
        });
    }
    Ok(out)
}

/// The next combination of `k` indices out of `n` in lexicographic order, in place;
/// `false` after the last.
fn next_combination(c: &mut [usize], n: usize) -> bool {
    let k = c.len();
    let mut i = k;
    while i > 0 {
        i -= 1;
        let limit = n - k + i;
        if let Some(x) = c.get_mut(i) {
            if *x < limit {
                *x += 1;
                let start = *x;
                for (j, y) in c.iter_mut().enumerate().skip(i + 1) {
                    *y = start + (j - i);
                }
                return true;
            }
        }
    }
    false
}

/// A smallest set of changes that, applied alone to the previous answers, gives the
/// current level: sets by size, then in lexicographic (declaration) order.
fn drivers(
    ruleset: &Ruleset,
    before: &Answers<'_>,
    current: &Answers<'_>,
    changes: &[AnswerChange<'_>],
    current_index: LevelIndex,
) -> Result<Drivers, ReassessError> {
    let changed: Vec<usize> = changes
        .iter()
        .filter_map(|c| ruleset.factor_index(&c.factor))
        .collect();
    let n = changed.len();
    let mut budget = limits::MAX_MISSING_WORK;
    let too_costly = Drivers::TooCostly {
        limit: limits::MAX_MISSING_WORK,
    };
    for k in 0..=n {
        let mut combo: Vec<usize> = (0..k).collect();
        let mut found: Option<Vec<usize>> = None;
        let mut others = 0usize;
        loop {
            let mut mixed = before.clone();
            for &i in &combo {
                if let Some(&f) = changed.get(i) {
                    copy_answer(&mut mixed, current, f);
                }
            }
            let level = ruleset
                .level_within(&mixed, &mut budget)
                .map_err(|source| ReassessError::Eval {
                    side: Side::Current,
                    source,
                })?;
            match level {
                None => return Ok(too_costly),
                Some(l) if l == current_index => {
                    if found.is_none() {
                        found = Some(combo.clone());
                    } else {
                        others += 1;
                    }
                }
                Some(_) => {}
            }
            if !next_combination(&mut combo, n) {
                break;
            }
        }
        if let Some(set) = found {
            let changes = set
                .iter()
                .filter_map(|&i| changes.get(i).map(|c| c.factor.to_string()))
                .collect();
            return Ok(Drivers::Minimal {
                changes,
                equally_small: others,
            });
        }
    }
    // Applying every change gives the current answers, so the search ends above.
    Ok(too_costly)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn default() -> Ruleset {
        Ruleset::default_ruleset().unwrap()
    }

    const RESIDENTIAL: &str = r#"{"severity": "severe", "withdrawal_risk": "moderate",
        "medical": "stable", "housing": "unstable", "support": "limited",
        "harm_risk": "low", "mental_health": "moderate", "readiness": "ambivalent"}"#;
    const IOP: &str = r#"{"severity": "moderate", "withdrawal_risk": "low",
        "medical": "none", "housing": "stable", "support": "strong",
        "harm_risk": "none", "mental_health": "mild", "readiness": "ambivalent"}"#;

    fn assessment_json(rs: &Ruleset, answers: &str, with_answers: bool) -> String {
        let a = rs.assess(&rs.answers_from_json(answers).unwrap()).unwrap();
        let mut doc = serde_json::to_value(&a).unwrap();
        if with_answers {
            doc["answers"] = serde_json::from_str(answers).unwrap();
        }
        doc.to_string()
    }

    #[test]
    fn movement_between_follows_the_level_order() {
        assert_eq!(Movement::between(2, 1), Movement::StepDown { levels: 1 });
        assert_eq!(Movement::between(2, 0), Movement::StepDown { levels: 2 });
        assert_eq!(Movement::between(1, 1), Movement::ContinuedStay);
        assert_eq!(Movement::between(0, 2), Movement::StepUp { levels: 2 });
        assert_eq!(Movement::between(0, 2).signed_levels(), 2);
        assert_eq!(Movement::between(2, 0).signed_levels(), -2);
        assert_eq!(
            serde_json::to_value(Movement::StepDown { levels: 1 }).unwrap(),
            serde_json::json!({"kind": "step_down", "levels": 1})
        );
        assert_eq!(
            serde_json::to_value(Movement::ContinuedStay).unwrap(),
            serde_json::json!({"kind": "continued_stay"})
        );
    }

    #[test]
    fn step_down_from_residential_names_its_changes_and_drivers() {
        let rs = default();
        let before = rs.answers_from_json(RESIDENTIAL).unwrap();
        let now = rs.answers_from_json(IOP).unwrap();
        let r = reassess(&rs, &Previous::Answers(before), &now).unwrap();
        assert_eq!(r.movement.movement, Movement::StepDown { levels: 1 });
        assert_eq!(r.movement.from.id, "residential");
        assert_eq!(r.movement.to.id, "iop");
        let changed: Vec<&str> = r
            .changes
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| c.factor.as_ref())
            .collect();
        // readiness is `ambivalent` in both: not a change.
        assert_eq!(
            changed,
            [
                "severity",
                "withdrawal_risk",
                "medical",
                "housing",
                "support",
                "harm_risk",
                "mental_health"
            ]
        );
        // The four deciding rules need severity severe together with moderate withdrawal,
        // moderate mental health or a poor environment, and withdrawal_moderate_unsupported
        // needs moderate withdrawal with unstable housing. Every one of those has improved
        // at once, so no single change reverted alone brings residential back: none is
        // pivotal.
        let severity = &r.changes.as_ref().unwrap()[0];
        assert_eq!(severity.before, Some(Value::from("severe")));
        assert_eq!(severity.after, Some(Value::from("moderate")));
        assert!(r.changes.as_ref().unwrap().iter().all(|c| !c.pivotal));
        assert_eq!(severity.if_reverted.level.id, "iop");
        // Applied alone to the previous answers, no single change is enough (severity
        // alone leaves withdrawal_moderate_unsupported, withdrawal alone leaves
        // severity_severe_environment). Two are: severity with withdrawal (first in
        // declaration order) or severity with housing.
        assert_eq!(
            r.drivers,
            Some(Drivers::Minimal {
                changes: vec!["severity".to_owned(), "withdrawal_risk".to_owned()],
                equally_small: 1
            })
        );
        let mut mixed = rs.answers_from_json(RESIDENTIAL).unwrap();
        for c in ["severity", "withdrawal_risk"] {
            mixed.set(c, now.get(c).unwrap()).unwrap();
        }
        assert_eq!(rs.level(&mixed).unwrap().id, "iop");
        assert!(r.ruleset.same);
        assert!(r.notes.is_empty());
        assert_eq!(r.previous.source, PreviousSource::Answers);
    }

    #[test]
    fn drivers_of_a_known_case_are_exact() {
        // outpatient -> iop only because housing became unstable.
        let rs = default();
        let before = rs
            .answers_from_json(&IOP.replace("\"moderate\"", "\"mild\""))
            .unwrap();
        assert_eq!(rs.level(&before).unwrap().id, "outpatient");
        let mut now = before.clone();
        now.set("housing", "unstable").unwrap();
        now.set("readiness", "ready").unwrap();
        let r = reassess(&rs, &Previous::Answers(before), &now).unwrap();
        assert_eq!(r.movement.movement, Movement::StepUp { levels: 1 });
        assert_eq!(
            r.drivers,
            Some(Drivers::Minimal {
                changes: vec!["housing".to_owned()],
                equally_small: 0
            })
        );
        let changes = r.changes.unwrap();
        assert_eq!(changes.len(), 2);
        assert!(changes[0].pivotal, "housing");
        assert!(!changes[1].pivotal, "readiness");
    }

    #[test]
    fn answered_to_unanswered_is_a_change() {
        let rs = default();
        let before = rs.answers_from_json(IOP).unwrap();
        let mut now = before.clone();
        now.clear("harm_risk").unwrap();
        let r = reassess(&rs, &Previous::Answers(before), &now).unwrap();
        let changes = r.changes.unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].factor, "harm_risk");
        assert_eq!(changes[0].before, Some(Value::from("none")));
        assert_eq!(changes[0].after, None);
        // Unanswered harm_risk could be imminent: the top of the range is residential.
        assert_eq!(r.movement.to.id, "residential");
        assert!(changes[0].pivotal);
        assert_eq!(
            r.needs_review,
            BeforeAfter {
                before: false,
                after: true
            }
        );
    }

    #[test]
    fn refer_changes_are_reported_beside_the_movement() {
        let rs = default();
        let before = rs.answers_from_json(RESIDENTIAL).unwrap();
        let mut now = before.clone();
        now.set("harm_risk", "imminent").unwrap();
        let r = reassess(&rs, &Previous::Answers(before), &now).unwrap();
        assert_eq!(r.movement.movement, Movement::ContinuedStay);
        assert_eq!(
            r.refer,
            BeforeAfter {
                before: false,
                after: true
            }
        );
        assert!(r.flags.raised.contains(&"refer_imminent_harm".to_owned()));
        assert!(r.flags.cleared.is_empty());
        let changes = r.changes.unwrap();
        assert!(!changes[0].pivotal);
        assert!(!changes[0].if_reverted.refer);
        assert_eq!(
            r.drivers,
            Some(Drivers::Minimal {
                changes: vec![],
                equally_small: 0
            })
        );
    }

    #[test]
    fn a_stored_assessment_with_answers_is_re_assessed() {
        let rs = default();
        let text = assessment_json(&rs, RESIDENTIAL, true);
        let Previous::Earlier(earlier) = Previous::from_json(&rs, &text).unwrap() else {
            panic!("not detected as an assessment")
        };
        assert_eq!(earlier.level.id, "residential");
        let now = rs.answers_from_json(IOP).unwrap();
        let r = reassess(&rs, &Previous::Earlier(earlier), &now).unwrap();
        assert_eq!(r.movement.movement, Movement::StepDown { levels: 1 });
        assert!(r.previous.answers_known);
        assert!(r.changes.is_some());
        assert!(r.ruleset.same);
        assert!(r.notes.is_empty(), "{:?}", r.notes);
    }

    #[test]
    fn a_stored_assessment_without_answers_gives_the_movement_only() {
        let rs = default();
        let text = assessment_json(&rs, RESIDENTIAL, false);
        let previous = Previous::from_json(&rs, &text).unwrap();
        let now = rs.answers_from_json(IOP).unwrap();
        let r = reassess(&rs, &previous, &now).unwrap();
        assert_eq!(r.movement.movement, Movement::StepDown { levels: 1 });
        assert!(!r.previous.answers_known);
        assert_eq!(r.changes, None);
        assert_eq!(r.drivers, None);
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    }

    #[test]
    fn another_ruleset_is_shown_with_both_hashes_and_re_assessed() {
        let rs = default();
        let other = Ruleset::from_yaml(
            &crate::DEFAULT_RULESET.replace("version: \"1.1.0\"", "version: \"1.0.9\""),
        )
        .unwrap();
        assert_ne!(other.sha256(), rs.sha256());
        let text = assessment_json(&other, RESIDENTIAL, true);
        let previous = Previous::from_json(&rs, &text).unwrap();
        let now = rs.answers_from_json(IOP).unwrap();
        let r = reassess(&rs, &previous, &now).unwrap();
        assert!(!r.ruleset.same);
        assert_eq!(r.ruleset.previous.ruleset_sha256, other.sha256());
        assert_eq!(r.ruleset.current.ruleset_sha256, rs.sha256());
        assert!(r.notes[0].contains("as stored"), "{:?}", r.notes);
        // Without answers: measured from the stored level, and said so.
        let text = assessment_json(&other, RESIDENTIAL, false);
        let previous = Previous::from_json(&rs, &text).unwrap();
        let r = reassess(&rs, &previous, &now).unwrap();
        assert_eq!(r.movement.movement, Movement::StepDown { levels: 1 });
        assert!(
            r.notes[0].contains("cannot be re-assessed"),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn a_stored_level_the_ruleset_lacks_is_refused_without_answers() {
        let rs = default();
        let text = assessment_json(&rs, RESIDENTIAL, false)
            .replace("\"residential\"", "\"hospital\"")
            .replace(rs.sha256(), &"0".repeat(64));
        let previous = Previous::from_json(&rs, &text).unwrap();
        let now = rs.answers_from_json(IOP).unwrap();
        let e = reassess(&rs, &previous, &now).unwrap_err();
        assert!(matches!(e, ReassessError::UnknownStoredLevel { .. }), "{e}");
        assert!(
            e.to_string().contains("outpatient, iop, residential"),
            "{e}"
        );
    }

    #[test]
    fn a_stored_level_inconsistent_with_its_ruleset_is_refused() {
        let rs = default();
        let text = assessment_json(&rs, RESIDENTIAL, false).replace("\"rank\":2", "\"rank\":1");
        let previous = Previous::from_json(&rs, &text).unwrap();
        let now = rs.answers_from_json(IOP).unwrap();
        let e = reassess(&rs, &previous, &now).unwrap_err();
        assert!(
            matches!(e, ReassessError::InconsistentStoredLevel { .. }),
            "{e}"
        );
    }

    #[test]
    fn bad_stored_assessments_say_where_and_what() {
        let e = EarlierResult::from_json("{\"provenance\": {},\n \"level\": 3").unwrap_err();
        assert!(
            matches!(e, EarlierResultError::Syntax { line: 2, .. }),
            "{e}"
        );
        let e = EarlierResult::from_json(
            "{\"level\": {\"id\": \"iop\", \"label\": \"IOP\", \"rank\": \"one\"},\n\"provenance\": {}}",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, EarlierResultError::Shape { line: 1, .. }),
            "{text}"
        );
        assert!(
            text.contains("expected a whole number, 0 or more"),
            "{text}"
        );
        let rs = default();
        let text = assessment_json(&rs, IOP, false).replace(rs.sha256(), "abc");
        let e = EarlierResult::from_json(&text).unwrap_err();
        assert!(
            e.to_string().starts_with("`provenance.ruleset_sha256`"),
            "{e}"
        );
        let text = assessment_json(&rs, IOP, false).replacen('{', "{\"answers\": [1],", 1);
        let e = EarlierResult::from_json(&text).unwrap_err();
        assert!(e.to_string().starts_with("`answers`"), "{e}");
    }

    #[test]
    fn answers_are_not_taken_for_an_assessment() {
        let rs = default();
        assert!(matches!(
            Previous::from_json(&rs, IOP).unwrap(),
            Previous::Answers(_)
        ));
        assert!(matches!(
            Previous::from_json(&rs, r#"{"sevrity": "mild"}"#),
            Err(PreviousError::Answers(_))
        ));
    }

    #[test]
    fn next_combination_enumerates_in_lexicographic_order() {
        let mut c = vec![0, 1];
        let mut all = vec![c.clone()];
        while next_combination(&mut c, 4) {
            all.push(c.clone());
        }
        assert_eq!(
            all,
            [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]].map(|x| x.to_vec())
        );
        let mut empty: Vec<usize> = vec![];
        assert!(!next_combination(&mut empty, 3));
    }

    /// Answers from one value index per factor (`None`: unanswered).
    fn answers_of<'r>(rs: &'r Ruleset, choice: &[Option<usize>]) -> Answers<'r> {
        let mut a = rs.new_answers();
        for (f, c) in choice.iter().enumerate() {
            if let Some(i) = c {
                let factor = &rs.factors()[f];
                let code = factor.classes()[*i % factor.classes().len()];
                a.set_code(f, code).unwrap();
            }
        }
        a
    }

    fn choice() -> impl Strategy<Value = Vec<Option<usize>>> {
        // 9 factors in the default ruleset; one in five unanswered.
        proptest::collection::vec(
            prop_oneof![1 => Just(None), 4 => (0usize..5).prop_map(Some)],
            9,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn reassessing_the_same_answers_is_a_continued_stay(c in choice()) {
            let rs = default();
            let a = answers_of(&rs, &c);
            let r = reassess(&rs, &Previous::Answers(a.clone()), &a).unwrap();
            prop_assert_eq!(r.movement.movement, Movement::ContinuedStay);
            prop_assert_eq!(r.changes, Some(vec![]));
            prop_assert_eq!(r.drivers, Some(Drivers::Minimal { changes: vec![], equally_small: 0 }));
            prop_assert_eq!(r.flags, FlagChanges::default());
        }

        #[test]
        fn movement_pivots_and_drivers_are_exact(p in choice(), c in choice()) {
            let rs = default();
            let before = answers_of(&rs, &p);
            let now = answers_of(&rs, &c);
            let r = reassess(&rs, &Previous::Answers(before.clone()), &now).unwrap();
            let from = rs.level_for(&before).unwrap();
            let to = rs.level_for(&now).unwrap();
            // The movement's sign and size follow the level order.
            prop_assert_eq!(r.movement.movement.signed_levels(), to as i64 - from as i64);
            prop_assert_eq!(r.movement.from.rank, from);
            prop_assert_eq!(r.movement.to.rank, to);
            // Reversed, the movement is the opposite.
            let back = reassess(&rs, &Previous::Answers(now.clone()), &before).unwrap();
            prop_assert_eq!(back.movement.movement.signed_levels(), -r.movement.movement.signed_levels());
            let changes = r.changes.unwrap();
            let changed: Vec<usize> = changes.iter().map(|x| rs.factor_index(&x.factor).unwrap()).collect();
            // Exactly the factors whose answers differ.
            for f in 0..rs.factors().len() {
                prop_assert_eq!(changed.contains(&f), !same_answer(&before, &now, f));
            }
            // Pivotal: reverting alone changes the level, by direct evaluation.
            for (x, &f) in changes.iter().zip(&changed) {
                let mut rev = now.clone();
                copy_answer(&mut rev, &before, f);
                let l = rs.level_for(&rev).unwrap();
                prop_assert_eq!(x.pivotal, l != to);
                prop_assert_eq!(x.if_reverted.level.rank, l);
            }
            // Drivers: sufficient, and no smaller set (nor earlier set of that size) is.
            let apply = |set: &[usize]| {
                let mut m = before.clone();
                for &f in set {
                    copy_answer(&mut m, &now, f);
                }
                rs.level_for(&m).unwrap()
            };
            let Some(Drivers::Minimal { changes: names, equally_small }) = r.drivers else {
                return Err(TestCaseError::fail("drivers not worked out"));
            };
            let set: Vec<usize> = names.iter().map(|n| rs.factor_index(n).unwrap()).collect();
            prop_assert_eq!(apply(&set), to);
            let n = changed.len();
            let mut same_size = 0usize;
            for mask in 0u32..(1u32 << n) {
                let subset: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| changed[i]).collect();
                if apply(&subset) == to {
                    prop_assert!(subset.len() >= set.len(), "smaller set {:?} works", subset);
                    if subset.len() == set.len() {
                        same_size += 1;
                    }
                }
            }
            prop_assert_eq!(same_size, equally_small + 1);
        }
    }
}
