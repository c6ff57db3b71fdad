//! The range of levels over every completion of partly known answers, read from the
//! frozen level diagram: at a node testing a known factor the walk follows that
//! answer's class; at a node testing an unknown one it takes the lowest and highest
//! level over every child. Within one walk the known answers do not change, so each
//! node's range is computed once (memoised by node). This gives the exact range the
//! search over missing answers ([`crate::eval::Search::level_range`]) gives (a
//! differential test keeps the two equal), in steps bounded by the diagram's size
//! instead of by the number of completions.

use std::collections::HashMap;

use super::hash::FxBuild;
use super::level::{LevelDiagram, TERMINALS};
use crate::model::{Factor, LevelTable};

/// Most steps one walk takes before it gives up (the caller then searches). A walk
/// visits each node at most once per edge into it, so a diagram the loader built
/// within [`crate::limits::MAX_DIAGRAM_WORK`] rarely needs more.
pub(crate) const MAX_RANGE_STEPS: u64 = 1 << 16;

/// One walk: the answers, the memo and the steps taken.
struct Walk<'a> {
    diagram: &'a LevelDiagram,
    factors: &'a [Factor],
    values: &'a [i64],
    known: &'a [bool],
    memo: HashMap<u32, (usize, usize), FxBuild>,
    steps: u64,
}

impl Walk<'_> {
    /// The (lowest, highest) level below `r`; `None` when the step budget runs out
    /// or an answer is outside its factor's classes.
    fn range(&mut self, r: u32) -> Option<(usize, usize)> {
        let Some(i) = r.checked_sub(TERMINALS) else {
            let level = LevelTable::level(u8::try_from(r).ok()?);
            return Some((level, level));
        };
        self.steps += 1;
        if self.steps > MAX_RANGE_STEPS {
            return None;
        }
        let at = usize::try_from(i).ok()?;
        let words = &self.diagram.words;
        let var = usize::try_from(*words.get(at)?).ok()?;
        if *self.known.get(var)? {
            let class = self
                .diagram
                .classes
                .class(self.factors, var, *self.values.get(var)?)?;
            return self.range(*words.get(at + 1 + class)?);
        }
        if let Some(&seen) = self.memo.get(&r) {
            return Some(seen);
        }
        let count = self.factors.get(var)?.classes.len();
        let mut acc: Option<(usize, usize)> = None;
        for c in 0..count {
            let (lo, hi) = self.range(*words.get(at + 1 + c)?)?;
            acc = Some(acc.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        let range = acc?;
        self.memo.insert(r, range);
        Some(range)
    }
}

impl LevelDiagram {
    /// The exact (lowest, highest) level over every completion of the factors not
    /// `known` (`values` holds the known answers' codes, by factor index); `None`
    /// after [`MAX_RANGE_STEPS`] steps, or for an answer outside its classes.
    pub(crate) fn level_range(
        &self,
        factors: &[Factor],
        values: &[i64],
        known: &[bool],
    ) -> Option<(usize, usize)> {
        let mut walk = Walk {
            diagram: self,
            factors,
            values,
            known,
            memo: HashMap::default(),
            steps: 0,
        };
        walk.range(self.root)
    }
}
