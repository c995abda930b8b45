//! `kubectl gitops sync` against the real test cluster: apply, no-op,
//! conflicts, waves and hooks, --wait, prune and its safety rails, the
//! lock, RBAC, preflight, dry-run, and ApplySet interop with kubectl.
//! Every test works in its own namespaces.

#[path = "support/cluster.rs"]
mod cluster;
mod common;
#[path = "support/sync.rs"]
mod sync_support;

use std::process::{Command, Stdio};

use common::tree;
use kubectl_gitops::applyset::ParentRef;
use sync_support::{cm, exists, gitops, new_ns, settled_versions, sync, sync_ok, versions};

#[test]
fn create_update_noop_and_diff_after_sync() {
    let ns = new_ns("sync-basic");
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n        ports: [{containerPort: 80, protocol: TCP}]\n";
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2\n---\n";
    let dir = tree(&[("a.yaml", &format!("{}{secret}{deploy}", cm("settings", "", "1")))]);
    let first = sync_ok(dir.path(), &ns, "basic", &[]);
    assert!(first.stdout.contains("3 created, 0 configured, 0 unchanged, 0 pruned, 0 failed"), "{}", first.stdout);
    let id = ParentRef::secret(&ns, "basic").id();
    let parent = cluster::shared().kubectl_ok(&["get", "secret", "applyset-basic", "-n", &ns, "-o", "json"]);
    let parent: serde_json::Value = serde_json::from_str(&parent).unwrap();
    assert_eq!(parent["metadata"]["labels"]["applyset.kubernetes.io/id"], id.as_str());
    assert_eq!(
        parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap,Deployment.apps,Secret"
    );
    let label = cluster::shared().kubectl_ok(&[
        "get",
        "configmap",
        "settings",
        "-n",
        &ns,
        "-o",
        "jsonpath={.metadata.labels.applyset\\.kubernetes\\.io/part-of}",
    ]);
    assert_eq!(label, id);

    // No-op: nothing written, the parent included (resourceVersions unchanged).
    let before = settled_versions(&ns, "configmaps,secrets,deployments,leases");
    let again = sync_ok(dir.path(), &ns, "basic", &[]);
    assert!(again.stdout.contains("0 created, 0 configured, 3 unchanged"), "{}", again.stdout);
    assert_eq!(versions(&ns, "configmaps,secrets,deployments,leases"), before);

    let diff = gitops(&["diff", dir.path().to_str().unwrap(), "--name", "basic", "-n", &ns]);
    assert_eq!(diff.code, 0, "diff after sync: {}{}", diff.stdout, diff.stderr);

    // Update: one object configured, the others untouched.
    std::fs::write(dir.path().join("a.yaml"), format!("{}{secret}{deploy}", cm("settings", "", "2"))).unwrap();
    let upd = sync_ok(dir.path(), &ns, "basic", &[]);
    assert!(upd.stdout.contains("0 created, 1 configured, 2 unchanged"), "{}", upd.stdout);
    let data = cluster::shared().kubectl_ok(&["get", "configmap", "settings", "-n", &ns, "-o", "jsonpath={.data.k}"]);
    assert_eq!(data, "2");
}

#[test]
fn conflicts_are_reported_and_force_takes_over() {
    let ns = new_ns("sync-conflict");
    cluster::shared().apply_yaml(
        &cm("shared", &format!("  namespace: {ns}\n"), "theirs"),
        &["--server-side", "--field-manager", "someone-else"],
    );
    let dir = tree(&[("a.yaml", &format!("{}{}", cm("shared", "", "ours"), cm("other", "", "x")))]);
    let r = sync(dir.path(), &ns, "conflict", &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("conflict") && r.stderr.contains("--force-conflicts"), "{}", r.stderr);
    assert!(r.stderr.contains("ConfigMap") && r.stderr.contains("a.yaml"), "{}", r.stderr);
    // All or nothing: the other object was not created, no parent either.
    assert!(!exists("configmap", &ns, "other"));
    assert!(!exists("secret", &ns, "applyset-conflict"));
    sync_ok(dir.path(), &ns, "conflict", &["--force-conflicts"]);
    let data = cluster::shared().kubectl_ok(&["get", "configmap", "shared", "-n", &ns, "-o", "jsonpath={.data.k}"]);
    assert_eq!(data, "ours");
}

#[test]
fn waves_and_hooks_run_in_order() {
    let ns = new_ns("sync-waves");
    let w = |wave: &str| format!("  annotations:\n    argocd.argoproj.io/sync-wave: \"{wave}\"\n");
    let hook = |h: &str, policy: &str| {
        format!(
            "  annotations:\n    argocd.argoproj.io/hook: {h}\n    argocd.argoproj.io/hook-delete-policy: {policy}\n"
        )
    };
    let src = [
        cm("late", &w("5"), "x"),
        cm("post", &hook("PostSync", "HookSucceeded"), "x"),
        cm("early", &w("-1"), "x"),
        cm("normal", "", "x"),
        cm("pre", &hook("PreSync", "BeforeHookCreation"), "x"),
        cm("on-fail", &hook("SyncFail", "BeforeHookCreation"), "x"),
        cm("helm-pre", "  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"-5\"\n", "x"),
        cm("helm-test", "  annotations:\n    helm.sh/hook: test\n", "x"),
    ]
    .concat();
    let dir = tree(&[("a.yaml", &src)]);
    let r = sync_ok(dir.path(), &ns, "waves", &[]);
    let order: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("ConfigMap "))
        .map(|l| l.split_whitespace().nth(1).unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(order, ["helm-pre", "pre", "early", "normal", "late", "post", "post"], "{}", r.stderr);
    // Helm test hooks never run in a sync.
    assert!(!exists("configmap", &ns, "helm-test"));
    assert!(r.stderr.contains("post deleted: hook delete policy"), "{}", r.stderr);
    // HookSucceeded removed the PostSync hook; the PreSync hook stays; SyncFail never ran.
    assert!(!exists("configmap", &ns, "post"));
    assert!(exists("configmap", &ns, "pre"));
    assert!(!exists("configmap", &ns, "on-fail"));
    // A re-sync recreates the PreSync hook (BeforeHookCreation).
    let uid =
        |n: &str| cluster::shared().kubectl_ok(&["get", "configmap", n, "-n", &ns, "-o", "jsonpath={.metadata.uid}"]);
    let pre_uid = uid("pre");
    sync_ok(dir.path(), &ns, "waves", &[]);
    assert_ne!(uid("pre"), pre_uid);
}

#[test]
fn sync_fail_hooks_run_when_a_wave_fails() {
    let ns = new_ns("sync-fail-hook");
    // The second wave waits for a Deployment that can never become healthy.
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: never\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: never}}\n  template:\n    metadata: {labels: {app: never}}\n    spec:\n      containers: [{name: c, image: nginx}]\n---\n";
    let hook = "  annotations:\n    argocd.argoproj.io/hook: SyncFail\n";
    let dir = tree(&[("a.yaml", &format!("{deploy}{}", cm("notify", hook, "x")))]);
    let r = sync(dir.path(), &ns, "failing", &["--wait", "--timeout", "3s"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("timed out") && r.stderr.contains("never"), "{}", r.stderr);
    assert!(exists("configmap", &ns, "notify"), "SyncFail hook did not run: {}", r.stderr);
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
        let path = format!("/api/v1/namespaces/{ns}/pods/{name}/status");
        c.kubectl_ok(&["replace", "--raw", &path, "-f", file.to_str().unwrap()]);
        n += 1;
    }
    n
}

#[test]
fn wait_until_the_deployment_is_available() {
    let ns = new_ns("sync-wait");
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: waited}}\n  template:\n    metadata: {labels: {app: waited}}\n    spec:\n      automountServiceAccountToken: false\n      containers: [{name: c, image: nginx}]\n---\n";
    let after = cm("after", "  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\n", "x");
    let dir = tree(&[("a.yaml", &format!("{deploy}{after}"))]);
    let c = cluster::shared();
    let mut child = Command::new(common::bin())
        .args(["sync", dir.path().to_str().unwrap(), "--name", "waiter", "-n", &ns, "--wait", "--timeout", "120s"])
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the ReplicaSet's Pod; until it is Ready the sync cannot finish.
    let mut ready = false;
    for _ in 0..240 {
        assert!(child.try_wait().unwrap().is_none(), "sync finished before its Deployment was available");
        if make_pods_ready(&ns, "app=waited") > 0 {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(ready, "no Pod appeared");
    // The wave-1 object waits for wave 0 to be healthy.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("waiting for 1 objects to be healthy: Deployment.apps sync-wait/app"), "{stderr}");
    let pos = |s: &str| stderr.find(s).unwrap_or_else(|| panic!("{s} missing: {stderr}"));
    assert!(pos("waiting for") < pos("ConfigMap sync-wait/after created"), "{stderr}");
}

#[test]
fn the_lock_blocks_and_expires() {
    let ns = new_ns("sync-lock");
    let dir = tree(&[("a.yaml", &cm("x", "", "x"))]);
    let now = |offset_secs: i64| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let out = Command::new("date")
            .args(["-u", "-d", &format!("@{}", t + offset_secs), "+%Y-%m-%dT%H:%M:%S.000000Z"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let lease = |renew: &str, secs: u32| {
        format!(
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: applyset-locked\n  namespace: {ns}\nspec:\n  holderIdentity: someone-else\n  leaseDurationSeconds: {secs}\n  renewTime: \"{renew}\"\n"
        )
    };
    cluster::shared().apply_yaml(&lease(&now(0), 600), &[]);
    let r = sync(dir.path(), &ns, "locked", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("holds the lock") && r.stderr.contains("someone-else"), "{}", r.stderr);
    assert!(!exists("configmap", &ns, "x"));
    // A lease of 5s that nobody renews is taken over once it stayed unchanged for 5s
    // (watched on our clock); the lock is released afterwards.
    cluster::shared().apply_yaml(&lease(&now(-20), 5), &[]);
    sync_ok(dir.path(), &ns, "locked", &["--lock-duration", "5s"]);
    assert!(exists("configmap", &ns, "x"));
    assert!(!exists("lease", &ns, "applyset-locked"));
}

#[test]
fn restricted_user_syncs_what_it_may() {
    let ns = new_ns("sync-rbac");
    let c = cluster::shared();
    c.apply_yaml(
        &format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: syncer, namespace: {ns}}}\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps, secrets]\n  verbs: [get, list, create, patch, update, delete]\n- apiGroups: [coordination.k8s.io]\n  resources: [leases]\n  verbs: [get, create, update, delete]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: syncer, namespace: {ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: syncer}}\nsubjects: [{{kind: User, name: {}}}]\n",
            cluster::RESTRICTED_USER
        ),
        &[],
    );
    let dir = tree(&[("a.yaml", &cm("allowed", "", "x"))]);
    sync_ok(dir.path(), &ns, "rbac", &["--context", "restricted"]);
    assert!(exists("configmap", &ns, "allowed"));
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: nope\nspec:\n  ports: [{port: 80, protocol: TCP}]\n";
    std::fs::write(dir.path().join("b.yaml"), svc).unwrap();
    std::fs::write(dir.path().join("a.yaml"), format!("{}{}", cm("allowed", "", "x"), cm("more", "", "x"))).unwrap();
    let r = sync(dir.path(), &ns, "rbac", &["--context", "restricted"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("forbidden") && r.stderr.contains("services"), "{}", r.stderr);
    assert!(!exists("configmap", &ns, "more"), "preflight failure must write nothing");
}

#[test]
fn preflight_is_all_or_nothing() {
    let ns = new_ns("sync-preflight");
    let bad = "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports: [{port: 99999, protocol: TCP}]\n";
    let dir = tree(&[("a.yaml", &cm("good", "", "x")), ("b.yaml", bad)]);
    let r = sync(dir.path(), &ns, "preflight", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("b.yaml") && r.stderr.contains("Service") && r.stderr.contains("bad"), "{}", r.stderr);
    assert!(!exists("configmap", &ns, "good"));
    assert!(!exists("secret", &ns, "applyset-preflight"));
    // Hooks are dry-run too.
    let bad_hook = "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad-hook\n  annotations:\n    argocd.argoproj.io/hook: PreSync\nspec:\n  ports: [{port: 99999, protocol: TCP}]\n";
    std::fs::write(dir.path().join("b.yaml"), bad_hook).unwrap();
    let r = sync(dir.path(), &ns, "preflight", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("b.yaml") && r.stderr.contains("bad-hook"), "{}", r.stderr);
    assert!(!exists("configmap", &ns, "good"));
}

#[test]
fn create_namespace_and_missing_namespace() {
    let ns = "sync-created-ns";
    let dir = tree(&[("a.yaml", &cm("c", "", "x"))]);
    let r = sync(dir.path(), ns, "cns", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--create-namespace"), "{}", r.stderr);
    let r = sync_ok(dir.path(), ns, "cns", &["--create-namespace", "--dry-run"]);
    assert!(r.stdout.contains("(dry run): 2 created"), "{}{}", r.stdout, r.stderr);
    assert!(!cluster::shared().kubectl(&["get", "namespace", ns]).status.success());
    let r = sync_ok(dir.path(), ns, "cns", &["--create-namespace"]);
    assert!(r.stderr.contains("Namespace sync-created-ns created: CreateNamespace"), "{}", r.stderr);
    assert!(exists("configmap", ns, "c"));
}

#[test]
fn inputs_may_not_claim_membership() {
    let ns = new_ns("sync-claim");
    let meta = "  labels:\n    applyset.kubernetes.io/part-of: applyset-forged-v1\n";
    let dir = tree(&[("a.yaml", &cm("c", meta, "x"))]);
    let r = sync(dir.path(), &ns, "claim", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("a.yaml") && r.stderr.contains("applyset.kubernetes.io/part-of"), "{}", r.stderr);
    // A rendered Secret with the parent's name.
    let dir = tree(&[("p.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: applyset-claim\n")]);
    let r = sync(dir.path(), &ns, "claim", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("p.yaml") && r.stderr.contains("name of this app's ApplySet parent"), "{}", r.stderr);
}

#[test]
fn applyset_interop_with_kubectl() {
    let ns = new_ns("sync-interop");
    let other = new_ns("sync-interop-b");
    let c = cluster::shared();
    let dir = tree(&[("a.yaml", &format!("{}{}", cm("a", "", "x"), cm("b", &format!("  namespace: {other}\n"), "x")))]);
    sync_ok(dir.path(), &ns, "interop", &[]);
    let id = ParentRef::secret(&ns, "interop").id();
    let got = c.kubectl_ok(&["get", "secret", "applyset-interop", "-n", &ns, "-o", "jsonpath={.metadata.labels}"]);
    assert!(got.contains(&id), "{got}");
    let members = c.kubectl_ok(&[
        "get",
        "configmaps",
        "-A",
        "-l",
        &format!("applyset.kubernetes.io/part-of={id}"),
        "-o",
        "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}",
    ]);
    assert_eq!(members.trim(), format!("{other}/b {ns}/a"));
    let out = Command::new("kubectl")
        .env("KUBECTL_APPLYSET", "true")
        .args(["--kubeconfig", c.kubeconfig.to_str().unwrap(), "apply", "--server-side", "--prune"])
        .args(["--applyset=secret/applyset-interop", "-n", &ns, "-f", dir.path().to_str().unwrap()])
        .arg("--dry-run=server")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("managed by tooling \"kubectl-gitops\""), "{stderr}");

    // Our sync refuses a set created by kubectl, unless --adopt.
    let kdir = tree(&[("k.yaml", &cm("k", "", "x"))]);
    let out = Command::new("kubectl")
        .env("KUBECTL_APPLYSET", "true")
        .args(["--kubeconfig", c.kubeconfig.to_str().unwrap(), "apply", "--server-side", "--prune"])
        .args(["--applyset=secret/applyset-kset", "-n", &ns, "-f", kdir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let parent_rv =
        |n: &str| c.kubectl_ok(&["get", "secret", n, "-n", &ns, "-o", "jsonpath={.metadata.resourceVersion}"]);
    let rv = parent_rv("applyset-kset");
    let r = sync(kdir.path(), &ns, "kset", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("managed by tooling \"kubectl/v"), "{}", r.stderr);
    assert_eq!(parent_rv("applyset-kset"), rv);
    sync_ok(kdir.path(), &ns, "kset", &["--adopt"]);
    let tool = c.kubectl_ok(&[
        "get",
        "secret",
        "applyset-kset",
        "-n",
        &ns,
        "-o",
        "jsonpath={.metadata.annotations.applyset\\.kubernetes\\.io/tooling}",
    ]);
    assert!(tool.starts_with("kubectl-gitops/v"), "{tool}");
}

#[test]
fn crds_are_established_before_their_custom_resources() {
    let ns = new_ns("sync-crd");
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.sync-test.example.com\nspec:\n  group: sync-test.example.com\n  scope: Namespaced\n  names: {plural: widgets, singular: widget, kind: Widget}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n---\n";
    let cr = "apiVersion: sync-test.example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 3\n";
    let dir = tree(&[("crd.yaml", crd), ("cr.yaml", cr)]);
    let r = sync_ok(dir.path(), &ns, "crd", &[]);
    assert!(r.stdout.contains("2 created"), "{}{}", r.stdout, r.stderr);
    // A raw GET: kubectl's cached discovery may not know the new kind yet.
    let raw = cluster::shared().kubectl_ok(&[
        "get",
        "--raw",
        &format!("/apis/sync-test.example.com/v1/namespaces/{ns}/widgets/w"),
    ]);
    let w: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(w["spec"]["size"], 3);
    let again = sync_ok(dir.path(), &ns, "crd", &[]);
    assert!(again.stdout.contains("2 unchanged"), "{}", again.stdout);
}

#[test]
fn the_lock_is_renewed_while_a_sync_runs() {
    let ns = new_ns("sync-renew");
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: slow\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: slow}}\n  template:\n    metadata: {labels: {app: slow}}\n    spec:\n      containers: [{name: c, image: nginx}]\n";
    let dir = tree(&[("a.yaml", deploy)]);
    let c = cluster::shared();
    let mut child = Command::new(common::bin())
        .args(["sync", dir.path().to_str().unwrap(), "--name", "renew", "-n", &ns])
        .args(["--wait", "--timeout", "60s", "--lock-duration", "3s", "--kubeconfig"])
        .arg(&c.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let spec = |field: &str| {
        let out =
            c.kubectl(&["get", "lease", "applyset-renew", "-n", &ns, "-o", &format!("jsonpath={{.spec.{field}}}")]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut renewed = false;
    for _ in 0..120 {
        let (acquired, renew) = (spec("acquireTime"), spec("renewTime"));
        if !acquired.is_empty() && !renew.is_empty() && acquired != renew {
            renewed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    // Held and renewed: a second sync of the same app that has something to write is refused.
    let changed = tree(&[("a.yaml", &format!("{deploy}---\n{}", cm("more", "", "x")))]);
    let second = sync(changed.path(), &ns, "renew", &[]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(renewed, "the lease was never renewed");
    assert_eq!(second.code, 2);
    assert!(second.stderr.contains("holds the lock"), "{}", second.stderr);
}

#[test]
fn a_configmap_parent() {
    let ns = new_ns("sync-cm-parent");
    let c = cluster::shared();
    let dir = tree(&[("a.yaml", &cm("member", "", "x"))]);
    sync_ok(dir.path(), &ns, "cmp", &["--applyset-parent", "configmap"]);
    let mut reference = ParentRef::secret(&ns, "cmp");
    reference.kind = "ConfigMap".into();
    let labels = c.kubectl_ok(&["get", "configmap", "applyset-cmp", "-n", &ns, "-o", "jsonpath={.metadata.labels}"]);
    assert!(labels.contains(&reference.id()), "{labels}");
    assert!(!exists("secret", &ns, "applyset-cmp"));
    let member = c.kubectl_ok(&[
        "get",
        "configmap",
        "member",
        "-n",
        &ns,
        "-o",
        "jsonpath={.metadata.labels.applyset\\.kubernetes\\.io/part-of}",
    ]);
    assert_eq!(member, reference.id());
    let out = Command::new("kubectl")
        .env("KUBECTL_APPLYSET", "true")
        .args(["--kubeconfig", c.kubeconfig.to_str().unwrap(), "apply", "--server-side", "--prune"])
        .args(["--applyset=configmap/applyset-cmp", "-n", &ns, "-f", dir.path().to_str().unwrap(), "--dry-run=server"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("managed by tooling \"kubectl-gitops\""));
    let again = sync_ok(dir.path(), &ns, "cmp", &["--applyset-parent", "configmap"]);
    assert!(again.stdout.contains("1 unchanged"), "{}", again.stdout);
    let diff =
        gitops(&["diff", dir.path().to_str().unwrap(), "--name", "cmp", "-n", &ns, "--applyset-parent", "configmap"]);
    assert_eq!(diff.code, 0, "{}{}", diff.stdout, diff.stderr);
}

/// A chart's release is named after the app, as Argo CD names it after the
/// Application; `--release-name` wins.
#[test]
fn a_chart_release_is_named_after_the_app() {
    let ns = new_ns("sync-release");
    let chart = tree(&[
        ("Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n"),
        (
            "templates/cm.yaml.j2",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Release.Name }}-cfg\ndata: {}\n",
        ),
    ]);
    sync_ok(chart.path(), &ns, "web", &[]);
    assert!(exists("configmap", &ns, "web-cfg"));
    let s = gitops(&["status", chart.path().to_str().unwrap(), "--name", "web", "-n", &ns, "-o", "json"]);
    assert!(s.stdout.contains("\"sync\": \"Synced\""), "{}{}", s.stdout, s.stderr);
    sync_ok(chart.path(), &ns, "other", &["--release-name", "given"]);
    assert!(exists("configmap", &ns, "given-cfg"));
    // `render` has no app: helm template's default name.
    let r = common::run(&["render", chart.path().to_str().unwrap(), "-o", "name"]);
    assert_eq!(r.stdout.trim(), "configmap/release-name-cfg", "{}", r.stderr);
}

/// The preflight reports every object the server refuses, each with its
/// file, and nothing is applied; a known limitation of old API servers'
/// server-side apply gets a hint.
#[test]
fn preflight_reports_every_failure() {
    let ns = new_ns("sync-preflight-all");
    let bad: String = (1..=5)
        .map(|i| format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: bad-{i}\nspec:\n  ports: [{{port: {}, protocol: TCP}}]\n---\n", 70000 + i))
        .collect();
    let dir = tree(&[("ok.yaml", &cm("fine", "", "x")), ("bad.yaml", &bad)]);
    let r = sync(dir.path(), &ns, "pre", &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("5 objects failed the server-side dry-run"), "{}", r.stderr);
    for i in 1..=5 {
        assert!(r.stderr.contains(&format!("bad-{i}")), "bad-{i} not reported: {}", r.stderr);
    }
    assert!(r.stderr.contains("bad.yaml"), "{}", r.stderr);
    assert!(!exists("configmap", &ns, "fine"), "nothing is applied when the preflight fails");

    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: noproto\nspec:\n  ports: [{port: 80}]\n";
    let dir = tree(&[("svc.yaml", svc)]);
    let r = sync(dir.path(), &ns, "svc", &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("hint:") && r.stderr.contains("protocol"), "{}", r.stderr);

    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: qty\nspec:\n  containers:\n  - name: c\n    image: busybox\n    resources: {requests: {cpu: 0.5}}\n";
    let dir = tree(&[("pod.yaml", pod)]);
    let r = sync(dir.path(), &ns, "qty", &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("hint:") && r.stderr.contains("quantity"), "{}", r.stderr);
}

/// An object that another app's ApplySet holds is never changed silently:
/// left to its owner with a warning, refused with
/// --fail-on-shared-resource, taken over with --adopt.
#[test]
fn objects_of_another_app_are_not_taken_over() {
    let ns = new_ns("sync-shared");
    let a = tree(&[("a.yaml", &cm("shared", "", "from-a"))]);
    let b = tree(&[("b.yaml", &format!("{}{}", cm("shared", "", "from-b"), cm("own-b", "", "b")))]);
    sync_ok(a.path(), &ns, "app-a", &[]);
    let data = || cluster::shared().kubectl_ok(&["get", "configmap", "shared", "-n", &ns, "-o", "jsonpath={.data.k}"]);
    let owner = || {
        cluster::shared().kubectl_ok(&[
            "get",
            "configmap",
            "shared",
            "-n",
            &ns,
            "-o",
            "jsonpath={.metadata.labels.applyset\\.kubernetes\\.io/part-of}",
        ])
    };
    let a_id = owner();

    let r = sync(b.path(), &ns, "app-b", &["--fail-on-shared-resource"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("belong to another app") && r.stderr.contains("shared"), "{}", r.stderr);
    assert!(!exists("configmap", &ns, "own-b"), "nothing is applied when the sync fails");

    let r = sync_ok(b.path(), &ns, "app-b", &[]);
    assert!(r.stderr.contains("belongs to another app (ApplySet"), "{}", r.stderr);
    assert!(r.stdout.contains("kept"), "{}", r.stdout);
    assert_eq!((data(), owner()), ("from-a".to_string(), a_id.clone()), "left to its owner");
    assert!(exists("configmap", &ns, "own-b"));
    // diff and status say whose it is.
    let d = gitops(&["diff", b.path().to_str().unwrap(), "--name", "app-b", "-n", &ns]);
    assert!(d.stderr.contains("belongs to another app (ApplySet") && d.stderr.contains("shared"), "{}", d.stderr);
    let st = gitops(&["status", b.path().to_str().unwrap(), "--name", "app-b", "-n", &ns, "-o", "json"]);
    let st: serde_json::Value = serde_json::from_str(&st.stdout).unwrap_or_else(|e| panic!("{e}: {}", st.stderr));
    let shared = st["objects"].as_array().unwrap().iter().find(|o| o["name"] == "shared").expect("listed");
    assert!(shared.to_string().contains("shared: belongs to ApplySet"), "{shared:#}");

    let r = sync_ok(b.path(), &ns, "app-b", &["--adopt", "--force-conflicts"]);
    assert!(r.stderr.contains("taking it over"), "{}", r.stderr);
    assert_eq!(data(), "from-b");
    assert_ne!(owner(), a_id);
}

/// Plays the kubelet for Jobs while it lives: every Pod a Job owns in its
/// namespace runs to completion (phase Succeeded, written through the status
/// subresource), so the cluster's own job controller marks the Job
/// Complete. The test cluster has no node: without this a Job never
/// completes. Pods of other owners (ReplicaSets) stay Pending.
struct JobKubelet {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl JobKubelet {
    fn start(ns: &str) -> JobKubelet {
        let c = cluster::shared();
        // Pods need the namespace's default ServiceAccount, and the test
        // cluster mints no tokens: it must not ask for one.
        for _ in 0..100 {
            if c.kubectl(&["get", "serviceaccount", "default", "-n", ns]).status.success() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        c.kubectl_ok(&[
            "patch",
            "serviceaccount",
            "default",
            "-n",
            ns,
            "-p",
            r#"{"automountServiceAccountToken":false}"#,
        ]);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, ns) = (stop.clone(), ns.to_string());
        let thread = std::thread::spawn(move || {
            let mut ran: Vec<String> = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                let out = c.kubectl(&["get", "pods", "-n", &ns, "-o", "json"]);
                let pods: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
                for mut pod in pods["items"].as_array().cloned().unwrap_or_default() {
                    let job = pod["metadata"]["ownerReferences"]
                        .as_array()
                        .and_then(|o| o.iter().find(|r| r["kind"] == "Job"))
                        .and_then(|r| r["name"].as_str())
                        .map(String::from);
                    let Some(job) = job else { continue };
                    if pod["status"]["phase"] == "Succeeded" {
                        continue;
                    }
                    let name = pod["metadata"]["name"].as_str().unwrap().to_string();
                    let container = pod["spec"]["containers"][0]["name"].clone();
                    let t = "2026-01-01T00:00:00Z";
                    pod["status"] = serde_json::json!({
                        "phase": "Succeeded",
                        "conditions": [{"type": "Ready", "status": "False", "reason": "PodCompleted", "lastTransitionTime": t}],
                        "containerStatuses": [{"name": container, "ready": false, "restartCount": 0, "image": "alpine",
                            "imageID": "", "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                            "startedAt": t, "finishedAt": t}}}]
                    });
                    let file = c.dir.join(format!("{ns}-{name}-succeeded.json"));
                    std::fs::write(&file, pod.to_string()).unwrap();
                    let path = format!("/api/v1/namespaces/{ns}/pods/{name}/status");
                    // A stale resourceVersion fails: the next round retries.
                    if c.kubectl(&["replace", "--raw", &path, "-f", file.to_str().unwrap()]).status.success() {
                        ran.push(job);
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            ran
        });
        JobKubelet { stop, thread: Some(thread) }
    }

    /// Stop; the Jobs whose Pods ran, in the order they ran.
    fn stop(mut self) -> Vec<String> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for JobKubelet {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Jobs of `ns` whose name starts with `prefix` and is longer (generated names).
fn generated(ns: &str, prefix: &str) -> Vec<String> {
    let out = cluster::shared().kubectl_ok(&[
        "get",
        "jobs",
        "-n",
        ns,
        "-o",
        "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}",
    ]);
    out.lines().filter(|n| n.starts_with(prefix) && n.len() > prefix.len()).map(String::from).collect()
}

/// The names on the sync's object lines, in order.
fn object_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            ["ConfigMap ", "Service ", "ReplicaSet.apps ", "Job.batch ", "Deployment.apps "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| l.split_whitespace().nth(1).unwrap().rsplit('/').next().unwrap().to_string())
        .collect()
}

fn job_field(ns: &str, name: &str, jsonpath: &str) -> String {
    cluster::shared().kubectl_ok(&["get", "job", name, "-n", ns, "-o", &format!("jsonpath={jsonpath}")])
}

/// argocd-example-apps' `sync-waves`, unchanged: a PreSync Job named by
/// generateName, Sync-phase hook Jobs at waves 1 and 3 around the wave-2
/// objects. Every hook Job runs to completion before the next wave.
#[test]
fn argocd_example_sync_waves_hooks_with_generate_name() {
    let ns = new_ns("example-sync-waves");
    let kubelet = JobKubelet::start(&ns);
    let dir = common::testdata("argocd-example-apps/sync-waves");
    // A dry run dry-runs the creation and names the hook by its generateName.
    let dry = sync_ok(&dir, &ns, "waves", &["--dry-run"]);
    assert!(dry.stderr.contains("upgrade-sql-schema* created"), "{}", dry.stderr);
    assert!(generated(&ns, "upgrade-sql-schema").is_empty());
    let r = sync_ok(&dir, &ns, "waves", &["--timeout", "120s"]);
    // PreSync hook (server-named), wave 0, the wave-1 Sync hook, wave 2, the wave-3 Sync hook.
    let order = object_lines(&r.stderr);
    assert_eq!(order.len(), 7, "{}", r.stderr);
    assert!(order[0].starts_with("upgrade-sql-schema") && order[0].len() > 18, "{}", r.stderr);
    assert_eq!(order[1..], ["backend", "backend", "maint-page-up", "frontend", "frontend", "maint-page-down"]);
    assert!(r.stderr.contains("PreSync hook, generated from upgrade-sql-schema*"), "{}", r.stderr);
    let first = generated(&ns, "upgrade-sql-schema");
    assert_eq!(first.len(), 1);
    // Each hook completed (the job controller says so) before the next wave.
    for job in [first[0].as_str(), "maint-page-up", "maint-page-down"] {
        assert_eq!(job_field(&ns, job, "{.status.conditions[0].type}"), "Complete", "{job}");
        // Hooks are never ApplySet members, named or not.
        let labels = job_field(&ns, job, "{.metadata.labels}");
        assert!(!labels.contains("applyset.kubernetes.io/part-of"), "{job}: {labels}");
    }
    let backend =
        cluster::shared().kubectl_ok(&["get", "rs", "backend", "-n", &ns, "-o", "jsonpath={.metadata.labels}"]);
    assert!(backend.contains("applyset.kubernetes.io/part-of"), "{backend}");
    let page_up = job_field(&ns, "maint-page-up", "{.metadata.uid}");

    // Hooks are not part of the sync status: diff and status see no change.
    let d = dir.to_str().unwrap();
    let diff = gitops(&["diff", d, "--name", "waves", "-n", &ns]);
    assert_eq!(diff.code, 0, "{}{}", diff.stdout, diff.stderr);
    let status = gitops(&["status", d, "--name", "waves", "-n", &ns, "-o", "json"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["sync"], "Synced", "{status}");
    for hook in ["upgrade-sql-schema", "maint-page"] {
        assert!(!status.to_string().contains(hook), "{status}");
    }

    // Every sync creates the generateName hook anew; the previous run's
    // stays (BeforeHookCreation cannot find it by name, as in Argo CD) and
    // a prune never deletes it. Named BeforeHookCreation hooks are recreated.
    let r = sync_ok(&dir, &ns, "waves", &["--prune", "--yes", "--timeout", "120s"]);
    assert!(!r.stderr.contains("pruned"), "{}", r.stderr);
    let second = generated(&ns, "upgrade-sql-schema");
    assert_eq!(second.len(), 2, "{second:?}");
    assert!(second.contains(&first[0]));
    assert_ne!(job_field(&ns, "maint-page-up", "{.metadata.uid}"), page_up);
    let ran = kubelet.stop();
    let names: Vec<&str> = ran
        .iter()
        .map(|j| if j.starts_with("upgrade-sql-schema") { "upgrade-sql-schema*" } else { j.as_str() })
        .collect();
    assert_eq!(names, ["upgrade-sql-schema*", "maint-page-up", "maint-page-down"].repeat(2), "{ran:?}");
}

/// argocd-example-apps' `helm-hooks`, unchanged, plus a PostSync Job named
/// by generateName with HookSucceeded: Helm hooks mapped as Argo CD maps
/// them (pre-install -> PreSync by hook-weight, post-install -> PostSync).
#[test]
fn argocd_example_helm_hooks_and_generate_name_delete_policies() {
    let ns = new_ns("example-helm-hooks");
    let kubelet = JobKubelet::start(&ns);
    let manifests = std::fs::read_to_string(common::testdata("argocd-example-apps/helm-hooks/manifests.yaml")).unwrap();
    let smoke = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: smoke-\n  annotations:\n    argocd.argoproj.io/hook: PostSync\n    argocd.argoproj.io/hook-delete-policy: HookSucceeded\nspec:\n  template:\n    spec:\n      containers: [{name: smoke, image: alpine, command: [\"true\"]}]\n      restartPolicy: Never\n";
    let dir = tree(&[("manifests.yaml", &manifests), ("smoke.yaml", smoke)]);
    let r = sync_ok(dir.path(), &ns, "helm", &["--timeout", "120s"]);
    let order = object_lines(&r.stderr);
    // pre-install weight -2 (generated), pre-install weight -1, the Sync
    // wave, then the post-install hooks; the end of the sync deletes smoke.
    assert!(order[0].starts_with("upgrade-sql-schema"), "{}", r.stderr);
    assert_eq!(order[1], "maint-page-up", "{}", r.stderr);
    assert_eq!(order[2..4], ["frontend", "frontend"], "{}", r.stderr);
    assert_eq!(order.len(), 7, "{}", r.stderr);
    assert!(order[4..6].contains(&"maint-page-down".to_string()), "{}", r.stderr);
    assert!(order[6].starts_with("smoke-"), "{}", r.stderr);
    assert!(r.stderr.contains("deleted: hook delete policy"), "{}", r.stderr);
    assert_eq!(generated(&ns, "upgrade-sql-schema").len(), 1);
    assert!(generated(&ns, "smoke-").is_empty(), "HookSucceeded did not delete the generated hook");
    let ran = kubelet.stop();
    assert_eq!(ran.len(), 4, "{ran:?}");
    assert!(ran[0].starts_with("upgrade-sql-schema") && ran[1] == "maint-page-up", "{ran:?}");
    assert!(ran[2..].contains(&"maint-page-down".to_string()), "{ran:?}");
}

/// argocd-example-apps' `pre-post-sync` (a kustomize overlay of
/// `kustomize-guestbook`) with its named PreSync and PostSync Jobs, both
/// HookSucceeded: deleted once the whole sync succeeded, as Argo CD does.
#[test]
fn argocd_example_pre_post_sync_named_hooks() {
    let ns = new_ns("example-pre-post");
    let kubelet = JobKubelet::start(&ns);
    let root = tempfile::tempdir().unwrap();
    let base = common::testdata("argocd-example-apps");
    for f in [
        "kustomize-guestbook/guestbook-ui-deployment.yaml",
        "kustomize-guestbook/guestbook-ui-svc.yaml",
        "kustomize-guestbook/kustomization.yaml",
        "pre-post-sync/kustomization.yaml",
        "pre-post-sync/pre-sync-job.yaml",
        "pre-post-sync/post-sync-job.yaml",
    ] {
        std::fs::create_dir_all(root.path().join(f).parent().unwrap()).unwrap();
        std::fs::copy(base.join(f), root.path().join(f)).unwrap();
    }
    // The test API server refuses a server-side apply of a Service port
    // without `protocol` ("associative list with keys has an element that
    // omits key field"): add it to the copy.
    let svc = root.path().join("kustomize-guestbook/guestbook-ui-svc.yaml");
    let text =
        std::fs::read_to_string(&svc).unwrap().replace("    targetPort: 80", "    targetPort: 80\n    protocol: TCP");
    std::fs::write(&svc, text).unwrap();
    // `../kustomize-guestbook` lies outside the overlay and the copy is in no
    // git work tree: --root sets the source root.
    let overlay = root.path().join("pre-post-sync");
    let r = gitops(&[
        "sync",
        overlay.to_str().unwrap(),
        "--root",
        root.path().to_str().unwrap(),
        "--name",
        "pp",
        "-n",
        &ns,
        "--timeout",
        "120s",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let order = object_lines(&r.stderr);
    assert_eq!(
        order,
        [
            "pre-post-sync-before",
            "pre-post-sync-kustomize-guestbook-ui",
            "pre-post-sync-kustomize-guestbook-ui",
            "pre-post-sync-after",
            "pre-post-sync-before",
            "pre-post-sync-after"
        ],
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("pre-post-sync-before deleted: hook delete policy"), "{}", r.stderr);
    assert!(r.stderr.contains("pre-post-sync-after deleted: hook delete policy"), "{}", r.stderr);
    assert!(!exists("job", &ns, "pre-post-sync-before"));
    assert!(!exists("job", &ns, "pre-post-sync-after"));
    assert_eq!(kubelet.stop(), ["pre-post-sync-before", "pre-post-sync-after"]);
}

/// A named hook an earlier version labelled as a member is never pruned,
/// nor reported by status: hooks are not part of the app's set.
#[test]
fn a_labelled_hook_is_never_pruned() {
    let ns = new_ns("labelled-hook");
    let dir = tree(&[("a.yaml", &cm("app", "", "x"))]);
    sync_ok(dir.path(), &ns, "lh", &[]);
    let id = cluster::shared().kubectl_ok(&[
        "get",
        "configmap",
        "app",
        "-n",
        &ns,
        "-o",
        "jsonpath={.metadata.labels.applyset\\.kubernetes\\.io/part-of}",
    ]);
    assert!(id.starts_with("applyset-"), "{id}");
    let old = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old-hook\n  namespace: {ns}\n  labels:\n    applyset.kubernetes.io/part-of: {id}\n  annotations:\n    argocd.argoproj.io/hook: PreSync\ndata: {{k: v}}\n"
    );
    cluster::shared().apply_yaml(&old, &[]);
    let d = dir.path().to_str().unwrap();
    let status = gitops(&["status", d, "--name", "lh", "-n", &ns, "-o", "json"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(!status.stdout.contains("old-hook"), "{}", status.stdout);
    let r = sync_ok(dir.path(), &ns, "lh", &["--prune", "--yes"]);
    assert!(!r.stderr.contains("old-hook"), "{}", r.stderr);
    assert!(exists("configmap", &ns, "old-hook"));
}

#[test]
fn generate_name_hook_that_fails_is_deleted_by_hook_failed() {
    let ns = new_ns("gen-hook-failed");
    // A kind without a status subresource keeps the status it is created
    // with: a Ready=False condition makes the hook Degraded at once.
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: probes.hooks-test.example.com\nspec:\n  group: hooks-test.example.com\n  scope: Namespaced\n  names: {plural: probes, singular: probe, kind: Probe}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";
    cluster::shared().apply_yaml(crd, &[]);
    cluster::shared().kubectl_ok(&["wait", "--for=condition=Established", "crd/probes.hooks-test.example.com"]);
    let probe = "apiVersion: hooks-test.example.com/v1\nkind: Probe\nmetadata:\n  generateName: probe-\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n    argocd.argoproj.io/hook-delete-policy: HookFailed\nstatus:\n  conditions: [{type: Ready, status: \"False\", reason: Broken, message: the probe failed}]\n---\n";
    let dir = tree(&[("a.yaml", &format!("{probe}{}", cm("app", "", "x")))]);
    let r = sync(dir.path(), &ns, "probe", &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("Degraded") && r.stderr.contains("the probe failed"), "{}", r.stderr);
    assert!(r.stderr.contains("created: PreSync hook, generated from probe-*"), "{}", r.stderr);
    assert!(r.stderr.contains("deleted: hook delete policy"), "{}", r.stderr);
    let left = cluster::shared().kubectl_ok(&["get", "probes.hooks-test.example.com", "-n", &ns, "-o", "name"]);
    assert!(left.trim().is_empty(), "HookFailed did not delete the hook: {left}");
    assert!(!exists("configmap", &ns, "app"), "the Sync phase ran after a failed PreSync hook");
}
