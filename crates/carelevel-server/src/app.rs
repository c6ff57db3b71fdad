//! The shared state and the router: routes, auth, metrics and the tower layers
//! (request id, trace, CORS, load shedding over a concurrency cap, request timeout,
//! body limit). [`router`] builds the whole service without sockets, so tests drive
//! it with `tower::ServiceExt::oneshot`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{Caller, Verifier};
use crate::config::Config;
use crate::decisions::DecisionLog;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::{api, batch, cds, web};

/// Everything a request handler shares, behind one `Arc`: axum clones the state for
/// every extractor and layer that reads it, and one reference count costs one atomic
/// increment and decrement per clone where a struct of five `Arc`s costs five (on
/// every request, contended between the worker threads).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// The state sharing `services`.
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct Services {
    /// The resolved configuration.
    pub config: Arc<Config>,
    /// The served rulesets.
    pub registry: Arc<Registry>,
    /// Token verification; `None` when auth is off.
    pub verifier: Option<Arc<Verifier>>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The decision log; `None` when none is configured (then nothing is recorded,
    /// and the startup line says so).
    pub decision_log: Option<Arc<DecisionLog>>,
}

/// The name of the request id header (set when absent, echoed in the response).
pub const REQUEST_ID: &str = "x-request-id";

/// The error code carried from an [`ApiError`] response to the metrics layer.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

/// The whole service.
pub fn router(state: AppState) -> Router {
    let limits = state.config.limits;
    let protected = Router::new()
        .route("/v1/rulesets", get(api::list))
        .route("/v1/rulesets/{id}", get(api::describe))
        .route("/v1/rulesets/{id}/questionnaire", get(api::questionnaire))
        .route("/v1/rulesets/{id}/schema", get(api::schema))
        .route("/v1/rulesets/{id}/assess", post(api::assess))
        .route("/v1/rulesets/{id}/decide", post(api::decide))
        .route("/admin/reload", post(api::reload))
        .route("/cds-services", get(cds::discovery))
        .route("/cds-services/{id}", post(cds::call))
        .route("/cds-services/{id}/feedback", post(cds::feedback))
        .layer(RequestBodyLimitLayer::new(limits.body_bytes))
        // The batch route counts its streamed body itself (`limits.batch_body_bytes`).
        .route("/v1/rulesets/{id}/batch", post(batch::batch))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    let open = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .route("/openapi.json", get(api::openapi))
        // The web form (public; the API calls it makes are protected as above).
        .route("/", get(web::page))
        .route("/web/carelevel.js", get(web::script))
        .route("/web/carelevel.css", get(web::style))
        .route("/web/icon.svg", get(web::icon));
    let request_id = HeaderName::from_static(REQUEST_ID);
    let cors = cors(&state.config.cors_origins);
    open.merge(protected)
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(TraceLayer::new_for_http())
                .layer(middleware::from_fn_with_state(state.clone(), measure))
                .layer(middleware::map_response(problem_for_plain_errors))
                .option_layer(cors)
                .layer(HandleErrorLayer::new(overloaded))
                .load_shed()
                // Global: axum applies these layers to each route, and one cap is
                // shared by all of them.
                .layer(GlobalConcurrencyLimitLayer::new(limits.max_concurrent))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Duration::from_millis(limits.request_timeout_ms),
                )),
        )
        .with_state(state)
}

/// CORS for the configured origins only; none configured: no CORS headers at all.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(Duration::from_secs(600)),
    )
}

async fn overloaded(_: tower::BoxError) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        "too many requests in progress; try again shortly",
    )
}

async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        format!(
            "no route {} {}; GET /openapi.json lists the routes",
            request.method(),
            carelevel::text::Shown::excerpt(request.uri().path())
        ),
    )
    .at("path")
}

/// Layers below axum answer some refusals with an empty or plain-text body (413 from
/// the body limit's `Content-Length` check, 503 from the timeout): give them the
/// JSON problem body every other refusal has.
async fn problem_for_plain_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if is_json {
        return response;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "body_too_large",
            "the request body is larger than the configured limit (`limits.body_bytes`)",
        )
        .at("body"),
        StatusCode::SERVICE_UNAVAILABLE => ApiError::new(
            status,
            "timeout",
            "the request took longer than the configured limit (`limits.request_timeout_ms`)",
        ),
        _ => ApiError::new(
            status,
            "refused",
            format!("the request was refused ({status})"),
        ),
    };
    let mut out = error.into_response();
    for name in [HeaderName::from_static(REQUEST_ID)] {
        if let Some(v) = response.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// Count each request by route template and status, time it, and count error codes.
async fn measure(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let response = next.run(request).await;
    if let Some(ErrorCode(code)) = response.extensions().get::<ErrorCode>() {
        state.metrics.error(code);
    } else if response.status().is_client_error() || response.status().is_server_error() {
        state.metrics.error("refused");
    }
    state
        .metrics
        .request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// When auth is on, every protected route needs a valid bearer token whose `aud` is
/// the public base URL plus the path called (no query). The caller is put in the
/// request's extensions.
async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(verifier) = &state.verifier else {
        return next.run(request).await;
    };
    let audience = format!("{}{}", state.config.public_url, request.uri().path());
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    match verifier.verify(header, &audience, now()) {
        Ok(caller) => {
            request.extensions_mut().insert::<Caller>(caller);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

/// Read a whole (already size-limited) body; a body over the limit is a 413.
pub async fn read_body(body: Body) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, usize::MAX).await.map_err(|e| {
        let mut source = std::error::Error::source(&e);
        let mut too_large = false;
        while let Some(s) = source {
            too_large |= s.is::<http_body_util::LengthLimitError>();
            source = s.source();
        }
        if too_large {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is larger than the configured limit (`limits.body_bytes`)",
            )
            .at("body")
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "body_unreadable",
                format!("the request body could not be read: {e}"),
            )
            .at("body")
        }
    })
}
