//! Masking of the answers a decision record keeps: per question `keep`, `hash` or
//! `drop`, with a default for the questions not named.
//!
//! - `keep`: the answer as given (`"moderate"`, `3`, `true`).
//! - `hash`: the text `sha256:<64 lower-case hex digits>`, the SHA-256 of the salt's
//!   bytes followed by the answer's JSON text (`"moderate"` with its quotes, `3`,
//!   `true`). The salt is configuration, not data: keep it secret, or anyone can hash
//!   every value of a scale and read the answers back (a scale has few values).
//! - `drop`: the answer is left out.
//!
//! A hashed or dropped answer is listed in the record's `masked`, so a reader can
//! always tell a masked answer from an unanswered question.
//!
//! A masking configuration that cannot be applied safely is an error, never a
//! fallback to writing the answer as it is ([`MaskError`]):
//! - any rule is `hash` (the default or a question's) and the salt is empty: an
//!   unsalted hash of a small scale is the answer in disguise;
//! - a per-question rule names a question the ruleset does not have: most likely a
//!   misspelling, which would leave the intended question unmasked.
//!
//! Both are checked for every record, so a configuration that is wrong for one of
//! several rulesets fails for that ruleset's records. [`Masking::check`] runs the same
//! checks up front (e.g. at server start-up).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use carelevel::Ruleset;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What happens to one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldMask {
    /// Keep the answer as given.
    #[default]
    Keep,
    /// Replace it by `sha256:<hex of SHA-256(salt || JSON text of the answer)>`.
    Hash,
    /// Leave it out.
    Drop,
}

/// The masking configuration: a default, rules per question id, and the salt.
///
/// Read from configuration (JSON, YAML, TOML) as
/// `{"default": "keep", "fields": {"harm_risk": "hash", "housing": "drop"}, "salt": "..."}`;
/// every key is optional (default `keep`, no rules, empty salt) and an unknown key
/// is refused. The salt is the UTF-8 bytes of the `salt` text.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "MaskingConfig")]
pub struct Masking {
    /// The rule for questions not in `per_field`.
    pub default: FieldMask,
    /// Rules per question id.
    pub per_field: BTreeMap<String, FieldMask>,
    /// The salt for `hash` (secret; required when any rule is `hash`).
    pub salt: Vec<u8>,
}

/// Shows the rules and whether a salt is set, never the salt itself (it is a secret).
impl std::fmt::Debug for Masking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masking")
            .field("default", &self.default)
            .field("per_field", &self.per_field)
            .field("salt", &format_args!("<{} bytes>", self.salt.len()))
            .finish()
    }
}

/// The configuration shape of [`Masking`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaskingConfig {
    #[serde(default)]
    default: FieldMask,
    #[serde(default)]
    fields: BTreeMap<String, FieldMask>,
    #[serde(default)]
    salt: String,
}

impl From<MaskingConfig> for Masking {
    fn from(c: MaskingConfig) -> Masking {
        Masking {
            default: c.default,
            per_field: c.fields,
            salt: c.salt.into_bytes(),
        }
    }
}

/// Why a decision record could not be built. The caller drops the event and counts
/// it; the record is never written with its answers unmasked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaskError {
    /// A rule says `hash` and no salt is configured.
    #[error("masking: {rule} is `hash` but the salt is empty; configure a secret salt (an unsalted hash of a small scale reveals the answer)")]
    MissingSalt {
        /// Which rule: `the default` or `question \`id\``.
        rule: String,
    },
    /// A per-question rule names a question the ruleset does not have.
    #[error("masking: the rule for `{question}` names no question of ruleset `{ruleset}` (questions: {known}); a misspelt rule would leave the intended question unmasked")]
    UnknownQuestion {
        /// The question id in the rule.
        question: String,
        /// The ruleset id.
        ruleset: String,
        /// The ruleset's question ids, comma-separated.
        known: String,
    },
    /// The answers and the assessment come from different rulesets.
    #[error("decision record: the answers are for ruleset `{answers}` (sha256 {answers_sha256}) but the assessment is from `{assessment}` (sha256 {assessment_sha256})")]
    RulesetMismatch {
        /// Ruleset id of the answers.
        answers: String,
        /// Its SHA-256.
        answers_sha256: String,
        /// Ruleset id of the assessment.
        assessment: String,
        /// Its SHA-256.
        assessment_sha256: String,
    },
    /// The caller-supplied decision id is empty.
    #[error("decision record: field `decision_id` is empty; every decision needs an id (the server uses a UUID v4)")]
    MissingDecisionId,
    /// The caller-supplied time is not RFC 3339 UTC.
    #[error("decision record: field `time`: {0}")]
    Time(#[from] crate::time::TimeError),
}

impl Masking {
    /// Keep every answer (no salt needed).
    pub fn keep_all() -> Masking {
        Masking::default()
    }

    /// The rule for `question`.
    pub fn rule(&self, question: &str) -> FieldMask {
        self.per_field
            .get(question)
            .copied()
            .unwrap_or(self.default)
    }

    /// Check the configuration against `ruleset`: every per-question rule names one of
    /// its questions, and a salt is set if any rule is `hash`.
    pub fn check(&self, ruleset: &Ruleset) -> Result<(), MaskError> {
        if self.salt.is_empty() {
            if self.default == FieldMask::Hash {
                return Err(MaskError::MissingSalt {
                    rule: "the default".to_owned(),
                });
            }
            if let Some((q, _)) = self.per_field.iter().find(|(_, m)| **m == FieldMask::Hash) {
                return Err(MaskError::MissingSalt {
                    rule: format!("question `{q}`"),
                });
            }
        }
        if let Some(q) = self
            .per_field
            .keys()
            .find(|q| ruleset.factor_index(q).is_none())
        {
            return Err(MaskError::UnknownQuestion {
                question: q.clone(),
                ruleset: ruleset.metadata().id.clone(),
                known: ruleset
                    .factors()
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(())
    }

    /// `sha256:<hex>` of the salt followed by the JSON text of `value`.
    pub fn hash(&self, value: &serde_json::Value) -> String {
        let mut h = Sha256::new();
        h.update(&self.salt);
        h.update(value.to_string().as_bytes());
        let digest = h.finalize();
        let mut out = String::with_capacity(7 + 64);
        out.push_str("sha256:");
        for byte in digest.iter() {
            let _ = write!(out, "{byte:02x}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use super::*;

    #[test]
    fn hash_is_sha256_of_salt_then_json_text() {
        let m = Masking {
            salt: b"pepper".to_vec(),
            ..Masking::default()
        };
        // Independent value: `printf '%s' 'pepper"moderate"' | sha256sum`.
        assert_eq!(
            m.hash(&serde_json::json!("moderate")),
            "sha256:e83c5b718ca51e7eef8d1907a31706089a49b95912097f921c5f78c75ddcd3cc"
        );
    }

    #[test]
    fn masking_reads_from_configuration() {
        let m: Masking = serde_json::from_str(
            r#"{"default": "drop", "fields": {"housing": "hash", "support": "keep"}, "salt": "pepper"}"#,
        )
        .unwrap();
        assert_eq!(m.default, FieldMask::Drop);
        assert_eq!(m.rule("housing"), FieldMask::Hash);
        assert_eq!(m.rule("support"), FieldMask::Keep);
        assert_eq!(m.rule("severity"), FieldMask::Drop);
        assert_eq!(m.salt, b"pepper");
        let shown = format!("{m:?}");
        assert!(
            !shown.contains("pepper") && shown.contains("<6 bytes>"),
            "{shown}"
        );
        assert_eq!(
            serde_json::from_str::<Masking>("{}").unwrap(),
            Masking::keep_all()
        );
        let e = serde_json::from_str::<Masking>(r#"{"fields": {"housing": "scramble"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variant `scramble`"), "{e}");
        let e = serde_json::from_str::<Masking>(r#"{"per_field": {}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `per_field`"), "{e}");
    }

    #[test]
    fn check_refuses_hash_without_salt_and_unknown_questions() {
        let rs = Ruleset::default_ruleset().unwrap();
        let mut m = Masking {
            default: FieldMask::Hash,
            ..Masking::default()
        };
        assert_eq!(
            m.check(&rs).unwrap_err().to_string(),
            "masking: the default is `hash` but the salt is empty; configure a secret salt (an unsalted hash of a small scale reveals the answer)"
        );
        m.default = FieldMask::Keep;
        m.per_field.insert("housing".to_owned(), FieldMask::Hash);
        assert!(matches!(
            m.check(&rs),
            Err(MaskError::MissingSalt { rule }) if rule == "question `housing`"
        ));
        m.salt = b"s".to_vec();
        m.check(&rs).unwrap();
        m.per_field.insert("housng".to_owned(), FieldMask::Drop);
        assert!(matches!(
            m.check(&rs),
            Err(MaskError::UnknownQuestion { question, .. }) if question == "housng"
        ));
        // Drop and keep need no salt.
        let m = Masking {
            default: FieldMask::Drop,
            ..Masking::default()
        };
        m.check(&rs).unwrap();
    }
}
