//! Sprig through templates; expected outputs are helm 4.1.4's
//! (`helm template` on a one-file chart).

use serde_json::json;

use super::add_sprig;
use crate::gotmpl::{Templates, Value};

/// helm's `toJson` (not Sprig's) is `json.Marshal`.
fn go_json(v: &Value) -> String {
    super::json::marshal(v, true, None).unwrap_or_default()
}

fn run(tpl: &str) -> Result<String, String> {
    let mut set = Templates::new();
    add_sprig(&mut set);
    set.add_func(crate::gotmpl::Func::new("toJson", crate::gotmpl::Arity::Exact(1), |_, a| {
        Ok(Value::from(go_json(&a[0])))
    }));
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
        (r#"{{ deepCopy nil }}"#, "error calling deepCopy: reflect: call of reflect.Value.Type on zero Value"),
        (r#"{{ indent .f "a" }}"#, "wrong type for value; expected int; got float64"),
    ];
    for (tpl, want) in cases {
        let got = run(tpl).expect_err(tpl);
        assert!(got.contains(want), "{tpl}: {got}");
    }
    check(&[(r#"{{ keys nil }} {{ round 2.5 0 1 }}"#, "[] 2")]);
}

/// One `helm template` run of many functions (helm 4.1.4's output).
#[test]
fn helm_batch() {
    check(&[
        (
            r#"{{ list (base "a/b/") (base "") (base "///") (dir "a/b/c") (dir "abc") (dir "/a") (clean "a//b/../../..") (clean "/../a/./") (ext "a/b.c.d") (ext "a.b/c") (isAbs "/x") (osBase "x/y") (tuple 1 2) (trimall "x" "xaxx") | toJson }}"#,
            r#"["b",".","/","a/b",".","/","..","/a",".d","",true,"y",[1,2],"a"]"#,
        ),
        (
            r#"{{ list (mustRegexMatch "a+" "caat") (regexMatch "(" "x") (regexSplit "a*" "xaay" -1) (regexSplit "," "a,b,c" 2) (regexFindAll "a." "abacad" 2) (regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W") (regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}") (regexQuoteMeta "a.b#c-d") | toJson }}"#,
            r#"[true,false,["x","y"],["a","b,c"],["ab","ac"],"-W-xxW-","-${1}-${1}-","a\\.b#c-d"]"#,
        ),
        (
            r#"{{ list (split "." "a.b.c") (splitn "." 2 "a.b.c") (splitList "" "abc") (sortAlpha (list "b" 10 "a")) (sortAlpha nil) (toStrings (list 1 nil "x")) | toJson }}"#,
            r#"[{"_0":"a","_1":"b","_2":"c"},{"_0":"a","_1":"b.c"},["a","b","c"],["10","a","b"],["\u003cnil\u003e"],["1","x"]]"#,
        ),
        (
            r#"{{ list (default "d" 0) (default "d" list) (default "d" (dict)) (default "d" false) (default "d" "x") (default "d") (coalesce 0 "" "z") (coalesce) (empty (dict "a" 1)) (all 1 "a") (any 0 "") (ternary "y" "n" true) | toJson }}"#,
            r#"["d","d","d","d","x","d","z",null,false,true,false,"y"]"#,
        ),
        (
            r#"{{ list (dict "a" 1 "b") (get (dict "a" 1) "z") (hasKey (dict "a" 1) "a") (pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3)) (dig "x" "y" "def" (dict "x" (dict "y" 5))) (dig "x" "q" "def" (dict "x" (dict "y" 5))) (pick (dict "a" 1 "b" 2) "a" "z") (omit (dict "a" 1 "b" 2) "a") (values (dict "a" 1)) (keys (dict "b" 1) (dict "a" 2 "b" 3)) | toJson }}"#,
            r#"[{"a":1,"b":""},"",true,[1,3],5,"def",{"a":1},{"b":2},[1],["b","a","b"]]"#,
        ),
        (
            r#"{{ list (mergeOverwrite (dict "a" 1 "l" (list 1 2) "m" (dict "x" 1)) (dict "a" nil "l" (list 3) "m" (dict "y" 2))) (merge (dict "l" (list 1 2)) (dict "l" (list 3) "n" nil)) | toJson }}"#,
            r#"[{"a":null,"l":[3],"m":{"x":1,"y":2}},{"l":[1,2]}]"#,
        ),
        (
            r#"{{ list (uniq (list 1 1 "1" 2 1)) (without (list 1 2 3 1) 1 3) (has 2 (list 1 2)) (has "a" nil) (compact (list 0 1 "" nil "x" false)) (initial (list 1 2 3)) (last (list 1 2 3)) (reverse (list 1 2 3)) (append (list 1) 2) (prepend (list 1) 0) (concat (list 1) (list 2 3)) (chunk 2 (list 1 2 3 4 5)) (until -3) (untilStep 10 0 -3) | toJson }}"#,
            r#"[[1,"1",2],[2],true,false,[1,"x"],[1,2],3,[3,2,1],[1,2],[0,1],[1,2,3],[[1,2],[3,4],[5]],[0,-1,-2],[10,7,4,1]]"#,
        ),
        (
            r#"{{ list (b64enc "hello") (b64dec "aGVsbG8=") (b32enc "hello") (b32dec "NBSWY3DP") (sha1sum "hello") (sha256sum "hello") (adler32sum "hello") (b32dec "!!!") | toJson }}"#,
            r#"["aGVsbG8=","hello","NBSWY3DP","hello","aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d","2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","103547413","illegal base32 data at input byte 0"]"#,
        ),
        (
            r#"{{ list (typeOf 1) (kindOf (list)) (typeIs "int" 1) (kindIs "map" (dict)) (typeIsLike "int" 1) (deepEqual (list 1 2) (list 1 2)) (deepEqual 1 1.0) (kindOf nil) (typeOf nil) | toJson }}"#,
            r#"["int","slice",true,true,true,true,false,"invalid","\u003cnil\u003e"]"#,
        ),
        (
            r#"{{ list (trim "  a b \n") (trimAll "$" "$$5.00$") (trimPrefix "-" "--a") (trimSuffix "-" "a--") (upper "abc") (lower "ABC") (repeat 3 "ab") (nospace "a b\tc") (trunc 3 "hello") (abbrev 3 "hello") (plural "one" "many" 2) (replace "a" "b" "aaa") (indent 2 "a\nb") (nindent 2 "a") (contains "b" "abc") (hasPrefix "a" "abc") (hasSuffix "c" "abc") | toJson }}"#,
            r#"["a b","5.00","-a","a-","ABC","abc","ababab","abc","hel","hello","many","bbb","  a\n  b","\n  a",true,true,true]"#,
        ),
        (
            r#"{{ list (int64 "9223372036854775807") (int "1_000") (int "-0x10") (int true) (float64 "abc") (int "0b101") (int " 1") (atoi "+5") (add1 "2") (sub 5 2.5) (mul 2 "3" 4) (mod 7 3) (min 3 1 2) (maxf 1 2.5 "3") (minf 1 2.5) (ceil 1.2) (subf 1 0.9) (mulf 0.1 3) | toJson }}"#,
            r#"[9223372036854775807,1000,-16,1,0,5,0,5,3,3,24,1,1,3,1,2,0.1,0.3]"#,
        ),
    ]);
}

#[test]
fn dates() {
    check(&[
        (
            r#"{{ list (date "2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3PM .999 pm MST -0700 06 1 2 002" 1700000000) (dateInZone "Monday January 2 15:04:05 -07:00" 86399 "UTC") (htmlDate 0) (unixEpoch (toDate "2006-01-02" "2024-02-29")) (toDate "2006-01-02 15:04" "2024-02-29 13:45" | date "Jan 2 15:04") (duration 95) (duration "3700") (dateModify "-1.5h" (toDate "2006-01-02" "2024-03-01") | date "2006-01-02 15:04") (toDate "2006" "x" | typeOf) (typeOf now) (dateInZone "15:04 MST" 0 "Nope/Zone") | toJson }}"#,
            r#"["2023-11-14T22:13:20.000Z Tue Nov 14 10PM  pm UTC +0000 23 11 14 318","Thursday January 1 23:59:59 +00:00","1970-01-01","1709164800","Feb 29 13:45","0s","1h1m40s","2024-02-29 22:30","time.Time","time.Time","00:00 UTC"]"#,
        ),
        (
            r#"{{ toDate "2006-01-02" "2024-02-29" }} | {{ date "2006" 1.5e9 | len }} | {{ durationRound "3700s" }} {{ durationRound 90061 }} {{ durationRound "-5m" }}"#,
            "2024-02-29 00:00:00 +0000 UTC | 4 | 1h 0s 5m",
        ),
    ]);
}

#[test]
fn json_as_go_writes_it() {
    check(&[
        (
            r#"{{ toPrettyJson (dict "a" (list 1 2.5 1e-7 1e21 123456789.0 "<&>") "e" (list) "m" (dict) "t" (toDate "2006-01-02" "2024-02-29") "v" (semver "1.2.3")) | quote }}"#,
            r#""{\n  \"a\": [\n    1,\n    2.5,\n    1e-7,\n    1e+21,\n    123456789,\n    \"\\u003c\\u0026\\u003e\"\n  ],\n  \"e\": [],\n  \"m\": {},\n  \"t\": \"2024-02-29T00:00:00Z\",\n  \"v\": \"1.2.3\"\n}""#,
        ),
        (
            r#"{{ toRawJson (dict "a" "<&>\u2028" "n" nil "f" 0.000001 "g" 1e20) | quote }}"#,
            r#""{\"a\":\"<&>\\u2028\",\"f\":0.000001,\"g\":100000000000000000000,\"n\":null}""#,
        ),
    ]);
}

#[test]
fn urls_and_extras() {
    check(&[
        (
            r#"{{ list (abbrevboth 5 10 "1234 5678 9123") (abbrevboth 0 5 "abcdefghij") (abbrevboth 1 6 "abcdefghij") (wrapWith 5 "<br>" "abcdefghijkl mn") (hello) (add1f 1.1) (mustToJson (dict "a" 1)) (mustFromJson "{\"a\":[1,\"x\",null]}") (mustFromJson "[1]" | typeOf) (randInt 3 4) (randBytes 3 | len) | toJson }}"#,
            r#"["...5678...","ab...","abcdefghij","abcde\u003cbr\u003efghij\u003cbr\u003ekl mn","Hello!",2.1,"{\"a\":1}",{"a":[1,"x",null]},"[]interface {}",3,4]"#,
        ),
        (
            r#"{{ urlParse "https://u:p@example.com:8443/a%20b/c?x=1&y=%20#frag%20x" | toJson }}"#,
            r#"{"fragment":"frag x","host":"example.com:8443","hostname":"example.com","opaque":"","path":"/a b/c","query":"x=1\u0026y=%20","scheme":"https","userinfo":"u:p"}"#,
        ),
        (
            r#"{{ urlParse "mailto:joe@x.org" | toJson }} {{ urlJoin (dict "scheme" "https" "host" "h:1" "path" "/a b" "query" "q=1" "fragment" "f g" "userinfo" "u:p") }}"#,
            r#"{"fragment":"","host":"","hostname":"","opaque":"joe@x.org","path":"","query":"","scheme":"mailto","userinfo":""} https://u:p@h:1/a%20b?q=1#f%20g"#,
        ),
    ]);
    let e = run(r#"{{ mustDateModify "x" now }}"#).unwrap_err();
    assert!(e.ends_with(r#"error calling mustDateModify: time: invalid duration "x""#), "{e}");
    let e = run(r#"{{ randInt 3 3 }}"#).unwrap_err();
    assert!(e.ends_with("error calling randInt: invalid argument to Intn"), "{e}");
}

/// Every constraint/version pair of testdata/semver_helm.tsv, as helm
/// answers it.
#[test]
fn semver_matrix_matches_helm() {
    let mut wrong = Vec::new();
    for line in include_str!("testdata/semver_helm.tsv").lines().filter(|l| !l.starts_with('#')) {
        let [c, v, want] = line.split('\t').collect::<Vec<_>>()[..] else {
            panic!("bad line {line:?}");
        };
        let got = run(&format!(r#"{{{{ semverCompare "{c}" "{v}" }}}}"#)).unwrap_or_else(|e| e);
        if got != want {
            wrong.push(format!("{c:?} {v:?}: want {want}, got {got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let e = run(r#"{{ semverCompare "" "1.2.3" }}"#).unwrap_err();
    assert!(e.ends_with("error calling semverCompare: improper constraint: "), "{e}");
}

/// Values as helm reads them from values.yaml: every number a float64.
#[test]
fn values_numbers_are_floats() {
    let mut set = Templates::new();
    add_sprig(&mut set);
    set.add_func(crate::gotmpl::Func::new("toJson", crate::gotmpl::Arity::Exact(1), |_, a| {
        Ok(Value::from(go_json(&a[0])))
    }));
    let values = Value::from_json(&json!({
        "port": 8080, "big": 1000000, "f": 1.5, "s": "x", "b": true, "n": null, "l": ["a", "b"],
        "nl": [1, 2], "m": {"k": "v", "z": 0}, "e": "", "z": 0
    }));
    let dot = Value::map([("Values".to_string(), values)].into_iter().collect());
    let tpl = r#"{{ list (toString .Values.port) (quote .Values.big) (toString .Values.big) (int .Values.big) (.Values.f | int64) (default 3 .Values.z) (default 3 .Values.n) (default "d" .Values.e) (empty .Values.m) (has "a" .Values.l) (has 1 .Values.nl) (has 1.0 .Values.nl) (typeOf .Values.port) (kindOf .Values.l) (join "-" .Values.nl) (sortAlpha .Values.l) (last .Values.l) (keys .Values.m | sortAlpha) (hasKey .Values.m "z") (get .Values.m "k") (pluck "k" .Values.m) (coalesce .Values.n .Values.z .Values.port) (ternary "a" "b" .Values.b) (add .Values.port 1) (mul .Values.f 2) (mulf .Values.f 2) (max .Values.port .Values.big) (cat .Values.port .Values.f) (printf "%v" (list .Values.port)) (toStrings .Values.nl) (until 2 | toStrings) (uniq (list .Values.port 8080 .Values.port)) | toJson }}"#;
    set.parse("t", tpl).unwrap();
    assert_eq!(
        set.execute("t", &dot).unwrap(),
        r#"["8080","\"1e+06\"","1e+06",1000000,1,3,3,"d",false,true,false,true,"float64","slice","1-2",["a","b"],"b",["k","z"],true,"v",["v"],8080,"a",8081,2,3,1000000,"8080 1.5","[8080]",["1","2"],["0","1"],[8080,8080]]"#
    );
}

#[test]
fn edge_cases_match_helm() {
    check(&[(
        r#"{{ list (regexSplit "a*" "xaay" -1) (regexSplit "" "abc" -1) (regexSplit "," "" -1) (regexFindAll "a*" "baaab" -1) (regexReplaceAll "a*" "baaab" "-") (toString (dict "a" 1)) (toString (list 1 "a" nil)) (toString nil) (toString true) (quote (list 1 2)) (quote) (join "," (until 3)) (split "," "a,b")._1 (title "ünïcode wörds") (upper "straße") (initials "  a  b ") (nospace " a\u00a0b ") (trim "\u00a0x\u00a0") (cat) (repeat 0 "x") (trunc 0 "abc") (default (list 1) nil) (seq) (seq 1 2 3 4) (chunk 3 (list)) (compact (list)) (uniq (list)) (first (list)) (rest (list)) (dict) (values (dict)) (typeOf (split "," "a")) (typeOf (dict)) (kindOf (semver "1.0.0")) (typeOf (semver "1.0.0")) | toJson }}"#,
        r#"[["x","y"],["a","b","c"],[""],["","aaa",""],"-b-b-","map[a:1]","[1 a \u003cnil\u003e]","\u003cnil\u003e","true","\"[1 2]\"","","0,1,2","b","Ünïcode Wörds","STRAßE","ab","aÂb","x","","","",[1],"","",[],[],[],null,null,{},[],"map[string]string","map[string]interface {}","ptr","*semver.Version"]"#,
    )]);
}

#[test]
fn env_is_not_defined() {
    assert!(run(r#"{{ env "HOME" }}"#).unwrap_err().contains(r#"function "env" not defined"#));
}

#[test]
fn merge_edge_cases_match_helm() {
    check(&[(
        r#"{{ list (merge (dict "a" "s") (dict "a" (dict "x" 1))) (mergeOverwrite (dict "a" "s") (dict "a" (dict "x" 1))) (merge (dict "a" (dict "x" 1)) (dict "a" "s")) (mergeOverwrite (dict "a" (dict "x" 1)) (dict "a" "s")) (merge (dict) (dict "a" (list))) (mergeOverwrite (dict "a" 1) (dict "a" 0)) (merge (dict "a" (list)) (dict "a" (list 1))) (mergeOverwrite (dict "a" (list 1)) (dict "a" (list))) (deepCopy (dict "a" (list 1 (dict "b" 2)))) (merge (dict "a" (dict)) (dict "a" (dict "b" (dict "c" 1)))) | toJson }}"#,
        r#"[{"a":"s"},{"a":{"x":1}},{"a":{"x":1}},{"a":"s"},{"a":[]},{"a":0},{"a":[1]},{"a":[]},{"a":[1,{"b":2}]},{"a":{"b":{"c":1}}}]"#,
    )]);
}
