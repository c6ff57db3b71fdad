//! Records one after the other, on the calling thread: the reader of [`super::run`]
//! (same chunks, CSV dialect, limits and line numbers) for callers that handle each
//! record themselves, such as `carelevel diff --cases`. Memory stays flat: one chunk
//! is held at a time.

use super::process::for_each_line;
use super::read::{Chunk, CsvChunk, CsvRecord};
use super::{Error, Input, Tally, MAX_RECORD_BYTES};

/// One input record and its physical line.
#[derive(Debug)]
pub struct Record<'a> {
    /// The record's line in the input (1-based; in CSV the header is a line too).
    pub line: u64,
    /// What the line holds.
    pub content: RecordContent<'a>,
}

/// What a record line holds.
#[derive(Debug)]
pub enum RecordContent<'a> {
    /// A JSON line, without its line end, not yet parsed.
    Json(&'a [u8]),
    /// The fields of a CSV record, in column order.
    Csv(CsvFields<'a>),
    /// A line that cannot be read as a record, and why (too long, a stray quote, ...).
    Unreadable(&'a str),
}

/// The fields of one CSV record (unquoted bytes).
#[derive(Clone, Copy)]
pub struct CsvFields<'a> {
    chunk: &'a CsvChunk,
    record: &'a CsvRecord,
}

impl std::fmt::Debug for CsvFields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> CsvFields<'a> {
    /// The number of fields.
    pub fn len(&self) -> usize {
        self.record.fields
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.record.fields == 0
    }

    /// Field `i` (0-based), if there is one.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.chunk.field(self.record, i)
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let fields = *self;
        (0..fields.len()).filter_map(move |i| fields.get(i))
    }
}

/// Call `f` with every record of `input`, in input order, on this thread; blank lines
/// are skipped and counted. Stops at the first error of `f` (returned as the inner
/// `Err`) or when the input cannot be read (the outer `Err`). The tally counts lines,
/// header lines, blank lines and records; `errors` counts the unreadable lines.
pub fn for_each_record<E>(
    input: Input<'_>,
    mut f: impl FnMut(Record<'_>) -> Result<(), E>,
) -> Result<Result<Tally, E>, Error> {
    let Input { mut source, .. } = input;
    let mut tally = Tally::default();
    loop {
        let chunk = match source.next_chunk() {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => {
                return Err(Error::Input {
                    line: source.line(),
                    error,
                })
            }
        };
        if let Err(e) = chunk_records(&chunk, &mut tally, &mut f) {
            return Ok(Err(e));
        }
    }
    tally.add(&source.counts());
    Ok(Ok(tally))
}

/// Call `f` with every record of one chunk.
fn chunk_records<E>(
    chunk: &Chunk,
    tally: &mut Tally,
    f: &mut impl FnMut(Record<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut result = Ok(());
    let mut give = |tally: &mut Tally, line: u64, content: RecordContent<'_>| {
        if result.is_ok() {
            tally.records += 1;
            tally.errors += u64::from(matches!(content, RecordContent::Unreadable(_)));
            result = f(Record { line, content });
        }
    };
    match chunk {
        Chunk::Lines { first_line, data } => for_each_line(data, *first_line, |line, bytes| {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                tally.blank_lines += 1;
            } else {
                give(tally, line, RecordContent::Json(bytes));
            }
        }),
        Chunk::TooLong { line } => {
            let message =
                format!("the record is longer than {MAX_RECORD_BYTES} bytes; it was not read");
            give(tally, *line, RecordContent::Unreadable(&message));
        }
        Chunk::Csv(csv) => {
            for record in &csv.records {
                let content = match &record.problem {
                    Some(problem) => RecordContent::Unreadable(problem),
                    None => RecordContent::Csv(CsvFields { chunk: csv, record }),
                };
                give(tally, record.line, content);
            }
        }
    }
    result
}
