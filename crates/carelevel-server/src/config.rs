//! The service configuration: a TOML file (`docs/serve.md`, "Configuration";
//! example in `examples/serve/carelevel-serve.toml`), flags layered on top, and the
//! checks that refuse an unsafe or inconsistent setup before anything listens.
//!
//! Every error names the file, the line and column, and the key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use carelevel_decision_log::FieldMask;
use serde::Deserialize;
use toml::Spanned;

/// The default listen address when neither the file nor `--listen` gives one.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default request body limit: 4 MiB (prefetch bundles can be large).
pub const DEFAULT_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Default body limit of the streamed batch route: 256 MiB.
pub const DEFAULT_BATCH_BODY_BYTES: u64 = 256 * 1024 * 1024;
/// Default time a request may take until its response starts: 10 s.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Default time a client has to send the request head (slow-loris guard): 5 s.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 5_000;
/// Default cap on requests in progress; more are refused with 503.
pub const DEFAULT_MAX_CONCURRENT: usize = 512;
/// Default bound on `exp - iat` of a bearer token: 300 s (CDS Hooks suggests 5 minutes).
pub const DEFAULT_MAX_TOKEN_LIFETIME_SECS: u64 = 300;
/// Default clock leeway for `iat` and `exp`: 60 s.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;
/// Default number of `jti` values remembered for replay detection.
pub const DEFAULT_JTI_CACHE: usize = 100_000;

/// The configuration file as written (every key optional; unknown keys refused).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `listen`: address and port to bind, e.g. `127.0.0.1:8080` (port 0: any free port).
    pub listen: Option<Spanned<String>>,
    /// `public_url`: the base URL clients call (scheme, host, port, optional path
    /// prefix, no trailing slash); token `aud` is checked against it plus the path.
    pub public_url: Option<Spanned<String>>,
    /// `insecure_no_auth`: serve a non-loopback address without auth (never in production).
    #[serde(default)]
    pub insecure_no_auth: bool,
    /// `[[rulesets]]`: the rulesets to serve; none means the bundled default.
    #[serde(default)]
    pub rulesets: Vec<FileRuleset>,
    /// `[auth]`.
    #[serde(default)]
    pub auth: FileAuth,
    /// `[cors]`.
    #[serde(default)]
    pub cors: FileCors,
    /// `[limits]`.
    #[serde(default)]
    pub limits: FileLimits,
    /// `[decision_log]`.
    pub decision_log: Option<FileDecisionLog>,
}

/// One `[[rulesets]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRuleset {
    /// `id`: the id in the routes (`/v1/rulesets/{id}/...`, `/cds-services/{id}`);
    /// must equal the ruleset's own `id:`.
    pub id: Spanned<String>,
    /// `file`: the YAML ruleset, relative to the configuration file's folder.
    pub file: Spanned<String>,
}

/// `[auth]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAuth {
    /// `[[auth.issuers]]`: trusted token issuers; any entry turns auth on.
    #[serde(default)]
    pub issuers: Vec<FileIssuer>,
    /// `max_token_lifetime_secs`: the largest `exp - iat` accepted.
    pub max_token_lifetime_secs: Option<u64>,
    /// `leeway_secs`: clock skew allowed for `iat` (future) and `exp` (past).
    pub leeway_secs: Option<u64>,
    /// `jti_cache_size`: how many unexpired `jti` values are remembered.
    pub jti_cache_size: Option<usize>,
    /// `jku_allow`: URLs a token's `jku` header may name. Fetching keys is not
    /// implemented, so a non-empty list is refused (the default is off).
    pub jku_allow: Option<Spanned<Vec<String>>>,
}

/// One `[[auth.issuers]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIssuer {
    /// `iss`: the exact `iss` claim of this client's tokens.
    pub iss: String,
    /// `jwks`: a JWKS file (JSON) holding this issuer's public keys, relative to the
    /// configuration file's folder.
    pub jwks: Spanned<String>,
    /// `tenant`: an optional label recorded with each decision this issuer asks for.
    pub tenant: Option<String>,
}

/// `[cors]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCors {
    /// `origins`: exact origins allowed to call from a browser; empty means no CORS.
    #[serde(default)]
    pub origins: Vec<Spanned<String>>,
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    /// `body_bytes`: largest request body (all routes but batch).
    pub body_bytes: Option<usize>,
    /// `batch_body_bytes`: largest batch body (streamed, never held whole).
    pub batch_body_bytes: Option<u64>,
    /// `request_timeout_ms`: time until the response starts.
    pub request_timeout_ms: Option<u64>,
    /// `header_timeout_ms`: time to receive the request head.
    pub header_timeout_ms: Option<u64>,
    /// `max_concurrent`: requests in progress at once; more get 503.
    pub max_concurrent: Option<usize>,
}

/// `[decision_log]` (`docs/serve.md`, "Decision log").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDecisionLog {
    /// `sink`: `jsonl` (append-only JSON Lines) or `sqlite`.
    pub sink: Sink,
    /// `path`: the log file, relative to the configuration file's folder.
    pub path: String,
    /// `[decision_log.masking]`.
    #[serde(default)]
    pub masking: FileMasking,
}

/// A decision log sink kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sink {
    /// Append-only JSON Lines.
    Jsonl,
    /// SQLite (WAL).
    Sqlite,
}

/// `[decision_log.masking]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMasking {
    /// `default`: the mask of every question not listed in `fields`.
    #[serde(default)]
    pub default: FieldMask,
    /// `fields`: question id → mask.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldMask>,
    /// `salt_file`: the salt for `hash` (required when any mask is `hash`).
    pub salt_file: Option<String>,
}

/// Settings given as flags; each one overrides the file.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--listen ADDR:PORT`.
    pub listen: Option<String>,
    /// `--rules FILE`, repeatable; the id is the ruleset's own id.
    pub rules: Vec<PathBuf>,
    /// `--public-url URL`.
    pub public_url: Option<String>,
    /// `--issuer ISS` (paired with `--jwks FILE`).
    pub issuer: Option<String>,
    /// `--jwks FILE`.
    pub jwks: Option<PathBuf>,
    /// `--log FILE`: the decision log (`.jsonl`: JSON Lines; `.sqlite`/`.sqlite3`/`.db`: SQLite).
    pub log: Option<PathBuf>,
    /// `--insecure-no-auth`.
    pub insecure_no_auth: bool,
}

/// Where a ruleset comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesetOrigin {
    /// The bundled default (`carelevel::DEFAULT_RULESET`).
    Bundled,
    /// A YAML file, read again on every reload.
    File(PathBuf),
}

/// One ruleset to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesetSpec {
    /// The id in the routes; `None` for `--rules FILE` (the ruleset's own id is used).
    pub id: Option<String>,
    /// Where its text comes from.
    pub origin: RulesetOrigin,
}

/// A trusted token issuer, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// The exact `iss` claim.
    pub iss: String,
    /// The JWKS file.
    pub jwks: PathBuf,
    /// Recorded with decisions.
    pub tenant: Option<String>,
}

/// Auth settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// Trusted issuers; empty means auth is off.
    pub issuers: Vec<Issuer>,
    /// Largest `exp - iat`, seconds.
    pub max_token_lifetime_secs: u64,
    /// Clock leeway, seconds.
    pub leeway_secs: u64,
    /// Replay cache size.
    pub jti_cache_size: usize,
}

impl Auth {
    /// Whether tokens are required.
    pub fn enabled(&self) -> bool {
        !self.issuers.is_empty()
    }
}

/// Limits, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body (bytes), all routes but batch.
    pub body_bytes: usize,
    /// Largest batch body (bytes).
    pub batch_body_bytes: u64,
    /// Time until the response starts (ms).
    pub request_timeout_ms: u64,
    /// Time to receive the request head (ms).
    pub header_timeout_ms: u64,
    /// Requests in progress at once.
    pub max_concurrent: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: DEFAULT_BODY_BYTES,
            batch_body_bytes: DEFAULT_BATCH_BODY_BYTES,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            max_concurrent: DEFAULT_MAX_CONCURRENT,
        }
    }
}

/// Decision log settings, resolved; opened by `crate::decisions::DecisionLog::open`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionLog {
    /// The sink kind.
    pub sink: Sink,
    /// The log file.
    pub path: PathBuf,
    /// Mask of unlisted questions.
    pub default_mask: FieldMask,
    /// Per-question masks.
    pub fields: BTreeMap<String, FieldMask>,
    /// Salt file for `hash`.
    pub salt_file: Option<PathBuf>,
}

/// The whole configuration, resolved: flags over file over defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Base URL clients call, without trailing slash.
    pub public_url: String,
    /// No `public_url` was given: it is `http://` plus the bound address (with the
    /// port actually bound when `listen` asks for port 0).
    pub public_url_from_listen: bool,
    /// Rulesets to serve, in order.
    pub rulesets: Vec<RulesetSpec>,
    /// Auth.
    pub auth: Auth,
    /// Browser origins allowed (CORS).
    pub cors_origins: Vec<String>,
    /// Limits.
    pub limits: Limits,
    /// The decision log, when configured.
    pub decision_log: Option<DecisionLog>,
    /// Auth explicitly disabled for a non-loopback address.
    pub insecure_no_auth: bool,
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file `{file}`: {message}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        message: String,
    },
    /// The file is not valid TOML for this configuration, or a value is wrong.
    #[error("{file}:{line}:{column}: {message}")]
    At {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the key, and what is expected.
        message: String,
    },
    /// A flag (or a combination) is wrong.
    #[error("{0}")]
    Flag(String),
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(1, |last| last.chars().count() + 1);
    (line, column)
}

/// Context for located errors in one file.
struct Located<'a> {
    file: &'a str,
    text: &'a str,
}

impl Located<'_> {
    fn at(&self, span: Range<usize>, message: String) -> ConfigError {
        let (line, column) = line_col(self.text, span.start);
        ConfigError::At {
            file: carelevel::text::Shown::full(self.file).to_string(),
            line,
            column,
            message,
        }
    }
}

/// Parse configuration text (the file's name is for messages only).
pub fn parse_file(file: &str, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str::<FileConfig>(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = carelevel::text::escape_for_display(e.message(), Some(1024)).into_owned();
        Located { file, text }.at(span, message)
    })
}

/// Read and resolve the configuration from `flags` (and the file it names).
pub fn load(flags: &Flags) -> Result<Config, ConfigError> {
    match &flags.config {
        Some(path) => {
            let name = path.display().to_string();
            let text = read_limited(path).map_err(|message| ConfigError::Read {
                file: carelevel::text::Shown::full(&name).to_string(),
                message,
            })?;
            let file = parse_file(&name, &text)?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            resolve(
                file,
                Some(&Located {
                    file: &name,
                    text: &text,
                }),
                &base,
                flags,
            )
        }
        None => resolve(FileConfig::default(), None, Path::new(""), flags),
    }
}

/// Read a small text file (at most 1 MiB).
fn read_limited(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > 1024 * 1024 {
        return Err(format!(
            "it is {} bytes; the limit is 1048576 bytes",
            meta.len()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

/// Flags over file over defaults, then the safety checks.
fn resolve(
    file: FileConfig,
    located: Option<&Located<'_>>,
    base: &Path,
    flags: &Flags,
) -> Result<Config, ConfigError> {
    let err_at = |span: Range<usize>, message: String| match located {
        Some(l) => l.at(span, message),
        None => ConfigError::Flag(message),
    };
    let relative = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };

    // listen
    let listen = match (&flags.listen, &file.listen) {
        (Some(flag), _) => flag.parse::<SocketAddr>().map_err(|e| {
            ConfigError::Flag(format!(
                "--listen `{}`: {e}; expected ADDRESS:PORT, e.g. 127.0.0.1:8080",
                carelevel::text::Shown::excerpt(flag)
            ))
        })?,
        (None, Some(s)) => s.get_ref().parse::<SocketAddr>().map_err(|e| {
            err_at(
                s.span(),
                format!(
                    "key `listen`: `{}`: {e}; expected ADDRESS:PORT, e.g. 127.0.0.1:8080",
                    carelevel::text::Shown::excerpt(s.get_ref())
                ),
            )
        })?,
        (None, None) => DEFAULT_LISTEN
            .parse::<SocketAddr>()
            .map_err(|e| ConfigError::Flag(e.to_string()))?,
    };

    // public_url
    let public_url = match (&flags.public_url, &file.public_url) {
        (Some(flag), _) => {
            check_url(flag).map_err(|m| ConfigError::Flag(format!("--public-url: {m}")))?
        }
        (None, Some(s)) => check_url(s.get_ref())
            .map_err(|m| err_at(s.span(), format!("key `public_url`: {m}")))?,
        (None, None) => format!("http://{listen}"),
    };

    // rulesets: flags replace the file's list
    let mut rulesets = Vec::new();
    if flags.rules.is_empty() {
        let mut seen: Vec<&str> = Vec::new();
        for r in &file.rulesets {
            let id = r.id.get_ref();
            if !valid_id(id) {
                return Err(err_at(
                    r.id.span(),
                    format!(
                        "key `rulesets.id`: `{}` is not a ruleset id; expected 1 to 64 of a-z, 0-9, `_`, `-`",
                        carelevel::text::Shown::excerpt(id)
                    ),
                ));
            }
            if seen.contains(&id.as_str()) {
                return Err(err_at(
                    r.id.span(),
                    format!("key `rulesets.id`: `{id}` is served twice; each id once"),
                ));
            }
            seen.push(id);
            rulesets.push(RulesetSpec {
                id: Some(id.clone()),
                origin: RulesetOrigin::File(relative(r.file.get_ref())),
            });
        }
    } else {
        for path in &flags.rules {
            rulesets.push(RulesetSpec {
                id: None,
                origin: RulesetOrigin::File(path.clone()),
            });
        }
    }
    if rulesets.is_empty() {
        rulesets.push(RulesetSpec {
            id: None,
            origin: RulesetOrigin::Bundled,
        });
    }

    // auth
    if let Some(jku) = file
        .auth
        .jku_allow
        .as_ref()
        .filter(|j| !j.get_ref().is_empty())
    {
        return Err(err_at(
            jku.span(),
            "key `auth.jku_allow`: fetching keys from a token's `jku` is not implemented; \
             configure each issuer's keys as a static JWKS file (`auth.issuers`) and leave \
             `jku_allow` empty"
                .to_owned(),
        ));
    }
    let mut issuers = Vec::new();
    match (&flags.issuer, &flags.jwks) {
        (Some(iss), Some(jwks)) => issuers.push(Issuer {
            iss: iss.clone(),
            jwks: jwks.clone(),
            tenant: None,
        }),
        (None, None) => {
            for i in &file.auth.issuers {
                if issuers.iter().any(|x: &Issuer| x.iss == i.iss) {
                    return Err(err_at(
                        i.jwks.span(),
                        format!(
                            "key `auth.issuers.iss`: `{}` is listed twice; each issuer once",
                            carelevel::text::Shown::excerpt(&i.iss)
                        ),
                    ));
                }
                issuers.push(Issuer {
                    iss: i.iss.clone(),
                    jwks: relative(i.jwks.get_ref()),
                    tenant: i.tenant.clone(),
                });
            }
        }
        _ => {
            return Err(ConfigError::Flag(
                "--issuer and --jwks go together: --issuer ISS --jwks FILE".to_owned(),
            ))
        }
    }
    let auth = Auth {
        issuers,
        max_token_lifetime_secs: file
            .auth
            .max_token_lifetime_secs
            .unwrap_or(DEFAULT_MAX_TOKEN_LIFETIME_SECS),
        leeway_secs: file.auth.leeway_secs.unwrap_or(DEFAULT_LEEWAY_SECS),
        jti_cache_size: file.auth.jti_cache_size.unwrap_or(DEFAULT_JTI_CACHE).max(1),
    };

    // cors
    let mut cors_origins = Vec::new();
    for o in &file.cors.origins {
        let origin = check_url(o.get_ref())
            .map_err(|m| err_at(o.span(), format!("key `cors.origins`: {m}")))?;
        cors_origins.push(origin);
    }

    // limits
    let d = Limits::default();
    let limits = Limits {
        body_bytes: file.limits.body_bytes.unwrap_or(d.body_bytes),
        batch_body_bytes: file.limits.batch_body_bytes.unwrap_or(d.batch_body_bytes),
        request_timeout_ms: file
            .limits
            .request_timeout_ms
            .unwrap_or(d.request_timeout_ms),
        header_timeout_ms: file.limits.header_timeout_ms.unwrap_or(d.header_timeout_ms),
        max_concurrent: file.limits.max_concurrent.unwrap_or(d.max_concurrent),
    };
    let zero = [
        ("body_bytes", limits.body_bytes == 0),
        ("batch_body_bytes", limits.batch_body_bytes == 0),
        ("request_timeout_ms", limits.request_timeout_ms == 0),
        ("header_timeout_ms", limits.header_timeout_ms == 0),
        ("max_concurrent", limits.max_concurrent == 0),
    ];
    if let Some((key, _)) = zero.iter().find(|(_, z)| *z) {
        let span = located
            .and_then(|l| key_span(l.text, "limits", key))
            .unwrap_or(0..0);
        return Err(err_at(
            span,
            format!("key `limits.{key}`: 0 is not a limit; expected a number greater than 0"),
        ));
    }

    // decision log
    let decision_log = match (&flags.log, file.decision_log) {
        (Some(path), file_log) => {
            let masking = file_log.map(|l| l.masking).unwrap_or_default();
            let sink = match carelevel_decision_log::LogFormat::of_path(path) {
                Ok(carelevel_decision_log::LogFormat::Jsonl) => Sink::Jsonl,
                Ok(carelevel_decision_log::LogFormat::Sqlite) => Sink::Sqlite,
                Err(e) => return Err(ConfigError::Flag(format!("--log: {e}"))),
            };
            Some(DecisionLog {
                sink,
                path: path.clone(),
                default_mask: masking.default,
                fields: masking.fields,
                salt_file: masking.salt_file.as_deref().map(relative),
            })
        }
        (None, Some(l)) => Some(DecisionLog {
            sink: l.sink,
            path: relative(&l.path),
            default_mask: l.masking.default,
            fields: l.masking.fields,
            salt_file: l.masking.salt_file.as_deref().map(relative),
        }),
        (None, None) => None,
    };
    if let Some(log) = &decision_log {
        let hashes = log.default_mask == FieldMask::Hash
            || log.fields.values().any(|m| *m == FieldMask::Hash);
        if hashes && log.salt_file.is_none() {
            return Err(err_at(
                0..0,
                "table `decision_log.masking`: a `hash` mask needs `salt_file` (a file of \
                 secret bytes), so that hashed answers cannot be looked up by guessing"
                    .to_owned(),
            ));
        }
    }

    let insecure_no_auth = flags.insecure_no_auth || file.insecure_no_auth;
    let config = Config {
        listen,
        public_url_from_listen: flags.public_url.is_none() && file.public_url.is_none(),
        public_url,
        rulesets,
        auth,
        cors_origins,
        limits,
        decision_log,
        insecure_no_auth,
    };
    if !config.listen.ip().is_loopback() && !config.auth.enabled() && !config.insecure_no_auth {
        return Err(ConfigError::Flag(format!(
            "listening on {} (not a loopback address) requires auth: give trusted issuers \
             (`--issuer ISS --jwks FILE` or `[[auth.issuers]]`), or disable auth explicitly \
             with `--insecure-no-auth` / `insecure_no_auth = true` (never in production)",
            config.listen
        )));
    }
    Ok(config)
}

/// The span of `key` in table `[table]` of `text` (for values parsed without spans).
fn key_span(text: &str, table: &str, key: &str) -> Option<Range<usize>> {
    let doc = text.parse::<toml::Table>().ok()?;
    doc.get(table)?.get(key)?;
    // toml::Table has no spans: find the key's line inside the table by text.
    let header = format!("[{table}]");
    let start = text.find(&header)?;
    let rest = text.get(start..)?;
    let mut lines = rest.split_inclusive('\n');
    let mut offset = start + lines.next()?.len();
    for line in lines {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            break;
        }
        if trimmed
            .strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='))
        {
            let col = line.len() - trimmed.len();
            return Some(offset + col..offset + col + key.len());
        }
        offset += line.len();
    }
    None
}

/// A ruleset id as the core allows: 1 to 64 of `[a-z0-9_-]`.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// An `http://` or `https://` URL without trailing slash, query or fragment.
fn check_url(url: &str) -> Result<String, String> {
    let shown = carelevel::text::Shown::excerpt(url);
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("`{shown}` is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("`{shown}` has no host"));
    }
    if url.ends_with('/') || url.contains(['?', '#']) || url.chars().any(char::is_whitespace) {
        return Err(format!(
            "`{shown}`: expected a base URL without trailing `/`, query, fragment or spaces"
        ));
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use super::*;

    fn from_text(text: &str) -> Result<Config, ConfigError> {
        let file = parse_file("serve.toml", text)?;
        resolve(
            file,
            Some(&Located {
                file: "serve.toml",
                text,
            }),
            Path::new("/etc/carelevel"),
            &Flags::default(),
        )
    }

    #[test]
    fn no_config_is_the_bundled_default_on_loopback_without_auth() {
        let c = load(&Flags::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(
            c.rulesets,
            vec![RulesetSpec {
                id: None,
                origin: RulesetOrigin::Bundled
            }]
        );
        assert!(!c.auth.enabled());
        assert_eq!(c.limits, Limits::default());
    }

    #[test]
    fn errors_name_file_line_column_and_key() {
        let e = from_text("listen = \"127.0.0.1:80\"\n[limits]\nbody_byte = 3\n").unwrap_err();
        let ConfigError::At {
            file, line, column, ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!((file.as_str(), *line, *column), ("serve.toml", 3, 1));
        assert!(e.to_string().contains("unknown field `body_byte`"), "{e}");

        let e = from_text("\n\nlisten = \"nowhere\"\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("serve.toml:3:10: key `listen`: `nowhere`"),
            "{e}"
        );
        let e = from_text("public_url = \"https://x.org/\"\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("serve.toml:1:14: key `public_url`"),
            "{e}"
        );
    }

    #[test]
    fn non_loopback_requires_auth_unless_disabled_explicitly() {
        let e = from_text("listen = \"0.0.0.0:8080\"\n").unwrap_err();
        assert!(e.to_string().contains("requires auth"), "{e}");
        let c = from_text("listen = \"0.0.0.0:8080\"\ninsecure_no_auth = true\n").unwrap();
        assert!(c.insecure_no_auth);
        let c = from_text(
            "listen = \"0.0.0.0:8080\"\n[[auth.issuers]]\niss = \"https://ehr\"\njwks = \"k.json\"\n",
        )
        .unwrap();
        assert!(c.auth.enabled());
        assert_eq!(
            c.auth.issuers[0].jwks,
            PathBuf::from("/etc/carelevel/k.json")
        );
    }

    #[test]
    fn rulesets_resolve_relative_to_the_file_and_ids_are_checked() {
        let c = from_text("[[rulesets]]\nid = \"a\"\nfile = \"a.yaml\"\n").unwrap();
        assert_eq!(
            c.rulesets[0].origin,
            RulesetOrigin::File(PathBuf::from("/etc/carelevel/a.yaml"))
        );
        let e = from_text("[[rulesets]]\nid = \"A b\"\nfile = \"a.yaml\"\n").unwrap_err();
        assert!(e.to_string().starts_with("serve.toml:2:6:"), "{e}");
        let e = from_text(
            "[[rulesets]]\nid = \"a\"\nfile = \"a.yaml\"\n[[rulesets]]\nid = \"a\"\nfile = \"b.yaml\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("served twice"), "{e}");
    }

    #[test]
    fn a_zero_limit_names_its_key_and_line() {
        let e =
            from_text("listen = \"127.0.0.1:0\"\n[limits]\nbody_bytes = 10\nmax_concurrent = 0\n")
                .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("serve.toml:4:1: key `limits.max_concurrent`: 0 is not a limit"),
            "{e}"
        );
    }

    #[test]
    fn jku_and_unsalted_hashing_are_refused() {
        let e = from_text("[auth]\njku_allow = [\"https://x\"]\n").unwrap_err();
        assert!(e.to_string().starts_with("serve.toml:2:13:"), "{e}");
        let e = from_text(
            "[decision_log]\nsink = \"jsonl\"\npath = \"d.jsonl\"\n[decision_log.masking]\ndefault = \"hash\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("needs `salt_file`"), "{e}");
    }

    #[test]
    fn flags_override_the_file() {
        let flags = Flags {
            listen: Some("127.0.0.1:0".into()),
            issuer: Some("https://ehr".into()),
            ..Flags::default()
        };
        let e = resolve(FileConfig::default(), None, Path::new(""), &flags).unwrap_err();
        assert!(e.to_string().contains("go together"), "{e}");
        let flags = Flags {
            jwks: Some("k.json".into()),
            ..flags
        };
        let c = resolve(FileConfig::default(), None, Path::new(""), &flags).unwrap();
        assert_eq!(c.listen.port(), 0);
        assert!(c.auth.enabled());
    }

    #[test]
    fn the_example_file_parses() {
        let text = include_str!("../../../examples/serve/carelevel-serve.toml");
        let file = parse_file("carelevel-serve.toml", text).unwrap();
        let c = resolve(
            file,
            Some(&Located {
                file: "carelevel-serve.toml",
                text,
            }),
            Path::new("examples/serve"),
            &Flags::default(),
        )
        .unwrap();
        assert!(c.auth.enabled());
        assert!(c.decision_log.is_some());
    }
}
