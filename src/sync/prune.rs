//! Prune candidates and the safety rails around them.
//!
//! Candidates: for each group-kind the parent records (old ∪ new), the
//! objects labelled `applyset.kubernetes.io/part-of=<id>` in each recorded
//! namespace (cluster-scoped kinds once), listed concurrently, minus this
//! run's objects. The label is checked again on every listed object, so
//! nothing without it is ever a candidate, and a hook never is (none is
//! labelled now; earlier versions labelled named hooks). Objects marked `Prune=false`, the
//! parent's own namespace and Namespaces still holding objects outside the
//! set are kept. (`Delete=false` protects an object when its app is deleted,
//! not from a prune, as in Argo CD.)
//!
//! Deleting a CustomResourceDefinition makes the API server delete every
//! object of its kind, in every namespace, whoever manages them:
//! [`PrunePlan::crd_objects`] counts them (one LIST per CRD with a small
//! `limit`; `remainingItemCount` gives the rest) so that the preview, the
//! mass-prune guard and the `--prune-crds-with-objects` rail see them.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::{SyncOptions, SyncUi};
use crate::applyset::{Inventory, PART_OF_LABEL};
use crate::cluster::{Cluster, DeleteRequest, ListRequest, ResourceInfo};
use crate::error::{Error, Result};
use crate::model::{Object, ObjectKey, Origin};
use crate::plan::object_options;

/// One live object.
#[derive(Debug, Clone)]
pub struct LiveItem {
    pub resource: ResourceInfo,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub live: Value,
}

impl LiveItem {
    fn new(resource: &ResourceInfo, live: Value) -> LiveItem {
        let s = |p: &str| live.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
        LiveItem {
            resource: resource.clone(),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name"),
            uid: s("/metadata/uid"),
            live,
        }
    }

    pub fn key(&self) -> ObjectKey {
        ObjectKey::new(&self.resource.group, &self.resource.kind, &self.namespace, &self.name)
    }

    pub fn delete_request(&self) -> DeleteRequest {
        DeleteRequest {
            resource: self.resource.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            uid: Some(self.uid.clone()).filter(|u| !u.is_empty()),
            resource_version: None,
        }
    }

    fn owners(&self) -> Vec<String> {
        self.live
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("uid").and_then(Value::as_str).map(String::from))
            .collect()
    }
}

/// What a prune would do.
#[derive(Debug, Clone, Default)]
pub struct PrunePlan {
    /// To delete, in deletion order (`PruneLast` ones at the end).
    pub delete: Vec<LiveItem>,
    /// How many of `delete`, at its end, are `PruneLast` (deleted in a second round).
    pub prune_last: usize,
    /// Members not in the render that stay, with the reason.
    pub kept: Vec<(LiveItem, String)>,
    /// Every live member of the set (for the mass-prune guard).
    pub live_members: usize,
    /// Recorded kinds the cluster does not serve now, with the namespaces
    /// the set recorded: they stay in the parent, so that their members are
    /// found again once the kind is served.
    pub unserved: Inventory,
    /// For each CustomResourceDefinition in `delete`: the objects of its
    /// kind that deleting it would take along (those `delete` holds aside).
    pub crd_objects: Vec<CrdObjects>,
}

/// The objects a CustomResourceDefinition's deletion takes with it.
#[derive(Debug, Clone)]
pub struct CrdObjects {
    /// The CRD's name (`widgets.example.com`).
    pub crd: String,
    /// `Widget.example.com`.
    pub kind: String,
    /// The first few of them (from one LIST page), for the preview.
    pub listed: Vec<LiveItem>,
    /// How many there are (a lower bound when `exact` is false).
    pub count: u64,
    pub exact: bool,
}

impl CrdObjects {
    /// `12 objects` or `at least 51 objects`.
    pub fn count_text(&self) -> String {
        format!(
            "{}{} object{}",
            if self.exact { "" } else { "at least " },
            self.count,
            if self.count == 1 { "" } else { "s" }
        )
    }
}

/// Objects listed per CRD to count (and show) what its deletion takes along.
pub const CRD_OBJECTS_LISTED: u32 = 20;

impl PrunePlan {
    /// What the parent must still record after the prune: kinds and namespaces of kept objects.
    pub fn kept_inventory(&self) -> Inventory {
        let mut inv = self.unserved.clone();
        for (k, _) in &self.kept {
            inv.group_kinds.insert(group_kind(&k.resource.group, &k.resource.kind));
            if !k.namespace.is_empty() {
                inv.namespaces.insert(k.namespace.clone());
            }
        }
        inv
    }
}

pub use crate::model::group_kind;

/// List the set's live members and pick the candidates.
pub fn plan_prune(
    cluster: &Cluster,
    id: &str,
    inventory: &Inventory,
    desired: &HashSet<ObjectKey>,
    parent_namespace: &str,
) -> Result<PrunePlan> {
    let resources = cluster.discover_group_kinds(&inventory.group_kinds)?;
    let mut unserved = Inventory::default();
    for gk in inventory.group_kinds.iter().filter(|gk| !resources.contains_key(*gk)) {
        let places = if inventory.namespaces.is_empty() {
            "cluster-wide".to_string()
        } else {
            format!("in namespaces {}", inventory.namespaces.iter().cloned().collect::<Vec<_>>().join(", "))
        };
        tracing::warn!(
            "ApplySet kind {gk} is not served by the cluster now (no served version has it); its members, last \
             recorded {places}, cannot be listed or pruned: the kind stays recorded in the parent"
        );
        unserved.group_kinds.insert(gk.clone());
    }
    if !unserved.group_kinds.is_empty() {
        unserved.namespaces = inventory.namespaces.clone();
    }
    let selector = format!("{PART_OF_LABEL}={id}");
    let mut requests = Vec::new();
    for r in resources.values() {
        let namespaces: Vec<String> =
            if r.namespaced { inventory.namespaces.iter().cloned().collect() } else { vec![String::new()] };
        for ns in namespaces {
            requests.push(ListRequest { resource: r.clone(), namespace: ns, label_selector: Some(selector.clone()) });
        }
    }
    let mut out = PrunePlan { unserved, ..Default::default() };
    let mut delete = Vec::new();
    let mut last = Vec::new();
    for (req, items) in requests.iter().zip(cluster.list(&requests)?) {
        for live in items {
            // Never trust the selector alone: the label must say exactly our id.
            let labelled =
                live.pointer("/metadata/labels").and_then(|l| l.get(PART_OF_LABEL)).and_then(Value::as_str) == Some(id);
            if !labelled {
                continue;
            }
            // A hook labelled by an earlier version: hooks are never members
            // and never pruned (Argo CD), nor counted in the sync status.
            if crate::model::is_hook_value(&live) {
                continue;
            }
            out.live_members += 1;
            let item = LiveItem::new(&req.resource, live);
            if desired.contains(&item.key()) {
                continue;
            }
            let opts = Object::new(item.live.clone(), Origin::new("<live>", 0, 0)).map(|o| object_options(&o)).ok();
            match opts {
                Some(o) if !o.prune => out.kept.push((item, "Prune=false".into())),
                Some(o) if o.prune_last => last.push(item),
                _ => delete.push(item),
            }
        }
    }
    let prune_last = last.len();
    delete.extend(last);
    // Namespaces: never the parent's, never one that holds objects outside the set.
    let deleting: HashSet<String> = delete.iter().map(|d| d.uid.clone()).collect();
    let mut keep_ns: Vec<(usize, String)> = Vec::new();
    for (i, d) in
        delete.iter().enumerate().filter(|(_, d)| d.resource.group.is_empty() && d.resource.kind == "Namespace")
    {
        if d.name == parent_namespace {
            keep_ns.push((i, "it holds the ApplySet parent".into()));
            continue;
        }
        let foreign = foreign_objects(cluster, &d.name, &deleting)?;
        if !foreign.is_empty() {
            let shown: Vec<String> = foreign.iter().take(5).cloned().collect();
            let more = if foreign.len() > 5 { format!(" and {} more", foreign.len() - 5) } else { String::new() };
            keep_ns.push((i, format!("it still holds objects outside the set: {}{more}", shown.join(", "))));
        }
    }
    let first_last = delete.len() - prune_last;
    out.prune_last = prune_last;
    for (i, reason) in keep_ns.into_iter().rev() {
        if i >= first_last {
            out.prune_last -= 1;
        }
        let item = delete.remove(i);
        out.kept.push((item, reason));
    }
    out.crd_objects = crd_objects(cluster, &delete)?;
    out.delete = delete;
    Ok(out)
}

impl PrunePlan {
    /// Objects outside `delete` that CRD deletions take along (lower bound).
    pub fn crd_cascade_count(&self) -> u64 {
        self.crd_objects.iter().map(|c| c.count).sum()
    }

    /// The CRDs to delete that still have objects of their kind.
    pub fn crds_with_objects(&self) -> impl Iterator<Item = &CrdObjects> {
        self.crd_objects.iter().filter(|c| c.count > 0)
    }
}

/// The resource a CRD defines, in its storage version (else the first served one).
fn defined_resource(crd: &Value) -> Option<ResourceInfo> {
    let s = |p: &str| crd.pointer(p).and_then(Value::as_str).map(String::from);
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array)?;
    let served = |v: &&Value| v.get("served").and_then(Value::as_bool) != Some(false);
    let version = versions
        .iter()
        .filter(served)
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .or_else(|| versions.iter().find(served))?
        .get("name")?
        .as_str()?
        .to_string();
    Some(ResourceInfo {
        group: s("/spec/group")?,
        version,
        kind: s("/spec/names/kind")?,
        plural: s("/spec/names/plural")?,
        namespaced: s("/spec/scope").as_deref() != Some("Cluster"),
    })
}

fn is_crd(item: &LiveItem) -> bool {
    item.resource.group == "apiextensions.k8s.io" && item.resource.kind == "CustomResourceDefinition"
}

/// Count, for each CRD in `delete`, the objects of its kind in every
/// namespace that `delete` does not already hold: one LIST with a small
/// limit each (a kind no longer served counts none).
fn crd_objects(cluster: &Cluster, delete: &[LiveItem]) -> Result<Vec<CrdObjects>> {
    let crds: Vec<(&LiveItem, ResourceInfo)> =
        delete.iter().filter(|d| is_crd(d)).filter_map(|d| Some((d, defined_resource(&d.live)?))).collect();
    if crds.is_empty() {
        return Ok(Vec::new());
    }
    let deleting: HashSet<&str> = delete.iter().map(|d| d.uid.as_str()).collect();
    let requests: Vec<ListRequest> = crds
        .iter()
        .map(|(_, r)| ListRequest { resource: r.clone(), namespace: String::new(), label_selector: None })
        .collect();
    let pages = cluster.list_first_pages(&requests, CRD_OBJECTS_LISTED);
    let mut out = Vec::new();
    for ((crd, res), page) in crds.iter().zip(pages) {
        let page = match page {
            Ok(p) => p,
            Err(Error::Api(f)) if f.code == 404 => Default::default(),
            Err(e) => return Err(e),
        };
        let (total, exact) = page.total();
        // Objects of this kind the prune deletes anyway are not counted twice.
        let ours =
            delete.iter().filter(|d| d.resource.group == res.group && d.resource.kind == res.kind).count() as u64;
        let listed: Vec<LiveItem> = page
            .items
            .into_iter()
            .map(|v| LiveItem::new(res, v))
            .filter(|i| !deleting.contains(i.uid.as_str()))
            .collect();
        let mut count = total.saturating_sub(ours).max(listed.len() as u64);
        if !exact {
            // More than one page and no count from the server: some may be someone else's.
            count = count.max(1);
        }
        out.push(CrdObjects { crd: crd.name.clone(), kind: group_kind(&res.group, &res.kind), listed, count, exact });
    }
    Ok(out)
}

/// The rails on a prune, before anything is written: a CustomResourceDefinition
/// that still has objects of its kind (`--prune-crds-with-objects`), then
/// the mass-prune guard (`--confirm-mass-prune`), which counts the objects
/// such CRDs take along. A dry run warns instead.
pub(super) fn rails(cluster: &Cluster, prune_plan: &PrunePlan, opts: &SyncOptions, ui: &mut dyn SyncUi) -> Result<()> {
    let crds: Vec<String> = prune_plan
        .crds_with_objects()
        .map(|c| format!("CustomResourceDefinition {} still has {} of kind {}", c.crd, c.count_text(), c.kind))
        .collect();
    if !crds.is_empty() {
        let what = format!(
            "{}; pruning it makes the API server delete every one of them, in every namespace, including \
             objects this app does not manage",
            crds.join("; ")
        );
        if opts.prune_crds_with_objects {
            ui.step(&format!("warning: {what}"));
        } else if opts.dry_run {
            ui.step(&format!("warning: {what}; a real sync needs --prune-crds-with-objects"));
        } else {
            return Err(Error::Refused(format!(
                "{what}; nothing was changed (delete those objects first, keep the CRD in the source or mark it \
                 Prune=false, or pass --prune-crds-with-objects)"
            )));
        }
    }
    if opts.confirm_mass_prune || prune_plan.delete.is_empty() {
        return Ok(());
    }
    let cascaded = usize::try_from(prune_plan.crd_cascade_count()).unwrap_or(usize::MAX);
    // What garbage collection removes with the pruned objects (owner
    // references, the contents of pruned Namespaces) counts too, on both
    // sides: deleted, and among the objects the app has live.
    let dependents = cascading(cluster, &prune_plan.delete)?.len();
    let deleted = prune_plan.delete.len().saturating_add(cascaded).saturating_add(dependents);
    if crate::plan::is_mass_prune(deleted, prune_plan.live_members.saturating_add(dependents)) {
        let mut also = Vec::new();
        if cascaded > 0 {
            also.push(format!("{cascaded} objects that deleting CustomResourceDefinitions takes along"));
        }
        if dependents > 0 {
            also.push(format!("{dependents} dependents garbage collection removes with them"));
        }
        let also = if also.is_empty() { String::new() } else { format!(" (and {})", also.join(", and ")) };
        let what = format!(
            "mass prune: this sync would delete {} of the app's {} live objects{also}",
            prune_plan.delete.len(),
            prune_plan.live_members
        );
        if !opts.dry_run {
            return Err(Error::Refused(format!(
                "{what}; nothing was changed (check the source, then pass --confirm-mass-prune)"
            )));
        }
        ui.step(&format!("warning: {what}; a real sync needs --confirm-mass-prune"));
    }
    Ok(())
}

/// Objects in namespace `ns` that are neither being deleted, nor dependents
/// (owner references: garbage collection handles them), nor created by the
/// cluster itself (default ServiceAccount and its token, the root CA
/// ConfigMap, Events, Endpoints).
fn foreign_objects(cluster: &Cluster, ns: &str, deleting: &HashSet<String>) -> Result<Vec<String>> {
    let items = list_namespaces(cluster, &BTreeSet::from([ns.to_string()]))?;
    let mut out = Vec::new();
    for it in items {
        let automatic = match (it.resource.group.as_str(), it.resource.kind.as_str()) {
            ("", "ServiceAccount") => it.name == "default",
            ("", "ConfigMap") => it.name == "kube-root-ca.crt",
            ("", "Secret") => {
                it.live.get("type").and_then(Value::as_str) == Some("kubernetes.io/service-account-token")
            }
            ("", "Endpoints") | ("discovery.k8s.io", "EndpointSlice") => true,
            _ => false,
        };
        if automatic || deleting.contains(&it.uid) || !it.owners().is_empty() {
            continue;
        }
        out.push(it.key().to_string());
    }
    Ok(out)
}

/// Every object of every listable namespaced kind (Events excepted) in `namespaces`.
fn list_namespaces(cluster: &Cluster, namespaces: &BTreeSet<String>) -> Result<Vec<LiveItem>> {
    let resources: Vec<ResourceInfo> =
        cluster.namespaced_listable()?.into_iter().filter(|r| r.kind != "Event").collect();
    let requests: Vec<ListRequest> = namespaces
        .iter()
        .flat_map(|ns| {
            resources.iter().map(|r| ListRequest { resource: r.clone(), namespace: ns.clone(), label_selector: None })
        })
        .collect();
    let mut out = Vec::new();
    for (req, items) in requests.iter().zip(cluster.list(&requests)?) {
        out.extend(items.into_iter().map(|v| LiveItem::new(&req.resource, v)));
    }
    Ok(out)
}

/// Live objects garbage collection would remove with `deleting` (owner
/// references, transitively, and the contents of deleted Namespaces), for
/// `--dry-run` and `diff --prune`. Dependents are searched in the deleted
/// objects' namespaces.
pub fn cascading(cluster: &Cluster, deleting: &[LiveItem]) -> Result<Vec<LiveItem>> {
    if deleting.is_empty() {
        return Ok(Vec::new());
    }
    let deleted_ns: BTreeSet<String> = deleting
        .iter()
        .filter(|d| d.resource.group.is_empty() && d.resource.kind == "Namespace")
        .map(|d| d.name.clone())
        .collect();
    let namespaces: BTreeSet<String> = deleting
        .iter()
        .filter(|d| !d.namespace.is_empty())
        .map(|d| d.namespace.clone())
        .chain(deleted_ns.clone())
        .collect();
    let all = list_namespaces(cluster, &namespaces)?;
    let mut gone: HashSet<String> = deleting.iter().map(|d| d.uid.clone()).collect();
    let mut out: Vec<LiveItem> = Vec::new();
    let mut taken: HashMap<String, ()> = HashMap::new();
    loop {
        let before = out.len();
        for it in &all {
            if gone.contains(&it.uid) || taken.contains_key(&it.uid) {
                continue;
            }
            if deleted_ns.contains(&it.namespace) || it.owners().iter().any(|o| gone.contains(o)) {
                taken.insert(it.uid.clone(), ());
                out.push(it.clone());
            }
        }
        if out.len() == before {
            break;
        }
        gone.extend(out[before..].iter().map(|i| i.uid.clone()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(group: &str, kind: &str, ns: &str, name: &str) -> LiveItem {
        let r = ResourceInfo {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
            namespaced: !ns.is_empty(),
        };
        LiveItem::new(
            &r,
            json!({"metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"),
            "ownerReferences": [{"uid": "owner-1"}]}}),
        )
    }

    #[test]
    fn a_crd_defines_its_storage_version_and_counts_read_well() {
        let crd = json!({"spec": {"group": "g.example.com", "scope": "Cluster",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true}, {"name": "v2", "served": true, "storage": true},
                         {"name": "v3", "served": false}]}});
        let r = defined_resource(&crd).unwrap();
        assert_eq!((r.version.as_str(), r.plural.as_str(), r.namespaced), ("v2", "widgets", false));
        assert!(defined_resource(&json!({"spec": {"group": "g"}})).is_none());
        let c = |count, exact| CrdObjects { crd: "w".into(), kind: "W".into(), listed: vec![], count, exact };
        assert_eq!(c(1, true).count_text(), "1 object");
        assert_eq!(c(21, false).count_text(), "at least 21 objects");
        let page = |n: usize, remaining| crate::cluster::FirstPage { items: vec![json!({}); n], remaining };
        assert_eq!(page(20, Some(5)).total(), (25, true));
        assert_eq!(page(3, Some(0)).total(), (3, true));
        assert_eq!(page(20, None).total(), (21, false));
    }

    #[test]
    fn kept_objects_stay_recorded_and_deletes_carry_the_uid() {
        let plan = PrunePlan {
            kept: vec![
                (item("apps", "Deployment", "a", "d"), "Prune=false".into()),
                (item("", "Namespace", "", "a"), "".into()),
            ],
            ..Default::default()
        };
        let inv = plan.kept_inventory();
        assert_eq!(inv.contains_annotation(), "Deployment.apps,Namespace");
        assert_eq!(inv.namespaces.iter().cloned().collect::<Vec<_>>(), ["a"]);
        // A kind the cluster does not serve now stays recorded, with the set's namespaces.
        let mut unserved = Inventory::default();
        unserved.group_kinds.insert("Widget.example.com".into());
        unserved.namespaces.insert("b".into());
        let inv = PrunePlan { unserved, ..plan }.kept_inventory();
        assert_eq!(inv.contains_annotation(), "Deployment.apps,Namespace,Widget.example.com");
        assert_eq!(inv.namespaces.iter().cloned().collect::<Vec<_>>(), ["a", "b"]);
        let d = item("", "ConfigMap", "a", "c");
        assert_eq!(d.delete_request().uid.as_deref(), Some("uid-c"));
        assert_eq!(d.owners(), ["owner-1"]);
        assert_eq!(group_kind("", "ConfigMap"), "ConfigMap");
        assert_eq!(group_kind("apps", "Deployment"), "Deployment.apps");
    }
}
