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

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use carelevel::analysis::Direction;
use carelevel::text::Shown;
use carelevel::{EvalError, Ruleset};
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

/// A case as the reports name it: its id, or its line when it has none.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseRef {
    /// Its line (JSON Lines, CSV) or position (YAML list).
    pub line: u64,
    /// Its id (the `--id-field` field or column), when it has one.
    pub id: Option<String>,
}

impl fmt::Display for CaseRef {
    /// The id (escaped, capped: it comes from the cases file), or `line N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{}", Shown::excerpt(id)),
            None => write!(f, "line {}", self.line),
        }
    }
}

/// The cases that move from one level to another.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MovedCases {
    /// Escalation, de-escalation or not comparable.
    pub direction: Direction,
    /// The cases, in file order.
    pub cases: Vec<CaseRef>,
}

/// The direction of a move from level `from` to level `to` (ids, or `refused`), as
/// the whole-space diff orders them: by NEW's levels when NEW has both, else by OLD's.
pub fn direction(old: &Ruleset, new: &Ruleset, from: &str, to: &str) -> Direction {
    let rank = |rs: &Ruleset, id: &str| rs.level_index(id);
    match (
        rank(new, from),
        rank(new, to),
        rank(old, from),
        rank(old, to),
    ) {
        (Some(x), Some(y), _, _) | (_, _, Some(x), Some(y)) => {
            if y > x {
                Direction::Escalation
            } else {
                Direction::DeEscalation
            }
        }
        _ => Direction::Incomparable,
    }
}

/// The cases whose flag changes under NEW.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FlagCases {
    /// Cases the flag newly fires for.
    pub gained: Vec<CaseRef>,
    /// Cases the flag no longer fires for.
    pub lost: Vec<CaseRef>,
}

/// What the cases came to.
#[derive(Default)]
pub struct Cases {
    /// The field or column holding each case's id.
    pub id_field: String,
    /// Cases per (OLD level, NEW level); `refused` for a missing required answer.
    pub pairs: BTreeMap<(String, String), u64>,
    /// The cases that change level, per (OLD level, NEW level), in file order.
    pub moved: BTreeMap<(String, String), MovedCases>,
    /// The cases whose flags change, per flag id (flags are matched by id).
    pub flags: BTreeMap<String, FlagCases>,
    /// The cases that newly need review / no longer need review.
    pub review: FlagCases,
    /// The first [`MAX_LISTED_ERRORS`] cases that could not be assessed.
    pub errors: Vec<CaseError>,
    /// Cases that could not be assessed beyond those listed.
    pub unlisted_errors: u64,
    /// Answers to questions only the other ruleset asks, ignored by OLD and by NEW.
    pub ignored: [u64; 2],
}

/// One case under one ruleset: its level id (or `refused`), the flags that fire and
/// whether it needs review. A refused case fires no flag and needs no review, as in
/// the whole-space diff.
struct Outcome {
    level: String,
    flags: Vec<String>,
    review: bool,
}

impl Cases {
    /// No case yet, each named by the field or column `id_field`.
    pub fn new(id_field: &str) -> Cases {
        Cases {
            id_field: id_field.to_owned(),
            ..Cases::default()
        }
    }

    /// Every case that could not be assessed, listed or not.
    pub fn error_count(&self) -> u64 {
        self.errors.len() as u64 + self.unlisted_errors
    }

    /// Assess one case under both rulesets.
    fn add(&mut self, old: &Ruleset, new: &Ruleset, line: u64, record: &Map<String, Value>) {
        let id = record.get(&self.id_field).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let mut outcomes = Vec::new();
        for (r, rs) in [old, new].into_iter().enumerate() {
            // Each ruleset reads the questions it asks; answers to questions only the
            // other ruleset asks are counted, never silently dropped.
            let mut own = Map::new();
            for (k, v) in record {
                if *k == self.id_field {
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
            let outcome = rs
                .answers_from_json(&text)
                .map_err(|e| e.to_string())
                .and_then(|a| match rs.assess(&a) {
                    Ok(x) => Ok(Outcome {
                        level: x.level.id.into_owned(),
                        flags: x.flags.into_iter().map(|f| f.id.into_owned()).collect(),
                        review: x.needs_review,
                    }),
                    Err(EvalError::MissingRequired { .. }) => Ok(Outcome {
                        level: "refused".to_owned(),
                        flags: Vec::new(),
                        review: false,
                    }),
                    Err(e) => Err(e.to_string()),
                });
            match outcome {
                Ok(o) => outcomes.push(o),
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
        let [a, b] = outcomes.as_slice() else {
            return;
        };
        let case = || CaseRef {
            line,
            id: id.clone(),
        };
        let pair = (a.level.clone(), b.level.clone());
        if a.level != b.level {
            self.moved
                .entry(pair.clone())
                .or_insert_with(|| MovedCases {
                    direction: direction(old, new, &a.level, &b.level),
                    cases: Vec::new(),
                })
                .cases
                .push(case());
        }
        *self.pairs.entry(pair).or_default() += 1;
        for f in &b.flags {
            if !a.flags.contains(f) {
                self.flags.entry(f.clone()).or_default().gained.push(case());
            }
        }
        for f in &a.flags {
            if !b.flags.contains(f) {
                self.flags.entry(f.clone()).or_default().lost.push(case());
            }
        }
        match (a.review, b.review) {
            (false, true) => self.review.gained.push(case()),
            (true, false) => self.review.lost.push(case()),
            _ => {}
        }
    }
}

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
