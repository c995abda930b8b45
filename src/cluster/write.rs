//! Single-object writes used by `sync` (create, replace), a one-object
//! get, and discovery
//! by group-kind (the ApplySet parent records kinds without versions) or of
//! every listable resource (prune safety checks, cascading deletions).

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::csa::{self, PatchKind, PatchSchema};
use super::request::{Target, send, send_once};
use super::{ApplyOptions, Cluster, Discovery, GetRequest, Propagation, ResourceInfo};
use crate::error::{Error, Result};
use crate::model::Gvk;

/// How a deletion treats the object's dependents (`--cascade`): the CLI's
/// spelling of [`Propagation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cascade {
    /// Delete dependents in the background (kubectl's default).
    #[default]
    Background,
    /// Delete dependents first; the object goes once they are gone.
    Foreground,
    /// Leave dependents in place.
    Orphan,
}

impl From<Cascade> for Propagation {
    fn from(c: Cascade) -> Propagation {
        match c {
            Cascade::Background => Propagation::Background,
            Cascade::Foreground => Propagation::Foreground,
            Cascade::Orphan => Propagation::Orphan,
        }
    }
}

/// How an object is written: Argo CD's sync options (`Replace=true`,
/// `ServerSideApply=false`, `Validate=false`) choose it per object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Server-side apply (the default).
    #[default]
    ServerSideApply,
    /// `kubectl apply` without `--server-side`: a three-way patch computed
    /// from the last-applied annotation ([`csa`]); a POST when missing.
    ClientSideApply,
    /// `kubectl replace`: a PUT with the live object's resourceVersion;
    /// `kubectl create` (a POST) when missing.
    Replace,
}

/// One object to write.
#[derive(Debug, Clone, Copy)]
pub struct WriteItem<'a> {
    pub resource: &'a ResourceInfo,
    pub object: &'a Value,
    pub mode: WriteMode,
    /// The live object, as last read (client-side apply and replace need it).
    pub live: Option<&'a Value>,
}

impl WriteItem<'_> {
    fn needs_schema(&self) -> bool {
        self.mode == WriteMode::ClientSideApply && self.live.is_some() && csa::is_builtin_group(&self.resource.group)
    }
}

fn not_found(e: &Error) -> bool {
    matches!(e, Error::Api(f) if f.code == 404)
}

impl Cluster {
    /// Read one object; `None` when it does not exist.
    pub fn get_object(&self, res: &ResourceInfo, namespace: &str, name: &str) -> Result<Option<Value>> {
        let req = GetRequest { resource: res.clone(), namespace: namespace.to_string(), name: name.to_string() };
        self.get(&[req]).pop().expect("one result")
    }

    /// Create an object (POST); the server's object is returned.
    pub fn create(&self, res: &ResourceInfo, obj: &Value) -> Result<Value> {
        self.create_with(res, obj, false)
    }

    /// Create an object (POST), or only dry-run its creation. An object
    /// with `metadata.generateName` and no name is named by the server.
    pub fn create_with(&self, res: &ResourceInfo, obj: &Value, dry_run: bool) -> Result<Value> {
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
        let name = obj
            .pointer("/metadata/name")
            .or_else(|| obj.pointer("/metadata/generateName"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let resource = res.resource_name();
        let target = Target { verb: "create", resource: &resource, namespace: ns, name };
        let req = kube::core::Request::new(res.collection_path(ns));
        let body = serde_json::to_vec(obj).map_err(|e| Error::Usage(e.to_string()))?;
        let pp = kube::api::PostParams { dry_run, field_manager: Some(crate::keys::FIELD_MANAGER.into()) };
        let generated = !dry_run && obj.pointer("/metadata/name").and_then(Value::as_str).is_none_or(str::is_empty);
        if generated {
            // A retry after a lost response would create a second object.
            return self.block_on(send_once(&self.client, &target, || req.create(&pp, body.clone())));
        }
        self.block_on(send(&self.client, &target, || req.create(&pp, body.clone())))
    }

    /// Replace an object (PUT); `obj` carries the resourceVersion it expects.
    pub fn replace(&self, res: &ResourceInfo, obj: &Value) -> Result<Value> {
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
        let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let resource = res.resource_name();
        let target = Target { verb: "update", resource: &resource, namespace: ns, name };
        let req = kube::core::Request::new(res.collection_path(ns));
        let body = serde_json::to_vec(obj).map_err(|e| Error::Usage(e.to_string()))?;
        let pp = kube::api::PostParams { dry_run: false, field_manager: Some(crate::keys::FIELD_MANAGER.into()) };
        self.block_on(send(&self.client, &target, || req.replace(name, &pp, body.clone())))
    }

    /// Write objects, each as its mode says, concurrently; with
    /// `opts.dry_run` the server only computes the results. Results in
    /// input order. A client-side apply that would change nothing sends no
    /// request and returns the live object.
    pub fn write(&self, items: &[WriteItem<'_>], opts: ApplyOptions) -> Vec<Result<Value>> {
        let schema = if items.iter().any(WriteItem::needs_schema) {
            match self.patch_schema() {
                Ok(s) => Some(s),
                Err(e) => {
                    let why = format!("reading the server's OpenAPI document (for a client-side apply): {e}");
                    return items.iter().map(|_| Err(Error::SyncFailed(why.clone()))).collect();
                }
            }
        } else {
            None
        };
        let schema = schema.as_deref();
        self.bounded(items.iter().map(|item| write_one(&self.client, item, opts, schema)))
    }

    /// The three-way patch a client-side apply of `object` over `live`
    /// would send (empty: no change). Reads the server's patch strategies
    /// once for built-in kinds.
    pub fn client_side_patch(
        &self,
        res: &ResourceInfo,
        object: &Value,
        live: &Value,
    ) -> Result<serde_json::Map<String, Value>> {
        let schema = if csa::is_builtin_group(&res.group) { Some(self.patch_schema()?) } else { None };
        Ok(csa_patch(res, object, live, schema.as_deref()))
    }

    fn patch_schema(&self) -> Result<std::sync::Arc<PatchSchema>> {
        if let Some(s) = self.patch_schema.get() {
            return Ok(s.clone());
        }
        let doc = self.block_on(get_path(&self.client, "/openapi/v2"))?;
        let schema = std::sync::Arc::new(PatchSchema::from_openapi(doc));
        Ok(self.patch_schema.get_or_init(|| schema).clone())
    }

    /// Resolve group-kinds (`Kind` or `Kind.group`, the ApplySet form) to
    /// served resources in their group's preferred version. Kinds the
    /// cluster no longer serves are absent from the result.
    pub fn discover_group_kinds(&self, group_kinds: &BTreeSet<String>) -> Result<BTreeMap<String, ResourceInfo>> {
        let groups: BTreeSet<String> =
            group_kinds.iter().map(|gk| gk.split_once('.').map_or("", |(_, g)| g).to_string()).collect();
        let served = self.block_on(served_versions(&self.client, &groups, self.concurrency))?;
        // A kind may be served in a version other than its group's
        // preferred one (CronJob in batch/v1beta1 on a 1.20 server, where
        // batch prefers v1): look in the preferred version first, then in
        // each other served version, in the server's order, for the kinds
        // still missing; one round of requests per version rank.
        let mut found: BTreeMap<String, ResourceInfo> = BTreeMap::new();
        let rounds = served.values().map(Vec::len).max().unwrap_or(0);
        for rank in 0..rounds {
            let wanted: Vec<(&String, Gvk)> = group_kinds
                .iter()
                .filter(|gk| !found.contains_key(*gk))
                .filter_map(|gk| {
                    let (kind, group) = gk.split_once('.').unwrap_or((gk, ""));
                    served.get(group).and_then(|vs| vs.get(rank)).map(|v| (gk, Gvk::new(group, v, kind)))
                })
                .collect();
            if wanted.is_empty() {
                break;
            }
            let discovery: Discovery = self.discover(wanted.iter().map(|(_, g)| g))?;
            for (gk, gvk) in &wanted {
                if let Some(r) = discovery.resource(gvk) {
                    found.insert((*gk).clone(), r.clone());
                }
            }
        }
        Ok(found)
    }

    /// Every namespaced resource that can be listed, in its group's preferred version.
    pub fn namespaced_listable(&self) -> Result<Vec<ResourceInfo>> {
        self.block_on(namespaced_listable(&self.client, self.concurrency))
    }
}

fn csa_patch(
    res: &ResourceInfo,
    object: &Value,
    live: &Value,
    schema: Option<&PatchSchema>,
) -> serde_json::Map<String, Value> {
    let modified = csa::with_last_applied(object);
    let kind = match schema {
        Some(s) if csa::is_builtin_group(&res.group) => {
            PatchKind::Strategic(s.kind(&res.group, &res.version, &res.kind))
        }
        _ => PatchKind::Merge,
    };
    csa::three_way_patch(&modified, live, kind)
}

async fn write_one(
    client: &kube::Client,
    item: &WriteItem<'_>,
    opts: ApplyOptions,
    schema: Option<&PatchSchema>,
) -> Result<Value> {
    let res = item.resource;
    let ns = item.object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
    let name = item.object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let resource = res.resource_name();
    let req = kube::core::Request::new(res.collection_path(ns));
    let manager = Some(crate::keys::FIELD_MANAGER.to_string());
    match (item.mode, item.live) {
        (WriteMode::ServerSideApply, _) => super::apply_one(client, res, item.object, opts).await,
        (WriteMode::Replace, Some(live)) => {
            // kubectl replace: the live object's resourceVersion, so a
            // concurrent change is a conflict, not overwritten.
            let mut body = item.object.clone();
            if let (Some(rv), Some(Value::Object(meta))) =
                (live.pointer("/metadata/resourceVersion").cloned(), body.get_mut("metadata"))
            {
                meta.insert("resourceVersion".into(), rv);
            }
            let body = serde_json::to_vec(&body).map_err(|e| Error::Usage(e.to_string()))?;
            let pp = kube::api::PostParams { dry_run: opts.dry_run, field_manager: manager };
            let target = Target { verb: "update", resource: &resource, namespace: ns, name };
            send(client, &target, || req.replace(name, &pp, body.clone())).await
        }
        (mode, None) => {
            let object = if mode == WriteMode::ClientSideApply {
                csa::with_last_applied(item.object)
            } else {
                item.object.clone()
            };
            let body = serde_json::to_vec(&object).map_err(|e| Error::Usage(e.to_string()))?;
            let pp = kube::api::PostParams { dry_run: opts.dry_run, field_manager: manager };
            let target = Target { verb: "create", resource: &resource, namespace: ns, name };
            send(client, &target, || req.create(&pp, body.clone())).await
        }
        (WriteMode::ClientSideApply, Some(live)) => {
            let patch = csa_patch(res, item.object, live, schema);
            if patch.is_empty() {
                return Ok(live.clone());
            }
            let patch = Value::Object(patch);
            let patch = if schema.is_some() && csa::is_builtin_group(&res.group) {
                kube::api::Patch::Strategic(patch)
            } else {
                kube::api::Patch::Merge(patch)
            };
            let mut pp = kube::api::PatchParams { field_manager: manager, ..Default::default() };
            pp.dry_run = opts.dry_run;
            let target = Target { verb: "patch", resource: &resource, namespace: ns, name };
            send(client, &target, || req.patch(name, &pp, &patch)).await
        }
    }
}

async fn get_path(client: &kube::Client, path: &str) -> Result<Value> {
    let target = Target { verb: "get", resource: path, namespace: "", name: "" };
    send(client, &target, || {
        http::Request::get(path).body(Vec::new()).map_err(kube::core::request::Error::BuildRequest)
    })
    .await
}

/// group -> its served versions, the preferred one first, for the groups
/// asked (core: `v1`).
async fn served_versions(
    client: &kube::Client,
    groups: &BTreeSet<String>,
    concurrency: usize,
) -> Result<BTreeMap<String, Vec<String>>> {
    let found: Vec<Option<(String, Vec<String>)>> = futures::stream::iter(groups.iter().cloned())
        .map(|group| async move {
            if group.is_empty() {
                return Ok(Some((group, vec!["v1".to_string()])));
            }
            match get_path(client, &format!("/apis/{group}")).await {
                Ok(g) => {
                    let preferred = g.pointer("/preferredVersion/version").and_then(Value::as_str);
                    let mut versions: Vec<String> = preferred.map(str::to_string).into_iter().collect();
                    for v in g.get("versions").and_then(Value::as_array).into_iter().flatten() {
                        if let Some(v) = v.get("version").and_then(Value::as_str)
                            && Some(v) != preferred
                        {
                            versions.push(v.to_string());
                        }
                    }
                    Ok((!versions.is_empty()).then_some((group, versions)))
                }
                Err(e) if not_found(&e) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn namespaced_listable(client: &kube::Client, concurrency: usize) -> Result<Vec<ResourceInfo>> {
    let groups = get_path(client, "/apis").await?;
    let mut gvs: Vec<(String, String)> = vec![(String::new(), "v1".into())];
    for g in groups.get("groups").and_then(Value::as_array).into_iter().flatten() {
        if let (Some(name), Some(v)) =
            (g.get("name").and_then(Value::as_str), g.pointer("/preferredVersion/version").and_then(Value::as_str))
        {
            gvs.push((name.to_string(), v.to_string()));
        }
    }
    let lists: Vec<Vec<ResourceInfo>> = futures::stream::iter(gvs)
        .map(|(group, version)| async move {
            let path = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
            let list = match get_path(client, &path).await {
                Ok(l) => l,
                Err(e) if not_found(&e) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            Ok(list
                .get("resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|r| {
                    r.get("namespaced").and_then(Value::as_bool) == Some(true)
                        && r.get("name").and_then(Value::as_str).is_some_and(|n| !n.contains('/'))
                        && r.get("verbs")
                            .and_then(Value::as_array)
                            .is_some_and(|vs| vs.iter().any(|v| v.as_str() == Some("list")))
                })
                .filter_map(|r| {
                    Some(ResourceInfo {
                        group: group.clone(),
                        version: version.clone(),
                        kind: r.get("kind")?.as_str()?.to_string(),
                        plural: r.get("name")?.as_str()?.to_string(),
                        namespaced: true,
                    })
                })
                .collect())
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    Ok(lists.into_iter().flatten().collect())
}
