//! The library inside other programs' runtimes: `examples/embed.rs` (its
//! own `kube::Client`, `Cluster::from_client`, the use cases on the test
//! cluster) runs and converges; a `Cluster` made by `connect` works and
//! drops inside multi-thread and current-thread runtimes.

#[path = "support/cluster.rs"]
mod cluster;

use std::path::PathBuf;

use kubectl_gitops::cluster::{Cluster, ConnectOptions};

fn cm(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: \"{value}\"\n")
}

/// The example's code (its `main` builds the client from `KUBECONFIG`; here
/// the test cluster's kubeconfig is given to the client directly).
#[allow(dead_code)]
#[path = "../examples/embed.rs"]
mod embed;

async fn client_for(path: PathBuf) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(path).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.unwrap();
    kube::Client::try_from(config).unwrap()
}

fn run_example(dir: &std::path::Path, app: &str, ns: &str) -> String {
    let c = cluster::shared();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let client = client_for(c.kubeconfig.clone()).await;
        embed::run(client, dir.to_path_buf(), app.into(), ns.into()).await.unwrap_or_else(|e| panic!("embed: {e}"))
    })
}

#[test]
fn the_embed_example_syncs_prunes_and_converges() {
    let c = cluster::shared();
    c.create_namespace("embed");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), cm("one", "1")).unwrap();
    std::fs::write(dir.path().join("b.yaml"), cm("two", "2")).unwrap();

    let out = run_example(dir.path(), "web", "embed");
    assert!(out.contains("differing before the sync: 2\n"), "{out}");
    assert!(out.contains("sync: 2 created, 0 configured, 0 unchanged, 0 pruned\n"), "{out}");
    assert!(out.contains("differing after the sync: 0\n"), "{out}");
    assert!(out.contains("status: Synced Healthy\n"), "{out}");
    assert_eq!(c.kubectl_ok(&["get", "configmap", "one", "-n", "embed", "-o", "jsonpath={.data.a}"]), "1");

    // A change and a removal: configured and pruned by the same calls.
    std::fs::write(dir.path().join("a.yaml"), cm("one", "10")).unwrap();
    std::fs::remove_file(dir.path().join("b.yaml")).unwrap();
    let out = run_example(dir.path(), "web", "embed");
    assert!(out.contains("differing before the sync: 1\n"), "{out}");
    assert!(out.contains("sync: 0 created, 1 configured, 0 unchanged, 1 pruned\n"), "{out}");
    assert!(out.contains("differing after the sync: 0\n"), "{out}");
    assert_eq!(c.kubectl_ok(&["get", "configmap", "one", "-n", "embed", "-o", "jsonpath={.data.a}"]), "10");
    let gone = c.kubectl(&["get", "configmap", "two", "-n", "embed"]);
    assert!(!gone.status.success(), "configmap two should be pruned");
}

fn connect() -> Cluster {
    let c = cluster::shared();
    let _ = c.kubectl(&["create", "namespace", "embed-seen"]); // either test may make it first
    let opts = ConnectOptions { kubeconfig: Some(c.kubeconfig.clone()), concurrency: 4, ..Default::default() };
    Cluster::connect(&opts).expect("connect")
}

/// Whether the cluster has the namespace `embed-seen` (made by the test first).
fn has_test_namespace(cluster: &Cluster) -> bool {
    let gvk = kubectl_gitops::model::Gvk { group: String::new(), version: "v1".into(), kind: "Namespace".into() };
    let discovery = cluster.discover([&gvk]).expect("discover");
    let resource = discovery.resource(&gvk).expect("namespaces are served").clone();
    let lists = cluster
        .list(&[kubectl_gitops::cluster::ListRequest { resource, namespace: String::new(), label_selector: None }])
        .expect("list namespaces");
    lists[0].iter().any(|ns| ns["metadata"]["name"] == "embed-seen")
}

#[test]
fn a_connected_cluster_works_and_drops_inside_runtimes() {
    // Made outside, used and dropped inside a multi-thread runtime's task.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let cluster = connect();
    let found = rt.block_on(async move {
        let found = has_test_namespace(&cluster);
        drop(cluster);
        found
    });
    assert!(found);
    // Made, used and dropped on a current-thread runtime's only thread.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let found = rt.block_on(async {
        let cluster = connect();
        has_test_namespace(&cluster)
    });
    assert!(found);
}

#[test]
fn from_client_refuses_a_current_thread_runtime_and_works_in_a_multi_thread_one() {
    let c = cluster::shared();
    let _ = c.kubectl(&["create", "namespace", "embed-seen"]); // either test may make it first
    let kubeconfig = c.kubeconfig.clone();
    let client = client_for;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let err = rt.block_on(async { Cluster::from_client(client(kubeconfig.clone()).await).err().unwrap() });
    assert!(err.to_string().contains("multi-thread"), "{err}");
    assert!(Cluster::from_client(rt.block_on(client(kubeconfig.clone()))).is_err(), "outside a runtime");

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let found = rt.block_on(async {
        let cluster = std::sync::Arc::new(Cluster::from_client(client(kubeconfig).await).unwrap());
        // Straight from async code, and through `run` on a blocking thread.
        let direct = has_test_namespace(&cluster);
        let via_run = cluster.run(|c| Ok(has_test_namespace(c))).await.unwrap();
        assert!(via_run);
        // A panic in the work is an error, not a crash.
        let err = cluster.run(|_| -> kubectl_gitops::error::Result<()> { panic!("boom") }).await.unwrap_err();
        assert!(err.to_string().contains("internal error") && err.to_string().contains("boom"), "{err}");
        direct
    });
    assert!(found);
}
