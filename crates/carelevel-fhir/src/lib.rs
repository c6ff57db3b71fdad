#![doc = include_str!("../README.md")]
//!
//! Modules: [`canonical`] (the ruleset's canonical URL, its code systems and the FHIR
//! release), [`questionnaire`] (ruleset → `Questionnaire`), [`response`]
//! (`QuestionnaireResponse` ↔ answers), [`form`] (matching through a form's
//! `item.code`), [`card`] (assessment → CDS Hooks card), [`guidance`] (assessment → `GuidanceResponse`), [`requirement`]
//! (which missing answers could change the level or a flag), [`primitive`] (checks of
//! the FHIR `id` and `dateTime` the caller supplies) and [`error`].

pub mod canonical;
pub mod card;
pub mod error;
pub mod form;
pub mod guidance;
pub mod primitive;
pub mod questionnaire;
pub mod requirement;
pub mod response;

pub use canonical::{Canonical, Release};

/// The notice every rendering of a result carries.
pub const NOTICE: &str = "Decision support only: a qualified professional makes the final decision on the level of care.";
