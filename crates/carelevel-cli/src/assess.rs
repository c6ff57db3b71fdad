//! `carelevel assess`: evaluate one person's answers and explain the recommendation.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use carelevel::analysis;
use carelevel::{AnswerProblem, Answers, AnswersError, Ruleset};

use crate::fhir_out::FhirOutArgs;
use crate::fhir_read::FhirReadArgs;
use crate::input::{self, RulesArg};
use crate::render;
use crate::ExitCode;

/// Output format of `assess`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A plain-text report for people.
    Text,
    /// The assessment as pretty-printed JSON.
    Json,
    /// The assessment as YAML.
    Yaml,
    /// A FHIR GuidanceResponse (R4, or R5 with `--fhir r5`), docs/fhir.md.
    GuidanceResponse,
    /// A CDS Hooks 2.0 card, docs/fhir.md.
    CdsCard,
}

/// What the answers file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum InputFormat {
    /// carelevel answers: a JSON or YAML map from question id to answer.
    #[default]
    Answers,
    /// A FHIR QuestionnaireResponse (JSON, R4 or R5), docs/fhir.md.
    Fhir,
}

/// Arguments of `carelevel assess`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ruleset to use.
    #[command(flatten)]
    pub rules: RulesArg,

    /// Answers file: `.json`, `.yaml` or `.yml`, or `-` for stdin (JSON if it starts
    /// with `{`, YAML otherwise).
    #[arg(value_name = "ANSWERS_FILE")]
    pub answers_file: Option<PathBuf>,

    /// Set one answer, e.g. `--answer harm_risk=high`; repeatable; applied after the
    /// answers file, so it overrides it.
    #[arg(long = "answer", short = 'a', value_name = "FACTOR=VALUE")]
    pub answers: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also show what would change the result: for each answer, the nearest answer up
    /// and down its scale that moves the level (everything else as given). With
    /// `--format json|yaml` the output becomes `{assessment, hinges}`.
    #[arg(long)]
    pub explain: bool,

    /// What the answers file holds.
    #[arg(long, value_enum, default_value_t = InputFormat::Answers)]
    pub input_format: InputFormat,

    /// How a FHIR QuestionnaireResponse is read (with `--input-format fhir`); its
    /// `--fhir r4|r5` is also the release of `--format guidance-response`.
    #[command(flatten)]
    pub fhir: FhirReadArgs,

    /// Opt-in decision logging (`--decision-log FILE`).
    #[command(flatten)]
    pub log: crate::log_opt::DecisionLogArgs,
    /// What goes into a GuidanceResponse or card (with `--format
    /// guidance-response|cds-card`).
    #[command(flatten)]
    pub fhir_out: FhirOutArgs,
}

/// What the GuidanceResponse says about where the answers came from.
#[derive(Debug, Default)]
struct Origin {
    /// `QuestionnaireResponse.id`, when the input is FHIR and has one.
    qr_id: Option<String>,
    /// `QuestionnaireResponse.subject`, when the input is FHIR and has one.
    subject: Option<serde_json::Value>,
    /// The answers file's name (without directories), when there is a file.
    file: Option<String>,
}

/// How the answers file is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswersFormat {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// `.json` is JSON and `.yaml`/`.yml` YAML; stdin and other names are JSON when the
/// first non-whitespace character is `{`, YAML otherwise.
pub(crate) fn answers_format(path: &Path, text: &str) -> AnswersFormat {
    if !input::is_stdin(path) {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => return AnswersFormat::Json,
            Some("yaml" | "yml") => return AnswersFormat::Yaml,
            _ => {}
        }
    }
    if text.trim_start().starts_with('{') {
        AnswersFormat::Json
    } else {
        AnswersFormat::Yaml
    }
}

/// Split `FACTOR=VALUE`.
pub(crate) fn parse_override(arg: &str) -> Option<(&str, &str)> {
    let (factor, value) = arg.split_once('=')?;
    let factor = factor.trim();
    (!factor.is_empty()).then_some((factor, value.trim()))
}

/// Most answer problems listed; the rest are counted.
const MAX_PROBLEMS_SHOWN: usize = 50;

/// One answer problem, prefixed with where the answer came from: `FILE:LINE:COL:` for
/// an answer in a file, the `--answer` argument otherwise.
pub(crate) fn problem_line(origin: &str, problem: &AnswerProblem) -> String {
    // The origin quotes a file name or a whole `--answer` argument: an excerpt.
    let origin = carelevel::text::Shown::excerpt(origin);
    match problem.location {
        Some(l) => format!("{origin}:{}:{}: {problem}", l.line, l.column),
        None => format!("{origin}: {problem}"),
    }
}

/// Run `carelevel assess`.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    if args.answers_file.is_none() && args.answers.is_empty() {
        return input::usage_error(
            err,
            "no answers given: pass an answers file (`-` for stdin) and/or \
             `--answer FACTOR=VALUE`",
        );
    }
    let mut overrides = Vec::new();
    for arg in &args.answers {
        match parse_override(arg) {
            Some(pair) => overrides.push((arg.as_str(), pair)),
            None => {
                return input::usage_error(
                    err,
                    &format!(
                        "`--answer {arg}` is not FACTOR=VALUE (e.g. `--answer harm_risk=high`)"
                    ),
                )
            }
        }
    }
    let file = match &args.answers_file {
        None => None,
        Some(path) => match input::read_source(path, "answers file") {
            Ok(source) => Some((path.as_path(), source)),
            Err(message) => return input::usage_error(err, &message),
        },
    };
    let ruleset = match input::choose_ruleset(&args.rules, err)? {
        Ok(ruleset) => ruleset,
        Err(code) => return Ok(code),
    };

    // Every problem, from the file and from every `--answer`, is reported at once.
    let mut problems: Vec<String> = Vec::new();
    let mut review_reasons: Vec<String> = Vec::new();
    let mut origin = Origin {
        file: file.as_ref().and_then(|(path, _)| {
            (!input::is_stdin(path))
                .then(|| path.file_name().map(|n| n.to_string_lossy().into_owned()))
                .flatten()
        }),
        ..Origin::default()
    };
    let mut answers = match &file {
        None => ruleset.new_answers(),
        Some((_, source)) if args.input_format == InputFormat::Fhir => {
            let options = match args.fhir.options(&ruleset) {
                Ok(o) => o,
                Err(message) => return input::usage_error(err, &message),
            };
            match carelevel_fhir::response::read_response(&ruleset, &source.text, &options) {
                Ok(read) => {
                    for warning in &read.warnings {
                        writeln!(err, "carelevel: warning: {}: {warning}", source.name)?;
                    }
                    review_reasons = read.warnings;
                    origin.qr_id = read.id;
                    origin.subject = read.subject;
                    read.answers
                }
                Err(e) => {
                    problems.extend(e.problems.iter().map(|p| format!("{}: {p}", source.name)));
                    ruleset.new_answers()
                }
            }
        }
        Some((path, source)) => {
            let parsed = match answers_format(path, &source.text) {
                AnswersFormat::Json => ruleset.answers_from_json(&source.text),
                AnswersFormat::Yaml => ruleset.answers_from_yaml(&source.text),
            };
            match parsed {
                Ok(answers) => answers,
                Err(AnswersError { problems: found }) => {
                    problems.extend(found.iter().map(|p| problem_line(&source.name, p)));
                    ruleset.new_answers()
                }
            }
        }
    };
    apply_overrides(&mut answers, &overrides, &mut problems);
    if !problems.is_empty() {
        return invalid_answers(err, "answers", &problems);
    }
    let log = crate::log_opt::record(
        &args.log,
        "assess",
        &ruleset,
        &answers,
        &review_reasons,
        err,
    )?;
    if let Some(code) = log {
        return Ok(code);
    }

    if matches!(args.format, Format::GuidanceResponse | Format::CdsCard) {
        if args.explain {
            return input::usage_error(
                err,
                "`--explain` works with `--format text|json|yaml`, not with FHIR output",
            );
        }
        return fhir_report(&ruleset, &answers, &review_reasons, args, &origin, out, err);
    }
    report(
        &ruleset,
        &answers,
        (args.format, args.explain, &review_reasons),
        out,
        err,
    )
}

/// The GuidanceResponse id: the QuestionnaireResponse id, else the answers file's
/// stem, when it is a FHIR id; else `assessment`.
fn guidance_id(origin: &Origin) -> String {
    let stem = origin.file.as_deref().map(|f| {
        Path::new(f)
            .file_stem()
            .map_or(f.to_owned(), |s| s.to_string_lossy().into_owned())
    });
    origin
        .qr_id
        .iter()
        .chain(stem.iter())
        .find(|id| carelevel_fhir::primitive::is_id(id))
        .cloned()
        .unwrap_or_else(|| "assessment".to_owned())
}

/// Evaluate and write a GuidanceResponse or a CDS Hooks card.
fn fhir_report(
    ruleset: &Ruleset,
    answers: &Answers<'_>,
    reasons: &[String],
    args: &Args,
    origin: &Origin,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<ExitCode> {
    let mut assessment = match ruleset.assess(answers) {
        Ok(a) => a,
        Err(e) => return input::usage_error(err, &format!("cannot assess these answers: {e}")),
    };
    assessment.needs_review |= !reasons.is_empty();
    assessment.review_reasons.extend(reasons.iter().cloned());
    let value = if args.format == Format::CdsCard {
        let uuid = match args.fhir_out.card_uuid_text() {
            Ok(u) => u,
            Err(message) => return input::usage_error(err, &message),
        };
        let input = carelevel_fhir::card::CardInput { uuid };
        carelevel_fhir::card::cds_card(ruleset, &assessment, &input).map_err(|e| e.to_string())
    } else {
        let occurrence = match args.fhir_out.occurrence() {
            Ok(o) => o,
            Err(message) => return input::usage_error(err, &message),
        };
        let input = carelevel_fhir::guidance::GuidanceInput {
            id: guidance_id(origin),
            occurrence,
            request_identifier: origin.qr_id.clone().or_else(|| origin.file.clone()),
            subject: origin.subject.clone(),
            reason: origin
                .qr_id
                .as_ref()
                .map(|id| format!("QuestionnaireResponse/{id}")),
        };
        carelevel_fhir::guidance::guidance_response(
            answers,
            &assessment,
            &input,
            args.fhir.release.into(),
        )
        .map_err(|e| e.to_string())
    };
    let text = value.and_then(|v| serde_json::to_string_pretty(&v).map_err(|e| e.to_string()));
    match text {
        Ok(text) => {
            writeln!(out, "{text}")?;
            Ok(ExitCode::Success)
        }
        Err(e) => input::usage_error(err, &format!("cannot write the FHIR result: {e}")),
    }
}

/// Write `invalid WHAT (N problems):` and the problems (at most [`MAX_PROBLEMS_SHOWN`],
/// the rest counted), and return [`ExitCode::Usage`].
pub(crate) fn invalid_answers(
    err: &mut dyn Write,
    what: &str,
    problems: &[String],
) -> io::Result<ExitCode> {
    input::error(
        err,
        &format!(
            "invalid {what} ({}):",
            render::plural(problems.len(), "problem", "problems")
        ),
    )?;
    // A file of 400,000 unknown keys must not print 400,000 lines.
    for problem in problems.iter().take(MAX_PROBLEMS_SHOWN) {
        writeln!(err, "  {problem}")?;
    }
    if problems.len() > MAX_PROBLEMS_SHOWN {
        let more = problems.len() - MAX_PROBLEMS_SHOWN;
        let noun = if more == 1 { "problem" } else { "problems" };
        writeln!(
            err,
            "  ... and {more} more {noun} (only the first {MAX_PROBLEMS_SHOWN} are shown)"
        )?;
    }
    Ok(ExitCode::Usage)
}

/// Apply `--answer` overrides in order, collecting their problems.
pub(crate) fn apply_overrides(
    answers: &mut Answers<'_>,
    overrides: &[(&str, (&str, &str))],
    problems: &mut Vec<String>,
) {
    for (arg, (factor, value)) in overrides {
        if let Err(AnswersError { problems: found }) = answers.set_text(factor, value) {
            problems.extend(
                found
                    .iter()
                    .map(|p| problem_line(&format!("--answer {arg}"), p)),
            );
        }
    }
}

/// Evaluate and write the assessment in the chosen format.
/// `how` is (format, `--explain`, reasons from reading the input that force
/// `needs_review`, added to `review_reasons`).
pub(crate) fn report(
    ruleset: &Ruleset,
    answers: &Answers<'_>,
    how: (Format, bool, &[String]),
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<ExitCode> {
    let (format, explain, reasons) = how;
    let assessment = match ruleset.assess(answers) {
        Ok(mut a) => {
            a.needs_review |= !reasons.is_empty();
            a.review_reasons.extend(reasons.iter().cloned());
            a
        }
        Err(e) => return input::usage_error(err, &format!("cannot assess these answers: {e}")),
    };
    let explanation = if explain {
        match analysis::hinges(answers).and_then(|hinges| {
            analysis::missing_hinges(answers).map(|missing| render::Explanation { hinges, missing })
        }) {
            Ok(e) => Some(e),
            Err(e) => {
                return input::usage_error(err, &format!("cannot explain these answers: {e}"))
            }
        }
    } else {
        None
    };
    // A struct, not a `serde_json::Value`, so fields keep their documented order.
    #[derive(serde::Serialize)]
    struct Explained<'a> {
        assessment: &'a carelevel::Assessment<'a>,
        #[serde(flatten)]
        explanation: &'a render::Explanation,
    }
    let serialized = match format {
        // Written by `fhir_report`; `run` never passes them here.
        Format::GuidanceResponse | Format::CdsCard => {
            return input::usage_error(err, "FHIR output is written by `fhir_report` (a bug)")
        }
        Format::Text => {
            let style = crate::style::Style::for_stdout();
            render::assessment_with(out, ruleset, &assessment, explanation.as_ref(), style)?;
            return Ok(ExitCode::Success);
        }
        Format::Json => match &explanation {
            Some(explanation) => serde_json::to_string_pretty(&Explained {
                assessment: &assessment,
                explanation,
            }),
            None => serde_json::to_string_pretty(&assessment),
        }
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| e.to_string()),
        Format::Yaml => match &explanation {
            Some(explanation) => serde_yaml::to_string(&Explained {
                assessment: &assessment,
                explanation,
            }),
            None => serde_yaml::to_string(&assessment),
        }
        .map_err(|e| e.to_string()),
    };
    match serialized {
        Ok(text) => {
            out.write_all(text.as_bytes())?;
            Ok(ExitCode::Success)
        }
        Err(e) => input::usage_error(err, &format!("cannot serialize the assessment: {e}")),
    }
}
