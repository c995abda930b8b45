//! Extracting the tree of a commit into a private directory, keyed by the
//! repository and the commit SHA (`<cache>/trees/<repo key>/<sha>`, files
//! 0600, directories 0700), so renderers read ordinary files and no working
//! copy of the user is touched.
//!
//! The whole tree is extracted (kustomize `../`, chart `file://` and Jsonnet
//! imports reach outside `--path`), but only after a walk that writes
//! nothing has checked it against [`SnapshotLimits`].
//!
//! Invariants: entry names are plain file names (no `.`, `..`, `/`, `.git`);
//! a tree containing a symlink that leaves the repository is refused as a
//! whole (as Argo CD does); a finished snapshot appears atomically (extract
//! into a temporary sibling, then rename) and is never modified again.

use std::path::{Component, Path, PathBuf};

use git2::{Commit, ObjectType, Repository, Tree};

use super::options::SnapshotLimits;
use super::snapshots::{self, Lease};
use crate::error::{Error, Result};

const MODE_TREE: i32 = 0o040000;
const MODE_LINK: i32 = 0o120000;
const MODE_EXEC: i32 = 0o100755;
const MODE_GITLINK: i32 = 0o160000;

/// What one extraction is of, for messages, and what it may hold.
pub struct Extract<'a> {
    /// The repository, redacted.
    pub label: &'a str,
    /// The revision as asked for.
    pub revision: &'a str,
    pub limits: SnapshotLimits,
}

impl Extract<'_> {
    fn limit_error(&self, sha: &str, limit: String, flag: &'static str) -> Error {
        Error::Limit { what: format!("git snapshot of {} at {} ({sha})", self.label, self.revision), limit, flag }
    }
}

/// Walk `tree` without writing anything: every entry name is safe, every
/// symlink stays inside, and the limits hold. Entries are counted each time
/// they are reached, so a tree object referenced many times (a "tree bomb":
/// a dozen objects naming 10^9 paths) stops at the entry limit at once.
fn check_tree(repo: &Repository, tree: &Tree<'_>, x: &Extract<'_>, sha: &str) -> Result<()> {
    let odb = repo.odb().map_err(|e| object_error(x.label, Path::new(sha), &e))?;
    let (mut files, mut bytes) = (0u64, 0u64);
    let mut stack = vec![(PathBuf::new(), 0usize, tree.clone())];
    while let Some((dir, depth, tree)) = stack.pop() {
        for entry in tree.iter() {
            let name = entry_name(&entry, &dir, x.label)?;
            let path = dir.join(&name);
            files += 1;
            if files > x.limits.max_files {
                let limit = format!("entry limit of {}", x.limits.max_files);
                return Err(x.limit_error(sha, limit, "--git-max-files or KUBECTL_GITOPS_GIT_MAX_FILES"));
            }
            match entry.filemode() {
                MODE_TREE => {
                    if depth + 1 > x.limits.max_depth {
                        let limit = format!("directory depth limit of {} (at {})", x.limits.max_depth, path.display());
                        return Err(x.limit_error(sha, limit, "--git-max-depth or KUBECTL_GITOPS_GIT_MAX_DEPTH"));
                    }
                    let sub = repo.find_tree(entry.id()).map_err(|e| object_error(x.label, &path, &e))?;
                    stack.push((path, depth + 1, sub));
                }
                MODE_GITLINK => {}
                mode => {
                    let (size, _) = odb.read_header(entry.id()).map_err(|e| object_error(x.label, &path, &e))?;
                    bytes = bytes.saturating_add(size as u64);
                    if bytes > x.limits.max_bytes {
                        let limit = format!("size limit of {} bytes", x.limits.max_bytes);
                        return Err(x.limit_error(sha, limit, "--git-max-bytes or KUBECTL_GITOPS_GIT_MAX_BYTES"));
                    }
                    if mode == MODE_LINK {
                        let blob = repo.find_blob(entry.id()).map_err(|e| object_error(x.label, &path, &e))?;
                        let target = String::from_utf8_lossy(blob.content()).into_owned();
                        if !link_stays_inside(&dir, Path::new(&target)) {
                            return Err(Error::PathEscape {
                                path,
                                root: PathBuf::from(x.label),
                                detail: format!("symlink points to {target:?}"),
                            });
                        }
                    }
                }
            }
        }
    }
    tracing::debug!("{} at {sha}: {files} entries, {bytes} bytes", x.label);
    Ok(())
}

/// Whether a symlink in `dir` (relative to the repository root) with target
/// `target` resolves inside the repository, judged lexically.
fn link_stays_inside(dir: &Path, target: &Path) -> bool {
    let mut depth: i64 = dir.components().count() as i64;
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

fn entry_name(entry: &git2::TreeEntry<'_>, dir: &Path, repo_label: &str) -> Result<String> {
    let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || name.eq_ignore_ascii_case(".git");
    if bad {
        return Err(Error::Git {
            repo: repo_label.to_string(),
            message: format!("unsafe tree entry name {name:?} in {:?}", dir.display().to_string()),
        });
    }
    Ok(name)
}

pub(super) fn object_error(repo_label: &str, path: &Path, e: &git2::Error) -> Error {
    let message = format!("{}: {}", path.display(), e.message());
    if super::cache::is_damage(e) {
        return Error::GitDamaged { repo: repo_label.to_string(), message };
    }
    Error::Git { repo: repo_label.to_string(), message }
}

/// The directory holding the files of `commit` in `repo_dir` (this
/// repository's snapshots), extracting it on first use, and a lease that
/// keeps pruning away from it while the run lasts.
pub fn snapshot(repo: &Repository, commit: &Commit<'_>, repo_dir: &Path, x: &Extract<'_>) -> Result<(PathBuf, Lease)> {
    let repo_label = x.label;
    let sha = commit.id().to_string();
    let target = repo_dir.join(&sha);
    private_dir(repo_dir)?;
    let lease = snapshots::lease(repo_dir, &sha)?;
    if target.is_dir() {
        // Only trees that passed the checks below are ever renamed into place.
        tracing::debug!("reusing extracted tree {}", target.display());
        snapshots::touch(&target);
        return Ok((target, lease));
    }
    let tree = commit.tree().map_err(|e| object_error(repo_label, Path::new(&sha), &e))?;
    check_tree(repo, &tree, x, &sha)?;
    remove_abandoned(repo_dir);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let tmp = repo_dir.join(format!(".tmp-{sha}-{}-{nanos}", std::process::id()));
    let result = write_tree(repo, &tree, &tmp, Path::new(""), repo_label).and_then(|_| verify_links(&tmp, repo_label));
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&tmp, &target) {
        let _ = std::fs::remove_dir_all(&tmp);
        if !target.is_dir() {
            return Err(Error::io(&target, e));
        }
    }
    tracing::debug!("extracted {sha} to {}", target.display());
    Ok((target, lease))
}

/// Create `dir` (and missing parents) readable by this user only.
pub(crate) fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| Error::io(dir, e))
}

/// Remove temporary extraction directories left by runs that died more
/// than an hour ago (a live run finishes its extraction long before).
fn remove_abandoned(trees_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(trees_dir) else { return };
    let hour = std::time::Duration::from_secs(3600);
    for e in entries.flatten() {
        let old =
            e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age > hour);
        if old && e.file_name().to_string_lossy().starts_with(".tmp-") {
            tracing::debug!("removing abandoned {}", e.path().display());
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn write_tree(repo: &Repository, tree: &Tree<'_>, out: &Path, rel: &Path, repo_label: &str) -> Result<()> {
    private_dir(out)?;
    for entry in tree.iter() {
        let name = entry_name(&entry, rel, repo_label)?;
        let path = out.join(&name);
        let rel_path = rel.join(&name);
        let mode = entry.filemode();
        match (mode, entry.kind()) {
            (MODE_TREE, _) => {
                let sub = repo.find_tree(entry.id()).map_err(|e| object_error(repo_label, &rel_path, &e))?;
                write_tree(repo, &sub, &path, &rel_path, repo_label)?;
            }
            (MODE_GITLINK, _) => {
                tracing::warn!(
                    "{}: submodule {} is not fetched; it renders as an empty directory",
                    repo_label,
                    rel_path.display()
                );
                private_dir(&path)?;
            }
            (_, Some(ObjectType::Blob)) => {
                let blob = repo.find_blob(entry.id()).map_err(|e| object_error(repo_label, &rel_path, &e))?;
                if mode == MODE_LINK {
                    let target = String::from_utf8_lossy(blob.content()).into_owned();
                    std::os::unix::fs::symlink(&target, &path).map_err(|e| Error::io(&path, e))?;
                } else {
                    use std::io::Write;
                    use std::os::unix::fs::OpenOptionsExt;
                    let perm = if mode == MODE_EXEC { 0o700 } else { 0o600 };
                    std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(perm)
                        .open(&path)
                        .and_then(|mut f| f.write_all(blob.content()))
                        .map_err(|e| Error::io(&path, e))?;
                }
            }
            _ => {
                return Err(Error::Git {
                    repo: repo_label.to_string(),
                    message: format!("{}: unexpected tree entry mode {mode:o}", rel_path.display()),
                });
            }
        }
    }
    Ok(())
}

/// After extraction: every symlink that resolves must resolve inside `root`
/// (catches chains through symlinked directories that a lexical check misses).
fn verify_links(root: &Path, repo_label: &str) -> Result<()> {
    let canonical_root = root.canonicalize().map_err(|e| Error::io(root, e))?;
    for entry in walkdir::WalkDir::new(root).follow_links(false) {
        let entry = entry.map_err(|e| Error::Source { path: root.to_path_buf(), message: e.to_string() })?;
        if !entry.path_is_symlink() {
            continue;
        }
        if let Ok(resolved) = entry.path().canonicalize()
            && !resolved.starts_with(&canonical_root)
        {
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path()).to_path_buf();
            return Err(Error::PathEscape {
                path: rel,
                root: PathBuf::from(repo_label),
                detail: "symlink resolves outside the repository".into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_targets_are_judged_from_their_directory() {
        assert!(link_stays_inside(Path::new("a/b"), Path::new("../c.yaml")));
        assert!(link_stays_inside(Path::new("a"), Path::new("../c.yaml")));
        assert!(!link_stays_inside(Path::new("a"), Path::new("../../c.yaml")));
        assert!(!link_stays_inside(Path::new(""), Path::new("../x")));
        assert!(!link_stays_inside(Path::new("a"), Path::new("/etc/passwd")));
        assert!(link_stays_inside(Path::new(""), Path::new("./a/../b")));
        assert!(!link_stays_inside(Path::new(""), Path::new("a/../../b")));
    }
}
