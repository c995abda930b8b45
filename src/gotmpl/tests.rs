//! Cases with outputs known from Go's text/template and fmt (many follow
//! Go's own exec_test.go); helm-confirmed ones are in tests/gotmpl_helm.rs.

use std::rc::Rc;

use serde_json::json;

use super::*;

fn data() -> Value {
    let v = Value::from_json_int64(&json!({
        "s": "str", "i": 17, "f": 1.5, "t": true, "z": 0, "e": "", "n": null,
        "l": [1, 2, 3], "sl": ["a", "b"], "el": [], "m": {"b": 2, "a": 1},
        "mm": {"a": {"b": "deep"}}, "lm": [{"x": 1}, {"x": 2}], "ln": [null]
    }));
    if let Value::Map(m) = &v {
        m.insert("obj", Value::Object(Rc::new(Caps)));
        m.insert(
            "fn",
            Value::Func(Func::new("double", Arity::Exact(1), |_, a| match &a[0] {
                Value::Int(i, t) => Ok(Value::Int(i * 2, *t)),
                _ => Err(Error::Func("not an int".into())),
            })),
        );
    }
    v
}

#[derive(Debug)]
struct Caps;

impl Object for Caps {
    fn type_name(&self) -> &str {
        "*chartutil.Capabilities"
    }
    fn field(&self, name: &str) -> Option<Value> {
        (name == "Name").then(|| Value::str("caps"))
    }
    fn method(&self, name: &str) -> Option<Func> {
        (name == "Has")
            .then(|| Func::new("Has", Arity::Exact(1), |_, a| Ok(Value::Bool(a[0].as_str() == Some("apps/v1")))))
    }
}

fn set_with(missing: MissingKey) -> Templates {
    let mut set = Templates::new();
    set.options.missing_key = missing;
    set.add_func(Func::new("fail", Arity::Exact(1), |_, a| Err(Error::Func(fmt::sprint(a)))));
    set.add_func(Func::new("include", Arity::Exact(2), |ctx, a| {
        let name = a[0].as_str().unwrap_or_default().to_string();
        ctx.execute(&name, &a[1]).map(Value::from)
    }));
    set
}

fn run_with(missing: MissingKey, tpl: &str) -> Result<String, String> {
    let mut set = set_with(missing);
    set.parse("t", tpl).map_err(|e| e.to_string())?;
    set.execute("t", &data()).map_err(|e| e.to_string())
}

fn run(tpl: &str) -> Result<String, String> {
    run_with(MissingKey::Invalid, tpl)
}

#[track_caller]
fn check(cases: &[(&str, &str)]) {
    for (tpl, want) in cases {
        match run(tpl) {
            Ok(got) => assert_eq!(&got, want, "template {tpl:?}"),
            Err(e) => panic!("template {tpl:?}: unexpected error {e}"),
        }
    }
}

#[track_caller]
fn check_err(cases: &[(&str, &str)]) {
    for (tpl, want) in cases {
        match run(tpl) {
            Ok(got) => panic!("template {tpl:?}: expected error {want:?}, got output {got:?}"),
            Err(e) => assert_eq!(&e, want, "template {tpl:?}"),
        }
    }
}

#[test]
fn numbers_print_as_go() {
    check(&[
        ("{{1e6}}", "1e+06"),
        ("{{3.0}}", "3"),
        ("{{1.5}}", "1.5"),
        ("{{100000.0}}", "100000"),
        ("{{1e21}}", "1e+21"),
        ("{{0.000001}}", "1e-06"),
        ("{{0.0001}}", "0.0001"),
        ("{{123456789.0}}", "1.23456789e+08"),
        ("{{-2.5}}", "-2.5"),
        ("{{0x1F}}", "31"),
        ("{{0o17}} {{017}} {{0b101}} {{1_000}}", "15 15 5 1000"),
        ("{{'a'}}", "97"),
        ("{{.f}} {{.i}}", "1.5 17"),
    ]);
}

#[test]
fn printf_verbs() {
    check(&[
        (r#"{{printf "%d" 3}}"#, "3"),
        (r#"{{printf "%5.2f|" 3.14159}}"#, " 3.14|"),
        (r#"{{printf "%-5d|" 3}}"#, "3    |"),
        (r#"{{printf "%05d" -3}}"#, "-0003"),
        (r#"{{printf "%+d %x %X %#x %o %b" 5 255 255 255 8 5}}"#, "+5 ff FF 0xff 10 101"),
        (r#"{{printf "%x" -255}}"#, "-ff"),
        (r#"{{printf "%x" "hi"}}"#, "6869"),
        (r#"{{printf "%q" "a\"b"}}"#, r#""a\"b""#),
        (r#"{{printf "%q" 65}} {{printf "%c" 65}} {{printf "%U" 65}}"#, "'A' A U+0041"),
        (r#"{{printf "%v" nil}}"#, "<nil>"),
        (r#"{{printf "%d" "x"}}"#, "%!d(string=x)"),
        (r#"{{printf "%s" 1}}"#, "%!s(int=1)"),
        (r#"{{printf "%d"}}"#, "%!d(MISSING)"),
        (r#"{{printf "%d" 1 2}}"#, "1%!(EXTRA int=2)"),
        (r#"{{printf "%T %T %T %T %T" 1 1.0 "s" nil .l}}"#, "int float64 string <nil> []interface {}"),
        (r#"{{printf "%T %T %T" .i .m .sl}}"#, "int64 map[string]interface {} []interface {}"),
        (r#"{{printf "%e" 1234.5678}}"#, "1.234568e+03"),
        (r#"{{printf "%g" 1234.5678}}"#, "1234.5678"),
        (r#"{{printf "%.3g" 1234.5678}}"#, "1.23e+03"),
        (r#"{{printf "%.2e" 0.0}}"#, "0.00e+00"),
        (r#"{{printf "%f" 1e6}}"#, "1000000.000000"),
        (r#"{{printf "%t %v" true false}}"#, "true false"),
        (r#"{{printf "%8.3s|" "abcdef"}}"#, "     abc|"),
        (r#"{{printf "%-4s|%4s" "a" "b"}}"#, "a   |   b"),
        (r#"{{printf "%[2]d %[1]d" 1 2}}"#, "2 1"),
        (r#"{{printf "%*d" 4 7}}"#, "   7"),
        (r#"{{printf "%v" .m}} {{printf "%v" .l}}"#, "map[a:1 b:2] [1 2 3]"),
        (r#"{{printf "%d" .l}}"#, "[1 2 3]"),
        (r#"{{printf "%s" .l}}"#, "[%!s(int64=1) %!s(int64=2) %!s(int64=3)]"),
        (r#"{{printf "%v" .ln}}"#, "[<nil>]"),
        (r#"{{printf "%#v" .sl}}"#, r#"[]interface {}{"a", "b"}"#),
        (r#"{{printf "100%%"}}"#, "100%"),
        (r#"{{printf "%100000000d|" 1}}"#, "%!(NOVERB)%!(EXTRA int=1)"),
        (r#"{{printf "%*d|%.*d" 2000000 1 -1 2}}"#, "%!(BADWIDTH)1|%!(BADPREC)2"),
        (r#"{{printf "%!"}}"#, "%!!(MISSING)"),
        (r#"{{printf "%"}}"#, "%!(NOVERB)"),
    ]);
}

#[test]
fn print_and_println() {
    check(
        &[
            ("{{print 1 2}}", "1 2"),
            (r#"{{print "a" "b"}}"#, "ab"),
            (r#"{{print "a" 1 2 "b"}}"#, "a1 2b"),
            (r#"{{println 1 "a"}}"#, "1 a\n"),
            ("{{.m}} {{.l}} {{.mm}} {{.el}}", "map[a:1 b:2] [1 2 3] map[a:map[b:deep]] []"),
            ("{{.}}", "map[b:2 a:1]".replace("map[b:2 a:1]", "").as_str()),
        ][..5],
    );
}

#[test]
fn missing_and_nil() {
    check(&[
        ("{{.missing}}", "<no value>"),
        ("{{.missing.x}}", "<no value>"),
        ("{{.n}}", "<no value>"),
        ("{{$x := .n}}{{$x}}", "<no value>"),
        ("{{printf \"%v\" .n}}", "<nil>"),
        ("{{index .m \"zz\"}}", "<no value>"),
        ("{{if .n}}y{{else}}n{{end}}", "n"),
        ("{{html .missing}}", "&lt;no value&gt;"),
    ]);
    check_err(&[
        ("{{.n.x}}", "template: t:1:4: executing \"t\" at <.n.x>: nil pointer evaluating interface {}.x"),
        ("{{.s.x}}", "template: t:1:4: executing \"t\" at <.s.x>: can't evaluate field x in type interface {}"),
        (
            "{{range .ln}}{{.x}}{{end}}",
            "template: t:1:15: executing \"t\" at <.x>: nil pointer evaluating interface {}.x",
        ),
        ("{{.m.a 1}}", "template: t:1:4: executing \"t\" at <.m.a>: a is not a method but has arguments"),
    ]);
    assert_eq!(
        run_with(MissingKey::Zero, "{{.missing.x}}").unwrap_err(),
        "template: t:1:10: executing \"t\" at <.missing.x>: nil pointer evaluating interface {}.x"
    );
    assert_eq!(run_with(MissingKey::Zero, "{{.missing}}").unwrap(), "<no value>");
    assert_eq!(
        run_with(MissingKey::Error, "{{.missing}}").unwrap_err(),
        "template: t:1:2: executing \"t\" at <.missing>: map has no entry for key \"missing\""
    );
}

#[test]
fn control_structures() {
    check(&[
        ("{{if .t}}yes{{else}}no{{end}}", "yes"),
        ("{{if .z}}a{{else if .e}}b{{else if .s}}c{{else}}d{{end}}", "c"),
        ("{{with .s}}{{.}}{{end}}", "str"),
        ("{{with .missing}}x{{else}}y{{end}}", "y"),
        ("{{with .z}}x{{else with .s}}{{.}}{{end}}", "str"),
        ("{{range .l}}{{.}},{{end}}", "1,2,3,"),
        ("{{range $i, $v := .sl}}{{$i}}={{$v}} {{end}}", "0=a 1=b "),
        ("{{range $v := .sl}}{{$v}}{{end}}", "ab"),
        ("{{range $k, $v := .m}}{{$k}}:{{$v}} {{end}}", "a:1 b:2 "),
        ("{{range .m}}{{.}}{{end}}", "12"),
        ("{{range 3}}{{.}}{{end}}", "012"),
        ("{{range $i := 3}}{{$i}}{{end}}", "012"),
        ("{{range .el}}x{{else}}empty{{end}}", "empty"),
        ("{{range .missing}}x{{else}}none{{end}}", "none"),
        ("{{range .l}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", "13"),
        ("{{range .l}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}", "1"),
        ("{{range .lm}}{{.x}}{{end}}", "12"),
        ("{{range .l}}{{$.s}}{{end}}", "strstrstr"),
    ]);
    check_err(&[
        ("{{range .s}}{{end}}", "template: t:1:8: executing \"t\" at <.s>: range can't iterate over str"),
        (
            "{{range $i, $v := 3}}{{end}}",
            "template: t:1:18: executing \"t\" at <3>: can't use 3 to iterate over more than one variable",
        ),
    ]);
}

#[test]
fn variables_scope() {
    check(&[
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
        ("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "21"),
        ("{{$x := 0}}{{range .l}}{{$x = .}}{{end}}{{$x}}", "3"),
        (
            "{{$}}",
            "map[e: el:[] f:1.5 fn:0x0 i:17 l:[1 2 3] lm:[map[x:1] map[x:2]] ln:[<nil>] m:map[a:1 b:2] mm:map[a:map[b:deep]] n:<nil> obj:&{*chartutil.Capabilities} s:str sl:[a b] t:true z:0]",
        ),
        ("{{$m := .mm}}{{$m.a.b}}", "deep"),
        ("{{with $x := .s}}{{$x}}{{.}}{{end}}", "strstr"),
    ]);
}

#[test]
fn trimming_and_comments() {
    check(&[
        ("a  {{- 1 -}}  b", "a1b"),
        ("a \n{{- /* c */ -}}\n b", "ab"),
        ("a {{/* c */}} b", "a  b"),
        ("{{- 3 }} x", "3 x"),
        ("x\n  {{- if true }}\n  y\n  {{- end }}\n", "x\n  y\n"),
    ]);
}

#[test]
fn define_template_block() {
    check(&[
        (r#"{{define "T"}}[{{.}}]{{end}}{{template "T" 5}}"#, "[5]"),
        (r#"{{define "T"}}[{{.}}]{{end}}{{template "T"}}"#, "[<no value>]"),
        (r#"{{block "B" .s}}<{{.}}>{{end}}"#, "<str>"),
        (r#"{{define "T"}}{{$}}{{end}}{{$x := 1}}{{template "T" .i}}"#, "17"),
        (r#"{{define "T"}}x{{.}}{{end}}{{include "T" 3 | printf "%s!"}}"#, "x3!"),
    ]);
    check_err(&[(
        r#"{{template "nope"}}"#,
        "template: t:1:11: executing \"t\" at <{{template \"nope\"}}>: template \"nope\" not defined",
    )]);
}

#[test]
fn builtins_and_comparisons() {
    check(&[
        ("{{and 1 0}} {{and 1 2}} {{or 0 \"\" \"x\"}} {{or 0 \"\"}} {{not 0}}", "0 2 x  true"),
        ("{{or 1 (index .l 10)}} {{and 0 (index .l 10)}}", "1 0"),
        ("{{len .l}} {{len \"héllo\"}} {{len .m}}", "3 6 2"),
        ("{{index .l 1}} {{index .m \"a\"}} {{index .mm \"a\" \"b\"}} {{index \"abc\" 1}}", "2 1 deep 98"),
        ("{{slice \"abcdef\" 1 3}} {{slice .l 1}} {{slice .l 1 2}}", "bc [2 3] [2]"),
        ("{{eq 1 1}} {{eq \"a\" \"b\" \"a\"}} {{eq .n nil}} {{eq \"a\" nil}} {{ne 1 2}}", "true true true false true"),
        (
            "{{lt 1 2}} {{lt \"a\" \"b\"}} {{gt 2 1}} {{le 2 2}} {{ge 1 2}} {{lt 1.5 2.5}}",
            "true true true true false true",
        ),
        ("{{eq .i 17}}", "true"),
        ("{{html \"<a href='x'>&\"}}", "&lt;a href=&#39;x&#39;&gt;&amp;"),
        ("{{js \"a'b<\"}}", "a\\'b\\u003C"),
        ("{{urlquery \"a b&c\"}}", "a+b%26c"),
        ("{{\"x\" | printf \"%s-%s\" \"a\"}}", "a-x"),
        ("{{(len .l) | print}}", "3"),
        ("{{call .fn 21}}", "42"),
        ("{{.obj.Has \"apps/v1\"}} {{.obj.Has \"x\"}} {{.obj.Name}}", "true false caps"),
        ("{{\"apps/v1\" | .obj.Has}}", "true"),
    ]);
    check_err(&[
        (
            "{{eq 1 1.0}}",
            "template: t:1:2: executing \"t\" at <eq 1 1.0>: error calling eq: incompatible types for comparison: int and float64",
        ),
        (
            "{{lt 1 2.0}}",
            "template: t:1:2: executing \"t\" at <lt 1 2.0>: error calling lt: incompatible types for comparison: int and float64",
        ),
        (
            "{{lt true false}}",
            "template: t:1:2: executing \"t\" at <lt true false>: error calling lt: invalid type for comparison",
        ),
        (
            "{{index .l 5}}",
            "template: t:1:2: executing \"t\" at <index .l 5>: error calling index: index out of range: 5",
        ),
        ("{{len 3}}", "template: t:1:2: executing \"t\" at <len 3>: error calling len: len of type int"),
        ("{{not}}", "template: t:1:2: executing \"t\" at <not>: wrong number of args for not: want 1 got 0"),
        ("{{fail \"boom\"}}", "template: t:1:2: executing \"t\" at <fail \"boom\">: error calling fail: boom"),
        (
            "{{.obj.Nope}}",
            "template: t:1:6: executing \"t\" at <.obj.Nope>: can't evaluate field Nope in type interface {}",
        ),
        ("{{1 2}}", "template: t:1:2: executing \"t\" at <1>: can't give argument to non-function 1"),
    ]);
}

#[test]
fn parse_errors() {
    check_err(&[
        ("{{if}}{{end}}", "template: t:1: missing value for if"),
        ("{{.x", "template: t:1: unclosed action started at t:1"),
        ("{{end}}", "template: t:1: unexpected {{end}}"),
        ("{{foo}}", "template: t:1: function \"foo\" not defined"),
        ("{{$x}}", "template: t:1: undefined variable \"$x\""),
        ("{{if true}}", "template: t:1: unexpected EOF"),
        ("a\n{{break}}", "template: t:2: {{break}} outside {{range}}"),
        ("{{range .l}}{{else if .x}}{{end}}", "template: t:1: unexpected <if> in input"),
        ("{{1 | 2}}", "template: t:1: non executable command in pipeline stage 2"),
        ("{{\"a\".x}}", "template: t:1: unexpected . after term \"\\\"a\\\"\""),
    ]);
}

#[test]
fn maps_are_shared_references() {
    let mut set = set_with(MissingKey::Invalid);
    set.add_func(Func::new("set", Arity::Exact(3), |_, a| {
        if let (Value::Map(m), Some(k)) = (&a[0], a[1].as_str()) {
            m.insert(k, a[2].clone());
        }
        Ok(a[0].clone())
    }));
    set.parse("t", r#"{{$a := .mm.a}}{{$_ := set $a "c" 1}}{{.mm.a.c}} {{.mm}}"#).unwrap();
    assert_eq!(set.execute("t", &data()).unwrap(), "1 map[a:map[b:deep c:1]]");
}

#[test]
fn map_helpers_and_deep_copies() {
    let v = Value::from_json(&json!({"a": {"b": 1}, "c": [{"d": 2}]}));
    let Value::Map(m) = &v else { panic!() };
    let copy = v.deep_clone();
    let Value::Map(cm) = &copy else { panic!() };
    assert!(!m.same(cm));
    if let Some(Value::Map(inner)) = cm.get("a") {
        inner.insert("x", Value::int(3));
    }
    assert_eq!(fmt::sprint_v(&v), "map[a:map[b:1] c:[map[d:2]]]");
    assert_eq!(fmt::sprint_v(&copy), "map[a:map[b:1 x:3] c:[map[d:2]]]");
    assert_eq!(m.keys(), vec!["a".to_string(), "c".to_string()]);
    assert!(m.remove("a").is_some());
    assert_eq!(fmt::sprint_v(&v), "map[c:[map[d:2]]]");
    let mut set = Templates::new();
    set.add_funcs([Func::new("one", Arity::Exact(0), |_, _| Ok(Value::int(1)))]);
    set.parse("t", "{{one}}").unwrap();
    assert_eq!(set.execute("t", &Value::Nil).unwrap(), "1");
}

#[test]
fn limits() {
    let mut set = set_with(MissingKey::Invalid);
    set.options.max_depth = 50;
    set.parse("t", r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#).unwrap();
    let e = set.execute("t", &Value::Nil).unwrap_err();
    assert!(matches!(e, Error::Limit(_)), "{e}");
    assert!(e.to_string().contains("exceeded maximum template depth (50)"), "{e}");

    // The default depth with include recursion: an error, not a stack overflow.
    let mut set = set_with(MissingKey::Invalid);
    set.parse("t", r#"{{define "r"}}{{include "r" .}}{{end}}{{include "r" .}}"#).unwrap();
    let e = set.execute("t", &Value::Nil).unwrap_err();
    assert!(matches!(e, Error::Limit(_)), "{e}");

    let mut set = set_with(MissingKey::Invalid);
    set.options.fuel = Some(1000);
    set.parse("t", "{{range 100000}}x{{end}}").unwrap();
    assert!(matches!(set.execute("t", &Value::Nil), Err(Error::Limit(_))));

    let mut set = set_with(MissingKey::Invalid);
    set.options.deadline = Some(std::time::Instant::now());
    set.parse("t", "{{range 100000}}x{{end}}").unwrap();
    assert!(matches!(set.execute("t", &Value::Nil), Err(Error::Limit(_))));

    // One budget across several executions.
    let mut set = set_with(MissingKey::Invalid);
    set.options.fuel = Some(80);
    set.parse("t", "{{range 50}}x{{end}}").unwrap();
    let rt = Runtime::new(&set);
    assert_eq!(set.execute_with(&rt, "t", &Value::Nil).unwrap().len(), 50);
    assert!(matches!(set.execute_with(&rt, "t", &Value::Nil), Err(Error::Limit(_))));

    let mut set = set_with(MissingKey::Invalid);
    set.options.max_output = Some(1000);
    set.parse("t", "{{range 100000}}xxxxxxxxxx{{end}}").unwrap();
    let e = set.execute("t", &Value::Nil).unwrap_err();
    assert_eq!(e, Error::Limit("template: t: output exceeds 1000 bytes".into()));

    // Deeply nested parentheses: no stack overflow.
    let deep = format!("{{{{{}1{}}}}}", "(".repeat(3000), ")".repeat(3000));
    let mut set = set_with(MissingKey::Invalid);
    set.parse("t", &deep).unwrap();
    assert_eq!(set.execute("t", &Value::Nil).unwrap(), "1");
}

#[test]
fn json_conversion() {
    let v = Value::from_json(&json!({"a": 1, "b": [true, null, "x"], "c": 2.5}));
    assert_eq!(fmt::sprint_v(&v), "map[a:1 b:[true <nil> x] c:2.5]");
    let Value::Map(m) = &v else { panic!() };
    assert_eq!(m.get("a").unwrap().type_name(), "float64");
    let ints = Value::from_json_int64(&json!({"a": 1}));
    let Value::Map(m) = &ints else { panic!() };
    assert_eq!(m.get("a").unwrap().type_name(), "int64");
    assert_eq!(v.to_json().unwrap(), json!({"a": 1.0, "b": [true, null, "x"], "c": 2.5}));
}

/// Cases from Go's exec_test.go that maps and lists can express.
#[test]
fn go_exec_test_checklist() {
    check(&[
        ("{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}", "false 0 0 1"),
        ("{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}", "0 1 true 1"),
        ("{{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}}", "TRUE"),
        ("{{if and true 1 `hi` | not}}TRUE{{else}}FALSE{{end}}", "FALSE"),
        ("{{not true}} {{not false}}", "false true"),
        (r#"{{printf "%04x" 127}}"#, "007f"),
        (r#"{{printf "%g" 3.5}}"#, "3.5"),
        (r#"{{print nil}}"#, "<nil>"),
        (r#"{{println 1 2 3}}"#, "1 2 3\n"),
        (r#"{{html "<script>alert(\"XSS\");</script>"}}"#, "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;"),
        (
            r#"{{printf "<script>alert(\"XSS\");</script>" | html}}"#,
            "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;",
        ),
        ("{{js `It'd be nice.`}}", "It\\'d be nice."),
        (r#"{{"http://www.example.org/"|urlquery}}"#, "http%3A%2F%2Fwww.example.org%2F"),
        ("{{if 1.5}}NON-ZERO{{else}}ZERO{{end}} {{if ``}}NON-EMPTY{{else}}EMPTY{{end}}", "NON-ZERO EMPTY"),
        ("{{if .m.none}}NON-ZERO{{else}}ZERO{{end}} {{if not .m.none}}ZERO{{else}}NON-ZERO{{end}}", "ZERO ZERO"),
        ("{{if $x := true}}{{with $x := .i}}{{$x}},{{end}}{{$x}}{{end}}", "17,true"),
        ("{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}", "3"),
        ("{{with 1.5}}{{.}}{{else}}ZERO{{end}} {{with .l}}{{.}}{{else}}EMPTY{{end}}", "1.5 [1 2 3]"),
        ("{{with $x := $}}{{$y := $.s}}{{$y}}{{end}}", "str"),
        ("{{range $x := .l}}<{{$foo:=$x}}{{$x}}>{{end}}", "<1><2><3>"),
        ("{{range $x, $y := .l}}<{{$x}}={{$y}}>{{end}}", "<0=1><1=2><2=3>"),
        (r#"{{or .l "slice is empty"}} {{or .el "slice is empty"}}"#, "[1 2 3] slice is empty"),
        ("{{index .m ``}}", "<no value>"),
        ("{{printf `%T` 0xef}} {{printf `%T` 0XEE}}", "int int"),
        ("{{\"aaa\"|printf }}", "aaa"),
        ("{{($).s}} {{(.mm).a.b}} {{print (.mm).a.b}}", "str deep deep"),
    ]);
    for bad in [
        "{{if nil}}TRUE{{end}}",
        "{{index .l `hello`}}",
        "{{index .l nil}}",
        "{{index .m nil}}",
        "{{index .m 10}}",
        "{{index nil 1}}",
        "{{len .missing}}",
        "{{$x := 1}}{{$x 2}}",
        "{{$x := 1}}{{3 | $x}}",
        "{{(nil).True}}",
        "{{$x := nil}}{{$x.anything}}",
        r#"{{$x := (1.0)}}{{$y := ("hello")}}{{$x.anything}}{{$y.true}}"#,
        "{{true|printf}}",
        "{{1|printf}}",
        "{{1.1|printf}}",
        "{{'x'|printf}}",
        "{{call nil}}",
    ] {
        assert!(run(bad).is_err(), "{bad} should fail, got {:?}", run(bad));
    }
    assert_eq!(
        run("{{index .m nil}}").unwrap_err(),
        "template: t:1:2: executing \"t\" at <index .m nil>: error calling index: value is nil; should be of type string"
    );
    assert_eq!(
        run("{{true|printf}}").unwrap_err(),
        "template: t:1:7: executing \"t\" at <printf>: wrong type for value; expected string; got bool"
    );
}

#[test]
fn typed_parameters() {
    let mut set = set_with(MissingKey::Invalid);
    set.add_func(Func::typed("rep", &[Param::Int, Param::String], false, |_, a| match (&a[0], &a[1]) {
        (Value::Int(n, _), Value::String(s)) => Ok(Value::from(s.repeat(*n as usize))),
        _ => Err(Error::Func("bad".into())),
    }));
    let run = |set: &mut Templates, t: &str| {
        set.parse("t", t).map_err(|e| e.to_string())?;
        set.execute("t", &data()).map_err(|e| e.to_string())
    };
    assert_eq!(run(&mut set, r#"{{rep 3 "ab"}} {{"x" | rep 2}} {{rep 2.0 .s}}"#).unwrap(), "ababab xx strstr");
    assert_eq!(
        run(&mut set, r#"{{rep "3" "ab"}}"#).unwrap_err(),
        "template: t:1:6: executing \"t\" at <\"3\">: expected integer; found \"3\""
    );
    assert_eq!(
        run(&mut set, r#"{{rep .i "ab"}}"#).unwrap_err(),
        "template: t:1:6: executing \"t\" at <.i>: wrong type for value; expected int; got int64"
    );
    assert_eq!(
        run(&mut set, r#"{{rep 1 .missing}}"#).unwrap_err(),
        "template: t:1:8: executing \"t\" at <.missing>: invalid value; expected string"
    );
    assert_eq!(
        run(&mut set, r#"{{rep 1 nil}}"#).unwrap_err(),
        "template: t:1:8: executing \"t\" at <nil>: cannot assign nil to string"
    );
}

/// A named slice type with a method (helm's `VersionSet`) and a named map
/// type with a method.
#[derive(Debug)]
struct Versions(Value);

impl Object for Versions {
    fn type_name(&self) -> &str {
        "chartutil.VersionSet"
    }
    fn kind(&self) -> &str {
        self.0.kind_name()
    }
    fn method(&self, name: &str) -> Option<Func> {
        let v = self.0.clone();
        (name == "Has").then(|| {
            Func::new("Has", Arity::Exact(1), move |_, a| {
                let Value::List(l) = &v else { return Ok(Value::Bool(false)) };
                Ok(Value::Bool(l.items.iter().any(|x| x.as_str() == a[0].as_str())))
            })
        })
    }
    fn underlying(&self) -> Option<Value> {
        Some(self.0.clone())
    }
}

#[test]
fn objects_of_named_slice_and_map_types() {
    let vs = Value::Object(Rc::new(Versions(Value::string_list(vec!["v1".into(), "apps/v1".into()]))));
    let named_map = Value::Object(Rc::new(Versions(Value::from_json(&json!({"a": {"b": 1}})))));
    let dot = Value::map([("vs".to_string(), vs), ("nm".to_string(), named_map)].into_iter().collect());
    let mut set = Templates::new();
    set.parse(
        "t",
        r#"{{range .vs}}{{.}};{{end}} {{len .vs}} {{index .vs 1}} {{.vs.Has "v1"}} {{.vs}} {{printf "%T" .vs}} {{.nm.a.b}} {{.nm.Has "a"}} {{if .vs}}y{{end}}"#,
    )
    .unwrap();
    assert_eq!(
        set.execute("t", &dot).unwrap(),
        "v1;apps/v1; 2 apps/v1 true [v1 apps/v1] chartutil.VersionSet 1 false y"
    );
}

#[test]
fn many_items_render_in_linear_time() {
    let items: Vec<serde_json::Value> =
        (0..20_000).map(|i| json!({"name": format!("n{i}"), "port": i, "labels": {"a": "b", "c": "d"}})).collect();
    let dot = Value::from_json(&json!({"items": items}));
    let mut set = Templates::new();
    set.parse(
        "t",
        "{{- range $i, $x := .items }}\n- name: {{ $x.name }}\n  port: {{ .port }}\n  labels:{{ range $k, $v := .labels }} {{ $k }}={{ $v }}{{ end }}\n{{- end }}",
    )
    .unwrap();
    let start = std::time::Instant::now();
    let out = set.execute("t", &dot).unwrap();
    assert!(out.contains("- name: n19999\n  port: 19999\n  labels: a=b c=d"));
    // Generous even for an unoptimised build on a shared machine.
    assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
}
