//! Normalization: the stage between rendering and the cluster.
//!
//! Takes every renderer's objects and returns one canonical, ordered
//! [`ObjectSet`]: the default namespace applied to namespaced objects that
//! lack one, `metadata.namespace` removed from cluster-scoped objects,
//! duplicates rejected with both origins, and the install order applied.
//! Keys are already canonical (sorted) because `serde_json::Map` is a
//! `BTreeMap` in this build. The same input always yields the same output.

mod builtin_kinds;
mod order;
mod scope;

pub use order::{install_cmp, install_key, install_rank};
pub use scope::{OfflineScopes, Scope, ScopeLookup, builtin_kinds, builtin_plural, builtin_scope, crd_scope};

use std::collections::HashMap;

use crate::error::Error;
use crate::model::Object;

/// Settings of the normalize stage.
#[derive(Debug, Clone, Default)]
pub struct NormalizeOptions {
    /// Namespace given to namespaced objects without one (`--namespace`).
    pub default_namespace: Option<String>,
}

/// A normalized, ordered set of objects with unique identities.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectSet {
    objects: Vec<Object>,
}

impl ObjectSet {
    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    pub fn into_objects(self) -> Vec<Object> {
        self.objects
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Object> {
        self.objects.iter()
    }
}

impl<'a> IntoIterator for &'a ObjectSet {
    type Item = &'a Object;
    type IntoIter = std::slice::Iter<'a, Object>;
    fn into_iter(self) -> Self::IntoIter {
        self.objects.iter()
    }
}

/// Normalize with the offline scope table (built-in kinds and the set's CRDs).
pub fn normalize(objects: Vec<Object>, opts: &NormalizeOptions) -> Result<ObjectSet, Error> {
    let scopes = OfflineScopes::from_objects(&objects);
    normalize_with(objects, opts, &scopes)
}

/// Normalize with a given scope source (offline table or live discovery).
/// Kinds whose scope is unknown keep their namespace as written.
pub fn normalize_with(
    mut objects: Vec<Object>,
    opts: &NormalizeOptions,
    scopes: &dyn ScopeLookup,
) -> Result<ObjectSet, Error> {
    for o in &mut objects {
        let target = match scopes.scope(o.group(), o.kind()) {
            None => continue,
            Some(Scope::Cluster) => None,
            Some(Scope::Namespaced) => o.namespace().map(String::from).or_else(|| opts.default_namespace.clone()),
        };
        // Only touch objects that change, so an empty `namespace: ""` is also removed.
        if o.metadata().get("namespace").and_then(|v| v.as_str()) != target.as_deref() {
            o.set_namespace(target.as_deref());
        }
    }
    check_unique(&objects)?;
    Ok(ObjectSet { objects: sorted(objects) })
}

/// `objects` in install order ([`install_key`]; equal keys keep their
/// order), each key read once and borrowed.
fn sorted(objects: Vec<Object>) -> Vec<Object> {
    let order = {
        let keys: Vec<_> = objects
            .iter()
            .map(|o| (install_rank(o.kind()), o.kind(), o.group(), o.namespace().unwrap_or(""), o.name()))
            .collect();
        let mut order: Vec<usize> = (0..objects.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        order
    };
    let mut slots: Vec<Option<Object>> = objects.into_iter().map(Some).collect();
    order.into_iter().map(|i| slots[i].take().expect("each object once")).collect()
}

fn check_unique(objects: &[Object]) -> Result<(), Error> {
    // the identity of `Object::key`, borrowed
    fn identity(o: &Object) -> (&str, &str, &str, std::borrow::Cow<'_, str>) {
        let name = match o.generate_name() {
            Some(g) => std::borrow::Cow::Owned(format!("{g}{}", crate::model::GENERATED_SUFFIX)),
            None => std::borrow::Cow::Borrowed(o.name()),
        };
        (o.group(), o.kind(), o.namespace().unwrap_or(""), name)
    }
    let mut seen: HashMap<_, usize> = HashMap::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        if let Some(&first) = seen.get(&identity(o)) {
            let (a, b) = (&objects[first].origin, &o.origin);
            let (first, second) = if a <= b { (a.clone(), b.clone()) } else { (b.clone(), a.clone()) };
            return Err(Error::Duplicate { key: Box::new(o.key()), first, second });
        }
        seen.insert(identity(o), i);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;
    use serde_json::json;

    fn o(kind: &str, api: &str, ns: Option<&str>, name: &str, line: usize) -> Object {
        let mut meta = json!({"name": name});
        if let Some(ns) = ns {
            meta["namespace"] = json!(ns);
        }
        Object::new(json!({"apiVersion": api, "kind": kind, "metadata": meta}), Origin::new("f.yaml", 0, line)).unwrap()
    }

    fn names(set: &ObjectSet) -> Vec<String> {
        set.iter().map(|o| o.key().to_string()).collect()
    }

    #[test]
    fn install_order_then_namespace_and_name() {
        let input = vec![
            o("Widget", "example.com/v1", Some("a"), "w", 1),
            o("Deployment", "apps/v1", Some("b"), "web", 2),
            o("Deployment", "apps/v1", Some("a"), "web", 3),
            o("Service", "v1", Some("a"), "web", 4),
            o("CustomResourceDefinition", "apiextensions.k8s.io/v1", None, "widgets.example.com", 5),
            o("Namespace", "v1", None, "a", 6),
            o("Gadget", "example.com/v1", Some("a"), "g", 7),
            o("ConfigMap", "v1", Some("a"), "cfg", 8),
        ];
        let set = normalize(input, &NormalizeOptions::default()).unwrap();
        assert_eq!(
            names(&set),
            [
                "Namespace a",
                "CustomResourceDefinition.apiextensions.k8s.io widgets.example.com",
                "ConfigMap a/cfg",
                "Service a/web",
                "Deployment.apps a/web",
                "Deployment.apps b/web",
                "Gadget.example.com a/g",
                "Widget.example.com a/w",
            ]
        );
    }

    #[test]
    fn namespace_defaulting_respects_scope() {
        let crd = Object::new(
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "clusterthings.example.com"},
                   "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "ClusterThing"}}}),
            Origin::default(),
        )
        .unwrap();
        let input = vec![
            o("ConfigMap", "v1", None, "c", 1),
            o("ConfigMap", "v1", Some("keep"), "d", 2),
            o("ClusterRole", "rbac.authorization.k8s.io/v1", Some("bogus"), "r", 3),
            o("ClusterThing", "example.com/v1", None, "t", 4),
            o("Unknown", "other.io/v1", None, "u", 5),
            crd,
        ];
        let set = normalize(input, &NormalizeOptions { default_namespace: Some("team-a".into()) }).unwrap();
        let ns: Vec<(String, Option<String>)> =
            set.iter().map(|o| (o.name().to_string(), o.namespace().map(String::from))).collect();
        assert!(ns.contains(&("c".into(), Some("team-a".into()))));
        assert!(ns.contains(&("d".into(), Some("keep".into()))));
        assert!(ns.contains(&("r".into(), None)));
        assert!(ns.contains(&("t".into(), None)));
        assert!(ns.contains(&("u".into(), None)));
    }

    #[test]
    fn duplicates_name_both_origins() {
        let input = vec![o("ConfigMap", "v1", Some("a"), "c", 9), o("ConfigMap", "v1", Some("a"), "c", 3)];
        let err = normalize(input, &NormalizeOptions::default()).unwrap_err().to_string();
        assert!(err.contains("ConfigMap a/c"), "{err}");
        assert!(err.contains("f.yaml:3") && err.contains("f.yaml:9"), "{err}");
    }

    #[test]
    fn default_namespace_can_create_duplicates() {
        let input = vec![o("ConfigMap", "v1", None, "c", 1), o("ConfigMap", "v1", Some("team-a"), "c", 2)];
        assert!(normalize(input.clone(), &NormalizeOptions::default()).is_ok());
        assert!(normalize(input, &NormalizeOptions { default_namespace: Some("team-a".into()) }).is_err());
    }
}
