//! Every input file and stdin is read through one bounded reader (issue 8, item 4):
//! input past 4 MiB is refused at the first byte beyond the limit, with flat memory.
//! Each run is a child under an address-space limit far below the input's size, so a
//! reader that held the input would die (or fail to allocate) instead of refusing it.

use std::fs::File;
use std::process::{Command, Stdio};

/// Address-space limit for the child, in KiB (256 MiB: the binary needs a few dozen;
/// the 3 GB inputs below would need 3 GB).
const AS_LIMIT_KIB: u32 = 256 * 1024;

/// Exit code, stdout and stderr of `carelevel args...` run under [`AS_LIMIT_KIB`]
/// (`ulimit -v` in `sh`), with `stdin` as its standard input.
fn run_bounded(args: &[&str], stdin: Stdio) -> (i32, String, String) {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {AS_LIMIT_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_carelevel"))
        .args(args)
        .current_dir(crate::util::root())
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        output.status.code().expect("killed by a signal"),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A sparse file of 3 GB (no disk space used) named `name` in `dir`.
fn sparse(dir: &tempfile::TempDir, name: &str) -> String {
    let path = dir.path().join(name);
    File::create(&path)
        .unwrap()
        .set_len(3 * 1024 * 1024 * 1024)
        .unwrap();
    path.to_str().unwrap().to_owned()
}

fn zero() -> Stdio {
    Stdio::from(File::open("/dev/zero").unwrap())
}

const STREAM_LIMIT: &str = "holds more than 4194304 bytes; the limit is 4194304 bytes (4 MiB)";
const FILE_LIMIT: &str = "it is 3221225472 bytes; the limit is 4194304 bytes (4 MiB)";

#[test]
fn check_dev_zero_is_refused_at_the_limit() {
    let (code, out, err) = run_bounded(&["check", "/dev/zero"], Stdio::null());
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err,
        format!("carelevel: error: cannot read ruleset `/dev/zero`: it {STREAM_LIMIT}\n")
    );
}

#[test]
fn assess_stdin_from_dev_zero_is_refused_at_the_limit() {
    let (code, out, err) = run_bounded(&["assess", "-"], zero());
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty());
    assert_eq!(
        err,
        format!("carelevel: error: cannot read answers file `<stdin>`: it {STREAM_LIMIT}\n")
    );
}

#[test]
fn assess_rules_dev_zero_is_refused_at_the_limit() {
    let (code, _, err) = run_bounded(
        &[
            "assess",
            "--rules",
            "/dev/zero",
            "tests/cli/fixtures/iop-answers.yml",
        ],
        Stdio::null(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot read ruleset `/dev/zero`: it holds more than"),
        "{err}"
    );
}

#[test]
fn a_sparse_3_gb_file_is_refused_by_its_size_for_every_kind_of_input() {
    let dir = tempfile::tempdir().unwrap();
    let big = sparse(&dir, "big.yaml");
    let cases = [
        (vec!["check", big.as_str()], "ruleset"),
        (vec!["assess", big.as_str()], "answers file"),
        (vec!["describe", "--rules", big.as_str()], "ruleset"),
        (vec!["test", big.as_str()], "test file"),
        (vec!["diff", big.as_str(), "rules/default.yaml"], "ruleset"),
    ];
    for (args, what) in cases {
        let (code, _, err) = run_bounded(&args, Stdio::null());
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!("cannot read {what} `{big}`: {FILE_LIMIT}")),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_sparse_3_gb_file_on_stdin_is_refused_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = sparse(&dir, "big.json");
    let (code, _, err) = run_bounded(&["assess", "-"], Stdio::from(File::open(&big).unwrap()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(STREAM_LIMIT), "{err}");
}

#[test]
fn a_test_file_naming_a_huge_ruleset_is_refused_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    sparse(&dir, "big.yaml");
    let test = dir.path().join("big.test.yaml");
    std::fs::write(&test, "ruleset: big.yaml\ncases:\n  - name: one\n    answers: {severity: none}\n    expect: {level: outpatient}\n").unwrap();
    let (code, _, err) = run_bounded(&["test", test.to_str().unwrap()], Stdio::null());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(FILE_LIMIT), "{err}");
}

#[test]
fn exactly_the_limit_is_read_and_one_byte_more_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("answers.yaml");
    // A comment line padded to exactly 4 MiB: read, then found to hold no answers.
    let mut text = "#".repeat(4 * 1024 * 1024 - 1);
    text.push('\n');
    std::fs::write(&path, &text).unwrap();
    let name = path.to_str().unwrap();
    let (code, _, err) = run_bounded(&["assess", name], Stdio::null());
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("the limit"), "{err}");
    text.push('\n');
    std::fs::write(&path, &text).unwrap();
    let (code, _, err) = run_bounded(&["assess", name], Stdio::null());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("it is 4194305 bytes; the limit is 4194304 bytes (4 MiB)"),
        "{err}"
    );
    let (code, _, err) = run_bounded(&["assess", "-"], Stdio::from(File::open(&path).unwrap()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(STREAM_LIMIT), "{err}");
}
