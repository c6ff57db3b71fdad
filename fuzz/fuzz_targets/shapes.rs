//! Generated rulesets of the shapes that broke the size and work limits (issue 8):
//! a UTF-8 BOM directly before the first key, alias fan-out (one large anchor reused
//! by many rules, and nested anchors of anchors), and heavy but valid rulesets (many
//! integer factors with many bands, hundreds of two-factor rules, half of them also
//! checked over the whole answer space), and random 3-CNF rules over up to 60 `ask`
//! booleans assessed with every answer missing. The fuzzer chooses the sizes; every
//! outcome must be a clean result, a located error, or a refusal by a work budget.
#![no_main]

use carelevel::{limits, Ruleset, DEFAULT_RULESET};
use carelevel_fuzz::check_invariants;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

const SIX_LEVELS: &str = include_str!("../../examples/rulesets/six-levels.yaml");

const HEAD: &str = "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  \
    - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\n";

fn booleans(n: usize) -> String {
    let mut s = String::from("factors:\n");
    for i in 0..n {
        s.push_str(&format!("  - {{id: f{i}, question: q, kind: boolean}}\n"));
    }
    s
}

/// One anchor on an `any` of `leaves` comparisons, reused by `rules - 1` rules.
fn fan_out(u: &mut Unstructured<'_>) -> Result<(String, u64)> {
    let leaves = u.int_in_range(1..=6_000usize)?;
    let rules = u.int_in_range(1..=12_000usize)?;
    let mut s = format!("{HEAD}{}rules:\n", booleans(10));
    let list: Vec<String> = (0..leaves).map(|j| format!("{{f{}: true}}", j % 10)).collect();
    s.push_str(&format!(
        "  - id: r0\n    level: high\n    because: b\n    when: &b {{any: [{}]}}\n",
        list.join(", ")
    ));
    for r in 1..rules {
        s.push_str(&format!("  - id: r{r}\n    level: high\n    because: b\n    when: *b\n"));
    }
    // Nodes of the expanded conditions alone (3 per leaf, 3 for the `any`).
    Ok((s, (leaves as u64 * 3 + 3) * rules as u64))
}

/// Anchors of anchors: `depth` levels of `width` aliases each, under `sources`.
fn nested(u: &mut Unstructured<'_>) -> Result<(String, u64)> {
    let depth = u.int_in_range(1..=12u32)?;
    let width = u.int_in_range(2..=12u64)?;
    let mut s = String::from("id: t\nsources:\n  - &a0 [x, x]\n");
    for d in 1..depth {
        let items: Vec<String> = (0..width).map(|_| format!("*a{}", d - 1)).collect();
        s.push_str(&format!("  - &a{d} [{}]\n", items.join(", ")));
    }
    // The last level alone expands to width^(depth-1) * 3 nodes.
    let last = width.saturating_pow(depth - 1).saturating_mul(3);
    Ok((s, last))
}

/// Integer factors cut into many bands, and many rules over two of them.
fn heavy(u: &mut Unstructured<'_>) -> Result<String> {
    let factors = u.int_in_range(1..=4usize)?;
    let bands = u.int_in_range(1..=41usize)?;
    let rules = u.int_in_range(1..=300usize)?;
    let mut s = format!("{HEAD}factors:\n");
    for i in 0..factors {
        s.push_str(&format!(
            "  - id: n{i}\n    question: q\n    kind: integer\n    min: 0\n    max: {}\n    bands:\n",
            bands * 10 - 1
        ));
        for b in 0..bands {
            s.push_str(&format!("      - {{id: b{b}, min: {}, max: {}}}\n", b * 10, b * 10 + 9));
        }
    }
    s.push_str("rules:\n");
    for r in 0..rules {
        let i = u.int_in_range(0..=factors - 1)?;
        let j = u.int_in_range(0..=factors - 1)?;
        let x = u.int_in_range(0..=bands * 10 - 1)?;
        let b = u.int_in_range(0..=bands - 1)?;
        s.push_str(&format!(
            "  - {{id: r{r}, level: high, because: b, when: {{all: [{{n{i}: {{at_least: {x}}}}}, {{n{j}: b{b}}}]}}}}\n"
        ));
    }
    Ok(s)
}

/// Random 3-CNF conditions over many `ask` booleans: with every answer missing, the
/// level range is a satisfiability search that the work budget must bound.
fn cnf(u: &mut Unstructured<'_>) -> Result<String> {
    let booleans = u.int_in_range(3..=60usize)?;
    let rules = u.int_in_range(1..=20usize)?;
    let clauses = u.int_in_range(1..=40usize)?;
    let mut s = format!("{HEAD}factors:\n");
    for f in 0..booleans {
        s.push_str(&format!("  - {{id: b{f}, kind: boolean, question: q, missing: ask}}\n"));
    }
    s.push_str("rules:\n");
    for r in 0..rules {
        let mut all = Vec::with_capacity(clauses);
        for _ in 0..clauses {
            let mut lits = Vec::with_capacity(3);
            for _ in 0..3 {
                let b = u.int_in_range(0..=booleans - 1)?;
                let v: bool = u.arbitrary()?;
                lits.push(format!("{{b{b}: {v}}}"));
            }
            all.push(format!("{{any: [{}]}}", lits.join(", ")));
        }
        s.push_str(&format!(
            "  - {{id: r{r}, level: high, because: b, when: {{all: [{}]}}}}\n",
            all.join(", ")
        ));
    }
    Ok(s)
}

/// The whole-space check finishes or is refused by its work budget, up front.
fn check_or_refuse(rs: &Ruleset) {
    match carelevel::analysis::check(rs, false) {
        Ok(_) => {}
        Err(carelevel::analysis::AnalysisError::TooMuchWork { work, limit, .. }) => {
            assert!(work > limit, "refused work {work} within the limit {limit}");
        }
        Err(carelevel::analysis::AnalysisError::TooLarge { .. }) => {}
        Err(e) => panic!("unexpected analysis error: {e}"),
    }
}

fn located(text: &str) -> std::result::Result<Ruleset, Vec<carelevel::Diagnostic>> {
    Ruleset::from_yaml(text).map_err(|e| {
        assert!(!e.diagnostics.is_empty(), "an error names its problems");
        e.diagnostics
    })
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    match u.int_in_range(0..=4u8)? {
        0 if std::env::var_os("SHAPES_SKIP_BOM").is_none() => {
            // A BOM directly before the first key (or before a comment) is no error.
            let base = if u.arbitrary()? { DEFAULT_RULESET } else { SIX_LEVELS };
            let body: Vec<&str> = base
                .lines()
                .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
                .collect();
            let text = if u.arbitrary()? {
                format!("\u{feff}{base}")
            } else {
                format!("\u{feff}{}\n", body.join("\n"))
            };
            let plain = text.trim_start_matches('\u{feff}');
            assert_eq!(
                located(&text).is_ok(),
                located(plain).is_ok(),
                "a UTF-8 BOM changed the outcome"
            );
        }
        0 | 1 => {
            let (text, conditions) = fan_out(u)?;
            match located(&text) {
                Ok(rs) => {
                    check_invariants(&rs, &rs.new_answers());
                }
                Err(d) => assert!(d.iter().all(|d| d.location.is_some()), "{d:?}"),
            }
            if conditions > limits::MAX_YAML_NODES {
                let d = located(&text).err().unwrap_or_default();
                assert!(
                    d.iter().any(|d| d.message.contains("aliases are expanded")),
                    "an expansion past the budget was not refused as such: {d:?}"
                );
            }
        }
        2 => {
            let (text, last) = nested(u)?;
            if let Err(d) = located(&text) {
                assert!(d.iter().all(|d| d.location.is_some()), "{d:?}");
                if last > limits::MAX_YAML_NODES {
                    assert!(d.iter().any(|d| d.message.contains("aliases are expanded")), "{d:?}");
                }
            }
        }
        3 => {
            let text = heavy(u)?;
            let analyse: bool = u.arbitrary()?;
            match located(&text) {
                Ok(rs) => {
                    check_invariants(&rs, &rs.new_answers());
                    if analyse {
                        check_or_refuse(&rs);
                    }
                }
                Err(d) => assert!(d.iter().all(|d| d.location.is_some()), "{d:?}"),
            }
        }
        _ => {
            // Every answer missing: finishes, or the assessment is refused by its budget.
            let text = cnf(u)?;
            match located(&text) {
                Ok(rs) => {
                    check_invariants(&rs, &rs.new_answers());
                }
                Err(d) => assert!(d.iter().all(|d| d.location.is_some()), "{d:?}"),
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
