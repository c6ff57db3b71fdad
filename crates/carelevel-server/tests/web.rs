//! The web form's routes through the whole service (`tower::ServiceExt::oneshot`, no
//! sockets): status, content type, the security headers, `ETag` revalidation, the page
//! public while the API it calls needs a token when auth is on, and `openapi.json`.
//! The page in a real browser: `tests/web-e2e/` (`.ci/web`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use carelevel_server::config::{self, Flags};
use carelevel_server::web::{Asset, ASSETS, CSP, ICON, PAGE, SCRIPT, STYLE};
use serde_json::Value;
use tower::ServiceExt;

const OPENAPI: &str = include_str!("../openapi.json");

/// The service as `carelevel serve` builds it, with auth on (a test issuer) or off.
fn app(auth: bool) -> Router {
    let keys = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/keys");
    let flags = Flags {
        listen: Some("127.0.0.1:0".into()),
        issuer: auth.then(|| "https://ehr.web.test".to_owned()),
        jwks: auth.then(|| keys.join("test-jwks.json")),
        ..Flags::default()
    };
    let config = config::load(&flags).unwrap();
    assert_eq!(config.auth.enabled(), auth);
    carelevel_server::app::router(carelevel_server::server::state(config).unwrap())
}

struct Got {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

async fn get(app: &Router, uri: &str, headers: &[(header::HeaderName, &str)]) -> Got {
    let mut req = Request::builder().method(Method::GET).uri(uri);
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Got {
        status,
        headers,
        body,
    }
}

fn header<'a>(got: &'a Got, name: &header::HeaderName) -> &'a str {
    got.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

fn has_security_headers(got: &Got, asset: &Asset) {
    assert_eq!(header(got, &header::CONTENT_SECURITY_POLICY), CSP);
    assert_eq!(header(got, &header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(header(got, &header::REFERRER_POLICY), "no-referrer");
    assert_eq!(header(got, &header::X_FRAME_OPTIONS), "DENY");
    assert_eq!(header(got, &header::CACHE_CONTROL), "no-cache");
    assert_eq!(header(got, &header::ETAG), asset.etag);
}

#[tokio::test]
async fn every_asset_is_served_with_its_type_and_a_strict_csp() {
    let app = app(false);
    let expected = [
        ("/", "text/html; charset=utf-8"),
        ("/web/carelevel.js", "text/javascript; charset=utf-8"),
        ("/web/carelevel.css", "text/css; charset=utf-8"),
        ("/web/icon.svg", "image/svg+xml"),
    ];
    assert_eq!(ASSETS.len(), expected.len());
    for (asset, (path, content_type)) in ASSETS.iter().zip(expected) {
        assert_eq!(asset.path, path);
        let got = get(&app, path, &[]).await;
        assert_eq!(got.status, StatusCode::OK, "{path}");
        assert_eq!(header(&got, &header::CONTENT_TYPE), content_type, "{path}");
        has_security_headers(&got, asset);
        assert_eq!(got.body, asset.body.as_bytes(), "{path}");
        assert!(got.headers.contains_key("x-request-id"), "{path}");
    }
    // The CSP as a browser reads it: nothing inline, only this origin.
    assert_eq!(
        CSP,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
}

#[tokio::test]
async fn every_file_the_page_names_is_served() {
    let app = app(false);
    let mut named = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in PAGE.body.split(attr).skip(1) {
            let target = part.split('"').next().unwrap();
            if target.starts_with('/') {
                named.push(target.to_owned());
            }
        }
    }
    named.sort();
    let mut served = [SCRIPT.path, STYLE.path, ICON.path].map(str::to_owned);
    served.sort();
    assert_eq!(
        named, served,
        "the page names other files than the ones served"
    );
    for path in &named {
        assert_eq!(get(&app, path, &[]).await.status, StatusCode::OK, "{path}");
    }
    // The script calls only routes of this service.
    for route in [
        "\"/v1/rulesets\"",
        "`/v1/rulesets/${encodeURIComponent(id)}`",
        "`${path}/schema?of=answers`",
        "/assess`",
    ] {
        assert!(SCRIPT.body.contains(route), "{route}");
    }
}

#[tokio::test]
async fn a_matching_etag_is_304_and_another_is_200() {
    let app = app(false);
    for asset in ASSETS {
        let got = get(&app, asset.path, &[(header::IF_NONE_MATCH, asset.etag)]).await;
        assert_eq!(got.status, StatusCode::NOT_MODIFIED, "{}", asset.path);
        assert!(got.body.is_empty());
        has_security_headers(&got, &asset);
        let list = format!("\"0000000000000000\", W/{}", asset.etag);
        let got = get(&app, asset.path, &[(header::IF_NONE_MATCH, &list)]).await;
        assert_eq!(got.status, StatusCode::NOT_MODIFIED, "{}", asset.path);
        let got = get(
            &app,
            asset.path,
            &[(header::IF_NONE_MATCH, "\"0000000000000000\"")],
        )
        .await;
        assert_eq!(got.status, StatusCode::OK, "{}", asset.path);
        assert_eq!(got.body, asset.body.as_bytes());
    }
}

#[tokio::test]
async fn with_auth_on_the_page_is_public_and_its_api_calls_need_a_token() {
    let app = app(true);
    for asset in ASSETS {
        let got = get(&app, asset.path, &[]).await;
        assert_eq!(got.status, StatusCode::OK, "{}", asset.path);
        has_security_headers(&got, &asset);
    }
    for path in [
        "/v1/rulesets",
        "/v1/rulesets/default",
        "/v1/rulesets/default/schema?of=answers",
    ] {
        let got = get(&app, path, &[]).await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // The page says so when its first call is refused (carelevel.js, describeProblem).
    assert!(SCRIPT.body.contains("e.status === 401"));
    assert!(SCRIPT.body.contains("has authentication on"));
}

#[tokio::test]
async fn a_path_under_web_that_is_no_asset_is_the_json_404() {
    let app = app(false);
    for path in [
        "/web/",
        "/web/other.js",
        "/index.html",
        "/web/carelevel.js/x",
    ] {
        let got = get(&app, path, &[]).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{path}");
        let body: Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(body["error"]["code"], "no_route", "{path}");
    }
}

#[test]
fn openapi_documents_every_web_route_as_public() {
    let doc: Value = serde_json::from_str(OPENAPI).unwrap();
    for asset in ASSETS {
        let get = &doc["paths"][asset.path]["get"];
        assert!(get.is_object(), "openapi.json has no GET {}", asset.path);
        assert_eq!(get["security"], serde_json::json!([]), "{}", asset.path);
        let media = asset.content_type.split(';').next().unwrap();
        assert!(
            get["responses"]["200"]["content"][media].is_object(),
            "GET {}: 200 {media} not documented",
            asset.path
        );
        assert!(
            get["responses"]["304"].is_object(),
            "GET {}: 304 not documented",
            asset.path
        );
        assert!(
            get["responses"]["200"]["headers"]["Content-Security-Policy"].is_object(),
            "GET {}: the CSP header is not documented",
            asset.path
        );
    }
}
