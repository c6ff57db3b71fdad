//! `carelevel interview`: piped answers (a transcript snapshot, every example answers
//! file answered as it says, `--save`, EOF) and a real pseudo-terminal (styling,
//! Ctrl-C).

use std::io::{Read, Write};
use std::process::Stdio;

use serde_json::Value;

use crate::util::{command, run, run_with_stdin, snapshot, Run};

const FIXTURE: &str = "tests/cli/fixtures/interview.yaml";

#[test]
fn piped_transcript_with_help_errors_skip_and_back() {
    // risk: a bad name, help, "2" (some); score: out of range, then skip; alone: back
    // to score, "12" (highish): High is settled, alone is not asked.
    let out = run_with_stdin(
        &["interview", "--rules", FIXTURE],
        Some("x\n?\n2\n21\ns\nb\n12\n"),
    );
    out.expect_code(0);
    snapshot!("interview_piped_transcript", out.snapshot());
}

#[test]
fn a_pre_filled_refer_answer_is_shown_first_and_not_asked() {
    let out = run_with_stdin(
        &["interview", "--rules", FIXTURE, "--answer", "risk=acute"],
        Some("3\n"),
    );
    out.expect_code(0);
    snapshot!("interview_prefilled_refer", out.snapshot());
}

#[test]
fn a_bad_pre_filled_answer_is_a_usage_error() {
    let out = run(&["interview", "--rules", FIXTURE, "--answer", "risk=lots"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("invalid answers (1 problem)"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

/// Run an interview over pipes, answering each question as `answer(id)` says once
/// its prompt appears. Returns the run and the ids of the questions asked.
fn converse(args: &[&str], answer: impl Fn(&str) -> String) -> (Run, Vec<String>) {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    let mut asked = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if stderr.read(&mut byte).unwrap() == 0 {
            break;
        }
        seen.push(char::from(byte[0]));
        if seen.ends_with("\n> ") {
            let id = seen
                .rsplit("Question ")
                .next()
                .and_then(|q| q.split_once(": "))
                .and_then(|(_, rest)| rest.lines().next())
                .unwrap()
                .to_owned();
            writeln!(stdin, "{}", answer(&id)).unwrap();
            asked.push(id);
            seen.push('\u{0}'); // the prompt was answered
        }
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let run = Run {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: seen.replace('\u{0}', ""),
    };
    (run, asked)
}

/// The assessment JSON fields an interview must agree on with `assess`.
fn outcome(json: &str) -> (Value, Value, Value, Value) {
    let v: Value = serde_json::from_str(json).unwrap();
    (
        v["level"]["id"].clone(),
        v["refer"].clone(),
        v["needs_review"].clone(),
        v["flags"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "refer")
            .map(|f| f["id"].clone())
            .collect(),
    )
}

/// Every example answers file, answered question by question as the file says (a
/// question the file leaves out is skipped), gives the level, refer flags and review
/// state of `assess` on the file, while asking fewer questions than the form has.
#[test]
fn every_example_answered_in_the_interview_matches_assess() {
    for file in [
        "examples/answers/outpatient.yaml",
        "examples/answers/iop.yaml",
        "examples/answers/iop-step-down.yaml",
        "examples/answers/residential.yaml",
        "examples/answers/missing.yaml",
        "examples/answers/refer.yaml",
    ] {
        let text = std::fs::read_to_string(crate::util::root().join(file)).unwrap();
        let answers: serde_yaml::Mapping = serde_yaml::from_str(&text).unwrap();
        let (run, asked) = converse(&["interview", "--format", "json"], |id| {
            match answers.get(id) {
                Some(serde_yaml::Value::String(s)) => s.clone(),
                Some(serde_yaml::Value::Bool(b)) => b.to_string(),
                Some(serde_yaml::Value::Number(n)) => n.to_string(),
                _ => "s".to_owned(),
            }
        });
        run.expect_code(0);
        let assess = run_with_stdin(&["assess", file, "--format", "json"], None);
        assess.expect_code(0);
        assert_eq!(outcome(&run.stdout), outcome(&assess.stdout), "{file}");
        assert!(asked.len() < 9, "{file}: asked {asked:?}");
        assert!(!asked.contains(&"readiness".to_owned()), "{file}");
    }
}

#[test]
fn save_writes_answers_that_assess_reads_back_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("answers.yaml");
    let saved_arg = saved.to_str().unwrap();
    let out = run_with_stdin(
        &[
            "interview",
            "--rules",
            FIXTURE,
            "--save",
            saved_arg,
            "--format",
            "json",
        ],
        Some("some\n3\nyes\n"),
    );
    out.expect_code(0);
    let text = std::fs::read_to_string(&saved).unwrap();
    let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(body, ["risk: some", "score: 3", "alone: true"]);
    let again = run(&["assess", "--rules", FIXTURE, saved_arg, "--format", "json"]);
    again.expect_code(0);
    assert_eq!(outcome(&out.stdout), outcome(&again.stdout));
    // Only the finished file is there: no temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn input_that_ends_early_writes_nothing_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("answers.yaml");
    let out = run_with_stdin(
        &[
            "interview",
            "--rules",
            FIXTURE,
            "--save",
            saved.to_str().unwrap(),
        ],
        Some("2\n"),
    );
    out.expect_code(2);
    assert!(out.stdout.is_empty(), "no report: {}", out.stdout);
    assert!(
        out.stderr
            .ends_with("carelevel: error: input ended before the interview finished; nothing was saved or reported\n"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn save_to_stdout_is_refused_before_any_question() {
    let out = run(&["interview", "--save", "-"]);
    out.expect_code(2);
    assert!(!out.stderr.contains("Question"), "{}", out.stderr);
    assert!(out.stderr.contains("name a file"), "{}", out.stderr);
}

#[cfg(unix)]
mod pty {
    use rexpect::session::{spawn_command, PtySession};

    use crate::util::command;

    const FIXTURE: &str = super::FIXTURE;
    const TIMEOUT_MS: Option<u64> = Some(30_000);

    fn spawn(args: &[&str], no_color: bool) -> PtySession {
        let mut cmd = command(args);
        cmd.env_remove("NO_COLOR").env("TERM", "xterm");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        spawn_command(cmd, TIMEOUT_MS).unwrap()
    }

    /// On a terminal the question heading is bold and a refer flag bold red; the
    /// answers typed are echoed by the terminal, not by carelevel; the report follows.
    #[test]
    fn a_terminal_interview_is_styled_and_reports_at_the_end() {
        let mut p = spawn(&["interview", "--rules", FIXTURE], false);
        p.exp_string("\x1b[1mQuestion 1: risk\x1b[0m").unwrap();
        p.exp_string("> ").unwrap();
        p.send_line("acute").unwrap();
        p.exp_string("\x1b[1;31mREFER FIRST (refer_acute)").unwrap();
        p.exp_string("Question 2: score").unwrap();
        p.exp_string("> ").unwrap();
        p.send_line("15").unwrap();
        p.exp_string("asked 2 of 4 questions").unwrap();
        // The report opens with the refer banner, red on a terminal.
        p.exp_string("\x1b[1;31mREFER FIRST: refer_acute fired.")
            .unwrap();
        p.exp_string("Recommended level: High (high)").unwrap();
        p.exp_eof().unwrap();
        let status = format!("{:?}", p.process().wait().unwrap());
        assert!(status.ends_with(", 0)"), "{status}");
    }

    #[test]
    fn no_color_turns_the_styling_off() {
        let mut p = spawn(&["interview", "--rules", FIXTURE], true);
        let before = p.exp_string("> ").unwrap();
        assert!(before.contains("Question 1: risk"), "{before:?}");
        assert!(!before.contains('\x1b'), "{before:?}");
        p.send_control('c').unwrap();
        p.exp_eof().unwrap();
    }

    /// Ctrl-C at a question ends the interview with 130 and writes nothing.
    #[test]
    fn ctrl_c_exits_130_and_saves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("answers.yaml");
        let mut p = spawn(
            &[
                "interview",
                "--rules",
                FIXTURE,
                "--save",
                saved.to_str().unwrap(),
            ],
            true,
        );
        p.exp_string("> ").unwrap();
        p.send_line("2").unwrap();
        p.exp_string("Question 2: score").unwrap();
        p.exp_string("> ").unwrap();
        p.send_control('c').unwrap();
        p.exp_string("carelevel: interrupted by SIGINT").unwrap();
        p.exp_eof().unwrap();
        let status = format!("{:?}", p.process().wait().unwrap());
        assert!(status.ends_with(", 130)"), "{status}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// Ctrl-D (end of input on a terminal) stops cleanly too.
    #[test]
    fn ctrl_d_exits_2_and_reports_nothing() {
        let mut p = spawn(&["interview", "--rules", FIXTURE], true);
        p.exp_string("> ").unwrap();
        p.send_control('d').unwrap();
        p.exp_string("input ended before the interview finished")
            .unwrap();
        p.exp_eof().unwrap();
        let status = format!("{:?}", p.process().wait().unwrap());
        assert!(status.ends_with(", 2)"), "{status}");
    }
}
