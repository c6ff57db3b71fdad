//! Column decoding: each answer column becomes one *slot* per row, 0 for unanswered,
//! `1 + class` for an answer (its class in the sense of `Factor::classes`), or `BAD`.
//!
//! Every distinct value is decoded by the core once: dictionary values once per batch
//! (rows then read a lookup table by dictionary index), booleans once per encoder, the
//! texts of an ordinal scale by a comparison of at most 16 bytes held in one `u128`,
//! and each distinct bad value's message once.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, OffsetSizeTrait};
use arrow_schema::DataType;
use carelevel::{AnswerProblem, Factor, Value};

use crate::convert::{float_answer, FloatAnswer};

/// The slot of a value that is not a valid answer.
pub(super) const BAD: u32 = u32::MAX;

/// One column's answers as slots, and the messages of its bad values by row.
#[derive(Default)]
pub(super) struct Slots {
    /// One slot per row.
    pub(super) slots: Vec<u32>,
    /// The rows whose slot is `BAD`, in row order, with the message of each.
    pub(super) bad: Vec<(usize, Arc<str>)>,
}

/// A short text packed for comparison: its length and up to 16 bytes, zero-padded.
/// Texts longer than 16 bytes are not packed (`None`).
fn packed(bytes: &[u8]) -> Option<(usize, u128)> {
    let mut buf = [0u8; 16];
    buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some((bytes.len(), u128::from_le_bytes(buf)))
}

/// Maps values of one factor to slots, remembering each distinct bad value's message.
pub(super) struct Encoder<'r> {
    factor: &'r Factor,
    /// For ordinal scales: value text and its slot, in scale order.
    scale: Vec<(&'r [u8], u32)>,
    /// The scale values of at most 16 bytes, packed, with their slots.
    short: Vec<((usize, u128), u32)>,
    /// Whether every scale value is packed in `short` (then a text that is not there,
    /// short or long, is not on the scale).
    all_short: bool,
    /// The slots (or messages) of `false` and `true`, once decoded.
    bools: [Option<Result<u32, Arc<str>>>; 2],
    bad_text: HashMap<Vec<u8>, Arc<str>>,
    bad_other: HashMap<String, Arc<str>>,
    /// The last dictionary mapped: the chunks of one batch share their dictionary.
    dictionary: Option<Mapped>,
}

/// One dictionary's values mapped to slots (`BAD` with the message for a bad value).
struct Mapped {
    /// The dictionary's values: held, so the identity compared below stays unique.
    values: ArrayRef,
    slots: Vec<u32>,
    bad: Vec<Option<Arc<str>>>,
}

impl<'r> Encoder<'r> {
    pub(super) fn new(factor: &'r Factor) -> Encoder<'r> {
        let scale: Vec<(&'r [u8], u32)> = match &factor.kind {
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
        let short: Vec<((usize, u128), u32)> = scale
            .iter()
            .filter_map(|&(v, slot)| packed(v).map(|p| (p, slot)))
            .collect();
        Encoder {
            factor,
            all_short: short.len() == scale.len(),
            scale,
            short,
            bools: [None, None],
            bad_text: HashMap::new(),
            bad_other: HashMap::new(),
            dictionary: None,
        }
    }

    /// The message of a problem with this factor's answer, as `assess` words it.
    pub(super) fn problem(&self, message: String) -> Arc<str> {
        Arc::from(
            AnswerProblem {
                factor: Some(self.factor.id.clone()),
                message,
                location: None,
            }
            .to_string(),
        )
    }

    /// The slot of a text answer.
    pub(super) fn text(&mut self, s: &str) -> Result<u32, Arc<str>> {
        self.text_bytes(s.as_bytes())
    }

    /// The slot of a text answer given as its UTF-8 bytes: scale values are matched on
    /// the bytes; only a text that is not a scale value is checked and decoded.
    fn text_bytes(&mut self, bytes: &[u8]) -> Result<u32, Arc<str>> {
        match packed(bytes) {
            Some(p) => {
                if let Some(&(_, slot)) = self.short.iter().find(|(q, _)| *q == p) {
                    return Ok(slot);
                }
            }
            None if !self.all_short => {
                if let Some(&(_, slot)) = self.scale.iter().find(|(v, _)| *v == bytes) {
                    return Ok(slot);
                }
            }
            None => {}
        }
        if let Some(m) = self.bad_text.get(bytes) {
            return Err(Arc::clone(m));
        }
        let Ok(s) = std::str::from_utf8(bytes) else {
            // Arrow guarantees valid UTF-8; say so if a producer broke that.
            return Err(self.invalid("a value that is not valid UTF-8 text"));
        };
        match self.factor.encode(&Value::Text(s.to_owned())) {
            Ok(code) => Ok(slot_of_code(self.factor, code)),
            Err(message) => {
                let m = self.problem(message);
                self.bad_text.insert(bytes.to_vec(), Arc::clone(&m));
                Err(m)
            }
        }
    }

    /// The slot of a boolean answer (decoded once per value).
    fn boolean(&mut self, b: bool) -> Result<u32, Arc<str>> {
        let cached = self.bools.get(usize::from(b)).cloned().flatten();
        if let Some(r) = cached {
            return r;
        }
        let r = self.value(Value::Boolean(b));
        if let Some(c) = self.bools.get_mut(usize::from(b)) {
            *c = Some(r.clone());
        }
        r
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

#[inline]
fn push(out: &mut Slots, row: usize, r: Result<u32, Arc<str>>) {
    match r {
        Ok(s) => out.slots.push(s),
        Err(m) => {
            out.slots.push(BAD);
            out.bad.push((row, m));
        }
    }
}

/// The texts of at most 16 bytes packed as by [`packed`], but read with one 16-byte
/// load and a mask when the column's data has 16 bytes from `start` on.
#[inline]
fn packed_at(values: &[u8], start: usize, len: usize) -> Option<(usize, u128)> {
    if len > 16 {
        return None;
    }
    match start
        .checked_add(16)
        .and_then(|e| values.get(start..e))
        .and_then(|w| <[u8; 16]>::try_from(w).ok())
    {
        Some(w) => {
            let mask = u128::MAX.checked_shr(u32::try_from(128 - 8 * len).ok()?);
            Some((len, u128::from_le_bytes(w) & mask.unwrap_or(0)))
        }
        None => packed(values.get(start..start.checked_add(len)?)?),
    }
}

/// A direct-mapped table of the packed scale values of one factor: a text of at most
/// 16 bytes is a scale value when it equals the one entry its hash picks. The hash's
/// multiplier is the first of a few that give every value its own entry; values whose
/// entry is still taken by another value are left to [`Encoder::text_bytes`].
struct ScaleTable {
    multiplier: u64,
    entries: [(usize, u128, u32); 64],
}

/// Odd multipliers tried for [`ScaleTable`], in order.
const MULTIPLIERS: [u64; 8] = [
    0x9E37_79B9_7F4A_7C15,
    0xC2B2_AE3D_27D4_EB4F,
    0x1656_67B1_9E37_79F9,
    0xFF51_AFD7_ED55_8CCD,
    0xC4CE_B9FE_1A85_EC53,
    0x2545_F491_4F6C_DD1D,
    0x9FB2_1C65_1E98_DF25,
    0xD6E8_FEB8_6659_FD93,
];

impl ScaleTable {
    #[inline]
    fn hash(multiplier: u64, (len, word): (usize, u128)) -> usize {
        let folded = (word as u64) ^ ((word >> 64) as u64) ^ (len as u64);
        (folded.wrapping_mul(multiplier) >> 58) as usize
    }

    fn new(enc: &Encoder<'_>) -> ScaleTable {
        let mut best: Option<(usize, ScaleTable)> = None;
        for multiplier in MULTIPLIERS {
            // Length 17 never matches a packed text (at most 16 bytes).
            let mut t = ScaleTable {
                multiplier,
                entries: [(17usize, 0u128, 0u32); 64],
            };
            let mut placed = 0;
            for &(p, slot) in &enc.short {
                if let Some(e) = t.entries.get_mut(ScaleTable::hash(multiplier, p)) {
                    if e.0 == 17 {
                        *e = (p.0, p.1, slot);
                        placed += 1;
                    }
                }
            }
            let all = placed == enc.short.len();
            if best.as_ref().is_none_or(|(n, _)| placed > *n) {
                best = Some((placed, t));
            }
            if all {
                break;
            }
        }
        best.map_or(
            ScaleTable {
                multiplier: 1,
                entries: [(17, 0, 0); 64],
            },
            |(_, t)| t,
        )
    }

    /// The slot of a packed text, if it is a scale value in the table.
    #[inline]
    fn get(&self, p: (usize, u128)) -> Option<u32> {
        match self.entries.get(ScaleTable::hash(self.multiplier, p)) {
            Some(&(len, word, slot)) if (len, word) == p => Some(slot),
            _ => None,
        }
    }
}

/// Slots of a `Utf8` or `LargeUtf8` array, read from its offsets and bytes.
fn offset_string_slots<O: OffsetSizeTrait>(
    enc: &mut Encoder<'_>,
    a: &arrow_array::GenericStringArray<O>,
    out: &mut Slots,
) {
    let offsets = a.value_offsets();
    let values = a.value_data();
    let nulls = a.nulls().filter(|n| n.null_count() > 0);
    let table = ScaleTable::new(enc);
    for (row, w) in offsets.windows(2).enumerate() {
        if nulls.is_some_and(|n| n.is_null(row)) {
            out.slots.push(0);
            continue;
        }
        let (start, end) = match (w.first(), w.get(1)) {
            (Some(start), Some(end)) => (start.as_usize(), end.as_usize()),
            _ => (0, usize::MAX),
        };
        // The common case: a scale value, found by one table probe.
        if let Some(slot) = packed_at(values, start, end.wrapping_sub(start))
            .filter(|_| end >= start)
            .and_then(|p| table.get(p))
        {
            out.slots.push(slot);
            continue;
        }
        let r = match values.get(start..end) {
            Some(b) => enc.text_bytes(b),
            // Arrow guarantees offsets within the data; say so if a producer broke that.
            None => Err(enc.invalid("a value whose offsets are outside the column's data")),
        };
        push(out, row, r);
    }
}

fn strings_of(array: &dyn Array) -> Option<Vec<Option<&str>>> {
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().iter().collect()),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().iter().collect()),
        DataType::Utf8View => Some(array.as_string_view().iter().collect()),
        _ => None,
    }
}

/// Slots of a dictionary column: each dictionary value is mapped once (once for all the
/// chunks of a batch, which share the dictionary), rows by index.
fn dictionary_slots(enc: &mut Encoder<'_>, array: &dyn Array, key: &DataType, out: &mut Slots) {
    let d = array.as_any_dictionary();
    let same = enc
        .dictionary
        .as_ref()
        .is_some_and(|m| Arc::ptr_eq(&m.values, d.values()));
    if !same {
        let mut slots = Vec::new();
        let mut bad: Vec<Option<Arc<str>>> = Vec::new();
        for v in strings_of(d.values().as_ref()).unwrap_or_default() {
            match v.map_or(Ok(0), |s| enc.text(s)) {
                Ok(slot) => {
                    slots.push(slot);
                    bad.push(None);
                }
                Err(m) => {
                    slots.push(BAD);
                    bad.push(Some(m));
                }
            }
        }
        enc.dictionary = Some(Mapped {
            values: Arc::clone(d.values()),
            slots,
            bad,
        });
    }
    let (mapped, mapped_bad): (&[u32], &[Option<Arc<str>>]) = match &enc.dictionary {
        Some(m) => (&m.slots, &m.bad),
        None => (&[], &[]),
    };
    macro_rules! by_index {
        ($t:ty) => {
            out.slots.extend(
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
                    }),
            )
        };
    }
    match key {
        DataType::Int8 => by_index!(Int8Type),
        DataType::Int16 => by_index!(Int16Type),
        DataType::Int32 => by_index!(Int32Type),
        DataType::Int64 => by_index!(Int64Type),
        DataType::UInt8 => by_index!(UInt8Type),
        DataType::UInt16 => by_index!(UInt16Type),
        DataType::UInt32 => by_index!(UInt32Type),
        _ => by_index!(UInt64Type),
    }
    // A null key is unanswered, whatever index its slot holds.
    if let Some(nulls) = d.keys().logical_nulls().filter(|n| n.null_count() > 0) {
        for (s, valid) in out.slots.iter_mut().zip(nulls.iter()) {
            if !valid {
                *s = 0;
            }
        }
    }
    // A bad value, or a key past the dictionary (a broken producer), makes a bad row.
    if out.slots.contains(&BAD) {
        let keys = d.normalized_keys();
        for (row, _) in out.slots.iter().enumerate().filter(|(_, &s)| s == BAD) {
            let k = keys.get(row).copied().unwrap_or(usize::MAX);
            let m = match mapped_bad.get(k) {
                Some(Some(m)) => Arc::clone(m),
                _ => Arc::from(
                    AnswerProblem {
                        factor: Some(enc.factor.id.clone()),
                        message: format!("dictionary key {k} is out of range"),
                        location: None,
                    }
                    .to_string(),
                ),
            };
            out.bad.push((row, m));
        }
    }
}

/// The slots of one column of a batch, into `out` (emptied first, its buffer reused).
pub(super) fn column_slots(enc: &mut Encoder<'_>, array: &dyn Array, out: &mut Slots) {
    let len = array.len();
    out.slots.clear();
    out.bad.clear();
    out.slots.reserve(len);
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
                push(out, row, r);
            }
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
                push(out, row, r);
            }
        }};
    }
    match array.data_type() {
        DataType::Utf8 => offset_string_slots(enc, array.as_string::<i32>(), out),
        DataType::LargeUtf8 => offset_string_slots(enc, array.as_string::<i64>(), out),
        DataType::Utf8View => {
            let a = array.as_string_view();
            for row in 0..len {
                if a.is_null(row) {
                    out.slots.push(0);
                } else {
                    let r = enc.text(a.value(row));
                    push(out, row, r);
                }
            }
        }
        DataType::Dictionary(key, _) => dictionary_slots(enc, array, key, out),
        DataType::Boolean => {
            let a = array.as_boolean();
            // Both values decode to slots (a boolean question): one pass over the bits.
            if let (Ok(f), Ok(t)) = (enc.boolean(false), enc.boolean(true)) {
                out.slots
                    .extend(a.values().iter().map(|b| if b { t } else { f }));
                if let Some(nulls) = a.nulls().filter(|n| n.null_count() > 0) {
                    for (s, valid) in out.slots.iter_mut().zip(nulls.iter()) {
                        if !valid {
                            *s = 0;
                        }
                    }
                }
                return;
            }
            for row in 0..len {
                if a.is_null(row) {
                    out.slots.push(0);
                } else {
                    let r = enc.boolean(a.value(row));
                    push(out, row, r);
                }
            }
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
        _ => out.slots.resize(len, 0),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // reason: test code
mod tests {
    use super::*;
    use carelevel::Ruleset;

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
        // A prefix, an extension and a long text are not scale values.
        assert!(enc.text("non").is_err());
        assert!(enc.text("none ").is_err());
        assert!(enc
            .text("imminent and very much longer than sixteen bytes")
            .is_err());
        assert!(enc.value(Value::Integer(2)).is_err());
    }

    #[test]
    fn packed_texts_compare_as_the_texts() {
        assert_eq!(packed(b"low"), packed(b"low"));
        assert_ne!(packed(b"low"), packed(b"low\0"));
        assert_ne!(packed(b""), packed(b"\0"));
        assert!(packed(&[b'a'; 16]).is_some());
        assert!(packed(&[b'a'; 17]).is_none());
    }

    #[test]
    fn booleans_decode_once_with_the_core_result() {
        let rs = Ruleset::default_ruleset().unwrap();
        let i = rs.factor_index("step_down_from_inpatient").unwrap();
        let f = &rs.factors()[i];
        let mut enc = Encoder::new(f);
        for b in [true, false, true, false] {
            let want = f.encode(&Value::Boolean(b)).map(|c| slot_of_code(f, c));
            assert_eq!(enc.boolean(b).map_err(|_| ()), want.map_err(|_| ()));
        }
        // A boolean for an ordinal question: the core's message, every time.
        let g = &rs.factors()[rs.factor_index("severity").unwrap()];
        let mut enc = Encoder::new(g);
        let m = enc.boolean(true).unwrap_err();
        assert!(m.starts_with("`severity`: "), "{m}");
        assert_eq!(enc.boolean(true).unwrap_err(), m);
    }

    #[test]
    fn table_probe_and_masked_load_agree_with_packed() {
        let rs = Ruleset::default_ruleset().unwrap();
        for f in rs.factors() {
            let enc = Encoder::new(f);
            let table = ScaleTable::new(&enc);
            // Every scale value is found (no two collide in the default ruleset), with
            // the slot the encoder gives it.
            for &(p, slot) in &enc.short {
                assert_eq!(table.get(p), Some(slot), "{}", f.id);
            }
        }
        // The masked 16-byte load equals the copy, at any position, near the end too.
        let data = b"nonemildmoderatesevere none  x";
        for start in 0..data.len() {
            for len in 0..=(data.len() - start).min(17) {
                let want = packed(&data[start..start + len]);
                assert_eq!(packed_at(data, start, len), want, "{start} {len}");
            }
        }
        assert_eq!(packed_at(data, usize::MAX - 3, 2), None);
        assert_eq!(packed_at(data, data.len() + 1, 0), None);
    }

    #[test]
    fn string_columns_with_offsets_decode_as_each_text() {
        // A sliced column (offsets not starting at 0), nulls, near-misses and a text
        // past 16 bytes: the probe path and the encoder agree row by row.
        let rs = Ruleset::default_ruleset().unwrap();
        let f = &rs.factors()[rs.factor_index("severity").unwrap()];
        let texts = [
            Some("x"),
            Some("moderate"),
            None,
            Some("mild"),
            Some("mildx"),
            Some(""),
            Some("severe"),
            Some("severe and far longer than sixteen"),
            Some("none"),
        ];
        let array = arrow_array::StringArray::from(texts.to_vec());
        let sliced = array.slice(1, texts.len() - 1);
        let mut enc = Encoder::new(f);
        let mut out = Slots::default();
        column_slots(&mut enc, &sliced, &mut out);
        let mut check = Encoder::new(f);
        let want: Vec<u32> = texts[1..]
            .iter()
            .map(|t| t.map_or(0, |t| check.text(t).unwrap_or(BAD)))
            .collect();
        assert_eq!(out.slots, want);
        let bad_rows: Vec<usize> = out.bad.iter().map(|(r, _)| *r).collect();
        assert_eq!(bad_rows, vec![3, 4, 6]);
    }

    #[test]
    fn dictionary_mapping_is_shared_by_slices_of_one_dictionary() {
        let rs = Ruleset::default_ruleset().unwrap();
        let f = &rs.factors()[rs.factor_index("severity").unwrap()];
        let keys = arrow_array::Int8Array::from(vec![Some(0), Some(1), None, Some(2), Some(0)]);
        let values = arrow_array::StringArray::from(vec!["mild", "extreme", "severe"]);
        let dict = arrow_array::DictionaryArray::try_new(keys, Arc::new(values)).unwrap();
        let mut enc = Encoder::new(f);
        let mut out = Slots::default();
        column_slots(&mut enc, &dict.slice(0, 2), &mut out);
        assert_eq!(out.slots, vec![2, BAD]);
        assert_eq!(out.bad.len(), 1);
        let first = Arc::clone(&enc.dictionary.as_ref().unwrap().values);
        column_slots(&mut enc, &dict.slice(2, 3), &mut out);
        assert_eq!(out.slots, vec![0, 4, 2]);
        assert!(out.bad.is_empty());
        // The second slice reused the mapping of the first (same dictionary values).
        assert!(Arc::ptr_eq(
            &first,
            &enc.dictionary.as_ref().unwrap().values
        ));
    }

    #[test]
    fn boolean_columns_with_offsets_and_nulls() {
        let rs = Ruleset::default_ruleset().unwrap();
        let f = &rs.factors()[rs.factor_index("step_down_from_inpatient").unwrap()];
        let array = arrow_array::BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            Some(true),
            Some(false),
        ]);
        let mut enc = Encoder::new(f);
        let (no, yes) = (enc.boolean(false).unwrap(), enc.boolean(true).unwrap());
        let mut out = Slots::default();
        column_slots(&mut enc, &array.slice(1, 4), &mut out);
        assert_eq!(out.slots, vec![no, 0, yes, no]);
    }
}
