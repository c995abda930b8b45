//! Syncs that meet a failing control plane, on a private test cluster the
//! tests break on purpose: the API server killed in the middle of a sync of
//! 1,000 objects and started again, and etcd paused (SIGSTOP) during a sync.
//! The next run converges each time; nothing is orphaned or pruned wrongly;
//! nothing hangs past `--timeout`.

#[path = "support/cluster.rs"]
mod cluster;
mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::tree;

fn gitops(c: &cluster::TestCluster, args: &[&str]) -> Child {
    Command::new(common::bin())
        .args(args)
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl-gitops")
}

fn finish(child: Child) -> (i32, String, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn configmaps(ns_count: usize, per_ns: usize) -> String {
    let mut s = String::new();
    for n in 0..ns_count {
        s.push_str(&format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: restart-{n}\n---\n"));
        for i in 0..per_ns {
            s.push_str(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: restart-{n}\ndata: {{k: \"{i}\"}}\n---\n"
            ));
        }
    }
    s
}

fn count(c: &cluster::TestCluster) -> usize {
    let out = c.kubectl(&["get", "configmaps", "-A", "-l", "applyset.kubernetes.io/part-of", "-o", "name"]);
    String::from_utf8_lossy(&out.stdout).lines().count()
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_control_plane_that_fails_mid_sync() {
    let dir = std::env::temp_dir().join(format!("kubectl-gitops-restart-{}", std::process::id()));
    let c = cluster::start_owned(&dir, true).unwrap_or_else(|e| panic!("test cluster: {e}"));
    c.create_namespace("apps");
    let src = tree(&[("all.yaml", &configmaps(10, 100))]);
    let path = src.path().to_str().unwrap();
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", path, "--name", "big", "-n", "apps", "--lock-duration", "10s"];
        args.extend_from_slice(extra);
        gitops(&c, &args)
    };

    // 1. The API server killed once the writes began.
    let child = sync(&[]);
    wait_for("the first writes", Duration::from_secs(120), || count(&c) >= 50);
    c.kill_apiserver();
    let started = Instant::now();
    let (code, out, err) = finish(child);
    assert_ne!(code, 0, "{out}{err}");
    assert!(started.elapsed() < Duration::from_secs(60), "the failed sync hung: {:?}", started.elapsed());
    c.restart_apiserver();
    let written = count(&c);
    assert!(written < 1000, "the kill came too late to test anything ({written} written)");
    let parent = String::from_utf8_lossy(
        &c.kubectl(&["get", "secret", "applyset-big", "-n", "apps", "-o", "jsonpath={.metadata.annotations}"]).stdout,
    )
    .into_owned();
    assert!(parent.contains("ConfigMap") && parent.contains("restart-9"), "widened before any write: {parent}");
    // The next run converges (the crashed run's lock expires within --lock-duration).
    let (code, out, err) = finish(sync(&["--timeout", "3m"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(count(&c), 1000);
    // Nothing pruned wrongly: a prune of the same source deletes nothing.
    let (code, out, err) = finish(sync(&["--prune", "--yes"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 pruned"), "{out}");

    // 2. etcd paused during a sync: no hang past --timeout, converges after resume.
    std::fs::write(src.path().join("all.yaml"), configmaps(10, 100).replace("data: {k: ", "data: {v: \"2\", k: "))
        .unwrap();
    let child = sync(&["--timeout", "6s"]);
    std::thread::sleep(Duration::from_millis(1500));
    c.signal_etcd(libc::SIGSTOP);
    let started = Instant::now();
    let (code, out, err) = finish(child);
    c.signal_etcd(libc::SIGCONT);
    assert_ne!(code, 0, "{out}{err}");
    assert!(started.elapsed() < Duration::from_secs(6 + 10 + 5), "hung past --timeout: {:?}", started.elapsed());
    assert!(err.contains("timeout") || err.contains("timed out"), "{err}");
    wait_for("etcd to answer again", Duration::from_secs(60), || {
        c.kubectl(&["get", "--raw", "/readyz"]).status.success()
    });
    let (code, out, err) = finish(sync(&["--timeout", "3m"]));
    assert_eq!(code, 0, "{out}{err}");
    let updated = String::from_utf8_lossy(
        &c.kubectl(&["get", "configmap", "cm-99", "-n", "restart-9", "-o", "jsonpath={.data.v}"]).stdout,
    )
    .into_owned();
    assert_eq!(updated, "2");
    c.stop();
}
