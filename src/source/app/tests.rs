use std::collections::BTreeMap;
use std::path::Path;

use super::*;

const FULL: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: guestbook
  namespace: argocd
  labels: {team: a}
  finalizers: [resources-finalizer.argocd.argoproj.io]
spec:
  project: team-a
  source:
    repoURL: https://github.com/example/apps.git
    targetRevision: main
    path: guestbook
    directory:
      recurse: true
      include: '{*.yaml,*.yml}'
      exclude: 'skip/*'
      jsonnet:
        extVars: [{name: env, value: prod}, {name: replicas, value: "3", code: true}]
        tlas: [{name: tla, value: x}]
        libs: [vendor]
  destination:
    server: https://kubernetes.default.svc
    namespace: guestbook
  syncPolicy:
    automated: {prune: true, selfHeal: true, allowEmpty: false}
    syncOptions: [CreateNamespace=true, PrunePropagationPolicy=orphan, ServerSideApply=true, Validate=false]
    managedNamespaceMetadata:
      labels: {owner: a}
  ignoreDifferences:
    - group: apps
      kind: Deployment
      jsonPointers: [/spec/replicas]
    - kind: ConfigMap
      name: cfg
      jqPathExpressions: [.data.x]
      managedFieldsManagers: [kube-controller-manager]
  revisionHistoryLimit: 5
"#;

fn load_str(text: &str) -> Result<Vec<Application>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("apps.yaml");
    std::fs::write(&file, text).unwrap();
    load(&file)
}

fn one(text: &str) -> Application {
    let mut apps = load_str(text).unwrap();
    assert_eq!(apps.len(), 1);
    apps.remove(0)
}

#[test]
fn reads_every_supported_field() {
    let app = one(FULL);
    assert!(app.warnings.is_empty(), "{:?}", app.warnings);
    assert_eq!(app.name, "guestbook");
    assert_eq!(app.namespace.as_deref(), Some("argocd"));
    assert_eq!(app.project, "team-a");
    let src = app.source.as_ref().unwrap();
    assert_eq!(
        (src.repo_url.as_str(), src.target_revision.as_str(), src.path.as_str()),
        ("https://github.com/example/apps.git", "main", "guestbook")
    );
    let dir = src.directory.as_ref().unwrap();
    assert!(dir.recurse);
    assert_eq!(dir.jsonnet.ext_vars[1], JsonnetVar { name: "replicas".into(), value: "3".into(), code: true });
    assert_eq!(dir.jsonnet.libs, ["vendor"]);
    assert_eq!(dir.jsonnet.tlas.len(), 1);
    let opts = src.directory_options();
    assert!(opts.recursive);
    assert_eq!(opts.include, ["{*.yaml,*.yml}"]);
    assert_eq!(opts.exclude, ["skip/*"]);
    assert_eq!(src.explicit_tool(), Ok(Some(ExplicitTool::Directory)));
    assert_eq!(app.destination.namespace.as_deref(), Some("guestbook"));
    let sync = app.sync_policy.as_ref().unwrap();
    assert_eq!(sync.automated, Some(Automated { enabled: true, prune: true, self_heal: true, allow_empty: false }));
    assert_eq!(
        sync.sync_options,
        [
            SyncOption::CreateNamespace(true),
            SyncOption::PrunePropagationPolicy(PropagationPolicy::Orphan),
            SyncOption::ServerSideApply(true),
            SyncOption::Validate(false)
        ]
    );
    assert_eq!(sync.sync_options[1].to_string(), "PrunePropagationPolicy=orphan");
    assert_eq!(sync.managed_namespace_metadata.as_ref().unwrap().labels["owner"], "a");
    assert_eq!(app.ignore_differences.len(), 2);
    assert_eq!(app.ignore_differences[0].json_pointers, ["/spec/replicas"]);
    assert_eq!(app.ignore_differences[1].managed_fields_managers, ["kube-controller-manager"]);
    assert_eq!(app.revision_history_limit, Some(5));
    assert!(app.file.ends_with("apps.yaml:2"), "{}", app.file);
}

#[test]
fn reads_kustomize_helm_and_plugin_blocks() {
    let base = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: NAME}\nspec:\n  destination: {name: prod, namespace: web}\n  source:\n    repoURL: https://example.com/r.git\n    path: p\n";
    let k = one(&format!(
        "{}    kustomize:\n      namePrefix: pre-\n      nameSuffix: -suf\n      namespace: kns\n      images: [nginx=nginx:1.27, 'app@sha256:abc']\n      commonLabels: {{team: a}}\n      commonAnnotations: {{note: x}}\n      replicas: [{{name: web, count: 3}}, {{name: api, count: \"2\"}}]\n",
        base.replace("NAME", "k")
    ));
    let ks = k.source.unwrap().kustomize.unwrap();
    assert_eq!(
        (ks.name_prefix.as_str(), ks.name_suffix.as_str(), ks.namespace.as_deref()),
        ("pre-", "-suf", Some("kns"))
    );
    let img = |name: &str, new_name: Option<&str>, tag: Option<&str>, digest: Option<&str>| KustomizeImage {
        name: name.into(),
        new_name: new_name.map(String::from),
        new_tag: tag.map(String::from),
        digest: digest.map(String::from),
    };
    assert_eq!(
        ks.images,
        [img("nginx", Some("nginx"), Some("1.27"), None), img("app", None, None, Some("sha256:abc"))]
    );
    assert_eq!(ks.common_labels, BTreeMap::from([("team".to_string(), "a".to_string())]));
    assert_eq!(ks.common_annotations["note"], "x");
    assert_eq!(
        ks.replicas,
        [KustomizeReplica { name: "web".into(), count: 3 }, KustomizeReplica { name: "api".into(), count: 2 }]
    );

    let h = one(&format!(
        "{}    helm:\n      releaseName: rel\n      valueFiles: [values-prod.yaml]\n      values: |\n        a: 1\n      valuesObject: {{b: {{c: true}}}}\n      parameters: [{{name: image.tag, value: v2}}, {{name: count, value: \"01\", forceString: true}}]\n      fileParameters: [{{name: cfg, path: files/cfg.txt}}]\n      skipCrds: true\n",
        base.replace("NAME", "h")
    ));
    let hs = h.source.as_ref().unwrap().helm.as_ref().unwrap();
    assert_eq!(hs.release_name.as_deref(), Some("rel"));
    assert_eq!(hs.value_files, ["values-prod.yaml"]);
    assert_eq!(hs.values.as_deref(), Some("a: 1\n"));
    assert_eq!(hs.values_object.as_ref().unwrap()["b"]["c"], true);
    assert_eq!(hs.parameters[1], HelmParameter { name: "count".into(), value: "01".into(), force_string: true });
    assert_eq!(hs.file_parameters[0], HelmFileParameter { name: "cfg".into(), path: "files/cfg.txt".into() });
    assert!(hs.skip_crds);
    assert_eq!(h.source.as_ref().unwrap().tool_name(None), "Helm");
    assert_eq!(h.destination.cluster(), "prod");

    let p = one(&format!(
        "{}    plugin:\n      name: cdk8s\n      env: [{{name: FOO, value: bar}}]\n      parameters:\n        - {{name: s, string: v}}\n        - {{name: a, array: [x, z]}}\n        - {{name: m, map: {{k: v}}}}\n",
        base.replace("NAME", "p")
    ));
    let ps = p.source.as_ref().unwrap().plugin.as_ref().unwrap();
    assert_eq!(ps.name.as_deref(), Some("cdk8s"));
    assert_eq!(ps.env, [("FOO".to_string(), "bar".to_string())]);
    assert_eq!(ps.parameters[1].value, PluginValue::Array(vec!["x".into(), "z".into()]));
    assert_eq!(ps.parameters[2].value, PluginValue::Map(BTreeMap::from([("k".to_string(), "v".to_string())])));
    assert_eq!(p.source.as_ref().unwrap().tool(Path::new("/nonexistent")), Ok(None));
}

#[test]
fn unknown_and_unsupported_fields_are_named_in_warnings() {
    let text = FULL
        .replace(
            "  revisionHistoryLimit: 5\n",
            "  revisionHistoryLimit: 5\n  colour: blue\n  info: [{name: a, value: b}]\n",
        )
        .replace("    path: guestbook\n", "    path: guestbook\n    pathh: typo\n")
        .replace("CreateNamespace=true,", "CreateNamespace=true, Frobnicate=true,");
    let app = one(&text);
    let w = app.warnings.join("\n");
    assert!(w.contains("spec.colour: unknown field"), "{w}");
    assert!(w.contains("spec.source.pathh: unknown field"), "{w}");
    assert!(w.contains("spec.info: not supported yet"), "{w}");
    assert!(w.contains("spec.syncPolicy.syncOptions[1]: unknown sync option \"Frobnicate=true\""), "{w}");
    assert!(w.contains("apps.yaml:2:"), "warnings name file and line: {w}");
}

#[test]
fn invalid_fields_are_errors_naming_file_line_and_field() {
    let err = |text: String| load_str(&text).unwrap_err().to_string();
    let e = err(FULL.replace("targetRevision: main", "targetRevision: 1.10"));
    assert!(e.contains("apps.yaml:2: spec.source.targetRevision: expected a string, got a number (quote it)"), "{e}");
    let e = err(FULL.replace("recurse: true", "recurse: [x]"));
    assert!(e.contains("spec.source.directory.recurse: expected a boolean"), "{e}");
    let e = err(FULL.replace("ServerSideApply=true", "ServerSideApply=maybe"));
    assert!(e.contains("spec.syncPolicy.syncOptions[2]: ServerSideApply must be true or false"), "{e}");
    let e = err(FULL.replace("    namespace: guestbook\n", "    namespace: guestbook\n    name: prod\n"));
    assert!(e.contains("spec.destination: set either name or server"), "{e}");
    let e = err(FULL.replace("  name: guestbook\n", ""));
    assert!(e.contains("metadata.name: missing"), "{e}");
    let e = err(FULL.replace("    repoURL: https://github.com/example/apps.git\n", ""));
    assert!(e.contains("spec.source.repoURL: missing"), "{e}");
    let e = err(format!("{FULL}---\n{FULL}"));
    assert!(e.contains("duplicate Application \"guestbook\""), "{e}");
}

#[test]
fn files_directories_lists_and_selection() {
    let dir = tempfile::tempdir().unwrap();
    let app = |name: &str| FULL.replace("name: guestbook", &format!("name: {name}"));
    std::fs::write(dir.path().join("b.yaml"), format!("{}---\n{}", app("b1"), app("b2"))).unwrap();
    std::fs::write(dir.path().join("a.yml"), app("a")).unwrap();
    std::fs::write(dir.path().join("other.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let apps = load(dir.path()).unwrap();
    let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["a", "b1", "b2"]);
    let e = select(apps.clone(), None, dir.path()).unwrap_err().to_string();
    assert!(e.contains("3 Applications found (a, b1, b2); choose one with --app-name"), "{e}");
    assert_eq!(select(apps.clone(), Some("b2"), dir.path()).unwrap().name, "b2");
    assert!(select(apps, Some("zz"), dir.path()).is_err());
    let list = format!("apiVersion: v1\nkind: List\nitems:\n- {}", app("in-list").trim_start().replace('\n', "\n  "));
    assert_eq!(one(&list).name, "in-list");
    assert!(load_str("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").is_err());
}

#[test]
fn tool_detection_follows_argo_cd_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = AppSource { repo_url: "r".into(), ..Default::default() };
    assert_eq!(src.tool(d), Ok(Some(Tool::Directory)));
    std::fs::write(d.join("main.jsonnet"), "{}").unwrap();
    assert_eq!(src.tool(d), Ok(Some(Tool::Jsonnet)));
    std::fs::write(d.join("Chart.yaml"), "name: c").unwrap();
    assert_eq!(src.tool(d), Ok(Some(Tool::Helm)));
    std::fs::write(d.join("kustomization.yaml"), "resources: []").unwrap();
    assert_eq!(src.tool(d), Ok(Some(Tool::Kustomize)));
    let explicit = AppSource { directory: Some(DirectorySpec::default()), ..src.clone() };
    assert_eq!(explicit.tool(d), Ok(Some(Tool::Jsonnet)), "a directory block evaluates jsonnet files");
    let both = AppSource { helm: Some(HelmSpec::default()), ..explicit };
    assert!(both.explicit_tool().unwrap_err().contains("multiple tool blocks"));
}

#[test]
fn kustomize_image_overrides_parse_like_kustomize_edit_set_image() {
    let p = |s: &str| KustomizeImage::parse(s).unwrap();
    assert_eq!(
        p("node:8.15.0"),
        KustomizeImage { name: "node".into(), new_tag: Some("8.15.0".into()), ..Default::default() }
    );
    assert_eq!(
        p("mysql=mariadb"),
        KustomizeImage { name: "mysql".into(), new_name: Some("mariadb".into()), ..Default::default() }
    );
    let reg = p("postgres=registry:5000/my/postgres:latest");
    assert_eq!((reg.new_name.as_deref(), reg.new_tag.as_deref()), (Some("registry:5000/my/postgres"), Some("latest")));
    let untagged = p("app=registry:5000/app");
    assert_eq!((untagged.new_name.as_deref(), untagged.new_tag), (Some("registry:5000/app"), None));
    assert_eq!(p("alpine@sha256:24a0").digest.as_deref(), Some("sha256:24a0"));
    assert!(KustomizeImage::parse("justaname").is_err());
    let text = FULL.replace("    directory:\n", "    kustomize:\n      images: ['ok:1', 'bad']\n    directory:\n");
    let e = load_str(&text).unwrap_err().to_string();
    assert!(e.contains("spec.source.kustomize.images[1]: \"bad\" is not an image override"), "{e}");
}

#[test]
fn helm_blocks_become_helm_arguments() {
    let param = |name: &str, value: &str, force_string: bool| HelmParameter {
        name: name.into(),
        value: value.into(),
        force_string,
    };
    let spec = HelmSpec {
        parameters: vec![
            param("a", "1,2", false),
            param("list", "{x,y}", false),
            param("esc", "p\\,q", true),
            param("a", "3", false),
        ],
        file_parameters: vec![HelmFileParameter { name: "cfg".into(), path: "files/c.txt".into() }],
        values: Some("replicas: 2\nenabled: yes\n".into()),
        ..Default::default()
    };
    let args = spec.set_args();
    assert_eq!(args.set, ["list={x,y}", "a=3"]);
    assert_eq!(args.set_string, ["esc=p\\,q"]);
    assert_eq!(args.set_file, ["cfg=files/c.txt"]);
    let values = spec.inline_values().unwrap().unwrap();
    assert_eq!(values["replicas"], 2);
    assert_eq!(values["enabled"], true);
    let with_object = HelmSpec { values_object: Some(serde_json::json!({"o": 1})), ..spec.clone() };
    assert_eq!(with_object.inline_values().unwrap().unwrap()["o"], 1, "valuesObject wins over values");
    let escaped = HelmSpec { parameters: vec![param("k", "a,b", false)], ..Default::default() };
    assert_eq!(escaped.set_args().set, ["k=a\\,b"]);
    assert!(HelmSpec { values: Some("- a list".into()), ..Default::default() }.inline_values().is_err());
}

#[test]
fn plugin_blocks_become_plugin_environment() {
    let spec = PluginSpec {
        name: Some("cdk8s".into()),
        env: vec![("FOO".into(), "bar".into())],
        parameters: vec![
            PluginParameter { name: "image-tag".into(), value: PluginValue::String("v1".into()) },
            PluginParameter { name: "hosts".into(), value: PluginValue::Array(vec!["a".into(), "b".into()]) },
            PluginParameter {
                name: "labels".into(),
                value: PluginValue::Map(BTreeMap::from([("team.io/owner".to_string(), "x".to_string())])),
            },
        ],
    };
    let env = spec.plugin_env();
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("ARGOCD_ENV_FOO"), Some("bar"));
    assert_eq!(get("PARAM_IMAGE_TAG"), Some("v1"));
    assert_eq!(get("PARAM_HOSTS_1"), Some("b"));
    assert_eq!(get("PARAM_LABELS_TEAM_IO_OWNER"), Some("x"));
    let params: serde_json::Value = serde_json::from_str(get("ARGOCD_APP_PARAMETERS").unwrap()).unwrap();
    assert_eq!(params[0], serde_json::json!({"name": "image-tag", "string": "v1"}));
    assert_eq!(params[1]["array"], serde_json::json!(["a", "b"]));
}

#[test]
fn annotations_are_kept_when_strings() {
    let app = one(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n  annotations:\n    argocd-image-updater.argoproj.io/image-list: nginx\n    argocd.argoproj.io/sync-wave: 1\nspec:\n  source: {repoURL: r, path: p}\n  destination: {namespace: d}\n",
    );
    assert_eq!(app.annotations.len(), 1);
    assert_eq!(app.annotations["argocd-image-updater.argoproj.io/image-list"], "nginx");
    assert!(app.warnings.iter().any(|w| w.contains("sync-wave") && w.contains("not a string")), "{:?}", app.warnings);
}
