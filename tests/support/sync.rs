//! Helpers shared by the sync test binaries (`cluster_sync`, `cluster_prune`):
//! run `kubectl gitops` against the shared test cluster, write ConfigMaps,
//! read resourceVersions.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::cluster;
use crate::common::{self, Run};

pub fn gitops(args: &[&str]) -> Run {
    let c = cluster::shared();
    let out = Command::new(common::bin())
        .args(args)
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl-gitops");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn sync(dir: &Path, ns: &str, app: &str, extra: &[&str]) -> Run {
    let d = dir.to_str().unwrap();
    let mut args = vec!["sync", d, "--name", app, "-n", ns];
    args.extend_from_slice(extra);
    gitops(&args)
}

pub fn sync_ok(dir: &Path, ns: &str, app: &str, extra: &[&str]) -> Run {
    let r = sync(dir, ns, app, extra);
    assert_eq!(r.code, 0, "sync failed\nstdout: {}\nstderr: {}", r.stdout, r.stderr);
    r
}

pub fn cm(name: &str, extra_meta: &str, data: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{extra_meta}data:\n  k: \"{data}\"\n---\n")
}

/// Objects the controller manager writes into every namespace on its own
/// schedule (the root CA bundle, service account tokens): never ours, and
/// they may appear at any moment after the namespace is created.
fn written_by_controllers(key: &str) -> bool {
    key == "ConfigMap/kube-root-ca.crt" || key.starts_with("Secret/default-token-")
}

/// name -> resourceVersion of the kinds in `kinds` in `ns`, leaving out what
/// the controllers write into every namespace.
pub fn versions(ns: &str, kinds: &str) -> BTreeMap<String, String> {
    let out = cluster::shared().kubectl_ok(&[
        "get",
        kinds,
        "-n",
        ns,
        "-o",
        "jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{\"\\n\"}{end}",
    ]);
    out.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !written_by_controllers(k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// [`versions`] once controllers have stopped writing (two reads a second
/// apart agree): a Deployment's status is updated after its creation.
pub fn settled_versions(ns: &str, kinds: &str) -> BTreeMap<String, String> {
    let mut last = versions(ns, kinds);
    for _ in 0..30 {
        std::thread::sleep(std::time::Duration::from_millis(1000));
        let now = versions(ns, kinds);
        if now == last {
            return now;
        }
        last = now;
    }
    last
}

pub fn exists(kind: &str, ns: &str, name: &str) -> bool {
    cluster::shared().kubectl(&["get", kind, name, "-n", ns]).status.success()
}

pub fn new_ns(name: &str) -> String {
    cluster::shared().create_namespace(name);
    name.to_string()
}
