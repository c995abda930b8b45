//! Git sources: `--repo URL_OR_PATH --revision REV --path DIR`.
//!
//! A remote repository (`file://`, `git://`, `http(s)://`, `ssh://`,
//! scp-like) is fetched into a locked bare repository in the [`Cache`]; a
//! local path is opened in place and only read. The revision (branch, tag,
//! full or short SHA, `HEAD`, anything `git rev-parse` takes) is resolved to
//! a commit, whose tree is extracted into a snapshot directory keyed by its
//! SHA; the result is a [`Checkout`]: a [`LocalSource`] rooted at the
//! snapshot, which every renderer reads like a local directory.
//!
//! Credentials never appear in messages: every URL is shown redacted and
//! libgit2's messages are scrubbed of the secrets in use.

mod auth;
mod cache;
mod options;
mod snapshots;
mod tree;
mod url;

pub use auth::{DEFAULT_TOKEN_USER, TOKEN_ENV, USERNAME_ENV};
pub use cache::{CACHE_ENV, Cache};
pub use options::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_FILES, GitOptions, MAX_BYTES_ENV, MAX_DEPTH_ENV, MAX_FILES_ENV,
    SnapshotLimits, TOKEN_HOSTS_ENV, normalize_hosts,
};
pub use url::{RepoUrl, Transport, redact_url, scrub};

use std::path::{Component, Path, PathBuf};

use git2::{Commit, Oid, Repository};

use super::LocalSource;
use crate::error::{Error, Result};

/// What to check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSpec {
    /// A URL or a local path.
    pub repo: String,
    /// Branch, tag, commit SHA (full or short) or `HEAD`.
    pub revision: String,
    /// Directory inside the repository ("" or "." for the root).
    pub path: PathBuf,
    /// Use the cached copy as it is; never fetch.
    pub offline: bool,
    /// Snapshot limits and the hosts the token may go to.
    pub options: GitOptions,
}

/// A resolved git source.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// The snapshot of the commit, with `path` selected.
    pub source: LocalSource,
    /// The repository, credentials redacted.
    pub repo: String,
    /// The revision as asked for.
    pub revision: String,
    /// The full SHA of the resolved commit.
    pub commit: String,
    /// The path inside the repository, normalized ("" for the root).
    pub path: String,
    /// Keeps the snapshot from being pruned while this checkout lives.
    _lease: std::sync::Arc<snapshots::Lease>,
}

/// The revision used when none is given.
pub const DEFAULT_REVISION: &str = "HEAD";

/// Resolve `spec` to a commit and a snapshot of its tree.
pub fn checkout(spec: &GitSpec, cache: &Cache) -> Result<Checkout> {
    let url = RepoUrl::parse(&spec.repo)?;
    let label = url.redacted();
    let path = repo_path(&spec.path, &label)?;
    let revision = if spec.revision.trim().is_empty() { DEFAULT_REVISION } else { spec.revision.trim() };
    let (repo, _lock) = match &url.local_path {
        Some(local) => (open_local(local, &label)?, None),
        None => {
            let (repo, lock) = cache::open(cache, &url, spec.offline)?;
            let cached_sha = Oid::from_str(revision).ok().filter(|_| revision.len() == 40);
            let have_it = cached_sha.is_some_and(|oid| repo.find_commit(oid).is_ok());
            if spec.offline || have_it {
                tracing::debug!("using the cached copy of {label} without fetching");
            } else {
                cache::fetch(&repo, &url, &spec.options)?;
            }
            (repo, Some(lock))
        }
    };
    let commit = resolve(&repo, revision, &label, spec.offline && url.local_path.is_none())?;
    let sha = commit.id().to_string();
    tracing::info!("{label} at {revision} is commit {sha}");
    if !path.as_os_str().is_empty() {
        let tree = commit.tree().map_err(|e| Error::Git { repo: label.clone(), message: e.message().to_string() })?;
        if tree.get_path(&path).is_err() {
            return Err(Error::Git {
                repo: label,
                message: format!("path {:?} does not exist at {revision} ({sha})", path.display().to_string()),
            });
        }
    }
    let extract = tree::Extract { label: &label, revision, limits: spec.options.limits };
    cache.ensure_root()?;
    let repo_dir = cache.trees_dir().join(url.cache_key());
    let (root, lease) = tree::snapshot(&repo, &commit, &repo_dir, &extract)?;
    snapshots::prune(&repo_dir, snapshots::KEEP, snapshots::MAX_AGE);
    snapshots::prune_legacy(&cache.trees_dir(), snapshots::MAX_AGE);
    let source = LocalSource::with_root(&root, &root.join(&path))?;
    Ok(Checkout {
        source,
        repo: label,
        revision: revision.to_string(),
        commit: sha,
        path: path.to_string_lossy().into_owned(),
        _lease: std::sync::Arc::new(lease),
    })
}

/// `--path` as a relative, normalized path that stays inside the repository.
fn repo_path(p: &Path, label: &str) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir if out.pop() => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(Error::PathEscape {
                    path: p.to_path_buf(),
                    root: PathBuf::from(label),
                    detail: "the path must stay inside the repository".into(),
                });
            }
        }
    }
    Ok(out)
}

fn open_local(path: &Path, label: &str) -> Result<Repository> {
    Repository::discover(path)
        .map_err(|e| Error::Git { repo: label.to_string(), message: format!("not a git repository: {}", e.message()) })
}

/// The commit a revision names in `repo`.
fn resolve<'r>(repo: &'r Repository, revision: &str, label: &str, offline: bool) -> Result<Commit<'r>> {
    let found = if revision == "HEAD" {
        repo.head().and_then(|h| h.peel_to_commit())
    } else {
        repo.revparse_single(revision).and_then(|o| o.peel_to_commit())
    };
    found.map_err(|e| {
        let hint = if offline { " in the cached copy (run without --offline to fetch)" } else { "" };
        Error::Git {
            repo: label.to_string(),
            message: format!("revision {revision:?} not found{hint}: {}", e.message()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_path_stays_inside() {
        assert_eq!(repo_path(Path::new("a/./b/../c"), "r").unwrap(), PathBuf::from("a/c"));
        assert_eq!(repo_path(Path::new("."), "r").unwrap(), PathBuf::new());
        assert!(matches!(repo_path(Path::new("../x"), "r"), Err(Error::PathEscape { .. })));
        assert!(matches!(repo_path(Path::new("a/../../x"), "r"), Err(Error::PathEscape { .. })));
        assert!(matches!(repo_path(Path::new("/etc"), "r"), Err(Error::PathEscape { .. })));
    }
}
