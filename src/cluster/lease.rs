//! The sync lock: a `coordination.k8s.io/v1` Lease next to the ApplySet
//! parent, kept the way client-go's leader election keeps one:
//!
//! - Taking it: an absent Lease (or one without a holder) is created (or
//!   taken). A Lease held by another run is never judged by its `renewTime`
//!   (another host's clock): it is watched, and taken over only when it
//!   stayed unchanged (same uid and resourceVersion) for its whole
//!   `leaseDurationSeconds` measured on this process's monotonic clock. A
//!   change while watching means its holder is alive: [`Error::Locked`].
//! - Holding it: a background task renews it every third of its duration,
//!   each write with the resourceVersion of the previous one, so a takeover
//!   by someone else makes the next renewal fail. A conflict, a deleted
//!   Lease, or no successful renewal for two thirds of the duration marks
//!   the lock lost; [`Cluster::check_lock`] (called before every write of a
//!   sync) then fails, and also when a GET shows another holder.
//! - Releasing it: [`Cluster::unlock`] stops the renewals and deletes the
//!   Lease with uid and resourceVersion preconditions, so a successor's
//!   Lease is never deleted.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// A held lock; [`Cluster::unlock`] releases it (dropping it only stops
/// renewing: the Lease then expires on its own).
pub struct Lock {
    namespace: String,
    name: String,
    holder: String,
    duration: Duration,
    state: Arc<Mutex<Held>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    renewer: Option<tokio::task::JoinHandle<()>>,
}

/// What the renewer knows, shared with the sync.
struct Held {
    /// The Lease as last written by us (its uid and resourceVersion are ours).
    lease: Value,
    /// When the last successful write was sent (monotonic).
    renewed: Instant,
    /// Why the lock is lost, once it is.
    lost: Option<String>,
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(r) = &self.renewer {
            r.abort();
        }
    }
}

impl Lock {
    fn lost(&self, why: &str) -> Error {
        Error::Locked(format!(
            "lost the sync lock (Lease {}/{}): {why}; the sync stopped before its next write",
            self.namespace, self.name
        ))
    }

    /// The lease as last written by us.
    fn ours(&self) -> (Option<String>, Option<String>) {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let s = |p: &str| state.lease.pointer(p).and_then(Value::as_str).map(String::from);
        (s("/metadata/uid"), s("/metadata/resourceVersion"))
    }
}

/// Kubernetes `MicroTime`: RFC 3339 with microseconds, UTC.
pub fn micro_time(t: Timestamp) -> String {
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

/// A string field of a Lease at `pointer` (`""` when absent).
pub fn text<'a>(lease: &'a Value, pointer: &str) -> &'a str {
    lease.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The Lease's own duration, when it states a positive one.
pub fn lease_duration(lease: &Value) -> Option<Duration> {
    let secs = lease.pointer("/spec/leaseDurationSeconds").and_then(Value::as_u64)?;
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// What identifies one version of a Lease: any write changes it.
pub fn version(lease: &Value) -> (&str, &str) {
    (text(lease, "/metadata/uid"), text(lease, "/metadata/resourceVersion"))
}

/// A Lease held by `holder` from now, for `duration`.
pub fn lease_body(namespace: &str, name: &str, holder: &str, duration: Duration, transitions: i64) -> Value {
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

fn held(namespace: &str, name: &str, lease: &Value, why: &str) -> Error {
    let holder = Some(text(lease, "/spec/holderIdentity")).filter(|h| !h.is_empty()).unwrap_or("<unknown>");
    let secs = lease.pointer("/spec/leaseDurationSeconds").and_then(Value::as_i64).unwrap_or(0);
    Error::Locked(format!(
        "another sync holds the lock: Lease {namespace}/{name} is held by {holder} (lease duration {secs}s){why}; \
         wait for it to finish, or for its Lease to go unrenewed for its duration"
    ))
}

impl Cluster {
    /// Take the Lease `namespace/name` for `duration`. A Lease held by
    /// another run is watched for its own duration (`notify` says so) and
    /// taken over only if it did not change; a Lease whose duration is longer
    /// than `max_wait`, or that changes while watched, is [`Error::Locked`].
    pub fn lock(
        &self,
        namespace: &str,
        name: &str,
        duration: Duration,
        max_wait: Duration,
        notify: &mut dyn FnMut(&str),
    ) -> Result<Lock> {
        let res = lease_resource();
        let holder = holder_identity();
        let mut current = self.get_object(&res, namespace, name)?;
        let taken = loop {
            let Some(lease) = current else {
                match self.create(&res, &lease_body(namespace, name, &holder, duration, 0)) {
                    Ok(v) => break v,
                    Err(Error::Api(f)) if f.code == 409 => {
                        let now = self.get_object(&res, namespace, name)?.unwrap_or(Value::Null);
                        return Err(held(namespace, name, &now, ", taken a moment ago"));
                    }
                    Err(e) => return Err(e),
                }
            };
            if !text(&lease, "/spec/holderIdentity").is_empty() {
                let watch = lease_duration(&lease).unwrap_or(duration);
                if watch > max_wait {
                    return Err(held(namespace, name, &lease, ", longer than this sync's --timeout to watch it"));
                }
                notify(&format!(
                    "the lock {namespace}/{name} is held by {}: watching it for {}s (its lease duration) \
                     to see whether it is still renewed",
                    text(&lease, "/spec/holderIdentity"),
                    watch.as_secs()
                ));
                // Observed on our monotonic clock, never compared with its renewTime.
                let seen = Instant::now();
                let poll = (watch / 5).clamp(Duration::from_millis(100), Duration::from_secs(1));
                let mut gone = false;
                while seen.elapsed() < watch {
                    std::thread::sleep(poll.min(watch.saturating_sub(seen.elapsed())));
                    match self.get_object(&res, namespace, name)? {
                        None => {
                            gone = true;
                            break;
                        }
                        Some(now) if version(&now) != version(&lease) => {
                            return Err(held(namespace, name, &now, ", and it is being renewed"));
                        }
                        Some(_) => {}
                    }
                }
                if gone {
                    current = None;
                    continue;
                }
                tracing::info!("taking over the lock {namespace}/{name}: unchanged for {}s", watch.as_secs());
            }
            let transitions = lease.pointer("/spec/leaseTransitions").and_then(Value::as_i64).unwrap_or(0) + 1;
            let mut body = lease_body(namespace, name, &holder, duration, transitions);
            // Only the version we watched: a renewal or another taker in between wins.
            body["metadata"]["resourceVersion"] = lease.pointer("/metadata/resourceVersion").cloned().into();
            match self.replace(&res, &body) {
                Ok(v) => break v,
                Err(Error::Api(f)) if f.code == 409 || f.code == 404 => {
                    let now = self.get_object(&res, namespace, name)?.unwrap_or(Value::Null);
                    return Err(held(namespace, name, &now, ", taken a moment ago"));
                }
                Err(e) => return Err(e),
            }
        };
        let state = Arc::new(Mutex::new(Held { lease: taken, renewed: Instant::now(), lost: None }));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let renewer = self.handle.spawn(renew_loop(self.client.clone(), state.clone(), duration, stopped));
        Ok(Lock {
            namespace: namespace.to_string(),
            name: name.to_string(),
            holder,
            duration,
            state,
            stop: Some(stop),
            renewer: Some(renewer),
        })
    }

    /// Whether `lock` is still ours: not marked lost by the renewer,
    /// renewed within its duration (on our clock), and the live Lease still
    /// the one we wrote (same uid, our holder identity). Call before a write.
    pub fn check_lock(&self, lock: &Lock) -> Result<()> {
        {
            let state = lock.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(why) = &state.lost {
                return Err(lock.lost(why));
            }
            if state.renewed.elapsed() >= lock.duration {
                return Err(lock.lost(&format!("not renewed for {}s, its duration", lock.duration.as_secs())));
            }
        }
        let (uid, _) = lock.ours();
        match self.get_object(&lease_resource(), &lock.namespace, &lock.name)? {
            None => Err(lock.lost("the Lease was deleted")),
            Some(now) if text(&now, "/spec/holderIdentity") != lock.holder => Err(lock.lost(&format!(
                "the Lease is now held by {}",
                Some(text(&now, "/spec/holderIdentity")).filter(|h| !h.is_empty()).unwrap_or("nobody")
            ))),
            Some(now) if Some(text(&now, "/metadata/uid")) != uid.as_deref() => {
                Err(lock.lost("the Lease was deleted and created again"))
            }
            Some(_) => Ok(()),
        }
    }

    /// Stop renewing and delete the Lease, only if it is still ours: the
    /// delete carries uid and resourceVersion preconditions, so a Lease
    /// another run took over (or created since) stays.
    pub fn unlock(&self, mut lock: Lock) -> Result<()> {
        if let (Some(stop), Some(renewer)) = (lock.stop.take(), lock.renewer.take()) {
            let _ = stop.send(());
            // Let a renewal in flight finish, so that the version below is the last one written.
            let _ = self.block_on(renewer);
        }
        if let Some(why) = &lock.state.lock().unwrap_or_else(|e| e.into_inner()).lost {
            tracing::debug!("not deleting the lock {}/{}: lost ({why})", lock.namespace, lock.name);
            return Ok(());
        }
        let (mut uid, mut rv) = lock.ours();
        for attempt in 0..2 {
            let req = super::DeleteRequest {
                resource: lease_resource(),
                namespace: lock.namespace.clone(),
                name: lock.name.clone(),
                uid: uid.clone(),
                resource_version: rv.clone(),
            };
            match self.delete(&[req], super::Propagation::Background, false).pop().expect("one result") {
                Ok(_) => return Ok(()),
                Err(Error::Api(f)) if f.code == 409 && attempt == 0 => {
                    // A renewal whose answer was lost may have moved the version: still ours?
                    match self.get_object(&lease_resource(), &lock.namespace, &lock.name)? {
                        Some(now)
                            if text(&now, "/spec/holderIdentity") == lock.holder
                                && Some(text(&now, "/metadata/uid")) == uid.as_deref() =>
                        {
                            rv = Some(text(&now, "/metadata/resourceVersion").to_string());
                            uid = Some(text(&now, "/metadata/uid").to_string());
                        }
                        _ => {
                            tracing::debug!("not deleting the lock {}/{}: no longer ours", lock.namespace, lock.name);
                            return Ok(());
                        }
                    }
                }
                Err(Error::Api(f)) if f.code == 409 => {
                    tracing::debug!("not deleting the lock {}/{}: {f}", lock.namespace, lock.name);
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Renew every third of `duration` until stopped or lost. A conflict or a
/// missing Lease is a loss at once; other failures are retried until no
/// renewal succeeded for two thirds of the duration (client-go's renew deadline).
async fn renew_loop(
    client: kube::Client,
    state: Arc<Mutex<Held>>,
    duration: Duration,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let period = (duration / 3).max(Duration::from_millis(200));
    let deadline = duration * 2 / 3;
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => return,
            () = tokio::time::sleep(period) => {}
        }
        let mut body = state.lock().unwrap_or_else(|e| e.into_inner()).lease.clone();
        body["spec"]["renewTime"] = Value::String(micro_time(Timestamp::now()));
        let sent = Instant::now();
        let result = renew(&client, &body).await;
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(v) => {
                s.lease = v;
                s.renewed = sent;
            }
            Err(Error::Api(f)) if f.code == 409 || f.code == 404 => {
                let why = if f.code == 404 { "the Lease was deleted" } else { "another run changed the Lease" };
                tracing::warn!("lost the sync lock: {why}");
                s.lost = Some(why.into());
                return;
            }
            Err(e) => {
                tracing::warn!("renewing the sync lock: {e}");
                if s.renewed.elapsed() >= deadline {
                    s.lost = Some(format!("not renewed for {}s: {e}", s.renewed.elapsed().as_secs()));
                    return;
                }
            }
        }
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
    fn lease_fields() {
        let lease = json!({"metadata": {"uid": "u", "resourceVersion": "7"},
            "spec": {"renewTime": "2026-01-02T03:04:05.000000Z", "leaseDurationSeconds": 30}});
        assert_eq!(lease_duration(&lease), Some(Duration::from_secs(30)));
        assert_eq!(lease_duration(&json!({"spec": {"leaseDurationSeconds": 0}})), None);
        assert_eq!(version(&lease), ("u", "7"));
        let t: Timestamp = "2026-01-02T03:04:05.5Z".parse().unwrap();
        assert_eq!(micro_time(t), "2026-01-02T03:04:05.500000Z");
        let e = held("ns", "l", &json!({"spec": {"holderIdentity": "h", "leaseDurationSeconds": 5}}), "").to_string();
        assert!(e.contains("held by h (lease duration 5s)"), "{e}");
    }
}
