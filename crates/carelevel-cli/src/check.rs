//! `carelevel check`: compile ruleset files and report every problem with its location.

use std::io::{self, Write};
use std::path::PathBuf;

use carelevel::{Ruleset, Severity};

use crate::input::{self, LoadError};
use crate::render;
use crate::ExitCode;

/// Arguments of `carelevel check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Ruleset files (YAML) to check.
    #[arg(value_name = "RULES", required = true)]
    pub files: Vec<PathBuf>,
}

/// One line summarising a ruleset that compiled.
pub fn summary(ruleset: &Ruleset) -> String {
    let meta = ruleset.metadata();
    format!(
        "ruleset {} {}: {}, {}, {}, {}",
        meta.id,
        meta.version,
        render::plural(ruleset.levels().len(), "level", "levels"),
        render::plural(ruleset.factors().len(), "factor", "factors"),
        render::plural(ruleset.rules().len(), "rule", "rules"),
        render::plural(ruleset.flags().len(), "flag", "flags"),
    )
}

/// Run `carelevel check`: every file is checked, and the worst outcome sets the exit code.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let mut code = ExitCode::Success;
    for path in &args.files {
        let outcome = match input::load_ruleset_file(path) {
            Ok((source, ruleset)) => {
                writeln!(out, "{}: ok ({})", source.name, summary(&ruleset))?;
                ExitCode::Success
            }
            Err(LoadError::Read(message)) => {
                input::error(err, &message)?;
                ExitCode::Usage
            }
            Err(LoadError::Invalid { source, error }) => {
                render::diagnostics(out, &source, &error.diagnostics)?;
                let errors = error
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                writeln!(
                    out,
                    "{}: failed ({})",
                    source.name,
                    render::plural(errors, "error", "errors")
                )?;
                ExitCode::Failure
            }
        };
        code = code.max(outcome);
    }
    Ok(code)
}
