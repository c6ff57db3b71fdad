//! `carelevel interview`: a guided questionnaire in the terminal.
//!
//! Questions are put one at a time in declaration order. Before each one the core's
//! exact analysis ([`carelevel::interview`]) says whether any answer to it can still
//! change the level or a refer flag; questions that cannot are not asked, and the
//! interview stops when none is left. The answers then go through the same report as
//! `carelevel assess`.
//!
//! [`Session`] holds the state and interprets each line typed (no terminal I/O, unit
//! tested); [`run`] does the reading and writing. Prompts and questions go to standard
//! error, the final report to standard output, so `--format json > result.json` works
//! while the questions stay on the screen. `--save` writes the answers through the same
//! temporary-file-and-rename writer as `batch --output`, only once the interview has
//! finished: input that ends early (EOF) or Ctrl-C leaves nothing behind.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;

use carelevel::interview::Progress;
use carelevel::text::Shown;
use carelevel::{Answers, AnswersError, EvalError, FactorKind, FlagKind, MissingPolicy, Ruleset};

use crate::assess::{self, Format};
use crate::input::{self, RulesArg};
use crate::output::{self, Output, Plan};
use crate::render;
use crate::style::Style;
use crate::{interrupt, ExitCode};

/// Arguments of `carelevel interview`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ruleset to use.
    #[command(flatten)]
    pub rules: RulesArg,

    /// Pre-fill one answer (e.g. from a triage), `--answer harm_risk=none`; repeatable.
    /// Pre-filled questions are not asked.
    #[arg(long = "answer", short = 'a', value_name = "FACTOR=VALUE")]
    pub answers: Vec<String>,

    /// Write the answers (given and pre-filled) to FILE as YAML once the interview has
    /// finished, for `carelevel assess FILE`. Nothing is written if it does not finish.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,

    /// Format of the final assessment on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// What one line typed at a question did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The question was answered.
    Answered,
    /// The question was skipped (left unanswered).
    Skipped,
    /// The previous question was reopened.
    Back,
    /// `b` at the first question: nothing to go back to.
    NothingToGoBackTo,
    /// `?`: show the help.
    Help,
    /// The line was not an answer; the message says what is expected.
    Invalid(String),
}

/// The state of one interview.
#[derive(Debug)]
pub struct Session<'r> {
    ruleset: &'r Ruleset,
    answers: Answers<'r>,
    /// Per factor: not put to the person yet (and not pre-filled).
    open: Vec<bool>,
    /// The questions put so far (answered or skipped), latest last, for `b`.
    history: Vec<usize>,
}

impl<'r> Session<'r> {
    /// A session starting from `answers` (pre-filled questions are not asked).
    pub fn new(answers: Answers<'r>) -> Self {
        let ruleset = answers.ruleset();
        let open = ruleset
            .factors()
            .iter()
            .map(|f| !answers.is_answered(&f.id))
            .collect();
        Session {
            ruleset,
            answers,
            open,
            history: Vec::new(),
        }
    }

    /// Where the interview stands, and the next question (`progress.next`).
    pub fn progress(&self) -> Result<Progress, EvalError> {
        self.ruleset.interview_progress(&self.answers, &self.open)
    }

    /// The answers so far.
    pub fn answers(&self) -> &Answers<'r> {
        &self.answers
    }

    /// How many questions were put (answered or skipped).
    pub fn asked(&self) -> usize {
        self.history.len()
    }

    /// Interpret `line` typed at question `index`.
    pub fn respond(&mut self, index: usize, line: &str) -> Reply {
        let Some(factor) = self.ruleset.factors().get(index) else {
            return Reply::Invalid(format!("there is no question #{index}"));
        };
        let text = line.trim();
        match text {
            "?" => return Reply::Help,
            "b" | "B" => {
                return match self.history.pop() {
                    Some(previous) => {
                        self.answers.clear_index(previous);
                        if let Some(o) = self.open.get_mut(previous) {
                            *o = true;
                        }
                        Reply::Back
                    }
                    None => Reply::NothingToGoBackTo,
                }
            }
            "s" | "S" => {
                if factor.missing == MissingPolicy::Error {
                    return Reply::Invalid(
                        "this question must be answered: the ruleset cannot assess without it"
                            .to_owned(),
                    );
                }
                self.put(index);
                return Reply::Skipped;
            }
            "" => return Reply::Invalid(expected(factor)),
            _ => {}
        }
        let result = match (&factor.kind, text.parse::<i64>()) {
            (FactorKind::Ordinal { values }, Ok(n)) => match usize::try_from(n) {
                Ok(k) if (1..=values.len()).contains(&k) => self
                    .answers
                    .set_code(index, n.saturating_sub(1))
                    .map(|_| ()),
                _ => {
                    return Reply::Invalid(format!(
                        "{n} is not one of the numbers 1 to {}. {}",
                        values.len(),
                        expected(factor)
                    ))
                }
            },
            (FactorKind::Boolean, Ok(n)) => match n {
                1 | 2 => self.answers.set_code(index, n - 1).map(|_| ()),
                _ => return Reply::Invalid(format!("{n} is not 1 or 2. {}", expected(factor))),
            },
            _ => self.answers.set_text(&factor.id, text).map(|_| ()),
        };
        match result {
            Ok(()) => {
                self.put(index);
                Reply::Answered
            }
            Err(AnswersError { problems }) => Reply::Invalid(format!(
                "{}. {}",
                problems
                    .first()
                    .map_or("not an answer", |p| p.message.trim_end_matches('.')),
                expected(factor)
            )),
        }
    }

    /// Record that question `index` was put to the person.
    fn put(&mut self, index: usize) {
        if let Some(o) = self.open.get_mut(index) {
            *o = false;
        }
        self.history.push(index);
    }
}

/// What a question takes, in words.
fn expected(factor: &carelevel::Factor) -> String {
    match &factor.kind {
        FactorKind::Ordinal { values } => format!(
            "Type a number from 1 to {} or an answer's name; ? help, b back, s skip.",
            values.len()
        ),
        FactorKind::Boolean => {
            "Type 1 or no, 2 or yes (true/false also work); ? help, b back, s skip.".to_owned()
        }
        FactorKind::Integer { min, max, .. } => {
            format!("Type a whole number from {min} to {max}; ? help, b back, s skip.")
        }
    }
}

/// The levels still open, in words: "so far: IOP or residential".
pub fn range_words(ruleset: &Ruleset, progress: &Progress) -> String {
    let label = |i: usize| {
        ruleset
            .levels()
            .get(i)
            .map_or_else(String::new, |l| Shown::full(&l.label).to_string())
    };
    let (lo, hi) = (progress.lowest, progress.highest);
    if lo == hi {
        format!("so far: {}", label(hi))
    } else if hi == lo + 1 {
        format!("so far: {} or {}", label(lo), label(hi))
    } else {
        format!("so far: between {} and {}", label(lo), label(hi))
    }
}

/// Write question `index` with its description and numbered answers.
fn write_question(
    err: &mut dyn Write,
    ruleset: &Ruleset,
    number: usize,
    index: usize,
    style: Style,
) -> io::Result<()> {
    let Some(factor) = ruleset.factors().get(index) else {
        return Ok(());
    };
    writeln!(err)?;
    writeln!(
        err,
        "{}",
        style.bold(&format!("Question {number}: {}", Shown::full(&factor.id)))
    )?;
    render::write_wrapped(err, "", "", &factor.question)?;
    if let Some(d) = &factor.description {
        render::write_wrapped(err, "  ", "  ", d)?;
    }
    match &factor.kind {
        FactorKind::Ordinal { values } => {
            for (i, v) in values.iter().enumerate() {
                writeln!(err, "  {}) {}", i + 1, Shown::full(v))?;
            }
        }
        FactorKind::Boolean => {
            writeln!(err, "  1) no (false)")?;
            writeln!(err, "  2) yes (true)")?;
        }
        FactorKind::Integer { min, max, bands } => {
            writeln!(err, "  a whole number from {min} to {max}")?;
            for b in bands {
                writeln!(err, "    {}: {} to {}", Shown::full(&b.id), b.min, b.max)?;
            }
        }
    }
    if let MissingPolicy::Assume(code) = factor.missing {
        writeln!(
            err,
            "  (if skipped, {} is assumed)",
            Shown::full(&factor.render_code(code))
        )?;
    }
    Ok(())
}

/// The help shown for `?`.
const HELP: &str = "\
Answer with the number shown before an answer, or its name.
  ?  this help
  b  back: reopen the previous question
  s  skip: leave this question unanswered (its missing policy applies, and the
     result stays open until someone answers it)
Ctrl-D or Ctrl-C stops the interview; nothing is saved or reported.";

/// The answers as YAML, in declaration order, with a comment naming the ruleset.
fn answers_yaml(answers: &Answers<'_>) -> Result<String, String> {
    let ruleset = answers.ruleset();
    let mut map = serde_yaml::Mapping::new();
    for f in ruleset.factors() {
        if let Some(v) = answers.get(&f.id) {
            let value = serde_yaml::to_value(&v).map_err(|e| e.to_string())?;
            map.insert(serde_yaml::Value::String(f.id.clone()), value);
        }
    }
    let body = if map.is_empty() {
        "{}\n".to_owned()
    } else {
        serde_yaml::to_string(&map).map_err(|e| e.to_string())?
    };
    let meta = ruleset.metadata();
    Ok(format!(
        "# Answers from `carelevel interview` for ruleset {} version {} (sha256 {}).\n\
         # A question left out was not answered.\n{body}",
        Shown::full(&meta.id),
        Shown::full(&meta.version),
        ruleset.sha256()
    ))
}

/// Run `carelevel interview`, reading answers from standard input.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let stdin = io::stdin();
    let mut lines = stdin.lock();
    run_with(args, &mut lines, out, err)
}

/// [`run`] with the lines typed coming from `lines`.
fn run_with(
    args: &Args,
    lines: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<ExitCode> {
    let mut overrides = Vec::new();
    for arg in &args.answers {
        match assess::parse_override(arg) {
            Some(pair) => overrides.push((arg.as_str(), pair)),
            None => {
                return input::usage_error(
                    err,
                    &format!(
                        "`--answer {arg}` is not FACTOR=VALUE (e.g. `--answer harm_risk=high`)"
                    ),
                )
            }
        }
    }
    let save_plan = match args.save.as_deref() {
        None => None,
        Some(path) => match output::plan("--save", path) {
            Ok(Plan::Stdout) => {
                return input::usage_error(
                    err,
                    "`--save` to standard output would mix the answers with the report; \
                     name a file",
                )
            }
            Ok(plan) => {
                let inputs: Vec<(&str, &std::path::Path)> = args
                    .rules
                    .rules
                    .as_deref()
                    .map(|p| ("the ruleset", p))
                    .into_iter()
                    .collect();
                if let Err(message) = output::check_distinct(&[("--save", &plan)], &inputs) {
                    return input::usage_error(err, &message);
                }
                Some(plan)
            }
            Err(message) => return input::usage_error(err, &message),
        },
    };
    if let Err(e) = interrupt::install() {
        return input::usage_error(
            err,
            &format!("cannot watch for interrupts: {}", input::io_message(&e)),
        );
    }
    let ruleset = match input::choose_ruleset(&args.rules, err)? {
        Ok(ruleset) => ruleset,
        Err(code) => return Ok(code),
    };
    let mut answers = ruleset.new_answers();
    let mut problems = Vec::new();
    assess::apply_overrides(&mut answers, &overrides, &mut problems);
    if !problems.is_empty() {
        input::error(
            err,
            &format!(
                "invalid answers ({}):",
                render::plural(problems.len(), "problem", "problems")
            ),
        )?;
        for problem in &problems {
            writeln!(err, "  {problem}")?;
        }
        return Ok(ExitCode::Usage);
    }

    let style = Style::for_stderr();
    // A terminal echoes what is typed; piped answers are written after the prompt so
    // that the transcript reads as a dialogue.
    let echo = !io::stdin().is_terminal();
    let mut session = Session::new(answers);
    let meta = ruleset.metadata();
    writeln!(
        err,
        "{}",
        style.bold(&format!(
            "carelevel interview: {} (version {})",
            Shown::full(&meta.title),
            Shown::full(&meta.version)
        ))
    )?;
    render::write_wrapped(
        err,
        "",
        "",
        "Decision support: a qualified professional makes the final placement. Only \
         questions whose answer can still change the level or a refer flag are asked. \
         Type ? at a question for help.",
    )?;
    for f in ruleset.factors() {
        if let Some(v) = session.answers().get(&f.id) {
            writeln!(
                err,
                "Pre-filled: {} = {}",
                Shown::full(&f.id),
                Shown::full(&v.to_string())
            )?;
        }
    }

    let mut shown_refer: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        let progress = match session.progress() {
            Ok(p) => p,
            Err(e) => return input::usage_error(err, &format!("cannot work out what to ask: {e}")),
        };
        for id in &progress.refer {
            if !shown_refer.contains(id) {
                let message = ruleset
                    .flags()
                    .iter()
                    .find(|f| &f.id == id && f.kind == FlagKind::Refer)
                    .map_or("", |f| f.message.as_str());
                writeln!(
                    err,
                    "{}",
                    style.alert(&format!(
                        "REFER FIRST ({}): {}",
                        Shown::full(id),
                        Shown::full(message)
                    ))
                )?;
                shown_refer.push(id.clone());
            }
        }
        shown_refer.retain(|id| progress.refer.contains(id));
        let Some(index) = progress.next else {
            writeln!(err, "{}", range_words(&ruleset, &progress))?;
            writeln!(
                err,
                "Nothing left to ask can change the result: asked {} of {} questions.",
                session.asked(),
                ruleset.factors().len()
            )?;
            writeln!(err)?;
            break;
        };
        write_question(err, &ruleset, session.asked() + 1, index, style)?;
        loop {
            write!(err, "> ")?;
            err.flush()?;
            line.clear();
            if lines.read_line(&mut line)? == 0 {
                writeln!(err)?;
                return input::usage_error(
                    err,
                    "input ended before the interview finished; nothing was saved or reported",
                );
            }
            if echo {
                writeln!(
                    err,
                    "{}",
                    Shown::excerpt(line.trim_end_matches(['\n', '\r']))
                )?;
            }
            match session.respond(index, &line) {
                Reply::Answered | Reply::Skipped | Reply::Back => break,
                Reply::NothingToGoBackTo => {
                    writeln!(
                        err,
                        "This is the first question: there is none to go back to."
                    )?;
                }
                Reply::Help => {
                    writeln!(err, "{HELP}")?;
                }
                Reply::Invalid(message) => {
                    render::write_wrapped(err, "", "", &message)?;
                }
            }
        }
        if let Ok(p) = session.progress() {
            if p.next.is_some() {
                writeln!(err, "{}", range_words(&ruleset, &p))?;
            }
        }
    }

    if let Some(plan) = save_plan {
        let text = match answers_yaml(session.answers()) {
            Ok(t) => t,
            Err(e) => return input::usage_error(err, &format!("cannot write the answers: {e}")),
        };
        let mut saved = match plan.open() {
            Ok((o, warning)) => {
                if let Some(w) = warning {
                    writeln!(err, "carelevel: warning: {}", Shown::full(&w))?;
                }
                o
            }
            Err(message) => return input::usage_error(err, &message),
        };
        let shown = args
            .save
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if let Some(file) = saved.file() {
            if let Err(e) = file.write_all(text.as_bytes()) {
                return input::usage_error(
                    err,
                    &format!("cannot write `{shown}`: {}", input::io_message(&e)),
                );
            }
        }
        if let Err(message) = output::commit(&mut [&mut saved as &mut Output]) {
            return input::usage_error(err, &message);
        }
        writeln!(err, "Answers saved to `{}`.", Shown::excerpt(&shown))?;
    }
    assess::report(
        &ruleset,
        session.answers(),
        (args.format, false, &[]),
        out,
        err,
    )
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use super::*;

    fn default() -> Ruleset {
        Ruleset::default_ruleset().unwrap()
    }

    #[test]
    fn numbers_and_names_answer_an_ordinal_question() {
        let rs = default();
        let mut s = Session::new(rs.new_answers());
        let i = rs.factor_index("severity").unwrap();
        assert_eq!(s.respond(i, "3\n"), Reply::Answered);
        assert_eq!(s.answers().get("severity").unwrap().to_string(), "moderate");
        assert_eq!(s.respond(i, "b"), Reply::Back);
        assert!(!s.answers().is_answered("severity"));
        assert_eq!(
            s.respond(i, " Severe "),
            Reply::Invalid(s_msg(&rs, i, "Severe"))
        );
        assert_eq!(s.respond(i, "severe"), Reply::Answered);
        assert_eq!(s.answers().get("severity").unwrap().to_string(), "severe");
    }

    /// The message for an invalid `text` at question `i`, as `respond` words it.
    fn s_msg(rs: &Ruleset, i: usize, text: &str) -> String {
        let mut a = rs.new_answers();
        let problem = a
            .set_text(&rs.factors()[i].id, text)
            .err()
            .unwrap()
            .problems[0]
            .message
            .clone();
        format!(
            "{}. {}",
            problem.trim_end_matches('.'),
            expected(&rs.factors()[i])
        )
    }

    #[test]
    fn out_of_range_numbers_and_empty_lines_say_what_is_expected() {
        let rs = default();
        let mut s = Session::new(rs.new_answers());
        let i = rs.factor_index("severity").unwrap();
        let hint = "Type a number from 1 to 4 or an answer's name; ? help, b back, s skip.";
        assert_eq!(
            s.respond(i, "0"),
            Reply::Invalid(format!("0 is not one of the numbers 1 to 4. {hint}"))
        );
        assert_eq!(
            s.respond(i, "5"),
            Reply::Invalid(format!("5 is not one of the numbers 1 to 4. {hint}"))
        );
        assert_eq!(s.respond(i, ""), Reply::Invalid(hint.to_owned()));
        assert_eq!(s.asked(), 0);
    }

    #[test]
    fn booleans_are_numbered_no_then_yes() {
        let rs = default();
        let mut s = Session::new(rs.new_answers());
        let i = rs.factor_index("step_down_from_inpatient").unwrap();
        assert_eq!(s.respond(i, "2"), Reply::Answered);
        assert_eq!(
            s.answers().get("step_down_from_inpatient"),
            Some(carelevel::Value::Boolean(true))
        );
        assert_eq!(s.respond(i, "b"), Reply::Back);
        assert_eq!(s.respond(i, "no"), Reply::Answered);
        assert_eq!(
            s.answers().get("step_down_from_inpatient"),
            Some(carelevel::Value::Boolean(false))
        );
        assert!(matches!(s.respond(i, "0"), Reply::Invalid(_)));
    }

    #[test]
    fn help_back_and_skip() {
        let rs = default();
        let mut s = Session::new(rs.new_answers());
        let first = s.progress().unwrap().next.unwrap();
        assert_eq!(s.respond(first, "?"), Reply::Help);
        assert_eq!(s.respond(first, "b"), Reply::NothingToGoBackTo);
        assert_eq!(s.respond(first, "s"), Reply::Skipped);
        assert!(!s.answers().is_answered(&rs.factors()[first].id));
        let second = s.progress().unwrap().next.unwrap();
        assert_ne!(first, second, "a skipped question is not asked again");
        assert_eq!(s.respond(second, "b"), Reply::Back);
        assert_eq!(s.progress().unwrap().next, Some(first), "back reopens it");
    }

    #[test]
    fn a_required_question_cannot_be_skipped() {
        let rs = Ruleset::from_yaml(
            r#"
id: t
version: "1"
title: t
description: t
levels:
  - {id: low, label: Low, description: l}
factors:
  - {id: a, kind: boolean, question: "A?", missing: error}
rules: []
"#,
        )
        .unwrap();
        let mut s = Session::new(rs.new_answers());
        assert_eq!(
            s.progress().unwrap().next,
            Some(0),
            "asked although it cannot matter"
        );
        assert!(matches!(s.respond(0, "s"), Reply::Invalid(m) if m.contains("must be answered")));
    }

    #[test]
    fn pre_filled_answers_are_not_asked() {
        let rs = default();
        let mut a = rs.new_answers();
        a.set("severity", "mild").unwrap();
        let s = Session::new(a);
        let next = s.progress().unwrap().next.unwrap();
        assert_ne!(rs.factors()[next].id, "severity");
    }

    #[test]
    fn the_range_is_worded_for_people() {
        let rs = default();
        let p = |lowest, highest| Progress {
            lowest,
            highest,
            refer: Vec::new(),
            matters: Vec::new(),
            next: None,
        };
        assert_eq!(
            range_words(&rs, &p(1, 2)),
            "so far: Intensive outpatient program (IOP) or Residential"
        );
        assert_eq!(
            range_words(&rs, &p(0, 2)),
            "so far: between Outpatient and Residential"
        );
        assert_eq!(range_words(&rs, &p(0, 0)), "so far: Outpatient");
    }

    #[test]
    fn saved_answers_are_yaml_in_declaration_order_that_assess_reads_back() {
        let rs = default();
        let mut a = rs.new_answers();
        a.set("step_down_from_inpatient", true).unwrap();
        a.set("severity", "moderate").unwrap();
        let text = answers_yaml(&a).unwrap();
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            body,
            ["severity: moderate", "step_down_from_inpatient: true"]
        );
        let back = rs.answers_from_yaml(&text).unwrap();
        assert_eq!(back.get("severity"), a.get("severity"));
        assert_eq!(
            back.get("step_down_from_inpatient"),
            Some(carelevel::Value::Boolean(true))
        );
        assert!(!back.is_answered("housing"));
        let none = answers_yaml(&rs.new_answers()).unwrap();
        assert!(rs.answers_from_yaml(&none).is_ok(), "{none}");
    }
}
