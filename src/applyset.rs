//! ApplySet (KEP-3659) bookkeeping, as kubectl 1.29+ implements it: the
//! parent's id, labels and annotations, and the group-kind/namespace sets
//! recorded on it. Pure; `cluster/` reads and writes the parent.

use std::collections::BTreeSet;

use base64::Engine;
use sha2::{Digest, Sha256};

/// Label on the parent: its id.
pub const ID_LABEL: &str = "applyset.kubernetes.io/id";
/// Label on every member: the id of its set.
pub const PART_OF_LABEL: &str = "applyset.kubernetes.io/part-of";
/// Annotation on the parent: the tool that manages the set (`name/version`).
pub const TOOLING_ANNOTATION: &str = "applyset.kubernetes.io/tooling";
/// Annotation on the parent: the member group-kinds (`Kind` or `Kind.group`, sorted).
pub const CONTAINS_GROUP_KINDS_ANNOTATION: &str = "applyset.kubernetes.io/contains-group-kinds";
/// Annotation on the parent: member namespaces other than the parent's own.
pub const ADDITIONAL_NAMESPACES_ANNOTATION: &str = "applyset.kubernetes.io/additional-namespaces";
/// Label on a CRD whose custom resources may be ApplySet parents.
pub const PARENT_TYPE_LABEL: &str = "applyset.kubernetes.io/is-parent-type";

/// Our tooling value.
pub fn tooling() -> String {
    format!("kubectl-gitops/v{}", env!("CARGO_PKG_VERSION"))
}

/// The parent object's identity (its group may be empty: core).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentRef {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ParentRef {
    /// The default parent of an app: a Secret in the app's namespace.
    pub fn secret(namespace: &str, app: &str) -> Self {
        ParentRef {
            group: String::new(),
            version: "v1".into(),
            kind: "Secret".into(),
            namespace: namespace.into(),
            name: parent_name(app),
        }
    }

    /// `applyset-<base64url(sha256(name.namespace.Kind.group))>-v1`.
    pub fn id(&self) -> String {
        let digest = Sha256::digest(format!("{}.{}.{}.{}", self.name, self.namespace, self.kind, self.group));
        format!("applyset-{}-v1", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
    }
}

/// The name of an app's parent object.
pub fn parent_name(app: &str) -> String {
    format!("applyset-{app}")
}

/// The group-kinds and namespaces a parent records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// `Kind` (core) or `Kind.group`.
    pub group_kinds: BTreeSet<String>,
    /// Every member namespace, the parent's own included.
    pub namespaces: BTreeSet<String>,
}

impl Inventory {
    /// Read from a parent's annotations (missing ones count as empty).
    pub fn from_annotations(contains: Option<&str>, additional: Option<&str>, parent_ns: &str) -> Self {
        let split = |s: Option<&str>| -> BTreeSet<String> {
            s.unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()).map(String::from).collect()
        };
        let mut namespaces = split(additional);
        if !parent_ns.is_empty() {
            namespaces.insert(parent_ns.to_string());
        }
        Inventory { group_kinds: split(contains), namespaces }
    }

    /// The `contains-group-kinds` annotation value.
    pub fn contains_annotation(&self) -> String {
        self.group_kinds.iter().cloned().collect::<Vec<_>>().join(",")
    }

    /// The `additional-namespaces` annotation value (without the parent's namespace).
    pub fn additional_annotation(&self, parent_ns: &str) -> String {
        self.namespaces.iter().filter(|n| n.as_str() != parent_ns).cloned().collect::<Vec<_>>().join(",")
    }

    /// old ∪ new: what the parent records while a sync is under way.
    pub fn union(&self, other: &Inventory) -> Inventory {
        Inventory {
            group_kinds: self.group_kinds.union(&other.group_kinds).cloned().collect(),
            namespaces: self.namespaces.union(&other.namespaces).cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_matches_kubectls_fixture() {
        let p = ParentRef {
            group: String::new(),
            version: "v1".into(),
            kind: "Secret".into(),
            namespace: "applyset-namespace".into(),
            name: "cross_namespace".into(),
        };
        assert_eq!(p.id(), "applyset-maUyxm9hLztJjNIswOCgA-VT6EJxr1_CcWA5kSzuMYE-v1");
    }

    #[test]
    fn inventory_annotations_round_trip() {
        let inv = Inventory::from_annotations(Some("Deployment.apps,ConfigMap"), Some("b,a"), "home");
        assert_eq!(inv.contains_annotation(), "ConfigMap,Deployment.apps");
        assert_eq!(inv.additional_annotation("home"), "a,b");
        assert!(inv.namespaces.contains("home"));
        let other = Inventory::from_annotations(Some("Secret"), None, "home");
        let u = inv.union(&other);
        assert_eq!(u.contains_annotation(), "ConfigMap,Deployment.apps,Secret");
        assert_eq!(Inventory::from_annotations(None, Some(""), "").contains_annotation(), "");
    }
}
