//! The bundled default ruleset over its whole answer space, and by proptest.

use carelevel::{MissingPolicy, Ruleset};
use proptest::prelude::*;

use crate::support::{all_choices, answers, sizes};

fn rules() -> Ruleset {
    Ruleset::default_ruleset().unwrap()
}

/// Totality and monotonicity, exhaustively: every complete answer set gets exactly one
/// level, the full assessment agrees with the fast path, and raising any one answer one
/// step along its scale never lowers the level.
#[test]
fn every_answer_set_gets_one_level_and_raising_an_answer_never_lowers_it() {
    let rs = rules();
    let sizes = sizes(&rs);
    let choices = all_choices(&rs);
    assert_eq!(choices.len(), sizes.iter().product::<usize>());
    let mut levels = std::collections::HashMap::new();
    for choice in &choices {
        let opt: Vec<Option<usize>> = choice.iter().map(|&c| Some(c)).collect();
        let level = rs.level_for(&answers(&rs, &opt)).unwrap();
        assert!(level < rs.levels().len());
        levels.insert(choice.clone(), level);
    }
    for (choice, &level) in &levels {
        for f in 0..choice.len() {
            if choice[f] + 1 < sizes[f] {
                let mut up = choice.clone();
                up[f] += 1;
                assert!(
                    levels[&up] >= level,
                    "raising {} from {:?} lowers the level ({} -> {})",
                    rs.factors()[f].id,
                    choice,
                    level,
                    levels[&up]
                );
            }
        }
    }
    // The compact decision agrees with the full assessment everywhere.
    for choice in choices.iter().step_by(7) {
        let opt: Vec<Option<usize>> = choice.iter().map(|&c| Some(c)).collect();
        let a = answers(&rs, &opt);
        let (d, full) = (rs.decide(&a).unwrap(), rs.assess(&a).unwrap());
        assert_eq!(d.level, full.level.id.as_ref());
        assert_eq!(d.deciding_rules.len(), full.deciding_rules.len());
        assert_eq!(d.flags.len(), full.flags.len());
    }
    // Every level is reachable.
    for l in 0..rs.levels().len() {
        assert!(levels.values().any(|&x| x == l), "level {l} is unreachable");
    }
}

fn choice_strategy(sizes: Vec<usize>, missing: bool) -> impl Strategy<Value = Vec<Option<usize>>> {
    sizes
        .into_iter()
        .map(move |n| {
            if missing {
                prop::option::weighted(0.7, 0..n).boxed()
            } else {
                (0..n).prop_map(Some).boxed()
            }
        })
        .collect::<Vec<_>>()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Raising one ordinal answer never lowers the level (sampled; the test above is exhaustive).
    #[test]
    fn monotone(choice in choice_strategy(sizes(&rules()), false), f in 0usize..9) {
        let rs = rules();
        let sizes = sizes(&rs);
        let f = f % sizes.len();
        let base = rs.level_for(&answers(&rs, &choice)).unwrap();
        if let Some(i) = choice[f] {
            if i + 1 < sizes[f] {
                let mut up = choice.clone();
                up[f] = Some(i + 1);
                prop_assert!(rs.level_for(&answers(&rs, &up)).unwrap() >= base);
            }
        }
    }

    /// The compact decision equals the full assessment's fields, and the record reader
    /// agrees with the plain JSON reader.
    #[test]
    fn decision_equals_assessment(choice in choice_strategy(sizes(&rules()), true)) {
        let rs = rules();
        let answers = answers(&rs, &choice);
        let d = rs.decide(&answers).unwrap();
        let a = rs.assess(&answers).unwrap();
        prop_assert_eq!(d.level, a.level.id.as_ref());
        prop_assert_eq!(d.deciding_rules, a.deciding_rules.iter().map(|r| r.as_ref()).collect::<Vec<_>>());
        prop_assert_eq!(d.flags, a.flags.iter().map(|f| f.id.as_ref()).collect::<Vec<_>>());
        prop_assert_eq!((d.refer, d.needs_review), (a.refer, a.needs_review));
        let mut map = serde_json::Map::new();
        for f in rs.factors() {
            if let Some(v) = answers.get(&f.id) {
                map.insert(f.id.clone(), serde_json::to_value(v).unwrap());
            }
        }
        map.insert("id".into(), serde_json::json!("r1"));
        let json = serde_json::Value::Object(map).to_string();
        let (fast, id) = rs.answers_from_json_record(&json, Some("id")).unwrap();
        prop_assert_eq!(id, Some(carelevel::RecordId::Text("r1".into())));
        prop_assert_eq!(rs.assess(&fast).unwrap(), a);
    }

    /// Evaluation is deterministic: the same answers give byte-identical output.
    #[test]
    fn deterministic(choice in choice_strategy(sizes(&rules()), true)) {
        let rs = rules();
        let a = rs.assess(&answers(&rs, &choice)).unwrap();
        let b = rs.assess(&answers(&rs, &choice)).unwrap();
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    }

    /// With missing answers, the reported range, the recommended level, the fired rules,
    /// the flags and `could_change_level` all equal brute force over every completion.
    #[test]
    fn missing_answers_are_exact(choice in choice_strategy(sizes(&rules()), true)) {
        let rs = rules();
        let sizes = sizes(&rs);
        let assessment = rs.assess(&answers(&rs, &choice)).unwrap();
        // Factors the engine treats as unknown: unanswered and policy `ask`.
        let unknown: Vec<usize> = (0..sizes.len())
            .filter(|&f| choice[f].is_none() && rs.factors()[f].missing == MissingPolicy::Ask)
            .collect();
        let mut completions: Vec<Vec<Option<usize>>> = vec![choice.clone()];
        for &f in &unknown {
            completions = completions
                .into_iter()
                .flat_map(|c| (0..sizes[f]).map(move |i| { let mut d = c.clone(); d[f] = Some(i); d }))
                .collect();
        }
        let full: Vec<_> = completions.iter().map(|c| rs.assess(&answers(&rs, c)).unwrap()).collect();
        let lo = full.iter().map(|a| a.level.rank).min().unwrap();
        let hi = full.iter().map(|a| a.level.rank).max().unwrap();
        prop_assert_eq!(assessment.level_range.lowest.rank, lo);
        prop_assert_eq!(assessment.level_range.highest.rank, hi);
        prop_assert_eq!(assessment.level.rank, hi);
        prop_assert_eq!(assessment.needs_review, lo != hi || assessment.possible_flags.iter().any(|f| f.kind == carelevel::FlagKind::Refer));
        for rule in rs.rules() {
            let always = full.iter().all(|a| a.fired_rules.iter().any(|r| r.id == rule.id));
            let fired = assessment.fired_rules.iter().any(|r| r.id == rule.id);
            prop_assert_eq!(always, fired, "rule {}", rule.id);
        }
        for flag in rs.flags() {
            let count = full.iter().filter(|a| a.flags.iter().any(|x| x.id == flag.id)).count();
            let fired = assessment.flags.iter().any(|x| x.id == flag.id);
            let possible = assessment.possible_flags.iter().any(|x| x.id == flag.id);
            prop_assert_eq!(fired, count == full.len(), "flag {}", flag.id);
            prop_assert_eq!(possible, count > 0 && count < full.len(), "flag {}", flag.id);
        }
        // A missing answer "could change the level" iff changing it alone changes the level somewhere.
        for m in &assessment.missing {
            let f = rs.factor_index(&m.factor).unwrap();
            let matters = completions.iter().zip(&full).any(|(c, a)| {
                (0..sizes[f]).any(|i| {
                    let mut d = c.clone();
                    d[f] = Some(i);
                    rs.level_for(&answers(&rs, &d)).unwrap() != a.level.rank
                })
            });
            prop_assert_eq!(m.could_change_level, matters, "factor {}", m.factor);
        }
    }
}
