//! FHIR `QuestionnaireResponse` (R4 or R5 shape) ↔ carelevel answers
//! (`docs/fhir.md`, "QuestionnaireResponse → answers").
