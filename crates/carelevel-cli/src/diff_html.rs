//! `carelevel diff --format html`: the diff as one self-contained HTML page for
//! review: inline CSS only, no script, no external resource; every text escaped.

use std::fmt::Write as _;

use carelevel::analysis::{DiffReport, Direction};
use carelevel::text::Shown;
use carelevel::Ruleset;

use crate::describe_doc::html;
use crate::diff::{
    in_neither_text, more_classes_text, moved_in_order, one_sided, one_sided_counts, pattern_text,
    to_usize, unlisted,
};
use crate::diff_cases::{self, CaseRef, Cases};
use crate::render;

/// The page's style: colour-coded matrix cells (each also labelled in words), readable
/// on screen and in print.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;\
padding:0 1rem;line-height:1.45;color:#111}h1,h2,h3{line-height:1.2}h2{border-bottom:1px solid #ccc}\
.notice{border-left:.4rem solid #555;background:#f2f2f2;padding:.5rem 1rem;font-weight:bold}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}\
code{font-family:ui-monospace,monospace;overflow-wrap:anywhere}\
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #999;padding:.3rem .6rem;\
text-align:left;vertical-align:top}td.n{text-align:right}th[scope=row]{text-align:left}\
.same{background:#fff}.up{background:#f9c98f}.down{background:#a9cdf2}.other{background:#d9d0e6}\
.tag{display:block;font-size:.85em}.legend span{display:inline-block;border:1px solid #999;\
padding:.1rem .5rem;margin-right:.5rem}\
@media print{body{margin:0;max-width:none}.up,.down,.other{-webkit-print-color-adjust:exact;\
print-color-adjust:exact}}";

/// The CSS class and text label of a matrix cell or a change of level.
fn tone(d: Direction) -> (&'static str, &'static str) {
    match d {
        Direction::Escalation => ("up", "▲ escalation"),
        Direction::DeEscalation => ("down", "▼ de-escalation"),
        Direction::Incomparable => ("other", "◆ not comparable"),
    }
}

/// The diff as one HTML page.
pub fn page(r: &DiffReport, cases: &Cases, old: &Ruleset, new: &Ruleset) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>carelevel diff: {} → {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        html(&r.old),
        html(&r.new)
    );
    let _ = writeln!(
        s,
        "<h1>carelevel diff: {} → {}</h1>",
        html(&r.old),
        html(&r.new)
    );
    let _ = writeln!(
        s,
        "<p class=\"notice\">Decision support only: this report shows how replacing the \
         ruleset in force (OLD) with the proposed one (NEW) changes the levels of care \
         recommended. A qualified professional makes every placement.</p>"
    );
    s.push_str("<dl>\n");
    for (who, rs, sha) in [("OLD", old, &r.old_sha256), ("NEW", new, &r.new_sha256)] {
        let m = rs.metadata();
        let _ = writeln!(
            s,
            "<dt>{who}</dt><dd><code>{}</code> version <code>{}</code>, sha256 <code>{}</code></dd>",
            html(&m.id),
            html(&m.version),
            html(sha)
        );
    }
    let _ = writeln!(
        s,
        "<dt>Answer space</dt><dd>{} classes ({})</dd>",
        r.classes,
        if r.includes_missing_answers {
            "every combination of answers, including unanswered questions"
        } else {
            "every combination of complete answers"
        }
    );
    s.push_str("</dl>\n");
    let _ = writeln!(s, "<p><strong>{}</strong></p>", html(&r.summary()));
    if !r.notes.is_empty() {
        s.push_str("<ul class=\"notes\">\n");
        for note in &r.notes {
            let _ = writeln!(s, "<li>Note: {}</li>", html(note));
        }
        s.push_str("</ul>\n");
    }
    matrix(&mut s, r, old, new);
    level_changes(&mut s, r);
    flags_and_review(&mut s, r);
    for (title, side) in one_sided(r) {
        let _ = writeln!(s, "<h2>{}</h2>", html(&title));
        let _ = writeln!(s, "<p>{}</p>", html(&one_sided_counts(side)));
    }
    if r.in_neither > 0 {
        let _ = writeln!(s, "<p>{}</p>", html(&in_neither_text(r.in_neither)));
    }
    if r.case_matrix.is_some() {
        case_changes(&mut s, r, cases);
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// The transition matrix as a table: unchanged cells neutral, escalations and
/// de-escalations each their colour, every changed cell also labelled in words.
fn matrix(s: &mut String, r: &DiffReport, old: &Ruleset, new: &Ruleset) {
    let _ = writeln!(s, "<h2>Transition matrix</h2>");
    let _ = writeln!(
        s,
        "<p>Rows: level under OLD; columns: level under NEW. Each cell counts answer-set \
         classes{}.</p>",
        if r.case_matrix.is_some() {
            ", then the cases from the cases file"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "<p class=\"legend\">Legend: <span class=\"same\">= unchanged: the same level (no colour; an \
         uncoloured cell off the diagonal moves nobody)</span><span class=\"up\">▲ escalation: a more intensive level under NEW</span>\
         <span class=\"down\">▼ de-escalation: a less intensive level under NEW</span>\
         <span class=\"other\">◆ not comparable (a level only one ruleset has, or refused)</span></p>"
    );
    s.push_str("<table class=\"matrix\">\n<thead><tr><th scope=\"col\">OLD \\ NEW</th>");
    for l in &r.levels {
        let _ = write!(s, "<th scope=\"col\">{}</th>", html(&l.id));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for (i, (from, row)) in r.levels.iter().zip(&r.matrix).enumerate() {
        let _ = write!(s, "<tr><th scope=\"row\">{}</th>", html(&from.id));
        for (j, (to, &classes)) in r.levels.iter().zip(row).enumerate() {
            let case_count = r
                .case_matrix
                .as_ref()
                .and_then(|m| m.get(i))
                .and_then(|row| row.get(j))
                .copied();
            let moves = i != j && (classes > 0 || case_count.is_some_and(|n| n > 0));
            let (class, label) = if moves {
                tone(diff_cases::direction(old, new, &from.id, &to.id))
            } else if i == j {
                ("same", "= unchanged")
            } else {
                ("same", "")
            };
            let _ = write!(
                s,
                "<td class=\"n {class}\">{}",
                render::plural(to_usize(classes), "class", "classes")
            );
            if let Some(n) = case_count {
                let _ = write!(s, "<br>{}", render::plural(to_usize(n), "case", "cases"));
            }
            if !label.is_empty() {
                let _ = write!(s, "<span class=\"tag\">{label}</span>");
            }
            s.push_str("</td>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n");
}

/// Each moved population with the patterns that describe it.
fn level_changes(s: &mut String, r: &DiffReport) {
    let _ = writeln!(s, "<h2>Level changes</h2>");
    if r.cells.is_empty() {
        let _ = writeln!(s, "<p>No answer set changes level.</p>");
        return;
    }
    for cell in &r.cells {
        let (class, label) = tone(cell.direction);
        let _ = writeln!(
            s,
            "<h3 class=\"{class}\">{} → {} ({label}): {}{}</h3>",
            html(&cell.from),
            html(&cell.to),
            render::plural(to_usize(cell.classes), "class", "classes"),
            cell.cases.map_or_else(String::new, |n| format!(
                ", {}",
                render::plural(to_usize(n), "case", "cases")
            ))
        );
        s.push_str(
            "<table>\n<thead><tr><th scope=\"col\">When</th><th scope=\"col\">OLD decided by</th>\
             <th scope=\"col\">NEW decided by</th></tr></thead>\n<tbody>\n",
        );
        for e in &cell.examples {
            let _ = writeln!(
                s,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                html(&pattern_text(e)),
                html(&e.old_decided.words()),
                html(&e.new_decided.words())
            );
        }
        if let Some(line) = more_classes_text(cell) {
            let _ = writeln!(s, "<tr><td colspan=\"3\">{}</td></tr>", html(&line));
        }
        s.push_str("</tbody>\n</table>\n");
    }
}

/// Flag changes and review changes over the answer space.
fn flags_and_review(s: &mut String, r: &DiffReport) {
    let _ = writeln!(s, "<h2>Flag and review changes</h2>");
    if r.flag_changes.is_empty() {
        let _ = writeln!(s, "<p>No flag changes.</p>");
    } else {
        s.push_str(
            "<table>\n<thead><tr><th scope=\"col\">Flag</th><th scope=\"col\">Newly fires for</th>\
             <th scope=\"col\">No longer fires for</th><th scope=\"col\">Newly fires, e.g.</th>\
             <th scope=\"col\">No longer fires, e.g.</th></tr></thead>\n<tbody>\n",
        );
        for f in &r.flag_changes {
            let example = |e: &Option<carelevel::analysis::AnswerSet>| {
                e.as_ref().map_or_else(String::new, |e| {
                    format!("<code>{}</code>", html(&e.to_string()))
                })
            };
            let _ = writeln!(
                s,
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td>{}</td><td>{}</td></tr>",
                html(&f.flag),
                render::plural(to_usize(f.gained), "class", "classes"),
                render::plural(to_usize(f.lost), "class", "classes"),
                example(&f.gained_example),
                example(&f.lost_example)
            );
        }
        s.push_str("</tbody>\n</table>\n");
    }
    let _ = writeln!(
        s,
        "<p>Needs review: {} newly {} review; {} no longer {}.</p>",
        render::plural(to_usize(r.review_gained), "class", "classes"),
        if r.review_gained == 1 {
            "needs"
        } else {
            "need"
        },
        render::plural(to_usize(r.review_lost), "class", "classes"),
        if r.review_lost == 1 { "does" } else { "do" }
    );
}

/// The people from the cases file who move, every one listed, and the cases that
/// could not be assessed.
fn case_changes(s: &mut String, r: &DiffReport, cases: &Cases) {
    let _ = writeln!(s, "<h2>Cases that change</h2>");
    let mut lists: Vec<(String, &[CaseRef])> = Vec::new();
    for ((from, to), m) in moved_in_order(r, cases) {
        lists.push((
            format!("{} → {} ({})", html(from), html(to), tone(m.direction).1),
            m.cases.as_slice(),
        ));
    }
    for (flag, f) in &cases.flags {
        for (list, what) in [(&f.gained, "newly fires"), (&f.lost, "no longer fires")] {
            if !list.is_empty() {
                lists.push((
                    format!("flag <code>{}</code> {what}", html(flag)),
                    list.as_slice(),
                ));
            }
        }
    }
    for (list, what) in [
        (&cases.review.gained, "newly needs review"),
        (&cases.review.lost, "no longer needs review"),
    ] {
        if !list.is_empty() {
            lists.push((what.to_owned(), list.as_slice()));
        }
    }
    if lists.is_empty() {
        let _ = writeln!(s, "<p>No case changes level, flags or review.</p>");
    } else {
        let _ = writeln!(
            s,
            "<p>Each case is named by its <code>{}</code>, or by its line when it has none; \
             every case is listed.</p>",
            html(&cases.id_field)
        );
        s.push_str("<dl>\n");
        for (label, list) in lists {
            let names: Vec<String> = list.iter().map(|c| html(&c.to_string())).collect();
            let _ = writeln!(
                s,
                "<dt>{label}: {}</dt><dd>{}</dd>",
                render::plural(list.len(), "case", "cases"),
                names.join(", ")
            );
        }
        s.push_str("</dl>\n");
    }
    if cases.error_count() > 0 {
        let _ = writeln!(
            s,
            "<h3>Cases that could not be assessed ({})</h3>\n<ul>",
            cases.error_count()
        );
        for e in &cases.errors {
            let id = e.id.as_deref().map_or_else(String::new, |i| {
                format!(" (id {})", html(&Shown::excerpt(i).to_string()))
            });
            let _ = writeln!(s, "<li>line {}{id}: {}</li>", e.line, html(&e.message));
        }
        if let Some(line) = unlisted(cases) {
            let _ = writeln!(s, "<li>{}</li>", html(&line));
        }
        s.push_str("</ul>\n");
    }
}
