#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use super::*;

const MISSING: &str = include_str!("../../../../examples/answers/missing.yaml");
const REFER: &str = include_str!("../../../../examples/answers/refer.yaml");
const IOP: &str = include_str!("../../../../examples/answers/iop.yaml");

fn rules() -> Ruleset {
    Ruleset::default_ruleset().unwrap()
}

fn input() -> GuidanceInput {
    GuidanceInput {
        id: "gr-1".into(),
        occurrence: "2026-12-05T16:00:00Z".into(),
        request_identifier: Some("qr-1".into()),
        subject: Some(json!({"reference": "Patient/p1"})),
        reason: Some("QuestionnaireResponse/qr-1".into()),
    }
}

fn gr(rules: &Ruleset, yaml: &str, release: Release) -> Value {
    let answers = rules.answers_from_yaml(yaml).unwrap();
    let a = rules.assess(&answers).unwrap();
    guidance_response(&answers, &a, &input(), release).unwrap()
}

/// The parameters named `name` in the contained result.
fn params<'v>(gr: &'v Value, name: &str) -> Vec<&'v Value> {
    gr["contained"][0]["parameter"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == name)
        .collect()
}

#[test]
fn complete_answers_give_success_without_data_requirements() {
    let rules = rules();
    let g = gr(&rules, IOP, Release::R4);
    assert_eq!(g["resourceType"], "GuidanceResponse");
    assert_eq!(g["status"], "success");
    assert!(g.get("dataRequirement").is_none());
    assert_eq!(g["moduleUri"], "urn:carelevel:ruleset:default|1.1.0");
    assert_eq!(g["id"], "gr-1");
    assert_eq!(g["occurrenceDateTime"], "2026-12-05T16:00:00Z");
    assert_eq!(g["requestIdentifier"], json!({"value": "qr-1"}));
    assert_eq!(g["subject"], json!({"reference": "Patient/p1"}));
    assert_eq!(g["outputParameters"], json!({"reference": "#result"}));
    assert_eq!(g["contained"][0]["id"], "result");
    let level = params(&g, "level");
    assert_eq!(
        level[0]["valueCoding"],
        json!({"system": "urn:carelevel:ruleset:default/level", "code": "iop", "display": rules.levels()[1].label})
    );
    assert_eq!(params(&g, "needs-review")[0]["valueBoolean"], false);
    assert_eq!(params(&g, "refer")[0]["valueBoolean"], false);
    assert_eq!(
        params(&g, "ruleset-sha256")[0]["valueIdentifier"]["value"],
        json!(rules.sha256())
    );
    assert_eq!(
        params(&g, "engine-version")[0]["valueString"],
        json!(format!("carelevel {}", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(params(&g, "notice")[0]["valueString"], json!(crate::NOTICE));
    assert!(!params(&g, "fired-rule").is_empty());
    assert!(!params(&g, "deciding-rule").is_empty());
}

#[test]
fn r4_writes_reason_reference_and_r5_a_codeable_reference() {
    let rules = rules();
    let r4 = gr(&rules, IOP, Release::R4);
    let r5 = gr(&rules, IOP, Release::R5);
    assert_eq!(
        r4["reasonReference"],
        json!([{"reference": "QuestionnaireResponse/qr-1"}])
    );
    assert!(r4.get("reason").is_none());
    assert_eq!(
        r5["reason"],
        json!([{"reference": {"reference": "QuestionnaireResponse/qr-1"}}])
    );
    assert!(r5.get("reasonReference").is_none());
    // Nothing else differs.
    let (mut a, mut b) = (r4.clone(), r5.clone());
    a.as_object_mut().unwrap().remove("reasonReference");
    b.as_object_mut().unwrap().remove("reason");
    assert_eq!(a, b);
}

#[test]
fn missing_answers_that_could_change_the_level_give_data_required() {
    let rules = rules();
    let g = gr(&rules, MISSING, Release::R4);
    assert_eq!(g["status"], "data-required");
    let codes: Vec<&Value> = g["dataRequirement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["type"], "QuestionnaireResponse");
            assert_eq!(d["codeFilter"][0]["path"], "item");
            assert_eq!(
                d["codeFilter"][0]["code"][0]["system"],
                "urn:carelevel:ruleset:default/question"
            );
            &d["codeFilter"][0]["code"][0]["code"]
        })
        .collect();
    // missing.yaml: harm_risk and mental_health could change the level.
    assert!(codes.contains(&&json!("harm_risk")), "{codes:?}");
    assert!(codes.contains(&&json!("mental_health")), "{codes:?}");
    assert_eq!(params(&g, "needs-review")[0]["valueBoolean"], true);
    assert!(!params(&g, "review-reason").is_empty());
    assert_eq!(params(&g, "level-lowest")[0]["valueCoding"]["code"], "iop");
    assert_eq!(
        params(&g, "level-highest")[0]["valueCoding"]["code"],
        "residential"
    );
    // Every missing question is listed, required or not.
    let answers = rules.answers_from_yaml(MISSING).unwrap();
    let a = rules.assess(&answers).unwrap();
    assert_eq!(params(&g, "missing-question").len(), a.missing.len());
}

#[test]
fn a_refer_flag_is_a_flag_coding_and_refer_true() {
    let rules = rules();
    let g = gr(&rules, REFER, Release::R5);
    assert_eq!(g["status"], "success");
    assert_eq!(params(&g, "refer")[0]["valueBoolean"], true);
    let flags: Vec<&Value> = params(&g, "flag")
        .iter()
        .map(|p| &p["valueCoding"]["code"])
        .collect();
    assert!(
        flags.contains(&&json!("refer_severe_withdrawal")),
        "{flags:?}"
    );
    assert!(params(&g, "flag")
        .iter()
        .all(|p| p["valueCoding"]["system"] == "urn:carelevel:ruleset:default/flag"));
}

#[test]
fn inputs_are_checked_and_named_in_the_error() {
    let rules = rules();
    let answers = rules.answers_from_yaml(IOP).unwrap();
    let a = rules.assess(&answers).unwrap();
    let with = |f: &dyn Fn(&mut GuidanceInput)| {
        let mut i = input();
        f(&mut i);
        guidance_response(&answers, &a, &i, Release::R4).unwrap_err()
    };
    assert!(matches!(
        with(&|i| i.id = "a b".into()),
        GuidanceError::Id(_)
    ));
    let e = with(&|i| i.occurrence = "2026-12-05T16:00:00".into());
    assert!(e.to_string().contains("with a time zone"), "{e}");
    assert!(matches!(
        with(&|i| i.subject = Some(json!("Patient/1"))),
        GuidanceError::Subject(_)
    ));
    assert_eq!(
        with(&|i| i.reason = Some(" ".into())),
        GuidanceError::Reason
    );
}

#[test]
fn an_assessment_of_another_ruleset_is_refused() {
    let rules = rules();
    let six = Ruleset::from_yaml(include_str!(
        "../../../../examples/rulesets/six-levels.yaml"
    ))
    .unwrap();
    let answers = rules.answers_from_yaml(IOP).unwrap();
    let other = six.assess(&six.new_answers());
    let Ok(other) = other else {
        return; // six-levels refuses empty answers: nothing to compare
    };
    let e = guidance_response(&answers, &other, &input(), Release::R4).unwrap_err();
    assert!(matches!(e, GuidanceError::ForeignAssessment { .. }), "{e}");
}

#[test]
fn optional_inputs_left_out_are_left_out() {
    let rules = rules();
    let answers = rules.answers_from_yaml(IOP).unwrap();
    let a = rules.assess(&answers).unwrap();
    let i = GuidanceInput {
        id: "x".into(),
        occurrence: "2026".into(),
        ..GuidanceInput::default()
    };
    let g = guidance_response(&answers, &a, &i, Release::R4).unwrap();
    for absent in ["subject", "reasonReference", "reason", "requestIdentifier"] {
        assert!(g.get(absent).is_none(), "{absent}");
    }
}

#[test]
fn the_missing_example_snapshot() {
    let rules = rules();
    let mut g = gr(&rules, MISSING, Release::R4);
    // The hash and engine version change with every edit; they are checked above.
    for p in g["contained"][0]["parameter"].as_array_mut().unwrap() {
        if p["name"] == "ruleset-sha256" {
            p["valueIdentifier"]["value"] = json!("[sha256]");
        }
        if p["name"] == "engine-version" {
            p["valueString"] = json!("[engine]");
        }
    }
    insta::assert_json_snapshot!(g);
}

#[test]
fn each_dimension_is_a_parameter_with_its_level_rules_and_summary() {
    let g = gr(&rules(), IOP, Release::R4);
    let dims = params(&g, "dimension");
    assert_eq!(dims.len(), 7);
    let first = dims[0]["part"].as_array().unwrap();
    let part = |name: &str| {
        first
            .iter()
            .filter(|p| p["name"] == name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        part("id")[0]["valueString"],
        "acute_intoxication_withdrawal"
    );
    assert_eq!(part("level")[0]["valueCoding"]["code"], "iop");
    assert_eq!(
        part("fired-rule")[0]["valueCoding"]["code"],
        "withdrawal_moderate_iop"
    );
    assert!(part("could-rise-to").is_empty());
    assert!(part("summary")[0]["valueString"]
        .as_str()
        .unwrap()
        .ends_with("because rule withdrawal_moderate_iop fired"));
    // A ruleset without dimensions has no such parameter.
    let six = Ruleset::from_yaml(include_str!(
        "../../../../examples/rulesets/six-levels.yaml"
    ))
    .unwrap();
    let answers = six.new_answers();
    let a = six.assess(&answers).unwrap();
    let g = guidance_response(&answers, &a, &input(), Release::R4).unwrap();
    assert!(params(&g, "dimension").is_empty());
}
