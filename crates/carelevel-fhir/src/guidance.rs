//! Assessment → FHIR `GuidanceResponse` (R4 4.0.1, or R5 5.0.0), docs/fhir.md
//! ("GuidanceResponse").
//!
//! The result goes into a contained `Parameters` (`#result`, referenced from
//! `outputParameters`): the level as a Coding, the level range, `needs-review` and its
//! reasons, `refer`, the fired and possible flags, the fired and deciding rules, every
//! missing question, each dimension (when the ruleset declares dimensions: its id,
//! label, level, `could-rise-to`, fired rules and summary), every assumed answer, the ruleset (canonical, SHA-256) and the engine version.
//! `status` is `data-required` exactly when some missing question could change the
//! level or a flag ([`crate::requirement`]), each such question being one
//! `dataRequirement`; otherwise `success`.
//!
//! The mapping has no clock and makes up no ids: `id`, `occurrenceDateTime`,
//! `requestIdentifier`, `subject` and the reason are inputs ([`GuidanceInput`]),
//! checked here.

use carelevel::{Answers, Assessment, EvalError, Ruleset};
use serde_json::{json, Map, Value};

use crate::canonical::{Canonical, Release};
use crate::primitive::{is_date_time, is_id};
use crate::requirement::{requirements, Requirement};

/// The id of the contained `Parameters` that holds the result.
pub const RESULT_ID: &str = "result";

/// What the caller supplies: everything the mapping cannot know or must not invent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GuidanceInput {
    /// `GuidanceResponse.id`: a FHIR id (1 to 64 of `A-Za-z0-9-.`).
    pub id: String,
    /// `occurrenceDateTime`: a FHIR dateTime (with a time zone when it has a time).
    pub occurrence: String,
    /// `requestIdentifier.value`, when the request has an identifier.
    pub request_identifier: Option<String>,
    /// `subject`: a FHIR Reference (a JSON object), e.g. the response's `subject`.
    pub subject: Option<Value>,
    /// The reference the guidance answers, e.g. `QuestionnaireResponse/qr-1`: written
    /// as `reasonReference` (R4) or `reason[].reference` (R5).
    pub reason: Option<String>,
}

/// Input the mapping refuses, naming the field and what it expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuidanceError {
    /// `id` is no FHIR id.
    #[error("GuidanceResponse id `{0}` is not a FHIR id: expected 1 to 64 of A-Z, a-z, 0-9, `-` and `.`")]
    Id(String),
    /// `occurrence` is no FHIR dateTime.
    #[error("occurrence `{0}` is not a FHIR dateTime: expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff] with a time zone (`Z` or `+hh:mm`)")]
    Occurrence(String),
    /// `subject` is not a JSON object.
    #[error("subject is not a FHIR Reference: expected a JSON object, got `{0}`")]
    Subject(String),
    /// The reason reference is empty.
    #[error("the reason reference is empty: expected e.g. `QuestionnaireResponse/<id>`")]
    Reason,
    /// The assessment was not made with the answers' ruleset.
    #[error("the assessment is of ruleset `{assessment}` (sha256 {assessment_sha256}) but the answers are of `{answers}`")]
    ForeignAssessment {
        /// The assessment's ruleset id.
        assessment: String,
        /// The assessment's ruleset hash.
        assessment_sha256: String,
        /// The answers' ruleset id.
        answers: String,
    },
    /// Working out which missing answers could change a flag failed.
    #[error("cannot work out which missing answers could change a flag: {0}")]
    Evaluation(#[from] EvalError),
}

/// The `GuidanceResponse` for `assessment`, made from `answers`, in `release`.
pub fn guidance_response(
    answers: &Answers<'_>,
    assessment: &Assessment<'_>,
    input: &GuidanceInput,
    release: Release,
) -> Result<Value, GuidanceError> {
    let ruleset = answers.ruleset();
    check(ruleset, assessment, input)?;
    let canonical = Canonical::of(ruleset);
    let required = requirements(answers, assessment)?;

    let mut gr = Map::new();
    gr.insert("resourceType".into(), json!("GuidanceResponse"));
    gr.insert("id".into(), json!(input.id));
    gr.insert(
        "contained".into(),
        json!([parameters(ruleset, &canonical, assessment)]),
    );
    if let Some(value) = &input.request_identifier {
        gr.insert("requestIdentifier".into(), json!({ "value": value }));
    }
    gr.insert("moduleUri".into(), json!(canonical.versioned()));
    let status = if required.is_empty() {
        "success"
    } else {
        "data-required"
    };
    gr.insert("status".into(), json!(status));
    if let Some(subject) = &input.subject {
        gr.insert("subject".into(), subject.clone());
    }
    gr.insert("occurrenceDateTime".into(), json!(input.occurrence));
    if let Some(reason) = &input.reason {
        let reference = json!({ "reference": reason });
        match release {
            Release::R4 => gr.insert("reasonReference".into(), json!([reference])),
            Release::R5 => gr.insert("reason".into(), json!([{ "reference": reference }])),
        };
    }
    gr.insert(
        "outputParameters".into(),
        json!({ "reference": format!("#{RESULT_ID}") }),
    );
    if !required.is_empty() {
        let reqs: Vec<Value> = required
            .iter()
            .map(|r| data_requirement(ruleset, &canonical, r))
            .collect();
        gr.insert("dataRequirement".into(), Value::Array(reqs));
    }
    Ok(Value::Object(gr))
}

fn check(
    ruleset: &Ruleset,
    assessment: &Assessment<'_>,
    input: &GuidanceInput,
) -> Result<(), GuidanceError> {
    if assessment.provenance.ruleset_sha256 != ruleset.sha256() {
        return Err(GuidanceError::ForeignAssessment {
            assessment: assessment.provenance.ruleset_id.to_string(),
            assessment_sha256: assessment.provenance.ruleset_sha256.to_string(),
            answers: ruleset.metadata().id.clone(),
        });
    }
    if !is_id(&input.id) {
        return Err(GuidanceError::Id(input.id.clone()));
    }
    if !is_date_time(&input.occurrence) {
        return Err(GuidanceError::Occurrence(input.occurrence.clone()));
    }
    if let Some(subject) = &input.subject {
        if !subject.is_object() {
            return Err(GuidanceError::Subject(subject.to_string()));
        }
    }
    if input.reason.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err(GuidanceError::Reason);
    }
    Ok(())
}

/// The Coding of a question (the Questionnaire item's `code`).
fn question_coding(ruleset: &Ruleset, canonical: &Canonical, factor: &str) -> Value {
    let question = ruleset
        .factor_index(factor)
        .and_then(|i| ruleset.factors().get(i))
        .map_or(factor, |f| f.question.as_str());
    json!({ "system": canonical.questions(), "code": factor, "display": question })
}

/// One missing question as a `DataRequirement`: an answer in a
/// `QuestionnaireResponse` to the question named by its Coding.
fn data_requirement(ruleset: &Ruleset, canonical: &Canonical, r: &Requirement) -> Value {
    json!({
        "type": "QuestionnaireResponse",
        "codeFilter": [{
            "path": "item",
            "code": [question_coding(ruleset, canonical, &r.factor)],
        }],
    })
}

fn param(name: &str, key: &str, value: Value) -> Value {
    let mut p = Map::new();
    p.insert("name".into(), json!(name));
    p.insert(key.into(), value);
    Value::Object(p)
}

/// The contained `Parameters` holding the result.
fn parameters(ruleset: &Ruleset, canonical: &Canonical, a: &Assessment<'_>) -> Value {
    let level = |id: &str, label: &str| json!({ "system": canonical.levels(), "code": id, "display": label });
    let rule = |id: &str| {
        let display = ruleset
            .rules()
            .iter()
            .find(|r| r.id == id)
            .map_or(id, |r| r.because.as_str());
        json!({ "system": canonical.rules(), "code": id, "display": display })
    };
    let flag = |id: &str, message: &str| json!({ "system": canonical.flags(), "code": id, "display": message });
    let mut ps = vec![
        param("level", "valueCoding", level(&a.level.id, &a.level.label)),
        param(
            "level-lowest",
            "valueCoding",
            level(&a.level_range.lowest.id, &a.level_range.lowest.label),
        ),
        param(
            "level-highest",
            "valueCoding",
            level(&a.level_range.highest.id, &a.level_range.highest.label),
        ),
        param("needs-review", "valueBoolean", json!(a.needs_review)),
    ];
    for reason in &a.review_reasons {
        ps.push(param("review-reason", "valueString", json!(reason)));
    }
    ps.push(param("refer", "valueBoolean", json!(a.refer)));
    for f in &a.flags {
        ps.push(param("flag", "valueCoding", flag(&f.id, &f.message)));
    }
    for f in &a.possible_flags {
        ps.push(param(
            "possible-flag",
            "valueCoding",
            flag(&f.id, &f.message),
        ));
    }
    for r in &a.fired_rules {
        ps.push(param("fired-rule", "valueCoding", rule(&r.id)));
    }
    for id in &a.deciding_rules {
        ps.push(param("deciding-rule", "valueCoding", rule(id)));
    }
    for m in &a.missing {
        ps.push(json!({
            "name": "missing-question",
            "part": [
                param("question", "valueCoding", question_coding(ruleset, canonical, &m.factor)),
                param("could-change-level", "valueBoolean", json!(m.could_change_level)),
            ],
        }));
    }
    for d in a.dimensions.iter().flatten() {
        let mut part = vec![
            param("id", "valueString", json!(d.id)),
            param("label", "valueString", json!(d.label)),
            param("level", "valueCoding", level(&d.level.id, &d.level.label)),
        ];
        if let Some(up) = &d.could_rise_to {
            part.push(param(
                "could-rise-to",
                "valueCoding",
                level(&up.id, &up.label),
            ));
        }
        for id in &d.fired_rules {
            part.push(param("fired-rule", "valueCoding", rule(id)));
        }
        part.push(param("summary", "valueString", json!(d.summary)));
        ps.push(json!({ "name": "dimension", "part": part }));
    }
    for s in &a.assumed {
        let value = match &s.value {
            carelevel::Value::Integer(i) => param("value", "valueInteger", json!(i)),
            carelevel::Value::Boolean(b) => param("value", "valueBoolean", json!(b)),
            carelevel::Value::Text(t) => param(
                "value",
                "valueCoding",
                json!({ "system": canonical.answers(&s.factor), "code": t, "display": t }),
            ),
        };
        ps.push(json!({
            "name": "assumed-answer",
            "part": [
                param("question", "valueCoding", question_coding(ruleset, canonical, &s.factor)),
                value,
            ],
        }));
    }
    ps.push(param(
        "ruleset",
        "valueCanonical",
        json!(canonical.versioned()),
    ));
    ps.push(param(
        "ruleset-sha256",
        "valueIdentifier",
        json!({
            "system": canonical.sha256_identifier_system(),
            "value": a.provenance.ruleset_sha256,
        }),
    ));
    ps.push(param(
        "engine-version",
        "valueString",
        json!(format!(
            "{} {}",
            a.provenance.engine, a.provenance.engine_version
        )),
    ));
    ps.push(param("notice", "valueString", json!(crate::NOTICE)));
    json!({ "resourceType": "Parameters", "id": RESULT_ID, "parameter": ps })
}

#[cfg(test)]
mod tests;
