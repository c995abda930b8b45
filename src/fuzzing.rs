//! Entry points for fuzzing: each takes arbitrary bytes, feeds them to one
//! reader the way a repo or the command line would, and returns. Errors are
//! expected and ignored; a panic, a hang or unbounded memory is the bug.
//! `fuzz/` (cargo-fuzz targets, `scripts/fuzz.sh`) calls these, and
//! `tests/fuzz_regressions.rs` replays every input kept in
//! `fuzz/regressions/<target>/` through them.

use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::render::RenderOptions;
use crate::render::chart::strvals;
use crate::render::limits::Limits;
use crate::source::LocalSource;
use crate::yaml::{self, Dialect, DuplicateKeys, ParseLimits};

/// A fuzz target: bytes in, nothing out.
pub type Target = fn(&[u8]);

/// The targets by name, as `fuzz/` and the regression test know them.
pub const TARGETS: [(&str, Target); 8] = [
    ("yaml", yaml),
    ("set_flags", set_flags),
    ("smp", smp),
    ("kustomization", kustomization),
    ("jinja", jinja),
    ("application", application),
    ("manifests", manifests),
    ("gotmpl", gotmpl),
];

/// Limits small enough that a fuzzer's input cannot take its memory or time.
fn small_limits() -> Limits {
    Limits { timeout: Duration::from_secs(5), max_output: 16 << 20, max_depth: 256 }
}

/// The YAML reader in both dialects and both duplicate-key modes.
pub fn yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = ParseLimits { max_depth: 256, max_alias_weight: 16 << 20 };
    for dialect in [Dialect::Kubectl, Dialect::Kustomize] {
        for dup in [DuplicateKeys::Error, DuplicateKeys::LastWins] {
            let _ = yaml::parse_stream_limited(text, dialect, dup, limits);
        }
    }
}

/// `--set`, `--set-string`, `--set-json` and `--set-literal` syntax.
pub fn set_flags(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for kind in [strvals::ValueKind::Typed, strvals::ValueKind::String, strvals::ValueKind::Json] {
        let _ = strvals::parse_into(text, &mut Map::new(), kind);
    }
    let _ = strvals::parse_literal_into(text, &mut Map::new());
}

/// Strategic merge: the input is two YAML documents, a target object and a
/// patch; the patch is applied for the target's kind (built-in schema).
pub fn smp(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = ParseLimits { max_depth: 256, max_alias_weight: 1 << 20 };
    let Ok(parsed) = yaml::parse_stream_limited(text, Dialect::Kustomize, DuplicateKeys::LastWins, limits) else {
        return;
    };
    let mut docs = parsed.docs.into_iter().map(|d| d.value);
    let (Some(mut target), Some(patch)) = (docs.next(), docs.next()) else { return };
    let (group, version) = match target.get("apiVersion").and_then(Value::as_str) {
        Some(av) => av.split_once('/').map_or(("".to_string(), av.to_string()), |(g, v)| (g.into(), v.into())),
        None => (String::new(), "v1".into()),
    };
    let kind = target.get("kind").and_then(Value::as_str).unwrap_or("ConfigMap").to_string();
    let _ = crate::render::kustomize::fuzz_strategic_merge(&mut target, &patch, (&group, &version, &kind));
}

/// A kustomization file over a fixed set of resources (a Deployment, a
/// Service, a ConfigMap) that its patches, generators and transformers can
/// reach.
pub fn kustomization(data: &[u8]) {
    render_tree(&[("kustomization.yaml", data), ("resources.yaml", RESOURCES.as_bytes())]);
}

/// A Jinja chart template, with values that it can read.
pub fn jinja(data: &[u8]) {
    render_tree(&[
        ("Chart.yaml", b"apiVersion: v2\nname: fuzz\nversion: 0.1.0\n"),
        ("values.yaml", b"name: web\nreplicas: 2\nlabels: {a: b}\nlist: [1, two, {x: y}]\n"),
        ("templates/t.yaml.j2", data),
    ]);
}

/// A Go template (our `text/template` engine), parsed and executed over
/// helm-like values, with a deadline, fuel and an output cap.
pub fn gotmpl(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut set = crate::gotmpl::Templates::new();
    set.options.deadline = Some(std::time::Instant::now() + Duration::from_secs(5));
    set.options.fuel = Some(10_000_000);
    set.options.max_output = Some(16 << 20);
    if set.parse("t", text).is_err() {
        return;
    }
    let dot = crate::gotmpl::Value::from_json(&serde_json::json!({
        "Values": {"name": "web", "replicas": 2, "labels": {"a": "b"}, "list": [1, "two", {"x": "y"}], "on": true},
        "Release": {"Name": "r", "Namespace": "ns"},
    }));
    let _ = set.execute("t", &dot);
}

/// A plain directory's manifest file, through decoding and validation.
pub fn manifests(data: &[u8]) {
    render_tree(&[("m.yaml", data)]);
}

/// An Argo CD Application file, read and selected.
pub fn application(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let file = dir.path().join("app.yaml");
    if std::fs::write(&file, data).is_err() {
        return;
    }
    if let Ok(apps) = crate::source::app::load(&file) {
        let _ = crate::source::app::select(apps, None, &file);
    }
}

const RESOURCES: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
        envFrom: [{configMapRef: {name: cfg}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: b}
";

/// Writes `files` into a temporary directory and renders it (no plugins,
/// small limits).
fn render_tree(files: &[(&str, &[u8])]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    for (rel, content) in files {
        let path = dir.path().join(rel);
        if let Some(parent) = path.parent()
            && std::fs::create_dir_all(parent).is_err()
        {
            return;
        }
        if std::fs::write(&path, content).is_err() {
            return;
        }
    }
    render_dir(dir.path());
}

fn render_dir(dir: &Path) {
    let Ok(src) = LocalSource::open(dir) else { return };
    let opts = RenderOptions { limits: small_limits(), ..Default::default() };
    let _ = crate::render::render(&src, &opts);
}
