//! Shared by the chart repository tests (`chart_repos.rs`, `chart_oci.rs`):
//! helm run with its own state, a `web` test chart, a Helm repository
//! served by `files::FileServer`, and the comparison of a render with
//! `helm template` as parsed documents in helm's order.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use kubectl_gitops::net::HttpOptions;
use kubectl_gitops::render::RenderOptions;
use kubectl_gitops::source::chartrepo::{ChartRef, RepoOptions};
use kubectl_gitops::source::git::Cache;
use kubectl_gitops::source::{SourceRequest, merge_source_objects, resolve};
use kubectl_gitops::yaml::{Dialect, parse_stream};
use serde_json::Value;

use super::files;

pub fn helm_bin() -> PathBuf {
    let candidates = [
        std::env::var_os("KUBECTL_GITOPS_HELM").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kubectl-gitops-test/bin/helm")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file()).expect("these tests need helm: run scripts/install-helm.sh")
}

/// helm with its own config, cache and data directories under `home`.
pub fn helm(home: &Path, args: &[&str]) -> String {
    let out = Command::new(helm_bin())
        .args(args)
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_REPOSITORY_CONFIG", home.join("config/repositories.yaml"))
        .output()
        .expect("run helm");
    assert!(out.status.success(), "helm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The `web` chart at `version` (its templates print what they were given).
pub fn web_chart(dir: &Path, name: &str, version: &str) -> PathBuf {
    let c = dir.join(format!("src/{name}-{version}"));
    write(&c.join("Chart.yaml"), &format!("apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"1\"\n"));
    write(&c.join("values.yaml"), "greeting: hello\nreplicas: 1\nenv: {}\n");
    write(&c.join("values-prod.yaml"), "greeting: hello from prod\nreplicas: 3\n");
    write(
        &c.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\n  namespace: {{ .Release.Namespace }}\n  labels:\n    chart: {{ .Chart.Name }}-{{ .Chart.Version }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n  {{- range $k, $v := .Values.env }}\n  env_{{ $k }}: {{ $v | quote }}\n  {{- end }}\n",
    );
    write(
        &c.join("templates/deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: web:{{ .Chart.Version }}\n",
    );
    c
}

/// A Helm repository served over HTTP: `repo/` holds the archives and
/// `index.yaml` (relative URLs), `home/` is helm's own state.
pub struct HelmRepo {
    pub tmp: tempfile::TempDir,
    pub server: files::FileServer,
}

impl HelmRepo {
    pub fn new(charts: &[(&str, &str)]) -> HelmRepo {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("repo")).unwrap();
        let server = files::FileServer::start(&tmp.path().join("repo"));
        let r = HelmRepo { tmp, server };
        for (name, version) in charts {
            r.add(name, version);
        }
        r
    }

    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    pub fn repo_dir(&self) -> PathBuf {
        self.tmp.path().join("repo")
    }

    /// Package a `web`-like chart into the repository and index it again.
    pub fn add(&self, name: &str, version: &str) {
        let c = web_chart(self.tmp.path(), name, version);
        self.package(&c);
    }

    pub fn package(&self, chart: &Path) {
        helm(&self.home(), &["package", chart.to_str().unwrap(), "-d", self.repo_dir().to_str().unwrap()]);
        helm(&self.home(), &["repo", "index", self.repo_dir().to_str().unwrap()]);
    }

    pub fn url(&self) -> String {
        self.server.url.clone()
    }
}

pub fn cache() -> (tempfile::TempDir, Cache) {
    let t = tempfile::tempdir().unwrap();
    let c = Cache::at(t.path().join("cache"));
    (t, c)
}

pub fn options(repos: RepoOptions) -> RenderOptions {
    RenderOptions { repos, ..Default::default() }
}

pub fn plain() -> RepoOptions {
    RepoOptions { http: HttpOptions { plain_http: true, ..Default::default() }, ..Default::default() }
}

/// Resolve and render every part, as `usecase::render` does, with `cache`.
pub fn ours(req: &SourceRequest, opts: RenderOptions, cache: &Cache) -> Result<Vec<Value>, String> {
    let resolved = resolve(req, opts, Some(cache)).map_err(|e| e.to_string())?;
    let mut objects = Vec::new();
    for part in &resolved.parts {
        let rendered = kubectl_gitops::render::render(&part.source, &part.options).map_err(|e| e.to_string())?;
        merge_source_objects(&mut objects, rendered);
    }
    Ok(objects.into_iter().map(|o| o.into_value()).collect())
}

pub fn docs(text: &str) -> Vec<Value> {
    parse_stream(text, Dialect::Kubectl).unwrap().into_iter().map(|d| d.value).filter(|v| !v.is_null()).collect()
}

pub fn assert_same(helm: &[Value], ours: &[Value]) {
    if helm != ours {
        let show = |v: &[Value]| serde_json::to_string_pretty(v).unwrap();
        let diff = similar::TextDiff::from_lines(&show(helm), &show(ours))
            .unified_diff()
            .context_radius(3)
            .header("helm", "kubectl-gitops")
            .to_string();
        panic!("the render differs from helm template:\n{diff}");
    }
}

pub fn chart_req(url: &str, chart: &str, version: &str) -> SourceRequest {
    SourceRequest::Chart(ChartRef { repo: url.into(), chart: chart.into(), version: version.into() })
}

/// The `app` chart of a config repository: dependencies on `web` (a
/// range), on `db` through a repository alias, and on `lib` (file://).
pub fn app_tree(root: &Path, url: &str, web_range: &str) {
    write(
        &root.join("app/Chart.yaml"),
        &format!(
            "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: web\n  version: \"{web_range}\"\n  repository: {url}\n- name: db\n  version: 0.3.0\n  repository: \"@test\"\n  alias: database\n- name: lib\n  version: 0.2.0\n  repository: file://../lib\n  condition: lib.enabled\n"
        ),
    );
    write(
        &root.join("app/values.yaml"),
        "web:\n  greeting: from app\ndatabase:\n  replicas: 2\nlib:\n  enabled: true\n",
    );
    write(
        &root.join("app/templates/own.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-own\ndata:\n  web: {{ .Values.web.greeting | quote }}\n",
    );
    write(&root.join("lib/Chart.yaml"), "apiVersion: v2\nname: lib\nversion: 0.2.0\n");
    write(
        &root.join("lib/templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-lib\n",
    );
}

pub fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let out = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&out).unwrap();
        } else {
            std::fs::copy(e.path(), &out).unwrap();
        }
    }
}
