//! `carelevel log replay FILE --rules NEW.yaml`: which logged decisions a new ruleset
//! would change.
//!
//! Every logged decision whose input was kept whole is assessed again under NEW and
//! compared with what was served: level, flags, `refer` and `needs_review`. The
//! report has the shape of `diff --cases`: a transition matrix (rows: the logged
//! level, columns: the level under NEW, in NEW's order) and the changed decisions.
//!
//! Never guessed:
//! - a decision whose input was masked (an answer hashed or dropped) cannot be
//!   replayed exactly: it is counted and its id listed as *not replayable*;
//! - feedback entries are skipped and counted;
//! - answers to questions NEW does not ask are left out and counted (as `diff
//!   --cases` does), and a decision NEW refuses for a missing required answer is
//!   shown as `refused`;
//! - a decision NEW cannot evaluate (e.g. an answer outside NEW's scale) is listed
//!   with the reason, and the exit code is 1.
//!
//! At most [`MAX_LISTED`] ids are listed per list; the rest are counted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

use carelevel::text::Shown;
use carelevel::Ruleset;
use carelevel_decision_log::{DecisionRecord, LogEntry};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::input::{self, LoadError};
use crate::log_cmd::{self, FilterArgs};
use crate::{render, ExitCode};

/// The most ids listed per list of the report.
pub const MAX_LISTED: usize = 1000;

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable report.
    Text,
    /// The report as JSON.
    Json,
    /// The report as YAML.
    Yaml,
}

/// Arguments of `carelevel log replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log: `.jsonl` (JSON Lines) or `.sqlite`/`.sqlite3`/`.db` (SQLite).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The new ruleset (YAML) to replay the logged decisions under.
    #[arg(long, value_name = "NEW.yaml")]
    pub rules: PathBuf,
    /// Which entries.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// One decision NEW would change.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    /// The decision id.
    pub decision_id: String,
    /// When it was made.
    pub time: String,
    /// `id version` of the ruleset that made it.
    pub ruleset: String,
    /// The level served.
    pub from: String,
    /// The level under NEW (`refused` when NEW refuses the input).
    pub to: String,
    /// `escalation`, `de-escalation`, `same level` or `not comparable`.
    pub direction: &'static str,
    /// Flags NEW fires that were not served.
    pub flags_gained: Vec<String>,
    /// Flags served that NEW does not fire.
    pub flags_lost: Vec<String>,
    /// `needs_review` served and under NEW, when it differs.
    pub needs_review: Option<(bool, bool)>,
    /// `refer` served and under NEW, when it differs.
    pub refer: Option<(bool, bool)>,
}

/// A decision NEW could not evaluate.
#[derive(Debug, Clone, Serialize)]
pub struct Failed {
    /// The decision id.
    pub decision_id: String,
    /// Why.
    pub error: String,
}

/// The whole replay.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The log file, as given.
    pub log: String,
    /// `id version` of NEW.
    pub new: String,
    /// Decision entries read (that passed the filter).
    pub decisions: u64,
    /// Decisions replayed under NEW.
    pub replayed: u64,
    /// Of those, decisions NEW would change.
    pub changed_count: u64,
    /// Changed decisions moved to a more intensive level.
    pub escalations: u64,
    /// Changed decisions moved to a less intensive level.
    pub de_escalations: u64,
    /// The first [`MAX_LISTED`] changed decisions.
    pub changed: Vec<Changed>,
    /// Decisions whose input was masked: count.
    pub not_replayable_count: u64,
    /// Their ids (the first [`MAX_LISTED`]).
    pub not_replayable: Vec<String>,
    /// Feedback entries skipped.
    pub feedback_skipped: u64,
    /// Answers left out because NEW does not ask the question.
    pub answers_ignored: u64,
    /// Decisions NEW could not evaluate: count.
    pub failed_count: u64,
    /// The first [`MAX_LISTED`] of them.
    pub failed: Vec<Failed>,
    /// Entries that could not be read (reported on stderr with their line or row).
    pub unreadable: u64,
    /// Row and column labels of the matrix: NEW's levels, then served levels NEW
    /// lacks, then `refused` if any.
    pub levels: Vec<String>,
    /// `matrix[served][new]`: decisions per transition.
    pub matrix: Vec<Vec<u64>>,
    /// One sentence.
    pub summary: String,
}

/// Run `carelevel log replay`.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let filter = match args.filter.filter() {
        Ok(f) => f,
        Err(message) => return input::usage_error(err, &message),
    };
    let new = match input::load_ruleset_file(&args.rules) {
        Ok((_, r)) => r,
        Err(LoadError::Read(message)) => return input::usage_error(err, &message),
        Err(LoadError::Invalid { source, error }) => {
            render::diagnostics(err, &source, &error.diagnostics)?;
            return input::usage_error(
                err,
                &format!("the ruleset `{}` cannot be used", source.name),
            );
        }
    };
    let meta = new.metadata();
    let mut report = Report {
        log: input::display_name(&args.file),
        new: format!("{} {}", meta.id, meta.version),
        ..Report::default()
    };
    let mut pairs: BTreeMap<(String, String), u64> = BTreeMap::new();
    let read = log_cmd::read_entries(&args.file, &filter, err, &mut |e| {
        match e.entry {
            LogEntry::Feedback(_) => report.feedback_skipped += 1,
            LogEntry::Decision(d) => replay(&new, &d, &mut report, &mut pairs),
        }
        Ok(())
    })?;
    let read = match read {
        Ok(r) => r,
        Err(message) => return input::usage_error(err, &message),
    };
    report.unreadable = read.bad;
    matrix(&new, &pairs, &mut report);
    report.summary = summary(&report);
    match args.format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&report).map_err(io::Error::other)?;
            writeln!(out, "{text}")?;
        }
        Format::Yaml => {
            let text = serde_yaml::to_string(&report).map_err(io::Error::other)?;
            out.write_all(text.as_bytes())?;
        }
        Format::Text => out.write_all(text_report(&report).as_bytes())?,
    }
    let code = log_cmd::finish(err, &args.file, &read)?;
    if report.failed_count > 0 {
        writeln!(
            err,
            "carelevel: {} could not be evaluated under the new ruleset (listed in the report)",
            render::plural(to_usize(report.failed_count), "decision", "decisions")
        )?;
        return Ok(ExitCode::Failure);
    }
    Ok(code)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Replay one decision.
fn replay(
    new: &Ruleset,
    d: &DecisionRecord,
    report: &mut Report,
    pairs: &mut BTreeMap<(String, String), u64>,
) {
    report.decisions += 1;
    if !d.replayable() {
        report.not_replayable_count += 1;
        if report.not_replayable.len() < MAX_LISTED {
            report.not_replayable.push(d.decision_id.clone());
        }
        return;
    }
    let mut own = Map::new();
    for (k, v) in &d.input {
        if new.factor_index(k).is_some() {
            own.insert(k.clone(), v.clone());
        } else {
            report.answers_ignored += 1;
        }
    }
    let text = Value::Object(own).to_string();
    let outcome = new
        .answers_from_json(&text)
        .map_err(|e| e.to_string())
        .and_then(|a| {
            new.assess(&a).map_err(|e| e.to_string()).map(|x| {
                let flags: Vec<String> = x.flags.iter().map(|f| f.id.to_string()).collect();
                (x.level.id.to_string(), flags, x.refer, x.needs_review)
            })
        });
    let (level, flags, refer, needs_review) = match outcome {
        Ok(o) => o,
        Err(e) if e.starts_with("required answers are missing") => {
            ("refused".to_owned(), Vec::new(), false, false)
        }
        Err(e) => {
            report.failed_count += 1;
            if report.failed.len() < MAX_LISTED {
                report.failed.push(Failed {
                    decision_id: d.decision_id.clone(),
                    error: e,
                });
            }
            return;
        }
    };
    report.replayed += 1;
    *pairs
        .entry((d.result.level.clone(), level.clone()))
        .or_default() += 1;
    let served = &d.result;
    let gained: Vec<String> = flags
        .iter()
        .filter(|f| !served.flags.contains(f))
        .cloned()
        .collect();
    let lost: Vec<String> = served
        .flags
        .iter()
        .filter(|f| !flags.contains(f))
        .cloned()
        .collect();
    let differs = |a: bool, b: bool| (a != b).then_some((a, b));
    let changed = Changed {
        decision_id: d.decision_id.clone(),
        time: d.time.clone(),
        ruleset: format!("{} {}", d.ruleset.id, d.ruleset.version),
        direction: direction(new, &served.level, &level),
        from: served.level.clone(),
        to: level,
        flags_gained: gained,
        flags_lost: lost,
        needs_review: differs(served.needs_review, needs_review),
        refer: differs(served.refer, refer),
    };
    if changed.from == changed.to
        && changed.flags_gained.is_empty()
        && changed.flags_lost.is_empty()
        && changed.needs_review.is_none()
        && changed.refer.is_none()
    {
        return;
    }
    report.changed_count += 1;
    match changed.direction {
        "escalation" => report.escalations += 1,
        "de-escalation" => report.de_escalations += 1,
        _ => {}
    }
    if report.changed.len() < MAX_LISTED {
        report.changed.push(changed);
    }
}

/// The direction of a level change, by NEW's order of levels.
fn direction(new: &Ruleset, from: &str, to: &str) -> &'static str {
    if from == to {
        return "same level";
    }
    let rank = |id: &str| new.levels().iter().position(|l| l.id == id);
    match (rank(from), rank(to)) {
        (Some(a), Some(b)) if b > a => "escalation",
        (Some(_), Some(_)) => "de-escalation",
        _ => "not comparable",
    }
}

/// Fill the transition matrix.
fn matrix(new: &Ruleset, pairs: &BTreeMap<(String, String), u64>, report: &mut Report) {
    let mut levels: Vec<String> = new.levels().iter().map(|l| l.id.clone()).collect();
    for (a, b) in pairs.keys() {
        for l in [a, b] {
            if l != "refused" && !levels.contains(l) {
                levels.push(l.clone());
            }
        }
    }
    if pairs.keys().any(|(a, b)| a == "refused" || b == "refused") {
        levels.push("refused".to_owned());
    }
    let mut m = vec![vec![0u64; levels.len()]; levels.len()];
    for ((a, b), n) in pairs {
        let i = levels.iter().position(|l| l == a);
        let j = levels.iter().position(|l| l == b);
        if let Some(cell) = i
            .zip(j)
            .and_then(|(i, j)| m.get_mut(i).and_then(|row| row.get_mut(j)))
        {
            *cell += n;
        }
    }
    report.levels = levels;
    report.matrix = m;
}

fn summary(r: &Report) -> String {
    let mut s = format!(
        "{} of {} replayed would change under {} ({} escalation{}, {} de-escalation{})",
        r.changed_count,
        render::plural(to_usize(r.replayed), "decision", "decisions"),
        r.new,
        r.escalations,
        if r.escalations == 1 { "" } else { "s" },
        r.de_escalations,
        if r.de_escalations == 1 { "" } else { "s" },
    );
    if r.not_replayable_count > 0 {
        let _ = write!(
            s,
            "; {} not replayable (input masked)",
            r.not_replayable_count
        );
    }
    if r.failed_count > 0 {
        let _ = write!(s, "; {} could not be evaluated", r.failed_count);
    }
    s.push('.');
    s
}

fn more(listed: usize, count: u64) -> Option<String> {
    let rest = count.saturating_sub(listed as u64);
    (rest > 0).then(|| format!("... and {rest} more (only the first {MAX_LISTED} are listed)"))
}

/// The readable report.
fn text_report(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "carelevel log replay: {} under NEW {}",
        Shown::full(&r.log),
        Shown::full(&r.new)
    );
    let _ = writeln!(
        s,
        "Decisions: {} read, {} replayed, {} not replayable (input masked), {} could not be evaluated; {} skipped",
        r.decisions,
        r.replayed,
        r.not_replayable_count,
        r.failed_count,
        render::plural(to_usize(r.feedback_skipped), "feedback entry", "feedback entries")
    );
    if r.answers_ignored > 0 {
        let _ = writeln!(
            s,
            "Note: {} logged answers are to questions NEW does not ask; NEW ignores them",
            r.answers_ignored
        );
    }
    if r.unreadable > 0 {
        let _ = writeln!(
            s,
            "Note: {} log entries could not be read (reported on stderr)",
            r.unreadable
        );
    }
    let _ = writeln!(s);
    if r.replayed > 0 {
        let levels: Vec<carelevel::analysis::DiffLevel> = r
            .levels
            .iter()
            .map(|id| carelevel::analysis::DiffLevel {
                id: id.clone(),
                in_old: true,
                in_new: id != "refused",
            })
            .collect();
        crate::diff::matrix_text(&mut s, "decisions", &levels, &r.matrix);
    }
    if r.changed.is_empty() {
        let _ = writeln!(s, "No replayed decision changes.");
    } else {
        let _ = writeln!(s, "Changed decisions ({}):", r.changed_count);
        for c in &r.changed {
            let _ = write!(
                s,
                "  {} ({}, {}): {} -> {} ({})",
                Shown::excerpt(&c.decision_id),
                Shown::full(&c.time),
                Shown::full(&c.ruleset),
                Shown::full(&c.from),
                Shown::full(&c.to),
                c.direction
            );
            if !c.flags_gained.is_empty() {
                let _ = write!(s, "; flags gained: {}", c.flags_gained.join(", "));
            }
            if !c.flags_lost.is_empty() {
                let _ = write!(s, "; flags lost: {}", c.flags_lost.join(", "));
            }
            if let Some((a, b)) = c.needs_review {
                let _ = write!(s, "; needs review: {a} -> {b}");
            }
            if let Some((a, b)) = c.refer {
                let _ = write!(s, "; refer: {a} -> {b}");
            }
            let _ = writeln!(s);
        }
        if let Some(line) = more(r.changed.len(), r.changed_count) {
            let _ = writeln!(s, "  {line}");
        }
    }
    if r.not_replayable_count > 0 {
        let _ = writeln!(
            s,
            "\nNot replayable: the input was masked (an answer hashed or dropped), so the decision cannot be assessed again exactly ({}):",
            r.not_replayable_count
        );
        for id in &r.not_replayable {
            let _ = writeln!(s, "  {}", Shown::excerpt(id));
        }
        if let Some(line) = more(r.not_replayable.len(), r.not_replayable_count) {
            let _ = writeln!(s, "  {line}");
        }
    }
    if r.failed_count > 0 {
        let _ = writeln!(
            s,
            "\nCould not be evaluated under NEW ({}):",
            r.failed_count
        );
        for f in &r.failed {
            let _ = writeln!(
                s,
                "  {}: {}",
                Shown::excerpt(&f.decision_id),
                Shown::full(&f.error)
            );
        }
        if let Some(line) = more(r.failed.len(), r.failed_count) {
            let _ = writeln!(s, "  {line}");
        }
    }
    let _ = writeln!(s, "\nSummary: {}", r.summary);
    let _ = writeln!(
        s,
        "Decision support: the replay shows what NEW would recommend; a qualified professional makes the final placement."
    );
    s
}
