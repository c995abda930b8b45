//! YAML 1.1 scalars read exactly as kubectl reads them: the same file through
//! `kubectl create --dry-run=client -o json` (against the test cluster, which
//! kubectl needs for the kind's mapping) and through `kubectl gitops render -o json`.

#[path = "support/cluster.rs"]
mod cluster;
mod common;

use serde_json::Value;

/// JSON equality where numbers compare by value (`1.0` == `1`: JSON has one number type).
fn same(a: &Value, b: &Value, path: &str, diffs: &mut Vec<String>) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let equal = match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(p), Some(q), _, _) => p == q,
                (_, _, Some(p), Some(q)) => p == q,
                _ => x.as_f64() == y.as_f64(),
            };
            if !equal {
                diffs.push(format!("{path}: kubectl {x}, ours {y}"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => same(p, q, &format!("{path}/{k}"), diffs),
                    (p, q) => diffs.push(format!("{path}/{k}: kubectl {p:?}, ours {q:?}")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same(p, q, &format!("{path}/{i}"), diffs);
            }
        }
        _ if a == b => {}
        _ => diffs.push(format!("{path}: kubectl {a}, ours {b}")),
    }
}

#[test]
fn yaml_scalars_read_like_kubectl() {
    let c = cluster::shared();
    let crd = common::testdata("yaml-scalars/crd.yaml");
    c.kubectl_ok(&["apply", "--server-side", "-f", crd.to_str().unwrap()]);
    c.kubectl_ok(&["wait", "--for=condition=Established", "crd/scalars.yaml.test", "--timeout=60s"]);
    let file = common::testdata("yaml-scalars/scalars.yaml");
    let theirs =
        c.kubectl_ok(&["create", "--dry-run=client", "--validate=false", "-o", "json", "-f", file.to_str().unwrap()]);
    // One JSON document per object.
    let mut theirs: Vec<Value> = serde_json::Deserializer::from_str(&theirs).into_iter().map(Result::unwrap).collect();
    // Ours come in install order (by name here); compare object by object.
    theirs.sort_by_key(|o| o["metadata"]["name"].as_str().unwrap().to_string());
    assert_eq!(theirs.len(), 5);
    let ours = common::run(&["render", file.to_str().unwrap(), "-o", "json"]);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    let ours: Value = serde_json::from_str(&ours.stdout).unwrap();
    let mut diffs = Vec::new();
    same(&Value::Array(theirs), &ours["items"], "", &mut diffs);
    assert!(diffs.is_empty(), "differences from kubectl:\n{}", diffs.join("\n"));
}

/// A known difference: an integer beyond int64 becomes a float64 in kubectl
/// (YAML gives uint64, the JSON -> object step reads float64); our reader
/// keeps the exact integer, so `render` output round-trips.
#[test]
fn integers_beyond_int64_kubectl_rounds_we_keep_exact() {
    let c = cluster::shared();
    let dir = common::tree(&[(
        "b.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\nbinaryData: {}\ndata: {}\nbig: 12345678901234567890\n",
    )]);
    let file = dir.path().join("b.yaml");
    let theirs =
        c.kubectl_ok(&["create", "--dry-run=client", "--validate=false", "-o", "json", "-f", file.to_str().unwrap()]);
    assert!(theirs.contains("\"big\": 12345678901234567000"), "{theirs}");
    let ours = common::run(&["render", file.to_str().unwrap(), "-o", "json"]);
    assert!(ours.stdout.contains("\"big\": 12345678901234567890"), "{}", ours.stdout);
}

/// Where we are deliberately stricter: kubectl keeps the last of duplicate
/// keys (also `yes:` and `on:`, both `true`); we reject the file, naming the line.
#[test]
fn duplicate_keys_kubectl_keeps_the_last_we_reject() {
    let c = cluster::shared();
    let dir = common::tree(&[(
        "d.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\ndata:\n  yes: a\n  on: b\n",
    )]);
    let file = dir.path().join("d.yaml");
    let theirs =
        c.kubectl_ok(&["create", "--dry-run=client", "--validate=false", "-o", "json", "-f", file.to_str().unwrap()]);
    let theirs: Value = serde_json::from_str(&theirs).unwrap();
    assert_eq!(theirs["data"], serde_json::json!({"true": "b"}));
    let ours = common::run(&["render", file.to_str().unwrap()]);
    assert_eq!(ours.code, 2);
    assert!(ours.stderr.contains("d.yaml:6:3") && ours.stderr.contains("already set"), "{}", ours.stderr);
}

#[test]
fn infinity_is_rejected_like_kubectl() {
    let c = cluster::shared();
    let dir = common::tree(&[(
        "inf.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\ndata: {a: .inf}\n",
    )]);
    let file = dir.path().join("inf.yaml");
    let theirs = c.kubectl(&["create", "--dry-run=client", "-o", "json", "-f", file.to_str().unwrap()]);
    assert!(!theirs.status.success());
    assert!(String::from_utf8_lossy(&theirs.stderr).contains("unsupported value: +Inf"));
    let ours = common::run(&["render", file.to_str().unwrap()]);
    assert_eq!(ours.code, 2);
    assert!(ours.stderr.contains("inf.yaml:4:11") && ours.stderr.contains("infinity"), "{}", ours.stderr);
}
