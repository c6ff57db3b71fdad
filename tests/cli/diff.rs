//! `carelevel diff` and the whole-space side of `carelevel check`.

use crate::util::{run, snapshot};

const OLD: &str = "examples/policy-change/default-1.0.0.yaml";
const NEW: &str = "examples/policy-change/limited-support.yaml";

#[test]
fn diff_text_report_of_the_policy_change() {
    let out = run(&["diff", OLD, NEW]);
    out.expect_code(0);
    assert!(out.stdout.contains(
        "Summary: 432 of 460800 answer-set classes change level (432 escalations, 0 de-escalations, 0 other)"
    ));
    snapshot!("diff_text_policy_change", out.snapshot());
}

#[test]
fn diff_markdown_with_cases() {
    let out = run(&[
        "diff",
        OLD,
        NEW,
        "--format",
        "markdown",
        "--cases",
        "examples/cases/people.jsonl",
    ]);
    out.expect_code(0);
    snapshot!("diff_markdown_policy_change_cases", out.snapshot());
}

#[test]
fn diff_json_is_the_report_with_summary() {
    let out = run(&[
        "diff",
        OLD,
        NEW,
        "--format",
        "json",
        "--cases",
        "examples/cases/people.jsonl",
    ]);
    out.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["classes"], 460800);
    assert_eq!(v["escalations"], 432);
    assert_eq!(v["de_escalations"], 0);
    let total: u64 = v["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(total, 460800);
    let cases: u64 = v["case_matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(cases, 40, "every case is counted");
    assert_eq!(v["case_errors"], serde_json::json!([]));
    assert_eq!(v["cells"][0]["examples"][0]["covers"], 432);
}

#[test]
fn csv_and_jsonl_cases_count_the_same() {
    let json = |cases: &str| {
        let out = run(&["diff", OLD, NEW, "--format", "json", "--cases", cases]);
        out.expect_code(0);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        v["case_matrix"].clone()
    };
    assert_eq!(
        json("examples/cases/people.csv"),
        json("examples/cases/people.jsonl")
    );
}

#[test]
fn fail_on_gates_by_direction() {
    run(&["diff", OLD, NEW, "--fail-on", "escalation"]).expect_code(1);
    run(&["diff", OLD, NEW, "--fail-on", "any"]).expect_code(1);
    run(&["diff", OLD, NEW, "--fail-on", "de-escalation"]).expect_code(0);
    // Reversed, the escalations become de-escalations.
    run(&["diff", NEW, OLD, "--fail-on", "de-escalation"]).expect_code(1);
}

#[test]
fn diff_of_a_ruleset_with_itself_reports_no_change() {
    let out = run(&["diff", OLD, OLD, "--fail-on", "any"]);
    out.expect_code(0);
    assert!(out.stdout.contains("No answer set changes level."));
    assert!(out.stdout.contains("No flag changes."));
    assert!(out
        .stdout
        .contains("Summary: 0 of 460800 answer-set classes change level"));
}

#[test]
fn rulesets_of_different_shapes_are_compared_with_notes() {
    let out = run(&[
        "diff",
        "tests/cli/fixtures/small.yaml",
        "tests/cli/fixtures/small-reshaped.yaml",
    ]);
    out.expect_code(0);
    assert!(out
        .stdout
        .contains("Note: factor `alone` is asked only by OLD; NEW ignores its answer"));
    assert!(out.stdout.contains("Note: level `mid` exists only in NEW"));
    snapshot!("diff_different_shapes", out.snapshot());
}

#[test]
fn incomparable_rulesets_are_explained() {
    let out = run(&[
        "diff",
        "tests/cli/fixtures/small.yaml",
        "tests/cli/fixtures/small-rescaled.yaml",
    ]);
    out.expect_code(2);
    assert_eq!(
        out.stderr,
        "carelevel: error: the rulesets cannot be compared: factor `risk` takes none, some, lots in OLD but none, low, some, lots in NEW\n"
    );
}

/// A scale that gains a value at the top: the people who give the new answer did not
/// exist under OLD. They are reported as a new population (with NEW's levels for
/// them), not as moved and not as an error; everyone else is compared as usual.
#[test]
fn a_value_added_to_a_scale_is_a_new_population() {
    let old = "tests/cli/fixtures/small.yaml";
    let new = "tests/cli/fixtures/small-gains-value.yaml";
    let out = run(&["diff", old, new]);
    out.expect_code(0);
    // risk: 4 values + unanswered; alone: 2 values (missing: error). 10 classes, of
    // which risk=extreme x alone (2) exist only under NEW; the other 8 keep their level.
    assert!(out.stdout.contains(
        "Summary: 0 of 10 answer-set classes change level (0 escalations, 0 de-escalations, 0 other); 0 flags change; review needed for 0 more and 0 fewer classes; 2 classes give an answer only NEW accepts (a new population, not compared)"
    ));
    snapshot!("diff_value_added", out.snapshot());

    let json = run(&["diff", old, new, "--format", "json"]);
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        v["new_population"],
        serde_json::json!({
            "answers": [{"factor": "risk", "values": ["extreme"], "ranges": [null]}],
            "classes": 2,
            "levels": [{"level": "high", "classes": 2}],
            "refer": 2,
            "needs_review": 0
        })
    );
    assert!(v.get("removed_population").is_none());
    let matrix_total: u64 = v["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(matrix_total, 8);
    // A new answer is a change for `--fail-on any`, but moves nobody.
    run(&["diff", old, new, "--fail-on", "any"]).expect_code(1);
    run(&["diff", old, new, "--fail-on", "escalation"]).expect_code(0);

    // The other way round it is a removed population, with OLD's levels.
    let back = run(&["diff", new, old, "--format", "json"]);
    back.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&back.stdout).unwrap();
    assert!(v.get("new_population").is_none());
    assert_eq!(v["removed_population"]["classes"], 2);
    assert_eq!(
        v["removed_population"]["answers"][0]["values"][0],
        "extreme"
    );
}

#[test]
fn check_reports_whole_space_findings_with_examples() {
    let out = run(&["check", "tests/cli/fixtures/non-monotone.yaml"]);
    // The failed invariant is an error; monotonicity is a warning without --strict.
    out.expect_code(1);
    assert!(out
        .stdout
        .contains("warning: not monotone: raising `support` from limited to none"));
    snapshot!("check_non_monotone", out.snapshot());
    let strict = run(&["check", "--strict", "tests/cli/fixtures/non-monotone.yaml"]);
    strict.expect_code(1);
    assert!(strict.stdout.contains("error: not monotone"));
}

#[test]
fn coverage_lists_unexercised_rules_with_suggested_cases() {
    let out = run(&["test", "--coverage", "tests/cli/fixtures/partial.test.yaml"]);
    out.expect_code(0);
    assert!(out.stdout.contains("rules: 0 of 2 exercised"));
    assert!(out
        .stdout
        .contains("rule `lots_of_risk_high` (tests/cli/fixtures/small.yaml:14) is not exercised"));
    snapshot!("test_coverage_partial", out.snapshot());
    let full = run(&["test", "--coverage", "rules/default.test.yaml"]);
    full.expect_code(0);
    assert!(full.stdout.contains("rules: 17 of 17 exercised"));
    assert!(full.stdout.contains("flags: 9 of 9 exercised"));
    assert!(full.stdout.contains("levels: 3 of 3 exercised"));
}

#[test]
fn explain_shows_the_answers_the_level_hinges_on() {
    let out = run(&["assess", "--explain", "examples/answers/iop.yaml"]);
    out.expect_code(0);
    snapshot!("assess_explain_iop", out.snapshot());
    let json = run(&[
        "assess",
        "--explain",
        "--format",
        "json",
        "examples/answers/iop.yaml",
    ]);
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["assessment"]["level"]["id"], "iop");
    let severity = v["hinges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["factor"] == "severity")
        .unwrap();
    assert_eq!(severity["up"], serde_json::json!(["severe", "residential"]));
    assert_eq!(v["missing"], serde_json::json!([]));
}

/// With missing answers, `--explain` says which answers to each one would change the
/// level, shows an assumed answer's value, and the missing list shows allowed answers.
#[test]
fn explain_on_missing_answers() {
    let args = [
        "assess",
        "--explain",
        "--rules",
        "tests/cli/fixtures/interview.yaml",
        "--answer",
        "risk=some",
    ];
    let out = run(&args);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("  * score: 0 to 9 -> mid; 10 to 20 -> high (as now)\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("alone = false (assumed):"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("      Answers: good, poor\n"),
        "{}",
        out.stdout
    );
    snapshot!("assess_explain_missing", out.snapshot());
    let json = run(&[&args[..], &["--format", "json"]].concat());
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        v["missing"][0],
        serde_json::json!({"factor": "score", "answers": [
            {"values": [0, 9], "level": "mid", "changes_level": true},
            {"values": [10, 20], "level": "high", "changes_level": false},
        ]})
    );
    assert_eq!(v["missing"][1]["factor"], "mood");
    // The default example with two missing answers: neither alone moves the level.
    let both = run(&["assess", "--explain", "examples/answers/missing.yaml"]);
    assert!(
        both.stdout.contains(
            "    harm_risk: no answer to it alone changes the level (residential with any\n      answer while mental_health is unknown)"
        ),
        "{}",
        both.stdout
    );
}

/// `--cases` streams JSON Lines and CSV through the batch reader: a line that is not
/// a case stops the diff with an input error naming the file and the line; a case
/// that one ruleset cannot assess is listed with its line; YAML lists still work.
#[test]
fn cases_files_with_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let diff = |cases: &str| run(&["diff", OLD, NEW, "--cases", cases]);

    let jsonl = write(
        "cases.jsonl",
        "{\"id\":\"a\",\"severity\":\"mild\"}\n\n{\"id\":\"b\",\"severity\":\n{\"id\":\"c\"}\n",
    );
    let out = diff(&jsonl);
    out.expect_code(2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains(&format!(
            "{jsonl}: line 3: expected a JSON object of answers: EOF while parsing"
        )),
        "{}",
        out.stderr
    );

    // CSV: a stray quote is the same line error as in `batch`; so is a short row.
    let csv = write("cases.csv", "id,severity\na,mild\nb\",mild\n");
    let out = diff(&csv);
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!(
            "{csv}: line 3: field 1 has a `\"` inside an unquoted value (at byte 2 of the line)"
        )),
        "{}",
        out.stderr
    );
    let csv = write("short.csv", "id,severity\na,mild\n\"b,c\"\n");
    let out = diff(&csv);
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!(
            "{csv}: line 3: the record has 1 fields but the header (line 1) has 2"
        )),
        "{}",
        out.stderr
    );
    let csv = write("header.csv", "id,severity,severity\n");
    let out = diff(&csv);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("column 3: the name `severity` appears twice"),
        "{}",
        out.stderr
    );

    // A case outside the scales is listed with its line (CSV lines count the header).
    let csv = write(
        "scale.csv",
        "id,severity\r\n\"a,1\",mild\r\n\r\nb,extreme\r\nc,severe\r\n",
    );
    let out = run(&["diff", OLD, NEW, "--format", "json", "--cases", &csv]);
    out.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["case_errors"][0]["line"], 4);
    assert_eq!(v["case_errors"][0]["id"], "b");
    assert_eq!(v["case_errors"].as_array().unwrap().len(), 1);
    let counted: u64 = v["case_matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(counted, 2);
    assert!(
        out.stderr.contains("1 case could not be assessed"),
        "{}",
        out.stderr
    );

    let yaml = write(
        "cases.yaml",
        "- {id: a, severity: mild}\n- {id: b, severity: extreme}\n",
    );
    let out = run(&["diff", OLD, NEW, "--format", "json", "--cases", &yaml]);
    out.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["case_errors"][0]["line"], 2);
}

/// Case errors beyond the listed maximum are counted, not listed: the report stays
/// bounded whatever the number of bad cases.
#[test]
fn case_errors_beyond_the_listed_maximum_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    let text: String = (0..1005)
        .map(|i| format!("{{\"id\":{i},\"severity\":\"extreme\"}}\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    let cases = path.to_str().unwrap();
    let out = run(&["diff", OLD, NEW, "--cases", cases]);
    out.expect_code(0);
    assert!(out
        .stdout
        .contains("Cases that could not be assessed (1005):"));
    assert!(out
        .stdout
        .contains("  ... and 5 more (only the first 1000 are listed)\n"));
    assert_eq!(out.stdout.matches("is not one of").count(), 1000);
    let json = run(&["diff", OLD, NEW, "--format", "json", "--cases", cases]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["case_errors"].as_array().unwrap().len(), 1000);
    assert_eq!(v["case_errors_unlisted"], 5);
}

/// One case in a cell is "1 case", not "1 cases".
#[test]
fn diff_markdown_counts_one_case_in_the_singular() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.jsonl");
    let people =
        std::fs::read_to_string(crate::util::root().join("examples/cases/people.jsonl")).unwrap();
    std::fs::write(&one, people.lines().next().unwrap()).unwrap();
    let out = run(&[
        "diff",
        OLD,
        NEW,
        "--format",
        "markdown",
        "--cases",
        one.to_str().unwrap(),
    ]);
    out.expect_code(0);
    assert!(out.stdout.contains("(1 case)"), "{}", out.stdout);
    assert!(!out.stdout.contains("(1 cases)"), "{}", out.stdout);
}

/// The worked example of docs/policy-authors.md: 1.0.0 -> 1.1.0 adds `medical: acute`
/// and moves nobody who could already be answered; the people who answer `acute` are
/// a new population, every one placed no lower than residential with a refer flag.
#[test]
fn default_1_0_0_to_1_1_0_moves_only_the_new_answer() {
    let old = "examples/policy-change/default-1.0.0.yaml";
    let kept = run(&["test", "examples/policy-change/default-1.0.0.test.yaml"]);
    kept.expect_code(0);
    assert!(kept.stdout.contains("57 passed, 0 failed"));
    let out = run(&["diff", old, "rules/default.yaml", "--format", "json"]);
    out.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["changed"], 0);
    assert_eq!(v["flag_changes"], serde_json::json!([]));
    assert_eq!(v["review_lost"], 0);
    let p = &v["new_population"];
    assert_eq!(
        p["answers"],
        serde_json::json!([{"factor": "medical", "values": ["acute"], "ranges": [null]}])
    );
    // medical=acute with every other question at any value or (for `ask` questions)
    // unanswered: (4+1)(5+1)(3+1)(3+1)(5+1)(4+1)(3+1)(2) = 115200.
    assert_eq!(p["classes"], 115_200);
    assert_eq!(
        p["levels"],
        serde_json::json!([{"level": "residential", "classes": 115_200}])
    );
    assert_eq!(p["refer"], 115_200);
    let text = run(&["diff", old, "rules/default.yaml"]);
    assert!(text.stdout.contains("No answer set changes level."));
    assert!(text.stdout.contains(
        "New answers (only NEW accepts them: medical=acute): 115200 classes that did not exist in OLD's answer space; not counted as moved"
    ));
}

/// docs/policy-authors.md shows the edit that turns 1.0.0 into the limited-support
/// proposal and says that copying the proposal gives the same file apart from its
/// opening comment: apply the page's diff block to 1.0.0 and compare.
#[test]
fn the_policy_authors_diff_gives_the_limited_support_file() {
    let root = crate::util::root();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let page = read("docs/policy-authors.md");
    let block = page
        .split("```diff\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .unwrap();
    let mut text = read("examples/policy-change/default-1.0.0.yaml");
    // Each part between ` ...` lines is one hunk: context and `-` lines before, context
    // and `+` lines after.
    let hunks: Vec<&str> = block.split("\n ...\n").collect();
    assert_eq!(hunks.len(), 2, "{block}");
    for hunk in hunks {
        let side = |keep: char| {
            let lines: Vec<&str> = hunk
                .lines()
                .filter(|l| l.starts_with(' ') || l.starts_with(keep))
                .map(|l| &l[1..])
                .collect();
            lines.join("\n") + "\n"
        };
        let (from, to) = (side('-'), side('+'));
        assert_ne!(from, to);
        assert_eq!(text.matches(&from).count(), 1, "{from}");
        text = text.replacen(&from, &to, 1);
    }
    let body = |t: &str| {
        t.lines()
            .skip_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        body(&text),
        body(&read("examples/policy-change/limited-support.yaml"))
    );
}

const SMALL: &str = "tests/cli/fixtures/small.yaml";
const SMALL_CHANGED: &str = "tests/cli/fixtures/small-changed.yaml";
const SMALL_CASES: &str = "tests/cli/fixtures/small-changes.jsonl";

/// With `--cases`, the report names the people who move for each transition and whose
/// flags or review status change: by id, or by line for a case without one.
#[test]
fn diff_cases_lists_the_people_who_move() {
    let text = run(&["diff", SMALL, SMALL_CHANGED, "--cases", SMALL_CASES]);
    text.expect_code(0);
    assert!(
        text.stdout
            .contains("  low -> high (escalation): 2 cases: a1, line 2\n"),
        "{}",
        text.stdout
    );
    assert!(text
        .stdout
        .contains("  high -> low (de-escalation): 2 cases: b1, d1\n"));
    assert!(text
        .stdout
        .contains("  flag `review_alone` newly fires: 1 case: b1\n"));
    assert!(text
        .stdout
        .contains("  flag `review_alone` no longer fires: 1 case: c1\n"));
    assert!(text
        .stdout
        .contains("  no longer needs review: 1 case: d1\n"));
    snapshot!("diff_text_cases_ids", text.snapshot());
    let md = run(&[
        "diff",
        SMALL,
        SMALL_CHANGED,
        "--cases",
        SMALL_CASES,
        "--format",
        "markdown",
    ]);
    md.expect_code(0);
    snapshot!("diff_markdown_cases_ids", md.snapshot());

    let json = run(&[
        "diff",
        SMALL,
        SMALL_CHANGED,
        "--cases",
        SMALL_CASES,
        "--format",
        "json",
    ]);
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        v["case_changes"],
        serde_json::json!({
            "id_field": "id",
            "moved": [
                {"from": "low", "to": "high", "direction": "escalation",
                 "cases": [{"line": 1, "id": "a1"}, {"line": 2, "id": null}]},
                {"from": "high", "to": "low", "direction": "de_escalation",
                 "cases": [{"line": 3, "id": "b1"}, {"line": 5, "id": "d1"}]},
            ],
            "flags": [{"flag": "review_alone",
                       "gained": [{"line": 3, "id": "b1"}],
                       "lost": [{"line": 4, "id": "c1"}]}],
            "review": {"gained": [], "lost": [{"line": 5, "id": "d1"}]},
        })
    );
    // Without `--cases` there is no case list at all.
    let bare = run(&["diff", SMALL, SMALL_CHANGED, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&bare.stdout).unwrap();
    assert!(v.get("case_changes").is_none());
    let bare = run(&["diff", SMALL, SMALL_CHANGED]);
    assert!(
        !bare.stdout.contains("Cases that change"),
        "{}",
        bare.stdout
    );
}

/// Text and markdown list the first 20 people per transition and count the rest;
/// JSON lists everyone.
#[test]
fn diff_case_ids_are_capped_in_text_but_not_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.jsonl");
    let text: String = (1..=25)
        .map(|i| format!("{{\"id\":\"p{i:02}\",\"risk\":\"some\",\"alone\":false}}\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    let cases = path.to_str().unwrap();
    let first20: Vec<String> = (1..=20).map(|i| format!("p{i:02}")).collect();
    let out = run(&["diff", SMALL, SMALL_CHANGED, "--cases", cases]);
    out.expect_code(0);
    assert!(
        out.stdout.contains(&format!(
            "  low -> high (escalation): 25 cases: {} and 5 more\n",
            first20.join(", ")
        )),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("p21"));
    let md = run(&[
        "diff",
        SMALL,
        SMALL_CHANGED,
        "--cases",
        cases,
        "--format",
        "markdown",
    ]);
    assert!(md.stdout.contains("`p20` and 5 more\n"), "{}", md.stdout);
    assert!(!md.stdout.contains("p21"));
    let json = run(&[
        "diff",
        SMALL,
        SMALL_CHANGED,
        "--cases",
        cases,
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let listed = v["case_changes"]["moved"][0]["cases"].as_array().unwrap();
    assert_eq!(listed.len(), 25);
    assert_eq!(listed[24], serde_json::json!({"line": 25, "id": "p25"}));
}

/// `--id-field` names the field or column holding the case id, as in `batch`; a
/// name that is a question of either ruleset is refused.
#[test]
fn diff_id_field_names_the_case_id() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("cases.csv");
    std::fs::write(&csv, "pid,risk,alone\nx7,some,false\n,lots,false\n").unwrap();
    let csv = csv.to_str().unwrap();
    let out = run(&[
        "diff",
        SMALL,
        SMALL_CHANGED,
        "--cases",
        csv,
        "--id-field",
        "pid",
    ]);
    out.expect_code(0);
    assert!(out
        .stdout
        .contains("Cases that change (by `pid`, or line):"));
    assert!(out
        .stdout
        .contains("  low -> high (escalation): 1 case: x7\n"));
    // An empty id cell is unanswered: the case is named by its line (the header is line 1).
    assert!(
        out.stdout
            .contains("  high -> low (de-escalation): 1 case: line 3\n"),
        "{}",
        out.stdout
    );

    let jsonl = dir.path().join("cases.jsonl");
    std::fs::write(
        &jsonl,
        "{\"pid\": 41, \"risk\": \"some\", \"alone\": false}\n",
    )
    .unwrap();
    let json = run(&[
        "diff",
        SMALL,
        SMALL_CHANGED,
        "--cases",
        jsonl.to_str().unwrap(),
        "--id-field",
        "pid",
        "--format",
        "json",
    ]);
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["case_changes"]["id_field"], "pid");
    assert_eq!(
        v["case_changes"]["moved"][0]["cases"],
        serde_json::json!([{"line": 1, "id": "41"}])
    );

    let refused = run(&[
        "diff",
        SMALL,
        SMALL_CHANGED,
        "--cases",
        csv,
        "--id-field",
        "risk",
    ]);
    refused.expect_code(2);
    assert_eq!(refused.stdout, "");
    assert_eq!(
        refused.stderr,
        "carelevel: error: `--id-field risk` names a question of the rulesets; choose the field that holds the case id\n"
    );
}

/// `--format html`: one self-contained page (reviewed snapshot of a small diff with
/// cases).
#[test]
fn diff_html_page_of_a_small_diff() {
    let out = run(&[
        "diff",
        SMALL,
        SMALL_CHANGED,
        "--cases",
        SMALL_CASES,
        "--format",
        "html",
    ]);
    out.expect_code(0);
    assert!(out.stdout.starts_with("<!DOCTYPE html>\n"));
    assert!(out.stdout.contains("Decision support only"));
    snapshot!("diff_html_small_cases", out.snapshot());
}

/// The HTML page runs nothing and loads nothing, and escapes ruleset text.
#[test]
fn diff_html_has_no_script_no_remote_resource_and_escapes_text() {
    let dir = tempfile::tempdir().unwrap();
    let small = std::fs::read_to_string(crate::util::root().join(SMALL)).unwrap();
    let marked = small.replace("version: \"2\"", "version: '2 <b>&\"'");
    assert_ne!(marked, small);
    let path = dir.path().join("marked.yaml");
    std::fs::write(&path, marked).unwrap();
    let out = run(&[
        "diff",
        path.to_str().unwrap(),
        SMALL_CHANGED,
        "--cases",
        SMALL_CASES,
        "--format",
        "html",
    ]);
    out.expect_code(0);
    let page = out.stdout.to_ascii_lowercase();
    assert!(!page.contains("<script"), "{page}");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    assert!(!page.contains(" src=") && !page.contains("<link"), "{page}");
    assert!(!out.stdout.contains("<b>"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("<title>carelevel diff: small 2 &lt;b&gt;&amp;&quot; → small 3</title>"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("version <code>2 &lt;b&gt;&amp;&quot;</code>"),
        "{}",
        out.stdout
    );
}

/// A case refused by both rulesets (a required answer missing) is counted in a
/// `refused` row and column even when no answer-set class is refused: no case is
/// left out of the case matrix.
#[test]
fn refused_cases_are_counted_in_the_case_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("refused.jsonl");
    std::fs::write(
        &path,
        "{\"id\":\"r1\",\"risk\":\"some\"}\n{\"id\":\"a1\",\"risk\":\"some\",\"alone\":false}\n",
    )
    .unwrap();
    let cases = path.to_str().unwrap();
    let out = run(&[
        "diff",
        SMALL,
        SMALL_CHANGED,
        "--cases",
        cases,
        "--format",
        "json",
    ]);
    out.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let ids: Vec<&str> = v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["low", "high", "refused"]);
    assert_eq!(
        v["case_matrix"],
        serde_json::json!([[0, 1, 0], [0, 0, 0], [0, 0, 1]])
    );
    // The class matrix gains the row and column with no classes in them.
    assert_eq!(
        v["matrix"],
        serde_json::json!([[2, 1, 0], [3, 2, 0], [0, 0, 0]])
    );
    assert_eq!(v["classes"], 8);
}
