//! The command-line layer: clap definitions (here), their conversion into
//! library settings (`convert`), one function per subcommand (`run`), and
//! the terminal (`progress`, the many-app reports). Nothing outside this
//! module uses it; it uses the library's use cases (`crate::usecase`,
//! `crate::fleet`).

mod agent;
pub mod by_name;
pub mod convert;
mod fleet;
mod fleet_report;
mod fleet_ui;
mod image_update;
pub mod progress;
pub mod run;
mod values;

pub use run::run;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::OutputFormat;
use crate::source::app::AppsFormat;

/// GitOps for kubectl: render, diff, sync and prune Kubernetes config repos.
#[derive(Debug, Parser)]
#[command(name = "kubectl gitops", bin_name = "kubectl gitops", version)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// When to colour output (diffs, progress, log lines): `auto` on a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless the NO_COLOR environment variable is set (and not empty).
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (`tty`) or is not a terminal.
    pub fn enabled(self, tty: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a source into one normalized, ordered set of objects (no cluster needed).
    Render(RenderArgs),
    /// Show what applying the source would change in the cluster (exit 0: none, 1: differences, 2: error).
    Diff(DiffArgs),
    /// List the Argo CD Applications in a file or directory.
    Apps(AppsArgs),
    /// Apply the source to the cluster (server-side apply, ApplySet ownership, waves and hooks); `--prune` deletes what is no longer rendered.
    Sync(SyncArgs),
    /// Show an app's sync history (kept in its ApplySet parent).
    History(HistoryArgs),
    /// Show an app's sync status, health and revisions (exit 0).
    Status(StatusArgs),
    /// List the apps synced to the cluster (found through their ApplySet parents), as their last sync recorded them.
    List(ListArgs),
    /// Sync an app again as history entry ID recorded it (its commit and render flags).
    Rollback(RollbackArgs),
    /// Update images to the newest allowed tags and write them back to git, as Argo CD Image Updater does (its annotations).
    ImageUpdate(ImageUpdateArgs),
    /// Keep clusters equal to git: reconcile every Application with automated sync, poll and take webhooks,
    /// heal drift (pull mode; see docs/agent.md).
    Agent(AgentArgs),
    /// Print the version.
    Version,
    /// Print a shell completion script.
    Completion {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// Where the manifests come from, and how a plain directory is read.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// Values read from a pipe (`-f -`, `-f <(...)`), kept in private
    /// temporary files for the run (removed when the last clone goes).
    #[arg(skip)]
    pub spilled: Vec<std::sync::Arc<tempfile::TempDir>>,
    /// A directory or file of manifests (default: the current directory); with -f/--app, an Application's name;
    /// with status, diff and sync, a word that is not a path here and no other source: an app's name, its source
    /// taken from its record in the cluster.
    #[arg(value_name = "SOURCE", default_value = ".", conflicts_with = "repo")]
    pub source: PathBuf,
    /// The source root: nothing the source references (kustomize bases, chart files, Jsonnet
    /// imports) may lie outside it. Default: the enclosing git work tree, else the current
    /// directory when the source lies inside it, else the source directory.
    #[arg(long, value_name = "DIR", conflicts_with = "repo")]
    pub root: Option<PathBuf>,
    /// Descend into subdirectories of a plain manifest directory.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Only files matching this glob (relative to the source directory); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files matching this glob (relative to the source directory); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Stop a render that takes longer (templates, Jsonnet, plugins): e.g. 90s, 5m.
    #[arg(help_heading = "Render limits", long, value_name = "DURATION", default_value = "120s", value_parser = crate::render::limits::parse_duration)]
    pub render_timeout: std::time::Duration,
    /// Most a render may produce (template output, manifests with YAML aliases expanded): e.g. 512Mi, 2Gi.
    #[arg(help_heading = "Render limits", long, value_name = "SIZE", default_value = "512Mi", value_parser = crate::render::limits::parse_bytes)]
    pub max_render_bytes: u64,
    /// Deepest nesting of any rendered value (YAML, JSON, Jsonnet output, kustomization chains).
    #[arg(help_heading = "Render limits", long, value_name = "LEVELS", default_value_t = crate::render::limits::DEFAULT_MAX_DEPTH)]
    pub max_nesting: usize,
    #[command(flatten)]
    pub remote: Box<RemoteSourceArgs>,
    #[command(flatten)]
    pub chart: Box<ChartArgs>,
    #[command(flatten)]
    pub jsonnet: Box<JsonnetArgs>,
}

/// Chart (helm-style) settings and render plugins.
#[derive(Debug, Args, Default, Clone)]
pub struct ChartArgs {
    /// Release name for a chart (`Release.Name`; default `release-name`).
    #[arg(help_heading = "Charts and plugins", long, value_name = "NAME")]
    pub release_name: Option<String>,
    /// Values file for a chart, merged in order; repeatable. A directory or a file holding an
    /// Argo CD Application is taken as the Application (`--app`) instead.
    #[arg(help_heading = "Charts and plugins", short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set chart values (helm syntax: a.b=1,l[0]=x); repeatable.
    #[arg(help_heading = "Charts and plugins", long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Set chart values, always as strings; repeatable.
    #[arg(help_heading = "Charts and plugins", long, value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,
    /// Set a chart value to a file's content (KEY=PATH); repeatable.
    #[arg(help_heading = "Charts and plugins", long, value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set chart values from JSON (KEY=JSON or a JSON object); repeatable.
    #[arg(help_heading = "Charts and plugins", long, value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set a chart value to a literal string (no escapes, commas kept); repeatable.
    #[arg(help_heading = "Charts and plugins", long, value_name = "KEY=VALUE")]
    pub set_literal: Vec<String>,
    /// Kubernetes version charts see as `Capabilities.KubeVersion`.
    #[arg(help_heading = "Charts and plugins", long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Extra API versions for `Capabilities.APIVersions` (group/version or group/version/Kind); repeatable.
    #[arg(help_heading = "Charts and plugins", short = 'a', long = "api-versions", value_name = "VERSION")]
    pub api_versions: Vec<String>,
    /// Leave out the chart's `crds/` files (Argo CD's `helm.skipCrds`).
    #[arg(help_heading = "Charts and plugins", long)]
    pub skip_crds: bool,
    /// Directory of render plugins (ConfigManagementPlugin YAML files); repeatable.
    #[arg(help_heading = "Charts and plugins", long, value_name = "DIR")]
    pub plugin_dir: Vec<PathBuf>,
    /// Also use plugins found in the config repo (`.kubectl-gitops/plugins/`): they run commands.
    #[arg(help_heading = "Charts and plugins", long)]
    pub allow_repo_plugins: bool,
    /// Render the source with this plugin (by metadata.name), whatever its type.
    #[arg(help_heading = "Charts and plugins", long, value_name = "NAME")]
    pub plugin: Option<String>,
    /// Plugin parameter passed as ARGOCD_ENV_NAME=VALUE; repeatable.
    #[arg(help_heading = "Charts and plugins", long = "plugin-env", value_name = "NAME=VALUE")]
    pub plugin_env: Vec<String>,
    /// Seconds a plugin command may run.
    #[arg(help_heading = "Charts and plugins", long, value_name = "SECONDS", default_value_t = 90)]
    pub plugin_timeout: u64,
}

/// How Jsonnet sources are evaluated (flags named as the `jsonnet` CLI names them).
#[derive(Debug, Args, Default, Clone)]
pub struct JsonnetArgs {
    /// Evaluate only this Jsonnet file (relative to the source directory) instead of every `*.jsonnet` file.
    #[arg(help_heading = "Jsonnet", long, value_name = "FILE")]
    pub jsonnet_main: Option<PathBuf>,
    /// Library search directory for imports; repeatable, the right-most wins.
    #[arg(help_heading = "Jsonnet", short = 'J', long, value_name = "DIR")]
    pub jpath: Vec<PathBuf>,
    /// External variable as a string (`NAME` alone: from the environment); repeatable.
    #[arg(help_heading = "Jsonnet", long, value_name = "NAME[=VALUE]", value_parser = parse_var_inline)]
    pub ext_str: Vec<NameValue>,
    /// External variable as Jsonnet code (`NAME` alone: from the environment); repeatable.
    #[arg(help_heading = "Jsonnet", long, value_name = "NAME[=CODE]", value_parser = parse_var_inline)]
    pub ext_code: Vec<NameValue>,
    /// External variable as a string read from a file; repeatable.
    #[arg(help_heading = "Jsonnet", long, value_name = "NAME=FILE", value_parser = parse_var_file)]
    pub ext_str_file: Vec<NameValue>,
    /// External variable as Jsonnet code read from a file; repeatable.
    #[arg(help_heading = "Jsonnet", long, value_name = "NAME=FILE", value_parser = parse_var_file)]
    pub ext_code_file: Vec<NameValue>,
    /// Top-level argument as a string (`NAME` alone: from the environment); repeatable.
    #[arg(help_heading = "Jsonnet", long, value_name = "NAME[=VALUE]", value_parser = parse_var_inline)]
    pub tla_str: Vec<NameValue>,
    /// Top-level argument as Jsonnet code (`NAME` alone: from the environment); repeatable.
    #[arg(help_heading = "Jsonnet", long, value_name = "NAME[=CODE]", value_parser = parse_var_inline)]
    pub tla_code: Vec<NameValue>,
    /// Top-level argument as a string read from a file; repeatable.
    #[arg(help_heading = "Jsonnet", long, value_name = "NAME=FILE", value_parser = parse_var_file)]
    pub tla_str_file: Vec<NameValue>,
    /// Top-level argument as Jsonnet code read from a file; repeatable.
    #[arg(help_heading = "Jsonnet", long, value_name = "NAME=FILE", value_parser = parse_var_file)]
    pub tla_code_file: Vec<NameValue>,
}

/// A `NAME=VALUE` flag value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

/// `NAME=VALUE`, or `NAME` alone to take the value from the environment variable NAME (as `jsonnet --ext-str` does).
fn parse_var_inline(s: &str) -> Result<NameValue, String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok(NameValue { name: name.into(), value: value.into() }),
        Some(_) => Err("the variable name before `=` is empty".into()),
        None if s.is_empty() => Err("expected NAME=VALUE or NAME".into()),
        None => std::env::var(s)
            .map(|value| NameValue { name: s.into(), value })
            .map_err(|_| format!("no `=VALUE` given and the environment variable {s} is not set")),
    }
}

/// `NAME=FILE`.
fn parse_var_file(s: &str) -> Result<NameValue, String> {
    match s.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            Ok(NameValue { name: name.into(), value: file.into() })
        }
        _ => Err("expected NAME=FILE".into()),
    }
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Namespace for namespaced objects that do not set one.
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Yaml)]
    pub output: OutputFormat,
}

/// Which cluster, as whom, and how hard to push it.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: `KUBECONFIG`, several files allowed, else ~/.kube/config, else in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Namespace for namespaced objects that do not set one (default: the context's namespace).
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Requests to the API server in flight at once.
    #[arg(long, default_value_t = crate::cluster::DEFAULT_CONCURRENCY, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub concurrency: usize,
}

/// `diff` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Unified diffs with kubectl's headers (colour on a terminal; `KUBECTL_EXTERNAL_DIFF` honoured).
    Text,
    /// A JSON summary: per object its identity, action (add/change/delete/none) and diff.
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = DiffFormat::Text)]
    pub output: DiffFormat,
    /// Also show the deletions a `sync --prune` of the app would make (and what garbage collection removes with them).
    #[arg(long)]
    pub prune: bool,
    /// The app's name (its ApplySet parent is `secret/applyset-<name>` in the namespace; default: the Application's name).
    #[arg(long)]
    pub name: Option<String>,
    /// With -f/--app DIR: more Applications to act on, by name (each against its destination; see `--all`).
    #[arg(value_name = "APP")]
    pub apps: Vec<String>,
    /// With -f/--app DIR: every Application there, each against its destination's context (clusters in parallel).
    #[arg(long)]
    pub all: bool,
    /// Take the source from the app's record (the last sync's source and render flags), APP or --name naming the
    /// app: needed only when the name is also a file or directory here (`status web` alone already does, when `web`
    /// is not a path).
    #[arg(long)]
    pub recorded: bool,

    /// The kind of the app's ApplySet parent (as given to sync).
    #[arg(long, value_enum, default_value_t = crate::sync::parent::ParentKind::Secret)]
    pub applyset_parent: crate::sync::parent::ParentKind,
}

/// `sync` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SyncFormat {
    /// One line per object and a summary line.
    Text,
    /// The report as JSON: per object its outcome, and the counts.
    Json,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The app's name: its ApplySet parent is `secret/applyset-<name>` in the namespace, next to its lock (a Lease)
    /// (default: the Application's metadata.name).
    #[arg(long)]
    pub name: Option<String>,
    /// With -f/--app DIR: more Applications to act on, by name (each against its destination; see `--all`).
    #[arg(value_name = "APP")]
    pub apps: Vec<String>,
    /// With -f/--app DIR: every Application there, each against its destination's context (clusters in parallel).
    #[arg(long)]
    pub all: bool,
    /// Take the source from the app's record (the last sync's source and render flags), APP or --name naming the
    /// app: needed only when the name is also a file or directory here (`status web` alone already does, when `web`
    /// is not a path).
    #[arg(long)]
    pub recorded: bool,

    /// Delete the app's objects that the source no longer renders (with APP names or --all: also each
    /// Application whose automated sync prunes).
    #[arg(long)]
    pub prune: bool,
    /// Server-side dry-run: print what would be created, changed and pruned; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Take over fields owned by other field managers instead of failing on conflicts.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Take over an ApplySet parent managed by another tool, and objects that are members of another app's ApplySet.
    #[arg(long)]
    pub adopt: bool,
    /// Fail when a rendered object is a member of another app's ApplySet (Argo CD's FailOnSharedResource=true).
    #[arg(long)]
    pub fail_on_shared_resource: bool,
    /// Allow syncing a source that renders no objects (with --prune: delete the whole app).
    #[arg(long)]
    pub allow_empty: bool,
    /// Allow a prune that deletes more than half of the app's objects (and at least 10).
    #[arg(long)]
    pub confirm_mass_prune: bool,
    /// Allow pruning a CustomResourceDefinition that still has objects of its kind: the API server then deletes
    /// every one of them, in every namespace, including objects this app does not manage.
    #[arg(long)]
    pub prune_crds_with_objects: bool,
    /// Prune without asking (required to prune when stdin is not a terminal).
    #[arg(short, long)]
    pub yes: bool,
    /// How pruned objects' dependents are deleted.
    #[arg(long, value_enum, default_value_t = crate::cluster::write::Cascade::Background)]
    pub cascade: crate::cluster::write::Cascade,
    /// Wait for each wave's objects to be healthy before the next one.
    #[arg(long)]
    pub wait: bool,
    /// Deadline for waiting (hooks, --wait, CRDs): `90s`, `5m`, `1h` or seconds.
    #[arg(long, default_value = "5m", value_parser = crate::sync::parse_duration)]
    pub timeout: std::time::Duration,
    /// Create the namespace (the CreateNamespace=true sync option) when it does not exist.
    #[arg(long)]
    pub create_namespace: bool,
    /// Retry a failed sync this many times (negative: until --timeout); overrides syncPolicy.retry.limit.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub retry_limit: Option<i64>,
    /// Wait before the first retry (default 5s, or the Application's backoff.duration).
    #[arg(long, value_parser = crate::sync::parse_duration, value_name = "DURATION")]
    pub retry_backoff_duration: Option<std::time::Duration>,
    /// Longest wait between retries (default 3m, or the Application's backoff.maxDuration).
    #[arg(long, value_parser = crate::sync::parse_duration, value_name = "DURATION")]
    pub retry_backoff_max_duration: Option<std::time::Duration>,
    /// Each wait is the previous one times this (default 2, or the Application's backoff.factor).
    #[arg(long, value_name = "FACTOR")]
    pub retry_backoff_factor: Option<f64>,
    /// The kind of the app's ApplySet parent object (`applyset-<name>`).
    #[arg(long, value_enum, default_value_t = crate::sync::parent::ParentKind::Secret)]
    pub applyset_parent: crate::sync::parent::ParentKind,
    /// How long the sync lock lasts without renewal (a crashed run's lock expires after it).
    #[arg(long, default_value = "60s", value_parser = crate::sync::parse_duration)]
    pub lock_duration: std::time::Duration,
    /// Sync history entries kept in the app's ApplySet parent (default: the Application's revisionHistoryLimit, else 10).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub revision_history_limit: Option<usize>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = SyncFormat::Text)]
    pub output: SyncFormat,
}

/// Take the source from a git repository or an Argo CD Application instead of a local directory.
#[derive(Debug, Clone, Default, Args)]
pub struct RemoteSourceArgs {
    /// Git repository: a local repository path, or a file://, git://, http(s)://, ssh:// or user@host:path URL.
    #[arg(help_heading = "Git and Argo CD sources", long, value_name = "URL_OR_PATH", conflicts_with = "app")]
    pub repo: Option<String>,
    /// Branch, tag, commit SHA (full or short) or HEAD (default: HEAD, or the Application's targetRevision).
    #[arg(help_heading = "Git and Argo CD sources", long, value_name = "REV")]
    pub revision: Option<String>,
    /// Directory inside the repository (default: its root).
    #[arg(help_heading = "Git and Argo CD sources", long, value_name = "DIR", requires = "repo")]
    pub path: Option<PathBuf>,
    /// Do not fetch: use the cached copy of the repository.
    #[arg(help_heading = "Git and Argo CD sources", long)]
    pub offline: bool,
    /// An Argo CD Application file, or a directory of them (`-f FILE` works too: see `-f`).
    #[arg(help_heading = "Git and Argo CD sources", long = "app", value_name = "FILE_OR_DIR")]
    pub app: Option<PathBuf>,
    /// The Application to use when --app holds several.
    #[arg(help_heading = "Git and Argo CD sources", long, value_name = "NAME", requires = "app")]
    pub app_name: Option<String>,
    /// Most bytes one git snapshot may hold (default 1Gi).
    #[arg(help_heading = "Git and Argo CD sources", long, value_name = "SIZE", env = "KUBECTL_GITOPS_GIT_MAX_BYTES", value_parser = crate::render::limits::parse_bytes)]
    pub git_max_bytes: Option<u64>,
    /// Most entries (files, directories, links) one git snapshot may hold (default 100000).
    #[arg(help_heading = "Git and Argo CD sources", long, value_name = "COUNT", env = "KUBECTL_GITOPS_GIT_MAX_FILES")]
    pub git_max_files: Option<u64>,
    /// Deepest directory nesting in a git snapshot (default 64).
    #[arg(help_heading = "Git and Argo CD sources", long, value_name = "LEVELS", env = "KUBECTL_GITOPS_GIT_MAX_DEPTH")]
    pub git_max_depth: Option<usize>,
    /// Hosts KUBECTL_GITOPS_GIT_TOKEN may be sent to, comma-separated (default: the host of --repo only).
    #[arg(
        help_heading = "Git and Argo CD sources",
        long,
        value_name = "HOSTS",
        env = "KUBECTL_GITOPS_GIT_TOKEN_HOSTS",
        value_delimiter = ','
    )]
    pub git_token_hosts: Vec<String>,
    /// A chart in the Helm repository (https://) or OCI registry (oci://) named by --repo.
    #[arg(help_heading = "Chart repositories", long, value_name = "NAME", requires = "repo")]
    pub chart: Option<String>,
    /// The chart's version: exact, or a constraint such as `~1.2` or `>=1.0 <2` (default: the newest stable).
    #[arg(help_heading = "Chart repositories", long = "version", value_name = "VERSION", requires = "chart")]
    pub chart_version: Option<String>,
    /// Allow plain-HTTP chart repositories and registries.
    #[arg(help_heading = "Chart repositories", long, env = "KUBECTL_GITOPS_PLAIN_HTTP")]
    pub plain_http: bool,
    /// PEM certificates to trust for chart repositories and registries, besides the system's.
    #[arg(help_heading = "Chart repositories", long, value_name = "FILE", env = "KUBECTL_GITOPS_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// User name for the chart repository (basic auth; sent to --repo-credential-hosts only).
    #[arg(help_heading = "Chart repositories", long, value_name = "USER", env = "KUBECTL_GITOPS_REPO_USERNAME")]
    pub repo_username: Option<String>,
    /// Password for --repo-username.
    #[arg(
        help_heading = "Chart repositories",
        long,
        value_name = "PASSWORD",
        env = "KUBECTL_GITOPS_REPO_PASSWORD",
        hide_env_values = true
    )]
    pub repo_password: Option<String>,
    /// Bearer token for the chart repository (sent to --repo-credential-hosts only).
    #[arg(
        help_heading = "Chart repositories",
        long,
        value_name = "TOKEN",
        env = "KUBECTL_GITOPS_REPO_TOKEN",
        hide_env_values = true,
        conflicts_with = "repo_username"
    )]
    pub repo_token: Option<String>,
    /// Hosts (host or host:port) the repository credentials may be sent to, comma-separated (default: the host of --repo only).
    #[arg(
        help_heading = "Chart repositories",
        long,
        value_name = "HOSTS",
        env = "KUBECTL_GITOPS_REPO_CREDENTIAL_HOSTS",
        value_delimiter = ','
    )]
    pub repo_credential_hosts: Vec<String>,
    /// Docker config file with OCI registry credentials (default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json).
    #[arg(help_heading = "Chart repositories", long, value_name = "FILE")]
    pub registry_config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AppsArgs {
    /// An Argo CD Application file, or a directory of them.
    #[arg(short = 'f', long = "app", value_name = "FILE_OR_DIR", default_value = ".")]
    pub app: PathBuf,
    /// Do not fetch: detect tools from cached copies of the repositories.
    #[arg(long)]
    pub offline: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = AppsFormat::Table)]
    pub output: AppsFormat,
}

#[derive(Debug, Args)]
pub struct ImageUpdateArgs {
    /// An Argo CD Application file, or a directory of them (those with an image-list annotation are updated).
    #[arg(short = 'f', long = "app", value_name = "FILE_OR_DIR", default_value = ".")]
    pub app: PathBuf,
    /// Only these Applications (by name).
    #[arg(value_name = "APP")]
    pub apps: Vec<String>,
    /// Plan only: print the changes as a table and the files' diff; nothing is committed.
    #[arg(long, conflicts_with = "push")]
    pub dry_run: bool,
    /// Commit the changes and push them to the write branch (without it, the run only plans).
    #[arg(long)]
    pub push: bool,
    /// Talk to every registry over plain HTTP.
    #[arg(long)]
    pub plain_http: bool,
    /// A registry (host[:port]) reached over plain HTTP; repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,
    /// PEM certificates to trust besides the system's, for registries.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// The Docker config file with registry credentials (default: $DOCKER_CONFIG/config.json, ~/.docker/config.json).
    #[arg(long, value_name = "FILE")]
    pub registry_config: Option<PathBuf>,
    /// Most requests a second to one registry (0: no limit).
    #[arg(long, value_name = "N", default_value_t = crate::imageupdate::registry::DEFAULT_RATE_LIMIT)]
    pub rate_limit: u32,
    /// The commit author's name.
    #[arg(long, value_name = "NAME", default_value = crate::imageupdate::update::DEFAULT_AUTHOR.0)]
    pub git_commit_user: String,
    /// The commit author's email.
    #[arg(long, value_name = "EMAIL", default_value = crate::imageupdate::update::DEFAULT_AUTHOR.1)]
    pub git_commit_email: String,
    /// The kubeconfig for pull-secret Secrets (default: $KUBECONFIG, ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context for pull-secret Secrets.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Push attempts when others push first (each after fetching the new head).
    #[arg(long, value_name = "N", default_value_t = crate::imageupdate::update::DEFAULT_ATTEMPTS)]
    pub push_attempts: usize,
}

/// `history` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryFormat {
    /// A table: ID, DEPLOYED AT, REVISION, TOOL, USER, RESULT.
    Table,
    /// The entries as YAML.
    Yaml,
    /// The entries as JSON.
    Json,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The app's name (as given to `sync --name`).
    #[arg(value_name = "APP")]
    pub app: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The kind of the app's ApplySet parent (as given to sync).
    #[arg(long, value_enum, default_value_t = crate::sync::parent::ParentKind::Secret)]
    pub applyset_parent: crate::sync::parent::ParentKind,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = HistoryFormat::Table)]
    pub output: HistoryFormat,
}

/// `status` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    /// A summary: sync status, health, revisions, counts.
    Text,
    /// The summary and one line per object with its own status and health.
    Wide,
    /// Everything as JSON.
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The app's name (as given to `sync --name`; default: the Application's metadata.name).
    #[arg(long)]
    pub name: Option<String>,
    /// With -f/--app DIR: more Applications to act on, by name (each against its destination; see `--all`).
    #[arg(value_name = "APP")]
    pub apps: Vec<String>,
    /// With -f/--app DIR: every Application there, each against its destination's context (clusters in parallel).
    #[arg(long)]
    pub all: bool,
    /// Take the source from the app's record (the last sync's source and render flags), APP or --name naming the
    /// app: needed only when the name is also a file or directory here (`status web` alone already does, when `web`
    /// is not a path).
    #[arg(long)]
    pub recorded: bool,

    /// The kind of the app's ApplySet parent (as given to sync).
    #[arg(long, value_enum, default_value_t = crate::sync::parent::ParentKind::Secret)]
    pub applyset_parent: crate::sync::parent::ParentKind,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = StatusFormat::Text)]
    pub output: StatusFormat,
}

/// `list` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// The table with the live member count and kinds (and why a refresh failed).
    Wide,
    /// The rows as JSON.
    Json,
    /// The rows as YAML.
    Yaml,
    /// App names, one a line.
    Name,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Apps in every namespace.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Render every app from its recorded source and compare it with the cluster (sync status now, not as last synced).
    #[arg(long)]
    pub refresh: bool,
    /// With --refresh: apps rendered and compared at once.
    #[arg(long, default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    pub parallel: usize,
    /// Output format (default: a table).
    #[arg(short, long, value_enum)]
    pub output: Option<ListFormat>,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The Applications: `-f FILE_OR_DIR` (or `--app`), or `--repo URL --path DIR` (an app-of-apps root in git),
    /// read again on every poll; render limits and plugin flags apply to every app.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Path to the kubeconfig file (default: `KUBECONFIG`, else ~/.kube/config, else in-cluster); each app goes to
    /// the context its destination names.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Requests to an API server in flight at once, per app.
    #[arg(long, default_value_t = crate::cluster::DEFAULT_CONCURRENCY, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub concurrency: usize,
    /// Fetch every repository and reconcile every app this often (plus up to 10% jitter).
    #[arg(long, default_value = "3m", value_parser = crate::sync::parse_duration, value_name = "DURATION")]
    pub interval: std::time::Duration,
    /// Compare every app with its cluster this often between polls (drift; healed with selfHeal).
    #[arg(long, default_value = "5m", value_parser = crate::sync::parse_duration, value_name = "DURATION")]
    pub drift_interval: std::time::Duration,
    /// Also watch each app's objects: a change is compared (and healed, with selfHeal) at once instead of at the
    /// next drift check.
    #[arg(long)]
    pub watch: bool,
    /// Apps reconciled at once (each on its own thread).
    #[arg(long, default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=256))]
    pub parallel: usize,
    /// One round (fetch, compare, sync what is automated), then exit: 0, or 2 when an app failed.
    #[arg(long)]
    pub once: bool,
    /// Take only the apps whose stable hash falls in shard N of M (0 <= N < M).
    #[arg(long, value_name = "N/M", value_parser = crate::agent::Shard::parse)]
    pub shard: Option<crate::agent::Shard>,
    /// Serve /healthz, /readyz, /status and POST /hooks/git on this address (127.0.0.1:8080; 0.0.0.0:8080 in a pod).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// File holding the webhooks' shared secret (HMAC key for GitHub and Gitea, token for GitLab); also
    /// KUBECTL_GITOPS_WEBHOOK_SECRET. Without one, webhooks are refused.
    #[arg(long, value_name = "FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Run as one of several replicas: elect a leader through a Lease; only the leader writes.
    #[arg(long)]
    pub leader_elect: bool,
    /// The Lease's name (with --shard: suffixed `-shard-N-of-M`).
    #[arg(long, default_value = "kubectl-gitops-agent", value_name = "NAME")]
    pub lease_name: String,
    /// The Lease's namespace (default: the context's namespace; in a pod, its own).
    #[arg(long, value_name = "NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// The kubeconfig context of the Lease's cluster (default: the current context, or in-cluster).
    #[arg(long, value_name = "CONTEXT")]
    pub lease_context: Option<String>,
    /// How long a leader's Lease lasts without renewal (renewed every third of it).
    #[arg(long, default_value = "15s", value_parser = crate::sync::parse_duration, value_name = "DURATION")]
    pub lease_duration: std::time::Duration,
    /// Deadline of one app's comparison, and of its sync's waiting (hooks, CRDs).
    #[arg(long, default_value = "5m", value_parser = crate::sync::parse_duration, value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// How long an app's sync lock lasts without renewal.
    #[arg(long, default_value = "60s", value_parser = crate::sync::parse_duration, value_name = "DURATION")]
    pub lock_duration: std::time::Duration,
    /// The kind of the apps' ApplySet parents.
    #[arg(long, value_enum, default_value_t = crate::sync::parent::ParentKind::Secret)]
    pub applyset_parent: crate::sync::parent::ParentKind,
    /// How each reconcile is reported on stderr: a line of text, or a JSON object a line.
    #[arg(long, value_enum, default_value_t = AgentLogFormat::Text)]
    pub log_format: AgentLogFormat,
}

/// `agent --log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AgentLogFormat {
    /// `web [east] synced: Synced Healthy at 1a2b3c4 (synced 1a2b3c4)`.
    Text,
    /// One JSON object a line: the app's report (`/status`), or `{"event": ...}`.
    Json,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The app's name (as given to `sync --name`).
    #[arg(value_name = "APP")]
    pub app: String,
    /// The history entry to go back to (`kubectl gitops history APP`).
    #[arg(value_name = "ID")]
    pub id: u64,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Delete the app's objects that entry did not have.
    #[arg(long)]
    pub prune: bool,
    /// Prune without asking.
    #[arg(short, long)]
    pub yes: bool,
    /// Server-side dry-run: print what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Roll back although the Application has automated sync (which would undo the rollback).
    #[arg(long)]
    pub force: bool,
    /// Take over fields owned by other field managers.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Wait for each wave's objects to be healthy.
    #[arg(long)]
    pub wait: bool,
    /// The kind of the app's ApplySet parent (as given to sync).
    #[arg(long, value_enum, default_value_t = crate::sync::parent::ParentKind::Secret)]
    pub applyset_parent: crate::sync::parent::ParentKind,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = SyncFormat::Text)]
    pub output: SyncFormat,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonnet_variable_flags() {
        assert_eq!(parse_var_inline("a=b=c"), Ok(NameValue { name: "a".into(), value: "b=c".into() }));
        assert_eq!(parse_var_inline("a="), Ok(NameValue { name: "a".into(), value: String::new() }));
        assert!(parse_var_inline("=x").is_err());
        assert!(parse_var_inline("").is_err());
        let path = std::env::var("PATH").unwrap();
        assert_eq!(parse_var_inline("PATH"), Ok(NameValue { name: "PATH".into(), value: path }));
        assert!(parse_var_inline("KGO_SURELY_NOT_SET_ANYWHERE").unwrap_err().contains("is not set"));
        assert_eq!(parse_var_file("x=f.txt"), Ok(NameValue { name: "x".into(), value: "f.txt".into() }));
        assert!(parse_var_file("x").is_err());
        assert!(parse_var_file("x=").is_err());
    }
}
