//! Tests of `score` conditions (the total score in rule and flag conditions):
//! compile errors, words, explanation, and a differential property test of the
//! engine (level table, rule walk, missing-answer search) against a direct
//! brute-force evaluation over every complete answer combination.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

use proptest::prelude::*;

use crate::Ruleset;

/// Points of the generated ruleset: `a` (ordinal, 4 values), `b` (boolean),
/// `n` (integer 0..=12 with bands `lo` 0..=cut and `hi` cut+1..=12).
#[derive(Debug, Clone)]
struct Points {
    a: [i64; 4],
    b: [i64; 2],
    cut: i64,
    n: [i64; 2],
    /// `n` earns this many points per unit instead of `n` by band (`{per_unit: p}`).
    per_unit: Option<i64>,
    /// Totals above this are in the `mid` score band.
    band: i64,
}

/// A generated condition.
#[derive(Debug, Clone)]
enum Cond {
    Score(&'static str, i64, i64),
    A(usize),
    B(bool),
    N(i64),
    Not(Box<Cond>),
    All(Vec<Cond>),
    Any(Vec<Cond>),
}

const A_VALUES: [&str; 4] = ["v0", "v1", "v2", "v3"];

impl Cond {
    fn yaml(&self) -> String {
        match self {
            Cond::Score(op, x, y) => match *op {
                "between" => format!("{{score: {{between: [{}, {}]}}}}", x.min(y), x.max(y)),
                "in" => format!("{{score: {{in: [{x}, {y}]}}}}"),
                op => format!("{{score: {{{op}: {x}}}}}"),
            },
            Cond::A(i) => format!("{{a: {{at_least: {}}}}}", A_VALUES.get(*i).unwrap()),
            Cond::B(v) => format!("{{b: {v}}}"),
            Cond::N(v) => format!("{{n: {{at_least: {v}}}}}"),
            Cond::Not(c) => format!("{{not: {}}}", c.yaml()),
            Cond::All(cs) => format!(
                "{{all: [{}]}}",
                cs.iter().map(Cond::yaml).collect::<Vec<_>>().join(", ")
            ),
            Cond::Any(cs) => format!(
                "{{any: [{}]}}",
                cs.iter().map(Cond::yaml).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// Whether a score test in it is one the compiler refuses as never true on its
    /// own: a bound beyond the totals `tmin..=tmax` (as an integer comparison beyond
    /// the question's range is refused).
    fn has_empty_bound(&self, tmin: i64, tmax: i64) -> bool {
        match self {
            Cond::Score(op, x, _) => match *op {
                "at_least" => *x > tmax,
                "above" => *x >= tmax,
                "at_most" => *x < tmin,
                "below" => *x <= tmin,
                _ => false,
            },
            Cond::Not(c) => c.has_empty_bound(tmin, tmax),
            Cond::All(cs) | Cond::Any(cs) => cs.iter().any(|c| c.has_empty_bound(tmin, tmax)),
            _ => false,
        }
    }

    /// Direct evaluation, written independently of the engine.
    fn eval(&self, a: usize, b: bool, n: i64, total: i64) -> bool {
        match self {
            Cond::Score(op, x, y) => match *op {
                "is" => total == *x,
                "in" => total == *x || total == *y,
                "at_least" => total >= *x,
                "at_most" => total <= *x,
                "above" => total > *x,
                "below" => total < *x,
                "between" => x.min(y) <= &total && &total <= x.max(y),
                _ => unreachable!(),
            },
            Cond::A(i) => a >= *i,
            Cond::B(v) => b == *v,
            Cond::N(v) => n >= *v,
            Cond::Not(c) => !c.eval(a, b, n, total),
            Cond::All(cs) => cs.iter().all(|c| c.eval(a, b, n, total)),
            Cond::Any(cs) => cs.iter().any(|c| c.eval(a, b, n, total)),
        }
    }
}

fn cond() -> impl Strategy<Value = Cond> {
    let leaf = prop_oneof![
        4 => (
            prop::sample::select(vec!["is", "in", "at_least", "at_most", "above", "below", "between"]),
            -2i64..40,
            -2i64..40
        )
            .prop_map(|(op, x, y)| Cond::Score(op, x, y)),
        1 => (0usize..4).prop_map(Cond::A),
        1 => any::<bool>().prop_map(Cond::B),
        1 => (0i64..=12).prop_map(Cond::N),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| Cond::Not(Box::new(c))),
            prop::collection::vec(inner.clone(), 1..3).prop_map(Cond::All),
            prop::collection::vec(inner, 1..3).prop_map(Cond::Any),
        ]
    })
}

fn points() -> impl Strategy<Value = Points> {
    (
        prop::array::uniform4(-3i64..8),
        prop::array::uniform2(-3i64..8),
        0i64..12,
        prop::array::uniform2(-3i64..8),
        prop::option::of(-2i64..4),
        -5i64..30,
    )
        .prop_map(|(a, b, cut, n, per_unit, band)| Points {
            a,
            b,
            cut,
            n,
            per_unit,
            band,
        })
}

impl Points {
    fn total(&self, a: usize, b: bool, n: i64) -> i64 {
        self.a.get(a).unwrap()
            + self.b.get(usize::from(b)).unwrap()
            + match self.per_unit {
                Some(per) => per * n,
                None if n <= self.cut => self.n[0],
                None => self.n[1],
            }
    }

    fn yaml(&self, rules: &[Cond], flag: &Cond) -> String {
        let p = self;
        let rules: String = rules
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!(
                    "  - {{id: r{i}, level: {}, because: \"r\", when: {}}}\n",
                    if i % 2 == 0 { "high" } else { "mid" },
                    c.yaml()
                )
            })
            .collect();
        format!(
            r#"id: t
version: "1"
title: t
description: t
levels:
  - {{id: low, label: Low, description: l}}
  - {{id: mid, label: Mid, description: m}}
  - {{id: high, label: High, description: h}}
factors:
  - {{id: a, kind: ordinal, question: "A?", values: [v0, v1, v2, v3]}}
  - {{id: b, kind: boolean, question: "B?"}}
  - id: n
    kind: integer
    question: "N?"
    min: 0
    max: 12
    bands:
      - {{id: lo, min: 0, max: {cut}}}
      - {{id: hi, min: {cut1}, max: 12}}
scoring:
  points:
    a: {{v0: {a0}, v1: {a1}, v2: {a2}, v3: {a3}}}
    b: {{false: {b0}, true: {b1}}}
    n: {n_points}
  bands:
    - {{max: {band}, level: low}}
    - {{min: {band1}, level: mid}}
rules:
{rules}flags:
  - {{id: f, kind: refer, message: "f", when: {flag}}}
"#,
            cut = p.cut,
            cut1 = p.cut + 1,
            a0 = p.a[0],
            a1 = p.a[1],
            a2 = p.a[2],
            a3 = p.a[3],
            b0 = p.b[0],
            b1 = p.b[1],
            n_points = match p.per_unit {
                Some(per) => format!("{{per_unit: {per}}}"),
                None => format!("{{lo: {}, hi: {}}}", p.n[0], p.n[1]),
            },
            band = p.band,
            band1 = p.band + 1,
            flag = flag.yaml(),
        )
    }

    /// The level and whether the flag fires, by direct evaluation.
    fn expected(&self, rules: &[Cond], flag: &Cond, a: usize, b: bool, n: i64) -> (usize, bool) {
        let total = self.total(a, b, n);
        let mut level = usize::from(total > self.band);
        for (i, c) in rules.iter().enumerate() {
            if c.eval(a, b, n, total) {
                level = level.max(if i % 2 == 0 { 2 } else { 1 });
            }
        }
        (level, flag.eval(a, b, n, total))
    }
}

fn answers_json(a: Option<usize>, b: Option<bool>, n: Option<i64>) -> String {
    let mut parts = Vec::new();
    if let Some(a) = a {
        parts.push(format!("\"a\": \"v{a}\""));
    }
    if let Some(b) = b {
        parts.push(format!("\"b\": {b}"));
    }
    if let Some(n) = n {
        parts.push(format!("\"n\": {n}"));
    }
    format!("{{{}}}", parts.join(", "))
}

fn combos() -> Vec<(usize, bool, i64)> {
    let mut out = Vec::new();
    for a in 0..4 {
        for b in [false, true] {
            for n in 0..=12 {
                out.push((a, b, n));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The engine agrees with direct evaluation on every complete answer set (the
    /// level table and the rule walk both), and the missing-answer search gives the
    /// exact range over every completion.
    #[test]
    fn score_conditions_match_brute_force(
        p in points(),
        rules in prop::collection::vec(cond(), 1..4),
        flag in cond(),
        missing in prop::collection::vec(any::<bool>(), 3),
    ) {
        let yaml = p.yaml(&rules, &flag);
        // Random conditions can be dead (an error): only live rulesets are compared.
        let Ok(rs) = Ruleset::from_yaml(&yaml) else {
            // A dead condition must really be dead: no combination satisfies it.
            let any_dead = rules.iter().chain(std::iter::once(&flag)).any(|c| {
                combos().iter().all(|&(a, b, n)| !c.eval(a, b, n, p.total(a, b, n)))
            });
            let totals: Vec<i64> = combos().iter().map(|&(a, b, n)| p.total(a, b, n)).collect();
            let (tmin, tmax) = (*totals.iter().min().unwrap(), *totals.iter().max().unwrap());
            let empty_bound = rules
                .iter()
                .chain(std::iter::once(&flag))
                .any(|c| c.has_empty_bound(tmin, tmax));
            prop_assert!(any_dead || empty_bound, "refused although every condition can hold:\n{yaml}\n{:?}", Ruleset::from_yaml(&yaml).err());
            return Ok(());
        };
        for c in rules.iter().chain(std::iter::once(&flag)) {
            prop_assert!(combos().iter().any(|&(a, b, n)| c.eval(a, b, n, p.total(a, b, n))));
        }
        let mut by_partial: std::collections::BTreeMap<String, (usize, usize, bool, bool)> =
            std::collections::BTreeMap::new();
        for (a, b, n) in combos() {
            let (level, fires) = p.expected(&rules, &flag, a, b, n);
            let answers = rs.answers_from_json(&answers_json(Some(a), Some(b), Some(n))).unwrap();
            prop_assert_eq!(rs.level_for(&answers).unwrap(), level, "{}", yaml);
            prop_assert_eq!(rs.level_of_codes_walk(&answers.values), level);
            // The level diagram (score conditions and bands built by intervals): level
            // and refer bit (the flag is a refer flag).
            let entry = rs.diagram.as_ref().and_then(|d| d.entry(&rs.factors, &answers.values));
            prop_assert_eq!(entry.map(crate::model::LevelTable::level), Some(level), "{}", yaml);
            prop_assert_eq!(entry.map(|e| e & crate::model::LevelTable::REFER != 0), Some(fires));
            let full = rs.assess(&answers).unwrap();
            prop_assert_eq!(full.flags.iter().any(|f| f.id == "f"), fires);
            let key = answers_json(
                (!missing[0]).then_some(a),
                (!missing[1]).then_some(b),
                (!missing[2]).then_some(n),
            );
            let e = by_partial.entry(key).or_insert((level, level, true, false));
            *e = (e.0.min(level), e.1.max(level), e.2 && fires, e.3 || fires);
        }
        for (json, (lo, hi, always, sometimes)) in by_partial {
            let answers = rs.answers_from_json(&json).unwrap();
            let a = rs.assess(&answers).unwrap();
            prop_assert_eq!((a.level_range.lowest.rank, a.level_range.highest.rank), (lo, hi), "{} {}", json, yaml);
            prop_assert_eq!(a.flags.iter().any(|f| f.id == "f"), always);
            prop_assert_eq!(
                a.possible_flags.iter().any(|f| f.id == "f"),
                sometimes && !always
            );
        }
    }
}

fn ruleset(scoring: &str, when: &str) -> Result<Ruleset, crate::RulesetError> {
    Ruleset::from_yaml(&format!(
        r#"id: t
version: "1"
title: t
description: t
levels:
  - {{id: low, label: Low, description: l}}
  - {{id: high, label: High, description: h}}
factors:
  - {{id: risk, kind: ordinal, question: "R?", values: [none, some, acute]}}
  - {{id: alone, kind: boolean, question: "A?"}}
{scoring}rules:
  - id: r
    level: high
    because: "b"
    when: {when}
"#
    ))
}

const SCORING: &str = r#"scoring:
  points:
    risk: {none: 0, some: 10, acute: 20}
    alone: {false: 0, true: 5}
  bands:
    - {max: 24, level: low}
    - {min: 25, level: high}
"#;

fn error_text(r: Result<Ruleset, crate::RulesetError>) -> String {
    r.err().unwrap().to_string()
}

#[test]
fn score_conditions_compile_and_read_in_words() {
    let rs = ruleset(SCORING, "{all: [{score: {at_least: 10}}, {alone: true}]}").unwrap();
    assert_eq!(
        rs.rule_condition_words(0).unwrap(),
        "the total score is at least 10, and alone is true"
    );
    let rs = ruleset(SCORING, "{score: {in: [5, 20]}}").unwrap();
    assert_eq!(
        rs.rule_condition_words(0).unwrap(),
        "the total score is 5 or 20"
    );
    let rs = ruleset(SCORING, "{not: {score: {between: [10, 15]}}}").unwrap();
    assert_eq!(
        rs.rule_condition_words(0).unwrap(),
        "not the total score is 10 to 15"
    );
}

#[test]
fn score_condition_errors_name_the_place_and_what_was_expected() {
    let e = error_text(ruleset("", "{score: {at_least: 10}}"));
    assert!(e.contains("rules[0].when.score"), "{e}");
    assert!(e.starts_with("15:12: "), "{e}");
    assert!(e.contains("has no `scoring` section"), "{e}");

    let e = error_text(ruleset(SCORING, "{score: {at_least: high}}"));
    assert!(e.contains("rules[0].when.score.at_least"), "{e}");
    assert!(
        e.contains("expected a whole number (a total score; totals run from 0 to 25), got `high`"),
        "{e}"
    );

    let e = error_text(ruleset(SCORING, "{score: {between: [20, 10]}}"));
    assert!(e.contains("runs from 20 down to 10"), "{e}");

    let e = error_text(ruleset(SCORING, "{score: {above: 25}}"));
    assert!(
        e.contains("can never be true: totals run from 0 to 25"),
        "{e}"
    );

    // 21 to 24 is not reachable (totals are 0, 5, 10, 15, 20, 25): dead.
    let e = error_text(ruleset(SCORING, "{score: {between: [21, 24]}}"));
    assert!(e.contains("can never be true"), "{e}");
}

#[test]
fn a_question_named_score_keeps_its_meaning() {
    let rs = Ruleset::from_yaml(
        r#"id: t
version: "1"
title: t
description: t
levels:
  - {id: low, label: Low, description: l}
  - {id: high, label: High, description: h}
factors:
  - {id: score, kind: integer, question: "S?", min: 0, max: 9}
rules:
  - {id: r, level: high, because: b, when: {score: {at_least: 5}}}
"#,
    )
    .unwrap();
    assert_eq!(rs.rule_condition_words(0).unwrap(), "score is at least 5");
}

#[test]
fn a_rule_that_fired_on_the_total_says_which_test_held() {
    let rs = ruleset(
        SCORING,
        "{all: [{score: {at_least: 10}}, {not: {score: {above: 20}}}]}",
    )
    .unwrap();
    let a = rs
        .assess(
            &rs.answers_from_json(r#"{"risk": "some", "alone": true}"#)
                .unwrap(),
        )
        .unwrap();
    let fired = a.fired_rules.first().unwrap();
    assert_eq!(fired.score_tests, vec!["at least 10", "not at least 21"]);
    assert_eq!(a.score.unwrap().total, 15);
    // With `alone` missing the total is 10 or 15: both tests hold whatever it is.
    let a = rs
        .assess(&rs.answers_from_json(r#"{"risk": "some"}"#).unwrap())
        .unwrap();
    assert_eq!(
        a.fired_rules.first().unwrap().score_tests,
        vec!["at least 10", "not at least 21"]
    );
    // A rule that does not test the total has none.
    let rs = ruleset(SCORING, "{alone: true}").unwrap();
    let a = rs
        .assess(
            &rs.answers_from_json(r#"{"risk": "some", "alone": true}"#)
                .unwrap(),
        )
        .unwrap();
    assert!(a.fired_rules.first().unwrap().score_tests.is_empty());
}

/// Every complete answer `(a, b, n)` one step above `(a, b, n)` in factor `f`
/// (0: `a`, 1: `b`, 2: `n`), if there is one.
fn raised(f: usize, (a, b, n): (usize, bool, i64)) -> Option<(usize, bool, i64)> {
    match f {
        0 => (a < 3).then_some((a + 1, b, n)),
        1 => (!b).then_some((a, true, n)),
        _ => (n < 12).then_some((a, b, n + 1)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// `check` on a ruleset with score conditions agrees with a brute-force
    /// enumeration of every complete answer (each value of `n` on its own, not the
    /// classes `check` enumerates): which questions are not monotone (and the example
    /// it gives really drops), which rules never decide, which levels and flags are
    /// never reached.
    #[test]
    fn check_of_score_conditions_matches_brute_force(
        p in points(),
        rules in prop::collection::vec(cond(), 1..4),
        flag in cond(),
    ) {
        use crate::analysis::{check, FindingKind};
        let yaml = p.yaml(&rules, &flag);
        let Ok(rs) = Ruleset::from_yaml(&yaml) else { return Ok(()) };
        let report = check(&rs, false).unwrap();
        let found = |kind: FindingKind| -> std::collections::BTreeSet<String> {
            report.findings.iter().filter(|f| f.kind == kind).map(|f| f.subject.clone()).collect()
        };
        let level = |x: (usize, bool, i64)| p.expected(&rules, &flag, x.0, x.1, x.2).0;
        let mut not_monotone = std::collections::BTreeSet::new();
        let mut reached = [false; 3];
        let mut decides = vec![false; rules.len()];
        let mut flag_fires = false;
        for x in combos() {
            let (l, fires) = p.expected(&rules, &flag, x.0, x.1, x.2);
            reached[l] = true;
            flag_fires |= fires;
            let total = p.total(x.0, x.1, x.2);
            for (i, c) in rules.iter().enumerate() {
                let own = if i % 2 == 0 { 2 } else { 1 };
                decides[i] |= c.eval(x.0, x.1, x.2, total) && own == l;
            }
            for (f, id) in ["a", "b", "n"].iter().enumerate() {
                if raised(f, x).is_some_and(|y| level(y) < l) {
                    not_monotone.insert((*id).to_owned());
                }
            }
        }
        prop_assert_eq!(found(FindingKind::NotMonotone), not_monotone, "{}", yaml);
        let never: std::collections::BTreeSet<String> = decides
            .iter()
            .enumerate()
            .filter(|(_, d)| !**d)
            .map(|(i, _)| format!("r{i}"))
            .collect();
        prop_assert_eq!(found(FindingKind::RuleNeverDecides), never, "{}", yaml);
        let unreached: std::collections::BTreeSet<String> = ["low", "mid", "high"]
            .iter()
            .zip(reached)
            .filter(|(_, r)| !r)
            .map(|(id, _)| (*id).to_owned())
            .collect();
        prop_assert_eq!(found(FindingKind::LevelUnreachable), unreached, "{}", yaml);
        prop_assert_eq!(found(FindingKind::FlagUnreachable).is_empty(), flag_fires);
        // Each non-monotone finding's example is an answer set whose raise drops.
        for f in report.findings.iter().filter(|f| f.kind == FindingKind::NotMonotone) {
            let ex = f.example.as_ref().unwrap();
            let get = |id: &str| ex.0.iter().find(|i| i.factor == id).unwrap().value.clone().unwrap().to_string();
            let x = (
                A_VALUES.iter().position(|v| *v == get("a")).unwrap(),
                get("b") == "true",
                get("n").parse::<i64>().unwrap(),
            );
            let fi = ["a", "b", "n"].iter().position(|id| *id == f.subject).unwrap();
            // `check` raises `n` to the next class: the next value whose level differs
            // lies somewhere above; some value above drops below this level.
            let drops = (1..=12).any(|k| {
                let mut y = Some(x);
                for _ in 0..k { y = y.and_then(|y| raised(fi, y)); }
                y.is_some_and(|y| level(y) < level(x))
            });
            prop_assert!(drops, "{} {:?}", yaml, f);
        }
    }
}

impl Cond {
    /// The thresholds of `n` comparisons in it (where a class of `n` starts).
    fn n_cuts(&self, out: &mut Vec<i64>) {
        match self {
            Cond::N(v) => out.push(*v),
            Cond::Not(c) => c.n_cuts(out),
            Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| c.n_cuts(out)),
            _ => {}
        }
    }
}

/// Outcome of a set of answers (`None`: unanswered) by direct evaluation over
/// every completion: the highest level, and whether the flag fires for every one.
fn outcome_over_completions(
    p: &Points,
    rules: &[Cond],
    flag: &Cond,
    (a, b, n): (Option<usize>, Option<bool>, Option<(i64, i64)>),
) -> (usize, bool) {
    let (mut hi, mut all) = (0, true);
    for (x, y, z) in combos() {
        let fits = a.is_none_or(|a| a == x)
            && b.is_none_or(|b| b == y)
            && n.is_none_or(|(lo, top)| lo <= z && z <= top);
        if fits {
            let (l, f) = p.expected(rules, flag, x, y, z);
            hi = hi.max(l);
            all &= f;
        }
    }
    (hi, all)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// `diff` between two rulesets with score conditions (same points, different
    /// rules and flag) agrees with a brute-force count over every answer-set class,
    /// unanswered questions included: the transition matrix and the flag's gains and
    /// losses. The classes of `n` are worked out here from the thresholds, and every
    /// value of a class is checked to behave the same (the points are constant
    /// within a class).
    #[test]
    fn diff_of_score_conditions_matches_brute_force(
        p in points(),
        old_rules in prop::collection::vec(cond(), 1..3),
        new_rules in prop::collection::vec(cond(), 1..3),
        old_flag in cond(),
        new_flag in cond(),
    ) {
        let (Ok(old), Ok(new)) = (
            Ruleset::from_yaml(&p.yaml(&old_rules, &old_flag)),
            Ruleset::from_yaml(&p.yaml(&new_rules, &new_flag).replace("version: \"1\"", "version: \"2\"")),
        ) else {
            return Ok(());
        };
        let report = crate::analysis::diff(&old, &new).unwrap();
        let mut cuts = vec![0, p.cut + 1];
        for c in old_rules.iter().chain(&new_rules).chain([&old_flag, &new_flag]) {
            c.n_cuts(&mut cuts);
        }
        if p.per_unit.is_some() {
            // Points per unit: every value of `n` is a class of its own.
            cuts.extend(0..=12);
        }
        cuts.retain(|&c| (0..=12).contains(&c));
        cuts.sort_unstable();
        cuts.dedup();
        let classes: Vec<(i64, i64)> = cuts
            .iter()
            .enumerate()
            .map(|(i, &lo)| (lo, cuts.get(i + 1).map_or(12, |next| next - 1)))
            .collect();
        let mut matrix = vec![vec![0u64; 3]; 3];
        let (mut gained, mut lost) = (0u64, 0u64);
        for a in (0..4).map(Some).chain([None]) {
            for b in [Some(false), Some(true), None] {
                for n in classes.iter().copied().map(Some).chain([None]) {
                    if let Some((lo, hi)) = n {
                        for v in lo..=hi {
                            let one = |rules: &[Cond], flag: &Cond| {
                                outcome_over_completions(&p, rules, flag, (a, b, Some((v, v))))
                            };
                            let first = |rules: &[Cond], flag: &Cond| {
                                outcome_over_completions(&p, rules, flag, (a, b, Some((lo, lo))))
                            };
                            prop_assert_eq!(one(&old_rules, &old_flag), first(&old_rules, &old_flag));
                            prop_assert_eq!(one(&new_rules, &new_flag), first(&new_rules, &new_flag));
                        }
                    }
                    let (lo_old, f_old) = outcome_over_completions(&p, &old_rules, &old_flag, (a, b, n));
                    let (lo_new, f_new) = outcome_over_completions(&p, &new_rules, &new_flag, (a, b, n));
                    matrix[lo_old][lo_new] += 1;
                    gained += u64::from(!f_old && f_new);
                    lost += u64::from(f_old && !f_new);
                }
            }
        }
        // Every answer of `a` and `b`, every class of `n`, each also unanswered.
        prop_assert_eq!(report.classes, 5 * 3 * (classes.len() as u64 + 1));
        prop_assert_eq!(&report.matrix, &matrix, "{}\n{}", p.yaml(&old_rules, &old_flag), p.yaml(&new_rules, &new_flag));
        let (g, l) = report
            .flag_changes
            .iter()
            .find(|f| f.flag == "f")
            .map_or((0, 0), |f| (f.gained, f.lost));
        prop_assert_eq!((g, l), (gained, lost));
    }
}

/// A 0-100 question scored `{per_unit: N}` (as band points it would need 101 bands,
/// above the limit of 64), with the given extra points keys.
fn per_unit_ruleset(points: &str, max: i64) -> Result<Ruleset, crate::RulesetError> {
    Ruleset::from_yaml(&format!(
        r#"id: t
version: "1"
title: t
description: t
levels:
  - {{id: low, label: Low, description: l}}
  - {{id: high, label: High, description: h}}
factors:
  - id: pain
    kind: integer
    question: "P?"
    min: 0
    max: {max}
    bands:
      - {{id: mild, min: 0, max: 49}}
      - {{id: severe, min: 50, max: {max}}}
  - {{id: alone, kind: boolean, question: "A?"}}
scoring:
  points:
    pain: {points}
    alone: {{false: 0, true: 30}}
  bands:
    - {{max: 79, level: low}}
    - {{min: 80, level: high}}
rules:
  - {{id: r, level: high, because: b, when: {{all: [{{score: {{at_least: 60}}}}, {{alone: true}}]}}}}
"#
    ))
}

#[test]
fn points_per_unit_score_every_value_of_a_wide_scale() {
    let rs = per_unit_ruleset("{per_unit: 1}", 100).unwrap();
    let level = |pain: i64, alone: bool| {
        let a = rs
            .answers_from_json(&format!(r#"{{"pain": {pain}, "alone": {alone}}}"#))
            .unwrap();
        let x = rs.assess(&a).unwrap();
        (x.level.id.to_string(), x.score.unwrap().total)
    };
    // 79 + 0 is low; 80 is the high band; 30 + 30 = 60 with alone fires the rule.
    assert_eq!(level(79, false), ("low".to_owned(), 79));
    assert_eq!(level(80, false), ("high".to_owned(), 80));
    assert_eq!(level(29, true), ("low".to_owned(), 59));
    assert_eq!(level(30, true), ("high".to_owned(), 60));
    // Every value is a class of its own, so the analyses stay exact: 101 × 2.
    assert_eq!(
        crate::analysis::check(&rs, false).unwrap().classes.value,
        202
    );
    // Unanswered, the pain question could add 0 to 100.
    let a = rs
        .assess(&rs.answers_from_json(r#"{"alone": false}"#).unwrap())
        .unwrap();
    let s = a.score.unwrap();
    assert_eq!((s.total, s.unanswered_min, s.unanswered_max), (0, 0, 100));
    assert_eq!(
        (a.level_range.lowest.rank, a.level_range.highest.rank),
        (0, 1)
    );
    // Two points per unit: 40 is 80, the high band.
    let rs = per_unit_ruleset("{per_unit: 2}", 100).unwrap();
    let a = rs
        .assess(
            &rs.answers_from_json(r#"{"pain": 40, "alone": false}"#)
                .unwrap(),
        )
        .unwrap();
    assert_eq!((a.level.id.as_ref(), a.score.unwrap().total), ("high", 80));
}

#[test]
fn per_unit_errors_name_the_question_and_the_limit() {
    let e = error_text(per_unit_ruleset("{per_unit: 1, severe: 5}", 100));
    assert!(e.contains("scoring.points.pain.severe"), "{e}");
    assert!(
        e.contains("`pain` earns points `per_unit`, so it cannot also earn points by band"),
        "{e}"
    );
    let e = error_text(per_unit_ruleset("{per_unit: 1}", 5000));
    assert!(e.contains("scoring.points.pain.per_unit"), "{e}");
    assert!(
        e.contains("`pain` earns points per unit, so each of its 5001 values (0 to 5000) is a class of its own, above the limit of 1001"),
        "{e}"
    );
    let e = error_text(per_unit_ruleset("{per_unit: 20000}", 100));
    assert!(
        e.contains("at 20000 points per unit the answer 100 earns 2000000 points, beyond the limit of ±1000000"),
        "{e}"
    );
}
