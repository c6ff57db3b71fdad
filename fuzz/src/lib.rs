//! Shared code for the carelevel fuzz targets: the assessment invariants every
//! target asserts, and the structured generator of small valid rulesets used by
//! the `evaluate` target.

use std::collections::{BTreeSet, HashMap};

use arbitrary::{Result, Unstructured};
use carelevel::{Answers, Assessment, EvalError, FlagKind, MissingPolicy, Ruleset, Value};

/// Product of every factor's number of classes (saturating), the size of the
/// answer space the analysis enumerates.
pub fn space_size(rs: &Ruleset) -> u128 {
    rs.factors().iter().fold(1u128, |acc, f| {
        acc.saturating_mul(f.classes().len() as u128)
    })
}

/// Assess `answers` with both entry points and assert everything that must hold
/// whatever the ruleset: no panic, the fast path agrees with the full assessment,
/// the level is a level of the ruleset, no fired rule demands more than the level,
/// the range is ordered and topped by the level, and `needs_review` is set exactly
/// when the range is open or a refer flag is possible.
pub fn check_invariants<'r>(rs: &'r Ruleset, answers: &Answers<'_>) -> Option<Assessment<'r>> {
    let fast = rs.level_for(answers);
    let full = rs.assess(answers);
    match (&fast, &full) {
        (Ok(level), Ok(a)) => {
            assert_eq!(*level, a.level.rank, "level_for disagrees with assess");
            assert!(*level < rs.levels().len(), "level out of range");
            assert_eq!(a.level.id, rs.levels()[*level].id);
            assert!(a.level_range.lowest.rank <= a.level_range.highest.rank);
            assert_eq!(a.level_range.highest.rank, a.level.rank);
            for r in &a.fired_rules {
                let rl = rs.level_index(&r.level).expect("fired rule names a level");
                assert!(
                    rl <= a.level.rank,
                    "fired rule {} demands more than the level",
                    r.id
                );
            }
            let fired: BTreeSet<&str> = a.fired_rules.iter().map(|r| r.id.as_ref()).collect();
            for d in &a.deciding_rules {
                assert!(fired.contains(d.as_ref()), "deciding rule {d} did not fire");
            }
            let deciding_expected: Vec<&str> = a
                .fired_rules
                .iter()
                .filter(|r| r.level == a.level.id)
                .map(|r| r.id.as_ref())
                .collect();
            let deciding: Vec<&str> = a.deciding_rules.iter().map(|d| d.as_ref()).collect();
            assert_eq!(deciding, deciding_expected);
            let refer_possible = a.possible_flags.iter().any(|f| f.kind == FlagKind::Refer);
            let open = a.level_range.lowest.rank != a.level_range.highest.rank;
            assert_eq!(a.needs_review, open || refer_possible, "needs_review");
            assert_eq!(a.refer, a.flags.iter().any(|f| f.kind == FlagKind::Refer));
            if a.missing.is_empty() {
                assert!(!open, "range open with nothing missing");
                assert!(a.possible_flags.is_empty());
            }
            for m in &a.missing {
                assert!(!answers.is_answered(&m.factor));
            }
        }
        (Err(e1), Err(e2)) => assert_eq!(e1, e2, "different errors"),
        // The full assessment spends its evaluation budget on more questions than the
        // fast path; it may refuse where the fast path still answered, but never guess.
        (Ok(_), Err(EvalError::TooManyMissing { .. })) => {}
        (f, a) => panic!(
            "level_for {f:?} but assess {:?}",
            a.as_ref().map(|x| &x.level)
        ),
    }
    full.ok()
}

// ---------------------------------------------------------------------------
// Structured generation of small valid rulesets.
// ---------------------------------------------------------------------------

/// The kind of a generated factor.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Values `v0..v{n-1}`.
    Ordinal(usize),
    /// `min..=max`, with bands `b0..` given as inclusive spans.
    Integer {
        min: i64,
        max: i64,
        bands: Vec<(i64, i64)>,
    },
    Boolean,
}

/// A generated factor.
#[derive(Debug, Clone)]
pub struct FactorSpec {
    pub kind: Kind,
    /// 0 ask, 1 error, 2 assume (`assume` holds the value code).
    pub missing: u8,
    pub assume: i64,
}

/// Points per scored factor, as `(answer key, points)` pairs.
pub type ScorePoints = Vec<(usize, Vec<(String, i64)>)>;
/// Score bands `(level, min, max)`.
pub type ScoreBands = Vec<(usize, Option<i64>, Option<i64>)>;

/// A generated ruleset, rendered to YAML by [`Spec::render`].
#[derive(Debug, Clone)]
pub struct Spec {
    pub levels: usize,
    pub factors: Vec<FactorSpec>,
    pub rules: Vec<(String, usize)>,
    pub flags: Vec<(String, usize)>,
    /// Points per factor (`key: points` pairs) and score bands `(level, min, max)`.
    pub scoring: Option<(ScorePoints, ScoreBands)>,
}

impl FactorSpec {
    /// The YAML rendering of value code `code`.
    pub fn render(&self, code: i64) -> String {
        match self.kind {
            Kind::Ordinal(_) => format!("v{code}"),
            Kind::Integer { .. } => code.to_string(),
            Kind::Boolean => (code != 0).to_string(),
        }
    }

    /// Every value code, least risk first.
    pub fn codes(&self) -> Vec<i64> {
        match self.kind {
            Kind::Ordinal(n) => (0..n as i64).collect(),
            Kind::Integer { min, max, .. } => (min..=max).collect(),
            Kind::Boolean => vec![0, 1],
        }
    }

    /// The public-API value of code `code`.
    pub fn value(&self, code: i64) -> Value {
        match self.kind {
            Kind::Ordinal(_) => Value::Text(format!("v{code}")),
            Kind::Integer { .. } => Value::Integer(code),
            Kind::Boolean => Value::Boolean(code != 0),
        }
    }

    fn any_code(&self, u: &mut Unstructured<'_>) -> Result<i64> {
        Ok(match self.kind {
            Kind::Ordinal(n) => u.int_in_range(0..=n as i64 - 1)?,
            Kind::Integer { min, max, .. } => u.int_in_range(min..=max)?,
            Kind::Boolean => i64::from(u.arbitrary::<bool>()?),
        })
    }
}

fn factor(u: &mut Unstructured<'_>) -> Result<FactorSpec> {
    let kind = match u.int_in_range(0..=2u8)? {
        0 => Kind::Ordinal(u.int_in_range(2..=5)?),
        1 => {
            let min = u.int_in_range(-3..=5i64)?;
            let max = min + u.int_in_range(0..=9i64)?;
            let mut bands = Vec::new();
            if u.arbitrary::<bool>()? {
                let mut cuts: Vec<i64> = Vec::new();
                for _ in 0..u.int_in_range(0..=3u8)? {
                    if max > min {
                        cuts.push(u.int_in_range(min + 1..=max)?);
                    }
                }
                cuts.sort_unstable();
                cuts.dedup();
                let mut lo = min;
                for c in cuts {
                    bands.push((lo, c - 1));
                    lo = c;
                }
                bands.push((lo, max));
            }
            Kind::Integer { min, max, bands }
        }
        _ => Kind::Boolean,
    };
    let mut f = FactorSpec {
        kind,
        missing: 0,
        assume: 0,
    };
    f.missing = match u.int_in_range(0..=5u8)? {
        0..=3 => 0,
        4 => 1,
        _ => 2,
    };
    f.assume = f.any_code(u)?;
    Ok(f)
}

/// One comparison on factor `fi`, as a YAML flow mapping.
fn leaf(u: &mut Unstructured<'_>, factors: &[FactorSpec]) -> Result<String> {
    let fi = u.choose_index(factors.len())?;
    let f = &factors[fi];
    let id = format!("f{fi}");
    Ok(match &f.kind {
        Kind::Boolean => {
            let b = u.arbitrary::<bool>()?;
            if u.arbitrary::<bool>()? {
                format!("{{{id}: {b}}}")
            } else {
                format!("{{{id}: {{is: {b}}}}}")
            }
        }
        Kind::Ordinal(n) => {
            let n = *n as i64;
            let a = u.int_in_range(0..=n - 1)?;
            let b = u.int_in_range(0..=n - 1)?;
            let (lo, hi) = (a.min(b), a.max(b));
            match u.int_in_range(0..=5u8)? {
                0 => format!("{{{id}: v{a}}}"),
                1 => format!("{{{id}: {{is: v{a}}}}}"),
                2 => {
                    let k = u.int_in_range(1..=3usize)?;
                    let mut items = Vec::new();
                    for _ in 0..k {
                        items.push(format!("v{}", u.int_in_range(0..=n - 1)?));
                    }
                    format!("{{{id}: {{in: [{}]}}}}", items.join(", "))
                }
                3 => format!("{{{id}: {{at_least: v{a}}}}}"),
                4 => format!("{{{id}: {{at_most: v{a}}}}}"),
                _ => format!("{{{id}: {{between: [v{lo}, v{hi}]}}}}"),
            }
        }
        Kind::Integer { min, max, bands } => {
            let (min, max) = (*min, *max);
            // An operand: a number or a band id, with the span it names.
            let operand = |u: &mut Unstructured<'_>| -> Result<(String, i64, i64)> {
                if !bands.is_empty() && u.arbitrary::<bool>()? {
                    let b = u.choose_index(bands.len())?;
                    Ok((format!("b{b}"), bands[b].0, bands[b].1))
                } else {
                    let v = u.int_in_range(min..=max)?;
                    Ok((v.to_string(), v, v))
                }
            };
            let (a, alo, ahi) = operand(u)?;
            let op = u.int_in_range(0..=7u8)?;
            match op {
                0 => {
                    let v = u.int_in_range(min..=max)?;
                    format!("{{{id}: {v}}}")
                }
                1 => format!("{{{id}: {{is: {a}}}}}"),
                2 => {
                    let (b, _, _) = operand(u)?;
                    format!("{{{id}: {{in: [{a}, {b}]}}}}")
                }
                3 => format!("{{{id}: {{at_least: {a}}}}}"),
                4 => format!("{{{id}: {{at_most: {a}}}}}"),
                5 => {
                    let (b, _, bhi) = operand(u)?;
                    if alo > bhi {
                        format!("{{{id}: {{between: [{b}, {a}]}}}}")
                    } else {
                        format!("{{{id}: {{between: [{a}, {b}]}}}}")
                    }
                }
                // above/below must leave some answer: fall back to at_least/at_most.
                6 if ahi < max => format!("{{{id}: {{above: {a}}}}}"),
                7 if alo > min => format!("{{{id}: {{below: {a}}}}}"),
                _ => format!("{{{id}: {{at_least: {a}}}}}"),
            }
        }
    })
}

fn condition(u: &mut Unstructured<'_>, factors: &[FactorSpec], depth: usize) -> Result<String> {
    let choice = if depth >= 3 {
        0
    } else {
        u.int_in_range(0..=5u8)?
    };
    Ok(match choice {
        0..=2 => leaf(u, factors)?,
        3 | 4 => {
            let key = if choice == 3 { "all" } else { "any" };
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(1..=3u8)? {
                items.push(condition(u, factors, depth + 1)?);
            }
            format!("{{{key}: [{}]}}", items.join(", "))
        }
        _ => format!("{{not: {}}}", condition(u, factors, depth + 1)?),
    })
}

impl Spec {
    /// Draw a small ruleset: 1-5 levels, 1-4 factors, up to 6 rules and 3 flags,
    /// optional scoring. Every part is valid by construction except that a drawn
    /// condition may be unsatisfiable (then the ruleset does not compile).
    pub fn generate(u: &mut Unstructured<'_>) -> Result<Spec> {
        let levels = u.int_in_range(1..=5usize)?;
        let mut factors = Vec::new();
        for _ in 0..u.int_in_range(1..=4u8)? {
            factors.push(factor(u)?);
        }
        let mut rules = Vec::new();
        for _ in 0..u.int_in_range(0..=6u8)? {
            let c = condition(u, &factors, 0)?;
            rules.push((c, u.int_in_range(0..=levels - 1)?));
        }
        let mut flags = Vec::new();
        for _ in 0..u.int_in_range(0..=3u8)? {
            let c = condition(u, &factors, 0)?;
            flags.push((c, u.int_in_range(0..=2usize)?));
        }
        let scoring = if u.ratio(1, 3)? {
            let mut points = Vec::new();
            let (mut lowest, mut highest) = (0i64, 0i64);
            for (fi, f) in factors.iter().enumerate() {
                if !u.arbitrary::<bool>()? {
                    continue;
                }
                let keys: Vec<String> = match &f.kind {
                    Kind::Ordinal(n) => (0..*n).map(|i| format!("v{i}")).collect(),
                    Kind::Boolean => vec!["false".into(), "true".into()],
                    Kind::Integer { bands, .. } if !bands.is_empty() => {
                        (0..bands.len()).map(|i| format!("b{i}")).collect()
                    }
                    Kind::Integer { .. } => continue,
                };
                let mut table = Vec::new();
                let (mut lo, mut hi) = (0i64, 0i64);
                let mut all_listed = true;
                for k in keys {
                    if u.arbitrary::<bool>()? {
                        let p = u.int_in_range(-3..=6i64)?;
                        lo = lo.min(p);
                        hi = hi.max(p);
                        table.push((k, p));
                    } else {
                        all_listed = false;
                    }
                }
                if all_listed && !table.is_empty() {
                    // Every answer is listed: the range is exactly the listed points.
                    lo = table.iter().map(|t| t.1).min().unwrap_or(0);
                    hi = table.iter().map(|t| t.1).max().unwrap_or(0);
                }
                lowest += lo;
                highest += hi;
                points.push((fi, table));
            }
            let mut cuts: Vec<i64> = Vec::new();
            for _ in 0..u.int_in_range(0..=2u8)? {
                if highest > lowest {
                    cuts.push(u.int_in_range(lowest + 1..=highest)?);
                }
            }
            cuts.sort_unstable();
            cuts.dedup();
            let mut bands = Vec::new();
            let first_min = if u.arbitrary::<bool>()? {
                None
            } else {
                Some(lowest - u.int_in_range(0..=2i64)?)
            };
            let mut lo = first_min;
            for c in &cuts {
                bands.push((u.int_in_range(0..=levels - 1)?, lo, Some(c - 1)));
                lo = Some(*c);
            }
            let last_max = if u.arbitrary::<bool>()? {
                None
            } else {
                Some(highest + u.int_in_range(0..=2i64)?)
            };
            bands.push((u.int_in_range(0..=levels - 1)?, lo, last_max));
            Some((points, bands))
        } else {
            None
        };
        Ok(Spec {
            levels,
            factors,
            rules,
            flags,
            scoring,
        })
    }

    /// The ruleset as YAML text.
    pub fn render(&self) -> String {
        let mut t = String::from("id: fuzz\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n");
        for l in 0..self.levels {
            t.push_str(&format!("  - {{id: l{l}, label: L{l}, description: d}}\n"));
        }
        t.push_str("factors:\n");
        for (i, f) in self.factors.iter().enumerate() {
            let missing = match f.missing {
                0 => "ask".to_owned(),
                1 => "error".to_owned(),
                _ => format!("{{assume: {}}}", f.render(f.assume)),
            };
            let kind = match &f.kind {
                Kind::Ordinal(n) => {
                    let vals: Vec<String> = (0..*n).map(|v| format!("v{v}")).collect();
                    format!("ordinal, values: [{}]", vals.join(", "))
                }
                Kind::Boolean => "boolean".to_owned(),
                Kind::Integer { min, max, bands } => {
                    let mut s = format!("integer, min: {min}, max: {max}");
                    if !bands.is_empty() {
                        let b: Vec<String> = bands
                            .iter()
                            .enumerate()
                            .map(|(j, (lo, hi))| format!("{{id: b{j}, min: {lo}, max: {hi}}}"))
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
        if let Some((points, bands)) = &self.scoring {
            t.push_str("scoring:\n  points:\n");
            for (fi, table) in points {
                let kv: Vec<String> = table.iter().map(|(k, p)| format!("{k}: {p}")).collect();
                t.push_str(&format!("    f{fi}: {{{}}}\n", kv.join(", ")));
            }
            if points.is_empty() {
                t = t.replace("  points:\n", "  points: {}\n");
            }
            t.push_str("  bands:\n");
            for (l, lo, hi) in bands {
                let mut parts = vec![format!("level: l{l}")];
                if let Some(lo) = lo {
                    parts.push(format!("min: {lo}"));
                }
                if let Some(hi) = hi {
                    parts.push(format!("max: {hi}"));
                }
                t.push_str(&format!("    - {{{}}}\n", parts.join(", ")));
            }
        }
        t.push_str("rules:\n");
        if self.rules.is_empty() {
            t = t.replace("rules:\n", "rules: []\n");
        }
        for (i, (c, l)) in self.rules.iter().enumerate() {
            t.push_str(&format!(
                "  - {{id: r{i}, when: {c}, level: l{l}, because: B}}\n"
            ));
        }
        if !self.flags.is_empty() {
            t.push_str("flags:\n");
            for (i, (c, k)) in self.flags.iter().enumerate() {
                let kind = ["refer", "review", "info"][*k];
                t.push_str(&format!(
                    "  - {{id: g{i}, kind: {kind}, when: {c}, message: M}}\n"
                ));
            }
        }
        t
    }
}

/// One drawn answer: missing, a valid code, or a deliberately invalid value.
#[derive(Debug, Clone)]
pub enum Draw {
    Missing,
    Code(i64),
    Invalid(Value),
}

/// Draw one answer per factor (about a third missing, a few invalid).
pub fn draw_answers(u: &mut Unstructured<'_>, spec: &Spec) -> Result<Vec<Draw>> {
    let mut out = Vec::new();
    for f in &spec.factors {
        out.push(match u.int_in_range(0..=15u8)? {
            0..=4 => Draw::Missing,
            5 => Draw::Invalid(match f.kind {
                Kind::Ordinal(n) => Value::Text(format!("v{n}")),
                Kind::Integer { max, .. } => Value::Integer(max + 1),
                Kind::Boolean => Value::Integer(1),
            }),
            _ => Draw::Code(f.any_code(u)?),
        });
    }
    Ok(out)
}

/// Compile `spec`, set `draws`, assert the invariants, and check the assessment
/// against brute force over every value of the missing `ask` answers.
pub fn run_evaluate(spec: &Spec, draws: &[Draw]) {
    let text = spec.render();
    let Ok(rs) = Ruleset::from_yaml(&text) else {
        return;
    };
    assert_eq!(rs.levels().len(), spec.levels);
    let mut answers = rs.new_answers();
    let mut codes: Vec<Option<i64>> = Vec::new();
    for (i, (f, d)) in spec.factors.iter().zip(draws).enumerate() {
        let id = format!("f{i}");
        match d {
            Draw::Missing => codes.push(None),
            Draw::Code(c) => {
                answers.set(&id, f.value(*c)).expect("valid answer");
                codes.push(Some(*c));
            }
            Draw::Invalid(v) => {
                assert!(
                    answers.set(&id, v.clone()).is_err(),
                    "invalid answer accepted"
                );
                assert!(!answers.is_answered(&id));
                codes.push(None);
            }
        }
    }
    check_invariants(&rs, &answers);

    // Brute force over the missing `ask` answers (assume: filled; error: refused).
    let mut free: Vec<usize> = Vec::new();
    let mut base = answers.clone();
    let mut refused = false;
    for (i, f) in spec.factors.iter().enumerate() {
        if codes[i].is_some() {
            continue;
        }
        match rs.factors()[i].missing {
            MissingPolicy::Ask => free.push(i),
            MissingPolicy::Error => refused = true,
            MissingPolicy::Assume(_) => {
                base.set(&format!("f{i}"), f.value(f.assume))
                    .expect("assume");
            }
        }
    }
    if refused {
        assert!(matches!(
            rs.assess(&answers),
            Err(EvalError::MissingRequired { .. })
        ));
        return;
    }
    let domains: Vec<Vec<i64>> = free.iter().map(|&i| spec.factors[i].codes()).collect();
    let count: usize = domains.iter().map(Vec::len).product();
    if count > 128 {
        return;
    }
    let Ok(partial) = rs.assess(&answers) else {
        panic!("assessment refused a small search")
    };
    assert_eq!(partial.missing.len(), free.len());
    let mut lo = usize::MAX;
    let mut hi = 0;
    let mut always_rules: Option<BTreeSet<String>> = None;
    let mut always_flags: Option<BTreeSet<String>> = None;
    let mut some_flags: BTreeSet<String> = BTreeSet::new();
    let mut by_rest: Vec<HashMap<Vec<i64>, BTreeSet<usize>>> = vec![HashMap::new(); free.len()];
    let mut digits = vec![0usize; free.len()];
    for _ in 0..count {
        let mut a = base.clone();
        let combo: Vec<i64> = digits
            .iter()
            .zip(&domains)
            .map(|(&d, dom)| dom[d])
            .collect();
        for (k, &i) in free.iter().enumerate() {
            a.set(&format!("f{i}"), spec.factors[i].value(combo[k]))
                .expect("valid");
        }
        let full = check_invariants(&rs, &a).expect("complete answers assess");
        let level = full.level.rank;
        lo = lo.min(level);
        hi = hi.max(level);
        let rules: BTreeSet<String> = full.fired_rules.iter().map(|r| r.id.to_string()).collect();
        let flags: BTreeSet<String> = full.flags.iter().map(|r| r.id.to_string()).collect();
        some_flags.extend(flags.iter().cloned());
        always_rules = Some(match always_rules {
            None => rules,
            Some(x) => x.intersection(&rules).cloned().collect(),
        });
        always_flags = Some(match always_flags {
            None => flags,
            Some(x) => x.intersection(&flags).cloned().collect(),
        });
        for (k, map) in by_rest.iter_mut().enumerate() {
            let mut rest = combo.clone();
            rest.remove(k);
            map.entry(rest).or_default().insert(level);
        }
        for (d, dom) in digits.iter_mut().zip(&domains).rev() {
            *d += 1;
            if *d < dom.len() {
                break;
            }
            *d = 0;
        }
    }
    assert_eq!(
        partial.level_range.lowest.rank, lo,
        "lowest of range\n{text}"
    );
    assert_eq!(
        partial.level_range.highest.rank, hi,
        "highest of range\n{text}"
    );
    let fired: BTreeSet<String> = partial
        .fired_rules
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(Some(fired), always_rules, "fired rules\n{text}");
    let flags: BTreeSet<String> = partial.flags.iter().map(|r| r.id.to_string()).collect();
    let always_flags = always_flags.unwrap_or_default();
    assert_eq!(flags, always_flags, "fired flags\n{text}");
    let possible: BTreeSet<String> = partial
        .possible_flags
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    let expected_possible: BTreeSet<String> =
        some_flags.difference(&always_flags).cloned().collect();
    assert_eq!(possible, expected_possible, "possible flags\n{text}");
    for (k, &i) in free.iter().enumerate() {
        let could = by_rest[k].values().any(|levels| levels.len() > 1);
        let m = partial
            .missing
            .iter()
            .find(|m| m.factor == format!("f{i}"))
            .expect("missing factor listed");
        assert_eq!(
            m.could_change_level, could,
            "could_change_level f{i}\n{text}"
        );
    }
}
