//! Python answers (a mapping of question id to value) to the core's `Answers`.
//!
//! Two paths give the same answers and the same errors:
//! - the exact path writes the mapping as a JSON object and reads it with the core's JSON
//!   reader, so every message is the one `carelevel assess` gives for a JSON file;
//! - the fast path (for `level` and `decide`) looks keys and values up in Python dicts
//!   built once per ruleset, and falls back to the exact path on anything it does not
//!   recognise, so it never reports an error of its own.
//!
//! Value rules: `None` (and a float NaN, pandas' missing marker) is unanswered; `str`,
//! `bool` and `int` (numpy scalars included) are answers; a float with a whole value is
//! that whole number; lists and dicts are reported as the wrong kind of answer; any
//! other object is a `TypeError`.

use std::fmt::Write as _;

use carelevel::{Answers, FactorKind, Ruleset};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};

use crate::errors;

/// What a float answer is: unanswered, a whole number, or a problem in words.
pub(crate) enum FloatAnswer {
    /// NaN: unanswered.
    Null,
    /// A float with a whole value.
    Whole(i64),
    /// Not usable; the core's wording of what it was.
    Invalid(String),
}

/// Read a float as the JSON reader reads the number it is written as (see
/// `write_value`): the same words for the same problem.
pub(crate) fn float_answer(v: f64) -> FloatAnswer {
    if v.is_nan() {
        FloatAnswer::Null
    } else if !v.is_finite() || v.abs() >= 9.2e18 {
        FloatAnswer::Invalid(format!(
            "a number too large to be an answer (the limit is ±{})",
            carelevel::limits::MAX_INTEGER
        ))
    } else if v.fract() != 0.0 {
        FloatAnswer::Invalid(format!("the number {v}, which is not a whole number"))
    } else {
        // A whole value below 2^63 in magnitude converts exactly.
        #[allow(clippy::cast_possible_truncation)] // reason: |v| < 9.2e18 and v is whole
        FloatAnswer::Whole(v as i64)
    }
}

/// The `(key, value)` pairs of a mapping, in its order.
fn items<'py>(
    answers: &Bound<'py, PyAny>,
) -> PyResult<Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
    if let Ok(dict) = answers.cast::<PyDict>() {
        return Ok(dict.iter().collect());
    }
    let mapping = answers.cast::<PyMapping>().map_err(|_| {
        PyTypeError::new_err(format!(
            "answers must be a mapping of question id to value (e.g. a dict), not {}",
            type_name(answers)
        ))
    })?;
    let mut out = Vec::new();
    for item in mapping.items()?.iter() {
        let pair = item.cast::<PyTuple>()?;
        out.push((pair.get_item(0)?, pair.get_item(1)?));
    }
    Ok(out)
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "an object".to_owned(), |n| format!("`{n}`"))
}

fn key_str(key: &Bound<'_, PyAny>) -> PyResult<String> {
    match key.cast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.into_owned()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "answer keys must be question ids (str), got {}",
            type_name(key)
        ))),
    }
}

fn push_json_str(out: &mut String, s: &str) -> PyResult<()> {
    let quoted = serde_json::to_string(s)
        .map_err(|e| PyTypeError::new_err(format!("cannot encode text: {e}")))?;
    out.push_str(&quoted);
    Ok(())
}

/// Append one value as JSON.
fn write_value(out: &mut String, key: &str, v: &Bound<'_, PyAny>) -> PyResult<()> {
    if v.is_none() {
        out.push_str("null");
    } else if v.is_instance_of::<PyBool>() {
        out.push_str(if v.is_truthy()? { "true" } else { "false" });
    } else if let Ok(s) = v.cast::<PyString>() {
        push_json_str(out, &s.to_cow()?)?;
    } else if let Ok(f) = v.cast::<PyFloat>() {
        let x = f.value();
        match float_answer(x) {
            FloatAnswer::Null => out.push_str("null"),
            FloatAnswer::Whole(i) => {
                let _ = write!(out, "{i}");
            }
            // The JSON reader words these exactly as `float_answer` does.
            FloatAnswer::Invalid(_) if !x.is_finite() => {
                out.push_str(if x > 0.0 { "1e300" } else { "-1e300" });
            }
            FloatAnswer::Invalid(_) => {
                let _ = write!(out, "{x:?}");
            }
        }
    } else if v.is_instance_of::<PyInt>() {
        match v.extract::<i64>() {
            Ok(i) => {
                let _ = write!(out, "{i}");
            }
            Err(_) => out.push_str(&v.str()?.to_cow()?),
        }
    } else if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        out.push_str("[]");
    } else if v.cast::<PyMapping>().is_ok() {
        out.push_str("{}");
    } else if let Ok(b) = v.extract::<bool>() {
        // numpy.bool_
        out.push_str(if b { "true" } else { "false" });
    } else if let Ok(i) = v.extract::<i64>() {
        // numpy integers (anything with `__index__`)
        let _ = write!(out, "{i}");
    } else {
        return Err(PyTypeError::new_err(format!(
            "the answer to `{key}` is {}; answers are str, int, bool or None",
            type_name(v)
        )));
    }
    Ok(())
}

/// The answers as the JSON object text the core reads, keys in the mapping's order.
pub(crate) fn answers_json(answers: &Bound<'_, PyAny>) -> PyResult<String> {
    let mut out = String::from("{");
    for (i, (k, v)) in items(answers)?.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let key = key_str(k)?;
        push_json_str(&mut out, &key)?;
        out.push(':');
        write_value(&mut out, &key, v)?;
    }
    out.push('}');
    Ok(out)
}

/// The exact path: answers as `carelevel assess` reads them from a JSON file.
pub(crate) fn answers_exact<'r>(
    py: Python<'_>,
    rs: &'r Ruleset,
    answers: &Bound<'_, PyAny>,
) -> PyResult<Answers<'r>> {
    let text = answers_json(answers)?;
    rs.answers_from_json(&text)
        .map_err(|e| errors::answers_error(py, &e))
}

/// Python-side lookup tables for the fast path, built once per ruleset.
pub(crate) struct Lookup {
    /// question id -> factor index
    factors: Py<PyDict>,
    /// per factor: for ordinal scales, value text -> code
    values: Vec<Option<Py<PyDict>>>,
}

impl Lookup {
    pub(crate) fn new(py: Python<'_>, rs: &Ruleset) -> PyResult<Lookup> {
        let factors = PyDict::new(py);
        let mut values = Vec::new();
        for (i, f) in rs.factors().iter().enumerate() {
            factors.set_item(&f.id, i)?;
            values.push(match &f.kind {
                FactorKind::Ordinal { values } => {
                    let d = PyDict::new(py);
                    for (code, v) in values.iter().enumerate() {
                        d.set_item(v, code)?;
                    }
                    Some(d.unbind())
                }
                _ => None,
            });
        }
        Ok(Lookup {
            factors: factors.unbind(),
            values,
        })
    }

    /// The code of one value, or `None` to let the exact path decide (and word the error).
    fn code(
        &self,
        py: Python<'_>,
        f: &carelevel::Factor,
        index: usize,
        v: &Bound<'_, PyAny>,
    ) -> PyResult<Option<i64>> {
        Ok(match &f.kind {
            FactorKind::Ordinal { .. } if v.is_exact_instance_of::<PyString>() => {
                match self.values.get(index).and_then(Option::as_ref) {
                    Some(d) => match d.bind(py).get_item(v)? {
                        Some(code) => Some(code.extract::<i64>()?),
                        None => None,
                    },
                    None => None,
                }
            }
            FactorKind::Boolean if v.is_instance_of::<PyBool>() => Some(i64::from(v.is_truthy()?)),
            FactorKind::Integer { min, max, .. } if v.is_exact_instance_of::<PyInt>() => v
                .extract::<i64>()
                .ok()
                .filter(|i| (*min..=*max).contains(i)),
            _ => None,
        })
    }
}

/// The fast path; falls back to [`answers_exact`] for anything unusual.
pub(crate) fn answers_fast<'r>(
    py: Python<'_>,
    rs: &'r Ruleset,
    lookup: &Lookup,
    answers: &Bound<'_, PyAny>,
) -> PyResult<Answers<'r>> {
    if let Ok(dict) = answers.cast_exact::<PyDict>() {
        let mut out = rs.new_answers();
        let factors = lookup.factors.bind(py);
        let mut ok = true;
        for (k, v) in dict.iter() {
            if v.is_none() {
                continue;
            }
            let index = match factors.get_item(&k)? {
                Some(i) => i.extract::<usize>()?,
                None => {
                    ok = false;
                    break;
                }
            };
            let code = match rs.factors().get(index) {
                Some(f) => lookup.code(py, f, index, &v)?,
                None => None,
            };
            match code {
                Some(code) if out.set_code(index, code).is_ok() => {}
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return Ok(out);
        }
    }
    answers_exact(py, rs, answers)
}
