//! Syncs through the fault proxy (tests/support/proxy.rs) in front of the
//! real test API server: throttling (429 with Retry-After), server errors
//! and reset connections are retried, bounded and reported; a stalled
//! server cannot hold a sync past `--timeout`; a sync cut off midway leaves
//! a parent that lists every member, and the next run converges.

#[path = "support/cluster.rs"]
mod cluster;
mod common;
#[path = "support/proxy.rs"]
mod proxy;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Run, tree};
use proxy::{Fault, Proxy, Rule};

fn start() -> Proxy {
    let c = cluster::shared();
    Proxy::start_for(&c.dir, &c.kubeconfig, &c.server)
}

fn gitops(kubeconfig: &std::path::Path, args: &[&str]) -> Run {
    let out = Command::new(common::bin())
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl-gitops");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn configmaps(n: usize) -> String {
    (0..n)
        .map(|i| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata: {{k: \"{i}\"}}\n---\n"))
        .collect()
}

fn count(ns: &str) -> usize {
    let out = cluster::shared().kubectl_ok(&["get", "configmaps", "-n", ns, "-o", "name"]);
    out.lines().filter(|l| l.starts_with("configmap/cm-")).count()
}

/// 429 with Retry-After, 500, 503 and reset connections on the writes:
/// each request is retried (the server's Retry-After honoured) and the
/// sync succeeds, every object written once.
#[test]
fn throttling_server_errors_and_resets_are_retried() {
    let ns = "faults-retried";
    cluster::shared().create_namespace(ns);
    let p = start();
    p.add_rule(Rule::new(Fault::Status { code: 429, retry_after: Some(1) }).method("PATCH").times(2));
    p.add_rule(Rule::new(Fault::Status { code: 500, retry_after: None }).method("PATCH").times(2));
    p.add_rule(Rule::new(Fault::Status { code: 503, retry_after: None }).method("PATCH").times(2));
    p.add_rule(Rule::new(Fault::Reset).method("PATCH").times(2));
    p.add_rule(Rule::new(Fault::Reset).method("GET").times(1));
    let dir = tree(&[("a.yaml", &configmaps(20))]);
    let started = Instant::now();
    let r = gitops(&p.kubeconfig, &["sync", dir.path().to_str().unwrap(), "--name", "retried", "-n", ns]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("20 created"), "{}", r.stdout);
    assert_eq!(p.counts().1, 9, "every injected fault was met");
    // The 429's Retry-After (1 s) was waited for.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(count(ns), 20);
}

/// A server that keeps failing: the retries are bounded and the error
/// names the request; nothing was written (the preflight failed).
#[test]
fn a_server_that_keeps_failing_is_reported_not_retried_forever() {
    let ns = "faults-bounded";
    cluster::shared().create_namespace(ns);
    let p = start();
    p.add_rule(Rule::new(Fault::Status { code: 503, retry_after: None }).method("PATCH"));
    let dir = tree(&[("a.yaml", &configmaps(3))]);
    let started = Instant::now();
    let r = gitops(&p.kubeconfig, &["sync", dir.path().to_str().unwrap(), "--name", "bounded", "-n", ns]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("503") && r.stderr.contains("configmaps"), "{}", r.stderr);
    assert!(started.elapsed() < Duration::from_secs(30), "retries are bounded: {:?}", started.elapsed());
    assert_eq!(count(ns), 0);
}

/// A stalled API server (requests held for a minute) cannot hold a sync
/// past its `--timeout`: the run stops, says why, and the next run (the
/// server well again) converges.
#[test]
fn a_stalled_server_cannot_hold_a_sync_past_its_timeout() {
    let ns = "faults-stall";
    cluster::shared().create_namespace(ns);
    let p = start();
    let dir = tree(&[("a.yaml", &configmaps(10))]);
    // The ConfigMap writes stall (the lock's requests still go through, so it is released).
    p.add_rule(Rule::new(Fault::Stall(Duration::from_secs(60))).method("PATCH").path("/configmaps/").after(10));
    let started = Instant::now();
    let r =
        gitops(&p.kubeconfig, &["sync", dir.path().to_str().unwrap(), "--name", "stall", "-n", ns, "--timeout", "4s"]);
    let took = started.elapsed();
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--timeout"), "{}", r.stderr);
    // The deadline, plus the grace a failed run has to record its failure and release its lock.
    assert!(took < Duration::from_secs(4 + 10 + 3), "took {took:?}");
    p.clear_rules();
    let r = gitops(&p.kubeconfig, &["sync", dir.path().to_str().unwrap(), "--name", "stall", "-n", ns]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(count(ns), 10);
}

/// The API server becomes unreachable in the middle of the writes (every
/// request after the first writes is reset): the sync fails, reporting
/// what was and was not applied; the parent, widened before any write,
/// lists every member; the next run converges and a prune deletes only
/// what the source dropped.
#[test]
fn a_sync_cut_off_midway_converges_on_the_next_run() {
    let ns = "faults-cutoff";
    cluster::shared().create_namespace(ns);
    let p = start();
    let dir = tree(&[("a.yaml", &configmaps(60))]);
    // The preflight's dry-runs are PATCHes too: cut off after 60 of them and 20 writes.
    p.add_rule(Rule::new(Fault::Reset).method("PATCH").path("/configmaps/").after(80));
    let r = gitops(&p.kubeconfig, &["sync", dir.path().to_str().unwrap(), "--name", "cutoff", "-n", ns, "-o", "json"]);
    assert_ne!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
    let failed = report["objects"].as_array().unwrap().iter().filter(|o| o["outcome"] == "failed").count();
    let created = report["objects"].as_array().unwrap().iter().filter(|o| o["outcome"] == "created").count();
    assert!(failed > 0 && created > 0, "{report:#}");
    let written = count(ns);
    assert!(written < 60, "the cut-off left the set half written ({written})");
    let kinds = cluster::shared().kubectl_ok(&[
        "get",
        "secret",
        "applyset-cutoff",
        "-n",
        ns,
        "-o",
        "jsonpath={.metadata.annotations.applyset\\.kubernetes\\.io/contains-group-kinds}",
    ]);
    assert_eq!(kinds, "ConfigMap", "the parent lists every member kind before any write");
    p.clear_rules();
    let r = gitops(&p.kubeconfig, &["sync", dir.path().to_str().unwrap(), "--name", "cutoff", "-n", ns]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(count(ns), 60);
    std::fs::write(dir.path().join("a.yaml"), configmaps(45)).unwrap();
    let r = gitops(
        &p.kubeconfig,
        &["sync", dir.path().to_str().unwrap(), "--name", "cutoff", "-n", ns, "--prune", "--yes"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("15 pruned"), "{}", r.stdout);
    assert_eq!(count(ns), 45);
}
