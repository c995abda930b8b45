//! The test cluster itself: it starts, serves RBAC, and every auth method of
//! its kubeconfig works.

#[path = "support/cluster.rs"]
mod cluster;

#[test]
fn cluster_serves_all_three_users() {
    let c = cluster::shared();
    assert!(c.server.starts_with("https://127.0.0.1:"));
    let who = c.kubectl_ok(&["auth", "can-i", "create", "deployments", "-n", "default"]);
    assert_eq!(who.trim(), "yes");
    let cert = c.kubectl_ok(&["--context", "admin-cert", "auth", "can-i", "delete", "namespaces"]);
    assert_eq!(cert.trim(), "yes");
    let out = c.kubectl(&["--context", "restricted", "auth", "can-i", "list", "pods", "-n", "default"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "no");
    // The controller manager runs: a new namespace gets its default ServiceAccount.
    c.create_namespace("harness-a");
    let mut found = false;
    for _ in 0..120 {
        if c.kubectl(&["get", "serviceaccount", "default", "-n", "harness-a"]).status.success() {
            found = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(found, "controller manager did not create the default ServiceAccount");
}
