//! Arbitrary text as answers (JSON and YAML) for the bundled default ruleset.
#![no_main]

use std::sync::OnceLock;

use carelevel::{analysis, json, Ruleset};
use carelevel_fuzz::check_invariants;
use libfuzzer_sys::fuzz_target;

fn ruleset() -> &'static Ruleset {
    static RS: OnceLock<Ruleset> = OnceLock::new();
    RS.get_or_init(|| Ruleset::default_ruleset().expect("bundled ruleset compiles"))
}

fuzz_target!(|data: &[u8]| {
    let rs = ruleset();
    let text = String::from_utf8_lossy(data);
    for parsed in [rs.answers_from_json(&text), rs.answers_from_yaml(&text)] {
        match parsed {
            Ok(answers) => {
                check_invariants(rs, &answers);
                let _ = analysis::hinges(&answers);
            }
            Err(e) => assert!(!e.problems.is_empty(), "an error names its problems"),
        }
    }
    let doc = json::assess_json(rs, &text);
    assert!(doc.starts_with("{\"ok\":"), "{doc}");
});
