//! Running the binary and normalising its output for snapshots.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The workspace root: every command runs there, with relative paths.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A command ready to run `carelevel` in the workspace root.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carelevel"));
    cmd.args(args).current_dir(root());
    cmd
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// The arguments, for the snapshot header.
    pub args: Vec<String>,
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// The run as one snapshot text: the command, exit code, stdout and stderr, with
    /// hashes and the engine version replaced by placeholders.
    pub fn snapshot(&self) -> String {
        normalize(&format!(
            "$ carelevel {}\nexit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        ))
    }

    /// Assert the exit code, showing the output when it is wrong.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            code,
            "unexpected exit code; output:\n{}",
            self.snapshot()
        );
        self
    }
}

/// Run `carelevel` with `args`.
pub fn run(args: &[&str]) -> Run {
    run_with_stdin(args, None)
}

/// Run `carelevel` with `args`, feeding `stdin` to it.
pub fn run_with_stdin(args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = command(args);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    Run {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        code: output.status.code().expect("killed by a signal"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Replace what changes without the behaviour changing: SHA-256 hashes of ruleset
/// sources (full, and the 12-digit short form after `sha256 `) and the engine version.
pub fn normalize(text: &str) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let text = text
        .replace(
            &format!("engine: carelevel {version}"),
            "engine: carelevel [VERSION]",
        )
        .replace(
            &format!("\"engine_version\": \"{version}\""),
            "\"engine_version\": \"[VERSION]\"",
        )
        .replace(
            &format!("engine_version: {version}"),
            "engine_version: [VERSION]",
        );
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        let (before, from) = rest.split_at(start);
        let len = from
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(from.len());
        let (hex, after) = from.split_at(len);
        out.push_str(before);
        let word_start = !out.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        if word_start && len == 64 {
            out.push_str("[SHA256]");
        } else if word_start && len == 12 && out.ends_with("sha256 ") {
            out.push_str("[SHA256-12]");
        } else {
            out.push_str(hex);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Assert a snapshot stored as `tests/cli/snapshots/NAME.snap`.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!(
            {snapshot_path => "snapshots", prepend_module_to_snapshot => false},
            { insta::assert_snapshot!($name, $value) }
        )
    };
}
pub(crate) use snapshot;

#[test]
fn normalize_replaces_hashes_and_versions() {
    let sha = "947b246f594e86fd8edf72f4bf43082cb5a305e3111bedc96d618d22739c1ce4";
    let text = format!(
        "sha256: {sha}\n(sha256 947b246f594e); engine: carelevel {}\ndeadbeef cafe",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(
        normalize(&text),
        "sha256: [SHA256]\n(sha256 [SHA256-12]); engine: carelevel [VERSION]\ndeadbeef cafe"
    );
}
