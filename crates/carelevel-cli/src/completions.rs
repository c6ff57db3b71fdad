//! `carelevel completions SHELL`: a shell completion script generated from the clap
//! definitions (`clap_complete`), so it can never disagree with the real arguments.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::ExitCode;

/// Arguments of `carelevel completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Write the completion script for `args.shell` to `out`.
pub fn run(args: &Args, out: &mut dyn Write) -> io::Result<ExitCode> {
    let mut cmd = crate::Cli::command();
    // Into memory first: `generate` panics on a failed write (a closed pipe), and a
    // broken pipe must end the program quietly like every other command.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "carelevel", &mut script);
    out.write_all(&script)?;
    Ok(ExitCode::Success)
}
