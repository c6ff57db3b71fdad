//! `Ruleset.assess_table`: every row of an Arrow table, one result row per input row.
//!
//! 1. `decode`: each column is turned into one *slot* per row: 0 for unanswered,
//!    `1 + class` for an answer (its class in the sense of `Factor::classes`: answers
//!    in one class get identical results), or `BAD` with the core's message.
//! 2. `eval`: the slots of a row form a mixed-radix key. Results are memoized per key,
//!    so each distinct answer combination is evaluated once by the core.
//! 3. `output`: the output columns are built directly as Arrow arrays.

mod decode;
mod eval;
mod output;

use std::sync::Arc;

use arrow_schema::{DataType, Schema};
use carelevel::{AnswerProblem, FactorIndex, Ruleset};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::arrow_ffi;
use crate::errors;
use decode::Encoder;
use eval::{evaluate_batch, Evaluator};
use output::{build_batch, output_schema, Ids};

/// Which factor each answer column feeds, in column order.
struct Plan {
    columns: Vec<(usize, FactorIndex)>,
}

fn supported(dt: &DataType) -> bool {
    use DataType as D;
    match dt {
        D::Utf8 | D::LargeUtf8 | D::Utf8View | D::Boolean | D::Null => true,
        D::Int8 | D::Int16 | D::Int32 | D::Int64 => true,
        D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64 => true,
        D::Float32 | D::Float64 => true,
        D::Dictionary(key, value) => {
            key.is_dictionary_key_type() && matches!(**value, D::Utf8 | D::LargeUtf8 | D::Utf8View)
        }
        _ => false,
    }
}

impl Plan {
    fn new(py: Python<'_>, rs: &Ruleset, schema: &Schema, ignore: &[String]) -> PyResult<Plan> {
        let mut columns = Vec::new();
        let mut problems = Vec::new();
        let names: Vec<&str> = rs.factors().iter().map(|f| f.id.as_str()).collect();
        let mut seen = vec![false; names.len()];
        for (c, field) in schema.fields().iter().enumerate() {
            let name = field.name();
            // pandas writes a non-default index as `__index_level_N__`.
            if ignore.iter().any(|i| i == name) || name.starts_with("__index_level_") {
                continue;
            }
            let Some(index) = rs.factor_index(name) else {
                problems.push(AnswerProblem::new(
                    Some(name),
                    format!(
                        "this column is not a question of ruleset `{}` (it asks: {}); \
                         pass ignore=[...] to leave other columns out",
                        rs.metadata().id,
                        names.join(", ")
                    ),
                ));
                continue;
            };
            if let Some(s) = seen.get_mut(index) {
                if *s {
                    problems.push(AnswerProblem::new(
                        Some(name),
                        "this question has two columns".to_owned(),
                    ));
                    continue;
                }
                *s = true;
            }
            if !supported(field.data_type()) {
                return Err(PyTypeError::new_err(format!(
                    "column `{}` has the Arrow type {}; answer columns are string, \
                     dictionary (categorical) of strings, integer, float or boolean",
                    carelevel::text::Shown::excerpt(name),
                    field.data_type()
                )));
            }
            columns.push((c, index));
        }
        if !problems.is_empty() {
            return Err(errors::answers_error(
                py,
                &carelevel::AnswersError { problems },
            ));
        }
        Ok(Plan { columns })
    }
}

/// `Ruleset.assess_table`.
pub(crate) fn assess_table<'py>(
    py: Python<'py>,
    rs: &Arc<Ruleset>,
    data: &Bound<'py, PyAny>,
    ignore: &[String],
) -> PyResult<Bound<'py, PyAny>> {
    let (schema, batches) = arrow_ffi::import(data)?;
    let plan = Plan::new(py, rs, &schema, ignore)?;
    let rs = Arc::clone(rs);
    let out_schema = output_schema();
    let result = py.detach(|| {
        let ids = Ids::new(&rs);
        let mut ev = Evaluator::new(&rs);
        let mut encoders: Vec<Encoder<'_>> = rs.factors().iter().map(Encoder::new).collect();
        batches
            .iter()
            .map(|b| {
                let rows = evaluate_batch(&mut ev, &mut encoders, &plan, b);
                build_batch(&out_schema, &ev, &rows, &ids)
            })
            .collect::<Result<Vec<_>, _>>()
    });
    let out = result.map_err(|e| {
        pyo3::exceptions::PyValueError::new_err(format!("cannot build the result table: {e}"))
    })?;
    let stream = Bound::new(
        py,
        arrow_ffi::ArrowStream::new(Arc::clone(&out_schema), out),
    )?;
    py.import("pyarrow")?.getattr("table")?.call1((stream,))
}
