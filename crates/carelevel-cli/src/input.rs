//! Reading input files (or stdin) with errors that name the file, and choosing the
//! ruleset: `--rules FILE` or the bundled default.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use carelevel::text::Shown;
use carelevel::{Diagnostic, Location, Ruleset, RulesetError, Severity, DEFAULT_RULESET};

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
        // A file name can hold control characters too: shown escaped everywhere.
        Shown::full(&path.display().to_string()).to_string()
    }
}

/// Read a file (or stdin for `-`) as UTF-8 text; the error message names the file and
/// `what` it is (`ruleset`, `answers file`, `test file`), and for text that is not
/// UTF-8, the line and column of the first offending byte.
pub fn read_source(path: &Path, what: &str) -> Result<Source, String> {
    let name = display_name(path);
    let bytes = read_bytes(path, what)?;
    match decode(bytes) {
        Ok(text) => Ok(Source { name, text }),
        Err(e) => Err(format!(
            "cannot read {what} `{name}`: line {}, column {}: {}",
            e.location.line, e.location.column, e.message
        )),
    }
}

/// The raw bytes of a file, or of stdin for `-`, read through [`read_limited`]: at
/// most [`carelevel::limits::MAX_SOURCE_BYTES`] bytes are ever held, and a regular
/// file known to be larger is refused before any of it is read.
fn read_bytes(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    let name = display_name(path);
    let limit = carelevel::limits::MAX_SOURCE_BYTES;
    let too_large = |size: Option<u64>| match size {
        Some(size) => format!(
            "cannot read {what} `{name}`: it is {size} bytes; the limit is {limit} bytes (4 MiB)"
        ),
        None => format!(
            "cannot read {what} `{name}`: it holds more than {limit} bytes; the limit is \
             {limit} bytes (4 MiB)"
        ),
    };
    let read = |e: io::Error| format!("cannot read {what} `{name}`: {}", io_message(&e));
    if is_stdin(path) {
        return read_limited(io::stdin().lock(), limit, 0)
            .map_err(read)?
            .ok_or_else(|| too_large(None));
    }
    let file = std::fs::File::open(path).map_err(read)?;
    let meta = file.metadata().map_err(read)?;
    if meta.is_dir() {
        return Err(format!("cannot read {what} `{name}`: it is a directory"));
    }
    let size = meta.is_file().then_some(meta.len());
    if size.is_some_and(|size| size > limit as u64) {
        return Err(too_large(size));
    }
    let hint = size.map_or(0, |size| usize::try_from(size).unwrap_or(limit));
    read_limited(file, limit, hint)
        .map_err(read)?
        .ok_or_else(|| too_large(None))
}

/// Read all of `reader` if it holds at most `limit` bytes, else `None` as soon as
/// byte `limit + 1` arrives (so `/dev/zero` costs `limit` bytes of memory and
/// milliseconds). `hint` is the expected size, to allocate once.
pub fn read_limited(reader: impl Read, limit: usize, hint: usize) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::with_capacity(hint.min(limit).saturating_add(1));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(cap).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= limit).then_some(bytes))
}

/// Why bytes are not UTF-8 text: what is wrong, where, and the text with every
/// offending byte replaced by U+FFFD (to quote the line).
#[derive(Debug)]
pub struct EncodingError {
    /// What is wrong and what to do.
    pub message: String,
    /// Line and column of the first offending byte.
    pub location: Location,
    /// The text, decoded lossily.
    pub lossy: String,
}

/// Decode UTF-8 text, naming UTF-16/UTF-32 files (by their byte-order mark) and the
/// first byte that is not UTF-8.
pub fn decode(bytes: Vec<u8>) -> Result<String, EncodingError> {
    let start = Location { line: 1, column: 1 };
    let bom = if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) || bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        Some("UTF-32")
    } else if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        Some("UTF-16")
    } else {
        None
    };
    if let Some(encoding) = bom {
        return Err(EncodingError {
            message: format!(
                "the file is {encoding} text (it starts with a {encoding} byte-order mark); save it as UTF-8"
            ),
            location: start,
            lossy: String::new(),
        });
    }
    // A UTF-8 byte-order mark is not part of the text (and would be quoted invisibly
    // under a diagnostic on the first line).
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = e.utf8_error().valid_up_to();
        let before =
            std::str::from_utf8(bytes.get(..valid).unwrap_or_default()).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let byte = bytes.get(valid).copied().unwrap_or_default();
        EncodingError {
            message: format!(
                "the file is not UTF-8 text: byte 0x{byte:02X} is not valid UTF-8 \
                 (is it a binary file, or text saved in another encoding such as Latin-1? \
                 Save it as UTF-8)"
            ),
            location: Location { line, column },
            lossy: String::from_utf8_lossy(bytes).into_owned(),
        }
    })
}

/// An I/O error in words, without the `(os error N)` suffix that means nothing to users.
pub fn io_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::InvalidData => "the file is not valid UTF-8 text".to_owned(),
        io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => e.to_string(),
    }
}

/// Write `carelevel: error: MESSAGE` to `err`. Messages quote file names, column names
/// and values: each line is shown escaped (`carelevel::text`), line breaks kept.
pub fn error(err: &mut dyn Write, message: &str) -> io::Result<()> {
    let mut lines = message.split('\n');
    let first = lines.next().unwrap_or("");
    writeln!(err, "carelevel: error: {}", Shown::full(first))?;
    for line in lines {
        writeln!(err, "{}", Shown::full(line))?;
    }
    Ok(())
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

/// Read and compile a ruleset file. Text that is not UTF-8 is an invalid ruleset
/// (reported with its line and column), not an unreadable file.
pub fn load_ruleset_file(path: &Path) -> Result<(Source, Ruleset), LoadError> {
    let name = display_name(path);
    let bytes = read_bytes(path, "ruleset").map_err(LoadError::Read)?;
    let source = match decode(bytes) {
        Ok(text) => Source { name, text },
        Err(e) => {
            return Err(LoadError::Invalid {
                source: Source {
                    name,
                    text: e.lossy,
                },
                error: RulesetError {
                    diagnostics: vec![Diagnostic {
                        severity: Severity::Error,
                        path: None,
                        message: e.message,
                        location: Some(e.location),
                    }],
                },
            })
        }
    };
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
    Ok(choose_ruleset_with_source(arg, err)?.map(|(_, ruleset)| ruleset))
}

/// [`choose_ruleset`], keeping the source text the ruleset was compiled from.
pub fn choose_ruleset_with_source(
    arg: &RulesArg,
    err: &mut dyn Write,
) -> io::Result<Result<(Source, Ruleset), ExitCode>> {
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
        Ok(loaded) => Ok(Ok(loaded)),
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]
mod tests {
    use super::read_limited;

    #[test]
    fn read_limited_keeps_the_limit_and_refuses_one_byte_more() {
        let text = [b'a'; 10];
        assert_eq!(read_limited(&text[..], 10, 0).unwrap().unwrap().len(), 10);
        assert_eq!(read_limited(&text[..], 9, 0).unwrap(), None);
        assert_eq!(read_limited(&text[..0], 0, 0).unwrap().unwrap().len(), 0);
    }

    #[test]
    fn read_limited_stops_an_endless_reader_at_the_limit() {
        assert_eq!(read_limited(std::io::repeat(0), 1 << 20, 0).unwrap(), None);
    }
}
