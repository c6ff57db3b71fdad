//! The writer: background threads ([`WRITER_THREADS`] by default) doing group commit
//! to a JSON Lines file or a SQLite database.
//!
//! Callers [`LogWriter::submit`] entries from any thread. The entry is validated and
//! serialized on the caller's thread, into a buffer of that thread's, and its JSON
//! line is copied into the queue's pending group under the queue lock (for SQLite,
//! the entry with its indexed columns is moved there). A caller wakes a writer
//! thread only when one is idle and the queue was empty. A writer thread takes
//! everything pending as one group (swapping the pending buffers for its own empty
//! ones), writes the group and makes it durable, then calls each entry's `done`. One
//! thread at a time takes a group off the queue and one at a time writes, in the
//! order the groups were taken (so the log keeps the order of submission); the
//! syncs overlap: while one thread waits for its `fdatasync`, another can take,
//! write and sync the next group. A writer thread that finds entries already pending
//! after a group lets the next group gather for [`GATHER`] first (see there).
//!
//! Why the copy: a writer thread frees nothing a caller allocated (a caller's
//! serialized line stays in its own buffer, the group buffers go back and forth
//! between the queue and the writers). Freeing on a writer thread the strings the
//! server's request threads had allocated made glibc `malloc` contend on its arena
//! locks: about one `futex` call per request, most of the decision log's cost on the
//! request path (`docs/serve.md`, "Load").
//!
//! - JSON Lines: one `write` of the group's lines to a file opened with `O_APPEND`
//!   (created with mode `0600`), then `fdatasync` (`File::sync_data`) on the
//!   thread's own descriptor of the file. `fdatasync` makes everything written to
//!   the file before it durable, whoever wrote it, so a group is durable when the
//!   sync its thread started after writing it returns;
//! - SQLite: one transaction per group, in WAL mode with `synchronous=FULL`, so the
//!   commit returns only after the WAL is synced (one commit at a time: the
//!   connection is held for it).
//!
//! An entry is durable when its `done` gets `Ok`. When a write or sync fails
//! (`ENOSPC`, `SQLITE_FULL`, an I/O error), every entry of the group gets the error,
//! it is counted in [`LogStats::failed`], and the writer goes on with the next group.
//! A JSON Lines group whose `write` failed is cut off the file again (`ftruncate` to
//! the length after the last group written whole), so its entries are not in the
//! log, and a half-written line never has a later line glued to it; a failed SQLite
//! transaction is rolled back. A JSON Lines group whose `write` succeeded but whose
//! `fdatasync` failed is *not* cut off (other threads' groups may follow it in the
//! file, acknowledged): its entries got `Err`, and may or may not be in the log.
//! Each thread syncs through its own open file description, so a write-back error
//! is reported to every thread's next sync, not to one of them only (Linux reports a
//! write-back error once per open file description; no test injects one).
//!
//! One `LogWriter` per file: the writer assumes no other process appends to it.

use crate::record::LogEntry;
use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

/// A group buffer (or a caller thread's line buffer) whose capacity grew past this
/// many bytes is let go after use instead of kept for the next group.
const KEEP_BUFFER_BYTES: usize = 4 << 20;

/// Where the log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkConfig {
    /// An append-only JSON Lines file.
    Jsonl {
        /// The file (created if absent, mode `0600`).
        path: PathBuf,
    },
    /// A SQLite database (created if absent).
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
}

/// The kind of log file a path names, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `.jsonl`
    Jsonl,
    /// `.sqlite`, `.sqlite3` or `.db`
    Sqlite,
}

impl LogFormat {
    /// The format of `path` by its extension: `.jsonl` is JSON Lines; `.sqlite`,
    /// `.sqlite3` and `.db` are SQLite. Anything else is an error (no guessing from
    /// the content).
    pub fn of_path(path: &Path) -> Result<LogFormat, LogError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl") => Ok(LogFormat::Jsonl),
            Some("sqlite" | "sqlite3" | "db") => Ok(LogFormat::Sqlite),
            _ => Err(LogError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

impl SinkConfig {
    /// The sink for `path`, by its extension ([`LogFormat::of_path`]).
    pub fn from_path(path: &Path) -> Result<SinkConfig, LogError> {
        let path = path.to_path_buf();
        Ok(match LogFormat::of_path(&path)? {
            LogFormat::Jsonl => SinkConfig::Jsonl { path },
            LogFormat::Sqlite => SinkConfig::Sqlite { path },
        })
    }

    /// The file the sink writes.
    pub fn path(&self) -> &Path {
        match self {
            SinkConfig::Jsonl { path } | SinkConfig::Sqlite { path } => path,
        }
    }
}

/// Why the log could not be opened, or an entry was not made durable.
///
/// Cloneable, because one failed group write is reported to every entry of the group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The log file could not be opened or prepared.
    #[error("decision log {}: cannot open: {detail}", path.display())]
    Open {
        /// The log file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// The path has no extension that names a log format.
    #[error("decision log {}: unknown format; expected a file name ending in .jsonl (JSON Lines) or .sqlite/.sqlite3/.db (SQLite)", path.display())]
    UnknownFormat {
        /// The path given.
        path: PathBuf,
    },
    /// Writing or syncing a group failed; the entry is not in the log.
    #[error("decision log {}: {operation} failed{}: {detail}; the entry was not logged", path.display(), if *disk_full { " (disk full)" } else { "" })]
    Write {
        /// The log file.
        path: PathBuf,
        /// What was being done (`write`, `fdatasync`, `commit`, ...).
        operation: &'static str,
        /// The error from the system or SQLite.
        detail: String,
        /// Whether the cause is a full disk (`ENOSPC`, `SQLITE_FULL`).
        disk_full: bool,
    },
    /// The entry itself cannot be logged (e.g. its time is not RFC 3339 UTC).
    #[error("decision log: entry refused: {0}")]
    Invalid(String),
    /// The writer has stopped (closed, or its thread ended).
    #[error("decision log: the writer has stopped; the entry was not logged")]
    Closed,
}

impl LogError {
    /// Whether the error is a full disk.
    pub fn is_disk_full(&self) -> bool {
        matches!(
            self,
            LogError::Write {
                disk_full: true,
                ..
            }
        )
    }
}

/// Counters of a writer, since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Entries submitted (including refused ones).
    pub submitted: u64,
    /// Entries written and synced (`done(Ok)`).
    pub written: u64,
    /// Entries that failed to be written (I/O, disk full, writer stopped).
    pub failed: u64,
    /// Entries refused before writing ([`LogError::Invalid`]).
    pub refused: u64,
    /// Events the caller dropped because masking failed ([`LogWriter::count_mask_failure`]).
    pub mask_failures: u64,
    /// Groups committed successfully.
    pub groups: u64,
    /// Groups whose write or sync failed.
    pub failed_groups: u64,
}

/// The callback that learns whether an entry is durable.
pub type Done = Box<dyn FnOnce(Result<(), LogError>) + Send>;

/// An entry ready for a sink: its JSON text and the indexed columns.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) json: String,
    pub(crate) kind: &'static str,
    pub(crate) time_key: String,
    pub(crate) ruleset_id: Option<String>,
    pub(crate) level: Option<String>,
    pub(crate) decision_id: Option<String>,
    pub(crate) card_uuid: Option<String>,
}

impl Prepared {
    pub(crate) fn new(entry: &LogEntry) -> Result<Prepared, LogError> {
        let time = entry.validate().map_err(LogError::Invalid)?;
        let json = serde_json::to_string(entry).map_err(not_json)?;
        Ok(Prepared {
            json,
            kind: entry.kind(),
            time_key: time.key(),
            ruleset_id: entry.ruleset_id().map(str::to_owned),
            level: entry.level().map(str::to_owned),
            decision_id: entry.decision_id().map(str::to_owned),
            card_uuid: entry.card_uuid().map(str::to_owned),
        })
    }
}

/// The entries of one group, as the sink needs them: their JSON lines (a sink
/// without [`Sink::columns`]) or each entry with its indexed columns (a sink with).
#[derive(Default)]
pub(crate) struct Group {
    /// The entries' JSON text, each line ended by `\n` (sinks without columns).
    pub(crate) lines: Vec<u8>,
    /// The entries with their columns (sinks with columns).
    pub(crate) entries: Vec<Prepared>,
    /// Each entry's callback, in the order of the entries.
    dones: Vec<Done>,
}

impl Group {
    /// How many entries the group holds.
    pub(crate) fn len(&self) -> usize {
        self.dones.len()
    }

    fn is_empty(&self) -> bool {
        self.dones.is_empty()
    }

    /// A group of `entries` (for a sink with columns), without callbacks.
    #[cfg(test)]
    pub(crate) fn of_entries(entries: Vec<Prepared>) -> Group {
        Group {
            entries,
            ..Group::default()
        }
    }

    /// Empty, for the next group; a buffer that grew very large is let go.
    fn clear(&mut self) {
        self.lines.clear();
        if self.lines.capacity() > KEEP_BUFFER_BYTES {
            self.lines = Vec::new();
        }
        self.entries.clear();
        self.dones.clear();
    }
}

/// A destination for groups of entries.
pub(crate) trait Sink: Send {
    /// Write `group`, all or nothing. It is durable once a [`Syncer::sync`] that
    /// starts after this returned has returned `Ok` (for a sink whose `syncer` is
    /// [`Synced`], on return).
    fn write_group(&mut self, group: &Group) -> Result<(), LogError>;

    /// Whether the sink needs each entry with its indexed columns
    /// ([`Group::entries`]); otherwise it gets the JSON lines only ([`Group::lines`]).
    fn columns(&self) -> bool {
        false
    }

    /// A handle for one writer thread to make written groups durable, without
    /// holding the sink (so syncs of several threads overlap).
    fn syncer(&self) -> Result<Box<dyn Syncer>, LogError> {
        Ok(Box::new(Synced))
    }
}

/// Makes everything written to a sink before the call durable.
pub(crate) trait Syncer: Send {
    /// Sync; `Err` when the sync failed (what was written may be lost).
    fn sync(&mut self) -> Result<(), LogError>;
}

/// The syncer of a sink whose `write_group` is durable on return (SQLite commits).
pub(crate) struct Synced;

impl Syncer for Synced {
    fn sync(&mut self) -> Result<(), LogError> {
        Ok(())
    }
}

#[derive(Default)]
struct Counters {
    submitted: AtomicU64,
    acknowledged: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    refused: AtomicU64,
    mask_failures: AtomicU64,
    groups: AtomicU64,
    failed_groups: AtomicU64,
}

/// How many writer threads take groups (the writer supports several, whose syncs
/// overlap). Measured with `decide` at 64 connections on the 2-core VM of the
/// benchmark (`docs/serve.md`, "Load"), one thread that lets a group gather
/// ([`GATHER`]) served more requests per second than two or four: the request path is
/// CPU-bound, and fewer, larger groups spend less of both cores on `write`,
/// `fdatasync` and wake-ups.
pub const WRITER_THREADS: usize = 1;

/// When a writer thread finishes a group and entries are already pending (they were
/// submitted during its sync: the log is busy) but fewer than [`GATHER_BELOW`], it
/// waits this long before taking them, so that one `fdatasync` covers more entries.
/// An entry submitted to an idle writer is taken at once: this delay is paid only
/// under load, by entries whose callers are already waiting for a sync.
pub const GATHER: std::time::Duration = std::time::Duration::from_micros(300);

/// A group of at least this many pending entries is taken without waiting ([`GATHER`]).
pub const GATHER_BELOW: usize = 16;

/// The entries submitted and not yet taken by a writer thread.
#[derive(Default)]
struct Queue {
    /// The next group, filled by the callers.
    pending: Group,
    /// Writer threads waiting for an entry (a caller wakes one only then).
    idle: usize,
    /// Set by `close`: no more entries; the writers end once `pending` is empty.
    closed: bool,
}

/// What the callers and the writer threads share.
struct Shared {
    /// The queue; a writer takes everything pending as one group.
    queue: Mutex<Queue>,
    /// Signalled when an entry is queued while a writer is idle, and at `close`.
    ready: Condvar,
    /// The sink; held only while a group is written, not while it is synced.
    sink: Mutex<Box<dyn Sink>>,
    /// [`Sink::columns`] of the sink.
    columns: bool,
    counters: Arc<Counters>,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Background writer threads doing group commit (see the module documentation).
pub struct LogWriter {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    counters: Arc<Counters>,
}

thread_local! {
    /// A caller thread's buffer for serializing an entry before it is copied into
    /// the queue (so serializing allocates nothing once the buffer has grown, and no
    /// allocation of the caller's is freed by a writer thread).
    static LINE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl LogWriter {
    /// Open (or create) the log and start the writer thread.
    pub fn open(config: &SinkConfig) -> Result<LogWriter, LogError> {
        let sink: Box<dyn Sink> = match config {
            SinkConfig::Jsonl { path } => Box::new(JsonlSink::open(path)?),
            SinkConfig::Sqlite { path } => Box::new(crate::sqlite::SqliteSink::open(path)?),
        };
        LogWriter::with_sink(sink, config.path(), WRITER_THREADS)
    }

    /// A writer of `sink` with `threads` writer threads (at least one).
    pub(crate) fn with_sink(
        sink: Box<dyn Sink>,
        path: &Path,
        threads: usize,
    ) -> Result<LogWriter, LogError> {
        let threads = threads.max(1);
        let counters = Arc::new(Counters::default());
        let syncers = (0..threads)
            .map(|_| sink.syncer())
            .collect::<Result<Vec<_>, _>>()?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            columns: sink.columns(),
            sink: Mutex::new(sink),
            counters: Arc::clone(&counters),
        });
        let mut writer = LogWriter {
            shared: Arc::clone(&shared),
            threads: Vec::with_capacity(threads),
            counters,
        };
        for (n, syncer) in syncers.into_iter().enumerate() {
            let shared = Arc::clone(&shared);
            let thread = std::thread::Builder::new()
                .name(format!("decision-log-{n}"))
                .spawn(move || run(&shared, syncer))
                .map_err(|e| LogError::Open {
                    path: path.to_path_buf(),
                    detail: format!("cannot start a writer thread: {e}"),
                })?;
            // On an error above, dropping `writer` stops the threads started.
            writer.threads.push(thread);
        }
        Ok(writer)
    }

    /// Queue `entry`; `done` is called (on a writer thread, or at once if the entry
    /// is refused or the writer is closed) with `Ok` once the entry is durable, or
    /// with the error. `done` should be quick: the next group waits for it.
    ///
    /// The entry is validated and serialized on the caller's thread; a writer thread
    /// is woken only when one is idle and the queue was empty (otherwise a writer is
    /// already on its way to take the queue).
    pub fn submit(&self, entry: LogEntry, done: Done) {
        let c = &self.counters;
        c.submitted.fetch_add(1, Ordering::Relaxed);
        let queued = if self.shared.columns {
            match Prepared::new(&entry) {
                Ok(p) => Ok(self.enqueue(|g| g.entries.push(p), done)),
                Err(e) => Err((e, done)),
            }
        } else {
            // `try_with` fails only while the thread is being torn down: then a fresh
            // buffer is used and not kept.
            let mut line = LINE.try_with(Cell::take).unwrap_or_default();
            line.clear();
            let serialized = entry
                .validate()
                .map_err(LogError::Invalid)
                .and_then(|_| serde_json::to_writer(&mut line, &entry).map_err(not_json));
            let queued = match serialized {
                Ok(()) => Ok(self.enqueue(|g| g.lines.extend_from_slice(&line), done)),
                Err(e) => Err((e, done)),
            };
            if line.capacity() <= KEEP_BUFFER_BYTES {
                // reason: as above, a thread being torn down keeps no buffer.
                let _ = LINE.try_with(|l| l.set(line));
            }
            queued
        };
        match queued {
            Ok(None) => {}
            Ok(Some(done)) => {
                c.failed.fetch_add(1, Ordering::Relaxed);
                c.acknowledged.fetch_add(1, Ordering::Relaxed);
                done(Err(LogError::Closed));
            }
            Err((e, done)) => {
                c.refused.fetch_add(1, Ordering::Relaxed);
                c.acknowledged.fetch_add(1, Ordering::Relaxed);
                done(Err(e));
            }
        }
    }

    /// Add an entry (`add` puts its text in the group) and its `done` to the queue,
    /// waking an idle writer if the queue was empty. Gives `done` back when the
    /// writer is closed (nothing was added).
    fn enqueue(&self, add: impl FnOnce(&mut Group), done: Done) -> Option<Done> {
        let mut q = self.shared.queue();
        if q.closed {
            return Some(done);
        }
        let was_empty = q.pending.is_empty();
        add(&mut q.pending);
        if !self.shared.columns {
            q.pending.lines.push(b'\n');
        }
        q.pending.dones.push(done);
        let wake = was_empty && q.idle > 0;
        drop(q);
        if wake {
            self.shared.ready.notify_one();
        }
        None
    }

    /// Queue `entry` and wait until it is durable (or failed).
    pub fn append(&self, entry: LogEntry) -> Result<(), LogError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(
            entry,
            Box::new(move |r| {
                // reason: the receiver waits below; it is gone only if this thread is.
                let _ = tx.send(r);
            }),
        );
        rx.recv().unwrap_or(Err(LogError::Closed))
    }

    /// Queue every entry of `entries` (so they share group commits) and wait until
    /// all are durable; the first error if any failed.
    pub fn append_all(&self, entries: Vec<LogEntry>) -> Result<(), LogError> {
        let (tx, rx) = mpsc::channel();
        let n = entries.len();
        for entry in entries {
            let tx = tx.clone();
            self.submit(
                entry,
                Box::new(move |r| {
                    // reason: the receiver waits below until every entry is done.
                    let _ = tx.send(r);
                }),
            );
        }
        let mut first = Ok(());
        for _ in 0..n {
            let r = rx.recv().unwrap_or(Err(LogError::Closed));
            if first.is_ok() {
                first = r;
            }
        }
        first
    }

    /// Entries submitted and not yet acknowledged.
    pub fn backlog(&self) -> usize {
        let c = &self.counters;
        let n = c
            .submitted
            .load(Ordering::Acquire)
            .saturating_sub(c.acknowledged.load(Ordering::Acquire));
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    /// Count one event the caller dropped because its record could not be masked
    /// ([`crate::MaskError`]); reported in [`LogStats::mask_failures`].
    pub fn count_mask_failure(&self) {
        self.counters.mask_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters so far.
    pub fn stats(&self) -> LogStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Acquire);
        LogStats {
            submitted: get(&c.submitted),
            written: get(&c.written),
            failed: get(&c.failed),
            refused: get(&c.refused),
            mask_failures: get(&c.mask_failures),
            groups: get(&c.groups),
            failed_groups: get(&c.failed_groups),
        }
    }

    /// Write everything pending, stop the thread and wait for it. Entries submitted
    /// before `close` all get their `done` first.
    pub fn close(mut self) -> Result<(), LogError> {
        self.stop()
    }

    /// [`LogWriter::close`], returning the final counters (every entry submitted
    /// before has had its `done`).
    pub fn finish(mut self) -> Result<LogStats, LogError> {
        self.stop()?;
        Ok(self.stats())
    }

    fn stop(&mut self) -> Result<(), LogError> {
        self.shared.queue().closed = true;
        self.shared.ready.notify_all();
        let mut result = Ok(());
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                result = Err(LogError::Closed);
            }
        }
        result
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        // reason: dropping without `close` still flushes; nobody is left to tell.
        let _ = self.stop();
    }
}

/// Wait for the queue to hold an entry and take everything pending into `group`
/// (which must be empty); `false` once the queue is closed and empty. The guard is
/// kept: the caller takes the sink before letting the queue go.
fn take<'a>(
    shared: &'a Shared,
    mut q: MutexGuard<'a, Queue>,
    group: &mut Group,
) -> Option<MutexGuard<'a, Queue>> {
    while q.pending.is_empty() {
        if q.closed {
            return None;
        }
        q.idle += 1;
        q = shared.ready.wait(q).unwrap_or_else(PoisonError::into_inner);
        q.idle -= 1;
    }
    std::mem::swap(&mut q.pending, group);
    Some(q)
}

/// One writer thread: take every pending entry as a group (holding the queue),
/// write it (holding the sink), sync it (holding neither, so other threads' groups
/// overlap with the sync), then tell each entry's `done`.
fn run(shared: &Shared, mut syncer: Box<dyn Syncer>) {
    let c = &*shared.counters;
    let mut group = Group::default();
    loop {
        let pending = shared.queue().pending.len();
        if (1..GATHER_BELOW).contains(&pending) {
            std::thread::sleep(GATHER);
        }
        let Some(q) = take(shared, shared.queue(), &mut group) else {
            break;
        };
        // The sink is taken before the queue is let go (always in that order, so no
        // deadlock): groups are written in the order they were taken, so the log
        // keeps the order of submission, as with one writer thread.
        let mut sink = shared.sink.lock().unwrap_or_else(PoisonError::into_inner);
        drop(q);
        let written = sink.write_group(&group);
        drop(sink);
        let result = written.and_then(|()| syncer.sync());
        let n = group.len() as u64;
        if result.is_ok() {
            c.written.fetch_add(n, Ordering::Relaxed);
            c.groups.fetch_add(1, Ordering::Relaxed);
        } else {
            c.failed.fetch_add(n, Ordering::Relaxed);
            c.failed_groups.fetch_add(1, Ordering::Relaxed);
        }
        c.acknowledged.fetch_add(n, Ordering::Release);
        for done in group.dones.drain(..) {
            let r = result.clone();
            // reason: a panicking callback must not stop the log for everyone else.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || done(r)));
        }
        group.clear();
    }
}

/// A serialization failure: the entry is refused.
fn not_json(e: serde_json::Error) -> LogError {
    LogError::Invalid(format!("not representable as JSON: {e}"))
}

fn io_error(path: &Path, operation: &'static str, e: &io::Error) -> LogError {
    LogError::Write {
        path: path.to_path_buf(),
        operation,
        detail: e.to_string(),
        disk_full: e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(28),
    }
}

/// The JSON Lines sink.
pub(crate) struct JsonlSink {
    path: PathBuf,
    file: File,
    /// The length after the last acknowledged group (regular files only).
    good_len: Option<u64>,
    /// A failed group may have left bytes after `good_len` that could not be cut off.
    needs_cut: bool,
}

impl JsonlSink {
    pub(crate) fn open(path: &Path) -> Result<JsonlSink, LogError> {
        let open_err = |what: &str, e: io::Error| LogError::Open {
            path: path.to_path_buf(),
            detail: format!("{what}: {e}"),
        };
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let existed = path.exists();
        let mut file = options.open(path).map_err(|e| open_err("open", e))?;
        let meta = file.metadata().map_err(|e| open_err("stat", e))?;
        if !existed && meta.is_file() {
            // A new file's name is durable only once its directory is synced: without
            // this, a power cut could lose the whole file, acknowledged lines and all.
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| open_err("sync the directory of the new log", e))?;
        }
        let mut good_len = None;
        if meta.is_file() {
            let len = meta.len();
            if len > 0 {
                // A crash mid-write can leave a last line without its newline. End it
                // here, so the torn fragment stays a line of its own (the reader
                // reports it with its line number) and the next record is whole.
                let mut last = [0u8; 1];
                file.seek(SeekFrom::Start(len - 1))
                    .and_then(|_| file.read_exact(&mut last))
                    .map_err(|e| open_err("read the last byte", e))?;
                if last != *b"\n" {
                    file.write_all(b"\n")
                        .and_then(|()| file.sync_data())
                        .map_err(|e| open_err("end a torn last line", e))?;
                    good_len = Some(len + 1);
                } else {
                    good_len = Some(len);
                }
            } else {
                good_len = Some(0);
            }
        }
        Ok(JsonlSink {
            path: path.to_path_buf(),
            file,
            good_len,
            needs_cut: false,
        })
    }

    /// Cut the file back to the last acknowledged group.
    fn cut(&mut self) -> Result<(), LogError> {
        if let Some(len) = self.good_len {
            self.file
                .set_len(len)
                .map_err(|e| io_error(&self.path, "ftruncate after a failed write", &e))?;
        }
        self.needs_cut = false;
        Ok(())
    }
}

impl Sink for JsonlSink {
    fn write_group(&mut self, group: &Group) -> Result<(), LogError> {
        if self.needs_cut {
            self.cut()?;
        }
        match self.file.write_all(&group.lines) {
            Ok(()) => {
                if let Some(len) = &mut self.good_len {
                    *len += group.lines.len() as u64;
                }
                Ok(())
            }
            Err(e) => {
                if self.cut().is_err() {
                    self.needs_cut = true;
                }
                Err(io_error(&self.path, "write", &e))
            }
        }
    }

    fn syncer(&self) -> Result<Box<dyn Syncer>, LogError> {
        // A descriptor of its own per thread: a write-back error is reported to
        // every open file description that has not seen it yet, so a sync on one
        // thread cannot swallow the error another thread's sync must report.
        let file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| LogError::Open {
                path: self.path.clone(),
                detail: format!("open a descriptor for fdatasync: {e}"),
            })?;
        Ok(Box::new(JsonlSyncer {
            path: self.path.clone(),
            file,
        }))
    }
}

/// One writer thread's `fdatasync` of a JSON Lines log.
struct JsonlSyncer {
    path: PathBuf,
    file: File,
}

impl Syncer for JsonlSyncer {
    fn sync(&mut self) -> Result<(), LogError> {
        self.file
            .sync_data()
            .map_err(|e| io_error(&self.path, "fdatasync", &e))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use super::*;
    use crate::record::{Channel, FeedbackRecord, Outcome, Source};

    /// Writer threads for the tests of overlapping syncs (more than the default).
    pub(crate) const OVERLAPPING: usize = 4;

    pub(crate) fn feedback(n: usize) -> LogEntry {
        LogEntry::Feedback(FeedbackRecord {
            time: format!("2026-12-05T12:{:02}:{:02}Z", (n / 60) % 60, n % 60),
            decision_id: Some(format!("d{n}")),
            card_uuid: None,
            outcome: Outcome::Accepted,
            outcome_timestamp: None,
            override_reason: None,
            override_comment: None,
            chosen_level: Some("iop".to_owned()),
            source: Source {
                channel: Channel::CdsHooks,
                route: "/cds-services/carelevel/feedback".to_owned(),
                hook: None,
                hook_instance: None,
            },
            requester: None,
        })
    }

    /// Many threads submit at once: every entry is acknowledged `Ok`, and the file
    /// holds exactly those entries, each on a line of its own.
    pub(crate) fn concurrent_submits(config: &SinkConfig) -> Vec<LogEntry> {
        const THREADS: usize = 8;
        const EACH: usize = 250;
        let w = LogWriter::open(config).unwrap();
        let oks = Arc::new(AtomicU64::new(0));
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (w, oks) = (&w, Arc::clone(&oks));
                s.spawn(move || {
                    for i in 0..EACH {
                        let oks = Arc::clone(&oks);
                        w.submit(
                            feedback(t * EACH + i),
                            Box::new(move |r| {
                                r.unwrap();
                                oks.fetch_add(1, Ordering::Relaxed);
                            }),
                        );
                    }
                });
            }
        });
        let stats = w.stats();
        w.close().unwrap();
        assert_eq!(oks.load(Ordering::Relaxed), (THREADS * EACH) as u64);
        assert_eq!(stats.submitted, (THREADS * EACH) as u64);
        (0..THREADS * EACH).map(feedback).collect()
    }

    #[test]
    fn concurrent_submits_all_land_whole_jsonl() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let mut expected = concurrent_submits(&SinkConfig::Jsonl { path: path.clone() });
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with('\n'));
        let mut got: Vec<LogEntry> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let key = |e: &LogEntry| e.decision_id().unwrap_or_default().to_owned();
        got.sort_by_key(key);
        expected.sort_by_key(key);
        assert_eq!(got, expected);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn append_all_waits_for_every_entry_and_finish_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let w = LogWriter::open(&SinkConfig::Jsonl { path: path.clone() }).unwrap();
        w.append_all((0..50).map(feedback).collect()).unwrap();
        // Durable on return: on the file before the writer is closed.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 50);
        let stats = w.finish().unwrap();
        assert_eq!((stats.submitted, stats.written, stats.failed), (50, 50, 0));
        let full = LogWriter::open(&SinkConfig::Jsonl {
            path: PathBuf::from("/dev/full"),
        })
        .unwrap();
        let e = full.append_all((0..3).map(feedback).collect()).unwrap_err();
        assert!(e.is_disk_full(), "{e}");
        assert_eq!(full.finish().unwrap().failed, 3);
    }

    #[test]
    fn full_disk_reaches_every_done_and_the_writer_goes_on() {
        let w = LogWriter::open(&SinkConfig::Jsonl {
            path: PathBuf::from("/dev/full"),
        })
        .unwrap();
        for n in 0..3 {
            let e = w.append(feedback(n)).unwrap_err();
            assert!(e.is_disk_full(), "{e}");
            assert_eq!(
                e.to_string(),
                "decision log /dev/full: write failed (disk full): No space left on device (os error 28); the entry was not logged"
            );
        }
        let s = w.stats();
        assert_eq!((s.written, s.failed, s.failed_groups), (0, 3, 3));
        assert_eq!(w.backlog(), 0);
        w.close().unwrap();
    }

    #[test]
    fn refused_entries_never_reach_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let w = LogWriter::open(&SinkConfig::Jsonl { path: path.clone() }).unwrap();
        let mut bad = feedback(1);
        if let LogEntry::Feedback(f) = &mut bad {
            f.time = "2026-12-05 12:00".to_owned();
        }
        let e = w.append(bad).unwrap_err();
        assert!(matches!(e, LogError::Invalid(_)), "{e}");
        w.append(feedback(2)).unwrap();
        assert_eq!(w.stats().refused, 1);
        w.close().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }

    #[test]
    fn a_torn_last_line_is_ended_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let whole = serde_json::to_string(&feedback(1)).unwrap();
        std::fs::write(&path, format!("{whole}\n{{\"kind\":\"feedb")).unwrap();
        let w = LogWriter::open(&SinkConfig::Jsonl { path: path.clone() }).unwrap();
        w.append(feedback(2)).unwrap();
        w.close().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], "{\"kind\":\"feedb");
        assert_eq!(lines[2], serde_json::to_string(&feedback(2)).unwrap());
    }

    /// A sink that fails the groups it is told to, then writes through.
    struct Flaky {
        inner: JsonlSink,
        fail_next: Arc<AtomicU64>,
    }

    impl Sink for Flaky {
        fn write_group(&mut self, group: &Group) -> Result<(), LogError> {
            if self.fail_next.load(Ordering::SeqCst) > 0 {
                self.fail_next.fetch_sub(1, Ordering::SeqCst);
                // A half-written group, as a write cut short by ENOSPC leaves it.
                let half = &group.lines[..group.lines.len() / 2];
                self.inner.file.write_all(half).unwrap();
                self.inner.cut()?;
                return Err(io_error(
                    &self.inner.path,
                    "write",
                    &io::Error::from_raw_os_error(28),
                ));
            }
            self.inner.write_group(group)
        }

        fn syncer(&self) -> Result<Box<dyn Syncer>, LogError> {
            self.inner.syncer()
        }
    }

    #[test]
    fn a_failed_group_is_cut_off_and_later_groups_are_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let fail_next = Arc::new(AtomicU64::new(0));
        let sink = Flaky {
            inner: JsonlSink::open(&path).unwrap(),
            fail_next: Arc::clone(&fail_next),
        };
        let w = LogWriter::with_sink(Box::new(sink), &path, OVERLAPPING).unwrap();
        w.append(feedback(1)).unwrap();
        fail_next.store(1, Ordering::SeqCst);
        assert!(w.append(feedback(2)).unwrap_err().is_disk_full());
        w.append(feedback(3)).unwrap();
        w.close().unwrap();
        let got: Vec<LogEntry> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(got, [feedback(1), feedback(3)]);
    }

    /// A JSON Lines sink whose syncs are slow and counted: how many run at once at
    /// most, and which sync (by number) fails, if any.
    struct SlowSync {
        inner: JsonlSink,
        probe: Arc<SyncProbe>,
    }

    #[derive(Default)]
    struct SyncProbe {
        running: AtomicU64,
        most: AtomicU64,
        syncs: AtomicU64,
        fail_sync: AtomicU64,
    }

    struct SlowSyncer {
        inner: Box<dyn Syncer>,
        probe: Arc<SyncProbe>,
    }

    impl Sink for SlowSync {
        fn write_group(&mut self, group: &Group) -> Result<(), LogError> {
            self.inner.write_group(group)
        }

        fn syncer(&self) -> Result<Box<dyn Syncer>, LogError> {
            Ok(Box::new(SlowSyncer {
                inner: self.inner.syncer()?,
                probe: Arc::clone(&self.probe),
            }))
        }
    }

    impl Syncer for SlowSyncer {
        fn sync(&mut self) -> Result<(), LogError> {
            let p = &self.probe;
            let now = p.running.fetch_add(1, Ordering::SeqCst) + 1;
            p.most.fetch_max(now, Ordering::SeqCst);
            let n = p.syncs.fetch_add(1, Ordering::SeqCst) + 1;
            std::thread::sleep(std::time::Duration::from_millis(20));
            let r = self.inner.sync();
            p.running.fetch_sub(1, Ordering::SeqCst);
            if n == p.fail_sync.load(Ordering::SeqCst) {
                return Err(io_error(
                    Path::new("slow.jsonl"),
                    "fdatasync",
                    &io::Error::from_raw_os_error(5),
                ));
            }
            r
        }
    }

    /// Callers on many threads while each sync takes 20 ms: the writer threads' syncs
    /// overlap, every `done` is called exactly once, and the file holds each entry
    /// exactly once. The one sync made to fail fails only its own group: those entries
    /// got `Err`, every other entry got `Ok`.
    #[test]
    fn overlapping_syncs_acknowledge_each_entry_once() {
        const CALLERS: usize = 16;
        const EACH: usize = 20;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let probe = Arc::new(SyncProbe::default());
        probe.fail_sync.store(3, Ordering::SeqCst);
        let sink = SlowSync {
            inner: JsonlSink::open(&path).unwrap(),
            probe: Arc::clone(&probe),
        };
        let w = LogWriter::with_sink(Box::new(sink), &path, OVERLAPPING).unwrap();
        let calls: Arc<Vec<AtomicU64>> =
            Arc::new((0..CALLERS * EACH).map(|_| AtomicU64::new(0)).collect());
        let failed = Arc::new(std::sync::Mutex::new(Vec::new()));
        std::thread::scope(|s| {
            for t in 0..CALLERS {
                let (w, calls, failed) = (&w, Arc::clone(&calls), Arc::clone(&failed));
                s.spawn(move || {
                    for i in 0..EACH {
                        let n = t * EACH + i;
                        let (tx, rx) = mpsc::channel();
                        let calls = Arc::clone(&calls);
                        w.submit(
                            feedback(n),
                            Box::new(move |r| {
                                calls[n].fetch_add(1, Ordering::SeqCst);
                                tx.send(r).unwrap();
                            }),
                        );
                        // A closed loop, like a server's connection: wait, then next.
                        if rx.recv().unwrap().is_err() {
                            failed.lock().unwrap().push(n);
                        }
                    }
                });
            }
        });
        let stats = w.finish().unwrap();
        assert!(calls.iter().all(|c| c.load(Ordering::SeqCst) == 1));
        let failed = failed.lock().unwrap().clone();
        assert!(!failed.is_empty());
        assert_eq!(stats.failed_groups, 1);
        assert_eq!(stats.failed, failed.len() as u64);
        assert_eq!(stats.written, (CALLERS * EACH - failed.len()) as u64);
        assert!(
            probe.most.load(Ordering::SeqCst) > 1,
            "the syncs never overlapped"
        );
        assert!(probe.most.load(Ordering::SeqCst) <= OVERLAPPING as u64);
        // Each entry once; the entries of the failed sync's group stay in the file
        // (written, not known durable: their callers got `Err`).
        let mut ids: Vec<String> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| {
                let e: LogEntry = serde_json::from_str(l).unwrap();
                e.decision_id().unwrap().to_owned()
            })
            .collect();
        ids.sort();
        let mut expected: Vec<String> = (0..CALLERS * EACH).map(|n| format!("d{n}")).collect();
        expected.sort();
        assert_eq!(ids, expected);
    }

    /// A JSON Lines sink whose syncs wait until the test lets go of `gate`.
    struct Gated {
        inner: JsonlSink,
        gate: Arc<Mutex<()>>,
    }

    struct GatedSyncer {
        inner: Box<dyn Syncer>,
        gate: Arc<Mutex<()>>,
    }

    impl Sink for Gated {
        fn write_group(&mut self, group: &Group) -> Result<(), LogError> {
            self.inner.write_group(group)
        }

        fn syncer(&self) -> Result<Box<dyn Syncer>, LogError> {
            Ok(Box::new(GatedSyncer {
                inner: self.inner.syncer()?,
                gate: Arc::clone(&self.gate),
            }))
        }
    }

    impl Syncer for GatedSyncer {
        fn sync(&mut self) -> Result<(), LogError> {
            drop(self.gate.lock().unwrap());
            self.inner.sync()
        }
    }

    /// While the one writer thread is held in a sync, every entry submitted waits in
    /// the queue, and the writer takes all of them as its next group: at most two
    /// groups for 5,000 entries (the first may hold the first entry only), with no
    /// cap on a group's size, and the file keeps the order of submission.
    #[test]
    fn a_writer_takes_everything_queued_as_one_group() {
        const N: usize = 5000;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let gate = Arc::new(Mutex::new(()));
        let sink = Gated {
            inner: JsonlSink::open(&path).unwrap(),
            gate: Arc::clone(&gate),
        };
        let w = LogWriter::with_sink(Box::new(sink), &path, 1).unwrap();
        let acked = Arc::new(AtomicU64::new(0));
        let held = gate.lock().unwrap();
        for n in 0..N {
            let acked = Arc::clone(&acked);
            w.submit(
                feedback(n),
                Box::new(move |r| {
                    r.unwrap();
                    acked.fetch_add(1, Ordering::SeqCst);
                }),
            );
        }
        assert_eq!(
            acked.load(Ordering::SeqCst),
            0,
            "acknowledged before the sync"
        );
        drop(held);
        let stats = w.finish().unwrap();
        assert_eq!(acked.load(Ordering::SeqCst), N as u64);
        assert_eq!((stats.written, stats.failed), (N as u64, 0));
        assert!(
            (1..=2).contains(&stats.groups),
            "{} groups for {N} entries queued during one sync",
            stats.groups
        );
        let ids: Vec<String> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| {
                let e: LogEntry = serde_json::from_str(l).unwrap();
                e.decision_id().unwrap().to_owned()
            })
            .collect();
        let expected: Vec<String> = (0..N).map(|n| format!("d{n}")).collect();
        assert_eq!(ids, expected);
    }

    /// A group buffer that grew past [`KEEP_BUFFER_BYTES`] is let go when cleared; a
    /// smaller one keeps its capacity for the next group.
    #[test]
    fn a_very_large_group_buffer_is_not_kept() {
        let mut g = Group::default();
        g.lines.extend_from_slice(&[b'x'; 1024]);
        g.clear();
        assert!(g.lines.is_empty() && g.lines.capacity() >= 1024);
        g.lines.resize(KEEP_BUFFER_BYTES + 1, b'x');
        g.clear();
        assert_eq!(g.lines.capacity(), 0);
    }

    #[test]
    fn dropping_the_writer_flushes_every_pending_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let acked = Arc::new(AtomicU64::new(0));
        {
            let w = LogWriter::open(&SinkConfig::Jsonl { path: path.clone() }).unwrap();
            for n in 0..100 {
                let acked = Arc::clone(&acked);
                w.submit(
                    feedback(n),
                    Box::new(move |r| {
                        r.unwrap();
                        acked.fetch_add(1, Ordering::SeqCst);
                    }),
                );
            }
        }
        assert_eq!(acked.load(Ordering::SeqCst), 100);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 100);
    }

    const KILL_CHILD: &str = "CARELEVEL_DLOG_KILL_CHILD";

    /// The child of `kill_9_loses_no_acknowledged_entry`: 4 threads append to the log
    /// named by the environment and print `ACK <id>` for each acknowledged entry.
    fn kill_child(path: &str) {
        let w = LogWriter::open(&SinkConfig::from_path(Path::new(path)).unwrap()).unwrap();
        std::thread::scope(|s| {
            for t in 0..4 {
                let w = &w;
                s.spawn(move || {
                    for i in 0..100_000 {
                        let n = t * 100_000 + i;
                        w.append(feedback(n)).unwrap();
                        let mut out = io::stdout().lock();
                        writeln!(out, "ACK d{n}").unwrap();
                        out.flush().unwrap();
                    }
                });
            }
        });
    }

    /// `kill -9` of a process writing the log loses no entry whose `done` got `Ok`
    /// (the page cache survives a killed process; a power cut is what `fdatasync`
    /// is for), and leaves at most a torn last line.
    #[test]
    fn kill_9_loses_no_acknowledged_entry() {
        if let Ok(path) = std::env::var(KILL_CHILD) {
            kill_child(&path);
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        for name in ["log.jsonl", "log.sqlite"] {
            let path = dir.path().join(name);
            let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "writer::tests::kill_9_loses_no_acknowledged_entry",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(KILL_CHILD, &path)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let mut stdout = io::BufReader::new(child.stdout.take().unwrap());
            let mut acked = std::collections::BTreeSet::new();
            let mut line = String::new();
            while acked.len() < 2000 {
                line.clear();
                if io::BufRead::read_line(&mut stdout, &mut line).unwrap() == 0 {
                    break;
                }
                if let Some(id) = line.trim_end().strip_prefix("ACK ") {
                    acked.insert(id.to_owned());
                }
            }
            child.kill().unwrap();
            // Acknowledgements printed before the kill are still in the pipe.
            let mut rest = String::new();
            stdout.read_to_string(&mut rest).unwrap();
            acked.extend(
                rest.lines()
                    .filter_map(|l| l.strip_prefix("ACK "))
                    .map(str::to_owned),
            );
            child.wait().unwrap();
            assert!(
                acked.len() >= 2000,
                "{name}: the child acknowledged only {}",
                acked.len()
            );
            let mut logged = std::collections::BTreeSet::new();
            let mut bad = Vec::new();
            crate::read::read_log(&path, &crate::read::Filter::default(), &mut |r| {
                match r {
                    Ok(e) => {
                        logged.insert(e.entry.decision_id().unwrap().to_owned());
                    }
                    Err(b) => bad.push(b),
                }
                true
            })
            .unwrap();
            let lost: Vec<_> = acked.difference(&logged).collect();
            assert!(
                lost.is_empty(),
                "{name}: acknowledged but not logged: {lost:?}"
            );
            assert!(
                bad.is_empty() || (bad.len() == 1 && bad[0].torn),
                "{name}: {bad:?}"
            );
        }
    }

    #[test]
    fn format_by_extension() {
        assert_eq!(
            LogFormat::of_path(Path::new("a/b.jsonl")).unwrap(),
            LogFormat::Jsonl
        );
        assert_eq!(
            LogFormat::of_path(Path::new("b.db")).unwrap(),
            LogFormat::Sqlite
        );
        assert_eq!(
            LogFormat::of_path(Path::new("b.json")).unwrap_err().to_string(),
            "decision log b.json: unknown format; expected a file name ending in .jsonl (JSON Lines) or .sqlite/.sqlite3/.db (SQLite)"
        );
    }
}
