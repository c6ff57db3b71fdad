//! `carelevel describe --format markdown|html`: the ruleset as a document a clinical
//! governance committee can review and sign off.
//!
//! The document is built once as a list of [`Block`]s and rendered to Markdown or to
//! one self-contained HTML page (inline style, no script, no external resource). Every
//! text from the ruleset is untrusted: it goes through [`Shown`] (control and invisible
//! characters made visible) and is then escaped for the format, so a ruleset cannot
//! inject markup, links or scripts.

use std::fmt::Write as _;

use carelevel::analysis::{self, FindingKind};
use carelevel::text::Shown;
use carelevel::{FactorKind, FlagKind, MissingPolicy, Ruleset};

/// One part of the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading of level 1 to 3.
    Heading(u8, String),
    /// A paragraph.
    Para(String),
    /// A paragraph that must stand out (the decision-support notice, refer flags).
    Notice(String),
    /// Labelled lines: "Level: residential".
    Fields(Vec<(String, String)>),
    /// A bulleted list.
    List(Vec<String>),
    /// A table: header cells, then rows.
    Table(Vec<String>, Vec<Vec<String>>),
}

/// The answers a factor takes, in words.
fn answers(kind: &FactorKind) -> String {
    match kind {
        FactorKind::Ordinal { values } => format!("{} (least risk first)", values.join(", ")),
        FactorKind::Boolean => "true or false".to_owned(),
        FactorKind::Integer { min, max, bands } => {
            let mut s = format!("a whole number from {min} to {max}");
            if !bands.is_empty() {
                let b: Vec<String> = bands
                    .iter()
                    .map(|b| format!("{} {} to {}", b.id, b.min, b.max))
                    .collect();
                let _ = write!(s, "; bands: {}", b.join(", "));
            }
            s
        }
    }
}

/// Build the document for `ruleset`. Runs the whole-space check to say whether each
/// invariant is proved.
pub fn document(ruleset: &Ruleset) -> Vec<Block> {
    let meta = ruleset.metadata();
    let level_label = |i: usize| {
        ruleset
            .levels()
            .get(i)
            .map_or_else(String::new, |l| format!("{} ({})", l.label, l.id))
    };
    let mut doc = vec![
        Block::Heading(1, meta.title.clone()),
        Block::Notice(
            "Decision support only: this ruleset recommends a level of care; a qualified \
             professional makes the final placement."
                .to_owned(),
        ),
        Block::Fields(vec![
            ("Ruleset".to_owned(), meta.id.clone()),
            ("Version".to_owned(), meta.version.clone()),
            ("SHA-256".to_owned(), ruleset.sha256().to_owned()),
        ]),
        Block::Para(meta.description.clone()),
    ];
    if !meta.sources.is_empty() {
        doc.push(Block::Heading(2, "Sources".to_owned()));
        doc.push(Block::List(
            meta.sources
                .iter()
                .map(|s| format!("{}: {}", s.id, s.citation))
                .collect(),
        ));
    }
    let dimension_label = |d: Option<usize>| {
        d.and_then(|d| ruleset.dimensions().get(d))
            .map(|d| format!("{} ({})", d.label, d.id))
    };
    if !ruleset.dimensions().is_empty() {
        doc.push(Block::Heading(
            2,
            format!("Dimensions ({})", ruleset.dimensions().len()),
        ));
        doc.push(Block::Para(
            "Each question, rule and flag may belong to one dimension. Dimensions explain              the recommendation dimension by dimension; they never change the level or the              flags."
                .to_owned(),
        ));
        let ids = |items: Vec<&str>| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        for (i, d) in ruleset.dimensions().iter().enumerate() {
            doc.push(Block::Heading(3, format!("{} ({})", d.label, d.id)));
            doc.push(Block::Para(d.description.clone()));
            let mut fields = Vec::new();
            if let Some(s) = &d.source {
                fields.push(("Source".to_owned(), s.clone()));
            }
            let mine = |x: Option<usize>| x == Some(i);
            fields.push((
                "Questions".to_owned(),
                ids(ruleset
                    .factors()
                    .iter()
                    .filter(|f| mine(f.dimension))
                    .map(|f| f.id.as_str())
                    .collect()),
            ));
            fields.push((
                "Rules".to_owned(),
                ids(ruleset
                    .rules()
                    .iter()
                    .filter(|r| mine(r.dimension))
                    .map(|r| r.id.as_str())
                    .collect()),
            ));
            fields.push((
                "Flags".to_owned(),
                ids(ruleset
                    .flags()
                    .iter()
                    .filter(|f| mine(f.dimension))
                    .map(|f| f.id.as_str())
                    .collect()),
            ));
            doc.push(Block::Fields(fields));
        }
    }
    doc.push(Block::Heading(
        2,
        "Levels (least to most intensive)".to_owned(),
    ));
    doc.push(Block::Table(
        vec!["".to_owned(), "Level".to_owned(), "Description".to_owned()],
        ruleset
            .levels()
            .iter()
            .enumerate()
            .map(|(i, l)| {
                vec![
                    (i + 1).to_string(),
                    format!("{} ({})", l.label, l.id),
                    l.description.clone(),
                ]
            })
            .collect(),
    ));
    doc.push(Block::Heading(
        2,
        format!("Questions ({})", ruleset.factors().len()),
    ));
    for f in ruleset.factors() {
        doc.push(Block::Heading(3, f.id.clone()));
        doc.push(Block::Para(f.question.clone()));
        if let Some(d) = &f.description {
            doc.push(Block::Para(d.clone()));
        }
        let missing = match f.missing {
            MissingPolicy::Ask => "ask: every level it could lead to is considered and the \
                                   highest recommended, with review"
                .to_owned(),
            MissingPolicy::Error => "error: it must be answered".to_owned(),
            MissingPolicy::Assume(code) => format!("assume {}", f.render_code(code)),
        };
        let mut fields = vec![
            ("Answers".to_owned(), answers(&f.kind)),
            ("If not answered".to_owned(), missing),
        ];
        if let Some(d) = dimension_label(f.dimension) {
            fields.push(("Dimension".to_owned(), d));
        }
        doc.push(Block::Fields(fields));
    }
    doc.push(Block::Heading(
        2,
        format!("Rules ({})", ruleset.rules().len()),
    ));
    doc.push(Block::Para(
        "Each rule sets the lowest level its condition calls for; the recommendation is \
         the highest level any rule (or the score) calls for."
            .to_owned(),
    ));
    for (i, r) in ruleset.rules().iter().enumerate() {
        doc.push(Block::Heading(3, r.id.clone()));
        let mut fields = vec![
            (
                "When".to_owned(),
                ruleset.rule_condition_words(i).unwrap_or_default(),
            ),
            ("Level at least".to_owned(), level_label(r.level)),
            ("Because".to_owned(), r.because.clone()),
        ];
        if let Some(s) = &r.source {
            fields.push(("Source".to_owned(), s.clone()));
        }
        if let Some(d) = dimension_label(r.dimension) {
            fields.push(("Dimension".to_owned(), d));
        }
        doc.push(Block::Fields(fields));
    }
    if let Some(bands) = ruleset.score_bands() {
        doc.push(Block::Heading(2, "Score bands".to_owned()));
        doc.push(Block::List(
            bands
                .iter()
                .map(|b| {
                    let span = match (b.min, b.max) {
                        (Some(lo), Some(hi)) => format!("{lo} to {hi}"),
                        (Some(lo), None) => format!("{lo} or more"),
                        (None, Some(hi)) => format!("{hi} or less"),
                        (None, None) => "any score".to_owned(),
                    };
                    format!("{span}: {}", level_label(b.level))
                })
                .collect(),
        ));
    }
    doc.push(Block::Heading(
        2,
        format!("Flags ({})", ruleset.flags().len()),
    ));
    doc.push(Block::Para(
        "Flags never change the level. A refer flag means care beyond these levels, or an \
         emergency evaluation, comes first."
            .to_owned(),
    ));
    for (i, f) in ruleset.flags().iter().enumerate() {
        doc.push(Block::Heading(3, format!("{} ({})", f.id, f.kind)));
        if f.kind == FlagKind::Refer {
            doc.push(Block::Notice(format!("REFER: {}", f.message)));
        }
        let mut fields = vec![
            (
                "When".to_owned(),
                ruleset.flag_condition_words(i).unwrap_or_default(),
            ),
            ("Message".to_owned(), f.message.clone()),
        ];
        if let Some(s) = &f.source {
            fields.push(("Source".to_owned(), s.clone()));
        }
        if let Some(d) = dimension_label(f.dimension) {
            fields.push(("Dimension".to_owned(), d));
        }
        doc.push(Block::Fields(fields));
    }
    doc.push(Block::Heading(
        2,
        format!("Invariants ({})", ruleset.invariants().len()),
    ));
    let check = analysis::check(ruleset, false);
    for (i, inv) in ruleset.invariants().iter().enumerate() {
        doc.push(Block::Heading(3, inv.id.clone()));
        if let Some(d) = &inv.description {
            doc.push(Block::Para(d.clone()));
        }
        let mut requires = Vec::new();
        if let Some((lo, hi)) = inv.level_bounds {
            requires.push(if lo == hi {
                format!("the level is {}", level_label(lo))
            } else {
                format!(
                    "the level is from {} to {}",
                    level_label(lo),
                    level_label(hi)
                )
            });
        }
        if let Some(refer) = inv.refer {
            requires.push(format!(
                "a refer flag {}",
                if refer { "fires" } else { "does not fire" }
            ));
        }
        let status = match &check {
            Err(e) => format!("not analysed: {e}"),
            Ok(report) => {
                let finding = report.findings.iter().find(|f| {
                    f.subject == inv.id
                        && matches!(
                            f.kind,
                            FindingKind::InvariantHolds | FindingKind::InvariantFails
                        )
                });
                match finding {
                    Some(f) if f.kind == FindingKind::InvariantHolds => format!(
                        "proved over the whole answer space ({} answer-set classes, {} complete answer combinations)",
                        report.classes, report.combinations
                    ),
                    Some(f) => match &f.example {
                        Some(e) => format!("FAILS: {}; example: {e}", f.message),
                        None => format!("FAILS: {}", f.message),
                    },
                    None => "not analysed".to_owned(),
                }
            }
        };
        doc.push(Block::Fields(vec![
            (
                "For".to_owned(),
                ruleset
                    .invariant_condition_words(i)
                    .unwrap_or_else(|| "every answer set".to_owned()),
            ),
            ("Requires".to_owned(), requires.join(", and ")),
            ("Status".to_owned(), status),
        ]));
    }
    doc
}

/// Ruleset text as one visible line: whitespace runs (line breaks included) become one
/// space, and every other control or invisible character a visible escape.
fn visible(text: &str) -> String {
    let joined: Vec<&str> = text.split_whitespace().collect();
    Shown::full(&joined.join(" ")).to_string()
}

/// Escape text for Markdown: backslash before every character that could start markup,
/// and HTML's `&`, `<` and `>` as entities (Markdown passes HTML through). `(` and
/// `!` are left alone: a link or image needs `[`, which is escaped.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in visible(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The document as Markdown.
pub fn markdown(doc: &[Block]) -> String {
    let mut s = String::new();
    for block in doc {
        match block {
            Block::Heading(level, text) => {
                let hashes = "#".repeat(usize::from(*level).clamp(1, 6));
                let _ = writeln!(s, "{hashes} {}\n", md(text));
            }
            Block::Para(text) => {
                let _ = writeln!(s, "{}\n", md(text));
            }
            Block::Notice(text) => {
                let _ = writeln!(s, "> **{}**\n", md(text));
            }
            Block::Fields(fields) => {
                for (k, v) in fields {
                    let _ = writeln!(s, "- **{}:** {}", md(k), md(v));
                }
                s.push('\n');
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(s, "- {}", md(item));
                }
                s.push('\n');
            }
            Block::Table(head, rows) => {
                let cells =
                    |row: &[String]| row.iter().map(|c| md(c)).collect::<Vec<_>>().join(" | ");
                let _ = writeln!(s, "| {} |", cells(head));
                let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
                for row in rows {
                    let _ = writeln!(s, "| {} |", cells(row));
                }
                s.push('\n');
            }
        }
    }
    s
}

/// Escape text for HTML element content and attribute values.
pub(crate) fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in visible(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The style of the HTML page: readable on screen and in print.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;line-height:1.45;color:#111}h1,h2,h3{line-height:1.2}h2{border-bottom:1px solid #ccc}\
.notice{border-left:.4rem solid #b00;background:#fdecec;padding:.5rem 1rem;font-weight:bold}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;\
vertical-align:top}code{font-family:ui-monospace,monospace}";

/// The document as one self-contained HTML page.
pub fn html_page(doc: &[Block]) -> String {
    let title = doc
        .iter()
        .find_map(|b| match b {
            Block::Heading(1, t) => Some(t.as_str()),
            _ => None,
        })
        .unwrap_or("carelevel ruleset");
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        html(title)
    );
    for block in doc {
        match block {
            Block::Heading(level, text) => {
                let l = level.clamp(&1, &6);
                let _ = writeln!(s, "<h{l}>{}</h{l}>", html(text));
            }
            Block::Para(text) => {
                let _ = writeln!(s, "<p>{}</p>", html(text));
            }
            Block::Notice(text) => {
                let _ = writeln!(s, "<p class=\"notice\">{}</p>", html(text));
            }
            Block::Fields(fields) => {
                s.push_str("<dl>\n");
                for (k, v) in fields {
                    let _ = writeln!(s, "<dt>{}</dt><dd>{}</dd>", html(k), html(v));
                }
                s.push_str("</dl>\n");
            }
            Block::List(items) => {
                s.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(s, "<li>{}</li>", html(item));
                }
                s.push_str("</ul>\n");
            }
            Block::Table(head, rows) => {
                s.push_str("<table>\n<thead><tr>");
                for h in head {
                    let _ = write!(s, "<th>{}</th>", html(h));
                }
                s.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    s.push_str("<tr>");
                    for c in row {
                        let _ = write!(s, "<td>{}</td>", html(c));
                    }
                    s.push_str("</tr>\n");
                }
                s.push_str("</tbody>\n</table>\n");
            }
        }
    }
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use super::*;

    #[test]
    fn markup_in_ruleset_text_is_escaped() {
        let evil = "<script>alert(1)</script> [x](javascript:y) *b* \u{1b}[31m";
        let h = html(evil);
        assert!(!h.contains('<') && !h.contains('\u{1b}'), "{h}");
        assert!(h.starts_with("&lt;script&gt;"), "{h}");
        let m = md(evil);
        assert!(
            !m.contains('<') && !m.contains("[x]") && !m.contains('\u{1b}'),
            "{m}"
        );
        assert!(m.contains("\\*b\\*"), "{m}");
    }

    #[test]
    fn line_breaks_in_ruleset_text_cannot_start_markdown_blocks() {
        assert_eq!(md("a\n# b\n- c"), "a \\# b - c");
    }

    #[test]
    fn the_default_ruleset_document_reads_its_conditions_in_words() {
        let rs = Ruleset::default_ruleset().unwrap();
        let text = markdown(&document(&rs));
        assert!(text.contains(rs.sha256()));
        assert!(text.contains("Decision support only"));
        assert!(
            text.contains("- **When:** severity is moderate or worse"),
            "{text}"
        );
    }
}
