//! The justification per dimension: for each dimension a ruleset declares
//! (`dimensions:`), the answers, rules and flags tagged with it, the level it calls
//! for on its own, and a one-line summary built only from those facts.
//!
//! Dimensions are annotations: this module reads what the evaluation found and
//! never takes part in deciding the level or the flags.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::answers::Value;
use crate::assessment::LevelRef;
use crate::eval::Tri;
use crate::model::{LevelIndex, Ruleset};

/// One answer of a dimension's questions, as used by the assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionAnswer<'r> {
    /// Question (factor) id.
    pub factor: Cow<'r, str>,
    /// The answer given, or the value assumed for it.
    pub value: Value,
    /// Whether the value was assumed by the question's `assume` policy (not given).
    pub assumed: bool,
}

/// What one dimension contributes to an assessment. Decision support: it explains
/// the recommendation, it does not make one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionReport<'r> {
    /// Dimension id.
    pub id: Cow<'r, str>,
    /// Dimension label.
    pub label: Cow<'r, str>,
    /// Answers (given or assumed) to the questions tagged with this dimension, in
    /// declaration order.
    pub answers: Vec<DimensionAnswer<'r>>,
    /// Unanswered questions (policy `ask`) tagged with this dimension.
    pub missing: Vec<Cow<'r, str>>,
    /// Ids of the fired rules tagged with this dimension, in declaration order.
    pub fired_rules: Vec<Cow<'r, str>>,
    /// Ids of the fired flags tagged with this dimension.
    pub flags: Vec<Cow<'r, str>>,
    /// Ids of the flags tagged with this dimension that could fire depending on
    /// unanswered questions.
    pub possible_flags: Vec<Cow<'r, str>>,
    /// The level this dimension calls for on its own: the highest level demanded by
    /// its fired rules, or the lowest level when none of them fired.
    pub level: LevelRef<'r>,
    /// The highest level one of its rules could demand depending on unanswered
    /// questions, when that is above `level`; `None` otherwise.
    pub could_rise_to: Option<LevelRef<'r>>,
    /// The facts above in one line of plain words.
    pub summary: String,
}

/// The dimensions section of an assessment: `None` when the ruleset declares no
/// dimensions. `rule_status` and `flag_status` hold the status of every rule and flag
/// in declaration order (true: fired; unknown: depends on unanswered questions).
pub(crate) fn reports<'r>(
    rs: &'r Ruleset,
    values: &[i64],
    known: &[bool],
    answered: &[bool],
    rule_status: &[Tri],
    flag_status: &[Tri],
) -> Option<Vec<DimensionReport<'r>>> {
    if rs.dimensions.is_empty() {
        return None;
    }
    let reports = rs
        .dimensions
        .iter()
        .enumerate()
        .map(|(d, dimension)| {
            let mut answers = Vec::new();
            let mut missing = Vec::new();
            for (i, factor) in rs.factors.iter().enumerate() {
                if factor.dimension != Some(d) {
                    continue;
                }
                if known.get(i).copied().unwrap_or(false) {
                    let code = values.get(i).copied().unwrap_or(0);
                    answers.push(DimensionAnswer {
                        factor: Cow::Borrowed(&factor.id),
                        value: factor.value_of(code),
                        assumed: !answered.get(i).copied().unwrap_or(false),
                    });
                } else {
                    missing.push(Cow::Borrowed(factor.id.as_str()));
                }
            }
            let mut fired_rules = Vec::new();
            let mut level: LevelIndex = 0;
            let mut open: Option<LevelIndex> = None;
            let tagged = rs.rules.iter().zip(rule_status);
            for (rule, status) in tagged.filter(|(r, _)| r.dimension == Some(d)) {
                match status {
                    Tri::True => {
                        fired_rules.push(Cow::Borrowed(rule.id.as_str()));
                        level = level.max(rule.level);
                    }
                    Tri::Unknown => open = Some(open.map_or(rule.level, |o| o.max(rule.level))),
                    Tri::False => {}
                }
            }
            let could_rise_to = open.filter(|&o| o > level);
            let mut flags = Vec::new();
            let mut possible_flags = Vec::new();
            let tagged = rs.flags.iter().zip(flag_status);
            for (flag, status) in tagged.filter(|(f, _)| f.dimension == Some(d)) {
                match status {
                    Tri::True => flags.push(Cow::Borrowed(flag.id.as_str())),
                    Tri::Unknown => possible_flags.push(Cow::Borrowed(flag.id.as_str())),
                    Tri::False => {}
                }
            }
            let mut report = DimensionReport {
                id: Cow::Borrowed(&dimension.id),
                label: Cow::Borrowed(&dimension.label),
                answers,
                missing,
                fired_rules,
                flags,
                possible_flags,
                level: rs.level_ref(level),
                could_rise_to: could_rise_to.map(|l| rs.level_ref(l)),
                summary: String::new(),
            };
            // The fired rules of this dimension that demand its level.
            let deciding: Vec<&str> = rs
                .rules
                .iter()
                .zip(rule_status)
                .filter(|(r, s)| r.dimension == Some(d) && **s == Tri::True && r.level == level)
                .map(|(r, _)| r.id.as_str())
                .collect();
            report.summary = summary(&report, &deciding);
            report
        })
        .collect();
    Some(reports)
}

/// Appends `rule a` or `rules a, b` (`one` or `many` by the count of `ids`).
fn push_named<'a>(
    out: &mut String,
    one: &str,
    many: &str,
    ids: impl ExactSizeIterator<Item = &'a str>,
) {
    out.push_str(if ids.len() == 1 { one } else { many });
    out.push(' ');
    push_joined(out, ids);
}

/// Appends `items` separated by `, `.
fn push_joined<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(item);
    }
}

/// Starts the next part of a summary: `; ` before every part but the first.
fn next_part(out: &mut String, first: &mut bool) {
    if !*first {
        out.push_str("; ");
    }
    *first = false;
}

/// The one-line summary of a dimension, from its facts only. `deciding` are the
/// ids of its fired rules that demand its level. Written into one buffer: an
/// assessment has a summary per dimension, and building each from pieces was most
/// of the cost of a full assessment.
fn summary(r: &DimensionReport<'_>, deciding: &[&str]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(160);
    out.push_str(&r.label);
    out.push_str(": ");
    let mut first = true;
    if !r.answers.is_empty() {
        next_part(&mut out, &mut first);
        for (i, a) in r.answers.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            // Writing to a String cannot fail.
            let _ = write!(out, "{} = {}", a.factor, a.value);
            if a.assumed {
                out.push_str(" (assumed)");
            }
        }
    }
    if !r.missing.is_empty() {
        next_part(&mut out, &mut first);
        out.push_str("not answered: ");
        push_joined(&mut out, r.missing.iter().map(AsRef::as_ref));
    }
    next_part(&mut out, &mut first);
    out.push_str("calls for ");
    out.push_str(&r.level.label);
    if deciding.is_empty() {
        out.push_str(", the lowest level (no rule of this dimension fired)");
    } else {
        out.push_str(" because ");
        push_named(&mut out, "rule", "rules", deciding.iter().copied());
        out.push_str(" fired");
    }
    if let Some(up) = &r.could_rise_to {
        out.push_str(", or up to ");
        out.push_str(&up.label);
        out.push_str(" depending on unanswered questions");
    }
    if !r.flags.is_empty() {
        next_part(&mut out, &mut first);
        push_named(&mut out, "flag", "flags", r.flags.iter().map(AsRef::as_ref));
        out.push_str(" raised");
    }
    if !r.possible_flags.is_empty() {
        next_part(&mut out, &mut first);
        push_named(
            &mut out,
            "flag",
            "flags",
            r.possible_flags.iter().map(AsRef::as_ref),
        );
        out.push_str(" could be raised depending on unanswered questions");
    }
    out
}

fn own(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

impl DimensionReport<'_> {
    /// Detach from the ruleset.
    pub fn into_owned(self) -> DimensionReport<'static> {
        DimensionReport {
            id: own(self.id),
            label: own(self.label),
            answers: self
                .answers
                .into_iter()
                .map(|a| DimensionAnswer {
                    factor: own(a.factor),
                    value: a.value,
                    assumed: a.assumed,
                })
                .collect(),
            missing: self.missing.into_iter().map(own).collect(),
            fired_rules: self.fired_rules.into_iter().map(own).collect(),
            flags: self.flags.into_iter().map(own).collect(),
            possible_flags: self.possible_flags.into_iter().map(own).collect(),
            level: self.level.into_owned(),
            could_rise_to: self.could_rise_to.map(LevelRef::into_owned),
            summary: self.summary,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use crate::{Ruleset, Value};

    const RULES: &str = "id: t
version: '1'
title: T
description: D
dimensions:
  - {id: withdrawal, label: Withdrawal potential, description: W}
  - {id: environment, label: Recovery environment, description: E}
  - {id: readiness, label: Readiness, description: R}
levels:
  - {id: out, label: Outpatient, description: o}
  - {id: iop, label: IOP, description: i}
  - {id: res, label: Residential, description: r}
factors:
  - {id: withdrawal, kind: ordinal, question: Q, values: [none, moderate, high], dimension: withdrawal}
  - {id: support, kind: ordinal, question: Q, values: [strong, none], dimension: environment}
  - {id: step_down, kind: boolean, question: Q, missing: {assume: false}, dimension: environment}
  - {id: other, kind: boolean, question: Q}
rules:
  - {id: withdrawal_moderate_iop, when: {withdrawal: {at_least: moderate}}, level: iop, because: B, dimension: withdrawal}
  - {id: withdrawal_high_res, when: {withdrawal: high}, level: res, because: B, dimension: withdrawal}
  - {id: unsupported_withdrawal_res, when: {all: [{withdrawal: moderate}, {support: none}]}, level: res, because: B, dimension: withdrawal}
  - {id: no_support_iop, when: {support: none}, level: iop, because: B, dimension: environment}
  - {id: untagged_res, when: {other: true}, level: res, because: B}
flags:
  - {id: refer_high, kind: refer, when: {withdrawal: high}, message: M, dimension: withdrawal}
  - {id: info_no_support, kind: info, when: {support: none}, message: M, dimension: environment}
";

    fn assess(text: &str, answers: &[(&str, Value)]) -> crate::Assessment<'static> {
        let rs = Ruleset::from_yaml(text).unwrap();
        let mut a = rs.new_answers();
        for (id, v) in answers {
            a.set(id, v.clone()).unwrap();
        }
        rs.assess(&a).unwrap().into_owned()
    }

    #[test]
    fn each_dimension_reports_its_answers_rules_flags_and_level() {
        let a = assess(
            RULES,
            &[
                ("withdrawal", "moderate".into()),
                ("support", "strong".into()),
                ("other", false.into()),
            ],
        );
        let d = a.dimensions.unwrap();
        let ids: Vec<&str> = d.iter().map(|d| d.id.as_ref()).collect();
        assert_eq!(ids, ["withdrawal", "environment", "readiness"]);

        let w = &d[0];
        assert_eq!(w.label, "Withdrawal potential");
        assert_eq!(w.answers.len(), 1);
        assert_eq!(w.answers[0].factor, "withdrawal");
        assert_eq!(w.answers[0].value, Value::from("moderate"));
        assert!(!w.answers[0].assumed);
        assert_eq!(w.fired_rules, ["withdrawal_moderate_iop"]);
        assert!(w.flags.is_empty() && w.possible_flags.is_empty() && w.missing.is_empty());
        assert_eq!(w.level.id, "iop");
        assert_eq!(w.could_rise_to, None);
        assert_eq!(
            w.summary,
            "Withdrawal potential: withdrawal = moderate; calls for IOP because rule \
             withdrawal_moderate_iop fired"
        );

        // The assumed answer is marked; no rule fired: the lowest level.
        let e = &d[1];
        assert_eq!(e.answers.len(), 2);
        assert_eq!(e.answers[1].factor, "step_down");
        assert!(e.answers[1].assumed);
        assert!(e.fired_rules.is_empty());
        assert_eq!(e.level.id, "out");
        assert_eq!(
            e.summary,
            "Recovery environment: support = strong, step_down = false (assumed); calls for \
             Outpatient, the lowest level (no rule of this dimension fired)"
        );

        // A dimension with no questions and no rules.
        let r = &d[2];
        assert!(r.answers.is_empty() && r.fired_rules.is_empty());
        assert_eq!(
            r.summary,
            "Readiness: calls for Outpatient, the lowest level (no rule of this dimension fired)"
        );
    }

    #[test]
    fn the_dimension_level_is_the_highest_of_its_fired_rules() {
        let a = assess(
            RULES,
            &[
                ("withdrawal", "high".into()),
                ("support", "none".into()),
                ("other", true.into()),
            ],
        );
        let d = a.dimensions.unwrap();
        let w = &d[0];
        assert_eq!(
            w.fired_rules,
            ["withdrawal_moderate_iop", "withdrawal_high_res"]
        );
        assert_eq!(w.level.id, "res");
        assert_eq!(w.flags, ["refer_high"]);
        assert_eq!(
            w.summary,
            "Withdrawal potential: withdrawal = high; calls for Residential because rule \
             withdrawal_high_res fired; flag refer_high raised"
        );
        // A rule tagged with one dimension counts there only, even when it reads a
        // question of another; the untagged rule appears in no dimension.
        let e = &d[1];
        assert_eq!(e.fired_rules, ["no_support_iop"]);
        assert_eq!(e.level.id, "iop");
        assert_eq!(e.flags, ["info_no_support"]);
        assert!(d
            .iter()
            .all(|d| !d.fired_rules.iter().any(|r| r == "untagged_res")));
        assert_eq!(a.level.id, "res");
    }

    #[test]
    fn missing_answers_are_listed_and_the_level_is_what_is_certain() {
        // Support unanswered: `unsupported_withdrawal_res` could fire.
        let a = assess(
            RULES,
            &[("withdrawal", "moderate".into()), ("other", false.into())],
        );
        let d = a.dimensions.unwrap();
        let w = &d[0];
        assert_eq!(w.level.id, "iop");
        assert_eq!(w.could_rise_to.as_ref().map(|l| l.id.as_ref()), Some("res"));
        assert!(w.missing.is_empty());
        assert_eq!(
            w.summary,
            "Withdrawal potential: withdrawal = moderate; calls for IOP because rule \
             withdrawal_moderate_iop fired, or up to Residential depending on unanswered \
             questions"
        );
        let e = &d[1];
        assert_eq!(e.missing, ["support"]);
        assert_eq!(e.possible_flags, ["info_no_support"]);
        assert_eq!(e.could_rise_to.as_ref().map(|l| l.id.as_ref()), Some("iop"));
        assert_eq!(
            e.summary,
            "Recovery environment: step_down = false (assumed); not answered: support; calls \
             for Outpatient, the lowest level (no rule of this dimension fired), or up to IOP \
             depending on unanswered questions; flag info_no_support could be raised \
             depending on unanswered questions"
        );
    }

    #[test]
    fn without_dimensions_there_is_no_section_and_json_is_unchanged() {
        let untagged: String = RULES
            .lines()
            .filter(|l| {
                !l.starts_with("  - {id: withdrawal, label")
                    && !l.contains("label: Recovery")
                    && !l.contains("label: Readiness")
                    && *l != "dimensions:"
            })
            .map(|l| {
                l.replace(", dimension: withdrawal}", "}")
                    .replace(", dimension: environment}", "}")
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!untagged.contains("dimension"), "{untagged}");
        let answers = [("withdrawal", "high".into()), ("support", "none".into())];
        let plain = assess(&untagged, &answers);
        assert_eq!(plain.dimensions, None);
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json.get("dimensions").is_none(), "{json}");
        // The same answers with dimensions: the same result besides the section.
        let mut tagged = assess(RULES, &answers);
        assert!(tagged.dimensions.take().is_some());
        assert_eq!(tagged.level, plain.level);
        assert_eq!(tagged.fired_rules, plain.fired_rules);
        assert_eq!(tagged.flags, plain.flags);
        assert_eq!(tagged.possible_flags, plain.possible_flags);
        // A stored assessment without the section reads back.
        let back: crate::Assessment<'_> = serde_json::from_value(json).unwrap();
        assert_eq!(back.dimensions, None);
    }
}
