//! `carelevel completions SHELL` and `carelevel man [COMMAND]`: generated from the clap
//! definitions, so they name every subcommand and option there is.

use std::process::Command;

use crate::util::run;

/// Every subcommand of `carelevel`, as `--help` lists them.
fn subcommands() -> Vec<String> {
    let help = run(&["--help"]);
    help.stdout
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        // A name is indented two spaces; a wrapped description line more.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_shell_script_names_every_subcommand() {
    let names = subcommands();
    assert!(names.len() >= 14, "{names:?}");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell]);
        out.expect_code(0);
        assert_eq!(out.stderr, "", "{shell}");
        for name in &names {
            assert!(out.stdout.contains(name.as_str()), "{shell}: {name}");
        }
    }
    let bad = run(&["completions", "tcsh"]);
    bad.expect_code(2);
    assert!(
        bad.stderr.contains("possible values: bash"),
        "{}",
        bad.stderr
    );
}

/// The bash script really completes: sourced into bash, it offers `assess` for `ass`
/// and `--explain` among the options of `assess --ex`.
#[cfg(unix)]
#[test]
fn the_bash_script_completes_commands_and_options() {
    let script = run(&["completions", "bash"]).stdout;
    let complete = |words: &str| {
        let program = format!(
            "{script}\nCOMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _carelevel carelevel \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(program)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("carelevel ass"), "assess\n");
    let options = complete("carelevel assess --ex");
    assert!(options.lines().any(|l| l == "--explain"), "{options}");
}

#[test]
fn the_man_page_lists_every_subcommand_and_each_has_its_own() {
    let out = run(&["man"]);
    out.expect_code(0);
    assert!(out.stdout.contains(".TH carelevel 1 "), "{}", out.stdout);
    assert!(out.stdout.contains("decision support"), "{}", out.stdout);
    for name in subcommands() {
        assert!(
            out.stdout
                .contains(&format!("carelevel\\-{}", name.replace('-', "\\-"))),
            "{name}"
        );
        let page = run(&["man", &name]);
        page.expect_code(0);
        assert!(
            page.stdout.contains(&format!(".TH carelevel-{name} 1 ")),
            "{name}: {}",
            page.stdout
        );
    }
    let assess = run(&["man", "assess"]);
    assert!(assess.stdout.contains("\\-\\-explain"), "{}", assess.stdout);
    let bad = run(&["man", "asess"]);
    bad.expect_code(2);
    assert_eq!(bad.stdout, "");
    // Not a snapshot: the list grows with every new subcommand.
    let expected = format!(
        "carelevel: error: `asess` is not a carelevel command; the commands are: {}\n",
        subcommands().join(", ")
    );
    assert_eq!(bad.stderr, expected);
}
