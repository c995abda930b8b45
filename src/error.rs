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
    #[error(
        "{}: {detail}; it is outside the source root {} (for a local source: the enclosing git work tree, else the current directory when the source lies inside it, else the source directory; set it with --root DIR)",
        path.display(),
        root.display()
    )]
    PathEscape { path: PathBuf, root: PathBuf, detail: String },
    /// The source does not exist or is not usable.
    #[error("{}: {message}", path.display())]
    Source { path: PathBuf, message: String },
    /// Bad flags or arguments.
    #[error("{0}")]
    Usage(String),
    /// A chart, its values or its schema is invalid (`path` names the file or chart).
    #[error("{}: {message}", path.display())]
    Chart { path: PathBuf, message: String },
    /// A chart template failed to render (`file` is the template, `line` 0 when unknown).
    #[error("{file}{}: {message}", if *line > 0 { format!(":{line}") } else { String::new() })]
    Template { file: String, line: usize, message: String },
    /// A Go-template chart failed to render; `message` is helm's text
    /// (`execution error at (FILE:LINE:COL): ...`, `parse error at ...`).
    #[error("{message}")]
    HelmTemplate { file: String, message: String },
    /// A render passed one of its limits (time, output size, nesting).
    #[error("{what}: {limit} exceeded{}", if flag.is_empty() { String::new() } else { format!(" (raise it with {flag})") })]
    Limit { what: String, limit: String, flag: &'static str },
    /// A render plugin failed or printed invalid output.
    #[error("plugin {plugin}: {message}")]
    Plugin { plugin: String, message: String },
    /// A kustomization failed to build (`file` is its directory).
    #[error("kustomize build {file}: {message}")]
    Kustomize { file: String, message: String },
    /// An object's sync annotations (wave, hook, policies) are invalid.
    #[error("{origin}: {key}: {message}")]
    Plan { origin: Origin, key: Box<ObjectKey>, message: String },
    /// A Jsonnet program failed (with its stack trace), or its output is not manifests.
    #[error("{file}: {message}")]
    Jsonnet { file: String, message: String },
    /// The kubeconfig (or in-cluster config) cannot be loaded or used.
    #[error("cluster configuration: {0}")]
    ClusterConfig(String),
    /// A request to the API server failed (after retries for transient errors).
    #[error("{0}")]
    Api(Box<ApiFailure>),
    /// Rendered objects whose kind the cluster does not serve (and no CRD in the set defines).
    #[error("{}", unknown_kinds_message(.0))]
    UnknownKinds(Box<Vec<String>>),
    /// A cluster request about one rendered object failed.
    #[error("{key} ({origin}): {source}")]
    Object {
        key: Box<ObjectKey>,
        origin: Origin,
        #[source]
        source: Box<Error>,
    },
    /// The `KUBECTL_EXTERNAL_DIFF` program could not run or failed.
    #[error("external diff program: {0}")]
    ExternalDiff(String),
    /// Another sync of the same app holds the lock (an unexpired Lease).
    #[error("{0}")]
    Locked(String),
    /// A sync safety rail refused to go on (nothing was written).
    #[error("{0}")]
    Refused(String),
    /// A sync wrote some objects and then failed; the parent keeps every member recorded.
    #[error("sync failed: {0}")]
    SyncFailed(String),
    /// A git repository could not be fetched or read (`repo` is redacted).
    #[error("{repo}: {message}")]
    Git { repo: String, message: String },
    /// The cached copy of a git repository cannot be read (a damaged pack,
    /// a broken ref or config): `checkout` fetches it again from scratch
    /// unless offline.
    #[error("{repo}: the cached copy of the repository is damaged: {message}")]
    GitDamaged { repo: String, message: String },
    /// An HTTP request failed (`url` without credentials or query).
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    /// A chart could not be fetched from a Helm repository or an OCI
    /// registry: `repo` (credentials removed), `chart` and the version asked for.
    #[error("chart {chart} {version} from {repo}: {message}")]
    ChartFetch { repo: String, chart: String, version: String, message: String },
    /// Several objects failed the preflight (server-side dry-run): each
    /// one's error, the first [`MAX_REPORTED`] of them, and how many in all.
    #[error("{}", preflight_message(.errors, *.total))]
    Preflight { errors: Vec<Error>, total: usize },
    /// An Application file is invalid (`field` is the path inside the document).
    #[error("{file}:{line}: {field}: {message}")]
    App { file: String, line: usize, field: String, message: String },
    /// A bug: a panic caught where one unit of work (an app, a task) runs.
    #[error("internal error (a bug; please report it): {0}")]
    Internal(String),
    /// One app of a many-app command (`--all`, APP names) failed before anything was applied.
    #[error("app {app} ({file}): {source}")]
    FleetApp {
        app: String,
        file: String,
        #[source]
        source: Box<Error>,
    },
}

/// A failed API request: what was asked and what the server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub verb: String,
    /// Plural resource with its group: `deployments.apps`, `configmaps`.
    pub resource: String,
    /// `""` for cluster-scoped resources.
    pub namespace: String,
    /// `""` for collections.
    pub name: String,
    /// HTTP status, 0 when no response arrived.
    pub code: u16,
    pub message: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = if self.namespace.is_empty() {
            "cluster-wide".to_string()
        } else {
            format!("in namespace {}", self.namespace)
        };
        match self.code {
            403 => write!(f, "forbidden: cannot {} {} {place}: {}", self.verb, self.resource, self.message),
            0 => write!(f, "{} {} {place}: {}", self.verb, self.resource, self.message),
            code => write!(f, "{} {} {place} failed (HTTP {code}): {}", self.verb, self.resource, self.message),
        }
    }
}

/// How many errors a [`Error::Preflight`] keeps and prints.
pub const MAX_REPORTED: usize = 50;

fn preflight_message(errors: &[Error], total: usize) -> String {
    let mut s = format!("{total} objects failed the server-side dry-run (nothing was applied):");
    for e in errors {
        s.push_str("\n  - ");
        s.push_str(&e.to_string().replace('\n', "\n    "));
    }
    if total > errors.len() {
        s.push_str(&format!("\n  ... and {} more", total - errors.len()));
    }
    s
}

fn unknown_kinds_message(items: &[String]) -> String {
    let mut s = String::from(
        "the cluster does not serve these kinds (and no CustomResourceDefinition in the set defines them):",
    );
    for i in items {
        s.push_str("\n  ");
        s.push_str(i);
    }
    s
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
    /// The error for a caught panic, with the panic's message.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Error {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        Error::Internal(text)
    }
}

impl Error {
    /// A write to a closed pipe (`kubectl gitops render | head`): not an error for the user.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
