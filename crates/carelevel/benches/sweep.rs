//! Load and level-only evaluation over generated rulesets of 10 to 10,000 rules and
//! 4 to 30 questions (issue 13 part 2, "no cliffs"): both should stay flat.
//!
//! `cargo bench -p carelevel --bench sweep`. Targets (2-core machine): load <= 1 s,
//! level only (complete typed answers) <= 100 ns, whatever the shape. The rulesets
//! are generated here from a fixed seed, not committed. The evaluation form each
//! shape got (table, diagram, rule walk) is printed once per shape. Numbers go in
//! README.md ("Performance").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    missing_docs,
    reason = "benchmark code"
)]

use std::fmt;
use std::fmt::Write as _;

use carelevel::{Answers, FactorKind, Ruleset, Value};
use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

/// A generated ruleset's size.
#[derive(Debug, Clone, Copy)]
struct Shape {
    rules: usize,
    questions: usize,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}r_{}q", self.rules, self.questions)
    }
}

const fn s(rules: usize, questions: usize) -> Shape {
    Shape { rules, questions }
}

/// Every shape of the sweep. 10,000 rules is the limit for rules and flags together,
/// so that shape has 9,990 rules and 10 flags (the shape of the issue).
const SHAPES: [Shape; 12] = [
    s(10, 4),
    s(10, 12),
    s(10, 30),
    s(100, 4),
    s(100, 12),
    s(100, 30),
    s(1_000, 4),
    s(1_000, 12),
    s(1_000, 30),
    s(10_000, 4),
    s(10_000, 12),
    s(10_000, 30),
];

/// A deterministic pseudo-random sequence (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// One comparison on question `f`: questions cycle ordinal (5 values), boolean,
/// integer 0..=100.
fn comparison(rng: &mut Rng, f: usize) -> String {
    match f % 3 {
        0 => match rng.below(3) {
            0 => format!("{{q{f}: {{at_least: v{}}}}}", 1 + rng.below(4)),
            1 => format!("{{q{f}: {{at_most: v{}}}}}", rng.below(4)),
            _ => format!("{{q{f}: v{}}}", rng.below(5)),
        },
        1 => format!("{{q{f}: {}}}", rng.below(2) == 0),
        _ => match rng.below(2) {
            0 => format!("{{q{f}: {{at_least: {}}}}}", 10 * (1 + rng.below(9))),
            _ => format!("{{q{f}: {{below: {}}}}}", 10 * (1 + rng.below(9))),
        },
    }
}

/// A condition of 2 to 4 comparisons on distinct questions (so never dead): an
/// `all`, or one time in four an `any` of an `all` and a comparison.
fn condition(rng: &mut Rng, questions: usize) -> String {
    let n = (2 + rng.below(3)).min(questions);
    let mut picked: Vec<usize> = Vec::new();
    while picked.len() < n {
        let f = rng.below(questions);
        if !picked.contains(&f) {
            picked.push(f);
        }
    }
    let parts: Vec<String> = picked.iter().map(|&f| comparison(rng, f)).collect();
    let all = format!("{{all: [{}]}}", parts.join(", "));
    if rng.below(4) == 0 {
        let f = rng.below(questions);
        format!("{{any: [{all}, {}]}}", comparison(rng, f))
    } else {
        all
    }
}

/// A ruleset of `shape`: five levels, rules of random levels 1 to 4, a tenth of a
/// percent (at least one) `refer` flags, and scoring on up to eight ordinal
/// questions with three score bands.
fn generate(shape: Shape) -> String {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (shape.rules * 31 + shape.questions) as u64);
    let mut t = String::from("id: sweep\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n");
    for l in 0..5 {
        writeln!(t, "  - {{id: l{l}, label: L{l}, description: d}}").unwrap();
    }
    t.push_str("factors:\n");
    for f in 0..shape.questions {
        let kind = match f % 3 {
            0 => "kind: ordinal, values: [v0, v1, v2, v3, v4]",
            1 => "kind: boolean",
            _ => "kind: integer, min: 0, max: 100",
        };
        writeln!(t, "  - {{id: q{f}, {kind}, question: q}}").unwrap();
    }
    let flags = (shape.rules / 1000).max(1);
    let rules = shape.rules - if shape.rules >= 10_000 { flags } else { 0 };
    t.push_str("rules:\n");
    for r in 0..rules {
        let when = condition(&mut rng, shape.questions);
        let level = 1 + rng.below(4);
        writeln!(
            t,
            "  - {{id: r{r}, level: l{level}, because: b, when: {when}}}"
        )
        .unwrap();
    }
    t.push_str("flags:\n");
    for i in 0..flags {
        let when = condition(&mut rng, shape.questions);
        writeln!(t, "  - {{id: f{i}, kind: refer, message: m, when: {when}}}").unwrap();
    }
    t.push_str("scoring:\n  points:\n");
    for f in (0..shape.questions).step_by(3).take(8) {
        writeln!(t, "    q{f}: {{v0: 0, v1: 1, v2: 2, v3: 3, v4: 5}}").unwrap();
    }
    t.push_str("  bands:\n    - {max: 9, level: l0}\n    - {min: 10, max: 19, level: l1}\n    - {min: 20, level: l2}\n");
    t
}

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
