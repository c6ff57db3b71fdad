#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use super::*;
use proptest::prelude::*;

const SIX_LEVELS: &str = include_str!("../../../../examples/rulesets/six-levels.yaml");

fn default_rules() -> Ruleset {
    Ruleset::default_ruleset().unwrap()
}

/// A complete, valid R4 response to the default ruleset (iop example).
fn valid(rules: &Ruleset) -> Value {
    let answers = rules
        .answers_from_json(
            r#"{"severity": "moderate", "withdrawal_risk": "low", "medical": "none",
            "housing": "stable", "support": "strong", "harm_risk": "none",
            "mental_health": "mild", "readiness": "ready", "step_down_from_inpatient": false}"#,
        )
        .unwrap();
    questionnaire_response(
        &answers,
        Release::R4,
        &ResponseOptions {
            id: Some("p1".into()),
            subject: Some(json!({"reference": "Patient/1"})),
            authored: None,
        },
    )
}

fn read<'r>(rules: &'r Ruleset, qr: &Value) -> Result<ResponseRead<'r>, ResponseError> {
    read_response(rules, &qr.to_string(), &ReadOptions::default())
}

/// The single problem of a refused response: (path, linkId, message).
fn problem(rules: &Ruleset, qr: &Value) -> (String, Option<String>, String) {
    let err = read(rules, qr).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    let p = err.problems.into_iter().next().unwrap();
    (p.path, p.link_id, p.message)
}

#[test]
fn a_generated_response_reads_back_with_id_subject_and_no_warning() {
    let rules = default_rules();
    let r = read(&rules, &valid(&rules)).unwrap();
    assert_eq!(r.id.as_deref(), Some("p1"));
    assert_eq!(r.subject, Some(json!({"reference": "Patient/1"})));
    assert_eq!(
        r.questionnaire.as_deref(),
        Some("urn:carelevel:ruleset:default|1.1.0")
    );
    assert!(!r.force_needs_review);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(rules.assess(&r.answers).unwrap().level.id, "iop");
}

#[test]
fn nested_items_and_answer_items_are_found_and_help_items_ignored() {
    let rules = default_rules();
    let qr = json!({
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "urn:carelevel:ruleset:default|1.1.0",
        "item": [{
            "linkId": "severity",
            "answer": [{
                "valueCoding": {"code": "severe"},
                "item": [{"linkId": "housing", "answer": [{"valueCoding": {"code": "homeless"}}]}]
            }],
            "item": [{"linkId": "severity.help"}, {"linkId": "harm_risk", "answer": [{"valueCoding": {"code": "high"}}]}]
        }]
    });
    let r = read(&rules, &qr).unwrap();
    assert_eq!(r.answers.get("severity"), Some("severe".into()));
    assert_eq!(r.answers.get("housing"), Some("homeless".into()));
    assert_eq!(r.answers.get("harm_risk"), Some("high".into()));
    assert!(!r.answers.is_answered("support"));
}

#[test]
fn in_progress_and_stopped_force_review_entered_in_error_is_refused() {
    let rules = default_rules();
    for status in ["in-progress", "stopped"] {
        let mut qr = valid(&rules);
        qr["status"] = json!(status);
        let r = read(&rules, &qr).unwrap();
        assert!(r.force_needs_review);
        assert!(r.warnings[0].contains(status), "{:?}", r.warnings);
    }
    let mut qr = valid(&rules);
    qr["status"] = json!("entered-in-error");
    let (path, _, message) = problem(&rules, &qr);
    assert_eq!(path, "status");
    assert!(message.contains("entered-in-error"), "{message}");
    qr["status"] = json!("done");
    let (_, _, message) = problem(&rules, &qr);
    assert!(message.contains("expected one of completed, amended, in-progress, stopped"));
    qr.as_object_mut().unwrap().remove("status");
    let (_, _, message) = problem(&rules, &qr);
    assert!(message.contains("`status` is missing"), "{message}");
}

#[test]
fn other_resources_and_bad_json_are_refused() {
    let rules = default_rules();
    let mut qr = valid(&rules);
    qr["resourceType"] = json!("Observation");
    let (path, _, message) = problem(&rules, &qr);
    assert_eq!(path, "resourceType");
    assert!(message.contains("found `Observation`"));
    let err = read_response(&rules, "{\"item\": [", &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("line 1 column"), "{err}");
    let err = read_response(
        &rules,
        "{\"item\": [{\"linkId\": 3}]}",
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("invalid type"), "{err}");
}

#[test]
fn duplicate_keys_are_refused_not_resolved() {
    let rules = default_rules();
    let head = r#"{"resourceType": "QuestionnaireResponse", "status": "completed", "item": [{"linkId": "severity", "answer": ["#;
    for answer in [
        r#"{"valueCoding": {"code": "mild"}, "valueCoding": {"code": "severe"}}"#,
        r#"{"valueCoding": {"code": "mild", "code": "severe"}}"#,
    ] {
        let text = format!("{head}{answer}]}}]}}");
        let err = read_response(&rules, &text, &ReadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("duplicate key"), "{err}");
    }
    let text = r#"{"resourceType": "QuestionnaireResponse", "status": "completed", "status": "in-progress"}"#;
    let err = read_response(&rules, text, &ReadOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("duplicate field `status`"),
        "{err}"
    );
    let err = read_response(
        &rules,
        r#"{"status": "completed"}"#,
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("`resourceType` is missing"),
        "{err}"
    );
}

#[test]
fn another_ruleset_is_refused_another_version_refused_or_warned() {
    let rules = default_rules();
    let mut qr = valid(&rules);
    qr["questionnaire"] = json!("https://example.org/other|1.0.0");
    let (path, _, message) = problem(&rules, &qr);
    assert_eq!(path, "questionnaire");
    assert!(message.contains("different questionnaire"), "{message}");
    assert!(
        message.contains("urn:carelevel:ruleset:default|1.1.0"),
        "{message}"
    );

    qr["questionnaire"] = json!("urn:carelevel:ruleset:default|0.9");
    let (_, _, message) = problem(&rules, &qr);
    assert!(message.contains("version `0.9`"), "{message}");
    let options = ReadOptions {
        other_version: OtherVersion::Warn,
        ..ReadOptions::default()
    };
    let r = read_response(&rules, &qr.to_string(), &options).unwrap();
    assert!(r.warnings[0].contains("version `0.9`"), "{:?}", r.warnings);
    // Every warning is also a reason for review.
    assert!(r.force_needs_review);

    qr["questionnaire"] = json!("urn:carelevel:ruleset:default");
    let r = read(&rules, &qr).unwrap();
    assert!(r.warnings[0].contains("has no version"), "{:?}", r.warnings);
    qr.as_object_mut().unwrap().remove("questionnaire");
    let r = read(&rules, &qr).unwrap();
    assert!(
        r.warnings[0].contains("names no `questionnaire`"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn unknown_link_ids_are_refused_or_warned_about() {
    let rules = default_rules();
    let mut qr = valid(&rules);
    qr["item"][2]["linkId"] = json!("medicall");
    let (path, link_id, message) = problem(&rules, &qr);
    assert_eq!(path, "item[2].linkId");
    assert_eq!(link_id.as_deref(), Some("medicall"));
    assert!(
        message.contains("the questions are: severity, withdrawal_risk, medical,"),
        "{message}"
    );
    let options = ReadOptions {
        unknown_items: UnknownItems::Warn,
        ..ReadOptions::default()
    };
    let r = read_response(&rules, &qr.to_string(), &options).unwrap();
    assert!(!r.answers.is_answered("medical"));
    assert!(
        r.warnings[0].contains("`item[2]` (linkId `medicall`)"),
        "{:?}",
        r.warnings
    );
    qr["item"][2].as_object_mut().unwrap().remove("linkId");
    let (path, _, message) = problem(&rules, &qr);
    assert_eq!(
        (path.as_str(), message.as_str()),
        ("item[2]", "item has no `linkId`")
    );
}

#[test]
fn codes_systems_and_types_are_checked_with_paths() {
    let rules = default_rules();
    let mut qr = valid(&rules);
    qr["item"][0]["answer"][0]["valueCoding"]["code"] = json!("extreme");
    let (path, link_id, message) = problem(&rules, &qr);
    assert_eq!(path, "item[0].answer[0].valueCoding.code");
    assert_eq!(link_id.as_deref(), Some("severity"));
    assert_eq!(
        message,
        "`extreme` is not an answer to `severity`; expected one of none, mild, moderate, severe"
    );

    let mut qr = valid(&rules);
    qr["item"][0]["answer"][0]["valueCoding"]["system"] = json!("http://snomed.info/sct");
    let (path, _, message) = problem(&rules, &qr);
    assert_eq!(path, "item[0].answer[0].valueCoding.system");
    assert!(message.contains("expected `urn:carelevel:ruleset:default/answer/severity`"));

    let mut qr = valid(&rules);
    qr["item"][0]["answer"][0]["valueCoding"]
        .as_object_mut()
        .unwrap()
        .remove("code");
    let (path, _, _) = problem(&rules, &qr);
    assert_eq!(path, "item[0].answer[0].valueCoding.code");

    let mut qr = valid(&rules);
    qr["item"][0]["answer"][0] = json!({"valueString": "moderate"});
    let (path, _, message) = problem(&rules, &qr);
    assert_eq!(path, "item[0].answer[0].valueString");
    assert!(
        message.contains("expected `valueCoding` (none, mild, moderate, severe)"),
        "{message}"
    );

    let mut qr = valid(&rules);
    qr["item"][8]["answer"][0] = json!({"valueBoolean": "yes"});
    let (path, _, message) = problem(&rules, &qr);
    assert_eq!(path, "item[8].answer[0].valueBoolean");
    assert!(message.contains("expected true or false"), "{message}");

    let mut qr = valid(&rules);
    qr["item"][8]["answer"][0] = json!({});
    let (_, _, message) = problem(&rules, &qr);
    assert_eq!(message, "the answer has no value; expected `valueBoolean`");
    qr["item"][8]["answer"][0] = json!({"valueBoolean": true, "valueInteger": 1});
    let (_, _, message) = problem(&rules, &qr);
    assert!(message.contains("has 2 values"), "{message}");
}

#[test]
fn integers_must_be_in_range() {
    let rules = Ruleset::from_yaml(SIX_LEVELS).unwrap();
    let qr = |v: Value| {
        json!({"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": Canonical::of(&rules).versioned(),
            "item": [{"linkId": "ciwa_score", "answer": [{"valueInteger": v}]}]})
    };
    let r = read(&rules, &qr(json!(67))).unwrap();
    assert_eq!(r.answers.get("ciwa_score"), Some(67.into()));
    for bad in [json!(68), json!(-1), json!(2.5)] {
        let (path, link_id, message) = problem(&rules, &qr(bad.clone()));
        assert_eq!(path, "item[0].answer[0].valueInteger");
        assert_eq!(link_id.as_deref(), Some("ciwa_score"));
        assert!(
            message.contains("expected a whole number from 0 to 67"),
            "{bad}: {message}"
        );
    }
}

#[test]
fn two_answers_or_two_items_for_one_question_are_refused() {
    let rules = default_rules();
    let mut qr = valid(&rules);
    let second = qr["item"][0]["answer"][0].clone();
    qr["item"][0]["answer"].as_array_mut().unwrap().push(second);
    let (path, _, message) = problem(&rules, &qr);
    assert_eq!(path, "item[0].answer");
    assert!(
        message.contains("2 answers to question `severity`"),
        "{message}"
    );

    let mut qr = valid(&rules);
    let again = qr["item"][0].clone();
    qr["item"].as_array_mut().unwrap().push(again);
    let (path, _, message) = problem(&rules, &qr);
    assert_eq!(path, "item[9]");
    assert!(message.contains("already by `item[0]`"), "{message}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let rules = default_rules();
    let mut qr = valid(&rules);
    qr["status"] = json!("entered-in-error");
    qr["item"][0]["answer"][0]["valueCoding"]["code"] = json!("x");
    qr["item"][1]["linkId"] = json!("nope");
    let err = read(&rules, &qr).unwrap_err();
    let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "status",
            "item[0].answer[0].valueCoding.code",
            "item[1].linkId"
        ]
    );
}

#[test]
fn matching_by_code_maps_foreign_link_ids() {
    let rules = default_rules();
    let system = Canonical::of(&rules).questions();
    let form = json!({"resourceType": "Questionnaire", "item": [
        {"linkId": "g1", "type": "group", "item": [
            {"linkId": "q-7", "code": [{"system": "http://loinc.org", "code": "1-8"}, {"system": system, "code": "severity"}]},
        ]},
        {"linkId": "q-9", "code": [{"system": system, "code": "housing"}]},
    ]});
    let map = code_map(&rules, &form).unwrap();
    assert_eq!(map.questions.len(), 2);
    assert!(map.others.contains("g1"));
    let options = ReadOptions {
        matching: Matching::Code(map),
        ..ReadOptions::default()
    };
    let qr = json!({"resourceType": "QuestionnaireResponse", "status": "completed",
        "questionnaire": "urn:carelevel:ruleset:default|1.1.0",
        "item": [{"linkId": "g1", "item": [{"linkId": "q-7", "answer": [{"valueCoding": {"code": "mild"}}]}]},
                 {"linkId": "q-9", "answer": [{"valueCoding": {"code": "unstable"}}]}]});
    let r = read_response(&rules, &qr.to_string(), &options).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.answers.get("severity"), Some("mild".into()));
    assert_eq!(r.answers.get("housing"), Some("unstable".into()));
    // A form item that is no question, answered: unknown (refused by default).
    let mut answered = qr.clone();
    answered["item"][0]["answer"] = json!([{"valueString": "x"}]);
    let err = read_response(&rules, &answered.to_string(), &options).unwrap_err();
    assert_eq!(err.problems[0].path, "item[0].linkId", "{err}");
    assert!(
        err.problems[0]
            .message
            .contains("the questions are: q-7, q-9"),
        "{err}"
    );
    // A linkId the form does not have: unknown.
    let mut stray = qr.clone();
    stray["item"][1]["linkId"] = json!("zz");
    let err = read_response(&rules, &stray.to_string(), &options).unwrap_err();
    assert_eq!(err.problems[0].link_id.as_deref(), Some("zz"), "{err}");

    let bad = json!({"item": [{"linkId": "a", "code": [{"system": system, "code": "sevrity"}]},
        {"linkId": "b", "code": [{"system": system, "code": "housing"}]},
        {"linkId": "c", "code": [{"system": system, "code": "housing"}]}]});
    let err = code_map(&rules, &bad).unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
    assert_eq!(err.problems[0].path, "item[0].code[0].code");
    assert!(
        err.problems[1]
            .message
            .contains("already the code of linkId `b`"),
        "{err}"
    );
}

/// Every answer set of `rules` built from one slot per factor: unanswered, or one
/// representative of each class. Calls `f` on each.
fn for_each_answer_set(rules: &Ruleset, mut f: impl FnMut(&Answers<'_>)) -> usize {
    let slots: Vec<Vec<Option<i64>>> = rules
        .factors()
        .iter()
        .map(|fac| {
            std::iter::once(None)
                .chain(fac.classes().iter().map(|&c| Some(c)))
                .collect()
        })
        .collect();
    let mut digits = vec![0usize; slots.len()];
    let mut count = 0;
    loop {
        let mut answers = rules.new_answers();
        for (i, (&d, s)) in digits.iter().zip(&slots).enumerate() {
            if let Some(code) = s[d] {
                answers.set_code(i, code).unwrap();
            }
        }
        f(&answers);
        count += 1;
        let mut i = 0;
        loop {
            if i == digits.len() {
                return count;
            }
            digits[i] += 1;
            if digits[i] < slots[i].len() {
                break;
            }
            digits[i] = 0;
            i += 1;
        }
    }
}

fn same_answers(rules: &Ruleset, a: &Answers<'_>, b: &Answers<'_>) -> bool {
    rules
        .factors()
        .iter()
        .all(|f| a.get(&f.id) == b.get(&f.id) && a.is_answered(&f.id) == b.is_answered(&f.id))
}

fn round_trip_whole_space(rules: &Ruleset) -> usize {
    for_each_answer_set(rules, |answers| {
        let qr = questionnaire_response(answers, Release::R4, &ResponseOptions::default());
        // The two releases share the response shape, so one read covers both.
        let r5 = questionnaire_response(answers, Release::R5, &ResponseOptions::default());
        assert_eq!(qr, r5);
        {
            let back = read_response_value(rules, &qr, &ReadOptions::default()).unwrap();
            assert!(back.warnings.is_empty() && !back.force_needs_review);
            assert!(same_answers(rules, answers, &back.answers), "{qr}");
            let direct = rules.assess(answers).map_err(|e| e.to_string());
            let via_fhir = rules.assess(&back.answers).map_err(|e| e.to_string());
            assert_eq!(direct, via_fhir, "{qr}");
        }
    })
}

#[test]
fn round_trip_is_the_identity_over_the_default_answer_space() {
    // (4+1)(5+1)(4+1)(3+1)(3+1)(5+1)(4+1)(3+1)(2+1): unanswered or each value of every question.
    assert_eq!(round_trip_whole_space(&default_rules()), 864_000);
}

#[test]
fn round_trip_is_the_identity_over_the_six_level_answer_space() {
    let rules = Ruleset::from_yaml(SIX_LEVELS).unwrap();
    let expected: usize = rules
        .factors()
        .iter()
        .map(|f| f.classes().len() + 1)
        .product();
    assert_eq!(round_trip_whole_space(&rules), expected);
}

proptest! {
    /// Arbitrary integer answers (not just class representatives) survive the text round trip.
    #[test]
    fn arbitrary_integer_answers_round_trip(ciwa in proptest::option::of(0i64..=67), seed in 0usize..1000) {
        let rules = Ruleset::from_yaml(SIX_LEVELS).unwrap();
        let mut answers = rules.new_answers();
        if let Some(v) = ciwa {
            answers.set("ciwa_score", v).unwrap();
        }
        for (i, f) in rules.factors().iter().enumerate() {
            if !matches!(f.kind, FactorKind::Integer { .. }) && (seed >> (i % 10)) & 1 == 1 {
                let classes = f.classes();
                answers.set_code(i, classes[seed % classes.len()]).unwrap();
            }
        }
        let qr = questionnaire_response(&answers, Release::R4, &ResponseOptions::default());
        let back = read_response(&rules, &qr.to_string(), &ReadOptions::default()).unwrap();
        prop_assert!(same_answers(&rules, &answers, &back.answers));
        prop_assert_eq!(rules.assess(&answers).unwrap(), rules.assess(&back.answers).unwrap());
    }
}

/// Arbitrary JSON built from the elements the reader looks at, and scalars.
fn arbitrary_resource() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "resourceType",
        "status",
        "questionnaire",
        "item",
        "linkId",
        "answer",
        "valueCoding",
        "valueInteger",
        "valueBoolean",
        "valueString",
        "system",
        "code",
        "id",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "QuestionnaireResponse",
            "completed",
            "in-progress",
            "severity",
            "housing",
            "severity.help",
            "mild",
            "homeless",
            "urn:carelevel:ruleset:default|1.1.0",
            "urn:carelevel:ruleset:default/answer/severity",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

proptest! {
    /// Whatever the JSON, reading returns (never panics), text and value agree, and a
    /// response that reads is one the reverse mapping reproduces answer for answer.
    #[test]
    fn reading_arbitrary_json_never_panics_and_text_and_value_agree(v in arbitrary_resource()) {
        let rules = default_rules();
        let options = ReadOptions::default();
        let from_text = read_response(&rules, &v.to_string(), &options);
        let from_value = read_response_value(&rules, &v, &options);
        prop_assert_eq!(from_text.is_ok(), from_value.is_ok());
        if let Ok(read) = from_text {
            let qr = questionnaire_response(&read.answers, Release::R4, &ResponseOptions::default());
            let back = read_response_value(&rules, &qr, &options).unwrap();
            prop_assert!(same_answers(&rules, &read.answers, &back.answers));
        }
    }
}
