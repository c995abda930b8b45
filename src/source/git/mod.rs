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
mod push;
mod snapshots;
mod tree;
mod url;

pub use auth::{DEFAULT_TOKEN_USER, TOKEN_ENV, USERNAME_ENV};
pub use cache::{CACHE_ENV, Cache};
pub use options::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_FILES, GitOptions, MAX_BYTES_ENV, MAX_DEPTH_ENV, MAX_FILES_ENV,
    SnapshotLimits, TOKEN_HOSTS_ENV, normalize_hosts,
};
pub use push::{PushOutcome, WriteRepo};
pub(crate) use tree::private_dir;
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

/// Resolve `spec` to a commit and a snapshot of its tree. A cached copy
/// found damaged is fetched again from scratch (once), unless offline.
pub fn checkout(spec: &GitSpec, cache: &Cache) -> Result<Checkout> {
    let url = RepoUrl::parse(&spec.repo)?;
    let label = url.redacted();
    let path = repo_path(&spec.path, &label)?;
    let revision = if spec.revision.trim().is_empty() { DEFAULT_REVISION } else { spec.revision.trim() };
    let at = Target { spec, cache, url: &url, label: &label, path: &path, revision };
    if let Some(local) = &url.local_path {
        return at.extract(&open_local(local, &label)?);
    }
    let lock = cache::lock(cache, &url)?;
    let first = cache::open(cache, &url, spec.offline, &lock).and_then(|repo| at.fetch_and_extract(&repo));
    match first {
        Err(Error::GitDamaged { message, .. }) if !spec.offline => {
            tracing::warn!("the cached copy of {label} is damaged ({message}); fetching it again");
            let repo = cache::recreate(cache, &url, &lock)?;
            at.fetch_and_extract(&repo)
        }
        Err(Error::GitDamaged { repo, message }) => {
            Err(Error::GitDamaged { repo, message: format!("{message} (run without --offline to fetch it again)") })
        }
        other => other,
    }
}

/// Fetch repository `repo` (a URL) into the cache now, without checking
/// anything out: a later [`checkout`] with `offline` resolves against what
/// this fetched (the agent fetches each repository once per round). A
/// local path is read in place: nothing to fetch. A damaged cached copy
/// is fetched again from scratch.
pub fn fetch(repo: &str, options: &GitOptions, cache: &Cache) -> Result<()> {
    let url = RepoUrl::parse(repo)?;
    if url.local_path.is_some() {
        return Ok(());
    }
    let lock = cache::lock(cache, &url)?;
    match cache::open(cache, &url, false, &lock).and_then(|r| cache::fetch(&r, &url, options)) {
        Err(Error::GitDamaged { message, .. }) => {
            tracing::warn!("the cached copy of {} is damaged ({message}); fetching it again", url.redacted());
            cache::fetch(&cache::recreate(cache, &url, &lock)?, &url, options)
        }
        other => other,
    }
}

/// One checkout's inputs, resolved.
struct Target<'a> {
    spec: &'a GitSpec,
    cache: &'a Cache,
    url: &'a RepoUrl,
    label: &'a str,
    path: &'a Path,
    revision: &'a str,
}

impl Target<'_> {
    /// Fetch into the cached `repo` (unless offline, or the revision is a
    /// full SHA it already has), then [`Target::extract`].
    fn fetch_and_extract(&self, repo: &Repository) -> Result<Checkout> {
        let cached_sha = Oid::from_str(self.revision).ok().filter(|_| self.revision.len() == 40);
        let have_it = cached_sha.is_some_and(|oid| repo.find_commit(oid).is_ok());
        if self.spec.offline || have_it {
            tracing::debug!("using the cached copy of {} without fetching", self.label);
        } else {
            cache::fetch(repo, self.url, &self.spec.options)?;
        }
        self.extract(repo)
    }

    /// Resolve the revision in `repo` and snapshot its tree.
    fn extract(&self, repo: &Repository) -> Result<Checkout> {
        let (label, revision, path) = (self.label, self.revision, self.path);
        let remote_offline = self.spec.offline && self.url.local_path.is_none();
        let commit = resolve(repo, revision, label, remote_offline)?;
        let sha = commit.id().to_string();
        tracing::info!("{label} at {revision} is commit {sha}");
        if !path.as_os_str().is_empty() {
            let tree = commit.tree().map_err(|e| tree::object_error(label, Path::new(&sha), &e))?;
            if tree.get_path(path).is_err() {
                return Err(Error::Git {
                    repo: label.to_string(),
                    message: format!("path {:?} does not exist at {revision} ({sha})", path.display().to_string()),
                });
            }
        }
        let extract = tree::Extract { label, revision, limits: self.spec.options.limits };
        let cache = self.cache;
        cache.ensure_root()?;
        let repo_dir = cache.trees_dir().join(self.url.cache_key());
        let (root, lease) = tree::snapshot(repo, &commit, &repo_dir, &extract)?;
        snapshots::prune(&repo_dir, snapshots::KEEP, snapshots::MAX_AGE);
        snapshots::prune_legacy(&cache.trees_dir(), snapshots::MAX_AGE);
        let source = LocalSource::with_root(&root, &root.join(path))?;
        Ok(Checkout {
            source,
            repo: label.to_string(),
            revision: revision.to_string(),
            commit: sha,
            path: path.to_string_lossy().into_owned(),
            _lease: std::sync::Arc::new(lease),
        })
    }
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
        if cache::is_damage(&e) || names_missing_object(repo, revision) {
            return Error::GitDamaged { repo: label.to_string(), message: e.message().to_string() };
        }
        let hint = if offline { " in the cached copy (run without --offline to fetch)" } else { "" };
        Error::Git {
            repo: label.to_string(),
            message: format!("revision {revision:?} not found{hint}: {}", e.message()),
        }
    })
}

/// Whether `revision` is a ref whose target object cannot be read: the
/// cache lost it (a damaged pack), as opposed to an unknown revision.
fn names_missing_object(repo: &Repository, revision: &str) -> bool {
    let reference = if revision == "HEAD" { repo.head() } else { repo.resolve_reference_from_short_name(revision) };
    let Some(oid) = reference.ok().and_then(|r| r.resolve().ok()).and_then(|r| r.target()) else {
        return false;
    };
    repo.odb().and_then(|odb| odb.read_header(oid)).is_err()
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
