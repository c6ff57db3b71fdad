//! Spec checks of the service without sockets (`tower::ServiceExt::oneshot`): every
//! JSON route, the JWT refusals, the CDS Hooks discovery, 412 and feedback checks,
//! the body limit, malformed JSON, and every response against `openapi.json`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use carelevel_server::app::{now, router};
use carelevel_server::config::{
    Auth, Config, Issuer, Limits, RulesetOrigin, RulesetSpec, DEFAULT_JTI_CACHE,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tower::ServiceExt;

const PUBLIC: &str = "http://carelevel.test";
const ISS: &str = "https://ehr.test";
const OPENAPI: &str = include_str!("../openapi.json");

/// The decision log wired into the service.
#[path = "spec/decision_log.rs"]
mod decision_log;

fn keys() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

fn app(auth: bool) -> Router {
    app_with(
        auth,
        Limits {
            body_bytes: 64 * 1024,
            ..Limits::default()
        },
        Vec::new(),
    )
}

fn app_with(auth: bool, limits: Limits, cors_origins: Vec<String>) -> Router {
    router(carelevel_server::server::state(config(auth, limits, cors_origins)).unwrap())
}

/// The configuration of a test service: the bundled ruleset, auth with the test
/// issuer (tenant `clinic`) when `auth`, no decision log.
fn config(auth: bool, limits: Limits, cors_origins: Vec<String>) -> Config {
    let issuers = if auth {
        vec![Issuer {
            iss: ISS.into(),
            jwks: keys().join("test-jwks.json"),
            tenant: Some("clinic".into()),
        }]
    } else {
        Vec::new()
    };
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: PUBLIC.into(),
        public_url_from_listen: false,
        rulesets: vec![RulesetSpec {
            id: None,
            origin: RulesetOrigin::Bundled,
        }],
        auth: Auth {
            issuers,
            max_token_lifetime_secs: 300,
            leeway_secs: 60,
            jti_cache_size: DEFAULT_JTI_CACHE,
        },
        cors_origins,
        limits,
        decision_log: None,
        insecure_no_auth: false,
    }
}

fn es384() -> EncodingKey {
    EncodingKey::from_ec_pem(&std::fs::read(keys().join("es384-private.pem")).unwrap()).unwrap()
}

fn claims(path: &str) -> Value {
    let t = now();
    json!({"iss": ISS, "aud": format!("{PUBLIC}{path}"), "exp": t + 120, "iat": t, "jti": carelevel_server::cds::random_uuid().unwrap(), "sub": "client"})
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn token(path: &str) -> String {
    sign(
        Algorithm::ES384,
        Some("test-es384"),
        &es384(),
        &claims(path),
    )
}

struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

async fn call(app: &Router, method: Method, uri: &str, bearer: Option<&str>, body: &str) -> Got {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(b) = bearer {
        req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
    }
    let req = req
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Got {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// Check a response body against `openapi.json` for this route template, method and status.
fn conforms(template: &str, method: &str, got: &Got) {
    let doc: Value = serde_json::from_str(OPENAPI).unwrap();
    let response = &doc["paths"][template][method]["responses"][got.status.as_str()];
    assert!(
        response.is_object(),
        "openapi.json does not document {method} {template} -> {}",
        got.status
    );
    let Some(content) = response["content"].as_object() else {
        return;
    };
    let ctype = got.headers[header::CONTENT_TYPE].to_str().unwrap();
    let (_, media) = content
        .iter()
        .find(|(k, _)| ctype.starts_with(k.as_str()))
        .unwrap_or_else(|| {
            panic!(
                "{method} {template} {}: content type {ctype} not documented",
                got.status
            )
        });
    if !(ctype.starts_with("application/json") || ctype.starts_with("application/fhir+json")) {
        return;
    }
    let mut schema = media["schema"].clone();
    schema["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let instance = got.json();
    if let Err(e) = validator.validate(&instance) {
        panic!("{method} {template} {}: {e}\n{}", got.status, got.text);
    }
}

fn problem_code(got: &Got) -> String {
    got.json()["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_json_route_answers_as_documented() {
    let app = app(false);
    let got = call(&app, Method::GET, "/healthz", None, "").await;
    assert_eq!(got.status, StatusCode::OK);
    conforms("/healthz", "get", &got);
    let got = call(&app, Method::GET, "/readyz", None, "").await;
    assert_eq!(got.json()["rulesets"][0]["id"], "default");
    conforms("/readyz", "get", &got);
    let got = call(&app, Method::GET, "/v1/rulesets", None, "").await;
    conforms("/v1/rulesets", "get", &got);
    let got = call(&app, Method::GET, "/v1/rulesets/default", None, "").await;
    assert_eq!(got.json()["levels"][0]["id"], "outpatient");
    conforms("/v1/rulesets/{id}", "get", &got);
    let got = call(&app, Method::GET, "/v1/rulesets/nope", None, "").await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    conforms("/v1/rulesets/{id}", "get", &got);
    for q in ["", "?fhir=r5"] {
        let got = call(
            &app,
            Method::GET,
            &format!("/v1/rulesets/default/questionnaire{q}"),
            None,
            "",
        )
        .await;
        assert_eq!(got.json()["resourceType"], "Questionnaire");
        conforms("/v1/rulesets/{id}/questionnaire", "get", &got);
    }
    let got = call(
        &app,
        Method::GET,
        "/v1/rulesets/default/questionnaire?fhir=r9",
        None,
        "",
    )
    .await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    conforms("/v1/rulesets/{id}/questionnaire", "get", &got);
    for q in ["", "?of=assessment"] {
        let got = call(
            &app,
            Method::GET,
            &format!("/v1/rulesets/default/schema{q}"),
            None,
            "",
        )
        .await;
        assert_eq!(got.status, StatusCode::OK);
        conforms("/v1/rulesets/{id}/schema", "get", &got);
    }

    let answers = r#"{"severity":"moderate","withdrawal_risk":"none","medical":"none","housing":"stable","support":"strong","harm_risk":"none","mental_health":"none","readiness":"ready","step_down_from_inpatient":false}"#;
    let got = call(
        &app,
        Method::POST,
        "/v1/rulesets/default/assess",
        None,
        answers,
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(
        got.headers["carelevel-ruleset-version"],
        rs_version().as_str()
    );
    assert_eq!(got.json()["provenance"]["ruleset_id"], "default");
    conforms("/v1/rulesets/{id}/assess", "post", &got);
    let got = call(
        &app,
        Method::POST,
        "/v1/rulesets/default/decide",
        None,
        answers,
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json()["missing"], json!([]));
    conforms("/v1/rulesets/{id}/decide", "post", &got);

    let got = call(
        &app,
        Method::POST,
        "/v1/rulesets/default/decide",
        None,
        "{\n  \"severity\": ",
    )
    .await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    assert_eq!(got.json()["error"]["where"], "body line 2 column 14");
    conforms("/v1/rulesets/{id}/decide", "post", &got);
    let got = call(
        &app,
        Method::POST,
        "/v1/rulesets/default/assess",
        None,
        r#"{"severity":"lots"}"#,
    )
    .await;
    assert_eq!(got.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(got.json()["error"]["where"], "body.severity");
    conforms("/v1/rulesets/{id}/assess", "post", &got);

    let got = call(
        &app,
        Method::POST,
        "/v1/rulesets/default/batch",
        None,
        "{\"severity\":\"none\"}\n{\"nope\":1}\n",
    )
    .await;
    assert_eq!(got.status, StatusCode::OK);
    let lines: Vec<Value> = got
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", got.text);
    assert_eq!(lines[0]["line"], 1);
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .contains("unknown question"));
    conforms("/v1/rulesets/{id}/batch", "post", &got);

    let got = call(&app, Method::POST, "/admin/reload", None, "").await;
    assert_eq!(got.status, StatusCode::OK);
    conforms("/admin/reload", "post", &got);
    let got = call(&app, Method::GET, "/openapi.json", None, "").await;
    assert_eq!(got.json()["openapi"], "3.1.0");
    let got = call(&app, Method::GET, "/metrics", None, "").await;
    assert!(
        got.text.contains(
            "carelevel_http_requests_total{route=\"/v1/rulesets/{id}/decide\",status=\"200\"} 1\n"
        ),
        "{}",
        got.text
    );
    assert!(
        got.text
            .contains("carelevel_decisions_total{ruleset=\"default\",level=\"iop\"}"),
        "{}",
        got.text
    );
    conforms("/metrics", "get", &got);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_with_a_problem_body() {
    let app = app(false);
    let big = format!("{{\"severity\":\"{}\"}}", "x".repeat(70 * 1024));
    let got = call(
        &app,
        Method::POST,
        "/v1/rulesets/default/assess",
        None,
        &big,
    )
    .await;
    assert_eq!(got.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem_code(&got), "body_too_large");
    assert!(!got.text.contains("xxxx"));
    conforms("/v1/rulesets/{id}/assess", "post", &got);
}

#[tokio::test]
async fn a_good_token_is_accepted_and_each_bad_one_is_401() {
    let app = app(true);
    let path = "/v1/rulesets";
    let good = token(path);
    let got = call(&app, Method::GET, path, Some(&good), "").await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    // The RS256 key works too.
    let rs = EncodingKey::from_rsa_pem(&std::fs::read(keys().join("rs256-private.pem")).unwrap())
        .unwrap();
    let got = call(
        &app,
        Method::GET,
        path,
        Some(&sign(
            Algorithm::RS256,
            Some("test-rs256"),
            &rs,
            &claims(path),
        )),
        "",
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);

    let b64 = |v: &Value| base64url(v.to_string().as_bytes());
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg":"none","kid":"test-es384","typ":"JWT"})),
        b64(&claims(path))
    );
    let hs256 = sign(
        Algorithm::HS256,
        Some("test-es384"),
        &EncodingKey::from_secret(b"secret"),
        &claims(path),
    );
    let mut c = claims(path);
    c["aud"] = json!(format!("{PUBLIC}/v1/rulesets/default"));
    let wrong_aud = sign(Algorithm::ES384, Some("test-es384"), &es384(), &c);
    let mut c = claims(path);
    c["iat"] = json!(now() - 400);
    c["exp"] = json!(now() - 200);
    let expired = sign(Algorithm::ES384, Some("test-es384"), &es384(), &c);
    let mut c = claims(path);
    c["iat"] = json!(now() + 600);
    c["exp"] = json!(now() + 700);
    let future_iat = sign(Algorithm::ES384, Some("test-es384"), &es384(), &c);
    let mut c = claims(path);
    c["exp"] = json!(now() + 3600);
    let too_long = sign(Algorithm::ES384, Some("test-es384"), &es384(), &c);
    let unknown_kid = sign(Algorithm::ES384, Some("other"), &es384(), &claims(path));
    let no_kid = sign(Algorithm::ES384, None, &es384(), &claims(path));
    let mut c = claims(path);
    c["iss"] = json!("https://stranger.test");
    let unknown_iss = sign(Algorithm::ES384, Some("test-es384"), &es384(), &c);
    let mut c = claims(path);
    c.as_object_mut().unwrap().remove("jti");
    let no_jti = sign(Algorithm::ES384, Some("test-es384"), &es384(), &c);
    // Signed by the RSA key but claiming the EC key id: the signature cannot verify.
    let bad_signature = {
        let t = token(path);
        let (head_body, _) = t.rsplit_once('.').unwrap();
        let other = token(path);
        format!("{head_body}.{}", other.rsplit_once('.').unwrap().1)
    };
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("missing header", None, "bearer token is required"),
        ("alg none", Some(alg_none), "header cannot be read"),
        ("HS256", Some(hs256), "not accepted"),
        ("wrong aud", Some(wrong_aud), "`aud` is not the URL called"),
        ("expired", Some(expired), "expired"),
        ("future iat", Some(future_iat), "in the future"),
        ("too long", Some(too_long), "exp - iat"),
        ("unknown kid", Some(unknown_kid), "has no key `other`"),
        ("no kid", Some(no_kid), "no `kid`"),
        ("unknown iss", Some(unknown_iss), "not trusted"),
        ("no jti", Some(no_jti), "no `jti`"),
        (
            "bad signature",
            Some(bad_signature),
            "signature does not verify",
        ),
        ("replayed jti", Some(good.clone()), "already used"),
    ];
    for (name, bearer, says) in cases {
        let got = call(&app, Method::GET, path, bearer.as_deref(), "").await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED, "{name}: {}", got.text);
        assert!(
            got.headers[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Bearer realm=\"carelevel\""),
            "{name}"
        );
        let message = got.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{name}: {message}");
        if let Some(b) = &bearer {
            assert!(
                !got.text.contains(b.as_str()),
                "{name}: the token is echoed"
            );
            let sig = b.rsplit('.').next().unwrap();
            assert!(
                sig.is_empty() || !got.text.contains(sig),
                "{name}: the signature is echoed"
            );
        }
        conforms("/v1/rulesets", "get", &got);
    }
    // Health needs no token even with auth on.
    let got = call(&app, Method::GET, "/healthz", None, "").await;
    assert_eq!(got.status, StatusCode::OK);
}

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn screening_qr() -> Value {
    let rs = carelevel::Ruleset::default_ruleset().unwrap();
    let answers = rs
        .answers_from_json(r#"{"severity":"moderate","withdrawal_risk":"none","medical":"none","housing":"stable","support":"strong","harm_risk":"none","mental_health":"none","readiness":"ready","step_down_from_inpatient":false}"#)
        .unwrap();
    carelevel_fhir::response::questionnaire_response(
        &answers,
        carelevel_fhir::Release::R4,
        &carelevel_fhir::response::ResponseOptions::default(),
    )
}

#[tokio::test]
async fn cds_discovery_412_and_feedback_checks() {
    let app = app(true);
    let got = call(
        &app,
        Method::GET,
        "/cds-services",
        Some(&token("/cds-services")),
        "",
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    conforms("/cds-services", "get", &got);
    let services = got.json()["services"].as_array().unwrap().clone();
    let hooks: Vec<&str> = services
        .iter()
        .map(|s| s["hook"].as_str().unwrap())
        .collect();
    assert_eq!(
        hooks,
        [
            "patient-view",
            "order-select",
            "order-sign",
            "questionnaire-inprogress"
        ]
    );
    assert_eq!(services[0]["id"], "default-patient-view");
    assert_eq!(
        services[0]["prefetch"]["screening"],
        "QuestionnaireResponse?subject={{context.patientId}}&questionnaire=urn:carelevel:ruleset:default&_sort=-authored&_count=1"
    );

    let path = "/cds-services/default-patient-view";
    let got = call(&app, Method::POST, path, None, "{}").await;
    assert_eq!(got.status, StatusCode::UNAUTHORIZED);
    let request = |prefetch: Value| {
        json!({"hook": "patient-view", "hookInstance": "d1f3", "context": {"userId": "Practitioner/1", "patientId": "p1"}, "prefetch": prefetch}).to_string()
    };
    for (prefetch, says) in [
        (json!({}), "is missing"),
        (json!({"screening": null}), "is missing"),
        (
            json!({"screening": {"resourceType": "Bundle", "type": "searchset", "entry": []}}),
            "no QuestionnaireResponse",
        ),
        (
            json!({"screening": {"resourceType": "Patient"}}),
            "not a QuestionnaireResponse",
        ),
        (
            json!({"screening": {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [{"linkId": "nope"}]}}),
            "cannot be used",
        ),
    ] {
        let got = call(
            &app,
            Method::POST,
            path,
            Some(&token(path)),
            &request(prefetch),
        )
        .await;
        assert_eq!(got.status, StatusCode::PRECONDITION_FAILED, "{}", got.text);
        assert_eq!(got.json()["resourceType"], "OperationOutcome");
        assert!(
            got.json()["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains(says),
            "{}",
            got.text
        );
        conforms("/cds-services/{id}", "post", &got);
    }
    // A usable response in a search Bundle is read and assessed: one card.
    let bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": screening_qr()}]});
    let got = call(
        &app,
        Method::POST,
        path,
        Some(&token(path)),
        &request(json!({"screening": bundle})),
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json()["cards"].as_array().unwrap().len(), 1);
    conforms("/cds-services/{id}", "post", &got);
    // The wrong hook for the service, and malformed JSON, are 400.
    let other = request(json!({})).replace("patient-view", "order-sign");
    let got = call(&app, Method::POST, path, Some(&token(path)), &other).await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST, "{}", got.text);
    assert_eq!(got.json()["error"]["where"], "hook");
    let got = call(&app, Method::POST, path, Some(&token(path)), "{\"hook\":").await;
    assert_eq!(problem_code(&got), "malformed_json");
    conforms("/cds-services/{id}", "post", &got);

    let fpath = "/cds-services/default-patient-view/feedback";
    let ok = json!({"feedback": [{"card": "9368d37b-283f-44a0-93ea-547cebab93ed", "outcome": "overridden", "overrideReason": {"userComment": "family declined"}, "outcomeTimestamp": "2026-12-05T10:00:00Z"}]});
    let got = call(
        &app,
        Method::POST,
        fpath,
        Some(&token(fpath)),
        &ok.to_string(),
    )
    .await;
    assert_eq!(problem_code(&got), "feedback_not_recorded");
    conforms("/cds-services/{id}/feedback", "post", &got);
    let bad = json!({"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-12-05T10:00:00Z"}]});
    let got = call(
        &app,
        Method::POST,
        fpath,
        Some(&token(fpath)),
        &bad.to_string(),
    )
    .await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        got.json()["error"]["where"],
        "feedback[0].acceptedSuggestions"
    );
    conforms("/cds-services/{id}/feedback", "post", &got);
}

#[test]
fn a_draft_order_below_the_recommendation_is_found() {
    use carelevel_server::cds::{compare_orders, OrderComparison};
    let rs = carelevel::Ruleset::default_ruleset().unwrap();
    let served = carelevel_server::registry::Served {
        id: "default".into(),
        source: "<bundled default>".into(),
        canonical: carelevel_fhir::Canonical::of(&rs),
        ruleset: rs,
    };
    let answers = served.ruleset.answers_from_json(r#"{"severity":"moderate","withdrawal_risk":"none","medical":"none","housing":"stable","support":"strong","harm_risk":"none","mental_health":"none","readiness":"ready","step_down_from_inpatient":false}"#).unwrap();
    let a = served.ruleset.assess(&answers).unwrap();
    let system = served.canonical.levels();
    let order = |level: &str| json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "ServiceRequest", "id": "sr1", "code": {"coding": [{"system": system, "code": level}]}}}]});
    let ranks: Vec<&str> = served
        .ruleset
        .levels()
        .iter()
        .map(|l| l.id.as_str())
        .collect();
    let recommended = a.level.rank;
    for (rank, level) in ranks.iter().enumerate() {
        let got = compare_orders(&served, &a, &order(level));
        if rank < recommended {
            assert_eq!(
                got,
                OrderComparison::Below {
                    order: order(level)["entry"][0]["resource"].clone(),
                    ordered: (*level).into(),
                    recommended: a.level.id.to_string()
                }
            );
        } else {
            assert_eq!(got, OrderComparison::AtOrAbove);
        }
    }
    let other_system = json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "ServiceRequest", "code": {"coding": [{"system": "http://snomed.info/sct", "code": "outpatient"}]}}}]});
    assert_eq!(
        compare_orders(&served, &a, &other_system),
        OrderComparison::NoLevelOrder
    );
}

/// A request whose body never ends holds its place until the timeout; meanwhile a
/// request over the concurrency cap is shed with 503 `overloaded`, and the held one
/// ends with 503 `timeout`.
#[tokio::test]
async fn over_the_cap_is_shed_and_a_stalled_request_times_out() {
    let limits = Limits {
        max_concurrent: 1,
        request_timeout_ms: 500,
        ..Limits::default()
    };
    let app = app_with(false, limits, Vec::new());
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    tx.send(Ok(bytes::Bytes::from_static(b"{"))).await.unwrap();
    let stalled = Request::builder()
        .method(Method::POST)
        .uri("/v1/rulesets/default/assess")
        .body(Body::from_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .unwrap();
    let held = tokio::spawn(app.clone().oneshot(stalled));
    // Wait until the stalled request holds the only place.
    let mut shed = None;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let got = call(&app, Method::GET, "/v1/rulesets", None, "").await;
        if got.status == StatusCode::SERVICE_UNAVAILABLE {
            shed = Some(got);
            break;
        }
    }
    let shed = shed.expect("no request was shed");
    assert_eq!(problem_code(&shed), "overloaded");
    conforms("/v1/rulesets", "get", &shed);
    let response = held.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "timeout");
    drop(tx);
}

#[tokio::test]
async fn cors_only_for_listed_origins() {
    let app = app_with(
        false,
        Limits::default(),
        vec!["https://ehr.example.org".into()],
    );
    for (origin, allowed) in [
        ("https://ehr.example.org", true),
        ("https://evil.example", false),
    ] {
        let req = Request::builder()
            .method(Method::OPTIONS)
            .uri("/v1/rulesets")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(req).await.unwrap();
        let got = response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN);
        assert_eq!(got.is_some(), allowed, "{origin}: {got:?}");
    }
    // No origins configured: no CORS headers at all.
    let req = Request::builder()
        .uri("/v1/rulesets")
        .header(header::ORIGIN, "https://ehr.example.org")
        .body(Body::empty())
        .unwrap();
    let response = app_with(false, Limits::default(), Vec::new())
        .oneshot(req)
        .await
        .unwrap();
    assert!(response
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}

/// The card rules of CDS Hooks 2.0 that the Inferno CDS Hooks test kit checks, as
/// `carelevel-fhir`'s card tests (`card/tests.rs`) check them: summary (required
/// string, < 140 characters), indicator (`info` | `warning` | `critical`), source
/// with a string `label` (and an absolute `url` when present), overrideReasons each
/// a Coding with `code`, `system` and `display`, uuid and detail strings, and no
/// `selectionBehavior` without `suggestions`. Added for the suggestions this service
/// makes: `selectionBehavior` is required with `suggestions` (`at-most-one` or
/// `any`); each suggestion has a `label`, a string `uuid`, and actions with `type`
/// `create` | `update` | `delete`, a `description`, and a `resource` (with
/// `resourceType`) for create and update.
fn card_problems(card: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(obj) = card.as_object() else {
        return vec!["a card is a JSON object".into()];
    };
    match obj.get("summary").and_then(Value::as_str) {
        Some(s) if s.chars().count() < 140 && !s.is_empty() => {}
        Some(s) => p.push(format!("summary has {} characters", s.chars().count())),
        None => p.push("summary is required and a string".into()),
    }
    match obj.get("indicator").and_then(Value::as_str) {
        Some("info" | "warning" | "critical") => {}
        other => p.push(format!("indicator {other:?} is not info|warning|critical")),
    }
    match obj
        .get("source")
        .and_then(|s| s.get("label"))
        .and_then(Value::as_str)
    {
        Some(l) if !l.is_empty() => {}
        _ => p.push("source.label is required and a string".into()),
    }
    if let Some(url) = obj.get("source").and_then(|s| s.get("url")) {
        if !url.as_str().is_some_and(|u| u.starts_with("http")) {
            p.push("source.url is an absolute URL".into());
        }
    }
    for key in ["uuid", "detail"] {
        if obj.get(key).is_some_and(|v| !v.is_string()) {
            p.push(format!("{key} is a string"));
        }
    }
    if let Some(reasons) = obj.get("overrideReasons") {
        match reasons.as_array() {
            Some(list) => {
                for (i, r) in list.iter().enumerate() {
                    for key in ["code", "system", "display"] {
                        if r.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
                            p.push(format!("overrideReasons[{i}].{key} is required"));
                        }
                    }
                }
            }
            None => p.push("overrideReasons is an array".into()),
        }
    }
    if obj.contains_key("selectionBehavior") && !obj.contains_key("suggestions") {
        p.push("selectionBehavior without suggestions".into());
    }
    if let Some(suggestions) = obj.get("suggestions") {
        match obj.get("selectionBehavior").and_then(Value::as_str) {
            Some("at-most-one" | "any") => {}
            other => p.push(format!(
                "selectionBehavior {other:?} is required with suggestions (at-most-one|any)"
            )),
        }
        let Some(list) = suggestions.as_array() else {
            p.push("suggestions is an array".into());
            return p;
        };
        for (i, s) in list.iter().enumerate() {
            if s.get("label")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                p.push(format!("suggestions[{i}].label is required"));
            }
            if s.get("uuid").is_some_and(|u| !u.is_string()) {
                p.push(format!("suggestions[{i}].uuid is a string"));
            }
            for (j, a) in s
                .get("actions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let kind = a.get("type").and_then(Value::as_str);
                if !matches!(kind, Some("create" | "update" | "delete")) {
                    p.push(format!("suggestions[{i}].actions[{j}].type {kind:?}"));
                }
                if a.get("description").and_then(Value::as_str).is_none() {
                    p.push(format!(
                        "suggestions[{i}].actions[{j}].description is required"
                    ));
                }
                if matches!(kind, Some("create" | "update"))
                    && a.pointer("/resource/resourceType")
                        .and_then(Value::as_str)
                        .is_none()
                {
                    p.push(format!(
                        "suggestions[{i}].actions[{j}].resource is required"
                    ));
                }
            }
        }
    }
    p
}

fn is_uuid_v4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && parts[2].starts_with('4')
        && parts[3].starts_with(['8', '9', 'a', 'b'])
}

#[test]
fn the_card_checker_flags_broken_cards() {
    let good = json!({"uuid": "u", "summary": "s", "indicator": "info", "detail": "d", "source": {"label": "l"}, "overrideReasons": [{"system": "x", "code": "c", "display": "d"}]});
    assert!(card_problems(&good).is_empty());
    let good_suggestion = json!({"label": "l", "uuid": "u", "actions": [{"type": "update", "description": "d", "resource": {"resourceType": "ServiceRequest"}}]});
    let mut with = good.clone();
    with["suggestions"] = json!([good_suggestion.clone()]);
    with["selectionBehavior"] = json!("at-most-one");
    assert!(card_problems(&with).is_empty());
    for (key, value) in [
        ("summary", json!("x".repeat(140))),
        ("summary", json!("")),
        ("indicator", json!("hard-stop")),
        ("source", json!({})),
        ("source", json!({"label": "l", "url": "ftp:x"})),
        ("uuid", json!(3)),
        ("detail", json!(["d"])),
        ("overrideReasons", json!([{"code": "c", "system": "x"}])),
        ("selectionBehavior", json!("at-most-one")),
    ] {
        let mut c = good.clone();
        c[key] = value.clone();
        assert!(!card_problems(&c).is_empty(), "{key}: {value}");
    }
    for (key, value) in [
        ("selectionBehavior", json!("all")),
        ("suggestions", json!([{"uuid": "u", "actions": []}])),
        (
            "suggestions",
            json!([{"label": "l", "actions": [{"type": "replace", "description": "d"}]}]),
        ),
        (
            "suggestions",
            json!([{"label": "l", "actions": [{"type": "update", "description": "d"}]}]),
        ),
    ] {
        let mut c = with.clone();
        c[key] = value.clone();
        assert!(!card_problems(&c).is_empty(), "{key}: {value}");
    }
    let mut no_behaviour = with.clone();
    no_behaviour
        .as_object_mut()
        .unwrap()
        .remove("selectionBehavior");
    assert!(!card_problems(&no_behaviour).is_empty());
}

/// Every hook's real response: its cards keep every card rule, their uuids are
/// fresh random v4 uuids, and the order hooks warn (with one suggestion to update
/// the draft to the recommended level) exactly when the draft is below it.
#[tokio::test]
async fn every_hook_answers_with_cards_that_keep_the_card_rules() {
    let app = app(true);
    let rs = carelevel::Ruleset::default_ruleset().unwrap();
    let canonical = carelevel_fhir::Canonical::of(&rs);
    let qr = screening_qr();
    let answers = carelevel_fhir::response::read_response_value(
        &rs,
        &qr,
        &carelevel_fhir::response::ReadOptions::default(),
    )
    .unwrap()
    .answers;
    let a = rs.assess(&answers).unwrap();
    let recommended = a.level.id.to_string();
    assert!(
        a.level.rank > 0,
        "the screening must leave a lower level to order"
    );
    let levels: Vec<String> = rs.levels().iter().map(|l| l.id.clone()).collect();
    let post = |hook: &str, context: Value, prefetch: Value| {
        let path = format!("/cds-services/default-{hook}");
        let body =
            json!({"hook": hook, "hookInstance": "a9b8", "context": context, "prefetch": prefetch})
                .to_string();
        let app = app.clone();
        async move {
            let got = call(&app, Method::POST, &path, Some(&token(&path)), &body).await;
            assert_eq!(got.status, StatusCode::OK, "{path}: {}", got.text);
            conforms("/cds-services/{id}", "post", &got);
            assert_eq!(got.headers["carelevel-ruleset-version"], rs_version());
            let cards = got.json()["cards"].as_array().unwrap().clone();
            for c in &cards {
                let problems = card_problems(c);
                assert!(problems.is_empty(), "{problems:?}: {c}");
                assert!(is_uuid_v4(c["uuid"].as_str().unwrap()), "{c}");
            }
            cards
        }
    };
    let screening = json!({"screening": qr.clone()});
    let mut uuids = std::collections::BTreeSet::new();
    for hook in ["patient-view", "questionnaire-inprogress"] {
        let (context, prefetch) = if hook == "patient-view" {
            (
                json!({"userId": "Practitioner/1", "patientId": "p1"}),
                screening.clone(),
            )
        } else {
            (
                json!({"userId": "Practitioner/1", "patientId": "p1", "questionnaireResponse": qr.clone()}),
                json!({}),
            )
        };
        for _ in 0..2 {
            let cards = post(hook, context.clone(), prefetch.clone()).await;
            assert_eq!(cards.len(), 1, "{hook}");
            let c = &cards[0];
            assert!(c.get("suggestions").is_none(), "{c}");
            assert!(
                c["summary"]
                    .as_str()
                    .unwrap()
                    .starts_with("Suggested level of care: "),
                "{c}"
            );
            assert!(
                c["detail"]
                    .as_str()
                    .unwrap()
                    .contains("qualified professional"),
                "{c}"
            );
            assert!(
                uuids.insert(c["uuid"].as_str().unwrap().to_owned()),
                "uuid reused"
            );
        }
    }
    let order = |level: &str| json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "ServiceRequest", "id": "sr-7", "status": "draft", "intent": "order", "subject": {"reference": "Patient/p1"}, "code": {"coding": [{"system": canonical.levels(), "code": level}]}}}]});
    for hook in ["order-select", "order-sign"] {
        for (rank, level) in levels.iter().enumerate() {
            let context =
                json!({"userId": "Practitioner/1", "patientId": "p1", "draftOrders": order(level)});
            let cards = post(hook, context, screening.clone()).await;
            if rank >= a.level.rank {
                assert!(cards.is_empty(), "{hook} {level}: {cards:?}");
                continue;
            }
            assert_eq!(cards.len(), 1, "{hook} {level}");
            let c = &cards[0];
            assert_eq!(c["indicator"], if a.refer { "critical" } else { "warning" });
            assert_eq!(c["selectionBehavior"], "at-most-one");
            assert!(
                c["summary"]
                    .as_str()
                    .unwrap()
                    .starts_with("Draft referral is below"),
                "{c}"
            );
            assert!(
                c["detail"]
                    .as_str()
                    .unwrap()
                    .contains("ServiceRequest/sr\\-7"),
                "{c}"
            );
            let s = &c["suggestions"].as_array().unwrap()[..];
            assert_eq!(s.len(), 1);
            assert!(is_uuid_v4(s[0]["uuid"].as_str().unwrap()));
            assert_ne!(s[0]["uuid"], c["uuid"]);
            let action = &s[0]["actions"][0];
            assert_eq!(action["type"], "update");
            let resource = &action["resource"];
            assert_eq!(resource["id"], "sr-7");
            assert_eq!(resource["status"], "draft");
            assert_eq!(resource["subject"]["reference"], "Patient/p1");
            assert_eq!(resource["code"]["coding"][0]["system"], canonical.levels());
            assert_eq!(resource["code"]["coding"][0]["code"], recommended.as_str());
            assert_eq!(resource["code"]["coding"].as_array().unwrap().len(), 1);
        }
        // No draft order with a level Coding of this ruleset: no card.
        let context = json!({"userId": "Practitioner/1", "patientId": "p1", "draftOrders": {"resourceType": "Bundle", "entry": []}});
        assert!(post(hook, context, screening.clone()).await.is_empty());
    }
}

fn rs_version() -> String {
    carelevel::Ruleset::default_ruleset()
        .unwrap()
        .metadata()
        .version
        .clone()
}

#[tokio::test]
async fn the_cds_hooks_sandbox_key_loads_and_is_the_one_checked() {
    // examples/serve/cds-sandbox-jwks.json: the public key the CDS Hooks Sandbox
    // signs with (issuer https://sandbox.cds-hooks.org), for demos.
    let mut c = config(false, Limits::default(), Vec::new());
    c.auth.issuers = vec![Issuer {
        iss: "https://sandbox.cds-hooks.org".into(),
        jwks: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/serve/cds-sandbox-jwks.json"),
        tenant: None,
    }];
    let app = router(carelevel_server::server::state(c).unwrap());
    // A token with the Sandbox's iss and kid, signed by another key: refused on its
    // signature, so the Sandbox's key is the one checked.
    let path = "/cds-services";
    let mut claims = claims(path);
    claims["iss"] = json!("https://sandbox.cds-hooks.org");
    let forged = sign(
        Algorithm::ES384,
        Some("44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"),
        &es384(),
        &claims,
    );
    let got = call(&app, Method::GET, path, Some(&forged), "").await;
    assert_eq!(got.status, StatusCode::UNAUTHORIZED);
    assert!(
        got.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("signature"),
        "{}",
        got.text
    );
}
