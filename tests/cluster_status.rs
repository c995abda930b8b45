//! Sync history and `kubectl gitops status` against the real test cluster:
//! entries after syncs of different content, none after a no-op, the limit,
//! both parent kinds; status Synced/Healthy after a sync, OutOfSync after a
//! live edit and after a source change, Missing after a live deletion.
//! Every test works in its own namespace.

#[path = "support/cluster.rs"]
mod cluster;
mod common;
#[path = "support/sync.rs"]
mod sync_support;

use common::tree;
use serde_json::Value;
use sync_support::{cm, gitops, new_ns, sync_ok, versions};

fn history(app: &str, ns: &str, extra: &[&str]) -> Value {
    let mut args = vec!["history", app, "-n", ns, "-o", "json"];
    args.extend_from_slice(extra);
    let r = gitops(&args);
    assert_eq!(r.code, 0, "history failed: {}{}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn status(dir: &std::path::Path, app: &str, ns: &str) -> Value {
    let r = gitops(&["status", dir.to_str().unwrap(), "--name", app, "-n", ns, "-o", "json"]);
    assert_eq!(r.code, 0, "status failed: {}{}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn ids(h: &Value) -> Vec<u64> {
    h.as_array().unwrap().iter().map(|e| e["id"].as_u64().unwrap()).collect()
}

#[test]
fn history_records_each_writing_sync_and_nothing_on_a_noop() {
    let ns = new_ns("hist-basic");
    let dir = tree(&[("a.yaml", &cm("settings", "", "1"))]);
    sync_ok(dir.path(), &ns, "web", &[]);
    let h = history("web", &ns, &[]);
    assert_eq!(ids(&h), [1]);
    let first = &h[0];
    let canonical = std::fs::canonicalize(dir.path()).unwrap();
    assert_eq!(first["source"]["repoUrl"], canonical.to_str().unwrap());
    let rev1 = first["source"]["revision"].as_str().unwrap().to_string();
    assert!(rev1.starts_with("local:") && rev1.len() == "local:".len() + 64, "{rev1}");
    assert_eq!(first["source"]["tool"], "Directory");
    assert_eq!(first["source"]["parameters"]["namespace"], serde_json::json!([ns]));
    assert_eq!(first["user"], "admin");
    assert_eq!(first["result"], "Succeeded");
    assert!(first["deployedAt"].as_str().unwrap().ends_with('Z'), "{first}");

    // A no-op sync writes nothing: no entry, no new resourceVersion on the parent.
    let before = versions(&ns, "configmaps,secrets,leases");
    sync_ok(dir.path(), &ns, "web", &[]);
    assert_eq!(versions(&ns, "configmaps,secrets,leases"), before);
    assert_eq!(ids(&history("web", &ns, &[])), [1]);

    // New content: a second entry with another revision.
    std::fs::write(dir.path().join("a.yaml"), cm("settings", "", "2")).unwrap();
    sync_ok(dir.path(), &ns, "web", &[]);
    let h = history("web", &ns, &[]);
    assert_eq!(ids(&h), [1, 2]);
    let rev2 = h[1]["source"]["revision"].as_str().unwrap();
    assert_ne!(rev2, rev1);

    // The table.
    let t = gitops(&["history", "web", "-n", &ns]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    let lines: Vec<&str> = t.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", t.stdout);
    for col in ["ID", "DEPLOYED AT", "REVISION", "TOOL", "USER", "RESULT"] {
        assert!(lines[0].contains(col), "{}", t.stdout);
    }
    assert!(lines[2].starts_with("2 ") && lines[2].contains(&rev2[..18]), "{}", t.stdout);
    assert!(lines[2].contains("Directory") && lines[2].contains("admin") && lines[2].ends_with("Succeeded"));
    let y = gitops(&["history", "web", "-n", &ns, "-o", "yaml"]);
    assert!(y.stdout.contains("repoUrl:") && y.stdout.contains("result: Succeeded"), "{}", y.stdout);

    // The limit keeps the newest entries.
    for v in ["3", "4"] {
        std::fs::write(dir.path().join("a.yaml"), cm("settings", "", v)).unwrap();
        sync_ok(dir.path(), &ns, "web", &["--revision-history-limit", "2"]);
    }
    assert_eq!(ids(&history("web", &ns, &[])), [3, 4]);

    // An app that was never synced has no history.
    let none = gitops(&["history", "nothing", "-n", &ns]);
    assert_eq!(none.code, 2, "{}", none.stdout);
    assert!(none.stderr.contains("applyset-nothing") && none.stderr.contains("does not exist"), "{}", none.stderr);
}

#[test]
fn history_in_a_configmap_parent_and_with_prune() {
    let ns = new_ns("hist-cm");
    let dir = tree(&[("a.yaml", &format!("{}{}", cm("one", "", "1"), cm("two", "", "1")))]);
    let parent = ["--applyset-parent", "configmap"];
    sync_ok(dir.path(), &ns, "app", &parent);
    std::fs::write(dir.path().join("a.yaml"), cm("one", "", "1")).unwrap();
    sync_ok(dir.path(), &ns, "app", &["--applyset-parent", "configmap", "--prune", "--yes"]);
    assert!(!sync_support::exists("configmap", &ns, "two"));
    let raw = cluster::shared().kubectl_ok(&[
        "get",
        "configmap",
        "applyset-app",
        "-n",
        &ns,
        "-o",
        "jsonpath={.data.history}",
    ]);
    let stored: Value = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{e}: {raw}"));
    assert_eq!(ids(&stored), [1, 2]);
    assert_eq!(ids(&history("app", &ns, &parent)), [1, 2]);
    // The pruning sync narrowed the inventory and recorded the entry.
    let kinds = cluster::shared().kubectl_ok(&[
        "get",
        "configmap",
        "applyset-app",
        "-n",
        &ns,
        "-o",
        "jsonpath={.metadata.annotations.applyset\\.kubernetes\\.io/contains-group-kinds}",
    ]);
    assert_eq!(kinds, "ConfigMap");
}

#[test]
fn status_follows_live_edits_source_changes_and_deletions() {
    let ns = new_ns("status");
    let svc =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80, protocol: TCP}]\n---\n";
    let dir = tree(&[("a.yaml", &format!("{}{}{svc}", cm("one", "", "1"), cm("two", "", "1")))]);

    // Before the first sync: everything Missing, nothing deployed.
    let s = status(dir.path(), "web", &ns);
    assert_eq!(s["sync"], "OutOfSync");
    assert_eq!(s["health"], "Missing");
    assert_eq!(s["deployedRevision"], Value::Null);

    sync_ok(dir.path(), &ns, "web", &[]);
    let s = status(dir.path(), "web", &ns);
    assert_eq!(s["sync"], "Synced", "{s:#}");
    assert_eq!(s["health"], "Healthy", "{s:#}");
    assert_eq!(s["counts"]["objects"], 3);
    assert_eq!(s["counts"]["outOfSync"], 0);
    assert_eq!(s["counts"]["health"]["Healthy"], 1, "the Service: {s:#}");
    assert_eq!(s["deployedRevision"], s["sourceRevision"]);
    assert_eq!(s["lastSync"]["id"], 1);
    let text = gitops(&["status", dir.path().to_str().unwrap(), "--name", "web", "-n", &ns]);
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("Sync Status:  Synced") && text.stdout.contains("Health:       Healthy"));
    assert!(text.stdout.contains("(deployed)"), "{}", text.stdout);

    // A live edit: that object (only) is OutOfSync; the revisions still agree.
    cluster::shared().kubectl_ok(&["patch", "configmap", "one", "-n", &ns, "-p", r#"{"data":{"k":"edited"}}"#]);
    let s = status(dir.path(), "web", &ns);
    assert_eq!(s["sync"], "OutOfSync", "{s:#}");
    assert_eq!(s["counts"]["outOfSync"], 1);
    let one = s["objects"].as_array().unwrap().iter().find(|o| o["name"] == "one").unwrap();
    assert_eq!(one["sync"], "OutOfSync");
    assert_eq!(s["deployedRevision"], s["sourceRevision"]);
    let wide = gitops(&["status", dir.path().to_str().unwrap(), "--name", "web", "-n", &ns, "-o", "wide"]);
    assert_eq!(wide.code, 0);
    let row = wide.stdout.lines().find(|l| l.contains("ConfigMap") && l.contains(" one ")).expect(&wide.stdout);
    assert!(row.contains("OutOfSync"), "{}", wide.stdout);
    assert!(wide.stdout.lines().any(|l| l.starts_with("GROUP") && l.contains("HEALTH")), "{}", wide.stdout);
    // kubectl patch now owns the field: take it back.
    sync_ok(dir.path(), &ns, "web", &["--force-conflicts"]);
    assert_eq!(status(dir.path(), "web", &ns)["sync"], "Synced");

    // A source change: OutOfSync, and the source no longer resolves to the deployed revision.
    std::fs::write(dir.path().join("a.yaml"), format!("{}{}{svc}", cm("one", "", "1"), cm("two", "", "2"))).unwrap();
    let s = status(dir.path(), "web", &ns);
    assert_eq!(s["sync"], "OutOfSync");
    assert_ne!(s["deployedRevision"], s["sourceRevision"]);
    let text = gitops(&["status", dir.path().to_str().unwrap(), "--name", "web", "-n", &ns]);
    assert!(text.stdout.contains("(not deployed)"), "{}", text.stdout);
    sync_ok(dir.path(), &ns, "web", &[]);
    let s = status(dir.path(), "web", &ns);
    assert_eq!(s["sync"], "Synced");
    assert_eq!(s["deployedRevision"], s["sourceRevision"]);

    // A deleted live object: Missing, OutOfSync.
    cluster::shared().kubectl_ok(&["delete", "configmap", "two", "-n", &ns]);
    let s = status(dir.path(), "web", &ns);
    assert_eq!(s["sync"], "OutOfSync");
    assert_eq!(s["health"], "Missing");
    assert_eq!(s["counts"]["health"]["Missing"], 1);
    let two = s["objects"].as_array().unwrap().iter().find(|o| o["name"] == "two").unwrap();
    assert_eq!((two["sync"].as_str(), two["health"].as_str()), (Some("OutOfSync"), Some("Missing")));

    // A member the source drops: OutOfSync until pruned.
    std::fs::write(dir.path().join("a.yaml"), format!("{}{svc}", cm("one", "", "1"))).unwrap();
    sync_ok(dir.path(), &ns, "web", &[]);
    std::fs::write(dir.path().join("a.yaml"), svc).unwrap();
    let s = status(dir.path(), "web", &ns);
    assert_eq!(s["sync"], "OutOfSync", "{s:#}");
    let one = s["objects"].as_array().unwrap().iter().find(|o| o["name"] == "one").expect("pruning candidate");
    assert!(one["message"].as_str().unwrap().contains("prune"), "{one}");
    sync_ok(dir.path(), &ns, "web", &["--prune", "--yes"]);
    let s = status(dir.path(), "web", &ns);
    assert_eq!((s["sync"].as_str(), s["health"].as_str()), (Some("Synced"), Some("Healthy")), "{s:#}");
}

#[test]
fn a_failed_sync_is_recorded_as_failed_and_status_shows_progress() {
    let ns = new_ns("hist-failed");
    // Without a kubelet the Deployment never becomes available: --wait times out.
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: never\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: never}}\n  template:\n    metadata: {labels: {app: never}}\n    spec:\n      containers: [{name: c, image: nginx}]\n---\n";
    let dir = tree(&[("a.yaml", deploy)]);
    let r = sync_support::sync(dir.path(), &ns, "slow", &["--wait", "--timeout", "2s"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let h = history("slow", &ns, &[]);
    assert_eq!(ids(&h), [1]);
    let result = h[0]["result"].as_str().unwrap();
    assert!(result.starts_with("Failed: ") && result.contains("timed out"), "{result}");
    let s = status(dir.path(), "slow", &ns);
    assert_eq!(s["sync"], "Synced", "{s:#}");
    assert_eq!(s["health"], "Progressing", "{s:#}");
    // No successful sync yet: nothing counts as deployed.
    assert_eq!(s["deployedRevision"], Value::Null);
    assert_eq!(s["lastSync"]["result"], h[0]["result"]);
}

#[test]
fn status_before_the_first_sync_in_a_namespace_that_does_not_exist_is_missing() {
    // Not created: the app has never been synced and its namespace is not there yet.
    let ns = "st-absent-never-created".to_string();
    let dir = tree(&[("a.yaml", &cm("settings", "", "1"))]);
    let s = status(dir.path(), "web", &ns);
    assert_eq!(s["sync"], "OutOfSync", "{s}");
    assert_eq!(s["health"], "Missing", "{s}");
    assert_eq!(s["deployedRevision"], Value::Null, "{s}");
    assert_eq!(s["objects"][0]["name"], "settings", "{s}");
    assert_eq!(s["objects"][0]["health"], "Missing", "{s}");
    // A sync of it is still refused by its preflight (nothing is created).
    let r = gitops(&["sync", dir.path().to_str().unwrap(), "--name", "web", "-n", &ns]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(&format!("namespace {ns}")), "{}", r.stderr);
}

/// HPAs of every version the server serves, alone and mixed in one app:
/// each is read in its own version and gets a health, never `Unknown`.
#[test]
fn hpa_health_in_every_served_version() {
    let ns = new_ns("status-hpa");
    let hpa = |name: &str, version: &str| {
        let spec = if version == "v1" {
            "  targetCPUUtilizationPercentage: 80\n".to_string()
        } else {
            let target = if version == "v2beta1" {
                "targetAverageUtilization: 80"
            } else {
                "target: {type: Utilization, averageUtilization: 80}"
            };
            format!("  metrics: [{{type: Resource, resource: {{name: cpu, {target}}}}}]\n")
        };
        format!(
            "apiVersion: autoscaling/{version}\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {name}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n  minReplicas: 1\n  maxReplicas: 3\n{spec}---\n"
        )
    };
    let versions = ["v1", "v2beta1", "v2beta2"];
    let all: String = versions.iter().map(|v| hpa(&format!("hpa-{v}"), v)).collect();
    for (app, content) in versions
        .iter()
        .map(|v| (format!("alone-{v}"), hpa(&format!("alone-{v}"), v)))
        .chain([("mixed".to_string(), all)])
    {
        let dir = tree(&[("a.yaml", &content)]);
        sync_ok(dir.path(), &ns, &app, &[]);
        let s = status(dir.path(), &app, &ns);
        for o in s["objects"].as_array().unwrap() {
            let h = o["health"].as_str().unwrap_or_default();
            assert!(["Healthy", "Progressing", "Degraded"].contains(&h), "{app}: {o:#}");
            assert!(!o.to_string().contains("unsupported"), "{app}: {o:#}");
        }
        assert_ne!(s["health"], "Unknown", "{app}: {s:#}");
        assert_eq!(s["objects"].as_array().unwrap().len(), content.matches("kind: HorizontalPodAutoscaler").count());
    }
}
