//! The "does not allocate" claims of carelevel's docs, checked with a counting allocator.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use carelevel::{Answers, Decision, RecordId, Ruleset};
use carelevel_alloc_check::{allocations, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

const RECORD: &str = r#"{"id": 17, "severity": "moderate", "withdrawal_risk": "high", "medical": "none", "housing": "stable", "support": "limited", "harm_risk": "low", "mental_health": "mild", "readiness": "ambivalent", "step_down_from_inpatient": false}"#;

const PAIRS: [(&str, &str); 9] = [
    ("severity", "moderate"),
    ("withdrawal_risk", "high"),
    ("medical", "none"),
    ("housing", "stable"),
    ("support", "limited"),
    ("harm_risk", "low"),
    ("mental_health", "mild"),
    ("readiness", "ambivalent"),
    ("step_down_from_inpatient", "false"),
];

#[test]
fn the_counter_counts() {
    let (n, v) = allocations(|| vec![1u8; 10]);
    assert_eq!(n, 1);
    assert_eq!(v.len(), 10);
}

#[test]
fn setting_text_answers_reset_and_triage_do_not_allocate() {
    let rs = Ruleset::default_ruleset().unwrap();
    let mut answers = Answers::new(&rs);
    let (n, level) = allocations(|| {
        answers.reset();
        for (k, v) in PAIRS {
            answers.set_text(k, v).unwrap();
        }
        answers.set_text("support", "limited").unwrap();
        let t = rs.triage(&answers).unwrap();
        (
            rs.level_for(&answers).unwrap(),
            t,
            rs.level_and_refer(&answers).unwrap(),
        )
    });
    assert_eq!(n, 0, "allocations");
    assert_eq!(level.0, level.1.level);
    assert_eq!(level.2, (level.1.level, level.1.refer));
    // A problem allocates its message (the counter sees it).
    let (n, e) = allocations(|| answers.set_text("severity", "extreme").is_err());
    assert!(e && n > 0);
}

#[test]
fn a_json_record_is_read_and_decided_without_allocating_when_reused() {
    let rs = Ruleset::default_ruleset().unwrap();
    let mut answers = Answers::new(&rs);
    let mut id = None;
    let mut decision = Decision::empty();
    // The first record sizes the decision's lists.
    answers
        .read_json_record(RECORD, Some("id"), &mut id)
        .unwrap();
    rs.decide_into(&answers, &mut decision).unwrap();
    let want = rs.decide(&answers).unwrap();
    let (n, ()) = allocations(|| {
        for _ in 0..100 {
            answers
                .read_json_record(RECORD, Some("id"), &mut id)
                .unwrap();
            rs.decide_into(&answers, &mut decision).unwrap();
        }
    });
    assert_eq!(n, 0, "allocations");
    assert_eq!(id, Some(RecordId::Integer(17)));
    assert_eq!(decision, want);
    // An escaped key and value are unescaped by serde_json into its scratch buffer
    // (one allocation for the record), never copied by carelevel.
    let escaped = RECORD.replace(
        r#""severity": "moderate""#,
        r#""sever\u0069ty": "m\u006fderate""#,
    );
    answers
        .read_json_record(&escaped, Some("id"), &mut id)
        .unwrap();
    assert_eq!(answers.get("severity"), Some("moderate".into()));
    // A text id reuses the string of the last text id.
    let text_id = RECORD.replace(r#""id": 17"#, r#""id": "p-000017""#);
    answers
        .read_json_record(&text_id, Some("id"), &mut id)
        .unwrap();
    let (n, ()) = allocations(|| {
        answers
            .read_json_record(&text_id, Some("id"), &mut id)
            .unwrap();
    });
    assert_eq!(n, 0, "allocations");
    assert_eq!(id, Some(RecordId::Text("p-000017".into())));
}

/// 30 boolean questions (2^30 answer classes, too many for the level table), rules on
/// pairs of them and a refer flag: complete answers go through the level diagram.
fn wide_ruleset() -> Ruleset {
    let mut text = String::from(
        "id: wide\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: l0, label: L, description: d}\n  - {id: l1, label: L, description: d}\n  - {id: l2, label: L, description: d}\nfactors:\n",
    );
    for f in 0..30 {
        text.push_str(&format!("  - {{id: b{f}, kind: boolean, question: q}}\n"));
    }
    text.push_str("rules:\n");
    for r in 0..40 {
        let (a, b) = (r % 30, (r * 7 + 3) % 30);
        let b = if a == b { (b + 1) % 30 } else { b };
        text.push_str(&format!(
            "  - {{id: r{r}, level: l{}, because: x, when: {{all: [{{b{a}: true}}, {{b{b}: {}}}]}}}}\n",
            1 + r % 2,
            r % 3 == 0
        ));
    }
    text.push_str(
        "flags:\n  - {id: f, kind: refer, message: m, when: {all: [{b0: true}, {b1: true}]}}\n",
    );
    Ruleset::from_yaml(&text).unwrap()
}

#[test]
fn the_level_diagram_path_does_not_allocate() {
    let rs = wide_ruleset();
    assert_eq!(rs.level_evaluation(), carelevel::LevelEvaluation::Diagram);
    let mut answers = Answers::new(&rs);
    let ids: Vec<String> = (0..30).map(|f| format!("b{f}")).collect();
    let (n, results) = allocations(|| {
        let mut out = [(0usize, (0usize, false)); 8];
        for (i, slot) in out.iter_mut().enumerate() {
            answers.reset();
            for (f, id) in ids.iter().enumerate() {
                answers
                    .set_text(
                        id,
                        if (f * 5 + i) % 3 == 0 {
                            "true"
                        } else {
                            "false"
                        },
                    )
                    .unwrap();
            }
            *slot = (
                rs.level_for(&answers).unwrap(),
                rs.level_and_refer(&answers).unwrap(),
            );
        }
        out
    });
    assert_eq!(n, 0, "allocations");
    assert!(results.iter().all(|(l, (m, _))| l == m));
    // Not all the same answer: the diagram was really walked.
    assert!(results.iter().any(|r| r.0 != results[0].0));
}

/// A full assessment of complete answers allocates its output (its lists, one text
/// per ordinal answer it reports, one summary per dimension) and a few working lists
/// (which answers are known, the status of every rule and flag, each dimension's
/// deciding rules): 33 allocations for this answer set. It took 112 while each
/// dimension summary was assembled from pieces; the bound keeps that from coming back.
#[test]
fn a_full_assessment_allocates_its_output_and_few_working_lists() {
    let rs = Ruleset::default_ruleset().unwrap();
    let mut answers = Answers::new(&rs);
    for (k, v) in PAIRS {
        answers.set_text(k, v).unwrap();
    }
    let (n, a) = allocations(|| rs.assess(&answers).unwrap());
    assert!(n <= 33, "{n} allocations");
    assert_eq!(
        a.level.id,
        rs.level_for(&answers)
            .map(|l| rs.levels()[l].id.clone())
            .unwrap()
    );
}
