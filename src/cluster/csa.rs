//! Client-side apply, as `kubectl apply` (without `--server-side`) does it,
//! for objects whose sync options ask for it (Argo CD's
//! `ServerSideApply=false`, `Validate=false`): the object carries its
//! last-applied configuration in the annotation
//! `kubectl.kubernetes.io/last-applied-configuration`, and an update is a
//! three-way patch computed here from that annotation (original), the
//! desired object (modified) and the live object (current).
//!
//! Built-in kinds get a strategic merge patch: lists with a patch merge
//! key (containers by `name`, Service ports by `port`, ...) are merged
//! element by element, with `$patch: delete` for the elements the last
//! apply had and the source dropped, `$deleteFromPrimitiveList` for
//! primitive merge lists and `$setElementOrder` for the order, and maps
//! with the `retainKeys` strategy carry `$retainKeys`. The patch metadata
//! comes from the server's OpenAPI document ([`PatchSchema`]), read once
//! per run and only when needed. Custom resources get a JSON merge patch
//! (RFC 7386: maps merged, lists replaced), as kubectl sends them.
//!
//! Invariants: a field is deleted only when the last apply set it and the
//! source no longer does (fields other writers added stay); an empty patch
//! means the apply would change nothing, so no request is needed.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::keys;

/// Maximum `$ref` hops followed when resolving a schema (a cycle stops here).
const MAX_REFS: usize = 32;

/// Patch strategies of the server's OpenAPI v2 document, by definition.
#[derive(Debug, Default)]
pub struct PatchSchema {
    definitions: Map<String, Value>,
    /// (group, version, kind) -> definition name.
    by_gvk: HashMap<(String, String, String), String>,
}

impl PatchSchema {
    /// Index an OpenAPI v2 document (`/openapi/v2`).
    pub fn from_openapi(doc: Value) -> PatchSchema {
        let definitions = match doc {
            Value::Object(mut m) => match m.remove("definitions") {
                Some(Value::Object(d)) => d,
                _ => Map::new(),
            },
            _ => Map::new(),
        };
        let mut by_gvk = HashMap::new();
        for (name, def) in &definitions {
            for gvk in def.get("x-kubernetes-group-version-kind").and_then(Value::as_array).into_iter().flatten() {
                let s = |k: &str| gvk.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                by_gvk.insert((s("group"), s("version"), s("kind")), name.clone());
            }
        }
        PatchSchema { definitions, by_gvk }
    }

    /// The schema of a kind; an unknown kind has no patch metadata (every
    /// list is then replaced, as a strategic merge patch does for lists
    /// without a strategy).
    pub fn kind(&self, group: &str, version: &str, kind: &str) -> Node<'_> {
        let def = self.by_gvk.get(&(group.to_string(), version.to_string(), kind.to_string()));
        Node { schema: def.and_then(|d| self.definitions.get(d)), root: self }
    }

    fn resolve<'a>(&'a self, mut s: &'a Value) -> &'a Value {
        for _ in 0..MAX_REFS {
            let Some(r) = s.get("$ref").and_then(Value::as_str) else { return s };
            match r.strip_prefix("#/definitions/").and_then(|d| self.definitions.get(d)) {
                Some(next) => s = next,
                None => return s,
            }
        }
        s
    }
}

/// A position in a kind's schema.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    schema: Option<&'a Value>,
    root: &'a PatchSchema,
}

/// How a field is patched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FieldMeta {
    merge: bool,
    retain_keys: bool,
    merge_key: Option<String>,
}

impl<'a> Node<'a> {
    fn none(root: &'a PatchSchema) -> Node<'a> {
        Node { schema: None, root }
    }

    fn field(self, name: &str) -> (Node<'a>, FieldMeta) {
        let Some(s) = self.schema.map(|s| self.root.resolve(s)) else {
            return (Node::none(self.root), FieldMeta::default());
        };
        let Some(prop) = s.pointer(&format!("/properties/{}", name.replace('~', "~0").replace('/', "~1"))) else {
            return (Node::none(self.root), FieldMeta::default());
        };
        let strategy = prop.get("x-kubernetes-patch-strategy").and_then(Value::as_str).unwrap_or("");
        let meta = FieldMeta {
            merge: strategy.split(',').any(|s| s == "merge"),
            retain_keys: strategy.split(',').any(|s| s == "retainKeys"),
            merge_key: prop.get("x-kubernetes-patch-merge-key").and_then(Value::as_str).map(String::from),
        };
        (Node { schema: Some(prop), root: self.root }, meta)
    }

    fn items(self) -> Node<'a> {
        let items = self.schema.map(|s| self.root.resolve(s)).and_then(|s| s.get("items"));
        Node { schema: items, root: self.root }
    }
}

/// Which patch a kind takes.
#[derive(Clone, Copy)]
pub enum PatchKind<'a> {
    /// `application/strategic-merge-patch+json`, with the kind's schema.
    Strategic(Node<'a>),
    /// `application/merge-patch+json` (custom resources).
    Merge,
}

/// Built-in API groups take strategic merge patches; custom resources
/// cannot (the server answers 415), so they take JSON merge patches.
pub fn is_builtin_group(group: &str) -> bool {
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
}

/// `desired` with its last-applied annotation set to itself (without that
/// annotation), as `kubectl apply` writes it.
pub fn with_last_applied(desired: &Value) -> Value {
    let mut bare = desired.clone();
    if let Some(Value::Object(a)) = bare.pointer_mut("/metadata/annotations") {
        a.remove(keys::LAST_APPLIED);
        if a.is_empty()
            && let Some(Value::Object(m)) = bare.get_mut("metadata")
        {
            m.remove("annotations");
        }
    }
    let text = serde_json::to_string(&bare).expect("JSON values serialize");
    let mut out = desired.clone();
    if let Some(Value::Object(meta)) = out.get_mut("metadata") {
        let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        if let Value::Object(a) = annotations {
            a.insert(keys::LAST_APPLIED.into(), Value::String(text));
        }
    }
    out
}

/// The three-way patch that takes `current` to `modified` (which carries
/// its last-applied annotation, see [`with_last_applied`]), deleting what
/// the previous apply (`current`'s annotation) set and `modified` dropped.
/// An empty object: nothing to change.
pub fn three_way_patch(modified: &Value, current: &Value, kind: PatchKind<'_>) -> Map<String, Value> {
    let original: Option<Value> = current
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(keys::LAST_APPLIED))
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str(s).ok());
    let (Value::Object(m), Value::Object(c)) = (modified, current) else { return Map::new() };
    let o = original.as_ref().and_then(Value::as_object);
    match kind {
        PatchKind::Strategic(node) => diff_maps(o, m, c, Some(node)),
        PatchKind::Merge => diff_maps(o, m, c, None),
    }
}

/// The patch of one map. `node` is `None` for JSON merge patches.
fn diff_maps(
    original: Option<&Map<String, Value>>,
    modified: &Map<String, Value>,
    current: &Map<String, Value>,
    node: Option<Node<'_>>,
) -> Map<String, Value> {
    let mut patch = Map::new();
    for (k, mv) in modified {
        let (child, meta) = match node {
            Some(n) => {
                let (c, m) = n.field(k);
                (Some(c), m)
            }
            None => (None, FieldMeta::default()),
        };
        let ov = original.and_then(|o| o.get(k));
        let Some(cv) = current.get(k) else {
            if !mv.is_null() {
                patch.insert(k.clone(), mv.clone());
            }
            continue;
        };
        match (mv, cv) {
            (Value::Object(mm), Value::Object(cm)) => {
                let mut sub = diff_maps(ov.and_then(Value::as_object), mm, cm, child);
                if !sub.is_empty() {
                    if meta.retain_keys && node.is_some() {
                        sub.insert("$retainKeys".into(), Value::Array(sorted_keys(mm)));
                    }
                    patch.insert(k.clone(), Value::Object(sub));
                }
            }
            (Value::Array(ml), Value::Array(cl)) if node.is_some() && meta.merge => {
                let ol = ov.and_then(Value::as_array);
                diff_merge_list(&mut patch, k, ol, ml, cl, &meta, child.expect("strategic").items());
            }
            _ if mv != cv => {
                patch.insert(k.clone(), mv.clone());
            }
            _ => {}
        }
    }
    // What the last apply set and the source dropped is deleted.
    for k in original.into_iter().flat_map(Map::keys) {
        if !modified.contains_key(k) && current.contains_key(k) {
            patch.insert(k.clone(), Value::Null);
        }
    }
    patch
}

fn sorted_keys(m: &Map<String, Value>) -> Vec<Value> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys.into_iter().map(|k| Value::String(k.clone())).collect()
}

/// A list with the `merge` strategy: by merge key for maps, by value for primitives.
fn diff_merge_list(
    patch: &mut Map<String, Value>,
    field: &str,
    original: Option<&Vec<Value>>,
    modified: &[Value],
    current: &[Value],
    meta: &FieldMeta,
    items: Node<'_>,
) {
    let primitive = modified.iter().chain(current).all(|v| !v.is_object() && !v.is_array());
    if primitive {
        let added: Vec<Value> = modified.iter().filter(|v| !current.contains(v)).cloned().collect();
        let removed: Vec<Value> =
            original.into_iter().flatten().filter(|v| !modified.contains(v) && current.contains(v)).cloned().collect();
        if added.is_empty() && removed.is_empty() {
            return;
        }
        if !added.is_empty() {
            patch.insert(field.into(), Value::Array(added));
        }
        if !removed.is_empty() {
            patch.insert(format!("$deleteFromPrimitiveList/{field}"), Value::Array(removed));
        }
        patch.insert(format!("$setElementOrder/{field}"), Value::Array(modified.to_vec()));
        return;
    }
    let Some(key) = meta.merge_key.as_deref() else {
        replace_if_changed(patch, field, modified, current);
        return;
    };
    let key_of = |v: &Value| v.get(key).cloned();
    // Elements without their merge key cannot be merged: the list is replaced.
    if modified.iter().chain(current).any(|v| key_of(v).is_none()) {
        replace_if_changed(patch, field, modified, current);
        return;
    }
    let mut entries = Vec::new();
    for m in modified {
        let k = key_of(m).expect("checked");
        let o = original.and_then(|ol| ol.iter().find(|o| key_of(o).as_ref() == Some(&k)));
        match current.iter().find(|c| key_of(c).as_ref() == Some(&k)) {
            None => entries.push(m.clone()),
            Some(c) => {
                let (Value::Object(mm), Value::Object(cm)) = (m, c) else { continue };
                let sub = diff_maps(o.and_then(Value::as_object), mm, cm, Some(items));
                if !sub.is_empty() {
                    let mut e = sub;
                    e.insert(key.into(), k.clone());
                    entries.push(Value::Object(e));
                }
            }
        }
    }
    for o in original.into_iter().flatten() {
        let Some(k) = key_of(o) else { continue };
        let dropped = !modified.iter().any(|m| key_of(m).as_ref() == Some(&k));
        if dropped && current.iter().any(|c| key_of(c).as_ref() == Some(&k)) {
            let mut e = Map::new();
            e.insert(key.into(), k);
            e.insert("$patch".into(), Value::String("delete".into()));
            entries.push(Value::Object(e));
        }
    }
    let order: Vec<Value> = modified.iter().filter_map(key_of).collect();
    let current_order: Vec<Value> = current.iter().filter_map(key_of).filter(|k| order.contains(k)).collect();
    if !entries.is_empty() || order != current_order {
        let keyed = order
            .into_iter()
            .map(|k| {
                let mut e = Map::new();
                e.insert(key.into(), k);
                Value::Object(e)
            })
            .collect();
        patch.insert(format!("$setElementOrder/{field}"), Value::Array(keyed));
    }
    if !entries.is_empty() {
        patch.insert(field.into(), Value::Array(entries));
    }
}

fn replace_if_changed(patch: &mut Map<String, Value>, field: &str, modified: &[Value], current: &[Value]) {
    if modified != current {
        patch.insert(field.into(), Value::Array(modified.to_vec()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A slice of the 1.20 OpenAPI document: Deployment -> PodSpec ->
    /// Container, with their patch strategies, and ObjectMeta's finalizers.
    fn schema() -> PatchSchema {
        PatchSchema::from_openapi(json!({"definitions": {
            "apps.v1.Deployment": {
                "x-kubernetes-group-version-kind": [{"group": "apps", "version": "v1", "kind": "Deployment"}],
                "properties": {
                    "metadata": {"$ref": "#/definitions/meta.ObjectMeta"},
                    "spec": {"$ref": "#/definitions/apps.v1.DeploymentSpec"}
                }
            },
            "apps.v1.DeploymentSpec": {"properties": {
                "strategy": {"$ref": "#/definitions/apps.v1.DeploymentStrategy",
                             "x-kubernetes-patch-strategy": "retainKeys"},
                "template": {"properties": {"spec": {"$ref": "#/definitions/core.v1.PodSpec"}}}
            }},
            "apps.v1.DeploymentStrategy": {"properties": {"type": {"type": "string"}, "rollingUpdate": {"type": "object"}}},
            "core.v1.PodSpec": {"properties": {
                "containers": {"type": "array", "items": {"$ref": "#/definitions/core.v1.Container"},
                               "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"},
                "tolerations": {"type": "array", "items": {"type": "object"}}
            }},
            "core.v1.Container": {"properties": {
                "env": {"type": "array", "items": {"type": "object"},
                        "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"},
                "args": {"type": "array", "items": {"type": "string"}}
            }},
            "meta.ObjectMeta": {"properties": {
                "finalizers": {"type": "array", "items": {"type": "string"}, "x-kubernetes-patch-strategy": "merge"}
            }}
        }}))
    }

    fn deployment(env: Value, args: Value, last: Option<&Value>) -> Value {
        let mut d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx", "env": env, "args": args}]}}}
        });
        if let Some(l) = last {
            d["metadata"]["annotations"] = json!({keys::LAST_APPLIED: serde_json::to_string(l).unwrap()});
        }
        d
    }

    #[test]
    fn strategic_patch_deletes_only_what_the_last_apply_set() {
        let s = schema();
        let kind = PatchKind::Strategic(s.kind("apps", "v1", "Deployment"));
        let last = deployment(json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]), json!(["x"]), None);
        // Live: what we applied, plus C (another writer's).
        let mut live = deployment(
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]),
            json!(["x"]),
            Some(&last),
        );
        live["metadata"]["resourceVersion"] = json!("7");
        let desired = deployment(json!([{"name": "A", "value": "1"}]), json!(["y"]), None);
        let modified = with_last_applied(&desired);
        let patch = three_way_patch(&modified, &live, kind);
        let container = &patch["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["name"], "app");
        assert_eq!(container["env"], json!([{"name": "B", "$patch": "delete"}]));
        assert_eq!(container["$setElementOrder/env"], json!([{"name": "A"}]));
        // A list without a strategy is replaced whole.
        assert_eq!(container["args"], json!(["y"]));
        assert_eq!(patch["spec"]["template"]["spec"]["$setElementOrder/containers"], json!([{"name": "app"}]));
        assert!(patch["metadata"]["annotations"][keys::LAST_APPLIED].as_str().unwrap().contains("\"y\""));
        // Applied again over the result: nothing to do.
        let mut after = modified.clone();
        after["spec"]["template"]["spec"]["containers"][0]["env"] =
            json!([{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]);
        assert_eq!(three_way_patch(&modified, &after, kind), Map::new());
    }

    #[test]
    fn retain_keys_primitive_lists_and_dropped_fields() {
        let s = schema();
        let kind = PatchKind::Strategic(s.kind("apps", "v1", "Deployment"));
        let last = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "finalizers": ["a", "b"], "labels": {"x": "1"}},
            "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "finalizers": ["a", "b", "c"], "labels": {"x": "1", "y": "2"},
                         "annotations": {keys::LAST_APPLIED: last.to_string()}},
            "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let desired = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "finalizers": ["a"], "labels": {"z": "3"}},
            "spec": {"strategy": {"type": "Recreate"}}});
        let patch = three_way_patch(&with_last_applied(&desired), &live, kind);
        assert_eq!(patch["metadata"]["$deleteFromPrimitiveList/finalizers"], json!(["b"]));
        assert_eq!(patch["metadata"]["$setElementOrder/finalizers"], json!(["a"]));
        // The label we set is removed; the one someone else added stays.
        assert_eq!(patch["metadata"]["labels"], json!({"x": null, "z": "3"}));
        // A whole map the source dropped goes, as with kubectl.
        let mut bare = desired.clone();
        bare["metadata"].as_object_mut().unwrap().remove("labels");
        let patch = three_way_patch(&with_last_applied(&bare), &live, kind);
        assert_eq!(patch["metadata"].get("labels"), Some(&Value::Null));
        assert_eq!(
            patch["spec"]["strategy"],
            json!({"type": "Recreate", "rollingUpdate": null, "$retainKeys": ["type"]})
        );
    }

    #[test]
    fn custom_resources_get_a_merge_patch() {
        let last = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                          "spec": {"items": [1, 2], "old": true}});
        let live = json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "annotations": {keys::LAST_APPLIED: last.to_string()}},
            "spec": {"items": [1, 2], "old": true, "status": "theirs"}});
        let desired = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                             "spec": {"items": [2]}});
        let patch = three_way_patch(&with_last_applied(&desired), &live, PatchKind::Merge);
        assert_eq!(patch["spec"], json!({"items": [2], "old": null}));
        assert!(
            !is_builtin_group("example.com")
                && is_builtin_group("apps")
                && is_builtin_group("rbac.authorization.k8s.io")
        );
    }

    #[test]
    fn last_applied_excludes_itself_and_ref_cycles_stop() {
        let d = json!({"kind": "ConfigMap", "metadata": {"name": "a", "annotations": {keys::LAST_APPLIED: "old"}}});
        let out = with_last_applied(&d);
        let text = out["metadata"]["annotations"][keys::LAST_APPLIED].as_str().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(text).unwrap(),
            json!({"kind": "ConfigMap", "metadata": {"name": "a"}})
        );
        let s = PatchSchema::from_openapi(json!({"definitions": {
            "A": {"$ref": "#/definitions/B", "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "A"}]},
            "B": {"$ref": "#/definitions/A"}}}));
        let (node, meta) = s.kind("", "v1", "A").field("x");
        assert_eq!(meta, FieldMeta::default());
        assert!(node.schema.is_none());
    }
}
