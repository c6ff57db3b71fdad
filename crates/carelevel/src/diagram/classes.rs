//! The class of an answer, found for evaluation by one lookup: a table from each
//! value of a factor to its class index, for every factor whose values are few
//! (ordinal, boolean, an integer range of at most [`MAX_DIRECT`] values); a
//! binary search over the class representatives otherwise.

use crate::model::{Factor, FactorKind};

/// Most values of an integer factor that get a direct table.
const MAX_DIRECT: i64 = 4_096;

/// Per factor: the first value and how many values its table covers (`len == 0`:
/// no table, search), and where the table starts in [`ClassMap::classes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Direct {
    min: i64,
    len: u64,
    start: usize,
}

/// Value → class index for every factor of a ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClassMap {
    direct: Vec<Direct>,
    /// The class index of every value of every factor with a table, factor after factor.
    classes: Vec<u16>,
}

impl ClassMap {
    /// The map of `factors`.
    pub(crate) fn new(factors: &[Factor]) -> ClassMap {
        let mut direct = Vec::with_capacity(factors.len());
        let mut classes = Vec::new();
        for f in factors {
            let (min, max) = match &f.kind {
                FactorKind::Ordinal { values } => (0, values.len() as i64 - 1),
                FactorKind::Boolean => (0, 1),
                FactorKind::Integer { min, max, .. } => (*min, *max),
            };
            let fits = f.classes.len() <= usize::from(u16::MAX)
                && max.checked_sub(min).is_some_and(|n| n < MAX_DIRECT);
            if !fits {
                direct.push(Direct {
                    min,
                    len: 0,
                    start: 0,
                });
                continue;
            }
            let start = classes.len();
            for v in min..=max {
                classes.push(u16::try_from(f.class_of(v)).unwrap_or(u16::MAX));
            }
            direct.push(Direct {
                min,
                len: (max - min + 1) as u64,
                start,
            });
        }
        ClassMap { direct, classes }
    }

    /// The class index of answer `code` to factor `var`, or `None` when it is
    /// outside the factor's answers (or classes).
    #[inline]
    pub(crate) fn class(&self, factors: &[Factor], var: usize, code: i64) -> Option<usize> {
        let d = self.direct.get(var)?;
        if d.len != 0 {
            let offset = code.wrapping_sub(d.min) as u64;
            if offset >= d.len {
                return None;
            }
            return self
                .classes
                .get(d.start + offset as usize)
                .map(|&c| usize::from(c));
        }
        let factor = factors.get(var)?;
        let class = factor.class_of(code);
        (class < factor.classes.len()).then_some(class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ruleset;

    #[test]
    fn the_map_gives_class_of_for_every_answer() {
        let rs = Ruleset::from_yaml(include_str!(
            "../../../../examples/rulesets/six-levels.yaml"
        ))
        .unwrap();
        let map = ClassMap::new(&rs.factors);
        for (var, f) in rs.factors.iter().enumerate() {
            let (min, max) = match &f.kind {
                FactorKind::Ordinal { values } => (0, values.len() as i64 - 1),
                FactorKind::Boolean => (0, 1),
                FactorKind::Integer { min, max, .. } => (*min, *max),
            };
            for v in min..=max {
                assert_eq!(
                    map.class(&rs.factors, var, v),
                    Some(f.class_of(v)),
                    "{} {v}",
                    f.id
                );
            }
            assert_eq!(map.class(&rs.factors, var, max + 1), None);
            assert_eq!(map.class(&rs.factors, var, min - 1), None);
        }
        assert_eq!(map.class(&rs.factors, rs.factors.len(), 0), None);
    }
}
