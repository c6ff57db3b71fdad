//! `carelevel serve`: parse the flags, resolve the configuration and run the
//! service of `carelevel-server` (`docs/serve.md`). Nothing else lives here.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use carelevel_server::config::{self, Flags};

use crate::ExitCode;

/// Arguments of `carelevel serve`; each flag overrides the configuration file.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration file (TOML; see examples/serve/carelevel-serve.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address and port to bind, e.g. 127.0.0.1:8080 (port 0: any free port).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// A ruleset to serve, under its own id (repeatable; replaces the file's list).
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// The base URL clients call (token `aud` = this URL plus the path).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Trust tokens from this issuer (`iss`), with the keys of --jwks; turns auth on.
    #[arg(long, value_name = "ISS", requires = "jwks")]
    pub issuer: Option<String>,
    /// The JWKS file (public keys) of --issuer.
    #[arg(long, value_name = "FILE", requires = "issuer")]
    pub jwks: Option<PathBuf>,
    /// The decision log file: `.jsonl` (JSON Lines) or `.sqlite`/`.sqlite3`/`.db` (SQLite).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Serve a non-loopback address without auth (never in production).
    #[arg(long)]
    pub insecure_no_auth: bool,
}

/// Run the service until SIGTERM or Ctrl-C: exit 0 after draining, 2 when the
/// configuration or a ruleset cannot be used or the address cannot be bound.
pub fn run(args: &Args) -> ExitCode {
    let flags = Flags {
        config: args.config.clone(),
        listen: args.listen.clone(),
        rules: args.rules.clone(),
        public_url: args.public_url.clone(),
        issuer: args.issuer.clone(),
        jwks: args.jwks.clone(),
        log: args.log.clone(),
        insecure_no_auth: args.insecure_no_auth,
    };
    let config = match config::load(&flags) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(io::stderr(), "carelevel serve: error: {e}");
            return ExitCode::Usage;
        }
    };
    let stdout: carelevel_server::server::Status = Arc::new(Mutex::new(Box::new(io::stdout())));
    let stderr: carelevel_server::server::Status = Arc::new(Mutex::new(Box::new(io::stderr())));
    match carelevel_server::run(config, stdout, stderr) {
        Ok(()) => ExitCode::Success,
        Err(e) => {
            let _ = writeln!(io::stderr(), "carelevel serve: error: {e}");
            ExitCode::Usage
        }
    }
}
