//! Rendering: a source directory in, unnormalized objects out.
//!
//! [`detect`] decides which tool a directory needs, in Argo CD's order
//! (kustomization, chart, jsonnet, plain directory); [`render`] runs it.
//! Renderers are synchronous and do no network I/O.

pub mod chart;
mod decode;
mod jsonnet;
pub mod kustomize;
pub mod limits;
mod plain;
pub mod plugin;

pub use decode::{DocumentText, Manifest, decode_documents, decode_each, decode_manifests, push_manifest};
pub use jsonnet::{JsonnetOptions, JsonnetVar, evaluate_to_json, render_jsonnet};
pub use plain::render_plain;

use std::path::Path;

use crate::error::{Error, Result};
use crate::model::Object;
use crate::source::{BuildEnv, DirectoryOptions, LocalSource};

/// The tool a source directory is rendered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Kustomize,
    Helm,
    Jsonnet,
    Directory,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Kustomize => "Kustomize",
            Tool::Helm => "Helm",
            Tool::Jsonnet => "Jsonnet",
            Tool::Directory => "Directory",
        }
    }
}

/// File names that make a directory a kustomization, in kustomize's order.
pub const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Which tool renders `dir`, following Argo CD's detection order.
pub fn detect(dir: &Path) -> Tool {
    if dir.is_file() && dir.extension().is_some_and(|e| e == "tgz") {
        return Tool::Helm;
    }
    if !dir.is_dir() {
        return Tool::Directory;
    }
    if KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file()) {
        return Tool::Kustomize;
    }
    if dir.join("Chart.yaml").is_file() {
        return Tool::Helm;
    }
    let has_jsonnet = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".jsonnet")))
        .unwrap_or(false);
    if has_jsonnet {
        return Tool::Jsonnet;
    }
    Tool::Directory
}

/// Settings for every renderer (each renderer reads its own part).
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    pub directory: DirectoryOptions,
    /// The tool to use instead of [`detect`]'s choice (an Application's explicit block).
    pub tool: Option<Tool>,
    /// Facts about the source (app name, repo, resolved commit) for renderers that expose them.
    pub build: BuildEnv,
    /// Chart settings (release, values, capabilities).
    pub chart: chart::ChartOptions,
    /// Render plugins (where to find them, how they run).
    pub plugins: plugin::PluginOptions,
    /// Where relative values files and `--set-file` paths are read from (default: the process's).
    pub cwd: Option<std::path::PathBuf>,
    pub jsonnet: JsonnetOptions,
    /// Time, output and nesting limits of each render.
    pub limits: limits::Limits,
    /// How charts and chart dependencies are fetched (the source stage
    /// fetches them; renderers only read the cache).
    pub repos: crate::source::chartrepo::RepoOptions,
}

/// Render a local source with the tool [`detect`] picks.
pub fn render(src: &LocalSource, opts: &RenderOptions) -> Result<Vec<Object>> {
    let budget = limits::Budget::start(&opts.limits);
    if opts.plugins.force.is_some() || opts.plugins.discover {
        return chart::render_with_plugin(src, opts, &budget);
    }
    let mut tool = match opts.tool {
        Some(tool) => tool,
        None if jsonnet::is_forced(src, &opts.jsonnet) => Tool::Jsonnet,
        None => detect(src.path()),
    };
    if tool == Tool::Directory && jsonnet::has_nested_jsonnet(src, &opts.directory)? {
        tool = Tool::Jsonnet;
    }
    // Argo CD's order: kustomization, chart, jsonnet, then plugins' discover
    // rules, then a plain directory (an explicit `directory` block skips plugins).
    if tool == Tool::Directory && opts.tool.is_none() && plugin::find_plugin(src, &opts.plugins)?.is_some() {
        return chart::render_with_plugin(src, opts, &budget);
    }
    match tool {
        Tool::Directory => render_plain(src, &opts.directory, &budget),
        Tool::Kustomize => kustomize::render_kustomize(src, &budget),
        Tool::Jsonnet => render_jsonnet(src, &opts.directory, &opts.jsonnet, &budget),
        Tool::Helm => chart::render_chart(src, opts, &budget),
    }
}

impl RenderOptions {
    /// The directory relative value paths are read from.
    pub fn cwd(&self) -> Result<std::path::PathBuf> {
        match &self.cwd {
            Some(c) => Ok(c.clone()),
            None => std::env::current_dir().map_err(|e| Error::io(".", e)),
        }
    }
}
