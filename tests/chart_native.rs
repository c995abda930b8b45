//! Go-template charts rendered natively, compared with `helm template`
//! (helm 4.1.4) as parsed documents in helm's order: argocd-example-apps'
//! `helm-guestbook` and `blue-green`, stefanprodan/podinfo's chart (default
//! values and with its optional parts on), and `facts`, a chart of our own
//! that prints the built-in objects (`.Files`, `.Capabilities`, `.Chart`,
//! `.Subcharts`, ...), uses a library subchart, helpers, `tpl`, hooks and
//! `NOTES.txt`.
//!
//! The charts are under `tests/data/chart-native/`, helm's outputs under
//! `tests/data/chart-native/expected/` (no helm needed to run the test).
//! Regenerate them with helm: `CHART_NATIVE_REGEN=1 cargo test --test
//! chart_native` (`$KUBECTL_GITOPS_HELM` or scripts/install-helm.sh's helm).
//! Names made by `randAlphaNum` are masked on both sides.

use std::path::{Path, PathBuf};

use kubectl_gitops::render::{self, RenderOptions};
use kubectl_gitops::source::LocalSource;
use kubectl_gitops::yaml::{Dialect, parse_stream};
use serde_json::Value;

struct Case {
    name: &'static str,
    chart: &'static str,
    release: &'static str,
    namespace: &'static str,
    set: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case { name: "helm-guestbook", chart: "helm-guestbook", release: "guestbook", namespace: "default", set: &[] },
    Case { name: "blue-green", chart: "blue-green", release: "bg", namespace: "apps", set: &[] },
    Case { name: "podinfo", chart: "podinfo", release: "release-name", namespace: "default", set: &[] },
    Case {
        name: "podinfo-extras",
        chart: "podinfo",
        release: "pi",
        namespace: "web",
        set: &[
            "ingress.enabled=true,hpa.enabled=true,serviceMonitor.enabled=true,redis.enabled=true,certificate.create=true,podDisruptionBudget.maxUnavailable=1",
        ],
    },
    Case { name: "facts", chart: "facts", release: "rel", namespace: "team", set: &[] },
];

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/chart-native")
}

fn helm() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("KUBECTL_GITOPS_HELM").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kubectl-gitops-test/bin/helm")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

fn regenerate(case: &Case, out: &Path) {
    let helm = helm().expect("CHART_NATIVE_REGEN needs helm (scripts/install-helm.sh)");
    let mut cmd = std::process::Command::new(helm);
    cmd.args(["template", case.release]).arg(data().join(case.chart));
    cmd.args(["--namespace", case.namespace, "--include-crds"]);
    for s in case.set {
        cmd.args(["--set", s]);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "helm: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(out, &o.stdout).unwrap();
}

fn native(case: &Case) -> Vec<Value> {
    let dir = data().join(case.chart);
    let src = LocalSource::open_in(&dir, Some(&dir), None).unwrap();
    let mut opts = RenderOptions::default();
    opts.chart.release_name = Some(case.release.into());
    opts.chart.namespace = Some(case.namespace.into());
    opts.chart.values.set = case.set.iter().map(|s| s.to_string()).collect();
    let objects = render::render(&src, &opts).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    objects.iter().map(|o| o.to_value()).collect()
}

/// Hook pods named with `randAlphaNum`: the random tail masked.
fn mask(mut v: Value) -> Value {
    let hook = v.pointer("/metadata/annotations/helm.sh~1hook").is_some();
    if let Some(Value::String(name)) = v.pointer_mut("/metadata/name")
        && hook
        && let Some((head, tail)) = name.rsplit_once('-')
        && tail.len() == 5
        && tail.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        *name = format!("{head}-XXXXX");
    }
    v
}

#[test]
fn go_charts_render_like_helm_template() {
    let expected_dir = data().join("expected");
    let mut failures = Vec::new();
    for case in CASES {
        let file = expected_dir.join(format!("{}.yaml", case.name));
        if std::env::var_os("CHART_NATIVE_REGEN").is_some() {
            regenerate(case, &file);
        }
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let want: Vec<Value> = parse_stream(&text, Dialect::Kubectl)
            .unwrap()
            .into_iter()
            .map(|d| d.value)
            .filter(|v| !v.is_null())
            .map(mask)
            .collect();
        let got: Vec<Value> = native(case).into_iter().map(mask).collect();
        if got != want {
            let show = |v: &[Value]| serde_json::to_string_pretty(v).unwrap();
            let diff = similar::TextDiff::from_lines(&show(&want), &show(&got))
                .unified_diff()
                .context_radius(3)
                .header("helm", "native")
                .to_string();
            failures.push(format!("{}:\n{}", case.name, diff));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn template_errors_read_as_helm_prints_them() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("c/templates")).unwrap();
    std::fs::write(tmp.path().join("c/Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n").unwrap();
    let write = |t: &str| std::fs::write(tmp.path().join("c/templates/t.yaml"), t).unwrap();
    let render_err = || {
        let src = LocalSource::open_in(&tmp.path().join("c"), Some(tmp.path()), None).unwrap();
        render::render(&src, &RenderOptions::default()).unwrap_err().to_string()
    };
    write("# {{ required \"need a\" .Values.a }}\n");
    assert_eq!(render_err(), "execution error at (c/templates/t.yaml:1:5): need a");
    write("# {{ .Values.a.b }}\n");
    assert_eq!(
        render_err(),
        "c/templates/t.yaml:1:12\n  executing \"c/templates/t.yaml\" at <.Values.a.b>:\n    nil pointer evaluating interface {}.b"
    );
    write("# {{ nofunc }}\n");
    assert_eq!(render_err(), "parse error at (c/templates/t.yaml:1): function \"nofunc\" not defined");
}
