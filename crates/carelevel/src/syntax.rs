//! The one module that knows YAML.
//!
//! Ruleset, answer and test-file text is parsed here into plain `Raw*` structures
//! (serde derive over `serde_yaml`), and a [`Locator`] maps a path such as
//! `rules[3].when.any[1].housing` back to its line and column (from the
//! `saphyr-parser` event stream, because serde exposes no spans). Nothing else in
//! the crate names `serde_yaml` or `saphyr_parser`, so either can be swapped here.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::budget::{Expansion, NodeEvent, OverBudget};
use crate::error::{Diagnostic, Location};
use crate::limits;
use crate::text::Shown;

/// A scalar as written in YAML: text, whole number or boolean.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum RawScalar {
    Text(String),
    Integer(i64),
    Boolean(bool),
}

impl fmt::Display for RawScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Diagnostics quote what was written, escaped; a 4 MiB answer is quoted only in part.
        match self {
            RawScalar::Text(s) => write!(f, "`{}`", Shown::excerpt(s)),
            RawScalar::Integer(i) => write!(f, "{i}"),
            RawScalar::Boolean(b) => write!(f, "{b}"),
        }
    }
}

impl<'de> Deserialize<'de> for RawScalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawScalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar: a name, a whole number, or true/false")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawScalar, E> {
                Ok(RawScalar::Text(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawScalar, E> {
                Ok(RawScalar::Boolean(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawScalar, E> {
                Ok(RawScalar::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawScalar, E> {
                i64::try_from(v).map(RawScalar::Integer).map_err(|_| {
                    E::custom(format_args!(
                        "the number {v} is too large: expected a whole number from -{max} to {max}",
                        max = limits::MAX_INTEGER
                    ))
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawScalar, E> {
                Err(E::custom(format_args!(
                    "{v} is not a whole number; expected a name, a whole number, or true/false"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A YAML mapping kept in source order, with duplicate keys reported.
#[derive(Debug, Clone)]
pub(crate) struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<'de, K, V> Deserialize<'de> for OrderedMap<K, V>
where
    K: Deserialize<'de> + Eq + std::hash::Hash + Clone + fmt::Display,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K, V> Visitor<'de> for MapVisitor<K, V>
        where
            K: Deserialize<'de> + Eq + std::hash::Hash + Clone + fmt::Display,
            V: Deserialize<'de>,
        {
            type Value = OrderedMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(K, V)> = Vec::new();
                // A set, not a scan of `out`: a 4 MiB file can hold 400,000 keys.
                let mut seen: std::collections::HashSet<K> = std::collections::HashSet::new();
                while let Some(key) = map.next_key::<K>()? {
                    if !seen.insert(key.clone()) {
                        return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                    }
                    let value = map.next_value::<V>()?;
                    out.push((key, value));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

/// A ruleset file as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a ruleset: a mapping with `id`, `version`, `title`, `description`, `levels`, `factors` and `rules`"
)]
pub(crate) struct RawRuleset {
    pub id: String,
    pub version: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub sources: Vec<RawSource>,
    #[serde(default)]
    pub dimensions: Vec<RawDimension>,
    pub levels: Vec<RawLevel>,
    pub factors: Vec<RawFactor>,
    #[serde(default)]
    pub scoring: Option<RawScoring>,
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub flags: Vec<RawFlag>,
    #[serde(default)]
    pub invariants: Vec<RawInvariant>,
}

/// A named safety property: whenever `when` holds, `expect` must.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an invariant: a mapping with `id`, `when` and `expect`"
)]
pub(crate) struct RawInvariant {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub when: Option<RawCondition>,
    pub expect: RawInvariantExpect,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an expectation: a mapping with `level`, `refer` or both"
)]
pub(crate) struct RawInvariantExpect {
    #[serde(default)]
    pub level: Option<RawLevelBound>,
    #[serde(default)]
    pub refer: Option<bool>,
}

/// `{at_least: L}`, `{at_most: L}` or `{is: L}`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a level bound: `{at_least: LEVEL}`, `{at_most: LEVEL}` or `{is: LEVEL}`"
)]
pub(crate) struct RawLevelBound {
    #[serde(default)]
    pub at_least: Option<String>,
    #[serde(default)]
    pub at_most: Option<String>,
    #[serde(default)]
    pub is: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a source: a mapping with `id` and `citation`"
)]
pub(crate) struct RawSource {
    pub id: String,
    pub citation: String,
}

/// A dimension of the assessment (`dimensions:`), which questions, rules and flags
/// may name with `dimension:`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a dimension: a mapping with `id`, `label`, `description` and optionally `source`"
)]
pub(crate) struct RawDimension {
    pub id: String,
    pub label: String,
    pub description: String,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a level: a mapping with `id`, `label` and `description`"
)]
pub(crate) struct RawLevel {
    pub id: String,
    pub label: String,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawFactorKind {
    Ordinal,
    Integer,
    Boolean,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a factor: a mapping with `id`, `kind`, `question` and the keys of its kind"
)]
pub(crate) struct RawFactor {
    pub id: String,
    pub kind: RawFactorKind,
    pub question: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub values: Option<Vec<String>>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    #[serde(default)]
    pub bands: Option<Vec<RawBand>>,
    #[serde(default)]
    pub missing: Option<RawMissing>,
    #[serde(default)]
    pub dimension: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a band: a mapping with `id`, `min` and `max`"
)]
pub(crate) struct RawBand {
    pub id: String,
    pub min: i64,
    pub max: i64,
}

/// `ask`, `error`, or `{assume: VALUE}`.
#[derive(Debug, Clone)]
pub(crate) enum RawMissing {
    Ask,
    Error,
    Assume(RawScalar),
}

impl<'de> Deserialize<'de> for RawMissing {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawMissing;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`ask`, `error`, or `{assume: VALUE}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawMissing, E> {
                match v {
                    "ask" => Ok(RawMissing::Ask),
                    "error" => Ok(RawMissing::Error),
                    other => Err(E::custom(format_args!(
                        "unknown missing-answer policy `{other}`; expected `ask`, `error`, or `{{assume: VALUE}}`"
                    ))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawMissing, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "empty mapping; expected `{assume: VALUE}`",
                    ));
                };
                if key != "assume" {
                    return Err(de::Error::custom(format_args!(
                        "unknown key `{key}`; expected `{{assume: VALUE}}`"
                    )));
                }
                let value = map.next_value::<RawScalar>()?;
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format_args!(
                        "unexpected key `{extra}`; `assume` takes exactly one value"
                    )));
                }
                Ok(RawMissing::Assume(value))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "scoring: a mapping with `points` and `bands`"
)]
pub(crate) struct RawScoring {
    pub points: OrderedMap<String, OrderedMap<RawScalar, i64>>,
    pub bands: Vec<RawScoreBand>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a score band: a mapping with `level`, `min` and `max`"
)]
pub(crate) struct RawScoreBand {
    pub level: String,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a rule: a mapping with `id`, `when`, `level` and `because`"
)]
pub(crate) struct RawRule {
    pub id: String,
    pub when: RawCondition,
    pub level: String,
    pub because: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub dimension: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawFlagKind {
    Refer,
    Review,
    Info,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a flag: a mapping with `id`, `kind`, `when` and `message`"
)]
pub(crate) struct RawFlag {
    pub id: String,
    pub kind: RawFlagKind,
    pub when: RawCondition,
    pub message: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub dimension: Option<String>,
}

/// The comparison operators a factor condition can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawOp {
    Is,
    In,
    AtLeast,
    AtMost,
    Between,
    Above,
    Below,
}

impl RawOp {
    pub(crate) const ALL: [(&'static str, RawOp); 7] = [
        ("is", RawOp::Is),
        ("in", RawOp::In),
        ("at_least", RawOp::AtLeast),
        ("at_most", RawOp::AtMost),
        ("between", RawOp::Between),
        ("above", RawOp::Above),
        ("below", RawOp::Below),
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            RawOp::Is => "is",
            RawOp::In => "in",
            RawOp::AtLeast => "at_least",
            RawOp::AtMost => "at_most",
            RawOp::Between => "between",
            RawOp::Above => "above",
            RawOp::Below => "below",
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub(crate) enum RawOperand {
    One(RawScalar),
    List(Vec<RawScalar>),
}

/// A condition as written: `all`, `any`, `not`, or `{factor: comparison}`.
#[derive(Debug, Clone)]
pub(crate) enum RawCondition {
    All(Vec<RawCondition>),
    Any(Vec<RawCondition>),
    Not(Box<RawCondition>),
    Compare {
        factor: String,
        op: RawOp,
        operand: RawOperand,
    },
}

const CONDITION_EXPECTED: &str =
    "a condition: a mapping with one key (`all`, `any`, `not`, or a factor id)";

/// The key of a condition mapping: a name, with an error that says so for anything else.
struct ConditionKey(String);

impl<'de> Deserialize<'de> for ConditionKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ConditionKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a condition key: `all`, `any`, `not` or a factor id")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ConditionKey, E> {
                Ok(ConditionKey(v.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for RawCondition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawCondition;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(CONDITION_EXPECTED)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawCondition, A::Error> {
                let Some(ConditionKey(key)) = map.next_key::<ConditionKey>()? else {
                    return Err(de::Error::custom(format_args!(
                        "empty condition; expected {CONDITION_EXPECTED}"
                    )));
                };
                let cond = match key.as_str() {
                    "all" => RawCondition::All(map.next_value()?),
                    "any" => RawCondition::Any(map.next_value()?),
                    "not" => RawCondition::Not(Box::new(map.next_value()?)),
                    _ => {
                        let cmp: RawComparison = map.next_value()?;
                        RawCondition::Compare {
                            factor: key.clone(),
                            op: cmp.op,
                            operand: cmp.operand,
                        }
                    }
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format_args!(
                        "a condition has exactly one key, found `{key}` and `{extra}`; \
                         combine several conditions with `all: [...]` or `any: [...]`"
                    )));
                }
                Ok(cond)
            }
        }
        d.deserialize_map(V)
    }
}

/// `{op: operand}` or a bare scalar (shorthand for `is`).
struct RawComparison {
    op: RawOp,
    operand: RawOperand,
}

impl<'de> Deserialize<'de> for RawComparison {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        fn is<E>(s: RawScalar) -> Result<RawComparison, E> {
            Ok(RawComparison {
                op: RawOp::Is,
                operand: RawOperand::One(s),
            })
        }
        impl<'de> Visitor<'de> for V {
            type Value = RawComparison;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a comparison such as `{at_least: moderate}` or a single value (shorthand for `is`)",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawComparison, E> {
                is(RawScalar::Text(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawComparison, E> {
                is(RawScalar::Boolean(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawComparison, E> {
                is(RawScalar::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawComparison, E> {
                RawScalar::deserialize(de::value::U64Deserializer::<E>::new(v)).and_then(is)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawComparison, E> {
                Err(E::custom(format_args!("{v} is not a whole number")))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<RawComparison, A::Error> {
                Err(de::Error::custom(
                    "a list needs an operator: write `{in: [...]}` or `{between: [LOW, HIGH]}`",
                ))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawComparison, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "empty comparison; expected one of is, in, at_least, at_most, between, above, below",
                    ));
                };
                let Some(op) = RawOp::ALL
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|(_, op)| *op)
                else {
                    let names: Vec<&str> = RawOp::ALL.iter().map(|(name, _)| *name).collect();
                    return Err(de::Error::custom(format_args!(
                        "unknown operator `{key}`{}; expected one of is, in, at_least, at_most, between, above, below \
                         (conditions nest only under `all`, `any` and `not`)",
                        crate::compile::did_you_mean(&key, &names)
                    )));
                };
                let operand = match op {
                    RawOp::In | RawOp::Between => RawOperand::List(map.next_value()?),
                    _ => RawOperand::One(map.next_value()?),
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format_args!(
                        "a comparison has exactly one operator, found `{key}` and `{extra}`; \
                         use `between: [LOW, HIGH]` or combine with `all: [...]`"
                    )));
                }
                Ok(RawComparison { op, operand })
            }
        }
        d.deserialize_any(V)
    }
}

/// A test file (`*.test.yaml`) as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a test file: a mapping with `ruleset` and `cases`"
)]
pub(crate) struct RawTestFile {
    pub ruleset: String,
    pub cases: Vec<RawTestCase>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a test case: a mapping with `name`, `answers` and `expect`"
)]
pub(crate) struct RawTestCase {
    pub name: String,
    #[serde(default)]
    pub answers: OrderedMap<String, RawAnswer>,
    pub expect: RawExpect,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an expectation: a mapping with `level` and optionally `rules`, `deciding`, `flags`, `refer`, `needs_review`"
)]
pub(crate) struct RawExpect {
    pub level: String,
    #[serde(default)]
    pub rules: Option<Vec<String>>,
    #[serde(default)]
    pub deciding: Option<Vec<String>>,
    #[serde(default)]
    pub flags: Option<Vec<String>>,
    #[serde(default)]
    pub refer: Option<bool>,
    #[serde(default)]
    pub needs_review: Option<bool>,
}

/// Parse YAML text into `T`, turning any failure into one located diagnostic.
pub(crate) fn parse_yaml<T: for<'de> Deserialize<'de>>(
    text: &str,
    what: &str,
) -> Result<T, Diagnostic> {
    if text.len() > limits::MAX_SOURCE_BYTES {
        return Err(Diagnostic::error(
            None,
            format!(
                "the {what} is {} bytes; the limit is {} bytes (4 MiB)",
                text.len(),
                limits::MAX_SOURCE_BYTES
            ),
            None,
        ));
    }
    // A UTF-8 byte-order mark (what Windows editors write) is not part of the text:
    // left in, the YAML reader takes it for part of the first key. It is invisible, so
    // columns on the first line are counted without it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Diagnostic::error(
            None,
            format!("the {what} is empty; expected a YAML mapping"),
            Some(Location { line: 1, column: 1 }),
        ));
    }
    prescan(text, what)?;
    serde_yaml::from_str::<T>(text).map_err(|e| yaml_error_diagnostic(&e, text, what))
}

/// Walk the YAML event stream once before `serde_yaml` sees the text, and refuse what
/// it handles badly or reports without a place: nesting deeper than
/// [`limits::MAX_YAML_DEPTH`] (libyaml's scanner slows down quadratically with flow
/// nesting, so a deep file must be refused before it gets there), a second document,
/// a duplicate key (reported where the second one is, with its path), and a file that
/// holds only comments. Syntax errors are left to `serde_yaml`, whose messages are
/// tested.
fn prescan(text: &str, what: &str) -> Result<(), Diagnostic> {
    use saphyr_parser::{Event, Parser};
    use std::collections::HashSet;

    enum Frame {
        Seq {
            next: usize,
        },
        Map {
            keys: HashSet<String>,
            /// The latest key.
            key: String,
            /// Whether the next node is the value of `key` (else it is a key).
            value_next: bool,
        },
    }
    fn path(stack: &[Frame], last: &str) -> String {
        let mut p = String::new();
        for frame in stack {
            match frame {
                Frame::Seq { next } => p.push_str(&format!("[{}]", next.saturating_sub(1))),
                Frame::Map {
                    key, value_next, ..
                } => {
                    // Inside the value of `key` (a key being read adds nothing yet).
                    if !*value_next {
                        if !p.is_empty() {
                            p.push('.');
                        }
                        p.push_str(key);
                    }
                }
            }
        }
        if !p.is_empty() {
            p.push('.');
        }
        p.push_str(last);
        p
    }

    let mut stack: Vec<Frame> = Vec::new();
    let mut expansion = Expansion::new();
    let mut documents = 0usize;
    let mut parser = Parser::new_from_str(text);
    let mut finished = false;
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(next) => next,
            // The scanner caps flow nesting (`[[[...`) at 255 levels, well before
            // libyaml's slow path: refuse here, with the place.
            Err(e) if e.info().contains("recursion limit") => {
                return Err(Diagnostic::error(
                    None,
                    format!(
                        "nesting too deep: YAML may nest at most {} levels",
                        limits::MAX_YAML_DEPTH
                    ),
                    Some(Location {
                        line: e.marker().line(),
                        column: e.marker().col() + 1,
                    }),
                ));
            }
            // Other syntax errors are reported by serde_yaml.
            Err(_) => break,
        };
        let here = Location {
            line: span.start.line(),
            column: span.start.col() + 1,
        };
        if let Some(over) = node_event(&event).and_then(|n| expansion.count(n).err()) {
            return Err(over_budget(over, &event, text, here, what));
        }
        let ends = matches!(event, Event::SequenceEnd | Event::MappingEnd);
        // Count sequence items, and check each scalar key of a mapping against its siblings.
        let mut duplicate: Option<String> = None;
        match stack.last_mut() {
            Some(Frame::Seq { next }) if !ends => *next += 1,
            Some(Frame::Map {
                keys,
                key,
                value_next,
            }) if !ends => {
                if *value_next {
                    *value_next = false;
                } else {
                    *value_next = true;
                    match &event {
                        Event::Scalar(value, ..) => {
                            let value = value.to_string();
                            if keys.insert(value.clone()) {
                                *key = value;
                                continue;
                            }
                            duplicate = Some(value);
                        }
                        // A complex key (a list or mapping used as a key) is not compared.
                        _ => "?".clone_into(key),
                    }
                }
            }
            _ => {}
        }
        if let Some(value) = duplicate {
            let at = path(&stack, &value);
            let at = if at == value {
                String::new()
            } else {
                format!("{at}: ")
            };
            return Err(Diagnostic::error(
                None,
                format!("{at}duplicate key `{value}`; a key may appear only once in a mapping"),
                Some(here),
            ));
        }
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(Diagnostic::error(
                        None,
                        format!(
                            "a second YAML document starts here; the {what} must be one document \
                             (remove the `---` separator and what follows it, or split the file)"
                        ),
                        Some(here),
                    ));
                }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= limits::MAX_YAML_DEPTH {
                    return Err(Diagnostic::error(
                        None,
                        format!(
                            "nesting too deep: YAML may nest at most {} levels",
                            limits::MAX_YAML_DEPTH
                        ),
                        Some(here),
                    ));
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq { next: 0 }
                } else {
                    Frame::Map {
                        keys: HashSet::new(),
                        key: String::new(),
                        value_next: false,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
            }
            Event::StreamEnd => finished = true,
            _ => {}
        }
    }
    if finished && documents == 0 {
        return Err(Diagnostic::error(
            None,
            format!("the {what} holds only comments and blank lines; expected a YAML mapping"),
            Some(Location { line: 1, column: 1 }),
        ));
    }
    Ok(())
}

/// What the alias-expansion budget counts of a parser event.
fn node_event(event: &saphyr_parser::Event<'_>) -> Option<NodeEvent> {
    use saphyr_parser::Event;
    match event {
        Event::Scalar(_, _, anchor, _) => Some(NodeEvent::Scalar { anchor: *anchor }),
        Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
            Some(NodeEvent::Start { anchor: *anchor })
        }
        Event::SequenceEnd | Event::MappingEnd => Some(NodeEvent::End),
        Event::Alias(anchor) => Some(NodeEvent::Alias { anchor: *anchor }),
        _ => None,
    }
}

/// The refusal of a document that aliases expand beyond [`limits::MAX_YAML_NODES`],
/// at the alias (or, in a file without aliases, the node) that crossed the budget.
fn over_budget(
    over: OverBudget,
    event: &saphyr_parser::Event<'_>,
    text: &str,
    here: Location,
    what: &str,
) -> Diagnostic {
    let limit = limits::MAX_YAML_NODES;
    let message = if matches!(event, saphyr_parser::Event::Alias(_)) {
        let alias = alias_name(text, here)
            .map_or_else(|| "this alias".to_owned(), |n| format!("the alias `*{n}`"));
        format!(
            "the {what} is too large once its YAML aliases are expanded: {alias} stands for a \
             copy of {} nodes, which brings the document to more than {limit} nodes (the limit; \
             {} nodes before it). Every alias counts as a full copy of its anchor: write the \
             repeated part fewer times, or split it into smaller named pieces",
            over.copied, over.before
        )
    } else if over.aliased > 0 {
        // A plain node crossed the budget, but aliases brought the document there.
        format!(
            "the {what} is too large once its YAML aliases are expanded: it holds more than \
             {limit} nodes (the limit), {} of them copies that aliases stand for. Every alias \
             counts as a full copy of its anchor: write the repeated part fewer times, or \
             split it into smaller named pieces",
            over.aliased
        )
    } else {
        format!("the {what} holds more than {limit} YAML nodes (the limit)")
    };
    Diagnostic::error(None, message, Some(here))
}

/// The name of the alias `*name` that starts at `at`, if the text there is one.
fn alias_name(text: &str, at: Location) -> Option<String> {
    let line = text.lines().nth(at.line.checked_sub(1)?)?;
    let rest: String = line.chars().skip(at.column.checked_sub(1)?).collect();
    let name: String = rest
        .strip_prefix('*')?
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}'))
        .take(64)
        .collect();
    (!name.is_empty()).then_some(name)
}

fn yaml_error_diagnostic(e: &serde_yaml::Error, text: &str, what: &str) -> Diagnostic {
    let mut location = e.location().map(|l| Location {
        line: l.line(),
        column: l.column(),
    });
    // serde_yaml quotes what it read (`string "..."`, `unknown field `...``) in full.
    let mut message = cap_quoted(&without_document_text(&e.to_string()));
    if let Some(loc) = location {
        // The location is carried separately; drop serde_yaml's copy of it from the text.
        let at = format!(" at line {} column {}", loc.line, loc.column);
        message = message.replacen(&at, "", 1);
    }
    // serde_yaml guards against alias bombs and deep nesting; say so in plain words.
    if message.contains("repetition limit exceeded") {
        message = "too many alias expansions: YAML aliases (`*name`) may not expand the document \
                   beyond the parser's repetition limit (is this a \"billion laughs\" file?)"
            .to_owned();
    } else if message.contains("recursion limit exceeded") {
        message = message.replace(
            "recursion limit exceeded",
            &format!(
                "nesting too deep: YAML may nest at most {} levels",
                limits::MAX_YAML_DEPTH
            ),
        );
    } else if let Some(rest) =
        message.strip_prefix("control characters are not allowed at position ")
    {
        // libyaml gives a byte offset and no line: find the character and its line.
        if let Some(offset) = rest
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&o| o <= text.len())
        {
            let before = text.get(..offset).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            location = Some(Location { line, column });
            let found = text.get(offset..).and_then(|t| t.chars().next());
            message = match found {
                Some(c) => format!(
                    "the control character U+{:04X} is not allowed in YAML text (remove it, or write it as an escape such as \"\\u{:04X}\" inside double quotes)",
                    u32::from(c),
                    u32::from(c)
                ),
                None => "a control character is not allowed in YAML text".to_owned(),
            };
        }
    } else if message == "unknown anchor" {
        let name = location
            .and_then(|l| text.lines().nth(l.line.saturating_sub(1)).map(|t| (l, t)))
            .and_then(|(l, t)| {
                let rest: String = t.chars().skip(l.column.saturating_sub(1)).collect();
                let name: String = rest
                    .strip_prefix('*')?
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}'))
                    .collect();
                (!name.is_empty()).then_some(name)
            });
        message = match name {
            Some(n) => {
                let n = Shown::excerpt(&n);
                format!("unknown alias `*{n}`: no anchor `&{n}` is defined before it")
            }
            None => "unknown alias: no anchor of that name is defined before it".to_owned(),
        };
    } else if let Some(rest) = message
        .strip_prefix("found unexpected end of stream, while scanning a quoted scalar at line ")
    {
        // Point at the opening quote, not at the end of the file.
        let mut parts = rest.split(" column ");
        let line = parts.next().and_then(|l| l.trim().parse::<usize>().ok());
        let column = parts.next().and_then(|c| c.trim().parse::<usize>().ok());
        if let (Some(line), Some(column)) = (line, column) {
            location = Some(Location { line, column });
            message = "this quoted text is never closed: the file ends before the closing quote"
                .to_owned();
        }
    }
    let mut message = humanize(&message);
    // At the top level serde_yaml gives no path, and the place is the first key: say
    // which mapping lacks the key.
    if let Some(key) = message
        .strip_prefix("missing required key `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        message = format!("the {what} has no `{key}`, a required key");
    }
    Diagnostic::error(None, message, location)
}

/// `message` without the text of the document when the whole document is one string
/// (serde_yaml's `invalid type: string "...", expected ...` with no path before it). A
/// file that is not YAML of the expected shape, such as `ruleset: /etc/passwd` in a
/// test file, usually reads as one long plain string: its content is not echoed; the
/// diagnostic's source line (one line, capped and escaped) is all that is shown of it.
fn without_document_text(message: &str) -> String {
    const PREFIX: &str = "invalid type: string \"";
    let Some(rest) = message.strip_prefix(PREFIX) else {
        return message.to_owned();
    };
    let mut escaped = false;
    let end = rest.char_indices().find_map(|(i, c)| {
        let is_end = c == '"' && !escaped;
        escaped = c == '\\' && !escaped;
        is_end.then_some(i)
    });
    let tail = end.and_then(|i| rest.get(i + 1..)).unwrap_or("");
    format!(
        "invalid type: text (the whole file reads as one YAML string, not shown here; is it the \
         right file?){tail}"
    )
}

/// `message` (serde's words) with every quoted part, a `string "..."` or a `` `...` ``,
/// cut to an excerpt ([`Shown::excerpt`]): serde quotes what it read in full, and a
/// file that is not a ruleset (`ruleset: /etc/passwd` in a test file) is one long
/// string. A quoted string ends at the first `"` not preceded by a backslash (serde
/// writes it with Rust's debug escapes).
fn cap_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut rest = message;
    loop {
        let string_at = rest.find("string \"").map(|i| (i, "string \"", '"'));
        let tick_at = rest.find('`').map(|i| (i, "`", '`'));
        let next = match (string_at, tick_at) {
            (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        let Some((at, open, close)) = next else {
            out.push_str(rest);
            return out;
        };
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let inner_and_rest = after.get(open.len()..).unwrap_or("");
        let mut escaped = false;
        let end = inner_and_rest.char_indices().find_map(|(i, c)| {
            let is_end = c == close && !(close == '"' && escaped);
            escaped = c == '\\' && !escaped;
            is_end.then_some(i)
        });
        let Some(end) = end else {
            // Unbalanced: cap what is left as one excerpt.
            out.push_str(open);
            out.push_str(&crate::text::excerpt(inner_and_rest));
            return out;
        };
        let (inner, tail) = inner_and_rest.split_at(end);
        out.push_str(open);
        out.push_str(&crate::text::excerpt(inner));
        out.push(close);
        rest = tail.get(close.len_utf8()..).unwrap_or("");
    }
}

/// Rewrite serde's wording (Rust type names, "field", "variant") into the words of
/// the rule language documentation, and add a did-you-mean to unknown keys and values.
fn humanize(message: &str) -> String {
    // serde_yaml puts the path of the offending node first: `rules[0]: missing field ...`.
    let (prefix, body) = match message.split_once(": ") {
        // The path quotes keys of the input: cut it on its own, so that a huge key
        // cannot push what is wrong out of the capped message.
        Some((p, b)) if !p.contains(' ') && !p.is_empty() => (
            format!(
                "{}: ",
                crate::text::escape_for_display(p, Some(limits::MAX_PATH_BYTES))
            ),
            b,
        ),
        _ => (String::new(), message),
    };
    let mut body = body.to_owned();
    for (from, to) in [
        ("invalid type: map,", "invalid type: mapping,"),
        ("invalid type: sequence,", "invalid type: list,"),
        ("invalid type: unit value,", "invalid type: null,"),
        ("invalid type: floating point `", "invalid type: number `"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a mapping"),
        ("missing field `", "missing required key `"),
        ("duplicate field `", "duplicate key `"),
    ] {
        body = body.replace(from, to);
    }
    for rust_type in [
        "i64", "u64", "i32", "u32", "usize", "u8", "u16", "i128", "u128",
    ] {
        body = body.replace(&format!("expected {rust_type}"), "expected a whole number");
    }
    if let Some(rest) = body.strip_prefix("invalid type: integer `") {
        // Beyond 64 bits (`as u128`), or between i64::MAX and u64::MAX (`, expected a
        // whole number`): a number too large, not a wrong type.
        if let Some((number, _)) = rest
            .split_once("` as u128")
            .or_else(|| rest.split_once("` as i128"))
            .or_else(|| rest.split_once("`, expected a whole number"))
        {
            let size = if number.starts_with('-') {
                "too small"
            } else {
                "too large"
            };
            body = format!(
                "the number {number} is {size}: expected a whole number from -{max} to {max}",
                max = limits::MAX_INTEGER
            );
        }
    }
    if body.starts_with("mapping values are not allowed in this context") {
        body.push_str(
            "; a `: ` inside an unquoted value starts a new mapping: check this line's \
             indentation, or put the value in quotes",
        );
    }
    for (serde_word, word) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        if let Some(rest) = body.strip_prefix(serde_word) {
            if let Some((given, expected)) = rest.split_once("`, ") {
                let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
                body = format!(
                    "unknown {word} `{given}`{}; {expected}",
                    crate::compile::did_you_mean(given, &names)
                );
            }
        }
    }
    format!("{prefix}{body}")
}

/// A map from item paths (`rules[3].when.any[1].housing`) to where they start.
#[derive(Debug, Default, Clone)]
pub(crate) struct Locator {
    positions: HashMap<String, Location>,
}

impl Locator {
    /// Index every key and sequence item of `text`. Text that fails to parse
    /// yields whatever was indexed before the failure.
    pub(crate) fn new(text: &str) -> Locator {
        use saphyr_parser::{Event, Parser};

        enum Frame {
            Seq { path: String, next: usize },
            Map { path: String, key: Option<String> },
        }

        let mut positions = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut parser = Parser::new_from_str(text);
        while let Some(Ok((event, span))) = parser.next_event() {
            let here = Location {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            // Where does this node sit? Compute its path, and note whether it is a key.
            let mut node_path: Option<String> = None;
            let mut is_key = false;
            match stack.last_mut() {
                Some(Frame::Seq { path, next }) => {
                    if !matches!(event, Event::SequenceEnd) {
                        let p = format!("{path}[{next}]");
                        positions.entry(p.clone()).or_insert(here);
                        *next += 1;
                        node_path = Some(p);
                    }
                }
                Some(Frame::Map { path, key }) => {
                    if !matches!(event, Event::MappingEnd) {
                        match key.take() {
                            None => {
                                is_key = true;
                                if let Event::Scalar(ref value, ..) = event {
                                    let p = if path.is_empty() {
                                        value.to_string()
                                    } else {
                                        format!("{path}.{value}")
                                    };
                                    positions.entry(p.clone()).or_insert(here);
                                    *key = Some(p);
                                } else {
                                    // A complex key: index nothing below it.
                                    *key = Some(format!("{path}.?"));
                                }
                            }
                            Some(p) => node_path = Some(p),
                        }
                    }
                }
                None => node_path = Some(String::new()),
            }
            match event {
                Event::SequenceStart(..) => stack.push(Frame::Seq {
                    path: node_path.unwrap_or_default(),
                    next: 0,
                }),
                Event::MappingStart(..) => stack.push(Frame::Map {
                    path: if is_key {
                        String::from("?")
                    } else {
                        node_path.unwrap_or_default()
                    },
                    key: None,
                }),
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        Locator { positions }
    }

    /// The location of exactly `path` (a top-level key is its own path), if indexed.
    pub(crate) fn get(&self, path: &str) -> Option<Location> {
        self.positions.get(path).copied()
    }

    /// The location of `path`, or of its nearest indexed ancestor.
    pub(crate) fn find(&self, path: &str) -> Option<Location> {
        let mut p = path;
        loop {
            if let Some(loc) = self.positions.get(p) {
                return Some(*loc);
            }
            let cut = p.rfind(['.', '['])?;
            p = p.get(..cut)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_before_the_first_key_is_not_part_of_it() {
        let d = parse_yaml::<RawRuleset>("\u{feff}id: t\nrulez: []\n", "ruleset").unwrap_err();
        assert!(d.message.contains("`rulez`"), "{}", d.message);
        assert_eq!(d.location, Some(Location { line: 2, column: 1 }));
        let d = parse_yaml::<RawRuleset>("\u{feff}rulez: []\n", "ruleset").unwrap_err();
        assert_eq!(d.location, Some(Location { line: 1, column: 1 }));
        let answers = parse_answers_yaml("\u{feff}severity: none\n").unwrap();
        assert_eq!(answers.0.len(), 1);
    }

    #[test]
    fn json_keys_are_located_at_their_opening_quote() {
        let text = "\u{feff}{\"a\": {\"inner\": [1, {\"x\": 2}]},\n  \"b\\\"q\": \"v, \\\"w\",\n\t\"\\u00e9t\u{e9}\": null}";
        let keys = json_key_locations(text);
        assert_eq!(
            keys,
            vec![
                ("a".to_owned(), Location { line: 1, column: 2 }),
                ("b\"q".to_owned(), Location { line: 2, column: 3 }),
                ("\u{e9}t\u{e9}".to_owned(), Location { line: 3, column: 2 }),
            ]
        );
        assert!(json_key_locations("[\"a\", \"b\"]").is_empty());
    }

    #[test]
    fn locator_finds_nested_paths() {
        let text = "id: x\nrules:\n  - id: a\n    when:\n      any:\n        - severity: mild\n        - housing: {is: homeless}\n";
        let loc = Locator::new(text);
        assert_eq!(
            loc.find("rules[0].when.any[1].housing"),
            Some(Location {
                line: 7,
                column: 11
            })
        );
        assert_eq!(
            loc.find("rules[0].id"),
            Some(Location { line: 3, column: 5 })
        );
        assert_eq!(loc.find("rules[0]"), Some(Location { line: 3, column: 5 }));
        // Unknown leaf falls back to its nearest ancestor.
        assert_eq!(
            loc.find("rules[0].when.any[1].housing.is.extra"),
            Some(Location {
                line: 7,
                column: 21
            })
        );
    }

    #[test]
    fn conditions_parse_all_forms() {
        let c: RawCondition = serde_yaml::from_str(
            "all: [{severity: severe}, {score: {between: [1, 3]}}, {not: {flag: true}}]",
        )
        .unwrap();
        let RawCondition::All(items) = c else {
            panic!("expected all")
        };
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn condition_with_two_keys_is_an_error() {
        let e = serde_yaml::from_str::<RawCondition>("{severity: severe, housing: homeless}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("exactly one key"), "{e}");
    }

    #[test]
    fn unknown_operator_is_named() {
        let e = serde_yaml::from_str::<RawCondition>("{severity: {atleast: mild}}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown operator `atleast`"), "{e}");
    }

    /// Nodes of `text` with every alias expanded (the quantity the budget limits).
    fn expanded_nodes(text: &str) -> u64 {
        let mut e = Expansion::new();
        let mut parser = saphyr_parser::Parser::new_from_str(text);
        while let Some(Ok((event, _))) = parser.next_event() {
            if let Some(n) = node_event(&event) {
                e.count(n).unwrap();
            }
        }
        e.total()
    }

    #[test]
    fn bundled_rulesets_are_far_below_the_node_budget() {
        let files = [
            ("rules/default.yaml", crate::DEFAULT_RULESET),
            (
                "rules/default.test.yaml",
                include_str!("../../../rules/default.test.yaml"),
            ),
            (
                "examples/rulesets/six-levels.yaml",
                include_str!("../../../examples/rulesets/six-levels.yaml"),
            ),
            (
                "examples/rulesets/six-levels.test.yaml",
                include_str!("../../../examples/rulesets/six-levels.test.yaml"),
            ),
        ];
        for (name, text) in files {
            let nodes = expanded_nodes(text);
            eprintln!(
                "{name}: {nodes} nodes, {} bytes, budget ratio {}",
                text.len(),
                limits::MAX_YAML_NODES / nodes
            );
            assert!(nodes * 1000 < limits::MAX_YAML_NODES, "{name}: {nodes}");
        }
        for text in [
            crate::DEFAULT_RULESET,
            include_str!("../../../examples/rulesets/six-levels.yaml"),
        ] {
            let rs = crate::Ruleset::from_yaml(text).unwrap();
            let nodes = rs.conditions.nodes.len();
            eprintln!(
                "{}: {nodes} condition nodes, ratio {}",
                rs.meta.id,
                limits::MAX_CONDITION_NODES / nodes
            );
            assert!(nodes * 1000 < limits::MAX_CONDITION_NODES, "{nodes}");
        }
    }

    #[test]
    fn a_plain_node_that_crosses_the_budget_after_aliases_still_blames_the_aliases() {
        // Found by the shapes fuzz target: aliases brought the document just under the
        // budget and a plain node then crossed it; the message must name the aliases.
        let items = vec!["x"; 1000].join(", ");
        let aliases = vec!["*a"; 4188].join(", ");
        let plain = vec!["y"; 2000].join(", ");
        let text = format!("a: &a [{items}]\nb: [{aliases}]\nc: [{plain}]\n");
        let e = parse_answers_yaml(&text).unwrap_err();
        assert!(
            e.contains("too large once its YAML aliases are expanded"),
            "{e}"
        );
        assert!(
            e.contains("4192188 of them copies that aliases stand for"),
            "{e}"
        );
        assert!(e.contains("at line 3"), "{e}");
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused_with_plain_messages() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        let mut prev = String::from("a");
        for n in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            bomb.push_str(&format!("{n}: &{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = n.to_owned();
        }
        // 9^9 strings once expanded: refused by the node budget while the file is
        // read, at the first alias that crosses it, in answers and rulesets alike.
        let e = parse_answers_yaml(&bomb).unwrap_err();
        assert!(
            e.contains("too large once its YAML aliases are expanded"),
            "{e}"
        );
        assert!(e.contains("at line 7, column 28"), "{e}");
        assert!(e.contains("the alias `*f`"), "{e}");
        let nested: Vec<String> = bomb
            .lines()
            .map(|l| format!("  - {}", l.split_once(": ").map_or(l, |(_, v)| v)))
            .collect();
        let ruleset = format!("id: t\nsources:\n{}\n", nested.join("\n"));
        let d = parse_yaml::<RawRuleset>(&ruleset, "ruleset").unwrap_err();
        assert!(
            d.message.contains("the alias `*f` stands for a copy of"),
            "{}",
            d.message
        );
        assert_eq!(d.location.map(|l| l.line), Some(9));
        let deep = format!(
            "id: t\nrules:\n  - id: r\n    when: {}{{a: b}}{}\n",
            "{not: ".repeat(200),
            "}".repeat(200)
        );
        let d = parse_yaml::<RawRuleset>(&deep, "ruleset").unwrap_err();
        assert!(d.message.contains("nesting too deep"), "{}", d.message);
        assert!(d.location.is_some());
    }

    #[test]
    fn prescan_reports_duplicates_documents_comments_and_depth_with_places() {
        let d = parse_yaml::<RawRuleset>(
            "id: t\nrules:\n  - id: a\n    level: x\n    level: y\n",
            "ruleset",
        )
        .unwrap_err();
        assert_eq!(d.location, Some(Location { line: 5, column: 5 }));
        assert!(
            d.message
                .starts_with("rules[0].level: duplicate key `level`"),
            "{}",
            d.message
        );
        let d = parse_yaml::<RawRuleset>("id: t\n---\nid: u\n", "ruleset").unwrap_err();
        assert_eq!(d.location, Some(Location { line: 2, column: 1 }));
        assert!(d.message.contains("one document"), "{}", d.message);
        let d = parse_yaml::<RawRuleset>("# only\n# comments\n", "ruleset").unwrap_err();
        assert!(d.message.contains("only comments"), "{}", d.message);
        // A million levels of flow nesting: refused at once, not after libyaml's
        // quadratic scan.
        let deep = format!("a: {}{}\n", "[".repeat(1_000_000), "]".repeat(1_000_000));
        let started = std::time::Instant::now();
        let d = parse_yaml::<RawRuleset>(&deep, "ruleset").unwrap_err();
        assert!(d.message.contains("nesting too deep"), "{}", d.message);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn serde_wording_is_translated() {
        let d = parse_yaml::<RawRuleset>("id: t\nrulez: []\n", "ruleset").unwrap_err();
        assert!(
            d.message
                .starts_with("unknown key `rulez` (did you mean `rules`?); expected one of"),
            "{}",
            d.message
        );
        let d = parse_yaml::<RawRuleset>("- a\n", "ruleset").unwrap_err();
        assert!(
            d.message.contains("invalid type: list, expected a ruleset"),
            "{}",
            d.message
        );
        let d = parse_yaml::<RawRuleset>("id: t\n", "ruleset").unwrap_err();
        assert!(
            d.message.contains("the ruleset has no `version`"),
            "{}",
            d.message
        );
    }

    #[test]
    fn ordered_map_rejects_duplicates() {
        let e = serde_yaml::from_str::<OrderedMap<String, i64>>("a: 1\nb: 2\na: 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("duplicate key `a`"), "{e}");
    }
}

/// One answer as read from a JSON or YAML map: anything, so that a wrong type can be
/// reported against its factor instead of aborting the whole parse.
#[derive(Debug, Clone)]
pub(crate) enum RawAnswer {
    Null,
    Scalar(RawScalar),
    /// Something that is not a whole number, text or boolean: what it was, in words.
    Invalid(String),
}

/// The visitor of [`RawAnswer`], also driven by the borrowing answers readers
/// (`answers::AnswersSeed`) for every value they do not match directly.
pub(crate) struct RawAnswerVisitor;
impl<'de> Visitor<'de> for RawAnswerVisitor {
    type Value = RawAnswer;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an answer")
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawAnswer, E> {
        Ok(RawAnswer::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawAnswer, E> {
        Ok(RawAnswer::Null)
    }
    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<RawAnswer, D2::Error> {
        RawAnswer::deserialize(d)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawAnswer, E> {
        Ok(RawAnswer::Scalar(RawScalar::Text(v.to_owned())))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawAnswer, E> {
        Ok(RawAnswer::Scalar(RawScalar::Boolean(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawAnswer, E> {
        Ok(RawAnswer::Scalar(RawScalar::Integer(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawAnswer, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawAnswer::Scalar(RawScalar::Integer(i)),
            Err(_) => RawAnswer::Invalid(format!("the number {v}, which is too large")),
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawAnswer, E> {
        // serde_json reads integers beyond 64 bits as floats: do not call them
        // fractions, and do not print the rounded value as if it were the input.
        // JSON `-0` is an integer literal; serde_json reads it as the float -0.0.
        // It is the whole number 0 (so is `-0.0`, which cannot be told apart).
        if v == 0.0 && v.is_sign_negative() {
            return Ok(RawAnswer::Scalar(RawScalar::Integer(0)));
        }
        let what = if v.fract() != 0.0 {
            format!("the number {v}, which is not a whole number")
        } else if v.abs() >= 9.2e18 {
            format!(
                "a number too large to be an answer (the limit is ±{})",
                limits::MAX_INTEGER
            )
        } else {
            format!("the number {v:?}; write whole numbers without a decimal point or exponent")
        };
        Ok(RawAnswer::Invalid(what))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawAnswer, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(RawAnswer::Invalid("a list".to_owned()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawAnswer, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(RawAnswer::Invalid("a mapping".to_owned()))
    }
}

impl<'de> Deserialize<'de> for RawAnswer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawAnswerVisitor)
    }
}

/// Parse a JSON object of answers, keeping order and refusing duplicate keys.
pub(crate) fn parse_answers_json(text: &str) -> Result<OrderedMap<String, RawAnswer>, String> {
    if text.len() > limits::MAX_SOURCE_BYTES {
        return Err(format!(
            "the answers are {} bytes; the limit is {} bytes (4 MiB)",
            text.len(),
            limits::MAX_SOURCE_BYTES
        ));
    }
    // A UTF-8 byte-order mark (as some Windows editors write) is not part of the JSON;
    // the YAML reader skips it too.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(
            "the answers are empty; expected a JSON object of answers (factor: value)".to_owned(),
        );
    }
    serde_json::from_str(text).map_err(|e| json_answers_message(&e, text))
}

/// What a serde_json "invalid type: ..." error found, in words.
pub(crate) fn json_type_in_words(error: &str) -> &'static str {
    let rest = error.strip_prefix("invalid type: ").unwrap_or("");
    match rest.split([',', ' ']).next().unwrap_or("") {
        "sequence" => "an array",
        "string" => "a string",
        "integer" | "floating" => "a number",
        "boolean" => "true or false",
        "null" => "null",
        _ => "something else",
    }
}

/// Line and column (both from 1, columns in characters) of the first character of
/// `text` that is not white space.
pub(crate) fn first_value_position(text: &str) -> (usize, usize) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let start = text.len() - text.trim_start().len();
    let before = text.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A serde_json error in the words of an answers file: where first, then what is wrong
/// and what was expected.
fn json_answers_message(e: &serde_json::Error, text: &str) -> String {
    let full = e.to_string();
    // serde_json appends its own " at line L column C"; the place is given first instead.
    let what = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(what, _)| what);
    let (line, column) = (e.line(), e.column());
    // serde_json counts columns from 1, and reports 0 just after a line break.
    let place = if column == 0 {
        format!("line {}", line.saturating_sub(1).max(1))
    } else {
        format!("line {line}, column {column}")
    };
    if e.is_eof() {
        return format!(
            "invalid JSON at {place}: the text ends before the JSON object is complete \
             (a closing `}}`, `]` or `\"` is missing)"
        );
    }
    if e.is_data() {
        if what.starts_with("invalid type: ") {
            let got = json_type_in_words(what);
            return format!("expected a JSON object of answers (factor: value), got {got}");
        }
        if what.starts_with("duplicate key") {
            return format!("{what} at {place}: each question may be answered only once");
        }
    }
    let hint = match what {
        "trailing characters" => {
            let rest = text
                .lines()
                .nth(line.saturating_sub(1))
                .and_then(|l| l.get(column.saturating_sub(1)..))
                .unwrap_or("");
            if rest.trim_start().starts_with('{') {
                "more text after the answers object: an answers file holds one JSON object \
                 (for JSON Lines, one person per line, use `carelevel batch`)"
            } else {
                "more text after the answers object: an answers file holds one JSON object"
            }
        }
        "trailing comma" => "a comma before the closing bracket (JSON allows no trailing comma)",
        "key must be a string" => {
            "expected a key in double quotes (JSON has no single quotes or comments)"
        }
        "expected value" => {
            "expected a JSON value: a string in double quotes, a number, true, false or null \
             (NaN, Infinity, comments and unquoted words are not JSON)"
        }
        w if w.starts_with("control character") && column == 0 => {
            "a string is not closed before the end of the line (a `\"` is missing)"
        }
        w => w,
    };
    format!("invalid JSON at {place}: {hint}")
}

/// The keys of the top-level object of a JSON text, decoded, each with the line and
/// column (from 1, columns in characters, a byte-order mark not counted) of its
/// opening quote. Meant for text that parsed as JSON; on other text it returns the
/// keys it could read.
pub(crate) fn json_key_locations(text: &str) -> Vec<(String, Location)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut keys = Vec::new();
    let (mut line, mut column) = (1usize, 0usize);
    let mut depth = 0usize;
    let mut top_is_object = false;
    let mut expect_key = false;
    let mut chars = text.char_indices();
    while let Some((start, c)) = chars.next() {
        column += 1;
        match c {
            '\n' => {
                line += 1;
                column = 0;
            }
            '{' | '[' => {
                depth += 1;
                if depth == 1 {
                    top_is_object = c == '{';
                }
                expect_key = top_is_object && depth == 1;
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            ',' => expect_key = top_is_object && depth == 1,
            '"' => {
                let here = Location { line, column };
                // To the closing quote; escapes are skipped whole. A JSON string holds
                // no raw line break.
                let mut end = text.len();
                let mut escaped = false;
                for (i, d) in chars.by_ref() {
                    column += 1;
                    if escaped {
                        escaped = false;
                    } else if d == '\\' {
                        escaped = true;
                    } else if d == '"' {
                        end = i + 1;
                        break;
                    }
                }
                if expect_key && depth == 1 {
                    if let Some(key) = text
                        .get(start..end)
                        .and_then(|raw| serde_json::from_str::<String>(raw).ok())
                    {
                        keys.push((key, here));
                    }
                }
                expect_key = false;
            }
            _ => {}
        }
    }
    keys
}

/// Parse a YAML mapping of answers, keeping order and refusing duplicate keys.
pub(crate) fn parse_answers_yaml(text: &str) -> Result<OrderedMap<String, RawAnswer>, String> {
    parse_yaml::<OrderedMap<String, RawAnswer>>(text, "answers text").map_err(|d| {
        let place = d.location.map_or_else(String::new, |l| {
            format!(" at line {}, column {}", l.line, l.column)
        });
        if let Some(rest) = d.message.strip_prefix("invalid type: ") {
            let got = match rest.split([',', ' ']).next().unwrap_or("") {
                "list" => "a list",
                "string" => "a string",
                "integer" | "number" => "a number",
                "boolean" => "true or false",
                "null" => "null",
                _ => "something else",
            };
            format!("expected a YAML mapping of answers (factor: value), got {got}{place}")
        } else {
            match d.location {
                Some(_) => format!("invalid YAML{place}: {}", d.message),
                // Only the size limit comes without a place: it is not a YAML error.
                None => d.message,
            }
        }
    })
}
