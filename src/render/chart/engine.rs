//! Rendering a chart tree's Jinja templates with helm's built-in objects.
//!
//! Every template of the chart and its subcharts is registered in one
//! minijinja [`Environment`] under helm's template name
//! (`web/templates/deploy.yaml`, `web/charts/db/templates/sts.yaml`). Each
//! template sees `Values` (its chart's view), `Release`, `Chart`,
//! `Capabilities`, `Files`, `Template`, and `ctx`, the whole context, which
//! is what helpers take: `include("web.labels", ctx)` calls the macro
//! `web_labels` (dots and dashes become underscores) defined in any
//! `_`-prefixed template of the tree, and returns its output.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, Error as JError, ErrorKind, State, UndefinedBehavior, Value};

use super::load::{Chart, is_rendered};
use super::values::Values;
use super::{funcs, jinja_compat};
use crate::error::{Error, Result};
use crate::render::limits::{Budget, Limit, MAX_CALL_DEPTH};

/// Release and cluster settings a render sees.
#[derive(Debug, Clone)]
pub struct ReleaseSettings {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    pub is_upgrade: bool,
    /// `v1.35.0` form.
    pub kube_version: String,
    /// Extra `Capabilities.APIVersions` entries (`group/version` or `group/version/Kind`).
    pub api_versions: Vec<String>,
}

impl Default for ReleaseSettings {
    fn default() -> Self {
        ReleaseSettings {
            name: "release-name".into(),
            namespace: "default".into(),
            revision: 1,
            is_upgrade: false,
            kube_version: DEFAULT_KUBE_VERSION.into(),
            api_versions: Vec::new(),
        }
    }
}

/// The Kubernetes version `Capabilities.KubeVersion` reports by default.
pub const DEFAULT_KUBE_VERSION: &str = "v1.35.0";

/// One rendered template: helm's template name and its output text.
pub struct Rendered {
    pub name: String,
    pub text: String,
}

/// A chart in the tree with the template-name prefix and values it renders with.
struct Node<'a> {
    chart: &'a Chart,
    prefix: String,
    values: Value,
}

/// Render every template of `chart` and its (enabled) subcharts.
pub fn render_tree(
    chart: &Chart,
    values: &Values,
    settings: &ReleaseSettings,
    budget: &Budget,
) -> Result<Vec<Rendered>> {
    let mut nodes = Vec::new();
    collect(chart, chart.name().to_string(), &serde_json::Value::Object(values.clone()), &mut nodes);
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters are valid"),
    );
    // Templates print YAML text; minijinja would JSON-escape `.yaml` output.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    // Print like helm: `true`/`false` (not Python's `True`), nothing for
    // none; lists and maps as minijinja 2 printed them.
    env.set_formatter(|out, state, value| {
        let text = match value.kind() {
            minijinja::value::ValueKind::Bool | minijinja::value::ValueKind::None => Some(funcs::go_string(value)),
            _ => jinja_compat::container_text(value),
        };
        match text {
            Some(text) => out.write_str(&text).map_err(|_| JError::new(ErrorKind::WriteFailure, "write")),
            None => minijinja::escape_formatter(out, state, value),
        }
    });
    env.set_recursion_limit(200);
    // Bounds one render call's loops; `include` and `tpl` (which start new
    // render calls) check the shared call depth and the deadline in [`Calls`].
    env.set_fuel(Some(FUEL));
    funcs::register(&mut env);
    jinja_compat::register(&mut env);
    // Helper files (`_*`): their macros by name, and an import alias each.
    let mut macros: BTreeMap<String, String> = BTreeMap::new();
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    for node in &nodes {
        for t in node.chart.templates.iter().filter(|t| is_rendered(&t.rel) && base_name(&t.rel).starts_with('_')) {
            let name = format!("{}/templates/{}", node.prefix, t.rel);
            env.add_template_owned(name.clone(), t.text.clone()).map_err(|e| template_error(&e, &name))?;
            for m in macro_names(&t.text) {
                macros.entry(m).or_insert_with(|| name.clone());
            }
            let alias = format!("__kg_helpers_{}", aliases.len());
            aliases.insert(name, alias);
        }
    }
    // Every other template imports the helper files on its first line (no
    // line shift), so `include` finds their macros without re-running them.
    let imports: String = aliases.iter().map(|(name, alias)| format!("{{%- import {name:?} as {alias} %}}")).collect();
    for node in &nodes {
        for t in node.chart.templates.iter().filter(|t| is_rendered(&t.rel) && !base_name(&t.rel).starts_with('_')) {
            let name = format!("{}/templates/{}", node.prefix, t.rel);
            env.add_template_owned(name.clone(), format!("{imports}{}", t.text))
                .map_err(|e| template_error(&e, &name))?;
        }
    }
    let helpers = Arc::new(Helpers { macros, aliases });
    let calls = Arc::new(Calls { depth: AtomicUsize::new(0), budget: budget.clone() });
    let c = calls.clone();
    env.add_function("include", move |state: &mut State, name: String, ctx: Option<Value>| {
        let _call = c.enter(&name)?;
        include(state, &helpers, &name, ctx)
    });
    let c = calls.clone();
    env.add_function("tpl", move |state: &State, text: String, ctx: Option<Value>| {
        let _call = c.enter("tpl")?;
        tpl(state, text, ctx)
    });
    let capabilities = capabilities(settings);
    let release = serde_value(serde_json::json!({
        "Name": settings.name,
        "Namespace": settings.namespace,
        "Revision": settings.revision,
        "IsInstall": !settings.is_upgrade,
        "IsUpgrade": settings.is_upgrade,
        "Service": "Helm",
    }));
    let mut out = Vec::new();
    for node in &nodes {
        let chart_value = chart_object(node.chart);
        let files = Value::from_object(Files { entries: node.chart.files.clone() });
        // A library chart only provides helpers.
        if node.chart.is_library() {
            continue;
        }
        for t in node.chart.templates.iter().filter(|t| is_rendered(&t.rel)) {
            if base_name(&t.rel).starts_with('_') {
                continue;
            }
            let name = format!("{}/templates/{}", node.prefix, t.rel);
            let root = Root {
                values: node.values.clone(),
                release: release.clone(),
                chart: chart_value.clone(),
                capabilities: capabilities.clone(),
                files: files.clone(),
                template: serde_value(serde_json::json!({
                    "Name": name,
                    "BasePath": format!("{}/templates", node.prefix),
                })),
            };
            budget.check_time(&name)?;
            let tmpl = env.get_template(&name).map_err(|e| template_error(&e, &name))?;
            let text = tmpl.render(Value::from_object(root)).map_err(|e| template_error(&e, &name))?;
            out.push(Rendered { name, text });
        }
    }
    Ok(out)
}

/// A serde value (JSON from values files, built-in objects) as a template value.
pub fn serde_value<T: serde::Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

fn base_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// Charts in render order (parent first), each with its `.Values` view.
fn collect<'a>(chart: &'a Chart, prefix: String, values: &serde_json::Value, out: &mut Vec<Node<'a>>) {
    out.push(Node { chart, prefix: prefix.clone(), values: serde_value(ints_where_integral(values)) });
    for sub in &chart.deps {
        let sub_values = match values.get(sub.name()) {
            Some(v @ serde_json::Value::Object(_)) => v.clone(),
            _ => serde_json::Value::Object(Default::default()),
        };
        collect(sub, format!("{prefix}/charts/{}", sub.name()), &sub_values, out);
    }
}

/// Values from YAML are float64 as in helm; templates print integral ones
/// as integers (`replicas: 3`, not `3.0`).
fn ints_where_integral(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            if f.fract() == 0.0 && f.abs() < 9.0e15 { J::from(f as i64) } else { v.clone() }
        }
        J::Array(a) => J::Array(a.iter().map(ints_where_integral).collect()),
        J::Object(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), ints_where_integral(v))).collect()),
        _ => v.clone(),
    }
}

/// Names of the macros a template defines (`{% macro name(...) %}`).
fn macro_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("{%") {
        let rest = text[i + 2..].trim_start_matches(['-', '+']).trim_start();
        if let Some(rest) = rest.strip_prefix("macro") {
            let rest = rest.trim_start();
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// The macro name `include` looks for: helm-style names (`web.labels`) map to identifiers.
pub fn macro_ident(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// Instructions one render call may run (minijinja's fuel): far more than
/// any real template needs, few enough to end an endless loop in seconds.
const FUEL: u64 = 100_000_000;

/// The chain of `include`/`tpl` calls under way, shared by every nested
/// render call so that none can reset it, and the render's budget.
struct Calls {
    depth: AtomicUsize,
    budget: Budget,
}

/// Leaves one level of [`Calls`] when dropped.
struct CallGuard<'a>(&'a AtomicUsize);

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Calls {
    fn enter(&self, what: &str) -> Result<CallGuard<'_>, JError> {
        let depth = self.depth.fetch_add(1, Ordering::Relaxed) + 1;
        let guard = CallGuard(&self.depth);
        if depth > MAX_CALL_DEPTH {
            let e = self.budget.exceeded(Limit::Calls, &format!("include/tpl {what:?}"));
            return Err(JError::new(ErrorKind::InvalidOperation, e.to_string()));
        }
        self.budget.check_time(what).map_err(|e| JError::new(ErrorKind::InvalidOperation, e.to_string()))?;
        Ok(guard)
    }
}

/// Where `include` finds macros: macro name -> helper template -> import alias.
struct Helpers {
    macros: BTreeMap<String, String>,
    aliases: BTreeMap<String, String>,
}

fn include(state: &mut State, helpers: &Helpers, name: &str, ctx: Option<Value>) -> Result<String, JError> {
    let ident = macro_ident(name);
    let Some(template) = helpers.macros.get(&ident) else {
        return Err(JError::new(
            ErrorKind::UndefinedError,
            format!("include: no template {name:?} (no macro {ident} in any _ file of the chart)"),
        ));
    };
    let ctx = match ctx {
        Some(c) => c,
        None => state.lookup("ctx").unwrap_or(Value::UNDEFINED),
    };
    // Fast path: the calling template imported the helper file.
    if let Some(module) = helpers.aliases.get(template).and_then(|alias| state.lookup(alias))
        && let Ok(m) = module.get_attr(&ident)
        && !m.is_undefined()
    {
        return m.call(state, &[ctx]).map(|v| funcs::go_string(&v));
    }
    // Inside a macro (no imports in scope): run the helper file for its macros.
    let tmpl = state.env().get_template(template)?;
    // Like an import: helper files see only their macro arguments.
    let mut captured = tmpl.render_captured(minijinja::context! {})?;
    captured.with_state_mut(|helper| helper.call_macro(&ident, &[ctx]))
}

fn tpl(state: &State, text: String, ctx: Option<Value>) -> Result<String, JError> {
    let ctx = ctx.or_else(|| state.lookup("ctx")).unwrap_or(Value::UNDEFINED);
    state.env().render_named_str(state.name(), &text, ctx)
}

/// `.Chart`: `Chart.yaml` with helm's field names (`Name`, `AppVersion`, `APIVersion`...).
fn chart_object(chart: &Chart) -> Value {
    fn go_field(k: &str) -> String {
        match k {
            "apiVersion" => "APIVersion".into(),
            "import-values" => "ImportValues".into(),
            _ => {
                let mut c = k.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
            }
        }
    }
    fn convert(v: &serde_json::Value, depth: usize) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) if depth < 2 => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (go_field(k), convert(v, depth + 1))).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(|x| convert(x, depth)).collect()),
            other => other.clone(),
        }
    }
    let mut m = serde_json::Map::new();
    for (k, v) in &chart.meta.raw {
        let v = if k == "annotations" { v.clone() } else { convert(v, 1) };
        m.insert(go_field(k), v);
    }
    m.insert("Name".into(), chart.meta.name.clone().into());
    serde_value(serde_json::Value::Object(m))
}

fn capabilities(settings: &ReleaseSettings) -> Value {
    let v = settings.kube_version.trim_start_matches('v');
    let mut parts = v.split('.');
    let major = parts.next().unwrap_or_default().to_string();
    let minor = parts.next().unwrap_or_default().to_string();
    let mut versions: Vec<String> = Vec::new();
    for (group, version, kind, _, _) in crate::normalize::builtin_kinds() {
        let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
        versions.push(format!("{gv}/{kind}"));
        versions.push(gv);
    }
    versions.extend(settings.api_versions.iter().cloned());
    versions.sort();
    versions.dedup();
    let api = Value::from_object(ApiVersions { versions });
    Value::from_pairs([
        (
            "KubeVersion".to_string(),
            Value::from_object(KubeVersion { version: settings.kube_version.clone(), major, minor }),
        ),
        ("APIVersions".to_string(), api),
        ("HelmVersion".to_string(), serde_value(serde_json::json!({"Version": "v4.1.4"}))),
    ])
}

/// The context of one template render.
#[derive(Debug)]
struct Root {
    values: Value,
    release: Value,
    chart: Value,
    capabilities: Value,
    files: Value,
    template: Value,
}

const ROOT_KEYS: &[&str] = &["Values", "Release", "Chart", "Capabilities", "Files", "Template", "ctx"];

impl Object for Root {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "Values" => self.values.clone(),
            "Release" => self.release.clone(),
            "Chart" => self.chart.clone(),
            "Capabilities" => self.capabilities.clone(),
            "Files" => self.files.clone(),
            "Template" => self.template.clone(),
            "ctx" => Value::from_dyn_object(self.clone()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&ROOT_KEYS[..6])
    }
}

/// `Capabilities.KubeVersion`: prints as the version (`v1.35.0`), with
/// `Version`, `GitVersion`, `Major` and `Minor` fields.
#[derive(Debug)]
struct KubeVersion {
    version: String,
    major: String,
    minor: String,
}

impl Object for KubeVersion {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from(match key.as_str()? {
            "Version" | "GitVersion" => self.version.as_str(),
            "Major" => self.major.as_str(),
            "Minor" => self.minor.as_str(),
            _ => return None,
        }))
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.version)
    }
}

/// `Capabilities.APIVersions`, with `has("apps/v1")` (also `Has`).
#[derive(Debug)]
struct ApiVersions {
    versions: Vec<String>,
}

impl Object for ApiVersions {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.versions.get(key.as_usize()?).map(|s| Value::from(s.as_str()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.versions.len())
    }

    fn call_method(self: &Arc<Self>, _state: &mut State, method: &str, args: &[Value]) -> Result<Value, JError> {
        match method {
            "has" | "Has" => {
                let v = args.first().and_then(Value::as_str).unwrap_or_default();
                Ok(Value::from(self.versions.binary_search_by(|x| x.as_str().cmp(v)).is_ok()))
            }
            _ => Err(JError::new(ErrorKind::UnknownMethod, format!("APIVersions has no method {method}"))),
        }
    }
}

/// `.Files`: the chart's files outside `templates/` and `charts/`.
#[derive(Debug)]
struct Files {
    entries: Arc<Vec<(String, Vec<u8>)>>,
}

impl Files {
    fn get(&self, name: &str) -> Option<&[u8]> {
        let name = name.trim_start_matches("./");
        self.entries.iter().find(|(n, _)| n == name).map(|(_, b)| b.as_slice())
    }

    fn text(&self, name: &str) -> String {
        self.get(name).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
    }

    fn by_base_name(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        for (n, b) in self.entries.iter() {
            let base = n.rsplit('/').next().unwrap_or(n);
            m.insert(base.to_string(), String::from_utf8_lossy(b).into_owned().into());
        }
        m
    }
}

impl Object for Files {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call_method(self: &Arc<Self>, _state: &mut State, method: &str, args: &[Value]) -> Result<Value, JError> {
        let arg = || -> Result<String, JError> {
            args.first()
                .and_then(Value::as_str)
                .map(String::from)
                .ok_or_else(|| JError::new(ErrorKind::MissingArgument, format!("Files.{method} needs a file name")))
        };
        match method {
            "Get" => Ok(Value::from(self.text(&arg()?))),
            "GetBytes" => Ok(Value::from_bytes(self.get(&arg()?).unwrap_or_default().to_vec())),
            "Lines" => {
                let text = self.text(&arg()?);
                let lines: Vec<Value> = text.split('\n').map(Value::from).collect();
                Ok(Value::from(if text.is_empty() { Vec::new() } else { lines }))
            }
            "Glob" => {
                let pattern = arg()?;
                let glob = globset::GlobBuilder::new(&pattern)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| JError::new(ErrorKind::InvalidOperation, format!("Files.Glob: {e}")))?
                    .compile_matcher();
                let entries = self.entries.iter().filter(|(n, _)| glob.is_match(n)).cloned().collect();
                Ok(Value::from_object(Files { entries: Arc::new(entries) }))
            }
            "AsConfig" => {
                let s = crate::yaml::to_yaml_string(&serde_json::Value::Object(self.by_base_name()));
                Ok(Value::from(s.trim_end_matches('\n').to_string()))
            }
            "AsSecrets" => {
                use base64::Engine as _;
                let mut m = serde_json::Map::new();
                for (n, b) in self.entries.iter() {
                    let base = n.rsplit('/').next().unwrap_or(n);
                    m.insert(base.to_string(), base64::engine::general_purpose::STANDARD.encode(b).into());
                }
                let s = crate::yaml::to_yaml_string(&serde_json::Value::Object(m));
                Ok(Value::from(s.trim_end_matches('\n').to_string()))
            }
            _ => Err(JError::new(ErrorKind::UnknownMethod, format!("Files has no method {method}"))),
        }
    }
}

/// A minijinja error as ours, naming the template (the innermost one) and line.
fn template_error(e: &JError, fallback: &str) -> Error {
    // `fail`, `required` and helpers raise InvalidOperation: their text says it all.
    let describe = |je: &JError| match (je.kind(), je.detail()) {
        (ErrorKind::InvalidOperation, Some(d)) => d.to_string(),
        (kind, Some(d)) => format!("{kind}: {d}"),
        (kind, None) => kind.to_string(),
    };
    let mut located: &JError = e;
    let mut message = describe(e);
    let mut inner: &dyn std::error::Error = e;
    while let Some(src) = inner.source() {
        if let Some(je) = src.downcast_ref::<JError>() {
            if je.name().is_some() {
                located = je;
            }
            message = describe(je);
        }
        inner = src;
    }
    let file = located.name().unwrap_or(fallback).to_string();
    let line = located.line().unwrap_or(0);
    // Quote the failing source line: minijinja's messages do not name the expression.
    if let (Some(source), true) = (located.template_source(), line > 0)
        && let Some(text) = source.lines().nth(line - 1)
    {
        let mut text = text.trim();
        // Line 1 starts with the helper imports we added.
        while text.starts_with("{%- import ") && text.contains("__kg_helpers_") {
            text = text.split_once("%}").map_or("", |(_, rest)| rest);
        }
        let text = if text.chars().count() > 120 {
            format!("{}...", text.chars().take(120).collect::<String>())
        } else {
            text.to_string()
        };
        message = format!("{message} (in `{text}`)");
    }
    Error::Template { file, line, message }
}
