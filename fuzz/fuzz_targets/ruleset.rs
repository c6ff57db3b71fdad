//! Arbitrary bytes as ruleset text: compile, and on success run the whole-space
//! check (small spaces), a self-diff, and an all-missing assessment.
#![no_main]

use carelevel::{analysis, testing::TestSuite, Ruleset};
use carelevel_fuzz::{check_invariants, space_size};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Test files share the YAML front end.
    let _ = TestSuite::from_yaml(&text);
    let rs = match Ruleset::from_yaml(&text) {
        Ok(rs) => rs,
        Err(e) => {
            assert!(!e.diagnostics.is_empty(), "an error names its problems");
            return;
        }
    };
    assert!(!rs.levels().is_empty() && !rs.factors().is_empty());
    let size = space_size(&rs);
    if size <= 20_000 {
        let report = analysis::check(&rs, false);
        if let Ok(report) = &report {
            assert_eq!(u128::from(report.classes), size);
        }
        if size <= 2_000 {
            if let Ok(d) = analysis::diff(&rs, &rs) {
                assert!(
                    !d.has_changes(),
                    "a ruleset differs from itself: {}",
                    d.summary()
                );
            }
        }
    }
    // Every question unanswered: refused (`error` policy, too many missing) or assessed.
    check_invariants(&rs, &rs.new_answers());
});
