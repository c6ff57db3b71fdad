//! FHIR output of a batch: one `GuidanceResponse` or one CDS Hooks card per record,
//! as NDJSON (`carelevel batch --format guidance-response|cds-card`, docs/fhir.md).
//!
//! Per record: the GuidanceResponse `id` is the record id when it is a FHIR id (for
//! FHIR NDJSON input, `QuestionnaireResponse.id`), else `line-<N>`; its
//! `requestIdentifier` is the record id as given; `subject` and the reason
//! (`QuestionnaireResponse/<id>`) come from the response when the input is FHIR.
//! The card `uuid` of the record at line N is [`record_uuid`]`(base, N)`.

use carelevel::{Answers, Assessment, RecordId};
use carelevel_fhir::card::{cds_card, CardInput};
use carelevel_fhir::guidance::{guidance_response, GuidanceInput};
use carelevel_fhir::primitive::{format_uuid, is_id, record_uuid};
use carelevel_fhir::Release;
use serde_json::Value;

/// What each record becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FhirOutputKind {
    /// A `GuidanceResponse` in this release.
    GuidanceResponse(Release),
    /// A CDS Hooks 2.0 card.
    CdsCard,
}

/// How a batch writes FHIR output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirOutput {
    /// GuidanceResponse or card.
    pub kind: FhirOutputKind,
    /// `occurrenceDateTime` of every GuidanceResponse (a FHIR dateTime).
    pub occurrence: String,
    /// The base of every record's card uuid ([`record_uuid`]).
    pub card_uuid: u128,
}

/// What a FHIR input record tells about itself.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FromResponse<'a> {
    /// `QuestionnaireResponse.id`.
    pub id: Option<&'a str>,
    /// `QuestionnaireResponse.subject`.
    pub subject: Option<&'a Value>,
}

impl FhirOutput {
    /// The resource (or card) for one assessed record, or why it cannot be written.
    pub(crate) fn render(
        &self,
        line: u64,
        id: Option<&RecordId>,
        answers: &Answers<'_>,
        assessment: &Assessment<'_>,
        from: FromResponse<'_>,
    ) -> Result<Value, String> {
        match self.kind {
            FhirOutputKind::CdsCard => {
                let input = CardInput {
                    uuid: format_uuid(record_uuid(self.card_uuid, line)),
                };
                cds_card(answers.ruleset(), assessment, &input).map_err(|e| e.to_string())
            }
            FhirOutputKind::GuidanceResponse(release) => {
                let text = id.map(ToString::to_string);
                let gr_id = match &text {
                    Some(t) if is_id(t) => t.clone(),
                    _ => format!("line-{line}"),
                };
                let input = GuidanceInput {
                    id: gr_id,
                    occurrence: self.occurrence.clone(),
                    request_identifier: text,
                    subject: from.subject.cloned(),
                    reason: from.id.map(|i| format!("QuestionnaireResponse/{i}")),
                };
                guidance_response(answers, assessment, &input, release).map_err(|e| e.to_string())
            }
        }
    }
}
