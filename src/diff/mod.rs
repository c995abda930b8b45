//! Diff: pure functions, no I/O. Given a desired object's live state and the
//! state the server predicts after applying it (the dry-run result), remove
//! the noise, mask Secret values and produce a unified diff with kubectl's
//! headers (`diff -u -N LIVE/<name> MERGED/<name>`).
//!
//! Noise: `metadata.managedFields`, `resourceVersion`, `uid`,
//! `creationTimestamp`, `generation`, `selfLink`, `status`, the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation, and the
//! app's `ignoreDifferences` (JSON pointers; fields owned by named managers).
//! Secret `data` and `stringData` values are masked before any text is made
//! ([`mask`]), so no secret value can reach the output.

pub mod jq;
pub mod managed;
pub mod mask;
mod unified;

pub use unified::{colorize, unified_diff};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys;

/// Argo CD's `ignoreDifferences` entry (the fields this tool supports).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreRule {
    /// API group (`""` core, `*` any).
    #[serde(default)]
    pub group: String,
    /// Kind (`*` any).
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    /// RFC 6901 pointers removed from both sides.
    #[serde(default)]
    pub json_pointers: Vec<String>,
    /// Fields owned (in the live object) by these managers are removed from both sides.
    #[serde(default)]
    pub managed_fields_managers: Vec<String>,
    /// jq expressions whose selected paths are removed from both sides.
    #[serde(default)]
    pub jq_path_expressions: Vec<String>,
}

impl IgnoreRule {
    fn applies(&self, group: &str, kind: &str, namespace: &str, name: &str) -> bool {
        (self.group == "*" || self.group == group)
            && (self.kind == "*" || self.kind == kind)
            && self.name.as_deref().is_none_or(|n| n == name)
            && self.namespace.as_deref().is_none_or(|n| n == namespace)
    }
}

/// Settings of a diff.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    pub ignore: Vec<IgnoreRule>,
    /// How a sync writes each object (the Application's `Replace`,
    /// `ServerSideApply`, `Validate` options): the predicted state comes
    /// from a dry-run of that same write.
    pub write: crate::plan::WriteDefaults,
}

/// What applying the desired state does to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Add,
    Change,
    Delete,
    None,
}

/// The comparison of one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectDiff {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub action: Action,
    /// Unified diff (empty when `action` is `none`), Secret values masked.
    pub diff: String,
    /// The cleaned, masked live object as YAML (`""` when absent).
    #[serde(skip)]
    pub live_yaml: String,
    /// The cleaned, masked predicted object as YAML (`""` for deletions).
    #[serde(skip)]
    pub merged_yaml: String,
}

impl ObjectDiff {
    /// kubectl's file name for the object: `[group.]version.Kind.namespace.name`.
    pub fn file_name(&self) -> String {
        let group = if self.group.is_empty() { String::new() } else { format!("{}.", self.group) };
        format!("{group}{}.{}.{}.{}", self.version, self.kind, self.namespace, self.name)
    }
}

/// Remove the fields that differ on every read and say nothing about the
/// desired state.
pub fn remove_noise(v: &mut Value) {
    let Value::Object(obj) = v else { return };
    obj.remove("status");
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        for f in ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"] {
            meta.remove(f);
        }
        if let Some(Value::Object(ann)) = meta.get_mut("annotations") {
            ann.remove(keys::LAST_APPLIED);
            if ann.is_empty() {
                meta.remove("annotations");
            }
        }
    }
}

/// Remove the value at an RFC 6901 pointer, if present.
pub fn remove_pointer(v: &mut Value, pointer: &str) {
    let Some(parts) = pointer_parts(pointer) else { return };
    let (last, parents) = parts.split_last().expect("split yields at least one part");
    let mut cur = v;
    for p in parents {
        let next = match cur {
            Value::Object(m) => m.get_mut(p),
            Value::Array(a) => p.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        };
        let Some(next) = next else { return };
        cur = next;
    }
    match cur {
        Value::Object(m) => {
            m.remove(last);
        }
        Value::Array(a) => {
            if let Some(i) = last.parse::<usize>().ok().filter(|&i| i < a.len()) {
                a.remove(i);
            }
        }
        _ => {}
    }
}

/// Argo CD's `RespectIgnoreDifferences=true`: the fields `rules` ignore
/// take their live values in what is applied (a missing live field is left
/// out), and fields the rules' managers own in `live` are left out, so that
/// a sync neither conflicts over them nor resets them.
pub fn respect_ignored(desired: &mut Value, live: Option<&Value>, rules: &[IgnoreRule]) {
    let (group, _, kind, namespace, name) = identity(desired);
    for rule in rules.iter().filter(|r| r.applies(&group, &kind, &namespace, &name)) {
        for p in &rule.json_pointers {
            match live.and_then(|l| l.pointer(p)) {
                Some(v) => set_pointer(desired, p, v.clone()),
                None => remove_pointer(desired, p),
            }
        }
        for e in &rule.jq_path_expressions {
            match jq::keep_live(desired, live, e) {
                Ok(v) => *desired = v,
                Err(message) => crate::logging::warn_once(e, message),
            }
        }
        if let Some(l) = live {
            for fields in rule.managed_fields_managers.iter().flat_map(|m| managed_entries(l, m)) {
                managed::strip_owned(desired, &fields);
            }
        }
    }
}

/// The unescaped tokens of an RFC 6901 pointer (`None` unless it starts with `/`).
fn pointer_parts(pointer: &str) -> Option<Vec<String>> {
    let rest = pointer.strip_prefix('/')?;
    Some(rest.split('/').map(|p| p.replace("~1", "/").replace("~0", "~")).collect())
}

/// Set the value at an RFC 6901 `pointer`, creating missing objects on the
/// way (an array index must exist).
fn set_pointer(v: &mut Value, pointer: &str, value: Value) {
    let Some(parts) = pointer_parts(pointer) else { return };
    let (last, parents) = parts.split_last().expect("split yields at least one part");
    let mut cur = v;
    for p in parents {
        let next = match cur {
            Value::Object(m) => Some(m.entry(p.clone()).or_insert_with(|| Value::Object(Default::default()))),
            Value::Array(a) => p.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        };
        let Some(next) = next else { return };
        cur = next;
    }
    match cur {
        Value::Object(m) => {
            m.insert(last.clone(), value);
        }
        Value::Array(a) => {
            if let Some(slot) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                *slot = value;
            }
        }
        _ => {}
    }
}

fn identity(v: &Value) -> (String, String, String, String, String) {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
    let api = s("/apiVersion");
    let (group, version) = match api.rsplit_once('/') {
        Some((g, ver)) => (g.to_string(), ver.to_string()),
        None => (String::new(), api.clone()),
    };
    (group, version, s("/kind"), s("/metadata/namespace"), s("/metadata/name"))
}

/// Compare an object's live state with its predicted state. `live` is
/// `None` for a new object, `merged` is `None` for a deletion.
pub fn diff_object(live: Option<&Value>, merged: Option<&Value>, opts: &DiffOptions) -> ObjectDiff {
    let (group, version, kind, namespace, name) = identity(merged.or(live).expect("live or merged object"));
    let mut live = live.cloned();
    let mut merged = merged.cloned();
    for rule in opts.ignore.iter().filter(|r| r.applies(&group, &kind, &namespace, &name)) {
        for side in [live.as_mut(), merged.as_mut()].into_iter().flatten() {
            for p in &rule.json_pointers {
                remove_pointer(side, p);
            }
            for e in &rule.jq_path_expressions {
                match jq::delete_paths(side, e) {
                    Ok(v) => *side = v,
                    Err(message) => crate::logging::warn_once(e, message),
                }
            }
        }
        if let Some(l) = &live {
            let owned: Vec<serde_json::Map<String, Value>> =
                rule.managed_fields_managers.iter().flat_map(|m| managed_entries(l, m)).collect();
            for fields in &owned {
                for side in [live.as_mut(), merged.as_mut()].into_iter().flatten() {
                    managed::strip_owned(side, fields);
                }
            }
        }
    }
    for side in [live.as_mut(), merged.as_mut()].into_iter().flatten() {
        remove_noise(side);
    }
    mask::mask_pair(live.as_mut(), merged.as_mut());
    let to_yaml = |v: &Option<Value>| v.as_ref().map(crate::yaml::to_yaml_string).unwrap_or_default();
    let (live_yaml, merged_yaml) = (to_yaml(&live), to_yaml(&merged));
    let action = match (&live, &merged) {
        (None, _) => Action::Add,
        (Some(_), None) => Action::Delete,
        (Some(l), Some(m)) if l == m => Action::None,
        _ => Action::Change,
    };
    let mut d =
        ObjectDiff { group, version, kind, namespace, name, action, diff: String::new(), live_yaml, merged_yaml };
    if action != Action::None {
        d.diff = unified_diff(&d.file_name(), &d.live_yaml, &d.merged_yaml);
    }
    d
}

/// Every `fieldsV1` of `manager` in `live` (all operations).
fn managed_entries(live: &Value, manager: &str) -> Vec<serde_json::Map<String, Value>> {
    let Some(entries) = live.pointer("/metadata/managedFields").and_then(Value::as_array) else { return Vec::new() };
    entries
        .iter()
        .filter(|e| e.get("manager").and_then(Value::as_str) == Some(manager))
        .filter_map(|e| e.get("fieldsV1").and_then(Value::as_object).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep(replicas: i64, extra: Value) -> Value {
        let mut v = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "a", "uid": "1", "resourceVersion": "5", "generation": 2,
                "creationTimestamp": "2020-01-01T00:00:00Z",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                "managedFields": [{"manager": "hpa", "operation": "Update", "apiVersion": "apps/v1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
            "spec": {"replicas": replicas, "paused": false}, "status": {"replicas": 1}});
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            m.extend(e);
        }
        v
    }

    #[test]
    fn noise_is_not_a_difference() {
        let live = dep(2, json!({}));
        let mut merged = dep(2, json!({"status": {"replicas": 7}}));
        merged["metadata"]["resourceVersion"] = json!("6");
        let d = diff_object(Some(&live), Some(&merged), &DiffOptions::default());
        assert_eq!(d.action, Action::None);
        assert_eq!(d.diff, "");
        assert!(!d.live_yaml.contains("managedFields") && !d.live_yaml.contains("last-applied"));
    }

    #[test]
    fn change_shows_the_field_with_kubectl_headers() {
        let d = diff_object(Some(&dep(2, json!({}))), Some(&dep(3, json!({}))), &DiffOptions::default());
        assert_eq!(d.action, Action::Change);
        assert!(d.diff.starts_with(
            "diff -u -N LIVE/apps.v1.Deployment.a.web MERGED/apps.v1.Deployment.a.web\n--- LIVE/apps.v1.Deployment.a.web\n+++ MERGED/apps.v1.Deployment.a.web\n"
        ), "{}", d.diff);
        let changed: Vec<&str> = d
            .diff
            .lines()
            .filter(|l| (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---"))
            .collect();
        assert_eq!(changed, ["-  replicas: 2", "+  replicas: 3"]);
    }

    #[test]
    fn ignore_differences_pointers_and_managers() {
        let rule = |p: Vec<&str>, m: Vec<&str>| DiffOptions {
            ignore: vec![IgnoreRule {
                group: "apps".into(),
                kind: "Deployment".into(),
                json_pointers: p.into_iter().map(String::from).collect(),
                managed_fields_managers: m.into_iter().map(String::from).collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let (live, merged) = (dep(2, json!({})), dep(3, json!({})));
        assert_eq!(diff_object(Some(&live), Some(&merged), &rule(vec!["/spec/replicas"], vec![])).action, Action::None);
        assert_eq!(diff_object(Some(&live), Some(&merged), &rule(vec![], vec!["hpa"])).action, Action::None);
        assert_eq!(diff_object(Some(&live), Some(&merged), &rule(vec![], vec!["other"])).action, Action::Change);
        let rules: Vec<IgnoreRule> = serde_json::from_value(
            json!([{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"], "managedFieldsManagers": ["x"]}]),
        )
        .unwrap();
        assert_eq!(rules[0].json_pointers, ["/spec/replicas"]);
    }

    #[test]
    fn additions_and_pointer_escapes() {
        let d = diff_object(None, Some(&dep(1, json!({}))), &DiffOptions::default());
        assert_eq!(d.action, Action::Add);
        assert!(d.diff.lines().skip(3).all(|l| l.starts_with('+') || l.starts_with("@@")), "{}", d.diff);
        let mut v = json!({"metadata": {"annotations": {"a/b": "1", "c~d": "2"}}, "l": [1, 2]});
        remove_pointer(&mut v, "/metadata/annotations/a~1b");
        remove_pointer(&mut v, "/metadata/annotations/c~0d");
        remove_pointer(&mut v, "/l/0");
        assert_eq!(v, json!({"metadata": {"annotations": {}}, "l": [2]}));
    }

    #[test]
    fn secret_values_never_appear() {
        let s = |v: &str| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}, "data": {"pw": v, "same": "c2FtZQ=="}});
        let d = diff_object(Some(&s("b2xk")), Some(&s("bmV3")), &DiffOptions::default());
        assert_eq!(d.action, Action::Change);
        assert!(!d.diff.contains("b2xk") && !d.diff.contains("bmV3") && !d.diff.contains("c2FtZQ=="), "{}", d.diff);
        assert!(d.diff.contains("-  pw: ++++++++\n+  pw: +++++++++\n"), "{}", d.diff);
    }
}
