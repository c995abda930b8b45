//! The ApplySet parent (a Secret, or a ConfigMap with `--applyset-parent configmap`): read it, refuse another tool's set, and
//! write its inventory (group-kinds, namespaces) only when it changes.
//! Written by server-side apply with our field manager, like members.

use serde_json::{Value, json};

use crate::applyset::{
    ADDITIONAL_NAMESPACES_ANNOTATION, CONTAINS_GROUP_KINDS_ANNOTATION, ID_LABEL, Inventory, ParentRef,
    TOOLING_ANNOTATION, tooling,
};
use crate::cluster::{ApplyOptions, Cluster, ResourceInfo};
use crate::error::{Error, Result};
use crate::history::{self, HistoryEntry};

/// Which kind of object holds an app's ApplySet (`--applyset-parent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParentKind {
    /// A Secret (kubectl's default parent kind).
    #[default]
    Secret,
    /// A ConfigMap.
    ConfigMap,
}

impl ParentKind {
    /// The parent of app `app` in `namespace`: `<kind>/applyset-<app>`.
    pub fn reference(self, namespace: &str, app: &str) -> ParentRef {
        let mut r = ParentRef::secret(namespace, app);
        if self == ParentKind::ConfigMap {
            r.kind = "ConfigMap".into();
        }
        r
    }
}

/// The resource serving a parent (core Secrets or ConfigMaps).
pub fn parent_resource(r: &ParentRef) -> ResourceInfo {
    let plural = if r.kind == "ConfigMap" { "configmaps" } else { "secrets" };
    ResourceInfo {
        group: String::new(),
        version: "v1".into(),
        kind: r.kind.clone(),
        plural: plural.into(),
        namespaced: true,
    }
}

/// The parent as found in the cluster.
#[derive(Debug, Clone)]
pub struct Parent {
    pub reference: ParentRef,
    pub id: String,
    /// The live Secret, `None` before the first sync.
    pub live: Option<Value>,
    /// What the live parent records (empty when it does not exist).
    pub recorded: Inventory,
    /// The sync history it keeps (data key `history`), oldest first.
    pub history: Vec<HistoryEntry>,
    /// `history` has an entry the live parent does not have yet.
    pub history_pending: bool,
}

/// The history stored in a live parent: base64 in a Secret's `data`, plain
/// in a ConfigMap's (an absent key is an empty history).
pub fn stored_history(live: &Value) -> Result<Vec<HistoryEntry>> {
    let place = || {
        let m = |k: &str| live.pointer(&format!("/metadata/{k}")).and_then(Value::as_str).unwrap_or("").to_string();
        format!("{} {}/{}", live.get("kind").and_then(Value::as_str).unwrap_or("object"), m("namespace"), m("name"))
    };
    let Some(raw) = live.pointer("/data").and_then(|d| d.get(history::DATA_KEY)).and_then(Value::as_str) else {
        return Ok(Vec::new());
    };
    let bytes = if live.get("kind").and_then(Value::as_str) == Some("ConfigMap") {
        raw.as_bytes().to_vec()
    } else {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|e| Error::Usage(format!("{}: data.{}: not base64: {e}", place(), history::DATA_KEY)))?
    };
    history::decode(Some(&bytes)).map_err(|e| Error::Usage(format!("{}: data.{}: {e}", place(), history::DATA_KEY)))
}

fn annotation<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str)
}

/// Read the parent and check that it is ours (or `adopt`).
pub fn read(cluster: &Cluster, reference: ParentRef, adopt: bool) -> Result<Parent> {
    let id = reference.id();
    let live = cluster.get_object(&parent_resource(&reference), &reference.namespace, &reference.name)?;
    let mut recorded = Inventory::default();
    if let Some(l) = &live {
        let place = format!("{} {}/{}", reference.kind, reference.namespace, reference.name);
        let tool = annotation(l, TOOLING_ANNOTATION);
        let label = l.pointer("/metadata/labels").and_then(|m| m.get(ID_LABEL)).and_then(Value::as_str);
        let ours = tool.is_some_and(|t| t.starts_with("kubectl-gitops/"));
        if !ours && !adopt {
            let why = match tool {
                Some(t) => format!("it is an ApplySet managed by tooling {t:?}"),
                None if label.is_some() => "it is an ApplySet without a tooling annotation".to_string(),
                None => "it exists and is not an ApplySet parent".to_string(),
            };
            return Err(Error::Refused(format!(
                "{place} cannot be this app's ApplySet parent: {why}; nothing was changed \
                 (pass --adopt to take the set over)"
            )));
        }
        if label.is_some_and(|l| l != id) && !adopt {
            return Err(Error::Refused(format!(
                "{place} has ApplySet id {} but this app's id is {id}; pass --adopt to take it over",
                label.unwrap_or_default()
            )));
        }
        recorded = Inventory::from_annotations(
            annotation(l, CONTAINS_GROUP_KINDS_ANNOTATION),
            annotation(l, ADDITIONAL_NAMESPACES_ANNOTATION),
            &reference.namespace,
        );
    }
    let history = live.as_ref().map(stored_history).transpose()?.unwrap_or_default();
    Ok(Parent { reference, id, live, recorded, history, history_pending: false })
}

/// The parent manifest recording `inv`.
/// Always carries the history (the field manager owns `data.history`:
/// leaving it out of an apply would delete it).
pub fn manifest(parent: &Parent, inv: &Inventory) -> Value {
    let r = &parent.reference;
    let mut m = json!({
        "apiVersion": "v1",
        "kind": r.kind,
        "metadata": {
            "name": r.name,
            "namespace": r.namespace,
            "labels": {ID_LABEL: parent.id},
            "annotations": {
                TOOLING_ANNOTATION: tooling(),
                CONTAINS_GROUP_KINDS_ANNOTATION: inv.contains_annotation(),
                ADDITIONAL_NAMESPACES_ANNOTATION: inv.additional_annotation(&r.namespace),
            }
        }
    });
    if !parent.history.is_empty() {
        let bytes = history::encode(&parent.history);
        let text = if r.kind == "ConfigMap" {
            String::from_utf8(bytes).expect("JSON is UTF-8")
        } else {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(bytes)
        };
        m["data"] = json!({ history::DATA_KEY: text });
    }
    m
}

/// True when the live parent already says exactly what `inv` would.
pub fn up_to_date(parent: &Parent, inv: &Inventory) -> bool {
    if parent.history_pending {
        return false;
    }
    let Some(live) = &parent.live else { return false };
    let want = manifest(parent, inv);
    let labels_ok = live.pointer("/metadata/labels").and_then(|m| m.get(ID_LABEL)) == Some(&json!(parent.id));
    labels_ok
        && [TOOLING_ANNOTATION, CONTAINS_GROUP_KINDS_ANNOTATION, ADDITIONAL_NAMESPACES_ANNOTATION]
            .iter()
            .all(|k| annotation(live, k) == annotation(&want, k))
}

/// Record `inv` on the parent (create or update); no request when it is up to date.
/// Returns whether a write happened.
pub fn record(cluster: &Cluster, parent: &mut Parent, inv: &Inventory) -> Result<bool> {
    if up_to_date(parent, inv) {
        parent.recorded = inv.clone();
        return Ok(false);
    }
    let body = manifest(parent, inv);
    let res = parent_resource(&parent.reference);
    let out = cluster.apply(&[(&res, &body)], ApplyOptions { dry_run: false, force: true }).pop().expect("one result");
    parent.live = Some(out?);
    parent.recorded = inv.clone();
    parent.history_pending = false;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_carries_id_tooling_and_inventory() {
        let reference = ParentRef::secret("home", "web");
        let parent = Parent {
            id: reference.id(),
            reference,
            live: None,
            recorded: Inventory::default(),
            history: Vec::new(),
            history_pending: false,
        };
        let inv = Inventory::from_annotations(Some("Deployment.apps,ConfigMap"), Some("other"), "home");
        let m = manifest(&parent, &inv);
        assert_eq!(m["metadata"]["name"], "applyset-web");
        assert_eq!(m["metadata"]["annotations"][CONTAINS_GROUP_KINDS_ANNOTATION], "ConfigMap,Deployment.apps");
        assert_eq!(m["metadata"]["annotations"][ADDITIONAL_NAMESPACES_ANNOTATION], "other");
        assert!(m["metadata"]["annotations"][TOOLING_ANNOTATION].as_str().unwrap().starts_with("kubectl-gitops/v"));
        assert!(!up_to_date(&parent, &inv));
        let live = Parent { live: Some(m.clone()), ..parent.clone() };
        assert!(up_to_date(&live, &inv));
        assert!(!up_to_date(&live, &Inventory::default()));
        assert!(m.get("data").is_none());
    }

    #[test]
    fn history_round_trips_through_secret_and_configmap_parents() {
        let entry = HistoryEntry {
            id: 1,
            deployed_at: "2026-11-25T17:00:00Z".into(),
            user: "admin".into(),
            source: Default::default(),
            result: "Succeeded".into(),
        };
        for kind in [ParentKind::Secret, ParentKind::ConfigMap] {
            let reference = kind.reference("home", "web");
            let parent = Parent {
                id: reference.id(),
                reference,
                live: None,
                recorded: Inventory::default(),
                history: vec![entry.clone()],
                history_pending: true,
            };
            let m = manifest(&parent, &Inventory::default());
            let text = m["data"][history::DATA_KEY].as_str().unwrap();
            assert_eq!(text.starts_with('['), kind == ParentKind::ConfigMap, "{text}");
            assert_eq!(stored_history(&m).unwrap(), vec![entry.clone()]);
            assert!(!up_to_date(&Parent { live: Some(m.clone()), ..parent.clone() }, &Inventory::default()));
        }
        let bad = json!({"kind": "Secret", "metadata": {"name": "s", "namespace": "n"}, "data": {"history": "%%"}});
        assert!(stored_history(&bad).unwrap_err().to_string().contains("Secret n/s: data.history"));
    }
}
