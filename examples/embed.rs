//! Using carelevel from another program: compile a ruleset once, share it across
//! threads, evaluate answers from typed values, JSON or YAML.
//!
//! Run: `cargo run -p carelevel --example embed`
#![allow(
    clippy::print_stdout,
    reason = "an example shows its results on stdout"
)]

use std::error::Error;
use std::thread;

use carelevel::{Ruleset, Value};

fn main() -> Result<(), Box<dyn Error>> {
    // 1. Compile once. `Ruleset` is Send + Sync and never mutated by evaluation.
    let rules = Ruleset::default_ruleset()?;
    let meta = rules.metadata();
    let mut out = String::new();
    out.push_str(&format!(
        "ruleset {} {} (sha256 {})\n",
        meta.id,
        meta.version,
        rules.sha256().get(..12).unwrap_or_default()
    ));

    // 2. Typed answers, built in code. Every value is checked against the scale.
    let mut answers = rules.new_answers();
    answers
        .set("severity", "moderate")?
        .set("withdrawal_risk", "low")?
        .set("medical", "none")?
        .set("housing", "stable")?
        .set("support", "limited")?
        .set("harm_risk", "none")?
        .set("mental_health", "mild")?
        .set("step_down_from_inpatient", Value::Boolean(false))?;
    let assessment = rules.assess(&answers)?;
    out.push_str(&format!(
        "typed answers -> {} (deciding: {})\n",
        assessment.level.id,
        assessment.deciding_rules.join(", ")
    ));

    // A wrong answer is an error that names the factor and what is allowed.
    if let Err(e) = rules.new_answers().set("housing", "castle") {
        out.push_str(&format!("rejected: {e}\n"));
    }

    // 3. Share the compiled ruleset across threads by reference; evaluate in bulk.
    let people = [
        r#"{"severity":"mild","withdrawal_risk":"none","medical":"none","housing":"stable","support":"strong","harm_risk":"none","mental_health":"none"}"#,
        r#"{"severity":"severe","withdrawal_risk":"high","medical":"stable","housing":"unstable","support":"none","harm_risk":"low","mental_health":"moderate"}"#,
        r#"{"severity":"moderate","withdrawal_risk":"moderate","medical":"none","housing":"stable","support":"strong","mental_health":"none"}"#,
        r#"{"severity":"moderate","harm_risk":"imminent","withdrawal_risk":"none","medical":"none","housing":"stable","support":"strong","mental_health":"none"}"#,
    ];
    let results: Vec<String> = thread::scope(|scope| {
        let handles: Vec<_> = people
            .chunks(2)
            .map(|chunk| {
                let rules = &rules;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|json| match rules.answers_from_json(json) {
                            Ok(a) => match rules.assess(&a) {
                                Ok(x) => format!(
                                    "{:<12} refer={} needs_review={}",
                                    x.level.id, x.refer, x.needs_review
                                ),
                                Err(e) => format!("not assessed: {e}"),
                            },
                            Err(e) => format!("bad answers: {e}"),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (i, r) in results.iter().enumerate() {
        out.push_str(&format!("person {}: {r}\n", i + 1));
    }

    // 4. The level alone (the allocation-free fast path), e.g. for dashboards.
    let level = rules.level(&answers)?;
    out.push_str(&format!("fast path -> {}\n", level.label));

    // 5. JSON in, JSON out: the seam bindings for other languages use.
    let json = carelevel::json::assess_json(&rules, r#"{"severity": "extreme"}"#);
    out.push_str(&format!("json api -> {json}\n"));

    print!("{out}");
    Ok(())
}
