//! JSON in, JSON out: the seam that bindings for other languages build on.
//!
//! [`assess_json`] never fails at the Rust level: every outcome, including bad input,
//! is a JSON document, either `{"ok": true, "assessment": {...}}` or
//! `{"ok": false, "error": {"kind": "...", "message": "...", "problems": [...]}}`.

use serde::Serialize;

use crate::assessment::Assessment;
use crate::error::{AnswerProblem, AnswersError, EvalError};
use crate::model::Ruleset;

#[derive(Serialize)]
#[serde(untagged)]
enum Response<'a> {
    Ok {
        ok: bool,
        assessment: &'a Assessment<'a>,
    },
    Err {
        ok: bool,
        error: ErrorBody,
    },
}

#[derive(Serialize)]
struct ErrorBody {
    /// `answers` (the input was wrong) or `evaluation` (no level could be computed).
    kind: &'static str,
    message: String,
    problems: Vec<AnswerProblem>,
}

fn error_body(kind: &'static str, message: String, problems: Vec<AnswerProblem>) -> String {
    let response = Response::Err {
        ok: false,
        error: ErrorBody {
            kind,
            message,
            problems,
        },
    };
    serde_json::to_string(&response).unwrap_or_else(|_| {
        r#"{"ok":false,"error":{"kind":"internal","message":"could not serialize the error","problems":[]}}"#
            .to_owned()
    })
}

/// Assess answers given as a JSON object; the result is always a JSON document.
pub fn assess_json(ruleset: &Ruleset, answers_json: &str) -> String {
    let answers = match ruleset.answers_from_json(answers_json) {
        Ok(a) => a,
        Err(AnswersError { problems }) => {
            let message = AnswersError {
                problems: problems.clone(),
            }
            .to_string();
            return error_body("answers", message, problems);
        }
    };
    match ruleset.assess(&answers) {
        Ok(assessment) => serde_json::to_string(&Response::Ok {
            ok: true,
            assessment: &assessment,
        })
        .unwrap_or_else(|e| error_body("internal", e.to_string(), Vec::new())),
        Err(e @ EvalError::MissingRequired { .. }) => {
            error_body("answers", e.to_string(), Vec::new())
        }
        Err(e) => error_body("evaluation", e.to_string(), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n  - {id: risk, kind: ordinal, question: Q, values: [none, some]}\nrules:\n  - {id: r, when: {risk: some}, level: high, because: B}\n";

    #[test]
    fn ok_and_error_documents() {
        let rs = Ruleset::from_yaml(RULES).unwrap();
        let ok: serde_json::Value =
            serde_json::from_str(&assess_json(&rs, r#"{"risk":"some"}"#)).unwrap();
        assert_eq!(ok["ok"], true);
        assert_eq!(ok["assessment"]["level"]["id"], "high");
        let bad: serde_json::Value =
            serde_json::from_str(&assess_json(&rs, r#"{"risk":"lots"}"#)).unwrap();
        assert_eq!(bad["ok"], false);
        assert_eq!(bad["error"]["kind"], "answers");
        assert_eq!(bad["error"]["problems"][0]["factor"], "risk");
        let garbage: serde_json::Value = serde_json::from_str(&assess_json(&rs, "{")).unwrap();
        assert_eq!(garbage["ok"], false);
    }
}
