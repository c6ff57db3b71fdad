//! Policy-author tools: `Ruleset.check`, `carelevel.diff` and `Ruleset.schema`, returning
//! the same JSON documents as the CLI, as plain Python dicts and lists.

use carelevel::analysis;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert;
use crate::ruleset::{json_to_py, to_py, Ruleset};

/// `Ruleset.check`: the core's `CheckReport`.
pub(crate) fn check<'py>(
    py: Python<'py>,
    rs: &carelevel::Ruleset,
    strict: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let report = py.detach(|| analysis::check(rs, strict)).map_err(|e| {
        crate::errors::EvaluationError::new_err(format!("whole-space analysis impossible: {e}"))
    })?;
    to_py(py, &report)
}

/// `Ruleset.schema`: the answers or assessment JSON Schema.
pub(crate) fn schema<'py>(
    py: Python<'py>,
    rs: &carelevel::Ruleset,
    what: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let schema = match what {
        "answers" => carelevel::schema::answers_schema(rs),
        "assessment" => carelevel::schema::assessment_schema(rs),
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown schema `{other}`; expected \"answers\" or \"assessment\""
            )))
        }
    };
    to_py(py, &schema)
}

/// One case's level under one ruleset, as `carelevel diff --cases` computes it: each
/// ruleset reads the questions it asks (and answers to questions neither asks, so that
/// they are reported); a required answer left out counts as `refused`.
fn case_level(
    rs: &carelevel::Ruleset,
    other: &carelevel::Ruleset,
    record: &serde_json::Map<String, serde_json::Value>,
    ignored: &mut usize,
) -> Result<String, String> {
    let mut own = serde_json::Map::new();
    for (k, v) in record {
        if k == "id" {
            continue;
        }
        if rs.factor_index(k).is_some() || other.factor_index(k).is_none() {
            own.insert(k.clone(), v.clone());
        } else {
            *ignored += 1;
        }
    }
    let text = serde_json::Value::Object(own).to_string();
    let level = rs
        .answers_from_json(&text)
        .map_err(|e| e.to_string())
        .and_then(|a| rs.level_for(&a).map_err(|e| e.to_string()));
    match level {
        Ok(l) => Ok(rs.levels().get(l).map(|x| x.id.clone()).unwrap_or_default()),
        Err(e) if e.starts_with("required answers are missing") => Ok("refused".to_owned()),
        Err(e) => Err(e),
    }
}

/// The exact impact of replacing `old` with `new`, as `carelevel diff OLD NEW
/// --format json` reports it: every answer-set class compared, with the transition
/// matrix, changed cells with examples, flag and review changes and a `summary`.
/// `cases`, an iterable of answer dicts (an `id` key names a case), adds a
/// `case_matrix` of real cases; cases that cannot be assessed are listed in
/// `case_errors` with their position (1-based) and are not counted.
#[pyfunction]
#[pyo3(signature = (old, new, *, cases = None))]
pub(crate) fn diff<'py>(
    py: Python<'py>,
    old: &Ruleset,
    new: &Ruleset,
    cases: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (o, n) = (&*old.inner, &*new.inner);
    let mut report = py
        .detach(|| analysis::diff(o, n))
        .map_err(|e| crate::errors::EvaluationError::new_err(e.to_string()))?;
    let mut case_errors = Vec::new();
    if let Some(cases) = cases {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut ignored = [0usize, 0usize];
        for (i, case) in cases.try_iter()?.enumerate() {
            let case = case?;
            let text = convert::answers_json(&case)?;
            let record: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
                .map_err(|e| PyValueError::new_err(format!("case {}: {e}", i + 1)))?;
            let id = record.get("id").map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let [io, inew] = &mut ignored;
            let levels = case_level(o, n, &record, io)
                .map_err(|e| format!("OLD: {e}"))
                .and_then(|a| {
                    case_level(n, o, &record, inew)
                        .map(|b| (a, b))
                        .map_err(|e| format!("NEW: {e}"))
                });
            match levels {
                Ok(pair) => pairs.push(pair),
                Err(message) => case_errors.push(serde_json::json!(
                    {"line": i + 1, "id": id, "error": message}
                )),
            }
        }
        for (r, count) in ignored.iter().enumerate() {
            if *count > 0 {
                report.notes.push(format!(
                    "{count} answers in the cases are to questions only {} asks; {} ignores them",
                    if r == 0 { "NEW" } else { "OLD" },
                    if r == 0 { "OLD" } else { "NEW" }
                ));
            }
        }
        report.add_cases(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    }
    let mut value = serde_json::to_value(&report)
        .map_err(|e| PyValueError::new_err(format!("cannot serialize the report: {e}")))?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "case_errors".to_owned(),
            serde_json::Value::Array(case_errors),
        );
        obj.insert(
            "summary".to_owned(),
            serde_json::Value::String(report.summary()),
        );
    }
    json_to_py(py, &value.to_string())
}
