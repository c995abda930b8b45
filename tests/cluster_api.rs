//! The `cluster` module's library API against the real test cluster: what
//! `diff` uses and what `sync`/`prune` build on (real apply, label-selected
//! lists, deletes with preconditions).

#[path = "support/cluster.rs"]
mod cluster;

use kubectl_gitops::cluster::{ApplyOptions, Cluster, ConnectOptions, DeleteRequest, ListRequest, Propagation};
use kubectl_gitops::model::Gvk;
use kubectl_gitops::normalize::{Scope, ScopeLookup};
use serde_json::{Value, json};

fn connect(c: &cluster::TestCluster, context: Option<&str>, namespace: Option<&str>) -> Cluster {
    Cluster::connect(&ConnectOptions {
        kubeconfig: Some(c.kubeconfig.clone()),
        context: context.map(String::from),
        namespace: namespace.map(String::from),
        concurrency: 4,
    })
    .unwrap()
}

#[test]
fn apply_list_by_label_and_delete() {
    let c = cluster::shared();
    let ns = "api-crud";
    c.create_namespace(ns);
    let k = connect(c, None, Some(ns));
    assert_eq!(k.default_namespace(), ns);
    let gvk = Gvk::new("", "v1", "ConfigMap");
    let d = k.discover([&gvk]).unwrap();
    let cm = d.resource(&gvk).unwrap().clone();
    assert_eq!((cm.plural.as_str(), cm.namespaced), ("configmaps", true));
    assert_eq!(d.scope("", "ConfigMap"), Some(Scope::Namespaced));
    assert_eq!(d.scope("", "Namespace"), Some(Scope::Cluster));
    assert!(d.resource(&Gvk::new("apps", "v1", "Deployment")).is_none(), "only asked-for group-versions");

    let objs: Vec<Value> = (0..3)
        .map(|i| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": format!("cm-{i}"), "namespace": ns, "labels": {"app": if i < 2 { "mine" } else { "other" }}},
                   "data": {"i": i.to_string()}})
        })
        .collect();
    let batch: Vec<_> = objs.iter().map(|o| (&cm, o)).collect();
    for r in k.apply(&batch, ApplyOptions { dry_run: true, force: false }) {
        r.unwrap();
    }
    let live = k.list(&[ListRequest { resource: cm.clone(), namespace: ns.into(), label_selector: None }]).unwrap();
    assert!(live[0].iter().all(|o| o["metadata"]["name"] == "kube-root-ca.crt"), "dry-run wrote nothing");

    let applied: Vec<Value> =
        k.apply(&batch, ApplyOptions { dry_run: false, force: false }).into_iter().map(Result::unwrap).collect();
    assert_eq!(applied[0]["metadata"]["managedFields"][0]["manager"], "kubectl-gitops");
    let mine = k
        .list(&[ListRequest { resource: cm.clone(), namespace: ns.into(), label_selector: Some("app=mine".into()) }])
        .unwrap();
    let names: Vec<&str> = mine[0].iter().map(|o| o["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cm-0", "cm-1"]);
    assert!(mine[0].iter().all(|o| o["apiVersion"] == "v1" && o["kind"] == "ConfigMap"));

    // A uid precondition protects a same-named successor; a missing object is not an error.
    let del = |name: &str, uid: Option<String>| DeleteRequest {
        resource: cm.clone(),
        namespace: ns.into(),
        name: name.into(),
        uid,
        resource_version: None,
    };
    let wrong_uid = k.delete(&[del("cm-0", Some("not-the-uid".into()))], Propagation::Background, false);
    assert!(
        wrong_uid[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("delete configmaps in namespace api-crud failed (HTTP 409)")
    );
    let uid = applied[0]["metadata"]["uid"].as_str().unwrap().to_string();
    let done = k.delete(&[del("cm-0", Some(uid)), del("gone", None)], Propagation::Foreground, false);
    assert_eq!((done[0].as_ref().unwrap(), done[1].as_ref().unwrap()), (&true, &false));
    // Foreground: the garbage collector (controller manager) finishes the deletion.
    c.kubectl_ok(&["wait", "--for=delete", "configmap/cm-0", "-n", ns, "--timeout=60s"]);
}

#[test]
fn connection_errors_name_the_problem() {
    let c = cluster::shared();
    let err = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(c.kubeconfig.clone()),
        context: Some("nope".into()),
        ..Default::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(err.starts_with("cluster configuration: ") && err.contains("nope"), "{err}");
    let err =
        Cluster::connect(&ConnectOptions { kubeconfig: Some("/nonexistent/kubeconfig".into()), ..Default::default() })
            .err()
            .unwrap()
            .to_string();
    assert!(err.contains("/nonexistent/kubeconfig"), "{err}");
}
