//! `carelevel batch`: assess every record of a JSON Lines or CSV file, streaming, in
//! input order, on every core. The engine is `carelevel_batch`; this module
//! maps arguments to it, opens and commits files, and reports.
//!
//! Output files are written to a temporary file beside the target and renamed over
//! it only when the batch has finished: a crash, a kill or an error never leaves a
//! partial file under the final name. What may be written, and how, is in
//! `crate::output`; SIGINT, SIGTERM and SIGHUP are handled in `crate::interrupt`
//! (only SIGKILL can leave the temporary file).

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use carelevel::text::Shown;
use carelevel::Ruleset;
use carelevel_batch::{
    self as pipeline, FhirOutput, FhirOutputKind, Fields, Input, InputFormat, Options,
    OutputFormat, Tally, MAX_THREADS,
};

use crate::fhir_out::FhirOutArgs;
use crate::fhir_read::FhirReadArgs;
use crate::input::{self, RulesArg};
use crate::output::{self, Output, Plan};
use crate::render;
use crate::{interrupt, ExitCode};

/// Input format of `batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InFormat {
    /// JSON Lines: one JSON object of answers per line.
    Jsonl,
    /// CSV: a header row of question ids (and the id column), one person per row.
    Csv,
    /// FHIR NDJSON: one QuestionnaireResponse per line (docs/fhir.md); the record id
    /// is `QuestionnaireResponse.id`.
    FhirNdjson,
}

/// Output format of `batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    /// JSON Lines: one JSON object per record.
    Jsonl,
    /// CSV with a header row (formula-like cells escaped for spreadsheets).
    Csv,
    /// NDJSON: one FHIR GuidanceResponse per record (R4, or R5 with `--fhir r5`);
    /// `--fields` does not apply. docs/fhir.md.
    GuidanceResponse,
    /// NDJSON: one CDS Hooks 2.0 card per record; `--fields` does not apply.
    CdsCard,
}

/// How much of each result `batch` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FieldsArg {
    /// id, line, level, deciding rule ids, flag ids, refer, needs_review.
    Compact,
    /// id, line and the whole explained assessment (docs/assessment.md).
    Full,
}

/// Arguments of `carelevel batch`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The ruleset to use.
    #[command(flatten)]
    pub rules: RulesArg,

    /// Input records: JSON Lines (`.jsonl`, `.ndjson`) or CSV (`.csv`), or `-` for
    /// stdin (JSON Lines unless `--input-format` says otherwise; stdin whose first line
    /// looks like a CSV header is refused with a hint).
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,

    /// Write the results to FILE instead of stdout (`-`). A regular FILE appears only
    /// when the batch is complete (written beside it under a temporary name, then
    /// renamed); a FIFO or a device is written directly. See docs/batch.md.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Output format [default: csv if `--output` ends in `.csv`, else jsonl].
    #[arg(long, value_enum)]
    pub format: Option<OutFormat>,

    /// Compact results, or the whole explained assessment of every record.
    #[arg(long, value_enum, default_value_t = FieldsArg::Compact)]
    pub fields: FieldsArg,

    /// Write error records to FILE (in the output format) instead of into the output.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,

    /// Input format, when the file name does not tell it (or for stdin).
    #[arg(long, value_enum)]
    pub input_format: Option<InFormat>,

    /// The JSON field or CSV column holding each record's id, copied to the output.
    #[arg(long, value_name = "NAME", default_value = "id")]
    pub id_field: String,

    /// Worker threads, 1 to 256 [default: the number of CPUs, at most 256].
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,

    /// How FHIR QuestionnaireResponses are read (with `--input-format fhir-ndjson`);
    /// its `--fhir r4|r5` is also the release of `--format guidance-response`.
    #[command(flatten)]
    pub fhir: FhirReadArgs,

    /// What goes into each GuidanceResponse or card (with `--format
    /// guidance-response|cds-card`).
    #[command(flatten)]
    pub fhir_out: FhirOutArgs,

    /// Also record every result in a decision log, each durable before it is written.
    #[command(flatten)]
    pub log: crate::log_opt::DecisionLogArgs,
}

/// Parse `--threads`: a whole number from 1 to [`MAX_THREADS`].
fn parse_threads(text: &str) -> Result<usize, String> {
    let range = format!("a whole number of threads from 1 to {MAX_THREADS}");
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected {range}"));
    }
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected {range}: more threads than that only use memory"
        )),
    }
}

/// The long help after the options.
const AFTER_HELP: &str = "\
One result record is written per input record, in input order, each with the \
record's line number and id. A record that cannot be assessed (malformed JSON, an \
unknown question, an answer outside its scale, a CSV row with the wrong number of \
fields, a missing required answer) does not stop the batch: it becomes an error \
record with its line, its id when it could be read, and the reason. Blank lines are \
skipped and counted in the summary. In CSV input each record is one line (a \
quoted field may hold commas, never a line break): a line with an unclosed quote, \
a quote inside an unquoted field or a bare carriage return becomes an error record \
of its own, and the next line is read as usual; an empty cell is an unanswered \
question. A summary (lines read: header, records, blank lines; levels, flags, time) \
is written to stderr. See docs/batch.md for the formats, the CSV dialect and the \
columns.

Exit codes: 0 every record was assessed; 1 the batch completed but some records \
were errors; 2 usage or input error (unreadable input, bad CSV header, invalid \
ruleset, output not writable or an input of the command): no output file is left \
behind; 130, 143, 129 interrupted by SIGINT, SIGTERM, SIGHUP: the temporary files \
are removed and no output file is created or changed.";

/// The input format chosen by `--input-format` or the file name.
fn input_format(args: &Args) -> Result<InputFormat, String> {
    if let Some(f) = args.input_format {
        return Ok(match f {
            InFormat::Jsonl => InputFormat::Jsonl,
            InFormat::Csv => InputFormat::Csv,
            InFormat::FhirNdjson => InputFormat::FhirNdjson,
        });
    }
    if input::is_stdin(&args.input) {
        return Ok(InputFormat::Jsonl);
    }
    match extension(&args.input).as_deref() {
        Some("jsonl" | "ndjson") => Ok(InputFormat::Jsonl),
        Some("csv") => Ok(InputFormat::Csv),
        _ => Err(format!(
            "cannot tell the format of `{}` from its name: name it `.jsonl`, `.ndjson` \
             or `.csv`, or pass `--input-format jsonl|csv`",
            args.input.display()
        )),
    }
}

/// The lower-case file name extension.
fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// The output file, if any (`--output -` is stdout).
fn output_path(args: &Args) -> Option<&Path> {
    args.output.as_deref().filter(|p| !input::is_stdin(p))
}

/// The output format chosen by `--format` or the `--output` file name.
fn output_format(args: &Args) -> OutputFormat {
    match args.format {
        // FHIR output is NDJSON: its error records are JSON lines.
        Some(OutFormat::Jsonl | OutFormat::GuidanceResponse | OutFormat::CdsCard) => {
            OutputFormat::Jsonl
        }
        Some(OutFormat::Csv) => OutputFormat::Csv,
        None => match output_path(args).and_then(extension).as_deref() {
            Some("csv") => OutputFormat::Csv,
            _ => OutputFormat::Jsonl,
        },
    }
}

/// The FHIR output settings, when `--format` asks for FHIR.
fn fhir_output(args: &Args) -> Result<Option<FhirOutput>, String> {
    let kind = match args.format {
        Some(OutFormat::GuidanceResponse) => {
            FhirOutputKind::GuidanceResponse(args.fhir.release.into())
        }
        Some(OutFormat::CdsCard) => FhirOutputKind::CdsCard,
        _ => return Ok(None),
    };
    Ok(Some(FhirOutput {
        kind,
        occurrence: args.fhir_out.occurrence()?,
        card_uuid: args.fhir_out.card_uuid()?,
    }))
}

/// Check every output target before anything is read: what kind of file it is, and
/// that it is no input of this command and not the other output.
fn plan_outputs(args: &Args) -> Result<(Plan, Option<Plan>), String> {
    let out = match args.output.as_deref() {
        Some(path) => output::plan("--output", path)?,
        None => Plan::Stdout,
    };
    let errors = args
        .errors
        .as_deref()
        .map(|path| output::plan("--errors", path))
        .transpose()?;
    let mut inputs = vec![("the input file", args.input.as_path())];
    if let Some(rules) = args.rules.rules.as_deref() {
        inputs.push(("the ruleset file", rules));
    }
    // The default output is named as such; one given by a flag is named by the flag.
    let out_name = if args.output.is_some() {
        "--output"
    } else {
        ""
    };
    let mut outputs = vec![(out_name, &out)];
    if let Some(e) = errors.as_ref() {
        outputs.push(("--errors", e));
    }
    output::check_distinct(&outputs, &inputs)?;
    Ok((out, errors))
}

/// Open the input (file or stdin).
fn open_input(path: &Path) -> Result<Box<dyn Read + Send>, String> {
    if input::is_stdin(path) {
        return Ok(Box::new(io::stdin()));
    }
    let name = path.display();
    if path.is_dir() {
        return Err(format!("cannot read input `{name}`: it is a directory"));
    }
    File::open(path)
        .map(|f| Box::new(f) as Box<dyn Read + Send>)
        .map_err(|e| format!("cannot read input `{name}`: {}", input::io_message(&e)))
}

/// Most bytes of standard input read ahead to look at its first line.
const SNIFF_BYTES: usize = 64 * 1024;

/// Whether the first line of an input looks like a CSV header rather than a JSON
/// Lines record: it does not start with `{` (after a BOM and blanks) and has a comma.
fn looks_like_csv(first_line: &[u8]) -> bool {
    let line = first_line
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(first_line);
    let line = line.trim_ascii_start();
    !line.is_empty() && !line.starts_with(b"{") && line.contains(&b',')
}

/// Read standard input up to its first line end (at most [`SNIFF_BYTES`]) and refuse
/// it when that line looks like a CSV header (`batch -` reads JSON Lines unless told
/// otherwise: 41 errors and no hint helped nobody). Returns the input with the bytes
/// read put back in front.
fn sniff_stdin(mut reader: Box<dyn Read + Send>) -> Result<Box<dyn Read + Send>, String> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 8192];
    while !head.contains(&b'\n') && head.len() < SNIFF_BYTES {
        let n = loop {
            match reader.read(&mut chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(format!(
                        "cannot read standard input: {}",
                        input::io_message(&e)
                    ))
                }
            }
        };
        if n == 0 {
            break;
        }
        head.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    let first = head.split(|&b| b == b'\n').next().unwrap_or_default();
    if looks_like_csv(first) {
        let shown = String::from_utf8_lossy(first);
        return Err(format!(
            "standard input looks like CSV, not JSON Lines: its first line is `{}`. \
             Pass `--input-format csv` (or `--input-format jsonl` to read it as JSON \
             Lines anyway)",
            Shown::excerpt(shown.trim_end_matches('\r'))
        ));
    }
    Ok(Box::new(io::Cursor::new(head).chain(reader)))
}

/// Progress on a terminal: records, rate, elapsed, at most a few times a second.
struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
    shown: bool,
}

impl Progress {
    fn new(started: Instant) -> Self {
        Progress {
            enabled: io::stderr().is_terminal(),
            started,
            last: started,
            shown: false,
        }
    }

    fn update(&mut self, err: &mut dyn Write, tally: &Tally) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.last = Instant::now();
        let elapsed = self.started.elapsed();
        // Progress is a courtesy: a failed write to the terminal is not an error.
        let _ = write!(
            err,
            "\r{} records, {} records/s, {:.1} s\x1b[K",
            tally.records,
            rate(tally.records, elapsed),
            elapsed.as_secs_f64()
        );
        self.shown = true;
    }

    fn clear(&self, err: &mut dyn Write) {
        if self.shown {
            let _ = write!(err, "\r\x1b[K");
        }
    }
}

/// Records per second.
fn rate(records: u64, elapsed: Duration) -> u64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        // Display only; precision loss on huge counts is irrelevant.
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a rounded rate for display"
        )]
        let r = (records as f64 / secs).round() as u64;
        r
    } else {
        0
    }
}

/// Run `carelevel batch`.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let started = Instant::now();
    let format = match input_format(args) {
        Ok(f) => f,
        Err(message) => return input::usage_error(err, &message),
    };
    let fhir = match fhir_output(args) {
        Ok(f) => f,
        Err(message) => return input::usage_error(err, &message),
    };
    let (output_plan, errors_plan) = match plan_outputs(args) {
        Ok(plans) => plans,
        Err(message) => return input::usage_error(err, &message),
    };
    if let Err(e) = interrupt::install() {
        return input::usage_error(
            err,
            &format!("cannot watch for interrupts: {}", input::io_message(&e)),
        );
    }
    let ruleset = match input::choose_ruleset(&args.rules, err)? {
        Ok(ruleset) => ruleset,
        Err(code) => return Ok(code),
    };
    let id_field = args.id_field.as_str();
    if ruleset.factor_index(id_field).is_some() {
        return input::usage_error(
            err,
            &format!(
                "`--id-field {id_field}` names a question of the ruleset; choose the field \
                 that holds the record id"
            ),
        );
    }
    let log = match crate::log_opt::BatchLog::open(&args.log, &ruleset) {
        Ok(log) => log,
        Err(message) => return input::usage_error(err, &message),
    };
    let reader = match open_input(&args.input).and_then(|r| {
        if input::is_stdin(&args.input) && args.input_format.is_none() {
            sniff_stdin(r)
        } else {
            Ok(r)
        }
    }) {
        Ok(r) => r,
        Err(message) => return input::usage_error(err, &message),
    };
    let input_name = input::display_name(&args.input);
    let batch_input = match format {
        InputFormat::Jsonl => Input::jsonl(reader, Some(id_field)),
        InputFormat::FhirNdjson => match args.fhir.options(&ruleset) {
            Ok(options) => Input::fhir_ndjson(reader, options),
            Err(message) => return input::usage_error(err, &message),
        },
        InputFormat::Csv => match Input::csv(reader, &ruleset, Some(id_field)) {
            Ok((input, header)) => {
                if header.id_column.is_none() {
                    writeln!(
                        err,
                        "carelevel: warning: `{input_name}` has no id column `{}`: \
                         records are identified by their line only",
                        Shown::excerpt(id_field)
                    )?;
                }
                if !header.absent.is_empty() {
                    writeln!(
                        err,
                        "carelevel: warning: `{input_name}` has no column for {}: every \
                         record leaves {} unanswered",
                        header.absent.join(", "),
                        if header.absent.len() == 1 {
                            "it"
                        } else {
                            "them"
                        }
                    )?;
                }
                input
            }
            Err(e) => return input::usage_error(err, &input_error(&input_name, &e)),
        },
    };

    let (mut output, mut errors) = match open_outputs(output_plan, errors_plan, err)? {
        Ok(opened) => opened,
        Err(message) => return input::usage_error(err, &message),
    };

    let options = Options {
        format: output_format(args),
        fields: match args.fields {
            FieldsArg::Compact => Fields::Compact,
            FieldsArg::Full => Fields::Full,
        },
        threads: args.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, std::num::NonZeroUsize::get)
                .min(MAX_THREADS)
        }),
    };

    let mut progress = Progress::new(started);
    let result = write_batch(
        &ruleset,
        batch_input,
        (
            &options,
            fhir,
            log.as_ref().map(|l| l as &dyn pipeline::Recorder),
        ),
        (out, &mut output),
        errors.as_mut(),
        &mut |tally| progress.update(err, tally),
    );
    progress.clear(err);

    let tally = match result {
        Ok(tally) => tally,
        Err(pipeline::Error::Output(e))
            if matches!(output, Output::Stdout) && e.kind() == io::ErrorKind::BrokenPipe =>
        {
            // The reader of stdout went away: main ends quietly.
            return Err(e);
        }
        Err(e) => {
            // `output` and `errors` are dropped on return: their temporary files are
            // deleted.
            let message = match &e {
                pipeline::Error::Output(io) => match output_path(args) {
                    Some(path) => format!(
                        "cannot write `{}`: {}",
                        path.display(),
                        input::io_message(io)
                    ),
                    None => format!("cannot write the output: {}", input::io_message(io)),
                },
                pipeline::Error::Errors(io) => format!(
                    "cannot write `{}`: {}",
                    args.errors.as_deref().unwrap_or(Path::new("")).display(),
                    input::io_message(io)
                ),
                other => input_error(&input_name, other),
            };
            let committed = if output.is_pending() {
                "; no output file was written"
            } else {
                ""
            };
            return input::usage_error(err, &format!("{message}{committed}"));
        }
    };

    let logged = match log.map(crate::log_opt::BatchLog::close).transpose() {
        Ok(n) => n,
        Err(message) => return input::usage_error(err, &message),
    };
    let mut outputs: Vec<&mut Output> = vec![&mut output];
    outputs.extend(errors.as_mut());
    if let Err(message) = output::commit(&mut outputs) {
        return input::usage_error(err, &message);
    }
    summary(err, &ruleset, &tally, args, started.elapsed())?;
    if let (Some(n), Some(path)) = (logged, &args.log.decision_log) {
        writeln!(
            err,
            "carelevel: decision log `{}`: {n} records written",
            path.display()
        )?;
    }
    Ok(if tally.errors == 0 {
        ExitCode::Success
    } else {
        ExitCode::Failure
    })
}

/// Open the planned outputs, writing any warning to `err`. Standard output as the
/// errors output is refused when the results go there too.
fn open_outputs(
    output_plan: Plan,
    errors_plan: Option<Plan>,
    err: &mut dyn Write,
) -> io::Result<Result<(Output, Option<Output>), String>> {
    let mut opened = Vec::new();
    for plan in std::iter::once(output_plan).chain(errors_plan) {
        match plan.open() {
            Ok((o, warning)) => {
                if let Some(warning) = warning {
                    writeln!(err, "carelevel: warning: {}", Shown::full(&warning))?;
                }
                opened.push(o);
            }
            // Outputs opened so far are dropped: their temporary files are deleted.
            Err(message) => return Ok(Err(message)),
        }
    }
    let mut opened = opened.into_iter();
    let output = opened.next().unwrap_or(Output::Stdout);
    Ok(Ok((output, opened.next())))
}

/// Run the pipeline into the opened outputs (buffered), flushing them at the end.
/// Standard output is `out`; an errors output on standard output shares it.
fn write_batch(
    ruleset: &Ruleset,
    batch_input: Input<'_>,
    (options, fhir, recorder): (
        &Options,
        Option<FhirOutput>,
        Option<&dyn pipeline::Recorder>,
    ),
    (out, output): (&mut dyn Write, &mut Output),
    errors: Option<&mut Output>,
    progress: &mut dyn FnMut(&Tally),
) -> Result<Tally, pipeline::Error> {
    let errors_to_stdout = matches!(errors, Some(Output::Stdout));
    let mut file_out = output
        .file()
        .map(|f| io::BufWriter::with_capacity(1 << 18, f));
    let mut file_errors = errors
        .and_then(Output::file)
        .map(|f| io::BufWriter::with_capacity(1 << 16, f));
    let (sink, errors_sink): (&mut dyn Write, Option<&mut dyn Write>) =
        match (file_out.as_mut(), file_errors.as_mut()) {
            (Some(f), Some(e)) => (f, Some(e)),
            (Some(f), None) => (f, errors_to_stdout.then_some(out)),
            (None, Some(e)) => (out, Some(e)),
            (None, None) if errors_to_stdout => {
                // `check_distinct` refuses this before anything is read.
                return Err(pipeline::Error::Internal(
                    "the results and the error records both go to standard output".to_owned(),
                ));
            }
            (None, None) => (out, None),
        };
    let tally = match (fhir, recorder) {
        (fhir, Some(recorder)) => pipeline::run_recorded(
            ruleset,
            batch_input,
            options,
            fhir,
            recorder,
            sink,
            errors_sink,
            progress,
        )?,
        (None, None) => pipeline::run(ruleset, batch_input, options, sink, errors_sink, progress)?,
        (Some(fhir), None) => pipeline::run_fhir(
            ruleset,
            batch_input,
            options,
            fhir,
            sink,
            errors_sink,
            progress,
        )?,
    };
    // Flush the buffers into the files while they are still borrowed.
    if let Some(f) = file_out.as_mut() {
        f.flush().map_err(pipeline::Error::Output)?;
    }
    if let Some(f) = file_errors.as_mut() {
        f.flush().map_err(pipeline::Error::Errors)?;
    }
    Ok(tally)
}

/// An input-side pipeline error in words, naming the input.
fn input_error(name: &str, e: &pipeline::Error) -> String {
    match e {
        pipeline::Error::Input { line, error } => format!(
            "cannot read input `{name}` at line {line}: {}",
            input::io_message(error)
        ),
        pipeline::Error::Header(message) => format!("`{name}`: {message}"),
        other => other.to_string(),
    }
}

/// `name count` pairs, in ruleset order.
fn counts<'a>(names: impl Iterator<Item = &'a str>, counts: &[u64]) -> String {
    let pairs: Vec<String> = names
        .zip(counts)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    if pairs.is_empty() {
        "none".to_owned()
    } else {
        pairs.join(", ")
    }
}

/// The summary on stderr.
fn summary(
    err: &mut dyn Write,
    ruleset: &Ruleset,
    t: &Tally,
    args: &Args,
    elapsed: Duration,
) -> io::Result<()> {
    let errors_where = match &args.errors {
        Some(path) if t.errors > 0 => format!("; error records in `{}`", path.display()),
        _ => String::new(),
    };
    let n = |count: u64, one: &str, many: &str| {
        render::plural(usize::try_from(count).unwrap_or(usize::MAX), one, many)
    };
    let header = if t.header_lines > 0 {
        format!("{}, ", n(t.header_lines, "header line", "header lines"))
    } else {
        String::new()
    };
    writeln!(
        err,
        "carelevel batch: {} read: {header}{} ({} assessed, {}), {} skipped{errors_where}",
        n(t.lines, "line", "lines"),
        n(t.records, "record", "records"),
        t.assessed,
        n(t.errors, "error", "errors"),
        n(t.blank_lines, "blank line", "blank lines"),
    )?;
    render::write_wrapped(
        err,
        "  levels: ",
        "          ",
        &counts(ruleset.levels().iter().map(|l| l.id.as_str()), &t.levels),
    )?;
    render::write_wrapped(
        err,
        "  flags: ",
        "         ",
        &counts(ruleset.flags().iter().map(|f| f.id.as_str()), &t.flags),
    )?;
    writeln!(
        err,
        "  refer: {}; needs review: {}",
        t.refer, t.needs_review
    )?;
    writeln!(
        err,
        "  time: {:.3} s, {} records/s",
        elapsed.as_secs_f64(),
        rate(t.records, elapsed)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn a_csv_header_is_told_from_a_json_lines_record() {
        assert!(looks_like_csv(b"id,severity,housing"));
        assert!(looks_like_csv(b"\xef\xbb\xbfid,severity\r"));
        assert!(!looks_like_csv(b"{\"id\": 1, \"severity\": \"mild\"}"));
        assert!(!looks_like_csv(b"  {\"a\": 1,"));
        assert!(!looks_like_csv(b""));
        // Not JSON, but not CSV either: left to the JSON Lines reader, which reports it.
        assert!(!looks_like_csv(b"severity"));
    }

    #[test]
    fn sniffing_gives_back_every_byte_read() {
        let text = format!("{{\"a\": 1}}\n{}\n", "x".repeat(100_000));
        let reader: Box<dyn Read + Send> = Box::new(io::Cursor::new(text.clone().into_bytes()));
        let mut back = String::new();
        sniff_stdin(reader)
            .unwrap()
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
        let csv: Box<dyn Read + Send> =
            Box::new(io::Cursor::new(b"id,severity\n1,mild\n".to_vec()));
        let message = sniff_stdin(csv).err().unwrap();
        assert!(message.contains("`id,severity`"), "{message}");
        assert!(message.contains("--input-format csv"), "{message}");
    }
}
