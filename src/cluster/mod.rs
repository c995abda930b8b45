//! The only module that talks to the API server (kube + rustls; the only
//! user of tokio). Everything here is a batch operation with bounded
//! concurrency and a blocking interface, so the rest of the pipeline stays
//! synchronous:
//!
//! - [`Cluster::connect`]: kubeconfig/context/namespace/in-cluster ([`config`]),
//!   with a runtime of its own; [`Cluster::from_client`]: a `kube::Client`
//!   made by the caller, driven by the caller's (multi-thread) runtime.
//!   Either can be used from plain threads and from async code: called on a
//!   runtime's thread, a method steps out of it ([`tokio::task::block_in_place`])
//!   while it waits, and [`Cluster::run`] moves a whole use case to a
//!   blocking thread.
//! - [`Cluster::discover`]: group/version/kind -> resource and scope ([`Discovery`]).
//! - [`Cluster::list`]: live objects, one LIST per resource and namespace; [`Cluster::get`] for single objects.
//! - [`Cluster::apply`]: server-side apply (field manager [`keys::FIELD_MANAGER`]), dry-run or real.
//! - [`Cluster::delete`]: deletion with a propagation policy and a uid precondition.
//!
//! [`compare`] builds on these: it pairs each desired object with its live
//! state and the state the server predicts after an apply (diff, sync).
//! Every request retries transient failures with backoff ([`request`]).

pub mod compare;
mod config;
pub mod csa;
mod discovery;
pub mod lease;
mod request;
mod transport;
pub mod watch;
pub mod write;

pub use config::{ConnectOptions, DEFAULT_CONCURRENCY, user_name};
pub use discovery::{Discovery, ResourceInfo};
pub use request::Target;

use std::collections::BTreeSet;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::keys;
use crate::model::Gvk;

/// A connection to one cluster, and the runtime that drives its requests.
pub struct Cluster {
    /// The runtime [`Cluster::connect`] made (shut down in the background on drop,
    /// so that dropping a `Cluster` inside async code is safe); `None` for
    /// [`Cluster::from_client`], which uses the caller's.
    own_runtime: Option<tokio::runtime::Runtime>,
    /// Where requests run: the own runtime's handle, or the caller's.
    handle: tokio::runtime::Handle,
    client: kube::Client,
    namespace: String,
    concurrency: usize,
    user: String,
    /// The server's patch strategies, read once when a client-side apply needs them.
    patch_schema: std::sync::OnceLock<std::sync::Arc<csa::PatchSchema>>,
    /// The run's deadline for every request ([`Cluster::set_deadline`]).
    deadline: request::Deadline,
}

/// One collection to read: a resource in a namespace (`""`: all namespaces
/// or cluster-scoped), optionally filtered by a label selector.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub resource: ResourceInfo,
    pub namespace: String,
    pub label_selector: Option<String>,
}

/// Server-side apply settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// `dryRun=All`: the server computes the result and stores nothing.
    pub dry_run: bool,
    /// Take over fields owned by other managers (`--force-conflicts`).
    pub force: bool,
}

/// Items per page of a LIST.
const PAGE: u32 = 500;

/// The first page of a LIST ([`Cluster::list_first_pages`]).
#[derive(Debug, Clone, Default)]
pub struct FirstPage {
    /// The page's items, with `apiVersion` and `kind` set.
    pub items: Vec<Value>,
    /// Items after this page: `Some(n)` when the server counted them
    /// (`remainingItemCount`), `Some(0)` when this page is the whole
    /// collection, `None` when there are more but the server did not say how many.
    pub remaining: Option<u64>,
}

impl FirstPage {
    /// How many objects the collection holds, and whether that is exact (else a lower bound).
    pub fn total(&self) -> (u64, bool) {
        let n = self.items.len() as u64;
        match self.remaining {
            Some(r) => (n + r, true),
            None => (n + 1, false),
        }
    }
}

impl Cluster {
    /// Load the configuration and build a client (no request is sent yet).
    pub fn connect(opts: &ConnectOptions) -> Result<Cluster> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::io("<tokio runtime>", e))?;
        let handle = rt.handle().clone();
        let config = drive(&handle, config::load(opts))?;
        let namespace = config.default_namespace.clone();
        let deadline = request::Deadline::default();
        let client = {
            let _guard = handle.enter();
            transport::client(config, deadline.clone())?
        };
        let user = config::user_name(opts);
        Ok(Cluster {
            own_runtime: Some(rt),
            handle,
            client,
            namespace,
            concurrency: opts.concurrency.max(1),
            user,
            patch_schema: std::sync::OnceLock::new(),
            deadline,
        })
    }

    /// A `Cluster` over a client the caller built (its own TLS, auth and
    /// timeouts; the run's deadline ([`Cluster::set_deadline`]) then stops
    /// retries but does not cut a request in flight). Call it inside a
    /// multi-thread tokio runtime, which drives every request: the blocking
    /// methods wait on it from any thread (a current-thread runtime would
    /// have to be blocked to wait, so it is refused). The default namespace
    /// is the client's; requests in flight at once default to
    /// [`DEFAULT_CONCURRENCY`] ([`Cluster::with_concurrency`]).
    pub fn from_client(client: kube::Client) -> Result<Cluster> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Usage("Cluster::from_client must be called inside a tokio runtime (multi-thread)".into())
        })?;
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return Err(Error::Usage(
                "Cluster::from_client needs a multi-thread tokio runtime: a current-thread runtime cannot drive \
                 requests while a blocking call waits on them"
                    .into(),
            ));
        }
        Ok(Cluster {
            own_runtime: None,
            handle,
            namespace: client.default_namespace().to_string(),
            client,
            concurrency: DEFAULT_CONCURRENCY,
            user: String::new(),
            patch_schema: std::sync::OnceLock::new(),
            deadline: request::Deadline::default(),
        })
    }

    /// Requests in flight at once (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Cluster {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The namespace for objects that do not set one.
    pub fn with_namespace(mut self, namespace: &str) -> Cluster {
        self.namespace = namespace.to_string();
        self
    }

    /// The user name recorded in the sync history.
    pub fn with_user(mut self, user: &str) -> Cluster {
        self.user = user.to_string();
        self
    }

    /// The client under this cluster (for requests this crate does not make).
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// Run `work` (a use case: render, diff, sync... all blocking) on a
    /// blocking thread of the runtime and await it, so async code calls the
    /// library without holding up a runtime thread. A panic in `work` comes
    /// back as [`Error::Internal`].
    pub async fn run<T, F>(self: &std::sync::Arc<Self>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Cluster) -> Result<T> + Send + 'static,
    {
        let cluster = std::sync::Arc::clone(self);
        match self.handle.spawn_blocking(move || work(&cluster)).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(Error::from_panic(&*e.into_panic())),
            Err(e) => Err(Error::Internal(format!("a cluster task ended early: {e}"))),
        }
    }

    /// Wait for `future` on this cluster's runtime (see [`drive`]).
    fn block_on<F>(&self, future: F) -> F::Output
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        drive(&self.handle, future)
    }

    /// Bound every request from now on by `at` (`None`: no bound): a
    /// request still unanswered then fails, and none is retried after it.
    pub fn set_deadline(&self, at: Option<std::time::Instant>) {
        self.deadline.set(at);
    }

    /// The current deadline, if any.
    pub fn deadline(&self) -> Option<std::time::Instant> {
        self.deadline.get()
    }

    /// The namespace for objects that do not set one: `--namespace`, else the context's, else `default`.
    pub fn default_namespace(&self) -> &str {
        &self.namespace
    }

    /// The kubeconfig context's user name (recorded in the sync history).
    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Run futures with at most `concurrency` in flight (a slow one does not
    /// hold back the others), results in input order.
    fn bounded<T: Send, F: std::future::Future<Output = T> + Send>(
        &self,
        futures: impl Iterator<Item = F> + Send,
    ) -> Vec<T> {
        let mut results: Vec<(usize, T)> = self.block_on(
            futures::stream::iter(futures.enumerate().map(|(i, f)| async move { (i, f.await) }))
                .buffer_unordered(self.concurrency)
                .collect(),
        );
        results.sort_unstable_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    /// Discover the resources of the group-versions of `gvks`.
    pub fn discover<'a>(&self, gvks: impl IntoIterator<Item = &'a Gvk>) -> Result<Discovery> {
        let gvs: BTreeSet<(String, String)> = gvks.into_iter().map(|g| (g.group.clone(), g.version.clone())).collect();
        self.block_on(discovery::discover(&self.client, &gvs, self.concurrency))
    }

    /// Read collections, concurrently; each result holds the items of one
    /// request (all pages), with `apiVersion` and `kind` set.
    pub fn list(&self, requests: &[ListRequest]) -> Result<Vec<Vec<Value>>> {
        self.bounded(requests.iter().map(|r| list_all(&self.client, r))).into_iter().collect()
    }

    /// The first page (at most `limit` items) of each collection, concurrently:
    /// enough to count a collection without reading it all (the server's
    /// `remainingItemCount` says how many more there are, when it knows).
    /// Results in input order.
    pub fn list_first_pages(&self, requests: &[ListRequest], limit: u32) -> Vec<Result<FirstPage>> {
        self.bounded(requests.iter().map(|r| first_page(&self.client, r, limit.max(1))))
    }

    /// Server-side apply each object (field manager `kubectl-gitops`),
    /// concurrently; results in input order. An object's namespace is taken
    /// from its metadata.
    pub fn apply(&self, objects: &[(&ResourceInfo, &Value)], opts: ApplyOptions) -> Vec<Result<Value>> {
        self.bounded(objects.iter().map(|(res, obj)| apply_one(&self.client, res, obj, opts)))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Dropping a runtime blocks until its tasks end, which tokio forbids
        // inside async code; nothing of ours needs to finish here.
        if let Some(rt) = self.own_runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Wait for `future` on the runtime of `handle`, from any thread: on a
/// thread of a multi-thread runtime by stepping out of it while waiting
/// ([`tokio::task::block_in_place`]); on a current-thread runtime's thread,
/// which must not block, from a scoped thread of its own; elsewhere directly.
fn drive<F>(handle: &tokio::runtime::Handle, future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => handle.block_on(future),
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(|| handle.block_on(future)),
        Ok(_) => std::thread::scope(|s| {
            s.spawn(|| handle.block_on(future)).join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        }),
    }
}

/// One object to read.
#[derive(Debug, Clone)]
pub struct GetRequest {
    pub resource: ResourceInfo,
    /// `""` for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl Cluster {
    /// Read single objects, concurrently; `None` when absent. Results in input order.
    pub fn get(&self, requests: &[GetRequest]) -> Vec<Result<Option<Value>>> {
        self.bounded(requests.iter().map(|r| get_one(&self.client, r)))
    }
}

async fn get_one(client: &kube::Client, r: &GetRequest) -> Result<Option<Value>> {
    let resource = r.resource.resource_name();
    let target = Target { verb: "get", resource: &resource, namespace: &r.namespace, name: &r.name };
    let req = kube::core::Request::new(r.resource.collection_path(&r.namespace));
    match request::send::<Value>(client, &target, || req.get(&r.name, &kube::api::GetParams::default())).await {
        Ok(mut v) => {
            if let Value::Object(m) = &mut v {
                m.entry("apiVersion").or_insert_with(|| json!(r.resource.api_version()));
                m.entry("kind").or_insert_with(|| json!(r.resource.kind));
            }
            Ok(Some(v))
        }
        Err(Error::Api(f)) if f.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// How dependents of a deleted object are handled (`--cascade`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Delete now, garbage-collect dependents in the background (kubectl's default).
    #[default]
    Background,
    /// Delete dependents first.
    Foreground,
    /// Leave dependents in place.
    Orphan,
}

impl Propagation {
    fn as_str(self) -> &'static str {
        match self {
            Propagation::Background => "Background",
            Propagation::Foreground => "Foreground",
            Propagation::Orphan => "Orphan",
        }
    }
}

/// One object to delete.
#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub resource: ResourceInfo,
    /// `""` for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
    /// Only delete this exact object (`preconditions.uid`), not a same-named successor.
    pub uid: Option<String>,
    /// Only delete it unchanged since this version (`preconditions.resourceVersion`).
    pub resource_version: Option<String>,
}

impl Cluster {
    /// Delete objects, concurrently; results in input order. An object
    /// already gone counts as deleted (`Ok(false)`); `Ok(true)` when this
    /// request deleted it.
    pub fn delete(&self, requests: &[DeleteRequest], propagation: Propagation, dry_run: bool) -> Vec<Result<bool>> {
        self.bounded(requests.iter().map(|r| delete_one(&self.client, r, propagation, dry_run)))
    }
}

async fn delete_one(client: &kube::Client, r: &DeleteRequest, propagation: Propagation, dry_run: bool) -> Result<bool> {
    let resource = r.resource.resource_name();
    let target = Target { verb: "delete", resource: &resource, namespace: &r.namespace, name: &r.name };
    let path = format!("{}/{}", r.resource.collection_path(&r.namespace), r.name);
    let mut body = json!({"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation.as_str()});
    if dry_run {
        body["dryRun"] = json!(["All"]);
    }
    if let Some(uid) = &r.uid {
        body["preconditions"]["uid"] = json!(uid);
    }
    if let Some(rv) = &r.resource_version {
        body["preconditions"]["resourceVersion"] = json!(rv);
    }
    let bytes = serde_json::to_vec(&body).expect("JSON");
    let build = || {
        http::Request::delete(&path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(bytes.clone())
            .map_err(kube::core::request::Error::BuildRequest)
    };
    match request::send::<Value>(client, &target, build).await {
        Ok(_) => Ok(true),
        Err(Error::Api(f)) if f.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

async fn list_all(client: &kube::Client, r: &ListRequest) -> Result<Vec<Value>> {
    let path = r.resource.collection_path(&r.namespace);
    let resource = r.resource.resource_name();
    let target = Target { verb: "list", resource: &resource, namespace: &r.namespace, name: "" };
    let req = kube::core::Request::new(&path);
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = kube::api::ListParams::default().limit(PAGE);
        if let Some(sel) = &r.label_selector {
            lp = lp.labels(sel);
        }
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let mut page: Value = request::send(client, &target, || req.list(&lp)).await?;
        if let Some(Value::Array(batch)) = page.get_mut("items").map(Value::take) {
            for mut item in batch {
                // Built-in kinds come without apiVersion and kind in lists.
                if let Value::Object(m) = &mut item {
                    m.insert("apiVersion".into(), json!(r.resource.api_version()));
                    m.insert("kind".into(), json!(r.resource.kind));
                }
                items.push(item);
            }
        }
        token = page.pointer("/metadata/continue").and_then(Value::as_str).filter(|t| !t.is_empty()).map(String::from);
        if token.is_none() {
            return Ok(items);
        }
    }
}

async fn first_page(client: &kube::Client, r: &ListRequest, limit: u32) -> Result<FirstPage> {
    let path = r.resource.collection_path(&r.namespace);
    let resource = r.resource.resource_name();
    let target = Target { verb: "list", resource: &resource, namespace: &r.namespace, name: "" };
    let req = kube::core::Request::new(&path);
    let mut lp = kube::api::ListParams::default().limit(limit);
    if let Some(sel) = &r.label_selector {
        lp = lp.labels(sel);
    }
    let mut page: Value = request::send(client, &target, || req.list(&lp)).await?;
    let mut items = Vec::new();
    if let Some(Value::Array(batch)) = page.get_mut("items").map(Value::take) {
        for mut item in batch {
            if let Value::Object(m) = &mut item {
                m.insert("apiVersion".into(), json!(r.resource.api_version()));
                m.insert("kind".into(), json!(r.resource.kind));
            }
            items.push(item);
        }
    }
    let more = page.pointer("/metadata/continue").and_then(Value::as_str).is_some_and(|t| !t.is_empty());
    let counted = page.pointer("/metadata/remainingItemCount").and_then(Value::as_u64);
    let remaining = match (more, counted) {
        (false, _) => Some(0),
        (true, Some(n)) => Some(n),
        (true, None) => None,
    };
    Ok(FirstPage { items, remaining })
}

async fn apply_one(client: &kube::Client, res: &ResourceInfo, obj: &Value, opts: ApplyOptions) -> Result<Value> {
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let resource = res.resource_name();
    let target = Target { verb: "patch", resource: &resource, namespace: ns, name };
    let req = kube::core::Request::new(res.collection_path(ns));
    let mut pp = kube::api::PatchParams::apply(keys::FIELD_MANAGER);
    pp.dry_run = opts.dry_run;
    pp.force = opts.force;
    let patch = kube::api::Patch::Apply(obj);
    request::send(client, &target, || req.patch(name, &pp, &patch)).await
}
