//! `carelevel batch --output/--errors` on every kind of target (FIFO, character
//! device, standard output, symbolic link, hard link, read-only and `0600` files,
//! files of another owner), outputs that are an input of the command, `--threads`
//! bounds, and SIGINT/SIGTERM/SIGHUP sent to a running batch.
//!
//! These tests run as root here (as CI does): owner tests use root to create files of
//! another owner and to run the binary as `nobody`.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{command, root, run, snapshot, Run};

/// The uid and gid of `nobody` / `nogroup` on Debian.
const NOBODY: u32 = 65534;

/// The example input and what `batch` writes for it on stdout.
const INPUT: &str = "examples/cases/people.jsonl";

fn expected_output() -> String {
    let plain = run(&["batch", INPUT]);
    plain.expect_code(0);
    plain.stdout
}

/// A path as a `&str` argument.
fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The names in a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().mode() & 0o7777
}

fn is_root() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    fs::write(&probe, "").unwrap();
    fs::metadata(&probe).unwrap().uid() == 0
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A run's stderr with the temporary directory's path replaced by `[TMP]`.
fn stderr_in(run: &Run, dir: &Path) -> String {
    run.stderr.replace(arg(dir), "[TMP]")
}

// ---------------------------------------------------------------------------
// Targets that are not regular files
// ---------------------------------------------------------------------------

/// A FIFO is written directly: a reader on the other end gets the results, and the
/// FIFO is still a FIFO afterwards (it used to be replaced by a regular file).
#[test]
fn a_fifo_is_written_directly_and_stays_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("results.jsonl");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text
        })
    };
    let out = run(&["batch", INPUT, "--output", arg(&fifo)]);
    out.expect_code(0);
    assert_eq!(reader.join().unwrap(), expected_output());
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(names(dir.path()), ["results.jsonl"], "no temporary file");
}

/// `/dev/null` (as root, where a rename over it would succeed) is written, not
/// replaced: it stays the character device 1,3 with its mode.
#[test]
fn dev_null_stays_a_character_device() {
    let before = fs::metadata("/dev/null").unwrap();
    assert!(before.file_type().is_char_device());
    let out = run(&[
        "batch",
        "tests/cli/fixtures/batch-errors.jsonl",
        "--output",
        "/dev/null",
        "--errors",
        "/dev/null",
    ]);
    out.expect_code(1);
    assert_eq!(out.stdout, "");
    let after = fs::symlink_metadata("/dev/null").unwrap();
    assert!(after.file_type().is_char_device());
    assert_eq!(after.rdev(), before.rdev());
    assert_eq!(after.ino(), before.ino());
    assert_eq!(after.mode(), before.mode());
    let dev: Vec<String> = names(Path::new("/dev"))
        .into_iter()
        .filter(|n| n.starts_with(".null."))
        .collect();
    assert!(dev.is_empty(), "temporary files in /dev: {dev:?}");
}

/// `/dev/stdout` is standard output itself, and `--errors /dev/stdout` sends error
/// records there while the results go to a file.
#[test]
fn dev_stdout_is_standard_output() {
    let out = run(&["batch", INPUT, "--output", "/dev/stdout"]);
    out.expect_code(0);
    assert_eq!(out.stdout, expected_output());

    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.jsonl");
    let out = run(&[
        "batch",
        "tests/cli/fixtures/batch-errors.jsonl",
        "--output",
        arg(&results),
        "--errors",
        "/dev/stdout",
    ]);
    out.expect_code(1);
    let errors: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(errors.len(), 8, "{}", out.stdout);
    assert!(errors.iter().all(|l| l.contains("\"error\":")));
    let written = fs::read_to_string(&results).unwrap();
    assert_eq!(written.lines().count(), 4);
    assert!(!written.contains("\"error\":"));
}

/// Standard output as the errors output when the results go there too is refused.
#[test]
fn results_and_errors_both_on_stdout_are_refused() {
    let out = run(&["batch", INPUT, "--errors", "/dev/stdout"]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("the standard output and --errors (standard output) are the same file"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------
// Symbolic links, hard links, modes and owners
// ---------------------------------------------------------------------------

/// A symbolic link is followed: its target (in another directory) is replaced
/// atomically, with its temporary file beside it, and the link stays a link.
#[test]
fn a_symlink_is_followed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let links = dir.path().join("links");
    let data = dir.path().join("data");
    fs::create_dir(&links).unwrap();
    fs::create_dir(&data).unwrap();
    let real = data.join("run-42.jsonl");
    fs::write(&real, "old\n").unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = links.join("latest.jsonl");
    std::os::unix::fs::symlink("../data/run-42.jsonl", &link).unwrap();

    let out = run(&["batch", INPUT, "--output", arg(&link)]);
    out.expect_code(0);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_link(&link).unwrap(),
        Path::new("../data/run-42.jsonl")
    );
    assert_eq!(fs::read_to_string(&real).unwrap(), expected_output());
    assert_eq!(mode(&real), 0o640);
    assert_eq!(names(&links), ["latest.jsonl"]);
    assert_eq!(names(&data), ["run-42.jsonl"]);
}

/// A symbolic link to nothing is refused before anything is read, and nothing is
/// created where it points.
#[test]
fn a_dangling_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("out.jsonl");
    std::os::unix::fs::symlink("missing/target.jsonl", &link).unwrap();
    let out = run(&["batch", INPUT, "--output", arg(&link)]);
    out.expect_code(2);
    assert_eq!(
        stderr_in(&out, dir.path()),
        "carelevel: error: --output `[TMP]/out.jsonl`: it is a symbolic link to \
         `missing/target.jsonl`, which leads to no file; carelevel follows a link only \
         to an existing file\n"
    );
    assert_eq!(names(dir.path()), ["out.jsonl"]);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

/// A file with another hard link is refused (a rename would break the link), and
/// both names still share the old content.
#[test]
fn a_hard_linked_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("out.jsonl");
    let b = dir.path().join("copy.jsonl");
    fs::write(&a, "old\n").unwrap();
    fs::hard_link(&a, &b).unwrap();
    let out = run(&["batch", INPUT, "--output", arg(&a)]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("the file has 2 hard links"),
        "{}",
        out.stderr
    );
    assert_eq!(fs::read_to_string(&a).unwrap(), "old\n");
    let (ma, mb) = (fs::metadata(&a).unwrap(), fs::metadata(&b).unwrap());
    assert_eq!((ma.ino(), ma.nlink()), (mb.ino(), 2));
    assert_eq!(names(dir.path()), ["copy.jsonl", "out.jsonl"]);
}

/// A `0600` file stays `0600` (it used to come back `0644`), a `0644` file stays
/// `0644`, and a new file is created `0600` whatever the umask allows.
#[test]
fn modes_are_kept_and_new_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    for (name, before) in [("private.jsonl", 0o600), ("shared.csv", 0o644)] {
        let path = dir.path().join(name);
        fs::write(&path, "old\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(before)).unwrap();
        run(&["batch", INPUT, "--output", arg(&path)]).expect_code(0);
        assert_eq!(mode(&path), before, "{name}");
        assert_ne!(fs::read_to_string(&path).unwrap(), "old\n");
    }
    let new = dir.path().join("new.jsonl");
    let errors = dir.path().join("new-errors.jsonl");
    run(&[
        "batch",
        "tests/cli/fixtures/batch-errors.jsonl",
        "--output",
        arg(&new),
        "--errors",
        arg(&errors),
    ])
    .expect_code(1);
    assert_eq!(mode(&new), 0o600);
    assert_eq!(mode(&errors), 0o600);
}

/// Run as root, a replaced file keeps its owner and group.
#[test]
fn root_keeps_the_owner_and_group() {
    assert!(is_root(), "this test needs root (as CI has) to chown");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("theirs.jsonl");
    fs::write(&path, "old\n").unwrap();
    std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let out = run(&["batch", INPUT, "--output", arg(&path)]);
    out.expect_code(0);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let meta = fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOBODY));
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_eq!(fs::read_to_string(&path).unwrap(), expected_output());
}

/// A directory anyone may write in, for runs as `nobody`.
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// `carelevel` run as `nobody`, from copies of the binary and of [`INPUT`] in a
/// directory `nobody` may enter: the checkout itself may sit under a directory only
/// its owner can traverse (a `mktemp -d` clone, as CI makes).
fn run_as_nobody(args: &[&str]) -> Run {
    let stage = tempfile::tempdir().unwrap();
    fs::set_permissions(stage.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let bin = stage.path().join("carelevel");
    fs::copy(env!("CARGO_BIN_EXE_carelevel"), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let input = stage.path().join("people.jsonl");
    fs::copy(root().join(INPUT), &input).unwrap();
    fs::set_permissions(&input, fs::Permissions::from_mode(0o644)).unwrap();
    let staged: Vec<&str> = args
        .iter()
        .map(|a| if *a == INPUT { "people.jsonl" } else { a })
        .collect();
    // Another test thread that forks while `fs::copy` still has the copy open for
    // writing leaves that descriptor open in its child until the child's exec, and
    // exec of the copy then fails with ETXTBSY: retry, briefly, until it closes.
    let mut tries = 0;
    let out = loop {
        match Command::new(&bin)
            .args(&staged)
            .current_dir(stage.path())
            .uid(NOBODY)
            .gid(NOBODY)
            .stdin(Stdio::null())
            .output()
        {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other.unwrap(),
        }
    };
    Run {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Run by a user who may write the file but cannot give it back to its owner and
/// group: the file becomes theirs, a warning says so, and the group bits are cut to
/// what others had, so nobody can read more than before.
#[test]
fn another_user_cannot_widen_access() {
    assert!(
        is_root(),
        "this test needs root (as CI has) to run as nobody"
    );
    let dir = open_dir();
    let path = dir.path().join("drop-box.jsonl");
    fs::write(&path, "old\n").unwrap();
    // root:root, group may read and write, others may only write.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o662)).unwrap();
    let out = run_as_nobody(&["batch", INPUT, "--output", arg(&path)]);
    out.expect_code(0);
    assert!(
        stderr_in(&out, dir.path()).starts_with(
            "carelevel: warning: `[TMP]/drop-box.jsonl` is replaced by a file that belongs \
             to you and your group (only root can keep them); its group has at most the \
             permissions others have\n"
        ),
        "{}",
        out.stderr
    );
    let meta = fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOBODY));
    assert_eq!(meta.mode() & 0o7777, 0o622);
    assert_eq!(names(dir.path()), ["drop-box.jsonl"]);
}

/// A file the user may not write is not replaced, even though its directory is
/// writable (a rename would have succeeded).
#[test]
fn a_read_only_file_is_refused() {
    assert!(
        is_root(),
        "this test needs root (as CI has) to run as nobody"
    );
    let dir = open_dir();
    let path = dir.path().join("final.jsonl");
    fs::write(&path, "old\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let out = run_as_nobody(&["batch", INPUT, "--output", arg(&path)]);
    out.expect_code(2);
    assert_eq!(
        stderr_in(&out, dir.path()),
        "carelevel: error: --output `[TMP]/final.jsonl`: the file is not writable by you \
         (permission denied); carelevel does not replace a file it may not write: make \
         it writable or write to another file\n"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "old\n");
    assert_eq!(names(dir.path()), ["final.jsonl"]);
}

// ---------------------------------------------------------------------------
// Outputs that are inputs
// ---------------------------------------------------------------------------

/// Every output that is an input of the same command (or the other output) is
/// refused with exit code 2 before anything is read: the ruleset is invalid here,
/// and it is never reported, because the output is checked first.
#[test]
fn outputs_that_are_inputs_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = d.join("rules.yaml");
    fs::copy("../../rules/default.yaml", &rules)
        .or_else(|_| fs::copy(crate::util::root().join("rules/default.yaml"), &rules))
        .unwrap();
    let input = d.join("people.jsonl");
    fs::copy(crate::util::root().join(INPUT), &input).unwrap();
    let rules_link = d.join("rules-link.yaml");
    std::os::unix::fs::symlink(&rules, &rules_link).unwrap();
    let sub = d.join("sub");
    fs::create_dir(&sub).unwrap();
    let input_other_spelling = format!("{}/sub/../people.jsonl", arg(d));
    let same_new_a = format!("{}/new.jsonl", arg(d));
    let same_new_b = format!("{}/sub/../new.jsonl", arg(d));
    let broken = "tests/cli/fixtures/semantic-errors.yaml";

    let cases: Vec<Vec<&str>> = vec![
        vec![
            "batch",
            "--rules",
            arg(&rules),
            arg(&input),
            "-o",
            arg(&rules),
        ],
        vec![
            "batch",
            "--rules",
            arg(&rules),
            arg(&input),
            "-o",
            arg(&rules_link),
        ],
        vec!["batch", "--rules", broken, arg(&input), "-o", arg(&input)],
        vec![
            "batch",
            "--rules",
            broken,
            arg(&input),
            "-o",
            &input_other_spelling,
        ],
        vec![
            "batch",
            "--rules",
            broken,
            arg(&input),
            "--errors",
            arg(&input),
        ],
        vec![
            "batch",
            "--rules",
            broken,
            arg(&input),
            "-o",
            &same_new_a,
            "--errors",
            &same_new_b,
        ],
    ];
    let rules_before = fs::read(&rules).unwrap();
    let input_before = fs::read(&input).unwrap();
    let mut report = String::new();
    for args in &cases {
        let out = run(args);
        out.expect_code(2);
        assert_eq!(out.stdout, "");
        assert!(!out.stderr.contains("cannot be used"), "{}", out.stderr);
        report.push_str(&out.snapshot().replace(arg(d), "[TMP]"));
        report.push('\n');
    }
    assert_eq!(fs::read(&rules).unwrap(), rules_before);
    assert_eq!(fs::read(&input).unwrap(), input_before);
    assert_eq!(
        names(d),
        ["people.jsonl", "rules-link.yaml", "rules.yaml", "sub"]
    );
    snapshot!("output_is_an_input", report);
}

/// Standard input and standard output count too: `batch - < people.jsonl -o
/// people.jsonl`, and `batch people.jsonl >> people.jsonl` (which would read its own
/// results forever), are refused.
#[test]
fn stdin_and_stdout_that_are_the_input_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.jsonl");
    fs::copy(crate::util::root().join(INPUT), &input).unwrap();
    let before = fs::read(&input).unwrap();

    let out = command(&["batch", "-", "-o", arg(&input)])
        .stdin(fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr)
            .unwrap()
            .replace(arg(dir.path()), "[TMP]"),
        "carelevel: error: --output `[TMP]/people.jsonl` is the input file (read from \
         standard input): write the results elsewhere\n"
    );

    let append = fs::OpenOptions::new().append(true).open(&input).unwrap();
    let out = command(&["batch", arg(&input)])
        .stdout(append)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr)
            .unwrap()
            .replace(arg(dir.path()), "[TMP]"),
        "carelevel: error: the standard output is the input file `[TMP]/people.jsonl`: write \
         the results elsewhere\n"
    );
    assert_eq!(fs::read(&input).unwrap(), before);
}

// ---------------------------------------------------------------------------
// --threads
// ---------------------------------------------------------------------------

/// `--threads` is 1 to 256: 0 and huge counts are usage errors (they used to panic,
/// abort, or take 41 s and 1 GB), and the bounds themselves work.
#[test]
fn threads_out_of_range_are_usage_errors() {
    let mut report = String::new();
    for n in [
        "18446744073709551615",
        "1099511627776",
        "1000000",
        "257",
        "0",
        "-1",
        "two",
    ] {
        let out = run(&["batch", INPUT, "--threads", n]);
        out.expect_code(2);
        assert_eq!(out.stdout, "");
        report.push_str(&out.snapshot());
        report.push('\n');
    }
    snapshot!("batch_threads_out_of_range", report);
    let expected = expected_output();
    for n in ["1", "256"] {
        let out = run(&["batch", INPUT, "--threads", n]);
        out.expect_code(0);
        assert_eq!(out.stdout, expected, "--threads {n}");
    }
}

// ---------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------

/// Generate `n` JSON Lines records of the default ruleset's questions.
fn generated_input(n: usize) -> String {
    let severities = ["none", "mild", "moderate", "severe"];
    let risks = ["none", "low", "moderate", "high"];
    let mut text = String::with_capacity(n * 80);
    for i in 0..n {
        text.push_str(&format!(
            "{{\"id\":\"g{i}\",\"severity\":\"{}\",\"harm_risk\":\"{}\"}}\n",
            severities[i % severities.len()],
            risks[(i / 4) % risks.len()]
        ));
    }
    text
}

/// The temporary files of `target` in `dir` that have data in them.
fn written_temp_files(dir: &Path, target: &str) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&format!(".{target}.")) && name.ends_with(".tmp")
        })
        .filter(|e| e.metadata().unwrap().len() > 0)
        .map(|e| e.path())
        .collect()
}

/// Wait (up to a minute, as a hang guard) until `ready` holds.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < Duration::from_secs(60), "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Send `signal` (a name for `kill -s`) to a child.
fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {signal}");
}

/// SIGINT, SIGTERM and SIGHUP in the middle of `batch --output`: exit 130, 143, 129,
/// no temporary file is left (they used to stay, GB-sized), and the target is neither
/// created nor changed. The large generated input is fed on standard input, which is
/// held open, so the batch is certainly running when the signal comes.
#[test]
fn signals_remove_the_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("input.jsonl");
    fs::write(&data, generated_input(60_000)).unwrap();
    for (signal, code, existing) in [("INT", 130, true), ("TERM", 143, false), ("HUP", 129, true)] {
        let out_dir = dir.path().join(signal);
        fs::create_dir(&out_dir).unwrap();
        let target = out_dir.join("out.jsonl");
        if existing {
            fs::write(&target, "previous results\n").unwrap();
            fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        }
        let errors = out_dir.join("errors.jsonl");
        let mut child = command(&[
            "batch",
            "-",
            "--output",
            arg(&target),
            "--errors",
            arg(&errors),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let (hold_tx, hold_rx) = mpsc::channel::<()>();
        let data = data.clone();
        let feeder = std::thread::spawn(move || {
            // The child may exit before it has read everything: a broken pipe is fine.
            let _ = stdin.write_all(&fs::read(data).unwrap());
            let _ = stdin.flush();
            let _ = hold_rx.recv(); // keep standard input open until the signal is sent
        });
        wait_until("results in the temporary file", || {
            !written_temp_files(&out_dir, "out.jsonl").is_empty()
        });
        send(&child, signal);
        let status = child.wait().unwrap();
        drop(hold_tx);
        feeder.join().unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(code), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "carelevel: interrupted by SIG{signal}: the unfinished output was removed"
            )),
            "{stderr}"
        );
        if existing {
            assert_eq!(names(&out_dir), ["out.jsonl"], "SIG{signal}");
            assert_eq!(fs::read_to_string(&target).unwrap(), "previous results\n");
            assert_eq!(mode(&target), 0o640);
        } else {
            assert!(
                names(&out_dir).is_empty(),
                "SIG{signal}: {:?}",
                names(&out_dir)
            );
        }
    }
}

/// A batch blocked on opening its errors FIFO (no reader yet) still ends on SIGTERM
/// with 143 and removes the temporary file of `--output`, which exists by then.
#[test]
fn a_blocked_batch_still_cleans_up_on_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.jsonl");
    let fifo = dir.path().join("errors.fifo");
    mkfifo(&fifo);
    let mut child = command(&[
        "batch",
        INPUT,
        "--output",
        arg(&target),
        "--errors",
        arg(&fifo),
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    wait_until("the temporary file", || {
        names(dir.path())
            .iter()
            .any(|n| n.starts_with(".out.jsonl."))
    });
    send(&child, "TERM");
    assert_eq!(child.wait().unwrap().code(), Some(143));
    assert_eq!(names(dir.path()), ["errors.fifo"]);
}
