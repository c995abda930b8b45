//! Desired vs live: resolve every rendered object against the cluster
//! ([`prepare`]), then pair each with its live state and the state an apply
//! would produce ([`compare`]). Used by `diff`; `sync` reuses both (a
//! [`Prediction::Unchanged`] object needs no write).
//!
//! Live state costs one LIST per resource and namespace. The server-side
//! dry-run is skipped for objects whose `kubectl-gitops` managed fields
//! prove an apply would change nothing ([`crate::diff::managed`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::write::{WriteItem, WriteMode};
use super::{ApplyOptions, Cluster, Discovery, GetRequest, ListRequest, ResourceInfo};
use crate::diff::managed::provably_unchanged;
use crate::error::{Error, Result};
use crate::keys;
use crate::model::{Gvk, Object, ObjectKey};
use crate::normalize::{NormalizeOptions, ObjectSet, OfflineScopes, Scope, ScopeLookup, normalize_with};
use crate::plan::{WriteDefaults, object_options, write_mode};

/// The rendered set resolved against the cluster.
pub struct Resolved {
    pub set: ObjectSet,
    pub discovery: Discovery,
    /// The app's sync options that choose how each object is written (and so predicted).
    pub write: WriteDefaults,
}

/// How the predicted state was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prediction {
    /// The server's dry-run result.
    DryRun,
    /// Provably unchanged (our managed fields match): the live object.
    Unchanged,
    /// The desired manifest itself: the object cannot be dry-run yet (its
    /// namespace or its CRD is created by the same set, or its kind is not
    /// served yet and it says `SkipDryRunOnMissingResource=true`).
    Desired,
}

/// One desired object with its live and predicted states.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub desired: Object,
    /// `None` when the kind is defined by a CRD of the set that the cluster does not serve yet.
    pub resource: Option<ResourceInfo>,
    pub live: Option<Value>,
    pub predicted: Value,
    pub prediction: Prediction,
    /// How a sync writes it (its sync options and the app's).
    pub mode: WriteMode,
}

/// Live scopes first, then the CRDs of the set.
struct Scopes<'a>(&'a Discovery, &'a OfflineScopes);

impl ScopeLookup for Scopes<'_> {
    fn scope(&self, group: &str, kind: &str) -> Option<Scope> {
        self.0.scope(group, kind).or_else(|| self.1.scope(group, kind))
    }
}

/// (group, kind) -> versions, for the CRDs in a set of objects.
fn crd_versions(objects: &[Object]) -> HashMap<(String, String), Vec<String>> {
    let mut out = HashMap::new();
    for o in objects.iter().filter(|o| o.group() == "apiextensions.k8s.io" && o.kind() == "CustomResourceDefinition") {
        let v = o.to_value();
        let (Some(group), Some(kind)) =
            (v.pointer("/spec/group").and_then(Value::as_str), v.pointer("/spec/names/kind").and_then(Value::as_str))
        else {
            continue;
        };
        let mut versions: Vec<String> = v
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .map(|vs| vs.iter().filter_map(|x| x.get("name").and_then(Value::as_str).map(String::from)).collect())
            .unwrap_or_default();
        if let Some(ver) = v.pointer("/spec/version").and_then(Value::as_str) {
            versions.push(ver.to_string());
        }
        out.insert((group.to_string(), kind.to_string()), versions);
    }
    out
}

/// Discover the set's kinds, reject kinds the cluster does not know (before
/// anything else happens), and normalize with live scopes. Objects without
/// a namespace get `--namespace`, else the context's namespace.
pub fn prepare(cluster: &Cluster, objects: Vec<Object>) -> Result<Resolved> {
    prepare_with(cluster, objects, WriteDefaults::default())
}

/// [`prepare`] under the app's sync options: with
/// `SkipDryRunOnMissingResource=true` (the app's or the object's), an
/// object whose kind the cluster does not serve is kept, to be written
/// once its CRD exists, instead of failing the run.
pub fn prepare_with(cluster: &Cluster, objects: Vec<Object>, write: WriteDefaults) -> Result<Resolved> {
    let gvks: HashSet<Gvk> = objects.iter().map(Object::gvk).collect();
    let discovery = cluster.discover(gvks.iter())?;
    let crds = crd_versions(&objects);
    let mut unknown: BTreeMap<String, String> = BTreeMap::new();
    for o in &objects {
        let gvk = o.gvk();
        let from_set = crds.get(&(gvk.group.clone(), gvk.kind.clone())).is_some_and(|vs| vs.contains(&gvk.version));
        let skip = || object_options(o).skip_dry_run_on_missing.unwrap_or(write.skip_dry_run_on_missing);
        if discovery.resource(&gvk).is_none() && !from_set && !skip() {
            let label = format!("{} (apiVersion {})", gvk.group_kind(), gvk.api_version());
            unknown.entry(label).or_insert_with(|| o.origin.to_string());
        }
    }
    if !unknown.is_empty() {
        let lines = unknown.into_iter().map(|(k, origin)| format!("{k}, first at {origin}")).collect();
        return Err(Error::UnknownKinds(Box::new(lines)));
    }
    let offline = OfflineScopes::from_objects(&objects);
    let opts = NormalizeOptions { default_namespace: Some(cluster.default_namespace().to_string()) };
    let set = normalize_with(objects, &opts, &Scopes(&discovery, &offline))?;
    Ok(Resolved { set, discovery, write })
}

fn live_key(v: &Value, group: &str, kind: &str) -> ObjectKey {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("");
    ObjectKey::new(group, kind, s("/metadata/namespace"), s("/metadata/name"))
}

/// Pair every object of the set with its live state (one LIST per resource
/// and namespace) and its predicted state (dry-run apply, skipped when
/// provably unchanged). Results follow the set's order; the first failing
/// object's error is returned, naming the object and its source.
pub fn compare(cluster: &Cluster, resolved: &Resolved) -> Result<Vec<Comparison>> {
    compare_inner(cluster, resolved, true, false, &|_| false)
}

/// [`compare`] for `status`: a new object whose namespace does not exist
/// (an app before its first sync) is predicted as written, and so reported
/// Missing and OutOfSync, instead of failing the whole report.
pub fn compare_for_status(cluster: &Cluster, resolved: &Resolved) -> Result<Vec<Comparison>> {
    compare_inner(cluster, resolved, true, true, &|_| false)
}

/// [`compare`], with the dry-run taking over other managers' fields only
/// when `force` is set (sync without `--force-conflicts` reports conflicts).
pub fn compare_with(cluster: &Cluster, resolved: &Resolved, force: bool) -> Result<Vec<Comparison>> {
    compare_inner(cluster, resolved, force, false, &|_| false)
}

/// [`compare_with`], except that objects whose live copy `leave` selects
/// (another app's, which the sync will not write) are not dry-run: their
/// prediction is their live state.
pub fn compare_leaving(
    cluster: &Cluster,
    resolved: &Resolved,
    force: bool,
    leave: &dyn Fn(&Value) -> bool,
) -> Result<Vec<Comparison>> {
    compare_inner(cluster, resolved, force, false, leave)
}

fn compare_inner(
    cluster: &Cluster,
    resolved: &Resolved,
    force: bool,
    missing_namespace_ok: bool,
    leave: &dyn Fn(&Value) -> bool,
) -> Result<Vec<Comparison>> {
    // Hooks are not part of the sync status (Argo CD): they are created or
    // recreated at their phase, and a generateName hook has no live
    // counterpart at all. diff and status leave them out.
    let objects: Vec<&Object> = resolved.set.objects().iter().filter(|o| !o.is_hook()).collect();
    let resources: Vec<Option<ResourceInfo>> =
        objects.iter().map(|o| resolved.discovery.resource(&o.gvk()).cloned()).collect();

    // One LIST per (resource, namespace).
    let mut lists: Vec<ListRequest> = Vec::new();
    let mut seen: HashSet<(String, String, String)> = HashSet::new();
    for (o, r) in objects.iter().zip(&resources) {
        let Some(r) = r else { continue };
        let ns = if r.namespaced { o.namespace().unwrap_or("").to_string() } else { String::new() };
        if seen.insert((r.api_version(), r.kind.clone(), ns.clone())) {
            lists.push(ListRequest { resource: r.clone(), namespace: ns, label_selector: None });
        }
    }
    let mut live: HashMap<ObjectKey, Value> = HashMap::new();
    for (req, items) in lists.iter().zip(cluster.list(&lists)?) {
        for item in items {
            live.insert(live_key(&item, &req.resource.group, &req.resource.kind), item);
        }
    }

    let mut out: Vec<Comparison> = Vec::with_capacity(objects.len());
    let mut to_dry_run: Vec<usize> = Vec::new();
    for (i, (o, r)) in objects.iter().zip(&resources).enumerate() {
        let live = live.remove(&o.key());
        let desired = o.to_value();
        let mode = write_mode(o, &resolved.write);
        let (predicted, prediction) = match (&live, r) {
            (_, None) => (desired, Prediction::Desired),
            (Some(l), Some(_)) if leave(l) => (l.clone(), Prediction::Unchanged),
            (Some(l), Some(_))
                if mode == WriteMode::ServerSideApply && provably_unchanged(&desired, l, keys::FIELD_MANAGER) =>
            {
                (l.clone(), Prediction::Unchanged)
            }
            // A client-side apply whose three-way patch is empty changes nothing.
            (Some(l), Some(r))
                if mode == WriteMode::ClientSideApply
                    && cluster.client_side_patch(r, &desired, l).map_err(|e| error_for(o, e))?.is_empty() =>
            {
                (l.clone(), Prediction::Unchanged)
            }
            _ => {
                to_dry_run.push(i);
                (Value::Null, Prediction::DryRun)
            }
        };
        out.push(Comparison { desired: (*o).clone(), resource: r.clone(), live, predicted, prediction, mode });
    }
    tracing::info!(objects = objects.len(), lists = lists.len(), dry_runs = to_dry_run.len(), "compare");

    dry_run(cluster, &mut out, &to_dry_run, force, missing_namespace_ok)?;
    // A controller may have written an object between our LIST and its
    // dry-run (the dry-run result then carries a newer resourceVersion):
    // read those objects again and redo their dry-runs, at most twice.
    for _ in 0..2 {
        let stale: Vec<usize> = to_dry_run.iter().copied().filter(|&i| is_stale(&out[i])).collect();
        if stale.is_empty() {
            break;
        }
        tracing::debug!(objects = stale.len(), "live state changed during the diff, reading again");
        let gets: Vec<GetRequest> = stale
            .iter()
            .map(|&i| {
                let o = &out[i].desired;
                let r = out[i].resource.clone().expect("dry-run only with a resource");
                let namespace = if r.namespaced { o.namespace().unwrap_or("").to_string() } else { String::new() };
                GetRequest { resource: r, namespace, name: o.name().to_string() }
            })
            .collect();
        for (&i, fresh) in stale.iter().zip(cluster.get(&gets)) {
            out[i].live = fresh.map_err(|e| object_error(&out[i], e))?;
        }
        dry_run(cluster, &mut out, &stale, force, missing_namespace_ok)?;
    }
    Ok(out)
}

fn resource_version(v: &Value) -> Option<&str> {
    v.pointer("/metadata/resourceVersion").and_then(Value::as_str)
}

fn namespace_created(created: &HashSet<String>, o: &Object) -> bool {
    o.namespace().is_some_and(|ns| created.contains(ns))
}

/// The dry-run saw a newer (or no) object than the LIST did.
fn is_stale(c: &Comparison) -> bool {
    c.prediction == Prediction::DryRun
        && match &c.live {
            Some(l) => resource_version(l) != resource_version(&c.predicted),
            None => resource_version(&c.predicted).is_some_and(|rv| !rv.is_empty()),
        }
}

fn object_error(c: &Comparison, e: Error) -> Error {
    error_for(&c.desired, e)
}

fn error_for(o: &Object, e: Error) -> Error {
    Error::Object { key: Box::new(o.key()), origin: o.origin.clone(), source: Box::new(e) }
}

/// Dry-run of the write of `out[i]` for each index (every failure is an
/// error): for the objects [`compare`] could not dry-run before their
/// namespace existed.
pub fn dry_run_now(cluster: &Cluster, out: &mut [Comparison], indices: &[usize], force: bool) -> Result<()> {
    dry_run(cluster, out, indices, force, false)
}

/// Dry-run of the write of `out[i]` for each index (server-side apply, or
/// the object's [`WriteMode`]), filling `predicted`.
/// A new object's 404 means its namespace is missing: fine when the set
/// creates it, or when `missing_namespace_ok`.
fn dry_run(
    cluster: &Cluster,
    out: &mut [Comparison],
    indices: &[usize],
    force: bool,
    missing_namespace_ok: bool,
) -> Result<()> {
    let created: HashSet<String> = out
        .iter()
        .filter(|c| c.desired.group().is_empty() && c.desired.kind() == "Namespace" && c.live.is_none())
        .map(|c| c.desired.name().to_string())
        .collect();
    // A new object in a namespace the set creates: a dry-run is bound to
    // fail (404, after the API server's NamespaceLifecycle admission waited
    // for the namespace to show up), so none is sent. Its prediction is the
    // manifest; a sync dry-runs it once the namespace exists, before any
    // other object is written (`sync::execute`).
    let (deferred, indices): (Vec<usize>, Vec<usize>) =
        indices.iter().partition(|&&i| out[i].live.is_none() && namespace_created(&created, &out[i].desired));
    for &i in &deferred {
        out[i].predicted = out[i].desired.to_value();
        out[i].prediction = Prediction::Desired;
    }
    if !deferred.is_empty() {
        tracing::info!(objects = deferred.len(), "compare: no dry-run for new objects in namespaces the set creates");
    }
    let indices = &indices[..];
    let values: Vec<Value> = indices.iter().map(|&i| out[i].desired.to_value()).collect();
    let batch: Vec<WriteItem<'_>> = indices
        .iter()
        .zip(&values)
        .map(|(&i, v)| WriteItem {
            resource: out[i].resource.as_ref().expect("dry-run only with a resource"),
            object: v,
            mode: out[i].mode,
            live: out[i].live.as_ref(),
        })
        .collect();
    let results = cluster.write(&batch, ApplyOptions { dry_run: true, force });
    // Every failure is reported, not only the first.
    let mut errors: Vec<Error> = Vec::new();
    let mut total = 0;
    for (&i, result) in indices.iter().zip(results) {
        let c = &mut out[i];
        match result {
            Ok(v) => {
                c.predicted = v;
                c.prediction = Prediction::DryRun;
            }
            // A new object whose namespace the set itself creates.
            Err(Error::Api(f))
                if f.code == 404
                    && c.live.is_none()
                    && (namespace_created(&created, &c.desired)
                        || missing_namespace_ok && c.desired.namespace().is_some()) =>
            {
                c.predicted = c.desired.to_value();
                c.prediction = Prediction::Desired;
            }
            Err(e) => {
                total += 1;
                if errors.len() < crate::error::MAX_REPORTED {
                    errors.push(object_error(c, with_hint(e)));
                }
            }
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.pop().expect("one error")),
        _ => Err(Error::Preflight { errors, total }),
    }
}

/// Known server-side apply limitations of older API servers (fixed in later
/// releases) get a hint naming the way around them.
fn with_hint(e: Error) -> Error {
    let Error::Api(mut f) = e else { return e };
    let hint = if f.code != 500 {
        None
    } else if f.message.contains("omits key field") {
        Some(
            "this API server's server-side apply needs every key field of a list entry (e.g. `protocol: TCP` on a \
             Service or container port): set it in the manifest (newer API servers default it)",
        )
    } else if f.message.contains("failed to create typed") || f.message.contains("expected numeric") {
        Some(
            "this API server's server-side apply cannot read a value of this manifest as its schema types it \
             (e.g. a bare-number quantity such as `cpu: 0.5`; write it as a string, `cpu: \"500m\"`)",
        )
    } else {
        None
    };
    if let Some(h) = hint {
        f.message = format!("{}\n  hint: {h}", f.message);
    }
    Error::Api(f)
}
