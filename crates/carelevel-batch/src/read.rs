//! The reader side: cutting JSON Lines or CSV input into chunks of whole records,
//! with the physical line number of every record.
//!
//! JSON Lines are cut at the last newline of each ~[`CHUNK_BYTES`] read; the workers
//! split the lines. CSV is cut into physical lines here, and each line is split into
//! the fields of one record ([`csv_line`]): a record never spans lines, so a stray
//! quote costs only its own line. A line's problem (an open quote, a stray quote, a
//! bare CR, a line over [`MAX_RECORD_BYTES`]) travels with the chunk as an error
//! record. Blank lines are counted, and every line is accounted for
//! ([`Source::counts`]).

use std::io::{self, Read};

use super::csv_line::{self, Closing, LineProblem};
use super::{Error, Tally, CHUNK_BYTES, MAX_CSV_FIELDS, MAX_RECORD_BYTES};
use carelevel::Ruleset;

/// A UTF-8 byte order mark, skipped at the start of the input.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most CSV records in one chunk (records of empty fields take no field bytes).
const MAX_CSV_RECORDS_PER_CHUNK: usize = 4096;

/// A piece of input holding whole records.
pub(crate) enum Chunk {
    /// Whole JSON lines (the last one may lack its newline at the end of the input).
    Lines {
        /// The line number of the first line.
        first_line: u64,
        /// The lines, newlines included.
        data: Vec<u8>,
    },
    /// One JSON line longer than [`MAX_RECORD_BYTES`]: skipped, reported as an error.
    TooLong {
        /// Its line number.
        line: u64,
    },
    /// CSV records split into fields.
    Csv(CsvChunk),
}

/// CSV records: the bytes of every field, one after the other, and where each ends.
#[derive(Debug, Default)]
pub(crate) struct CsvChunk {
    /// Field bytes (unquoted and unescaped) of every record.
    data: Vec<u8>,
    /// End offset of each field, relative to the start of its record in `data`.
    ends: Vec<usize>,
    /// The records.
    pub records: Vec<CsvRecord>,
}

/// One CSV record of a [`CsvChunk`].
#[derive(Debug, Clone)]
pub(crate) struct CsvRecord {
    /// The line the record starts on.
    pub line: u64,
    /// Where its field bytes start in the chunk's data.
    data_start: usize,
    /// Where its field ends start in the chunk's ends.
    ends_start: usize,
    /// Its number of fields (0 when it has a problem).
    pub fields: usize,
    /// Why the line cannot be read as a record (then it has no fields).
    pub problem: Option<String>,
}

impl CsvChunk {
    /// Add an error record for `line`.
    fn push_problem(&mut self, line: u64, problem: String) {
        self.records.push(CsvRecord {
            line,
            data_start: self.data.len(),
            ends_start: self.ends.len(),
            fields: 0,
            problem: Some(problem),
        });
    }

    /// Field `i` of `record` (unquoted bytes), if it has one.
    pub fn field(&self, record: &CsvRecord, i: usize) -> Option<&[u8]> {
        if i >= record.fields {
            return None;
        }
        let ends = self.ends.get(record.ends_start..)?;
        let start = match i.checked_sub(1) {
            Some(prev) => *ends.get(prev)?,
            None => 0,
        };
        let end = *ends.get(i)?;
        self.data
            .get(record.data_start.checked_add(start)?..record.data_start.checked_add(end)?)
    }
}

/// How the columns of a CSV input map to the ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvHeader {
    /// The line of the header row.
    pub line: u64,
    /// The number of columns: every record must have as many fields.
    pub width: usize,
    /// The column of the record id, when there is one.
    pub id_column: Option<usize>,
    /// The question columns: (column, question id).
    pub questions: Vec<(usize, String)>,
    /// Questions of the ruleset with no column: every record leaves them unanswered.
    pub absent: Vec<String>,
}

/// The input being cut into chunks.
pub(crate) enum Source<'a> {
    /// JSON Lines.
    Jsonl(JsonlSource<'a>),
    /// CSV, with its checked header.
    Csv(Box<CsvSource<'a>>, CsvHeader),
}

impl<'a> Source<'a> {
    /// A JSON Lines source.
    pub fn jsonl(reader: Box<dyn Read + Send + 'a>) -> Self {
        Source::Jsonl(JsonlSource {
            reader,
            carry: Vec::new(),
            next_line: 1,
            eof: false,
            bom_checked: false,
        })
    }

    /// A CSV source: reads the header row and maps its columns (to the ruleset's
    /// questions, or by name without one).
    pub fn csv(
        reader: Box<dyn Read + Send + 'a>,
        ruleset: Option<&Ruleset>,
        id_field: Option<&str>,
    ) -> Result<(Self, CsvHeader), Error> {
        let mut source = Box::new(CsvSource::new(reader));
        let mut chunk = CsvChunk::default();
        source
            .next_record(&mut chunk)
            .map_err(|error| Error::Input {
                line: source.line,
                error,
            })?;
        source.header_read = true;
        let header = map_header(&chunk, ruleset, id_field)?;
        Ok((Source::Csv(source, header.clone()), header))
    }

    /// The next chunk, or `None` at the end of the input.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        match self {
            Source::Jsonl(s) => s.next_chunk(),
            Source::Csv(s, _) => s.next_chunk(),
        }
    }

    /// The line being read (for input errors).
    pub fn line(&self) -> u64 {
        match self {
            Source::Jsonl(s) => s.next_line,
            Source::Csv(s, _) => s.line,
        }
    }

    /// What the reader counts: physical lines read, header lines, and blank lines
    /// skipped (CSV only; JSON Lines blanks are counted by the workers).
    pub fn counts(&self) -> Tally {
        match self {
            Source::Jsonl(s) => Tally {
                lines: s.next_line - 1,
                ..Tally::default()
            },
            Source::Csv(s, _) => Tally {
                lines: s.line - 1,
                header_lines: 1,
                blank_lines: s.blank,
                ..Tally::default()
            },
        }
    }

    /// The CSV column map, for CSV input.
    pub fn csv_header(&self) -> Option<&CsvHeader> {
        match self {
            Source::Jsonl(_) => None,
            Source::Csv(_, header) => Some(header),
        }
    }
}

/// Read from `reader` until `buf` holds `want` bytes or the input ends; returns whether
/// the input ended.
fn fill(reader: &mut (dyn Read + Send + '_), buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let Some(missing) = want.checked_sub(buf.len()).filter(|&m| m > 0) else {
        return Ok(false);
    };
    let limit = u64::try_from(missing).unwrap_or(u64::MAX);
    // `read_to_end` on a `Take` stops at the limit or at the end of the input, and
    // retries interrupted reads.
    let n = reader.take(limit).read_to_end(buf)?;
    Ok(n < missing)
}

/// Drop a UTF-8 byte order mark at the start of `buf`.
fn strip_bom(buf: &mut Vec<u8>) {
    if buf.starts_with(BOM) {
        buf.drain(..BOM.len());
    }
}

/// Newlines in `bytes`.
fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// JSON Lines input.
pub(crate) struct JsonlSource<'a> {
    reader: Box<dyn Read + Send + 'a>,
    /// The start of a line read with the previous chunk.
    carry: Vec<u8>,
    /// The line number of the next chunk's first line.
    next_line: u64,
    eof: bool,
    bom_checked: bool,
}

impl JsonlSource<'_> {
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        let mut buf = Vec::with_capacity(CHUNK_BYTES.max(self.carry.len()));
        buf.append(&mut self.carry);
        let mut want = CHUNK_BYTES;
        loop {
            if !self.eof {
                self.eof = fill(&mut *self.reader, &mut buf, want)?;
            }
            if !self.bom_checked {
                strip_bom(&mut buf);
                self.bom_checked = true;
            }
            if self.eof {
                if buf.is_empty() {
                    return Ok(None);
                }
                let lines = count_newlines(&buf) + u64::from(!buf.ends_with(b"\n"));
                return Ok(Some(self.lines(buf, lines)));
            }
            if let Some(last) = memchr::memrchr(b'\n', &buf) {
                self.carry = buf.split_off(last + 1);
                let lines = count_newlines(&buf);
                return Ok(Some(self.lines(buf, lines)));
            }
            // No newline yet: one long line.
            if buf.len() > MAX_RECORD_BYTES {
                let line = self.next_line;
                self.skip_rest_of_line()?;
                self.next_line += 1;
                return Ok(Some(Chunk::TooLong { line }));
            }
            want = want.saturating_mul(2).min(MAX_RECORD_BYTES + 1);
        }
    }

    /// A chunk of `lines` whole lines.
    fn lines(&mut self, data: Vec<u8>, lines: u64) -> Chunk {
        let first_line = self.next_line;
        self.next_line += lines;
        Chunk::Lines { first_line, data }
    }

    /// Discard input up to and including the next newline (keeping what follows).
    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            let mut buf = Vec::with_capacity(CHUNK_BYTES);
            self.eof = fill(&mut *self.reader, &mut buf, CHUNK_BYTES)?;
            if let Some(newline) = memchr::memchr(b'\n', &buf) {
                self.carry = buf.split_off(newline + 1);
                return Ok(());
            }
            if self.eof {
                return Ok(());
            }
        }
    }
}

/// One physical line found by [`CsvSource::next_line`].
enum RawLine {
    /// `buf[start..end]`, without its `\n`.
    Line { start: usize, end: usize },
    /// Longer than [`MAX_RECORD_BYTES`]: skipped up to and including its `\n`.
    TooLong,
    /// The input has ended.
    End,
}

/// CSV input, cut into physical lines, each line one record (see [`csv_line`]).
pub(crate) struct CsvSource<'a> {
    reader: Box<dyn Read + Send + 'a>,
    /// Input read but not yet cut: `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    /// How much of `buf[pos..]` is known to hold no `\n`.
    searched: usize,
    eof: bool,
    bom_checked: bool,
    /// The number of the next line.
    line: u64,
    /// Blank lines skipped.
    blank: u64,
    /// Whether the header row has been read (its problems are said without the
    /// record-level advice).
    header_read: bool,
}

impl<'a> CsvSource<'a> {
    fn new(reader: Box<dyn Read + Send + 'a>) -> Self {
        CsvSource {
            reader,
            buf: Vec::with_capacity(CHUNK_BYTES),
            pos: 0,
            searched: 0,
            eof: false,
            bom_checked: false,
            line: 1,
            blank: 0,
            header_read: false,
        }
    }

    /// Read until `buf[pos..]` holds `want` bytes or the input ends.
    fn fill(&mut self, want: usize) -> io::Result<()> {
        if self.eof {
            return Ok(());
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.eof = fill(&mut *self.reader, &mut self.buf, want)?;
        if !self.bom_checked {
            strip_bom(&mut self.buf);
            self.bom_checked = true;
        }
        Ok(())
    }

    /// Find the next physical line. The caller moves `pos` past it.
    fn next_line(&mut self) -> io::Result<RawLine> {
        loop {
            let rest = self.buf.get(self.pos..).unwrap_or_default();
            if let Some(i) = memchr::memchr(b'\n', rest.get(self.searched..).unwrap_or_default()) {
                let start = self.pos;
                let end = start + self.searched + i;
                self.searched = 0;
                return Ok(RawLine::Line { start, end });
            }
            self.searched = rest.len();
            if self.eof {
                self.searched = 0;
                return Ok(if rest.is_empty() {
                    RawLine::End
                } else {
                    RawLine::Line {
                        start: self.pos,
                        end: self.buf.len(),
                    }
                });
            }
            // One byte more than the limit may be the `\r` of a CRLF line end.
            if rest.len() > MAX_RECORD_BYTES + 1 {
                self.skip_rest_of_line()?;
                return Ok(RawLine::TooLong);
            }
            let want = (rest.len() + CHUNK_BYTES).min(MAX_RECORD_BYTES + 2);
            self.fill(want)?;
        }
    }

    /// Discard input up to and including the next newline, in bounded memory.
    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        self.searched = 0;
        loop {
            self.pos = self.buf.len();
            self.fill(CHUNK_BYTES)?;
            if let Some(i) = memchr::memchr(b'\n', &self.buf) {
                self.pos = i + 1;
                return Ok(());
            }
            if self.eof {
                self.pos = self.buf.len();
                return Ok(());
            }
        }
    }

    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        let mut chunk = CsvChunk::default();
        while chunk.data.len() < CHUNK_BYTES && chunk.records.len() < MAX_CSV_RECORDS_PER_CHUNK {
            if !self.next_record(&mut chunk)? {
                break;
            }
        }
        Ok((!chunk.records.is_empty()).then_some(Chunk::Csv(chunk)))
    }

    /// Read the next non-blank line into `chunk` as one record (fields, or the
    /// reason it cannot be read); false at the end of the input.
    fn next_record(&mut self, chunk: &mut CsvChunk) -> io::Result<bool> {
        loop {
            let line = self.line;
            let (start, end) = match self.next_line()? {
                RawLine::End => return Ok(false),
                RawLine::TooLong => {
                    self.line += 1;
                    chunk.push_problem(
                        line,
                        format!(
                            "the line is longer than {MAX_RECORD_BYTES} bytes; it was not read"
                        ),
                    );
                    return Ok(true);
                }
                RawLine::Line { start, end } => (start, end),
            };
            self.line += 1;
            self.pos = (end + 1).min(self.buf.len());
            let raw = self.buf.get(start..end).unwrap_or_default();
            let content = raw.strip_suffix(b"\r").unwrap_or(raw);
            if content.is_empty() {
                self.blank += 1;
                continue;
            }
            if content.len() > MAX_RECORD_BYTES {
                chunk.push_problem(
                    line,
                    format!("the line is longer than {MAX_RECORD_BYTES} bytes; it was not read"),
                );
                return Ok(true);
            }
            let data_start = chunk.data.len();
            let ends_start = chunk.ends.len();
            match csv_line::split(content, &mut chunk.data, &mut chunk.ends, MAX_CSV_FIELDS) {
                Ok(()) => chunk.records.push(CsvRecord {
                    line,
                    data_start,
                    ends_start,
                    fields: chunk.ends.len() - ends_start,
                    problem: None,
                }),
                Err(problem) if !self.header_read => {
                    chunk.push_problem(line, problem.describe());
                }
                Err(problem) => {
                    let message = self.problem_message(line, &problem)?;
                    chunk.push_problem(line, message);
                }
            }
            return Ok(true);
        }
    }

    /// The error message for `line` (just read) and its problem. For a quote left
    /// open, it says which lines multi-line CSV would have run it over.
    fn problem_message(&mut self, line: u64, problem: &LineProblem) -> io::Result<String> {
        let text = problem.describe();
        let LineProblem::Unclosed { .. } = problem else {
            return Ok(format!("{text}; this line was not read"));
        };
        // Look ahead (without consuming) at most one record's length; `pos` is just
        // after the line.
        let window = MAX_RECORD_BYTES + 1;
        self.fill(window)?;
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let (after, complete) = match rest.get(..window) {
            Some(w) if w.len() < rest.len() || !self.eof => (w, false),
            _ => (rest, self.eof),
        };
        let more = !rest.is_empty();
        let range = match csv_line::closing(after, complete) {
            Closing::After(n) => format!(
                "read as multi-line CSV, it would run over lines {line} to {}",
                line + 1 + n
            ),
            Closing::Never => "nor anywhere before the end of the input".to_owned(),
            Closing::Beyond => format!("nor in the next {MAX_RECORD_BYTES} bytes"),
        };
        let next = if more {
            ", and the lines after it are read as records of their own"
        } else {
            ""
        };
        Ok(format!(
            "{text} ({range}); a record must be one line, so this line was not read{next}"
        ))
    }
}

/// Map the header record to the ruleset's questions and the id column, collecting
/// every problem. Without a ruleset, every other named column is taken as a question
/// by its name (each name once).
fn map_header(
    chunk: &CsvChunk,
    ruleset: Option<&Ruleset>,
    id_field: Option<&str>,
) -> Result<CsvHeader, Error> {
    let Some(record) = chunk.records.first() else {
        return Err(Error::Header(
            "the CSV input is empty: it needs a header row naming the questions".to_owned(),
        ));
    };
    if let Some(problem) = &record.problem {
        return Err(Error::Header(format!(
            "the CSV header row (line {}) cannot be read: {problem}",
            record.line
        )));
    }
    let mut header = CsvHeader {
        line: record.line,
        width: record.fields,
        id_column: None,
        questions: Vec::new(),
        absent: Vec::new(),
    };
    let mut problems = Vec::new();
    let mut seen = vec![false; ruleset.map_or(0, |r| r.factors().len())];
    let mut names = std::collections::HashSet::new();
    for column in 0..record.fields {
        let n = column + 1;
        let raw = chunk.field(record, column).unwrap_or_default();
        let Ok(name) = std::str::from_utf8(raw) else {
            problems.push(format!("column {n}: the name is not valid UTF-8 text"));
            continue;
        };
        let name = name.trim();
        if name.is_empty() {
            problems.push(format!("column {n} has no name"));
        } else if Some(name) == id_field {
            if header.id_column.is_some() {
                problems.push(format!("column {n}: the id column `{name}` appears twice"));
            }
            header.id_column = Some(column);
        } else if ruleset.is_none() {
            if names.insert(name) {
                header.questions.push((column, name.to_owned()));
            } else {
                problems.push(format!("column {n}: the name `{name}` appears twice"));
            }
        } else if let Some(index) = ruleset.and_then(|r| r.factor_index(name)) {
            match seen.get_mut(index) {
                Some(true) => {
                    problems.push(format!("column {n}: the question `{name}` appears twice"))
                }
                Some(s) => {
                    *s = true;
                    header.questions.push((column, name.to_owned()));
                }
                None => {}
            }
        } else {
            let id = id_field.map_or(String::new(), |id| format!(" nor the id column `{id}`"));
            let questions: Vec<&str> = ruleset
                .map(|r| r.factors().iter().map(|f| f.id.as_str()).collect())
                .unwrap_or_default();
            problems.push(format!(
                "column {n} `{name}` is neither a question of this ruleset{id}; the questions are: {}",
                questions.join(", ")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Header(format!(
            "the CSV header row (line {}) cannot be used:\n  {}",
            record.line,
            problems.join("\n  ")
        )));
    }
    if let Some(ruleset) = ruleset {
        header.absent = ruleset
            .factors()
            .iter()
            .zip(&seen)
            .filter(|(_, &s)| !s)
            .map(|(f, _)| f.id.clone())
            .collect();
    }
    Ok(header)
}
