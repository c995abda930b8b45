//! Charts from Helm repositories, and chart dependencies, against a real
//! repository on 127.0.0.1: charts packaged and indexed by helm (`helm
//! package`, `helm repo index`), served by the static file server of
//! `support/files.rs` (optionally behind basic auth). Every render is
//! compared with `helm template` of the same chart and values, as parsed
//! documents in helm's order.
//!
//! Also the HTTP client itself (TLS, redirects, limits). OCI registries are
//! in `chart_oci.rs`; the shared helpers in `support/charts.rs`.
//!
//! Needs helm 4 (`$KUBECTL_GITOPS_HELM`, else scripts/install-helm.sh's copy).
#[path = "support/charts.rs"]
mod charts;
#[path = "support/files.rs"]
mod files;
mod git_support;

use std::path::Path;
use std::process::Command;

use charts::*;
use kubectl_gitops::net::{BlockingClient, Credential, HttpOptions, Request};
use kubectl_gitops::render::RenderOptions;
use kubectl_gitops::source::SourceRequest;
use kubectl_gitops::source::chartrepo::{HostCredential, RepoOptions};
use serde_json::Value;

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
