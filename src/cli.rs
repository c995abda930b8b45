//! Command-line definitions (clap derive only; behaviour lives in `app`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::OutputFormat;

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
    /// Show what applying the source would change in the cluster (exit 0: none, 1: differences, 2: error).
    Diff(DiffArgs),
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
    #[arg(value_name = "SOURCE", default_value = ".")]
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
}
