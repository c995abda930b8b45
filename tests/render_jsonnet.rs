//! `kubectl gitops render` of Jsonnet sources, end to end through the binary.
//! Golden files: `UPDATE_GOLDEN=1 cargo test --test render_jsonnet`.

mod common;

use common::{assert_golden, run, run_in, tree};
use serde_json::Value;

const CM: &str = "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: NAME } }";

fn cm(name: &str) -> String {
    CM.replace("NAME", &format!("'{name}'"))
}

fn names(dir: &std::path::Path, args: &[&str]) -> String {
    let mut all = vec!["render", ".", "-o", "name"];
    all.extend_from_slice(args);
    let r = run_in(dir, &all);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    r.stdout
}

/// Each bad input: exit 2, nothing on stdout, stderr equal to (or containing) `expected`.
fn assert_error(files: &[(&str, &str)], args: &[&str], expected: &str) {
    let t = tree(files);
    let r = run_in(t.path(), args);
    assert_eq!(r.code, 2, "expected failure for {expected:?}; stdout: {}", r.stdout);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains(expected), "stderr:\n{}\nexpected to contain:\n{expected}", r.stderr);
}

#[test]
fn golden_tanka_environment_with_vendor_lib_tlas_and_ext_vars() {
    let r = run(&[
        "render",
        "testdata/jsonnet/tanka",
        "--ext-str",
        "tag=v1.2.3",
        "--tla-code",
        "replicas=2",
        "--tla-str",
        "env=prod",
        "-n",
        "web",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_golden("jsonnet/tanka.golden.yaml", &r.stdout);
    assert!(!r.stdout.contains("tanka.dev"), "spec.json is Tanka's, not a manifest");
    assert!(!r.stdout.contains("never-rendered"), "hidden fields are not manifests");
}

#[test]
fn golden_argo_directory_mixes_jsonnet_and_plain_files() {
    let r = run(&["render", "testdata/jsonnet/argo", "--ext-str", "greeting=hello"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_golden("jsonnet/argo.golden.yaml", &r.stdout);
}

#[test]
fn tla_defaults_apply_without_flags_and_json_numbers_are_integers() {
    let r = run(&["render", "testdata/jsonnet/tanka", "--ext-str", "tag=dev", "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    let items = list["items"].as_array().unwrap();
    let deploy = items.iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert_eq!(deploy["spec"]["replicas"], Value::from(1), "an integral Jsonnet number is an integer");
    assert!(deploy["spec"]["replicas"].is_i64());
    assert!(!items.iter().any(|o| o["kind"] == "Ingress"), "env defaults to dev: no ingress");
    let settings = items.iter().find(|o| o["metadata"]["name"] == "settings").unwrap();
    assert_eq!(settings["data"]["ratio"], "1.5");
}

#[test]
fn output_shapes_object_array_nested_arrays_list_and_nested_objects() {
    let shapes = [
        ("object", cm("a"), "configmap/a\n"),
        ("array", format!("[{}, {}]", cm("a"), cm("b")), "configmap/a\nconfigmap/b\n"),
        ("nested arrays", format!("[[{}], [[{}]], []]", cm("a"), cm("b")), "configmap/a\nconfigmap/b\n"),
        (
            "List",
            format!("{{ apiVersion: 'v1', kind: 'List', items: [{}, {}] }}", cm("a"), cm("b")),
            "configmap/a\nconfigmap/b\n",
        ),
        (
            "ConfigMapList",
            format!("{{ apiVersion: 'v1', kind: 'ConfigMapList', items: [{}] }}", cm("a")),
            "configmap/a\n",
        ),
        (
            "nested objects",
            format!("{{ z: {{ deep: {{ deeper: {} }} }}, a: [{}], n: null, e: {{}} }}", cm("a"), cm("b")),
            "configmap/a\nconfigmap/b\n",
        ),
        ("null", "null".to_string(), ""),
    ];
    for (what, program, want) in shapes {
        let t = tree(&[("main.jsonnet", &program)]);
        assert_eq!(names(t.path(), &[]), want, "shape: {what}");
    }
}

#[test]
fn jsonnet_main_flag_and_single_file_source() {
    let t = tree(&[
        ("one.jsonnet", &cm("one")),
        ("two.jsonnet", &cm("two")),
        ("plain.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n"),
    ]);
    assert_eq!(names(t.path(), &[]), "configmap/one\nconfigmap/plain\nconfigmap/two\n");
    assert_eq!(names(t.path(), &["--jsonnet-main", "two.jsonnet"]), "configmap/two\n");
    let r = run_in(t.path(), &["render", "one.jsonnet", "-o", "name"]);
    assert_eq!(r.stdout, "configmap/one\n", "{}", r.stderr);
}

#[test]
fn directory_options_apply_to_jsonnet_files() {
    let t = tree(&[("a.jsonnet", &cm("a")), ("sub/b.jsonnet", &cm("b")), ("sub/c.yaml", "")]);
    assert_eq!(names(t.path(), &[]), "configmap/a\n");
    assert_eq!(names(t.path(), &["-R"]), "configmap/a\nconfigmap/b\n");
    assert_eq!(names(t.path(), &["-R", "--exclude", "a.jsonnet"]), "configmap/b\n");
    // Jsonnet only below the top level: still evaluated with -R, ignored without.
    let t = tree(&[("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"), ("sub/b.jsonnet", &cm("b"))]);
    assert_eq!(names(t.path(), &[]), "configmap/a\n");
    assert_eq!(names(t.path(), &["-R"]), "configmap/a\nconfigmap/b\n");
}

#[test]
fn libsonnet_files_are_never_evaluated_on_their_own() {
    let t = tree(&[
        ("a.jsonnet", &format!("[(import 'l.libsonnet').x, {}]", cm("a"))),
        ("l.libsonnet", "{ x:: null, y: 'not a manifest' }"),
    ]);
    assert_eq!(names(t.path(), &[]), "configmap/a\n");
}

#[test]
fn ext_vars_strings_code_files_and_environment() {
    let program = "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: std.extVar('name') }, \
                   data: { code: std.toString(std.extVar('code')), file: std.extVar('file'), env: std.extVar('FROM_ENV'), \
                   codefile: std.toString(std.extVar('codefile')) } }";
    let t = tree(&[("main.jsonnet", program), ("value.txt", "from a file"), ("code.jsonnet", "{ n: 1 + 1 }")]);
    let out = std::process::Command::new(common::bin())
        .args(["render", ".", "-o", "json", "--ext-str", "name=cfg", "--ext-code", "code=[1, 2] + [3]"])
        .args(["--ext-str-file", "file=value.txt", "--ext-str", "FROM_ENV", "--ext-code-file", "codefile=code.jsonnet"])
        .env("FROM_ENV", "env value")
        .current_dir(t.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let data = &list["items"][0]["data"];
    assert_eq!(list["items"][0]["metadata"]["name"], "cfg");
    assert_eq!(data["code"], "[1, 2, 3]");
    assert_eq!(data["file"], "from a file");
    assert_eq!(data["env"], "env value");
    assert_eq!(data["codefile"], "{\"n\": 2}");
}

#[test]
fn tlas_strings_code_and_files() {
    let program = "function(name, n=1, obj={}) [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name + '-' + i } } for i in std.range(1, n)] + [obj]";
    let t = tree(&[("main.jsonnet", program), ("n.txt", "2"), ("obj.jsonnet", &cm("from-file"))]);
    assert_eq!(
        names(t.path(), &["--tla-str", "name=x", "--tla-code", "n=1 + 1", "--tla-code-file", "obj=obj.jsonnet"]),
        "configmap/from-file\nconfigmap/x-1\nconfigmap/x-2\n"
    );
    assert_eq!(names(t.path(), &["--tla-str-file", "name=n.txt"]), "configmap/2-1\n");
}

#[test]
fn jpath_vendor_and_lib_resolution_order() {
    let t = tree(&[
        (
            "app/main.jsonnet",
            "[(import 'which.libsonnet'), (import 'only-vendor.libsonnet'), (import 'only-jpath.libsonnet')]",
        ),
        ("app/vendor/which.libsonnet", &cm("from-vendor")),
        ("app/vendor/only-vendor.libsonnet", &cm("only-vendor")),
        ("app/lib/which.libsonnet", &cm("from-lib")),
        ("jp1/only-jpath.libsonnet", &cm("jpath-1")),
        ("jp2/only-jpath.libsonnet", &cm("jpath-2")),
        ("jp2/which.libsonnet", &cm("from-jpath-2")),
    ]);
    let app = t.path().join("app");
    // lib/ wins over vendor/ (Tanka); --jpath wins over both, the right-most first (jsonnet CLI).
    let r = run_in(&app, &["render", ".", "-o", "name", "-J", "../jp1"]);
    assert_eq!(r.stdout, "configmap/from-lib\nconfigmap/jpath-1\nconfigmap/only-vendor\n", "{}", r.stderr);
    let r = run_in(&app, &["render", ".", "-o", "name", "-J", "../jp1", "--jpath", "../jp2"]);
    assert_eq!(r.stdout, "configmap/from-jpath-2\nconfigmap/jpath-2\nconfigmap/only-vendor\n", "{}", r.stderr);
    // The importing file's own directory comes first.
    std::fs::write(app.join("which.libsonnet"), cm("beside")).unwrap();
    let r = run_in(&app, &["render", ".", "-o", "name", "-J", "../jp1"]);
    assert_eq!(r.stdout, "configmap/beside\nconfigmap/jpath-1\nconfigmap/only-vendor\n", "{}", r.stderr);
}

#[test]
fn vendor_at_the_repository_root_serves_an_app_in_a_subdirectory() {
    let t = tree(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("vendor/k.libsonnet", &cm("root-vendor")),
        ("apps/web/main.jsonnet", "import 'k.libsonnet'"),
    ]);
    let r = run_in(t.path(), &["render", "apps/web", "-o", "name"]);
    assert_eq!(r.stdout, "configmap/root-vendor\n", "{}", r.stderr);
}

#[test]
fn imports_may_not_leave_the_source_root() {
    let t = tree(&[
        ("outside/secret.libsonnet", "{}"),
        ("repo/.git/HEAD", ""),
        ("repo/app/main.jsonnet", "import '../../outside/secret.libsonnet'"),
    ]);
    let r = run_in(&t.path().join("repo"), &["render", "app"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("../../outside/secret.libsonnet: import resolves to"), "{}", r.stderr);
    assert!(r.stderr.contains("it is outside the source root"), "{}", r.stderr);
    assert!(r.stderr.contains("at app/main.jsonnet:1:8 (import \"../../outside/secret.libsonnet\")"), "{}", r.stderr);

    for (what, program) in [
        ("importstr", "importstr '/etc/hostname'"),
        ("importbin", "importbin '/etc/hostname'"),
        ("absolute import", "import '/etc/hostname'"),
    ] {
        let t = tree(&[("main.jsonnet", program)]);
        let r = run_in(t.path(), &["render", "."]);
        assert_eq!(r.code, 2, "{what}");
        assert!(
            r.stderr.contains("/etc/hostname: import resolves to /etc/hostname; it is outside the source root"),
            "{what}: {}",
            r.stderr
        );
    }
}

#[test]
fn jsonnet_main_may_not_leave_the_source_root() {
    let t = tree(&[("outside.jsonnet", "[]"), ("repo/.git/HEAD", ""), ("repo/app/a.jsonnet", "[]")]);
    let r = run_in(&t.path().join("repo"), &["render", "app", "--jsonnet-main", "../../outside.jsonnet"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("../../outside.jsonnet: path leaves the source root; it is outside the source root"),
        "{}",
        r.stderr
    );
}

#[test]
fn symlinks_may_not_leave_the_source_root() {
    let t = tree(&[
        ("outside/secret.txt", "s3cret"),
        (
            "repo/main.jsonnet",
            "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { s: importstr 'lib/link.txt' } }",
        ),
    ]);
    let repo = t.path().join("repo");
    std::fs::create_dir_all(repo.join("lib")).unwrap();
    std::os::unix::fs::symlink(t.path().join("outside/secret.txt"), repo.join("lib/link.txt")).unwrap();
    let r = run_in(&repo, &["render", "."]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("lib/link.txt: import resolves through a symlink to"), "{}", r.stderr);
    assert!(!r.stdout.contains("s3cret"));
    // A --jpath the user names is an opt-in: files in it, and links into it, may be read.
    let r = run_in(&repo, &["render", ".", "-o", "json", "-J", "../outside"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("s3cret"));
    std::fs::write(
        repo.join("main.jsonnet"),
        "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { s: importstr 'secret.txt' } }",
    )
    .unwrap();
    let r = run_in(&repo, &["render", ".", "-o", "json", "-J", "../outside"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("s3cret"));
}

#[test]
fn runtime_errors_carry_the_stack_trace() {
    assert_error(
        &[
            ("lib.libsonnet", "{\n  check(x)::\n    if x > 2 then error 'too big: ' + x\n    else x,\n}\n"),
            (
                "main.jsonnet",
                "local lib = import 'lib.libsonnet';\n{\n  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' },\n  data: { v: std.toString(lib.check(3)) },\n}\n",
            ),
        ],
        &["render", "."],
        "error: main.jsonnet: runtime error: too big: 3\n    at lib.libsonnet:3:19 (error statement)\n    at main.jsonnet:4:27 (function <check> call)\n",
    );
}

#[test]
fn error_messages() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "{ foo: { bar: 'x' } }",
            "error: main.jsonnet: $.foo.bar: expected a Kubernetes object, found a string\n",
            &[],
        ),
        ("[1]", "error: main.jsonnet: $[0]: expected a Kubernetes object, found a number\n", &[]),
        (
            "{ 'a-b': [true] }",
            "error: main.jsonnet: $[\"a-b\"][0]: expected a Kubernetes object, found a boolean\n",
            &[],
        ),
        ("'text'", "error: main.jsonnet: $: expected a Kubernetes object, found a string\n", &[]),
        (
            "{ x: { kind: 'Pod' } }",
            "error: main.jsonnet: $.x: object has `kind` but no `apiVersion`: not a Kubernetes object\n",
            &[],
        ),
        (
            "{ apiVersion: 'v1', kind: 'Pod', metadata: {} }",
            "error: main.jsonnet: $: missing or invalid field `metadata.name`\n",
            &[],
        ),
        (
            "{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, f: function(x) x }",
            "error: main.jsonnet: $.f: a function cannot be a value in a manifest\n",
            &[],
        ),
        (
            "{ apiVersion: 'v1', kind: 'List', items: [1] }",
            "error: main.jsonnet: $.items[0]: expected a Kubernetes object in the List's items\n",
            &[],
        ),
        ("local x = ;\n{}", "error: main.jsonnet: syntax error: expected one of", &[]),
        ("local x = ;\n{}", "\n    at main.jsonnet:1:11\n", &[]),
        (
            "std.extVar('nope')",
            "error: main.jsonnet: external variable is not defined: nope\n    at main.jsonnet:1:1",
            &[],
        ),
        (
            "import 'missing.libsonnet'",
            "error: main.jsonnet: cannot find import \"missing.libsonnet\" (searched ./)\n    at main.jsonnet:1:8",
            &[],
        ),
        ("function(name) []", "error: main.jsonnet: function argument is not passed: name", &[]),
        (
            "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, assert false : 'must not' }",
            "error: main.jsonnet: assert failed: must not\n    at main.jsonnet:1:",
            &[],
        ),
        ("[]", "error: --tla-code x: syntax error: expected", &["--tla-code", "x=1 +"]),
        ("[]", "error: --ext-code x: syntax error: expected", &["--ext-code", "x=["]),
        ("[]", "error: --ext-str-file x: missing.txt: ", &["--ext-str-file", "x=missing.txt"]),
        ("[]", "error: --jpath nowhere: ", &["-J", "nowhere"]),
        (
            "[]",
            "no `=VALUE` given and the environment variable KGO_SURELY_UNSET is not set",
            &["--ext-str", "KGO_SURELY_UNSET"],
        ),
        ("[]", "expected NAME=FILE", &["--tla-str-file", "x"]),
    ];
    for (program, expected, flags) in cases {
        let mut args = vec!["render", "."];
        args.extend_from_slice(flags);
        assert_error(&[("main.jsonnet", program)], &args, expected);
    }
}

#[test]
fn native_helpers() {
    let program = r#"
local n = std.native;
{
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'natives' },
  data: {
    yaml: std.toString(n('parseYaml')('a: 0644\nb: on\n---\n---\n- 1.0\n')),
    json: std.toString(n('parseJson')('{"x": [1, 2.5]}')),
    toYaml: n('manifestYamlFromJson')('{"b": 1, "a": ["x"]}'),
    toJson: n('manifestJsonFromJson')('{"a":1}', 2),
    sha: n('sha256')('abc'),
    esc: n('escapeStringRegex')('a.b*'),
    match: std.toString(n('regexMatch')('^a+$', 'aaa')),
    subst: n('regexSubst')('(o+)', 'foo boo', '<$1>'),
  },
}
"#;
    let t = tree(&[("main.jsonnet", program)]);
    let r = run_in(t.path(), &["render", ".", "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    let data = &list["items"][0]["data"];
    assert_eq!(data["yaml"], "[{\"a\": 420, \"b\": true}, [1]]");
    assert_eq!(data["json"], "{\"x\": [1, 2.5]}");
    assert_eq!(data["toYaml"], "a:\n- x\nb: 1\n");
    assert_eq!(data["toJson"], "{\n  \"a\": 1\n}\n");
    assert_eq!(data["sha"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(data["esc"], "a\\.b\\*");
    assert_eq!(data["match"], "true");
    assert_eq!(data["subst"], "f<oo> b<oo>");
}

#[test]
fn origins_name_the_jsonnet_file_in_duplicate_errors() {
    let t = tree(&[("a.jsonnet", &cm("same")), ("b.jsonnet", &format!("[{}]", cm("same")))]);
    let r = run_in(t.path(), &["render", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("defined at a.jsonnet and at b.jsonnet"), "{}", r.stderr);
}

#[test]
fn deep_recursion_as_deep_as_cpp_jsonnet_allows() {
    let program = |n: u32| {
        format!(
            "local count(n) = if n == 0 then 0 else 1 + count(n - 1);\n\
             {{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {{ name: 'depth' }}, data: {{ n: std.toString(count({n})) }} }}"
        )
    };
    let t = tree(&[("main.jsonnet", &program(450))]);
    let r = run_in(t.path(), &["render", ".", "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"n\": \"450\""), "{}", r.stdout);
    let t = tree(&[("main.jsonnet", &program(100_000))]);
    let r = run_in(t.path(), &["render", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("stack overflow: more than 500 nested Jsonnet calls"), "{}", r.stderr);
    assert!(r.stderr.contains("more frames"), "long traces are cut: {}", r.stderr);
}
