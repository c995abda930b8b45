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

use common::tree;
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
    assert!(r.stderr.contains("mass prune") && r.stderr.contains("25 more objects"), "{}", r.stderr);
    assert!(r.stderr.contains("--confirm-mass-prune"), "{}", r.stderr);
    assert_eq!(versions(&ns, "configmaps,secrets,leases"), before, "something was written");
    assert!(crd_alive(group));
    assert_eq!(widget_count(group), 25);

    let r =
        sync_ok(dir.path(), &ns, "massapp", &["--prune", "--yes", "--prune-crds-with-objects", "--confirm-mass-prune"]);
    assert!(r.stdout.contains("1 pruned"), "{}", r.stdout);
    assert!(!crd_alive(group));
}
