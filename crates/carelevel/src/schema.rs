//! JSON Schema (draft 2020-12) for the answers a ruleset takes and for the
//! [`crate::Assessment`] it returns, so form builders and other services can
//! validate before calling.

use serde_json::{json, Map, Value as Json};

use crate::model::{FactorKind, FlagKind, MissingPolicy, Ruleset};

const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Schema of an answers object for `ruleset`: one property per factor with its
/// allowed values (`enum` for ordinal scales, `minimum`/`maximum` for integers,
/// boolean), `null` allowed for "not answered" unless the factor's missing-answer
/// policy is `error`, in which case it is `required`. Unknown properties are refused.
pub fn answers_schema(ruleset: &Ruleset) -> Json {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in &ruleset.factors {
        let mut p = match &f.kind {
            FactorKind::Ordinal { values } => json!({ "enum": values }),
            FactorKind::Integer { min, max, bands } => {
                let mut p = json!({ "type": "integer", "minimum": min, "maximum": max });
                if !bands.is_empty() {
                    let described: Vec<String> = bands
                        .iter()
                        .map(|b| format!("{} {} to {}", b.id, b.min, b.max))
                        .collect();
                    if let Some(obj) = p.as_object_mut() {
                        obj.insert("x-bands".to_owned(), json!(described));
                    }
                }
                p
            }
            FactorKind::Boolean => json!({ "type": "boolean" }),
        };
        let policy = match &f.missing {
            MissingPolicy::Ask => "ask".to_owned(),
            MissingPolicy::Error => "error".to_owned(),
            MissingPolicy::Assume(code) => format!("assume {}", f.render_code(*code)),
        };
        if let Some(obj) = p.as_object_mut() {
            obj.insert("title".to_owned(), json!(f.question));
            if let Some(d) = &f.description {
                obj.insert("description".to_owned(), json!(d));
            }
            obj.insert("x-missing-policy".to_owned(), json!(policy));
        }
        if f.missing == MissingPolicy::Error {
            required.push(f.id.clone());
        } else {
            // `null` means "not answered".
            p = json!({ "anyOf": [p, { "type": "null" }] });
        }
        properties.insert(f.id.clone(), p);
    }
    json!({
        "$schema": DRAFT,
        "$id": format!("carelevel:answers:{}:{}", ruleset.meta.id, ruleset.meta.version),
        "title": format!("Answers for {} {}", ruleset.meta.title, ruleset.meta.version),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// Schema of one `batch` input record (a JSON Lines line): the answers object of
/// [`answers_schema`] plus an optional record id under `id_field` (text or a whole
/// number; `null` means no id). `None` when `id_field` is a question id, which `batch`
/// refuses too.
pub fn record_schema(ruleset: &Ruleset, id_field: &str) -> Option<Json> {
    if ruleset.factor_index(id_field).is_some() {
        return None;
    }
    let mut schema = answers_schema(ruleset);
    let obj = schema.as_object_mut()?;
    obj.insert(
        "$id".to_owned(),
        json!(format!(
            "carelevel:record:{}:{}",
            ruleset.meta.id, ruleset.meta.version
        )),
    );
    obj.insert(
        "title".to_owned(),
        json!(format!(
            "A batch record for {} {}",
            ruleset.meta.title, ruleset.meta.version
        )),
    );
    let id = json!({
        "type": ["string", "integer", "null"],
        "title": "Record id, copied to the output",
    });
    // The id first, then the questions in declaration order.
    let mut properties = Map::new();
    properties.insert(id_field.to_owned(), id);
    if let Some(Json::Object(questions)) = obj.remove("properties") {
        properties.extend(questions);
    }
    obj.insert("properties".to_owned(), Json::Object(properties));
    Some(schema)
}

fn string_enum(values: Vec<&str>) -> Json {
    json!({ "type": "string", "enum": values })
}

/// Schema of the [`crate::Assessment`] JSON this ruleset produces; level, rule and
/// flag ids are enumerated from the ruleset.
pub fn assessment_schema(ruleset: &Ruleset) -> Json {
    let level_ids: Vec<&str> = ruleset.levels.iter().map(|l| l.id.as_str()).collect();
    let rule_ids: Vec<&str> = ruleset.rules.iter().map(|r| r.id.as_str()).collect();
    let flag_ids: Vec<&str> = ruleset.flags.iter().map(|f| f.id.as_str()).collect();
    let factor_ids: Vec<&str> = ruleset.factors.iter().map(|f| f.id.as_str()).collect();
    let max_rank = ruleset.levels.len().saturating_sub(1);
    let level = json!({
        "type": "object",
        "properties": {
            "id": string_enum(level_ids.clone()),
            "label": { "type": "string" },
            "rank": { "type": "integer", "minimum": 0, "maximum": max_rank },
        },
        "required": ["id", "label", "rank"],
        "additionalProperties": false,
    });
    let nullable_string = json!({ "type": ["string", "null"] });
    let answer_value = json!({ "type": ["string", "integer", "boolean"] });
    let kinds = [FlagKind::Refer, FlagKind::Review, FlagKind::Info].map(|k| k.to_string());
    let flag = json!({
        "type": "object",
        "properties": {
            "id": string_enum(flag_ids),
            "kind": { "type": "string", "enum": kinds },
            "message": { "type": "string" },
            "source": nullable_string,
        },
        "required": ["id", "kind", "message", "source"],
        "additionalProperties": false,
    });
    let strings = |items: Json| json!({ "type": "array", "items": items });
    let mut schema = json!({
        "$schema": DRAFT,
        "$id": format!("carelevel:assessment:{}:{}", ruleset.meta.id, ruleset.meta.version),
        "title": "carelevel assessment (decision support; see docs/assessment.md)",
        "type": "object",
        "$defs": { "level": level, "flag": flag },
        "properties": {
            "level": { "$ref": "#/$defs/level" },
            "basis": string_enum(vec!["rules", "score", "rules_and_score", "lowest_level", "missing_answers"]),
            "deciding_rules": strings(string_enum(rule_ids.clone())),
            "fired_rules": strings(json!({
                "type": "object",
                "properties": {
                    "id": string_enum(rule_ids),
                    "level": string_enum(level_ids),
                    "because": { "type": "string" },
                    "source": nullable_string,
                    "score_tests": {
                        "description": "The tests of the total score in the rule's condition that hold, in words (\"at least 20\"); absent when the rule tests no total or none holds",
                        "type": "array",
                        "items": { "type": "string" },
                        "minItems": 1,
                    },
                },
                "required": ["id", "level", "because", "source"],
                "additionalProperties": false,
            })),
            "score": {
                "anyOf": [
                    { "type": "null" },
                    {
                        "type": "object",
                        "properties": {
                            "total": { "type": "integer" },
                            "unanswered_max": { "type": "integer" },
                            "unanswered_min": { "type": "integer" },
                            "band_level": { "anyOf": [{ "type": "null" }, { "$ref": "#/$defs/level" }] },
                            "decides": { "type": "boolean" },
                            "breakdown": strings(json!({
                                "type": "object",
                                "properties": {
                                    "factor": string_enum(factor_ids.clone()),
                                    "value": answer_value,
                                    "points": { "type": "integer" },
                                },
                                "required": ["factor", "value", "points"],
                                "additionalProperties": false,
                            })),
                        },
                        "required": ["total", "unanswered_max", "unanswered_min", "band_level", "decides", "breakdown"],
                        "additionalProperties": false,
                    }
                ]
            },
            "flags": strings(json!({ "$ref": "#/$defs/flag" })),
            "refer": { "type": "boolean" },
            "possible_flags": strings(json!({ "$ref": "#/$defs/flag" })),
            "missing": strings(json!({
                "type": "object",
                "properties": {
                    "factor": string_enum(factor_ids.clone()),
                    "question": { "type": "string" },
                    "could_change_level": { "type": "boolean" },
                },
                "required": ["factor", "question", "could_change_level"],
                "additionalProperties": false,
            })),
            "level_range": {
                "type": "object",
                "properties": {
                    "lowest": { "$ref": "#/$defs/level" },
                    "highest": { "$ref": "#/$defs/level" },
                },
                "required": ["lowest", "highest"],
                "additionalProperties": false,
            },
            "assumed": strings(json!({
                "type": "object",
                "properties": {
                    "factor": string_enum(factor_ids),
                    "value": answer_value,
                },
                "required": ["factor", "value"],
                "additionalProperties": false,
            })),
            "needs_review": { "type": "boolean" },
            "review_reasons": strings(json!({ "type": "string" })),
            "provenance": {
                "type": "object",
                "properties": {
                    "ruleset_id": { "const": ruleset.meta.id },
                    "ruleset_version": { "const": ruleset.meta.version },
                    "ruleset_sha256": { "const": ruleset.sha256 },
                    "engine": { "const": "carelevel" },
                    "engine_version": { "type": "string" },
                },
                "required": ["ruleset_id", "ruleset_version", "ruleset_sha256", "engine", "engine_version"],
                "additionalProperties": false,
            },
        },
        "required": [
            "level", "basis", "deciding_rules", "fired_rules", "score", "flags", "refer",
            "possible_flags", "missing", "level_range", "assumed", "needs_review",
            "review_reasons", "provenance"
        ],
        "additionalProperties": false,
    });
    if !ruleset.dimensions.is_empty() {
        add_dimensions(&mut schema, ruleset);
    }
    schema
}

/// Add the `dimensions` section (required: the ruleset declares dimensions) to the
/// assessment schema, after `review_reasons`, as the JSON has it.
fn add_dimensions(schema: &mut Json, ruleset: &Ruleset) {
    let ids = |items: Vec<&str>| json!({ "type": "array", "items": string_enum(items) });
    let dimension_ids: Vec<&str> = ruleset.dimensions.iter().map(|d| d.id.as_str()).collect();
    let tagged = |d: Option<usize>| d.is_some();
    let factor_ids: Vec<&str> = ruleset
        .factors
        .iter()
        .filter(|f| tagged(f.dimension))
        .map(|f| f.id.as_str())
        .collect();
    let rule_ids: Vec<&str> = ruleset
        .rules
        .iter()
        .filter(|r| tagged(r.dimension))
        .map(|r| r.id.as_str())
        .collect();
    let flag_ids: Vec<&str> = ruleset
        .flags
        .iter()
        .filter(|f| tagged(f.dimension))
        .map(|f| f.id.as_str())
        .collect();
    let section = json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "id": string_enum(dimension_ids),
                "label": { "type": "string" },
                "answers": { "type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "factor": string_enum(factor_ids.clone()),
                        "value": { "type": ["string", "integer", "boolean"] },
                        "assumed": { "type": "boolean" },
                    },
                    "required": ["factor", "value", "assumed"],
                    "additionalProperties": false,
                }},
                "missing": ids(factor_ids),
                "fired_rules": ids(rule_ids),
                "flags": ids(flag_ids.clone()),
                "possible_flags": ids(flag_ids),
                "level": { "$ref": "#/$defs/level" },
                "could_rise_to": { "anyOf": [{ "type": "null" }, { "$ref": "#/$defs/level" }] },
                "summary": { "type": "string" },
            },
            "required": [
                "id", "label", "answers", "missing", "fired_rules", "flags", "possible_flags",
                "level", "could_rise_to", "summary"
            ],
            "additionalProperties": false,
        },
    });
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(Json::Object(properties)) = obj.get_mut("properties") {
        // Rebuilt to keep the JSON's order: `dimensions` comes before `provenance`.
        let mut ordered = Map::new();
        for (key, value) in std::mem::take(properties) {
            if key == "provenance" {
                ordered.insert("dimensions".to_owned(), section.clone());
            }
            ordered.insert(key, value);
        }
        *properties = ordered;
    }
    if let Some(Json::Array(required)) = obj.get_mut("required") {
        let at = required
            .iter()
            .position(|r| r == "provenance")
            .unwrap_or(required.len());
        required.insert(at, json!("dimensions"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small validator for the subset of JSON Schema these schemas use, so the
    /// tests check real documents against the generated schemas.
    fn validate(schema: &Json, root: &Json, value: &Json, path: &str) -> Vec<String> {
        let mut errs = Vec::new();
        if let Some(r) = schema.get("$ref").and_then(Json::as_str) {
            let name = r.trim_start_matches("#/$defs/");
            return validate(&root["$defs"][name], root, value, path);
        }
        if let Some(options) = schema.get("anyOf").and_then(Json::as_array) {
            if !options
                .iter()
                .any(|o| validate(o, root, value, path).is_empty())
            {
                errs.push(format!("{path}: matches no anyOf option: {value}"));
            }
            return errs;
        }
        if let Some(c) = schema.get("const") {
            if c != value {
                errs.push(format!("{path}: expected {c}, got {value}"));
            }
        }
        if let Some(e) = schema.get("enum").and_then(Json::as_array) {
            if !e.contains(value) {
                errs.push(format!("{path}: {value} not in enum"));
            }
        }
        if let Some(t) = schema.get("type") {
            let types: Vec<&str> = match t {
                Json::String(s) => vec![s.as_str()],
                Json::Array(a) => a.iter().filter_map(Json::as_str).collect(),
                _ => vec![],
            };
            let ok = types.iter().any(|t| match *t {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "boolean" => value.is_boolean(),
                "null" => value.is_null(),
                _ => false,
            });
            if !ok {
                errs.push(format!("{path}: {value} is not {types:?}"));
            }
        }
        if let (Some(min), Some(v)) = (schema.get("minimum").and_then(Json::as_i64), value.as_i64())
        {
            if v < min {
                errs.push(format!("{path}: {v} < {min}"));
            }
        }
        if let (Some(max), Some(v)) = (schema.get("maximum").and_then(Json::as_i64), value.as_i64())
        {
            if v > max {
                errs.push(format!("{path}: {v} > {max}"));
            }
        }
        if let (Some(props), Some(obj)) = (
            schema.get("properties").and_then(Json::as_object),
            value.as_object(),
        ) {
            for req in schema
                .get("required")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(k) = req.as_str() {
                    if !obj.contains_key(k) {
                        errs.push(format!("{path}: missing required `{k}`"));
                    }
                }
            }
            for (k, v) in obj {
                match props.get(k) {
                    Some(s) => errs.extend(validate(s, root, v, &format!("{path}.{k}"))),
                    None if schema.get("additionalProperties") == Some(&Json::Bool(false)) => {
                        errs.push(format!("{path}: unexpected property `{k}`"));
                    }
                    None => {}
                }
            }
        }
        if let (Some(min), Some(arr)) = (
            schema.get("minItems").and_then(Json::as_u64),
            value.as_array(),
        ) {
            if (arr.len() as u64) < min {
                errs.push(format!("{path}: fewer than {min} items"));
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
            for (i, v) in arr.iter().enumerate() {
                errs.extend(validate(items, root, v, &format!("{path}[{i}]")));
            }
        }
        errs
    }

    /// The property names of an object schema, in order.
    fn property_names(schema: &Json) -> Vec<&str> {
        schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn questions_are_listed_in_declaration_order() {
        let rs = Ruleset::from_yaml(crate::DEFAULT_RULESET).unwrap();
        let ids: Vec<&str> = rs.factors.iter().map(|f| f.id.as_str()).collect();
        let schema = answers_schema(&rs);
        let keys = property_names(&schema);
        assert_eq!(keys, ids);
        // Also once printed: serde_json keeps insertion order (`preserve_order`).
        let text = serde_json::to_string(&schema).unwrap();
        let positions: Vec<usize> = ids
            .iter()
            .map(|id| text.find(&format!("\"{id}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }

    #[test]
    fn a_record_may_carry_its_id_and_nothing_else_extra() {
        let rs = Ruleset::from_yaml(crate::DEFAULT_RULESET).unwrap();
        let schema = record_schema(&rs, "id").unwrap();
        let keys = property_names(&schema);
        assert_eq!(keys.first(), Some(&"id"));
        assert_eq!(keys.len(), rs.factors.len() + 1);
        for id in [json!("p1"), json!(7), json!(null)] {
            let record = json!({"id": id, "severity": "mild"});
            assert!(
                validate(&schema, &schema, &record, "$").is_empty(),
                "{record}"
            );
        }
        let bad = json!({"id": 1.5, "person": "x"});
        assert_eq!(validate(&schema, &schema, &bad, "$").len(), 2);
        // The answers schema itself still refuses the id, and a question id is no id field.
        let answers = answers_schema(&rs);
        assert_eq!(
            validate(&answers, &answers, &json!({"id": "p1"}), "$").len(),
            1
        );
        assert!(record_schema(&rs, "severity").is_none());
    }

    #[test]
    fn real_assessments_match_the_assessment_schema() {
        for text in [
            crate::DEFAULT_RULESET,
            include_str!("../../../examples/rulesets/six-levels.yaml"),
        ] {
            let rs = Ruleset::from_yaml(text).unwrap();
            let schema = assessment_schema(&rs);
            // Lowest answers, highest answers, and everything missing.
            for pick in [Some(0usize), None, Some(usize::MAX)] {
                let mut a = rs.new_answers();
                for f in &rs.factors {
                    let Some(p) = pick else { continue };
                    let code = f.classes[p.min(f.classes.len() - 1)];
                    a.set(&f.id, f.value_of(code)).unwrap();
                }
                let doc = serde_json::to_value(rs.assess(&a).unwrap()).unwrap();
                let errs = validate(&schema, &schema, &doc, "$");
                assert!(errs.is_empty(), "{errs:#?}");
            }
            // A wrong document is caught (the validator and schema are not vacuous).
            let mut doc = serde_json::to_value(rs.assess(&rs.new_answers()).unwrap()).unwrap();
            doc["level"]["id"] = json!("nowhere");
            doc["extra"] = json!(1);
            assert_eq!(validate(&schema, &schema, &doc, "$").len(), 2);
        }
    }

    #[test]
    fn a_fired_rule_that_tested_the_total_matches_the_assessment_schema() {
        let rs = Ruleset::from_yaml(
            r#"id: t
version: "1"
title: t
description: t
levels:
  - {id: low, label: Low, description: l}
  - {id: high, label: High, description: h}
factors:
  - {id: risk, kind: ordinal, question: "R?", values: [none, some, acute]}
  - {id: alone, kind: boolean, question: "A?"}
scoring:
  points:
    risk: {none: 0, some: 10, acute: 20}
    alone: {false: 0, true: 5}
  bands:
    - {max: 24, level: low}
    - {min: 25, level: high}
rules:
  - {id: r, level: high, because: b, when: {all: [{score: {at_least: 15}}, {alone: true}]}}
"#,
        )
        .unwrap();
        let schema = assessment_schema(&rs);
        let answers = rs
            .answers_from_json(r#"{"risk": "some", "alone": true}"#)
            .unwrap();
        let mut doc = serde_json::to_value(rs.assess(&answers).unwrap()).unwrap();
        assert_eq!(doc["fired_rules"][0]["score_tests"], json!(["at least 15"]));
        let errs = validate(&schema, &schema, &doc, "$");
        assert!(errs.is_empty(), "{errs:#?}");
        // An empty list is never written (absent instead), and the schema says so.
        doc["fired_rules"][0]["score_tests"] = json!([]);
        assert_eq!(validate(&schema, &schema, &doc, "$").len(), 1);
        doc["fired_rules"][0]["score_tests"] = json!([15]);
        assert_eq!(validate(&schema, &schema, &doc, "$").len(), 1);
    }

    #[test]
    fn answers_schema_accepts_example_answers_and_rejects_bad_ones() {
        let rs = Ruleset::default_ruleset().unwrap();
        let schema = answers_schema(&rs);
        let good: Json =
            serde_json::from_str(include_str!("../../../examples/answers/iop.json")).unwrap();
        assert!(validate(&schema, &schema, &good, "$").is_empty());
        let bad = json!({"severity": "extreme", "housing": null, "sevrity": "mild"});
        let errs = validate(&schema, &schema, &bad, "$");
        assert_eq!(errs.len(), 2, "{errs:#?}");
        // The engine agrees with the schema on both.
        assert!(rs.answers_from_json(&good.to_string()).is_ok());
        assert_eq!(
            rs.answers_from_json(&bad.to_string())
                .unwrap_err()
                .problems
                .len(),
            2
        );
    }

    #[test]
    fn the_dimensions_section_is_in_the_schema_only_when_declared() {
        let text = "id: t\nversion: '1'\ntitle: T\ndescription: D
dimensions: [{id: w, label: W, description: W}, {id: e, label: E, description: E}]
levels: [{id: out, label: O, description: o}, {id: res, label: R, description: r}]
factors:
  - {id: a, kind: ordinal, question: Q, values: [none, high], dimension: w}
  - {id: b, kind: boolean, question: Q, missing: {assume: false}, dimension: e}
rules: [{id: r, when: {a: high}, level: res, because: B, dimension: w}]
flags: [{id: f, kind: info, when: {b: true}, message: M, dimension: e}]
";
        let rs = Ruleset::from_yaml(text).unwrap();
        let schema = assessment_schema(&rs);
        let keys = property_names(&schema);
        let at = keys.iter().position(|k| *k == "dimensions").unwrap();
        assert_eq!(keys.get(at + 1), Some(&"provenance"));
        assert!(schema["required"]
            .as_array()
            .unwrap()
            .contains(&json!("dimensions")));
        for answers in [r#"{"a": "high", "b": true}"#, r#"{"a": "none"}"#, "{}"] {
            let a = rs.answers_from_json(answers).unwrap();
            let doc = serde_json::to_value(rs.assess(&a).unwrap()).unwrap();
            assert_eq!(doc["dimensions"].as_array().unwrap().len(), 2, "{doc}");
            let errs = validate(&schema, &schema, &doc, "$");
            assert!(errs.is_empty(), "{errs:#?}");
        }
        // Not vacuous: a wrong dimension id and a stray key are caught.
        let a = rs.answers_from_json("{}").unwrap();
        let mut doc = serde_json::to_value(rs.assess(&a).unwrap()).unwrap();
        doc["dimensions"][0]["id"] = json!("nowhere");
        doc["dimensions"][1]["extra"] = json!(1);
        assert_eq!(validate(&schema, &schema, &doc, "$").len(), 2);
        // Without dimensions the schema has no such property and refuses one.
        let plain =
            Ruleset::from_yaml(include_str!("../../../examples/rulesets/six-levels.yaml")).unwrap();
        let schema = assessment_schema(&plain);
        assert!(!property_names(&schema).contains(&"dimensions"));
        let mut doc = serde_json::to_value(plain.assess(&plain.new_answers()).unwrap()).unwrap();
        assert!(validate(&schema, &schema, &doc, "$").is_empty());
        doc["dimensions"] = json!([]);
        assert_eq!(validate(&schema, &schema, &doc, "$").len(), 1);
    }
}
