//! `carelevel test`: run ruleset test files and report every failing case.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use carelevel::analysis::{self, Target};
use carelevel::testing::{CaseOutcome, CaseResult, Mismatch, TestSuite};
use carelevel::text::Shown;
use carelevel::{Assessment, Ruleset};

use crate::input::{self, LoadError};
use crate::render;
use crate::ExitCode;

/// Arguments of `carelevel test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Test files (`*.test.yaml`); each names its ruleset relative to its own directory.
    #[arg(value_name = "TESTFILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Also report which rules, flags and levels no case exercises, each with a
    /// suggested case (answers that exercise it) ready to paste.
    #[arg(long)]
    pub coverage: bool,
    /// With `--coverage`: fail (exit 1) when a ruleset's coverage (rules, flags and
    /// levels exercised, together, in percent) is below PERCENT.
    #[arg(long, value_name = "PERCENT", requires = "coverage", value_parser = percent)]
    pub fail_under: Option<f64>,
    /// Output format: a report for people, one JSON document, or JUnit XML for CI.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output format of `test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per case, details of failures below it.
    Text,
    /// One JSON document: files, cases, coverage (docs/policy-authors.md).
    Json,
    /// The JSON document as YAML.
    Yaml,
    /// JUnit XML: one testsuite per test file, one testcase per case.
    Junit,
}

/// `--fail-under`: a number from 0 to 100.
fn percent(text: &str) -> Result<f64, String> {
    match text.trim().trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}

/// What one test file gave, for the JSON and JUnit formats and `--fail-under`.
#[derive(Debug, Default)]
struct FileReport {
    /// The test file as named.
    file: String,
    /// The ruleset it names, once read.
    ruleset: Option<String>,
    /// Why the file's cases could not run, if they could not.
    error: Option<String>,
    /// Cases counted as failed because they could not run.
    not_run: usize,
    /// One result per case that ran.
    results: Vec<CaseResult>,
    /// (what, total, exercised) for rules, flags and levels, with `--coverage`.
    coverage: Vec<(&'static str, usize, usize)>,
}

impl FileReport {
    /// Coverage in percent (100 when there is nothing to cover), if computed.
    fn percent(&self) -> Option<f64> {
        if self.coverage.is_empty() {
            return None;
        }
        let total: usize = self.coverage.iter().map(|c| c.1).sum();
        let hit: usize = self.coverage.iter().map(|c| c.2).sum();
        #[allow(clippy::cast_precision_loss)]
        // reason: counts of rules, flags and levels are far below 2^52.
        Some(if total == 0 {
            100.0
        } else {
            100.0 * hit as f64 / total as f64
        })
    }
}

/// Cases passed and failed so far.
#[derive(Debug, Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

/// Run `carelevel test`. Prints one line per case and a final `N passed, N failed` line.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let mut tally = Tally::default();
    let mut code = ExitCode::Success;
    let mut reports = Vec::new();
    // The text report is written as the files run; the other formats at the end.
    let mut discard = io::sink();
    let text: &mut dyn Write = if args.format == Format::Text {
        out
    } else {
        &mut discard
    };
    for (i, path) in args.files.iter().enumerate() {
        if i > 0 {
            writeln!(text)?;
        }
        let mut report = FileReport {
            file: input::display_name(path),
            ..FileReport::default()
        };
        code = code.max(run_file(
            path,
            args.coverage,
            &mut tally,
            &mut report,
            text,
            err,
        )?);
        reports.push(report);
    }
    writeln!(text, "{} passed, {} failed", tally.passed, tally.failed)?;
    if tally.failed > 0 {
        code = code.max(ExitCode::Failure);
    }
    if let Some(limit) = args.fail_under {
        for r in &reports {
            if let Some(p) = r.percent().filter(|&p| p < limit) {
                input::error(
                    err,
                    &format!(
                        "coverage of {} is {p:.1}%, under --fail-under {limit}%",
                        r.ruleset.as_deref().unwrap_or(&r.file)
                    ),
                )?;
                code = code.max(ExitCode::Failure);
            }
        }
    }
    match args.format {
        Format::Text => {}
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&json_report(&reports, &tally))
                .map_err(io::Error::other)?;
            text.push('\n');
            out.write_all(text.as_bytes())?;
        }
        Format::Yaml => {
            let text =
                serde_yaml::to_string(&json_report(&reports, &tally)).map_err(io::Error::other)?;
            out.write_all(text.as_bytes())?;
        }
        Format::Junit => out.write_all(junit_report(&reports).as_bytes())?,
    }
    Ok(code)
}

/// The JSON format: every file with its cases and coverage, and the totals.
fn json_report(reports: &[FileReport], tally: &Tally) -> serde_json::Value {
    use serde_json::json;
    let files: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let cases: Vec<serde_json::Value> = r
                .results
                .iter()
                .map(|c| {
                    let (status, mismatches, error) = match &c.outcome {
                        CaseOutcome::Passed => ("passed", Vec::new(), None),
                        CaseOutcome::Failed(m) => ("failed", m.iter().collect(), None),
                        CaseOutcome::Error(e) => ("error", Vec::new(), Some(e.as_str())),
                    };
                    json!({
                        "name": c.name,
                        "line": c.location.map(|l| l.line),
                        "status": status,
                        "mismatches": mismatches.iter().map(|m| json!({
                            "what": m.what, "expected": m.expected, "actual": m.actual
                        })).collect::<Vec<_>>(),
                        "error": error,
                        "actual": c.assessment.as_ref().map(|a| json!({
                            "level": a.level.id,
                            "rules": a.fired_rules.iter().map(|f| &f.id).collect::<Vec<_>>(),
                            "flags": a.flags.iter().map(|f| &f.id).collect::<Vec<_>>(),
                            "needs_review": a.needs_review,
                        })),
                    })
                })
                .collect();
            let coverage = r.percent().map(|p| {
                let mut m = serde_json::Map::new();
                for (what, total, hit) in &r.coverage {
                    m.insert(
                        (*what).to_owned(),
                        json!({"exercised": hit, "total": total}),
                    );
                }
                m.insert("percent".to_owned(), json!(p));
                serde_json::Value::Object(m)
            });
            json!({
                "file": r.file,
                "ruleset": r.ruleset,
                "error": r.error,
                "not_run": r.not_run,
                "cases": cases,
                "coverage": coverage,
            })
        })
        .collect();
    json!({"passed": tally.passed, "failed": tally.failed, "files": files})
}

/// Text for an XML attribute (line breaks as `&#10;`) or element (`attribute` false):
/// escaped for XML, each line's control characters (not allowed in XML 1.0) shown as
/// visible escapes first.
fn xml(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str(if attribute { "&#10;" } else { "\n" });
        }
        for c in Shown::full(line).to_string().chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&apos;"),
                _ => out.push(c),
            }
        }
    }
    out
}

/// JUnit XML: `testsuites` > one `testsuite` per test file > one `testcase` per case,
/// with `failure` for a case whose expectations did not hold and `error` for one that
/// could not run (a file whose cases could not run is one `testcase` with an `error`).
fn junit_report(reports: &[FileReport]) -> String {
    use std::fmt::Write as _;
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let count = |r: &FileReport| {
        let failures = r
            .results
            .iter()
            .filter(|c| matches!(c.outcome, CaseOutcome::Failed(_)))
            .count();
        let errors = r
            .results
            .iter()
            .filter(|c| matches!(c.outcome, CaseOutcome::Error(_)))
            .count()
            + usize::from(r.error.is_some());
        (
            r.results.len() + usize::from(r.error.is_some()),
            failures,
            errors,
        )
    };
    let (tests, failures, errors) = reports
        .iter()
        .map(count)
        .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    let _ = writeln!(
        x,
        "<testsuites name=\"carelevel test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    for r in reports {
        let (tests, failures, errors) = count(r);
        let file = xml(&r.file, true);
        let _ = writeln!(
            x,
            "  <testsuite name=\"{file}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\">"
        );
        if let Some(e) = &r.error {
            let _ = writeln!(
                x,
                "    <testcase name=\"{file}\" classname=\"{file}\">\n      <error message=\"{}\" type=\"not run\">{}</error>\n    </testcase>",
                xml(e.lines().next().unwrap_or(""), true),
                xml(e, false)
            );
        }
        for c in &r.results {
            let name = xml(&c.name, true);
            match &c.outcome {
                CaseOutcome::Passed => {
                    let _ = writeln!(x, "    <testcase name=\"{name}\" classname=\"{file}\"/>");
                }
                CaseOutcome::Failed(m) => {
                    let lines: Vec<String> = m.iter().map(mismatch_line).collect();
                    let _ = writeln!(
                        x,
                        "    <testcase name=\"{name}\" classname=\"{file}\">\n      <failure message=\"{}\" type=\"expectation\">{}</failure>\n    </testcase>",
                        xml(&lines.join("; "), true),
                        xml(&lines.join("\n"), false)
                    );
                }
                CaseOutcome::Error(e) => {
                    let _ = writeln!(
                        x,
                        "    <testcase name=\"{name}\" classname=\"{file}\">\n      <error message=\"{}\" type=\"error\"/>\n    </testcase>",
                        xml(e, true)
                    );
                }
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// Run one test file, adding its cases to `tally`.
fn run_file(
    path: &Path,
    coverage: bool,
    tally: &mut Tally,
    report: &mut FileReport,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<ExitCode> {
    let source = match input::read_source(path, "test file") {
        Ok(source) => source,
        Err(message) => {
            input::error(err, &message)?;
            report.error = Some(message);
            report.not_run = 1;
            // Counted, so that the summary never reads as all passed.
            writeln!(out, "FAIL  {}: cannot be read", input::display_name(path))?;
            tally.failed += 1;
            return Ok(ExitCode::Usage);
        }
    };
    let suite = match TestSuite::from_yaml(&source.text) {
        Ok(suite) => suite,
        Err(error) => {
            let mut shown = Vec::new();
            render::diagnostics(&mut shown, &source, &error.diagnostics)?;
            out.write_all(&shown)?;
            report.error = Some(format!(
                "invalid test file\n{}",
                String::from_utf8_lossy(&shown).trim_end()
            ));
            report.not_run = 1;
            writeln!(out, "FAIL  {}: invalid test file", source.name)?;
            tally.failed += 1;
            return Ok(ExitCode::Failure);
        }
    };
    let rules_path = path
        .parent()
        .unwrap_or(Path::new(""))
        .join(suite.ruleset_path());
    let cases = render::plural(suite.cases().len(), "case", "cases");
    report.ruleset = Some(input::display_name(&rules_path));
    writeln!(
        out,
        "{}: {cases} against {}",
        source.name,
        input::display_name(&rules_path)
    )?;
    let (rules_source, ruleset) = match input::load_ruleset_file(&rules_path) {
        Ok(loaded) => loaded,
        Err(LoadError::Read(message)) => {
            input::error(err, &format!("{message} (named by {})", source.name))?;
            report.error = Some(format!("{cases} not run: {message}"));
            report.not_run = suite.cases().len().max(1);
            writeln!(
                out,
                "FAIL  {}: {cases} not run: the ruleset cannot be read",
                source.name
            )?;
            tally.failed += suite.cases().len().max(1);
            return Ok(ExitCode::Usage);
        }
        Err(LoadError::Invalid {
            source: rules,
            error,
        }) => {
            let mut shown = Vec::new();
            render::diagnostics(&mut shown, &rules, &error.diagnostics)?;
            out.write_all(&shown)?;
            report.error = Some(format!(
                "{cases} not run: the ruleset `{}` does not compile\n{}",
                rules.name,
                String::from_utf8_lossy(&shown).trim_end()
            ));
            report.not_run = suite.cases().len().max(1);
            writeln!(
                out,
                "FAIL  {}: {cases} not run: the ruleset `{}` does not compile",
                source.name, rules.name
            )?;
            tally.failed += suite.cases().len().max(1);
            return Ok(ExitCode::Failure);
        }
    };
    let file_report = report;
    let report = suite.run(&ruleset);
    for result in &report.results {
        write_case(out, &source.name, result)?;
    }
    tally.passed += report.passed();
    tally.failed += report.failed();
    if coverage {
        file_report.coverage = write_coverage(out, &rules_source.name, &ruleset, &report.results)?;
    }
    file_report.results = report.results;
    Ok(ExitCode::Success)
}

/// Which rules, flags and levels the cases exercised; for each one they did not, where
/// it is declared and a suggested case that exercises it.
fn write_coverage(
    out: &mut dyn Write,
    rules_name: &str,
    ruleset: &Ruleset,
    results: &[CaseResult],
) -> io::Result<Vec<(&'static str, usize, usize)>> {
    let assessed: Vec<&Assessment<'_>> = results
        .iter()
        .filter_map(|r| r.assessment.as_ref())
        .collect();
    let rule_hit = |id: &str| {
        assessed
            .iter()
            .any(|a| a.fired_rules.iter().any(|r| r.id == id))
    };
    let flag_hit = |id: &str| assessed.iter().any(|a| a.flags.iter().any(|f| f.id == id));
    let level_hit = |id: &str| assessed.iter().any(|a| a.level.id == id);
    let missed_rules: Vec<usize> = (0..ruleset.rules().len())
        .filter(|&i| ruleset.rules().get(i).is_some_and(|r| !rule_hit(&r.id)))
        .collect();
    let missed_flags: Vec<usize> = (0..ruleset.flags().len())
        .filter(|&i| ruleset.flags().get(i).is_some_and(|f| !flag_hit(&f.id)))
        .collect();
    let missed_levels: Vec<usize> = (0..ruleset.levels().len())
        .filter(|&i| ruleset.levels().get(i).is_some_and(|l| !level_hit(&l.id)))
        .collect();
    writeln!(out, "Coverage of {rules_name}:")?;
    let counts = [
        ("rules", ruleset.rules().len(), missed_rules.len()),
        ("flags", ruleset.flags().len(), missed_flags.len()),
        ("levels", ruleset.levels().len(), missed_levels.len()),
    ]
    .map(|(what, total, missed)| (what, total, total.saturating_sub(missed)));
    for (what, total, hit) in counts {
        writeln!(out, "  {what}: {hit} of {total} exercised")?;
    }
    let place = |loc: Option<carelevel::Location>| {
        loc.map_or_else(
            || rules_name.to_owned(),
            |l| format!("{rules_name}:{}", l.line),
        )
    };
    let targets = missed_rules
        .iter()
        .filter_map(|&i| {
            ruleset
                .rules()
                .get(i)
                .map(|r| (Target::Rule(i), "rule", &r.id, place(r.location)))
        })
        .chain(missed_flags.iter().filter_map(|&i| {
            ruleset
                .flags()
                .get(i)
                .map(|f| (Target::Flag(i), "flag", &f.id, place(f.location)))
        }))
        .chain(missed_levels.iter().filter_map(|&i| {
            ruleset
                .levels()
                .get(i)
                .map(|l| (Target::Level(i), "level", &l.id, rules_name.to_owned()))
        }));
    let targets: Vec<_> = targets.collect();
    // One pass over the answer space finds a case for every target.
    let wanted: Vec<Target> = targets.iter().map(|t| t.0).collect();
    let suggestions = analysis::suggest_cases(ruleset, &wanted);
    for (k, (_, what, id, at)) in targets.iter().enumerate() {
        writeln!(out, "  {what} `{id}` ({at}) is not exercised by any case")?;
        let suggestion = match &suggestions {
            Ok(cases) => Ok(cases.get(k).cloned().flatten()),
            Err(e) => Err(e),
        };
        match suggestion {
            Ok(Some(case)) => {
                writeln!(
                    out,
                    "    a case that would exercise it (review the expectation before adding it):"
                )?;
                writeln!(out, "    - name: \"exercises {what} {id}\"")?;
                writeln!(out, "      answers: {}", case.answers.to_yaml_flow())?;
                writeln!(out, "      expect:")?;
                writeln!(out, "        level: {}", case.level)?;
                writeln!(out, "        rules: [{}]", case.rules.join(", "))?;
                writeln!(out, "        flags: [{}]", case.flags.join(", "))?;
            }
            Ok(None) => writeln!(out, "    no answer set exercises it")?,
            Err(e) => writeln!(out, "    no suggestion: {e}")?,
        }
    }
    Ok(counts.to_vec())
}

/// `level: expected iop, got residential`; for lists (`rules`, `deciding`, `flags`) the
/// two sides are separated with `;` so their commas stay readable:
/// `rules: expected a, b; got a, c`.
fn mismatch_line(m: &Mismatch) -> String {
    let sep = if matches!(m.what, "rules" | "deciding" | "flags") {
        ';'
    } else {
        ','
    };
    format!("{}: expected {}{sep} got {}", m.what, m.expected, m.actual)
}

/// The fired rules and flags of the actual assessment, for a failing case.
fn write_actual(out: &mut dyn Write, a: &Assessment<'_>) -> io::Result<()> {
    writeln!(out, "      actual: level {}", a.level.id)?;
    if a.fired_rules.is_empty() {
        writeln!(out, "        fired rules: none")?;
    }
    for rule in &a.fired_rules {
        let mark = if a.deciding_rules.contains(&rule.id) {
            " (decides)"
        } else {
            ""
        };
        writeln!(out, "        rule {} -> {}{mark}", rule.id, rule.level)?;
    }
    if a.flags.is_empty() {
        writeln!(out, "        flags: none")?;
    }
    for flag in &a.flags {
        writeln!(out, "        flag {} ({})", flag.id, flag.kind)?;
    }
    if a.needs_review {
        writeln!(out, "        needs review")?;
    }
    Ok(())
}

/// One line per case, with the details of a failure indented below it.
fn write_case(out: &mut dyn Write, file: &str, result: &CaseResult) -> io::Result<()> {
    // Case names are the test file's text: shown escaped (`carelevel::text`).
    let name = Shown::full(&result.name);
    let file = Shown::full(file);
    if result.passed() {
        return writeln!(out, "PASS  {name}");
    }
    match result.location {
        Some(loc) => writeln!(out, "FAIL  {name} ({file}:{})", loc.line)?,
        None => writeln!(out, "FAIL  {name} ({file})")?,
    }
    match &result.outcome {
        CaseOutcome::Passed => {}
        CaseOutcome::Failed(mismatches) => {
            for m in mismatches {
                writeln!(out, "      {}", mismatch_line(m))?;
            }
        }
        CaseOutcome::Error(message) => writeln!(out, "      error: {}", Shown::full(message))?,
    }
    if let Some(a) = &result.assessment {
        write_actual(out, a)?;
    }
    Ok(())
}
