//! Reading `metadata.managedFields` (`FieldsV1`): which fields a manager
//! owns. Two uses: proving that an apply would change nothing (so the
//! dry-run can be skipped), and `ignoreDifferences.managedFieldsManagers`.
//!
//! `FieldsV1` is a tree: `f:<field>` for map fields, `k:<json>` for list
//! elements identified by key fields, `v:<json>` for set elements, `.` for
//! "this element itself". A node without children is a leaf (a scalar or an
//! atomic value owned as a whole).

use std::collections::HashSet;

use serde_json::{Map, Value};

/// The `FieldsV1` of `manager`'s `Apply` entry in `live`, with that entry's apiVersion.
pub fn apply_fields<'a>(live: &'a Value, manager: &str) -> Option<(&'a str, &'a Map<String, Value>)> {
    let entries = live.pointer("/metadata/managedFields")?.as_array()?;
    let mut found = entries.iter().filter(|e| {
        e.get("manager").and_then(Value::as_str) == Some(manager)
            && e.get("operation").and_then(Value::as_str) == Some("Apply")
            && e.get("subresource").and_then(Value::as_str).is_none_or(str::is_empty)
    });
    let entry = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some((entry.get("apiVersion")?.as_str()?, entry.get("fieldsV1")?.as_object()?))
}

/// True when server-side applying `desired` as `manager` provably leaves
/// `live` unchanged: the manager's `Apply` entry (same apiVersion) owns
/// exactly the fields `desired` sets, and each has the same value live. Any
/// doubt (other apiVersion, a field we no longer set, list order, a value
/// the server would canonicalize) answers false, and the caller asks the
/// server with a dry-run.
pub fn provably_unchanged(desired: &Value, live: &Value, manager: &str) -> bool {
    let (Value::Object(d), Value::Object(l)) = (desired, live) else { return false };
    // Identity fields are not tracked in managedFields.
    let mut d = d.clone();
    d.remove("apiVersion");
    d.remove("kind");
    if let Some(Value::Object(meta)) = d.get_mut("metadata") {
        meta.remove("name");
        meta.remove("namespace");
        if meta.is_empty() {
            d.remove("metadata");
        }
    }
    let Some((api_version, fields)) = apply_fields(live, manager) else {
        // Nothing but identity, and we own nothing: the server keeps no
        // entry for an empty field set, and the apply changes nothing.
        return d.is_empty() && !has_entry(live, manager);
    };
    if desired.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return false;
    }
    match_map(&d, l, fields)
}

fn has_entry(live: &Value, manager: &str) -> bool {
    live.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|es| es.iter().any(|e| e.get("manager").and_then(Value::as_str) == Some(manager)))
}

fn children(node: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    node.iter().filter(|(k, _)| k.as_str() != ".")
}

fn is_leaf(node: &Map<String, Value>) -> bool {
    children(node).next().is_none()
}

fn match_value(d: &Value, l: &Value, node: &Map<String, Value>) -> bool {
    if is_leaf(node) {
        return d == l;
    }
    match (d, l) {
        (Value::Object(dm), Value::Object(lm)) => match_map(dm, lm, node),
        (Value::Array(da), Value::Array(la)) => match_list(da, la, node),
        _ => false,
    }
}

fn match_map(d: &Map<String, Value>, l: &Map<String, Value>, node: &Map<String, Value>) -> bool {
    let mut owned = 0;
    for (k, child) in children(node) {
        let (Some(name), Some(child)) = (k.strip_prefix("f:"), child.as_object()) else { return false };
        let (Some(dv), Some(lv)) = (d.get(name), l.get(name)) else { return false };
        if !match_value(dv, lv, child) {
            return false;
        }
        owned += 1;
    }
    owned == d.len()
}

/// Does list element `v` match the element key `k:{...}` / `v:...`?
fn element_matches(key: &str, v: &Value) -> Option<bool> {
    if let Some(json) = key.strip_prefix("k:") {
        let Value::Object(fields) = serde_json::from_str::<Value>(json).ok()? else { return None };
        Some(fields.iter().all(|(f, want)| v.get(f) == Some(want)))
    } else if let Some(json) = key.strip_prefix("v:") {
        Some(serde_json::from_str::<Value>(json).ok()? == *v)
    } else {
        None
    }
}

fn match_list(d: &[Value], l: &[Value], node: &Map<String, Value>) -> bool {
    let keyed: Vec<(&String, &Value)> = children(node).collect();
    if keyed.len() != d.len() || l.len() != d.len() {
        return false;
    }
    let mut used = HashSet::new();
    for (dv, lv) in d.iter().zip(l) {
        let Some((key, child)) = keyed.iter().find(|(k, _)| !used.contains(k) && element_matches(k, dv) == Some(true))
        else {
            return false;
        };
        if element_matches(key, lv) != Some(true) {
            return false;
        }
        used.insert(*key);
        let Some(child) = child.as_object() else { return false };
        if !match_value(dv, lv, child) {
            return false;
        }
    }
    true
}

/// Remove from `v` every field `fields` owns (leaves and owned elements).
pub fn strip_owned(v: &mut Value, fields: &Map<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, child) in children(fields) {
                let (Some(name), Some(child)) = (k.strip_prefix("f:"), child.as_object()) else { continue };
                if is_leaf(child) {
                    m.remove(name);
                } else if let Some(inner) = m.get_mut(name) {
                    strip_owned(inner, child);
                }
            }
        }
        Value::Array(items) => {
            for (k, child) in children(fields) {
                let Some(child) = child.as_object() else { continue };
                let Some(i) = items.iter().position(|e| element_matches(k, e) == Some(true)) else { continue };
                if is_leaf(child) {
                    items.remove(i);
                } else {
                    strip_owned(&mut items[i], child);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(spec: Value, fields: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "a", "uid": "u", "labels": {"app": "web", "other": "x"},
                 "managedFields": [
                   {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1", "fieldsV1": {"f:status": {}}},
                   {"manager": "kubectl-gitops", "operation": "Apply", "apiVersion": "apps/v1", "fieldsV1": fields}]},
               "spec": spec})
    }

    fn desired(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "a", "labels": {"app": "web"}}, "spec": spec})
    }

    fn fields() -> Value {
        json!({"f:metadata": {"f:labels": {"f:app": {}}},
               "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                   "k:{\"name\":\"web\"}": {".": {}, "f:name": {}, "f:image": {},
                       "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:protocol": {}}}}}}}}})
    }

    fn spec(image: &str) -> Value {
        json!({"replicas": 2, "template": {"spec": {"containers": [
            {"name": "web", "image": image, "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}})
    }

    fn live_spec(image: &str) -> Value {
        json!({"replicas": 2, "revisionHistoryLimit": 10, "template": {"spec": {"containers": [
            {"name": "web", "image": image, "imagePullPolicy": "Always", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}})
    }

    #[test]
    fn same_fields_same_values_is_unchanged() {
        assert!(provably_unchanged(&desired(spec("nginx:1")), &live(live_spec("nginx:1"), fields()), "kubectl-gitops"));
    }

    #[test]
    fn changed_value_added_or_dropped_field_is_doubt() {
        let l = live(live_spec("nginx:1"), fields());
        assert!(!provably_unchanged(&desired(spec("nginx:2")), &l, "kubectl-gitops"));
        let mut extra = spec("nginx:1");
        extra["paused"] = json!(true);
        assert!(!provably_unchanged(&desired(extra), &l, "kubectl-gitops"));
        let mut fewer = spec("nginx:1");
        fewer.as_object_mut().unwrap().remove("replicas");
        assert!(!provably_unchanged(&desired(fewer), &l, "kubectl-gitops"));
        // Another manager, or no Apply entry: doubt.
        assert!(!provably_unchanged(&desired(spec("nginx:1")), &l, "someone-else"));
        let mut other_version = desired(spec("nginx:1"));
        other_version["apiVersion"] = json!("apps/v1beta2");
        assert!(!provably_unchanged(&other_version, &l, "kubectl-gitops"));
    }

    #[test]
    fn identity_only_object_without_entry_is_unchanged() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}});
        let live = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "managedFields": []}, "spec": {"finalizers": ["kubernetes"]}});
        assert!(provably_unchanged(&ns, &live, "kubectl-gitops"));
        let mut labelled = ns.clone();
        labelled["metadata"]["labels"] = json!({"a": "b"});
        assert!(!provably_unchanged(&labelled, &live, "kubectl-gitops"));
    }

    #[test]
    fn list_elements_must_match_in_order() {
        let mut d = spec("nginx:1");
        d["template"]["spec"]["containers"][0]["name"] = json!("other");
        assert!(!provably_unchanged(&desired(d), &live(live_spec("nginx:1"), fields()), "kubectl-gitops"));
    }

    #[test]
    fn strip_removes_owned_leaves_and_elements() {
        let mut v = json!({"spec": {"replicas": 3, "keep": 1, "list": [{"name": "a", "x": 1}, {"name": "b", "x": 2}]}});
        let f = json!({"f:spec": {"f:replicas": {}, "f:list": {"k:{\"name\":\"a\"}": {".": {}, "f:x": {}}, "k:{\"name\":\"b\"}": {}}}});
        strip_owned(&mut v, f.as_object().unwrap());
        assert_eq!(v, json!({"spec": {"keep": 1, "list": [{"name": "a"}]}}));
    }
}
