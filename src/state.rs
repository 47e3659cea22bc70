//! The state directory of an unattended `refresh`: never half-written, never shared.
//!
//! Layout: `DIR/current` names `DIR/gen-<changeNumber>-<unique>/`, a directory holding one
//! complete run's files (snapshot, plan, drift, diff, summary). A run writes a new generation
//! directory under a temporary name, flushes every file and the directory to disk, renames it
//! into place, then replaces `current` by renaming a new one over it: one atomic rename. A
//! `kill -9` at any moment leaves `current` naming the old complete generation or the new one;
//! leftovers of an interrupted run are removed by the next one.
//!
//! On Unix `current` is a symbolic link, so that `DIR/current/plan.sh` is a path; elsewhere
//! (Windows, where links need privileges) it is a small file holding the generation's name,
//! replaced the same way. Either form is read on every platform.
//!
//! `DIR/lock` is held with an exclusive advisory lock for the whole run (released by the kernel
//! if the process dies) and names its holder, so a second run can say who it waited for.

use std::fs::{self, File};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::fsutil::sync_dir;

/// The name of the link to the current generation.
pub(crate) const CURRENT: &str = "current";

/// Why the state directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        err: std::io::Error,
    },
    #[error(
        "{link} points to {} instead of a generation of this state directory: nothing is \
         known of the last run, so nothing was changed; repair or remove the link",
        crate::text::quoted(.target)
    )]
    BrokenCurrent { link: String, target: String },
    #[error("another refresh holds the lock on {dir} ({holder}); gave up after {waited:?}")]
    Locked {
        dir: String,
        holder: String,
        waited: Duration,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |err| StateError::Io {
        path: path.display().to_string(),
        err,
    }
}

/// An exclusive hold on a state directory, released on drop (or by the kernel on death).
pub struct Lock {
    _file: File,
}

/// Takes the lock, waiting up to `timeout`.
pub fn lock(dir: &Path, timeout: Duration) -> Result<Lock, StateError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join("lock");
    // Never through a link planted at `lock`: its target would be truncated below.
    let mut file = crate::fsutil::open_own(&path).map_err(io(&path))?;
    let start = Instant::now();
    loop {
        if file.try_lock().is_ok() {
            let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            let holder = format!(
                "pid {} on {} since {}",
                std::process::id(),
                host.trim(),
                httpdate::fmt_http_date(std::time::SystemTime::now())
            );
            file.set_len(0)
                .and_then(|_| file.rewind())
                .and_then(|_| file.write_all(holder.as_bytes()))
                .map_err(io(&path))?;
            return Ok(Lock { _file: file });
        }
        if start.elapsed() >= timeout {
            let mut holder = String::new();
            let _ = (&file).take(256).read_to_string(&mut holder);
            let holder = if holder.trim().is_empty() {
                "holder unknown".to_owned()
            } else {
                holder.trim().to_owned()
            };
            return Err(StateError::Locked {
                dir: dir.display().to_string(),
                holder,
                waited: timeout,
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How `current` names the current generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pointer {
    /// A symbolic link to the generation's directory.
    Link,
    /// A file holding the generation's directory name.
    File,
}

impl Pointer {
    /// The form this platform writes: a link on Unix, a file elsewhere.
    pub fn native() -> Pointer {
        if cfg!(unix) {
            Pointer::Link
        } else {
            Pointer::File
        }
    }
}

/// The directory of the current generation: `None` when there is none yet (a first run), an
/// error when `current` is there but does not name a generation of this directory (broken,
/// replaced, pointing elsewhere): then nothing is known of the last run, and taking it for a
/// first run would accept an older file and delete the generations.
pub fn current(dir: &Path) -> Result<Option<PathBuf>, StateError> {
    let pointer = dir.join(CURRENT);
    let meta = match pointer.symlink_metadata() {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&pointer)(e)),
    };
    let target = if meta.file_type().is_symlink() {
        fs::read_link(&pointer).map_err(io(&pointer))?
    } else if meta.is_file() {
        let mut text = String::new();
        File::open(&pointer)
            .and_then(|f| f.take(256).read_to_string(&mut text))
            .map_err(io(&pointer))?;
        PathBuf::from(text.trim_end())
    } else {
        PathBuf::from("(a directory)")
    };
    let name = target.to_str().unwrap_or_default();
    let full = dir.join(&target);
    if !name.starts_with("gen-") || name.contains(['/', '\\']) || !full.is_dir() {
        return Err(StateError::BrokenCurrent {
            link: pointer.display().to_string(),
            target: target.display().to_string(),
        });
    }
    Ok(Some(full))
}

/// Removes a file of a committed generation (a notification delivered) and flushes the
/// directory.
pub fn remove_file(generation: &Path, name: &str) -> Result<(), StateError> {
    let path = generation.join(name);
    fs::remove_file(&path).map_err(io(&path))?;
    sync_dir(generation).map_err(io(generation))
}

/// Moves the file `name` of `generation` into the directory `aside` of the state directory
/// `dir` (created, never through a link), and returns where it now is.
pub fn set_aside(
    dir: &Path,
    generation: &Path,
    name: &str,
    aside: &str,
) -> std::io::Result<PathBuf> {
    let to_dir = dir.join(aside);
    crate::fsutil::own_dir(&to_dir)?;
    let to = to_dir.join(format!("{}-{name}", fastrand::u32(..)));
    fs::rename(generation.join(name), &to)?;
    sync_dir(generation)?;
    sync_dir(&to_dir)?;
    Ok(to)
}

/// A file of a new generation.
pub enum Content<'a> {
    Bytes(Vec<u8>),
    /// A complete file already on disk, linked in (copied where it cannot be linked): many
    /// generations then share one copy of a large file, such as a fleet's service-tag file.
    Link(&'a Path),
}

impl From<Vec<u8>> for Content<'_> {
    fn from(bytes: Vec<u8>) -> Self {
        Content::Bytes(bytes)
    }
}

/// Writes a complete new generation from `files` (name, content) and makes it current.
/// Returns its directory. Older generations and leftovers are removed afterwards.
pub fn commit(
    dir: &Path,
    label: &str,
    files: &[(String, Content<'_>)],
) -> Result<PathBuf, StateError> {
    commit_with(dir, label, files, Pointer::native())
}

/// [`commit`] with `current` written as `pointer`.
pub(crate) fn commit_with(
    dir: &Path,
    label: &str,
    files: &[(String, Content<'_>)],
    pointer: Pointer,
) -> Result<PathBuf, StateError> {
    let unique = format!("{}-{}", std::process::id(), fastrand::u64(..));
    let staging = dir.join(format!(".staging-{unique}"));
    fs::create_dir(&staging).map_err(io(&staging))?;
    for (name, content) in files {
        let path = staging.join(name);
        match content {
            Content::Bytes(bytes) => {
                crate::fsutil::write_new(&path, &crate::secret::redact_bytes(bytes))
                    .map_err(io(&path))?;
            }
            Content::Link(from) => {
                // The stored file itself, never a link to elsewhere.
                let meta = fs::symlink_metadata(from).map_err(io(from))?;
                if !meta.is_file() {
                    return Err(io(from)(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "not a regular file of the state directory: refused",
                    )));
                }
                if fs::hard_link(from, &path).is_err() {
                    let bytes =
                        crate::fsutil::read_bounded(from, u64::MAX >> 1, true).map_err(io(from))?;
                    crate::fsutil::write_new(&path, &bytes).map_err(io(&path))?;
                }
            }
        }
    }
    sync_dir(&staging).map_err(io(&staging))?;
    let gen_name = format!("gen-{label}-{unique}");
    let generation = dir.join(&gen_name);
    fs::rename(&staging, &generation).map_err(io(&generation))?;
    let pointer_tmp = dir.join(format!(".current-{unique}"));
    match pointer {
        #[cfg(unix)]
        Pointer::Link => std::os::unix::fs::symlink(&gen_name, &pointer_tmp),
        #[cfg(not(unix))]
        Pointer::Link => unreachable!("links are written only on Unix"),
        Pointer::File => File::create(&pointer_tmp)
            .and_then(|mut f| f.write_all(gen_name.as_bytes()).and_then(|()| f.sync_all())),
    }
    .map_err(io(&pointer_tmp))?;
    fs::rename(&pointer_tmp, dir.join(CURRENT)).map_err(io(dir))?;
    sync_dir(dir).map_err(io(dir))?;
    clean(dir, &gen_name);
    Ok(generation)
}

/// Removes every generation but `keep`, and leftovers of interrupted runs (best effort).
fn clean(dir: &Path, keep: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let stale = (name.starts_with("gen-") && name != keep)
            || name.starts_with(".staging-")
            || name.starts_with(".current-");
        if stale {
            let p = e.path();
            let _ = if p.is_dir() && !p.is_symlink() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_replace_the_current_generation() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(current(tmp.path()).unwrap().is_none());
        let a = commit(tmp.path(), "1", &[("x.json".into(), b"1".to_vec().into())]).unwrap();
        assert_eq!(current(tmp.path()).unwrap().unwrap(), a);
        fs::create_dir(tmp.path().join(".staging-junk")).unwrap();
        let b = commit(tmp.path(), "2", &[("x.json".into(), b"2".to_vec().into())]).unwrap();
        assert_eq!(
            fs::read(current(tmp.path()).unwrap().unwrap().join("x.json")).unwrap(),
            b"2"
        );
        assert!(!a.exists() && b.exists() && !tmp.path().join(".staging-junk").exists());
    }

    /// A `current` that is not a link to a generation here is an error, and leaves every
    /// generation in place.
    #[cfg(unix)]
    #[test]
    fn a_broken_current_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let a = commit(tmp.path(), "1", &[("x.json".into(), b"1".to_vec().into())]).unwrap();
        let link = tmp.path().join(CURRENT);
        for target in ["gen-gone", "/etc", "../elsewhere"] {
            fs::remove_file(&link).unwrap();
            std::os::unix::fs::symlink(target, &link).unwrap();
            let err = current(tmp.path()).unwrap_err().to_string();
            assert!(err.contains("instead of a generation"), "{err}");
            assert!(a.exists());
        }
        fs::remove_file(&link).unwrap();
        fs::create_dir(&link).unwrap();
        assert!(current(tmp.path()).is_err(), "a directory is not the link");
    }

    /// A linked file is the same file in the generation, and stays when its source goes.
    #[test]
    fn linked_files_are_shared() {
        let tmp = tempfile::tempdir().unwrap();
        let big = tmp.path().join("big.json");
        fs::write(&big, b"{\"x\": 1}").unwrap();
        let state = tmp.path().join("state");
        fs::create_dir(&state).unwrap();
        let g = commit(
            &state,
            "1",
            &[("snapshot.json".into(), Content::Link(&big))],
        )
        .unwrap();
        fs::remove_file(&big).unwrap();
        assert_eq!(fs::read(g.join("snapshot.json")).unwrap(), b"{\"x\": 1}");
    }

    /// The file form of `current`, which Windows writes, on every platform: commits replace
    /// it, it is read back, and a file that names no generation is an error.
    #[test]
    fn the_pointer_file_works_like_the_link() {
        let tmp = tempfile::tempdir().unwrap();
        let files = |x: &str| [("x.json".to_owned(), Content::from(x.as_bytes().to_vec()))];
        let a = commit_with(tmp.path(), "1", &files("1"), Pointer::File).unwrap();
        assert!(tmp.path().join(CURRENT).is_file());
        assert_eq!(current(tmp.path()).unwrap().unwrap(), a);
        let b = commit_with(tmp.path(), "2", &files("2"), Pointer::File).unwrap();
        assert_eq!(current(tmp.path()).unwrap().unwrap(), b);
        assert!(!a.exists());
        fs::write(tmp.path().join(CURRENT), "gen-gone").unwrap();
        assert!(current(tmp.path()).is_err());
        assert!(b.exists(), "nothing removed");
        // A state written one way is read and carried on the other.
        fs::write(
            tmp.path().join(CURRENT),
            b.file_name().unwrap().to_str().unwrap(),
        )
        .unwrap();
        let c = commit(tmp.path(), "3", &files("3")).unwrap();
        assert_eq!(current(tmp.path()).unwrap().unwrap(), c);
    }

    #[test]
    fn a_second_lock_waits_then_names_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let held = lock(tmp.path(), Duration::ZERO).unwrap();
        let err = lock(tmp.path(), Duration::from_millis(250))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(held);
        assert!(lock(tmp.path(), Duration::ZERO).is_ok());
    }
}
