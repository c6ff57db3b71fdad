//! A UTF-8 byte-order mark at the start of any text input is accepted (issue 8,
//! item 9): Windows editors write one directly before the first key, where it once
//! became part of that key.

use crate::util::{root, run_with_stdin};

const BOM: &str = "\u{feff}";

/// The bundled default ruleset without its leading comments, so that the mark sits
/// directly before the first key.
fn ruleset_with_bom() -> String {
    let text = std::fs::read_to_string(root().join("rules/default.yaml")).unwrap();
    let body: String = text
        .lines()
        .skip_while(|l| l.starts_with('#') || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(body.starts_with("id:"), "{}", &body[..20]);
    format!("{BOM}{body}")
}

/// Exit code, stdout and stderr of `carelevel args...` with `stdin`.
fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = run_with_stdin(args, Some(stdin));
    (out.code, out.stdout, out.stderr)
}

const ANSWERS_YAML: &str = "severity: moderate\nwithdrawal_risk: none\nmedical: none\n\
    housing: stable\nsupport: strong\nharm_risk: none\nmental_health: none\nreadiness: ready\n";
const ANSWERS_JSON: &str = r#"{"severity": "moderate", "withdrawal_risk": "none",
"medical": "none", "housing": "stable", "support": "strong", "harm_risk": "none",
"mental_health": "none", "readiness": "ready"}"#;

#[test]
fn a_ruleset_with_a_bom_before_the_first_key_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bom.yaml");
    std::fs::write(&path, ruleset_with_bom()).unwrap();
    let name = path.to_str().unwrap();
    let (code, out, err) = run(&["check", name], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("{name}: ok")), "{out}");
    let (code, out, err) = run(&["check", "-"], &ruleset_with_bom());
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn answers_with_a_bom_are_assessed_from_files_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    for (file, text) in [("a.yaml", ANSWERS_YAML), ("a.json", ANSWERS_JSON)] {
        let path = dir.path().join(file);
        std::fs::write(&path, format!("{BOM}{text}")).unwrap();
        let (code, out, err) = run(&["assess", path.to_str().unwrap()], "");
        assert_eq!(code, 0, "{file}: {out}{err}");
        assert!(
            out.starts_with("Recommended level: Intensive outpatient program (IOP)"),
            "{file}: {out}"
        );
        let (code, out, err) = run(&["assess", "-"], &format!("{BOM}{text}"));
        assert_eq!(code, 0, "stdin {file}: {out}{err}");
        assert!(
            out.starts_with("Recommended level: Intensive outpatient program (IOP)"),
            "{out}"
        );
    }
}

#[test]
fn a_test_file_and_its_ruleset_with_a_bom_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bom.yaml"), ruleset_with_bom()).unwrap();
    let test = dir.path().join("bom.test.yaml");
    std::fs::write(
        &test,
        format!(
            "{BOM}ruleset: bom.yaml\ncases:\n  - name: moderate is iop\n    answers: \
             {{severity: moderate, withdrawal_risk: none, medical: none, housing: stable, \
             support: strong, harm_risk: none, mental_health: none, readiness: ready}}\n    \
             expect: {{level: iop}}\n"
        ),
    )
    .unwrap();
    let (code, out, err) = run(&["test", test.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("1 passed, 0 failed\n"), "{out}");
}

#[test]
fn batch_input_with_a_bom_is_read_from_csv_jsonl_and_stdin() {
    let csv = format!(
        "{BOM}id,severity,withdrawal_risk,medical,housing,support,harm_risk,mental_health,\
         readiness\np1,moderate,none,none,stable,strong,none,none,ready\n"
    );
    let jsonl = format!(
        "{BOM}{{\"id\": \"p1\", {}\n",
        ANSWERS_JSON.trim_start_matches('{').replace('\n', " ")
    );
    for (format, text) in [("csv", &csv), ("jsonl", &jsonl)] {
        let (code, out, err) = run(&["batch", "--input-format", format, "-"], text);
        assert_eq!(code, 0, "{format}: {out}{err}");
        assert!(
            out.starts_with("{\"id\":\"p1\",\"line\":"),
            "{format}: {out}"
        );
        assert!(out.contains("\"level\":\"iop\""), "{format}: {out}");
        assert!(err.contains("0 errors"), "{format}: {err}");
    }
}

#[test]
fn a_yaml_cases_file_with_a_bom_is_read_by_diff() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.yaml");
    std::fs::write(&cases, format!("{BOM}- {{severity: moderate}}\n")).unwrap();
    let (code, out, err) = run(
        &[
            "diff",
            "rules/default.yaml",
            "rules/default.yaml",
            "--cases",
            cases.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Transition matrix (cases;"), "{out}");
    assert!(!err.contains("error"), "{err}");
}
