//! Chart dependencies that are declared but not vendored, and `Chart.lock`.
//!
//! `helm template` refuses a chart whose `Chart.yaml` lists a dependency
//! that `charts/` does not hold (`found in Chart.yaml, but missing in
//! charts/ directory: NAME`), whatever its condition; Argo CD then runs
//! `helm dependency build`, which fetches it. The source stage fetches
//! them too (`source::chartrepo::deps`); what it could not fetch reaches
//! the renderer with the reason, so a missing *enabled* dependency is an
//! error naming its version, repository, the version `Chart.lock` pins and
//! why it was not fetched; a missing disabled one is only a warning, since
//! it is never rendered.
//!
//! `Chart.lock` is checked as `helm dependency build` checks it: its
//! `digest` must equal helm's `HashReq` of the `Chart.yaml` dependencies and
//! the lock's own list (sha256 of Go's JSON of both lists). `helm template`
//! ignores the lock, so a mismatch is a warning, or a note in the error
//! when a dependency is missing (helm would refuse to build it).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::load::{Chart, Dependency};

/// One entry of `Chart.lock`'s `dependencies`.
#[derive(Debug, Clone, PartialEq)]
pub struct Locked {
    pub name: String,
    pub version: String,
    pub repository: String,
}

/// A parsed `Chart.lock`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lock {
    pub dependencies: Vec<Locked>,
    pub digest: String,
}

/// `Chart.lock` of `chart`, when it has one that parses.
pub fn lock(chart: &Chart) -> Option<Lock> {
    let (_, bytes) = chart.files.iter().find(|(rel, _)| rel == "Chart.lock")?;
    parse_lock(std::str::from_utf8(bytes).ok()?)
}

/// Parse the text of a `Chart.lock`.
pub fn parse_lock(text: &str) -> Option<Lock> {
    let docs = crate::yaml::parse_stream(text, crate::yaml::Dialect::Kubectl).ok()?;
    let doc = docs.into_iter().next()?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let dependencies = doc
        .value
        .get("dependencies")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|d| Locked { name: s(d, "name"), version: s(d, "version"), repository: s(d, "repository") })
                .collect()
        })
        .unwrap_or_default();
    Some(Lock { dependencies, digest: s(&doc.value, "digest") })
}

/// Go's `json.Marshal` of a helm `chart.Dependency` (field order and
/// `omitempty` as in helm's struct).
fn go_dependency(name: &str, version: &str, repository: &str, d: Option<&Dependency>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), name.into());
    if !version.is_empty() {
        m.insert("version".into(), version.into());
    }
    m.insert("repository".into(), repository.into());
    if let Some(d) = d {
        if !d.condition.is_empty() {
            m.insert("condition".into(), d.condition.clone().into());
        }
        if !d.tags.is_empty() {
            m.insert("tags".into(), d.tags.clone().into());
        }
        if d.declared_enabled {
            m.insert("enabled".into(), true.into());
        }
        if !d.import_values.is_empty() {
            m.insert("import-values".into(), d.import_values.clone().into());
        }
        if !d.alias.is_empty() {
            m.insert("alias".into(), d.alias.clone().into());
        }
    }
    Value::Object(m)
}

/// Serialize a value as Go's `encoding/json` does: fields in the given
/// order, map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped.
fn go_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(v, out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// helm's `resolver.HashReq(req, lock)`: `None` when a repository is named
/// by an alias (`@name`, `alias:name`), which helm resolves through the
/// local repositories file before hashing.
pub fn hash_req(req: &[Dependency], lock: &[Locked]) -> Option<String> {
    if req.iter().any(|d| d.repository.starts_with('@') || d.repository.starts_with("alias:")) {
        return None;
    }
    // serde_json's Map keeps keys sorted; helm's struct order is built by hand.
    let fields = |v: Value| -> Vec<(String, Value)> {
        let order = ["name", "version", "repository", "condition", "tags", "enabled", "import-values", "alias"];
        let m = v.as_object().cloned().unwrap_or_default();
        order.iter().filter_map(|k| m.get(*k).map(|v| (k.to_string(), v.clone()))).collect()
    };
    let ordered = |v: Value| -> String {
        let parts: Vec<String> =
            fields(v).into_iter().map(|(k, v)| format!("{}:{}", go_json(&Value::String(k)), go_json(&v))).collect();
        format!("{{{}}}", parts.join(","))
    };
    let reqs: Vec<String> =
        req.iter().map(|d| ordered(go_dependency(&d.name, &d.version, &d.repository, Some(d)))).collect();
    let locks: Vec<String> =
        lock.iter().map(|l| ordered(go_dependency(&l.name, &l.version, &l.repository, None))).collect();
    let json = format!("[[{}],[{}]]", reqs.join(","), locks.join(","));
    Some(format!("sha256:{:x}", Sha256::digest(json.as_bytes())))
}

/// Is `Chart.lock` out of sync with `Chart.yaml`'s dependencies (as
/// `helm dependency build` decides)? `false` when it cannot be told.
pub fn lock_out_of_sync(req: &[Dependency], lock: &Lock) -> bool {
    hash_req(req, &lock.dependencies).is_some_and(|sum| sum != lock.digest)
}

/// `name (version V, locked L, repository R)` for messages.
pub fn describe(d: &Dependency, lock: Option<&Lock>) -> String {
    let mut parts = Vec::new();
    parts.push(format!("version {}", if d.version.is_empty() { "any" } else { &d.version }));
    if let Some(l) = lock.and_then(|l| l.dependencies.iter().find(|l| l.name == d.name && l.version != d.version)) {
        parts.push(format!("locked {}", l.version));
    }
    parts.push(format!("repository {}", if d.repository.is_empty() { "(none)" } else { &d.repository }));
    let name = if d.alias.is_empty() { d.name.clone() } else { format!("{} (alias {})", d.name, d.alias) };
    format!("{name} ({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, version: &str, repository: &str, condition: &str) -> Dependency {
        Dependency {
            name: name.into(),
            version: version.into(),
            repository: repository.into(),
            condition: condition.into(),
            ..Default::default()
        }
    }

    #[test]
    fn hash_req_matches_helm() {
        // Chart.lock written by `helm dependency update` (helm 4.1.4) for this Chart.yaml.
        let req = [dep("sub", "0.1.0", "file://../sub", "sub.enabled")];
        let lock = [Locked { name: "sub".into(), version: "0.1.0".into(), repository: "file://../sub".into() }];
        assert_eq!(
            hash_req(&req, &lock).unwrap(),
            "sha256:9358ad586555942bed7f401aa6307a6da97ca4b8a60c665a3118a5f075ceec1b"
        );
        let changed = [dep("sub", "0.1.0", "file://../sub", "sub.on")];
        assert_ne!(hash_req(&changed, &lock), hash_req(&req, &lock));
        assert_eq!(hash_req(&[dep("a", "1", "@stable", "")], &[]), None);
    }

    #[test]
    fn describe_names_version_lock_and_repository() {
        let d = dep("db", "~1.2", "https://charts.example.com", "");
        let lock = Lock {
            dependencies: vec![Locked { name: "db".into(), version: "1.2.7".into(), repository: d.repository.clone() }],
            digest: String::new(),
        };
        assert_eq!(describe(&d, Some(&lock)), "db (version ~1.2, locked 1.2.7, repository https://charts.example.com)");
        assert_eq!(describe(&dep("x", "", "", ""), None), "x (version any, repository (none))");
    }

    #[test]
    fn go_json_escapes_like_go() {
        assert_eq!(
            go_json(&serde_json::json!({"b": "<&>", "a": [1, true]})),
            r#"{"a":[1,true],"b":"\u003c\u0026\u003e"}"#
        );
    }
}
