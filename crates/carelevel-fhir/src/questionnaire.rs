//! Ruleset → FHIR `Questionnaire` (R4 or R5): one item per question, in declaration
//! order (`docs/fhir.md`, "Ruleset → Questionnaire").

use carelevel::{Factor, FactorKind, MissingPolicy, Ruleset};
use serde_json::{json, Map, Value};

use crate::canonical::{Canonical, Release};

/// The weight of an answer option (here: its rank on the scale, 0 = least risk),
/// from the FHIR extensions pack; it goes on `answerOption`. It was called
/// [`ORDINAL_VALUE`] before.
pub const ITEM_WEIGHT: &str = "http://hl7.org/fhir/StructureDefinition/itemWeight";
/// The R4 core name of [`ITEM_WEIGHT`] (context: `Coding` and
/// `Questionnaire.item.answerOption`), written as well in R4 for R4-only tools.
pub const ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
/// Core extension: the smallest allowed answer of an item.
pub const MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
/// Core extension: the largest allowed answer of an item.
pub const MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
/// Core extension: how an item is rendered (here: `help` for the description).
pub const ITEM_CONTROL: &str = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl";
/// The code system of [`ITEM_CONTROL`] codes.
pub const ITEM_CONTROL_SYSTEM: &str = "http://hl7.org/fhir/questionnaire-item-control";

/// The linkId of the help (`display`) child item carrying a question's description:
/// `<question id>.help`. Ruleset ids cannot contain `.`, so it never names a question.
pub fn help_link_id(question_id: &str) -> String {
    format!("{question_id}.help")
}

/// The FHIR `Questionnaire` of `ruleset` in `release`, as JSON (keys in FHIR's
/// element order).
pub fn questionnaire(ruleset: &Ruleset, release: Release) -> Value {
    let canonical = Canonical::of(ruleset);
    let meta = ruleset.metadata();
    let mut q = Map::new();
    q.insert("resourceType".into(), json!("Questionnaire"));
    q.insert("id".into(), json!(canonical.resource_id()));
    q.insert("url".into(), json!(canonical.base()));
    q.insert(
        "identifier".into(),
        json!([{
            "system": canonical.sha256_identifier_system(),
            "value": ruleset.sha256(),
        }]),
    );
    q.insert("version".into(), json!(canonical.version()));
    q.insert("name".into(), json!(computable_name(&meta.id)));
    q.insert("title".into(), json!(meta.title));
    q.insert("status".into(), json!("active"));
    q.insert(
        "description".into(),
        json!(format!(
            "{} Decision support: a qualified professional makes the final placement.",
            meta.description.trim()
        )),
    );
    let items: Vec<Value> = ruleset
        .factors()
        .iter()
        .map(|f| item(f, &canonical, release))
        .collect();
    q.insert("item".into(), Value::Array(items));
    Value::Object(q)
}

/// A computable name (`[A-Z]([A-Za-z0-9_]){0,254}`, FHIR's name invariant) from a
/// ruleset id: `default` → `Default`, `six-levels` → `SixLevels`.
fn computable_name(id: &str) -> String {
    let mut name = String::new();
    let mut upper = true;
    for c in id.chars() {
        if c == '-' || c == '_' {
            upper = true;
        } else if upper {
            name.extend(c.to_uppercase());
            upper = false;
        } else {
            name.push(c);
        }
    }
    if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
        name.insert(0, 'R');
    }
    name
}

/// One question's item.
fn item(factor: &Factor, canonical: &Canonical, release: Release) -> Value {
    let mut it = Map::new();
    if let FactorKind::Integer { min, max, .. } = &factor.kind {
        it.insert(
            "extension".into(),
            json!([
                {"url": MIN_VALUE, "valueInteger": min},
                {"url": MAX_VALUE, "valueInteger": max},
            ]),
        );
    }
    it.insert("linkId".into(), json!(factor.id));
    it.insert(
        "code".into(),
        json!([{
            "system": canonical.questions(),
            "code": factor.id,
            "display": factor.question,
        }]),
    );
    it.insert("text".into(), json!(factor.question));
    let kind = match (&factor.kind, release) {
        (FactorKind::Ordinal { .. }, Release::R4) => "choice",
        (FactorKind::Ordinal { .. }, Release::R5) => "coding",
        (FactorKind::Integer { .. }, _) => "integer",
        (FactorKind::Boolean, _) => "boolean",
    };
    it.insert("type".into(), json!(kind));
    it.insert(
        "required".into(),
        json!(factor.missing == MissingPolicy::Error),
    );
    it.insert("repeats".into(), json!(false));
    if let FactorKind::Ordinal { values } = &factor.kind {
        if release == Release::R5 {
            it.insert("answerConstraint".into(), json!("optionsOnly"));
        }
        let system = canonical.answers(&factor.id);
        let options: Vec<Value> = values
            .iter()
            .enumerate()
            .map(|(rank, value)| answer_option(&system, value, rank, release))
            .collect();
        it.insert("answerOption".into(), Value::Array(options));
    }
    if let Some(description) = &factor.description {
        it.insert("item".into(), json!([help_item(&factor.id, description)]));
    }
    Value::Object(it)
}

/// One `answerOption` of an ordinal question: the value as a Coding, its rank as weight.
fn answer_option(system: &str, value: &str, rank: usize, release: Release) -> Value {
    let extension = match release {
        Release::R4 => json!([
            {"url": ORDINAL_VALUE, "valueDecimal": rank},
            {"url": ITEM_WEIGHT, "valueDecimal": rank},
        ]),
        Release::R5 => json!([{"url": ITEM_WEIGHT, "valueDecimal": rank}]),
    };
    json!({
        "extension": extension,
        "valueCoding": {"system": system, "code": value, "display": value},
    })
}

/// The SDC help item: a `display` child with `itemControl` = `help`.
fn help_item(question_id: &str, description: &str) -> Value {
    json!({
        "extension": [{
            "url": ITEM_CONTROL,
            "valueCodeableConcept": {"coding": [{
                "system": ITEM_CONTROL_SYSTEM,
                "code": "help",
                "display": "Help-Button",
            }]},
        }],
        "linkId": help_link_id(question_id),
        "text": description.trim(),
        "type": "display",
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use super::*;

    #[test]
    fn names_are_computable() {
        assert_eq!(computable_name("default"), "Default");
        assert_eq!(computable_name("six-levels"), "SixLevels");
        assert_eq!(computable_name("a_b-c"), "ABC");
        assert_eq!(computable_name("9lives"), "R9lives");
    }

    #[test]
    fn default_r4_and_r5_questionnaires() {
        let rules = Ruleset::default_ruleset().unwrap();
        for (name, release) in [("default_r4", Release::R4), ("default_r5", Release::R5)] {
            let mut q = questionnaire(&rules, release);
            // The hash changes with every edit of the default ruleset; it is checked here.
            assert_eq!(q["identifier"][0]["value"], json!(rules.sha256()));
            q["identifier"][0]["value"] = json!("[sha256]");
            insta::assert_json_snapshot!(name, q);
        }
    }

    #[test]
    fn a_ruleset_url_is_the_questionnaire_url_and_the_base_of_every_system() {
        let text = carelevel::DEFAULT_RULESET.replacen(
            "\nversion:",
            "\nurl: https://example.org/fhir/carelevel/default\nversion:",
            1,
        );
        let rules = Ruleset::from_yaml(&text).unwrap();
        let q = questionnaire(&rules, Release::R4);
        assert_eq!(q["url"], "https://example.org/fhir/carelevel/default");
        assert_eq!(q["identifier"][0]["value"], json!(rules.sha256()));
        assert_eq!(
            q["item"][0]["code"][0]["system"],
            "https://example.org/fhir/carelevel/default/question"
        );
        assert_eq!(
            q["item"][0]["answerOption"][0]["valueCoding"]["system"],
            "https://example.org/fhir/carelevel/default/answer/severity"
        );
        assert_eq!(
            q["item"][0]["answerOption"][3]["extension"][1],
            json!({"url": ITEM_WEIGHT, "valueDecimal": 3})
        );
    }

    #[test]
    fn items_follow_declaration_order_and_policies() {
        let rules =
            Ruleset::from_yaml(include_str!("../../../examples/rulesets/six-levels.yaml")).unwrap();
        let q = questionnaire(&rules, Release::R5);
        let items = q["item"].as_array().unwrap();
        assert_eq!(items.len(), rules.factors().len());
        for (item, factor) in items.iter().zip(rules.factors()) {
            assert_eq!(item["linkId"], json!(factor.id));
            assert_eq!(
                item["required"],
                json!(factor.missing == MissingPolicy::Error)
            );
            match &factor.kind {
                FactorKind::Ordinal { values } => {
                    assert_eq!(item["type"], "coding");
                    assert_eq!(item["answerConstraint"], "optionsOnly");
                    assert_eq!(item["answerOption"].as_array().unwrap().len(), values.len());
                }
                FactorKind::Integer { min, max, .. } => {
                    assert_eq!(item["type"], "integer");
                    assert_eq!(item["extension"][0]["valueInteger"], json!(min));
                    assert_eq!(item["extension"][1]["valueInteger"], json!(max));
                }
                FactorKind::Boolean => assert_eq!(item["type"], "boolean"),
            }
        }
    }
}
