//! `render -f APP` and `apps -f DIR`: Argo CD Application files pointing at
//! git repositories created by the tests (local paths, file://, git://).

mod git_support;

use git_support::{Env, GitDaemon, Repo, cm};
use serde_json::Value;

fn app(name: &str, repo: &str, path: &str, extra_source: &str, extra_spec: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
spec:
  project: team-a
  source:
    repoURL: {repo}
    targetRevision: HEAD
    path: {path}
{extra_source}  destination:
    server: https://kubernetes.default.svc
    namespace: {name}-ns
{extra_spec}"
    )
}

/// A config repo with one directory per tool.
fn config_repo() -> (Repo, String) {
    let repo = Repo::new();
    repo.write("plain/top.yaml", &cm("top"));
    repo.write("plain/sub/nested.yaml", &cm("nested"));
    repo.write("plain/skip/skipped.yaml", &cm("skipped"));
    repo.write(
        "plain/svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: explicit\nspec: {}\n",
    );
    repo.write("kust/kustomization.yaml", "resources: [cm.yaml]\n");
    repo.write("kust/cm.yaml", &cm("k"));
    repo.write("chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
    repo.write("jsonnet/main.jsonnet", "{}\n");
    repo.write("plugin/cdk8s.yaml", "x: 1\n");
    let sha = repo.commit("tools");
    repo.run(&["tag", "v1"]);
    (repo, sha)
}

fn json_items(stdout: &str) -> Vec<Value> {
    let list: Value = serde_json::from_str(stdout).unwrap();
    list["items"].as_array().unwrap().clone()
}

#[test]
fn render_app_with_a_directory_block() {
    let (repo, sha) = config_repo();
    let env = Env::new();
    let dir = repo.tmp.path().join("apps");
    std::fs::create_dir_all(&dir).unwrap();
    // A relative local repoURL is taken from the Application file's directory.
    let block = "    directory:\n      recurse: true\n      exclude: 'skip/*'\n";
    std::fs::write(dir.join("web.yaml"), app("web", "../work", "plain", block, "")).unwrap();
    let file = dir.join("web.yaml");
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("is commit {sha}")), "{}", r.stderr);
    let items = json_items(&r.stdout);
    let names: Vec<(&str, &str)> = items
        .iter()
        .map(|o| (o["metadata"]["name"].as_str().unwrap(), o["metadata"]["namespace"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("nested", "web-ns"), ("top", "web-ns"), ("web", "explicit")]);
    // -n wins over the destination namespace.
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-n", "other", "-o", "json"]);
    assert_eq!(json_items(&r.stdout)[0]["metadata"]["namespace"], "other");
    // Without the block: not recursive.
    std::fs::write(&file, app("web", "../work", "plain", "", "")).unwrap();
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "configmap/top\nservice/web\n");
    // include
    let block = "    directory:\n      recurse: true\n      include: 'sub/*'\n";
    std::fs::write(&file, app("web", "../work", "plain", block, "")).unwrap();
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-o", "name"]);
    assert_eq!(r.stdout, "configmap/nested\n", "{}", r.stderr);
}

#[test]
fn render_app_from_a_git_server_with_revision_override() {
    let (repo, v1) = config_repo();
    repo.write("plain/later.yaml", &cm("later"));
    repo.commit("later");
    repo.publish("cfg");
    let daemon = GitDaemon::start(&repo.served);
    let env = Env::new();
    let file = repo.tmp.path().join("app.yaml");
    std::fs::write(&file, app("web", &daemon.url("cfg"), "plain", "", "  revisionHistoryLimit: 3\n  colour: blue\n"))
        .unwrap();
    let f = file.to_str().unwrap();
    let r = env.run(repo.tmp.path(), &["render", "--app", f, "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "configmap/later\nconfigmap/top\nservice/web\n");
    assert!(r.stderr.contains("spec.colour: unknown field"), "unknown fields are named: {}", r.stderr);
    let r = env.run(repo.tmp.path(), &["render", "--app", f, "--revision", "v1", "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "configmap/top\nservice/web\n");
    assert!(r.stderr.contains(&v1), "{}", r.stderr);
    let r = env.run(repo.tmp.path(), &["render", "--app", f, "--revision", "v1", "--offline", "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn apps_lists_every_tool() {
    let (repo, sha) = config_repo();
    let url = format!("file://{}", repo.publish("cfg").display());
    let dir = repo.tmp.path().join("apps");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |file: &str, text: String| std::fs::write(dir.join(file), text).unwrap();
    write("1-plain.yaml", app("plain", &url, "plain", "    directory:\n      recurse: true\n", ""));
    write(
        "2-kust.yaml",
        app("kust", &url, "kust", "", "  syncPolicy:\n    automated: {prune: true, selfHeal: true}\n"),
    );
    write("3-chart.yaml", app("chart", &url, "chart", "    helm:\n      releaseName: r\n", ""));
    write(
        "4-more.yaml",
        format!(
            "{}---\n{}",
            app("jsonnet", &url, "jsonnet", "", ""),
            app("plugin", &url, "plugin", "    plugin:\n      name: cdk8s\n", "")
        ),
    );
    write(
        "5-kust-explicit.yaml",
        app("kust-explicit", &url, "plain", "    kustomize:\n      namePrefix: p-\n      images: [nginx:1.27]\n", ""),
    );
    let env = Env::new();
    let d = dir.to_str().unwrap();
    let r = env.run(repo.tmp.path(), &["apps", "-f", d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<Vec<&str>> = r.stdout.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["NAME", "PROJECT", "REPO", "REVISION", "PATH", "DESTINATION", "NAMESPACE", "TOOL"]);
    let tools: Vec<(&str, &str)> = lines[1..].iter().map(|l| (l[0], l[7])).collect();
    assert_eq!(
        tools,
        [
            ("plain", "Directory"),
            ("kust", "Kustomize"),
            ("chart", "Helm"),
            ("jsonnet", "Jsonnet"),
            ("plugin", "Plugin"),
            ("kust-explicit", "Kustomize")
        ]
    );
    assert_eq!(lines[1][1..7], ["team-a", url.as_str(), "HEAD", "plain", "https://kubernetes.default.svc", "plain-ns"]);

    let r = env.run(repo.tmp.path(), &["apps", "-f", d, "-o", "wide", "--offline"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let kust = r.stdout.lines().find(|l| l.starts_with("kust ")).unwrap();
    assert!(kust.contains("Auto-Prune-SelfHeal") && kust.contains(&sha) && kust.contains("2-kust.yaml:1"), "{kust}");
    assert_eq!(kust.split_whitespace().nth(9), Some("-"), "no kubeconfig, no context: {kust}");

    // With a kubeconfig, destinations resolve to contexts (the in-cluster server is the current one).
    let kubeconfig = repo.tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: prod-admin\nclusters:\n- name: prod\n  cluster: {server: 'https://prod.example.com'}\ncontexts:\n- name: prod-admin\n  context: {cluster: prod, user: admin}\nusers:\n- name: admin\n  user: {token: t}\n",
    )
    .unwrap();
    write(
        "7-named.yaml",
        app("named", &url, "plain", "", "").replace("server: https://kubernetes.default.svc", "name: nope"),
    );
    let env = Env::new().set("KUBECONFIG", kubeconfig.to_str().unwrap());
    let r = env.run(repo.tmp.path(), &["apps", "-f", d, "-o", "wide"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let context = |name: &str| {
        let line = r.stdout.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap();
        line.split_whitespace().nth(9).unwrap().to_string()
    };
    assert_eq!(context("kust"), "prod-admin");
    assert_eq!(context("named"), "-");
    assert!(r.stderr.contains("destination nope: no kubeconfig context has this name"), "{}", r.stderr);
    std::fs::remove_file(dir.join("7-named.yaml")).unwrap();

    let r = env.run(repo.tmp.path(), &["apps", "-f", d, "-o", "json"]);
    let apps: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(apps[1]["name"], "kust");
    assert_eq!(apps[1]["syncPolicy"]["automated"]["prune"], true);
    assert_eq!(apps[4]["source"]["plugin"]["name"], "cdk8s");
    assert_eq!(apps[5]["source"]["kustomize"]["images"][0], serde_json::json!({"name": "nginx", "newTag": "1.27"}));
    assert_eq!(apps[2]["commit"], sha.as_str());
    let r = env.run(repo.tmp.path(), &["apps", "-f", d, "-o", "yaml"]);
    assert!(r.stdout.starts_with("- ") && r.stdout.contains("\n  name: plain\n"), "{}", r.stdout);
    assert!(r.stdout.contains("\n  tool: Kustomize\n"), "{}", r.stdout);

    // Sources that cannot be resolved are listed with a warning.
    write("6-gone.yaml", app("gone", "file:///nonexistent/repo.git", "x", "", ""));
    let r = env.run(repo.tmp.path(), &["apps", "-f", d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.lines().any(|l| l.starts_with("gone ") && l.ends_with("unknown")), "{}", r.stdout);
    assert!(r.stderr.contains("Application gone:"), "{}", r.stderr);
}

#[test]
fn unsupported_sources_are_clear_errors() {
    let (repo, _) = config_repo();
    let env = Env::new();
    let dir = repo.tmp.path();
    let run = |text: String, extra: &[&str]| {
        let file = dir.join("app.yaml");
        std::fs::write(&file, text).unwrap();
        let mut args = vec!["render", "--app", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        env.run(dir, &args)
    };
    // A chart source (offline here: nothing leaves the machine) names what it could not fetch.
    let r = run(app("c", "https://charts.example.com", "", "    chart: nginx\n", ""), &["--offline"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("chart nginx HEAD from https://charts.example.com/: https://charts.example.com/index.yaml: the repository's index is not in the cache"),
        "{}",
        r.stderr
    );
    let r = run(app("p", "work", "plugin", "    plugin:\n      name: x\n", ""), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("plugin x: not found"), "{}", r.stderr);
    let r = run(app("p", "work", "plugin", "    plugin:\n      env: [{name: A, value: b}]\n", ""), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no render plugin's discover rules match"), "{}", r.stderr);
    let two = format!("{}---\n{}", app("a", "work", "plain", "", ""), app("b", "work", "kust", "", ""));
    let r = run(two.clone(), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("choose one with --app-name"), "{}", r.stderr);
    let r = run(two, &["--app-name", "a", "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "configmap/top\nservice/web\n");
    // Tool-block settings are never dropped: until a renderer applies them, they are an error.
    let r = run(app("blk", "work", "plain", "    kustomize:\n      namePrefix: p-\n", ""), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("kustomize: no kustomization file in plain"), "{}", r.stderr);
    let r = run(app("blk", "work", "chart", "    helm:\n      skipCrds: true\n", ""), &[]);
    assert_eq!(r.code, 0, "helm.skipCrds is applied: {}", r.stderr);
    let r = run(app("bad", "work", "plain", "    directory:\n      recurse: maybe\n", ""), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("app.yaml:1: spec.source.directory.recurse: expected a boolean"), "{}", r.stderr);
    let r = run(app("esc", "work", "../..", "", ""), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("must stay inside the repository"), "{}", r.stderr);
}

#[test]
fn multi_source_apps_render_every_source_in_order() {
    let (repo, sha) = config_repo();
    let other = Repo::new();
    other.write("extra/cm.yaml", &cm("extra"));
    // The same object as config_repo's plain/top.yaml: the later source wins.
    other.write("extra/top.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: top\ndata:\n  from: second\n");
    let other_sha = other.commit("extra");
    let url = format!("file://{}", other.publish("other").display());
    let env = Env::new();
    let file = repo.tmp.path().join("multi.yaml");
    let text = format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: multi}}
spec:
  sources:
  - repoURL: work
    path: plain
  - repoURL: {url}
    targetRevision: main
    path: extra
  - repoURL: {url}
    ref: values
  destination: {{server: https://kubernetes.default.svc, namespace: multi}}
"
    );
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    let r = env.run(repo.tmp.path(), &["render", "--app", f, "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let items = json_items(&r.stdout);
    let names: Vec<&str> = items.iter().map(|o| o["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["extra", "top", "web"]);
    let top = items.iter().find(|o| o["metadata"]["name"] == "top").unwrap();
    assert_eq!(top["data"]["from"], "second");
    assert!(r.stderr.contains("produced by several sources"), "{}", r.stderr);
    assert!(r.stderr.contains(&sha) && r.stderr.contains(&other_sha), "each source's commit is reported: {}", r.stderr);
    let r = env.run(repo.tmp.path(), &["render", "--app", f, "--revision", "main"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("single-source"), "{}", r.stderr);
    let r = env.run(repo.tmp.path(), &["apps", "-f", f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("work (+2)"), "{}", r.stdout);
}

#[test]
fn render_app_with_a_jsonnet_directory_block() {
    let repo = Repo::new();
    repo.write(
        "jsonnet/main.jsonnet",
        "local helper = import 'helper.libsonnet';\nfunction(replicas=1) {\n  apiVersion: 'v1',\n  kind: 'ConfigMap',\n  metadata: { name: std.extVar('name') },\n  data: { replicas: std.toString(replicas), lib: helper.x, rev: std.extVar('rev') },\n}\n",
    );
    repo.write("shared/helper.libsonnet", "{ x: 'from-lib' }\n");
    let sha = repo.commit("jsonnet");
    let env = Env::new();
    let file = repo.tmp.path().join("app.yaml");
    let block = |libs: &str| {
        format!(
            "    directory:\n      jsonnet:\n        extVars:\n        - {{name: name, value: cm-$ARGOCD_APP_NAME}}\n        - {{name: rev, value: '${{ARGOCD_APP_REVISION_SHORT}}'}}\n        tlas:\n        - {{name: replicas, value: '1 + 2', code: true}}\n        libs: [{libs}]\n"
        )
    };
    std::fs::write(&file, app("web", "work", "jsonnet", &block("shared"), "")).unwrap();
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let items = json_items(&r.stdout);
    assert_eq!(items.len(), 1, "{}", r.stdout);
    assert_eq!(items[0]["metadata"]["name"], "cm-web");
    assert_eq!(items[0]["metadata"]["namespace"], "web-ns");
    assert_eq!(items[0]["data"], serde_json::json!({"replicas": "3", "lib": "from-lib", "rev": &sha[..7]}));
    std::fs::write(&file, app("web", "work", "jsonnet", &block("'../..'"), "")).unwrap();
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("outside the source root"), "{}", r.stderr);
}

#[test]
fn render_app_with_a_helm_block() {
    let repo = Repo::new();
    repo.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\nannotations:\n  kubectl-gitops.io/template-engine: jinja\n",
    );
    repo.write("chart/values.yaml", "a: default\nb: default\nc: default\nd: default\ncfg: none\n");
    repo.write("chart/values-prod.yaml", "a: from-file\nb: from-file\n");
    repo.write("chart/files/cfg.txt", "file-content");
    repo.write(
        "chart/crds/widgets.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {plural: widgets, kind: Widget}\n  versions: [{name: v1, served: true, storage: true}]\n",
    );
    repo.write(
        "chart/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Release.Name }}-cm\ndata:\n  ns: {{ Release.Namespace | quote }}\n  a: {{ Values.a | quote }}\n  b: {{ Values.b | quote }}\n  c: {{ Values.c | quote }}\n  d: {{ Values.d | quote }}\n  cfg: {{ Values.cfg | quote }}\n",
    );
    repo.commit("chart");
    let shared = Repo::new();
    shared.write("common.yaml", "d: from-ref\n");
    shared.commit("common");
    let shared_url = format!("file://{}", shared.publish("shared").display());
    let env = Env::new();
    let file = repo.tmp.path().join("app.yaml");
    let helm = |value_files: &str, extra: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: web}}\nspec:\n  sources:\n  - repoURL: work\n    path: chart\n    helm:\n      valueFiles: [{value_files}]\n      values: |\n        b: from-inline\n        c: from-inline\n      parameters: [{{name: c, value: from-param}}]\n      fileParameters: [{{name: cfg, path: files/cfg.txt}}]\n{extra}  - repoURL: {shared_url}\n    ref: shared\n  destination: {{server: https://kubernetes.default.svc, namespace: web-ns}}\n"
        )
    };
    let run = |text: String| {
        std::fs::write(&file, text).unwrap();
        env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-o", "json"])
    };
    let r = run(helm("values-prod.yaml, $shared/common.yaml", ""));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut items = json_items(&r.stdout);
    // crds/ is rendered (as `helm template --include-crds`, like Argo CD), first in install order.
    assert_eq!(items.len(), 2, "{}", r.stdout);
    assert_eq!(items.remove(0)["kind"], "CustomResourceDefinition");
    assert_eq!(items[0]["metadata"]["name"], "web-cm", "the release name defaults to the Application's name");
    assert_eq!(
        items[0]["data"],
        serde_json::json!({"ns": "web-ns", "a": "from-file", "b": "from-inline", "c": "from-param", "d": "from-ref", "cfg": "file-content"})
    );

    let r = run(helm("values-prod.yaml, missing.yaml", ""));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("value file \"missing.yaml\""), "{}", r.stderr);
    let r = run(helm("values-prod.yaml, missing.yaml", "      ignoreMissingValueFiles: true\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(helm("'../../outside.yaml'", ""));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("outside the source root"), "{}", r.stderr);
    let r = run(helm("values-prod.yaml", "      releaseName: rel\n"));
    assert_eq!(json_items(&r.stdout)[1]["metadata"]["name"], "rel-cm", "{}", r.stderr);
    let r = run(helm("values-prod.yaml", "      skipCrds: true\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let kinds: Vec<Value> = json_items(&r.stdout).iter().map(|o| o["kind"].clone()).collect();
    assert_eq!(kinds, ["ConfigMap"], "skipCrds leaves crds/ out");
}

#[test]
fn render_app_with_a_plugin_block() {
    let (repo, sha) = config_repo();
    let plugins = repo.tmp.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(
        plugins.join("echo.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata: {name: echo}\nspec:\n  generate:\n    command: [sh, -c]\n    args: ['printf \"apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: %s}\\ndata: {color: %s, path: %s, rev: \\\"%s\\\"}\\n\" \"$ARGOCD_APP_NAME\" \"$ARGOCD_ENV_COLOR\" \"$ARGOCD_APP_SOURCE_PATH\" \"$ARGOCD_APP_REVISION\"']\n",
    )
    .unwrap();
    let file = repo.tmp.path().join("app.yaml");
    let block = "    plugin:\n      name: echo\n      env: [{name: COLOR, value: blue-$ARGOCD_APP_NAME}]\n";
    std::fs::write(&file, app("web", "work", "plugin", block, "")).unwrap();
    // A later commit: the Application is rendered at tag v1, so the plugin
    // must see v1's commit, not the checkout's HEAD.
    repo.write("plain/later.yaml", &cm("later"));
    repo.commit("later");
    let r = Env::new().run(
        repo.tmp.path(),
        &[
            "render",
            "--app",
            file.to_str().unwrap(),
            "--revision",
            "v1",
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "-o",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let items = json_items(&r.stdout);
    assert_eq!(items[0]["metadata"]["name"], "web");
    assert_eq!(items[0]["metadata"]["namespace"], "web-ns");
    // The revision is the resolved commit of the git source, not the local checkout's.
    assert_eq!(items[0]["data"], serde_json::json!({"color": "blue-web", "path": "plugin", "rev": sha}));
}

#[test]
fn render_app_with_a_kustomize_block() {
    let (repo, _) = config_repo();
    let file = repo.tmp.path().join("app.yaml");
    let block = "    kustomize:\n      namePrefix: p-\n      nameSuffix: -s\n      commonLabels: {team: a}\n";
    std::fs::write(&file, app("web", "work", "kust", block, "")).unwrap();
    let env = Env::new();
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let items = json_items(&r.stdout);
    assert_eq!(items.len(), 1, "{}", r.stdout);
    assert_eq!(items[0]["metadata"]["name"], "p-k-s");
    assert_eq!(items[0]["metadata"]["labels"]["team"], "a");
    assert_eq!(items[0]["metadata"]["namespace"], "web-ns");
    // The user's work tree is untouched: the edit is made in a private copy.
    assert_eq!(std::fs::read_to_string(repo.work.join("kust/kustomization.yaml")).unwrap(), "resources: [cm.yaml]\n");
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-o", "name"]);
    assert_eq!(r.stdout, "configmap/p-k-s\n", "the edited copy is reused: {}", r.stderr);
}

#[test]
fn dash_f_takes_an_application_file_or_directory_and_keeps_values_files() {
    let (repo, _) = config_repo();
    let env = Env::new();
    let dir = repo.tmp.path().join("apps");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("web.yaml"), app("web", "../work", "plain", "", "")).unwrap();
    let file = dir.join("web.yaml");
    let via_app = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-o", "name"]);
    assert_eq!(via_app.code, 0, "{}", via_app.stderr);
    // `render -f app.yaml`, as kubectl users type it.
    let via_f = env.run(repo.tmp.path(), &["render", "-f", file.to_str().unwrap(), "-o", "name"]);
    assert_eq!((via_f.code, via_f.stdout.as_str()), (0, via_app.stdout.as_str()), "{}", via_f.stderr);
    // A directory of Applications too.
    let via_dir = env.run(repo.tmp.path(), &["render", "-f", dir.to_str().unwrap(), "-o", "name"]);
    assert_eq!(via_dir.stdout, via_app.stdout, "{}", via_dir.stderr);
    // Mixing an Application with values files, or with --app, is refused.
    let values = repo.tmp.path().join("values.yaml");
    std::fs::write(&values, "replicas: 2\n").unwrap();
    let mixed = env.run(repo.tmp.path(), &["render", "-f", file.to_str().unwrap(), "-f", values.to_str().unwrap()]);
    assert_eq!(mixed.code, 2);
    assert!(mixed.stderr.contains("cannot be combined with -f values files"), "{}", mixed.stderr);
    let both = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-f", file.to_str().unwrap()]);
    assert_eq!(both.code, 2);
    assert!(both.stderr.contains("already given with --app"), "{}", both.stderr);
}

#[test]
fn plugins_are_discovered_and_get_their_parameters() {
    let (repo, _) = config_repo();
    let plugins = repo.tmp.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(
        plugins.join("cue.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata: {name: cue}\nspec:\n  discover: {fileName: '*.cue'}\n  generate:\n    command: [sh, -c]\n    args: ['printf \"apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: from-cue}\\ndata: {size: \\\"%s\\\", list: \\\"%s\\\"}\\n\" \"$PARAM_SIZE\" \"$PARAM_TAGS_1\"']\n",
    )
    .unwrap();
    repo.write("cue/app.cue", "x: 1\n");
    repo.write("cue/ignored.yaml", &cm("plain"));
    repo.commit("cue");
    let env = Env::new();
    let dirs = ["--plugin-dir", plugins.to_str().unwrap()];
    // A plain directory whose files a plugin's discover rule matches: the plugin renders it.
    let cue = repo.tmp.path().join("work/cue");
    let r = env.run(repo.tmp.path(), &["render", cue.to_str().unwrap(), dirs[0], dirs[1], "-o", "name"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "configmap/from-cue\n"), "{}", r.stderr);
    // Without a matching plugin it stays a plain directory.
    let r = env.run(repo.tmp.path(), &["render", cue.to_str().unwrap(), "-o", "name"]);
    assert_eq!(r.stdout, "configmap/plain\n", "{}", r.stderr);
    // An Application's plugin block without a name: discovery; parameters as PARAM_*.
    let file = repo.tmp.path().join("app.yaml");
    let block =
        "    plugin:\n      parameters:\n      - {name: size, string: '3'}\n      - {name: tags, array: [a, b]}\n";
    std::fs::write(&file, app("web", "work", "cue", block, "")).unwrap();
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), dirs[0], dirs[1], "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json_items(&r.stdout)[0]["data"], serde_json::json!({"size": "3", "list": "b"}));
}

/// `.argocd-source.yaml` and `.argocd-source-<app>.yaml` in the source
/// directory, committed to the repository, change what the app renders (as
/// Argo CD's repo server merges them); `path` in them is ignored.
#[test]
fn argocd_source_override_files_are_merged_onto_the_source() {
    let repo = Repo::new();
    repo.write("kust/kustomization.yaml", "resources: [deploy.yaml]\n");
    repo.write(
        "kust/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: registry.example/team/web:1.0.0\n",
    );
    repo.write(".argocd-source-web.yaml", "kustomize:\n  namePrefix: wrong-dir-\n");
    repo.write("kust/.argocd-source.yaml", "kustomize:\n  namePrefix: shared-\n  commonLabels: {from: shared}\n");
    repo.write(
        "kust/.argocd-source-web.yaml",
        "path: plain\nkustomize:\n  images:\n  - registry.example/team/web:1.2.3\n  commonLabels: {app: web}\n",
    );
    repo.write("plain/cm.yaml", &cm("not-this"));
    repo.commit("overrides");
    let file = repo.tmp.path().join("app.yaml");
    let block = "    kustomize:\n      images: ['registry.example/team/web:0.9']\n      commonLabels: {owner: a}\n";
    std::fs::write(&file, app("web", "work", "kust", block, "")).unwrap();
    let env = Env::new();
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let items = json_items(&r.stdout);
    assert_eq!(items.len(), 1, "{}", r.stdout);
    let d = &items[0];
    assert_eq!(d["metadata"]["name"], "shared-web");
    let labels = &d["metadata"]["labels"];
    assert_eq!(
        (labels["owner"].as_str(), labels["from"].as_str(), labels["app"].as_str()),
        (Some("a"), Some("shared"), Some("web"))
    );
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["image"], "registry.example/team/web:1.2.3");
    // Another Application on the same path gets the shared file only.
    std::fs::write(&file, app("api", "work", "kust", block, "")).unwrap();
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap(), "-o", "json"]);
    let d = &json_items(&r.stdout)[0];
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"], "registry.example/team/web:0.9",
        "{}",
        r.stderr
    );
    // A wrong type names the file and the field.
    repo.write("kust/.argocd-source-web.yaml", "kustomize:\n  images: registry.example/team/web:1.2.3\n");
    repo.commit("broken override");
    std::fs::write(&file, app("web", "work", "kust", block, "")).unwrap();
    let r = env.run(repo.tmp.path(), &["render", "--app", file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(".argocd-source-web.yaml") && r.stderr.contains("kustomize.images"), "{}", r.stderr);
}
