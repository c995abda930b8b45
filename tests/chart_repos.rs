//! Charts from Helm repositories, and chart dependencies, against a real
//! repository on 127.0.0.1: charts packaged and indexed by helm (`helm
//! package`, `helm repo index`), served by the static file server of
//! `support/files.rs` (optionally behind basic auth). Every render is
//! compared with `helm template` of the same chart and values, as parsed
//! documents in helm's order.
//!
//! OCI: charts pushed by `helm push` to the CNCF distribution registry
//! (`support/registry.rs`), anonymous and with basic auth.
//!
//! Needs helm 4 (`$KUBECTL_GITOPS_HELM`, else scripts/install-helm.sh's
//! copy) and docker-registry (scripts/install-test-registry.sh).

#[path = "support/files.rs"]
mod files;
mod git_support;
#[path = "support/registry.rs"]
mod registry;

use std::path::{Path, PathBuf};
use std::process::Command;

use kubectl_gitops::net::{BlockingClient, Credential, HttpOptions, Request};
use kubectl_gitops::render::RenderOptions;
use kubectl_gitops::source::chartrepo::{ChartRef, HostCredential, RepoOptions};
use kubectl_gitops::source::git::Cache;
use kubectl_gitops::source::{SourceRequest, merge_source_objects, resolve};
use kubectl_gitops::yaml::{Dialect, parse_stream};
use serde_json::Value;

fn helm_bin() -> PathBuf {
    let candidates = [
        std::env::var_os("KUBECTL_GITOPS_HELM").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kubectl-gitops-test/bin/helm")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file()).expect("these tests need helm: run scripts/install-helm.sh")
}

/// helm with its own config, cache and data directories under `home`.
fn helm(home: &Path, args: &[&str]) -> String {
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

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The `web` chart at `version` (its templates print what they were given).
fn web_chart(dir: &Path, name: &str, version: &str) -> PathBuf {
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
struct HelmRepo {
    tmp: tempfile::TempDir,
    server: files::FileServer,
}

impl HelmRepo {
    fn new(charts: &[(&str, &str)]) -> HelmRepo {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("repo")).unwrap();
        let server = files::FileServer::start(&tmp.path().join("repo"));
        let r = HelmRepo { tmp, server };
        for (name, version) in charts {
            r.add(name, version);
        }
        r
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    fn repo_dir(&self) -> PathBuf {
        self.tmp.path().join("repo")
    }

    /// Package a `web`-like chart into the repository and index it again.
    fn add(&self, name: &str, version: &str) {
        let c = web_chart(self.tmp.path(), name, version);
        self.package(&c);
    }

    fn package(&self, chart: &Path) {
        helm(&self.home(), &["package", chart.to_str().unwrap(), "-d", self.repo_dir().to_str().unwrap()]);
        helm(&self.home(), &["repo", "index", self.repo_dir().to_str().unwrap()]);
    }

    fn url(&self) -> String {
        self.server.url.clone()
    }
}

fn cache() -> (tempfile::TempDir, Cache) {
    let t = tempfile::tempdir().unwrap();
    let c = Cache::at(t.path().join("cache"));
    (t, c)
}

fn options(repos: RepoOptions) -> RenderOptions {
    RenderOptions { repos, ..Default::default() }
}

fn plain() -> RepoOptions {
    RepoOptions { http: HttpOptions { plain_http: true, ..Default::default() }, ..Default::default() }
}

/// Resolve and render every part, as `usecase::render` does, with `cache`.
fn ours(req: &SourceRequest, opts: RenderOptions, cache: &Cache) -> Result<Vec<Value>, String> {
    let resolved = resolve(req, opts, Some(cache)).map_err(|e| e.to_string())?;
    let mut objects = Vec::new();
    for part in &resolved.parts {
        let rendered = kubectl_gitops::render::render(&part.source, &part.options).map_err(|e| e.to_string())?;
        merge_source_objects(&mut objects, rendered);
    }
    Ok(objects.into_iter().map(|o| o.into_value()).collect())
}

fn docs(text: &str) -> Vec<Value> {
    parse_stream(text, Dialect::Kubectl).unwrap().into_iter().map(|d| d.value).filter(|v| !v.is_null()).collect()
}

fn assert_same(helm: &[Value], ours: &[Value]) {
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

fn chart_req(url: &str, chart: &str, version: &str) -> SourceRequest {
    SourceRequest::Chart(ChartRef { repo: url.into(), chart: chart.into(), version: version.into() })
}

#[test]
fn http_client_reads_caps_and_refuses_plain_http() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("a.txt"), &"x".repeat(1000));
    let server = files::FileServer::start(tmp.path());
    let client = |o: HttpOptions| BlockingClient::new(o).unwrap();
    let ok = client(HttpOptions { plain_http: true, ..Default::default() });
    let r = ok.get(&Request::get(&format!("{}/a.txt", server.url)).unwrap()).unwrap();
    assert_eq!((r.status, r.body.len()), (200, 1000));
    let missing = ok.get(&Request::get(&format!("{}/nothing?token=s3cret", server.url)).unwrap()).unwrap();
    let e = missing.success().unwrap_err().to_string();
    assert_eq!(e, format!("{}/nothing: HTTP 404 Not Found: not found", server.url));
    let small = client(HttpOptions { plain_http: true, max_bytes: 10, ..Default::default() });
    let e = small.get(&Request::get(&format!("{}/a.txt", server.url)).unwrap()).unwrap_err().to_string();
    assert_eq!(e, format!("{}/a.txt: the answer is larger than 10 bytes", server.url));
    let strict = client(HttpOptions::default());
    let e = strict.get(&Request::get(&format!("{}/a.txt", server.url)).unwrap()).unwrap_err().to_string();
    assert!(e.ends_with("plain HTTP is refused; pass --plain-http to allow it"), "{e}");
    assert_eq!(server.hits("/a.txt"), 2, "the refused request never left");
    let e = ok.get(&Request::get("http://127.0.0.1:1/x").unwrap()).unwrap_err().to_string();
    assert!(e.starts_with("http://127.0.0.1:1/x: request failed"), "{e}");
}

#[test]
fn redirects_keep_credentials_on_their_origin() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("a.txt"), "content");
    let other = files::FileServer::start(tmp.path());
    let first = files::FileServer::start(tmp.path());
    // Another host (localhost, not 127.0.0.1), and the same origin.
    first.redirect("/away/", &format!("http://localhost:{}/", other.addr.port()));
    first.redirect("/here/", &format!("{}/", first.url));
    first.redirect("/loop/", &format!("{}/loop/", first.url));
    let client = BlockingClient::new(HttpOptions { plain_http: true, ..Default::default() }).unwrap();
    let cred = Some(Credential::Basic { username: "u".into(), password: "pw".into() });
    let get = |path: &str| client.get(&Request::get(&format!("{}{path}", first.url)).unwrap().credential(cred.clone()));
    assert_eq!(get("/away/a.txt").unwrap().body, b"content");
    assert_eq!(get("/here/a.txt").unwrap().body, b"content");
    let basic = "Basic dTpwdw==".to_string();
    assert_eq!(files::by_path(&other.log())["/a.txt"], [String::new()], "no credentials to another host");
    assert_eq!(files::by_path(&first.log())["/a.txt"], [basic], "credentials kept on the same origin");
    let e = get("/loop/x").unwrap_err().to_string();
    assert_eq!(e, format!("{}/loop/x: more than 10 redirects", first.url));
}

#[test]
fn charts_render_by_exact_version_and_range_like_helm_template() {
    let repo = HelmRepo::new(&[("web", "1.0.0"), ("web", "1.1.0"), ("web", "1.2.0"), ("web", "2.0.0-rc.1")]);
    let (_t, cache) = cache();
    let mut ours_hits = 0;
    for (wanted, picked) in
        [("1.1.0", "1.1.0"), ("~1.1", "1.1.0"), (">=1.0 <2", "1.2.0"), ("", "1.2.0"), (">=2.0.0-0", "2.0.0-rc.1")]
    {
        let mut opts = options(plain());
        opts.chart.release_name = Some("shop".into());
        opts.chart.namespace = Some("team".into());
        opts.chart.values.set = vec!["env.A=1,greeting=hi".into()];
        let before = repo.server.hits("/web-1.2.0.tgz");
        let got = ours(&chart_req(&repo.url(), "web", wanted), opts, &cache).unwrap();
        ours_hits += repo.server.hits("/web-1.2.0.tgz") - before;
        let want = helm(
            &repo.home(),
            &[
                "template",
                "shop",
                "web",
                "--repo",
                &repo.url(),
                "--version",
                picked,
                "--namespace",
                "team",
                "--set",
                "env.A=1,greeting=hi",
                "--include-crds",
            ],
        );
        assert_same(&docs(&want), &got);
        assert_eq!(got[1]["spec"]["template"]["spec"]["containers"][0]["image"], format!("web:{picked}"), "{wanted}");
    }
    // Each archive is downloaded once, then read from the cache.
    assert_eq!(ours_hits, 1);
}

#[test]
fn misses_name_the_repository_chart_and_nearest_versions() {
    let repo = HelmRepo::new(&[("web", "1.0.0"), ("web", "1.1.0"), ("web", "1.2.0")]);
    let (_t, cache) = cache();
    let e = ours(&chart_req(&repo.url(), "web", "1.3.0"), options(plain()), &cache).unwrap_err();
    assert_eq!(
        e,
        format!("chart web 1.3.0 from {}/: no version matches \"1.3.0\"; nearest: 1.2.0, 1.1.0, 1.0.0", repo.url())
    );
    let e = ours(&chart_req(&repo.url(), "webb", "1"), options(plain()), &cache).unwrap_err();
    assert!(e.contains("no chart named \"webb\" in the repository's index (similar: web)"), "{e}");
    let e = ours(&chart_req(&format!("{}/nowhere", repo.url()), "web", "1.0.0"), options(plain()), &cache).unwrap_err();
    assert!(e.contains("/nowhere/index.yaml: HTTP 404 Not Found"), "{e}");
    let e = ours(&chart_req(&repo.url(), "web", "1.0.0"), RenderOptions::default(), &cache).unwrap_err();
    assert!(e.contains("plain HTTP is refused; pass --plain-http"), "{e}");
}

#[test]
fn offline_renders_from_the_cache_and_index_revalidates_with_its_etag() {
    let repo = HelmRepo::new(&[("web", "1.0.0"), ("web", "1.1.0")]);
    let (_t, cache) = cache();
    let online = ours(&chart_req(&repo.url(), "web", "~1.0"), options(plain()), &cache).unwrap();
    let again = ours(&chart_req(&repo.url(), "web", "~1.0"), options(plain()), &cache).unwrap();
    assert_eq!(online, again);
    assert_eq!(
        (repo.server.hits("/index.yaml"), repo.server.hits("/web-1.0.0.tgz")),
        (2, 1),
        "the archive is cached by digest"
    );
    assert_eq!(repo.server.not_modified(), 1, "the second run revalidated the index with its ETag");
    let url = repo.url();
    drop(repo);
    let offline = RepoOptions { offline: true, ..plain() };
    assert_eq!(ours(&chart_req(&url, "web", "~1.0"), options(offline.clone()), &cache).unwrap(), online);
    let e = ours(&chart_req(&url, "web", "1.1.0"), options(offline.clone()), &cache).unwrap_err();
    assert_eq!(
        e,
        format!(
            "chart web 1.1.0 from {url}/: version 1.1.0 is not in the cache (run once without --offline to fetch it)"
        )
    );
    let (_t2, empty) = self::cache();
    let e = ours(&chart_req(&url, "web", "1.0.0"), options(offline), &empty).unwrap_err();
    assert!(e.contains("index is not in the cache (run once without --offline"), "{e}");
}

#[test]
fn basic_auth_goes_to_the_repository_host_only_and_digests_are_checked() {
    let repo = HelmRepo::new(&[("web", "1.0.0")]);
    // A second server on another host name serves a chart the index points at by absolute URL.
    let cdn_dir = tempfile::tempdir().unwrap();
    let cdn = files::FileServer::start(cdn_dir.path());
    let c = web_chart(repo.tmp.path(), "other", "0.1.0");
    helm(&repo.home(), &["package", c.to_str().unwrap(), "-d", cdn_dir.path().to_str().unwrap()]);
    let cdn_url = format!("http://localhost:{}", cdn.addr.port());
    helm(&repo.home(), &["repo", "index", cdn_dir.path().to_str().unwrap(), "--url", &cdn_url]);
    let cdn_index = std::fs::read_to_string(cdn_dir.path().join("index.yaml")).unwrap();
    // Merge the two indexes: `other` lives on the CDN.
    helm(
        &repo.home(),
        &[
            "repo",
            "index",
            repo.repo_dir().to_str().unwrap(),
            "--merge",
            cdn_dir.path().join("index.yaml").to_str().unwrap(),
        ],
    );
    assert!(cdn_index.contains(&cdn_url));
    repo.server.require_basic("ann", "s3cret");
    let (_t, cache) = cache();
    let e = ours(&chart_req(&repo.url(), "web", "1.0.0"), options(plain()), &cache).unwrap_err();
    assert!(e.contains("/index.yaml: HTTP 401 Unauthorized"), "{e}");
    let host = format!("127.0.0.1:{}", repo.server.addr.port());
    let cred = Credential::Basic { username: "ann".into(), password: "s3cret".into() };
    let with_auth = RepoOptions { credentials: vec![HostCredential { host, credential: cred }], ..plain() };
    let got = ours(&chart_req(&repo.url(), "web", "1.0.0"), options(with_auth.clone()), &cache).unwrap();
    assert_eq!(got.len(), 2);
    ours(&chart_req(&repo.url(), "other", "0.1.0"), options(with_auth.clone()), &cache).unwrap();
    assert!(cdn.log().iter().all(|(_, auth)| auth.is_empty()), "credentials reached another host: {:?}", cdn.log());
    assert!(repo.server.log().iter().any(|(_, auth)| auth == "Basic YW5uOnMzY3JldA=="));
    // A tampered archive fails its digest (a fresh cache, so it is downloaded).
    let archive = repo.repo_dir().join("web-1.0.0.tgz");
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes.push(0);
    std::fs::write(&archive, bytes).unwrap();
    let (_t2, fresh) = self::cache();
    let e = ours(&chart_req(&repo.url(), "web", "1.0.0"), options(with_auth), &fresh).unwrap_err();
    assert!(e.contains("/web-1.0.0.tgz: the archive's digest sha256:"), "{e}");
    assert!(e.contains("is not the index's sha256:"), "{e}");
}

/// The `app` chart of a config repository: dependencies on `web` (a
/// range), on `db` through a repository alias, and on `lib` (file://).
fn app_tree(root: &Path, url: &str, web_range: &str) {
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

fn copy_tree(from: &Path, to: &Path) {
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

#[test]
fn dependencies_resolve_like_helm_dependency_build_with_and_without_a_lock() {
    let repo = HelmRepo::new(&[("web", "1.1.0"), ("web", "1.1.5"), ("web", "1.2.0"), ("db", "0.3.0")]);
    helm(&repo.home(), &["repo", "add", "test", &repo.url()]);
    let repos = RepoOptions { repositories_file: Some(repo.home().join("config/repositories.yaml")), ..plain() };
    let (_t, cache) = cache();
    let config = tempfile::tempdir().unwrap();
    app_tree(config.path(), &repo.url(), "~1.1.0");
    let local = |root: &Path| SourceRequest::Local { path: root.join("app"), root: Some(root.to_path_buf()) };
    let render_ours = |root: &Path| {
        let mut opts = options(repos.clone());
        opts.chart.release_name = Some("rel".into());
        ours(&local(root), opts, &cache)
    };
    let helm_built = |root: &Path, cmd: &str| {
        let copy = tempfile::tempdir().unwrap();
        copy_tree(root, copy.path());
        helm(&repo.home(), &["dependency", cmd, copy.path().join("app").to_str().unwrap()]);
        let out = helm(&repo.home(), &["template", "rel", copy.path().join("app").to_str().unwrap(), "--include-crds"]);
        (copy, docs(&out))
    };
    // Without a lock: the newest version in each range.
    let got = render_ours(config.path()).unwrap();
    let (_c1, want) = helm_built(config.path(), "build");
    assert_same(&want, &got);
    assert!(got.iter().any(|o| o["metadata"]["labels"]["chart"] == "web-1.1.5"));
    // With helm's lock of that moment: a newer 1.1.x is ignored.
    let (locked, _) = helm_built(config.path(), "update");
    std::fs::copy(locked.path().join("app/Chart.lock"), config.path().join("app/Chart.lock")).unwrap();
    repo.add("web", "1.1.9");
    let got = render_ours(config.path()).unwrap();
    let (_c2, want) = helm_built(config.path(), "build");
    assert_same(&want, &got);
    assert!(got.iter().any(|o| o["metadata"]["labels"]["chart"] == "web-1.1.5"), "the lock pins 1.1.5");
    // A lock that no longer matches Chart.yaml: helm's error.
    app_tree(config.path(), &repo.url(), "~1.2.0");
    let e = render_ours(config.path()).unwrap_err();
    let helm_says = "the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml). Please update the dependencies";
    assert!(e.contains(&format!("found in Chart.yaml, but missing in charts/ directory: web (version ~1.2.0, locked 1.1.5, repository {}): not fetched: {helm_says}", repo.url())), "{e}");
    // A file:// dependency outside the root is refused.
    let outside = tempfile::tempdir().unwrap();
    app_tree(outside.path(), &repo.url(), "~1.1.0");
    let inner = outside.path().join("app");
    let req = SourceRequest::Local { path: inner.clone(), root: Some(inner) };
    let e = ours(&req, options(repos.clone()), &cache).unwrap_err();
    assert!(e.contains("outside the source root"), "{e}");
}

#[test]
fn applications_with_a_chart_source_and_values_from_git() {
    let repo = HelmRepo::new(&[("web", "1.0.0"), ("web", "1.1.0")]);
    let values = git_support::Repo::new();
    values.write("envs/prod.yaml", "env:\n  REGION: eu\nreplicas: 5\n");
    values.commit("values");
    let app = values.tmp.path().join("app.yaml");
    let text = format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: shop, namespace: argocd}}
spec:
  project: default
  destination: {{server: https://kubernetes.default.svc, namespace: shop-ns}}
  sources:
  - repoURL: {url}
    chart: web
    targetRevision: "~1.0"
    helm:
      releaseName: storefront
      valueFiles: [values-prod.yaml, $values/envs/prod.yaml]
      values: |
        greeting: inline
      parameters:
      - {{name: env.TIER, value: gold}}
  - repoURL: {git}
    targetRevision: HEAD
    ref: values
"#,
        url = repo.url(),
        git = values.work.display()
    );
    write(&app, &text);
    let (_t, cache) = cache();
    let req =
        SourceRequest::App { file: app.clone(), name: None, revision: None, offline: false, git: Default::default() };
    let got = ours(&req, options(plain()), &cache).unwrap();
    let pulled = tempfile::tempdir().unwrap();
    helm(
        &repo.home(),
        &["pull", "web", "--repo", &repo.url(), "--version", "1.0.0", "--untar", "-d", pulled.path().to_str().unwrap()],
    );
    let inline = pulled.path().join("inline.yaml");
    write(&inline, "greeting: inline\n");
    let chart = pulled.path().join("web");
    let want = helm(
        &repo.home(),
        &[
            "template",
            "storefront",
            chart.to_str().unwrap(),
            "--namespace",
            "shop-ns",
            "--include-crds",
            "-f",
            chart.join("values-prod.yaml").to_str().unwrap(),
            "-f",
            values.work.join("envs/prod.yaml").to_str().unwrap(),
            "-f",
            inline.to_str().unwrap(),
            "--set",
            "env.TIER=gold",
        ],
    );
    assert_same(&docs(&want), &got);
    assert_eq!(got[0]["data"]["env_REGION"], "eu");
}

#[test]
fn argocd_example_helm_dependency_renders_once_its_dependency_is_served() {
    let repo = HelmRepo::new(&[]);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/chart-repos");
    let stand_in = repo.tmp.path().join("wordpress");
    copy_tree(&data.join("wordpress"), &stand_in);
    repo.package(&stand_in);
    // The app as in argocd-example-apps, its repository pointed at the loopback one.
    let config = tempfile::tempdir().unwrap();
    copy_tree(&data.join("helm-dependency"), &config.path().join("helm-dependency"));
    let chart_yaml = config.path().join("helm-dependency/Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml).unwrap().replace("https://charts.helm.sh/stable", &repo.url());
    std::fs::write(&chart_yaml, text).unwrap();
    let (_t, cache) = cache();
    let dir = config.path().join("helm-dependency");
    for values in [None, Some("values-nomaria.yaml")] {
        let mut opts = options(plain());
        opts.chart.release_name = Some("wp".into());
        opts.chart.values.files = values.iter().map(|v| dir.join(v)).collect();
        let req = SourceRequest::Local { path: dir.clone(), root: Some(config.path().to_path_buf()) };
        let got = ours(&req, opts, &cache).unwrap();
        let built = tempfile::tempdir().unwrap();
        copy_tree(&dir, built.path());
        helm(&repo.home(), &["dependency", "build", built.path().to_str().unwrap()]);
        let mut args = vec!["template", "wp", built.path().to_str().unwrap(), "--include-crds"];
        let file = values.map(|v| built.path().join(v).display().to_string());
        if let Some(f) = &file {
            args.extend(["-f", f.as_str()]);
        }
        assert_same(&docs(&helm(&repo.home(), &args)), &got);
        let kinds: Vec<&str> = got.iter().filter_map(|o| o["kind"].as_str()).collect();
        assert_eq!(kinds.contains(&"StatefulSet"), values.is_none(), "{values:?}: {kinds:?}");
    }
}

/// Package `web` at each version and push it to `oci://HOST/charts`.
fn push_charts(repo: &HelmRepo, host: &str, versions: &[&str], login: Option<(&str, &str)>) {
    for v in versions {
        repo.add("web", v);
        let archive = repo.repo_dir().join(format!("web-{v}.tgz"));
        let target = format!("oci://{host}/charts");
        let mut args = vec!["push", archive.to_str().unwrap(), target.as_str(), "--plain-http"];
        if let Some((u, p)) = login {
            args.extend(["--username", u, "--password", p]);
        }
        helm(&repo.home(), &args);
    }
}

#[test]
fn oci_charts_render_like_helm_template_anonymously_and_offline() {
    let reg = registry::Registry::start(None);
    let repo = HelmRepo::new(&[]);
    push_charts(&repo, &reg.host, &["1.0.0", "1.1.0", "1.2.0"], None);
    let (_t, cache) = cache();
    for (repo_url, wanted, picked) in [
        (format!("oci://{}/charts", reg.host), "1.1.0", "1.1.0"),
        (format!("oci://{}/charts", reg.host), "~1.0", "1.0.0"),
        // Argo CD's form, without the scheme.
        (format!("{}/charts", reg.host), ">=1.0", "1.2.0"),
    ] {
        let mut opts = options(plain());
        opts.chart.release_name = Some("reg".into());
        let got = ours(&chart_req(&repo_url, "web", wanted), opts, &cache).unwrap();
        let oci = format!("oci://{}/charts/web", reg.host);
        let want =
            helm(&repo.home(), &["template", "reg", &oci, "--version", picked, "--plain-http", "--include-crds"]);
        assert_same(&docs(&want), &got);
        assert_eq!(got[1]["spec"]["template"]["spec"]["containers"][0]["image"], format!("web:{picked}"));
    }
    let online =
        ours(&chart_req(&format!("oci://{}/charts", reg.host), "web", "~1.0"), options(plain()), &cache).unwrap();
    // Without --plain-http, registries are spoken to over HTTPS only.
    let (_t2, fresh) = self::cache();
    let e = ours(&chart_req(&format!("oci://{}/charts", reg.host), "web", "1.0.0"), RenderOptions::default(), &fresh)
        .unwrap_err();
    assert!(e.contains(&format!("https://{}/v2/charts/web/manifests/1.0.0: request failed", reg.host)), "{e}");
    let host = reg.host.clone();
    drop(reg);
    let offline = RepoOptions { offline: true, ..plain() };
    for wanted in ["~1.0", "1.0.0"] {
        let got =
            ours(&chart_req(&format!("oci://{host}/charts"), "web", wanted), options(offline.clone()), &cache).unwrap();
        assert_eq!(got, online, "{wanted}");
    }
    let e = ours(&chart_req(&format!("oci://{host}/charts"), "web", "1.2.1"), options(offline), &cache).unwrap_err();
    assert_eq!(
        e,
        format!(
            "chart web 1.2.1 from oci://{host}/charts: version 1.2.1 is not in the cache (run once without --offline to fetch it)"
        )
    );
}

#[test]
fn oci_basic_auth_from_flags_or_the_docker_config() {
    let reg = registry::Registry::start(Some(("ci", "p4ss")));
    let repo = HelmRepo::new(&[]);
    push_charts(&repo, &reg.host, &["1.0.0", "1.1.0"], Some(("ci", "p4ss")));
    let repo_url = format!("oci://{}/charts", reg.host);
    let (_t, cache) = cache();
    let nowhere = repo.tmp.path().join("no-docker-config.json");
    let anonymous = RepoOptions { docker_config: Some(nowhere.clone()), ..plain() };
    let e = ours(&chart_req(&repo_url, "web", "~1.0"), options(anonymous), &cache).unwrap_err();
    assert!(
        e.starts_with(&format!(
            "chart web ~1.0 from {repo_url}: http://{}/v2/charts/web/tags/list: HTTP 401 Unauthorized",
            reg.host
        )),
        "{e}"
    );
    let cred = Credential::Basic { username: "ci".into(), password: "p4ss".into() };
    let flags = RepoOptions {
        credentials: vec![HostCredential { host: reg.host.clone(), credential: cred }],
        docker_config: Some(nowhere),
        ..plain()
    };
    let want = helm(
        &repo.home(),
        &[
            "template",
            "rel",
            &format!("{repo_url}/web"),
            "--version",
            "1.1.0",
            "--plain-http",
            "--username",
            "ci",
            "--password",
            "p4ss",
        ],
    );
    let mut opts = options(flags);
    opts.chart.release_name = Some("rel".into());
    assert_same(&docs(&want), &ours(&chart_req(&repo_url, "web", "~1.1"), opts, &cache).unwrap());
    // The same credential from a Docker config file (`auths`), in a fresh cache.
    let config = repo.tmp.path().join("docker/config.json");
    write(&config, &format!(r#"{{"auths": {{"{}": {{"auth": "Y2k6cDRzcw=="}}}}}}"#, reg.host));
    let (_t2, fresh) = self::cache();
    let mut opts = options(RepoOptions { docker_config: Some(config), ..plain() });
    opts.chart.release_name = Some("rel".into());
    assert_same(&docs(&want), &ours(&chart_req(&repo_url, "web", "1.1.0"), opts, &fresh).unwrap());
}

#[test]
fn oci_dependencies_resolve_from_the_registry() {
    let reg = registry::Registry::start(None);
    let repo = HelmRepo::new(&[]);
    push_charts(&repo, &reg.host, &["1.0.0", "1.0.4", "1.1.0"], None);
    let config = tempfile::tempdir().unwrap();
    write(
        &config.path().join("app/Chart.yaml"),
        &format!(
            "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: web\n  version: \"~1.0.0\"\n  repository: oci://{}/charts\n",
            reg.host
        ),
    );
    let (_t, cache) = cache();
    let req = SourceRequest::Local { path: config.path().join("app"), root: Some(config.path().to_path_buf()) };
    let got = ours(&req, options(plain()), &cache).unwrap();
    let built = tempfile::tempdir().unwrap();
    copy_tree(config.path(), built.path());
    let app = built.path().join("app");
    helm(&repo.home(), &["dependency", "build", app.to_str().unwrap(), "--plain-http"]);
    assert_same(&docs(&helm(&repo.home(), &["template", "release-name", app.to_str().unwrap()])), &got);
    assert!(got.iter().any(|o| o["metadata"]["labels"]["chart"] == "web-1.0.4"));
}

/// The binary, with its cache under `cache`.
fn cli(cache: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-gitops"))
        .args(args)
        .env("KUBECTL_GITOPS_CACHE_DIR", cache)
        .env_remove("KUBECTL_GITOPS_PLAIN_HTTP")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn the_command_line_renders_a_chart_by_repo_chart_and_version() {
    let repo = HelmRepo::new(&[("web", "1.0.0"), ("web", "1.1.0")]);
    let cache = tempfile::tempdir().unwrap();
    let url = repo.url();
    let base = ["render", "--repo", url.as_str(), "--chart", "web", "--release-name", "cli", "-o", "name"];
    let (code, out, err) = cli(cache.path(), &[&base[..], &["--version", "~1.0", "--plain-http"]].concat());
    assert_eq!((code, out.as_str()), (0, "configmap/cli-web\ndeployment.apps/cli-web\n"), "{err}");
    let (code, _, err) = cli(cache.path(), &[&base[..], &["--version", "1.0.0"]].concat());
    assert_eq!(code, 2);
    assert!(err.contains("plain HTTP is refused; pass --plain-http"), "{err}");
    let (code, _, err) = cli(cache.path(), &[&base[..], &["--version", "9.9.9", "--plain-http"]].concat());
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("chart web 9.9.9 from {url}/: no version matches \"9.9.9\"; nearest: 1.1.0, 1.0.0")),
        "{err}"
    );
    drop(repo);
    let (code, out, err) =
        cli(cache.path(), &[&base[..], &["--version", "1.0.0", "--offline", "--plain-http"]].concat());
    assert_eq!((code, out.as_str()), (0, "configmap/cli-web\ndeployment.apps/cli-web\n"), "{err}");
    let (code, _, err) = cli(cache.path(), &["render", "--repo", &url, "--chart", "web", "--revision", "1.0.0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--chart takes --version"), "{err}");
}

#[test]
fn the_registry_client_follows_the_token_flow_and_tag_pages() {
    use kubectl_gitops::net::oci::Registry;
    let tmp = tempfile::tempdir().unwrap();
    let layer = b"not really a chart";
    let digest = format!("sha256:{}", kubectl_gitops::source::chartrepo::cache::sha256_hex(layer));
    let base = tmp.path().join("v2/charts/web");
    write(&base.join("tags/list"), r#"{"name": "charts/web", "tags": ["1.0.0", "1.1.0"]}"#);
    write(&base.join("tags/page2"), r#"{"name": "charts/web", "tags": ["1.2.0"]}"#);
    let manifest = format!(
        r#"{{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [{{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": "{digest}", "size": {}}}]}}"#,
        layer.len()
    );
    write(&base.join("manifests/1.2.0"), &manifest);
    write(&base.join(format!("blobs/{digest}")), std::str::from_utf8(layer).unwrap());
    write(&base.join("blobs/sha256:0000"), "tampered");
    let server = files::FileServer::start(tmp.path());
    server.require_basic("ci", "tok3n-pass");
    server.require_bearer("t0ken");
    server.header("/v2/charts/web/tags/list", "link", "</v2/charts/web/tags/page2>; rel=\"next\"");
    let http = BlockingClient::new(HttpOptions { plain_http: true, ..Default::default() }).unwrap();
    let cred = Credential::Basic { username: "ci".into(), password: "tok3n-pass".into() };
    let reg = Registry::new(http.client().clone(), &server.addr.to_string(), Some(cred));
    assert_eq!(http.block_on(reg.tags("charts/web")).unwrap(), ["1.0.0", "1.1.0", "1.2.0"]);
    let m = http.block_on(reg.manifest("charts/web", "1.2.0")).unwrap();
    let layers = m.layers(kubectl_gitops::net::oci::HELM_CHART_LAYER);
    assert_eq!(layers, [(digest.clone(), layer.len() as u64)]);
    assert_eq!(http.block_on(reg.blob("charts/web", &digest)).unwrap(), layer);
    let e = http.block_on(reg.blob("charts/web", "sha256:0000")).unwrap_err().to_string();
    assert!(e.contains("the blob's digest is sha256:"), "{e}");
    let log = server.log();
    // The basic credentials went to the token endpoint only; the registry saw the token.
    assert!(log.iter().filter(|(p, _)| p == "/token").all(|(_, a)| a == "Basic Y2k6dG9rM24tcGFzcw=="));
    assert!(log.iter().filter(|(p, _)| p.starts_with("/v2/")).all(|(_, a)| a.is_empty() || a == "Bearer t0ken"));
    assert_eq!(log.iter().filter(|(p, _)| p == "/token").count(), 1, "one token for the repository's scope");
    // Anonymous: the token endpoint refuses, and the error names it.
    let anon = Registry::new(http.client().clone(), &server.addr.to_string(), None);
    let e = http.block_on(anon.tags("charts/web")).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}/token: HTTP 401 Unauthorized", server.url)), "{e}");
}

#[test]
fn tls_is_verified_and_a_ca_file_adds_trust() {
    let tmp = tempfile::tempdir().unwrap();
    // A CA, and a certificate for 127.0.0.1 it signed.
    let p = |name: &str| tmp.path().join(name).display().to_string();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    write(&tmp.path().join("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
    for args in [
        [
            &["req", "-x509", "-days", "1", "-subj", "/CN=test-ca"][..],
            &ec,
            &["-keyout", &p("ca.key"), "-out", &p("ca.pem")],
        ]
        .concat(),
        [&["req", "-subj", "/CN=127.0.0.1"][..], &ec, &["-keyout", &p("key.pem"), "-out", &p("leaf.csr")]].concat(),
        ["x509", "-req", "-days", "1", "-in", &p("leaf.csr"), "-CA", &p("ca.pem"), "-CAkey", &p("ca.key")]
            .into_iter()
            .chain(["-CAcreateserial", "-extfile", &p("ext.cnf"), "-out", &p("cert.pem")])
            .collect::<Vec<&str>>(),
    ] {
        let out = Command::new("openssl").args(&args).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (cert, key, ca) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"), tmp.path().join("ca.pem"));
    write(&tmp.path().join("files/a.txt"), "secure");
    let server = files::FileServer::start_tls(&tmp.path().join("files"), &cert, &key);
    let plain_server = files::FileServer::start(&tmp.path().join("files"));
    server.redirect("/down/", &format!("{}/", plain_server.url));
    let get = |o: HttpOptions, path: &str| {
        BlockingClient::new(o).unwrap().get(&Request::get(&format!("{}{path}", server.url)).unwrap())
    };
    let e = get(HttpOptions::default(), "/a.txt").unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}/a.txt: request failed", server.url)) && e.contains("certificate"), "{e}");
    let trusted = HttpOptions { ca_file: Some(ca), ..Default::default() };
    assert_eq!(get(trusted.clone(), "/a.txt").unwrap().body, b"secure");
    // A redirect from HTTPS down to plain HTTP needs --plain-http.
    let e = get(trusted, "/down/a.txt").unwrap_err().to_string();
    assert_eq!(e, format!("{}/a.txt: plain HTTP is refused; pass --plain-http to allow it", plain_server.url));
    let e = BlockingClient::new(HttpOptions { ca_file: Some(key), ..Default::default() }).unwrap_err().to_string();
    assert!(e.ends_with("no PEM certificate in the CA file"), "{e}");
}

#[test]
fn concurrent_runs_share_the_cache_safely() {
    let repo = HelmRepo::new(&[("web", "1.0.0"), ("web", "1.1.0")]);
    let (_t, cache) = cache();
    let results: Vec<Vec<Value>> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..6)
            .map(|i| {
                let (url, cache) = (repo.url(), cache.clone());
                let wanted = if i % 2 == 0 { "1.0.0" } else { "~1.1" };
                s.spawn(move || ours(&chart_req(&url, "web", wanted), options(plain()), &cache).unwrap())
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r, &results[i % 2], "run {i}");
    }
    assert_ne!(results[0], results[1]);
    let blobs = std::fs::read_dir(cache.root().join("charts/blobs/sha256")).unwrap().count();
    assert_eq!(blobs, 2, "one archive per version, no temporary files left");
}

#[test]
fn dependencies_use_the_credentials_of_helms_repositories_file() {
    let repo = HelmRepo::new(&[("db", "0.3.0"), ("web", "1.0.0")]);
    repo.server.require_basic("dep", "pa55");
    helm(&repo.home(), &["repo", "add", "test", &repo.url(), "--username", "dep", "--password", "pa55"]);
    let config = tempfile::tempdir().unwrap();
    // By alias, and by the same URL.
    write(
        &config.path().join("app/Chart.yaml"),
        &format!(
            "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: db\n  version: 0.3.0\n  repository: \"@test\"\n- name: web\n  version: 1.0.0\n  repository: {}\n",
            repo.url()
        ),
    );
    let (_t, cache) = cache();
    let req = SourceRequest::Local { path: config.path().join("app"), root: Some(config.path().to_path_buf()) };
    let without = ours(&req, options(plain()), &cache).unwrap_err();
    assert!(
        without.contains("db (version 0.3.0, repository @test): not fetched: no repository named \"test\""),
        "{without}"
    );
    let repos = RepoOptions { repositories_file: Some(repo.home().join("config/repositories.yaml")), ..plain() };
    let got = ours(&req, options(repos), &cache).unwrap();
    let built = tempfile::tempdir().unwrap();
    copy_tree(config.path(), built.path());
    let app = built.path().join("app");
    helm(&repo.home(), &["dependency", "build", app.to_str().unwrap()]);
    assert_same(&docs(&helm(&repo.home(), &["template", "release-name", app.to_str().unwrap()])), &got);
}

#[test]
fn vendored_dependencies_need_no_cache_and_no_network() {
    let config = tempfile::tempdir().unwrap();
    write(
        &config.path().join("app/Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 0.1.0\n  repository: https://charts.invalid/\n",
    );
    write(&config.path().join("app/charts/sub/Chart.yaml"), "apiVersion: v2\nname: sub\nversion: 0.1.0\n");
    write(
        &config.path().join("app/charts/sub/templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\n",
    );
    // No HOME, no cache directory: nothing to fetch, so none is needed.
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-gitops"))
        .args(["render", "app", "-o", "name"])
        .current_dir(config.path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "configmap/sub\n", "{}", String::from_utf8_lossy(&out.stderr));
}
