//! Many apps on two real API servers at once (the shared test cluster as
//! context `east`, a second one as `west`, one kubeconfig holding both):
//! history entries after syncs at two commits, status flipping OutOfSync
//! after a live edit and after a new commit, `sync --all` of Applications
//! targeting both contexts, rollback to the first entry, then `west`
//! stopped: `sync --all`/`status --all`/`diff --all` still serve `east`,
//! report `west` unreachable and exit 2. Cluster state is checked with
//! kubectl.

#[path = "support/cluster.rs"]
mod cluster;
mod git_support;

use std::path::{Path, PathBuf};

use cluster::TestCluster;
use git_support::{Env, Repo, Run};
use serde_json::Value;

fn cm(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: \"{value}\"\n")
}

fn application(name: &str, repo: &Path, path: &str, context: &str, namespace: &str, extra: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  project: default\n  \
         source:\n    repoURL: {}\n    targetRevision: main\n    path: {path}\n  destination:\n    name: {context}\n    \
         namespace: {namespace}\n{extra}",
        repo.display()
    )
}

/// One kubeconfig with a context per cluster (the admin token works on both).
fn kubeconfig(dir: &Path, clusters: &[(&str, &TestCluster)]) -> PathBuf {
    let mut text = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for (name, c) in clusters {
        text += &format!(
            "- name: {name}\n  cluster:\n    server: {}\n    certificate-authority: {}\n",
            c.server,
            c.dir.join("pki/ca.crt").display()
        );
    }
    text += &format!("users:\n- name: admin\n  user:\n    token: {}\ncontexts:\n", cluster::ADMIN_TOKEN);
    for (name, _) in clusters {
        text += &format!("- name: {name}\n  context: {{cluster: {name}, user: admin}}\n");
    }
    text += &format!("current-context: {}\n", clusters[0].0);
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text).unwrap();
    path
}

fn data(c: &TestCluster, ns: &str, name: &str) -> Option<String> {
    let out = c.kubectl(&["get", "configmap", name, "-n", ns, "-o", "jsonpath={.data.a}"]);
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", r.stdout, r.stderr))
}

fn by_app<'a>(items: &'a Value, app: &str) -> &'a Value {
    items.as_array().unwrap().iter().find(|i| i["app"] == app).unwrap_or_else(|| panic!("no {app} in {items:#}"))
}

#[test]
fn many_apps_across_two_clusters_one_of_them_stopped() {
    let west_dir = tempfile::tempdir().unwrap();
    // Start both API servers at once.
    let (east, west) = std::thread::scope(|s| {
        let w = s.spawn(|| cluster::start_owned(&west_dir.path().join("cluster"), true));
        let e = cluster::shared();
        (e, w.join().unwrap().unwrap_or_else(|e| panic!("second test cluster: {e}")))
    });
    east.create_namespace("fleet-web");

    let repo = Repo::new();
    repo.write("web/cm.yaml", &format!("{}---\n{}", cm("settings", "1"), cm("old", "1")));
    repo.write("api/cm.yaml", &cm("api", "1"));
    let c1 = repo.commit("one");
    let apps = repo.tmp.path().join("apps");
    std::fs::create_dir_all(&apps).unwrap();
    std::fs::write(apps.join("web.yaml"), application("web", &repo.work, "web", "east", "fleet-web", "")).unwrap();
    let create_ns = "  syncPolicy:\n    syncOptions: [CreateNamespace=true]\n";
    std::fs::write(apps.join("api.yaml"), application("api", &repo.work, "api", "west", "fleet-api", create_ns))
        .unwrap();
    let kc = kubeconfig(repo.tmp.path(), &[("east", east), ("west", &west)]);
    let env = Env::new().set("KUBECONFIG", kc.to_str().unwrap());
    let run = |args: &[&str]| env.run(repo.tmp.path(), args);
    let ok = |args: &[&str]| {
        let r = run(args);
        assert_eq!(r.code, 0, "{args:?}\nstdout: {}\nstderr: {}", r.stdout, r.stderr);
        r
    };
    let web_file = apps.join("web.yaml");
    let web_file = web_file.to_str().unwrap();
    let apps_dir = apps.to_str().unwrap();

    // One Application: sync and status take the app's name from it.
    ok(&["sync", "-f", web_file]);
    assert_eq!(data(east, "fleet-web", "settings").as_deref(), Some("1"));
    assert_eq!(data(east, "fleet-web", "old").as_deref(), Some("1"));
    let s = json(&ok(&["status", "-f", web_file, "-o", "json"]));
    assert_eq!((s["app"].as_str(), s["sync"].as_str()), (Some("web"), Some("Synced")), "{s:#}");
    assert_eq!(s["deployedRevision"], c1.as_str());

    // A new commit changes one object and removes another: OutOfSync, deployed c1 vs source c2.
    repo.write("web/cm.yaml", &format!("{}---\n{}", cm("settings", "2"), cm("new", "2")));
    let c2 = repo.commit("two");
    let s = json(&ok(&["status", "web", "-f", apps_dir, "-o", "json"]));
    let web = by_app(&s, "web");
    assert_eq!(web["sync"], "OutOfSync", "{s:#}");
    assert_eq!(
        (web["deployedRevision"].as_str(), web["sourceRevision"].as_str()),
        (Some(c1.as_str()), Some(c2.as_str()))
    );

    // Both clusters in one run (west's namespace made by CreateNamespace=true).
    let r = ok(&["sync", "--all", "-f", apps_dir, "--prune", "--yes"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(
        lines[0].starts_with("[west] sync api: 2 created") || lines[1].starts_with("[west] sync api: 2 created"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("[east] sync web: 1 created, 1 configured, 0 unchanged, 1 pruned, 0 failed"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.lines().any(|l| l.starts_with("web: ConfigMap fleet-web/old pruned")), "{}", r.stderr);
    assert!(r.stderr.lines().any(|l| l.starts_with("api: ConfigMap fleet-api/api created")), "{}", r.stderr);
    assert_eq!(data(east, "fleet-web", "settings").as_deref(), Some("2"));
    assert_eq!(data(east, "fleet-web", "new").as_deref(), Some("2"));
    assert_eq!(data(east, "fleet-web", "old"), None, "pruned");
    assert_eq!(data(&west, "fleet-api", "api").as_deref(), Some("1"));
    assert!(!east.kubectl(&["get", "namespace", "fleet-api"]).status.success(), "api went to west only");
    assert!(!west.kubectl(&["get", "namespace", "fleet-web"]).status.success(), "web went to east only");

    // Two history entries, with the two commits.
    let h = json(&ok(&["history", "web", "--context", "east", "-n", "fleet-web", "-o", "json"]));
    let revs: Vec<&str> = h.as_array().unwrap().iter().map(|e| e["source"]["revision"].as_str().unwrap()).collect();
    assert_eq!(revs, [c1.as_str(), c2.as_str()], "{h:#}");
    let first_id = h[0]["id"].as_u64().unwrap().to_string();
    let h = json(&ok(&["history", "api", "--context", "west", "-n", "fleet-api", "-o", "json"]));
    assert_eq!(h[0]["source"]["revision"], c2.as_str());

    // Everything Synced; the table has a row per app; diff --all finds nothing.
    let s = json(&ok(&["status", "--all", "-f", apps_dir, "-o", "json"]));
    for app in ["web", "api"] {
        assert_eq!((by_app(&s, app)["sync"].as_str(), by_app(&s, app)["state"].as_str()), (Some("Synced"), Some("ok")));
    }
    assert_eq!(by_app(&s, "api")["context"], "west");
    let t = ok(&["status", "--all", "-f", apps_dir]);
    let rows: Vec<&str> = t.stdout.lines().collect();
    assert!(rows[0].starts_with("APP") && rows[0].contains("CONTEXT") && rows[0].contains("DEPLOYED"), "{}", t.stdout);
    assert!(
        rows.iter()
            .any(|r| r.starts_with("api ") && r.contains("west") && r.contains("Synced") && r.contains(&c2[..7]))
    );
    let wide = ok(&["status", "--all", "-f", apps_dir, "-o", "wide"]);
    assert!(wide.stdout.lines().any(|l| l.starts_with("  ConfigMap/new ") && l.contains("Synced")), "{}", wide.stdout);
    let d = ok(&["diff", "--all", "-f", apps_dir]);
    assert!(d.stdout.contains("=== app web (context east, namespace fleet-web): no differences"), "{}", d.stdout);
    assert!(d.stdout.contains("=== app api (context west, namespace fleet-api): no differences"), "{}", d.stdout);

    // A live edit: OutOfSync (named from the directory), Synced again after a sync.
    east.kubectl_ok(&["patch", "configmap", "settings", "-n", "fleet-web", "-p", r#"{"data":{"a":"edited"}}"#]);
    let s = json(&ok(&["status", "web", "-f", apps_dir, "-o", "json"]));
    assert_eq!(s.as_array().unwrap().len(), 1, "{s:#}");
    assert_eq!(by_app(&s, "web")["sync"], "OutOfSync", "{s:#}");
    assert_eq!(by_app(&s, "web")["counts"]["outOfSync"], 1);
    let d = run(&["diff", "web", "-f", apps_dir]);
    assert_eq!(d.code, 1, "{}{}", d.stdout, d.stderr);
    assert!(
        d.stdout.starts_with("=== app web (context east, namespace fleet-web): 1 object differs\n"),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains("-  a: edited") && d.stdout.contains("+  a: \"2\""), "{}", d.stdout);
    ok(&["sync", "web", "-f", apps_dir, "--force-conflicts"]);
    assert_eq!(data(east, "fleet-web", "settings").as_deref(), Some("2"));
    assert_eq!(by_app(&json(&ok(&["status", "web", "-f", apps_dir, "-o", "json"])), "web")["sync"], "Synced");

    // Rollback to the first entry: its objects back, the later one pruned.
    let r = ok(&["rollback", "web", &first_id, "--context", "east", "-n", "fleet-web", "--prune", "--yes"]);
    assert!(r.stderr.contains(&c1), "{}", r.stderr);
    assert_eq!(data(east, "fleet-web", "settings").as_deref(), Some("1"));
    assert_eq!(data(east, "fleet-web", "old").as_deref(), Some("1"));
    assert_eq!(data(east, "fleet-web", "new"), None, "the later commit's object is pruned");
    let s = json(&ok(&["status", "--all", "-f", apps_dir, "-o", "json"]));
    assert_eq!(by_app(&s, "web")["sync"], "OutOfSync", "main is c2 again: {s:#}");
    assert_eq!(by_app(&s, "web")["deployedRevision"], c1.as_str());

    // Without a terminal and without --yes, an app that would prune is refused; the others go on.
    let r = run(&["sync", "--all", "-f", apps_dir, "--prune"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("[east] sync web: failed: pruning 1 objects was not confirmed"), "{}", r.stdout);
    assert!(r.stdout.contains("[west] sync api: 0 created, 0 configured, 1 unchanged"), "{}", r.stdout);
    assert!(r.stderr.contains("error: app web (context east): pruning 1 objects"), "{}", r.stderr);
    assert_eq!(data(east, "fleet-web", "old").as_deref(), Some("1"), "nothing written for web");
    assert_eq!(data(east, "fleet-web", "new"), None);

    // West stops: east is still synced, west reported unreachable, exit 2.
    west.stop();
    let r = run(&["sync", "--all", "-f", apps_dir, "--prune", "--yes"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("[east] sync web: 1 created, 1 configured, 0 unchanged, 1 pruned, 0 failed"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("[west] sync api: cluster unreachable"), "{}", r.stdout);
    let line =
        r.stderr.lines().find(|l| l.starts_with("unreachable: context west")).unwrap_or_else(|| panic!("{}", r.stderr));
    assert!(line.starts_with(&format!("unreachable: context west (server {}): connect to ", west.server)), "{line}");
    assert_eq!(data(east, "fleet-web", "settings").as_deref(), Some("2"));
    assert_eq!(data(east, "fleet-web", "new").as_deref(), Some("2"));
    assert_eq!(data(east, "fleet-web", "old"), None);

    let r = run(&["status", "--all", "-f", apps_dir, "-o", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let s = json(&r);
    assert_eq!((by_app(&s, "web")["state"].as_str(), by_app(&s, "web")["sync"].as_str()), (Some("ok"), Some("Synced")));
    let api = by_app(&s, "api");
    assert_eq!(
        (api["state"].as_str(), api["sync"].as_str(), api["health"].as_str()),
        (Some("unreachable"), Some("Unknown"), Some("Unknown"))
    );
    assert!(api["error"].as_str().unwrap().starts_with("unreachable: context west"), "{api}");
    assert_eq!(api["sourceRevision"], c2.as_str());
    assert!(r.stderr.contains("unreachable: context west"), "{}", r.stderr);

    let r = run(&["diff", "--all", "-f", apps_dir]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("=== app web (context east, namespace fleet-web): no differences"), "{}", r.stdout);
    assert!(r.stdout.contains("=== app api (context west): cluster unreachable"), "{}", r.stdout);
}

#[test]
fn nothing_is_applied_when_one_app_does_not_render_and_names_are_checked() {
    let c = cluster::shared();
    c.create_namespace("fleet-render");
    let repo = Repo::new();
    repo.write("good/cm.yaml", &cm("good", "1"));
    repo.write("bad/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n");
    repo.commit("one");
    let apps = repo.tmp.path().join("apps");
    std::fs::create_dir_all(&apps).unwrap();
    for (name, path) in [("bad", "bad"), ("good", "good")] {
        std::fs::write(
            apps.join(format!("{name}.yaml")),
            application(name, &repo.work, path, "admin", "fleet-render", ""),
        )
        .unwrap();
    }
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    let run = |args: &[&str]| env.run(repo.tmp.path(), args);
    let dir = apps.to_str().unwrap();

    let r = run(&["sync", "--all", "-f", dir]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let bad_file = format!("{}:1", apps.join("bad.yaml").display());
    assert!(r.stderr.contains(&format!("error: app bad ({bad_file}): ")), "{}", r.stderr);
    assert!(r.stderr.contains("metadata.name"), "{}", r.stderr);
    assert_eq!(data(c, "fleet-render", "good"), None, "nothing applied anywhere");

    let r = run(&["status", "good", "nope", "-f", dir]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(r#"no Application named "nope" (found: bad, good)"#), "{}", r.stderr);
    let r = run(&["sync", "-f", dir]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("choose one with --app-name (status, diff, sync: name them, or --all)"), "{}", r.stderr);
    let r = run(&["sync", repo.work.join("good").to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("sync needs the app's name"), "{}", r.stderr);
    let r = run(&["sync", "good", "-f", dir, "--name", "x"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--name cannot be given"), "{}", r.stderr);

    // The good one alone syncs, named on the command line.
    let r = run(&["sync", "good", "-f", dir]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "[admin] sync good: 1 created, 0 configured, 0 unchanged, 0 pruned, 0 failed\n");
    assert_eq!(data(c, "fleet-render", "good").as_deref(), Some("1"));
}
