//! The sync plan: which rendered objects are applied in which phase and wave,
//! which are hooks, and which are skipped. Pure: the executor in `sync`
//! walks the plan against the cluster.
//!
//! Follows Argo CD: phases PreSync, Sync, PostSync (SyncFail only when the
//! sync fails); waves from `argocd.argoproj.io/sync-wave` (Helm hooks: their
//! `helm.sh/hook-weight`); within a wave the install order (Namespaces, CRDs,
//! then Helm's kind order). Helm hooks map as Argo CD maps them:
//! pre-install/pre-upgrade -> PreSync, post-install/post-upgrade -> PostSync,
//! `crd-install` is an ordinary resource, other Helm hook types never run.
//! A hook's delete policies come from both annotations (Argo CD's and
//! Helm's), BeforeHookCreation when neither gives one.

use std::fmt;

use crate::error::{Error, Result};
use crate::keys::{
    HELM_HOOK, HELM_HOOK_DELETE_POLICY, HELM_HOOK_WEIGHT, HOOK, HOOK_DELETE_POLICY, SYNC_OPTIONS, SYNC_WAVE,
};
use crate::model::{Object, ObjectKey};
use crate::normalize::install_key;

/// A sync phase, in execution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    PreSync,
    Sync,
    PostSync,
    SyncFail,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::PreSync => "PreSync",
            Phase::Sync => "Sync",
            Phase::PostSync => "PostSync",
            Phase::SyncFail => "SyncFail",
        })
    }
}

/// When a hook object is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookDeletePolicy {
    /// Delete the previous run's object before creating the hook (the default).
    BeforeHookCreation,
    /// Delete once the hook is healthy.
    HookSucceeded,
    /// Delete when the hook failed.
    HookFailed,
}

/// Per-object sync options (`argocd.argoproj.io/sync-options`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectOptions {
    /// `Prune=false` clears it: never pruned.
    pub prune: bool,
    /// `Delete=false` clears it: never deleted, not even when the app is.
    pub delete: bool,
    /// `PruneLast=true`: pruned after every other step.
    pub prune_last: bool,
    /// `Replace=true|false`: replaced (PUT) rather than applied; `None`: the app decides.
    pub replace: Option<bool>,
    /// `ServerSideApply=true|false`; `None`: the app decides.
    pub server_side_apply: Option<bool>,
    /// `Validate=false`: written by a client-side apply, which drops unknown fields.
    pub validate: Option<bool>,
    /// `SkipDryRunOnMissingResource=true`: a kind the cluster does not serve yet is not dry-run.
    pub skip_dry_run_on_missing: Option<bool>,
}

impl Default for ObjectOptions {
    fn default() -> Self {
        ObjectOptions {
            prune: true,
            delete: true,
            prune_last: false,
            replace: None,
            server_side_apply: None,
            validate: None,
            skip_dry_run_on_missing: None,
        }
    }
}

/// The app-level sync options that decide how objects are written (an
/// Application's `syncPolicy.syncOptions`); an object's own
/// `argocd.argoproj.io/sync-options` win over them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteDefaults {
    pub replace: bool,
    /// `None`: server-side apply, this tool's default.
    pub server_side_apply: Option<bool>,
    pub validate: bool,
    pub skip_dry_run_on_missing: bool,
}

impl Default for WriteDefaults {
    fn default() -> Self {
        WriteDefaults { replace: false, server_side_apply: None, validate: true, skip_dry_run_on_missing: false }
    }
}

impl WriteDefaults {
    /// From an Application's `syncPolicy.syncOptions`.
    pub fn from_sync_options(options: &[crate::source::app::SyncOption]) -> WriteDefaults {
        use crate::source::app::SyncOption;
        let mut d = WriteDefaults::default();
        for o in options {
            match *o {
                SyncOption::Replace(b) => d.replace = b,
                SyncOption::ServerSideApply(b) => d.server_side_apply = Some(b),
                SyncOption::Validate(b) => d.validate = b,
                SyncOption::SkipDryRunOnMissingResource(b) => d.skip_dry_run_on_missing = b,
                _ => {}
            }
        }
        d
    }
}

/// How `o` is written, as Argo CD decides it: `Replace=true` first, then
/// `ServerSideApply=false` (a client-side apply); `Validate=false` also
/// means a client-side apply, the only write that drops unknown fields on
/// every API server version (`kubectl apply --validate=false`); otherwise
/// server-side apply.
pub fn write_mode(o: &Object, d: &WriteDefaults) -> crate::cluster::write::WriteMode {
    use crate::cluster::write::WriteMode;
    let oo = object_options(o);
    if oo.replace.unwrap_or(d.replace) {
        WriteMode::Replace
    } else if oo.server_side_apply.or(d.server_side_apply) == Some(false) || !oo.validate.unwrap_or(d.validate) {
        WriteMode::ClientSideApply
    } else {
        WriteMode::ServerSideApply
    }
}

/// Parse an object's sync options; unknown options are ignored with a warning.
pub fn object_options(o: &Object) -> ObjectOptions {
    let mut opts = ObjectOptions::default();
    for item in o.annotation(SYNC_OPTIONS).unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item {
            "Prune=false" => opts.prune = false,
            "Prune=true" => opts.prune = true,
            "Delete=false" => opts.delete = false,
            "Delete=true" => opts.delete = true,
            "PruneLast=true" => opts.prune_last = true,
            "PruneLast=false" => opts.prune_last = false,
            "Replace=true" => opts.replace = Some(true),
            "Replace=false" => opts.replace = Some(false),
            "ServerSideApply=true" => opts.server_side_apply = Some(true),
            "ServerSideApply=false" => opts.server_side_apply = Some(false),
            "Validate=true" => opts.validate = Some(true),
            "Validate=false" => opts.validate = Some(false),
            "SkipDryRunOnMissingResource=true" => opts.skip_dry_run_on_missing = Some(true),
            "SkipDryRunOnMissingResource=false" => opts.skip_dry_run_on_missing = Some(false),
            other => match crate::logging::unsupported_sync_option(other) {
                Some(instead) => crate::logging::warn_once(
                    other,
                    format!("sync option {other} (on {} and maybe others) is not supported: {instead}", o.key()),
                ),
                None => tracing::debug!("{}: sync option {other:?} has no effect here", o.key()),
            },
        }
    }
    opts
}

/// One object to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub object: Object,
    pub phase: Phase,
    pub wave: i64,
    /// `Some` for hooks, with their delete policies.
    pub hook: Option<Vec<HookDeletePolicy>>,
    pub options: ObjectOptions,
}

impl Task {
    pub fn is_hook(&self) -> bool {
        self.hook.is_some()
    }
}

/// The objects of one (phase, wave), in install order.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub phase: Phase,
    pub wave: i64,
    pub tasks: Vec<Task>,
}

/// The whole plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncPlan {
    /// PreSync, Sync and PostSync steps in execution order.
    pub steps: Vec<Step>,
    /// SyncFail hooks, run only when the sync fails.
    pub sync_fail: Vec<Task>,
    /// Objects never applied, with the reason (Skip hooks, unsupported Helm hooks).
    pub skipped: Vec<(ObjectKey, String)>,
}

impl SyncPlan {
    /// Every task of the normal phases, in execution order.
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.steps.iter().flat_map(|s| s.tasks.iter())
    }
}

enum Classified {
    Task(Task),
    Skip(String),
}

fn invalid(o: &Object, message: String) -> Error {
    Error::Plan { origin: o.origin.clone(), key: Box::new(o.key()), message }
}

fn parse_wave(o: &Object, key: &str) -> Result<Option<i64>> {
    match o.annotation(key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| invalid(o, format!("annotation {key}: {v:?} is not an integer"))),
    }
}

fn classify(o: &Object) -> Result<Classified> {
    let options = object_options(o);
    let argo_wave = parse_wave(o, SYNC_WAVE)?;
    if let Some(hooks) = o.annotation(HOOK) {
        let mut phases = Vec::new();
        for h in hooks.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match h {
                "PreSync" => phases.push(Phase::PreSync),
                "Sync" => phases.push(Phase::Sync),
                "PostSync" => phases.push(Phase::PostSync),
                "SyncFail" => phases.push(Phase::SyncFail),
                "Skip" => return Ok(Classified::Skip("hook Skip".into())),
                "PostDelete" => return Ok(Classified::Skip("PostDelete hooks run only when an app is deleted".into())),
                other => return Err(invalid(o, format!("annotation {HOOK}: unknown hook type {other:?}"))),
            }
        }
        let Some(&phase) = phases.iter().min() else {
            return Err(invalid(o, format!("annotation {HOOK} is empty")));
        };
        if phases.len() > 1 {
            return Err(invalid(
                o,
                format!("annotation {HOOK}: one object in several phases ({hooks}) is not supported"),
            ));
        }
        let policies = delete_policies(o)?;
        return Ok(Classified::Task(Task {
            object: o.clone(),
            phase,
            wave: argo_wave.unwrap_or(0),
            hook: Some(policies),
            options,
        }));
    }
    if let Some(helm) = o.annotation(HELM_HOOK) {
        let types: Vec<&str> = helm.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if !(types.len() == 1 && types[0] == "crd-install") {
            let phase = if types.iter().any(|t| matches!(*t, "pre-install" | "pre-upgrade")) {
                Phase::PreSync
            } else if types.iter().any(|t| matches!(*t, "post-install" | "post-upgrade")) {
                Phase::PostSync
            } else {
                return Ok(Classified::Skip(format!("Helm hook {helm:?} has no sync phase")));
            };
            let wave = match argo_wave {
                Some(w) => w,
                None => parse_wave(o, HELM_HOOK_WEIGHT)?.unwrap_or(0),
            };
            let policies = delete_policies(o)?;
            return Ok(Classified::Task(Task { object: o.clone(), phase, wave, hook: Some(policies), options }));
        }
    }
    if let Some(g) = o.generate_name() {
        return Err(invalid(
            o,
            format!("metadata.generateName {g:?} without metadata.name: only hooks may be named by the server"),
        ));
    }
    Ok(Classified::Task(Task {
        object: o.clone(),
        phase: Phase::Sync,
        wave: argo_wave.unwrap_or(0),
        hook: None,
        options,
    }))
}

/// A hook's delete policies: those of both annotations, Argo CD's and
/// Helm's (gitops-engine's `hook.DeletePolicies` reads both for every hook);
/// none means BeforeHookCreation.
fn delete_policies(o: &Object) -> Result<Vec<HookDeletePolicy>> {
    let mut out = Vec::new();
    let values = [o.annotation(HOOK_DELETE_POLICY), o.annotation(HELM_HOOK_DELETE_POLICY)];
    for p in values.into_iter().flatten().flat_map(|v| v.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let policy = match p {
            "BeforeHookCreation" | "before-hook-creation" => HookDeletePolicy::BeforeHookCreation,
            "HookSucceeded" | "hook-succeeded" => HookDeletePolicy::HookSucceeded,
            "HookFailed" | "hook-failed" => HookDeletePolicy::HookFailed,
            other => return Err(invalid(o, format!("unknown hook delete policy {other:?}"))),
        };
        if !out.contains(&policy) {
            out.push(policy);
        }
    }
    if out.is_empty() {
        out.push(HookDeletePolicy::BeforeHookCreation);
    }
    Ok(out)
}

/// Build the plan of a normalized set.
pub fn plan<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Result<SyncPlan> {
    let mut tasks = Vec::new();
    let mut plan = SyncPlan::default();
    for o in objects {
        match classify(o)? {
            Classified::Task(t) if t.phase == Phase::SyncFail => plan.sync_fail.push(t),
            Classified::Task(t) => tasks.push(t),
            Classified::Skip(reason) => plan.skipped.push((o.key(), reason)),
        }
    }
    tasks.sort_by_cached_key(|t| (t.phase, t.wave, install_key(&t.object)));
    for t in tasks {
        match plan.steps.last_mut() {
            Some(step) if step.phase == t.phase && step.wave == t.wave => step.tasks.push(t),
            _ => plan.steps.push(Step { phase: t.phase, wave: t.wave, tasks: vec![t] }),
        }
    }
    plan.sync_fail.sort_by_cached_key(|t| (t.wave, install_key(&t.object)));
    Ok(plan)
}

/// The mass-prune guard: deleting more than half of the app's live members,
/// and at least 10 objects, needs explicit confirmation.
pub fn is_mass_prune(to_delete: usize, live_members: usize) -> bool {
    to_delete >= 10 && to_delete * 2 > live_members
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;
    use serde_json::json;

    fn obj(kind: &str, name: &str, ann: serde_json::Value) -> Object {
        let api = if kind == "Job" { "batch/v1" } else { "v1" };
        Object::new(
            json!({"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "n", "annotations": ann}}),
            Origin::new("f.yaml", 0, 1),
        )
        .unwrap()
    }

    fn order(p: &SyncPlan) -> Vec<String> {
        p.tasks().map(|t| format!("{}:{}:{}", t.phase, t.wave, t.object.name())).collect()
    }

    #[test]
    fn phases_waves_then_install_order() {
        let objs = vec![
            obj("ConfigMap", "late", json!({SYNC_WAVE: "5"})),
            obj("Service", "svc", json!({})),
            obj("ConfigMap", "cfg", json!({})),
            obj("Job", "migrate", json!({HOOK: "PreSync"})),
            obj("Job", "smoke", json!({HOOK: "PostSync", HOOK_DELETE_POLICY: "HookSucceeded"})),
            obj("ConfigMap", "early", json!({SYNC_WAVE: "-1"})),
            obj("Job", "notify", json!({HOOK: "SyncFail"})),
            obj("Job", "helm-pre", json!({HELM_HOOK: "pre-install,pre-upgrade", HELM_HOOK_WEIGHT: "-2"})),
            obj("Job", "helm-test", json!({HELM_HOOK: "test"})),
            obj("ConfigMap", "skipped", json!({HOOK: "Skip"})),
            obj("ConfigMap", "crd-install", json!({HELM_HOOK: "crd-install"})),
        ];
        let p = plan(&objs).unwrap();
        assert_eq!(
            order(&p),
            [
                "PreSync:-2:helm-pre",
                "PreSync:0:migrate",
                "Sync:-1:early",
                "Sync:0:cfg",
                "Sync:0:crd-install",
                "Sync:0:svc",
                "Sync:5:late",
                "PostSync:0:smoke",
            ]
        );
        assert_eq!(p.steps.len(), 6);
        assert_eq!(p.sync_fail.len(), 1);
        let skipped: Vec<&str> = p.skipped.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(skipped, ["helm-test", "skipped"]);
        let smoke = p.tasks().find(|t| t.object.name() == "smoke").unwrap();
        assert_eq!(smoke.hook, Some(vec![HookDeletePolicy::HookSucceeded]));
        let migrate = p.tasks().find(|t| t.object.name() == "migrate").unwrap();
        assert_eq!(migrate.hook, Some(vec![HookDeletePolicy::BeforeHookCreation]));
        // Both annotations count, whichever kind of hook it is.
        let both = obj(
            "Job",
            "both",
            json!({HOOK: "PreSync", HOOK_DELETE_POLICY: "HookSucceeded", HELM_HOOK_DELETE_POLICY: "hook-failed,hook-succeeded"}),
        );
        let p = plan(&[both]).unwrap();
        assert_eq!(p.steps[0].tasks[0].hook, Some(vec![HookDeletePolicy::HookSucceeded, HookDeletePolicy::HookFailed]));
    }

    #[test]
    fn hooks_named_by_generate_name() {
        let unnamed = |ann: serde_json::Value| {
            Object::new(
                json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "run-", "namespace": "n", "annotations": ann}}),
                Origin::new("f.yaml", 0, 1),
            )
            .unwrap()
        };
        let p = plan(&[
            unnamed(json!({HOOK: "PreSync"})),
            unnamed(json!({HELM_HOOK: "post-install", HELM_HOOK_DELETE_POLICY: "hook-succeeded"})),
        ])
        .unwrap();
        assert_eq!(order(&p), ["PreSync:0:", "PostSync:0:"]);
        let keys: Vec<String> = p.tasks().map(|t| t.object.key().to_string()).collect();
        assert_eq!(keys, ["Job.batch n/run-*", "Job.batch n/run-*"]);
        assert_eq!(p.steps[1].tasks[0].hook, Some(vec![HookDeletePolicy::HookSucceeded]));
        // A Helm test hook is a hook too: skipped, not an error.
        assert_eq!(plan(&[unnamed(json!({HELM_HOOK: "test"}))]).unwrap().skipped.len(), 1);
    }

    #[test]
    fn bad_annotations_name_the_object() {
        let err = plan(&[obj("ConfigMap", "x", json!({SYNC_WAVE: "soon"}))]).unwrap_err().to_string();
        assert!(err.contains("f.yaml:1") && err.contains("ConfigMap n/x") && err.contains("not an integer"), "{err}");
        assert!(plan(&[obj("Job", "x", json!({HOOK: "Later"}))]).is_err());
    }

    #[test]
    fn sync_options_and_mass_prune_guard() {
        let o = obj("ConfigMap", "x", json!({SYNC_OPTIONS: "Prune=false, PruneLast=true"}));
        assert_eq!(
            object_options(&o),
            ObjectOptions { prune: false, delete: true, prune_last: true, ..Default::default() }
        );
        assert!(!is_mass_prune(9, 10));
        assert!(is_mass_prune(10, 19));
        assert!(!is_mass_prune(10, 20));
    }
}
