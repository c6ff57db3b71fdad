//! Cheap results for bulk callers: the compact [`Decision`] refilled in place, and
//! [`Triage`], the level and the `refer` answer with the fired flags as a bitset.

use crate::answers::Answers;
use crate::assessment::Decision;
use crate::error::EvalError;
use crate::eval::holds;
use crate::model::{FlagKind, LevelIndex, MissingPolicy, Ruleset};

/// The fired flags of a [`Triage`], one bit per flag index for the first 64 flags
/// of the ruleset (the bundled default ruleset has fewer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FlagSet {
    bits: u64,
    beyond: bool,
}

impl FlagSet {
    /// Whether the flag at `index` (in [`Ruleset::flags`]) fired; `false` for an
    /// index of 64 or more (see [`FlagSet::fired_beyond_64`]).
    pub fn contains(&self, index: usize) -> bool {
        index < 64 && self.bits & (1u64 << index) != 0
    }

    /// The bits: bit `i` is flag `i`.
    pub fn bits(&self) -> u64 {
        self.bits
    }

    /// Whether a flag of index 64 or more fired (it is not in the bits; use
    /// [`Ruleset::decide`] for the list of every fired flag).
    pub fn fired_beyond_64(&self) -> bool {
        self.beyond
    }

    /// Whether no flag fired.
    pub fn is_empty(&self) -> bool {
        self.bits == 0 && !self.beyond
    }

    /// Indices of the fired flags below 64, in order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..64usize).filter(move |&i| self.contains(i))
    }

    fn insert(&mut self, index: usize) {
        if index < 64 {
            self.bits |= 1u64 << index;
        } else {
            self.beyond = true;
        }
    }
}

/// The level and whether to refer, nothing else: [`Ruleset::triage`]. Equal to the
/// corresponding fields of [`Ruleset::decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Triage {
    /// Index of the recommended level in [`Ruleset::levels`].
    pub level: LevelIndex,
    /// Whether a `refer` flag fired.
    pub refer: bool,
    /// Whether missing answers leave the level, or a `refer` flag, open.
    pub needs_review: bool,
    /// The fired flags.
    pub flags: FlagSet,
}

impl Ruleset {
    /// Whether every question is answered or assumed (the fast path applies).
    pub(crate) fn complete(&self, answers: &Answers<'_>) -> bool {
        self.factors
            .iter()
            .zip(&answers.answered)
            .all(|(f, &a)| a || matches!(f.missing, MissingPolicy::Assume(_)))
    }

    /// The level and whether a `refer` flag fires, nothing else: with every question
    /// answered (or assumed) one lookup in the level table, where each entry also
    /// holds the refer answer (the rule walk and a pass over the refer flags for a
    /// ruleset too large for a table); no allocation (the `no_alloc` test keeps this
    /// true). Otherwise the level and `refer` of [`Ruleset::decide`].
    pub fn level_and_refer(&self, answers: &Answers<'_>) -> Result<(LevelIndex, bool), EvalError> {
        self.check_owner(answers)?;
        if self.complete(answers) {
            return Ok(self.level_and_refer_of_codes(&answers.values));
        }
        let d = self.decide(answers)?;
        Ok((self.level_index(d.level).unwrap_or(0), d.refer))
    }

    /// The level, `refer` and the fired flags. With every question answered (or
    /// assumed) this is the level table plus one pass over the flags and does not
    /// allocate (the `no_alloc` test keeps this true); otherwise it is derived from
    /// [`Ruleset::decide`].
    pub fn triage(&self, answers: &Answers<'_>) -> Result<Triage, EvalError> {
        self.check_owner(answers)?;
        if !self.complete(answers) {
            let d = self.decide(answers)?;
            let mut flags = FlagSet::default();
            for id in &d.flags {
                if let Some(i) = self.flags.iter().position(|f| f.id == *id) {
                    flags.insert(i);
                }
            }
            return Ok(Triage {
                level: self.level_index(d.level).unwrap_or(0),
                refer: d.refer,
                needs_review: d.needs_review,
                flags,
            });
        }
        let values = &answers.values;
        let mut flags = FlagSet::default();
        let mut refer = false;
        for (i, f) in self.flags.iter().enumerate() {
            if holds(&self.conditions, f.when, values) {
                flags.insert(i);
                refer |= f.kind == FlagKind::Refer;
            }
        }
        Ok(Triage {
            level: self.level_of_codes(values),
            refer,
            needs_review: false,
            flags,
        })
    }

    /// [`Ruleset::decide`] into `into`, whose lists are cleared and refilled: with every
    /// question answered (or assumed) and `into` reused from an earlier call, this does
    /// not allocate (the `no_alloc` test keeps this true).
    pub fn decide_into<'s>(
        &'s self,
        answers: &Answers<'_>,
        into: &mut Decision<'s>,
    ) -> Result<(), EvalError> {
        self.check_owner(answers)?;
        if !self.complete(answers) {
            *into = self.decide(answers)?;
            return Ok(());
        }
        let values = &answers.values;
        let level = self.level_of_codes(values);
        into.deciding_rules.clear();
        into.deciding_rules.extend(
            self.rules
                .iter()
                .filter(|r| r.level == level && holds(&self.conditions, r.when, values))
                .map(|r| r.id.as_str()),
        );
        into.flags.clear();
        into.refer = false;
        for f in &self.flags {
            if holds(&self.conditions, f.when, values) {
                into.refer |= f.kind == FlagKind::Refer;
                into.flags.push(f.id.as_str());
            }
        }
        into.level = self.level_at(level).map_or("", |l| l.id.as_str());
        into.needs_review = false;
        Ok(())
    }
}

impl Decision<'_> {
    /// An empty decision to refill with [`Ruleset::decide_into`].
    pub fn empty() -> Self {
        Decision {
            level: "",
            deciding_rules: Vec::new(),
            flags: Vec::new(),
            refer: false,
            needs_review: false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use crate::Ruleset;

    #[test]
    fn triage_and_decide_into_agree_with_decide() {
        let rs = Ruleset::default_ruleset().unwrap();
        let mut into = crate::Decision::empty();
        let mut checked = 0;
        for text in include_str!("../../../examples/cases/people.jsonl").lines() {
            let Ok((answers, _)) = rs.answers_from_json_record(text, Some("id")) else {
                continue;
            };
            let d = rs.decide(&answers).unwrap();
            rs.decide_into(&answers, &mut into).unwrap();
            assert_eq!(into, d, "{text}");
            let t = rs.triage(&answers).unwrap();
            assert_eq!(
                rs.level_and_refer(&answers).unwrap(),
                (t.level, t.refer),
                "{text}"
            );
            assert_eq!(rs.levels()[t.level].id, d.level);
            assert_eq!((t.refer, t.needs_review), (d.refer, d.needs_review));
            let fired: Vec<&str> = t.flags.iter().map(|i| rs.flags()[i].id.as_str()).collect();
            assert_eq!(fired, d.flags, "{text}");
            assert!(!t.flags.fired_beyond_64());
            checked += 1;
        }
        assert!(checked >= 30, "{checked}");
    }
}
