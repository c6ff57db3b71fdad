//! `carelevel diff --cases FILE`: every case assessed under both rulesets, streamed.
//!
//! JSON Lines and CSV cases are read record by record with the batch pipeline's
//! reader (`carelevel_batch::for_each_record`: the same CSV dialect, line
//! numbers and per-line limit as `batch`), so memory stays flat whatever the number
//! of cases: only the count per (OLD level, NEW level) pair is kept, and at most
//! [`MAX_LISTED_ERRORS`] case errors. A YAML list is one document and is read whole
//! (within the input size limit).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use carelevel::Ruleset;
use carelevel_batch::{self as pipeline, for_each_record, Input, RecordContent};
use serde_json::{Map, Value};

use crate::input;

/// The most case errors listed in the report; the rest are counted.
pub const MAX_LISTED_ERRORS: usize = 1000;

/// A case from the corpus that could not be assessed under one of the rulesets.
pub struct CaseError {
    /// Its line (JSON Lines, CSV) or position (YAML list).
    pub line: u64,
    /// Its id, when it has one.
    pub id: Option<String>,
    /// Why it could not be assessed.
    pub message: String,
}

/// What the cases came to.
#[derive(Default)]
pub struct Cases {
    /// Cases per (OLD level, NEW level); `refused` for a missing required answer.
    pub pairs: BTreeMap<(String, String), u64>,
    /// The first [`MAX_LISTED_ERRORS`] cases that could not be assessed.
    pub errors: Vec<CaseError>,
    /// Cases that could not be assessed beyond those listed.
    pub unlisted_errors: u64,
    /// Answers to questions only the other ruleset asks, ignored by OLD and by NEW.
    pub ignored: [u64; 2],
}

impl Cases {
    /// Every case that could not be assessed, listed or not.
    pub fn error_count(&self) -> u64 {
        self.errors.len() as u64 + self.unlisted_errors
    }

    /// Assess one case under both rulesets.
    fn add(&mut self, old: &Ruleset, new: &Ruleset, line: u64, record: &Map<String, Value>) {
        let id = record.get("id").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let mut levels = Vec::new();
        for (r, rs) in [old, new].into_iter().enumerate() {
            // Each ruleset reads the questions it asks; answers to questions only the
            // other ruleset asks are counted, never silently dropped.
            let mut own = Map::new();
            for (k, v) in record {
                if k == "id" {
                    continue;
                }
                if rs.factor_index(k).is_some()
                    || old.factor_index(k).is_none() && new.factor_index(k).is_none()
                {
                    own.insert(k.clone(), v.clone());
                } else if let Some(n) = self.ignored.get_mut(r) {
                    *n += 1;
                }
            }
            let text = Value::Object(own).to_string();
            let level = rs
                .answers_from_json(&text)
                .map_err(|e| e.to_string())
                .and_then(|a| rs.level_for(&a).map_err(|e| e.to_string()));
            match level {
                Ok(l) => levels.push(rs.levels().get(l).map(|x| x.id.clone()).unwrap_or_default()),
                Err(e) if e.starts_with("required answers are missing") => {
                    levels.push("refused".to_owned());
                }
                Err(e) => {
                    let which = if r == 0 { "OLD" } else { "NEW" };
                    let message = format!("{which}: {e}");
                    if self.errors.len() < MAX_LISTED_ERRORS {
                        self.errors.push(CaseError { line, id, message });
                    } else {
                        self.unlisted_errors += 1;
                    }
                    return;
                }
            }
        }
        if let [a, b] = levels.as_slice() {
            *self.pairs.entry((a.clone(), b.clone())).or_default() += 1;
        }
    }
}

/// Read the cases file at `path` and assess every case under `old` and `new`. An
/// error names the file's problem and line; the caller prefixes the file name.
pub fn count(path: &Path, old: &Ruleset, new: &Ruleset) -> Result<Cases, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut cases = Cases::default();
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
            Input::csv_columns(reader, Some("id")).map_err(|e| read_error(&name, &e))?;
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
                Some(header) => csv_case(header, &fields),
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
        .map(|c| (c, "id"))
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
