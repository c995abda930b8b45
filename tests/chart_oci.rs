//! Charts from OCI registries, against the CNCF distribution registry
//! (Debian's `docker-registry`, `support/registry.rs`) on 127.0.0.1, with
//! charts pushed by `helm push`, anonymous and with basic auth; and the
//! registry client's bearer-token flow and tag pages against a loopback
//! token server. Every render is compared with `helm template` of the same
//! chart (`support/charts.rs`).
//!
//! Needs helm 4 (`$KUBECTL_GITOPS_HELM`, else scripts/install-helm.sh's
//! copy) and docker-registry (scripts/install-test-registry.sh).

#[path = "support/charts.rs"]
mod charts;
#[path = "support/files.rs"]
mod files;
#[path = "support/registry.rs"]
mod registry;

use charts::*;
use kubectl_gitops::net::{BlockingClient, Credential, HttpOptions};
use kubectl_gitops::render::RenderOptions;
use kubectl_gitops::source::SourceRequest;
use kubectl_gitops::source::chartrepo::{HostCredential, RepoOptions};

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
    let e =
        ours(&chart_req(&format!("oci://{}/charts", reg.host), "web", "1.3.0"), options(plain()), &cache).unwrap_err();
    assert_eq!(
        e,
        format!(
            "chart web 1.3.0 from oci://{}/charts: no version matches \"1.3.0\"; nearest: 1.2.0, 1.1.0, 1.0.0",
            reg.host
        )
    );
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
