//! Test files for rulesets (`*.test.yaml`): named cases with answers and expectations.
//!
//! The core parses and runs them; reading the files is the caller's job.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::answers::Answers;
use crate::assessment::Assessment;
use crate::error::{Diagnostic, Location, RulesetError};
use crate::model::Ruleset;
use crate::syntax::{self, Locator, OrderedMap, RawAnswer, RawExpect, RawTestFile};
use crate::text::Shown;

/// A parsed test file.
#[derive(Debug)]
pub struct TestSuite {
    ruleset: String,
    cases: Vec<TestCase>,
}

/// One named test case.
#[derive(Debug)]
pub struct TestCase {
    /// The case's name (unique within its file).
    pub name: String,
    /// Where the case starts in the test file.
    pub location: Option<Location>,
    answers: OrderedMap<String, RawAnswer>,
    expect: RawExpect,
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// What was checked: `level`, `rules`, `deciding`, `flags`, `refer` or `needs_review`.
    pub what: &'static str,
    /// What the case expected.
    pub expected: String,
    /// What the ruleset gave.
    pub actual: String,
}

/// How one case ended.
#[derive(Debug, Clone)]
pub enum CaseOutcome {
    /// Every expectation held.
    Passed,
    /// Some expectations did not hold.
    Failed(Vec<Mismatch>),
    /// The case could not be run (bad answers, unknown ids in `expect`, evaluation error).
    Error(String),
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// Where the case starts in the test file.
    pub location: Option<Location>,
    /// Passed, failed or error.
    pub outcome: CaseOutcome,
    /// The assessment the ruleset produced, when it produced one.
    pub assessment: Option<Assessment<'static>>,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        matches!(self.outcome, CaseOutcome::Passed)
    }
}

/// The results of every case of a suite, in file order.
#[derive(Debug, Clone)]
pub struct TestReport {
    /// One result per case.
    pub results: Vec<CaseResult>,
}

impl TestReport {
    /// Number of cases that passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    /// Number of cases that failed or could not run.
    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }
}

impl TestSuite {
    /// Parse a test file. Problems (syntax, duplicate case names) are reported with locations.
    pub fn from_yaml(text: &str) -> Result<TestSuite, RulesetError> {
        let raw: RawTestFile = syntax::parse_yaml(text, "test file").map_err(|d| RulesetError {
            diagnostics: vec![d],
        })?;
        let locator = Locator::new(text);
        let mut diagnostics = Vec::new();
        if raw.cases.is_empty() {
            diagnostics.push(Diagnostic::error(
                Some("cases".to_owned()),
                "no test cases; a test file lists at least one case".to_owned(),
                locator.find("cases"),
            ));
        }
        let mut cases: Vec<TestCase> = Vec::new();
        for (i, c) in raw.cases.into_iter().enumerate() {
            let path = format!("cases[{i}]");
            if c.name.trim().is_empty() {
                diagnostics.push(Diagnostic::error(
                    Some(format!("{path}.name")),
                    "a case needs a name".to_owned(),
                    locator.find(&format!("{path}.name")),
                ));
            }
            if let Some(first) = cases.iter().find(|x| x.name == c.name) {
                diagnostics.push(Diagnostic::error(
                    Some(format!("{path}.name")),
                    format!(
                        "duplicate case name `{}` (first used at line {})",
                        Shown::excerpt(&c.name),
                        first.location.map_or(0, |l| l.line)
                    ),
                    locator.find(&format!("{path}.name")),
                ));
            }
            cases.push(TestCase {
                name: c.name,
                location: locator.find(&path),
                answers: c.answers,
                expect: c.expect,
            });
        }
        if diagnostics.is_empty() {
            Ok(TestSuite {
                ruleset: raw.ruleset,
                cases,
            })
        } else {
            Err(RulesetError { diagnostics })
        }
    }

    /// The `ruleset:` path, relative to the test file.
    pub fn ruleset_path(&self) -> &str {
        &self.ruleset
    }

    /// The cases, in file order.
    pub fn cases(&self) -> &[TestCase] {
        &self.cases
    }

    /// Run every case against `ruleset`.
    pub fn run(&self, ruleset: &Ruleset) -> TestReport {
        TestReport {
            results: self.cases.iter().map(|c| c.run(ruleset)).collect(),
        }
    }
}

impl TestCase {
    fn run(&self, ruleset: &Ruleset) -> CaseResult {
        let result = |outcome, assessment| CaseResult {
            name: self.name.clone(),
            location: self.location,
            outcome,
            assessment,
        };
        if let Err(message) = self.check_expectation_ids(ruleset) {
            return result(CaseOutcome::Error(message), None);
        }
        let answers = match Answers::from_raw_map(ruleset, self.answers.clone()) {
            Ok(a) => a,
            Err(e) => return result(CaseOutcome::Error(format!("invalid answers: {e}")), None),
        };
        let assessment = match ruleset.assess(&answers) {
            Ok(a) => a,
            Err(e) => return result(CaseOutcome::Error(e.to_string()), None),
        };
        let mismatches = self.compare(&assessment);
        let assessment = assessment.into_owned();
        let outcome = if mismatches.is_empty() {
            CaseOutcome::Passed
        } else {
            CaseOutcome::Failed(mismatches)
        };
        result(outcome, Some(assessment))
    }

    /// Expectations must name levels, rules and flags the ruleset has.
    fn check_expectation_ids(&self, ruleset: &Ruleset) -> Result<(), String> {
        let e = &self.expect;
        if ruleset.level_index(&e.level).is_none() {
            let names: Vec<&str> = ruleset.levels.iter().map(|l| l.id.as_str()).collect();
            return Err(format!(
                "expect.level: `{}` is not a level of this ruleset; levels: {}",
                Shown::excerpt(&e.level),
                names.join(", ")
            ));
        }
        let rule_ids: Vec<&str> = ruleset.rules.iter().map(|r| r.id.as_str()).collect();
        for (key, list) in [("rules", &e.rules), ("deciding", &e.deciding)] {
            for id in list.iter().flatten() {
                if !rule_ids.contains(&id.as_str()) {
                    return Err(format!(
                        "expect.{key}: `{}` is not a rule of this ruleset",
                        Shown::excerpt(id)
                    ));
                }
            }
        }
        let flag_ids: Vec<&str> = ruleset.flags.iter().map(|f| f.id.as_str()).collect();
        for id in e.flags.iter().flatten() {
            if !flag_ids.contains(&id.as_str()) {
                return Err(format!(
                    "expect.flags: `{}` is not a flag of this ruleset",
                    Shown::excerpt(id)
                ));
            }
        }
        Ok(())
    }

    fn compare(&self, a: &Assessment<'_>) -> Vec<Mismatch> {
        let e = &self.expect;
        let mut out = Vec::new();
        if a.level.id != e.level.as_str() {
            out.push(Mismatch {
                what: "level",
                expected: e.level.clone(),
                actual: a.level.id.to_string(),
            });
        }
        let set = |items: &mut dyn Iterator<Item = String>| -> BTreeSet<String> { items.collect() };
        let render = |s: &BTreeSet<String>| {
            if s.is_empty() {
                "(none)".to_owned()
            } else {
                s.iter().cloned().collect::<Vec<_>>().join(", ")
            }
        };
        let fired = set(&mut a.fired_rules.iter().map(|r| r.id.to_string()));
        let deciding = set(&mut a.deciding_rules.iter().map(ToString::to_string));
        let flags = set(&mut a.flags.iter().map(|f| f.id.to_string()));
        for (what, expected, actual) in [
            ("rules", &e.rules, &fired),
            ("deciding", &e.deciding, &deciding),
            ("flags", &e.flags, &flags),
        ] {
            if let Some(expected) = expected {
                let expected = set(&mut expected.iter().cloned());
                if &expected != actual {
                    out.push(Mismatch {
                        what,
                        expected: render(&expected),
                        actual: render(actual),
                    });
                }
            }
        }
        for (what, expected, actual) in [
            ("refer", e.refer, a.refer),
            ("needs_review", e.needs_review, a.needs_review),
        ] {
            if let Some(expected) = expected {
                if expected != actual {
                    out.push(Mismatch {
                        what,
                        expected: expected.to_string(),
                        actual: actual.to_string(),
                    });
                }
            }
        }
        out
    }
}
