//! `Ruleset.assess_table`: every row of an Arrow table, one result row per input row.
//!
//! 1. `decode`: each column is turned into one *slot* per row: 0 for unanswered,
//!    `1 + class` for an answer (its class in the sense of `Factor::classes`: answers
//!    in one class get identical results), or `BAD` with the core's message.
//! 2. `eval`: the slots of a row form a mixed-radix key. Results are memoized per key,
//!    so each distinct answer combination is evaluated once by the core.
//! 3. `output`: the output columns are built directly as Arrow arrays.
//!
//! Input batches are worked through in chunks of at most [`CHUNK_ROWS`] rows (zero-copy
//! slices), each giving one output batch: the per-chunk buffers stay in the CPU caches
//! and are reused, and the memo of results ([`MemoSlot`]) is kept by the `Ruleset`
//! object from one call to the next.

mod decode;
mod eval;
mod output;

use std::sync::{Arc, Mutex};

use arrow_schema::{DataType, Schema};
use carelevel::{AnswerProblem, FactorIndex, Ruleset};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::arrow_ffi;
use crate::errors;
use decode::Encoder;
use eval::{evaluate_batch, BatchRows, Evaluator, Memo, Scratch, MEMO_KEEP_MAX};
use output::{build_batch, output_schema, Ids};

/// Rows of one chunk: each input batch is sliced into chunks of at most this many rows,
/// and each chunk gives one output batch.
pub(crate) const CHUNK_ROWS: usize = 1 << 16;

/// The memo of results a `Ruleset` object keeps between `assess_table` calls. A call
/// takes it (or starts an empty one when another thread holds it) and puts it back at
/// the end, unless it grew past `MEMO_KEEP_MAX` results.
#[derive(Default)]
pub(crate) struct MemoSlot {
    memo: Mutex<Option<Memo>>,
}

impl MemoSlot {
    fn take(&self, rs: &Ruleset) -> Memo {
        // A poisoned lock only means another call panicked: start afresh.
        let kept = self.memo.lock().ok().and_then(|mut m| m.take());
        kept.unwrap_or_else(|| Memo::new(rs))
    }

    fn put(&self, memo: Memo) {
        if memo.len() > MEMO_KEEP_MAX {
            return;
        }
        if let Ok(mut slot) = self.memo.lock() {
            // Two threads that ran at once: keep the larger memo.
            if slot.as_ref().is_none_or(|m| m.len() < memo.len()) {
                *slot = Some(memo);
            }
        }
    }
}

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
    memo: &MemoSlot,
    data: &Bound<'py, PyAny>,
    ignore: &[String],
) -> PyResult<Bound<'py, PyAny>> {
    let (schema, batches) = arrow_ffi::import(data)?;
    let plan = Plan::new(py, rs, &schema, ignore)?;
    let rs = Arc::clone(rs);
    let out_schema = output_schema();
    let result = py.detach(|| {
        let ids = Ids::new(&rs);
        let mut ev = Evaluator::with_memo(&rs, memo.take(&rs));
        let mut encoders: Vec<Encoder<'_>> = rs.factors().iter().map(Encoder::new).collect();
        let mut scratch = Scratch::default();
        let mut rows = BatchRows::default();
        let mut out = Vec::new();
        let mut failed = None;
        'batches: for b in &batches {
            for offset in (0..b.num_rows()).step_by(CHUNK_ROWS) {
                let chunk = b.slice(offset, CHUNK_ROWS.min(b.num_rows() - offset));
                evaluate_batch(
                    &mut ev,
                    &mut encoders,
                    &plan,
                    &chunk,
                    &mut scratch,
                    &mut rows,
                );
                match build_batch(&out_schema, &ev.memo, &mut rows, &ids) {
                    Ok(batch) => out.push(batch),
                    Err(e) => {
                        failed = Some(e);
                        break 'batches;
                    }
                }
            }
        }
        memo.put(ev.into_memo());
        failed.map_or(Ok(out), Err)
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
