//! One function per kind, each following Argo CD's Go check for it.

use serde_json::Value;

use super::fields::{array_at, condition, int_at, opt_int_at, str_at};
use super::{Health, HealthStatus};
use HealthStatus::*;

/// Dispatch by group and kind; the version is checked by each entry.
pub fn builtin(group: &str, version: &str, kind: &str, obj: &Value) -> Option<Health> {
    let unsupported =
        |name: &str| Some(Health::new(Unknown, format!("unsupported {name} GVK: {group}/{version}, Kind={kind}")));
    match (group, kind) {
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet") if version != "v1" => unsupported(kind),
        ("apps", "Deployment") => Some(deployment(obj)),
        ("apps", "StatefulSet") => Some(statefulset(obj)),
        ("apps", "ReplicaSet") => Some(replicaset(obj)),
        ("apps", "DaemonSet") => Some(daemonset(obj)),
        ("", "Service" | "PersistentVolumeClaim" | "Pod") if version != "v1" => unsupported(kind),
        ("", "Service") => Some(service(obj)),
        ("", "PersistentVolumeClaim") => Some(pvc(obj)),
        ("", "Pod") => Some(pod(obj)),
        ("batch", "Job") if version != "v1" => unsupported("Job"),
        ("batch", "Job") => Some(job(obj)),
        ("autoscaling", "HorizontalPodAutoscaler") => match version {
            "v1" => Some(hpa_v1(obj)),
            // v2beta1, v2beta2 and v2 keep the conditions in status, each read in its own version.
            "v2" | "v2beta2" | "v2beta1" => Some(hpa_conditions(array_at(obj, "/status/conditions"))),
            _ => unsupported("HPA"),
        },
        ("apiregistration.k8s.io", "APIService") if version != "v1" && version != "v1beta1" => {
            unsupported("APIService")
        }
        ("apiregistration.k8s.io", "APIService") => Some(apiservice(obj)),
        ("extensions" | "networking.k8s.io", "Ingress") => Some(ingress(obj)),
        ("argoproj.io", "Workflow") => Some(workflow(obj)),
        // Argo CD's bundled health scripts (resource_customizations), any version.
        ("batch", "CronJob") => Some(cronjob(obj)),
        ("policy", "PodDisruptionBudget") => Some(pdb(obj)),
        _ => None,
    }
}

fn deployment(d: &Value) -> Health {
    if d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return Health::new(Suspended, "Deployment is paused");
    }
    if int_at(d, "/metadata/generation") > int_at(d, "/status/observedGeneration") {
        return Health::new(
            Progressing,
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        );
    }
    let conditions = array_at(d, "/status/conditions");
    if condition(conditions, "Progressing").is_some_and(|c| str_at(c, "/reason") == "ProgressDeadlineExceeded") {
        return Health::new(
            Degraded,
            format!("Deployment {:?} exceeded its progress deadline", str_at(d, "/metadata/name")),
        );
    }
    let updated = int_at(d, "/status/updatedReplicas");
    if let Some(replicas) = opt_int_at(d, "/spec/replicas")
        && updated < replicas
    {
        return Health::new(
            Progressing,
            format!("Waiting for rollout to finish: {updated} out of {replicas} new replicas have been updated..."),
        );
    }
    let status_replicas = int_at(d, "/status/replicas");
    if status_replicas > updated {
        return Health::new(
            Progressing,
            format!(
                "Waiting for rollout to finish: {} old replicas are pending termination...",
                status_replicas - updated
            ),
        );
    }
    let available = int_at(d, "/status/availableReplicas");
    if available < updated {
        return Health::new(
            Progressing,
            format!("Waiting for rollout to finish: {available} of {updated} updated replicas are available..."),
        );
    }
    Health::new(Healthy, "")
}

fn statefulset(s: &Value) -> Health {
    let observed = int_at(s, "/status/observedGeneration");
    if observed == 0 || int_at(s, "/metadata/generation") > observed {
        return Health::new(Progressing, "Waiting for statefulset spec update to be observed...");
    }
    let ready = int_at(s, "/status/readyReplicas");
    let replicas = opt_int_at(s, "/spec/replicas");
    if let Some(r) = replicas
        && ready < r
    {
        return Health::new(Progressing, format!("Waiting for {} pods to be ready...", r - ready));
    }
    let updated = int_at(s, "/status/updatedReplicas");
    let strategy = str_at(s, "/spec/updateStrategy/type");
    if strategy == "RollingUpdate" && s.pointer("/spec/updateStrategy/rollingUpdate").is_some_and(|v| !v.is_null()) {
        if let (Some(r), Some(partition)) = (replicas, opt_int_at(s, "/spec/updateStrategy/rollingUpdate/partition"))
            && updated < r - partition
        {
            return Health::new(
                Progressing,
                format!(
                    "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                    r - partition
                ),
            );
        }
        return Health::new(Healthy, format!("partitioned roll out complete: {updated} new pods have been updated..."));
    }
    if strategy == "OnDelete" {
        return Health::new(Healthy, format!("statefulset has {ready} ready pods"));
    }
    let (update_rev, current_rev) = (str_at(s, "/status/updateRevision"), str_at(s, "/status/currentRevision"));
    if update_rev != current_rev {
        return Health::new(
            Progressing,
            format!("waiting for statefulset rolling update to complete {updated} pods at revision {update_rev}..."),
        );
    }
    Health::new(
        Healthy,
        format!(
            "statefulset rolling update complete {} pods at revision {current_rev}...",
            int_at(s, "/status/currentReplicas")
        ),
    )
}

fn daemonset(d: &Value) -> Health {
    if int_at(d, "/metadata/generation") > int_at(d, "/status/observedGeneration") {
        return Health::new(
            Progressing,
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        );
    }
    let updated = int_at(d, "/status/updatedNumberScheduled");
    let desired = int_at(d, "/status/desiredNumberScheduled");
    if str_at(d, "/spec/updateStrategy/type") == "OnDelete" {
        return Health::new(Healthy, format!("daemon set {updated} out of {desired} new pods have been updated"));
    }
    let name = str_at(d, "/metadata/name");
    if updated < desired {
        return Health::new(
            Progressing,
            format!(
                "Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated..."
            ),
        );
    }
    let available = int_at(d, "/status/numberAvailable");
    if available < desired {
        return Health::new(
            Progressing,
            format!(
                "Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available..."
            ),
        );
    }
    Health::new(Healthy, "")
}

fn replicaset(r: &Value) -> Health {
    if int_at(r, "/metadata/generation") > int_at(r, "/status/observedGeneration") {
        return Health::new(
            Progressing,
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        );
    }
    if let Some(c) = condition(array_at(r, "/status/conditions"), "ReplicaFailure")
        && str_at(c, "/status") == "True"
    {
        return Health::new(Degraded, str_at(c, "/message"));
    }
    let available = int_at(r, "/status/availableReplicas");
    if let Some(replicas) = opt_int_at(r, "/spec/replicas")
        && available < replicas
    {
        return Health::new(
            Progressing,
            format!("Waiting for rollout to finish: {available} out of {replicas} new replicas are available..."),
        );
    }
    Health::new(Healthy, "")
}

fn service(s: &Value) -> Health {
    if str_at(s, "/spec/type") == "LoadBalancer" && array_at(s, "/status/loadBalancer/ingress").is_empty() {
        return Health::new(Progressing, "");
    }
    Health::new(Healthy, "")
}

fn ingress(i: &Value) -> Health {
    if array_at(i, "/status/loadBalancer/ingress").is_empty() {
        Health::new(Progressing, "")
    } else {
        Health::new(Healthy, "")
    }
}

fn pvc(p: &Value) -> Health {
    match str_at(p, "/status/phase") {
        "Bound" => Health::new(Healthy, ""),
        "Pending" => Health::new(Progressing, ""),
        "Lost" => Health::new(Degraded, ""),
        _ => Health::new(Unknown, ""),
    }
}

fn is_hook(p: &Value) -> bool {
    let ann = p.pointer("/metadata/annotations").and_then(Value::as_object);
    let Some(ann) = ann else { return false };
    if let Some(hooks) = ann.get("argocd.argoproj.io/hook").and_then(Value::as_str) {
        let known = ["PreSync", "Sync", "PostSync", "SyncFail", "PostDelete", "Skip"];
        let recognised: Vec<&str> = hooks.split(',').map(str::trim).filter(|h| known.contains(h)).collect();
        // Argo CD: with the annotation present it is a hook unless Skip is its only type.
        return recognised != ["Skip"];
    }
    ann.get("helm.sh/hook").and_then(Value::as_str).is_some_and(|h| h != "crd-install")
}

fn pod(p: &Value) -> Health {
    let restart = str_at(p, "/spec/restartPolicy");
    let ignore = str_at(p, "/metadata/annotations/argocd.argoproj.io~1ignore-restart-policy") == "true";
    let long_running = restart == "Always" || (ignore && !is_hook(p));
    let message = str_at(p, "/status/message");
    if long_running {
        let waiting: Vec<&str> = array_at(p, "/status/containerStatuses")
            .iter()
            .filter(|c| {
                let reason = str_at(c, "/state/waiting/reason");
                reason.starts_with("Err") || reason.ends_with("Error") || reason.ends_with("BackOff")
            })
            .map(|c| str_at(c, "/state/waiting/message"))
            .collect();
        if !waiting.is_empty() {
            return Health::new(Degraded, waiting.join(", "));
        }
    }
    match str_at(p, "/status/phase") {
        "Pending" => Health::new(Progressing, message),
        "Succeeded" => Health::new(Healthy, message),
        "Failed" => {
            if !message.is_empty() {
                return Health::new(Degraded, message);
            }
            let containers =
                array_at(p, "/status/initContainerStatuses").iter().chain(array_at(p, "/status/containerStatuses"));
            for c in containers {
                let text = terminated_text(c);
                if !text.is_empty() {
                    return Health::new(Degraded, text);
                }
            }
            Health::new(Degraded, "")
        }
        "Running" if long_running => {
            let conditions = array_at(p, "/status/conditions");
            if condition(conditions, "Ready").is_some_and(|c| str_at(c, "/status") == "True") {
                Health::new(Healthy, message)
            } else if array_at(p, "/status/containerStatuses")
                .iter()
                .any(|c| c.pointer("/lastState/terminated").is_some())
            {
                Health::new(Degraded, message)
            } else {
                Health::new(Progressing, message)
            }
        }
        "Running" if restart == "OnFailure" || restart == "Never" => Health::new(Progressing, message),
        _ => Health::new(Unknown, message),
    }
}

fn terminated_text(c: &Value) -> String {
    let Some(t) = c.pointer("/state/terminated") else { return String::new() };
    let msg = str_at(t, "/message");
    if !msg.is_empty() {
        return msg.to_string();
    }
    if str_at(t, "/reason") == "OOMKilled" {
        return "OOMKilled".into();
    }
    let code = int_at(t, "/exitCode");
    if code != 0 {
        return format!("container {:?} failed with exit code {code}", str_at(c, "/name"));
    }
    String::new()
}

fn job(j: &Value) -> Health {
    let (mut finished, mut failed, mut suspended) = (false, false, false);
    let (mut fail_msg, mut msg) = (String::new(), String::new());
    for c in array_at(j, "/status/conditions") {
        match str_at(c, "/type") {
            "Failed" => {
                finished = true;
                failed = true;
                fail_msg = str_at(c, "/message").to_string();
            }
            "Complete" => {
                finished = true;
                msg = str_at(c, "/message").to_string();
            }
            "Suspended" => {
                finished = true;
                msg = str_at(c, "/message").to_string();
                suspended = str_at(c, "/status") == "True";
            }
            _ => {}
        }
    }
    if !finished {
        Health::new(Progressing, "")
    } else if failed {
        Health::new(Degraded, fail_msg)
    } else if suspended {
        Health::new(Suspended, msg)
    } else {
        Health::new(Healthy, msg)
    }
}

fn hpa_v1(h: &Value) -> Health {
    let ann = str_at(h, "/metadata/annotations/autoscaling.alpha.kubernetes.io~1conditions");
    if ann.is_empty() {
        return Health::new(Progressing, "Waiting to Autoscale");
    }
    match serde_json::from_str::<Vec<Value>>(ann) {
        Ok(conds) if conds.is_empty() => Health::new(Progressing, "Waiting to Autoscale"),
        Ok(conds) => hpa_conditions(&conds),
        Err(e) => Health::new(Unknown, format!("failed to convert conditions annotation to typed: {e}")),
    }
}

fn hpa_conditions(conds: &[Value]) -> Health {
    let degraded = |c: &&Value| {
        let reason = str_at(c, "/reason");
        match str_at(c, "/type") {
            "AbleToScale" => matches!(reason, "FailedGetScale" | "FailedUpdateScale"),
            "ScalingActive" => matches!(
                reason,
                "FailedGetResourceMetric"
                    | "FailedGetObjectMetric"
                    | "FailedGetPodsMetric"
                    | "FailedGetExternalMetric"
                    | "FailedComputeMetricsReplicas"
                    | "InvalidSelector"
            ),
            _ => false,
        }
    };
    if let Some(c) = conds.iter().find(degraded) {
        return Health::new(Degraded, str_at(c, "/message"));
    }
    if let Some(c) = conds
        .iter()
        .find(|c| matches!(str_at(c, "/type"), "AbleToScale" | "ScalingLimited") && str_at(c, "/status") == "True")
    {
        return Health::new(Healthy, str_at(c, "/message"));
    }
    Health::new(Progressing, "Waiting to Autoscale")
}

/// Argo CD's `batch/CronJob` health script: suspended, else judged by the
/// last schedule and last success times (RFC 3339 strings, compared as
/// strings as the script does).
fn cronjob(c: &Value) -> Health {
    if c.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return Health::new(Suspended, "CronJob is Suspended");
    }
    let Some(status) = c.get("status").filter(|s| !s.is_null()) else {
        return Health::new(Progressing, "Waiting for CronJob");
    };
    let time = |k: &str| status.get(k).and_then(Value::as_str);
    let Some(scheduled) = time("lastScheduleTime") else {
        return Health::new(Healthy, "CronJob has not been scheduled yet");
    };
    let Some(succeeded) = time("lastSuccessfulTime") else {
        return Health::new(Healthy, "The Cronjob never completed succesfully. It may not be healthy");
    };
    if status.get("active").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
        return Health::new(Healthy, "The job is running. Its last execution may not have been successful");
    }
    if succeeded < scheduled {
        return Health::new(Degraded, "CronJob has not completed its last execution successfully");
    }
    Health::new(Healthy, "CronJob has completed its last execution successfully")
}

/// Argo CD's `policy/PodDisruptionBudget` health script: pending deletion,
/// else Degraded on a False condition other than InsufficientPods, else
/// Healthy once any condition is reported (the last one names the reason).
fn pdb(p: &Value) -> Health {
    if p.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        let finalizers: Vec<&str> = array_at(p, "/metadata/finalizers").iter().filter_map(Value::as_str).collect();
        let message = if finalizers.is_empty() {
            "Pending deletion".to_string()
        } else {
            format!("Pending deletion; blocked by finalizers: {}", finalizers.join(", "))
        };
        return Health::new(Progressing, message);
    }
    let mut health = Health::new(Progressing, "Waiting for status");
    for c in array_at(p, "/status/conditions") {
        let reason = str_at(c, "/reason");
        if str_at(c, "/status") == "False" && reason != "InsufficientPods" {
            return Health::new(Degraded, format!("PodDisruptionBudget has {reason}"));
        }
        health = Health::new(Healthy, format!("PodDisruptionBudget has {reason}"));
    }
    health
}

fn apiservice(a: &Value) -> Health {
    match condition(array_at(a, "/status/conditions"), "Available") {
        None => Health::new(Progressing, "Waiting to be processed"),
        Some(c) => {
            let message = format!("{}: {}", str_at(c, "/reason"), str_at(c, "/message"));
            let status = if str_at(c, "/status") == "True" { Healthy } else { Progressing };
            Health::new(status, message)
        }
    }
}

fn workflow(w: &Value) -> Health {
    let message = str_at(w, "/status/message");
    let status = match str_at(w, "/status/phase") {
        "" | "Pending" | "Running" => Progressing,
        "Succeeded" => Healthy,
        "Failed" | "Error" => Degraded,
        _ => Unknown,
    };
    Health::new(status, message)
}

/// CRDs: Established means served; NamesAccepted=False is a naming conflict.
pub fn crd(c: &Value) -> Health {
    let conditions = array_at(c, "/status/conditions");
    if let Some(n) = condition(conditions, "NamesAccepted")
        && str_at(n, "/status") == "False"
    {
        return Health::new(Degraded, format!("{}: {}", str_at(n, "/reason"), str_at(n, "/message")));
    }
    match condition(conditions, "Established") {
        Some(e) if str_at(e, "/status") == "True" => Health::new(Healthy, ""),
        _ => Health::new(Progressing, "Waiting for the CRD to be established"),
    }
}

/// Kinds with standard `Ready` (else `Available`) conditions.
pub fn generic_conditions(obj: &Value) -> Option<Health> {
    let conditions = array_at(obj, "/status/conditions");
    let c = condition(conditions, "Ready").or_else(|| condition(conditions, "Available"))?;
    let message = match (str_at(c, "/reason"), str_at(c, "/message")) {
        ("", m) => m.to_string(),
        (r, "") => r.to_string(),
        (r, m) => format!("{r}: {m}"),
    };
    Some(match str_at(c, "/status") {
        "True" => Health::new(Healthy, message),
        "False" => Health::new(Degraded, message),
        _ => Health::new(Progressing, message),
    })
}
