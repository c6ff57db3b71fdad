#![doc = include_str!("../README.md")]
//!
//! Modules: [`canonical`] (the ruleset's canonical URL, its code systems and the FHIR
//! release), [`questionnaire`] (ruleset → `Questionnaire`), [`response`]
//! (`QuestionnaireResponse` ↔ answers), [`form`] (matching through a form's
//! `item.code`) and [`error`].

pub mod canonical;
pub mod error;
pub mod form;
pub mod questionnaire;
pub mod response;

pub use canonical::{Canonical, Release};
