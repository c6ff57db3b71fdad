//! The malformed-input corpus (`tests/corpus/`): every broken ruleset is given to
//! `carelevel check` and every broken answers file to `carelevel assess` (bundled
//! default rules). Each run is snapshotted (`tests/cli/snapshots/corpus/`), and must:
//! end with exit code 1 (`check`) or 2 (`assess`), never a panic or a signal; finish
//! within a few seconds; name the file; and, for rulesets, give `FILE:LINE:COL:`.
//!
//! The directories are read in sorted order, so adding a file adds a case. Inputs too
//! big to commit (beyond the 4 MiB limit, 1,000,000 levels of nesting, 100,000 keys)
//! are generated at run time.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{command, root, Run};

/// A hang guard, not a speed claim: the longest a single run may take before it is
/// killed and the test fails. Most runs take < 0.1 s; the inputs this guards against
/// (quadratic key checks, alias fan-out) ran for a minute or more, so the limit sits
/// well above what a debug build needs on a loaded 2-core machine (5 s was too tight
/// there and failed spuriously) and well below those.
const TIME_LIMIT: Duration = Duration::from_secs(30);

/// One run of the binary: what it printed and its exit code.
struct Outcome {
    run: Run,
}

/// Run `carelevel args...` in the workspace root, killing it after [`TIME_LIMIT`].
fn run_limited(args: &[&str]) -> Outcome {
    let mut child = command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain both pipes on threads so that a large output cannot block the child.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stderr.read_to_end(&mut buf).map(|_| buf)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            child.kill().unwrap();
            let _ = child.wait();
            panic!(
                "`carelevel {}` did not finish within {TIME_LIMIT:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = out.join().unwrap().unwrap();
    let stderr = err.join().unwrap().unwrap();
    let text = |bytes: Vec<u8>, what: &str| {
        String::from_utf8(bytes).unwrap_or_else(|e| {
            panic!(
                "`carelevel {}` wrote {what} that is not UTF-8: {e}",
                args.join(" ")
            )
        })
    };
    Outcome {
        run: Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: status
                .code()
                .unwrap_or_else(|| panic!("`carelevel {}` was killed by a signal", args.join(" "))),
            stdout: text(stdout, "stdout"),
            stderr: text(stderr, "stderr"),
        },
    }
}

/// The files of `tests/corpus/DIR`, as paths relative to the workspace root, sorted.
fn corpus_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("tests/corpus").join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            format!(
                "tests/corpus/{dir}/{}",
                path.file_name().unwrap().to_str().unwrap()
            )
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no files in tests/corpus/{dir}");
    files
}

/// Snapshot name for a corpus file: `rulesets/01-x.yaml` -> `ruleset_01-x_yaml`.
fn snapshot_name(kind: &str, file: &str) -> String {
    let base = file.rsplit('/').next().unwrap().replace('.', "_");
    format!("{kind}_{base}")
}

/// Store `text` as `tests/cli/snapshots/corpus/NAME.snap`.
fn snapshot(name: &str, text: &str) {
    insta::with_settings!(
        {snapshot_path => "snapshots/corpus", prepend_module_to_snapshot => false},
        { insta::assert_snapshot!(name.to_owned(), text) }
    );
}

/// The properties every corpus run must have; each failure is described in `failures`.
fn check_outcome(file: &str, shown_as: &str, expected_code: i32, o: &Outcome) -> Vec<String> {
    let mut failures = Vec::new();
    let run = &o.run;
    let all = format!("{}{}", run.stdout, run.stderr);
    if run.code != expected_code {
        failures.push(format!(
            "{file}: exit code {}, expected {expected_code}",
            run.code
        ));
    }
    for forbidden in ["panicked", "RUST_BACKTRACE"] {
        if all.contains(forbidden) {
            failures.push(format!("{file}: output contains `{forbidden}`"));
        }
    }
    if !all.contains(shown_as) {
        failures.push(format!("{file}: output does not name the file"));
    }
    failures
}

/// Whether `line` starts with `FILE:LINE:COL: error:`.
fn has_location(line: &str, file: &str) -> bool {
    let Some(rest) = line.strip_prefix(file).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let number =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    number(parts.next())
        && number(parts.next())
        && parts.next().is_some_and(|r| r.starts_with(" error: "))
}

#[test]
fn every_broken_ruleset_fails_check_with_a_located_message() {
    let mut failures = Vec::new();
    let files = corpus_files("rulesets");
    for file in &files {
        let o = run_limited(&["check", file]);
        snapshot(&snapshot_name("ruleset", file), &o.run.snapshot());
        failures.extend(check_outcome(file, file, 1, &o));
        if !o.run.stdout.lines().any(|l| has_location(l, file)) {
            failures.push(format!("{file}: no `{file}:LINE:COL: error:` line"));
        }
        if !o
            .run
            .stdout
            .ends_with(&format!("{file}: failed (1 error)\n"))
            && !o.run.stdout.contains(&format!("{file}: failed ("))
        {
            failures.push(format!("{file}: no `failed` summary line"));
        }
    }
    assert!(files.len() >= 45, "only {} broken rulesets", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_broken_answers_file_is_refused_by_assess() {
    let mut failures = Vec::new();
    let files = corpus_files("answers");
    for file in &files {
        let o = run_limited(&["assess", file]);
        snapshot(&snapshot_name("answers", file), &o.run.snapshot());
        failures.extend(check_outcome(file, file, 2, &o));
        // Refused input never yields a recommendation.
        if !o.run.stdout.is_empty() {
            failures.push(format!("{file}: something was written to stdout"));
        }
    }
    assert!(
        files.len() >= 35,
        "only {} broken answers files",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every corpus file says what is wrong with it: a leading `#` comment in YAML, or a
/// row in `tests/corpus/README.md` for files that cannot hold one (JSON, binary, empty).
#[test]
fn every_corpus_file_is_documented() {
    let readme = std::fs::read_to_string(root().join("tests/corpus/README.md")).unwrap();
    let mut undocumented = Vec::new();
    for file in corpus_files("rulesets")
        .into_iter()
        .chain(corpus_files("answers"))
    {
        let bytes = std::fs::read(root().join(&file)).unwrap();
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let name = file.rsplit('/').next().unwrap();
        if !bytes.starts_with(b"#") && !readme.contains(&format!("`{name}`")) {
            undocumented.push(file);
        }
    }
    assert!(
        undocumented.is_empty(),
        "neither a leading comment nor a README row: {undocumented:?}"
    );
}

/// A scratch file for inputs generated at run time, and the name shown for it.
fn generated(name: &str, contents: &[u8]) -> (PathBuf, String) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    let shown = path.to_str().unwrap().to_owned();
    (path, shown)
}

/// Run `carelevel SUBCOMMAND FILE` on a generated file, check the corpus properties,
/// and snapshot the output with the scratch directory replaced by `[TMP]`.
fn check_generated(subcommand: &str, name: &str, contents: &[u8]) -> Outcome {
    let (path, shown) = generated(name, contents);
    let o = run_limited(&[subcommand, &shown]);
    let code = if subcommand == "check" { 1 } else { 2 };
    let failures = check_outcome(name, &shown, code, &o);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let dir = path.parent().unwrap().to_str().unwrap().to_owned();
    let kind = if subcommand == "check" {
        "ruleset"
    } else {
        "answers"
    };
    snapshot(
        &format!("generated_{kind}_{}", name.replace('.', "_")),
        &o.run.snapshot().replace(&dir, "[TMP]"),
    );
    o
}

const HEAD: &str = "id: big\nversion: \"1\"\ntitle: Big\n";

#[test]
fn answers_beyond_the_size_limit_are_refused_by_size() {
    let limit = carelevel::limits::MAX_SOURCE_BYTES;
    let padding = "x".repeat(limit);
    let json = format!("{{\"severity\": \"moderate\", \"note\": \"{padding}\"}}");
    let o = check_generated("assess", "too-big.json", json.as_bytes());
    assert!(
        o.run.stderr.contains("the limit is 4194304 bytes"),
        "{}",
        o.run.stderr
    );
    let yaml = format!("severity: moderate\nnote: {padding}\n");
    let o = check_generated("assess", "too-big.yaml", yaml.as_bytes());
    assert!(
        o.run.stderr.contains("the limit is 4194304 bytes"),
        "{}",
        o.run.stderr
    );
}

#[test]
fn ruleset_beyond_the_size_limit_is_refused_by_size() {
    let text = format!(
        "{HEAD}description: \"{}\"\n",
        "x".repeat(carelevel::limits::MAX_SOURCE_BYTES)
    );
    // Refused by the reader, before any of it is parsed: an unreadable file (exit 2).
    let (path, shown) = generated("too-big.yaml", text.as_bytes());
    let o = run_limited(&["check", &shown]);
    let failures = check_outcome("too-big.yaml", &shown, 2, &o);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let dir = path.parent().unwrap().to_str().unwrap().to_owned();
    snapshot(
        "generated_ruleset_too-big_yaml",
        &o.run.snapshot().replace(&dir, "[TMP]"),
    );
    assert!(
        o.run.stderr.contains("the limit is 4194304 bytes"),
        "{}",
        o.run.stderr
    );
}

/// A million levels of flow nesting once took libyaml's scanner minutes (its work per
/// token grows with the depth); the refusal must come before that.
#[test]
fn a_million_levels_of_nesting_are_refused_quickly() {
    let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    let o = check_generated(
        "check",
        "deep.yaml",
        format!("{HEAD}description: d\nlevels: {deep}\n").as_bytes(),
    );
    assert!(
        o.run.stdout.contains("nesting too deep"),
        "{}",
        o.run.stdout
    );
    let o = check_generated(
        "assess",
        "deep.yaml",
        format!("severity: {deep}\n").as_bytes(),
    );
    assert!(
        o.run.stderr.contains("nesting too deep"),
        "{}",
        o.run.stderr
    );
    let o = check_generated(
        "assess",
        "deep.json",
        format!("{{\"severity\": {deep}}}").as_bytes(),
    );
    assert!(o.run.stderr.contains("`severity`"), "{}", o.run.stderr);
}

/// 100,000 distinct keys once took about a minute (each key was compared with every
/// earlier one) and printed 100,000 lines; now it is quick and the list is cut short.
#[test]
fn a_hundred_thousand_unknown_keys_are_refused_quickly_and_briefly() {
    let yaml: String = (0..100_000).map(|i| format!("k{i}: 1\n")).collect();
    let o = check_generated("assess", "many-keys.yaml", yaml.as_bytes());
    assert!(o.run.stderr.contains("invalid answers (100000 problems)"));
    assert!(
        o.run.stderr.lines().count() < 60,
        "{} lines",
        o.run.stderr.lines().count()
    );
    let json = format!(
        "{{{}}}",
        (0..100_000)
            .map(|i| format!("\"k{i}\": 1"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let o = check_generated("assess", "many-keys.json", json.as_bytes());
    assert!(o.run.stderr.contains("... and 99950 more problems"));
}

/// Not broken, so not in the corpus: an unquoted `version: 1.10` keeps its text (it is
/// not read as the number 1.1), so nothing written is lost.
#[test]
fn unquoted_version_keeps_its_text() {
    let text = "id: v\nversion: 1.10\ntitle: T\ndescription: D\n\
                levels: [{id: low, label: Low, description: L}]\n\
                factors: [{id: f, kind: boolean, question: Q}]\nrules: []\n";
    let (_, shown) = generated("unquoted-version.yaml", text.as_bytes());
    let o = run_limited(&["check", &shown]);
    assert_eq!(o.run.code, 0, "{}", o.run.snapshot());
    assert!(o.run.stdout.contains("ruleset v 1.10:"), "{}", o.run.stdout);
}

/// Issue 8 item 5: one anchor on a condition of 5,000 comparisons reused by 10,000
/// rules (a 614 KB file, within every size limit) expands to 150 million nodes; it
/// ran for 109 s in 6.2 GB. It must be refused at the alias that crosses the budget.
#[test]
fn alias_fan_out_is_refused_at_the_alias_that_crosses_the_node_budget() {
    let mut text = String::from(
        "id: fan\nversion: \"1\"\ntitle: Fan-out\ndescription: d\nlevels:\n  \
         - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n",
    );
    for i in 0..10 {
        text.push_str(&format!("  - {{id: f{i}, question: q, kind: boolean}}\n"));
    }
    let leaves: Vec<String> = (0..5_000)
        .map(|j| format!("{{f{}: true}}", j % 10))
        .collect();
    text.push_str(&format!(
        "rules:\n  - id: r0\n    level: high\n    because: b\n    when: &b {{any: [{}]}}\n",
        leaves.join(", ")
    ));
    for r in 1..10_000 {
        text.push_str(&format!(
            "  - id: r{r}\n    level: high\n    because: b\n    when: *b\n"
        ));
    }
    assert!(text.len() > 600_000 && text.len() < carelevel::limits::MAX_SOURCE_BYTES);
    let o = check_generated("check", "fan-out.yaml", text.as_bytes());
    assert!(
        o.run
            .stdout
            .contains("the alias `*b` stands for a copy of 15003 nodes"),
        "{}",
        o.run.stdout
    );
}
