//! `kubectl gitops agent` on the real test cluster, its repositories served
//! by `git daemon` on 127.0.0.1: `--once` syncs an automated app, only
//! reports a manual one and reports a broken one without holding the
//! others back; a running agent applies a pushed commit on its next round,
//! and at once after a webhook (a wrong signature refused); a failed
//! revision is not retried until a new commit; self-heal re-applies only
//! the drifted object; two agents sharing one Lease: only the leader
//! writes, and the other takes over when the leader is killed.
//!
//! Agents run as child processes with their stderr in a file; every wait is
//! for a condition (cluster state, a log line), with a generous deadline.

#[path = "support/cluster.rs"]
mod cluster;
mod git_support;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use git_support::{GitDaemon, Repo};

const DEADLINE: Duration = Duration::from_secs(120);

fn cm(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: \"{value}\"\n")
}

/// An Application of `path` in `repo_url` at main, to `namespace` of the test cluster (context `admin`).
fn application(name: &str, repo_url: &str, path: &str, namespace: &str, policy: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  project: default\n  \
         source:\n    repoURL: {repo_url}\n    targetRevision: main\n    path: {path}\n  destination:\n    name: admin\n    \
         namespace: {namespace}\n{policy}"
    )
}

const AUTO: &str = "  syncPolicy:\n    automated:\n      prune: true\n";
const SELF_HEAL: &str = "  syncPolicy:\n    automated:\n      prune: true\n      selfHeal: true\n";

fn data(ns: &str, name: &str) -> Option<String> {
    let out = cluster::shared().kubectl(&["get", "configmap", name, "-n", ns, "-o", "jsonpath={.data.a}"]);
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn resource_version(ns: &str, name: &str) -> String {
    cluster::shared().kubectl_ok(&["get", "configmap", name, "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}"])
}

/// Wait for `what` to hold, or fail the test naming it (and showing `context()`).
fn wait_for(what: &str, mut cond: impl FnMut() -> bool, context: impl Fn() -> String) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}\n{}", context());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A repository served over git://, with the test's Applications next to it.
struct Setup {
    repo: Repo,
    daemon: GitDaemon,
    apps: PathBuf,
    home: tempfile::TempDir,
}

impl Setup {
    fn new(files: &[(&str, &str)]) -> Setup {
        let repo = Repo::new();
        for (path, content) in files {
            repo.write(path, content);
        }
        repo.commit("one");
        repo.publish("config");
        let daemon = GitDaemon::start(&repo.served);
        let apps = repo.tmp.path().join("apps");
        std::fs::create_dir_all(&apps).unwrap();
        Setup { repo, daemon, apps, home: tempfile::tempdir().unwrap() }
    }

    fn url(&self) -> String {
        self.daemon.url("config")
    }

    fn app(&self, name: &str, path: &str, ns: &str, policy: &str) {
        std::fs::write(self.apps.join(format!("{name}.yaml")), application(name, &self.url(), path, ns, policy))
            .unwrap();
    }

    /// Commit and publish a change.
    fn push(&self, path: &str, content: &str) -> String {
        self.repo.write(path, content);
        let sha = self.repo.commit("change");
        self.repo.publish("config");
        sha
    }

    fn command(&self, args: &[&str]) -> Command {
        let c = cluster::shared();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-gitops"));
        cmd.arg("agent").arg("-f").arg(&self.apps);
        if !args.contains(&"--kubeconfig") {
            cmd.arg("--kubeconfig").arg(&c.kubeconfig);
        }
        cmd.args(args)
            .env("HOME", self.home.path())
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("KUBECONFIG")
            .env_remove("KUBECTL_GITOPS_CACHE_DIR")
            .env_remove("KUBECTL_GITOPS_WEBHOOK_SECRET")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }

    /// `agent --once`: (exit code, stderr).
    fn once(&self, args: &[&str]) -> (i32, String) {
        let mut all = vec!["--once"];
        all.extend_from_slice(args);
        let out = self.command(&all).output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// A running agent.
    fn start(&self, args: &[&str], env: &[(&str, &str)]) -> Agent {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.stdout(Stdio::null()).stderr(log.reopen().unwrap()).spawn().unwrap();
        Agent { child, log }
    }
}

/// An agent process, killed when dropped.
struct Agent {
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Agent {
    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap()
    }

    /// This agent's reconcile lines about `app`.
    fn lines(&self, app: &str) -> Vec<String> {
        let prefix = format!("{app} [");
        self.log().lines().filter(|l| l.starts_with(&prefix)).map(String::from).collect()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn once_syncs_automated_apps_reports_manual_ones_and_a_broken_app_blocks_nothing() {
    let c = cluster::shared();
    c.create_namespace("agent-once");
    let s = Setup::new(&[("auto/cm.yaml", &cm("auto", "1")), ("manual/cm.yaml", &cm("manual", "1"))]);
    s.app("auto", "auto", "agent-once", AUTO);
    s.app("manual", "manual", "agent-once", "");
    // A repository nobody serves (a port bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(
        s.apps.join("broken.yaml"),
        application("broken", &format!("git://127.0.0.1:{port}/gone.git"), "x", "agent-once", AUTO),
    )
    .unwrap();

    // An app whose cluster does not answer: one more context, its server on a closed port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let kubeconfig = s.home.path().join("kubeconfig");
    let text = std::fs::read_to_string(&c.kubeconfig).unwrap();
    let text = text
        .replace(
            "clusters:\n",
            &format!("clusters:\n- name: down\n  cluster:\n    server: https://127.0.0.1:{closed}\n"),
        )
        .replace("contexts:\n", "contexts:\n- name: down\n  context: {cluster: down, user: admin}\n");
    std::fs::write(&kubeconfig, text).unwrap();
    std::fs::write(
        s.apps.join("faraway.yaml"),
        application("faraway", &s.url(), "auto", "agent-once", AUTO).replace("name: admin", "name: down"),
    )
    .unwrap();
    let kc = kubeconfig.to_str().unwrap();
    let (code, err) = s.once(&["--parallel", "2", "--kubeconfig", kc]);
    assert_eq!(code, 2, "the broken apps fail the run\n{err}");
    assert_eq!(data("agent-once", "auto").as_deref(), Some("1"), "{err}");
    assert_eq!(data("agent-once", "manual"), None, "a manual app is only compared\n{err}");
    let line = |app: &str| {
        err.lines().find(|l| l.starts_with(&format!("{app} ["))).unwrap_or_else(|| panic!("no line for {app}\n{err}"))
    };
    assert!(line("auto").starts_with("auto [admin] synced: Synced Healthy at "), "{err}");
    assert!(line("auto").contains("wrote ConfigMap agent-once/auto created"), "{err}");
    assert!(line("manual").starts_with("manual [admin] out of sync (manual): OutOfSync"), "{err}");
    assert!(line("broken").contains(&format!("error: git://127.0.0.1:{port}/gone.git: fetch failed")), "{err}");
    assert!(line("faraway").starts_with("faraway [down] failed:"), "{err}");
    assert!(
        line("faraway")
            .contains(&format!("context down (server https://127.0.0.1:{closed}) is unreachable: connect to")),
        "{err}"
    );

    // The next round finds the automated app in sync and writes nothing.
    let before = resource_version("agent-once", "auto");
    let (code, err) = s.once(&["--kubeconfig", kc, "--log-format", "json"]);
    assert_eq!(code, 2, "{err}");
    let reports: Vec<serde_json::Value> = err.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let auto = reports.iter().find(|r| r["app"] == "auto").unwrap_or_else(|| panic!("{err}"));
    assert_eq!((auto["action"].as_str(), auto["sync"].as_str()), (Some("none"), Some("Synced")), "{auto:#}");
    assert!(auto["time"].is_string(), "{auto:#}");
    assert_eq!(resource_version("agent-once", "auto"), before);
    // `status` sees the agent's sync in the app's history.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-gitops"))
        .args(["history", "auto", "-n", "agent-once", "-o", "json", "--kubeconfig"])
        .arg(&c.kubeconfig)
        .output()
        .unwrap();
    let history: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(history[0]["user"], "admin (agent)", "{history:#}");
    // And an Event on the app's parent says so.
    let events = c.kubectl_ok(&[
        "get",
        "events",
        "-n",
        "agent-once",
        "--field-selector",
        "involvedObject.name=applyset-auto",
        "-o",
        "jsonpath={range .items[*]}{.reason} {.type} {.source.component}{\"\\n\"}{end}",
    ]);
    assert!(events.lines().any(|l| l == "Synced Normal kubectl-gitops-agent"), "{events}");
}

fn sign(secret: &[u8], body: &[u8]) -> String {
    use hmac::Mac;
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    m.update(body);
    m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// POST `body` to `/hooks/git` with `headers`; the response's status code.
fn post_hook(addr: &str, headers: &[(&str, String)], body: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req = format!("POST /hooks/git HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    req += "\r\n";
    req += body;
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("bad response: {out}"))
}

/// GET `path`: (status code, body).
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).unwrap();
    let mut out = String::new();
    conn.read_to_string(&mut out).unwrap();
    let code = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

#[test]
fn a_pushed_commit_is_applied_on_the_next_round_and_a_webhook_fetches_at_once() {
    cluster::shared().create_namespace("agent-poll");
    let s = Setup::new(&[("web/cm.yaml", &cm("web", "1"))]);
    s.app("web", "web", "agent-poll", AUTO);

    // Polling.
    let agent = s.start(&["--interval", "1s"], &[]);
    wait_for("the first sync", || data("agent-poll", "web").as_deref() == Some("1"), || agent.log());
    s.push("web/cm.yaml", &cm("web", "2"));
    wait_for("the pushed commit applied", || data("agent-poll", "web").as_deref() == Some("2"), || agent.log());
    drop(agent);

    // Webhooks: an interval no test waits for; only the webhook can bring the commit in.
    let addr = free_addr();
    let secret = "hook-secret";
    let agent = s.start(
        &["--interval", "1h", "--drift-interval", "1h", "--listen", &addr],
        &[("KUBECTL_GITOPS_WEBHOOK_SECRET", secret)],
    );
    wait_for("the agent's first round", || agent.lines("web").len() == 1, || agent.log());
    let c3 = s.push("web/cm.yaml", &cm("web", "3"));
    let body = format!(
        r#"{{"ref":"refs/heads/main","after":"{c3}","repository":{{"clone_url":"{}","html_url":"http://x/config"}}}}"#,
        s.url()
    );
    let wrong = [
        ("X-GitHub-Event", "push".to_string()),
        ("X-Hub-Signature-256", format!("sha256={}", sign(b"nope", body.as_bytes()))),
    ];
    assert_eq!(post_hook(&addr, &wrong, &body), 401);
    assert_eq!(post_hook(&addr, &[], &body), 401, "unsigned");
    let right = [
        ("X-GitHub-Event", "push".to_string()),
        ("X-Hub-Signature-256", format!("sha256={}", sign(secret.as_bytes(), body.as_bytes()))),
    ];
    assert_eq!(post_hook(&addr, &right, &body), 202);
    wait_for("the webhook's commit applied", || data("agent-poll", "web").as_deref() == Some("3"), || agent.log());
    assert!(agent.log().contains("webhook for "), "{}", agent.log());
    // The plain form with a bearer token.
    s.push("web/cm.yaml", &cm("web", "4"));
    let plain = format!(r#"{{"repo":"{}","revision":"main"}}"#, s.url());
    assert_eq!(post_hook(&addr, &[("Authorization", format!("Bearer {secret}"))], &plain), 202);
    wait_for(
        "the plain webhook's commit applied",
        || data("agent-poll", "web").as_deref() == Some("4"),
        || agent.log(),
    );
    // Health, status and metrics.
    assert_eq!(get(&addr, "/healthz").0, 200);
    assert_eq!(get(&addr, "/readyz").0, 200);
    // The reconcile that applied the commit reports once it has compared again.
    let synced = s.repo.sha("HEAD");
    let status = || serde_json::from_str::<serde_json::Value>(&get(&addr, "/status").1).unwrap();
    wait_for("the report of the last sync", || status()[0]["syncedRevision"] == synced.as_str(), || agent.log());
    let status = status();
    assert_eq!((status[0]["app"].as_str(), status[0]["sync"].as_str()), (Some("web"), Some("Synced")), "{status:#}");
    let (code, metrics) = get(&addr, "/metrics");
    assert_eq!(code, 200);
    let value = |prefix: &str| -> u64 {
        let line = metrics.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix}\n{metrics}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(value("kubectl_gitops_syncs_total{app=\"web\"}") >= 2, "{metrics}");
    assert!(value("kubectl_gitops_reconciles_total{app=\"web\"}") >= 3, "{metrics}");
    assert_eq!(value("kubectl_gitops_sync_failures_total{app=\"web\"}"), 0, "{metrics}");
    assert!(
        metrics.lines().any(|l| l.starts_with("kubectl_gitops_app_info{app=\"web\"")
            && l.contains(&format!("synced_revision=\"{synced}\""))),
        "{metrics}"
    );
}

#[test]
fn a_failed_revision_is_not_retried_until_a_new_commit() {
    cluster::shared().create_namespace("agent-fail");
    let s = Setup::new(&[("app/cm.yaml", &cm("kept", "1"))]);
    s.app("app", "app", "agent-fail", AUTO);
    let agent = s.start(&["--interval", "1s"], &[]);
    wait_for("the first sync", || data("agent-fail", "kept").as_deref() == Some("1"), || agent.log());
    // A commit that renders nothing: pruning everything needs allowEmpty, so its sync fails.
    s.repo.run(&["rm", "-q", "app/cm.yaml"]);
    s.push("app/README.md", "nothing here\n");
    wait_for(
        "three reconciles after the failure",
        || {
            let lines = agent.lines("app");
            let failed = lines.iter().position(|l| l.starts_with("app [admin] sync failed"));
            failed.is_some_and(|i| lines.len() >= i + 4)
        },
        || agent.log(),
    );
    let lines = agent.lines("app");
    let failed: Vec<&String> = lines.iter().filter(|l| l.contains("sync failed")).collect();
    assert_eq!(failed.len(), 1, "{}", agent.log());
    assert!(failed[0].contains("refusing to sync an empty set"), "{}", failed[0]);
    assert!(lines.last().unwrap().starts_with("app [admin] not retried: OutOfSync"), "{}", agent.log());
    assert_eq!(data("agent-fail", "kept").as_deref(), Some("1"), "nothing was pruned");
    let events = cluster::shared().kubectl_ok(&[
        "get",
        "events",
        "-n",
        "agent-fail",
        "--field-selector",
        "involvedObject.name=applyset-app,reason=SyncFailed",
        "-o",
        "jsonpath={range .items[*]}{.type}: {.message}{\"\\n\"}{end}",
    ]);
    assert_eq!(events.lines().count(), 1, "one failure, one Warning event: {events}");
    assert!(events.starts_with("Warning: sync of "), "{events}");
    // A new commit is attempted (and works).
    s.push("app/cm.yaml", &cm("kept", "2"));
    wait_for("the next commit synced", || data("agent-fail", "kept").as_deref() == Some("2"), || agent.log());
}

#[test]
fn self_heal_reapplies_only_the_drifted_object() {
    let c = cluster::shared();
    c.create_namespace("agent-heal");
    let s = Setup::new(&[("heal/cm.yaml", &format!("{}---\n{}", cm("drifts", "1"), cm("stays", "1")))]);
    s.app("heal", "heal", "agent-heal", SELF_HEAL);
    let agent = s.start(&["--interval", "1h", "--drift-interval", "1s"], &[]);
    wait_for("the first sync", || data("agent-heal", "drifts").as_deref() == Some("1"), || agent.log());
    let stays = resource_version("agent-heal", "stays");
    c.kubectl_ok(&[
        "patch",
        "configmap",
        "drifts",
        "-n",
        "agent-heal",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"a":"x"}}"#,
    ]);
    wait_for("the drift healed", || data("agent-heal", "drifts").as_deref() == Some("1"), || agent.log());
    wait_for("the heal's line", || agent.lines("heal").iter().any(|l| l.contains(" healed: ")), || agent.log());
    let healed = agent.lines("heal").into_iter().find(|l| l.contains(" healed: ")).unwrap();
    assert!(healed.contains("wrote ConfigMap agent-heal/drifts configured"), "{healed}");
    assert!(!healed.contains("stays"), "only the drifted object is written: {healed}");
    assert_eq!(resource_version("agent-heal", "stays"), stays);
}

#[test]
fn with_watches_a_drifted_object_is_healed_without_waiting_for_the_drift_check() {
    let c = cluster::shared();
    c.create_namespace("agent-watch");
    let s = Setup::new(&[("w/cm.yaml", &format!("{}---\n{}", cm("watched", "1"), cm("other", "1")))]);
    s.app("w", "w", "agent-watch", SELF_HEAL);
    // Neither a poll nor a drift check comes during the test: only a watch can see the edit.
    let agent = s.start(&["--interval", "1h", "--drift-interval", "1h", "--watch"], &[]);
    wait_for("the first sync", || data("agent-watch", "watched").as_deref() == Some("1"), || agent.log());
    wait_for("the comparison after the sync", || agent.lines("w").len() >= 2, || agent.log());
    let other = resource_version("agent-watch", "other");
    c.kubectl_ok(&[
        "patch",
        "configmap",
        "watched",
        "-n",
        "agent-watch",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"a":"x"}}"#,
    ]);
    wait_for("the edit healed", || data("agent-watch", "watched").as_deref() == Some("1"), || agent.log());
    wait_for("the heal's line", || agent.lines("w").iter().any(|l| l.contains(" healed: ")), || agent.log());
    assert_eq!(resource_version("agent-watch", "other"), other);
    assert!(!agent.log().contains("drift check"), "{}", agent.log());
}

#[test]
fn two_agents_one_lease_only_the_leader_writes_and_the_other_takes_over() {
    let c = cluster::shared();
    c.create_namespace("agent-lease");
    let s = Setup::new(&[("ha/cm.yaml", &cm("ha", "1"))]);
    s.app("ha", "ha", "agent-lease", AUTO);
    let args = ["--interval", "1s", "--leader-elect", "--lease-namespace", "agent-lease", "--lease-duration", "3s"];
    let mut a = s.start(&args, &[]);
    let mut b = s.start(&args, &[]);
    let holder = || {
        let out = c.kubectl(&[
            "get",
            "lease",
            "kubectl-gitops-agent",
            "-n",
            "agent-lease",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let logs = |a: &Agent, b: &Agent| format!("--- a\n{}\n--- b\n{}", a.log(), b.log());
    wait_for("the first sync", || data("agent-lease", "ha").as_deref() == Some("1"), || logs(&a, &b));
    wait_for("both agents' reconciles", || a.lines("ha").len() >= 2 && b.lines("ha").len() >= 2, || logs(&a, &b));
    let h = holder();
    let (leader, standby) = if h.ends_with(&format!("/{}", a.child.id())) {
        (&mut a, &mut b)
    } else {
        assert!(h.ends_with(&format!("/{}", b.child.id())), "holder {h:?} is neither agent");
        (&mut b, &mut a)
    };
    let wrote = |ag: &Agent| ag.lines("ha").iter().any(|l| l.starts_with("ha [admin] synced"));
    assert!(wrote(leader), "{}", leader.log());
    assert!(!wrote(standby), "only the leader writes\n{}", standby.log());

    // The leader dies: the other takes the Lease over and syncs the next commit.
    leader.kill();
    s.push("ha/cm.yaml", &cm("ha", "2"));
    wait_for("the handed-over sync", || data("agent-lease", "ha").as_deref() == Some("2"), || standby.log());
    wait_for("the new leader's sync line", || wrote(standby), || standby.log());
    assert!(holder().ends_with(&format!("/{}", standby.child.id())), "{}", holder());

    // SIGTERM: the agent finishes what it is doing, releases the Lease and exits 0.
    let pid = standby.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = standby.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{}", standby.log());
    assert!(standby.log().contains("agent: stopping"), "{}", standby.log());
    assert_eq!(holder(), "", "the Lease is released");
}

#[test]
fn a_leader_whose_lease_is_taken_stops_writing_until_it_leads_again() {
    let c = cluster::shared();
    c.create_namespace("agent-steal");
    let s = Setup::new(&[("st/cm.yaml", &cm("st", "1"))]);
    s.app("st", "st", "agent-steal", AUTO);
    let args = ["--interval", "1s", "--leader-elect", "--lease-namespace", "agent-steal", "--lease-duration", "3s"];
    let agent = s.start(&args, &[]);
    wait_for("the first sync", || data("agent-steal", "st").as_deref() == Some("1"), || agent.log());
    // Someone else takes the Lease, for an hour.
    let lease = c.kubectl_ok(&["get", "lease", "kubectl-gitops-agent", "-n", "agent-steal", "-o", "json"]);
    let mut lease: serde_json::Value = serde_json::from_str(&lease).unwrap();
    lease["spec"]["holderIdentity"] = "intruder".into();
    lease["spec"]["leaseDurationSeconds"] = 3600.into();
    // Unconditional: the agent renews it every second.
    lease["metadata"].as_object_mut().unwrap().remove("resourceVersion");
    let file = s.home.path().join("lease.json");
    std::fs::write(&file, lease.to_string()).unwrap();
    c.kubectl_ok(&["replace", "-f", file.to_str().unwrap()]);
    s.push("st/cm.yaml", &cm("st", "2"));
    wait_for(
        "a reconcile that would sync but does not lead",
        || agent.lines("st").iter().any(|l| l.starts_with("st [admin] standby: would sync (leader: intruder)")),
        || agent.log(),
    );
    assert_eq!(data("agent-steal", "st").as_deref(), Some("1"), "no write without the Lease\n{}", agent.log());
    // The Lease gone, the agent leads again and syncs at once.
    c.kubectl_ok(&["delete", "lease", "kubectl-gitops-agent", "-n", "agent-steal"]);
    wait_for("the sync after leading again", || data("agent-steal", "st").as_deref() == Some("2"), || agent.log());
}

/// The agent's own errors: bad flags exit 2 with a message naming them.
#[test]
fn bad_agent_flags() {
    let s = Setup::new(&[("x/cm.yaml", &cm("x", "1"))]);
    let (code, err) = s.once(&["--shard", "2/2"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--shard"), "{err}");
    let out = s.command(&["--once", "--repo", "x", "--path", "y", "-f", "z"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_repository_shared_by_many_apps_is_fetched_once_per_round() {
    cluster::shared().create_namespace("agent-shared");
    let repo = Repo::new();
    repo.write("one/cm.yaml", &cm("one", "1"));
    repo.write("two/cm.yaml", &cm("two", "1"));
    repo.commit("one");
    repo.publish("shared");
    let http = git_support::HttpGit::start(&repo.served, None);
    let url = http.url("shared");
    let run = |apps: &[&str]| {
        // A fresh cache and Application directory each time.
        let s = Setup::new(&[("x/cm.yaml", &cm("x", "1"))]);
        for a in apps {
            std::fs::write(s.apps.join(format!("{a}.yaml")), application(a, &url, a, "agent-shared", AUTO)).unwrap();
        }
        let before = http.requests();
        let (code, err) = s.once(&["--parallel", "2"]);
        assert_eq!(code, 0, "{err}");
        http.requests() - before
    };
    let one = run(&["one"]);
    assert!(one > 0);
    assert_eq!(run(&["one", "two"]), one, "two apps of one repository: one fetch");
    assert_eq!(data("agent-shared", "two").as_deref(), Some("1"));
}

#[test]
fn shards_split_the_apps_and_a_git_root_holds_the_applications() {
    cluster::shared().create_namespace("agent-shard");
    let s = Setup::new(&[("a/cm.yaml", &cm("a", "1")), ("b/cm.yaml", &cm("b", "1")), ("c/cm.yaml", &cm("c", "1"))]);
    // The Applications live in the repository too (the app-of-apps root).
    let mut names = Vec::new();
    for n in ["a", "b", "c"] {
        s.repo.write(&format!("apps/{n}.yaml"), &application(n, &s.url(), n, "agent-shard", ""));
        names.push(n);
    }
    s.repo.commit("apps");
    s.repo.publish("config");
    let c = cluster::shared();
    let mut taken = Vec::new();
    for shard in ["0/2", "1/2"] {
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-gitops"))
            .args(["agent", "--once", "--repo", &s.url(), "--path", "apps", "--shard", shard, "--kubeconfig"])
            .arg(&c.kubeconfig)
            .env("HOME", s.home.path())
            .env("XDG_CACHE_HOME", s.home.path().join("cache"))
            .env_remove("KUBECONFIG")
            .env_remove("KUBECTL_GITOPS_CACHE_DIR")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{err}");
        for n in &names {
            if err.lines().any(|l| l.starts_with(&format!("{n} [admin] out of sync (manual)"))) {
                taken.push(n.to_string());
            }
        }
    }
    taken.sort();
    assert_eq!(taken, ["a", "b", "c"], "every app in exactly one shard");
}
