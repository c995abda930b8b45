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
