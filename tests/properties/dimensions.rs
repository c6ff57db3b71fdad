//! Dimensions are annotations: the same ruleset with and without its `dimensions:`
//! list and `dimension:` tags gives the same level, rules, flags, refer and review for
//! every answer set. Checked on the bundled ruleset (exhaustively over complete
//! answers, and by proptest with unanswered questions) and on random rulesets with
//! random tags.

use carelevel::{Assessment, Ruleset};
use proptest::prelude::*;
use serde_json::Value as Json;

use crate::rulegen::{answers_yaml, valid_case};
use crate::support::{all_choices, answers, sizes};

/// The default ruleset's text without its `dimensions:` list and `dimension:` tags.
fn untagged_default() -> String {
    let text = carelevel::DEFAULT_RULESET;
    let start = text.find("\ndimensions:\n").unwrap();
    let end = start + text[start..].find("\nlevels:\n").unwrap();
    let without_list = format!("{}{}", &text[..start], &text[end..]);
    let out: Vec<&str> = without_list
        .lines()
        .filter(|l| !l.trim_start().starts_with("dimension: "))
        .collect();
    out.join("\n")
}

/// The assessment as JSON, without the dimensions section and the provenance (whose
/// SHA-256 differs because the texts differ).
fn comparable(a: &Assessment<'_>) -> Json {
    let mut json = serde_json::to_value(a).unwrap();
    let obj = json.as_object_mut().unwrap();
    obj.remove("dimensions");
    obj.remove("provenance");
    json
}

fn both() -> (Ruleset, Ruleset) {
    let tagged = Ruleset::default_ruleset().unwrap();
    let plain = Ruleset::from_yaml(&untagged_default()).unwrap();
    (tagged, plain)
}

#[test]
fn the_untagged_default_is_the_same_ruleset_without_dimensions() {
    let (tagged, plain) = both();
    assert_eq!(tagged.dimensions().len(), 7);
    assert!(plain.dimensions().is_empty());
    assert!(!untagged_default().contains("\n    dimension: "));
    // Every question, rule and flag of the bundled ruleset names its dimension.
    assert!(tagged.factors().iter().all(|f| f.dimension.is_some()));
    assert!(tagged.rules().iter().all(|r| r.dimension.is_some()));
    assert!(tagged.flags().iter().all(|f| f.dimension.is_some()));
    assert_eq!(tagged.metadata().version, plain.metadata().version);
    assert_ne!(tagged.sha256(), plain.sha256());
}

/// Over every complete answer set: identical results, and (every rule tagged, no
/// scoring) the recommendation is exactly the highest level any dimension calls for.
#[test]
fn every_complete_answer_set_gets_the_same_result_with_and_without_dimensions() {
    let (tagged, plain) = both();
    let choices = all_choices(&tagged);
    assert_eq!(choices.len(), sizes(&tagged).iter().product::<usize>());
    for choice in &choices {
        let opt: Vec<Option<usize>> = choice.iter().map(|&c| Some(c)).collect();
        let (a, b) = (answers(&tagged, &opt), answers(&plain, &opt));
        let (dt, dp) = (tagged.decide(&a).unwrap(), plain.decide(&b).unwrap());
        assert_eq!(dt, dp, "{choice:?}");
    }
    for (i, choice) in choices.iter().enumerate() {
        let opt: Vec<Option<usize>> = choice.iter().map(|&c| Some(c)).collect();
        let a = tagged.assess(&answers(&tagged, &opt)).unwrap();
        // The full JSON comparison on a sample (the decisions above cover every set).
        if i % 11 == 0 {
            let b = plain.assess(&answers(&plain, &opt)).unwrap();
            assert_eq!(comparable(&a), comparable(&b), "{choice:?}");
            assert_eq!(b.dimensions, None);
        }
        let dims = a.dimensions.as_ref().unwrap();
        let top = dims.iter().map(|d| d.level.rank).max().unwrap();
        assert_eq!(top, a.level.rank, "{choice:?}");
        // Every fired rule and flag is reported under exactly one dimension.
        let rules: usize = dims.iter().map(|d| d.fired_rules.len()).sum();
        let flags: usize = dims.iter().map(|d| d.flags.len()).sum();
        assert_eq!((rules, flags), (a.fired_rules.len(), a.flags.len()));
        assert!(dims
            .iter()
            .all(|d| d.could_rise_to.is_none() && d.missing.is_empty()));
    }
}

fn choice_strategy(sizes: Vec<usize>) -> impl Strategy<Value = Vec<Option<usize>>> {
    sizes
        .into_iter()
        .map(|n| prop::option::weighted(0.7, 0..n).boxed())
        .collect::<Vec<_>>()
}

/// `text` (a `rulegen` ruleset, one flow mapping per item) with `count` dimensions
/// declared and each factor, rule and flag tagged by `tags` (cycled; `None`: untagged).
fn with_tags(text: &str, count: usize, tags: &[Option<usize>]) -> String {
    let mut out = String::new();
    let mut next = 0usize;
    for line in text.lines() {
        if line == "levels:" {
            out.push_str("dimensions:\n");
            for d in 0..count {
                out.push_str(&format!("  - {{id: d{d}, label: D{d}, description: d}}\n"));
            }
        }
        let item = ["  - {id: f", "  - {id: r", "  - {id: g"]
            .iter()
            .any(|p| line.starts_with(p));
        match tags.get(next % tags.len().max(1)).copied().flatten() {
            Some(d) if item => {
                let body = line.strip_suffix('}').unwrap();
                out.push_str(&format!("{body}, dimension: d{}}}\n", d % count));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
        if item {
            next += 1;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::rulegen::cases(256)))]

    /// The bundled ruleset with unanswered questions: identical results, and the
    /// recommendation is never below a dimension's level.
    #[test]
    fn dimensions_never_change_the_default_result(choice in choice_strategy(sizes(&Ruleset::default_ruleset().unwrap()))) {
        let (tagged, plain) = both();
        let a = tagged.assess(&answers(&tagged, &choice)).unwrap();
        let b = plain.assess(&answers(&plain, &choice)).unwrap();
        prop_assert_eq!(comparable(&a), comparable(&b));
        prop_assert_eq!(tagged.level_for(&answers(&tagged, &choice)), plain.level_for(&answers(&plain, &choice)));
        for d in a.dimensions.as_ref().unwrap() {
            prop_assert!(d.level.rank <= a.level.rank, "{}", d.id);
            if let Some(up) = &d.could_rise_to {
                prop_assert!(d.level.rank < up.rank && up.rank <= a.level_range.highest.rank, "{}", d.id);
            }
        }
    }

    /// Random rulesets, random tags (some items untagged), random answers: identical
    /// level, rules, flags, refer and review; the section appears only with dimensions.
    #[test]
    fn dimensions_never_change_a_random_result(
        (g, text, drawn) in valid_case(0),
        count in 1usize..4,
        tags in prop::collection::vec(prop::option::weighted(0.8, 0usize..4), 1..12),
    ) {
        let tagged_text = with_tags(&text, count, &tags);
        let plain = Ruleset::from_yaml(&text).unwrap();
        let tagged = Ruleset::from_yaml(&tagged_text).unwrap();
        prop_assert_eq!(tagged.dimensions().len(), count);
        let items = plain.factors().len() + plain.rules().len() + plain.flags().len();
        let expected = (0..items).filter(|i| tags[i % tags.len()].is_some()).count();
        let got = tagged.factors().iter().filter(|f| f.dimension.is_some()).count()
            + tagged.rules().iter().filter(|r| r.dimension.is_some()).count()
            + tagged.flags().iter().filter(|f| f.dimension.is_some()).count();
        prop_assert_eq!(got, expected, "{}", tagged_text);
        let pairs = g.answers(&drawn);
        let yaml = answers_yaml(&pairs);
        let a = tagged.answers_from_yaml(&yaml).unwrap();
        let b = plain.answers_from_yaml(&yaml).unwrap();
        match (tagged.assess(&a), plain.assess(&b)) {
            (Ok(x), Ok(y)) => {
                prop_assert_eq!(comparable(&x), comparable(&y), "{}", tagged_text);
                prop_assert_eq!(x.dimensions.as_ref().map(Vec::len), Some(count));
                prop_assert!(y.dimensions.is_none());
                for d in x.dimensions.as_ref().unwrap() {
                    prop_assert!(d.level.rank <= x.level.rank, "{}\n{}", d.id, tagged_text);
                }
            }
            (Err(x), Err(y)) => prop_assert_eq!(x, y),
            (x, y) => prop_assert!(false, "{:?} vs {:?}\n{}", x.is_ok(), y.is_ok(), tagged_text),
        }
    }
}
