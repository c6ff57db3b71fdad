//! The total score in rule and flag conditions (`{score: {at_least: 4}}`), end to
//! end: `assess` (text and JSON), `check`, `diff` (against an independent brute
//! force), and the located errors of a score condition without `scoring` and of
//! malformed ones.

use serde_json::Value;

use crate::util::run;

const NEW: &str = "tests/cli/fixtures/score-conditions.yaml";
const OLD: &str = "tests/cli/fixtures/score-conditions-old.yaml";

#[test]
fn assess_shows_the_score_test_that_made_a_rule_fire() {
    let args = [
        "assess",
        "--rules",
        NEW,
        "--answer",
        "risk=moderate",
        "--answer",
        "function=fair",
        "--answer",
        "support=some",
    ];
    let out = run(&args);
    out.expect_code(0);
    // 2 + 1 + 1 = 4: the band says mid, the rule mixing the total with the risk high.
    assert!(
        out.stdout.contains(
            "  * total_and_risk_high -> high\n      A total of 4 or more with at least moderate risk needs high care.\n      Total score: 4, which is at least 4\n"
        ),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("Score: 4 (band: mid; does not decide the level)"));

    let json = run(&[&args[..], &["--format", "json"]].concat());
    json.expect_code(0);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["fired_rules"].as_array().unwrap().len(), 1);
    assert_eq!(v["fired_rules"][0]["id"], "total_and_risk_high");
    assert_eq!(
        v["fired_rules"][0]["score_tests"],
        serde_json::json!(["at least 4"])
    );
    assert_eq!(v["score"]["total"], 4);
    // The flag on the total (5 or more) does not fire at 4.
    assert_eq!(v["flags"], serde_json::json!([]));

    // A rule that does not test the total has no `score_tests` key.
    let high = run(&[
        "assess",
        "--rules",
        NEW,
        "--answer",
        "risk=high",
        "--answer",
        "function=poor",
        "--answer",
        "support=none",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&high.stdout).unwrap();
    let fired = v["fired_rules"].as_array().unwrap();
    let plain = fired.iter().find(|r| r["id"] == "risk_high_high").unwrap();
    assert!(plain.get("score_tests").is_none(), "{plain}");
    let scored = fired
        .iter()
        .find(|r| r["id"] == "total_and_risk_high")
        .unwrap();
    assert_eq!(scored["score_tests"], serde_json::json!(["at least 4"]));
    assert_eq!(v["flags"][0]["id"], "review_plan");
}

#[test]
fn assess_with_an_unanswered_question_says_the_test_holds_whatever_it_adds() {
    // risk moderate (2) + function poor (2) = 4 already: at least 4 whatever support adds.
    let out = run(&[
        "assess",
        "--rules",
        NEW,
        "--answer",
        "risk=moderate",
        "--answer",
        "function=poor",
    ]);
    out.expect_code(0);
    assert!(
        out.stdout.contains(
            "Total score: 4 from the answers given; it is at least 4 whatever the\n      unanswered questions add\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn check_is_clean_on_score_conditions_and_exact_when_one_is_not_monotone() {
    let out = run(&["check", NEW]);
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "tests/cli/fixtures/score-conditions.yaml: ok (ruleset scorecond 2: 3 levels, 3 factors, 2 rules, 1 flag; 36 answer-set classes, 36 complete answer combinations checked, 0 invariants proved)\n"
    );
    assert_eq!(out.stderr, "");

    // A rule on a low total is not monotone: from a total of 1, raising any answer
    // gives 2, where it stops firing and the band gives low. The first such answer
    // set in enumeration order (the last question varies fastest) is none/good/some.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(crate::util::root().join(NEW)).unwrap();
    let text = text.replace(
        "flags:\n",
        "  - id: low_total_mid\n    when: {score: {at_most: 1}}\n    level: mid\n    because: \"A total of 1 or less.\"\nflags:\n",
    );
    let path = dir.path().join("low-total.yaml");
    std::fs::write(&path, text).unwrap();
    let out = run(&["check", "--format", "json", path.to_str().unwrap()]);
    out.expect_code(0);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let findings: Vec<(String, String, String)> = v["files"][0]["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", out.stdout))
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let raise = |q: &str, from: &str, to: &str| {
        (
            "not_monotone".to_owned(),
            q.to_owned(),
            format!("not monotone: raising `{q}` from {from} to {to} lowers the level from mid to low (rule `low_total_mid` stops firing)"),
        )
    };
    assert_eq!(
        findings,
        [
            raise("risk", "none", "low"),
            raise("function", "good", "fair"),
            raise("support", "some", "none"),
        ],
        "{}",
        out.stdout
    );
}

/// The fixtures' policy, written out independently of the engine: points of each
/// answer (risk 0..=3, function 0..=2, support 0..=2 as their index), the score bands
/// (0-3 low, 4-5 mid, 6+ high) and the rules; `new` adds the rule "a total of 4 or
/// more with at least moderate risk: high". Levels: 0 low, 1 mid, 2 high.
fn level(new: bool, risk: usize, function: usize, support: usize) -> usize {
    let total = risk + function + support;
    let band = match total {
        0..=3 => 0,
        4 | 5 => 1,
        _ => 2,
    };
    let mut level = band;
    if risk == 3 || (new && total >= 4 && risk >= 2) {
        level = 2;
    }
    level
}

/// The review flag: on support `none` in OLD, on a total of 5 or more in NEW.
fn flag(new: bool, risk: usize, function: usize, support: usize) -> bool {
    if new {
        risk + function + support >= 5
    } else {
        support == 2
    }
}

#[test]
fn diff_with_and_without_the_score_condition_counts_the_exact_moves() {
    // Brute force over the answer space diff enumerates: risk and function must be
    // answered (`missing: error`), support may be unanswered (index 3): then the
    // level is the highest over its answers and the flag counts only if it fires for
    // every one.
    let mut matrix = [[0u64; 3]; 3];
    let (mut gained, mut lost) = (0u64, 0u64);
    for risk in 0..4 {
        for function in 0..3 {
            for support in 0..4 {
                let answers: Vec<usize> = if support == 3 {
                    vec![0, 1, 2]
                } else {
                    vec![support]
                };
                let hi = |new| {
                    answers
                        .iter()
                        .map(|&s| level(new, risk, function, s))
                        .max()
                        .unwrap()
                };
                let all = |new| answers.iter().all(|&s| flag(new, risk, function, s));
                matrix[hi(false)][hi(true)] += 1;
                gained += u64::from(!all(false) && all(true));
                lost += u64::from(all(false) && !all(true));
            }
        }
    }
    // By hand: only risk moderate moves, from the mid band to high: function and
    // support adding 2 or 3 (5 complete answer sets), and support unanswered with
    // function good or fair (poor reaches the high band anyway): 7 classes.
    assert_eq!(matrix, [[20, 0, 0], [0, 7, 7], [0, 0, 14]]);
    assert_eq!((gained, lost), (5, 6));

    let out = run(&["diff", OLD, NEW, "--format", "json"]);
    out.expect_code(0);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let levels: Vec<&str> = v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["low", "mid", "high"]);
    let got: Vec<Vec<u64>> = serde_json::from_value(v["matrix"].clone()).unwrap();
    assert_eq!(got, matrix.map(Vec::from).to_vec());
    assert_eq!(v["classes"], 48);
    assert_eq!(
        (v["changed"].as_u64(), v["escalations"].as_u64()),
        (Some(7), Some(7))
    );
    let cells = v["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1);
    assert_eq!(
        (cells[0]["from"].as_str(), cells[0]["to"].as_str()),
        (Some("mid"), Some("high"))
    );
    let flags = v["flag_changes"].as_array().unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0]["flag"], "review_plan");
    assert_eq!(
        (flags[0]["gained"].as_u64(), flags[0]["lost"].as_u64()),
        (Some(gained), Some(lost))
    );
}

#[test]
fn a_score_condition_without_scoring_is_an_error_at_the_condition() {
    let out = run(&["check", "tests/cli/fixtures/score-without-scoring.yaml"]);
    out.expect_code(1);
    assert_eq!(
        out.stdout,
        "tests/cli/fixtures/score-without-scoring.yaml:14:12: error: rules[0].when.score: `score` tests the total score, but this ruleset has no `scoring` section; add `scoring` with points and bands, or name a question\n  14 |     when: {score: {at_least: 4}}\n     |            ^\n\ntests/cli/fixtures/score-without-scoring.yaml: failed (1 error)\n"
    );
    // `assess` refuses the ruleset with the same diagnostic.
    let out = run(&[
        "assess",
        "--rules",
        "tests/cli/fixtures/score-without-scoring.yaml",
        "--answer",
        "risk=none",
    ]);
    out.expect_code(2);
    assert!(
        out.stderr.starts_with(
            "tests/cli/fixtures/score-without-scoring.yaml:14:12: error: rules[0].when.score: "
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn malformed_score_conditions_are_errors_at_their_operands() {
    let out = run(&["check", "tests/cli/fixtures/score-malformed.yaml"]);
    out.expect_code(1);
    let errors: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains(": error: "))
        .collect();
    assert_eq!(
        errors,
        [
            "tests/cli/fixtures/score-malformed.yaml:33:20: error: rules[1].when.all[0].score.at_least: expected a whole number (a total score; totals run from 0 to 7), got `four`",
            "tests/cli/fixtures/score-malformed.yaml:40:27: error: flags[0].when.any[0].score.between: `between` runs from 5 down to 3; write the lower bound first",
            "tests/cli/fixtures/score-malformed.yaml:40:55: error: flags[0].when.any[1].score.above: this comparison can never be true: totals run from 0 to 7",
        ],
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .ends_with("tests/cli/fixtures/score-malformed.yaml: failed (3 errors)\n"));
}

/// `{per_unit: N}` on a 0-100 question: assessed value by value; a range too wide to
/// split into one class per value is an error at the points, naming the question.
#[test]
fn points_per_unit_are_assessed_and_a_too_wide_range_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let text = "id: d\nversion: \"1\"\ntitle: t\ndescription: d\nlevels:\n  - {id: low, label: L, description: l}\n  - {id: high, label: H, description: h}\nfactors:\n  - {id: distress, kind: integer, question: \"Distress?\", min: 0, max: MAX}\nscoring:\n  points:\n    distress: {per_unit: 2}\n  bands:\n    - {level: low, max: 99}\n    - {level: high, min: 100}\nrules: []\n";
    let ok = dir.path().join("per-unit.yaml");
    std::fs::write(&ok, text.replace("MAX", "100")).unwrap();
    let ok = ok.to_str().unwrap();
    let out = run(&[
        "assess",
        "--rules",
        ok,
        "--answer",
        "distress=50",
        "--format",
        "json",
    ]);
    out.expect_code(0);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        (v["level"]["id"].as_str(), v["score"]["total"].as_i64()),
        (Some("high"), Some(100))
    );
    let out = run(&["assess", "--rules", ok, "--answer", "distress=49"]);
    assert!(
        out.stdout.contains("  distress = 49: 98 points\n"),
        "{}",
        out.stdout
    );
    let out = run(&["check", ok]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("101 answer-set classes, 101 complete answer combinations checked"),
        "{}",
        out.stdout
    );

    let wide = dir.path().join("wide.yaml");
    std::fs::write(&wide, text.replace("MAX", "5000")).unwrap();
    let out = run(&["check", wide.to_str().unwrap()]);
    out.expect_code(1);
    let first = out.stdout.lines().next().unwrap();
    assert!(
        first.ends_with(":12:16: error: scoring.points.distress.per_unit: `distress` earns points per unit, so each of its 5001 values (0 to 5000) is a class of its own, above the limit of 1001; narrow its range or score it by band"),
        "{}",
        out.stdout
    );
}
