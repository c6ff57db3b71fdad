//! Errors of the FHIR mapping.
//!
//! Reading a `QuestionnaireResponse` reports every problem it finds, each with the
//! JSON path into the resource (`item[2].answer[0].valueCoding.code`), the linkId
//! it concerns and what is allowed.

use std::fmt;

/// One problem in a `QuestionnaireResponse` (or in a form used for matching by code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseProblem {
    /// JSON path into the resource, e.g. `item[2].answer[0].valueCoding.code`; empty for
    /// the resource as a whole.
    pub path: String,
    /// The linkId of the item the problem is in, when there is one.
    pub link_id: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ResponseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "at `{}`", self.path)?;
            if let Some(link_id) = &self.link_id {
                write!(f, " (linkId `{link_id}`)")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

/// A `QuestionnaireResponse` that cannot be read as answers: every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ResponseError {
    /// All problems, in document order.
    pub problems: Vec<ResponseProblem>,
}

impl ResponseError {
    /// An error with one problem.
    pub(crate) fn one(path: &str, link_id: Option<&str>, message: String) -> ResponseError {
        ResponseError {
            problems: vec![ResponseProblem {
                path: path.to_owned(),
                link_id: link_id.map(str::to_owned),
                message,
            }],
        }
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid QuestionnaireResponse: ")?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_path_and_link_id() {
        let e = ResponseError {
            problems: vec![
                ResponseProblem {
                    path: "item[2].answer[0].valueCoding.code".into(),
                    link_id: Some("severity".into()),
                    message: "`x` is not an answer".into(),
                },
                ResponseProblem {
                    path: String::new(),
                    link_id: None,
                    message: "status is missing".into(),
                },
            ],
        };
        assert_eq!(
            e.to_string(),
            "invalid QuestionnaireResponse: at `item[2].answer[0].valueCoding.code` (linkId `severity`): `x` is not an answer; status is missing"
        );
    }
}
