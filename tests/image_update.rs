//! `kubectl gitops image-update`: Applications with Argo CD Image Updater
//! annotations, a registry on 127.0.0.1 (docker-registry, images pushed by
//! skopeo: `support/images.rs`) and a git server on 127.0.0.1 (`git
//! http-backend` with basic auth: `git_support`). Covered: the three
//! write-back targets, Helm and Kustomize override files, branch templates,
//! a no-op run (no commit), a push race (the server takes another commit
//! first and refuses ours once), an unreachable registry (nothing written),
//! credentials from the Docker config and `pull-secret: env:VAR`.

mod git_support;
#[path = "support/images.rs"]
mod images;
#[path = "support/registry.rs"]
mod registry;

#[path = "support/image_fixture.rs"]
mod image_fixture;

use git_support::Env;
use image_fixture::{Fixture, PREFIX, arg, deployment, push_tags};
use images::push_simple;

#[test]
fn kustomize_override_file_dry_run_push_and_no_op() {
    let f = Fixture::new(&[("README", "config\n")]);
    let h = f.reg.host.clone();
    f.repo.write("apps/web/kustomization.yaml", "resources: [deploy.yaml]\n");
    f.repo.write("apps/web/deploy.yaml", &deployment(&format!("{h}/team/web:1.0.0")));
    f.repo.commit("web");
    f.repo.publish("config");
    push_tags(
        &h,
        "team/web",
        &[("1.0.0", "2026-01-01T00:00:00Z"), ("1.0.5", "2026-02-01T00:00:00Z"), ("1.1.0", "2026-03-01T00:00:00Z")],
    );
    let image_list = format!("web={h}/team/web:~1.0");
    let app = f.app("web", "apps/web", &[("image-list", &image_list), ("write-back-method", "git")], "");
    let before = f.served(&["rev-parse", "main"]);
    // --dry-run: the table and the new file's diff; nothing written.
    let r = f.run(&["image-update", "-f", arg(&app), "--dry-run", "--plain-http"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("APP") && r.stdout.contains("web   web     1.0.0   1.0.5   apps/web/.argocd-source-web.yaml"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!("+  - {h}/team/web:1.0.5")), "{}", r.stdout);
    assert_eq!(f.served(&["rev-parse", "main"]), before);
    // --push: one commit with Image Updater's message and author.
    let r = f.run(&["image-update", "-f", arg(&app), "--push", "--plain-http"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("web: pushed"), "{}", r.stderr);
    assert_eq!(
        f.show("main:apps/web/.argocd-source-web.yaml"),
        format!("kustomize:\n  images:\n  - {h}/team/web:1.0.5")
    );
    assert_eq!(
        f.served(&["log", "-1", "--format=%an <%ae>%n%B", "main"]),
        "argocd-image-updater <noreply@argoproj.io>\nbuild: automatic update of web\n\nupdates image team/web tag '1.0.0' to '1.0.5'"
    );
    assert_eq!(f.served(&["rev-parse", "main~1"]), before);
    // The pushed override is what render shows now.
    let r = f.run(&["render", "-f", arg(&app), "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(&format!("\"{h}/team/web:1.0.5\"")), "{}", r.stdout);
    // Again: up to date, no commit.
    let head = f.served(&["rev-parse", "main"]);
    let r = f.run(&["image-update", "-f", arg(&app), "--push", "--plain-http"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("web: up to date") && r.stderr.contains("already at 1.0.5"), "{}", r.stderr);
    assert_eq!(f.served(&["rev-parse", "main"]), head);
}

#[test]
fn helm_override_parameters_with_aliases_and_newest_build() {
    let f = Fixture::new(&[("README", "x\n")]);
    let h = f.reg.host.clone();
    f.repo.write("chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n");
    f.repo.write(
        "chart/values.yaml",
        &format!(
            "image:\n  name: {h}/team/web\n  tag: \"1.0.0\"\nworker:\n  repository: {h}/team/worker\n  version: a1\n"
        ),
    );
    f.repo.write(
        "chart/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: {{ .Values.image.name }}:{{ .Values.image.tag }}\n      - name: worker\n        image: {{ .Values.worker.repository }}:{{ .Values.worker.version }}\n",
    );
    f.repo.commit("chart");
    f.repo.publish("config");
    push_tags(
        &h,
        "team/web",
        &[("1.0.0", "2026-01-01T00:00:00Z"), ("1.2.0", "2026-02-01T00:00:00Z"), ("2.0.0-rc.1", "2026-03-01T00:00:00Z")],
    );
    push_tags(
        &h,
        "team/worker",
        &[
            ("a1", "2026-01-01T00:00:00Z"),
            ("c3", "2026-03-01T00:00:00Z"),
            ("b2", "2026-02-01T00:00:00Z"),
            ("z9-dev", "2026-04-01T00:00:00Z"),
        ],
    );
    let list = format!("{h}/team/web:1.x, worker={h}/team/worker");
    let app = f.app(
        "shop",
        "chart",
        &[
            ("image-list", &list),
            ("write-back-method", "git:repocreds"),
            ("worker.update-strategy", "latest"),
            ("worker.ignore-tags", "*-dev"),
            ("worker.helm.image-name", "worker.repository"),
            ("worker.helm.image-tag", "worker.version"),
        ],
        "    helm:\n      parameters:\n      - name: replicas\n        value: \"2\"\n",
    );
    let r = f.run(&["image-update", "-f", arg(&app), "--push", "--insecure-registry", &h]);
    assert_eq!(r.code, 0, "{}", r.all());
    // The Application's own parameters are kept (a list in an override replaces the Application's).
    assert_eq!(
        f.show("main:chart/.argocd-source-shop.yaml"),
        format!(
            "helm:\n  parameters:\n  - name: replicas\n    value: \"2\"\n    forcestring: false\n  - name: image.name\n    value: {h}/team/web\n    forcestring: true\n  - name: image.tag\n    value: 1.2.0\n    forcestring: true\n  - name: worker.repository\n    value: {h}/team/worker\n    forcestring: true\n  - name: worker.version\n    value: c3\n    forcestring: true"
        )
    );
    let msg = f.served(&["log", "-1", "--format=%B", "main"]);
    assert!(
        msg.contains("updates image team/web tag '1.0.0' to '1.2.0'")
            && msg.contains("updates image team/worker tag 'a1' to 'c3'"),
        "{msg}"
    );
    let r = f.run(&["render", "-f", arg(&app)]);
    assert!(
        r.stdout.contains(&format!("image: {h}/team/web:1.2.0"))
            && r.stdout.contains(&format!("image: {h}/team/worker:c3")),
        "{}",
        r.all()
    );
}

#[test]
fn kustomization_target_on_a_templated_branch() {
    let f = Fixture::new(&[("README", "x\n")]);
    let h = f.reg.host.clone();
    let kust = "# overlay\nresources:\n- ../base # shared\nimages:\n- name: web\n  newTag: 1.0.0\n# end\n";
    f.repo.write("base/kustomization.yaml", "resources: [deploy.yaml]\n");
    f.repo.write("base/deploy.yaml", &deployment("web:latest"));
    f.repo.write("overlay/kustomization.yaml", kust);
    f.repo.commit("overlay");
    f.repo.publish("config");
    push_tags(&h, "team/web", &[("1.0.0", "2026-01-01T00:00:00Z"), ("1.3.0", "2026-02-01T00:00:00Z")]);
    let list = format!("w={h}/team/web");
    let app = f.app(
        "web",
        "overlay",
        &[
            ("image-list", &list),
            ("write-back-method", "git"),
            ("write-back-target", "kustomization"),
            ("w.kustomize.image-name", "web"),
            ("git-branch", "main:image-updater-{{range .Images}}{{.Alias}}-{{.NewTag}}{{end}}-{{.SHA256}}"),
        ],
        "",
    );
    let main = f.served(&["rev-parse", "main"]);
    let r = f.run(&[
        "image-update",
        "-f",
        arg(&app),
        "--push",
        "--plain-http",
        "--git-commit-user",
        "ci",
        "--git-commit-email",
        "ci@example.com",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(b"team/web-1.0.0-1.3.0,").iter().map(|b| format!("{b:02x}")).collect();
    let branch = format!("image-updater-w-1.3.0-{sha}");
    assert_eq!(f.served(&["rev-parse", "main"]), main, "main is untouched");
    assert_eq!(f.served(&["rev-parse", &format!("{branch}~1")]), main, "the branch starts at main");
    assert_eq!(
        f.show(&format!("{branch}:overlay/kustomization.yaml")),
        format!(
            "# overlay\nresources:\n- ../base # shared\nimages:\n- name: web\n  newName: {h}/team/web\n  newTag: 1.3.0\n# end"
        )
    );
    assert_eq!(f.served(&["log", "-1", "--format=%an <%ae>", &branch]), "ci <ci@example.com>");
}

#[test]
fn helm_values_target_with_the_digest_strategy() {
    let f = Fixture::new(&[("README", "x\n")]);
    let h = f.reg.host.clone();
    let values = format!("# defaults\nimage:\n  repository: {h}/team/web # pinned\n  tag: stable\nreplicas: 1\n");
    f.repo.write("chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n");
    f.repo.write("chart/values.yaml", &values);
    f.repo.write(
        "chart/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n",
    );
    f.repo.commit("chart");
    f.repo.publish("config");
    let digest = push_simple(&h, "team/web", "stable", "2026-01-01T00:00:00Z", None);
    let list = format!("web={h}/team/web:stable");
    let app = f.app(
        "web",
        "chart",
        &[
            ("image-list", &list),
            ("write-back-method", "git"),
            ("write-back-target", "helmvalues:values.yaml"),
            ("web.update-strategy", "digest"),
            ("web.helm.image-name", "image.repository"),
            ("web.helm.image-tag", "image.tag"),
        ],
        "",
    );
    let r = f.run(&["image-update", "-f", arg(&app), "--push", "--plain-http"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        f.show("main:chart/values.yaml"),
        format!("# defaults\nimage:\n  repository: {h}/team/web # pinned\n  tag: stable@{digest}\nreplicas: 1")
    );
    // Same digest: nothing to do. A new push of the tag: a new digest.
    let head = f.served(&["rev-parse", "main"]);
    let r = f.run(&["image-update", "-f", arg(&app), "--push", "--plain-http"]);
    assert!(r.stderr.contains("web: up to date"), "{}", r.all());
    assert_eq!(f.served(&["rev-parse", "main"]), head);
    let newer = push_simple(&h, "team/web", "stable", "2026-02-01T00:00:00Z", None);
    let r = f.run(&["image-update", "-f", arg(&app), "--push", "--plain-http"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(f.show("main:chart/values.yaml").contains(&format!("tag: stable@{newer}")));
}

/// The server accepts another commit first and refuses our first push; the
/// run fetches the new head and pushes again on top of it.
#[test]
fn a_rejected_push_is_retried_on_the_new_head() {
    let f = Fixture::new(&[("README", "x\n")]);
    let h = f.reg.host.clone();
    f.repo.write("apps/web/kustomization.yaml", "resources: [deploy.yaml]\n");
    f.repo.write("apps/web/deploy.yaml", &deployment(&format!("{h}/team/web:1.0.0")));
    f.repo.commit("web");
    f.repo.publish("config");
    push_tags(&h, "team/web", &[("1.0.0", "2026-01-01T00:00:00Z"), ("1.1.0", "2026-02-01T00:00:00Z")]);
    // A pre-receive hook that, once, commits on main itself and declines the push.
    let marker = f.repo.tmp.path().join("raced");
    let hook = f.bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\ncat >/dev/null\n[ -e '{m}' ] && exit 0\ntouch '{m}'\nunset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\nexport GIT_AUTHOR_NAME=other GIT_AUTHOR_EMAIL=o@example.com GIT_COMMITTER_NAME=other GIT_COMMITTER_EMAIL=o@example.com\nc=$(git commit-tree 'main^{{tree}}' -p main -m 'someone else')\ngit update-ref refs/heads/main \"$c\"\necho 'someone pushed first' >&2\nexit 1\n",
            m = marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let list = format!("{h}/team/web");
    let app = f.app("web", "apps/web", &[("image-list", &list), ("write-back-method", "git")], "");
    let r = f.run(&["image-update", "-f", arg(&app), "--push", "--plain-http"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(marker.exists(), "the hook ran");
    assert!(r.stderr.contains("(attempt 2)"), "{}", r.stderr);
    assert_eq!(f.served(&["log", "--format=%s", "-3", "main"]), "build: automatic update of web\nsomeone else\nweb");
    // Bounded: a server that always declines ends in an error after --push-attempts.
    std::fs::write(&hook, "#!/bin/sh\ncat >/dev/null\nexit 1\n").unwrap();
    push_tags(&h, "team/web", &[("1.2.0", "2026-03-01T00:00:00Z")]);
    let list = format!("{h}/team/web");
    let app = f.app("web", "apps/web", &[("image-list", &list), ("write-back-method", "git")], "");
    let head = f.served(&["rev-parse", "main"]);
    let r = f.run(&["image-update", "-f", arg(&app), "--push", "--plain-http", "--push-attempts", "2"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("rejected 2 times"), "{}", r.stderr);
    assert_eq!(f.served(&["rev-parse", "main"]), head);
}

#[test]
fn registry_errors_and_credentials() {
    let f = Fixture::new(&[("README", "x\n")]);
    let private = registry::Registry::start(Some(("ci", "p4ss")));
    let p = private.host.clone();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    f.repo.write("apps/web/kustomization.yaml", "resources: [deploy.yaml]\n");
    f.repo.write("apps/web/deploy.yaml", &deployment(&format!("{p}/team/web:1.0.0")));
    f.repo.write("apps/gone/kustomization.yaml", "resources: [deploy.yaml]\n");
    f.repo.write("apps/gone/deploy.yaml", &deployment(&format!("127.0.0.1:{closed}/team/web:1.0.0")));
    f.repo.commit("apps");
    f.repo.publish("config");
    push_simple(&p, "team/web", "1.0.0", "2026-01-01T00:00:00Z", Some("ci:p4ss"));
    push_simple(&p, "team/web", "1.4.0", "2026-02-01T00:00:00Z", Some("ci:p4ss"));
    let head = f.served(&["rev-parse", "main"]);
    // Unreachable: the app's error names the registry; nothing is written.
    let gone = format!("127.0.0.1:{closed}/team/web");
    let app = f.app("gone", "apps/gone", &[("image-list", &gone), ("write-back-method", "git")], "");
    let r = f.run(&["image-update", "-f", arg(&app), "--push", "--plain-http"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("error: app gone") && r.stderr.contains(&format!("127.0.0.1:{closed}")), "{}", r.stderr);
    assert_eq!(f.served(&["rev-parse", "main"]), head);
    // Basic auth: without credentials a 401; with the Docker config, or pull-secret env:VAR.
    let list = format!("web={p}/team/web");
    let app = f.app("web", "apps/web", &[("image-list", &list), ("write-back-method", "git")], "");
    let config = f.repo.tmp.path().join("docker.json");
    std::fs::write(&config, "{}").unwrap();
    let r = f.run(&["image-update", "-f", arg(&app), "--dry-run", "--plain-http", "--registry-config", arg(&config)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("401"), "{}", r.stderr);
    std::fs::write(&config, format!(r#"{{"auths": {{"{p}": {{"username": "ci", "password": "p4ss"}}}}}}"#)).unwrap();
    let r = f.run(&["image-update", "-f", arg(&app), "--dry-run", "--plain-http", "--registry-config", arg(&config)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1.0.0   1.4.0"), "{}", r.stdout);
    assert!(!r.all().contains("p4ss"));
    let app = f.app(
        "web",
        "apps/web",
        &[("image-list", &list), ("write-back-method", "git"), ("web.pull-secret", "env:REG_CREDS")],
        "",
    );
    let env = Env::new().set("REG_CREDS", "ci:p4ss");
    let r = env.run(
        f.repo.tmp.path(),
        &["image-update", "-f", arg(&app), "--dry-run", "--plain-http", "--registry-config", "/nonexistent"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1.0.0   1.4.0"), "{}", r.stdout);
    // A bad annotation: the file and the annotation in the message, exit 2.
    let app = f.app(
        "web",
        "apps/web",
        &[("image-list", &list), ("write-back-method", "git"), ("web.update-strategy", "newest")],
        "",
    );
    let r = f.run(&["image-update", "-f", arg(&app), "--dry-run", "--plain-http"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("web.yaml") && r.stderr.contains(&format!("{PREFIX}/web.update-strategy")),
        "{}",
        r.stderr
    );
    assert_eq!(f.served(&["rev-parse", "main"]), head);
}
