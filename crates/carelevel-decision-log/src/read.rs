//! Reading a log back, JSON Lines or SQLite, with a [`Filter`].
//!
//! [`read_log`] calls back once per entry that passes the filter, in the order of
//! writing, and once per entry that cannot be read ([`BadEntry`]): a bad line or row is
//! never skipped silently, and the caller decides what to do with it (the CLI
//! reports each on stderr with its line and exits 1, as `batch` does for bad records).
//!
//! A JSON Lines file whose last line has no newline and is not a whole record is a
//! *torn last line*: the writer crashed mid-write, before that entry was
//! acknowledged. It is reported as [`BadEntry`] with `torn: true`, so it is told
//! apart from corruption, but it is still reported. When a writer opens a file
//! with a torn last line it ends the line, so the fragment stays a line of its own;
//! read later, it is a bad line in the middle, reported with its number.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::record::LogEntry;
use crate::time::{TimeError, Timestamp};
use crate::writer::LogFormat;

/// Which entries to read. Every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Entries at or after this time.
    pub since: Option<Timestamp>,
    /// Entries before this time (exclusive).
    pub until: Option<Timestamp>,
    /// Decisions by this ruleset id (feedback has no ruleset, so it never matches).
    pub ruleset_id: Option<String>,
    /// Decisions recommending this level, or feedback whose chosen level is it.
    pub level: Option<String>,
    /// The decision with this id, and the feedback that links to it by id.
    pub decision_id: Option<String>,
}

impl Filter {
    /// Whether `entry` (whose time is `time`) passes.
    pub fn matches(&self, entry: &LogEntry, time: &Timestamp) -> bool {
        let eq = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|w| got == Some(w))
        };
        self.since.is_none_or(|s| *time >= s)
            && self.until.is_none_or(|u| *time < u)
            && eq(&self.ruleset_id, entry.ruleset_id())
            && eq(&self.level, entry.level())
            && eq(&self.decision_id, entry.decision_id())
    }
}

/// Where an entry is in its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// 1-based line of a JSON Lines file.
    Line(u64),
    /// `seq` of a SQLite row.
    Row(i64),
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::Line(n) => write!(f, "line {n}"),
            Position::Row(n) => write!(f, "row seq={n}"),
        }
    }
}

/// An entry that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{position}: {}{detail}", path.display(), if *torn { "torn last line (no newline at the end of the file: a write cut off by a crash, never acknowledged): " } else { "" })]
pub struct BadEntry {
    /// The log file.
    pub path: PathBuf,
    /// Where.
    pub position: Position,
    /// Whether it is a torn last line (see the module documentation).
    pub torn: bool,
    /// What is wrong, with the JSON column when there is one.
    pub detail: String,
}

/// Why a log could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read decision log `{}`: {detail}", path.display())]
    Io {
        /// The log file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// The file name names no log format.
    #[error(transparent)]
    Format(#[from] crate::writer::LogError),
    /// A filter bound is not a time.
    #[error("filter: {0}")]
    Bound(#[from] TimeError),
}

/// One entry read, with where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadEntry {
    /// Where the entry is.
    pub position: Position,
    /// The entry.
    pub entry: LogEntry,
}

/// Read the log at `path` (format by extension, [`LogFormat::of_path`]), calling
/// `each` for every entry that passes `filter` and for every bad entry, in the order
/// of writing. `each` returns `false` to stop early.
pub fn read_log(
    path: &Path,
    filter: &Filter,
    each: &mut dyn FnMut(Result<ReadEntry, BadEntry>) -> bool,
) -> Result<(), ReadError> {
    match LogFormat::of_path(path)? {
        LogFormat::Jsonl => read_jsonl(path, filter, each),
        LogFormat::Sqlite => read_sqlite(path, filter, each),
    }
}

/// An I/O error in words (as the CLI words them, without `(os error N)`).
fn io_detail(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => e.to_string(),
    }
}

/// Parse one entry's JSON text and its time.
fn parse(text: &str) -> Result<(LogEntry, Timestamp), String> {
    let entry: LogEntry = serde_json::from_str(text).map_err(|e| {
        // serde_json ends its message with "at line 1 column N"; the line is ours.
        let msg = e.to_string();
        if e.line() == 0 {
            // No position (e.g. a missing field): the whole line is at fault.
            return msg;
        }
        let tail = format!(" at line {} column {}", e.line(), e.column());
        let msg = msg.strip_suffix(&tail).unwrap_or(&msg);
        format!("column {}: {msg}", e.column())
    })?;
    let time = entry.validate()?;
    Ok((entry, time))
}

/// Read a JSON Lines log (see [`read_log`]).
pub fn read_jsonl(
    path: &Path,
    filter: &Filter,
    each: &mut dyn FnMut(Result<ReadEntry, BadEntry>) -> bool,
) -> Result<(), ReadError> {
    let io = |e: std::io::Error| ReadError::Io {
        path: path.to_path_buf(),
        detail: io_detail(&e),
    };
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(io)?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let ended = buf.last() == Some(&b'\n');
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        let bad = |detail: String, torn: bool| BadEntry {
            path: path.to_path_buf(),
            position: Position::Line(line),
            torn,
            detail,
        };
        let result = match std::str::from_utf8(body) {
            Err(e) => Err(bad(
                format!("not UTF-8 (byte {})", e.valid_up_to() + 1),
                !ended,
            )),
            Ok("") => Err(bad(
                "blank line; every line is one entry".to_owned(),
                !ended,
            )),
            Ok(text) => match parse(text) {
                Ok((entry, time)) => {
                    if !filter.matches(&entry, &time) {
                        continue;
                    }
                    Ok(ReadEntry {
                        position: Position::Line(line),
                        entry,
                    })
                }
                Err(detail) => Err(bad(detail, !ended)),
            },
        };
        if !each(result) {
            return Ok(());
        }
    }
}

/// Read a SQLite log (see [`read_log`]). The database is opened read-only.
pub fn read_sqlite(
    path: &Path,
    filter: &Filter,
    each: &mut dyn FnMut(Result<ReadEntry, BadEntry>) -> bool,
) -> Result<(), ReadError> {
    let sql = |e: rusqlite::Error| ReadError::Io {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    if !path.exists() {
        return Err(ReadError::Io {
            path: path.to_path_buf(),
            detail: "no such file".to_owned(),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql)?;
    conn.busy_timeout(crate::sqlite::BUSY_TIMEOUT)
        .map_err(sql)?;
    let version = crate::sqlite::check_version(&conn, path).map_err(|detail| ReadError::Io {
        path: path.to_path_buf(),
        detail,
    })?;
    if version == 0 {
        return Err(ReadError::Io {
            path: path.to_path_buf(),
            detail: "not a carelevel decision log (no schema version)".to_owned(),
        });
    }
    // The indexed columns narrow the scan; each row is still checked against the
    // filter from its own JSON, so the columns can never make a row pass wrongly.
    let mut query = "SELECT seq, entry FROM log_entry WHERE 1=1".to_owned();
    let mut args: Vec<String> = Vec::new();
    let mut cond = |column: &str, op: &str, value: Option<String>| {
        if let Some(v) = value {
            args.push(v);
            query.push_str(&format!(" AND {column} {op} ?{}", args.len()));
        }
    };
    cond("time", ">=", filter.since.map(|t| t.key()));
    cond("time", "<", filter.until.map(|t| t.key()));
    cond("ruleset_id", "=", filter.ruleset_id.clone());
    cond("level", "=", filter.level.clone());
    cond("decision_id", "=", filter.decision_id.clone());
    query.push_str(" ORDER BY seq");
    let mut st = conn.prepare(&query).map_err(sql)?;
    let mut rows = st
        .query(rusqlite::params_from_iter(args.iter()))
        .map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let seq: i64 = row.get(0).map_err(sql)?;
        let text: Result<String, _> = row.get(1);
        let result = match text {
            Err(e) => Err(e.to_string()),
            Ok(text) => parse(&text),
        };
        let result = match result {
            Ok((entry, time)) => {
                if !filter.matches(&entry, &time) {
                    continue;
                }
                Ok(ReadEntry {
                    position: Position::Row(seq),
                    entry,
                })
            }
            Err(detail) => Err(BadEntry {
                path: path.to_path_buf(),
                position: Position::Row(seq),
                torn: false,
                detail,
            }),
        };
        if !each(result) {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use super::*;
    use crate::record::tests_support::decision;
    use crate::writer::tests::feedback;
    use crate::writer::{LogWriter, SinkConfig};

    fn collect(path: &Path, filter: &Filter) -> (Vec<ReadEntry>, Vec<BadEntry>) {
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        read_log(path, filter, &mut |r| {
            match r {
                Ok(e) => ok.push(e),
                Err(b) => bad.push(b),
            }
            true
        })
        .unwrap();
        (ok, bad)
    }

    fn sample() -> Vec<LogEntry> {
        vec![
            decision("a", "2026-12-05T10:00:00Z", "default", "outpatient"),
            decision("b", "2026-12-05T11:00:00Z", "six-levels", "iop"),
            feedback(3), // 12:00:03, links to d3, chose iop
            decision("d3", "2026-12-06T09:00:00Z", "default", "iop"),
        ]
    }

    #[test]
    fn both_readers_agree_on_every_filter() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for name in ["log.jsonl", "log.sqlite"] {
            let path = dir.path().join(name);
            let w = LogWriter::open(&SinkConfig::from_path(&path).unwrap()).unwrap();
            for e in sample() {
                w.append(e).unwrap();
            }
            w.close().unwrap();
            paths.push(path);
        }
        let t = |s| Some(Timestamp::parse_bound(s).unwrap());
        let cases: Vec<(Filter, Vec<&str>)> = vec![
            (Filter::default(), vec!["a", "b", "d3", "d3"]),
            (
                Filter {
                    since: t("2026-12-05T11:00:00Z"),
                    ..Filter::default()
                },
                vec!["b", "d3", "d3"],
            ),
            (
                Filter {
                    until: t("2026-12-05T11:00:00Z"),
                    ..Filter::default()
                },
                vec!["a"],
            ),
            (
                Filter {
                    since: t("2026-12-06"),
                    ..Filter::default()
                },
                vec!["d3"],
            ),
            (
                Filter {
                    ruleset_id: Some("default".into()),
                    ..Filter::default()
                },
                vec!["a", "d3"],
            ),
            (
                Filter {
                    level: Some("iop".into()),
                    ..Filter::default()
                },
                vec!["b", "d3", "d3"],
            ),
            (
                Filter {
                    decision_id: Some("d3".into()),
                    ..Filter::default()
                },
                vec!["d3", "d3"],
            ),
            (
                Filter {
                    decision_id: Some("zz".into()),
                    ..Filter::default()
                },
                vec![],
            ),
        ];
        for (filter, want) in cases {
            for path in &paths {
                let (ok, bad) = collect(path, &filter);
                assert!(bad.is_empty());
                let ids: Vec<&str> = ok.iter().map(|r| r.entry.decision_id().unwrap()).collect();
                assert_eq!(ids, want, "{filter:?} on {}", path.display());
            }
        }
        let (ok, _) = collect(&paths[0], &Filter::default());
        assert_eq!(ok[2].position, Position::Line(3));
        let (ok, _) = collect(&paths[1], &Filter::default());
        assert_eq!(ok[2].position, Position::Row(3));
    }

    #[test]
    fn bad_lines_are_reported_with_their_line_and_a_torn_last_line_as_torn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let line = |e: &LogEntry| serde_json::to_string(e).unwrap();
        let s = sample();
        std::fs::write(
            &path,
            format!(
                "{}\n{{\"kind\": 1}}\n\n{}\n{{\"kind\":\"deci",
                line(&s[0]),
                line(&s[1])
            ),
        )
        .unwrap();
        let (ok, bad) = collect(&path, &Filter::default());
        assert_eq!(ok.len(), 2);
        let msgs: Vec<String> = bad.iter().map(ToString::to_string).collect();
        let p = path.display();
        assert_eq!(
            msgs,
            [
                format!("{p}:line 2: column 10: invalid type: integer `1`, expected variant identifier"),
                format!("{p}:line 3: blank line; every line is one entry"),
                format!("{p}:line 5: torn last line (no newline at the end of the file: a write cut off by a crash, never acknowledged): column 13: EOF while parsing a string"),
            ]
        );
        assert!(bad[2].torn && !bad[0].torn);
    }

    #[test]
    fn a_sqlite_file_that_is_not_a_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t(x);")
            .unwrap();
        let e = read_log(&path, &Filter::default(), &mut |_| true).unwrap_err();
        assert!(
            e.to_string().contains("not a carelevel decision log"),
            "{e}"
        );
        let missing = dir.path().join("missing.db");
        assert!(read_log(&missing, &Filter::default(), &mut |_| true).is_err());
        assert!(!missing.exists(), "reading must not create a database");
    }
}
