//! The kustomization field `crds`: files of OpenAPI definitions (a mapping
//! from type name to `{Schema, Dependencies}`, as Kubernetes' OpenAPI code
//! generator writes them) whose extensions tell kustomize's transformers
//! about custom kinds (kustomize's `LoadConfigFromCRDs`). For every type
//! that looks like a Kubernetes object (properties `kind`, `apiVersion` and
//! `metadata`), named by the last dot-separated part of its type name, the
//! properties (following `$ref`s to other types of the file) marked
//!
//! - `x-kubernetes-annotation` get common annotations,
//! - `x-kubernetes-label-selector` get common labels,
//! - `x-kubernetes-identity` get the name prefix,
//! - `x-kubernetes-object-ref-api-version` and `x-kubernetes-object-ref-kind`
//!   name an object of that version and kind (its `name`, or the key
//!   `x-kubernetes-object-ref-name-key` gives): a name reference.
//!
//! The resulting config merges into the build's transformer config like a
//! `configurations` file.

use serde_json::{Map, Value};

use super::configurations::{self, Config, get_ci};
use super::fieldspec::{GvkSel, NameRef, Spec, split_path};
use super::target::Target;
use crate::yaml::Dialect;

/// The transformer config the `crds` files of a kustomization give.
pub fn config_for(t: &Target) -> Result<Option<Config>, String> {
    let paths: Vec<&str> = match &t.k.crds {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().ok_or_else(|| format!("{}: crds: expected a list of file paths", t.label)))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format!("{}: crds: expected a list of file paths", t.label)),
    };
    let mut config = Config::default();
    for path in paths {
        let err = |e: String| format!("{}: crds: '{path}': {e}", t.label);
        let bytes = t.read_file(path).map_err(err)?;
        let text = String::from_utf8(bytes).map_err(|_| err("not UTF-8".into()))?;
        let doc = crate::yaml::parse_one(&text, Dialect::Kustomize)
            .map_err(|e| err(format!("line {}: {}", e.line, e.message)))?;
        let file_config = from_definitions(&doc).map_err(err)?;
        configurations::merge(&mut config, &file_config).map_err(err)?;
    }
    Ok(Some(config))
}

/// The config of one file of definitions.
pub fn from_definitions(doc: &Value) -> Result<Config, String> {
    let defs = match doc {
        Value::Object(m) => m,
        Value::Null => return Ok(Config::default()),
        _ => return Err("expected a mapping of type names to OpenAPI definitions".into()),
    };
    let mut result = Config::default();
    for name in defs.keys() {
        let props = properties(defs, name)?;
        if !["kind", "apiVersion", "metadata"].iter().all(|k| props.is_some_and(|p| p.contains_key(*k))) {
            continue;
        }
        let kind = name.rsplit('.').next().unwrap_or(name);
        let mut one = Config::default();
        let mut stack = Vec::new();
        walk(&mut one, kind, defs, name, &mut Vec::new(), &mut stack)?;
        configurations::merge(&mut result, &one).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(result)
}

/// `Schema.properties` of a type of the file, if it has any.
fn properties<'a>(defs: &'a Map<String, Value>, name: &str) -> Result<Option<&'a Map<String, Value>>, String> {
    let Some(api) = defs.get(name) else { return Ok(None) };
    let Value::Object(api) = api else { return Err(format!("{name}: expected a mapping")) };
    let Some(schema) = get_ci(api, "Schema") else { return Ok(None) };
    match schema.get("properties") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(p)) => Ok(Some(p)),
        Some(_) => Err(format!("{name}: Schema.properties: expected a mapping")),
    }
}

fn ext<'a>(p: &'a Value, key: &str) -> Option<&'a str> {
    p.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).and_then(|(_, v)| v.as_str())
}

fn spec(kind: &str, path: &[String]) -> Spec {
    let text = path.join("/");
    Spec {
        gvk: GvkSel { kind: kind.to_string(), ..Default::default() },
        path: split_path(&text),
        path_text: text,
        create: false,
    }
}

fn walk(
    config: &mut Config,
    kind: &str,
    defs: &Map<String, Value>,
    type_name: &str,
    path: &mut Vec<String>,
    stack: &mut Vec<String>,
) -> Result<(), String> {
    let Some(props) = properties(defs, type_name)? else { return Ok(()) };
    stack.push(type_name.to_string());
    for (prop, p) in props {
        path.push(prop.clone());
        if ext(p, "x-kubernetes-annotation").is_some() {
            config.common_annotations.push(spec(kind, path));
        }
        if ext(p, "x-kubernetes-label-selector").is_some() {
            config.common_labels.push(spec(kind, path));
        }
        if ext(p, "x-kubernetes-identity").is_some() {
            config.name_prefix.push(spec(kind, path));
        }
        if let (Some(version), Some(ref_kind)) =
            (ext(p, "x-kubernetes-object-ref-api-version"), ext(p, "x-kubernetes-object-ref-kind"))
        {
            let key = ext(p, "x-kubernetes-object-ref-name-key").unwrap_or("name");
            let mut at = path.clone();
            at.push(key.to_string());
            let referral = GvkSel { version: version.to_string(), kind: ref_kind.to_string(), ..Default::default() };
            config.name_refs.push(NameRef { referral, specs: vec![spec(kind, &at)] });
        }
        if let Some(r) = p.get("$ref").and_then(Value::as_str).filter(|r| !r.is_empty())
            && !stack.iter().any(|s| s == r)
        {
            walk(config, kind, defs, r, path, stack)?;
        }
        path.pop();
    }
    stack.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_refs_labels_annotations_and_identity_become_field_specs() {
        let doc = json!({
            "x/v1.Thing": {"Schema": {"properties": {
                "apiVersion": {}, "kind": {}, "metadata": {},
                "spec": {"$ref": "x/v1.ThingSpec"}
            }}},
            "x/v1.ThingSpec": {"Schema": {"properties": {
                "secretRef": {"x-kubernetes-object-ref-api-version": "v1", "x-kubernetes-object-ref-kind": "Secret"},
                "cmRef": {"x-kubernetes-object-ref-api-version": "v1", "x-kubernetes-object-ref-kind": "ConfigMap",
                    "x-kubernetes-object-ref-name-key": "cmName"},
                "selector": {"x-kubernetes-label-selector": ""},
                "notes": {"x-kubernetes-annotation": ""},
                "id": {"x-kubernetes-identity": ""},
                "self": {"$ref": "x/v1.ThingSpec"}
            }}},
            "x/v1.NotAnObject": {"Schema": {"properties": {"ref": {
                "x-kubernetes-object-ref-api-version": "v1", "x-kubernetes-object-ref-kind": "Secret"}}}}
        });
        let c = from_definitions(&doc).unwrap();
        let texts = |l: &[Spec]| l.iter().map(|s| format!("{}:{}", s.gvk.kind, s.path_text)).collect::<Vec<_>>();
        let refs: Vec<(String, Vec<String>)> =
            c.name_refs.iter().map(|n| (n.referral.kind.clone(), texts(&n.specs))).collect();
        assert_eq!(
            refs,
            vec![
                ("ConfigMap".to_string(), vec!["Thing:spec/cmRef/cmName".to_string()]),
                ("Secret".to_string(), vec!["Thing:spec/secretRef/name".to_string()]),
            ]
        );
        assert_eq!(texts(&c.common_labels), ["Thing:spec/selector"]);
        assert_eq!(texts(&c.common_annotations), ["Thing:spec/notes"]);
        assert_eq!(texts(&c.name_prefix), ["Thing:spec/id"]);
    }

    #[test]
    fn bad_files_are_errors() {
        assert!(from_definitions(&json!([1])).is_err());
        assert!(from_definitions(&json!({"a": 1})).is_err());
        assert!(from_definitions(&json!({"a": {"Schema": {"properties": []}}})).is_err());
        assert!(from_definitions(&Value::Null).unwrap().name_refs.is_empty());
    }
}
