//! CDS Hooks 2.0 (`docs/serve.md`, "CDS Hooks"): discovery, the service calls for
//! `patient-view`, `order-select`, `order-sign` and `questionnaire-inprogress`, and
//! feedback.
//!
//! Every served ruleset offers one service per hook, with id `<ruleset>-<hook>`.
//! The screening `QuestionnaireResponse` comes from the prefetch `screening` (a
//! `QuestionnaireResponse` or a search `Bundle`, newest first as the template asks)
//! or, for `questionnaire-inprogress`, from `context.questionnaireResponse`. No
//! usable response is HTTP 412 with an OperationOutcome: carelevel does not fetch
//! from the FHIR server itself.
//!
//! Every service call that answers 200 is recorded in the decision log (with the
//! card's uuid, or none when an order needs no card) before the response is sent;
//! feedback is recorded against the card's uuid.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use carelevel::Assessment;
use carelevel_decision_log::{Channel, CodedReason, FeedbackRecord, LogEntry, Outcome, Source};
use carelevel_fhir::card::{cds_card, escape_markdown, truncate_chars, CardInput, LABEL_MAX_CHARS};
use carelevel_fhir::primitive::{format_uuid, uuid_v4};
use carelevel_fhir::response::{read_response_value, ReadOptions};
use serde_json::{json, Value};

use crate::app::{read_body, AppState};
use crate::auth::Caller;
use crate::decisions::{self, with_decision_id};
use crate::error::ApiError;
use crate::registry::Served;

/// The hooks served, in discovery order.
pub const HOOKS: [&str; 4] = [
    "patient-view",
    "order-select",
    "order-sign",
    "questionnaire-inprogress",
];

/// The prefetch key of the screening response.
pub const PREFETCH_KEY: &str = "screening";

/// The prefetch template: the patient's latest response to the ruleset's Questionnaire.
pub fn prefetch_template(s: &Served) -> String {
    format!(
        "QuestionnaireResponse?subject={{{{context.patientId}}}}&questionnaire={}&_sort=-authored&_count=1",
        s.canonical.base()
    )
}

/// `GET /cds-services`.
pub async fn discovery(State(state): State<AppState>) -> Json<Value> {
    let snapshot = state.registry.snapshot();
    let mut services = Vec::new();
    for s in snapshot.values() {
        let title = &s.ruleset.metadata().title;
        for hook in HOOKS {
            let what = match hook {
                "patient-view" => "recommends a level of care from the patient's latest screening",
                "order-select" | "order-sign" => "warns when a draft referral ServiceRequest is below the recommended level of care",
                _ => "recommends a level of care from the screening being filled in",
            };
            let mut service = json!({
                "hook": hook,
                "id": format!("{}-{hook}", s.id),
                "title": format!("{title}: {hook}"),
                "description": format!("{title} (version {}) {what}. Decision support: a qualified professional makes the final call.", s.ruleset.metadata().version),
                "usageRequirements": "Send a signed JWT (ES256/ES384/RS256/RS384/PS256/PS384, kid, jti, exp at most 5 minutes after iat) from a configured issuer. Prefetch `screening` is required: without a usable QuestionnaireResponse the service answers 412.",
            });
            if hook != "questionnaire-inprogress" {
                if let Some(obj) = service.as_object_mut() {
                    obj.insert(
                        "prefetch".into(),
                        json!({ PREFETCH_KEY: prefetch_template(s) }),
                    );
                }
            }
            services.push(service);
        }
    }
    Json(json!({ "services": services }))
}

/// 412 Precondition Failed with a FHIR OperationOutcome.
pub fn precondition_failed(diagnostics: &[String]) -> Response {
    let issues: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            json!({
                "severity": "error",
                "code": "not-found",
                "diagnostics": carelevel::text::escape_for_display(d, Some(1024)),
            })
        })
        .collect();
    let mut response = (
        StatusCode::PRECONDITION_FAILED,
        Json(json!({"resourceType": "OperationOutcome", "issue": issues})),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json"),
    );
    response
        .extensions_mut()
        .insert(crate::app::ErrorCode("no_questionnaire_response"));
    response
}

/// The service id split into ruleset and hook.
fn split_service(id: &str) -> Option<(&str, &'static str)> {
    HOOKS.iter().find_map(|hook| {
        id.strip_suffix(hook)
            .and_then(|rest| rest.strip_suffix('-'))
            .map(|ruleset| (ruleset, *hook))
    })
}

/// A QuestionnaireResponse, from a resource or from the first QR entry of a Bundle.
pub fn find_response(value: &Value) -> Result<&Value, String> {
    match value.get("resourceType").and_then(Value::as_str) {
        Some("QuestionnaireResponse") => Ok(value),
        Some("Bundle") => value
            .get("entry")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("resource"))
            .find(|r| {
                r.get("resourceType").and_then(Value::as_str) == Some("QuestionnaireResponse")
            })
            .ok_or_else(|| {
                "the Bundle holds no QuestionnaireResponse: the patient has no screening to assess"
                    .to_owned()
            }),
        Some(other) => Err(format!(
            "a {} is not a QuestionnaireResponse or a Bundle of them",
            carelevel::text::Shown::excerpt(other)
        )),
        None => Err("not a FHIR resource (no `resourceType`)".to_owned()),
    }
}

/// What a draft referral asks for, compared with the recommendation.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderComparison {
    /// The order's level is below the recommended one: warn and suggest updating it.
    Below {
        /// The draft `ServiceRequest` with the lowest level.
        order: Value,
        /// The level ordered.
        ordered: String,
        /// The level recommended.
        recommended: String,
    },
    /// The order is at or above the recommended level.
    AtOrAbove,
    /// No draft order carries a level Coding of this ruleset.
    NoLevelOrder,
}

/// Compare the draft `ServiceRequest`s in `context.draftOrders` (a Bundle) with the
/// recommendation. A ServiceRequest's level is the `code.coding` whose `system` is
/// the ruleset's level code system (`<canonical>/level`) and whose `code` is a level
/// id; the lowest such order decides.
pub fn compare_orders(s: &Served, a: &Assessment<'_>, draft_orders: &Value) -> OrderComparison {
    let system = s.canonical.levels();
    let mut lowest: Option<(usize, String, &Value)> = None;
    let entries = draft_orders
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("resource"));
    for resource in entries {
        if resource.get("resourceType").and_then(Value::as_str) != Some("ServiceRequest") {
            continue;
        }
        let codings = resource
            .pointer("/code/coding")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for coding in codings {
            if coding.get("system").and_then(Value::as_str) != Some(system.as_str()) {
                continue;
            }
            let Some(code) = coding.get("code").and_then(Value::as_str) else {
                continue;
            };
            let Some(rank) = s.ruleset.level_index(code) else {
                continue;
            };
            if lowest.as_ref().is_none_or(|(r, _, _)| rank < *r) {
                lowest = Some((rank, code.to_owned(), resource));
            }
        }
    }
    match lowest {
        None => OrderComparison::NoLevelOrder,
        Some((rank, ordered, order)) if rank < a.level.rank => OrderComparison::Below {
            order: order.clone(),
            ordered,
            recommended: a.level.id.to_string(),
        },
        Some(_) => OrderComparison::AtOrAbove,
    }
}

/// A fresh random (version 4) UUID, as text; from the operating system's random
/// source, as the CLI makes its card uuids.
pub fn random_uuid() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_randomness",
            format!("cannot make a random uuid: {e}"),
        )
    })?;
    Ok(format_uuid(uuid_v4(bytes)))
}

/// The label of level `id` in `s`, or the id itself.
fn level_label<'a>(s: &'a Served, id: &'a str) -> &'a str {
    s.ruleset
        .level_index(id)
        .and_then(|i| s.ruleset.levels().get(i))
        .map_or(id, |l| l.label.as_str())
}

/// The prefix of the order warning's summary.
pub const ORDER_SUMMARY_PREFIX: &str = "Draft referral is below the suggested level of care: ";

/// The warning card for a draft referral below the recommended level: the
/// recommendation card of `carelevel_fhir::card` with its own summary (fewer than
/// 140 characters by construction: the prefix and the label cut to
/// [`carelevel_fhir::card::LABEL_MAX_CHARS`]), indicator `warning` (`critical`
/// when a refer flag fired), a detail that starts with the order, and one
/// suggestion (`selectionBehavior: at-most-one`) to update the ServiceRequest: the
/// draft as sent, with `code` replaced by the recommended level's Coding.
pub fn order_warning_card(
    s: &Served,
    a: &Assessment<'_>,
    order: &Value,
    ordered: &str,
    card_uuid: String,
    suggestion_uuid: String,
) -> Result<Value, ApiError> {
    let mut card = recommendation_card(s, a, card_uuid)?;
    let recommended = a.level.id.as_ref();
    let rec_label = level_label(s, recommended);
    let ord_label = level_label(s, ordered);
    let one_line = |t: &str| -> String {
        t.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .to_owned()
    };
    let summary = format!(
        "{ORDER_SUMMARY_PREFIX}{}",
        truncate_chars(&one_line(rec_label), LABEL_MAX_CHARS)
    );
    let mut updated = order.clone();
    if let Some(obj) = updated.as_object_mut() {
        obj.insert(
            "code".into(),
            json!({
                "coding": [{"system": s.canonical.levels(), "code": recommended, "display": rec_label}],
                "text": rec_label,
            }),
        );
    }
    let order_id = order.get("id").and_then(Value::as_str);
    let e = escape_markdown;
    let what = match order_id {
        Some(id) => format!("ServiceRequest/{}", e(id)),
        None => "The draft referral".to_owned(),
    };
    let detail = format!(
        "**{what} asks for {} ({}), below the suggested level {} ({}).**\n\n{}",
        e(ord_label),
        e(ordered),
        e(rec_label),
        e(recommended),
        card.get("detail").and_then(Value::as_str).unwrap_or("")
    );
    if let Some(obj) = card.as_object_mut() {
        obj.insert("summary".into(), json!(summary));
        if !a.refer {
            obj.insert("indicator".into(), json!("warning"));
        }
        obj.insert("detail".into(), json!(detail));
        obj.insert(
            "suggestions".into(),
            json!([{
                "label": format!("Change the referral to {}", truncate_chars(&one_line(rec_label), LABEL_MAX_CHARS)),
                "uuid": suggestion_uuid,
                "isRecommended": true,
                "actions": [{
                    "type": "update",
                    "description": format!("Set the ServiceRequest's level of care to {} ({recommended}).", one_line(rec_label)),
                    "resource": updated,
                }],
            }]),
        );
        obj.insert("selectionBehavior".into(), json!("at-most-one"));
    }
    Ok(card)
}

/// The recommendation card (`carelevel_fhir::card::cds_card`).
pub fn recommendation_card(
    s: &Served,
    a: &Assessment<'_>,
    card_uuid: String,
) -> Result<Value, ApiError> {
    cds_card(&s.ruleset, a, &CardInput { uuid: card_uuid })
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))
}

/// The cards for a hook call (`docs/serve.md`, "Cards"): `patient-view` and
/// `questionnaire-inprogress` get the recommendation card; `order-select` and
/// `order-sign` get the order warning card when a draft referral is below the
/// recommended level, and no card otherwise (at or above it, or no draft order with
/// a level Coding). The card, if any, gets the uuid `card_uuid`; returns the cards
/// and the uuid of the card, if any.
pub fn cards(
    s: &Served,
    a: &Assessment<'_>,
    hook: &str,
    request: &Value,
    card_uuid: &str,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    if hook == "order-select" || hook == "order-sign" {
        let orders = request
            .pointer("/context/draftOrders")
            .unwrap_or(&Value::Null);
        match compare_orders(s, a, orders) {
            OrderComparison::Below { order, ordered, .. } => {
                let uuid = card_uuid.to_owned();
                let card =
                    order_warning_card(s, a, &order, &ordered, uuid.clone(), random_uuid()?)?;
                Ok((vec![card], Some(uuid)))
            }
            OrderComparison::AtOrAbove | OrderComparison::NoLevelOrder => Ok((Vec::new(), None)),
        }
    } else {
        let uuid = card_uuid.to_owned();
        Ok((vec![recommendation_card(s, a, uuid.clone())?], Some(uuid)))
    }
}

/// A parsed CDS Hooks request: its hook, instance and the response to assess.
fn parse_request(body: &[u8], hook: &str) -> Result<Value, ApiError> {
    let request: Value = serde_json::from_slice(body).map_err(|e| ApiError::malformed_json(&e))?;
    for key in ["hook", "hookInstance", "context"] {
        if request.get(key).is_none() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_cds_request",
                format!("a CDS Hooks request needs `{key}`"),
            )
            .at(key));
        }
    }
    let sent = request.get("hook").and_then(Value::as_str).unwrap_or("");
    if sent != hook {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_cds_request",
            format!(
                "`hook` is `{}`, this service is for `{hook}`",
                carelevel::text::Shown::excerpt(sent)
            ),
        )
        .at("hook"));
    }
    Ok(request)
}

/// `POST /cds-services/{id}`.
pub async fn call(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Option<Extension<Caller>>,
    body: Body,
) -> Result<Response, ApiError> {
    let Some((ruleset_id, hook)) = split_service(&id) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_service",
            format!(
                "no CDS service `{}`; GET /cds-services lists them",
                carelevel::text::Shown::excerpt(&id)
            ),
        )
        .at("path"));
    };
    let s = state.registry.get(ruleset_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_service",
            format!(
                "no CDS service `{}`; GET /cds-services lists them",
                carelevel::text::Shown::excerpt(&id)
            ),
        )
        .at("path")
    })?;
    let body = read_body(body).await?;
    let request = parse_request(&body, hook)?;
    let (source, at) = if hook == "questionnaire-inprogress" {
        (
            request.pointer("/context/questionnaireResponse"),
            "context.questionnaireResponse",
        )
    } else {
        (
            request.get("prefetch").and_then(|p| p.get(PREFETCH_KEY)),
            "prefetch.screening",
        )
    };
    let Some(source) = source.filter(|v| !v.is_null()) else {
        return Ok(precondition_failed(&[format!(
            "`{at}` is missing: send the patient's latest screening QuestionnaireResponse (carelevel does not fetch from the FHIR server)"
        )]));
    };
    let qr = match find_response(source) {
        Ok(qr) => qr,
        Err(why) => return Ok(precondition_failed(&[format!("`{at}`: {why}")])),
    };
    let read = match read_response_value(&s.ruleset, qr, &ReadOptions::default()) {
        Ok(read) => read,
        Err(e) => {
            let problems: Vec<String> = e
                .problems
                .iter()
                .map(|p| format!("`{at}`: the QuestionnaireResponse cannot be used: {p}"))
                .collect();
            return Ok(precondition_failed(&problems));
        }
    };
    let assessment = match s.ruleset.assess(&read.answers) {
        Ok(a) => a,
        Err(e) => {
            return Ok(precondition_failed(&[format!(
                "`{at}`: the QuestionnaireResponse cannot be assessed: {e}"
            )]))
        }
    };
    // The card's uuid is the decision id: feedback on the card links to the
    // decision by both.
    let decision_id = random_uuid()?;
    let (cards, card_uuid) = cards(&s, &assessment, hook, &request, &decision_id)?;
    let source = Source {
        channel: Channel::CdsHooks,
        route: "/cds-services/{id}".to_owned(),
        hook: Some(hook.to_owned()),
        hook_instance: request
            .get("hookInstance")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    let caller = caller.as_ref().map(|Extension(c)| c);
    decisions::record(
        &state,
        &decision_id,
        source,
        caller,
        card_uuid,
        &read.answers,
        &assessment,
    )
    .await?;
    state.metrics.decision(&s.id, &assessment.level.id);
    let mut response = Json(json!({ "cards": cards })).into_response();
    if let Ok(v) = HeaderValue::from_str(&s.ruleset.metadata().version) {
        response.headers_mut().insert(crate::api::VERSION_HEADER, v);
    }
    Ok(with_decision_id(response, &decision_id))
}

/// `POST /cds-services/{id}/feedback`: validated (`feedback[]` with `card`,
/// `outcome` accepted|overridden, `outcomeTimestamp`, `acceptedSuggestions` for
/// accepted, optional `overrideReason`), then one feedback record per item is
/// written to the decision log, linked to its decision by the card's uuid; 200 once
/// every record is durable. Without a decision log it is 501 `feedback_not_recorded`:
/// feedback is never accepted and dropped.
pub async fn feedback(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Option<Extension<Caller>>,
    body: Body,
) -> Result<Response, ApiError> {
    let Some((_, hook)) = split_service(&id).filter(|(r, _)| state.registry.get(r).is_some())
    else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_service",
            format!(
                "no CDS service `{}`; GET /cds-services lists them",
                carelevel::text::Shown::excerpt(&id)
            ),
        )
        .at("path"));
    };
    let body = read_body(body).await?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| ApiError::malformed_json(&e))?;
    validate_feedback(&value)?;
    let Some(log) = &state.decision_log else {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "feedback_not_recorded",
            "the feedback is valid, but this service has no decision log (`--log FILE` or `[decision_log]`), so it cannot be recorded",
        ));
    };
    let caller = caller.as_ref().map(|Extension(c)| c);
    let time = decisions::now()?;
    let items = value
        .get("feedback")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let entries = items
        .iter()
        .map(|item| feedback_record(item, hook, &time, caller).map(LogEntry::Feedback))
        .collect::<Result<Vec<_>, _>>()?;
    log.write(entries).await?;
    Ok(Json(json!({})).into_response())
}

/// The feedback record of one validated `feedback[]` item.
fn feedback_record(
    item: &Value,
    hook: &str,
    time: &str,
    caller: Option<&Caller>,
) -> Result<FeedbackRecord, ApiError> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let outcome = match item.get("outcome").and_then(Value::as_str) {
        Some("accepted") => Outcome::Accepted,
        _ => Outcome::Overridden,
    };
    let reason = item.get("overrideReason");
    let override_reason = reason.and_then(|r| r.get("reason")).map(|c| CodedReason {
        system: text(c.get("system")),
        code: text(c.get("code")).unwrap_or_default(),
        display: text(c.get("display")),
    });
    Ok(FeedbackRecord {
        time: time.to_owned(),
        // This service makes every card's uuid its decision's id.
        decision_id: text(item.get("card")),
        card_uuid: text(item.get("card")),
        outcome,
        outcome_timestamp: text(item.get("outcomeTimestamp")),
        override_reason,
        override_comment: text(reason.and_then(|r| r.get("userComment"))),
        chosen_level: None,
        source: Source {
            channel: Channel::CdsHooks,
            route: "/cds-services/{id}/feedback".to_owned(),
            hook: Some(hook.to_owned()),
            hook_instance: None,
        },
        requester: decisions::requester(caller),
    })
}

fn bad_feedback(at: String, message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_feedback", message).at(at)
}

/// Check a feedback body's shape (CDS Hooks 2.0, "Feedback").
pub fn validate_feedback(value: &Value) -> Result<(), ApiError> {
    let Some(items) = value.get("feedback").and_then(Value::as_array) else {
        return Err(bad_feedback(
            "feedback".into(),
            "expected `feedback`: an array",
        ));
    };
    if items.is_empty() {
        return Err(bad_feedback("feedback".into(), "`feedback` is empty"));
    }
    for (i, item) in items.iter().enumerate() {
        let at = |k: &str| format!("feedback[{i}].{k}");
        if item
            .get("card")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(bad_feedback(at("card"), "expected the card's uuid"));
        }
        if item
            .get("outcomeTimestamp")
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(bad_feedback(at("outcomeTimestamp"), "expected an instant"));
        }
        match item.get("outcome").and_then(Value::as_str) {
            Some("accepted") => {
                let ok = item
                    .get("acceptedSuggestions")
                    .and_then(Value::as_array)
                    .is_some_and(|s| {
                        !s.is_empty()
                            && s.iter()
                                .all(|x| x.get("id").and_then(Value::as_str).is_some())
                    });
                if !ok {
                    return Err(bad_feedback(
                        at("acceptedSuggestions"),
                        "an accepted card needs `acceptedSuggestions`: [{\"id\": ...}]",
                    ));
                }
            }
            Some("overridden") => {
                if let Some(reason) = item.get("overrideReason") {
                    if !reason.is_object() {
                        return Err(bad_feedback(
                            at("overrideReason"),
                            "expected an object with `reason` (a Coding) and/or `userComment`",
                        ));
                    }
                    if let Some(coding) = reason.get("reason") {
                        if coding
                            .get("code")
                            .and_then(Value::as_str)
                            .is_none_or(str::is_empty)
                        {
                            return Err(bad_feedback(
                                at("overrideReason.reason.code"),
                                "expected the override reason's code (a Coding with `code`, and optionally `system` and `display`)",
                            ));
                        }
                        for key in ["system", "display"] {
                            if coding.get(key).is_some_and(|v| !v.is_string()) {
                                return Err(bad_feedback(
                                    at(&format!("overrideReason.reason.{key}")),
                                    "expected a string",
                                ));
                            }
                        }
                    }
                    if reason.get("userComment").is_some_and(|v| !v.is_string()) {
                        return Err(bad_feedback(
                            at("overrideReason.userComment"),
                            "expected a string",
                        ));
                    }
                }
            }
            _ => {
                return Err(bad_feedback(
                    at("outcome"),
                    "expected `accepted` or `overridden`",
                ));
            }
        }
    }
    Ok(())
}
