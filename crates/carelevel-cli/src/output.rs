//! Where `batch` writes its results and error records (`--output`, `--errors`).
//!
//! Every target is checked before anything is read ([`plan`]), and opened only when
//! the input has been found usable ([`Plan::open`]):
//!
//! - `-`, `/dev/stdout` (and `/dev/fd/1`, `/proc/self/fd/1`): standard output.
//!   `/dev/stderr` and its aliases: a copy of the standard error descriptor.
//! - A FIFO or a character device (also through a symbolic link, e.g. `/dev/null`):
//!   opened and written directly. It is never replaced and no temporary file is made.
//! - A regular file, or a name that does not exist yet: written to a temporary file
//!   `.NAME.XXXXXX.tmp` beside it, flushed to disk and renamed over NAME when the
//!   batch is complete, so NAME is never partial. A new file gets mode 0600; an
//!   existing file keeps its permission bits, and its owner and group where the user
//!   may give them (root). A read-only file and a file with more than one hard link
//!   are refused: replacing them would ignore the protection or break the link.
//! - A symbolic link is followed: the file it resolves to is written (as above, its
//!   temporary file beside it) and the link stays. A link to nothing is refused.
//! - A directory, a block device or a socket is refused.
//!
//! No output may be an input of the same command (the input file, the ruleset, or
//! standard input when either is `-`), nor the other output: same path, same inode
//! or a hard link to it.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::input;
use crate::interrupt::{self, TempFile};

/// A checked output target, not opened yet.
#[derive(Debug)]
pub enum Plan {
    /// Standard output.
    Stdout,
    /// Standard error (`/dev/stderr`).
    Stderr,
    /// A FIFO or character device, written in place.
    Direct {
        /// The path as given.
        path: PathBuf,
    },
    /// A regular file (or a new one), replaced by a complete temporary file.
    Replace {
        /// The path as given, for messages.
        shown: PathBuf,
        /// The file written: `shown`, or where its symbolic link leads.
        target: PathBuf,
        /// The file there now, if any: its mode and owner are kept.
        existing: Option<Existing>,
    },
}

/// What is kept of a file being replaced.
#[derive(Debug, Clone, Copy)]
pub struct Existing {
    /// Permission bits (`0o777`).
    mode: u32,
    /// Owner.
    uid: u32,
    /// Group.
    gid: u32,
}

/// An opened output.
#[derive(Debug)]
pub enum Output {
    /// Standard output (the writer given to the subcommand).
    Stdout,
    /// A file written directly (FIFO, character device, standard error).
    Direct(File),
    /// A temporary file, renamed into place by [`commit`].
    Pending(Pending),
}

impl Output {
    /// The file to write, unless this is standard output.
    pub fn file(&mut self) -> Option<&mut File> {
        match self {
            Output::Stdout => None,
            Output::Direct(file) => Some(file),
            Output::Pending(p) => p.temp.as_mut().map(NamedTempFile::as_file_mut),
        }
    }

    /// Whether the output goes to a temporary file (nothing reaches the target before
    /// the batch is complete).
    pub fn is_pending(&self) -> bool {
        matches!(self, Output::Pending(_))
    }
}

/// A temporary file beside its target.
#[derive(Debug)]
pub struct Pending {
    /// The name as given, for messages.
    shown: String,
    /// The file it replaces.
    target: PathBuf,
    /// The temporary file (taken when it is renamed).
    temp: Option<NamedTempFile>,
}

/// Names of standard output and standard error that must not be resolved to a path:
/// they name an open descriptor, which may be a pipe or a file opened for appending.
fn descriptor(path: &Path) -> Option<u8> {
    match path.to_str()? {
        "-" | "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => Some(1),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" => Some(2),
        _ => None,
    }
}

/// Check `path` as the target of `flag` and decide how it will be written.
pub fn plan(flag: &str, path: &Path) -> Result<Plan, String> {
    match descriptor(path) {
        Some(1) => return Ok(Plan::Stdout),
        Some(_) => return Ok(Plan::Stderr),
        None => {}
    }
    let shown = path.display();
    let cannot = |why: &str| format!("{flag} `{shown}`: {why}");
    let link = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Plan::Replace {
                shown: path.to_owned(),
                target: path.to_owned(),
                existing: None,
            })
        }
        Err(e) => return Err(cannot(&input::io_message(&e))),
    };
    let (meta, target) = if link.file_type().is_symlink() {
        let resolved = std::fs::canonicalize(path).ok();
        match (std::fs::metadata(path), resolved) {
            (Ok(meta), Some(target)) => (meta, target),
            (Ok(meta), None) if !meta.is_file() => (meta, path.to_owned()),
            (Err(e), _) if e.kind() == io::ErrorKind::NotFound => {
                let to = std::fs::read_link(path)
                    .map(|p| format!(" to `{}`", p.display()))
                    .unwrap_or_default();
                return Err(cannot(&format!(
                    "it is a symbolic link{to}, which leads to no file; carelevel follows \
                     a link only to an existing file"
                )));
            }
            (Err(e), _) => return Err(cannot(&input::io_message(&e))),
            (Ok(_), None) => return Err(cannot("its symbolic link cannot be resolved")),
        }
    } else {
        (link, path.to_owned())
    };
    let kind = kind(&meta);
    match kind {
        Kind::Regular => {}
        Kind::Fifo | Kind::CharDevice => {
            return Ok(Plan::Direct {
                path: path.to_owned(),
            })
        }
        Kind::Directory => return Err(cannot("it is a directory")),
        Kind::Other(what) => {
            return Err(cannot(&format!(
                "it is {what}; carelevel writes only to regular files, FIFOs and \
                 character devices"
            )))
        }
    }
    let links = hard_links(&meta);
    if links > 1 {
        return Err(cannot(&format!(
            "the file has {links} hard links; replacing it would break them and writing \
             it in place could leave it partial: write to another file, or remove the \
             other links"
        )));
    }
    if let Err(e) = OpenOptions::new().write(true).open(&target) {
        let why = if e.kind() == io::ErrorKind::PermissionDenied {
            "the file is not writable by you (permission denied); carelevel does not \
             replace a file it may not write: make it writable or write to another file"
                .to_owned()
        } else {
            input::io_message(&e)
        };
        return Err(cannot(&why));
    }
    Ok(Plan::Replace {
        shown: path.to_owned(),
        target,
        existing: Some(existing(&meta)),
    })
}

/// The kind of file at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Regular,
    Directory,
    Fifo,
    CharDevice,
    /// A block device or a socket, in words.
    Other(&'static str),
}

/// What kind of file `meta` describes.
fn kind(meta: &Metadata) -> Kind {
    let t = meta.file_type();
    if t.is_file() {
        return Kind::Regular;
    }
    if t.is_dir() {
        return Kind::Directory;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Kind::Fifo;
        }
        if t.is_char_device() {
            return Kind::CharDevice;
        }
        if t.is_block_device() {
            return Kind::Other("a block device");
        }
        if t.is_socket() {
            return Kind::Other("a socket");
        }
    }
    Kind::Other("not a regular file")
}

/// The number of hard links to a file.
fn hard_links(meta: &Metadata) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.nlink()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        1
    }
}

/// The mode and owner of an existing file.
fn existing(meta: &Metadata) -> Existing {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Existing {
            mode: meta.mode() & 0o777,
            uid: meta.uid(),
            gid: meta.gid(),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Existing {
            mode: 0o600,
            uid: 0,
            gid: 0,
        }
    }
}

/// The identity of a file for "is this the same file": device and inode when it
/// exists, else its absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    /// An existing file; `shareable` for a character device (`/dev/null`), which is
    /// harmless to read and write in one command.
    Inode { dev: u64, ino: u64, shareable: bool },
    /// A file that does not exist yet.
    New(PathBuf),
}

impl Identity {
    /// Whether two targets are the same file that must not be shared.
    fn clashes(&self, other: &Identity) -> bool {
        match (self, other) {
            (
                Identity::Inode {
                    dev: d1,
                    ino: i1,
                    shareable: s1,
                },
                Identity::Inode {
                    dev: d2, ino: i2, ..
                },
            ) => d1 == d2 && i1 == i2 && !s1,
            (Identity::New(a), Identity::New(b)) => a == b,
            _ => false,
        }
    }
}

/// The identity of an existing file from its metadata.
fn identity_of(meta: &Metadata) -> Option<Identity> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(Identity::Inode {
            dev: meta.dev(),
            ino: meta.ino(),
            shareable: kind(meta) == Kind::CharDevice,
        })
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// The identity of standard input (0), output (1) or error (2).
fn descriptor_identity(fd: u8) -> Option<Identity> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let owned = match fd {
            0 => io::stdin().as_fd().try_clone_to_owned(),
            1 => io::stdout().as_fd().try_clone_to_owned(),
            _ => io::stderr().as_fd().try_clone_to_owned(),
        };
        let meta = File::from(owned.ok()?).metadata().ok()?;
        identity_of(&meta)
    }
    #[cfg(not(unix))]
    {
        let _ = fd;
        None
    }
}

/// The identity of a path argument (`-` is standard input).
fn path_identity(path: &Path) -> Option<Identity> {
    if let Some(fd) = descriptor(path) {
        // `-` as an input is standard input.
        return descriptor_identity(if input::is_stdin(path) { 0 } else { fd });
    }
    identity_of(&std::fs::metadata(path).ok()?)
}

/// The identity of a planned output.
fn plan_identity(plan: &Plan) -> Option<Identity> {
    match plan {
        Plan::Stdout => descriptor_identity(1),
        Plan::Stderr => descriptor_identity(2),
        Plan::Direct { path } => path_identity(path),
        Plan::Replace {
            target, existing, ..
        } => match existing {
            Some(_) => path_identity(target),
            None => Some(Identity::New(absolute(target))),
        },
    }
}

/// An absolute form of a path that does not exist yet: its directory resolved.
fn absolute(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (dir.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_owned(),
    }
}

/// The path an output was given as, if any.
fn output_path(plan: &Plan) -> Option<&Path> {
    match plan {
        Plan::Stdout | Plan::Stderr => None,
        Plan::Direct { path } => Some(path),
        Plan::Replace { shown, .. } => Some(shown),
    }
}

/// How an output is named in messages. `flag` is empty for the default output.
fn describe(flag: &str, plan: &Plan) -> String {
    match plan {
        Plan::Stdout if flag.is_empty() => "the standard output".to_owned(),
        Plan::Stdout => format!("{flag} (standard output)"),
        Plan::Stderr => format!("{flag} (standard error)"),
        Plan::Direct { path } => format!("{flag} `{}`", path.display()),
        Plan::Replace { shown, .. } => format!("{flag} `{}`", shown.display()),
    }
}

/// Refuse outputs that are an input of the command or each other. `outputs` are
/// `(flag, plan)` pairs, the flag empty for the default standard output. `inputs` are
/// `(what, path)` pairs such as `("the input file", "people.jsonl")`; `-` is standard
/// input.
pub fn check_distinct(outputs: &[(&str, &Plan)], inputs: &[(&str, &Path)]) -> Result<(), String> {
    let mut seen: Vec<(String, Option<Identity>, bool)> = Vec::new();
    for (flag, plan) in outputs {
        let id = plan_identity(plan);
        let name = describe(flag, plan);
        for (what, path) in inputs {
            let same = match (&id, path_identity(path)) {
                (Some(a), Some(b)) => a.clashes(&b),
                _ => false,
            };
            if same {
                let via = if input::is_stdin(path) {
                    " (read from standard input)".to_owned()
                } else if output_path(plan) == Some(*path) {
                    String::new()
                } else {
                    format!(" `{}`", path.display())
                };
                return Err(format!(
                    "{name} is {what}{via}: write the results elsewhere"
                ));
            }
        }
        let stdout = matches!(plan, Plan::Stdout);
        for (other, other_id, other_stdout) in &seen {
            let same = (stdout && *other_stdout)
                || matches!((&id, other_id), (Some(a), Some(b)) if a.clashes(b));
            if same {
                return Err(format!("{other} and {name} are the same file"));
            }
        }
        seen.push((name, id, stdout));
    }
    Ok(())
}

impl Plan {
    /// Open the output: the FIFO or device itself, or a temporary file beside the
    /// target. `Ok` carries a warning when the owner of a replaced file cannot be
    /// kept.
    pub fn open(self) -> Result<(Output, Option<String>), String> {
        match self {
            Plan::Stdout => Ok((Output::Stdout, None)),
            Plan::Stderr => open_stderr().map(|f| (Output::Direct(f), None)),
            Plan::Direct { path } => OpenOptions::new()
                .write(true)
                .open(&path)
                .map(|f| (Output::Direct(f), None))
                .map_err(|e| {
                    format!(
                        "cannot write `{}`: {}",
                        path.display(),
                        input::io_message(&e)
                    )
                }),
            Plan::Replace {
                shown,
                target,
                existing,
            } => Pending::create(&shown, &target, existing)
                .map(|(p, warning)| (Output::Pending(p), warning)),
        }
    }
}

/// A descriptor of standard error that can be written as a file.
fn open_stderr() -> Result<File, String> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map(File::from)
            .map_err(|e| format!("cannot write to standard error: {}", input::io_message(&e)))
    }
    #[cfg(not(unix))]
    {
        Err("writing to `/dev/stderr` is not supported on this platform".to_owned())
    }
}

impl Pending {
    /// Create the temporary file beside `target` with the mode (and owner) it will
    /// have, before any data is written to it.
    fn create(
        shown: &Path,
        target: &Path,
        existing: Option<Existing>,
    ) -> Result<(Pending, Option<String>), String> {
        let name = target
            .file_name()
            .ok_or_else(|| format!("`{}` is not a file name", shown.display()))?;
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        let prefix = format!(".{}.", name.to_string_lossy());
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o600));
        }
        // Registered under the lock so that a signal cannot come between creating the
        // file and recording it.
        let mut registry = interrupt::temp_files();
        let temp = builder.tempfile_in(dir).map_err(|e| {
            format!(
                "cannot create `{}`: cannot write in `{}`: {}",
                shown.display(),
                dir.display(),
                input::io_message(&e)
            )
        })?;
        registry.push(TempFile {
            path: temp.path().to_owned(),
            target: shown.display().to_string(),
        });
        drop(registry);
        let pending = Pending {
            shown: shown.display().to_string(),
            target: target.to_owned(),
            temp: Some(temp),
        };
        let warning = match (existing, pending.temp.as_ref()) {
            (Some(existing), Some(temp)) => keep_mode_and_owner(temp.as_file(), existing)
                .map_err(|e| {
                    format!(
                        "cannot create `{}`: cannot set its mode: {}",
                        shown.display(),
                        input::io_message(&e)
                    )
                })?
                .map(|lost| format!("`{}` is replaced by a file that {lost}", shown.display())),
            _ => None,
        };
        Ok((pending, warning))
    }
}

/// Give `file` the mode, owner and group of the file it will replace, as far as
/// permitted. When the group cannot be kept, group permissions are cut to what others
/// had, so that no one gains access. Returns what could not be kept.
fn keep_mode_and_owner(file: &File, existing: Existing) -> io::Result<Option<&'static str>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{fchown, MetadataExt, PermissionsExt};
        let meta = file.metadata()?;
        let mut mode = existing.mode;
        let mut lost = None;
        if (meta.uid(), meta.gid()) != (existing.uid, existing.gid)
            && fchown(file, Some(existing.uid), Some(existing.gid)).is_err()
        {
            let group_kept =
                meta.gid() == existing.gid || fchown(file, None, Some(existing.gid)).is_ok();
            if group_kept {
                lost = (meta.uid() != existing.uid)
                    .then_some("belongs to you (only root can keep the owner)");
            } else {
                mode = narrow_group(mode);
                lost = Some(
                    "belongs to you and your group (only root can keep them); its group \
                     has at most the permissions others have",
                );
            }
        }
        // After chown, which may clear bits.
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        Ok(lost)
    }
    #[cfg(not(unix))]
    {
        let _ = (file, existing);
        Ok(None)
    }
}

/// `mode` with the group's permissions cut to those that others have too.
fn narrow_group(mode: u32) -> u32 {
    let others_as_group = (mode & 0o007) << 3;
    (mode & !0o070) | (mode & 0o070 & others_as_group)
}

/// Flush every temporary file to disk and rename each over its target. The renames
/// happen under the signal lock: a signal comes before all of them or after.
pub fn commit(outputs: &mut [&mut Output]) -> Result<(), String> {
    for output in outputs.iter_mut() {
        if let Output::Pending(p) = output {
            if let Some(temp) = p.temp.as_ref() {
                temp.as_file().sync_all().map_err(|e| {
                    format!("cannot write `{}`: {}", p.shown, input::io_message(&e))
                })?;
            }
        }
    }
    let mut registry = interrupt::temp_files();
    let mut result = Ok(());
    for output in outputs.iter_mut() {
        let Output::Pending(p) = output else { continue };
        let Some(temp) = p.temp.take() else { continue };
        let temp_path = temp.path().to_owned();
        registry.retain(|t| t.path != temp_path);
        if let Err(e) = temp.persist(&p.target) {
            // The temporary file is deleted when `e` is dropped.
            result = Err(format!(
                "cannot write `{}`: {}",
                p.shown,
                input::io_message(&e.error)
            ));
            break;
        }
    }
    drop(registry);
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use super::*;

    #[test]
    fn narrowing_the_group_never_widens_access() {
        assert_eq!(narrow_group(0o640), 0o600);
        assert_eq!(narrow_group(0o664), 0o644);
        assert_eq!(narrow_group(0o600), 0o600);
        assert_eq!(narrow_group(0o666), 0o666);
        assert_eq!(narrow_group(0o604), 0o604);
        for mode in 0..=0o777 {
            let narrowed = narrow_group(mode);
            assert_eq!(narrowed & !0o070, mode & !0o070);
            assert_eq!(narrowed & 0o070 & !mode, 0);
            assert_eq!((narrowed >> 3) & 0o7 & !(mode & 0o7), 0);
        }
    }

    #[test]
    fn descriptor_names() {
        assert_eq!(descriptor(Path::new("-")), Some(1));
        assert_eq!(descriptor(Path::new("/dev/stdout")), Some(1));
        assert_eq!(descriptor(Path::new("/dev/stderr")), Some(2));
        assert_eq!(descriptor(Path::new("/dev/null")), None);
        assert_eq!(descriptor(Path::new("out.jsonl")), None);
    }
}
