//! Helm charts rendered natively: Go-template charts (helm's own syntax)
//! with our Go `text/template` engine ([`gotmpl_engine`], identical to
//! `helm template`), and charts whose templates are Jinja with minijinja
//! ([`engine`]).
//!
//! Pipeline: [`load::load_chart`] reads the chart tree, [`values`] builds
//! `.Values` exactly as helm does (user values, dependencies, coalescing),
//! [`schema`] validates them, the engine renders every template with helm's
//! built-in objects, and the output is decoded like `helm template`'s.
//!
//! A chart is a Jinja chart when its `Chart.yaml` has the annotation
//! `kubectl-gitops.io/template-engine: jinja`, or, without that annotation,
//! when one of its templates ends in `.j2`. Any other chart with templates
//! is a Go-template chart; a chart without templates of its own is a Jinja
//! chart only when one of its subcharts is. The helm plugin (`plugins/helm.yaml`) renders a
//! chart only when asked for (`--plugin helm`).

pub mod archive;
pub mod deps;
pub mod engine;
pub mod funcs;
pub mod gobglob;
pub mod gotmpl_engine;
pub mod gotmpl_objects;
pub mod ignore;
pub mod jinja_compat;
pub mod load;
pub mod schema;
pub use crate::semver;
pub mod strvals;
pub mod values;

use std::path::Path;

use super::DocumentText;
use super::decode::decode_manifests;
use super::limits::Budget;
use super::{RenderOptions, plugin};
use crate::error::{Error, Result};
use crate::model::Object;
use crate::source::LocalSource;
use crate::yaml::Dialect;
use load::Chart;
use values::{ValueOptions, Values};

/// The top chart's `.Values` for the user's values, as `helm template`
/// computes them; also applies the dependencies' conditions, tags, aliases
/// and import-values to `chart`. Relative paths in `opts` are taken from `cwd`.
pub fn chart_values(chart: &mut Chart, opts: &ValueOptions, cwd: &Path) -> Result<Values> {
    let user = values::user_values(opts, cwd).map_err(Error::Usage)?;
    let dir = chart.dir.clone();
    let chart_err = |message: String| Error::Chart { path: dir.clone(), message };
    values::process_dependencies(chart, &user).map_err(chart_err)?;
    values::coalesce_values(chart, &user).map_err(chart_err)
}

/// Settings for rendering a chart (the `helm template` flags we support).
#[derive(Debug, Clone, Default)]
pub struct ChartOptions {
    /// `--release-name` (helm's default: `release-name`).
    pub release_name: Option<String>,
    /// The release namespace (`--namespace`; default `default`).
    pub namespace: Option<String>,
    pub values: ValueOptions,
    /// `Capabilities.KubeVersion` (default [`engine::DEFAULT_KUBE_VERSION`]).
    pub kube_version: Option<String>,
    /// Extra `Capabilities.APIVersions`.
    pub api_versions: Vec<String>,
    /// Leave out the `crds/` files (included by default, as Argo CD runs
    /// `helm template --include-crds`).
    pub skip_crds: bool,
    /// Dependencies of the top chart that `charts/` does not hold, as the
    /// source stage resolved them (`helm dependency build`): added to the
    /// chart's subcharts when it is loaded.
    pub dependencies: Vec<ExtraChart>,
    /// Dependencies the source stage could not resolve: (name, why). A
    /// missing dependency that is enabled is an error that says why; a
    /// disabled one is only a warning, as for a dependency not vendored.
    pub dependency_failures: Vec<(String, String)>,
}

/// A dependency the source stage resolved for a chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraChart {
    /// A chart archive (fetched into the cache).
    Archive(std::path::PathBuf),
    /// A chart directory inside the source root (`file://`).
    Dir(std::path::PathBuf),
}

impl ChartOptions {
    fn settings(&self) -> engine::ReleaseSettings {
        let mut s = engine::ReleaseSettings::default();
        if let Some(n) = &self.release_name {
            s.name = n.clone();
        }
        if let Some(n) = &self.namespace {
            s.namespace = n.clone();
        }
        if let Some(v) = &self.kube_version {
            s.kube_version = if v.starts_with('v') { v.clone() } else { format!("v{v}") };
        }
        s.api_versions = self.api_versions.clone();
        s
    }
}

/// Render a Jinja chart like `helm template`: every template's documents,
/// empty ones dropped, each object's origin naming its template.
pub fn render_jinja_chart(chart: &Chart, values: &Values, opts: &ChartOptions, budget: &Budget) -> Result<Vec<Object>> {
    check_engines(chart)?;
    check_kube_version(chart, &opts.settings().kube_version)?;
    schema::validate_tree(chart, values)?;
    let start = std::time::Instant::now();
    let rendered = engine::render_tree(chart, values, &opts.settings(), budget)?;
    let rendered_at = start.elapsed();
    let mut out = Vec::new();
    for r in rendered {
        out.extend(decode_manifests(&r.text, &r.name, Dialect::Kubectl, budget)?);
    }
    tracing::debug!(
        "chart {}: templates rendered in {:?}, {} objects decoded in {:?}",
        chart.name(),
        rendered_at,
        out.len(),
        start.elapsed() - rendered_at
    );
    Ok(out)
}

/// Helm's rule for release names (`helm template NAME`): a DNS-1123
/// subdomain of at most 53 characters. Checked before any template or
/// plugin runs, so a name can never be read as a flag or a path.
pub fn validate_release_name(name: &str) -> std::result::Result<(), String> {
    if name.len() <= 53 && crate::model::is_dns1123_subdomain(name) {
        Ok(())
    } else {
        Err(format!(
            "release name {name:?}: invalid release name, must match regex \
             ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
        ))
    }
}

/// `kubeVersion` in `Chart.yaml` (any chart of the tree) must admit the target Kubernetes version.
fn check_kube_version(chart: &Chart, kube_version: &str) -> Result<()> {
    if let Some(range) = chart.meta.raw.get("kubeVersion").and_then(serde_json::Value::as_str)
        && !range.trim().is_empty()
    {
        let ok = semver::satisfies(range, kube_version)
            .map_err(|message| Error::Chart { path: chart.dir.join("Chart.yaml"), message })?;
        if !ok {
            return Err(Error::Chart {
                path: chart.dir.join("Chart.yaml"),
                message: format!(
                    "chart requires kubeVersion: {range} which is incompatible with Kubernetes {kube_version} (see --kube-version)"
                ),
            });
        }
    }
    chart.deps.iter().try_for_each(|d| check_kube_version(d, kube_version))
}

/// Every chart of the tree must be a Jinja chart (or have no templates), with unpacked subcharts.
fn check_engines(chart: &Chart) -> Result<()> {
    if let Some(p) = chart.packaged.first() {
        return Err(Error::Chart {
            path: p.clone(),
            message: "packaged subcharts of a Jinja chart are not supported; unpack it into charts/ as a directory"
                .into(),
        });
    }
    match chart.engine() {
        load::Engine::Jinja => {}
        load::Engine::Go if !chart.has_templates() => {}
        load::Engine::Go => {
            return Err(Error::Chart {
                path: chart.dir.clone(),
                message: format!(
                    "chart {:?} uses Go templates but is a subchart of a Jinja chart; a chart tree uses one \
                     template language (mark Jinja charts with the Chart.yaml annotation `{}: jinja`)",
                    chart.name(),
                    crate::keys::CHART_TEMPLATE_ENGINE
                ),
            });
        }
        load::Engine::Unknown => return Err(unknown_engine(chart)),
    }
    chart.deps.iter().try_for_each(check_engines)
}

fn unknown_engine(chart: &Chart) -> Error {
    Error::Chart {
        path: chart.dir.join("Chart.yaml"),
        message: format!("annotation `{}` must be `jinja` or `go`", crate::keys::CHART_TEMPLATE_ENGINE),
    }
}

/// Every subchart of a Go-template chart is read as Go templates (as helm
/// does), unless it declares another language.
fn check_go_engines(chart: &Chart) -> Result<()> {
    for dep in &chart.deps {
        let declared = dep
            .meta
            .raw
            .get("annotations")
            .and_then(|a| a.get(load::TEMPLATE_ENGINE_ANNOTATION))
            .and_then(serde_json::Value::as_str);
        match declared.map(str::to_ascii_lowercase).as_deref() {
            None | Some("go") => {}
            Some("jinja") => {
                return Err(Error::Chart {
                    path: dep.dir.clone(),
                    message: format!(
                        "chart {:?} is a Jinja chart but a subchart of the Go-template chart {:?}; a chart tree uses one template language",
                        dep.name(),
                        chart.name()
                    ),
                });
            }
            Some(_) => return Err(unknown_engine(dep)),
        }
        check_go_engines(dep)?;
    }
    Ok(())
}

/// Render a Go-template chart like `helm template`: every template's
/// documents in helm's order (files by name, then kinds in install order,
/// hooks last), each object's origin naming its template.
pub fn render_go_chart(chart: &Chart, values: &Values, opts: &ChartOptions, budget: &Budget) -> Result<Vec<Object>> {
    check_go_engines(chart)?;
    check_kube_version(chart, &opts.settings().kube_version)?;
    schema::validate_tree(chart, values)?;
    let start = std::time::Instant::now();
    let rendered = gotmpl_engine::render_go_tree(chart, values, &opts.settings(), budget)?;
    let rendered_at = start.elapsed();
    let mut texts = Vec::new();
    for r in &rendered {
        let file: std::sync::Arc<str> = std::sync::Arc::from(r.name.as_str());
        let docs = gotmpl_engine::split_manifests(&r.text);
        let json = docs.len() == 1;
        for (index, (text, line)) in docs.into_iter().enumerate() {
            texts.push(DocumentText { text, file: file.clone(), index, line, json });
        }
    }
    let out = crate::render::decode_each(&texts, Dialect::Kubectl, budget)?;
    tracing::debug!(
        "chart {}: Go templates rendered in {:?}, {} documents decoded in {:?}",
        chart.name(),
        rendered_at,
        out.len(),
        start.elapsed() - rendered_at
    );
    Ok(gotmpl_engine::order(out))
}

/// Render the chart at `src` natively: Go templates or Jinja (the helm
/// plugin only runs when `--plugin` names it, see [`render_with_plugin`]).
pub fn render_chart(src: &LocalSource, opts: &RenderOptions, budget: &Budget) -> Result<Vec<Object>> {
    let cwd = opts.cwd()?;
    validate_release_name(&opts.chart.settings().name).map_err(Error::Usage)?;
    let start = std::time::Instant::now();
    let mut chart = load_source_chart(src, &opts.chart.dependencies)?;
    tracing::debug!("chart {}: loaded in {:?}", chart.name(), start.elapsed());
    let engine = chart.engine();
    match engine {
        load::Engine::Jinja => check_engines(&chart)?,
        load::Engine::Go => check_go_engines(&chart)?,
        load::Engine::Unknown => return Err(unknown_engine(&chart)),
    }
    if chart.is_library() {
        return Err(Error::Chart {
            path: chart.dir.join("Chart.yaml"),
            message: "library charts are not installable: render a chart that depends on it".into(),
        });
    }
    let start = std::time::Instant::now();
    chart.fetch_failures = opts.chart.dependency_failures.clone();
    let values = chart_values(&mut chart, &opts.chart.values, &cwd)?;
    tracing::debug!("chart {}: values in {:?}", chart.name(), start.elapsed());
    // The CRDs are decoded on another thread while the templates render.
    let chart = &chart;
    let (crds, rendered) = std::thread::scope(|s| {
        let crds = (!opts.chart.skip_crds && has_crd_files(chart)).then(|| {
            s.spawn(move || {
                let start = std::time::Instant::now();
                let crds = chart_crds(chart, budget);
                tracing::debug!("chart {}: CRDs decoded in {:?}", chart.name(), start.elapsed());
                crds
            })
        });
        let rendered = if engine == load::Engine::Go {
            render_go_chart(chart, &values, &opts.chart, budget)
        } else {
            render_jinja_chart(chart, &values, &opts.chart, budget)
        };
        let crds = crds.map_or_else(|| Ok(Vec::new()), |h| h.join().expect("CRD decoding panicked"));
        (crds, rendered)
    });
    // a CRD's error first, as if they were decoded first
    let mut objects = crds?;
    objects.extend(rendered?);
    Ok(objects)
}

/// The chart of `src`: a chart directory, or a chart archive (`.tgz`, read
/// as helm's `LoadArchive`), with the dependencies the source stage resolved.
pub fn load_source_chart(src: &LocalSource, extra: &[ExtraChart]) -> Result<Chart> {
    let path = src.path();
    let mut chart = if path.is_file() {
        let real = src.confine(path)?;
        let bytes = std::fs::read(&real).map_err(|e| Error::io(&real, e))?;
        archive::load_archive(&bytes, path, &src.display_path(path))?
    } else {
        load::load_chart(src, src.dir())?
    };
    for dep in extra {
        let sub = match dep {
            ExtraChart::Archive(p) => {
                let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                chart.packaged.push(p.clone());
                archive::load_archive(&bytes, p, &format!("{}/charts/{name}", chart.display))?
            }
            ExtraChart::Dir(d) => load::load_chart(src, d)?,
        };
        chart.deps.push(sub);
    }
    Ok(chart)
}

/// The plain manifests under `crds/` of the chart and its enabled subcharts
/// (any depth, `*.yaml|*.yml|*.json`, not templated), as Helm's `CRDObjects`.
fn chart_crds(chart: &load::Chart, budget: &Budget) -> Result<Vec<Object>> {
    let mut files = Vec::new();
    crd_files(chart, &mut files)?;
    let texts: Vec<DocumentText<'_>> = files
        .iter()
        .map(|(label, text)| DocumentText {
            text,
            file: std::sync::Arc::from(label.as_str()),
            index: 0,
            line: 1,
            json: true,
        })
        .collect();
    let docs = crate::render::decode_each(&texts, Dialect::Kubectl, budget)?;
    Ok(docs.into_iter().flat_map(|d| d.objects).collect())
}

/// Does the chart or a subchart have CRD files?
fn has_crd_files(chart: &load::Chart) -> bool {
    chart.files.iter().any(|(rel, _)| is_crd_file(rel)) || chart.deps.iter().any(has_crd_files)
}

fn is_crd_file(rel: &str) -> bool {
    rel.starts_with("crds/") && [".yaml", ".yml", ".json"].iter().any(|e| rel.ends_with(e))
}

/// The CRD files of `chart` and its subcharts: their labels and texts.
fn crd_files<'a>(chart: &'a load::Chart, out: &mut Vec<(String, &'a str)>) -> Result<()> {
    for (rel, bytes) in chart.files.iter() {
        if is_crd_file(rel) {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| Error::Chart { path: chart.dir.join(rel), message: "not UTF-8 text".into() })?;
            out.push((format!("{}/{rel}", chart.display), text));
        }
    }
    chart.deps.iter().try_for_each(|dep| crd_files(dep, out))
}

/// Render any source with the plugin named by `--plugin`.
pub fn render_with_plugin(src: &LocalSource, opts: &RenderOptions, budget: &Budget) -> Result<Vec<Object>> {
    let cwd = opts.cwd()?;
    validate_release_name(&opts.chart.settings().name).map_err(Error::Usage)?;
    match plugin::find_plugin(src, &opts.plugins)? {
        Some(p) => p.render(src, &app_info(src, opts, &cwd), &opts.plugins, budget),
        None => Err(Error::Source {
            path: src.path().to_path_buf(),
            message: "no render plugin's discover rules match this source".into(),
        }),
    }
}

/// What a plugin learns about the release, and the chart flags for `helm template`.
fn app_info(src: &LocalSource, render_opts: &RenderOptions, cwd: &Path) -> plugin::AppInfo {
    let opts = &render_opts.chart;
    let settings = opts.settings();
    let v = &opts.values;
    let mut args = Vec::new();
    for f in &v.files {
        args.push("--values".to_string());
        args.push(cwd.join(f).display().to_string());
    }
    for (flag, list) in [
        ("--set-json", &v.set_json),
        ("--set", &v.set),
        ("--set-string", &v.set_string),
        ("--set-file", &v.set_file),
        ("--set-literal", &v.set_literal),
    ] {
        for item in list {
            args.push(flag.to_string());
            args.push(item.clone());
        }
    }
    if !opts.skip_crds {
        // Argo CD renders charts with `helm template --include-crds`.
        args.push("--include-crds".into());
    }
    if let Some(k) = &opts.kube_version {
        args.push("--kube-version".into());
        args.push(k.clone());
    }
    for a in &opts.api_versions {
        args.push("--api-versions".into());
        args.push(a.clone());
    }
    plugin::AppInfo {
        name: settings.name,
        namespace: settings.namespace,
        kube_version: settings.kube_version,
        api_versions: opts.api_versions.clone(),
        helm_args: args,
        cwd: cwd.to_path_buf(),
        source_dir: src.dir().to_path_buf(),
        build_vars: render_opts.build.argocd_vars().into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    }
}
