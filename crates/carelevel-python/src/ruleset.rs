//! The `Ruleset` class: load, inspect, assess.

use std::sync::Arc;

use carelevel::{FactorKind, MissingPolicy};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{self, Lookup};
use crate::errors;

/// A compiled ruleset: immutable, so one object may be shared by any number of threads.
/// Evaluation releases the GIL.
#[pyclass(module = "carelevel", frozen)]
pub struct Ruleset {
    pub(crate) inner: Arc<carelevel::Ruleset>,
    lookup: Lookup,
    /// The results `assess_table` memoized, for its next calls.
    memo: crate::table::MemoSlot,
}

/// Parse JSON text produced by the core into Python objects (dicts keep field order).
pub(crate) fn json_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.getattr("loads")?.call1((text,))
}

/// Serialize a core value and hand it to Python.
pub(crate) fn to_py<'py, T: serde::Serialize>(
    py: Python<'py>,
    v: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(v)
        .map_err(|e| PyValueError::new_err(format!("cannot serialize the result: {e}")))?;
    json_to_py(py, &text)
}

impl Ruleset {
    pub(crate) fn wrap(py: Python<'_>, rs: carelevel::Ruleset) -> PyResult<Ruleset> {
        let lookup = Lookup::new(py, &rs)?;
        Ok(Ruleset {
            inner: Arc::new(rs),
            lookup,
            memo: crate::table::MemoSlot::default(),
        })
    }
}

#[pymethods]
impl Ruleset {
    /// The bundled default ruleset (the one `carelevel` uses without `--rules`).
    #[staticmethod]
    fn default(py: Python<'_>) -> PyResult<Ruleset> {
        let rs =
            carelevel::Ruleset::default_ruleset().map_err(|e| errors::ruleset_error(py, &e))?;
        Ruleset::wrap(py, rs)
    }

    /// Compile a ruleset from YAML text. Raises `RulesetError` listing every problem.
    #[staticmethod]
    fn from_yaml(py: Python<'_>, text: &str) -> PyResult<Ruleset> {
        let rs = py
            .detach(|| carelevel::Ruleset::from_yaml(text))
            .map_err(|e| errors::ruleset_error(py, &e))?;
        Ruleset::wrap(py, rs)
    }

    /// Read and compile a ruleset file. Raises `OSError` if it cannot be read and
    /// `RulesetError` if it is not a valid ruleset.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Ruleset> {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!(
                "cannot read the ruleset `{}`: {e}",
                path.display()
            ))
        })?;
        Ruleset::from_yaml(py, &text)
    }

    /// The ruleset's `id`.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.metadata().id
    }

    /// The ruleset's `version` (text).
    #[getter]
    fn version(&self) -> &str {
        &self.inner.metadata().version
    }

    /// The SHA-256 of the ruleset's source text (hex), as in an assessment's provenance.
    #[getter]
    fn sha256(&self) -> &str {
        self.inner.sha256()
    }

    /// The levels, least intensive first: dicts with `id`, `label`, `rank`, `description`.
    #[getter]
    fn levels<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (rank, l) in self.inner.levels().iter().enumerate() {
            let d = PyDict::new(py);
            d.set_item("id", &l.id)?;
            d.set_item("label", &l.label)?;
            d.set_item("rank", rank)?;
            d.set_item("description", &l.description)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// The questions in declaration order: dicts with `id`, `question`, `kind`
    /// (`ordinal`, `integer`, `boolean`), `values` (ordinal scale, least risk first, or
    /// None), `min`/`max` (integer range, or None) and `missing` (`ask`, `error`, or
    /// `{"assume": value}`).
    #[getter]
    fn questions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for f in self.inner.factors() {
            let d = PyDict::new(py);
            d.set_item("id", &f.id)?;
            d.set_item("question", &f.question)?;
            let (kind, values, range) = match &f.kind {
                FactorKind::Ordinal { values } => ("ordinal", Some(values.clone()), None),
                FactorKind::Integer { min, max, .. } => ("integer", None, Some((*min, *max))),
                FactorKind::Boolean => ("boolean", None, None),
            };
            d.set_item("kind", kind)?;
            d.set_item("values", values)?;
            d.set_item("min", range.map(|r| r.0))?;
            d.set_item("max", range.map(|r| r.1))?;
            match f.missing {
                MissingPolicy::Ask => d.set_item("missing", "ask")?,
                MissingPolicy::Error => d.set_item("missing", "error")?,
                MissingPolicy::Assume(code) => {
                    let a = PyDict::new(py);
                    a.set_item("assume", to_py(py, &f.value_of(code))?)?;
                    d.set_item("missing", a)?;
                }
            }
            list.append(d)?;
        }
        Ok(list)
    }

    /// The full, explained assessment as a dict, exactly the JSON of
    /// `carelevel assess --format json` (docs/assessment.md), field order included.
    /// Raises `AnswersError` for answers that do not fit the ruleset.
    fn assess<'py>(
        &self,
        py: Python<'py>,
        answers: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let text = convert::answers_json(answers)?;
        let rs = Arc::clone(&self.inner);
        // The core's JSON entry point: the same reader and serializer as the CLI.
        let response = py.detach(move || carelevel::json::assess_json(&rs, &text));
        let value = json_to_py(py, &response)?;
        if value.get_item("ok")?.is_truthy()? {
            return value.get_item("assessment");
        }
        let error = value.get_item("error")?;
        let message: String = error.get_item("message")?.extract()?;
        let kind: String = error.get_item("kind")?.extract()?;
        let err = if kind == "answers" {
            errors::AnswersError::new_err(message)
        } else {
            errors::EvaluationError::new_err(message)
        };
        if kind == "answers" {
            let problems = error.get_item("problems")?;
            // A problem's `location` is in the JSON text made from the dict: it means
            // nothing to the caller, and `decide` and `level` have none.
            for problem in problems.try_iter()? {
                let problem = problem?;
                if problem.contains("location")? {
                    problem.del_item("location")?;
                }
            }
            err.value(py).setattr("problems", problems)?;
        }
        Err(err)
    }

    /// The compact result as a dict: `level`, `deciding_rules`, `flags`, `refer`,
    /// `needs_review` (the fields of `carelevel batch --fields compact`).
    fn decide<'py>(
        &self,
        py: Python<'py>,
        answers: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let rs = &*self.inner;
        let answers = convert::answers_fast(py, rs, &self.lookup, answers)?;
        let decision = py
            .detach(|| {
                rs.decide(&answers).map(|d| {
                    (
                        d.level.to_owned(),
                        d.deciding_rules
                            .iter()
                            .map(|s| (*s).to_owned())
                            .collect::<Vec<_>>(),
                        d.flags.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
                        d.refer,
                        d.needs_review,
                    )
                })
            })
            .map_err(|e| errors::eval_error(py, &e))?;
        let d = PyDict::new(py);
        d.set_item("level", decision.0)?;
        d.set_item("deciding_rules", decision.1)?;
        d.set_item("flags", decision.2)?;
        d.set_item("refer", decision.3)?;
        d.set_item("needs_review", decision.4)?;
        Ok(d)
    }

    /// The recommended level's id, and nothing else (the fast path).
    fn level(&self, py: Python<'_>, answers: &Bound<'_, PyAny>) -> PyResult<String> {
        let rs = &*self.inner;
        let answers = convert::answers_fast(py, rs, &self.lookup, answers)?;
        // Released even here: with questions unanswered the exact search can take long.
        let level = py
            .detach(|| rs.level(&answers).map(|l| l.id.clone()))
            .map_err(|e| errors::eval_error(py, &e))?;
        Ok(level)
    }

    /// Assess every row of a table: a pyarrow Table or RecordBatch, a pandas or Polars
    /// DataFrame, or anything with `__arrow_c_stream__` / `__arrow_c_array__`. Columns are
    /// question ids (string, dictionary/categorical, integer, float or boolean); a null is
    /// unanswered; a question with no column is unanswered in every row. Columns in
    /// `ignore` are left out; any other column that is not a question is an
    /// `AnswersError`. Returns a pyarrow Table with one row per input row, in order:
    /// `level`, `level_lowest`, `level_highest`, `refer`, `needs_review`,
    /// `deciding_rules`, `flags`, `error`. A bad row has `error` set and nulls elsewhere;
    /// it never stops the table. The table has one record batch per 65,536 input rows.
    /// The object remembers the result of each distinct answer combination between
    /// calls (up to 2^20 of them), so one `Ruleset` reused for many batches evaluates
    /// each combination once.
    #[pyo3(signature = (data, *, ignore = Vec::new()), text_signature = "(self, data, *, ignore=())")]
    fn assess_table<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        ignore: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::table::assess_table(py, &self.inner, &self.memo, data, &ignore)
    }

    /// Whole-space analysis, as `carelevel check` runs it: a dict with `classes` (the
    /// number of answer-set classes), `combinations` (the complete answer
    /// combinations they stand for), `method` (`diagram` or `enumeration`), each count
    /// an int, or a str past 2**64, and `findings` (dicts with `severity`,
    /// `kind`, `subject`, `message`, `location` and an `example` answer set).
    #[pyo3(signature = (*, strict = false))]
    fn check<'py>(&self, py: Python<'py>, strict: bool) -> PyResult<Bound<'py, PyAny>> {
        crate::tools::check(py, &self.inner, strict)
    }

    /// The JSON Schema (draft 2020-12) of this ruleset's `"answers"` or of its
    /// `"assessment"` output, as `carelevel schema --what ...` prints it.
    #[pyo3(signature = (what = "answers"))]
    fn schema<'py>(&self, py: Python<'py>, what: &str) -> PyResult<Bound<'py, PyAny>> {
        crate::tools::schema(py, &self.inner, what)
    }

    fn __repr__(&self) -> String {
        let m = self.inner.metadata();
        format!("<carelevel.Ruleset {} {}>", m.id, m.version)
    }
}
