//! A small service-style embedding: compile the rules once, then answer one request
//! per line of stdin with one JSON response per line of stdout, through the
//! JSON-in/JSON-out entry point. A bad request gets an error response; it never stops
//! the service.
//!
//! Run: `printf '{"severity":"mild"}\n' | cargo run -p carelevel --example service [RULES.yaml]`
#![allow(
    clippy::print_stderr,
    reason = "an example reports a startup failure on stderr"
)]

use std::io::{self, BufRead, BufWriter, Write};

use carelevel::Ruleset;

/// Answer every request line from `input` on `output`, in order.
fn serve(rules: &Ruleset, input: impl BufRead, mut output: impl Write) -> io::Result<usize> {
    let mut served = 0;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        writeln!(output, "{}", carelevel::json::assess_json(rules, &line))?;
        served += 1;
    }
    output.flush()?;
    Ok(served)
}

fn main() -> std::process::ExitCode {
    let rules = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {path}: {e}"))
            .and_then(|text| Ruleset::from_yaml(&text).map_err(|e| format!("{path}:\n{e}"))),
        None => Ruleset::default_ruleset().map_err(|e| e.to_string()),
    };
    let rules = match rules {
        Ok(r) => r,
        Err(e) => {
            eprintln!("service: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let stdin = io::stdin();
    let stdout = io::stdout();
    match serve(&rules, stdin.lock(), BufWriter::new(stdout.lock())) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("service: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_response_per_request_in_order_and_bad_requests_do_not_stop_it() {
        let rules = Ruleset::default_ruleset().unwrap();
        let input = concat!(
            r#"{"severity":"mild","withdrawal_risk":"none","medical":"none","housing":"stable","support":"strong","harm_risk":"none","mental_health":"none"}"#,
            "\n\nnot json\n",
            r#"{"harm_risk":"imminent"}"#,
            "\n"
        );
        let mut out = Vec::new();
        assert_eq!(serve(&rules, input.as_bytes(), &mut out).unwrap(), 3);
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["assessment"]["level"]["id"], "outpatient");
        assert_eq!(lines[1]["ok"], false);
        assert_eq!(lines[1]["error"]["kind"], "answers");
        assert_eq!(lines[2]["assessment"]["refer"], true);
        assert_eq!(lines[2]["assessment"]["needs_review"], true);
    }
}
