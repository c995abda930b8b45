//! Import resolution for `import`, `importstr` and `importbin`, confined to
//! the source root (and the `--jpath` directories the user named).
//!
//! Search order for a relative import: the importing file's directory, then
//! `--jpath` directories right-most first (as the `jsonnet` CLI), then
//! `lib/` and `vendor/` of the source directory, then of the repository root
//! (jsonnet-bundler and Tanka layouts). The first existing file wins; if it
//! (or its symlink target) lies outside every allowed directory the import
//! fails instead of falling through, so a repository cannot read
//! `/etc/passwd` or a sibling checkout.

use std::any::Any;
use std::path::{Path, PathBuf};

use jrsonnet_evaluator::error::ErrorKind;
use jrsonnet_evaluator::parser::{SourceFile, SourcePath};
use jrsonnet_evaluator::{ImportResolver, Result as JrResult};
use jrsonnet_gcmodule::Trace;

use crate::error::{Error, Result};
use crate::source::{LocalSource, lexical_normalize};

#[derive(Trace)]
pub struct ConfinedResolver {
    /// Canonical directories files may be read from: the source root, then each `--jpath`.
    #[trace(skip)]
    allowed: Vec<PathBuf>,
    /// Library directories, in search order.
    #[trace(skip)]
    library: Vec<PathBuf>,
    /// Base for imports from sources that are not files (ext/TLA code).
    #[trace(skip)]
    base: PathBuf,
}

impl ConfinedResolver {
    pub fn new(src: &LocalSource, jpath: &[PathBuf]) -> Result<Self> {
        let root = src.root().to_path_buf();
        let mut allowed = vec![root.clone()];
        let mut library = Vec::new();
        for dir in jpath.iter().rev() {
            let canonical = dir.canonicalize().map_err(|e| Error::Usage(format!("--jpath {}: {e}", dir.display())))?;
            if !canonical.is_dir() {
                return Err(Error::Usage(format!("--jpath {}: not a directory", dir.display())));
            }
            allowed.push(canonical.clone());
            library.push(canonical);
        }
        let mut bases = vec![src.dir().to_path_buf()];
        if src.dir() != root {
            bases.push(root.clone());
        }
        for base in bases {
            for name in ["lib", "vendor"] {
                let dir = base.join(name);
                if dir.is_dir() {
                    library.push(src.confine(&dir)?);
                }
            }
        }
        Ok(ConfinedResolver { allowed, library, base: src.dir().to_path_buf() })
    }

    /// Where `importing` (a file) imports `requested`: `file:line:column`, best effort
    /// (jrsonnet reports resolution errors without a location).
    fn import_site(&self, importing: Option<&Path>, requested: &str) -> String {
        let Some(file) = importing else { return "<code>".into() };
        let shown = file.strip_prefix(&self.allowed[0]).unwrap_or(file).display().to_string();
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let found = ['\'', '"'].iter().filter_map(|q| text.find(&format!("{q}{requested}{q}"))).min();
        match found {
            Some(offset) => {
                let before = &text[..offset];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("{shown}:{line}:{column}")
            }
            None => shown,
        }
    }

    /// The canonical file at `candidate`, `None` when nothing is there, an error when it escapes.
    fn check(&self, requested: &str, candidate: &Path) -> JrResult<Option<PathBuf>> {
        let lexical = lexical_normalize(candidate);
        let Ok(meta) = std::fs::metadata(&lexical) else {
            return Ok(None);
        };
        if meta.is_dir() {
            return Ok(None);
        }
        let canonical = lexical.canonicalize().map_err(|e| ErrorKind::ImportIo(format!("{requested}: {e}")))?;
        if self.allowed.iter().any(|a| canonical.starts_with(a)) {
            return Ok(Some(canonical));
        }
        let detail = if lexical.starts_with(&self.allowed[0]) {
            format!("import resolves through a symlink to {}", canonical.display())
        } else {
            format!("import resolves to {}", canonical.display())
        };
        let escape = Error::PathEscape { path: requested.into(), root: self.allowed[0].clone(), detail };
        Err(ErrorKind::ImportCallbackError(escape.to_string()).into())
    }

    fn not_found(&self, requested: &str, from_dir: &Path) -> ErrorKind {
        let root = &self.allowed[0];
        let show =
            |p: &Path| p.strip_prefix(root).map_or_else(|_| p.display().to_string(), |r| r.display().to_string());
        let mut searched = vec![if from_dir == root.as_path() { ".".to_string() } else { show(from_dir) }];
        searched.extend(self.library.iter().map(|p| show(p)));
        ErrorKind::ImportCallbackError(format!(
            "cannot find import {requested:?} (searched {})",
            searched.iter().map(|s| format!("{s}/")).collect::<Vec<_>>().join(", ")
        ))
    }
}

impl ImportResolver for ConfinedResolver {
    fn resolve_from(&self, from: &SourcePath, path: &str) -> JrResult<SourcePath> {
        let importing = from.downcast_ref::<SourceFile>().map(|f| f.path());
        self.resolve_import(importing, path).map_err(|e| {
            let site = self.import_site(importing, path);
            ErrorKind::ImportCallbackError(format!("{}\n    at {site} (import {path:?})", e.error())).into()
        })
    }

    fn resolve(&self, path: &Path) -> JrResult<SourcePath> {
        let shown = path.display().to_string();
        match self.check(&shown, path)? {
            Some(found) => Ok(SourcePath::new(SourceFile::new(found))),
            None => Err(ErrorKind::ImportCallbackError(format!("cannot find {shown}")).into()),
        }
    }

    fn load_file_contents(&self, resolved: &SourcePath) -> JrResult<Vec<u8>> {
        let Some(file) = resolved.downcast_ref::<SourceFile>() else {
            return Err(ErrorKind::ImportCallbackError(format!("cannot read {resolved}")).into());
        };
        std::fs::read(file.path()).map_err(|e| ErrorKind::ImportIo(format!("{}: {e}", file.path().display())).into())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl ConfinedResolver {
    fn resolve_import(&self, importing: Option<&Path>, path: &str) -> JrResult<SourcePath> {
        let from_dir = match importing {
            Some(f) => f.parent().unwrap_or(&self.base).to_path_buf(),
            None => self.base.clone(),
        };
        let requested = Path::new(path);
        if requested.is_absolute() {
            return match self.check(path, requested)? {
                Some(found) => Ok(SourcePath::new(SourceFile::new(found))),
                None => Err(ErrorKind::ImportCallbackError(format!("cannot find import {path:?}")).into()),
            };
        }
        for dir in std::iter::once(&from_dir).chain(&self.library) {
            if let Some(found) = self.check(path, &dir.join(requested))? {
                return Ok(SourcePath::new(SourceFile::new(found)));
            }
        }
        Err(self.not_found(path, &from_dir).into())
    }
}
