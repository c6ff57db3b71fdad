//! `carelevel log query|export|replay FILE`: read a decision log back.
//!
//! FILE is a JSON Lines log (`.jsonl`) or a SQLite log (`.sqlite`, `.sqlite3`, `.db`),
//! as written by `carelevel_decision_log::LogWriter`. Every entry that cannot be read
//! (a bad line or row, a torn last line after a crash) is reported on stderr with its
//! line or row, the others are still processed, and the exit code is 1; an unreadable
//! file or a bad argument is exit code 2.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use carelevel_decision_log::{read_log, BadEntry, Filter, ReadEntry, ReadError, Timestamp};

use crate::input;
use crate::{log_export, log_replay, ExitCode};

/// Arguments of `carelevel log`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do with the log.
    #[command(subcommand)]
    pub command: LogCommand,
}

/// The `log` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Print the entries that match, as JSON Lines.
    Query(QueryArgs),
    /// Write the entries that match as JSON Lines or CSV.
    Export(log_export::Args),
    /// Show which logged decisions a new ruleset would change.
    Replay(log_replay::Args),
}

/// Which entries to read (shared by every `log` subcommand).
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Entries at or after this time (RFC 3339 UTC, or a date `YYYY-MM-DD` = its start).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Entries before this time (exclusive; RFC 3339 UTC or `YYYY-MM-DD`).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Decisions made by this ruleset id (feedback has no ruleset and never matches).
    #[arg(long = "ruleset", value_name = "ID")]
    pub ruleset: Option<String>,
    /// Decisions recommending this level id, or feedback whose chosen level it is.
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,
    /// The decision with this id and the feedback linked to it by id.
    #[arg(long = "decision", value_name = "ID")]
    pub decision: Option<String>,
}

impl FilterArgs {
    /// The filter, or the message for a bad time bound.
    pub fn filter(&self) -> Result<Filter, String> {
        let bound = |flag: &str, text: &Option<String>| {
            text.as_deref()
                .map(Timestamp::parse_bound)
                .transpose()
                .map_err(|e| format!("{flag}: {e}"))
        };
        Ok(Filter {
            since: bound("--since", &self.since)?,
            until: bound("--until", &self.until)?,
            ruleset_id: self.ruleset.clone(),
            level: self.level.clone(),
            decision_id: self.decision.clone(),
        })
    }
}

/// Arguments of `carelevel log query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The log: `.jsonl` (JSON Lines) or `.sqlite`/`.sqlite3`/`.db` (SQLite).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Which entries.
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// Run `carelevel log ...`.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    match &args.command {
        LogCommand::Query(a) => query(a, out, err),
        LogCommand::Export(a) => log_export::run(a, out, err),
        LogCommand::Replay(a) => log_replay::run(a, out, err),
    }
}

/// What reading a whole log came to.
pub struct Read {
    /// Entries that could not be read (each already reported on stderr).
    pub bad: u64,
}

/// Read `path` with `filter`, calling `each` per entry; every bad entry is reported on
/// `err` as it comes. `Err` is a message for a log that cannot be read at all, or an
/// I/O error of `each` / `err`.
pub fn read_entries(
    path: &Path,
    filter: &Filter,
    err: &mut dyn Write,
    each: &mut dyn FnMut(ReadEntry) -> io::Result<()>,
) -> io::Result<Result<Read, String>> {
    let mut failure: Option<io::Error> = None;
    let mut bad = 0u64;
    let result = read_log(path, filter, &mut |r: Result<ReadEntry, BadEntry>| {
        let step = match r {
            Ok(entry) => each(entry),
            Err(b) => {
                bad += 1;
                input::error(err, &b.to_string())
            }
        };
        match step {
            Ok(()) => true,
            Err(e) => {
                failure = Some(e);
                false
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(match result {
        Ok(()) => Ok(Read { bad }),
        Err(e) => Err(read_message(&e)),
    })
}

/// A whole-log read error in words.
fn read_message(e: &ReadError) -> String {
    e.to_string()
}

/// The closing line and exit code after reading: 1 when some entries could not be read.
pub fn finish(err: &mut dyn Write, path: &Path, read: &Read) -> io::Result<ExitCode> {
    if read.bad == 0 {
        return Ok(ExitCode::Success);
    }
    writeln!(
        err,
        "carelevel: {} of `{}` could not be read (listed above); the other entries were processed",
        crate::render::plural(
            usize::try_from(read.bad).unwrap_or(usize::MAX),
            "entry",
            "entries"
        ),
        input::display_name(path)
    )?;
    Ok(ExitCode::Failure)
}

/// Run `carelevel log query`.
fn query(args: &QueryArgs, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let filter = match args.filter.filter() {
        Ok(f) => f,
        Err(message) => return input::usage_error(err, &message),
    };
    let read = read_entries(&args.file, &filter, err, &mut |e| {
        let line = serde_json::to_string(&e.entry).map_err(io::Error::other)?;
        writeln!(out, "{line}")
    })?;
    match read {
        Ok(read) => finish(err, &args.file, &read),
        Err(message) => input::usage_error(err, &message),
    }
}
