//! Evaluation speed on the bundled default ruleset.
//!
//! `cargo bench -p carelevel --bench evaluate`. Targets (2-core machine): fast path
//! (level only) <= 25 ns, full `Assessment` <= 1 µs. Numbers go in README.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark code"
)]

use carelevel::{Answers, Ruleset};
use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

/// A spread of complete answer sets: every combination of a few representative answers.
fn sample(rs: &Ruleset) -> Vec<Answers<'_>> {
    let severities = ["none", "mild", "moderate", "severe"];
    let withdrawal = ["none", "low", "moderate", "high"];
    let housing = ["stable", "unstable", "homeless"];
    let support = ["strong", "limited", "none"];
    let mut out = Vec::new();
    for (i, s) in severities.iter().enumerate() {
        for (j, w) in withdrawal.iter().enumerate() {
            for h in housing {
                for sp in support {
                    let mut a = rs.new_answers();
                    a.set("severity", *s).unwrap();
                    a.set("withdrawal_risk", *w).unwrap();
                    a.set(
                        "medical",
                        if (i + j) % 5 == 4 { "unstable" } else { "none" },
                    )
                    .unwrap();
                    a.set("housing", h).unwrap();
                    a.set("support", sp).unwrap();
                    a.set("harm_risk", ["none", "low", "moderate"][(i + j) % 3])
                        .unwrap();
                    a.set(
                        "mental_health",
                        ["none", "mild", "moderate", "severe"][j % 4],
                    )
                    .unwrap();
                    a.set("readiness", "ambivalent").unwrap();
                    out.push(a);
                }
            }
        }
    }
    out
}

#[divan::bench]
fn compile_default(b: Bencher<'_, '_>) {
    b.bench(|| Ruleset::from_yaml(black_box(carelevel::DEFAULT_RULESET)).unwrap());
}

/// Fast path: the level only, complete answers. Per call, cycling through 144 answer sets.
#[divan::bench]
fn level_only(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    let answers = sample(&rs);
    let mut i = 0usize;
    b.bench_local(|| {
        i = (i + 1) % answers.len();
        rs.level_for(black_box(&answers[i])).unwrap()
    });
}

/// Full explained assessment, complete answers.
#[divan::bench]
fn full_assessment(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    let answers = sample(&rs);
    let mut i = 0usize;
    b.bench_local(|| {
        i = (i + 1) % answers.len();
        rs.assess(black_box(&answers[i])).unwrap()
    });
}

/// Full assessment with two questions unanswered (exact range over their values).
#[divan::bench]
fn full_assessment_two_missing(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    let mut answers = sample(&rs);
    for a in &mut answers {
        a.clear("harm_risk").unwrap();
        a.clear("housing").unwrap();
    }
    let mut i = 0usize;
    b.bench_local(|| {
        i = (i + 1) % answers.len();
        rs.assess(black_box(&answers[i])).unwrap()
    });
}
