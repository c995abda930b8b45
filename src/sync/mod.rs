//! `sync`: make the cluster match the rendered set, safely.
//!
//! [`sync`] walks one run, in this order (nothing is written before step 6):
//! 1. label every object `applyset.kubernetes.io/part-of=<id>` (an input
//!    that sets the label is an error) and resolve it ([`compare::prepare`]);
//! 2. [`crate::plan::plan`]: phases, waves, hooks;
//! 3. read the ApplySet parent ([`parent::read`]): another tool's set is refused;
//! 4. preflight: a server-side dry-run of every object ([`compare::compare_with`]);
//!    any failure stops the run; unchanged objects need no write;
//! 5. prune candidates ([`prune::plan_prune`]) and the rails: a CRD that
//!    still has objects (`--prune-crds-with-objects`), the mass-prune guard
//!    (counting those objects), confirmation;
//! 6. take the lock (a Lease; checked before every write), widen the parent to old ∪ new, apply the plan
//!    ([`execute`]), prune, narrow the parent, release the lock.
//!
//! `--dry-run` stops after step 5 and reports what would happen.

mod execute;
pub mod parent;
pub mod prune;
pub mod report;
pub mod retry;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use crate::applyset::{Inventory, PART_OF_LABEL};
use crate::cluster::compare::{self, Comparison, Prediction};
use crate::cluster::write::Cascade;
use crate::cluster::{Cluster, ResourceInfo};
use crate::diff::{Action, DiffOptions, diff_object};
use crate::error::{Error, Result};
use crate::keys;
use crate::model::{Object, ObjectKey};
use crate::normalize::{NormalizeOptions, normalize_with};
use crate::plan::plan;

pub use prune::{LiveItem, PrunePlan};
pub use report::{Counts, Entry, Outcome, SyncReport};

/// How to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The app's name: names the ApplySet parent (`applyset-<app>`) and the lock.
    pub app: String,
    /// Delete members that are no longer rendered.
    pub prune: bool,
    /// Server-side dry-run: report, change nothing.
    pub dry_run: bool,
    /// Take over fields owned by other field managers.
    pub force_conflicts: bool,
    /// Take over a parent managed by another tool, and objects that are
    /// members of another app's ApplySet.
    pub adopt: bool,
    /// Fail when a rendered object is a member of another app's ApplySet
    /// (Argo CD's `FailOnSharedResource=true`).
    pub fail_on_shared: bool,
    /// `RespectIgnoreDifferences=true`: these `ignoreDifferences` rules also
    /// shape what is applied (see [`crate::diff::respect_ignored`]).
    pub respect_ignore: Vec<crate::diff::IgnoreRule>,
    /// An Application's `PruneLast=true`: every prune in the last round.
    pub prune_last: bool,
    /// Allow a render with no objects.
    pub allow_empty: bool,
    /// Allow a prune that deletes most of the app.
    pub confirm_mass_prune: bool,
    /// Allow pruning a CustomResourceDefinition that still has objects of
    /// its kind (the API server deletes them all, in every namespace).
    pub prune_crds_with_objects: bool,
    pub cascade: Cascade,
    /// Wait for each wave's objects to be healthy.
    pub wait: bool,
    /// Deadline for the whole run's waiting (hooks, `--wait`, CRDs).
    pub timeout: Duration,
    /// Create the app's namespace when it does not exist.
    pub create_namespace: bool,
    /// Labels and annotations for the namespace `create_namespace` makes
    /// (an Application's `managedNamespaceMetadata`), applied to it whether
    /// it was created now or before.
    pub namespace_metadata: Option<(BTreeMap<String, String>, BTreeMap<String, String>)>,
    /// How long the lock lasts without renewal.
    pub lock_duration: Duration,
    /// The kind of the ApplySet parent.
    pub parent_kind: parent::ParentKind,
    /// What a sync that writes records in the parent's history (its id,
    /// time and result are filled in); `None` records nothing.
    pub history: Option<crate::history::HistoryEntry>,
    /// Entries the history keeps (`--revision-history-limit`).
    pub history_limit: usize,
    /// How objects are written (the Application's `Replace`,
    /// `ServerSideApply`, `Validate`, `SkipDryRunOnMissingResource`).
    pub write: crate::plan::WriteDefaults,
    /// Retry a failed sync (`syncPolicy.retry`, `--retry-limit`); see [`retry::sync_with_retry`].
    pub retry: Option<retry::RetryPolicy>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            app: String::new(),
            prune: false,
            dry_run: false,
            force_conflicts: false,
            adopt: false,
            fail_on_shared: false,
            respect_ignore: Vec::new(),
            prune_last: false,
            allow_empty: false,
            confirm_mass_prune: false,
            prune_crds_with_objects: false,
            cascade: Cascade::Background,
            wait: false,
            timeout: Duration::from_secs(300),
            create_namespace: false,
            namespace_metadata: None,
            lock_duration: Duration::from_secs(60),
            parent_kind: parent::ParentKind::Secret,
            history: None,
            history_limit: crate::history::DEFAULT_LIMIT,
            write: crate::plan::WriteDefaults::default(),
            retry: None,
        }
    }
}

/// A [`SyncUi`] for programs without a terminal: reports nothing, and
/// confirms a prune only when built to (as `--yes` does).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unattended {
    /// Answer to every prune confirmation.
    pub confirm_prune: bool,
}

impl SyncUi for Unattended {
    fn step(&mut self, _line: &str) {}
    fn object(&mut self, _entry: &Entry, _dry_run: bool) {}
    fn confirm_prune(&mut self, _items: &[LiveItem]) -> bool {
        self.confirm_prune
    }
}

/// Where progress goes and who confirms a prune (the CLI: stderr and a prompt).
pub trait SyncUi {
    /// A phase/wave starts, or another notable step.
    fn step(&mut self, line: &str);
    /// An object is done (or would be, in a dry run).
    fn object(&mut self, entry: &Entry, dry_run: bool);
    /// Ask before deleting `items`; false stops the sync before any write.
    fn confirm_prune(&mut self, items: &[LiveItem]) -> bool;
    /// How many object lines the run will report (for a progress display).
    fn expect(&mut self, _objects: usize) {}
    /// A wave of `objects` tasks starts (their [`SyncUi::object`] calls follow).
    fn wave(&mut self, phase: &str, wave: i64, objects: usize) {
        self.step(&format!("{phase} wave {wave}: {objects} objects"));
    }
    /// Waiting for health: `pending` objects are not healthy yet (called on
    /// every poll; `first` on the first one).
    fn waiting(&mut self, pending: &[String], first: bool) {
        if first {
            self.step(&format!("waiting for {} objects to be healthy: {}", pending.len(), pending.join(", ")));
        }
    }
    /// The wait that [`SyncUi::waiting`] reported is over (healthy or not).
    fn waited(&mut self) {}
}

/// True when writing the object would change nothing and we already manage it.
fn unchanged(c: &Comparison) -> bool {
    use crate::cluster::write::WriteMode;
    match c.prediction {
        Prediction::Unchanged => true,
        Prediction::Desired => false,
        Prediction::DryRun => {
            let Some(live) = &c.live else { return false };
            let same = || diff_object(Some(live), Some(&c.predicted), &DiffOptions::default()).action == Action::None;
            match c.mode {
                WriteMode::ServerSideApply => {
                    crate::diff::managed::apply_fields(live, keys::FIELD_MANAGER).is_some() && same()
                }
                // Same object, same last-applied configuration (the patch
                // only sets what the server drops, such as unknown fields).
                WriteMode::ClientSideApply => {
                    let last = |v: &serde_json::Value| {
                        v.pointer("/metadata/annotations").and_then(|a| a.get(keys::LAST_APPLIED)).cloned()
                    };
                    last(live) == last(&c.predicted) && same()
                }
                WriteMode::Replace => same(),
            }
        }
    }
}

/// Label the rendered objects as members of `id`, refusing inputs that set
/// the label. Hooks are not labelled: they are never members.
pub fn label_members(objects: &mut [Object], id: &str) -> Result<()> {
    for o in objects.iter_mut() {
        if let Some(v) = o.label(PART_OF_LABEL) {
            return Err(Error::Refused(format!(
                "{}: {}: sets the label {PART_OF_LABEL}={v}; ApplySet membership is managed by kubectl-gitops, \
                 remove the label from the source",
                o.origin,
                o.key()
            )));
        }
        // A hook is created (or recreated) at its phase, cleaned up by its
        // delete policy and never pruned: not a member (Argo CD never
        // prunes hooks, nor counts them in the sync status).
        if !o.is_hook() {
            o.set_label(PART_OF_LABEL, id);
        }
    }
    Ok(())
}

fn inventory_of(objects: &[Object], parent_ns: &str) -> Inventory {
    let mut inv = Inventory::default();
    inv.namespaces.insert(parent_ns.to_string());
    for o in objects.iter().filter(|o| !o.is_hook()) {
        inv.group_kinds.insert(prune::group_kind(o.group(), o.kind()));
        if let Some(ns) = o.namespace() {
            inv.namespaces.insert(ns.to_string());
        }
    }
    inv
}

/// Sync `objects` (rendered, not yet normalized) as app `opts.app`.
/// Errors before any write return `Err`; a failure after writes began is
/// reported in the returned report's `error`.
pub fn sync(cluster: &Cluster, objects: Vec<Object>, opts: &SyncOptions, ui: &mut dyn SyncUi) -> Result<SyncReport> {
    // Every request of the run is bounded by `--timeout` (within an outer
    // deadline, such as a retried sync's); the previous bound is restored.
    let outer = cluster.deadline();
    let own = Instant::now() + opts.timeout;
    cluster.set_deadline(Some(outer.map_or(own, |o| o.min(own))));
    let result = sync_bounded(cluster, objects, opts, ui);
    cluster.set_deadline(outer);
    result
}

/// The time a run past its deadline still has to record its failure and
/// release its lock.
const CLEANUP_GRACE: Duration = Duration::from_secs(10);

fn sync_bounded(
    cluster: &Cluster,
    mut objects: Vec<Object>,
    opts: &SyncOptions,
    ui: &mut dyn SyncUi,
) -> Result<SyncReport> {
    let started = Instant::now();
    if objects.is_empty() && !opts.allow_empty {
        return Err(Error::Refused(
            "the source rendered no objects: refusing to sync an empty set (it would prune the whole app); \
             pass --allow-empty if that is intended"
                .into(),
        ));
    }
    let parent_ns = cluster.default_namespace().to_string();
    let reference = opts.parent_kind.reference(&parent_ns, &opts.app);
    let id = reference.id();
    label_members(&mut objects, &id)?;
    // Discovery and the parent's GET are independent: send them at once.
    let (resolved, parent) = std::thread::scope(|s| {
        let parent = s.spawn(|| parent::read(cluster, reference.clone(), opts.adopt));
        let resolved = compare::prepare_with(cluster, objects, opts.write);
        (resolved, parent.join().expect("reading the ApplySet parent does not panic"))
    });
    let resolved = respect_ignore_differences(cluster, resolved?, &opts.respect_ignore)?;
    tracing::debug!("sync: discovered and normalized");
    let set = resolved.set.objects();
    if let Some(o) = set.iter().find(|o| {
        o.group().is_empty()
            && o.kind() == reference.kind
            && o.namespace() == Some(&parent_ns)
            && o.name() == reference.name
    }) {
        return Err(Error::Refused(format!(
            "{}: {} has the name of this app's ApplySet parent; rename it or choose another --name",
            o.origin,
            o.key()
        )));
    }
    let plan = plan(set)?;
    let mut parent = parent?;

    // The app's namespace holds the parent and the lock. A missing one is
    // an error unless the set or --create-namespace creates it (in the write
    // phase; for the preflight it counts as created by the set).
    let in_set = set.iter().any(|o| o.group().is_empty() && o.kind() == "Namespace" && o.name() == parent_ns);
    let ns_missing = parent.live.is_none() && !in_set && !namespace_exists(cluster, &parent_ns)?;
    if ns_missing && !opts.create_namespace {
        return Err(Error::Refused(format!(
            "namespace {parent_ns} (the app's namespace, which holds its ApplySet parent) does not exist: \
             create it, or pass --create-namespace"
        )));
    }

    // Preflight: dry-run every non-hook object (hooks are recreated, not updated).
    let applied: HashSet<ObjectKey> = plan.tasks().filter(|t| !t.is_hook()).map(|t| t.object.key()).collect();
    let mut members: Vec<Object> = set.iter().filter(|o| applied.contains(&o.key())).cloned().collect();
    if ns_missing {
        let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": parent_ns}});
        members.push(Object::new(ns, crate::model::Origin::new("--create-namespace", 0, 0)).expect("valid Namespace"));
    }
    let sub = compare::Resolved {
        set: normalize_with(members, &NormalizeOptions::default(), &resolved.discovery)?,
        discovery: resolved.discovery.clone(),
        write: resolved.write,
    };
    ui.step(&format!("preflight: {} objects (server-side dry-run of each one that may change)", sub.set.len()));
    // Another app's objects are left to it (unless adopted): not dry-run,
    // so their owner's fields cannot make the preflight fail.
    let leave = |live: &serde_json::Value| !opts.adopt && owner_elsewhere(live, &id, &opts.app).is_some();
    let comparisons = compare::compare_leaving(cluster, &sub, opts.force_conflicts, &leave).map_err(conflict_hint)?;
    preflight_hooks(cluster, &plan, &resolved.discovery)?;
    tracing::debug!("sync: preflight done");

    // Objects that another app's ApplySet holds are never changed silently.
    let shared = shared_objects(&comparisons, &id, &opts.app);
    if !shared.is_empty() && opts.fail_on_shared {
        let list: Vec<String> = shared.iter().map(|(k, owner, o)| format!("{k} ({o}): belongs to {owner}")).collect();
        return Err(Error::Refused(format!(
            "{} rendered objects belong to another app (FailOnSharedResource); nothing was changed:\n  {}",
            shared.len(),
            list.join("\n  ")
        )));
    }
    let mut shared_entries = Vec::new();
    let plan = if shared.is_empty() {
        plan
    } else if opts.adopt {
        for (k, other, _) in &shared {
            ui.step(&format!("warning: {k} belongs to {other}: taking it over (--adopt)"));
        }
        plan
    } else {
        for (k, other, _) in &shared {
            ui.step(&format!(
                "warning: {k} belongs to another app ({other}): left to its owner (--adopt takes it over)"
            ));
            shared_entries.push(Entry::new(k, Outcome::Kept, format!("shared: belongs to {other}")));
        }
        let skip: HashSet<&ObjectKey> = shared.iter().map(|(k, _, _)| k).collect();
        let rest: Vec<Object> = set.iter().filter(|o| !skip.contains(&o.key())).cloned().collect();
        crate::plan::plan(&rest)?
    };

    let desired_inv = inventory_of(set, &parent_ns);
    let widened = parent.recorded.union(&desired_inv);
    let desired_keys: HashSet<ObjectKey> = set.iter().map(Object::key).collect();
    // Planned on every run (label-selected LISTs, in parallel): a run
    // without --prune reports the members it leaves, exactly as its dry run.
    let mut prune_plan = prune::plan_prune(cluster, &id, &widened, &desired_keys, &parent_ns)?;
    if opts.prune_last {
        prune_plan.prune_last = prune_plan.delete.len();
    }
    if opts.prune {
        prune::rails(cluster, &prune_plan, opts, ui)?;
    }

    let mut report = SyncReport {
        app: opts.app.clone(),
        applyset_id: id.clone(),
        parent: format!(
            "{}/{} -n {}",
            parent.reference.kind.to_lowercase(),
            parent.reference.name,
            parent.reference.namespace
        ),
        dry_run: opts.dry_run,
        ..Default::default()
    };
    for e in shared_entries {
        ui.object(&e, opts.dry_run);
        report.push(e);
    }
    if opts.dry_run {
        if ns_missing {
            let e = Entry::new(&ObjectKey::new("", "Namespace", "", &parent_ns), Outcome::Created, "CreateNamespace");
            ui.object(&e, true);
            report.push(e);
        }
        dry_run_report(cluster, &plan, &comparisons, &prune_plan, opts, &mut report, ui)?;
        return Ok(report);
    }
    if opts.prune && !prune_plan.delete.is_empty() && !ui.confirm_prune(&prune_plan.delete) {
        return Err(Error::Refused(format!(
            "pruning {} objects was not confirmed; nothing was changed (on a terminal answer the prompt, \
             otherwise pass --yes)",
            prune_plan.delete.len()
        )));
    }

    if parent.live.is_none() || (opts.create_namespace && opts.namespace_metadata.is_some()) {
        // A live parent proves its namespace exists (its managed metadata
        // is applied on every run).
        ensure_namespace(cluster, &parent_ns, set, opts, &mut report, ui)?;
    }
    // Nothing to write (everything unchanged, no hook, no prune, parent up
    // to date): a no-op sync writes nothing at all, not even its lock.
    let by_key: std::collections::HashMap<ObjectKey, &Comparison> =
        comparisons.iter().map(|c| (c.desired.key(), c)).collect();
    let narrowed = desired_inv.union(&prune_plan.kept_inventory());
    let writes = !parent::up_to_date(&parent, &widened)
        || plan.tasks().any(|t| t.is_hook() || by_key.get(&t.object.key()).is_none_or(|c| !unchanged(c)))
        || (opts.prune && (!prune_plan.delete.is_empty() || !parent::up_to_date(&parent, &narrowed)));
    drop(by_key);
    ui.expect(plan.tasks().count() + if opts.prune { prune_plan.delete.len() } else { 0 });
    let lock = if writes { Some(lock_fresh(cluster, &parent, opts, ui)?) } else { None };
    let input = execute::Input {
        plan: &plan,
        comparisons,
        resolved: &resolved,
        record_history: writes,
        widened,
        desired_inv,
        prune_plan,
    };
    finish(cluster, lock, input, &mut parent, opts, started, report, ui)
}

/// Take the lock, then check that the parent did not change since it was
/// read: another sync that finished in between would make this run's plan stale.
/// A Lease another run holds is watched for its duration first (at most `--timeout`).
fn lock_fresh(
    cluster: &Cluster,
    parent: &parent::Parent,
    opts: &SyncOptions,
    ui: &mut dyn SyncUi,
) -> Result<crate::cluster::lease::Lock> {
    let (ns, name) = (&parent.reference.namespace, &parent.reference.name);
    let lock = cluster.lock(ns, name, opts.lock_duration, opts.timeout, &mut |line| ui.step(line))?;
    let rv = |v: Option<&serde_json::Value>| v.and_then(|p| p.pointer("/metadata/resourceVersion")).cloned();
    let fresh = match cluster.get_object(&parent::parent_resource(&parent.reference), ns, name) {
        Ok(now) => rv(now.as_ref()) == rv(parent.live.as_ref()),
        Err(e) => {
            let _ = cluster.unlock(lock);
            return Err(e);
        }
    };
    if !fresh {
        let _ = cluster.unlock(lock);
        return Err(Error::Refused(format!(
            "the ApplySet parent {}/{name} changed while this sync was preparing (another sync ran); \
             nothing was changed: run it again",
            parent.reference.kind.to_lowercase()
        )));
    }
    Ok(lock)
}

/// Append this run's history entry (`opts.history`, timed now) to the
/// parent's history, to be written with its next update.
pub(crate) fn add_history(parent: &mut parent::Parent, opts: &SyncOptions, result: String) {
    if let Some(template) = &opts.history {
        let entry =
            crate::history::HistoryEntry { deployed_at: crate::history::now_rfc3339(), result, ..template.clone() };
        crate::history::record(&mut parent.history, entry, opts.history_limit);
        parent.history_pending = true;
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    cluster: &Cluster,
    lock: Option<crate::cluster::lease::Lock>,
    input: execute::Input<'_>,
    parent: &mut parent::Parent,
    opts: &SyncOptions,
    started: Instant,
    mut report: SyncReport,
    ui: &mut dyn SyncUi,
) -> Result<SyncReport> {
    let record_history = input.record_history;
    let result = execute::run(cluster, lock.as_ref(), input, parent, opts, started + opts.timeout, &mut report, ui);
    tracing::debug!("sync: writes done");
    if result.is_err() {
        // Past the deadline or not, the failure is recorded and the lock released.
        let grace = Instant::now() + CLEANUP_GRACE;
        cluster.set_deadline(Some(cluster.deadline().map_or(grace, |d| d.max(grace))));
    }
    // A run that lost its lock writes nothing more, not even its history.
    let still_locked = || lock.as_ref().is_none_or(|l| cluster.check_lock(l).is_ok());
    if let Err(e) = &result
        && record_history
        && still_locked()
    {
        // Record the failed run too (the parent stays widened).
        if parent.history_pending {
            parent.history.pop();
        }
        let why = match e {
            Error::SyncFailed(m) => m.clone(),
            other => other.to_string(),
        };
        add_history(parent, opts, format!("Failed: {why}"));
        let inv = parent.recorded.clone();
        if let Err(we) = parent::record(cluster, parent, &inv) {
            ui.step(&format!("warning: recording the failed sync in the history: {we}"));
        }
    }
    let unlocked = lock.map_or(Ok(()), |l| cluster.unlock(l));
    if let Err(e) = result {
        report.error = Some(match e {
            Error::SyncFailed(m) => m,
            other => other.to_string(),
        });
    } else if let Err(e) = unlocked {
        report.error = Some(format!("releasing the lock: {e}"));
    }
    Ok(report)
}

/// A conflict found by the preflight: say how to take the fields over.
fn conflict_hint(e: Error) -> Error {
    match e {
        Error::Object { key, origin, source } if matches!(&*source, Error::Api(f) if f.code == 409) => {
            Error::Refused(format!(
                "{key} ({origin}): {source}\nanother field manager owns these fields: change the source to agree, \
                 or pass --force-conflicts to take them over; nothing was changed"
            ))
        }
        other => other,
    }
}

fn dry_run_report(
    cluster: &Cluster,
    plan: &crate::plan::SyncPlan,
    comparisons: &[Comparison],
    prune_plan: &PrunePlan,
    opts: &SyncOptions,
    report: &mut SyncReport,
    ui: &mut dyn SyncUi,
) -> Result<()> {
    let by_key: std::collections::HashMap<ObjectKey, &Comparison> =
        comparisons.iter().map(|c| (c.desired.key(), c)).collect();
    for t in plan.tasks() {
        let key = t.object.key();
        let outcome = match by_key.get(&key) {
            Some(c) if unchanged(c) => Outcome::Unchanged,
            Some(c) if c.live.is_some() => Outcome::Configured,
            _ => Outcome::Created,
        };
        let note = if t.is_hook() { format!("{} hook", t.phase) } else { String::new() };
        let e = Entry::new(&key, outcome, note);
        ui.object(&e, true);
        report.push(e);
    }
    for item in &prune_plan.delete {
        let outcome = if opts.prune { Outcome::Pruned } else { Outcome::Kept };
        let note = if opts.prune { "" } else { execute::NOT_PRUNED };
        let e = Entry::new(&item.key(), outcome, note);
        ui.object(&e, true);
        report.push(e);
    }
    for (item, reason) in &prune_plan.kept {
        let e = Entry::new(&item.key(), Outcome::Kept, reason.clone());
        ui.object(&e, true);
        report.push(e);
    }
    // Without --prune nothing is deleted, so nothing cascades: the dry-run
    // reports what the same run without --dry-run would do.
    let deleting: &[prune::LiveItem] = if opts.prune { &prune_plan.delete } else { &[] };
    let deps = prune::cascading(cluster, deleting)?;
    let shown: HashSet<&str> = deps.iter().map(|d| d.uid.as_str()).collect();
    for dep in &deps {
        let e = Entry::new(&dep.key(), Outcome::Cascading, "garbage-collected with a pruned object");
        ui.object(&e, true);
        report.push(e);
    }
    for c in prune_plan.crd_objects.iter().filter(|_| opts.prune) {
        let note = format!("deleted with CustomResourceDefinition {}", c.crd);
        let mut listed = 0;
        for item in &c.listed {
            listed += 1;
            if shown.contains(item.uid.as_str()) {
                continue;
            }
            let e = Entry::new(&item.key(), Outcome::Cascading, note.clone());
            ui.object(&e, true);
            report.push(e);
        }
        let unlisted = c.count.saturating_sub(listed);
        if unlisted > 0 {
            ui.step(&format!("... and {unlisted} more objects of kind {} ({note})", c.kind));
            report.add_unlisted_cascading(unlisted);
        }
    }
    Ok(())
}

/// Apply `RespectIgnoreDifferences`: read the live copies of the objects the
/// rules select (concurrently) and shape each desired object with them.
fn respect_ignore_differences(
    cluster: &Cluster,
    resolved: compare::Resolved,
    rules: &[crate::diff::IgnoreRule],
) -> Result<compare::Resolved> {
    if rules.is_empty() {
        return Ok(resolved);
    }
    let compare::Resolved { set, discovery, write } = resolved;
    let objects = set.into_objects();
    let mut requests = Vec::new();
    let mut which = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let selected = rules.iter().any(|r| {
            (r.group == "*" || r.group == o.group())
                && (r.kind == "*" || r.kind == o.kind())
                && r.name.as_deref().is_none_or(|n| n == o.name())
                && r.namespace.as_deref().is_none_or(|n| Some(n) == o.namespace())
        });
        if let (true, Some(resource)) = (selected, resource_of(&discovery, o)) {
            let namespace = if resource.namespaced { o.namespace().unwrap_or("").to_string() } else { String::new() };
            requests.push(crate::cluster::GetRequest { resource, namespace, name: o.name().to_string() });
            which.push(i);
        }
    }
    let mut objects = objects;
    for (i, live) in which.into_iter().zip(cluster.get(&requests)) {
        let live = live?;
        let mut value = objects[i].to_value();
        crate::diff::respect_ignored(&mut value, live.as_ref(), rules);
        let origin = objects[i].origin.clone();
        objects[i] = Object::new(value, origin.clone()).map_err(|source| Error::Invalid { origin, source })?;
    }
    let set = normalize_with(objects, &NormalizeOptions::default(), &discovery)?;
    Ok(compare::Resolved { set, discovery, write })
}

/// Rendered objects whose live copy belongs to another app: (key, the
/// owner, origin). The owner is `ApplySet <id>` when the object is labelled
/// a member of another ApplySet, else `Argo CD Application <name>` when
/// Argo CD's annotation tracking (`argocd.argoproj.io/tracking-id`) names
/// an app other than `app` (Argo CD's own shared-resource rule).
pub(crate) fn shared_objects(
    comparisons: &[Comparison],
    id: &str,
    app: &str,
) -> Vec<(ObjectKey, String, crate::model::Origin)> {
    comparisons
        .iter()
        .filter_map(|c| {
            let owner = owner_elsewhere(c.live.as_ref()?, id, app)?;
            Some((c.desired.key(), owner, c.desired.origin.clone()))
        })
        .collect()
}

/// The other app a live object belongs to (see [`shared_objects`]).
fn owner_elsewhere(live: &serde_json::Value, id: &str, app: &str) -> Option<String> {
    let meta = live.get("metadata")?;
    match meta.get("labels").and_then(|l| l.get(PART_OF_LABEL)).and_then(|v| v.as_str()) {
        Some(set) => (set != id).then(|| format!("ApplySet {set}")),
        None => {
            let tracking = meta.get("annotations")?.get(keys::TRACKING_ID)?.as_str()?;
            let tracked = tracking_app(tracking)?;
            (tracked != app).then(|| format!("Argo CD Application {tracked}"))
        }
    }
}

/// The app named by an Argo CD tracking id (`<app>:<group>/<kind>:<ns>/<name>`,
/// `<app-namespace>_<app>:...` for apps outside Argo CD's namespace).
fn tracking_app(tracking: &str) -> Option<&str> {
    let (app, _) = tracking.split_once(':')?;
    let app = app.rsplit_once('_').map_or(app, |(_, a)| a);
    (!app.is_empty()).then_some(app)
}

/// The resource of an object, from the run's discovery.
fn resource_of(discovery: &crate::cluster::Discovery, o: &Object) -> Option<ResourceInfo> {
    discovery.resource(&o.gvk()).cloned()
}

fn namespace_resource() -> ResourceInfo {
    ResourceInfo {
        group: String::new(),
        version: "v1".into(),
        kind: "Namespace".into(),
        plural: "namespaces".into(),
        namespaced: false,
    }
}

/// The app's namespace holds the parent and the lock: create it (from the
/// set's manifest when it has one) if `--create-namespace` or the set asks.
fn ensure_namespace(
    cluster: &Cluster,
    ns: &str,
    set: &[Object],
    opts: &SyncOptions,
    report: &mut SyncReport,
    ui: &mut dyn SyncUi,
) -> Result<()> {
    let res = namespace_resource();
    let exists = namespace_exists(cluster, ns)?;
    let from_set = set.iter().find(|o| o.group().is_empty() && o.kind() == "Namespace" && o.name() == ns);
    let metadata = opts.namespace_metadata.as_ref().filter(|_| opts.create_namespace && from_set.is_none());
    if exists && metadata.is_none() {
        return Ok(());
    }
    if !opts.create_namespace && from_set.is_none() {
        return Err(Error::Refused(format!(
            "namespace {ns} (the app's namespace, which holds its ApplySet parent) does not exist: \
             create it, or pass --create-namespace"
        )));
    }
    let body = match (from_set, metadata) {
        (Some(o), _) => o.to_value(),
        (None, Some((labels, annotations))) => serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "labels": labels, "annotations": annotations}}),
        (None, None) => serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    };
    if exists && from_set.is_some() {
        return Ok(());
    }
    cluster
        .apply(&[(&res, &body)], crate::cluster::ApplyOptions { dry_run: false, force: opts.force_conflicts })
        .pop()
        .expect("one result")?;
    if from_set.is_none() {
        let (outcome, note) = if exists {
            (Outcome::Configured, "managedNamespaceMetadata")
        } else {
            (Outcome::Created, "CreateNamespace")
        };
        let e = Entry::new(&ObjectKey::new("", "Namespace", "", ns), outcome, note);
        ui.object(&e, false);
        report.push(e);
    }
    Ok(())
}

/// Whether namespace `ns` exists; a user who may not read namespaces is
/// told by the writes instead (counted as existing).
fn namespace_exists(cluster: &Cluster, ns: &str) -> Result<bool> {
    match cluster.get_object(&namespace_resource(), "", ns) {
        Ok(found) => Ok(found.is_some()),
        Err(Error::Api(f)) if f.code == 403 => Ok(true),
        Err(e) => Err(e),
    }
}

/// `90s`, `5m`, `1h`, `250ms` or plain seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    retry::parse_go_duration(s.trim())
        .ok_or_else(|| format!("{s:?} is not a duration (examples: 90s, 5m, 1h30m, 500ms; a bare number is seconds)"))
}

/// The ApplySet id the live counterparts of a set were synced with, when
/// they agree: the `part-of` label as set by our field manager. Lets `diff`
/// without `--name` compare like the sync that applied them.
pub fn synced_id(comparisons: &[Comparison]) -> Option<String> {
    let mut found: Option<&str> = None;
    for live in comparisons.iter().filter_map(|c| c.live.as_ref()) {
        let Some(id) = live.pointer("/metadata/labels").and_then(|l| l.get(PART_OF_LABEL)).and_then(|v| v.as_str())
        else {
            continue;
        };
        let ours = crate::diff::managed::apply_fields(live, keys::FIELD_MANAGER).is_some_and(|(_, f)| {
            f.get("f:metadata")
                .and_then(|m| m.get("f:labels"))
                .and_then(|l| l.get(format!("f:{PART_OF_LABEL}")))
                .is_some()
        });
        if !ours {
            continue;
        }
        match found {
            None => found = Some(id),
            Some(f) if f == id => {}
            Some(_) => return None,
        }
    }
    found.map(String::from)
}

/// Hooks are recreated rather than updated: dry-run those that do not exist
/// yet (an existing one is deleted first when it runs), and the creation of
/// those named by `generateName`. Hooks whose kind or
/// namespace the set itself creates cannot be dry-run before it exists.
fn preflight_hooks(
    cluster: &Cluster,
    plan: &crate::plan::SyncPlan,
    discovery: &crate::cluster::Discovery,
) -> Result<()> {
    let hooks: Vec<(&Object, ResourceInfo)> = plan
        .tasks()
        .chain(plan.sync_fail.iter())
        .filter(|t| t.is_hook())
        .filter_map(|t| resource_of(discovery, &t.object).map(|r| (&t.object, r)))
        .collect();
    // Hooks named by generateName are always created: dry-run the creation.
    let (generated, hooks): (Vec<_>, Vec<_>) = hooks.into_iter().partition(|(o, _)| o.generate_name().is_some());
    for (o, r) in &generated {
        match cluster.create_with(r, &o.to_value(), true) {
            Ok(_) => {}
            Err(Error::Api(f)) if f.code == 404 => {} // its namespace comes with the set
            Err(e) => {
                return Err(Error::Object { key: Box::new(o.key()), origin: o.origin.clone(), source: Box::new(e) });
            }
        }
    }
    if hooks.is_empty() {
        return Ok(());
    }
    let gets: Vec<crate::cluster::GetRequest> = hooks
        .iter()
        .map(|(o, r)| crate::cluster::GetRequest {
            resource: r.clone(),
            namespace: o.namespace().unwrap_or("").to_string(),
            name: o.name().to_string(),
        })
        .collect();
    let live: Vec<Option<serde_json::Value>> = cluster.get(&gets).into_iter().collect::<Result<_>>()?;
    let absent: Vec<(&Object, &ResourceInfo, serde_json::Value)> =
        hooks.iter().zip(live).filter(|(_, l)| l.is_none()).map(|((o, r), _)| (*o, r, o.to_value())).collect();
    let batch: Vec<(&ResourceInfo, &serde_json::Value)> = absent.iter().map(|(_, r, v)| (*r, v)).collect();
    let results = cluster.apply(&batch, crate::cluster::ApplyOptions { dry_run: true, force: true });
    for ((o, _, _), r) in absent.iter().zip(results) {
        match r {
            Ok(_) => {}
            Err(Error::Api(f)) if f.code == 404 => {} // its namespace comes with the set
            Err(e) => {
                return Err(Error::Object { key: Box::new(o.key()), origin: o.origin.clone(), source: Box::new(e) });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_id_needs_our_manager_and_agreement() {
        use crate::cluster::compare::{Comparison, Prediction};
        use crate::model::Origin;
        let desired = Object::new(
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            Origin::new("a.yaml", 0, 1),
        )
        .unwrap();
        let live = |id: &str, manager: &str| {
            serde_json::json!({"metadata": {"labels": {PART_OF_LABEL: id}, "managedFields": [{
                "manager": manager, "operation": "Apply", "apiVersion": "v1",
                "fieldsV1": {"f:metadata": {"f:labels": {format!("f:{PART_OF_LABEL}"): {}}}}}]}})
        };
        let c = |l: serde_json::Value| Comparison {
            desired: desired.clone(),
            resource: None,
            live: Some(l),
            predicted: serde_json::Value::Null,
            prediction: Prediction::DryRun,
            mode: Default::default(),
        };
        assert_eq!(synced_id(&[c(live("a", keys::FIELD_MANAGER))]).as_deref(), Some("a"));
        assert_eq!(synced_id(&[c(live("a", "kubectl"))]), None);
        assert_eq!(synced_id(&[c(live("a", keys::FIELD_MANAGER)), c(live("b", keys::FIELD_MANAGER))]), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn members_get_the_label_and_inputs_may_not_set_it() {
        use crate::model::Origin;
        let o = |labels: serde_json::Value| {
            Object::new(
                serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": labels}}),
                Origin::new("a.yaml", 0, 3),
            )
            .unwrap()
        };
        let mut ok = vec![o(serde_json::json!({}))];
        label_members(&mut ok, "applyset-x-v1").unwrap();
        assert_eq!(ok[0].label(PART_OF_LABEL), Some("applyset-x-v1"));
        let mut bad = vec![o(serde_json::json!({PART_OF_LABEL: "other"}))];
        let err = label_members(&mut bad, "applyset-x-v1").unwrap_err().to_string();
        assert!(err.contains("a.yaml:3") && err.contains(PART_OF_LABEL), "{err}");
    }
}
