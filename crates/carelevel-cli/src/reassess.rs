//! `carelevel reassess`: a person assessed again during treatment, against an earlier
//! result: the current recommendation, the movement (step-down, continued stay,
//! step-up), the changed answers and the changes that drove the movement.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use carelevel::analysis::{
    self, Drivers, EarlierResultError, Movement, Previous, PreviousError, PreviousSource,
    Reassessment,
};
use carelevel::text::Shown;
use carelevel::{AnswersError, Diagnostic, Ruleset, Severity, Value};

use crate::assess::{self, AnswersFormat};
use crate::input::{self, RulesArg, Source};
use crate::render;
use crate::ExitCode;

/// Output format of `reassess`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A plain-text report for people.
    Text,
    /// The reassessment as pretty-printed JSON (docs/assessment.md).
    Json,
    /// The reassessment as YAML (the same document as `json`).
    Yaml,
}

/// Arguments of `carelevel reassess`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ruleset to use.
    #[command(flatten)]
    pub rules: RulesArg,

    /// The previous answers (`.json`, `.yaml`, `.yml`), or a stored assessment: the JSON
    /// of `carelevel assess --format json`, optionally with an `answers` member. `-` for
    /// stdin.
    #[arg(value_name = "PREVIOUS")]
    pub previous: PathBuf,

    /// The current answers (`.json`, `.yaml`, `.yml`, or `-` for stdin).
    #[arg(value_name = "CURRENT")]
    pub current: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Run `carelevel reassess`.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    if input::is_stdin(&args.previous) && input::is_stdin(&args.current) {
        return input::usage_error(
            err,
            "PREVIOUS and CURRENT cannot both be `-`: standard input holds one of them",
        );
    }
    let previous_source = match input::read_source(&args.previous, "previous file") {
        Ok(s) => s,
        Err(message) => return input::usage_error(err, &message),
    };
    let current_source = match input::read_source(&args.current, "current answers file") {
        Ok(s) => s,
        Err(message) => return input::usage_error(err, &message),
    };
    let ruleset = match input::choose_ruleset(&args.rules, err)? {
        Ok(ruleset) => ruleset,
        Err(code) => return Ok(code),
    };

    let previous = match read_previous(&ruleset, &args.previous, &previous_source) {
        Ok(p) => p,
        Err(PreviousError::Answers(AnswersError { problems })) => {
            let lines: Vec<String> = problems
                .iter()
                .map(|p| assess::problem_line(&previous_source.name, p))
                .collect();
            // Text that is not JSON or YAML at all could have been either kind of file.
            let what = if unparsable(&args.previous, &previous_source) {
                "previous file (answers, or a stored assessment)"
            } else {
                "previous answers"
            };
            return assess::invalid_answers(err, what, &lines);
        }
        Err(PreviousError::Earlier(e)) => return earlier_error(err, &previous_source, &e),
    };
    let parsed = match assess::answers_format(&args.current, &current_source.text) {
        AnswersFormat::Json => ruleset.answers_from_json(&current_source.text),
        AnswersFormat::Yaml => ruleset.answers_from_yaml(&current_source.text),
    };
    let current = match parsed {
        Ok(a) => a,
        Err(AnswersError { problems }) => {
            let lines: Vec<String> = problems
                .iter()
                .map(|p| assess::problem_line(&current_source.name, p))
                .collect();
            return assess::invalid_answers(err, "current answers", &lines);
        }
    };
    let report = match analysis::reassess(&ruleset, &previous, &current) {
        Ok(r) => r,
        Err(e) => {
            return input::usage_error(
                err,
                &format!("cannot reassess (previous: {}): {e}", previous_source.name),
            )
        }
    };
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(text) => {
                writeln!(out, "{text}")?;
                Ok(ExitCode::Success)
            }
            Err(e) => input::usage_error(err, &format!("cannot serialize the reassessment: {e}")),
        },
        Format::Yaml => match serde_yaml::to_string(&report) {
            Ok(text) => {
                out.write_all(text.as_bytes())?;
                Ok(ExitCode::Success)
            }
            Err(e) => input::usage_error(err, &format!("cannot serialize the reassessment: {e}")),
        },
        Format::Text => {
            text(out, &ruleset, &report, &previous_source, &current_source)?;
            Ok(ExitCode::Success)
        }
    }
}

/// PREVIOUS as answers or a stored assessment: JSON text is a stored assessment when
/// its `provenance` or `assessment` member is an object
/// ([`analysis::is_stored_assessment`]); YAML is always answers.
fn read_previous<'r>(
    ruleset: &'r Ruleset,
    path: &Path,
    source: &Source,
) -> Result<Previous<'r>, PreviousError> {
    match assess::answers_format(path, &source.text) {
        AnswersFormat::Json => Previous::from_json(ruleset, &source.text),
        AnswersFormat::Yaml => Ok(Previous::Answers(ruleset.answers_from_yaml(&source.text)?)),
    }
}

/// Whether PREVIOUS is not even JSON (or YAML) text, so its kind cannot be told.
fn unparsable(path: &Path, source: &Source) -> bool {
    match assess::answers_format(path, &source.text) {
        AnswersFormat::Json => serde_json::from_str::<serde_json::Value>(&source.text).is_err(),
        AnswersFormat::Yaml => false,
    }
}

/// A stored assessment that cannot be read: with its line, the line quoted and a caret
/// when the problem has a position.
fn earlier_error(
    err: &mut dyn Write,
    source: &Source,
    e: &EarlierResultError,
) -> io::Result<ExitCode> {
    match e.location() {
        Some(location) => {
            let d = Diagnostic {
                severity: Severity::Error,
                path: None,
                message: e.detail(),
                location: Some(location),
            };
            render::diagnostics(err, source, &[d])?;
            input::usage_error(
                err,
                &format!("the stored assessment `{}` cannot be read", source.name),
            )
        }
        None => input::usage_error(
            err,
            &format!(
                "the stored assessment `{}` cannot be read: {e}",
                source.name
            ),
        ),
    }
}

/// `step-down by 1 level: residential → iop`.
pub fn movement_words(r: &Reassessment<'_>) -> String {
    let (from, to) = (&r.movement.from.id, &r.movement.to.id);
    let levels = |n: usize| render::plural(n, "level", "levels");
    match r.movement.movement {
        Movement::StepDown { levels: n } => format!("step-down by {}: {from} → {to}", levels(n)),
        Movement::ContinuedStay => format!("continued stay: {to}"),
        Movement::StepUp { levels: n } => format!("step-up by {}: {from} → {to}", levels(n)),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// An answer as shown in the table: the value, or `(unanswered)` with the assumed value
/// when the question has one.
fn answer_text(ruleset: &Ruleset, factor: &str, value: Option<&Value>) -> String {
    match value {
        Some(v) => Shown::full(&v.to_string()).to_string(),
        None => {
            let assumed = ruleset
                .factor_index(factor)
                .and_then(|i| ruleset.factors().get(i))
                .and_then(carelevel::Factor::assumed_value);
            match assumed {
                Some(v) => format!("(unanswered, assumed {})", Shown::full(&v.to_string())),
                None => "(unanswered)".to_owned(),
            }
        }
    }
}

/// The text report: the reassessment, then the current assessment in full.
fn text(
    out: &mut dyn Write,
    ruleset: &Ruleset,
    r: &Reassessment<'_>,
    previous: &Source,
    current: &Source,
) -> io::Result<()> {
    writeln!(out, "Reassessment: {}", movement_words(r))?;
    writeln!(
        out,
        "Current recommendation: {} ({}), from {}",
        Shown::full(&r.current.level.label),
        r.current.level.id,
        current.name
    )?;
    let p = &r.previous;
    match (&p.stored, p.source) {
        (Some(stored), PreviousSource::StoredAssessment) if p.answers_known => {
            write_wrapped_line(
                out,
                "Previous: ",
                &format!(
                    "{} ({}): the answers stored in {}, re-assessed with this ruleset \
                     (stored level: {}, by ruleset {} {})",
                    Shown::full(&p.level.label),
                    p.level.id,
                    previous.name,
                    Shown::full(&stored.level.id),
                    Shown::full(&stored.provenance.ruleset_id),
                    Shown::full(&stored.provenance.ruleset_version)
                ),
            )?;
        }
        (Some(stored), _) => {
            write_wrapped_line(
                out,
                "Previous: ",
                &format!(
                    "{} ({}), as stored in {} by ruleset {} {} (no answers stored with it)",
                    Shown::full(&p.level.label),
                    p.level.id,
                    previous.name,
                    Shown::full(&stored.provenance.ruleset_id),
                    Shown::full(&stored.provenance.ruleset_version)
                ),
            )?;
        }
        (None, _) => writeln!(
            out,
            "Previous: {} ({}), from {}",
            Shown::full(&p.level.label),
            p.level.id,
            previous.name
        )?,
    }
    let change = |b: &carelevel::analysis::BeforeAfter<bool>| {
        if b.before == b.after {
            format!("{} (unchanged)", yes_no(b.after))
        } else {
            format!("{} → {}", yes_no(b.before), yes_no(b.after))
        }
    };
    writeln!(out, "Refer: {}", change(&r.refer))?;
    writeln!(out, "Needs review: {}", change(&r.needs_review))?;
    // Cleared flag ids may come from a stored file: shown escaped like all input text.
    let ids = |ids: &[String]| {
        ids.iter()
            .map(|id| Shown::full(id).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !r.flags.raised.is_empty() {
        writeln!(out, "Flags raised: {}", ids(&r.flags.raised))?;
    }
    if !r.flags.cleared.is_empty() {
        writeln!(out, "Flags cleared: {}", ids(&r.flags.cleared))?;
    }

    writeln!(out)?;
    match &r.changes {
        None => writeln!(
            out,
            "Changed answers: not known (the previous result holds no answers)"
        )?,
        Some(changes) if changes.is_empty() => writeln!(out, "Changed answers: none")?,
        Some(changes) => {
            writeln!(
                out,
                "Changed answers ({}; * marks a pivotal change: reverting it alone changes the level):",
                changes.len()
            )?;
            let rows: Vec<[String; 4]> = changes
                .iter()
                .map(|c| {
                    let mut reverted = c.if_reverted.level.id.to_string();
                    if c.if_reverted.refer {
                        reverted.push_str(", refer");
                    }
                    [
                        Shown::full(&c.factor).to_string(),
                        answer_text(ruleset, &c.factor, c.before.as_ref()),
                        answer_text(ruleset, &c.factor, c.after.as_ref()),
                        reverted,
                    ]
                })
                .collect();
            let header = [
                "question".to_owned(),
                "before".to_owned(),
                "after".to_owned(),
                "reverted alone gives".to_owned(),
            ];
            let mut widths = [0usize; 4];
            for row in rows.iter().chain(std::iter::once(&header)) {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            let line = |mark: char, row: &[String; 4]| {
                let mut text = format!("  {mark} ");
                for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                    if i + 1 == row.len() {
                        text.push_str(cell);
                    } else {
                        text.push_str(&format!("{cell:<w$}  "));
                    }
                }
                text
            };
            writeln!(out, "{}", line(' ', &header))?;
            for (row, c) in rows.iter().zip(changes) {
                writeln!(out, "{}", line(if c.pivotal { '*' } else { ' ' }, row))?;
            }
        }
    }
    match &r.drivers {
        None => {}
        Some(Drivers::Minimal { changes, .. }) if changes.is_empty() => {
            write_wrapped_line(
                out,
                "Drivers: ",
                "none: the previous answers already give this level",
            )?;
        }
        Some(Drivers::Minimal {
            changes,
            equally_small,
        }) => {
            let others = if *equally_small == 0 {
                "no other set of that size does".to_owned()
            } else {
                format!(
                    "{} of {} also {}",
                    render::plural(*equally_small, "other set", "other sets"),
                    render::plural(changes.len(), "change", "changes"),
                    if *equally_small == 1 { "does" } else { "do" }
                )
            };
            write_wrapped_line(
                out,
                "Drivers: ",
                &format!(
                    "{}: the smallest set of these changes that, applied alone to the previous \
                     answers, gives {} ({others})",
                    ids(changes),
                    r.movement.to.id
                ),
            )?;
        }
        Some(Drivers::TooCostly { limit }) => write_wrapped_line(
            out,
            "Drivers: ",
            &format!("not worked out: the search would take more than the limit of {limit} steps"),
        )?,
    }

    writeln!(out)?;
    let c = &r.ruleset.current;
    let sha = |s: &str| Shown::full(s).to_string();
    if r.ruleset.same {
        writeln!(
            out,
            "Ruleset: {} {} for both results (sha256 {})",
            Shown::full(&c.ruleset_id),
            Shown::full(&c.ruleset_version),
            c.ruleset_sha256.get(..12).unwrap_or(&c.ruleset_sha256)
        )?;
    } else {
        let pr = &r.ruleset.previous;
        writeln!(out, "RULESET DIFFERS between the two results:")?;
        writeln!(
            out,
            "  previous: {} {} (sha256 {})",
            Shown::full(&pr.ruleset_id),
            Shown::full(&pr.ruleset_version),
            sha(&pr.ruleset_sha256)
        )?;
        writeln!(
            out,
            "  current:  {} {} (sha256 {})",
            Shown::full(&c.ruleset_id),
            Shown::full(&c.ruleset_version),
            sha(&c.ruleset_sha256)
        )?;
    }
    if !r.notes.is_empty() {
        writeln!(out, "Notes:")?;
        for note in &r.notes {
            render::write_wrapped(out, "  - ", "    ", note)?;
        }
    }

    writeln!(out)?;
    writeln!(out, "Current assessment")?;
    writeln!(out, "------------------")?;
    render::assessment_with(
        out,
        ruleset,
        &r.current,
        None,
        crate::style::Style::for_stdout(),
    )
}

/// One labelled paragraph, wrapped with the continuation lines under its text.
fn write_wrapped_line(out: &mut dyn Write, label: &str, text: &str) -> io::Result<()> {
    let rest = " ".repeat(label.chars().count());
    render::write_wrapped(out, label, &rest, text)
}
