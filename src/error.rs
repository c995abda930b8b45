//! The crate's error type and how errors map to exit codes.

use std::path::PathBuf;

use crate::model::{InvalidObject, ObjectKey, Origin};
use crate::yaml::YamlError;

/// Exit code for any error (`diff` uses 1 for "differences found").
pub const EXIT_ERROR: i32 = 2;

/// Everything that can go wrong in the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid YAML/JSON.
    #[error("{file}:{}:{}: invalid YAML: {}", source.line, source.column, source.message)]
    Yaml {
        file: String,
        #[source]
        source: YamlError,
    },
    /// A document is not a valid manifest.
    #[error("{origin}: {source}")]
    Invalid {
        origin: Origin,
        #[source]
        source: InvalidObject,
    },
    /// Two rendered objects have the same identity.
    #[error("duplicate object {key}: defined at {first} and at {second}")]
    Duplicate { key: Box<ObjectKey>, first: Origin, second: Origin },
    /// A path (or a symlink's target) leaves the source root.
    #[error("{}: {detail}; it is outside the source root {}", path.display(), root.display())]
    PathEscape { path: PathBuf, root: PathBuf, detail: String },
    /// The source does not exist or is not usable.
    #[error("{}: {message}", path.display())]
    Source { path: PathBuf, message: String },
    /// Bad flags or arguments.
    #[error("{0}")]
    Usage(String),
    /// An object's sync annotations (wave, hook, policies) are invalid.
    #[error("{origin}: {key}: {message}")]
    Plan { origin: Origin, key: Box<ObjectKey>, message: String },
    /// A Jsonnet program failed (with its stack trace), or its output is not manifests.
    #[error("{file}: {message}")]
    Jsonnet { file: String, message: String },
    /// A git repository could not be fetched or read (`repo` is redacted).
    #[error("{repo}: {message}")]
    Git { repo: String, message: String },
    /// An Application file is invalid (`field` is the path inside the document).
    #[error("{file}:{line}: {field}: {message}")]
    App { file: String, line: usize, field: String, message: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        EXIT_ERROR
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A write to a closed pipe (`kubectl gitops render | head`): not an error for the user.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
