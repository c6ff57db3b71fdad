//! The plain JSON API (`/v1/...`), health, metrics, OpenAPI and the admin reload.
//! Routes and statuses: `docs/serve.md`, "Routes"; the shapes: `openapi.json`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use carelevel::{Answers, Assessment, EvalError, FactorKind, MissingPolicy};
use carelevel_decision_log::{Channel, Source};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::{read_body, AppState};
use crate::auth::Caller;
use crate::decisions::{self, with_decision_id};
use crate::error::ApiError;
use crate::registry::Served;

/// The OpenAPI 3.1 document of every route.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The header naming the ruleset version that answered.
pub const VERSION_HEADER: &str = "carelevel-ruleset-version";

/// `GET /healthz`: the process is alive.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: every configured ruleset is loaded and served.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let snapshot = state.registry.snapshot();
    let rulesets: Vec<Value> = snapshot
        .values()
        .map(|s| json!({"id": s.id, "version": s.ruleset.metadata().version}))
        .collect();
    if rulesets.is_empty() {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "no ruleset is loaded",
        )
        .into_response();
    }
    Json(json!({"status": "ready", "rulesets": rulesets})).into_response()
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let log = state.decision_log.as_ref().and_then(|l| l.metrics());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(log),
    )
        .into_response()
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

/// The served ruleset `id`, or 404.
pub fn served(state: &AppState, id: &str) -> Result<Arc<Served>, ApiError> {
    state
        .registry
        .get(id)
        .ok_or_else(|| ApiError::no_ruleset(id))
}

fn summary(s: &Served) -> Value {
    let m = s.ruleset.metadata();
    json!({
        "id": s.id,
        "version": m.version,
        "title": m.title,
        "sha256": s.ruleset.sha256(),
        "canonical": s.canonical.base(),
    })
}

/// `GET /v1/rulesets`.
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let snapshot = state.registry.snapshot();
    let rulesets: Vec<Value> = snapshot.values().map(|s| summary(s)).collect();
    Json(json!({ "rulesets": rulesets }))
}

/// `GET /v1/rulesets/{id}`: the ruleset's levels and questions.
pub async fn describe(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let s = served(&state, &id)?;
    let r = &s.ruleset;
    let mut out = summary(&s);
    let levels: Vec<Value> = r
        .levels()
        .iter()
        .enumerate()
        .map(|(rank, l)| json!({"id": l.id, "rank": rank, "label": l.label, "description": l.description}))
        .collect();
    let questions: Vec<Value> = r
        .factors()
        .iter()
        .map(|f| {
            let kind = match f.kind {
                FactorKind::Ordinal { .. } => "ordinal",
                FactorKind::Integer { .. } => "integer",
                FactorKind::Boolean => "boolean",
            };
            let missing = match f.missing {
                MissingPolicy::Ask => "ask",
                MissingPolicy::Error => "error",
                MissingPolicy::Assume(_) => "assume",
            };
            json!({
                "id": f.id,
                "kind": kind,
                "question": f.question,
                "allowed_answers": f.allowed_answers(),
                "missing": missing,
            })
        })
        .collect();
    if let Some(obj) = out.as_object_mut() {
        obj.insert("description".into(), json!(r.metadata().description));
        obj.insert("levels".into(), Value::Array(levels));
        obj.insert("questions".into(), Value::Array(questions));
        obj.insert("rules".into(), json!(r.rules().len()));
        obj.insert("flags".into(), json!(r.flags().len()));
    }
    Ok(Json(out))
}

/// `?fhir=r4|r5`.
#[derive(Debug, Deserialize)]
pub struct FhirQuery {
    fhir: Option<String>,
}

/// `GET /v1/rulesets/{id}/questionnaire`: the FHIR Questionnaire (R4 by default).
pub async fn questionnaire(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<FhirQuery>,
) -> Result<Response, ApiError> {
    let s = served(&state, &id)?;
    let release = match q.fhir.as_deref() {
        None => carelevel_fhir::Release::R4,
        Some(name) => name
            .parse()
            .map_err(|e: carelevel_fhir::canonical::UnknownRelease| {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.to_string()).at("query fhir")
            })?,
    };
    let body = carelevel_fhir::questionnaire::questionnaire(&s.ruleset, release);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/fhir+json"),
        )],
        Json(body),
    )
        .into_response())
}

/// `?of=answers|assessment`.
#[derive(Debug, Deserialize)]
pub struct SchemaQuery {
    of: Option<String>,
}

/// `GET /v1/rulesets/{id}/schema`: JSON Schema of the answers (default) or of the assessment.
pub async fn schema(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<SchemaQuery>,
) -> Result<Json<Value>, ApiError> {
    let s = served(&state, &id)?;
    match q.of.as_deref() {
        None | Some("answers") => Ok(Json(carelevel::schema::answers_schema(&s.ruleset))),
        Some("assessment") => Ok(Json(carelevel::schema::assessment_schema(&s.ruleset))),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!(
                "`of={}`: expected `answers` or `assessment`",
                carelevel::text::Shown::excerpt(other)
            ),
        )
        .at("query of")),
    }
}

/// Parse the body as answers and assess them with `s`; every refusal is an
/// [`ApiError`] (400 malformed JSON, 422 answers that do not fit the questions or
/// leave too much open).
pub fn assess_body<'s>(
    s: &'s Served,
    body: &[u8],
) -> Result<(Answers<'s>, Assessment<'s>), ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not UTF-8: {e}"),
        )
        .at(format!("body byte {}", e.valid_up_to()))
    })?;
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        return Err(ApiError::malformed_json(&e));
    }
    let answers = s.ruleset.answers_from_json(text).map_err(|e| {
        let at = e
            .problems
            .first()
            .and_then(|p| p.factor.as_ref())
            .map(|f| format!("body.{f}"));
        let mut err = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answers",
            e.to_string(),
        );
        err.at = at;
        err
    })?;
    let assessment = s.ruleset.assess(&answers).map_err(|e| {
        let code = match e {
            EvalError::MissingRequired { .. } => "invalid_answers",
            _ => "not_assessable",
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string()).at("body")
    })?;
    Ok((answers, assessment))
}

/// The source of a decision served by the JSON API at `route`.
fn api_source(route: &str) -> Source {
    Source {
        channel: Channel::Api,
        route: route.to_owned(),
        hook: None,
        hook_instance: None,
    }
}

/// A JSON response of `body` (already serialized) with the [`VERSION_HEADER`].
fn with_version(s: &Served, body: Vec<u8>) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&s.ruleset.metadata().version) {
        response.headers_mut().insert(VERSION_HEADER, v);
    }
    response
}

/// `POST /v1/rulesets/{id}/assess`: answers → the explained Assessment
/// (`docs/assessment.md`).
pub async fn assess(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Option<Extension<Caller>>,
    body: Body,
) -> Result<Response, ApiError> {
    answer(
        &state,
        &id,
        caller,
        body,
        "/v1/rulesets/{id}/assess",
        // Straight to bytes: the same text as through a `Value` (keys keep their
        // order, `preserve_order`), without building the tree first.
        |_, a| to_json(a),
    )
    .await
}

/// Assess the body's answers with ruleset `id`, record the decision (when a log is
/// configured) and answer with `render` of it: the one path of `assess` and `decide`.
async fn answer(
    state: &AppState,
    id: &str,
    caller: Option<Extension<Caller>>,
    body: Body,
    route: &str,
    render: fn(&Served, &Assessment<'_>) -> Result<Vec<u8>, ApiError>,
) -> Result<Response, ApiError> {
    let s = served(state, id)?;
    let body = read_body(body).await?;
    let (answers, assessment) = assess_body(&s, &body)?;
    let value = render(&s, &assessment)?;
    let caller = caller.as_ref().map(|Extension(c)| c);
    let decision_id = crate::cds::random_uuid()?;
    decisions::record(
        state,
        &decision_id,
        api_source(route),
        caller,
        None,
        &answers,
        &assessment,
    )
    .await?;
    state.metrics.decision(&s.id, &assessment.level.id);
    Ok(with_decision_id(with_version(&s, value), &decision_id))
}

/// `value` as JSON text; a failure is a 500 (an assessment always serializes).
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))
}

/// The compact decision: level, refer, needs_review, flag ids, missing question ids.
pub fn compact(s: &Served, a: &Assessment<'_>) -> Value {
    json!({
        "ruleset": {"id": s.id, "version": s.ruleset.metadata().version},
        "level": a.level.id,
        "refer": a.refer,
        "needs_review": a.needs_review,
        "flags": a.flags.iter().map(|f| f.id.as_ref()).collect::<Vec<_>>(),
        "missing": a.missing.iter().map(|m| m.factor.as_ref()).collect::<Vec<_>>(),
    })
}

/// `POST /v1/rulesets/{id}/decide`: answers → the compact decision.
pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Option<Extension<Caller>>,
    body: Body,
) -> Result<Response, ApiError> {
    answer(
        &state,
        &id,
        caller,
        body,
        "/v1/rulesets/{id}/decide",
        |s, a| to_json(&compact(s, a)),
    )
    .await
}

/// `POST /admin/reload`: recompile every ruleset now (as SIGHUP does). 200 when every
/// ruleset was swapped, 409 when one was refused (it keeps its old version).
pub async fn reload(State(state): State<AppState>) -> Result<Response, ApiError> {
    let registry = state.registry.clone();
    let report = tokio::task::spawn_blocking(move || registry.reload())
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    crate::server::report_reload(&state, &report);
    let body = json!({
        "reloaded": report.reloaded.iter().map(|(id, old, new)| json!({"id": id, "old_version": old, "new_version": new})).collect::<Vec<_>>(),
        "refused": report.refused.iter().map(|e| json!({"source": e.source_name, "message": e.message})).collect::<Vec<_>>(),
    });
    let status = if report.refused.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    Ok((status, Json(body)).into_response())
}
