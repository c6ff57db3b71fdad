//! The explained result of evaluating answers: [`Assessment`].
//!
//! Field names are stable (they are the JSON/YAML output format) and documented in
//! `docs/assessment.md`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::answers::{Answers, Value};
use crate::dimensions::{self, DimensionReport};
use crate::error::{AssessError, EvalError};
use crate::eval::{holds, Exhausted, Search, Tri};
use crate::limits;
use crate::model::{FlagKind, Level, LevelIndex, MissingPolicy, Ruleset};

/// A level of care as reported: id, label and rank (0 = least intensive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelRef<'r> {
    /// Level id, e.g. `iop`.
    pub id: Cow<'r, str>,
    /// Human label.
    pub label: Cow<'r, str>,
    /// Position in the ruleset's ordering, 0 for the least intensive level.
    pub rank: usize,
}

/// A rule that fired: its condition holds for every value the missing answers could take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredRule<'r> {
    /// Rule id.
    pub id: Cow<'r, str>,
    /// The level the rule demands at least.
    pub level: Cow<'r, str>,
    /// Rationale for clinicians.
    pub because: Cow<'r, str>,
    /// Citation, when the rule gives one.
    pub source: Option<Cow<'r, str>>,
    /// The tests of the total score in the rule's condition that hold, in words
    /// ("at least 20"): the total-score part of why the rule fired (the total is in
    /// [`Assessment::score`]). Empty, and absent from JSON, when the rule does not
    /// test the total or no such test holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub score_tests: Vec<Cow<'r, str>>,
}

/// A flag that fired (or, in `possible_flags`, could fire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredFlag<'r> {
    /// Flag id.
    pub id: Cow<'r, str>,
    /// `refer`, `review` or `info`.
    pub kind: FlagKind,
    /// Message for the care team.
    pub message: Cow<'r, str>,
    /// Citation, when the flag gives one.
    pub source: Option<Cow<'r, str>>,
}

/// Points one answer earned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreItem<'r> {
    /// Factor id.
    pub factor: Cow<'r, str>,
    /// The answer (or assumed value).
    pub value: Value,
    /// Points it earned.
    pub points: i64,
}

/// The score, when the ruleset uses scoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score<'r> {
    /// Sum of the points of the answered (and assumed) factors.
    pub total: i64,
    /// Most points the unanswered factors could still add (0 when all are answered).
    pub unanswered_max: i64,
    /// Least points the unanswered factors could add (may be negative).
    pub unanswered_min: i64,
    /// The level of the score band, when the unanswered factors cannot change it.
    pub band_level: Option<LevelRef<'r>>,
    /// Whether the score band demands the recommended level.
    pub decides: bool,
    /// Points per scored factor, in declaration order.
    pub breakdown: Vec<ScoreItem<'r>>,
}

/// A question that was not answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingAnswer<'r> {
    /// Factor id.
    pub factor: Cow<'r, str>,
    /// The question to ask.
    pub question: Cow<'r, str>,
    /// Whether some answer to it could change the level.
    pub could_change_level: bool,
}

/// A value used in place of a missing answer, by the factor's `assume` policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssumedAnswer<'r> {
    /// Factor id.
    pub factor: Cow<'r, str>,
    /// The assumed value.
    pub value: Value,
}

/// The lowest and highest level the missing answers leave open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelRange<'r> {
    /// Level if every missing answer turned out least demanding.
    pub lowest: LevelRef<'r>,
    /// Level if every missing answer turned out most demanding (the recommendation).
    pub highest: LevelRef<'r>,
}

/// What the recommended level rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// One or more fired rules demand it.
    Rules,
    /// The score band demands it.
    Score,
    /// Both fired rules and the score band demand it.
    RulesAndScore,
    /// Nothing demands more: it is the lowest declared level.
    LowestLevel,
    /// It is the top of the range that missing answers leave open; no answered rule demands it.
    MissingAnswers,
}

/// Which ruleset and engine produced an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance<'r> {
    /// Ruleset id.
    pub ruleset_id: Cow<'r, str>,
    /// Ruleset version.
    pub ruleset_version: Cow<'r, str>,
    /// Hex SHA-256 of the ruleset source text.
    pub ruleset_sha256: Cow<'r, str>,
    /// Engine name (`carelevel`).
    pub engine: Cow<'r, str>,
    /// Engine (crate) version.
    pub engine_version: Cow<'r, str>,
}

/// The explained recommendation for one person. Decision support: a qualified
/// professional makes the final placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment<'r> {
    /// The recommended level (the top of `level_range`).
    pub level: LevelRef<'r>,
    /// What the level rests on.
    pub basis: Basis,
    /// Ids of the fired rules that demand the recommended level.
    pub deciding_rules: Vec<Cow<'r, str>>,
    /// Every fired rule, in declaration order, with its rationale.
    pub fired_rules: Vec<FiredRule<'r>>,
    /// The score, when the ruleset uses scoring.
    pub score: Option<Score<'r>>,
    /// Fired flags, in declaration order.
    pub flags: Vec<FiredFlag<'r>>,
    /// Whether any `refer` flag fired: care beyond these levels, or an emergency evaluation, first.
    pub refer: bool,
    /// Flags that fire for some but not all values of the missing answers.
    pub possible_flags: Vec<FiredFlag<'r>>,
    /// Unanswered questions (policy `ask`), in declaration order.
    pub missing: Vec<MissingAnswer<'r>>,
    /// The levels the missing answers leave open (one level when nothing is missing).
    pub level_range: LevelRange<'r>,
    /// Values assumed for unanswered questions, by their `assume` policy.
    pub assumed: Vec<AssumedAnswer<'r>>,
    /// Whether a clinician must review before placement because missing answers leave the
    /// level, or a `refer` flag, open.
    pub needs_review: bool,
    /// Why `needs_review` is set, in words.
    pub review_reasons: Vec<String>,
    /// The justification per dimension, in the ruleset's declaration order: present
    /// only when the ruleset declares `dimensions` (absent from JSON otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Vec<DimensionReport<'r>>>,
    /// Ruleset and engine identification.
    pub provenance: Provenance<'r>,
}

impl Ruleset {
    pub(crate) fn level_ref(&self, index: LevelIndex) -> LevelRef<'_> {
        let level = self.level_at(index);
        LevelRef {
            id: level.map_or(Cow::Borrowed(""), |l| Cow::Borrowed(&l.id)),
            label: level.map_or(Cow::Borrowed(""), |l| Cow::Borrowed(&l.label)),
            rank: index,
        }
    }

    fn value_of(&self, factor: usize, code: i64) -> Value {
        self.factors
            .get(factor)
            .map_or(Value::Integer(code), |f| f.value_of(code))
    }

    /// Which factors are known (answered or assumed); errors for foreign answers and
    /// unanswered required questions.
    fn known_factors(&self, answers: &Answers<'_>) -> Result<Vec<bool>, EvalError> {
        self.check_owner(answers)?;
        let mut required = Vec::new();
        let known = self
            .factors
            .iter()
            .zip(&answers.answered)
            .map(|(f, &answered)| {
                answered
                    || match f.missing {
                        MissingPolicy::Assume(_) => true,
                        MissingPolicy::Ask => false,
                        MissingPolicy::Error => {
                            required.push(f.id.clone());
                            false
                        }
                    }
            })
            .collect();
        if required.is_empty() {
            Ok(known)
        } else {
            Err(EvalError::MissingRequired { factors: required })
        }
    }

    pub(crate) fn check_owner(&self, answers: &Answers<'_>) -> Result<(), EvalError> {
        if std::ptr::eq(answers.ruleset, self) || answers.ruleset.sha256 == self.sha256 {
            Ok(())
        } else {
            Err(EvalError::ForeignAnswers {
                answers_ruleset: answers.ruleset.meta.id.clone(),
                ruleset: self.meta.id.clone(),
            })
        }
    }

    /// The recommended level's index, and nothing else: the fast path.
    ///
    /// With every question answered (or assumed) this allocates nothing and compares no
    /// strings. With `ask` questions unanswered it returns the top of the exact range
    /// of levels they leave open.
    pub fn level_for(&self, answers: &Answers<'_>) -> Result<LevelIndex, EvalError> {
        self.check_owner(answers)?;
        if self.complete(answers) {
            return Ok(self.level_of_codes(&answers.values));
        }
        self.level_for_incomplete(answers)
    }

    /// [`Ruleset::level_for`] with answers missing: the search over them. Kept out of
    /// line so the complete-answer path stays small (inlined into it, this path's
    /// frame made every `level_for` call about 25 ns slower in `benches/evaluate.rs`).
    #[inline(never)]
    fn level_for_incomplete(&self, answers: &Answers<'_>) -> Result<LevelIndex, EvalError> {
        let mut budget = limits::MAX_MISSING_WORK;
        match self.level_within(answers, &mut budget)? {
            Some(level) => Ok(level),
            None => Err(self.too_many_missing(&self.known_factors(answers)?)),
        }
    }

    /// [`Ruleset::level_for`] within a work budget shared by many calls (condition
    /// nodes visited, as [`crate::limits::MAX_MISSING_WORK`] counts them): `Ok(None)` when
    /// `budget` runs out first. What the call spent is taken off `budget`; a complete
    /// answer set is charged what its evaluation can cost at most.
    pub(crate) fn level_within(
        &self,
        answers: &Answers<'_>,
        budget: &mut u64,
    ) -> Result<Option<LevelIndex>, EvalError> {
        let known = self.known_factors(answers)?;
        if known.iter().all(|&k| k) {
            let cost = self.complete_evaluation_cost();
            if *budget < cost {
                return Ok(None);
            }
            *budget -= cost;
            return Ok(Some(self.level_of_codes(&answers.values)));
        }
        let mut search = Search::with_limit(
            &self.conditions,
            &self.factors,
            answers.values.clone(),
            known,
            *budget,
        );
        let range = search.level_range(self);
        *budget = budget.saturating_sub(search.spent());
        Ok(range.ok().map(|(_, hi)| hi))
    }

    /// The most work the level of one complete answer set can take: a table lookup
    /// or a path through the level diagram reads at most one class per factor; the
    /// rule walk visits at most every condition node.
    pub(crate) fn complete_evaluation_cost(&self) -> u64 {
        let walk = if self.table.is_some() || self.diagram.is_some() {
            self.factors.len()
        } else {
            self.conditions.nodes.len()
        };
        u64::try_from(walk).unwrap_or(u64::MAX).max(1)
    }

    /// The recommended level (see [`Ruleset::level_for`]).
    pub fn level<'s>(&'s self, answers: &Answers<'_>) -> Result<&'s Level, EvalError> {
        let index = self.level_for(answers)?;
        self.levels.get(index).ok_or(EvalError::MissingRequired {
            factors: Vec::new(),
        })
    }

    /// Assess many JSON answer records (e.g. the lines of a JSON Lines file), lazily and
    /// in order; each record succeeds or fails on its own.
    ///
    /// ```
    /// let rules = carelevel::Ruleset::default_ruleset()?;
    /// let records = [
    ///     r#"{"severity": "mild", "withdrawal_risk": "none", "medical": "none", "housing": "stable",
    ///         "support": "strong", "harm_risk": "none", "mental_health": "none"}"#,
    ///     r#"{"severity": "extreme"}"#,
    /// ];
    /// let results: Vec<_> = rules.assess_each(records).collect();
    /// assert_eq!(results[0].as_ref().map(|a| a.level.id.as_ref()), Ok("outpatient"));
    /// assert!(results[1].is_err());
    /// # Ok::<(), carelevel::RulesetError>(())
    /// ```
    pub fn assess_each<'s, I>(
        &'s self,
        records: I,
    ) -> impl Iterator<Item = Result<Assessment<'s>, AssessError>> + 's
    where
        I: IntoIterator + 's,
        I::Item: AsRef<str>,
    {
        records.into_iter().map(move |record| {
            let answers = self.answers_from_json(record.as_ref())?;
            Ok(self.assess(&answers)?)
        })
    }

    /// The full, explained assessment.
    pub fn assess(&self, answers: &Answers<'_>) -> Result<Assessment<'_>, EvalError> {
        let known = self.known_factors(answers)?;
        self.assess_known(&answers.values, &known, &answers.answered)
            .map_err(|Exhausted| self.too_many_missing(&known))
    }

    fn assess_known(
        &self,
        values: &[i64],
        known: &[bool],
        answered: &[bool],
    ) -> Result<Assessment<'_>, Exhausted> {
        let complete = known.iter().all(|&k| k);
        // The search over missing answers; with complete answers there is none to
        // build (its working copies of the answers are two allocations).
        let mut search = (!complete).then(|| {
            Search::new(
                &self.conditions,
                &self.factors,
                values.to_vec(),
                known.to_vec(),
            )
        });
        let (lowest, highest) = match search.as_mut() {
            None => {
                let level = self.level_of_codes(values);
                (level, level)
            }
            Some(search) => search.level_range(self)?,
        };
        let level = highest;

        // With complete answers every status is plain two-valued evaluation.
        let mut status = |node| -> Result<Tri, Exhausted> {
            match search.as_mut() {
                None => Ok(if holds(&self.conditions, node, values) {
                    Tri::True
                } else {
                    Tri::False
                }),
                Some(search) => search.status(node),
            }
        };
        let mut fired_rules = Vec::new();
        let mut deciding_rules = Vec::new();
        let mut rule_status = Vec::with_capacity(self.rules.len());
        let mut flag_status = Vec::with_capacity(self.flags.len());
        for rule in &self.rules {
            let fired = status(rule.when)?;
            rule_status.push(fired);
            if fired == Tri::True {
                if rule.level == level {
                    deciding_rules.push(Cow::Borrowed(rule.id.as_str()));
                }
                fired_rules.push(FiredRule {
                    id: Cow::Borrowed(&rule.id),
                    level: self.level_ref(rule.level).id,
                    because: Cow::Borrowed(&rule.because),
                    source: rule.source.as_deref().map(Cow::Borrowed),
                    score_tests: self
                        .score_tests_holding(rule.when, values, known)
                        .into_iter()
                        .map(Cow::Owned)
                        .collect(),
                });
            }
        }

        let mut flags = Vec::new();
        let mut possible_flags = Vec::new();
        for flag in &self.flags {
            let status = status(flag.when)?;
            flag_status.push(status);
            let out = FiredFlag {
                id: Cow::Borrowed(&flag.id),
                kind: flag.kind,
                message: Cow::Borrowed(&flag.message),
                source: flag.source.as_deref().map(Cow::Borrowed),
            };
            match status {
                Tri::True => flags.push(out),
                Tri::Unknown => possible_flags.push(out),
                Tri::False => {}
            }
        }
        let refer = flags.iter().any(|f| f.kind == FlagKind::Refer);

        let mut missing = Vec::new();
        let mut assumed = Vec::new();
        for (i, factor) in self.factors.iter().enumerate() {
            if known.get(i).copied().unwrap_or(false) {
                continue;
            }
            let could_change_level = match search.as_mut() {
                Some(search) if lowest != highest => search.level_depends_on(self, i)?,
                _ => false,
            };
            missing.push(MissingAnswer {
                factor: Cow::Borrowed(&factor.id),
                question: Cow::Borrowed(&factor.question),
                could_change_level,
            });
        }
        for (i, factor) in self.factors.iter().enumerate() {
            if let MissingPolicy::Assume(code) = factor.missing {
                if !answered.get(i).copied().unwrap_or(false) {
                    assumed.push(AssumedAnswer {
                        factor: Cow::Borrowed(&factor.id),
                        value: self.value_of(i, code),
                    });
                }
            }
        }

        let score = self.score_report(values, known, level);
        let score_decides = score.as_ref().is_some_and(|s| s.decides);
        let basis = match (deciding_rules.is_empty(), score_decides) {
            (false, false) => Basis::Rules,
            (true, true) => Basis::Score,
            (false, true) => Basis::RulesAndScore,
            (true, false) if level == 0 => Basis::LowestLevel,
            (true, false) => Basis::MissingAnswers,
        };

        let mut review_reasons = Vec::new();
        if lowest != highest {
            let deciders: Vec<&str> = missing
                .iter()
                .filter(|m| m.could_change_level)
                .map(|m| m.factor.as_ref())
                .collect();
            review_reasons.push(format!(
                "missing answers leave the level open from {} to {}; the highest is recommended until {} {} answered",
                self.level_ref(lowest).id,
                self.level_ref(highest).id,
                deciders.join(", "),
                if deciders.len() == 1 { "is" } else { "are" }
            ));
        }
        for flag in possible_flags.iter().filter(|f| f.kind == FlagKind::Refer) {
            review_reasons.push(format!(
                "the refer flag `{}` could fire depending on missing answers",
                flag.id
            ));
        }

        Ok(Assessment {
            level: self.level_ref(level),
            basis,
            deciding_rules,
            fired_rules,
            score,
            flags,
            refer,
            possible_flags,
            missing,
            level_range: LevelRange {
                lowest: self.level_ref(lowest),
                highest: self.level_ref(highest),
            },
            assumed,
            needs_review: !review_reasons.is_empty(),
            review_reasons,
            dimensions: dimensions::reports(
                self,
                values,
                known,
                answered,
                &rule_status,
                &flag_status,
            ),
            provenance: self.provenance(),
        })
    }

    /// The provenance block every assessment carries.
    pub fn provenance(&self) -> Provenance<'_> {
        Provenance {
            ruleset_id: Cow::Borrowed(&self.meta.id),
            ruleset_version: Cow::Borrowed(&self.meta.version),
            ruleset_sha256: Cow::Borrowed(&self.sha256),
            engine: Cow::Borrowed("carelevel"),
            engine_version: Cow::Borrowed(env!("CARGO_PKG_VERSION")),
        }
    }

    fn score_report(&self, values: &[i64], known: &[bool], level: LevelIndex) -> Option<Score<'_>> {
        let scoring = self.scoring.as_ref()?;
        let mut total = 0i64;
        let (mut add_min, mut add_max) = (0i64, 0i64);
        let mut breakdown = Vec::new();
        for (i, factor) in self.factors.iter().enumerate() {
            if !scoring.scores(i) {
                continue;
            }
            if known.get(i).copied().unwrap_or(false) {
                let code = values.get(i).copied().unwrap_or(0);
                let points = scoring.points_for(&self.factors, i, code);
                total = total.saturating_add(points);
                breakdown.push(ScoreItem {
                    factor: Cow::Borrowed(&factor.id),
                    value: self.value_of(i, code),
                    points,
                });
            } else {
                let (lo, hi) = scoring.points_range(i);
                add_min = add_min.saturating_add(lo);
                add_max = add_max.saturating_add(hi);
            }
        }
        let (lo_total, hi_total) = (total.saturating_add(add_min), total.saturating_add(add_max));
        let mut open = scoring
            .bands
            .iter()
            .filter(|b| b.min.is_none_or(|m| m <= hi_total) && b.max.is_none_or(|m| m >= lo_total))
            .map(|b| b.level);
        let first = open.next();
        let band_level = match first {
            Some(l) if open.all(|other| other == l) => Some(self.level_ref(l)),
            _ => None,
        };
        let decides = band_level.as_ref().is_some_and(|b| b.rank == level);
        Some(Score {
            total,
            unanswered_max: add_max,
            unanswered_min: add_min,
            band_level,
            decides,
            breakdown,
        })
    }
}

fn own(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

impl LevelRef<'_> {
    /// Detach from the ruleset.
    pub fn into_owned(self) -> LevelRef<'static> {
        LevelRef {
            id: own(self.id),
            label: own(self.label),
            rank: self.rank,
        }
    }
}

impl FiredFlag<'_> {
    /// Detach from the ruleset.
    pub fn into_owned(self) -> FiredFlag<'static> {
        FiredFlag {
            id: own(self.id),
            kind: self.kind,
            message: own(self.message),
            source: self.source.map(own),
        }
    }
}

impl Assessment<'_> {
    /// Detach the assessment from the ruleset it borrows its texts from (copies them).
    pub fn into_owned(self) -> Assessment<'static> {
        Assessment {
            level: self.level.into_owned(),
            basis: self.basis,
            deciding_rules: self.deciding_rules.into_iter().map(own).collect(),
            fired_rules: self
                .fired_rules
                .into_iter()
                .map(|r| FiredRule {
                    id: own(r.id),
                    level: own(r.level),
                    because: own(r.because),
                    source: r.source.map(own),
                    score_tests: r.score_tests.into_iter().map(own).collect(),
                })
                .collect(),
            score: self.score.map(|s| Score {
                total: s.total,
                unanswered_max: s.unanswered_max,
                unanswered_min: s.unanswered_min,
                band_level: s.band_level.map(LevelRef::into_owned),
                decides: s.decides,
                breakdown: s
                    .breakdown
                    .into_iter()
                    .map(|i| ScoreItem {
                        factor: own(i.factor),
                        value: i.value,
                        points: i.points,
                    })
                    .collect(),
            }),
            flags: self.flags.into_iter().map(FiredFlag::into_owned).collect(),
            refer: self.refer,
            possible_flags: self
                .possible_flags
                .into_iter()
                .map(FiredFlag::into_owned)
                .collect(),
            missing: self
                .missing
                .into_iter()
                .map(|m| MissingAnswer {
                    factor: own(m.factor),
                    question: own(m.question),
                    could_change_level: m.could_change_level,
                })
                .collect(),
            level_range: LevelRange {
                lowest: self.level_range.lowest.into_owned(),
                highest: self.level_range.highest.into_owned(),
            },
            assumed: self
                .assumed
                .into_iter()
                .map(|a| AssumedAnswer {
                    factor: own(a.factor),
                    value: a.value,
                })
                .collect(),
            needs_review: self.needs_review,
            review_reasons: self.review_reasons,
            dimensions: self
                .dimensions
                .map(|d| d.into_iter().map(DimensionReport::into_owned).collect()),
            provenance: Provenance {
                ruleset_id: own(self.provenance.ruleset_id),
                ruleset_version: own(self.provenance.ruleset_version),
                ruleset_sha256: own(self.provenance.ruleset_sha256),
                engine: own(self.provenance.engine),
                engine_version: own(self.provenance.engine_version),
            },
        }
    }
}

/// The compact result for bulk use: the level, the deciding rules and the fired
/// flags, without the explanation texts. Equal to the corresponding fields of
/// [`Ruleset::assess`] (which may be refused, with missing answers, where the
/// decision is not: it needs less of the search budget).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision<'r> {
    /// Recommended level id.
    pub level: &'r str,
    /// Ids of the fired rules that demand it.
    pub deciding_rules: Vec<&'r str>,
    /// Ids of the fired flags.
    pub flags: Vec<&'r str>,
    /// Whether a `refer` flag fired.
    pub refer: bool,
    /// Whether missing answers leave the level, or a `refer` flag, open.
    pub needs_review: bool,
}

impl Ruleset {
    /// The compact result. With every question answered (or assumed) this is the
    /// fast path plus one pass over the rules and flags; otherwise it is the search
    /// over the missing answers that the full assessment also makes, without the parts
    /// only the assessment reports.
    pub fn decide(&self, answers: &Answers<'_>) -> Result<Decision<'_>, EvalError> {
        self.check_owner(answers)?;
        let complete = self.complete(answers);
        if !complete {
            let known = self.known_factors(answers)?;
            return self
                .decide_open(&answers.values, &known)
                .map_err(|Exhausted| self.too_many_missing(&known));
        }
        let values = &answers.values;
        let level = self.level_of_codes(values);
        let deciding_rules = self
            .rules
            .iter()
            .filter(|r| r.level == level && holds(&self.conditions, r.when, values))
            .map(|r| r.id.as_str())
            .collect();
        let mut refer = false;
        let flags = self
            .flags
            .iter()
            .filter(|f| holds(&self.conditions, f.when, values))
            .map(|f| {
                refer |= f.kind == FlagKind::Refer;
                f.id.as_str()
            })
            .collect();
        Ok(Decision {
            level: self.level_at(level).map_or("", |l| l.id.as_str()),
            deciding_rules,
            flags,
            refer,
            needs_review: false,
        })
    }
}

impl Ruleset {
    /// The compact result when answers are missing: the fields [`Ruleset::assess`]
    /// would give (the top of the open range, its fired deciding rules, the fired
    /// flags, `needs_review` when the range is open or a `refer` flag could fire),
    /// found by the same search without what only the full assessment reports (which
    /// missing answers could change the level, the score, the dimensions, the texts).
    /// The property tests `decision_equals_assessment` (default ruleset) and
    /// `engine_equals_reference_interpreter` (random rulesets) keep the two equal. It
    /// spends less of the search budget than the assessment, so where the assessment is
    /// refused only for finding which missing answers could change the level, this
    /// still answers (exactly).
    fn decide_open(&self, values: &[i64], known: &[bool]) -> Result<Decision<'_>, Exhausted> {
        let mut search = Search::new(
            &self.conditions,
            &self.factors,
            values.to_vec(),
            known.to_vec(),
        );
        let (lowest, highest) = search.level_range(self)?;
        let mut deciding_rules = Vec::new();
        for rule in &self.rules {
            if rule.level == highest && search.status(rule.when)? == Tri::True {
                deciding_rules.push(rule.id.as_str());
            }
        }
        let (mut flags, mut refer, mut refer_open) = (Vec::new(), false, false);
        for flag in &self.flags {
            match search.status(flag.when)? {
                Tri::True => {
                    flags.push(flag.id.as_str());
                    refer |= flag.kind == FlagKind::Refer;
                }
                Tri::Unknown => refer_open |= flag.kind == FlagKind::Refer,
                Tri::False => {}
            }
        }
        Ok(Decision {
            level: self.level_at(highest).map_or("", |l| l.id.as_str()),
            deciding_rules,
            flags,
            refer,
            needs_review: lowest != highest || refer_open,
        })
    }
}
