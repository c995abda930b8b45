//! Charts through the CLI: Jinja charts rendered natively (values, subcharts,
//! schema, helpers, errors), Go-template charts natively and through the helm
//! plugin, and
//! the differential test against a real `helm template`.

mod common;

use std::path::PathBuf;

use common::{assert_golden, run, run_in, testdata, tree};

const JINJA: &str = "testdata/charts/web-jinja";
const GO: &str = "testdata/charts/web-go";

/// A real helm: `$KUBECTL_GITOPS_HELM` (set by scripts/test.sh), else the
/// cache scripts/install-helm.sh fills. `None` prints why the test is skipped.
fn helm() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("KUBECTL_GITOPS_HELM").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kubectl-gitops-test/bin/helm")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        eprintln!("SKIPPED: no helm binary (run scripts/install-helm.sh); differential chart test not run");
    }
    found
}

fn render_args<'a>(chart: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "render",
        chart,
        "--release-name",
        "web",
        "--namespace",
        "prod",
        "-f",
        "testdata/charts/web-values/prod.yaml",
        "--values",
        "testdata/charts/web-values/prod-eu.yaml",
        "--set",
        "image.tag=1.2.3,service.port=8080",
        "--set-string",
        "env.BUILD=42",
    ];
    a.extend_from_slice(extra);
    a
}

#[test]
fn jinja_chart_renders_like_helm_template() {
    let r = run(&render_args(JINJA, &[]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_golden("charts/web-jinja.golden.yaml", &r.stdout);
    assert!(r.stdout.contains("host: eu.example.com"), "later -f wins");
    assert!(r.stdout.contains("image: nginx:1.2.3"), "--set beats -f");
    assert!(r.stdout.contains("value: \"42\"") || r.stdout.contains("value: '42'"), "--set-string");
    assert!(!r.stdout.contains("notes.bak"), ".helmignore");
    assert!(!r.stdout.contains("Thanks for installing"), "NOTES.txt is not rendered");
}

#[test]
fn differential_against_real_helm() {
    let Some(helm) = helm() else { return };
    let native = run(&render_args(JINJA, &[]));
    assert_eq!(native.code, 0, "{}", native.stderr);
    // 1. `helm template` on the Go-template twin, normalized by us.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(&helm);
    cmd.args(["template", "web", GO, "--namespace", "prod"])
        .args(["-f", "testdata/charts/web-values/prod.yaml", "--values", "testdata/charts/web-values/prod-eu.yaml"])
        .args(["--set", "image.tag=1.2.3,service.port=8080", "--set-string", "env.BUILD=42"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "helm: {}", String::from_utf8_lossy(&out.stderr));
    let file = dir.path().join("helm.yaml");
    std::fs::write(&file, &out.stdout).unwrap();
    let from_helm = run(&["render", file.to_str().unwrap(), "--namespace", "prod"]);
    assert_eq!(from_helm.code, 0, "{}", from_helm.stderr);
    assert_eq!(from_helm.stdout, native.stdout, "helm template (Go twin) and the native render differ");
    // 2. The same through plugins/helm.yaml.
    let via_plugin = std::process::Command::new(common::bin())
        .args(render_args(GO, &["--plugin-dir", "plugins"]))
        .env("HELM_BIN", &helm)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(via_plugin.status.success(), "{}", String::from_utf8_lossy(&via_plugin.stderr));
    assert_eq!(String::from_utf8_lossy(&via_plugin.stdout), native.stdout);
}

#[test]
fn go_template_chart_renders_natively_without_helm() {
    // No plugin directory, no helm on PATH: the Go-template twin renders
    // natively, to what the Jinja chart (and `helm template`) gives.
    let empty_config = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(common::bin())
        .args(render_args(GO, &["--plugin-dir", "testdata/charts/no-plugins"]))
        .env("XDG_CONFIG_HOME", empty_config.path())
        .env("PATH", "/nonexistent")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let native = run(&render_args(JINJA, &[]));
    assert_eq!(String::from_utf8_lossy(&out.stdout), native.stdout);
}

#[test]
fn subchart_condition_and_globals() {
    let r = run(&["render", JINJA, "--release-name", "web", "--set", "cache.enabled=false"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("kind: StatefulSet"), "{}", r.stdout);
    let r = run(&["render", JINJA, "--release-name", "web", "--set", "global.team=core,cache.replicas=3"]);
    assert!(r.stdout.contains("team: core") && r.stdout.contains("tier: cache") && r.stdout.contains("replicas: 3"));
}

#[test]
fn schema_violations_are_all_reported() {
    let r = run(&["render", JINJA, "--set", "replicaCount=0,service.port=70000,image.pullPolicy=Sometimes"]);
    assert_eq!(r.code, 2);
    for want in ["at '/replicaCount'", "at '/service/port'", "at '/image/pullPolicy'", "values.schema.json"] {
        assert!(r.stderr.contains(want), "missing {want}: {}", r.stderr);
    }
}

fn jinja_chart(template: &str) -> tempfile::TempDir {
    tree(&[
        ("Chart.yaml", "apiVersion: v2\nname: t\nversion: 0.1.0\n"),
        ("values.yaml", "name: x\n"),
        ("templates/cm.yaml.j2", template),
    ])
}

#[test]
fn template_errors_name_file_and_line() {
    let d = jinja_chart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ fail(\"no way\") }}\n");
    let r = run(&["render", d.path().to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("t/templates/cm.yaml.j2:4") && r.stderr.contains("no way"), "{}", r.stderr);
    let d = jinja_chart("{{ required(\"image.tag is required\", Values.image) }}\n");
    let r = run(&["render", d.path().to_str().unwrap()]);
    assert!(r.stderr.contains("cm.yaml.j2:1") && r.stderr.contains("image.tag is required"), "{}", r.stderr);
    let d =
        jinja_chart("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: {{ Values.missing.deep }}\n");
    let r = run(&["render", d.path().to_str().unwrap()]);
    assert!(
        r.stderr.contains(
            "cm.yaml.j2:5: undefined value: `Values.missing` is undefined (in `x: {{ Values.missing.deep }}`)"
        ),
        "{}",
        r.stderr
    );
    let d = jinja_chart("{{ lookup(\"v1\", \"Secret\", \"ns\", \"s\") }}\n");
    let r = run(&["render", d.path().to_str().unwrap()]);
    assert!(r.stderr.contains("lookup is not available"), "{}", r.stderr);
    let d = jinja_chart("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: {% if %}\n");
    let r = run(&["render", d.path().to_str().unwrap()]);
    assert!(r.code == 2 && r.stderr.contains("cm.yaml.j2:5"), "{}", r.stderr);
}

#[test]
fn helpers_and_filters() {
    let d = jinja_chart(concat!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Values.name }}\ndata:\n",
        "  yaml: {{ {\"a\": [1, 2]} | toYaml | quote }}\n",
        "  json: {{ {\"a\": \"<b>\"} | toJson | squote }}\n",
        "  from: {{ (\"k: v\" | fromYaml).k }}\n",
        "  fromjson: {{ ('{\"k\": 3}' | fromJson).k | toString | quote }}\n",
        "  dec: {{ \"aGk=\" | b64dec }}\n",
        "  title: {{ \"hello wORLD\" | title }}\n",
        "  prefix: {{ \"v1.2\" | trimPrefix(\"v\") | quote }}\n",
        "  lower: {{ \"ABC\" | lower }}\n",
        "  default: {{ \"\" | default(\"fallback\") }}\n",
        "  kube: {{ Capabilities.KubeVersion | quote }}\n",
        "  indent: |\n{{ \"a\\nb\" | indent(4) }}\n",
    ));
    let r = run(&["render", d.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        "yaml: |-\n    a:\n    - 1\n    - 2",
        "json: \"{\\\"a\\\":\\\"\\\\u003cb\\\\u003e\\\"}\"",
        "from: v",
        "fromjson: \"3\"",
        "dec: hi",
        "title: Hello WORLD",
        "prefix: \"1.2\"",
        "lower: abc",
        "default: fallback",
        "indent: |\n    a\n    b",
        "kube: v1.35.0",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
}

/// minijinja 3 prints lists and maps as Python does, spaces `tojson` and
/// rounds halves to even; charts keep minijinja 2's text (so the same
/// objects and checksums): see src/render/chart/jinja_compat.rs.
#[test]
fn lists_maps_tojson_and_round_render_as_before_minijinja_3() {
    use sha2::Digest as _;
    let d = tree(&[
        ("Chart.yaml", "apiVersion: v2\nname: t\nversion: 0.1.0\n"),
        (
            "values.yaml",
            "args: [\"--greeting=hi\\tthere\", \"--port=80\"]\nsettings: {level: 1, name: two, debug: true}\n",
        ),
        (
            "templates/deploy.yaml.j2",
            concat!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n",
                "    checksum: {{ Values.settings | sha256sum }}\n",
                "    list: {{ Values.args | quote }}\n",
                "    json: {{ Values.settings | tojson | squote }}\n",
                "    pairs: {{ Values.settings | dictsort | string | quote }}\n",
                "    round: {{ 2.5 | round | quote }}\n",
                "spec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx\n",
                "        args: {{ Values.args }}\n",
            ),
        ),
    ]);
    let r = run(&["render", d.path().to_str().unwrap(), "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let deploy = &list["items"][0];
    let annotations = &deploy["metadata"]["annotations"];
    let settings = r#"{"debug": True, "level": 1, "name": "two"}"#;
    let checksum: String = sha2::Sha256::digest(settings).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(annotations["checksum"], checksum.as_str());
    assert_eq!(annotations["list"], r#"["--greeting=hi\tthere", "--port=80"]"#);
    assert_eq!(annotations["json"], r#"{"debug":true,"level":1,"name":"two"}"#);
    assert_eq!(annotations["pairs"], r#"[["debug", True], ["level", 1], ["name", "two"]]"#);
    assert_eq!(annotations["round"], "3.0");
    // A printed list is a YAML flow sequence that reads back as the values (a tab, not `\t`).
    let args = &deploy["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(args, &serde_json::json!(["--greeting=hi\tthere", "--port=80"]));
}

#[test]
fn files_stay_inside_the_source_root() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "s3cr3t").unwrap();
    let d = jinja_chart("{{ Files.Get(\"leak.txt\") }}\n");
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), d.path().join("leak.txt")).unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    let r = run(&["render", d.path().to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("outside the source root"), "{}", r.stderr);
}

#[test]
fn repo_plugins_need_opt_in() {
    let plugin = "apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata: {name: echo}\nspec:\n  discover: {fileName: Chart.yaml}\n  generate:\n    command: [sh, -c]\n    args: ['printf \"apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: %s}\\ndata: {ns: %s, p: %s, path: %s}\\n\" \"$ARGOCD_APP_NAME\" \"$ARGOCD_APP_NAMESPACE\" \"$ARGOCD_ENV_COLOR\" \"$ARGOCD_APP_SOURCE_PATH\"']\n";
    let d = tree(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        (".kubectl-gitops/plugins/echo.yaml", plugin),
        ("app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n"),
        ("app/templates/x.yaml", "{{ .Values.x }}\n"),
    ]);
    let env_home = tempfile::tempdir().unwrap();
    let run_with = |extra: &[&str]| {
        let mut args = vec!["render", "app", "--release-name", "rel", "--namespace", "ns1"];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(common::bin())
            .args(&args)
            .current_dir(d.path())
            .env("XDG_CONFIG_HOME", env_home.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A Go-template chart renders natively; the repo's plugin runs only when named.
    let (code, out, err) = run_with(&["--allow-repo-plugins", "--plugin-env", "COLOR=blue"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains("p: blue"), "{out}");
    let (code, _, err) = run_with(&["--plugin", "echo"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, out, err) = run_with(&["--plugin", "echo", "--allow-repo-plugins", "--plugin-env", "COLOR=blue"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("name: rel") && out.contains("ns: ns1") && out.contains("p: blue") && out.contains("path: app"),
        "{out}"
    );
}

#[test]
fn failing_plugin_shows_stderr_and_bad_output_is_an_error() {
    let fail = "kind: ConfigManagementPlugin\nmetadata: {name: bad}\nspec:\n  generate: {command: [sh, -c, 'echo boom >&2; exit 3']}\n";
    let junk = "kind: ConfigManagementPlugin\nmetadata: {name: junk}\nspec:\n  generate: {command: [sh, -c, 'echo \"- not an object\"']}\n";
    let slow = "kind: ConfigManagementPlugin\nmetadata: {name: slow}\nspec:\n  generate: {command: [sleep, '5']}\n";
    let d = tree(&[("p/bad.yaml", fail), ("p/junk.yaml", junk), ("p/slow.yaml", slow), ("src/x.txt", "")]);
    let dir = d.path().to_str().unwrap();
    let p = format!("{dir}/p");
    let s = format!("{dir}/src");
    let r = run(&["render", &s, "--plugin-dir", &p, "--plugin", "bad"]);
    assert!(r.code == 2 && r.stderr.contains("plugin bad") && r.stderr.contains("boom"), "{}", r.stderr);
    let r = run(&["render", &s, "--plugin-dir", &p, "--plugin", "junk"]);
    assert!(r.code == 2 && r.stderr.contains("plugin junk"), "{}", r.stderr);
    let r = run(&["render", &s, "--plugin-dir", &p, "--plugin", "slow", "--plugin-timeout", "1"]);
    assert!(r.code == 2 && r.stderr.contains("timed out"), "{}", r.stderr);
    let r = run(&["render", &s, "--plugin-dir", &p, "--plugin", "nope"]);
    assert!(r.code == 2 && r.stderr.contains("not found"), "{}", r.stderr);
}

#[test]
fn run_in_chart_directory_with_relative_values() {
    let r = run_in(
        &testdata("charts/web-jinja"),
        &["render", ".", "-f", "../web-values/prod.yaml", "--set-json", "replicaCount=5"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("replicas: 5") && r.stdout.contains("kind: Ingress"), "{}", r.stdout);
}

#[test]
fn aliases_tags_import_values_and_nested_include() {
    let d = tree(&[
        (
            "Chart.yaml",
            "apiVersion: v2\nname: top\nversion: 0.1.0\nkubeVersion: \">=1.20.0-0\"\nannotations: {kubectl-gitops.io/template-engine: jinja}\ndependencies:\n- {name: sub, version: 0.1.x, alias: east}\n- {name: sub, version: 0.1.x, alias: west, tags: [west]}\n- {name: sub, version: 0.1.x, alias: north, import-values: [{child: info, parent: fromNorth}]}\n",
        ),
        ("values.yaml", "tags: {west: false}\nwest: {num: 9}\n"),
        (
            "templates/_h.tpl",
            "{% macro outer(ctx) %}[{{ include(\"inner\", ctx) }}]{% endmacro %}{% macro inner(ctx) %}{{ ctx.Release.Name }}{% endmacro %}",
        ),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: top}\ndata:\n  nested: {{ include(\"outer\", ctx) | quote }}\n  imported: {{ Values.fromNorth.zone | quote }}\n  lib: {{ include(\"lib.tag\", ctx) }}\n",
        ),
        (
            "charts/sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 0.1.3\nannotations: {kubectl-gitops.io/template-engine: jinja}\n",
        ),
        ("charts/sub/values.yaml", "num: 1\ninfo: {zone: z1}\n"),
        (
            "charts/lib/Chart.yaml",
            "apiVersion: v2\nname: lib\ntype: library\nversion: 1.0.0\nannotations: {kubectl-gitops.io/template-engine: jinja}\n",
        ),
        ("charts/lib/templates/_lib.tpl", "{% macro lib_tag(ctx) %}from-lib{% endmacro %}"),
        ("charts/lib/templates/never.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: never}\n"),
        (
            "charts/sub/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ Chart.Name }}}\ndata: {num: {{ Values.num | quote }}, tpl: {{ Template.Name | quote }}}\n",
        ),
    ]);
    let r = run(&["render", d.path().to_str().unwrap(), "--release-name", "rel", "--set", "east.num=2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = &r.stdout;
    assert!(out.contains("nested: '[rel]'") || out.contains("nested: \"[rel]\""), "{out}");
    assert!(out.contains("imported: z1") && out.contains("lib: from-lib") && !out.contains("never"), "{out}");
    assert!(
        out.contains("name: east")
            && out.contains("num: \"2\"")
            && out.contains("tpl: top/charts/east/templates/cm.yaml"),
        "{out}"
    );
    assert!(out.contains("name: north") && !out.contains("name: west"), "{out}");
    let r = run(&["render", d.path().to_str().unwrap(), "--kube-version", "1.19.0"]);
    assert!(r.code == 2 && r.stderr.contains("incompatible with Kubernetes v1.19.0"), "{}", r.stderr);
}

#[test]
fn files_template_and_value_flags() {
    let d = tree(&[
        ("Chart.yaml", "apiVersion: v2\nname: t\nversion: 0.1.0\n"),
        ("values.yaml", "motd: none\n"),
        ("conf/a.txt", "alpha"),
        ("conf/sub/b.txt", "beta"),
        ("motd.txt", "hello\nworld\n"),
        (
            "templates/s.yaml.j2",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  {{- Files.Glob(\"conf/*.txt\").AsSecrets() | nindent(2) }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  base: {{ Template.BasePath }}\n  motd: {{ Values.motd | quote }}\n  lit: {{ Values.lit | quote }}\n  bytes: {{ Files.GetBytes(\"conf/a.txt\") | length }}\n",
        ),
    ]);
    let r = run_in(d.path(), &["render", ".", "--set-file", "motd=motd.txt", "--set-literal", "lit=a,b\\c"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in ["a.txt: YWxwaGE=", "base: t/templates", "motd: |\n    hello\n    world", "lit: a,b\\c", "bytes: 5"] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
    assert!(!r.stdout.contains("b.txt"), "Glob's * does not cross /: {}", r.stdout);
}

#[test]
fn plugin_init_runs_before_generate() {
    let plugin = "kind: ConfigManagementPlugin\nmetadata: {name: two-step}\nspec:\n  init: {command: [sh, -c, 'printf \"apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: from-init}\\n\" > \"$TMPDIR_OUT/out.yaml\"']}\n  generate: {command: [sh, -c, 'cat \"$TMPDIR_OUT/out.yaml\"']}\n";
    let d = tree(&[("p/two.yaml", plugin), ("src/x.txt", "")]);
    let out = std::process::Command::new(common::bin())
        .args(["render", "src", "--plugin-dir", "p", "--plugin", "two-step"])
        .current_dir(d.path())
        .env("TMPDIR_OUT", d.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("name: from-init"));
}

#[test]
fn packaged_subcharts_render_natively_and_through_the_plugin() {
    let d = tree(&[
        ("go/Chart.yaml", "apiVersion: v2\nname: top\nversion: 0.1.0\n"),
        ("go/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-top\n"),
        ("sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n"),
        ("sub/values.yaml", "greeting: hi\n"),
        (
            "sub/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-sub\ndata:\n  g: {{ .Values.greeting }}\n",
        ),
        ("jinja/Chart.yaml", "apiVersion: v2\nname: top\nversion: 0.1.0\n"),
        ("jinja/templates/cm.yaml.j2", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"),
    ]);
    for chart in ["go", "jinja"] {
        std::fs::create_dir_all(d.path().join(chart).join("charts")).unwrap();
        let status = std::process::Command::new("tar")
            .args(["czf", &format!("{chart}/charts/sub-0.1.0.tgz"), "sub"])
            .current_dir(d.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let r = run(&["render", d.path().join("jinja").to_str().unwrap()]);
    assert!(r.code == 2 && r.stderr.contains("packaged subcharts"), "{}", r.stderr);
    let go = d.path().join("go");
    let r = run(&["render", go.to_str().unwrap(), "--release-name", "r", "--set", "sub.greeting=hello"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("name: r-top") && r.stdout.contains("name: r-sub") && r.stdout.contains("g: hello"));
    let Some(helm) = helm() else { return };
    let out = std::process::Command::new(common::bin())
        .args(["render", "go", "--plugin-dir", concat!(env!("CARGO_MANIFEST_DIR"), "/plugins"), "--plugin", "helm"])
        .args(["--release-name", "r"])
        .args(["--set", "sub.greeting=hello"])
        .env("HELM_BIN", &helm)
        .current_dir(d.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("name: r-top") && stdout.contains("name: r-sub") && stdout.contains("g: hello"),
        "{stdout}"
    );
}

/// One chart tree for the `.helmignore` differential test: static templates
/// (the same text in both engines), data files listed by `Files.Glob`, an
/// unpacked subchart with its own `.helmignore` (helm does not read it when
/// the subchart is loaded with its parent).
fn ignore_chart(jinja: bool, helmignore: &str) -> tempfile::TempDir {
    let engine = if jinja { "annotations:\n  kubectl-gitops.io/template-engine: jinja\n" } else { "" };
    let chart = format!("apiVersion: v2\nname: ig\nversion: 0.1.0\n{engine}");
    let child = format!("apiVersion: v2\nname: child\nversion: 0.1.0\n{engine}");
    let files = if jinja {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: files\ndata:\n{{ Files.Glob(\"**\").AsConfig() | indent(2) }}\n"
    } else {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: files\ndata:\n{{ (.Files.Glob \"**\").AsConfig | indent 2 }}\n"
    };
    let cm = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    let (a, b, c, h, k) = (cm("t-a"), cm("t-b"), cm("t-c"), cm("hidden"), cm("child"));
    let mut entries: Vec<(&str, &str)> = vec![
        ("Chart.yaml", &chart),
        ("values.yaml", "x: 1\n"),
        ("templates/files.yaml", files),
        ("templates/t-a.yaml", &a),
        ("templates/sub/t-b.yaml", &b),
        ("templates/t-c.yml", &c),
        ("templates/.hidden.yaml", &h),
        ("always.txt", "x"),
        ("keep.txt", "x"),
        ("top.txt", "x"),
        ("notes.bak", "x"),
        ("docs/readme.md", "x"),
        ("docs/sub/deep.md", "x"),
        ("data/cfg.json", "x"),
        ("charts/child/Chart.yaml", &child),
        ("charts/child/.helmignore", "*.txt\n"),
        ("charts/child/templates/child.yaml", &k),
        ("charts/child/child-file.txt", "x"),
    ];
    if !helmignore.is_empty() {
        entries.push((".helmignore", helmignore));
    }
    tree(&entries)
}

#[test]
fn helmignore_matches_real_helm() {
    let Some(helm) = helm() else { return };
    let cases = [
        "",
        "*.bak\ndocs/\n",
        "docs/*.md\n/top.txt\n# a comment\n",
        "templates/t-?.yaml\ncharts/child/\n",
        "!*.yaml\n",
        "*.txt\n!always.txt\n",
        "data/[a-c]fg.json\n[!k]eep.txt\n",
        "[abc\n",
        "docs/**\n",
    ];
    let mut checked = 0;
    for rules in cases {
        let (go, jinja) = (ignore_chart(false, rules), ignore_chart(true, rules));
        let out = std::process::Command::new(&helm).args(["template", "ig"]).arg(go.path()).output().unwrap();
        let native = run(&["render", jinja.path().to_str().unwrap(), "--release-name", "ig"]);
        if !out.status.success() {
            assert_eq!(native.code, 2, "helm refused {rules:?} ({}), we did not", String::from_utf8_lossy(&out.stderr));
            assert!(native.stderr.contains(".helmignore"), "{}", native.stderr);
            checked += 1;
            continue;
        }
        assert_eq!(native.code, 0, "{rules:?}: helm rendered, we failed: {}", native.stderr);
        let file = go.path().join("helm-out.yaml");
        std::fs::write(&file, &out.stdout).unwrap();
        let from_helm = run(&["render", file.to_str().unwrap()]);
        assert_eq!(from_helm.code, 0, "{}", from_helm.stderr);
        assert_eq!(native.stdout, from_helm.stdout, ".helmignore {rules:?}: native render and helm template differ");
        checked += 1;
    }
    assert_eq!(checked, cases.len());
}

/// Values from a pipe (`-f -`, `-f /dev/stdin`, `-f <(...)`) are read once
/// and used, whatever else reads `-f` first.
#[test]
fn values_from_a_pipe() {
    use std::io::Write;
    let d = jinja_chart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Values.name }}\n");
    for flag in ["-", "/dev/stdin"] {
        let mut child = std::process::Command::new(common::bin())
            .args(["render", d.path().to_str().unwrap(), "-o", "name", "-f", flag])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"name: piped\n").unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout.trim(), "configmap/piped", "-f {flag}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
/// argocd-example-apps `helm-dependency`: its only content is a dependency
/// that is not vendored, and (offline) not in the cache either. helm
/// refuses it; so do we, naming what is missing and why it was not fetched.
#[test]
fn missing_dependency_is_an_error_naming_version_and_repository() {
    let r = run(&["render", "testdata/argocd-example-apps/helm-dependency", "--offline"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains(
            "found in Chart.yaml, but missing in charts/ directory: wordpress (version 9.0.3, repository https://charts.helm.sh/stable)"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("not fetched: chart wordpress 9.0.3 from https://charts.helm.sh/stable"), "{}", r.stderr);
    assert!(r.stderr.contains("index is not in the cache (run once without --offline"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

const DEP_CHART: &str = "apiVersion: v2\nname: app\nversion: 1.0.0\nannotations:\n  kubectl-gitops.io/template-engine: jinja\ndependencies:\n- name: sub\n  version: 0.1.0\n  repository: file://../sub\n  condition: sub.enabled\n";
const SUB_CHART: &str =
    "apiVersion: v2\nname: sub\nversion: 0.1.0\nannotations:\n  kubectl-gitops.io/template-engine: jinja\n";
const CM_TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-{{ Chart.Name }}\n";
/// What `helm dependency update` (helm 4.1.4) writes for DEP_CHART.
const DEP_LOCK: &str = "dependencies:\n- name: sub\n  repository: file://../sub\n  version: 0.1.0\ndigest: sha256:9358ad586555942bed7f401aa6307a6da97ca4b8a60c665a3118a5f075ceec1b\ngenerated: \"2026-12-05T08:42:13.950646573Z\"\n";

#[test]
fn disabled_missing_dependencies_only_warn() {
    for (values, what) in [("sub: {enabled: false}\n", "condition"), ("", "tags")] {
        let chart = if what == "tags" {
            DEP_CHART.replace("  condition: sub.enabled\n", "  tags: [extras]\n")
        } else {
            DEP_CHART.to_string()
        };
        let values = if what == "tags" { "tags: {extras: false}\n" } else { values };
        let dir =
            tree(&[("app/Chart.yaml", &chart), ("app/values.yaml", values), ("app/templates/cm.yaml", CM_TEMPLATE)]);
        let r = run_in(dir.path(), &["render", "app", "-o", "name"]);
        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
        assert_eq!(r.stdout, "configmap/from-app\n");
        assert!(
            r.stderr.contains("disabled dependencies missing") && r.stderr.contains("sub (version 0.1.0"),
            "{}",
            r.stderr
        );
        // Enabled (the default, or by --set): an error.
        let set = if what == "tags" { "tags.extras=true" } else { "sub.enabled=true" };
        let r = run_in(dir.path(), &["render", "app", "--set", set]);
        assert_eq!(r.code, 2, "{what}: {}", r.stdout);
        assert!(
            r.stderr.contains("missing in charts/ directory: sub (version 0.1.0, repository file://../sub)"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn chart_lock_is_checked_as_helm_dependency_build_checks_it() {
    let dir = tree(&[
        ("app/Chart.yaml", DEP_CHART),
        ("app/Chart.lock", DEP_LOCK),
        ("app/templates/cm.yaml", CM_TEMPLATE),
        ("app/charts/sub/Chart.yaml", SUB_CHART),
        ("app/charts/sub/templates/cm.yaml", CM_TEMPLATE),
        ("sub/Chart.yaml", SUB_CHART),
        ("sub/templates/cm.yaml", CM_TEMPLATE),
    ]);
    let helm = helm();
    let helm_build = |dir: &std::path::Path| {
        let out = std::process::Command::new(helm.as_ref().unwrap())
            .args(["dependency", "build", "app", "--skip-refresh"])
            .current_dir(dir)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // In sync: no warning (and helm agrees: it builds).
    let r = run_in(dir.path(), &["render", "app", "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "configmap/from-app\nconfigmap/from-sub\n");
    assert!(!r.stderr.contains("Chart.lock"), "{}", r.stderr);
    if helm.is_some() {
        let (ok, err) = helm_build(dir.path());
        assert!(ok, "helm dependency build: {err}");
        std::fs::remove_dir_all(dir.path().join("app/charts")).unwrap();
        std::fs::create_dir_all(dir.path().join("app/charts/sub/templates")).unwrap();
        std::fs::write(dir.path().join("app/charts/sub/Chart.yaml"), SUB_CHART).unwrap();
        std::fs::write(dir.path().join("app/charts/sub/templates/cm.yaml"), CM_TEMPLATE).unwrap();
    }
    // Chart.yaml changed, the lock not: helm template would not notice, `helm
    // dependency build` refuses; we render and warn.
    std::fs::write(dir.path().join("app/Chart.yaml"), DEP_CHART.replace("sub.enabled", "sub.on")).unwrap();
    std::fs::write(dir.path().join("app/Chart.lock"), DEP_LOCK).unwrap();
    let r = run_in(dir.path(), &["render", "app", "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml)"),
        "{}",
        r.stderr
    );
    if helm.is_some() {
        let (ok, err) = helm_build(dir.path());
        assert!(!ok && err.contains("out of sync"), "helm dependency build: {err}");
    }
    // Missing as well: the error says the lock is stale too.
    std::fs::remove_dir_all(dir.path().join("app/charts")).unwrap();
    let r = run_in(dir.path(), &["render", "app"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("missing in charts/ directory: sub") && r.stderr.contains("Chart.lock is out of sync"),
        "{}",
        r.stderr
    );
}
