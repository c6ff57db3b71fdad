//! The examples of a diff's changed cells: minimal patterns that together cover
//! the answer-set classes of a cell (as many as are listed, the rest counted
//! exactly), and what decided each example's level under OLD and NEW.

use std::collections::HashSet;

use serde::Serialize;

use super::*;
use crate::assessment::Basis;
use crate::model::Ruleset;

/// Patterns listed per changed cell; the classes no listed pattern covers are counted
/// in [`super::ChangedCell::more_classes`].
pub const MAX_PATTERNS_PER_CELL: usize = 10;
/// Classes of a cell taken at a time as the starting points of patterns (from the
/// counting pass or a search of the space).
const SCAN_CANDIDATES: usize = 64;

/// What the level of an example rests on under one ruleset: the assessment's
/// [`Basis`], or `refused`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBasis {
    /// Fired rules demand the level.
    Rules,
    /// The score band demands it.
    Score,
    /// Both fired rules and the score band demand it.
    RulesAndScore,
    /// Nothing demands more: it is the lowest level.
    LowestLevel,
    /// It is the top of the range the unanswered questions leave open.
    MissingAnswers,
    /// A required answer is missing: the assessment is refused.
    Refused,
}

/// The score band that decided an example's level, with the totals the example
/// can have (equal when every scored question is answered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecidingBand {
    /// The band's level id.
    pub level: String,
    /// The least total over the unanswered questions' answers.
    pub lowest_total: i64,
    /// The greatest total.
    pub highest_total: i64,
}

/// What decided an example's level under one ruleset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decided {
    /// What the level rests on.
    pub basis: DecidedBasis,
    /// The deciding rules (empty unless `basis` is `rules` or `rules_and_score`).
    pub rules: Vec<String>,
    /// The deciding score band (when `basis` is `score` or `rules_and_score`).
    pub score: Option<DecidingBand>,
    /// Why the assessment was refused (only with `basis: refused`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl Decided {
    /// The basis in words, as the text reports show it ("score band mid (total 4)").
    pub fn words(&self) -> String {
        let band = |b: &DecidingBand| {
            if b.lowest_total == b.highest_total {
                format!("score band {} (total {})", b.level, b.lowest_total)
            } else {
                format!(
                    "score band {} (total {} to {}, whatever the unanswered questions add)",
                    b.level, b.lowest_total, b.highest_total
                )
            }
        };
        match (self.basis, &self.score) {
            (DecidedBasis::Rules, _) | (DecidedBasis::RulesAndScore, None) => self.rules.join(", "),
            (DecidedBasis::Score, Some(b)) => band(b),
            (DecidedBasis::RulesAndScore, Some(b)) => {
                format!("{}, and {}", self.rules.join(", "), band(b))
            }
            (DecidedBasis::Score, None) => "score band".to_owned(),
            (DecidedBasis::LowestLevel, _) => "(no rule: lowest level)".to_owned(),
            (DecidedBasis::MissingAnswers, _) => {
                "(unanswered questions: the top of the range they leave open)".to_owned()
            }
            (DecidedBasis::Refused, _) => format!(
                "(refused: {})",
                self.refused
                    .as_deref()
                    .unwrap_or("a required answer is missing")
            ),
        }
    }
}

/// What decided the level of the answer set `digits` under ruleset `r`: the deciding
/// rule ids (or one text in parentheses when the assessment was refused) and the
/// [`Decided`] basis.
pub(crate) fn decided(
    rs: Option<&Ruleset>,
    r: usize,
    space: &Space,
    digits: &[usize],
) -> (Vec<String>, Decided) {
    let refused = |why: String| {
        (
            vec![format!("({why})")],
            Decided {
                basis: DecidedBasis::Refused,
                rules: Vec::new(),
                score: None,
                refused: Some(why),
            },
        )
    };
    let Some(rs) = rs else {
        return refused("no ruleset".to_owned());
    };
    let mut answers = rs.new_answers();
    for (sf, &d) in space.factors.iter().zip(digits) {
        if let (Some(Some(fi)), Some(class)) = (sf.in_ruleset.get(r), sf.classes.get(d)) {
            if let Some(v) = &class.value {
                // The value comes from the ruleset's own scale, so it is always accepted.
                if answers.set_index(*fi, v).is_err() {
                    return refused(format!("answer `{v}` for `{}` was refused", sf.id));
                }
            }
        }
    }
    let a = match rs.assess(&answers) {
        Ok(a) => a,
        Err(e) => return refused(e.to_string()),
    };
    let rules: Vec<String> = a.deciding_rules.iter().map(ToString::to_string).collect();
    let basis = match a.basis {
        Basis::Rules => DecidedBasis::Rules,
        Basis::Score => DecidedBasis::Score,
        Basis::RulesAndScore => DecidedBasis::RulesAndScore,
        Basis::LowestLevel => DecidedBasis::LowestLevel,
        Basis::MissingAnswers => DecidedBasis::MissingAnswers,
    };
    let score = a
        .score
        .as_ref()
        .filter(|s| s.decides)
        .map(|s| DecidingBand {
            level: s
                .band_level
                .as_ref()
                .map_or_else(|| a.level.id.to_string(), |l| l.id.to_string()),
            lowest_total: s.total.saturating_add(s.unanswered_min),
            highest_total: s.total.saturating_add(s.unanswered_max),
        });
    let decided = Decided {
        basis,
        rules: rules.clone(),
        score,
        refused: None,
    };
    (rules, decided)
}

/// The budget ([`MAX_EXAMPLE_WORK`]) shared by the minimisation of every example
/// and the searches for classes no pattern covers yet.
pub(crate) struct ExampleWork {
    pub(crate) left: u64,
    /// What one probe (the cell of one answer set) can cost.
    pub(crate) probe_cost: u64,
    /// Whether a probe was refused: some example is less minimal than it could be.
    pub(crate) ran_out: bool,
}

impl ExampleWork {
    /// Pay for one probe; `false` (and nothing spent) once the budget cannot.
    fn spend(&mut self) -> bool {
        if self.left < self.probe_cost {
            self.ran_out = true;
            return false;
        }
        self.left -= self.probe_cost;
        true
    }

    /// Pay for `probes` probes at once; `false` (and nothing spent) if the budget cannot.
    fn spend_many(&mut self, probes: u64) -> bool {
        let cost = probes.saturating_mul(self.probe_cost);
        if self.left < cost {
            return false;
        }
        self.left -= cost;
        true
    }
}

/// What the cover of one changed cell needs from the diff.
pub(crate) struct CellContext<'a> {
    pub(crate) space: &'a Space,
    pub(crate) strides: &'a [usize],
    pub(crate) with_missing: bool,
    pub(crate) total: usize,
    /// The (OLD row, NEW column) of an answer set's slots.
    pub(crate) cell_of: &'a (dyn Fn(&[usize]) -> (usize, usize) + Sync),
    pub(crate) rulesets: [&'a Ruleset; 2],
}

/// The listed patterns of one changed cell and the number of its classes none of
/// them covers.
pub(crate) struct CellCover {
    pub(crate) examples: Vec<DiffExample>,
    pub(crate) more_classes: u64,
}

/// Cover the `count` classes of `cell` with minimal patterns, first from
/// `candidates` (classes of the cell found while counting, in index order), then by
/// searching the space for a class no pattern covers yet, until every class is
/// covered or [`MAX_PATTERNS_PER_CELL`] are listed. Every pattern lies wholly in the
/// cell, so the classes not covered are counted exactly from the patterns' union.
pub(crate) fn cover_cell(
    cx: &CellContext<'_>,
    cell: (usize, usize),
    count: u64,
    mut candidates: Vec<usize>,
    work: &mut ExampleWork,
) -> CellCover {
    let n = cx.space.factors.len();
    let mut examples: Vec<DiffExample> = Vec::new();
    let mut covered: HashSet<usize> = HashSet::new();
    // Each chunk gave its first candidates: the first of them all are the first of
    // the cell, whatever the number of chunks (so the patterns do not depend on it).
    candidates.sort_unstable();
    candidates.dedup();
    candidates.truncate(SCAN_CANDIDATES);
    let mut next = candidates.into_iter();
    while examples.len() < MAX_PATTERNS_PER_CELL && (covered.len() as u64) < count {
        let index = match next.find(|i| !covered.contains(i)) {
            Some(i) => i,
            None => {
                // Every candidate is covered: look for classes of the cell that are not,
                // if the budget affords a probe of every class.
                if !work.spend_many(cx.total as u64) {
                    break;
                }
                let found = uncovered(cx, cell, &covered);
                if found.is_empty() {
                    break;
                }
                next = found.into_iter();
                continue;
            }
        };
        let mut digits = vec![0usize; n];
        decode(index, cx.strides, &mut digits);
        let sets = minimise(cx.space, &digits, cell, cx.cell_of, cx.with_missing, work);
        add_cube(&sets, cx.strides, &mut covered);
        let decide = |r: usize| decided(cx.rulesets.get(r).copied(), r, cx.space, &digits);
        let ((old_deciding, old_decided), (new_deciding, new_decided)) = (decide(0), decide(1));
        examples.push(DiffExample {
            pattern: cx.space.pattern(&sets, cx.with_missing),
            covers: sets.iter().map(|s| s.len() as u64).product(),
            answers: cx.space.answer_set(&digits),
            old_deciding,
            new_deciding,
            old_decided,
            new_decided,
        });
    }
    CellCover {
        examples,
        more_classes: count.saturating_sub(covered.len() as u64),
    }
}

/// Add the index of every answer set in the product of `sets` to `covered`.
fn add_cube(sets: &[Vec<usize>], strides: &[usize], covered: &mut HashSet<usize>) {
    let mut indices = vec![0usize];
    for (set, &stride) in sets.iter().zip(strides) {
        indices = indices
            .iter()
            .flat_map(|&base| set.iter().map(move |&d| base + d * stride))
            .collect();
    }
    covered.extend(indices);
}

/// The first [`SCAN_CANDIDATES`] classes of `cell` not in `covered`, in index order
/// (each chunk finds its first ones; the first of those are the first of all).
fn uncovered(cx: &CellContext<'_>, cell: (usize, usize), covered: &HashSet<usize>) -> Vec<usize> {
    let n = cx.space.factors.len();
    let mut found: Vec<usize> = parallel(cx.total, Vec::new, |found: &mut Vec<usize>, range| {
        let mut digits = vec![0usize; n];
        for index in range {
            if covered.contains(&index) {
                continue;
            }
            decode(index, cx.strides, &mut digits);
            if (cx.cell_of)(&digits) == cell {
                found.push(index);
                if found.len() >= SCAN_CANDIDATES {
                    break;
                }
            }
        }
    })
    .into_iter()
    .flatten()
    .collect();
    found.truncate(SCAN_CANDIDATES);
    found
}

/// Grow, factor by factor, the set of answers each factor may take while every
/// answer set in the product of the sets stays in the same cell. Returns the sets
/// (slot indices per factor); a factor whose set holds every slot does not matter.
pub(crate) fn minimise(
    space: &Space,
    digits: &[usize],
    cell: (usize, usize),
    cell_of: &dyn Fn(&[usize]) -> (usize, usize),
    with_missing: bool,
    work: &mut ExampleWork,
) -> Vec<Vec<usize>> {
    const MAX_CUBE: usize = 1 << 16;
    let n = space.factors.len();
    let mut sets: Vec<Vec<usize>> = digits.iter().map(|&d| vec![d]).collect();
    let mut probe = digits.to_vec();
    for f in 0..n {
        for v in 0..space.radix(f, with_missing) {
            if sets.get(f).is_some_and(|s| s.contains(&v)) {
                continue;
            }
            // The new slab: factor f takes v, every other factor ranges over its set.
            let lens: Vec<usize> = (0..n)
                .map(|g| {
                    if g == f {
                        1
                    } else {
                        sets.get(g).map_or(1, Vec::len)
                    }
                })
                .collect();
            let slab: usize = lens.iter().product();
            let cube = slab.saturating_mul(sets.get(f).map_or(1, Vec::len) + 1);
            if cube > MAX_CUBE {
                continue;
            }
            let mut ok = true;
            for k in 0..slab {
                let mut rest = k;
                for g in (0..n).rev() {
                    let len = lens.get(g).copied().unwrap_or(1);
                    let slot = if g == f {
                        v
                    } else {
                        sets.get(g)
                            .and_then(|s| s.get(rest % len))
                            .copied()
                            .unwrap_or(0)
                    };
                    if let Some(p) = probe.get_mut(g) {
                        *p = slot;
                    }
                    rest /= len;
                }
                if !work.spend() || cell_of(&probe) != cell {
                    ok = false;
                    break;
                }
            }
            if ok {
                if let Some(s) = sets.get_mut(f) {
                    s.push(v);
                }
            }
        }
        if let Some(s) = sets.get_mut(f) {
            s.sort_unstable();
        }
    }
    sets
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    /// OLD: no rules. NEW: high for `a` at most v29 with `b` false, or `a` at least
    /// v30 with `b` true (`a` has 40 values, `c` 4 that do not matter). The first 64
    /// moved classes found while counting (in index order, `b` fastest) are all in the
    /// first pattern, so the second is found by a search.
    fn two_patterns() -> (Ruleset, Ruleset) {
        let values: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
        let head = format!(
            "id: t\nversion: '{{V}}'\ntitle: T\ndescription: D\nlevels:\n  - {{id: low, label: L, description: l}}\n  - {{id: high, label: H, description: h}}\nfactors:\n  - {{id: a, kind: ordinal, question: Q, values: [{}], missing: error}}\n  - {{id: c, kind: ordinal, question: Q, values: [c0, c1, c2, c3], missing: error}}\n  - {{id: b, kind: boolean, question: Q, missing: error}}\n",
            values.join(", ")
        );
        let old = Ruleset::from_yaml(&(head.replace("{V}", "1") + "rules: []\n")).unwrap();
        let new = Ruleset::from_yaml(&(head.replace("{V}", "2")
            + "rules:\n  - {id: low_a, level: high, because: B, when: {all: [{a: {at_most: v29}}, {b: false}]}}\n  - {id: high_a, level: high, because: B, when: {all: [{a: {at_least: v30}}, {b: true}]}}\n"))
        .unwrap();
        (old, new)
    }

    #[test]
    fn a_pattern_beyond_the_first_candidates_is_found_and_listed() {
        let (old, new) = two_patterns();
        let report = diff(&old, &new).unwrap();
        let [cell] = report.cells.as_slice() else {
            unreachable!("one changed cell: {report:?}")
        };
        assert_eq!((cell.classes, cell.more_classes), (160, 0));
        let covers: Vec<u64> = cell.examples.iter().map(|e| e.covers).collect();
        assert_eq!(covers, [120, 40]);
        assert_eq!(cell.examples[1].new_decided.rules, ["high_a"]);
        assert_eq!(
            cell.examples[1].old_decided.basis,
            DecidedBasis::LowestLevel
        );
    }

    #[test]
    fn what_decided_reads_in_words() {
        let band = |lo, hi| {
            Some(DecidingBand {
                level: "mid".to_owned(),
                lowest_total: lo,
                highest_total: hi,
            })
        };
        let d = |basis, rules: &[&str], score| Decided {
            basis,
            rules: rules.iter().map(ToString::to_string).collect(),
            score,
            refused: None,
        };
        assert_eq!(
            d(DecidedBasis::Rules, &["r1", "r2"], None).words(),
            "r1, r2"
        );
        assert_eq!(
            d(DecidedBasis::Score, &[], band(4, 4)).words(),
            "score band mid (total 4)"
        );
        assert_eq!(
            d(DecidedBasis::Score, &[], band(4, 6)).words(),
            "score band mid (total 4 to 6, whatever the unanswered questions add)"
        );
        assert_eq!(
            d(DecidedBasis::RulesAndScore, &["r1"], band(5, 5)).words(),
            "r1, and score band mid (total 5)"
        );
        assert_eq!(
            d(DecidedBasis::LowestLevel, &[], None).words(),
            "(no rule: lowest level)"
        );
        assert_eq!(
            d(DecidedBasis::MissingAnswers, &[], None).words(),
            "(unanswered questions: the top of the range they leave open)"
        );
        let mut refused = d(DecidedBasis::Refused, &[], None);
        refused.refused = Some("`alone` must be answered".to_owned());
        assert_eq!(refused.words(), "(refused: `alone` must be answered)");
    }
}
