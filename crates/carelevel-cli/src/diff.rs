//! `carelevel diff OLD NEW`: the exact impact of replacing one ruleset with another.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

use carelevel::analysis::{self, ChangedCell, DiffExample, DiffReport, Direction, OneSided};
use carelevel::text::Shown;
use carelevel::Ruleset;

use crate::diff_cases::{self, CaseRef, Cases, MovedCases, MAX_LISTED_ERRORS};
use crate::input::{self, LoadError};
use crate::render;
use crate::ExitCode;

/// Arguments of `carelevel diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ruleset in force (YAML).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The proposed ruleset (YAML).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Real cases to count in the transition matrix: JSON Lines (`.jsonl`), CSV (`.csv`,
    /// header row = question ids; an empty cell is unanswered) or a YAML list of answer
    /// maps (`.yaml`/`.yml`); the `--id-field` field or column names each case, and
    /// the report lists the cases that change level, flags or review.
    #[arg(long, value_name = "FILE")]
    pub cases: Option<PathBuf>,
    /// The JSON field or CSV column holding each case's id (with `--cases`); a case
    /// without one is named by its line.
    #[arg(long, value_name = "NAME", default_value = "id")]
    pub id_field: String,
    /// Exit with code 1 when the diff has changes of this kind (for CI gates).
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Which changes fail a `--fail-on` gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any change of level, flag or review status.
    Any,
    /// Any answer set moved to a more intensive level.
    Escalation,
    /// Any answer set moved to a less intensive level.
    DeEscalation,
}

/// Output formats of `carelevel diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable report.
    Text,
    /// The report as JSON.
    Json,
    /// The JSON report as YAML.
    Yaml,
    /// Markdown, for a pull-request comment.
    Markdown,
    /// One self-contained HTML page (inline CSS, no script, no external resources).
    Html,
}

/// The line saying how many case errors are not listed, if any.
pub(crate) fn unlisted(cases: &Cases) -> Option<String> {
    (cases.unlisted_errors > 0).then(|| {
        format!(
            "... and {} more (only the first {MAX_LISTED_ERRORS} are listed)",
            cases.unlisted_errors
        )
    })
}

/// The first 12 hex digits of a SHA-256, as reports show it.
pub(crate) fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// A count as `usize` (saturating; counts of cases in memory fit).
pub(crate) fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Run `carelevel diff`.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let mut load = |path: &PathBuf| -> io::Result<Result<Ruleset, ExitCode>> {
        match input::load_ruleset_file(path) {
            Ok((_, r)) => Ok(Ok(r)),
            Err(LoadError::Read(message)) => input::usage_error(err, &message).map(Err),
            Err(LoadError::Invalid { source, error }) => {
                render::diagnostics(err, &source, &error.diagnostics)?;
                input::usage_error(
                    err,
                    &format!("the ruleset `{}` cannot be used", source.name),
                )
                .map(Err)
            }
        }
    };
    let old = match load(&args.old)? {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let new = match load(&args.new)? {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let mut report = match analysis::diff(&old, &new) {
        Ok(r) => r,
        Err(e) => return input::usage_error(err, &e.to_string()),
    };
    if old.same_version_other_content(&new) {
        writeln!(
            err,
            "carelevel: warning: OLD and NEW are both `{} {}` but their content differs \
             (sha256 {} vs {}): give the changed ruleset a new `version:`",
            old.metadata().id,
            Shown::full(&old.metadata().version),
            old.short_sha256(),
            new.short_sha256()
        )?;
    }
    let mut cases = Cases::default();
    if let Some(path) = &args.cases {
        let id_field = args.id_field.as_str();
        if old.factor_index(id_field).is_some() || new.factor_index(id_field).is_some() {
            return input::usage_error(
                err,
                &format!(
                    "`--id-field {}` names a question of the rulesets; choose the field \
                     that holds the case id",
                    Shown::excerpt(id_field)
                ),
            );
        }
        cases = match diff_cases::count(path, &old, &new, id_field) {
            Ok(c) => c,
            Err(message) => return input::usage_error(err, &message),
        };
        cases.apply_to(&mut report);
    }
    match args.format {
        Format::Json | Format::Yaml => {
            let value = analysis::diff_json(&report, args.cases.is_some().then_some(&cases))
                .map_err(io::Error::other)?;
            if args.format == Format::Yaml {
                let text = serde_yaml::to_string(&value).map_err(io::Error::other)?;
                out.write_all(text.as_bytes())?;
            } else {
                let text = serde_json::to_string_pretty(&value).map_err(io::Error::other)?;
                writeln!(out, "{text}")?;
            }
        }
        Format::Text => out.write_all(text_report(&report, &cases).as_bytes())?,
        Format::Markdown => out.write_all(markdown_report(&report, &cases).as_bytes())?,
        Format::Html => {
            out.write_all(crate::diff_html::page(&report, &cases, &old, &new).as_bytes())?;
        }
    }
    let tripped = match args.fail_on {
        None => false,
        Some(FailOn::Any) => report.has_changes(),
        Some(FailOn::Escalation) => report.escalations > 0,
        Some(FailOn::DeEscalation) => report.de_escalations > 0,
    };
    if cases.error_count() > 0 {
        writeln!(
            err,
            "carelevel: warning: {} could not be assessed (listed in the report)",
            render::plural(to_usize(cases.error_count()), "case", "cases")
        )?;
    }
    Ok(if tripped {
        ExitCode::Failure
    } else {
        ExitCode::Success
    })
}

pub(crate) fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::Escalation => "escalation",
        Direction::DeEscalation => "de-escalation",
        Direction::Incomparable => "not comparable",
    }
}

pub(crate) fn pattern_text(e: &DiffExample) -> String {
    let omitted = e.answers.0.len() - e.pattern.0.len();
    let shown = e.pattern.to_string();
    let any = if omitted > 0 && !e.pattern.0.is_empty() {
        "; other answers: any"
    } else {
        ""
    };
    format!(
        "{shown} ({}{any})",
        render::plural(e.covers as usize, "class", "classes")
    )
}

pub(crate) fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(no rule: lowest level)".to_owned()
    } else {
        items.join(", ")
    }
}

fn cell_counts(cell: &ChangedCell) -> String {
    let classes = render::plural(cell.classes as usize, "class", "classes");
    match cell.cases {
        Some(n) => format!("{classes}, {}", render::plural(n as usize, "case", "cases")),
        None => classes,
    }
}

/// The readable report.
fn text_report(r: &DiffReport, cases: &Cases) -> String {
    let mut s = String::new();
    let (old, new) = (Shown::full(&r.old), Shown::full(&r.new));
    let _ = writeln!(
        s,
        "carelevel diff: OLD {old} (sha256 {}) -> NEW {new} (sha256 {})",
        short(&r.old_sha256),
        short(&r.new_sha256)
    );
    let _ = writeln!(
        s,
        "Answer space: {} classes ({})",
        r.classes,
        if r.includes_missing_answers {
            "every combination of answers, including unanswered questions"
        } else {
            "every combination of complete answers"
        }
    );
    for note in &r.notes {
        let _ = writeln!(s, "Note: {note}");
    }
    let _ = writeln!(s);
    matrix_text(&mut s, "answer-set classes", &r.levels, &r.matrix);
    if let Some(m) = &r.case_matrix {
        matrix_text(&mut s, "cases", &r.levels, m);
    }
    if r.cells.is_empty() {
        let _ = writeln!(s, "No answer set changes level.");
    } else {
        let _ = writeln!(s, "Level changes:");
        for cell in &r.cells {
            let _ = writeln!(
                s,
                "  {} -> {} ({}): {}",
                cell.from,
                cell.to,
                direction_word(cell.direction),
                cell_counts(cell)
            );
            for e in &cell.examples {
                let _ = writeln!(s, "    when {}", pattern_text(e));
                let _ = writeln!(s, "      OLD decided by: {}", list_or_none(&e.old_deciding));
                let _ = writeln!(s, "      NEW decided by: {}", list_or_none(&e.new_deciding));
            }
        }
    }
    let _ = writeln!(s);
    if r.flag_changes.is_empty() {
        let _ = writeln!(s, "No flag changes.");
    } else {
        let _ = writeln!(s, "Flag changes:");
        for f in &r.flag_changes {
            let _ = writeln!(
                s,
                "  {}: fires for {} more and {} fewer classes",
                f.flag, f.gained, f.lost
            );
            if let Some(e) = &f.gained_example {
                let _ = writeln!(s, "    newly fires, e.g. {e}");
            }
            if let Some(e) = &f.lost_example {
                let _ = writeln!(s, "    no longer fires, e.g. {e}");
            }
        }
    }
    let _ = writeln!(
        s,
        "Needs review: {} newly {} review, {} no longer {}.",
        render::plural(to_usize(r.review_gained), "class", "classes"),
        if r.review_gained == 1 {
            "needs"
        } else {
            "need"
        },
        r.review_lost,
        if r.review_lost == 1 { "does" } else { "do" }
    );
    if r.case_matrix.is_some() {
        case_changes_text(&mut s, r, cases);
    }
    for (title, side) in one_sided(r) {
        let _ = writeln!(s, "\n{title}");
        let _ = writeln!(s, "  {}", one_sided_counts(side));
    }
    if r.in_neither > 0 {
        let _ = writeln!(s, "\n{}", in_neither_text(r.in_neither));
    }
    if cases.error_count() > 0 {
        let _ = writeln!(
            s,
            "\nCases that could not be assessed ({}):",
            cases.error_count()
        );
        for e in &cases.errors {
            // The id and message come from the cases file: shown escaped, the id capped.
            let id =
                e.id.as_deref()
                    .map_or_else(String::new, |i| format!(" (id {})", Shown::excerpt(i)));
            let _ = writeln!(s, "  line {}{id}: {}", e.line, Shown::full(&e.message));
        }
        if let Some(line) = unlisted(cases) {
            let _ = writeln!(s, "  {line}");
        }
    }
    let _ = writeln!(s, "\nSummary: {}", r.summary());
    s
}

/// A transition matrix as text (also `log replay`'s).
pub(crate) fn matrix_text(
    s: &mut String,
    what: &str,
    levels: &[analysis::DiffLevel],
    m: &[Vec<u64>],
) {
    let _ = writeln!(
        s,
        "Transition matrix ({what}; rows: {}, columns: {}):",
        if what == "decisions" {
            "level served"
        } else {
            "OLD level"
        },
        if what == "decisions" {
            "level under NEW"
        } else {
            "NEW level"
        }
    );
    let width = levels
        .iter()
        .map(|l| l.id.len())
        .chain(m.iter().flatten().map(|c| c.to_string().len()))
        .max()
        .unwrap_or(4)
        .max(4);
    let mut header = format!("  {:width$}", "");
    for l in levels {
        let _ = write!(header, "  {:>width$}", l.id);
    }
    let _ = writeln!(s, "{header}");
    for (l, row) in levels.iter().zip(m) {
        let mut line = format!("  {:width$}", l.id);
        for c in row {
            let _ = write!(line, "  {c:>width$}");
        }
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s);
}

/// Markdown for a pull-request comment.
fn markdown_report(r: &DiffReport, cases: &Cases) -> String {
    let mut s = String::new();
    let (old, new) = (Shown::full(&r.old), Shown::full(&r.new));
    let _ = writeln!(
        s,
        "### carelevel diff: `{old}` (sha256 {}) → `{new}` (sha256 {})\n",
        short(&r.old_sha256),
        short(&r.new_sha256)
    );
    let _ = writeln!(s, "**{}**\n", r.summary());
    for note in &r.notes {
        let _ = writeln!(s, "> {note}");
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s);
    }
    let _ =
        writeln!(
        s,
        "Transition matrix over {} answer-set classes{} (rows: old level, columns: new level):\n",
        r.classes,
        if r.includes_missing_answers { ", unanswered questions included" } else { "" }
    );
    let mut header = "| old \\ new |".to_owned();
    let mut rule = "|---|".to_owned();
    for l in &r.levels {
        let _ = write!(header, " {} |", l.id);
        rule.push_str("---:|");
    }
    let _ = writeln!(s, "{header}\n{rule}");
    for (i, (l, row)) in r.levels.iter().zip(&r.matrix).enumerate() {
        let mut line = format!("| **{}** |", l.id);
        for (j, c) in row.iter().enumerate() {
            let cases = r
                .case_matrix
                .as_ref()
                .and_then(|m| m.get(i))
                .and_then(|row| row.get(j))
                .map_or_else(String::new, |&n| {
                    format!(" ({n} {})", if n == 1 { "case" } else { "cases" })
                });
            if i == j || *c == 0 {
                let _ = write!(line, " {c}{cases} |");
            } else {
                let _ = write!(line, " **{c}**{cases} |");
            }
        }
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s);
    if !r.cells.is_empty() {
        let _ = writeln!(s, "#### Level changes\n");
        for cell in &r.cells {
            let _ = writeln!(
                s,
                "- **{} → {}** ({}): {}",
                cell.from,
                cell.to,
                direction_word(cell.direction),
                cell_counts(cell)
            );
            for e in &cell.examples {
                let _ = writeln!(
                    s,
                    "  - when `{}`: old decided by {}, new decided by {}",
                    pattern_text(e),
                    code_list(&e.old_deciding),
                    code_list(&e.new_deciding)
                );
            }
        }
        let _ = writeln!(s);
    }
    if !r.flag_changes.is_empty() {
        let _ = writeln!(s, "#### Flag changes\n");
        for f in &r.flag_changes {
            let _ = writeln!(s, "- `{}`: +{} / -{} classes", f.flag, f.gained, f.lost);
        }
        let _ = writeln!(s);
    }
    if r.review_gained > 0 || r.review_lost > 0 {
        let _ = writeln!(
            s,
            "Needs review: +{} / -{} classes.\n",
            r.review_gained, r.review_lost
        );
    }
    if r.case_matrix.is_some() {
        case_changes_markdown(&mut s, r, cases);
    }
    for (title, side) in one_sided(r) {
        let _ = writeln!(s, "#### {title}\n");
        let _ = writeln!(s, "{}\n", one_sided_counts(side));
    }
    if r.in_neither > 0 {
        let _ = writeln!(s, "{}\n", in_neither_text(r.in_neither));
    }
    if cases.error_count() > 0 {
        let _ = writeln!(s, "#### Cases that could not be assessed\n");
        for e in &cases.errors {
            let _ = writeln!(s, "- line {}: {}", e.line, Shown::full(&e.message));
        }
        if let Some(line) = unlisted(cases) {
            let _ = writeln!(s, "- {line}");
        }
        let _ = writeln!(s);
    }
    s
}

/// The one-sided populations of a diff, each with its heading.
pub(crate) fn one_sided(r: &DiffReport) -> Vec<(String, &OneSided)> {
    let mut out = Vec::new();
    for (side, who, other, what) in [
        (&r.new_population, "NEW", "OLD", "New answers"),
        (&r.removed_population, "OLD", "NEW", "Removed answers"),
    ] {
        if let Some(p) = side {
            out.push((
                format!(
                    "{what} (only {who} accepts them: {}): {} that did not exist in {other}'s answer space; not counted as moved",
                    carelevel::analysis::Pattern(p.answers.clone()),
                    render::plural(to_usize(p.classes), "class", "classes"),
                ),
                p,
            ));
        }
    }
    out
}

/// Where a one-sided population is placed by the ruleset that accepts it.
pub(crate) fn one_sided_counts(p: &OneSided) -> String {
    let levels: Vec<String> = p
        .levels
        .iter()
        .map(|l| format!("{} {}", l.level, l.classes))
        .collect();
    format!(
        "levels: {}; a refer flag fires for {}; {} need review",
        levels.join(", "),
        p.refer,
        p.needs_review
    )
}

pub(crate) fn in_neither_text(n: u64) -> String {
    format!(
        "{} give an answer only OLD accepts and another only NEW accepts; neither ruleset can assess them",
        render::plural(to_usize(n), "class", "classes")
    )
}

fn code_list(items: &[String]) -> String {
    if items.is_empty() {
        "no rule".to_owned()
    } else {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The most case ids listed per transition or change in text and markdown (JSON lists
/// them all).
pub const MAX_LISTED_IDS: usize = 20;

/// The moved cases in the matrix's order of levels (OLD level, then NEW level).
pub(crate) fn moved_in_order<'c>(
    r: &DiffReport,
    cases: &'c Cases,
) -> Vec<(&'c (String, String), &'c MovedCases)> {
    cases.moved_in_order(r)
}

/// Every list of changed cases with its heading words: (label, cases).
pub(crate) fn case_change_lists<'c>(
    r: &DiffReport,
    cases: &'c Cases,
) -> Vec<(String, &'c [CaseRef])> {
    let mut lists = Vec::new();
    for ((from, to), m) in moved_in_order(r, cases) {
        lists.push((
            format!("{from} -> {to} ({})", direction_word(m.direction)),
            m.cases.as_slice(),
        ));
    }
    for (flag, f) in &cases.flags {
        if !f.gained.is_empty() {
            lists.push((format!("flag `{flag}` newly fires"), f.gained.as_slice()));
        }
        if !f.lost.is_empty() {
            lists.push((format!("flag `{flag}` no longer fires"), f.lost.as_slice()));
        }
    }
    if !cases.review.gained.is_empty() {
        lists.push((
            "newly needs review".to_owned(),
            cases.review.gained.as_slice(),
        ));
    }
    if !cases.review.lost.is_empty() {
        lists.push((
            "no longer needs review".to_owned(),
            cases.review.lost.as_slice(),
        ));
    }
    lists
}

/// At most [`MAX_LISTED_IDS`] cases, then how many more.
pub(crate) fn capped_ids(list: &[CaseRef]) -> String {
    let shown: Vec<String> = list
        .iter()
        .take(MAX_LISTED_IDS)
        .map(ToString::to_string)
        .collect();
    let mut text = shown.join(", ");
    if list.len() > MAX_LISTED_IDS {
        let _ = write!(text, " and {} more", list.len() - MAX_LISTED_IDS);
    }
    text
}

fn case_changes_text(s: &mut String, r: &DiffReport, cases: &Cases) {
    let lists = case_change_lists(r, cases);
    if lists.is_empty() {
        let _ = writeln!(s, "\nNo case changes level, flags or review.");
        return;
    }
    let _ = writeln!(
        s,
        "\nCases that change (by `{}`, or line):",
        Shown::excerpt(&cases.id_field)
    );
    for (label, list) in lists {
        let _ = writeln!(
            s,
            "  {label}: {}: {}",
            render::plural(list.len(), "case", "cases"),
            capped_ids(list)
        );
    }
}

fn case_changes_markdown(s: &mut String, r: &DiffReport, cases: &Cases) {
    let lists = case_change_lists(r, cases);
    let _ = writeln!(s, "#### Cases that change\n");
    if lists.is_empty() {
        let _ = writeln!(s, "No case changes level, flags or review.\n");
        return;
    }
    let _ = writeln!(
        s,
        "By `{}` (or line when a case has none).\n",
        Shown::excerpt(&cases.id_field)
    );
    for (label, list) in lists {
        let ids: Vec<String> = list
            .iter()
            .take(MAX_LISTED_IDS)
            .map(|c| {
                if c.id.is_some() {
                    format!("`{c}`")
                } else {
                    c.to_string()
                }
            })
            .collect();
        let more = if list.len() > MAX_LISTED_IDS {
            format!(" and {} more", list.len() - MAX_LISTED_IDS)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "- **{}**: {}: {}{more}",
            label.replace("->", "→"),
            render::plural(list.len(), "case", "cases"),
            ids.join(", ")
        );
    }
    let _ = writeln!(s);
}
