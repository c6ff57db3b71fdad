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
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use carelevel_server::app::{now, router, AppState};
use carelevel_server::auth::Verifier;
use carelevel_server::config::{
    Auth, Config, Issuer, Limits, RulesetOrigin, RulesetSpec, DEFAULT_JTI_CACHE,
};
use carelevel_server::metrics::Metrics;
use carelevel_server::registry::Registry;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tower::ServiceExt;

const PUBLIC: &str = "http://carelevel.test";
const ISS: &str = "https://ehr.test";
const OPENAPI: &str = include_str!("../openapi.json");

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
    let issuers = if auth {
        vec![Issuer {
            iss: ISS.into(),
            jwks: keys().join("test-jwks.json"),
            tenant: Some("clinic".into()),
        }]
    } else {
        Vec::new()
    };
    let config = Config {
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
    };
    let verifier = config
        .auth
        .enabled()
        .then(|| Arc::new(Verifier::load(&config.auth).unwrap()));
    router(AppState {
        registry: Arc::new(Registry::load(config.rulesets.clone()).unwrap()),
        config: Arc::new(config),
        verifier,
        metrics: Arc::new(Metrics::default()),
    })
}

fn es384() -> EncodingKey {
    EncodingKey::from_ec_pem(&std::fs::read(keys().join("es384-private.pem")).unwrap()).unwrap()
}

fn claims(path: &str) -> Value {
    let t = now();
    json!({"iss": ISS, "aud": format!("{PUBLIC}{path}"), "exp": t + 120, "iat": t, "jti": uuid::Uuid::new_v4().to_string(), "sub": "client"})
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
    assert_eq!(got.headers["carelevel-ruleset-version"], "1.0.0");
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
    // A usable response in a search Bundle is read and assessed; the cards are not wired in yet.
    let bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": screening_qr()}]});
    let got = call(
        &app,
        Method::POST,
        path,
        Some(&token(path)),
        &request(json!({"screening": bundle})),
    )
    .await;
    assert_eq!(got.status, StatusCode::NOT_IMPLEMENTED, "{}", got.text);
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
                    order: Some("sr1".into()),
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
