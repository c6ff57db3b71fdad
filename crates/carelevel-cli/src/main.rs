//! `carelevel`: the command-line front end of the carelevel library.
//!
//! This binary is thin on purpose: it maps arguments to library calls and renders
//! the results. Every clinical decision lives in the `carelevel` crate.

mod assess;
mod batch;
mod check;
mod completions;
mod describe;
mod describe_doc;
mod diff;
mod diff_cases;
mod diff_html;
mod fhir;
mod fhir_out;
mod fhir_read;
mod input;
mod interrupt;
mod interview;
mod log_cmd;
mod log_export;
mod log_opt;
mod log_replay;
mod man;
mod output;
mod reassess;
mod render;
mod schema;
mod serve;
mod style;
mod test_cmd;

use std::io::{self, Write};

/// The allocator of the binary: mimalloc, whose thread-local free lists do not
/// contend between `serve`'s request threads as glibc's arenas did (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// The process exit codes of `carelevel`.
///
/// | code | meaning |
/// |------|---------|
/// | 0 | success (also when the reader of stdout went away: a broken pipe is not an error) |
/// | 1 | a test or validation failure: `check` found errors in a ruleset, `test` had failing cases; `batch` completed but some records were errors (each reported with its line); `log` read past entries it could not read (each reported with its line or row), or `log replay` met decisions the new ruleset cannot evaluate |
/// | 2 | a usage or input error: bad arguments, an unreadable file, invalid answers, an invalid `--rules` ruleset for `assess` or `describe`, an answer set that cannot be evaluated; for `batch`: unreadable input, a bad CSV header, an invalid ruleset, an output that cannot be written (no output file is left) |
///
/// Codes are ordered by severity: when one invocation meets several outcomes
/// (e.g. `check` on several files), the highest code wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitCode {
    /// 0: everything worked.
    Success = 0,
    /// 1: a check or test ran and found problems.
    Failure = 1,
    /// 2: the command could not do its work (usage or input error).
    Usage = 2,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

/// Recommend a level of care from screening answers scored against declarative rules.
///
/// carelevel is clinical decision support: it explains every recommendation, and a
/// qualified professional makes the final placement.
#[derive(Debug, Parser)]
#[command(name = "carelevel", version)]
struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Assess one person's answers and explain the recommended level of care.
    Assess(assess::Args),
    /// Reassess during treatment: step-down, continued stay or step-up, and what drove it
    ///
    /// Assess a person again during treatment: the movement since a previous result
    /// (step-down, continued stay, step-up), the changed answers and what drove it.
    Reassess(reassess::Args),
    /// Ask one question at a time, only those that can still change the result, then
    /// report.
    Interview(interview::Args),
    /// Compile ruleset files and report every problem with its location.
    Check(check::Args),
    /// Run ruleset test files (`*.test.yaml`) and report every failing case.
    Test(test_cmd::Args),
    /// Describe a ruleset: its levels, questions, allowed answers and counts.
    Describe(describe::Args),
    /// Print the bundled default ruleset's YAML, byte for byte, to start a ruleset from.
    Rules,
    /// Show the exact impact of replacing one ruleset with another.
    Diff(diff::Args),
    /// Assess every record of a JSON Lines or CSV file (streaming, in input order).
    Batch(batch::Args),
    /// Print the JSON Schema of a ruleset's answers or of its assessments.
    Schema(schema::Args),
    /// Print a ruleset as a FHIR Questionnaire, or answers as a QuestionnaireResponse.
    Fhir(fhir::Args),
    /// Serve the JSON API and CDS Hooks over HTTP (see docs/serve.md).
    Serve(serve::Args),
    /// Read a decision log: query, export, or replay it under a new ruleset.
    Log(log_cmd::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// Print the manual page (roff) of carelevel or of one subcommand.
    Man(man::Args),
}

/// Parse the arguments, run the subcommand, and turn the outcome into an exit code.
fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout, usage errors to stderr; clap picks the code
            // (0 for help/version, 2 for usage errors). A failed write (e.g. a closed
            // pipe after `--help | head`) changes nothing about the outcome.
            let _ = print_clap(&e);
            return std::process::ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    // `serve` writes from its runtime's threads: it must not run under the locks below.
    if let Command::Serve(args) = &cli.command {
        return serve::run(args).into();
    }
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut err = stderr.lock();
    let result = run(cli.command, &mut out, &mut err).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code.into(),
        // The reader of our output went away (`carelevel describe | head`): stop quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::Success.into(),
        Err(e) => {
            let _ = writeln!(err, "carelevel: error: cannot write output: {e}");
            ExitCode::Usage.into()
        }
    }
}

/// Print what clap has to say: help and version as clap renders them (stdout), a usage
/// error on stderr in the tool's own style, `carelevel: error: ...` first (README "Exit
/// codes"), in colour only where [`style::Style::for_stderr`] allows it.
fn print_clap(e: &clap::Error) -> io::Result<()> {
    if !e.use_stderr() {
        return e.print();
    }
    let rendered = e.render();
    let text = if style::Style::for_stderr().is_on() {
        rendered.ansi().to_string()
    } else {
        rendered.to_string()
    };
    io::stderr().write_all(prefixed(&rendered.to_string(), text).as_bytes())
}

/// `text` (clap's rendering of `plain`) with the tool's `carelevel: ` prefix when it is
/// an error message (`plain` starts with `error: `); help printed for a missing
/// subcommand is left as it is.
fn prefixed(plain: &str, text: String) -> String {
    if plain.starts_with("error: ") {
        format!("carelevel: {text}")
    } else {
        text
    }
}

/// Dispatch a subcommand. Output goes to `out`, errors to `err`; an `Err` is a failure
/// to write either.
fn run(command: Command, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    match command {
        Command::Assess(args) => assess::run(&args, out, err),
        Command::Reassess(args) => reassess::run(&args, out, err),
        Command::Interview(args) => interview::run(&args, out, err),
        Command::Check(args) => check::run(&args, out, err),
        Command::Test(args) => test_cmd::run(&args, out, err),
        Command::Describe(args) => describe::run(&args, out, err),
        Command::Rules => {
            out.write_all(carelevel::DEFAULT_RULESET.as_bytes())?;
            Ok(ExitCode::Success)
        }
        Command::Diff(args) => diff::run(&args, out, err),
        Command::Batch(args) => batch::run(&args, out, err),
        Command::Schema(args) => schema::run(&args, out, err),
        Command::Fhir(args) => fhir::run(&args, out, err),
        Command::Serve(args) => Ok(serve::run(&args)),
        Command::Log(args) => log_cmd::run(&args, out, err),
        Command::Completions(args) => completions::run(&args, out),
        Command::Man(args) => man::run(&args, out, err),
    }
}

#[cfg(test)]
mod tests {
    use super::prefixed;

    #[test]
    fn a_clap_error_gets_the_tools_prefix() {
        let plain = "error: unexpected argument '--x' found\n";
        assert_eq!(
            prefixed(plain, plain.to_owned()),
            "carelevel: error: unexpected argument '--x' found\n"
        );
        // The styled rendering is prefixed as a whole, decided on the plain text.
        assert_eq!(
            prefixed(plain, "\x1b[1;31merror:\x1b[0m x\n".to_owned()),
            "carelevel: \x1b[1;31merror:\x1b[0m x\n"
        );
    }

    #[test]
    fn help_for_a_missing_subcommand_is_left_alone() {
        let help = "Level-of-care decision support\n\nUsage: carelevel <COMMAND>\n";
        assert_eq!(prefixed(help, help.to_owned()), help);
    }
}
