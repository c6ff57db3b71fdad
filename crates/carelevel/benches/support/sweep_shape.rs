//! The generated rulesets of the sweep (issue 13 part 2): 10 to 10,000 rules over 4
//! to 30 questions, from a fixed seed. Shared by `benches/sweep.rs` and the core's
//! differential test of `check`.

use std::fmt;
use std::fmt::Write as _;

/// A generated ruleset's size.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Rules and flags together.
    pub rules: usize,
    /// Questions.
    pub questions: usize,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}r_{}q", self.rules, self.questions)
    }
}

pub const fn s(rules: usize, questions: usize) -> Shape {
    Shape { rules, questions }
}

/// Every shape of the sweep. 10,000 rules is the limit for rules and flags together,
/// so that shape has 9,990 rules and 10 flags (the shape of the issue).
pub const SHAPES: [Shape; 12] = [
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
/// (Also drawn for answers by the sweep.)
pub struct Rng(pub u64);

impl Rng {
    /// The next number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
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
pub fn generate(shape: Shape) -> String {
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
