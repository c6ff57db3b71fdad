//! Structured input: a small valid ruleset built from fuzzer-chosen parts, and
//! answers (some missing, a few invalid). Asserts the assessment invariants and
//! checks the missing-answer search against brute force.
#![no_main]

use arbitrary::Unstructured;
use carelevel_fuzz::{draw_answers, run_evaluate, Spec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(spec) = Spec::generate(&mut u) else {
        return;
    };
    let Ok(draws) = draw_answers(&mut u, &spec) else {
        return;
    };
    run_evaluate(&spec, &draws);
});
