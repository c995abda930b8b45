//! From "where the manifests are" (a local path, a git repository at a
//! revision, or an Argo CD Application) to a [`LocalSource`] plus the render
//! settings that go with it. The first stage of every source-taking command.

use std::path::{Path, PathBuf};

use super::LocalSource;
use super::app::{self, AppSource, Application};
use super::chartrepo::{self, ChartRef, FetchedChart, Fetcher};
use super::git::{self, Cache, Checkout, GitSpec, RepoUrl};
use super::helm_values;
use crate::error::{Error, Result};
use crate::history::HistorySource;
use crate::model::Object;
use crate::render::{JsonnetVar, RenderOptions, Tool, detect};

/// Where the manifests come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRequest {
    /// A local directory or file, read as it is (uncommitted changes
    /// included); `root` is `--root` (see [`LocalSource::open_in`]).
    Local { path: PathBuf, root: Option<PathBuf> },
    /// A git repository at a revision.
    Git(GitSpec),
    /// A chart in a Helm repository or an OCI registry (fetched with the
    /// render options' [`RenderOptions::repos`]).
    Chart(ChartRef),
    /// An Application in a file or directory of Application files.
    App {
        file: PathBuf,
        /// Which Application (needed when there are several).
        name: Option<String>,
        /// Overrides `spec.source.targetRevision`.
        revision: Option<String>,
        offline: bool,
        /// Snapshot limits and token hosts for every source of the Application.
        git: git::GitOptions,
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
    /// A multi-source Application's reference sources: `ref` name -> the
    /// root of that source's checkout (for `$name/...` value files).
    pub refs: std::collections::BTreeMap<String, PathBuf>,
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

/// One source ready to render.
#[derive(Debug, Clone)]
pub struct ResolvedPart {
    pub source: LocalSource,
    pub options: RenderOptions,
    pub checkout: Option<Checkout>,
    /// The chart archive, for a chart from a repository.
    pub chart: Option<FetchedChart>,
}

/// A resolved request: one part, or one per rendered source of a
/// multi-source Application (rendered in order; where two sources produce
/// the same object, the later one wins, as in Argo CD).
#[derive(Debug, Clone)]
pub struct Resolved {
    pub parts: Vec<ResolvedPart>,
    /// The namespace for namespaced objects that set none (an Application's destination namespace).
    pub default_namespace: Option<String>,
    pub app: Option<Application>,
}

/// Resolve `req`. `base` holds the settings from flags; an Application's
/// tool blocks override them. `cache` defaults to [`Cache::from_env`].
pub fn resolve(req: &SourceRequest, base: RenderOptions, cache: Option<&Cache>) -> Result<Resolved> {
    let cache = cache.cloned().map_or_else(Cache::from_env, Ok);
    let mut repos = base.repos.clone();
    if let SourceRequest::App { offline: true, .. } = req {
        repos.offline = true;
    }
    // One fetcher (and one HTTP client) for every chart of the request.
    let fetcher = std::cell::OnceCell::new();
    let fetcher = || -> Result<&Fetcher> {
        if let Some(f) = fetcher.get() {
            return Ok(f);
        }
        let f = Fetcher::new(&repos, cache.as_ref().map_err(|e| Error::Usage(e.to_string()))?)?;
        Ok(fetcher.get_or_init(|| f))
    };
    let mut resolved = resolve_parts(req, base, cache.as_ref().ok(), &fetcher)?;
    for part in &mut resolved.parts {
        let tool = part.options.tool.unwrap_or_else(|| detect(part.source.path()));
        let plugin = part.options.plugins.force.is_some() || part.options.plugins.discover;
        if tool == Tool::Helm && !plugin && part.chart.is_none() && part.source.dir().join("Chart.yaml").is_file() {
            let found = chartrepo::deps::build_dependencies(&part.source, &fetcher)?;
            part.options.chart.dependencies = found.charts;
            part.options.chart.dependency_failures = found.failures;
        }
    }
    Ok(resolved)
}

fn resolve_parts<'f>(
    req: &SourceRequest,
    base: RenderOptions,
    cache: Option<&Cache>,
    fetcher: &dyn Fn() -> Result<&'f Fetcher>,
) -> Result<Resolved> {
    let cache = || cache.cloned().map_or_else(Cache::from_env, Ok);
    match req {
        SourceRequest::Local { path, root } => Ok(Resolved {
            parts: vec![ResolvedPart {
                source: LocalSource::open_in(path, root.as_deref(), base.cwd().ok().as_deref())?,
                options: base,
                checkout: None,
                chart: None,
            }],
            default_namespace: None,
            app: None,
        }),
        SourceRequest::Chart(chart) => {
            let fetched = fetcher()?.fetch(chart)?;
            let mut options = base;
            options.tool = Some(Tool::Helm);
            options.build = chart_build_env(chart, &fetched, None);
            Ok(Resolved {
                parts: vec![ResolvedPart {
                    source: chart_source(&fetched)?,
                    options,
                    checkout: None,
                    chart: Some(fetched),
                }],
                default_namespace: None,
                app: None,
            })
        }
        SourceRequest::Git(spec) => {
            let co = git::checkout(spec, &cache()?)?;
            let mut options = base;
            options.build = build_env(&co, None);
            Ok(Resolved {
                parts: vec![ResolvedPart { source: co.source.clone(), options, checkout: Some(co), chart: None }],
                default_namespace: None,
                app: None,
            })
        }
        SourceRequest::App { file, name, revision, offline, git } => {
            let app = app::select(app::load(file)?, name.as_deref(), file)?;
            let cache = cache()?;
            let sources: Vec<&AppSource> = match &app.source {
                // Argo CD ignores `source` when `sources` is set.
                Some(s) if app.sources.is_empty() => vec![s],
                _ => app.sources.iter().collect(),
            };
            if sources.len() > 1 && revision.is_some() {
                return Err(Error::Usage("--revision applies to single-source Applications only".into()));
            }
            // Reference sources (`ref` without a path) only lend their files to the others.
            let mut refs = std::collections::BTreeMap::new();
            for src in sources.iter().filter(|s| s.reference.is_some()) {
                let co = git::checkout(&git_spec(&app, src, file, None, *offline, git)?, &cache)?;
                refs.insert(src.reference.clone().expect("filtered"), co.source.root().to_path_buf());
            }
            let mut parts = Vec::new();
            for (i, src) in sources.iter().enumerate() {
                if src.reference.is_some() && src.path.is_empty() && src.chart.is_none() {
                    continue;
                }
                let field =
                    if app.sources.is_empty() { "spec.source".to_string() } else { format!("spec.sources[{i}]") };
                let app_error =
                    |m: String| Error::Source { path: PathBuf::from(&app.file), message: format!("{field}: {m}") };
                if let Some(name) = &src.chart {
                    let chart = ChartRef {
                        repo: src.repo_url.clone(),
                        chart: name.clone(),
                        version: revision.clone().unwrap_or_else(|| src.target_revision.clone()),
                    };
                    let fetched = fetcher()?.fetch(&chart)?;
                    let source = chart_source(&fetched)?;
                    let mut options = base.clone();
                    options.tool = Some(Tool::Helm);
                    options.build = chart_build_env(&chart, &fetched, Some(&app));
                    options.build.refs = refs.clone();
                    let spec = src.helm.clone().unwrap_or_default();
                    helm_values::apply_helm(&mut options, &spec, &source, Some(&fetched), &app, &refs, &cache)
                        .map_err(|e| match e {
                            Error::PathEscape { .. } => e,
                            other => app_error(format!("helm: {other}")),
                        })?;
                    parts.push(ResolvedPart { source, options, checkout: None, chart: Some(fetched) });
                    continue;
                }
                let co = git::checkout(&git_spec(&app, src, file, revision.as_deref(), *offline, git)?, &cache)?;
                // `.argocd-source.yaml` and `.argocd-source-<app>.yaml` in the source directory.
                let (merged, applied) = app::apply_overrides(src, &app.name, &co.source)?;
                for f in &applied {
                    tracing::debug!("{field}: parameter overrides from {}", co.source.display_path(f));
                }
                let src = &merged;
                // `None`: a config management plugin renders it.
                let tool = src.tool(co.source.path()).map_err(&app_error)?;
                let mut options = base.clone();
                options.tool = tool;
                options.build = build_env(&co, Some(&app));
                options.build.refs = refs.clone();
                if let Some(plugin) = &src.plugin {
                    let env = options.build.argocd_vars();
                    // Without a name, the plugins' discover rules choose (as Argo CD does).
                    match plugin.name.clone() {
                        Some(name) => options.plugins.force = Some(name),
                        None => options.plugins.discover = true,
                    }
                    options
                        .plugins
                        .raw_env
                        .extend(plugin.plugin_env().into_iter().filter(|(k, _)| !k.starts_with("ARGOCD_ENV_")));
                    // Plugins see the release name and namespace as ARGOCD_APP_NAME/NAMESPACE.
                    options.chart.release_name.get_or_insert_with(|| app.name.clone());
                    if options.chart.namespace.is_none() {
                        options.chart.namespace = app.destination.namespace.clone().filter(|n| !n.is_empty());
                    }
                    options.plugins.env.extend(plugin.env.iter().map(|(k, v)| (k.clone(), envsubst(v, &env))));
                }
                let mut source = co.source.clone();
                if let Some(k) = src.kustomize.as_ref().filter(|k| k.has_edits()) {
                    source = edited_snapshot(&co.source, k).map_err(|e| match e {
                        Error::Usage(m) => app_error(format!("kustomize: {m}")),
                        other => other,
                    })?;
                }
                if tool == Some(Tool::Helm) {
                    let spec = src.helm.clone().unwrap_or_default();
                    helm_values::apply_helm(&mut options, &spec, &co.source, None, &app, &refs, &cache).map_err(
                        |e| match e {
                            Error::PathEscape { .. } => e,
                            other => app_error(format!("helm: {other}")),
                        },
                    )?;
                }
                if let Some(dir) = &src.directory {
                    options.directory = src.directory_options();
                    apply_jsonnet(&mut options, &dir.jsonnet, &co.source).map_err(|e| match e {
                        Error::PathEscape { .. } => e,
                        other => app_error(format!("directory.jsonnet: {other}")),
                    })?;
                }
                parts.push(ResolvedPart { source, options, checkout: Some(co), chart: None });
            }
            if parts.is_empty() {
                return Err(Error::Source {
                    path: PathBuf::from(&app.file),
                    message: "spec.sources: only reference sources (ref without path); nothing to render".into(),
                });
            }
            let default_namespace = app.destination.namespace.clone().filter(|n| !n.is_empty());
            Ok(Resolved { parts, default_namespace, app: Some(app) })
        }
    }
}

/// The git checkout one source of an Application asks for. A relative local
/// `repoURL` is taken relative to the Application file's directory.
pub fn git_spec(
    app: &Application,
    src: &AppSource,
    file: &Path,
    revision: Option<&str>,
    offline: bool,
    options: &git::GitOptions,
) -> Result<GitSpec> {
    if let Some(chart) = &src.chart {
        return Err(Error::Source {
            path: PathBuf::from(&app.file),
            message: format!(
                "chart {chart:?}: a chart source is not a git repository (only git sources can be `ref` sources)"
            ),
        });
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
        options: options.clone(),
    })
}

/// A copy of a snapshot whose kustomization (in the source directory) has
/// the Application's `kustomize` block applied, as Argo CD's `kustomize edit`
/// calls change its checkout. The copy hard-links every other file, sits
/// next to the snapshot (`<sha>-k<hash of the edit>`), appears atomically and
/// is reused.
fn edited_snapshot(src: &LocalSource, spec: &app::KustomizeSpec) -> Result<LocalSource> {
    let root = src.root();
    let dir = src.dir();
    let name = crate::render::KUSTOMIZATION_FILES
        .iter()
        .find(|f| dir.join(f).is_file())
        .ok_or_else(|| Error::Usage(format!("no kustomization file in {}", src.display_path(dir))))?;
    let file = dir.join(name);
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
    let label = src.display_path(&file);
    let mut doc = crate::yaml::parse_one(&text, crate::yaml::Dialect::Kustomize)
        .map_err(|source| Error::Yaml { file: label.clone(), source })?;
    let serde_json::Value::Object(map) = &mut doc else {
        return Err(Error::Usage(format!("{label} is not a mapping")));
    };
    spec.edit_kustomization(map).map_err(Error::Usage)?;
    let edited = crate::yaml::to_yaml_string(&doc);
    let rel = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
    let key = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{}\0{edited}", rel.display()).as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>()
    };
    let base = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let target = root.with_file_name(format!("{base}-k{key}"));
    if !target.is_dir() {
        let tmp = root.with_file_name(format!(".tmp-{base}-k{key}-{}", std::process::id()));
        let made = link_tree(root, &tmp).and_then(|_| {
            let out = tmp.join(&rel);
            std::fs::remove_file(&out).map_err(|e| Error::io(&out, e))?;
            std::fs::write(&out, &edited).map_err(|e| Error::io(&out, e))
        });
        if let Err(e) = made {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        if std::fs::rename(&tmp, &target).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    let path = src.path().strip_prefix(root).unwrap_or(Path::new(""));
    LocalSource::with_root(&target, &target.join(path))
}

/// Recreate the tree at `from` under `to`: directories, hard-linked (else
/// copied) files, symlinks with their targets.
fn link_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(from).follow_links(false) {
        let entry = entry.map_err(|e| Error::Source { path: from.to_path_buf(), message: e.to_string() })?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let out = to.join(rel);
        let ft = entry.file_type();
        let done = if ft.is_dir() {
            std::fs::create_dir_all(&out)
        } else if ft.is_symlink() {
            std::fs::read_link(entry.path()).and_then(|t| std::os::unix::fs::symlink(t, &out))
        } else {
            std::fs::hard_link(entry.path(), &out).or_else(|_| std::fs::copy(entry.path(), &out).map(|_| ()))
        };
        done.map_err(|e| Error::io(&out, e))?;
    }
    Ok(())
}

/// `directory.jsonnet` onto the Jsonnet renderer's options, after the
/// flags' own: values have the build environment substituted (`$ARGOCD_APP_NAME`,
/// as Argo CD does), `libs` are directories of the repository (relative to its
/// root, and they must stay inside it).
fn apply_jsonnet(options: &mut RenderOptions, spec: &app::JsonnetSpec, src: &LocalSource) -> Result<()> {
    let env = options.build.argocd_vars();
    let var = |v: &app::JsonnetVar| JsonnetVar::new(&v.name, &envsubst(&v.value, &env), v.code, false);
    options.jsonnet.ext_vars.extend(spec.ext_vars.iter().map(var));
    options.jsonnet.tlas.extend(spec.tlas.iter().map(var));
    let root = LocalSource::with_root(src.root(), src.root())?;
    for lib in &spec.libs {
        let dir = root.confine(&src.root().join(lib.trim_start_matches('/')))?;
        options.jsonnet.jpath.push(dir);
    }
    Ok(())
}

/// Substitute `$NAME` and `${NAME}` from `vars` as Argo CD does (Go's
/// `os.Expand`): unknown names become empty, `$$` is a `$`, a `$` not
/// followed by a name stays.
pub fn envsubst(s: &str, vars: &[(&str, String)]) -> String {
    let lookup = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let special = |c: char| "*#$@!?-".contains(c) || c.is_ascii_digit();
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(first) = after.chars().next() else {
            out.push('$');
            rest = after;
            break;
        };
        if first == '{' {
            match after.find('}') {
                Some(end) if end > 1 => {
                    out.push_str(&lookup(&after[1..end]));
                    rest = &after[end + 1..];
                }
                // `${}` or an unclosed `${`: invalid syntax, the characters are eaten.
                Some(end) => rest = &after[end + 1..],
                None => rest = &after[1..],
            }
        } else if first == '$' {
            out.push('$');
            rest = &after[1..];
        } else if special(first) {
            out.push_str(&lookup(&after[..1]));
            rest = &after[1..];
        } else {
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(&lookup(&after[..len]));
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    out
}

/// A fetched chart as a source: the archive in the cache.
fn chart_source(fetched: &FetchedChart) -> Result<LocalSource> {
    let dir = fetched.path.parent().unwrap_or(Path::new("/"));
    LocalSource::with_root(dir, &fetched.path)
}

/// Argo CD's build environment of a chart source: the repository, the
/// version asked for, the version picked as the revision, no path.
fn chart_build_env(chart: &ChartRef, fetched: &FetchedChart, app: Option<&Application>) -> BuildEnv {
    BuildEnv {
        app_name: app.map(|a| a.name.clone()),
        app_namespace: app.and_then(|a| a.destination.namespace.clone()),
        project: app.map(|a| a.project.clone()),
        repo_url: Some(fetched.repo.clone()),
        target_revision: Some(chart.version.clone()),
        revision: Some(fetched.version.clone()),
        path: None,
        refs: Default::default(),
    }
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
        refs: Default::default(),
    }
}

/// Rows for `apps`: each Application with its tool, resolved commit and
/// kubeconfig context. Sources are resolved (each repository fetched once)
/// to detect the tool; a source that cannot be resolved gets a warning and
/// the tool its block names, or `unknown`. Destinations are matched against
/// the kubeconfig when there is one.
pub fn app_rows(apps: Vec<Application>, file: &Path, offline: bool, cache: Option<&Cache>) -> Vec<app::AppRow> {
    let cache = cache.cloned().map_or_else(Cache::from_env, Ok);
    let kubeconfig = kube::config::Kubeconfig::read().ok();
    let options = git::GitOptions::from_env();
    let mut fetched: Vec<String> = Vec::new();
    apps.into_iter()
        .map(|a| {
            let src = a
                .source
                .clone()
                .or_else(|| a.sources.iter().find(|s| s.reference.is_none() || !s.path.is_empty()).cloned())
                .unwrap_or_default();
            let resolved = git_spec(&a, &src, file, None, offline, &options).and_then(|mut spec| {
                spec.offline |= fetched.contains(&spec.repo);
                fetched.push(spec.repo.clone());
                git::checkout(&spec, cache.as_ref().map_err(|e| Error::Usage(e.to_string()))?)
            });
            let context = match app::resolve_destination(&a.destination, kubeconfig.as_ref()) {
                Ok(d) => Some(d.context.unwrap_or_else(|| "in-cluster".into())),
                Err(e) if kubeconfig.is_some() => {
                    tracing::warn!("Application {}: {e}", a.name);
                    None
                }
                Err(_) => None,
            };
            let (tool, commit) = match resolved {
                // A chart from a repository: fetched when rendered, not to list it.
                _ if src.chart.is_some() => ("Helm".to_string(), None),
                Ok(co) => (src.tool_name(Some(co.source.path())), Some(co.commit)),
                Err(e) => {
                    tracing::warn!("Application {}: {e}", a.name);
                    (src.tool_name(None), None)
                }
            };
            app::AppRow { tool, commit, context, app: a }
        })
        .collect()
}

/// Add the objects of the next source of a multi-source Application: an
/// object that an earlier source also produced is replaced (the later source
/// wins, with a warning, as Argo CD's RepeatedResourceWarning). Duplicates
/// within one source are left for normalization to report.
pub fn merge_source_objects(acc: &mut Vec<Object>, next: Vec<Object>) {
    if acc.is_empty() {
        *acc = next;
        return;
    }
    let keys: std::collections::HashSet<_> = next.iter().map(Object::key).collect();
    acc.retain(|o| {
        let repeated = keys.contains(&o.key());
        if repeated {
            tracing::warn!("{} is produced by several sources; the later one wins", o.key());
        }
        !repeated
    });
    acc.extend(next);
}

impl ResolvedPart {
    /// What sync history records about this source. For a local directory
    /// `repo_url` is its path and `revision` is left empty (the caller
    /// records a hash of the rendered set instead).
    pub fn history_source(&self) -> HistorySource {
        let tool = self.options.tool.unwrap_or_else(|| detect(self.source.path())).name().to_string();
        if let Some(chart) = &self.chart {
            // As Argo CD records a chart source: the repository, the chart, its version.
            return HistorySource {
                repo_url: chart.repo.clone(),
                path: String::new(),
                target_revision: self.options.build.target_revision.clone().unwrap_or_default(),
                revision: chart.version.clone(),
                tool,
                render: crate::history::RenderRecord { chart: Some(chart.name.clone()), ..Default::default() },
            };
        }
        match &self.checkout {
            Some(co) => HistorySource {
                repo_url: co.repo.clone(),
                path: co.path.clone(),
                target_revision: co.revision.clone(),
                revision: co.commit.clone(),
                tool,
                render: Default::default(),
            },
            None => HistorySource { repo_url: self.source.path().display().to_string(), tool, ..Default::default() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::envsubst;

    #[test]
    fn envsubst_expands_like_go_os_expand() {
        let vars = vec![("ARGOCD_APP_NAME", "web".to_string()), ("A", "1".to_string())];
        assert_eq!(envsubst("app-$ARGOCD_APP_NAME", &vars), "app-web");
        assert_eq!(envsubst("${ARGOCD_APP_NAME}-x", &vars), "web-x");
        assert_eq!(envsubst("$UNKNOWN.$A", &vars), ".1");
        assert_eq!(envsubst("cost $$5", &vars), "cost $5");
        assert_eq!(envsubst("a $ b $", &vars), "a $ b $");
        assert_eq!(envsubst("bad ${} and ${A", &vars), "bad  and A");
        assert_eq!(envsubst("no vars", &vars), "no vars");
    }
}
