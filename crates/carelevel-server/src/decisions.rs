//! The service's decision log (`docs/serve.md`, "Decision log"): one record per
//! recommendation served and one per piece of CDS Hooks feedback, masked as
//! configured, written by the group-committing writer of `carelevel-decision-log`.
//!
//! Architecture invariant: a handler that serves a recommendation builds its record
//! with [`DecisionLog::decision`] and sends its response only after
//! [`DecisionLog::write`] returned `Ok`, that is after the record is durable
//! (`fdatasync` of the JSON Lines file, or the SQLite WAL commit). Any failure
//! (masking, full disk, I/O, a stopped writer) is a 503 `decision_not_logged` and the
//! recommendation is not sent: a response the client got is always in the log.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use carelevel::{Answers, Assessment, Ruleset};
use carelevel_decision_log::{
    DecisionMeta, DecisionRecord, LogEntry, LogError, LogStats, LogWriter, MaskError, Masking,
    Requester, SinkConfig, Source, Timestamp,
};

use crate::app::AppState;
use crate::auth::Caller;
use crate::config::{self, Sink};
use crate::error::ApiError;

/// The largest salt file read, in bytes.
pub const MAX_SALT_BYTES: u64 = 64 * 1024;

/// Why the decision log could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The salt file could not be read.
    #[error("decision log: salt file `{}`: cannot read it: {detail}", path.display())]
    Salt {
        /// The salt file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// The log file could not be opened.
    #[error("{0}")]
    Log(#[from] LogError),
    /// The masking does not fit a served ruleset.
    #[error("decision log: {0}")]
    Masking(#[from] MaskError),
}

/// Counters of the log for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogMetrics {
    /// The writer's counters.
    pub stats: LogStats,
    /// Records accepted and not yet durable.
    pub backlog: usize,
}

/// The open decision log of a running service.
#[derive(Debug)]
pub struct DecisionLog {
    /// `None` once closed at shutdown.
    writer: RwLock<Option<LogWriter>>,
    masking: Masking,
    path: PathBuf,
}

/// The salt: the file's bytes without trailing line breaks (so `echo secret > salt`
/// and a `"salt": "secret"` masking file of `carelevel assess` hash alike).
fn read_salt(path: &Path) -> Result<Vec<u8>, OpenError> {
    let fail = |detail: String| OpenError::Salt {
        path: path.to_path_buf(),
        detail,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if meta.len() > MAX_SALT_BYTES {
        return Err(fail(format!(
            "it is {} bytes; a salt file holds at most {MAX_SALT_BYTES} bytes",
            meta.len()
        )));
    }
    let mut bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    if bytes.is_empty() {
        return Err(fail(
            "it is empty; write secret random bytes to it (e.g. `head -c 32 /dev/urandom | base64 > salt`)"
                .to_owned(),
        ));
    }
    Ok(bytes)
}

impl DecisionLog {
    /// Open (or create) the configured log and read its salt.
    pub fn open(config: &config::DecisionLog) -> Result<DecisionLog, OpenError> {
        let salt = match &config.salt_file {
            Some(path) => read_salt(path)?,
            None => Vec::new(),
        };
        let masking = Masking {
            default: config.default_mask,
            per_field: config.fields.clone(),
            salt,
        };
        let sink = match config.sink {
            Sink::Jsonl => SinkConfig::Jsonl {
                path: config.path.clone(),
            },
            Sink::Sqlite => SinkConfig::Sqlite {
                path: config.path.clone(),
            },
        };
        let writer = LogWriter::open(&sink)?;
        Ok(DecisionLog {
            writer: RwLock::new(Some(writer)),
            masking,
            path: config.path.clone(),
        })
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the masking applies to `ruleset` (every rule names one of its
    /// questions, a salt when hashing): checked at start-up and for every reloaded
    /// ruleset, which is refused when it fails.
    pub fn admits(&self, ruleset: &Ruleset) -> Result<(), MaskError> {
        self.masking.check(ruleset)
    }

    /// The masked record of a decision. A masking failure is counted and answered
    /// 503: the answers are never written unmasked, and the decision is not served.
    pub fn decision(
        &self,
        meta: DecisionMeta,
        answers: &Answers<'_>,
        assessment: &Assessment<'_>,
    ) -> Result<LogEntry, ApiError> {
        self.entry(meta, answers, assessment)
            .map_err(|_| not_logged("its record cannot be masked as configured"))
    }

    /// The masked record of a decision; a failure is counted and logged.
    pub fn entry(
        &self,
        meta: DecisionMeta,
        answers: &Answers<'_>,
        assessment: &Assessment<'_>,
    ) -> Result<LogEntry, MaskError> {
        DecisionRecord::new(meta, answers, assessment, &self.masking)
            .map(LogEntry::Decision)
            .inspect_err(|e| {
                if let Some(w) = self.read().as_ref() {
                    w.count_mask_failure();
                }
                tracing::error!(
                    "carelevel serve: decision NOT served: its record cannot be masked: {e}"
                );
            })
    }

    /// [`DecisionLog::write`] for a blocking caller (the batch route's worker).
    pub fn write_blocking(&self, entries: Vec<LogEntry>) -> Result<(), LogError> {
        match self.read().as_ref() {
            Some(writer) => writer.append_all(entries),
            None => Err(LogError::Closed),
        }
    }

    /// Write `entries` and wait until every one is durable. Any failure is a 503
    /// `decision_not_logged` (the full error goes to the service's own log, not to
    /// the client).
    pub async fn write(&self, entries: Vec<LogEntry>) -> Result<(), ApiError> {
        let mut waiting = Vec::with_capacity(entries.len());
        {
            let guard = self.read();
            let Some(writer) = guard.as_ref() else {
                return Err(not_logged("the service is shutting down"));
            };
            for entry in entries {
                let (tx, rx) = tokio::sync::oneshot::channel();
                writer.submit(
                    entry,
                    Box::new(move |r| {
                        // reason: the receiver is gone only when the request was
                        // cancelled, and then nobody waits for the answer.
                        let _ = tx.send(r);
                    }),
                );
                waiting.push(rx);
            }
        }
        for rx in waiting {
            match rx.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!("carelevel serve: record NOT written, response refused: {e}");
                    return Err(not_logged(if e.is_disk_full() {
                        "the decision log's disk is full"
                    } else {
                        "the decision log could not be written"
                    }));
                }
                Err(_) => return Err(not_logged("the decision log writer stopped")),
            }
        }
        Ok(())
    }

    /// The counters, `None` once closed.
    pub fn metrics(&self) -> Option<LogMetrics> {
        self.read().as_ref().map(|w| LogMetrics {
            stats: w.stats(),
            backlog: w.backlog(),
        })
    }

    /// Write everything pending and stop the writer (at shutdown, after draining).
    /// Returns the counters as they were when every pending record was done. Later
    /// writes are refused with 503.
    pub fn close(&self) -> Result<LogStats, LogError> {
        let writer = self
            .writer
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(writer) = writer else {
            return Ok(LogStats::default());
        };
        writer.finish()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Option<LogWriter>> {
        self.writer.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// 503 `decision_not_logged`.
pub fn not_logged(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "decision_not_logged",
        format!(
            "{why}; a recommendation is only served once it is recorded, so none is sent; try again later"
        ),
    )
}

/// Now, as RFC 3339 UTC with nanoseconds.
pub fn now() -> Result<String, ApiError> {
    let clock = || {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "clock",
            "the system clock is outside 1970 to 9999",
        )
    };
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| clock())?;
    Timestamp::from_unix(since.as_secs(), since.subsec_nanos())
        .map(|t| t.key())
        .ok_or_else(clock)
}

/// The requester of a record: the verified token's issuer and tenant.
pub fn requester(caller: Option<&Caller>) -> Option<Requester> {
    caller.map(|c| Requester {
        iss: c.iss.clone(),
        tenant: c.tenant.clone(),
    })
}

/// The metadata of a decision served now from `source` by `caller`.
pub fn meta(
    decision_id: String,
    source: Source,
    caller: Option<&Caller>,
    card_uuid: Option<String>,
) -> Result<DecisionMeta, ApiError> {
    Ok(DecisionMeta {
        decision_id,
        time: now()?,
        source,
        requester: requester(caller),
        card_uuid,
    })
}

/// The header naming the decision id of a recommendation (its record in the log).
pub const DECISION_ID_HEADER: &str = "carelevel-decision-id";

/// Record the decision `decision_id` about to be served (when a log is
/// configured). `Err` means the decision must not be served.
pub async fn record(
    state: &AppState,
    decision_id: &str,
    source: Source,
    caller: Option<&Caller>,
    card_uuid: Option<String>,
    answers: &Answers<'_>,
    assessment: &Assessment<'_>,
) -> Result<(), ApiError> {
    if let Some(log) = &state.decision_log {
        let meta = meta(decision_id.to_owned(), source, caller, card_uuid)?;
        let entry = log.decision(meta, answers, assessment)?;
        log.write(vec![entry]).await?;
    }
    Ok(())
}

/// `response` with the [`DECISION_ID_HEADER`].
pub fn with_decision_id(mut response: Response, decision_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(decision_id) {
        response.headers_mut().insert(DECISION_ID_HEADER, v);
    }
    response
}

/// Logs every record of one batch request: decision id `<batch id>-<line>`, the
/// batch route as source, the caller as requester.
#[derive(Debug)]
pub struct BatchRecorder {
    /// The log.
    pub log: Arc<DecisionLog>,
    /// The batch's id (a UUID v4, sent as the `carelevel-batch-id` header).
    pub batch_id: String,
    /// The requester, from the verified token.
    pub requester: Option<Requester>,
}

impl carelevel_batch::Recorder for BatchRecorder {
    fn entry(
        &self,
        line: u64,
        _id: Option<&carelevel::RecordId>,
        answers: &Answers<'_>,
        assessment: &Assessment<'_>,
    ) -> Result<LogEntry, String> {
        let meta = DecisionMeta {
            decision_id: format!("{}-{line}", self.batch_id),
            time: now().map_err(|e| e.message)?,
            source: Source {
                channel: carelevel_decision_log::Channel::Api,
                route: "/v1/rulesets/{id}/batch".to_owned(),
                hook: None,
                hook_instance: None,
            },
            requester: self.requester.clone(),
            card_uuid: None,
        };
        self.log
            .entry(meta, answers, assessment)
            .map_err(|_| "its decision record cannot be masked as configured".to_owned())
    }

    fn commit(&self, entries: Vec<LogEntry>) -> Result<(), String> {
        self.log.write_blocking(entries).map_err(|e| {
            tracing::error!("carelevel serve: batch results NOT written: {e}");
            if e.is_disk_full() {
                "the decision log's disk is full".to_owned()
            } else {
                "the decision log could not be written".to_owned()
            }
        })
    }
}
