//! Differential test: every program in `testdata/jsonnet/reference/` is
//! evaluated by our Jsonnet renderer and by the reference C++ Jsonnet (PyPI
//! `jsonnet`, module `_jsonnet`); the results must be identical as JSON,
//! and `error-*` programs must fail in both; `std.objectFieldsAll(std)` must
//! list the same fields in both. Prints
//! `jsonnet-reference: N passed, M failed`; exits non-zero on failure.
//!
//! The reference is installed by `scripts/install-jsonnet-ref.sh` (run by
//! `scripts/test.sh`, and here again: it is a no-op once installed). Set
//! `KGO_JSONNET_PYTHON` to use another interpreter that has `_jsonnet`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kubectl_gitops::render::{JsonnetOptions, JsonnetVar, evaluate_to_json};
use kubectl_gitops::source::LocalSource;
use serde_json::{Value, json};

const SUITE: &str = "jsonnet-reference";

/// Reads `[{"file", "ext_vars", "ext_codes", "tla_vars", "tla_codes", "jpath"}]`
/// on stdin, writes `{file: {"ok": json} | {"err": message}}`.
const DRIVER: &str = r#"
import json, sys, _jsonnet
out = {}
for case in json.load(sys.stdin):
    try:
        text = _jsonnet.evaluate_file(case["file"], ext_vars=case["ext_vars"], ext_codes=case["ext_codes"],
                                      tla_vars=case["tla_vars"], tla_codes=case["tla_codes"], jpathdir=case["jpath"])
        out[case["file"]] = {"ok": text}
    except RuntimeError as e:
        out[case["file"]] = {"err": str(e)}
json.dump(out, sys.stdout)
"#;

const EXT_STR: &[(&str, &str)] = &[("env", "prod")];
const EXT_CODE: &[(&str, &str)] = &[("cfg", "{replicas: 3, name: 'x'}")];
const TLA_STR: &[(&str, &str)] = &[("name", "web")];
const TLA_CODE: &[(&str, &str)] = &[("replicas", "3"), ("labels", "{app: 'web'}")];

fn reference_python(repo: &Path) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("KGO_JSONNET_PYTHON") {
        return Ok(PathBuf::from(p));
    }
    let out = Command::new("bash")
        .arg(repo.join("scripts/install-jsonnet-ref.sh"))
        .output()
        .map_err(|e| format!("cannot run scripts/install-jsonnet-ref.sh: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout.lines().last().map(PathBuf::from).ok_or_else(|| "the install script printed no interpreter".into())
}

fn pairs(list: &[(&str, &str)]) -> Value {
    Value::Object(list.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect())
}

fn run_reference(python: &Path, files: &[PathBuf], lib: &Path) -> Result<Value, String> {
    let cases: Vec<Value> = files
        .iter()
        .map(|f| {
            json!({
                "file": f.to_string_lossy(), "ext_vars": pairs(EXT_STR), "ext_codes": pairs(EXT_CODE),
                "tla_vars": pairs(TLA_STR), "tla_codes": pairs(TLA_CODE), "jpath": [lib.to_string_lossy()],
            })
        })
        .collect();
    let mut child = Command::new(python)
        .args(["-c", DRIVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    child.stdin.take().unwrap().write_all(Value::Array(cases).to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("reference driver failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("reference driver output: {e}"))
}

fn ours(dir: &Path, file: &Path) -> Result<Value, String> {
    let vars = |list: &[(&str, &str)], code: bool| -> Vec<JsonnetVar> {
        list.iter().map(|(k, v)| JsonnetVar::new(k, v, code, false)).collect()
    };
    let opts = JsonnetOptions {
        main: None,
        jpath: vec![],
        ext_vars: [vars(EXT_STR, false), vars(EXT_CODE, true)].concat(),
        tlas: [vars(TLA_STR, false), vars(TLA_CODE, true)].concat(),
    };
    let src = LocalSource::with_root(dir, dir).map_err(|e| e.to_string())?;
    evaluate_to_json(&src, file, &opts).map_err(|e| e.to_string())
}

/// The JSON paths where two values differ (at most `limit`).
fn differences(path: &str, a: &Value, b: &Value, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => differences(&format!("{path}.{k}"), va, vb, out, limit),
                    (va, vb) => out.push(format!("{path}.{k}: ours {va:?}, reference {vb:?}")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                differences(&format!("{path}[{i}]"), va, vb, out, limit);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => {}
        // The reference's text goes through serde_json's number parser,
        // which may miss the nearest double by one unit in the last place
        // (its exact parser is the `float_roundtrip` feature): allow that.
        (Value::Number(x), Value::Number(y))
            if x.as_f64()
                .zip(y.as_f64())
                .is_some_and(|(x, y)| (x - y).abs() <= x.abs().max(y.abs()) * f64::EPSILON) => {}
        _ if a == b => {}
        _ => out.push(format!("{path}: ours {a}, reference {b}")),
    }
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = repo.join("testdata/jsonnet/reference");
    let skip_text = std::fs::read_to_string(dir.join("SKIP")).unwrap_or_default();
    let skips: Vec<(&str, &str)> = skip_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once(':').map_or((l.trim(), ""), |(n, r)| (n.trim(), r.trim())))
        .collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata/jsonnet/reference")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonnet"))
        .collect();
    files.sort();
    let python = match reference_python(repo) {
        Ok(p) => p,
        Err(why) => {
            println!("{SUITE}: SKIPPED, the reference C++ jsonnet could not be installed:\n{why}");
            return;
        }
    };
    let reference = match run_reference(&python, &files, &dir.join("lib")) {
        Ok(r) => r,
        Err(e) => {
            println!("{SUITE}: {e}");
            println!("{SUITE}: 0 passed, {} failed", files.len());
            std::process::exit(1);
        }
    };
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        if let Some((_, reason)) = skips.iter().find(|(n, _)| *n == name) {
            println!("skip {name}: {reason}");
            continue;
        }
        let theirs = &reference[file.to_string_lossy().as_ref()];
        let mine = ours(&dir, file);
        let verdict = match (mine, theirs.get("ok").and_then(Value::as_str), theirs.get("err")) {
            (Err(_), None, Some(_)) if name.starts_with("error-") => Ok(()),
            (Ok(v), _, Some(_)) if name.starts_with("error-") => Err(format!("must fail, but we produced {v}")),
            (Err(e), _, _) if name.starts_with("error-") => Err(format!("the reference did not fail; we said: {e}")),
            (Ok(mine), Some(text), _) => match serde_json::from_str::<Value>(text) {
                Err(e) => Err(format!("reference output is not JSON: {e}")),
                Ok(want) => {
                    let mut diffs = Vec::new();
                    differences("$", &mine, &want, &mut diffs, 15);
                    if diffs.is_empty() { Ok(()) } else { Err(diffs.join("\n    ")) }
                }
            },
            (Err(e), _, _) => Err(format!("we failed: {e}\n    reference: {theirs}")),
            (Ok(_), None, err) => Err(format!("the reference failed: {err:?}")),
        };
        match verdict {
            Ok(()) => {
                passed += 1;
                println!("ok   {name}");
            }
            Err(why) => {
                failed += 1;
                println!("FAIL {name}:\n    {why}");
            }
        }
    }
    match std_fields(&python, &dir) {
        Ok(()) => {
            passed += 1;
            println!("ok   std.objectFieldsAll(std)");
        }
        Err(why) => {
            failed += 1;
            println!("FAIL std.objectFieldsAll(std):\n    {why}");
        }
    }
    println!("{SUITE}: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// The standard library has every field of the reference's, and no other:
/// `std.objectFieldsAll(std)` (hidden fields included) of both, compared.
fn std_fields(python: &Path, dir: &Path) -> Result<(), String> {
    let program = "std.objectFieldsAll(std)";
    let out = Command::new(python)
        .args(["-c", &format!("import _jsonnet; print(_jsonnet.evaluate_snippet('std', {program:?}))")])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("reference: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let want: Vec<String> = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let file = tempfile::Builder::new().suffix(".jsonnet").tempfile_in(dir).map_err(|e| e.to_string())?;
    std::fs::write(file.path(), program).map_err(|e| e.to_string())?;
    let got: Vec<String> = serde_json::from_value(ours(dir, file.path())?).map_err(|e| e.to_string())?;
    let missing: Vec<&String> = want.iter().filter(|f| !got.contains(f)).collect();
    let extra: Vec<&String> = got.iter().filter(|f| !want.contains(f)).collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    Err(format!("missing {missing:?}; not in the reference {extra:?}"))
}
