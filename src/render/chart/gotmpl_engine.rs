//! Rendering a Go-template chart tree natively, as helm 4.1.4's engine does
//! (`pkg/engine/engine.go`) and `helm template` orders the result
//! (`pkg/release/v1/util/manifest_sorter.go`, `kind_sorter.go`).
//!
//! 1. [`render_go_tree`]: every template of the chart and its subcharts
//!    (library charts: only their `_` partials) goes into one template set
//!    with Sprig and helm's functions, `missingkey=zero`, parsed in helm's
//!    order (deepest paths first, then names in reverse); each chart gets
//!    its context (`.Values` scoped to the subchart, `.Chart`, `.Files`,
//!    `.Release`, `.Capabilities`, `.Subcharts`, `.Template`); every
//!    non-partial template is executed (`NOTES.txt` too, its output
//!    dropped) under one [`Runtime`] (deadline, output limit, nesting), and
//!    `<no value>` is removed. Errors read as helm prints them.
//! 2. [`split_manifests`] cuts each output into trimmed documents as helm
//!    does before parsing them (a literal block at the end of a file loses
//!    its trailing blank lines), and [`order`] puts the decoded objects in `helm template`'s order: files by
//!    name, documents in file order, sorted (stable) by kind in helm's
//!    install order; hooks (objects with a known `helm.sh/hook`) after the
//!    rest, sorted the same way; unknown hook types dropped as helm does.

use std::rc::Rc;

use super::engine::{ReleaseSettings, Rendered};
use super::gotmpl_objects::{Capabilities, Files, chart_map, plain_map, release};
use super::load::Chart;
use super::values::Values;
use crate::error::{Error, Result};
use crate::gotmpl::helm::{self, errors};
use crate::gotmpl::value::{MAP_TYPE, Map, VALUES_TYPE};
use crate::gotmpl::{MissingKey, Runtime, Templates, Value};
use crate::model::Object;
use crate::render::Manifest;
use crate::render::limits::{Budget, Limit};

/// One template to render: its helm name, text and chart context.
struct Entry<'a> {
    name: String,
    text: &'a str,
    ctx: Map,
    base_path: String,
}

/// Render every template of `chart` and its subcharts with helm's engine
/// rules; the outputs are returned sorted by template name, partials and
/// `NOTES.txt` left out.
pub fn render_go_tree(
    chart: &Chart,
    values: &Values,
    settings: &ReleaseSettings,
    budget: &Budget,
) -> Result<Vec<Rendered>> {
    let mut set = Templates::new();
    helm::add_helm(&mut set);
    set.options.missing_key = MissingKey::Zero;
    set.options.deadline = Some(budget.deadline());
    set.options.max_output = Some(usize::try_from(budget.output_left()).unwrap_or(usize::MAX));
    let shared =
        Shared { release: release(settings), capabilities: Value::Object(Rc::new(Capabilities::new(settings))) };
    let root_values = match Value::map(values.iter().map(|(k, v)| (k.clone(), Value::from_json_int64(v))).collect()) {
        Value::Map(m) => Map { entries: m.entries, ty: VALUES_TYPE },
        _ => Map { entries: Rc::default(), ty: VALUES_TYPE },
    };
    let mut entries = Vec::new();
    collect(chart, None, chart.name().to_string(), &root_values, &shared, &mut entries);
    // helm's sortTemplates: more path segments first, then names in reverse.
    entries.sort_by(|a, b| {
        let (ca, cb) = (a.name.matches('/').count(), b.name.matches('/').count());
        cb.cmp(&ca).then_with(|| b.name.cmp(&a.name))
    });
    let start = std::time::Instant::now();
    for e in &entries {
        set.parse(&e.name, e.text).map_err(|err| template_error(&e.name, &err, budget))?;
    }
    tracing::debug!("chart {}: {} templates parsed in {:?}", chart.name(), entries.len(), start.elapsed());
    let runtime = Runtime::new(&set);
    let mut out = Vec::new();
    for e in &entries {
        let base = e.name.rsplit('/').next().unwrap_or(&e.name);
        if base.starts_with('_') {
            continue;
        }
        budget.check_time(&e.name)?;
        let template =
            plain_map(vec![("Name", Value::from(e.name.as_str())), ("BasePath", Value::from(e.base_path.as_str()))]);
        e.ctx.insert("Template", Value::Map(Map { entries: template.entries, ty: VALUES_TYPE }));
        let text = set
            .execute_with(&runtime, &e.name, &Value::Map(e.ctx.clone()))
            .map_err(|err| template_error(&e.name, &err, budget))?;
        if e.name.ends_with("NOTES.txt") {
            continue;
        }
        let text = if memchr::memmem::find(text.as_bytes(), b"<no value>").is_some() {
            text.replace("<no value>", "")
        } else {
            text
        };
        out.push(Rendered { name: e.name.clone(), text });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What every chart's context shares.
struct Shared {
    release: Value,
    capabilities: Value,
}

/// helm's `recAllTpls`: the chart's context (`next`), its subcharts' first.
fn collect<'a>(
    chart: &'a Chart,
    parent: Option<&Map>,
    prefix: String,
    root_values: &Map,
    shared: &Shared,
    out: &mut Vec<Entry<'a>>,
) -> Map {
    let values = match parent {
        None => root_values.clone(),
        Some(p) => match p.get("Values") {
            Some(Value::Map(pv)) => match pv.get(chart.name()) {
                Some(Value::Map(m)) => Map { entries: m.entries, ty: VALUES_TYPE },
                _ => Map { entries: Rc::default(), ty: VALUES_TYPE },
            },
            _ => Map { entries: Rc::default(), ty: VALUES_TYPE },
        },
    };
    let subcharts = Map { entries: Rc::default(), ty: MAP_TYPE };
    let next = plain_map(vec![
        ("Chart", chart_map(chart, parent.is_none())),
        ("Files", Value::Object(Rc::new(Files::from_chart(chart)))),
        ("Release", shared.release.clone()),
        ("Capabilities", shared.capabilities.clone()),
        ("Values", Value::Map(values)),
        ("Subcharts", Value::Map(subcharts.clone())),
    ]);
    for dep in &chart.deps {
        let sub = collect(dep, Some(&next), format!("{prefix}/charts/{}", dep.name()), root_values, shared, out);
        subcharts.insert(dep.name(), Value::Map(sub));
    }
    let library = chart.is_library();
    for t in chart.templates.iter() {
        let base = t.rel.rsplit('/').next().unwrap_or(&t.rel);
        if library && !base.starts_with('_') {
            continue;
        }
        out.push(Entry {
            name: format!("{prefix}/templates/{}", t.rel),
            text: &t.text,
            ctx: next.clone(),
            base_path: format!("{prefix}/templates"),
        });
    }
    next
}

/// A template error as helm prints it; limits as ours.
fn template_error(file: &str, err: &crate::gotmpl::Error, budget: &Budget) -> Error {
    use crate::gotmpl::Error as G;
    let message = match err {
        G::Parse(m) => errors::parse_error(file, m),
        G::Exec(m) | G::Func(m) => errors::exec_error(file, m),
        G::Limit(m) => {
            let limit = if m.contains("deadline") {
                Limit::Time
            } else if m.contains("output exceeds") {
                Limit::Output
            } else {
                Limit::Calls
            };
            return budget.exceeded(limit, file);
        }
    };
    Error::HelmTemplate { file: file.to_string(), message }
}

static SEPARATOR: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"(?:^|[\t\n\x0C\r ]*\n)---[\t\n\x0C\r ]*").expect("regex"));

/// helm's `SplitManifests`: a rendered file's documents, split at `---`
/// and each trimmed (what helm parses and prints), with the line each
/// starts at when they are joined back into one stream with `---` lines.
pub fn split_manifests(text: &str) -> Vec<(&str, usize)> {
    let mut line = 1;
    let mut out = Vec::new();
    for doc in SEPARATOR.split(text.trim()).filter(|d| !d.is_empty()).map(str::trim) {
        out.push((doc, line));
        line += doc.bytes().filter(|&b| b == b'\n').count() + 2;
    }
    out
}

/// helm's `InstallOrder` of kinds.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The hook events helm knows (`helm.sh/hook`).
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// helm's `lessByKind` as a sort key: known kinds in install order, then
/// unknown kinds by name.
fn kind_key(kind: &str) -> (usize, String) {
    match INSTALL_ORDER.iter().position(|x| *x == kind) {
        Some(i) => (i, String::new()),
        None => (INSTALL_ORDER.len(), kind.to_string()),
    }
}

/// A stable sort by [`kind_key`], each key computed once.
fn sort_by_kind(docs: &mut [Manifest]) {
    docs.sort_by_cached_key(|d| kind_key(&d.kind));
}

/// `helm template`'s order of the documents decoded from the rendered
/// files (given in file-name order): manifests by kind, then hooks by kind.
/// Like helm, it reads each document's own head: a `List` sorts as a
/// `List` (after every kind helm knows) and its items' annotations make no
/// hooks; the items follow in their order.
pub fn order(docs: Vec<Manifest>) -> Vec<Object> {
    let (mut manifests, mut hooks) = (Vec::new(), Vec::new());
    for d in docs {
        match d.annotation("helm.sh/hook") {
            None => manifests.push(d),
            Some(h) => {
                let known = h.split(',').all(|e| HOOK_EVENTS.contains(&e.trim().to_ascii_lowercase().as_str()));
                if known {
                    hooks.push(d);
                } else {
                    let names: Vec<&str> = d.objects.iter().map(Object::name).collect();
                    tracing::info!("skipping unknown hooks {h:?} ({})", names.join(", "));
                }
            }
        }
    }
    sort_by_kind(&mut manifests);
    sort_by_kind(&mut hooks);
    manifests.into_iter().chain(hooks).flat_map(|d| d.objects).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::decode_documents;
    use crate::yaml::Dialect;

    /// `helm template` (4.1.4) on a chart with these two files prints
    /// plain, in-list, hook-in-list, z, then the hooks hook, hook-list-item:
    /// a List sorts as the unknown kind `List`, its items' annotations make
    /// no hooks, its own annotation does.
    #[test]
    fn manifests_are_split_and_trimmed_as_helm_does() {
        let text = "\n---\na: 1\nb: 2\n\n---   \nc: |\n  x\n\n\n---\n# only a comment\n";
        assert_eq!(split_manifests(text), [("a: 1\nb: 2", 1), ("c: |\n  x", 4), ("# only a comment", 7)]);
        // helm's separator takes the blank lines after it: the next `---` stays in the document
        assert_eq!(split_manifests("a: 1\n---\n\n---\nb: 2"), [("a: 1", 1), ("---\nb: 2", 3)]);
    }

    #[test]
    fn lists_sort_by_their_own_head() {
        let a = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: in-list}}\n\
                 - {apiVersion: v1, kind: ConfigMap, metadata: {name: hook-in-list, annotations: {helm.sh/hook: pre-install}}}\n\
                 ---\napiVersion: v1\nkind: List\nmetadata:\n  annotations: {helm.sh/hook: post-install}\n\
                 items:\n- {apiVersion: v1, kind: Secret, metadata: {name: hook-list-item}}\n";
        let b = "apiVersion: v1\nkind: Service\nmetadata: {name: plain}\n---\napiVersion: v1\nkind: Zebra\nmetadata: {name: z}\n\
                 ---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: hook, annotations: {helm.sh/hook: pre-install}}\n";
        let budget = Budget::default();
        let mut docs = decode_documents(a, "a.yaml", Dialect::Kubectl, &budget).unwrap();
        docs.extend(decode_documents(b, "b.yaml", Dialect::Kubectl, &budget).unwrap());
        let ordered = order(docs);
        let names: Vec<&str> = ordered.iter().map(Object::name).collect();
        assert_eq!(names, ["plain", "in-list", "hook-in-list", "z", "hook", "hook-list-item"]);
    }
}
