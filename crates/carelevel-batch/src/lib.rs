//! The streaming batch pipeline behind `carelevel batch`: answer records in (JSON
//! Lines or CSV), one result record out per input record, **in input order**, in
//! bounded memory, on every core.
//!
//! ```text
//!   reader thread              worker threads (one per core)          calling thread
//!   read, cut into    ──work──▶ parse, evaluate and serialize ──done──▶ put chunks back in
//!   chunks numbered             one chunk into byte buffers            sequence order, write
//!   0, 1, 2, ...                (output, errors, tally)                them, add up tallies
//!        ▲                                                                   │
//!        └──────────── tickets: at most IN_FLIGHT chunks read, not yet written ◀┘
//! ```
//!
//! A chunk is about [`CHUNK_BYTES`] of input: whole JSON lines, or whole CSV records
//! already split into fields. The reader must hold a ticket to send a chunk, and the
//! writer gives one back for every chunk it writes, so at most `IN_FLIGHT` chunks
//! exist at once, whatever the input size and however uneven the workers are: memory
//! stays flat and the reorder buffer stays small. Every channel is bounded, and no
//! send can block forever (the bound on the work and done channels is the ticket
//! count).
//!
//! Bad records never stop the batch and are never dropped: each becomes an error
//! record with its line number (and id, when it could be read). Blank lines are
//! skipped and counted ([`Tally::blank_lines`]); they produce no record.
//!
//! The pipeline stops early only when the input cannot be read ([`Error::Input`]) or
//! the output cannot be written ([`Error::Output`], [`Error::Errors`]).

mod csv_line;
mod csv_out;
mod fhir_out;
mod json_out;
mod process;
#[cfg(test)]
mod props;
mod read;
mod records;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Mutex, PoisonError};

use carelevel::{RecordId, Ruleset};
pub use carelevel_decision_log::LogEntry;
use carelevel_fhir::response::ReadOptions;

use process::Processor;
use read::{Chunk, Source};

pub use csv_out::safe as csv_safe_cell;
pub use fhir_out::{FhirOutput, FhirOutputKind};
pub use read::CsvHeader;
pub use records::{for_each_record, CsvFields, Record, RecordContent};

/// One CSV row written exactly as `batch` writes its rows: every cell made safe for a
/// spreadsheet ([`csv_safe_cell`]: control characters escaped, a leading `'` before a
/// formula character), then quoted as RFC 4180 asks. For other commands' CSV output
/// (`carelevel log export`), so that all CSV of carelevel is escaped one way.
pub fn csv_row<'a>(cells: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let safe: Vec<std::borrow::Cow<'_, str>> = cells.into_iter().map(csv_safe_cell).collect();
    // Writing to a `Vec` cannot fail.
    let _ = w.write_record(safe.iter().map(|c| c.as_bytes()));
    w.into_inner().unwrap_or_default()
}

/// Input bytes per chunk (JSON Lines; CSV chunks hold about this many field bytes).
pub const CHUNK_BYTES: usize = 64 * 1024;

/// The longest record (one JSON line, or one CSV record's field bytes) that is read.
/// A longer record becomes an error record and is skipped, so that one runaway line
/// cannot exhaust memory.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// The most fields a CSV record may have before it is refused as too long.
pub const MAX_CSV_FIELDS: usize = 10_000;

/// The most worker threads a batch uses; [`Options::threads`] above it is cut to it.
/// Every thread adds four chunks in flight (with their output),
/// so the bound is also a bound on memory; more threads than cores only cost memory.
pub const MAX_THREADS: usize = 256;

/// Chunks read but not yet written, per worker thread.
const IN_FLIGHT_PER_WORKER: usize = 4;

/// The format of the input records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// JSON Lines: one JSON object of answers per line.
    Jsonl,
    /// CSV with a header row of question ids (and an optional id column).
    Csv,
    /// FHIR NDJSON: one `QuestionnaireResponse` per line ([`Input::fhir_ndjson`]).
    FhirNdjson,
}

/// The format of the output records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// JSON Lines: one JSON object per record.
    Jsonl,
    /// CSV with a header row; cells that a spreadsheet would run as a formula are
    /// escaped with a leading `'`.
    Csv,
}

/// How much of each result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fields {
    /// id, line, level, deciding rule ids, flag ids, refer, needs_review.
    Compact,
    /// id, line and the whole explained `Assessment`.
    Full,
}

/// How a batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Output format.
    pub format: OutputFormat,
    /// Compact or full results.
    pub fields: Fields,
    /// Worker threads (at least one and at most [`MAX_THREADS`] are used).
    pub threads: usize,
}

/// What a batch (or part of it) produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Physical lines read: `header_lines + records + blank_lines`, so that every
    /// line of the input is accounted for.
    pub lines: u64,
    /// Header lines read (the CSV header row; none in JSON Lines).
    pub header_lines: u64,
    /// Records read (one per non-blank, non-header line): `assessed + errors`.
    pub records: u64,
    /// Records assessed.
    pub assessed: u64,
    /// Records reported as errors.
    pub errors: u64,
    /// Blank lines skipped (no record).
    pub blank_lines: u64,
    /// Assessed records per level, by level index (least intensive first).
    pub levels: Vec<u64>,
    /// Assessed records per fired flag, by flag index (declaration order).
    pub flags: Vec<u64>,
    /// Assessed records with a `refer` flag.
    pub refer: u64,
    /// Assessed records that need review.
    pub needs_review: u64,
}

impl Tally {
    /// An empty tally for `ruleset` (one counter per level and per flag).
    pub fn new(ruleset: &Ruleset) -> Tally {
        Tally {
            levels: vec![0; ruleset.levels().len()],
            flags: vec![0; ruleset.flags().len()],
            ..Tally::default()
        }
    }

    /// Add `other` to this tally.
    pub fn add(&mut self, other: &Tally) {
        self.lines += other.lines;
        self.header_lines += other.header_lines;
        self.records += other.records;
        self.assessed += other.assessed;
        self.errors += other.errors;
        self.blank_lines += other.blank_lines;
        add_counts(&mut self.levels, &other.levels);
        add_counts(&mut self.flags, &other.flags);
        self.refer += other.refer;
        self.needs_review += other.needs_review;
    }
}

/// Add counters by index, growing `into` when `from` is longer.
fn add_counts(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

/// Why a batch stopped before its end.
#[derive(Debug)]
pub enum Error {
    /// The input could not be read; `line` is the line being read.
    Input {
        /// The line number being read when reading failed.
        line: u64,
        /// What went wrong.
        error: io::Error,
    },
    /// The CSV header row cannot be used (the message says why).
    Header(String),
    /// The output could not be written.
    Output(io::Error),
    /// The separate errors output could not be written.
    Errors(io::Error),
    /// A result could not be produced or serialized: a bug in carelevel.
    Internal(String),
    /// The decision log could not record a chunk's results; they were not written.
    Log(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input { line, error } => {
                write!(f, "cannot read the input at line {line}: {error}")
            }
            Error::Header(message) => f.write_str(message),
            Error::Output(error) => write!(f, "cannot write the output: {error}"),
            Error::Errors(error) => write!(f, "cannot write the errors file: {error}"),
            Error::Internal(message) => write!(f, "internal error (a bug): {message}"),
            Error::Log(message) => write!(
                f,
                "{message}; the results not yet written were not logged, so they are not written"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// An input stream, ready to be cut into chunks.
pub struct Input<'a> {
    source: Source<'a>,
    /// The field (JSON) or column (CSV) holding each record's id.
    id_field: Option<String>,
    /// Set for FHIR NDJSON: each line is a `QuestionnaireResponse`, read with these options.
    fhir: Option<ReadOptions>,
}

impl fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input").finish_non_exhaustive()
    }
}

impl<'a> Input<'a> {
    /// JSON Lines from `reader`; `id_field` (when given) is each record's id rather
    /// than a question.
    pub fn jsonl(reader: Box<dyn Read + Send + 'a>, id_field: Option<&str>) -> Input<'a> {
        Input {
            source: Source::jsonl(reader),
            id_field: id_field.map(str::to_owned),
            fhir: None,
        }
    }

    /// FHIR NDJSON from `reader` (a Bulk Data export): one `QuestionnaireResponse` per
    /// line, read by `carelevel_fhir::response` with `options`; the record id is
    /// `QuestionnaireResponse.id`. A record whose reading produced a warning (an
    /// in-progress status, a missing `questionnaire`, an ignored item, another
    /// version) is marked `needs_review`; with full fields the warnings are added to
    /// its `review_reasons` (`docs/fhir.md`).
    pub fn fhir_ndjson(reader: Box<dyn Read + Send + 'a>, options: ReadOptions) -> Input<'a> {
        Input {
            source: Source::jsonl(reader),
            id_field: None,
            fhir: Some(options),
        }
    }

    /// CSV from `reader`: reads and checks the header row now, so that a bad header
    /// is reported before any output is created. The column named `id_field` (when
    /// there is one) is each record's id.
    pub fn csv(
        reader: Box<dyn Read + Send + 'a>,
        ruleset: &Ruleset,
        id_field: Option<&str>,
    ) -> Result<(Input<'a>, CsvHeader), Error> {
        let (source, header) = Source::csv(reader, Some(ruleset), id_field)?;
        Ok((
            Input {
                source,
                id_field: id_field.map(str::to_owned),
                fhir: None,
            },
            header,
        ))
    }
}

impl<'a> Input<'a> {
    /// CSV from `reader` for a caller that maps the columns itself (`diff --cases`):
    /// the header row is read and checked now (every column named, each name once),
    /// and every column but `id_field` is listed in [`CsvHeader::questions`] by name.
    pub fn csv_columns(
        reader: Box<dyn Read + Send + 'a>,
        id_field: Option<&str>,
    ) -> Result<(Input<'a>, CsvHeader), Error> {
        let (source, header) = Source::csv(reader, None, id_field)?;
        Ok((
            Input {
                source,
                id_field: id_field.map(str::to_owned),
                fhir: None,
            },
            header,
        ))
    }
}

/// Records every assessed record in a decision log (`batch --decision-log`, the
/// service's batch route).
///
/// [`Recorder::entry`] is called on the worker threads for every record that is
/// assessed; [`Recorder::commit`] is called on the writing thread, in input order,
/// with the entries of one chunk, *before* that chunk's output is written, so no
/// result reaches the output unless its record is durable. A record whose entry
/// cannot be built (e.g. masking fails) is written as an error record instead of a
/// result; a failed commit stops the batch with [`Error::Log`].
pub trait Recorder: Sync {
    /// The log entry of one assessed record (`line` is its line number in the input).
    fn entry(
        &self,
        line: u64,
        id: Option<&RecordId>,
        answers: &carelevel::Answers<'_>,
        assessment: &carelevel::Assessment<'_>,
    ) -> Result<LogEntry, String>;

    /// Make `entries` durable (all of them, or an error).
    fn commit(&self, entries: Vec<LogEntry>) -> Result<(), String>;
}

/// Assess every record of `input` with `ruleset` and write one result record per
/// input record to `out`, in input order. Error records go to `errors` when it is
/// given, else into `out`. `progress` is called with the running tally after every
/// chunk written. Returns the final tally.
pub fn run(
    ruleset: &Ruleset,
    input: Input<'_>,
    options: &Options,
    out: &mut dyn Write,
    errors: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(&Tally),
) -> Result<Tally, Error> {
    run_with(ruleset, input, options, None, None, out, errors, progress)
}

/// [`run`] (or with `fhir`, [`run_fhir`]), recording every assessed record with
/// `recorder` before its result is written (see [`Recorder`]).
#[allow(
    clippy::too_many_arguments,
    reason = "run's arguments plus the two optional parts, each one of the caller's"
)]
pub fn run_recorded(
    ruleset: &Ruleset,
    input: Input<'_>,
    options: &Options,
    fhir: Option<FhirOutput>,
    recorder: &dyn Recorder,
    out: &mut dyn Write,
    errors: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(&Tally),
) -> Result<Tally, Error> {
    let options = match fhir {
        Some(_) => fhir_options(options),
        None => *options,
    };
    run_with(
        ruleset,
        input,
        &options,
        fhir,
        Some(recorder),
        out,
        errors,
        progress,
    )
}

/// The options of FHIR output: JSON Lines of full results.
fn fhir_options(options: &Options) -> Options {
    Options {
        format: OutputFormat::Jsonl,
        fields: Fields::Full,
        ..*options
    }
}

/// [`run`], writing each assessed record as FHIR (`fhir`): one `GuidanceResponse` or
/// CDS Hooks card per line (NDJSON), in input order, whatever `options.format` and
/// `options.fields` say. Error records are written as in JSON Lines, to `errors`
/// when it is given, else into `out`.
pub fn run_fhir(
    ruleset: &Ruleset,
    input: Input<'_>,
    options: &Options,
    fhir: FhirOutput,
    out: &mut dyn Write,
    errors: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(&Tally),
) -> Result<Tally, Error> {
    let options = fhir_options(options);
    run_with(
        ruleset,
        input,
        &options,
        Some(fhir),
        None,
        out,
        errors,
        progress,
    )
}

#[allow(
    clippy::too_many_arguments,
    reason = "the one place the public entry points meet; each argument is one of theirs"
)]
fn run_with(
    ruleset: &Ruleset,
    input: Input<'_>,
    options: &Options,
    fhir_out: Option<FhirOutput>,
    recorder: Option<&dyn Recorder>,
    out: &mut dyn Write,
    mut errors: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(&Tally),
) -> Result<Tally, Error> {
    let Input {
        mut source,
        id_field,
        fhir,
    } = input;
    let mut processor = Processor::new(
        ruleset,
        options,
        source.csv_header().cloned(),
        id_field,
        errors.is_some(),
    );
    processor.fhir = fhir;
    processor.fhir_out = fhir_out;
    processor.recorder = recorder;
    out.write_all(&processor.output_header())
        .map_err(Error::Output)?;
    if let Some(errors) = errors.as_mut() {
        errors
            .write_all(&processor.errors_header())
            .map_err(Error::Errors)?;
    }
    let mut tally = Tally::new(ruleset);
    let process = |chunk: &Chunk| processor.process(chunk);
    let read = drive(
        &mut source,
        options.threads,
        &process,
        &mut |mut done: Done| {
            if let Some(r) = recorder {
                if !done.entries.is_empty() {
                    r.commit(std::mem::take(&mut done.entries))
                        .map_err(Error::Log)?;
                }
            }
            out.write_all(&done.out).map_err(Error::Output)?;
            if let Some(errors) = errors.as_mut() {
                errors.write_all(&done.errors).map_err(Error::Errors)?;
            }
            processor.recycle(done.out);
            tally.add(&done.tally);
            progress(&tally);
            Ok(())
        },
    )?;
    tally.add(&read);
    Ok(tally)
}

/// What [`parse_only`] parses each JSON line into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceiling {
    /// `serde::de::IgnoredAny`: syntax check only, nothing built.
    IgnoredAny,
    /// `serde_json::Value`: a whole document tree per line.
    Value,
}

/// The ceiling for benchmarks: the same reader, chunks, threads and ordering as
/// [`run`], but each JSON line is only parsed by serde_json (no answers, no
/// evaluation, no output). Returns the tally (records parsed, errors, blank lines).
pub fn parse_only(input: Input<'_>, threads: usize, into: Ceiling) -> Result<Tally, Error> {
    let Input { mut source, .. } = input;
    let mut tally = Tally::default();
    let process = |chunk: &Chunk| -> Result<Done, String> {
        let mut t = Tally::default();
        if let Chunk::Lines { first_line, data } = chunk {
            process::for_each_line(data, *first_line, |_, line| {
                if line.iter().all(u8::is_ascii_whitespace) {
                    t.blank_lines += 1;
                    return;
                }
                let ok = match into {
                    Ceiling::IgnoredAny => {
                        serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
                    }
                    Ceiling::Value => serde_json::from_slice::<serde_json::Value>(line).is_ok(),
                };
                t.records += 1;
                if ok {
                    t.assessed += 1;
                } else {
                    t.errors += 1;
                }
            });
        }
        Ok(Done {
            out: Vec::new(),
            errors: Vec::new(),
            tally: t,
            entries: Vec::new(),
        })
    };
    let read = drive(&mut source, threads, &process, &mut |done: Done| {
        tally.add(&done.tally);
        Ok(())
    })?;
    tally.add(&read);
    Ok(tally)
}

/// One processed chunk: its output bytes, its error-record bytes (when errors go to a
/// separate stream) and its tally.
pub(crate) struct Done {
    pub out: Vec<u8>,
    pub errors: Vec<u8>,
    pub tally: Tally,
    /// The decision log entries of the chunk's results (with a [`Recorder`]).
    pub entries: Vec<LogEntry>,
}

/// A processed chunk as sent to the writer: its sequence number and the result (an
/// `Err` is an internal failure, e.g. a panic in a worker).
type Finished = (u64, Result<Done, String>);

/// Run the reader, the workers and the in-order writer (`sink`, on this thread).
/// Returns what the reader counted: lines, header lines and the blank lines it
/// skipped (CSV; JSON Lines blanks are counted by the workers).
fn drive<P>(
    source: &mut Source<'_>,
    threads: usize,
    process: &P,
    sink: &mut dyn FnMut(Done) -> Result<(), Error>,
) -> Result<Tally, Error>
where
    P: Fn(&Chunk) -> Result<Done, String> + Sync,
{
    let threads = threads.clamp(1, MAX_THREADS);
    let in_flight = threads.saturating_mul(IN_FLIGHT_PER_WORKER).max(2);
    let stop = AtomicBool::new(false);
    let (ticket_tx, ticket_rx) = mpsc::sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        // The channel has room for every ticket and its receiver is alive.
        let _ = ticket_tx.send(());
    }
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Chunk)>(in_flight);
    let (done_tx, done_rx) = mpsc::sync_channel::<Finished>(in_flight);
    let work_rx = Mutex::new(work_rx);

    std::thread::scope(|scope| {
        let stop = &stop;
        let reader = scope.spawn(move || read_loop(source, &ticket_rx, &work_tx, stop));
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let work_rx = &work_rx;
            scope.spawn(move || work_loop(work_rx, &done_tx, process));
        }
        drop(done_tx);
        let written = write_loop(done_rx, ticket_tx, sink, stop);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("the input reader failed".to_owned())));
        // An output error is reported before an input error: the output is what failed
        // for the user first.
        written?;
        read
    })
}

/// The reader thread: cut the input into chunks while tickets are available.
fn read_loop(
    source: &mut Source<'_>,
    tickets: &Receiver<()>,
    work: &SyncSender<(u64, Chunk)>,
    stop: &AtomicBool,
) -> Result<Tally, Error> {
    let mut seq = 0u64;
    loop {
        if tickets.recv().is_err() || stop.load(Ordering::Relaxed) {
            break;
        }
        match source.next_chunk() {
            Ok(Some(chunk)) => {
                if work.send((seq, chunk)).is_err() {
                    break;
                }
                seq += 1;
            }
            Ok(None) => break,
            Err(error) => {
                return Err(Error::Input {
                    line: source.line(),
                    error,
                })
            }
        }
    }
    Ok(source.counts())
}

/// A worker thread: process chunks until the work channel closes or the writer goes away.
fn work_loop<P>(work: &Mutex<Receiver<(u64, Chunk)>>, done: &SyncSender<Finished>, process: &P)
where
    P: Fn(&Chunk) -> Result<Done, String> + Sync,
{
    loop {
        let next = work.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((seq, chunk)) = next else { break };
        // A panic must not hang the pipeline (the writer would wait for this chunk
        // forever): it becomes an internal error that stops the batch.
        let result = panic::catch_unwind(AssertUnwindSafe(|| process(&chunk)))
            .unwrap_or_else(|_| Err(format!("a worker failed while processing chunk {seq}")));
        if done.send((seq, result)).is_err() {
            break;
        }
    }
}

/// The writer (calling thread): write chunks in sequence order, give a ticket back
/// for each. Stops at the first error, telling the reader to stop.
fn write_loop(
    done: Receiver<Finished>,
    tickets: SyncSender<()>,
    sink: &mut dyn FnMut(Done) -> Result<(), Error>,
    stop: &AtomicBool,
) -> Result<(), Error> {
    let mut pending: BTreeMap<u64, Result<Done, String>> = BTreeMap::new();
    let mut next = 0u64;
    for (seq, result) in done.iter() {
        pending.insert(seq, result);
        while let Some(result) = pending.remove(&next) {
            if let Err(e) = result.map_err(Error::Internal).and_then(&mut *sink) {
                stop.store(true, Ordering::Relaxed);
                return Err(e);
            }
            next += 1;
            // Never full (tickets out + tickets in the channel = capacity); an error
            // only means the reader has finished.
            let _ = tickets.send(());
        }
    }
    if pending.is_empty() {
        Ok(())
    } else {
        Err(Error::Internal(format!(
            "{} processed chunks were never written",
            pending.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use std::io::{self, Read};

    use super::*;

    #[test]
    fn csv_row_quotes_and_defuses_like_batch() {
        let row = csv_row(["plain", "a,b", "say \"hi\"", "=SUM(A1)", "line\nbreak", ""]);
        assert_eq!(
            String::from_utf8(row).unwrap(),
            "plain,\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),line\\nbreak,\n"
        );
    }

    /// A reader handing out 1 to 7 bytes per call, so that lines, chunks and the
    /// open-quote lookahead are cut at every possible place (also used by `props`).
    pub(super) struct Trickle<'a> {
        pub(super) data: &'a [u8],
        pub(super) step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.step = self.step % 7 + 1;
            let n = self.step.min(buf.len()).min(self.data.len());
            let (now, rest) = self.data.split_at(n);
            buf[..n].copy_from_slice(now);
            self.data = rest;
            Ok(n)
        }
    }

    fn ruleset() -> Ruleset {
        Ruleset::default_ruleset().unwrap()
    }

    /// Run a batch over `data` (read whole or trickled) and return the output, the
    /// errors stream and the tally.
    fn batch(
        rs: &Ruleset,
        data: &[u8],
        csv: bool,
        trickle: bool,
        options: &Options,
    ) -> (String, Tally) {
        let reader: Box<dyn Read + Send + '_> = if trickle {
            Box::new(Trickle { data, step: 0 })
        } else {
            Box::new(data)
        };
        let input = if csv {
            Input::csv(reader, rs, Some("id")).unwrap().0
        } else {
            Input::jsonl(reader, Some("id"))
        };
        let mut out = Vec::new();
        let tally = run(rs, input, options, &mut out, None, &mut |_| {}).unwrap();
        (String::from_utf8(out).unwrap(), tally)
    }

    const COMPACT: Options = Options {
        format: OutputFormat::Jsonl,
        fields: Fields::Compact,
        threads: 2,
    };

    /// Records cut across every possible read boundary give the same output.
    #[test]
    fn trickled_input_gives_the_same_output() {
        let rs = ruleset();
        let record = r#"{"id":"x","severity":"moderate","housing":"homeless","support":"none"}"#;
        let mut jsonl = b"\xEF\xBB\xBF".to_vec();
        for i in 0..3000 {
            jsonl.extend_from_slice(record.replace('x', &i.to_string()).as_bytes());
            jsonl.extend_from_slice(match i % 5 {
                0 => b"\r\n".as_slice(),
                1 => b"\n\n",
                2 => b"\n  \n",
                _ => b"\n",
            });
        }
        let whole = batch(&rs, &jsonl, false, false, &COMPACT);
        assert_eq!(whole.1.records, 3000);
        assert_eq!(whole.1.blank_lines, 1200);
        assert_eq!(batch(&rs, &jsonl, false, true, &COMPACT), whole);

        let mut csv = b"\xEF\xBB\xBFid,severity,housing\r\n".to_vec();
        for i in 0..3000 {
            let row = match i % 4 {
                // Left open: only this line is an error; the lookahead that names the
                // lines it would have covered sees the same bytes however they arrive.
                0 if i == 1500 => "\"open,mild,stable\r\n".to_owned(),
                0 => format!("\"{i} \"\"quoted\"\", with a comma\",mild,stable\r\n"),
                1 => format!("{i},severe,\"homeless\"\n\n"),
                2 => format!("{i},,\r\n\r\n"),
                _ => format!("{i},moderate,unstable\n"),
            };
            csv.extend_from_slice(row.as_bytes());
        }
        let whole = batch(&rs, &csv, true, false, &COMPACT);
        assert_eq!(whole.1.records, 3000);
        assert_eq!(whole.1.errors, 1);
        assert_eq!(whole.1.blank_lines, 1500);
        assert_eq!((whole.1.lines, whole.1.header_lines), (4501, 1));
        assert!(whole
            .0
            .contains(r#""id":"0 \"quoted\", with a comma","line":2,"#));
        assert!(whole.0.contains(
            r#"{"line":2252,"id":null,"error":"field 1 opens a quote that is not closed on this line (read as multi-line CSV, it would run over lines 2252 to 2253);"#
        ));
        assert!(
            whole.0.contains(r#""id":"2999","line":4501,"#),
            "{}",
            &whole.0[whole.0.len() - 300..]
        );
        assert_eq!(batch(&rs, &csv, true, true, &COMPACT), whole);
    }

    /// A record of exactly MAX_RECORD_BYTES is read; one byte more is an error record,
    /// and the records around it are unaffected.
    #[test]
    fn record_size_limit() {
        let rs = ruleset();
        let record = r#"{"severity":"mild"}"#;
        let padded = |len: usize| format!("{record}{}", " ".repeat(len - record.len()));
        let data = format!(
            "{record}\n{}\n{}\n{record}",
            padded(MAX_RECORD_BYTES),
            padded(MAX_RECORD_BYTES + 1)
        );
        let (out, tally) = batch(&rs, data.as_bytes(), false, false, &COMPACT);
        assert_eq!((tally.records, tally.errors), (4, 1));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].contains(r#""line":2,"level""#), "{}", lines[1]);
        assert_eq!(
            lines[2],
            format!(
                r#"{{"line":3,"id":null,"error":"the record is longer than {MAX_RECORD_BYTES} bytes; it was not read"}}"#
            )
        );
        assert!(lines[3].contains(r#""line":4,"level""#));

        // CSV: the limit is on the physical line, without its line end.
        let long = "x".repeat(MAX_RECORD_BYTES + 1);
        let fits = "y".repeat(MAX_RECORD_BYTES - ",mild".len());
        let csv = format!(
            "id,severity\n{long},mild\n\"{long}\n\",mild\n{fits},mild\r\n{fits},mild\nok,mild\n"
        );
        let (out, tally) = batch(&rs, csv.as_bytes(), true, false, &COMPACT);
        assert_eq!((tally.records, tally.errors), (6, 3));
        assert_eq!(tally.lines, 7);
        let lines: Vec<&str> = out.lines().collect();
        let too_long = format!("the line is longer than {MAX_RECORD_BYTES} bytes; it was not read");
        assert_eq!(
            lines[0],
            format!(r#"{{"line":2,"id":null,"error":"{too_long}"}}"#)
        );
        assert_eq!(
            lines[1],
            format!(r#"{{"line":3,"id":null,"error":"{too_long}"}}"#)
        );
        assert!(lines[2].starts_with(r#"{"line":4,"id":null,"error":"field 1 opens a quote"#));
        assert!(lines[3].starts_with(&format!(r#"{{"id":"{fits}","line":5,"#)));
        assert!(lines[4].starts_with(&format!(r#"{{"id":"{fits}","line":6,"#)));
        assert!(lines[5].starts_with(r#"{"id":"ok","line":7,"#));
    }

    /// The fast full-record writer agrees with serde on real records (it is not
    /// switched off by its own check), and the output does not depend on threads.
    #[test]
    fn fast_full_writer_stays_on() {
        let rs = ruleset();
        let data = include_bytes!("../../../examples/cases/people.jsonl");
        let options = Options {
            fields: Fields::Full,
            ..COMPACT
        };
        let processor = process::Processor::new(&rs, &options, None, Some("id".into()), false);
        let chunk = read::Chunk::Lines {
            first_line: 1,
            data: data.to_vec(),
        };
        let done = processor.process(&chunk).unwrap();
        assert!(processor.fast_full_is_on());
        assert_eq!(done.tally.records, 40);
        let (one, _) = batch(
            &rs,
            data,
            false,
            false,
            &Options {
                threads: 1,
                ..options
            },
        );
        assert_eq!(String::from_utf8(done.out).unwrap(), one);
    }
}
