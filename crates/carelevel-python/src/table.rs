//! `Ruleset.assess_table`: every row of an Arrow table, one result row per input row.
//!
//! 1. Each column is turned into one *slot* per row: 0 for unanswered, `1 + class` for
//!    an answer (its class in the sense of `Factor::classes`: answers in one class get
//!    identical results), or `BAD` with the core's message. Dictionary (categorical)
//!    columns are mapped once per distinct dictionary value, then by index.
//! 2. The slots of a row form a mixed-radix key. Results are memoized per key, so each
//!    distinct answer combination is evaluated once by the core (`decide`, or `assess`
//!    when answers are missing) and every other row with that key is a table lookup.
//! 3. The output columns are built directly as Arrow arrays.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Int32Array, ListArray, RecordBatch, StringArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use carelevel::{AnswerProblem, Factor, FactorIndex, Ruleset, Value};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::arrow_ffi;
use crate::convert::{float_answer, FloatAnswer};
use crate::errors;

/// The slot of a value that is not a valid answer.
const BAD: u32 = u32::MAX;

/// Largest memo kept as a dense table (entries of 4 bytes).
const DENSE_MEMO_MAX: u64 = 1 << 22;

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

/// One column's answers as slots, and the messages of its bad values by row.
struct Slots {
    slots: Vec<u32>,
    bad: Vec<(usize, Arc<str>)>,
}

/// Maps values of one factor to slots, remembering each distinct bad value's message.
struct Encoder<'r> {
    factor: &'r Factor,
    /// For ordinal scales: value text and its slot, in scale order.
    scale: Vec<(&'r [u8], u32)>,
    bad_text: HashMap<Vec<u8>, Arc<str>>,
    bad_other: HashMap<String, Arc<str>>,
}

impl<'r> Encoder<'r> {
    fn new(factor: &'r Factor) -> Encoder<'r> {
        let scale = match &factor.kind {
            carelevel::FactorKind::Ordinal { values } => values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    (
                        v.as_bytes(),
                        slot_of_code(factor, i64::try_from(i).unwrap_or(0)),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        Encoder {
            factor,
            scale,
            bad_text: HashMap::new(),
            bad_other: HashMap::new(),
        }
    }

    fn problem(&self, message: String) -> Arc<str> {
        Arc::from(
            AnswerProblem {
                factor: Some(self.factor.id.clone()),
                message,
            }
            .to_string(),
        )
    }

    fn text(&mut self, s: &str) -> Result<u32, Arc<str>> {
        let bytes = s.as_bytes();
        if let Some((_, slot)) = self.scale.iter().find(|(v, _)| *v == bytes) {
            return Ok(*slot);
        }
        if let Some(m) = self.bad_text.get(bytes) {
            return Err(Arc::clone(m));
        }
        match self.factor.encode(&Value::Text(s.to_owned())) {
            Ok(code) => Ok(slot_of_code(self.factor, code)),
            Err(message) => {
                let m = self.problem(message);
                self.bad_text.insert(bytes.to_vec(), Arc::clone(&m));
                Err(m)
            }
        }
    }

    fn value(&mut self, v: Value) -> Result<u32, Arc<str>> {
        if let (Value::Integer(i), carelevel::FactorKind::Integer { min, max, .. }) =
            (&v, &self.factor.kind)
        {
            if (*min..=*max).contains(i) {
                return Ok(slot_of_code(self.factor, *i));
            }
        }
        let key = format!("{v:?}");
        if let Some(m) = self.bad_other.get(&key) {
            return Err(Arc::clone(m));
        }
        match self.factor.encode(&v) {
            Ok(code) => Ok(slot_of_code(self.factor, code)),
            Err(message) => {
                let m = self.problem(message);
                self.bad_other.insert(key, Arc::clone(&m));
                Err(m)
            }
        }
    }

    /// A value that is not an answer at all (as the JSON reader words it).
    fn invalid(&mut self, what: &str) -> Arc<str> {
        if let Some(m) = self.bad_other.get(what) {
            return Arc::clone(m);
        }
        let m = self.problem(format!(
            "expected one value ({}), got {what}",
            self.factor.allowed_answers()
        ));
        self.bad_other.insert(what.to_owned(), Arc::clone(&m));
        m
    }
}

/// `1 + class` of a valid code.
fn slot_of_code(f: &Factor, code: i64) -> u32 {
    let class = f
        .classes()
        .partition_point(|&r| r <= code)
        .saturating_sub(1);
    u32::try_from(class + 1).unwrap_or(BAD)
}

fn push(out: &mut Slots, row: usize, r: Result<u32, Arc<str>>) {
    match r {
        Ok(s) => out.slots.push(s),
        Err(m) => {
            out.slots.push(BAD);
            out.bad.push((row, m));
        }
    }
}

/// Slots of a string-like array (`Utf8`, `LargeUtf8`, `Utf8View`), by a getter.
fn string_slots<'a>(
    enc: &mut Encoder<'_>,
    len: usize,
    get: impl Fn(usize) -> Option<&'a str>,
) -> Slots {
    let mut out = Slots {
        slots: Vec::with_capacity(len),
        bad: Vec::new(),
    };
    for row in 0..len {
        match get(row) {
            None => out.slots.push(0),
            Some(s) => {
                let r = enc.text(s);
                push(&mut out, row, r);
            }
        }
    }
    out
}

fn strings_of(array: &dyn Array) -> Option<Vec<Option<&str>>> {
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().iter().collect()),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().iter().collect()),
        DataType::Utf8View => Some(array.as_string_view().iter().collect()),
        _ => None,
    }
}

/// Slots of a dictionary column: each dictionary value is mapped once, rows by index.
fn dictionary_slots(enc: &mut Encoder<'_>, array: &dyn Array, key: &DataType) -> Slots {
    let d = array.as_any_dictionary();
    let mut mapped = Vec::new();
    let mut mapped_bad: Vec<Option<Arc<str>>> = Vec::new();
    for v in strings_of(d.values().as_ref()).unwrap_or_default() {
        match v.map_or(Ok(0), |s| enc.text(s)) {
            Ok(slot) => {
                mapped.push(slot);
                mapped_bad.push(None);
            }
            Err(m) => {
                mapped.push(BAD);
                mapped_bad.push(Some(m));
            }
        }
    }
    macro_rules! by_index {
        ($t:ty) => {
            array
                .as_dictionary::<$t>()
                .keys()
                .values()
                .iter()
                .map(|&k| {
                    usize::try_from(k)
                        .ok()
                        .and_then(|k| mapped.get(k))
                        .copied()
                        .unwrap_or(BAD)
                })
                .collect::<Vec<u32>>()
        };
    }
    let mut slots = match key {
        DataType::Int8 => by_index!(Int8Type),
        DataType::Int16 => by_index!(Int16Type),
        DataType::Int32 => by_index!(Int32Type),
        DataType::Int64 => by_index!(Int64Type),
        DataType::UInt8 => by_index!(UInt8Type),
        DataType::UInt16 => by_index!(UInt16Type),
        DataType::UInt32 => by_index!(UInt32Type),
        _ => by_index!(UInt64Type),
    };
    if let Some(nulls) = d.keys().logical_nulls() {
        for row in nulls
            .iter()
            .enumerate()
            .filter(|(_, valid)| !valid)
            .map(|(r, _)| r)
        {
            if let Some(s) = slots.get_mut(row) {
                *s = 0;
            }
        }
    }
    let mut bad = Vec::new();
    // A bad value, or a key past the dictionary (a broken producer), makes a bad row.
    if slots.contains(&BAD) {
        let keys = d.normalized_keys();
        for (row, _) in slots.iter().enumerate().filter(|(_, &s)| s == BAD) {
            let k = keys.get(row).copied().unwrap_or(usize::MAX);
            let m = match mapped_bad.get(k) {
                Some(Some(m)) => Arc::clone(m),
                _ => enc.problem(format!("dictionary key {k} is out of range")),
            };
            bad.push((row, m));
        }
    }
    Slots { slots, bad }
}

/// Slots of one column of a batch.
fn column_slots(enc: &mut Encoder<'_>, array: &dyn Array) -> Slots {
    let len = array.len();
    let mut out = Slots {
        slots: Vec::with_capacity(len),
        bad: Vec::new(),
    };
    macro_rules! ints {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            for row in 0..len {
                if a.is_null(row) {
                    out.slots.push(0);
                    continue;
                }
                let v = a.value(row);
                let r = match i64::try_from(v) {
                    Ok(i) => enc.value(Value::Integer(i)),
                    Err(_) => Err(enc.invalid(&format!("the number {v}, which is too large"))),
                };
                push(&mut out, row, r);
            }
            return out;
        }};
    }
    macro_rules! floats {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            for row in 0..len {
                if a.is_null(row) {
                    out.slots.push(0);
                    continue;
                }
                let r = match float_answer(f64::from(a.value(row))) {
                    FloatAnswer::Null => Ok(0),
                    FloatAnswer::Whole(i) => enc.value(Value::Integer(i)),
                    FloatAnswer::Invalid(what) => Err(enc.invalid(&what)),
                };
                push(&mut out, row, r);
            }
            return out;
        }};
    }
    match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            string_slots(enc, len, |i| a.is_valid(i).then(|| a.value(i)))
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            string_slots(enc, len, |i| a.is_valid(i).then(|| a.value(i)))
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            string_slots(enc, len, |i| a.is_valid(i).then(|| a.value(i)))
        }
        DataType::Dictionary(key, _) => dictionary_slots(enc, array, key),
        DataType::Boolean => {
            let a = array.as_boolean();
            for row in 0..len {
                if a.is_null(row) {
                    out.slots.push(0);
                } else {
                    let r = enc.value(Value::Boolean(a.value(row)));
                    push(&mut out, row, r);
                }
            }
            out
        }
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        DataType::Float32 => floats!(Float32Type),
        DataType::Float64 => floats!(Float64Type),
        // Null columns (and anything `Plan` let through by mistake): unanswered.
        _ => {
            out.slots.resize(len, 0);
            out
        }
    }
}

/// The result of one distinct answer combination.
struct Outcome {
    level: i32,
    lowest: i32,
    highest: i32,
    refer: bool,
    needs_review: bool,
    deciding: Vec<i32>,
    flags: Vec<i32>,
}

type RowResult = Result<Outcome, Arc<str>>;

/// Memoized evaluation over mixed-radix keys of slots.
struct Evaluator<'r> {
    rs: &'r Ruleset,
    strides: Option<Vec<u64>>,
    dense: Vec<u32>,
    sparse: HashMap<u64, u32>,
    results: Vec<RowResult>,
    /// Per result: whether it is an error (kept apart: rows test it without touching
    /// the results themselves).
    failed: Vec<bool>,
    rule_ids: HashMap<&'r str, i32>,
    flag_ids: HashMap<&'r str, i32>,
    answers: carelevel::Answers<'r>,
}

const UNKNOWN: u32 = u32::MAX;

impl<'r> Evaluator<'r> {
    fn new(rs: &'r Ruleset) -> Evaluator<'r> {
        let mut strides = Vec::new();
        let mut total: Option<u64> = Some(1);
        for f in rs.factors() {
            strides.push(total.unwrap_or(0));
            let radix = u64::try_from(f.classes().len() + 1).ok();
            total = total.zip(radix).and_then(|(t, r)| t.checked_mul(r));
        }
        let dense = match total {
            Some(t) if t <= DENSE_MEMO_MAX => vec![UNKNOWN; usize::try_from(t).unwrap_or(0)],
            _ => Vec::new(),
        };
        let index = |ids: Vec<&'r str>| -> HashMap<&'r str, i32> {
            ids.into_iter()
                .enumerate()
                .map(|(i, id)| (id, i32::try_from(i).unwrap_or(i32::MAX)))
                .collect()
        };
        Evaluator {
            rs,
            strides: total.map(|_| strides),
            dense,
            sparse: HashMap::new(),
            results: Vec::new(),
            failed: Vec::new(),
            rule_ids: index(rs.rules().iter().map(|r| r.id.as_str()).collect()),
            flag_ids: index(rs.flags().iter().map(|f| f.id.as_str()).collect()),
            answers: rs.new_answers(),
        }
    }

    /// Evaluate one combination of slots (one per factor) with the core.
    fn evaluate(&mut self, slots: &[u32]) -> RowResult {
        let rs = self.rs;
        for (i, (f, &s)) in rs.factors().iter().zip(slots).enumerate() {
            match s.checked_sub(1).and_then(|c| f.classes().get(c as usize)) {
                None => {
                    self.answers.clear_index(i);
                }
                Some(&code) => {
                    self.answers
                        .set_code(i, code)
                        .map_err(|e| Arc::<str>::from(e.to_string()))?;
                }
            }
        }
        let complete = rs
            .factors()
            .iter()
            .zip(slots)
            .all(|(f, &s)| s != 0 || matches!(f.missing, carelevel::MissingPolicy::Assume(_)));
        let rank = |id: &str| {
            rs.level_index(id)
                .map_or(-1, |i| i32::try_from(i).unwrap_or(-1))
        };
        let ids = |map: &HashMap<&str, i32>, names: &mut dyn Iterator<Item = &str>| -> Vec<i32> {
            names.filter_map(|n| map.get(n).copied()).collect()
        };
        if complete {
            let d = rs
                .decide(&self.answers)
                .map_err(|e| Arc::<str>::from(e.to_string()))?;
            let level = rank(d.level);
            return Ok(Outcome {
                level,
                lowest: level,
                highest: level,
                refer: d.refer,
                needs_review: d.needs_review,
                deciding: ids(&self.rule_ids, &mut d.deciding_rules.iter().copied()),
                flags: ids(&self.flag_ids, &mut d.flags.iter().copied()),
            });
        }
        let a = rs
            .assess(&self.answers)
            .map_err(|e| Arc::<str>::from(e.to_string()))?;
        let as_i32 = |r: usize| i32::try_from(r).unwrap_or(-1);
        Ok(Outcome {
            level: as_i32(a.level.rank),
            lowest: as_i32(a.level_range.lowest.rank),
            highest: as_i32(a.level_range.highest.rank),
            refer: a.refer,
            needs_review: a.needs_review,
            deciding: ids(
                &self.rule_ids,
                &mut a.deciding_rules.iter().map(|r| r.as_ref()),
            ),
            flags: ids(&self.flag_ids, &mut a.flags.iter().map(|f| f.id.as_ref())),
        })
    }

    /// The memoized result index for a key, or `UNKNOWN` (also when keys are not used).
    fn cached(&self, key: u64) -> u32 {
        if self.strides.is_none() {
            return UNKNOWN;
        }
        match usize::try_from(key).ok().and_then(|k| self.dense.get(k)) {
            Some(&c) => c,
            None if self.dense.is_empty() => self.sparse.get(&key).copied().unwrap_or(UNKNOWN),
            None => UNKNOWN,
        }
    }

    /// The result index for a row's slots, evaluating on first sight.
    fn lookup(&mut self, slots: &[u32]) -> u32 {
        let key = self.strides.as_ref().map(|strides| {
            slots
                .iter()
                .zip(strides)
                .map(|(&s, &st)| u64::from(s) * st)
                .sum::<u64>()
        });
        if let Some(k) = key {
            let cached = match usize::try_from(k).ok().and_then(|k| self.dense.get(k)) {
                Some(&c) => c,
                None => self.sparse.get(&k).copied().unwrap_or(UNKNOWN),
            };
            if cached != UNKNOWN {
                return cached;
            }
        }
        let result = self.evaluate(slots);
        let index = u32::try_from(self.results.len()).unwrap_or(UNKNOWN - 1);
        self.failed.push(result.is_err());
        self.results.push(result);
        if let Some(k) = key {
            match usize::try_from(k).ok().and_then(|k| self.dense.get_mut(k)) {
                Some(c) => *c = index,
                None => {
                    self.sparse.insert(k, index);
                }
            }
        }
        index
    }
}

/// Evaluate one batch: the result index (or error message) of every row.
fn evaluate_batch(
    ev: &mut Evaluator<'_>,
    encoders: &mut [Encoder<'_>],
    plan: &Plan,
    batch: &RecordBatch,
) -> BatchRows {
    let n = batch.num_rows();
    let nf = ev.rs.factors().len();
    // Keys are built column by column (a factor without a column is unanswered: slot 0).
    let mut keys = vec![0u64; n];
    let mut bad = vec![false; n];
    let mut messages: Vec<(usize, usize, Arc<str>)> = Vec::new();
    let mut columns: Vec<Option<Vec<u32>>> = (0..nf).map(|_| None).collect();
    for (order, &(c, f)) in plan.columns.iter().enumerate() {
        let (Some(array), Some(enc)) = (batch.columns().get(c), encoders.get_mut(f)) else {
            continue;
        };
        let slots = column_slots(enc, array.as_ref());
        for (row, m) in slots.bad {
            if let Some(b) = bad.get_mut(row) {
                *b = true;
            }
            messages.push((row, order, m));
        }
        if let Some(strides) = &ev.strides {
            let stride = strides.get(f).copied().unwrap_or(0);
            for (k, &s) in keys.iter_mut().zip(&slots.slots) {
                *k = k.wrapping_add(u64::from(s).wrapping_mul(stride));
            }
        }
        if let Some(col) = columns.get_mut(f) {
            *col = Some(slots.slots);
        }
    }
    // Problems of one row in column order, as assess() lists the keys of a row dict.
    messages.sort_by_key(|(row, order, _)| (*row, *order));
    let mut errors = messages.into_iter().peekable();
    let mut out = BatchRows {
        index: Vec::with_capacity(n),
        errors: Vec::new(),
    };
    let mut row_slots = vec![0u32; nf];
    for row in 0..n {
        if bad.get(row).copied().unwrap_or(false) {
            let mut texts: Vec<Arc<str>> = Vec::new();
            while let Some((_, _, m)) = errors.next_if(|(r, _, _)| *r == row) {
                texts.push(m);
            }
            let texts: Vec<&str> = texts.iter().map(|m| m.as_ref()).collect();
            out.index.push(ERROR_ROW);
            out.errors.push((row, Arc::from(texts.join("; "))));
            continue;
        }
        let key = keys.get(row).copied().unwrap_or(0);
        let cached = ev.cached(key);
        let index = if cached == UNKNOWN {
            for (dst, col) in row_slots.iter_mut().zip(&columns) {
                *dst = col.as_ref().and_then(|s| s.get(row).copied()).unwrap_or(0);
            }
            ev.lookup(&row_slots)
        } else {
            cached
        };
        if ev.failed.get(index as usize).copied().unwrap_or(false) {
            if let Some(Err(m)) = ev.results.get(index as usize) {
                out.errors.push((row, Arc::clone(m)));
            }
            out.index.push(ERROR_ROW);
        } else {
            out.index.push(index);
        }
    }
    out
}

/// The rows of one batch: each row's result index (`ERROR_ROW` for a bad row) and the
/// messages of the bad rows, in row order.
struct BatchRows {
    index: Vec<u32>,
    errors: Vec<(usize, Arc<str>)>,
}

const ERROR_ROW: u32 = u32::MAX;

/// The output schema.
fn output_schema() -> SchemaRef {
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

fn dictionary(keys: Int32Array, values: &ArrayRef) -> Result<ArrayRef, arrow_schema::ArrowError> {
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
        keys,
        Arc::clone(values),
    )?))
}

/// Build the output batch from the row results.
fn build_batch(
    schema: &SchemaRef,
    ev: &Evaluator<'_>,
    rows: &BatchRows,
    ids: &Ids,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = rows.index.len();
    // Per result, then per row by index: rows read small arrays, not the outcomes.
    let per_result = |pick: fn(&Outcome) -> i32| -> Vec<i32> {
        ev.results
            .iter()
            .map(|r| r.as_ref().map_or(0, pick))
            .collect()
    };
    let nulls = (!rows.errors.is_empty()).then(|| {
        NullBuffer::from(
            rows.index
                .iter()
                .map(|&i| i != ERROR_ROW)
                .collect::<Vec<_>>(),
        )
    });
    let keys = |pick: fn(&Outcome) -> i32| {
        let table = per_result(pick);
        let values: Vec<i32> = rows
            .index
            .iter()
            .map(|&i| table.get(i as usize).copied().unwrap_or(0))
            .collect();
        Int32Array::new(values.into(), nulls.clone())
    };
    let bools = |pick: fn(&Outcome) -> bool| -> ArrayRef {
        let table: Vec<bool> = ev
            .results
            .iter()
            .map(|r| r.as_ref().is_ok_and(pick))
            .collect();
        let values: arrow_buffer::BooleanBuffer = rows
            .index
            .iter()
            .map(|&i| table.get(i as usize).copied().unwrap_or(false))
            .collect();
        Arc::new(BooleanArray::new(values, nulls.clone()))
    };
    let list = |pick: fn(&Outcome) -> &[i32],
                values: &ArrayRef|
     -> Result<ArrayRef, arrow_schema::ArrowError> {
        // The lists of all results, flattened, then copied per row by index.
        let mut flat = Vec::new();
        let mut spans = Vec::with_capacity(ev.results.len());
        for r in &ev.results {
            let start = flat.len();
            if let Ok(o) = r {
                flat.extend_from_slice(pick(o));
            }
            spans.push((start, flat.len()));
        }
        let mut offsets = Vec::with_capacity(n + 1);
        let mut child = Vec::new();
        offsets.push(0i32);
        for &i in &rows.index {
            if let Some(items) = spans.get(i as usize).and_then(|&(a, b)| flat.get(a..b)) {
                child.extend_from_slice(items);
            }
            offsets.push(i32::try_from(child.len()).unwrap_or(i32::MAX));
        }
        let child = dictionary(Int32Array::from(child), values)?;
        let field = Arc::new(Field::new("item", child.data_type().clone(), false));
        Ok(Arc::new(ListArray::try_new(
            field,
            OffsetBuffer::new(offsets.into()),
            child,
            nulls.clone(),
        )?))
    };
    let errors: ArrayRef = if rows.errors.is_empty() {
        Arc::new(StringArray::new_null(n))
    } else {
        let mut b = StringBuilder::new();
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
            dictionary(keys(|o| o.level), &ids.levels)?,
            dictionary(keys(|o| o.lowest), &ids.levels)?,
            dictionary(keys(|o| o.highest), &ids.levels)?,
            bools(|o| o.refer),
            bools(|o| o.needs_review),
            list(|o| &o.deciding, &ids.rules)?,
            list(|o| &o.flags, &ids.flags)?,
            errors,
        ],
    )
}

/// The dictionaries of the output: level, rule and flag ids.
struct Ids {
    levels: ArrayRef,
    rules: ArrayRef,
    flags: ArrayRef,
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
        let ids = Ids {
            levels: Arc::new(StringArray::from_iter_values(
                rs.levels().iter().map(|l| &l.id),
            )),
            rules: Arc::new(StringArray::from_iter_values(
                rs.rules().iter().map(|r| &r.id),
            )),
            flags: Arc::new(StringArray::from_iter_values(
                rs.flags().iter().map(|f| &f.id),
            )),
        };
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_one_plus_class() {
        let rs = Ruleset::default_ruleset().unwrap();
        let f = &rs.factors()[rs.factor_index("harm_risk").unwrap()];
        let mut enc = Encoder::new(f);
        assert_eq!(enc.text("none"), Ok(1));
        assert_eq!(enc.text("imminent"), Ok(5));
        let bad = enc.text("extreme").unwrap_err();
        assert!(bad.starts_with("`harm_risk`: "), "{bad}");
        // The same bad value gets the same (shared) message.
        assert!(Arc::ptr_eq(&bad, &enc.text("extreme").unwrap_err()));
        assert!(enc.value(Value::Integer(2)).is_err());
    }

    #[test]
    fn memo_evaluates_each_combination_once() {
        let rs = Ruleset::default_ruleset().unwrap();
        let mut ev = Evaluator::new(&rs);
        let slots = vec![3, 1, 1, 1, 1, 1, 1, 1, 1];
        let a = ev.lookup(&slots);
        let b = ev.lookup(&slots);
        assert_eq!(a, b);
        assert_eq!(ev.results.len(), 1);
        let o = ev.results[a as usize].as_ref().unwrap();
        assert_eq!(rs.levels()[o.level as usize].id, "iop");
        // Unanswered questions: the range is open.
        let open = ev.lookup(&[3, 0, 1, 1, 1, 0, 1, 1, 1]);
        let o = ev.results[open as usize].as_ref().unwrap();
        assert!(o.lowest < o.highest && o.needs_review);
    }
}
