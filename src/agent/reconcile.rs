//! One reconcile of one app, on a worker thread, blocking: fetch its
//! repositories (once per round: the first app of a round to need a
//! repository fetches it, the others wait for that fetch and share it),
//! render it from the cache, compare it with its cluster
//! ([`usecase::status`]), decide ([`Memory::decide`]) and, when the
//! decision and the leadership allow, sync it ([`usecase::sync`]).
//!
//! Every failure is this app's: it ends up in its [`AppReport`] and never
//! reaches another app.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::leader::Leadership;
use super::state::{AttemptKey, Compared, Decision, Memory, spec_digest};
use crate::cluster::watch::WatchSet;
use crate::cluster::{Cluster, ConnectOptions};
use crate::error::{Error, Result};
use crate::fleet::select;
use crate::source::SourceRequest;
use crate::source::app::Application;
use crate::source::git::{Cache, GitOptions};
use crate::status::AppStatus;
use crate::sync::{Entry, LiveItem, Outcome, SyncUi};
use crate::usecase::{self, SourceSpec, SyncRequest};

/// One app's last reconcile, as `/status` serves it and the log line says it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppReport {
    pub app: String,
    /// The kubeconfig context its destination resolved to (`in-cluster`).
    pub context: String,
    pub automated: bool,
    pub self_heal: bool,
    /// `Synced`, `OutOfSync`, or `Unknown` when the app could not be compared.
    pub sync: String,
    pub health: String,
    /// The commit the source resolves to.
    pub revision: Option<String>,
    /// The commit of the app's last successful sync.
    pub synced_revision: Option<String>,
    /// What this reconcile did: `none`, `synced`, `healed`, or why not.
    pub action: String,
    /// The objects a sync or heal wrote (`Kind ns/name outcome`).
    pub written: Vec<String>,
    /// Why this reconcile failed.
    pub error: Option<String>,
    /// Syncs, heals and failed syncs since the agent started.
    pub syncs: u64,
    pub heals: u64,
    pub failures: u64,
}

impl AppReport {
    fn new(app: &Application, context: String) -> AppReport {
        let auto = app.sync_policy.as_ref().and_then(|p| p.automated.as_ref()).filter(|a| a.enabled);
        AppReport {
            app: app.name.clone(),
            context,
            automated: auto.is_some(),
            self_heal: auto.is_some_and(|a| a.self_heal),
            sync: "Unknown".into(),
            health: "Unknown".into(),
            revision: None,
            synced_revision: None,
            action: "none".into(),
            written: Vec::new(),
            error: None,
            syncs: 0,
            heals: 0,
            failures: 0,
        }
    }

    /// The log line: `web [in-cluster] synced: Synced Healthy at 1a2b3c4 (synced 1a2b3c4)`.
    pub fn line(&self) -> String {
        let short = |r: &Option<String>| r.as_deref().map_or("-".to_string(), |r| r.chars().take(7).collect());
        let mut s = format!(
            "{} [{}] {}: {} {} at {} (synced {})",
            self.app,
            self.context,
            self.action,
            self.sync,
            self.health,
            short(&self.revision),
            short(&self.synced_revision)
        );
        if !self.written.is_empty() {
            s.push_str(&format!("; wrote {}", self.written.join(", ")));
        }
        if let Some(e) = &self.error {
            s.push_str(&format!("; error: {}", e.lines().next().unwrap_or("")));
        }
        s
    }
}

/// What a worker needs, shared by all of them.
pub struct Context {
    /// Render settings every app shares; each app's request is its Application.
    pub source: SourceSpec,
    pub git: GitOptions,
    pub cache: Cache,
    pub kubeconfig_path: Option<PathBuf>,
    pub kubeconfig: Option<kube::config::Kubeconfig>,
    pub concurrency: usize,
    pub sync: SyncRequest,
    pub leader: Option<Leadership>,
    /// Per repository: the fetch generation done and its outcome.
    fetches: Mutex<HashMap<String, Arc<Mutex<Fetched>>>>,
    /// Watch each app's objects (`--watch`).
    pub watch: bool,
    watchers: Mutex<HashMap<String, Watcher>>,
    /// Apps whose objects changed since the scheduler last looked.
    changed: Arc<Mutex<HashSet<String>>>,
}

/// The watches on one app's objects, with the connection they use.
struct Watcher {
    /// What is watched: (resource, namespace) of each collection.
    key: Vec<String>,
    _set: WatchSet,
    _cluster: Cluster,
}

#[derive(Default)]
struct Fetched {
    generation: u64,
    /// Why the last fetch failed.
    error: Option<String>,
}

impl Context {
    pub fn new(
        source: SourceSpec,
        git: GitOptions,
        cache: Cache,
        kubeconfig_path: Option<PathBuf>,
        concurrency: usize,
        sync: SyncRequest,
        leader: Option<Leadership>,
    ) -> Result<Context> {
        let kubeconfig = crate::fleet::read_kubeconfig(kubeconfig_path.as_deref())?;
        Ok(Context {
            source,
            git,
            cache,
            kubeconfig_path,
            kubeconfig,
            concurrency,
            sync,
            leader,
            fetches: Mutex::new(HashMap::new()),
            watch: false,
            watchers: Mutex::new(HashMap::new()),
            changed: Arc::new(Mutex::new(HashSet::new())),
        })
    }

    /// The apps whose watched objects changed since the last call.
    pub fn take_changed(&self) -> Vec<String> {
        self.changed.lock().unwrap_or_else(|e| e.into_inner()).drain().collect()
    }

    /// Forget the watches of apps not in `keep`.
    pub fn retain_watches(&self, keep: impl Fn(&str) -> bool) {
        self.watchers.lock().unwrap_or_else(|e| e.into_inner()).retain(|app, _| keep(app));
    }

    /// Watch the collections app `app`'s rendered objects live in (by its
    /// part-of label), unless they are watched already; a new connection
    /// (`conn`) carries the watches.
    fn watch_app(
        &self,
        app: &str,
        conn: &ConnectOptions,
        rendered: &usecase::Rendered,
        cluster: &Cluster,
    ) -> Result<()> {
        let id = self.sync.parent_kind.reference(cluster.default_namespace(), app).id();
        let gvks: Vec<crate::model::Gvk> = rendered.objects.iter().map(|o| o.gvk()).collect();
        let discovery = cluster.discover(&gvks)?;
        let mut requests = Vec::new();
        let mut key = Vec::new();
        for o in &rendered.objects {
            let Some(res) = discovery.resource(&o.gvk()) else { continue };
            let ns = if res.namespaced { o.namespace().unwrap_or(cluster.default_namespace()) } else { "" };
            let k = format!("{} {ns}", res.collection_path(ns));
            if !key.contains(&k) {
                key.push(k);
                requests.push(crate::cluster::ListRequest {
                    resource: res.clone(),
                    namespace: ns.to_string(),
                    label_selector: Some(format!("{}={id}", crate::applyset::PART_OF_LABEL)),
                });
            }
        }
        key.sort();
        if self.watchers.lock().unwrap_or_else(|e| e.into_inner()).get(app).is_some_and(|w| w.key == key) {
            return Ok(());
        }
        let watcher_cluster = Cluster::connect(conn)?;
        let (changed, name) = (self.changed.clone(), app.to_string());
        let set = watcher_cluster.watch_changes(
            &requests,
            Arc::new(move || {
                changed.lock().unwrap_or_else(|e| e.into_inner()).insert(name.clone());
            }),
        );
        tracing::debug!("{app}: watching {} collections", requests.len());
        let w = Watcher { key, _set: set, _cluster: watcher_cluster };
        self.watchers.lock().unwrap_or_else(|e| e.into_inner()).insert(app.to_string(), w);
        Ok(())
    }

    /// Whether this replica may write (no election: always).
    pub fn may_write(&self) -> bool {
        self.leader.as_ref().is_none_or(Leadership::is_leader)
    }

    /// Fetch `repo` unless a fetch of generation `generation` or later was
    /// done; concurrent callers for one repository wait for one fetch.
    fn fetch(&self, repo: &str, generation: u64) -> std::result::Result<(), String> {
        let slot = self.fetches.lock().unwrap_or_else(|e| e.into_inner()).entry(repo.to_string()).or_default().clone();
        let mut f = slot.lock().unwrap_or_else(|e| e.into_inner());
        if f.generation < generation {
            f.error = crate::source::git::fetch(repo, &self.git, &self.cache).err().map(|e| e.to_string());
            f.generation = generation;
        }
        f.error.clone().map_or(Ok(()), Err)
    }

    /// Stop campaigning (releasing a held Lease).
    pub fn stop(&mut self) {
        if let Some(l) = self.leader.take() {
            l.stop();
        }
    }
}

/// One reconcile to run.
pub struct Job {
    pub app: Application,
    /// The Application file or directory it was read from.
    pub file: PathBuf,
    /// Its repositories and the fetch generation each must have reached.
    pub repos: Vec<(String, u64)>,
    pub memory: Memory,
}

/// A finished reconcile.
pub struct Done {
    pub report: AppReport,
    pub memory: Memory,
    /// Look at the app again then (a heal waiting for its backoff).
    pub recheck: Option<Instant>,
    /// How long the reconcile took.
    pub took: Duration,
}

/// Reconcile one app; never panics out (a panic is this app's error).
pub fn run(ctx: &Context, job: Job) -> Done {
    let started = Instant::now();
    let name = job.app.name.clone();
    let mut memory = job.memory.clone();
    let mut report = AppReport::new(&job.app, "?".into());
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reconcile(ctx, &job, &mut memory, &mut report)));
    let recheck = match outcome {
        Ok(Ok(recheck)) => recheck,
        Ok(Err(e)) => {
            report.error = Some(e.to_string());
            None
        }
        Err(payload) => {
            report.error = Some(crate::fleet::panic_message(&*payload));
            None
        }
    };
    if report.error.is_some() && report.action == "none" {
        report.action = "failed".into();
    }
    report.syncs = memory.syncs;
    report.heals = memory.total_heals;
    report.failures = memory.failures;
    debug_assert_eq!(report.app, name);
    Done { report, memory, recheck, took: started.elapsed() }
}

fn reconcile(ctx: &Context, job: &Job, memory: &mut Memory, report: &mut AppReport) -> Result<Option<Instant>> {
    let app = &job.app;
    for (repo, generation) in &job.repos {
        ctx.fetch(repo, *generation).map_err(|e| {
            let repo = crate::source::git::redact_url(repo);
            let message = e.strip_prefix(&format!("{repo}: ")).unwrap_or(&e).to_string();
            Error::Git { repo, message }
        })?;
    }
    let destination = crate::source::app::resolve_destination(&app.destination, ctx.kubeconfig.as_ref())?;
    report.context = select::context_label(destination.context.as_deref()).to_string();
    let mut spec = ctx.source.for_application(&app.name, true);
    if let SourceRequest::App { file, .. } = &mut spec.request {
        *file = job.file.clone();
    }
    let rendered = usecase::render(&spec)?;
    let server = select::server_of(ctx.kubeconfig.as_ref(), destination.context.as_deref());
    select::probe(&server, crate::fleet::PROBE_TIMEOUT).map_err(|why| {
        let server = server.url.as_deref().map(|u| format!(" (server {u})")).unwrap_or_default();
        Error::ClusterConfig(format!("context {}{server} is unreachable: {why}", report.context))
    })?;
    let conn = ConnectOptions {
        kubeconfig: ctx.kubeconfig_path.clone(),
        context: destination.context.clone(),
        namespace: destination.namespace.clone(),
        concurrency: ctx.concurrency,
    };
    let cluster = Cluster::connect(&conn)?;
    let status = compare(&cluster, &rendered, &app.name, ctx)?;
    set_status(report, &status);
    if ctx.watch
        && let Err(e) = ctx.watch_app(&app.name, &conn, &rendered, &cluster)
    {
        tracing::warn!("{}: cannot watch its objects (the periodic comparison still runs): {e}", app.name);
    }

    let automated = app.sync_policy.as_ref().and_then(|p| p.automated.as_ref());
    let spec_key = spec_digest(app);
    let compared = Compared {
        in_sync: status.sync == crate::status::SyncStatus::Synced,
        revision: &status.source_revision,
        deployed: status.deployed_revision.as_deref(),
        failed_in_history: failed_revision(&status),
    };
    let decision = memory.decide(automated, &spec_key, &compared, Instant::now());
    let heal = match decision {
        Decision::ReportOnly => {
            report.action =
                if status.sync == crate::status::SyncStatus::Synced { "none" } else { "out of sync (manual)" }.into();
            return Ok(None);
        }
        Decision::InSync => return Ok(None),
        Decision::SkipFailed => {
            report.action = "not retried".into();
            report.error = Some(format!(
                "the sync of {} failed before: not retried until a new commit or a change to the Application",
                status.source_revision
            ));
            return Ok(None);
        }
        Decision::Drift => {
            report.action = "drifted (no selfHeal)".into();
            return Ok(None);
        }
        Decision::HealAt(at) => {
            report.action =
                format!("drifted: next heal in {}s", at.saturating_duration_since(Instant::now()).as_secs());
            return Ok(Some(at));
        }
        Decision::Sync => false,
        Decision::Heal => true,
    };
    if !ctx.may_write() {
        report.action = format!(
            "standby: would {} (leader: {})",
            if heal { "heal" } else { "sync" },
            ctx.leader.as_ref().map(Leadership::holder).unwrap_or_default()
        );
        return Ok(None);
    }
    let auto = automated.expect("decided to sync an automated app");
    let mut opts = usecase::sync_options(&ctx.sync, &app.name, &rendered, &cluster)?;
    opts.prune = auto.prune;
    opts.allow_empty |= auto.allow_empty;
    // The history says the agent ran this sync.
    if let Some(h) = &mut opts.history {
        h.user = format!("{} (agent)", h.user);
    }
    // Git wins over whoever edited the live object (Argo CD's server-side
    // apply forces too): without it a heal of a `kubectl edit` would conflict.
    opts.force_conflicts = true;
    let mut ui = AgentUi { app: &app.name, written: Vec::new() };
    let result = guarded(ctx, &cluster, || usecase::sync(&cluster, &rendered, &opts, &mut ui));
    let failed = match &result {
        Ok(r) => r.error.clone(),
        Err(e) => Some(e.to_string()),
    };
    let key = AttemptKey { revision: status.source_revision.clone(), spec: spec_key };
    memory.attempted(key, heal, failed.is_some(), Instant::now());
    report.written = ui.written;
    report.action = match (heal, &failed) {
        (false, None) => "synced",
        (true, None) => "healed",
        (false, Some(_)) => "sync failed",
        (true, Some(_)) => "heal failed",
    }
    .into();
    event(&cluster, ctx, &app.name, heal, failed.as_deref(), &report.written, &status.source_revision);
    if let Some(why) = failed {
        report.error = Some(why);
        return Ok(None);
    }
    // What the sync left: compared again.
    let after = compare(&cluster, &rendered, &app.name, ctx)?;
    set_status(report, &after);
    Ok(None)
}

fn compare(cluster: &Cluster, rendered: &usecase::Rendered, app: &str, ctx: &Context) -> Result<AppStatus> {
    cluster.set_deadline(Some(Instant::now() + ctx.sync.timeout));
    let status = usecase::status(cluster, rendered, app, ctx.sync.parent_kind);
    cluster.set_deadline(None);
    status
}

fn set_status(report: &mut AppReport, status: &AppStatus) {
    report.sync = status.sync.as_str().to_string();
    report.health = status.health.as_str().to_string();
    report.revision = Some(status.source_revision.clone());
    report.synced_revision = status.deployed_revision.clone();
}

/// The revision of the app's last recorded sync, when that sync failed.
fn failed_revision(status: &AppStatus) -> Option<&str> {
    let last = status.last_sync.as_ref()?;
    last.result.starts_with("Failed").then_some(last.source.revision.as_str())
}

/// A Kubernetes Event on the app's ApplySet parent for a sync or heal
/// (`Synced`, `Healed`; `SyncFailed`, `HealFailed` as warnings), so that
/// `kubectl describe` and event collectors see what the agent did. An
/// Event that cannot be written is logged, never the app's failure.
fn event(cluster: &Cluster, ctx: &Context, app: &str, heal: bool, failed: Option<&str>, written: &[String], rev: &str) {
    let parent = ctx.sync.parent_kind.reference(cluster.default_namespace(), app);
    let (reason, kind) = match (heal, failed) {
        (false, None) => ("Synced", "Normal"),
        (true, None) => ("Healed", "Normal"),
        (false, Some(_)) => ("SyncFailed", "Warning"),
        (true, Some(_)) => ("HealFailed", "Warning"),
    };
    let mut message = match failed {
        None => format!("{reason} to {rev}: {} objects written", written.len()),
        Some(why) => format!("sync of {rev} failed: {why}"),
    };
    // An Event is a note: its first line, at most 1,000 characters (the log and /status have the rest).
    if let Some(first) = message.lines().next() {
        message = first.chars().take(1000).collect();
    }
    let now = k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let body = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": format!("{}.", parent.name), "namespace": parent.namespace},
        "involvedObject": {
            "apiVersion": if parent.group.is_empty() { parent.version.clone() } else { format!("{}/{}", parent.group, parent.version) },
            "kind": parent.kind,
            "name": parent.name,
            "namespace": parent.namespace,
        },
        "reason": reason,
        "message": message,
        "type": kind,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "source": {"component": "kubectl-gitops-agent"},
    });
    let res = crate::cluster::ResourceInfo {
        group: String::new(),
        version: "v1".into(),
        kind: "Event".into(),
        plural: "events".into(),
        namespaced: true,
    };
    cluster.set_deadline(Some(Instant::now() + Duration::from_secs(10)));
    if let Err(e) = cluster.create(&res, &body) {
        tracing::warn!("{app}: writing the {reason} event: {e}");
    }
    cluster.set_deadline(None);
}

/// Run `sync` while watching the leadership: once this replica is no
/// longer the leader, every further request of `cluster` fails at once
/// (its deadline is set to now), so the sync stops before its next write.
fn guarded<T>(ctx: &Context, cluster: &Cluster, sync: impl FnOnce() -> T) -> T {
    let Some(leader) = &ctx.leader else { return sync() };
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if !leader.is_leader() {
                    tracing::warn!("no longer the leader: stopping the sync in progress");
                    cluster.set_deadline(Some(Instant::now()));
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let out = sync();
        done.store(true, Ordering::SeqCst);
        out
    })
}

/// Sync progress of an agent: logged, never asked (an automated sync's
/// prune is the Application's own `prune: true`).
struct AgentUi<'a> {
    app: &'a str,
    written: Vec<String>,
}

impl SyncUi for AgentUi<'_> {
    fn step(&mut self, line: &str) {
        tracing::info!("{}: {line}", self.app);
    }

    fn object(&mut self, entry: &Entry, _dry_run: bool) {
        tracing::debug!("{}: {}", self.app, entry.line(false));
        if !matches!(entry.outcome, Outcome::Unchanged | Outcome::Kept) {
            self.written.push(format!("{} {}", entry.label(), entry.outcome.as_str()));
        }
    }

    fn confirm_prune(&mut self, _items: &[LiveItem]) -> bool {
        true
    }
}
