//! Health assessment of live objects, as Argo CD's built-in (Go) checks do.
//!
//! [`assess`] is the exact Argo CD behaviour (checked by the health
//! conformance suite): a check chosen by group and kind, `None` for kinds
//! without one. [`assess_for_wait`] extends it for `sync --wait` and
//! `status`: CRDs (Established) and any kind exposing standard `Ready` /
//! `Available` conditions. Pure functions over `serde_json::Value`.

mod checks;
mod fields;

use std::fmt;

use serde_json::Value;

/// Health codes, declared from most to least healthy (Argo CD's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HealthStatus {
    Healthy,
    Suspended,
    Progressing,
    Missing,
    Degraded,
    Unknown,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "Healthy",
            HealthStatus::Suspended => "Suspended",
            HealthStatus::Progressing => "Progressing",
            HealthStatus::Missing => "Missing",
            HealthStatus::Degraded => "Degraded",
            HealthStatus::Unknown => "Unknown",
        }
    }

    /// Argo CD's `IsWorse`.
    pub fn is_worse_than(self, other: HealthStatus) -> bool {
        self > other
    }
}

impl serde::Serialize for HealthStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A health verdict with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub status: HealthStatus,
    pub message: String,
}

impl Health {
    pub(crate) fn new(status: HealthStatus, message: impl Into<String>) -> Self {
        Health { status, message: message.into() }
    }
}

/// Argo CD's built-in health of a live object; `None` when no built-in
/// check exists for its group and kind.
pub fn assess(obj: &Value) -> Option<Health> {
    if !fields::str_at(obj, "/metadata/deletionTimestamp").is_empty()
        && !fields::strings_at(obj, "/metadata/finalizers").iter().any(|f| f == "argocd.argoproj.io/hook-finalizer")
    {
        return Some(Health::new(HealthStatus::Progressing, "Pending deletion"));
    }
    let api_version = fields::str_at(obj, "/apiVersion");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = fields::str_at(obj, "/kind");
    checks::builtin(group, version, kind, obj)
}

/// Health used to wait on a sync and to report status: [`assess`], then
/// CRDs and generic `Ready`/`Available` conditions; `None` (counted healthy)
/// for everything else.
pub fn assess_for_wait(obj: &Value) -> Option<Health> {
    if let Some(h) = assess(obj) {
        return Some(h);
    }
    let api_version = fields::str_at(obj, "/apiVersion");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    if group == "apiextensions.k8s.io" && fields::str_at(obj, "/kind") == "CustomResourceDefinition" {
        return Some(checks::crd(obj));
    }
    checks::generic_conditions(obj)
}

/// Roll object health up into an app's health: the worst status wins;
/// objects without health are skipped (Argo CD's application roll-up).
pub fn roll_up<'a>(statuses: impl IntoIterator<Item = Option<&'a Health>>) -> HealthStatus {
    statuses.into_iter().flatten().map(|h| h.status).fold(HealthStatus::Healthy, |worst, s| worst.max(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn severity_order_matches_argo() {
        use HealthStatus::*;
        let order = [Healthy, Suspended, Progressing, Missing, Degraded, Unknown];
        for w in order.windows(2) {
            assert!(w[1].is_worse_than(w[0]));
        }
        let h = Health::new(Progressing, "");
        let d = Health::new(Degraded, "");
        assert_eq!(roll_up([Some(&h), None, Some(&d)]), Degraded);
        assert_eq!(roll_up([None]), Healthy);
    }

    #[test]
    fn wait_health_extends_argo() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "x"},
            "status": {"conditions": [{"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "True"}]}});
        assert_eq!(assess(&crd), None);
        assert_eq!(assess_for_wait(&crd).unwrap().status, HealthStatus::Healthy);
        let pending = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "x"}});
        assert_eq!(assess_for_wait(&pending).unwrap().status, HealthStatus::Progressing);
        let ready = json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "x"},
            "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Broken", "message": "no"}]}});
        assert_eq!(assess_for_wait(&ready).unwrap(), Health::new(HealthStatus::Degraded, "Broken: no"));
        let plain = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        assert_eq!(assess_for_wait(&plain), None);
    }

    #[test]
    fn hpa_health_in_every_version() {
        let conds = json!([{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale", "message": "ok"}]);
        for v in ["v2", "v2beta2", "v2beta1"] {
            let hpa = json!({"apiVersion": format!("autoscaling/{v}"), "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "x"}, "status": {"conditions": conds}});
            assert_eq!(assess(&hpa).unwrap(), Health::new(HealthStatus::Healthy, "ok"), "{v}");
            let waiting = json!({"apiVersion": format!("autoscaling/{v}"), "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"}});
            assert_eq!(assess(&waiting).unwrap().status, HealthStatus::Progressing, "{v}");
        }
        // v1 keeps them in an annotation; read as v1, the status conditions do not count.
        let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "x", "annotations": {"autoscaling.alpha.kubernetes.io/conditions": conds.to_string()}}});
        assert_eq!(assess(&v1).unwrap(), Health::new(HealthStatus::Healthy, "ok"));
        let other =
            json!({"apiVersion": "autoscaling/v3", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"}});
        assert_eq!(assess(&other).unwrap().status, HealthStatus::Unknown);
    }

    #[test]
    fn cronjob_and_pdb_follow_argo_cds_scripts() {
        let cron = |spec: Value, status: Value| json!({"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "c"}, "spec": spec, "status": status});
        let st = |c: Value| assess(&c).unwrap().status;
        assert_eq!(st(cron(json!({"suspend": true}), json!({}))), HealthStatus::Suspended);
        let mut none = cron(json!({}), Value::Null);
        none.as_object_mut().unwrap().remove("status");
        assert_eq!(st(none), HealthStatus::Progressing);
        assert_eq!(st(cron(json!({}), json!({}))), HealthStatus::Healthy);
        let failed = json!({"lastScheduleTime": "2026-12-05T10:00:00Z", "lastSuccessfulTime": "2026-12-05T09:00:00Z"});
        assert_eq!(st(cron(json!({}), failed.clone())), HealthStatus::Degraded);
        let mut running = failed;
        running["active"] = json!([{"name": "j"}]);
        assert_eq!(st(cron(json!({}), running)), HealthStatus::Healthy);

        let pdb = |conds: Value| json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}, "status": {"conditions": conds}});
        assert_eq!(assess(&pdb(json!([]))).unwrap(), Health::new(HealthStatus::Progressing, "Waiting for status"));
        let ok = json!([{"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods"}]);
        assert_eq!(
            assess(&pdb(ok)).unwrap(),
            Health::new(HealthStatus::Healthy, "PodDisruptionBudget has SufficientPods")
        );
        let few = json!([{"type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods"}]);
        assert_eq!(st(pdb(few)), HealthStatus::Healthy);
        let bad = json!([{"type": "DisruptionAllowed", "status": "False", "reason": "SyncFailed"}]);
        assert_eq!(
            assess(&pdb(bad)).unwrap(),
            Health::new(HealthStatus::Degraded, "PodDisruptionBudget has SyncFailed")
        );
    }
}
