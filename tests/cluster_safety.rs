//! Hostile cluster states against the real test cluster (issue 18): pruning
//! a CustomResourceDefinition that still has objects of its kind (refused
//! without `--prune-crds-with-objects`, counted in the preview and in the
//! mass-prune guard), and the sync lock (a live holder keeps it, a stale one
//! loses it, a lost lock stops the writes, unlock spares a successor's Lease).
//! Every test works in its own namespaces and its own CRD group.

#[path = "support/cluster.rs"]
mod cluster;
mod common;
#[path = "support/sync.rs"]
mod sync_support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::tree;
use kubectl_gitops::cluster::{Cluster, ConnectOptions};
use sync_support::{cm, exists, gitops, new_ns, sync, sync_ok, versions};

/// A namespaced CRD `widgets.<group>` (kind `Widget`).
fn crd(group: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: widgets, singular: widget, kind: Widget}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n---\n"
    )
}

fn widget(group: &str, name: &str) -> String {
    format!("apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n  size: 1\n---\n")
}

/// Create a Widget with a raw POST (kubectl's cached discovery may not know the kind yet).
fn create_widget(group: &str, ns: &str, name: &str) {
    let c = cluster::shared();
    let body = serde_json::json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
        "metadata": {"name": name, "namespace": ns}, "spec": {"size": 1}});
    let file = c.dir.join(format!("widget-{group}-{ns}-{name}.json"));
    std::fs::write(&file, body.to_string()).unwrap();
    c.kubectl_ok(&[
        "create",
        "--raw",
        &format!("/apis/{group}/v1/namespaces/{ns}/widgets"),
        "-f",
        file.to_str().unwrap(),
    ]);
}

/// Whether the CRD is still there and not being deleted.
fn crd_alive(group: &str) -> bool {
    let out = cluster::shared().kubectl(&[
        "get",
        "crd",
        &format!("widgets.{group}"),
        "-o",
        "jsonpath={.metadata.deletionTimestamp}",
    ]);
    out.status.success() && String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

fn widget_count(group: &str) -> usize {
    let raw = cluster::shared().kubectl_ok(&["get", "--raw", &format!("/apis/{group}/v1/widgets")]);
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    v["items"].as_array().map_or(0, Vec::len)
}

#[test]
fn pruning_a_crd_with_objects_is_refused_counted_and_allowed_with_the_flag() {
    let ns = new_ns("safety-crd");
    let other = new_ns("safety-crd-other");
    let group = "safety-a.example.com";
    let dir = tree(&[("a.yaml", &format!("{}{}", crd(group), cm("c", "", "x")))]);
    sync_ok(dir.path(), &ns, "crdapp", &[]);
    // Objects of its kind that this app does not manage, in two namespaces.
    create_widget(group, &ns, "w0");
    create_widget(group, &other, "w1");
    create_widget(group, &other, "w2");
    // The CRD leaves the render (as with skipCrds).
    std::fs::write(dir.path().join("a.yaml"), cm("c", "", "x")).unwrap();

    let before = versions(&ns, "configmaps,secrets,leases");
    let r = sync(dir.path(), &ns, "crdapp", &["--prune", "--yes"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    for want in
        [format!("CustomResourceDefinition widgets.{group}"), "3 objects".into(), "--prune-crds-with-objects".into()]
    {
        assert!(r.stderr.contains(&want), "{want} missing: {}", r.stderr);
    }
    assert_eq!(versions(&ns, "configmaps,secrets,leases"), before, "something was written");
    assert!(crd_alive(group));
    assert_eq!(widget_count(group), 3);

    // The preview lists them as cascading deletions and warns.
    let r = sync_ok(dir.path(), &ns, "crdapp", &["--prune", "--dry-run"]);
    assert!(r.stderr.contains(&format!("Widget.{group} {other}/w1 cascading")), "{}", r.stderr);
    assert!(r.stderr.contains("a real sync needs --prune-crds-with-objects"), "{}", r.stderr);
    assert!(r.stdout.contains("1 pruned") && r.stdout.contains("3 cascading"), "{}", r.stdout);
    let json = gitops(&[
        "sync",
        dir.path().to_str().unwrap(),
        "--name",
        "crdapp",
        "-n",
        &ns,
        "--prune",
        "--dry-run",
        "-o",
        "json",
    ]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"]["cascading"], 3, "{}", json.stdout);
    let mut cascading: Vec<String> = v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["outcome"] == "cascading" && o["kind"] == "Widget")
        .map(|o| format!("{}/{}", o["namespace"].as_str().unwrap(), o["name"].as_str().unwrap()))
        .collect();
    let mut want = [format!("{ns}/w0"), format!("{other}/w1"), format!("{other}/w2")];
    cascading.sort();
    want.sort();
    assert_eq!(cascading, want);
    let diff = gitops(&["diff", dir.path().to_str().unwrap(), "--name", "crdapp", "-n", &ns, "--prune"]);
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    assert!(
        diff.stdout.contains(&format!("# cascading: deleted with CustomResourceDefinition widgets.{group}")),
        "{}",
        diff.stdout
    );
    assert!(crd_alive(group) && widget_count(group) == 3, "a preview deleted something");

    // With the flag the CRD goes, and the API server takes its objects along.
    let r = sync_ok(dir.path(), &ns, "crdapp", &["--prune", "--yes", "--prune-crds-with-objects"]);
    assert!(r.stdout.contains("1 pruned"), "{}", r.stdout);
    assert!(!crd_alive(group));
    assert!(exists("configmap", &ns, "c"));
}

#[test]
fn the_mass_prune_guard_counts_what_a_crd_takes_along() {
    let ns = new_ns("safety-crd-mass");
    let group = "safety-b.example.com";
    // 25 Widgets: more than one page of the counting LIST (remainingItemCount gives the rest).
    let widgets: String = (0..25).map(|i| widget(group, &format!("w{i}"))).collect();
    let dir = tree(&[("crd.yaml", &crd(group)), ("w.yaml", &widgets), ("c.yaml", &cm("c", "", "x"))]);
    sync_ok(dir.path(), &ns, "massapp", &[]);
    assert_eq!(widget_count(group), 25);
    // skipCrds: the Widgets are still rendered, the CRD is not.
    std::fs::remove_file(dir.path().join("crd.yaml")).unwrap();

    let json = gitops(&[
        "sync",
        dir.path().to_str().unwrap(),
        "--name",
        "massapp",
        "-n",
        &ns,
        "--prune",
        "--dry-run",
        "-o",
        "json",
    ]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"]["pruned"], 1, "{}", json.stdout);
    assert_eq!(v["summary"]["cascading"], 25, "{}", json.stdout);
    assert_eq!(v["cascadingUnlisted"], 5, "{}", json.stdout);
    assert!(json.stderr.contains("mass prune"), "{}", json.stderr);

    // One object pruned, 25 deleted with it: a mass prune, even with the CRD flag.
    let before = versions(&ns, "configmaps,secrets,leases");
    let r = sync(dir.path(), &ns, "massapp", &["--prune", "--yes", "--prune-crds-with-objects"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("mass prune") && r.stderr.contains("25 objects that deleting CustomResourceDefinitions"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--confirm-mass-prune"), "{}", r.stderr);
    assert_eq!(versions(&ns, "configmaps,secrets,leases"), before, "something was written");
    assert!(crd_alive(group));
    assert_eq!(widget_count(group), 25);

    let r =
        sync_ok(dir.path(), &ns, "massapp", &["--prune", "--yes", "--prune-crds-with-objects", "--confirm-mass-prune"]);
    assert!(r.stdout.contains("1 pruned"), "{}", r.stdout);
    assert!(!crd_alive(group));
}

/// A Lease `name` in `ns` held by `holder` for `secs`, last renewed at `renew` (by its holder's clock).
fn put_lease(ns: &str, name: &str, holder: &str, secs: u32, renew: &str) {
    cluster::shared().apply_yaml(
        &format!(
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  holderIdentity: {holder}\n  leaseDurationSeconds: {secs}\n  renewTime: \"{renew}\"\n"
        ),
        &[],
    );
}

fn lease_field(ns: &str, name: &str, field: &str) -> Option<String> {
    let out = cluster::shared().kubectl(&["get", "lease", name, "-n", ns, "-o", &format!("jsonpath={{{field}}}")]);
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_lease_its_holder_keeps_renewing_is_not_taken() {
    let ns = new_ns("safety-lock-live");
    let dir = tree(&[("a.yaml", &cm("x", "", "x"))]);
    // Renewed "long ago" by its holder's clock: only observed renewals may count.
    put_lease(&ns, "applyset-live", "other-host/1", 3, "2001-01-01T00:00:00.000000Z");
    let stop = Arc::new(AtomicBool::new(false));
    let renewer = {
        let (stop, ns) = (stop.clone(), ns.clone());
        std::thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let renew = format!("2001-01-01T00:{:02}:{:02}.000000Z", (i / 60) % 60, i % 60);
                let patch = format!("{{\"spec\":{{\"renewTime\":\"{renew}\"}}}}");
                cluster::shared().kubectl_ok(&[
                    "patch",
                    "lease",
                    "applyset-live",
                    "-n",
                    &ns,
                    "--type",
                    "merge",
                    "-p",
                    &patch,
                ]);
                std::thread::sleep(Duration::from_millis(300));
            }
        })
    };
    let r = sync(dir.path(), &ns, "live", &[]);
    stop.store(true, Ordering::Relaxed);
    renewer.join().unwrap();
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("holds the lock") && r.stderr.contains("other-host/1"), "{}", r.stderr);
    assert!(r.stderr.contains("being renewed"), "{}", r.stderr);
    assert!(!exists("configmap", &ns, "x"), "written without the lock");
    assert_eq!(lease_field(&ns, "applyset-live", ".spec.holderIdentity").as_deref(), Some("other-host/1"));
}

#[test]
fn a_lease_unchanged_for_its_duration_is_taken_over() {
    let ns = new_ns("safety-lock-stale");
    let dir = tree(&[("a.yaml", &cm("x", "", "x"))]);
    // Its holder's clock says it is valid for centuries; it is never renewed.
    put_lease(&ns, "applyset-stale", "crashed-host/1", 2, "2999-01-01T00:00:00.000000Z");
    let r = sync_ok(dir.path(), &ns, "stale", &[]);
    assert!(r.stderr.contains("held by crashed-host/1: watching it for 2s"), "{}", r.stderr);
    assert!(exists("configmap", &ns, "x"));
    assert_eq!(lease_field(&ns, "applyset-stale", ".spec.holderIdentity"), None, "our lock was not released");
}

#[test]
fn unlock_spares_a_successors_lease() {
    let c = cluster::shared();
    let ns = new_ns("safety-lock-unlock");
    let k = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(c.kubeconfig.clone()),
        context: None,
        namespace: Some(ns.clone()),
        concurrency: 2,
    })
    .unwrap();
    let lock = k.lock(&ns, "l", Duration::from_secs(30), Duration::from_secs(60), &mut |_| {}).unwrap();
    k.check_lock(&lock).unwrap();
    // Another run takes the Lease over (as after our renewals stopped for its duration).
    c.kubectl_ok(&[
        "patch",
        "lease",
        "l",
        "-n",
        &ns,
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"holderIdentity":"successor"}}"#,
    ]);
    let err = k.check_lock(&lock).unwrap_err().to_string();
    assert!(err.contains("lost the sync lock") && err.contains("successor"), "{err}");
    k.unlock(lock).unwrap();
    assert_eq!(lease_field(&ns, "l", ".spec.holderIdentity").as_deref(), Some("successor"));
    // Our own lock is deleted.
    let other = k.lock(&ns, "mine", Duration::from_secs(30), Duration::from_secs(60), &mut |_| {}).unwrap();
    k.unlock(other).unwrap();
    assert_eq!(lease_field(&ns, "mine", ".spec.holderIdentity"), None);
}

/// Plays the kubelet: marks every Pod of `selector` Ready through the status subresource.
fn make_pods_ready(ns: &str, selector: &str) -> usize {
    let c = cluster::shared();
    let pods = c.kubectl_ok(&["get", "pods", "-n", ns, "-l", selector, "-o", "json"]);
    let pods: serde_json::Value = serde_json::from_str(&pods).unwrap();
    let mut n = 0;
    for mut pod in pods["items"].as_array().cloned().unwrap_or_default() {
        let name = pod["metadata"]["name"].as_str().unwrap().to_string();
        pod["status"] = serde_json::json!({
            "phase": "Running",
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
            ],
            "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "image": "nginx", "imageID": "",
                "started": true, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]
        });
        let file = c.dir.join(format!("{ns}-{name}-status.json"));
        std::fs::write(&file, pod.to_string()).unwrap();
        c.kubectl_ok(&[
            "replace",
            "--raw",
            &format!("/api/v1/namespaces/{ns}/pods/{name}/status"),
            "-f",
            file.to_str().unwrap(),
        ]);
        n += 1;
    }
    n
}

#[test]
fn a_sync_that_loses_its_lock_stops_writing() {
    let ns = new_ns("safety-lock-lost");
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: lost}}\n  template:\n    metadata: {labels: {app: lost}}\n    spec:\n      automountServiceAccountToken: false\n      containers: [{name: c, image: nginx}]\n---\n";
    let after = cm("after", "  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\n", "x");
    let dir = tree(&[("a.yaml", &format!("{deploy}{after}"))]);
    let c = cluster::shared();
    let mut child = Command::new(common::bin())
        .args(["sync", dir.path().to_str().unwrap(), "--name", "lost", "-n", &ns, "--wait", "--timeout", "120s"])
        .args(["--lock-duration", "3s", "--kubeconfig"])
        .arg(&c.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = || child.try_wait().unwrap().is_none();
    // Wave 0 is applied and waited for under our lock...
    let mut holding = false;
    for _ in 0..240 {
        assert!(running(), "sync finished before its Deployment was available");
        let holder = lease_field(&ns, "applyset-lost", ".spec.holderIdentity").unwrap_or_default();
        if holder.starts_with("kubectl-gitops@") && exists("deployment", &ns, "app") {
            holding = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(holding, "the sync never held its lock while waiting");
    // ...when another run takes the Lease over. Then wave 0 becomes healthy.
    c.kubectl_ok(&[
        "patch",
        "lease",
        "applyset-lost",
        "-n",
        &ns,
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"holderIdentity":"successor","leaseDurationSeconds":600}}"#,
    ]);
    for _ in 0..240 {
        if !running() || make_pods_ready(&ns, "app=lost") > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("lost the sync lock"), "{stderr}");
    assert!(!exists("configmap", &ns, "after"), "wave 1 was written after the lock was lost: {stderr}");
    assert_eq!(
        lease_field(&ns, "applyset-lost", ".spec.holderIdentity").as_deref(),
        Some("successor"),
        "the successor's Lease was deleted"
    );
}
