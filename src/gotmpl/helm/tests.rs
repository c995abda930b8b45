//! Helm's functions against facts from helm 4.1.4 (`helm template` on
//! small charts; `testdata/` holds the values and helm's output).

use super::{add_helm, yaml};
use crate::gotmpl::{MissingKey, Templates, Value};

fn values() -> Value {
    let text = include_str!("testdata/toyaml_values.yaml");
    let v = crate::render::chart::values::load_values_yaml(text).unwrap();
    Value::from_json_int64(&serde_json::Value::Object(v))
}

fn set() -> Templates {
    let mut set = Templates::new();
    add_helm(&mut set);
    set.options.missing_key = MissingKey::Zero;
    set
}

fn run(tpl: &str) -> Result<String, String> {
    let mut set = set();
    set.parse("t", tpl).map_err(|e| e.to_string())?;
    let dot = Value::from_json(&serde_json::json!({"Values": {"a": 1}}));
    set.execute("t", &dot).map_err(|e| e.to_string())
}

#[test]
fn to_yaml_matches_helm_byte_for_byte() {
    let got = yaml::to_yaml(&values()).unwrap();
    let want = include_str!("testdata/toyaml_helm.yaml");
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {}", i + 1);
    }
    assert_eq!(got, want);
}

#[test]
fn to_yaml_pretty_matches_helm_byte_for_byte() {
    let got = yaml::to_yaml_pretty(&values()).unwrap();
    let want = include_str!("testdata/toyamlpretty_helm.yaml");
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {}", i + 1);
    }
    assert_eq!(got, want);
}

#[test]
fn scalars_and_roots_as_helm_prints_them() {
    let got = run(
        r#"{{ toYaml "foo" }}|{{ toYaml 3 }}|{{ toYaml 1.5 }}|{{ toYaml nil }}|{{ toYaml list }}|{{ toYaml dict }}|{{ toYaml "multi\nline" }}|{{ toYaml (list "a" (list "b")) }}|"#,
    )
    .unwrap();
    assert_eq!(got, "foo|3|1.5|null|[]|{}||-\n  multi\n  line|- a\n- - b|");
}

#[test]
fn to_toml_matches_helm() {
    let v = values();
    let Value::Map(m) = &v else { panic!() };
    let got = super::toml::to_toml(&m.get("nested").unwrap());
    assert_eq!(
        got.trim_end(),
        "a = [[1.0, 2.0], [3.0]]\nt = true\n\n[b]\n  c = [1.0, {d = \"e\", f = []}, [], {}]\n\n[e]"
    );
}

#[test]
fn include_and_tpl() {
    assert_eq!(run(r#"{{ define "x" }}[{{ .a }}]{{ end }}{{ include "x" .Values | upper }}"#).unwrap(), "[1]");
    // defines made inside tpl are visible to include inside it, not outside
    assert_eq!(run(r#"{{ tpl "{{ define \"d\" }}D{{ end }}{{ include \"d\" . }}" . }}"#).unwrap(), "D");
    let e = run(r#"{{ tpl "{{ define \"d\" }}D{{ end }}" . }}{{ template "d" }}"#).unwrap_err();
    assert!(e.ends_with(r#"template "d" not defined"#), "{e}");
    // <no value> removed from tpl output
    assert_eq!(run(r#"[{{ tpl "{{ .nope }}" .Values }}]"#).unwrap(), "[]");
    assert_eq!(
        run(r#"{{ tpl "{{ nofunc }}" . }}"#).unwrap_err(),
        r#"template: t:1:3: executing "t" at <tpl "{{ nofunc }}" .>: error calling tpl: cannot parse template "{{ nofunc }}": template: gotpl:1: function "nofunc" not defined"#
    );
    assert_eq!(
        run(r#"{{ tpl "{{ .x.y.z }}" . }}"#).unwrap_err(),
        r#"template: t:1:3: executing "t" at <tpl "{{ .x.y.z }}" .>: error calling tpl: error during tpl function execution for "{{ .x.y.z }}": template: gotpl:1:5: executing "gotpl" at <.x.y.z>: nil pointer evaluating interface {}.y"#
    );
    assert_eq!(
        run(r#"{{ include "nope" . }}"#).unwrap_err(),
        r#"template: t:1:3: executing "t" at <include "nope" .>: error calling include: template: no template "nope" associated with template "gotpl""#
    );
}

#[test]
fn include_recursion_stops_as_in_helm() {
    let e = run(r#"{{ define "rec" }}{{ include "rec" . }}{{ end }}{{ include "rec" . }}"#).unwrap_err();
    assert!(
        e.ends_with(
            "error calling include: rendering template has a nested reference name: rec: unable to execute template"
        ),
        "{}",
        e.chars().rev().take(300).collect::<String>()
    );
    // helm lets a name nest 1001 times: 1002 "error calling include" in all
    assert_eq!(e.matches("error calling include").count(), 1002);
}

#[test]
fn required_fail_lookup() {
    let e = run(r#"{{ required "need it" .Values.nope }}"#).unwrap_err();
    assert_eq!(super::errors::exec_error("t", &e), "execution error at (t:1:3): need it");
    let e = run(r#"{{ fail "boom" }}"#).unwrap_err();
    assert_eq!(super::errors::exec_error("t", &e), "execution error at (t:1:3): boom");
    assert_eq!(run(r#"{{ required "x" .Values.a }}"#).unwrap(), "1");
    assert_eq!(run(r#"{{ lookup "v1" "Secret" "ns" "n" | toJson }}"#).unwrap(), "{}");
}

#[test]
fn from_functions() {
    assert_eq!(run(r#"{{ (fromYaml "a: yes\nb: 1") | toJson }}"#).unwrap(), r#"{"a":true,"b":1}"#);
    assert_eq!(run(r#"{{ (fromYaml "a: 1").a | kindOf }}"#).unwrap(), "float64");
    assert_eq!(run(r#"{{ fromYamlArray "- 1\n- x" | toJson }}"#).unwrap(), r#"[1,"x"]"#);
    assert_eq!(run(r#"{{ (fromJson "{\"a\":[1,2]}").a | toJson }}"#).unwrap(), "[1,2]");
    assert_eq!(run(r#"{{ fromJsonArray "[1,\"x\"]" | toJson }}"#).unwrap(), r#"[1,"x"]"#);
    assert_eq!(
        run(r#"{{ (fromJson "[1]").Error }}"#).unwrap(),
        "json: cannot unmarshal array into Go value of type map[string]interface {}"
    );
    assert_eq!(run(r#"{{ (fromToml "a = 1\n[b]\nc = \"d\"") | toJson }}"#).unwrap(), r#"{"a":1,"b":{"c":"d"}}"#);
}
