//! Output building: the result columns as Arrow arrays, from each row's result index.
//!
//! The results are few (one per distinct answer combination) and the rows many, so
//! each output value is first laid out per result, then copied per row by index into
//! buffers allocated once at their final size. Levels, rules and flags are dictionary
//! arrays over the ruleset's ids: no string is built per row.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Int32Array, ListArray, RecordBatch, StringArray,
};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer, OffsetBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use carelevel::Ruleset;

use super::eval::{BatchRows, Evaluator, Outcome, ERROR_ROW};

/// The output schema.
pub(super) fn output_schema() -> SchemaRef {
    let dict = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let list = || DataType::List(Arc::new(Field::new("item", dict(), false)));
    Arc::new(Schema::new(vec![
        Field::new("level", dict(), true),
        Field::new("level_lowest", dict(), true),
        Field::new("level_highest", dict(), true),
        Field::new("refer", DataType::Boolean, true),
        Field::new("needs_review", DataType::Boolean, true),
        Field::new("deciding_rules", list(), true),
        Field::new("flags", list(), true),
        Field::new("error", DataType::Utf8, true),
    ]))
}

/// The dictionaries of the output: level, rule and flag ids.
pub(super) struct Ids {
    levels: ArrayRef,
    rules: ArrayRef,
    flags: ArrayRef,
}

impl Ids {
    pub(super) fn new(rs: &Ruleset) -> Ids {
        Ids {
            levels: Arc::new(StringArray::from_iter_values(
                rs.levels().iter().map(|l| &l.id),
            )),
            rules: Arc::new(StringArray::from_iter_values(
                rs.rules().iter().map(|r| &r.id),
            )),
            flags: Arc::new(StringArray::from_iter_values(
                rs.flags().iter().map(|f| &f.id),
            )),
        }
    }
}

fn dictionary(keys: Int32Array, values: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
        keys,
        Arc::clone(values),
    )?))
}

/// The scalar fields of one result, laid out for copying per row.
#[derive(Clone, Copy, Default)]
struct Scalars {
    level: i32,
    lowest: i32,
    highest: i32,
    refer: bool,
    needs_review: bool,
}

/// One list column (deciding rules or flags): every result's items, flattened.
struct Lists {
    flat: Vec<i32>,
    /// Per result: where its items start in `flat`, and how many there are.
    spans: Vec<(usize, i32)>,
}

impl Lists {
    fn new(ev: &Evaluator<'_>, pick: fn(&Outcome) -> &[i32]) -> Lists {
        let mut flat = Vec::new();
        let mut spans = Vec::with_capacity(ev.results.len());
        for r in &ev.results {
            let start = flat.len();
            if let Ok(o) = r {
                flat.extend_from_slice(pick(o));
            }
            // A result lists each rule or flag at most once: far below `i32::MAX`.
            spans.push((start, i32::try_from(flat.len() - start).unwrap_or(i32::MAX)));
        }
        Lists { flat, spans }
    }

    fn span(&self, index: u32) -> (usize, i32) {
        self.spans.get(index as usize).copied().unwrap_or((0, 0))
    }

    /// The list array of the rows, sized exactly before it is filled.
    fn column(
        &self,
        rows: &BatchRows,
        values: &ArrayRef,
        nulls: Option<&NullBuffer>,
    ) -> Result<ArrayRef, ArrowError> {
        // The offsets are `i32`: check the total once, then add without checks.
        let total: i64 = rows.index.iter().map(|&i| i64::from(self.span(i).1)).sum();
        if total > i64::from(i32::MAX) {
            return Err(ArrowError::ComputeError(format!(
                "more than {} list items in one batch; pass smaller batches",
                i32::MAX
            )));
        }
        let mut offsets = Vec::with_capacity(rows.index.len() + 1);
        let mut child = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut end = 0i32;
        offsets.push(end);
        for &i in &rows.index {
            let (start, len) = self.span(i);
            // Item by item: the lists are short, a copy call per row costs more.
            for &item in self.flat.iter().skip(start).take(len as usize) {
                child.push(item);
            }
            end = end.wrapping_add(len);
            offsets.push(end);
        }
        let child = dictionary(Int32Array::from(child), values)?;
        let field = Arc::new(Field::new("item", child.data_type().clone(), false));
        Ok(Arc::new(ListArray::try_new(
            field,
            OffsetBuffer::new(offsets.into()),
            child,
            nulls.cloned(),
        )?))
    }
}

/// Build the output batch from the row results.
pub(super) fn build_batch(
    schema: &SchemaRef,
    ev: &Evaluator<'_>,
    rows: &BatchRows,
    ids: &Ids,
) -> Result<RecordBatch, ArrowError> {
    let n = rows.index.len();
    let table: Vec<Scalars> = ev
        .results
        .iter()
        .map(|r| {
            r.as_ref().map_or(Scalars::default(), |o| Scalars {
                level: o.level,
                lowest: o.lowest,
                highest: o.highest,
                refer: o.refer,
                needs_review: o.needs_review,
            })
        })
        .collect();
    let nulls = (!rows.errors.is_empty()).then(|| {
        NullBuffer::from(
            rows.index
                .iter()
                .map(|&i| i != ERROR_ROW)
                .collect::<Vec<_>>(),
        )
    });
    // With every question answered (or assumed) in every result so far, the level
    // range is the level itself: the three level columns are one array.
    let ranged = table
        .iter()
        .any(|s| s.lowest != s.level || s.highest != s.level);
    // One pass over the rows for the scalar columns.
    let mut level = Vec::with_capacity(n);
    let mut lowest = Vec::with_capacity(if ranged { n } else { 0 });
    let mut highest = Vec::with_capacity(if ranged { n } else { 0 });
    let mut refer = BooleanBufferBuilder::new(n);
    let mut needs_review = BooleanBufferBuilder::new(n);
    for &i in &rows.index {
        let s = table.get(i as usize).copied().unwrap_or_default();
        level.push(s.level);
        if ranged {
            lowest.push(s.lowest);
            highest.push(s.highest);
        }
        refer.append(s.refer);
        needs_review.append(s.needs_review);
    }
    let keys = |v: Vec<i32>| Int32Array::new(v.into(), nulls.clone());
    let level = dictionary(keys(level), &ids.levels)?;
    let (lowest, highest) = if ranged {
        (
            dictionary(keys(lowest), &ids.levels)?,
            dictionary(keys(highest), &ids.levels)?,
        )
    } else {
        (Arc::clone(&level), Arc::clone(&level))
    };
    let bools = |mut b: BooleanBufferBuilder| -> ArrayRef {
        Arc::new(BooleanArray::new(b.finish(), nulls.clone()))
    };
    let errors: ArrayRef = if rows.errors.is_empty() {
        Arc::new(StringArray::new_null(n))
    } else {
        let bytes = rows.errors.iter().map(|(_, m)| m.len()).sum();
        let mut b = StringBuilder::with_capacity(n, bytes);
        let mut next = rows.errors.iter().peekable();
        for row in 0..n {
            match next.next_if(|(r, _)| *r == row) {
                Some((_, m)) => b.append_value(m.as_ref()),
                None => b.append_null(),
            }
        }
        Arc::new(b.finish())
    };
    RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            level,
            lowest,
            highest,
            bools(refer),
            bools(needs_review),
            Lists::new(ev, |o| &o.deciding).column(rows, &ids.rules, nulls.as_ref())?,
            Lists::new(ev, |o| &o.flags).column(rows, &ids.flags, nulls.as_ref())?,
            errors,
        ],
    )
}
