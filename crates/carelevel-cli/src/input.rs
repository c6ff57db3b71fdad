//! Reading input files (or stdin) with errors that name the file, and choosing the
//! ruleset: `--rules FILE` or the bundled default.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use carelevel::{Ruleset, RulesetError, DEFAULT_RULESET};

use crate::render;
use crate::ExitCode;

/// The `--rules FILE` option shared by `assess` and `describe`.
#[derive(Debug, clap::Args)]
pub struct RulesArg {
    /// Ruleset file (YAML). Without it, the bundled default ruleset is used.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

/// A source text and the name to show for it in messages.
#[derive(Debug)]
pub struct Source {
    /// The name as the user gave it (`<stdin>` for standard input, `<bundled default>`
    /// for the embedded ruleset).
    pub name: String,
    /// The whole text.
    pub text: String,
}

/// Whether a path argument means standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The name to show for a path argument in messages.
pub fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Read a file (or stdin for `-`) as UTF-8 text; the error message names the file and
/// `what` it is (`ruleset`, `answers file`, `test file`).
pub fn read_source(path: &Path, what: &str) -> Result<Source, String> {
    let name = display_name(path);
    let text = if is_stdin(path) {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read {what} from {name}: {}", io_message(&e)))?;
        text
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {what} `{name}`: {}", io_message(&e)))?
    };
    Ok(Source { name, text })
}

/// An I/O error in words, without the `(os error N)` suffix that means nothing to users.
fn io_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::InvalidData => "the file is not valid UTF-8 text".to_owned(),
        io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => e.to_string(),
    }
}

/// Write `carelevel: error: MESSAGE` to `err`.
pub fn error(err: &mut dyn Write, message: &str) -> io::Result<()> {
    writeln!(err, "carelevel: error: {message}")
}

/// Write an input or usage error and return [`ExitCode::Usage`].
pub fn usage_error(err: &mut dyn Write, message: &str) -> io::Result<ExitCode> {
    error(err, message)?;
    Ok(ExitCode::Usage)
}

/// Why a ruleset could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read (the message names it).
    Read(String),
    /// The file was read but does not compile.
    Invalid {
        /// The source, for quoting offending lines.
        source: Source,
        /// Every problem found.
        error: RulesetError,
    },
}

/// Read and compile a ruleset file.
pub fn load_ruleset_file(path: &Path) -> Result<(Source, Ruleset), LoadError> {
    let source = read_source(path, "ruleset").map_err(LoadError::Read)?;
    match Ruleset::from_yaml(&source.text) {
        Ok(ruleset) => Ok((source, ruleset)),
        Err(error) => Err(LoadError::Invalid { source, error }),
    }
}

/// The ruleset chosen by `--rules` (or the bundled default), compiled.
///
/// On failure the problem is already written to `err` (diagnostics with the offending
/// lines for an invalid file) and the exit code to return is given.
pub fn choose_ruleset(
    arg: &RulesArg,
    err: &mut dyn Write,
) -> io::Result<Result<Ruleset, ExitCode>> {
    let loaded = match &arg.rules {
        Some(path) => load_ruleset_file(path),
        None => {
            let source = Source {
                name: "<bundled default>".to_owned(),
                text: DEFAULT_RULESET.to_owned(),
            };
            match Ruleset::from_yaml(&source.text) {
                Ok(ruleset) => Ok((source, ruleset)),
                Err(error) => Err(LoadError::Invalid { source, error }),
            }
        }
    };
    match loaded {
        Ok((_, ruleset)) => Ok(Ok(ruleset)),
        Err(LoadError::Read(message)) => usage_error(err, &message).map(Err),
        Err(LoadError::Invalid { source, error }) => {
            render::diagnostics(err, &source, &error.diagnostics)?;
            let count = render::plural(error.diagnostics.len(), "problem", "problems");
            usage_error(
                err,
                &format!("the ruleset `{}` cannot be used ({count})", source.name),
            )
            .map(Err)
        }
    }
}
