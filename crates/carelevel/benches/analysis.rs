//! Whole-space analysis speed: `cargo bench -p carelevel --bench analysis`.
//!
//! Target (2-core machine, both cores used): exhaustive check and diff well under
//! one second for spaces up to a few million classes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark code"
)]

use carelevel::analysis::{check, diff};
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
