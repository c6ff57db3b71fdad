//! Matching by code: a form's linkIds mapped to the ruleset's questions through the
//! form's `item.code` (`docs/fhir.md`, "Matching").

use std::collections::{HashMap, HashSet};

use carelevel::Ruleset;
use serde_json::Value;

use crate::canonical::Canonical;
use crate::error::{ResponseError, ResponseProblem};

/// A form's linkIds: those that stand for a question, and the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormMap {
    /// linkId → question id.
    pub questions: HashMap<String, String>,
    /// The form's other linkIds (groups, display items, questions the ruleset does not
    /// take). Such an item without an answer is passed over; with an answer it is an
    /// unknown item ([`crate::response::UnknownItems`]).
    pub others: HashSet<String>,
}

/// Build the linkId → question map of [`crate::response::Matching::Code`] from a form (a
/// `Questionnaire` as JSON): every item, at any depth, whose `code` has a Coding in
/// the ruleset's question system (`{base}/question`) maps its linkId to that code.
/// Every other linkId of the form goes to [`FormMap::others`]. A code naming no
/// question, or two items for one question, is an error.
pub fn code_map(ruleset: &Ruleset, form: &Value) -> Result<FormMap, ResponseError> {
    let system = Canonical::of(ruleset).questions();
    let mut map = FormMap::default();
    let mut problems = Vec::new();
    let items = form.get("item").and_then(Value::as_array);
    walk_form(ruleset, &system, items, "item", &mut map, &mut problems);
    if problems.is_empty() {
        Ok(map)
    } else {
        Err(ResponseError { problems })
    }
}

fn walk_form(
    ruleset: &Ruleset,
    system: &str,
    items: Option<&Vec<Value>>,
    prefix: &str,
    map: &mut FormMap,
    problems: &mut Vec<ResponseProblem>,
) {
    for (i, item) in items.into_iter().flatten().enumerate() {
        let path = format!("{prefix}[{i}]");
        let link_id = item.get("linkId").and_then(Value::as_str);
        let codes = item.get("code").and_then(Value::as_array);
        for (c, coding) in codes.into_iter().flatten().enumerate() {
            if coding.get("system").and_then(Value::as_str) != Some(system) {
                continue;
            }
            let code = coding.get("code").and_then(Value::as_str).unwrap_or("");
            let cpath = format!("{path}.code[{c}].code");
            let mut problem = |message: String| {
                problems.push(ResponseProblem {
                    path: cpath.clone(),
                    link_id: link_id.map(str::to_owned),
                    message,
                });
            };
            let Some(link_id) = link_id else {
                problem("the form item has no linkId".to_owned());
                continue;
            };
            if ruleset.factor_index(code).is_none() {
                let ids: Vec<&str> = ruleset.factors().iter().map(|f| f.id.as_str()).collect();
                problem(format!(
                    "`{code}` is not a question of this ruleset; expected one of {}",
                    ids.join(", ")
                ));
            } else if let Some((other, _)) = map.questions.iter().find(|(_, q)| q.as_str() == code)
            {
                problem(format!(
                    "question `{code}` is already the code of linkId `{other}`"
                ));
            } else {
                map.questions.insert(link_id.to_owned(), code.to_owned());
            }
        }
        if let Some(link_id) = link_id {
            if !map.questions.contains_key(link_id) {
                map.others.insert(link_id.to_owned());
            }
        }
        let children = item.get("item").and_then(Value::as_array);
        walk_form(
            ruleset,
            system,
            children,
            &format!("{path}.item"),
            map,
            problems,
        );
    }
}
