//! SIGINT, SIGTERM and SIGHUP during `batch`: remove every unfinished temporary
//! output file, then exit with 128 + the signal number (130, 143, 129).
//!
//! The signal handler itself (installed by `signal-hook`) only writes a byte to a
//! self-pipe. A watcher thread reads it and does the work as ordinary code: it takes
//! the lock on the list of temporary files, deletes them and exits the process while
//! still holding the lock. Creating a temporary file and renaming the finished ones
//! into place take the same lock, so a signal either comes before the renames (no
//! output file is created or changed, no temporary file is left) or after all of them
//! (the complete output stays). The watcher works even when the batch is blocked on
//! input (a terminal, a pipe) or on output (a FIFO with no reader), which a flag
//! polled by the pipeline could not do.
//!
//! Only SIGKILL (or a power cut) can leave a temporary file; its name is
//! `.NAME.XXXXXX.tmp` beside the output (docs/batch.md).

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The temporary files that exist now, each with the output it will become (for the
/// message).
static TEMP_FILES: Mutex<Vec<TempFile>> = Mutex::new(Vec::new());

/// A temporary output file and the name it is written for.
#[derive(Debug)]
pub struct TempFile {
    /// Where the temporary file is.
    pub path: PathBuf,
    /// The output as the user named it.
    pub target: String,
}

/// The list of temporary files, locked: hold it while creating one (then `push` it)
/// and while renaming them into place (then remove them).
pub fn temp_files() -> MutexGuard<'static, Vec<TempFile>> {
    TEMP_FILES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The exit code for a terminating signal: 128 + its number.
fn exit_code(signal: i32) -> i32 {
    128_i32.saturating_add(signal)
}

/// The signal's name, for the message.
fn signal_name(signal: i32) -> String {
    #[cfg(unix)]
    {
        use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
        match signal {
            SIGINT => return "SIGINT".to_owned(),
            SIGTERM => return "SIGTERM".to_owned(),
            SIGHUP => return "SIGHUP".to_owned(),
            _ => {}
        }
    }
    format!("signal {signal}")
}

/// What the watcher says on stderr after cleaning up.
fn message(signal: i32, removed: &[String]) -> String {
    let name = signal_name(signal);
    if removed.is_empty() {
        format!("carelevel: interrupted by {name}\n")
    } else {
        let list: Vec<String> = removed.iter().map(|t| format!("`{t}`")).collect();
        format!(
            "carelevel: interrupted by {name}: the unfinished output was removed; {} {} not written\n",
            list.join(" and "),
            if list.len() == 1 { "was" } else { "were" }
        )
    }
}

/// Delete every temporary file in `files` (the lock is held by the caller) and return
/// the outputs they were for.
fn remove_all(files: &mut Vec<TempFile>) -> Vec<String> {
    files
        .drain(..)
        .map(|t| {
            // Already gone is fine; any other failure cannot be helped while exiting,
            // and the message below still names the output.
            let _ = std::fs::remove_file(&t.path);
            t.target
        })
        .collect()
}

/// Start watching for SIGINT, SIGTERM and SIGHUP (once per process).
#[cfg(unix)]
pub fn install() -> std::io::Result<()> {
    use std::io::Write;
    use std::os::fd::AsFd;

    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    // The main thread holds the lock on `io::stderr()` for the whole run, so the
    // watcher writes through its own descriptor.
    let mut stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .ok();
    std::thread::Builder::new()
        .name("carelevel-signals".to_owned())
        .spawn(move || {
            let Some(signal) = signals.forever().next() else {
                return;
            };
            // Keep the lock until the process has exited: no temporary file can be
            // created or renamed after this point.
            let mut files = temp_files();
            let removed = remove_all(&mut files);
            if let Some(err) = stderr.as_mut() {
                let _ = err.write_all(message(signal, &removed).as_bytes());
            }
            std::process::exit(exit_code(signal));
        })?;
    Ok(())
}

/// Signals are not watched on this platform.
#[cfg(not(unix))]
pub fn install() -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        assert_eq!(exit_code(2), 130);
        assert_eq!(exit_code(15), 143);
        assert_eq!(exit_code(1), 129);
    }

    #[test]
    fn the_message_names_what_was_not_written() {
        assert_eq!(message(2, &[]), "carelevel: interrupted by SIGINT\n");
        assert_eq!(
            message(15, &["out.jsonl".to_owned(), "bad.jsonl".to_owned()]),
            "carelevel: interrupted by SIGTERM: the unfinished output was removed; \
             `out.jsonl` and `bad.jsonl` were not written\n"
        );
    }

    #[test]
    fn remove_all_deletes_the_files_and_empties_the_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".out.jsonl.abc.tmp");
        std::fs::write(&path, "x").unwrap();
        let mut files = vec![
            TempFile {
                path: path.clone(),
                target: "out.jsonl".to_owned(),
            },
            TempFile {
                path: dir.path().join("gone"),
                target: "errors.jsonl".to_owned(),
            },
        ];
        assert_eq!(remove_all(&mut files), ["out.jsonl", "errors.jsonl"]);
        assert!(files.is_empty());
        assert!(!path.exists());
    }
}
