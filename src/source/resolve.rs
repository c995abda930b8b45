//! From "where the manifests are" (a local path, a git repository at a
//! revision, or an Argo CD Application) to a [`LocalSource`] plus the render
//! settings that go with it. The first stage of every source-taking command.

use std::path::{Path, PathBuf};

use super::LocalSource;
use super::app::{self, Application};
use super::git::{self, Cache, Checkout, GitSpec, RepoUrl};
use crate::error::{Error, Result};
use crate::render::RenderOptions;

/// Where the manifests come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRequest {
    /// A local directory or file, read as it is (uncommitted changes included).
    Local(PathBuf),
    /// A git repository at a revision.
    Git(GitSpec),
    /// An Application in a file or directory of Application files.
    App {
        file: PathBuf,
        /// Which Application (needed when there are several).
        name: Option<String>,
        /// Overrides `spec.source.targetRevision`.
        revision: Option<String>,
        offline: bool,
    },
}

/// Facts about the source that renderers may expose (Argo CD's build
/// environment: `ARGOCD_APP_*`) and that reports record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildEnv {
    pub app_name: Option<String>,
    /// The destination namespace.
    pub app_namespace: Option<String>,
    pub project: Option<String>,
    /// The repository URL, credentials redacted.
    pub repo_url: Option<String>,
    /// The revision as asked for (branch, tag, ...).
    pub target_revision: Option<String>,
    /// The resolved commit SHA.
    pub revision: Option<String>,
    /// The path inside the repository.
    pub path: Option<String>,
}

impl BuildEnv {
    /// The `ARGOCD_APP_*` variables Argo CD sets for plugins and Helm, for the fields that are known.
    pub fn argocd_vars(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        let mut add = |k: &'static str, val: &Option<String>| {
            if let Some(val) = val {
                v.push((k, val.clone()));
            }
        };
        add("ARGOCD_APP_NAME", &self.app_name);
        add("ARGOCD_APP_NAMESPACE", &self.app_namespace);
        add("ARGOCD_APP_PROJECT_NAME", &self.project);
        add("ARGOCD_APP_REVISION", &self.revision);
        add("ARGOCD_APP_REVISION_SHORT", &self.revision.as_ref().map(|r| r.chars().take(7).collect()));
        add("ARGOCD_APP_REVISION_SHORT_8", &self.revision.as_ref().map(|r| r.chars().take(8).collect()));
        add("ARGOCD_APP_SOURCE_REPO_URL", &self.repo_url);
        add("ARGOCD_APP_SOURCE_PATH", &self.path);
        add("ARGOCD_APP_SOURCE_TARGET_REVISION", &self.target_revision);
        v
    }
}

/// A source ready to render.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub source: LocalSource,
    pub options: RenderOptions,
    /// The namespace for namespaced objects that set none (an Application's destination namespace).
    pub default_namespace: Option<String>,
    pub app: Option<Application>,
    pub checkout: Option<Checkout>,
}

/// Resolve `req`. `base` holds the settings from flags; an Application's
/// tool blocks override them. `cache` defaults to [`Cache::from_env`].
pub fn resolve(req: &SourceRequest, base: RenderOptions, cache: Option<&Cache>) -> Result<Resolved> {
    let cache = || cache.cloned().map_or_else(Cache::from_env, Ok);
    match req {
        SourceRequest::Local(path) => Ok(Resolved {
            source: LocalSource::open(path)?,
            options: base,
            default_namespace: None,
            app: None,
            checkout: None,
        }),
        SourceRequest::Git(spec) => {
            let co = git::checkout(spec, &cache()?)?;
            let mut options = base;
            options.build = build_env(&co, None);
            Ok(Resolved { source: co.source.clone(), options, default_namespace: None, app: None, checkout: Some(co) })
        }
        SourceRequest::App { file, name, revision, offline } => {
            let app = app::select(app::load(file)?, name.as_deref(), file)?;
            let spec = git_spec(&app, file, revision.as_deref(), *offline)?;
            let co = git::checkout(&spec, &cache()?)?;
            let src = app.source.as_ref().expect("checked by git_spec");
            let app_error = |m: String| Error::Source { path: PathBuf::from(&app.file), message: m };
            let tool = src.tool(co.source.path()).map_err(|m| app_error(format!("spec.source: {m}")))?;
            let Some(tool) = tool else {
                return Err(app_error("config management plugins (spec.source.plugin) are not supported yet".into()));
            };
            let mut options = base;
            options.tool = Some(tool);
            if src.directory.is_some() {
                options.directory = src.directory_options();
            }
            options.build = build_env(&co, Some(&app));
            let default_namespace = app.destination.namespace.clone().filter(|n| !n.is_empty());
            Ok(Resolved { source: co.source.clone(), options, default_namespace, app: Some(app), checkout: Some(co) })
        }
    }
}

/// The git checkout an Application's source asks for. A relative local
/// `repoURL` is taken relative to the Application file's directory.
pub fn git_spec(app: &Application, file: &Path, revision: Option<&str>, offline: bool) -> Result<GitSpec> {
    let app_error = |m: &str| Error::Source { path: PathBuf::from(&app.file), message: m.to_string() };
    let src = match (&app.source, app.sources.len()) {
        (Some(s), _) => s,
        (None, _) => {
            return Err(app_error("spec.sources (multi-source Applications) is not supported yet; use spec.source"));
        }
    };
    if let Some(chart) = &src.chart {
        return Err(app_error(&format!(
            "spec.source.chart ({chart:?}): Helm repositories are not supported yet; point repoURL at a git repository"
        )));
    }
    let mut repo = src.repo_url.clone();
    if let Ok(url) = RepoUrl::parse(&repo)
        && let Some(local) = url.local_path
        && local.is_relative()
    {
        let base = if file.is_dir() { file } else { file.parent().unwrap_or(Path::new(".")) };
        repo = base.join(local).to_string_lossy().into_owned();
    }
    Ok(GitSpec {
        repo,
        revision: revision.map_or_else(|| src.target_revision.clone(), String::from),
        path: PathBuf::from(&src.path),
        offline,
    })
}

fn build_env(co: &Checkout, app: Option<&Application>) -> BuildEnv {
    BuildEnv {
        app_name: app.map(|a| a.name.clone()),
        app_namespace: app.and_then(|a| a.destination.namespace.clone()),
        project: app.map(|a| a.project.clone()),
        repo_url: Some(co.repo.clone()),
        target_revision: Some(co.revision.clone()),
        revision: Some(co.commit.clone()),
        path: Some(if co.path.is_empty() { ".".into() } else { co.path.clone() }),
    }
}

/// Rows for `apps`: each Application with its tool and resolved commit.
/// Sources are resolved (each repository fetched once) to detect the tool;
/// a source that cannot be resolved gets a warning and the tool its block
/// names, or `unknown`.
pub fn app_rows(apps: Vec<Application>, file: &Path, offline: bool, cache: Option<&Cache>) -> Vec<app::AppRow> {
    let cache = cache.cloned().map_or_else(Cache::from_env, Ok);
    let mut fetched: Vec<String> = Vec::new();
    apps.into_iter()
        .map(|a| {
            let resolved = git_spec(&a, file, None, offline).and_then(|mut spec| {
                spec.offline |= fetched.contains(&spec.repo);
                fetched.push(spec.repo.clone());
                git::checkout(&spec, cache.as_ref().map_err(|e| Error::Usage(e.to_string()))?)
            });
            let src = a.source.clone().or_else(|| a.sources.first().cloned()).unwrap_or_default();
            match resolved {
                Ok(co) => app::AppRow { tool: src.tool_name(Some(co.source.path())), commit: Some(co.commit), app: a },
                Err(e) => {
                    tracing::warn!("Application {}: {e}", a.name);
                    app::AppRow { tool: src.tool_name(None), commit: None, app: a }
                }
            }
        })
        .collect()
}
