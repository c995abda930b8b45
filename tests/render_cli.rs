//! `kubectl gitops render` of plain directories, end to end through the binary.

mod common;

use common::{assert_golden, run, run_in, tree};
use serde_json::Value;

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\n";

fn cm(name: &str) -> String {
    CM.replace("NAME", name)
}

#[test]
fn golden_recursive_with_namespace() {
    let r = run(&["render", "testdata/plain/basic", "-R", "--namespace", "team-a"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_golden("plain/basic.golden.yaml", &r.stdout);
    assert!(!r.stdout.contains("must-not-appear"), "hidden directories are skipped");
}

#[test]
fn non_recursive_by_default_and_names_output() {
    let r = run(&["render", "testdata/plain/basic", "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "namespace/team-a\ncustomresourcedefinition.apiextensions.k8s.io/widgets.example.com\nconfigmap/from-list-a\nconfigmap/from-list-b\nconfigmap/web-config\nservice/web\ndeployment.apps/web\nwidget.example.com/sprocket\n"
    );
}

#[test]
fn json_output_is_a_v1_list_with_kubectl_scalars() {
    let r = run(&["render", "testdata/plain/basic", "-o", "json", "-n", "team-a"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["apiVersion"], "v1");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    let deploy = items.iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert_eq!(deploy["metadata"]["namespace"], "team-a");
    assert_eq!(deploy["spec"]["template"]["spec"]["volumes"][0]["configMap"]["defaultMode"], 420);
    let widget = items.iter().find(|o| o["kind"] == "Widget").unwrap();
    assert_eq!(widget["spec"]["enabled"], true);
    assert_eq!(widget["spec"]["size"], 1000);
    assert!(widget["metadata"].get("namespace").is_none(), "cluster-scoped CRD kind gets no namespace");
    let svc = items.iter().find(|o| o["kind"] == "Service").unwrap();
    assert_eq!(svc["metadata"]["namespace"], "team-b", "explicit namespaces are kept");
    let ns = items.iter().find(|o| o["kind"] == "Namespace").unwrap();
    assert!(ns["metadata"].get("namespace").is_none());
}

#[test]
fn output_is_deterministic_and_independent_of_file_order() {
    let a = tree(&[("a.yaml", &cm("one")), ("b.yaml", &format!("{}---\n{}", cm("two"), cm("three")))]);
    let b = tree(&[("z.yaml", &format!("{}---\n{}", cm("three"), cm("one"))), ("y.yaml", &cm("two"))]);
    let ra = run_in(a.path(), &["render", "."]);
    let ra2 = run_in(a.path(), &["render", "."]);
    let rb = run_in(b.path(), &["render", "."]);
    assert_eq!(ra.code, 0, "{}", ra.stderr);
    assert_eq!(ra.stdout, ra2.stdout);
    assert_eq!(ra.stdout, rb.stdout);
}

#[test]
fn include_and_exclude_globs() {
    let t = tree(&[
        ("a.yaml", &cm("a")),
        ("b.yml", &cm("b")),
        ("sub/c.yaml", &cm("c")),
        ("sub/d.json", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"d\"}}"),
    ]);
    let r = run_in(t.path(), &["render", ".", "-R", "--include", "*.yaml", "-o", "name"]);
    assert_eq!(r.stdout, "configmap/a\nconfigmap/c\n", "{}", r.stderr);
    let r = run_in(t.path(), &["render", ".", "-R", "--exclude", "sub/*", "-o", "name"]);
    assert_eq!(r.stdout, "configmap/a\nconfigmap/b\n", "{}", r.stderr);
    let r = run_in(t.path(), &["render", ".", "-R", "--include", "{a.yaml,sub/d.json}", "-o", "name"]);
    assert_eq!(r.stdout, "configmap/a\nconfigmap/d\n", "{}", r.stderr);
}

#[test]
fn a_single_file_source() {
    let t = tree(&[("one.yaml", &cm("x")), ("two.yaml", &cm("y"))]);
    let r = run_in(t.path(), &["render", "one.yaml", "-o", "name"]);
    assert_eq!(r.stdout, "configmap/x\n", "{}", r.stderr);
}

/// Each bad input: exit 2, message naming the file and line, nothing on stdout.
fn assert_error(files: &[(&str, &str)], args: &[&str], expected: &str) {
    let t = tree(files);
    let r = run_in(t.path(), args);
    assert_eq!(r.code, 2, "expected failure for {expected:?}; stdout: {}", r.stdout);
    assert!(r.stderr.contains(expected), "stderr {:?} lacks {expected:?}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing may be printed on error");
}

#[test]
fn error_document_not_a_mapping() {
    assert_error(
        &[("a.yaml", &format!("{}---\n- just\n- a list\n", cm("ok")))],
        &["render", "."],
        "a.yaml:6: document is not a mapping",
    );
}

#[test]
fn error_missing_fields() {
    assert_error(
        &[("a.yaml", "kind: ConfigMap\nmetadata:\n  name: x\n")],
        &["render", "."],
        "a.yaml:1: missing or invalid field `apiVersion`",
    );
    assert_error(
        &[("a.yaml", "apiVersion: v1\nmetadata:\n  name: x\n")],
        &["render", "."],
        "missing or invalid field `kind`",
    );
    assert_error(
        &[("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")],
        &["render", "."],
        "missing or invalid field `metadata.name`",
    );
}

#[test]
fn error_generate_name() {
    assert_error(
        &[("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: x-\n")],
        &["render", "."],
        "`metadata.generateName` is set without `metadata.name`",
    );
}

#[test]
fn error_invalid_yaml_with_line() {
    assert_error(
        &[("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n")],
        &["render", "."],
        "bad.yaml:",
    );
    assert_error(
        &[("dup.yaml", "apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata:\n  name: x\n")],
        &["render", "."],
        "dup.yaml:3:1: invalid YAML: key \"kind\" already set in map",
    );
}

#[test]
fn error_duplicate_identity_names_both_origins() {
    assert_error(
        &[("a.yaml", &cm("same")), ("b.yaml", &format!("{}---\n{}", cm("other"), cm("same")))],
        &["render", "."],
        "duplicate object ConfigMap same: defined at a.yaml:1 and at b.yaml:6",
    );
}

#[test]
fn error_symlink_leaving_the_root() {
    let outside = tree(&[("secret.yaml", &cm("secret"))]);
    let t = tree(&[("a.yaml", &cm("a"))]);
    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), t.path().join("link.yaml")).unwrap();
    let r = run_in(t.path(), &["render", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("link.yaml") && r.stderr.contains("outside the source root"), "{}", r.stderr);
    // A symlink that stays inside is followed.
    let t2 = tree(&[("real/a.yaml", &cm("a"))]);
    std::os::unix::fs::symlink(t2.path().join("real/a.yaml"), t2.path().join("link.yaml")).unwrap();
    let r = run_in(t2.path(), &["render", ".", "-o", "name"]);
    assert_eq!(r.stdout, "configmap/a\n", "{}", r.stderr);
}

#[test]
fn error_missing_source() {
    let t = tree(&[]);
    let r = run_in(t.path(), &["render", "nope"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nope: cannot open source"), "{}", r.stderr);
}

#[test]
fn empty_documents_and_comment_only_files_are_skipped() {
    let t = tree(&[("a.yaml", "---\n# nothing\n---\n"), ("b.yaml", &cm("b"))]);
    let r = run_in(t.path(), &["render", ".", "-o", "name"]);
    assert_eq!(r.stdout, "configmap/b\n", "{}", r.stderr);
}

#[test]
fn yaml_output_reads_back_identically() {
    let r = run(&["render", "testdata/plain/basic", "-R", "-o", "json"]);
    let t = tree(&[]);
    let y = run(&["render", "testdata/plain/basic", "-R"]);
    std::fs::write(t.path().join("all.yaml"), &y.stdout).unwrap();
    let back = run_in(t.path(), &["render", "all.yaml", "-o", "json"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    let a: Value = serde_json::from_str(&r.stdout).unwrap();
    let b: Value = serde_json::from_str(&back.stdout).unwrap();
    assert_eq!(a["items"], b["items"]);
}

#[test]
fn version_and_completion() {
    let r = run(&["version"]);
    assert_eq!(r.stdout.trim(), format!("kubectl-gitops {}", env!("CARGO_PKG_VERSION")));
    let r = run(&["completion", "bash"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("kubectl-gitops"));
}

/// argocd-example-apps (testdata/argocd-example-apps): hooks named by
/// `generateName` render; `-o name` prints them as `<generateName>*`.
#[test]
fn argocd_example_apps_with_generate_name_hooks() {
    let r = run(&["render", "testdata/argocd-example-apps/sync-waves", "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "service/backend\nservice/frontend\nreplicaset.apps/backend\nreplicaset.apps/frontend\njob.batch/upgrade-sql-schema*\njob.batch/maint-page-down\njob.batch/maint-page-up\n"
    );
    let r = run(&["render", "testdata/argocd-example-apps/helm-hooks"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("  generateName: upgrade-sql-schema\n") && r.stdout.contains("helm.sh/hook: pre-install")
    );
    let r = run(&["render", "testdata/argocd-example-apps/pre-post-sync", "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("job.batch/pre-post-sync-before\n"), "{}", r.stdout);
}

#[test]
fn generate_name_without_a_hook_is_an_error() {
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: run-\n";
    for extra in ["", "  annotations:\n    helm.sh/hook: crd-install\n"] {
        let dir = tree(&[("a.yaml", &format!("{job}{extra}"))]);
        let r = run_in(dir.path(), &["render", "."]);
        assert_eq!(r.code, 2, "{}", r.stdout);
        assert!(
            r.stderr.contains("a.yaml") && r.stderr.contains("generateName") && r.stderr.contains("only hooks"),
            "{}",
            r.stderr
        );
    }
}

/// A copy of a multi-base overlay outside any git work tree: the root is
/// the current directory when the source lies inside it, else the source
/// directory; `--root` sets it; the error names the root and the flag.
#[test]
fn roots_outside_git_current_directory_and_root_flag() {
    let k = |body: &str| format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n{body}");
    let dir = tree(&[
        ("app/base/kustomization.yaml", &k("resources: [cm.yaml]\n")),
        ("app/base/cm.yaml", &cm("settings")),
        ("app/common/kustomization.yaml", &k("resources: [svc.yaml]\n")),
        (
            "app/common/svc.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n",
        ),
        ("app/overlays/prod/kustomization.yaml", &k("namePrefix: prod-\nresources:\n- ../../base\n- ../../common\n")),
        ("elsewhere/.keep", ""),
    ]);
    assert!(!dir.path().ancestors().any(|a| a.join(".git").exists()), "the test tree must be outside git");
    let app = dir.path().join("app");
    let prod = app.join("overlays/prod");
    let expected = "configmap/prod-settings\nservice/prod-web\n";

    // From the parent directory: the current directory is the root.
    let r = run_in(&app, &["render", "overlays/prod", "-o", "name"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, expected), "{}", r.stderr);

    // From the overlay itself: the root is the overlay, and the error says so.
    let r = run_in(&prod, &["render", ".", "-o", "name"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let root = prod.canonicalize().unwrap();
    assert!(r.stderr.contains("path leaves the source root"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("outside the source root {}", root.display())), "{}", r.stderr);
    assert!(r.stderr.contains("--root DIR"), "{}", r.stderr);
    // --root widens it.
    let r = run_in(&prod, &["render", ".", "--root", "../..", "-o", "name"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, expected), "{}", r.stderr);

    // A source outside the current directory is its own root.
    let other = dir.path().join("elsewhere");
    let r = run_in(&other, &["render", "../app/overlays/prod", "-o", "name"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("leaves the source root"), "{}", r.stderr);
    let r = run_in(&other, &["render", "../app/overlays/prod", "--root", "../app", "-o", "name"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, expected), "{}", r.stderr);

    // --root must contain the source, and applies to local sources only.
    let r = run_in(&app, &["render", "overlays/prod", "--root", "base"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("is not inside --root"), "{}", r.stderr);
    let r = run_in(&app, &["render", "--repo", "https://example.invalid/x.git", "--root", "."]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("--root"), "{}", r.stderr);
}

/// Run as a kubectl plugin, usage names the command as the user types it.
#[test]
fn usage_names_kubectl_gitops() {
    let r = run(&["render", "--no-such-flag"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("Usage: kubectl gitops render"), "{}", r.stderr);
}
