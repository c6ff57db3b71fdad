//! Usage errors, help, version and a closed stdout.

use std::process::Stdio;

use crate::util::{command, run};

#[test]
fn usage_errors_exit_2() {
    // No subcommand: clap prints the help to stderr and exits 2.
    let bare = run(&[]);
    bare.expect_code(2);
    assert!(bare.stderr.contains("Usage: carelevel <COMMAND>"));
    for args in [
        &["frobnicate"][..],
        &["check"][..],
        &["test"][..],
        &["assess", "--format", "xml", "x.yaml"][..],
        &["describe", "--format", "jsonl"][..],
        &["assess", "--no-such-flag"][..],
        // The tool's own errors (after parsing): the same first-line style as clap's.
        &["assess", "tests/cli/fixtures/no-such.yaml"][..],
        &["assess", "tests/cli/fixtures/bad-answers.yaml"][..],
    ] {
        let out = run(args);
        out.expect_code(2);
        assert_eq!(out.stdout, "", "{args:?}");
        // Every error, clap's usage errors and the tool's file, ruleset and answer
        // errors alike, starts `carelevel: error: ` (README "Exit codes").
        assert!(
            out.stderr.starts_with("carelevel: error: "),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{args:?}");
    }
    // An invalid ruleset: its diagnostics come first, located like a compiler's
    // (`FILE:LINE:COLUMN: error: ...` with the source line), then the same summary line.
    let ruleset = run(&[
        "describe",
        "--rules",
        "tests/cli/fixtures/syntax-error.yaml",
    ]);
    ruleset.expect_code(2);
    assert!(ruleset
        .stderr
        .starts_with("tests/cli/fixtures/syntax-error.yaml:11:1: error: "));
    assert!(ruleset.stderr.ends_with(
        "\ncarelevel: error: the ruleset `tests/cli/fixtures/syntax-error.yaml` cannot be used (1 problem)\n"
    ));
}

#[test]
fn help_and_version_exit_0() {
    let help = run(&["--help"]);
    help.expect_code(0);
    for sub in ["assess", "check", "test", "describe"] {
        assert!(help.stdout.contains(sub), "{sub}");
    }
    let assess_help = run(&["assess", "--help"]);
    assess_help.expect_code(0);
    assert!(assess_help.stdout.contains("--answer <FACTOR=VALUE>"));
    let version = run(&["--version"]);
    version.expect_code(0);
    assert_eq!(
        version.stdout,
        format!("carelevel {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// `carelevel describe | head -0`: the reader goes away; exit 0, no panic, no message.
#[test]
fn broken_pipe_exits_quietly() {
    for args in [
        &["describe"][..],
        &["assess", "examples/answers/refer.yaml"][..],
        &["test", "rules/default.test.yaml"][..],
    ] {
        let mut child = command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr, "", "{args:?}");
        assert_eq!(output.status.code(), Some(0), "{args:?}");
    }
}
