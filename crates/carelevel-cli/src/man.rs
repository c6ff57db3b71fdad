//! `carelevel man [COMMAND]`: the manual page, in roff, generated from the clap
//! definitions (`clap_mangen`): `carelevel(1)`, or `carelevel-COMMAND(1)` for one
//! subcommand.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::{input, ExitCode};

/// Arguments of `carelevel man`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A subcommand (e.g. `assess`): its own page, `carelevel-assess(1)`.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Write the manual page to `out` (`man -l -` reads it from a pipe).
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let mut cmd = crate::Cli::command();
    // Building gives every subcommand its display name (`carelevel-assess`) and usage.
    cmd.build();
    let page = match &args.command {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) if name != "help" => sub.clone().version(env!("CARGO_PKG_VERSION")),
            _ => {
                let names: Vec<&str> = cmd
                    .get_subcommands()
                    .map(clap::Command::get_name)
                    .filter(|n| *n != "help")
                    .collect();
                return input::usage_error(
                    err,
                    &format!(
                        "`{}` is not a carelevel command; the commands are: {}",
                        carelevel::text::Shown::excerpt(name),
                        names.join(", ")
                    ),
                );
            }
        },
    };
    clap_mangen::Man::new(page)
        .manual("carelevel manual")
        .render(out)?;
    Ok(ExitCode::Success)
}
