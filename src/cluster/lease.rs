//! The sync lock: a `coordination.k8s.io/v1` Lease next to the ApplySet
//! parent. Taken when absent or expired (renewTime + leaseDurationSeconds
//! in the past), renewed in the background every third of its duration
//! while the sync runs, deleted when the sync ends. Every write uses the
//! resourceVersion it read, so two runs cannot both win a takeover.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{Cluster, ResourceInfo};
use crate::error::{Error, Result};

/// The Lease resource.
pub fn lease_resource() -> ResourceInfo {
    ResourceInfo {
        group: "coordination.k8s.io".into(),
        version: "v1".into(),
        kind: "Lease".into(),
        plural: "leases".into(),
        namespaced: true,
    }
}

/// A held lock; [`Lock::release`] deletes the Lease (dropping it only stops renewing).
pub struct Lock {
    namespace: String,
    name: String,
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for Lock {
    /// Stop renewing; the Lease then expires on its own.
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Kubernetes `MicroTime`: RFC 3339 with microseconds, UTC.
fn micro_time(t: Timestamp) -> String {
    format!("{}.{:06}Z", t.strftime("%Y-%m-%dT%H:%M:%S"), t.subsec_microsecond())
}

/// `host/pid`: who holds the lock, for the message another run prints.
pub fn holder_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    format!("kubectl-gitops@{host}/{}", std::process::id())
}

/// When a Lease expires, if it says.
fn expiry(lease: &Value) -> Option<Timestamp> {
    let renew = lease
        .pointer("/spec/renewTime")
        .or_else(|| lease.pointer("/spec/acquireTime"))
        .and_then(Value::as_str)?
        .parse::<Timestamp>()
        .ok()?;
    let secs = lease.pointer("/spec/leaseDurationSeconds").and_then(Value::as_i64)?;
    renew.checked_add(k8s_openapi::jiff::SignedDuration::from_secs(secs)).ok()
}

fn lease_body(namespace: &str, name: &str, holder: &str, duration: Duration, transitions: i64) -> Value {
    let now = micro_time(Timestamp::now());
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "kubectl-gitops"}},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": duration.as_secs().max(1),
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }
    })
}

fn held(namespace: &str, name: &str, lease: &Value) -> Error {
    let holder = lease.pointer("/spec/holderIdentity").and_then(Value::as_str).unwrap_or("<unknown>");
    let until = expiry(lease).map_or_else(|| "<no expiry>".to_string(), |t| t.to_string());
    Error::Locked(format!(
        "another sync holds the lock: Lease {namespace}/{name} is held by {holder} until {until}; \
         wait for it to finish or to expire"
    ))
}

impl Cluster {
    /// Take the Lease `namespace/name` for `duration`, or fail with
    /// [`Error::Locked`] when another holder's lease has not expired.
    pub fn lock(&self, namespace: &str, name: &str, duration: Duration) -> Result<Lock> {
        let res = lease_resource();
        let holder = holder_identity();
        let current = self.get_object(&res, namespace, name)?;
        let created = match current {
            None => match self.create(&res, &lease_body(namespace, name, &holder, duration, 0)) {
                Ok(v) => v,
                Err(Error::Api(f)) if f.code == 409 => {
                    let now = self.get_object(&res, namespace, name)?.unwrap_or(Value::Null);
                    return Err(held(namespace, name, &now));
                }
                Err(e) => return Err(e),
            },
            Some(lease) => {
                if expiry(&lease).is_some_and(|t| t > Timestamp::now()) {
                    return Err(held(namespace, name, &lease));
                }
                let transitions = lease.pointer("/spec/leaseTransitions").and_then(Value::as_i64).unwrap_or(0) + 1;
                let mut body = lease_body(namespace, name, &holder, duration, transitions);
                body["metadata"]["resourceVersion"] = lease.pointer("/metadata/resourceVersion").cloned().into();
                tracing::info!("taking over the expired lock {namespace}/{name}");
                match self.replace(&res, &body) {
                    Ok(v) => v,
                    Err(Error::Api(f)) if f.code == 409 => return Err(held(namespace, name, &lease)),
                    Err(e) => return Err(e),
                }
            }
        };
        let client = self.client.clone();
        let (ns, nm) = (namespace.to_string(), name.to_string());
        let period = (duration / 3).max(Duration::from_millis(200));
        let renewer = self.rt.spawn(async move {
            let mut lease = created;
            loop {
                tokio::time::sleep(period).await;
                lease["spec"]["renewTime"] = Value::String(micro_time(Timestamp::now()));
                match renew(&client, &lease).await {
                    Ok(v) => lease = v,
                    Err(e) => {
                        tracing::warn!("renewing the lock {ns}/{nm}: {e}");
                        return;
                    }
                }
            }
        });
        Ok(Lock { namespace: namespace.to_string(), name: name.to_string(), renewer })
    }

    /// Stop renewing and delete the Lease.
    pub fn unlock(&self, lock: Lock) -> Result<()> {
        lock.renewer.abort();
        let req = super::DeleteRequest {
            resource: lease_resource(),
            namespace: lock.namespace.clone(),
            name: lock.name.clone(),
            uid: None,
            resource_version: None,
        };
        self.delete(&[req], super::Propagation::Background, false).pop().expect("one result").map(|_| ())
    }
}

async fn renew(client: &kube::Client, lease: &Value) -> Result<Value> {
    let res = lease_resource();
    let ns = lease.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
    let name = lease.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let resource = res.resource_name();
    let target = super::Target { verb: "update", resource: &resource, namespace: ns, name };
    let req = kube::core::Request::new(res.collection_path(ns));
    let body = serde_json::to_vec(lease).map_err(|e| Error::Usage(e.to_string()))?;
    super::request::send(client, &target, || req.replace(name, &kube::api::PostParams::default(), body.clone())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_renew_time_plus_duration() {
        let lease = json!({"spec": {"renewTime": "2026-01-02T03:04:05.000000Z", "leaseDurationSeconds": 30}});
        assert_eq!(expiry(&lease).unwrap().to_string(), "2026-01-02T03:04:35Z");
        assert_eq!(expiry(&json!({"spec": {}})), None);
        let t: Timestamp = "2026-01-02T03:04:05.5Z".parse().unwrap();
        assert_eq!(micro_time(t), "2026-01-02T03:04:05.500000Z");
    }
}
