//! Whole-space analysis speed: `cargo bench -p carelevel --bench analysis`.
//!
//! Target (2-core machine, both cores used): exhaustive check and diff well under
//! one second for spaces up to a few million classes; `check` of a ruleset of the
//! default's shape with 30 questions of 5 answers (5^30, about 9.3e20 classes, on
//! decision diagrams) under one second (`check_30x5`); a `check` whose diagrams
//! outgrow their budget refused in under ten seconds (`check_refused`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark code"
)]

#[path = "support/default_shape.rs"]
mod default_shape;

use carelevel::analysis::{check, diff, AnalysisError};
use carelevel::Ruleset;
use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

/// A synthetic ruleset: 8 ordinal factors of 6 values = 1,679,616 complete classes,
/// with rules pairing factors, and a variant with thresholds moved.
fn synthetic(shift: usize) -> Ruleset {
    let mut text = String::from("id: synthetic\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n");
    for l in ["l0", "l1", "l2", "l3"] {
        text.push_str(&format!("  - {{id: {l}, label: {l}, description: d}}\n"));
    }
    text.push_str("factors:\n");
    for f in 0..8 {
        text.push_str(&format!(
            "  - {{id: f{f}, kind: ordinal, question: Q, values: [v0, v1, v2, v3, v4, v5]}}\n"
        ));
    }
    text.push_str("rules:\n");
    for f in 0..8 {
        let g = (f + 1) % 8;
        let t = (2 + (f + shift) % 3).min(5);
        text.push_str(&format!(
            "  - {{id: r{f}a, when: {{f{f}: {{at_least: v{t}}}}}, level: l1, because: B}}\n"
        ));
        text.push_str(&format!(
            "  - {{id: r{f}b, when: {{all: [{{f{f}: {{at_least: v{}}}}}, {{f{g}: {{at_least: v3}}}}]}}, level: l2, because: B}}\n",
            (t + 1).min(5)
        ));
        text.push_str(&format!(
            "  - {{id: r{f}c, when: {{all: [{{f{f}: v5}}, {{any: [{{f{g}: v5}}, {{f{}: {{at_least: v4}}}}]}}]}}, level: l3, because: B}}\n",
            (f + 2) % 8
        ));
    }
    text.push_str(
        "flags:\n  - {id: x, kind: refer, when: {all: [{f0: v5}, {f1: v5}]}, message: M}\n",
    );
    Ruleset::from_yaml(&text).unwrap()
}

#[divan::bench(sample_count = 10)]
fn check_default(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    b.bench(|| check(black_box(&rs), false).unwrap());
}

/// Default ruleset against a copy with one threshold moved; 460,800 classes
/// including unanswered questions.
#[divan::bench(sample_count = 10)]
fn diff_default(b: Bencher<'_, '_>) {
    let old = Ruleset::default_ruleset().unwrap();
    let new = Ruleset::from_yaml(&carelevel::DEFAULT_RULESET.replace(
        "when: {withdrawal_risk: {at_least: high}}",
        "when: {withdrawal_risk: {at_least: moderate}}",
    ))
    .unwrap();
    b.bench(|| diff(black_box(&old), black_box(&new)).unwrap());
}

#[divan::bench(sample_count = 5)]
fn check_1_7m_classes(b: Bencher<'_, '_>) {
    let rs = synthetic(0);
    b.bench(|| check(black_box(&rs), false).unwrap());
}

#[divan::bench(sample_count = 5)]
fn diff_1_7m_classes(b: Bencher<'_, '_>) {
    let (old, new) = (synthetic(0), synthetic(1));
    b.bench(|| diff(black_box(&old), black_box(&new)).unwrap());
}

/// 30 ordinal questions of 5 answers in the default's shape: 5^30 classes, checked
/// on decision diagrams.
#[divan::bench(sample_count = 10)]
fn check_30x5(b: Bencher<'_, '_>) {
    let rs = Ruleset::from_yaml(&default_shape::default_shape(30, 5)).unwrap();
    b.bench(|| check(black_box(&rs), false).unwrap());
}

/// 2^80 classes under 60 rules, each a random 3-CNF of 12 clauses: the diagrams
/// outgrow `MAX_CHECK_DIAGRAM_WORK` and, with far too many classes to enumerate,
/// `check` refuses.
#[divan::bench(sample_count = 3)]
fn check_refused(b: Bencher<'_, '_>) {
    let rs = Ruleset::from_yaml(&cnf(80, 60, 12)).unwrap();
    b.bench(|| {
        let e = check(black_box(&rs), false).unwrap_err();
        assert!(matches!(e, AnalysisError::DiagramTooLarge { .. }), "{e}");
    });
}

/// `booleans` questions and `rules` rules, each a 3-CNF of `clauses` clauses drawn
/// by a fixed xorshift sequence.
fn cnf(booleans: usize, rules: usize, clauses: usize) -> String {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut below = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut text = String::from(
        "id: cnf\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: L, description: d}\n  - {id: high, label: H, description: d}\nfactors:\n",
    );
    for f in 0..booleans {
        text.push_str(&format!("  - {{id: b{f}, kind: boolean, question: q}}\n"));
    }
    text.push_str("rules:\n");
    for r in 0..rules {
        let cnf: Vec<String> = (0..clauses)
            .map(|_| {
                let lits: Vec<String> = (0..3)
                    .map(|_| format!("{{b{}: {}}}", below(booleans), below(2) == 0))
                    .collect();
                format!("{{any: [{}]}}", lits.join(", "))
            })
            .collect();
        text.push_str(&format!(
            "  - {{id: r{r}, level: high, because: b, when: {{all: [{}]}}}}\n",
            cnf.join(", ")
        ));
    }
    text
}
