#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::borrow::Cow;

use super::*;
use proptest::prelude::*;

const SIX_LEVELS: &str = include_str!("../../../../examples/rulesets/six-levels.yaml");
const MISSING: &str = include_str!("../../../../examples/answers/missing.yaml");
const REFER: &str = include_str!("../../../../examples/answers/refer.yaml");
const IOP: &str = include_str!("../../../../examples/answers/iop.yaml");

fn rules() -> Ruleset {
    Ruleset::default_ruleset().unwrap()
}

fn uuid() -> CardInput {
    CardInput {
        uuid: "3f2504e0-4f89-41d3-9a0c-0305e82c3301".into(),
    }
}

/// The card rules of CDS Hooks 2.0 that the Inferno CDS Hooks test kit
/// (inferno-framework/cds-hooks-test-kit) checks on a service's cards. The kit's
/// source could not be fetched from here, so its test names are not cited; these
/// are the specification's card requirements it is built on:
/// summary (required string, < 140 characters), indicator (required, `info` |
/// `warning` | `critical`), source (required, with a required string `label`),
/// overrideReasons (each a Coding with `code`, `system` and `display`), uuid
/// (string when present), detail (string when present), and no `selectionBehavior`
/// without `suggestions`.
fn card_problems(card: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(obj) = card.as_object() else {
        return vec!["a card is a JSON object".into()];
    };
    match obj.get("summary").and_then(Value::as_str) {
        Some(s) if s.chars().count() < SUMMARY_MAX_CHARS && !s.is_empty() => {}
        Some(s) => p.push(format!("summary has {} characters", s.chars().count())),
        None => p.push("summary is required and a string".into()),
    }
    match obj.get("indicator").and_then(Value::as_str) {
        Some("info" | "warning" | "critical") => {}
        other => p.push(format!("indicator {other:?} is not info|warning|critical")),
    }
    match obj
        .get("source")
        .and_then(|s| s.get("label"))
        .and_then(Value::as_str)
    {
        Some(l) if !l.is_empty() => {}
        _ => p.push("source.label is required and a string".into()),
    }
    if let Some(url) = obj.get("source").and_then(|s| s.get("url")) {
        if !url.as_str().is_some_and(|u| u.starts_with("http")) {
            p.push("source.url is an absolute URL".into());
        }
    }
    for key in ["uuid", "detail"] {
        if obj.get(key).is_some_and(|v| !v.is_string()) {
            p.push(format!("{key} is a string"));
        }
    }
    if let Some(reasons) = obj.get("overrideReasons") {
        match reasons.as_array() {
            Some(list) => {
                for (i, r) in list.iter().enumerate() {
                    for key in ["code", "system", "display"] {
                        if r.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
                            p.push(format!("overrideReasons[{i}].{key} is required"));
                        }
                    }
                }
            }
            None => p.push("overrideReasons is an array".into()),
        }
    }
    if obj.contains_key("selectionBehavior") && !obj.contains_key("suggestions") {
        p.push("selectionBehavior without suggestions".into());
    }
    p
}

fn card(rules: &Ruleset, yaml: &str) -> Value {
    let answers = rules.answers_from_yaml(yaml).unwrap();
    let a = rules.assess(&answers).unwrap();
    cds_card(rules, &a, &uuid()).unwrap()
}

#[test]
fn the_card_rules_flag_broken_cards() {
    // The checker itself must fail on what it checks.
    let good = card(&rules(), IOP);
    assert!(
        card_problems(&good).is_empty(),
        "{:?}",
        card_problems(&good)
    );
    let broken = [
        ("summary", json!("x".repeat(140))),
        ("summary", json!(1)),
        ("indicator", json!("hard-stop")),
        ("source", json!({"url": "https://x"})),
        ("overrideReasons", json!([{"code": "a", "system": "s"}])),
        ("uuid", json!(7)),
    ];
    for (key, value) in broken {
        let mut c = good.clone();
        c[key] = value.clone();
        assert!(!card_problems(&c).is_empty(), "{key}: {value}");
    }
    let mut c = good.clone();
    c["selectionBehavior"] = json!("at-most-one");
    assert!(!card_problems(&c).is_empty());
}

#[test]
fn indicator_is_info_warning_or_critical_by_review_and_refer() {
    let rules = rules();
    assert_eq!(card(&rules, IOP)["indicator"], "info");
    assert_eq!(card(&rules, MISSING)["indicator"], "warning");
    assert_eq!(card(&rules, REFER)["indicator"], "critical");
}

#[test]
fn the_card_has_uuid_source_and_override_reasons_with_displays() {
    let rules = rules();
    let c = card(&rules, REFER);
    assert_eq!(c["uuid"], "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    assert_eq!(
        c["source"]["label"],
        json!(format!("{} (default 1.1.0)", rules.metadata().title))
    );
    assert!(c["source"].get("url").is_none(), "a urn is no url");
    let reasons = c["overrideReasons"].as_array().unwrap();
    assert_eq!(reasons.len(), OVERRIDE_REASONS.len());
    for (r, (code, display)) in reasons.iter().zip(OVERRIDE_REASONS) {
        assert_eq!(r["code"], code);
        assert_eq!(r["display"], display);
        assert_eq!(r["system"], "urn:carelevel:ruleset:default/override-reason");
    }
    assert_eq!(
        c["summary"],
        "Suggested level of care: Residential; refer first"
    );
    assert!(c.get("suggestions").is_none());
}

#[test]
fn detail_explains_rules_flags_missing_answers_and_says_decision_support() {
    let rules = rules();
    let c = card(&rules, MISSING);
    let d = c["detail"].as_str().unwrap();
    assert!(
        d.contains("**Suggested level of care: Residential**"),
        "{d}"
    );
    assert!(d.contains("### Why"), "{d}");
    assert!(d.contains("severity\\_moderate\\_iop"), "{d}");
    assert!(d.contains("Source: ASAM"), "{d}");
    assert!(d.contains("### Flags"), "{d}");
    assert!(d.contains("could fire depending on missing answers"), "{d}");
    assert!(d.contains("### Missing answers"), "{d}");
    assert!(
        d.contains("allowed answers: none, low, moderate, high, imminent"),
        "{d}"
    );
    assert!(d.contains("could change the level"), "{d}");
    assert!(
        d.contains("a qualified professional makes the final decision"),
        "{d}"
    );
    let r = card(&rules, REFER);
    assert!(r["detail"]
        .as_str()
        .unwrap()
        .contains("**Refer** refer\\_severe\\_withdrawal"));
}

#[test]
fn ruleset_text_cannot_inject_markdown_or_html() {
    let evil = "[click](javascript:alert(1)) ![i](x) <script>alert(1)</script> &amp; `code` *em* _u_\n# heading\n- item | cell";
    let yaml = format!(
        "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {{id: low, label: Low, description: l}}\n  - {{id: high, label: \"{label}\", description: h}}\nfactors:\n  - {{id: a, kind: boolean, question: \"{q}\"}}\nrules:\n  - {{id: r, level: high, when: {{a: true}}, because: {because}, source: {because}}}\n",
        label = "<b>High</b>",
        q = "A [x](y)?",
        because = serde_json::to_string(evil).unwrap(),
    );
    let rules = Ruleset::from_yaml(&yaml).unwrap();
    let a = rules
        .assess(&rules.answers_from_yaml("a: true").unwrap())
        .unwrap();
    let d = detail(&rules, &a);
    // Every markdown-active character from the ruleset arrives escaped.
    for needle in [
        "\\[click\\]\\(javascript",
        "\\<script\\>",
        "\\&amp;",
        "\\`code\\`",
        "\\*em\\*",
        "\\_u\\_",
        "\\<b\\>High\\<\\/b\\>",
        "\\# heading",
        "\\- item \\| cell",
    ] {
        assert!(d.contains(needle), "{needle} in {d}");
    }
    for bad in [
        "[click](",
        "<script>",
        "](javascript",
        "\n# heading",
        "\n- item",
    ] {
        assert!(!d.contains(bad), "{bad} in {d}");
    }
}

#[test]
fn escape_markdown_escapes_all_ascii_punctuation_and_controls() {
    assert_eq!(escape_markdown("a.b"), "a\\.b");
    assert_eq!(escape_markdown("x\ny\rz\u{7}"), "x y z ");
    assert_eq!(escape_markdown("é–ü"), "é–ü");
    let all: String = (0x21u8..0x7f)
        .map(char::from)
        .filter(char::is_ascii_punctuation)
        .collect();
    let escaped = escape_markdown(&all);
    assert_eq!(escaped.len(), all.len() * 2 - INERT_PUNCTUATION.len());
    assert_eq!(
        escape_markdown("a, b; c? 'd' \"e\" 5% x=y"),
        "a, b; c? 'd' \"e\" 5% x=y"
    );
    assert_eq!(
        escape_markdown("www.x.org https://x a@b"),
        "www\\.x\\.org https\\:\\/\\/x a\\@b"
    );
}

#[test]
fn truncation_cuts_on_a_character_boundary_with_an_ellipsis() {
    assert_eq!(truncate_chars("abc", 3), "abc");
    assert_eq!(truncate_chars("abcd", 3), "ab…");
    let long = "é".repeat(100);
    let cut = truncate_chars(&long, LABEL_MAX_CHARS);
    assert_eq!(cut.chars().count(), LABEL_MAX_CHARS);
    assert!(cut.ends_with('…'));
}

#[test]
fn the_longest_possible_summary_is_under_the_limit() {
    let rules = rules();
    let answers = rules.answers_from_yaml(REFER).unwrap();
    let mut a = rules.assess(&answers).unwrap();
    a.level.label = Cow::Owned("𝕏".repeat(500));
    a.needs_review = true;
    a.refer = true;
    let s = summary(&a);
    assert!(s.chars().count() < SUMMARY_MAX_CHARS, "{s}");
    assert_eq!(
        SUMMARY_PREFIX.chars().count()
            + LABEL_MAX_CHARS
            + SUMMARY_REVIEW.chars().count()
            + SUMMARY_REFER.chars().count(),
        s.chars().count()
    );
}

proptest! {
    #[test]
    fn summary_is_under_the_limit_for_any_label(label in any::<String>(), review: bool, refer: bool) {
        let rules = rules();
        let answers = rules.answers_from_yaml(IOP).unwrap();
        let mut a = rules.assess(&answers).unwrap();
        a.level.label = Cow::Owned(label);
        a.needs_review = review;
        a.refer = refer;
        let s = summary(&a);
        prop_assert!(s.chars().count() < SUMMARY_MAX_CHARS);
        prop_assert!(!s.chars().any(char::is_control));
    }
}

/// Every answer set: unanswered, or one representative of each class, per factor.
fn whole_space(rules: &Ruleset) -> usize {
    let slots: Vec<Vec<Option<i64>>> = rules
        .factors()
        .iter()
        .map(|f| {
            std::iter::once(None)
                .chain(f.classes().iter().map(|&c| Some(c)))
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
        if let Ok(a) = rules.assess(&answers) {
            let c = cds_card(rules, &a, &uuid()).unwrap();
            let problems = card_problems(&c);
            assert!(problems.is_empty(), "{problems:?}: {c}");
            let expected = if a.refer {
                "critical"
            } else if a.needs_review {
                "warning"
            } else {
                "info"
            };
            assert_eq!(c["indicator"], expected);
            let label = c["source"]["label"].as_str().unwrap();
            assert!(label.contains(&rules.metadata().version), "{label}");
            assert!(c["detail"]
                .as_str()
                .unwrap()
                .contains("qualified professional"));
            count += 1;
        }
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

#[test]
fn every_card_of_the_default_answer_space_keeps_the_card_rules() {
    // As in the response round trip: every answer set of the default ruleset is
    // assessable (unanswered questions are `ask` or assumed).
    assert_eq!(whole_space(&rules()), 864_000);
}

#[test]
fn every_card_of_the_six_level_answer_space_keeps_the_card_rules() {
    let rules = Ruleset::from_yaml(SIX_LEVELS).unwrap();
    assert!(whole_space(&rules) > 0);
}

#[test]
fn the_detail_has_a_dimension_section_only_when_the_ruleset_declares_dimensions() {
    let c = card(&rules(), IOP);
    let detail = c["detail"].as_str().unwrap();
    assert!(detail.contains("\n### By dimension\n\n- Acute intoxication and\\/or withdrawal potential\\: withdrawal\\_risk = moderate; calls for Intensive outpatient program \\(IOP\\) because rule withdrawal\\_moderate\\_iop fired\n"), "{detail}");
    assert!(detail.matches("\n- ").count() >= 7);
    let six = Ruleset::from_yaml(SIX_LEVELS).unwrap();
    let a = six.assess(&six.new_answers()).unwrap();
    let detail = cds_card(&six, &a, &uuid()).unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!detail.contains("By dimension"), "{detail}");
}
