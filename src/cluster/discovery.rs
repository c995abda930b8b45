//! Live discovery: which resource serves a group/version/kind, and its
//! scope. Only the group-versions the rendered set uses are fetched (one
//! request each, concurrently), once per run.

use std::collections::{BTreeSet, HashMap};

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::request::{Target, send};
use crate::error::{Error, Result};
use crate::model::Gvk;
use crate::normalize::{Scope, ScopeLookup};

/// A served resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Plural resource name (`deployments`).
    pub plural: String,
    pub namespaced: bool,
}

impl ResourceInfo {
    /// `deployments.apps`, `configmaps`: how kubectl names the resource.
    pub fn resource_name(&self) -> String {
        if self.group.is_empty() { self.plural.clone() } else { format!("{}.{}", self.plural, self.group) }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// URL path of the collection in `namespace` (ignored for cluster-scoped resources).
    pub fn collection_path(&self, namespace: &str) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if self.namespaced && !namespace.is_empty() {
            format!("{base}/namespaces/{namespace}/{}", self.plural)
        } else {
            format!("{base}/{}", self.plural)
        }
    }

    pub fn scope(&self) -> Scope {
        if self.namespaced { Scope::Namespaced } else { Scope::Cluster }
    }
}

/// The resources of the group-versions a run asked about.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    by_gvk: HashMap<Gvk, ResourceInfo>,
    scopes: HashMap<(String, String), Scope>,
}

impl Discovery {
    /// The resource serving `gvk`, if the cluster serves it.
    pub fn resource(&self, gvk: &Gvk) -> Option<&ResourceInfo> {
        self.by_gvk.get(gvk)
    }

    /// Build from already-fetched `APIResourceList` documents (tests, caches).
    pub fn from_lists<'a>(lists: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Self {
        let mut d = Discovery::default();
        for (group_version, list) in lists {
            d.add_list(group_version, list);
        }
        d
    }

    fn add_list(&mut self, group_version: &str, list: &Value) {
        let (group, version) = group_version.rsplit_once('/').unwrap_or(("", group_version));
        let Some(resources) = list.get("resources").and_then(Value::as_array) else { return };
        for r in resources {
            let (Some(plural), Some(kind)) =
                (r.get("name").and_then(Value::as_str), r.get("kind").and_then(Value::as_str))
            else {
                continue;
            };
            if plural.contains('/') {
                continue; // subresource
            }
            let namespaced = r.get("namespaced").and_then(Value::as_bool).unwrap_or(false);
            let info = ResourceInfo {
                group: group.to_string(),
                version: version.to_string(),
                kind: kind.to_string(),
                plural: plural.to_string(),
                namespaced,
            };
            self.scopes.insert((info.group.clone(), info.kind.clone()), info.scope());
            self.by_gvk.insert(Gvk::new(group, version, kind), info);
        }
    }
}

impl ScopeLookup for Discovery {
    fn scope(&self, group: &str, kind: &str) -> Option<Scope> {
        self.scopes.get(&(group.to_string(), kind.to_string())).copied()
    }
}

/// Fetch the resource lists of `group_versions` (`(group, version)`); a
/// group-version the server does not serve is simply absent from the result.
pub(super) async fn discover(
    client: &kube::Client,
    group_versions: &BTreeSet<(String, String)>,
    concurrency: usize,
) -> Result<Discovery> {
    let lists: Vec<Option<(String, Value)>> = futures::stream::iter(group_versions.iter().cloned())
        .map(|(group, version)| async move {
            let (path, gv) = if group.is_empty() {
                (format!("/api/{version}"), version.clone())
            } else {
                (format!("/apis/{group}/{version}"), format!("{group}/{version}"))
            };
            let target = Target { verb: "get", resource: &path, namespace: "", name: "" };
            let build = || http::Request::get(&path).body(Vec::new()).map_err(kube::core::request::Error::BuildRequest);
            match send::<Value>(client, &target, build).await {
                Ok(list) => Ok(Some((gv, list))),
                Err(Error::Api(f)) if f.code == 404 => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut d = Discovery::default();
    for (gv, list) in lists.iter().flatten() {
        d.add_list(gv, list);
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_become_resources_and_scopes() {
        let apps = json!({"resources": [
            {"name": "deployments", "kind": "Deployment", "namespaced": true},
            {"name": "deployments/status", "kind": "Deployment", "namespaced": true},
        ]});
        let core = json!({"resources": [{"name": "namespaces", "kind": "Namespace", "namespaced": false}]});
        let d = Discovery::from_lists([("apps/v1", &apps), ("v1", &core)]);
        let dep = d.resource(&Gvk::new("apps", "v1", "Deployment")).unwrap();
        assert_eq!(dep.resource_name(), "deployments.apps");
        assert_eq!(dep.collection_path("web"), "/apis/apps/v1/namespaces/web/deployments");
        let ns = d.resource(&Gvk::new("", "v1", "Namespace")).unwrap();
        assert_eq!(ns.collection_path("ignored"), "/api/v1/namespaces");
        assert_eq!(d.scope("", "Namespace"), Some(Scope::Cluster));
        assert_eq!(d.scope("apps", "Deployment"), Some(Scope::Namespaced));
        assert_eq!(d.scope("apps", "StatefulSet"), None);
    }
}
