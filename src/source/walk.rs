//! Listing the manifest files of a directory, as `kubectl apply -f DIR`
//! and Argo CD's directory apps do: sorted, `*.yaml|*.yml|*.json`, optional
//! recursion and include/exclude globs, hidden directories skipped,
//! symlinks followed only while they stay inside the source root.

use std::path::PathBuf;

use globset::{Glob, GlobSet, GlobSetBuilder};
use walkdir::WalkDir;

use super::LocalSource;
use crate::error::{Error, Result};

/// Options of a plain directory source (Argo CD's `spec.source.directory`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryOptions {
    /// Descend into subdirectories.
    pub recursive: bool,
    /// Only files whose path (relative to the source directory) matches one of these globs.
    pub include: Vec<String>,
    /// Skip files whose relative path matches one of these globs.
    pub exclude: Vec<String>,
}

fn glob_set(patterns: &[String], flag: &str) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        // Argo CD accepts `{a.yaml,b/*}` brace lists; globset does too.
        let g = Glob::new(p).map_err(|e| Error::Usage(format!("invalid {flag} glob {p:?}: {e}")))?;
        b.add(g);
    }
    b.build().map(Some).map_err(|e| Error::Usage(format!("invalid {flag} globs: {e}")))
}

fn is_manifest(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
}

/// The manifest files of the source, sorted by path. A file source yields itself.
pub fn list_manifest_files(src: &LocalSource, opts: &DirectoryOptions) -> Result<Vec<PathBuf>> {
    list_files(src, opts, is_manifest)
}

/// Like [`list_manifest_files`], for the files whose name `accept` takes.
pub fn list_files(src: &LocalSource, opts: &DirectoryOptions, accept: fn(&str) -> bool) -> Result<Vec<PathBuf>> {
    let base = src.path();
    if !base.is_dir() {
        return Ok(vec![base.to_path_buf()]);
    }
    let include = glob_set(&opts.include, "--include")?;
    let exclude = glob_set(&opts.exclude, "--exclude")?;
    let walker = WalkDir::new(base)
        .follow_links(true)
        .sort_by_file_name()
        .max_depth(if opts.recursive { usize::MAX } else { 1 })
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || !(e.file_type().is_dir() && e.file_name().to_string_lossy().starts_with('.'))
        });
    let mut files = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|e| {
            let path = e.path().map(PathBuf::from).unwrap_or_else(|| base.to_path_buf());
            match e.into_io_error() {
                Some(io) => Error::io(path, io),
                None => Error::Source { path, message: "symlink loop".into() },
            }
        })?;
        if entry.path_is_symlink() {
            src.confine(entry.path())?;
        }
        if !entry.file_type().is_file() || !accept(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let rel = entry.path().strip_prefix(base).unwrap_or(entry.path());
        if include.as_ref().is_some_and(|g| !g.is_match(rel)) || exclude.as_ref().is_some_and(|g| g.is_match(rel)) {
            continue;
        }
        files.push(entry.into_path());
    }
    Ok(files)
}
