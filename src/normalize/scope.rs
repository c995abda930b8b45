//! Whether a kind is namespaced: the offline table of built-in kinds
//! (generated from the Kubernetes OpenAPI documents) plus CRDs found in the
//! rendered set. Live discovery implements [`ScopeLookup`] too.

use std::collections::HashMap;

use serde_json::Value;

use super::builtin_kinds::BUILTIN_KINDS;
use crate::model::Object;

/// Namespaced or cluster-scoped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// Answers the scope of a group/kind, `None` when unknown.
pub trait ScopeLookup {
    fn scope(&self, group: &str, kind: &str) -> Option<Scope>;
}

/// Scope of a built-in kind (any served version).
pub fn builtin_scope(group: &str, kind: &str) -> Option<Scope> {
    static BY_KIND: std::sync::LazyLock<HashMap<(&str, &str), bool>> = std::sync::LazyLock::new(|| {
        let mut m = HashMap::new();
        for e in BUILTIN_KINDS {
            m.entry((e.0, e.2)).or_insert(e.4);
        }
        m
    });
    BY_KIND.get(&(group, kind)).map(|&namespaced| if namespaced { Scope::Namespaced } else { Scope::Cluster })
}

/// Every built-in kind: (group, version, kind, plural, namespaced).
pub fn builtin_kinds() -> &'static [(&'static str, &'static str, &'static str, &'static str, bool)] {
    BUILTIN_KINDS
}

/// The plural resource name of a built-in kind.
pub fn builtin_plural(group: &str, kind: &str) -> Option<&'static str> {
    BUILTIN_KINDS.iter().find(|e| e.0 == group && e.2 == kind).map(|e| e.3)
}

/// Built-in kinds plus the CRDs defined in a set of objects.
#[derive(Debug, Default, Clone)]
pub struct OfflineScopes {
    crds: HashMap<(String, String), Scope>,
}

impl OfflineScopes {
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Self {
        let mut crds = HashMap::new();
        for o in objects {
            if o.group() == "apiextensions.k8s.io"
                && o.kind() == "CustomResourceDefinition"
                && let Some((group, kind, scope)) = o.data().get("spec").and_then(spec_scope)
            {
                crds.insert((group, kind), scope);
            }
        }
        OfflineScopes { crds }
    }
}

/// (group, kind, scope) declared by a CustomResourceDefinition.
pub fn crd_scope(crd: &Value) -> Option<(String, String, Scope)> {
    spec_scope(crd.get("spec")?)
}

/// [`crd_scope`] from the CRD's `spec`.
fn spec_scope(spec: &Value) -> Option<(String, String, Scope)> {
    let group = spec.get("group")?.as_str()?.to_string();
    let kind = spec.get("names")?.get("kind")?.as_str()?.to_string();
    let scope = match spec.get("scope").and_then(Value::as_str) {
        Some("Cluster") => Scope::Cluster,
        _ => Scope::Namespaced,
    };
    Some((group, kind, scope))
}

impl ScopeLookup for OfflineScopes {
    fn scope(&self, group: &str, kind: &str) -> Option<Scope> {
        builtin_scope(group, kind).or_else(|| self.crds.get(&(group.to_string(), kind.to_string())).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_lookups() {
        assert_eq!(builtin_scope("", "Namespace"), Some(Scope::Cluster));
        assert_eq!(builtin_scope("", "ConfigMap"), Some(Scope::Namespaced));
        assert_eq!(builtin_scope("apps", "Deployment"), Some(Scope::Namespaced));
        assert_eq!(builtin_scope("rbac.authorization.k8s.io", "ClusterRoleBinding"), Some(Scope::Cluster));
        assert_eq!(builtin_scope("apiextensions.k8s.io", "CustomResourceDefinition"), Some(Scope::Cluster));
        assert_eq!(builtin_scope("example.com", "Widget"), None);
        assert_eq!(builtin_plural("networking.k8s.io", "Ingress"), Some("ingresses"));
    }
}
