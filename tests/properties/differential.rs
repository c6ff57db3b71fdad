//! Differential testing: the compiled engine against the simple reference interpreter
//! (`reference.rs`) on random valid rulesets (`rulegen.rs`), the whole-space `check`
//! against brute force, and determinism of results across threads.

use std::collections::{BTreeMap, BTreeSet};

use carelevel::analysis::{check, diff, FindingKind};
use carelevel::{json, EvalError, Ruleset};
use proptest::prelude::*;

use crate::reference::{Ans, Kind, RefRuleset};
use crate::rulegen::{answers_yaml, valid_case};

/// The drawn answers as the reference interpreter's typed answers.
fn ref_answers(reference: &RefRuleset, pairs: &[(String, String)]) -> BTreeMap<String, Ans> {
    pairs
        .iter()
        .map(|(k, v)| {
            let f = reference.factors.iter().find(|f| f.id == *k).unwrap();
            let a = match f.kind {
                Kind::Ordinal(_) => Ans::Text(v.clone()),
                Kind::Integer { .. } => Ans::Int(v.parse().unwrap()),
                Kind::Boolean => Ans::Bool(v == "true"),
            };
            (k.clone(), a)
        })
        .collect()
}

fn ids<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::rulegen::cases(768)))]

    /// Level, fired and deciding rules, flags, possible flags, refer, the level range,
    /// `needs_review`, which missing questions could change the level, and refusal
    /// under `missing: error`: engine == reference.
    #[test]
    fn engine_equals_reference_interpreter((g, text, drawn) in valid_case(0)) {
        let rs = Ruleset::from_yaml(&text).unwrap();
        let reference = RefRuleset::parse(&text);
        prop_assert_eq!(reference.levels.len(), rs.levels().len());
        let pairs = g.answers(&drawn);
        let answers = rs.answers_from_yaml(&answers_yaml(&pairs)).unwrap();
        let expected = reference.assess(&ref_answers(&reference, &pairs));
        let got = rs.assess(&answers);
        let fast = rs.level_for(&answers);
        match (expected, got) {
            (Err(required), Err(EvalError::MissingRequired { factors })) => {
                prop_assert_eq!(&required, &factors, "{}", text);
                prop_assert_eq!(fast, Err(EvalError::MissingRequired { factors }));
            }
            (Ok(want), Ok(a)) => {
                prop_assert_eq!(a.level.rank, want.level, "level\n{}", text);
                prop_assert_eq!(fast, Ok(want.level));
                prop_assert_eq!(a.level_range.lowest.rank, want.lowest, "lowest\n{}", text);
                prop_assert_eq!(a.level_range.highest.rank, want.level);
                prop_assert_eq!(ids(a.fired_rules.iter().map(|r| r.id.as_ref())), want.fired_rules, "fired\n{}", text);
                prop_assert_eq!(&ids(a.deciding_rules.iter().map(AsRef::as_ref)), &want.deciding_rules, "deciding\n{}", text);
                prop_assert_eq!(&ids(a.flags.iter().map(|f| f.id.as_ref())), &want.flags, "flags\n{}", text);
                prop_assert_eq!(ids(a.possible_flags.iter().map(|f| f.id.as_ref())), want.possible_flags, "possible flags\n{}", text);
                prop_assert_eq!(a.refer, want.refer, "refer\n{}", text);
                prop_assert_eq!(a.needs_review, want.needs_review, "needs_review\n{}", text);
                // The compact decision (its own search when answers are missing).
                let d = rs.decide(&answers).unwrap();
                prop_assert_eq!(d.level, rs.levels()[want.level].id.as_str(), "decide level\n{}", text);
                prop_assert_eq!(&ids(d.deciding_rules.iter().copied()), &want.deciding_rules, "decide deciding\n{}", text);
                prop_assert_eq!(&ids(d.flags.iter().copied()), &want.flags, "decide flags\n{}", text);
                prop_assert_eq!((d.refer, d.needs_review), (want.refer, want.needs_review), "decide refer, review\n{}", text);
                let missing: BTreeMap<String, bool> = a
                    .missing
                    .iter()
                    .map(|m| (m.factor.to_string(), m.could_change_level))
                    .collect();
                prop_assert_eq!(missing, want.missing, "missing\n{}", text);
                let band_level = a.score.as_ref().map(|s| s.band_level.as_ref().map(|l| l.rank));
                if reference.monotone_score_bands() || band_level == want.band_level {
                    prop_assert_eq!(band_level, want.band_level, "band_level\n{}", text);
                    let basis = serde_json::to_value(a.basis).unwrap();
                    prop_assert_eq!(basis.as_str(), Some(want.basis), "basis\n{}", text);
                } else {
                    // Score bands whose levels fall as the total rises: the engine bounds
                    // the band by the interval of reachable totals, so it may leave
                    // `band_level` open where only some totals in between are reachable.
                    // It must never claim a band level that the answers could change.
                    prop_assert_eq!(band_level, Some(None), "band_level\n{}", text);
                }
            }
            (want, got) => prop_assert!(false, "reference {:?} but engine {:?}\n{}", want, got.map(|a| a.level), text),
        }
    }

    /// `check` reports a factor as not monotone exactly when brute force finds an
    /// answer set where raising that answer one step lowers the level; an invariant
    /// holds exactly when brute force finds no counterexample.
    #[test]
    fn check_equals_brute_force((_g, text, _drawn) in valid_case(3)) {
        let rs = Ruleset::from_yaml(&text).unwrap();
        let reference = RefRuleset::parse(&text);
        let report = check(&rs, false).unwrap();
        let subjects = |kind: FindingKind| -> BTreeSet<String> {
            report
                .findings
                .iter()
                .filter(|f| f.kind == kind)
                .map(|f| f.subject.clone())
                .collect()
        };
        prop_assert_eq!(subjects(FindingKind::NotMonotone), reference.non_monotone_factors(), "{}", text);
        let holds = subjects(FindingKind::InvariantHolds);
        let fails = subjects(FindingKind::InvariantFails);
        for i in 0..reference.invariants.len() {
            let id = format!("i{i}");
            let brute = reference.invariant_holds(i);
            prop_assert_eq!(holds.contains(&id), brute, "invariant {} holds\n{}", id, text);
            prop_assert_eq!(fails.contains(&id), !brute, "invariant {} fails\n{}", id, text);
        }
    }
}

/// Answer sets for the default ruleset as JSON: the bundled example cases (some
/// with questions left out, so the missing-answer search runs too).
fn default_answer_sets() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
    let cases = std::fs::read_to_string(format!("{root}examples/cases/people.jsonl")).unwrap();
    let mut out: Vec<String> = cases
        .lines()
        .map(|l| {
            // Drop the `id` key, which is not a question.
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("id");
            v.to_string()
        })
        .collect();
    // The same people with one or two answers left out.
    let more: Vec<String> = out
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let mut v: serde_json::Value = serde_json::from_str(j).unwrap();
            let obj = v.as_object_mut().unwrap();
            let keys: Vec<String> = obj.keys().cloned().collect();
            obj.remove(&keys[i % keys.len()]);
            obj.remove(&keys[(i * 7 + 3) % keys.len()]);
            v.to_string()
        })
        .collect();
    out.extend(more);
    out.push("{}".to_owned());
    out
}

/// Assessing the same answers from several threads at once gives byte-identical JSON
/// to assessing them one by one on one thread.
#[test]
fn assessments_are_identical_across_threads() {
    let rs = Ruleset::default_ruleset().unwrap();
    let six = Ruleset::from_yaml(include_str!("../../examples/rulesets/six-levels.yaml")).unwrap();
    let inputs = default_answer_sets();
    let run =
        |rs: &Ruleset| -> Vec<String> { inputs.iter().map(|a| json::assess_json(rs, a)).collect() };
    let single = run(&rs);
    let single_six = run(&six);
    assert!(single.iter().any(|s| s.contains("\"needs_review\":true")));
    let results: Vec<(Vec<String>, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| (run(&rs), run(&six))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (a, b) in results {
        assert_eq!(a, single);
        assert_eq!(b, single_six);
    }
}

/// The analysis `diff` splits its work across every core; its JSON report is the same
/// whether it runs alone or while other threads run it too, and run after run.
#[test]
fn diff_is_identical_across_threads() {
    let old = Ruleset::from_yaml(include_str!(
        "../../examples/policy-change/default-1.0.0.yaml"
    ))
    .unwrap();
    let new = Ruleset::from_yaml(include_str!(
        "../../examples/policy-change/limited-support.yaml"
    ))
    .unwrap();
    let report = || serde_json::to_string(&diff(&old, &new).unwrap()).unwrap();
    let alone = report();
    assert!(alone.contains("\"changed\":"));
    let concurrent: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3).map(|_| scope.spawn(report)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for c in concurrent {
        assert_eq!(c, alone);
    }
    assert_eq!(report(), alone);
}
