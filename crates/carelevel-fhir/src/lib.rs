#![doc = include_str!("../README.md")]
//!
//! Modules: [`canonical`] (the ruleset's canonical URL, its code systems and the FHIR
//! release), [`questionnaire`] (ruleset → `Questionnaire`), [`response`]
//! (`QuestionnaireResponse` ↔ answers) and [`error`].

pub mod canonical;
pub mod error;
pub mod questionnaire;
pub mod response;

pub use canonical::{Canonical, Release};
