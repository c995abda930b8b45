//! Reading a chart directory: `Chart.yaml`, `values.yaml`,
//! `values.schema.json`, `templates/`, `charts/` (subcharts, unpacked or
//! packaged: [`super::archive`]) and
//! the remaining files (`.Files`), minus what `.helmignore` excludes.
//! Every file is read through [`LocalSource::confine`], so symlinks cannot
//! leave the source root.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::ignore::IgnoreRules;
use super::semver;
use super::values::{Values, load_values_yaml};
use crate::error::{Error, Result};
use crate::source::LocalSource;
use crate::yaml::{Dialect, parse_one};

/// The annotation in `Chart.yaml` that names a chart's template language:
/// `jinja` (minijinja) or `go` (helm's syntax, our own Go template engine); both render natively.
pub const TEMPLATE_ENGINE_ANNOTATION: &str = crate::keys::CHART_TEMPLATE_ENGINE;

/// Template files the renderer reads, by extension.
pub const TEMPLATE_EXTENSIONS: &[&str] = &["yaml", "yml", "tpl", "j2"];

/// A loaded chart and its subcharts.
#[derive(Debug, Clone)]
pub struct Chart {
    pub meta: Metadata,
    /// Canonical chart directory.
    pub dir: PathBuf,
    /// Path of the chart directory for messages (relative to the source root).
    pub display: String,
    pub values: Values,
    pub schema: Option<Arc<Value>>,
    pub templates: Arc<Vec<TemplateFile>>,
    /// Files outside `templates/` and `charts/`, for `.Files` (relative path, bytes).
    pub files: Arc<Vec<(String, Vec<u8>)>>,
    pub deps: Vec<Chart>,
    /// Packaged subcharts (`charts/*.tgz`), also loaded into `deps`: the
    /// Go-template renderer reads them, the Jinja one refuses them.
    pub packaged: Vec<PathBuf>,
    /// Dependencies that could not be fetched: (name, why), for the
    /// missing-dependency message.
    pub fetch_failures: Vec<(String, String)>,
}

/// One file under `templates/`.
#[derive(Debug, Clone)]
pub struct TemplateFile {
    /// Path relative to `templates/`, `/`-separated.
    pub rel: String,
    pub text: String,
}

/// `Chart.yaml`.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    /// The whole file, for `.Chart`.
    pub raw: Map<String, Value>,
    /// `None` when `Chart.yaml` declares no `dependencies`.
    pub dependencies: Option<Vec<Dependency>>,
}

/// One entry of `dependencies:` in `Chart.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub alias: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub import_values: Vec<Value>,
    pub enabled: bool,
    /// `enabled: true` written in `Chart.yaml` (part of helm's lock digest).
    pub declared_enabled: bool,
}

impl Dependency {
    /// Does a subchart of `version` satisfy this dependency's version range?
    pub fn matches_version(&self, version: &str) -> bool {
        self.version.trim().is_empty() || semver::satisfies(&self.version, version).unwrap_or(false)
    }
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.meta.name
    }

    pub fn version(&self) -> &str {
        &self.meta.version
    }

    /// `type: library`: templates print nothing, helpers serve other charts.
    pub fn is_library(&self) -> bool {
        self.meta.raw.get("type").and_then(Value::as_str) == Some("library")
    }

    /// Does the chart have template files of its own (helpers included)?
    pub fn has_templates(&self) -> bool {
        self.templates.iter().any(|t| is_rendered(&t.rel))
    }

    /// The template language the chart declares, or infers: Jinja when it
    /// has `.j2` templates, Go when it has other templates; a chart without
    /// templates of its own is Jinja only when one of its subcharts is.
    pub fn engine(&self) -> Engine {
        let declared = self
            .meta
            .raw
            .get("annotations")
            .and_then(|a| a.get(TEMPLATE_ENGINE_ANNOTATION))
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        match declared.as_deref() {
            Some("jinja") => return Engine::Jinja,
            Some("go") => return Engine::Go,
            Some(_) => return Engine::Unknown,
            None => {}
        }
        if self.templates.iter().any(|t| t.rel.ends_with(".j2")) {
            Engine::Jinja
        } else if self.has_templates() || !self.deps.iter().any(|d| d.engine() == Engine::Jinja) {
            Engine::Go
        } else {
            Engine::Jinja
        }
    }
}

/// A chart's template language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Jinja,
    Go,
    /// The annotation holds something else.
    Unknown,
}

/// Is this template file one the renderer reads (by extension; `NOTES.txt` never)?
pub fn is_rendered(rel: &str) -> bool {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    base != "NOTES.txt" && TEMPLATE_EXTENSIONS.iter().any(|ext| base.ends_with(&format!(".{ext}")))
}

fn chart_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Chart { path: path.to_path_buf(), message: message.into() }
}

/// Load the chart in `dir` (inside `src`'s root), with its subcharts.
/// Its `.helmignore` applies to the whole tree, subcharts included (with
/// paths like `charts/sub/x`): as in helm, a subchart loaded with its parent
/// does not read its own `.helmignore`.
pub fn load_chart(src: &LocalSource, dir: &Path) -> Result<Chart> {
    let dir = src.confine(dir)?;
    let ignore_file = dir.join(".helmignore");
    let text = std::fs::read_to_string(&ignore_file).unwrap_or_default();
    let rules = IgnoreRules::parse(&text).map_err(|m| chart_err(&ignore_file, m))?;
    load_tree(src, dir, &rules, "", &mut Vec::new())
}

/// Deepest chain of subcharts (`charts/a/charts/b/...`) a chart may have.
const MAX_SUBCHART_DEPTH: usize = 64;
/// Most files and directories one chart (without its subcharts) may have.
const MAX_CHART_ENTRIES: usize = 100_000;

/// Load a chart whose files' paths relative to the top chart start with
/// `prefix`. `chain` holds the (canonical) directories of the charts that
/// include this one: a chart inside its own chain (`charts/self -> ../`)
/// is a cycle, refused, as is a chain deeper than [`MAX_SUBCHART_DEPTH`].
fn load_tree(
    src: &LocalSource,
    dir: PathBuf,
    rules: &IgnoreRules,
    prefix: &str,
    chain: &mut Vec<PathBuf>,
) -> Result<Chart> {
    if chain.contains(&dir) {
        return Err(chart_err(
            &dir,
            "subchart cycle: this chart contains itself (a symlink under charts/ points back up)",
        ));
    }
    if chain.len() >= MAX_SUBCHART_DEPTH {
        return Err(chart_err(&dir, format!("subcharts nest deeper than {MAX_SUBCHART_DEPTH} levels")));
    }
    chain.push(dir.clone());
    let chart = load_one(src, dir, rules, prefix, chain);
    chain.pop();
    chart
}

fn load_one(
    src: &LocalSource,
    dir: PathBuf,
    rules: &IgnoreRules,
    prefix: &str,
    chain: &mut Vec<PathBuf>,
) -> Result<Chart> {
    let display = src.display_path(&dir);
    let display = if display.is_empty() { ".".to_string() } else { display };
    let chart_yaml = dir.join("Chart.yaml");
    if rules.ignored(&format!("{prefix}Chart.yaml"), false) {
        return Err(chart_err(&chart_yaml, "Chart.yaml file is missing: .helmignore excludes it"));
    }
    let text = read_text(src, &chart_yaml)?;
    let meta = parse_metadata(&text).map_err(|m| chart_err(&chart_yaml, m))?;
    let mut values = Values::new();
    let mut schema = None;
    let mut templates = Vec::new();
    let mut files = Vec::new();
    let mut deps = Vec::new();
    let mut packaged = Vec::new();
    // Each directory (as reached, and its real path) with the real paths of
    // the directories above it: one reached through a symlink must not be
    // one of them (a cycle).
    let mut stack = vec![(dir.clone(), dir.clone(), vec![dir.clone()])];
    let mut count = 0usize;
    while let Some((d, d_real, above)) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            count += 1;
            if count > MAX_CHART_ENTRIES {
                return Err(chart_err(
                    &dir,
                    format!("the chart has more than {MAX_CHART_ENTRIES} files and directories"),
                ));
            }
            let path = entry.path();
            let rel = path.strip_prefix(&dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            // Only a symlink needs resolving (and confining): anything else
            // lies in its directory, whose real path is known.
            let (real, is_dir) = match entry.file_type() {
                Ok(t) if !t.is_symlink() => (d_real.join(entry.file_name()), t.is_dir()),
                _ => {
                    let real = src.confine(&path)?;
                    let is_dir = real.is_dir();
                    (real, is_dir)
                }
            };
            if rules.ignored(&format!("{prefix}{rel}"), is_dir) {
                continue;
            }
            if is_dir {
                if rel == "charts" {
                    (deps, packaged) = load_subcharts(src, &real, rules, &format!("{prefix}charts/"), chain)?;
                } else if above.contains(&real) {
                    return Err(chart_err(
                        &path,
                        "directory symlink cycle: it leads back to a directory that contains it",
                    ));
                } else {
                    let mut chain = above.clone();
                    chain.push(real.clone());
                    stack.push((path, real, chain));
                }
                continue;
            }
            match rel.as_str() {
                "Chart.yaml" => {}
                "values.yaml" => {
                    let t = read_real(&real)?;
                    values =
                        load_values_yaml(&t).map_err(|e| chart_err(&real, format!("cannot load values.yaml: {e}")))?;
                }
                "values.schema.json" => {
                    let t = read_real(&real)?;
                    let v: Value = serde_json::from_str(&t)
                        .map_err(|e| chart_err(&real, format!("invalid JSON schema: line {}: {e}", e.line())))?;
                    schema = Some(Arc::new(v));
                }
                _ if rel.starts_with("templates/") => {
                    let text = read_real(&real)?;
                    templates.push(TemplateFile { rel: rel["templates/".len()..].to_string(), text });
                }
                _ => {
                    let bytes = std::fs::read(&real).map_err(|e| Error::io(&real, e))?;
                    files.push((rel, bytes));
                }
            }
        }
    }
    templates.sort_by(|a, b| a.rel.cmp(&b.rel));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut meta = meta;
    apply_requirements(&mut meta, &mut files).map_err(|m| chart_err(&dir, m))?;
    Ok(Chart {
        meta,
        dir,
        display,
        values,
        schema,
        templates: Arc::new(templates),
        files: Arc::new(files),
        deps,
        packaged,
        fetch_failures: Vec::new(),
    })
}

fn load_subcharts(
    src: &LocalSource,
    charts_dir: &Path,
    rules: &IgnoreRules,
    prefix: &str,
    chain: &mut Vec<PathBuf>,
) -> Result<(Vec<Chart>, Vec<PathBuf>)> {
    let mut entries: Vec<_> =
        std::fs::read_dir(charts_dir).map_err(|e| Error::io(charts_dir, e))?.flatten().map(|e| e.path()).collect();
    entries.sort();
    let (mut charts, mut packaged) = (Vec::new(), Vec::new());
    for p in entries {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') || rules.ignored(&format!("{prefix}{name}"), p.is_dir()) {
            continue;
        }
        if p.is_dir() {
            if p.join("Chart.yaml").is_file() {
                let real = src.confine(&p)?;
                charts.push(load_tree(src, real, rules, &format!("{prefix}{name}/"), chain)?);
            }
        } else if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
            let real = src.confine(&p)?;
            let bytes = std::fs::read(&real).map_err(|e| Error::io(&real, e))?;
            charts.push(super::archive::load_archive(&bytes, &p, &src.display_path(&p))?);
            packaged.push(p);
        }
    }
    Ok((charts, packaged))
}

fn read_text(src: &LocalSource, path: &Path) -> Result<String> {
    read_real(&src.confine(path)?)
}

/// A file whose path is already confined.
fn read_real(real: &Path) -> Result<String> {
    std::fs::read_to_string(real).map_err(|e| Error::io(real, e))
}

/// Parse and check `Chart.yaml`.
pub fn parse_metadata(text: &str) -> std::result::Result<Metadata, String> {
    let raw = match parse_one(text, Dialect::Kubectl).map_err(|e| format!("invalid YAML: {e}"))? {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        _ => return Err("Chart.yaml must be a map".into()),
    };
    let str_field = |k: &str| -> std::result::Result<String, String> {
        match raw.get(k) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(format!("field `{k}` must be a string")),
        }
    };
    let api = str_field("apiVersion")?;
    if api.is_empty() {
        return Err("chart.metadata.apiVersion is required".into());
    }
    if api != "v2" && api != "v1" {
        return Err(format!("apiVersion {api:?} is not supported (use v2)"));
    }
    let name = str_field("name")?;
    if name.is_empty() {
        return Err("chart.metadata.name is required".into());
    }
    if name.contains('/') || name.contains('\\') || name == "." || name == ".." {
        return Err(format!("chart.metadata.name {name:?} is not a valid chart name"));
    }
    let version = str_field("version")?;
    if version.is_empty() {
        return Err("chart.metadata.version is required".into());
    }
    if semver::Version::parse(&version).is_none() {
        return Err(format!("chart.metadata.version {version:?} is invalid (not semantic versioning)"));
    }
    let dependencies = match raw.get("dependencies") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut deps = Vec::new();
            for (i, item) in items.iter().enumerate() {
                deps.push(parse_dependency(item).map_err(|e| format!("dependencies[{i}]: {e}"))?);
            }
            Some(deps)
        }
        Some(_) => return Err("field `dependencies` must be a list".into()),
    };
    Ok(Metadata { name, version, raw, dependencies })
}

/// `requirements.yaml` (helm 2's dependency file) read as helm's loader
/// reads it: its `dependencies` replace the metadata's; it stays one of
/// the chart's files only for an `apiVersion: v1` chart.
pub fn apply_requirements(meta: &mut Metadata, files: &mut Vec<(String, Vec<u8>)>) -> std::result::Result<(), String> {
    let Some(i) = files.iter().position(|(rel, _)| rel == "requirements.yaml") else { return Ok(()) };
    let text = std::str::from_utf8(&files[i].1).map_err(|_| "requirements.yaml: not UTF-8 text".to_string())?;
    let deps = requirements_dependencies(text).map_err(|e| format!("requirements.yaml: {e}"))?;
    if deps.is_some() {
        meta.dependencies = deps;
    }
    if meta.raw.get("apiVersion").and_then(Value::as_str) != Some("v1") {
        files.remove(i);
    }
    Ok(())
}

/// The `dependencies` of a `requirements.yaml` text (`None` when it has none).
pub fn requirements_dependencies(text: &str) -> std::result::Result<Option<Vec<Dependency>>, String> {
    let doc = parse_one(text, Dialect::Kubectl).map_err(|e| format!("invalid YAML: {e}"))?;
    match doc.get("dependencies") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_dependency(item).map_err(|e| format!("dependencies[{i}]: {e}")))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err("field `dependencies` must be a list".into()),
    }
}

fn parse_dependency(v: &Value) -> std::result::Result<Dependency, String> {
    let Value::Object(m) = v else { return Err("must be a map".into()) };
    let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let name = s("name");
    if name.is_empty() {
        return Err("`name` is required".into());
    }
    let tags = match m.get("tags") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(String::from).collect(),
        _ => Vec::new(),
    };
    let import_values = match m.get("import-values") {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    Ok(Dependency {
        name,
        version: s("version"),
        repository: s("repository"),
        declared_enabled: m.get("enabled").and_then(Value::as_bool).unwrap_or(false),
        alias: s("alias"),
        condition: s("condition"),
        tags,
        import_values,
        enabled: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_checked() {
        assert!(parse_metadata("apiVersion: v2\nname: a\nversion: 1.0.0\n").is_ok());
        assert_eq!(parse_metadata("apiVersion: v2\nversion: 1.0.0\n").unwrap_err(), "chart.metadata.name is required");
        assert!(parse_metadata("apiVersion: v2\nname: a\nversion: x\n").unwrap_err().contains("semantic"));
        let m = parse_metadata(
            "apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: b\n  alias: c\n  tags: [x]\n",
        )
        .unwrap();
        let d = &m.dependencies.unwrap()[0];
        assert_eq!((d.name.as_str(), d.alias.as_str(), d.tags.len()), ("b", "c", 1));
    }

    fn chart(name: &str, templates: &[&str], deps: Vec<Chart>) -> Chart {
        let meta = parse_metadata(&format!("apiVersion: v2\nname: {name}\nversion: 1.0.0\n")).unwrap();
        let templates = templates.iter().map(|t| TemplateFile { rel: t.to_string(), text: String::new() });
        Chart {
            meta,
            dir: PathBuf::from(name),
            display: name.to_string(),
            values: Values::default(),
            schema: None,
            templates: Arc::new(templates.collect()),
            files: Arc::new(Vec::new()),
            deps,
            packaged: Vec::new(),
            fetch_failures: Vec::new(),
        }
    }

    #[test]
    fn engine_is_inferred_from_templates() {
        assert_eq!(chart("a", &["x.yaml.j2", "_h.tpl"], vec![]).engine(), Engine::Jinja);
        assert_eq!(chart("a", &["x.yaml", "NOTES.txt"], vec![]).engine(), Engine::Go);
        assert_eq!(chart("a", &["NOTES.txt"], vec![]).engine(), Engine::Go);
        // a parent without templates takes its subcharts' language
        let go = chart("a", &[], vec![chart("crds", &["crd.yaml"], vec![])]);
        assert_eq!(go.engine(), Engine::Go);
        assert!(!go.has_templates());
        let jinja = chart("a", &[], vec![chart("b", &[], vec![]), chart("c", &["x.j2"], vec![])]);
        assert_eq!(jinja.engine(), Engine::Jinja);
    }

    #[test]
    fn rendered_files() {
        assert!(is_rendered("a/b.yaml"));
        assert!(is_rendered("_helpers.tpl"));
        assert!(!is_rendered("NOTES.txt"));
        assert!(!is_rendered("x.txt"));
    }
}
