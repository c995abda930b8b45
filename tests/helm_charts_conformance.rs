//! Helm charts conformance (issue 15): every case of
//! `tests/data/helm-charts/cases.txt` (real-world charts, each with its
//! default values and each of its own `ci/*values*.yaml`) rendered by the
//! library, natively, must equal what helm 4.1.4 rendered
//! (`expected/CASE.yaml[.gz]`, from scripts/gen-helm-charts-expected.sh):
//! the same documents in helm's order, compared as parsed values after
//! the random values of `masks.yaml` are masked on both sides. A case helm
//! refuses (`expected/CASE.error`) must fail natively too.
//!
//! helm is out of reach: before anything runs, every `PATH` entry holding
//! a `helm` executable is removed (and the library is asked for no plugin),
//! so a render that shells out to helm fails.
//!
//! Prints a `FAIL` line per failing case with the first differing path and
//! `helm charts conformance: N passed, M failed, K skipped`. Cases listed
//! in `tests/helm_charts_skip.txt` (with a reason) are run and reported but
//! do not fail the process; every other failure does. (harness = false)

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use globset::Glob;
use kubectl_gitops::render::chart::ChartOptions;
use kubectl_gitops::render::chart::values::ValueOptions;
use kubectl_gitops::render::{RenderOptions, Tool, render};
use kubectl_gitops::source::LocalSource;
use kubectl_gitops::yaml::{Dialect, parse_one, parse_stream};
use regex::Regex;
use serde_json::Value;

const RELEASE: &str = "conformance";
const MASKED: &str = "<masked>";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/helm-charts")
}

struct Case {
    name: String,
    chart: PathBuf,
    values: Option<PathBuf>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(data_dir().join("cases.txt")).expect("cases.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Case {
                name: f[0].to_string(),
                chart: data_dir().join("charts").join(f[1]),
                values: f.get(2).map(PathBuf::from),
            }
        })
        .collect()
}

/// `CASE reason...` lines of tests/helm_charts_skip.txt.
fn skip_list() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm_charts_skip.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((c, r)) => (c.to_string(), r.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// One rule of masks.yaml.
struct Mask {
    cases: Vec<globset::GlobMatcher>,
    kind: String,
    path: Vec<String>,
    base64: bool,
    pattern: Regex,
}

fn masks() -> Vec<Mask> {
    let text = std::fs::read_to_string(data_dir().join("masks.yaml")).expect("masks.yaml");
    let rules = parse_one(&text, Dialect::Kubectl).expect("masks.yaml parses");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().expect("a list").iter().map(|s| s.as_str().expect("a string").to_string()).collect()
    };
    rules
        .as_array()
        .expect("masks.yaml is a list")
        .iter()
        .map(|r| Mask {
            cases: strings(&r["cases"]).iter().map(|g| Glob::new(g).expect("a glob").compile_matcher()).collect(),
            kind: r["kind"].as_str().expect("kind").to_string(),
            path: strings(&r["path"]),
            base64: r.get("base64").and_then(Value::as_bool).unwrap_or(false),
            pattern: Regex::new(r["pattern"].as_str().expect("pattern")).expect("a regex"),
        })
        .collect()
}

/// Masks the string at `path` in `v` when it has the rule's shape.
fn apply_mask(v: &mut Value, path: &[String], rule: &Mask) {
    let Some((first, rest)) = path.split_first() else {
        if let Value::String(s) = v
            && let Some(masked) = mask_string(s, rule)
        {
            *s = masked;
        }
        return;
    };
    match v {
        Value::Object(m) if first == "*" => m.values_mut().for_each(|x| apply_mask(x, rest, rule)),
        Value::Object(m) => {
            if let Some(x) = m.get_mut(first) {
                apply_mask(x, rest, rule);
            }
        }
        Value::Array(a) if first == "*" => a.iter_mut().for_each(|x| apply_mask(x, rest, rule)),
        Value::Array(a) => {
            if let Some(x) = first.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                apply_mask(x, rest, rule);
            }
        }
        _ => {}
    }
}

fn mask_string(s: &str, rule: &Mask) -> Option<String> {
    use base64::Engine as _;
    let text = if rule.base64 {
        let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        String::from_utf8(bytes).ok()?
    } else {
        s.to_string()
    };
    if !rule.pattern.is_match(&text) {
        return None;
    }
    let masked = rule.pattern.replace_all(&text, |c: &regex::Captures| {
        let whole = c.get(0).expect("match");
        if c.len() == 1 {
            return MASKED.to_string();
        }
        // each group masked, the rest of the match kept
        let mut out = String::new();
        let mut at = whole.start();
        for g in c.iter().skip(1).flatten() {
            out.push_str(&text[at..g.start()]);
            out.push_str(MASKED);
            at = g.end();
        }
        out.push_str(&text[at..whole.end()]);
        out
    });
    Some(masked.into_owned())
}

fn mask_docs(case: &str, docs: &mut [Value], rules: &[Mask]) {
    for rule in rules.iter().filter(|r| r.cases.iter().any(|g| g.is_match(case))) {
        for d in docs.iter_mut().filter(|d| d["kind"] == rule.kind.as_str()) {
            apply_mask(d, &rule.path, rule);
        }
    }
}

/// helm's output as the library would decode it: empty documents dropped,
/// `kind: List` flattened into its items.
fn expected_docs(text: &str) -> Result<Vec<Value>, String> {
    let docs = parse_stream(text, Dialect::Kubectl).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for d in docs {
        match d.value {
            Value::Null => {}
            Value::Object(m) if m.get("kind").and_then(Value::as_str) == Some("List") => {
                if let Some(Value::Array(items)) = m.get("items") {
                    out.extend(items.iter().cloned());
                }
            }
            v => out.push(v),
        }
    }
    Ok(out)
}

enum Expected {
    Docs(Vec<Value>),
    /// helm refused the case.
    Error(String),
    /// helm's output does not decode by the library's (kubectl's) rules,
    /// e.g. a duplicate key: the native render must fail with that message.
    Undecodable(String),
}

fn expected(case: &str) -> Result<Expected, String> {
    let dir = data_dir().join("expected");
    if let Ok(e) = std::fs::read_to_string(dir.join(format!("{case}.error"))) {
        return Ok(Expected::Error(e.trim().to_string()));
    }
    let text = match std::fs::read_to_string(dir.join(format!("{case}.yaml"))) {
        Ok(t) => t,
        Err(_) => {
            let gz = std::fs::File::open(dir.join(format!("{case}.yaml.gz")))
                .map_err(|e| format!("no expected output: {e}"))?;
            let mut t = String::new();
            flate2::read::GzDecoder::new(gz).read_to_string(&mut t).map_err(|e| e.to_string())?;
            t
        }
    };
    Ok(match expected_docs(&text) {
        Ok(docs) => Expected::Docs(docs),
        // `line N, column M: message`
        Err(e) => Expected::Undecodable(e.split_once(": ").map_or(e.clone(), |(_, m)| m.to_string())),
    })
}

/// The output to check: the library's native render, or with
/// `HELM_CHARTS_GOT_DIR` set, another helm run's `CASE.yaml` there (how
/// scripts/gen-helm-charts-expected.sh checks that masks.yaml covers every
/// random value).
fn rendered(case: &Case) -> Result<Vec<Value>, String> {
    match std::env::var_os("HELM_CHARTS_GOT_DIR") {
        Some(dir) => {
            if let Ok(e) = std::fs::read_to_string(Path::new(&dir).join(format!("{}.error", case.name))) {
                return Err(e);
            }
            let path = Path::new(&dir).join(format!("{}.yaml", case.name));
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            expected_docs(&text)
        }
        None => native(case),
    }
}

fn native(case: &Case) -> Result<Vec<Value>, String> {
    let src = LocalSource::open_in(&case.chart, Some(&case.chart), Some(&case.chart)).map_err(|e| e.to_string())?;
    let opts = RenderOptions {
        tool: Some(Tool::Helm),
        chart: ChartOptions {
            release_name: Some(RELEASE.into()),
            namespace: Some("default".into()),
            values: ValueOptions { files: case.values.iter().cloned().collect(), ..Default::default() },
            ..Default::default()
        },
        cwd: Some(case.chart.clone()),
        ..Default::default()
    };
    let objects = render(&src, &opts).map_err(|e| e.to_string())?;
    Ok(objects.into_iter().map(|o| o.into_value()).collect())
}

/// The first path where `a` and `b` differ, with both values there.
fn first_difference(a: &Value, b: &Value, path: &mut Vec<String>) -> Option<(String, String, String)> {
    let here = |path: &Vec<String>| if path.is_empty() { ".".to_string() } else { path.join(".") };
    let short = |v: &Value| {
        let s = v.to_string();
        if s.chars().count() > 120 { format!("{}...", s.chars().take(120).collect::<String>()) } else { s }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                path.push(k.clone());
                let found = match (x.get(k), y.get(k)) {
                    (Some(v), Some(w)) => first_difference(v, w, path),
                    (v, w) => {
                        Some((here(path), v.map_or("(absent)".into(), short), w.map_or("(absent)".into(), short)))
                    }
                };
                path.pop();
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                path.push(i.to_string());
                let found = first_difference(v, w, path);
                path.pop();
                if found.is_some() {
                    return found;
                }
            }
            (x.len() != y.len()).then(|| (here(path), format!("{} items", x.len()), format!("{} items", y.len())))
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => None,
        _ if a == b => None,
        _ => Some((here(path), short(a), short(b))),
    }
}

fn describe(doc: &Value) -> String {
    format!("{}/{}", doc["kind"].as_str().unwrap_or("?"), doc["metadata"]["name"].as_str().unwrap_or("?"))
}

/// `Ok` when the case conforms, else why not.
fn check(case: &Case, rules: &[Mask]) -> Result<(), String> {
    let got = rendered(case);
    match expected(&case.name)? {
        Expected::Error(e) => match got {
            // a `required`/`fail` message must come through
            Err(msg) => match e.split_once("): ").filter(|_| e.contains("execution error at (")) {
                Some((_, message)) if !msg.contains(message) => {
                    Err(format!("helm fails with {message:?}, the native render with {msg:?}"))
                }
                _ => Ok(()),
            },
            Ok(docs) => Err(format!("helm fails ({e}) but the native render gave {} documents", docs.len())),
        },
        Expected::Undecodable(message) => match got {
            Err(msg) if msg.contains(&message) => Ok(()),
            Err(msg) => Err(format!("helm's output does not decode ({message}), the native render fails with {msg:?}")),
            Ok(docs) => Err(format!(
                "helm's output does not decode ({message}) but the native render gave {} documents",
                docs.len()
            )),
        },
        Expected::Docs(mut want) => {
            let mut got = got.map_err(|e| format!("native render failed: {e}"))?;
            mask_docs(&case.name, &mut want, rules);
            mask_docs(&case.name, &mut got, rules);
            for (i, (w, g)) in want.iter().zip(&got).enumerate() {
                if let Some((path, wv, gv)) = first_difference(w, g, &mut Vec::new()) {
                    return Err(format!("document {i} ({}) at {path}: want {wv}, got {gv}", describe(w)));
                }
            }
            if want.len() != got.len() {
                let extra = if want.len() > got.len() { &want[got.len()] } else { &got[want.len()] };
                return Err(format!(
                    "{} documents wanted, {} rendered (first unmatched: {})",
                    want.len(),
                    got.len(),
                    describe(extra)
                ));
            }
            Ok(())
        }
    }
}

/// Removes every `PATH` entry holding a `helm` executable; returns them.
fn strip_helm_from_path() -> Vec<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let (with, without): (Vec<PathBuf>, Vec<PathBuf>) =
        std::env::split_paths(&path).partition(|d| d.join("helm").is_file());
    let joined = std::env::join_paths(&without).expect("PATH entries");
    // SAFETY: single-threaded here, before anything reads the environment.
    unsafe {
        std::env::set_var("PATH", joined);
        std::env::remove_var("KUBECTL_GITOPS_HELM");
    }
    with
}

/// The masking and the comparison on made-up documents: a value of the
/// masked shape is hidden, any other difference is found.
fn self_check(rules: &[Mask]) {
    let pushgateway = |hash: &str, user: &str| {
        use base64::Engine as _;
        let web = format!("basic_auth_users:\n  {user}: $2a$10${hash}\n");
        serde_json::json!({"kind": "Secret", "data": {
            "web-config.yaml": base64::engine::general_purpose::STANDARD.encode(web)}})
    };
    let case = "prometheus-pushgateway+basic-auth-values";
    let (a, b) = ("a".repeat(53), "b".repeat(53));
    let mut docs =
        vec![pushgateway(&a, "job"), pushgateway(&b, "job"), pushgateway(&b, "bob"), pushgateway("short", "job")];
    mask_docs(case, &mut docs, rules);
    assert_eq!(first_difference(&docs[0], &docs[1], &mut Vec::new()), None, "random hashes masked");
    assert!(first_difference(&docs[0], &docs[2], &mut Vec::new()).is_some(), "another user is a difference");
    assert!(first_difference(&docs[0], &docs[3], &mut Vec::new()).is_some(), "a value of another shape is not masked");
}

fn main() -> ExitCode {
    let removed = strip_helm_from_path();
    if !removed.is_empty() {
        eprintln!("helm charts conformance: helm removed from PATH ({removed:?})");
    }
    assert!(std::process::Command::new("helm").arg("version").output().is_err(), "helm is still on PATH");
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let rules = masks();
    self_check(&rules);
    // against another helm run every case must pass: no skip list then
    let skips = if std::env::var_os("HELM_CHARTS_GOT_DIR").is_some() { Vec::new() } else { skip_list() };
    let all = cases();
    for (name, reason) in &skips {
        assert!(all.iter().any(|c| &c.name == name), "tests/helm_charts_skip.txt: no case {name}");
        assert!(!reason.is_empty(), "tests/helm_charts_skip.txt: {name} needs a reason");
    }
    let (mut passed, mut failed, mut skipped, mut skipped_passing) = (0, 0, 0, Vec::new());
    for case in all.iter().filter(|c| args.is_empty() || args.iter().any(|a| c.name.contains(a.as_str()))) {
        let skip = skips.iter().find(|(n, _)| n == &case.name);
        match (check(case, &rules), skip) {
            (Ok(()), None) => passed += 1,
            (Ok(()), Some(_)) => {
                passed += 1;
                skipped_passing.push(case.name.clone());
            }
            (Err(e), None) => {
                failed += 1;
                println!("FAIL {}: {e}", case.name);
            }
            (Err(e), Some((_, reason))) => {
                skipped += 1;
                if std::env::var_os("HELM_CHARTS_VERBOSE").is_some() {
                    println!("SKIP {} ({reason}): {e}", case.name);
                }
            }
        }
    }
    if !skipped_passing.is_empty() {
        println!("passing now, remove from tests/helm_charts_skip.txt: {}", skipped_passing.join(" "));
    }
    println!("helm charts conformance: {passed} passed, {failed} failed, {skipped} skipped");
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
