//! Sources: where manifests come from, and the confinement rule that
//! everything a source references stays inside its root.
//!
//! A [`LocalSource`] is a directory (or one file) inside a root directory:
//! `--root` when given; else the enclosing git work tree when there is one;
//! else the current directory when the source lies inside it; else the
//! source directory itself. Every path a renderer opens goes through
//! [`LocalSource::confine`].

pub mod app;
pub mod chartrepo;
pub mod git;
mod helm_values;
mod resolve;
mod walk;

pub use resolve::{BuildEnv, Resolved, ResolvedPart, SourceRequest, app_rows, git_spec, merge_source_objects, resolve};
pub use walk::{DirectoryOptions, list_files, list_manifest_files};

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// A local source: `path` (a file or directory) inside `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSource {
    root: PathBuf,
    path: PathBuf,
}

impl LocalSource {
    /// Open a local path with the default root: the enclosing git work
    /// tree; outside git, the current directory when the path lies inside
    /// it, else the directory itself (for a file: its directory).
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_in(path, None, std::env::current_dir().ok().as_deref())
    }

    /// Open a local path: inside `root` when given (`--root`: the path must
    /// lie inside it), else as [`LocalSource::open`] chooses, with `cwd` as
    /// the current directory.
    pub fn open_in(path: &Path, root: Option<&Path>, cwd: Option<&Path>) -> Result<Self> {
        let canonical = path
            .canonicalize()
            .map_err(|e| Error::Source { path: path.to_path_buf(), message: format!("cannot open source: {e}") })?;
        if let Some(root) = root {
            let root = root.canonicalize().map_err(|e| Error::Source {
                path: root.to_path_buf(),
                message: format!("cannot open the --root directory: {e}"),
            })?;
            if !root.is_dir() {
                return Err(Error::Source { path: root, message: "--root must be a directory".into() });
            }
            if !canonical.starts_with(&root) {
                return Err(Error::Usage(format!(
                    "the source {} is not inside --root {}",
                    canonical.display(),
                    root.display()
                )));
            }
            return Ok(LocalSource { root, path: canonical });
        }
        let dir =
            if canonical.is_dir() { canonical.clone() } else { canonical.parent().unwrap_or(&canonical).to_path_buf() };
        let root = match dir.ancestors().find(|a| a.join(".git").exists()) {
            Some(work_tree) => work_tree.to_path_buf(),
            None => cwd.and_then(|c| c.canonicalize().ok()).filter(|c| dir.starts_with(c)).unwrap_or(dir),
        };
        Ok(LocalSource { root, path: canonical })
    }

    /// A source with an explicit root (`path` must be inside it).
    pub fn with_root(root: &Path, path: &Path) -> Result<Self> {
        let root = root.canonicalize().map_err(|e| Error::io(root, e))?;
        let src = LocalSource { root: root.clone(), path: root.clone() };
        let path = src.confine(path)?;
        Ok(LocalSource { root, path })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory of the source (the path itself, or a file's parent).
    pub fn dir(&self) -> &Path {
        if self.path.is_dir() { &self.path } else { self.path.parent().unwrap_or(&self.path) }
    }

    /// `p` relative to the root, for origins and messages.
    pub fn display_path(&self, p: &Path) -> String {
        p.strip_prefix(&self.root).unwrap_or(p).to_string_lossy().into_owned()
    }

    /// Resolve `p` (relative paths are taken from the source path's directory
    /// unless absolute) and check that it, after following symlinks, stays
    /// inside the root. Returns the canonical path.
    pub fn confine(&self, p: &Path) -> Result<PathBuf> {
        let joined = if p.is_absolute() { p.to_path_buf() } else { self.dir().join(p) };
        let lexical = lexical_normalize(&joined);
        if !lexical.starts_with(&self.root) {
            return Err(Error::PathEscape {
                path: p.to_path_buf(),
                root: self.root.clone(),
                detail: "path leaves the source root".into(),
            });
        }
        // Whatever lies outside the root stays unknown: the error for a
        // symlink that leads out says neither where nor whether it exists.
        let escape = || Error::PathEscape {
            path: p.to_path_buf(),
            root: self.root.clone(),
            detail: "a symlink leads there".into(),
        };
        let canonical = match lexical.canonicalize() {
            Ok(c) => c,
            Err(e) => {
                if self.leads_outside(&lexical) {
                    return Err(escape());
                }
                return Err(Error::io(&lexical, e));
            }
        };
        if !canonical.starts_with(&self.root) {
            return Err(escape());
        }
        Ok(canonical)
    }

    /// Does a path that cannot be resolved go outside the root through a
    /// symlink (its deepest existing ancestor, or a dangling link's target)?
    fn leads_outside(&self, lexical: &Path) -> bool {
        for a in lexical.ancestors() {
            if let Ok(meta) = a.symlink_metadata() {
                if meta.file_type().is_symlink()
                    && let Ok(target) = std::fs::read_link(a)
                {
                    let joined = a.parent().map(|d| d.join(&target)).unwrap_or(target);
                    let resolved = match lexical_normalize(&joined).canonicalize() {
                        Ok(c) => c,
                        Err(_) => lexical_normalize(&joined),
                    };
                    if !resolved.starts_with(&self.root) {
                        return true;
                    }
                }
                return a.canonicalize().is_ok_and(|c| !c.starts_with(&self.root));
            }
        }
        false
    }
}

/// Remove `.` and resolve `..` without touching the file system.
pub fn lexical_normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confine_refuses_escapes() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(root.join("app")).unwrap();
        std::fs::write(root.join("app/a.yaml"), "").unwrap();
        std::fs::write(tmp.path().join("secret.yaml"), "").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret.yaml"), root.join("app/link.yaml")).unwrap();
        let src = LocalSource::with_root(&root, &root.join("app")).unwrap();
        assert!(src.confine(Path::new("a.yaml")).is_ok());
        assert!(matches!(src.confine(Path::new("../../secret.yaml")), Err(Error::PathEscape { .. })));
        let err = src.confine(Path::new("link.yaml")).unwrap_err();
        assert!(err.to_string().contains("a symlink leads there; it is outside the source root"), "{err}");
        assert!(matches!(src.confine(&tmp.path().join("secret.yaml")), Err(Error::PathEscape { .. })));
    }

    #[test]
    fn escapes_say_nothing_of_what_is_outside() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(root.join("app")).unwrap();
        std::fs::create_dir_all(tmp.path().join("outside/dir")).unwrap();
        std::fs::write(tmp.path().join("outside/file"), "").unwrap();
        for (name, target) in [("f", "outside/file"), ("d", "outside/dir"), ("missing", "outside/nothing")] {
            std::os::unix::fs::symlink(tmp.path().join(target), root.join("app").join(name)).unwrap();
        }
        let src = LocalSource::with_root(&root, &root.join("app")).unwrap();
        let messages: Vec<String> = ["f", "d", "missing", "d/x", "f/x", "missing/x"]
            .iter()
            .map(|p| src.confine(Path::new(p)).unwrap_err().to_string().replacen(p, "P", 1))
            .collect();
        assert!(messages.iter().all(|m| m == &messages[0]), "{messages:#?}");
        assert!(!messages[0].contains("outside/"), "{}", messages[0]);
    }
}
