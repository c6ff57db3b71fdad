//! Which missing answers the result is waiting for: a missing question that could
//! change the level or a flag (`GuidanceResponse.dataRequirement`, the card's
//! missing-answer list).
//!
//! The core says per missing question whether it could change the level
//! (`MissingAnswer::could_change_level`, exact). For flags it says which flags could
//! fire depending on the missing answers (`possible_flags`) but not which question
//! each one waits for, so that is worked out here from the core's public evaluation:
//!
//! - a missing question *settles* a possible flag when some allowed answer to it,
//!   everything else as given, makes the flag certainly fire or certainly not fire.
//!   Such a question does change the flag (if answer `v` makes it fire for every
//!   completion and some completion `c` does not fire, `c` with its answer replaced
//!   by `v` fires: the two differ in this question alone).
//! - a possible flag that no single missing answer settles (it needs two or more
//!   answers together, e.g. "exactly one of a, b") makes **every** missing question a
//!   requirement: the list is never shorter than the truth, only longer.

use carelevel::{Answers, Assessment, EvalError};

/// One missing question and why the result waits for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Factor (question) id.
    pub factor: String,
    /// Some answer to it could change the level (the core's `could_change_level`).
    pub could_change_level: bool,
    /// Ids of the possible flags it could make fire or not fire.
    pub flags: Vec<String>,
}

/// The missing questions of `assessment` that could change the level or a flag, in
/// declaration order. `answers` are the answers `assessment` was made from.
pub fn requirements(
    answers: &Answers<'_>,
    assessment: &Assessment<'_>,
) -> Result<Vec<Requirement>, EvalError> {
    let ruleset = answers.ruleset();
    let mut found: Vec<Requirement> = assessment
        .missing
        .iter()
        .map(|m| Requirement {
            factor: m.factor.to_string(),
            could_change_level: m.could_change_level,
            flags: Vec::new(),
        })
        .collect();
    if !assessment.possible_flags.is_empty() {
        let mut settled = vec![false; assessment.possible_flags.len()];
        for req in &mut found {
            let Some(index) = ruleset.factor_index(&req.factor) else {
                continue;
            };
            let Some(factor) = ruleset.factors().get(index) else {
                continue;
            };
            for &code in factor.classes() {
                let mut probe = answers.clone();
                if probe.set_code(index, code).is_err() {
                    continue;
                }
                let after = ruleset.assess(&probe)?;
                for (k, flag) in assessment.possible_flags.iter().enumerate() {
                    let still_open = after.possible_flags.iter().any(|f| f.id == flag.id);
                    if !still_open {
                        if let Some(s) = settled.get_mut(k) {
                            *s = true;
                        }
                        if !req.flags.iter().any(|f| f == flag.id.as_ref()) {
                            req.flags.push(flag.id.to_string());
                        }
                    }
                }
            }
        }
        // Flags no single answer settles: every missing question may be needed.
        for (k, flag) in assessment.possible_flags.iter().enumerate() {
            if !settled.get(k).copied().unwrap_or(true) {
                for req in &mut found {
                    req.flags.push(flag.id.to_string());
                }
            }
        }
        // Keep the flags in declaration order (the order of `possible_flags`).
        for req in &mut found {
            req.flags.sort_by_key(|id| {
                assessment
                    .possible_flags
                    .iter()
                    .position(|f| f.id.as_ref() == id.as_str())
            });
            req.flags.dedup();
        }
    }
    found.retain(|r| r.could_change_level || !r.flags.is_empty());
    Ok(found)
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
    use carelevel::Ruleset;

    const RULES: &str = "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n  - {id: a, kind: boolean, question: A?, missing: ask}\n  - {id: b, kind: boolean, question: B?, missing: ask}\n  - {id: c, kind: boolean, question: C?, missing: ask}\n  - {id: d, kind: boolean, question: D?, missing: ask}\nrules:\n  - {id: r, level: high, when: {a: true}, because: A}\nflags:\n  - {id: fb, kind: review, when: {b: true}, message: B}\n  - {id: fx, kind: review, when: {any: [{all: [{c: true}, {d: false}]}, {all: [{c: false}, {d: true}]}]}, message: X}\n";

    fn rules() -> Ruleset {
        Ruleset::from_yaml(RULES).unwrap()
    }

    fn reqs(rules: &Ruleset, pairs: &[(&str, bool)]) -> Vec<Requirement> {
        let answers = rules
            .answers_from_pairs(
                pairs
                    .iter()
                    .map(|(k, v)| (*k, carelevel::Value::Boolean(*v))),
            )
            .unwrap();
        let a = rules.assess(&answers).unwrap();
        requirements(&answers, &a).unwrap()
    }

    #[test]
    fn a_question_that_changes_only_a_flag_is_required() {
        let rules = rules();
        let r = reqs(&rules, &[("a", true), ("c", true), ("d", true)]);
        assert_eq!(
            r,
            vec![Requirement {
                factor: "b".into(),
                could_change_level: false,
                flags: vec!["fb".into()],
            }]
        );
    }

    #[test]
    fn a_question_that_changes_the_level_is_required() {
        let rules = rules();
        let r = reqs(&rules, &[("b", false), ("c", true), ("d", true)]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].factor, "a");
        assert!(r[0].could_change_level);
        assert!(r[0].flags.is_empty());
    }

    #[test]
    fn a_flag_no_single_answer_settles_requires_every_missing_question() {
        let rules = rules();
        // fx is "exactly one of c, d": neither answer alone settles it.
        let r = reqs(&rules, &[("a", true), ("b", false)]);
        let names: Vec<_> = r.iter().map(|r| r.factor.as_str()).collect();
        assert_eq!(names, ["c", "d"]);
        assert!(r.iter().all(|r| r.flags == ["fx"]));
    }

    #[test]
    fn nothing_missing_means_nothing_required() {
        let rules = rules();
        let all = [("a", true), ("b", true), ("c", true), ("d", false)];
        assert!(reqs(&rules, &all).is_empty());
        // Missing, but changes neither the level nor a flag: not required.
        let rules2 = Ruleset::from_yaml(&RULES.replace("  - {id: d, kind: boolean, question: D?, missing: ask}\n", "  - {id: d, kind: boolean, question: D?, missing: ask}\n  - {id: e, kind: boolean, question: E?, missing: ask}\n")).unwrap();
        let r = reqs(&rules2, &all);
        assert!(r.is_empty(), "{r:?}");
    }
}
