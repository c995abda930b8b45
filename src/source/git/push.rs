//! Writing to a repository (image updates): a private bare repository that
//! fetches one branch at a time, commits built from a parent tree and a
//! few changed files (no work tree), and pushes that report a rejection
//! (someone pushed first) apart from other failures. Credentials come
//! from [`super::auth`] exactly as for git sources.

use std::cell::RefCell;
use std::path::Path;

use git2::{FetchOptions, ObjectType, Oid, PushOptions, RemoteRedirect, Repository, Signature};

use super::auth::{Auth, callbacks};
use super::cache::{git_error, set_timeouts};
use super::{GitOptions, RepoUrl};
use crate::error::{Error, Result};

/// A repository to write to, through a scratch bare repository.
pub struct WriteRepo {
    repo: Repository,
    url: RepoUrl,
    options: GitOptions,
}

/// How a push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Pushed,
    /// The remote refused the update (not a fast-forward): fetch and try again.
    Rejected(String),
}

impl WriteRepo {
    /// A scratch bare repository in `dir` (empty or missing) for `url`.
    pub fn new(url: &str, dir: &Path, options: &GitOptions) -> Result<Self> {
        let url = RepoUrl::parse(url)?;
        let repo =
            Repository::init_bare(dir).map_err(|e| git_error(&url, &[], "cannot create a scratch repository", &e))?;
        Ok(WriteRepo { repo, url, options: options.clone() })
    }

    /// The repository, credentials redacted.
    pub fn display(&self) -> String {
        self.url.redacted()
    }

    fn secrets(auth: &RefCell<Auth>) -> Vec<String> {
        auth.borrow().secrets()
    }

    /// An anonymous remote for the repository's URL.
    fn remote(&self, secrets: &[String]) -> Result<git2::Remote<'_>> {
        self.repo
            .remote_anonymous(self.url.fetch_url())
            .map_err(|e| git_error(&self.url, secrets, "invalid remote", &e))
    }

    /// A remote connected for fetching (its ref list read), with the secrets to redact from errors.
    fn connected(&self) -> Result<(git2::Remote<'_>, Vec<String>)> {
        set_timeouts();
        let auth = RefCell::new(Auth::new(&self.url, &self.options));
        let secrets = Self::secrets(&auth);
        let mut remote = self.remote(&secrets)?;
        remote
            .connect_auth(git2::Direction::Fetch, Some(callbacks(&auth)), None)
            .map_err(|e| git_error(&self.url, &secrets, "cannot connect", &e))?;
        Ok((remote, secrets))
    }

    /// The remote's default branch (what its `HEAD` points to).
    pub fn default_branch(&self) -> Result<String> {
        let (remote, secrets) = self.connected()?;
        let branch = remote.default_branch().map_err(|e| git_error(&self.url, &secrets, "no default branch", &e))?;
        let name = branch.as_str().unwrap_or_default().trim_start_matches("refs/heads/").to_string();
        if name.is_empty() {
            return Err(Error::Git { repo: self.display(), message: "the remote names no default branch".into() });
        }
        Ok(name)
    }

    /// Fetch `branch`; its commit, or `None` when the remote has no such branch.
    pub fn fetch(&self, branch: &str) -> Result<Option<Oid>> {
        let (mut remote, secrets) = self.connected()?;
        let wanted = format!("refs/heads/{branch}");
        let exists = remote
            .list()
            .map_err(|e| git_error(&self.url, &secrets, "cannot list refs", &e))?
            .iter()
            .any(|h| h.name() == wanted);
        remote.disconnect().ok();
        if !exists {
            return Ok(None);
        }
        // A fresh set of attempts for the fetch's own connection.
        let auth = RefCell::new(Auth::new(&self.url, &self.options));
        let mut opts = FetchOptions::new();
        opts.remote_callbacks(callbacks(&auth)).follow_redirects(RemoteRedirect::None);
        let local = format!("refs/remotes/origin/{branch}");
        remote
            .fetch(&[format!("+{wanted}:{local}")], Some(&mut opts), None)
            .map_err(|e| git_error(&self.url, &secrets, "fetch failed", &e))?;
        let oid = self.repo.refname_to_id(&local).map_err(|e| git_error(&self.url, &secrets, "fetch failed", &e))?;
        Ok(Some(oid))
    }

    /// The bytes of `path` (repository-relative, `/`-separated) at `commit`; `None` when absent.
    pub fn read(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>> {
        let err = |e: git2::Error| git_error(&self.url, &[], "cannot read the commit", &e);
        let tree = self.repo.find_commit(commit).and_then(|c| c.tree()).map_err(err)?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => {
                let blob = self.repo.find_blob(entry.id()).map_err(err)?;
                Ok(Some(blob.content().to_vec()))
            }
            Ok(_) => Err(Error::Git { repo: self.display(), message: format!("{path}: not a file") }),
            Err(_) => Ok(None),
        }
    }

    /// A commit on top of `parent` with `files` (path, new content) written.
    pub fn commit(&self, parent: Oid, files: &[(String, Vec<u8>)], author: (&str, &str), message: &str) -> Result<Oid> {
        let err = |e: git2::Error| git_error(&self.url, &[], "cannot commit", &e);
        let parent = self.repo.find_commit(parent).map_err(err)?;
        let base = parent.tree().map_err(err)?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, content) in files {
            let blob = self.repo.blob(content).map_err(err)?;
            update.upsert(path.as_str(), blob, git2::FileMode::Blob);
        }
        let tree_id = update.create_updated(&self.repo, &base).map_err(err)?;
        let tree = self.repo.find_tree(tree_id).map_err(err)?;
        let sig = Signature::now(author.0, author.1).map_err(err)?;
        self.repo.commit(None, &sig, &sig, message, &tree, &[&parent]).map_err(err)
    }

    /// Push `commit` to `branch` (no force).
    pub fn push(&self, commit: Oid, branch: &str) -> Result<PushOutcome> {
        set_timeouts();
        let auth = RefCell::new(Auth::new(&self.url, &self.options));
        let secrets = Self::secrets(&auth);
        let local = format!("refs/kubectl-gitops/push/{branch}");
        self.repo
            .reference(&local, commit, true, "image update")
            .map_err(|e| git_error(&self.url, &secrets, "cannot push", &e))?;
        let mut remote = self.remote(&secrets)?;
        let rejected = RefCell::new(None::<String>);
        let mut cb = callbacks(&auth);
        cb.push_update_reference(|_, status| {
            if let Some(s) = status {
                *rejected.borrow_mut() = Some(s.to_string());
            }
            Ok(())
        });
        let mut opts = PushOptions::new();
        opts.remote_callbacks(cb).follow_redirects(RemoteRedirect::None);
        let result = remote.push(&[format!("{local}:refs/heads/{branch}")], Some(&mut opts));
        drop(opts);
        let _ = self.repo.find_reference(&local).and_then(|mut r| r.delete());
        match result {
            Ok(()) => match rejected.into_inner() {
                None => Ok(PushOutcome::Pushed),
                Some(s) => Ok(PushOutcome::Rejected(s)),
            },
            // Local transports refuse a non-fast-forward with an error instead of a status.
            Err(e) if e.class() == git2::ErrorClass::Reference && e.message().contains("fast") => {
                Ok(PushOutcome::Rejected(e.message().to_string()))
            }
            Err(e) if e.message().contains("non-fast-forward") || e.message().contains("fetch first") => {
                Ok(PushOutcome::Rejected(e.message().to_string()))
            }
            Err(e) => Err(git_error(&self.url, &secrets, "push failed", &e)),
        }
    }
}
