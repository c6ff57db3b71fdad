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

/// The next of `len` inputs, cycling; a compare, not a division (a `%` by a length
/// known only at run time costs about as much as the fast path measured here).
#[inline]
fn next(i: usize, len: usize) -> usize {
    if i + 1 >= len {
        0
    } else {
        i + 1
    }
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
        i = next(i, answers.len());
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
        i = next(i, answers.len());
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
        i = next(i, answers.len());
        rs.assess(black_box(&answers[i])).unwrap()
    });
}

/// Nine answers as strings, as a caller holding text has them (one record of the
/// example corpus per call, cycling).
fn string_records() -> Vec<Vec<(&'static str, &'static str)>> {
    let severities = ["none", "mild", "moderate", "severe"];
    let withdrawal = ["none", "low", "moderate", "high"];
    let housing = ["stable", "unstable", "homeless"];
    let mut out = Vec::new();
    for (i, s) in severities.iter().enumerate() {
        for (j, w) in withdrawal.iter().enumerate() {
            for h in housing {
                out.push(vec![
                    ("severity", *s),
                    ("withdrawal_risk", *w),
                    (
                        "medical",
                        if (i + j) % 5 == 4 { "unstable" } else { "none" },
                    ),
                    ("housing", h),
                    ("support", ["strong", "limited", "none"][(i + j) % 3]),
                    ("harm_risk", ["none", "low", "moderate"][(i + j) % 3]),
                    (
                        "mental_health",
                        ["none", "mild", "moderate", "severe"][j % 4],
                    ),
                    ("readiness", "ambivalent"),
                    ("step_down_from_inpatient", ["true", "false"][i % 2]),
                ]);
            }
        }
    }
    out
}

/// Target <= 60 ns: nine answers from strings into a reused `Answers`, then the level.
#[divan::bench]
fn strings_to_level(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    let records = string_records();
    let mut answers = rs.new_answers();
    let mut i = 0usize;
    b.bench_local(|| {
        i = next(i, records.len());
        answers.reset();
        for (k, v) in black_box(&records[i]) {
            answers.set_text(k, v).unwrap();
        }
        rs.level_for(&answers).unwrap()
    });
}

/// Nine answers from strings, then level, refer and every fired flag as a bitset
/// (`triage`: one pass over the flags).
#[divan::bench]
fn strings_to_triage(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    let records = string_records();
    let mut answers = rs.new_answers();
    let mut i = 0usize;
    b.bench_local(|| {
        i = next(i, records.len());
        answers.reset();
        for (k, v) in black_box(&records[i]) {
            answers.set_text(k, v).unwrap();
        }
        rs.triage(&answers).unwrap()
    });
}

/// Target <= 80 ns: nine answers from strings, then the level and `refer`
/// (`level_and_refer`: one lookup in the level table, which holds both).
#[divan::bench]
fn strings_to_level_and_refer(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    let records = string_records();
    let mut answers = rs.new_answers();
    let mut i = 0usize;
    b.bench_local(|| {
        i = next(i, records.len());
        answers.reset();
        for (k, v) in black_box(&records[i]) {
            answers.set_text(k, v).unwrap();
        }
        rs.level_and_refer(&answers).unwrap()
    });
}

/// Same-run comparison: a new `Answers` per record (two allocations) instead of `reset`.
#[divan::bench]
fn strings_to_level_new_answers(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    let records = string_records();
    let mut i = 0usize;
    b.bench_local(|| {
        i = next(i, records.len());
        let mut answers = rs.new_answers();
        for (k, v) in black_box(&records[i]) {
            answers.set_text(k, v).unwrap();
        }
        rs.level_for(&answers).unwrap()
    });
}

/// The example corpus's records with every question answered or assumed (36 of 40).
fn json_records(rs: &Ruleset) -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/cases/people.jsonl"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| {
            let (a, _) = rs.answers_from_json_record(line, Some("id")).unwrap();
            rs.factors()
                .iter()
                .all(|f| a.is_answered(&f.id) || f.assumed_value().is_some())
        })
        .map(str::to_owned)
        .collect()
}

/// Target <= 400 ns: one JSON record (example corpus, cycling) to the compact
/// decision, reusing the answers, id and decision.
#[divan::bench]
fn json_record_to_decision(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    let records = json_records(&rs);
    let mut answers = rs.new_answers();
    let mut id = None;
    let mut decision = carelevel::Decision::empty();
    let mut i = 0usize;
    b.bench_local(|| {
        i = next(i, records.len());
        answers
            .read_json_record(black_box(&records[i]), Some("id"), &mut id)
            .unwrap();
        rs.decide_into(&answers, &mut decision).unwrap();
        decision.refer
    });
}

/// Same-run baseline: `answers_from_json_record` and `decide` (new values per record).
#[divan::bench]
fn json_record_to_decision_owned(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    let records = json_records(&rs);
    let mut i = 0usize;
    b.bench_local(|| {
        i = next(i, records.len());
        let (answers, _) = rs
            .answers_from_json_record(black_box(&records[i]), Some("id"))
            .unwrap();
        rs.decide(&answers).unwrap().refer
    });
}
