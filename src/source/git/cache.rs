//! The repository cache: one bare repository per URL under
//! `$XDG_CACHE_HOME/kubectl-gitops/repos/<hash>`, fetched on use, guarded by
//! an exclusive file lock so concurrent runs never write the same cache at
//! once; extracted commit trees under `trees/<repo key>/<sha>` (pruned, see
//! `snapshots`). The cache root is private (0700).

use std::cell::RefCell;
use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use git2::{AutotagOption, FetchOptions, FetchPrune, RemoteRedirect, Repository};

use super::auth::{Auth, callbacks};
use super::options::GitOptions;
use super::url::{RepoUrl, scrub};
use crate::error::{Error, Result};

/// Environment variable overriding the cache directory.
pub const CACHE_ENV: &str = "KUBECTL_GITOPS_CACHE_DIR";

/// The cache root directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// `$KUBECTL_GITOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/kubectl-gitops`,
    /// else `$HOME/.cache/kubectl-gitops`.
    pub fn from_env() -> Result<Self> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let root = var(CACHE_ENV)
            .or_else(|| var("XDG_CACHE_HOME").filter(|p| p.is_absolute()).map(|p| p.join("kubectl-gitops")))
            .or_else(|| var("HOME").map(|h| h.join(".cache").join("kubectl-gitops")))
            .ok_or_else(|| Error::Usage(format!("no cache directory: set XDG_CACHE_HOME, HOME or {CACHE_ENV}")))?;
        Ok(Cache { root })
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the bare repository of `url` lives.
    pub fn repo_dir(&self, url: &RepoUrl) -> PathBuf {
        self.root.join("repos").join(url.cache_key())
    }

    /// Create the cache root readable by this user only (and make an
    /// existing one so): it holds fetched repositories and their files.
    pub fn ensure_root(&self) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        super::tree::private_dir(&self.root)?;
        let mode = std::fs::metadata(&self.root).map_err(|e| Error::io(&self.root, e))?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::io(&self.root, e))?;
        }
        Ok(())
    }

    /// Where extracted commit trees live (one directory per repository).
    pub fn trees_dir(&self) -> PathBuf {
        self.root.join("trees")
    }
}

/// An exclusive lock on one cached repository, released on drop.
pub(crate) struct RepoLock {
    _file: File,
}

/// Environment variable: seconds a git connection may wait for the server
/// (to connect, and then for each read or write) before the fetch fails.
pub const TIMEOUT_ENV: &str = "KUBECTL_GITOPS_GIT_TIMEOUT";
/// Default of [`TIMEOUT_ENV`].
pub const DEFAULT_TIMEOUT_SECS: u32 = 60;

/// Whether `e` says the local repository is unreadable (as opposed to a
/// network, authentication or lookup failure): a damaged object, pack,
/// index, ref or config, which fetching again from scratch repairs.
pub(crate) fn is_damage(e: &git2::Error) -> bool {
    use git2::{ErrorClass, ErrorCode};
    match e.class() {
        ErrorClass::Odb | ErrorClass::Zlib | ErrorClass::Sha1 | ErrorClass::Object => {
            // A missing object named by a ref or a tree is damage too.
            true
        }
        ErrorClass::Repository | ErrorClass::Config | ErrorClass::Reference => {
            !matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec | ErrorCode::Ambiguous)
        }
        _ => false,
    }
}

pub(super) fn git_error(url: &RepoUrl, secrets: &[String], what: &str, e: &git2::Error) -> Error {
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let message = scrub(&format!("{what}: {}", e.message()), &secrets);
    if is_damage(e) {
        return Error::GitDamaged { repo: url.redacted(), message };
    }
    Error::Git { repo: url.redacted(), message }
}

/// libgit2's connect and read/write timeouts (process-wide), from
/// [`TIMEOUT_ENV`]: a server that stops answering mid-fetch fails the fetch
/// instead of hanging the run.
pub(super) fn set_timeouts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let secs = std::env::var(TIMEOUT_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|&s| s > 0)
            .unwrap_or(DEFAULT_TIMEOUT_SECS);
        let ms = i32::try_from(u64::from(secs) * 1000).unwrap_or(i32::MAX);
        // SAFETY: libgit2 options are process-wide; they are set once, before
        // this process opens any remote connection (the Once orders it).
        let set = unsafe {
            git2::opts::set_server_connect_timeout_in_milliseconds(ms)
                .and_then(|()| git2::opts::set_server_timeout_in_milliseconds(ms))
        };
        if let Err(e) = set {
            tracing::warn!("cannot set the git timeouts: {}", e.message());
        }
    });
}

/// Take the exclusive lock on the cached repository of `url` (waiting for
/// another run that holds it).
pub(crate) fn lock(cache: &Cache, url: &RepoUrl) -> Result<RepoLock> {
    let dir = cache.repo_dir(url);
    let parent = dir.parent().unwrap_or(cache.root());
    cache.ensure_root()?;
    super::tree::private_dir(parent)?;
    let lock_path = dir.with_extension("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    if file.try_lock().is_err() {
        tracing::info!("waiting for the cache lock on {}", url);
        file.lock().map_err(|e| Error::io(&lock_path, e))?;
    }
    Ok(RepoLock { _file: file })
}

/// Open (creating it if needed) the cached bare repository of `url`, whose
/// lock the caller holds.
pub(crate) fn open(cache: &Cache, url: &RepoUrl, offline: bool, _lock: &RepoLock) -> Result<Repository> {
    let dir = cache.repo_dir(url);
    let repo = if dir.join("HEAD").is_file() {
        Repository::open_bare(&dir).map_err(|e| Error::GitDamaged {
            repo: url.redacted(),
            message: format!("cannot open {}: {}", dir.display(), e.message()),
        })?
    } else if offline {
        return Err(Error::Git {
            repo: url.redacted(),
            message: "not in the cache (run once without --offline to fetch it)".into(),
        });
    } else {
        // A partial directory from an interrupted first fetch is replaced.
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        Repository::init_bare(&dir).map_err(|e| git_error(url, &[], "cannot create the cache", &e))?
    };
    Ok(repo)
}

/// Replace the cached repository of `url` (damaged) with an empty one; the
/// caller holds its lock (`_lock`) and has dropped every handle on it.
pub(crate) fn recreate(cache: &Cache, url: &RepoUrl, _lock: &RepoLock) -> Result<Repository> {
    let dir = cache.repo_dir(url);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    Repository::init_bare(&dir).map_err(|e| git_error(url, &[], "cannot create the cache", &e))
}

/// Fetch every branch and tag of `url` into the cached repository (pruning
/// deleted ones), and point its HEAD where the remote's HEAD points.
pub(crate) fn fetch(repo: &Repository, url: &RepoUrl, options: &GitOptions) -> Result<()> {
    tracing::info!("fetching {}", url);
    set_timeouts();
    let auth = RefCell::new(Auth::new(url, options));
    let secrets = auth.borrow().secrets();
    let mut remote =
        repo.remote_anonymous(url.fetch_url()).map_err(|e| git_error(url, &secrets, "invalid remote", &e))?;
    let mut opts = FetchOptions::new();
    // Redirects stay on the host the credentials were given for.
    opts.remote_callbacks(callbacks(&auth))
        .download_tags(AutotagOption::All)
        .prune(FetchPrune::On)
        .follow_redirects(RemoteRedirect::None);
    let refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];
    remote.fetch(&refspecs, Some(&mut opts), None).map_err(|e| git_error(url, &secrets, "fetch failed", &e))?;
    drop(opts);
    match remote.default_branch().ok().and_then(|b| b.as_str().ok().map(String::from)) {
        Some(branch) => repo.set_head(&branch).map_err(|e| git_error(url, &secrets, "cannot set HEAD", &e))?,
        None => {
            let head = remote.list().ok().and_then(|heads| heads.iter().find(|h| h.name() == "HEAD").map(|h| h.oid()));
            if let Some(oid) = head.filter(|oid| repo.find_commit(*oid).is_ok()) {
                repo.set_head_detached(oid).map_err(|e| git_error(url, &secrets, "cannot set HEAD", &e))?;
            }
        }
    }
    tracing::debug!("fetched {} ({})", url, auth.borrow().tried());
    Ok(())
}
