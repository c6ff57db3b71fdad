//! `carelevel diff --cases FILE`: every case assessed under both rulesets, streamed.
//!
//! JSON Lines and CSV cases are read record by record with the batch pipeline's
//! reader (`carelevel_batch::for_each_record`: the same CSV dialect, line
//! numbers and per-line limit as `batch`), so memory stays flat whatever the number
//! of cases: only the count per (OLD level, NEW level) pair is kept, and at most
//! [`MAX_LISTED_ERRORS`] case errors, plus the id (or line) of every case whose level,
//! flags or review status changes: those lists grow with the number of people who
//! move, not with the number of cases. A YAML list is one document and is read whole
//! (within the input size limit).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use carelevel::Ruleset;
use carelevel_batch::{self as pipeline, for_each_record, Input, RecordContent};
use serde_json::{Map, Value};

use crate::input;

// The tally itself is the core's, shared with the Python binding's `carelevel.diff`.
pub use carelevel::analysis::{
    direction, CaseRef, CaseTally as Cases, MovedCases, MAX_LISTED_ERRORS,
};

/// Read the cases file at `path` and assess every case under `old` and `new`, each
/// named by its field or column `id_field`. An error names the file's problem and
/// line; the caller prefixes the file name.
pub fn count(path: &Path, old: &Ruleset, new: &Ruleset, id_field: &str) -> Result<Cases, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut cases = Cases::new(id_field);
    if matches!(ext.as_str(), "yaml" | "yml") {
        let source = input::read_source(path, "cases file")?;
        let list: Vec<Map<String, Value>> = serde_yaml::from_str(&source.text)
            .map_err(|e| format!("{}: expected a YAML list of answer maps: {e}", source.name))?;
        for (position, record) in (1..).zip(&list) {
            cases.add(old, new, position, record);
        }
        return Ok(cases);
    }
    let csv = match ext.as_str() {
        "csv" => true,
        "jsonl" | "ndjson" | "json" => false,
        _ => {
            return Err(format!(
                "{}: unsupported cases format `.{ext}`; use JSON Lines (.jsonl), CSV (.csv) \
                 or a YAML list (.yaml)",
                input::display_name(path)
            ))
        }
    };
    let name = input::display_name(path);
    let reader = open(path, &name)?;
    let (records, header) = if csv {
        let (records, header) =
            Input::csv_columns(reader, Some(id_field)).map_err(|e| read_error(&name, &e))?;
        (records, Some(header))
    } else {
        (Input::jsonl(reader, None), None)
    };
    let result = for_each_record(records, |record| {
        let line = record.line;
        let answers = match record.content {
            RecordContent::Json(bytes) => std::str::from_utf8(bytes)
                .map_err(|e| format!("not valid UTF-8 text (at byte {})", e.valid_up_to() + 1))
                .and_then(|text| {
                    serde_json::from_str(text)
                        .map_err(|e| format!("expected a JSON object of answers: {e}"))
                }),
            RecordContent::Csv(fields) => match &header {
                Some(header) => csv_case(header, &fields, id_field),
                None => Err("a CSV record in JSON input (a bug)".to_owned()),
            },
            RecordContent::Unreadable(problem) => Err(problem.to_owned()),
        }
        .map_err(|message| format!("{name}: line {line}: {message}"))?;
        cases.add(old, new, line, &answers);
        Ok::<(), String>(())
    });
    match result {
        Ok(Ok(_)) => Ok(cases),
        Ok(Err(message)) => Err(message),
        Err(e) => Err(read_error(&name, &e)),
    }
}

/// Open a cases file (or stdin for `-`).
fn open(path: &Path, name: &str) -> Result<Box<dyn Read + Send>, String> {
    if input::is_stdin(path) {
        return Ok(Box::new(io::stdin()));
    }
    if path.is_dir() {
        return Err(format!(
            "cannot read cases file `{name}`: it is a directory"
        ));
    }
    File::open(path)
        .map(|f| Box::new(f) as Box<dyn Read + Send>)
        .map_err(|e| format!("cannot read cases file `{name}`: {}", input::io_message(&e)))
}

/// A reader or header error, naming the file.
fn read_error(name: &str, e: &pipeline::Error) -> String {
    match e {
        pipeline::Error::Input { line, error } => format!(
            "cannot read cases file `{name}` at line {line}: {}",
            input::io_message(error)
        ),
        other => format!("{name}: {other}"),
    }
}

/// One CSV case: each cell is read as the answer a person would type: `true`/`false`,
/// a whole number, or a scale value; an empty cell is unanswered.
fn csv_case(
    header: &pipeline::CsvHeader,
    fields: &pipeline::CsvFields<'_>,
    id_field: &str,
) -> Result<Map<String, Value>, String> {
    if fields.len() != header.width {
        return Err(format!(
            "the record has {} fields but the header (line {}) has {}",
            fields.len(),
            header.line,
            header.width
        ));
    }
    let columns = header
        .id_column
        .map(|c| (c, id_field))
        .into_iter()
        .chain(header.questions.iter().map(|(c, n)| (*c, n.as_str())));
    let mut record = Map::new();
    for (column, name) in columns {
        let raw = fields.get(column).unwrap_or_default();
        let cell = std::str::from_utf8(raw)
            .map_err(|_| format!("column {} `{name}` is not valid UTF-8 text", column + 1))?
            .trim();
        if cell.is_empty() {
            continue;
        }
        let value = match cell {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => cell
                .parse::<i64>()
                .map_or_else(|_| Value::String(cell.to_owned()), Value::from),
        };
        record.insert(name.to_owned(), value);
    }
    Ok(record)
}
