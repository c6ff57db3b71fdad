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
