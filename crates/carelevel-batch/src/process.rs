//! The worker side: parse, evaluate and serialize one chunk of records.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use carelevel::{AnswerProblem, Answers, AnswersError, Assessment, Decision, RecordId, Ruleset};
use serde::Serialize;

use super::csv_out;
use super::fhir_out::{FhirOutput, FromResponse};
use super::json_out::JsonCache;
use super::read::{Chunk, CsvChunk, CsvHeader, CsvRecord};
use super::{Done, Fields, Options, OutputFormat, Recorder, Tally, MAX_RECORD_BYTES};

/// Call `f(line number, line)` for every line of `data` (without its `\n` or `\r\n`).
pub(crate) fn for_each_line(data: &[u8], first_line: u64, mut f: impl FnMut(u64, &[u8])) {
    let strip_cr = |l: &'_ [u8]| -> usize { l.len() - usize::from(l.ends_with(b"\r")) };
    let mut line = first_line;
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', data) {
        let l = data.get(start..end).unwrap_or_default();
        f(line, l.get(..strip_cr(l)).unwrap_or_default());
        line += 1;
        start = end + 1;
    }
    if let Some(l) = data.get(start..).filter(|l| !l.is_empty()) {
        f(line, l.get(..strip_cr(l)).unwrap_or_default());
    }
}

/// A compact result record (JSON), as serde writes it (the reference for the fast
/// writer, [`JsonCache::compact`]).
#[cfg(test)]
#[derive(Serialize)]
pub(crate) struct CompactOut<'a> {
    pub id: Option<&'a RecordId>,
    pub line: u64,
    pub level: &'a str,
    pub deciding_rules: &'a [&'a str],
    pub flags: &'a [&'a str],
    pub refer: bool,
    pub needs_review: bool,
}

/// A full result record (JSON), as serde writes it (the reference for the fast writer,
/// [`JsonCache::full`]).
#[derive(Serialize)]
pub(crate) struct FullOut<'a> {
    pub id: Option<&'a RecordId>,
    pub line: u64,
    pub assessment: &'a Assessment<'a>,
}

/// An error record (JSON).
#[derive(Serialize)]
struct ErrorOut<'a> {
    line: u64,
    id: Option<&'a RecordId>,
    error: &'a str,
}

/// Turns chunks into output bytes; shared by every worker.
pub(crate) struct Processor<'r> {
    ruleset: &'r Ruleset,
    format: OutputFormat,
    fields: Fields,
    csv: Option<CsvHeader>,
    id_field: Option<String>,
    separate_errors: bool,
    /// Set for FHIR NDJSON input: how each `QuestionnaireResponse` is read.
    pub fhir: Option<carelevel_fhir::response::ReadOptions>,
    /// Set for FHIR output: each assessed record becomes this resource or card.
    pub fhir_out: Option<FhirOutput>,
    /// Set when every assessed record is logged (see [`Recorder`]).
    pub recorder: Option<&'r dyn Recorder>,
    json: JsonCache,
    /// Whether the fast full-record writer agrees with serde (checked on the first
    /// full record of every chunk; once off, serde writes every full record).
    fast_full: AtomicBool,
    /// The size of the last chunk's output, to allocate the next one at once.
    out_hint: AtomicUsize,
    /// Output buffers already written, for reuse (at most [`POOL`]): allocating and
    /// faulting in a fresh megabyte per chunk cost a tenth of the time of full output.
    pool: Mutex<Vec<Vec<u8>>>,
}

/// The most spare output buffers kept.
const POOL: usize = 64;

impl<'r> Processor<'r> {
    pub fn new(
        ruleset: &'r Ruleset,
        options: &Options,
        csv: Option<CsvHeader>,
        id_field: Option<String>,
        separate_errors: bool,
    ) -> Self {
        Processor {
            ruleset,
            format: options.format,
            fields: options.fields,
            csv,
            id_field,
            separate_errors,
            fhir: None,
            fhir_out: None,
            recorder: None,
            json: JsonCache::new(ruleset),
            fast_full: AtomicBool::new(true),
            out_hint: AtomicUsize::new(super::CHUNK_BYTES * 2),
            pool: Mutex::new(Vec::new()),
        }
    }

    /// Give back an output buffer that has been written.
    pub fn recycle(&self, mut buf: Vec<u8>) {
        buf.clear();
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < POOL {
            pool.push(buf);
        }
    }

    /// An empty output buffer: a recycled one, or a new one of the expected size.
    fn buffer(&self) -> Vec<u8> {
        let recycled = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let want = self.out_hint.load(Ordering::Relaxed);
        match recycled {
            Some(mut buf) => {
                buf.reserve(want);
                buf
            }
            None => Vec::with_capacity(want),
        }
    }

    /// Whether the fast full-record writer is still in use (tests).
    #[cfg(test)]
    pub fn fast_full_is_on(&self) -> bool {
        self.fast_full.load(Ordering::Relaxed)
    }

    /// The columns of the output (CSV).
    fn columns(&self) -> &'static [&'static str] {
        match self.fields {
            Fields::Compact => csv_out::COMPACT,
            Fields::Full => csv_out::FULL,
        }
    }

    /// What the output starts with: the CSV header row, or nothing.
    pub fn output_header(&self) -> Vec<u8> {
        match self.format {
            OutputFormat::Jsonl => Vec::new(),
            OutputFormat::Csv => header_row(self.columns()),
        }
    }

    /// What the separate errors output starts with.
    pub fn errors_header(&self) -> Vec<u8> {
        match self.format {
            OutputFormat::Jsonl => Vec::new(),
            OutputFormat::Csv => header_row(csv_out::ERRORS),
        }
    }

    /// Process one chunk.
    pub fn process(&self, chunk: &Chunk) -> Result<Done, String> {
        let mut sink = Sink::new(self);
        self.fill(&mut sink, chunk);
        self.out_hint.store(
            sink.out_len().saturating_add(sink.out_len() / 8),
            Ordering::Relaxed,
        );
        sink.finish()
    }

    /// Process every record of `chunk` into `sink`.
    fn fill(&self, sink: &mut Sink<'_, 'r>, chunk: &Chunk) {
        match chunk {
            Chunk::Lines { first_line, data } => {
                for_each_line(data, *first_line, |line, bytes| {
                    self.jsonl_record(sink, line, bytes);
                });
            }
            Chunk::TooLong { line } => sink.error(
                *line,
                None,
                &format!("the record is longer than {MAX_RECORD_BYTES} bytes; it was not read"),
            ),
            Chunk::Csv(records) => {
                if let Some(header) = &self.csv {
                    for record in &records.records {
                        self.csv_record(sink, header, records, record);
                    }
                }
            }
        }
    }

    /// One JSON line.
    fn jsonl_record(&self, sink: &mut Sink<'_, 'r>, line: u64, bytes: &[u8]) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            sink.tally.blank_lines += 1;
            return;
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let column = e.valid_up_to() + 1;
                return sink.error(
                    line,
                    None,
                    &format!("the record is not valid UTF-8 text (at byte {column})"),
                );
            }
        };
        if let Some(options) = &self.fhir {
            return self.fhir_record(sink, line, text, options);
        }
        // The answers and the id are reused from record to record: no allocation per
        // record on the compact path.
        let mut answers = sink
            .answers
            .take()
            .unwrap_or_else(|| Answers::new(self.ruleset));
        let mut id = sink.id.take();
        match answers.read_json_record(text, self.id_field.as_deref(), &mut id) {
            Ok(()) => self.evaluate(sink, line, id.as_ref(), &answers),
            // Each record is one line: a position "at line 1 column N" is "at column N".
            Err(e) => sink.error(
                line,
                id.as_ref(),
                &e.to_string().replace(" at line 1 column ", " at column "),
            ),
        }
        sink.answers = Some(answers);
        sink.id = id;
    }

    /// One FHIR `QuestionnaireResponse` line.
    fn fhir_record(
        &self,
        sink: &mut Sink<'_, 'r>,
        line: u64,
        text: &str,
        options: &carelevel_fhir::response::ReadOptions,
    ) {
        match carelevel_fhir::response::read_response(self.ruleset, text, options) {
            Ok(read) => {
                let id = read.id.clone().map(RecordId::Text);
                let from = FromResponse {
                    id: read.id.as_deref(),
                    subject: read.subject.as_ref(),
                };
                self.evaluate_forced(sink, line, id.as_ref(), &read.answers, &read.warnings, from);
            }
            Err(e) => {
                // The id is still worth reporting when the line is JSON with an `id`.
                let id = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                    .map(RecordId::Text);
                sink.error(
                    line,
                    id.as_ref(),
                    &e.to_string().replace(" at line 1 column ", " at column "),
                );
            }
        }
    }

    /// One CSV record.
    fn csv_record(
        &self,
        sink: &mut Sink<'_, 'r>,
        header: &CsvHeader,
        chunk: &CsvChunk,
        record: &CsvRecord,
    ) {
        let line = record.line;
        if let Some(problem) = &record.problem {
            return sink.error(line, None, problem);
        }
        if record.fields != header.width {
            // With the columns shifted, no cell (not even the id) can be trusted.
            return sink.error(
                line,
                None,
                &format!(
                    "the record has {} fields but the header (line {}) has {}",
                    record.fields, header.line, header.width
                ),
            );
        }
        let mut problems = Vec::new();
        let id = header.id_column.and_then(|column| {
            let raw = chunk.field(record, column).unwrap_or_default();
            match std::str::from_utf8(raw) {
                Ok(t) => Some(t.trim())
                    .filter(|t| !t.is_empty())
                    .map(|t| RecordId::Text(t.to_owned())),
                Err(_) => {
                    problems.push(AnswerProblem::new(
                        self.id_field.as_deref(),
                        "the record id is not valid UTF-8 text".to_owned(),
                    ));
                    None
                }
            }
        });
        let mut answers = self.ruleset.new_answers();
        for (column, question) in &header.questions {
            let raw = chunk.field(record, *column).unwrap_or_default();
            let Ok(text) = std::str::from_utf8(raw) else {
                problems.push(AnswerProblem::new(
                    Some(question),
                    "the answer is not valid UTF-8 text".to_owned(),
                ));
                continue;
            };
            let text = text.trim();
            if text.is_empty() {
                continue; // an empty cell is an unanswered question
            }
            if let Err(e) = answers.set_text(question, text) {
                problems.extend(e.problems);
            }
        }
        if problems.is_empty() {
            self.evaluate(sink, line, id.as_ref(), &answers);
        } else {
            sink.error(line, id.as_ref(), &AnswersError { problems }.to_string());
        }
    }

    /// Evaluate valid answers and write the result (or the evaluation error).
    fn evaluate(
        &self,
        sink: &mut Sink<'_, 'r>,
        line: u64,
        id: Option<&RecordId>,
        answers: &Answers<'_>,
    ) {
        self.evaluate_forced(sink, line, id, answers, &[], FromResponse::default());
    }

    /// [`Processor::evaluate`]; each of `reasons` (warnings from reading the record)
    /// sets `needs_review` and is added to the full result's `review_reasons`.
    fn evaluate_forced(
        &self,
        sink: &mut Sink<'_, 'r>,
        line: u64,
        id: Option<&RecordId>,
        answers: &Answers<'_>,
        reasons: &[String],
        from: FromResponse<'_>,
    ) {
        let review = !reasons.is_empty();
        if let Some(recorder) = self.recorder {
            // The entry needs the whole assessment, as served (review reasons applied).
            let mut a = match self.ruleset.assess(answers) {
                Ok(a) => a,
                Err(e) => return sink.error(line, id, &e.to_string()),
            };
            a.needs_review |= review;
            a.review_reasons.extend(reasons.iter().cloned());
            match recorder.entry(line, id, answers, &a) {
                Ok(entry) => sink.entries.push(entry),
                Err(e) => {
                    return sink.error(
                        line,
                        id,
                        &format!("{e}; the result was not logged, so it is not given"),
                    )
                }
            }
        }
        if let Some(fhir_out) = &self.fhir_out {
            return match self.ruleset.assess(answers) {
                Ok(mut a) => {
                    a.needs_review |= review;
                    a.review_reasons.extend(reasons.iter().cloned());
                    match fhir_out.render(line, id, answers, &a, from) {
                        Ok(value) => sink.fhir(&a, &value),
                        Err(e) => sink.error(line, id, &e),
                    }
                }
                Err(e) => sink.error(line, id, &e.to_string()),
            };
        }
        match self.fields {
            Fields::Compact => {
                // Refilled in place: its lists keep their capacity from record to record.
                let mut d = std::mem::replace(&mut sink.decision, Decision::empty());
                match self.ruleset.decide_into(answers, &mut d) {
                    Ok(()) => {
                        d.needs_review |= review;
                        sink.compact(line, id, &d);
                    }
                    Err(e) => sink.error(line, id, &e.to_string()),
                }
                sink.decision = d;
            }
            Fields::Full => match self.ruleset.assess(answers) {
                Ok(mut a) => {
                    a.needs_review |= review;
                    a.review_reasons.extend(reasons.iter().cloned());
                    sink.full(line, id, &a);
                }
                Err(e) => sink.error(line, id, &e.to_string()),
            },
        }
    }
}

/// A CSV header row.
fn header_row(columns: &[&str]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    // Writing to a `Vec` cannot fail; an empty header would show in every test.
    let _ = w.write_record(columns);
    w.into_inner().unwrap_or_default()
}

/// One output stream of a chunk.
enum Stream {
    Json(Vec<u8>),
    Csv(Box<csv::Writer<Vec<u8>>>),
}

impl Stream {
    fn new(format: OutputFormat, buf: Vec<u8>) -> Self {
        match format {
            OutputFormat::Jsonl => Stream::Json(buf),
            OutputFormat::Csv => Stream::Csv(Box::new(
                csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(buf),
            )),
        }
    }

    /// Write one CSV row.
    fn row(w: &mut csv::Writer<Vec<u8>>, row: &[Cow<'_, str>]) -> Result<(), String> {
        w.write_record(row.iter().map(|c| c.as_bytes()))
            .map_err(|e| e.to_string())
    }

    fn into_bytes(self) -> Result<Vec<u8>, String> {
        match self {
            Stream::Json(buf) => Ok(buf),
            Stream::Csv(w) => w.into_inner().map_err(|e| e.to_string()),
        }
    }
}

/// The output of one chunk being built.
struct Sink<'p, 'r> {
    p: &'p Processor<'r>,
    out: Stream,
    errors: Option<Stream>,
    tally: Tally,
    /// Whether a full record of this chunk was checked against serde.
    checked: bool,
    /// The first serialization failure (a bug), reported for the whole chunk.
    failed: Option<String>,
    /// Decision log entries of the results (with a recorder).
    entries: Vec<carelevel_decision_log::LogEntry>,
    /// Answers reused by every JSON record of the chunk.
    answers: Option<Answers<'r>>,
    /// The record id, reused likewise (a text id keeps its string).
    id: Option<RecordId>,
    /// The compact result, refilled per record.
    decision: Decision<'r>,
}

impl<'p, 'r> Sink<'p, 'r> {
    fn new(p: &'p Processor<'r>) -> Self {
        Sink {
            p,
            out: Stream::new(p.format, p.buffer()),
            errors: p.separate_errors.then(|| Stream::new(p.format, Vec::new())),
            tally: Tally::new(p.ruleset),
            checked: false,
            failed: None,
            entries: Vec::new(),
            answers: None,
            id: None,
            decision: Decision::empty(),
        }
    }

    /// Bytes of output so far.
    fn out_len(&self) -> usize {
        match &self.out {
            Stream::Json(buf) => buf.len(),
            Stream::Csv(w) => w.get_ref().len(),
        }
    }

    fn record(&mut self, result: Result<(), String>) {
        if let Err(e) = result {
            self.failed.get_or_insert(e);
        }
    }

    /// Count an assessed record.
    fn count<'a>(
        &mut self,
        level: Option<usize>,
        flags: impl Iterator<Item = &'a str>,
        refer: bool,
        needs_review: bool,
    ) {
        self.tally.records += 1;
        self.tally.assessed += 1;
        if let Some(n) = level.and_then(|l| self.tally.levels.get_mut(l)) {
            *n += 1;
        }
        for id in flags {
            if let Some(n) = self
                .p
                .json
                .flag_index(id)
                .and_then(|i| self.tally.flags.get_mut(i))
            {
                *n += 1;
            }
        }
        self.tally.refer += u64::from(refer);
        self.tally.needs_review += u64::from(needs_review);
    }

    fn compact(&mut self, line: u64, id: Option<&RecordId>, d: &Decision<'_>) {
        let level = self.p.json.level_index(d.level);
        self.count(level, d.flags.iter().copied(), d.refer, d.needs_review);
        let result = match &mut self.out {
            Stream::Json(buf) => self.p.json.compact(buf, id, line, d),
            Stream::Csv(w) => Stream::row(w, &csv_out::compact_row(id, line, d)),
        };
        self.record(result);
    }

    fn full(&mut self, line: u64, id: Option<&RecordId>, a: &Assessment<'_>) {
        self.count(
            Some(a.level.rank),
            a.flags.iter().map(|f| f.id.as_ref()),
            a.refer,
            a.needs_review,
        );
        let result = match &mut self.out {
            Stream::Json(buf) => {
                let reference = FullOut {
                    id,
                    line,
                    assessment: a,
                };
                if !self.p.fast_full.load(Ordering::Relaxed) {
                    serde_line(buf, &reference)
                } else if self.checked {
                    self.p.json.full(buf, id, line, a)
                } else {
                    self.checked = true;
                    full_checked(&self.p.json, &self.p.fast_full, buf, &reference)
                }
            }
            Stream::Csv(w) => Stream::row(w, &csv_out::full_row(id, line, a)),
        };
        self.record(result);
    }

    /// One FHIR resource or card (always JSON: FHIR output is NDJSON).
    fn fhir(&mut self, a: &Assessment<'_>, value: &serde_json::Value) {
        self.count(
            Some(a.level.rank),
            a.flags.iter().map(|f| f.id.as_ref()),
            a.refer,
            a.needs_review,
        );
        let result = match &mut self.out {
            Stream::Json(buf) => serde_line(buf, value),
            Stream::Csv(_) => Err("FHIR output is NDJSON, not CSV (a bug)".to_owned()),
        };
        self.record(result);
    }

    fn error(&mut self, line: u64, id: Option<&RecordId>, message: &str) {
        self.tally.records += 1;
        self.tally.errors += 1;
        let json = ErrorOut {
            line,
            id,
            error: message,
        };
        let width = self.p.columns().len();
        let result = match self.errors.as_mut().unwrap_or(&mut self.out) {
            Stream::Json(buf) => serde_line(buf, &json),
            Stream::Csv(w) if self.p.separate_errors => {
                Stream::row(w, &csv_out::errors_file_row(id, line, message))
            }
            Stream::Csv(w) => Stream::row(w, &csv_out::error_row(width, id, line, message)),
        };
        self.record(result);
    }

    fn finish(self) -> Result<Done, String> {
        if let Some(e) = self.failed {
            return Err(format!("cannot serialize a result: {e}"));
        }
        Ok(Done {
            out: self.out.into_bytes()?,
            errors: match self.errors {
                Some(e) => e.into_bytes()?,
                None => Vec::new(),
            },
            tally: self.tally,
            entries: self.entries,
        })
    }
}

/// One JSON line by serde.
fn serde_line(buf: &mut Vec<u8>, value: &impl Serialize) -> Result<(), String> {
    serde_json::to_writer(&mut *buf, value).map_err(|e| e.to_string())?;
    buf.push(b'\n');
    Ok(())
}

/// Write a full record with the fast writer, checked against serde: on any
/// difference, write serde's and turn the fast writer off for good.
fn full_checked(
    json: &JsonCache,
    fast: &AtomicBool,
    buf: &mut Vec<u8>,
    reference: &FullOut<'_>,
) -> Result<(), String> {
    let mut expected = Vec::new();
    serde_line(&mut expected, reference)?;
    let start = buf.len();
    json.full(buf, reference.id, reference.line, reference.assessment)?;
    if buf.get(start..) != Some(expected.as_slice()) {
        fast.store(false, Ordering::Relaxed);
        buf.truncate(start);
        buf.extend_from_slice(&expected);
    }
    Ok(())
}
