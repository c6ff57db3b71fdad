//! Deterministic synthetic input for benchmarking and testing `carelevel batch`.
//!
//! ```sh
//! cargo run --release -p carelevel-cli --example batch_input -- \
//!     --records 5000000 --format jsonl > /tmp/people.jsonl
//! ```
//!
//! Records answer every question of the ruleset (bundled default, or `--rules FILE`)
//! with values drawn by a fixed pseudo-random generator (`--seed`): about 90% are
//! complete, 8% leave one question unanswered and 2% leave two. One record in
//! `--bad-every` (default 1000) is bad, cycling through malformed JSON, an unknown
//! question and an answer outside the scale (CSV: a wrong field count instead of
//! malformed JSON). The same arguments always give the same bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout,
    missing_docs,
    reason = "a benchmark data generator"
)]

use std::io::{self, BufWriter, Write};

use carelevel::{FactorKind, Ruleset};

/// SplitMix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One answer as text, or `None` for unanswered.
fn answer(kind: &FactorKind, rng: &mut Rng) -> String {
    match kind {
        FactorKind::Ordinal { values } => values[rng.below(values.len() as u64) as usize].clone(),
        FactorKind::Integer { min, max, .. } => {
            let span = (max - min) as u64 + 1;
            (min + rng.below(span) as i64).to_string()
        }
        FactorKind::Boolean => (rng.below(2) == 0).to_string(),
    }
}

/// An answer outside the factor's scale, as a JSON literal.
fn out_of_scale(kind: &FactorKind) -> String {
    match kind {
        FactorKind::Ordinal { .. } => "\"extreme\"".to_owned(),
        FactorKind::Integer { max, .. } => (max + 1).to_string(),
        FactorKind::Boolean => "\"maybe\"".to_owned(),
    }
}

fn main() {
    let mut records: u64 = 100_000;
    let mut csv = false;
    let mut bad_every: u64 = 1000;
    let mut seed: u64 = 1;
    let mut rules: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the option");
        match arg.as_str() {
            "--records" => records = value().parse().expect("--records N"),
            "--format" => csv = value() == "csv",
            "--bad-every" => bad_every = value().parse().expect("--bad-every N (0: none)"),
            "--seed" => seed = value().parse().expect("--seed N"),
            "--rules" => rules = Some(value()),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let ruleset = match rules {
        Some(path) => Ruleset::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap(),
        None => Ruleset::default_ruleset().unwrap(),
    };
    let factors = ruleset.factors();
    let mut rng = Rng(seed);
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    if csv {
        let names: Vec<&str> = factors.iter().map(|f| f.id.as_str()).collect();
        writeln!(out, "id,{}", names.join(",")).unwrap();
    }
    let mut values: Vec<Option<String>> = Vec::with_capacity(factors.len());
    for i in 1..=records {
        values.clear();
        values.extend(factors.iter().map(|f| Some(answer(&f.kind, &mut rng))));
        let roll = rng.below(100);
        let missing = if roll < 2 { 2 } else { u64::from(roll < 10) };
        for _ in 0..missing {
            let k = rng.below(values.len() as u64) as usize;
            values[k] = None;
        }
        let bad = if bad_every > 0 && i % bad_every == 0 {
            Some((i / bad_every) % 3)
        } else {
            None
        };
        let id = format!("p{i:08}");
        if csv {
            if bad == Some(2) {
                values[0] = Some(out_of_scale(&factors[0].kind).trim_matches('"').to_owned());
            }
            let mut cells: Vec<&str> = values.iter().map(|v| v.as_deref().unwrap_or("")).collect();
            match bad {
                Some(0) => cells.push("surplus"),
                Some(1) => {
                    cells.pop();
                }
                _ => {}
            }
            writeln!(out, "{id},{}", cells.join(",")).unwrap();
        } else {
            write!(out, "{{\"id\":\"{id}\"").unwrap();
            for (k, (f, v)) in factors.iter().zip(&values).enumerate() {
                match (v, &f.kind) {
                    _ if k == 0 && bad == Some(2) => {
                        write!(out, ",\"{}\":{}", f.id, out_of_scale(&f.kind)).unwrap();
                    }
                    (None, _) => {}
                    (Some(v), FactorKind::Ordinal { .. }) => {
                        write!(out, ",\"{}\":\"{v}\"", f.id).unwrap();
                    }
                    (Some(v), _) => write!(out, ",\"{}\":{v}", f.id).unwrap(),
                }
            }
            match bad {
                // Malformed JSON: a value missing and the object not closed.
                Some(0) => writeln!(out, ",\"{}\":", factors[0].id).unwrap(),
                // An unknown question.
                Some(1) => writeln!(out, ",\"not_a_question\":1}}").unwrap(),
                _ => writeln!(out, "}}").unwrap(),
            }
        }
    }
    out.flush().unwrap();
}
