//! The SQLite sink: WAL, `synchronous=FULL`, one transaction per group.
//!
//! Schema (version 1, kept in `PRAGMA user_version`):
//!
//! ```sql
//! CREATE TABLE log_entry (
//!     seq         INTEGER PRIMARY KEY,  -- order of writing
//!     kind        TEXT NOT NULL,        -- 'decision' | 'feedback'
//!     time        TEXT NOT NULL,        -- fixed-width UTC key, sorts as text
//!     ruleset_id  TEXT,                 -- decisions only
//!     level       TEXT,                 -- recommended (decision) or chosen (feedback)
//!     decision_id TEXT,                 -- the decision's, or the one feedback links to
//!     card_uuid   TEXT,
//!     entry       TEXT NOT NULL         -- the entry's JSON, exactly as a JSON Lines line
//! );
//! ```
//! with an index on each of `time`, `ruleset_id`, `level`, `decision_id`, `card_uuid`.
//! The `entry` column is the record; the other columns are copies for querying.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, ErrorCode, OpenFlags};

use crate::writer::{Group, LogError, Sink};

/// How long a connection waits for a lock held by another before giving up.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The schema version this crate writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log_entry (
    seq         INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    time        TEXT NOT NULL,
    ruleset_id  TEXT,
    level       TEXT,
    decision_id TEXT,
    card_uuid   TEXT,
    entry       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_entry_time ON log_entry(time);
CREATE INDEX IF NOT EXISTS log_entry_ruleset_id ON log_entry(ruleset_id);
CREATE INDEX IF NOT EXISTS log_entry_level ON log_entry(level);
CREATE INDEX IF NOT EXISTS log_entry_decision_id ON log_entry(decision_id);
CREATE INDEX IF NOT EXISTS log_entry_card_uuid ON log_entry(card_uuid);
";

fn is_full(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::DiskFull)
}

/// Check the schema version of an open database: 0 (new) or [`SCHEMA_VERSION`].
pub(crate) fn check_version(conn: &Connection, path: &Path) -> Result<i64, String> {
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if v != 0 && v != SCHEMA_VERSION {
        return Err(format!(
            "{} has decision-log schema version {v}; this carelevel reads and writes version {SCHEMA_VERSION}",
            path.display()
        ));
    }
    Ok(v)
}

/// The SQLite sink.
pub(crate) struct SqliteSink {
    path: PathBuf,
    pub(crate) conn: Connection,
}

impl SqliteSink {
    pub(crate) fn open(path: &Path) -> Result<SqliteSink, LogError> {
        let err = |what: &str, e: &dyn std::fmt::Display| LogError::Open {
            path: path.to_path_buf(),
            detail: format!("{what}: {e}"),
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| err("open", &e))?;
        // A reader checkpointing or another process holding the lock briefly makes
        // SQLite answer BUSY; wait for it rather than fail the group at once.
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| err("set busy_timeout", &e))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| err("set journal_mode=WAL", &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(err(
                "set journal_mode=WAL",
                &format!("SQLite kept `{mode}`"),
            ));
        }
        conn.execute_batch("PRAGMA synchronous=FULL;")
            .map_err(|e| err("set synchronous=FULL", &e))?;
        check_version(&conn, path).map_err(|e| err("schema", &e))?;
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(|e| err("create the schema", &e))?;
        Ok(SqliteSink {
            path: path.to_path_buf(),
            conn,
        })
    }

    fn fail(&self, operation: &'static str, e: &rusqlite::Error) -> LogError {
        LogError::Write {
            path: self.path.clone(),
            operation,
            detail: e.to_string(),
            disk_full: is_full(e),
        }
    }
}

impl Sink for SqliteSink {
    fn columns(&self) -> bool {
        true
    }

    fn write_group(&mut self, group: &Group) -> Result<(), LogError> {
        let tx = self.conn.transaction().map_err(|e| LogError::Write {
            path: self.path.clone(),
            operation: "begin",
            detail: e.to_string(),
            disk_full: is_full(&e),
        })?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO log_entry (kind, time, ruleset_id, level, decision_id, card_uuid, entry)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(|e| LogError::Write {
                    path: self.path.clone(),
                    operation: "prepare",
                    detail: e.to_string(),
                    disk_full: is_full(&e),
                })?;
            for p in &group.entries {
                insert
                    .execute(params![
                        p.kind,
                        p.time_key,
                        p.ruleset_id,
                        p.level,
                        p.decision_id,
                        p.card_uuid,
                        p.json
                    ])
                    .map_err(|e| LogError::Write {
                        path: self.path.clone(),
                        operation: "insert",
                        detail: e.to_string(),
                        disk_full: is_full(&e),
                    })?;
            }
        }
        // Dropping `tx` on an error above rolls the group back.
        tx.commit().map_err(|e| self.fail("commit", &e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use super::*;
    use crate::record::LogEntry;
    use crate::writer::tests::{concurrent_submits, feedback};
    use crate::writer::{tests::OVERLAPPING, LogWriter, Prepared, SinkConfig};

    fn entries(path: &Path) -> Vec<LogEntry> {
        let conn = Connection::open(path).unwrap();
        let mut st = conn
            .prepare("SELECT entry FROM log_entry ORDER BY seq")
            .unwrap();
        st.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|t| serde_json::from_str(&t.unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn concurrent_submits_all_land_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sqlite");
        let mut expected = concurrent_submits(&SinkConfig::Sqlite { path: path.clone() });
        let mut got = entries(&path);
        let key = |e: &LogEntry| e.decision_id().unwrap_or_default().to_owned();
        got.sort_by_key(key);
        expected.sort_by_key(key);
        assert_eq!(got, expected);
        let conn = Connection::open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    fn big(n: usize) -> LogEntry {
        let mut e = feedback(n);
        if let LogEntry::Feedback(f) = &mut e {
            f.override_comment = Some("x".repeat(64 * 1024));
        }
        e
    }

    #[test]
    fn sqlite_full_reaches_done_rolls_back_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sqlite");
        let mut sink = SqliteSink::open(&path).unwrap();
        let pages: i64 = sink
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        // Room for a few small entries, not for a 64 KiB one.
        sink.conn
            .query_row(&format!("PRAGMA max_page_count={}", pages + 4), [], |_| {
                Ok(())
            })
            .unwrap();
        let g = |es: &[LogEntry]| {
            Group::of_entries(es.iter().map(|e| Prepared::new(e).unwrap()).collect())
        };
        sink.write_group(&g(&[feedback(0)])).unwrap();
        let e = sink.write_group(&g(&[feedback(1), big(2)])).unwrap_err();
        assert!(e.is_disk_full(), "{e}");
        assert!(e.to_string().contains("(disk full)"), "{e}");
        // The group is rolled back whole (entry 1 is not there) and the sink goes on.
        sink.write_group(&g(&[feedback(3)])).unwrap();
        let w = LogWriter::with_sink(Box::new(sink), &path, OVERLAPPING).unwrap();
        let e = w.append(big(4)).unwrap_err();
        assert!(e.is_disk_full(), "{e}");
        w.append(feedback(5)).unwrap();
        let s = w.stats();
        w.close().unwrap();
        assert_eq!((s.written, s.failed), (1, 1));
        assert_eq!(entries(&path), [feedback(0), feedback(3), feedback(5)]);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version=7;")
            .unwrap();
        let e = SqliteSink::open(&path).err().unwrap();
        assert!(
            e.to_string()
                .contains("schema version 7; this carelevel reads and writes version 1"),
            "{e}"
        );
    }
}
