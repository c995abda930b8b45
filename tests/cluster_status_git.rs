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
