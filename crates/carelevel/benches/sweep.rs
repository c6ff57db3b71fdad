//! Load and level-only evaluation over generated rulesets of 10 to 10,000 rules and
//! 4 to 30 questions (issue 13 part 2, "no cliffs"): both should stay flat.
//!
//! `cargo bench -p carelevel --bench sweep`. Targets (2-core machine): load <= 1 s,
//! level only (complete typed answers) <= 100 ns, whatever the shape. The rulesets
//! are generated here from a fixed seed, not committed. The evaluation form each
//! shape got (table, diagram, rule walk) is printed once per shape. Numbers go in
//! README.md ("Performance"). `check` on each shape is measured too, and its outcome
//! (the method, or the refusal) printed once per shape.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    missing_docs,
    reason = "benchmark code"
)]

use carelevel::{Answers, FactorKind, Ruleset, Value};
use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

#[path = "support/sweep_shape.rs"]
mod sweep_shape;

use sweep_shape::{generate, Rng, Shape, SHAPES};

/// 256 random complete answer sets for `rs`.
fn answer_pool<'r>(rs: &'r Ruleset, seed: u64) -> Vec<Answers<'r>> {
    let mut rng = Rng(seed | 1);
    (0..256)
        .map(|_| {
            let mut a = rs.new_answers();
            for f in rs.factors() {
                let v = match &f.kind {
                    FactorKind::Ordinal { values } => {
                        Value::Text(values[rng.below(values.len())].clone())
                    }
                    FactorKind::Boolean => Value::Boolean(rng.below(2) == 0),
                    FactorKind::Integer { min, max, .. } => {
                        Value::Integer(min + rng.below((max - min + 1) as usize) as i64)
                    }
                };
                a.set(&f.id, v).unwrap();
            }
            a
        })
        .collect()
}

/// Load: parse, check and compile (the level diagram and table included).
#[divan::bench(args = SHAPES, sample_count = 5, sample_size = 1)]
fn load(b: Bencher<'_, '_>, shape: Shape) {
    let text = generate(shape);
    let rs = Ruleset::from_yaml(&text).unwrap();
    eprintln!(
        "{shape}: {} bytes, evaluated by {:?}",
        text.len(),
        rs.level_evaluation()
    );
    b.bench(|| Ruleset::from_yaml(black_box(&text)).unwrap());
}

/// `check` (on decision diagrams, issue 13 part 3): the report or the refusal, as it
/// comes; which one, with the counts or the message, is printed once per shape.
#[divan::bench(args = SHAPES, sample_count = 3, sample_size = 1)]
fn check(b: Bencher<'_, '_>, shape: Shape) {
    let rs = Ruleset::from_yaml(&generate(shape)).unwrap();
    match carelevel::analysis::check(&rs, false) {
        Ok(r) => eprintln!(
            "{shape}: checked by {:?}: {} classes, {} combinations, {} findings",
            r.method,
            r.classes,
            r.combinations,
            r.findings.len()
        ),
        Err(e) => eprintln!("{shape}: refused: {e}"),
    }
    b.bench(|| carelevel::analysis::check(black_box(&rs), false).is_ok());
}

/// The next of `len` inputs, cycling, without a division.
#[inline]
fn next(i: usize, len: usize) -> usize {
    if i + 1 >= len {
        0
    } else {
        i + 1
    }
}

/// Level only, complete typed answers (`level_for`), cycling through 256 answer sets.
#[divan::bench(args = SHAPES)]
fn level_only(b: Bencher<'_, '_>, shape: Shape) {
    let rs = Ruleset::from_yaml(&generate(shape)).unwrap();
    let answers = answer_pool(&rs, 0x2545_f491_4f6c_dd1d);
    let mut i = 0usize;
    b.bench_local(|| {
        i = next(i, answers.len());
        rs.level_for(black_box(&answers[i])).unwrap()
    });
}

/// Same-run baseline: the default ruleset's level only on 256 random answer sets.
#[divan::bench]
fn level_only_default(b: Bencher<'_, '_>) {
    let rs = Ruleset::default_ruleset().unwrap();
    let answers = answer_pool(&rs, 0x2545_f491_4f6c_dd1d);
    let mut i = 0usize;
    b.bench_local(|| {
        i = next(i, answers.len());
        rs.level_for(black_box(&answers[i])).unwrap()
    });
}
