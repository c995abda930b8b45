//! `image-update` with `pull-secret: pullsecret:NS/NAME` and
//! `secret:NS/NAME#FIELD`: registry credentials read from Secrets in the
//! test cluster (`support/cluster.rs`), used only for the registry they
//! are for, never printed.

#[path = "support/cluster.rs"]
mod cluster;
mod git_support;
#[path = "support/image_fixture.rs"]
mod image_fixture;
#[path = "support/images.rs"]
mod images;
#[path = "support/registry.rs"]
mod registry;

use image_fixture::{Fixture, arg, deployment};
use images::push_simple;

/// `kubectl create secret generic NAME ARGS...` in the test's namespace.
fn secret(c: &cluster::TestCluster, name: &str, args: &[String]) {
    let mut all = vec!["-n", "image-secrets", "create", "secret", "generic", name];
    all.extend(args.iter().map(String::as_str));
    c.kubectl_ok(&all);
}

/// The arguments of a Docker config Secret holding `config`.
fn docker_config(config: &str) -> Vec<String> {
    vec!["--type=kubernetes.io/dockerconfigjson".into(), format!("--from-literal=.dockerconfigjson={config}")]
}

#[test]
fn pull_secrets_from_the_cluster() {
    let c = cluster::shared();
    c.create_namespace("image-secrets");
    let f = Fixture::new(&[("README", "x\n")]);
    let private = registry::Registry::start(Some(("ci", "p4ss-from-k8s")));
    let p = private.host.clone();
    f.repo.write("apps/web/kustomization.yaml", "resources: [deploy.yaml]\n");
    f.repo.write("apps/web/deploy.yaml", &deployment(&format!("{p}/team/web:1.0.0")));
    f.repo.commit("apps");
    f.repo.publish("config");
    push_simple(&p, "team/web", "1.0.0", "2026-01-01T00:00:00Z", Some("ci:p4ss-from-k8s"));
    push_simple(&p, "team/web", "1.4.0", "2026-02-01T00:00:00Z", Some("ci:p4ss-from-k8s"));
    let docker = format!(
        r#"{{"auths":{{"{p}":{{"username":"ci","password":"p4ss-from-k8s"}},"other.example":{{"username":"x","password":"y"}}}}}}"#
    );
    secret(c, "regcred", &docker_config(&docker));
    secret(c, "plain", &["--from-literal=creds=ci:p4ss-from-k8s".to_string()]);
    let kubeconfig = c.kubeconfig.to_str().unwrap();
    let list = format!("web={p}/team/web");
    let run = |secret: &str| {
        let app = f.app(
            "web",
            "apps/web",
            &[("image-list", &list), ("write-back-method", "git"), ("web.pull-secret", secret)],
            "",
        );
        f.run(&[
            "image-update",
            "-f",
            arg(&app),
            "--dry-run",
            "--plain-http",
            "--registry-config",
            "/nonexistent",
            "--kubeconfig",
            kubeconfig,
        ])
    };
    for secret in ["pullsecret:image-secrets/regcred", "secret:image-secrets/plain#creds"] {
        let r = run(secret);
        assert_eq!(r.code, 0, "{secret}: {}", r.all());
        assert!(r.stdout.contains("1.0.0   1.4.0"), "{secret}: {}", r.stdout);
        assert!(!r.all().contains("p4ss-from-k8s"), "{}", r.all());
    }
    // Clear errors: a missing Secret, a missing field, no entry for this registry.
    let r = run("pullsecret:image-secrets/none");
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("Secret image-secrets/none not found"), "{}", r.stderr);
    let r = run("secret:image-secrets/plain#token");
    assert!(r.stderr.contains("has no field \"token\""), "{}", r.stderr);
    let other = r#"{"auths":{"other.example":{"username":"x","password":"y"}}}"#;
    secret(c, "elsewhere", &docker_config(other));
    let r = run("pullsecret:image-secrets/elsewhere");
    assert!(r.stderr.contains(&format!("has no entry for the registry {p}")), "{}", r.stderr);
}
