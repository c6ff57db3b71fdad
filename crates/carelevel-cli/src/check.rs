//! `carelevel check`: compile ruleset files and report every problem with its location.

use std::io::{self, Write};
use std::path::PathBuf;

use carelevel::analysis::{self, Finding};
use carelevel::{Diagnostic, Ruleset, Severity};

use crate::input::{self, LoadError, Source};
use crate::render;
use crate::ExitCode;

/// Arguments of `carelevel check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Ruleset files (YAML) to check.
    #[arg(value_name = "RULES", required = true)]
    pub files: Vec<PathBuf>,
    /// Treat monotonicity violations (raising one answer lowers the level) as errors.
    #[arg(long)]
    pub strict: bool,
}

/// One line summarising a ruleset that compiled.
pub fn summary(ruleset: &Ruleset) -> String {
    let meta = ruleset.metadata();
    format!(
        "ruleset {} {}: {}, {}, {}, {}",
        meta.id,
        carelevel::text::Shown::full(&meta.version),
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
            Ok((source, ruleset)) => analyse(out, &source, &ruleset, args.strict)?,
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

/// Whole-space analysis of a ruleset that compiled: every finding with its location and
/// an example answer set, then one summary line.
fn analyse(
    out: &mut dyn Write,
    source: &Source,
    ruleset: &Ruleset,
    strict: bool,
) -> io::Result<ExitCode> {
    let report = match analysis::check(ruleset, strict) {
        Ok(report) => report,
        Err(e) => {
            let d = Diagnostic {
                severity: Severity::Error,
                path: None,
                message: format!("whole-space analysis impossible: {e}"),
                location: None,
            };
            render::diagnostic_with(out, source, &d, &[])?;
            writeln!(out, "{}: failed (1 error)", source.name)?;
            return Ok(ExitCode::Failure);
        }
    };
    for finding in &report.findings {
        write_finding(out, source, finding)?;
    }
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    let holds = report
        .findings
        .iter()
        .filter(|f| f.kind == analysis::FindingKind::InvariantHolds)
        .count();
    let proved = format!(
        "{} answer-set classes checked, {} proved",
        report.classes,
        render::plural(holds, "invariant", "invariants")
    );
    if errors > 0 {
        writeln!(
            out,
            "{}: failed ({}, {}; {proved})",
            source.name,
            render::plural(errors, "error", "errors"),
            render::plural(warnings, "warning", "warnings")
        )?;
        Ok(ExitCode::Failure)
    } else {
        let warned = if warnings > 0 {
            format!(", {}", render::plural(warnings, "warning", "warnings"))
        } else {
            String::new()
        };
        writeln!(
            out,
            "{}: ok ({}; {proved}{warned})",
            source.name,
            summary(ruleset)
        )?;
        Ok(ExitCode::Success)
    }
}

/// One whole-space finding, as a diagnostic with its example answer set. Notes take
/// one line (plus their example); warnings and errors quote the source line.
fn write_finding(out: &mut dyn Write, source: &Source, f: &Finding) -> io::Result<()> {
    if f.severity == Severity::Note {
        let place = f.location.map_or_else(
            || source.name.clone(),
            |l| format!("{}:{}:{}", source.name, l.line, l.column),
        );
        writeln!(
            out,
            "{place}: note: {}",
            carelevel::text::Shown::full(&f.message)
        )?;
        if let Some(e) = &f.example {
            writeln!(out, "      example: {e}")?;
        }
        return Ok(());
    }
    let d = Diagnostic {
        severity: f.severity,
        path: None,
        message: f.message.clone(),
        location: f.location,
    };
    let extra: Vec<String> = f.example.iter().map(|e| format!("example: {e}")).collect();
    render::diagnostic_with(out, source, &d, &extra)
}
