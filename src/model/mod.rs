//! The object model every stage shares.
//!
//! An [`Object`] is an unstructured Kubernetes object (a JSON mapping) plus
//! the [`Origin`] it was rendered from. Identity ([`ObjectKey`]) is derived
//! from the data on demand, so transformers that rename or re-namespace an
//! object can never leave a stale key behind. Construction validates the
//! fields every manifest needs; nothing here does I/O.

mod key;

pub use key::{Gvk, ObjectKey, group_kind};

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

/// Where an object came from: a file relative to the source root, the
/// document's index in that file (0-based) and its first line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Origin {
    pub file: Arc<str>,
    pub document: usize,
    pub line: usize,
}

impl Origin {
    pub fn new(file: impl Into<Arc<str>>, document: usize, line: usize) -> Self {
        Origin { file: file.into(), document, line }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 { write!(f, "{}:{}", self.file, self.line) } else { write!(f, "{}", self.file) }
    }
}

/// Why a document is not a usable manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidObject {
    /// The document is a scalar or a sequence, not a mapping.
    #[error("document is not a mapping (found {0})")]
    NotAMapping(&'static str),
    /// A required field is absent, empty or of the wrong type.
    #[error("missing or invalid field `{0}`")]
    MissingField(&'static str),
    /// `metadata.generateName` without a name on an object that is not a
    /// hook: the object has no stable identity.
    #[error(
        "`metadata.generateName` is set without `metadata.name`: generated names change on every apply, so GitOps cannot track the object; set `metadata.name` (only hooks, `argocd.argoproj.io/hook` or `helm.sh/hook`, may use `generateName` alone: they are created anew on every sync)"
    )]
    GenerateName,
}

/// What [`Object::key`] appends to the `generateName` of an unnamed hook.
pub const GENERATED_SUFFIX: &str = "*";

/// Do these annotations make the object a hook, as gitops-engine's
/// `hook.IsHook` decides? Argo CD's `argocd.argoproj.io/hook` (unless its
/// only hook type is `Skip`), else Helm's `helm.sh/hook` other than
/// `crd-install` (which Argo CD applies as an ordinary resource). Only hooks
/// may be named by `metadata.generateName` alone; hooks are never ApplySet
/// members, never pruned and not part of the sync status.
fn is_hook_metadata(meta: &Map<String, Value>) -> bool {
    let Some(Value::Object(ann)) = meta.get("annotations") else { return false };
    if let Some(v) = ann.get(crate::keys::HOOK) {
        let known = ["PreSync", "Sync", "PostSync", "SyncFail", "PostDelete", "Skip"];
        let types: Vec<&str> =
            v.as_str().unwrap_or("").split(',').map(str::trim).filter(|t| known.contains(t)).collect();
        return types != ["Skip"];
    }
    ann.get(crate::keys::HELM_HOOK).and_then(Value::as_str).is_some_and(|h| h.trim() != "crd-install")
}

/// [`Object::is_hook`] of a live object as the API server returns it.
pub fn is_hook_value(v: &Value) -> bool {
    matches!(v.get("metadata"), Some(Value::Object(meta)) if is_hook_metadata(meta))
}

/// An unstructured Kubernetes object with its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    data: Map<String, Value>,
    pub origin: Origin,
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

fn non_empty_str<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

impl Object {
    /// Validate a decoded document as a manifest.
    pub fn new(value: Value, origin: Origin) -> Result<Object, InvalidObject> {
        let Value::Object(data) = value else {
            return Err(InvalidObject::NotAMapping(type_name(&value)));
        };
        if non_empty_str(&data, "apiVersion").is_none() {
            return Err(InvalidObject::MissingField("apiVersion"));
        }
        if non_empty_str(&data, "kind").is_none() {
            return Err(InvalidObject::MissingField("kind"));
        }
        let Some(Value::Object(meta)) = data.get("metadata") else {
            return Err(InvalidObject::MissingField("metadata"));
        };
        if non_empty_str(meta, "name").is_none() {
            match meta.get("generateName") {
                None => return Err(InvalidObject::MissingField("metadata.name")),
                Some(Value::String(g)) if !g.is_empty() => {
                    if !is_hook_metadata(meta) {
                        return Err(InvalidObject::GenerateName);
                    }
                }
                Some(_) => return Err(InvalidObject::MissingField("metadata.generateName")),
            }
        }
        if meta.get("namespace").is_some_and(|ns| !ns.is_string() && !ns.is_null()) {
            return Err(InvalidObject::MissingField("metadata.namespace"));
        }
        Ok(Object { data, origin })
    }

    /// Is this document a `List` (`kind: List` or `*List` with `items`)?
    pub fn is_list(value: &Value) -> bool {
        value.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
            && value.get("items").is_some_and(Value::is_array)
    }

    pub fn data(&self) -> &Map<String, Value> {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.data
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.data)
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.data.clone())
    }

    fn str_field(&self, key: &str) -> &str {
        self.data.get(key).and_then(Value::as_str).unwrap_or("")
    }

    pub fn api_version(&self) -> &str {
        self.str_field("apiVersion")
    }

    pub fn kind(&self) -> &str {
        self.str_field("kind")
    }

    /// API group: `""` for the core group.
    pub fn group(&self) -> &str {
        self.api_version().rsplit_once('/').map_or("", |(g, _)| g)
    }

    pub fn version(&self) -> &str {
        let av = self.api_version();
        av.rsplit_once('/').map_or(av, |(_, v)| v)
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::new(self.group(), self.version(), self.kind())
    }

    pub fn metadata(&self) -> &Map<String, Value> {
        match self.data.get("metadata") {
            Some(Value::Object(m)) => m,
            _ => unreachable!("Object::new guarantees metadata is a mapping"),
        }
    }

    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        match self.data.get_mut("metadata") {
            Some(Value::Object(m)) => m,
            _ => unreachable!("Object::new guarantees metadata is a mapping"),
        }
    }

    pub fn name(&self) -> &str {
        self.metadata().get("name").and_then(Value::as_str).unwrap_or("")
    }

    /// `metadata.generateName` of an object without a name (a hook the API
    /// server names when it is created), else `None`.
    pub fn generate_name(&self) -> Option<&str> {
        if !self.name().is_empty() {
            return None;
        }
        self.metadata().get("generateName").and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// Is this object a hook (see [`is_hook_metadata`])? Hooks are run at
    /// their phase, cleaned up by their delete policy, never ApplySet
    /// members, never pruned and not part of the sync status.
    pub fn is_hook(&self) -> bool {
        is_hook_metadata(self.metadata())
    }

    pub fn set_name(&mut self, name: &str) {
        self.metadata_mut().insert("name".into(), Value::String(name.into()));
    }

    /// The namespace, `None` when unset or empty.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().get("namespace").and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// Set (`Some`) or remove (`None`) `metadata.namespace`.
    pub fn set_namespace(&mut self, ns: Option<&str>) {
        let meta = self.metadata_mut();
        match ns {
            Some(ns) => {
                meta.insert("namespace".into(), Value::String(ns.into()));
            }
            None => {
                meta.remove("namespace");
            }
        }
    }

    fn string_map(&self, field: &str) -> Option<&Map<String, Value>> {
        self.metadata().get(field).and_then(Value::as_object)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.string_map("labels")?.get(key)?.as_str()
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.string_map("annotations")?.get(key)?.as_str()
    }

    pub fn labels(&self) -> Option<&Map<String, Value>> {
        self.string_map("labels")
    }

    pub fn annotations(&self) -> Option<&Map<String, Value>> {
        self.string_map("annotations")
    }

    fn string_map_mut(&mut self, field: &str) -> &mut Map<String, Value> {
        let meta = self.metadata_mut();
        let entry = meta.entry(field.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        entry.as_object_mut().expect("just made a mapping")
    }

    pub fn set_label(&mut self, key: &str, value: &str) {
        self.string_map_mut("labels").insert(key.into(), Value::String(value.into()));
    }

    pub fn set_annotation(&mut self, key: &str, value: &str) {
        self.string_map_mut("annotations").insert(key.into(), Value::String(value.into()));
    }

    /// Identity: group, kind, namespace and name (the version is not part of
    /// identity: one object served in two versions is still one object).
    /// A hook named by `generateName` alone is keyed `<generateName>*`: `*`
    /// is never part of a real name, so the key names what the server will
    /// generate without colliding with any named object.
    pub fn key(&self) -> ObjectKey {
        let ns = self.namespace().unwrap_or("");
        match self.generate_name() {
            Some(g) => ObjectKey::new(self.group(), self.kind(), ns, &format!("{g}{GENERATED_SUFFIX}")),
            None => ObjectKey::new(self.group(), self.kind(), ns, self.name()),
        }
    }

    /// A JSON pointer lookup into the data (`/spec/replicas`).
    pub fn pointer(&self, ptr: &str) -> Option<&Value> {
        if ptr.is_empty() {
            return None;
        }
        let (first, rest) = ptr.trim_start_matches('/').split_once('/').unwrap_or((ptr.trim_start_matches('/'), ""));
        let v = self.data.get(first)?;
        if rest.is_empty() { Some(v) } else { v.pointer(&format!("/{rest}")) }
    }
}

/// A DNS-1123 label (`my-app`): lowercase letters, digits and `-`, starting
/// and ending alphanumeric, at most 63 characters (namespace names).
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63
        && !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain (`web.team-a`): dot-separated labels, at most 253
/// characters (the names of most objects, Applications among them).
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// About how many bytes `v` takes as JSON: 8 per node plus its strings and
/// keys (what render budgets charge). Walks with an explicit stack.
pub fn weight(v: &Value) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total += 8;
        match v {
            Value::String(s) => total += s.len() as u64,
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(m) => {
                total += m.keys().map(|k| k.len() as u64).sum::<u64>();
                stack.extend(m.values());
            }
            _ => {}
        }
    }
    total
}

/// Does `v` nest at most `max` levels (a scalar is one level)? Walks with
/// an explicit stack, so any value can be checked.
pub fn depth_within(v: &Value, max: usize) -> bool {
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        if d > max {
            return false;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Result<Object, InvalidObject> {
        Object::new(v, Origin::new("a.yaml", 0, 1))
    }

    #[test]
    fn validates_required_fields() {
        assert_eq!(obj(json!([1])).unwrap_err(), InvalidObject::NotAMapping("a sequence"));
        assert_eq!(
            obj(json!({"kind": "X", "metadata": {"name": "a"}})).unwrap_err(),
            InvalidObject::MissingField("apiVersion")
        );
        assert_eq!(
            obj(json!({"apiVersion": "v1", "metadata": {"name": "a"}})).unwrap_err(),
            InvalidObject::MissingField("kind")
        );
        assert_eq!(obj(json!({"apiVersion": "v1", "kind": "X"})).unwrap_err(), InvalidObject::MissingField("metadata"));
        assert_eq!(
            obj(json!({"apiVersion": "v1", "kind": "X", "metadata": {}})).unwrap_err(),
            InvalidObject::MissingField("metadata.name")
        );
        assert_eq!(
            obj(json!({"apiVersion": "v1", "kind": "X", "metadata": {"generateName": "a-"}})).unwrap_err(),
            InvalidObject::GenerateName
        );
        let crd_install = json!({"generateName": "a-", "annotations": {"helm.sh/hook": "crd-install"}});
        assert_eq!(
            obj(json!({"apiVersion": "v1", "kind": "X", "metadata": crd_install})).unwrap_err(),
            InvalidObject::GenerateName
        );
        assert_eq!(
            obj(json!({"apiVersion": "v1", "kind": "X", "metadata": {"generateName": 3, "annotations": {"argocd.argoproj.io/hook": "PreSync"}}}))
                .unwrap_err(),
            InvalidObject::MissingField("metadata.generateName")
        );
    }

    #[test]
    fn hooks_may_be_named_by_generate_name() {
        for ann in [json!({"argocd.argoproj.io/hook": "PreSync"}), json!({"helm.sh/hook": "pre-install"})] {
            let o = obj(json!({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"generateName": "migrate-", "namespace": "n", "annotations": ann}}))
            .unwrap();
            assert_eq!(o.name(), "");
            assert_eq!(o.generate_name(), Some("migrate-"));
            assert_eq!(o.key().to_string(), "Job.batch n/migrate-*");
            assert_eq!(o.key().kubectl_name(), "job.batch/migrate-*");
        }
        let named =
            obj(json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "generateName": "b-"}})).unwrap();
        assert_eq!((named.generate_name(), named.key().name.as_str()), (None, "a"));
    }

    #[test]
    fn hooks_as_gitops_engine_decides() {
        let hook = |ann: serde_json::Value| {
            obj(json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "annotations": ann}}))
                .unwrap()
                .is_hook()
        };
        assert!(hook(json!({"argocd.argoproj.io/hook": "PreSync"})));
        assert!(hook(json!({"argocd.argoproj.io/hook": "Skip,PostSync"})));
        assert!(!hook(json!({"argocd.argoproj.io/hook": " Skip "})));
        // An Argo CD hook annotation wins over Helm's, even crd-install.
        assert!(hook(json!({"argocd.argoproj.io/hook": "Sync", "helm.sh/hook": "crd-install"})));
        assert!(hook(json!({"helm.sh/hook": "pre-install"})));
        // Helm hook types Argo CD never runs still make a hook.
        assert!(hook(json!({"helm.sh/hook": "test"})));
        assert!(!hook(json!({"helm.sh/hook": "crd-install"})));
        assert!(!hook(json!({"argocd.argoproj.io/sync-wave": "1"})));
    }

    #[test]
    fn identity_accessors() {
        let mut o = obj(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"}}),
        )
        .unwrap();
        assert_eq!((o.group(), o.version(), o.kind(), o.name()), ("apps", "v1", "Deployment", "web"));
        assert_eq!(o.key().to_string(), "Deployment.apps prod/web");
        o.set_namespace(None);
        assert_eq!(o.key().to_string(), "Deployment.apps web");
        o.set_label("a", "b");
        assert_eq!(o.label("a"), Some("b"));
        assert_eq!(o.pointer("/metadata/labels/a"), Some(&json!("b")));
        let core = obj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})).unwrap();
        assert_eq!((core.group(), core.version()), ("", "v1"));
    }
}
