//! Assessment → CDS Hooks 2.0 card, docs/fhir.md ("CDS Hooks card").
//!
//! - `summary`: fewer than [`SUMMARY_MAX_CHARS`] characters **by construction**: a fixed
//!   prefix, the level label cut to [`LABEL_MAX_CHARS`] characters (with `…`, on a
//!   character boundary), and fixed suffixes for review and refer.
//! - `indicator`: `critical` when a `refer` flag fired, else `warning` when the result
//!   needs review, else `info`.
//! - `source.label`: the ruleset's title, id and version; `source.url` when the
//!   ruleset's `url:` is http(s).
//! - `detail`: GitHub-flavoured markdown: level, why, each fired rule with its
//!   rationale and source, each dimension's one-line summary (when the ruleset declares
//!   dimensions), flags, missing answers with their allowed answers, and the
//!   decision-support notice. Text from the ruleset is escaped ([`escape_markdown`]),
//!   so a rule's `because:` cannot make a link, an image, HTML or a heading.
//! - `overrideReasons`: the fixed [`OVERRIDE_REASONS`] as Codings (with `display`)
//!   in the ruleset's `override-reason` system.
//! - `uuid`: supplied by the caller (the mapping has no random source).

use carelevel::{Assessment, Basis, FlagKind, Ruleset};
use serde_json::{json, Map, Value};

use crate::canonical::Canonical;

/// CDS Hooks 2.0: `summary` "SHALL be less than a 140-character limit".
pub const SUMMARY_MAX_CHARS: usize = 140;

/// The most characters of the level label that go into the summary.
pub const LABEL_MAX_CHARS: usize = 60;

/// The fixed reasons a clinician may give for not following the card: (code, display).
pub const OVERRIDE_REASONS: [(&str, &str); 5] = [
    ("clinical-judgement", "Clinical judgement differs"),
    ("patient-preference", "Patient preference"),
    ("availability", "Recommended level not available"),
    ("insurance", "Insurance or funding constraint"),
    ("other", "Other reason"),
];

const SUMMARY_PREFIX: &str = "Suggested level of care: ";
const SUMMARY_REVIEW: &str = " (needs clinician review)";
const SUMMARY_REFER: &str = "; refer first";

/// What the caller supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardInput {
    /// The card's `uuid`.
    pub uuid: String,
}

/// A card the mapping refuses to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// The uuid is empty.
    #[error(
        "the card uuid is empty: expected a UUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    )]
    Uuid,
    /// The assessment was not made with this ruleset.
    #[error("the assessment is of ruleset `{assessment}` but the card is for `{ruleset}`")]
    ForeignAssessment {
        /// The assessment's ruleset id.
        assessment: String,
        /// The ruleset's id.
        ruleset: String,
    },
}

/// The card's `indicator`.
pub fn indicator(a: &Assessment<'_>) -> &'static str {
    if a.refer {
        "critical"
    } else if a.needs_review {
        "warning"
    } else {
        "info"
    }
}

/// `text` cut to at most `max` characters, ending in `…` when it was cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// The card's `summary`; always fewer than [`SUMMARY_MAX_CHARS`] characters.
pub fn summary(a: &Assessment<'_>) -> String {
    // Line breaks and other controls would not survive a one-line summary.
    let label: String = a
        .level
        .label
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut s = format!(
        "{SUMMARY_PREFIX}{}",
        truncate_chars(label.trim(), LABEL_MAX_CHARS)
    );
    if a.needs_review {
        s.push_str(SUMMARY_REVIEW);
    }
    if a.refer {
        s.push_str(SUMMARY_REFER);
    }
    s
}

/// ASCII punctuation that no CommonMark or GitHub-flavoured markdown construct starts
/// or ends with; left as is so that rationales stay readable.
const INERT_PUNCTUATION: &[char] = &[',', ';', '?', '\'', '"', '%', '='];

/// `text` with every ASCII punctuation character except [`INERT_PUNCTUATION`]
/// backslash-escaped and every line break and other control character turned into a
/// space, so that in CommonMark / GitHub-flavoured markdown it is plain text: no
/// emphasis, link, image, autolink (`<...>`, `www.`, `http:`, `a@b`), raw HTML,
/// entity, code span, table cell or block (heading, list, quote).
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for c in text.chars() {
        if c.is_ascii_punctuation() && !INERT_PUNCTUATION.contains(&c) {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// The CDS Hooks card for `assessment`, made with `ruleset`.
pub fn cds_card(
    ruleset: &Ruleset,
    assessment: &Assessment<'_>,
    input: &CardInput,
) -> Result<Value, CardError> {
    if assessment.provenance.ruleset_sha256 != ruleset.sha256() {
        return Err(CardError::ForeignAssessment {
            assessment: assessment.provenance.ruleset_id.to_string(),
            ruleset: ruleset.metadata().id.clone(),
        });
    }
    if input.uuid.trim().is_empty() {
        return Err(CardError::Uuid);
    }
    let canonical = Canonical::of(ruleset);
    let meta = ruleset.metadata();
    let mut source = Map::new();
    source.insert(
        "label".into(),
        json!(format!("{} ({} {})", meta.title, meta.id, meta.version)),
    );
    if let Some(url) = &meta.url {
        if url.starts_with("https://") || url.starts_with("http://") {
            source.insert("url".into(), json!(url));
        }
    }
    let reasons: Vec<Value> = OVERRIDE_REASONS
        .iter()
        .map(|(code, display)| {
            json!({ "system": canonical.override_reasons(), "code": code, "display": display })
        })
        .collect();
    Ok(json!({
        "uuid": input.uuid,
        "summary": summary(assessment),
        "indicator": indicator(assessment),
        "detail": detail(ruleset, assessment),
        "source": Value::Object(source),
        "overrideReasons": reasons,
    }))
}

fn basis_text(basis: Basis) -> &'static str {
    match basis {
        Basis::Rules => "the deciding rules below demand it",
        Basis::Score => "the score band demands it",
        Basis::RulesAndScore => "the deciding rules below and the score band demand it",
        Basis::LowestLevel => "nothing demands more: it is the least intensive level",
        Basis::MissingAnswers => {
            "missing answers could demand it; no answered rule does (the highest level they leave open is recommended)"
        }
    }
}

fn kind_text(kind: FlagKind) -> &'static str {
    match kind {
        FlagKind::Refer => "Refer",
        FlagKind::Review => "Review",
        FlagKind::Info => "Info",
    }
}

/// The card's markdown `detail`.
pub fn detail(ruleset: &Ruleset, a: &Assessment<'_>) -> String {
    let e = escape_markdown;
    let mut md = String::new();
    let mut line = |s: String| {
        md.push_str(&s);
        md.push('\n');
    };
    line(format!(
        "**Suggested level of care: {}** ({})",
        e(&a.level.label),
        e(&a.level.id)
    ));
    line(String::new());
    if a.level_range.lowest.id != a.level_range.highest.id {
        line(format!(
            "Missing answers leave the level open from {} to {}; the highest is suggested.",
            e(&a.level_range.lowest.label),
            e(&a.level_range.highest.label)
        ));
        line(String::new());
    }
    if a.needs_review {
        line("**A clinician must review this result before placement:**".into());
        line(String::new());
        for r in &a.review_reasons {
            line(format!("- {}", e(r)));
        }
        line(String::new());
    }
    line("### Why".into());
    line(String::new());
    line(format!("This level: {}.", basis_text(a.basis)));
    line(String::new());
    if a.fired_rules.is_empty() {
        line("No rule fired.".into());
    }
    for r in &a.fired_rules {
        let deciding = if a.deciding_rules.iter().any(|d| d == &r.id) {
            ", deciding"
        } else {
            ""
        };
        let mut s = format!(
            "- **{}** (at least {}{deciding}): {}",
            e(&r.id),
            e(&r.level),
            e(&r.because)
        );
        if let Some(src) = &r.source {
            s.push_str(&format!(" Source: {}", e(src)));
        }
        line(s);
    }
    line(String::new());
    if let Some(dimensions) = &a.dimensions {
        line("### By dimension".into());
        line(String::new());
        for d in dimensions {
            line(format!("- {}", e(&d.summary)));
        }
        line(String::new());
    }
    if !a.flags.is_empty() || !a.possible_flags.is_empty() {
        line("### Flags".into());
        line(String::new());
        for (f, possible) in a
            .flags
            .iter()
            .map(|f| (f, false))
            .chain(a.possible_flags.iter().map(|f| (f, true)))
        {
            let mut s = format!(
                "- **{}{}** {}: {}",
                kind_text(f.kind),
                if possible {
                    ", could fire depending on missing answers"
                } else {
                    ""
                },
                e(&f.id),
                e(&f.message)
            );
            if let Some(src) = &f.source {
                s.push_str(&format!(" Source: {}", e(src)));
            }
            line(s);
        }
        line(String::new());
    }
    if !a.missing.is_empty() {
        line("### Missing answers".into());
        line(String::new());
        for m in &a.missing {
            let allowed = ruleset
                .factor_index(&m.factor)
                .and_then(|i| ruleset.factors().get(i))
                .map(carelevel::Factor::allowed_answers)
                .unwrap_or_default();
            line(format!(
                "- {} ({}): allowed answers: {}{}",
                e(&m.question),
                e(&m.factor),
                e(&allowed),
                if m.could_change_level {
                    "; could change the level"
                } else {
                    ""
                }
            ));
        }
        line(String::new());
    }
    if !a.assumed.is_empty() {
        line("### Assumed answers".into());
        line(String::new());
        for s in &a.assumed {
            line(format!("- {}: {}", e(&s.factor), e(&s.value.to_string())));
        }
        line(String::new());
    }
    line(format!("*{}*", e(crate::NOTICE)));
    line(String::new());
    line(format!(
        "Ruleset {} {} (sha256 {}), {} {}.",
        e(&a.provenance.ruleset_id),
        e(&a.provenance.ruleset_version),
        e(&a.provenance.ruleset_sha256),
        e(&a.provenance.engine),
        e(&a.provenance.engine_version)
    ));
    md
}

#[cfg(test)]
mod tests;
