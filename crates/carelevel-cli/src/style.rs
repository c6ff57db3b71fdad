//! Terminal styling shared by the subcommands: bold and colour only when the stream is a
//! terminal, and never with `NO_COLOR` set to a non-empty value (<https://no-color.org>)
//! or `TERM=dumb`. Redirected output (files, pipes, the snapshot tests) stays plain text.

use std::ffi::OsStr;
use std::io::{self, IsTerminal};

/// Whether to style one output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Styling is on.
    on: bool,
}

impl Style {
    /// No styling at all (for tests of what the renderers write).
    #[cfg(test)]
    pub const PLAIN: Style = Style { on: false };

    /// Styling on, whatever the stream (for tests of what the renderers write).
    #[cfg(test)]
    pub const ON: Style = Style { on: true };

    /// Styling for standard error (interview prompts).
    pub fn for_stderr() -> Self {
        Self::decide(io::stderr().is_terminal())
    }

    /// Styling for standard output (the assessment report).
    pub fn for_stdout() -> Self {
        Self::decide(io::stdout().is_terminal())
    }

    /// Styling for a stream that is (or is not) a terminal, under this process's
    /// `NO_COLOR` and `TERM`.
    fn decide(terminal: bool) -> Self {
        Self::from_env(
            terminal,
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
        )
    }

    /// The rule itself: a terminal, `NO_COLOR` unset or empty, `TERM` not `dumb`.
    fn from_env(terminal: bool, no_color: Option<&OsStr>, term: Option<&OsStr>) -> Self {
        let no_color = no_color.is_some_and(|v| !v.is_empty());
        let dumb = term.is_some_and(|t| t == "dumb");
        Style {
            on: terminal && !no_color && !dumb,
        }
    }

    /// Whether styling is on (for text styled elsewhere, e.g. clap's errors).
    pub fn is_on(self) -> bool {
        self.on
    }

    /// `text` in bold.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// `text` in bold red: a refer flag, something to act on first.
    pub fn alert(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// `text` in bold yellow: something to review before acting.
    pub fn caution(self, text: &str) -> String {
        self.paint("1;33", text)
    }

    /// `text` wrapped in the SGR sequence `code` and a reset, when styling is on.
    fn paint(self, code: &str, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styling_needs_a_terminal_and_no_no_color_and_no_dumb_term() {
        let xterm = Some(OsStr::new("xterm"));
        assert_eq!(Style::from_env(true, None, xterm), Style { on: true });
        assert_eq!(Style::from_env(false, None, xterm), Style::PLAIN);
        assert_eq!(
            Style::from_env(true, Some(OsStr::new("1")), xterm),
            Style::PLAIN
        );
        // An empty NO_COLOR does not count (no-color.org).
        assert_eq!(
            Style::from_env(true, Some(OsStr::new("")), xterm),
            Style { on: true }
        );
        assert_eq!(
            Style::from_env(true, None, Some(OsStr::new("dumb"))),
            Style::PLAIN
        );
        assert_eq!(Style::from_env(true, None, None), Style { on: true });
    }

    #[test]
    fn painting_wraps_only_when_on() {
        let on = Style { on: true };
        assert_eq!(on.alert("REFER"), "\x1b[1;31mREFER\x1b[0m");
        assert_eq!(on.bold("Q"), "\x1b[1mQ\x1b[0m");
        assert_eq!(on.caution("R"), "\x1b[1;33mR\x1b[0m");
        assert_eq!(on.alert(""), "");
        assert_eq!(Style::PLAIN.alert("REFER"), "REFER");
    }
}
