//! Command-line definitions (clap derive only; behaviour lives in `app`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::OutputFormat;
use crate::source::app::AppsFormat;

/// GitOps for kubectl: render, diff, sync and prune Kubernetes config repos.
#[derive(Debug, Parser)]
#[command(name = "kubectl gitops", bin_name = "kubectl-gitops", version, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a source into one normalized, ordered set of objects (no cluster needed).
    Render(RenderArgs),
    /// List the Argo CD Applications in a file or directory.
    Apps(AppsArgs),
    /// Print the version.
    Version,
    /// Print a shell completion script.
    Completion {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// Where the manifests come from, and how a plain directory is read.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// A directory or file of manifests (default: the current directory).
    #[arg(value_name = "SOURCE", default_value = ".", conflicts_with_all = ["repo", "app"])]
    pub source: PathBuf,
    /// Descend into subdirectories of a plain manifest directory.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Only files matching this glob (relative to the source directory); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files matching this glob (relative to the source directory); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    #[command(flatten)]
    pub remote: Box<RemoteSourceArgs>,
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

/// Take the source from a git repository or an Argo CD Application instead of a local directory.
#[derive(Debug, Clone, Default, Args)]
pub struct RemoteSourceArgs {
    /// Git repository: a local repository path, or a file://, git://, http(s)://, ssh:// or user@host:path URL.
    #[arg(long, value_name = "URL_OR_PATH", conflicts_with = "app")]
    pub repo: Option<String>,
    /// Branch, tag, commit SHA (full or short) or HEAD (default: HEAD, or the Application's targetRevision).
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    /// Directory inside the repository (default: its root).
    #[arg(long, value_name = "DIR", requires = "repo")]
    pub path: Option<PathBuf>,
    /// Do not fetch: use the cached copy of the repository.
    #[arg(long)]
    pub offline: bool,
    /// An Argo CD Application file, or a directory of them.
    #[arg(short = 'f', long = "app", value_name = "FILE_OR_DIR")]
    pub app: Option<PathBuf>,
    /// The Application to use when --app holds several.
    #[arg(long, value_name = "NAME", requires = "app")]
    pub app_name: Option<String>,
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
