//! `kubectl gitops diff --app` against the real test cluster: the source
//! comes from a git repository at the Application's revision, the context
//! from its destination server, the namespace from its destination, the
//! app's name (its ApplySet) from the Application.

#[path = "support/cluster.rs"]
mod cluster;
mod git_support;

use git_support::{Env, Repo};

fn cm(value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"{value}\"\n")
}

#[test]
fn diff_an_application_against_its_destination() {
    let c = cluster::shared();
    let ns = "app-diff";
    c.create_namespace(ns);
    let repo = Repo::new();
    repo.write("app/cm.yaml", &cm("1"));
    let v1 = repo.commit("one");
    repo.run(&["tag", "v1"]);
    repo.write("app/cm.yaml", &cm("2"));
    repo.commit("two");
    let file = repo.tmp.path().join("app.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: web}}\nspec:\n  source:\n    repoURL: work\n    path: app\n  destination:\n    server: {}\n    namespace: {ns}\n",
            c.server
        ),
    )
    .unwrap();
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    let diff = |extra: &[&str]| {
        let mut args = vec!["diff", "--app", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        env.run(repo.tmp.path(), &args)
    };
    // The live state: the Application synced at v1 (named after it).
    let r = env.run(repo.tmp.path(), &["sync", "--app", file.to_str().unwrap(), "--revision", "v1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("sync web: 1 created"), "{}", r.stdout);
    let r = diff(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("-  a: \"1\"") && r.stdout.contains("+  a: \"2\""), "{}", r.stdout);
    assert!(r.stdout.contains(ns), "{}", r.stdout);
    let r = diff(&["--revision", "v1"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    assert!(r.stderr.contains(&v1), "{}", r.stderr);
}

#[test]
fn an_applications_ignore_differences_are_applied() {
    let c = cluster::shared();
    let ns = "app-diff-ignore";
    c.create_namespace(ns);
    let repo = Repo::new();
    repo.write("app/cm.yaml", &cm("1"));
    repo.commit("one");
    let file = repo.tmp.path().join("app.yaml");
    let app = |ignore: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: web}}\nspec:\n  source:\n    repoURL: work\n    path: app\n  destination:\n    server: {}\n    namespace: {ns}\n{ignore}",
            c.server
        )
    };
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    std::fs::write(&file, app("")).unwrap();
    // The live state: the Application synced at the first commit.
    let r = env.run(repo.tmp.path(), &["sync", "-f", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    repo.write("app/cm.yaml", &cm("2"));
    repo.commit("two");
    let r = env.run(repo.tmp.path(), &["diff", "-f", file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    std::fs::write(&file, app("  ignoreDifferences:\n  - kind: ConfigMap\n    jsonPointers: [/data/a]\n")).unwrap();
    let r = env.run(repo.tmp.path(), &["diff", "-f", file.to_str().unwrap()]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    // The same with a jq path expression.
    std::fs::write(&file, app("  ignoreDifferences:\n  - kind: ConfigMap\n    jqPathExpressions: ['.data | .a']\n"))
        .unwrap();
    let r = env.run(repo.tmp.path(), &["diff", "-f", file.to_str().unwrap()]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    assert!(!r.stderr.contains("not supported"), "{}", r.stderr);
    // A rule for another kind does not hide the change.
    std::fs::write(&file, app("  ignoreDifferences:\n  - kind: Secret\n    jsonPointers: [/data/a]\n")).unwrap();
    let r = env.run(repo.tmp.path(), &["diff", "-f", file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// CreateNamespace=true and managedNamespaceMetadata hold under every
/// command form: `sync --app FILE`, `sync -f FILE` and `sync NAME -f FILE`.
#[test]
fn create_namespace_with_metadata_under_every_command_form() {
    let c = cluster::shared();
    let repo = Repo::new();
    repo.write("app/cm.yaml", &cm("1"));
    repo.commit("one");
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    for (i, form) in [&["--app"][..], &["-f"], &["NAME", "-f"]].iter().enumerate() {
        let ns = format!("app-create-ns-{i}");
        let name = format!("created-{i}");
        let file = repo.tmp.path().join(format!("app-{i}.yaml"));
        std::fs::write(
            &file,
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: {name}}}\nspec:\n  source:\n    repoURL: work\n    path: app\n  destination:\n    server: {}\n    namespace: {ns}\n  syncPolicy:\n    syncOptions: [CreateNamespace=true]\n    managedNamespaceMetadata:\n      labels: {{team: a}}\n      annotations: {{owner: me}}\n",
                c.server
            ),
        )
        .unwrap();
        let mut args = vec!["sync".to_string()];
        for a in form.iter() {
            args.push(if *a == "NAME" { name.clone() } else { a.to_string() });
        }
        args.push(file.to_str().unwrap().to_string());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = env.run(repo.tmp.path(), &argv);
        assert_eq!(r.code, 0, "{argv:?}: {}{}", r.stdout, r.stderr);
        let meta = c.kubectl_ok(&[
            "get",
            "namespace",
            &ns,
            "-o",
            "jsonpath={.metadata.labels.team}/{.metadata.annotations.owner}",
        ]);
        assert_eq!(meta, "a/me", "{argv:?}");
        assert_eq!(c.kubectl_ok(&["get", "configmap", "cfg", "-n", &ns, "-o", "jsonpath={.data.a}"]), "1");
    }
}

/// RespectIgnoreDifferences=true: fields the Application's ignoreDifferences
/// select (a JSON pointer, a field manager's fields) keep their live values
/// through a sync: no conflict, no reset.
#[test]
fn respect_ignore_differences_keeps_live_values() {
    let c = cluster::shared();
    let ns = "app-respect-ignore";
    c.create_namespace(ns);
    let repo = Repo::new();
    let data = |a: &str, ptr: &str, m: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"{a}\"\n  ptr: \"{ptr}\"\n  m: \"{m}\"\n"
        )
    };
    repo.write("app/cm.yaml", &data("1", "git", "git"));
    repo.commit("one");
    let file = repo.tmp.path().join("app.yaml");
    let app = |options: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: web}}\nspec:\n  source:\n    repoURL: work\n    path: app\n  destination:\n    server: {}\n    namespace: {ns}\n  ignoreDifferences:\n  - kind: ConfigMap\n    jqPathExpressions: [.data.ptr]\n    managedFieldsManagers: [other]\n  syncPolicy:\n    syncOptions: [{options}]\n",
            c.server
        )
    };
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    std::fs::write(&file, app("RespectIgnoreDifferences=true")).unwrap();
    let sync = || env.run(repo.tmp.path(), &["sync", "-f", file.to_str().unwrap()]);
    let r = sync();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // Live changes by others: a patch of ptr, another manager's m.
    c.kubectl_ok(&["patch", "configmap", "cfg", "-n", ns, "-p", r#"{"data":{"ptr":"live"}}"#]);
    let theirs = repo.tmp.path().join("theirs.yaml");
    std::fs::write(
        &theirs,
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg, namespace: {ns}}}\ndata: {{m: theirs}}\n"),
    )
    .unwrap();
    c.kubectl_ok(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        theirs.to_str().unwrap(),
    ]);
    repo.write("app/cm.yaml", &data("2", "git2", "git2"));
    repo.commit("two");

    let get = || c.kubectl_ok(&["get", "configmap", "cfg", "-n", ns, "-o", "jsonpath={.data.a}/{.data.ptr}/{.data.m}"]);
    // Without the option the ignored fields conflict: nothing is written.
    std::fs::write(&file, app("Validate=true")).unwrap();
    let r = sync();
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(get(), "1/live/theirs");
    std::fs::write(&file, app("RespectIgnoreDifferences=true")).unwrap();
    let r = sync();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(get(), "2/live/theirs");
}

/// Sync options this tool does not honour are said once, at the default
/// log level, with what it does instead; never ignored silently.
#[test]
fn unsupported_sync_options_are_named_once() {
    let c = cluster::shared();
    let ns = "app-unsupported";
    c.create_namespace(ns);
    let repo = Repo::new();
    let annotated = |name: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n    argocd.argoproj.io/sync-options: Force=true\ndata: {{a: b}}\n---\n"
        )
    };
    repo.write("app/cm.yaml", &format!("{}{}", annotated("one"), annotated("two")));
    repo.commit("one");
    let file = repo.tmp.path().join("app.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: web}}\nspec:\n  source:\n    repoURL: work\n    path: app\n  destination:\n    server: {}\n    namespace: {ns}\n  syncPolicy:\n    syncOptions: [ApplyOutOfSyncOnly=true, ServerSideApply=true]\n    retry: {{limit: 2}}\n",
            c.server
        ),
    )
    .unwrap();
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    let r = env.run(repo.tmp.path(), &["sync", "-f", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let n = r.stderr.matches("Force=true (on").count();
    assert_eq!(n, 1, "Force=true should be named once:\n{}", r.stderr);
    // Supported options are not named.
    assert_eq!(r.stderr.matches("not supported").count(), 1, "{}", r.stderr);
}
