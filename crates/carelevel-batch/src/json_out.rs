//! Fast JSON result records.
//!
//! Most of the bytes of a result are texts of the ruleset: ids, labels, rationales,
//! messages, questions, citations. serde_json escapes every one of them again for
//! every record, which took most of the time of `--fields full`. Here each piece that
//! only borrows ruleset texts (a fired rule, a flag, a missing question, a level, the
//! provenance) is serialized **by serde_json** the first time it is seen and then
//! copied. A cached piece is reused only when every text of the new piece is the very
//! same memory (same address and length) as the cached one, so reuse is exact by
//! construction; anything else is serialized afresh. Ids (of levels, rules, flags,
//! factors) and the start of each dimension report are escaped by serde_json once,
//! when the cache is made; a text made per record (an answer value, a dimension
//! summary, a review reason) is copied between quotes when no byte of it needs an
//! escape, and written by serde_json when one does.
//!
//! The record structure (field names and order) is written here, mirroring
//! `Assessment`. To stay exact if `Assessment` changes, the first full record of every
//! chunk is also serialized by serde and compared ([`super::process`]); on any
//! difference the rest of the batch uses serde only. Tests compare the two writers on
//! every record of several rulesets.

use std::borrow::Cow;
use std::sync::OnceLock;

use carelevel::{
    Assessment, Basis, Decision, DimensionReport, FiredFlag, FiredRule, FlagKind, LevelRef,
    MissingAnswer, Provenance, RecordId, Ruleset, Value,
};
use serde::Serialize;

/// Where a text lives: (address, length). Equal spans are the same bytes.
type Span = (usize, usize);

/// The span of a string.
fn span(s: &str) -> Span {
    (s.as_ptr() as usize, s.len())
}

/// The span of a borrowed text; `None` for an owned one (not cacheable).
#[allow(
    clippy::ptr_arg,
    reason = "whether the text is borrowed is the point: only borrowed texts have a stable address"
)]
fn borrowed(c: &Cow<'_, str>) -> Option<Span> {
    match c {
        Cow::Borrowed(s) => Some(span(s)),
        Cow::Owned(_) => None,
    }
}

/// The span of an optional borrowed text (`(0, 0)` for `None`).
fn borrowed_opt(c: &Option<Cow<'_, str>>) -> Option<Span> {
    match c {
        None => Some((0, 0)),
        Some(c) => borrowed(c),
    }
}

/// The spans of the texts a piece is made from (and small numbers, such as a rank,
/// as spans of length 0), padded with `(0, 0)`: at most five, the provenance's.
type Key = [Span; 5];

/// The key of a piece, or `None` when one of its texts is owned (not cacheable).
fn key<const N: usize>(parts: [Option<Span>; N]) -> Option<Key> {
    let mut key = [(0, 0); 5];
    for (slot, part) in key.iter_mut().zip(parts) {
        *slot = part?;
    }
    Some(key)
}

/// A cached serialization and the spans of the texts it was made from.
struct Piece {
    key: Key,
    json: Vec<u8>,
}

/// One lazily filled cache slot.
type Slot = OnceLock<Piece>;

/// Pre-escaped ruleset ids and lazily cached pieces, shared by all workers.
pub(crate) struct JsonCache {
    /// (span of the id in the ruleset, JSON string) per level, rule and flag.
    level_ids: Vec<(Span, Vec<u8>)>,
    rule_ids: Vec<(Span, Vec<u8>)>,
    flag_ids: Vec<(Span, Vec<u8>)>,
    /// (span of the id in the ruleset, JSON string) per factor.
    factor_ids: Vec<(Span, Vec<u8>)>,
    /// Per dimension: the spans of its id and label, and the JSON that starts its
    /// report, `{"id":..,"label":..,"answers":`.
    dimension_heads: Vec<([Span; 2], Vec<u8>)>,
    levels: Vec<Slot>,
    fired_rules: Vec<Slot>,
    fired_flags: Vec<Slot>,
    /// By factor, then `could_change_level`.
    missing: Vec<[Slot; 2]>,
    provenance: Slot,
}

/// The JSON of a string (cannot fail).
fn json_string(s: &str) -> Vec<u8> {
    serde_json::to_vec(s).unwrap_or_default()
}

/// Whether any byte of `bytes` is one serde_json escapes: below 0x20, `"` or `\\`.
/// Eight bytes at a time: a word has such a byte when one of its bytes is below
/// 0x20, or is zero after xor with all-`"` or all-`\\` (the classic "has zero byte"
/// and "has byte less than" tests, exact as yes/no answers).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let has_below_0x20 = |v: u64| v.wrapping_sub(ONES * 0x20) & !v & HIGHS != 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let v = u64::from_le_bytes(w);
        if has_below_0x20(v)
            || has_zero(v ^ (ONES * u64::from(b'"')))
            || has_zero(v ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A string as JSON: copied between quotes when no byte of it needs escaping (as
/// serde_json decides: `"`, `\\` and control characters), else written by serde_json.
fn string(buf: &mut Vec<u8>, s: &str) -> Result<(), String> {
    if !needs_escape(s.as_bytes()) {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
        Ok(())
    } else {
        serde(buf, s)
    }
}

/// Write `value` with serde_json.
fn serde(buf: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) -> Result<(), String> {
    serde_json::to_writer(&mut *buf, value).map_err(|e| e.to_string())
}

/// The index of the entry whose id is the very text `s`.
fn find<T>(entries: &[(Span, T)], s: &str) -> Option<usize> {
    let key = span(s);
    entries.iter().position(|(k, _)| *k == key)
}

/// Write the cached piece of `slot` when its key matches, else serialize `value` (and
/// cache it if the slot is empty).
fn piece(
    buf: &mut Vec<u8>,
    slot: Option<&Slot>,
    key: Option<Key>,
    value: &impl Serialize,
) -> Result<(), String> {
    if let (Some(slot), Some(key)) = (slot, key) {
        if let Some(p) = slot.get() {
            if p.key == key {
                buf.extend_from_slice(&p.json);
                return Ok(());
            }
        } else {
            let mut json = Vec::new();
            serde(&mut json, value)?;
            buf.extend_from_slice(&json);
            // Another worker may have filled it meanwhile: either is right for its key.
            let _ = slot.set(Piece { key, json });
            return Ok(());
        }
    }
    serde(buf, value)
}

/// `[a,b,c]` of items written by `write`.
fn list<T>(
    buf: &mut Vec<u8>,
    items: &[T],
    mut write: impl FnMut(&mut Vec<u8>, &T) -> Result<(), String>,
) -> Result<(), String> {
    buf.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write(buf, item)?;
    }
    buf.push(b']');
    Ok(())
}

/// `true` or `false`.
fn boolean(buf: &mut Vec<u8>, b: bool) {
    buf.extend_from_slice(if b { b"true" } else { b"false" });
}

impl JsonCache {
    pub fn new(ruleset: &Ruleset) -> Self {
        let ids = |it: &mut dyn Iterator<Item = &String>| -> Vec<(Span, Vec<u8>)> {
            it.map(|id| (span(id), json_string(id))).collect()
        };
        let slots = |n: usize| (0..n).map(|_| Slot::new()).collect::<Vec<_>>();
        JsonCache {
            level_ids: ids(&mut ruleset.levels().iter().map(|l| &l.id)),
            rule_ids: ids(&mut ruleset.rules().iter().map(|r| &r.id)),
            flag_ids: ids(&mut ruleset.flags().iter().map(|f| &f.id)),
            factor_ids: ids(&mut ruleset.factors().iter().map(|f| &f.id)),
            dimension_heads: ruleset
                .dimensions()
                .iter()
                .map(|d| {
                    let mut head = b"{\"id\":".to_vec();
                    head.extend_from_slice(&json_string(&d.id));
                    head.extend_from_slice(b",\"label\":");
                    head.extend_from_slice(&json_string(&d.label));
                    head.extend_from_slice(b",\"answers\":");
                    ([span(&d.id), span(&d.label)], head)
                })
                .collect(),
            levels: slots(ruleset.levels().len()),
            fired_rules: slots(ruleset.rules().len()),
            fired_flags: slots(ruleset.flags().len()),
            missing: (0..ruleset.factors().len())
                .map(|_| [Slot::new(), Slot::new()])
                .collect(),
            provenance: Slot::new(),
        }
    }

    /// The index of a level by its id (the ruleset's own text first, then by value).
    pub fn level_index(&self, id: &str) -> Option<usize> {
        find(&self.level_ids, id).or_else(|| self.by_value(&self.level_ids, id))
    }

    /// The index of a flag by its id (the ruleset's own text first, then by value).
    pub fn flag_index(&self, id: &str) -> Option<usize> {
        find(&self.flag_ids, id).or_else(|| self.by_value(&self.flag_ids, id))
    }

    /// The index of the entry whose JSON is that of `id`.
    fn by_value(&self, entries: &[(Span, Vec<u8>)], id: &str) -> Option<usize> {
        let json = json_string(id);
        entries.iter().position(|(_, j)| *j == json)
    }

    /// A ruleset id as a JSON string: pre-escaped when it is the ruleset's own text.
    fn id(buf: &mut Vec<u8>, ids: &[(Span, Vec<u8>)], s: &str) -> Result<(), String> {
        match find(ids, s).and_then(|i| ids.get(i)) {
            Some((_, json)) => {
                buf.extend_from_slice(json);
                Ok(())
            }
            None => serde(buf, s),
        }
    }

    /// `{"id":..,"line":..,` — the start of every result record.
    fn head(buf: &mut Vec<u8>, id: Option<&RecordId>, line: u64) -> Result<(), String> {
        buf.extend_from_slice(b"{\"id\":");
        serde(buf, &id)?;
        buf.extend_from_slice(b",\"line\":");
        serde(buf, &line)
    }

    /// A compact record, newline included:
    /// `{"id":..,"line":..,"level":..,"deciding_rules":[..],"flags":[..],"refer":..,"needs_review":..}`.
    pub fn compact(
        &self,
        buf: &mut Vec<u8>,
        id: Option<&RecordId>,
        line: u64,
        d: &Decision<'_>,
    ) -> Result<(), String> {
        Self::head(buf, id, line)?;
        buf.extend_from_slice(b",\"level\":");
        Self::id(buf, &self.level_ids, d.level)?;
        buf.extend_from_slice(b",\"deciding_rules\":");
        list(buf, &d.deciding_rules, |b, r| {
            Self::id(b, &self.rule_ids, r)
        })?;
        buf.extend_from_slice(b",\"flags\":");
        list(buf, &d.flags, |b, f| Self::id(b, &self.flag_ids, f))?;
        buf.extend_from_slice(b",\"refer\":");
        boolean(buf, d.refer);
        buf.extend_from_slice(b",\"needs_review\":");
        boolean(buf, d.needs_review);
        buf.extend_from_slice(b"}\n");
        Ok(())
    }

    fn level(&self, buf: &mut Vec<u8>, l: &LevelRef<'_>) -> Result<(), String> {
        let slot = self.levels.get(l.rank);
        let key = key([borrowed(&l.id), borrowed(&l.label), Some((l.rank, 0))]);
        piece(buf, slot, key, l)
    }

    fn fired_rule(&self, buf: &mut Vec<u8>, r: &FiredRule<'_>) -> Result<(), String> {
        let slot = find(&self.rule_ids, &r.id).and_then(|i| self.fired_rules.get(i));
        let key = key([
            borrowed(&r.id),
            borrowed(&r.level),
            borrowed(&r.because),
            borrowed_opt(&r.source),
        ]);
        piece(buf, slot, key, r)
    }

    fn fired_flag(&self, buf: &mut Vec<u8>, f: &FiredFlag<'_>) -> Result<(), String> {
        let slot = find(&self.flag_ids, &f.id).and_then(|i| self.fired_flags.get(i));
        let kind = match f.kind {
            FlagKind::Refer => 0,
            FlagKind::Review => 1,
            FlagKind::Info => 2,
        };
        let key = key([
            borrowed(&f.id),
            Some((kind, 0)),
            borrowed(&f.message),
            borrowed_opt(&f.source),
        ]);
        piece(buf, slot, key, f)
    }

    fn missing(&self, buf: &mut Vec<u8>, m: &MissingAnswer<'_>) -> Result<(), String> {
        let slot = find(&self.factor_ids, &m.factor)
            .and_then(|i| self.missing.get(i))
            .and_then(|s| s.get(usize::from(m.could_change_level)));
        let key = key([
            borrowed(&m.factor),
            borrowed(&m.question),
            Some((usize::from(m.could_change_level), 0)),
        ]);
        piece(buf, slot, key, m)
    }

    /// One dimension's report: the ruleset texts it holds pre-escaped, the rest (answer
    /// values, the summary) escaped here; a report whose id or label is not the
    /// ruleset's own text is written by serde.
    fn dimension(&self, buf: &mut Vec<u8>, r: &DimensionReport<'_>) -> Result<(), String> {
        let head = self
            .dimension_heads
            .iter()
            .find(|(key, _)| Some(key[0]) == borrowed(&r.id) && Some(key[1]) == borrowed(&r.label));
        let Some((_, head)) = head else {
            return serde(buf, r);
        };
        buf.extend_from_slice(head);
        list(buf, &r.answers, |b, a| {
            b.extend_from_slice(b"{\"factor\":");
            Self::id(b, &self.factor_ids, &a.factor)?;
            b.extend_from_slice(b",\"value\":");
            match &a.value {
                Value::Text(t) => string(b, t)?,
                other => serde(b, other)?,
            }
            b.extend_from_slice(b",\"assumed\":");
            boolean(b, a.assumed);
            b.push(b'}');
            Ok(())
        })?;
        buf.extend_from_slice(b",\"missing\":");
        list(buf, &r.missing, |b, f| Self::id(b, &self.factor_ids, f))?;
        buf.extend_from_slice(b",\"fired_rules\":");
        list(buf, &r.fired_rules, |b, id| Self::id(b, &self.rule_ids, id))?;
        buf.extend_from_slice(b",\"flags\":");
        list(buf, &r.flags, |b, id| Self::id(b, &self.flag_ids, id))?;
        buf.extend_from_slice(b",\"possible_flags\":");
        list(buf, &r.possible_flags, |b, id| {
            Self::id(b, &self.flag_ids, id)
        })?;
        buf.extend_from_slice(b",\"level\":");
        self.level(buf, &r.level)?;
        buf.extend_from_slice(b",\"could_rise_to\":");
        match &r.could_rise_to {
            Some(l) => self.level(buf, l)?,
            None => buf.extend_from_slice(b"null"),
        }
        buf.extend_from_slice(b",\"summary\":");
        string(buf, &r.summary)?;
        buf.push(b'}');
        Ok(())
    }

    fn provenance(&self, buf: &mut Vec<u8>, p: &Provenance<'_>) -> Result<(), String> {
        let key = key([
            borrowed(&p.ruleset_id),
            borrowed(&p.ruleset_version),
            borrowed(&p.ruleset_sha256),
            borrowed(&p.engine),
            borrowed(&p.engine_version),
        ]);
        piece(buf, Some(&self.provenance), key, p)
    }

    /// A full record, newline included: `{"id":..,"line":..,"assessment":{..}}`, the
    /// assessment with the fields of `Assessment` in their declaration order.
    pub fn full(
        &self,
        buf: &mut Vec<u8>,
        id: Option<&RecordId>,
        line: u64,
        a: &Assessment<'_>,
    ) -> Result<(), String> {
        Self::head(buf, id, line)?;
        buf.extend_from_slice(b",\"assessment\":{\"level\":");
        self.level(buf, &a.level)?;
        buf.extend_from_slice(b",\"basis\":");
        buf.extend_from_slice(match a.basis {
            Basis::Rules => b"\"rules\"",
            Basis::Score => b"\"score\"",
            Basis::RulesAndScore => b"\"rules_and_score\"",
            Basis::LowestLevel => b"\"lowest_level\"",
            Basis::MissingAnswers => b"\"missing_answers\"",
        });
        buf.extend_from_slice(b",\"deciding_rules\":");
        list(buf, &a.deciding_rules, |b, r| {
            Self::id(b, &self.rule_ids, r)
        })?;
        buf.extend_from_slice(b",\"fired_rules\":");
        list(buf, &a.fired_rules, |b, r| self.fired_rule(b, r))?;
        buf.extend_from_slice(b",\"score\":");
        serde(buf, &a.score)?;
        buf.extend_from_slice(b",\"flags\":");
        list(buf, &a.flags, |b, f| self.fired_flag(b, f))?;
        buf.extend_from_slice(b",\"refer\":");
        boolean(buf, a.refer);
        buf.extend_from_slice(b",\"possible_flags\":");
        list(buf, &a.possible_flags, |b, f| self.fired_flag(b, f))?;
        buf.extend_from_slice(b",\"missing\":");
        list(buf, &a.missing, |b, m| self.missing(b, m))?;
        buf.extend_from_slice(b",\"level_range\":{\"lowest\":");
        self.level(buf, &a.level_range.lowest)?;
        buf.extend_from_slice(b",\"highest\":");
        self.level(buf, &a.level_range.highest)?;
        buf.extend_from_slice(b"},\"assumed\":");
        serde(buf, &a.assumed)?;
        buf.extend_from_slice(b",\"needs_review\":");
        boolean(buf, a.needs_review);
        buf.extend_from_slice(b",\"review_reasons\":");
        list(buf, &a.review_reasons, |b, r| string(b, r))?;
        // Only with a ruleset that declares dimensions (left out otherwise, as serde
        // does).
        if let Some(dimensions) = &a.dimensions {
            buf.extend_from_slice(b",\"dimensions\":");
            list(buf, dimensions, |b, d| self.dimension(b, d))?;
        }
        buf.extend_from_slice(b",\"provenance\":");
        self.provenance(buf, &a.provenance)?;
        buf.extend_from_slice(b"}}\n");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use carelevel::{FactorKind, Ruleset, Value};

    use super::*;
    use crate::process::{CompactOut, FullOut};

    /// SplitMix64.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) % n.max(1)
        }
    }

    /// Dimension and level labels whose JSON needs escapes (quotes, a backslash, a
    /// tab) or holds non-ASCII text, in the reports and their summaries (answer values
    /// are identifiers: they never need one).
    const ESCAPES: &str = r#"id: t
version: '1'
title: T
description: D
dimensions:
  - {id: withdrawal, label: "Withdrawal \"potential\" \\ risk", description: W}
  - {id: environment, label: "Recovery\tenvironment \u2028é", description: E}
levels:
  - {id: out, label: Outpatient, description: o}
  - {id: iop, label: "I\"OP", description: i}
  - {id: res, label: Residential, description: r}
factors:
  - {id: withdrawal, kind: ordinal, question: Q, values: [none, moderate, high], dimension: withdrawal}
  - {id: support, kind: ordinal, question: Q, values: [strong, none], dimension: environment}
  - {id: step_down, kind: boolean, question: Q, missing: {assume: false}, dimension: environment}
  - {id: age, kind: integer, question: Q, min: 0, max: 120, bands: [{id: minor, min: 0, max: 17}, {id: adult, min: 18, max: 120}], dimension: environment}
rules:
  - {id: w_iop, when: {withdrawal: {at_least: moderate}}, level: iop, because: B, dimension: withdrawal}
  - {id: w_res, when: {withdrawal: high}, level: res, because: B, dimension: withdrawal}
  - {id: s_iop, when: {support: none}, level: iop, because: B, dimension: environment}
  - {id: young, when: {age: {at_most: 17}}, level: iop, because: B, dimension: environment}
flags:
  - {id: refer_high, kind: refer, when: {withdrawal: high}, message: M, dimension: withdrawal}
  - {id: info_no_support, kind: info, when: {support: none}, message: M, dimension: environment}
"#;

    /// The word-at-a-time test agrees with the byte-by-byte one for every byte value
    /// at every position of every length up to three words and a tail, in a run of
    /// plain bytes and next to bytes just above and below the limits.
    #[test]
    fn needs_escape_is_the_byte_by_byte_test() {
        let naive = |b: &[u8]| b.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\');
        for fill in [b'a', 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xff] {
            for len in 0..=27 {
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut v = vec![fill; len];
                        v[at] = byte;
                        assert_eq!(super::needs_escape(&v), naive(&v), "{v:?}");
                    }
                }
            }
        }
    }

    fn rulesets() -> Vec<Ruleset> {
        vec![
            Ruleset::default_ruleset().unwrap(),
            Ruleset::from_yaml(include_str!("../../../examples/rulesets/six-levels.yaml")).unwrap(),
            Ruleset::from_yaml(ESCAPES).unwrap(),
        ]
    }

    /// The fast writers write exactly what serde writes, for thousands of answer sets
    /// (complete, and with up to three answers missing), borrowed and owned.
    #[test]
    fn fast_json_is_serde_json() {
        for rs in rulesets() {
            let cache = JsonCache::new(&rs);
            let mut rng = Rng(3);
            for n in 0..3000u64 {
                let mut answers = rs.new_answers();
                for f in rs.factors() {
                    if rng.below(8) == 0 {
                        continue;
                    }
                    let value = match &f.kind {
                        FactorKind::Ordinal { values } => {
                            Value::Text(values[rng.below(values.len() as u64) as usize].clone())
                        }
                        FactorKind::Integer { min, max, .. } => Value::Integer(
                            min + i64::try_from(rng.below((max - min + 1) as u64)).unwrap(),
                        ),
                        FactorKind::Boolean => Value::Boolean(rng.below(2) == 0),
                    };
                    answers.set(&f.id, value).unwrap();
                }
                let id = match n % 3 {
                    0 => None,
                    1 => Some(RecordId::Integer(i64::try_from(n).unwrap())),
                    _ => Some(RecordId::Text(format!("p\"{n}\"\u{2028}"))),
                };
                let (Ok(d), Ok(a)) = (rs.decide(&answers), rs.assess(&answers)) else {
                    continue;
                };
                let mut fast = Vec::new();
                cache.compact(&mut fast, id.as_ref(), n, &d).unwrap();
                let mut slow = serde_json::to_vec(&CompactOut {
                    id: id.as_ref(),
                    line: n,
                    level: d.level,
                    deciding_rules: &d.deciding_rules,
                    flags: &d.flags,
                    refer: d.refer,
                    needs_review: d.needs_review,
                })
                .unwrap();
                slow.push(b'\n');
                assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    String::from_utf8(slow).unwrap()
                );

                for a in [a.clone(), a.into_owned()] {
                    let mut fast = Vec::new();
                    cache.full(&mut fast, id.as_ref(), n, &a).unwrap();
                    let mut slow = serde_json::to_vec(&FullOut {
                        id: id.as_ref(),
                        line: n,
                        assessment: &a,
                    })
                    .unwrap();
                    slow.push(b'\n');
                    assert_eq!(
                        String::from_utf8(fast).unwrap(),
                        String::from_utf8(slow).unwrap()
                    );
                }
            }
        }
    }
}
