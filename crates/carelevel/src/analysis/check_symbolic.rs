//! `check` on decision diagrams ([`crate::diagram`]): every finding from the
//! diagrams of the level, of each rule, flag and invariant condition, within
//! [`MAX_CHECK_DIAGRAM_WORK`] units of work, whatever the number of classes.
//!
//! The findings and their examples are those of the enumeration
//! ([`super::check_enum`]), which visits classes in index order (factor 0 slowest):
//! a finding's example is the first class there with the property, so here it is the
//! lexicographically first satisfying assignment in factor-index order
//! ([`Manager::first_in_order`]), although the diagrams test unscored factors first.
//! - A level is reached iff "the level is `l`" is not the false diagram.
//! - A rule fires where its condition holds and decides where, besides, the level is
//!   the rule's; a flag fires where its condition holds.
//! - The classes at the lowest level only because nothing fires: "no rule holds and the
//!   level is the lowest", counted by class and by complete answer combination.
//! - An invariant fails where it applies and its expectation of the level-table
//!   entry (level and refer bit) does not hold.
//! - Factor `f` is not monotone at class `c` where the level with `f = c + 1` is
//!   below the level with `f = c` (the level diagram restricted twice, compared by
//!   [`Op::Below`]); the example is the first such class over every `c`.

use super::check::{totals, widths, CheckMethod, Count, Defaulted, Facts};
use super::space::Space;
use crate::diagram::condition::Conditions;
use crate::diagram::manager::Manager;
use crate::diagram::order::Order;
use crate::diagram::{level, Op, Ref, TooLarge};
use crate::model::{LevelTable, Ruleset};

/// Most work the symbolic `check` may do (one unit per step of a diagram operation,
/// per child of every node made and per node a witness search visits: 8 Mi). The
/// bundled default ruleset needs under 10 Ki and the 30-question × 5-answer ruleset of
/// the default's shape (`benches/support/default_shape.rs`) under 300 Ki (a test keeps
/// both true). Spending all of it and refusing took 1.2 to 1.8 s on a 2-core machine
/// under a load of 4 to 5 (`cargo bench --bench analysis -- check_refused`). Past it `check`
/// enumerates when the space is within the enumeration's limits, and refuses
/// otherwise, naming the diagram that grew ([`super::AnalysisError::DiagramTooLarge`]).
pub const MAX_CHECK_DIAGRAM_WORK: u64 = 1 << 23;

/// The budget ran out while building the diagram of `what`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grew {
    /// What was being built: `the condition of rule `r``, `the level diagram`, ...
    pub(crate) what: String,
}

/// Attach what was being built to a spent budget.
fn at<T>(r: Result<T, TooLarge>, what: impl FnOnce() -> String) -> Result<T, Grew> {
    r.map_err(|_| Grew { what: what() })
}

/// The diagrams `check` reads, in one manager.
struct Symbolic<'a> {
    rs: &'a Ruleset,
    m: Manager,
    conditions: Conditions<'a>,
    /// Per factor (index order): its position in the variable order.
    visit: Vec<usize>,
}

impl Symbolic<'_> {
    /// The first answer set (class per factor, index order) where `r` holds.
    fn first(&mut self, r: Ref, what: impl FnOnce() -> String) -> Result<Option<Vec<usize>>, Grew> {
        let visit = std::mem::take(&mut self.visit);
        let found = self.m.first_in_order(r, &visit);
        self.visit = visit;
        at(found, what)
    }

    fn condition(
        &mut self,
        node: crate::model::NodeId,
        what: impl FnOnce() -> String,
    ) -> Result<Ref, Grew> {
        at(self.conditions.build(&mut self.m, node), what)
    }
}

/// The facts of `check` for `rs` (its `space`) from its diagrams, or what grew past
/// `budget`.
pub(crate) fn facts(rs: &Ruleset, space: &Space, budget: u64) -> Result<Facts, Grew> {
    let order = Order::of(rs);
    let visit = (0..rs.factors.len())
        .map(|f| order.position_of(f))
        .collect();
    let mut s = Symbolic {
        rs,
        m: level::manager(rs, &order, budget),
        conditions: Conditions::new(&rs.conditions, &rs.factors, &order),
        visit,
    };
    let mut rule_conditions = Vec::with_capacity(rs.rules.len());
    for rule in &rs.rules {
        let c = s.condition(rule.when, || format!("the condition of rule `{}`", rule.id))?;
        rule_conditions.push(c);
    }
    let mut flag_fires = Vec::with_capacity(rs.flags.len());
    for flag in &rs.flags {
        let c = s.condition(flag.when, || format!("the condition of flag `{}`", flag.id))?;
        flag_fires.push(c != Ref::FALSE);
    }
    let entries = at(
        level::entries(rs, &mut s.m, &mut s.conditions, &order),
        || {
            "the level diagram (every rule, the score bands and the refer flags combined)"
                .to_owned()
        },
    )?;
    let mut is_level = Vec::with_capacity(rs.levels.len());
    for (l, level) in rs.levels.iter().enumerate() {
        let r = at(
            s.m.map_terminals(entries, |e| {
                u8::from(usize::from(e & !LevelTable::REFER) == l)
            }),
            || format!("the answer sets at level `{}`", level.id),
        )?;
        is_level.push(r);
    }
    let mut rule_decides = Vec::with_capacity(rs.rules.len());
    let mut rule_first_fires = Vec::with_capacity(rs.rules.len());
    for (rule, &c) in rs.rules.iter().zip(&rule_conditions) {
        let what = || format!("the answer sets rule `{}` decides", rule.id);
        let at_level = is_level.get(rule.level).copied().unwrap_or(Ref::FALSE);
        let decides = at(s.m.apply(Op::And, c, at_level), what)? != Ref::FALSE;
        rule_decides.push(decides);
        // Only a rule that never decides is reported, with where it first fires.
        rule_first_fires.push(if decides { None } else { s.first(c, what)? });
    }
    let default = defaulted(&mut s, space, &rule_conditions, is_level.first().copied())?;
    let first_violation = violations(&mut s, entries)?;
    let first_drop = drops(&mut s, entries)?;
    let (classes, combinations) = totals(space);
    Ok(Facts {
        method: CheckMethod::Diagram,
        classes,
        combinations,
        level_reached: is_level.iter().map(|&r| r != Ref::FALSE).collect(),
        rule_decides,
        rule_first_fires,
        flag_fires,
        default,
        first_violation,
        first_drop,
    })
}

/// The answer sets at the lowest level only because no rule fires (never with scoring).
fn defaulted(
    s: &mut Symbolic<'_>,
    space: &Space,
    rules: &[Ref],
    lowest: Option<Ref>,
) -> Result<Option<Defaulted>, Grew> {
    let (Some(lowest), None) = (lowest, s.rs.scoring.as_ref()) else {
        return Ok(None);
    };
    let what = || "the answer sets no rule covers".to_owned();
    let mut any = Ref::FALSE;
    for &c in rules {
        any = at(s.m.apply(Op::Or, any, c), what)?;
    }
    let none = at(s.m.not(any), what)?;
    let region = at(s.m.apply(Op::And, none, lowest), what)?;
    let Some(first) = s.first(region, what)? else {
        return Ok(None);
    };
    let by_position = |w: Vec<Vec<u128>>| -> Vec<Vec<u128>> {
        (0..w.len())
            .map(|p| {
                let f = s.visit.iter().position(|&q| q == p).unwrap_or(p);
                w.get(f).cloned().unwrap_or_default()
            })
            .collect()
    };
    let ones: Vec<Vec<u128>> = space
        .factors
        .iter()
        .map(|f| vec![1; f.classes.len()])
        .collect();
    let (ones, widths) = (by_position(ones), by_position(widths(space)));
    Ok(Some(Defaulted {
        classes: Count::from_checked(s.m.weighted_count(region, &ones)),
        combinations: Count::from_checked(s.m.weighted_count(region, &widths)),
        first,
    }))
}

/// Per invariant, the first answer set where it fails.
fn violations(s: &mut Symbolic<'_>, entries: Ref) -> Result<Vec<Option<Vec<usize>>>, Grew> {
    let rs = s.rs;
    let mut out = Vec::with_capacity(rs.invariants.len());
    for inv in &rs.invariants {
        let what = || format!("invariant `{}`", inv.id);
        let applies = match inv.when {
            Some(w) => s.condition(w, what)?,
            None => Ref::TRUE,
        };
        let ok = at(
            s.m.map_terminals(entries, |e| {
                let level = usize::from(e & !LevelTable::REFER);
                let refer = e & LevelTable::REFER != 0;
                let level_ok = inv
                    .level_bounds
                    .is_none_or(|(lo, hi)| lo <= level && level <= hi);
                u8::from(level_ok && inv.refer.is_none_or(|want| want == refer))
            }),
            what,
        )?;
        let fails = at(s.m.not(ok), what)?;
        let fails = at(s.m.apply(Op::And, applies, fails), what)?;
        out.push(s.first(fails, what)?);
    }
    Ok(out)
}

/// Per factor, the first answer set where raising it by one class lowers the level.
fn drops(s: &mut Symbolic<'_>, entries: Ref) -> Result<Vec<Option<Vec<usize>>>, Grew> {
    let rs = s.rs;
    let mut out = Vec::with_capacity(rs.factors.len());
    for (f, factor) in rs.factors.iter().enumerate() {
        let what = || format!("the monotonicity of question `{}`", factor.id);
        let var = s.visit.get(f).copied().unwrap_or(usize::MAX);
        let mut bad = Ref::FALSE;
        for c in 0..factor.classes.len().saturating_sub(1) {
            let here = at(s.m.restrict(entries, var, c), what)?;
            let up = at(s.m.restrict(entries, var, c + 1), what)?;
            let lower = at(s.m.apply(Op::Below, up, here), what)?;
            if lower == Ref::FALSE {
                continue;
            }
            let at_c = at(s.m.leaf(var, |x| u8::from(x == c)), what)?;
            let here_lower = at(s.m.apply(Op::And, at_c, lower), what)?;
            bad = at(s.m.apply(Op::Or, bad, here_lower), what)?;
        }
        out.push(s.first(bad, what)?);
    }
    Ok(out)
}
