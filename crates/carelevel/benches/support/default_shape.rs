//! A ruleset of the bundled default's shape, of any size: three levels, ordinal
//! questions, single-threshold rules to the middle level, pairs (and a pair with an
//! `any`) to the top level, refer, review and info flags on single answers, and
//! invariants of the default's kinds (refer when, never below the top when, never
//! the lowest when). Shared by the `check_30x5` benchmark and the core's tests.

/// The ruleset text: `questions` questions of `answers` answers (at least 3 each).
pub fn default_shape(questions: usize, answers: usize) -> String {
    let top = answers - 1;
    let values: Vec<String> = (0..answers).map(|a| format!("a{a}")).collect();
    let mut t = String::from(
        "id: default_shape\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: outpatient, label: O, description: d}\n  - {id: iop, label: I, description: d}\n  - {id: residential, label: R, description: d}\nfactors:\n",
    );
    for q in 0..questions {
        t.push_str(&format!(
            "  - {{id: q{q}, kind: ordinal, question: Q, values: [{}]}}\n",
            values.join(", ")
        ));
    }
    t.push_str("rules:\n");
    let next = |q: usize, k: usize| (q + k) % questions;
    for q in 0..questions {
        t.push_str(&format!(
            "  - {{id: q{q}_iop, when: {{q{q}: {{at_least: a{}}}}}, level: iop, because: B}}\n",
            answers / 2
        ));
        t.push_str(&format!(
            "  - {{id: q{q}_pair_residential, when: {{all: [{{q{q}: {{at_least: a{top}}}}}, {{q{}: {{at_least: a{}}}}}]}}, level: residential, because: B}}\n",
            next(q, 1),
            top - 1
        ));
        if q % 3 == 0 {
            t.push_str(&format!(
                "  - {{id: q{q}_any_residential, when: {{all: [{{q{q}: {{at_least: a{}}}}}, {{any: [{{q{}: {{at_least: a{}}}}}, {{q{}: a{top}}}]}}]}}, level: residential, because: B}}\n",
                top - 1,
                next(q, 2),
                top - 1,
                next(q, 3)
            ));
        }
        if q % 5 == 0 {
            t.push_str(&format!(
                "  - {{id: q{q}_top_residential, when: {{q{q}: a{top}}}, level: residential, because: B}}\n"
            ));
        }
    }
    t.push_str("flags:\n");
    for q in (0..questions).step_by(5) {
        t.push_str(&format!(
            "  - {{id: refer_q{q}, kind: refer, when: {{q{q}: a{top}}}, message: M}}\n"
        ));
        t.push_str(&format!(
            "  - {{id: review_q{}, kind: review, when: {{q{}: {{at_least: a{}}}}}, message: M}}\n",
            next(q, 1),
            next(q, 1),
            top - 1
        ));
    }
    t.push_str("  - {id: info_q1_lowest, kind: info, when: {q1: a0}, message: M}\n");
    t.push_str("invariants:\n");
    for q in (0..questions).step_by(5) {
        t.push_str(&format!(
            "  - {{id: q{q}_top_refers, when: {{q{q}: a{top}}}, expect: {{refer: true}}}}\n"
        ));
        t.push_str(&format!(
            "  - {{id: q{q}_top_never_below_residential, when: {{q{q}: a{top}}}, expect: {{level: {{at_least: residential}}}}}}\n"
        ));
    }
    t.push_str(&format!(
        "  - {{id: q0_mid_never_outpatient, when: {{q0: {{at_least: a{}}}}}, expect: {{level: {{at_least: iop}}}}}}\n",
        answers / 2
    ));
    // Fails: a lone top answer to q1 (a question with no top rule) is only IOP.
    t.push_str(&format!(
        "  - {{id: q1_top_never_below_residential, when: {{q1: a{top}}}, expect: {{level: {{at_least: residential}}}}}}\n"
    ));
    t
}
