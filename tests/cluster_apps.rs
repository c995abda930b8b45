//! Apps known to the cluster (issue 17), against the real test cluster:
//! `list` after syncs from git and local sources in two namespaces;
//! `status`, `diff`, `sync` and `history` by name alone after a sync from a
//! `file://` repository, OutOfSync after a new commit on the branch; a
//! `--set` value that the record keeps as a digest only (read back with
//! kubectl), and asked for again by a render by name.

#[path = "support/cluster.rs"]
mod cluster;
mod git_support;

use git_support::{Env, Repo, Run};
use serde_json::Value;

fn cm(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: \"{value}\"\n")
}

/// Runs the binary in `cwd` against the test cluster.
struct Cli<'a> {
    env: Env,
    cwd: &'a std::path::Path,
}

impl Cli<'_> {
    fn new(cwd: &std::path::Path) -> Cli<'_> {
        let c = cluster::shared();
        Cli { env: Env::new().set("KUBECONFIG", c.kubeconfig.to_str().unwrap()), cwd }
    }
    fn run(&self, args: &[&str]) -> Run {
        self.env.run(self.cwd, args)
    }
    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "{args:?}:\n{}{}", r.stdout, r.stderr);
        r
    }
    fn json(&self, args: &[&str]) -> Value {
        let r = self.ok(args);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", r.stdout))
    }
}

fn rows<'a>(list: &'a Value, namespaces: &[&str]) -> Vec<&'a Value> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| namespaces.contains(&r["namespace"].as_str().unwrap()))
        .collect()
}

#[test]
fn list_shows_apps_from_git_and_local_sources_in_two_namespaces() {
    let c = cluster::shared();
    let (a, b) = ("apps-list-a", "apps-list-b");
    c.create_namespace(a);
    c.create_namespace(b);
    let repo = Repo::new();
    repo.write("web/cm.yaml", &cm("web", "1"));
    let commit = repo.commit("one");
    let url = format!("file://{}", repo.publish("apps").display());
    let local = repo.tmp.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("cm.yaml"), cm("api", "1")).unwrap();
    let cli = Cli::new(repo.tmp.path());
    cli.ok(&["sync", "--repo", &url, "--path", "web", "--revision", "main", "--name", "web", "-n", a]);
    cli.ok(&["sync", local.to_str().unwrap(), "--name", "api", "-n", a]);
    cli.ok(&["sync", "--repo", &url, "--path", "web", "--name", "db", "-n", b, "--applyset-parent", "configmap"]);

    let all = cli.json(&["list", "-A", "-o", "json"]);
    let mine = rows(&all, &[a, b]);
    let names: Vec<(&str, &str)> =
        mine.iter().map(|r| (r["namespace"].as_str().unwrap(), r["name"].as_str().unwrap())).collect();
    assert_eq!(names, [(a, "api"), (a, "web"), (b, "db")], "{all:#}");
    let web = mine[1];
    assert_eq!(web["source"], url.as_str());
    assert_eq!((web["path"].as_str(), web["targetRevision"].as_str()), (Some("web"), Some("main")));
    assert_eq!(web["deployedRevision"], commit.as_str());
    assert_eq!((web["sync"].as_str(), web["health"].as_str()), (Some("Synced"), Some("Healthy")));
    assert_eq!(web["lastResult"], "Succeeded");
    assert_eq!((web["members"].as_u64(), web["kinds"].clone()), (Some(1), serde_json::json!(["ConfigMap"])));
    let api = mine[0];
    let canonical = std::fs::canonicalize(&local).unwrap();
    assert_eq!(api["source"], canonical.to_str().unwrap());
    assert!(api["deployedRevision"].as_str().unwrap().starts_with("local:"), "{api}");
    assert_eq!(mine[2]["parent"], "configmap");
    assert_eq!(mine[2]["targetRevision"], "HEAD");
    // By name, a ConfigMap parent is found without --applyset-parent.
    let s = cli.json(&["status", "db", "-n", b, "-o", "json"]);
    assert_eq!(s["sync"], "Synced", "{s:#}");

    // -n: one namespace; the table; -o name; -o wide.
    let table = cli.ok(&["list", "-n", a]).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("NAME") && lines[0].contains("DEPLOYED") && lines[0].contains("HEALTH"), "{table}");
    assert!(lines[2].starts_with("web") && lines[2].contains(&commit[..7]) && lines[2].contains("Synced"), "{table}");
    assert_eq!(cli.ok(&["list", "-n", b, "-o", "name"]).stdout, "db\n");
    let wide = cli.ok(&["list", "-n", b, "-o", "wide"]).stdout;
    assert!(wide.lines().next().unwrap().contains("OBJECTS   KINDS"), "{wide}");
    assert!(wide.lines().nth(1).unwrap().contains("1         ConfigMap"), "{wide}");
    let empty = cli.ok(&["list", "-n", "default"]);
    assert!(empty.stderr.contains("No apps found in namespace default"), "{}", empty.stderr);

    // A new commit: as recorded the app is Synced; --refresh renders and compares.
    repo.write("web/cm.yaml", &cm("web", "2"));
    let second = repo.commit("two");
    repo.publish("apps");
    let refreshed = cli.json(&["list", "-n", a, "--refresh", "-o", "json"]);
    let r = rows(&refreshed, &[a]);
    assert_eq!((r[1]["name"].as_str(), r[1]["sync"].as_str()), (Some("web"), Some("OutOfSync")), "{refreshed:#}");
    assert_eq!(r[1]["sourceRevision"], second.as_str());
    assert_eq!((r[0]["name"].as_str(), r[0]["sync"].as_str()), (Some("api"), Some("Synced")), "{refreshed:#}");
    assert_eq!(r[0]["refreshed"], true);
}

#[test]
fn status_diff_sync_and_history_by_name_follow_the_branch() {
    let c = cluster::shared();
    let ns = "apps-by-name";
    c.create_namespace(ns);
    let repo = Repo::new();
    repo.write("app/cm.yaml", &cm("cfg", "1"));
    let c1 = repo.commit("one");
    let url = format!("file://{}", repo.publish("byname").display());
    let cli = Cli::new(repo.tmp.path());
    cli.ok(&["sync", "--repo", &url, "--path", "app", "--revision", "main", "--name", "web", "-n", ns]);

    let s = cli.json(&["status", "web", "-n", ns, "-o", "json"]);
    assert_eq!((s["sync"].as_str(), s["health"].as_str()), (Some("Synced"), Some("Healthy")), "{s:#}");
    assert_eq!(s["sourceRevision"], c1.as_str());
    let d = cli.run(&["diff", "web", "-n", ns]);
    assert_eq!(d.code, 0, "{}{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("app web: source from its record"), "{}", d.stderr);

    repo.write("app/cm.yaml", &cm("cfg", "2"));
    let c2 = repo.commit("two");
    repo.publish("byname");
    let s = cli.json(&["status", "web", "-n", ns, "-o", "json"]);
    assert_eq!(s["sync"], "OutOfSync", "{s:#}");
    assert_eq!((s["deployedRevision"].as_str(), s["sourceRevision"].as_str()), (Some(c1.as_str()), Some(c2.as_str())));
    let d = cli.run(&["diff", "web", "-n", ns]);
    assert_eq!(d.code, 1, "{}{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("-  a: \"1\"") && d.stdout.contains("+  a: \"2\""), "{}", d.stdout);
    let wide = cli.ok(&["status", "web", "-n", ns, "-o", "wide"]).stdout;
    assert!(wide.lines().any(|l| l.contains("ConfigMap") && l.contains("cfg") && l.contains("OutOfSync")), "{wide}");

    cli.ok(&["sync", "web", "-n", ns]);
    let got = c.kubectl_ok(&["get", "configmap", "cfg", "-n", ns, "-o", "jsonpath={.data.a}"]);
    assert_eq!(got, "2");
    let h = cli.json(&["history", "web", "-n", ns, "-o", "json"]);
    let entries = h.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["source"]["revision"], c2.as_str());
    assert_eq!(entries[1]["source"]["targetRevision"], "main", "the branch is recorded again, not the commit");
    assert_eq!(entries[1]["source"]["repoUrl"], url.as_str());
    assert_eq!(cli.json(&["status", "web", "-n", ns, "-o", "json"])["sync"], "Synced");

    // Not guessed: a name that is also a directory here is the directory.
    std::fs::create_dir_all(repo.tmp.path().join("web")).unwrap();
    let r = cli.run(&["status", "web", "-n", ns]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--recorded"), "{}", r.stderr);
    let s = cli.json(&["status", "web", "--recorded", "-n", ns, "-o", "json"]);
    assert_eq!(s["sync"], "Synced");

    // An app that does not exist, and one whose local directory is gone.
    let r = cli.run(&["status", "nope", "-n", ns]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no app \"nope\" in namespace apps-by-name"), "{}", r.stderr);
    let gone = tempfile::tempdir().unwrap();
    std::fs::write(gone.path().join("cm.yaml"), cm("gone-cfg", "1")).unwrap();
    cli.ok(&["sync", gone.path().to_str().unwrap(), "--name", "gone", "-n", ns]);
    cli.ok(&["status", "gone", "-n", ns]);
    let path = std::fs::canonicalize(gone.path()).unwrap();
    drop(gone);
    let r = cli.run(&["status", "gone", "-n", ns]);
    assert_eq!(r.code, 2);
    let want = format!("local directory {}, which does not exist here", path.display());
    assert!(r.stderr.contains(&want), "{}", r.stderr);
}

#[test]
fn set_values_are_recorded_as_digests_and_asked_for_again() {
    let c = cluster::shared();
    let ns = "apps-secrets";
    c.create_namespace(ns);
    let repo = Repo::new();
    repo.write("chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
    repo.write("chart/values.yaml", "password: none\n");
    repo.write(
        "chart/templates/cm.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"{{ Values.password }}\"\n",
    );
    repo.commit("chart");
    let url = format!("file://{}", repo.publish("secrets").display());
    let cli = Cli::new(repo.tmp.path());
    let secret = "hunter2-s3cr3t";
    let set = format!("password={secret}");
    cli.ok(&["sync", "--repo", &url, "--path", "chart", "--name", "web", "-n", ns, "--set", &set]);

    // The parent, as kubectl reads it: the value is nowhere, its digest is.
    let parent = c.kubectl_ok(&["get", "secret", "applyset-web", "-n", ns, "-o", "json"]);
    let parent: Value = serde_json::from_str(&parent).unwrap();
    use base64::Engine as _;
    let history =
        base64::engine::general_purpose::STANDARD.decode(parent["data"]["history"].as_str().unwrap()).unwrap();
    let history = String::from_utf8(history).unwrap();
    assert!(!history.contains(secret) && !parent.to_string().contains(secret), "{history}");
    let h: Value = serde_json::from_str(&history).unwrap();
    let recorded = h[0]["source"]["parameters"]["set"][0].as_str().unwrap();
    assert!(recorded.starts_with("(not stored) sha256:"), "{recorded}");

    let r = cli.run(&["status", "web", "-n", ns]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--set (1 value)") && r.stderr.contains("give them again"), "{}", r.stderr);
    assert!(!r.stderr.contains(secret));
    let s = cli.json(&["status", "web", "-n", ns, "--set", &set, "-o", "json"]);
    assert_eq!(s["sync"], "Synced", "{s:#}");
    let s = cli.json(&["status", "web", "-n", ns, "--set", "password=other", "-o", "json"]);
    assert_eq!(s["sync"], "OutOfSync", "{s:#}");
}

/// 404 answers the API server counted for `resource` (its `/metrics`).
fn not_found_count(resource: &str) -> u64 {
    let metrics = cluster::shared().kubectl_ok(&["get", "--raw", "/metrics"]);
    metrics
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{") && l.contains("code=\"404\""))
        .filter(|l| l.contains(&format!("resource=\"{resource}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[test]
fn a_first_sync_that_creates_its_namespaces_sends_no_request_bound_to_fail() {
    let c = cluster::shared();
    let home = "apps-newns-home";
    c.create_namespace(home);
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for ns in ["apps-newns-1", "apps-newns-2"] {
        text.push_str(&format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n---\n"));
        for i in 0..5 {
            text.push_str(&format!(
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-{i}\n  namespace: {ns}\n---\n"
            ));
        }
    }
    std::fs::write(dir.path().join("all.yaml"), &text).unwrap();
    let cli = Cli::new(dir.path());
    let before = not_found_count("serviceaccounts");
    let r = cli.ok(&["-v", "sync", ".", "--name", "newns", "-n", home]);
    assert_eq!(not_found_count("serviceaccounts"), before, "no dry-run answered 404\n{}", r.stderr);
    assert!(r.stderr.contains("10 objects in 2 namespaces this set creates"), "{}", r.stderr);
    assert!(c.kubectl(&["get", "serviceaccount", "sa-4", "-n", "apps-newns-2"]).status.success());
    // The counter sees a 404 when there is one.
    assert!(!c.kubectl(&["get", "serviceaccount", "none", "-n", home]).status.success());
    assert!(not_found_count("serviceaccounts") > before, "the 404 counter works");

    // An object the API server refuses, in a new namespace: the sync stops
    // before any other object is written; only the namespaces exist.
    let bad = tempfile::tempdir().unwrap();
    let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps-newns-3\n---\n\
                apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: fine\n  namespace: apps-newns-3\n---\n\
                apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: apps-newns-3\ndata:\n  \"no spaces allowed\": x\n---\n\
                apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: elsewhere\n";
    std::fs::write(bad.path().join("all.yaml"), text).unwrap();
    let cli = Cli::new(bad.path());
    let r = cli.run(&["sync", ".", "--name", "newns-bad", "-n", home]);
    assert_ne!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("configmaps") || r.stderr.contains("ConfigMap"), "{}", r.stderr);
    assert!(r.stderr.contains("the new namespaces stay"), "{}", r.stderr);
    assert!(c.kubectl(&["get", "namespace", "apps-newns-3"]).status.success());
    assert!(!c.kubectl(&["get", "serviceaccount", "fine", "-n", "apps-newns-3"]).status.success());
    assert!(!c.kubectl(&["get", "serviceaccount", "elsewhere", "-n", home]).status.success());
}

/// Output a kubectl user expects: a context with insecure-skip-tls-verify
/// is used silently (said once with -v); `--color` and `NO_COLOR`.
#[test]
fn insecure_contexts_are_quiet_and_colour_follows_the_flag() {
    let c = cluster::shared();
    let ns = "apps-output";
    c.create_namespace(ns);
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&c.kubeconfig).unwrap();
    let insecure: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("certificate-authority:") { "    insecure-skip-tls-verify: true" } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config_dir = tempfile::tempdir().unwrap();
    let kubeconfig = config_dir.path().join("insecure.yaml");
    std::fs::write(&kubeconfig, insecure + "\n").unwrap();
    std::fs::write(dir.path().join("cm.yaml"), cm("out", "1")).unwrap();
    let env = Env::new().set("KUBECONFIG", kubeconfig.to_str().unwrap());
    let r = env.run(dir.path(), &["sync", ".", "--name", "out", "-n", ns]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stderr.to_lowercase().contains("cert"), "{}", r.stderr);
    let r = env.run(dir.path(), &["-v", "list", "-n", ns]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stderr.matches("TLS certificate is not verified").count(), 1, "{}", r.stderr);
    assert!(!r.stderr.contains("Server cert bypassed"), "{}", r.stderr);

    std::fs::write(dir.path().join("cm.yaml"), cm("out", "2")).unwrap();
    let colour = env.run(dir.path(), &["diff", ".", "--name", "out", "-n", ns, "--color", "always"]);
    assert_eq!(colour.code, 1, "{}", colour.all());
    assert!(colour.stdout.contains("\x1b["), "{}", colour.stdout);
    let plain = env.run(dir.path(), &["diff", ".", "--name", "out", "-n", ns]);
    assert!(!plain.stdout.contains("\x1b["), "not a terminal: no colour");
    let env = env.set("NO_COLOR", "1");
    let auto = env.run(dir.path(), &["diff", ".", "--name", "out", "-n", ns, "--color", "never"]);
    assert!(!auto.stdout.contains("\x1b[") && auto.code == 1, "{}", auto.all());
}
