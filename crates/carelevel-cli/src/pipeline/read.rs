//! The reader side: cutting JSON Lines or CSV input into chunks of whole records,
//! with the physical line number of every record.
//!
//! JSON Lines are cut at the last newline of each ~[`CHUNK_BYTES`] read; the workers
//! split the lines. CSV is split into records and fields here, by `csv-core` (the
//! state machine of the `csv` crate) driven directly: quoted fields may hold commas
//! and newlines, so records can only be found by parsing. Driving it directly gives
//! each record's exact starting line and lets blank lines be counted (the `csv`
//! crate's reader skips them without a trace).

use std::io::{self, Read};

use carelevel::Ruleset;
use csv_core::ReadRecordResult;

use super::{Error, CHUNK_BYTES, MAX_CSV_FIELDS, MAX_RECORD_BYTES};

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
#[derive(Debug, Clone, Copy)]
pub(crate) struct CsvRecord {
    /// The line the record starts on.
    pub line: u64,
    /// Where its field bytes start in the chunk's data.
    data_start: usize,
    /// Where its field ends start in the chunk's ends.
    ends_start: usize,
    /// Its number of fields (0 when `too_long`).
    pub fields: usize,
    /// Longer than [`MAX_RECORD_BYTES`] or [`MAX_CSV_FIELDS`]: its fields were dropped.
    pub too_long: bool,
}

impl CsvChunk {
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

    /// A CSV source: reads the header row and maps its columns.
    pub fn csv(
        reader: Box<dyn Read + Send + 'a>,
        ruleset: &Ruleset,
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

    /// Blank lines skipped by the reader (CSV only; JSON Lines blanks are counted by
    /// the workers).
    pub fn blank_lines(&self) -> u64 {
        match self {
            Source::Jsonl(_) => 0,
            Source::Csv(s, _) => s.blank,
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

/// CSV input, parsed into records and fields by `csv-core`.
pub(crate) struct CsvSource<'a> {
    reader: Box<dyn Read + Send + 'a>,
    core: csv_core::Reader,
    /// Input read but not yet parsed: `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    bom_checked: bool,
    /// The line number at `pos`.
    line: u64,
    /// Whether the current line has anything besides `\r` before `pos`.
    line_has_content: bool,
    /// Blank lines skipped.
    blank: u64,
    /// Scratch output of the parser.
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl<'a> CsvSource<'a> {
    fn new(reader: Box<dyn Read + Send + 'a>) -> Self {
        CsvSource {
            reader,
            // RFC 4180: `,`, `"` quoting with `""` for a quote, any of `\r`, `\n`,
            // `\r\n` ending a record.
            core: csv_core::Reader::new(),
            buf: Vec::with_capacity(CHUNK_BYTES),
            pos: 0,
            eof: false,
            bom_checked: false,
            line: 1,
            line_has_content: false,
            blank: 0,
            out: vec![0; CHUNK_BYTES],
            ends: vec![0; 256],
        }
    }

    /// Read more input; returns false when there is no more.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        let before = self.buf.len();
        self.eof = fill(&mut *self.reader, &mut self.buf, before + CHUNK_BYTES)?;
        if !self.bom_checked {
            strip_bom(&mut self.buf);
            self.bom_checked = true;
        }
        Ok(self.buf.len() > before)
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

    /// Parse the next record into `chunk`; false at the end of the input.
    fn next_record(&mut self, chunk: &mut CsvChunk) -> io::Result<bool> {
        // Line ends between records (including blank lines, which csv-core would skip
        // anyway) are consumed here, so that the record's first line is known.
        loop {
            if self.pos >= self.buf.len() && !self.fill()? {
                return Ok(false);
            }
            match self.buf.get(self.pos) {
                Some(b'\n') => {
                    if !self.line_has_content {
                        self.blank += 1;
                    }
                    self.line += 1;
                    self.line_has_content = false;
                    self.pos += 1;
                }
                Some(b'\r') => self.pos += 1,
                Some(_) => break,
                None => return Ok(false),
            }
        }
        let line = self.line;
        let data_start = chunk.data.len();
        let ends_start = chunk.ends.len();
        let mut too_long = false;
        loop {
            let input = self.buf.get(self.pos..).unwrap_or_default();
            let (result, nin, nout, nend) =
                self.core.read_record(input, &mut self.out, &mut self.ends);
            let consumed = input.get(..nin).unwrap_or_default();
            if let Some(&last) = consumed.last() {
                self.line += count_newlines(consumed);
                self.line_has_content = last != b'\n';
            }
            self.pos += nin;
            if !too_long {
                let fields = self.ends.get(..nend).unwrap_or_default();
                let out = self.out.get(..nout).unwrap_or_default();
                if chunk.data.len() - data_start + out.len() > MAX_RECORD_BYTES
                    || chunk.ends.len() - ends_start + fields.len() > MAX_CSV_FIELDS
                {
                    too_long = true;
                    chunk.data.truncate(data_start);
                    chunk.ends.truncate(ends_start);
                } else {
                    chunk.data.extend_from_slice(out);
                    chunk.ends.extend_from_slice(fields);
                }
            }
            match result {
                ReadRecordResult::InputEmpty => {
                    // At the end of the input, csv-core is called with empty input to
                    // finish the last record (it then never asks for more input).
                    if !self.fill()? && nin == 0 && self.pos >= self.buf.len() && self.eof {
                        // Cannot happen (csv-core finishes on empty input); never loop
                        // or drop the record silently.
                        return Err(io::Error::other(
                            "the CSV parser stopped in the middle of a record",
                        ));
                    }
                }
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::Record => {
                    chunk.records.push(CsvRecord {
                        line,
                        data_start,
                        ends_start,
                        fields: if too_long {
                            0
                        } else {
                            chunk.ends.len() - ends_start
                        },
                        too_long,
                    });
                    return Ok(true);
                }
                ReadRecordResult::End => return Ok(false),
            }
        }
    }
}

/// Map the header record to the ruleset's questions and the id column, collecting
/// every problem.
fn map_header(
    chunk: &CsvChunk,
    ruleset: &Ruleset,
    id_field: Option<&str>,
) -> Result<CsvHeader, Error> {
    let Some(record) = chunk.records.first() else {
        return Err(Error::Header(
            "the CSV input is empty: it needs a header row naming the questions".to_owned(),
        ));
    };
    if record.too_long {
        return Err(Error::Header(format!(
            "the CSV header row (line {}) is longer than {MAX_RECORD_BYTES} bytes or \
             {MAX_CSV_FIELDS} columns",
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
    let mut seen = vec![false; ruleset.factors().len()];
    let questions: Vec<&str> = ruleset.factors().iter().map(|f| f.id.as_str()).collect();
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
        } else if let Some(index) = ruleset.factor_index(name) {
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
    header.absent = ruleset
        .factors()
        .iter()
        .zip(&seen)
        .filter(|(_, &s)| !s)
        .map(|(f, _)| f.id.clone())
        .collect();
    Ok(header)
}
