//! Watches for the agent's drift detection: each collection (a resource
//! in a namespace, label-selected) is listed once, then watched from the
//! list's resourceVersion; a change to an object's content (anything but
//! its `status` and bookkeeping metadata: resourceVersion, managedFields,
//! generation) or its deletion calls the caller's `changed`. An expired
//! resourceVersion (410) or a broken stream lists again; nothing here
//! ever fails the caller. The tasks run on the cluster's runtime until the
//! [`WatchSet`] is dropped.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use kube::core::WatchEvent;
use serde_json::Value;

use super::{Cluster, ListRequest, Target, request};

/// Running watches; dropping it stops them.
pub struct WatchSet {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for WatchSet {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// What a change notification goes to.
pub type Changed = Arc<dyn Fn() + Send + Sync>;

impl Cluster {
    /// Watch every collection of `requests`; `changed` is called on each
    /// content change or deletion of one of their objects.
    pub fn watch_changes(&self, requests: &[ListRequest], changed: Changed) -> WatchSet {
        let tasks = requests
            .iter()
            .map(|r| self.handle.spawn(watch_one(self.client.clone(), r.clone(), changed.clone())))
            .collect();
        WatchSet { tasks }
    }
}

/// What identifies an object's content: everything but its status and
/// the metadata every write (or controller) changes.
fn fingerprint(obj: &Value) -> u64 {
    let mut v = obj.clone();
    if let Value::Object(m) = &mut v {
        m.remove("status");
        if let Some(Value::Object(meta)) = m.get_mut("metadata") {
            for k in ["resourceVersion", "managedFields", "generation"] {
                meta.remove(k);
            }
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.to_string().hash(&mut h);
    h.finish()
}

fn uid(obj: &Value) -> String {
    obj.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default().to_string()
}

async fn watch_one(client: kube::Client, r: ListRequest, changed: Changed) {
    let path = r.resource.collection_path(&r.namespace);
    let resource = r.resource.resource_name();
    let req = kube::core::Request::new(&path);
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut first = true;
    loop {
        // List: the starting point (a change while we were away counts).
        let target = Target { verb: "list", resource: &resource, namespace: &r.namespace, name: "" };
        let mut lp = kube::api::ListParams::default();
        if let Some(sel) = &r.label_selector {
            lp = lp.labels(sel);
        }
        let list: Value = match request::send(&client, &target, || req.list(&lp)).await {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!("watch {resource} in {:?}: {e}; listing again soon", r.namespace);
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        let mut now: HashMap<String, u64> = HashMap::new();
        for item in list.get("items").and_then(Value::as_array).into_iter().flatten() {
            now.insert(uid(item), fingerprint(item));
        }
        if !first && now != seen {
            changed();
        }
        first = false;
        seen = now;
        let mut rv = list.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("0").to_string();
        // Watch from there until the stream ends (then again from the last version) or the version expires.
        'watch: loop {
            let mut wp = kube::api::WatchParams::default().timeout(290);
            if let Some(sel) = &r.label_selector {
                wp = wp.labels(sel);
            }
            let Ok(http_req) = req.watch(&wp, &rv) else { break 'watch };
            let stream = match client.request_events::<Value>(http_req).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!("watch {resource} in {:?}: {e}", r.namespace);
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    break 'watch;
                }
            };
            futures::pin_mut!(stream);
            loop {
                match stream.try_next().await {
                    Ok(Some(WatchEvent::Added(o) | WatchEvent::Modified(o))) => {
                        rv = o.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or(&rv).to_string();
                        let fp = fingerprint(&o);
                        if seen.insert(uid(&o), fp) != Some(fp) {
                            changed();
                        }
                    }
                    Ok(Some(WatchEvent::Deleted(o))) => {
                        rv = o.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or(&rv).to_string();
                        seen.remove(&uid(&o));
                        changed();
                    }
                    Ok(Some(WatchEvent::Bookmark(b))) => rv = b.metadata.resource_version,
                    // 410 Gone and other errors: list again.
                    Ok(Some(WatchEvent::Error(e))) => {
                        tracing::debug!("watch {resource} in {:?}: {}", r.namespace, e.message);
                        break 'watch;
                    }
                    // The server closed the watch (its timeout): watch on from `rv`.
                    Ok(None) => continue 'watch,
                    Err(e) => {
                        tracing::debug!("watch {resource} in {:?}: {e}", r.namespace);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break 'watch;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fingerprints_ignore_status_and_bookkeeping() {
        let a = json!({"metadata": {"name": "x", "resourceVersion": "1", "managedFields": [], "generation": 1},
            "spec": {"replicas": 1}, "status": {"ready": 0}});
        let b = json!({"metadata": {"name": "x", "resourceVersion": "2", "managedFields": [{}], "generation": 2},
            "spec": {"replicas": 1}, "status": {"ready": 1}});
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let c = json!({"metadata": {"name": "x"}, "spec": {"replicas": 2}});
        assert_ne!(fingerprint(&a), fingerprint(&c));
        let d = json!({"metadata": {"name": "x", "labels": {"k": "v"}}, "spec": {"replicas": 1}});
        assert_ne!(fingerprint(&a), fingerprint(&d), "labels are content");
    }
}
