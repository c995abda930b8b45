//! `--repo/--revision/--path/--offline` against real git servers on
//! 127.0.0.1 (git daemon, git http-backend), file:// URLs and local paths.

mod git_support;

use git_support::{Env, GitDaemon, HttpGit, Repo, cm};

/// main: c1 (one) <- tag v1, c2 (+two); branch feature from c2: c3 (+three).
struct Fixture {
    repo: Repo,
    c1: String,
    c2: String,
    c3: String,
}

fn fixture() -> Fixture {
    let repo = Repo::new();
    repo.write("app/one.yaml", &cm("one"));
    repo.write("README.md", "not a manifest\n");
    let c1 = repo.commit("one");
    repo.run(&["tag", "-a", "v1", "-m", "v1"]);
    repo.write("app/two.yaml", &cm("two"));
    let c2 = repo.commit("two");
    repo.run(&["checkout", "-q", "-b", "feature"]);
    repo.write("app/three.yaml", &cm("three"));
    let c3 = repo.commit("three");
    repo.run(&["checkout", "-q", "main"]);
    Fixture { repo, c1, c2, c3 }
}

fn names(env: &Env, repo: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["render", "--repo", repo, "--path", "app", "-o", "name"];
    args.extend_from_slice(extra);
    let r = env.run(std::env::temp_dir().as_path(), &args);
    assert_eq!(r.code, 0, "render {extra:?} failed: {}", r.stderr);
    (r.stdout, r.stderr)
}

const ONE: &str = "configmap/one\n";
const ONE_TWO: &str = "configmap/one\nconfigmap/two\n";
const ALL: &str = "configmap/one\nconfigmap/three\nconfigmap/two\n";

/// Every revision kind resolves to the right commit, and the commit is reported on stderr.
fn check_revisions(env: &Env, url: &str, f: &Fixture) {
    let (out, err) = names(env, url, &[]);
    assert_eq!(out, ONE_TWO);
    assert!(err.contains(&format!("at HEAD is commit {}", f.c2)), "{err}");
    assert_eq!(names(env, url, &["--revision", "main"]).0, ONE_TWO);
    assert_eq!(names(env, url, &["--revision", "feature"]).0, ALL);
    let (out, err) = names(env, url, &["--revision", "v1"]);
    assert_eq!(out, ONE);
    assert!(err.contains(&f.c1), "an annotated tag peels to its commit: {err}");
    assert_eq!(names(env, url, &["--revision", &f.c1]).0, ONE);
    assert_eq!(names(env, url, &["--revision", &f.c3[..8]]).0, ALL);
    let r = env.run(std::env::temp_dir().as_path(), &["render", "--repo", url, "--revision", "no-such-branch"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("revision \"no-such-branch\" not found"), "{}", r.stderr);
}

#[test]
fn local_path_every_revision_kind_without_touching_the_work_tree() {
    let f = fixture();
    let env = Env::new();
    // Uncommitted changes are not part of any revision.
    f.repo.write("app/dirty.yaml", &cm("dirty"));
    std::fs::write(f.repo.work.join("app/one.yaml"), cm("edited")).unwrap();
    let status_before = f.repo.run(&["status", "--porcelain"]);
    check_revisions(&env, f.repo.work.to_str().unwrap(), &f);
    assert_eq!(f.repo.run(&["status", "--porcelain"]), status_before);
    assert_eq!(f.repo.run(&["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    assert!(!env.cache().join("kubectl-gitops/repos").exists(), "local repositories are read in place");
    // A subdirectory of the work tree finds the repository.
    let sub = f.repo.work.join("app");
    let (out, _) = names(&env, sub.to_str().unwrap(), &["--revision", "v1"]);
    assert_eq!(out, ONE);
}

#[test]
fn file_url_cache_reuse_and_offline() {
    let f = fixture();
    let env = Env::new();
    let bare = f.repo.publish("cfg");
    let url = format!("file://{}", bare.display());
    check_revisions(&env, &url, &f);
    let repos: Vec<_> = std::fs::read_dir(env.cache().join("kubectl-gitops/repos")).unwrap().flatten().collect();
    assert_eq!(repos.iter().filter(|e| e.path().is_dir()).count(), 1, "one cached bare repository per URL");

    // A new commit upstream: --offline keeps using the cached copy, a normal run fetches it.
    f.repo.write("app/four.yaml", &cm("four"));
    let c4 = f.repo.commit("four");
    f.repo.publish("cfg");
    assert_eq!(names(&env, &url, &["--offline"]).0, ONE_TWO);
    let r = env.run(std::env::temp_dir().as_path(), &["render", "--repo", &url, "--revision", &c4, "--offline"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--offline"), "{}", r.stderr);
    let (out, err) = names(&env, &url, &[]);
    assert_eq!(out, "configmap/four\nconfigmap/one\nconfigmap/two\n");
    assert!(err.contains(&c4), "{err}");
    assert_eq!(names(&env, &url, &["--offline"]).0, "configmap/four\nconfigmap/one\nconfigmap/two\n");

    // Never fetched: --offline has nothing to use.
    let other = format!("file://{}", f.repo.served.join("missing.git").display());
    let r = env.run(std::env::temp_dir().as_path(), &["render", "--repo", &other, "--offline"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not in the cache"), "{}", r.stderr);
}

#[test]
fn git_daemon_url() {
    let f = fixture();
    let env = Env::new();
    f.repo.publish("cfg");
    let daemon = GitDaemon::start(&f.repo.served);
    check_revisions(&env, &daemon.url("cfg"), &f);
    let r = env.run(std::env::temp_dir().as_path(), &["render", "--repo", &daemon.url("nope")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("fetch failed"), "{}", r.stderr);
}

#[test]
fn smart_http_url_fetches_only_when_needed() {
    let f = fixture();
    let env = Env::new();
    f.repo.publish("cfg");
    let server = HttpGit::start(&f.repo.served, None);
    let url = server.url("cfg");
    check_revisions(&env, &url, &f);
    let before = server.requests();
    assert_eq!(names(&env, &url, &["--offline", "--revision", "feature"]).0, ALL);
    assert_eq!(names(&env, &url, &["--revision", &f.c1]).0, ONE, "a full SHA already cached needs no fetch");
    assert_eq!(server.requests(), before, "the server was contacted");
    assert_eq!(names(&env, &url, &["--revision", "main"]).0, ONE_TWO);
    assert!(server.requests() > before, "a branch is fetched");
}

#[test]
fn credentials_are_used_and_never_printed() {
    const TOKEN: &str = "s3cret-T0ken";
    let f = fixture();
    f.repo.publish("cfg");
    let server = HttpGit::start(&f.repo.served, Some(("alice", TOKEN)));
    let tmp = std::env::temp_dir();

    // No credentials: a clear error that names the ways to provide them.
    let env = Env::new();
    let r = env.run(&tmp, &["render", "--repo", &server.url("cfg"), "-vvv"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("KUBECTL_GITOPS_GIT_TOKEN"), "{}", r.stderr);

    // In the URL: works, and neither the output nor -vvv logs show it.
    let with_token = server.url_with(&format!("alice:{TOKEN}"), "cfg");
    let r = env.run(&tmp, &["render", "--repo", &with_token, "--path", "app", "-o", "name", "-vvv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, ONE_TWO);
    assert!(!r.all().contains(TOKEN), "token printed:\n{}", r.all());
    assert!(r.stderr.contains("http://***@127.0.0.1"), "{}", r.stderr);

    // A wrong token: refused, and not printed either.
    let wrong = server.url_with("alice:wr0ng-t0ken-value", "cfg");
    let r = env.run(&tmp, &["render", "--repo", &wrong, "-vvv"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("authentication failed"), "{}", r.stderr);
    assert!(!r.all().contains("wr0ng-t0ken-value"), "{}", r.all());

    // From the environment (a fresh cache, so it really fetches).
    let env = Env::new().set("KUBECTL_GITOPS_GIT_TOKEN", TOKEN).set("KUBECTL_GITOPS_GIT_USERNAME", "alice");
    let r = env.run(&tmp, &["render", "--repo", &server.url("cfg"), "--path", "app", "-o", "name", "-vvv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, ONE_TWO);
    assert!(!r.all().contains(TOKEN), "{}", r.all());

    // From a git credential helper in the user's git config.
    let env = Env::new();
    let helper = format!("[credential]\n\thelper = \"!f() {{ echo username=alice; echo password={TOKEN}; }}; f\"\n");
    std::fs::write(env.home.path().join(".gitconfig"), helper).unwrap();
    let r = env.run(&tmp, &["render", "--repo", &server.url("cfg"), "--path", "app", "-o", "name", "-vvv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.all().contains(TOKEN), "{}", r.all());

    // Application listings redact repoURL credentials too.
    let app = f.repo.tmp.path().join("app.yaml");
    std::fs::write(
        &app,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  source:\n    repoURL: {with_token}\n    path: app\n  destination:\n    server: https://kubernetes.default.svc\n"
        ),
    )
    .unwrap();
    for format in ["wide", "json", "yaml"] {
        let r = Env::new().run(&tmp, &["apps", "-f", app.to_str().unwrap(), "-o", format]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!r.all().contains(TOKEN), "{format}: {}", r.all());
        assert!(r.stdout.contains("http://***@127.0.0.1"), "{format}: {}", r.stdout);
    }
}

#[test]
fn escapes_from_the_repository_are_refused() {
    let repo = Repo::new();
    repo.write("app/ok.yaml", &cm("ok"));
    let clean = repo.commit("clean");
    repo.symlink("../../outside.yaml", "app/leak.yaml");
    repo.commit("leak");
    let env = Env::new();
    let tmp = std::env::temp_dir();
    let path = repo.work.to_str().unwrap();

    let r = env.run(&tmp, &["render", "--repo", path, "--path", "app"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("app/leak.yaml") && r.stderr.contains("symlink points to"), "{}", r.stderr);

    repo.run(&["rm", "-q", "app/leak.yaml"]);
    repo.symlink("/etc/passwd", "abs.yaml");
    repo.commit("absolute link");
    let r = env.run(&tmp, &["render", "--repo", path]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("abs.yaml"), "{}", r.stderr);

    for bad in ["../", "app/../../x", "/etc"] {
        let r = env.run(&tmp, &["render", "--repo", path, "--revision", &clean, "--path", bad]);
        assert_eq!(r.code, 2, "{bad}");
        assert!(r.stderr.contains("must stay inside the repository"), "{bad}: {}", r.stderr);
    }
    let r = env.run(&tmp, &["render", "--repo", path, "--revision", &clean, "--path", "nope"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("path \"nope\" does not exist"), "{}", r.stderr);

    // Links that stay inside are fine.
    let repo = Repo::new();
    repo.write("base/cm.yaml", &cm("shared"));
    repo.symlink("../base/cm.yaml", "app/cm.yaml");
    repo.commit("inside");
    let r = env.run(&tmp, &["render", "--repo", repo.work.to_str().unwrap(), "--path", "app", "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "configmap/shared\n");
}

#[test]
fn flag_combinations_are_checked() {
    let env = Env::new();
    let tmp = std::env::temp_dir();
    let r = env.run(&tmp, &["render", "--revision", "main"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("need --repo or --app"), "{}", r.stderr);
    let r = env.run(&tmp, &["render", "some-dir", "--repo", "x"]);
    assert_ne!(r.code, 0);
    let r = env.run(&tmp, &["render", "--path", "app"]);
    assert_ne!(r.code, 0);
}

#[test]
fn ssh_url_errors_do_not_show_the_password() {
    let env = Env::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ssh://git:pw-s3cret@127.0.0.1:{port}/r.git");
    let r = env.run(&std::env::temp_dir(), &["render", "--repo", &url, "-vvv"]);
    assert_eq!(r.code, 2);
    assert!(!r.all().contains("pw-s3cret"), "{}", r.all());
    assert!(r.stderr.contains(&format!("ssh://git:***@127.0.0.1:{port}/r.git")), "{}", r.stderr);
}

#[test]
fn concurrent_runs_share_one_cache() {
    let f = fixture();
    f.repo.publish("cfg");
    let server = HttpGit::start(&f.repo.served, None);
    let env = std::sync::Arc::new(Env::new());
    let url = server.url("cfg");
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let (env, url) = (env.clone(), url.clone());
            let rev = if i % 2 == 0 { "main" } else { "feature" };
            std::thread::spawn(move || {
                let r = env.run(
                    &std::env::temp_dir(),
                    &["render", "--repo", &url, "--revision", rev, "--path", "app", "-o", "name"],
                );
                (rev, r.code, r.stdout, r.stderr)
            })
        })
        .collect();
    for run in runs {
        let (rev, code, stdout, stderr) = run.join().unwrap();
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, if rev == "main" { ONE_TWO } else { ALL });
    }
    assert_eq!(names(&env, &url, &["--offline", "--revision", "v1"]).0, ONE);
}

#[test]
fn resolved_sources_expose_the_build_environment() {
    use kubectl_gitops::render::RenderOptions;
    use kubectl_gitops::source::git::{Cache, GitSpec};
    use kubectl_gitops::source::{SourceRequest, resolve};

    let f = fixture();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(cache_dir.path());
    let spec = GitSpec {
        repo: f.repo.work.display().to_string(),
        revision: "v1".into(),
        path: "app".into(),
        offline: false,
        options: Default::default(),
    };
    let r = resolve(&SourceRequest::Git(spec), RenderOptions::default(), Some(&cache)).unwrap();
    let part = &r.parts[0];
    assert_eq!(part.checkout.as_ref().unwrap().commit, f.c1);
    assert!(part.source.root().starts_with(cache_dir.path().join("trees")), "rendered from a snapshot");
    assert!(part.source.path().ends_with(format!("{}/app", f.c1)));
    let vars = part.options.build.argocd_vars();
    let get = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    assert_eq!(get("ARGOCD_APP_REVISION"), Some(f.c1.clone()));
    assert_eq!(get("ARGOCD_APP_REVISION_SHORT"), Some(f.c1[..7].to_string()));
    assert_eq!(get("ARGOCD_APP_SOURCE_PATH").as_deref(), Some("app"));
    assert_eq!(get("ARGOCD_APP_SOURCE_TARGET_REVISION").as_deref(), Some("v1"));
    assert_eq!(get("ARGOCD_APP_NAME"), None, "no Application, no app name");
    let h = part.history_source();
    assert_eq!(
        (h.revision.as_str(), h.target_revision.as_str(), h.path.as_str(), h.tool.as_str()),
        (f.c1.as_str(), "v1", "app", "Directory")
    );
}

#[test]
fn command_line_definition_is_consistent() {
    // Catches clashing flags when commands flatten the shared source flags.
    use clap::CommandFactory;
    kubectl_gitops::cli::Cli::command().debug_assert();
}

#[test]
fn a_token_as_the_url_user_name_works_and_is_not_printed() {
    const TOKEN: &str = "ghp_t0kenAsUser";
    let f = fixture();
    f.repo.publish("cfg");
    let server = HttpGit::start(&f.repo.served, Some((TOKEN, "")));
    let env = Env::new();
    let r = env.run(
        &std::env::temp_dir(),
        &["render", "--repo", &server.url_with(TOKEN, "cfg"), "--path", "app", "-o", "name", "-vvv"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, ONE_TWO);
    assert!(!r.all().contains(TOKEN), "{}", r.all());
}

#[test]
fn ssh_url_with_host_key_checking_key_files_and_ssh_agent() {
    let f = fixture();
    let bare = f.repo.publish("cfg");
    let server = git_support::SshServer::start();
    let url = server.url(&bare);
    let tmp = std::env::temp_dir();
    let ssh_dir = |env: &Env| {
        let d = env.home.path().join(".ssh");
        std::fs::create_dir_all(&d).unwrap();
        d
    };

    // An unknown host key is refused, without a prompt.
    let env = Env::new();
    std::fs::copy(&server.user_key, ssh_dir(&env).join("id_ed25519")).unwrap();
    let r = env.run(&tmp, &["render", "--repo", &url]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("hostkey"), "{}", r.stderr);

    // Known host, key in ~/.ssh: every revision kind works.
    std::fs::write(ssh_dir(&env).join("known_hosts"), &server.known_hosts_line).unwrap();
    check_revisions(&env, &url, &f);

    // Known host, no key file, the key in ssh-agent.
    let agent = git_support::SshAgent::start(&server.user_key);
    let env = Env::new().set("SSH_AUTH_SOCK", agent.socket.to_str().unwrap());
    std::fs::write(ssh_dir(&env).join("known_hosts"), &server.known_hosts_line).unwrap();
    let (out, err) = names(&env, &url, &["--revision", "feature", "-v"]);
    assert_eq!(out, ALL);
    assert!(err.contains(&f.c3), "{err}");

    // Neither: a clear error.
    let env = Env::new();
    std::fs::write(ssh_dir(&env).join("known_hosts"), &server.known_hosts_line).unwrap();
    let r = env.run(&tmp, &["render", "--repo", &url]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("authentication failed"), "{}", r.stderr);
}

/// scp-like `user@host:path` URLs cannot name a port, so this needs sshd on
/// 127.0.0.1:22; when that port is taken or not ours to bind, it says so and skips.
#[test]
fn scp_like_url_against_sshd_on_port_22() {
    if std::net::TcpListener::bind("127.0.0.1:22").is_err() {
        eprintln!("SKIPPED scp_like_url_against_sshd_on_port_22: 127.0.0.1:22 is in use or cannot be bound");
        return;
    }
    let f = fixture();
    let bare = f.repo.publish("cfg");
    let server = git_support::SshServer::start_on(22);
    let url = server.scp_url(&bare);
    let env = Env::new();
    let d = env.home.path().join(".ssh");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(&server.user_key, d.join("id_ed25519")).unwrap();
    std::fs::write(d.join("known_hosts"), &server.known_hosts_line).unwrap();
    check_revisions(&env, &url, &f);
}
