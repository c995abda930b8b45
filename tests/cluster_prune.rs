//! `kubectl gitops sync --prune` against the real test cluster: what is
//! pruned and what never is (foreign objects, Prune=false, Namespaces in
//! use), the safety rails (empty render, mass prune, confirmation), PruneLast
//! and --cascade, and the dry-run's cascading deletions. Every test works in
//! its own namespaces.

#[path = "support/cluster.rs"]
mod cluster;
mod common;
#[path = "support/sync.rs"]
mod sync_support;

use std::process::{Command, Stdio};

use common::tree;
use sync_support::{cm, exists, gitops, new_ns, sync, sync_ok, versions};

#[test]
fn prune_removes_only_our_removed_objects() {
    let ns = new_ns("sync-prune");
    let other = new_ns("sync-prune-other");
    let c = cluster::shared();
    let dir = tree(&[("a.yaml", &format!("{}{}", cm("keep", "", "x"), cm("gone", "", "x")))]);
    sync_ok(dir.path(), &ns, "mine", &[]);
    // Same name in another app, an unlabelled object, a member of kubectl's own ApplySet.
    let same = tree(&[("a.yaml", &cm("gone", "", "theirs"))]);
    sync_ok(same.path(), &other, "theirs", &[]);
    c.apply_yaml(&cm("unlabelled", &format!("  namespace: {ns}\n"), "x"), &[]);
    let kdir = tree(&[("k.yaml", &cm("kubectl-member", "", "x"))]);
    let out = Command::new("kubectl")
        .env("KUBECTL_APPLYSET", "true")
        .args(["--kubeconfig", c.kubeconfig.to_str().unwrap(), "apply", "--server-side", "--prune"])
        .args(["--applyset=secret/kset", "-n", &ns, "-f", kdir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    std::fs::write(dir.path().join("a.yaml"), cm("keep", "", "x")).unwrap();
    // Without --prune nothing is deleted.
    sync_ok(dir.path(), &ns, "mine", &[]);
    assert!(exists("configmap", &ns, "gone"));
    // Without --yes and without a terminal, pruning is refused before any write.
    let r = sync(dir.path(), &ns, "mine", &["--prune"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    assert!(exists("configmap", &ns, "gone"));
    let r = sync_ok(dir.path(), &ns, "mine", &["--prune", "--yes"]);
    assert!(r.stdout.contains("1 pruned"), "{}", r.stdout);
    assert!(!exists("configmap", &ns, "gone"));
    for (n, name) in [(&other, "gone"), (&ns, "unlabelled"), (&ns, "kubectl-member"), (&ns, "keep")] {
        assert!(exists("configmap", n, name), "{n}/{name} was deleted");
    }
}

#[test]
fn empty_render_is_refused() {
    let ns = new_ns("sync-empty");
    let dir = tree(&[("a.yaml", &cm("x", "", "x"))]);
    sync_ok(dir.path(), &ns, "empty", &[]);
    std::fs::write(dir.path().join("a.yaml"), "").unwrap();
    let r = sync(dir.path(), &ns, "empty", &["--prune", "--yes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--allow-empty"), "{}", r.stderr);
    assert!(exists("configmap", &ns, "x"));
    sync_ok(dir.path(), &ns, "empty", &["--prune", "--yes", "--allow-empty"]);
    assert!(!exists("configmap", &ns, "x"));
}

#[test]
fn mass_prune_needs_confirmation() {
    let ns = new_ns("sync-mass");
    let many: String = (0..12).map(|i| cm(&format!("m{i}"), "", "x")).collect();
    let dir = tree(&[("a.yaml", &many)]);
    sync_ok(dir.path(), &ns, "mass", &[]);
    std::fs::write(dir.path().join("a.yaml"), cm("survivor", "", "x")).unwrap();
    let r = sync(dir.path(), &ns, "mass", &["--prune", "--yes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("mass prune") && r.stderr.contains("--confirm-mass-prune"), "{}", r.stderr);
    assert!(!exists("configmap", &ns, "survivor"), "something was written");
    assert!(exists("configmap", &ns, "m0"));
    let preview = sync_ok(dir.path(), &ns, "mass", &["--prune", "--dry-run"]);
    assert!(
        preview.stderr.contains("warning: mass prune") && preview.stdout.contains("12 pruned"),
        "{}",
        preview.stderr
    );
    let r = sync_ok(dir.path(), &ns, "mass", &["--prune", "--yes", "--confirm-mass-prune"]);
    assert!(r.stdout.contains("12 pruned"), "{}", r.stdout);
}

#[test]
fn prune_false_and_namespaces_in_use_are_kept() {
    let ns = new_ns("sync-keep");
    let inner = "sync-keep-inner";
    let ns_obj = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {inner}\n---\n");
    let keep = cm("precious", "  annotations:\n    argocd.argoproj.io/sync-options: Prune=false\n", "x");
    let inside = cm("inside", &format!("  namespace: {inner}\n"), "x");
    let nodelete = cm("nodelete", "  annotations:\n    argocd.argoproj.io/sync-options: Delete=false\n", "x");
    let dir = tree(&[("a.yaml", &format!("{ns_obj}{keep}{inside}{nodelete}{}", cm("plain", "", "x")))]);
    sync_ok(dir.path(), &ns, "keep", &[]);
    cluster::shared().apply_yaml(&cm("foreign", &format!("  namespace: {inner}\n"), "x"), &[]);
    std::fs::write(dir.path().join("a.yaml"), cm("plain", "", "x")).unwrap();
    let r = sync_ok(dir.path(), &ns, "keep", &["--prune", "--yes"]);
    assert!(r.stderr.contains("precious kept: Prune=false"), "{}", r.stderr);
    assert!(r.stderr.contains("still holds objects outside the set") && r.stderr.contains("foreign"), "{}", r.stderr);
    assert!(exists("configmap", &ns, "precious"));
    assert!(!exists("configmap", &ns, "nodelete"), "Delete=false does not stop a prune (Argo CD's rule)");
    assert!(!exists("configmap", inner, "inside"));
    // What a prune keeps still requires pruning: the app stays OutOfSync.
    let st = gitops(&["status", dir.path().to_str().unwrap(), "--name", "keep", "-n", &ns, "-o", "json"]);
    let st: serde_json::Value = serde_json::from_str(&st.stdout).unwrap_or_else(|e| panic!("{e}: {}", st.stderr));
    assert_eq!(st["sync"], "OutOfSync", "{st:#}");
    let precious = st["objects"].as_array().unwrap().iter().find(|o| o["name"] == "precious").expect("listed");
    assert_eq!(precious["sync"], "OutOfSync", "{precious:#}");
    assert!(cluster::shared().kubectl(&["get", "namespace", inner]).status.success());
    // The kept objects stay recorded on the parent, so a later run still finds them.
    let kinds = cluster::shared().kubectl_ok(&[
        "get",
        "secret",
        "applyset-keep",
        "-n",
        &ns,
        "-o",
        "jsonpath={.metadata.annotations.applyset\\.kubernetes\\.io/contains-group-kinds}",
    ]);
    assert_eq!(kinds, "ConfigMap,Namespace");
}

#[test]
fn on_a_terminal_prune_asks_first() {
    let ns = new_ns("sync-prompt");
    let dir = tree(&[("a.yaml", &format!("{}{}", cm("stay", "", "x"), cm("go", "", "x")))]);
    sync_ok(dir.path(), &ns, "prompt", &[]);
    std::fs::write(dir.path().join("a.yaml"), cm("stay", "", "x")).unwrap();
    // `script` gives the sync a pseudo-terminal; its stdin is our answer.
    let c = cluster::shared();
    let answer = |text: &str| {
        let cmd = format!(
            "{} sync {} --name prompt -n {ns} --prune --kubeconfig {}",
            common::bin(),
            dir.path().display(),
            c.kubeconfig.display()
        );
        let mut child = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script (util-linux)");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, out) = answer("n\n");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("Prune them? [y/N]") && out.contains("ConfigMap sync-prompt/go"), "{out}");
    assert!(exists("configmap", &ns, "go"));
    let (code, out) = answer("y\n");
    assert_eq!(code, Some(0), "{out}");
    assert!(!exists("configmap", &ns, "go"));
    assert!(exists("configmap", &ns, "stay"));
}

#[test]
fn prune_last_and_cascade_orphan() {
    let ns = new_ns("sync-prune-last");
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: orphan}}\n  template:\n    metadata: {labels: {app: orphan}}\n    spec:\n      containers: [{name: c, image: nginx}]\n---\n";
    let last = cm("last", "  annotations:\n    argocd.argoproj.io/sync-options: PruneLast=true\n", "x");
    let dir = tree(&[("a.yaml", &format!("{last}{deploy}{}", cm("stay", "", "x")))]);
    sync_ok(dir.path(), &ns, "plast", &[]);
    let rs = || cluster::shared().kubectl_ok(&["get", "rs", "-n", &ns, "-o", "name"]).trim().to_string();
    for _ in 0..120 {
        if !rs().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let replica_set = rs();
    assert!(!replica_set.is_empty(), "no ReplicaSet appeared");
    std::fs::write(dir.path().join("a.yaml"), cm("stay", "", "x")).unwrap();
    let r = sync_ok(dir.path(), &ns, "plast", &["--prune", "--yes", "--cascade", "orphan"]);
    let pos = |s: &str| r.stderr.find(s).unwrap_or_else(|| panic!("{s} missing: {}", r.stderr));
    assert!(pos("Deployment.apps sync-prune-last/web pruned") < pos("ConfigMap sync-prune-last/last pruned"));
    // Orphan deletion: the garbage collector first removes the ReplicaSet's
    // owner reference (and the orphan finalizers), then the objects go; the ReplicaSet stays.
    for _ in 0..120 {
        if !exists("deployment", &ns, "web") && !exists("configmap", &ns, "last") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(!exists("deployment", &ns, "web") && !exists("configmap", &ns, "last"));
    assert_eq!(rs(), replica_set);
    let owners =
        cluster::shared().kubectl_ok(&["get", &replica_set, "-n", &ns, "-o", "jsonpath={.metadata.ownerReferences}"]);
    assert_eq!(owners.trim(), "", "the ReplicaSet still has an owner");
}

#[test]
fn dry_run_changes_nothing_and_lists_cascading_deletions() {
    let ns = new_ns("sync-dry");
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: dry}}\n  template:\n    metadata: {labels: {app: dry}}\n    spec:\n      containers: [{name: c, image: nginx}]\n---\n";
    let dir = tree(&[("a.yaml", &format!("{deploy}{}", cm("c", "", "x")))]);
    let r = sync_ok(dir.path(), &ns, "dry", &["--dry-run"]);
    assert!(r.stdout.contains("(dry run): 2 created"), "{}", r.stdout);
    assert!(!exists("configmap", &ns, "c") && !exists("secret", &ns, "applyset-dry"));
    sync_ok(dir.path(), &ns, "dry", &[]);
    // Wait for the Deployment's ReplicaSet (the dependent garbage collection would remove).
    for _ in 0..120 {
        if !cluster::shared().kubectl_ok(&["get", "rs", "-n", &ns, "-o", "name"]).trim().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    std::fs::write(dir.path().join("a.yaml"), cm("c", "", "x")).unwrap();
    // The controller manager keeps updating the Deployment's status, so its
    // resourceVersion is no witness: check that it is still there instead.
    let before = versions(&ns, "configmaps,secrets");
    let r = sync_ok(dir.path(), &ns, "dry", &["--dry-run", "--prune"]);
    assert!(r.stderr.contains("Deployment.apps sync-dry/web pruned (dry run)"), "{}", r.stderr);
    assert!(r.stderr.contains("ReplicaSet.apps sync-dry/web-") && r.stderr.contains("cascading"), "{}", r.stderr);
    assert_eq!(versions(&ns, "configmaps,secrets"), before);
    assert!(exists("deployment", &ns, "web"), "a dry run must not prune");
    let diff = gitops(&["diff", dir.path().to_str().unwrap(), "--name", "dry", "-n", &ns, "--prune"]);
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    assert!(diff.stdout.contains("web") && diff.stdout.contains("# cascading"), "{}", diff.stdout);
    let json = gitops(&["sync", dir.path().to_str().unwrap(), "--name", "dry", "-n", &ns, "--dry-run", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"]["unchanged"], 1, "{}", json.stdout);
    // Without --prune nothing is deleted, so nothing cascades; the dry run
    // reports what the real run then does.
    assert_eq!(v["summary"]["cascading"], 0, "{}", json.stdout);
    assert!(v["objects"].as_array().unwrap().iter().all(|o| o["outcome"] != "cascading"), "{}", json.stdout);
    let real = gitops(&["sync", dir.path().to_str().unwrap(), "--name", "dry", "-n", &ns, "-o", "json"]);
    let r: serde_json::Value = serde_json::from_str(&real.stdout).unwrap();
    assert_eq!(r["summary"], v["summary"], "dry run: {}\nreal run: {}", json.stdout, real.stdout);
    assert_eq!(r["objects"], v["objects"], "dry run: {}\nreal run: {}", json.stdout, real.stdout);
}

/// A kind served only in a version other than its group's preferred one
/// (CronJob in batch/v1beta1 on this 1.20 server, where batch prefers v1)
/// stays a member: recorded in the parent, found again, and pruned.
#[test]
fn a_member_in_a_non_preferred_version_is_found_and_pruned() {
    let ns = new_ns("prune-v1beta1");
    let cron = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: busybox}]\n---\n";
    let dir = tree(&[("a.yaml", &format!("{}{cron}", cm("keep", "", "x")))]);
    sync_ok(dir.path(), &ns, "cron", &[]);
    let kinds = || {
        cluster::shared().kubectl_ok(&[
            "get",
            "secret",
            "applyset-cron",
            "-n",
            &ns,
            "-o",
            "jsonpath={.metadata.annotations.applyset\\.kubernetes\\.io/contains-group-kinds}",
        ])
    };
    assert_eq!(kinds(), "ConfigMap,CronJob.batch");
    // A second run sees the CronJob as a member: no warning, still recorded.
    std::fs::write(dir.path().join("a.yaml"), format!("{}{cron}", cm("keep", "", "y"))).unwrap();
    let r = sync_ok(dir.path(), &ns, "cron", &[]);
    assert!(!r.stderr.contains("not served"), "{}", r.stderr);
    assert_eq!(kinds(), "ConfigMap,CronJob.batch");
    // Removed from the source, it shows as to prune, and a prune deletes it.
    std::fs::write(dir.path().join("a.yaml"), cm("keep", "", "y")).unwrap();
    let d = gitops(&["diff", dir.path().to_str().unwrap(), "--name", "cron", "-n", &ns, "--prune"]);
    assert_eq!(d.code, 1, "diff --prune should show the CronJob: {}{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("nightly"), "{}", d.stdout);
    let r = sync_ok(dir.path(), &ns, "cron", &["--prune", "--yes"]);
    assert!(r.stdout.contains("1 pruned"), "{}{}", r.stdout, r.stderr);
    assert!(!exists("cronjob.v1beta1.batch", &ns, "nightly"));
    assert_eq!(kinds(), "ConfigMap");
}

/// The mass-prune guard counts what garbage collection removes with the
/// pruned objects: one object whose dependents (owner references) make
/// most of what the prune deletes is a mass prune.
#[test]
fn the_mass_prune_guard_counts_dependents() {
    let ns = new_ns("prune-guard-deps");
    let cms: String = (0..4).map(|i| cm(&format!("c{i}"), "", "x")).collect();
    let dir = tree(&[("a.yaml", &format!("{}{cms}", cm("owner", "", "x")))]);
    sync_ok(dir.path(), &ns, "deps", &[]);
    let c = cluster::shared();
    let uid = c.kubectl_ok(&["get", "configmap", "owner", "-n", &ns, "-o", "jsonpath={.metadata.uid}"]);
    let dependents: String = (0..9)
        .map(|i| {
            cm(
                &format!("dep{i}"),
                &format!("  namespace: {ns}\n  ownerReferences: [{{apiVersion: v1, kind: ConfigMap, name: owner, uid: {uid}}}]\n"),
                "x",
            )
        })
        .collect();
    c.apply_yaml(&dependents, &[]);
    std::fs::write(dir.path().join("a.yaml"), &cms).unwrap();
    let r = sync(dir.path(), &ns, "deps", &["--prune", "--yes"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("mass prune") && r.stderr.contains("9 dependents"), "{}", r.stderr);
    assert!(exists("configmap", &ns, "owner"), "nothing is deleted when the guard refuses");
    let r = sync_ok(dir.path(), &ns, "deps", &["--prune", "--yes", "--confirm-mass-prune"]);
    assert!(r.stdout.contains("1 pruned"), "{}", r.stdout);
}
