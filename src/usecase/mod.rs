//! The use cases every front end shares: render, diff, status and sync of
//! one app, as plain library calls. The command line, the many-app
//! runs (`crate::fleet`), tests and programs embedding this crate all go
//! through here; none of it knows about command lines or terminals.
//!
//! An app is described by a [`SourceSpec`] (where its manifests come from
//! and how they render) and, for the cluster use cases, its name. Each
//! call returns a typed report; what a front end prints is its own choice.
//!
//! ```no_run
//! use kubectl_gitops::cluster::{Cluster, ConnectOptions};
//! use kubectl_gitops::usecase::{self, SourceSpec};
//!
//! let spec = SourceSpec::local("./config");
//! let rendered = usecase::render(&spec)?;
//! let cluster = Cluster::connect(&ConnectOptions { concurrency: 16, ..Default::default() })?;
//! let report = usecase::diff(&cluster, &rendered, &usecase::DiffRequest::named("web"))?;
//! println!("{} objects differ", report.changed());
//! # Ok::<(), kubectl_gitops::Error>(())
//! ```

use std::path::PathBuf;

use serde::Serialize;

use crate::applyset::ParentRef;
use crate::cluster::{Cluster, compare};
use crate::diff::{Action, DiffOptions, ObjectDiff, diff_object};
use crate::error::{Error, Result};
use crate::history::RenderRecord;
use crate::history::{HistoryEntry, HistorySource};
use crate::model::{Object, ObjectKey, Origin};
use crate::normalize::{NormalizeOptions, ObjectSet, normalize};
use crate::render::RenderOptions;
use crate::source::{Resolved, SourceRequest, merge_source_objects, resolve};
use crate::status::AppStatus;
use crate::sync::parent::ParentKind;
use crate::sync::retry::RetryPolicy;
use crate::sync::{SyncOptions, SyncReport, SyncUi};

/// Where an app's manifests come from and how they render.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    /// A local path, a git repository or an Application file.
    pub request: SourceRequest,
    /// Render settings (an Application's tool block overrides them).
    pub render: RenderOptions,
    /// The render settings as the history records them (values that may
    /// be secrets as digests, files by path and digest): what a sync writes
    /// into the app's record, so that `status APP` and `rollback` can render
    /// the app again.
    pub record: RenderRecord,
}

impl SourceSpec {
    /// A local directory or file, rendered with the default settings.
    pub fn local(path: impl Into<PathBuf>) -> Self {
        SourceSpec {
            request: SourceRequest::Local { path: path.into(), root: None },
            render: RenderOptions::default(),
            record: RenderRecord::default(),
        }
    }

    /// The same source narrowed to Application `name` of its Application
    /// file (a many-app run renders each app of one file this way);
    /// `offline` skips fetching a repository already fetched in this run.
    pub fn for_application(&self, name: &str, offline: bool) -> Self {
        let mut spec = self.clone();
        if let SourceRequest::App { name: n, offline: o, .. } = &mut spec.request {
            *n = Some(name.to_string());
            *o |= offline;
        }
        spec.record.app_name = Some(name.to_string());
        spec
    }
}

/// A rendered app: its objects (not normalized yet: the cluster's scopes
/// and default namespace are applied when it is compared) and where they
/// came from.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub objects: Vec<Object>,
    pub resolved: Resolved,
    /// The spec's render record (see [`SourceSpec::record`]).
    pub record: RenderRecord,
}

impl Rendered {
    /// The app's name: `flag`, else the name of the Application the source is.
    pub fn app_name(&self, flag: Option<&str>) -> Option<String> {
        flag.map(String::from).or_else(|| self.resolved.app.as_ref().map(|a| a.name.clone()))
    }

    /// The git commits the source resolved to: (repository, revision, commit).
    pub fn checkouts(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.resolved
            .parts
            .iter()
            .filter_map(|p| p.checkout.as_ref())
            .map(|c| (c.repo.as_str(), c.revision.as_str(), c.commit.as_str()))
    }

    /// The Application's `ignoreDifferences` and write settings as diff rules.
    pub fn diff_options(&self) -> DiffOptions {
        diff_options(&self.resolved)
    }

    /// Normalize offline: the set `render` prints. `namespace` wins over an
    /// Application's destination namespace.
    pub fn normalize(self, namespace: Option<&str>) -> Result<ObjectSet> {
        let default_namespace = namespace.map(String::from).or_else(|| self.resolved.default_namespace.clone());
        normalize(self.objects, &NormalizeOptions { default_namespace })
    }

    /// What the history records about this source, deployed to `namespace`:
    /// the first part's repository, path and commit (a local directory: its
    /// path, and `local:` with the hash of the normalized set); the render
    /// parameters, and any further source of a multi-source Application as
    /// `sources`.
    pub fn history_source(&self, namespace: &str) -> Result<HistorySource> {
        let mut parts = self.resolved.parts.iter().map(|p| p.history_source());
        let mut h = parts.next().unwrap_or_default();
        if h.revision.is_empty() {
            let set =
                normalize(self.objects.to_vec(), &NormalizeOptions { default_namespace: Some(namespace.to_string()) })?;
            h.revision = crate::status::local_revision(&set);
        }
        // The part's own record (a chart source names its chart) over the spec's.
        let own = std::mem::take(&mut h.render);
        h.render = RenderRecord {
            namespace: Some(namespace.to_string()),
            other_sources: parts.map(|p| format!("{} {} {}", p.repo_url, p.revision, p.path)).collect(),
            chart: own.chart.or_else(|| self.record.chart.clone()),
            ..self.record.clone()
        };
        Ok(h)
    }
}

/// Resolve (fetch a git source, read an Application) and render every part
/// of a source, in order.
pub fn render(spec: &SourceSpec) -> Result<Rendered> {
    let resolved = resolve(&spec.request, spec.render.clone(), None)?;
    let mut objects = Vec::new();
    for part in &resolved.parts {
        merge_source_objects(&mut objects, crate::render::render(&part.source, &part.options)?);
    }
    Ok(Rendered { objects, resolved, record: spec.record.clone() })
}

/// The Application's `ignoreDifferences` as diff rules, and its write settings.
pub fn diff_options(source: &Resolved) -> DiffOptions {
    let Some(app) = &source.app else { return DiffOptions::default() };
    let ignore = app
        .ignore_differences
        .iter()
        .map(|d| crate::diff::IgnoreRule {
            group: d.group.clone(),
            kind: d.kind.clone(),
            name: d.name.clone(),
            namespace: d.namespace.clone(),
            json_pointers: d.json_pointers.clone(),
            managed_fields_managers: d.managed_fields_managers.clone(),
            jq_path_expressions: d.jq_path_expressions.clone(),
        })
        .collect();
    let write = app.sync_policy.as_ref().map(|p| crate::plan::WriteDefaults::from_sync_options(&p.sync_options));
    DiffOptions { ignore, write: write.unwrap_or_default() }
}

/// What a diff compares as.
#[derive(Debug, Clone, Default)]
pub struct DiffRequest {
    /// The app's name (`None`: the Application's, else compared as an
    /// unnamed set: objects a sync applied are recognised by their label).
    pub name: Option<String>,
    pub parent_kind: ParentKind,
    /// Also show what a sync with prune would delete (needs a name).
    pub prune: bool,
}

impl DiffRequest {
    /// App `name`, its parent a Secret, no prune.
    pub fn named(name: &str) -> Self {
        DiffRequest { name: Some(name.to_string()), ..Default::default() }
    }
}

/// An object of the set that is a member of another app.
#[derive(Debug, Clone, Serialize)]
pub struct SharedObject {
    #[serde(serialize_with = "as_text")]
    pub key: ObjectKey,
    /// The other app (`ApplySet <id>`, or an Argo CD tracking id).
    pub owner: String,
    #[serde(skip)]
    pub origin: Origin,
}

fn as_text<S: serde::Serializer>(key: &ObjectKey, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(key)
}

/// The outcome of a diff.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// One per object of the set, then the deletions a prune would make.
    pub diffs: Vec<ObjectDiff>,
    /// Objects another app owns (a sync leaves them to their owner).
    pub shared: Vec<SharedObject>,
    /// The namespace objects without one were compared in.
    pub namespace: String,
}

impl DiffReport {
    /// How many objects differ.
    pub fn changed(&self) -> usize {
        self.diffs.iter().filter(|d| d.action != Action::None).count()
    }
}

/// Compare a rendered app with the cluster (server-side dry-run, or proofs
/// that nothing would change), as a sync of it would write.
pub fn diff(cluster: &Cluster, rendered: &Rendered, req: &DiffRequest) -> Result<DiffReport> {
    let name = rendered.app_name(req.name.as_deref());
    if req.prune && name.is_none() {
        return Err(Error::Usage("diff --prune needs the app's name: --name, or an Application source".into()));
    }
    let mut objects = rendered.objects.clone();
    let parent = name.as_ref().map(|app| req.parent_kind.reference(cluster.default_namespace(), app));
    if let Some(p) = &parent {
        crate::sync::label_members(&mut objects, &p.id())?;
    }
    let unlabelled = parent.is_none().then(|| objects.clone());
    let opts = rendered.diff_options();
    let mut resolved = compare::prepare_with(cluster, objects, opts.write)?;
    let mut comparisons = compare::compare(cluster, &resolved)?;
    // Without a name: objects a sync applied carry its part-of label; compare as that sync would.
    if let (Some(mut objects), Some(id)) = (unlabelled, crate::sync::synced_id(&comparisons)) {
        crate::sync::label_members(&mut objects, &id)?;
        resolved = compare::prepare_with(cluster, objects, opts.write)?;
        comparisons = compare::compare(cluster, &resolved)?;
    }
    let shared = match (&parent, &name) {
        (Some(p), Some(app)) => crate::sync::shared_objects(&comparisons, &p.id(), app)
            .into_iter()
            .map(|(key, owner, origin)| SharedObject { key, owner, origin })
            .collect(),
        _ => Vec::new(),
    };
    let mut diffs: Vec<_> =
        comparisons.iter().map(|c| diff_object(c.live.as_ref(), Some(&c.predicted), &opts)).collect();
    if let (true, Some(p)) = (req.prune, parent) {
        diffs.extend(prune_diffs(cluster, &resolved, p)?);
    }
    Ok(DiffReport { diffs, shared, namespace: cluster.default_namespace().to_string() })
}

/// `diff --prune`: deletion diffs of the prune candidates, then of what
/// garbage collection would remove with them (marked cascading).
pub fn prune_diffs(cluster: &Cluster, resolved: &compare::Resolved, reference: ParentRef) -> Result<Vec<ObjectDiff>> {
    let ns = reference.namespace.clone();
    let parent = crate::sync::parent::read(cluster, reference, true)?;
    let set = resolved.set.objects();
    let mut inv = parent.recorded.clone();
    inv.namespaces.insert(ns.clone());
    for o in set {
        inv.group_kinds.insert(crate::sync::prune::group_kind(o.group(), o.kind()));
        inv.namespaces.extend(o.namespace().map(String::from));
    }
    let keys = set.iter().map(|o| o.key()).collect();
    let plan = crate::sync::prune::plan_prune(cluster, &parent.id, &inv, &keys, &ns)?;
    let opts = DiffOptions::default();
    let mut out: Vec<_> = plan.delete.iter().map(|d| diff_object(Some(&d.live), None, &opts)).collect();
    let deps = crate::sync::prune::cascading(cluster, &plan.delete)?;
    let shown: std::collections::HashSet<&str> = deps.iter().map(|d| d.uid.as_str()).collect();
    for dep in &deps {
        let mut d = diff_object(Some(&dep.live), None, &opts);
        d.diff = format!("# cascading: garbage-collected with a pruned object\n{}", d.diff);
        out.push(d);
    }
    for c in &plan.crd_objects {
        let mut header = format!(
            "# cascading: deleted with CustomResourceDefinition {} ({} of kind {}, in every namespace)",
            c.crd,
            c.count_text(),
            c.kind
        );
        if c.count > c.listed.len() as u64 {
            header.push_str(&format!("; the first {} shown", c.listed.len()));
        }
        for item in c.listed.iter().filter(|i| !shown.contains(i.uid.as_str())) {
            let mut d = diff_object(Some(&item.live), None, &opts);
            d.diff = format!("{header}\n{}", d.diff);
            out.push(d);
        }
    }
    Ok(out)
}

/// Sync status and health of app `name` (its ApplySet parent of `parent_kind`).
pub fn status(cluster: &Cluster, rendered: &Rendered, name: &str, parent_kind: ParentKind) -> Result<AppStatus> {
    let revision = rendered.history_source(cluster.default_namespace())?.revision;
    crate::status::status(cluster, rendered.objects.clone(), name, parent_kind, revision, &rendered.diff_options())
}

/// How a sync runs, as a front end asks for it; [`sync_options`] adds what
/// the app's Application says.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    pub prune: bool,
    pub dry_run: bool,
    pub force_conflicts: bool,
    pub adopt: bool,
    pub fail_on_shared_resource: bool,
    pub allow_empty: bool,
    pub confirm_mass_prune: bool,
    pub prune_crds_with_objects: bool,
    pub cascade: crate::cluster::write::Cascade,
    pub wait: bool,
    pub timeout: std::time::Duration,
    pub create_namespace: bool,
    pub lock_duration: std::time::Duration,
    pub parent_kind: ParentKind,
    pub revision_history_limit: Option<usize>,
    /// Over the Application's `syncPolicy.retry`, field by field.
    pub retry: RetryOverride,
}

impl Default for SyncRequest {
    fn default() -> Self {
        let d = SyncOptions::default();
        SyncRequest {
            prune: false,
            dry_run: false,
            force_conflicts: false,
            adopt: false,
            fail_on_shared_resource: false,
            allow_empty: false,
            confirm_mass_prune: false,
            prune_crds_with_objects: false,
            cascade: d.cascade,
            wait: d.wait,
            timeout: d.timeout,
            create_namespace: false,
            lock_duration: d.lock_duration,
            parent_kind: ParentKind::default(),
            revision_history_limit: None,
            retry: RetryOverride::default(),
        }
    }
}

/// Retry settings given over an Application's `syncPolicy.retry`.
#[derive(Debug, Clone, Default)]
pub struct RetryOverride {
    pub limit: Option<i64>,
    pub duration: Option<std::time::Duration>,
    pub max_duration: Option<std::time::Duration>,
    pub factor: Option<f64>,
}

/// The sync settings of app `name`: the request, with what its Application
/// says (sync options, retry, revision history limit) and the history entry
/// the sync records.
pub fn sync_options(req: &SyncRequest, name: &str, rendered: &Rendered, cluster: &Cluster) -> Result<SyncOptions> {
    use crate::source::app::SyncOption;
    let source = &rendered.resolved;
    let policy = source.app.as_ref().and_then(|a| a.sync_policy.as_ref());
    // What an Application asks that this tool does not do is said once.
    if let Some(p) = policy {
        for o in &p.sync_options {
            if let Some(instead) = crate::logging::unsupported_sync_option(&o.to_string()) {
                crate::logging::warn_once(
                    &format!("{name}/{o}"),
                    format!("{name}: sync option {o} is not supported: {instead}"),
                );
            }
        }
    }
    let has = |o: SyncOption| policy.is_some_and(|p| p.sync_options.contains(&o));
    let app_cascade = policy.and_then(|p| {
        p.sync_options.iter().find_map(|o| match o {
            SyncOption::PrunePropagationPolicy(pp) => Some(match pp {
                crate::source::app::PropagationPolicy::Foreground => crate::cluster::write::Cascade::Foreground,
                crate::source::app::PropagationPolicy::Background => crate::cluster::write::Cascade::Background,
                crate::source::app::PropagationPolicy::Orphan => crate::cluster::write::Cascade::Orphan,
            }),
            _ => None,
        })
    });
    let history = HistoryEntry {
        id: 0,
        deployed_at: String::new(),
        user: cluster.user().to_string(),
        source: rendered.history_source(cluster.default_namespace())?,
        result: String::new(),
    };
    Ok(SyncOptions {
        app: name.to_string(),
        prune: req.prune,
        dry_run: req.dry_run,
        force_conflicts: req.force_conflicts,
        adopt: req.adopt,
        fail_on_shared: req.fail_on_shared_resource || has(SyncOption::FailOnSharedResource(true)),
        respect_ignore: if has(SyncOption::RespectIgnoreDifferences(true)) {
            rendered.diff_options().ignore
        } else {
            Vec::new()
        },
        prune_last: has(SyncOption::PruneLast(true)),
        allow_empty: req.allow_empty,
        confirm_mass_prune: req.confirm_mass_prune,
        prune_crds_with_objects: req.prune_crds_with_objects,
        // An Application's PrunePropagationPolicy, unless the request says otherwise.
        cascade: match (app_cascade, req.cascade) {
            (Some(c), crate::cluster::write::Cascade::Background) => c,
            (_, c) => c,
        },
        wait: req.wait,
        timeout: req.timeout,
        // An Application's CreateNamespace=true and managedNamespaceMetadata
        // hold under every command form.
        create_namespace: req.create_namespace || has(SyncOption::CreateNamespace(true)),
        namespace_metadata: policy
            .and_then(|p| p.managed_namespace_metadata.as_ref())
            .map(|m| (m.labels.clone(), m.annotations.clone())),
        lock_duration: req.lock_duration,
        parent_kind: req.parent_kind,
        history: Some(history),
        history_limit: req
            .revision_history_limit
            .or_else(|| source.app.as_ref()?.revision_history_limit.and_then(|n| usize::try_from(n).ok()))
            .unwrap_or(crate::history::DEFAULT_LIMIT),
        write: policy.map(|p| crate::plan::WriteDefaults::from_sync_options(&p.sync_options)).unwrap_or_default(),
        retry: retry_policy(&req.retry, policy, name)?,
    })
}

/// The Application's `syncPolicy.retry`, with the request's settings over it.
fn retry_policy(
    over: &RetryOverride,
    policy: Option<&crate::source::app::SyncPolicy>,
    name: &str,
) -> Result<Option<RetryPolicy>> {
    let from_app = match policy.and_then(|p| p.retry.as_ref()) {
        Some(v) => Some(RetryPolicy::from_value(v).map_err(|e| Error::Usage(format!("Application {name}: {e}")))?),
        None => None,
    };
    if over.limit.is_none() && over.duration.is_none() && over.max_duration.is_none() && over.factor.is_none() {
        return Ok(from_app);
    }
    let mut p = from_app.unwrap_or_default();
    if let Some(l) = over.limit {
        p.limit = l;
    }
    if let Some(d) = over.duration {
        p.duration = d;
    }
    if let Some(d) = over.max_duration {
        p.max_duration = d;
    }
    if let Some(f) = over.factor {
        if !(f >= 1.0 && f.is_finite()) {
            return Err(Error::Usage(format!("--retry-backoff-factor must be a number >= 1, not {f}")));
        }
        p.factor = f;
    }
    Ok(Some(p))
}

/// Sync a rendered app: preflight, the lock, waves and hooks, prune, health,
/// history (retried as its settings say). Progress goes to `ui`.
pub fn sync(cluster: &Cluster, rendered: &Rendered, opts: &SyncOptions, ui: &mut dyn SyncUi) -> Result<SyncReport> {
    crate::sync::retry::sync_with_retry(cluster, rendered.objects.clone(), opts, ui)
}

/// A rollback: app `app` back to its history entry `id`.
#[derive(Debug, Clone)]
pub struct RollbackRequest {
    pub app: String,
    pub id: u64,
    /// Roll back although the Application has automated sync (which would undo it).
    pub force: bool,
    /// How the sync of that entry runs (its parent kind is the app's).
    pub sync: SyncRequest,
    /// Git settings for fetching the recorded commit.
    pub git: crate::source::git::GitOptions,
    /// Chart repository settings (credentials, the cache), for a chart
    /// source or a chart's dependencies.
    pub repos: crate::source::chartrepo::RepoOptions,
}

/// The entry a rollback goes back to, and what the sync of it did.
#[derive(Debug, Clone)]
pub struct RollbackReport {
    pub entry: HistoryEntry,
    pub sync: SyncReport,
}

/// Sync app `req.app` as its history entry `req.id` recorded it (see
/// [`crate::rollback::source_spec`]); `on_start` hears which entry and
/// source before anything is written. The sync is recorded as a new entry.
pub fn rollback(
    cluster: &Cluster,
    req: &RollbackRequest,
    on_start: &mut dyn FnMut(&HistoryEntry),
    ui: &mut dyn SyncUi,
) -> Result<RollbackReport> {
    let namespace = cluster.default_namespace().to_string();
    let reference = req.sync.parent_kind.reference(&namespace, &req.app);
    let parent = crate::sync::parent::read(cluster, reference, false)?;
    let Some(entry) = crate::history::find(&parent.history, req.id).cloned() else {
        let ids: Vec<String> = parent.history.iter().map(|e| e.id.to_string()).collect();
        return Err(Error::Usage(format!(
            "app {:?} has no history entry {} (entries: {})",
            req.app,
            req.id,
            if ids.is_empty() { "none".to_string() } else { ids.join(", ") }
        )));
    };
    let spec = crate::rollback::source_spec(&entry, &req.app, &namespace, req.git.clone(), req.repos.clone())?;
    let rendered = render(&spec)?;
    let automated =
        rendered.resolved.app.as_ref().is_some_and(|a| {
            a.sync_policy.as_ref().and_then(|p| p.automated.as_ref()).is_some_and(|auto| auto.enabled)
        });
    if automated && !req.force {
        return Err(Error::Refused(format!(
            "{}: the Application has automated sync, which would undo a rollback (Argo CD refuses it too); \
             turn automated sync off, or pass --force",
            entry.source.render.app_file.as_deref().unwrap_or(&entry.source.repo_url)
        )));
    }
    on_start(&entry);
    let opts = sync_options(&req.sync, &req.app, &rendered, cluster)?;
    let report = sync(cluster, &rendered, &opts, ui)?;
    Ok(RollbackReport { entry, sync: report })
}
