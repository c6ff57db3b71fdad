//! The decision log wired into the service: exactly one record per recommendation
//! served (none for a refusal), feedback recorded against its card, masking applied
//! (and a masking that does not fit refused at start-up and on reload), and a log
//! that cannot be written turning every recommendation into a 503.

use std::path::{Path, PathBuf};

use carelevel_decision_log::{read_log, Channel, FieldMask, Filter, LogEntry, Outcome};
use carelevel_server::config::{DecisionLog, Sink};
use carelevel_server::server::state;

use super::*;

/// A fresh folder for one test's files.
fn folder(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("carelevel-spec-log-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn log_config(path: &Path) -> DecisionLog {
    DecisionLog {
        sink: if path.extension().is_some_and(|e| e == "sqlite") {
            Sink::Sqlite
        } else {
            Sink::Jsonl
        },
        path: path.to_path_buf(),
        default_mask: FieldMask::Keep,
        fields: std::collections::BTreeMap::new(),
        salt_file: None,
    }
}

/// A service with auth on (issuer `ISS`, tenant `clinic`) and `log`.
fn logged_app(log: DecisionLog) -> (Router, carelevel_server::app::AppState) {
    let mut c = config(true, Limits::default(), Vec::new());
    c.decision_log = Some(log);
    let st = state(c).unwrap();
    (router(st.clone()), st)
}

fn entries(path: &Path) -> Vec<LogEntry> {
    let mut out = Vec::new();
    read_log(path, &Filter::default(), &mut |e| {
        out.push(e.unwrap().entry);
        true
    })
    .unwrap();
    out
}

const ANSWERS: &str = r#"{"severity":"moderate","withdrawal_risk":"none","medical":"none","housing":"unstable","support":"strong","harm_risk":"none","mental_health":"none","readiness":"ready","step_down_from_inpatient":false}"#;

async fn post(app: &Router, path: &str, body: &str) -> Got {
    call(app, Method::POST, path, Some(&token(path)), body).await
}

fn cds_request(hook: &str, qr: &Value) -> String {
    json!({"hook": hook, "hookInstance": format!("hi-{hook}"),
           "context": {"userId": "Practitioner/1", "patientId": "p1", "draftOrders": {"resourceType": "Bundle", "entry": []}},
           "prefetch": {"screening": qr}})
    .to_string()
}

#[tokio::test]
async fn every_recommendation_served_is_logged_once_and_no_refusal_is() {
    for file in ["d.jsonl", "d.sqlite"] {
        let dir = folder(&format!("once-{file}"));
        let path = dir.join(file);
        let (app, st) = logged_app(log_config(&path));
        let mut served = Vec::new();

        for route in ["assess", "decide"] {
            let p = format!("/v1/rulesets/default/{route}");
            let got = post(&app, &p, ANSWERS).await;
            assert_eq!(got.status, StatusCode::OK, "{}", got.text);
            conforms(&format!("/v1/rulesets/{{id}}/{route}"), "post", &got);
            let id = got.headers["carelevel-decision-id"].to_str().unwrap();
            assert!(is_uuid_v4(id), "{id}");
            served.push((id.to_owned(), format!("/v1/rulesets/{{id}}/{route}"), None));
        }
        let qr = screening_qr();
        for hook in ["patient-view", "order-select"] {
            let p = format!("/cds-services/default-{hook}");
            let got = post(&app, &p, &cds_request(hook, &qr)).await;
            assert_eq!(got.status, StatusCode::OK, "{}", got.text);
            let id = got.headers["carelevel-decision-id"].to_str().unwrap();
            let cards = got.json()["cards"].as_array().unwrap().clone();
            if hook == "patient-view" {
                // The card's uuid is the decision id.
                assert_eq!(cards[0]["uuid"], id);
            } else {
                // No draft referral: no card, but the decision was made and is logged.
                assert!(cards.is_empty(), "{cards:?}");
            }
            served.push((id.to_owned(), "/cds-services/{id}".to_owned(), Some(hook)));
        }

        // Refusals: not assessable, not authenticated, no usable response, unknown
        // ruleset, malformed JSON. None of them is logged.
        let p = "/v1/rulesets/default/assess";
        let got = post(&app, p, r#"{"severity":"catastrophic"}"#).await;
        assert_eq!(got.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!got.headers.contains_key("carelevel-decision-id"));
        let got = call(&app, Method::POST, p, None, ANSWERS).await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED);
        let got = call(&app, Method::POST, p, Some(&token("/elsewhere")), ANSWERS).await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED);
        let got = post(&app, p, "{").await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST);
        let got = post(&app, "/v1/rulesets/nope/decide", ANSWERS).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND);
        let p = "/cds-services/default-patient-view";
        let no_prefetch = json!({"hook": "patient-view", "hookInstance": "x", "context": {}});
        let got = post(&app, p, &no_prefetch.to_string()).await;
        assert_eq!(got.status, StatusCode::PRECONDITION_FAILED);

        let metrics = call(&app, Method::GET, "/metrics", None, "").await.text;
        assert!(
            metrics.contains("carelevel_decision_log_records_total{result=\"written\"} 4\n"),
            "{metrics}"
        );
        assert!(
            metrics.contains("carelevel_decision_log_backlog 0\n"),
            "{metrics}"
        );

        let stats = st.decision_log.as_ref().unwrap().close().unwrap();
        assert_eq!((stats.written, stats.failed), (4, 0));
        let got = entries(&path);
        assert_eq!(got.len(), served.len(), "{got:?}");
        for (entry, (id, route, hook)) in got.iter().zip(&served) {
            let LogEntry::Decision(d) = entry else {
                panic!("not a decision: {entry:?}")
            };
            assert_eq!(&d.decision_id, id);
            assert_eq!(&d.source.route, route);
            assert_eq!(d.source.hook.as_deref(), *hook);
            let requester = d.requester.as_ref().unwrap();
            assert_eq!(requester.iss, ISS);
            assert_eq!(requester.tenant.as_deref(), Some("clinic"));
            assert_eq!(d.ruleset.id, "default");
            assert_eq!(d.ruleset.version, rs_version());
            if let Some(hook) = hook {
                assert_eq!(d.source.channel, Channel::CdsHooks);
                assert_eq!(
                    d.source.hook_instance.as_deref(),
                    Some(&*format!("hi-{hook}"))
                );
                let card = (*hook == "patient-view").then(|| id.clone());
                assert_eq!(d.card_uuid, card);
            } else {
                assert_eq!(d.source.channel, Channel::Api);
                assert_eq!(d.input["housing"], "unstable");
                assert_eq!(d.result.level, "iop");
                assert!(d.masked.is_empty());
            }
        }
        // Closed: a recommendation now is refused rather than served unlogged.
        let got = post(&app, "/v1/rulesets/default/decide", ANSWERS).await;
        assert_eq!(got.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(problem_code(&got), "decision_not_logged");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[tokio::test]
async fn feedback_is_recorded_against_its_card() {
    let dir = folder("feedback");
    let path = dir.join("d.jsonl");
    let (app, st) = logged_app(log_config(&path));
    let p = "/cds-services/default-patient-view";
    let got = post(&app, p, &cds_request("patient-view", &screening_qr())).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    let card = got.json()["cards"][0]["uuid"].as_str().unwrap().to_owned();

    let fpath = "/cds-services/default-patient-view/feedback";
    let body = json!({"feedback": [
        {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-12-05T10:00:00+01:00",
         "overrideReason": {"reason": {"system": "https://example.org/why", "code": "patient-preference", "display": "Patient preference"}, "userComment": "prefers evening groups"}},
        {"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-12-05T10:05:00Z", "acceptedSuggestions": [{"id": "s1"}]}
    ]});
    let got = post(&app, fpath, &body.to_string()).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json(), json!({}));
    conforms("/cds-services/{id}/feedback", "post", &got);

    // A reason without a code is refused, and nothing of that body is recorded.
    let bad = json!({"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-12-05T10:00:00Z", "overrideReason": {"reason": {"display": "no code"}}}]});
    let got = post(&app, fpath, &bad.to_string()).await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        got.json()["error"]["where"],
        "feedback[0].overrideReason.reason.code"
    );

    st.decision_log.as_ref().unwrap().close().unwrap();
    let got = entries(&path);
    assert_eq!(got.len(), 3, "{got:?}");
    let LogEntry::Feedback(over) = &got[1] else {
        panic!("{got:?}")
    };
    assert_eq!(over.card_uuid.as_deref(), Some(&*card));
    assert_eq!(over.decision_id.as_deref(), Some(&*card));
    assert_eq!(over.outcome, Outcome::Overridden);
    assert_eq!(
        over.outcome_timestamp.as_deref(),
        Some("2026-12-05T10:00:00+01:00")
    );
    let reason = over.override_reason.as_ref().unwrap();
    assert_eq!(reason.code, "patient-preference");
    assert_eq!(reason.system.as_deref(), Some("https://example.org/why"));
    assert_eq!(
        over.override_comment.as_deref(),
        Some("prefers evening groups")
    );
    assert_eq!(over.source.hook.as_deref(), Some("patient-view"));
    assert_eq!(over.requester.as_ref().unwrap().iss, ISS);
    let LogEntry::Feedback(acc) = &got[2] else {
        panic!("{got:?}")
    };
    assert_eq!(acc.outcome, Outcome::Accepted);
    assert!(acc.override_reason.is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn answers_are_masked_as_configured() {
    let dir = folder("mask");
    let path = dir.join("d.jsonl");
    std::fs::write(dir.join("salt"), "pepper\n").unwrap();
    let mut log = log_config(&path);
    log.fields.insert("housing".into(), FieldMask::Hash);
    log.fields.insert("harm_risk".into(), FieldMask::Drop);
    log.salt_file = Some(dir.join("salt"));
    let (app, st) = logged_app(log);
    let got = post(&app, "/v1/rulesets/default/decide", ANSWERS).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    st.decision_log.as_ref().unwrap().close().unwrap();
    let got = entries(&path);
    let LogEntry::Decision(d) = &got[0] else {
        panic!("{got:?}")
    };
    // sha256 of the salt without its line break, then the JSON text `"unstable"`.
    let masking = carelevel_decision_log::Masking {
        salt: b"pepper".to_vec(),
        ..Default::default()
    };
    assert_eq!(d.input["housing"], masking.hash(&json!("unstable")));
    assert!(d.input["housing"].as_str().unwrap().starts_with("sha256:"));
    assert!(d.input.get("harm_risk").is_none());
    assert_eq!(d.masked, vec!["housing", "harm_risk"]);
    assert_eq!(d.input["severity"], "moderate");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_masking_that_does_not_fit_a_ruleset_is_refused_at_start_and_on_reload() {
    let dir = folder("admit");
    let mut log = log_config(&dir.join("d.jsonl"));
    log.fields.insert("housng".into(), FieldMask::Drop);
    let mut c = config(false, Limits::default(), Vec::new());
    c.decision_log = Some(log.clone());
    let e = state(c).unwrap_err().to_string();
    assert!(e.contains("`housng`") && e.contains("decision log"), "{e}");

    // A served file whose reload drops the masked question is refused; the old
    // version keeps serving.
    let v1 = "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n  - {id: risk, kind: ordinal, question: Q, values: [none, some]}\nrules:\n  - {id: r, when: {risk: some}, level: high, because: B}\n";
    let file = dir.join("t.yaml");
    std::fs::write(&file, v1).unwrap();
    log.fields = [("risk".to_owned(), FieldMask::Drop)].into();
    let mut c = config(false, Limits::default(), Vec::new());
    c.rulesets = vec![RulesetSpec {
        id: None,
        origin: RulesetOrigin::File(file.clone()),
    }];
    c.decision_log = Some(log);
    let st = state(c).unwrap();
    std::fs::write(&file, v1.replace("risk", "danger").replace("'1'", "'2'")).unwrap();
    let report = st.registry.reload();
    assert!(report.reloaded.is_empty(), "{report:?}");
    assert!(
        report.refused[0]
            .message
            .contains("the decision log cannot record it"),
        "{report:?}"
    );
    assert_eq!(
        st.registry.get("t").unwrap().ruleset.metadata().version,
        "1"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_full_disk_turns_every_recommendation_into_a_503() {
    let (app, st) = logged_app(log_config(Path::new("/dev/full")));
    let got = post(&app, "/v1/rulesets/default/assess", ANSWERS).await;
    assert_eq!(got.status, StatusCode::SERVICE_UNAVAILABLE, "{}", got.text);
    assert_eq!(problem_code(&got), "decision_not_logged");
    assert!(got.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("disk is full"));
    assert!(!got.headers.contains_key("carelevel-decision-id"));
    conforms("/v1/rulesets/{id}/assess", "post", &got);
    let p = "/cds-services/default-patient-view";
    let got = post(&app, p, &cds_request("patient-view", &screening_qr())).await;
    assert_eq!(got.status, StatusCode::SERVICE_UNAVAILABLE, "{}", got.text);
    assert_eq!(problem_code(&got), "decision_not_logged");
    let metrics = call(&app, Method::GET, "/metrics", None, "").await.text;
    assert!(
        metrics.contains("carelevel_decision_log_records_total{result=\"failed\"} 2\n"),
        "{metrics}"
    );
    assert!(metrics.contains("carelevel_errors_total{code=\"decision_not_logged\"} 2\n"));
    let _ = st.decision_log.as_ref().unwrap().close();
}

/// A streamed response: status, headers, the body up to where it ended, and whether
/// it was aborted (a stream error after the last frame).
async fn stream(app: &Router, path: &str, body: &str) -> (Got, bool) {
    use futures_util::StreamExt;
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", token(path)))
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let mut frames = response.into_body().into_data_stream();
    let mut bytes = Vec::new();
    let mut aborted = false;
    while let Some(frame) = frames.next().await {
        match frame {
            Ok(b) => bytes.extend_from_slice(&b),
            Err(_) => {
                aborted = true;
                break;
            }
        }
    }
    let text = String::from_utf8(bytes).unwrap();
    (
        Got {
            status,
            headers,
            text,
        },
        aborted,
    )
}

#[tokio::test]
async fn every_batch_result_is_logged_before_it_is_sent() {
    let dir = folder("batch");
    let path = dir.join("d.sqlite");
    let (app, st) = logged_app(log_config(&path));
    let p = "/v1/rulesets/default/batch";
    let body = format!("{ANSWERS}\n{{\"nope\":1}}\n\n{ANSWERS}\n");
    let (got, aborted) = stream(&app, p, &body).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(!aborted);
    let batch = got.headers["carelevel-batch-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(is_uuid_v4(&batch), "{batch}");
    let lines: Vec<Value> = got
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", got.text);
    assert_eq!(
        (lines[0]["line"].as_u64(), lines[2]["line"].as_u64()),
        (Some(1), Some(4))
    );
    st.decision_log.as_ref().unwrap().close().unwrap();
    let ids: Vec<String> = entries(&path)
        .iter()
        .map(|e| match e {
            LogEntry::Decision(d) => {
                assert_eq!(d.source.route, "/v1/rulesets/{id}/batch");
                assert_eq!(d.requester.as_ref().unwrap().iss, ISS);
                assert_eq!(d.result.level, "iop");
                d.decision_id.clone()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    // The results of lines 1 and 4; the error record of line 2 is not a decision.
    assert_eq!(ids, vec![format!("{batch}-1"), format!("{batch}-4")]);

    // A log that cannot be written: no result line is sent, the batch ends with
    // `batch_stopped` and the response is aborted.
    let (app, st) = logged_app(log_config(Path::new("/dev/full")));
    let (got, aborted) = stream(&app, p, &body).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(aborted, "{}", got.text);
    let lines: Vec<Value> = got
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{}", got.text);
    assert_eq!(lines[0]["error"]["code"], "batch_stopped");
    assert!(
        lines[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disk is full"),
        "{}",
        got.text
    );
    let _ = st.decision_log.as_ref().unwrap().close();
    std::fs::remove_dir_all(&dir).unwrap();
}
