//! `carelevel::text`: what it shows never holds a character it escapes, is bounded by
//! its cap, and is the text itself when the text is ordinary. Core messages built from
//! arbitrary answers are safe to show in the same way.

use carelevel::limits::{MAX_EXCERPT_BYTES, MAX_MESSAGE_BYTES, MAX_PATH_BYTES};
use carelevel::text::{escape_for_display, needs_escape, Shown, CUT_SUFFIX_MAX_BYTES};
use carelevel::Ruleset;
use proptest::prelude::*;

/// Text with many characters the escaper cares about, among ordinary ones.
fn nasty_text() -> impl Strategy<Value = String> {
    let interesting = prop::sample::select(vec![
        '\u{0}',
        '\u{7}',
        '\u{1b}',
        '\n',
        '\r',
        '\t',
        '\u{7f}',
        '\u{85}',
        '\u{9b}',
        '\u{ad}',
        '\u{61c}',
        '\u{200b}',
        '\u{200d}',
        '\u{200e}',
        '\u{2028}',
        '\u{202a}',
        '\u{202e}',
        '\u{2066}',
        '\u{2069}',
        '\u{feff}',
        '\u{e0041}',
        'a',
        'é',
        '中',
        '\\',
        '{',
        '}',
        '…',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), interesting], 0..400)
        .prop_map(|chars| chars.into_iter().collect())
}

/// Letters (of several scripts), digits, punctuation and spaces: ordinary text.
fn ordinary_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,;:!?'\"`()\\[\\]{}<>=+*/\\\\_@#$%&|~^-]{0,80}|[éüßøÅçñ中文日本語한국어ЖжΩπ ]{0,40}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn shown_text_holds_no_escaped_character(text in nasty_text()) {
        for shown in [
            escape_for_display(&text, None).into_owned(),
            Shown::excerpt(&text).to_string(),
            Shown::capped(&text, 7).to_string(),
        ] {
            prop_assert!(!shown.chars().any(needs_escape), "{:?} -> {:?}", text, shown);
        }
    }

    #[test]
    fn shown_text_is_bounded_by_its_cap(text in nasty_text(), cap in 0usize..300) {
        let shown = escape_for_display(&text, Some(cap));
        prop_assert!(shown.len() <= cap + CUT_SUFFIX_MAX_BYTES, "{} > {cap}", shown.len());
        let excerpt = Shown::excerpt(&text).to_string();
        prop_assert!(excerpt.len() <= MAX_EXCERPT_BYTES + CUT_SUFFIX_MAX_BYTES);
        // Cut or whole: a cut one says how long the original was.
        if shown != escape_for_display(&text, None) {
            let suffix = format!("… ({} bytes)", text.len());
            prop_assert!(shown.ends_with(&suffix), "{shown:?}");
        }
    }

    #[test]
    fn shown_text_is_stable_when_shown_again(text in nasty_text()) {
        let once = escape_for_display(&text, None).into_owned();
        prop_assert_eq!(escape_for_display(&once, None), once.as_str());
        // An excerpt passes unchanged through a cap that leaves room for the suffix.
        let excerpt = Shown::excerpt(&text).to_string();
        let again = Shown::capped(&excerpt, MAX_EXCERPT_BYTES + CUT_SUFFIX_MAX_BYTES).to_string();
        prop_assert_eq!(again, excerpt);
    }

    #[test]
    fn ordinary_text_is_shown_as_it_is(text in ordinary_text()) {
        prop_assert_eq!(escape_for_display(&text, None), text.as_str());
        prop_assert_eq!(escape_for_display(&text, Some(1 << 20)), text.as_str());
        if text.len() <= MAX_EXCERPT_BYTES {
            prop_assert_eq!(Shown::excerpt(&text).to_string(), text);
        }
    }

    /// Whatever the keys and values of an answers record, its messages are safe to
    /// show and bounded.
    #[test]
    fn answer_messages_are_safe_to_show(key in nasty_text(), value in nasty_text()) {
        let rs = Ruleset::default_ruleset().unwrap();
        let record = serde_json::json!({ key.clone(): value.clone(), "severity": value }).to_string();
        for result in [
            rs.answers_from_json(&record).err(),
            rs.answers_from_json_record(&record, Some("id")).err().map(|e| e.0),
        ] {
            let Some(e) = result else { continue };
            for p in &e.problems {
                prop_assert!(!p.message.chars().any(needs_escape), "{:?}", p.message);
                prop_assert!(p.message.len() <= MAX_MESSAGE_BYTES + CUT_SUFFIX_MAX_BYTES);
                let factor = p.factor.as_deref().unwrap_or("");
                prop_assert!(!factor.chars().any(needs_escape), "{factor:?}");
                prop_assert!(factor.len() <= MAX_EXCERPT_BYTES + CUT_SUFFIX_MAX_BYTES);
            }
            prop_assert!(!e.to_string().chars().any(needs_escape));
        }
    }

    /// Whatever a ruleset's keys and values, its diagnostics are safe to show and bounded.
    #[test]
    fn ruleset_diagnostics_are_safe_to_show(key in nasty_text(), value in nasty_text()) {
        let yaml_quoted = |s: &str| serde_json::to_string(s).unwrap();
        let text = format!(
            "id: {}\nversion: \"1\"\nlevels: [{{id: {}, label: x, description: x}}]\n{}: 1\n",
            yaml_quoted(&value), yaml_quoted(&value), yaml_quoted(&key)
        );
        if let Err(e) = Ruleset::from_yaml(&text) {
            for d in &e.diagnostics {
                prop_assert!(!d.message.chars().any(needs_escape), "{:?}", d.message);
                prop_assert!(d.message.len() <= MAX_MESSAGE_BYTES + CUT_SUFFIX_MAX_BYTES);
                let path = d.path.as_deref().unwrap_or("");
                prop_assert!(!path.chars().any(needs_escape), "{path:?}");
                prop_assert!(path.len() <= MAX_PATH_BYTES + CUT_SUFFIX_MAX_BYTES);
            }
        }
    }
}

#[test]
fn the_escapes_are_the_documented_ones() {
    assert_eq!(
        escape_for_display("\u{1b}\u{0}\n\r\t\u{7f}\u{202e}\u{2066}", None),
        r"\u{1b}\u{0}\n\r\t\u{7f}\u{202e}\u{2066}"
    );
}
