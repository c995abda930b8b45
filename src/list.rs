//! `list`: the apps this tool manages in a cluster, found through their
//! ApplySet parents (Secrets and ConfigMaps labelled
//! `applyset.kubernetes.io/id` whose tooling is `kubectl-gitops/...`), one
//! [`AppRow`] each from what the parent records: the last sync's source
//! (repository or local path, path, target revision), the deployed
//! revision, when the last sync ran and how it ended.
//!
//! Costs: one label-selected LIST per parent kind ([`find_apps`]); then one
//! label-selected LIST per member kind and namespace, for every app in one
//! batch ([`member_summaries`]), which gives each app's live health and
//! member count without rendering anything. Sync status needs a render:
//! without one the row shows what the last sync left (`Synced` after a
//! successful one); the CLI's `--refresh` renders and compares.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use crate::applyset::{
    ADDITIONAL_NAMESPACES_ANNOTATION, CONTAINS_GROUP_KINDS_ANNOTATION, ID_LABEL, Inventory, PART_OF_LABEL,
    TOOLING_ANNOTATION,
};
use crate::cluster::{Cluster, ListRequest};
use crate::error::Result;
use crate::health::{assess_for_wait, roll_up};
use crate::history::HistoryEntry;
use crate::status::{OUT_OF_SYNC, SYNCED, short_revision, write_table};
use crate::sync::parent::{ParentKind, parent_resource, stored_history};

/// Sync status or health not known without a comparison.
pub const UNKNOWN: &str = "Unknown";

/// An app as its ApplySet parent records it.
#[derive(Debug, Clone)]
pub struct AppRecord {
    pub name: String,
    pub namespace: String,
    pub parent_kind: ParentKind,
    /// The ApplySet id (the members' `part-of` label).
    pub id: String,
    /// Member kinds and namespaces, as the parent records them.
    pub inventory: Inventory,
    /// Oldest first.
    pub history: Vec<HistoryEntry>,
}

impl AppRecord {
    /// The newest history entry: the source the app was last synced from.
    pub fn last(&self) -> Option<&HistoryEntry> {
        self.history.last()
    }

    /// The revision of the last successful sync.
    pub fn deployed_revision(&self) -> Option<&str> {
        self.history.iter().rev().find(|e| e.result == "Succeeded").map(|e| e.source.revision.as_str())
    }
}

/// Find the apps in `namespace` (`None`: every namespace): one LIST per
/// parent kind, selected by the ApplySet id label; parents of other tools,
/// and objects whose id is not the one their name and namespace give, are
/// left out. Sorted by namespace, then name.
pub fn find_apps(cluster: &Cluster, namespace: Option<&str>) -> Result<Vec<AppRecord>> {
    let kinds = [ParentKind::Secret, ParentKind::ConfigMap];
    let requests: Vec<ListRequest> = kinds
        .iter()
        .map(|k| ListRequest {
            resource: parent_resource(&k.reference("", "")),
            namespace: namespace.unwrap_or("").to_string(),
            label_selector: Some(ID_LABEL.to_string()),
        })
        .collect();
    let mut apps = Vec::new();
    for (kind, items) in kinds.iter().zip(cluster.list(&requests)?) {
        for live in items {
            match record_of(*kind, &live) {
                Some(Ok(app)) => apps.push(app),
                Some(Err(e)) => tracing::warn!("{e}"),
                None => {}
            }
        }
    }
    apps.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(apps)
}

/// The app a live parent records; `None` when it is not one of ours.
fn record_of(kind: ParentKind, live: &Value) -> Option<Result<AppRecord>> {
    let meta = |p: &str| live.pointer(p).and_then(Value::as_str);
    let annotation = |k: &str| live.pointer("/metadata/annotations").and_then(|a| a.get(k)).and_then(Value::as_str);
    if !annotation(TOOLING_ANNOTATION).is_some_and(|t| t.starts_with("kubectl-gitops/")) {
        return None;
    }
    let (namespace, parent_name) = (meta("/metadata/namespace")?, meta("/metadata/name")?);
    let name = parent_name.strip_prefix("applyset-")?;
    let reference = kind.reference(namespace, name);
    let id = live.pointer("/metadata/labels").and_then(|l| l.get(ID_LABEL)).and_then(Value::as_str)?;
    if id != reference.id() {
        return None;
    }
    let history = match stored_history(live) {
        Ok(h) => h,
        Err(e) => return Some(Err(e)),
    };
    Some(Ok(AppRecord {
        name: name.to_string(),
        namespace: namespace.to_string(),
        parent_kind: kind,
        id: id.to_string(),
        inventory: Inventory::from_annotations(
            annotation(CONTAINS_GROUP_KINDS_ANNOTATION),
            annotation(ADDITIONAL_NAMESPACES_ANNOTATION),
            namespace,
        ),
        history,
    }))
}

/// What the live members of an app say: how many, of which kinds, and
/// their health rolled up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberSummary {
    pub count: usize,
    pub kinds: BTreeSet<String>,
    pub health: String,
}

/// The live members of every app, in one batch of label-selected LISTs
/// (one per app, recorded kind and namespace). Results follow `apps`.
pub fn member_summaries(cluster: &Cluster, apps: &[AppRecord]) -> Result<Vec<MemberSummary>> {
    let all_kinds: BTreeSet<String> = apps.iter().flat_map(|a| a.inventory.group_kinds.iter().cloned()).collect();
    let resources = cluster.discover_group_kinds(&all_kinds)?;
    let mut requests = Vec::new();
    let mut owner = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        let selector = format!("{PART_OF_LABEL}={}", app.id);
        for gk in &app.inventory.group_kinds {
            let Some(r) = resources.get(gk) else { continue };
            let namespaces: Vec<String> =
                if r.namespaced { app.inventory.namespaces.iter().cloned().collect() } else { vec![String::new()] };
            for ns in namespaces {
                requests.push(ListRequest {
                    resource: r.clone(),
                    namespace: ns,
                    label_selector: Some(selector.clone()),
                });
                owner.push(i);
            }
        }
    }
    let mut live: Vec<Vec<Value>> = vec![Vec::new(); apps.len()];
    for (i, items) in owner.into_iter().zip(cluster.list(&requests)?) {
        live[i].extend(items);
    }
    Ok(apps
        .iter()
        .zip(live)
        .map(|(app, items)| {
            // Never trust the selector alone: the label must say exactly the app's id.
            let members: Vec<&Value> = items
                .iter()
                .filter(|v| {
                    v.pointer("/metadata/labels").and_then(|l| l.get(PART_OF_LABEL)).and_then(Value::as_str)
                        == Some(app.id.as_str())
                })
                .collect();
            let healths: Vec<_> = members.iter().map(|v| assess_for_wait(v)).collect();
            let kinds = members
                .iter()
                .map(|v| {
                    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("");
                    let group = s("/apiVersion").rsplit_once('/').map_or("", |(g, _)| g);
                    crate::model::group_kind(group, s("/kind"))
                })
                .collect();
            MemberSummary {
                count: members.len(),
                kinds,
                health: if members.is_empty() {
                    crate::health::HealthStatus::Missing.as_str().to_string()
                } else {
                    roll_up(healths.iter().map(Option::as_ref)).as_str().to_string()
                },
            }
        })
        .collect())
}

/// One app in `list`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppRow {
    pub name: String,
    pub namespace: String,
    /// `secret` or `configmap`.
    pub parent: String,
    /// The repository URL (credentials removed) or the local directory of the last sync.
    pub source: String,
    /// The Application file, when the last sync rendered one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// The path inside the repository.
    pub path: String,
    /// The revision asked for (a branch, tag or commit); empty for a local directory.
    pub target_revision: String,
    /// The revision of the last successful sync.
    pub deployed_revision: Option<String>,
    /// `Synced`/`OutOfSync`: compared now with `--refresh`; otherwise what
    /// the last sync left (`Synced` when it succeeded, `OutOfSync` when it
    /// failed, `Unknown` before any).
    pub sync: String,
    /// Whether `sync` comes from a comparison made now.
    pub refreshed: bool,
    /// The live members' health rolled up.
    pub health: String,
    /// The revision the source resolves to now (`--refresh` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_revision: Option<String>,
    pub tool: String,
    pub last_sync: Option<String>,
    pub last_result: Option<String>,
    /// Live members.
    pub members: usize,
    /// Live members' kinds (`Kind` or `Kind.group`).
    pub kinds: Vec<String>,
    /// Why `--refresh` could not compare the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The row of an app, as recorded (no comparison).
pub fn row(app: &AppRecord, members: &MemberSummary) -> AppRow {
    let last = app.last();
    let s = last.map(|e| e.source.clone()).unwrap_or_default();
    let sync = match last.map(|e| e.result.as_str()) {
        None => UNKNOWN,
        Some("Succeeded") => SYNCED,
        Some(_) => OUT_OF_SYNC,
    };
    AppRow {
        name: app.name.clone(),
        namespace: app.namespace.clone(),
        parent: if app.parent_kind == ParentKind::ConfigMap { "configmap" } else { "secret" }.into(),
        source: s.repo_url.clone(),
        application: s.render.app_file.clone(),
        path: s.path.clone(),
        target_revision: s.target_revision.clone(),
        deployed_revision: app.deployed_revision().map(String::from),
        sync: sync.into(),
        refreshed: false,
        health: members.health.clone(),
        source_revision: None,
        tool: s.tool.clone(),
        last_sync: last.map(|e| e.deployed_at.clone()),
        last_result: last.map(|e| e.result.clone()),
        members: members.count,
        kinds: members.kinds.iter().cloned().collect(),
        message: None,
    }
}

/// The `list` table (`wide`: member count and kinds too).
pub fn write_rows<W: Write>(out: &mut W, rows: &[AppRow], wide: bool) -> io::Result<()> {
    let mut header = vec!["NAME", "NAMESPACE", "SOURCE", "PATH", "TARGET", "DEPLOYED", "SYNC", "HEALTH", "LAST SYNC"];
    if wide {
        header.extend(["OBJECTS", "KINDS", "MESSAGE"]);
    }
    let mut table = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    let dash = |s: &str| if s.is_empty() { "-".to_string() } else { s.to_string() };
    for r in rows {
        let last = match (&r.last_sync, &r.last_result) {
            (Some(t), Some(res)) => format!("{t} {}", res.split(':').next().unwrap_or(res)),
            _ => "-".into(),
        };
        let source = match &r.application {
            Some(file) => format!("{} ({file})", r.source),
            None => r.source.clone(),
        };
        let mut line = vec![
            r.name.clone(),
            r.namespace.clone(),
            dash(&source),
            dash(&r.path),
            dash(&r.target_revision),
            r.deployed_revision.as_deref().map_or("-".into(), short_revision),
            r.sync.clone(),
            r.health.clone(),
            last,
        ];
        if wide {
            line.push(r.members.to_string());
            line.push(dash(&r.kinds.join(",")));
            line.push(r.message.clone().unwrap_or_default());
        }
        table.push(line);
    }
    write_table(out, &table)
}

/// How many apps per namespace (for the "no apps" message).
pub fn namespaces(rows: &[AppRow]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r.namespace.as_str()).or_default() += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::HistorySource;
    use serde_json::json;

    fn parent(kind: ParentKind, ns: &str, app: &str, tooling: &str, history: &[HistoryEntry]) -> Value {
        let r = kind.reference(ns, app);
        let text = String::from_utf8(crate::history::encode(history)).unwrap();
        let data = if kind == ParentKind::ConfigMap {
            text
        } else {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(text)
        };
        json!({
            "kind": r.kind, "apiVersion": "v1",
            "metadata": {"name": r.name, "namespace": ns, "labels": {ID_LABEL: r.id()},
                "annotations": {TOOLING_ANNOTATION: tooling, CONTAINS_GROUP_KINDS_ANNOTATION: "ConfigMap,Deployment.apps"}},
            "data": {"history": data}
        })
    }

    fn entry(id: u64, result: &str, rev: &str) -> HistoryEntry {
        HistoryEntry {
            id,
            deployed_at: format!("2026-12-0{id}T10:00:00Z"),
            user: "admin".into(),
            source: HistorySource {
                repo_url: "https://example.com/r.git".into(),
                path: "apps/web".into(),
                target_revision: "main".into(),
                revision: rev.into(),
                tool: "Directory".into(),
                render: Default::default(),
            },
            result: result.into(),
        }
    }

    #[test]
    fn only_our_parents_with_their_own_id_are_apps() {
        let h = [entry(1, "Succeeded", &"a".repeat(40)), entry(2, "Failed: boom", &"b".repeat(40))];
        let ours = parent(ParentKind::Secret, "team-a", "web", "kubectl-gitops/v0.1.0", &h);
        let app = record_of(ParentKind::Secret, &ours).unwrap().unwrap();
        assert_eq!((app.name.as_str(), app.namespace.as_str()), ("web", "team-a"));
        assert_eq!(app.deployed_revision(), Some("a".repeat(40).as_str()));
        assert!(app.inventory.group_kinds.contains("Deployment.apps"));
        let r =
            row(&app, &MemberSummary { count: 2, kinds: ["ConfigMap".to_string()].into(), health: "Healthy".into() });
        assert_eq!((r.sync.as_str(), r.path.as_str(), r.target_revision.as_str()), (OUT_OF_SYNC, "apps/web", "main"));
        let mut out = Vec::new();
        write_rows(&mut out, &[r], true).unwrap();
        let text = String::from_utf8(out).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert!(line.contains("aaaaaaa    OutOfSync   Healthy   2026-12-02T10:00:00Z Failed   2 "), "{text}");

        let cm = parent(ParentKind::ConfigMap, "team-b", "api", "kubectl-gitops/v0.1.0", &h[..1]);
        assert_eq!(row(&record_of(ParentKind::ConfigMap, &cm).unwrap().unwrap(), &Default::default()).sync, SYNCED);
        let kubectl = parent(ParentKind::Secret, "team-a", "web", "kubectl/v1.30", &h);
        assert!(record_of(ParentKind::Secret, &kubectl).is_none());
        let mut moved = ours.clone();
        moved["metadata"]["namespace"] = json!("elsewhere");
        assert!(record_of(ParentKind::Secret, &moved).is_none(), "an id that is not its own");
    }
}
