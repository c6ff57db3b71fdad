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

/// The exact impact of replacing `old` with `new`, as `carelevel diff OLD NEW
/// --format json` reports it: every answer-set class compared, with the transition
/// matrix, changed cells with examples, flag and review changes and a `summary`.
/// `cases`, an iterable of answer dicts (the `id_field` key, `id` by default, names a
/// case), adds a `case_matrix` of real cases and `case_changes`: every case that moves,
/// gains or loses a flag or review, by id or position; cases that cannot be assessed
/// are listed in `case_errors` with their position (1-based) and are not counted. The
/// tally is the core's `CaseTally`, the one `carelevel diff --cases` uses.
#[pyfunction]
#[pyo3(signature = (old, new, *, cases = None, id_field = "id"))]
pub(crate) fn diff<'py>(
    py: Python<'py>,
    old: &Ruleset,
    new: &Ruleset,
    cases: Option<&Bound<'py, PyAny>>,
    id_field: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let (o, n) = (&*old.inner, &*new.inner);
    let mut report = py
        .detach(|| analysis::diff(o, n))
        .map_err(|e| crate::errors::EvaluationError::new_err(e.to_string()))?;
    let mut tally = None;
    if let Some(cases) = cases {
        if o.factor_index(id_field).is_some() || n.factor_index(id_field).is_some() {
            return Err(PyValueError::new_err(format!(
                "id_field `{id_field}` names a question of the rulesets; choose the key \
                 that holds the case id"
            )));
        }
        let mut t = analysis::CaseTally::new(id_field);
        for (position, case) in (1u64..).zip(cases.try_iter()?) {
            let text = convert::answers_json(&case?)?;
            let record: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
                .map_err(|e| PyValueError::new_err(format!("case {position}: {e}")))?;
            t.add(o, n, position, &record);
        }
        t.apply_to(&mut report);
        tally = Some(t);
    }
    let value = analysis::diff_json(&report, tally.as_ref()).map_err(PyValueError::new_err)?;
    json_to_py(py, &value.to_string())
}
