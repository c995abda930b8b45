//! History and status of an app synced from a git repository, against the
//! real test cluster: entries after syncs at two commits (repository, path,
//! branch and commit recorded), status OutOfSync after a new commit with the
//! deployed commit against the one the branch resolves to now.

#[path = "support/cluster.rs"]
mod cluster;
mod git_support;

use git_support::{Env, Repo};
use serde_json::Value;

fn cm(value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"{value}\"\n")
}

#[test]
fn history_and_status_follow_commits() {
    let c = cluster::shared();
    let ns = "git-history";
    c.create_namespace(ns);
    let repo = Repo::new();
    repo.write("app/cm.yaml", &cm("1"));
    let c1 = repo.commit("one");
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    let work = repo.work.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-n", ns]);
        let r = env.run(repo.tmp.path(), &all);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
        r
    };
    let source = ["--repo", work, "--path", "app", "--revision", "main"];
    let sync = || run(&[&["sync", "--name", "web"][..], &source].concat());
    let status = || -> Value {
        let r = run(&[&["status", "--name", "web", "-o", "json"][..], &source].concat());
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
    };

    sync();
    let s = status();
    assert_eq!((s["sync"].as_str(), s["health"].as_str()), (Some("Synced"), Some("Healthy")), "{s:#}");
    assert_eq!(s["deployedRevision"], c1.as_str());
    assert_eq!(s["sourceRevision"], c1.as_str());

    repo.write("app/cm.yaml", &cm("2"));
    let c2 = repo.commit("two");
    let s = status();
    assert_eq!(s["sync"], "OutOfSync", "{s:#}");
    assert_eq!((s["deployedRevision"].as_str(), s["sourceRevision"].as_str()), (Some(c1.as_str()), Some(c2.as_str())));

    sync();
    let r = run(&["history", "web", "-o", "json"]);
    let h: Value = serde_json::from_str(&r.stdout).unwrap();
    let revs: Vec<&str> = h.as_array().unwrap().iter().map(|e| e["source"]["revision"].as_str().unwrap()).collect();
    assert_eq!(revs, [c1.as_str(), c2.as_str()]);
    assert_eq!(h[1]["source"]["path"], "app");
    assert_eq!(h[1]["source"]["targetRevision"], "main");
    assert_eq!(h[1]["source"]["tool"], "Directory");
    assert_eq!(h[1]["user"], "admin");
    let table = run(&["history", "web"]);
    assert!(table.stdout.lines().nth(2).unwrap().contains(&c2[..7]), "{}", table.stdout);
    let s = status();
    assert_eq!(s["sync"], "Synced");
    assert_eq!(s["deployedRevision"], c2.as_str());
}

#[test]
fn rollback_restores_an_earlier_commit_and_prunes_the_later_objects() {
    let c = cluster::shared();
    let ns = "git-rollback";
    c.create_namespace(ns);
    let repo = Repo::new();
    let named = |name: &str, v: &str| cm(v).replace("name: cfg", &format!("name: {name}"));
    repo.write("app/a.yaml", &format!("{}---\n{}", cm("1"), named("kept", "1")));
    let c1 = repo.commit("one");
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    let work = repo.work.to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-n", ns]);
        env.run(repo.tmp.path(), &all)
    };
    let ok = |args: &[&str]| {
        let r = run(args);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
        r
    };
    let source = ["--repo", &work, "--path", "app"];
    ok(&[&["sync", "--name", "web"][..], &source].concat());
    repo.write("app/a.yaml", &format!("{}---\n{}", cm("2"), named("later", "2")));
    repo.commit("two");
    ok(&[&["sync", "--name", "web", "--prune", "--yes"][..], &source].concat());
    let get = |name: &str| c.kubectl(&["get", "configmap", name, "-n", ns, "-o", "jsonpath={.data.a}"]);
    assert!(!get("kept").status.success());

    // Prune needs confirmation, as in sync: without --yes and a terminal nothing is written.
    let refused = run(&["rollback", "web", "1", "--prune"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(get("later").status.success());

    let r = ok(&["rollback", "web", "1", "--prune", "--yes"]);
    assert!(r.stderr.contains(&c1), "{}", r.stderr);
    assert_eq!(String::from_utf8_lossy(&get("cfg").stdout), "1");
    assert!(get("kept").status.success(), "the first commit's object is back");
    assert!(!get("later").status.success(), "the later commit's object is pruned");
    let h: Value = serde_json::from_str(&ok(&["history", "web", "-o", "json"]).stdout).unwrap();
    assert_eq!(h.as_array().unwrap().len(), 3);
    assert_eq!(h[2]["source"]["revision"], c1.as_str());
    let s = ok(&[&["status", "--name", "web", "-o", "json", "--revision", c1.as_str()][..], &source].concat());
    let s: Value = serde_json::from_str(&s.stdout).unwrap();
    assert_eq!(s["sync"], "Synced", "{s:#}");

    let missing = run(&["rollback", "web", "9"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("no history entry 9 (entries: 1, 2, 3)"), "{}", missing.stderr);
}

#[test]
fn rollback_refuses_local_entries_and_auto_synced_applications() {
    let c = cluster::shared();
    let ns = "rollback-refusals";
    c.create_namespace(ns);
    let repo = Repo::new();
    repo.write("app/a.yaml", &cm("1"));
    // The local app's own object (two apps never share one: see cluster_sync).
    repo.write("local/a.yaml", &cm("1").replace("name: cfg", "name: local-cfg"));
    repo.commit("one");
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-n", ns]);
        env.run(repo.tmp.path(), &all)
    };
    let r = run(&["sync", repo.work.join("local").to_str().unwrap(), "--name", "local"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&["rollback", "local", "1"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("local directory") && r.stderr.contains("cannot be re-rendered"), "{}", r.stderr);

    let file = repo.tmp.path().join("app.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: auto}}\nspec:\n  source:\n    repoURL: work\n    path: app\n  destination:\n    server: {}\n    namespace: {ns}\n  syncPolicy:\n    automated: {{}}\n  revisionHistoryLimit: 1\n",
            c.server
        ),
    )
    .unwrap();
    let r = run(&["sync", "--app", file.to_str().unwrap(), "--name", "auto"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&["rollback", "auto", "1"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("automated sync"), "{}", r.stderr);
    let r = run(&["rollback", "auto", "1", "--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // The Application's revisionHistoryLimit bounds the history.
    repo.write("app/a.yaml", &cm("2"));
    repo.commit("two");
    let r = run(&["sync", "--app", file.to_str().unwrap(), "--name", "auto"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let h: Value = serde_json::from_str(&run(&["history", "auto", "-o", "json"]).stdout).unwrap();
    let ids: Vec<u64> = h.as_array().unwrap().iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [2]);
}

/// A values file outside the commit is recorded by content digest: a
/// rollback after it changed refuses, naming it; with the file as it was,
/// the rollback restores exactly what was deployed.
#[test]
fn rollback_checks_values_files_outside_the_commit() {
    let c = cluster::shared();
    let ns = "git-rollback-values";
    c.create_namespace(ns);
    let repo = Repo::new();
    repo.write("chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
    repo.write("chart/values.yaml", "msg: default\n");
    repo.write(
        "chart/templates/cm.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"{{ Values.msg }}\"\n",
    );
    repo.commit("chart");
    let vals = repo.tmp.path().join("vals.yaml");
    std::fs::write(&vals, "msg: three\n").unwrap();
    let env = Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap());
    let work = repo.work.to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-n", ns]);
        env.run(repo.tmp.path(), &all)
    };
    let ok = |args: &[&str]| {
        let r = run(args);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
        r
    };
    let get = || {
        String::from_utf8_lossy(&c.kubectl(&["get", "configmap", "cfg", "-n", ns, "-o", "jsonpath={.data.a}"]).stdout)
            .into_owned()
    };
    let source = ["--repo", &work, "--path", "chart"];
    ok(&[&["sync", "--name", "web", "-f", vals.to_str().unwrap()][..], &source].concat());
    assert_eq!(get(), "three");
    std::fs::write(&vals, "msg: four\n").unwrap();
    ok(&[&["sync", "--name", "web", "-f", vals.to_str().unwrap()][..], &source].concat());
    assert_eq!(get(), "four");

    let r = run(&["rollback", "web", "1"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("vals.yaml has changed"), "{}", r.stderr);
    assert_eq!(get(), "four", "a refused rollback writes nothing");

    std::fs::write(&vals, "msg: three\n").unwrap();
    ok(&["rollback", "web", "1"]);
    assert_eq!(get(), "three");
}
