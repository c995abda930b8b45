//! Differential test of the Go template engine (`gotmpl`) against helm
//! 4.1.4: each case is a one-file chart rendered by `helm template` and by
//! our engine with `.Values` (helm's `missingkey=zero`, `<no value>`
//! removed as helm does); outputs and error messages must be identical.
//! Skipped with a message when helm is missing (scripts/install-helm.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

use kubectl_gitops::gotmpl::{IntType, MissingKey, Templates, Value};
use kubectl_gitops::yaml;

fn helm() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("KUBECTL_GITOPS_HELM").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kubectl-gitops-test/bin/helm")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        eprintln!("SKIPPED: no helm binary (run scripts/install-helm.sh); gotmpl differential test not run");
    }
    found
}

const VALUES: &str = r#"{"s": "str", "i": 17, "f": 1.5, "big": 1234567, "t": true, "z": 0, "e": "",
  "l": [1, 2, 3], "sl": ["a", "b"], "el": [], "m": {"b": 2, "a": 1}, "mm": {"a": {"b": "deep"}},
  "lm": [{"x": 1}, {"x": 2}], "neg": -0.5, "tiny": 0.00001, "huge": 1e21, "u": "héllo wörld",
  "fl": [0, 1, -1, 0.1, 0.2, 0.3, 1.1, 2.675, 1.005, 1e-7, 123456, 1234567, 12345678.9, 1e15, 123456789012,
         9007199254740992, 1e16, 1.5e300, 2.5e-308, 3.14159265358979, 100, 1e5, 999999, 999999.5, 0.000099999,
         0.5, 1.5, 2.5, -2.5, 0.125, 7e-5, 6.02214076e23, 1.7976931348623157e308, 4.9e-324, 33.333333333333336]}"#;

/// `--set` integers are int64 in helm.
const SET: &str = "si=5,sneg=-3,sbig=9223372036854775807";

const NAME: &str = "t/templates/t.yaml";

/// Helm 4 prints some template errors as `LOCATION\n  executing "N" at <C>:\n    MSG`;
/// this gives them back Go's one-line form.
fn go_error(stderr: &str) -> String {
    let e = stderr.trim().strip_prefix("Error: ").unwrap_or(stderr.trim());
    let e = e.split("\n\nUse --debug").next().unwrap_or(e);
    let lines: Vec<&str> = e.lines().collect();
    if lines.len() == 3 && lines[1].starts_with("  executing ") {
        return format!("template: {}: {} {}", lines[0], lines[1].trim(), lines[2].trim());
    }
    e.to_string()
}

/// Helm prints parse errors as `parse error at (LOCATION): MSG`, keeping
/// only the tail of Go's message after its last `: `; ours must agree on
/// the location and end with that tail.
fn same_error(helm: &str, ours: &str) -> bool {
    if let Some(rest) = helm.strip_prefix("parse error at (")
        && let Some((loc, msg)) = rest.split_once("): ")
    {
        return ours.starts_with(&format!("template: {loc}: ")) && ours.ends_with(msg);
    }
    helm == ours
}

fn helm_render(helm: &Path, dir: &Path, tpl: &str) -> Result<String, String> {
    std::fs::write(dir.join("t/templates/t.yaml"), format!("# {tpl}\n")).unwrap();
    let out = Command::new(helm).args(["template", "x", "--set", SET]).arg(dir.join("t")).output().unwrap();
    if !out.status.success() {
        return Err(go_error(&String::from_utf8_lossy(&out.stderr)));
    }
    let s = String::from_utf8(out.stdout).unwrap();
    Ok(s.strip_prefix("---\n# Source: t/templates/t.yaml\n").unwrap_or(&s).trim_end().to_string())
}

fn ours(tpl: &str) -> Result<String, String> {
    let mut set = Templates::new();
    set.options.missing_key = MissingKey::Zero;
    set.parse(NAME, &format!("# {tpl}\n")).map_err(|e| e.to_string())?;
    // The project's YAML reader: its floats are correctly rounded (serde_json's
    // default float parser is not: 2.5e-308 would read one ulp off).
    let values = Value::from_json(&yaml::parse_one(VALUES, yaml::Dialect::Kubectl).unwrap());
    if let Value::Map(m) = &values {
        // What `--set SET` adds: integers as int64.
        m.insert("si", Value::Int(5, IntType::Int64));
        m.insert("sneg", Value::Int(-3, IntType::Int64));
        m.insert("sbig", Value::Int(i64::MAX, IntType::Int64));
    }
    let dot = Value::map([("Values".to_string(), values)].into_iter().collect());
    let out = set.execute(NAME, &dot).map_err(|e| e.to_string())?;
    Ok(out.replace("<no value>", "").trim_end().to_string())
}

const CASES: &[&str] = &[
    "{{ .Values.l }} {{ .Values.m }} {{ .Values.mm }} {{ .Values.el }} {{ .Values.lm }}",
    "{{ .Values.big }} {{ .Values.i }} {{ .Values.f }} {{ .Values.neg }} {{ .Values.tiny }} {{ .Values.huge }}",
    "{{ 1e6 }} {{ 3.0 }} {{ 100000.0 }} {{ 0.0001 }} {{ 1e-5 }} {{ 0x10 }} {{ 'a' }} {{ -7 }}",
    r#"{{ printf "%T %T %T %T %T %T" .Values.i 1 1.0 "s" .Values.l .Values.m }}"#,
    r#"{{ printf "%d %5d|%-5d|%05d %x %X %o %b %c %q %U" 42 42 42 -42 255 255 8 5 65 65 65 }}"#,
    r#"{{ printf "%f %.2f %8.3f| %e %.3e %g %.3g %G" 3.14159 3.14159 3.14159 123456.789 123456.789 123456.789 123456.789 1e-7 }}"#,
    r#"{{ printf "%v %v %v %v" .Values.big .Values.tiny .Values.huge .Values.neg }}"#,
    r#"{{ printf "%s|%10s|%-10s|%.2s|%q|%x" "abc" "abc" "abc" "abc" "a\"b" "hi" }}"#,
    r#"{{ printf "%d" "x" }} {{ printf "%s" 1 }} {{ printf "%d" }} {{ printf "%d" 1 2 }} {{ printf "%!" }} {{ printf "%" }}"#,
    r#"{{ printf "%s" .Values.l }} {{ printf "%d" .Values.m }} {{ printf "%v" nil }} {{ printf "%d" nil }}"#,
    r#"{{ printf "%+d % d %+.1f %#x %#o %#v %#v" 5 5 2.5 255 8 .Values.sl "q" }}"#,
    r#"{{ printf "%[2]s %[1]s %*d|%-*d|" "a" "b" 3 7 3 7 }}"#,
    r#"{{ print 1 2 "a" "b" 3 nil }} {{ println 1 "x" }}"#,
    r#"{{ printf "%q %v %x" .Values.u .Values.u .Values.u }}"#,
    "{{ if .Values.t }}y{{ else }}n{{ end }} {{ if .Values.z }}y{{ else if .Values.e }}e{{ else }}n{{ end }}",
    "{{ with .Values.mm.a }}{{ .b }}{{ end }} {{ with .Values.nope }}x{{ else with .Values.s }}{{ . }}{{ end }}",
    "{{ range .Values.l }}{{ . }},{{ end }} {{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}",
    "{{ range $i, $v := .Values.sl }}{{ $i }}{{ $v }}{{ end }} {{ range 3 }}{{ . }}{{ end }} {{ range .Values.el }}x{{ else }}empty{{ end }}",
    "{{ range .Values.l }}{{ if eq . 2.0 }}{{ continue }}{{ end }}{{ if eq . 3.0 }}{{ break }}{{ end }}{{ . }}{{ end }}",
    "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }} {{ range .Values.l }}{{ $x = . }}{{ end }}{{ $x }}",
    "{{ .Values.nope }}|{{ .Values.mm.nope }}|{{ index .Values.m \"zz\" }}|{{ $v := .Values.nope }}{{ $v }}",
    "{{ and 1 0 }} {{ and 1 2 }} {{ or 0 \"\" }} {{ or 0 \"x\" }} {{ not .Values.e }} {{ or 1 (index .Values.l 99) }}",
    "{{ len .Values.l }} {{ len .Values.u }} {{ len .Values.m }} {{ index .Values.l 1 }} {{ index .Values.mm \"a\" \"b\" }} {{ index \"abc\" 1 }}",
    "{{ eq 1 1 }} {{ eq .Values.s \"x\" \"str\" }} {{ ne .Values.i 17.0 }} {{ lt .Values.f 2.0 }} {{ ge \"b\" \"a\" }} {{ eq .Values.nope nil }}",
    r#"{{ html "<a href='x'>&\"" }} {{ js "a'b\"c<d>&=\\" }} {{ urlquery "a b&c/d?é" }} {{ html .Values.nope }}"#,
    r#"{{ define "T" }}[{{ . }}]{{ end }}{{ template "T" .Values.s }}{{ block "B" 5 }}<{{ . }}>{{ end }}"#,
    "{{- /* comment */ -}} a  {{- 1 -}}  b",
    "{{ (len .Values.l) | printf \"%d!\" }} {{ .Values.s | printf \"%s-%s\" \"x\" }}",
    r#"{{ printf "%.0f %.0f %.0f %.1f %5.1f|%-8.2f|%08.3f %+.3e" 2.5 3.5 -0.5 0.05 9.96 1.005 -3.14159 12345.678 }}"#,
    r#"{{ printf "%g %g %g %g %g %g %g" 1e-5 1e20 1e21 123456789.0 0.1 100.0 -0.0 }}"#,
    r#"{{ printf "%v %v %v" 9007199254740993.0 1.7976931348623157e308 5e-324 }}"#,
    r#"{{ printf "%10.4v|%-8v|%8v|%3v" 3.14159265 "ab" .Values.l .Values.i }}"#,
    r#"{{ printf "%x %X %o %b %e" 3 -3 -8 -5 0.0 }}"#,
    r#"{{ printf "%t %t %v" true .Values.t .Values.nope }} {{ printf "%s %v %d" .Values.m .Values.mm .Values.lm }}"#,
    r#"{{ printf "%6.2s|%-6q|%06d|%-06d|%+06d" "abc" "x" 42 42 42 }}"#,
    r#"{{ printf "%c%c%c %q %U %#U" 72 105 9731 10 9731 9731 }}"#,
    r#"{{ printf "%v|%s|%d" true true true }}"#,
    r#"{{ printf "%5t|%-7t|" true false }}"#,
    "a\n#  {{- 1 }}\n#  {{ 2 -}}\n#  b",
    r#"{{ define "D" }}{{ $ }}:{{ . }}{{ end }}{{ $x := 5 }}{{ template "D" .Values.sl }}"#,
    r#"{{ define "E" }}{{ range . }}<{{ . }}>{{ end }}{{ end }}{{ template "E" .Values.m }}"#,
    "{{ range $v := .Values.m }}{{ $v }}{{ end }} {{ range $i, $e := .Values.lm }}{{ $i }}{{ $e.x }}{{ end }}",
    "{{ with $x := .Values.s }}{{ $x }}{{ . }}{{ end }} {{ with .Values.lm }}{{ len . }}{{ end }}",
    "{{ (index .Values.lm 1).x }} {{ (.Values.mm).a.b }} {{ $m := .Values.mm }}{{ $m.a.b }}",
    "{{ if and .Values.t .Values.s }}1{{ end }}{{ if or .Values.z .Values.e }}2{{ else }}3{{ end }}{{ if not .Values.el }}4{{ end }}",
    "{{ range $i := 0 }}x{{ else }}none{{ end }} {{ range .Values.nope }}x{{ else }}nil{{ end }}",
    "{{ eq .Values.i 17.0 }} {{ eq .Values.s \"str\" }} {{ lt \"a\" \"b\" }} {{ le 1 1 }} {{ gt .Values.f 1.0 }} {{ eq 1 2 3 1 }}",
    "{{ print .Values.nope }} {{ print nil }} {{ print .Values.el }} {{ print .Values.e }}|",
    "{{ js \"<script>\\n\\t\" }} {{ html 1 2 }} {{ urlquery 1 \"a\" }} {{ js .Values.u }}",
    "{{ len .Values.e }} {{ len .Values.el }} {{ index .Values.sl 0 }}{{ index .Values.lm 0 \"x\" }}",
    "{{ range .Values.l }}{{ range $.Values.sl }}{{ . }}{{ end }}{{ end }}",
    "{{ printf .Values.i }}",
    "{{ printf .Values.nope }}",
    "{{ .Values.i | printf }}",
    "{{ printf nil }}",
    "{{ .Values.lm.x }}",
    "{{ index .Values.m 1 }}",
    "{{ index nil 1 }}",
    "{{ index .Values.l \"a\" }}",
    "{{ index .Values.l -1 }}",
    "{{ range $i, $v := 3 }}{{ end }}",
    "{{ printf 1 }}",
    "{{ .Values.i.x }}",
    "{{ $.Values.e.x }}",
    "{{ eq }}",
    "{{ eq .Values.m .Values.m }}",
    "{{ le .Values.l 1 }}",
    "{{ template \"x\" }}{{ define \"x\" }}{{ .y }}{{ end }}",
    "{{ nil.x }}",
    "{{ (nil).x }}",
    "{{ .Values.s | .Values.s }}",
    "{{ range }}{{ end }}",
    "{{ else }}",
    "{{ with .Values.s }}{{ else if .Values.s }}{{ end }}",
    "{{ $x, $y := 1 }}",
    "{{ $x := 1 }}{{ $x = }}",
    "{{ define \"a\" }}{{ end }}{{ define \"a\" }}x{{ end }}{{ template \"a\" }}",
    "{{ $i := 0 }}{{ $e := 0 }}{{ range $i, $e = .Values.sl }}{{ end }}{{ $i }}{{ $e }}",
    "{{ range .Values.l }}{{ if gt . 1.0 }}{{ if lt . 3.0 }}{{ continue }}{{ end }}{{ end }}{{ . }}{{ end }}",
    "{{ range .Values.lm }}{{ range $k, $v := . }}{{ if eq $k \"x\" }}{{ break }}{{ end }}{{ end }}{{ .x }}{{ end }}",
    "{{ with .Values.nope }}a{{- else with .Values.e }}b{{- else }}c{{ end }}",
    "{{ if .Values.t -}} \n#  x {{- end }}",
    "{{ range .Values.nope }}{{ else }}{{ range .Values.sl }}{{ . }}{{ end }}{{ end }}",
    "{{ $x := .Values }}{{ with .Values.mm }}{{ $x.s }}{{ $.Values.i }}{{ end }}",
    "{{ printf \"%v %v\" (eq 1 1) (not (eq 1 2)) }} {{ (eq 1 1) | not }}",
    "{{ print (print 1 2) (print \"a\" \"b\") 3 }}",
    "{{ .Values.sl }} {{ .Values.m.a }} {{ .Values.lm }} {{ index .Values.lm 0 }}",
    r#"{{ "\x41\u00e9\U0001F600\t\101" }} {{ `raw\n` }} {{ '\n' }} {{ '\'' }} {{ 'é' }}"#,
    r#"{{ printf "%q" "\x00\x7f\u00e9\u2028\U0001F600" }} {{ printf "%+q" "é" }} {{ printf "%#q" "a`b" }} {{ printf "%#q" "ab" }}"#,
    r#"{{ printf "%v %.3v %10.3e" 1e100 2.0 1e-300 }}"#,
    r#"{{ printf "%x %X % x %#x" "héllo" "hi" "abc" "ab" }}"#,
    r#"{{ printf "%3c|%-4q|%#o %#b %O" 65 66 8 5 8 }}"#,
    r#"{{ printf "%05s|%.1q|%-05d|%.0d|%.3d" "ab" "xyz" 7 0 7 }}"#,
    "{{ template \"T2\" 1 }}{{ define \"T2\" }}{{ if lt . 3 }}{{ . }}{{ template \"T2\" (len (printf \"%*s|\" . \"\")) }}{{ end }}{{ end }}",
    "{{ define \"v\" }}{{ $x }}{{ end }}",
    "{{ range $i, $v, $w := .Values.l }}{{ end }}",
    "{{ with $x, $y := 1 }}{{ end }}",
    "{{ template . }}",
    "{{ define \"a\" }}",
    "{{ )",
    "{{ (1 }}",
    "{{ .Values.s.x.y }}",
    "{{ $.x }}",
    "{{ ' }}",
    "{{ 'ab' }}",
    "{{ 99999999999999999999 }}",
    "{{ 0x }}",
    "{{ printf \"%d\" 1 | printf \"%s\" }}",
    "{{ if .Values.l }}{{ range .Values.l }}{{ continue 1 }}{{ end }}{{ end }}",
    r#"{{ range .Values.fl }}{{ . }}|{{ printf "%g|%e|%f|%.3g|%.10g|%.0e|%8.2f|%.1f|%G|%E|%.0f" . . . . . . . . . . . }};{{ end }}"#,
    r#"{{ printf "%100000000d|%*d|%.*d|%[3]d|%[0]d|%[x" 1 2000000 1 -1 2 }}"#,
    r#"{{ printf "%+v|%+v|%+v|% v|%#v|%#v|%#v|%+5v|%#v" 5 1.5 .Values.l 5 1.0 .Values.i .Values.m 3 nil }}"#,
    r#"{{ printf "%5.1q|%-10v|%05v|%#x|%e|%08.3e|%+.2e|% d|%U|%o|%q|%5t|" "abc" .Values.m "ab" -255 -1.5 -1.5 1.5 -3 1114111 -8 7 true }}"#,
    r#"{{ printf "%t|%s|%x|%d|%f|%s|%6.2v|%v|%x|%X" 1 true true 1.5 2 .Values.m "abc" .Values.lm 1.5 "héllo" }}"#,
    r#"{{ printf "%#v|%#v|%#v|%#v|%#v" .Values.sl .Values.lm 1e21 "a\tb" true }}"#,
    r#"{{ printf "%010.3f|%-010.3f|%+010.3f|% 010.3f|%010s|%-010d|%x|% X" -3.5 3.5 3.5 3.5 "ab" 5 "" "abc" }}"#,
    r#"{{ range .Values.fl }}{{ printf "%x|%X|%.3x|%.0x|%10.1x|" . . . . . }}{{ end }}"#,
    r#"{{ .Values.si }} {{ printf "%T %d %x %v %08d" .Values.sbig .Values.sbig .Values.sneg .Values.si .Values.sneg }} {{ eq .Values.si 5 }} {{ lt .Values.sneg 0 }} {{ range .Values.si }}{{ . }}{{ end }} {{ index .Values.l .Values.sneg | print }}"#,
    "{{ lt .Values.si 5.0 }}",
    "{{ index .Values.l .Values.si }}",
    "{{ printf \"%T\" (len .Values.l) }} {{ range $i, $v := .Values.sl }}{{ printf \"%T\" $i }}{{ end }} {{ range $i := .Values.si }}{{ printf \"%T\" $i }}{{ end }}",
    // Errors.
    "{{ index .Values.m nil }}",
    "{{ true | printf }}",
    "{{ $x := nil }}",
    "{{ $x := 1.0 }}{{ $x.anything }}",
    "{{ if nil }}{{ end }}",
    "{{ $x:=1 }}{{$x}}{{.Values.s}}{{\"a\"}}{{ .Values.s|printf \"%s\" }}{{(.Values.s)}}{{ .Values.m.a}}{{/*x*/}}|",
    "a {{- /*x*/ -}} b {{/* x */ -}} c {{- /* x\n# y */}} d",
    "{{ $x := 1 }}{{ $x=2 }}{{ $x }}",
    "{{ /* x */ }}",
    "{{ .Values.s.}}",
    "{{ .Values.s# }}",
    "{{ .Values.s.x }}",
    "{{ .Values.nope.x }}",
    "{{ .Values.m.abcdefghijklmnopqrstuvwxyz.q }}",
    "{{ range .Values.lm }}{{ .y.z }}{{ end }}",
    "{{ eq 1 1.0 }}",
    "{{ lt .Values.i 2 }}",
    "{{ lt true false }}",
    "{{ eq .Values.l .Values.l }}",
    "{{ index .Values.l 3 }}",
    "{{ index .Values.l 4 }}",
    "{{ index .Values.s 1 }}",
    "{{ len nil }}",
    "{{ len 3 }}",
    "{{ not }}",
    "{{ template \"nope\" }}",
    "{{ range .Values.s }}{{ end }}",
    "{{ 1 2 }}",
    "{{ nil }}",
    "{{ .Values.m.a 1 }}",
    "{{ if }}{{ end }}",
    "{{ end }}",
    "{{ foo }}",
    "{{ $x }}",
    "{{ .x",
    "{{ break }}",
    "{{ 3x }}",
    "{{ \"abc }}",
    "{{ 1 | 2 }}",
];

#[test]
fn gotmpl_matches_helm() {
    let Some(helm) = helm() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("t/templates")).unwrap();
    std::fs::write(dir.path().join("t/Chart.yaml"), "apiVersion: v2\nname: t\nversion: 0.1.0\n").unwrap();
    std::fs::write(dir.path().join("t/values.yaml"), VALUES).unwrap();
    let mut failures = Vec::new();
    for tpl in CASES {
        let want = helm_render(&helm, dir.path(), tpl);
        let got = ours(tpl);
        let same = match (&want, &got) {
            (Err(w), Err(g)) => same_error(w, g),
            (w, g) => w == g,
        };
        if !same {
            failures.push(format!("template: {tpl}\n  helm: {want:?}\n  ours: {got:?}"));
        }
    }
    eprintln!("gotmpl vs helm: {} passed, {} failed", CASES.len() - failures.len(), failures.len());
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
