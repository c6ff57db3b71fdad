//! Ruleset and answer parsing never panics, whatever the text.

use carelevel::{Ruleset, DEFAULT_RULESET};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = Ruleset::from_yaml(&text);
        let rs = Ruleset::default_ruleset().unwrap();
        let _ = rs.answers_from_json(&text);
        let _ = rs.answers_from_yaml(&text);
        let _ = carelevel::testing::TestSuite::from_yaml(&text);
    }

    /// Small edits of a valid ruleset: compile or report located errors, never panic.
    #[test]
    fn edited_default_never_panics(edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..3, any::<char>()), 1..6)) {
        let mut text: Vec<char> = DEFAULT_RULESET.chars().collect();
        for (at, op, c) in edits {
            let i = at.index(text.len().max(1));
            match op {
                0 if !text.is_empty() => { text.remove(i.min(text.len() - 1)); }
                1 => text.insert(i.min(text.len()), c),
                _ if !text.is_empty() => { let j = i.min(text.len() - 1); text[j] = c; }
                _ => {}
            }
        }
        let text: String = text.into_iter().collect();
        if let Err(e) = Ruleset::from_yaml(&text) {
            prop_assert!(!e.diagnostics.is_empty());
        }
    }
}
