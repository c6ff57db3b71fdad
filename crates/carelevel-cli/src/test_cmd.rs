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
    for (i, path) in args.files.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        code = code.max(run_file(path, args.coverage, &mut tally, out, err)?);
    }
    writeln!(out, "{} passed, {} failed", tally.passed, tally.failed)?;
    if tally.failed > 0 {
        code = code.max(ExitCode::Failure);
    }
    Ok(code)
}

/// Run one test file, adding its cases to `tally`.
fn run_file(
    path: &Path,
    coverage: bool,
    tally: &mut Tally,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<ExitCode> {
    let source = match input::read_source(path, "test file") {
        Ok(source) => source,
        Err(message) => {
            input::error(err, &message)?;
            // Counted, so that the summary never reads as all passed.
            writeln!(out, "FAIL  {}: cannot be read", input::display_name(path))?;
            tally.failed += 1;
            return Ok(ExitCode::Usage);
        }
    };
    let suite = match TestSuite::from_yaml(&source.text) {
        Ok(suite) => suite,
        Err(error) => {
            render::diagnostics(out, &source, &error.diagnostics)?;
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
            render::diagnostics(out, &rules, &error.diagnostics)?;
            writeln!(
                out,
                "FAIL  {}: {cases} not run: the ruleset `{}` does not compile",
                source.name, rules.name
            )?;
            tally.failed += suite.cases().len().max(1);
            return Ok(ExitCode::Failure);
        }
    };
    let report = suite.run(&ruleset);
    for result in &report.results {
        write_case(out, &source.name, result)?;
    }
    tally.passed += report.passed();
    tally.failed += report.failed();
    if coverage {
        write_coverage(out, &rules_source.name, &ruleset, &report.results)?;
    }
    Ok(ExitCode::Success)
}

/// Which rules, flags and levels the cases exercised; for each one they did not, where
/// it is declared and a suggested case that exercises it.
fn write_coverage(
    out: &mut dyn Write,
    rules_name: &str,
    ruleset: &Ruleset,
    results: &[CaseResult],
) -> io::Result<()> {
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
    for (what, total, missed) in [
        ("rules", ruleset.rules().len(), missed_rules.len()),
        ("flags", ruleset.flags().len(), missed_flags.len()),
        ("levels", ruleset.levels().len(), missed_levels.len()),
    ] {
        writeln!(out, "  {what}: {} of {total} exercised", total - missed)?;
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
    Ok(())
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
