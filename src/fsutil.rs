//! Durable, atomic file replacement.
//!
//! Every file that matters (an output file, a cached service-tag file, a refresh state) is
//! written to a temporary file in the same directory, flushed to disk, renamed over the target,
//! and the directory flushed too: readers and crashes see the old file or the new one, never a
//! part. What the path names decides what "replacing" means:
//! - a regular file is replaced and keeps its permissions; a new file gets the umask's;
//! - a symbolic link is followed: its target is replaced, the link stays (a link that points
//!   nowhere is refused);
//! - a FIFO, a device or a socket is written into, as a shell's `>` would: it is not a file to
//!   replace, and renaming over it would put a regular file in its place;
//! - a directory is refused.

// The state directory's writes are the refresh job's (feature `azure`).
#![cfg_attr(not(feature = "azure"), allow(dead_code))]

use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` as described in the module docs.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (target, existing) = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            let target = std::fs::canonicalize(path).map_err(|e| {
                io::Error::new(e.kind(), format!("the link points to nothing usable: {e}"))
            })?;
            let meta = std::fs::metadata(&target)?;
            (target, meta)
        }
        Ok(meta) => (path.to_path_buf(), meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return replace(path, bytes, None),
        Err(e) => return Err(e),
    };
    if existing.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    if !existing.is_file() {
        let mut special = std::fs::OpenOptions::new().write(true).open(&target)?;
        return special.write_all(bytes).and_then(|()| special.flush());
    }
    replace(&target, bytes, Some(existing.permissions()))
}

/// Replaces the regular file `path` (or creates it) through a temporary file beside it, with
/// `permissions` when given, else those a new file gets.
fn replace(path: &Path, bytes: &[u8], permissions: Option<std::fs::Permissions>) -> io::Result<()> {
    let dir = parent_dir(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tagroute-");
    // Created as a new file would be (0666 less the umask), not tempfile's private 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    // tempfile names its temporary file in the error; the user gave the path, not that name.
    let mut tmp = builder.tempfile_in(dir).map_err(|e| {
        let why = match e.kind() {
            io::ErrorKind::NotFound => format!("no directory {}", dir.display()),
            io::ErrorKind::PermissionDenied => {
                format!("no permission to create a file in {}", dir.display())
            }
            kind => format!("cannot create a file in {}: {kind}", dir.display()),
        };
        io::Error::new(e.kind(), why)
    })?;
    if let Some(permissions) = permissions {
        tmp.as_file().set_permissions(permissions)?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Reads at most `limit` bytes of the regular file at `path`: opened without blocking (a FIFO or
/// a device is refused before anything is read), and, with `no_follow`, without following a
/// symbolic link at `path`. The bound is on the bytes read, not on the size the file reports, so
/// a file that grows (or `/dev/zero`) is refused at `limit`.
pub(crate) fn read_bounded(path: &Path, limit: u64, no_follow: bool) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let follow = if no_follow { libc::O_NOFOLLOW } else { 0 };
        options.custom_flags(libc::O_NONBLOCK | follow);
    }
    let file = options.open(path).map_err(|e| refused_link(e, no_follow))?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// An open that failed on a symbolic link (`O_NOFOLLOW` answers `ELOOP`) said in words.
fn refused_link(e: io::Error, no_follow: bool) -> io::Error {
    #[cfg(unix)]
    if no_follow && e.raw_os_error() == Some(libc::ELOOP) {
        return io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a symbolic link, which a state directory never holds: refused",
        );
    }
    let _ = no_follow;
    e
}

/// Opens (creating it when missing) a file of a state directory for reading and writing,
/// without following a symbolic link and without blocking; anything but a regular file is
/// refused.
pub(crate) fn open_own(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| refused_link(e, true))?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Creates the new file `path` and writes `bytes` to disk: refused if anything (a file, a
/// symbolic link) is already there, so nothing outside is ever written through it.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut f = options.open(path).map_err(|e| refused_link(e, true))?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes sure `path` is a directory of its own, creating it when missing: a symbolic link (to
/// a directory elsewhere or anywhere) or anything else is refused, so that what is written
/// under it stays under it.
pub(crate) fn own_dir(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a symbolic link, which a state directory never holds: refused",
        )),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is not a directory",
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match std::fs::create_dir(path) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
            // Created, or created meanwhile: judged again, never followed.
            _ => own_dir_exists(path),
        },
        Err(e) => Err(e),
    }
}

fn own_dir_exists(path: &Path) -> io::Result<()> {
    let m = std::fs::symlink_metadata(path)?;
    if m.is_dir() && !m.file_type().is_symlink() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is not a directory of its own: refused",
        ))
    }
}

/// Replaces the file `path` of a state directory with `bytes` (a temporary file beside it,
/// flushed, renamed over it): a symbolic link at `path` is refused, and the rename would replace
/// a link planted meanwhile, never write through it.
pub(crate) fn replace_own(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a symbolic link, which a state directory never holds: refused",
        ));
    }
    replace(path, bytes, None)
}

/// Flushes a directory's entries (renames, creations) to disk.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_keep_their_mode_and_new_ones_get_the_umasks() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old");
        std::fs::write(&old, "a").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&old, b"b").unwrap();
        assert_eq!(
            (std::fs::read(&old).unwrap(), mode(&old)),
            (b"b".to_vec(), 0o640)
        );
        // The umask of the test process: what a plain create gets.
        let probe = dir.path().join("probe");
        std::fs::File::create(&probe).unwrap();
        let new = dir.path().join("new");
        write_atomic(&new, b"c").unwrap();
        assert_eq!(mode(&new), mode(&probe));
        assert_ne!(mode(&new), 0o600, "not tempfile's private mode");
    }

    #[test]
    fn links_are_followed_and_special_files_written_into() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(write_atomic(&dangling, b"x").is_err());
        assert!(
            std::fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // /dev/null stays the device it is.
        write_atomic(Path::new("/dev/null"), b"x").unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
        assert!(write_atomic(dir.path(), b"x").is_err());
    }
}
