//! Sprig through templates; expected outputs are helm 4.1.4's
//! (`helm template` on a one-file chart).

use serde_json::json;

use super::add_sprig;
use crate::gotmpl::{Templates, Value};

fn run(tpl: &str) -> Result<String, String> {
    let mut set = Templates::new();
    add_sprig(&mut set);
    set.parse("t", tpl).map_err(|e| e.to_string())?;
    let dot = Value::from_json(&json!({"n": null, "f": 1.5, "l": [1, 2], "m": {"a": {"b": "deep"}}}));
    set.execute("t", &dot).map_err(|e| e.to_string())
}

fn check(cases: &[(&str, &str)]) {
    for (tpl, want) in cases {
        assert_eq!(run(tpl).as_deref(), Ok(*want), "{tpl}");
    }
}

#[test]
fn conversions_follow_cast() {
    check(&[
        (
            r#"{{ int "010" }} {{ int "0x1F" }} {{ int "1.0" }} {{ int "1.5" }} {{ int 1.9 }} {{ int64 "12" | typeOf }}"#,
            "8 31 1 0 1 int64",
        ),
        (
            r#"{{ toString 1.5 }} {{ toString 3 }} {{ float64 "1e3" }} {{ toDecimal "777" }} {{ atoi "x" }}"#,
            "1.5 3 1000 511 0",
        ),
    ]);
}

#[test]
fn math() {
    check(&[(
        r#"{{ addf 0.1 0.2 }} {{ divf 1 3 }} {{ mulf 1.1 3 }} {{ add 1 "2" 3.7 }} {{ max 1 5 "3" }} {{ round 2.555 2 }} {{ floor "1.5" }}"#,
        "0.3 0.3333333333333333 3.3 6 5 2.56 1",
    )]);
}

#[test]
fn lists_and_seq() {
    check(&[
        (
            r#"{{ seq 5 }} | {{ seq 2 5 }} | {{ seq 5 2 }} | {{ seq 0 2 10 }} | {{ seq 1 -1 }} | {{ until 3 }} | {{ untilStep 0 10 3 | typeOf }}"#,
            "1 2 3 4 5 | 2 3 4 5 | 5 4 3 2 | 0 2 4 6 8 10 | 1 0 -1 | [0 1 2] | []int",
        ),
        (
            r#"{{ slice (list 1 2 3) 1 | typeOf }} {{ slice (splitList "," "a,b") 1 | typeOf }} {{ first (splitList "," "a,b") }} {{ rest (splitList "," "a,b") | typeOf}} {{ keys (dict "b" 1 "a" 2) | typeOf }}"#,
            "[]interface {} []string a []interface {} []string",
        ),
    ]);
}

#[test]
fn merge_fills_empty_values() {
    check(&[(
        r#"{{ $m := merge (dict "a" 0 "b" "" "c" false "d" (dict "x" 1)) (dict "a" 5 "b" "x" "c" true "d" (dict "x" 2 "y" 3)) }}{{ $m.a }} {{ $m.b }} {{ $m.c }} {{ $m.d.x }} {{ $m.d.y }}"#,
        "5 x true 1 3",
    )]);
}

#[test]
fn strings() {
    check(&[
        (
            r#"{{ title "hello wORLD foo-bar x_y" }} {{ untitle "Hello World" }} {{ camelcase "http_server_name" }} {{ swapcase "Hello World" }}"#,
            "Hello WORLD Foo-Bar X_y hello world HttpServerName hELLO wORLD",
        ),
        (
            r#"{{ wrap 5 "hello world foo" | quote }} {{ abbrev 5 "hello world" }} {{ initials "hello world" }} {{ substr 1 3 "hello" }} {{ trunc -2 "hello" }}"#,
            r#""hello\nworld\nfoo" he... hw el lo"#,
        ),
        (
            r#"{{ quote 1 nil "a" }} {{ squote nil 2 }} {{ cat 1 nil "x" 2.5 }} {{ join "," (list 1 nil "a") }} {{ b64dec "!!" }}"#,
            r#""1" "a" '2' 1 x 2.5 1,a illegal base64 data at input byte 0"#,
        ),
    ]);
}

#[test]
fn semver() {
    check(&[
        (
            r#"{{ semverCompare ">=1.21-0" "1.30.0-gke.1" }} {{ semverCompare ">=1.21" "1.30.0-gke.1" }} {{ semverCompare ">=1.21-0" "v1.20.5" }}"#,
            "true false false",
        ),
        (
            r#"{{ semver "1.2.3-beta.1+abc" }} {{ (semver "v1.2").Minor }} {{ semverCompare "^1.2" "1.9.9" }} {{ semverCompare "~1.2" "1.3.0" }} {{ semverCompare ">1.2" "1.2.5" }}"#,
            "1.2.3-beta.1+abc 2 true false false",
        ),
    ]);
}

#[test]
fn semver_ranges() {
    check(&[(
        r#"{{ semverCompare "<1.22.0-0" "1.21.14-eks-1" }} {{ semverCompare "1.2 - 1.4" "1.4.9" }} {{ semverCompare "!=1.2.x" "1.2.3" }} {{ semverCompare "^0.2.3" "0.2.9" }} {{ semverCompare ">= 1.19-0, < 1.21-0 || >=1.25" "1.26.1" }}"#,
        "true true false true true",
    )]);
}

#[test]
fn case_conversions() {
    check(&[
        (
            r#"{{ list (camelcase "GOLANG_IS_GREAT") (camelcase "_complex__case_") (camelcase "some words") (camelcase "fooBar") | join "," }}"#,
            "GolangIsGreat,_Complex_Case_,SomeWords,FooBar",
        ),
        (
            r#"{{ list (snakecase "FirstName") (snakecase "HTTPServer") (snakecase "NoHTTPS") (snakecase "GO PATH") (snakecase "http2xx") (snakecase "HTTP20xOK") (snakecase "Duration2m3s") (snakecase "Bld4Floor3rd") (snakecase "a.b$c") (snakecase "__a--b") (snakecase "fooBar.baz") | join "," }}"#,
            "first_name,http_server,no_https,go_path,http_2xx,http_20x_ok,duration_2m3s,bld4_floor_3rd,a.b_$_c,__a__b,foo_bar.baz",
        ),
        (
            r#"{{ list (kebabcase "FirstName") (kebabcase "helloWorld_x") (kebabcase "X") (kebabcase "ABC") (kebabcase "HTTPServer nameX") | join "," }}"#,
            "first-name,hello-world-x,x,abc,http-server-name-x",
        ),
    ]);
}

#[test]
fn errors_read_as_helms() {
    let cases = [
        (r#"{{ semver "1.2.x" }}"#, "error calling semver: invalid semantic version"),
        (r#"{{ semverCompare "foo" "1.2.3" }}"#, "error calling semverCompare: improper constraint: foo"),
        (r#"{{ semverCompare ">1" "1.2.03-01" }}"#, "error calling semverCompare: version segment starts with 0"),
        (r#"{{ first "abc" }}"#, "error calling first: Cannot find first on type string"),
        (r#"{{ prepend "abc" 1 }}"#, "error calling prepend: Cannot prepend on type string"),
        (r#"{{ first nil }}"#, "error calling first: runtime error: invalid memory address or nil pointer dereference"),
        (r#"{{ substr 3 10 "ab" }}"#, "error calling substr: runtime error: slice bounds out of range [3:2]"),
        (
            r#"{{ substr -1 10 "ab" }}"#,
            "error calling substr: runtime error: slice bounds out of range [:10] with length 2",
        ),
        (r#"{{ regexFind "(" "x" }}"#, "error calling regexFind: regexp: Compile(`(`): error parsing regexp: "),
        (
            r#"{{ dig "a" "b" 1 (dict "a" "s") }}"#,
            "error calling dig: interface conversion: interface {} is string, not map[string]interface {}",
        ),
        (r#"{{ set nil "a" 1 }}"#, "error calling set: assignment to entry in nil map"),
        (r#"{{ repeat -1 "a" }}"#, "error calling repeat: strings: negative Repeat count"),
        (r#"{{ concat (list 1) "a" }}"#, "error calling concat: Cannot concat type string as list"),
        (r#"{{ slice (list 1 2) 3 }}"#, "error calling slice: reflect.Value.Slice: slice index out of bounds"),
        (r#"{{ chunk 0 (list 1) }}"#, "error calling chunk: runtime error: makeslice: len out of range"),
        (r#"{{ div 1 0 }}"#, "error calling div: runtime error: integer divide by zero"),
        (r#"{{ divf 1 0 }}"#, "error calling divf: decimal division by 0"),
        (r#"{{ indent .f "a" }}"#, "wrong type for value; expected int; got float64"),
    ];
    for (tpl, want) in cases {
        let got = run(tpl).expect_err(tpl);
        assert!(got.contains(want), "{tpl}: {got}");
    }
    check(&[(r#"{{ keys nil }} {{ round 2.5 0 1 }}"#, "[] 2")]);
}
