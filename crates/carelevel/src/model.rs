//! The compiled ruleset: every level, factor, value, rule and flag interned to an index.
//!
//! Built only by [`crate::compile`]; immutable afterwards, so a `Ruleset` is `Send + Sync`
//! and can be shared by reference across threads.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Location;

/// Index of a level in [`Ruleset::levels`]; a higher index is a more intensive level.
pub type LevelIndex = usize;
/// Index of a factor in [`Ruleset::factors`].
pub type FactorIndex = usize;
/// Index of a dimension in [`Ruleset::dimensions`].
pub type DimensionIndex = usize;

/// A compiled, checked ruleset. Parse it once with [`Ruleset::from_yaml`] and share it.
#[derive(Debug, Clone)]
pub struct Ruleset {
    pub(crate) meta: Metadata,
    /// Declared dimensions (`dimensions:`), in declaration order; empty when none.
    pub(crate) dimensions: Vec<Dimension>,
    pub(crate) levels: Vec<Level>,
    pub(crate) factors: Vec<Factor>,
    /// Factor id → factor index: [`Ruleset::factor_index`] is one hash and usually
    /// one comparison, not a scan of every id.
    pub(crate) factor_ids: crate::lookup::TextIndex,
    /// (factor id, answer as text) → the factor's index and the answer's code, for
    /// every value of every ordinal scale and the usual spellings of a boolean:
    /// [`Answers::set_text`](crate::Answers::set_text) is one lookup.
    pub(crate) answer_texts: crate::lookup::TextIndex,
    /// The value code of every factor in a new [`Answers`](crate::Answers): the
    /// assumed value where the policy is `assume`, else `0` (not answered).
    pub(crate) initial_values: Vec<i64>,
    pub(crate) scoring: Option<Scoring>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) flags: Vec<Flag>,
    pub(crate) invariants: Vec<Invariant>,
    pub(crate) conditions: ConditionArena,
    /// Rule indices ordered by demanded level, most intensive first (ties in declaration order).
    pub(crate) rules_by_level_desc: Vec<usize>,
    pub(crate) sha256: String,
    /// The level of every class combination, when the answer space is small enough
    /// (painted from `diagram`, or by the rule walk when there is no diagram).
    pub(crate) table: Option<LevelTable>,
    /// The level diagram (level and refer bit at every complete answer set), when it
    /// could be built within [`crate::limits::MAX_DIAGRAM_WORK`].
    pub(crate) diagram: Option<crate::diagram::LevelDiagram>,
}

/// The level of every combination of answer classes, indexed in mixed radix
/// (factor 0 varies slowest). Built at compile time when the space has at most
/// [`crate::limits::MAX_LEVEL_TABLE`] entries: painted from the level diagram, or,
/// when the diagram was over its budget, by the rule walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LevelTable {
    /// `strides[f]`: how far the index moves per class of factor `f`.
    pub strides: Vec<usize>,
    /// One entry per class combination: the level index in the low bits,
    /// [`LevelTable::REFER`] set when a `refer` flag fires there.
    pub levels: Vec<u8>,
}

impl LevelTable {
    /// The bit of an entry that says a `refer` flag fires (levels are fewer than
    /// [`crate::limits::MAX_LEVELS`] = 64, so they never reach it).
    pub const REFER: u8 = 0x80;

    /// The level index of an entry.
    #[inline]
    pub(crate) fn level(entry: u8) -> usize {
        usize::from(entry & !Self::REFER)
    }
}

/// How a ruleset evaluates complete answers (see [`Ruleset::level_evaluation`]). Every
/// form gives the same results; they differ in speed only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelEvaluation {
    /// One lookup in a table of every answer class combination (answer spaces of at
    /// most [`crate::limits::MAX_LEVEL_TABLE`] combinations).
    Table,
    /// One path through the level diagram, a step per question it reads.
    Diagram,
    /// The rule walk: the rules' conditions, most intensive first (the level diagram
    /// was over [`crate::limits::MAX_DIAGRAM_WORK`] and the space too large for the table).
    RuleWalk,
}

/// Identification of a ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Short identifier, e.g. `default`.
    pub id: String,
    /// Version string chosen by the policy author.
    pub version: String,
    /// Human title.
    pub title: String,
    /// What the ruleset is for.
    pub description: String,
    /// The ruleset's canonical URL (an absolute URI), when the author gave one
    /// (`url:`). FHIR mappings use it as the base of every code system they mint.
    pub url: Option<String>,
    /// Citations the rules draw on.
    pub sources: Vec<SourceCitation>,
}

/// One citation listed under `sources:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceCitation {
    /// Short identifier.
    pub id: String,
    /// The citation by name and section.
    pub citation: String,
}

/// A dimension of the assessment (for example one of the ASAM dimensions): an
/// annotation that groups questions, rules and flags for the per-dimension
/// justification. Dimensions never change the level or the flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    /// Identifier named by `dimension:` on questions, rules and flags.
    pub id: String,
    /// Name shown to people.
    pub label: String,
    /// What the dimension covers.
    pub description: String,
    /// Citation of the published framework it comes from, when given.
    pub source: Option<String>,
    /// Where the dimension is declared.
    pub location: Option<Location>,
}

/// A level of care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// Identifier, e.g. `iop`.
    pub id: String,
    /// Label shown to people, e.g. `Intensive outpatient`.
    pub label: String,
    /// What the level means (hours per week, setting).
    pub description: String,
}

/// A question the ruleset takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Factor {
    /// Identifier used in answers and conditions.
    pub id: String,
    /// The question shown to clinicians.
    pub question: String,
    /// Optional longer explanation.
    pub description: Option<String>,
    /// What answers it takes.
    pub kind: FactorKind,
    /// What happens when it is not answered.
    pub missing: MissingPolicy,
    /// The dimension it belongs to (`dimension:`), when it names one.
    pub dimension: Option<DimensionIndex>,
    /// Representative codes of the distinguishable classes of answers (see [`Factor::classes`]).
    pub(crate) classes: Vec<i64>,
    /// Where the factor is declared.
    pub location: Option<Location>,
}

/// The kind of answer a factor takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorKind {
    /// One of an ordered list of values, least risk first.
    Ordinal {
        /// The scale, least risk first.
        values: Vec<String>,
    },
    /// A whole number in `min..=max`, optionally cut into named bands.
    Integer {
        /// Smallest allowed answer.
        min: i64,
        /// Largest allowed answer.
        max: i64,
        /// Named bands covering `min..=max` in order.
        bands: Vec<Band>,
    },
    /// `true` or `false` (`false` is the lower risk).
    Boolean,
}

/// A named range of an integer factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    /// Band name, usable in conditions and scoring.
    pub id: String,
    /// Smallest value in the band.
    pub min: i64,
    /// Largest value in the band.
    pub max: i64,
}

/// What the engine does when a factor is not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissingPolicy {
    /// Work out every level the missing answer could lead to, recommend the highest,
    /// and ask for the answer (the default).
    Ask,
    /// Refuse to assess.
    Error,
    /// Use this value (as an internal code), and report that it was assumed.
    Assume(i64),
}

/// Points per answer, summed and mapped to a level through bands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scoring {
    /// Points table per factor: `points[factor]` is indexed by class (see `points_for`).
    pub(crate) points: Vec<Option<FactorPoints>>,
    /// Score bands, ascending and contiguous.
    pub(crate) bands: Vec<ScoreBand>,
}

/// Points for one factor's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FactorPoints {
    /// Ordinal or boolean: points by value code.
    ByCode(Vec<i64>),
    /// Integer: points by band index.
    ByBand(Vec<i64>),
    /// Integer: `per` points for each unit of the answer (an answer `v` earns
    /// `per × v`); `min`, `max`: the factor's range, for the least and most points.
    PerUnit { per: i64, min: i64, max: i64 },
}

/// One score band: totals in `min..=max` (open-ended where `None`) map to `level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreBand {
    /// Smallest total in the band (`None`: no lower bound).
    pub min: Option<i64>,
    /// Largest total in the band (`None`: no upper bound).
    pub max: Option<i64>,
    /// The level a total in this band demands.
    pub level: LevelIndex,
}

/// A rule: when its condition holds, it demands at least `level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Identifier.
    pub id: String,
    /// The minimum level it demands.
    pub level: LevelIndex,
    /// Rationale shown to clinicians.
    pub because: String,
    /// Citation of the published criteria it draws on.
    pub source: Option<String>,
    /// The dimension it belongs to (`dimension:`), when it names one.
    pub dimension: Option<DimensionIndex>,
    /// Root node of its condition in the arena.
    pub(crate) when: NodeId,
    /// Where the rule is declared.
    pub location: Option<Location>,
}

/// What a flag means for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagKind {
    /// Needs care beyond the levels this ruleset places, or an emergency evaluation, first.
    Refer,
    /// A clinician should look at this before placement.
    Review,
    /// Information for the care team.
    Info,
}

impl fmt::Display for FlagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FlagKind::Refer => "refer",
            FlagKind::Review => "review",
            FlagKind::Info => "info",
        })
    }
}

/// A flag: when its condition holds, the result carries its message. It never changes the level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// Identifier.
    pub id: String,
    /// What it means.
    pub kind: FlagKind,
    /// Message for the care team.
    pub message: String,
    /// Citation, when given.
    pub source: Option<String>,
    /// The dimension it belongs to (`dimension:`), when it names one.
    pub dimension: Option<DimensionIndex>,
    /// Root node of its condition.
    pub(crate) when: NodeId,
    /// Where the flag is declared.
    pub location: Option<Location>,
}

/// A named safety property the policy author declares; `carelevel check` proves it
/// over the whole answer space or shows a counterexample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invariant {
    /// Identifier.
    pub id: String,
    /// What it protects, in words.
    pub description: Option<String>,
    /// The answer sets it speaks about (all of them when `None`).
    pub(crate) when: Option<NodeId>,
    /// The level must lie within these bounds (inclusive level indices).
    pub level_bounds: Option<(LevelIndex, LevelIndex)>,
    /// `refer` must have this value.
    pub refer: Option<bool>,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// Index of a node in the [`ConditionArena`].
pub(crate) type NodeId = u32;

/// A compiled condition node. Leaves test one factor's value code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    /// Always true or always false.
    Const(bool),
    /// True when every child is: `children[start..start + len]`.
    All { start: u32, len: u32 },
    /// True when any child is.
    Any { start: u32, len: u32 },
    /// Negation.
    Not(NodeId),
    /// Ordinal or boolean: true when bit `code` of `mask` is set.
    Mask { factor: u32, mask: u64 },
    /// Integer: true when `lo <= value <= hi`.
    Range { factor: u32, lo: i64, hi: i64 },
    /// Integer: true when the value is in any of `ranges[start..start + len]`.
    Ranges { factor: u32, start: u32, len: u32 },
    /// The total score (see [`ScoreTable`]) is in any of `ranges[start..start + len]`.
    Score { start: u32, len: u32 },
}

/// The points of every scored factor, in the form condition evaluation reads them
/// (value codes, no factor metadata), so that a `score` condition can be evaluated
/// from the answer codes alone. Empty when the ruleset has no scoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScoreTable {
    /// Per factor: `(lo, hi, points)`: a code in `lo..=hi` earns `points`; any other code 0.
    pub points: Vec<Vec<(i64, i64, i64)>>,
    /// Per factor: the least and most points it can earn (`(0, 0)` when it is not scored).
    pub range: Vec<(i64, i64)>,
    /// Per factor: the points per unit of an integer factor scored `per_unit` (its
    /// `points` entry is then empty), else `None`.
    pub per_unit: Vec<Option<i64>>,
}

impl ScoreTable {
    /// The table of `scoring` over `factors`.
    pub(crate) fn new(scoring: &Scoring, factors: &[Factor]) -> ScoreTable {
        let mut points = Vec::with_capacity(factors.len());
        let mut range = Vec::with_capacity(factors.len());
        let mut per_unit = Vec::with_capacity(factors.len());
        for (f, factor) in factors.iter().enumerate() {
            let entries: Vec<(i64, i64, i64)> = match (scoring.points.get(f), &factor.kind) {
                (Some(Some(FactorPoints::ByBand(table))), FactorKind::Integer { bands, .. }) => {
                    bands
                        .iter()
                        .zip(table)
                        .map(|(b, &p)| (b.min, b.max, p))
                        .collect()
                }
                (Some(Some(FactorPoints::ByCode(table))), _) => table
                    .iter()
                    .enumerate()
                    .filter_map(|(c, &p)| i64::try_from(c).ok().map(|c| (c, c, p)))
                    .collect(),
                _ => Vec::new(),
            };
            range.push(scoring.points_range(f));
            points.push(entries);
            per_unit.push(match scoring.points.get(f) {
                Some(Some(FactorPoints::PerUnit { per, .. })) => Some(*per),
                _ => None,
            });
        }
        ScoreTable {
            points,
            range,
            per_unit,
        }
    }

    /// Points factor `f` earns with answer `code`.
    pub(crate) fn points_of(&self, f: usize, code: i64) -> i64 {
        if let Some(Some(per)) = self.per_unit.get(f) {
            return per.saturating_mul(code);
        }
        self.points
            .get(f)
            .and_then(|t| t.iter().find(|&&(lo, hi, _)| lo <= code && code <= hi))
            .map_or(0, |&(_, _, p)| p)
    }

    /// Whether factor `f` earns points at all.
    pub(crate) fn scores(&self, f: usize) -> bool {
        self.points.get(f).is_some_and(|t| !t.is_empty())
            || self.per_unit.get(f).is_some_and(Option::is_some)
    }

    /// The total of complete answers `values` (codes by factor index).
    pub(crate) fn total(&self, values: &[i64]) -> i64 {
        values
            .iter()
            .enumerate()
            .fold(0i64, |t, (f, &v)| t.saturating_add(self.points_of(f, v)))
    }
}

/// Flat storage of all compiled conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ConditionArena {
    pub nodes: Vec<Node>,
    pub children: Vec<NodeId>,
    pub ranges: Vec<(i64, i64)>,
    /// Points for `score` conditions ([`Node::Score`]).
    pub score: ScoreTable,
}

impl Ruleset {
    /// Identification: id, version, title, description, sources.
    pub fn metadata(&self) -> &Metadata {
        &self.meta
    }

    /// The declared dimensions, in declaration order (empty when the ruleset declares none).
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// Levels from least to most intensive.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }

    /// The questions, in declaration order.
    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }

    /// The rules, in declaration order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The flags, in declaration order.
    pub fn flags(&self) -> &[Flag] {
        &self.flags
    }

    /// The declared invariants, in declaration order.
    pub fn invariants(&self) -> &[Invariant] {
        &self.invariants
    }

    /// The score bands, when the ruleset uses scoring.
    pub fn score_bands(&self) -> Option<&[ScoreBand]> {
        self.scoring.as_ref().map(|s| s.bands.as_slice())
    }

    /// Hex SHA-256 of the exact source text the ruleset was compiled from.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The first 12 hex digits of [`Ruleset::sha256`], as reports show it.
    pub fn short_sha256(&self) -> &str {
        self.sha256.get(..12).unwrap_or(&self.sha256)
    }

    /// Whether `other` has the same `id` and `version:` as this ruleset but different
    /// content (source text SHA-256): a changed ruleset whose version was not changed,
    /// so decisions recorded under the two could not be told apart by their version.
    pub fn same_version_other_content(&self, other: &Ruleset) -> bool {
        self.meta.id == other.meta.id
            && self.meta.version == other.meta.version
            && self.sha256 != other.sha256
    }

    /// Look a factor up by id.
    ///
    /// One lookup in a hash table of the ids built when the ruleset was compiled; with
    /// two factors of the same id (an invalid ruleset) the first is found.
    #[inline]
    pub fn factor_index(&self, id: &str) -> Option<FactorIndex> {
        self.factor_ids
            .get(id)
            .and_then(|i| usize::try_from(i).ok())
    }

    /// The factor and value code of the answer `text` to the factor `factor`, when
    /// it is an ordinal value or a usual boolean spelling exactly as written (see
    /// [`Ruleset::answer_texts`]); found without copying.
    #[inline]
    pub(crate) fn answer_code(&self, factor: &str, text: &str) -> Option<(FactorIndex, i64)> {
        let packed = self.answer_texts.get_pair(factor, text)?;
        Some((
            usize::try_from(packed >> 32).ok()?,
            i64::from(packed as u32),
        ))
    }

    /// The code of `text` on the ordinal scale of the factor at `index`, found
    /// without copying; `None` when that factor is not ordinal or `text` is not one
    /// of its values.
    #[inline]
    pub(crate) fn ordinal_code(&self, index: FactorIndex, text: &str) -> Option<i64> {
        let factor = self.factors.get(index)?;
        if !matches!(factor.kind, FactorKind::Ordinal { .. }) {
            return None;
        }
        match self.answer_code(&factor.id, text)? {
            (i, code) if i == index => Some(code),
            _ => None,
        }
    }

    /// How this ruleset evaluates complete answers: the level table, the level
    /// diagram or the rule walk (chosen when it was compiled; the results are the same).
    pub fn level_evaluation(&self) -> LevelEvaluation {
        if self.table.is_some() {
            LevelEvaluation::Table
        } else if self.diagram.is_some() {
            LevelEvaluation::Diagram
        } else {
            LevelEvaluation::RuleWalk
        }
    }

    /// Look a level up by id.
    pub fn level_index(&self, id: &str) -> Option<LevelIndex> {
        self.levels.iter().position(|l| l.id == id)
    }

    /// The level at `index`; `index` comes from this ruleset, so it exists.
    pub(crate) fn level_at(&self, index: LevelIndex) -> Option<&Level> {
        self.levels.get(index)
    }
}

impl Factor {
    /// Render an internal value code as the answer a person would write.
    pub fn render_code(&self, code: i64) -> String {
        match &self.kind {
            FactorKind::Ordinal { values } => usize::try_from(code)
                .ok()
                .and_then(|i| values.get(i))
                .cloned()
                .unwrap_or_else(|| format!("#{code}")),
            FactorKind::Integer { .. } => code.to_string(),
            FactorKind::Boolean => (code != 0).to_string(),
        }
    }

    /// The answer a value code stands for, as a person would give it.
    pub fn value_of(&self, code: i64) -> crate::Value {
        match self.kind {
            FactorKind::Ordinal { .. } => crate::Value::Text(self.render_code(code)),
            FactorKind::Integer { .. } => crate::Value::Integer(code),
            FactorKind::Boolean => crate::Value::Boolean(code != 0),
        }
    }

    /// The value assumed when the factor is unanswered, for the `assume` policy.
    pub fn assumed_value(&self) -> Option<crate::Value> {
        match self.missing {
            MissingPolicy::Assume(code) => Some(self.value_of(code)),
            _ => None,
        }
    }

    /// The allowed answers, in words (for messages and `describe`).
    pub fn allowed_answers(&self) -> String {
        match &self.kind {
            FactorKind::Ordinal { values } => values.join(", "),
            FactorKind::Integer { min, max, .. } => format!("a whole number from {min} to {max}"),
            FactorKind::Boolean => "true, false".to_owned(),
        }
    }

    /// Representative value codes, one per class of answers that no condition,
    /// band or score can tell apart. Ordinal and boolean factors: every value;
    /// integer factors: one value per interval cut by the ruleset's thresholds.
    pub fn classes(&self) -> &[i64] {
        &self.classes
    }

    /// The index of the class `code` falls in.
    pub(crate) fn class_of(&self, code: i64) -> usize {
        match self.kind {
            FactorKind::Integer { .. } => self
                .classes
                .partition_point(|&r| r <= code)
                .saturating_sub(1),
            _ => usize::try_from(code).unwrap_or(0),
        }
    }

    /// The band an integer value falls in, if the factor has bands.
    pub(crate) fn band_of(&self, value: i64) -> Option<usize> {
        match &self.kind {
            FactorKind::Integer { bands, .. } => {
                bands.iter().position(|b| b.min <= value && value <= b.max)
            }
            _ => None,
        }
    }
}

impl Scoring {
    /// Points the answer `code` of factor `factor` earns.
    pub(crate) fn points_for(&self, factors: &[Factor], factor: usize, code: i64) -> i64 {
        match self.points.get(factor) {
            Some(Some(FactorPoints::ByCode(table))) => usize::try_from(code)
                .ok()
                .and_then(|i| table.get(i))
                .copied()
                .unwrap_or(0),
            Some(Some(FactorPoints::ByBand(table))) => factors
                .get(factor)
                .and_then(|f| f.band_of(code))
                .and_then(|b| table.get(b))
                .copied()
                .unwrap_or(0),
            Some(Some(FactorPoints::PerUnit { per, .. })) => per.saturating_mul(code),
            None | Some(None) => 0,
        }
    }

    /// Smallest and largest points factor `factor` can earn.
    pub(crate) fn points_range(&self, factor: usize) -> (i64, i64) {
        match self.points.get(factor) {
            Some(Some(FactorPoints::ByCode(t) | FactorPoints::ByBand(t))) => {
                let lo = t.iter().copied().min().unwrap_or(0);
                let hi = t.iter().copied().max().unwrap_or(0);
                (lo, hi)
            }
            Some(Some(FactorPoints::PerUnit { per, min, max })) => {
                let (a, b) = (per.saturating_mul(*min), per.saturating_mul(*max));
                (a.min(b), a.max(b))
            }
            None | Some(None) => (0, 0),
        }
    }

    /// Whether factor `factor` earns points at all.
    pub(crate) fn scores(&self, factor: usize) -> bool {
        matches!(self.points.get(factor), Some(Some(_)))
    }

    /// The band a total falls in.
    pub(crate) fn band_for(&self, total: i64) -> Option<&ScoreBand> {
        self.bands
            .iter()
            .find(|b| b.min.is_none_or(|min| total >= min) && b.max.is_none_or(|max| total <= max))
    }
}
