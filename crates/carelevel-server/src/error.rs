//! Error responses: every refusal is a JSON problem body
//! `{"error": {"code": "...", "message": "...", "where": "..."}}` with the HTTP status
//! documented in `docs/serve.md` ("Errors"). Messages never echo a token or a whole
//! body: excerpts are capped and escaped by `carelevel::text`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The longest `message` sent, in bytes (longer ones are cut, with a marker).
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code, e.g. `malformed_json`.
    pub code: &'static str,
    /// What is wrong and what was expected.
    pub message: String,
    /// Where in the request: a JSON path, a line and column, a header or a route.
    pub at: Option<String>,
    /// Set for 401: the `WWW-Authenticate` challenge.
    pub challenge: Option<String>,
}

impl ApiError {
    /// A refusal with `status` and `code`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            at: None,
            challenge: None,
        }
    }

    /// The same refusal, saying where.
    pub fn at(mut self, at: impl Into<String>) -> ApiError {
        self.at = Some(at.into());
        self
    }

    /// 404 for a ruleset id that is not served.
    pub fn no_ruleset(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_ruleset",
            format!(
                "no ruleset `{}` is served; GET /v1/rulesets lists them",
                carelevel::text::Shown::excerpt(id)
            ),
        )
        .at("path")
    }

    /// 400 for a body that is not JSON (`where` gives line and column).
    pub fn malformed_json(e: &serde_json::Error) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}; expected a JSON object"),
        )
        .at(format!("body line {} column {}", e.line(), e.column()))
    }

    /// The JSON body of this refusal.
    pub fn body(&self) -> serde_json::Value {
        let message = carelevel::text::escape_for_display(&self.message, Some(MAX_MESSAGE_BYTES));
        json!({"error": {"code": self.code, "message": message, "where": self.at}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        response
            .extensions_mut()
            .insert(crate::app::ErrorCode(self.code));
        if let Some(challenge) = &self.challenge {
            if let Ok(value) = HeaderValue::from_str(challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}
