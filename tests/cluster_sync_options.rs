//! Argo CD's sync options that choose how objects are written, and its
//! ownership and comparison annotations, against the real test cluster:
//! `Replace=true`, `ServerSideApply=false` (a client-side apply), `Validate=false`,
//! `syncPolicy.retry`, `SkipDryRunOnMissingResource=true`,
//! `compare-options: IgnoreExtraneous` and Argo CD's tracking annotation.
//! Each row of the sync-options table in docs/sync-and-prune.md names its test.

#[path = "support/cluster.rs"]
mod cluster;
mod common;
mod git_support;
#[path = "support/sync.rs"]
mod sync_support;

use std::time::Duration;

use common::tree;
use git_support::{Env, Repo};
use sync_support::{gitops, new_ns, settled_versions, sync, sync_ok, versions};

fn annotated_cm(name: &str, options: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n    argocd.argoproj.io/sync-options: {options}\ndata:\n  k: \"{data}\"\n---\n"
    )
}

fn get(ns: &str, what: &[&str], path: &str) -> String {
    let mut args = vec!["get"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["-n", ns, "-o"]);
    let jsonpath = format!("jsonpath={path}");
    args.push(&jsonpath);
    cluster::shared().kubectl_ok(&args)
}

/// `Replace=true`: created with a POST, then replaced (PUT) as a whole, so
/// fields another writer added are gone, as with `kubectl replace`; an
/// object already equal to its source is not written.
#[test]
fn replace_true_creates_then_replaces_the_whole_object() {
    let ns = new_ns("opt-replace");
    let dir = tree(&[("a.yaml", &annotated_cm("swap", "Replace=true", "1"))]);
    let r = sync_ok(dir.path(), &ns, "replace", &[]);
    assert!(r.stdout.contains("1 created"), "{}", r.stdout);
    // Written by create/update requests, not server-side apply.
    let ops = get(&ns, &["configmap", "swap"], "{.metadata.managedFields[?(@.manager==\"kubectl-gitops\")].operation}");
    assert_eq!(ops, "Update");
    cluster::shared().kubectl_ok(&["patch", "configmap", "swap", "-n", &ns, "-p", r#"{"data":{"extra":"theirs"}}"#]);
    std::fs::write(dir.path().join("a.yaml"), annotated_cm("swap", "Replace=true", "2")).unwrap();
    let r = sync_ok(dir.path(), &ns, "replace", &[]);
    assert!(r.stdout.contains("1 configured"), "{}", r.stdout);
    assert_eq!(get(&ns, &["configmap", "swap"], "{.data}"), r#"{"k":"2"}"#);
    let before = settled_versions(&ns, "configmaps");
    let r = sync_ok(dir.path(), &ns, "replace", &[]);
    assert!(r.stdout.contains("1 unchanged"), "{}", r.stdout);
    assert_eq!(versions(&ns, "configmaps"), before);
}

/// `Validate=false`: a manifest with a field the schema does not know is
/// written by a client-side apply, which drops it (`kubectl apply
/// --validate=false`); without the option the preflight refuses it and
/// nothing is written.
#[test]
fn validate_false_writes_a_manifest_with_unknown_fields() {
    let ns = new_ns("opt-validate");
    let manifest = |options: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: loose\n  annotations:\n    argocd.argoproj.io/sync-options: {options}\nunknownField: 1\ndata:\n  k: v\n---\n{}",
            sync_support::cm("plain", "", "x")
        )
    };
    let dir = tree(&[("a.yaml", &manifest("Validate=true"))]);
    let r = sync(dir.path(), &ns, "validate", &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("unknownField") && r.stderr.contains("a.yaml"), "{}", r.stderr);
    assert!(!sync_support::exists("configmap", &ns, "plain"), "nothing is written when the preflight fails");
    std::fs::write(dir.path().join("a.yaml"), manifest("Validate=false")).unwrap();
    let r = sync_ok(dir.path(), &ns, "validate", &[]);
    assert!(r.stdout.contains("2 created"), "{}", r.stdout);
    assert_eq!(get(&ns, &["configmap", "loose"], "{.data.k}"), "v");
    let last = get(
        &ns,
        &["configmap", "loose"],
        "{.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}",
    );
    assert!(last.contains("\"unknownField\":1"), "the last-applied configuration is the manifest: {last}");
    // Nothing changed: no write (the three-way patch is empty).
    let before = settled_versions(&ns, "configmaps");
    let r = sync_ok(dir.path(), &ns, "validate", &[]);
    assert!(r.stdout.contains("2 unchanged"), "{}", r.stdout);
    assert_eq!(versions(&ns, "configmaps"), before);
}

/// An Application with `ServerSideApply=false`: a client-side apply with
/// the last-applied annotation. It writes a Service port without
/// `protocol`, which this 1.20 API server's server-side apply refuses; a
/// port dropped from the source is removed by the three-way patch while a
/// label another writer added stays.
#[test]
fn server_side_apply_false_is_a_client_side_apply() {
    let c = cluster::shared();
    let ns = "opt-csa";
    c.create_namespace(ns);
    let repo = Repo::new();
    let service = |ports: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {{app: web}}\n  ports:\n{ports}"
        )
    };
    let two = "  - {name: http, port: 80, targetPort: 8080}\n  - {name: alt, port: 81, targetPort: 8081}\n";
    repo.write("app/svc.yaml", &service(two));
    repo.commit("two ports");
    let app = |options: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: csa}}\nspec:\n  source:\n    repoURL: work\n    path: app\n  destination:\n    server: {}\n    namespace: {ns}\n  syncPolicy:\n    syncOptions: [{options}]\n",
            c.server
        )
    };
    let file = repo.tmp.path().join("app.yaml");
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    let sync = || env.run(repo.tmp.path(), &["sync", "-f", file.to_str().unwrap()]);

    // Server-side apply on this server: refused, with the hint.
    std::fs::write(&file, app("ServerSideApply=true")).unwrap();
    let r = sync();
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("protocol"), "{}", r.stderr);

    std::fs::write(&file, app("ServerSideApply=false")).unwrap();
    let r = sync();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let ports = || get(ns, &["service", "web"], "{.spec.ports[*].port}");
    assert_eq!(ports(), "80 81");
    let last =
        get(ns, &["service", "web"], "{.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}");
    assert!(last.contains("\"targetPort\":8081"), "{last}");
    c.kubectl_ok(&["label", "service", "web", "-n", ns, "team=theirs"]);

    repo.write("app/svc.yaml", &service("  - {name: http, port: 80, targetPort: 8080}\n"));
    repo.commit("one port");
    let r = sync();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 configured"), "{}", r.stdout);
    assert_eq!(ports(), "80");
    assert_eq!(get(ns, &["service", "web"], "{.metadata.labels.team}"), "theirs");

    let before = settled_versions(ns, "services");
    let r = sync();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 unchanged"), "{}", r.stdout);
    assert_eq!(versions(ns, "services"), before);
    // diff predicts with the same write: nothing to show.
    let r = env.run(repo.tmp.path(), &["diff", "-f", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

/// `syncPolicy.retry`: a sync whose first attempts fail (an object's
/// namespace does not exist yet) is retried with backoff until it succeeds.
#[test]
fn retry_after_a_failing_first_attempt() {
    let c = cluster::shared();
    let ns = "opt-retry";
    let late = "opt-retry-late";
    c.create_namespace(ns);
    let repo = Repo::new();
    repo.write(
        "app/cm.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: early\n  namespace: {late}\ndata: {{k: v}}\n"),
    );
    repo.commit("one");
    let app = |retry: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: retried}}\nspec:\n  source:\n    repoURL: work\n    path: app\n  destination:\n    server: {}\n    namespace: {ns}\n  syncPolicy:\n{retry}",
            c.server
        )
    };
    let file = repo.tmp.path().join("app.yaml");
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    // No retry: the first failure is final.
    std::fs::write(&file, app("    syncOptions: []\n")).unwrap();
    let r = env.run(repo.tmp.path(), &["sync", "-f", file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("retry 1 of"), "{}", r.stderr);

    std::fs::write(
        &file,
        app("    retry:\n      limit: 6\n      backoff: {duration: 1s, factor: 1, maxDuration: 1s}\n"),
    )
    .unwrap();
    let creator = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        cluster::shared().create_namespace(late);
    });
    let r = env.run(repo.tmp.path(), &["sync", "-f", file.to_str().unwrap()]);
    creator.join().unwrap();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("retry 1 of 6 in 1s"), "{}", r.stderr);
    assert_eq!(get(late, &["configmap", "early"], "{.data.k}"), "v");
}

/// `SkipDryRunOnMissingResource=true`: an object whose kind the cluster
/// does not serve yet is not dry-run; it is written once its CRD exists
/// (here created by someone else while the sync retries). Without the
/// option the preflight refuses the unknown kind.
#[test]
fn skip_dry_run_on_missing_resource_waits_for_the_crd() {
    let ns = new_ns("opt-skipdry");
    let widget = |options: &str| {
        format!(
            "apiVersion: skipdry.example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  annotations:\n    argocd.argoproj.io/sync-options: {options}\nspec:\n  size: 3\n---\n{}",
            sync_support::cm("plain", "", "x")
        )
    };
    let dir = tree(&[("a.yaml", &widget("Prune=true"))]);
    let r = sync(dir.path(), &ns, "skipdry", &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("Widget"), "{}", r.stderr);
    assert!(!sync_support::exists("configmap", &ns, "plain"));

    std::fs::write(dir.path().join("a.yaml"), widget("SkipDryRunOnMissingResource=true")).unwrap();
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.skipdry.example.com\nspec:\n  group: skipdry.example.com\n  scope: Namespaced\n  names: {plural: widgets, singular: widget, kind: Widget}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n";
    let creator = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        cluster::shared().apply_yaml(crd, &[]);
    });
    let retry = ["--retry-limit", "8", "--retry-backoff-duration", "1s", "--retry-backoff-factor", "1"];
    let r = sync(dir.path(), &ns, "skipdry", &retry);
    creator.join().unwrap();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(get(&ns, &["widget", "w"], "{.spec.size}"), "3");
}

/// `argocd.argoproj.io/compare-options: IgnoreExtraneous` on a live member
/// the source no longer renders: `status` does not count it OutOfSync
/// (a prune still deletes it).
#[test]
fn ignore_extraneous_members_keep_the_app_synced() {
    let ns = new_ns("opt-extraneous");
    let dir =
        tree(&[("a.yaml", &format!("{}{}", sync_support::cm("keep", "", "1"), sync_support::cm("extra", "", "2")))]);
    sync_ok(dir.path(), &ns, "extraneous", &[]);
    std::fs::write(dir.path().join("a.yaml"), sync_support::cm("keep", "", "1")).unwrap();
    let status = || gitops(&["status", dir.path().to_str().unwrap(), "--name", "extraneous", "-n", &ns, "-o", "json"]);
    let s: serde_json::Value = serde_json::from_str(&status().stdout).unwrap();
    assert_eq!(s["sync"], "OutOfSync", "{s:#}");
    cluster::shared().kubectl_ok(&[
        "annotate",
        "configmap",
        "extra",
        "-n",
        &ns,
        "argocd.argoproj.io/compare-options=IgnoreExtraneous",
    ]);
    let s: serde_json::Value = serde_json::from_str(&status().stdout).unwrap();
    assert_eq!(s["sync"], "Synced", "{s:#}");
    let extra = s["objects"].as_array().unwrap().iter().find(|o| o["name"] == "extra").unwrap();
    assert!(extra["message"].as_str().unwrap().contains("IgnoreExtraneous"), "{extra:#}");
    sync_ok(dir.path(), &ns, "extraneous", &["--prune", "--yes"]);
    assert!(!sync_support::exists("configmap", &ns, "extra"));
}

/// An object Argo CD tracks for another Application (its
/// `argocd.argoproj.io/tracking-id` names that app) is shared: left to its
/// owner with a warning, refused with `--fail-on-shared-resource`, taken
/// over with `--adopt`. The same app's tracking id is not another owner.
#[test]
fn objects_tracked_by_another_argo_cd_app_are_shared() {
    let ns = new_ns("opt-tracking");
    let tracked = |app: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tracked\n  namespace: {ns}\n  annotations:\n    argocd.argoproj.io/tracking-id: {app}:/ConfigMap:{ns}/tracked\ndata: {{k: argo}}\n"
        )
    };
    cluster::shared().apply_yaml(&tracked("argocd_legacy"), &[]);
    let dir = tree(&[("a.yaml", &sync_support::cm("tracked", "", "ours"))]);
    let r = sync(dir.path(), &ns, "mine", &["--fail-on-shared-resource"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("Argo CD Application legacy"), "{}", r.stderr);
    let r = sync_ok(dir.path(), &ns, "mine", &[]);
    assert!(r.stderr.contains("belongs to another app (Argo CD Application legacy)"), "{}", r.stderr);
    assert_eq!(get(&ns, &["configmap", "tracked"], "{.data.k}"), "argo");
    // Tracked by an app of the same name: ours.
    cluster::shared().apply_yaml(&tracked("mine"), &[]);
    sync_ok(dir.path(), &ns, "mine", &["--force-conflicts"]);
    assert_eq!(get(&ns, &["configmap", "tracked"], "{.data.k}"), "ours");
}

/// An Application's `PrunePropagationPolicy=orphan` (with `PruneLast=true`):
/// a pruned object's dependents stay, their owner reference removed.
#[test]
fn an_applications_prune_propagation_policy_orphans_dependents() {
    let c = cluster::shared();
    let ns = "opt-orphan";
    c.create_namespace(ns);
    let repo = Repo::new();
    let cm = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata: {{k: v}}\n---\n");
    repo.write("app/cm.yaml", &format!("{}{}", cm("owner"), cm("stay")));
    repo.commit("two");
    let file = repo.tmp.path().join("app.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: orphaning}}\nspec:\n  source:\n    repoURL: work\n    path: app\n  destination:\n    server: {}\n    namespace: {ns}\n  syncPolicy:\n    syncOptions: [PruneLast=true, PrunePropagationPolicy=orphan]\n",
            c.server
        ),
    )
    .unwrap();
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    let r = env.run(repo.tmp.path(), &["sync", "-f", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let uid = get(ns, &["configmap", "owner"], "{.metadata.uid}");
    c.apply_yaml(
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dependent\n  namespace: {ns}\n  ownerReferences:\n  - {{apiVersion: v1, kind: ConfigMap, name: owner, uid: {uid}}}\ndata: {{k: v}}\n"
        ),
        &[],
    );
    repo.write("app/cm.yaml", &cm("stay"));
    repo.commit("one");
    let r = env.run(repo.tmp.path(), &["sync", "-f", file.to_str().unwrap(), "--prune", "--yes"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for _ in 0..120 {
        if !sync_support::exists("configmap", ns, "owner")
            && get(ns, &["configmap", "dependent"], "{.metadata.ownerReferences}").is_empty()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(!sync_support::exists("configmap", ns, "owner"));
    assert!(sync_support::exists("configmap", ns, "dependent"), "orphaned, not deleted");
    assert_eq!(get(ns, &["configmap", "dependent"], "{.metadata.ownerReferences}"), "");
}

/// `RespectIgnoreDifferences=true` with an HPA: the HorizontalPodAutoscaler
/// controller scales the Deployment to its minimum (no metrics needed for
/// that), and syncs of a changed Deployment keep the controller's replicas
/// (ignored by JSON pointer) instead of resetting or conflicting.
#[test]
fn hpa_managed_replicas_are_kept_with_respect_ignore_differences() {
    let c = cluster::shared();
    let ns = "opt-hpa";
    c.create_namespace(ns);
    let repo = Repo::new();
    let manifests = |version: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {{version: \"{version}\"}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: c, image: nginx, resources: {{requests: {{cpu: 10m}}}}}}]\n---\napiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n  minReplicas: 3\n  maxReplicas: 5\n  targetCPUUtilizationPercentage: 50\n"
        )
    };
    repo.write("app/all.yaml", &manifests("1"));
    repo.commit("one");
    let file = repo.tmp.path().join("app.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: scaled}}\nspec:\n  source:\n    repoURL: work\n    path: app\n  destination:\n    server: {}\n    namespace: {ns}\n  ignoreDifferences:\n  - group: apps\n    kind: Deployment\n    jsonPointers: [/spec/replicas]\n  syncPolicy:\n    syncOptions: [RespectIgnoreDifferences=true]\n",
            c.server
        ),
    )
    .unwrap();
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    let sync = || env.run(repo.tmp.path(), &["sync", "-f", file.to_str().unwrap()]);
    let r = sync();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let replicas = || get(ns, &["deployment", "web"], "{.spec.replicas}");
    for _ in 0..240 {
        if replicas() == "3" {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(replicas(), "3", "the HPA controller did not scale the Deployment to its minimum");
    repo.write("app/all.yaml", &manifests("2"));
    repo.commit("two");
    let r = sync();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(get(ns, &["deployment", "web"], "{.metadata.labels.version}"), "2");
    assert_eq!(replicas(), "3");
    let r = env.run(repo.tmp.path(), &["diff", "-f", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
