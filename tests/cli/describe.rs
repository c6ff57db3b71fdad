//! `carelevel describe`: text and JSON.

use serde_json::Value;

use crate::util::{run, snapshot};

#[test]
fn describe_default_text() {
    let out = run(&["describe"]);
    out.expect_code(0);
    assert_eq!(out.stderr, "");
    snapshot!("describe_default_text", out.snapshot());
}

#[test]
fn describe_default_json() {
    let out = run(&["describe", "--format", "json"]);
    out.expect_code(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["id"], "default");
    let levels: Vec<&str> = doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["outpatient", "iop", "residential"]);
    let step_down = doc["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "step_down_from_inpatient")
        .unwrap();
    assert_eq!(step_down["missing"]["policy"], "assume");
    assert_eq!(step_down["missing"]["assume"], false);
    snapshot!("describe_default_json", out.snapshot());
}

#[test]
fn describe_other_ruleset() {
    let out = run(&["describe", "--rules", "examples/rulesets/six-levels.yaml"]);
    out.expect_code(0);
    assert!(out
        .stdout
        .contains("      bands: minimal 0 to 9, moderate 10 to 18, severe 19 to 67\n"));
    snapshot!("describe_six_levels_text", out.snapshot());
}

#[test]
fn describe_invalid_rules() {
    let out = run(&[
        "describe",
        "--rules",
        "tests/cli/fixtures/syntax-error.yaml",
    ]);
    out.expect_code(2);
    assert_eq!(out.stdout, "");
    snapshot!("describe_invalid_rules", out.snapshot());
}

/// `describe --source` prints the bundled default ruleset byte for byte, so a user with
/// only the binary can start from it; with `--rules`, that file's text.
#[test]
fn describe_source_prints_the_ruleset_text() {
    let out = run(&["describe", "--source"]);
    out.expect_code(0);
    let bundled = std::fs::read_to_string(crate::util::root().join("rules/default.yaml")).unwrap();
    assert_eq!(out.stdout, bundled);
    assert_eq!(out.stderr, "");

    let out = run(&[
        "describe",
        "--source",
        "--rules",
        "examples/rulesets/six-levels.yaml",
    ]);
    out.expect_code(0);
    let six =
        std::fs::read_to_string(crate::util::root().join("examples/rulesets/six-levels.yaml"))
            .unwrap();
    assert_eq!(out.stdout, six);

    // A ruleset that does not compile is not printed: its errors are.
    let out = run(&[
        "describe",
        "--source",
        "--rules",
        "tests/cli/fixtures/semantic-errors.yaml",
    ]);
    out.expect_code(2);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("cannot be used"), "{}", out.stderr);

    let out = run(&["describe", "--source", "--format", "json"]);
    out.expect_code(2);
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
}

#[test]
fn rules_prints_the_bundled_default_byte_for_byte() {
    let out = crate::util::run(&["rules"]);
    out.expect_code(0);
    let file = std::fs::read_to_string(crate::util::root().join("rules/default.yaml")).unwrap();
    assert_eq!(out.stdout, file);
    assert_eq!(out.stderr, "");
}

#[test]
fn markdown_review_document() {
    let out = run(&[
        "describe",
        "--rules",
        "tests/cli/fixtures/interview.yaml",
        "--format",
        "markdown",
    ]);
    out.expect_code(0);
    snapshot!("describe_markdown", out.snapshot());
}

/// An invariant proved says over how many classes and complete answer combinations.
#[test]
fn markdown_review_document_counts_classes_and_combinations_of_proved_invariants() {
    let out = run(&[
        "describe",
        "--rules",
        "rules/default.yaml",
        "--format",
        "markdown",
    ]);
    out.expect_code(0);
    let proved = "- **Status:** proved over the whole answer space (86400 answer-set classes, \
                  86400 complete answer combinations)\n";
    assert_eq!(out.stdout.matches(proved).count(), 9, "{}", out.stdout);
    let out = run(&[
        "describe",
        "--rules",
        "examples/rulesets/six-levels.yaml",
        "--format",
        "markdown",
    ]);
    out.expect_code(0);
    assert!(
        !out.stdout.contains("proved over"),
        "six-levels declares no invariant"
    );
}

#[test]
fn html_review_document_is_self_contained() {
    let out = run(&[
        "describe",
        "--rules",
        "tests/cli/fixtures/interview.yaml",
        "--format",
        "html",
    ]);
    out.expect_code(0);
    assert!(out.stdout.starts_with("<!DOCTYPE html>\n"));
    for external in ["http:", "https:", "src=", "<script", "<link", "@import"] {
        assert!(!out.stdout.contains(external), "{external}");
    }
    snapshot!("describe_html", out.snapshot());
}

/// Ruleset text is untrusted: tags, links, images, table pipes, headings and list
/// markers in it come out as text in both formats.
#[test]
fn ruleset_markup_is_escaped_in_both_formats() {
    let md = run(&[
        "describe",
        "--rules",
        "tests/cli/fixtures/markup.yaml",
        "--format",
        "markdown",
    ]);
    md.expect_code(0);
    let html = run(&[
        "describe",
        "--rules",
        "tests/cli/fixtures/markup.yaml",
        "--format",
        "html",
    ]);
    html.expect_code(0);
    for text in [&md.stdout, &html.stdout] {
        for raw in ["<script", "<img", "<b>", "<i>"] {
            assert!(!text.contains(raw), "{raw} in:\n{text}");
        }
    }
    // Brackets are plain text in HTML; in Markdown they must not make a link or image.
    assert!(
        md.stdout.contains("\\[link\\](javascript:x)"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("!\\[img\\]"), "{}", md.stdout);
    assert!(md
        .stdout
        .contains("Line one \\# not a heading - not a list"));
    assert!(md.stdout.contains("High \\| pipe"));
    assert!(html
        .stdout
        .contains("Title &lt;script&gt;alert(1)&lt;/script&gt; &amp;"));
    assert!(html
        .stdout
        .contains("&quot;quotes&quot; and &#39;apostrophes&#39;"));
}
