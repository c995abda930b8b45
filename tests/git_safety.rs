//! Hostile git sources (issue 18) against real git servers on 127.0.0.1:
//! snapshot limits (a tree bomb, entry count, size, depth), snapshot
//! pruning, the token bound to its hosts, redirects, redacted query strings.

mod git_support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use git_support::{Env, HttpGit, Repo, cm, git};

/// No run here may take a minute: a watchdog fails the test instead.
const WATCHDOG: Duration = Duration::from_secs(60);

/// `git` reading `input` on stdin (plumbing: mktree, hash-object --stdin).
fn git_in(dir: &Path, args: &[&str], input: &[u8]) -> String {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run git");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A commit on `main` whose tree is `levels` levels of ten directories,
/// each the same tree object, over ten copies of one manifest: 10^(levels+1)
/// paths from levels + 2 objects. `app/cm.yaml` is a normal file beside it.
fn tree_bomb(repo: &Repo, levels: usize) -> String {
    let w = &repo.work;
    let blob = git_in(w, &["hash-object", "-w", "--stdin"], cm("bomb").as_bytes());
    let mut listing: String = (0..10).map(|i| format!("100644 blob {blob}\tf{i}.yaml\n")).collect();
    let mut tree = git_in(w, &["mktree"], listing.as_bytes());
    for _ in 0..levels {
        listing = (0..10).map(|i| format!("040000 tree {tree}\td{i}\n")).collect();
        tree = git_in(w, &["mktree"], listing.as_bytes());
    }
    let app = git_in(w, &["mktree"], format!("100644 blob {blob}\tcm.yaml\n").as_bytes());
    let root = git_in(w, &["mktree"], format!("040000 tree {tree}\tbomb\n040000 tree {app}\tapp\n").as_bytes());
    let commit = git(w, &["commit-tree", &root, "-m", "bomb"]);
    git(w, &["update-ref", "refs/heads/main", &commit]);
    commit
}

fn render(env: &Env, url: &str, extra: &[&str]) -> git_support::Run {
    let mut args = vec!["render", "--repo", url, "--path", "app", "-o", "name"];
    args.extend_from_slice(extra);
    env.run_within(WATCHDOG, &std::env::temp_dir(), &args)
}

#[test]
fn a_tree_bomb_stops_at_the_entry_limit() {
    let repo = Repo::new();
    let sha = tree_bomb(&repo, 8); // 10^9 paths
    repo.publish("bomb");
    let server = HttpGit::start(&repo.served, None);
    let env = Env::new();
    let r = render(&env, &server.url("bomb"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for want in ["entry limit of 100000 exceeded", "--git-max-files", &server.url("bomb"), "at HEAD", &sha] {
        assert!(r.stderr.contains(want), "{want:?} not in: {}", r.stderr);
    }
    let trees = env.cache().join("kubectl-gitops/trees");
    let written = walkdir::WalkDir::new(&trees).into_iter().count();
    assert!(written < 10, "nothing is written before the walk is checked: {written} entries under {trees:?}");
}

#[test]
fn entry_size_and_depth_limits_name_their_flag() {
    let repo = Repo::new();
    for i in 0..30 {
        repo.write(&format!("app/cm{i:02}.yaml"), &cm(&format!("cm{i:02}")));
    }
    repo.write("deep/a/b/c/d/e/f.txt", "x\n");
    repo.commit("thirty");
    repo.publish("cfg");
    let server = HttpGit::start(&repo.served, None);
    let url = server.url("cfg");

    let r = render(&Env::new(), &url, &["--git-max-files", "20"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("entry limit of 20 exceeded (raise it with --git-max-files"), "{}", r.stderr);

    let r = render(&Env::new().set("KUBECTL_GITOPS_GIT_MAX_FILES", "20"), &url, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("entry limit of 20 exceeded"), "the environment variable works: {}", r.stderr);

    let r = render(&Env::new(), &url, &["--git-max-bytes", "1Ki"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("size limit of 1024 bytes exceeded (raise it with --git-max-bytes"), "{}", r.stderr);

    let r = render(&Env::new().set("KUBECTL_GITOPS_GIT_MAX_DEPTH", "4"), &url, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("directory depth limit of 4") && r.stderr.contains("deep/a/b/c/d"), "{}", r.stderr);
    assert!(r.stderr.contains("--git-max-depth"), "{}", r.stderr);

    // Within the limits: renders.
    let r = render(&Env::new(), &url, &["--git-max-files", "100", "--git-max-bytes", "1Mi"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 30);
}

const TOKEN: &str = "t0ken-for-127-only";

/// An Application file whose repoURL is `url`, rendering `app/`.
fn app_file(dir: &Path, url: &str) -> String {
    let file = dir.join("app.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  source:\n    repoURL: {url}\n    path: app\n  destination:\n    server: https://kubernetes.default.svc\n"
        ),
    )
    .unwrap();
    file.display().to_string()
}

fn served_app() -> Repo {
    let repo = Repo::new();
    repo.write("app/one.yaml", &cm("one"));
    repo.commit("one");
    repo.publish("cfg");
    repo
}

#[test]
fn the_token_goes_only_to_its_hosts() {
    let repo = served_app();
    let server = HttpGit::start(&repo.served, Some(("alice", TOKEN)));
    let tmp = std::env::temp_dir();
    let with_token = || Env::new().set("KUBECTL_GITOPS_GIT_TOKEN", TOKEN).set("KUBECTL_GITOPS_GIT_USERNAME", "alice");

    // --repo names the host: the token goes there.
    let r = render(&with_token(), &server.url("cfg"), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "configmap/one\n");
    assert!(server.saw_password(TOKEN), "the bound host got the token: {:?}", server.log());

    // An Application file names another host (the same server as "localhost"): no token.
    let other = format!("http://localhost:{}/cfg.git", server.port);
    let before = server.log().len();
    let app = app_file(repo.tmp.path(), &other);
    let r = with_token().run_within(WATCHDOG, &tmp, &["render", "-f", &app, "-o", "name", "-vvv"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("authentication failed"), "{}", r.stderr);
    assert!(r.stderr.contains("not sent to localhost") && r.stderr.contains("--git-token-hosts"), "{}", r.stderr);
    assert!(server.log().len() > before, "the server was asked");
    let after: Vec<_> = server.log().split_off(before);
    assert!(after.iter().all(|(_, auth)| auth.is_empty()), "credentials were sent: {after:?}");
    assert!(!r.all().contains(TOKEN));

    // Bound by flag or environment: sent.
    let r = with_token().run_within(
        WATCHDOG,
        &tmp,
        &["render", "-f", &app, "-o", "name", "--git-token-hosts", "git.example.com,LOCALHOST"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let env = with_token().set("KUBECTL_GITOPS_GIT_TOKEN_HOSTS", "localhost");
    let r = env.run_within(WATCHDOG, &tmp, &["render", "-f", &app, "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // --git-token-hosts replaces the --repo host.
    let r = render(&with_token(), &server.url("cfg"), &["--git-token-hosts", "localhost"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not sent to 127.0.0.1"), "{}", r.stderr);
}

#[test]
fn redirects_to_another_host_get_no_credentials() {
    let repo = served_app();
    let target = HttpGit::start(&repo.served, Some(("alice", TOKEN)));
    let redirector = HttpGit::redirecting(&format!("http://localhost:{}", target.port));

    // The token bound to the first host (and even to both): the off-site redirect is not followed with it.
    for hosts in ["127.0.0.1", "127.0.0.1,localhost"] {
        let env = Env::new()
            .set("KUBECTL_GITOPS_GIT_TOKEN", TOKEN)
            .set("KUBECTL_GITOPS_GIT_USERNAME", "alice")
            .set("KUBECTL_GITOPS_GIT_TOKEN_HOSTS", hosts);
        let r = render(&env, &redirector.url("cfg"), &[]);
        assert_eq!(r.code, 2, "{hosts}: {}", r.stderr);
        assert!(!r.all().contains(TOKEN), "{}", r.all());
    }
    // Credentials in the URL: the same.
    let r = render(&Env::new(), &redirector.url_with(&format!("alice:{TOKEN}"), "cfg"), &["-vvv"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.all().contains(TOKEN), "{}", r.all());
    assert!(!redirector.log().is_empty(), "the redirecting server was asked");
    assert!(!target.saw_password(TOKEN), "credentials followed the redirect: {:?}", target.log());
}

#[test]
fn query_strings_are_redacted() {
    const SECRET: &str = "q-s3cret-value";
    let repo = served_app();
    let server = HttpGit::start(&repo.served, None);
    let url = format!("http://127.0.0.1:{}/missing.git?token={SECRET}", server.port);
    let r = Env::new().run_within(WATCHDOG, &std::env::temp_dir(), &["render", "--repo", &url, "-vvv"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.all().contains(SECRET), "{}", r.all());
    assert!(r.stderr.contains("missing.git?token=***"), "{}", r.stderr);
    let app = app_file(repo.tmp.path(), &url);
    for format in ["wide", "json"] {
        let r = Env::new().run_within(WATCHDOG, &std::env::temp_dir(), &["apps", "-f", &app, "-o", format, "-vvv"]);
        assert!(!r.all().contains(SECRET), "{format}: {}", r.all());
    }
}

#[test]
fn old_snapshots_are_pruned_but_never_one_in_use() {
    use std::os::unix::fs::PermissionsExt;
    let repo = Repo::new();
    let shas: Vec<String> = (0..23)
        .map(|i| {
            repo.write("app/cm.yaml", &cm(&format!("v{i}")));
            repo.commit(&format!("v{i}"))
        })
        .collect();
    repo.publish("cfg");
    let daemon = git_support::GitDaemon::start(&repo.served);
    let url = daemon.url("cfg");
    let env = Env::new();
    for sha in &shas {
        let r = render(&env, &url, &["--revision", sha]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let trees = env.cache().join("kubectl-gitops/trees");
    let dirs: Vec<_> = std::fs::read_dir(&trees).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(dirs.len(), 1, "one directory per repository: {dirs:?}");
    let repo_dir = dirs[0].clone();
    let present = |sha: &str| repo_dir.join(sha).is_dir();
    let count = || std::fs::read_dir(&repo_dir).unwrap().flatten().filter(|e| e.path().is_dir()).count();
    assert_eq!(count(), 20, "the 20 newest snapshots are kept");
    assert!(shas[..3].iter().all(|s| !present(s)) && shas[3..].iter().all(|s| present(s)));

    // Private: the cache root and the snapshot files.
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&env.cache().join("kubectl-gitops")), 0o700);
    assert_eq!(mode(&repo_dir.join(&shas[22]).join("app/cm.yaml")), 0o600);
    assert_eq!(mode(&repo_dir.join(&shas[22]).join("app")), 0o700);

    // Unused for more than 7 days: removed, unless another run holds it.
    let week_ago = std::time::SystemTime::now() - Duration::from_secs(8 * 24 * 3600);
    for sha in &shas[3..5] {
        std::fs::File::open(repo_dir.join(sha)).unwrap().set_modified(week_ago).unwrap();
    }
    let held = std::fs::File::open(repo_dir.join(format!("{}.lock", shas[3]))).unwrap();
    held.lock_shared().unwrap();
    let r = render(&env, &url, &["--revision", &shas[22]]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!present(&shas[4]), "a week-old snapshot is removed");
    assert!(present(&shas[3]), "a snapshot in use by another run is kept");
    drop(held);
    let r = render(&env, &url, &["--revision", &shas[22]]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!present(&shas[3]), "removed once released");
    assert_eq!(count(), 18);
}
