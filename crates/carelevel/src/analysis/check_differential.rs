//! Differential tests: the symbolic `check` (diagrams) gives exactly the report of the
//! enumeration (counts, findings, their wording and their examples) on every ruleset
//! of the repository and on random rulesets from the property tests' generator; and
//! a ruleset of the default's shape with 30 questions of 5 answers, far past what
//! the enumeration takes, is checked with findings that brute force over its parts
//! confirms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[path = "../../benches/support/default_shape.rs"]
mod default_shape;

#[allow(
    dead_code,
    reason = "the benchmark's other shapes are past what the enumeration takes"
)]
#[path = "../../benches/support/sweep_shape.rs"]
mod sweep_shape;

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::check::check_by;
use super::*;
use crate::diagram::differential::rulegen;
use crate::model::Ruleset;

/// Both methods' reports, unless the enumeration refuses (too many classes).
fn both(rs: &Ruleset, strict: bool) -> Option<(CheckReport, CheckReport)> {
    let by_enumeration = check_by(rs, strict, Some(CheckMethod::Enumeration), 0).ok()?;
    let on_diagrams = check_by(
        rs,
        strict,
        Some(CheckMethod::Diagram),
        MAX_CHECK_DIAGRAM_WORK,
    )
    .expect("every ruleset the enumeration takes fits the diagram budget");
    assert_eq!(by_enumeration.method, CheckMethod::Enumeration);
    assert_eq!(on_diagrams.method, CheckMethod::Diagram);
    Some((by_enumeration, on_diagrams))
}

/// The two reports agree in everything but the method.
fn assert_same(name: &str, (e, d): (CheckReport, CheckReport)) {
    assert_eq!(e.classes, d.classes, "{name}");
    assert_eq!(e.combinations, d.combinations, "{name}");
    for (x, y) in e.findings.iter().zip(&d.findings) {
        assert_eq!(x, y, "{name}");
    }
    assert_eq!(e.findings.len(), d.findings.len(), "{name}");
}

/// Every `*.yaml` file under `dir`, recursively, in a stable order.
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn every_ruleset_of_the_repository_gets_the_enumerations_report_on_diagrams() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["rules", "examples", "tests"] {
        yaml_files(&root.join(dir), &mut files);
    }
    let (mut compared, mut findings) = (0, 0);
    let mut kinds = std::collections::BTreeSet::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        // Answer, test and invalid files are not rulesets.
        let Ok(rs) = Ruleset::from_yaml(&text) else {
            continue;
        };
        let name = path.display().to_string();
        for strict in [false, true] {
            if let Some(reports) = both(&rs, strict) {
                findings += reports.0.findings.len();
                kinds.extend(reports.0.findings.iter().map(|f| format!("{:?}", f.kind)));
                assert_same(&name, reports);
                compared += 1;
            }
        }
    }
    eprintln!("{compared} reports, {findings} findings compared: {kinds:?}");
    // 19 of the files are rulesets (most of the corpus is invalid on purpose), each
    // checked plain and strict; they hold every kind of finding between them.
    assert!(compared >= 2 * 19, "only {compared} reports compared");
    assert!(findings >= 100, "only {findings} findings compared");
    // Every kind but `FlagUnreachable`: a flag whose condition can never hold is
    // refused when the ruleset is loaded, so no loaded ruleset has one.
    for kind in [
        "InvariantFails",
        "InvariantHolds",
        "LevelUnreachable",
        "LowestByDefault",
        "NoDimension",
        "NotMonotone",
        "RuleNeverDecides",
    ] {
        assert!(kinds.contains(kind), "no {kind} among {kinds:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_rulesets_get_the_enumerations_report_on_diagrams(
        (_, text, _) in rulegen::valid_case(3),
        strict in any::<bool>(),
    ) {
        let rs = Ruleset::from_yaml(&text).unwrap();
        let reports = both(&rs, strict).expect("generated rulesets are small");
        assert_same(&text, reports);
    }
}

#[test]
fn thirty_questions_of_five_answers_in_the_defaults_shape_are_checked_exactly() {
    let text = default_shape::default_shape(30, 5);
    let rs = Ruleset::from_yaml(&text).unwrap();
    // 5^30 classes: the enumeration refuses.
    assert!(matches!(
        check_by(&rs, false, Some(CheckMethod::Enumeration), 0),
        Err(AnalysisError::TooLarge { .. })
    ));
    let report = check(&rs, false).unwrap();
    assert_eq!(report.method, CheckMethod::Diagram);
    // `MAX_CHECK_DIAGRAM_WORK` says it needs under 300 Ki units, the default 10 Ki.
    assert!(check_by(&rs, false, Some(CheckMethod::Diagram), 300 << 10).is_ok());
    let default = crate::Ruleset::default_ruleset().unwrap();
    assert!(check_by(&default, false, Some(CheckMethod::Diagram), 10 << 10).is_ok());
    let five_30 = 5u128.pow(30);
    assert_eq!(report.classes, Count::exact(five_30));
    // Ordinal answers: one combination per class.
    assert_eq!(report.combinations, Count::exact(five_30));
    let kinds = |k: FindingKind| -> Vec<&str> {
        report
            .findings
            .iter()
            .filter(|f| f.kind == k)
            .map(|f| f.subject.as_str())
            .collect()
    };
    // Only rules and answers that raise levels: monotone, every level and flag reached.
    assert!(kinds(FindingKind::NotMonotone).is_empty());
    assert!(kinds(FindingKind::LevelUnreachable).is_empty());
    assert!(kinds(FindingKind::FlagUnreachable).is_empty());
    // The invariants hold, except the one written to fail.
    assert_eq!(
        kinds(FindingKind::InvariantFails),
        ["q1_top_never_below_residential"]
    );
    assert_eq!(
        kinds(FindingKind::InvariantHolds).len(),
        rs.invariants.len() - 1
    );
    let fails = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::InvariantFails)
        .unwrap();
    // The first failing answer set in enumeration order: q1 at the top, all else lowest.
    let example = fails.example.as_ref().unwrap();
    for item in &example.0 {
        let want = if item.factor == "q1" { "a4" } else { "a0" };
        assert_eq!(item.value.as_ref().unwrap().to_string(), want, "{example}");
    }
    assert!(
        fails.message.contains("gets level iop with refer false"),
        "{}",
        fails.message
    );
    // No rule fires iff every answer is below a2 (the IOP threshold): 2^30 classes.
    let default = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::LowestByDefault)
        .unwrap();
    let prefix = format!(
        "{} of {five_30} answer-set classes ({} of {five_30} complete answer combinations)",
        1u128 << 30,
        1u128 << 30
    );
    assert!(default.message.starts_with(&prefix), "{}", default.message);
    // Every rule to IOP is overruled where q_i is at the top and q_{i+1} near it,
    // but decides where q_i alone is at a2: no rule is dead.
    assert!(kinds(FindingKind::RuleNeverDecides).is_empty());
}

/// The default shape at sizes the enumeration takes: the two methods agree there too.
#[test]
fn the_defaults_shape_agrees_with_the_enumeration_where_it_can_run() {
    for (questions, answers) in [(6, 3), (8, 4), (9, 5)] {
        let text = default_shape::default_shape(questions, answers);
        let rs = Ruleset::from_yaml(&text).unwrap();
        let reports = both(&rs, false).expect("within the enumeration's limits");
        assert_same(&format!("{questions} x {answers}"), reports);
    }
}

/// The benchmark sweep's generated rulesets (scoring, refer flags, integer, ordinal
/// and boolean questions, up to 10,000 rules) that the enumeration takes.
#[test]
fn the_sweeps_rulesets_agree_with_the_enumeration_where_it_can_run() {
    for shape in [
        sweep_shape::s(10, 4),
        sweep_shape::s(100, 4),
        sweep_shape::s(1_000, 4),
        sweep_shape::s(10_000, 4),
        sweep_shape::s(10, 12),
    ] {
        let rs = Ruleset::from_yaml(&sweep_shape::generate(shape)).unwrap();
        let reports = both(&rs, false).expect("within the enumeration's limits");
        assert!(!reports.0.findings.is_empty());
        assert_same(&shape.to_string(), reports);
    }
}
