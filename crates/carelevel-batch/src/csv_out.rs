//! CSV output: the columns, and rows that are safe to open in a spreadsheet.
//!
//! Compact columns: `id,line,level,deciding_rules,flags,refer,needs_review,error`.
//!
//! Full columns (the `Assessment`, flattened):
//!
//! | column | content |
//! |---|---|
//! | `id`, `line` | the record's id (empty if none) and input line |
//! | `level` | recommended level id |
//! | `basis` | `rules`, `score`, `rules_and_score`, `lowest_level` or `missing_answers` |
//! | `deciding_rules` | ids of the fired rules that demand the level, `;`-separated |
//! | `fired_rules` | ids of every fired rule, `;`-separated |
//! | `flags` | ids of the fired flags, `;`-separated |
//! | `possible_flags` | ids of flags that could fire depending on missing answers |
//! | `refer` | `true` when a `refer` flag fired |
//! | `missing` | unanswered question ids, `;`-separated |
//! | `missing_could_change_level` | the subset of `missing` whose answer could change the level |
//! | `level_lowest`, `level_highest` | the range of levels the missing answers leave open |
//! | `needs_review` | `true` or `false` |
//! | `review_reasons` | the reasons in words, separated by ` \| ` |
//! | `score` | the score total (empty when the ruleset has no scoring) |
//! | `assumed` | `question=value` pairs assumed by policy, `;`-separated |
//! | `ruleset_id`, `ruleset_version`, `ruleset_sha256` | provenance |
//! | `error` | empty for an assessed record; the reason for an error record |
//!
//! An error record (in the output) has its id, line and `error`, other cells empty.
//! The separate errors file (`--errors`) has the columns `line,id,error`.
//!
//! No cell holds a control or invisible character: each is written as a visible
//! escape (`carelevel::text`, e.g. ESC as `\u{1b}`, a tab as `\t`). A cell that then
//! starts with `=`, `+`, `-` or `@` (after any spaces) is written with a leading `'`,
//! so that a spreadsheet shows it as text instead of running it as a formula (OWASP
//! "CSV injection").

use std::borrow::Cow;

use carelevel::{Assessment, Basis, Decision, RecordId};

/// Columns of compact output.
pub const COMPACT: &[&str] = &[
    "id",
    "line",
    "level",
    "deciding_rules",
    "flags",
    "refer",
    "needs_review",
    "error",
];

/// Columns of full output.
pub const FULL: &[&str] = &[
    "id",
    "line",
    "level",
    "basis",
    "deciding_rules",
    "fired_rules",
    "flags",
    "possible_flags",
    "refer",
    "missing",
    "missing_could_change_level",
    "level_lowest",
    "level_highest",
    "needs_review",
    "review_reasons",
    "score",
    "assumed",
    "ruleset_id",
    "ruleset_version",
    "ruleset_sha256",
    "error",
];

/// Columns of the separate errors file.
pub const ERRORS: &[&str] = &["line", "id", "error"];

/// `cell`, with every control or invisible character written as a visible escape
/// (`carelevel::text`: ESC as `\u{1b}`, NUL as `\u{0}`, a line break as `\n`), and with
/// a leading `'` when a spreadsheet would take it for a formula (also after leading
/// spaces, which some spreadsheets skip). A cell therefore never holds a control
/// character; `docs/batch.md` says so, and that JSON output keeps the exact text.
pub fn safe(cell: &str) -> Cow<'_, str> {
    let cell = carelevel::text::escape_for_display(cell, None);
    match cell.trim_start_matches(' ').as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@') => Cow::Owned(format!("'{cell}")),
        _ => cell,
    }
}

/// A text cell built from parts, escaped.
fn owned(cell: String) -> Cow<'static, str> {
    match safe(&cell) {
        Cow::Borrowed(_) => Cow::Owned(cell),
        Cow::Owned(escaped) => Cow::Owned(escaped),
    }
}

/// The id cell.
fn id_cell(id: Option<&RecordId>) -> Cow<'_, str> {
    match id {
        None => Cow::Borrowed(""),
        Some(RecordId::Text(t)) => safe(t),
        Some(RecordId::Integer(i)) => Cow::Owned(i.to_string()),
    }
}

/// `true` or `false`.
fn bool_cell(b: bool) -> Cow<'static, str> {
    Cow::Borrowed(if b { "true" } else { "false" })
}

/// Items joined with `;`, escaped.
fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> Cow<'static, str> {
    owned(items.into_iter().collect::<Vec<_>>().join(";"))
}

/// The compact row of an assessed record.
pub fn compact_row<'a>(
    id: Option<&'a RecordId>,
    line: u64,
    d: &'a Decision<'_>,
) -> Vec<Cow<'a, str>> {
    vec![
        id_cell(id),
        Cow::Owned(line.to_string()),
        safe(d.level),
        list(d.deciding_rules.iter().copied()),
        list(d.flags.iter().copied()),
        bool_cell(d.refer),
        bool_cell(d.needs_review),
        Cow::Borrowed(""),
    ]
}

/// The `basis` as written in JSON.
fn basis(b: Basis) -> &'static str {
    match b {
        Basis::Rules => "rules",
        Basis::Score => "score",
        Basis::RulesAndScore => "rules_and_score",
        Basis::LowestLevel => "lowest_level",
        Basis::MissingAnswers => "missing_answers",
    }
}

/// The full row of an assessed record.
pub fn full_row<'a>(
    id: Option<&'a RecordId>,
    line: u64,
    a: &'a Assessment<'_>,
) -> Vec<Cow<'a, str>> {
    let p = &a.provenance;
    vec![
        id_cell(id),
        Cow::Owned(line.to_string()),
        safe(&a.level.id),
        Cow::Borrowed(basis(a.basis)),
        list(a.deciding_rules.iter().map(AsRef::as_ref)),
        list(a.fired_rules.iter().map(|r| r.id.as_ref())),
        list(a.flags.iter().map(|f| f.id.as_ref())),
        list(a.possible_flags.iter().map(|f| f.id.as_ref())),
        bool_cell(a.refer),
        list(a.missing.iter().map(|m| m.factor.as_ref())),
        list(
            a.missing
                .iter()
                .filter(|m| m.could_change_level)
                .map(|m| m.factor.as_ref()),
        ),
        safe(&a.level_range.lowest.id),
        safe(&a.level_range.highest.id),
        bool_cell(a.needs_review),
        owned(a.review_reasons.join(" | ")),
        Cow::Owned(
            a.score
                .as_ref()
                .map_or(String::new(), |s| s.total.to_string()),
        ),
        owned(
            a.assumed
                .iter()
                .map(|x| format!("{}={}", x.factor, x.value))
                .collect::<Vec<_>>()
                .join(";"),
        ),
        safe(&p.ruleset_id),
        safe(&p.ruleset_version),
        safe(&p.ruleset_sha256),
        Cow::Borrowed(""),
    ]
}

/// An error record in the output: id, line, empty result cells, the reason.
pub fn error_row<'a>(
    width: usize,
    id: Option<&'a RecordId>,
    line: u64,
    error: &'a str,
) -> Vec<Cow<'a, str>> {
    let mut row = vec![Cow::Borrowed(""); width];
    if let Some(cell) = row.first_mut() {
        *cell = id_cell(id);
    }
    if let Some(cell) = row.get_mut(1) {
        *cell = Cow::Owned(line.to_string());
    }
    if let Some(cell) = row.last_mut() {
        *cell = safe(error);
    }
    row
}

/// A row of the separate errors file: line, id, reason.
pub fn errors_file_row<'a>(
    id: Option<&'a RecordId>,
    line: u64,
    error: &'a str,
) -> Vec<Cow<'a, str>> {
    vec![Cow::Owned(line.to_string()), id_cell(id), safe(error)]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn formula_cells_are_escaped() {
        for cell in ["=1+1", "+1", "-1", "@SUM(A1)", " =1", "  @x"] {
            assert_eq!(safe(cell), format!("'{cell}"));
        }
        for cell in ["p001", "", "1", "a=b", "   ", "x -1", "café 中"] {
            assert_eq!(safe(cell), cell);
        }
    }

    #[test]
    fn control_characters_become_visible_escapes() {
        // A leading tab or carriage return is no longer a character a spreadsheet
        // could act on: it is the text `\t` / `\r`.
        assert_eq!(safe("\tx"), "\\tx");
        assert_eq!(safe("\rx"), "\\rx");
        assert_eq!(safe("a\u{1b}[2Jb\0"), "a\\u{1b}[2Jb\\u{0}");
        assert_eq!(safe("\u{202e}=1"), "\\u{202e}=1");
        assert_eq!(safe("=\u{1b}"), "'=\\u{1b}");
    }
}
