//! The snapshots of one repository (`<cache>/trees/<repo key>/<sha>`): who
//! is using one, and which old ones go.
//!
//! A run that uses a snapshot holds a shared lock on `<sha>.lock` beside it
//! (a [`Lease`], kept by the `Checkout` until the run ends); pruning takes
//! the exclusive lock without waiting, so a snapshot in use, or being
//! extracted, is never deleted. A lock file is re-checked after locking (the
//! same inode is still at its path), so a lease never lands on a lock file
//! that pruning has just removed. After each checkout [`prune`] keeps the
//! [`KEEP`] most recently used snapshots of the repository and removes any
//! unused for [`MAX_AGE`].

use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};

/// Snapshots kept per repository.
pub const KEEP: usize = 20;
/// Snapshots unused for longer are removed.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// A shared lock on one snapshot, released on drop.
#[derive(Debug)]
pub struct Lease {
    _file: File,
}

fn lock_path(dir: &Path, sha: &str) -> PathBuf {
    dir.join(format!("{sha}.lock"))
}

fn open_lock(path: &Path) -> std::io::Result<File> {
    File::options().create(true).truncate(false).write(true).mode(0o600).open(path)
}

/// Whether `file` is still the file at `path` (pruning may have unlinked it).
fn still_there(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Take a shared lock on the snapshot `sha` in `dir` (waiting while pruning holds it).
pub fn lease(dir: &Path, sha: &str) -> Result<Lease> {
    let path = lock_path(dir, sha);
    loop {
        let file = open_lock(&path).map_err(|e| Error::io(&path, e))?;
        file.lock_shared().map_err(|e| Error::io(&path, e))?;
        if still_there(&file, &path) {
            return Ok(Lease { _file: file });
        }
    }
}

/// Record a use of a snapshot (its modification time orders pruning).
pub fn touch(snapshot: &Path) {
    if let Ok(f) = File::open(snapshot) {
        let _ = f.set_modified(SystemTime::now());
    }
}

fn is_sha(name: &str) -> bool {
    name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Remove the snapshots of `dir` beyond the `keep` most recently used and
/// those unused for `max_age`, skipping every one that is in use.
pub fn prune(dir: &Path, keep: usize, max_age: Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut snapshots: Vec<(SystemTime, String)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let meta = e.metadata().ok().filter(|m| m.is_dir())?;
            is_sha(&name).then(|| (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), name))
        })
        .collect();
    snapshots.sort_by(|a, b| b.cmp(a));
    for (i, (used, sha)) in snapshots.iter().enumerate() {
        let old = used.elapsed().is_ok_and(|age| age > max_age);
        if i >= keep || old {
            remove(dir, sha);
        }
    }
}

/// Remove one snapshot unless someone holds a lease on it.
fn remove(dir: &Path, sha: &str) {
    let path = lock_path(dir, sha);
    let Ok(file) = open_lock(&path) else { return };
    if file.try_lock().is_err() || !still_there(&file, &path) {
        tracing::debug!("snapshot {sha} is in use; not removing it");
        return;
    }
    let snapshot = dir.join(sha);
    match std::fs::remove_dir_all(&snapshot) {
        Ok(()) => {
            tracing::debug!("removed old snapshot {}", snapshot.display());
            let _ = std::fs::remove_file(&path);
        }
        Err(e) => tracing::debug!("cannot remove {}: {e}", snapshot.display()),
    }
}

/// Snapshots from versions that kept every repository's trees in one
/// directory (`trees/<sha>`, no lock): removed once unused for `max_age`.
pub fn prune_legacy(trees_dir: &Path, max_age: Duration) {
    let Ok(entries) = std::fs::read_dir(trees_dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let old =
            e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|a| a > max_age);
        if is_sha(&name) && old && e.path().is_dir() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(i: usize) -> String {
        format!("{i:040x}")
    }

    #[test]
    fn keeps_the_newest_and_skips_leased() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let now = SystemTime::now();
        for i in 0..5 {
            std::fs::create_dir(dir.join(sha(i))).unwrap();
            let f = File::open(dir.join(sha(i))).unwrap();
            f.set_modified(now - Duration::from_secs(100 * (i as u64 + 1))).unwrap();
        }
        std::fs::create_dir(dir.join("not-a-snapshot")).unwrap();
        // The oldest is in use.
        let held = lease(dir, &sha(4)).unwrap();
        prune(dir, 2, MAX_AGE);
        let left = |i: usize| dir.join(sha(i)).is_dir();
        assert!(left(0) && left(1), "the two newest stay");
        assert!(!left(2) && !left(3), "older ones go");
        assert!(left(4), "a leased snapshot stays");
        assert!(dir.join("not-a-snapshot").is_dir());
        assert!(!lock_path(dir, &sha(2)).exists(), "its lock file goes with it");
        drop(held);
        // Age alone: everything older than a minute goes.
        prune(dir, 10, Duration::from_secs(60));
        assert!(!left(0) && !left(4));
    }
}
