//! Install order: Namespaces, then CRDs, then the kind order Helm installs
//! in, then unknown kinds (alphabetically by kind), each group of one kind
//! ordered by namespace and name.

use std::cmp::Ordering;

use crate::model::Object;

/// Helm's install order (`releaseutil.InstallOrder`), with Namespace and
/// CustomResourceDefinition moved to the front.
const INSTALL_ORDER: &[&str] = &[
    "Namespace",
    "CustomResourceDefinition",
    "PriorityClass",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Rank of a kind in the install order; unknown kinds rank last.
pub fn install_rank(kind: &str) -> usize {
    INSTALL_ORDER.iter().position(|k| *k == kind).unwrap_or(INSTALL_ORDER.len())
}

/// The sort key of the install order: rank, kind, group, namespace, name.
pub fn install_key(o: &Object) -> (usize, String, String, String, String) {
    (
        install_rank(o.kind()),
        o.kind().to_string(),
        o.group().to_string(),
        o.namespace().unwrap_or("").to_string(),
        o.name().to_string(),
    )
}

/// The total order of a normalized set (same order as [`install_key`]).
pub fn install_cmp(a: &Object, b: &Object) -> Ordering {
    install_rank(a.kind())
        .cmp(&install_rank(b.kind()))
        .then_with(|| a.kind().cmp(b.kind()))
        .then_with(|| a.group().cmp(b.group()))
        .then_with(|| a.namespace().unwrap_or("").cmp(b.namespace().unwrap_or("")))
        .then_with(|| a.name().cmp(b.name()))
}
