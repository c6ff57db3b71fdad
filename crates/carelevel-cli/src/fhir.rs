//! `carelevel fhir`: the FHIR forms of a ruleset (docs/fhir.md).

use std::io::{self, Write};
use std::path::PathBuf;

use carelevel_fhir::response::{questionnaire_response, ResponseOptions};

use crate::fhir_read::ReleaseArg;
use crate::input::{self, RulesArg};
use crate::ExitCode;

/// Arguments of `carelevel fhir`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to print.
    #[command(subcommand)]
    pub what: What,
}

/// The `fhir` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Print the ruleset as a FHIR Questionnaire (JSON).
    Questionnaire {
        /// The ruleset to use.
        #[command(flatten)]
        rules: RulesArg,
        /// FHIR release to write.
        #[arg(long = "fhir", value_enum, default_value_t = ReleaseArg::R4)]
        release: ReleaseArg,
    },
    /// Print an answers file (JSON or YAML, `-` for stdin) as a FHIR
    /// QuestionnaireResponse (JSON) to the ruleset's Questionnaire.
    Response {
        /// The ruleset to use.
        #[command(flatten)]
        rules: RulesArg,
        /// FHIR release to write.
        #[arg(long = "fhir", value_enum, default_value_t = ReleaseArg::R4)]
        release: ReleaseArg,
        /// `QuestionnaireResponse.id` to write.
        #[arg(long, value_name = "ID")]
        id: Option<String>,
        /// The answers file.
        #[arg(value_name = "ANSWERS_FILE")]
        answers_file: PathBuf,
    },
}

/// Run `carelevel fhir`.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    match &args.what {
        What::Questionnaire { rules, release } => {
            let ruleset = match input::choose_ruleset(rules, err)? {
                Ok(ruleset) => ruleset,
                Err(code) => return Ok(code),
            };
            let q = carelevel_fhir::questionnaire::questionnaire(&ruleset, (*release).into());
            write_json(out, err, &q)
        }
        What::Response {
            rules,
            release,
            id,
            answers_file,
        } => {
            let source = match input::read_source(answers_file, "answers file") {
                Ok(s) => s,
                Err(message) => return input::usage_error(err, &message),
            };
            let ruleset = match input::choose_ruleset(rules, err)? {
                Ok(ruleset) => ruleset,
                Err(code) => return Ok(code),
            };
            let parsed = if source.text.trim_start().starts_with('{') {
                ruleset.answers_from_json(&source.text)
            } else {
                ruleset.answers_from_yaml(&source.text)
            };
            let answers = match parsed {
                Ok(a) => a,
                Err(e) => {
                    return input::usage_error(
                        err,
                        &format!("invalid answers in `{}`: {e}", source.name),
                    )
                }
            };
            let options = ResponseOptions {
                id: id.clone(),
                ..ResponseOptions::default()
            };
            let qr = questionnaire_response(&answers, (*release).into(), &options);
            write_json(out, err, &qr)
        }
    }
}

fn write_json(
    out: &mut dyn Write,
    err: &mut dyn Write,
    value: &serde_json::Value,
) -> io::Result<ExitCode> {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            writeln!(out, "{text}")?;
            Ok(ExitCode::Success)
        }
        Err(e) => input::usage_error(err, &format!("cannot serialize: {e}")),
    }
}
