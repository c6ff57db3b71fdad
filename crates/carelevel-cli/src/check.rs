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
    /// Treat every warning as an error: non-monotone rules (raising one answer lowers
    /// the level), rules that never decide, unreachable levels and flags, and a
    /// changed ruleset that kept another's id and version. Notes stay notes.
    #[arg(long)]
    pub strict: bool,
    /// Output format: diagnostics for people, or one JSON document for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with the source line and a caret, one summary line per file.
    Text,
    /// `{"files": [...]}`: per file its status, diagnostics or findings (docs/policy-authors.md).
    Json,
    /// The JSON document as YAML.
    Yaml,
}

/// One file's outcome, for `--format json` and `--format yaml`.
#[derive(Debug, serde::Serialize)]
struct FileOut {
    /// The file as named.
    file: String,
    /// `ok`, `failed` (errors found) or `unreadable`.
    status: &'static str,
    /// Why the file could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Ruleset id, version and SHA-256, when it compiled.
    #[serde(skip_serializing_if = "Option::is_none")]
    ruleset: Option<serde_json::Value>,
    /// Compile problems (when it did not compile).
    diagnostics: Vec<Diagnostic>,
    /// Whole-space findings (when it compiled), errors first.
    findings: Vec<Finding>,
    /// Answer-set classes checked (0 when the ruleset was not analysed).
    classes: analysis::Count,
    /// Complete answer combinations those classes stand for (each integer class
    /// counted by its number of values; 0 when the ruleset was not analysed).
    combinations: analysis::Count,
    /// How the classes were checked (`diagram` or `enumeration`), when they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<analysis::CheckMethod>,
    /// Number of errors.
    errors: usize,
    /// Number of warnings.
    warnings: usize,
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
    let mut files = Vec::new();
    let mut discard = io::sink();
    let structured = args.format != Format::Text;
    let text: &mut dyn Write = if structured { &mut discard } else { out };
    // Rulesets seen so far, to warn when one has the `id` and `version:` of another
    // but other content: the bundled default first, then each file checked.
    let mut seen: Vec<(String, Ruleset)> = Vec::new();
    if let Ok(default) = Ruleset::default_ruleset() {
        seen.push(("the bundled default ruleset".to_owned(), default));
    }
    for path in &args.files {
        let mut file = FileOut {
            file: input::display_name(path),
            status: "ok",
            error: None,
            ruleset: None,
            diagnostics: Vec::new(),
            findings: Vec::new(),
            classes: analysis::Count::exact(0),
            combinations: analysis::Count::exact(0),
            method: None,
            errors: 0,
            warnings: 0,
        };
        let outcome = match input::load_ruleset_file(path) {
            Ok((source, ruleset)) => {
                file.ruleset = Some(serde_json::json!({
                    "id": ruleset.metadata().id,
                    "version": ruleset.metadata().version,
                    "sha256": ruleset.sha256(),
                }));
                let same = version_warnings(&seen, &ruleset, args.strict);
                let code = analyse(text, &source, &ruleset, (args.strict, &same), &mut file)?;
                seen.push((format!("`{}`", source.name), ruleset));
                code
            }
            Err(LoadError::Read(message)) => {
                input::error(err, &message)?;
                file.status = "unreadable";
                file.error = Some(message);
                ExitCode::Usage
            }
            Err(LoadError::Invalid { source, error }) => {
                let out = &mut *text;
                file.status = "failed";
                file.errors = error
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                file.diagnostics.clone_from(&error.diagnostics);
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
        files.push(file);
        code = code.max(outcome);
    }
    let document = serde_json::json!({ "files": files });
    match args.format {
        Format::Text => {}
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&document).map_err(io::Error::other)?;
            text.push('\n');
            out.write_all(text.as_bytes())?;
        }
        Format::Yaml => {
            let text = serde_yaml::to_string(&document).map_err(io::Error::other)?;
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(code)
}

/// A warning (an error under `--strict`) for each ruleset in `seen` that has the `id`
/// and `version:` of `ruleset` but other content.
fn version_warnings(
    seen: &[(String, Ruleset)],
    ruleset: &Ruleset,
    strict: bool,
) -> Vec<Diagnostic> {
    let meta = ruleset.metadata();
    seen.iter()
        .filter(|(_, other)| other.same_version_other_content(ruleset))
        .map(|(name, other)| Diagnostic {
            severity: if strict {
                Severity::Error
            } else {
                Severity::Warning
            },
            path: Some("version".to_owned()),
            message: format!(
                "`{} {}` is also the id and version of {name}, but the content differs \
                 (sha256 {} here, {} there): give this ruleset a new `version:` so that \
                 decisions made under each can be told apart",
                meta.id,
                carelevel::text::Shown::full(&meta.version),
                ruleset.short_sha256(),
                other.short_sha256()
            ),
            location: None,
        })
        .collect()
}

/// Whole-space analysis of a ruleset that compiled: every finding with its location and
/// an example answer set, then one summary line. `how` is (`--strict`, warnings found
/// before the analysis, already at their `--strict` severity).
fn analyse(
    out: &mut dyn Write,
    source: &Source,
    ruleset: &Ruleset,
    how: (bool, &[Diagnostic]),
    file: &mut FileOut,
) -> io::Result<ExitCode> {
    let (strict, before) = how;
    for d in before {
        render::diagnostic_with(out, source, d, &[])?;
    }
    file.diagnostics.extend(before.iter().cloned());
    let before_count = |s: Severity| before.iter().filter(|d| d.severity == s).count();
    let report = match analysis::check(ruleset, strict) {
        Ok(report) => report,
        Err(e) => {
            let d = Diagnostic {
                severity: Severity::Error,
                path: None,
                message: format!("whole-space analysis impossible: {e}"),
                location: None,
            };
            file.status = "failed";
            file.errors = 1;
            file.diagnostics.push(d.clone());
            render::diagnostic_with(out, source, &d, &[])?;
            writeln!(out, "{}: failed (1 error)", source.name)?;
            return Ok(ExitCode::Failure);
        }
    };
    for finding in &report.findings {
        write_finding(out, source, finding)?;
    }
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings) = (
        count(Severity::Error) + before_count(Severity::Error),
        count(Severity::Warning) + before_count(Severity::Warning),
    );
    file.errors = errors;
    file.warnings = warnings;
    file.classes = report.classes;
    file.combinations = report.combinations;
    file.method = Some(report.method);
    file.findings.clone_from(&report.findings);
    if errors > 0 {
        file.status = "failed";
    }
    let holds = report
        .findings
        .iter()
        .filter(|f| f.kind == analysis::FindingKind::InvariantHolds)
        .count();
    let proved = format!(
        "{} answer-set classes, {} complete answer combinations checked, {} proved",
        report.classes,
        report.combinations,
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
