//! `POST /v1/rulesets/{id}/batch`: JSON Lines in, JSON Lines out, streamed in
//! bounded memory through `carelevel-batch`.
//!
//! The batch engine reads a synchronous `Read` and writes a synchronous `Write`, so
//! it runs under `spawn_blocking`: the request body is fed to it through a bounded
//! channel (a few frames at a time), and its output goes back through another
//! bounded channel as the streamed response body. Neither side ever holds the whole
//! body. The body is counted against `limits.batch_body_bytes`; a body over it, or
//! a body that cannot be read, ends the output with one last line
//! `{"error": {...}}` and then aborts the response, so a client never takes a cut
//! result for a whole one.
//!
//! With a decision log, every result is recorded before it is sent: a chunk's
//! records are group-committed, then its output lines go out
//! (`carelevel_batch::Recorder`). A record that cannot be masked becomes an error
//! line; a log that cannot be written stops the batch with a last `{"error": ...}`
//! line (`batch_stopped`), and no unlogged result is sent.

use std::io::{self, Read, Write};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::api::{served, VERSION_HEADER};
use crate::app::AppState;
use crate::auth::Caller;
use crate::decisions::{self, BatchRecorder};
use crate::error::ApiError;

/// The header naming the batch: with a decision log, the record of input line `N`
/// has decision id `<batch id>-<N>`.
pub const BATCH_ID_HEADER: &str = "carelevel-batch-id";

/// Frames (of the body in, of output out) buffered between the two sides.
const CHANNEL_FRAMES: usize = 4;
/// Output bytes gathered before they are sent as one frame.
const OUT_FRAME_BYTES: usize = 64 * 1024;

/// `?fields=compact|full&id_field=NAME`.
#[derive(Debug, Deserialize)]
pub struct BatchQuery {
    fields: Option<String>,
    id_field: Option<String>,
}

/// The request body as a blocking reader, fed by a channel.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(frame)) => self.current = frame,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        let chunk = self.current.split_to(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(&chunk);
        }
        Ok(n)
    }
}

/// The response body as a blocking writer, draining into a channel.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let frame = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(Ok(frame))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= OUT_FRAME_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// `POST /v1/rulesets/{id}/batch`.
pub async fn batch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<BatchQuery>,
    caller: Option<Extension<Caller>>,
    body: Body,
) -> Result<Response, ApiError> {
    let s = served(&state, &id)?;
    let fields = match q.fields.as_deref() {
        None | Some("compact") => carelevel_batch::Fields::Compact,
        Some("full") => carelevel_batch::Fields::Full,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!(
                    "`fields={}`: expected `compact` or `full`",
                    carelevel::text::Shown::excerpt(other)
                ),
            )
            .at("query fields"))
        }
    };
    let batch_id = crate::cds::random_uuid()?;
    let recorder = state.decision_log.clone().map(|log| BatchRecorder {
        log,
        batch_id: batch_id.clone(),
        requester: decisions::requester(caller.as_ref().map(|Extension(c)| c)),
    });
    let limit = state.config.limits.batch_body_bytes;
    let (in_tx, in_rx) = mpsc::channel::<io::Result<Bytes>>(CHANNEL_FRAMES);
    let (out_tx, out_rx) = mpsc::channel::<io::Result<Bytes>>(CHANNEL_FRAMES);

    // Feed the body, counting it against the limit.
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        let mut total: u64 = 0;
        while let Some(frame) = stream.next().await {
            let item = match frame {
                Ok(bytes) => {
                    total = total.saturating_add(bytes.len() as u64);
                    if total > limit {
                        Err(io::Error::other(format!(
                            "the body is larger than the batch limit of {limit} bytes (`limits.batch_body_bytes`)"
                        )))
                    } else {
                        Ok(bytes)
                    }
                }
                Err(e) => Err(io::Error::other(format!("the body could not be read: {e}"))),
            };
            let stop = item.is_err();
            if in_tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });

    let ruleset = s.clone();
    tokio::task::spawn_blocking(move || {
        let reader = ChannelReader {
            rx: in_rx,
            current: Bytes::new(),
        };
        let mut writer = ChannelWriter {
            tx: out_tx,
            buf: Vec::with_capacity(OUT_FRAME_BYTES),
        };
        let input = carelevel_batch::Input::jsonl(Box::new(reader), q.id_field.as_deref());
        let options = carelevel_batch::Options {
            format: carelevel_batch::OutputFormat::Jsonl,
            fields,
            threads: 1,
        };
        let result = match &recorder {
            Some(r) => carelevel_batch::run_recorded(
                &ruleset.ruleset,
                input,
                &options,
                None,
                r,
                &mut writer,
                None,
                &mut |_| {},
            ),
            None => carelevel_batch::run(
                &ruleset.ruleset,
                input,
                &options,
                &mut writer,
                None,
                &mut |_| {},
            ),
        };
        let end = match result {
            Ok(_) => writer.flush(),
            Err(e) => {
                let line = serde_json::json!({"error": {
                    "code": "batch_stopped",
                    "message": carelevel::text::escape_for_display(&e.to_string(), Some(1024)),
                    "where": "body",
                }});
                let _ = writeln!(writer, "{line}");
                let _ = writer.flush();
                Err(io::Error::other(e.to_string()))
            }
        };
        if let Err(e) = end {
            let _ = writer.tx.blocking_send(Err(e));
        }
    });

    let stream = tokio_stream::wrappers::ReceiverStream::new(out_rx);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    if let Ok(v) = HeaderValue::from_str(&s.ruleset.metadata().version) {
        headers.insert(VERSION_HEADER, v);
    }
    if let Ok(v) = HeaderValue::from_str(&batch_id) {
        headers.insert(BATCH_ID_HEADER, v);
    }
    Ok(response)
}
