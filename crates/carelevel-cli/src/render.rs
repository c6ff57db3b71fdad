//! Plain-text rendering shared by the subcommands: the assessment report and
//! diagnostics with the offending source line and a caret.
//!
//! The output is plain text in a stable order (it is snapshot-tested). On a terminal
//! the report's refer banner and review heading are coloured ([`Style`]); redirected
//! output never is.

use std::io::{self, Write};

use carelevel::analysis::{Hinge, MissingHinge};
use carelevel::text::Shown;
use carelevel::{Assessment, Basis, Diagnostic, FiredFlag, FlagKind, Ruleset, Value};

use crate::input::Source;
use crate::style::Style;

/// Width that wrapped paragraphs are filled to.
const WIDTH: usize = 80;

/// `1 rule`, `3 rules`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Fill `text` into lines of at most [`WIDTH`] characters (longer words stay whole).
/// The first line starts with `first`, the others with `rest`. Line breaks and tabs in
/// `text` are whitespace like spaces; any other control or invisible character is shown
/// as an escape (`carelevel::text`), so ruleset texts cannot act on a terminal.
pub fn wrap(text: &str, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        let word = Shown::full(word).to_string();
        let word = word.as_str();
        let len = line.chars().count();
        if !empty && len + 1 + word.chars().count() > WIDTH {
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines
}

/// Write `text` filled with [`wrap`].
pub fn write_wrapped(out: &mut dyn Write, first: &str, rest: &str, text: &str) -> io::Result<()> {
    for line in wrap(text, first, rest) {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Diagnostics
// ---------------------------------------------------------------------------

/// Write every diagnostic as `FILE:LINE:COL: SEVERITY: PATH: MESSAGE`, followed by
/// the offending source line and a caret under the column (like rustc), and a blank line.
pub fn diagnostics(
    out: &mut dyn Write,
    source: &Source,
    diagnostics: &[Diagnostic],
) -> io::Result<()> {
    for d in diagnostics {
        diagnostic(out, source, d)?;
    }
    Ok(())
}

/// Write one diagnostic (see [`diagnostics`]).
fn diagnostic(out: &mut dyn Write, source: &Source, d: &Diagnostic) -> io::Result<()> {
    diagnostic_with(out, source, d, &[])
}

/// Write one diagnostic followed by `extra` lines (indented), then a blank line.
pub fn diagnostic_with(
    out: &mut dyn Write,
    source: &Source,
    d: &Diagnostic,
    extra: &[String],
) -> io::Result<()> {
    // Core messages are already safe to show; these may come from elsewhere.
    let message = match &d.path {
        Some(path) => format!("{}: {}", Shown::full(path), Shown::full(&d.message)),
        None => Shown::full(&d.message).to_string(),
    };
    let name = Shown::full(&source.name);
    match d.location {
        Some(loc) => writeln!(
            out,
            "{name}:{}:{}: {}: {message}",
            loc.line, loc.column, d.severity
        )?,
        None => writeln!(out, "{name}: {}: {message}", d.severity)?,
    }
    if let Some(loc) = d.location {
        let line = loc
            .line
            .checked_sub(1)
            .and_then(|i| source.text.lines().nth(i));
        if let Some(line) = line {
            let (shown, caret) = excerpt(line.trim_end_matches('\r'), loc.column);
            let gutter = loc.line.to_string().len().max(4);
            writeln!(out, "{:>gutter$} | {shown}", loc.line)?;
            // A column past the end of the line (an error at the end of input) puts the
            // caret just after it.
            let pad = " ".repeat(caret);
            writeln!(out, "{:>gutter$} | {pad}^", "")?;
        }
    }
    for line in extra {
        writeln!(out, "      {line}")?;
    }
    writeln!(out)
}

/// Longest part of a source line quoted under a diagnostic, in characters.
const EXCERPT: usize = 100;

/// The part of `line` to quote under a diagnostic at 1-based `column`, and the caret's
/// offset in it (in characters): the whole line when it is short, else [`EXCERPT`]
/// characters around the column with `…` where the line is cut (a 4 MiB one-line file
/// must not be echoed whole). Control and invisible characters, tabs included, are
/// shown as escapes (`carelevel::text`), so that they cannot act on a terminal, and the
/// caret counts the escapes before it.
fn excerpt(line: &str, column: usize) -> (String, usize) {
    let index = column.saturating_sub(1);
    let length = line.chars().count();
    let (start, take) = if length <= EXCERPT {
        (0, length)
    } else {
        (
            index.saturating_sub(EXCERPT / 2).min(length - EXCERPT),
            EXCERPT,
        )
    };
    let window: String = line.chars().skip(start).take(take).collect();
    let split = window
        .char_indices()
        .nth(index.saturating_sub(start))
        .map_or(window.len(), |(i, _)| i);
    let (before, after) = window.split_at(split);
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.push_str(&Shown::full(before).to_string());
    let caret = shown.chars().count() + index.saturating_sub(start + before.chars().count());
    shown.push_str(&Shown::full(after).to_string());
    if start + take < length {
        shown.push('…');
    }
    (shown, caret)
}

// ---------------------------------------------------------------------------
// Assessment report
// ---------------------------------------------------------------------------

/// The tag shown before a flag: refer flags in capitals so they stand out.
fn flag_tag(kind: FlagKind) -> &'static str {
    match kind {
        FlagKind::Refer => "REFER ",
        FlagKind::Review => "review",
        FlagKind::Info => "info  ",
    }
}

/// Flags with `refer` first, then `review`, then `info` (declaration order within a kind).
fn by_kind<'a>(flags: &'a [FiredFlag<'a>]) -> Vec<&'a FiredFlag<'a>> {
    let mut sorted: Vec<&FiredFlag<'_>> = flags.iter().collect();
    sorted.sort_by_key(|f| f.kind);
    sorted
}

/// Write a flag with its message and source, indented; a fired refer flag's tag in
/// the alert style.
fn write_flag(
    out: &mut dyn Write,
    flag: &FiredFlag<'_>,
    fired: bool,
    style: Style,
) -> io::Result<()> {
    let tag = flag_tag(flag.kind);
    let tag = if fired && flag.kind == FlagKind::Refer {
        style.alert(tag)
    } else {
        tag.to_owned()
    };
    writeln!(out, "  {tag}  {}", flag.id)?;
    write_wrapped(out, "      ", "      ", &flag.message)?;
    if let Some(source) = &flag.source {
        write_wrapped(out, "      Source: ", "        ", source)?;
    }
    Ok(())
}

/// The one-line reason for the recommended level.
fn why(a: &Assessment<'_>) -> String {
    let deciding = a.deciding_rules.join(", ");
    let total = a.score.as_ref().map_or(0, |s| s.total);
    match a.basis {
        Basis::Rules => format!("fired rules call for this level: {deciding}."),
        Basis::Score => format!("the score ({total}) falls in the band for this level."),
        Basis::RulesAndScore => format!(
            "fired rules call for this level ({deciding}), and so does the score ({total})."
        ),
        Basis::LowestLevel => {
            "no rule calls for more; this is the least intensive level.".to_owned()
        }
        Basis::MissingAnswers => format!(
            "missing answers could call for this level; the answers given call for at least {}.",
            a.level_range.lowest.id
        ),
    }
}

/// The banner that opens a report in which a refer flag fired: a rule of `=` above and
/// below, so that it cannot be overlooked, and the alert style on a terminal.
fn refer_banner(out: &mut dyn Write, a: &Assessment<'_>, style: Style) -> io::Result<()> {
    let refer: Vec<&str> = a
        .flags
        .iter()
        .filter(|f| f.kind == FlagKind::Refer)
        .map(|f| f.id.as_ref())
        .collect();
    let rule = "=".repeat(WIDTH);
    let mut lines = vec![rule.clone()];
    lines.extend(wrap(
        &format!(
            "{} fired. The person needs care beyond these levels, or an emergency \
             evaluation, before any placement. The level below applies only after that \
             (see Flags below).",
            refer.join(", ")
        ),
        "REFER FIRST: ",
        "",
    ));
    lines.push(rule);
    for line in lines {
        writeln!(out, "{}", style.alert(line.trim_end()))?;
    }
    Ok(())
}

/// What `assess --explain` adds to a report.
#[derive(Debug, serde::Serialize)]
pub struct Explanation {
    /// For each answer given (or assumed), the nearest answers that move the level.
    pub hinges: Vec<Hinge>,
    /// For each missing question, the level each answer to it would lead to.
    pub missing: Vec<MissingHinge>,
}

/// Write the plain-text report of an assessment of answers to `ruleset`, styled with
/// `style` (plain unless the output is a terminal: [`Style::for_stdout`]).
///
/// A fired refer flag opens the report with a banner; the `--explain` section (when
/// given) comes before the footer.
pub fn assessment_with(
    out: &mut dyn Write,
    ruleset: &Ruleset,
    a: &Assessment<'_>,
    explanation: Option<&Explanation>,
    style: Style,
) -> io::Result<()> {
    if a.refer {
        refer_banner(out, a, style)?;
    }
    writeln!(
        out,
        "Recommended level: {} ({})",
        Shown::full(&a.level.label),
        a.level.id
    )?;
    write_wrapped(out, "Why: ", "     ", &why(a))?;
    let range = &a.level_range;
    if range.lowest.rank != range.highest.rank {
        write_wrapped(
            out,
            "Level range: ",
            "             ",
            &format!(
                "{} to {}, depending on the missing answers",
                range.lowest.id, range.highest.id
            ),
        )?;
    }
    // `needs_review` is about the answers (missing ones, or input warnings), not about
    // the person: say so, so that it cannot read as "nothing to do" under a referral.
    if a.needs_review {
        writeln!(
            out,
            "{}",
            style.caution("NEEDS REVIEW of the answers before placement:")
        )?;
        for reason in &a.review_reasons {
            write_wrapped(out, "  - ", "    ", reason)?;
        }
    } else {
        let then = if a.refer {
            " The referral above still comes first."
        } else {
            ""
        };
        write_wrapped(
            out,
            "Review of the answers: not needed; ",
            "  ",
            &format!("no missing answer could change the level or raise a refer flag.{then}"),
        )?;
    }
    if let Some(dimensions) = &a.dimensions {
        writeln!(out)?;
        writeln!(out, "By dimension (the level each calls for on its own):")?;
        for d in dimensions {
            write_wrapped(out, "  - ", "    ", &d.summary)?;
        }
    }
    writeln!(out)?;
    if a.fired_rules.is_empty() {
        writeln!(out, "Rules that fired: none")?;
    } else {
        writeln!(
            out,
            "Rules that fired ({}; * marks the rules that decide the level):",
            a.fired_rules.len()
        )?;
        for rule in &a.fired_rules {
            let mark = if a.deciding_rules.contains(&rule.id) {
                '*'
            } else {
                ' '
            };
            writeln!(out, "  {mark} {} -> {}", rule.id, rule.level)?;
            write_wrapped(out, "      ", "      ", &rule.because)?;
            for test in &rule.score_tests {
                let total = a.score.as_ref().map_or(0, |s| s.total);
                let line = if a
                    .score
                    .as_ref()
                    .is_some_and(|s| s.unanswered_min != s.unanswered_max)
                {
                    format!("Total score: {total} from the answers given; it is {test} whatever the unanswered questions add")
                } else {
                    format!("Total score: {total}, which is {test}")
                };
                write_wrapped(out, "      ", "      ", &line)?;
            }
            if let Some(source) = &rule.source {
                write_wrapped(out, "      Source: ", "        ", source)?;
            }
        }
    }

    if let Some(score) = &a.score {
        writeln!(out)?;
        let band = match &score.band_level {
            Some(level) if score.decides => format!("band: {}; decides the level", level.id),
            Some(level) => format!("band: {}; does not decide the level", level.id),
            None => "band: not settled; missing answers could move it".to_owned(),
        };
        writeln!(out, "Score: {} ({band})", score.total)?;
        for item in &score.breakdown {
            let unit = if item.points.unsigned_abs() == 1 {
                "point"
            } else {
                "points"
            };
            writeln!(
                out,
                "  {} = {}: {} {unit}",
                item.factor, item.value, item.points
            )?;
        }
        if score.unanswered_min != 0 || score.unanswered_max != 0 {
            writeln!(
                out,
                "  unanswered questions could add {} to {} points (total {} to {})",
                score.unanswered_min,
                score.unanswered_max,
                score.total.saturating_add(score.unanswered_min),
                score.total.saturating_add(score.unanswered_max)
            )?;
        }
    }

    writeln!(out)?;
    if a.flags.is_empty() {
        writeln!(out, "Flags: none")?;
    } else {
        writeln!(out, "Flags ({}):", a.flags.len())?;
        for flag in by_kind(&a.flags) {
            write_flag(out, flag, true, style)?;
        }
    }
    if !a.possible_flags.is_empty() {
        writeln!(
            out,
            "Possible flags ({}; could fire, depending on the missing answers):",
            a.possible_flags.len()
        )?;
        for flag in by_kind(&a.possible_flags) {
            write_flag(out, flag, false, style)?;
        }
    }

    writeln!(out)?;
    if a.missing.is_empty() {
        writeln!(out, "Missing answers: none")?;
    } else {
        writeln!(out, "Missing answers ({}):", a.missing.len())?;
        for m in &a.missing {
            let effect = if m.could_change_level {
                "could change the level"
            } else {
                "cannot change the level"
            };
            writeln!(out, "  - {} ({effect})", m.factor)?;
            write_wrapped(out, "      ", "      ", &m.question)?;
            if let Some(f) = ruleset.factor_index(&m.factor) {
                if let Some(factor) = ruleset.factors().get(f) {
                    write_wrapped(
                        out,
                        "      Answers: ",
                        "        ",
                        &factor.allowed_answers(),
                    )?;
                }
            }
        }
    }
    if !a.assumed.is_empty() {
        writeln!(
            out,
            "Assumed answers ({}; not given, the ruleset's assumed value was used):",
            a.assumed.len()
        )?;
        for assumed in &a.assumed {
            writeln!(out, "  - {} = {}", assumed.factor, assumed.value)?;
        }
    }

    if let Some(e) = explanation {
        hinges(out, a, &e.hinges)?;
        missing_hinges(out, a, &e.missing)?;
    }
    let p = &a.provenance;
    writeln!(out)?;
    writeln!(
        out,
        "Ruleset: {} {} (sha256 {}); engine: {} {}",
        p.ruleset_id,
        Shown::full(&p.ruleset_version),
        p.ruleset_sha256.get(..12).unwrap_or(&p.ruleset_sha256),
        p.engine,
        p.engine_version
    )?;
    write_wrapped(
        out,
        "",
        "",
        "Decision support only: this is a recommendation, not a placement. A qualified \
         professional makes the final placement.",
    )
}

/// The `--explain` section: for each answer, the nearest answers that move the level.
/// An assumed answer shows the value that was assumed.
fn hinges(out: &mut dyn Write, a: &Assessment<'_>, hinges: &[Hinge]) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "What would change the result (the nearest answer up and down each scale that moves the level, everything else as given):"
    )?;
    for h in hinges {
        let current = h.current.as_ref().map_or_else(
            || {
                a.assumed.iter().find(|x| x.factor == h.factor).map_or_else(
                    || "(assumed)".to_owned(),
                    |x| format!("{} (assumed)", x.value),
                )
            },
            ToString::to_string,
        );
        let up = h.up.as_ref().map_or_else(
            || "no higher answer changes it".to_owned(),
            |(v, l)| format!("raised to {v} -> {l}"),
        );
        let down = h.down.as_ref().map_or_else(
            || "no lower answer changes it".to_owned(),
            |(v, l)| format!("lowered to {v} -> {l}"),
        );
        let marker = if h.up.is_some() || h.down.is_some() {
            "*"
        } else {
            " "
        };
        writeln!(out, "  {marker} {} = {current}: {up}; {down}", h.factor)?;
    }
    writeln!(
        out,
        "  (* the recommendation of {} hinges on this answer)",
        a.level.id
    )
}

/// Answers in words: `none, low or moderate`; an integer interval `0 to 19`.
fn answers_in_words(values: &[Value], integer: bool) -> String {
    match values {
        [lo, hi] if integer && lo != hi => format!("{lo} to {hi}"),
        [one, ..] if integer => one.to_string(),
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(ToString::to_string).collect();
            format!("{} or {last}", init.join(", "))
        }
    }
}

/// The `--explain` part on missing answers: for each, the level each answer would lead
/// to when only it is answered.
fn missing_hinges(
    out: &mut dyn Write,
    a: &Assessment<'_>,
    missing: &[MissingHinge],
) -> io::Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "What each missing answer would do (answered alone, the other missing answers still unknown):"
    )?;
    for m in missing {
        let integer = m
            .answers
            .first()
            .is_some_and(|o| matches!(o.values.first(), Some(Value::Integer(_))));
        let text = if m.changes_level() {
            let parts: Vec<String> = m
                .answers
                .iter()
                .map(|o| {
                    let now = if o.changes_level { "" } else { " (as now)" };
                    format!(
                        "{} -> {}{now}",
                        answers_in_words(&o.values, integer),
                        o.level
                    )
                })
                .collect();
            parts.join("; ")
        } else {
            let level = m.answers.first().map_or("", |o| o.level.as_str());
            let others: Vec<&str> = missing
                .iter()
                .filter(|x| x.factor != m.factor)
                .map(|x| x.factor.as_str())
                .collect();
            // Whether some answer to it changes the level in some completion of the others.
            let matters = a
                .missing
                .iter()
                .any(|x| x.factor == m.factor && x.could_change_level);
            if others.is_empty() || !matters {
                format!("no answer to it changes the level ({level} with any answer)")
            } else {
                format!(
                    "no answer to it alone changes the level ({level} with any answer while {} {} unknown)",
                    others.join(", "),
                    if others.len() == 1 { "is" } else { "are" }
                )
            }
        };
        let marker = if m.changes_level() { "*" } else { " " };
        write_wrapped(
            out,
            &format!("  {marker} {}: ", Shown::full(&m.factor)),
            "      ",
            &text,
        )?;
    }
    if missing.iter().any(MissingHinge::changes_level) {
        writeln!(
            out,
            "  (* answering this question could change the recommendation)"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;

    #[test]
    fn the_caret_counts_the_escapes_before_it() {
        // Column 4 is `x`, after a tab and ESC shown as `\t` and `\u{1b}`.
        let (shown, caret) = excerpt("\t\u{1b}ax", 4);
        assert_eq!(shown, "\\t\\u{1b}ax");
        assert_eq!(shown.chars().nth(caret), Some('x'));
        // Past the end of the line: just after it.
        let (shown, caret) = excerpt("\u{1b}", 2);
        assert_eq!(caret, shown.chars().count());
    }

    #[test]
    fn a_long_line_is_cut_around_the_column_and_escaped() {
        let line = format!("{}\u{1b}{}", "x".repeat(500), "y".repeat(500));
        let (shown, caret) = excerpt(&line, 501);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert_eq!(
            shown.chars().filter(|c| *c == 'x' || *c == 'y').count(),
            EXCERPT - 1
        );
        assert_eq!(
            shown.chars().skip(caret).take(6).collect::<String>(),
            "\\u{1b}"
        );
    }

    /// The report of `text` (YAML answers) under the default ruleset.
    fn report(yaml: &str, style: Style) -> String {
        let rules = carelevel::Ruleset::default_ruleset().unwrap();
        let answers = rules.answers_from_yaml(yaml).unwrap();
        let a = rules.assess(&answers).unwrap();
        let mut out = Vec::new();
        assessment_with(&mut out, &rules, &a, None, style).unwrap();
        String::from_utf8(out).unwrap()
    }

    const REFER: &str = include_str!("../../../examples/answers/refer.yaml");

    #[test]
    fn a_refer_report_opens_with_the_banner_and_words_review_as_about_answers() {
        let text = report(REFER, Style::PLAIN);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "=".repeat(WIDTH), "{text}");
        assert!(lines[1].starts_with("REFER FIRST: "), "{text}");
        let close = lines.iter().skip(1).position(|l| *l == "=".repeat(WIDTH));
        let close = close.unwrap() + 1;
        assert!(
            lines[close + 1].starts_with("Recommended level: "),
            "{text}"
        );
        assert!(!text.contains("Needs review: no"), "{text}");
        assert!(
            text.contains("The referral above still comes first."),
            "{text}"
        );
        assert!(!text.contains('\x1b'), "{text}");
    }

    #[test]
    fn on_a_terminal_the_banner_and_fired_refer_tags_are_red() {
        let text = report(REFER, Style::ON);
        let first = text.lines().next().unwrap();
        assert_eq!(first, format!("\x1b[1;31m{}\x1b[0m", "=".repeat(WIDTH)));
        assert!(text.contains("\x1b[1;31mREFER FIRST: "), "{text}");
        assert!(text.contains("  \x1b[1;31mREFER \x1b[0m  refer_"), "{text}");
    }

    #[test]
    fn without_a_referral_there_is_no_banner() {
        let text = report(
            include_str!("../../../examples/answers/outpatient.yaml"),
            Style::ON,
        );
        assert!(text.starts_with("Recommended level: "), "{text}");
        assert!(!text.contains("REFER FIRST"), "{text}");
        assert!(!text.contains("still comes first"), "{text}");
    }

    #[test]
    fn wrapped_text_is_escaped_and_line_breaks_are_spaces() {
        let lines = wrap("a\u{1b}[2J b\nc\td\u{202e}", "", "");
        assert_eq!(lines, ["a\\u{1b}[2J b c d\\u{202e}"]);
    }
}
