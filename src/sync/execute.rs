//! The writing half of a sync, run under the lock: widen the parent, apply
//! the plan step by step (Namespaces, then CRDs, which are waited for until
//! Established before discovery is refreshed, then everything else; each
//! batch concurrently), run hooks and wait for health, prune, narrow the
//! parent. Any failure stops the run with the parent left widened, after
//! the SyncFail hooks ran. Before every write (and while waiting) the lock
//! is checked ([`Cluster::check_lock`]): a run that lost it stops there.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::parent::{self, Parent};
use super::prune::{LiveItem, PrunePlan};
use super::report::{Entry, Outcome, SyncReport};
use super::{SyncOptions, SyncUi, resource_of, unchanged};
use crate::applyset::Inventory;
use crate::cluster::compare::{Comparison, Prediction, Resolved};
use crate::cluster::lease::Lock;
use crate::cluster::write::{WriteItem, WriteMode};
use crate::cluster::{
    ApplyOptions, Cluster, DeleteRequest, Discovery, GetRequest, ListRequest, Propagation, ResourceInfo,
};
use crate::error::{Error, Result};
use crate::health::{HealthStatus, assess_for_wait};
use crate::model::{Gvk, ObjectKey};
use crate::plan::{HookDeletePolicy, SyncPlan, Task, write_mode};

/// The note on a member the source no longer renders, kept because the
/// run has no `--prune`.
pub const NOT_PRUNED: &str = "not rendered; --prune would delete it";

/// Everything the preflight established.
pub(super) struct Input<'a> {
    pub plan: &'a SyncPlan,
    pub comparisons: Vec<Comparison>,
    pub resolved: &'a Resolved,
    /// The run writes: record it in the parent's history.
    pub record_history: bool,
    /// old ∪ new: recorded before anything is applied.
    pub widened: Inventory,
    /// This run's kinds and namespaces.
    pub desired_inv: Inventory,
    pub prune_plan: PrunePlan,
}

/// An object to watch (health) or delete (hook policies).
#[derive(Clone)]
struct Watched {
    resource: ResourceInfo,
    key: ObjectKey,
    hook: Option<Vec<HookDeletePolicy>>,
    /// Carries the ApplySet `part-of` label (hooks do not).
    member: bool,
}

struct Exec<'a> {
    cluster: &'a Cluster,
    lock: Option<&'a Lock>,
    opts: &'a SyncOptions,
    deadline: Instant,
    discovery: Discovery,
    gvks: HashSet<Gvk>,
    comparisons: HashMap<ObjectKey, Comparison>,
    /// `part-of=<id>`: waiting re-lists the members.
    selector: String,
    /// Hooks created or applied so far: their delete policies apply when
    /// the sync ends (HookSucceeded) or fails (HookFailed), as in Argo CD.
    hooks_run: Vec<Watched>,
}

/// An object of a batch, ready to be written.
struct Pending<'t> {
    res: ResourceInfo,
    value: Value,
    task: &'t Task,
    /// Counted as created (no live object, or a hook made anew).
    created: bool,
    mode: WriteMode,
    live: Option<Value>,
}

const POLL: Duration = Duration::from_millis(500);

#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    cluster: &Cluster,
    lock: Option<&Lock>,
    input: Input<'_>,
    parent: &mut Parent,
    opts: &SyncOptions,
    deadline: Instant,
    report: &mut SyncReport,
    ui: &mut dyn SyncUi,
) -> Result<()> {
    if let Some(l) = lock {
        cluster.check_lock(l)?;
    }
    if parent::record(cluster, parent, &input.widened)? {
        report.parent_written = true;
        ui.step(&format!("ApplySet parent {}: recorded {}", report.parent, input.widened.contains_annotation()));
    }
    let mut ex = Exec {
        cluster,
        lock,
        opts,
        deadline,
        discovery: input.resolved.discovery.clone(),
        gvks: input.resolved.set.objects().iter().map(|o| o.gvk()).collect(),
        comparisons: input.comparisons.into_iter().map(|c| (c.desired.key(), c)).collect(),
        selector: format!("{}={}", crate::applyset::PART_OF_LABEL, report.applyset_id),
        hooks_run: Vec::new(),
    };
    ex.preflight_new_namespaces(input.plan, ui)?;
    if let Err(e) = ex.steps(input.plan, report, ui) {
        ex.hooks_policy(HookDeletePolicy::HookFailed, report, ui);
        ex.sync_fail(input.plan, report, ui);
        return Err(e);
    }
    let pp = &input.prune_plan;
    if opts.prune {
        let (first, last) = pp.delete.split_at(pp.delete.len() - pp.prune_last);
        for round in [first, last] {
            if let Err(e) = ex.prune(round, report, ui) {
                ex.hooks_policy(HookDeletePolicy::HookFailed, report, ui);
                return Err(e);
            }
        }
    } else {
        // Members the source no longer renders stay without --prune: say so,
        // as the dry run does.
        for item in &pp.delete {
            let e = Entry::new(&item.key(), Outcome::Kept, NOT_PRUNED);
            ui.object(&e, false);
            report.push(e);
        }
    }
    for (item, reason) in &pp.kept {
        let e = Entry::new(&item.key(), Outcome::Kept, reason.clone());
        ui.object(&e, false);
        report.push(e);
    }
    // Every task ran: hooks with HookSucceeded go (Argo CD deletes them once
    // the whole operation succeeded, not after their own phase).
    let succeeded: Vec<Watched> = ex.hooks_with(HookDeletePolicy::HookSucceeded);
    ex.delete_hooks(&succeeded.iter().collect::<Vec<_>>(), report, ui)?;
    // The history entry goes with the last parent update: the narrowing one
    // with --prune, else a rewrite of the widened inventory.
    if input.record_history {
        super::add_history(parent, opts, "Succeeded".into());
    }
    let last = if opts.prune { input.desired_inv.union(&pp.kept_inventory()) } else { input.widened.clone() };
    if opts.prune || parent.history_pending {
        ex.guard()?;
    }
    if (opts.prune || parent.history_pending) && parent::record(cluster, parent, &last)? {
        report.parent_written = true;
        ui.step(&format!("ApplySet parent {}: recorded {}", report.parent, last.contains_annotation()));
    }
    Ok(())
}

/// 0: Namespaces, 1: CRDs, 2: the rest.
fn category(t: &Task) -> usize {
    match (t.object.group(), t.object.kind()) {
        ("", "Namespace") => 0,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => 1,
        _ => 2,
    }
}

fn failed(key: &ObjectKey, origin: &crate::model::Origin, e: &Error) -> String {
    let hint = match e {
        Error::Api(f) if f.code == 409 => " (pass --force-conflicts to take over fields another manager owns)",
        _ => "",
    };
    format!("{key} ({origin}): {e}{hint}")
}

impl Exec<'_> {
    /// Fail when the sync lock is lost: called before every write.
    fn guard(&self) -> Result<()> {
        self.lock.map_or(Ok(()), |l| self.cluster.check_lock(l))
    }

    /// The rest of the preflight: new objects in namespaces the set creates
    /// could not be dry-run before (see [`crate::cluster::compare`]). The
    /// set's new Namespaces are applied now, ahead of their wave, then those
    /// objects are dry-run; a failure stops the run with nothing but the
    /// Namespaces written (recorded in the widened parent).
    fn preflight_new_namespaces(&mut self, plan: &SyncPlan, ui: &mut dyn SyncUi) -> Result<()> {
        let mut deferred: Vec<Comparison> = Vec::new();
        let keys: Vec<ObjectKey> = self
            .comparisons
            .iter()
            .filter(|(_, c)| {
                c.prediction == Prediction::Desired
                    && c.live.is_none()
                    && c.resource.is_some()
                    && c.desired.namespace().is_some()
            })
            .map(|(k, _)| k.clone())
            .collect();
        deferred.extend(keys.iter().filter_map(|k| self.comparisons.remove(k)));
        if deferred.is_empty() {
            return Ok(());
        }
        let wanted: HashSet<&str> = deferred.iter().filter_map(|c| c.desired.namespace()).collect();
        let namespaces: Vec<(&ResourceInfo, Value)> = plan
            .tasks()
            .filter(|t| category(t) == 0 && !t.is_hook() && wanted.contains(t.object.name()))
            .filter_map(|t| {
                let c = self.comparisons.get(&t.object.key())?;
                Some((c.resource.as_ref()?, t.object.to_value()))
            })
            .collect();
        ui.step(&format!(
            "preflight: {} objects in {} namespaces this set creates: creating the namespaces first, then a \
             server-side dry-run of each object",
            deferred.len(),
            namespaces.len()
        ));
        self.guard()?;
        let batch: Vec<(&ResourceInfo, &Value)> = namespaces.iter().map(|(r, v)| (*r, v)).collect();
        for result in self.cluster.apply(&batch, ApplyOptions { dry_run: false, force: self.opts.force_conflicts }) {
            result.map_err(|e| Error::SyncFailed(format!("creating a namespace of the set: {e}")))?;
        }
        let all: Vec<usize> = (0..deferred.len()).collect();
        let checked =
            crate::cluster::compare::dry_run_now(self.cluster, &mut deferred, &all, self.opts.force_conflicts);
        self.comparisons.extend(deferred.into_iter().map(|c| (c.desired.key(), c)));
        checked.map_err(|e| {
            Error::SyncFailed(format!(
                "preflight of the objects in the namespaces this set creates: {e}\nnothing else was written: the \
                 new namespaces stay, recorded in the ApplySet parent"
            ))
        })
    }

    fn steps(&mut self, plan: &SyncPlan, report: &mut SyncReport, ui: &mut dyn SyncUi) -> Result<()> {
        for step in &plan.steps {
            ui.wave(&step.phase.to_string(), step.wave, step.tasks.len());
            let mut watched = Vec::new();
            for cat in 0..3 {
                let batch: Vec<&Task> = step.tasks.iter().filter(|t| category(t) == cat).collect();
                if batch.is_empty() {
                    continue;
                }
                let done = self.apply_batch(&batch, report, ui)?;
                if cat == 1 {
                    self.wait_healthy(&done, ui)?;
                    self.refresh_discovery(&batch)?;
                }
                watched.extend(done);
            }
            let to_wait: Vec<Watched> =
                watched.iter().filter(|w| self.opts.wait || w.hook.is_some()).cloned().collect();
            // A wave's hooks complete before the next wave starts.
            self.wait_healthy(&to_wait, ui)?;
        }
        Ok(())
    }

    /// The hooks run so far that have `policy`.
    fn hooks_with(&self, policy: HookDeletePolicy) -> Vec<Watched> {
        self.hooks_run.iter().filter(|w| w.hook.as_ref().is_some_and(|p| p.contains(&policy))).cloned().collect()
    }

    /// The sync failed: delete the hooks with `policy` (best effort; a
    /// failure to delete is reported, the sync's own error is what counts).
    fn hooks_policy(&mut self, policy: HookDeletePolicy, report: &mut SyncReport, ui: &mut dyn SyncUi) {
        let doomed = self.hooks_with(policy);
        if let Err(e) = self.delete_hooks(&doomed.iter().collect::<Vec<_>>(), report, ui) {
            ui.step(&format!("hook delete policy {policy:?}: {e}"));
        }
        self.hooks_run.retain(|w| !doomed.iter().any(|d| d.key == w.key));
    }

    fn apply_batch(&mut self, batch: &[&Task], report: &mut SyncReport, ui: &mut dyn SyncUi) -> Result<Vec<Watched>> {
        self.guard()?;
        let mut todo: Vec<Pending<'_>> = Vec::new();
        let mut generated: Vec<(ResourceInfo, &Task)> = Vec::new();
        let mut out = Vec::new();
        for t in batch {
            let key = t.object.key();
            let c = self.comparisons.get(&key);
            if let Some(c) = c.filter(|c| !t.is_hook() && unchanged(c)) {
                let e = Entry::new(&key, Outcome::Unchanged, "");
                ui.object(&e, false);
                report.push(e);
                if let Some(r) = &c.resource {
                    out.push(Watched { resource: r.clone(), key, hook: None, member: true });
                }
                continue;
            }
            let (c_resource, c_mode, c_live) = match c {
                Some(c) => (c.resource.clone(), Some(c.mode), c.live.clone()),
                None => (None, None, None),
            };
            let known = c_resource.or_else(|| resource_of(&self.discovery, &t.object));
            let Some(res) = known.map_or_else(|| self.discover_late(&t.object), |r| Ok(Some(r)))? else {
                return Err(Error::SyncFailed(format!(
                    "{key} ({}): the cluster does not serve {} (after its CRDs were established)",
                    t.object.origin,
                    t.object.api_version()
                )));
            };
            if t.object.generate_name().is_some() {
                // Created anew (POST) on every sync; the server names it. A
                // previous run's object cannot be found by name, so
                // BeforeHookCreation deletes nothing (as in Argo CD).
                generated.push((res, t));
                continue;
            }
            let mode = c_mode.unwrap_or_else(|| write_mode(&t.object, &self.opts.write));
            let mut live = c_live;
            let mut created = live.is_none();
            if let Some(policies) = &t.hook {
                let ns = t.object.namespace().unwrap_or("");
                created = true;
                live = self.cluster.get_object(&res, ns, t.object.name())?;
                if live.is_some() {
                    if policies.contains(&HookDeletePolicy::BeforeHookCreation) {
                        self.guard()?;
                        let req = DeleteRequest {
                            resource: res.clone(),
                            namespace: ns.to_string(),
                            name: t.object.name().to_string(),
                            uid: None,
                            resource_version: None,
                        };
                        self.cluster.delete(&[req], Propagation::Background, false).pop().expect("one result")?;
                        self.wait_gone(&res, &key)?;
                        live = None;
                    } else {
                        created = false;
                    }
                }
            }
            todo.push(Pending { res, value: t.object.to_value(), task: t, created, mode, live });
        }
        self.guard()?;
        let batch_in: Vec<WriteItem<'_>> = todo
            .iter()
            .map(|p| WriteItem { resource: &p.res, object: &p.value, mode: p.mode, live: p.live.as_ref() })
            .collect();
        let results = self.cluster.write(&batch_in, ApplyOptions { dry_run: false, force: self.opts.force_conflicts });
        let mut first_error = None;
        for (Pending { res, task: t, created, .. }, result) in todo.iter().zip(results) {
            let key = t.object.key();
            let e = match result {
                Ok(_) => {
                    let w =
                        Watched { resource: res.clone(), key: key.clone(), hook: t.hook.clone(), member: !t.is_hook() };
                    if t.is_hook() {
                        self.hooks_run.push(w.clone());
                    }
                    out.push(w);
                    let note = if t.is_hook() { format!("{} hook", t.phase) } else { String::new() };
                    Entry::new(&key, if *created { Outcome::Created } else { Outcome::Configured }, note)
                }
                Err(err) => {
                    let msg = failed(&key, &t.object.origin, &err);
                    first_error.get_or_insert_with(|| msg.clone());
                    Entry::new(&key, Outcome::Failed, err.to_string())
                }
            };
            ui.object(&e, false);
            report.push(e);
        }
        for (res, t) in generated {
            let e = match self.cluster.create_with(&res, &t.object.to_value(), false) {
                Ok(live) => {
                    let name = live.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
                    let ns = live.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
                    let key = ObjectKey::new(t.object.group(), t.object.kind(), ns, name);
                    let w = Watched { resource: res.clone(), key: key.clone(), hook: t.hook.clone(), member: false };
                    self.hooks_run.push(w.clone());
                    out.push(w);
                    let note = format!("{} hook, generated from {}", t.phase, t.object.key().name);
                    Entry::new(&key, Outcome::Created, note)
                }
                Err(err) => {
                    let key = t.object.key();
                    let msg = failed(&key, &t.object.origin, &err);
                    first_error.get_or_insert_with(|| msg.clone());
                    Entry::new(&key, Outcome::Failed, err.to_string())
                }
            };
            ui.object(&e, false);
            report.push(e);
        }
        match first_error {
            Some(m) => Err(Error::SyncFailed(m)),
            None => Ok(out),
        }
    }

    /// A kind the cluster did not serve at the preflight (an object with
    /// `SkipDryRunOnMissingResource=true`): its CRD may exist by now.
    fn discover_late(&mut self, o: &crate::model::Object) -> Result<Option<ResourceInfo>> {
        self.gvks.insert(o.gvk());
        self.discovery = self.cluster.discover(self.gvks.iter())?;
        Ok(resource_of(&self.discovery, o))
    }

    /// Rediscover after CRDs are established; the API server may serve a
    /// new group-version a moment after the CRD says Established.
    fn refresh_discovery(&mut self, crds: &[&Task]) -> Result<()> {
        let mut wanted = Vec::new();
        for t in crds {
            let v = t.object.to_value();
            let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
            for ver in v.pointer("/spec/versions").and_then(Value::as_array).into_iter().flatten() {
                if ver.get("served").and_then(Value::as_bool) != Some(false) {
                    let name = ver.get("name").and_then(Value::as_str).unwrap_or("");
                    wanted.push(Gvk::new(&s("/spec/group"), name, &s("/spec/names/kind")));
                }
            }
        }
        self.gvks.extend(wanted.iter().cloned());
        loop {
            self.discovery = self.cluster.discover(self.gvks.iter())?;
            if wanted.iter().all(|g| self.discovery.resource(g).is_some()) || Instant::now() > self.deadline {
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
    }

    fn wait_gone(&self, res: &ResourceInfo, key: &ObjectKey) -> Result<()> {
        while self.cluster.get_object(res, &key.namespace, &key.name)?.is_some() {
            if Instant::now() > self.deadline {
                return Err(Error::SyncFailed(format!("timed out waiting for the previous {key} to be deleted")));
            }
            std::thread::sleep(POLL);
        }
        Ok(())
    }

    /// Poll until every object is healthy (kinds without a health check count
    /// as healthy); a Degraded object or the deadline fails the sync.
    fn wait_healthy(&self, items: &[Watched], ui: &mut dyn SyncUi) -> Result<()> {
        let mut pending = Vec::new();
        let result = self.poll_healthy(items, ui, &mut pending).map_err(|e| {
            // A request cut by the deadline while waiting: say what was awaited.
            if Instant::now() >= self.deadline && !pending.is_empty() {
                Error::SyncFailed(format!("timed out (--timeout) waiting for health: {}", pending.join(", ")))
            } else {
                e
            }
        });
        ui.waited();
        result
    }

    /// [`Self::wait_healthy`]'s loop; `last` holds what was still pending at the last look.
    fn poll_healthy(&self, items: &[Watched], ui: &mut dyn SyncUi, last: &mut Vec<String>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut announced = false;
        loop {
            // Not a write, but a run that lost its lock has nothing left to wait for.
            self.guard()?;
            // One LIST of the members per resource and namespace, not one GET per object.
            let mut requests: Vec<ListRequest> = Vec::new();
            for w in items.iter().filter(|w| w.member) {
                if !requests.iter().any(|r| r.resource == w.resource && r.namespace == w.key.namespace) {
                    requests.push(ListRequest {
                        resource: w.resource.clone(),
                        namespace: w.key.namespace.clone(),
                        label_selector: Some(self.selector.clone()),
                    });
                }
            }
            let mut live: HashMap<ObjectKey, Value> = HashMap::new();
            for (r, found) in requests.iter().zip(self.cluster.list(&requests)?) {
                for v in found {
                    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
                    let key = ObjectKey::new(
                        &r.resource.group,
                        &r.resource.kind,
                        &s("/metadata/namespace"),
                        &s("/metadata/name"),
                    );
                    live.insert(key, v);
                }
            }
            // Hooks are not members: one GET each.
            let others: Vec<&Watched> = items.iter().filter(|w| !w.member).collect();
            let gets: Vec<GetRequest> = others
                .iter()
                .map(|w| GetRequest {
                    resource: w.resource.clone(),
                    namespace: w.key.namespace.clone(),
                    name: w.key.name.clone(),
                })
                .collect();
            for (w, found) in others.iter().zip(self.cluster.get(&gets)) {
                if let Some(v) = found? {
                    live.insert(w.key.clone(), v);
                }
            }
            let mut pending = Vec::new();
            for (w, live) in items.iter().map(|w| (w, live.remove(&w.key))) {
                let Some(live) = live else {
                    pending.push(format!("{} (Missing)", w.key));
                    continue;
                };
                match assess_for_wait(&live) {
                    None => {}
                    Some(h) if h.status == HealthStatus::Healthy => {}
                    Some(h) if h.status == HealthStatus::Degraded => {
                        return Err(Error::SyncFailed(format!("{} is Degraded: {}", w.key, h.message)));
                    }
                    Some(h) => pending.push(format!("{} ({}: {})", w.key, h.status, h.message)),
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            last.clone_from(&pending);
            if Instant::now() > self.deadline {
                return Err(Error::SyncFailed(format!(
                    "timed out (--timeout) waiting for health: {}",
                    pending.join(", ")
                )));
            }
            ui.waiting(&pending, !announced);
            announced = true;
            std::thread::sleep(POLL);
        }
    }

    fn delete_hooks(&self, hooks: &[&Watched], report: &mut SyncReport, ui: &mut dyn SyncUi) -> Result<()> {
        if hooks.is_empty() {
            return Ok(());
        }
        self.guard()?;
        let reqs: Vec<DeleteRequest> = hooks
            .iter()
            .map(|w| DeleteRequest {
                resource: w.resource.clone(),
                namespace: w.key.namespace.clone(),
                name: w.key.name.clone(),
                uid: None,
                resource_version: None,
            })
            .collect();
        for (w, r) in hooks.iter().zip(self.cluster.delete(&reqs, Propagation::Background, false)) {
            r?;
            let e = Entry::new(&w.key, Outcome::Deleted, "hook delete policy");
            ui.object(&e, false);
            report.push(e);
        }
        Ok(())
    }

    /// The sync failed: run the SyncFail hooks (best effort; their failures are reported, not raised).
    fn sync_fail(&mut self, plan: &SyncPlan, report: &mut SyncReport, ui: &mut dyn SyncUi) {
        if plan.sync_fail.is_empty() {
            return;
        }
        ui.step(&format!("SyncFail: {} hooks", plan.sync_fail.len()));
        self.deadline = Instant::now() + self.opts.timeout;
        // The hooks get a fresh --timeout, their requests too.
        self.cluster.set_deadline(Some(self.deadline));
        let tasks: Vec<&Task> = plan.sync_fail.iter().collect();
        match self.apply_batch(&tasks, report, ui) {
            Ok(done) => {
                let waited = self.wait_healthy(&done, ui);
                let policy =
                    if waited.is_ok() { HookDeletePolicy::HookSucceeded } else { HookDeletePolicy::HookFailed };
                let doomed: Vec<&Watched> =
                    done.iter().filter(|w| w.hook.as_ref().is_some_and(|p| p.contains(&policy))).collect();
                for e in [self.delete_hooks(&doomed, report, ui).err(), waited.err()].into_iter().flatten() {
                    ui.step(&format!("SyncFail hooks: {e}"));
                }
            }
            Err(e) => ui.step(&format!("SyncFail hooks: {e}")),
        }
    }

    fn prune(&self, items: &[LiveItem], report: &mut SyncReport, ui: &mut dyn SyncUi) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        self.guard()?;
        let reqs: Vec<DeleteRequest> = items.iter().map(LiveItem::delete_request).collect();
        let mut first_error = None;
        for (item, r) in items.iter().zip(self.cluster.delete(&reqs, self.opts.cascade.into(), false)) {
            let e = match r {
                Ok(true) => Entry::new(&item.key(), Outcome::Pruned, ""),
                Ok(false) => Entry::new(&item.key(), Outcome::Pruned, "already gone"),
                Err(err) => {
                    first_error.get_or_insert_with(|| format!("pruning {}: {err}", item.key()));
                    Entry::new(&item.key(), Outcome::Failed, err.to_string())
                }
            };
            ui.object(&e, false);
            report.push(e);
        }
        match first_error {
            Some(m) => Err(Error::SyncFailed(m)),
            None => Ok(()),
        }
    }
}
