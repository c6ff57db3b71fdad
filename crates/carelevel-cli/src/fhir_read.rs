//! The options for reading FHIR `QuestionnaireResponse`s, shared by `assess
//! --input-format fhir` and `batch --input-format fhir-ndjson` (docs/fhir.md).

use std::path::PathBuf;

use carelevel::Ruleset;
use carelevel_fhir::response::{code_map, Matching, OtherVersion, ReadOptions, UnknownItems};
use carelevel_fhir::Release;

use crate::input;

/// The FHIR release: `r4` (4.0.1, the default) or `r5` (5.0.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReleaseArg {
    /// FHIR R4 (4.0.1).
    #[default]
    R4,
    /// FHIR R5 (5.0.0).
    R5,
}

impl From<ReleaseArg> for Release {
    fn from(r: ReleaseArg) -> Release {
        match r {
            ReleaseArg::R4 => Release::R4,
            ReleaseArg::R5 => Release::R5,
        }
    }
}

/// Refuse or warn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Policy {
    /// Refuse the response (the default).
    #[default]
    Refuse,
    /// Read it and warn (in `batch`: the record is marked needs_review).
    Warn,
}

/// How a `QuestionnaireResponse` is read.
#[derive(Debug, Clone, clap::Args)]
pub struct FhirReadArgs {
    /// FHIR release of the input. Both R4 and R5 shapes are read whatever it says.
    #[arg(long = "fhir", value_enum, default_value_t = ReleaseArg::R4)]
    pub release: ReleaseArg,

    /// Items whose linkId names no question: refuse the response, or ignore them with
    /// a warning.
    #[arg(long, value_enum, default_value_t = Policy::Refuse)]
    pub fhir_unknown_items: Policy,

    /// A response to another version of the ruleset: refuse it, or read it with a
    /// warning.
    #[arg(long, value_enum, default_value_t = Policy::Refuse)]
    pub fhir_other_version: Policy,

    /// Match items through this form (a FHIR Questionnaire, JSON) instead of by
    /// linkId: each form item whose `code` is in the ruleset's question system maps
    /// its linkId to that question.
    #[arg(long, value_name = "QUESTIONNAIRE")]
    pub fhir_form: Option<PathBuf>,
}

impl FhirReadArgs {
    /// The library options, or a message for a form that cannot be used.
    pub fn options(&self, ruleset: &Ruleset) -> Result<ReadOptions, String> {
        let matching = match &self.fhir_form {
            None => Matching::LinkId,
            Some(path) => {
                let source = input::read_source(path, "FHIR form")?;
                let form: serde_json::Value = serde_json::from_str(&source.text)
                    .map_err(|e| format!("cannot read FHIR form `{}`: {e}", source.name))?;
                let map = code_map(ruleset, &form)
                    .map_err(|e| format!("cannot use FHIR form `{}`: {e}", source.name))?;
                Matching::Code(map)
            }
        };
        Ok(ReadOptions {
            matching,
            unknown_items: match self.fhir_unknown_items {
                Policy::Refuse => UnknownItems::Refuse,
                Policy::Warn => UnknownItems::Warn,
            },
            other_version: match self.fhir_other_version {
                Policy::Refuse => OtherVersion::Refuse,
                Policy::Warn => OtherVersion::Warn,
            },
        })
    }
}
