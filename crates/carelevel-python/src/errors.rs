//! The exceptions: `RulesetError`, `AnswersError` and `EvaluationError`, all `ValueError`s,
//! with the core's messages and the structured problems as attributes.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

create_exception!(
    carelevel,
    RulesetError,
    PyValueError,
    "A ruleset that cannot be used. `diagnostics` lists every problem as a dict with \
     `severity`, `path`, `line`, `column` and `message`; str() is the core's message, as \
     `carelevel check` prints it without the source excerpt."
);
create_exception!(
    carelevel,
    AnswersError,
    PyValueError,
    "Answers that do not fit the ruleset. `problems` lists every problem as a dict with \
     `factor` (or None) and `message`; str() is the message `carelevel assess` prints."
);
create_exception!(
    carelevel,
    EvaluationError,
    PyValueError,
    "Valid answers for which no level can be computed (too many unanswered questions for \
     the exact range)."
);

/// A `RulesetError` carrying the core's diagnostics.
pub(crate) fn ruleset_error(py: Python<'_>, e: &carelevel::RulesetError) -> PyErr {
    let err = RulesetError::new_err(e.to_string());
    let attach = || -> PyResult<()> {
        let list = PyList::empty(py);
        for d in &e.diagnostics {
            let item = PyDict::new(py);
            item.set_item("severity", d.severity.to_string())?;
            item.set_item("path", d.path.as_deref())?;
            item.set_item("line", d.location.map(|l| l.line))?;
            item.set_item("column", d.location.map(|l| l.column))?;
            item.set_item("message", &d.message)?;
            list.append(item)?;
        }
        err.value(py).setattr("diagnostics", list)
    };
    match attach() {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// An `AnswersError` carrying the core's problems.
pub(crate) fn answers_error(py: Python<'_>, e: &carelevel::AnswersError) -> PyErr {
    let err = AnswersError::new_err(e.to_string());
    let attach = || -> PyResult<()> {
        let list = PyList::empty(py);
        for p in &e.problems {
            let item = PyDict::new(py);
            item.set_item("factor", p.factor.as_deref())?;
            item.set_item("message", &p.message)?;
            list.append(item)?;
        }
        err.value(py).setattr("problems", list)
    };
    match attach() {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// The error for an evaluation failure: a required answer left out is the caller's
/// input (`AnswersError`, as the CLI treats it); anything else is an `EvaluationError`.
pub(crate) fn eval_error(py: Python<'_>, e: &carelevel::EvalError) -> PyErr {
    match e {
        carelevel::EvalError::MissingRequired { .. } => {
            let err = AnswersError::new_err(e.to_string());
            match err.value(py).setattr("problems", PyList::empty(py)) {
                Ok(()) => err,
                Err(other) => other,
            }
        }
        _ => EvaluationError::new_err(e.to_string()),
    }
}
