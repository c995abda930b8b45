//! Helm values conformance: every case of `../shared/conformance/helm-values`
//! (produced by a real helm 4.1) against our `.Values` builder. Prints
//! `helm values conformance: N passed, M failed`; exits non-zero on failure.
//! Skipped cases are listed with a reason in `tests/helm_values_skip.txt`.

use std::path::{Path, PathBuf};

use kubectl_gitops::render::chart::chart_values;
use kubectl_gitops::render::chart::load::load_chart;
use kubectl_gitops::render::chart::values::ValueOptions;
use kubectl_gitops::source::LocalSource;
use kubectl_gitops::yaml::{Dialect, parse_one};
use serde_json::Value;

const DEFAULT_CHART_YAML: &str = "apiVersion: v2\nname: conformance\nversion: 0.1.0\n";

/// `../shared` from the project root (searched upwards, so worktrees find it too).
fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/conformance/helm-values"))
        .find(|p| p.is_dir())
        .expect("../shared/conformance/helm-values not found")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

fn parse_args(args: &[String]) -> Result<ValueOptions, String> {
    let mut o = ValueOptions::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next().cloned()).ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "-f" | "--values" => o.files.push(PathBuf::from(value()?)),
            "--set" => o.set.push(value()?),
            "--set-string" => o.set_string.push(value()?),
            "--set-file" => o.set_file.push(value()?),
            "--set-json" => o.set_json.push(value()?),
            "--set-literal" => o.set_literal.push(value()?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(o)
}

fn go_types(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), go_types(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(go_types).collect()),
        Value::Null => Value::from("<nil>"),
        Value::Bool(_) => Value::from("bool"),
        Value::String(_) => Value::from("string"),
        Value::Number(n) if n.is_f64() => Value::from("float64"),
        Value::Number(_) => Value::from("int64"),
    }
}

/// Equal as JSON, numbers compared by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w)),
        _ => a == b,
    }
}

fn run_case(dir: &Path) -> Result<(), String> {
    let case = parse_one(&std::fs::read_to_string(dir.join("case.yaml")).unwrap(), Dialect::Kubectl).unwrap();
    let args: Vec<String> = case["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    let want_error = case.get("error").and_then(Value::as_bool).unwrap_or(false);
    let tmp = tempfile::tempdir().unwrap();
    let chart_dir = tmp.path().join("chart");
    std::fs::create_dir_all(chart_dir.join("templates")).unwrap();
    if !dir.join("Chart.yaml").exists() {
        std::fs::write(chart_dir.join("Chart.yaml"), DEFAULT_CHART_YAML).unwrap();
    }
    for name in ["Chart.yaml", "values.yaml"] {
        if dir.join(name).exists() {
            std::fs::copy(dir.join(name), chart_dir.join(name)).unwrap();
        }
    }
    if dir.join("charts").is_dir() {
        copy_dir(&dir.join("charts"), &chart_dir.join("charts"));
    }
    let result = (|| -> Result<Value, String> {
        let opts = parse_args(&args)?;
        let src = LocalSource::open(&chart_dir).map_err(|e| e.to_string())?;
        let mut chart = load_chart(&src, &chart_dir).map_err(|e| e.to_string())?;
        chart_values(&mut chart, &opts, dir).map(Value::Object).map_err(|e| e.to_string())
    })();
    match (result, want_error) {
        (Err(_), true) => Ok(()),
        (Ok(v), true) => Err(format!("expected an error, got {v}")),
        (Err(e), false) => Err(format!("unexpected error: {e}")),
        (Ok(got), false) => {
            let want: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
            if !same(&got, &want) {
                return Err(format!("values differ\n  want {want}\n  got  {got}"));
            }
            let want_types: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("expected-types.json")).unwrap()).unwrap();
            let got_types = go_types(&got);
            if got_types != want_types {
                return Err(format!("types differ\n  want {want_types}\n  got  {got_types}"));
            }
            Ok(())
        }
    }
}

fn main() {
    let root = cases_dir();
    let skip_text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm_values_skip.txt"))
        .unwrap_or_default();
    let skips: Vec<&str> = skip_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("helm-values cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        if skips.contains(&name.as_str()) {
            skipped += 1;
            continue;
        }
        match run_case(dir) {
            Ok(()) => passed += 1,
            Err(e) => {
                failed += 1;
                println!("FAIL {name}: {e}");
            }
        }
    }
    if skipped > 0 {
        println!("skipped {skipped} (see tests/helm_values_skip.txt)");
    }
    println!("helm values conformance: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
