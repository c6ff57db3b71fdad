//! Canonical URLs and code systems of a ruleset, and the FHIR release to speak.
//!
//! Every URI the mapping writes comes from here, so the Questionnaire, the responses
//! read against it and the GuidanceResponse all agree. The base is the ruleset's
//! `url:` when it has one, else `urn:carelevel:ruleset:<id>`; every code system is
//! minted under it (`docs/fhir.md`, "Code systems").

use std::fmt;
use std::str::FromStr;

use carelevel::Ruleset;

/// The system of the identifier that carries a ruleset's SHA-256 (lowercase hex of
/// the exact ruleset source text) on every resource the mapping writes.
pub const SHA256_IDENTIFIER_SYSTEM: &str = "urn:carelevel:ruleset-sha256";

/// The prefix of the base used for a ruleset without `url:`; the ruleset id follows.
pub const URN_PREFIX: &str = "urn:carelevel:ruleset:";

/// The canonical URLs of one ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    base: String,
    version: String,
    id: String,
}

impl Canonical {
    /// The canonical URLs of `ruleset`.
    pub fn of(ruleset: &Ruleset) -> Canonical {
        let meta = ruleset.metadata();
        let base = match &meta.url {
            Some(url) => url.clone(),
            None => format!("{URN_PREFIX}{}", meta.id),
        };
        Canonical {
            base,
            version: meta.version.clone(),
            id: meta.id.clone(),
        }
    }

    /// The ruleset's canonical URL without version: its `url:`, or
    /// `urn:carelevel:ruleset:<id>`. It is also the Questionnaire's `url`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The ruleset's version (its `version:`), the Questionnaire's `version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The versioned canonical, `base|version`, as FHIR writes a reference to one
    /// version of a canonical resource (e.g. `QuestionnaireResponse.questionnaire`).
    pub fn versioned(&self) -> String {
        format!("{}|{}", self.base, self.version)
    }

    /// The code system of the questions: code = question id.
    pub fn questions(&self) -> String {
        format!("{}/question", self.base)
    }

    /// The code system of one question's answers: code = the answer value.
    pub fn answers(&self, question_id: &str) -> String {
        format!("{}/answer/{question_id}", self.base)
    }

    /// The code system of the levels of care: code = level id.
    pub fn levels(&self) -> String {
        format!("{}/level", self.base)
    }

    /// The code system of the flags: code = flag id.
    pub fn flags(&self) -> String {
        format!("{}/flag", self.base)
    }

    /// The code system of the rules: code = rule id.
    pub fn rules(&self) -> String {
        format!("{}/rule", self.base)
    }

    /// The code system of the reasons a clinician gives for not following a CDS
    /// Hooks card (`overrideReasons`): code = one of the fixed reasons in
    /// `card::OVERRIDE_REASONS`.
    pub fn override_reasons(&self) -> String {
        format!("{}/override-reason", self.base)
    }

    /// The identifier system of the ruleset hash ([`SHA256_IDENTIFIER_SYSTEM`]).
    pub fn sha256_identifier_system(&self) -> &'static str {
        SHA256_IDENTIFIER_SYSTEM
    }

    /// A FHIR logical id for resources about this ruleset (e.g. the Questionnaire's
    /// `id`). FHIR ids match `[A-Za-z0-9\-\.]{1,64}`; ruleset ids are 1 to 64 of
    /// `[a-z0-9_-]`, so the only change is `_` to `-`.
    pub fn resource_id(&self) -> String {
        self.id.replace('_', "-")
    }
}

/// The FHIR release to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Release {
    /// FHIR R4, 4.0.1: what EHRs run. The default.
    #[default]
    R4,
    /// FHIR R5, 5.0.0.
    R5,
}

impl Release {
    /// The `fhirVersion` string of the release.
    pub fn fhir_version(self) -> &'static str {
        match self {
            Release::R4 => "4.0.1",
            Release::R5 => "5.0.0",
        }
    }

    /// The short name used on the command line: `r4` or `r5`.
    pub fn name(self) -> &'static str {
        match self {
            Release::R4 => "r4",
            Release::R5 => "r5",
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A release name that is neither `r4` nor `r5`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown FHIR release `{0}`; expected `r4` (4.0.1) or `r5` (5.0.0)")]
pub struct UnknownRelease(pub String);

impl FromStr for Release {
    type Err = UnknownRelease;

    /// `r4`/`R4`/`4.0.1` or `r5`/`R5`/`5.0.0`.
    fn from_str(s: &str) -> Result<Release, UnknownRelease> {
        match s {
            "r4" | "R4" | "4.0.1" => Ok(Release::R4),
            "r5" | "R5" | "5.0.0" => Ok(Release::R5),
            other => Err(UnknownRelease(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "test code: a panic is a failed test"
    )]

    use super::*;

    const SMALL: &str = "id: my_rules\nversion: '2.1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\nfactors:\n  - {id: b, kind: boolean, question: Q}\nrules: []\n";

    fn with_url(url: &str) -> Ruleset {
        let text = SMALL.replace("description: D\n", &format!("description: D\nurl: {url}\n"));
        Ruleset::from_yaml(&text).unwrap()
    }

    #[test]
    fn without_url_the_base_is_a_urn_of_the_id() {
        let c = Canonical::of(&Ruleset::from_yaml(SMALL).unwrap());
        assert_eq!(c.base(), "urn:carelevel:ruleset:my_rules");
        assert_eq!(c.version(), "2.1");
        assert_eq!(c.versioned(), "urn:carelevel:ruleset:my_rules|2.1");
        assert_eq!(c.questions(), "urn:carelevel:ruleset:my_rules/question");
        assert_eq!(c.answers("b"), "urn:carelevel:ruleset:my_rules/answer/b");
        assert_eq!(c.levels(), "urn:carelevel:ruleset:my_rules/level");
        assert_eq!(c.flags(), "urn:carelevel:ruleset:my_rules/flag");
        assert_eq!(c.rules(), "urn:carelevel:ruleset:my_rules/rule");
        assert_eq!(
            c.override_reasons(),
            "urn:carelevel:ruleset:my_rules/override-reason"
        );
        assert_eq!(c.resource_id(), "my-rules");
    }

    #[test]
    fn with_url_every_system_lives_under_it() {
        let c = Canonical::of(&with_url("https://example.org/fhir/rules"));
        assert_eq!(c.base(), "https://example.org/fhir/rules");
        assert_eq!(c.versioned(), "https://example.org/fhir/rules|2.1");
        assert_eq!(c.questions(), "https://example.org/fhir/rules/question");
        assert_eq!(
            c.answers("severity"),
            "https://example.org/fhir/rules/answer/severity"
        );
        assert_eq!(c.levels(), "https://example.org/fhir/rules/level");
        assert_eq!(c.flags(), "https://example.org/fhir/rules/flag");
        assert_eq!(c.rules(), "https://example.org/fhir/rules/rule");
        assert_eq!(c.sha256_identifier_system(), SHA256_IDENTIFIER_SYSTEM);
    }

    #[test]
    fn the_default_ruleset_has_a_valid_fhir_id() {
        let c = Canonical::of(&Ruleset::default_ruleset().unwrap());
        let id = c.resource_id();
        assert!((1..=64).contains(&id.len()));
        assert!(id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.'));
    }

    #[test]
    fn releases_parse_and_name_their_version() {
        assert_eq!(Release::default(), Release::R4);
        assert_eq!("r4".parse::<Release>(), Ok(Release::R4));
        assert_eq!("R5".parse::<Release>(), Ok(Release::R5));
        assert_eq!("5.0.0".parse::<Release>(), Ok(Release::R5));
        assert_eq!(Release::R4.fhir_version(), "4.0.1");
        assert_eq!(Release::R5.fhir_version(), "5.0.0");
        assert_eq!(Release::R5.to_string(), "r5");
        let err = "r4b".parse::<Release>().unwrap_err();
        assert!(err
            .to_string()
            .contains("expected `r4` (4.0.1) or `r5` (5.0.0)"));
    }
}
