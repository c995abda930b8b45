//! `kubectl gitops diff` against the real test cluster (tests/support/cluster.rs).
//! Every test works in its own namespaces.

#[path = "support/cluster.rs"]
mod cluster;
mod common;

use std::process::Command;

use common::{Run, tree};
use serde_json::Value;

/// Run kubectl-gitops with the cluster's kubeconfig (and extra environment).
fn gitops(c: &cluster::TestCluster, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(common::bin())
        .args(args)
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .env_remove("KUBECTL_EXTERNAL_DIFF")
        .envs(env.iter().copied())
        .output()
        .expect("run kubectl-gitops");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn diff(c: &cluster::TestCluster, dir: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec!["diff", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    gitops(c, &args, &[])
}

/// Changed lines of a unified diff (without the file headers).
fn changed_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| (l.starts_with('+') && !l.starts_with("+++")) || (l.starts_with('-') && !l.starts_with("---")))
        .collect()
}

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.diff.test
spec:
  group: diff.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              color: {type: string, default: blue}
"#;

fn workload(ns: &str, image: &str, secret_b64: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
  labels: {{app: web}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 8080
          protocol: TCP
        resources:
          limits: {{cpu: 500m, memory: 128Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {ns}
spec:
  selector: {{app: web}}
  ports:
  - name: http
    port: 80
    targetPort: 8080
    protocol: TCP
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {ns}
data:
  mode: fast
  on: "yes"
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: {ns}
type: Opaque
data:
  password: {secret_b64}
  user: YWRtaW4=
---
apiVersion: v1
kind: Secret
metadata:
  name: from-string-data
  namespace: {ns}
stringData:
  token: s3cr3t-t0ken
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
  namespace: {ns}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: once
        image: busybox:1.36
        command: ["true"]
---
apiVersion: diff.test/v1
kind: Widget
metadata:
  name: w
  namespace: {ns}
spec:
  size: 3
"#
    )
}

fn install_crd(c: &cluster::TestCluster) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        c.apply_yaml(CRD, &["--server-side"]);
        c.kubectl_ok(&["wait", "--for=condition=Established", "crd/widgets.diff.test", "--timeout=60s"]);
    });
}

#[test]
fn no_op_after_kubectl_server_side_apply() {
    let c = cluster::shared();
    install_crd(c);
    let ns = "diff-noop";
    c.create_namespace(ns);
    let files = workload(ns, "nginx:1.25", "aHVudGVyMg==");
    c.apply_yaml(&files, &["--server-side"]);
    let dir = tree(&[("crd.yaml", CRD), ("app.yaml", &files)]);
    let r = diff(c, dir.path(), &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "stderr: {}", r.stderr);

    // The same through the client certificate, and through a context merged from a second KUBECONFIG file.
    let r = diff(c, dir.path(), &["--context", "admin-cert"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let extra = tree(&[(
        "extra.yaml",
        "apiVersion: v1\nkind: Config\nusers:\n- name: extra-user\n  user:\n    token: admin-token-kubectl-gitops-test\ncontexts:\n- name: extra\n  context: {cluster: test, user: extra-user, namespace: diff-noop}\n",
    )]);
    let kubeconfig = std::env::join_paths([extra.path().join("extra.yaml"), c.kubeconfig.clone()]).unwrap();
    let out = Command::new(common::bin())
        .args(["diff", dir.path().to_str().unwrap(), "--context", "extra", "-o", "json"])
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = summary["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    assert!(items.iter().all(|i| i["action"] == "none" && i["diff"] == ""), "{summary}");
}

#[test]
fn change_shows_exactly_that_field_and_masks_secrets() {
    let c = cluster::shared();
    install_crd(c);
    let ns = "diff-change";
    c.create_namespace(ns);
    // Applied as kubectl-gitops (as our sync will): unchanged objects skip the dry-run.
    c.apply_yaml(&workload(ns, "nginx:1.25", "aHVudGVyMg=="), &["--server-side", "--field-manager=kubectl-gitops"]);
    let same = tree(&[("app.yaml", &workload(ns, "nginx:1.25", "aHVudGVyMg=="))]);
    let r = diff(c, same.path(), &["-v"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    // Only the stringData Secret (never provable from managed fields) goes to the server.
    assert!(r.stderr.contains("objects=7 lists=6 dry_runs=1"), "{}", r.stderr);

    let changed = tree(&[("app.yaml", &workload(ns, "nginx:1.26", "aHVudGVyMw=="))]);
    let r = diff(c, changed.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("diff -u -N LIVE/apps.v1.Deployment.diff-change.web MERGED/apps.v1.Deployment.diff-change.web\n--- LIVE/apps.v1.Deployment.diff-change.web\n+++ MERGED/apps.v1.Deployment.diff-change.web\n"), "{}", r.stdout);
    assert_eq!(
        changed_lines(&r.stdout),
        ["-  password: ++++++++", "+  password: +++++++++", "-      - image: nginx:1.25", "+      - image: nginx:1.26"],
        "{}",
        r.stdout
    );
    for secret in ["aHVudGVyMg==", "aHVudGVyMw==", "hunter2", "hunter3", "YWRtaW4=", "s3cr3t"] {
        assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret), "secret value printed");
    }
    // Not in the most verbose logs either (kube, hyper and our own traces).
    let traced = diff(c, changed.path(), &["-vvv"]);
    assert_eq!(traced.code, 1, "{}", traced.stderr);
    assert!(traced.stderr.contains("compare"), "trace logging is on");
    for secret in ["aHVudGVyMg==", "aHVudGVyMw==", "hunter2", "hunter3", "YWRtaW4=", "s3cr3t"] {
        assert!(!traced.stderr.contains(secret), "secret value logged");
    }
    // Nothing was written.
    let image =
        c.kubectl_ok(&["get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
    assert_eq!(image, "nginx:1.25");

    // -o json: identity, action and diff per object.
    let r = diff(c, changed.path(), &["-o", "json"]);
    assert_eq!(r.code, 1);
    let summary: Value = serde_json::from_str(&r.stdout).unwrap();
    let actions: Vec<(String, String)> = summary["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                format!("{}/{}", i["kind"].as_str().unwrap(), i["name"].as_str().unwrap()),
                i["action"].as_str().unwrap().to_string(),
            )
        })
        .filter(|(_, a)| a != "none")
        .collect();
    assert_eq!(
        actions,
        [("Secret/creds".to_string(), "change".to_string()), ("Deployment/web".into(), "change".into())]
    );

    // KUBECTL_EXTERNAL_DIFF gets LIVE and MERGED directories, masked; its exit status is ours.
    let r = gitops(c, &["diff", changed.path().to_str().unwrap()], &[("KUBECTL_EXTERNAL_DIFF", "diff -r -u")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("/LIVE/apps.v1.Deployment.diff-change.web"), "{}", r.stdout);
    assert!(r.stdout.contains("+      - image: nginx:1.26") && !r.stdout.contains("aHVudGVy"), "{}", r.stdout);
    // The LIVE and MERGED trees are private to the user (Secrets are in them, masked or not).
    let script = tree(&[("modes.sh", "stat -c '%a %n' \"$1\" \"$2\" \"$1\"/* \"$2\"/*\nexit 1\n")]);
    let program = format!("sh {}", script.path().join("modes.sh").display());
    let r = gitops(c, &["diff", changed.path().to_str().unwrap()], &[("KUBECTL_EXTERNAL_DIFF", program.as_str())]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let modes: Vec<&str> = r.stdout.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(modes.len() >= 4, "{}", r.stdout);
    for line in r.stdout.lines() {
        let mode = line.split_whitespace().next().unwrap();
        assert!(mode == "700" || mode == "600", "world- or group-readable: {line}");
    }
}

#[test]
fn new_objects_are_shown_whole_and_nothing_is_created() {
    let c = cluster::shared();
    let files = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: diff-new\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: diff-new\ndata:\n  a: b\n";
    let dir = tree(&[("all.yaml", files)]);
    let r = diff(c, dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("+++ MERGED/v1.ConfigMap.diff-new.c\n@@ -0,0 +1,7 @@\n+apiVersion: v1\n+data:\n+  a: b\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("+++ MERGED/v1.Namespace..diff-new\n"), "{}", r.stdout);
    assert!(!c.kubectl(&["get", "namespace", "diff-new"]).status.success(), "diff created the namespace");

    // Without the Namespace in the set, the missing namespace is an error, as in kubectl.
    let dir =
        tree(&[("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: diff-missing\n")]);
    let r = diff(c, dir.path(), &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains(
            "ConfigMap diff-missing/c (cm.yaml:1): patch configmaps in namespace diff-missing failed (HTTP 404)"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_kinds_fail_before_any_request_about_objects() {
    let c = cluster::shared();
    let files = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n---\napiVersion: nope.test/v1\nkind: Gizmo\nmetadata:\n  name: g\n  namespace: default\n";
    let dir = tree(&[("x.yaml", files)]);
    let r = diff(c, dir.path(), &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("does not serve these kinds")
            && r.stderr.contains("Gizmo.nope.test (apiVersion nope.test/v1), first at x.yaml:7"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");

    // A kind whose CRD is in the set is fine: shown as an addition without a dry-run.
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gizmos.nope.test\nspec:\n  group: nope.test\n  scope: Namespaced\n  names: {plural: gizmos, kind: Gizmo}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";
    let dir = tree(&[("x.yaml", files), ("crd.yaml", crd)]);
    let r = diff(c, dir.path(), &["-o", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let summary: Value = serde_json::from_str(&r.stdout).unwrap();
    let kinds: Vec<&str> = summary["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["CustomResourceDefinition", "ConfigMap", "Gizmo"]);
}

#[test]
fn forbidden_requests_name_verb_resource_and_namespace() {
    let c = cluster::shared();
    let ns = "diff-rbac";
    c.create_namespace(ns);
    c.apply_yaml(
        &format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: read-cm\n  namespace: {ns}\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get, list]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: read-cm\n  namespace: {ns}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-cm}}\nsubjects:\n- {{kind: User, name: {user}, apiGroup: rbac.authorization.k8s.io}}\n",
            user = cluster::RESTRICTED_USER
        ),
        &[],
    );
    let cm = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: {ns}\ndata:\n  a: b\n");
    let dir = tree(&[("cm.yaml", &cm)]);
    let r = diff(c, dir.path(), &["--context", "restricted"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("ConfigMap diff-rbac/c (cm.yaml:1): forbidden: cannot patch configmaps in namespace diff-rbac"),
        "{}",
        r.stderr
    );

    let dep = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: {ns}\nspec:\n  selector: {{matchLabels: {{a: b}}}}\n  template:\n    metadata: {{labels: {{a: b}}}}\n    spec: {{containers: [{{name: c, image: x}}]}}\n"
    );
    let dir = tree(&[("d.yaml", &dep)]);
    let r = diff(c, dir.path(), &["--context", "restricted"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("forbidden: cannot list deployments.apps in namespace diff-rbac"), "{}", r.stderr);
}

#[test]
fn namespace_from_flag_then_context_and_exec_credentials() {
    let c = cluster::shared();
    c.create_namespace("diff-ns-flag");
    c.create_namespace("diff-ns-ctx");
    let dir = tree(&[("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n")]);
    let r = diff(c, dir.path(), &["-n", "diff-ns-flag"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("+++ MERGED/v1.ConfigMap.diff-ns-flag.c\n"), "{}", r.stdout);

    // A user authenticated by an exec credential plugin, in a context with a namespace.
    let plugin = tree(&[(
        "cred.sh",
        &format!(
            "#!/bin/sh\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{}\"}}}}'\n",
            cluster::ADMIN_TOKEN
        ),
    )]);
    let script = plugin.path().join("cred.sh");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let extra = tree(&[(
        "exec.yaml",
        &format!(
            "apiVersion: v1\nkind: Config\nusers:\n- name: exec-user\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {}\n      interactiveMode: Never\ncontexts:\n- name: exec\n  context: {{cluster: test, user: exec-user, namespace: diff-ns-ctx}}\n",
            script.display()
        ),
    )]);
    let kubeconfig = std::env::join_paths([extra.path().join("exec.yaml"), c.kubeconfig.clone()]).unwrap();
    let out = Command::new(common::bin())
        .args(["diff", dir.path().to_str().unwrap(), "--context", "exec"])
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("KUBECTL_EXTERNAL_DIFF")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("+++ MERGED/v1.ConfigMap.diff-ns-ctx.c\n"));
}
