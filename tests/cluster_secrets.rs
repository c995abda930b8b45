//! Values given on the command line may be secrets. Plant one through every
//! way the CLI accepts a value (`--set`, `--set-string`, `--set-json`,
//! `--set-literal`, `--plugin-env`, `--ext-str`/`--ext-code`/`--tla-str`/
//! `--tla-code`, inline and from the environment), render it into a Secret,
//! then sync, diff, dry-run, status, history and rollback at every log level,
//! and look for the value in everything printed and in the ApplySet parent
//! (Secret and ConfigMap parents, data decoded). `render` itself is left
//! out: printing the rendered Secret is its job.

#[path = "support/cluster.rs"]
mod cluster;
mod common;
#[path = "support/sync.rs"]
mod sync_support;

use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use common::tree;
use serde_json::Value;
use sync_support::new_ns;

/// One way of giving a value: the flags (with `{}` for the value) and the
/// environment variables (with `{}` for the value).
struct Way {
    label: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

/// The planted value for `way` in `round` (0: first sync, 1: the change).
fn secret(way: &str, round: u8) -> String {
    format!("planted-{}-{round}-x7Qv", way.replace(['-', ' '], ""))
}

/// Runs the binary with `args` (`{}` replaced by the planted value of each
/// way) and returns everything it printed.
fn run(args: &[&str], ways: &[Way], round: u8, log: &mut String) -> (i32, String) {
    let c = cluster::shared();
    let mut cmd = Command::new(common::bin());
    cmd.args(args).arg("--kubeconfig").arg(&c.kubeconfig).stdin(Stdio::null());
    for w in ways {
        let v = secret(w.label, round);
        cmd.args(w.args.iter().map(|a| a.replace("{}", &v)));
        for (k, val) in w.env {
            cmd.env(k, val.replace("{}", &v));
        }
    }
    let out = cmd.output().expect("run kubectl-gitops");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    log.push_str(&format!("\n$ {args:?} (round {round})\n{text}"));
    (out.status.code().unwrap_or(-1), text)
}

fn ok(args: &[&str], ways: &[Way], round: u8, log: &mut String) {
    let (code, text) = run(args, ways, round, log);
    assert_eq!(code, 0, "{args:?}: {text}");
}

/// The ApplySet parent as JSON, with every `data` value base64-decoded.
fn parent_text(kind: &str, ns: &str, app: &str) -> String {
    let raw = cluster::shared().kubectl_ok(&["get", kind, &format!("applyset-{app}"), "-n", ns, "-o", "json"]);
    let mut v: Value = serde_json::from_str(&raw).unwrap();
    if kind == "secret" {
        for (_, d) in v["data"].as_object_mut().into_iter().flatten() {
            let bytes = base64::engine::general_purpose::STANDARD.decode(d.as_str().unwrap()).unwrap();
            *d = Value::String(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    v.to_string()
}

fn call(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

/// Sync, change, diff, dry-run, sync again, status, history, rollback; then
/// look for every planted value in all of it and in the parent.
fn exercise(dir: &Path, app: &str, parent: &str, ways: &[Way]) {
    let ns = new_ns(&format!("sec-{app}"));
    let d = dir.to_str().unwrap();
    let base = ["--name", app, "-n", &ns, "--applyset-parent", parent];
    let with = |cmd: &str, extra: &[&str]| -> Vec<String> {
        let mut a = vec![cmd.to_string(), d.to_string()];
        a.extend(base.iter().map(|s| s.to_string()));
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let mut log = String::new();
    ok(&call(&with("sync", &["-vv"])), ways, 0, &mut log);
    for v in [&[][..], &["-v"], &["-vv"]] {
        let (code, text) = run(&call(&with("diff", v)), ways, 1, &mut log);
        assert_eq!(code, 1, "diff should find the changed Secret: {text}");
        ok(&call(&with("sync", &[&["--dry-run"], v].concat())), ways, 1, &mut log);
    }
    ok(&call(&with("sync", &["-v"])), ways, 1, &mut log);
    for (s, h) in [("json", "json"), ("text", "yaml"), ("wide", "table")] {
        ok(&call(&with("status", &["-o", s, "-vv"])), ways, 1, &mut log);
        let h = ["history", app, "-n", &ns, "--applyset-parent", parent, "-o", h, "-vv"];
        ok(&h, &[], 0, &mut log);
    }
    // A rollback to the first entry cannot restore it (a local directory,
    // values that were never stored): it refuses, without the values.
    let (code, text) = run(&["rollback", app, "1", "-n", &ns, "--applyset-parent", parent, "--yes"], &[], 0, &mut log);
    assert_eq!(code, 2, "rollback must refuse: {text}");
    log.push_str(&parent_text(parent, &ns, app));
    for w in ways {
        for round in [0, 1] {
            let v = secret(w.label, round);
            assert!(!log.contains(&v), "the value given by {} leaked:\n{}", w.label, context(&log, &v));
        }
    }
    // The record says that each value was given, as a digest.
    let h = parent_text(parent, &ns, app);
    let given = h.matches("(not stored) sha256:").count();
    assert!(given >= 2 * ways.len(), "two entries should record {} values each: {h}", ways.len());
}

fn context(log: &str, needle: &str) -> String {
    let at = log.find(needle).unwrap();
    let start = log[..at].rfind("\n$ ").unwrap_or(0);
    let from = at.saturating_sub(300).max(start);
    let mut end = (at + 200).min(log.len());
    while !log.is_char_boundary(end) {
        end -= 1;
    }
    let mut from = from;
    while !log.is_char_boundary(from) {
        from -= 1;
    }
    format!("{}...{}", &log[start..(start + 200).min(from)], &log[from..end])
}

#[test]
fn chart_values_never_leave_the_render() {
    let chart = tree(&[
        ("Chart.yaml", "apiVersion: v2\nname: s\nversion: 0.1.0\n"),
        ("values.yaml", "a: x\nb: x\nj: {x: x}\nl: x\n"),
        (
            "templates/secret.yaml.j2",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: \"{{ Values.a }}\"\n  b: \"{{ Values.b }}\"\n  j: \"{{ Values.j.x }}\"\n  l: \"{{ Values.l }}\"\n",
        ),
    ]);
    let ways = [
        Way { label: "set", args: &["--set", "a={}"], env: &[] },
        Way { label: "set-string", args: &["--set-string", "b={}"], env: &[] },
        Way { label: "set-json", args: &["--set-json", "j={\"x\":\"{}\"}"], env: &[] },
        Way { label: "set-literal", args: &["--set-literal", "l={}"], env: &[] },
    ];
    // A ConfigMap parent keeps its record in plain text.
    exercise(chart.path(), "chart", "configmap", &ways);
}

#[test]
fn jsonnet_variables_never_leave_the_render() {
    let src = tree(&[(
        "main.jsonnet",
        "function(t, u, te) {\n  apiVersion: 'v1', kind: 'Secret', metadata: { name: 'j' },\n  stringData: { a: std.extVar('e'), b: std.extVar('ENV_E'), c: std.extVar('c'), d: t, e: u, f: te },\n}\n",
    )]);
    let ways = [
        Way { label: "ext-str", args: &["--ext-str", "e={}"], env: &[] },
        Way { label: "ext-str env", args: &["--ext-str", "ENV_E"], env: &[("ENV_E", "{}")] },
        Way { label: "ext-code", args: &["--ext-code", "c='{}'"], env: &[] },
        Way { label: "tla-str", args: &["--tla-str", "t={}"], env: &[] },
        Way { label: "tla-code", args: &["--tla-code", "u='{}'"], env: &[] },
        Way { label: "tla-str env", args: &["--tla-str", "te"], env: &[("te", "{}")] },
    ];
    exercise(src.path(), "jsonnet", "secret", &ways);
}

#[test]
fn plugin_env_never_leaves_the_render() {
    let plugins = tree(&[(
        "p.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata: {name: printer}\nspec:\n  discover: {fileName: 'x.txt'}\n  generate:\n    command: [sh, -c]\n    args: ['printf \"apiVersion: v1\\nkind: Secret\\nmetadata: {name: p}\\nstringData: {x: \\\"%s\\\"}\\n\" \"$ARGOCD_ENV_X\"']\n",
    )]);
    let src = tree(&[("x.txt", "")]);
    let dir = plugins.path().to_str().unwrap().to_string();
    // The plugin directory is a path, not a secret: leak it into a static so
    // the Way can name it.
    let dir: &'static str = Box::leak(dir.into_boxed_str());
    let args: &'static [&'static str] = Box::leak(vec!["--plugin-env", "X={}", "--plugin-dir", dir].into_boxed_slice());
    exercise(src.path(), "plugin", "secret", &[Way { label: "plugin-env", args, env: &[] }]);
}
