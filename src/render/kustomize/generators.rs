//! `configMapGenerator` and `secretGenerator`: key/value sources (literals,
//! files, env files) into ConfigMaps and Secrets, and the content hash
//! kustomize appends to their names (same bytes hashed, same encoding).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::kustomization::{Generator, GeneratorOptions};
use super::resource::{Behavior, Res};
use super::target::Target;
use crate::model::{Object, Origin};

/// Generator options after merging the kustomization-wide ones in
/// (kustomize's `MergeGlobalOptionsIntoLocal`: local labels win, a global
/// `true` cannot be undone locally).
fn merged_options(local: Option<&GeneratorOptions>, global: Option<&GeneratorOptions>) -> GeneratorOptions {
    let mut o = local.cloned().unwrap_or_default();
    if let Some(g) = global {
        for (k, v) in &g.labels.0 {
            o.labels.0.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &g.annotations.0 {
            o.annotations.0.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if g.disable_name_suffix_hash == Some(true) {
            o.disable_name_suffix_hash = Some(true);
        }
        if g.immutable == Some(true) {
            o.immutable = Some(true);
        }
    }
    o
}

fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') { &s[1..s.len() - 1] } else { s }
}

fn is_env_var_name(k: &str) -> bool {
    !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

fn is_config_key(k: &str) -> bool {
    !k.is_empty() && k.len() <= 253 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// The key/value pairs of a generator, in kustomize's order (env files,
/// literals, files), as raw bytes.
fn pairs(t: &Target, g: &Generator) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut envs = g.envs.clone();
    if !g.env.is_empty() {
        envs.push(g.env.clone());
    }
    for env in &envs {
        let content = t.read_file(env)?;
        let text = String::from_utf8(content).map_err(|_| format!("env source file {env}: invalid UTF-8"))?;
        for (i, line) in text.lines().enumerate() {
            let line = if i == 0 { line.trim_start_matches('\u{feff}') } else { line };
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line.split_once('=').unwrap_or((line, ""));
            if !is_env_var_name(k) {
                return Err(format!("env source files: [{env}]: invalid key {k:?} in env file"));
            }
            out.push((k.to_string(), v.as_bytes().to_vec()));
        }
    }
    for lit in &g.literals {
        let Some((k, v)) = lit.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(format!("invalid literal source {lit}, expected key=value"));
        };
        out.push((k.to_string(), remove_quotes(v).as_bytes().to_vec()));
    }
    for f in &g.files {
        let (key, path) = match f.matches('=').count() {
            0 => (f.rsplit('/').next().unwrap_or(f).to_string(), f.as_str()),
            1 if f.starts_with('=') => return Err(format!("missing key name for file path in source {f:?}")),
            1 if f.ends_with('=') => return Err(format!("missing file path for key name in source {f:?}")),
            1 => {
                let (k, p) = f.split_once('=').unwrap_or_default();
                (k.to_string(), p)
            }
            _ => return Err(format!("source {f:?} key name or file path contains '='")),
        };
        out.push((key, t.read_file(path)?));
    }
    let mut seen = std::collections::HashSet::new();
    for (k, _) in &out {
        if !is_config_key(k) {
            return Err(format!(
                "{k:?} is not a valid key name for a {}",
                if g.type_.is_empty() { "ConfigMap" } else { "Secret" }
            ));
        }
        if !seen.insert(k.clone()) {
            return Err(format!("configmap {} illegally repeats the key `{k}`", g.name));
        }
    }
    Ok(out)
}

/// Base64 as kyaml writes generated data: lines of 70 characters, each
/// ending in a newline once the text is 70 characters or longer.
fn encode_base64(bytes: &[u8]) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    if enc.len() < 70 {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / 70 + 1);
    for chunk in enc.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Build one ConfigMap (`secret == false`) or Secret from a generator entry.
pub fn generate(t: &Target, g: &Generator, secret: bool) -> Result<Res, String> {
    let kind = if secret { "Secret" } else { "ConfigMap" };
    if g.name.is_empty() {
        return Err(format!("a {} must have a name", kind.to_lowercase()));
    }
    let behavior = match g.behavior.as_str() {
        "" | "create" => Behavior::Create,
        "merge" => Behavior::Merge,
        "replace" => Behavior::Replace,
        other => return Err(format!("unknown generator behavior {other:?}")),
    };
    let opts = merged_options(g.options.as_ref(), t.k.generator_options.as_ref());
    let mut meta = Map::new();
    meta.insert("name".into(), json!(g.name));
    if !g.namespace.is_empty() {
        meta.insert("namespace".into(), json!(g.namespace));
    }
    if !opts.labels.is_empty() {
        meta.insert("labels".into(), json!(opts.labels.0));
    }
    if !opts.annotations.is_empty() {
        meta.insert("annotations".into(), json!(opts.annotations.0));
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!("v1"));
    obj.insert("kind".into(), json!(kind));
    obj.insert("metadata".into(), Value::Object(meta));
    let mut data = Map::new();
    let mut binary = Map::new();
    for (k, v) in pairs(t, g)? {
        if secret {
            data.insert(k, Value::String(encode_base64(&v)));
        } else {
            match String::from_utf8(v) {
                Ok(s) => {
                    data.insert(k, Value::String(s));
                }
                Err(e) => {
                    binary.insert(k, Value::String(encode_base64(e.as_bytes())));
                }
            }
        }
    }
    if !data.is_empty() {
        obj.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Object(binary));
    }
    if secret {
        obj.insert("type".into(), json!(if g.type_.is_empty() { "Opaque" } else { g.type_.as_str() }));
    }
    if opts.immutable == Some(true) {
        obj.insert("immutable".into(), json!(true));
    }
    let origin = Origin::new(t.label.trim_start_matches('/'), 0, 0);
    let obj = Object::new(Value::Object(obj), origin).map_err(|e| e.to_string())?;
    let mut res = Res::new(obj);
    res.korigin = Some(super::resource::KOrigin::Generated {
        configured_in: super::resource::relative_path(&t.build.top, &t.file),
        kind: format!("{kind}Generator"),
        name: String::new(),
    });
    res.needs_hash = opts.disable_name_suffix_hash != Some(true);
    res.behavior = Some(behavior);
    Ok(res)
}

/// JSON as Go's `encoding/json` writes it: sorted keys, `<>&` and U+2028/9 escaped.
pub fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => go_json_str(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            let sorted: BTreeMap<&String, &Value> = m.iter().collect();
            for (i, (k, x)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_str(k, out);
                out.push(':');
                go_json(x, out);
            }
            out.push('}');
        }
    }
}

fn go_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The hash suffix kustomize gives a ConfigMap or Secret (`api/hasher`).
pub fn content_hash(obj: &Map<String, Value>) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    // kustomize looks the name up as one field literally named
    // `metadata/name`, which never exists: the name hashes as "".
    let name = json!("");
    let field = |k: &str| match obj.get(k) {
        None | Some(Value::Null) => json!(""),
        Some(v) => v.clone(),
    };
    let mut m = Map::new();
    m.insert("kind".into(), json!(kind));
    m.insert("name".into(), name);
    m.insert("data".into(), field("data"));
    match kind {
        "ConfigMap" => {
            if let Some(b @ Value::Object(_)) = obj.get("binaryData") {
                m.insert("binaryData".into(), b.clone());
            }
        }
        "Secret" => {
            m.insert("type".into(), field("type"));
            if let Some(b @ Value::Object(_)) = obj.get("stringData") {
                m.insert("stringData".into(), b.clone());
            }
        }
        _ => {
            m = obj.clone();
        }
    }
    let mut text = String::new();
    go_json(&Value::Object(m), &mut text);
    encode_hash(&Sha256::digest(text.as_bytes()))
}

fn encode_hash(digest: &[u8]) -> String {
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_kustomize() {
        // `kubectl kustomize` (v5.5) names `configMapGenerator: [{name: x, literals: [a=b]}]` x-4h2mbtbbt6.
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}});
        assert_eq!(content_hash(cm.as_object().unwrap()), "4h2mbtbbt6");
        let mut s = String::new();
        go_json(&json!({"kind": "ConfigMap", "name": "x", "data": {"a": "<&>"}}), &mut s);
        assert_eq!(s, r#"{"data":{"a":"\u003c\u0026\u003e"},"kind":"ConfigMap","name":"x"}"#);
    }
}
