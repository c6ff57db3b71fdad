//! A deliberately simple reference interpreter of rule language v1, written from
//! `docs/rules.md` alone and sharing no code with the engine.
//!
//! It reads the ruleset with `serde_yaml::Value`, keeps conditions as YAML values and
//! walks them on each evaluation, works on answers as plain strings, integers and
//! booleans, and resolves missing `ask` answers by brute force over every value
//! (every integer of an integer factor's range). It assumes a ruleset the engine has
//! already accepted: it does no validation of its own.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::Value as Y;

/// An answer as a person writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ans {
    Text(String),
    Int(i64),
    Bool(bool),
}

#[derive(Debug, Clone)]
pub enum Kind {
    Ordinal(Vec<String>),
    Integer {
        min: i64,
        max: i64,
        bands: Vec<(String, i64, i64)>,
    },
    Boolean,
}

#[derive(Debug, Clone)]
pub enum Missing {
    Ask,
    Error,
    Assume(Ans),
}

#[derive(Debug, Clone)]
pub struct Factor {
    pub id: String,
    pub kind: Kind,
    pub missing: Missing,
}

#[derive(Debug, Clone)]
pub struct Invariant {
    pub when: Option<Y>,
    /// Inclusive level bounds.
    pub level: Option<(usize, usize)>,
    pub refer: Option<bool>,
}

/// Points by factor id then answer key (as text).
pub type Points = BTreeMap<String, BTreeMap<String, i64>>;
/// Score bands `(level, min, max)`.
pub type ScoreBands = Vec<(usize, Option<i64>, Option<i64>)>;
/// Points and score bands.
pub type Scoring = (Points, ScoreBands);

#[derive(Debug, Clone)]
pub struct RefRuleset {
    pub levels: Vec<String>,
    pub factors: Vec<Factor>,
    /// `(id, condition, level)`.
    pub rules: Vec<(String, Y, usize)>,
    /// `(id, kind, condition)`.
    pub flags: Vec<(String, String, Y)>,
    /// Points and score bands, when the ruleset uses scoring.
    pub scoring: Option<Scoring>,
    pub invariants: Vec<Invariant>,
}

/// What the reference computes for one answer set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub level: usize,
    pub lowest: usize,
    pub fired_rules: BTreeSet<String>,
    pub deciding_rules: BTreeSet<String>,
    pub flags: BTreeSet<String>,
    pub possible_flags: BTreeSet<String>,
    pub refer: bool,
    pub needs_review: bool,
    /// Missing `ask` questions, each with whether its answer could change the level.
    pub missing: BTreeMap<String, bool>,
    /// With scoring: the score band's level when the missing answers cannot change it.
    pub band_level: Option<Option<usize>>,
    /// `rules`, `score`, `rules_and_score`, `lowest_level` or `missing_answers`.
    pub basis: &'static str,
}

fn text(v: &Y) -> String {
    match v {
        Y::String(s) => s.clone(),
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

fn get<'a>(m: &'a Y, key: &str) -> Option<&'a Y> {
    m.as_mapping()?.get(Y::String(key.to_owned()))
}

fn ans_of(v: &Y) -> Ans {
    match v {
        Y::Bool(b) => Ans::Bool(*b),
        Y::Number(n) => Ans::Int(n.as_i64().expect("whole number")),
        other => Ans::Text(text(other)),
    }
}

impl RefRuleset {
    pub fn parse(source: &str) -> RefRuleset {
        let doc: Y = serde_yaml::from_str(source).expect("YAML");
        let levels: Vec<String> = get(&doc, "levels")
            .and_then(Y::as_sequence)
            .expect("levels")
            .iter()
            .map(|l| text(get(l, "id").expect("level id")))
            .collect();
        let level_of = |v: &Y| {
            let id = text(v);
            levels.iter().position(|l| *l == id).expect("known level")
        };
        let factors: Vec<Factor> = get(&doc, "factors")
            .and_then(Y::as_sequence)
            .expect("factors")
            .iter()
            .map(|f| {
                let kind = match text(get(f, "kind").expect("kind")).as_str() {
                    "ordinal" => Kind::Ordinal(
                        get(f, "values")
                            .and_then(Y::as_sequence)
                            .expect("values")
                            .iter()
                            .map(text)
                            .collect(),
                    ),
                    "integer" => Kind::Integer {
                        min: get(f, "min").and_then(Y::as_i64).expect("min"),
                        max: get(f, "max").and_then(Y::as_i64).expect("max"),
                        bands: get(f, "bands")
                            .and_then(Y::as_sequence)
                            .map(|bs| {
                                bs.iter()
                                    .map(|b| {
                                        (
                                            text(get(b, "id").expect("band id")),
                                            get(b, "min").and_then(Y::as_i64).expect("band min"),
                                            get(b, "max").and_then(Y::as_i64).expect("band max"),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    },
                    _ => Kind::Boolean,
                };
                let missing = match get(f, "missing") {
                    None => Missing::Ask,
                    Some(Y::String(s)) if s == "ask" => Missing::Ask,
                    Some(Y::String(s)) if s == "error" => Missing::Error,
                    Some(m) => Missing::Assume(ans_of(get(m, "assume").expect("assume"))),
                };
                Factor {
                    id: text(get(f, "id").expect("factor id")),
                    kind,
                    missing,
                }
            })
            .collect();
        let list = |key: &str| -> Vec<Y> {
            get(&doc, key)
                .and_then(Y::as_sequence)
                .cloned()
                .unwrap_or_default()
        };
        let rules = list("rules")
            .iter()
            .map(|r| {
                (
                    text(get(r, "id").expect("rule id")),
                    get(r, "when").expect("when").clone(),
                    level_of(get(r, "level").expect("rule level")),
                )
            })
            .collect();
        let flags = list("flags")
            .iter()
            .map(|f| {
                (
                    text(get(f, "id").expect("flag id")),
                    text(get(f, "kind").expect("flag kind")),
                    get(f, "when").expect("when").clone(),
                )
            })
            .collect();
        let scoring = get(&doc, "scoring").map(|s| {
            let mut points = BTreeMap::new();
            if let Some(m) = get(s, "points").and_then(Y::as_mapping) {
                for (factor, table) in m {
                    let mut t = BTreeMap::new();
                    for (k, p) in table.as_mapping().expect("points table") {
                        t.insert(text(k), p.as_i64().expect("points"));
                    }
                    points.insert(text(factor), t);
                }
            }
            let bands = get(s, "bands")
                .and_then(Y::as_sequence)
                .expect("score bands")
                .iter()
                .map(|b| {
                    (
                        level_of(get(b, "level").expect("band level")),
                        get(b, "min").and_then(Y::as_i64),
                        get(b, "max").and_then(Y::as_i64),
                    )
                })
                .collect();
            (points, bands)
        });
        let top = levels.len() - 1;
        let invariants = list("invariants")
            .iter()
            .map(|inv| {
                let expect = get(inv, "expect").expect("expect");
                let level = get(expect, "level").map(|l| {
                    if let Some(v) = get(l, "at_least") {
                        (level_of(v), top)
                    } else if let Some(v) = get(l, "at_most") {
                        (0, level_of(v))
                    } else {
                        let v = level_of(get(l, "is").expect("is"));
                        (v, v)
                    }
                });
                Invariant {
                    when: get(inv, "when").cloned(),
                    level,
                    refer: get(expect, "refer").and_then(Y::as_bool),
                }
            })
            .collect();
        RefRuleset {
            levels,
            factors,
            rules,
            flags,
            scoring,
            invariants,
        }
    }

    fn rule_level(&self, id: &str) -> usize {
        self.rules.iter().find(|r| r.0 == id).expect("rule").2
    }

    /// Whether score band levels never decrease as the total rises.
    pub fn monotone_score_bands(&self) -> bool {
        self.scoring
            .as_ref()
            .is_none_or(|(_, bands)| bands.windows(2).all(|w| w[0].0 <= w[1].0))
    }

    fn factor(&self, id: &str) -> &Factor {
        self.factors.iter().find(|f| f.id == id).expect("factor")
    }

    /// Every answer a factor can take, least risk first.
    pub fn domain(&self, f: &Factor) -> Vec<Ans> {
        match &f.kind {
            Kind::Ordinal(values) => values.iter().map(|v| Ans::Text(v.clone())).collect(),
            Kind::Integer { min, max, .. } => (*min..=*max).map(Ans::Int).collect(),
            Kind::Boolean => vec![Ans::Bool(false), Ans::Bool(true)],
        }
    }

    /// The interval `[lo, hi]` an integer operand names: a number, or a band.
    fn span(f: &Factor, operand: &Y) -> (i64, i64) {
        if let Some(n) = operand.as_i64() {
            return (n, n);
        }
        let Kind::Integer { bands, .. } = &f.kind else {
            panic!("span of a non-integer factor")
        };
        let name = text(operand);
        let (_, lo, hi) = bands.iter().find(|b| b.0 == name).expect("band");
        (*lo, *hi)
    }

    /// Section 9: evaluate a condition on complete answers.
    pub fn holds(&self, cond: &Y, answers: &BTreeMap<String, Ans>) -> bool {
        let map = cond.as_mapping().expect("condition mapping");
        assert_eq!(map.len(), 1, "a condition has exactly one key");
        let (key, arg) = map.iter().next().expect("one key");
        match text(key).as_str() {
            "all" => arg
                .as_sequence()
                .expect("list")
                .iter()
                .all(|c| self.holds(c, answers)),
            "any" => arg
                .as_sequence()
                .expect("list")
                .iter()
                .any(|c| self.holds(c, answers)),
            "not" => !self.holds(arg, answers),
            factor_id => {
                let f = self.factor(factor_id);
                let answer = answers.get(factor_id).expect("complete answers");
                let (op, operand) = match arg.as_mapping() {
                    Some(m) => {
                        let (op, operand) = m.iter().next().expect("operator");
                        (text(op), operand.clone())
                    }
                    None => ("is".to_owned(), arg.clone()),
                };
                compare(f, &op, &operand, answer)
            }
        }
    }

    /// Section 6: the score band's level, if scoring is used.
    fn score_level(&self, answers: &BTreeMap<String, Ans>) -> Option<usize> {
        let (points, bands) = self.scoring.as_ref()?;
        let mut total = 0i64;
        for (factor_id, table) in points {
            let f = self.factor(factor_id);
            let key = match (&f.kind, &answers[factor_id]) {
                (Kind::Integer { bands, .. }, Ans::Int(v)) => bands
                    .iter()
                    .find(|b| b.1 <= *v && *v <= b.2)
                    .map(|b| b.0.clone())
                    .expect("in a band"),
                (_, Ans::Text(t)) => t.clone(),
                (_, Ans::Bool(b)) => b.to_string(),
                (_, Ans::Int(i)) => i.to_string(),
            };
            total += table.get(&key).copied().unwrap_or(0);
        }
        let band = bands
            .iter()
            .find(|(_, lo, hi)| lo.is_none_or(|m| total >= m) && hi.is_none_or(|m| total <= m))
            .expect("every reachable total is in a band");
        Some(band.0)
    }

    /// Section 10.1-10.3 for complete answers: (level, fired rules, flags, score level).
    fn complete(
        &self,
        answers: &BTreeMap<String, Ans>,
    ) -> (usize, BTreeSet<String>, BTreeSet<String>) {
        let mut level = self.score_level(answers).unwrap_or(0);
        let mut fired = BTreeSet::new();
        for (id, cond, l) in &self.rules {
            if self.holds(cond, answers) {
                fired.insert(id.clone());
                level = level.max(*l);
            }
        }
        let flags = self
            .flags
            .iter()
            .filter(|(_, _, c)| self.holds(c, answers))
            .map(|(id, _, _)| id.clone())
            .collect();
        (level, fired, flags)
    }

    /// The level of complete answers.
    pub fn level(&self, answers: &BTreeMap<String, Ans>) -> usize {
        self.complete(answers).0
    }

    /// Whether a refer flag fires for complete answers.
    pub fn refer(&self, answers: &BTreeMap<String, Ans>) -> bool {
        let (_, _, flags) = self.complete(answers);
        self.flags
            .iter()
            .any(|(id, kind, _)| kind == "refer" && flags.contains(id))
    }

    /// Section 10.4: assess possibly incomplete answers. `Err` lists the unanswered
    /// factors whose policy is `error`.
    pub fn assess(&self, given: &BTreeMap<String, Ans>) -> Result<Outcome, Vec<String>> {
        let mut base = given.clone();
        let mut refused = Vec::new();
        let mut free: Vec<&Factor> = Vec::new();
        for f in &self.factors {
            if given.contains_key(&f.id) {
                continue;
            }
            match &f.missing {
                Missing::Ask => free.push(f),
                Missing::Error => refused.push(f.id.clone()),
                Missing::Assume(v) => {
                    base.insert(f.id.clone(), v.clone());
                }
            }
        }
        if !refused.is_empty() {
            return Err(refused);
        }
        let domains: Vec<Vec<Ans>> = free.iter().map(|f| self.domain(f)).collect();
        // Every completion of the missing answers, by brute force.
        let mut completions: Vec<BTreeMap<String, Ans>> = vec![base];
        for (f, dom) in free.iter().zip(&domains) {
            completions = completions
                .into_iter()
                .flat_map(|c| {
                    dom.iter().map(move |v| {
                        let mut c = c.clone();
                        c.insert(f.id.clone(), v.clone());
                        c
                    })
                })
                .collect();
        }
        let results: Vec<(usize, BTreeSet<String>, BTreeSet<String>)> =
            completions.iter().map(|c| self.complete(c)).collect();
        let level = results.iter().map(|r| r.0).max().expect("a completion");
        let lowest = results.iter().map(|r| r.0).min().expect("a completion");
        let intersect = |sets: &mut dyn Iterator<Item = &BTreeSet<String>>| {
            let first = sets.next().cloned().unwrap_or_default();
            sets.fold(first, |acc, s| acc.intersection(s).cloned().collect())
        };
        let fired_rules = intersect(&mut results.iter().map(|r| &r.1));
        let flags = intersect(&mut results.iter().map(|r| &r.2));
        let any_flags: BTreeSet<String> = results.iter().flat_map(|r| r.2.clone()).collect();
        let possible_flags: BTreeSet<String> = any_flags.difference(&flags).cloned().collect();
        let deciding_rules = self
            .rules
            .iter()
            .filter(|(id, _, l)| *l == level && fired_rules.contains(id))
            .map(|(id, _, _)| id.clone())
            .collect();
        let is_refer = |id: &String| {
            self.flags
                .iter()
                .any(|(fid, kind, _)| fid == id && kind == "refer")
        };
        let refer = flags.iter().any(is_refer);
        let needs_review = lowest != level || possible_flags.iter().any(is_refer);
        // A missing question could change the level when two completions that differ
        // only in its answer get different levels.
        let band_level = self.scoring.as_ref().map(|_| {
            let levels: BTreeSet<usize> = completions
                .iter()
                .filter_map(|c| self.score_level(c))
                .collect();
            (levels.len() == 1)
                .then(|| levels.iter().copied().next())
                .flatten()
        });
        let score_decides = band_level == Some(Some(level));
        let basis = match (
            fired_rules.iter().any(|r| self.rule_level(r) == level),
            score_decides,
        ) {
            (true, false) => "rules",
            (false, true) => "score",
            (true, true) => "rules_and_score",
            (false, false) if level == 0 => "lowest_level",
            (false, false) => "missing_answers",
        };
        let mut missing = BTreeMap::new();
        for f in &free {
            let mut by_rest: BTreeMap<Vec<String>, BTreeSet<usize>> = BTreeMap::new();
            for (c, r) in completions.iter().zip(&results) {
                let rest: Vec<String> = c
                    .iter()
                    .filter(|(k, _)| **k != f.id)
                    .map(|(k, v)| format!("{k}={v:?}"))
                    .collect();
                by_rest.entry(rest).or_default().insert(r.0);
            }
            missing.insert(f.id.clone(), by_rest.values().any(|s| s.len() > 1));
        }
        Ok(Outcome {
            level,
            lowest,
            fired_rules,
            deciding_rules,
            flags,
            possible_flags,
            refer,
            needs_review,
            missing,
            band_level,
            basis,
        })
    }

    /// Every complete answer set (the whole answer space), as value indices into
    /// each factor's domain, last factor fastest.
    fn all_index_sets(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new()];
        for f in &self.factors {
            let n = self.domain(f).len();
            out = out
                .into_iter()
                .flat_map(|c| {
                    (0..n).map(move |i| {
                        let mut c = c.clone();
                        c.push(i);
                        c
                    })
                })
                .collect();
        }
        out
    }

    fn answers_at(&self, digits: &[usize]) -> BTreeMap<String, Ans> {
        self.factors
            .iter()
            .zip(digits)
            .map(|(f, &d)| (f.id.clone(), self.domain(f)[d].clone()))
            .collect()
    }

    /// Every complete answer set.
    pub fn all_answer_sets(&self) -> Vec<BTreeMap<String, Ans>> {
        self.all_index_sets()
            .iter()
            .map(|d| self.answers_at(d))
            .collect()
    }

    /// Section 10.6 by brute force: the factors for which raising one answer by one
    /// step along its scale lowers the level for some answer set.
    pub fn non_monotone_factors(&self) -> BTreeSet<String> {
        let sets = self.all_index_sets();
        let levels: BTreeMap<Vec<usize>, usize> = sets
            .iter()
            .map(|d| (d.clone(), self.level(&self.answers_at(d))))
            .collect();
        let mut out = BTreeSet::new();
        for (digits, &here) in &levels {
            for (k, f) in self.factors.iter().enumerate() {
                let mut up = digits.clone();
                up[k] += 1;
                if levels.get(&up).is_some_and(|&l| l < here) {
                    out.insert(f.id.clone());
                }
            }
        }
        out
    }

    /// Whether invariant `i` holds for every complete answer set.
    pub fn invariant_holds(&self, i: usize) -> bool {
        let inv = &self.invariants[i];
        self.all_answer_sets().iter().all(|a| {
            let applies = inv.when.as_ref().is_none_or(|w| self.holds(w, a));
            let level = self.level(a);
            let level_ok = inv.level.is_none_or(|(lo, hi)| lo <= level && level <= hi);
            let refer_ok = inv.refer.is_none_or(|r| r == self.refer(a));
            !applies || (level_ok && refer_ok)
        })
    }
}

/// Section 9.2: one comparison on one factor's answer.
fn compare(f: &Factor, op: &str, operand: &Y, answer: &Ans) -> bool {
    match (&f.kind, answer) {
        (Kind::Boolean, Ans::Bool(b)) => {
            assert_eq!(op, "is");
            operand.as_bool() == Some(*b)
        }
        (Kind::Ordinal(values), Ans::Text(t)) => {
            let pos = |v: &Y| {
                let name = text(v);
                values.iter().position(|x| *x == name).expect("a value")
            };
            let at = values.iter().position(|x| x == t).expect("answer in scale");
            match op {
                "is" => at == pos(operand),
                "in" => operand
                    .as_sequence()
                    .expect("list")
                    .iter()
                    .any(|v| pos(v) == at),
                "at_least" => at >= pos(operand),
                "at_most" => at <= pos(operand),
                "between" => {
                    let s = operand.as_sequence().expect("pair");
                    pos(&s[0]) <= at && at <= pos(&s[1])
                }
                other => panic!("operator {other} on an ordinal factor"),
            }
        }
        (Kind::Integer { .. }, Ans::Int(x)) => {
            let x = *x;
            let span = |v: &Y| RefRuleset::span(f, v);
            match op {
                "is" => {
                    let (lo, hi) = span(operand);
                    lo <= x && x <= hi
                }
                "in" => operand.as_sequence().expect("list").iter().any(|v| {
                    let (lo, hi) = span(v);
                    lo <= x && x <= hi
                }),
                "at_least" => x >= span(operand).0,
                "at_most" => x <= span(operand).1,
                "between" => {
                    let s = operand.as_sequence().expect("pair");
                    span(&s[0]).0 <= x && x <= span(&s[1]).1
                }
                "above" => x > span(operand).1,
                "below" => x < span(operand).0,
                other => panic!("unknown operator {other}"),
            }
        }
        (kind, answer) => panic!("answer {answer:?} does not fit {kind:?}"),
    }
}
