//! The quickstart (`examples/quickstart/`) through the binary: every app
//! renders to the objects it is meant to; the Kustomize overlays as
//! `kubectl kustomize` builds them (when kubectl is installed), the
//! Go-template chart as `helm template` renders it (when
//! `KUBECTL_GITOPS_HELM` names a helm); each Application renders what the
//! matching command line does; and every command of README.md's Quickstart
//! section (between the `quickstart:begin`/`end` markers) exits 0 in a fresh
//! clone, so the README stays true.

mod common;
mod git_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Run, bin, run};
use kubectl_gitops::yaml::{Dialect, parse_stream};
use serde_json::Value;

const QS: &str = "examples/quickstart";

/// `kubectl gitops render ARGS -o json` (from the repository root): the items.
fn render(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["render"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    let r = run(&all);
    assert_eq!(r.code, 0, "{all:?}: {}", r.stderr);
    let list: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{all:?}: {e}\n{}", r.stdout));
    list["items"].as_array().expect("a v1 List").clone()
}

/// `Kind/namespace/name` of each object, in output order.
fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|o| {
            let m = &o["metadata"];
            format!(
                "{}/{}/{}",
                o["kind"].as_str().unwrap(),
                m["namespace"].as_str().unwrap_or(""),
                m["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn get<'a>(items: &'a [Value], kind: &str, name: &str) -> &'a Value {
    items
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {:?}", ids(items)))
}

/// The first container of a Deployment.
fn container(deploy: &Value) -> &Value {
    &deploy["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn plain_app() {
    let items = render(&[&format!("{QS}/plain"), "-n", "hello"]);
    assert_eq!(ids(&items), ["ConfigMap/hello/hello", "Service/hello/hello", "Deployment/hello/hello"]);
    let deploy = get(&items, "Deployment", "hello");
    assert_eq!(container(deploy)["env"][0]["valueFrom"]["configMapKeyRef"]["name"], "hello");
    assert_eq!(container(deploy)["image"], "hashicorp/http-echo:1.0");
    let selector = &get(&items, "Service", "hello")["spec"]["selector"];
    assert_eq!(selector, &deploy["spec"]["template"]["metadata"]["labels"]);
    assert_eq!(get(&items, "ConfigMap", "hello")["data"]["MESSAGE"], "Hello from a plain YAML directory");
}

#[test]
fn kustomize_overlays() {
    let overlays = [
        ("dev", 1, "nginx:1.27-alpine", "debug", "on"),
        ("prod", 3, "registry.example.com/mirror/nginx:1.27.3", "warn", "off"),
    ];
    for (env, replicas, image, log_level, search) in overlays {
        let dir = format!("{QS}/kustomize/overlays/{env}");
        let items = render(&[&dir]);
        let ns = format!("web-{env}");
        let cm = items.iter().find(|o| o["kind"] == "ConfigMap").expect("the generated ConfigMap");
        let cm_name = cm["metadata"]["name"].as_str().unwrap();
        let hash = cm_name.strip_prefix(&format!("{env}-web-config-")).unwrap_or_else(|| panic!("{env}: {cm_name}"));
        assert_eq!(hash.len(), 10, "{env}: kustomize's content hash suffix: {cm_name}");
        let web = format!("{env}-web");
        assert_eq!(
            ids(&items),
            [format!("ConfigMap/{ns}/{cm_name}"), format!("Service/{ns}/{web}"), format!("Deployment/{ns}/{web}")]
        );
        assert_eq!(cm["data"]["LOG_LEVEL"], log_level, "{env}");
        assert_eq!(cm["data"]["FEATURE_SEARCH"], search, "{env}");
        let deploy = get(&items, "Deployment", &web);
        assert_eq!(deploy["spec"]["replicas"], replicas, "{env}");
        assert_eq!(container(deploy)["image"], image, "{env}");
        assert_eq!(
            container(deploy)["envFrom"][0]["configMapRef"]["name"],
            cm_name,
            "{env}: the hashed name is referenced"
        );
        assert_eq!(deploy["metadata"]["labels"]["env"], env);
        assert_eq!(deploy["metadata"]["labels"]["app.kubernetes.io/part-of"], "quickstart");
        let limit = if env == "prod" { Value::from("256Mi") } else { Value::Null };
        assert_eq!(container(deploy)["resources"]["limits"]["memory"], limit, "{env}: prod's patch");
        assert_same_as_kubectl_kustomize(&dir, &items);
    }
}

/// `kubectl kustomize DIR` gives the same objects (our output is normalized:
/// sorted by kind and name, so compare as sets).
fn assert_same_as_kubectl_kustomize(dir: &str, ours: &[Value]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = match Command::new("kubectl").arg("kustomize").arg(root.join(dir)).output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("SKIPPED the kubectl kustomize comparison of {dir}: kubectl cannot be run ({e})");
            return;
        }
    };
    assert!(out.status.success(), "kubectl kustomize {dir}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut want: Vec<Value> = parse_stream(&text, Dialect::Kustomize)
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .collect();
    let mut got = ours.to_vec();
    let key = |o: &Value| format!("{}/{}", o["kind"], o["metadata"]["name"]);
    want.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(got, want, "{dir}: our render and kubectl kustomize differ");
}

#[test]
fn jinja_chart() {
    let chart = format!("{QS}/jinja-chart");
    let items = render(&[&chart, "--release-name", "shop", "-n", "shop"]);
    assert_eq!(ids(&items), ["ConfigMap/shop/shop-api", "Service/shop/shop-api", "Deployment/shop/shop-api"]);
    let deploy = get(&items, "Deployment", "shop-api");
    assert_eq!(deploy["spec"]["replicas"], 2);
    assert_eq!(container(deploy)["image"], "ghcr.io/example/api:1.8.0", "the tag defaults to appVersion");
    assert_eq!(deploy["metadata"]["labels"]["app.kubernetes.io/version"], "1.8.0");
    assert_eq!(deploy["metadata"]["labels"]["app.kubernetes.io/instance"], "shop");
    let selector = &deploy["spec"]["selector"]["matchLabels"];
    assert_eq!(selector, &serde_json::json!({"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "shop"}));
    assert_eq!(&get(&items, "Service", "shop-api")["spec"]["selector"], selector);
    assert_eq!(get(&items, "ConfigMap", "shop-api")["data"]["LOG_FORMAT"], "json");
    let checksum = |items: &[Value]| {
        get(items, "Deployment", "shop-api")["spec"]["template"]["metadata"]["annotations"]["checksum/settings"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let before = checksum(&items);
    assert!(before.len() == 64 && before.chars().all(|c| c.is_ascii_hexdigit()), "{before}");
    let changed = render(&[&chart, "--release-name", "shop", "--set", "settings.LOG_FORMAT=text,replicaCount=3"]);
    assert_ne!(checksum(&changed), before, "a change of settings changes the checksum");
    assert_eq!(get(&changed, "Deployment", "shop-api")["spec"]["replicas"], 3);
}

#[test]
fn go_template_chart() {
    let chart = format!("{QS}/helm-chart");
    let prod_values = format!("{chart}/values-prod.yaml");
    let items = render(&[&chart, "--release-name", "shop", "-n", "shop"]);
    assert_eq!(
        ids(&items),
        ["ConfigMap/shop/shop-frontend", "Service/shop/shop-frontend", "Deployment/shop/shop-frontend"],
        "no Ingress by default"
    );
    let deploy = get(&items, "Deployment", "shop-frontend");
    assert_eq!(deploy["spec"]["replicas"], 1);
    assert_eq!(container(deploy)["image"], "ghcr.io/example/frontend:2.4.1");
    assert!(container(deploy).get("resources").is_none());
    assert_eq!(deploy["metadata"]["labels"]["helm.sh/chart"], "frontend-0.3.0");
    assert_eq!(get(&items, "ConfigMap", "shop-frontend")["data"]["THEME"], "light");

    let prod = render(&[&chart, "--release-name", "shop", "-n", "shop", "-f", &prod_values]);
    assert_eq!(
        ids(&prod),
        [
            "ConfigMap/shop/shop-frontend",
            "Service/shop/shop-frontend",
            "Deployment/shop/shop-frontend",
            "Ingress/shop/shop-frontend"
        ]
    );
    let prod_deploy = get(&prod, "Deployment", "shop-frontend");
    assert_eq!(prod_deploy["spec"]["replicas"], 3);
    assert_eq!(container(prod_deploy)["resources"]["requests"]["cpu"], "100m");
    assert_eq!(get(&prod, "ConfigMap", "shop-frontend")["data"]["THEME"], "dark");
    let rule = &get(&prod, "Ingress", "shop-frontend")["spec"]["rules"][0];
    assert_eq!(rule["host"], "shop.example.com");
    assert_eq!(rule["http"]["paths"][0]["backend"]["service"]["name"], "shop-frontend");
    let annotation = |d: &Value| d["spec"]["template"]["metadata"]["annotations"]["checksum/config"].clone();
    assert_ne!(annotation(deploy), annotation(prod_deploy), "the ConfigMap's checksum follows its content");
    // A release name that holds the chart's name is the full name.
    let named = render(&[&chart, "--release-name", "frontend"]);
    assert_eq!(named[0]["metadata"]["name"], "frontend");

    let Some(helm) = std::env::var_os("KUBECTL_GITOPS_HELM") else {
        eprintln!("SKIPPED the helm template comparison of {chart}: KUBECTL_GITOPS_HELM is not set");
        return;
    };
    for values in [None, Some(prod_values.as_str())] {
        let mut args = vec!["template", "shop", &chart, "--namespace", "shop"];
        args.extend(values.iter().flat_map(|v| ["-f", v]));
        let out = Command::new(&helm).args(&args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
        assert!(out.status.success(), "helm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("helm.yaml");
        std::fs::write(&file, &out.stdout).unwrap();
        // helm's output through our normalization, against our native render.
        let from_helm = run(&["render", file.to_str().unwrap(), "-n", "shop"]);
        assert_eq!(from_helm.code, 0, "{}", from_helm.stderr);
        let mut ours = vec!["render", &chart, "--release-name", "shop", "-n", "shop"];
        ours.extend(values.iter().flat_map(|v| ["-f", v]));
        let native = run(&ours);
        assert_eq!(native.code, 0, "{}", native.stderr);
        assert_eq!(native.stdout, from_helm.stdout, "helm {args:?} and {ours:?} differ");
    }
}

#[test]
fn jsonnet_app() {
    let dir = format!("{QS}/jsonnet");
    let dev = render(&[&dir, "-n", "worker"]);
    assert_eq!(ids(&dev), ["ConfigMap/worker/worker", "Service/worker/worker-metrics", "Deployment/worker/worker"]);
    assert_eq!(get(&dev, "Deployment", "worker")["spec"]["replicas"], 1, "dev by default");
    assert_eq!(get(&dev, "ConfigMap", "worker")["data"]["LOG_LEVEL"], "debug");
    let prod = render(&[&dir, "-n", "worker", "--tla-str", "env=prod"]);
    let deploy = get(&prod, "Deployment", "worker");
    assert_eq!(deploy["spec"]["replicas"], 4);
    assert_eq!(deploy["metadata"]["labels"]["env"], "prod");
    assert_eq!(container(deploy)["envFrom"][0]["configMapRef"]["name"], "worker");
    assert_eq!(get(&prod, "ConfigMap", "worker")["data"]["QUEUE"], "jobs");
    assert_eq!(get(&prod, "Service", "worker-metrics")["spec"]["ports"][0]["port"], 9090);
    // An unknown environment is a clear error.
    let r = run(&["render", &dir, "--tla-str", "env=staging"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("env must be one of dev, prod, got \"staging\""), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// A fresh clone, as a newcomer has it: `examples/quickstart` committed in
/// a new git repository (the Applications render committed files at HEAD
/// of the repository they are in), and a private cache.
struct FreshClone {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    commit: String,
}

impl FreshClone {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(QS), &dir.path().join(QS));
        let git = |args: &[&str]| git_support::git(dir.path(), args);
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "quickstart"]);
        let commit = git(&["rev-parse", "HEAD"]);
        FreshClone { dir, cache: tempfile::tempdir().unwrap(), commit }
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(bin())
            .args(args)
            .current_dir(self.dir.path())
            .env("KUBECTL_GITOPS_CACHE_DIR", self.cache.path())
            .output()
            .expect("run kubectl-gitops");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn applications_render_what_their_command_lines_render() {
    let clone = FreshClone::new();
    let list = clone.run(&["apps", "-f", &format!("{QS}/apps/"), "-o", "json"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let apps: Vec<Value> = serde_json::from_str(&list.stdout).unwrap();
    // Each Application, its path and the command line that renders the same
    // objects (`@` stands for examples/quickstart).
    let cases = [
        ("api", "jinja-chart", "@/jinja-chart --release-name shop -n shop --set replicaCount=3,image.tag=1.8.1"),
        ("frontend", "helm-chart", "@/helm-chart --release-name shop -n shop -f @/helm-chart/values-prod.yaml"),
        ("hello", "plain", "@/plain -n hello"),
        ("web-dev", "kustomize/overlays/dev", "@/kustomize/overlays/dev"),
        ("web-prod", "kustomize/overlays/prod", "@/kustomize/overlays/prod"),
        ("worker", "jsonnet", "@/jsonnet --tla-str env=prod -n worker"),
    ];
    let want: Vec<(&str, String)> = cases.iter().map(|(name, path, _)| (*name, format!("{QS}/{path}"))).collect();
    let got: Vec<(&str, String)> =
        apps.iter().map(|a| (a["name"].as_str().unwrap(), a["source"]["path"].as_str().unwrap().to_string())).collect();
    assert_eq!(got, want, "the quickstart's Applications");
    for (name, _, args) in &cases {
        let file = format!("{QS}/apps/{name}.yaml");
        let from_app = clone.run(&["render", "-f", &file]);
        assert_eq!(from_app.code, 0, "{file}: {}", from_app.stderr);
        assert!(from_app.stderr.contains(&format!("at HEAD is commit {}", clone.commit)), "{}", from_app.stderr);
        let args = args.replace('@', QS);
        let mut local = vec!["render"];
        local.extend(args.split_whitespace());
        let from_flags = clone.run(&local);
        assert_eq!(from_flags.code, 0, "{local:?}: {}", from_flags.stderr);
        assert!(!from_app.stdout.is_empty());
        assert_eq!(from_app.stdout, from_flags.stdout, "{file} and {local:?} differ");
    }
}

/// The commands between `<!-- quickstart:begin -->` and
/// `<!-- quickstart:end -->` of README.md: each line of the `sh` block is
/// `kubectl gitops ARGS  # comment`, with no shell syntax, so splitting on
/// whitespace reads it as a shell does.
fn readme_commands() -> Vec<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- quickstart:begin -->", "<!-- quickstart:end -->");
    let start = text.find(begin).unwrap_or_else(|| panic!("README.md: no {begin} marker")) + begin.len();
    let len = text[start..].find(end).unwrap_or_else(|| panic!("README.md: no {end} marker after {begin}"));
    let mut commands = Vec::new();
    for line in text[start..start + len].lines().map(str::trim) {
        if line.is_empty() || line.starts_with("```") {
            continue;
        }
        let command = line.split_once(" #").map_or(line, |(c, _)| c).trim();
        let args = command
            .strip_prefix("kubectl gitops ")
            .unwrap_or_else(|| panic!("README.md quickstart: {line:?} is not a `kubectl gitops` command"));
        if let Some(c) = args.chars().find(|c| "'\"`$\\|&;<>(){}*?~!#".contains(*c)) {
            panic!("README.md quickstart: {line:?} uses shell syntax ({c:?}) this test does not read");
        }
        commands.push(args.split_whitespace().map(String::from).collect());
    }
    commands
}

#[test]
fn readme_quickstart_commands_work_in_a_fresh_clone() {
    let commands = readme_commands();
    assert_eq!(
        commands.first().map(|c| c.join(" ")).as_deref(),
        Some("render examples/quickstart/kustomize/overlays/prod"),
        "the README's first usage line renders the prod overlay"
    );
    // One line at least for each app of the quickstart.
    for dir in
        ["plain", "kustomize/overlays/prod", "kustomize/overlays/dev", "jinja-chart", "helm-chart", "jsonnet", "apps/"]
    {
        let want = format!("{QS}/{dir}");
        assert!(commands.iter().flatten().any(|a| a.starts_with(&want)), "no README quickstart command reads {want}");
    }
    let clone = FreshClone::new();
    for args in &commands {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = clone.run(&args);
        assert_eq!(r.code, 0, "kubectl gitops {}: {}", args.join(" "), r.stderr);
        assert!(!r.stdout.trim().is_empty(), "kubectl gitops {}: no output", args.join(" "));
    }
}
