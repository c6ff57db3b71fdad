//! `carelevel serve` end to end on loopback: the real binary as a child on a free
//! port, called over HTTP/1.1 with ES384-signed bearer tokens; SIGHUP reloads a
//! changed ruleset in the middle of traffic (the version in the responses changes,
//! no request fails), a broken ruleset is refused and the old one keeps serving, and
//! SIGTERM drains and exits 0; the decision log then holds exactly one record per
//! 200 response, each with the decision id and ruleset version the response named.
//! `kill -9` in the middle of traffic loses no decision whose response was received.
//!
//! The client is a minimal HTTP/1.1 one over `std::net::TcpStream` (one request per
//! connection, `Connection: close`), which is all these checks need.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::util::{command, root};

const ISS: &str = "https://ehr.e2e.test";
const RULES: &str = "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n  - {id: risk, kind: ordinal, question: Q, values: [none, some]}\nrules:\n  - {id: r, when: {risk: some}, level: high, because: B}\n";

struct Server {
    child: Child,
    addr: String,
    stderr: Arc<std::sync::Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn start(args: &[&str]) -> Server {
    let mut child = command(&[&["serve"], args].concat())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(std::sync::Mutex::new(String::new()));
    let sink = stderr.clone();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("carelevel serve: listening on http://")
        .unwrap_or_else(|| panic!("no listening line: {line:?}"))
        .to_owned();
    Server {
        child,
        addr,
        stderr,
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token(public: &str, path: &str, n: u64) -> String {
    let key = jsonwebtoken::EncodingKey::from_ec_pem(
        &std::fs::read(root().join("crates/carelevel-server/tests/keys/es384-private.pem"))
            .unwrap(),
    )
    .unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
    header.kid = Some("test-es384".into());
    let t = now();
    let claims = json!({"iss": ISS, "aud": format!("{public}{path}"), "iat": t, "exp": t + 60, "jti": format!("e2e-{}-{n}-{t}", std::process::id())});
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

/// One request; returns status, headers (lowercase names) and body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let auth = bearer.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, headers, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

#[test]
fn serve_answers_with_jwt_reloads_on_sighup_and_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("t.yaml");
    std::fs::write(&rules, RULES).unwrap();
    let jwks = root().join("crates/carelevel-server/tests/keys/test-jwks.json");
    let log = dir.path().join("decisions.jsonl");
    let mut server = start(&[
        "--listen",
        "127.0.0.1:0",
        "--rules",
        rules.to_str().unwrap(),
        "--issuer",
        ISS,
        "--jwks",
        jwks.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
    ]);
    // Every 200 from a decide: (decision id, ruleset version) as the response said.
    let mut answered: Vec<(String, String)> = Vec::new();
    let addr = server.addr.clone();
    let public = format!("http://{addr}");
    let decide = "/v1/rulesets/t/decide";

    // Health needs no token; the API does.
    assert_eq!(http(&addr, "GET", "/healthz", None, "").0, 200);
    let (status, headers, body) = http(&addr, "POST", decide, None, r#"{"risk":"some"}"#);
    assert_eq!(status, 401, "{body}");
    assert!(headers.iter().any(|(k, _)| k == "www-authenticate"));
    let (status, headers, body) = http(
        &addr,
        "POST",
        decide,
        Some(&token(&public, decide, 0)),
        r#"{"risk":"some"}"#,
    );
    assert_eq!(status, 200, "{body}");
    answered.push(decision_of(&headers));
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["level"].as_str(), v["ruleset"]["version"].as_str()),
        (Some("high"), Some("1"))
    );
    // A token for another URL is refused.
    let (status, _, _) = http(
        &addr,
        "POST",
        decide,
        Some(&token(&public, "/v1/rulesets/t/assess", 1)),
        "{}",
    );
    assert_eq!(status, 401);

    // Traffic in the background while the ruleset changes under it.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (addr, public, stop) = (addr.clone(), public.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut versions = Vec::new();
            let mut answered = Vec::new();
            let started = Instant::now();
            let mut n = 100;
            while !stop.load(Ordering::Relaxed)
                && n < 2100
                && started.elapsed() < Duration::from_secs(60)
            {
                let (status, headers, body) = http(
                    &addr,
                    "POST",
                    decide,
                    Some(&token(&public, decide, n)),
                    r#"{"risk":"none"}"#,
                );
                assert_eq!(status, 200, "{body}");
                answered.push(decision_of(&headers));
                let v: Value = serde_json::from_str(&body).unwrap();
                versions.push(v["ruleset"]["version"].as_str().unwrap().to_owned());
                n += 1;
            }
            (versions, answered)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&rules, RULES.replace("'1'", "'2'")).unwrap();
    signal(&server.child, "HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut k = 5000;
    loop {
        k += 1;
        let (status, headers, body) = http(
            &addr,
            "POST",
            decide,
            Some(&token(&public, decide, k)),
            r#"{"risk":"none"}"#,
        );
        assert_eq!(status, 200, "{body}");
        answered.push(decision_of(&headers));
        if headers
            .iter()
            .any(|(k, v)| k == "carelevel-ruleset-version" && v == "2")
        {
            break;
        }
        assert!(Instant::now() < deadline, "the reload never showed");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (versions, in_traffic) = traffic.join().unwrap();
    answered.extend(in_traffic);
    assert!(versions.first().is_some_and(|v| v == "1"), "{versions:?}");
    assert!(versions.last().is_some_and(|v| v == "2"), "{versions:?}");
    // Once version 2 answered, version 1 never answers again.
    let first_two = versions.iter().position(|v| v == "2").unwrap();
    assert!(
        versions[first_two..].iter().all(|v| v == "2"),
        "{versions:?}"
    );

    // A broken ruleset is refused; version 2 keeps serving.
    std::fs::write(&rules, "id: t\nlevels: [").unwrap();
    signal(&server.child, "HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.stderr.lock().unwrap().contains("RELOAD REFUSED") {
        assert!(
            Instant::now() < deadline,
            "no refusal logged: {}",
            server.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, headers, _) = http(
        &addr,
        "POST",
        decide,
        Some(&token(&public, decide, 9000)),
        r#"{"risk":"none"}"#,
    );
    assert_eq!(status, 200);
    answered.push(decision_of(&headers));
    assert!(headers
        .iter()
        .any(|(k, v)| k == "carelevel-ruleset-version" && v == "2"));

    // SIGTERM: drain and exit 0.
    signal(&server.child, "TERM");
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0), "{}", server.stderr.lock().unwrap());
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        server.stderr.lock().unwrap().contains("drained"),
        "{}",
        server.stderr.lock().unwrap()
    );
    let stderr = server.stderr.lock().unwrap().clone();
    assert!(
        stderr.contains(&format!(
            "decision log closed: {} records written, 0 failed",
            answered.len()
        )),
        "{stderr}"
    );

    // Exactly one record per 200, in any order, with the version that answered.
    let mut logged = logged_decisions(&log);
    logged.sort();
    answered.sort();
    assert_eq!(logged.len(), answered.len());
    assert_eq!(logged, answered);
}

/// The decision id and ruleset version headers of a 200.
fn decision_of(headers: &[(String, String)]) -> (String, String) {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} header: {headers:?}"))
    };
    (
        get("carelevel-decision-id"),
        get("carelevel-ruleset-version"),
    )
}

/// Every decision record in the log as (decision id, ruleset version); any entry
/// that does not read is a failure.
fn logged_decisions(log: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    carelevel_decision_log::read_log(log, &carelevel_decision_log::Filter::default(), &mut |e| {
        match e.unwrap().entry {
            carelevel_decision_log::LogEntry::Decision(d) => {
                out.push((d.decision_id, d.ruleset.version));
            }
            other => panic!("not a decision: {other:?}"),
        }
        true
    })
    .unwrap();
    out
}

#[test]
fn kill_9_under_load_loses_no_decision_whose_response_was_received() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("t.yaml");
    std::fs::write(&rules, RULES).unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut server = start(&[
        "--listen",
        "127.0.0.1:0",
        "--rules",
        rules.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
    ]);
    let addr = server.addr.clone();
    let decide = "/v1/rulesets/t/decide";
    // Four clients until the server is gone; each keeps the decisions it got.
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let started = Instant::now();
                while started.elapsed() < Duration::from_secs(30) {
                    let Some((status, headers)) = try_http(&addr, decide, r#"{"risk":"some"}"#)
                    else {
                        break;
                    };
                    assert_eq!(status, 200);
                    got.push(decision_of(&headers));
                }
                got
            })
        })
        .collect();
    // Let traffic run, then kill without warning.
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(&log).map_or(0, |m| m.len()) < 64 * 1024 {
        assert!(Instant::now() < deadline, "no traffic reached the log");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&server.child, "KILL");
    let _ = server.child.wait();
    let mut answered: Vec<(String, String)> = Vec::new();
    for c in clients {
        answered.extend(c.join().unwrap());
    }
    assert!(
        answered.len() > 50,
        "too little traffic: {}",
        answered.len()
    );
    let logged: std::collections::BTreeSet<(String, String)> =
        logged_decisions(&log).into_iter().collect();
    let lost: Vec<_> = answered.iter().filter(|d| !logged.contains(*d)).collect();
    assert!(
        lost.is_empty(),
        "{} answered but not logged: {lost:?}",
        lost.len()
    );
}

/// One request, or `None` once the server is gone (refused, reset, or cut off
/// before a whole response).
fn try_http(addr: &str, path: &str, body: &str) -> Option<(u16, Vec<(String, String)>)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    // A response counts as received only when its whole body arrived.
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())?;
    (rest.len() == length).then_some((status, headers))
}

#[test]
fn serve_refuses_a_public_address_without_auth() {
    let out = command(&["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("requires auth"), "{stderr}");
}

/// A client that never finishes its request head is cut off after
/// `limits.header_timeout_ms`, while other clients are served meanwhile; the
/// configuration comes from a file.
#[test]
fn serve_cuts_off_a_slow_loris_and_serves_others() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\n[limits]\nheader_timeout_ms = 300\n",
    )
    .unwrap();
    let server = start(&["--config", config.to_str().unwrap()]);
    let addr = server.addr.clone();
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (status, _, body) = http(&addr, "GET", "/v1/rulesets", None, "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"default\""), "{body}");
    let mut rest = Vec::new();
    // The server closes the connection (hyper may first answer 408); were it left
    // open, the read would time out (20 s) and fail the test.
    slow.read_to_end(&mut rest).unwrap();
    let text = String::from_utf8_lossy(&rest);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    assert!(server.stderr.lock().unwrap().contains("AUTH IS OFF"));
}
