//! `carelevel schema`: the answers and assessment schemas of a ruleset.

use serde_json::Value;

use crate::util::{root, run, snapshot};

#[test]
fn answers_schema_of_the_default_ruleset() {
    let out = run(&["schema"]);
    out.expect_code(0);
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout, run(&["schema", "--what", "answers"]).stdout);
    snapshot!("schema_answers_default", out.snapshot());
}

#[test]
fn assessment_schema_of_the_default_ruleset() {
    let out = run(&["schema", "--what", "assessment"]);
    out.expect_code(0);
    assert_eq!(out.stderr, "");
    let schema: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    snapshot!("schema_assessment_default", out.snapshot());
}

#[test]
fn schema_of_another_ruleset_and_a_bad_one() {
    let out = run(&["schema", "--rules", "examples/rulesets/six-levels.yaml"]);
    out.expect_code(0);
    let schema: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(schema["properties"]["ciwa_score"].is_object());
    let bad = run(&[
        "schema",
        "--rules",
        "tests/cli/fixtures/semantic-errors.yaml",
    ]);
    bad.expect_code(2);
    assert_eq!(bad.stdout, "");
}

/// Whether `value` is allowed by the property schema `p` (the subset of JSON Schema
/// that `answers_schema` uses: `anyOf`, `enum`, `type`, `minimum`, `maximum`).
fn allows(p: &Value, value: &Value) -> bool {
    if let Some(options) = p["anyOf"].as_array() {
        return options.iter().any(|o| allows(o, value));
    }
    if let Some(values) = p["enum"].as_array() {
        return values.contains(value);
    }
    match p["type"].as_str() {
        Some("null") => value.is_null(),
        Some("boolean") => value.is_boolean(),
        Some("integer") => value.as_i64().is_some_and(|i| {
            p["minimum"].as_i64().is_none_or(|m| i >= m)
                && p["maximum"].as_i64().is_none_or(|m| i <= m)
        }),
        _ => false,
    }
}

/// Validate an answers document against the schema: known properties only, each
/// value allowed, every required property present.
fn validate(schema: &Value, doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let properties = schema["properties"].as_object().unwrap();
    let answers = doc.as_object().unwrap();
    assert_eq!(schema["additionalProperties"], false);
    for (key, value) in answers {
        match properties.get(key) {
            None => problems.push(format!("unknown property {key}")),
            Some(p) if !allows(p, value) => problems.push(format!("{key}: {value} not allowed")),
            Some(_) => {}
        }
    }
    for required in schema["required"].as_array().unwrap() {
        if !answers.contains_key(required.as_str().unwrap()) {
            problems.push(format!("missing {required}"));
        }
    }
    problems
}

#[test]
fn example_answers_validate_against_the_schema() {
    let schema: Value = serde_json::from_str(&run(&["schema"]).stdout).unwrap();
    let text = std::fs::read_to_string(root().join("examples/answers/iop.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(validate(&schema, &doc), Vec::<String>::new());
    // And the library reads the same document as answers.
    let ruleset = carelevel::Ruleset::default_ruleset().unwrap();
    ruleset.answers_from_json(&text).unwrap();
    // The check has teeth: a value outside the scale and an unknown question fail.
    let mut bad = doc.clone();
    bad["severity"] = "extreme".into();
    bad["sevrity"] = "mild".into();
    assert_eq!(validate(&schema, &bad).len(), 2);
}

/// `schema --what record`: a batch record may carry its id (first), then the questions
/// in declaration order; an id field that is a question is refused as `batch` does.
#[test]
fn record_schema_allows_the_id_field() {
    let out = run(&["schema", "--what", "record", "--id-field", "person"]);
    out.expect_code(0);
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "person");
    assert_eq!(keys[1], "severity");
    assert_eq!(schema["additionalProperties"], false);

    let out = run(&["schema", "--what", "record", "--id-field", "housing"]);
    out.expect_code(2);
    assert!(out.stderr.contains("names a question"), "{}", out.stderr);
}
