//! Running the service: bind, print the bound address, serve connections with a
//! header-read timeout, reload on SIGHUP, and drain on SIGTERM or Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::app::{router, AppState, Services};
use crate::auth::Verifier;
use crate::config::Config;
use crate::decisions::DecisionLog;
use crate::metrics::Metrics;
use crate::registry::{Admission, Registry, ReloadReport};

/// How long in-flight requests may take to finish after SIGTERM.
pub const DRAIN_SECS: u64 = 30;

/// Where status lines go (stderr in the CLI).
pub type Status = Arc<Mutex<Box<dyn Write + Send>>>;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A ruleset did not compile at startup.
    #[error("cannot serve: {0}")]
    Rulesets(String),
    /// A JWKS file cannot be used.
    #[error("cannot serve: {0}")]
    Jwks(#[from] crate::auth::JwksError),
    /// The address could not be bound, or accepting failed.
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The error.
        error: std::io::Error,
    },
    /// The decision log could not be opened, or its masking does not fit.
    #[error("cannot serve: {0}")]
    DecisionLog(String),
    /// The runtime could not be started.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

fn say(status: &Status, line: &str) {
    let mut out = status.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Build the state from a configuration: open the decision log, compile the
/// rulesets (each must fit the log's masking), read the JWKS files.
pub fn state(config: Config) -> Result<AppState, ServeError> {
    let decision_log = match &config.decision_log {
        Some(c) => Some(Arc::new(
            DecisionLog::open(c).map_err(|e| ServeError::DecisionLog(e.to_string()))?,
        )),
        None => None,
    };
    let admission = decision_log.clone().map(|log| {
        Admission(Arc::new(move |ruleset: &carelevel::Ruleset| {
            log.admits(ruleset)
                .map_err(|e| format!("the decision log cannot record it: {e}"))
        }))
    });
    let registry =
        Registry::load_admitting(config.rulesets.clone(), admission).map_err(|errors| {
            ServeError::Rulesets(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
    let verifier = if config.auth.enabled() {
        Some(Arc::new(Verifier::load(&config.auth)?))
    } else {
        None
    };
    Ok(AppState::new(Services {
        config: Arc::new(config),
        registry: Arc::new(registry),
        verifier,
        metrics: Arc::new(Metrics::default()),
        decision_log,
    }))
}

/// Count a reload and log what it did (a refused ruleset loudly).
pub fn report_reload(state: &AppState, report: &ReloadReport) {
    state.metrics.reload(if report.refused.is_empty() {
        "ok"
    } else {
        "refused"
    });
    for (id, old, new) in &report.reloaded {
        tracing::warn!("carelevel serve: reloaded ruleset `{id}`: version {old} -> {new}");
    }
    for e in &report.refused {
        tracing::error!("carelevel serve: RELOAD REFUSED, the old version keeps serving: {e}");
    }
}

/// Serve `config` until SIGTERM or Ctrl-C; `stdout` gets the `listening on` line,
/// `status` every other line (startup warnings, reloads, shutdown).
pub fn run(config: Config, stdout: Status, status: Status) -> Result<(), ServeError> {
    // One line per event on stderr; `CARELEVEL_LOG` (e.g. `info`, `tower_http=debug`)
    // sets the filter, default `warn` (reloads, refusals, accept errors).
    let filter = tracing_subscriber::EnvFilter::try_from_env("CARELEVEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(serve(config, stdout, status))
}

async fn serve(mut config: Config, stdout: Status, status: Status) -> Result<(), ServeError> {
    let addr = config.listen;
    let header_timeout = Duration::from_millis(config.limits.header_timeout_ms);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|error| ServeError::Listen { addr, error })?;
    let bound = listener
        .local_addr()
        .map_err(|error| ServeError::Listen { addr, error })?;
    if config.public_url_from_listen {
        config.public_url = format!("http://{bound}");
    }
    let state = state(config)?;
    match &state.decision_log {
        Some(log) => say(
            &status,
            &format!(
                "carelevel serve: decision log: {} (every recommendation is recorded, durably, before it is sent)",
                log.path().display()
            ),
        ),
        None => say(
            &status,
            "carelevel serve: WARNING: NO DECISION LOG: recommendations are not recorded. Give --log FILE (or [decision_log]) for an audit trail.",
        ),
    }
    if state.verifier.is_none() {
        say(
            &status,
            "carelevel serve: WARNING: AUTH IS OFF: any caller that reaches this address can use the service. Give --issuer ISS --jwks FILE (or [[auth.issuers]]) before exposing it.",
        );
    }
    for s in state.registry.snapshot().values() {
        say(
            &status,
            &format!(
                "carelevel serve: serving ruleset `{}` version {} from {}",
                s.id,
                s.ruleset.metadata().version,
                s.source
            ),
        );
    }
    say(
        &stdout,
        &format!("carelevel serve: listening on http://{bound}"),
    );
    let app = router(state.clone());
    let graceful = GracefulShutdown::new();
    let reload_state = state.clone();
    let reload_status = status.clone();
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            say(
                &reload_status,
                "carelevel serve: cannot listen for SIGHUP; use POST /admin/reload",
            );
            return;
        };
        while hup.recv().await.is_some() {
            let registry = reload_state.registry.clone();
            match tokio::task::spawn_blocking(move || registry.reload()).await {
                Ok(report) => report_reload(&reload_state, &report),
                Err(e) => say(
                    &reload_status,
                    &format!("carelevel serve: SIGHUP: reload failed: {e}"),
                ),
            }
        }
    });
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    // A failed accept (e.g. too many open files) must not stop the
                    // service; wait a moment and go on.
                    Err(e) => {
                        tracing::error!("carelevel serve: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let service = TowerToHyperService::new(app.clone());
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    say(
        &status,
        "carelevel serve: shutting down: no new connections; draining requests in flight",
    );
    tokio::select! {
        () = graceful.shutdown() => say(&status, "carelevel serve: drained"),
        () = tokio::time::sleep(Duration::from_secs(DRAIN_SECS)) => {
            say(&status, &format!("carelevel serve: requests still in flight after {DRAIN_SECS} s were cut off"));
        }
    }
    if let Some(log) = state.decision_log.clone() {
        match tokio::task::spawn_blocking(move || log.close()).await {
            Ok(Ok(stats)) => say(
                &status,
                &format!(
                    "carelevel serve: decision log closed: {} records written, {} failed, {} not masked",
                    stats.written, stats.failed, stats.mask_failures
                ),
            ),
            Ok(Err(e)) => say(&status, &format!("carelevel serve: decision log: {e}")),
            Err(e) => say(&status, &format!("carelevel serve: decision log: {e}")),
        }
    }
    say(&status, "carelevel serve: bye");
    Ok(())
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
