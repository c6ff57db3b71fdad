//! What is left to ask: the adaptive core of a guided interview.
//!
//! An interview puts the questions to a person one at a time. Before each question
//! it asks [`Ruleset::interview_progress`] which of the questions not yet put could
//! still change the result, with the exact missing-answer analysis of
//! [`Ruleset::assess`]: a question matters when some completion of the other open
//! questions exists in which changing only its answer changes the level or whether
//! a `refer` flag fires. Whether `needs_review` is set follows from those two (it is
//! set when the level range is open or a refer flag may fire), so a question that
//! matters for neither cannot change it either.
//!
//! Answering questions only removes completions, so a question that does not matter
//! now never matters later: an interview can skip it for good and stop as soon as no
//! open question matters.

use crate::answers::Answers;
use crate::error::EvalError;
use crate::eval::{Exhausted, Search};
use crate::model::{FactorIndex, FlagKind, LevelIndex, MissingPolicy, Ruleset};

/// Where an interview stands: the levels still open and which questions still matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The least intensive level some completion of the open questions leads to.
    pub lowest: LevelIndex,
    /// The most intensive level some completion of the open questions leads to.
    pub highest: LevelIndex,
    /// Ids of the `refer` flags that fire whatever the open questions are answered.
    pub refer: Vec<String>,
    /// Per factor, in declaration order: whether it is open and some answer to it can
    /// still change the level or a `refer` flag.
    pub matters: Vec<bool>,
    /// The question to ask next: the first open one, in declaration order, that
    /// matters or that must be answered (policy `error`). `None` when the interview
    /// can stop.
    pub next: Option<FactorIndex>,
}

impl Progress {
    /// Whether the interview can stop: no open question can change the result and
    /// none must be answered.
    pub fn settled(&self) -> bool {
        self.next.is_none()
    }
}

impl Ruleset {
    /// The state of an interview: `answers` holds what was answered, and `open[i]`
    /// says that question `i` has not been put to the person yet (it counts as
    /// unknown, even when its policy would assume a value). A question neither
    /// answered nor open was skipped and is handled by its missing policy: an
    /// `assume` question takes its assumed value, any other stays unknown.
    ///
    /// Errors when the analysis takes more than [`crate::limits::MAX_MISSING_WORK`]
    /// steps, or when `answers` belong to another ruleset.
    pub fn interview_progress(
        &self,
        answers: &Answers<'_>,
        open: &[bool],
    ) -> Result<Progress, EvalError> {
        self.check_owner(answers)?;
        let is_open = |i: usize| open.get(i).copied().unwrap_or(false);
        let known: Vec<bool> = self
            .factors
            .iter()
            .enumerate()
            .map(|(i, f)| {
                answers.answered.get(i).copied().unwrap_or(false)
                    || (!is_open(i) && matches!(f.missing, MissingPolicy::Assume(_)))
            })
            .collect();
        let mut search = Search::new(
            &self.conditions,
            &self.factors,
            answers.values.clone(),
            known.clone(),
        );
        self.progress_with(&mut search, &known, is_open)
            .map_err(|Exhausted| self.too_many_missing(&known))
    }

    fn progress_with(
        &self,
        search: &mut Search<'_>,
        known: &[bool],
        is_open: impl Fn(usize) -> bool,
    ) -> Result<Progress, Exhausted> {
        let (lowest, highest) = search.level_range(self)?;
        let refer_flags: Vec<_> = self
            .flags
            .iter()
            .filter(|f| f.kind == FlagKind::Refer)
            .collect();
        let mut refer = Vec::new();
        for flag in &refer_flags {
            if search.status(flag.when)? == crate::eval::Tri::True {
                refer.push(flag.id.clone());
            }
        }
        let mut matters = Vec::with_capacity(self.factors.len());
        for i in 0..self.factors.len() {
            let candidate = is_open(i) && !known.get(i).copied().unwrap_or(true);
            let mut m = candidate && lowest != highest && search.level_depends_on(self, i)?;
            for flag in &refer_flags {
                if m || !candidate {
                    break;
                }
                m = search.node_depends_on(flag.when, i)?;
            }
            matters.push(m);
        }
        let next = self.factors.iter().enumerate().position(|(i, f)| {
            matters.get(i).copied().unwrap_or(false)
                || (is_open(i)
                    && !known.get(i).copied().unwrap_or(true)
                    && f.missing == MissingPolicy::Error)
        });
        Ok(Progress {
            lowest,
            highest,
            refer,
            matters,
            next,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use super::*;

    fn default() -> Ruleset {
        Ruleset::default_ruleset().unwrap()
    }

    fn index(rs: &Ruleset, id: &str) -> usize {
        rs.factor_index(id).unwrap()
    }

    /// The interview as a decision tree: from `answers`, ask the next question and
    /// branch over every answer to it, until the progress is settled. At each leaf,
    /// every completion of the questions not asked must give the leaf's level and
    /// refer flags (checked with the complete-answers fast path), and the leaf needs no
    /// review. Adds (answer sets, questions asked × answer sets, most asked) to `tally`.
    fn walk(
        rs: &Ruleset,
        answers: &mut Answers<'_>,
        open: &mut [bool],
        tally: &mut (usize, usize, usize),
    ) {
        let progress = rs.interview_progress(answers, open).unwrap();
        if let Some(i) = progress.next {
            for &code in &rs.factors[i].classes {
                answers.set_code(i, code).unwrap();
                open[i] = false;
                walk(rs, answers, open, tally);
            }
            answers.clear_index(i);
            open[i] = true;
            return;
        }
        let leaf = rs.assess(answers).unwrap();
        assert!(!leaf.needs_review, "{:?}", leaf.review_reasons);
        let leaf_refer: Vec<String> = leaf
            .flags
            .iter()
            .filter(|f| f.kind == FlagKind::Refer)
            .map(|f| f.id.to_string())
            .collect();
        let asked = answers.answered.iter().filter(|&&a| a).count();
        let mut completions = vec![answers.clone()];
        for (i, f) in rs.factors.iter().enumerate() {
            if answers.answered[i] {
                continue;
            }
            completions = completions
                .into_iter()
                .flat_map(|c| {
                    f.classes.iter().map(move |&code| {
                        let mut c = c.clone();
                        c.set_code(i, code).unwrap();
                        c
                    })
                })
                .collect();
        }
        for full in &completions {
            let d = rs.decide(full).unwrap();
            assert_eq!(d.level, leaf.level.id, "{:?}", full.values);
            let refer: Vec<&str> = d
                .flags
                .iter()
                .copied()
                .filter(|id| {
                    rs.flags
                        .iter()
                        .any(|f| f.id == *id && f.kind == FlagKind::Refer)
                })
                .collect();
            assert_eq!(refer, leaf_refer, "{:?}", full.values);
        }
        tally.0 += completions.len();
        tally.1 += asked * completions.len();
        tally.2 = tally.2.max(asked);
    }

    /// Over the whole answer space of the default ruleset, the interview stops with
    /// the result the full answer set gives (level and refer flags, no review needed),
    /// and asks the numbers of questions that the README states.
    #[test]
    fn the_interview_gives_the_full_result_and_the_readme_figures_hold() {
        let rs = default();
        let mut answers = rs.new_answers();
        let mut open = vec![true; rs.factors().len()];
        let mut tally = (0, 0, 0);
        walk(&rs, &mut answers, &mut open, &mut tally);
        let (n, total, most) = tally;
        assert_eq!(
            n,
            rs.factors
                .iter()
                .map(|f| f.classes.len())
                .product::<usize>()
        );
        // One decimal, rounded half up, computed in integers.
        let tenths = (total * 10 + n / 2) / n;
        let stated = format!(
            "on average {}.{} questions, at most {most}, of the {} a full form asks \
             ({n} answer sets)",
            tenths / 10,
            tenths % 10,
            rs.factors().len()
        );
        let readme = include_str!("../../../README.md");
        assert!(readme.contains(&stated), "README.md must state: {stated}");
    }

    #[test]
    fn readiness_never_matters_and_the_range_starts_wide() {
        let rs = default();
        let answers = rs.new_answers();
        let open = vec![true; rs.factors().len()];
        let p = rs.interview_progress(&answers, &open).unwrap();
        assert_eq!((p.lowest, p.highest), (0, rs.levels().len() - 1));
        assert!(!p.matters[index(&rs, "readiness")]);
        assert!(p.matters[index(&rs, "harm_risk")]);
        assert!(p.refer.is_empty());
        assert!(!p.settled());
    }

    #[test]
    fn an_imminent_harm_answer_fires_refer_and_settles_the_refer_question() {
        let rs = default();
        let mut answers = rs.new_answers();
        answers.set("harm_risk", "imminent").unwrap();
        let mut open = vec![true; rs.factors().len()];
        open[index(&rs, "harm_risk")] = false;
        let p = rs.interview_progress(&answers, &open).unwrap();
        assert_eq!(p.refer, ["refer_imminent_harm"]);
        assert!(!p.matters[index(&rs, "harm_risk")], "answered");
    }

    /// The analysis agrees with [`Ruleset::assess`]: when the progress says nothing
    /// open matters, leaving every open question unanswered gives a closed range and
    /// no possible refer flag, and the level equals that of every completion tried.
    #[test]
    fn settled_progress_means_the_assessment_is_closed() {
        let rs = default();
        let mut answers = rs.new_answers();
        for (k, v) in [
            ("severity", "severe"),
            ("withdrawal_risk", "none"),
            ("medical", "none"),
            ("housing", "homeless"),
            ("support", "none"),
            ("harm_risk", "none"),
            ("mental_health", "none"),
        ] {
            answers.set(k, v).unwrap();
        }
        let open: Vec<bool> = rs
            .factors()
            .iter()
            .map(|f| !answers.is_answered(&f.id))
            .collect();
        let p = rs.interview_progress(&answers, &open).unwrap();
        assert!(p.settled(), "{p:?}");
        let a = rs.assess(&answers).unwrap();
        assert!(!a.needs_review);
        assert_eq!(a.level_range.lowest.rank, a.level_range.highest.rank);
        assert_eq!(a.level.rank, p.highest);
    }

    /// A skipped `assume` question takes its assumed value; an open one is unknown.
    #[test]
    fn an_open_assume_question_is_unknown_and_a_skipped_one_assumed() {
        let rs = Ruleset::from_yaml(
            r#"
id: t
version: "1"
title: t
description: t
levels:
  - {id: low, label: Low, description: l}
  - {id: high, label: High, description: h}
factors:
  - {id: a, kind: boolean, question: "A?", missing: {assume: false}}
rules:
  - {id: r, when: {a: true}, level: high, because: "a"}
"#,
        )
        .unwrap();
        let answers = rs.new_answers();
        let p = rs.interview_progress(&answers, &[true]).unwrap();
        assert_eq!((p.lowest, p.highest), (0, 1));
        assert_eq!(p.matters, [true]);
        let p = rs.interview_progress(&answers, &[false]).unwrap();
        assert_eq!((p.lowest, p.highest), (0, 0));
        assert_eq!(p.matters, [false]);
    }

    /// Two questions that matter only together (the level is high when they differ):
    /// neither alone moves the range, yet both must be asked.
    #[test]
    fn questions_that_matter_only_together_are_both_asked() {
        let rs = Ruleset::from_yaml(
            r#"
id: t
version: "1"
title: t
description: t
levels:
  - {id: low, label: Low, description: l}
  - {id: high, label: High, description: h}
factors:
  - {id: a, kind: boolean, question: "A?"}
  - {id: b, kind: boolean, question: "B?"}
rules:
  - {id: r1, when: {all: [{a: true}, {b: false}]}, level: high, because: "x"}
  - {id: r2, when: {all: [{a: false}, {b: true}]}, level: high, because: "y"}
"#,
        )
        .unwrap();
        let answers = rs.new_answers();
        let p = rs.interview_progress(&answers, &[true, true]).unwrap();
        assert_eq!(p.matters, [true, true]);
    }
}
