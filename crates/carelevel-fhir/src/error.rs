//! Errors of the FHIR mapping.
//!
//! Reading a `QuestionnaireResponse` reports every problem it finds, each with the
//! JSON path into the resource (`item[2].answer[0].valueCoding.code`), the linkId
//! it concerns and what is allowed.
