//! The entries of the log: decision records and feedback records.
//!
//! The JSON shape is stable and documented field by field in `docs/decision-log.md`.
//! Every field is always written (`null` when absent), and reading refuses unknown
//! fields, so a log written by a newer format is reported, not half read.

use carelevel::{Answers, Assessment};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::mask::{FieldMask, MaskError, Masking};
use crate::time::Timestamp;

/// One line (JSON Lines) or row (SQLite) of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogEntry {
    /// A recommendation that was served.
    Decision(DecisionRecord),
    /// What the clinician did with a recommendation.
    Feedback(FeedbackRecord),
}

/// Which ruleset answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesetRef {
    /// Ruleset id.
    pub id: String,
    /// Ruleset version.
    pub version: String,
    /// Hex SHA-256 of the ruleset source text.
    pub sha256: String,
}

/// How the request reached carelevel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Channel {
    /// A CDS Hooks service call.
    #[serde(rename = "cds-hooks")]
    CdsHooks,
    /// The plain JSON API.
    #[serde(rename = "api")]
    Api,
    /// The command line (`assess`/`batch --decision-log`).
    #[serde(rename = "cli")]
    Cli,
}

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The channel.
    pub channel: Channel,
    /// The route (`/cds-services/{id}`, `/v1/rulesets/{id}/assess`) or CLI subcommand.
    pub route: String,
    /// The CDS Hooks hook (`patient-view`, ...), if any.
    pub hook: Option<String>,
    /// The CDS Hooks `hookInstance`, if any.
    pub hook_instance: Option<String>,
}

/// Who asked (from a verified token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    /// The token's issuer (`iss`).
    pub iss: String,
    /// The tenant, if the token names one.
    pub tenant: Option<String>,
}

/// The recommendation, as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionResult {
    /// The recommended level id.
    pub level: String,
    /// Whether a `refer` flag fired.
    pub refer: bool,
    /// Whether a clinician must review before placement.
    pub needs_review: bool,
    /// Ids of the fired flags, in declaration order.
    pub flags: Vec<String>,
    /// Ids of the rules that demand the level.
    pub deciding_rules: Vec<String>,
    /// Ids of the unanswered questions (policy `ask`).
    pub missing: Vec<String>,
}

/// One recommendation served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecord {
    /// Caller-supplied id (the server uses a UUID v4); never empty.
    pub decision_id: String,
    /// RFC 3339 UTC time, caller-supplied (the crate has no clock).
    pub time: String,
    /// The ruleset that answered.
    pub ruleset: RulesetRef,
    /// The engine version that answered.
    pub engine_version: String,
    /// Where the request came from.
    pub source: Source,
    /// Who asked, when known.
    pub requester: Option<Requester>,
    /// The uuid of the CDS Hooks card that carried the recommendation, if any.
    pub card_uuid: Option<String>,
    /// The answers given, after masking (question id → answer, or `sha256:...` for
    /// a hashed one), in the ruleset's question order. Unanswered and dropped
    /// questions are absent.
    pub input: Map<String, Value>,
    /// Ids of the questions whose answer was hashed or dropped.
    pub masked: Vec<String>,
    /// The recommendation.
    pub result: DecisionResult,
}

/// What the clinician did with the recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The recommendation was taken.
    Accepted,
    /// The recommendation was overridden.
    Overridden,
}

/// A coded reason (FHIR `Coding`-like).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodedReason {
    /// The code system URI, if given.
    pub system: Option<String>,
    /// The code.
    pub code: String,
    /// The display text, if given.
    pub display: Option<String>,
}

/// Feedback on a decision (CDS Hooks feedback, or an outcome reported later). It
/// links to its decision by `decision_id` or `card_uuid` (at least one is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRecord {
    /// RFC 3339 UTC time, caller-supplied.
    pub time: String,
    /// The decision this is about, if known.
    pub decision_id: Option<String>,
    /// The card this is about, if known.
    pub card_uuid: Option<String>,
    /// Accepted or overridden.
    pub outcome: Outcome,
    /// When the clinician acted, as the client said (CDS Hooks `outcomeTimestamp`,
    /// kept as sent), when given.
    pub outcome_timestamp: Option<String>,
    /// Why it was overridden, when given.
    pub override_reason: Option<CodedReason>,
    /// The clinician's free-text comment on the override (CDS Hooks `userComment`), when given.
    pub override_comment: Option<String>,
    /// The level actually chosen, when reported.
    pub chosen_level: Option<String>,
    /// Where the feedback came from.
    pub source: Source,
    /// Who sent it, when known.
    pub requester: Option<Requester>,
}

/// The caller-supplied part of a decision record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionMeta {
    /// The decision id (not empty).
    pub decision_id: String,
    /// RFC 3339 UTC time.
    pub time: String,
    /// Where the request came from.
    pub source: Source,
    /// Who asked.
    pub requester: Option<Requester>,
    /// The card uuid, if the decision went out as a card.
    pub card_uuid: Option<String>,
}

impl DecisionRecord {
    /// Builds the record from an assessment and the answers it was made from,
    /// applying `masking` first. A masking failure is an error: the caller drops the
    /// event and counts it; the answers are never written unmasked.
    pub fn new(
        meta: DecisionMeta,
        answers: &Answers<'_>,
        assessment: &Assessment<'_>,
        masking: &Masking,
    ) -> Result<DecisionRecord, MaskError> {
        if meta.decision_id.is_empty() {
            return Err(MaskError::MissingDecisionId);
        }
        Timestamp::parse(&meta.time)?;
        let ruleset = answers.ruleset();
        let p = &assessment.provenance;
        if ruleset.sha256() != p.ruleset_sha256 || ruleset.metadata().id != p.ruleset_id {
            return Err(MaskError::RulesetMismatch {
                answers: ruleset.metadata().id.clone(),
                answers_sha256: ruleset.sha256().to_owned(),
                assessment: p.ruleset_id.to_string(),
                assessment_sha256: p.ruleset_sha256.to_string(),
            });
        }
        masking.check(ruleset)?;
        let mut input = Map::new();
        let mut masked = Vec::new();
        for factor in ruleset.factors() {
            let Some(value) = answers.get(&factor.id) else {
                continue;
            };
            let value = answer_json(value);
            match masking.rule(&factor.id) {
                FieldMask::Keep => {
                    input.insert(factor.id.clone(), value);
                }
                FieldMask::Hash => {
                    input.insert(factor.id.clone(), Value::String(masking.hash(&value)));
                    masked.push(factor.id.clone());
                }
                FieldMask::Drop => masked.push(factor.id.clone()),
            }
        }
        let ids = |v: &mut dyn Iterator<Item = &str>| v.map(str::to_owned).collect::<Vec<_>>();
        Ok(DecisionRecord {
            decision_id: meta.decision_id,
            time: meta.time,
            ruleset: RulesetRef {
                id: p.ruleset_id.to_string(),
                version: p.ruleset_version.to_string(),
                sha256: p.ruleset_sha256.to_string(),
            },
            engine_version: p.engine_version.to_string(),
            source: meta.source,
            requester: meta.requester,
            card_uuid: meta.card_uuid,
            input,
            masked,
            result: DecisionResult {
                level: assessment.level.id.to_string(),
                refer: assessment.refer,
                needs_review: assessment.needs_review,
                flags: ids(&mut assessment.flags.iter().map(|f| f.id.as_ref())),
                deciding_rules: ids(&mut assessment.deciding_rules.iter().map(AsRef::as_ref)),
                missing: ids(&mut assessment.missing.iter().map(|m| m.factor.as_ref())),
            },
        })
    }

    /// Whether the answers were logged exactly (nothing hashed or dropped), so the
    /// decision can be replayed.
    pub fn replayable(&self) -> bool {
        self.masked.is_empty()
    }
}

/// An answer as the JSON value it was given as (`true`, `3`, `"moderate"`).
fn answer_json(value: carelevel::Value) -> Value {
    match value {
        carelevel::Value::Boolean(b) => Value::Bool(b),
        carelevel::Value::Integer(i) => Value::from(i),
        carelevel::Value::Text(t) => Value::String(t),
    }
}

impl LogEntry {
    /// The entry's time text.
    pub fn time(&self) -> &str {
        match self {
            LogEntry::Decision(d) => &d.time,
            LogEntry::Feedback(f) => &f.time,
        }
    }

    /// The decision id (of the decision, or the one the feedback links to).
    pub fn decision_id(&self) -> Option<&str> {
        match self {
            LogEntry::Decision(d) => Some(&d.decision_id),
            LogEntry::Feedback(f) => f.decision_id.as_deref(),
        }
    }

    /// The card uuid, if any.
    pub fn card_uuid(&self) -> Option<&str> {
        match self {
            LogEntry::Decision(d) => d.card_uuid.as_deref(),
            LogEntry::Feedback(f) => f.card_uuid.as_deref(),
        }
    }

    /// The ruleset id (decisions only).
    pub fn ruleset_id(&self) -> Option<&str> {
        match self {
            LogEntry::Decision(d) => Some(&d.ruleset.id),
            LogEntry::Feedback(_) => None,
        }
    }

    /// The level: recommended (decision) or chosen (feedback, when reported).
    pub fn level(&self) -> Option<&str> {
        match self {
            LogEntry::Decision(d) => Some(&d.result.level),
            LogEntry::Feedback(f) => f.chosen_level.as_deref(),
        }
    }

    /// `decision` or `feedback`, as in the JSON `kind` field.
    pub fn kind(&self) -> &'static str {
        match self {
            LogEntry::Decision(_) => "decision",
            LogEntry::Feedback(_) => "feedback",
        }
    }

    /// Check what the writer needs before it accepts an entry: a valid time, and a
    /// decision id (decision) or a link (feedback). Returns the time.
    pub fn validate(&self) -> Result<Timestamp, String> {
        let t = Timestamp::parse(self.time()).map_err(|e| format!("field `time`: {e}"))?;
        match self {
            LogEntry::Decision(d) if d.decision_id.is_empty() => {
                Err("field `decision_id` is empty".to_owned())
            }
            LogEntry::Feedback(f) if f.decision_id.is_none() && f.card_uuid.is_none() => Err(
                "a feedback record needs `decision_id` or `card_uuid` to link to its decision"
                    .to_owned(),
            ),
            _ => Ok(t),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use super::*;
    use carelevel::Ruleset;

    pub(crate) fn meta(id: &str) -> DecisionMeta {
        DecisionMeta {
            decision_id: id.to_owned(),
            time: "2026-12-05T12:00:00Z".to_owned(),
            source: Source {
                channel: Channel::Api,
                route: "/v1/rulesets/default/assess".to_owned(),
                hook: None,
                hook_instance: None,
            },
            requester: Some(Requester {
                iss: "https://ehr.example".to_owned(),
                tenant: None,
            }),
            card_uuid: None,
        }
    }

    const ANSWERS: &str = r#"{"severity": "moderate", "withdrawal_risk": "low",
        "medical": "none", "housing": "stable", "support": "strong",
        "harm_risk": "none", "mental_health": "mild"}"#;

    #[test]
    fn record_from_assessment_and_its_json_shape() {
        let rs = Ruleset::default_ruleset().unwrap();
        let answers = rs.answers_from_json(ANSWERS).unwrap();
        let a = rs.assess(&answers).unwrap();
        let mut masking = Masking {
            salt: b"pepper".to_vec(),
            ..Masking::default()
        };
        masking
            .per_field
            .insert("housing".to_owned(), FieldMask::Drop);
        masking
            .per_field
            .insert("severity".to_owned(), FieldMask::Hash);
        let r = DecisionRecord::new(meta("d1"), &answers, &a, &masking).unwrap();
        assert_eq!(r.result.level, "iop");
        assert_eq!(r.masked, ["severity", "housing"]);
        assert!(!r.replayable());
        assert!(!r.input.contains_key("housing"));
        assert_eq!(
            r.input["severity"],
            masking.hash(&serde_json::json!("moderate"))
        );
        assert_eq!(r.input["support"], "strong");
        let json = serde_json::to_value(LogEntry::Decision(r.clone())).unwrap();
        assert_eq!(json["kind"], "decision");
        assert_eq!(json["source"]["channel"], "api");
        assert_eq!(json["card_uuid"], Value::Null);
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "kind",
                "decision_id",
                "time",
                "ruleset",
                "engine_version",
                "source",
                "requester",
                "card_uuid",
                "input",
                "masked",
                "result"
            ]
        );
        let back: LogEntry = serde_json::from_value(json).unwrap();
        assert_eq!(back, LogEntry::Decision(r));
    }

    #[test]
    fn unknown_fields_are_refused_on_reading() {
        let rs = Ruleset::default_ruleset().unwrap();
        let answers = rs.answers_from_json(ANSWERS).unwrap();
        let a = rs.assess(&answers).unwrap();
        let r = DecisionRecord::new(meta("d1"), &answers, &a, &Masking::keep_all()).unwrap();
        let mut json = serde_json::to_value(LogEntry::Decision(r)).unwrap();
        json["surprise"] = Value::Bool(true);
        let e = serde_json::from_value::<LogEntry>(json).unwrap_err();
        assert!(e.to_string().contains("unknown field `surprise`"), "{e}");
    }

    #[test]
    fn masking_failures_build_no_record() {
        let rs = Ruleset::default_ruleset().unwrap();
        let other = Ruleset::from_yaml(carelevel::DEFAULT_RULESET).unwrap();
        let answers = rs.answers_from_json(ANSWERS).unwrap();
        let a = rs.assess(&answers).unwrap();
        let hash_no_salt = Masking {
            default: FieldMask::Hash,
            ..Masking::default()
        };
        assert!(matches!(
            DecisionRecord::new(meta("d1"), &answers, &a, &hash_no_salt),
            Err(MaskError::MissingSalt { .. })
        ));
        let mut typo = Masking::keep_all();
        typo.per_field.insert("housng".to_owned(), FieldMask::Drop);
        assert!(matches!(
            DecisionRecord::new(meta("d1"), &answers, &a, &typo),
            Err(MaskError::UnknownQuestion { .. })
        ));
        let mut bad_time = meta("d1");
        bad_time.time = "2026-12-05 12:00".to_owned();
        assert!(matches!(
            DecisionRecord::new(bad_time, &answers, &a, &Masking::keep_all()),
            Err(MaskError::Time(_))
        ));
        assert!(matches!(
            DecisionRecord::new(meta(""), &answers, &a, &Masking::keep_all()),
            Err(MaskError::MissingDecisionId)
        ));
        // Same text compiles to the same ruleset: answers of one and assessment of the
        // other are accepted (same id and digest).
        let answers2 = other.answers_from_json(ANSWERS).unwrap();
        DecisionRecord::new(meta("d1"), &answers2, &a, &Masking::keep_all()).unwrap();
        let six = Ruleset::from_yaml(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../examples/rulesets/six-levels.yaml"
            ))
            .unwrap(),
        )
        .unwrap();
        let six_answers = six.new_answers();
        assert!(matches!(
            DecisionRecord::new(meta("d1"), &six_answers, &a, &Masking::keep_all()),
            Err(MaskError::RulesetMismatch { .. })
        ));
    }

    fn mask_rule(i: u8) -> FieldMask {
        match i % 3 {
            0 => FieldMask::Keep,
            1 => FieldMask::Hash,
            _ => FieldMask::Drop,
        }
    }

    proptest::proptest! {
        /// Whatever the rules and answers: a kept answer is logged as given, a hashed
        /// one only as its salted hash, a dropped one not at all, and `masked` lists
        /// exactly the answered questions hashed or dropped.
        #[test]
        fn masking_never_leaks_an_answer(
            picks in proptest::collection::vec((0u8..=255, 0u8..3, proptest::bool::ANY), 8),
            default in 0u8..3,
        ) {
            let rs = Ruleset::default_ruleset().unwrap();
            let mut masking = Masking { default: mask_rule(default), salt: b"s3cret".to_vec(), ..Masking::default() };
            let mut answers = Map::new();
            for (factor, (value, rule, answered)) in rs.factors().iter().zip(&picks) {
                if let carelevel::FactorKind::Ordinal { values } = &factor.kind {
                    if *answered {
                        let v = &values[usize::from(*value) % values.len()];
                        answers.insert(factor.id.clone(), Value::String(v.clone()));
                    }
                }
                if *rule != default {
                    masking.per_field.insert(factor.id.clone(), mask_rule(*rule));
                }
            }
            let parsed = rs.answers_from_json(&Value::Object(answers.clone()).to_string()).unwrap();
            let a = rs.assess(&parsed).unwrap();
            let r = DecisionRecord::new(meta("p"), &parsed, &a, &masking).unwrap();
            let mut expect_masked = Vec::new();
            for factor in rs.factors() {
                let Some(raw) = answers.get(&factor.id) else {
                    proptest::prop_assert!(!r.input.contains_key(&factor.id));
                    continue;
                };
                match masking.rule(&factor.id) {
                    FieldMask::Keep => proptest::prop_assert_eq!(r.input.get(&factor.id), Some(raw)),
                    FieldMask::Hash => {
                        proptest::prop_assert_eq!(r.input.get(&factor.id), Some(&Value::String(masking.hash(raw))));
                        expect_masked.push(factor.id.clone());
                    }
                    FieldMask::Drop => {
                        proptest::prop_assert!(!r.input.contains_key(&factor.id));
                        expect_masked.push(factor.id.clone());
                    }
                }
            }
            proptest::prop_assert_eq!(&r.masked, &expect_masked);
            let text = serde_json::to_string(&LogEntry::Decision(r)).unwrap();
            proptest::prop_assert!(!text.contains("s3cret"));
        }
    }

    #[test]
    fn validate_needs_time_and_link() {
        let f = FeedbackRecord {
            time: "2026-12-05T12:00:00Z".to_owned(),
            decision_id: None,
            card_uuid: None,
            outcome: Outcome::Accepted,
            outcome_timestamp: None,
            override_reason: None,
            override_comment: None,
            chosen_level: None,
            source: meta("x").source,
            requester: None,
        };
        assert!(LogEntry::Feedback(f.clone()).validate().is_err());
        let linked = FeedbackRecord {
            card_uuid: Some("c".to_owned()),
            ..f
        };
        assert!(LogEntry::Feedback(linked).validate().is_ok());
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A decision record built by hand (no assessment), for reader and writer tests.
    pub(crate) fn decision(id: &str, time: &str, ruleset: &str, level: &str) -> LogEntry {
        let mut input = Map::new();
        input.insert("severity".to_owned(), Value::String("moderate".to_owned()));
        LogEntry::Decision(DecisionRecord {
            decision_id: id.to_owned(),
            time: time.to_owned(),
            ruleset: RulesetRef {
                id: ruleset.to_owned(),
                version: "1.0.0".to_owned(),
                sha256: "0".repeat(64),
            },
            engine_version: "0.1.0".to_owned(),
            source: Source {
                channel: Channel::Api,
                route: "/v1/rulesets/default/assess".to_owned(),
                hook: None,
                hook_instance: None,
            },
            requester: None,
            card_uuid: None,
            input,
            masked: Vec::new(),
            result: DecisionResult {
                level: level.to_owned(),
                refer: false,
                needs_review: false,
                flags: Vec::new(),
                deciding_rules: Vec::new(),
                missing: Vec::new(),
            },
        })
    }
}
