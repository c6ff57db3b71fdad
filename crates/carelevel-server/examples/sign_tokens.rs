//! Print `N` bearer tokens, one per line, for the load benchmark
//! (`crates/carelevel-server/bench/load.sh`): ES384-signed with the **test** key of
//! `tests/keys` (kid `test-es384`; its private key is public: never trust it outside
//! tests and benchmarks), each with its own `jti`, for issuer `ISS` and audience `AUD`
//! (the exact URL that will be called).
//!
//! Usage: `cargo run --release --example sign_tokens -- ISS AUD N`

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "sign_tokens: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [iss, aud, n] = args.as_slice() else {
        return Err("usage: sign_tokens ISS AUD N".to_owned());
    };
    let n: u64 = n.parse().map_err(|e| format!("N: {e}"))?;
    let pem = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/es384-private.pem"),
    )
    .map_err(|e| format!("the test key: {e}"))?;
    let key = jsonwebtoken::EncodingKey::from_ec_pem(&pem).map_err(|e| e.to_string())?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
    header.kid = Some("test-es384".to_owned());
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?;
    let now = since.as_secs();
    // Unique across runs, also two in the same second.
    let run = since.as_nanos();
    let mut out = BufWriter::new(io::stdout().lock());
    for i in 0..n {
        let claims = serde_json::json!({
            "iss": iss, "aud": aud, "iat": now, "exp": now + 290,
            "jti": format!("load-{run}-{i}"), "sub": "load",
        });
        let token = jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())?;
        writeln!(out, "{token}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}
