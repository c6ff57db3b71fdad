//! Error types. Every error says where (path, line, column, factor) and what was expected.

use std::fmt;

use serde::Serialize;
use thiserror::Error;

use crate::limits::MAX_MESSAGE_BYTES;
use crate::text::Shown;

/// A position in a source text: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// Line, counted from 1.
    pub line: usize,
    /// Column, counted from 1.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something the author may want to know; never fails a check.
    Note,
    /// Probably a mistake; fails a check only when it is run strictly.
    Warning,
    /// The ruleset cannot be used.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem found in a source text, with the path of the offending item and its location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// The item's path in the document, e.g. `rules[3].when.any[1].housing`.
    pub path: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
    /// Where the item starts in the source, when known.
    pub location: Option<Location>,
}

impl Diagnostic {
    /// An error; its path and message are made safe to display ([`clean`]).
    pub(crate) fn error(path: Option<String>, message: String, location: Option<Location>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            path: path.map(|p| {
                crate::text::escape_for_display(&p, Some(crate::limits::MAX_PATH_BYTES))
                    .into_owned()
            }),
            message: clean(message),
            location,
        }
    }
}

/// `text` escaped and capped at [`MAX_MESSAGE_BYTES`] (`crate::text`): every message the
/// core builds goes through this, so a control character or a huge excerpt that a
/// message quotes cannot reach a terminal even where the quoting site missed it.
pub(crate) fn clean(text: String) -> String {
    match crate::text::escape_for_display(&text, Some(MAX_MESSAGE_BYTES)) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(shown) => shown,
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = self.location {
            write!(f, "{loc}: ")?;
        }
        write!(f, "{}: ", self.severity)?;
        if let Some(path) = &self.path {
            write!(f, "{}: ", Shown::full(path))?;
        }
        write!(f, "{}", Shown::full(&self.message))
    }
}

/// A ruleset (or test file) that could not be loaded: every problem found, in source order.
#[derive(Debug, Clone, Error)]
#[error("{}", render_diagnostics(.diagnostics))]
pub struct RulesetError {
    /// All problems found; at least one has [`Severity::Error`].
    pub diagnostics: Vec<Diagnostic>,
}

fn render_diagnostics(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// One problem with one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerProblem {
    /// The factor (question id) the problem is about, when there is one.
    pub factor: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
    /// Where the answer is in an answers file (JSON or YAML): the line and column of
    /// its key. `None` for answers that do not come from a file, or when the problem
    /// is with the file as a whole (its message then says where).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl AnswerProblem {
    /// A problem about `factor`, both made safe to display (`carelevel::text`): the
    /// factor escaped and capped as an excerpt of input (it may be an unknown key or
    /// column name), the message escaped and capped at
    /// [`MAX_MESSAGE_BYTES`](crate::limits::MAX_MESSAGE_BYTES). Adapters build their
    /// problems with it too.
    pub fn new(factor: Option<&str>, message: String) -> Self {
        AnswerProblem {
            factor: factor.map(crate::text::excerpt),
            message: clean(message),
            location: None,
        }
    }
}

impl fmt::Display for AnswerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Escaped again here: the fields are public and may be built outside the core.
        let message = Shown::full(&self.message);
        match &self.factor {
            // Room for the cut suffix: a factor the core already cut stays as it is.
            Some(factor) => write!(
                f,
                "`{}`: {message}",
                Shown::capped(
                    factor,
                    crate::limits::MAX_EXCERPT_BYTES + crate::text::CUT_SUFFIX_MAX_BYTES
                )
            ),
            None => write!(f, "{message}"),
        }
    }
}

/// Answers that could not be read: every problem found.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", render_problems(.problems))]
pub struct AnswersError {
    /// All problems found, in input order.
    pub problems: Vec<AnswerProblem>,
}

impl AnswersError {
    pub(crate) fn one(factor: Option<&str>, message: String) -> Self {
        AnswersError {
            problems: vec![AnswerProblem::new(factor, message)],
        }
    }
}

fn render_problems(problems: &[AnswerProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("; ")
}

/// Evaluation could not produce a level.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    /// Answers built for one ruleset were given to another.
    #[error("these answers were built for ruleset `{answers_ruleset}`, not for `{ruleset}`")]
    ForeignAnswers {
        /// The ruleset the answers belong to.
        answers_ruleset: String,
        /// The ruleset asked to evaluate them.
        ruleset: String,
    },
    /// Questions whose missing-answer policy is `error` were not answered.
    #[error("required answers are missing: {}", .factors.join(", "))]
    MissingRequired {
        /// The unanswered required factors, in declaration order.
        factors: Vec<String>,
    },
    /// So many questions are unanswered that the exact range of levels is too costly to compute.
    #[error(
        "{} questions are unanswered ({}); working out exactly what they leave open would take more \
         than the limit of {limit} steps (condition nodes visited): answer some of them",
        .factors.len(), .factors.join(", ")
    )]
    TooManyMissing {
        /// The unanswered factors.
        factors: Vec<String>,
        /// The work budget that was exceeded ([`crate::limits::MAX_MISSING_WORK`]).
        limit: u64,
    },
    /// Explaining the assessment (the nearest answers that move the level) would take
    /// more work than the budget allows. The assessment itself is not affected.
    #[error(
        "finding the nearest answers that would move the level would take more than the limit of \
         {limit} steps (condition nodes visited); the assessment itself is not affected"
    )]
    ExplanationTooCostly {
        /// The work budget that was exceeded ([`crate::limits::MAX_MISSING_WORK`]).
        limit: u64,
    },
}

/// Anything that can go wrong between answer text and an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AssessError {
    /// The answers were not valid for the ruleset.
    #[error("invalid answers: {0}")]
    Answers(#[from] AnswersError),
    /// The answers were valid but no level could be computed.
    #[error(transparent)]
    Eval(#[from] EvalError),
}
