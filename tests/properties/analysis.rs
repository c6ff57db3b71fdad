//! The exact analysis against hand counts and against brute force.

use carelevel::analysis::{check, diff, Count, Direction, FindingKind};
use carelevel::{MissingPolicy, Ruleset, Severity};
use proptest::prelude::*;

use crate::support::values_of;

const HEAD: &str = "id: t\nversion: '1'\ntitle: T\ndescription: D\n";

fn ruleset(body: &str) -> Ruleset {
    Ruleset::from_yaml(&format!("{HEAD}{body}")).unwrap_or_else(|e| panic!("{e}"))
}

const TWO_FACTORS: &str = "\
levels: [{id: low, label: L, description: l}, {id: high, label: H, description: h}]
factors:
  - {id: severity, kind: ordinal, question: Q, values: [none, mild, moderate, severe]}
  - {id: housing, kind: ordinal, question: Q, values: [stable, homeless]}
";
const NO_RULES: &str = "rules: []\n";

/// Moving a threshold from moderate to severe moves exactly the answer sets with
/// severity = moderate: housing stable, homeless or unanswered = 3 classes of 15
/// (severity 4 values + missing, housing 2 values + missing).
#[test]
fn moved_threshold_moves_exactly_the_hand_counted_classes() {
    let a = ruleset(&format!("{TWO_FACTORS}rules:\n  - {{id: r, when: {{severity: {{at_least: moderate}}}}, level: high, because: B}}\n"));
    let b = ruleset(&format!("{TWO_FACTORS}rules:\n  - {{id: r, when: {{severity: {{at_least: severe}}}}, level: high, because: B}}\n"));
    let d = diff(&a, &b).unwrap();
    assert!(d.includes_missing_answers);
    assert_eq!(d.classes, 15);
    // Rows OLD, columns NEW, in level order low, high.
    assert_eq!(d.matrix, vec![vec![6, 0], vec![3, 6]]);
    assert_eq!((d.changed, d.escalations, d.de_escalations), (3, 0, 3));
    assert_eq!(d.cells.len(), 1);
    let cell = &d.cells[0];
    assert_eq!(
        (cell.from.as_str(), cell.to.as_str(), cell.direction),
        ("high", "low", Direction::DeEscalation)
    );
    // One minimal example covers the whole cell: only severity matters.
    assert_eq!(cell.examples.len(), 1);
    assert_eq!(cell.examples[0].pattern.to_string(), "severity=moderate");
    assert_eq!(cell.examples[0].covers, 3);
    assert_eq!(cell.examples[0].old_deciding, vec!["r".to_owned()]);
    assert!(cell.examples[0].new_deciding.is_empty());
    // Severity unanswered: both recommend high (top of range) but the range is open in
    // both, so review status does not change.
    assert_eq!((d.review_gained, d.review_lost), (0, 0));
}

#[test]
fn adding_a_refer_flag_is_reported_as_a_flag_change() {
    let a = ruleset(&format!("{TWO_FACTORS}{NO_RULES}"));
    let b = ruleset(&format!("{TWO_FACTORS}{NO_RULES}flags:\n  - {{id: f, kind: refer, when: {{housing: homeless}}, message: M}}\n"));
    let d = diff(&a, &b).unwrap();
    assert_eq!(d.changed, 0);
    assert_eq!(d.flag_changes.len(), 1);
    // housing = homeless with severity any of 4 values or missing: 5 classes.
    assert_eq!((d.flag_changes[0].gained, d.flag_changes[0].lost), (5, 0));
    // housing unanswered now leaves a refer flag open: needs review for severity x {missing housing} = 5 classes.
    assert_eq!(d.review_gained, 5);
}

#[test]
fn rulesets_with_different_scales_are_not_comparable() {
    let a = ruleset(&format!("{TWO_FACTORS}{NO_RULES}"));
    let b = ruleset(&format!(
        "{}{NO_RULES}",
        TWO_FACTORS.replace("[stable, homeless]", "[stable, unstable, homeless]")
    ));
    let err = diff(&a, &b).unwrap_err().to_string();
    assert!(
        err.contains(
            "factor `housing` takes stable, homeless in OLD but stable, unstable, homeless in NEW"
        ),
        "{err}"
    );
}

#[test]
fn different_levels_and_factors_are_explained() {
    let a = ruleset(&format!("{TWO_FACTORS}{NO_RULES}"));
    let b = ruleset(
        "levels: [{id: low, label: L, description: l}, {id: mid, label: M, description: m}, {id: high, label: H, description: h}]
factors:
  - {id: severity, kind: ordinal, question: Q, values: [none, mild, moderate, severe]}
  - {id: support, kind: boolean, question: Q}
rules:
  - {id: r, when: {severity: severe}, level: mid, because: B}
",
    );
    let d = diff(&a, &b).unwrap();
    let notes = d.notes.join("\n");
    assert!(
        notes.contains("factor `housing` is asked only by OLD"),
        "{notes}"
    );
    assert!(
        notes.contains("factor `support` is asked only by NEW"),
        "{notes}"
    );
    assert!(notes.contains("level `mid` exists only in NEW"), "{notes}");
    let total: u64 = d.matrix.iter().flatten().sum();
    assert_eq!(total, d.classes);
}

#[test]
fn check_finds_non_monotone_rules_dead_rules_unreachable_levels_and_failed_invariants() {
    let rs = ruleset(
        "levels: [{id: low, label: L, description: l}, {id: mid, label: M, description: m}, {id: high, label: H, description: h}]
factors:
  - {id: severity, kind: ordinal, question: Q, values: [none, mild, moderate, severe]}
  - {id: support, kind: ordinal, question: Q, values: [strong, limited, none]}
rules:
  - {id: limited_high, when: {support: limited}, level: high, because: B}
  - {id: severe_high, when: {severity: {at_least: moderate}}, level: high, because: B}
  - {id: severe_low, when: {severity: severe}, level: low, because: B}
invariants:
  - {id: severe_is_high, when: {severity: severe}, expect: {level: {at_least: high}}}
  - {id: no_support_is_high, when: {support: none}, expect: {level: {at_least: high}}}
",
    );
    let report = check(&rs, false).unwrap();
    assert_eq!(report.classes, Count::exact(12));
    let find = |kind: FindingKind, subject: &str| {
        report
            .findings
            .iter()
            .find(|f| f.kind == kind && f.subject == subject)
            .unwrap_or_else(|| panic!("no {kind:?} for {subject}: {:#?}", report.findings))
    };
    let mono = find(FindingKind::NotMonotone, "support");
    assert_eq!(mono.severity, Severity::Warning);
    assert!(
        mono.message
            .contains("raising `support` from limited to none lowers the level from high to low"),
        "{}",
        mono.message
    );
    assert!(mono.message.contains("rule `limited_high` stops firing"));
    assert_eq!(
        mono.example.as_ref().unwrap().to_string(),
        "severity=none, support=limited"
    );
    assert!(find(FindingKind::RuleNeverDecides, "severe_low")
        .location
        .is_some());
    find(FindingKind::LevelUnreachable, "mid");
    assert_eq!(
        find(FindingKind::InvariantHolds, "severe_is_high").severity,
        Severity::Note
    );
    let failed = find(FindingKind::InvariantFails, "no_support_is_high");
    assert_eq!(failed.severity, Severity::Error);
    assert_eq!(
        failed.example.as_ref().unwrap().to_string(),
        "severity=none, support=none"
    );
    // --strict turns monotonicity, and every other warning, into an error.
    let strict = check(&rs, true).unwrap();
    assert!(strict
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::NotMonotone && f.severity == Severity::Error));
    assert!(strict
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::LevelUnreachable && f.severity == Severity::Error));
    assert!(strict
        .findings
        .iter()
        .all(|f| f.severity != Severity::Warning));
    assert_eq!(
        strict.findings.len(),
        report_len(&rs),
        "strict changes severities only"
    );
}

fn report_len(rs: &Ruleset) -> usize {
    check(rs, false).unwrap().findings.len()
}

#[test]
fn default_ruleset_passes_check_and_its_invariants_hold() {
    let rs = Ruleset::default_ruleset().unwrap();
    let report = check(&rs, true).unwrap();
    let bad: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Note)
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert!(
        report
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::InvariantHolds)
            .count()
            >= 3
    );
}

// ---- random rulesets --------------------------------------------------------

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        (0usize..3, 0usize..3).prop_map(|(op, v)| {
            let vals = ["lo", "mid", "hi"];
            match op {
                0 => format!("{{a: {}}}", vals[v]),
                1 => format!("{{a: {{at_least: {}}}}}", vals[v]),
                _ => format!("{{a: {{at_most: {}}}}}", vals[v]),
            }
        }),
        (0usize..4, 0i64..=20).prop_map(|(op, n)| match op {
            0 => format!("{{c: {{at_least: {n}}}}}"),
            1 => format!("{{c: {{below: {}}}}}", n.max(1)),
            2 => format!("{{c: {{between: [{}, {}]}}}}", n.min(10), n.max(10)),
            _ => "{c: {is: band_hi}}".to_owned(),
        }),
        any::<bool>().prop_map(|b| format!("{{d: {b}}}")),
        (0usize..2).prop_map(|v| format!("{{b: {}}}", ["x", "y"][v])),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    prop_oneof![
        leaf(),
        (leaf(), leaf()).prop_map(|(x, y)| format!("{{all: [{x}, {y}]}}")),
        (leaf(), leaf()).prop_map(|(x, y)| format!("{{any: [{x}, {y}]}}")),
        leaf().prop_map(|x| format!("{{not: {x}}}")),
    ]
}

/// A small random ruleset; `missing` picks the policies of factor b.
fn random_ruleset() -> impl Strategy<Value = Ruleset> {
    (
        prop::collection::vec((condition(), 0usize..3), 0..5),
        prop::collection::vec((condition(), 0usize..3), 0..3),
        0usize..3,
    )
        .prop_filter_map("valid ruleset", |(rules, flags, missing)| {
            let policy = ["ask", "error", "{assume: y}"][missing];
            let mut text = format!("{HEAD}levels: [{{id: l0, label: L0, description: d}}, {{id: l1, label: L1, description: d}}, {{id: l2, label: L2, description: d}}]
factors:
  - {{id: a, kind: ordinal, question: Q, values: [lo, mid, hi]}}
  - {{id: b, kind: ordinal, question: Q, values: [x, y], missing: {policy}}}
  - {{id: c, kind: integer, question: Q, min: 0, max: 20, bands: [{{id: band_lo, min: 0, max: 9}}, {{id: band_hi, min: 10, max: 20}}]}}
  - {{id: d, kind: boolean, question: Q, missing: {{assume: false}}}}
rules:
");
            for (i, (c, l)) in rules.iter().enumerate() {
                text.push_str(&format!("  - {{id: r{i}, when: {c}, level: l{l}, because: B}}\n"));
            }
            text.push_str("flags:\n");
            for (i, (c, k)) in flags.iter().enumerate() {
                let kind = ["refer", "review", "info"][*k];
                text.push_str(&format!("  - {{id: f{i}, kind: {kind}, when: {c}, message: M}}\n"));
            }
            if flags.is_empty() {
                text = text.replace("flags:\n", "");
            }
            Ruleset::from_yaml(&text).ok()
        })
}

/// Brute force over the same classes as the analysis: every value (integer classes of
/// both rulesets), plus "unanswered" for `ask` factors; level via the public API.
fn brute_force_matrix(a: &Ruleset, b: &Ruleset) -> Vec<Vec<u64>> {
    // Use the union of both rulesets' integer classes for factor c.
    let mut c_classes: Vec<i64> = a.factors()[2]
        .classes()
        .iter()
        .chain(b.factors()[2].classes())
        .copied()
        .collect();
    c_classes.sort_unstable();
    c_classes.dedup();
    let slots = |rs: &Ruleset, f: usize| -> Vec<Option<carelevel::Value>> {
        let mut v: Vec<Option<carelevel::Value>> = if f == 2 {
            c_classes
                .iter()
                .map(|&c| Some(carelevel::Value::Integer(c)))
                .collect()
        } else {
            values_of(rs, f).into_iter().map(Some).collect()
        };
        let ask = a.factors()[f].missing == MissingPolicy::Ask
            || b.factors()[f].missing == MissingPolicy::Ask;
        if ask {
            v.push(None);
        }
        v
    };
    let n = a.levels().len();
    let mut m = vec![vec![0u64; n + 1]; n + 1];
    let all: Vec<Vec<Option<carelevel::Value>>> = (0..4).map(|f| slots(a, f)).collect();
    let mut idx = [0usize; 4];
    loop {
        let level = |rs: &Ruleset| {
            let mut ans = rs.new_answers();
            for f in 0..4 {
                if let Some(v) = &all[f][idx[f]] {
                    ans.set(&rs.factors()[f].id, v.clone()).unwrap();
                }
            }
            rs.level_for(&ans).unwrap_or(n)
        };
        m[level(a)][level(b)] += 1;
        let mut f = 3;
        loop {
            idx[f] += 1;
            if idx[f] < all[f].len() {
                break;
            }
            idx[f] = 0;
            if f == 0 {
                return m;
            }
            f -= 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn diff_with_itself_is_empty(a in random_ruleset()) {
        let d = diff(&a, &a).unwrap();
        prop_assert!(!d.has_changes(), "{}", d.summary());
        let total: u64 = d.matrix.iter().flatten().sum();
        prop_assert_eq!(total, d.classes);
    }

    #[test]
    fn diff_counts_sum_to_the_space_and_reverse_is_the_transpose(a in random_ruleset(), b in random_ruleset()) {
        let ab = diff(&a, &b).unwrap();
        let ba = diff(&b, &a).unwrap();
        let total: u64 = ab.matrix.iter().flatten().sum();
        prop_assert_eq!(total, ab.classes);
        prop_assert_eq!(ab.classes, ba.classes);
        let n = ab.matrix.len();
        prop_assert_eq!(n, ba.matrix.len());
        for i in 0..n {
            for j in 0..n {
                prop_assert_eq!(ab.matrix[i][j], ba.matrix[j][i]);
            }
        }
        prop_assert_eq!(ab.escalations, ba.de_escalations);
        prop_assert_eq!((ab.review_gained, ab.review_lost), (ba.review_lost, ba.review_gained));
    }

    /// The exact analysis equals brute force through the public API (including
    /// unanswered questions and the `error` and `assume` policies).
    #[test]
    fn diff_matrix_equals_brute_force(a in random_ruleset(), b in random_ruleset()) {
        // Brute force compares per-factor policies from A and B; keep B's policy of `b` equal to A's.
        let d = diff(&a, &b).unwrap();
        let brute = brute_force_matrix(&a, &b);
        let n = a.levels().len();
        // Map the report's rows (level ids, then maybe `refused`) to brute-force rows.
        let pos = |id: &str| if id == "refused" { n } else { a.level_index(id).unwrap() };
        let mut from_report = vec![vec![0u64; n + 1]; n + 1];
        for (i, li) in d.levels.iter().enumerate() {
            for (j, lj) in d.levels.iter().enumerate() {
                from_report[pos(&li.id)][pos(&lj.id)] += d.matrix[i][j];
            }
        }
        prop_assert_eq!(from_report, brute);
    }
}
