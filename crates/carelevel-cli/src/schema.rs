//! `carelevel schema`: the JSON Schema (draft 2020-12) of the answers a ruleset takes,
//! or of the assessments it produces, for form builders and services that validate
//! before calling.

use std::io::{self, Write};

use crate::input::{self, RulesArg};
use crate::ExitCode;

/// Which schema `schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    /// An answers object: one property per question, with its allowed values.
    Answers,
    /// The assessment (`assess --format json`, `batch --fields full`).
    Assessment,
    /// One `batch` JSON Lines record: the answers plus the `--id-field` id.
    Record,
}

/// Arguments of `carelevel schema`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ruleset whose schema to print.
    #[command(flatten)]
    pub rules: RulesArg,

    /// Which schema.
    #[arg(long, value_enum, default_value_t = What::Answers)]
    pub what: What,

    /// With `--what record`: the field holding the record id, as `batch --id-field`.
    #[arg(long, value_name = "NAME", default_value = "id")]
    pub id_field: String,
}

/// Run `carelevel schema`.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let ruleset = match input::choose_ruleset(&args.rules, err)? {
        Ok(ruleset) => ruleset,
        Err(code) => return Ok(code),
    };
    let schema = match args.what {
        What::Answers => carelevel::schema::answers_schema(&ruleset),
        What::Assessment => carelevel::schema::assessment_schema(&ruleset),
        What::Record => match carelevel::schema::record_schema(&ruleset, &args.id_field) {
            Some(schema) => schema,
            None => {
                return input::usage_error(
                    err,
                    &format!(
                        "`--id-field {}` names a question of the ruleset; choose another field for the record id",
                        args.id_field
                    ),
                )
            }
        },
    };
    match serde_json::to_string_pretty(&schema) {
        Ok(json) => writeln!(out, "{json}")?,
        Err(e) => return input::usage_error(err, &format!("cannot serialize the schema: {e}")),
    }
    Ok(ExitCode::Success)
}
