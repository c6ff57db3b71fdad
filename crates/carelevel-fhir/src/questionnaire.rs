//! Ruleset → FHIR `Questionnaire` (R4 or R5): one item per question, in declaration
//! order (`docs/fhir.md`, "Ruleset → Questionnaire").
