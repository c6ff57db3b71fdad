//! A proptest generator of small random VALID rulesets, rendered to YAML text, and of
//! answers for them. Shared by `differential` and `fuzz_smoke`.
//!
//! Everything is drawn as abstract choices (indices) and resolved against the drawn
//! factors when rendering, so the strategies need no `prop_flat_map` and shrink well.
//! It covers every operator (`is`, `in`, `at_least`, `at_most`, `between`, `above`,
//! `below`, band names, the shorthand for `is`, booleans), `all`/`any`/`not` nesting,
//! scoring with points and score bands, the `ask`/`error`/`assume` policies,
//! invariants, and 1 to 6 levels. Integer ranges are small (at most 8 values) so that
//! brute force over every answer stays cheap.

use proptest::prelude::*;
use proptest::sample::Index;

/// The kind of a generated factor.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Values `v0` .. `v{n-1}`, least risk first.
    Ordinal(usize),
    /// `min..=max`, cut into bands `b0`, `b1`, ... at `cuts` (`None`: no bands).
    Integer {
        min: i64,
        max: i64,
        cuts: Option<Vec<i64>>,
    },
    Boolean,
}

/// Missing-answer policy of a generated factor.
#[derive(Debug, Clone)]
pub enum Missing {
    Ask,
    Error,
    /// Assume the value at this index of the factor's domain.
    Assume(Index),
}

#[derive(Debug, Clone)]
pub struct FactorGen {
    pub kind: Kind,
    pub missing: Missing,
}

/// A comparison, resolved against the factors at render time.
#[derive(Debug, Clone)]
pub struct LeafGen {
    factor: Index,
    op: u8,
    a: Index,
    b: Index,
    extra: Vec<Index>,
    shorthand: bool,
}

#[derive(Debug, Clone)]
pub enum CondGen {
    Leaf(LeafGen),
    All(Vec<CondGen>),
    Any(Vec<CondGen>),
    Not(Box<CondGen>),
}

#[derive(Debug, Clone)]
pub struct ScoringGen {
    /// Per factor: whether it scores, and per answer (value or band) optional points.
    points: Vec<(bool, Vec<Option<i64>>)>,
    /// Cut points inside the reachable totals (as indices) and one level per band.
    cuts: Vec<Index>,
    levels: Vec<Index>,
    open_low: bool,
    open_high: bool,
    slack: (i64, i64),
}

#[derive(Debug, Clone)]
pub struct InvariantGen {
    when: Option<CondGen>,
    level: Option<(u8, Index)>,
    refer: Option<bool>,
}

/// A drawn ruleset.
#[derive(Debug, Clone)]
pub struct RulesetGen {
    pub levels: usize,
    pub factors: Vec<FactorGen>,
    pub rules: Vec<(CondGen, Index)>,
    pub flags: Vec<(CondGen, u8)>,
    pub scoring: Option<ScoringGen>,
    pub invariants: Vec<InvariantGen>,
}

/// One drawn answer per factor: `None` leaves it unanswered.
pub type AnswersGen = Vec<Option<Index>>;

impl FactorGen {
    /// Every answer, least risk first, as YAML scalars.
    pub fn domain(&self) -> Vec<String> {
        match &self.kind {
            Kind::Ordinal(n) => (0..*n).map(|i| format!("v{i}")).collect(),
            Kind::Integer { min, max, .. } => (*min..=*max).map(|v| v.to_string()).collect(),
            Kind::Boolean => vec!["false".into(), "true".into()],
        }
    }

    /// Bands as `(id, min, max)`.
    pub fn bands(&self) -> Vec<(String, i64, i64)> {
        match &self.kind {
            Kind::Integer {
                min,
                max,
                cuts: Some(cuts),
            } => {
                let mut out = Vec::new();
                let mut lo = *min;
                for (i, &c) in cuts.iter().enumerate() {
                    out.push((format!("b{i}"), lo, c - 1));
                    lo = c;
                }
                out.push((format!("b{}", cuts.len()), lo, *max));
                out
            }
            _ => Vec::new(),
        }
    }
}

fn factor_gen() -> impl Strategy<Value = FactorGen> {
    let kind = prop_oneof![
        (2usize..=5).prop_map(Kind::Ordinal),
        (
            -3i64..=4,
            0i64..=7,
            prop::option::of(prop::collection::vec(any::<Index>(), 0..3))
        )
            .prop_map(|(min, span, cuts)| {
                let max = min + span;
                let cuts = cuts.map(|cuts| {
                    let mut cuts: Vec<i64> = if span == 0 {
                        Vec::new()
                    } else {
                        cuts.iter()
                            .map(|i| min + 1 + i.index(span as usize) as i64)
                            .collect()
                    };
                    cuts.sort_unstable();
                    cuts.dedup();
                    cuts
                });
                Kind::Integer { min, max, cuts }
            }),
        Just(Kind::Boolean),
    ];
    let missing = prop_oneof![
        3 => Just(Missing::Ask),
        1 => Just(Missing::Error),
        1 => any::<Index>().prop_map(Missing::Assume),
    ];
    (kind, missing).prop_map(|(kind, missing)| FactorGen { kind, missing })
}

fn leaf_gen() -> impl Strategy<Value = LeafGen> {
    (
        any::<Index>(),
        0u8..8,
        any::<Index>(),
        any::<Index>(),
        prop::collection::vec(any::<Index>(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(factor, op, a, b, extra, shorthand)| LeafGen {
            factor,
            op,
            a,
            b,
            extra,
            shorthand,
        })
}

fn cond_gen() -> impl Strategy<Value = CondGen> {
    leaf_gen()
        .prop_map(CondGen::Leaf)
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(CondGen::All),
                prop::collection::vec(inner.clone(), 1..4).prop_map(CondGen::Any),
                inner.prop_map(|c| CondGen::Not(Box::new(c))),
            ]
        })
}

fn scoring_gen() -> impl Strategy<Value = ScoringGen> {
    (
        prop::collection::vec(
            (
                any::<bool>(),
                prop::collection::vec(prop::option::of(-3i64..=6), 8),
            ),
            4,
        ),
        prop::collection::vec(any::<Index>(), 0..3),
        prop::collection::vec(any::<Index>(), 3),
        any::<bool>(),
        any::<bool>(),
        (0i64..=2, 0i64..=2),
    )
        .prop_map(
            |(points, cuts, levels, open_low, open_high, slack)| ScoringGen {
                points,
                cuts,
                levels,
                open_low,
                open_high,
                slack,
            },
        )
}

fn invariant_gen() -> impl Strategy<Value = InvariantGen> {
    (
        prop::option::of(cond_gen()),
        prop::option::of((0u8..3, any::<Index>())),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(when, level, refer)| InvariantGen { when, level, refer })
}

/// A random ruleset: 1-6 levels, 1-4 factors, up to 5 rules and 3 flags, scoring in
/// about a third of the cases, up to `max_invariants` invariants.
pub fn ruleset_gen(max_invariants: usize) -> impl Strategy<Value = RulesetGen> {
    (
        1usize..=6,
        prop::collection::vec(factor_gen(), 1..=4),
        prop::collection::vec((cond_gen(), any::<Index>()), 0..=5),
        prop::collection::vec((cond_gen(), 0u8..3), 0..=3),
        prop::option::weighted(0.35, scoring_gen()),
        prop::collection::vec(invariant_gen(), 0..=max_invariants),
    )
        .prop_map(
            |(levels, factors, rules, flags, scoring, invariants)| RulesetGen {
                levels,
                factors,
                rules,
                flags,
                scoring,
                invariants,
            },
        )
}

/// Answers for up to 4 factors: about a third unanswered.
pub fn answers_gen() -> impl Strategy<Value = AnswersGen> {
    prop::collection::vec(
        prop_oneof![1 => Just(None), 2 => any::<Index>().prop_map(Some)],
        4,
    )
}

/// A ruleset text that compiles, with answers for it.
pub fn valid_case(
    max_invariants: usize,
) -> impl Strategy<Value = (RulesetGen, String, AnswersGen)> {
    (ruleset_gen(max_invariants), answers_gen()).prop_filter_map(
        "ruleset does not compile (an unsatisfiable condition)",
        |(g, answers)| {
            let text = g.render();
            carelevel::Ruleset::from_yaml(&text)
                .ok()
                .map(|_| (g, text, answers))
        },
    )
}

impl LeafGen {
    fn render(&self, factors: &[FactorGen]) -> String {
        let fi = self.factor.index(factors.len());
        let f = &factors[fi];
        let id = format!("f{fi}");
        let one = |op: &str, v: &str| {
            if op == "is" && self.shorthand {
                format!("{{{id}: {v}}}")
            } else {
                format!("{{{id}: {{{op}: {v}}}}}")
            }
        };
        match &f.kind {
            Kind::Boolean => one(
                "is",
                if self.a.index(2) == 1 {
                    "true"
                } else {
                    "false"
                },
            ),
            Kind::Ordinal(n) => {
                let (a, b) = (self.a.index(*n), self.b.index(*n));
                match self.op % 6 {
                    0 => one("is", &format!("v{a}")),
                    1 => {
                        let mut items = vec![format!("v{a}")];
                        items.extend(self.extra.iter().map(|i| format!("v{}", i.index(*n))));
                        format!("{{{id}: {{in: [{}]}}}}", items.join(", "))
                    }
                    2 => one("at_least", &format!("v{a}")),
                    3 => one("at_most", &format!("v{a}")),
                    _ => format!("{{{id}: {{between: [v{}, v{}]}}}}", a.min(b), a.max(b)),
                }
            }
            Kind::Integer { min, max, .. } => {
                let (min, max) = (*min, *max);
                let bands = f.bands();
                // An operand: a number, or a band id when `pick` is odd and bands exist.
                let operand = |i: &Index| -> (String, i64, i64) {
                    let n = (max - min + 1) as usize;
                    let k = i.index(n + bands.len());
                    if k < n {
                        let v = min + k as i64;
                        (v.to_string(), v, v)
                    } else {
                        let (bid, lo, hi) = &bands[k - n];
                        (bid.clone(), *lo, *hi)
                    }
                };
                let (a, alo, ahi) = operand(&self.a);
                match self.op {
                    0 => one("is", &a),
                    1 => {
                        let mut items = vec![a];
                        items.extend(self.extra.iter().map(|i| operand(i).0));
                        format!("{{{id}: {{in: [{}]}}}}", items.join(", "))
                    }
                    2 => one("at_least", &a),
                    3 => one("at_most", &a),
                    4 => {
                        let (b, _, bhi) = operand(&self.b);
                        if alo > bhi {
                            format!("{{{id}: {{between: [{b}, {a}]}}}}")
                        } else {
                            format!("{{{id}: {{between: [{a}, {b}]}}}}")
                        }
                    }
                    // `above`/`below` must leave some answer in range.
                    5 if ahi < max => one("above", &a),
                    6 if alo > min => one("below", &a),
                    5 => one("at_most", &a),
                    6 => one("at_least", &a),
                    _ => {
                        // Shorthand with a plain number.
                        let v = min + self.b.index((max - min + 1) as usize) as i64;
                        format!("{{{id}: {v}}}")
                    }
                }
            }
        }
    }
}

impl CondGen {
    pub fn render(&self, factors: &[FactorGen]) -> String {
        match self {
            CondGen::Leaf(l) => l.render(factors),
            CondGen::All(items) | CondGen::Any(items) => {
                let key = if matches!(self, CondGen::All(_)) {
                    "all"
                } else {
                    "any"
                };
                let parts: Vec<String> = items.iter().map(|c| c.render(factors)).collect();
                format!("{{{key}: [{}]}}", parts.join(", "))
            }
            CondGen::Not(c) => format!("{{not: {}}}", c.render(factors)),
        }
    }
}

impl RulesetGen {
    /// The ruleset as YAML text.
    pub fn render(&self) -> String {
        let mut t = String::from("id: gen\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n");
        for l in 0..self.levels {
            t.push_str(&format!("  - {{id: l{l}, label: L{l}, description: d}}\n"));
        }
        t.push_str("factors:\n");
        for (i, f) in self.factors.iter().enumerate() {
            let missing = match &f.missing {
                Missing::Ask => "ask".to_owned(),
                Missing::Error => "error".to_owned(),
                Missing::Assume(ix) => {
                    let d = f.domain();
                    format!("{{assume: {}}}", d[ix.index(d.len())])
                }
            };
            let kind = match &f.kind {
                Kind::Ordinal(n) => {
                    let vals: Vec<String> = (0..*n).map(|v| format!("v{v}")).collect();
                    format!("ordinal, values: [{}]", vals.join(", "))
                }
                Kind::Boolean => "boolean".to_owned(),
                Kind::Integer { min, max, .. } => {
                    let mut s = format!("integer, min: {min}, max: {max}");
                    let bands = f.bands();
                    if !bands.is_empty() {
                        let b: Vec<String> = bands
                            .iter()
                            .map(|(id, lo, hi)| format!("{{id: {id}, min: {lo}, max: {hi}}}"))
                            .collect();
                        s.push_str(&format!(", bands: [{}]", b.join(", ")));
                    }
                    s
                }
            };
            t.push_str(&format!(
                "  - {{id: f{i}, kind: {kind}, question: Q, missing: {missing}}}\n"
            ));
        }
        if let Some(s) = &self.scoring {
            t.push_str(&self.render_scoring(s));
        }
        if self.rules.is_empty() {
            t.push_str("rules: []\n");
        } else {
            t.push_str("rules:\n");
        }
        for (i, (c, l)) in self.rules.iter().enumerate() {
            t.push_str(&format!(
                "  - {{id: r{i}, when: {}, level: l{}, because: B}}\n",
                c.render(&self.factors),
                l.index(self.levels)
            ));
        }
        if !self.flags.is_empty() {
            t.push_str("flags:\n");
            for (i, (c, k)) in self.flags.iter().enumerate() {
                let kind = ["refer", "review", "info"][usize::from(*k % 3)];
                t.push_str(&format!(
                    "  - {{id: g{i}, kind: {kind}, when: {}, message: M}}\n",
                    c.render(&self.factors)
                ));
            }
        }
        if !self.invariants.is_empty() {
            t.push_str("invariants:\n");
            for (i, inv) in self.invariants.iter().enumerate() {
                let mut expect = Vec::new();
                if let Some((op, l)) = &inv.level {
                    let op = ["at_least", "at_most", "is"][usize::from(*op % 3)];
                    expect.push(format!("level: {{{op}: l{}}}", l.index(self.levels)));
                }
                if let Some(r) = inv.refer {
                    expect.push(format!("refer: {r}"));
                }
                if expect.is_empty() {
                    expect.push("level: {at_least: l0}".to_owned());
                }
                let when = inv
                    .when
                    .as_ref()
                    .map(|c| format!("when: {}, ", c.render(&self.factors)))
                    .unwrap_or_default();
                t.push_str(&format!(
                    "  - {{id: i{i}, {when}expect: {{{}}}}}\n",
                    expect.join(", ")
                ));
            }
        }
        t
    }

    fn render_scoring(&self, s: &ScoringGen) -> String {
        let mut t = String::from("scoring:\n");
        let mut lines = Vec::new();
        let (mut lowest, mut highest) = (0i64, 0i64);
        for (fi, f) in self.factors.iter().enumerate() {
            let Some((scores, pts)) = s.points.get(fi) else {
                continue;
            };
            let keys: Vec<String> = match &f.kind {
                Kind::Integer { .. } => f.bands().into_iter().map(|b| b.0).collect(),
                _ => f.domain(),
            };
            if !scores || keys.is_empty() {
                continue;
            }
            let mut kv = Vec::new();
            let mut all = Vec::new();
            for (k, p) in keys.iter().zip(pts) {
                all.push(p.unwrap_or(0));
                if let Some(p) = p {
                    kv.push(format!("{k}: {p}"));
                }
            }
            lowest += all.iter().copied().min().unwrap_or(0);
            highest += all.iter().copied().max().unwrap_or(0);
            lines.push(format!("    f{fi}: {{{}}}\n", kv.join(", ")));
        }
        if lines.is_empty() {
            t.push_str("  points: {}\n");
        } else {
            t.push_str("  points:\n");
            for l in lines {
                t.push_str(&l);
            }
        }
        let mut cuts: Vec<i64> = if highest > lowest {
            s.cuts
                .iter()
                .map(|i| lowest + 1 + i.index((highest - lowest) as usize) as i64)
                .collect()
        } else {
            Vec::new()
        };
        cuts.sort_unstable();
        cuts.dedup();
        t.push_str("  bands:\n");
        let mut lo = (!s.open_low).then_some(lowest - s.slack.0);
        for (i, c) in cuts.iter().enumerate() {
            let level = s.levels[i].index(self.levels);
            match lo {
                Some(m) => t.push_str(&format!(
                    "    - {{level: l{level}, min: {m}, max: {}}}\n",
                    c - 1
                )),
                None => t.push_str(&format!("    - {{level: l{level}, max: {}}}\n", c - 1)),
            }
            lo = Some(*c);
        }
        let level = s.levels[cuts.len()].index(self.levels);
        let hi = (!s.open_high).then_some(highest + s.slack.1);
        let mut parts = vec![format!("level: l{level}")];
        if let Some(m) = lo {
            parts.push(format!("min: {m}"));
        }
        if let Some(m) = hi {
            parts.push(format!("max: {m}"));
        }
        t.push_str(&format!("    - {{{}}}\n", parts.join(", ")));
        t
    }

    /// The drawn answers as `(factor id, YAML scalar)` pairs; unanswered factors left out.
    pub fn answers(&self, drawn: &AnswersGen) -> Vec<(String, String)> {
        self.factors
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let ix = drawn.get(i).cloned().flatten()?;
                let d = f.domain();
                Some((format!("f{i}"), d[ix.index(d.len())].clone()))
            })
            .collect()
    }
}

/// Answers as a YAML flow mapping, e.g. `{f0: v1, f2: 3}`.
pub fn answers_yaml(pairs: &[(String, String)]) -> String {
    let parts: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// `default` proptest cases, or `PROPTEST_CASES` from the environment when set (for
/// longer hunts: `PROPTEST_CASES=5000 cargo test -p carelevel --test properties differential`).
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
