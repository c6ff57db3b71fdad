//! `assess --decision-log FILE [--decision-log-masking MASKING.json]`: opt-in logging
//! of a CLI decision to a decision log (docs/decision-log.md).
//!
//! The record is written and synced before the assessment is shown; if it cannot be
//! (bad masking, unwritable log, full disk), the assessment is not shown and the
//! exit code is 2: a decision that was asked to be logged is never shown unlogged.
//! The decision id is `cli-<unix time in nanoseconds>-<process id>`; the source is
//! channel `cli`, route `assess`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use carelevel::{Answers, Ruleset};
use carelevel_decision_log::{
    Channel, DecisionMeta, DecisionRecord, LogEntry, LogWriter, Masking, SinkConfig, Source,
    Timestamp,
};

use crate::{input, ExitCode};

/// The logging options.
#[derive(Debug, Clone, clap::Args)]
pub struct DecisionLogArgs {
    /// Also append the decision to this decision log (`.jsonl` or `.sqlite`/`.db`),
    /// synced before the result is shown.
    #[arg(long, value_name = "FILE")]
    pub decision_log: Option<PathBuf>,
    /// Masking of the logged answers, a JSON file `{"default": "keep", "fields":
    /// {"housing": "drop"}, "salt": "..."}` (default: keep every answer).
    #[arg(long, value_name = "MASKING.json", requires = "decision_log")]
    pub decision_log_masking: Option<PathBuf>,
}

/// Log the decision for `answers` if asked. `Ok(Some(code))` means stop with `code`
/// (the problem is already on `err`).
pub fn record(
    args: &DecisionLogArgs,
    route: &str,
    ruleset: &Ruleset,
    answers: &Answers<'_>,
    review_reasons: &[String],
    err: &mut dyn Write,
) -> io::Result<Option<ExitCode>> {
    let Some(path) = &args.decision_log else {
        return Ok(None);
    };
    match entry(args, route, ruleset, answers, review_reasons).and_then(|entry| {
        let config = SinkConfig::from_path(path).map_err(|e| e.to_string())?;
        let writer = LogWriter::open(&config).map_err(|e| e.to_string())?;
        writer.append(entry).map_err(|e| e.to_string())?;
        writer.close().map_err(|e| e.to_string())
    }) {
        Ok(()) => Ok(None),
        Err(message) => input::usage_error(
            err,
            &format!("{message}; the decision was not logged, so it is not shown"),
        )
        .map(Some),
    }
}

/// The decision record, masked.
fn entry(
    args: &DecisionLogArgs,
    route: &str,
    ruleset: &Ruleset,
    answers: &Answers<'_>,
    review_reasons: &[String],
) -> Result<LogEntry, String> {
    let masking = masking(args)?;
    let mut assessment = ruleset
        .assess(answers)
        .map_err(|e| format!("cannot assess these answers: {e}"))?;
    // As `assess` shows it: reasons from reading the input force review.
    assessment.needs_review |= !review_reasons.is_empty();
    let time = now()?;
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "the system clock is before 1970".to_owned())?;
    let meta = DecisionMeta {
        decision_id: format!("cli-{}-{}", since.as_nanos(), std::process::id()),
        time: time.key(),
        source: Source {
            channel: Channel::Cli,
            route: route.to_owned(),
            hook: None,
            hook_instance: None,
        },
        requester: None,
        card_uuid: None,
    };
    DecisionRecord::new(meta, answers, &assessment, &masking)
        .map(LogEntry::Decision)
        .map_err(|e| e.to_string())
}

/// `batch --decision-log`: the open log of one batch run. Every result is recorded
/// before it is written (`carelevel_batch::Recorder`); decision ids are
/// `<run>-<line>` with `<run>` = `cli-<unix time in nanoseconds>-<process id>`.
pub struct BatchLog {
    writer: LogWriter,
    masking: Masking,
    run: String,
}

impl BatchLog {
    /// Open the log of `args` (`None` without `--decision-log`), checking the masking
    /// against `ruleset` before anything is read.
    pub fn open(args: &DecisionLogArgs, ruleset: &Ruleset) -> Result<Option<BatchLog>, String> {
        let Some(path) = &args.decision_log else {
            return Ok(None);
        };
        let masking = masking(args)?;
        masking.check(ruleset).map_err(|e| e.to_string())?;
        let config = SinkConfig::from_path(path).map_err(|e| e.to_string())?;
        let writer = LogWriter::open(&config).map_err(|e| e.to_string())?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "the system clock is before 1970".to_owned())?;
        Ok(Some(BatchLog {
            writer,
            masking,
            run: format!("cli-{}-{}", now.as_nanos(), std::process::id()),
        }))
    }

    /// Flush and close; the number of records written.
    pub fn close(self) -> Result<u64, String> {
        self.writer
            .finish()
            .map(|s| s.written)
            .map_err(|e| e.to_string())
    }
}

impl carelevel_batch::Recorder for BatchLog {
    fn entry(
        &self,
        line: u64,
        _id: Option<&carelevel::RecordId>,
        answers: &Answers<'_>,
        assessment: &carelevel::Assessment<'_>,
    ) -> Result<LogEntry, String> {
        let meta = DecisionMeta {
            decision_id: format!("{}-{line}", self.run),
            time: now()?.key(),
            source: Source {
                channel: Channel::Cli,
                route: "batch".to_owned(),
                hook: None,
                hook_instance: None,
            },
            requester: None,
            card_uuid: None,
        };
        DecisionRecord::new(meta, answers, assessment, &self.masking)
            .map(LogEntry::Decision)
            .map_err(|e| {
                self.writer.count_mask_failure();
                e.to_string()
            })
    }

    fn commit(&self, entries: Vec<LogEntry>) -> Result<(), String> {
        self.writer.append_all(entries).map_err(|e| e.to_string())
    }
}

/// Now, for a record's time.
fn now() -> Result<Timestamp, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "the system clock is before 1970".to_owned())?;
    Timestamp::from_unix(now.as_secs(), now.subsec_nanos())
        .ok_or_else(|| "the system clock is past year 9999".to_owned())
}

/// The masking of `args` (keep everything without a masking file).
fn masking(args: &DecisionLogArgs) -> Result<Masking, String> {
    match &args.decision_log_masking {
        None => Ok(Masking::keep_all()),
        Some(path) => {
            let source = input::read_source(path, "masking file")?;
            serde_json::from_str(&source.text)
                .map_err(|e| format!("masking file `{}`: {e}", source.name))
        }
    }
}
