//! Kustomize sources through the CLI, refused fields and paths, and a
//! differential test against `kubectl kustomize` (kustomize v5.5) on
//! generated overlays.

mod common;

use std::fmt::Write as _;
use std::process::Command;

use common::{run, tree};
use kubectl_gitops::render::kustomize::{BuildOptions, build};
use kubectl_gitops::source::LocalSource;
use kubectl_gitops::yaml::{Dialect, parse_stream};
use serde_json::Value;

/// A small deterministic generator (xorshift), so cases are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A base of workloads, services and config plus two overlay layers using
/// prefix/suffix, namespace, labels, annotations, generators (merge and
/// create), images, replicas, strategic merge and JSON patches.
fn generated_overlay(seed: u64) -> Vec<(String, String)> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut files = Vec::new();
    let n = 3 + rng.next(4) as usize;
    let mut base = String::new();
    for i in 0..n {
        let img = ["nginx:1.25", "busybox", "registry.example.com/team/app:v1"][rng.next(3) as usize];
        let _ = write!(
            base,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\n  labels: {{app: app{i}}}\nspec:\n  replicas: {r}\n  selector:\n    matchLabels: {{app: app{i}}}\n  template:\n    metadata:\n      labels: {{app: app{i}}}\n    spec:\n      serviceAccountName: sa\n      containers:\n      - name: main\n        image: {img}\n        envFrom:\n        - configMapRef: {{name: settings}}\n        volumeMounts:\n        - {{name: creds, mountPath: /creds}}\n      - name: sidecar\n        image: busybox:1.36\n      volumes:\n      - name: creds\n        secret: {{secretName: creds}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app{i}\nspec:\n  selector: {{app: app{i}}}\n  ports:\n  - port: 80\n    targetPort: {p}\n",
            r = 1 + rng.next(3),
            p = 8000 + rng.next(100)
        );
    }
    base.push_str("---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: sa-view\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- {kind: ServiceAccount, name: sa}\n");
    files.push(("base/resources.yaml".to_string(), base));
    files.push((
        "base/kustomization.yaml".into(),
        "resources: [resources.yaml]\nconfigMapGenerator:\n- name: settings\n  literals: [MODE=base, LEVEL=1]\nsecretGenerator:\n- name: creds\n  literals: [password=s3cret]\ncommonLabels:\n  team: core\n".into(),
    ));
    let target = rng.next(n as u64);
    files.push((
        "mid/kustomization.yaml".into(),
        format!(
            "resources: [../base]\nnamePrefix: mid-\nlabels:\n- pairs: {{tier: web}}\n  includeSelectors: false\n  includeTemplates: true\ncommonAnnotations:\n  owner: team-{seed}\nimages:\n- name: busybox\n  newTag: \"1.37\"\nreplicas:\n- name: app{target}\n  count: {c}\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: app{target}\n    spec:\n      template:\n        spec:\n          containers:\n          - name: main\n            env:\n            - {{name: EXTRA, value: \"yes\"}}\n          - name: debug\n            image: busybox\n- target: {{kind: Service}}\n  patch: |-\n    - op: add\n      path: /metadata/annotations/patched\n      value: \"true\"\n",
            c = 2 + rng.next(5)
        ),
    ));
    files.push((
        "overlay/kustomization.yaml".into(),
        format!(
            "resources: [../mid]\nnamespace: ns-{seed}\nnameSuffix: -v{s}\nconfigMapGenerator:\n- name: settings\n  behavior: merge\n  literals: [MODE=prod]\n- name: extra\n  files: [app.properties]\nimages:\n- name: nginx\n  newName: mirror.example.com/nginx\n  digest: sha256:{d:064x}\npatches:\n- target: {{kind: Deployment, name: \"mid-app.*\"}}\n  patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: any\n    spec:\n      template:\n        spec:\n          containers:\n          - name: sidecar\n            $patch: delete\n",
            s = rng.next(9),
            d = rng.next(u64::MAX)
        ),
    ));
    files.push(("overlay/app.properties".into(), format!("color=blue\nsize={}\n", rng.next(100))));
    files
}

/// Components, replacements, `patchesStrategicMerge`, `patchesJson6902`,
/// generator `replace`, env files and `labels` with selectors.
fn component_overlay(seed: u64) -> Vec<(String, String)> {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
    let port = 8000 + rng.next(1000);
    vec![
        (
            "base/app.yaml".into(),
            format!(
                "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: db\n  selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: db}}\n    spec:\n      containers:\n      - name: db\n        image: postgres:16\n        ports:\n        - {{containerPort: {port}, name: sql}}\n        env:\n        - name: PGPORT\n          value: \"0\"\n        - name: PASSWORD\n          valueFrom:\n            secretKeyRef: {{name: db-secret, key: password}}\n  volumeClaimTemplates:\n  - metadata: {{name: data}}\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources: {{requests: {{storage: 1Gi}}}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  selector: {{app: db}}\n  ports:\n  - port: {port}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: db\nspec:\n  podSelector:\n    matchLabels: {{app: db}}\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels: {{role: client}}\n"
            ),
        ),
        ("base/db.env".into(), format!("# settings\nMAX_CONN={}\nLOG=verbose\n", 10 + rng.next(90))),
        (
            "base/kustomization.yaml".into(),
            "resources: [app.yaml]\nsecretGenerator:\n- name: db-secret\n  envs: [db.env]\n  literals: [password=one]\n".into(),
        ),
        (
            "comp/kustomization.yaml".into(),
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n- pairs: {monitored: \"true\"}\n  includeSelectors: true\npatchesStrategicMerge:\n- |-\n  apiVersion: apps/v1\n  kind: StatefulSet\n  metadata:\n    name: db\n  spec:\n    template:\n      spec:\n        containers:\n        - name: exporter\n          image: exporter:1\n".into(),
        ),
        ("overlay/port.yaml".into(), "- op: replace\n  path: /spec/serviceName\n  value: db-headless\n".into()),
        (
            "overlay/kustomization.yaml".into(),
            format!(
                "resources: [../base]\ncomponents: [../comp]\nnamePrefix: p{seed}-\nnamespace: data\nsecretGenerator:\n- name: db-secret\n  behavior: replace\n  literals: [password=two]\npatchesJson6902:\n- target: {{group: apps, version: v1, kind: StatefulSet, name: db}}\n  path: port.yaml\nreplacements:\n- source: {{kind: Service, name: db, fieldPath: spec.ports.0.port}}\n  targets:\n  - select: {{kind: StatefulSet}}\n    fieldPaths:\n    - spec.template.spec.containers.[name=db].env.[name=PGPORT].value\n- source: {{kind: StatefulSet, fieldPath: metadata.name}}\n  targets:\n  - select: {{kind: Service}}\n    fieldPaths: [metadata.annotations.backend]\n    options: {{create: true}}\n"
            ),
        ),
    ]
}

/// `vars` and `configurations`: a base with a custom resource whose fields
/// a configuration file opens to var references, name references, labels
/// and the name prefix; vars (string, number, missing, escaped) read after
/// the overlay's prefix; an overlay var on a generated ConfigMap.
fn vars_overlay(seed: u64) -> Vec<(String, String)> {
    let mut rng = Rng(seed.wrapping_mul(0x5851_F42D_4C95_7F2D) | 1);
    let port = 8000 + rng.next(1000);
    vec![
        (
            "base/kustomization.yaml".into(),
            "resources: [app.yaml]\nconfigurations: [cfg.yaml]\nvars:\n- name: SVC\n  objref: {kind: Service, name: web, apiVersion: v1}\n- name: PORT\n  objref: {kind: Service, name: web, apiVersion: v1}\n  fieldref:\n    fieldpath: spec.ports[0].port\n- name: CFG\n  objref: {kind: ConfigMap, name: settings, apiVersion: v1}\n  fieldref: {fieldPath: data.mode}\n- name: CRNAME\n  objref: {kind: Widget, name: w1, apiVersion: ex.com/v1}\n".into(),
        ),
        (
            "base/cfg.yaml".into(),
            "varReference:\n- kind: Widget\n  path: spec/endpoint\n- kind: Widget\n  path: spec/args\nnameReference:\n- kind: ConfigMap\n  version: v1\n  fieldSpecs:\n  - kind: Widget\n    path: spec/configName\ncommonLabels:\n- kind: Widget\n  path: spec/selector\n  create: true\nnamePrefix:\n- kind: Widget\n  path: spec/alias\n".into(),
        ),
        (
            "base/app.yaml".into(),
            format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec:\n  ports: [{{port: {port}}}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{mode: m{m}}}\n---\napiVersion: ex.com/v1\nkind: Widget\nmetadata: {{name: w1}}\nspec:\n  alias: w1alias\n  configName: settings\n  endpoint: \"http://$(SVC):$(PORT)/$(CFG)\"\n  args: [\"$(PORT)\", \"$$(SVC)\", \"$(NOPE)\", \"cost $5\", \"$(CRNAME)\"]\n  port: $(PORT)\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  template:\n    metadata:\n      annotations: {{a: \"$(SVC)\"}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n        command: [\"run\", \"--port=$(PORT)\"]\n        env:\n        - {{name: P, value: \"$(PORT)\"}}\n        - {{name: S, value: \"$(SVC).svc\"}}\n        - {{name: E, value: \"$(EXTRA)\"}}\n",
                m = rng.next(100)
            ),
        ),
        (
            "comp/kustomization.yaml".into(),
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [knobs.yaml]\nvars:\n- name: RATIO\n  objref: {kind: Knobs, name: knobs, apiVersion: ex.com/v1}\n  fieldref: {fieldPath: spec.ratio}\n- name: FLAG\n  objref: {kind: Knobs, name: knobs, apiVersion: ex.com/v1}\n  fieldref: {fieldPath: spec.flag}\n- name: TREE\n  objref: {kind: Knobs, name: knobs, apiVersion: ex.com/v1}\n  fieldref: {fieldPath: spec}\n".into(),
        ),
        (
            "comp/knobs.yaml".into(),
            format!(
                "apiVersion: ex.com/v1\nkind: Knobs\nmetadata:\n  name: knobs\n  labels: {{ratio: \"r$(RATIO)\", flag: \"$(FLAG)\", whole: \"$(RATIO)\", tree: \"$(TREE)\"}}\n  annotations: {{ratio: \"$(RATIO)\", flag: \"$(FLAG)\"}}\nspec: {{ratio: 0.{r}5, flag: true}}\n",
                r = rng.next(10)
            ),
        ),
        (
            "overlay/kustomization.yaml".into(),
            format!(
                "resources: [../base]\ncomponents: [../comp]\nnamePrefix: o{seed}-\ncommonLabels: {{tier: web}}\nconfigMapGenerator:\n- name: extra\n  literals: [k=v{v}]\nvars:\n- name: EXTRA\n  objref: {{kind: ConfigMap, name: extra, apiVersion: v1}}\n",
                v = rng.next(100)
            ),
        ),
    ]
}

/// `openapi` and `crds`: a component's custom schema gives a custom kind
/// merge keys (and, through a `$ref`, built-in ones when kustomize had read
/// the built-in schema first: odd seeds patch in the base first, even ones
/// load the custom resource only in the component, after the schema is
/// set, so built-in kinds lose their merge keys); a base's CRD definitions
/// make a custom kind's field a ConfigMap name reference.
fn schema_overlay(seed: u64) -> Vec<(String, String)> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let base_patch = if seed % 2 == 1 {
        "patches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: d}\n    spec:\n      template:\n        spec:\n          containers:\n          - {name: side, image: side2}\n"
    } else {
        ""
    };
    let thing = if seed % 2 == 1 { "---\n" } else { "" };
    let mut app = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  template:\n    spec:\n      containers:\n      - {{name: main, image: m, args: [x]}}\n      - {{name: side, image: s}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{k: v{v}}}\n",
        v = rng.next(100)
    );
    let thing_doc = "apiVersion: ex.com/v1\nkind: Thing\nmetadata: {name: t}\nspec:\n  cfgRef: {name: settings}\n  items: [{name: a, v: 1}, {name: b, v: 2}]\n  template:\n    spec:\n      containers: [{name: main, image: x, args: [y]}, {name: side}]\n";
    let comp_res = if thing.is_empty() {
        "resources: [thing.yaml]\n"
    } else {
        app.push_str(thing);
        app.push_str(thing_doc);
        ""
    };
    let schema = r##"{"definitions": {"ex.v1.Thing": {"properties": {"spec": {"properties": {
  "items": {"type": "array", "items": {"type": "object"}, "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name"},
  "template": {"$ref": "#/definitions/io.k8s.api.core.v1.PodTemplateSpec"}}}},
  "x-kubernetes-group-version-kind": [{"group": "ex.com", "version": "v1", "kind": "Thing"}]}}}"##;
    vec![
        ("base/kustomization.yaml".into(), format!("resources: [app.yaml]\ncrds: [crd.yaml]\n{base_patch}")),
        ("base/app.yaml".into(), app),
        (
            "base/crd.yaml".into(),
            "ex.com/v1.Thing:\n  Schema:\n    properties:\n      apiVersion: {}\n      kind: {}\n      metadata: {}\n      spec: {$ref: ex.com/v1.ThingSpec}\nex.com/v1.ThingSpec:\n  Schema:\n    properties:\n      cfgRef: {x-kubernetes-object-ref-api-version: v1, x-kubernetes-object-ref-kind: ConfigMap}\n".into(),
        ),
        ("comp/schema.json".into(), schema.into()),
        (
            "comp/kustomization.yaml".into(),
            format!("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nopenapi: {{path: schema.json}}\n{comp_res}patches:") + "\n- patch: |-\n    apiVersion: ex.com/v1\n    kind: Thing\n    metadata: {name: t}\n    spec:\n      items: [{name: a, v: 9}]\n      template:\n        spec:\n          containers: [{name: main, image: x2}]\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: d}\n    spec:\n      template:\n        spec:\n          containers: [{name: main, image: m2}]\n",
        ),
        ("comp/thing.yaml".into(), thing_doc.into()),
        (
            "overlay/kustomization.yaml".into(),
            format!("resources: [../base]\ncomponents: [../comp]\nnamePrefix: o{seed}-\nconfigMapGenerator:\n- name: settings\n  behavior: merge\n  literals: [n=1]\n"),
        ),
    ]
}

fn docs(text: &str) -> Vec<Value> {
    parse_stream(text, Dialect::Kustomize).unwrap().into_iter().map(|d| d.value).filter(|v| !v.is_null()).collect()
}

#[test]
fn differential_against_kubectl_kustomize() {
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("SKIPPED differential_against_kubectl_kustomize: kubectl is not installed");
        return;
    }
    for seed in 1..=10 {
        let files = match seed {
            1..=4 => generated_overlay(seed),
            5 | 6 => component_overlay(seed),
            7 | 8 => vars_overlay(seed),
            _ => schema_overlay(seed),
        };
        assert_same_as_kubectl(&files, &format!("seed {seed}"));
    }
}

/// Build `overlay/` of `files` with us and with `kubectl kustomize`; the
/// documents must be equal, in order. Returns kubectl's output.
fn assert_same_as_kubectl(files: &[(String, String)], label: &str) -> String {
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let dir = tree(&refs);
    let out = Command::new("kubectl")
        .args(["kustomize", "--reorder", "none"])
        .arg(dir.path().join("overlay"))
        .output()
        .expect("run kubectl kustomize");
    assert!(out.status.success(), "kubectl kustomize failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let want = docs(&text);
    let src = LocalSource::with_root(dir.path(), &dir.path().join("overlay")).unwrap();
    let got: Vec<Value> = build(&src, &BuildOptions::default()).unwrap().iter().map(|o| o.to_value()).collect();
    assert_eq!(got.len(), want.len(), "{label}: document count");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "{label}: documents differ");
    }
    text
}

/// An overlay over a base and a component that exercises every kind of
/// transformer entry `buildMetadata: [transformerAnnotations]` records.
fn annotated_overlay() -> Vec<(String, String)> {
    let f = |p: &str, c: &str| (p.to_string(), c.to_string());
    vec![
        f(
            "base/kustomization.yaml",
            "resources: [cm.yaml, dep.yaml]\ncommonLabels: {a: b}\nimages: [{name: nginx, newTag: \"1\"}]\nconfigMapGenerator:\n- name: gen\n  literals: [x=1]\n",
        ),
        f("base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}\n"),
        f(
            "base/dep.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: foo}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: nginx}]\n",
        ),
        f("comp/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnameSuffix: -c\n"),
        f(
            "overlay/kustomization.yaml",
            "resources: [../base]\ncomponents: [../comp]\nbuildMetadata: [transformerAnnotations, originAnnotations]\nlabels:\n- pairs: {l: \"1\"}\n- pairs: {m: \"2\"}\nconfigMapGenerator:\n- name: gen\n  behavior: merge\n  literals: [y=2]\npatches:\n- patch: |-\n    - op: add\n      path: /data/z\n      value: \"3\"\n  target: {kind: ConfigMap, name: cm}\nreplicas: [{name: foo, count: 2}]\ntransformers:\n- t.yaml\n- |-\n  apiVersion: builtin\n  kind: NamespaceTransformer\n  metadata: {name: ns, namespace: team}\n",
        ),
        f(
            "overlay/t.yaml",
            "apiVersion: builtin\nkind: AnnotationsTransformer\nmetadata: {name: \"yes\"}\nannotations: {q: r}\nfieldSpecs: [{path: metadata/annotations, create: true}]\n",
        ),
    ]
}

#[test]
fn transformer_annotations_match_kubectl_kustomize() {
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("SKIPPED transformer_annotations_match_kubectl_kustomize: kubectl is not installed");
        return;
    }
    let out = assert_same_as_kubectl(&annotated_overlay(), "transformer annotations");
    assert!(out.contains("kind: ReplicaCountTransformer"));
}

#[test]
fn render_cli_builds_an_overlay() {
    let files = generated_overlay(7);
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let dir = repo(&refs);
    let overlay = dir.path().join("overlay");
    let r = run(&["render", overlay.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("name: mid-app0-v"), "{}", r.stdout);
    assert!(r.stdout.contains("namespace: ns-7"), "{}", r.stdout);
}

/// A temporary git work tree (the source root is its top).
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let t = tree(files);
    std::fs::create_dir_all(t.path().join(".git")).unwrap();
    t
}

fn render_err(files: &[(&str, &str)], dir: &str) -> String {
    let t = repo(files);
    let r = run(&["render", t.path().join(dir).to_str().unwrap()]);
    assert_eq!(r.code, 2, "expected failure, got: {}", r.stdout);
    r.stderr
}

#[test]
fn out_of_scope_fields_are_refused_by_name() {
    for field in ["helmCharts: [{name: x}]", "validators: [v.yaml]", "buildMetadata: [managedByLabel]"] {
        let name = field.split(':').next().unwrap();
        let err = render_err(&[("app/kustomization.yaml", &format!("resources: []\n{field}\n"))], "app");
        assert!(err.contains(&format!("unsupported field {name}")), "{err}");
        assert!(err.contains("/app/kustomization.yaml"), "{err}");
    }
    let err = render_err(&[("app/kustomization.yaml", "resources: [https://github.com/x/y//base]\n")], "app");
    assert!(err.contains("unsupported remote resource"), "{err}");
    let fn_config = "apiVersion: example.com/v1\nkind: MyTransformer\nmetadata:\n  name: t\n  annotations:\n    config.kubernetes.io/function: |\n      container:\n        image: example/fn\n";
    let err = render_err(&[("app/kustomization.yaml", "transformers: [fn.yaml]\n"), ("app/fn.yaml", fn_config)], "app");
    assert!(err.contains("unsupported plugin example.com/v1/MyTransformer"), "{err}");
    let err = render_err(&[("app/kustomization.yaml", "resourcez: []\n")], "app");
    assert!(err.contains("unknown field `resourcez`"), "{err}");
}

#[test]
fn openapi_and_crds_files_are_confined_and_errors_name_them() {
    let k = |body: &str| format!("resources: []\n{body}\n");
    let err = render_err(&[("app/kustomization.yaml", &k("openapi: {path: s.json}"))], "app");
    assert!(err.contains("/app/kustomization.yaml: openapi path 's.json'"), "{err}");
    let err = render_err(&[("app/kustomization.yaml", &k("openapi: {path: ../s.json}")), ("s.json", "{}")], "app");
    assert!(err.contains("security; file '/s.json' is not in or below '/app'"), "{err}");
    let err = render_err(
        &[("app/kustomization.yaml", &k("openapi: {path: s.json}")), ("app/s.json", "{\"definitions\": [1]}")],
        "app",
    );
    assert!(err.contains("openapi path 's.json': definitions: expected a mapping"), "{err}");
    let err = render_err(
        &[("app/kustomization.yaml", &k("openapi: {path: s.json, version: v1.21.2}")), ("app/s.json", "{}")],
        "app",
    );
    assert!(err.contains("builtin version and custom schema provided, cannot use both"), "{err}");
    let err = render_err(&[("app/kustomization.yaml", &k("openapi: {version: v1.30.0}"))], "app");
    assert!(
        err.contains(
            "/app/kustomization.yaml: openapi version 'v1.30.0': the specified OpenAPI version is not built in"
        ),
        "{err}"
    );
    let err = render_err(&[("app/kustomization.yaml", &k("crds: [c.json]"))], "app");
    assert!(err.contains("/app/kustomization.yaml: crds: 'c.json'"), "{err}");
    let err = render_err(&[("app/kustomization.yaml", &k("crds: [../c.json]")), ("c.json", "{}")], "app");
    assert!(err.contains("security; file '/c.json' is not in or below '/app'"), "{err}");
}

#[test]
fn files_outside_the_kustomization_and_cycles_are_refused() {
    let err = render_err(
        &[
            ("shared/p.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"),
            ("app/kustomization.yaml", "resources: [../shared/p.yaml]\n"),
        ],
        "app",
    );
    assert!(err.contains("security; file '/shared/p.yaml' is not in or below '/app'"), "{err}");
    let err = render_err(
        &[("a/kustomization.yaml", "resources: [../b]\n"), ("b/kustomization.yaml", "resources: [../a]\n")],
        "a",
    );
    assert!(err.contains("cycle detected"), "{err}");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").unwrap();
    let t = repo(&[("app/kustomization.yaml", "resources: [link.yaml]\n")]);
    std::os::unix::fs::symlink(outside.path().join("x.yaml"), t.path().join("app/link.yaml")).unwrap();
    let r = run(&["render", t.path().join("app").to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    // Refused as leaving the source root, naming the link as written and not where it leads.
    assert!(r.stderr.contains("'link.yaml': link.yaml: a symlink leads there"), "{}", r.stderr);
    assert!(!r.stderr.contains(outside.path().to_str().unwrap()), "{}", r.stderr);
}

#[test]
fn nothing_outside_the_source_root_is_looked_at_or_named() {
    // A missing and an existing path outside the root get the same error, naming the entry as written.
    let escape = |entry: &str| {
        let t = repo(&[("app/kustomization.yaml", &format!("resources: [{entry}]\n"))]);
        let r = run(&["render", t.path().join("app").to_str().unwrap()]);
        assert_eq!(r.code, 2, "{}", r.stdout);
        r.stderr
    };
    for entry in ["../../../../../../../../tmp/no-such-dir-kg", "../../../../../../../../tmp"] {
        let err = escape(entry);
        assert!(err.contains(&format!("'{entry}': {entry}: path leaves the source root")), "{err}");
        assert!(!err.contains("evalsymlink") && !err.contains("no such file"), "{err}");
    }
}

#[test]
fn component_overlay_applies_every_step() {
    let files = component_overlay(5);
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let dir = repo(&refs);
    let src = LocalSource::with_root(dir.path(), &dir.path().join("overlay")).unwrap();
    let objs = build(&src, &BuildOptions::default()).unwrap();
    let text: String = objs.iter().map(|o| kubectl_gitops::yaml::to_yaml_string(&o.to_value())).collect();
    for want in [
        "name: p5-db",
        "namespace: data",
        "image: exporter:1",
        "monitored: \"true\"",
        "serviceName: db-headless",
        "backend: p5-db",
        "secretKeyRef:\n",
        "name: p5-db-secret-",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let sts = objs.iter().find(|o| o.kind() == "StatefulSet").unwrap();
    let env = &sts.data()["spec"]["template"]["spec"]["containers"];
    let db = env.as_array().unwrap().iter().find(|c| c["name"] == "db").unwrap();
    assert_ne!(db["env"][0]["value"], serde_json::json!("0"), "replacement applied");
}

#[test]
fn vars_and_configurations_resolve_through_the_overlay() {
    let files = vars_overlay(9);
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let dir = repo(&refs);
    let src = LocalSource::with_root(dir.path(), &dir.path().join("overlay")).unwrap();
    let objs = build(&src, &BuildOptions::default()).unwrap();
    let widget = objs.iter().find(|o| o.kind() == "Widget").unwrap().to_value();
    let spec = &widget["spec"];
    assert!(spec["endpoint"].as_str().unwrap().starts_with("http://o9-web:"), "{spec}");
    assert!(spec["args"][0].is_number(), "a whole-field var keeps its type: {spec}");
    assert_eq!(spec["args"][1], "$(SVC)", "$$ escapes");
    assert_eq!(spec["args"][2], "$(NOPE)", "an undefined var stays");
    assert_eq!(spec["args"][4], "o9-w1");
    assert_eq!(spec["port"], "$(PORT)", "spec/port is not a var reference field");
    assert_eq!(spec["alias"], "o9-w1alias", "custom namePrefix field");
    assert_eq!(spec["configName"], "o9-settings", "custom name reference");
    assert_eq!(spec["selector"]["tier"], "web", "custom commonLabels field, applied by the overlay");
    let deploy = objs.iter().find(|o| o.kind() == "Deployment").unwrap().to_value();
    let env = &deploy["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(env[2]["value"].as_str().unwrap().starts_with("o9-extra-"), "{env}");
}

#[test]
fn openapi_schema_and_crds_apply_through_the_overlay() {
    let containers = |seed: u64| {
        let files = schema_overlay(seed);
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
        let dir = repo(&refs);
        let src = LocalSource::with_root(dir.path(), &dir.path().join("overlay")).unwrap();
        let objs = build(&src, &BuildOptions::default()).unwrap();
        let get = |kind: &str| objs.iter().find(|o| o.kind() == kind).unwrap().to_value();
        let thing = get("Thing");
        assert_eq!(thing["spec"]["items"], serde_json::json!([{"name": "a", "v": 9}, {"name": "b", "v": 2}]));
        assert_eq!(thing["spec"]["cfgRef"]["name"], format!("o{seed}-settings"), "crds name reference");
        let deploy = get("Deployment");
        let names = |v: &Value| v.as_array().unwrap().iter().map(|c| c["name"].clone()).collect::<Vec<_>>();
        (
            names(&thing["spec"]["template"]["spec"]["containers"]),
            names(&deploy["spec"]["template"]["spec"]["containers"]),
        )
    };
    // Layered over the built-in schema: both lists merge by name.
    assert_eq!(containers(9), (vec!["main".into(), "side".into()], vec!["main".into(), "side".into()]));
    // The custom schema alone: lists it does not describe are replaced.
    assert_eq!(containers(10), (vec![Value::from("main")], vec![Value::from("main")]));
}

#[test]
fn var_errors_name_the_var_and_the_kustomization() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n";
    let err = render_err(
        &[
            (
                "app/kustomization.yaml",
                "resources: [s.yaml]\nvars:\n- name: GONE\n  objref: {kind: Service, name: gone, apiVersion: v1}\n",
            ),
            ("app/s.yaml", svc),
        ],
        "app",
    );
    assert!(err.contains("var '{GONE Service.v1.[noGrp] {metadata.name}}' cannot be mapped"), "{err}");
    assert!(err.contains("var defined in /app/kustomization.yaml"), "{err}");
    let var = "vars:\n- name: WEB\n  objref: {kind: Service, name: web, apiVersion: v1}\n";
    let err = render_err(
        &[
            ("a/kustomization.yaml", &format!("resources: [s.yaml]\nnamePrefix: a-\n{var}")),
            ("a/s.yaml", svc),
            ("b/kustomization.yaml", &format!("resources: [s.yaml]\nnamePrefix: b-\n{var}")),
            ("b/s.yaml", svc),
            ("top/kustomization.yaml", "resources: [../a, ../b]\n"),
        ],
        "top",
    );
    assert!(err.contains("recursed merging from path '/b': var 'WEB' already encountered"), "{err}");
    let err = render_err(
        &[("app/kustomization.yaml", "resources: []\nconfigurations: [../cfg.yaml]\n"), ("cfg.yaml", "images: []\n")],
        "app",
    );
    assert!(err.contains("configurations: security; file '/cfg.yaml' is not in or below '/app'"), "{err}");
}

/// A copy of public overlays outside any git work tree (argocd-example-apps'
/// `kustomize-guestbook` and `pre-post-sync`, which itself overlays the
/// guestbook through `bases:`) under an overlay of both, rendered from the
/// copy's top directory as a new user would (`cd repo && render
/// overlays/prod`): the current directory is the root, so `../../` stays
/// inside it. The objects are those `kubectl kustomize` builds.
#[test]
fn multi_base_overlay_copied_outside_git_renders_from_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    assert!(!dir.path().ancestors().any(|a| a.join(".git").exists()), "the copy must be outside git");
    let repo = dir.path().join("repo");
    let from = common::testdata("argocd-example-apps");
    for f in [
        "kustomize-guestbook/guestbook-ui-deployment.yaml",
        "kustomize-guestbook/guestbook-ui-svc.yaml",
        "kustomize-guestbook/kustomization.yaml",
        "pre-post-sync/kustomization.yaml",
        "pre-post-sync/pre-sync-job.yaml",
        "pre-post-sync/post-sync-job.yaml",
    ] {
        std::fs::create_dir_all(repo.join(f).parent().unwrap()).unwrap();
        std::fs::copy(from.join(f), repo.join(f)).unwrap();
    }
    std::fs::create_dir_all(repo.join("overlays/prod")).unwrap();
    std::fs::write(
        repo.join("overlays/prod/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: prod\nlabels:\n- pairs: {env: prod}\nresources:\n- ../../kustomize-guestbook\n- ../../pre-post-sync\n",
    )
    .unwrap();

    let r = common::run_in(&repo, &["render", "overlays/prod", "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    let key = |v: &Value| format!("{}/{}", v["kind"].as_str().unwrap(), v["metadata"]["name"].as_str().unwrap());
    let mut got: Vec<Value> = list["items"].as_array().unwrap().clone();
    got.sort_by_key(key);
    let names: Vec<String> = got.iter().map(key).collect();
    assert_eq!(
        names,
        [
            "Deployment/kustomize-guestbook-ui",
            "Deployment/pre-post-sync-kustomize-guestbook-ui",
            "Job/pre-post-sync-after",
            "Job/pre-post-sync-before",
            "Service/kustomize-guestbook-ui",
            "Service/pre-post-sync-kustomize-guestbook-ui",
        ]
    );
    assert!(got.iter().all(|o| o["metadata"]["namespace"] == "prod" && o["metadata"]["labels"]["env"] == "prod"));

    // From the overlay itself, the overlay is the root: `../../` leaves it.
    let r = common::run_in(&repo.join("overlays/prod"), &["render", "."]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("leaves the source root") && r.stderr.contains("--root"), "{}", r.stderr);

    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("SKIPPED the kubectl kustomize comparison: kubectl is not installed");
        return;
    }
    let out = Command::new("kubectl").args(["kustomize"]).arg(repo.join("overlays/prod")).output().unwrap();
    assert!(out.status.success(), "kubectl kustomize failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut want = docs(&String::from_utf8_lossy(&out.stdout));
    want.sort_by_key(key);
    assert_eq!(got, want);
}
