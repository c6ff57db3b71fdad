//! `carelevel log export FILE --format jsonl|csv [--output PATH]`.
//!
//! JSON Lines: one entry per line, exactly the record shape of `docs/decision-log.md`.
//! CSV: one row per entry, the columns [`COLUMNS`]; every cell is escaped as `batch`
//! escapes its CSV (`carelevel_batch::csv_row`: control characters written visibly,
//! a leading `'` before a formula character, RFC 4180 quoting). Lists are
//! `;`-separated; `input` is the masked answers as one JSON object.
//!
//! `--output` is written like `batch --output`: to a temporary file beside it, renamed
//! into place when the export is complete, so the target is never partial.

use std::io::{self, Write};
use std::path::PathBuf;

use carelevel_decision_log::{Channel, LogEntry, Outcome};

use crate::log_cmd::{self, FilterArgs};
use crate::output::{self, Output, Plan};
use crate::{input, ExitCode};

/// The CSV columns, in order.
pub const COLUMNS: &[&str] = &[
    "kind",
    "time",
    "decision_id",
    "card_uuid",
    "ruleset_id",
    "ruleset_version",
    "ruleset_sha256",
    "engine_version",
    "channel",
    "route",
    "hook",
    "hook_instance",
    "requester_iss",
    "requester_tenant",
    "level",
    "refer",
    "needs_review",
    "flags",
    "deciding_rules",
    "missing",
    "masked",
    "input",
    "outcome",
    "outcome_timestamp",
    "override_system",
    "override_code",
    "override_display",
    "override_comment",
    "chosen_level",
];

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON Lines, one entry per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

/// Arguments of `carelevel log export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log: `.jsonl` (JSON Lines) or `.sqlite`/`.sqlite3`/`.db` (SQLite).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Write here instead of standard output (replaced only when complete).
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Which entries.
    #[command(flatten)]
    pub filter: FilterArgs,
}

fn channel(c: Channel) -> &'static str {
    match c {
        Channel::CdsHooks => "cds-hooks",
        Channel::Api => "api",
        Channel::Cli => "cli",
    }
}

/// The CSV cells of one entry, in [`COLUMNS`] order.
pub fn cells(entry: &LogEntry) -> Vec<String> {
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    let b = |v: bool| if v { "true" } else { "false" }.to_owned();
    let mut row = vec![String::new(); COLUMNS.len()];
    let mut set = |column: &str, value: String| {
        if let Some(cell) = COLUMNS
            .iter()
            .position(|c| *c == column)
            .and_then(|i| row.get_mut(i))
        {
            *cell = value;
        }
    };
    set("kind", entry.kind().to_owned());
    set("time", entry.time().to_owned());
    match entry {
        LogEntry::Decision(d) => {
            set("decision_id", d.decision_id.clone());
            set("card_uuid", opt(&d.card_uuid));
            set("ruleset_id", d.ruleset.id.clone());
            set("ruleset_version", d.ruleset.version.clone());
            set("ruleset_sha256", d.ruleset.sha256.clone());
            set("engine_version", d.engine_version.clone());
            set("channel", channel(d.source.channel).to_owned());
            set("route", d.source.route.clone());
            set("hook", opt(&d.source.hook));
            set("hook_instance", opt(&d.source.hook_instance));
            if let Some(r) = &d.requester {
                set("requester_iss", r.iss.clone());
                set("requester_tenant", opt(&r.tenant));
            }
            set("level", d.result.level.clone());
            set("refer", b(d.result.refer));
            set("needs_review", b(d.result.needs_review));
            set("flags", d.result.flags.join(";"));
            set("deciding_rules", d.result.deciding_rules.join(";"));
            set("missing", d.result.missing.join(";"));
            set("masked", d.masked.join(";"));
            set(
                "input",
                serde_json::Value::Object(d.input.clone()).to_string(),
            );
        }
        LogEntry::Feedback(f) => {
            set("decision_id", opt(&f.decision_id));
            set("card_uuid", opt(&f.card_uuid));
            set("channel", channel(f.source.channel).to_owned());
            set("route", f.source.route.clone());
            set("hook", opt(&f.source.hook));
            set("hook_instance", opt(&f.source.hook_instance));
            if let Some(r) = &f.requester {
                set("requester_iss", r.iss.clone());
                set("requester_tenant", opt(&r.tenant));
            }
            set(
                "outcome",
                match f.outcome {
                    Outcome::Accepted => "accepted",
                    Outcome::Overridden => "overridden",
                }
                .to_owned(),
            );
            set("outcome_timestamp", opt(&f.outcome_timestamp));
            if let Some(r) = &f.override_reason {
                set("override_system", opt(&r.system));
                set("override_code", r.code.clone());
                set("override_display", opt(&r.display));
            }
            set("override_comment", opt(&f.override_comment));
            set("chosen_level", opt(&f.chosen_level));
        }
    }
    row
}

/// Run `carelevel log export`.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let filter = match args.filter.filter() {
        Ok(f) => f,
        Err(message) => return input::usage_error(err, &message),
    };
    let plan = match args.output.as_deref() {
        Some(path) => output::plan("--output", path),
        None => Ok(Plan::Stdout),
    };
    let plan = match plan.and_then(|plan| {
        let flag = if args.output.is_some() {
            "--output"
        } else {
            ""
        };
        output::check_distinct(&[(flag, &plan)], &[("the log file", args.file.as_path())])
            .map(|()| plan)
    }) {
        Ok(p) => p,
        Err(message) => return input::usage_error(err, &message),
    };
    let (mut target, warning) = match plan.open() {
        Ok(t) => t,
        Err(message) => return input::usage_error(err, &message),
    };
    if let Some(w) = warning {
        writeln!(err, "carelevel: warning: {w}")?;
    }
    let format = args.format;
    let read = {
        let sink: &mut dyn Write = match target.file() {
            Some(file) => file,
            None => out,
        };
        let mut sink = io::BufWriter::new(sink);
        if format == Format::Csv {
            sink.write_all(&carelevel_batch::csv_row(COLUMNS.iter().copied()))?;
        }
        let read = log_cmd::read_entries(&args.file, &filter, err, &mut |e| match format {
            Format::Jsonl => {
                let line = serde_json::to_string(&e.entry).map_err(io::Error::other)?;
                writeln!(sink, "{line}")
            }
            Format::Csv => {
                let cells = cells(&e.entry);
                sink.write_all(&carelevel_batch::csv_row(cells.iter().map(String::as_str)))
            }
        });
        let flushed = sink.flush();
        match (read, flushed) {
            (Ok(r), Ok(())) => Ok(r),
            (Err(e), _) | (Ok(_), Err(e)) => Err(e),
        }
    };
    let read = match read {
        Ok(Ok(read)) => read,
        Ok(Err(message)) => {
            let note = if target.is_pending() {
                "; no output file was written"
            } else {
                ""
            };
            return input::usage_error(err, &format!("{message}{note}"));
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe && matches!(target, Output::Stdout) => {
            return Err(e)
        }
        Err(e) => {
            let note = if target.is_pending() {
                "; no output file was written"
            } else {
                ""
            };
            return input::usage_error(
                err,
                &format!("cannot write the export: {}{note}", input::io_message(&e)),
            );
        }
    };
    if let Err(message) = output::commit(&mut [&mut target]) {
        return input::usage_error(err, &message);
    }
    log_cmd::finish(err, &args.file, &read)
}
