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
use arrow_buffer::{BooleanBuffer, NullBuffer, OffsetBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use carelevel::Ruleset;

use super::eval::{
    BatchRows, FlatLists, Memo, Packed, Scalars, ERROR_ROW, LIST_PAD, NEEDS_REVIEW, REFER,
};

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

/// The list array of one list column (deciding rules or flags) for the rows, its
/// buffers sized exactly before they are filled.
fn list_column(
    lists: &FlatLists,
    rows: &BatchRows,
    values: &ArrayRef,
    nulls: Option<&NullBuffer>,
) -> Result<ArrayRef, ArrowError> {
    let span = |i: u32| lists.spans.get(i as usize).copied().unwrap_or_default();
    // The offsets are `i32`: check the total once, then add without checks.
    let total: u64 = rows.index.iter().map(|&i| u64::from(span(i).len)).sum();
    if total > i32::MAX as u64 {
        return Err(ArrowError::ComputeError(format!(
            "more than {} list items in one batch; pass smaller batches",
            i32::MAX
        )));
    }
    let total = usize::try_from(total).unwrap_or(0);
    let mut offsets = Vec::with_capacity(rows.index.len() + 1);
    let mut child: Vec<i32> = Vec::with_capacity(total + LIST_PAD);
    offsets.push(0i32);
    let short = lists.longest as usize <= LIST_PAD;
    for &i in &rows.index {
        let s = span(i);
        let (start, len) = (s.start as usize, s.len as usize);
        let end = child.len() + len;
        if short {
            // `FlatLists` keeps `LIST_PAD` items after every start, and `child` has room
            // for `LIST_PAD` items past every row's end: copy a fixed-size block (no
            // per-item loop, no length-dependent copy), then cut it to the row's items.
            let block: Option<&[i32; LIST_PAD]> = lists
                .items
                .get(start..start + LIST_PAD)
                .and_then(|b| b.try_into().ok());
            if let Some(block) = block {
                child.extend_from_slice(block);
            }
            child.truncate(end);
        } else if let Some(items) = lists.items.get(start..start + len) {
            child.extend_from_slice(items);
        }
        // At most `total`, checked above to fit `i32`.
        offsets.push(i32::try_from(child.len()).unwrap_or(i32::MAX));
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

/// For each byte value: how many bits are set, and their positions (lowest first).
// reason: evaluated at compile time, where an index out of bounds is a build error,
// not a panic; `byte < 256` and `count <= bit < 8` bound every index.
#[allow(clippy::indexing_slicing)]
const BYTE_BITS: [(u8, [u8; 8]); 256] = {
    let mut table = [(0u8, [0u8; 8]); 256];
    let mut byte = 0;
    while byte < 256 {
        let mut count = 0;
        let mut bit = 0;
        while bit < 8 {
            if byte & (1 << bit) != 0 {
                table[byte].1[count] = bit as u8;
                count += 1;
            }
            bit += 1;
        }
        table[byte].0 = count as u8;
        byte += 1;
    }
    table
};

/// The list array of one list column from the rows' packed results: each row's items
/// are the set bits of its mask, lowest first.
fn mask_column(
    rows: &[Packed],
    pick: fn(&Packed) -> u64,
    values: &ArrayRef,
    nulls: Option<&NullBuffer>,
) -> Result<ArrayRef, ArrowError> {
    // At most 64 items a row: the total fits `usize`; the offsets are `i32`.
    let total: usize = rows.iter().map(|p| pick(p).count_ones() as usize).sum();
    let Ok(last) = i32::try_from(total) else {
        return Err(ArrowError::ComputeError(format!(
            "more than {} list items in one batch; pass smaller batches",
            i32::MAX
        )));
    };
    // The bytes of the masks that can have bits: one per 8 rules (or flags).
    let bytes = rows
        .iter()
        .map(|p| 8 - pick(p).leading_zeros() as usize / 8)
        .max()
        .unwrap_or(0);
    let mut offsets = Vec::with_capacity(rows.len() + 1);
    // Each mask byte is expanded as one fixed block of 8 items (its set bits, from
    // `BYTE_BITS`), the next block overwriting the unused tail: no per-item loop and no
    // branch on the data. `child` has 8 items of room past the last one.
    let mut child: Vec<i32> = vec![0; total + 8];
    let mut end = 0usize;
    offsets.push(0i32);
    for p in rows {
        let m = pick(p);
        for b in 0..bytes {
            let byte = ((m >> (8 * b)) & 0xff) as usize;
            let (count, bits) = BYTE_BITS.get(byte).copied().unwrap_or_default();
            let base = 8 * b as i32;
            if let Some(dst) = child
                .get_mut(end..end + 8)
                .and_then(|d| <&mut [i32; 8]>::try_from(d).ok())
            {
                for (d, &bit) in dst.iter_mut().zip(&bits) {
                    *d = base + i32::from(bit);
                }
            }
            end += count as usize;
        }
        // At most `total`, which fits `i32`.
        offsets.push(i32::try_from(end).unwrap_or(last));
    }
    child.truncate(total);
    let child = dictionary(Int32Array::from(child), values)?;
    let field = Arc::new(Field::new("item", child.data_type().clone(), false));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::new(offsets.into()),
        child,
        nulls.cloned(),
    )?))
}

/// Build the output batch from the row results.
pub(super) fn build_batch(
    schema: &SchemaRef,
    memo: &Memo,
    rows: &mut BatchRows,
    ids: &Ids,
) -> Result<RecordBatch, ArrowError> {
    match &memo.packed {
        Some(packed) => build_packed(schema, memo, packed, rows, ids),
        None => build_flat(schema, memo, rows, ids),
    }
}

/// The null buffer of the rows (`None` when no row is bad).
fn nulls_of(rows: &BatchRows) -> Option<NullBuffer> {
    let index = &rows.index;
    (!rows.errors.is_empty()).then(|| {
        NullBuffer::new(BooleanBuffer::collect_bool(index.len(), |r| {
            index.get(r).is_some_and(|&i| i != ERROR_ROW)
        }))
    })
}

/// The `error` column.
fn error_column(rows: &BatchRows) -> ArrayRef {
    let n = rows.index.len();
    if rows.errors.is_empty() {
        return Arc::new(StringArray::new_null(n));
    }
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
}

/// [`build_batch`] from packed results: one read of one record per row (gathered into
/// a buffer reused from chunk to chunk), then every column from that buffer in order.
fn build_packed(
    schema: &SchemaRef,
    memo: &Memo,
    packed: &[Packed],
    rows: &mut BatchRows,
    ids: &Ids,
) -> Result<RecordBatch, ArrowError> {
    let n = rows.index.len();
    let mut gathered = std::mem::take(&mut rows.gathered);
    gathered.clear();
    // A bad row (`ERROR_ROW`) reads the all-zero record; its fields are null.
    gathered.extend(
        rows.index
            .iter()
            .map(|&i| packed.get(i as usize).copied().unwrap_or_default()),
    );
    let nulls = nulls_of(rows);
    let g = &gathered;
    let levels = |pick: fn(&Packed) -> u8| -> Result<ArrayRef, ArrowError> {
        let keys: Vec<i32> = g.iter().map(|p| i32::from(pick(p))).collect();
        dictionary(Int32Array::new(keys.into(), nulls.clone()), &ids.levels)
    };
    let level = levels(|p| p.level)?;
    // With every question answered (or assumed) in every result so far, the level
    // range is the level itself: the three level columns are one array.
    let (lowest, highest) = if memo.any_ranged {
        (levels(|p| p.lowest)?, levels(|p| p.highest)?)
    } else {
        (Arc::clone(&level), Arc::clone(&level))
    };
    let bools = |bit: u8| -> ArrayRef {
        let b = BooleanBuffer::collect_bool(n, |r| g.get(r).is_some_and(|p| p.bits & bit != 0));
        Arc::new(BooleanArray::new(b, nulls.clone()))
    };
    let columns = vec![
        level,
        lowest,
        highest,
        bools(REFER),
        bools(NEEDS_REVIEW),
        mask_column(g, |p| p.deciding, &ids.rules, nulls.as_ref())?,
        mask_column(g, |p| p.flags, &ids.flags, nulls.as_ref())?,
        error_column(rows),
    ];
    rows.gathered = gathered;
    RecordBatch::try_new(Arc::clone(schema), columns)
}

/// [`build_batch`] from the results laid out per field (any ruleset).
fn build_flat(
    schema: &SchemaRef,
    memo: &Memo,
    rows: &BatchRows,
    ids: &Ids,
) -> Result<RecordBatch, ArrowError> {
    let n = rows.index.len();
    let table = &memo.scalars;
    let index = &rows.index;
    let nulls = nulls_of(rows);
    let scalar = |r: usize| {
        index
            .get(r)
            .and_then(|&i| table.get(i as usize))
            .copied()
            .unwrap_or_default()
    };
    let column = |pick: fn(&Scalars) -> i32| -> Vec<i32> {
        index
            .iter()
            .map(|&i| table.get(i as usize).map_or(0, pick))
            .collect()
    };
    // With every question answered (or assumed) in every result so far, the level
    // range is the level itself: the three level columns are one array.
    let ranged = memo.any_ranged;
    let level = column(|s| s.level);
    let refer = BooleanBuffer::collect_bool(n, |r| scalar(r).refer);
    let needs_review = BooleanBuffer::collect_bool(n, |r| scalar(r).needs_review);
    let keys = |v: Vec<i32>| Int32Array::new(v.into(), nulls.clone());
    let level = dictionary(keys(level), &ids.levels)?;
    let (lowest, highest) = if ranged {
        (
            dictionary(keys(column(|s| s.lowest)), &ids.levels)?,
            dictionary(keys(column(|s| s.highest)), &ids.levels)?,
        )
    } else {
        (Arc::clone(&level), Arc::clone(&level))
    };
    let bools = |b: BooleanBuffer| -> ArrayRef { Arc::new(BooleanArray::new(b, nulls.clone())) };
    let errors = error_column(rows);
    RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            level,
            lowest,
            highest,
            bools(refer),
            bools(needs_review),
            list_column(&memo.deciding, rows, &ids.rules, nulls.as_ref())?,
            list_column(&memo.flags, rows, &ids.flags, nulls.as_ref())?,
            errors,
        ],
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // reason: test code
mod tests {
    use super::*;
    use crate::table::eval::Evaluator;

    #[test]
    fn byte_table_lists_the_set_bits() {
        for (byte, &(count, bits)) in BYTE_BITS.iter().enumerate() {
            let want: Vec<u8> = (0..8).filter(|b| byte & (1 << b) != 0).collect();
            assert_eq!(&bits[..count as usize], want.as_slice(), "{byte}");
        }
    }

    #[test]
    fn packed_and_flat_outputs_are_equal() {
        // The same rows (complete, with unanswered questions, and bad) built from the
        // packed records and from the per-field layout give equal batches.
        let rs = Ruleset::default_ruleset().unwrap();
        let mut ev = Evaluator::new(&rs);
        let nf = rs.factors().len();
        let mut index = Vec::new();
        for i in 0..3000usize {
            let slots: Vec<u32> = (0..nf)
                .map(|f| {
                    let radix = rs.factors()[f].classes().len() + 1;
                    // Mostly answered; slot 0 (unanswered) now and then.
                    u32::try_from((i * (f * 2 + 3) + i / 7) % radix).unwrap()
                })
                .collect();
            index.push(ev.lookup(&slots));
        }
        index[5] = ERROR_ROW;
        let memo = ev.into_memo();
        assert!(memo.packed.is_some() && memo.any_ranged);
        let ids = Ids::new(&rs);
        let schema = output_schema();
        let mut rows = BatchRows {
            index,
            errors: vec![(5, Arc::from("`severity`: bad"))],
            gathered: Vec::new(),
        };
        let packed = build_packed(
            &schema,
            &memo,
            memo.packed.as_ref().unwrap(),
            &mut rows,
            &ids,
        )
        .unwrap();
        // The per-field layout, as after a result without a packed form.
        let mut memo = memo;
        memo.unpack();
        assert!(memo.packed.is_none());
        let flat = build_flat(&schema, &memo, &rows, &ids).unwrap();
        for c in 0..packed.num_columns() {
            assert_eq!(packed.column(c), flat.column(c), "column {c}");
        }
        assert_eq!(packed, flat);
        assert!(packed.column(0).is_null(5));
        // Lists hold each rule and flag of the result, in ruleset order.
        let deciding = packed
            .column(5)
            .as_any()
            .downcast_ref::<ListArray>()
            .unwrap();
        let first = rows.index[0] as usize;
        let items: Vec<i32> = deciding
            .value(0)
            .as_any()
            .downcast_ref::<DictionaryArray<Int32Type>>()
            .unwrap()
            .keys()
            .values()
            .to_vec();
        let span = memo.deciding.spans[first];
        let start = span.start as usize;
        assert_eq!(items, memo.deciding.items[start..start + span.len as usize]);
    }
}
